/* The live target: its ops table, assembled from the files that implement it (ops.c,
 * ops_info.c, inject.c; events.c and launch.c for process control), and its lifetime. */
#include "stub/live/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/os/os.h"

const struct rsp_target_ops *live_target_ops(void)
{
	static struct rsp_target_ops o;
	static bool built;

	if (!built) {
		live_ops_core(&o);
		live_ops_info(&o);
		live_ops_inject(&o);
		o.resume = live_resume;
		o.interrupt = live_interrupt;
		o.kill = live_kill;
		o.detach = live_detach;
		o.run = live_run;
		o.attach = live_attach_op;
		o.attached = live_attached;
		o.env_set = live_env_set;
		o.env_unset = live_env_unset;
		o.env_reset = live_env_reset;
		o.set_cwd = live_set_cwd;
		o.set_disable_aslr = live_set_disable_aslr;
		o.set_non_stop = live_set_non_stop;
		o.catch_syscalls = live_catch_syscalls;
		o.stopped_threads = live_stopped_threads;
		o.set_startup_with_shell = live_set_startup_with_shell;
		built = true;
	}
	return &o;
}

/* ---- lifetime ---- */

static void build_layout(struct live *l)
{
	const struct x86_64_reg *r = x86_64_regs();
	unsigned i;

	for (i = 0; i < X86_64_NREGS; i++) {
		struct rsp_reg_info *o = &l->reginfo[i];

		o->name = r[i].name;
		o->alt_name = NULL;
		o->bitsize = r[i].bitsize;
		o->offset = r[i].offset;
		o->dwarf_regno = r[i].dwarf;
		o->ehframe_regno = r[i].dwarf;
		o->generic = r[i].generic;
		o->encoding = r[i].encoding;
		o->format = r[i].format;
		o->set = r[i].set;
		o->expedite = r[i].expedite;
	}
	l->layout.regs = l->reginfo;
	l->layout.nregs = X86_64_NREGS;
	l->layout.g_size = x86_64_g_size();
}

static int setup_fds(struct live *l)
{
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	/* signalfd only sees SIGCHLD while it is blocked; children unblock it before
	 * exec. */
	if (sigprocmask(SIG_BLOCK, &set, &l->old_mask))
		return -errno;
	l->mask_saved = true;
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->sigfd < 0 || l->evfd < 0 || l->epfd < 0)
		return -errno;
	ev.data.fd = l->sigfd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev))
		return -errno;
	ev.data.fd = l->evfd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev))
		return -errno;
	return 0;
}

struct live *live_new(const struct live_config *cfg)
{
	struct live *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->cfg = *cfg;
	l->shell = cfg->startup_with_shell;
	l->sigfd = l->evfd = l->epfd = -1;
	build_layout(l);
	l->bk = bkpt_table_new();
	hwdebug_init(&l->hw);
	if (!l->bk || proc_table_init(&l->pt) || setup_fds(l)) {
		live_free(l);
		return NULL;
	}
	return l;
}

static void free_strv(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void live_free(struct live *l)
{
	if (!l)
		return;
	if (l->pt.buckets) {
		live_release_all(l);
		proc_table_fini(&l->pt);
	}
	bkpt_table_free(l->bk);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->evfd >= 0)
		close(l->evfd);
	free_strv(l->env);
	free_strv(l->last_argv);
	free(l->cwd);
	if (l->mask_saved)
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	free(l);
}

int live_event_fd(const struct live *l)
{
	return l->epfd;
}

pid_t live_current_pid(const struct live *l)
{
	return l->cur ? l->cur->pid : 0;
}

bool live_has_process(const struct live *l)
{
	return l->cur != NULL;
}
