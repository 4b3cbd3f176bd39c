/* The execution history replay walks: the frames of a trace file in order, each with its
 * pc, tracepoint and the thread that hit it (the TFILE_TSV_THREAD V block; one thread when
 * no frame has one), per-thread frame lists, and the searches behind continue, step and
 * their reverse forms. Pure data over a struct tracebuf: no I/O. */
#ifndef TRACESTUB_STUB_REPLAY_HIST_H
#define TRACESTUB_STUB_REPLAY_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

struct tracebuf;

struct replay_frame {
	uint64_t num; /* frame number in the tracebuf */
	taddr_t pc;   /* rip of the R block, else the tracepoint's address */
	uint16_t tp;
	uint32_t th; /* index into the threads */
};

struct replay_thread {
	int64_t pid, tid;
	uint64_t *idx; /* history indices of its frames, ascending */
	size_t n;
};

struct replay_hist {
	struct replay_frame *fr;
	size_t n;
	struct replay_thread *th; /* in order of first appearance */
	size_t nth;
	taddr_t *pcs; /* distinct frame pcs, sorted */
	size_t npcs;
	int64_t pid;	  /* the process shown */
	uint64_t skipped; /* frames of other processes (fork children), left out */
};

/* The address of tracepoint tp (a trace file's tp line), 0 if unknown. */
typedef taddr_t (*replay_tp_addr_fn)(void *ctx, uint16_t tp);

/* Index tb's frames. rip_off = offset of rip in an R block. pid = the traced process (0:
 * the pid of the first frame that names its thread, or 1 when none does); frames of other
 * processes are left out. 0, -ENOMEM, or -EINVAL (a malformed frame). */
int replay_hist_build(struct replay_hist *h, const struct tracebuf *tb, size_t rip_off, int64_t pid,
		      replay_tp_addr_fn tp_addr, void *ctx);
void replay_hist_fini(struct replay_hist *h);

/* What continue and reverse-continue stop at. */
struct replay_filter {
	int64_t tid;	    /* 0: any thread */
	uint32_t tp;	    /* 0: any tracepoint */
	const taddr_t *bps; /* sorted: only frames at these pcs; NULL: every frame */
	size_t nbps;
};

/* The first history index after from (dir > 0) or before it (dir < 0) that f accepts; -1
 * if none. from may be -1 (before the first frame) or n (after the last). */
int64_t replay_hist_seek(const struct replay_hist *h, int64_t from, int dir,
			 const struct replay_filter *f);
/* The latest frame of thread th at or before pos; -1 if none. */
int64_t replay_hist_thread_at(const struct replay_hist *h, size_t th, int64_t pos);
/* The next frame of thread th after pos (dir > 0) or the previous before pos; -1 if none. */
int64_t replay_hist_thread_step(const struct replay_hist *h, size_t th, int64_t pos, int dir);
/* The thread with this tid; -1 if none. */
int64_t replay_hist_thread(const struct replay_hist *h, int64_t tid);
/* Some frame has this pc. */
bool replay_hist_has_pc(const struct replay_hist *h, taddr_t pc);

#endif
