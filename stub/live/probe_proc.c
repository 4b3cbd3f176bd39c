/* Probe state across process lifecycles (stub/probe.h hooks): the headless resume, exec
 * (sites forgotten, hooks told, loader hook re-armed), fork and vfork children (cleaned,
 * followed with a copy of the parent's sites, or kept traced while they share probed
 * memory), detach, and a briefly stopped thread for injected syscalls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "stub/live/internal.h"
#include "stub/live/live.h"
#include "stub/os/os.h"

int live_add_libs_hook(struct live *l, live_libs_fn fn, void *ctx)
{
	struct proc *p;

	if (l->nlibs_hooks == LIVE_MAX_HOOKS)
		return -ENOSPC;
	l->libs_hooks[l->nlibs_hooks].fn = fn;
	l->libs_hooks[l->nlibs_hooks++].ctx = ctx;
	for (p = l->pt.procs; p; p = p->next)
		probe_libs_arm(l, p);
	return 0;
}

void live_set_follow_forks(struct live *l, bool on)
{
	l->follow_forks = on;
}

void probe_proc_event(struct live *l, enum live_proc_kind kind, struct proc *p, pid_t tid,
		      pid_t child, int status)
{
	struct live_proc_event ev = {
		.kind = kind, .pid = p->pid, .tid = tid, .child = child, .status = status};

	if (!p->fork_child && (!p->vfork_keep || l->follow_forks))
		live_tell_proc(l, &ev);
}

/* A thread the engine resumes without a client: an earlier probe stop is undone (pc back on
 * the site, which does not count the hit again), a pending signal is delivered. */
static int resume_headless(struct live *l, struct proc_thread *th)
{
	int sig = 0;

	if (th->probe_skip) {
		struct user_regs_struct r;

		if (!ptr_getregs(th->tid, &r) && r.rip == th->probe_skip + 1) {
			r.rip = th->probe_skip;
			ptr_setregs(th->tid, &r);
		}
	}
	if (th->has_pending && th->pending.reason == RSP_REASON_SIGNAL)
		sig = th->pending.signo;
	th->has_pending = false;
	th->resume = RSP_RESUME_CONTINUE;
	return live_resume_thread(th, RSP_RESUME_CONTINUE, sig);
}

int live_resume_all(struct live *l)
{
	struct proc *p;
	int rc = 0;

	l->headless = true;
	for (p = l->pt.procs; p; p = p->next) {
		struct proc_thread *th;

		if (p->fork_child)
			continue;
		probe_libs_arm(l, p);
		p->resumed = true;
		p->stopping = false;
		p->event = NULL;
		for (th = p->threads; th; th = th->next) {
			int r;

			if (th->running || th->initial_stop)
				continue;
			r = th->so ? (probe_step_continue(l, th), 0) : resume_headless(l, th);
			if (r && r != -ESRCH && !rc)
				rc = r;
		}
	}
	return rc;
}

/* ---- lifecycle ---- */

bool probe_on_exec(struct live *l, struct proc_thread *th)
{
	struct proc *p = th->proc;

	probe_thread_gone(l, th);
	if (p->vfork_keep && !l->follow_forks) {
		/* Its own address space now: nothing of ours in it. */
		ptr_detach(th->tid, 0);
		live_drop_proc(l, p);
		return true;
	}
	p->vfork_keep = false;
	if (p->ps)
		probe_space_clear(p->ps);
	probe_proc_event(l, LIVE_EV_EXEC, p, th->tid, 0, 0);
	probe_libs_arm(l, p);
	return false;
}

/* bkpt_mem over a fork child's inherited int3s: the original byte comes from the site. */
struct clone_ctx {
	uint8_t orig;
};

static int clone_rd(void *ctx, taddr_t addr, uint8_t *buf, size_t len)
{
	struct clone_ctx *c = ctx;

	memset(buf, c->orig, len);
	return 0;
}

static int clone_wr(void *ctx, taddr_t addr, const uint8_t *buf, size_t len)
{
	return 0;
}

static struct probe_site *site_copy(const struct probe_site *s, struct probe_space *cs,
				    const struct probe_space *ps)
{
	struct probe_site *n = malloc(sizeof(*n));
	struct probe_chunk *oc, *nc;

	if (!n)
		return NULL;
	*n = *s;
	n->busy = 0;
	n->next = NULL;
	n->owners = malloc((s->cap ? s->cap : 1) * sizeof(*n->owners));
	if (!n->owners) {
		free(n);
		return NULL;
	}
	memcpy(n->owners, s->owners, s->nowners * sizeof(*n->owners));
	/* The same chunk, in the child's list (same addresses: the mapping was inherited). */
	for (oc = ps->chunks, nc = cs->chunks; oc && oc != s->chunk; oc = oc->next, nc = nc->next)
		;
	n->chunk = oc ? nc : NULL;
	return n;
}

/* A followed fork child inherited every int3 and the scratch pages: give it the same sites. */
static int space_clone(struct live *l, struct proc *c, const struct probe_space *ps,
		       const struct bkpt_table *pbk)
{
	struct probe_space *cs = probe_space_new(l, c);
	struct probe_chunk *oc, **tail;
	size_t i;

	if (!cs)
		return -ENOMEM;
	tail = &cs->chunks;
	for (oc = ps->chunks; oc; oc = oc->next) {
		struct probe_chunk *nc = malloc(sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		*nc = *oc;
		nc->next = NULL;
		*tail = nc;
		tail = &nc->next;
	}
	cs->gadget = ps->gadget;
	for (i = 0; i < ps->nbuckets; i++) {
		const struct probe_site *s;

		for (s = ps->buckets[i]; s; s = s->next) {
			struct probe_site *n = site_copy(s, cs, ps);
			struct clone_ctx cc = {.orig = s->insn.bytes[0]};
			struct bkpt_mem mem = {.ctx = &cc, .read = clone_rd, .write = clone_wr};

			if (!n)
				return -ENOMEM;
			probe_site_link(cs, n);
			bkpt_insert(cs->own_bk, &mem, n->addr, BKPT_OWNER_TRACE);
			if (s->addr == ps->rbrk)
				cs->rbrk = ps->rbrk;
		}
	}
	cs->rdebug = ps->rdebug;
	/* and the fast sites' patches (the child's pads and code are copies) */
	return pbk ? bkpt_patch_copy(cs->own_bk, pbk) : 0;
}

bool probe_on_fork(struct live *l, struct proc *p, struct proc *c)
{
	struct probe_space *ps = probe_space_of(l, p);
	struct bkpt_table *pbk = live_proc_bk(l, p);
	bool probed = ps && (ps->count || (pbk && bkpt_patch_count(pbk)));

	if (!l->follow_forks && !(c->vfork_child && probed))
		return false;
	c->fork_child = false;
	c->engine_owned = true;
	c->resumed = true;
	c->attached = p->attached;
	if (c->threads)
		c->threads->resume = RSP_RESUME_CONTINUE;
	live_open_mem(c);
	if (c->vfork_child)
		c->vfork_keep = probed;
	else if (probed && space_clone(l, c, ps, live_proc_bk(l, p)))
		live_log(l, "fork %d: probes not copied (no memory)", (int)c->pid);
	probe_proc_event(l, LIVE_EV_FORK, p, p->pid, c->pid, 0);
	return true;
}

bool probe_keep_on_detach(struct live *l, struct proc *p)
{
	struct proc *par = proc_find(&l->pt, p->parent);
	struct probe_space *ps = par && par != p ? probe_space_of(l, par) : NULL;
	struct proc_thread *th;

	if (!p->vfork_child || p == l->cur || !ps || !ps->count)
		return false;
	p->vfork_keep = true;
	p->engine_owned = true;
	p->resumed = true;
	p->stopping = false;
	for (th = p->threads; th; th = th->next) {
		th->resume = RSP_RESUME_CONTINUE;
		th->has_pending = false;
		if (!th->running && !th->initial_stop)
			live_settle(l, th);
	}
	live_log(l, "vfork child %d kept traced until it execs (probed memory)", (int)p->pid);
	return true;
}

void probe_before_detach(struct live *l, struct proc *p)
{
	struct bkpt_mem mem;

	if (p == l->cur || p->vfork_keep || !p->ps || !p->ps->own_bk)
		return;
	live_bkpt_mem(l, p, &mem);
	bkpt_remove_all(p->ps->own_bk, &mem);
}

/* ---- a stopped thread for injected syscalls ---- */

/* Is tid's reaped, unhandled status a stop (not its exit)? */
static bool deferred_stop(const struct live *l, pid_t tid)
{
	for (size_t i = 0; i < l->ndeferred; i++)
		if (l->deferred[i].tid == tid)
			return WIFSTOPPED(l->deferred[i].status);
	return false;
}

struct proc_thread *probe_stopped_thread(struct live *l, struct proc *p, bool *held)
{
	struct proc_thread *th;

	*held = false;
	if (l->hit_th && l->hit_th->proc == p)
		return l->hit_th;
	for (th = p->threads; th; th = th->next)
		if (!th->running && !th->initial_stop && !th->so)
			return th;
	/* Stopped, its status reaped but not handled yet: usable as it is (and never to be
	 * interrupted and waited for: no new status would come). */
	for (th = p->threads; th; th = th->next)
		if (th->deferred && !th->initial_stop && !th->so && deferred_stop(l, th->tid))
			return th;
	for (th = p->threads; th && (th->so || th->initial_stop || th->deferred); th = th->next)
		;
	if (!th || (!th->interrupting && ptr_interrupt(th->tid)))
		return NULL;
	th->interrupting = true;
	for (;;) {
		int status;
		pid_t w = waitpid(th->tid, &status, __WALL);

		if (w < 0)
			return NULL;
		if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP) {
			th->interrupting = false;
			th->running = false;
			*held = true;
			return th;
		}
		/* Stopped (or gone) for a reason of its own: handled later, in order. Our
		 * interrupt stays pending and is taken as stale then. */
		live_defer_status(l, th->tid, status);
		return WIFSTOPPED(status) ? th : NULL;
	}
}

void probe_release_thread(struct live *l, struct proc_thread *th, bool held)
{
	if (held)
		live_settle(l, th);
}
