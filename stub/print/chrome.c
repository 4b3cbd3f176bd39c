/* The Chrome trace-event printer: a JSON array of "B" (call), "E" (return) and "i" (hit)
 * events with ts in microseconds, which Perfetto and chrome://tracing load; Go events on one
 * track per goroutine. Backtraces,
 * stacks and registers are not exported. Writes only to its FILE; no allocation after
 * printer_chrome_new; never touches a process. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "stub/print/print.h"

#define CHROME_GOIDS 65536

struct chrome_printer {
	struct printer base; /* first: the struct printer * points here */
	bool begun;
	uint64_t nevents;
	uint8_t named[CHROME_GOIDS / 8]; /* goroutine tracks already given a name */
};

/* Go events go on one track per goroutine (a goroutine's call may return on another
 * thread, and B/E must nest per track); the track is named once. */
static int32_t track(struct chrome_printer *c, const struct tevent *ev)
{
	FILE *f = c->base.f;
	int64_t g = ev->goid;

	if (g < 0)
		return ev->tid;
	if (g < CHROME_GOIDS && !(c->named[g / 8] & (1u << (g % 8)))) {
		c->named[g / 8] |= (uint8_t)(1u << (g % 8));
		fprintf(f,
			"%s{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%" PRId32
			",\"tid\":%" PRId64 ",\"args\":{\"name\":\"goroutine %" PRId64 "\"}}",
			c->nevents++ ? ",\n" : "\n", ev->pid, g, g);
	}
	return (int32_t)g;
}

static int chrome_begin(struct printer *p)
{
	struct chrome_printer *c = (struct chrome_printer *)p;

	if (!c->begun)
		fputc('[', p->f);
	c->begun = true;
	return ferror(p->f) ? -EIO : 0;
}

static void chrome_args(FILE *f, const struct tvalue *v, unsigned n, const char *synth, bool *first)
{
	unsigned i;

	for (i = 0; i < n && i < TEVENT_MAX_VALUES; i++) {
		if (!*first)
			fputc(',', f);
		*first = false;
		if (v[i].name)
			tevent_json_cstr(f, v[i].name);
		else
			fprintf(f, "\"%s%u\"", synth, i);
		fputc(':', f);
		tevent_json_value(f, &v[i]);
	}
}

static int chrome_event(struct printer *p, const struct tevent *ev)
{
	struct chrome_printer *c = (struct chrome_printer *)p;
	FILE *f = p->f;
	const char *ph = ev->type == TEVENT_CALL ? "B" : ev->type == TEVENT_RETURN ? "E" : "i";
	bool first = true;
	int32_t tid;

	chrome_begin(p);
	tid = track(c, ev);
	fputs(c->nevents++ ? ",\n{\"name\":" : "\n{\"name\":", f);
	tevent_json_cstr(f, ev->func ? ev->func : "?");
	fputs(",\"cat\":", f);
	tevent_json_cstr(f, ev->module ? ev->module : "trace");
	fprintf(f,
		",\"ph\":\"%s\",\"ts\":%" PRIu64 ".%03" PRIu64 ",\"pid\":%" PRId32
		",\"tid\":%" PRId32,
		ph, ev->time_ns / 1000, ev->time_ns % 1000, ev->pid, tid);
	if (ev->type == TEVENT_HIT)
		fputs(",\"s\":\"t\"", f);
	fputs(",\"args\":{", f);
	if (ev->type == TEVENT_RETURN)
		chrome_args(f, ev->rets, ev->nrets, "ret", &first);
	else
		chrome_args(f, ev->args, ev->nargs, "arg", &first);
	if (ev->goid >= 0) {
		fprintf(f, "%s\"goid\":%" PRId64 ",\"os_tid\":%" PRId32, first ? "" : ",", ev->goid,
			ev->tid);
		first = false;
	}
	tevent_json_ids(f, ev, first || !ev->span_id ? "" : ",");
	fputs("}}", f);
	return ferror(f) ? -EIO : 0;
}

static int chrome_end(struct printer *p, const struct tsummary *s)
{
	chrome_begin(p);
	fputs("\n]\n", p->f);
	fflush(p->f);
	return ferror(p->f) ? -EIO : 0;
}

static void chrome_free(struct printer *p)
{
	free(p);
}

static const struct printer_ops chrome_ops = {
	.begin = chrome_begin,
	.event = chrome_event,
	.end = chrome_end,
	.free = chrome_free,
};

struct printer *printer_chrome_new(FILE *f)
{
	struct chrome_printer *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->base.ops = &chrome_ops;
	c->base.f = f;
	return &c->base;
}
