/* Moving through the history. Without breakpoints continue goes to the next frame (the
 * monitor filters apply). With breakpoints it stops at the first one reached: at a frame's
 * pc, or by running on from a frame with the emulator (exec.c), so gdb's post-prologue
 * `break f` stops in f with its arguments; a frame's run is placed right after the frame,
 * the stopped thread's own run first. Steps run the thread on one instruction (a range step
 * while the pc stays in the range); where the emulator cannot go on, the thread goes to its
 * next frame and the note says why. Reverse forms run the same way backwards: a state is
 * (frame, instructions since), so one instruction back is a run again to k - 1. Past either
 * end the run stops at the first or last frame with rr's replaylog:begin / replaylog:end. */
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

/* In the dynamic loader, where gdb keeps its shared-library event breakpoint. */
static bool in_loader(const struct replay *r, taddr_t a)
{
	const struct replay_mod *m = &r->mods[r->interp];

	return r->interp && a >= m->lo + m->bias && a < m->hi + m->bias;
}

/* The inserted breakpoints, sorted; how many. 0 when they are all the client's own in the
 * dynamic loader: continue then stops at every frame, as with none. */
static size_t bps_of(const struct replay *r, taddr_t *bps)
{
	size_t n = 0, user = 0;

	for (size_t i = 0; i < r->nbps; i++)
		if (r->bps[i].inserted) {
			bps[n++] = r->bps[i].addr;
			user += !in_loader(r, r->bps[i].addr);
		}
	qsort(bps, n, sizeof(*bps), cmp_addr);
	return user ? n : 0;
}

static bool in_bps(const taddr_t *bps, size_t n, taddr_t pc)
{
	return n && bsearch(&pc, bps, n, sizeof(*bps), cmp_addr);
}

/* Some breakpoint is at no frame's pc: only running on from frames can reach it. */
static bool need_emu(const struct replay *r, const taddr_t *bps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!replay_hist_has_pc(&r->h, bps[i]))
			return true;
	return false;
}

static bool thread_ok(const struct replay *r, size_t th)
{
	return !r->only_tid || r->h.th[th].tid == r->only_tid;
}

static bool frame_ok(const struct replay *r, int64_t idx)
{
	return thread_ok(r, r->h.fr[idx].th) && (!r->only_tp || r->h.fr[idx].tp == r->only_tp);
}

/* ---- stops ---- */

/* r->stop from the stop thread and how it got there (the reason depends on the client). */
static void fill_stop(struct replay *r)
{
	const struct replay_thread *t = &r->h.th[r->stop_th];
	bool emulated = replay_emu_active(r, (size_t)r->stop_th);
	int64_t fidx = emulated ? r->emu[r->stop_th].base : r->pos;
	const struct replay_frame *fr = &r->h.fr[fidx];
	enum replay_how how = r->stop_how;
	bool bp = bp_inserted(r, replay_thread_pc(r, (size_t)r->stop_th)) &&
		  (emulated || fr->th == (uint32_t)r->stop_th);
	const char *what = how == REPLAY_AT_BEGIN ? "start of the trace, "
			   : how == REPLAY_AT_END ? "end of the trace, "
						  : "";
	char on[48] = "";

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
	if (emulated)
		snprintf(on, sizeof(on), "%" PRIu64 " instruction%s on from ", r->emu[r->stop_th].k,
			 r->emu[r->stop_th].k == 1 ? "" : "s");
	snprintf(r->desc, sizeof(r->desc), "%s%strace frame %" PRId64 " of %zu, tracepoint %u",
		 what, on, fidx, r->h.n, fr->tp);
	r->stop.description = r->desc;
	snprintf(r->note, sizeof(r->note), "[replay] %s, thread %" PRId64 "%s%s\n", r->desc, t->tid,
		 r->emu[r->stop_th].blind && emulated ? " (only the pc known)" : "", r->why_note);
	r->why_note[0] = 0;
}

void replay_set_stop(struct replay *r, int64_t th, enum replay_how how)
{
	r->stop_th = th;
	r->stop_how = how;
	fill_stop(r);
	r->note_due = true;
	r->pending = true;
}

/* Arrive at history index idx (its thread stops, at the frame). */
static void go_to(struct replay *r, int64_t idx, enum replay_how how)
{
	replay_emu_clear(r, r->h.fr[idx].th); /* the others stay where they are */
	r->pos = idx;
	replay_set_stop(r, r->h.fr[idx].th, how);
}

/* ---- running on from frames ---- */

/* Thread th where it was (base, k), or back at its frame when k is 0. */
static void restore(struct replay *r, size_t th, int64_t base, uint64_t k)
{
	if (!k || base < 0)
		replay_emu_clear(r, th);
	else
		replay_emu_goto(r, th, base, k);
}

/* Run thread th on from its state at frame base (from where it is when that is its present
 * run, else from the frame) until a breakpoint: true, the thread left there. */
static bool seg_first_hit(struct replay *r, size_t th, int64_t base, const taddr_t *bps, size_t n)
{
	struct replay_emu *e = &r->emu[th];
	int64_t b0 = e->base;
	uint64_t k0 = e->k;

	if (e->blind && e->base == base && replay_emu_active(r, th))
		return false; /* only its pc is known: nothing to run */
	if (!(e->base == base && replay_emu_active(r, th)) && replay_emu_start(r, th, base))
		return false;
	for (unsigned i = 0; i < REPLAY_SEG_MAX; i++) {
		if (replay_emu_step(r, th))
			break;
		if (in_bps(bps, n, e->cpu.rip))
			return true;
	}
	restore(r, th, b0, k0);
	return false;
}

/* The last breakpoint thread th reaches running on from frame base in fewer than limit
 * instructions: true, the thread left there. */
static bool seg_last_hit(struct replay *r, size_t th, int64_t base, uint64_t limit,
			 const taddr_t *bps, size_t n)
{
	struct replay_emu *e = &r->emu[th];
	int64_t b0 = e->base;
	uint64_t k0 = e->k, last = 0;

	if (replay_emu_start(r, th, base))
		return false;
	while (e->k + 1 < limit && e->k < REPLAY_SEG_MAX && !replay_emu_step(r, th))
		if (in_bps(bps, n, e->cpu.rip))
			last = e->k;
	if (last && !replay_emu_goto(r, th, base, last))
		return true;
	restore(r, th, b0, k0);
	return false;
}

/* Stop thread th where the emulator left it, in the run from frame base. */
static void stop_run(struct replay *r, size_t th, int64_t base, enum replay_how how)
{
	r->pos = base;
	replay_set_stop(r, (int64_t)th, how);
}

/* Run off the end (or the start): there, unless already there. */
static int run_off(struct replay *r, int dir)
{
	int64_t idx = dir > 0 ? (int64_t)r->h.n - 1 : 0;

	if (idx == r->pos)
		replay_set_stop(r, r->h.fr[idx].th, dir > 0 ? REPLAY_AT_END : REPLAY_AT_BEGIN);
	else
		go_to(r, idx, dir > 0 ? REPLAY_AT_END : REPLAY_AT_BEGIN);
	return 0;
}

/* continue with no breakpoints: the next frame (the monitor filters apply). */
static int run_frames(struct replay *r, int dir)
{
	struct replay_filter f = {r->only_tid, r->only_tp, NULL, 0};
	int64_t from = r->pos, idx;

	/* Going back from a run on from a frame, the frame itself comes first. */
	if (dir < 0 && replay_emu_active(r, (size_t)r->stop_th))
		from++;
	idx = replay_hist_seek(&r->h, from, dir, &f);
	if (idx < 0)
		return run_off(r, dir);
	go_to(r, idx, REPLAY_AT_FRAME);
	return 0;
}

/* continue: the first breakpoint, at a frame or reached by running on from one. The run
 * from a frame is placed right after it: the stopped thread's own run comes first. */
static int run_fwd(struct replay *r)
{
	taddr_t bps[REPLAY_MAX_BPS];
	size_t n = bps_of(r, bps), th0 = (size_t)r->stop_th;
	bool emu = n && need_emu(r, bps, n);
	int64_t cur = replay_hist_thread_at(&r->h, th0, r->pos);

	if (!n)
		return run_frames(r, 1);
	if (emu && cur >= 0 && thread_ok(r, th0) && seg_first_hit(r, th0, cur, bps, n)) {
		stop_run(r, th0, cur, REPLAY_AT_FRAME);
		return 0;
	}
	for (int64_t idx = r->pos + 1; idx < (int64_t)r->h.n; idx++) {
		size_t th = r->h.fr[idx].th;

		if (frame_ok(r, idx) && in_bps(bps, n, r->h.fr[idx].pc)) {
			go_to(r, idx, REPLAY_AT_FRAME);
			return 0;
		}
		if (emu && thread_ok(r, th) && seg_first_hit(r, th, idx, bps, n)) {
			stop_run(r, th, idx, REPLAY_AT_FRAME);
			return 0;
		}
	}
	return run_off(r, 1);
}

/* reverse-continue: the same backwards; a frame's run comes before the frame. */
static int run_back(struct replay *r)
{
	taddr_t bps[REPLAY_MAX_BPS];
	size_t n = bps_of(r, bps);
	bool emu = n && need_emu(r, bps, n);

	if (!n)
		return run_frames(r, -1);
	for (int64_t idx = r->pos; idx >= 0; idx--) {
		size_t th = r->h.fr[idx].th;
		bool active = replay_emu_active(r, th) && r->emu[th].base == idx;
		uint64_t limit = active ? r->emu[th].k : idx == r->pos ? 0 : UINT64_MAX;

		if (emu && limit > 1 && thread_ok(r, th) &&
		    seg_last_hit(r, th, idx, limit, bps, n)) {
			stop_run(r, th, idx, REPLAY_AT_FRAME);
			return 0;
		}
		if ((idx < r->pos || active) && frame_ok(r, idx) &&
		    in_bps(bps, n, r->h.fr[idx].pc)) {
			go_to(r, idx, REPLAY_AT_FRAME);
			return 0;
		}
	}
	return run_off(r, -1);
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

/* Thread th to its next (dir > 0) or previous frame; the note says why when it could not
 * run on. */
static int to_frame(struct replay *r, size_t th, int64_t cur, int dir)
{
	int64_t idx = replay_hist_thread_step(&r->h, th, cur, dir);

	if (idx < 0) {
		replay_set_stop(r, (int64_t)th, dir > 0 ? REPLAY_AT_END : REPLAY_AT_BEGIN);
		return 0;
	}
	go_to(r, idx, REPLAY_AT_STEP);
	return 0;
}

/* Step thread th one instruction (or, range > 0, while its pc stays in [lo, hi)); over:
 * the client is stepping over a breakpoint at its pc. */
static int step_fwd(struct replay *r, size_t th, bool over, taddr_t lo, taddr_t hi)
{
	int64_t cur = replay_hist_thread_at(&r->h, th, r->pos);
	struct replay_emu *e = &r->emu[th];
	unsigned steps = 0;

	if (cur < 0)
		return -ESRCH;
	if (!replay_emu_active(r, th) && replay_emu_start(r, th, cur))
		return -EIO;
	while (!replay_emu_step(r, th)) {
		steps++;
		if (!(e->cpu.rip >= lo && e->cpu.rip < hi) || steps >= REPLAY_SEG_MAX) {
			replay_set_stop(r, (int64_t)th, REPLAY_AT_STEP);
			r->note_due = !over;
			return 0;
		}
	}
	if (steps) { /* a range step stops where the emulator could go no further */
		replay_set_stop(r, (int64_t)th, REPLAY_AT_STEP);
		return 0;
	}
	if (over && !e->k) {
		/* the client must see the pc move off its breakpoint */
		taddr_t pc = e->cpu.rip;

		replay_emu_blind(r, th, cur, pc + insn_len(r, pc));
		replay_set_stop(r, (int64_t)th, REPLAY_AT_STEP);
		r->note_due = false;
		return 0;
	}
	snprintf(r->why_note, sizeof(r->why_note), "; could not run on (%s)", e->why);
	return to_frame(r, th, cur, 1);
}

/* Step thread th back one instruction: within its run from its frame, else to the end of the
 * previous frame's run (as far as the emulator got from there). */
static int step_back(struct replay *r, size_t th)
{
	int64_t cur = replay_hist_thread_at(&r->h, th, r->pos), idx;
	struct replay_emu *e = &r->emu[th];

	if (cur < 0)
		return -ESRCH;
	if (replay_emu_active(r, th)) {
		restore(r, th, e->base, e->blind ? 0 : e->k - 1);
		replay_set_stop(r, (int64_t)th, REPLAY_AT_STEP);
		return 0;
	}
	idx = replay_hist_thread_step(&r->h, th, cur, -1);
	if (idx < 0) {
		replay_set_stop(r, (int64_t)th, REPLAY_AT_BEGIN);
		return 0;
	}
	go_to(r, idx, REPLAY_AT_STEP);
	if (replay_emu_start(r, th, idx))
		return 0;
	while (e->k < REPLAY_SEG_MAX && !replay_emu_step(r, th))
		;
	if (!e->k)
		replay_emu_clear(r, th);
	replay_set_stop(r, (int64_t)th, REPLAY_AT_STEP);
	return 0;
}

/* Is this step the client stepping over a breakpoint at the thread's pc? gdb then steps that
 * thread alone (a user's stepi lets the others run: `;c`), and may never have inserted the
 * breakpoint (it was set while stopped there); lldb steps alone either way, but it inserts
 * breakpoints at once and removes the one it steps over just before. */
static bool stepping_over(const struct replay *r, int64_t th, size_t nacts)
{
	taddr_t pc = replay_thread_pc(r, (size_t)th);

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
		bool range = a->kind == RSP_RESUME_RANGE_STEP;
		int64_t th;

		if (a->kind != RSP_RESUME_STEP && !range)
			continue;
		th = a->thread.tid > 0 ? replay_hist_thread(&r->h, a->thread.tid) : r->stop_th;
		th = th < 0 ? r->stop_th : th;
		return step_fwd(r, (size_t)th, stepping_over(r, th, n), range ? a->start : 0,
				range ? a->end : 0);
	}
	return take_goto(r) ? 0 : run_fwd(r);
}

int replay_reverse_step(void *t, struct rsp_ptid id)
{
	struct replay *r = t;
	int64_t th = id.tid > 0 ? replay_hist_thread(&r->h, id.tid) : r->stop_th;

	return step_back(r, (size_t)(th < 0 ? r->stop_th : th));
}

int replay_reverse_continue(void *t)
{
	struct replay *r = t;

	return take_goto(r) ? 0 : run_back(r);
}

void replay_reset(struct replay *r)
{
	r->tsel = r->goto_idx = -1;
	r->only_tid = 0;
	r->only_tp = 0;
	r->nbps = 0;
	r->lldb = false;
	for (size_t i = 0; i < r->h.nth; i++)
		replay_emu_clear(r, i);
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
