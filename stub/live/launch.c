/* Starting debugged processes: fork/exec under PTRACE_SEIZE (with --wrapper and
 * startup-with-shell exec counting), attach to every thread of a pid, and the launch
 * settings (environment, cwd, ASLR). Ending them is detach.c. Blocking waits here are
 * bounded by the kernel delivering the stop we caused. */
#include "stub/live/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/os/os.h"

extern char **environ;

/* ---- argv building ---- */

static size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static char **strv_dup(char *const *v)
{
	size_t n = strv_len(v), i;
	char **o = calloc(n + 1, sizeof(*o));

	if (!o)
		return NULL;
	for (i = 0; i < n; i++) {
		o[i] = strdup(v[i]);
		if (!o[i]) {
			while (i--)
				free(o[i]);
			free(o);
			return NULL;
		}
	}
	return o;
}

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* "exec 'a' 'b'..." for $SHELL -c, every argument single-quoted. NULL on no
 * memory. */
static char *shell_command(char *const *argv)
{
	size_t cap = 6, i, k = 0;
	char *s;

	for (i = 0; argv[i]; i++)
		cap += 3 + 4 * strlen(argv[i]);
	s = malloc(cap + 1);
	if (!s)
		return NULL;
	k += (size_t)sprintf(s, "exec");
	for (i = 0; argv[i]; i++) {
		const char *a;

		s[k++] = ' ';
		s[k++] = '\'';
		for (a = argv[i]; *a; a++) {
			if (*a == '\'') {
				memcpy(s + k, "'\\''", 4);
				k += 4;
			} else {
				s[k++] = *a;
			}
		}
		s[k++] = '\'';
	}
	s[k] = '\0';
	return s;
}

/* The argv actually exec'ed and how many execs happen before the program itself
 * runs. */
static char **final_argv(struct live *l, char *const *argv, int *execs, char **cmd)
{
	size_t nw = strv_len(l->cfg.wrapper), na = strv_len(argv), k = 0, i;
	char **v = calloc(nw + na + 4, sizeof(*v));
	const char *sh = getenv("SHELL");

	*cmd = NULL;
	if (!v)
		return NULL;
	*execs = 1;
	for (i = 0; i < nw; i++)
		v[k++] = l->cfg.wrapper[i];
	if (nw)
		(*execs)++;
	if (l->shell) {
		*cmd = shell_command(argv);
		if (!*cmd) {
			free(v);
			return NULL;
		}
		v[k++] = (char *)(sh && *sh ? sh : "/bin/sh");
		v[k++] = (char *)"-c";
		v[k++] = *cmd;
		(*execs)++;
	} else {
		for (i = 0; i < na; i++)
			v[k++] = argv[i];
	}
	v[k] = NULL;
	return v;
}

/* In the child between fork and exec: only async-signal-safe calls. */
static void child_exec(struct live *l, char **v, int go, int err)
{
	char c;
	int e;

	sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	if (l->disable_aslr)
		personality(ADDR_NO_RANDOMIZE);
	if (l->cwd && chdir(l->cwd)) {
		e = errno;
		goto fail;
	}
	/* Wait until the parent has seized us, so the exec is traced. */
	if (read(go, &c, 1) != 1)
		_exit(127);
	execvpe(v[0], v, l->env ? l->env : environ);
	e = errno;
fail:
	if (write(err, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Wait for the launched child's execs; leaves it stopped at the last one. */
static int wait_execs(struct live *l, pid_t pid, int execs, int err)
{
	int status, seen = 0, e;

	for (;;) {
		pid_t w = waitpid(pid, &status, __WALL);

		if (w < 0)
			return -errno;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			if (read(err, &e, sizeof(e)) == sizeof(e))
				return -e;
			return -ECHILD;
		}
		if (!WIFSTOPPED(status))
			continue;
		if ((status >> 16) == PTRACE_EVENT_EXEC && ++seen == execs)
			return 0;
		if ((status >> 16) == 0)
			ptr_cont(pid, WSTOPSIG(status)); /* the shell's or wrapper's own signals */
		else
			ptr_cont(pid, 0);
	}
}

static int adopt(struct live *l, pid_t pid, bool attached, struct proc **out)
{
	struct proc *p = proc_add(&l->pt, pid);

	*out = p;
	if (!p)
		return -ENOMEM;
	p->attached = attached;
	l->cur = p;
	bkpt_forget_all(l->bk);
	hwdebug_init(&l->hw);
	memset(l->allocs, 0, sizeof(l->allocs));
	*out = p;
	return live_open_mem(p);
}

static void set_initial_stop(struct live *l, struct proc *p, int sig)
{
	memset(&l->last, 0, sizeof(l->last));
	l->last.kind = RSP_STOP_SIGNAL;
	l->last.reason = RSP_REASON_NONE;
	l->last.signo = sig;
	l->last.thread.pid = p->pid;
	l->last.thread.tid = p->pid;
	l->last.core = procfs_thread_core(p->pid, p->pid);
	l->have_last = true;
	l->last_attach = sig == SIGSTOP;
	p->event = p->threads;
}

int live_launch(struct live *l, char *const *argv)
{
	int go[2] = {-1, -1}, err[2] = {-1, -1}, execs, rc;
	char **v, *cmd;
	struct proc *p = NULL;
	pid_t pid;

	if (!argv || !argv[0])
		return -EINVAL;
	if (l->cur)
		return -EBUSY;
	v = final_argv(l, argv, &execs, &cmd);
	if (!v)
		return -ENOMEM;
	if (pipe2(go, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		rc = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0)
		child_exec(l, v, go[0], err[1]);
	close(err[1]);
	err[1] = -1;
	rc = ptr_seize(pid, live_ptrace_options(true));
	if (rc) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WALL);
		goto out;
	}
	if (write(go[1], "g", 1) != 1) {
		rc = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WALL);
		goto out;
	}
	rc = wait_execs(l, pid, execs, err[0]);
	if (rc)
		goto out;
	rc = adopt(l, pid, false, &p);
	if (!rc && !proc_thread_add(&l->pt, p, pid))
		rc = -ENOMEM;
	if (rc) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, __WALL);
		if (p)
			live_drop_proc(l, p);
		goto out;
	}
	set_initial_stop(l, p, SIGTRAP);
	if (l->last_argv != (char **)argv) {
		char **copy = strv_dup(argv);

		if (copy) {
			strv_free(l->last_argv);
			l->last_argv = copy;
		}
	}
	live_log(l, "launched %s as %d", argv[0], (int)pid);
out:
	for (int i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	free(cmd);
	free(v);
	return rc;
}

/* ---- attach ---- */

/* Seize every thread of pid not yet traced; returns how many were new, or
 * -errno. */
static int seize_new_threads(struct live *l, struct proc *p)
{
	pid_t tids[1024];
	size_t n = 0, i;
	int added = 0, rc;

	rc = procfs_list_tids(p->pid, tids, sizeof(tids) / sizeof(tids[0]), &n);
	if (rc)
		return rc;
	if (n > sizeof(tids) / sizeof(tids[0]))
		n = sizeof(tids) / sizeof(tids[0]);
	for (i = 0; i < n; i++) {
		struct proc_thread *th;

		if (proc_thread_find(&l->pt, tids[i]))
			continue;
		rc = ptr_seize(tids[i], live_ptrace_options(false));
		if (rc == -ESRCH)
			continue; /* exited meanwhile */
		if (rc)
			return rc;
		th = proc_thread_add(&l->pt, p, tids[i]);
		if (!th)
			return -ENOMEM;
		th->running = true;
		th->initial_stop = true;
		th->resume = RSP_RESUME_CONTINUE;
		if (!ptr_interrupt(tids[i]))
			th->interrupting = true;
		added++;
	}
	return added;
}

/* Every thread of the newly attached p seized and stopped. */
static int seize_all(struct live *l, struct proc *p)
{
	int rc;

	do {
		rc = seize_new_threads(l, p);
	} while (rc > 0);
	if (rc < 0 || !p->threads)
		return rc < 0 ? rc : -ESRCH;
	/* Collect every first stop (and clone events) through the common handler. */
	p->resumed = true;
	rc = live_stop_all_sync(l, p);
	p->resumed = false;
	p->stopping = false;
	return rc;
}

static void unseize(struct live *l, pid_t pid)
{
	struct proc *p = proc_find(&l->pt, pid);

	if (p) {
		for (struct proc_thread *th = p->threads; th; th = th->next)
			ptr_detach(th->tid, 0);
		live_drop_proc(l, p);
	}
}

int live_attach_more(struct live *l, pid_t pid)
{
	struct proc *p;
	int rc;

	if (!l->cur)
		return live_attach(l, pid);
	if (pid <= 0 || pid == getpid())
		return -EINVAL;
	if (proc_find(&l->pt, pid))
		return -EALREADY;
	if (!(p = proc_add(&l->pt, pid)))
		return -ENOMEM;
	p->attached = true;
	p->engine_owned = true; /* run headless: its new threads resumed at their first stop */
	rc = live_open_mem(p);
	if (!rc)
		rc = seize_all(l, p);
	if (rc) {
		unseize(l, pid);
		return rc;
	}
	live_log(l, "attached to %d as well (%zu threads)", (int)pid, p->nthreads);
	return 0;
}

int live_attach(struct live *l, pid_t pid)
{
	struct proc *p = NULL;
	int rc;

	if (l->cur)
		return -EBUSY;
	if (pid <= 0 || pid == getpid())
		return -EINVAL;
	rc = adopt(l, pid, true, &p);
	if (!rc)
		rc = seize_all(l, p);
	if (rc) {
		unseize(l, pid);
		l->cur = NULL;
		return rc;
	}
	set_initial_stop(l, p, SIGSTOP);
	live_log(l, "attached to %d (%zu threads)", (int)pid, p->nthreads);
	return 0;
}

/* ---- ops: run, attach, kill, detach ---- */

int live_run(void *t, char *const *argv, size_t argc, struct rsp_stop *out)
{
	struct live *l = t;
	char **v;
	size_t i;
	int rc;

	if (!argv)
		return -EINVAL;
	if ((!argc || !argv[0][0]) && (!l->last_argv || !l->last_argv[0]))
		return -ENOENT;
	if (l->cur)
		live_kill(l, l->cur->pid);
	if (!argc) { /* R: the last program with its last arguments */
		rc = live_launch(l, l->last_argv);
		if (!rc)
			*out = l->last;
		return rc;
	}
	v = calloc(argc + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[0] = argv[0][0] ? argv[0] : l->last_argv[0];
	for (i = 1; i < argc; i++)
		v[i] = argv[i];
	rc = live_launch(l, v);
	free(v);
	if (!rc)
		*out = l->last;
	return rc;
}

int live_attach_op(void *t, int64_t pid, struct rsp_stop *out)
{
	struct live *l = t;
	int rc = live_attach(l, (pid_t)pid);

	if (!rc)
		*out = live_last_for_client(l);
	if (!rc && l->non_stop && l->cur)
		live_ns_attached(l, l->cur);
	return rc;
}

/* ---- launch settings ---- */

static int env_init(struct live *l)
{
	if (l->env)
		return 0;
	l->env = strv_dup(environ);
	l->nenv = strv_len(l->env);
	return l->env ? 0 : -ENOMEM;
}

static ssize_t env_find(struct live *l, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < l->nenv; i++)
		if (!strncmp(l->env[i], name, len) && l->env[i][len] == '=')
			return (ssize_t)i;
	return -1;
}

int live_env_set(void *t, const char *kv)
{
	struct live *l = t;
	const char *eq = strchr(kv, '=');
	char *copy, **nv;
	ssize_t i;
	int rc = env_init(l);

	if (rc)
		return rc;
	if (!eq)
		return -EINVAL;
	copy = strdup(kv);
	if (!copy)
		return -ENOMEM;
	i = env_find(l, kv, (size_t)(eq - kv));
	if (i >= 0) {
		free(l->env[i]);
		l->env[i] = copy;
		return 0;
	}
	nv = realloc(l->env, (l->nenv + 2) * sizeof(*nv));
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	l->env = nv;
	l->env[l->nenv++] = copy;
	l->env[l->nenv] = NULL;
	return 0;
}

int live_env_unset(void *t, const char *name)
{
	struct live *l = t;
	ssize_t i;
	int rc = env_init(l);

	if (rc)
		return rc;
	i = env_find(l, name, strlen(name));
	if (i < 0)
		return 0;
	free(l->env[i]);
	l->env[i] = l->env[--l->nenv];
	l->env[l->nenv] = NULL;
	return 0;
}

int live_env_reset(void *t)
{
	struct live *l = t;

	strv_free(l->env);
	l->env = NULL;
	l->nenv = 0;
	return 0;
}

int live_set_cwd(void *t, const char *dir)
{
	struct live *l = t;
	char *c = NULL;

	if (dir && *dir) {
		c = strdup(dir);
		if (!c)
			return -ENOMEM;
	}
	free(l->cwd);
	l->cwd = c;
	return 0;
}

int live_set_disable_aslr(void *t, bool on)
{
	struct live *l = t;

	l->disable_aslr = on;
	return 0;
}

int live_set_startup_with_shell(void *t, bool on)
{
	struct live *l = t;

	l->shell = on;
	return 0;
}
