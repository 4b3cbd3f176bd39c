/* The event loop of the live target: the waitpid(-1, __WALL | WNOHANG) loop that classifies
 * each ptrace stop (traps, clones, forks, exec, exits, syscall-stops) and hands the client's
 * events to report.c (resume.c and nonstop.c start and stop threads). Threads are
 * PTRACE_SEIZEd, so stopping one is PTRACE_INTERRUPT (an EVENT_STOP), never a signal the
 * program could see. Never blocks except in live_stop_all_sync(). */
#include "stub/live/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <linux/kcmp.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/os/os.h"

unsigned long live_ptrace_options(bool exitkill)
{
	/* TRACESYSGOOD: syscall-stops (only under PTRACE_SYSCALL, QCatchSyscalls) are told
	 * from SIGTRAPs. */
	unsigned long o = PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK |
			  PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE | PTRACE_O_TRACESYSGOOD;

	return exitkill ? o | PTRACE_O_EXITKILL : o;
}

void live_wake(struct live *l)
{
	uint64_t one = 1;

	if (write(l->evfd, &one, sizeof(one)) < 0)
		live_log(l, "eventfd write: %s", strerror(errno));
	l->wake_pending = true;
}

int live_resume_thread(struct proc_thread *th, enum rsp_resume_kind kind, int sig)
{
	int rc;

	if (kind == RSP_RESUME_STEP || kind == RSP_RESUME_RANGE_STEP)
		rc = ptr_step(th->tid, sig);
	else if (th->proc->catch_sc)
		rc = ptr_syscall(th->tid, sig);
	else
		rc = ptr_cont(th->tid, sig);
	if (!rc) {
		th->running = true;
		th->signal_stop = false;
	}
	return rc;
}

/* Resume a thread the client did not see stop, the way it was going. */
static void re_resume(struct live *l, struct proc_thread *th, int sig)
{
	enum rsp_resume_kind k = th->resume;

	if (k != RSP_RESUME_STEP && k != RSP_RESUME_RANGE_STEP)
		k = RSP_RESUME_CONTINUE;
	if (live_resume_thread(th, k, sig))
		live_log(l, "resume %d failed", (int)th->tid);
}

void live_stop_others(struct live *l, struct proc *p)
{
	struct proc_thread *th;

	for (th = p->threads; th; th = th->next) {
		if (!th->running || th->interrupting)
			continue;
		if (!ptr_interrupt(th->tid))
			th->interrupting = true;
		live_log(l, "interrupt %d: %d", (int)th->tid, th->interrupting);
	}
}

void live_settle(struct live *l, struct proc_thread *th)
{
	struct proc *p = th->proc;

	if (th->so) {
		probe_step_continue(l, th);
		return;
	}
	if (l->non_stop && p == l->cur && !p->engine_owned) {
		if (live_client_runs(l, th)) {
			re_resume(l, th, 0);
			return;
		}
		if (th->nsigq)
			probe_requeue_signals(l, th);
		if (p->stopping)
			live_maybe_finish(l, p);
		else
			live_ns_report(l, th);
		return;
	}
	if (p->stopping || !p->resumed) {
		if (th->nsigq)
			probe_requeue_signals(l, th);
		live_maybe_finish(l, p);
		return;
	}
	re_resume(l, th, 0);
}

static bool in_range(struct proc_thread *th, taddr_t pc)
{
	return pc >= th->range_start && pc < th->range_end;
}

/* An int3 trap whose site holds the original byte again: the thread hit the breakpoint
 * while the others were being stopped and the client removed it since (the SIGTRAP was
 * still queued). Back the PC up as if the int3 had never run (gdbserver does the same).
 * Returns 1 when handled. */
static int stale_int3(struct live *l, struct proc_thread *th, struct user_regs_struct *r)
{
	taddr_t site = x86_64_trap_pc_to_site(r->rip);
	size_t done = 0;
	uint8_t b;

	if (live_mem_read_raw(l, th->proc, site, &b, 1, &done) || done != 1 || b == 0xcc)
		return 0;
	r->rip = site;
	if (ptr_setregs(th->tid, r))
		return 0;
	live_log(l, "stale int3 at 0x%llx in %d", (unsigned long long)site, (int)th->tid);
	live_settle(l, th);
	return 1;
}

/* Classify a SIGTRAP signal-delivery-stop. Returns 1 if the thread was silently
 * resumed. */
static int classify_trap(struct live *l, struct proc_thread *th, struct proc_pending *pe)
{
	struct user_regs_struct r;
	uint64_t dr6 = 0;
	siginfo_t si;
	int code = 0;

	memset(pe, 0, sizeof(*pe));
	pe->signo = SIGTRAP;
	pe->reason = RSP_REASON_SIGNAL;
	pe->addr = 0;
	if (!ptr_getsiginfo(th->tid, &si))
		code = si.si_code;
	if (ptr_getregs(th->tid, &r))
		return 0;
	if (th->proc == l->cur)
		hwdebug_take_dr6(th->tid, &dr6);
	if ((dr6 & 0xf) && hwdebug_hit(&l->hw, dr6, &pe->reason, &pe->addr))
		return 0;
	if ((code == SI_KERNEL || code == TRAP_BRKPT) && th->proc == l->cur &&
	    bkpt_is_inserted(l->bk, x86_64_trap_pc_to_site(r.rip))) {
		pe->reason = RSP_REASON_SWBREAK;
		pe->addr = x86_64_trap_pc_to_site(r.rip);
		return 0;
	}
	if (code == SI_KERNEL && th->proc == l->cur && th->resume != RSP_RESUME_STEP &&
	    stale_int3(l, th, &r))
		return 1;
	if (th->resume == RSP_RESUME_STEP || th->resume == RSP_RESUME_RANGE_STEP) {
		if (th->resume == RSP_RESUME_RANGE_STEP && in_range(th, r.rip)) {
			re_resume(l, th, 0);
			return 1;
		}
		pe->reason = RSP_REASON_TRACE;
		return 0;
	}
	return 0;
}

static void stash_orphan(struct live *l, pid_t tid, int status)
{
	if (l->norphans < sizeof(l->orphans) / sizeof(l->orphans[0])) {
		l->orphans[l->norphans].tid = tid;
		l->orphans[l->norphans].status = status;
		l->norphans++;
	}
}

static void replay_orphan(struct live *l, pid_t tid)
{
	size_t i;

	for (i = 0; i < l->norphans; i++) {
		if (l->orphans[i].tid == tid) {
			int status = l->orphans[i].status;

			l->orphans[i] = l->orphans[--l->norphans];
			live_handle_status(l, tid, status);
			return;
		}
	}
}

/* An unreported fork child at its first stop: take our int3s and debug
 * registers out of its copy of memory and let it go. A vfork child shares its
 * parent's memory: leave it alone. */
static void release_fork_child(struct live *l, struct proc *c)
{
	struct proc *par = proc_find(&l->pt, c->parent);
	struct bkpt_table *bk = par ? live_proc_bk(l, par) : l->bk;
	struct bkpt_mem mem;
	pid_t pid = c->pid, parent = c->parent;

	if (!c->vfork_child && bk && !live_open_mem(c)) {
		live_bkpt_mem(l, c, &mem);
		bkpt_restore_into(bk, &mem);
	}
	if (c->threads) {
		hwdebug_clear(c->threads->tid);
		ptr_detach(c->threads->tid, 0);
	}
	live_drop_proc(l, c);
	if (par)
		probe_proc_event(l, LIVE_EV_FORK, par, parent, pid, 0);
}

static void on_exec(struct live *l, struct proc_thread *th)
{
	struct proc *p = th->proc;
	struct proc_thread *o, *next;
	struct proc_pending pe = {.reason = RSP_REASON_EXEC, .signo = SIGTRAP};

	/* Every other thread is gone; the exec'ing one now has the leader's tid. */
	for (o = p->threads; o; o = next) {
		next = o->next;
		if (o != th) {
			probe_thread_gone(l, o);
			proc_thread_remove(&l->pt, o);
		}
	}
	live_open_mem(p);
	if (p == l->cur) {
		bkpt_forget_all(l->bk);
		hwdebug_init(&l->hw); /* the kernel flushes ptrace debug registers on exec */
		memset(l->allocs, 0, sizeof(l->allocs));
	}
	if (probe_on_exec(l, th))
		return; /* a vfork child kept for its parent's probes: released */
	if (l->feat.exec_events && p == l->cur) {
		live_reportable(l, th, &pe);
		return;
	}
	live_settle(l, th);
}

static void wait_first_stop(struct live *l, pid_t tid)
{
	int status;

	if (waitpid(tid, &status, __WALL) == tid)
		live_handle_status(l, tid, status);
}

/* A child made by clone(CLONE_VM) without CLONE_VFORK is reported as a fork but shares
 * the parent's memory, int3s included: "cleaning" it would clean the parent. */
static bool shares_vm(pid_t a, pid_t b)
{
	return syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0) == 0;
}

static void on_new_child(struct live *l, struct proc_thread *th, int ev)
{
	struct proc *p = th->proc, *c;
	unsigned long msg = 0;
	struct proc_thread *nt;
	struct proc_pending pe = {.signo = SIGTRAP};

	if (ptr_geteventmsg(th->tid, &msg))
		return;
	if (ev == PTRACE_EVENT_CLONE) {
		nt = proc_thread_add(&l->pt, p, (pid_t)msg);
		if (nt) {
			nt->initial_stop = true;
			nt->running = true;
			nt->resume = RSP_RESUME_CONTINUE;
			nt->ns_running = true; /* non-stop: a new thread runs (gdbserver's way) */
			replay_orphan(l, nt->tid);
		}
		live_settle(l, th);
		return;
	}
	c = proc_add(&l->pt, (pid_t)msg);
	if (c) {
		c->parent = p->pid;
		c->vfork_child = ev == PTRACE_EVENT_VFORK || shares_vm(p->pid, c->pid);
		c->fork_child = !(c->vfork_child ? l->feat.vfork_events : l->feat.fork_events);
		nt = proc_thread_add(&l->pt, c, (pid_t)msg);
		if (nt) {
			nt->initial_stop = true;
			nt->running = true;
		}
		if (c->fork_child && nt && probe_on_fork(l, p, c)) {
			/* Kept by the engine: followed, or a vfork child in probed memory. */
			replay_orphan(l, (pid_t)msg);
			live_settle(l, th);
			return;
		}
		if (!c->fork_child) {
			c->attached = p->attached;
			if (!live_open_mem(c) && !c->vfork_child && p == l->cur) {
				struct bkpt_mem mem;

				/* The child's copy of our int3s goes now: breakpoints belong to
				 * the parent; gdb's z0 for the child is then a no-op. */
				live_bkpt_mem(l, c, &mem);
				bkpt_restore_into(l->bk, &mem);
			}
		}
		replay_orphan(l, (pid_t)msg);
		/* The client reads the reported child next: its first stop must have been seen
		 * (gdbserver waits for it too). Bounded: the kernel stops a new child at once. */
		if (nt && proc_find(&l->pt, (pid_t)msg) && !c->fork_child && nt->initial_stop)
			wait_first_stop(l, nt->tid);
		if (c && proc_find(&l->pt, (pid_t)msg) && !c->fork_child) {
			pe.reason = ev == PTRACE_EVENT_VFORK ? RSP_REASON_VFORK : RSP_REASON_FORK;
			pe.addr = msg;
			live_reportable(l, th, &pe);
			return;
		}
	}
	live_settle(l, th);
}

static void on_exit_status(struct live *l, struct proc_thread *th, int status)
{
	struct proc *p = th->proc;
	struct rsp_stop st;
	bool report = p == l->cur;

	if (th->tid != p->pid) {
		probe_proc_event(l, LIVE_EV_THREAD_EXIT, p, th->tid, 0, status);
		probe_thread_gone(l, th);
		proc_thread_remove(&l->pt, th);
		live_maybe_finish(l, p);
		return;
	}
	probe_proc_event(l, LIVE_EV_EXIT, p, th->tid, 0, status);
	memset(&st, 0, sizeof(st));
	st.thread.pid = p->pid;
	st.thread.tid = p->pid;
	st.core = -1;
	if (WIFEXITED(status)) {
		st.kind = RSP_STOP_EXITED;
		st.status = WEXITSTATUS(status);
	} else {
		st.kind = RSP_STOP_TERMINATED;
		st.signo = WTERMSIG(status);
	}
	live_drop_proc(l, p);
	if (report)
		live_set_ready(l, &st);
}

/* A syscall-stop (PTRACE_SYSCALL, QCatchSyscalls): reported when its number is caught and
 * the client waits for the thread, else the thread goes on. */
static void on_syscall_stop(struct live *l, struct proc_thread *th)
{
	struct proc_pending pe = {.signo = SIGTRAP};
	struct user_regs_struct r;
	bool entry = false;
	uint64_t nr;

	/* A syscall-stop takes the place of a pending PTRACE_INTERRUPT's EVENT_STOP (the
	 * kernel's trap clears the pending stop trap): no second stop will come. */
	th->interrupting = false;
	if (!l->sc_on || th->proc != l->cur || !live_client_runs(l, th) ||
	    ptr_syscall_entry(th->tid, &entry) || ptr_getregs(th->tid, &r)) {
		live_settle(l, th);
		return;
	}
	nr = r.orig_rax;
	if (!l->sc_all && (nr >= LIVE_SYSCALLS || !(l->sc_set[nr / 8] & (1u << (nr % 8))))) {
		live_settle(l, th);
		return;
	}
	pe.reason = entry ? RSP_REASON_SYSCALL_ENTRY : RSP_REASON_SYSCALL_RETURN;
	pe.addr = nr;
	live_reportable(l, th, &pe);
}

static void on_event_stop(struct live *l, struct proc_thread *th, int sig)
{
	th->interrupting = false;
	/* A stale PTRACE_INTERRUPT (the thread stopped for something else first), or
	 * a group-stop nobody asked for: keep the thread going (unless stopping). */
	live_settle(l, th);
}

/* Signals delivered without a stop: QPassSignals, and every signal when no client looks. */
bool live_passes(const struct live *l, const struct proc *p, int sig)
{
	if (p->stopping)
		return false;
	if (l->headless || p->engine_owned)
		return true;
	return sig > 0 && sig < (int)sizeof(l->pass) && l->pass[sig];
}

void live_handle_status(struct live *l, pid_t tid, int status)
{
	struct proc_thread *th = proc_thread_find(&l->pt, tid);
	struct proc *p;
	struct proc_pending pe = {0};
	int sig, ev;

	live_log(l, "status %d: 0x%x%s", (int)tid, status, th ? "" : " (unknown)");
	if (th)
		th->deferred = false;
	if (!th) {
		if (WIFSTOPPED(status))
			stash_orphan(l, tid, status);
		return;
	}
	p = th->proc;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		on_exit_status(l, th, status);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	sig = WSTOPSIG(status);
	ev = status >> 16;
	th->running = false;
	th->signal_stop = false;
	if (th->so && probe_on_step_stop(l, th, status))
		return;
	if (th->initial_stop) {
		th->initial_stop = false;
		if (p->fork_child) {
			release_fork_child(l, p);
			return;
		}
		if (p == l->cur && hwdebug_any(&l->hw))
			hwdebug_apply(&l->hw, tid);
		if (ev == PTRACE_EVENT_STOP) {
			th->interrupting = false; /* attach's PTRACE_INTERRUPT, if any, is done */
			if (p != l->cur && !p->engine_owned) {
				live_maybe_finish(l, p);
				return;
			}
			live_settle(l, th);
			return;
		}
	}
	if (ev == 0 && sig == (SIGTRAP | 0x80)) {
		on_syscall_stop(l, th);
		return;
	}
	switch (ev) {
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		on_new_child(l, th, ev);
		return;
	case PTRACE_EVENT_EXEC:
		on_exec(l, th);
		return;
	case PTRACE_EVENT_VFORK_DONE:
		/* gdb removed its breakpoints for the vfork child's lifetime and waits for this
		 * to put them back. */
		if (l->feat.vfork_events && p == l->cur && live_client_runs(l, th)) {
			pe.reason = RSP_REASON_VFORKDONE;
			pe.signo = SIGTRAP;
			pe.addr = 0;
			live_reportable(l, th, &pe);
			return;
		}
		live_settle(l, th);
		return;
	case PTRACE_EVENT_STOP:
		on_event_stop(l, th, sig);
		return;
	case 0:
		break;
	default:
		live_settle(l, th);
		return;
	}
	th->signal_stop = true;
	th->last_sig = sig;
	if (sig == SIGTRAP) {
		if (probe_on_trap(l, th) || classify_trap(l, th, &pe))
			return;
		if (pe.reason == RSP_REASON_SIGNAL && live_passes(l, p, sig)) {
			re_resume(l, th, sig); /* the program's own SIGTRAP, no client */
			return;
		}
	} else {
		if (live_passes(l, p, sig)) {
			re_resume(l, th, sig);
			return;
		}
		pe.reason = RSP_REASON_SIGNAL;
		pe.signo = sig;
		pe.addr = 0;
	}
	live_reportable(l, th, &pe);
}

static void drain_fds(struct live *l)
{
	struct signalfd_siginfo si[8];
	uint64_t v;

	while (read(l->sigfd, si, sizeof(si)) > 0)
		;
	/* Only live_wake writes the eventfd: skip the read (a syscall per hit) otherwise. */
	if (l->wake_pending)
		while (read(l->evfd, &v, sizeof(v)) > 0)
			;
	l->wake_pending = false;
}

void live_defer_status(struct live *l, pid_t tid, int status)
{
	struct proc_thread *th = proc_thread_find(&l->pt, tid);

	if (l->ndeferred == LIVE_DEFERRED) {
		live_log(l, "deferred status queue full: %d handled now", (int)tid);
		live_handle_status(l, tid, status);
		return;
	}
	if (th)
		th->deferred = true;
	l->deferred[l->ndeferred].tid = tid;
	l->deferred[l->ndeferred].status = status;
	l->ndeferred++;
}

/* Handle the oldest deferred status; false if there is none. */
bool live_replay_deferred(struct live *l)
{
	pid_t tid;
	int status;

	if (!l->ndeferred)
		return false;
	tid = l->deferred[0].tid;
	status = l->deferred[0].status;
	l->ndeferred--;
	memmove(l->deferred, l->deferred + 1, l->ndeferred * sizeof(l->deferred[0]));
	live_handle_status(l, tid, status);
	return true;
}

/* Statuses handled per live_handle_events call: threads hitting probes without pause can
 * keep waitpid busy forever, and the caller's other inputs (a client's packets and ^C, a
 * tracer's quit signal) must still be read. Over budget, the event fd is made readable again
 * and the rest waits for the next call. */
#define LIVE_EVENT_BUDGET 256

int live_handle_events(struct live *l, struct rsp_stop *stop)
{
	unsigned budget = LIVE_EVENT_BUDGET;

	drain_fds(l);
	for (;;) {
		int status;
		pid_t w = 0;

		if (l->have_ready) {
			*stop = l->ready;
			l->have_ready = false;
			return 1;
		}
		if (l->nsq_len) {
			*stop = l->nsq[l->nsq_head];
			l->nsq_head = (l->nsq_head + 1) % LIVE_NSQ;
			l->nsq_len--;
			return 1;
		}
		if (!budget--) {
			live_wake(l);
			return 0;
		}
		if (live_replay_deferred(l))
			continue;
		if (l->headless) {
			/* Every status waiting now, then each handled in turn: a thread that
			 * traps again at once waits behind those already stopped (waitpid(-1)
			 * alone hands out the same low-numbered threads again and again). */
			size_t got = 0;

			while (l->ndeferred < LIVE_DEFERRED &&
			       (w = waitpid(-1, &status, __WALL | WNOHANG)) > 0) {
				live_defer_status(l, w, status);
				got++;
			}
			if (got)
				continue;
		} else {
			w = waitpid(-1, &status, __WALL | WNOHANG);
			if (w > 0) {
				live_handle_status(l, w, status);
				continue;
			}
		}
		return w < 0 && errno != ECHILD ? -errno : 0;
	}
}
