/* Non-stop mode (QNonStop:1) on the live target: each thread is resumed, stopped and
 * reported on its own. The client's view of a thread is th->ns_running (it believes the thread
 * runs) and th->ns_stop_req (a stop was asked: vCont;t, interrupt); events.c parks a thread
 * the client does not expect to run and reports its stop (live_ns_report). */
#include "stub/live/internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "stub/os/os.h"

/* Non-stop: stop th for the client (signal 0 for vCont;t, SIGINT for an interrupt). A
 * thread whose stop the client has seen is left alone, as gdbserver does (gdb may be in the
 * middle of a displaced step on it: a second stop would end that step). */
static void ns_stop(struct live *l, struct proc_thread *th, bool sigint)
{
	if (!th->ns_running)
		return;
	th->ns_stop_req = true;
	th->ns_sigint = sigint;
	if (th->running) {
		if (!th->interrupting && !ptr_interrupt(th->tid))
			th->interrupting = true;
		return;
	}
	/* Parked by the engine meanwhile (its status deferred, a step-over): settled later. */
	if (!th->so && !th->deferred && !th->initial_stop)
		live_settle(l, th);
}

/* Non-stop resume: only the threads an action names; running ones are left as they are. */
int live_ns_resume(struct live *l, struct proc *p, const struct rsp_resume_action *acts, size_t n)
{
	struct proc_thread *th, *next;

	p->catch_sc = l->sc_on;
	for (th = p->threads; th; th = next) {
		const struct rsp_resume_action *a = live_match_action(acts, n, th);

		next = th->next;
		if (!a)
			continue;
		if (a->kind == RSP_RESUME_STOP) {
			ns_stop(l, th, false);
			continue;
		}
		if (th->ns_running)
			continue;
		th->resume = a->kind;
		th->range_start = a->start;
		th->range_end = a->end;
		if (a->has_addr) {
			struct user_regs_struct r;

			if (!ptr_getregs(th->tid, &r)) {
				r.rip = a->addr;
				ptr_setregs(th->tid, &r);
			}
		}
		live_forget_skip_if_moved(th);
		th->has_pending = false;
		th->ns_running = true;
		if (!th->running && !th->so && !th->initial_stop && !th->deferred &&
		    live_resume_thread(th, th->resume, a->signo))
			th->ns_running = false;
	}
	l->have_last = true;
	return 0;
}

int live_ns_interrupt(struct live *l, struct proc *p)
{
	/* One running thread stops with SIGINT (gdbserver's interrupt sends SIGINT to the
	 * process: the first thread to take it reports). */
	struct proc_thread *th, *pick = NULL;

	for (th = p->threads; th; th = th->next)
		if (th->ns_running && !th->ns_stop_req && (!pick || th->tid == p->pid))
			pick = th;
	if (pick)
		ns_stop(l, pick, true);
	return 0;
}

void live_ns_attached(struct live *l, struct proc *p)
{
	for (struct proc_thread *th = p->threads; th; th = th->next) {
		th->ns_running = true;
		th->ns_stop_req = true;
		if (!th->running && !th->so && !th->initial_stop)
			live_ns_report(l, th);
	}
}

int live_set_non_stop(void *t, bool on)
{
	struct live *l = t;

	if (l->cur && l->cur->resumed && !l->non_stop)
		return -EBUSY;
	if (on && !l->non_stop && l->cur) {
		/* The client has seen no stop yet: `?` reports the last stop's thread; for gdb
		 * the others run until it stops each with vCont;t (gdbserver's way). */
		for (struct proc_thread *th = l->cur->threads; th; th = th->next)
			th->ns_running = !(l->have_last && l->last.thread.tid == th->tid);
	}
	l->non_stop = on;
	return 0;
}

int live_stopped_threads(void *t, void (*fn)(void *ctx, const struct rsp_stop *st), void *ctx)
{
	struct live *l = t;
	struct proc_thread *th;
	struct rsp_stop st;

	if (!l->cur)
		return 0;
	for (th = l->cur->threads; th; th = th->next) {
		if (th->ns_running)
			continue;
		if (th->ns_have_last) {
			st = th->ns_last;
		} else if (l->have_last && l->last.thread.tid == th->tid) {
			st = live_last_for_client(l); /* the launch or attach stop */
		} else {
			memset(&st, 0, sizeof(st));
			st.kind = RSP_STOP_SIGNAL;
			st.thread.pid = th->proc->pid;
			st.thread.tid = th->tid;
			st.core = -1;
		}
		fn(ctx, &st);
	}
	return 0;
}
