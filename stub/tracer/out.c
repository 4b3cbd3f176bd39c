/* Where events go: the text printer on stderr (like strace: the traced program's stdout stays
 * its own), --json FILE|- (JSON Lines; "-" is stdout), --chrome FILE, the per-function
 * summary, and a live counter line on stderr when it is a terminal (erased before each
 * text line, redrawn from the event loop). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stub/print/print.h"
#include "stub/tracer/internal.h"

#define STATUS_EVERY_NS 200000000ull

uint64_t trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static FILE *open_out(const char *path, FILE **owned)
{
	*owned = NULL;
	if (!strcmp(path, "-"))
		return stdout;
	*owned = fopen(path, "we");
	return *owned;
}

int trace_out_open(struct trace *t)
{
	const struct tracecli *c = t->cli;
	struct trace_out *o = &t->out;
	bool tty = isatty(STDERR_FILENO);
	FILE *f;

	t->summary = tsummary_new();
	o->text = printer_text_new(stderr, tty && !getenv("NO_COLOR"), c->quiet);
	if (!t->summary || !o->text)
		return -ENOMEM;
	if (c->json_path) {
		if (!(f = open_out(c->json_path, &o->json_f))) {
			fprintf(stderr, "tracestub trace: cannot write %s: %s\n", c->json_path,
				strerror(errno));
			return -errno;
		}
		if (!(o->json = printer_json_new(f)))
			return -ENOMEM;
	}
	if (c->chrome_path) {
		if (!(f = open_out(c->chrome_path, &o->chrome_f))) {
			fprintf(stderr, "tracestub trace: cannot write %s: %s\n", c->chrome_path,
				strerror(errno));
			return -errno;
		}
		if (!(o->chrome = printer_chrome_new(f)))
			return -ENOMEM;
	}
	o->status_tty = tty;
	printer_begin(o->text);
	if (o->json)
		printer_begin(o->json);
	if (o->chrome)
		printer_begin(o->chrome);
	return 0;
}

static void erase_status(struct trace_out *o)
{
	if (o->status_shown) {
		fputs("\r\033[K", stderr);
		o->status_shown = false;
	}
}

void trace_out_event(struct trace *t, struct tevent *ev)
{
	struct trace_out *o = &t->out;

	if (!t->summary)
		return; /* closed: tracing has stopped */
	tsummary_add(t->summary, ev);
	if (!t->cli->quiet)
		erase_status(o);
	printer_event(o->text, ev);
	if (o->json)
		printer_event(o->json, ev);
	if (o->chrome)
		printer_event(o->chrome, ev);
}

void trace_out_tick(struct trace *t, uint64_t now_ns)
{
	struct trace_out *o = &t->out;
	char line[160];

	if (!t->summary || !o->status_tty || now_ns - o->status_last_ns < STATUS_EVERY_NS)
		return;
	o->status_last_ns = now_ns;
	fflush(stderr);
	tsummary_format_live(t->summary, now_ns - t->start_ns, line, sizeof(line));
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
	o->status_shown = true;
}

void trace_out_close(struct trace *t)
{
	struct trace_out *o = &t->out;

	erase_status(o);
	if (o->text)
		printer_end(o->text, t->summary);
	if (o->json)
		printer_end(o->json, t->summary);
	if (o->chrome)
		printer_end(o->chrome, t->summary);
	printer_free(o->text);
	printer_free(o->json);
	printer_free(o->chrome);
	if (o->json_f)
		fclose(o->json_f);
	if (o->chrome_f)
		fclose(o->chrome_f);
	if (t->cli->json_path && !strcmp(t->cli->json_path, "-"))
		fflush(stdout);
	tsummary_free(t->summary);
	memset(o, 0, sizeof(*o));
	t->summary = NULL;
}
