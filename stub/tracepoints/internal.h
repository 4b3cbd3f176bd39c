/* Internals shared by tpoints.c (definitions, run state, ops), tpoints_hit.c (collection at
 * each hit) and tpoints_frame.c (frame selection and the frame backend). Not a public API. */
#ifndef TRACESTUB_STUB_LTRACE_INTERNAL_H
#define TRACESTUB_STUB_LTRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/trace_ops.h"
#include "stub/tracepoints/tracepoints.h"
#include "stub/live/live.h"

#define LT_MAX_TSV    256
#define LT_MAX_MEM    64   /* absolute M blocks per action list */
#define LT_EXPR_ROOM  1024 /* frame bytes reserved per X action (records beyond are dropped) */
#define LT_TSV_TIME   1	   /* builtin trace_timestamp */
#define LT_NOTE_MAX   1024
#define LT_MAX_RANGES 64

/* What one action list (at the hit, or each while-stepping step) collects, computed once
 * when the tracepoint is defined so the hit path only walks arrays. */
struct tpoints_plan {
	bool any;     /* has actions at all */
	bool need_fp; /* the mask asks for x87/SSE/AVX registers: fetch them */
	bool regs;    /* an R action: the frame has an R block (else only the pc, from the
		       * tracepoint's address, as gdbserver frames) */
	struct {
		taddr_t addr;
		uint64_t len;
		int basereg; /* -1 absolute, else a gdb regno */
	} mem[LT_MAX_MEM];
	size_t nmem;
	size_t max; /* frame bytes to reserve */
};

struct tpoints_tp {
	struct tpoints *tr;
	struct rsp_tp_def def; /* def.cond points into cond */
	uint8_t *cond;
	struct rsp_tp_action *acts; /* text/code point to owned copies */
	size_t nacts, acap;
	struct rsp_tp_src *srcs; /* type/text owned */
	size_t nsrcs, scap;
	struct tpoints_plan plan[2]; /* [0] at the hit, [1] each while-stepping step */
	uint64_t hits, bytes;
	uint64_t stored, dropped; /* frames committed / hits the buffer refused */
	bool installed;
	pid_t pid;		/* where it is installed */
	bool fast;		/* installed as a pad of the in-process agent (gdb's ftrace) */
	bool ran_fast;		/* the last run had it as a pad (tstats) */
	bool cond_in_agent;	/* its condition is evaluated by the agent: records passed it */
	unsigned acts_in_agent; /* collect expressions the agent runs (fast) */
	bool tsv_in_agent;	/* its records hold the trace state variables its expressions saw */
	bool fast_window;	/* fast, with expressions evaluated over a stack window */
	uint64_t adropped;    /* its hits the agent dropped (ring full), counted in hits/dropped */
	const char *why_trap; /* an ftrace installed as a trap tracepoint: why */
};

struct tpoints_tsv {
	uint32_t num;
	int64_t initial, value;
	bool builtin, defined;
	char *name;
};

struct module_set;
struct tpoints {
	struct live *l;
	const struct rsp_reg_layout *layout;
	struct tracebuf *tb;
	size_t buf_size;
	bool circular, disconnected;
	struct tpoints_tp **tps;
	size_t ntps, tpcap;
	struct tpoints_tsv tsvs[LT_MAX_TSV];
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
	uint64_t agent_cond_errors; /* the agent's count when last drained */
	char user[LT_NOTE_MAX], notes[LT_NOTE_MAX], stop_note[LT_NOTE_MAX];
	/* PIE: the main executable's load bias and link-time span, taken at QTStart */
	uint64_t exe_bias, exe_lo, exe_hi;
	/* frame selection */
	int64_t sel; /* -1: live */
	/* fast tracepoints (fast.c): the agent injected into agent_pid */
	struct agent *agent;
	pid_t agent_pid;
	bool agent_failed;
	bool agent_off; /* agent_disable'd (a patch could not go): a new run needs a new one */
	struct module_set *mods; /* the process's modules for placing pads, read once a run */
	pid_t mods_pid;
};

/* tpoints.c */
struct tpoints_tp *tpoints_find(struct tpoints *tr, uint32_t num, taddr_t addr);
struct tpoints_tp *tpoints_find_num(struct tpoints *tr, uint32_t num);
struct tpoints_tsv *tpoints_tsv(struct tpoints *tr, uint32_t num);
uint64_t tpoints_now_us(void);
/* End the run (reason, tp for PASSCOUNT/ERROR). Probes stay in but inert until QTStop. */
void tpoints_end_run(struct tpoints *tr, enum rsp_trace_stop why, uint32_t tp, const char *msg);
struct tpoints *tpoints_of(void *t);

/* tpoints_hit.c */
enum probe_verdict tpoints_on_hit(void *ctx, const struct probe_hit *hit);
/* A fast tracepoint's hit, drained from the agent: condition, frame, pass count, with the
 * memory the record holds (rec). */
struct agent_rec;
void tpoints_record_hit(struct tpoints_tp *tp, const struct probe_hit *hit,
			const struct agent_rec *rec);
/* fast.c: gdb's fast tracepoints through the in-process agent. install: 0, or -errno with
 * tp->why_trap set (the caller installs a trap tracepoint instead). */
int tpoints_fast_install(struct tpoints *tr, struct tpoints_tp *tp, pid_t pid);
void tpoints_fast_uninstall(struct tpoints *tr, struct tpoints_tp *tp);
/* A run starts: the modules are read again at the first fast tracepoint (libraries move). */
void tpoints_fast_new_run(struct tpoints *tr);
/* Trace state variables while an agent runs: it holds the values of those it can (the
 * agent's hits change them at the hit); tracestub's copies are set from them when it goes. */
bool tpoints_tsv_in_agent(const struct tpoints *tr, const struct tpoints_tsv *v);
/* A run starts: the agent records again, passcounts and trace state variables anew. */
void tpoints_fast_start(struct tpoints *tr);
/* Every fast hit recorded so far into the trace buffer (before reads of the buffer). */
void tpoints_fast_drain(struct tpoints *tr);
/* The process is gone or left (exit, exec, detach, kill): the agent with it. */
void tpoints_fast_close(struct tpoints *tr);
int tpoints_min_fast_len(void *t);
/* Fill plan from the tracepoint's actions. */
void tpoints_plan_build(struct tpoints *tr, struct tpoints_tp *tp);

/* tpoints_frame.c */
int tpoints_select_frame(void *t, enum rsp_tframe_how how, uint64_t a, uint64_t b, int64_t *frame,
			 uint32_t *tp);
int tpoints_unselect_frame(void *t);
int tpoints_frame_info(void *t, struct rsp_tframe_item *out, size_t cap, size_t *n);
int tpoints_read_buffer(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *done);
int tpoints_tsv_value(void *t, uint32_t num, int64_t *val);

/* tpoints_view.c: the frame stream as trace files see the program (main executable at its
 * link addresses, PIE included): patch buf, bytes [off, off+len) of the stream. */
void tpoints_link_view(struct tpoints *tr, uint64_t off, uint8_t *buf, size_t len);
/* Take the main executable's bias and span (at the start of a run). */
void tpoints_note_exe(struct tpoints *tr);

/* tpoints_save.c */
int tpoints_save(void *t, const char *path);

/* The layer (layer.c): registers tr with its live target. 0 or -errno. */
int tpoints_layer_attach(struct tpoints *tr);
/* The trace ops (tracepoints.c); their context is the struct live *. */
extern const struct rsp_trace_ops tpoints_trace_ops;

/* The frame view (frame.c). A trace frame is selected: reads come from it. */
bool tpoints_frame_selected(const struct tpoints *tr);
/* The selected frame's g block: the collected registers, the rest unavailable. */
int tpoints_frame_regs(struct tpoints *tr, uint8_t *buf, uint8_t *avail);
/* The selected frame's memory: collected blocks first, then read-only mappings of the
 * process (code, constants); -EIO when neither has addr. */
int tpoints_frame_mem(struct tpoints *tr, taddr_t addr, uint8_t *buf, size_t len, size_t *done);

#endif
