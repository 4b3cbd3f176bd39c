/* What a stop becomes for the client: a thread's event kept as its pending stop, the other
 * threads stopped (all-stop) or not (non-stop), and the stop reply handed to the event loop
 * (live->ready, or the non-stop queue) once every thread that must stop has. */
#include "stub/live/internal.h"

#include <signal.h>
#include <string.h>
#include <sys/user.h>

#include "stub/os/os.h"

/* Non-stop: one more stop for the client, in order (a full queue drops it: `?` still lists
 * the thread as stopped). */
static void ns_push(struct live *l, const struct rsp_stop *st)
{
	if (l->nsq_len == LIVE_NSQ) {
		live_log(l, "non-stop queue full: stop of %d dropped", (int)st->thread.tid);
		return;
	}
	l->nsq[(l->nsq_head + l->nsq_len++) % LIVE_NSQ] = *st;
}

void live_set_ready(struct live *l, const struct rsp_stop *st)
{
	if (l->non_stop)
		ns_push(l, st);
	else {
		l->ready = *st;
		l->have_ready = true;
	}
	l->sel = 0;
	if (st->kind == RSP_STOP_SIGNAL || st->kind == RSP_STOP_EXITED ||
	    st->kind == RSP_STOP_TERMINATED) {
		l->last = *st;
		l->last_attach = false;
		l->have_last = st->kind == RSP_STOP_SIGNAL;
	}
	live_wake(l);
}

/* Turn thread th's pending event into the stop reply; rewinds the PC over an
 * int3. */
static void report_pending(struct live *l, struct proc_thread *th, struct rsp_stop *st)
{
	struct proc_pending *pe = &th->pending;

	memset(st, 0, sizeof(*st));
	st->kind = RSP_STOP_SIGNAL;
	st->thread.pid = th->proc->pid;
	st->thread.tid = th->tid;
	st->reason = pe->reason;
	st->signo = pe->signo;
	st->core = procfs_thread_core(th->proc->pid, th->tid);
	switch (pe->reason) {
	case RSP_REASON_SWBREAK:
		/* gdbserver rule (PROTOCOL.md 1.5): rewind for lldb and for a gdb with
		 * swbreak+; a gdb without swbreak gets pc = site + 1 and fixes it itself.
		 */
		if (l->feat.swbreak || l->feat.is_lldb) {
			struct user_regs_struct r;

			if (!ptr_getregs(th->tid, &r)) {
				r.rip = pe->addr;
				ptr_setregs(th->tid, &r);
			}
		}
		break;
	case RSP_REASON_WATCH:
	case RSP_REASON_AWATCH:
	case RSP_REASON_RWATCH:
		st->watch_addr = pe->addr;
		break;
	case RSP_REASON_SYSCALL_ENTRY:
	case RSP_REASON_SYSCALL_RETURN:
		st->syscall_no = (int64_t)pe->addr;
		break;
	case RSP_REASON_FORK:
	case RSP_REASON_VFORK:
		st->child.pid = (int64_t)pe->addr;
		st->child.tid = (int64_t)pe->addr;
		break;
	case RSP_REASON_EXEC:
		if (procfs_exec_file(th->proc->pid, l->exe_path, sizeof(l->exe_path)) == 0)
			st->exec_path = l->exe_path;
		break;
	default:
		break;
	}
	th->has_pending = false;
}

/* Non-stop: th is parked; report the stop it owes the client (an event, or the stop asked
 * by vCont;t / interrupt), if any. */
void live_ns_report(struct live *l, struct proc_thread *th)
{
	struct rsp_stop st;

	if (th->has_pending) {
		report_pending(l, th, &st);
	} else if (th->ns_stop_req) {
		memset(&st, 0, sizeof(st));
		st.kind = RSP_STOP_SIGNAL;
		st.reason = RSP_REASON_NONE;
		st.signo = th->ns_sigint ? SIGINT : 0;
		st.thread.pid = th->proc->pid;
		st.thread.tid = th->tid;
		st.core = procfs_thread_core(th->proc->pid, th->tid);
	} else {
		return;
	}
	th->ns_stop_req = th->ns_sigint = false;
	th->ns_running = false;
	th->ns_last = st;
	th->ns_last.exec_path = NULL;
	th->ns_have_last = true;
	live_set_ready(l, &st);
}

/* All threads of p stopped? Then report the stop owed to the client. */
void live_maybe_finish(struct live *l, struct proc *p)
{
	struct proc_thread *th;
	struct rsp_stop st;

	if (!p->stopping)
		return;
	for (th = p->threads; th; th = th->next)
		if (th->running || th->initial_stop || th->so)
			return;
	p->stopping = false;
	if (l->non_stop) {
		/* Stopped for the engine (kill, detach): nothing owed to the client. */
		p->interrupted = false;
		return;
	}
	p->resumed = false;
	if (p->event && p->event->has_pending) {
		report_pending(l, p->event, &st);
	} else {
		th = p->event ? p->event : p->threads;
		if (!th)
			return;
		/* Interrupt (^C / vCtrlC): gdbserver reports SIGINT for the thread it
		 * stopped. */
		memset(&st, 0, sizeof(st));
		st.kind = RSP_STOP_SIGNAL;
		st.reason = RSP_REASON_NONE;
		st.signo = SIGINT;
		st.thread.pid = p->pid;
		st.thread.tid = th->tid;
		st.core = procfs_thread_core(p->pid, th->tid);
		p->event = th;
	}
	p->interrupted = false;
	live_set_ready(l, &st);
}

/* A thread produced an event for the client: keep it and stop the others
 * (all-stop). */
void live_reportable(struct live *l, struct proc_thread *th, const struct proc_pending *pe)
{
	struct proc *p = th->proc;

	th->has_pending = true;
	th->pending = *pe;
	if (l->non_stop && p == l->cur) {
		/* This thread alone stops; reported once parked (after a step-over). */
		th->ns_running = false;
		live_settle(l, th);
		return;
	}
	if (!p->event)
		p->event = th;
	if (!p->stopping) {
		p->stopping = true;
		live_stop_others(l, p);
	}
	/* A thread in a step-over finishes it first (its pc must not be left in a scratch
	 * slot); maybe_finish waits for it. */
	live_settle(l, th);
}
