/* The last-resort step-over (strategy INLINE): every other thread of the process is held
 * with PTRACE_INTERRUPT (statuses that are not those interrupts are deferred, handled later
 * in order), the original byte goes back, the thread single-steps it in place, the int3
 * returns and the others are released. Never used for syscalls (refused at insert). */
#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "stub/live/internal.h"
#include "stub/os/os.h"

static bool all_held(const struct proc *p, const struct proc_thread *self)
{
	for (const struct proc_thread *t = p->threads; t; t = t->next)
		if (t != self && t->running && !t->initial_stop && !t->deferred)
			return false;
	return true;
}

/* Stop every other running thread of th's process; statuses that are not our interrupts'
 * are kept for later (live_defer_status). */
static int hold_others(struct live *l, struct proc_thread *th)
{
	struct proc *p = th->proc;
	pid_t pid = p->pid;

	for (struct proc_thread *t = p->threads; t; t = t->next) {
		if (t == th || !t->running || t->initial_stop)
			continue;
		if (!t->interrupting && !ptr_interrupt(t->tid))
			t->interrupting = true;
	}
	while (!all_held(p, th)) {
		struct proc_thread *t;
		int status;
		pid_t w = waitpid(-1, &status, __WALL);

		if (w < 0)
			return -errno;
		t = proc_thread_find(&l->pt, w);
		if (t && t->proc == p && t->running && WIFSTOPPED(status) &&
		    (status >> 16) == PTRACE_EVENT_STOP) {
			t->interrupting = false;
			t->running = false;
			t->held = true;
			continue;
		}
		live_defer_status(l, w, status); /* stopped (or gone): handled later, in order */
		if (!proc_find(&l->pt, pid))
			return -ESRCH;
	}
	return 0;
}

static void release_others(struct live *l, struct proc *p)
{
	for (struct proc_thread *t = p->threads; t; t = t->next) {
		if (!t->held)
			continue;
		t->held = false;
		live_settle(l, t);
	}
}

/* Single-step the original instruction in place. Faults are kept for the normal path. */
static int step_in_place(struct live *l, struct proc_thread *th)
{
	for (;;) {
		int status;
		siginfo_t si;

		if (ptr_step(th->tid, 0))
			return -ESRCH;
		if (waitpid(th->tid, &status, __WALL) < 0)
			return -errno;
		if (!WIFSTOPPED(status)) {
			live_defer_status(l, th->tid, status);
			return -ESRCH;
		}
		if ((status >> 16) == PTRACE_EVENT_STOP) {
			th->interrupting = false; /* an earlier interrupt: not the step */
			continue;
		}
		if ((status >> 16) || WSTOPSIG(status) == SIGTRAP)
			return 0;
		if (ptr_getsiginfo(th->tid, &si))
			return -ESRCH;
		if (probe_is_fault(&si)) {
			live_defer_status(l, th->tid, status);
			return -EFAULT;
		}
		probe_hold_signal(l, th, &si);
	}
}

int probe_inline_step(struct live *l, struct proc_thread *th, struct probe_site *s,
		      struct user_regs_struct *r)
{
	uint8_t trap = X86_64_BREAKPOINT_BYTE;
	int rc = hold_others(l, th);

	if (!rc)
		rc = live_mem_write_raw(l, th->proc, s->addr, s->insn.bytes, 1);
	if (!rc)
		rc = ptr_setregs(th->tid, r);
	if (!rc)
		rc = step_in_place(l, th);
	if (!s->dead)
		live_mem_write_raw(l, th->proc, s->addr, &trap, 1);
	if (!rc)
		rc = ptr_getregs(th->tid, r);
	if (proc_find(&l->pt, th->proc->pid))
		release_others(l, th->proc);
	if (rc == -EFAULT)
		th->running = true; /* its fault status is deferred: handled as a signal stop */
	return rc;
}
