/* The probe engine (stub/probe.h) on real fixtures, driven directly: the instruction zoo
 * (every site counted exactly, output identical to an untraced run), a hammer of threads,
 * the same under a client breakpoint hit and continued as gdb does, 1000 forks (no child
 * dies of SIGTRAP), a signal storm (every signal delivered), exec, the dynamic loader hook,
 * while-stepping and a probe's stop. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stub/elfsym.h"
#include "stub/live.h"
#include "stub/live_internal.h"
#include "stub/module.h"
#include "stub/probe.h"

static int n_test;
static int failed;
static char fixdir[PATH_MAX - 64];
static const struct rsp_target_ops *ops;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	n_test++;
	if (!cond)
		failed = 1;
	printf("%sok %d - ", cond ? "" : "not ", n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void skip(const char *why)
{
	n_test++;
	printf("ok %d # SKIP %s\n", n_test, why);
}

static void fixture(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", fixdir, name);
}

/* ---- running programs ---- */

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Untraced run, stdout into out_path. Returns the wait status. */
static int run_plain(char *const *argv, const char *out_path)
{
	int st = -1, fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t p = fork();

	if (p == 0) {
		dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd);
	waitpid(p, &st, 0);
	return st;
}

/* Launch under the live engine (stopped at exec), its stdout into out_path. */
static pid_t launch_to(struct live *l, char *const *argv, const char *out_path)
{
	int saved = dup(1), fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct rsp_stop st;
	int rc;

	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	rc = live_launch(l, argv);
	dup2(saved, 1);
	close(saved);
	if (rc || ops->last_stop(l, &st))
		return -1;
	return (pid_t)st.thread.pid;
}

/* Next stop reported by the engine; the poll timeout only guards against a hung test. */
static int next_stop(struct live *l, struct rsp_stop *st)
{
	for (;;) {
		struct pollfd pfd = {.fd = live_event_fd(l), .events = POLLIN};
		int r = live_handle_events(l, st);

		if (r)
			return r;
		if (poll(&pfd, 1, 60000) <= 0)
			return -ETIMEDOUT;
	}
}

/* Headless run to the end: the exit status (as RSP_STOP_EXITED status), -1 otherwise. */
static int run_headless(struct live *l)
{
	struct rsp_stop st;

	if (live_resume_all(l))
		return -1;
	for (;;) {
		int r = next_stop(l, &st);

		if (r < 0)
			return -1;
		if (st.kind == RSP_STOP_EXITED)
			return st.status;
		if (st.kind == RSP_STOP_TERMINATED) {
			printf("# terminated by signal %d\n", st.signo);
			return -1;
		}
		printf("# unexpected stop reason %d sig %d at thread %lld\n", st.reason, st.signo,
		       (long long)st.thread.tid);
		if (live_resume_all(l))
			return -1;
	}
}

/* Address of a symbol of the fixture's main executable in process pid. */
static uint64_t sym(pid_t pid, const char *exe, const char *name)
{
	struct module_set *set = NULL;
	char real[PATH_MAX];
	uint64_t a = 0;

	if (!realpath(exe, real) || module_set_from_pid(pid, &set))
		return 0;
	for (size_t i = 0; i < set->n && !a; i++) {
		const struct elfsym_func *f;

		if (strcmp(set->mods[i].path, real))
			continue;
		f = elfsym_find(set->mods[i].syms, name);
		if (f)
			a = f->addr + set->mods[i].bias;
	}
	module_set_free(set);
	return a;
}

/* ---- a counting probe ---- */

struct counter {
	unsigned long hits, bad;
	uint64_t addr;
	uint64_t last_ns;
};

static enum probe_verdict count_hit(void *ctx, const struct probe_hit *h)
{
	struct counter *c = ctx;

	c->hits++;
	if (h->addr != c->addr || h->regs->rip != c->addr || h->step || !h->time_ns ||
	    h->time_ns < c->last_ns)
		c->bad++;
	c->last_ns = h->time_ns;
	return PROBE_RESUME;
}

static int probe_at(struct live *l, pid_t pid, uint64_t addr, struct counter *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->addr = addr;
	rc = addr ? live_probe_insert(l, pid, addr, count_hit, c) : -ENOENT;
	if (rc)
		printf("# insert 0x%llx: %d %s\n", (unsigned long long)addr, rc,
		       live_last_error(l));
	return rc;
}

static struct live *new_live(void)
{
	struct live_config cfg = {.debug = getenv("LIVE_DEBUG") != NULL};

	return live_new(&cfg);
}

/* ---- (a) the zoo ---- */

struct zoo_site {
	const char *name;
	unsigned per_round;
	bool avx;
};

static const struct zoo_site zoo_sites[] = {
	{"zoo_riprel_mov", 1, false},	{"zoo_after_mov", 1, false},
	{"zoo_lea", 1, false},		{"zoo_leaf", 2, false},
	{"zoo_call_site", 1, false},	{"zoo_call_ind_site", 1, false},
	{"zoo_jmp", 1, false},		{"zoo_jmp_ind_site", 1, false},
	{"zoo_jcc_site", 2, false},	{"zoo_ret_site", 1, false},
	{"zoo_pushpop", 1, false},	{"zoo_pop_site", 1, false},
	{"zoo_syscall_site", 1, false}, {"zoo_cmpxchg_site", 1, false},
	{"zoo_avx", 1, true},		{"zoo_avx_rip", 1, true},
	{"zoo_endbr", 1, false},	{"zoo_endbr_next", 1, false},
	{"zoo_pushf", 1, false},	{"zoo_rep_site", 1, false},
	{"zoo_fault", 1, false},
};
#define NZOO	   (sizeof(zoo_sites) / sizeof(zoo_sites[0]))
#define ZOO_ROUNDS 5

static void test_zoo(void)
{
	char exe[PATH_MAX];
	char *argv[] = {exe, NULL};
	struct counter c[NZOO];
	struct live *l = new_live();
	int avx = __builtin_cpu_supports("avx"), inserted = 0, exact = 0, st;
	char plain[1 << 16];
	pid_t pid;

	fixture(exe, sizeof(exe), "zoo");
	st = run_plain(argv, "/tmp/test_probe_zoo.plain");
	snprintf(plain, sizeof(plain), "%s", slurp("/tmp/test_probe_zoo.plain"));
	ok(WIFEXITED(st) && !WEXITSTATUS(st) && strlen(plain) > 100, "zoo runs untraced");
	pid = launch_to(l, argv, "/tmp/test_probe_zoo.traced");
	ok(pid > 0, "zoo launched");
	if (pid <= 0)
		return;
	for (size_t i = 0; i < NZOO; i++)
		inserted += probe_at(l, pid, sym(pid, exe, zoo_sites[i].name), &c[i]) == 0;
	ok(inserted == (int)NZOO, "a probe on each of %zu zoo instructions", NZOO);
	ok(live_probe_insert(l, pid, c[0].addr, count_hit, &c[0]) == -EEXIST,
	   "same fn+ctx twice: -EEXIST");
	ok(run_headless(l) == 0, "zoo runs to exit 0 under probes");
	ok(!strcmp(plain, slurp("/tmp/test_probe_zoo.traced")), "output identical to untraced");
	for (size_t i = 0; i < NZOO; i++) {
		unsigned long want =
			zoo_sites[i].avx && !avx ? 0 : ZOO_ROUNDS * zoo_sites[i].per_round;

		if (c[i].hits == want && !c[i].bad)
			exact++;
		else
			printf("# %s: %lu hits (%lu bad), want %lu\n", zoo_sites[i].name, c[i].hits,
			       c[i].bad, want);
	}
	ok(exact == (int)NZOO, "every site counted exactly (%d of %zu)", exact, NZOO);
	if (avx)
		ok(c[14].hits == ZOO_ROUNDS && c[15].hits == ZOO_ROUNDS, "AVX loads stepped over");
	else
		skip("CPU without AVX");
	ok(l->emulated > 0 && l->steps > 0, "both emulated (%llu) and out-of-line (%llu) steps",
	   l->emulated, l->steps);
	live_free(l);
}

/* Probes outside what can be stepped over are refused with a reason. */
static void test_refusals(void)
{
	char exe[PATH_MAX];
	char *argv[] = {exe, NULL};
	struct live *l = new_live();
	struct counter c;
	pid_t pid;
	uint64_t a;

	fixture(exe, sizeof(exe), "zoo");
	pid = launch_to(l, argv, "/dev/null");
	a = sym(pid, exe, "zoo_lea");
	ok(live_probe_insert(l, pid + 100000, a, count_hit, &c) == -ESRCH && *live_last_error(l),
	   "unknown pid refused: %s", live_last_error(l));
	ok(live_probe_insert(l, pid, 8, count_hit, &c) < 0 && *live_last_error(l),
	   "unreadable address refused: %s", live_last_error(l));
	ok(live_probe_remove(l, pid, a, count_hit, &c) == -ENOENT, "remove of nothing: -ENOENT");
	ok(probe_at(l, pid, a, &c) == 0 && live_probe_remove(l, pid, a, count_hit, &c) == 0,
	   "insert then remove");
	ok(probe_at(l, pid, a, &c) == 0, "insert again after remove");
	ops->kill(l, pid);
	live_free(l);
}

/* ---- (b) hammer, (c) the same under a client breakpoint ---- */

#define HAMMER_THREADS 8
static long hammer_calls = 10000; /* per thread; PROBE_CALLS overrides */

static void hammer_argv(char *exe, size_t cap, char **argv, char *a1, char *a2, char *a3,
			long calls, long other)
{
	fixture(exe, cap, "hammer");
	snprintf(a1, 16, "%d", HAMMER_THREADS);
	snprintf(a2, 24, "%ld", calls);
	snprintf(a3, 24, "%ld", other);
	argv[0] = exe;
	argv[1] = a1;
	argv[2] = a2;
	argv[3] = a3;
	argv[4] = NULL;
}

static uint64_t ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (uint64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (uint64_t)(t1.tv_nsec / 1000000) -
	       (uint64_t)(t0->tv_nsec / 1000000);
}

static void test_hammer(int runs, bool force_inline)
{
	char exe[PATH_MAX], a1[16], a2[24], a3[24], *argv[5], plain[4096];
	long calls = force_inline ? 2000 : hammer_calls;
	int good = 0;
	struct timespec t0;

	hammer_argv(exe, sizeof(exe), argv, a1, a2, a3, calls, 0);
	run_plain(argv, "/tmp/test_probe_hammer.plain");
	snprintf(plain, sizeof(plain), "%s", slurp("/tmp/test_probe_hammer.plain"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int r = 0; r < runs; r++) {
		struct live *l = new_live();
		struct counter c_fn, c_mid;
		pid_t pid;
		int rc;

		l->probe_force_inline = force_inline;
		pid = launch_to(l, argv, "/tmp/test_probe_hammer.traced");
		if (pid <= 0 || probe_at(l, pid, sym(pid, exe, "hammer_fn"), &c_fn) ||
		    probe_at(l, pid, sym(pid, exe, "hammer_mid"), &c_mid)) {
			live_free(l);
			continue;
		}
		rc = run_headless(l);
		if (!rc && c_fn.hits == (unsigned long)(HAMMER_THREADS * calls) &&
		    c_mid.hits == c_fn.hits && !c_fn.bad && !c_mid.bad &&
		    !strcmp(plain, slurp("/tmp/test_probe_hammer.traced")))
			good++;
		else
			printf("# run %d: exit %d, hits %lu/%lu (bad %lu/%lu), want %ld each\n", r,
			       rc, c_fn.hits, c_mid.hits, c_fn.bad, c_mid.bad,
			       HAMMER_THREADS * calls);
		live_free(l);
	}
	ok(good == runs,
	   "hammer%s: %d threads x %ld calls, 2 probes: every hit counted, same result, %d of "
	   "%d runs (%llu ms)",
	   force_inline ? " (inline step-overs)" : "", HAMMER_THREADS, calls, good, runs,
	   (unsigned long long)ms_since(&t0));
}

/* What gdb does at its breakpoint: z0, step the thread, Z0, continue. */
static int client_step_over(struct live *l, struct rsp_ptid th, uint64_t addr)
{
	struct rsp_resume_action step = {.kind = RSP_RESUME_STEP, .thread = th};
	struct rsp_resume_action cont = {.kind = RSP_RESUME_CONTINUE, .thread = {-1, -1}};
	struct rsp_stop st;

	if (ops->remove_point(l, RSP_POINT_SW, addr, 1) || ops->resume(l, &step, 1) ||
	    next_stop(l, &st) != 1)
		return -1;
	if (st.reason != RSP_REASON_TRACE || st.thread.tid != th.tid) {
		printf("# step over the breakpoint: reason %d thread %lld\n", st.reason,
		       (long long)st.thread.tid);
		return -1;
	}
	if (ops->insert_point(l, RSP_POINT_SW, addr, 1))
		return -1;
	return ops->resume(l, &cont, 1);
}

static void test_client_breakpoint(void)
{
	char exe[PATH_MAX], a1[16], a2[24], a3[24], *argv[5], plain[4096];
	struct rsp_client_features f = {.swbreak = true, .multiprocess = true};
	struct rsp_resume_action cont = {.kind = RSP_RESUME_CONTINUE, .thread = {-1, -1}};
	struct counter c_fn, c_mid, c_other;
	struct live *l = new_live();
	long calls = hammer_calls / 4, other = 50, zhits = 0, bad_stops = 0;
	uint64_t a_other;
	struct rsp_stop st;
	pid_t pid;

	hammer_argv(exe, sizeof(exe), argv, a1, a2, a3, calls, other);
	run_plain(argv, "/tmp/test_probe_hammer.plain");
	snprintf(plain, sizeof(plain), "%s", slurp("/tmp/test_probe_hammer.plain"));
	ops->set_client_features(l, &f);
	pid = launch_to(l, argv, "/tmp/test_probe_hammer.traced");
	a_other = sym(pid, exe, "hammer_other");
	ok(pid > 0 && !probe_at(l, pid, sym(pid, exe, "hammer_fn"), &c_fn) &&
		   !probe_at(l, pid, sym(pid, exe, "hammer_mid"), &c_mid) &&
		   !probe_at(l, pid, a_other, &c_other) &&
		   !ops->insert_point(l, RSP_POINT_SW, a_other, 1),
	   "probes and a client Z0 on the same function");
	ops->resume(l, &cont, 1);
	for (;;) {
		if (next_stop(l, &st) != 1 || st.kind != RSP_STOP_SIGNAL)
			break;
		if (st.reason == RSP_REASON_SWBREAK && st.thread.pid == pid) {
			uint8_t g[4096], avail[128];
			uint64_t pc = 0;

			if (!ops->read_regs(l, st.thread, g, avail))
				memcpy(&pc, g + ops->reg_layout(l)->regs[X86_64_RIP].offset, 8);
			zhits += pc == a_other;
			if (pc == a_other && !client_step_over(l, st.thread, a_other))
				continue;
		}
		bad_stops++;
		printf("# unexpected stop: reason %d sig %d\n", st.reason, st.signo);
		if (ops->resume(l, &cont, 1))
			break;
	}
	ok(st.kind == RSP_STOP_EXITED && st.status == 0 && !bad_stops, "program exits 0");
	ok(zhits == other, "client breakpoint hit %ld times, want %ld", zhits, other);
	ok(c_other.hits == (unsigned long)other && !c_other.bad,
	   "its probe counted once per call (%lu), not again when the client steps over",
	   c_other.hits);
	ok(c_fn.hits == (unsigned long)(HAMMER_THREADS * calls) && c_mid.hits == c_fn.hits &&
		   !c_fn.bad && !c_mid.bad,
	   "hammer probes exact while the client stops and resumes (%lu, %lu)", c_fn.hits,
	   c_mid.hits);
	ok(!strcmp(plain, slurp("/tmp/test_probe_hammer.traced")), "same result as untraced");
	live_free(l);
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], probe[PATH_MAX];

	ops = live_target_ops();
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(fixdir, sizeof(fixdir), "%s/../fixtures", dirname(self));
	fixture(probe, sizeof(probe), "zoo");
	if (access(probe, X_OK)) {
		printf("1..0 # SKIP %s not built (make fixtures)\n", probe);
		return 0;
	}
	if (getenv("PROBE_CALLS"))
		hammer_calls = atol(getenv("PROBE_CALLS"));
	test_zoo();
	test_refusals();
	test_hammer(5, false);
	test_hammer(1, true);
	test_client_breakpoint();
	printf("1..%d\n", n_test);
	return failed;
}
