/* The live target driven directly through its ops table on
 * build/fixtures/live_target: launch, registers, Z0 with rip rewound, step,
 * watchpoint, threads, signals, interrupt, exit code, kill, detach with code
 * bytes restored, injected mmap. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/x86_64/regs.h"
#include "stub/live/hwprobe.h"
#include "stub/live/live.h"

static int n_test;
static int failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		failed = 1;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_test, name);
	fflush(stdout);
}

static const struct rsp_target_ops *ops;
static char fixture[PATH_MAX];
static int addr_rd = -1, go_wr = -1;
static uint64_t a_fn, a_var, a_tbp;

/* Wait for the next reported stop; the poll timeout only guards against a hung
 * test. */
static int wait_stop(struct live *l, struct rsp_stop *st)
{
	for (int i = 0; i < 1000; i++) {
		struct pollfd pfd = {.fd = live_event_fd(l), .events = POLLIN};
		int r = live_handle_events(l, st);

		if (r) {
			printf("# stop kind %d reason %d sig %d thread %lld.%lld watch %llx\n",
			       st->kind, st->reason, st->signo, (long long)st->thread.pid,
			       (long long)st->thread.tid, (unsigned long long)st->watch_addr);
			return r;
		}
		if (poll(&pfd, 1, 20000) <= 0)
			return -ETIMEDOUT;
	}
	return -ELOOP;
}

static uint64_t reg(struct live *l, struct rsp_ptid th, unsigned regno)
{
	static uint8_t g[4096], avail[128];
	const struct rsp_reg_layout *lay = ops->reg_layout(l);
	uint64_t v = 0;

	if (ops->read_regs(l, th, g, avail) || !avail[regno])
		return 0;
	memcpy(&v, g + lay->regs[regno].offset, 8);
	return v;
}

static int resume_all(struct live *l, enum rsp_resume_kind k, int sig)
{
	struct rsp_resume_action a = {.kind = k, .thread = {-1, -1}, .signo = sig};

	return ops->resume(l, &a, 1);
}

/* Keep fds 3 and 4 taken so the live target's own descriptors never land there. */
static void reserve_fds(void)
{
	int fd = open("/dev/null", O_RDONLY);

	dup2(fd, 3);
	dup2(fd, 4);
	if (fd != 3 && fd != 4)
		close(fd);
}

/* Launch the fixture with its address pipe on fd 3 and go pipe on fd 4. */
static int launch(struct live *l)
{
	int ap[2], gp[2];
	char *argv[] = {fixture, NULL};
	int rc;

	if (pipe(ap) || pipe(gp))
		return -errno;
	dup2(ap[1], 3);
	dup2(gp[0], 4);
	close(ap[1]);
	close(gp[0]);
	rc = live_launch(l, argv);
	reserve_fds();
	addr_rd = ap[0];
	go_wr = gp[1];
	return rc;
}

static int read_addrs(void)
{
	uint64_t a[3];

	if (read(addr_rd, a, sizeof(a)) != sizeof(a))
		return -1;
	a_fn = a[0];
	a_var = a[1];
	a_tbp = a[2];
	return 0;
}

static int raw_byte(pid_t pid, uint64_t addr)
{
	char path[64];
	uint8_t b;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = (int)pread(fd, &b, 1, (off_t)addr);
	close(fd);
	return n == 1 ? b : -1;
}

static void test_full_run(void)
{
	struct live_config cfg = {.debug = getenv("LIVE_DEBUG") != NULL};
	struct rsp_client_features f = {.swbreak = true, .multiprocess = true};
	struct live *l = live_new(&cfg);
	struct rsp_stop st;
	struct rsp_thread_info ti[8];
	struct rsp_ptid th;
	uint8_t orig[4], buf[4];
	size_t n, done;
	pid_t pid;
	uint64_t rip, step_len;
	int rc, named = 0;
	uint8_t pass[65] = {0};

	ok(l != NULL, "live_new");
	ops->set_client_features(l, &f);
	rc = launch(l);
	ok(rc == 0 && live_has_process(l), "launch fixture");
	if (rc)
		return;
	rc = ops->last_stop(l, &st);
	pid = (pid_t)st.thread.pid;
	ok(rc == 0 && st.kind == RSP_STOP_SIGNAL && st.signo == SIGTRAP && st.thread.tid == pid,
	   "initial stop is SIGTRAP on the main thread");
	th = st.thread;
	{
		struct rsp_region_info ri;

		rip = reg(l, th, X86_64_RIP);
		ok(rip && ops->region_info(l, rip, &ri) == 0 && ri.mapped && ri.x,
		   "rip at exec is in executable memory");
	}
	ok(resume_all(l, RSP_RESUME_CONTINUE, 0) == 0, "continue");
	ok(read_addrs() == 0, "fixture reports its addresses");
	ok(ops->interrupt(l) == 0, "interrupt");
	rc = wait_stop(l, &st);
	ok(rc == 1 && st.kind == RSP_STOP_SIGNAL && st.signo == SIGINT && st.thread.pid == pid,
	   "interrupt stops with SIGINT");

	ok(ops->read_mem(l, a_fn, orig, 4, &done) == 0 && done == 4, "read code bytes");
	ok(ops->insert_point(l, RSP_POINT_SW, a_fn, 1) == 0, "Z0 at live_fn");
	ok(raw_byte(pid, a_fn) == 0xcc, "int3 is in memory");
	ok(ops->read_mem(l, a_fn, buf, 4, &done) == 0 && done == 4 && !memcmp(buf, orig, 4),
	   "reads under the site return the original bytes");
	ok(write(go_wr, "g", 1) == 1, "release fixture");
	ok(resume_all(l, RSP_RESUME_CONTINUE, 0) == 0, "continue to breakpoint");
	rc = wait_stop(l, &st);
	ok(rc == 1 && st.kind == RSP_STOP_SIGNAL && st.reason == RSP_REASON_SWBREAK &&
		   st.signo == SIGTRAP && st.thread.tid == pid,
	   "SWBREAK stop on main thread");
	ok(reg(l, st.thread, X86_64_RIP) == a_fn, "rip rewound to the site");
	th = st.thread;

	ok(ops->remove_point(l, RSP_POINT_SW, a_fn, 1) == 0 && raw_byte(pid, a_fn) == orig[0],
	   "z0 restores the byte");
	{
		struct rsp_resume_action a = {.kind = RSP_RESUME_STEP, .thread = th};

		step_len = orig[0] == 0xf3 ? 4 : 1; /* endbr64 or push %rbp */
		ok(ops->resume(l, &a, 1) == 0, "single step");
	}
	rc = wait_stop(l, &st);
	ok(rc == 1 && st.reason == RSP_REASON_TRACE && st.signo == SIGTRAP &&
		   reg(l, th, X86_64_RIP) == a_fn + step_len,
	   "step stops after one instruction");

	ok(ops->insert_point(l, RSP_POINT_SW, a_tbp, 1) == 0, "Z0 in thread function");
	ok(resume_all(l, RSP_RESUME_CONTINUE, 0) == 0, "continue to thread breakpoint");
	rc = wait_stop(l, &st);
	ok(rc == 1 && st.reason == RSP_REASON_SWBREAK && st.thread.tid != pid &&
		   reg(l, st.thread, X86_64_RIP) == a_tbp,
	   "breakpoint hit in the new thread");
	ok(ops->list_threads(l, ti, 8, &n) == 0 && n == 2, "two threads listed");
	for (size_t i = 0; i < n && i < 8; i++)
		named += ti[i].id.tid == st.thread.tid && !strcmp(ti[i].name, "worker");
	ok(named == 1, "thread name from procfs");
	ok(ops->thread_alive(l, st.thread), "thread alive");
	ok(ops->remove_point(l, RSP_POINT_SW, a_tbp, 1) == 0, "z0 thread bp");

	pass[SIGUSR2] = 1;
	ops->pass_signals(l, pass, sizeof(pass));
	ok(resume_all(l, RSP_RESUME_CONTINUE, 0) == 0, "continue to signals");
	rc = wait_stop(l, &st);
	ok(rc == 1 && st.reason == RSP_REASON_SIGNAL && st.signo == SIGUSR1 && st.thread.tid == pid,
	   "SIGUSR1 reported, SIGUSR2 passed silently");
	{
		taddr_t m = 0;
		uint64_t v = 0x1122334455667788ull, w = 0;

		ok(ops->alloc_mem(l, 4096, true, true, false, &m) == 0 && m && !(m & 4095),
		   "alloc_mem maps a page");
		ok(ops->write_mem(l, m, (uint8_t *)&v, 8) == 0 &&
			   ops->read_mem(l, m, (uint8_t *)&w, 8, &done) == 0 && w == v,
		   "allocated page is writable");
		ok(ops->free_mem(l, m) == 0, "free_mem");
		ok(reg(l, st.thread, X86_64_RIP) != 0 && st.thread.tid == pid,
		   "registers intact after injection");
	}
	ok(resume_all(l, RSP_RESUME_CONTINUE, SIGUSR1) == 0, "continue delivering SIGUSR1");
	rc = wait_stop(l, &st);
	ok(rc == 1 && st.kind == RSP_STOP_EXITED && st.status == 7 && st.thread.pid == pid,
	   "exit status 7: both handlers ran");
	ok(!live_has_process(l), "no process after exit");
	close(addr_rd);
	close(go_wr);
	live_free(l);
}

/* Debug registers: some virtual machines never deliver their traps (gdb's own hardware
 * watchpoints stay silent there too), hence the TODO when the stop is not the watch. */
static void test_watch(void)
{
	struct live_config cfg = {0};
	struct live *l = live_new(&cfg);
	struct rsp_stop st;
	size_t done;
	uint64_t v = 0;
	int rc, hit;

	if (!l || launch(l)) {
		ok(0, "launch for watch");
		live_free(l);
		return;
	}
	resume_all(l, RSP_RESUME_CONTINUE, 0);
	read_addrs();
	ops->interrupt(l);
	wait_stop(l, &st);
	ok(ops->insert_point(l, RSP_POINT_READ, a_var, 8) == -EOPNOTSUPP, "Z3 unsupported");
	ok(ops->insert_point(l, RSP_POINT_WRITE, a_var, 0) == -EINVAL, "Z2 of zero bytes refused");
	if (!hwprobe_debugregs_work()) {
		/* This machine accepts debug registers but never traps: refused, not faked. */
		ok(ops->insert_point(l, RSP_POINT_WRITE, a_var, 8) == -ENODEV,
		   "Z2 refused: debug registers do not trigger here");
		ok(write(go_wr, "g", 1) == 1, "release fixture");
		ops->kill(l, -1);
		close(addr_rd);
		close(go_wr);
		live_free(l);
		return;
	}
	/* 8 bytes at an odd address: pieces of 1, 2, 4 and 1 (all four slots), as gdbserver
	 * splits; a fifth piece would not fit */
	ok(ops->insert_point(l, RSP_POINT_WRITE, a_var + 1, 8) == 0 &&
		   ops->insert_point(l, RSP_POINT_WRITE, a_var, 1) == -ENOSPC &&
		   ops->remove_point(l, RSP_POINT_WRITE, a_var + 1, 8) == 0,
	   "Z2 misaligned: split over the four debug registers, then removed whole");
	ok(ops->insert_point(l, RSP_POINT_WRITE, a_var, 8) == 0, "Z2 on live_var");
	ok(write(go_wr, "g", 1) == 1, "release fixture");
	ok(resume_all(l, RSP_RESUME_CONTINUE, 0) == 0, "continue to watchpoint");
	rc = wait_stop(l, &st);
	hit = rc == 1 && st.reason == RSP_REASON_WATCH && st.watch_addr == a_var;
	n_test++;
	printf("%sok %d - WATCH stop with the address%s\n", hit ? "" : "not ", n_test,
	       hit ? "" : " # TODO debug-register traps not delivered on this host?");
	if (hit) {
		ok(ops->read_mem(l, a_var, (uint8_t *)&v, 8, &done) == 0 && v == 42,
		   "variable written when the watch fires");
		ok(ops->remove_point(l, RSP_POINT_WRITE, a_var, 8) == 0, "z2");
	}
	ops->kill(l, -1);
	close(addr_rd);
	close(go_wr);
	live_free(l);
}

static void test_detach_kill(void)
{
	struct live_config cfg = {.debug = getenv("LIVE_DEBUG") != NULL};
	struct live *l = live_new(&cfg);
	struct rsp_stop st;
	uint8_t orig = 0;
	size_t done;
	pid_t pid;
	int status = 0;

	if (!l || launch(l)) {
		ok(0, "launch for detach");
		return;
	}
	ops->last_stop(l, &st);
	pid = (pid_t)st.thread.pid;
	resume_all(l, RSP_RESUME_CONTINUE, 0);
	read_addrs();
	ops->interrupt(l);
	wait_stop(l, &st);
	ops->read_mem(l, a_fn, &orig, 1, &done);
	ops->insert_point(l, RSP_POINT_SW, a_fn, 1);
	ops->insert_point(l, RSP_POINT_WRITE, a_var, 8);
	{
		bool att = true;

		ok(ops->attached(l, pid, &att) == 0 && !att, "qAttached: launched");
	}
	ok(ops->detach(l, pid) == 0 && !live_has_process(l), "detach");
	ok(raw_byte(pid, a_fn) == orig, "code byte restored after detach");
	/* Released, the program runs to completion without any trap. */
	ok(write(go_wr, "g", 1) == 1 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		   WEXITSTATUS(status) == 7,
	   "detached program runs untrapped to exit 7");
	close(addr_rd);
	close(go_wr);

	if (launch(l)) {
		ok(0, "launch for kill");
		live_free(l);
		return;
	}
	ops->last_stop(l, &st);
	pid = (pid_t)st.thread.pid;
	ok(ops->kill(l, pid) == 0 && !live_has_process(l), "kill");
	ok(kill(pid, 0) == -1 && errno == ESRCH, "killed process is gone");
	ok(ops->last_stop(l, &st) == -ESRCH, "no last stop without a process");
	close(addr_rd);
	close(go_wr);
	live_free(l);
}

static void test_attach(void)
{
	struct live_config cfg = {0};
	struct rsp_client_features f = {.swbreak = true};
	struct live *l = live_new(&cfg);
	struct rsp_stop st;
	int ap[2], gp[2], status = 0, rc;
	bool att = false;
	pid_t pid;

	if (!l || pipe(ap) || pipe(gp)) {
		ok(0, "setup for attach");
		return;
	}
	pid = fork();
	if (pid == 0) {
		dup2(ap[1], 3);
		dup2(gp[0], 4);
		execl(fixture, fixture, (char *)NULL);
		_exit(127);
	}
	close(ap[1]);
	close(gp[0]);
	addr_rd = ap[0];
	go_wr = gp[1];
	ok(read_addrs() == 0, "unrelated process running");
	ops->set_client_features(l, &f);
	ok(live_attach(l, pid) == 0, "attach");
	rc = ops->last_stop(l, &st);
	ok(rc == 0 && st.signo == 0 && st.thread.pid == pid && st.thread.tid == pid,
	   "attach stop is signal 0 on the main thread for gdb (gdbserver's T00: a SIGSTOP "
	   "would be delivered by gdb's next continue)");
	f.is_lldb = true;
	ops->set_client_features(l, &f);
	ok(!ops->last_stop(l, &st) && st.signo == SIGSTOP, "...and SIGSTOP for lldb");
	f.is_lldb = false;
	ops->set_client_features(l, &f);
	ok(ops->attached(l, pid, &att) == 0 && att, "qAttached: attached");
	ok(ops->insert_point(l, RSP_POINT_SW, a_fn, 1) == 0, "Z0 after attach");
	ok(write(go_wr, "g", 1) == 1 && resume_all(l, RSP_RESUME_CONTINUE, 0) == 0,
	   "resume attached process");
	rc = wait_stop(l, &st);
	ok(rc == 1 && st.reason == RSP_REASON_SWBREAK && reg(l, st.thread, X86_64_RIP) == a_fn,
	   "breakpoint hit in attached process");
	ok(ops->detach(l, pid) == 0, "detach attached process");
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7,
	   "detached from a breakpoint stop, it runs on to exit 7");
	close(addr_rd);
	close(go_wr);
	live_free(l);
}

int main(int argc, char **argv)
{
	char self[PATH_MAX];

	reserve_fds();
	ops = live_target_ops();
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(fixture, sizeof(fixture), "%s/../fixtures/live_target", dirname(self));
	if (access(fixture, X_OK)) {
		printf("1..0 # SKIP %s not built (make fixtures)\n", fixture);
		return 0;
	}
	test_full_run();
	test_watch();
	test_detach_kill();
	test_attach();
	printf("1..%d\n", n_test);
	return failed;
}
