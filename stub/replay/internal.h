/* Internals shared by the replay target's files: replay.c (loading a trace file, the CLI),
 * ops.c (registers, memory, threads, qXfer objects), run.c (moving through the
 * history: continue, step, their reverse forms, breakpoints, monitor commands) and
 * trace.c (the tracepoint ops behind gdb's tfind family). Not a public API. */
#ifndef TRACESTUB_STUB_REPLAY_INTERNAL_H
#define TRACESTUB_STUB_REPLAY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/emu.h"
#include "arch/x86_64/regs.h"
#include "protocol/trace_ops.h"
#include "stub/replay/replay.h"
#include "stub/replay/hist.h"
#include "stub/tracefile/tracefile.h"
#include "stub/replay/mod.h"

#define REPLAY_MAX_BPS 256
#define REPLAY_G_MAX   4096 /* >= the g block */
/* instructions a continue or step emulates from one frame before it gives up on it */
#define REPLAY_SEG_MAX	20000
#define REPLAY_AUXV_MAX 16

/* A tracepoint of the file (its tp lines), for upload and register availability. */
struct replay_tp {
	struct rsp_tp_def def;
	struct rsp_tp_action *acts;
	size_t nacts;
	struct rsp_tp_src *srcs;
	size_t nsrcs;
	uint64_t hits, bytes;
	bool fp;  /* x87/SSE registers were collected */
	bool avx; /* and the upper halves of the AVX registers */
};

/* The bytes a thread's emulated code wrote (exec.c). */
struct replay_ovl {
	struct ovl_word *w;
	size_t cap, n;
};

/* A thread run on by the emulator from one of its frames (exec.c). */
struct replay_emu {
	int64_t base; /* history index of the frame it runs from; -1: none */
	uint64_t k;   /* instructions run since that frame; 0: at the frame */
	bool blind;   /* one instruction stepped without the emulator: only rip known */
	struct x86_64_emu_cpu cpu;
	struct replay_ovl ovl;
	char why[160]; /* why the last step was refused */
};

struct replay {
	struct tfile *tf;
	struct tracebuf *tb; /* the frames, link-address view (replay_view.h) */
	struct tfile_meta meta;
	struct replay_mod mods[1 + TFILE_META_MAX_LIBS]; /* the executable first, if known */
	size_t nmods;
	bool have_exe;
	size_t interp; /* mods index of the dynamic loader, 0 if none */
	struct replay_hist h;
	struct rsp_reg_info reginfo[X86_64_NREGS];
	struct rsp_reg_layout layout;
	uint64_t auxv[2 * REPLAY_AUXV_MAX];
	size_t auxv_len; /* bytes */
	char name[16];	 /* thread names: the executable's basename, like comm */
	/* the file's definitions */
	struct replay_tp *tps;
	size_t ntps;
	struct rsp_tsv *tsvs;
	size_t ntsvs;
	struct rsp_trace_status status;
	void **work; /* parse work areas the definitions point into */
	size_t nwork;
	/* where the replay is */
	int64_t pos;  /* history index of the present */
	int64_t tsel; /* gdb's tfind selection (history index), -1: the present */
	/* per thread: where the emulator has run it from its latest frame; the state counts
	 * while that frame is still the thread's latest (replay_emu_active) */
	struct replay_emu *emu;
	int64_t stop_th; /* thread index of the last stop */
	int stop_how;	 /* enum replay_how of the last stop */
	/* control */
	int64_t goto_idx; /* monitor frame N: where the next resume goes, -1 none */
	int64_t only_tid; /* monitor thread: continue stops only there, 0 any */
	uint32_t only_tp; /* monitor tp */
	struct {
		taddr_t addr;
		bool inserted;
	} bps[REPLAY_MAX_BPS];
	size_t nbps;
	bool lldb;
	bool pending; /* stop not handed to the server yet */
	struct rsp_stop stop;
	char desc[160];	    /* lldb's description of the stop */
	char note[512];	    /* the same as console text for gdb */
	char why_note[200]; /* why a step went to the next frame, for the note */
	bool note_due;
};

struct replay *replay_of(void *t);
/* The frame whose data answers reads for thread index th (tfind selection first); -1. */
int64_t replay_frame_for(const struct replay *r, size_t th);
/* The tracepoint numbered num, NULL if the file has none. */
struct replay_tp *replay_tp_find(struct replay *r, uint32_t num);

/* ops.c */
extern const struct rsp_target_ops replay_ops;
/* Frame idx's g block (REPLAY_G_MAX bytes at least) and which registers it holds. */
int replay_frame_regs(struct replay *r, int64_t idx, uint8_t *buf, uint8_t *avail);
/* Memory as the recording knows it when history index pos is the present (the latest frame
 * of every thread then, the files' read-only segments); *done bytes read. 0 or -EIO. */
int replay_read_mem_at(const struct replay *r, int64_t pos, taddr_t addr, uint8_t *buf, size_t len,
		       size_t *done);

/* exec.c: threads run on from their frames by the emulator */
int replay_emu_start(struct replay *r, size_t th, int64_t base);
int replay_emu_step(struct replay *r, size_t th);
int replay_emu_goto(struct replay *r, size_t th, int64_t base, uint64_t k);
void replay_emu_blind(struct replay *r, size_t th, int64_t base, taddr_t pc);
bool replay_emu_active(const struct replay *r, size_t th);
void replay_emu_clear(struct replay *r, size_t th);
void replay_emu_free(struct replay_emu *e);
/* Memory as thread th's emulated code sees it: its writes over the recording at its frame. */
int replay_emu_read(const struct replay *r, size_t th, uint64_t addr, uint8_t *buf, size_t len,
		    size_t *done);
void replay_emu_regs(const struct replay *r, size_t th, uint8_t *buf, uint8_t *avail);
/* The known runs of thread th's stack around its emulated rsp (what its code wrote and what
 * was recorded), exactly, for lldb's memory cache: it reads whole lines and a line with a
 * hole would hide them. How many ranges of out[cap] it filled. */
size_t replay_emu_expedite(const struct replay *r, size_t th, struct rsp_mem_range *out,
			   size_t cap);
/* Where thread th is: its emulated pc, else its latest frame's. */
taddr_t replay_thread_pc(const struct replay *r, size_t th);
/* Build auxv from the executable; 0 when there is no executable. */
void replay_build_auxv(struct replay *r);

/* run.c */
int replay_resume(void *t, const struct rsp_resume_action *acts, size_t n);
int replay_reverse_step(void *t, struct rsp_ptid th);
int replay_reverse_continue(void *t);
int replay_interrupt(void *t);
int replay_last_stop(void *t, struct rsp_stop *out);
int replay_insert_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind);
int replay_remove_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind);
int replay_monitor(void *t, const char *cmd, size_t len, rsp_output_fn out, void *ctx);
/* Set the stop for being at frame idx (kind: how we got there). */
enum replay_how { REPLAY_AT_FRAME, REPLAY_AT_STEP, REPLAY_AT_BEGIN, REPLAY_AT_END };
void replay_set_stop(struct replay *r, int64_t th, enum replay_how how);
/* Back to the first frame with no breakpoints or filters, for a new client. */
void replay_reset(struct replay *r);

/* trace.c */
extern const struct rsp_trace_ops replay_trace_ops;
/* Parse the file's tp, tsv and status lines. 0, -ENOMEM or -EINVAL (message in err). */
int replay_defs_load(struct replay *r, char *err, size_t errlen);
void replay_defs_free(struct replay *r);

#endif
