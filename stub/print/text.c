/* The text printer: one line per call on the terminal (ltrace-style "unfinished ..." /
 * "<... resumed>" when a return is not the next event), then the summary table. Writes only
 * to its FILE; no allocation after printer_text_new; never touches a process. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stub/print/print.h"

#define BOLD  "\033[1m"
#define RED   "\033[31m"
#define RESET "\033[0m"

struct text_printer {
	struct printer base; /* first: the struct printer * points here */
	bool color;
	bool quiet;
	bool open; /* a call line is waiting for its return on the same line */
	int32_t open_tid;
	int64_t open_goid;
	int open_depth;
	char open_func[TSUMMARY_FUNC_MAX];
};

static int io_status(FILE *f)
{
	return ferror(f) ? -EIO : 0;
}

static void prefix(struct text_printer *t, const struct tevent *ev)
{
	FILE *f = t->base.f;

	fprintf(f, "%" PRIu64 ".%06" PRIu64 " [%" PRId32, ev->time_ns / 1000000000,
		ev->time_ns % 1000000000 / 1000, ev->tid);
	if (ev->goid >= 0)
		fprintf(f, "/g%" PRId64, ev->goid);
	fprintf(f, "] %*s", ev->depth > 0 ? 2 * (ev->depth < 64 ? ev->depth : 64) : 0, "");
}

static void func_name(struct text_printer *t, const char *func)
{
	fprintf(t->base.f, t->color ? BOLD "%s" RESET : "%s", func ? func : "?");
}

static void values(FILE *f, const struct tvalue *v, unsigned n, const char *synth)
{
	unsigned i;

	for (i = 0; i < n && i < TEVENT_MAX_VALUES; i++) {
		if (i)
			fputs(", ", f);
		if (v[i].name)
			fprintf(f, "%s=", v[i].name);
		else if (synth)
			fprintf(f, "%s%u=", synth, i);
		tevent_text_value(f, &v[i]);
	}
}

static bool is_error(const struct tvalue *v)
{
	return (v->kind == TV_INT && v->v.i < 0) || tvalue_go_error_set(v);
}

static void result(struct text_printer *t, const struct tevent *ev)
{
	FILE *f = t->base.f;
	char dur[32];
	bool err = false;
	unsigned i;

	for (i = 0; i < ev->nrets && i < TEVENT_MAX_VALUES; i++)
		err |= is_error(&ev->rets[i]);
	if (ev->nrets) {
		fputs(" = ", f);
		if (t->color && err)
			fputs(RED, f);
		if (ev->nrets == 1) {
			tevent_text_value(f, &ev->rets[0]);
		} else {
			fputc('(', f);
			values(f, ev->rets, ev->nrets, NULL);
			fputc(')', f);
		}
		if (t->color && err)
			fputs(RESET, f);
	}
	fprintf(f, " <%s>\n", tevent_format_duration(dur, sizeof(dur), ev->duration_ns));
}

static void close_open(struct text_printer *t)
{
	if (t->open)
		fputs(" ...\n", t->base.f);
	t->open = false;
}

static void print_regs(struct text_printer *t, const struct tevent *ev, int ind)
{
	FILE *f = t->base.f;
	unsigned i;

	for (i = 0; ev->regs && i < ev->nregs; i++) {
		if (i % 4 == 0)
			fprintf(f, "%*s", ind, "");
		else
			fputs("  ", f);
		fprintf(f, "%s=0x%" PRIx64, ev->regs[i].name ? ev->regs[i].name : "?",
			ev->regs[i].value);
		if (i % 4 == 3 || i + 1 == ev->nregs)
			fputc('\n', f);
	}
}

static void extras(struct text_printer *t, const struct tevent *ev)
{
	FILE *f = t->base.f;
	int ind = 2 * (ev->depth > 0 ? (ev->depth < 64 ? ev->depth : 64) : 0) + 4;
	unsigned i;
	size_t k;

	for (i = 0; i < ev->nbt && i < TEVENT_MAX_FRAMES; i++) {
		fprintf(f, "%*s#%-2u 0x%016" PRIx64 " %s+0x%" PRIx64, ind, "", i, ev->bt[i].pc,
			ev->bt[i].func ? ev->bt[i].func : "??", ev->bt[i].offset);
		if (ev->bt[i].module)
			fprintf(f, " (%s)", ev->bt[i].module);
		fputc('\n', f);
	}
	if (ev->stack) {
		for (k = 0; k < ev->stack_len; k++) {
			if (k % 16 == 0)
				fprintf(f, "%*sstack+0x%04zx:", ind, "", k);
			fprintf(f, " %02x", ev->stack[k]);
			if (k % 16 == 15 || k + 1 == ev->stack_len)
				fputc('\n', f);
		}
	}
	print_regs(t, ev, ind);
}

static int text_begin(struct printer *p)
{
	return 0;
}

static int text_event(struct printer *p, const struct tevent *ev)
{
	struct text_printer *t = (struct text_printer *)p;
	FILE *f = p->f;
	bool has_extras = ev->nbt || ev->stack || (ev->regs && ev->nregs);

	if (t->quiet)
		return 0;
	if (ev->type == TEVENT_RETURN && t->open && ev->tid == t->open_tid &&
	    ev->goid == t->open_goid && ev->depth == t->open_depth && ev->func &&
	    !strncmp(ev->func, t->open_func, sizeof(t->open_func) - 1)) {
		t->open = false;
		result(t, ev);
		return io_status(f);
	}
	close_open(t);
	prefix(t, ev);
	switch (ev->type) {
	case TEVENT_RETURN:
		fputs("<... ", f);
		func_name(t, ev->func);
		fputs(" resumed>", f);
		result(t, ev);
		break;
	case TEVENT_HIT:
		fprintf(f, "@ 0x%" PRIx64 " ", ev->addr);
		func_name(t, ev->func);
		fputc('(', f);
		values(f, ev->args, ev->nargs, "arg");
		fputs(")\n", f);
		break;
	case TEVENT_CALL:
	default:
		func_name(t, ev->func);
		fputc('(', f);
		values(f, ev->args, ev->nargs, "arg");
		fputc(')', f);
		if (has_extras) {
			fputs(" ...\n", f);
		} else {
			t->open = true;
			t->open_tid = ev->tid;
			t->open_goid = ev->goid;
			t->open_depth = ev->depth;
			snprintf(t->open_func, sizeof(t->open_func), "%s",
				 ev->func ? ev->func : "?");
		}
	}
	if (has_extras)
		extras(t, ev);
	return io_status(f);
}

static int text_end(struct printer *p, const struct tsummary *s)
{
	struct text_printer *t = (struct text_printer *)p;

	close_open(t);
	if (s) {
		if (!t->quiet)
			fputc('\n', p->f);
		tsummary_print(s, p->f);
	}
	fflush(p->f);
	return io_status(p->f);
}

static void text_free(struct printer *p)
{
	free(p);
}

static const struct printer_ops text_ops = {
	.begin = text_begin,
	.event = text_event,
	.end = text_end,
	.free = text_free,
};

struct printer *printer_text_new(FILE *f, bool color, bool quiet)
{
	struct text_printer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->base.ops = &text_ops;
	t->base.f = f;
	t->color = color;
	t->quiet = quiet;
	return &t->base;
}
