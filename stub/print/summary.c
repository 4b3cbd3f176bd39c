/* Per-function statistics in a fixed open-addressing hash (linear probing, FNV-1a over
 * module and name), the sorted table and the live counter line. No allocation after
 * tsummary_new; never touches a process. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stub/print/print.h"

struct tsummary *tsummary_new(void)
{
	struct tsummary *s = malloc(sizeof(*s));

	if (s)
		tsummary_init(s);
	return s;
}

void tsummary_free(struct tsummary *s)
{
	free(s);
}

void tsummary_init(struct tsummary *s)
{
	memset(s, 0, sizeof(*s));
}

/* Copy src cut to cap-1 bytes; returns dst. */
static char *cut(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return dst;
}

static uint32_t hash_key(const char *module, const char *func)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = module; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0xff) * 16777619u; /* separator: a byte no name holds */
	for (p = func; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

/* The slot for the (cut) key: its entry, or the free slot where it would go, or NULL when
 * the table is full and the key is absent. */
static struct tsummary_entry *lookup(const struct tsummary *s, const char *module, const char *func)
{
	uint32_t i = hash_key(module, func) & (TSUMMARY_SLOTS - 1);
	unsigned n;
	const struct tsummary_entry *e;

	for (n = 0; n < TSUMMARY_SLOTS; n++, i = (i + 1) & (TSUMMARY_SLOTS - 1)) {
		e = &s->slots[i];
		if (!e->func[0] || (!strcmp(e->func, func) && !strcmp(e->module, module)))
			return (struct tsummary_entry *)e;
	}
	return NULL;
}

static bool is_error_return(const struct tevent *ev)
{
	unsigned i;

	if (ev->nrets && ev->rets[0].kind == TV_INT && !ev->rets[0].go_error && ev->rets[0].v.i < 0)
		return true;
	for (i = 0; i < ev->nrets && i < TEVENT_MAX_VALUES; i++)
		if (tvalue_go_error_set(&ev->rets[i]))
			return true;
	return false;
}

/* The entry for an event's names: by the hint for their addresses when the entry holds
 * exactly these names, else by hashing them (cut) and adding the entry if new. NULL: the
 * table is full. */
static struct tsummary_entry *entry_of(struct tsummary *s, const char *fn, const char *mod)
{
	char func[TSUMMARY_FUNC_MAX], module[TSUMMARY_MOD_MAX];
	size_t h = ((uintptr_t)fn >> 3 ^ (uintptr_t)mod >> 5) & (TSUMMARY_HINTS - 1);
	struct tsummary_entry *e = s->hints[h].e;

	if (e && s->hints[h].func == fn && s->hints[h].module == mod && !strcmp(e->func, fn) &&
	    !strcmp(e->module, mod ? mod : ""))
		return e;
	e = lookup(s, cut(module, sizeof(module), mod), cut(func, sizeof(func), fn));
	if (!e || (!e->func[0] && s->used >= TSUMMARY_SLOTS - 1))
		return NULL;
	if (!e->func[0]) {
		memcpy(e->func, func, sizeof(func));
		memcpy(e->module, module, sizeof(module));
		s->used++;
	}
	s->hints[h].func = fn;
	s->hints[h].module = mod;
	s->hints[h].e = e;
	return e;
}

int tsummary_add(struct tsummary *s, const struct tevent *ev)
{
	struct tsummary_entry *e;

	s->events++;
	e = entry_of(s, ev->func && ev->func[0] ? ev->func : "?", ev->module);
	if (!e) {
		s->dropped++;
		return -ENOSPC;
	}
	if (ev->type != TEVENT_RETURN) {
		e->calls++;
		s->calls++;
		return 0;
	}
	if (!e->returns || ev->duration_ns < e->min_ns)
		e->min_ns = ev->duration_ns;
	if (ev->duration_ns > e->max_ns)
		e->max_ns = ev->duration_ns;
	e->returns++;
	e->total_ns += ev->duration_ns;
	if (is_error_return(ev)) {
		e->errors++;
		s->errors++;
	}
	return 0;
}

const struct tsummary_entry *tsummary_find(const struct tsummary *s, const char *module,
					   const char *func)
{
	char f[TSUMMARY_FUNC_MAX], m[TSUMMARY_MOD_MAX];
	const struct tsummary_entry *e;

	e = lookup(s, cut(m, sizeof(m), module), cut(f, sizeof(f), func));
	return e && e->func[0] ? e : NULL;
}

static int by_total(const void *a, const void *b)
{
	const struct tsummary_entry *x = *(const struct tsummary_entry *const *)a;
	const struct tsummary_entry *y = *(const struct tsummary_entry *const *)b;
	int c;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	c = strcmp(x->func, y->func);
	return c ? c : strcmp(x->module, y->module);
}

size_t tsummary_sorted(const struct tsummary *s, const struct tsummary_entry **out, size_t cap)
{
	const struct tsummary_entry *all[TSUMMARY_SLOTS];
	size_t n = 0, i;

	for (i = 0; i < TSUMMARY_SLOTS; i++)
		if (s->slots[i].func[0])
			all[n++] = &s->slots[i];
	qsort(all, n, sizeof(all[0]), by_total);
	if (n > cap)
		n = cap;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}

void tsummary_print(const struct tsummary *s, FILE *f)
{
	const struct tsummary_entry *rows[TSUMMARY_SLOTS];
	char tot[32], avg[32], mn[32], mx[32];
	const struct tsummary_entry *e;
	size_t n, i;

	n = tsummary_sorted(s, rows, TSUMMARY_SLOTS);
	fprintf(f, "%-32s %-16s %8s %12s %12s %12s %12s %7s\n", "function", "module", "calls",
		"total", "avg", "min", "max", "errors");
	for (i = 0; i < n; i++) {
		e = rows[i];
		if (e->returns) {
			tevent_format_duration(tot, sizeof(tot), e->total_ns);
			tevent_format_duration(avg, sizeof(avg), e->total_ns / e->returns);
			tevent_format_duration(mn, sizeof(mn), e->min_ns);
			tevent_format_duration(mx, sizeof(mx), e->max_ns);
		} else {
			strcpy(tot, "-");
			strcpy(avg, "-");
			strcpy(mn, "-");
			strcpy(mx, "-");
		}
		/* "µ" is two bytes: widen those columns by one so they line up */
		fprintf(f, "%-32s %-16s %8" PRIu64 " %*s %*s %*s %*s %7" PRIu64 "\n", e->func,
			e->module[0] ? e->module : "-", e->calls, strstr(tot, "µ") ? 13 : 12, tot,
			strstr(avg, "µ") ? 13 : 12, avg, strstr(mn, "µ") ? 13 : 12, mn,
			strstr(mx, "µ") ? 13 : 12, mx, e->errors);
	}
	if (s->dropped)
		fprintf(f, "(%" PRIu64 " events not counted: more than %d functions)\n", s->dropped,
			TSUMMARY_SLOTS - 1);
}

int tsummary_format_live(const struct tsummary *s, uint64_t elapsed_ns, char *buf, size_t cap)
{
	int n;

	n = snprintf(buf, cap,
		     "%" PRIu64 ".%" PRIu64 " s  %" PRIu64 " calls  %" PRIu64
		     " errors  %u functions",
		     elapsed_ns / 1000000000, elapsed_ns % 1000000000 / 100000000, s->calls,
		     s->errors, s->used);
	if (s->dropped && n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "  %" PRIu64 " dropped", s->dropped);
	return n;
}
