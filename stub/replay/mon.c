/* Replay's monitor commands (gdb `monitor CMD`, lldb `process plugin packet monitor CMD`):
 * where the replay is, the list of frames, a jump to a frame, and the filters continue
 * obeys. lldb has no tfind, so these are its way around the history. */
#include "stub/replay/internal.h"

#include "protocol/monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void frame_line(struct replay *r, int64_t i, rsp_output_fn out, void *ctx)
{
	const struct replay_frame *fr = &r->h.fr[i];

	rsp_monitor_printf(out, ctx,
			   "%c %6" PRId64 "  tracepoint %-4u thread %-8" PRId64 " pc 0x%" PRIx64
			   "\n",
			   i == r->pos ? '*' : ' ', i, fr->tp, r->h.th[fr->th].tid, fr->pc);
}

static void info(struct replay *r, rsp_output_fn out, void *ctx)
{
	frame_line(r, r->pos, out, ctx);
	rsp_monitor_printf(out, ctx, "%zu frames, %zu threads, process %" PRId64 "\n", r->h.n,
			   r->h.nth, r->h.pid);
	if (r->only_tid)
		rsp_monitor_printf(out, ctx, "continue stops only in thread %" PRId64 "\n",
				   r->only_tid);
	if (r->only_tp)
		rsp_monitor_printf(out, ctx, "continue stops only at tracepoint %u\n", r->only_tp);
	if (r->goto_idx >= 0)
		rsp_monitor_printf(out, ctx, "the next continue goes to frame %" PRId64 "\n",
				   r->goto_idx);
}

/* A number argument; "all" or "0" = 0 (no filter). -1 when malformed. */
static int64_t arg_num(const char *s)
{
	char *end;
	long long v;

	while (*s == ' ')
		s++;
	if (!strcmp(s, "all"))
		return 0;
	v = strtoll(s, &end, 0);
	return end == s || *end || v < 0 ? -1 : v;
}

static void frames(struct replay *r, const char *args, rsp_output_fn out, void *ctx)
{
	long long from = 0, count = 50;
	int n = sscanf(args, "%lld %lld", &from, &count);

	if (n < 1)
		from = r->pos > 25 ? r->pos - 25 : 0;
	for (int64_t i = from < 0 ? 0 : from; i < (int64_t)r->h.n && count-- > 0; i++)
		frame_line(r, i, out, ctx);
}

static int mon_info(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	info(t, out, ctx);
	return 0;
}

static int mon_frames(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	frames(t, args, out, ctx);
	return 0;
}

static int mon_frame(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	struct replay *r = t;
	int64_t v = arg_num(args);

	if (v < 0 || v >= (int64_t)r->h.n)
		rsp_monitor_printf(out, ctx, "no frame %s (frames 0..%zu)\n", args, r->h.n - 1);
	else {
		r->goto_idx = v;
		rsp_monitor_printf(out, ctx, "the next continue goes to frame %" PRId64 "\n", v);
	}
	return 0;
}

static int mon_tp(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	struct replay *r = t;
	int64_t v = arg_num(args);

	if (v < 0 || v > UINT32_MAX)
		return -EINVAL;
	r->only_tp = (uint32_t)v;
	info(r, out, ctx);
	return 0;
}

static int mon_thread(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	struct replay *r = t;
	int64_t v = arg_num(args);

	if (v < 0 || (v && replay_hist_thread(&r->h, v) < 0))
		return -EINVAL;
	r->only_tid = v;
	info(r, out, ctx);
	return 0;
}

/* Where the stopped thread is and whether the emulator can run its next instruction. */
static int mon_why(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	struct replay *r = t;
	size_t th = (size_t)r->stop_th;
	struct replay_emu *e = &r->emu[th];
	bool active = replay_emu_active(r, th);
	int64_t base = active ? e->base : replay_hist_thread_at(&r->h, th, r->pos);
	uint64_t k = active ? e->k : 0;

	if (base < 0)
		return -ESRCH;
	if (k)
		rsp_monitor_printf(out, ctx,
				   "thread %" PRId64 ": %" PRIu64
				   " instruction%s run on from trace "
				   "frame %" PRId64 ", pc 0x%" PRIx64 "\n",
				   r->h.th[th].tid, k, k == 1 ? "" : "s", base, e->cpu.rip);
	else
		rsp_monitor_printf(out, ctx, "thread %" PRId64 ": at trace frame %" PRId64 "\n",
				   r->h.th[th].tid, base);
	if (!active && replay_emu_start(r, th, base))
		return -EIO;
	if (replay_emu_step(r, th)) {
		rsp_monitor_printf(out, ctx, "it cannot run on: %s\n", e->why);
	} else {
		rsp_monitor_printf(out, ctx, "its next instruction runs (then pc 0x%" PRIx64 ")\n",
				   e->cpu.rip);
		replay_emu_goto(r, th, base, k);
	}
	if (!k)
		replay_emu_clear(r, th);
	return 0;
}

static const struct rsp_monitor_cmd cmds[] = {
	{"info", "", "where the replay is (frame, tracepoint, thread, filters)", mon_info},
	{"frames", "[N [K]]", "list K frames from N (default: around the present)", mon_frames},
	{"frame", "N", "the next continue (or reverse-continue) goes to frame N", mon_frame},
	{"tp", "N|all", "continue stops only at frames of tracepoint N", mon_tp},
	{"thread", "TID|all", "continue stops only at frames of thread TID", mon_thread},
	{"why", "", "where the stopped thread is, and why it cannot run on if it cannot", mon_why},
};

int replay_monitor(void *t, const char *cmd, size_t len, rsp_output_fn out, void *ctx)
{
	static const struct rsp_monitor_table table = {cmds, sizeof(cmds) / sizeof(cmds[0])};
	const struct rsp_monitor_table *tables[] = {&table};

	return rsp_monitor_run(tables, 1, t, cmd, len, out, ctx);
}
