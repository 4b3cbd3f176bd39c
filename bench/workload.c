/* Benchmark workload: f(a,b) called N times in each of T threads. Built -O0 -no-pie so that f
 * starts with `push %rbp` like most unoptimised function entries. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long iterations;

/* Never called: 16384 one-byte nops, where probebench places its never-hit probes. */
__asm__(".text\n.globl nop_sled\n.type nop_sled,@function\nnop_sled:\n"
	".fill 16384,1,0x90\nret\n.size nop_sled, .-nop_sled\n");
static volatile long sink;

/* Its body opens with a 5-byte nop: gdbserver's fast tracepoints need an instruction of at
 * least 5 bytes where they go (gdb asks qTMinFTPILen), so gdb's `ftrace f` lands there for
 * gdbserver + libinproctrace as for tracestub. */
__attribute__((noinline)) long f(long a, long b)
{
	__asm__ volatile(".byte 0x0f, 0x1f, 0x44, 0x00, 0x00"); /* nopl 0(%rax,%rax,1) */
	return a * 3 + b;
}

static struct timespec t0s[64], t1s[64], c0s[64], c1s[64];
static int timed;
static pthread_barrier_t ready, done;

static long ns_of(const struct timespec *t)
{
	return t->tv_sec * 1000000000L + t->tv_nsec;
}

/* With WORKLOAD_TIME each thread makes one call that is not timed (the tracer's per-thread
 * set-up, e.g. its ring, happens there), waits for the others to have made theirs, then
 * times its loop, and exits only when every loop is over (a thread's exit makes a tracer
 * handle its records then: not while the others' loops are timed). */
static void *worker(void *arg)
{
	long s = 0, id = (long)arg - 1;
	if (timed) {
		s += f(-1, (long)arg);
		pthread_barrier_wait(&ready);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0s[id]);
	clock_gettime(CLOCK_MONOTONIC, &t0s[id]);
	for (long i = 0; i < iterations; i++)
		s += f(i, (long)arg);
	clock_gettime(CLOCK_MONOTONIC, &t1s[id]);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1s[id]);
	if (timed)
		pthread_barrier_wait(&done);
	sink += s;
	return NULL;
}

int main(int argc, char **argv)
{
	iterations = argc > 1 ? atol(argv[1]) : 100000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	pthread_t tid[64];
	long first = 0, last = 0, cpu = 0;
	if (threads < 1 || threads > 64)
		return 2;
	timed = getenv("WORKLOAD_TIME") != NULL;
	pthread_barrier_init(&ready, NULL, (unsigned)threads);
	pthread_barrier_init(&done, NULL, (unsigned)threads);
	if (threads == 1) {
		worker((void *)1);
	} else {
		for (int i = 0; i < threads; i++)
			pthread_create(&tid[i], NULL, worker, (void *)(long)(i + 1));
		for (int i = 0; i < threads; i++)
			pthread_join(tid[i], NULL);
	}
	/* make bench's fast-path rows time the calls themselves, not the tracer's start-up: from
	 * the first thread's start of its loop to the last one's end (all the calls, however the
	 * threads shared the CPUs) */
	for (int i = 0; i < threads; i++) {
		if (!i || ns_of(&t0s[i]) < first)
			first = ns_of(&t0s[i]);
		if (!i || ns_of(&t1s[i]) > last)
			last = ns_of(&t1s[i]);
		cpu += ns_of(&c1s[i]) - ns_of(&c0s[i]);
	}
	/* and the CPU time the loops took, all threads: what a hit costs the thread that makes
	 * it, however the scheduler placed the threads */
	if (timed)
		fprintf(stderr, "loop_ns=%ld\ncpu_ns=%ld\n", last - first, cpu);
	printf("done %ld\n", (long)sink);
	return 0;
}
