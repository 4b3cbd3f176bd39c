/* An in-memory fake target implementing struct rsp_target_ops, shared by test_session.c
 * and tests/fuzz/fuzz_rsp.c (included by path). Header-only with static functions because
 * each unit test is its own program. Registers: rax rbx rip eflags st0 (st0 always
 * unavailable); memory: 0x1000 bytes at 0x1000; threads 0x64 "main" and 0x65 "worker" of
 * pid 0x64; one file "/f" (fd 5). With FAKE_TARGET_TRACE defined before the include,
 * fake_trace_init() adds tracepoint ops (see the end of the file); without it the ops stay
 * NULL, so existing tests see no trace packets. */
#ifndef TRACESTUB_TESTS_FAKE_TARGET_H
#define TRACESTUB_TESTS_FAKE_TARGET_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "protocol/session.h"
#include "protocol/target.h"

#define FAKE_MEM_BASE 0x1000
#define FAKE_MEM_SIZE 0x1000
#define FAKE_G_SIZE   38

struct fake_trace;

struct fake {
	uint8_t regs[2][FAKE_G_SIZE]; /* per thread */
	uint8_t mem[FAKE_MEM_SIZE];
	struct rsp_resume_action acts[8];
	size_t nacts;
	int resumes, interrupts, kills, detaches;
	int64_t kill_pid, detach_pid;
	enum rsp_point_type pt_type;
	taddr_t pt_addr;
	unsigned pt_kind;
	int points_inserted;
	struct rsp_stop stop;
	bool has_process;
	size_t nlibs;
	char env[64], cwd[64];
	bool aslr_off, shell, non_stop, sc_on;
	size_t sc_n;
	uint32_t sc_last;
	uint8_t pass[65];
	struct rsp_client_features feat;
	int feat_calls;
	uint8_t siginfo[16];
	char file[32];
	size_t file_len;
	int64_t fs_pid;
	char argv0[64];
	size_t argc;
	struct fake_trace *tr; /* FAKE_TARGET_TRACE: tracepoint state, NULL otherwise */
};

static const struct rsp_reg_info fake_regs[] = {
	{"rax", NULL, 64, 0, 0, 0, NULL, "uint", "hex", "General Purpose Registers", false},
	{"rbx", NULL, 64, 8, 3, 3, NULL, "uint", "hex", "General Purpose Registers", false},
	{"rip", "pc", 64, 16, 16, 16, "pc", "uint", "hex", "General Purpose Registers", true},
	{"eflags", NULL, 32, 24, 49, 49, "flags", "uint", "hex", "General Purpose Registers", true},
	{"st0", NULL, 80, 28, 33, 33, NULL, "ieee754", "float", "Floating Point Registers", false},
};
static const struct rsp_reg_layout fake_layout = {fake_regs, 5, FAKE_G_SIZE};

static const struct rsp_reg_layout *fk_reg_layout(void *t)
{
	return &fake_layout;
}

static int fk_thread_index(struct rsp_ptid th)
{
	if (th.tid == 0x65)
		return 1;
	if (th.tid == 0x64 || th.tid <= 0)
		return 0;
	return -1;
}

static int fk_read_regs(void *t, struct rsp_ptid th, uint8_t *buf, uint8_t *avail)
{
	struct fake *f = t;
	int i = fk_thread_index(th);
	if (i < 0)
		return -ESRCH;
	memcpy(buf, f->regs[i], FAKE_G_SIZE);
	memset(avail, 1, 4);
	avail[4] = 0;
	return 0;
}

static int fk_write_regs(void *t, struct rsp_ptid th, const uint8_t *buf)
{
	struct fake *f = t;
	int i = fk_thread_index(th);
	if (i < 0)
		return -ESRCH;
	memcpy(f->regs[i], buf, FAKE_G_SIZE);
	return 0;
}

static int fk_read_mem(void *t, taddr_t addr, uint8_t *buf, size_t len, size_t *done)
{
	struct fake *f = t;
	*done = 0;
	if (addr < FAKE_MEM_BASE || addr >= FAKE_MEM_BASE + FAKE_MEM_SIZE)
		return -EIO;
	size_t n = FAKE_MEM_BASE + FAKE_MEM_SIZE - addr;
	if (n > len)
		n = len;
	memcpy(buf, f->mem + (addr - FAKE_MEM_BASE), n);
	*done = n;
	return 0;
}

static int fk_write_mem(void *t, taddr_t addr, const uint8_t *buf, size_t len)
{
	struct fake *f = t;
	if (addr < FAKE_MEM_BASE || addr + len > FAKE_MEM_BASE + FAKE_MEM_SIZE || addr + len < addr)
		return -EIO;
	memcpy(f->mem + (addr - FAKE_MEM_BASE), buf, len);
	return 0;
}

static int fk_insert_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind)
{
	struct fake *f = t;
	if (type == RSP_POINT_READ)
		return -EOPNOTSUPP;
	if (addr == 0)
		return -EIO;
	f->pt_type = type;
	f->pt_addr = addr;
	f->pt_kind = kind;
	f->points_inserted++;
	return 0;
}

static int fk_remove_point(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind)
{
	struct fake *f = t;
	if (type == RSP_POINT_READ)
		return -EOPNOTSUPP;
	f->points_inserted--;
	return 0;
}

static int fk_resume(void *t, const struct rsp_resume_action *acts, size_t n)
{
	struct fake *f = t;
	if (!f->has_process)
		return -ESRCH;
	f->nacts = n < 8 ? n : 8;
	memcpy(f->acts, acts, f->nacts * sizeof(*acts));
	f->resumes++;
	return 0;
}

static int fk_catch_syscalls(void *t, bool on, const uint32_t *nrs, size_t n)
{
	struct fake *f = t;
	f->sc_on = on;
	f->sc_n = n;
	f->sc_last = n ? nrs[n - 1] : 0;
	return 0;
}

/* Non-stop: thread 0x64 stopped (its last stop), 0x65 running. */
static int fk_set_non_stop(void *t, bool on)
{
	struct fake *f = t;
	f->non_stop = on;
	return 0;
}

static int fk_stopped_threads(void *t, void (*fn)(void *ctx, const struct rsp_stop *st),
			      void *ctx)
{
	struct fake *f = t;
	if (f->has_process)
		fn(ctx, &f->stop);
	return 0;
}

static int fk_interrupt(void *t)
{
	((struct fake *)t)->interrupts++;
	return 0;
}

static int fk_last_stop(void *t, struct rsp_stop *out)
{
	struct fake *f = t;
	if (!f->has_process)
		return -ESRCH;
	*out = f->stop;
	return 0;
}

static int fk_list_threads(void *t, struct rsp_thread_info *out, size_t cap, size_t *n)
{
	struct fake *f = t;
	static const struct rsp_thread_info th[2] = {
		{{0x64, 0x64}, 1, "main"},
		{{0x64, 0x65}, -1, "wo\"rk}er"},
	};
	*n = f->has_process ? 2 : 0;
	for (size_t i = 0; i < *n && i < cap; i++)
		out[i] = th[i];
	return 0;
}

static bool fk_thread_alive(void *t, struct rsp_ptid th)
{
	return ((struct fake *)t)->has_process && fk_thread_index(th) >= 0 && th.tid > 0;
}

static int fk_kill(void *t, int64_t pid)
{
	struct fake *f = t;
	f->kills++;
	f->kill_pid = pid;
	f->has_process = false;
	return 0;
}

static int fk_detach(void *t, int64_t pid)
{
	struct fake *f = t;
	f->detaches++;
	f->detach_pid = pid;
	f->has_process = false;
	return 0;
}

static int fk_run(void *t, char *const *argv, size_t argc, struct rsp_stop *out)
{
	struct fake *f = t;
	snprintf(f->argv0, sizeof(f->argv0), "%s", argv[0]);
	f->argc = argc;
	f->has_process = true;
	memset(out, 0, sizeof(*out));
	out->kind = RSP_STOP_SIGNAL;
	out->signo = 5;
	out->thread = (struct rsp_ptid){0x64, 0x64};
	out->core = -1;
	f->stop = *out;
	return 0;
}

static int fk_attach(void *t, int64_t pid, struct rsp_stop *out)
{
	if (pid != 0x64)
		return -ESRCH;
	return fk_run(t, (char *const[]){(char *)"attached"}, 1, out);
}

static int fk_attached(void *t, int64_t pid, bool *was)
{
	*was = pid == 0x64;
	return 0;
}

static int fk_env_set(void *t, const char *kv)
{
	snprintf(((struct fake *)t)->env, 64, "%s", kv);
	return 0;
}

static int fk_env_unset(void *t, const char *k)
{
	snprintf(((struct fake *)t)->env, 64, "-%s", k);
	return 0;
}

static int fk_env_reset(void *t)
{
	((struct fake *)t)->env[0] = 0;
	return 0;
}

static int fk_set_cwd(void *t, const char *d)
{
	snprintf(((struct fake *)t)->cwd, 64, "%s", d);
	return 0;
}

static int fk_get_cwd(void *t, char *buf, size_t cap)
{
	snprintf(buf, cap, "/tmp");
	return 0;
}

static int fk_set_aslr(void *t, bool on)
{
	((struct fake *)t)->aslr_off = on;
	return 0;
}

static int fk_set_shell(void *t, bool on)
{
	((struct fake *)t)->shell = on;
	return 0;
}

static int fk_pass_signals(void *t, const uint8_t *set, size_t n)
{
	memcpy(((struct fake *)t)->pass, set, n < 65 ? n : 65);
	return 0;
}

static const char fk_xml[] = "<target><architecture>i386:x86-64</architecture></target>";

static int fk_xfer_features(void *t, const char *annex, size_t alen, uint64_t off, uint8_t *buf,
			    size_t len, size_t *out)
{
	if (alen != 10 || memcmp(annex, "target.xml", 10))
		return -ENOENT;
	size_t total = sizeof(fk_xml) - 1;
	*out = 0;
	if (off >= total)
		return 0;
	*out = total - off < len ? total - off : len;
	memcpy(buf, fk_xml + off, *out);
	return 0;
}

static int fk_xfer_auxv(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *out)
{
	static const uint8_t auxv[8] = {'#', '$', '}', '*', 0, 1, 2, 3};
	*out = 0;
	if (off >= 8)
		return 0;
	*out = 8 - off < len ? 8 - off : len;
	memcpy(buf, auxv + off, *out);
	return 0;
}

static int fk_siginfo_read(void *t, struct rsp_ptid th, uint64_t off, uint8_t *buf, size_t len,
			   size_t *out)
{
	struct fake *f = t;
	*out = 0;
	if (off >= 16)
		return 0;
	*out = 16 - off < len ? 16 - off : len;
	memcpy(buf, f->siginfo + off, *out);
	return 0;
}

static int fk_siginfo_write(void *t, struct rsp_ptid th, uint64_t off, const uint8_t *buf,
			    size_t len)
{
	struct fake *f = t;
	if (off > 16 || len > 16 - off)
		return -EINVAL;
	memcpy(f->siginfo + off, buf, len);
	return 0;
}

static int fk_list_libraries(void *t, struct rsp_library *out, size_t cap, size_t *n)
{
	struct fake *f = t;
	*n = f->nlibs;
	for (size_t i = 0; i < f->nlibs && i < cap; i++)
		out[i] = (struct rsp_library){"/lib/libc.so.6", 0x7f00 + i, 0x7e00, 0x7f10, 0};
	return 0;
}

static int fk_exec_file(void *t, int64_t pid, char *buf, size_t cap)
{
	snprintf(buf, cap, "/bin/prog");
	return 0;
}

static int fk_setfs(void *t, int64_t pid)
{
	((struct fake *)t)->fs_pid = pid;
	return 0;
}

static int fk_open(void *t, const char *path, int flags, int mode, int *fd)
{
	if (strcmp(path, "/f"))
		return -ENOENT;
	if (flags & O_EXCL)
		return -EEXIST;
	*fd = 5;
	return 0;
}

static int fk_close(void *t, int fd)
{
	return fd == 5 ? 0 : -EBADF;
}

static int fk_pread(void *t, int fd, uint8_t *buf, size_t len, uint64_t off, size_t *done)
{
	struct fake *f = t;
	if (fd != 5)
		return -EBADF;
	*done = 0;
	if (off >= f->file_len)
		return 0;
	*done = f->file_len - off < len ? f->file_len - off : len;
	memcpy(buf, f->file + off, *done);
	return 0;
}

static int fk_pwrite(void *t, int fd, const uint8_t *buf, size_t len, uint64_t off, size_t *done)
{
	struct fake *f = t;
	if (fd != 5)
		return -EBADF;
	if (off + len > sizeof(f->file))
		return -EFBIG;
	memcpy(f->file + off, buf, len);
	if (off + len > f->file_len)
		f->file_len = off + len;
	*done = len;
	return 0;
}

static int fk_fstat(void *t, int fd, struct rsp_file_stat *st)
{
	struct fake *f = t;
	if (fd != 5)
		return -EBADF;
	memset(st, 0, sizeof(*st));
	st->mode = 0100644;
	st->size = f->file_len;
	st->ino = 0x23; /* '#' byte: exercises escaping */
	return 0;
}

static int fk_unlink(void *t, const char *path)
{
	return strcmp(path, "/f") ? -ENAMETOOLONG : 0;
}

static int fk_readlink(void *t, const char *path, char *buf, size_t cap, size_t *len)
{
	if (strcmp(path, "/proc/self/exe"))
		return -ENOENT;
	*len = 9;
	memcpy(buf, "/bin/prog", 9);
	return 0;
}

static int fk_process_info(void *t, struct rsp_process_info *out)
{
	*out = (struct rsp_process_info){0x64, 1, 0, 0, 0, 0, "/bin/prog"};
	return 0;
}

static int fk_region_info(void *t, taddr_t addr, struct rsp_region_info *out)
{
	memset(out, 0, sizeof(*out));
	if (addr >= FAKE_MEM_BASE && addr < FAKE_MEM_BASE + FAKE_MEM_SIZE) {
		out->start = FAKE_MEM_BASE;
		out->size = FAKE_MEM_SIZE;
		out->mapped = out->r = out->x = true;
		snprintf(out->name, sizeof(out->name), "/bin/prog");
	} else {
		out->start = addr;
		out->size = 0x10;
	}
	return 0;
}

static int fk_alloc(void *t, uint64_t size, bool r, bool w, bool x, taddr_t *out)
{
	*out = 0x7000 + (r ? 1 : 0) + (w ? 2 : 0) + (x ? 4 : 0);
	return 0;
}

static int fk_free(void *t, taddr_t addr)
{
	return addr == 0x7000 ? 0 : -EINVAL;
}

static int fk_monitor(void *t, const char *cmd, size_t len, rsp_output_fn out, void *ctx)
{
	if (len == 5 && !memcmp(cmd, "hello", 5)) {
		out(ctx, "hi\n", 3);
		return 0;
	}
	if (len == 4 && !memcmp(cmd, "help", 4)) {
		out(ctx, "  hello\n", 8);
		return 0;
	}
	return -ENOENT;
}

static void fk_set_features(void *t, const struct rsp_client_features *feat)
{
	struct fake *f = t;
	f->feat = *feat;
	f->feat_calls++;
}

/* Fill ops with every capability of the fake and reset its state. */
static inline void fake_init(struct fake *f, struct rsp_target_ops *ops)
{
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < FAKE_G_SIZE; i++) {
		f->regs[0][i] = (uint8_t)i;
		f->regs[1][i] = (uint8_t)(0x80 + i);
	}
	for (int i = 0; i < FAKE_MEM_SIZE; i++)
		f->mem[i] = (uint8_t)i;
	f->has_process = true;
	f->stop = (struct rsp_stop){
		.kind = RSP_STOP_SIGNAL, .signo = 5, .thread = {0x64, 0x64}, .core = 1};
	memcpy(f->file, "hello}world#", 12);
	f->file_len = 12;
	*ops = (struct rsp_target_ops){
		.reg_layout = fk_reg_layout,
		.read_regs = fk_read_regs,
		.write_regs = fk_write_regs,
		.read_mem = fk_read_mem,
		.write_mem = fk_write_mem,
		.insert_point = fk_insert_point,
		.remove_point = fk_remove_point,
		.resume = fk_resume,
		.interrupt = fk_interrupt,
		.last_stop = fk_last_stop,
		.list_threads = fk_list_threads,
		.thread_alive = fk_thread_alive,
		.kill = fk_kill,
		.detach = fk_detach,
		.run = fk_run,
		.attach = fk_attach,
		.attached = fk_attached,
		.env_set = fk_env_set,
		.env_unset = fk_env_unset,
		.env_reset = fk_env_reset,
		.set_cwd = fk_set_cwd,
		.set_disable_aslr = fk_set_aslr,
		.set_startup_with_shell = fk_set_shell,
		.get_cwd = fk_get_cwd,
		.pass_signals = fk_pass_signals,
		.program_signals = fk_pass_signals,
		.xfer_features = fk_xfer_features,
		.xfer_auxv = fk_xfer_auxv,
		.xfer_siginfo_read = fk_siginfo_read,
		.xfer_siginfo_write = fk_siginfo_write,
		.list_libraries = fk_list_libraries,
		.exec_file = fk_exec_file,
		.file_setfs = fk_setfs,
		.file_open = fk_open,
		.file_close = fk_close,
		.file_pread = fk_pread,
		.file_pwrite = fk_pwrite,
		.file_fstat = fk_fstat,
		.file_unlink = fk_unlink,
		.file_readlink = fk_readlink,
		.process_info = fk_process_info,
		.region_info = fk_region_info,
		.alloc_mem = fk_alloc,
		.free_mem = fk_free,
		.monitor = fk_monitor,
		.set_client_features = fk_set_features,
		.set_non_stop = fk_set_non_stop,
		.catch_syscalls = fk_catch_syscalls,
		.stopped_threads = fk_stopped_threads,
	};
}

#ifdef FAKE_TARGET_TRACE
#include "tests/unit/fake_trace.h"
#endif

#endif
