/* Where events go: the text printer on stderr (like strace: the traced program's stdout stays
 * its own), --json FILE|- (JSON Lines; "-" is stdout), --chrome FILE, the per-function
 * summary, and a live counter line on stderr when it is a terminal (erased before each
 * text line, redrawn from the event loop). */
#include <errno.h>
#include <inttypes.h>
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

/* --otlp-file: one OTLP/JSON request per line. */
static void file_sink(void *ctx, const uint8_t *body, size_t len, unsigned nspans)
{
	FILE *f = ctx;

	(void)nspans;
	fwrite(body, 1, len, f);
	fputc('\n', f);
	fflush(f);
}

static int open_otlp(struct trace *t)
{
	const struct tracecli *c = t->cli;
	struct trace_out *o = &t->out;
	struct timespec rt;
	struct otlp_opts oo = {.service = c->service};
	FILE *f;
	int r;

	clock_gettime(CLOCK_REALTIME, &rt);
	oo.epoch_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec -
		      (trace_now_ns() - t->start_ns);
	if (c->otlp_url) {
		if ((r = otlp_http_open(c->otlp_url, c->otlp_json, &o->http))) {
			fprintf(stderr, "tracestub trace: --otlp %s: %s\n", c->otlp_url,
				strerror(-r));
			return r;
		}
		oo.json = c->otlp_json;
		oo.sink = otlp_http_send;
		oo.ctx = o->http;
		if (!(o->otlp = printer_otlp_new(&oo)))
			return -ENOMEM;
	}
	if (c->otlp_file) {
		if (!(f = open_out(c->otlp_file, &o->otlp_file_f))) {
			fprintf(stderr, "tracestub trace: cannot write %s: %s\n", c->otlp_file,
				strerror(errno));
			return -errno;
		}
		oo.json = true;
		oo.sink = file_sink;
		oo.ctx = f;
		if (!(o->otlp_file = printer_otlp_new(&oo)))
			return -ENOMEM;
	}
	return 0;
}

static void close_otlp(struct trace *t)
{
	struct trace_out *o = &t->out;
	struct otlp_http_stats st = {0};
	const struct otlp_stats *ps;

	if (o->otlp_file) {
		printer_end(o->otlp_file, NULL);
		printer_free(o->otlp_file);
	}
	if (o->otlp_file_f)
		fclose(o->otlp_file_f);
	if (!o->otlp)
		return;
	printer_end(o->otlp, NULL);
	ps = printer_otlp_stats(o->otlp);
	st.dropped = ps->dropped;
	if (o->http) {
		char url[1024];
		uint64_t lost = ps->dropped;

		snprintf(url, sizeof(url), "%s", otlp_http_url(o->http));
		otlp_http_close(o->http, &st);
		fprintf(stderr,
			"tracestub trace: otlp: %" PRIu64 " spans in %" PRIu64 " requests to %s"
			"; %" PRIu64 " dropped\n",
			st.sent, st.requests, url, st.dropped + lost);
	}
	printer_free(o->otlp);
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
	t->start_ns = trace_now_ns(); /* the events' time 0 */
	if ((c->otlp_url || c->otlp_file) && open_otlp(t))
		return -EINVAL;
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
	if (o->otlp)
		printer_event(o->otlp, ev);
	if (o->otlp_file)
		printer_event(o->otlp_file, ev);
}

void trace_out_tick(struct trace *t, uint64_t now_ns)
{
	struct trace_out *o = &t->out;
	char line[160];

	if (o->otlp)
		printer_tick(o->otlp, now_ns - t->start_ns);
	if (o->otlp_file)
		printer_tick(o->otlp_file, now_ns - t->start_ns);
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
	close_otlp(t);
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
