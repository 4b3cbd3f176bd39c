/* The live target: real processes driven with ptrace, answering struct rsp_target_ops.
 * Owns processes, threads, breakpoint sites, debug registers and launch settings.
 * The server loop polls live_event_fd() and calls live_handle_events(). */
#ifndef TRACESTUB_STUB_LIVE_H
#define TRACESTUB_STUB_LIVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "protocol/target.h"

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

struct ltrace;
struct rsp_region_info;
/* The tracepoint state of l (never NULL after live_new). */
struct ltrace *live_trace(struct live *l);
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

#endif
