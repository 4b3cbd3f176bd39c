/* Internals shared by the live target's files (live.c, events.c, launch.c). Not
 * for other modules: they use stub/live.h. */
#ifndef TRACESTUB_STUB_LIVE_INTERNAL_H
#define TRACESTUB_STUB_LIVE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/regs.h"
#include "stub/bkpt.h"
#include "stub/hwdebug.h"
#include "stub/live.h"
#include "stub/proc.h"

#define LIVE_MAX_ALLOCS 64
#define LIVE_XSAVE_MAX	8192

struct live {
	struct live_config cfg;
	struct proc_table pt;
	struct proc *cur;      /* the process the client debugs; NULL if none */
	pid_t sel;	       /* Hg's process for memory/breakpoints (fork children); 0 = cur */
	struct bkpt_table *bk; /* sites of cur's address space */
	struct hwdebug hw;     /* applied to every thread of cur */
	int epfd, sigfd, evfd; /* epoll over signalfd(SIGCHLD) + eventfd (self wake) */
	bool wake_pending;     /* a queued stop waits for live_handle_events */
	struct rsp_client_features feat;
	struct rsp_stop last;
	bool have_last;
	uint8_t pass[65]; /* QPassSignals: deliver without stopping */
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
	/* the stop live_handle_events hands out next */
	struct rsp_stop ready;
	bool have_ready;
	/* stops of new threads/children that arrived before their creator's event */
	struct {
		pid_t tid;
		int status;
	} orphans[64];
	size_t norphans;
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

/* events.c */
int live_resume(void *t, const struct rsp_resume_action *acts, size_t n);
int live_interrupt(void *t);
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
