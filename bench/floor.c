/* The ptrace floor: the least a ptrace-based tracer must do per hit, to compare tracestub with.
 *   floor step ADDR PROG ARGS...   int3 at ADDR; per hit: GETREGS, read 64 stack bytes,
 *                                  restore the byte, single-step, re-insert, continue (floor A)
 *   floor emul ADDR PROG ARGS...   same collection, then emulate the displaced `push %rbp`
 *                                  in registers and memory, continue (floor B)
 * Single-threaded programs only. Prints the hit count on stderr. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char ring[1 << 20];
static size_t ring_pos;

static int collect(pid_t pid, const struct user_regs_struct *r)
{
	/* What a tracepoint with "general registers + 64 stack bytes" stores. */
	if (ring_pos + sizeof(*r) + 64 > sizeof(ring))
		ring_pos = 0;
	memcpy(ring + ring_pos, r, sizeof(*r));
	ring_pos += sizeof(*r);
	struct iovec local = {ring + ring_pos, 64}, remote = {(void *)r->rsp, 64};
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != 64)
		return -1;
	ring_pos += 64;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: floor step|emul ADDR PROG ARGS...\n");
		return 2;
	}
	int emulate = strcmp(argv[1], "emul") == 0;
	uint64_t addr = strtoull(argv[2], NULL, 0);
	pid_t pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL);
	errno = 0;
	long word = ptrace(PTRACE_PEEKTEXT, pid, addr, 0);
	if (errno) {
		perror("floor: peek");
		return 1;
	}
	if (emulate && (word & 0xff) != 0x55) {
		fprintf(stderr, "floor: instruction at %#lx is not push %%rbp\n", (unsigned long)addr);
		return 1;
	}
	long trap = (word & ~0xffL) | 0xcc;
	ptrace(PTRACE_POKETEXT, pid, addr, trap);
	long hits = 0;
	ptrace(PTRACE_CONT, pid, 0, 0);
	for (;;) {
		if (waitpid(pid, &st, 0) < 0)
			break;
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		int sig = WSTOPSIG(st);
		struct user_regs_struct r;
		ptrace(PTRACE_GETREGS, pid, 0, &r);
		if (sig != SIGTRAP || r.rip != addr + 1) {
			ptrace(PTRACE_CONT, pid, 0, sig == SIGTRAP ? 0 : sig);
			continue;
		}
		hits++;
		collect(pid, &r);
		if (emulate) {
			r.rsp -= 8;
			struct iovec local = {&r.rbp, 8}, remote = {(void *)r.rsp, 8};
			process_vm_writev(pid, &local, 1, &remote, 1, 0);
			r.rip = addr + 1;
			ptrace(PTRACE_SETREGS, pid, 0, &r);
		} else {
			r.rip = addr;
			ptrace(PTRACE_SETREGS, pid, 0, &r);
			ptrace(PTRACE_POKETEXT, pid, addr, word);
			ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
			waitpid(pid, &st, 0);
			ptrace(PTRACE_POKETEXT, pid, addr, trap);
		}
		ptrace(PTRACE_CONT, pid, 0, 0);
	}
	fprintf(stderr, "floor: %ld hits\n", hits);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
