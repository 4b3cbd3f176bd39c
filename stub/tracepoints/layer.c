/* The tracepoint layer over the live target: the live ops table with the trace ops added,
 * register and memory reads answered from the selected trace frame, the `tstats` monitor
 * command beside live's own, and the live target's process events (the debugged process
 * gone ends the run). The context of every op stays the struct live *. */
#include "stub/tracepoints/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stub/live/live.h"
#include "stub/tracefile/tracefile.h"

struct tpoints *tpoints_of(void *t)
{
	return live_layer(t);
}

/* Counters as text: the buffer, then per tracepoint hits, frames stored, hits dropped
 * (buffer full) and bytes. Returns the length or -ENOSPC. */
static int stats(struct tpoints *tr, char *buf, size_t cap)
{
	struct tracebuf_stats st;
	size_t n = 0;
	int w;

	tracebuf_stats(tr->tb, &st);
	w = snprintf(buf, cap,
		     "frames held %llu, created %llu, evicted %llu, bytes used %llu of %llu, "
		     "expression errors %llu\n",
		     (unsigned long long)st.frames, (unsigned long long)st.created,
		     (unsigned long long)st.evicted, (unsigned long long)st.used,
		     (unsigned long long)st.size, (unsigned long long)tr->expr_errors);
	if (w < 0 || (size_t)w >= cap)
		return -ENOSPC;
	n = (size_t)w;
	for (size_t i = 0; i < tr->ntps; i++) {
		const struct tpoints_tp *tp = tr->tps[i];

		char how[96] = "";

		if (tp->ran_fast && tp->acts_in_agent)
			snprintf(how, sizeof(how), " (%u collect expression%s in the agent)",
				 tp->acts_in_agent, tp->acts_in_agent == 1 ? "" : "s");
		else if (tp->ran_fast && tp->fast_window)
			snprintf(how, sizeof(how), " (expressions over a stack window)");
		w = snprintf(buf + n, cap - n,
			     "tracepoint %u at 0x%llx: hits %llu, stored %llu, dropped %llu, "
			     "bytes %llu%s%s%s\n",
			     tp->def.num, (unsigned long long)tp->def.addr,
			     (unsigned long long)tp->hits, (unsigned long long)tp->stored,
			     (unsigned long long)tp->dropped, (unsigned long long)tp->bytes,
			     tp->ran_fast   ? ", fast"
			     : tp->def.fast ? ", trap: "
					    : "",
			     !tp->ran_fast && tp->def.fast
				     ? (tp->why_trap ? tp->why_trap : "not installed yet")
				     : "",
			     how);
		if (w < 0 || (size_t)w >= cap - n)
			return -ENOSPC;
		n += (size_t)w;
	}
	return (int)n;
}

static int mon_tstats(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	char buf[8192];
	int n;

	tpoints_fast_drain(tpoints_of(t));
	n = stats(tpoints_of(t), buf, sizeof(buf));

	if (n < 0)
		return n;
	out(ctx, buf, (size_t)n);
	return 0;
}

static const struct rsp_monitor_cmd cmds[] = {
	{"tstats", "", "trace buffer and per-tracepoint hit/stored/dropped counts", mon_tstats},
};
static const struct rsp_monitor_table tpoints_monitor_table = {cmds, 1};

static int op_monitor(void *t, const char *cmd, size_t len, rsp_output_fn out, void *ctx)
{
	const struct rsp_monitor_table *tables[] = {&live_monitor_table, &tpoints_monitor_table};

	return rsp_monitor_run(tables, 2, t, cmd, len, out, ctx);
}

static int op_read_regs(void *t, struct rsp_ptid id, uint8_t *buf, uint8_t *avail)
{
	struct tpoints *tr = tpoints_of(t);

	if (tpoints_frame_selected(tr))
		return tpoints_frame_regs(tr, buf, avail);
	return live_target_ops()->read_regs(t, id, buf, avail);
}

static int op_read_mem(void *t, taddr_t addr, uint8_t *buf, size_t len, size_t *done)
{
	struct tpoints *tr = tpoints_of(t);

	if (tpoints_frame_selected(tr))
		return tpoints_frame_mem(tr, addr, buf, len, done);
	return live_target_ops()->read_mem(t, addr, buf, len, done);
}

const struct rsp_target_ops *tpoints_target_ops(void)
{
	static struct rsp_target_ops o;
	static bool built;

	if (!built) {
		o = *live_target_ops();
		o.read_regs = op_read_regs;
		o.read_mem = op_read_mem;
		o.monitor = op_monitor;
		o.trace = &tpoints_trace_ops;
		built = true;
	}
	return &o;
}

void tpoints_client_gone(void *t)
{
	struct tpoints *tr = tpoints_of(t);

	if (tr && tr->running && !tr->disconnected)
		tpoints_end_run(tr, RSP_TSTOP_DISCONNECTED, 0, NULL);
}

static void on_proc(void *ctx, const struct live_proc_event *ev)
{
	struct tpoints *tr = ctx;

	if (ev->kind != LIVE_EV_CURRENT_GONE)
		return;
	tpoints_fast_close(tr); /* its hits in first */
	for (size_t i = 0; i < tr->ntps; i++)
		tr->tps[i]->installed = false;
	/* The frames stay readable (tfind, tsave) after the program is gone. */
	tpoints_end_run(tr, RSP_TSTOP_ERROR, 0, "the traced process is gone");
}

int tpoints_layer_attach(struct tpoints *tr)
{
	int rc = live_add_proc_hook(tr->l, on_proc, tr);

	if (!rc)
		live_set_layer(tr->l, tr);
	return rc;
}
