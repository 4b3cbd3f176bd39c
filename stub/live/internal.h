/* Internals shared by the live target's files. Not for other folders: they use
 * stub/live/live.h.
 *
 *   live.c         the ops table assembled, lifetime
 *   ops.c          registers, memory, points, threads, signals, monitor commands
 *   ops_info.c     qXfer objects, process facts, host I/O
 *   inject.c       syscalls injected on a stopped thread (mmap/munmap for lldb)
 *   floor.c        log, thread lookup, raw memory, dropping a gone process (calls no op)
 *   events.c       the event loop: wait statuses to stops
 *   report.c       a thread's event to the stop the client gets (all-stop, non-stop)
 *   resume.c nonstop.c   resuming and stopping: all-stop, and non-stop per thread
 *   launch.c       launch, attach, launch settings
 *   detach.c       kill, detach, release at exit
 *   proc.c bkpt.c hwdebug.c hwprobe.c   processes/threads, int3 sites, debug registers
 *   probe*.c       the probe engine: sites with owners, step-over, scratch pages, libraries
 *
 * events.c and probe_step.c call each other (a stop settles a step-over, which resumes
 * through the loop): the one real recursion, kept inside this folder. */
#ifndef TRACESTUB_STUB_LIVE_INTERNAL_H
#define TRACESTUB_STUB_LIVE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/insn.h"
#include "arch/x86_64/regs.h"
#include "stub/live/bkpt.h"
#include "stub/live/hwdebug.h"
#include "stub/live/live.h"
#include "stub/live/proc.h"

#define LIVE_MAX_ALLOCS 64
#define LIVE_MAX_HOOKS	4
#define LIVE_XSAVE_MAX	8192
#define LIVE_DEFERRED	256  /* statuses reaped early by a blocking wait of the engine */
#define LIVE_NSQ	1024 /* non-stop stops not yet handed to the client */
#define LIVE_SYSCALLS	1024 /* syscall numbers QCatchSyscalls can name */

struct live {
	struct live_config cfg;
	struct proc_table pt;
	struct proc *cur;      /* the process the client debugs; NULL if none */
	pid_t sel;	       /* Hg's process for memory/breakpoints (fork children); 0 = cur */
	struct bkpt_table *bk; /* sites of cur's address space */
	struct hwdebug hw;     /* applied to every thread of cur */
	void *layer;	       /* what wraps these ops (live_set_layer); never looked at */
	int epfd, sigfd, evfd; /* epoll over signalfd(SIGCHLD) + eventfd (self wake) */
	bool wake_pending;     /* a queued stop waits for live_handle_events */
	struct rsp_client_features feat;
	struct rsp_stop last;
	bool have_last;
	bool last_attach; /* last is attach's SIGSTOP: signal 0 for gdb (gdbserver's answer;
			     a SIGSTOP would be passed on by gdb's continue), SIGSTOP for lldb */
	uint8_t pass[65]; /* QPassSignals: deliver without stopping */
	/* QCatchSyscalls: on, every syscall or those in the bitmap */
	bool sc_on, sc_all;
	uint8_t sc_set[LIVE_SYSCALLS / 8];
	/* launch settings */
	char **env; /* NULL-terminated, owned; NULL = inherit the stub's */
	size_t nenv;
	char *cwd; /* owned, NULL = stub's */
	bool disable_aslr;
	bool shell;
	char **last_argv; /* owned, NULL-terminated */
	/* the g block layout, built once from the arch table */
	struct rsp_reg_info reginfo[X86_64_NREGS];
	struct rsp_reg_layout layout;
	uint8_t xsave[LIVE_XSAVE_MAX];
	struct {
		taddr_t addr;
		uint64_t size;
	} allocs[LIVE_MAX_ALLOCS];
	char libstr[32768];
	char exe_path[PATH_MAX];
	sigset_t old_mask;
	bool mask_saved;
	/* the stop live_handle_events hands out next (all-stop) */
	struct rsp_stop ready;
	bool have_ready;
	/* non-stop: every thread stops and resumes on its own; its stops wait here in order */
	bool non_stop;
	struct rsp_stop nsq[LIVE_NSQ];
	size_t nsq_head, nsq_len;
	/* stops of new threads/children that arrived before their creator's event */
	struct {
		pid_t tid;
		int status;
	} orphans[64];
	size_t norphans;
	/* statuses reaped by the probe engine's blocking waits, handled in order later */
	struct {
		pid_t tid;
		int status;
	} deferred[LIVE_DEFERRED];
	size_t ndeferred;
	/* probe engine (stub/probe*.c) */
	char probe_err[256];
	struct {
		live_libs_fn fn;
		void *ctx;
	} libs_hooks[LIVE_MAX_HOOKS];
	size_t nlibs_hooks;
	struct {
		live_proc_fn fn;
		void *ctx;
	} proc_hooks[LIVE_MAX_HOOKS];
	size_t nproc_hooks;
	bool headless;			    /* live_resume_all was called: no client */
	bool follow_forks;		    /* headless: fork children keep the parent's probes */
	struct proc_thread *hit_th;	    /* stopped in a probe callback: usable for injection */
	unsigned long long steps, emulated; /* step-over counters, for --debug and tests */
	bool probe_force_inline;	    /* tests: new sites are stepped inline */
};

/* live.c */
struct proc_thread *live_resolve(struct live *l, struct rsp_ptid th);
int live_mem_read_raw(struct live *l, struct proc *p, taddr_t addr, uint8_t *buf, size_t len,
		      size_t *done);
int live_mem_write_raw(struct live *l, struct proc *p, taddr_t addr, const uint8_t *buf,
		       size_t len);
int live_open_mem(struct proc *p);
void live_log(const struct live *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Build a bkpt_mem over process p. */
void live_bkpt_mem(struct live *l, struct proc *p, struct bkpt_mem *mem);
/* Forget the current process: free its records, close memfd, clear sites. */
void live_drop_proc(struct live *l, struct proc *p);
/* The process memory and breakpoint packets act on: Hg's, else cur. NULL if none. */
struct proc *live_mem_proc(struct live *l);
/* Another inferior (a fork child gdb kept) becomes the one resumed and reported: the
 * breakpoint tables and debug registers follow. Both stopped. 0 or -ENOMEM. */
int live_switch_cur(struct live *l, struct proc *p);
/* events.c for resume.c: interrupt every running thread of p (all-stop); handle the oldest
 * status reaped early by a blocking wait (false if there is none). */
void live_stop_others(struct live *l, struct proc *p);
bool live_replay_deferred(struct live *l);
/* Tell every process-lifecycle subscriber. */
void live_tell_proc(struct live *l, const struct live_proc_event *ev);
/* Parts of the ops table, filled by the files that implement them. */
void live_ops_core(struct rsp_target_ops *o);
void live_ops_info(struct rsp_target_ops *o);
void live_ops_inject(struct rsp_target_ops *o);

/* The breakpoint table holding p's int3s: l->bk for cur, the probe space's own otherwise
 * (NULL if p has none). */
struct bkpt_table *live_proc_bk(struct live *l, struct proc *p);
/* Run one syscall (args[0] = number) in stopped thread th and restore its registers. With a
 * gadget address (a `syscall` instruction anywhere in executable memory) the code is not
 * touched and signals arriving meanwhile are held on th (sigq); with gadget 0 the bytes at
 * rip are borrowed and such a signal becomes the thread's pending stop. 0 or -errno. */
int live_inject_syscall(struct live *l, struct proc_thread *th, taddr_t gadget,
			const uint64_t args[7], uint64_t *ret);

/* The last stop as the client should see it (attach's SIGSTOP is signal 0 for gdb). */
static inline struct rsp_stop live_last_for_client(const struct live *l)
{
	struct rsp_stop st = l->last;

	if (l->last_attach && !l->feat.is_lldb)
		st.signo = 0;
	return st;
}

/* Does the client expect th to run? All-stop: its process was resumed and is not being
 * stopped; non-stop: the thread itself was resumed and no stop was asked of it. */
static inline bool live_client_runs(const struct live *l, const struct proc_thread *th)
{
	if (th->proc->stopping)
		return false;
	if (l->non_stop && !th->proc->engine_owned)
		return th->ns_running && !th->ns_stop_req;
	return th->proc->resumed;
}

/* report.c */
/* Hand a stop to the client: live->ready (all-stop) or the non-stop queue; wakes the loop. */
void live_set_ready(struct live *l, const struct rsp_stop *st);
/* th produced an event for the client: keep it, stop the others (all-stop). */
void live_reportable(struct live *l, struct proc_thread *th, const struct proc_pending *pe);
/* Report the stop owed to the client once every thread of p is stopped (all-stop). */
void live_maybe_finish(struct live *l, struct proc *p);
/* Non-stop: th is parked; queue the stop it owes the client (an event, or the stop asked by
 * vCont;t or interrupt), if any. */
void live_ns_report(struct live *l, struct proc_thread *th);

/* events.c */
/* A thread's stop was handled without a report: continue its step-over, park it while the
 * process is being stopped (or not resumed), else resume it the way it was going. */
void live_settle(struct live *l, struct proc_thread *th);
/* Non-stop attach (answered OK): every thread of p reports its stop, as gdbserver reports
 * the SIGSTOPs of attaching. */
void live_ns_attached(struct live *l, struct proc *p);
/* Resume th with PTRACE_CONT/SINGLESTEP (by th->resume) delivering sig. 0 or -errno. */
int live_resume_thread(struct proc_thread *th, enum rsp_resume_kind kind, int sig);
/* Keep a reaped status for live_handle_events (in order). */
void live_defer_status(struct live *l, pid_t tid, int status);
/* Is sig delivered to p without a stop (QPassSignals; every signal without a client)? */
bool live_passes(const struct live *l, const struct proc *p, int sig);
int live_resume(void *t, const struct rsp_resume_action *acts, size_t n);
int live_interrupt(void *t);
/* resume.c, for nonstop.c: the action of acts that applies to th (NULL: none); a probe hit
 * counted for a stop the client saw, forgotten once the thread left the site. */
const struct rsp_resume_action *live_match_action(const struct rsp_resume_action *acts, size_t n,
						  const struct proc_thread *th);
void live_forget_skip_if_moved(struct proc_thread *th);
/* nonstop.c: resume and interrupt in non-stop mode; the ops. */
int live_ns_resume(struct live *l, struct proc *p, const struct rsp_resume_action *acts, size_t n);
int live_ns_interrupt(struct live *l, struct proc *p);
int live_set_non_stop(void *t, bool on);
int live_catch_syscalls(void *t, bool on, const uint32_t *nrs, size_t n);
int live_stopped_threads(void *t, void (*fn)(void *ctx, const struct rsp_stop *st), void *ctx);
/* Stop every running thread of p and wait for each (blocking, used by
 * kill/detach/free and injected syscalls). Reportable events are kept pending.
 * 0 or -errno (-ESRCH: p exited). */
int live_stop_all_sync(struct live *l, struct proc *p);
void live_wake(struct live *l);
/* Handle one waitpid status (used by the blocking waits in launch.c as well).
 */
void live_handle_status(struct live *l, pid_t tid, int status);
/* Options for every seized thread. */
unsigned long live_ptrace_options(bool exitkill);

/* ---- the probe engine (probe.c, probe_step.c, probe_scratch.c, probe_libs.c) ---- */

#define PROBE_SLOT_SIZE	  64	/* one out-of-line copy + jump back */
#define PROBE_CHUNK_SIZE  65536 /* scratch mapped per injected mmap */
#define PROBE_CHUNK_SLOTS (PROBE_CHUNK_SIZE / PROBE_SLOT_SIZE)

struct probe_owner {
	probe_hit_fn fn; /* NULL: removed during a callback, compacted afterwards */
	void *ctx;
};

/* One probed address: the displaced instruction, decoded once, and how it is stepped over. */
struct probe_site {
	taddr_t addr;
	struct probe_site *next; /* hash chain, or the dead list */
	struct x86_64_insn insn;
	enum x86_64_stepover strategy;
	taddr_t slot; /* OUT_OF_LINE: the slot holding the relocated copy */
	struct probe_chunk *chunk;
	unsigned slot_idx;
	struct probe_owner *owners;
	unsigned nowners, cap;
	unsigned busy; /* callbacks running + threads stepping its slot */
	bool dead;     /* removed while busy: freed when busy drops to 0 */
};

struct probe_chunk {
	taddr_t base;
	struct probe_chunk *next;
	unsigned nfree;
	uint64_t used[PROBE_CHUNK_SLOTS / 64];
};

/* The probes of one address space. */
struct probe_space {
	struct probe_site **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	struct probe_site *dead;    /* removed while busy */
	struct probe_chunk *chunks; /* scratch mappings in the target */
	struct bkpt_table *own_bk;  /* int3 bookkeeping when the process is not l->cur */
	taddr_t gadget;		    /* a `syscall` (0f 05) in executable memory, 0 = unknown */
	taddr_t rdebug, rbrk;	    /* dynamic loader hook: r_debug and the probed r_brk */
};

static inline size_t probe_bucket(const struct probe_space *ps, taddr_t addr)
{
	return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> 32) & (ps->nbuckets - 1);
}

/* O(1): the hit path's lookup. NULL if addr is not probed. */
static inline struct probe_site *probe_site_find(const struct probe_space *ps, taddr_t addr)
{
	struct probe_site *s = ps->buckets[probe_bucket(ps, addr)];

	while (s && s->addr != addr)
		s = s->next;
	return s;
}

/* probe.c */
void probe_set_error(struct live *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* p's (empty) probe space, with its own breakpoint table unless p is cur. NULL on no memory. */
struct probe_space *probe_space_new(struct live *l, struct proc *p);
/* Free every site (memory untouched) and the scratch bookkeeping. */
void probe_space_clear(struct probe_space *ps);
void probe_site_link(struct probe_space *ps, struct probe_site *s);
/* Drop one busy reference of s (freed if it was removed meanwhile). */
void probe_site_unbusy(struct live *l, struct proc *p, struct probe_site *s);
/* A stopped thread of p to run injected syscalls on; NULL if none could be stopped. *held is
 * set when the engine had to stop it (give it back with probe_release_thread). */
struct proc_thread *probe_stopped_thread(struct live *l, struct proc *p, bool *held);
void probe_release_thread(struct live *l, struct proc_thread *th, bool held);

/* probe_scratch.c */
/* Give s an out-of-line slot within reach of its code and write the relocated copy into
 * it. 0; -ERANGE / -ENOTSUP when no slot can serve it (step inline); -errno. */
int probe_slot_assign(struct live *l, struct proc *p, struct probe_space *ps, struct probe_site *s);
void probe_slot_release(struct probe_site *s);
/* n bytes of contiguous scratch within reach of near, never given back. 0,
 * -ERANGE (no gap within reach), -errno. */
int probe_scratch_run(struct live *l, struct proc *p, struct probe_space *ps, uint64_t near,
		      size_t n, taddr_t *at);
/* One syscall in p on a stopped thread (one is stopped briefly if none is), at a `syscall`
 * found in executable memory. 0 or -errno (of the injection; the syscall's result in *ret). */
int probe_syscall(struct live *l, struct proc *p, struct probe_space *ps, const uint64_t args[7],
		  uint64_t *ret);
void probe_chunks_forget(struct probe_space *ps);

/* probe_step.c: held signals */
void probe_hold_signal(struct live *l, struct proc_thread *th, const siginfo_t *si);
/* A synchronous fault of the instruction (SIGSEGV/BUS/FPE/ILL from the kernel)? */
bool probe_is_fault(const siginfo_t *si);

/* probe_inline.c */
/* Step th over s in place with the process's other threads held; *r (rip == s->addr) is
 * written first and holds the registers after. 0, -EFAULT (the instruction faulted: its
 * status is deferred as the thread's next stop), -errno. */
int probe_inline_step(struct live *l, struct proc_thread *th, struct probe_site *s,
		      struct user_regs_struct *r);

/* probe_libs.c */
/* Place the r_brk hook in p if a libs hook is set (no-op otherwise). */
void probe_libs_arm(struct live *l, struct proc *p);

/* probe_step.c: the hit path, called by events.c */
/* SIGTRAP signal-delivery-stop of th (no step-over in progress): a probe hit? 1 = handled. */
int probe_on_trap(struct live *l, struct proc_thread *th);
/* A stop of th while th->so != PROC_SO_NONE: 1 = handled (the thread was kept going or
 * settled), 0 = not the engine's (ptrace events): handle normally, then live_settle. */
int probe_on_step_stop(struct live *l, struct proc_thread *th, int status);
/* Keep stepping a thread that is in a step-over (th->so != NONE). */
void probe_step_continue(struct live *l, struct proc_thread *th);
/* The thread's record is going away (exit, exec by another thread). */
void probe_thread_gone(struct live *l, struct proc_thread *th);
/* Hand a parked thread's held signals back to the kernel (re-queued to the thread). */
void probe_requeue_signals(struct live *l, struct proc_thread *th);

/* probe.c: per-process state */
/* Free p's probe space (no memory access: the address space is gone or detached). */
void probe_proc_gone(struct live *l, struct proc *p);
/* th's process exec'ed: sites and scratch are gone; tell the proc hook, re-arm the libs hook.
 * True if the process was released (a vfork child kept only for its parent's probes). */
bool probe_on_exec(struct live *l, struct proc_thread *th);
/* A fork/vfork child c of p was created: clean it, share or copy probes. Returns true if
 * the engine keeps the child traced and running (engine_owned). */
bool probe_on_fork(struct live *l, struct proc *p, struct proc *c);
/* The client detaches p: a vfork child sharing probed memory is kept traced instead (hidden
 * from the client) until it execs or exits, or it would die on an int3. True if kept. */
bool probe_keep_on_detach(struct live *l, struct proc *p);
/* Restore p's own int3s into its memory before a detach (the probes stay in the tables). */
void probe_before_detach(struct live *l, struct proc *p);
/* The probe space whose sites are in p's memory: its own, or its vfork parent's. */
struct probe_space *probe_space_of(struct live *l, struct proc *p);
void probe_proc_event(struct live *l, enum live_proc_kind kind, struct proc *p, pid_t tid,
		      pid_t child, int status);

/* launch.c */
int live_run(void *t, char *const *argv, size_t argc, struct rsp_stop *out);
int live_attach_op(void *t, int64_t pid, struct rsp_stop *out);
int live_attached(void *t, int64_t pid, bool *was_attached);
int live_kill(void *t, int64_t pid);
int live_detach(void *t, int64_t pid);
int live_env_set(void *t, const char *name_eq_value);
int live_env_unset(void *t, const char *name);
int live_env_reset(void *t);
int live_set_cwd(void *t, const char *dir);
int live_set_disable_aslr(void *t, bool on);
int live_set_startup_with_shell(void *t, bool on);
/* Kill (launched) or detach (attached) every process; blocking. */
void live_release_all(struct live *l);

#endif
