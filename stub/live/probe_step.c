/* The per-hit path of internal probes (DESIGN.md "Data flow of one tracepoint hit"): a
 * SIGTRAP at a probed int3 fetches the registers once, finds the site by rip - 1, runs the
 * owners, and steps over the displaced instruction without removing the int3: emulated
 * and continued at once, or single-stepped in its scratch slot and fixed up, or (last
 * resort, stub/probe_inline.c) inline with the other threads held. Only the hitting thread
 * stops. Signals that
 * arrive during a step-over are held on the thread and delivered after it. No malloc and
 * no formatted logging here unless --debug. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stub/live/internal.h"
#include "stub/os/os.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Memory writes of an emulation or fixup (a push, a return address): the stack is
 * writable, so process_vm_writev; /proc/PID/mem otherwise. */
static int apply_writes(struct live *l, struct proc *p, const struct x86_64_memwrite *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct iovec lo = {.iov_base = (void *)w[i].bytes, .iov_len = w[i].len};
		struct iovec re = {.iov_base = (void *)(uintptr_t)w[i].addr, .iov_len = w[i].len};
		int rc;

		if (process_vm_writev(p->pid, &lo, 1, &re, 1, 0) == (ssize_t)w[i].len)
			continue;
		rc = live_mem_write_raw(l, p, w[i].addr, w[i].bytes, w[i].len);
		if (rc)
			return rc;
	}
	return 0;
}

/* The memory fast path of an out-of-line site that is a plain mov to or from memory: the
 * access done with process_vm_readv/writev (which respect page protections, unlike
 * /proc/PID/mem), the registers updated, no second stop. False when the memory is not
 * accessible (the real instruction must run and fault) or hardware watchpoints are set
 * (they must see the access). */
static bool mem_fast(struct live *l, struct proc_thread *th, struct probe_site *s,
		     struct user_regs_struct *r)
{
	struct x86_64_memwrite acc;
	uint8_t buf[8];
	struct iovec lo, re;
	bool store;

	if (hwdebug_any(&l->hw) || x86_64_insn_mem_plan(&s->insn, r, &acc, &store))
		return false;
	lo.iov_base = store ? acc.bytes : buf;
	lo.iov_len = acc.len;
	re.iov_base = (void *)(uintptr_t)acc.addr;
	re.iov_len = acc.len;
	if ((store ? process_vm_writev(th->proc->pid, &lo, 1, &re, 1, 0)
		   : process_vm_readv(th->proc->pid, &lo, 1, &re, 1, 0)) != (ssize_t)acc.len)
		return false;
	x86_64_insn_mem_finish(&s->insn, r, buf);
	return ptr_setregs(th->tid, r) == 0;
}

/* ---- held signals ---- */

/* Give a held signal back to the kernel as pending for the thread. rt_tgsigqueueinfo
 * keeps the original siginfo where the kernel lets a tracer forge it (si_code < 0 but not
 * SI_TKILL); otherwise tgkill (si_pid then reads as the stub). */
static void requeue(struct proc_thread *th, siginfo_t *si)
{
	if (si->si_code < 0 && si->si_code != SI_TKILL &&
	    !syscall(SYS_rt_tgsigqueueinfo, th->proc->pid, th->tid, si->si_signo, si))
		return;
	syscall(SYS_tgkill, th->proc->pid, th->tid, si->si_signo);
}

void probe_requeue_signals(struct live *l, struct proc_thread *th)
{
	for (unsigned i = 0; i < th->nsigq; i++)
		requeue(th, &th->sigq[i]);
	th->nsigq = 0;
}

bool probe_is_fault(const siginfo_t *si)
{
	switch (si->si_signo) {
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
		return si->si_code > 0;
	default:
		return false;
	}
}

void probe_thread_gone(struct live *l, struct proc_thread *th)
{
	if (th->so == PROC_SO_OOL && th->so_site)
		probe_site_unbusy(l, th->proc, th->so_site);
	th->so = PROC_SO_NONE;
	th->so_site = NULL;
	th->ws_fn = NULL;
	th->probe_skip = 0;
	probe_requeue_signals(l, th);
}

/* ---- after the displaced instruction ran ---- */

static void after_stepover(struct live *l, struct proc_thread *th, struct user_regs_struct *r);

static bool client_stepping(const struct live *l, const struct proc_thread *th)
{
	bool runs = l->non_stop ? th->ns_running : th->proc->resumed;

	return !l->headless && runs &&
	       (th->resume == RSP_RESUME_STEP || th->resume == RSP_RESUME_RANGE_STEP);
}

static void report(struct live *l, struct proc_thread *th, enum rsp_stop_reason why, int sig,
		   taddr_t addr)
{
	struct proc_pending pe = {.reason = why, .signo = sig, .addr = addr};

	live_reportable(l, th, &pe);
}

/* The first held signal is delivered with its own siginfo, the others are pending again in
 * the kernel (delivered right after, in order). One the client must see is reported. */
static void deliver_held(struct live *l, struct proc_thread *th)
{
	siginfo_t first = th->sigq[0];

	memmove(th->sigq, th->sigq + 1, (th->nsigq - 1) * sizeof(th->sigq[0]));
	th->nsigq--;
	probe_requeue_signals(l, th);
	ptr_setsiginfo(th->tid, &first);
	if (!live_passes(l, th->proc, first.si_signo)) {
		report(l, th, RSP_REASON_SIGNAL, first.si_signo, 0);
		return;
	}
	if (live_resume_thread(th, RSP_RESUME_CONTINUE, first.si_signo))
		live_log(l, "resume %d with signal %d failed", (int)th->tid, first.si_signo);
}

/* The step-over is complete (registers in the kernel are *r): what the thread does next. */
static void finish(struct live *l, struct proc_thread *th, struct user_regs_struct *r)
{
	if (th->so_watch) {
		struct proc_pending pe = {0};
		uint64_t dr6 = 0;

		th->so_watch = false;
		hwdebug_take_dr6(th->tid, &dr6);
		if (hwdebug_hit(&l->hw, dr6, &pe.reason, &pe.addr)) {
			pe.signo = SIGTRAP;
			probe_requeue_signals(l, th);
			live_reportable(l, th, &pe);
			return;
		}
	}
	if (client_stepping(l, th)) {
		probe_requeue_signals(l, th);
		if (th->resume == RSP_RESUME_RANGE_STEP && r->rip >= th->range_start &&
		    r->rip < th->range_end && !th->proc->stopping) {
			live_resume_thread(th, RSP_RESUME_RANGE_STEP, 0);
			return;
		}
		report(l, th, RSP_REASON_TRACE, SIGTRAP, 0);
		return;
	}
	if (th->nsigq && live_client_runs(l, th)) {
		deliver_held(l, th);
		return;
	}
	live_settle(l, th);
}

/* ---- owners ---- */

static bool owners_wanted(const struct live *l, const struct proc *p)
{
	return !p->vfork_keep || l->follow_forks;
}

/* Run the owners of s for a hit of th. *stepper gets the first owner asking PROBE_STEP
 * (stepper NULL: such requests are ignored). */
static enum probe_verdict call_owners(struct live *l, struct proc_thread *th, struct probe_site *s,
				      struct user_regs_struct *r, struct probe_owner *stepper)
{
	struct probe_hit h = {.pid = th->proc->pid,
			      .tid = th->tid,
			      .addr = s->addr,
			      .regs = r,
			      .time_ns = now_ns()};
	enum probe_verdict v = PROBE_RESUME;
	struct proc_thread *prev = l->hit_th;

	if (!owners_wanted(l, th->proc))
		return v;
	l->hit_th = th;
	/* By index, re-reading the array: a callback may add owners (realloc) or remove them
	 * (holes, compacted when the site is no longer busy). */
	for (unsigned i = 0; i < s->nowners; i++) {
		struct probe_owner o = s->owners[i];
		enum probe_verdict ov;

		if (!o.fn)
			continue;
		ov = o.fn(o.ctx, &h);
		if (ov == PROBE_STOP_ALL) {
			v = PROBE_STOP_ALL;
		} else if (ov == PROBE_STEP && stepper && !stepper->fn && v == PROBE_RESUME) {
			*stepper = o;
			v = PROBE_STEP;
		}
	}
	l->hit_th = prev;
	return v;
}

/* ---- stepping over ---- */

static int step_thread(struct live *l, struct proc_thread *th)
{
	int rc = live_resume_thread(th, RSP_RESUME_STEP, 0);

	if (rc)
		live_log(l, "step %d: %s", (int)th->tid, strerror(-rc));
	return rc;
}

/* Step th over the displaced instruction of s; regs *r have rip == s->addr and are not yet
 * written. Consumes one busy reference of s. */
static void step_over(struct live *l, struct proc_thread *th, struct probe_site *s,
		      struct user_regs_struct *r)
{
	struct x86_64_memwrite w[2];
	size_t nw = 0;

	switch (s->strategy) {
	case X86_64_STEP_EMULATE:
		if (x86_64_insn_emulate(&s->insn, r, w, &nw) || apply_writes(l, th->proc, w, nw) ||
		    ptr_setregs(th->tid, r)) {
			live_log(l, "emulate at 0x%llx failed", (unsigned long long)s->addr);
			break;
		}
		l->emulated++;
		probe_site_unbusy(l, th->proc, s);
		after_stepover(l, th, r);
		return;
	case X86_64_STEP_OUT_OF_LINE:
		if (mem_fast(l, th, s, r)) {
			l->emulated++;
			probe_site_unbusy(l, th->proc, s);
			after_stepover(l, th, r);
			return;
		}
		r->rip = s->slot;
		if (ptr_setregs(th->tid, r))
			break;
		th->so = PROC_SO_OOL;
		th->so_site = s; /* keeps the busy reference until the fixup */
		if (step_thread(l, th)) {
			th->so = PROC_SO_NONE;
			th->so_site = NULL;
			break;
		}
		return;
	case X86_64_STEP_INLINE:
		if (probe_inline_step(l, th, s, r))
			break;
		probe_site_unbusy(l, th->proc, s);
		after_stepover(l, th, r);
		return;
	}
	/* The thread is gone or its registers cannot be written: its exit status follows. */
	probe_site_unbusy(l, th->proc, s);
}

static void arrive(struct live *l, struct proc_thread *th, struct probe_site *s,
		   struct user_regs_struct *r, bool nested);

/* Landing on another probed site while stepping: its owners run (no nested stepping) and it
 * is stepped over instead of executing its int3. Returns false if not a site. */
static bool step_onto_site(struct live *l, struct proc_thread *th, struct user_regs_struct *r)
{
	struct probe_space *ps = probe_space_of(l, th->proc);
	struct probe_site *s = ps ? probe_site_find(ps, r->rip) : NULL;

	if (!s)
		return false;
	arrive(l, th, s, r, true);
	return true;
}

/* While-stepping: the owner that asked for it sees each instruction's result. */
static void while_step(struct live *l, struct proc_thread *th, struct user_regs_struct *r)
{
	struct probe_hit h = {.pid = th->proc->pid,
			      .tid = th->tid,
			      .addr = th->ws_site,
			      .regs = r,
			      .time_ns = now_ns(),
			      .step = ++th->ws_step};
	struct user_regs_struct orig = *r;
	struct proc_thread *prev = l->hit_th;
	enum probe_verdict v;
	struct bkpt_table *bk;

	l->hit_th = th;
	v = th->ws_fn(th->ws_ctx, &h);
	l->hit_th = prev;
	if (memcmp(&orig, r, sizeof(orig)))
		ptr_setregs(th->tid, r);
	if (v != PROBE_STEP || th->proc->stopping) {
		th->ws_fn = NULL;
		if (v == PROBE_STOP_ALL) {
			probe_requeue_signals(l, th);
			report(l, th, RSP_REASON_TRACE, SIGTRAP, 0);
			return;
		}
		finish(l, th, r);
		return;
	}
	if (step_onto_site(l, th, r))
		return;
	bk = live_proc_bk(l, th->proc);
	if (bk && bkpt_is_inserted(bk, r->rip)) {
		/* A client breakpoint ends the stepping: let it trap as usual. */
		th->ws_fn = NULL;
		finish(l, th, r);
		return;
	}
	th->so = PROC_SO_WSTEP;
	if (step_thread(l, th))
		th->so = PROC_SO_NONE;
}

static void after_stepover(struct live *l, struct proc_thread *th, struct user_regs_struct *r)
{
	if (th->ws_fn) {
		while_step(l, th, r);
		return;
	}
	finish(l, th, r);
}

/* ---- the hit ---- */

/* True if the site is also a client's breakpoint. */
static bool user_owned(struct live *l, struct proc_thread *th, taddr_t addr)
{
	return th->proc == l->cur && (bkpt_owners(l->bk, addr) & BKPT_OWNER_USER);
}

/* Reported as the breakpoint stop it is, with pc = site + 1 as after the int3 (what the
 * report path expects); when the thread runs the int3 again the hit does not count twice. */
static void stop_at_site(struct live *l, struct proc_thread *th, struct probe_site *s,
			 struct user_regs_struct *r)
{
	struct proc_pending pe = {
		.reason = RSP_REASON_SWBREAK, .signo = SIGTRAP, .addr = s->addr, .probe = true};

	th->ws_fn = NULL;
	if (r->rip == s->addr)
		r->rip = s->addr + 1;
	ptr_setregs(th->tid, r);
	th->probe_skip = s->addr;
	probe_site_unbusy(l, th->proc, s);
	live_reportable(l, th, &pe);
}

/* th is at site s: regs *r with rip == s->addr, not written yet. Run the owners, then stop,
 * step over or start while-stepping. nested: reached while stepping (no new stepping). */
static void arrive(struct live *l, struct proc_thread *th, struct probe_site *s,
		   struct user_regs_struct *r, bool nested)
{
	struct probe_owner stepper = {0};
	struct user_regs_struct orig = *r;
	enum probe_verdict v;

	s->busy++;
	if (th->probe_skip == s->addr) {
		/* This arrival was counted and reported; the client steps over it now. */
		th->probe_skip = 0;
		step_over(l, th, s, r);
		return;
	}
	v = call_owners(l, th, s, r, nested ? NULL : &stepper);
	if (v == PROBE_STOP_ALL || user_owned(l, th, s->addr)) {
		stop_at_site(l, th, s, r);
		return;
	}
	if (memcmp(&orig, r, sizeof(orig)) && r->rip != s->addr) {
		ptr_setregs(th->tid, r); /* a callback moved the thread elsewhere */
		probe_site_unbusy(l, th->proc, s);
		after_stepover(l, th, r);
		return;
	}
	if (v == PROBE_STEP) {
		th->ws_fn = stepper.fn;
		th->ws_ctx = stepper.ctx;
		th->ws_step = 0;
		th->ws_site = s->addr;
	}
	step_over(l, th, s, r);
}

/* The int3 of a site removed since the thread ran into it (the trap was still queued): as
 * if it had never run. Only for processes other than the client's (events.c handles that
 * one, breakpoints of every owner). */
static int stale_trap(struct live *l, struct proc_thread *th, struct user_regs_struct *r)
{
	siginfo_t si;
	size_t done = 0;
	uint8_t b;

	if (th->proc == l->cur || ptr_getsiginfo(th->tid, &si) || si.si_code != SI_KERNEL ||
	    live_mem_read_raw(l, th->proc, r->rip - 1, &b, 1, &done) || done != 1 ||
	    b == X86_64_BREAKPOINT_BYTE)
		return 0;
	r->rip--;
	if (ptr_setregs(th->tid, r))
		return 0;
	live_settle(l, th);
	return 1;
}

int probe_on_trap(struct live *l, struct proc_thread *th)
{
	struct probe_space *ps = probe_space_of(l, th->proc);
	struct user_regs_struct r;
	struct probe_site *s;
	siginfo_t si;

	if (!ps || ptr_getregs(th->tid, &r))
		return 0;
	s = probe_site_find(ps, r.rip - 1);
	if (!s)
		return stale_trap(l, th, &r);
	/* Only the int3 itself (SI_KERNEL) counts. site + 1 is inside the displaced
	 * instruction unless it is one byte long: then a single step, a debug-register trap
	 * or a sent SIGTRAP can end there too and siginfo must tell. */
	if ((s->insn.len == 1 || th->resume == RSP_RESUME_STEP ||
	     th->resume == RSP_RESUME_RANGE_STEP) &&
	    (ptr_getsiginfo(th->tid, &si) || si.si_code != SI_KERNEL))
		return 0;
	r.rip = s->addr;
	arrive(l, th, s, &r, false);
	return 1;
}

/* ---- stops during a step-over ---- */

void probe_hold_signal(struct live *l, struct proc_thread *th, const siginfo_t *si)
{
	if (th->nsigq < PROC_SIGQ_MAX)
		th->sigq[th->nsigq++] = *si;
	else
		live_log(l, "thread %d: more than %d signals during a step-over, %d dropped",
			 (int)th->tid, PROC_SIGQ_MAX, si->si_signo);
}

/* The displaced instruction faulted in its slot: the fault is the site's (pc back there),
 * handled as an ordinary signal stop. */
static void fault_in_slot(struct live *l, struct proc_thread *th, int sig)
{
	struct probe_site *s = th->so_site;
	struct user_regs_struct r;

	if (!ptr_getregs(th->tid, &r) && r.rip == s->slot) {
		r.rip = s->addr;
		ptr_setregs(th->tid, &r);
	}
	th->so = PROC_SO_NONE;
	th->so_site = NULL;
	th->ws_fn = NULL;
	probe_site_unbusy(l, th->proc, s);
	probe_requeue_signals(l, th);
	if (live_passes(l, th->proc, sig))
		live_resume_thread(th, RSP_RESUME_CONTINUE, sig);
	else
		report(l, th, RSP_REASON_SIGNAL, sig, 0);
}

static void ool_done(struct live *l, struct proc_thread *th, struct user_regs_struct *r)
{
	struct probe_site *s = th->so_site;
	struct x86_64_memwrite w[2];
	size_t nw = 0;
	int rc = x86_64_insn_fixup(&s->insn, s->slot, r, w, &nw);

	if (rc == 1) { /* a rep iteration: step the copy again */
		step_thread(l, th);
		return;
	}
	if (th->proc == l->cur && hwdebug_any(&l->hw))
		th->so_watch = true;
	if (rc || apply_writes(l, th->proc, w, nw) || ptr_setregs(th->tid, r))
		live_log(l, "fixup at 0x%llx failed", (unsigned long long)s->addr);
	th->so = PROC_SO_NONE;
	th->so_site = NULL;
	l->steps++;
	probe_site_unbusy(l, th->proc, s);
	after_stepover(l, th, r);
}

/* SIGTRAP while stepping: the step is done, or a SIGTRAP was sent meanwhile. */
static void step_trap(struct live *l, struct proc_thread *th)
{
	struct user_regs_struct r;
	siginfo_t si;

	if (ptr_getregs(th->tid, &r))
		return; /* gone: its exit status follows */
	/* rip still on the copy: not executed yet (a sent SIGTRAP) or one rep iteration.
	 * In place (while-stepping) rip may legitimately stay put. */
	if ((th->so == PROC_SO_WSTEP || r.rip == th->so_site->slot) &&
	    !ptr_getsiginfo(th->tid, &si) && si.si_code <= 0) {
		probe_hold_signal(l, th, &si);
		step_thread(l, th);
		return;
	}
	if (th->so == PROC_SO_OOL) {
		ool_done(l, th, &r);
		return;
	}
	th->so = PROC_SO_NONE;
	while_step(l, th, &r);
}

int probe_on_step_stop(struct live *l, struct proc_thread *th, int status)
{
	int sig = WSTOPSIG(status), ev = status >> 16;
	siginfo_t si;

	if (ev == PTRACE_EVENT_STOP) {
		th->interrupting = false;
		probe_step_continue(l, th);
		return 1;
	}
	if (ev)
		return 0; /* fork/clone/exec in a stepped syscall: events.c, then live_settle */
	th->signal_stop = true;
	th->last_sig = sig;
	if (sig == SIGTRAP) {
		step_trap(l, th);
		return 1;
	}
	if (ptr_getsiginfo(th->tid, &si)) {
		memset(&si, 0, sizeof(si));
		si.si_signo = sig;
		si.si_code = SI_USER;
	}
	if (probe_is_fault(&si)) {
		if (th->so == PROC_SO_OOL) {
			fault_in_slot(l, th, sig);
			return 1;
		}
		th->so = PROC_SO_NONE; /* while-stepping: the fault is where it happened */
		th->ws_fn = NULL;
		return 0;
	}
	probe_hold_signal(l, th, &si);
	step_thread(l, th);
	return 1;
}

void probe_step_continue(struct live *l, struct proc_thread *th)
{
	step_thread(l, th);
}
