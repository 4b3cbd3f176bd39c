/* The JSON Lines printer: one object per event, one per function in the summary at end.
 * Every line is valid JSON whatever bytes the strings hold (tevent_json_string). Writes only
 * to its FILE; no allocation after printer_json_new; never touches a process. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "stub/print/print.h"

static const char *const type_names[] = {
	[TEVENT_CALL] = "call",
	[TEVENT_RETURN] = "return",
	[TEVENT_HIT] = "hit",
};

static void json_values(FILE *f, const char *key, const struct tvalue *v, unsigned n,
			const char *synth)
{
	unsigned i;

	fprintf(f, ",\"%s\":[", key);
	for (i = 0; i < n && i < TEVENT_MAX_VALUES; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		if (v[i].name)
			tevent_json_cstr(f, v[i].name);
		else
			fprintf(f, "\"%s%u\"", synth, i);
		fputs(",\"value\":", f);
		tevent_json_value(f, &v[i]);
		tevent_json_value_extra(f, &v[i]);
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_bt(FILE *f, const struct tevent *ev)
{
	unsigned i;

	fputs(",\"bt\":[", f);
	for (i = 0; i < ev->nbt && i < TEVENT_MAX_FRAMES; i++) {
		fprintf(f, "%s{\"pc\":\"0x%" PRIx64 "\",\"func\":", i ? "," : "", ev->bt[i].pc);
		tevent_json_cstr(f, ev->bt[i].func);
		fputs(",\"module\":", f);
		tevent_json_cstr(f, ev->bt[i].module);
		fprintf(f, ",\"offset\":%" PRIu64 "}", ev->bt[i].offset);
	}
	fputc(']', f);
}

static void json_extras(FILE *f, const struct tevent *ev)
{
	unsigned i;
	size_t k;

	if (ev->nbt)
		json_bt(f, ev);
	if (ev->stack) {
		fputs(",\"stack\":\"", f);
		for (k = 0; k < ev->stack_len; k++)
			fprintf(f, "%02x", ev->stack[k]);
		fputc('"', f);
	}
	if (ev->regs && ev->nregs) {
		fputs(",\"regs\":{", f);
		for (i = 0; i < ev->nregs; i++) {
			if (i)
				fputc(',', f);
			tevent_json_cstr(f, ev->regs[i].name ? ev->regs[i].name : "?");
			fprintf(f, ":\"0x%" PRIx64 "\"", ev->regs[i].value);
		}
		fputc('}', f);
	}
}

static int json_begin(struct printer *p)
{
	return 0;
}

static int json_event(struct printer *p, const struct tevent *ev)
{
	FILE *f = p->f;
	unsigned t = ev->type <= TEVENT_HIT ? ev->type : TEVENT_HIT;

	fprintf(f,
		"{\"type\":\"%s\",\"seq\":%" PRIu64 ",\"time_ns\":%" PRIu64 ",\"pid\":%" PRId32
		",\"tid\":%" PRId32,
		type_names[t], ev->seq, ev->time_ns, ev->pid, ev->tid);
	if (ev->goid >= 0)
		fprintf(f, ",\"goid\":%" PRId64, ev->goid);
	fprintf(f, ",\"depth\":%d,\"func\":", ev->depth);
	tevent_json_cstr(f, ev->func);
	fputs(",\"module\":", f);
	tevent_json_cstr(f, ev->module);
	fprintf(f, ",\"addr\":\"0x%" PRIx64 "\"", ev->addr);
	tevent_json_ids(f, ev, ",");
	if (ev->type != TEVENT_RETURN || ev->nargs)
		json_values(f, "args", ev->args, ev->nargs, "arg");
	if (ev->type == TEVENT_RETURN) {
		json_values(f, "ret", ev->rets, ev->nrets, "ret");
		fprintf(f, ",\"duration_ns\":%" PRIu64, ev->duration_ns);
	}
	json_extras(f, ev);
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}

static int json_end(struct printer *p, const struct tsummary *s)
{
	const struct tsummary_entry *rows[TSUMMARY_SLOTS];
	size_t n, i;
	FILE *f = p->f;

	n = s ? tsummary_sorted(s, rows, sizeof(rows) / sizeof(rows[0])) : 0;
	for (i = 0; i < n; i++) {
		fputs("{\"type\":\"summary\",\"func\":", f);
		tevent_json_cstr(f, rows[i]->func);
		fputs(",\"module\":", f);
		if (rows[i]->module[0])
			tevent_json_cstr(f, rows[i]->module);
		else
			fputs("null", f);
		fprintf(f,
			",\"calls\":%" PRIu64 ",\"returns\":%" PRIu64 ",\"total_ns\":%" PRIu64
			",\"avg_ns\":%" PRIu64 ",\"min_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64
			",\"errors\":%" PRIu64 "}\n",
			rows[i]->calls, rows[i]->returns, rows[i]->total_ns,
			rows[i]->returns ? rows[i]->total_ns / rows[i]->returns : 0,
			rows[i]->min_ns, rows[i]->max_ns, rows[i]->errors);
	}
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

static void json_free(struct printer *p)
{
	free(p);
}

static const struct printer_ops json_ops = {
	.begin = json_begin,
	.event = json_event,
	.end = json_end,
	.free = json_free,
};

struct printer *printer_json_new(FILE *f)
{
	struct printer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->ops = &json_ops;
	p->f = f;
	return p;
}
