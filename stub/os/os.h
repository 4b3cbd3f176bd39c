/* stub/os/: the operating system's interfaces and nothing else: ptrace(2) (the only caller), /proc,
 * the dynamic loader's link map (svr4) and host file I/O for vFile. No policy; no other stub
 * folder. */
#ifndef TRACESTUB_STUB_OS_OS_H
#define TRACESTUB_STUB_OS_OS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/target.h"

/* Thin wrappers over ptrace(2): the only file in the tree that calls it. Each
 * returns 0 or -errno; results come back through out-parameters. No policy
 * lives here. */
struct user_regs_struct;
struct user_fpregs_struct;

/* PTRACE_SEIZE tid with PTRACE_O_* options. */
int ptr_seize(pid_t tid, unsigned long options);
int ptr_setoptions(pid_t tid, unsigned long options);
/* PTRACE_INTERRUPT: a seized running thread enters PTRACE_EVENT_STOP. */
int ptr_interrupt(pid_t tid);
/* Resume (continue / single-step) delivering signal sig (0 = none). */
int ptr_cont(pid_t tid, int sig);
int ptr_step(pid_t tid, int sig);
/* PTRACE_SYSCALL; a syscall-stop's kind (entry or exit; PTRACE_GET_SYSCALL_INFO). */
int ptr_syscall(pid_t tid, int sig);
int ptr_syscall_entry(pid_t tid, bool *entry);
int ptr_detach(pid_t tid, int sig);

int ptr_getregs(pid_t tid, struct user_regs_struct *regs);
int ptr_setregs(pid_t tid, const struct user_regs_struct *regs);
int ptr_getfpregs(pid_t tid, struct user_fpregs_struct *fp);
int ptr_setfpregs(pid_t tid, const struct user_fpregs_struct *fp);
/* NT_X86_XSTATE through PTRACE_GETREGSET; *len = bytes the kernel filled. */
int ptr_getxstate(pid_t tid, uint8_t *buf, size_t cap, size_t *len);
int ptr_setxstate(pid_t tid, const uint8_t *buf, size_t len);

/* PEEKUSER / POKEUSER at a byte offset into struct user (debug registers). */
int ptr_peekuser(pid_t tid, size_t off, uint64_t *val);
int ptr_pokeuser(pid_t tid, size_t off, uint64_t val);

int ptr_getsiginfo(pid_t tid, siginfo_t *si);
int ptr_setsiginfo(pid_t tid, const siginfo_t *si);
/* PTRACE_GETEVENTMSG: new tid/pid after clone/fork, exit status... */
int ptr_geteventmsg(pid_t tid, unsigned long *msg);

/* /proc readers used by the ptrace engine. Errors are -errno. */
int procfs_auxv(pid_t pid, uint64_t off, uint8_t *buf, size_t len, size_t *out_len);
int procfs_exec_file(pid_t pid, char *buf, size_t cap);
/* lldb qMemoryRegionInfo semantics: the mapping containing addr, or the unmapped gap up to the
 * next mapping (mapped=false). */
int procfs_region(pid_t pid, uint64_t addr, struct rsp_region_info *out);
int procfs_process_info(pid_t pid, struct rsp_process_info *out, char *namebuf, size_t cap);
int procfs_thread_name(pid_t pid, pid_t tid, char *buf, size_t cap);
int procfs_thread_core(pid_t pid, pid_t tid); /* -1 unknown */
/* The signals pending for thread tid itself (SigPnd: bit n-1 for signal n), not the
 * process-wide set. 0 or -errno. */
int procfs_thread_sigpending(pid_t pid, pid_t tid, uint64_t *mask);
int procfs_list_tids(pid_t pid, pid_t *out, size_t cap, size_t *n);
int procfs_cwd(pid_t pid, char *buf, size_t cap);

/* The dynamic loader's library list (r_debug / link_map walk). */
typedef int (*svr4_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Walk r_debug/link_map of pid: AT_PHDR/AT_PHNUM from auxv -> PT_PHDR gives the load bias ->
 * PT_DYNAMIC -> DT_DEBUG -> r_debug.r_map chain. Main program (first entry) excluded; entries
 * with empty names excluded. Names copied into strings[]. r_debug not initialised yet ->
 * *n = 0, return 0. */
/* Value of auxv entry type of pid. 0, -ENOENT or -errno. */
int svr4_auxv(pid_t pid, uint64_t type, uint64_t *val);
/* Load bias of pid's main executable (AT_PHDR minus PT_PHDR's p_vaddr). -ENOENT without a
 * PT_PHDR (static executable). */
int svr4_exec_bias(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *bias);
/* Link-time span [lo, hi) of the main executable's PT_LOAD segments. -ENOENT if none. */
int svr4_exec_span(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *lo, uint64_t *hi);
/* Address of r_debug from the main program's DT_DEBUG (auxv AT_PHDR/AT_PHNUM -> PT_PHDR bias
 * -> PT_DYNAMIC). *rdebug = 0 (return 0) without PT_DYNAMIC or before the loader set it;
 * -ENOENT without PT_PHDR or DT_DEBUG (a static program, ld.so run as the program: the
 * client finds the list itself, as after gdbserver's error reply). */
int svr4_rdebug(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *rdebug);
/* The executable's static TLS block: it starts *off bytes below the thread pointer (glibc's
 * x86_64 layout). 0, -ENOENT (no PT_TLS) or -errno. */
int svr4_exec_tls_offset(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *off);
/* The executable's link_map (the first of r_debug.r_map). 0, -ENOENT or -errno. */
int svr4_main_lm(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *lm);
int svr4_libraries(pid_t pid, svr4_read_fn rd, void *ctx, struct rsp_library *out, size_t cap,
		   size_t *n, char *strings, size_t strcap);

/* vFile backend: own fd table, optional confinement to a root directory. Errors are -errno. */
struct hostio;
struct hostio *hostio_new(const char *root /* --file-root DIR or NULL */); /* NULL: no memory */
void hostio_free(struct hostio *h);
int hostio_setfs(struct hostio *h, int64_t pid); /* 0 = stub's view; else /proc/PID/root */
int hostio_open(struct hostio *h, const char *path, int flags, int mode, int *fd);
int hostio_close(struct hostio *h, int fd);
int hostio_pread(struct hostio *h, int fd, uint8_t *buf, size_t len, uint64_t off, size_t *done);
int hostio_pwrite(struct hostio *h, int fd, const uint8_t *buf, size_t len, uint64_t off,
		  size_t *done);
int hostio_fstat(struct hostio *h, int fd, struct rsp_file_stat *st);
int hostio_unlink(struct hostio *h, const char *path);
int hostio_readlink(struct hostio *h, const char *path, char *buf, size_t cap, size_t *len);

#endif
