/* Internals shared by ltrace.c (definitions, run state, ops), ltrace_hit.c (collection at
 * each hit) and ltrace_frame.c (frame selection and the frame backend). Not a public API. */
#ifndef TRACESTUB_STUB_LTRACE_INTERNAL_H
#define TRACESTUB_STUB_LTRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/trace_ops.h"
#include "stub/ltrace.h"
#include "stub/probe.h"

#define LT_MAX_TSV    256
#define LT_MAX_MEM    64   /* absolute M blocks per action list */
#define LT_EXPR_ROOM  1024 /* frame bytes reserved per X action (records beyond are dropped) */
#define LT_TSV_TIME   1	   /* builtin trace_timestamp */
#define LT_NOTE_MAX   1024
#define LT_MAX_RANGES 64

/* What one action list (at the hit, or each while-stepping step) collects, computed once
 * when the tracepoint is defined so the hit path only walks arrays. */
struct lt_plan {
	bool any;     /* has actions at all */
	bool need_fp; /* the mask asks for x87/SSE/AVX registers: fetch them */
	struct {
		taddr_t addr;
		uint64_t len;
		int basereg; /* -1 absolute, else a gdb regno */
	} mem[LT_MAX_MEM];
	size_t nmem;
	size_t max; /* frame bytes to reserve */
};

struct lt_tp {
	struct ltrace *tr;
	struct rsp_tp_def def; /* def.cond points into cond */
	uint8_t *cond;
	struct rsp_tp_action *acts; /* text/code point to owned copies */
	size_t nacts, acap;
	struct rsp_tp_src *srcs; /* type/text owned */
	size_t nsrcs, scap;
	struct lt_plan plan[2]; /* [0] at the hit, [1] each while-stepping step */
	uint64_t hits, bytes;
	uint64_t stored, dropped; /* frames committed / hits the buffer refused */
	bool installed;
	pid_t pid; /* where it is installed */
};

struct lt_tsv {
	uint32_t num;
	int64_t initial, value;
	bool builtin, defined;
	char *name;
};

struct ltrace {
	struct live *l;
	const struct rsp_reg_layout *layout;
	struct tracebuf *tb;
	size_t buf_size;
	bool circular, disconnected;
	struct lt_tp **tps;
	size_t ntps, tpcap;
	struct lt_tsv tsvs[LT_MAX_TSV];
	size_t ntsvs;
	struct rsp_ro_range ro[LT_MAX_RANGES];
	size_t nro;
	/* run state */
	bool running, ever_run;
	enum rsp_trace_stop stop;
	uint32_t stop_tp;
	char error[128];
	uint64_t start_us, stop_us;
	uint64_t expr_errors;
	char user[LT_NOTE_MAX], notes[LT_NOTE_MAX], stop_note[LT_NOTE_MAX];
	/* PIE: the main executable's load bias and link-time span, taken at QTStart */
	uint64_t exe_bias, exe_lo, exe_hi;
	/* frame selection */
	int64_t sel; /* -1: live */
};

/* ltrace.c */
struct lt_tp *lt_find(struct ltrace *tr, uint32_t num, taddr_t addr);
struct lt_tp *lt_find_num(struct ltrace *tr, uint32_t num);
struct lt_tsv *lt_tsv(struct ltrace *tr, uint32_t num);
uint64_t lt_now_us(void);
/* End the run (reason, tp for PASSCOUNT/ERROR). Probes stay in but inert until QTStop. */
void lt_end_run(struct ltrace *tr, enum rsp_trace_stop why, uint32_t tp, const char *msg);
struct ltrace *lt_of(void *t);

/* ltrace_hit.c */
enum probe_verdict lt_on_hit(void *ctx, const struct probe_hit *hit);
/* Fill plan from the tracepoint's actions. */
void lt_plan_build(struct ltrace *tr, struct lt_tp *tp);

/* ltrace_frame.c */
int lt_select_frame(void *t, enum rsp_tframe_how how, uint64_t a, uint64_t b, int64_t *frame,
		    uint32_t *tp);
int lt_unselect_frame(void *t);
int lt_frame_info(void *t, struct rsp_tframe_item *out, size_t cap, size_t *n);
int lt_read_buffer(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *done);
int lt_tsv_value(void *t, uint32_t num, int64_t *val);

/* ltrace_view.c: the frame stream as trace files see the program (main executable at its
 * link addresses, PIE included): patch buf, bytes [off, off+len) of the stream. */
void lt_link_view(struct ltrace *tr, uint64_t off, uint8_t *buf, size_t len);
/* Take the main executable's bias and span (at the start of a run). */
void lt_note_exe(struct ltrace *tr);

/* ltrace_save.c */
int lt_save(void *t, const char *path);

#endif
