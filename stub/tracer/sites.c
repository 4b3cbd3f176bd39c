/* Probe placement. A traced function gets an int3 at its entry and one on each exit found
 * by decoding its bytes (every ret; every jump leaving it: tail calls, jcc out, indirect
 * jumps whose run-time target is checked at the hit). Return addresses are never rewritten
 * (Go's stack copier and GC check them). A tail call's return is caught at the caller's
 * return site: a probe placed on demand at the return address read from the stack, shared
 * by every call waiting there and removed from the event loop once nobody waits (never from
 * inside a hit). Go functions also get a probe on their prologue's call to
 * runtime.morestack, so the entry probe firing again after the stack grew is not counted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/tracer/internal.h"

enum probe_verdict trace_on_hit(void *ctx, const struct probe_hit *hit)
{
	struct tsite *x = ctx;

	/* What the thread recorded through pads before this trap comes first. */
	trace_fast_drain(x->t, NULL);
	return trace_handle(ctx, hit);
}

/* Pads where the hit can wait for the drain; --correlate's socket probes trap, since a
 * descriptor must be looked up while the call is still in it. */
static bool may_be_fast(const struct trace *t, const struct tfunc *f, enum tsite_kind kind,
			unsigned exit)
{
	if (t->cli->specs[f->spec].internal)
		return false;
	return kind == TS_ENTRY || kind == TS_HIT ||
	       (kind == TS_EXIT && f->exits[exit].kind == X86_64_SITE_RET);
}

static const char *env_error(struct trace *t)
{
	const char *e = t->env.last_error ? t->env.last_error(t->env.ctx) : NULL;

	return e && *e ? e : "no details";
}

static struct tsite *put_site(struct trace *t, struct tfunc *f, enum tsite_kind kind, uint64_t addr,
			      unsigned exit)
{
	struct tspace *s = f->space;
	struct tsite *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return NULL;
	*x = (struct tsite){
		.kind = kind, .f = f, .exit = exit, .t = t, .pid = s->pid, .addr = addr};
	if (kind == TS_EXIT && !may_be_fast(t, f, kind, exit) && !f->trap_why[0] && t->env.live &&
	    !t->cli->trap)
		snprintf(f->trap_why, sizeof(f->trap_why), "an exit that jumps out (a tail call)");
	if (may_be_fast(t, f, kind, exit) && !trace_fast_place(t, x)) {
		x->placed = true;
		x->next = s->sites;
		s->sites = x;
		return x;
	}
	err = t->env.insert(t->env.ctx, s->pid, addr, trace_on_hit, x);
	if (err == -EBUSY && !trace_fast_yield(t, s, addr))
		err = t->env.insert(t->env.ctx, s->pid, addr, trace_on_hit, x);
	if (err) {
		fprintf(stderr, "tracestub trace: cannot place a probe at %#lx (%s): %s (%s)\n",
			(unsigned long)addr, f->name, strerror(-err), env_error(t));
		free(x);
		return NULL;
	}
	x->placed = true;
	x->next = s->sites;
	s->sites = x;
	return x;
}

/* Exits and morestack call of f from its bytes in the module file. */
const uint8_t *trace_code_at(struct module *m, uint64_t start, size_t len)
{
	size_t nimg;
	const uint8_t *img = elfsym_image(m->syms, &nimg);
	uint64_t off;
	const struct elfsym_func *sym = elfsym_lookup(m->syms, start - m->bias, &off);

	if (!len || !img || !sym || off || sym->file_off == UINT64_MAX ||
	    sym->file_off + len > nimg)
		return NULL;
	return img + sym->file_off;
}

const uint8_t *trace_func_code(const struct tfunc *f, size_t *len)
{
	*len = f->end - f->start;
	return trace_code_at(f->mod->m, f->start, *len);
}

static int scan(struct tfunc *f, struct x86_64_site **out, size_t *n)
{
	size_t len;
	const uint8_t *code = trace_func_code(f, &len);

	*out = NULL;
	*n = 0;
	if (!code)
		return -ENOENT;
	if (x86_64_funcscan(code, len, f->start, NULL, 0, n) || !*n)
		return *n ? -EINVAL : 0;
	*out = calloc(*n, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	return x86_64_funcscan(code, len, f->start, *out, *n, n);
}

static bool keep_exit(const struct tfunc *f, const struct x86_64_site *x)
{
	return x->kind == X86_64_SITE_RET || x->kind == X86_64_SITE_JMP_OUT ||
	       x->kind == X86_64_SITE_JMP_INDIRECT;
}

static bool is_morestack(const struct tfunc *f, const struct x86_64_site *x)
{
	return f->go && x->kind == X86_64_SITE_CALL && x->target &&
	       (x->target == f->mod->morestack[0] || x->target == f->mod->morestack[1]);
}

static void place_exits(struct trace *t, struct tfunc *f)
{
	struct x86_64_site *all = NULL;
	size_t n = 0, k = 0;
	int err = f->mod ? scan(f, &all, &n) : -ENOENT;

	if (!err) {
		for (size_t i = 0; i < n; i++)
			if (keep_exit(f, &all[i]))
				k++;
		f->exits = k && k <= TRACE_MAX_EXITS ? calloc(k, sizeof(*f->exits)) : NULL;
	}
	if (err || !f->exits) {
		free(all);
		if (f->go) {
			fprintf(stderr, "tracestub trace: %s: exits unknown, returns not traced\n",
				f->name);
			return;
		}
		f->ra_only = true; /* C: every return is caught at the caller's return site */
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (is_morestack(f, &all[i]) && !f->morestack_site &&
		    put_site(t, f, TS_MORESTACK, all[i].addr, 0))
			f->morestack_site = all[i].addr;
		if (!keep_exit(f, &all[i]))
			continue;
		f->exits[f->nexits] = all[i];
		if (!put_site(t, f, TS_EXIT, all[i].addr, f->nexits) && !f->go)
			f->ra_only = true;
		f->nexits++;
	}
	free(all);
}

/* Before any byte is written: the probe lies inside its function, and the code there is the
 * module file's code at that address (a wrong load bias would put the int3 into another
 * function or into data). 0, or -EINVAL after one message. */
static int check_code(struct trace *t, struct tfunc *f)
{
	struct module *m = f->mod ? f->mod->m : NULL;
	uint8_t live[16];
	size_t nimg, n = sizeof(live);
	const uint8_t *img = m ? elfsym_image(m->syms, &nimg) : NULL;
	uint64_t off;
	const char *why = NULL;

	if (!m)
		return 0;
	if (f->end > f->start && (f->addr < f->start || f->addr >= f->end))
		why = "outside the function";
	else if (!module_addr_is_code(m, f->addr, &off) || off >= nimg)
		why = "not the file's code as mapped (load bias?)";
	if (!why) {
		if (f->end > f->start && f->end - f->addr < n)
			n = f->end - f->addr;
		if (nimg - off < n)
			n = nimg - off;
		struct iovec lo = {live, n}, re = {(void *)(uintptr_t)f->addr, n};
		if (t->env.readv(t->env.ctx, f->space->pid, &lo, &re, 1) != (ssize_t)n)
			why = "its code cannot be read";
		else if (memcmp(live, img + off, n))
			why = "the code there differs from the file's";
	}
	if (!why)
		return 0;
	fprintf(stderr, "tracestub trace: refusing a probe at %#lx (%s in %s): %s\n",
		(unsigned long)f->addr, f->name, m->name, why);
	return -EINVAL;
}

int trace_place(struct trace *t, struct tfunc *f)
{
	if (check_code(t, f))
		return -EINVAL;
	if (!put_site(t, f, f->kind == TF_FUNC ? TS_ENTRY : TS_HIT, f->addr, 0))
		return -EINVAL;
	f->placed = true;
	if (f->kind == TF_FUNC)
		place_exits(t, f);
	return 0;
}

struct tsite *trace_retsite_get(struct trace *t, struct tspace *s, uint64_t ra)
{
	struct tsite *x;
	struct tmod *tm;
	int err;

	for (x = s->retsites; x; x = x->next)
		if (x->addr == ra)
			break;
	if (!x) {
		x = calloc(1, sizeof(*x));
		if (!x)
			return NULL;
		tm = trace_mod_at(s, ra);
		*x = (struct tsite){.kind = TS_RETSITE,
				    .t = t,
				    .pid = s->pid,
				    .addr = ra,
				    .go = tm && tm->m->is_go};
		x->next = s->retsites;
		s->retsites = x;
	}
	if (!x->placed) {
		err = t->env.insert(t->env.ctx, s->pid, ra, trace_on_hit, x);
		if (err && err != -EEXIST)
			return NULL;
		x->placed = true;
	}
	x->refs++;
	return x;
}

void trace_retsite_put(struct trace *t, struct tsite *rs)
{
	if (rs && rs->refs)
		rs->refs--;
}

void trace_retsite_sweep(struct trace *t)
{
	for (struct tspace *s = t->spaces; s; s = s->next)
		for (struct tsite *x = s->retsites; x; x = x->next)
			if (x->placed && !x->refs) {
				t->env.remove(t->env.ctx, s->pid, x->addr, trace_on_hit, x);
				x->placed = false;
			}
}

void trace_remove_all(struct trace *t)
{
	for (struct tspace *s = t->spaces; s; s = s->next) {
		for (struct tsite *x = s->sites; x; x = x->next)
			if (x->placed && !x->fast) { /* pads stay, disabled, until detach */
				t->env.remove(t->env.ctx, s->pid, x->addr, trace_on_hit, x);
				x->placed = false;
			}
		for (struct tsite *x = s->retsites; x; x = x->next)
			if (x->placed) {
				t->env.remove(t->env.ctx, s->pid, x->addr, trace_on_hit, x);
				x->placed = false;
			}
	}
}
