/* Call stacks and the hit handlers. C calls are kept per thread and matched by stack
 * pointer: a ret closes the call whose entry rsp it sees, a call found below the current rsp
 * at a new entry has returned unseen (longjmp) and is dropped. Go calls are kept per
 * goroutine (the g in r14) and matched by function and depth, never by stack pointer, since
 * Go stacks move. A Go entry probe fires twice when the prologue grows the stack through
 * runtime.morestack; the probe on that call marks the goroutine so the second entry is not
 * counted. All state is preallocated: a hit never mallocs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <time.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/tracer/tracer.h"
#include "stub/tracer/internal.h"

#define NSLOTS (2 * TRACE_MAX_THREADS)

int trace_calls_init(struct trace *t)
{
	t->threads = calloc(NSLOTS, sizeof(*t->threads));
	t->calls = calloc(TRACE_MAX_FRAMES, sizeof(*t->calls));
	if (!t->threads || !t->calls)
		return -ENOMEM;
	for (int32_t i = 0; i < TRACE_MAX_FRAMES; i++)
		t->calls[i].prev = i + 1 < TRACE_MAX_FRAMES ? i + 1 : -1;
	t->free_call = 0;
	if (getrandom(&t->id_state, sizeof(t->id_state), GRND_NONBLOCK) != sizeof(t->id_state))
		t->id_state = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	t->id_state |= 1;
	return 0;
}

/* A span or trace id: never 0 (OTLP's "none"). */
static uint64_t new_id(struct trace *t)
{
	uint64_t x;

	do {
		x = t->id_state;
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		t->id_state = x;
		x *= 0x2545f4914f6cdd1dull;
	} while (!x);
	return x;
}

/* The ids of a new span of (pid, tid) under the call below: its trace and parent; for a
 * root, the server span the thread is serving (--correlate), else a new trace. */
static void new_span(struct trace *t, const struct tcall *below, const struct probe_hit *hit,
		     uint64_t key, const struct tfunc *f, uint64_t *span_id, uint64_t *parent_id,
		     uint8_t trace_id[16])
{
	uint64_t a, b;

	*span_id = new_id(t);
	*parent_id = 0;
	if (below) {
		memcpy(trace_id, below->trace_id, 16);
		*parent_id = below->span_id;
		return;
	}
	if (netcorr_root(t, hit, key, f, trace_id, parent_id))
		return;
	a = new_id(t);
	b = new_id(t);
	memcpy(trace_id, &a, 8);
	memcpy(trace_id + 8, &b, 8);
}

/* The event's span: this call's ids, its parent the call below it. */
static void set_span(struct tevent *ev, const struct tcall *c)
{
	memcpy(ev->trace_id, c->trace_id, 16);
	ev->span_id = c->span_id;
	ev->parent_span_id = c->parent_id;
}

void trace_calls_fini(struct trace *t)
{
	free(t->threads);
	free(t->calls);
	t->threads = NULL;
	t->calls = NULL;
}

static size_t hash(pid_t pid, uint64_t key)
{
	uint64_t h = (key ^ ((uint64_t)pid << 32)) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 40) % NSLOTS;
}

static struct tthread *thread_find(struct trace *t, pid_t pid, uint64_t key)
{
	for (size_t i = hash(pid, key), n = 0; n < NSLOTS; i = (i + 1) % NSLOTS, n++) {
		struct tthread *th = &t->threads[i];
		if (!th->used)
			return NULL;
		if (th->pid == pid && th->key == key)
			return th;
	}
	return NULL;
}

static struct tthread *thread_get(struct trace *t, pid_t pid, uint64_t key, bool go)
{
	struct tthread *th = thread_find(t, pid, key);

	if (th)
		return th;
	if (t->nthreads >= TRACE_MAX_THREADS)
		return NULL;
	for (size_t i = hash(pid, key);; i = (i + 1) % NSLOTS) {
		th = &t->threads[i];
		if (th->used)
			continue;
		*th = (struct tthread){
			.pid = pid, .key = key, .used = true, .go = go, .top = -1, .goid = -1};
		t->nthreads++;
		return th;
	}
}

/* Linear probing deletion: shift later members of the cluster back. */
static void thread_delete(struct trace *t, struct tthread *th)
{
	size_t i = (size_t)(th - t->threads), j = i;

	th->used = false;
	t->nthreads--;
	for (;;) {
		j = (j + 1) % NSLOTS;
		if (!t->threads[j].used)
			return;
		size_t h = hash(t->threads[j].pid, t->threads[j].key);
		/* Move j to i when its home h is not in (i, j] cyclically. */
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			t->threads[i] = t->threads[j];
			t->threads[j].used = false;
			i = j;
		}
	}
}

static void release_if_idle(struct trace *t, struct tthread *th)
{
	if (th && th->top < 0 && !th->reenter)
		thread_delete(t, th);
}

static void pop(struct trace *t, struct tthread *th)
{
	int32_t i = th->top;
	struct tcall *c = &t->calls[i];

	trace_retsite_put(t, c->retsite);
	th->top = c->prev;
	th->depth--;
	c->prev = t->free_call;
	t->free_call = i;
}

static struct tcall *push(struct trace *t, struct tthread *th)
{
	int32_t i = t->free_call;
	struct tcall *c;

	if (i < 0) {
		t->dropped_calls++;
		return NULL;
	}
	c = &t->calls[i];
	t->free_call = c->prev;
	memset(c, 0, sizeof(*c));
	c->prev = th->top;
	th->top = i;
	th->depth++;
	return c;
}

static void pop_all(struct trace *t, struct tthread *th)
{
	while (th->top >= 0)
		pop(t, th);
}

void trace_calls_forget(struct trace *t, pid_t pid, pid_t tid)
{
	for (size_t i = 0; i < NSLOTS; i++) {
		struct tthread *th = &t->threads[i];
		if (!th->used || th->pid != pid || (tid && (th->go || th->key != (uint64_t)tid)))
			continue;
		pop_all(t, th);
		th->reenter = NULL;
		thread_delete(t, th);
		i--; /* the slot may hold a shifted thread now */
	}
}

size_t trace_calls_open(const struct trace *t)
{
	size_t n = 0;

	for (size_t i = 0; i < NSLOTS; i++)
		if (t->threads[i].used)
			n += (size_t)(t->threads[i].depth > 0 ? t->threads[i].depth : 0);
	return n;
}

static uint64_t key_of(bool go, const struct probe_hit *hit)
{
	return go ? hit->regs->r14 : (uint64_t)hit->tid;
}

static void fill(struct trace_hitctx *hc, struct tfunc *f, int depth, int64_t goid)
{
	struct tevent *ev = &hc->t->ev;
	uint64_t now = hc->hit->time_ns;

	ev->pid = hc->hit->pid;
	ev->tid = hc->hit->tid;
	ev->goid = goid;
	ev->depth = depth;
	ev->func = f->name;
	ev->module = f->mod ? f->mod->m->name : NULL;
	ev->addr = f->addr;
	ev->time_ns = now > hc->t->start_ns ? now - hc->t->start_ns : 0;
	ev->exe = hc->space && hc->space->exe ? hc->space->exe->name : NULL;
}

/* Count an event and emit it; -n reached stops new events. */
static void emit(struct trace_hitctx *hc, const struct tfunc *f)
{
	struct trace *t = hc->t;

	if (t->tf)
		trace_tfile_frame(hc, f, t->ev.type == TEVENT_RETURN);
	t->ev.seq = ++t->seq;
	if (t->ev.type != TEVENT_RETURN) {
		t->events++;
		if (t->cli->count && t->events >= t->cli->count) {
			t->stopping = true;
			t->stop_requested = true;
		}
	}
	trace_out_event(t, &t->ev);
}

static bool cond_ok(struct trace *t, const struct tfunc *f)
{
	const struct probespec_cond *c = &t->cli->specs[f->spec].cond;
	const struct tvalue *v;

	if (!c->present)
		return true;
	v = probespec_cond_arg(c, t->ev.args, t->ev.nargs);
	return v && probespec_cond_matches(c, v);
}

static void collect_args(struct trace_hitctx *hc, struct tfunc *f, enum tevent_type type)
{
	struct tevent *ev = &hc->t->ev;

	tevent_init(ev, type);
	hc->nstr = hc->nreads = 0;
	hc->mod = f->mod;
	if (trace_shows_args(hc->t->cli) || hc->t->cli->specs[f->spec].cond.present)
		ev->nargs = trace_collect(hc, &f->plan, false, f->plan.at_entry, ev->args,
					  TEVENT_MAX_VALUES);
}

/* Arm the caller's return site for call c, whose return address is ra. */
static void arm(struct trace_hitctx *hc, struct tcall *c, uint64_t ra)
{
	if (c->retsite || !ra)
		return;
	c->retsite = trace_retsite_get(hc->t, hc->space, ra);
	c->ra = ra;
	c->ra_rsp = c->entry_rsp + 8;
}

/* C: calls above rsp have returned without our seeing it (longjmp, a missed exit); one at
 * exactly rsp has too, unless it left by a tail jump: then this is its tail callee. */
static void drop_stale(struct trace *t, struct tthread *th, uint64_t rsp)
{
	while (th->top >= 0) {
		const struct tcall *c = &t->calls[th->top];
		if (c->entry_rsp > rsp || (c->entry_rsp == rsp && c->retsite))
			break;
		pop(t, th);
	}
}

/* The nearest call below c that the user traced (not one of --correlate's probes). */
static const struct tcall *traced_below(const struct trace *t, const struct tcall *c)
{
	for (int32_t i = c->prev; i >= 0; i = t->calls[i].prev)
		if (!t->cli->specs[t->calls[i].f->spec].internal)
			return &t->calls[i];
	return NULL;
}

/* --correlate's socket probe: a call kept on the stack for its return, never shown. */
static void on_io_entry(struct trace_hitctx *hc, struct tfunc *f, struct tthread *th)
{
	struct trace *t = hc->t;
	const struct probe_hit *hit = hc->hit;
	struct tcall *c;

	if (!th && !(th = thread_get(t, hit->pid, key_of(f->go, hit), f->go)))
		return;
	if (!(c = push(t, th)))
		return;
	c->f = f;
	c->t_ns = hit->time_ns;
	c->entry_rsp = hit->regs->rsp;
	c->span_id = c->parent_id = 0;
	memset(c->trace_id, 0, 16);
	netcorr_entry(hc, c, traced_below(t, c), th->key);
}

static void on_entry(struct trace_hitctx *hc, struct tfunc *f)
{
	struct trace *t = hc->t;
	const struct probe_hit *hit = hc->hit;
	uint64_t key = key_of(f->go, hit), ra;
	struct tthread *th = thread_find(t, hit->pid, key);
	struct tcall *c;
	int64_t goid = -1;

	if (th && th->reenter == f) {
		th->reenter = NULL; /* back from runtime.morestack: the same call */
		release_if_idle(t, th);
		return;
	}
	if (t->stopping)
		return;
	if (th && !f->go)
		drop_stale(t, th, hit->regs->rsp);
	if (t->cli->specs[f->spec].internal) {
		on_io_entry(hc, f, th);
		return;
	}
	collect_args(hc, f, TEVENT_CALL);
	if (!cond_ok(t, f)) {
		release_if_idle(t, th);
		return;
	}
	if (!trace_shows_args(t->cli))
		t->ev.nargs = 0;
	if (!th && !(th = thread_get(t, hit->pid, key, f->go))) {
		t->dropped_calls++;
		return;
	}
	if (f->go) {
		goid = trace_goid(hc, f->mod, key);
		if (goid != th->goid && th->top >= 0)
			pop_all(t, th); /* a new goroutine on a reused g */
		th->goid = goid;
	}
	fill(hc, f, th->depth, goid);
	if (!(c = push(t, th)))
		return;
	new_span(t, c->prev >= 0 ? &t->calls[c->prev] : NULL, hit, th->key, f, &c->span_id,
		 &c->parent_id, c->trace_id);
	set_span(&t->ev, c);
	c->f = f;
	c->t_ns = hit->time_ns;
	c->entry_rsp = hit->regs->rsp;
	if (f->ra_only && !trace_read(hc, hit->regs->rsp, &ra, 8))
		arm(hc, c, ra);
	trace_collect_extras(hc, hit->addr == f->addr);
	f->calls++;
	emit(hc, f);
}

static struct tcall *find_call(struct trace *t, struct tthread *th, const struct tfunc *f,
			       uint64_t rsp, bool exact)
{
	for (int32_t i = th->top; i >= 0; i = t->calls[i].prev) {
		struct tcall *c = &t->calls[i];
		if (c->f != f)
			continue;
		if (f->go || (exact ? c->entry_rsp == rsp : c->entry_rsp >= rsp))
			return c;
	}
	return NULL;
}

/* Report the return of c (popping what was above it) with the results at this hit. */
static void finish(struct trace_hitctx *hc, struct tthread *th, struct tcall *c)
{
	struct trace *t = hc->t;
	struct tfunc *f = c->f;
	struct tevent *ev = &t->ev;
	uint64_t t0 = c->t_ns;
	struct tcall ids = *c; /* its span, read before the pops free it */

	if (t->cli->specs[f->spec].internal) {
		netcorr_return(hc, c, traced_below(t, c), th->key);
		while (&t->calls[th->top] != c)
			pop(t, th);
		pop(t, th);
		release_if_idle(t, th);
		return;
	}

	while (&t->calls[th->top] != c)
		pop(t, th);
	pop(t, th);
	tevent_init(ev, TEVENT_RETURN);
	set_span(ev, &ids);
	hc->nstr = hc->nreads = 0;
	hc->mod = f->mod;
	if (t->cli->args)
		ev->nrets = trace_collect(hc, &f->plan, true, false, ev->rets, TEVENT_MAX_VALUES);
	fill(hc, f, th->depth, th->goid);
	ev->duration_ns = hc->hit->time_ns > t0 ? hc->hit->time_ns - t0 : 0;
	emit(hc, f);
	release_if_idle(t, th);
}

static int rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return trace_read(ctx, addr, buf, len);
}

static void on_exit_site(struct trace_hitctx *hc, struct tfunc *f, const struct x86_64_site *x)
{
	const struct probe_hit *hit = hc->hit;
	struct tthread *th = thread_find(hc->t, hit->pid, key_of(f->go, hit));
	uint64_t rsp = hit->regs->rsp, target, ra;
	struct tcall *c;

	if (!th)
		return;
	if (x->kind == X86_64_SITE_RET) {
		if ((c = find_call(hc->t, th, f, rsp, true)))
			finish(hc, th, c);
		return;
	}
	if (x->kind == X86_64_SITE_JMP_INDIRECT &&
	    !x86_64_indirect_target(&x->ind, hit->regs, rd, hc, &target) && target >= f->start &&
	    target < f->end)
		return; /* a jump table inside the function */
	if (!(c = find_call(hc->t, th, f, rsp, false)) || c->retsite)
		return;
	/* The return address is still in its slot at the entry rsp (C); a Go tail jump has
	 * popped its frame, so it is at rsp. */
	if (!trace_read(hc, f->go ? rsp : c->entry_rsp, &ra, 8))
		arm(hc, c, ra);
}

static void on_retsite(struct trace_hitctx *hc, struct tsite *rs)
{
	const struct probe_hit *hit = hc->hit;
	struct tthread *th = thread_find(hc->t, hit->pid, key_of(rs->go, hit));

	if (!th)
		return;
	for (int32_t i = th->top; i >= 0; i = hc->t->calls[i].prev) {
		struct tcall *c = &hc->t->calls[i];
		if (c->retsite == rs && (rs->go || c->ra_rsp == hit->regs->rsp)) {
			finish(hc, th, c);
			return;
		}
	}
}

static void on_morestack(struct trace_hitctx *hc, struct tfunc *f)
{
	struct tthread *th = thread_get(hc->t, hc->hit->pid, key_of(true, hc->hit), true);

	if (th)
		th->reenter = f;
}

static void on_hit(struct trace_hitctx *hc, struct tfunc *f)
{
	struct trace *t = hc->t;
	struct tthread *th = thread_find(t, hc->hit->pid, key_of(f->go, hc->hit));
	int64_t goid = f->go && f->mod ? trace_goid(hc, f->mod, hc->hit->regs->r14) : -1;

	if (t->stopping)
		return;
	collect_args(hc, f, TEVENT_HIT);
	if (!cond_ok(t, f))
		return;
	if (!trace_shows_args(t->cli))
		t->ev.nargs = 0;
	fill(hc, f, th ? th->depth : 0, goid);
	new_span(t, th && th->top >= 0 ? &t->calls[th->top] : NULL, hc->hit,
		 th ? th->key : key_of(f->go, hc->hit), f, &t->ev.span_id, &t->ev.parent_span_id,
		 t->ev.trace_id);
	t->ev.addr = hc->hit->addr;
	trace_collect_extras(hc, hc->hit->addr == f->addr);
	f->calls++;
	emit(hc, f);
}

enum probe_verdict trace_handle(struct tsite *site, const struct probe_hit *hit)
{
	struct trace *t = site->t;
	struct trace_hitctx hc = {.t = t, .hit = hit};

	if (hit->step)
		return PROBE_RESUME;
	hc.space = trace_space_find(t, hit->pid);
	if (!hc.space && t->cli->follow_forks) {
		/* A followed fork child can hit a copied probe before its fork event reaches
		 * us: give it its space now (once per process, so not on the hot path). */
		hc.space = trace_space_new(t, hit->pid);
		if (hc.space && trace_space_refresh(t, hc.space, false))
			hc.space->dead = true;
	}
	if (!hc.space || hc.space->dead)
		return PROBE_RESUME;
	if (t->cli->has_tid && hit->tid != t->cli->tid)
		return PROBE_RESUME;
	switch (site->kind) {
	case TS_ENTRY:
		on_entry(&hc, site->f);
		break;
	case TS_EXIT:
		on_exit_site(&hc, site->f, &site->f->exits[site->exit]);
		break;
	case TS_MORESTACK:
		on_morestack(&hc, site->f);
		break;
	case TS_HIT:
		on_hit(&hc, site->f);
		break;
	case TS_RETSITE:
		on_retsite(&hc, site);
		break;
	}
	return PROBE_RESUME;
}
