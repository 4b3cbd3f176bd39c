/* The capability interface between the protocol layer and whatever answers for a target
 * (the live ptrace engine, or the replay backend). A NULL member means "unsupported": the
 * packet gets an empty reply and qSupported does not advertise the feature.
 * Owns only types; never includes OS or arch headers. All addresses are target addresses. */
#ifndef TRACESTUB_PROTOCOL_TARGET_H
#define TRACESTUB_PROTOCOL_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t taddr_t;

/* A thread id as the protocol sees it: pid -1 = all, 0 = any; same for tid. */
struct rsp_ptid {
	int64_t pid;
	int64_t tid;
};

/* One register of the `g` block, in target-description regnum order. Produced by the
 * arch layer as data; the protocol layer uses it for p/P, T expedites and qRegisterInfo. */
struct rsp_reg_info {
	const char *name;
	const char *alt_name; /* may be NULL */
	uint16_t bitsize;
	uint16_t offset;     /* byte offset in the g block */
	int16_t dwarf_regno; /* -1 if none */
	int16_t ehframe_regno;
	const char *generic;  /* "pc", "sp", "fp", "flags", "arg1".."arg6", or NULL */
	const char *encoding; /* "uint", "ieee754", "vector" */
	const char *format;   /* "hex", "float", "vector-uint8" ... */
	const char *set;      /* "General Purpose Registers", ... */
	bool expedite;	      /* sent in every T stop reply */
};

struct rsp_reg_layout {
	const struct rsp_reg_info *regs;
	size_t nregs;
	size_t g_size; /* bytes in the g block */
};

enum rsp_stop_kind {
	RSP_STOP_SIGNAL,	/* T reply */
	RSP_STOP_EXITED,	/* W reply, status = exit code */
	RSP_STOP_TERMINATED,	/* X reply, signo = killing signal */
	RSP_STOP_THREAD_EXITED, /* w reply (QThreadEvents) */
	RSP_STOP_NO_RESUMED,	/* N reply */
};

enum rsp_stop_reason {
	RSP_REASON_NONE,
	RSP_REASON_SIGNAL,
	RSP_REASON_TRACE, /* single step or range step finished */
	RSP_REASON_SWBREAK,
	RSP_REASON_HWBREAK,
	RSP_REASON_WATCH,
	RSP_REASON_RWATCH,
	RSP_REASON_AWATCH,
	RSP_REASON_FORK,
	RSP_REASON_VFORK,
	RSP_REASON_VFORKDONE,
	RSP_REASON_EXEC,
	RSP_REASON_CREATE,
	RSP_REASON_LIBRARY,
	RSP_REASON_SYSCALL_ENTRY,
	RSP_REASON_SYSCALL_RETURN,
	RSP_REASON_REPLAY_BEGIN, /* replay history exhausted backwards */
	RSP_REASON_REPLAY_END,	 /* replay history exhausted forwards */
};

/* A stop as the target reports it. Signal numbers are host (Linux) numbers; the protocol
 * layer converts to gdb's numbering. Strings are borrowed for the duration of the call. */
struct rsp_stop {
	enum rsp_stop_kind kind;
	enum rsp_stop_reason reason;
	struct rsp_ptid thread;
	int signo;  /* host signal; 0 = none */
	int status; /* exit status for RSP_STOP_EXITED */
	taddr_t watch_addr;
	struct rsp_ptid child; /* fork / vfork */
	const char *exec_path; /* exec; may be NULL */
	int64_t syscall_no;
	int core;		 /* -1 unknown */
	const char *description; /* free text for lldb's description:, may be NULL */
};

enum rsp_resume_kind {
	RSP_RESUME_CONTINUE,
	RSP_RESUME_STEP,
	RSP_RESUME_RANGE_STEP, /* step while start <= pc < end */
	RSP_RESUME_STOP,       /* vCont t */
	RSP_RESUME_NONE,       /* leave the thread stopped */
};

struct rsp_resume_action {
	enum rsp_resume_kind kind;
	struct rsp_ptid thread; /* pid/tid -1 = default for every thread not named before */
	int signo;		/* host signal to deliver, 0 = none */
	taddr_t start, end;	/* range step */
	bool has_addr;		/* legacy c ADDR / s ADDR: resume at addr */
	taddr_t addr;
};

enum rsp_point_type {
	RSP_POINT_SW = 0,
	RSP_POINT_HW = 1,
	RSP_POINT_WRITE = 2,
	RSP_POINT_READ = 3,
	RSP_POINT_ACCESS = 4,
};

struct rsp_thread_info {
	struct rsp_ptid id;
	int core;      /* -1 unknown */
	char name[32]; /* comm, NUL-terminated, may be empty */
};

struct rsp_library {
	const char *name; /* path */
	taddr_t lm;	  /* struct link_map address */
	taddr_t l_addr;	  /* load bias */
	taddr_t l_ld;	  /* dynamic section */
	taddr_t lmid;
};

/* Memory sent ahead of reads (lldb's expedited memory), at most RSP_EXPEDITE_MAX bytes. */
#define RSP_EXPEDITE_MAX    1024
#define RSP_EXPEDITE_RANGES 12 /* ranges per thread */
struct rsp_mem_range {
	taddr_t addr;
	size_t len;
};

struct rsp_process_info {
	int64_t pid, ppid, uid, gid, euid, egid;
	const char *name; /* executable path; may be NULL */
};

struct rsp_region_info {
	taddr_t start, size; /* size 0 with start = next region: address unmapped */
	bool mapped;
	bool r, w, x;
	char name[256];
};

/* File-I/O stat result, host order; protocol encodes it big-endian. */
struct rsp_file_stat {
	uint32_t dev, ino, mode, nlink, uid, gid, rdev;
	uint64_t size, blksize, blocks;
	uint32_t atime, mtime, ctime;
};

/* Bytes collected by an optional monitor command; the protocol streams them as O packets. */
typedef void (*rsp_output_fn)(void *ctx, const char *text, size_t len);

/* Client features that change what the target must report. */
struct rsp_client_features {
	bool multiprocess, swbreak, hwbreak, fork_events, vfork_events, exec_events;
	bool thread_events, no_resumed, non_stop;
	bool is_lldb; /* lldb quirks: rewind pc always, no main-lm */
};

struct rsp_trace_ops; /* protocol/trace_ops.h: tracepoint capability, may be NULL */

/* Every function returns 0 or -errno unless said otherwise. `t` is the target context. */
struct rsp_target_ops {
	const struct rsp_reg_layout *(*reg_layout)(void *t);

	/* Fill the whole g block of `th` (g_size bytes) and one availability byte per register
	 * (1 = available). Unavailable bytes are sent as xx. */
	int (*read_regs)(void *t, struct rsp_ptid th, uint8_t *buf, uint8_t *avail);
	int (*write_regs)(void *t, struct rsp_ptid th, const uint8_t *buf);
	int (*write_reg)(void *t, struct rsp_ptid th, unsigned regno, const uint8_t *val,
			 size_t len);

	/* Read up to len bytes; *done = bytes read (may be short). -EIO/-EFAULT if none. */
	int (*read_mem)(void *t, taddr_t addr, uint8_t *buf, size_t len, size_t *done);
	int (*write_mem)(void *t, taddr_t addr, const uint8_t *buf, size_t len);

	/* Z/z. -EOPNOTSUPP = empty reply (type unsupported). cond/cmds may be NULL. */
	int (*insert_point)(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind);
	int (*remove_point)(void *t, enum rsp_point_type type, taddr_t addr, unsigned kind);

	/* Start the given actions. Returns 0 and later the owner calls rsp_session_report_stop(),
	 * or returns a negative errno at once. */
	int (*resume)(void *t, const struct rsp_resume_action *acts, size_t n);
	/* Interrupt byte / vCtrlC: stop the process; the stop is reported through the session. */
	int (*interrupt)(void *t);

	/* The last stop, for `?`. -ESRCH when there is no process. */
	int (*last_stop)(void *t, struct rsp_stop *out);

	/* Threads of all debugged processes. *n = total count, at most cap filled. */
	int (*list_threads)(void *t, struct rsp_thread_info *out, size_t cap, size_t *n);
	bool (*thread_alive)(void *t, struct rsp_ptid th);

	int (*kill)(void *t, int64_t pid);   /* pid -1 = all */
	int (*detach)(void *t, int64_t pid); /* pid -1 = all */
	/* Extended mode. argv[0] may be "" (reuse last program); argc 0 (R) reuses the last
	 * program and its arguments. Reports a stop through out. */
	int (*run)(void *t, char *const *argv, size_t argc, struct rsp_stop *out);
	int (*attach)(void *t, int64_t pid, struct rsp_stop *out);
	int (*attached)(void *t, int64_t pid, bool *was_attached);

	/* Launch settings for later runs. */
	int (*env_set)(void *t, const char *name_eq_value);
	int (*env_unset)(void *t, const char *name);
	int (*env_reset)(void *t);
	int (*set_cwd)(void *t, const char *dir); /* "" = default */
	int (*set_disable_aslr)(void *t, bool on);
	int (*set_startup_with_shell)(void *t, bool on);
	int (*get_cwd)(void *t, char *buf, size_t cap);

	/* QCatchSyscalls: stop at entry to and return from the syscalls nrs (n of them; n = 0:
	 * every syscall), reported with RSP_REASON_SYSCALL_ENTRY/RETURN; on = false: none. */
	int (*catch_syscalls)(void *t, bool on, const uint32_t *nrs, size_t n);

	/* Signals: set[s] != 0 for host signal s (1..64). */
	int (*pass_signals)(void *t, const uint8_t *set, size_t n);
	int (*program_signals)(void *t, const uint8_t *set, size_t n);

	/* qXfer objects. Copy up to len bytes from offset off of the object into buf, *out_len =
	 * bytes copied (0 = end). annex is borrowed (annex_len bytes, not NUL-terminated).
	 * -ENOENT: bad annex. */
	int (*xfer_features)(void *t, const char *annex, size_t annex_len, uint64_t off,
			     uint8_t *buf, size_t len, size_t *out_len);
	int (*xfer_auxv)(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *out_len);
	int (*xfer_siginfo_read)(void *t, struct rsp_ptid th, uint64_t off, uint8_t *buf,
				 size_t len, size_t *out_len);
	int (*xfer_siginfo_write)(void *t, struct rsp_ptid th, uint64_t off, const uint8_t *buf,
				  size_t len);
	/* Libraries of pid, main program excluded; *n = total, at most cap filled. Strings stay
	 * valid until the next call. */
	int (*list_libraries)(void *t, struct rsp_library *out, size_t cap, size_t *n);
	int (*exec_file)(void *t, int64_t pid, char *buf, size_t cap);

	/* Host I/O. flags/mode are already host values; errors are host -errno. */
	int (*file_setfs)(void *t, int64_t pid);
	int (*file_open)(void *t, const char *path, int flags, int mode, int *fd);
	int (*file_close)(void *t, int fd);
	int (*file_pread)(void *t, int fd, uint8_t *buf, size_t len, uint64_t off, size_t *done);
	int (*file_pwrite)(void *t, int fd, const uint8_t *buf, size_t len, uint64_t off,
			   size_t *done);
	int (*file_fstat)(void *t, int fd, struct rsp_file_stat *st);
	int (*file_unlink)(void *t, const char *path);
	int (*file_readlink)(void *t, const char *path, char *buf, size_t cap, size_t *len);

	/* lldb */
	int (*process_info)(void *t, struct rsp_process_info *out);
	int (*region_info)(void *t, taddr_t addr, struct rsp_region_info *out);
	/* qGetTLSAddr: the address of offset in thread th's TLS block of the module whose
	 * link_map is lm. -errno when it cannot be computed (gdb: "failed to process"). */
	int (*get_tls_addr)(void *t, struct rsp_ptid th, uint64_t offset, uint64_t lm,
			    taddr_t *addr);
	int (*alloc_mem)(void *t, uint64_t size, bool r, bool w, bool x, taddr_t *out);
	int (*free_mem)(void *t, taddr_t addr);

	/* monitor (qRcmd): out receives text. -ENOENT: unknown command (protocol prints help). */
	int (*monitor)(void *t, const char *cmd, size_t len, rsp_output_fn out, void *ctx);

	/* The client's features, told once after qSupported (and again if they change). */
	void (*set_client_features)(void *t, const struct rsp_client_features *f);

	/* lldb: memory to send with thread th's stop info (`memory:ADDR=HEX` in T replies,
	 * "memory" in jThreadsInfo), which lldb keeps in its first-level cache and reads before
	 * its aligned 512-byte lines; for a target that cannot serve whole lines (replay: the
	 * collected stack starts at rsp). Bytes come from read_mem. *n = count, <= cap filled. */
	int (*expedite_mem)(void *t, struct rsp_ptid th, struct rsp_mem_range *out, size_t cap,
			    size_t *n);

	/* Reverse execution (replay): move back one step / to the previous stop. Async like
	 * resume. */
	int (*reverse_step)(void *t, struct rsp_ptid th);
	int (*reverse_continue)(void *t);

	/* Hg chose a thread: memory and breakpoint packets that follow act on its process
	 * (fork children: gdb selects the child before removing breakpoints from it). */
	void (*select_thread)(void *t, struct rsp_ptid th);

	/* Non-stop mode (QNonStop:1): each thread stops and resumes on its own; resume starts
	 * only the threads its actions name and leaves the rest as they are, a `t` action stops
	 * a thread (reported as a signal-0 stop, even for a thread already stopped), interrupt
	 * stops one thread (reported as SIGINT), and every stop is reported through the session
	 * as it happens. NULL = all-stop only. */
	int (*set_non_stop)(void *t, bool on);
	/* Non-stop `?`: fn is called once for every stopped thread with its last stop (a
	 * signal-0 stop if it never reported one). */
	int (*stopped_threads)(void *t, void (*fn)(void *ctx, const struct rsp_stop *st),
			       void *ctx);

	const struct rsp_trace_ops *trace; /* NULL = no tracepoints */
};

#endif
