/* The live target's qXfer objects and process facts (auxv, siginfo, libraries, exec file,
 * cwd, process and region info for lldb) and host I/O, forwarded to the hostio backend. */
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

/* A __thread variable of the executable: its static TLS block ends at the thread pointer
 * (fs_base). Libraries' blocks need the dynamic loader's own bookkeeping (what gdbserver asks
 * libthread_db for): refused with -EIO, gdb says it could not get the address. */
static int op_get_tls_addr(void *t, struct rsp_ptid id, uint64_t offset, uint64_t lm, taddr_t *addr)
{
	struct live *l = t;
	struct proc_thread *th = live_resolve(l, id);
	struct user_regs_struct r;
	uint64_t main_lm, block;
	int rc;

	if (!th || th->proc != l->cur)
		return -ESRCH;
	if ((rc = svr4_main_lm(l->cur->pid, svr4_rd, l, &main_lm)) ||
	    (rc = svr4_exec_tls_offset(l->cur->pid, svr4_rd, l, &block)))
		return rc == -ENOENT ? -EIO : rc;
	/* gdb sends lm 0 for the executable when the library list named no main-lm */
	if (lm && lm != main_lm)
		return -EIO;
	if ((rc = ptr_getregs(th->tid, &r)))
		return rc;
	*addr = r.fs_base - block + offset;
	return 0;
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

void live_ops_info(struct rsp_target_ops *o)
{
	o->get_cwd = op_get_cwd;
	o->xfer_features = op_xfer_features;
	o->xfer_auxv = op_xfer_auxv;
	o->xfer_siginfo_read = op_siginfo_read;
	o->xfer_siginfo_write = op_siginfo_write;
	o->list_libraries = op_list_libraries;
	o->exec_file = op_exec_file;
	o->file_setfs = op_file_setfs;
	o->file_open = op_file_open;
	o->file_close = op_file_close;
	o->file_pread = op_file_pread;
	o->file_pwrite = op_file_pwrite;
	o->file_fstat = op_file_fstat;
	o->file_unlink = op_file_unlink;
	o->file_readlink = op_file_readlink;
	o->process_info = op_process_info;
	o->region_info = op_region_info;
	o->get_tls_addr = op_get_tls_addr;
}
