/* Resuming the live target (vCont actions matched to threads, a still-valid pending stop
 * reported at once instead; in non-stop mode per thread) and stopping it: interrupt
 * (PTRACE_INTERRUPT, an EVENT_STOP the program never sees) and live_stop_all_sync, the one place
 * that blocks on the target. */
#include "stub/live/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/os/os.h"

static const struct rsp_resume_action *match(const struct rsp_resume_action *acts, size_t n,
					     const struct proc_thread *th)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct rsp_ptid *id = &acts[i].thread;

		if (id->pid > 0 && id->pid != th->proc->pid)
			continue;
		if (id->tid > 0 && id->tid != th->tid)
			continue;
		return &acts[i];
	}
	return NULL;
}

/* A pending breakpoint event whose site the client removed meanwhile is dropped
 * and its PC rewound, as if the thread had not reached the int3 yet (gdbserver
 * does the same). */
static bool pending_still_valid(struct live *l, struct proc_thread *th)
{
	struct user_regs_struct r;

	/* A client breakpoint must still be there; a probe's stop stays valid. */
	if (th->pending.reason != RSP_REASON_SWBREAK || th->pending.probe ||
	    (bkpt_owners(l->bk, th->pending.addr) & BKPT_OWNER_USER))
		return true;
	if (!ptr_getregs(th->tid, &r) && r.rip == th->pending.addr + 1) {
		r.rip = th->pending.addr;
		ptr_setregs(th->tid, &r);
	}
	th->has_pending = false;
	return false;
}

/* A probe hit already counted for a stop the client saw: forgotten once the client moved
 * the thread off the site (a gdb without swbreak leaves pc at site + 1). */
static void forget_skip_if_moved(struct proc_thread *th)
{
	struct user_regs_struct r;

	if (th->probe_skip && !ptr_getregs(th->tid, &r) && r.rip != th->probe_skip &&
	    r.rip != th->probe_skip + 1)
		th->probe_skip = 0;
}

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
static int ns_resume(struct live *l, struct proc *p, const struct rsp_resume_action *acts, size_t n)
{
	struct proc_thread *th, *next;

	p->catch_sc = l->sc_on;
	for (th = p->threads; th; th = next) {
		const struct rsp_resume_action *a = match(acts, n, th);

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
		forget_skip_if_moved(th);
		th->has_pending = false;
		th->ns_running = true;
		if (!th->running && !th->so && !th->initial_stop && !th->deferred &&
		    live_resume_thread(th, th->resume, a->signo))
			th->ns_running = false;
	}
	l->have_last = true;
	return 0;
}

/* The one other inferior the actions name by pid (gdb resumes one inferior at a time unless
 * schedule-multiple is on), if it is stopped and the client's; NULL otherwise. */
static struct proc *other_inferior(struct live *l, const struct rsp_resume_action *acts, size_t n)
{
	int64_t pid = 0;
	struct proc *q;

	for (size_t i = 0; i < n; i++) {
		if (acts[i].thread.pid <= 0 || (pid && acts[i].thread.pid != pid))
			return NULL;
		pid = acts[i].thread.pid;
	}
	q = pid && pid != l->cur->pid ? proc_find(&l->pt, (pid_t)pid) : NULL;
	if (!q || q->fork_child || q->engine_owned || q->vfork_keep || q->resumed ||
	    l->cur->resumed)
		return NULL;
	for (struct proc_thread *th = q->threads; th; th = th->next)
		if (th->running || th->initial_stop)
			return NULL;
	return q;
}

int live_resume(void *t, const struct rsp_resume_action *acts, size_t n)
{
	struct live *l = t;
	struct proc *p = l->cur;
	struct proc_thread *th, *pend = NULL;
	bool any = false;

	if (!p)
		return -ESRCH;
	if (l->non_stop)
		return ns_resume(l, p, acts, n);
	if ((p = other_inferior(l, acts, n)) != NULL) {
		int rc = live_switch_cur(l, p);

		if (rc)
			return rc;
	}
	p = l->cur;
	if (p->resumed)
		return -EBUSY;
	p->catch_sc = l->sc_on;
	for (th = p->threads; th; th = th->next) {
		const struct rsp_resume_action *a = match(acts, n, th);

		th->resume = a ? a->kind : RSP_RESUME_NONE;
		if (th->resume == RSP_RESUME_STOP)
			th->resume = RSP_RESUME_NONE;
		if (th->resume == RSP_RESUME_NONE)
			continue;
		th->range_start = a->start;
		th->range_end = a->end;
		if (a->has_addr) {
			struct user_regs_struct r;
			int rc = ptr_getregs(th->tid, &r);

			if (rc)
				return rc;
			r.rip = a->addr;
			rc = ptr_setregs(th->tid, &r);
			if (rc)
				return rc;
		}
		if (th->has_pending && pending_still_valid(l, th) && !pend)
			pend = th;
		forget_skip_if_moved(th);
	}
	p->event = NULL;
	p->interrupted = false;
	if (pend) {
		/* Report the event we already hold without running anything. */
		p->resumed = true;
		p->stopping = true;
		p->event = pend;
		live_maybe_finish(l, p);
		return 0;
	}
	for (th = p->threads; th; th = th->next) {
		const struct rsp_resume_action *a;
		int rc;

		if (th->resume == RSP_RESUME_NONE)
			continue;
		a = match(acts, n, th);
		rc = live_resume_thread(th, th->resume, a ? a->signo : 0);
		if (rc && rc != -ESRCH)
			return rc;
		any = any || !rc;
	}
	if (!any)
		return -EINVAL;
	p->resumed = true;
	l->have_last = true;
	return 0;
}

int live_interrupt(void *t)
{
	struct live *l = t;
	struct proc *p = l->cur;

	if (!p)
		return -ESRCH;
	if (l->non_stop) {
		/* One running thread stops with SIGINT (gdbserver's interrupt sends SIGINT to
		 * the process: the first thread to take it reports). */
		struct proc_thread *th, *pick = NULL;

		for (th = p->threads; th; th = th->next)
			if (th->ns_running && !th->ns_stop_req && (!pick || th->tid == p->pid))
				pick = th;
		if (pick)
			ns_stop(l, pick, true);
		return 0;
	}
	live_log(l, "interrupt op: resumed %d stopping %d", p->resumed, p->stopping);
	if (!p->resumed || p->stopping)
		return 0;
	p->interrupted = true;
	p->stopping = true;
	p->event = NULL;
	live_stop_others(l, p);
	live_maybe_finish(l, p);
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

int live_catch_syscalls(void *t, bool on, const uint32_t *nrs, size_t n)
{
	struct live *l = t;

	memset(l->sc_set, 0, sizeof(l->sc_set));
	for (size_t i = 0; i < n; i++)
		if (nrs[i] < LIVE_SYSCALLS)
			l->sc_set[nrs[i] / 8] |= (uint8_t)(1u << (nrs[i] % 8));
	l->sc_on = on;
	l->sc_all = on && !n;
	return 0;
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

static bool any_unseen(const struct proc *p)
{
	const struct proc_thread *th;

	for (th = p->threads; th; th = th->next)
		if (th->initial_stop || th->so || th->running)
			return true;
	return false;
}

int live_stop_all_sync(struct live *l, struct proc *p)
{
	pid_t pid = p->pid;

	/* A new child whose first stop has not been seen yet cannot be detached: wait. */
	if (!p->resumed && !p->stopping && !any_unseen(p))
		return 0;
	p->stopping = true;
	live_stop_others(l, p);
	for (;;) {
		struct proc_thread *th;
		int status;
		pid_t w;

		p = proc_find(&l->pt, pid);
		if (!p)
			return -ESRCH;
		if (!p->stopping)
			break;
		for (th = p->threads; th; th = th->next)
			if (th->running || th->initial_stop)
				break;
		if (!th) {
			live_maybe_finish(l, p);
			break;
		}
		if (live_replay_deferred(l))
			continue;
		w = waitpid(-1, &status, __WALL);
		if (w < 0)
			return -errno;
		live_handle_status(l, w, status);
	}
	/* The stop was for us, not for the client. */
	l->have_ready = false;
	return 0;
}
