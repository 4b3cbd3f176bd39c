/* The live target's ops that need no event handling: registers (one fetch of the general,
 * x87/SSE and xstate sets), memory (Hg's process, int3 bytes shadowed), breakpoints and
 * watchpoints, thread lists and signals, and the monitor commands. Process control is in
 * events.c (resume, stops) and launch.c (launch, attach, kill). */
#include "stub/live/hwprobe.h"
#include "stub/live/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/os/os.h"

static void op_select_thread(void *t, struct rsp_ptid th)
{
	struct live *l = t;

	l->sel = th.pid > 0 ? (pid_t)th.pid : 0;
}

/* ---- registers ---- */

static const struct rsp_reg_layout *op_reg_layout(void *t)
{
	struct live *l = t;

	return &l->layout;
}

struct regset {
	struct user_regs_struct gp;
	struct user_fpregs_struct fp;
	size_t xlen;
};

static int fetch(struct live *l, pid_t tid, struct regset *rs)
{
	int rc = ptr_getregs(tid, &rs->gp);

	if (rc)
		return rc;
	rc = ptr_getfpregs(tid, &rs->fp);
	if (rc)
		return rc;
	if (ptr_getxstate(tid, l->xsave, sizeof(l->xsave), &rs->xlen))
		rs->xlen = 0;
	return 0;
}

static int store(struct live *l, pid_t tid, struct regset *rs, unsigned dirty)
{
	int rc = 0;

	if (dirty & X86_64_DIRTY_GP)
		rc = ptr_setregs(tid, &rs->gp);
	/* xstate first: its legacy area is stale, SETFPREGS below overwrites it. */
	if (!rc && (dirty & X86_64_DIRTY_XSTATE) && rs->xlen)
		rc = ptr_setxstate(tid, l->xsave, rs->xlen);
	if (!rc && (dirty & (X86_64_DIRTY_FP | X86_64_DIRTY_XSTATE)))
		rc = ptr_setfpregs(tid, &rs->fp);
	return rc;
}

static int op_read_regs(void *t, struct rsp_ptid id, uint8_t *buf, uint8_t *avail)
{
	struct live *l = t;
	struct proc_thread *th = live_resolve(l, id);
	struct regset rs;
	int rc;

	if (!th)
		return -ESRCH;
	rc = fetch(l, th->tid, &rs);
	if (rc)
		return rc;
	x86_64_regs_to_g(&rs.gp, &rs.fp, rs.xlen ? l->xsave : NULL, rs.xlen, buf, avail);
	return 0;
}

static int op_write_regs(void *t, struct rsp_ptid id, const uint8_t *buf)
{
	struct live *l = t;
	struct proc_thread *th = live_resolve(l, id);
	struct regset rs;
	int rc;

	if (!th)
		return -ESRCH;
	rc = fetch(l, th->tid, &rs);
	if (rc)
		return rc;
	x86_64_regs_from_g(buf, &rs.gp, &rs.fp, rs.xlen ? l->xsave : NULL, rs.xlen);
	return store(l, th->tid, &rs, X86_64_DIRTY_GP | X86_64_DIRTY_FP | X86_64_DIRTY_XSTATE);
}

static int op_write_reg(void *t, struct rsp_ptid id, unsigned regno, const uint8_t *val, size_t len)
{
	struct live *l = t;
	struct proc_thread *th = live_resolve(l, id);
	struct regset rs;
	unsigned dirty = 0;
	int rc;

	if (!th)
		return -ESRCH;
	rc = fetch(l, th->tid, &rs);
	if (rc)
		return rc;
	rc = x86_64_reg_store(regno, val, len, &rs.gp, &rs.fp, rs.xlen ? l->xsave : NULL, rs.xlen,
			      &dirty);
	if (rc)
		return rc;
	return store(l, th->tid, &rs, dirty);
}

/* ---- memory ---- */

static int op_read_mem(void *t, taddr_t addr, uint8_t *buf, size_t len, size_t *done)
{
	return live_read_live_mem(t, addr, buf, len, done);
}

int live_read_live_mem(struct live *l, taddr_t addr, uint8_t *buf, size_t len, size_t *done)
{
	int rc;
	struct proc *p = live_mem_proc(l);

	*done = 0;
	if (!p)
		return -ESRCH;
	rc = live_mem_read_raw(l, p, addr, buf, len, done);
	if (rc)
		return rc;
	if (live_proc_bk(l, p))
		bkpt_shadow(live_proc_bk(l, p), addr, buf, *done);
	return 0;
}

static int op_write_mem(void *t, taddr_t addr, const uint8_t *buf, size_t len)
{
	struct live *l = t;
	struct proc *p = live_mem_proc(l);
	uint8_t tmp[4096];
	size_t off = 0;

	if (!p)
		return -ESRCH;
	if (!live_proc_bk(l, p))
		return live_mem_write_raw(l, p, addr, buf, len);
	while (off < len) {
		size_t n = len - off < sizeof(tmp) ? len - off : sizeof(tmp);
		int rc;

		memcpy(tmp, buf + off, n);
		bkpt_write_through(live_proc_bk(l, p), addr + off, tmp, n);
		rc = live_mem_write_raw(l, p, addr + off, tmp, n);
		if (rc)
			return rc;
		off += n;
	}
	return 0;
}

/* ---- breakpoints and watchpoints ---- */

static int apply_hw_all(struct live *l)
{
	struct proc_thread *th;
	int rc = 0;

	for (th = l->cur->threads; th; th = th->next) {
		int r;

		if (th->running || th->initial_stop)
			continue; /* applied when it stops (new threads: at their first stop) */
		r = hwdebug_apply(&l->hw, th->tid);
		live_log(l, "hw apply %d: %d dr7 %llx", (int)th->tid, r,
			 (unsigned long long)hwdebug_dr7(&l->hw));
		if (r && !rc)
			rc = r;
	}
	return rc;
}

static int op_insert_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind)
{
	struct live *l = t;
	struct bkpt_mem mem;
	int rc;

	if (!l->cur)
		return -ESRCH;
	if (type == RSP_POINT_SW) {
		/* Hg's process: another inferior (a fork child gdb keeps) has its own table. */
		struct proc *p = live_mem_proc(l);
		struct bkpt_table *bk = live_proc_bk(l, p);

		if (!bk && !p->vfork_keep && probe_space_new(l, p))
			bk = live_proc_bk(l, p);
		if (!bk)
			return -EINVAL;
		live_bkpt_mem(l, p, &mem);
		return bkpt_insert(bk, &mem, addr, BKPT_OWNER_USER);
	}
	rc = hwdebug_insert(&l->hw, type, addr, kind);
	if (rc)
		return rc;
	/* Refuse rather than accept points that would never trigger (some hypervisors). */
	if (!hwprobe_debugregs_work()) {
		hwdebug_remove(&l->hw, type, addr, kind);
		return -ENODEV;
	}
	rc = apply_hw_all(l);
	if (rc) {
		hwdebug_remove(&l->hw, type, addr, kind);
		apply_hw_all(l);
	}
	return rc;
}

static int op_remove_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind)
{
	struct live *l = t;
	struct bkpt_mem mem;
	int rc;

	if (!l->cur)
		return -ESRCH;
	if (type == RSP_POINT_SW) {
		struct proc *p = live_mem_proc(l);
		struct bkpt_table *bk = live_proc_bk(l, p);

		/* A fork child without a table of its own was cleaned of our int3s. */
		if (!bk || (p != l->cur && !(bkpt_owners(bk, addr) & BKPT_OWNER_USER)))
			return 0;
		live_bkpt_mem(l, p, &mem);
		return bkpt_remove(bk, &mem, addr, BKPT_OWNER_USER);
	}
	if (type == RSP_POINT_READ)
		return -EOPNOTSUPP;
	rc = hwdebug_remove(&l->hw, type, addr, kind);
	if (rc)
		return rc;
	return apply_hw_all(l);
}

/* ---- stops and threads ---- */

static int op_last_stop(void *t, struct rsp_stop *out)
{
	struct live *l = t;

	if (!l->have_last)
		return -ESRCH;
	*out = live_last_for_client(l);
	if (!proc_find(&l->pt, (pid_t)out->thread.pid) && l->cur && l->cur->threads) {
		/* Its process was killed, another inferior remains: like gdbserver, report a
		 * thread of that one (gdb makes the reported thread current). */
		struct proc_thread *th = proc_thread_find(&l->pt, l->cur->pid);

		th = th ? th : l->cur->threads;
		memset(out, 0, sizeof(*out));
		out->kind = RSP_STOP_SIGNAL;
		out->thread.pid = l->cur->pid;
		out->thread.tid = th->tid;
		out->core = -1;
	}
	return 0;
}

static int op_list_threads(void *t, struct rsp_thread_info *out, size_t cap, size_t *n)
{
	struct live *l = t;
	struct proc *p;
	size_t k = 0;

	for (p = l->pt.procs; p; p = p->next) {
		struct proc_thread *th;

		if (p->fork_child || p->engine_owned)
			continue;
		for (th = p->threads; th; th = th->next, k++) {
			if (k >= cap)
				continue;
			out[k].id.pid = p->pid;
			out[k].id.tid = th->tid;
			out[k].core = procfs_thread_core(p->pid, th->tid);
			if (procfs_thread_name(p->pid, th->tid, out[k].name, sizeof(out[k].name)))
				out[k].name[0] = '\0';
		}
	}
	*n = k;
	return 0;
}

static bool op_thread_alive(void *t, struct rsp_ptid id)
{
	struct live *l = t;
	struct proc_thread *th;

	if (id.tid <= 0)
		return live_resolve(l, id) != NULL;
	th = proc_thread_find(&l->pt, (pid_t)id.tid);
	return th && (id.pid <= 0 || th->proc->pid == id.pid);
}

static int op_pass_signals(void *t, const uint8_t *set, size_t n)
{
	struct live *l = t;
	size_t i;

	memset(l->pass, 0, sizeof(l->pass));
	for (i = 1; i < n && i < sizeof(l->pass); i++)
		l->pass[i] = set[i] ? 1 : 0;
	return 0;
}

static int op_program_signals(void *t, const uint8_t *set, size_t n)
{
	return 0; /* every signal is reported to the client unless passed; nothing to
		     store */
}

static void op_set_client_features(void *t, const struct rsp_client_features *f)
{
	struct live *l = t;

	l->feat = *f;
}

/* ---- monitor commands ---- */

static int mon_hwdebug(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	const char *msg = hwprobe_debugregs_work()
				  ? "hardware debug registers: working\n"
				  : "hardware debug registers: not triggering on this machine "
				    "(Z1-Z4 refused; use software watchpoints: set "
				    "can-use-hw-watchpoints 0)\n";

	out(ctx, msg, strlen(msg));
	return 0;
}

static int mon_set_debug(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	struct live *l = t;

	if (strcmp(args, "0") && strcmp(args, "1"))
		return -EINVAL;
	l->cfg.debug = args[0] == '1';
	rsp_monitor_printf(out, ctx, "Debug output %s.\n", l->cfg.debug ? "enabled" : "disabled");
	return 0;
}

/* gdbserver's: where to look for libthread_db. tracestub finds thread-local storage without it
 * (qGetTLSAddr), so the path is kept only to be answered as gdbserver answers. */
static int mon_thread_db_path(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	rsp_monitor_printf(out, ctx, "libthread-db-search-path set to `%s'\n", args);
	return 0;
}

static const struct rsp_monitor_cmd live_cmds[] = {
	{"hwdebug", "", "do hardware breakpoints/watchpoints work here?", mon_hwdebug},
	{"set debug", "0|1", "engine event log on stderr", mon_set_debug},
	{"set libthread-db-search-path", "PATH",
	 "accepted as gdbserver does (tracestub needs no libthread_db)", mon_thread_db_path},
};

const struct rsp_monitor_table live_monitor_table = {live_cmds,
						     sizeof(live_cmds) / sizeof(live_cmds[0])};

static int op_monitor(void *t, const char *cmd, size_t len, rsp_output_fn out, void *ctx)
{
	const struct rsp_monitor_table *tables[] = {&live_monitor_table};

	return rsp_monitor_run(tables, 1, t, cmd, len, out, ctx);
}

void live_ops_core(struct rsp_target_ops *o)
{
	o->reg_layout = op_reg_layout;
	o->read_regs = op_read_regs;
	o->write_regs = op_write_regs;
	o->write_reg = op_write_reg;
	o->read_mem = op_read_mem;
	o->write_mem = op_write_mem;
	o->insert_point = op_insert_point;
	o->remove_point = op_remove_point;
	o->select_thread = op_select_thread;
	o->monitor = op_monitor;
	o->last_stop = op_last_stop;
	o->list_threads = op_list_threads;
	o->thread_alive = op_thread_alive;
	o->pass_signals = op_pass_signals;
	o->program_signals = op_program_signals;
	o->set_client_features = op_set_client_features;
}
