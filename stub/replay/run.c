/* Moving through the history. continue goes to the next frame, or, when the client has a
 * breakpoint at the pc of some frame, to the next frame at a breakpoint (so a gdb session
 * with `break f` replays like the live one); step goes to the stepping thread's next frame;
 * bc/bs the same backwards; past either end the run stops at the first or last frame with
 * rr's replaylog:begin / replaylog:end. Both clients step over a breakpoint by removing it
 * and single-stepping the thread; that step must leave the pc, so it moves the thread one
 * instruction past its frame (only the pc known) instead of to its next frame. */
#include "stub/replay/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/insn.h"

/* ---- breakpoints: only remembered, nothing is patched ---- */

static int bp_find(const struct replay *r, taddr_t addr)
{
	for (size_t i = 0; i < r->nbps; i++)
		if (r->bps[i].addr == addr)
			return (int)i;
	return -1;
}

int replay_insert_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind)
{
	struct replay *r = t;
	int i;

	if (type != RSP_POINT_SW && type != RSP_POINT_HW)
		return -EOPNOTSUPP;
	i = bp_find(r, addr);
	if (i < 0) {
		if (r->nbps == REPLAY_MAX_BPS)
			return -ENOSPC;
		i = (int)r->nbps++;
		r->bps[i].addr = addr;
	}
	r->bps[i].inserted = true;
	return 0;
}

int replay_remove_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind)
{
	struct replay *r = t;
	int i = bp_find(r, addr);

	if (type != RSP_POINT_SW && type != RSP_POINT_HW)
		return -EOPNOTSUPP;
	if (i >= 0)
		r->bps[i].inserted = false; /* kept: a step from here is a step over it */
	return 0;
}

static bool bp_inserted(const struct replay *r, taddr_t pc)
{
	int i = bp_find(r, pc);

	return i >= 0 && r->bps[i].inserted;
}

static int cmp_addr(const void *a, const void *b)
{
	taddr_t x = *(const taddr_t *)a, y = *(const taddr_t *)b;

	return x < y ? -1 : x > y;
}

/* What continue stops at: the monitor filters, and the breakpoints at frame pcs if any. */
static void filter_of(const struct replay *r, struct replay_filter *f, taddr_t *bps)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nbps; i++)
		if (r->bps[i].inserted && replay_hist_has_pc(&r->h, r->bps[i].addr))
			bps[n++] = r->bps[i].addr;
	qsort(bps, n, sizeof(*bps), cmp_addr);
	*f = (struct replay_filter){r->only_tid, r->only_tp, n ? bps : NULL, n};
}

/* ---- stops ---- */

/* r->stop from the stop thread and how it got there (the reason depends on the client). */
static void fill_stop(struct replay *r)
{
	const struct replay_frame *fr = &r->h.fr[r->pos];
	const struct replay_thread *t = &r->h.th[r->stop_th];
	enum replay_how how = r->stop_how;
	bool bp = bp_inserted(r, fr->pc) && fr->th == (uint32_t)r->stop_th;
	const char *what = how == REPLAY_AT_BEGIN ? "start of the trace, "
			   : how == REPLAY_AT_END ? "end of the trace, "
						  : "";

	memset(&r->stop, 0, sizeof(r->stop));
	r->stop.kind = RSP_STOP_SIGNAL;
	r->stop.signo = 5; /* SIGTRAP */
	r->stop.core = -1;
	r->stop.thread = (struct rsp_ptid){t->pid, t->tid};
	/* gdb ignores a swbreak stop where it has no breakpoint (a "delayed" hit) and goes on,
	 * so it gets a plain SIGTRAP there; lldb shows the description when no breakpoint of
	 * its own explains a breakpoint stop (or there is no signal), and has no replaylog. */
	if (how == REPLAY_AT_STEP)
		r->stop.reason = RSP_REASON_TRACE;
	else if (r->lldb && how != REPLAY_AT_FRAME)
		r->stop.signo = 0; /* lldb: no signal, only the description: "end of the trace" */
	else if (r->lldb || (how == REPLAY_AT_FRAME && bp))
		r->stop.reason = RSP_REASON_SWBREAK;
	else if (how != REPLAY_AT_FRAME)
		r->stop.reason =
			how == REPLAY_AT_BEGIN ? RSP_REASON_REPLAY_BEGIN : RSP_REASON_REPLAY_END;
	snprintf(r->desc, sizeof(r->desc), "%strace frame %" PRId64 " of %zu, tracepoint %u", what,
		 r->pos, r->h.n, fr->tp);
	r->stop.description = r->desc;
	snprintf(r->note, sizeof(r->note), "[replay] %s, thread %" PRId64 "%s\n", r->desc, t->tid,
		 replay_is_past(r, (size_t)r->stop_th) ? ", one instruction past it" : "");
}

void replay_set_stop(struct replay *r, int64_t th, enum replay_how how)
{
	r->stop_th = th;
	r->stop_how = how;
	fill_stop(r);
	r->note_due = true;
	r->pending = true;
}

/* Arrive at history index idx (its thread stops). */
static void go_to(struct replay *r, int64_t idx, enum replay_how how)
{
	r->past[r->h.fr[idx].th] = -1; /* the others stay where they are */
	r->pos = idx;
	replay_set_stop(r, r->h.fr[idx].th, how);
}

/* continue (dir 1) or reverse-continue (dir -1). */
static int run(struct replay *r, int dir)
{
	taddr_t bps[REPLAY_MAX_BPS];
	struct replay_filter f;
	int64_t from = r->pos, idx;

	/* Going back from one instruction past a frame, the frame itself comes first. */
	if (dir < 0 && replay_is_past(r, (size_t)r->stop_th))
		from++;
	filter_of(r, &f, bps);
	idx = replay_hist_seek(&r->h, from, dir, &f);
	if (idx >= 0) {
		go_to(r, idx, REPLAY_AT_FRAME);
		return 0;
	}
	/* Run off the end (or the start): there, unless already there (a thread that stepped
	 * past the last frame stays past it). */
	idx = dir > 0 ? (int64_t)r->h.n - 1 : 0;
	if (idx == r->pos)
		replay_set_stop(r, r->h.fr[idx].th, dir > 0 ? REPLAY_AT_END : REPLAY_AT_BEGIN);
	else
		go_to(r, idx, dir > 0 ? REPLAY_AT_END : REPLAY_AT_BEGIN);
	return 0;
}

/* The length of the instruction at pc (from the files); 1 when it cannot be read. */
static unsigned insn_len(struct replay *r, taddr_t pc)
{
	uint8_t code[16];
	size_t done = 0;
	struct x86_64_insn in;

	if (replay_ops.read_mem(r, pc, code, sizeof(code), &done) || !done ||
	    x86_64_insn_decode(code, done, pc, &in))
		return 1;
	return in.len;
}

/* Step thread th; over: the client is stepping over a breakpoint at its pc. */
static int step(struct replay *r, int64_t th, int dir, bool over)
{
	int64_t cur = replay_hist_thread_at(&r->h, (size_t)th, r->pos), idx;

	if (cur < 0)
		return -ESRCH;
	if (dir > 0 && !replay_is_past(r, (size_t)th) && over) {
		r->past[th] = cur;
		r->past_pc[th] = r->h.fr[cur].pc + insn_len(r, r->h.fr[cur].pc);
		replay_set_stop(r, th, REPLAY_AT_STEP);
		r->note_due = false; /* mostly the client's own step over a breakpoint */
		return 0;
	}
	if (dir < 0 && replay_is_past(r, (size_t)th)) {
		r->past[th] = -1;
		replay_set_stop(r, th, REPLAY_AT_STEP);
		return 0;
	}
	idx = replay_hist_thread_step(&r->h, (size_t)th, cur, dir);
	if (idx < 0) {
		replay_set_stop(r, th, dir > 0 ? REPLAY_AT_END : REPLAY_AT_BEGIN);
		return 0;
	}
	go_to(r, idx, REPLAY_AT_STEP);
	return 0;
}

/* Is this step the client stepping over a breakpoint at the thread's pc? gdb then steps that
 * thread alone (a user's stepi lets the others run: `;c`), and may never have inserted the
 * breakpoint (it was set while stopped there); lldb steps alone either way, but it inserts
 * breakpoints at once and removes the one it steps over just before. */
static bool stepping_over(const struct replay *r, int64_t th, size_t nacts)
{
	int64_t cur = replay_hist_thread_at(&r->h, (size_t)th, r->pos);
	taddr_t pc = cur >= 0 ? r->h.fr[cur].pc : 0;

	if (!r->lldb)
		return nacts == 1;
	return bp_find(r, pc) >= 0 && !bp_inserted(r, pc);
}

/* monitor frame N: the next continue or reverse-continue goes there (not a step: both
 * clients step over a breakpoint before they continue). */
static bool take_goto(struct replay *r)
{
	int64_t idx = r->goto_idx;

	if (idx < 0)
		return false;
	r->goto_idx = -1;
	go_to(r, idx, REPLAY_AT_FRAME);
	return true;
}

int replay_resume(void *t, const struct rsp_resume_action *acts, size_t n)
{
	struct replay *r = t;

	for (size_t i = 0; i < n; i++) {
		const struct rsp_resume_action *a = &acts[i];
		int64_t th;

		if (a->kind != RSP_RESUME_STEP && a->kind != RSP_RESUME_RANGE_STEP)
			continue;
		th = a->thread.tid > 0 ? replay_hist_thread(&r->h, a->thread.tid) : r->stop_th;
		th = th < 0 ? r->stop_th : th;
		return step(r, th, 1, stepping_over(r, th, n));
	}
	return take_goto(r) ? 0 : run(r, 1);
}

int replay_reverse_step(void *t, struct rsp_ptid id)
{
	struct replay *r = t;
	int64_t th = id.tid > 0 ? replay_hist_thread(&r->h, id.tid) : r->stop_th;

	return step(r, th < 0 ? r->stop_th : th, -1, false);
}

int replay_reverse_continue(void *t)
{
	struct replay *r = t;

	return take_goto(r) ? 0 : run(r, -1);
}

void replay_reset(struct replay *r)
{
	r->tsel = r->goto_idx = -1;
	r->only_tid = 0;
	r->only_tp = 0;
	r->nbps = 0;
	r->lldb = false;
	for (size_t i = 0; i < r->h.nth; i++)
		r->past[i] = -1;
	go_to(r, 0, REPLAY_AT_FRAME);
	r->pending = r->note_due = false;
}

int replay_interrupt(void *t)
{
	return 0; /* a resume stops at once: nothing is ever running */
}

int replay_last_stop(void *t, struct rsp_stop *out)
{
	struct replay *r = t;

	fill_stop(r);
	*out = r->stop;
	return 0;
}
