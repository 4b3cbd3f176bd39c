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

#include "stub/debuginfo/debuginfo.h"
#include "stub/live/live.h"
#include "stub/live/internal.h"

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

static char tmpdir[64];

/* A scratch file path in this run's directory (8 rotating buffers). */
static const char *T(const char *name)
{
	static char buf[8][128];
	static unsigned k;
	char *b = buf[k++ % 8];

	snprintf(b, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return b;
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

/* Untraced run of argv, its stdout kept as TAG.plain and copied into out. */
static int untraced(char *const *argv, const char *tag, char *out, size_t cap)
{
	char name[64];
	int st;

	snprintf(name, sizeof(name), "%s.plain", tag);
	st = run_plain(argv, T(name));
	snprintf(out, cap, "%s", slurp(T(name)));
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

		if (strcmp(set->mods[i]->path, real))
			continue;
		f = elfsym_find(set->mods[i]->syms, name);
		if (f)
			a = f->addr + set->mods[i]->bias;
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

/* Fixture NAME (argv[0] = exe) run untraced into plain, then launched under a new engine
 * with a proc hook; its output goes to NAME.traced. */
static pid_t start_hooked(struct live **l, char *exe, char **argv, const char *name, char *plain,
			  size_t cap, live_proc_fn fn, void *ctx)
{
	char traced[64];

	fixture(exe, PATH_MAX, name);
	untraced(argv, name, plain, cap);
	snprintf(traced, sizeof(traced), "%s.traced", name);
	*l = new_live();
	live_add_proc_hook(*l, fn, ctx);
	return launch_to(*l, argv, T(traced));
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
	st = untraced(argv, "zoo", plain, sizeof(plain));
	ok(WIFEXITED(st) && !WEXITSTATUS(st) && strlen(plain) > 100, "zoo runs untraced");
	pid = launch_to(l, argv, T("zoo.traced"));
	ok(pid > 0, "zoo launched");
	if (pid <= 0)
		return;
	for (size_t i = 0; i < NZOO; i++)
		inserted += probe_at(l, pid, sym(pid, exe, zoo_sites[i].name), &c[i]) == 0;
	ok(inserted == (int)NZOO, "a probe on each of %zu zoo instructions", NZOO);
	ok(live_probe_insert(l, pid, c[0].addr, count_hit, &c[0]) == -EEXIST,
	   "same fn+ctx twice: -EEXIST");
	ok(run_headless(l) == 0, "zoo runs to exit 0 under probes");
	ok(!strcmp(plain, slurp(T("zoo.traced"))), "output identical to untraced");
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
	untraced(argv, "hammer", plain, sizeof(plain));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int r = 0; r < runs; r++) {
		struct live *l = new_live();
		struct counter c_fn, c_mid;
		pid_t pid;
		int rc;

		l->probe_force_inline = force_inline;
		pid = launch_to(l, argv, T("hammer.traced"));
		if (pid <= 0 || probe_at(l, pid, sym(pid, exe, "hammer_fn"), &c_fn) ||
		    probe_at(l, pid, sym(pid, exe, "hammer_mid"), &c_mid)) {
			live_free(l);
			continue;
		}
		rc = run_headless(l);
		if (!rc && c_fn.hits == (unsigned long)(HAMMER_THREADS * calls) &&
		    c_mid.hits == c_fn.hits && !c_fn.bad && !c_mid.bad &&
		    !strcmp(plain, slurp(T("hammer.traced"))))
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

/* A pass count: the probe removes itself from its own callback while 8 threads hit it. */
struct pass_ctx {
	struct live *l;
	unsigned long hits, limit;
	int rc;
};

static enum probe_verdict pass_hit(void *ctx, const struct probe_hit *h)
{
	struct pass_ctx *p = ctx;

	if (++p->hits == p->limit)
		p->rc = live_probe_remove(p->l, h->pid, h->addr, pass_hit, p);
	return PROBE_RESUME;
}

static void test_pass_count(void)
{
	char exe[PATH_MAX], a1[16], a2[24], a3[24], *argv[5];
	struct live *l = new_live();
	struct pass_ctx pc = {.l = l, .limit = 1000, .rc = 1};
	struct counter c_fn;
	pid_t pid;

	hammer_argv(exe, sizeof(exe), argv, a1, a2, a3, 2000, 0);
	pid = launch_to(l, argv, "/dev/null");
	ok(pid > 0 && !probe_at(l, pid, sym(pid, exe, "hammer_fn"), &c_fn) &&
		   !live_probe_insert(l, pid, sym(pid, exe, "hammer_mid"), pass_hit, &pc) &&
		   run_headless(l) == 0,
	   "hammer with a self-removing probe runs to exit 0");
	ok(pc.rc == 0 && pc.hits == pc.limit && c_fn.hits == HAMMER_THREADS * 2000,
	   "removed from its callback at %lu hits: no hit after (%lu), the other exact (%lu)",
	   pc.limit, pc.hits, c_fn.hits);
	live_free(l);
}

/* Probes placed and removed while every thread runs: a thread is stopped just long enough
 * to map the scratch page; removal while threads may be stepping the slot. */
static void test_while_running(void)
{
	char exe[PATH_MAX], a1[16], a2[24], a3[24], *argv[5], plain[4096];
	struct live *l = new_live();
	struct counter c_fn, c_mid;
	int rc_in = -1, rc_out = -1;
	pid_t pid;

	hammer_argv(exe, sizeof(exe), argv, a1, a2, a3, 5000, 0);
	untraced(argv, "running", plain, sizeof(plain));
	pid = launch_to(l, argv, T("running.traced"));
	if (pid > 0 && !probe_at(l, pid, sym(pid, exe, "hammer_fn"), &c_fn) &&
	    !live_resume_all(l)) {
		rc_in = probe_at(l, pid, sym(pid, exe, "hammer_mid"), &c_mid);
		for (int i = 0; i < 200 && c_fn.hits < 4000; i++) {
			struct rsp_stop st;
			struct pollfd pfd = {.fd = live_event_fd(l), .events = POLLIN};

			if (live_handle_events(l, &st) || poll(&pfd, 1, 1000) < 0)
				break;
		}
		rc_out = live_probe_remove(l, pid, c_mid.addr, count_hit, &c_mid);
	}
	ok(rc_in == 0 && rc_out == 0 && run_headless(l) == 0,
	   "out-of-line probe inserted and removed while 8 threads run: exit 0");
	ok(!strcmp(plain, slurp(T("running.traced"))) && c_fn.hits == HAMMER_THREADS * 5000 &&
		   c_mid.hits > 0 && !c_mid.bad,
	   "same result, entry probe exact (%lu), the other counted while it was in (%lu)",
	   c_fn.hits, c_mid.hits);
	live_free(l);
}

/* Attach to a running program, probe it, detach in the middle: it goes on untouched. */
static void test_attach_detach(void)
{
	char exe[PATH_MAX], a1[16], a2[24], a3[24], *argv[5], plain[4096];
	struct live *l = new_live();
	struct counter c_fn, c_mid;
	char *wargv[6], dummy;
	int st = -1, fd, placed = 0, go[2], exec_done[2];
	pid_t pid;

	hammer_argv(exe, sizeof(exe), argv, a1, a2, a3, 20000, 0);
	untraced(argv, "attach", plain, sizeof(plain));
	memcpy(wargv, argv, 4 * sizeof(*argv));
	wargv[4] = (char *)"wait";
	wargv[5] = NULL;
	fd = open(T("attach.traced"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (pipe(go) || pipe2(exec_done, O_CLOEXEC)) {
		ok(0, "pipes for attach");
		live_free(l);
		return;
	}
	pid = fork();
	if (pid == 0) {
		dup2(fd, 1);
		dup2(go[0], 0);
		close(exec_done[0]);
		execv(wargv[0], wargv);
		_exit(127);
	}
	close(fd);
	close(go[0]);
	close(exec_done[1]);
	/* EOF once the exec closed the write end: the program image is in place. */
	if (read(exec_done[0], &dummy, 1) != 0 || live_attach(l, pid))
		pid = -pid;
	close(exec_done[0]);
	if (pid > 0) {
		placed += !probe_at(l, pid, sym(pid, exe, "hammer_fn"), &c_fn);
		placed += !probe_at(l, pid, sym(pid, exe, "hammer_mid"), &c_mid);
		live_resume_all(l);
		if (write(go[1], "g", 1) != 1)
			placed = 0;
		for (int i = 0; i < 200 && c_mid.hits < 2000; i++) {
			struct rsp_stop s;
			struct pollfd pfd = {.fd = live_event_fd(l), .events = POLLIN};

			if (live_handle_events(l, &s) || poll(&pfd, 1, 1000) < 0)
				break;
		}
	}
	ok(placed == 2 && c_fn.hits > 0 && c_mid.hits > 0 && ops->detach(l, pid) == 0,
	   "attached, probed (%lu, %lu hits), detached while running", c_fn.hits, c_mid.hits);
	live_free(l);
	close(go[1]);
	waitpid(pid > 0 ? pid : -pid, &st, 0);
	ok(WIFEXITED(st) && !WEXITSTATUS(st) && !strcmp(plain, slurp(T("attach.traced"))),
	   "the program runs on to the same result");
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
	untraced(argv, "hammer", plain, sizeof(plain));
	ops->set_client_features(l, &f);
	pid = launch_to(l, argv, T("hammer.traced"));
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
	ok(!strcmp(plain, slurp(T("hammer.traced"))), "same result as untraced");
	live_free(l);
}

/* ---- (d) forks ---- */

struct fork_count {
	pid_t parent;
	unsigned long parent_hits, child_hits, forks, exits, bad_exits;
};

static enum probe_verdict count_by_pid(void *ctx, const struct probe_hit *h)
{
	struct fork_count *c = ctx;

	if (h->pid == c->parent)
		c->parent_hits++;
	else
		c->child_hits++;
	return PROBE_RESUME;
}

static void on_fork_event(void *ctx, const struct live_proc_event *ev)
{
	struct fork_count *c = ctx;

	if (ev->kind == LIVE_EV_FORK && ev->pid == c->parent && ev->child > 0)
		c->forks++;
	if (ev->kind == LIVE_EV_EXIT && ev->pid != c->parent) {
		c->exits++;
		c->bad_exits += !WIFEXITED(ev->status);
	}
}

static void test_forks(int n, bool follow)
{
	char exe[PATH_MAX], num[16], plain[4096];
	char *argv[] = {exe, num, NULL};
	struct fork_count c = {0};
	struct live *l = new_live();
	pid_t pid;
	int rc;

	fixture(exe, sizeof(exe), "forker");
	snprintf(num, sizeof(num), "%d", n);
	untraced(argv, "forker", plain, sizeof(plain));
	live_set_follow_forks(l, follow);
	live_add_proc_hook(l, on_fork_event, &c);
	pid = launch_to(l, argv, T("forker.traced"));
	c.parent = pid;
	rc = pid > 0 ? live_probe_insert(l, pid, sym(pid, exe, "forker_fn"), count_by_pid, &c) : -1;
	ok(rc == 0 && run_headless(l) == 0, "forker %d%s runs to exit 0", n,
	   follow ? " (following children)" : "");
	ok(!strcmp(plain, slurp(T("forker.traced"))) && strstr(plain, "children ok"),
	   "every child exited as untraced (none died of SIGTRAP): %.*s", (int)strcspn(plain, "\n"),
	   plain);
	ok(c.parent_hits == (unsigned long)n, "parent hits %lu, want %d", c.parent_hits, n);
	if (follow)
		ok(c.child_hits == (unsigned long)n && c.forks == (unsigned long)n &&
			   c.exits == (unsigned long)n && !c.bad_exits,
		   "followed children: %lu hits, %lu fork and %lu exit events, want %d each",
		   c.child_hits, c.forks, c.exits, n);
	else
		ok(c.child_hits == 0 && c.forks == (unsigned long)n,
		   "unfollowed children are not counted (%lu), %lu fork events", c.child_hits,
		   c.forks);
	live_free(l);
}

/* The same under a client that sees fork and vfork and detaches the children (gdb's
 * detach-on-fork): a vfork child runs in the probed memory of its parent. */
static void test_client_forks(void)
{
	char exe[PATH_MAX], num[16], plain[4096];
	char *argv[] = {exe, num, NULL};
	struct rsp_client_features f = {
		.swbreak = true, .multiprocess = true, .fork_events = true, .vfork_events = true};
	struct rsp_resume_action cont = {.kind = RSP_RESUME_CONTINUE, .thread = {-1, -1}};
	struct fork_count c = {0};
	struct live *l = new_live();
	unsigned long detached = 0, other = 0;
	struct rsp_stop st;
	pid_t pid;

	fixture(exe, sizeof(exe), "forker");
	snprintf(num, sizeof(num), "%d", 40);
	untraced(argv, "cforker", plain, sizeof(plain));
	uint8_t pass[65] = {0};

	pass[SIGCHLD] = 1; /* as gdb's QPassSignals */
	ops->set_client_features(l, &f);
	ops->pass_signals(l, pass, sizeof(pass));
	pid = launch_to(l, argv, T("cforker.traced"));
	c.parent = pid;
	ok(pid > 0 && !live_probe_insert(l, pid, sym(pid, exe, "forker_fn"), count_by_pid, &c),
	   "forker under a client with fork events");
	ops->resume(l, &cont, 1);
	while (next_stop(l, &st) == 1 && st.kind == RSP_STOP_SIGNAL) {
		if (st.reason == RSP_REASON_FORK || st.reason == RSP_REASON_VFORK)
			detached += ops->detach(l, st.child.pid) == 0;
		else if (st.reason != RSP_REASON_VFORKDONE)
			other++;
		if (ops->resume(l, &cont, 1))
			break;
	}
	ok(st.kind == RSP_STOP_EXITED && !st.status && detached == 40 && !other,
	   "exit 0 after 40 fork/vfork stops, children detached (%lu, %lu other stops)", detached,
	   other);
	ok(!strcmp(plain, slurp(T("cforker.traced"))),
	   "no child died of SIGTRAP, vfork children included: %.*s", (int)strcspn(plain, "\n"),
	   plain);
	ok(c.parent_hits == 40 && c.child_hits == 0, "parent hits %lu, children's not counted",
	   c.parent_hits);
	live_free(l);
}

/* ---- (e) a signal storm ---- */

static void test_storm(void)
{
	char exe[PATH_MAX], plain[4096], traced[4096];
	char *argv[] = {exe, NULL};
	struct live *l = new_live();
	struct counter c;
	long calls = -1;
	pid_t pid;
	char *nl;

	fixture(exe, sizeof(exe), "storm");
	untraced(argv, "storm", plain, sizeof(plain));
	pid = launch_to(l, argv, T("storm.traced"));
	ok(pid > 0 && !probe_at(l, pid, sym(pid, exe, "storm_fn"), &c) && run_headless(l) == 0,
	   "storm runs to exit 0 under a probe");
	snprintf(traced, sizeof(traced), "%s", slurp(T("storm.traced")));
	nl = strchr(traced, '\n');
	if (nl)
		sscanf(nl + 1, "calls %ld", &calls);
	nl = strchr(plain, '\n');
	ok(nl && !strncmp(plain, traced, (size_t)(nl - plain + 1)),
	   "every signal delivered, handler counts as untraced: %.*s", nl ? (int)(nl - plain) : 0,
	   plain);
	ok(c.hits == (unsigned long)calls && !c.bad, "storm_fn hits %lu == calls %ld", c.hits,
	   calls);
	live_free(l);
}

/* ---- exec and the loader hook ---- */

struct exec_ctx {
	struct live *l;
	const char *exe;
	struct counter c;
	unsigned long execs, forks, reinserted;
};

static void on_exec_event(void *ctx, const struct live_proc_event *ev)
{
	struct exec_ctx *x = ctx;

	if (ev->kind == LIVE_EV_FORK)
		x->forks++;
	if (ev->kind != LIVE_EV_EXEC)
		return;
	x->execs++;
	/* The probes are gone with the old image: place it again in the new one. */
	if (live_probe_insert(x->l, ev->pid, sym(ev->pid, x->exe, "child_work"), count_hit,
			      &x->c) == 0) {
		x->c.addr = sym(ev->pid, x->exe, "child_work");
		x->reinserted++;
	}
}

static void test_exec(void)
{
	char exe[PATH_MAX], plain[4096];
	char *argv[] = {exe, NULL};
	struct exec_ctx x = {0};
	pid_t pid;

	pid = start_hooked(&x.l, exe, argv, "forkexec", plain, sizeof(plain), on_exec_event, &x);
	x.exe = exe;
	ok(pid > 0 && !probe_at(x.l, pid, sym(pid, exe, "child_work"), &x.c) &&
		   run_headless(x.l) == 0,
	   "forkexec (fork, vfork, exec) runs to exit 0 under a probe");
	ok(!strcmp(plain, slurp(T("forkexec.traced"))), "output identical to untraced");
	ok(x.execs == 1 && x.reinserted == 1 && x.forks == 2, "exec and fork events (%lu, %lu)",
	   x.execs, x.forks);
	ok(x.c.hits == 2, "child_work hit before (parent) and after exec: %lu", x.c.hits);
	live_free(x.l);
}

struct libs_ctx {
	struct live *l;
	struct counter c, c_ool;
	unsigned long calls;
	bool placed;
};

static void on_libs(void *ctx, pid_t pid)
{
	struct libs_ctx *x = ctx;
	struct module_set *set = NULL;

	x->calls++;
	if (x->placed || module_set_from_pid(pid, &set))
		return;
	for (size_t i = 0; i < set->n; i++) {
		const struct elfsym_func *f;

		if (!strstr(set->mods[i]->path, "libplugin.so"))
			continue;
		f = elfsym_find(set->mods[i]->syms, "plugin_fn");
		/* +8: mov %edi,-0x14(%rbp), out of line: a scratch page near the library is
		 * mapped from this callback. */
		if (f && !probe_at(x->l, pid, f->addr + set->mods[i]->bias, &x->c) &&
		    !probe_at(x->l, pid, f->addr + set->mods[i]->bias + 8, &x->c_ool))
			x->placed = true;
	}
	module_set_free(set);
}

static void test_libs_hook(void)
{
	char exe[PATH_MAX], lib[PATH_MAX], plain[4096];
	char *argv[] = {exe, lib, NULL};
	struct libs_ctx x = {0};
	pid_t pid;

	fixture(exe, sizeof(exe), "dlopen");
	fixture(lib, sizeof(lib), "libplugin.so");
	untraced(argv, "dl", plain, sizeof(plain));
	x.l = new_live();
	pid = launch_to(x.l, argv, T("dl.traced"));
	live_add_libs_hook(x.l, on_libs, &x);
	ok(pid > 0 && run_headless(x.l) == 0, "dlopen fixture runs to exit 0 with the hook");
	ok(!strcmp(plain, slurp(T("dl.traced"))), "output identical to untraced");
	ok(x.placed && x.calls >= 2, "hook called at consistent link maps (%lu), probe placed",
	   x.calls);
	ok(x.c.hits == 2 && !x.c.bad && x.c_ool.hits == 2 && !x.c_ool.bad,
	   "plugin_fn hits %lu and %lu (out of line), want 2", x.c.hits, x.c_ool.hits);
	live_free(x.l);
}

/* ---- while-stepping and a probe's stop ---- */

struct ws_ctx {
	uint64_t rips[ZOO_ROUNDS][4];
	unsigned hits, steps, bad;
};

static enum probe_verdict ws_hit(void *ctx, const struct probe_hit *h)
{
	struct ws_ctx *w = ctx;

	if (h->step == 0) {
		w->hits++;
		return PROBE_STEP;
	}
	w->steps++;
	if (w->hits && w->hits <= ZOO_ROUNDS && h->step < 4)
		w->rips[w->hits - 1][h->step] = h->regs->rip;
	else
		w->bad++;
	return h->step < 3 ? PROBE_STEP : PROBE_RESUME;
}

static enum probe_verdict stop_once(void *ctx, const struct probe_hit *h)
{
	struct counter *c = ctx;

	return ++c->hits == 1 ? PROBE_STOP_ALL : PROBE_RESUME;
}

static void test_stepping(void)
{
	char exe[PATH_MAX], plain[1 << 16];
	char *argv[] = {exe, NULL};
	struct live *l = new_live();
	struct ws_ctx w = {0};
	struct counter leaf, stop = {0};
	uint64_t a_call, a_leaf, a_lea;
	struct rsp_stop st;
	int good = 0, rc = -1;
	pid_t pid;

	fixture(exe, sizeof(exe), "zoo");
	snprintf(plain, sizeof(plain), "%s", slurp(T("zoo.plain")));
	pid = launch_to(l, argv, T("zoo.traced"));
	a_call = sym(pid, exe, "zoo_call_site");
	a_leaf = sym(pid, exe, "zoo_leaf");
	a_lea = sym(pid, exe, "zoo_lea");
	ok(!live_probe_insert(l, pid, a_call, ws_hit, &w) && !probe_at(l, pid, a_leaf, &leaf) &&
		   !live_probe_insert(l, pid, a_lea, stop_once, &stop),
	   "while-stepping probe, a probe in the stepped code, a stopping probe");
	if (!live_resume_all(l) && next_stop(l, &st) == 1)
		ok(st.kind == RSP_STOP_SIGNAL && st.reason == RSP_REASON_SWBREAK &&
			   st.signo == SIGTRAP && st.thread.tid == pid,
		   "PROBE_STOP_ALL reported as a SIGTRAP breakpoint stop");
	else
		ok(0, "PROBE_STOP_ALL reported");
	for (;;) {
		if (live_resume_all(l) || next_stop(l, &st) != 1)
			break;
		if (st.kind == RSP_STOP_EXITED) {
			rc = st.status;
			break;
		}
	}
	ok(rc == 0 && !strcmp(plain, slurp(T("zoo.traced"))), "zoo exits 0, output identical");
	ok(stop.hits == ZOO_ROUNDS,
	   "stopping probe's site counted once per call after the stop "
	   "(%lu)",
	   stop.hits);
	for (int r = 0; r < ZOO_ROUNDS; r++)
		good += w.rips[r][1] == a_leaf && w.rips[r][2] == a_leaf + 5 &&
			w.rips[r][3] == a_call + 5;
	ok(w.hits == ZOO_ROUNDS && w.steps == 3 * ZOO_ROUNDS && !w.bad && good == ZOO_ROUNDS,
	   "3 steps after each hit: into the callee, over its probed first instruction, back "
	   "(%d of %d)",
	   good, ZOO_ROUNDS);
	ok(leaf.hits == 2 * ZOO_ROUNDS && !leaf.bad,
	   "a probe reached while stepping still counts (%lu)", leaf.hits);
	live_free(l);
}

/* ---- endings in the middle of step-overs ---- */

struct life_ctx {
	struct live *l;
	const char *exe;
	struct counter fn, sc, fn2, sc2;
	unsigned long execs, thread_exits, exits;
};

static void on_life_event(void *ctx, const struct live_proc_event *ev)
{
	struct life_ctx *x = ctx;

	x->thread_exits += ev->kind == LIVE_EV_THREAD_EXIT;
	x->exits += ev->kind == LIVE_EV_EXIT;
	if (ev->kind != LIVE_EV_EXEC)
		return;
	x->execs++;
	probe_at(x->l, ev->pid, sym(ev->pid, x->exe, "life_fn"), &x->fn2);
	probe_at(x->l, ev->pid, sym(ev->pid, x->exe, "life_syscall_site"), &x->sc2);
}

static void test_lifecycle(void)
{
	char exe[PATH_MAX], plain[4096];
	char *argv[] = {exe, NULL};
	struct life_ctx x = {0};
	pid_t pid;

	pid = start_hooked(&x.l, exe, argv, "lifecycle", plain, sizeof(plain), on_life_event, &x);
	x.exe = exe;
	ok(pid > 0 && !probe_at(x.l, pid, sym(pid, exe, "life_fn"), &x.fn) &&
		   !probe_at(x.l, pid, sym(pid, exe, "life_syscall_site"), &x.sc) &&
		   run_headless(x.l) == 0,
	   "thread exits, exec from a thread and exit_group, all in stepped syscalls: exit 0");
	ok(!strcmp(plain, slurp(T("lifecycle.traced"))), "output identical (%zu bytes)",
	   strlen(plain));
	ok(x.execs == 1 && x.sc.hits == 5 && x.sc2.hits == 1 && x.fn.hits >= 4000 &&
		   x.fn2.hits >= 2001 && x.thread_exits >= 4 && x.exits == 1,
	   "hits %lu+%lu syscalls %lu+%lu, %lu thread exits, %lu exec, %lu exit", x.fn.hits,
	   x.fn2.hits, x.sc.hits, x.sc2.hits, x.thread_exits, x.execs, x.exits);
	live_free(x.l);
}

/* ---- Go: its own threads and signals (SIGURG preemption), stack-check prologues ---- */

static void test_go(void)
{
	static const char *const names[] = {"main.main", "runtime.mallocgc", "runtime.newproc",
					    "main.busy", "runtime.gcStart"};
	char exe[PATH_MAX], plain[4096];
	char *argv[] = {exe, NULL};
	struct counter c[5], c2;
	struct live *l;
	int placed = 0;
	pid_t pid;

	fixture(exe, sizeof(exe), "go_hello");
	if (access(exe, X_OK)) {
		skip("go_hello not built");
		return;
	}
	untraced(argv, "go", plain, sizeof(plain));
	l = new_live();
	pid = launch_to(l, argv, T("go.traced"));
	for (int i = 0; i < 5; i++)
		placed += pid > 0 && !probe_at(l, pid, sym(pid, exe, names[i]), &c[i]);
	/* main.main + 5: cmp 0x10(%r14),%r12, the stack check (reads memory: out of line) */
	placed += pid > 0 && !probe_at(l, pid, sym(pid, exe, "main.main") + 5, &c2);
	ok(placed == 6 && run_headless(l) == 0, "Go program with 6 probes runs to exit 0");
	ok(!strcmp(plain, slurp(T("go.traced"))), "output identical: %.*s",
	   (int)strcspn(plain, "\n"), plain);
	/* A function entered while the runtime asks its goroutine to yield (stackguard0 set to
	 * stackPreempt) fails its stack check, goes through morestack and starts over: entry
	 * and check are then both hit twice. So: every entry passes its check exactly once. */
	ok(c[0].hits >= 1 && c2.hits == c[0].hits && c[1].hits > 0 && c[2].hits >= 4 &&
		   c[3].hits >= 4 && !c[0].bad && !c[1].bad && !c2.bad,
	   "main.main %lu, its stack check %lu, mallocgc %lu, newproc %lu, busy %lu, gcStart %lu"
	   " (bad: %lu %lu %lu)",
	   c[0].hits, c2.hits, c[1].hits, c[2].hits, c[3].hits, c[4].hits, c[0].bad, c[1].bad,
	   c2.bad);
	live_free(l);
}

/* ---- a client single-stepping through probed code ---- */

static uint64_t pc_of(struct live *l, struct rsp_ptid th)
{
	uint8_t g[4096], avail[128];
	uint64_t pc = 0;

	if (!ops->read_regs(l, th, g, avail))
		memcpy(&pc, g + ops->reg_layout(l)->regs[X86_64_RIP].offset, 8);
	return pc;
}

static int client_step(struct live *l, struct rsp_ptid th, uint64_t *pc)
{
	struct rsp_resume_action step = {.kind = RSP_RESUME_STEP, .thread = th};
	struct rsp_stop st;

	if (ops->resume(l, &step, 1) || next_stop(l, &st) != 1 || st.reason != RSP_REASON_TRACE ||
	    st.thread.tid != th.tid)
		return -1;
	*pc = pc_of(l, th);
	return 0;
}

static void test_client_step(void)
{
	char exe[PATH_MAX], plain[1 << 16];
	char *argv[] = {exe, NULL};
	struct rsp_client_features f = {.swbreak = true, .multiprocess = true};
	struct rsp_resume_action cont = {.kind = RSP_RESUME_CONTINUE, .thread = {-1, -1}};
	struct live *l = new_live();
	struct counter c_site, c_leaf, c_mov, c_fault;
	uint64_t a_call, a_site, a_leaf, a_mov, a_fault, pcs[4] = {0};
	struct rsp_stop st;
	int rounds = 0, good = 0, faults = 0, rc = -1;
	pid_t pid;

	fixture(exe, sizeof(exe), "zoo");
	snprintf(plain, sizeof(plain), "%s", slurp(T("zoo.plain")));
	ops->set_client_features(l, &f);
	pid = launch_to(l, argv, T("zoo.traced"));
	a_call = sym(pid, exe, "zoo_call");
	a_site = sym(pid, exe, "zoo_call_site");
	a_leaf = sym(pid, exe, "zoo_leaf");
	a_mov = sym(pid, exe, "zoo_riprel_mov");
	a_fault = sym(pid, exe, "zoo_fault");
	ok(!probe_at(l, pid, a_site, &c_site) && !probe_at(l, pid, a_leaf, &c_leaf) &&
		   !probe_at(l, pid, a_mov, &c_mov) && !probe_at(l, pid, a_fault, &c_fault) &&
		   !ops->insert_point(l, RSP_POINT_SW, a_call, 1) &&
		   !ops->insert_point(l, RSP_POINT_SW, a_mov, 1),
	   "probes, and client breakpoints before one and on another (out of line)");
	ops->resume(l, &cont, 1);
	while (next_stop(l, &st) == 1 && st.kind == RSP_STOP_SIGNAL) {
		struct rsp_ptid th = st.thread;
		uint64_t pc = pc_of(l, th);

		if (st.reason == RSP_REASON_SIGNAL && st.signo == SIGSEGV) {
			/* The probed load faulted in its slot: reported at the site. */
			struct rsp_resume_action sig = {
				.kind = RSP_RESUME_CONTINUE, .thread = {-1, -1}, .signo = SIGSEGV};

			faults += pc == a_fault;
			ops->resume(l, &sig, 1);
			continue;
		}
		if (st.reason != RSP_REASON_SWBREAK)
			break;
		if (pc == a_call) {
			/* zoo_call: step onto the probed call, through it (emulated) onto the
			 * probed leaf, and over that one. */
			rounds++;
			ops->remove_point(l, RSP_POINT_SW, a_call, 1);
			good += !client_step(l, th, &pcs[0]) && !client_step(l, th, &pcs[1]) &&
				!client_step(l, th, &pcs[2]) && pcs[0] == a_site &&
				pcs[1] == a_leaf && pcs[2] == a_leaf + 5;
			ops->insert_point(l, RSP_POINT_SW, a_call, 1);
		} else if (pc == a_mov) {
			ops->remove_point(l, RSP_POINT_SW, a_mov, 1);
			good += !client_step(l, th, &pcs[3]) && pcs[3] == a_mov + 7;
			ops->insert_point(l, RSP_POINT_SW, a_mov, 1);
		} else {
			printf("# stop at 0x%llx\n", (unsigned long long)pc);
			break;
		}
		ops->resume(l, &cont, 1);
	}

	if (st.kind == RSP_STOP_EXITED)
		rc = st.status;
	ok(rc == 0 && !strcmp(plain, slurp(T("zoo.traced"))),
	   "zoo exits 0 after %d rounds, output identical", rounds);
	ok(good == 2 * ZOO_ROUNDS, "client steps land where they should (%d of %d)", good,
	   2 * ZOO_ROUNDS);
	ok(c_site.hits == ZOO_ROUNDS && c_leaf.hits == 2 * ZOO_ROUNDS && c_mov.hits == ZOO_ROUNDS &&
		   !c_site.bad && !c_leaf.bad && !c_mov.bad,
	   "stepped probes counted once each (%lu %lu %lu)", c_site.hits, c_leaf.hits, c_mov.hits);
	ok(faults == ZOO_ROUNDS && c_fault.hits == ZOO_ROUNDS,
	   "a fault in an out-of-line step is the client's SIGSEGV at the site (%d)", faults);
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
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_probe.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("1..0 # SKIP no temporary directory\n");
		return 0;
	}
	if (getenv("PROBE_CALLS"))
		hammer_calls = atol(getenv("PROBE_CALLS"));
	if (getenv("PROBE_ONLY_GO")) { /* the Go case alone, for runs under load */
		test_go();
		printf("1..%d\n", n_test);
		return 0;
	}
	test_zoo();
	test_refusals();
	test_hammer(5, false);
	test_hammer(1, true);
	test_pass_count();
	test_while_running();
	test_attach_detach();
	test_client_breakpoint();
	test_forks(1000, false);
	test_forks(50, true);
	test_client_forks();
	test_storm();
	test_exec();
	test_libs_hook();
	test_stepping();
	test_lifecycle();
	test_go();
	test_client_step();
	printf("1..%d\n", n_test);
	snprintf(self, sizeof(self), "rm -rf '%s'", tmpdir);
	if (system(self))
		printf("# could not remove %s\n", tmpdir);
	return failed;
}
