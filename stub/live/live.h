/* stub/live/: the live target: the rsp_target_ops over ptrace, its event loop, launch/attach/
 * detach, processes and threads, breakpoint sites and the probe engine (int3 sites and their
 * step-over). The event loop and the step-over state machine call each other (a stop settles a
 * step-over, which resumes through the loop): that loop is real, so it stays in this folder. */
#ifndef TRACESTUB_STUB_LIVE_LIVE_H
#define TRACESTUB_STUB_LIVE_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "protocol/monitor.h"
#include "protocol/target.h"

/* The live target: real processes driven with ptrace, answering struct rsp_target_ops.
 * Owns processes, threads, breakpoint sites, debug registers and launch settings.
 * The server loop polls live_event_fd() and calls live_handle_events(). */
struct live;
struct hostio;

struct live_config {
	struct hostio *hostio;	 /* vFile backend, may be NULL (vFile unsupported) */
	char *const *wrapper;	 /* --wrapper argv (NULL-terminated) or NULL */
	bool startup_with_shell; /* run PROG through $SHELL -c (gdbserver's default is off here) */
	bool debug;		 /* log events to stderr */
};

/* Returns NULL on no memory. cfg is copied (pointers borrowed). */
struct live *live_new(const struct live_config *cfg);
/* Kill launched processes, detach attached ones (int3s removed first), free. */
void live_free(struct live *l);

/* The ops table; pass the struct live * as the target context. */
const struct rsp_target_ops *live_target_ops(void);

/* Launch argv[0] with args, stopped at its first instruction after exec (the reported stop is
 * SIGTRAP, kept for `?`). Program stdin/stdout/stderr are the stub's own. 0 or -errno. */
int live_launch(struct live *l, char *const *argv);
/* Attach to pid and all its threads; the process is left stopped (SIGSTOP stop kept for `?`). */
int live_attach(struct live *l, pid_t pid);
/* Headless tracing of several processes: attach to one more while another is the current
 * one (without a current one, live_attach). Its threads are seized and left stopped; it gets
 * probes of its own (like a followed fork child) and live_resume_all runs it; it never
 * becomes the process a client debugs unless the current one goes. 0, -EALREADY (traced
 * already), -errno. */
int live_attach_more(struct live *l, pid_t pid);

/* A file descriptor that becomes readable when child events are pending (signalfd on
 * SIGCHLD: the caller must not install its own SIGCHLD handling). */
int live_event_fd(const struct live *l);
/* Reap and handle pending child events, at most a few hundred per call (threads hitting
 * probes nonstop must not starve the caller's other inputs: the event fd stays readable while
 * more wait). When a stop must be reported to the client (a resumed process stopped or
 * exited), fill *stop and return 1; call again until it returns 0 (nothing more to report
 * now); -errno on failure. */
int live_handle_events(struct live *l, struct rsp_stop *stop);
/* True while at least one process is being debugged. */
bool live_has_process(const struct live *l);

struct tpoints;
struct rsp_region_info;
/* The tracepoint state of l (never NULL after live_new). */
struct tpoints *live_trace(struct live *l);
/* The process the client debugs, 0 if none. */
pid_t live_current_pid(const struct live *l);
/* The mapping of the current process at addr (qMemoryRegionInfo semantics). */
int live_region(struct live *l, taddr_t addr, struct rsp_region_info *out);
/* Load bias of the current process's main executable (0 for non-PIE). */
int live_exec_bias(struct live *l, uint64_t *bias);
/* Link-time span [lo, hi) of the current process's main executable. */
int live_exec_span(struct live *l, uint64_t *lo, uint64_t *hi);
/* Memory of the current process, int3s shadowed, whatever trace frame is selected. */
int live_read_live_mem(struct live *l, taddr_t addr, uint8_t *buf, size_t len, size_t *done);

/* Internal probes: int3 sites owned by the stub (tracepoints, the headless tracer, the
 * dynamic-loader hook). A hit runs fn on the hitting thread while only that thread is
 * stopped; the site is stepped over without removing the int3 (emulated, or executed out
 * of line in a scratch page), and the thread resumes. The client never sees these stops. */
struct live;

struct probe_hit {
	pid_t pid, tid;
	uint64_t addr;		       /* site address; regs->rip already == addr */
	struct user_regs_struct *regs; /* fetched once; fn may modify (written back) */
	uint64_t time_ns;	       /* CLOCK_MONOTONIC when the stop was reaped */
	unsigned step;		       /* 0 at the site; n after the n-th while-stepping step
					* (then addr is still the site, regs->rip is where the
					* thread is now) */
};

enum probe_verdict {
	PROBE_RESUME,
	PROBE_STOP_ALL, /* report to the client as a stop: SIGTRAP, swbreak at the site (at
			 * step n > 0: a completed step); the hit is not counted again when
			 * the thread resumes at the site */
	PROBE_STEP,	/* single-step one more instruction, then call fn again with step+1
			 * (while-stepping); only this fn is called for the step stops; a
			 * step landing on another probed site runs that site's owners (step
			 * 0, their PROBE_STEP ignored) and steps it over */
};

/* Called on the stopped hitting thread. It may call live_readv, and live_probe_insert /
 * live_probe_remove (its own site included: a pass count) for this or another site. */
typedef enum probe_verdict (*probe_hit_fn)(void *ctx, const struct probe_hit *hit);

/* 0, -EEXIST (same fn+ctx at addr), -EINVAL no safe step-over strategy (message in
 * live_last_error()), -errno. Several owners may share an address (user Z0 included).
 * The displaced instruction is decoded once here: emulated (nop, endbr, push, pushf, mov
 * reg/imm, add/sub $imm, xor r,r, lea, direct jmp/call), else copied into a slot of a
 * scratch page mapped next to the code, else stepped inline with the process's other
 * threads held (never for a syscall: refused). Needs a stopped thread of pid only when a new
 * scratch page must be mapped (one is stopped briefly if none is). */
int live_probe_insert(struct live *l, pid_t pid, uint64_t addr, probe_hit_fn fn, void *ctx);
int live_probe_remove(struct live *l, pid_t pid, uint64_t addr, probe_hit_fn fn, void *ctx);
const char *live_last_error(const struct live *l);

/* Memory of a stopped-or-running thread's process, one process_vm_readv for all blocks;
 * int3 bytes shadowed. Returns bytes read in total or -errno. */
ssize_t live_readv(struct live *l, pid_t pid, const struct iovec *local, const struct iovec *remote,
		   int n);

/* Fast sites (stub/agent/ builds the pads): n bytes at addr replaced by code (a jump to a
 * pad), only while every thread of pid is stopped; a thread stopped inside (addr, addr+n) is
 * moved first, from move[2i] to move[2i+1] (an instruction's copy in the pad), and the patch
 * is refused if one is elsewhere inside. -EBUSY with the reason in live_last_error(). The
 * originals are shadowed from reads and come back in an unfollowed fork child and at detach;
 * an int3 is never placed inside a patch. */
int live_patch_insert(struct live *l, pid_t pid, uint64_t addr, const uint8_t *code, size_t n,
		      const uint64_t *move, size_t nmove);
/* The original bytes back (every thread of pid stopped, else -EBUSY; a thread inside the pad
 * finishes there and jumps back past the patch). -ENOENT if no patch starts at addr. */
int live_patch_remove(struct live *l, pid_t pid, uint64_t addr);
/* n bytes of executable scratch in pid within +-2 GiB of near (an address), kept until the
 * process ends. 0, -ERANGE, -errno. */
int live_scratch(struct live *l, pid_t pid, uint64_t near, size_t n, uint64_t *at);
/* Headless: stop every thread of pid and wait for each (their pending hits are handled first),
 * so that patches can go in; live_unhold resumes them. Never from inside a probe callback.
 * 0 or -errno. */
int live_hold(struct live *l, pid_t pid);
void live_unhold(struct live *l);
/* Write target memory as ptrace does (read-only and executable pages included). */
int live_poke(struct live *l, pid_t pid, uint64_t addr, const void *buf, size_t n);
/* Run one system call in pid (args[0] = number) on a stopped thread, registers put back.
 * 0 and the kernel's result in *ret, or -errno if it could not be run. */
int live_syscall(struct live *l, pid_t pid, const uint64_t args[7], uint64_t *ret);

/* Library loads: fn called (any thread stopped at the r_brk hook, after the link map is
 * consistent) so pending probes can be placed before the library's code runs. Placed in
 * every traced process now (from the loader's _dl_debug_state before the loader ran, so
 * the first call comes with the initial libraries) and again after each exec. */
typedef void (*live_libs_fn)(void *ctx, pid_t pid);
/* Subscribe (at most 4 subscribers, called in order). 0 or -ENOSPC. */
int live_add_libs_hook(struct live *l, live_libs_fn fn, void *ctx);

/* Process lifecycle, for every subscriber (the headless tracer, gdb's tracepoints): fork (child
 * pid; when not followed, the child is cleaned of int3s and detached before this returns; a vfork
 * child of a probed process is kept traced until it execs or exits instead, its hits stepped over),
 * exec (all probes of pid are gone; the scratch page re-created lazily; called with the exec'ing
 * thread stopped: probes for the new image may be inserted from the hook), exit (status = wait
 * status) and thread exit. */
enum live_proc_kind {
	LIVE_EV_FORK,
	LIVE_EV_EXEC,
	LIVE_EV_EXIT,
	LIVE_EV_THREAD_EXIT,
	LIVE_EV_CURRENT_GONE, /* the process a client debugs is gone (exit, kill, detach) */
};
struct live_proc_event {
	enum live_proc_kind kind;
	pid_t pid, tid, child;
	int status; /* wait status for LIVE_EV_EXIT */
};
typedef void (*live_proc_fn)(void *ctx, const struct live_proc_event *ev);
/* Subscribe (at most 4 subscribers, called in order). 0 or -ENOSPC. */
int live_add_proc_hook(struct live *l, live_proc_fn fn, void *ctx);

/* The layer that wraps this target's ops (gdb's tracepoints: their ops get the struct live *
 * as context and find themselves here). live keeps the pointer and never looks at it. */
void live_set_layer(struct live *l, void *layer);
void *live_layer(const struct live *l);

/* The live target's monitor commands, for a layer that adds its own. */
extern const struct rsp_monitor_table live_monitor_table;

/* Headless: resume every thread of every process (no client), pass every signal. */
int live_resume_all(struct live *l);

/* Headless -f: fork children keep running traced with a copy of the parent's probes (same
 * owners; hit.pid tells them apart) instead of being cleaned and detached. vfork children of
 * a probed process are always kept traced until they exec or exit (their memory is the
 * parent's, int3s included); their hits reach the owners only when following. */
void live_set_follow_forks(struct live *l, bool on);

#endif
