/* The process and thread table of the live target: who is traced, in which
 * state, and what stop each thread still owes the client. Lookup by tid is a
 * hash. Pure bookkeeping: no ptrace, no I/O. */
#ifndef TRACESTUB_STUB_PROC_H
#define TRACESTUB_STUB_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "protocol/target.h"
#include "stub/live/live.h"

#define PROC_SIGQ_MAX 8 /* signals held while a thread steps over a probe site */

/* A stop the thread reported to us that the client has not seen yet. */
struct proc_pending {
	enum rsp_stop_reason reason;
	int signo;
	taddr_t addr; /* SWBREAK: site address; WATCH/HWBREAK: watched address */
	bool probe;   /* SWBREAK asked for by a probe (PROBE_STOP_ALL), not a client Z0 */
};

struct proc;
struct probe_site;
struct probe_space;

/* Where a thread is in a probe step-over (stub/probe_step.c). */
enum proc_so {
	PROC_SO_NONE,
	PROC_SO_OOL,   /* single-stepping so_site's displaced instruction in its scratch slot */
	PROC_SO_WSTEP, /* while-stepping: single-stepping one instruction in place */
};

struct proc_thread {
	pid_t tid;
	struct proc *proc;
	struct proc_thread *hnext; /* tid hash chain */
	struct proc_thread *next;  /* in proc->threads */
	bool running;		   /* resumed by us, no stop seen since */
	bool interrupting;	   /* PTRACE_INTERRUPT sent, its EVENT_STOP not seen yet */
	bool initial_stop;	   /* new (clone/attach): its first stop not seen yet */
	bool signal_stop;	   /* stopped in signal-delivery-stop (signal injectable) */
	bool has_pending;
	struct proc_pending pending;
	enum rsp_resume_kind resume; /* what it was last resumed with */
	taddr_t range_start, range_end;
	int last_sig; /* last signal-delivery-stop signal */
	/* probe engine (stub/probe_step.c); all zero when no probe is involved */
	uint8_t so;		    /* enum proc_so */
	bool so_client_step;	    /* the client single-stepped into the site: report TRACE */
	bool so_watch;		    /* a watchpoint fired during the out-of-line step */
	bool held;		    /* stopped by the engine for an inline step-over */
	bool deferred;		    /* a reaped status waits in live->deferred */
	struct probe_site *so_site; /* PROC_SO_OOL: the site whose slot is being stepped */
	taddr_t probe_skip;	    /* hit at this site already counted (stop reported) */
	probe_hit_fn ws_fn;	    /* while-stepping owner, NULL when not stepping */
	void *ws_ctx;
	unsigned ws_step;
	taddr_t ws_site;
	/* non-stop mode (the client resumes and stops each thread on its own) */
	bool ns_running;   /* the client believes it runs (resumed, no stop reported since) */
	bool ns_stop_req;  /* vCont;t or interrupt: report a stop at its next stop */
	bool ns_sigint;	   /* ... as SIGINT (interrupt), not signal 0 (vCont;t) */
	bool ns_have_last; /* ns_last holds the last stop reported, for `?` */
	struct rsp_stop ns_last;
	uint8_t nsigq; /* async signals held during a step-over, delivered after it */
	siginfo_t sigq[PROC_SIGQ_MAX];
};

struct proc {
	pid_t pid;
	struct proc *next;
	struct proc_thread *threads;
	size_t nthreads;
	int memfd;		   /* /proc/PID/mem, -1 if not open */
	bool attached;		   /* attached to (detach on quit) rather than launched */
	bool resumed;		   /* some thread resumed; a stop is owed to the client */
	bool stopping;		   /* stopping all threads before reporting */
	bool interrupted;	   /* the client asked for the stop (interrupt) */
	bool fork_child;	   /* unreported fork child: clean up and detach at its first
				      stop */
	bool vfork_child;	   /* shares memory with its parent: never touch its code */
	pid_t parent;		   /* for fork children */
	struct proc_thread *event; /* the thread whose stop will be reported */
	/* probe engine */
	struct probe_space *ps; /* sites and scratch slots of this address space, may be NULL */
	bool engine_owned;	/* run by the engine without a client (followed fork child,
				 * vfork child kept until it execs): resumed at its first stop */
	bool catch_sc;		/* QCatchSyscalls: continued with PTRACE_SYSCALL */
	bool vfork_keep;	/* vfork child sharing the parent's probed memory: traced until
				 * exec/exit so its hits are stepped over (uses the parent's ps) */
};

struct proc_table {
	struct proc *procs;
	struct proc_thread **buckets;
	size_t nbuckets;
	size_t nthreads;
};

int proc_table_init(struct proc_table *t);
/* Frees every process and thread record (no OS action). */
void proc_table_fini(struct proc_table *t);

/* New process record (no threads), memfd -1. NULL on no memory. */
struct proc *proc_add(struct proc_table *t, pid_t pid);
struct proc *proc_find(const struct proc_table *t, pid_t pid);
/* Remove and free a process and its threads (memfd is not closed here). */
void proc_remove(struct proc_table *t, struct proc *p);

/* New thread record in p. NULL on no memory. */
struct proc_thread *proc_thread_add(struct proc_table *t, struct proc *p, pid_t tid);
/* NULL if tid is not traced. */
struct proc_thread *proc_thread_find(const struct proc_table *t, pid_t tid);
void proc_thread_remove(struct proc_table *t, struct proc_thread *th);

#endif
