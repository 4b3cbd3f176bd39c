/* The live target's floor, under the ops: the debug log, thread lookup, raw memory of a
 * process (process_vm_readv, /proc/PID/mem for what it refuses), the breakpoint table's
 * memory callbacks, and dropping a process that is gone (its subscribers told). Nothing here
 * calls an op or the event loop. */
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

void live_log(const struct live *l, const char *fmt, ...)
{
	va_list ap;

	if (!l->cfg.debug)
		return;
	va_start(ap, fmt);
	fputs("live: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- threads and memory helpers ---- */

struct proc_thread *live_resolve(struct live *l, struct rsp_ptid id)
{
	struct proc *p;

	if (id.tid > 0)
		return proc_thread_find(&l->pt, (pid_t)id.tid);
	p = id.pid > 0 ? proc_find(&l->pt, (pid_t)id.pid) : l->cur;
	if (!p)
		return NULL;
	return p->event ? p->event : p->threads;
}

int live_open_mem(struct proc *p)
{
	char path[64];

	if (p->memfd >= 0)
		close(p->memfd);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)p->pid);
	p->memfd = open(path, O_RDWR | O_CLOEXEC);
	return p->memfd < 0 ? -errno : 0;
}

int live_mem_read_raw(struct live *l, struct proc *p, taddr_t addr, uint8_t *buf, size_t len,
		      size_t *done)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n;

	*done = 0;
	if (!len)
		return 0;
	n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
	if (n > 0) {
		*done = (size_t)n;
		return 0;
	}
	/* process_vm_readv refuses pages without read permission; /proc/PID/mem does
	 * not. */
	if (p->memfd < 0)
		return -EIO;
	n = pread(p->memfd, buf, len, (off_t)addr);
	if (n <= 0)
		return n == 0 ? -EIO : -errno;
	*done = (size_t)n;
	return 0;
}

int live_mem_write_raw(struct live *l, struct proc *p, taddr_t addr, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	if (p->memfd < 0)
		return -EIO;
	while (off < len) {
		ssize_t n = pwrite(p->memfd, buf + off, len - off, (off_t)(addr + off));

		if (n <= 0)
			return n == 0 ? -EIO : -errno;
		off += (size_t)n;
	}
	return 0;
}

/* The breakpoint table's memory callbacks; ctx is the struct proc. */
static int bk_read(void *ctx, taddr_t addr, uint8_t *buf, size_t len)
{
	size_t done;
	int rc = live_mem_read_raw(NULL, ctx, addr, buf, len, &done);

	if (rc)
		return rc;
	return done == len ? 0 : -EIO;
}

static int bk_write(void *ctx, taddr_t addr, const uint8_t *buf, size_t len)
{
	return live_mem_write_raw(NULL, ctx, addr, buf, len);
}

void live_bkpt_mem(struct live *l, struct proc *p, struct bkpt_mem *mem)
{
	mem->ctx = p;
	mem->read = bk_read;
	mem->write = bk_write;
}

void live_drop_proc(struct live *l, struct proc *p)
{
	probe_proc_gone(l, p);
	if (p->memfd >= 0)
		close(p->memfd);
	if (p == l->cur) {
		struct live_proc_event ev = {.kind = LIVE_EV_CURRENT_GONE, .pid = p->pid};

		l->cur = NULL;
		live_tell_proc(l, &ev);
		bkpt_forget_all(l->bk);
		hwdebug_init(&l->hw);
		memset(l->allocs, 0, sizeof(l->allocs));
	}
	if (l->sel == p->pid)
		l->sel = 0;
	proc_remove(&l->pt, p);
	/* Following a fork child: once the parent is gone, the child is the one debugged. */
	if (!l->cur && l->pt.procs && !l->pt.procs->fork_child) {
		l->cur = l->pt.procs;
		/* Its probes' int3s were kept in its own table: that one becomes cur's. */
		if (l->cur->ps && l->cur->ps->own_bk) {
			struct bkpt_table *empty = l->bk;

			l->bk = l->cur->ps->own_bk;
			l->cur->ps->own_bk = NULL;
			bkpt_table_free(empty);
		}
	}
}

int live_switch_cur(struct live *l, struct proc *p)
{
	struct proc *old = l->cur;
	struct probe_space *ops = old->ps, *nps = p->ps;
	struct bkpt_table *next = nps && nps->own_bk ? nps->own_bk : bkpt_table_new();
	struct proc_thread *th;

	if (!next || (!ops && !(ops = probe_space_new(l, old)))) {
		if (!(nps && nps->own_bk))
			bkpt_table_free(next);
		return -ENOMEM;
	}
	/* Each inferior keeps its int3s: the old one's table goes with its probe space. */
	ops->own_bk = l->bk;
	l->bk = next;
	if (nps)
		nps->own_bk = NULL;
	for (th = old->threads; th; th = th->next)
		hwdebug_clear(th->tid);
	l->cur = p;
	l->sel = 0;
	if (hwdebug_any(&l->hw))
		for (th = p->threads; th; th = th->next)
			hwdebug_apply(&l->hw, th->tid);
	live_log(l, "current process %d -> %d", (int)old->pid, (int)p->pid);
	return 0;
}

/* The process memory and breakpoint packets act on: Hg's, else cur. */
struct proc *live_mem_proc(struct live *l)
{
	struct proc *p = l->sel > 0 ? proc_find(&l->pt, l->sel) : NULL;

	return p ? p : l->cur;
}

void live_set_layer(struct live *l, void *layer)
{
	l->layer = layer;
}

void *live_layer(const struct live *l)
{
	return l->layer;
}

int live_add_proc_hook(struct live *l, live_proc_fn fn, void *ctx)
{
	if (l->nproc_hooks == LIVE_MAX_HOOKS)
		return -ENOSPC;
	l->proc_hooks[l->nproc_hooks].fn = fn;
	l->proc_hooks[l->nproc_hooks++].ctx = ctx;
	return 0;
}

void live_tell_proc(struct live *l, const struct live_proc_event *ev)
{
	for (size_t i = 0; i < l->nproc_hooks; i++)
		l->proc_hooks[i].fn(l->proc_hooks[i].ctx, ev);
}
