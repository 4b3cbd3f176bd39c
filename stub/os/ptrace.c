/* The only caller of ptrace(2) in tracestub. Wrappers convert the -1/errno
 * convention to -errno and hide the void * argument casts; they never decide
 * anything. */
#include "stub/os/os.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

static int rc_of(long r)
{
	return r == -1 ? -errno : 0;
}

int ptr_seize(pid_t tid, unsigned long options)
{
	return rc_of(ptrace(PTRACE_SEIZE, tid, NULL, (void *)options));
}

int ptr_setoptions(pid_t tid, unsigned long options)
{
	return rc_of(ptrace(PTRACE_SETOPTIONS, tid, NULL, (void *)options));
}

int ptr_interrupt(pid_t tid)
{
	return rc_of(ptrace(PTRACE_INTERRUPT, tid, NULL, NULL));
}

int ptr_cont(pid_t tid, int sig)
{
	return rc_of(ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig));
}

int ptr_syscall(pid_t tid, int sig)
{
	return rc_of(ptrace(PTRACE_SYSCALL, tid, NULL, (void *)(long)sig));
}

int ptr_syscall_entry(pid_t tid, bool *entry)
{
	/* struct ptrace_syscall_info (linux/ptrace.h, which clashes with sys/ptrace.h): only
	 * its first byte, op, is read: 1 = entry, 2 = exit. */
	uint64_t si[11];
	uint8_t op;
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(si), si);

	if (n < 0)
		return -errno;
	memcpy(&op, si, 1);
	if (op != 1 && op != 2)
		return -EINVAL;
	*entry = op == 1;
	return 0;
}

int ptr_step(pid_t tid, int sig)
{
	return rc_of(ptrace(PTRACE_SINGLESTEP, tid, NULL, (void *)(long)sig));
}

int ptr_detach(pid_t tid, int sig)
{
	return rc_of(ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig));
}

int ptr_getregs(pid_t tid, struct user_regs_struct *regs)
{
	return rc_of(ptrace(PTRACE_GETREGS, tid, NULL, regs));
}

int ptr_setregs(pid_t tid, const struct user_regs_struct *regs)
{
	return rc_of(ptrace(PTRACE_SETREGS, tid, NULL, (void *)regs));
}

int ptr_getfpregs(pid_t tid, struct user_fpregs_struct *fp)
{
	return rc_of(ptrace(PTRACE_GETFPREGS, tid, NULL, fp));
}

int ptr_setfpregs(pid_t tid, const struct user_fpregs_struct *fp)
{
	return rc_of(ptrace(PTRACE_SETFPREGS, tid, NULL, (void *)fp));
}

int ptr_getxstate(pid_t tid, uint8_t *buf, size_t cap, size_t *len)
{
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	int rc = rc_of(ptrace(PTRACE_GETREGSET, tid, (void *)(long)NT_X86_XSTATE, &iov));

	*len = rc ? 0 : iov.iov_len;
	return rc;
}

int ptr_setxstate(pid_t tid, const uint8_t *buf, size_t len)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

	return rc_of(ptrace(PTRACE_SETREGSET, tid, (void *)(long)NT_X86_XSTATE, &iov));
}

int ptr_peekuser(pid_t tid, size_t off, uint64_t *val)
{
	long v;

	errno = 0;
	v = ptrace(PTRACE_PEEKUSER, tid, (void *)off, NULL);
	if (v == -1 && errno)
		return -errno;
	*val = (uint64_t)v;
	return 0;
}

int ptr_pokeuser(pid_t tid, size_t off, uint64_t val)
{
	return rc_of(ptrace(PTRACE_POKEUSER, tid, (void *)off, (void *)val));
}

int ptr_getsiginfo(pid_t tid, siginfo_t *si)
{
	return rc_of(ptrace(PTRACE_GETSIGINFO, tid, NULL, si));
}

int ptr_setsiginfo(pid_t tid, const siginfo_t *si)
{
	return rc_of(ptrace(PTRACE_SETSIGINFO, tid, NULL, (void *)si));
}

int ptr_geteventmsg(pid_t tid, unsigned long *msg)
{
	return rc_of(ptrace(PTRACE_GETEVENTMSG, tid, NULL, msg));
}
