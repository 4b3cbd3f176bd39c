/* `tracestub trace`: the headless tracer's entry point. Parses the command line, starts or
 * attaches to the program through the live engine, resolves the probes as modules appear
 * (the dynamic loader hook, exec), runs the event loop (child events, quit signals, -n,
 * --duration, live counters) and ends cleanly: probes removed, outputs finished, an attached
 * process detached and left running, a launched one's exit status passed on (its death by a
 * signal re-raised on ourselves, as a shell would see it untraced). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/live/live.h"
#include "stub/os/os.h"
#include "stub/tracer/internal.h"

struct session {
	struct trace *t;
	struct live *l;
	pid_t main_pid;
	bool have_status;
	int status;
	int quits;
	bool ending;
};

static int env_insert(void *ctx, pid_t pid, uint64_t addr, probe_hit_fn fn, void *fctx)
{
	return live_probe_insert(ctx, pid, addr, fn, fctx);
}

static int env_remove(void *ctx, pid_t pid, uint64_t addr, probe_hit_fn fn, void *fctx)
{
	return live_probe_remove(ctx, pid, addr, fn, fctx);
}

static ssize_t env_readv(void *ctx, pid_t pid, const struct iovec *local,
			 const struct iovec *remote, int n)
{
	return live_readv(ctx, pid, local, remote, n);
}

/* Called on the engine's thread from inside a hit, the hitting thread stopped. */
static int env_fpregs(void *ctx, pid_t tid, struct user_fpregs_struct *fp)
{
	return ptr_getfpregs(tid, fp);
}

static const char *env_error(void *ctx)
{
	return live_last_error(ctx);
}

static void on_libs(void *ctx, pid_t pid)
{
	struct session *ss = ctx;
	struct tspace *s = trace_space_find(ss->t, pid);

	if (s && !ss->t->stopping)
		trace_space_refresh(ss->t, s, true);
}

/* resolve false: a fork child, which got a copy of its parent's probes. */
static void new_space(struct session *ss, pid_t pid, bool resolve)
{
	struct tspace *s = trace_space_new(ss->t, pid);

	if (!s || trace_space_refresh(ss->t, s, resolve))
		fprintf(stderr, "tracestub trace: cannot read the modules of process %d\n",
			(int)pid);
}

static void drop_space(struct session *ss, pid_t pid)
{
	struct tspace *s = trace_space_find(ss->t, pid);

	if (s)
		trace_fast_close(ss->t, s); /* its records first */
	trace_calls_forget(ss->t, pid, 0);
	netcorr_forget(ss->t, pid);
	if (s)
		trace_space_kill(ss->t, s);
}

static void on_proc(void *ctx, const struct live_proc_event *ev)
{
	struct session *ss = ctx;

	switch (ev->kind) {
	case LIVE_EV_FORK:
		if (ss->t->cli->follow_forks && !trace_space_find(ss->t, ev->child))
			new_space(ss, ev->child, false);
		if (ss->t->cli->follow_forks)
			trace_fast_fork(ss->t, trace_space_find(ss->t, ev->pid),
					trace_space_find(ss->t, ev->child));
		break;
	case LIVE_EV_EXEC:
		/* The old image's probes are gone with it: start over on the new one. */
		drop_space(ss, ev->pid);
		new_space(ss, ev->pid, !ss->t->stopping);
		break;
	case LIVE_EV_EXIT:
		if (ev->pid == ss->main_pid) {
			ss->have_status = true;
			ss->status = ev->status;
			/* a launched program's end ends the trace of the processes attached too */
			if (!ss->t->cli->pid && ss->t->cli->nmore)
				ss->ending = true;
		}
		drop_space(ss, ev->pid);
		break;
	case LIVE_EV_THREAD_EXIT:
		if (trace_space_find(ss->t, ev->pid))
			trace_fast_thread_gone(ss->t, trace_space_find(ss->t, ev->pid), ev->tid);
		trace_calls_forget(ss->t, ev->pid, ev->tid);
		break;
	case LIVE_EV_CURRENT_GONE: /* EXIT told the tracer already */
		break;
	}
}

/* Before attaching: the DWARF of every module a spec may find something in read once (the
 * vets in children, the indexes, the units of the functions named), so the verdicts and
 * indexes are on disk and the attached process is not held stopped while a big library's
 * DWARF is read; the session's own module set then finds them there. */
/* Will a spec read module m's DWARF: it looks into m (MODULE:FUNC only into its module;
 * *ADDR into none) and m may hold what it names (a symbol of that name, or DWARF strings
 * holding it; globs and FILE:LINE always)? */
static bool wanted(const struct tracecli *c, struct module *m)
{
	for (size_t i = 0; i < c->nspecs; i++) {
		const struct probespec *ps = &c->specs[i];
		const struct elfsym_func *v[1];

		if (ps->kind == PROBESPEC_ADDR)
			continue;
		if (ps->kind == PROBESPEC_MODFUNC && !trace_module_matches(m, ps->module))
			continue;
		if (ps->kind == PROBESPEC_FILELINE || ps->glob ||
		    elfsym_match(m->syms, ps->name, v, 1) || module_dwarf_may_name(m, ps->name))
			return true;
	}
	return false;
}

/* The functions name specs find in m by symbol: their link-time addresses (at most cap). */
static size_t named_functions(const struct tracecli *c, struct module *m, uint64_t *pcs, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < c->nspecs; i++) {
		const struct probespec *ps = &c->specs[i];
		const struct elfsym_func *v[DWARFVET_HINTS];
		size_t n;

		if ((ps->kind != PROBESPEC_FUNC && ps->kind != PROBESPEC_MODFUNC) || ps->glob ||
		    (ps->kind == PROBESPEC_MODFUNC && !trace_module_matches(m, ps->module)))
			continue;
		n = elfsym_match(m->syms, ps->name, v, DWARFVET_HINTS);
		for (size_t j = 0; j < n && j < DWARFVET_HINTS && k < cap; j++)
			pcs[k++] = v[j]->addr;
	}
	return k;
}

/* Before attaching (the program runs meanwhile): the symbols of every file pid maps and the
 * debug info of the named functions. The set is returned to be freed once the process's own
 * set exists, so its files' symbols are read once, not again while the process is held. */
static struct module_set *warm_debuginfo(const struct tracecli *c, pid_t pid)
{
	struct module_set *set = NULL;

	if (module_set_from_pid(pid, &set))
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		struct module *m = set->mods[i];
		uint64_t pcs[DWARFVET_HINTS];
		bool want = wanted(c, m);
		size_t n = want ? named_functions(c, m, pcs, DWARFVET_HINTS) : 0;
		struct dwarfinfo *di = want ? module_dwarf_at(m, pcs, n) : NULL;

		if (!di)
			continue;
		for (size_t k = 0; k < n; k++)
			dwarfinfo_func_at(di, pcs[k]);
		for (size_t k = 0; k < c->nspecs; k++) /* inlined instances parsed */
			if (c->specs[k].name[0] && !c->specs[k].glob)
				dwarfinfo_inlined(di, c->specs[k].name, false, NULL, 0);
	}
	return set;
}

static int start(struct session *ss)
{
	const struct tracecli *c = ss->t->cli;
	struct module_set *warm = NULL;
	struct rsp_stop st;
	int r;

	if (c->pid) {
		warm = warm_debuginfo(c, c->pid);
		r = live_attach(ss->l, c->pid);
		if (r) {
			module_set_free(warm);
			fprintf(stderr, "tracestub trace: cannot attach to process %d: %s\n",
				(int)c->pid, strerror(-r));
			return r;
		}
		ss->main_pid = ss->t->main_pid = c->pid;
	} else {
		r = live_launch(ss->l, c->prog_argv);
		if (r) {
			fprintf(stderr, "tracestub trace: cannot run %s: %s\n", c->prog_argv[0],
				strerror(-r));
			return r;
		}
		if (live_target_ops()->last_stop(ss->l, &st) || st.thread.pid <= 0) {
			fprintf(stderr, "tracestub trace: launched %s but lost it\n",
				c->prog_argv[0]);
			return -ESRCH;
		}
		ss->main_pid = ss->t->main_pid = (pid_t)st.thread.pid;
	}
	new_space(ss, ss->main_pid, true);
	module_set_free(warm);
	/* the other processes, attached as well: one trace, one event stream */
	for (unsigned i = 0; i < c->nmore; i++) {
		warm = warm_debuginfo(c, c->more[i]);
		r = live_attach_more(ss->l, c->more[i]);
		if (r) {
			module_set_free(warm);
			fprintf(stderr, "tracestub trace: cannot attach to process %d: %s\n",
				(int)c->more[i], strerror(-r));
			return r;
		}
		new_space(ss, c->more[i], true);
		module_set_free(warm);
	}
	return 0;
}

/* Stop tracing: no new events. remove: take every probe out now, for a program that runs
 * on untraced; when the session ends instead, live_free removes them with every thread
 * stopped, then detaches. */
static void stop_tracing(struct session *ss, bool remove)
{
	trace_fast_drain(ss->t, NULL);
	trace_fast_disable(ss->t);
	ss->t->stopping = true;
	ss->t->stop_requested = false;
	if (remove)
		trace_remove_all(ss->t);
}

static void handle_quit(struct session *ss, int sig)
{
	ss->quits++;
	/* A launched program got the terminal's Ctrl-C as well: let it finish on its own
	 * unless asked twice or told to terminate. */
	if (ss->t->cli->pid || sig != SIGINT || ss->quits > 1)
		ss->ending = true;
	stop_tracing(ss, !ss->ending);
}

static void pump(struct session *ss)
{
	struct rsp_stop st;
	int r;

	while ((r = live_handle_events(ss->l, &st)) == 1) {
		if (st.kind == RSP_STOP_EXITED || st.kind == RSP_STOP_TERMINATED) {
			if ((pid_t)st.thread.pid == ss->main_pid && !ss->have_status) {
				ss->have_status = true;
				ss->status = st.kind == RSP_STOP_EXITED ? W_EXITCODE(st.status, 0)
									: st.signo;
			}
			continue;
		}
		/* Headless: nobody to report a stop to; let everything run on. */
		live_resume_all(ss->l);
	}
	if (r < 0)
		fprintf(stderr, "tracestub trace: event handling failed: %s\n", strerror(-r));
}

static int loop(struct session *ss, int sfd)
{
	struct trace *t = ss->t;
	const struct tracecli *c = t->cli;
	struct pollfd pf[2] = {{live_event_fd(ss->l), POLLIN, 0}, {sfd, POLLIN, 0}};

	while (!ss->ending && live_has_process(ss->l)) {
		uint64_t now = trace_now_ns();
		int timeout = t->out.status_tty ? 200 : -1, save = trace_tfile_timeout_ms(t, now);
		int fast = trace_fast_timeout_ms(t);
		struct signalfd_siginfo si;

		if (save >= 0 && (timeout < 0 || save < timeout))
			timeout = save;
		if (t->fast_retry && (fast < 0 || fast > 100))
			fast = 100; /* sites wait to be promoted to pads */
		if (fast >= 0 && (timeout < 0 || fast < timeout))
			timeout = fast;

		if (c->duration_ns && !t->stopping) {
			uint64_t left = t->start_ns + c->duration_ns > now
						? t->start_ns + c->duration_ns - now
						: 0;
			int ms = (int)(left / 1000000 + 1);
			if (!left)
				t->stop_requested = true;
			else if (timeout < 0 || ms < timeout)
				timeout = ms;
		}
		if (t->stop_requested) {
			stop_tracing(ss, !c->pid);
			netcorr_fini(t);
			trace_out_close(t); /* the summary now; the program runs on untraced */
			if (c->pid)
				break;
			continue;
		}
		if (poll(pf, 2, timeout) < 0 && errno != EINTR)
			return -errno;
		if (pf[1].revents & POLLIN && read(sfd, &si, sizeof(si)) == sizeof(si))
			handle_quit(ss, (int)si.ssi_signo);
		if (pf[0].revents & POLLIN)
			pump(ss);
		trace_fast_tick(t);
		trace_fast_promote(t);
		trace_retsite_sweep(t);
		now = trace_now_ns();
		trace_out_tick(t, now);
		trace_tfile_tick(t, now);
	}
	return 0;
}

/* Our exit status: the launched program's; *sig gets the signal that killed it (0 if
 * none), to be re-raised once everything is cleaned up. */
static int exit_code(struct session *ss, int *sig)
{
	*sig = 0;
	if (ss->t->cli->pid || !ss->have_status)
		return ss->t->cli->pid ? 0 : 1;
	if (WIFEXITED(ss->status))
		return WEXITSTATUS(ss->status);
	if (WIFSIGNALED(ss->status)) {
		*sig = WTERMSIG(ss->status);
		return 128 + *sig;
	}
	return 1;
}

static void reraise(int sig)
{
	sigset_t set;

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

static int setup(struct session *ss, struct tracecli *cli)
{
	struct trace *t = ss->t;
	struct live_config lc = {0};

	t->cli = cli;
	if (cli->gdbtrace_path && trace_tfile_open(t))
		return -ENOMEM;
	if (cli->stack_bytes && !(t->stackbuf = malloc(cli->stack_bytes)))
		return -ENOMEM;
	if (trace_calls_init(t) || trace_out_open(t))
		return -ENOMEM;
	ss->l = live_new(&lc);
	if (!ss->l) {
		fprintf(stderr, "tracestub trace: cannot set up the ptrace engine: %s\n",
			strerror(errno));
		return -errno;
	}
	t->env = (struct trace_env){env_insert, env_remove, env_readv, env_fpregs,
				    env_error,	ss->l,	    ss->l};
	live_add_libs_hook(ss->l, on_libs, ss);
	live_add_proc_hook(ss->l, on_proc, ss);
	live_set_follow_forks(ss->l, cli->follow_forks);
	return 0;
}

static void teardown(struct session *ss)
{
	struct trace *t = ss->t;

	trace_fast_drain(t, NULL);
	trace_fast_disable(t);
	netcorr_fini(t);
	trace_out_close(t);
	trace_fast_report(t, stderr);
	trace_tfile_close(t, stderr);
	trace_report_unresolved(t, stderr);
	if (t->dropped_calls)
		fprintf(stderr, "tracestub trace: %llu calls not followed (more than %d open)\n",
			(unsigned long long)t->dropped_calls, TRACE_MAX_FRAMES);
	/* The trap probes out before their owners are freed: live_free stops every thread of
	 * an attached process to detach, and a hit still in flight would call into a freed
	 * site (pads stay, disabled, until the detach) */
	trace_remove_all(t);
	while (t->spaces)
		trace_space_free(t, t->spaces);
	/* live_free restores the signal mask: drop a SIGPIPE left pending by a closed output
	 * first (the launched program, if any, has its own dispositions). */
	signal(SIGPIPE, SIG_IGN);
	live_free(ss->l);
	trace_calls_fini(t);
	free(t->stackbuf);
}

int trace_main(int argc, char **argv)
{
	struct tracecli cli;
	struct session ss = {0};
	char err[640];
	sigset_t quit;
	int r, sfd = -1, code = 1, sig = 0;

	r = tracecli_parse(argc, argv, &cli, err, sizeof(err));
	if (r)
		return r == 1 ? 0 : (fprintf(stderr, "%s\n", err), 2);
	ss.t = calloc(1, sizeof(*ss.t));
	if (!ss.t)
		return 1;
	if (setup(&ss, &cli))
		goto out;
	/* After live_new: a launched program starts with the mask we had before it. SIGPIPE
	 * stays blocked (never a handler: it would interrupt the engine's waits): an output
	 * whose reader went away fails with EPIPE and the traced program is still detached or
	 * waited for. */
	sigemptyset(&quit);
	sigaddset(&quit, SIGPIPE);
	sigprocmask(SIG_BLOCK, &quit, NULL);
	sigemptyset(&quit);
	sigaddset(&quit, SIGINT);
	sigaddset(&quit, SIGTERM);
	sigaddset(&quit, SIGHUP);
	sigprocmask(SIG_BLOCK, &quit, NULL);
	sfd = signalfd(-1, &quit, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || start(&ss))
		goto out;
	r = live_resume_all(ss.l);
	if (r == -ENOSYS) {
		fprintf(stderr, "tracestub trace: %s\n", live_last_error(ss.l));
		goto out;
	}
	if (cli.pid)
		fprintf(stderr, "tracestub trace: attached to process %d; Ctrl-C detaches\n",
			(int)cli.pid);
	for (unsigned i = 0; i < cli.nmore; i++)
		fprintf(stderr, "tracestub trace: attached to process %d as well\n",
			(int)cli.more[i]);
	if (loop(&ss, sfd))
		fprintf(stderr, "tracestub trace: event loop failed: %s\n", strerror(errno));
	code = exit_code(&ss, &sig);
out:
	teardown(&ss);
	if (sfd >= 0)
		close(sfd);
	free(ss.t);
	if (sig)
		reraise(sig);
	return code;
}
