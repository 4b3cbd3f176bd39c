/* Address spaces of the traced processes and their modules, and resolving the -e specs
 * against each module as it appears: exact names and globs over .symtab/.dynsym, inlined
 * instances from DWARF, FILE:LINE from line tables, *ADDR. A spec stays pending until some
 * module satisfies it; those that never resolve are reported at the end. Runs outside the
 * hit path (startup, the dynamic loader hook, exec). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/tracer/internal.h"

#define GLOB_MAX  8192
#define MATCH_MAX 64 /* overloads of one name */

struct tspace *trace_space_find(struct trace *t, pid_t pid)
{
	for (struct tspace *s = t->spaces; s; s = s->next)
		if (s->pid == pid && !s->dead)
			return s;
	return NULL;
}

void trace_space_kill(struct trace *t, struct tspace *s)
{
	s->dead = true;
	for (struct tsite *x = s->sites; x; x = x->next)
		x->placed = false;
	for (struct tsite *x = s->retsites; x; x = x->next)
		x->placed = false;
}

struct tspace *trace_space_new(struct trace *t, pid_t pid)
{
	struct tspace *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pid = pid;
	s->mods = calloc(1, sizeof(*s->mods));
	if (!s->mods) {
		free(s);
		return NULL;
	}
	s->next = t->spaces;
	t->spaces = s;
	return s;
}

void trace_space_free(struct trace *t, struct tspace *s)
{
	if (!s->agent_borrowed)
		agent_free(s->agent);
	s->agent = NULL;
	for (struct tspace **pp = &t->spaces; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	while (s->funcs) {
		struct tfunc *f = s->funcs;
		s->funcs = f->next;
		free(f->exits);
		free(f);
	}
	while (s->sites) {
		struct tsite *x = s->sites;
		s->sites = x->next;
		free(x);
	}
	while (s->retsites) {
		struct tsite *x = s->retsites;
		s->retsites = x->next;
		free(x);
	}
	for (size_t i = 0; i < s->ntmods; i++) {
		free(s->tmods[i]->goerr);
		free(s->tmods[i]);
	}
	free(s->tmods);
	module_set_free(s->mods);
	free(s);
}

struct tmod *trace_mod_at(struct tspace *s, uint64_t addr)
{
	struct module *m = module_set_find(s->mods, addr);

	for (size_t i = 0; m && i < s->ntmods; i++)
		if (s->tmods[i]->m == m)
			return s->tmods[i];
	return NULL;
}

bool trace_module_matches(const struct module *m, const char *want)
{
	size_t n = strlen(want);

	if (!strcmp(m->path, want) || !strcmp(m->name, want))
		return true;
	/* libpq.so.5 names libpq.so.5.15; libpq names libpq.so.5.15 */
	return !strncmp(m->name, want, n) &&
	       (m->name[n] == '.' || !strncmp(m->name + n, ".so", 3) || m->name[n] == '-');
}

static struct tmod *add_tmod(struct tspace *s, struct module *m)
{
	struct tmod **nv = realloc(s->tmods, (s->ntmods + 1) * sizeof(*nv));
	struct tmod *tm = calloc(1, sizeof(*tm));
	/* Go 1.17+ names the assembly versions *.abi0. */
	static const char *const ms[2][2] = {
		{"runtime.morestack.abi0", "runtime.morestack"},
		{"runtime.morestack_noctxt.abi0", "runtime.morestack_noctxt"}};

	if (!nv || !tm) {
		if (nv)
			s->tmods = nv;
		free(tm);
		return NULL;
	}
	s->tmods = nv;
	s->tmods[s->ntmods++] = tm;
	tm->m = m;
	for (int i = 0; i < 2 && m->is_go; i++) {
		const struct elfsym_func *f = elfsym_find(m->syms, ms[i][0]);
		if (!f)
			f = elfsym_find(m->syms, ms[i][1]);
		tm->morestack[i] = f ? f->addr + m->bias : 0;
	}
	return tm;
}

static struct tfunc *find_func(struct tspace *s, uint64_t addr, enum tfunc_kind kind)
{
	for (struct tfunc *f = s->funcs; f; f = f->next)
		if (f->addr == addr && (f->kind == TF_FUNC) == (kind == TF_FUNC))
			return f;
	return NULL;
}

static struct tfunc *new_func(struct trace *t, struct tspace *s, struct tmod *tm, unsigned spec,
			      enum tfunc_kind kind, const char *name, uint64_t addr)
{
	struct tfunc *f;
	unsigned tp = 0;

	if (find_func(s, addr, kind))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (t->tf && t->ntp + 2 <= 65534) {
		t->ntp += 2;
		tp = t->ntp - 1;
	}
	*f = (struct tfunc){.tpnum = tp,
			    .space = s,
			    .mod = tm,
			    .spec = spec,
			    .kind = kind,
			    .name = name,
			    .addr = addr,
			    .start = addr,
			    .end = addr,
			    .go = tm && tm->m->is_go};
	f->next = s->funcs;
	s->funcs = f;
	t->specs[spec].resolved = true;
	return f;
}

/* The DWARF of the function at link-time addr, only when it starts exactly there. */
static const struct dwfunc *dw_func(struct module *m, uint64_t addr)
{
	struct dwarfinfo *di = module_dwarf(m);
	const struct dwfunc *d = di ? dwarfinfo_func_at(di, addr) : NULL;

	return d && d->low == addr ? d : NULL;
}

static void add_symbol(struct trace *t, struct tspace *s, struct tmod *tm, unsigned spec,
		       const struct elfsym_func *sym)
{
	struct module *m = tm->m;
	struct tfunc *f =
		new_func(t, s, tm, spec, TF_FUNC, elfsym_func_name(sym), sym->addr + m->bias);

	if (!f)
		return;
	f->end = f->start + sym->size;
	f->dw = dw_func(m, sym->addr);
	trace_plan_func(f);
	if (!trace_place(t, f))
		t->specs[spec].placed++;
}

/* Direct calls made inside an inlined instance, named (runtime helpers left out). */
static void inline_callees(struct tmod *tm, const struct dwfunc *d, char *buf, size_t cap)
{
	size_t len = 0, nimg;
	const uint8_t *img = elfsym_image(tm->m->syms, &nimg);
	const char *seen[3] = {0};
	unsigned nseen = 0;

	buf[0] = '\0';
	for (unsigned r = 0; r < d->nranges && nseen < 3; r++) {
		uint64_t lo = d->ranges[r][0], hi = d->ranges[r][1], off;
		const struct elfsym_func *host = elfsym_lookup(tm->m->syms, lo, &off);
		struct x86_64_site sites[32];
		size_t n = 0;

		if (!host || host->file_off == UINT64_MAX ||
		    host->file_off + off + (hi - lo) > nimg)
			continue;
		x86_64_funcscan(img + host->file_off + off, hi - lo, lo, sites, 32, &n);
		for (size_t i = 0; i < n && i < 32 && nseen < 3; i++) {
			const struct elfsym_func *c;
			uint64_t coff;
			bool dup = false;
			if (sites[i].kind != X86_64_SITE_CALL || !sites[i].target)
				continue;
			c = elfsym_lookup(tm->m->syms, sites[i].target, &coff);
			if (!c || coff || !strncmp(c->name, "runtime.", 8))
				continue;
			for (unsigned k = 0; k < nseen; k++)
				dup |= seen[k] == c->name;
			if (dup)
				continue;
			seen[nseen++] = c->name;
			len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, "%s%s",
						len ? ", " : "", elfsym_func_name(c));
		}
	}
}

static void add_inlined(struct trace *t, struct tspace *s, struct tmod *tm, unsigned spec,
			const char *name, bool glob)
{
	struct dwarfinfo *di =
		glob || module_dwarf_may_name(tm->m, name) ? module_dwarf(tm->m) : NULL;
	const struct dwfunc *inl[64];
	size_t n = di ? dwarfinfo_inlined(di, name, glob, inl, 64) : 0;
	char callees[256];

	for (size_t i = 0; i < n && i < 64; i++) {
		struct tfunc *f = new_func(t, s, tm, spec, TF_INLINE, inl[i]->name,
					   inl[i]->low + tm->m->bias);
		size_t same = 0;
		if (!f)
			continue;
		f->dw = inl[i];
		trace_plan_func(f);
		if (!trace_place(t, f))
			t->specs[spec].placed++;
		/* One line per function and caller, however many instances. */
		for (size_t k = 0; k < i; k++)
			same += !strcmp(inl[k]->name, inl[i]->name) &&
				!strcmp(inl[k]->caller ? inl[k]->caller : "",
					inl[i]->caller ? inl[i]->caller : "");
		if (same)
			continue;
		inline_callees(tm, inl[i], callees, sizeof(callees));
		fprintf(stderr,
			"tracestub trace: %s is inlined into %s (%s:%u): traced as a hit at its "
			"entry, without a return%s%s\n",
			inl[i]->name, inl[i]->caller ? inl[i]->caller : "?",
			inl[i]->call_file ? inl[i]->call_file : "?", inl[i]->call_line,
			callees[0] ? "; it calls " : "", callees);
	}
}

static void resolve_names(struct trace *t, struct tspace *s, struct tmod *tm, unsigned spec)
{
	const struct probespec *ps = &t->cli->specs[spec];
	if (ps->glob) {
		const struct elfsym_func **v = calloc(GLOB_MAX, sizeof(*v));
		size_t n = v ? elfsym_glob(tm->m->syms, ps->name, v, GLOB_MAX) : 0;
		for (size_t i = 0; i < n && i < GLOB_MAX; i++)
			if (v[i]->size)
				add_symbol(t, s, tm, spec, v[i]);
		free(v);
	} else {
		/* Every overload of a C++ name, unless a parameter list picks one. */
		const struct elfsym_func *v[MATCH_MAX];
		size_t n = elfsym_match(tm->m->syms, ps->name, v, MATCH_MAX);
		uint64_t pcs[DWARFVET_HINTS];

		for (size_t i = 0; i < n && i < DWARFVET_HINTS; i++)
			pcs[i] = v[i]->addr;
		if (n) /* their units vetted with the index, in one child */
			module_dwarf_at(tm->m, pcs, n < DWARFVET_HINTS ? n : DWARFVET_HINTS);
		if (n > MATCH_MAX)
			fprintf(stderr, "tracestub trace: %s: %zu overloads, the first %d traced\n",
				ps->name, n, MATCH_MAX);
		for (size_t i = 0; i < n && i < MATCH_MAX; i++)
			add_symbol(t, s, tm, spec, v[i]);
	}
	add_inlined(t, s, tm, spec, ps->name, ps->glob);
}

static void resolve_line(struct trace *t, struct tspace *s, struct tmod *tm, unsigned spec)
{
	const struct probespec *ps = &t->cli->specs[spec];
	struct dwarfinfo *di = module_dwarf(tm->m);
	uint64_t addrs[16], off;
	size_t n = 0;
	unsigned got = 0;

	if (!di || dwarfinfo_line_addrs(di, ps->file, ps->line, addrs, 16, &n, &got))
		return;
	if (got != ps->line)
		fprintf(stderr, "tracestub trace: %s:%u has no code; using line %u\n", ps->file,
			ps->line, got);
	for (size_t i = 0; i < n && i < 16; i++) {
		const struct elfsym_func *sym = elfsym_lookup(tm->m->syms, addrs[i], &off);
		const struct dwfunc *d = dwarfinfo_func_at(di, addrs[i]);
		struct tfunc *f = new_func(t, s, tm, spec, TF_HIT,
					   d	 ? d->name
					   : sym ? elfsym_func_name(sym)
						 : ps->file,
					   addrs[i] + tm->m->bias);
		if (!f)
			continue;
		f->dw = d;
		trace_plan_func(f);
		if (!trace_place(t, f))
			t->specs[spec].placed++;
	}
}

static void resolve_addr(struct trace *t, struct tspace *s, struct tmod *tm, unsigned spec)
{
	const struct probespec *ps = &t->cli->specs[spec];
	struct module *m = tm->m;
	const struct elfsym_func *sym;
	struct dwarfinfo *di;
	struct tfunc *f;
	uint64_t off;

	if (ps->addr < m->start || ps->addr >= m->end)
		return;
	sym = elfsym_lookup(m->syms, ps->addr - m->bias, &off);
	f = new_func(t, s, tm, spec, TF_HIT, sym ? elfsym_func_name(sym) : m->name, ps->addr);
	if (!f)
		return;
	di = module_dwarf(m);
	f->dw = di ? dwarfinfo_func_at(di, ps->addr - m->bias) : NULL;
	trace_plan_func(f);
	if (!trace_place(t, f))
		t->specs[spec].placed++;
}

static void resolve_module(struct trace *t, struct tspace *s, struct tmod *tm)
{
	for (unsigned i = 0; i < t->cli->nspecs; i++) {
		const struct probespec *ps = &t->cli->specs[i];
		switch (ps->kind) {
		case PROBESPEC_MODFUNC:
			if (!trace_module_matches(tm->m, ps->module))
				break;
			/* fall through */
		case PROBESPEC_FUNC:
		case PROBESPEC_GLOB:
			resolve_names(t, s, tm, i);
			break;
		case PROBESPEC_FILELINE:
			resolve_line(t, s, tm, i);
			break;
		case PROBESPEC_ADDR:
			resolve_addr(t, s, tm, i);
			break;
		}
	}
}

/* The module of the executable: the one whose file /proc/PID/exe is. */
static struct module *exe_module(struct tspace *s)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)s->pid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	for (size_t i = 0; i < s->mods->n; i++)
		if (!strcmp(s->mods->mods[i]->path, path))
			return s->mods->mods[i];
	return NULL;
}

int trace_space_refresh(struct trace *t, struct tspace *s, bool resolve)
{
	size_t nnew = 0;
	int err = module_set_update_pid(s->mods, s->pid, &nnew);

	if (err)
		return err;
	if (!s->exe)
		s->exe = exe_module(s);
	for (size_t i = s->mods->n - nnew; i < s->mods->n; i++) {
		struct tmod *tm = add_tmod(s, s->mods->mods[i]);
		if (!tm)
			return -ENOMEM;
		if (resolve)
			resolve_module(t, s, tm);
	}
	return 0;
}

static void spec_text(const struct probespec *ps, char *buf, size_t cap)
{
	switch (ps->kind) {
	case PROBESPEC_MODFUNC:
		snprintf(buf, cap, "%s:%s", ps->module, ps->name);
		break;
	case PROBESPEC_FILELINE:
		snprintf(buf, cap, "%s:%u", ps->file, ps->line);
		break;
	case PROBESPEC_ADDR:
		snprintf(buf, cap, "*0x%" PRIx64, (uint64_t)ps->addr);
		break;
	default:
		snprintf(buf, cap, "%s", ps->name);
	}
}

/* Several processes (-p repeated, -f): a function is never called only if it is called in
 * none of them, and named once. */
static bool called_elsewhere(const struct trace *t, const struct tfunc *fn)
{
	bool before = true; /* spaces before fn's own: a same-name entry there was named */

	for (const struct tspace *s = t->spaces; s; s = s->next)
		for (const struct tfunc *o = s->funcs; o; o = o->next) {
			if (o == fn) {
				before = false;
				continue;
			}
			if (o->kind != TF_FUNC || o->spec != fn->spec || strcmp(o->name, fn->name))
				continue;
			if (o->calls || (before && o->placed))
				return true;
		}
	return false;
}

void trace_report_unresolved(struct trace *t, FILE *f)
{
	char buf[2 * PROBESPEC_NAME_MAX + 32];
	unsigned never = 0;

	for (unsigned i = 0; i < t->cli->nspecs; i++) {
		if (t->cli->specs[i].internal)
			continue;
		spec_text(&t->cli->specs[i], buf, sizeof(buf));
		if (!t->specs[i].resolved)
			fprintf(f,
				"tracestub trace: -e %s: never resolved (no loaded module has "
				"it)\n",
				buf);
		else if (!t->specs[i].placed)
			fprintf(f, "tracestub trace: -e %s: found but no probe could be placed\n",
				buf);
	}
	for (struct tspace *s = t->spaces; s; s = s->next)
		for (struct tfunc *fn = s->funcs; fn; fn = fn->next)
			if (fn->kind == TF_FUNC && fn->placed && !fn->calls &&
			    !t->cli->specs[fn->spec].glob && !t->cli->specs[fn->spec].internal &&
			    !called_elsewhere(t, fn) && never++ < 20)
				fprintf(f, "%s%s",
					never == 1 ? "tracestub trace: never called: " : ", ",
					fn->name);
	if (never)
		fprintf(f, "%s\n", never > 20 ? ", ..." : "");
}
