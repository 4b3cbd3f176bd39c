/* One-time self-test of the debug registers: a forked child stops itself under ptrace, DR0 is
 * set on a function it then calls, and the trap either comes or the child exits. */
#include "stub/live/hwprobe.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int probe_counter;

__attribute__((noinline)) static void probe_target(void)
{
	probe_counter++;
	__asm__ volatile("" ::: "memory");
}

static int run_probe(void)
{
	uintptr_t dr7 = 1; /* L0, execute, length 1 */
	int st, works = 0;
	pid_t c = fork();

	if (c < 0)
		return 0;
	if (c == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		probe_target();
		_exit(0);
	}
	if (waitpid(c, &st, __WALL) != c || !WIFSTOPPED(st))
		goto out;
	if (ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[0]),
		   (void *)(uintptr_t)probe_target) ||
	    ptrace(PTRACE_POKEUSER, c, offsetof(struct user, u_debugreg[7]), (void *)dr7))
		goto out;
	if (ptrace(PTRACE_CONT, c, 0, 0))
		goto out;
	if (waitpid(c, &st, __WALL) == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP)
		works = 1;
out:
	kill(c, SIGKILL);
	while (waitpid(c, &st, __WALL) == c && !WIFEXITED(st) && !WIFSIGNALED(st))
		;
	return works;
}

bool hwprobe_debugregs_work(void)
{
	static int state = -1;

	if (state < 0)
		state = run_probe();
	return state == 1;
}
