/* A batch of spans as one OTLP ExportTraceServiceRequest: the protobuf wire format
 * (opentelemetry/proto/collector/trace/v1 and the trace, resource and common messages it
 * holds; field numbers as the proto files give them) or OTLP/JSON (the protobuf JSON mapping
 * with lowerCamelCase names, ids as hex, 64-bit integers as decimal strings). One
 * ResourceSpans per process. Writes only into the caller's buffer. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stub/print/otlp.h"

#define SCOPE_NAME    "tracestub"
#define SCOPE_VERSION "0.1"

size_t otlp_utf8_len(const uint8_t *p, size_t left)
{
	if (!left || !p[0])
		return 0;
	return p[0] < 0x80 ? 1 : tevent_utf8_len(p, left);
}

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool full;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->full || n > b->cap - b->len) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* ---- protobuf ---- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static size_t varint(uint8_t out[10], uint64_t v)
{
	size_t n = 0;

	do {
		out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static void pb_varint(struct buf *b, uint64_t v)
{
	uint8_t t[10];

	put(b, t, varint(t, v));
}

static void pb_tag(struct buf *b, unsigned field, unsigned wt)
{
	pb_varint(b, (uint64_t)field << 3 | wt);
}

static void pb_bytes(struct buf *b, unsigned field, const void *d, size_t n)
{
	pb_tag(b, field, WT_LEN);
	pb_varint(b, n);
	put(b, d, n);
}

static void pb_str(struct buf *b, unsigned field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

static void pb_fixed64(struct buf *b, unsigned field, uint64_t v)
{
	pb_tag(b, field, WT_I64);
	put(b, &v, 8); /* little-endian, as the wire format is */
}

/* A nested message: its tag now, its length once its content is written (pb_close). */
static size_t pb_open(struct buf *b, unsigned field)
{
	pb_tag(b, field, WT_LEN);
	return b->len;
}

static void pb_close(struct buf *b, size_t start)
{
	uint8_t t[10];
	size_t len = b->len - start, k;

	if (b->full)
		return;
	k = varint(t, len);
	if (k > b->cap - b->len) {
		b->full = true;
		return;
	}
	memmove(b->p + start + k, b->p + start, len);
	memcpy(b->p + start, t, k);
	b->len += k;
}

/* KeyValue { key = 1; AnyValue value = 2 } with AnyValue { string_value = 1; bool_value =
 * 2; int_value = 3; double_value = 4 }. */
static void pb_kv(struct buf *b, unsigned field, const char *key, const struct otlp_attr *a,
		  const char *sval)
{
	size_t kv = pb_open(b, field), any;

	pb_str(b, 1, key);
	any = pb_open(b, 2);
	switch (a->type) {
	case OTLP_STR:
		pb_str(b, 1, sval);
		break;
	case OTLP_BOOL:
		pb_tag(b, 2, WT_VARINT);
		pb_varint(b, a->i != 0);
		break;
	case OTLP_INT:
		pb_tag(b, 3, WT_VARINT);
		pb_varint(b, (uint64_t)a->i);
		break;
	case OTLP_DOUBLE: {
		uint64_t bits;

		memcpy(&bits, &a->d, 8);
		pb_fixed64(b, 4, bits);
		break;
	}
	}
	pb_close(b, any);
	pb_close(b, kv);
}

static void pb_kv_str(struct buf *b, unsigned field, const char *key, const char *v)
{
	struct otlp_attr a = {.type = OTLP_STR};

	pb_kv(b, field, key, &a, v);
}

static void pb_kv_int(struct buf *b, unsigned field, const char *key, int64_t v)
{
	struct otlp_attr a = {.type = OTLP_INT, .i = v};

	pb_kv(b, field, key, &a, NULL);
}

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

/* Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, start 7, end 8,
 * attributes 9, status 15 { message 2, code 3 }. Span ids go out big-endian: the same
 * bytes as their hex spelling in tracestub's JSON. */
static void pb_span(struct buf *b, const struct otlp_span *sp)
{
	size_t s = pb_open(b, 2);
	uint8_t id[8];

	pb_bytes(b, 1, sp->trace_id, 16);
	be64(id, sp->span_id);
	pb_bytes(b, 2, id, 8);
	if (sp->parent_id) {
		be64(id, sp->parent_id);
		pb_bytes(b, 4, id, 8);
	}
	pb_str(b, 5, sp->strs + sp->name);
	pb_tag(b, 6, WT_VARINT);
	pb_varint(b, (uint64_t)sp->kind);
	pb_fixed64(b, 7, sp->start_ns);
	pb_fixed64(b, 8, sp->end_ns);
	for (unsigned i = 0; i < sp->nattr; i++)
		pb_kv(b, 9, sp->strs + sp->attr[i].key, &sp->attr[i], sp->strs + sp->attr[i].s);
	if (sp->link_span_id) { /* links 13 { trace_id 1, span_id 2 } */
		size_t l = pb_open(b, 13);

		pb_bytes(b, 1, sp->link_trace_id, 16);
		be64(id, sp->link_span_id);
		pb_bytes(b, 2, id, 8);
		pb_close(b, l);
	}
	if (sp->status) {
		size_t st = pb_open(b, 15);

		if (sp->status_msg)
			pb_str(b, 2, sp->strs + sp->status_msg);
		pb_tag(b, 3, WT_VARINT);
		pb_varint(b, (uint64_t)sp->status);
		pb_close(b, st);
	}
	pb_close(b, s);
}

/* ResourceSpans { resource 1 { attributes 1 }, scope_spans 2 { scope 1 { name 1, version 2
 * }, spans 2 } } for the spans of pid. */
static void pb_resource(struct buf *b, const struct otlp_batch *bt, size_t first, const char *host)
{
	const struct otlp_span *f = &bt->spans[first];
	size_t rs = pb_open(b, 1), r, ss, sc;

	r = pb_open(b, 1);
	pb_kv_str(b, 1, "service.name", f->strs + f->exe);
	pb_kv_int(b, 1, "process.pid", f->pid);
	pb_kv_str(b, 1, "host.name", host);
	pb_close(b, r);
	ss = pb_open(b, 2);
	sc = pb_open(b, 1);
	pb_str(b, 1, SCOPE_NAME);
	pb_str(b, 2, SCOPE_VERSION);
	pb_close(b, sc);
	for (size_t i = first; i < bt->n; i++)
		if (bt->spans[i].pid == f->pid)
			pb_span(b, &bt->spans[i]);
	pb_close(b, ss);
	pb_close(b, rs);
}

/* ---- OTLP/JSON ---- */

static void js(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void jsf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jsf(struct buf *b, const char *fmt, ...)
{
	char t[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t, sizeof(t), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, t, (size_t)n < sizeof(t) ? (size_t)n : sizeof(t) - 1);
}

/* A JSON string of s (valid UTF-8 already): quotes, backslashes and control characters
 * escaped. */
static void jstr(struct buf *b, const char *s)
{
	put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			jsf(b, "\\%c", c);
		else if (c < 0x20)
			jsf(b, "\\u%04x", c);
		else
			put(b, s, 1);
	}
	put(b, "\"", 1);
}

static void jhex(struct buf *b, const uint8_t *d, size_t n)
{
	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++)
		jsf(b, "%02x", d[i]);
	put(b, "\"", 1);
}

static void js_kv(struct buf *b, const char *key, const struct otlp_attr *a, const char *sval)
{
	js(b, "{\"key\":");
	jstr(b, key);
	js(b, ",\"value\":{");
	switch (a->type) {
	case OTLP_STR:
		js(b, "\"stringValue\":");
		jstr(b, sval);
		break;
	case OTLP_BOOL:
		js(b, a->i ? "\"boolValue\":true" : "\"boolValue\":false");
		break;
	case OTLP_INT:
		jsf(b, "\"intValue\":\"%" PRId64 "\"", a->i);
		break;
	case OTLP_DOUBLE:
		if (a->d != a->d || a->d - a->d != 0) /* NaN, inf: no JSON number */
			jsf(b, "\"stringValue\":\"%g\"", a->d);
		else
			jsf(b, "\"doubleValue\":%.17g", a->d);
		break;
	}
	js(b, "}}");
}

static void js_span(struct buf *b, const struct otlp_span *sp)
{
	uint8_t id[8];

	js(b, "{\"traceId\":");
	jhex(b, sp->trace_id, 16);
	be64(id, sp->span_id);
	js(b, ",\"spanId\":");
	jhex(b, id, 8);
	if (sp->parent_id) {
		be64(id, sp->parent_id);
		js(b, ",\"parentSpanId\":");
		jhex(b, id, 8);
	}
	js(b, ",\"name\":");
	jstr(b, sp->strs + sp->name);
	jsf(b, ",\"kind\":%d", sp->kind);
	jsf(b, ",\"startTimeUnixNano\":\"%" PRIu64 "\"", sp->start_ns);
	jsf(b, ",\"endTimeUnixNano\":\"%" PRIu64 "\"", sp->end_ns);
	js(b, ",\"attributes\":[");
	for (unsigned i = 0; i < sp->nattr; i++) {
		if (i)
			js(b, ",");
		js_kv(b, sp->strs + sp->attr[i].key, &sp->attr[i], sp->strs + sp->attr[i].s);
	}
	js(b, "]");
	if (sp->link_span_id) {
		js(b, ",\"links\":[{\"traceId\":");
		jhex(b, sp->link_trace_id, 16);
		be64(id, sp->link_span_id);
		js(b, ",\"spanId\":");
		jhex(b, id, 8);
		js(b, "}]");
	}
	if (sp->status) {
		jsf(b, ",\"status\":{\"code\":%d", sp->status);
		if (sp->status_msg) {
			js(b, ",\"message\":");
			jstr(b, sp->strs + sp->status_msg);
		}
		js(b, "}");
	}
	js(b, "}");
}

static void js_resource(struct buf *b, const struct otlp_batch *bt, size_t first, const char *host)
{
	const struct otlp_span *f = &bt->spans[first];
	struct otlp_attr str = {.type = OTLP_STR}, pid = {.type = OTLP_INT, .i = f->pid};
	bool any = false;

	js(b, "{\"resource\":{\"attributes\":[");
	js_kv(b, "service.name", &str, f->strs + f->exe);
	js(b, ",");
	js_kv(b, "process.pid", &pid, NULL);
	js(b, ",");
	js_kv(b, "host.name", &str, host);
	js(b, "]},\"scopeSpans\":[{\"scope\":{\"name\":\"" SCOPE_NAME
	      "\",\"version\":\"" SCOPE_VERSION "\"},\"spans\":[");
	for (size_t i = first; i < bt->n; i++) {
		if (bt->spans[i].pid != f->pid)
			continue;
		if (any)
			js(b, ",");
		js_span(b, &bt->spans[i]);
		any = true;
	}
	js(b, "]}]}");
}

/* ---- the request ---- */

size_t otlp_encode(const struct otlp_batch *bt, const char *host, bool json, uint8_t *out,
		   size_t cap)
{
	struct buf b = {out, 0, cap, false};
	bool any = false;

	if (json)
		js(&b, "{\"resourceSpans\":[");
	for (size_t i = 0; i < bt->n; i++) {
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++) /* one resource per process */
			seen = bt->spans[k].pid == bt->spans[i].pid;
		if (seen)
			continue;
		if (json) {
			if (any)
				js(&b, ",");
			js_resource(&b, bt, i, host);
		} else {
			pb_resource(&b, bt, i, host);
		}
		any = true;
	}
	if (json)
		js(&b, "]}");
	return b.full ? 0 : b.len;
}
