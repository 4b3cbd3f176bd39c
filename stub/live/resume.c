/* Resuming the live target (vCont actions matched to threads, a still-valid pending stop
 * reported at once instead; non-stop mode: nonstop.c) and stopping it: interrupt
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

const struct rsp_resume_action *live_match_action(const struct rsp_resume_action *acts, size_t n,
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
void live_forget_skip_if_moved(struct proc_thread *th)
{
	struct user_regs_struct r;

	if (th->probe_skip && !ptr_getregs(th->tid, &r) && r.rip != th->probe_skip &&
	    r.rip != th->probe_skip + 1)
		th->probe_skip = 0;
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
		return live_ns_resume(l, p, acts, n);
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
		const struct rsp_resume_action *a = live_match_action(acts, n, th);

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
		live_forget_skip_if_moved(th);
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
		a = live_match_action(acts, n, th);
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
	if (l->non_stop)
		return live_ns_interrupt(l, p);
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
