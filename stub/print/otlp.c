/* The OTLP printer: every call (its call and return events) and every hit becomes a span,
 * with the ids the tracer gave the events, its arguments and results as attributes, its
 * process, thread and goroutine; finished spans are batched and encoded (otlp_enc.c) as one
 * ExportTraceServiceRequest, protobuf or OTLP/JSON, handed to a sink when the batch is full,
 * a second after its first span, and at end. Calls still open at end are exported as they
 * stand, ending at the last event, with the attribute tracestub.unfinished. Everything is allocated
 * by the constructor; never touches a process, never blocks (the sink must not either). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/print/otlp.h"

#define OPEN_HASH (2 * OTLP_OPEN) /* power of two */

struct otlp_printer {
	struct printer base; /* first */
	struct otlp_opts o;
	char host[256];
	struct otlp_span *open; /* calls waiting for their return */
	int32_t *slot;		/* OPEN_HASH: span id -> index into open, -1 empty, -2 deleted */
	int32_t free_open;	/* free list through open[i].next */
	struct otlp_batch batch;
	uint64_t first_ns; /* time of the batch's first span */
	uint64_t last_ns;  /* of the latest event: where unfinished calls end */
	uint8_t *body;	   /* the encoded request */
	FILE *scratch;	   /* over scratch_buf: text spellings of values */
	char scratch_buf[512];
	struct otlp_stats stats;
};

/* ---- strings ---- */

/* Append s[n] to sp's string store as valid UTF-8 (other bytes as \xNN), cut at cap bytes;
 * its offset, or the empty string's when full. */
static uint32_t store(struct otlp_span *sp, const uint8_t *s, size_t n, size_t cap)
{
	uint32_t at = sp->used;
	size_t room = sizeof(sp->strs) - sp->used - 1;

	if (room > cap)
		room = cap;
	for (size_t i = 0; i < n;) {
		size_t k = otlp_utf8_len(s + i, n - i);

		if (k) {
			if (k > room)
				break;
			memcpy(sp->strs + sp->used, s + i, k);
			sp->used += (uint32_t)k;
			room -= k;
			i += k;
		} else {
			if (room < 4)
				break;
			sp->used += (uint32_t)snprintf(sp->strs + sp->used, 5, "\\x%02x", s[i]);
			room -= 4;
			i++;
		}
	}
	sp->strs[sp->used++] = 0;
	return at;
}

static uint32_t store_cstr(struct otlp_span *sp, const char *s)
{
	return store(sp, (const uint8_t *)(s ? s : ""), s ? strlen(s) : 0, OTLP_VALUE_MAX);
}

/* ---- attributes ---- */

/* A new attribute of sp named key (its value still to set), NULL when sp has no room. */
static struct otlp_attr *new_attr(struct otlp_span *sp, const char *key)
{
	struct otlp_attr *a;

	if (sp->nattr >= OTLP_ATTRS)
		return NULL;
	a = &sp->attr[sp->nattr++];
	memset(a, 0, sizeof(*a));
	a->key = store_cstr(sp, key);
	return a;
}

/* "prefix.name", or "prefix.i" for a value without a name. */
static struct otlp_attr *attr(struct otlp_span *sp, const char *prefix, const char *name,
			      unsigned i)
{
	char key[96];

	if (name)
		snprintf(key, sizeof(key), "%s.%s", prefix, name);
	else
		snprintf(key, sizeof(key), "%s.%u", prefix, i);
	return new_attr(sp, key);
}

static void attr_int(struct otlp_span *sp, const char *key, enum otlp_type type, int64_t v)
{
	struct otlp_attr *a = new_attr(sp, key);

	if (a)
		a->type = type, a->i = v;
}

static void attr_str(struct otlp_span *sp, const char *key, const char *v)
{
	struct otlp_attr *a = v ? new_attr(sp, key) : NULL;

	if (a)
		a->type = OTLP_STR, a->s = store_cstr(sp, v);
}

/* A value as an attribute: numbers and booleans as such, strings as their bytes, anything
 * else (pointers, slices, variants, unavailable, errors) as tracestub's text spelling. */
static void value_attr(struct otlp_printer *op, struct otlp_span *sp, const char *prefix,
		       const struct tvalue *v, unsigned i)
{
	struct otlp_attr *a = attr(sp, prefix, v->name, i);
	long n;

	if (!a)
		return;
	switch (v->kind) {
	case TV_INT:
		a->type = OTLP_INT, a->i = v->v.i;
		return;
	case TV_UINT:
		if (v->v.u <= INT64_MAX) {
			a->type = OTLP_INT, a->i = (int64_t)v->v.u;
			return;
		}
		break;
	case TV_BOOL:
		a->type = OTLP_BOOL, a->i = v->v.b;
		return;
	case TV_FLOAT:
	case TV_DOUBLE:
		a->type = OTLP_DOUBLE, a->d = v->v.d;
		return;
	case TV_STR:
		a->type = OTLP_STR;
		a->s = store(sp, v->v.s.bytes, v->v.s.len, OTLP_VALUE_MAX);
		return;
	default:
		break;
	}
	a->type = OTLP_STR;
	rewind(op->scratch);
	tevent_text_value(op->scratch, v);
	fflush(op->scratch);
	n = ftell(op->scratch);
	if (n < 0)
		n = 0;
	a->s = store(sp, (const uint8_t *)op->scratch_buf, (size_t)n, OTLP_VALUE_MAX);
}

/* ---- open calls ---- */

static size_t hslot(uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 40) & (OPEN_HASH - 1);
}

static int32_t *find_slot(struct otlp_printer *op, uint64_t id, bool insert)
{
	int32_t *tomb = NULL;

	for (size_t i = hslot(id), n = 0; n < OPEN_HASH; i = (i + 1) & (OPEN_HASH - 1), n++) {
		int32_t *s = &op->slot[i];

		if (*s == -1)
			return insert ? (tomb ? tomb : s) : NULL;
		if (*s == -2) {
			if (!tomb)
				tomb = s;
			continue;
		}
		if (op->open[*s].span_id == id)
			return s;
	}
	return insert ? tomb : NULL;
}

/* The common fields of a span from its first event. */
static void start_span(struct otlp_printer *op, struct otlp_span *sp, const struct tevent *ev)
{
	memset(sp, 0, offsetof(struct otlp_span, strs));
	sp->used = 1; /* offset 0 means "none" */
	sp->strs[0] = 0;
	memcpy(sp->trace_id, ev->trace_id, 16);
	sp->span_id = ev->span_id;
	sp->parent_id = ev->parent_span_id;
	sp->start_ns = op->o.epoch_ns + ev->time_ns;
	sp->end_ns = sp->start_ns;
	sp->pid = ev->pid;
	sp->kind = ev->span_kind ? ev->span_kind : OTLP_KIND_INTERNAL;
	if (ev->link_span_id) {
		memcpy(sp->link_trace_id, ev->link_trace_id, 16);
		sp->link_span_id = ev->link_span_id;
	}
	sp->name = store_cstr(sp, ev->func ? ev->func : "?");
	sp->exe = store_cstr(sp, op->o.service ? op->o.service : ev->exe ? ev->exe : "");
	attr_int(sp, "thread.id", OTLP_INT, ev->tid);
	if (ev->goid >= 0)
		attr_int(sp, "go.goroutine.id", OTLP_INT, ev->goid);
	attr_str(sp, "code.function", ev->func);
	attr_str(sp, "code.namespace", ev->module);
	for (unsigned i = 0; i < ev->nargs && i < TEVENT_MAX_VALUES; i++)
		value_attr(op, sp, "arg", &ev->args[i], i);
	if (ev->transport) {
		attr_str(sp, "net.transport", ev->transport);
		attr_str(sp, "net.peer.name", ev->peer_addr);
		if (ev->peer_port)
			attr_int(sp, "net.peer.port", OTLP_INT, ev->peer_port);
	}
}

/* ---- the batch ---- */

static void flush(struct otlp_printer *op)
{
	size_t len;

	if (!op->batch.n)
		return;
	len = otlp_encode(&op->batch, op->host, op->o.json, op->body, OTLP_BODY_MAX);
	if (len) {
		op->o.sink(op->o.ctx, op->body, len, op->batch.n);
		op->stats.exported += op->batch.n;
		op->stats.requests++;
	} else {
		op->stats.dropped += op->batch.n; /* cannot happen: the body is sized for it */
	}
	op->batch.n = 0;
}

static void finish_span(struct otlp_printer *op, const struct otlp_span *sp, uint64_t now_ns)
{
	if (op->batch.n == 0)
		op->first_ns = now_ns;
	op->batch.spans[op->batch.n++] = *sp;
	if (op->batch.n == OTLP_BATCH)
		flush(op);
}

static int otlp_begin(struct printer *p)
{
	(void)p;
	return 0;
}

static void on_return(struct otlp_printer *op, const struct tevent *ev)
{
	int32_t *s = find_slot(op, ev->span_id, false);
	struct otlp_span *sp;

	if (!s) { /* its call was not seen (dropped): a span of its own */
		struct otlp_span tmp;

		start_span(op, &tmp, ev);
		tmp.start_ns -= ev->duration_ns;
		sp = &tmp;
		tmp.end_ns = op->o.epoch_ns + ev->time_ns;
		for (unsigned i = 0; i < ev->nrets && i < TEVENT_MAX_VALUES; i++)
			value_attr(op, sp, "ret", &ev->rets[i], i);
		finish_span(op, sp, ev->time_ns);
		return;
	}
	sp = &op->open[*s];
	sp->end_ns = op->o.epoch_ns + ev->time_ns;
	for (unsigned i = 0; i < ev->nrets && i < TEVENT_MAX_VALUES; i++) {
		value_attr(op, sp, "ret", &ev->rets[i], i);
		if (tvalue_go_error_set(&ev->rets[i])) { /* the message, where known */
			const struct tvalue *v = &ev->rets[i];

			sp->status = OTLP_STATUS_ERROR;
			sp->status_msg = v->kind == TV_STR ? store(sp, v->v.s.bytes, v->v.s.len,
								   OTLP_VALUE_MAX)
							   : store_cstr(sp, "non-nil error");
		}
	}
	finish_span(op, sp, ev->time_ns);
	sp->next = op->free_open;
	op->free_open = (int32_t)(sp - op->open);
	*s = -2;
}

static int otlp_event(struct printer *p, const struct tevent *ev)
{
	struct otlp_printer *op = (struct otlp_printer *)p;
	struct otlp_span tmp;
	int32_t *s;

	if (p->done || !ev->span_id)
		return 0;
	if (ev->time_ns > op->last_ns)
		op->last_ns = ev->time_ns;
	if (op->batch.n && ev->time_ns - op->first_ns >= OTLP_FLUSH_NS)
		flush(op);
	switch (ev->type) {
	case TEVENT_CALL:
		if (op->free_open < 0 || !(s = find_slot(op, ev->span_id, true))) {
			op->stats.dropped++; /* too many calls open at once */
			return 0;
		}
		*s = op->free_open;
		op->free_open = op->open[*s].next;
		start_span(op, &op->open[*s], ev);
		return 0;
	case TEVENT_RETURN:
		on_return(op, ev);
		return 0;
	case TEVENT_HIT:
		start_span(op, &tmp, ev);
		finish_span(op, &tmp, ev->time_ns);
		return 0;
	}
	return 0;
}

static void otlp_tick(struct printer *p, uint64_t time_ns)
{
	struct otlp_printer *op = (struct otlp_printer *)p;

	if (!p->done && op->batch.n && time_ns - op->first_ns >= OTLP_FLUSH_NS)
		flush(op);
}

static int otlp_end(struct printer *p, const struct tsummary *s)
{
	struct otlp_printer *op = (struct otlp_printer *)p;

	(void)s; /* printer_end calls this once, done already set */
	/* calls still open (the program was detached or killed inside them) */
	for (size_t i = 0; i < OPEN_HASH; i++) {
		if (op->slot[i] < 0)
			continue;
		struct otlp_span *sp = &op->open[op->slot[i]];

		/* not an error: it ends where the trace does, and says so */
		if (op->last_ns + op->o.epoch_ns > sp->start_ns)
			sp->end_ns = op->o.epoch_ns + op->last_ns;
		attr_int(sp, "tracestub.unfinished", OTLP_BOOL, 1);
		finish_span(op, sp, op->first_ns);
		op->slot[i] = -2;
	}
	flush(op);
	return 0;
}

static void otlp_free(struct printer *p)
{
	struct otlp_printer *op = (struct otlp_printer *)p;

	if (op->scratch)
		fclose(op->scratch);
	free(op->open);
	free(op->slot);
	free(op->batch.spans);
	free(op->body);
	free(op);
}

static const struct printer_ops otlp_ops = {
	.begin = otlp_begin,
	.event = otlp_event,
	.end = otlp_end,
	.free = otlp_free,
	.tick = otlp_tick,
};

struct printer *printer_otlp_new(const struct otlp_opts *o)
{
	struct otlp_printer *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->base.ops = &otlp_ops;
	op->o = *o;
	op->open = calloc(OTLP_OPEN, sizeof(*op->open));
	op->slot = malloc(OPEN_HASH * sizeof(*op->slot));
	op->batch.spans = calloc(OTLP_BATCH, sizeof(*op->batch.spans));
	op->body = malloc(OTLP_BODY_MAX);
	op->scratch = fmemopen(op->scratch_buf, sizeof(op->scratch_buf), "w");
	if (!op->open || !op->slot || !op->batch.spans || !op->body || !op->scratch) {
		otlp_free(&op->base);
		return NULL;
	}
	setvbuf(op->scratch, NULL, _IONBF, 0);
	for (size_t i = 0; i < OPEN_HASH; i++)
		op->slot[i] = -1;
	for (int32_t i = 0; i < OTLP_OPEN; i++)
		op->open[i].next = i + 1 < OTLP_OPEN ? i + 1 : -1;
	if (gethostname(op->host, sizeof(op->host) - 1))
		snprintf(op->host, sizeof(op->host), "unknown");
	return &op->base;
}

const struct otlp_stats *printer_otlp_stats(const struct printer *p)
{
	return &((const struct otlp_printer *)p)->stats;
}
