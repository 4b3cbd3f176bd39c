/* Ending debugged processes: kill, detach (every int3 out, a SIGTRAP of ours still queued
 * taken back, one somebody sent delivered), releasing them all at exit, and qAttached.
 * Blocking waits here are bounded by the kernel delivering the stop we caused. */
#include "stub/live/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/os/os.h"

static struct proc *proc_of(struct live *l, int64_t pid)
{
	return pid > 0 ? proc_find(&l->pt, (pid_t)pid) : l->cur;
}

int live_attached(void *t, int64_t pid, bool *was_attached)
{
	struct live *l = t;
	struct proc *p = proc_of(l, pid);

	if (!p)
		return -ESRCH;
	*was_attached = p->attached;
	return 0;
}

static void kill_proc(struct live *l, struct proc *p)
{
	struct proc_thread *th;
	int status;

	kill(p->pid, SIGKILL);
	/* Reap each thread; the leader's status comes last, once the group is empty.
	 */
	for (th = p->threads; th; th = th->next)
		if (th->tid != p->pid)
			while (waitpid(th->tid, &status, __WALL) > 0 && WIFSTOPPED(status))
				;
	while (waitpid(p->pid, &status, __WALL) > 0 && WIFSTOPPED(status))
		;
	live_drop_proc(l, p);
}

int live_kill(void *t, int64_t pid)
{
	struct live *l = t;
	struct proc *p;

	if (pid == -1) {
		while (l->pt.procs)
			kill_proc(l, l->pt.procs);
		l->have_last = false;
		return 0;
	}
	p = proc_of(l, pid);
	if (!p)
		return -ESRCH;
	kill_proc(l, p);
	if (!l->cur)
		l->have_last = false;
	return 0;
}

/* A fork child can be reported (and detached by gdb) before its first stop has come;
 * ptrace detaches only a stopped tracee, so collect those stops first. */
static void collect_first_stops(struct live *l, pid_t pid)
{
	for (;;) {
		struct proc *p = proc_find(&l->pt, pid);
		struct proc_thread *th = p ? p->threads : NULL;
		int status;
		pid_t tid;

		while (th && !th->initial_stop)
			th = th->next;
		if (!th)
			return;
		tid = th->tid;
		if (waitpid(tid, &status, __WALL) != tid)
			return;
		live_handle_status(l, tid, status);
	}
}

/* A PTRACE_INTERRUPT stop is taken before the signals queued for the thread (the kernel runs
 * jobctl traps first), so the SIGTRAP of an int3 it ran just before can still be queued: once
 * detached it would kill the program (e2e 920 saw it about once in 200 detaches). With the
 * code already restored, let the thread dequeue it while still traced and drop it; an int3
 * of the program's own (still there at rip - 1) or a SIGTRAP sent to the thread keeps its
 * signal (delivered by the detach with its siginfo). Returns the signal to
 * deliver at the detach, or -1 when the thread is gone. */
static int take_queued_trap(struct live *l, const struct bkpt_mem *mem, struct proc_thread *th)
{
	struct user_regs_struct r;
	uint64_t pend;
	uint8_t byte;
	siginfo_t si;
	int status;

	if (procfs_thread_sigpending(th->proc->pid, th->tid, &pend) ||
	    !(pend & (1ull << (SIGTRAP - 1))) || ptr_cont(th->tid, 0))
		return 0;
	for (;;) {
		if (waitpid(th->tid, &status, __WALL) < 0 || !WIFSTOPPED(status))
			return -1;
		if (status >> 16) { /* an event stop on the way: go on to the signal */
			if (ptr_cont(th->tid, 0))
				return -1;
			continue;
		}
		if (WSTOPSIG(status) != SIGTRAP)
			return WSTOPSIG(status);
		if (ptr_getsiginfo(th->tid, &si))
			return 0;
		if (si.si_code == TRAP_TRACE || si.si_code == TRAP_BRKPT ||
		    si.si_code == TRAP_HWBKPT) {
			live_log(l, "detach %d: queued step/debug trap dropped", (int)th->tid);
			return 0; /* a leftover of our stepping or debug registers */
		}
		if (si.si_code != SI_KERNEL || ptr_getregs(th->tid, &r))
			return SIGTRAP; /* sent by someone (kill, tgkill): the program's own */
		if (mem->read(mem->ctx, r.rip - 1, &byte, 1) == 0 && byte == 0xcc)
			return SIGTRAP;
		r.rip--; /* ours, now gone: run the original instruction again */
		ptr_setregs(th->tid, &r);
		live_log(l, "detach %d: queued SIGTRAP of int3 at 0x%llx dropped", (int)th->tid,
			 (unsigned long long)r.rip);
		return 0;
	}
}

static int detach_proc(struct live *l, struct proc *p)
{
	struct proc_thread *th;
	struct bkpt_mem mem;
	pid_t pid = p->pid;
	int rc;

	collect_first_stops(l, pid);
	p = proc_find(&l->pt, pid);
	if (!p || probe_keep_on_detach(l, p))
		return 0;
	rc = live_stop_all_sync(l, p);
	if (rc)
		return rc == -ESRCH ? 0 : rc;
	p = proc_find(&l->pt, pid);
	if (!p)
		return 0;
	live_bkpt_mem(l, p, &mem);
	probe_before_detach(l, p);
	if (p == l->cur)
		rc = bkpt_remove_all(l->bk, &mem);
	else if (!p->vfork_child)
		rc = bkpt_restore_into(l->bk, &mem);
	for (th = p->threads; th; th = th->next) {
		int sig = 0;

		hwdebug_clear(th->tid);
		if (th->has_pending && th->pending.reason == RSP_REASON_SWBREAK) {
			struct user_regs_struct r;

			/* The int3 is gone: run the original instruction again. */
			if (!ptr_getregs(th->tid, &r) && r.rip == th->pending.addr + 1) {
				r.rip = th->pending.addr;
				ptr_setregs(th->tid, &r);
			}
		} else if (th->has_pending && th->pending.reason == RSP_REASON_SIGNAL) {
			sig = th->pending.signo;
		}
		if (!sig)
			sig = take_queued_trap(l, &mem, th);
		if (sig >= 0)
			ptr_detach(th->tid, sig);
	}
	live_drop_proc(l, p);
	return rc;
}

int live_detach(void *t, int64_t pid)
{
	struct live *l = t;
	struct proc *p;
	int rc = 0;

	if (pid == -1) {
		while (l->pt.procs) {
			int r = detach_proc(l, l->pt.procs);

			if (r && !rc)
				rc = r;
		}
		l->have_last = false;
		return rc;
	}
	p = proc_of(l, pid);
	if (!p)
		return -ESRCH;
	rc = detach_proc(l, p);
	if (!l->cur)
		l->have_last = false;
	return rc;
}

void live_release_all(struct live *l)
{
	while (l->pt.procs) {
		struct proc *p = l->pt.procs;

		if (p->attached)
			detach_proc(l, p);
		else
			kill_proc(l, p);
	}
}
