/* Syscalls run in the target by the stub (lldb's _M/_m: mmap and munmap in the debugged
 * process), on a stopped thread whose registers and two code bytes are borrowed and put
 * back; a signal arriving meanwhile is kept for later. */
#include "stub/live/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/os/os.h"

/* ---- injected syscalls (lldb _M/_m; later the step-over scratch page) ---- */

/* Borrow the two bytes at rip for a `syscall` (the client's injections: every thread is
 * stopped). */
static int borrow_rip(struct live *l, struct proc_thread *th, taddr_t rip, uint8_t orig[2])
{
	static const uint8_t insn[2] = {0x0f, 0x05};
	size_t done;
	int rc = live_mem_read_raw(l, th->proc, rip, orig, 2, &done);

	if (rc || done != 2)
		return rc ? rc : -EIO;
	return live_mem_write_raw(l, th->proc, rip, insn, 2);
}

/* A signal arriving while the injected syscall runs: kept for later. */
static void keep_signal(struct proc_thread *th, int sig, bool engine)
{
	siginfo_t si;

	if (!engine) {
		memset(&th->pending, 0, sizeof(th->pending));
		th->has_pending = true;
		th->pending.reason = RSP_REASON_SIGNAL;
		th->pending.signo = sig;
		return;
	}
	if (th->nsigq < PROC_SIGQ_MAX && !ptr_getsiginfo(th->tid, &si))
		th->sigq[th->nsigq++] = si;
}

/* Single-step th once and wait for the step's SIGTRAP. */
static int step_wait(struct live *l, struct proc_thread *th, bool engine)
{
	int rc = ptr_step(th->tid, 0), status;

	while (!rc) {
		pid_t w = waitpid(th->tid, &status, __WALL);

		if (w < 0)
			return -errno;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -ESRCH;
		if (WSTOPSIG(status) == SIGTRAP && !(status >> 16))
			return 0;
		if ((status >> 16) == PTRACE_EVENT_STOP)
			th->interrupting = false; /* an earlier interrupt, not the step */
		/* Anything else (a signal arriving meanwhile): keep it for later, step on.
		 */
		if (!(status >> 16) && WSTOPSIG(status) != SIGTRAP)
			keep_signal(th, WSTOPSIG(status), engine);
		rc = ptr_step(th->tid, 0);
	}
	return rc;
}

/* Run one syscall in stopped thread th: executed with a single step at the gadget (or
 * `syscall` written over the bytes at rip), and regs (and bytes) restored exactly. */
int live_inject_syscall(struct live *l, struct proc_thread *th, taddr_t gadget,
			const uint64_t args[7], uint64_t *ret)
{
	struct user_regs_struct saved, r, got;
	taddr_t at;
	uint8_t orig[2];
	int rc, tries;

	rc = ptr_getregs(th->tid, &saved);
	if (rc)
		return rc;
	at = gadget ? gadget : saved.rip;
	if (!gadget) {
		rc = borrow_rip(l, th, saved.rip, orig);
		if (rc)
			return rc;
	}
	r = saved;
	r.rip = at;
	r.rax = args[0];
	r.rdi = args[1];
	r.rsi = args[2];
	r.rdx = args[3];
	r.r10 = args[4];
	r.r8 = args[5];
	r.r9 = args[6];
	/* No syscall restart on the way out of a previous interrupted syscall. */
	r.orig_rax = (unsigned long long)-1;
	for (tries = 0, rc = -EAGAIN; tries < 3; tries++) {
		rc = ptr_setregs(th->tid, &r);
		if (!rc)
			rc = step_wait(l, th, gadget != 0);
		if (!rc)
			rc = ptr_getregs(th->tid, &got);
		if (rc)
			break;
		if (got.rip == at + 2) {
			*ret = got.rax;
			break;
		}
		/* Stopped inside a syscall (an exec event): that step only finished it. */
		rc = -EAGAIN;
	}
	if (rc == -ESRCH)
		return rc;
	if (!gadget)
		live_mem_write_raw(l, th->proc, saved.rip, orig, 2);
	ptr_setregs(th->tid, &saved);
	return rc;
}

static struct proc_thread *stopped_thread(struct live *l)
{
	struct proc_thread *th;

	if (!l->cur)
		return NULL;
	th = l->cur->event ? l->cur->event : l->cur->threads;
	return th && !th->running ? th : NULL;
}

static int op_alloc_mem(void *t, uint64_t size, bool r, bool w, bool x, taddr_t *out)
{
	struct live *l = t;
	struct proc_thread *th = stopped_thread(l);
	uint64_t args[7], ret;
	unsigned i;
	int rc;

	if (!th)
		return -ESRCH;
	for (i = 0; i < LIVE_MAX_ALLOCS && l->allocs[i].addr; i++)
		;
	if (i == LIVE_MAX_ALLOCS)
		return -ENOSPC;
	args[0] = SYS_mmap;
	args[1] = 0;
	args[2] = size;
	args[3] = (r ? PROT_READ : 0) | (w ? PROT_WRITE : 0) | (x ? PROT_EXEC : 0);
	args[4] = MAP_PRIVATE | MAP_ANONYMOUS;
	args[5] = (uint64_t)-1;
	args[6] = 0;
	rc = live_inject_syscall(l, th, 0, args, &ret);
	if (rc)
		return rc;
	if (ret > (uint64_t)-4096)
		return (int)(int64_t)ret;
	l->allocs[i].addr = ret;
	l->allocs[i].size = size;
	*out = ret;
	return 0;
}

static int op_free_mem(void *t, taddr_t addr)
{
	struct live *l = t;
	struct proc_thread *th = stopped_thread(l);
	uint64_t args[7] = {SYS_munmap, 0, 0, 0, 0, 0, 0}, ret;
	unsigned i;
	int rc;

	if (!th)
		return -ESRCH;
	for (i = 0; i < LIVE_MAX_ALLOCS && l->allocs[i].addr != addr; i++)
		;
	if (i == LIVE_MAX_ALLOCS || !addr)
		return -ENOENT;
	args[1] = addr;
	args[2] = l->allocs[i].size;
	rc = live_inject_syscall(l, th, 0, args, &ret);
	if (rc)
		return rc;
	if (ret > (uint64_t)-4096)
		return (int)(int64_t)ret;
	l->allocs[i].addr = 0;
	return 0;
}

void live_ops_inject(struct rsp_target_ops *o)
{
	o->alloc_mem = op_alloc_mem;
	o->free_mem = op_free_mem;
}
