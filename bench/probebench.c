/* The probe engine's per-hit cost (make bench): bench/workload under stub/live/live.h with a
 * collecting probe on f (general registers, already fetched by the engine, plus 64 stack
 * bytes through one live_readv), run headless. Prints one line:
 *   hits=H ns=RUN_NS
 * where RUN_NS is the wall time from the resume after the probes are in place to the exit
 * (scripts/bench.sh subtracts the untraced time and divides).
 *   probebench [-p EXTRA_PROBES] [-s SYMBOL] [-o OFFSET] WORKLOAD CALLS THREADS
 * EXTRA_PROBES are placed on never-hit instructions of the workload's nop sled (nop_sled);
 * the probe is at SYMBOL (default f) + OFFSET (default 0: push %rbp, emulated; 4 is
 * mov %rdi,-0x8(%rbp), a store: stepped out of line). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/live/live.h"

struct frame {
	struct user_regs_struct regs;
	uint8_t stack[64];
};

static struct frame ring[4096];
static unsigned long hits, failed_reads;

static enum probe_verdict collect(void *ctx, const struct probe_hit *h)
{
	struct live *l = ctx;
	struct frame *f = &ring[hits++ % (sizeof(ring) / sizeof(ring[0]))];
	struct iovec local = {.iov_base = f->stack, .iov_len = sizeof(f->stack)};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)h->regs->rsp,
			       .iov_len = sizeof(f->stack)};

	f->regs = *h->regs;
	if (live_readv(l, h->pid, &local, &remote, 1) != (ssize_t)sizeof(f->stack))
		failed_reads++;
	return PROBE_RESUME;
}

static enum probe_verdict never(void *ctx, const struct probe_hit *h)
{
	return PROBE_RESUME;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The workload is built -no-pie: link-time addresses are the run-time ones. */
static int lookup(const char *path, const char *name, uint64_t *addr, uint64_t *size)
{
	struct elfsym *es;
	const struct elfsym_func *f;

	if (elfsym_open(path, &es))
		return -1;
	f = elfsym_find(es, name);
	if (f) {
		*addr = f->addr;
		*size = f->size;
	}
	elfsym_free(es);
	return f ? 0 : -1;
}

static int run(struct live *l)
{
	if (live_resume_all(l))
		return -1;
	for (;;) {
		struct pollfd pfd = {.fd = live_event_fd(l), .events = POLLIN};
		struct rsp_stop st;
		int r = live_handle_events(l, &st);

		if (r < 0)
			return r;
		if (r && (st.kind == RSP_STOP_EXITED || st.kind == RSP_STOP_TERMINATED))
			return st.kind == RSP_STOP_EXITED ? st.status : 128 + st.signo;
		if (r && live_resume_all(l))
			return -1;
		if (!r && poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
}

int main(int argc, char **argv)
{
	struct live_config cfg = {0};
	const char *symbol = "f";
	long extra = 0, offset = 0;
	uint64_t f_addr = 0, f_size = 0, sled = 0, sled_size = 0, t0, t1;
	struct live *l;
	struct rsp_stop st;
	int opt, rc;

	while ((opt = getopt(argc, argv, "p:s:o:")) != -1) {
		if (opt == 'p')
			extra = atol(optarg);
		else if (opt == 'o')
			offset = atol(optarg);
		else if (opt == 's')
			symbol = optarg;
		else
			return 2;
	}
	if (argc - optind != 3) {
		fprintf(stderr, "usage: probebench [-p N] [-s SYMBOL] [-o OFFSET] WORKLOAD CALLS "
				"THREADS\n");
		return 2;
	}
	if (lookup(argv[optind], symbol, &f_addr, &f_size) ||
	    (extra && (lookup(argv[optind], "nop_sled", &sled, &sled_size) ||
		       sled_size < (uint64_t)extra))) {
		fprintf(stderr, "probebench: symbols missing in %s\n", argv[optind]);
		return 1;
	}
	l = live_new(&cfg);
	if (!l || live_launch(l, argv + optind) ||
	    live_target_ops()->last_stop(l, &st)) {
		fprintf(stderr, "probebench: cannot launch %s\n", argv[optind]);
		return 1;
	}
	for (long i = 0; i < extra; i++)
		if (live_probe_insert(l, (pid_t)st.thread.pid, sled + (uint64_t)i, never, NULL)) {
			fprintf(stderr, "probebench: %s\n", live_last_error(l));
			return 1;
		}
	if (live_probe_insert(l, (pid_t)st.thread.pid, f_addr + (uint64_t)offset, collect, l)) {
		fprintf(stderr, "probebench: %s\n", live_last_error(l));
		return 1;
	}
	t0 = now_ns();
	rc = run(l);
	t1 = now_ns();
	live_free(l);
	printf("hits=%lu ns=%llu\n", hits, (unsigned long long)(t1 - t0));
	if (rc || failed_reads) {
		fprintf(stderr, "probebench: exit %d, %lu failed reads\n", rc, failed_reads);
		return 1;
	}
	return 0;
}
