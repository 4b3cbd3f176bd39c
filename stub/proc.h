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

/* A stop the thread reported to us that the client has not seen yet. */
struct proc_pending {
	enum rsp_stop_reason reason;
	int signo;
	taddr_t addr; /* SWBREAK: site address; WATCH/HWBREAK: watched address */
};

struct proc;

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
