/* The live target's ops table and the ops that need no event handling:
 * registers, memory, breakpoints and watchpoints, threads, qXfer objects, lldb
 * extras and injected mmap/munmap. Process control lives in events.c (resume,
 * stops) and launch.c (launch, attach, kill). */
#include "stub/live/hwprobe.h"
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
#include "stub/tracepoints/tracepoints.h"

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
		l->cur = NULL;
		tpoints_process_gone(l->tr);
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

/* The process memory and breakpoint packets act on: Hg's, else cur. */
static struct proc *mem_proc(struct live *l)
{
	struct proc *p = l->sel > 0 ? proc_find(&l->pt, l->sel) : NULL;

	return p ? p : l->cur;
}

static int op_monitor(void *t, const char *cmd, size_t len, rsp_output_fn out, void *ctx)
{
	struct live *l = t;
	static const char help[] = "  hwdebug - do hardware breakpoints/watchpoints work here?\n"
				   "  set debug 0|1 - engine event log on stderr\n"
				   "  tstats - trace buffer and per-tracepoint hit/stored/dropped "
				   "counts\n";
	const char *msg;

	if (len == 4 && !memcmp(cmd, "help", 4)) {
		out(ctx, help, sizeof(help) - 1);
		return 0;
	}
	if (len == 7 && !memcmp(cmd, "hwdebug", 7)) {
		msg = hwprobe_debugregs_work()
			      ? "hardware debug registers: working\n"
			      : "hardware debug registers: not triggering on this machine "
				"(Z1-Z4 refused; use software watchpoints: set "
				"can-use-hw-watchpoints 0)\n";
		out(ctx, msg, strlen(msg));
		return 0;
	}
	if (len == 6 && !memcmp(cmd, "tstats", 6)) {
		char buf[8192];
		int n = tpoints_stats(l->tr, buf, sizeof(buf));

		if (n < 0)
			return n;
		out(ctx, buf, (size_t)n);
		return 0;
	}
	if (len == 11 && (!memcmp(cmd, "set debug 0", 11) || !memcmp(cmd, "set debug 1", 11))) {
		l->cfg.debug = cmd[10] == '1';
		return 0;
	}
	return -ENOENT;
}

static void op_select_thread(void *t, struct rsp_ptid th)
{
	struct live *l = t;

	l->sel = th.pid > 0 ? (pid_t)th.pid : 0;
}

/* ---- registers ---- */

static const struct rsp_reg_layout *op_reg_layout(void *t)
{
	struct live *l = t;

	return &l->layout;
}

struct regset {
	struct user_regs_struct gp;
	struct user_fpregs_struct fp;
	size_t xlen;
};

static int fetch(struct live *l, pid_t tid, struct regset *rs)
{
	int rc = ptr_getregs(tid, &rs->gp);

	if (rc)
		return rc;
	rc = ptr_getfpregs(tid, &rs->fp);
	if (rc)
		return rc;
	if (ptr_getxstate(tid, l->xsave, sizeof(l->xsave), &rs->xlen))
		rs->xlen = 0;
	return 0;
}

static int store(struct live *l, pid_t tid, struct regset *rs, unsigned dirty)
{
	int rc = 0;

	if (dirty & X86_64_DIRTY_GP)
		rc = ptr_setregs(tid, &rs->gp);
	/* xstate first: its legacy area is stale, SETFPREGS below overwrites it. */
	if (!rc && (dirty & X86_64_DIRTY_XSTATE) && rs->xlen)
		rc = ptr_setxstate(tid, l->xsave, rs->xlen);
	if (!rc && (dirty & (X86_64_DIRTY_FP | X86_64_DIRTY_XSTATE)))
		rc = ptr_setfpregs(tid, &rs->fp);
	return rc;
}

static int op_read_regs(void *t, struct rsp_ptid id, uint8_t *buf, uint8_t *avail)
{
	struct live *l = t;
	struct proc_thread *th = live_resolve(l, id);
	struct regset rs;
	int rc;

	if (tpoints_frame_selected(l->tr))
		return tpoints_frame_regs(l->tr, buf, avail);
	if (!th)
		return -ESRCH;
	rc = fetch(l, th->tid, &rs);
	if (rc)
		return rc;
	x86_64_regs_to_g(&rs.gp, &rs.fp, rs.xlen ? l->xsave : NULL, rs.xlen, buf, avail);
	return 0;
}

static int op_write_regs(void *t, struct rsp_ptid id, const uint8_t *buf)
{
	struct live *l = t;
	struct proc_thread *th = live_resolve(l, id);
	struct regset rs;
	int rc;

	if (!th)
		return -ESRCH;
	rc = fetch(l, th->tid, &rs);
	if (rc)
		return rc;
	x86_64_regs_from_g(buf, &rs.gp, &rs.fp, rs.xlen ? l->xsave : NULL, rs.xlen);
	return store(l, th->tid, &rs, X86_64_DIRTY_GP | X86_64_DIRTY_FP | X86_64_DIRTY_XSTATE);
}

static int op_write_reg(void *t, struct rsp_ptid id, unsigned regno, const uint8_t *val, size_t len)
{
	struct live *l = t;
	struct proc_thread *th = live_resolve(l, id);
	struct regset rs;
	unsigned dirty = 0;
	int rc;

	if (!th)
		return -ESRCH;
	rc = fetch(l, th->tid, &rs);
	if (rc)
		return rc;
	rc = x86_64_reg_store(regno, val, len, &rs.gp, &rs.fp, rs.xlen ? l->xsave : NULL, rs.xlen,
			      &dirty);
	if (rc)
		return rc;
	return store(l, th->tid, &rs, dirty);
}

/* ---- memory ---- */

static int op_read_mem(void *t, taddr_t addr, uint8_t *buf, size_t len, size_t *done)
{
	struct live *l = t;

	if (tpoints_frame_selected(l->tr))
		return tpoints_frame_mem(l->tr, addr, buf, len, done);
	return live_read_live_mem(l, addr, buf, len, done);
}

int live_read_live_mem(struct live *l, taddr_t addr, uint8_t *buf, size_t len, size_t *done)
{
	int rc;
	struct proc *p = mem_proc(l);

	*done = 0;
	if (!p)
		return -ESRCH;
	rc = live_mem_read_raw(l, p, addr, buf, len, done);
	if (rc)
		return rc;
	if (p == l->cur)
		bkpt_shadow(l->bk, addr, buf, *done);
	return 0;
}

static int op_write_mem(void *t, taddr_t addr, const uint8_t *buf, size_t len)
{
	struct live *l = t;
	struct proc *p = mem_proc(l);
	uint8_t tmp[4096];
	size_t off = 0;

	if (!p)
		return -ESRCH;
	if (p != l->cur)
		return live_mem_write_raw(l, p, addr, buf, len);
	while (off < len) {
		size_t n = len - off < sizeof(tmp) ? len - off : sizeof(tmp);
		int rc;

		memcpy(tmp, buf + off, n);
		bkpt_write_through(l->bk, addr + off, tmp, n);
		rc = live_mem_write_raw(l, l->cur, addr + off, tmp, n);
		if (rc)
			return rc;
		off += n;
	}
	return 0;
}

/* ---- breakpoints and watchpoints ---- */

static int apply_hw_all(struct live *l)
{
	struct proc_thread *th;
	int rc = 0;

	for (th = l->cur->threads; th; th = th->next) {
		int r;

		if (th->running || th->initial_stop)
			continue; /* applied when it stops (new threads: at their first stop) */
		r = hwdebug_apply(&l->hw, th->tid);
		live_log(l, "hw apply %d: %d dr7 %llx", (int)th->tid, r,
			 (unsigned long long)hwdebug_dr7(&l->hw));
		if (r && !rc)
			rc = r;
	}
	return rc;
}

static int op_insert_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind)
{
	struct live *l = t;
	struct bkpt_mem mem;
	int rc;

	if (!l->cur)
		return -ESRCH;
	if (type == RSP_POINT_SW) {
		if (mem_proc(l) != l->cur)
			return -EINVAL; /* one breakpoint table: the followed process's */
		live_bkpt_mem(l, l->cur, &mem);
		return bkpt_insert(l->bk, &mem, addr, BKPT_OWNER_USER);
	}
	rc = hwdebug_insert(&l->hw, type, addr, kind);
	if (rc)
		return rc;
	/* Refuse rather than accept points that would never trigger (some hypervisors). */
	if (!hwprobe_debugregs_work()) {
		hwdebug_remove(&l->hw, type, addr, kind);
		return -ENODEV;
	}
	rc = apply_hw_all(l);
	if (rc) {
		hwdebug_remove(&l->hw, type, addr, kind);
		apply_hw_all(l);
	}
	return rc;
}

static int op_remove_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind)
{
	struct live *l = t;
	struct bkpt_mem mem;
	int rc;

	if (!l->cur)
		return -ESRCH;
	if (type == RSP_POINT_SW) {
		if (mem_proc(l) != l->cur)
			return 0; /* fork children are cleaned of our int3s when reported */
		live_bkpt_mem(l, l->cur, &mem);
		return bkpt_remove(l->bk, &mem, addr, BKPT_OWNER_USER);
	}
	if (type == RSP_POINT_READ)
		return -EOPNOTSUPP;
	rc = hwdebug_remove(&l->hw, type, addr, kind);
	if (rc)
		return rc;
	return apply_hw_all(l);
}

/* ---- stops and threads ---- */

static int op_last_stop(void *t, struct rsp_stop *out)
{
	struct live *l = t;

	if (!l->have_last)
		return -ESRCH;
	*out = l->last;
	return 0;
}

static int op_list_threads(void *t, struct rsp_thread_info *out, size_t cap, size_t *n)
{
	struct live *l = t;
	struct proc *p;
	size_t k = 0;

	for (p = l->pt.procs; p; p = p->next) {
		struct proc_thread *th;

		if (p->fork_child || p->engine_owned)
			continue;
		for (th = p->threads; th; th = th->next, k++) {
			if (k >= cap)
				continue;
			out[k].id.pid = p->pid;
			out[k].id.tid = th->tid;
			out[k].core = procfs_thread_core(p->pid, th->tid);
			if (procfs_thread_name(p->pid, th->tid, out[k].name, sizeof(out[k].name)))
				out[k].name[0] = '\0';
		}
	}
	*n = k;
	return 0;
}

static bool op_thread_alive(void *t, struct rsp_ptid id)
{
	struct live *l = t;
	struct proc_thread *th;

	if (id.tid <= 0)
		return live_resolve(l, id) != NULL;
	th = proc_thread_find(&l->pt, (pid_t)id.tid);
	return th && (id.pid <= 0 || th->proc->pid == id.pid);
}

static int op_pass_signals(void *t, const uint8_t *set, size_t n)
{
	struct live *l = t;
	size_t i;

	memset(l->pass, 0, sizeof(l->pass));
	for (i = 1; i < n && i < sizeof(l->pass); i++)
		l->pass[i] = set[i] ? 1 : 0;
	return 0;
}

static int op_program_signals(void *t, const uint8_t *set, size_t n)
{
	return 0; /* every signal is reported to the client unless passed; nothing to
		     store */
}

static void op_set_client_features(void *t, const struct rsp_client_features *f)
{
	struct live *l = t;

	l->feat = *f;
}

/* ---- qXfer and friends ---- */

static int op_xfer_features(void *t, const char *annex, size_t annex_len, uint64_t off,
			    uint8_t *buf, size_t len, size_t *out_len)
{
	return x86_64_target_xml_read(annex, annex_len, off, buf, len, out_len);
}

static int op_xfer_auxv(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *out_len)
{
	struct live *l = t;

	if (!l->cur)
		return -ESRCH;
	return procfs_auxv(l->cur->pid, off, buf, len, out_len);
}

static int op_siginfo_read(void *t, struct rsp_ptid id, uint64_t off, uint8_t *buf, size_t len,
			   size_t *out_len)
{
	struct live *l = t;
	struct proc_thread *th = live_resolve(l, id);
	siginfo_t si;
	int rc;

	if (!th)
		return -ESRCH;
	rc = ptr_getsiginfo(th->tid, &si);
	if (rc)
		return rc;
	*out_len = 0;
	if (off >= sizeof(si))
		return 0;
	*out_len = sizeof(si) - off < len ? sizeof(si) - off : len;
	memcpy(buf, (uint8_t *)&si + off, *out_len);
	return 0;
}

static int op_siginfo_write(void *t, struct rsp_ptid id, uint64_t off, const uint8_t *buf,
			    size_t len)
{
	struct live *l = t;
	struct proc_thread *th = live_resolve(l, id);
	siginfo_t si;
	int rc;

	if (!th)
		return -ESRCH;
	if (off > sizeof(si) || len > sizeof(si) - off)
		return -EINVAL;
	rc = ptr_getsiginfo(th->tid, &si);
	if (rc)
		return rc;
	memcpy((uint8_t *)&si + off, buf, len);
	return ptr_setsiginfo(th->tid, &si);
}

static int svr4_rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct live *l = ctx;
	size_t done;
	int rc;

	if (!l->cur)
		return -ESRCH;
	rc = live_mem_read_raw(l, l->cur, addr, buf, len, &done);
	if (rc)
		return rc;
	return done == len ? 0 : -EIO;
}

int live_exec_bias(struct live *l, uint64_t *bias)
{
	if (!l->cur)
		return -ESRCH;
	return svr4_exec_bias(l->cur->pid, svr4_rd, l, bias);
}

int live_exec_span(struct live *l, uint64_t *lo, uint64_t *hi)
{
	if (!l->cur)
		return -ESRCH;
	return svr4_exec_span(l->cur->pid, svr4_rd, l, lo, hi);
}

static int op_list_libraries(void *t, struct rsp_library *out, size_t cap, size_t *n)
{
	struct live *l = t;

	if (!l->cur)
		return -ESRCH;
	return svr4_libraries(l->cur->pid, svr4_rd, l, out, cap, n, l->libstr, sizeof(l->libstr));
}

static int op_exec_file(void *t, int64_t pid, char *buf, size_t cap)
{
	struct live *l = t;

	if (pid <= 0) {
		if (!l->cur)
			return -ESRCH;
		pid = l->cur->pid;
	}
	return procfs_exec_file((pid_t)pid, buf, cap);
}

static int op_get_cwd(void *t, char *buf, size_t cap)
{
	struct live *l = t;

	if (!l->cur)
		return -ESRCH;
	return procfs_cwd(l->cur->pid, buf, cap);
}

static int op_process_info(void *t, struct rsp_process_info *out)
{
	struct live *l = t;

	if (!l->cur)
		return -ESRCH;
	return procfs_process_info(l->cur->pid, out, l->exe_path, sizeof(l->exe_path));
}

static int op_region_info(void *t, taddr_t addr, struct rsp_region_info *out)
{
	struct live *l = t;

	if (!l->cur)
		return -ESRCH;
	return procfs_region(l->cur->pid, addr, out);
}

int live_region(struct live *l, taddr_t addr, struct rsp_region_info *out)
{
	return op_region_info(l, addr, out);
}

/* ---- host I/O: forwarded to the hostio backend when there is one ---- */

static int op_file_setfs(void *t, int64_t pid)
{
	struct live *l = t;

	return l->cfg.hostio ? hostio_setfs(l->cfg.hostio, pid) : -ENOSYS;
}

static int op_file_open(void *t, const char *path, int flags, int mode, int *fd)
{
	struct live *l = t;

	return l->cfg.hostio ? hostio_open(l->cfg.hostio, path, flags, mode, fd) : -ENOSYS;
}

static int op_file_close(void *t, int fd)
{
	struct live *l = t;

	return l->cfg.hostio ? hostio_close(l->cfg.hostio, fd) : -ENOSYS;
}

static int op_file_pread(void *t, int fd, uint8_t *buf, size_t len, uint64_t off, size_t *done)
{
	struct live *l = t;

	return l->cfg.hostio ? hostio_pread(l->cfg.hostio, fd, buf, len, off, done) : -ENOSYS;
}

static int op_file_pwrite(void *t, int fd, const uint8_t *buf, size_t len, uint64_t off,
			  size_t *done)
{
	struct live *l = t;

	return l->cfg.hostio ? hostio_pwrite(l->cfg.hostio, fd, buf, len, off, done) : -ENOSYS;
}

static int op_file_fstat(void *t, int fd, struct rsp_file_stat *st)
{
	struct live *l = t;

	return l->cfg.hostio ? hostio_fstat(l->cfg.hostio, fd, st) : -ENOSYS;
}

static int op_file_unlink(void *t, const char *path)
{
	struct live *l = t;

	return l->cfg.hostio ? hostio_unlink(l->cfg.hostio, path) : -ENOSYS;
}

static int op_file_readlink(void *t, const char *path, char *buf, size_t cap, size_t *len)
{
	struct live *l = t;

	return l->cfg.hostio ? hostio_readlink(l->cfg.hostio, path, buf, cap, len) : -ENOSYS;
}

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

static const struct rsp_target_ops live_ops = {
	.reg_layout = op_reg_layout,
	.read_regs = op_read_regs,
	.write_regs = op_write_regs,
	.write_reg = op_write_reg,
	.read_mem = op_read_mem,
	.write_mem = op_write_mem,
	.insert_point = op_insert_point,
	.remove_point = op_remove_point,
	.select_thread = op_select_thread,
	.monitor = op_monitor,
	.resume = live_resume,
	.interrupt = live_interrupt,
	.last_stop = op_last_stop,
	.list_threads = op_list_threads,
	.thread_alive = op_thread_alive,
	.kill = live_kill,
	.detach = live_detach,
	.run = live_run,
	.attach = live_attach_op,
	.attached = live_attached,
	.env_set = live_env_set,
	.env_unset = live_env_unset,
	.env_reset = live_env_reset,
	.set_cwd = live_set_cwd,
	.set_disable_aslr = live_set_disable_aslr,
	.set_startup_with_shell = live_set_startup_with_shell,
	.get_cwd = op_get_cwd,
	.pass_signals = op_pass_signals,
	.program_signals = op_program_signals,
	.xfer_features = op_xfer_features,
	.xfer_auxv = op_xfer_auxv,
	.xfer_siginfo_read = op_siginfo_read,
	.xfer_siginfo_write = op_siginfo_write,
	.list_libraries = op_list_libraries,
	.exec_file = op_exec_file,
	.file_setfs = op_file_setfs,
	.file_open = op_file_open,
	.file_close = op_file_close,
	.file_pread = op_file_pread,
	.file_pwrite = op_file_pwrite,
	.file_fstat = op_file_fstat,
	.file_unlink = op_file_unlink,
	.file_readlink = op_file_readlink,
	.process_info = op_process_info,
	.region_info = op_region_info,
	.alloc_mem = op_alloc_mem,
	.free_mem = op_free_mem,
	.set_client_features = op_set_client_features,
	.trace = &tpoints_trace_ops,
};

const struct rsp_target_ops *live_target_ops(void)
{
	return &live_ops;
}

/* ---- lifetime ---- */

static void build_layout(struct live *l)
{
	const struct x86_64_reg *r = x86_64_regs();
	unsigned i;

	for (i = 0; i < X86_64_NREGS; i++) {
		struct rsp_reg_info *o = &l->reginfo[i];

		o->name = r[i].name;
		o->alt_name = NULL;
		o->bitsize = r[i].bitsize;
		o->offset = r[i].offset;
		o->dwarf_regno = r[i].dwarf;
		o->ehframe_regno = r[i].dwarf;
		o->generic = r[i].generic;
		o->encoding = r[i].encoding;
		o->format = r[i].format;
		o->set = r[i].set;
		o->expedite = r[i].expedite;
	}
	l->layout.regs = l->reginfo;
	l->layout.nregs = X86_64_NREGS;
	l->layout.g_size = x86_64_g_size();
}

static int setup_fds(struct live *l)
{
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	/* signalfd only sees SIGCHLD while it is blocked; children unblock it before
	 * exec. */
	if (sigprocmask(SIG_BLOCK, &set, &l->old_mask))
		return -errno;
	l->mask_saved = true;
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->sigfd < 0 || l->evfd < 0 || l->epfd < 0)
		return -errno;
	ev.data.fd = l->sigfd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev))
		return -errno;
	ev.data.fd = l->evfd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev))
		return -errno;
	return 0;
}

struct live *live_new(const struct live_config *cfg)
{
	struct live *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->cfg = *cfg;
	l->shell = cfg->startup_with_shell;
	l->sigfd = l->evfd = l->epfd = -1;
	build_layout(l);
	l->bk = bkpt_table_new();
	l->tr = tpoints_new(l, &l->layout);
	hwdebug_init(&l->hw);
	if (!l->bk || !l->tr || proc_table_init(&l->pt) || setup_fds(l)) {
		live_free(l);
		return NULL;
	}
	return l;
}

static void free_strv(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void live_free(struct live *l)
{
	if (!l)
		return;
	if (l->pt.buckets) {
		live_release_all(l);
		proc_table_fini(&l->pt);
	}
	tpoints_free(l->tr);
	bkpt_table_free(l->bk);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->evfd >= 0)
		close(l->evfd);
	free_strv(l->env);
	free_strv(l->last_argv);
	free(l->cwd);
	if (l->mask_saved)
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	free(l);
}

int live_event_fd(const struct live *l)
{
	return l->epfd;
}

struct tpoints *live_trace(struct live *l)
{
	return l->tr;
}

pid_t live_current_pid(const struct live *l)
{
	return l->cur ? l->cur->pid : 0;
}

bool live_has_process(const struct live *l)
{
	return l->cur != NULL;
}
