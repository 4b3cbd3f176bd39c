/* Value renderers shared by the printers: JSON string escaping (any bytes in, valid JSON
 * out), JSON and text spellings of one struct tvalue, durations. Pure: writes only to the
 * FILE it is given, never allocates, never touches a process. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "stub/print/print.h"

void tevent_json_ids(FILE *f, const struct tevent *ev, const char *lead)
{
	static const uint8_t zero[16];

	if (!ev->span_id || !memcmp(ev->trace_id, zero, 16))
		return;
	fprintf(f, "%s\"trace_id\":\"", lead);
	for (int i = 0; i < 16; i++)
		fprintf(f, "%02x", ev->trace_id[i]);
	fprintf(f, "\",\"span_id\":\"%016" PRIx64 "\"", ev->span_id);
	if (ev->parent_span_id)
		fprintf(f, ",\"parent_span_id\":\"%016" PRIx64 "\"", ev->parent_span_id);
	if (ev->span_kind)
		fprintf(f, ",\"span_kind\":\"%s\"",
			ev->span_kind == TSPAN_SERVER ? "server" : "client");
	if (ev->link_span_id) {
		fputs(",\"link_trace_id\":\"", f);
		for (int i = 0; i < 16; i++)
			fprintf(f, "%02x", ev->link_trace_id[i]);
		fprintf(f, "\",\"link_span_id\":\"%016" PRIx64 "\"", ev->link_span_id);
	}
	if (ev->transport) {
		fputs(",\"transport\":", f);
		tevent_json_cstr(f, ev->transport);
		fputs(",\"peer\":", f);
		tevent_json_cstr(f, ev->peer_addr);
		if (ev->peer_port)
			fprintf(f, ",\"peer_port\":%d", ev->peer_port);
	}
}

void tevent_init(struct tevent *ev, enum tevent_type type)
{
	/* not the value and frame arrays (3.6 KB, most of the event): their counts say what
	 * holds, and each value or frame is written whole */
	memset(ev, 0, offsetof(struct tevent, args));
	ev->nrets = 0;
	ev->duration_ns = 0;
	ev->nbt = 0;
	memset(&ev->stack, 0, sizeof(*ev) - offsetof(struct tevent, stack));
	ev->type = type;
	ev->goid = -1;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF), or 0 when the byte at p does not start one. p[0] >= 0x80. */
size_t tevent_utf8_len(const uint8_t *p, size_t left)
{
	uint8_t c = p[0];
	size_t n, i;
	uint8_t lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* > U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

void tevent_json_string(FILE *f, const uint8_t *bytes, size_t len)
{
	size_t i = 0, n;

	fputc('"', f);
	while (i < len) {
		uint8_t c = bytes[i];

		if (c >= 0x80) {
			n = tevent_utf8_len(bytes + i, len - i);
			if (n) {
				fwrite(bytes + i, 1, n, f);
				i += n;
			} else {
				fprintf(f, "\\u%04x", c);
				i++;
			}
			continue;
		}
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
		i++;
	}
	fputc('"', f);
}

void tevent_json_cstr(FILE *f, const char *s)
{
	if (!s)
		fputs("null", f);
	else
		tevent_json_string(f, (const uint8_t *)s, strlen(s));
}

static const char *err_name(int err)
{
	const char *s = strerrorname_np(err < 0 ? -err : err);

	return s ? s : "EUNKNOWN";
}

/* Element i of a slice as a tvalue of its element kind. */
static struct tvalue slice_elem(const struct tvalue *v, unsigned i)
{
	const uint8_t *p = v->v.sl.elems + (size_t)i * v->v.sl.elem_size;
	struct tvalue e = {.kind = v->v.sl.elem_kind};
	uint64_t u = 0;
	unsigned sz = v->v.sl.elem_size;
	float fl;

	memcpy(&u, p, sz > 8 ? 8 : sz);
	switch (e.kind) {
	case TV_INT:
		e.v.i = sz >= 8 ? (int64_t)u : (int64_t)(u << (64 - 8 * sz)) >> (64 - 8 * sz);
		break;
	case TV_FLOAT:
		memcpy(&fl, p, 4);
		e.v.d = fl;
		break;
	case TV_DOUBLE:
		memcpy(&e.v.d, p, 8);
		break;
	case TV_BOOL:
		e.v.b = u != 0;
		break;
	default:
		e.v.u = u;
	}
	return e;
}

static void json_double(FILE *f, double d)
{
	if (isnan(d))
		fputs("\"nan\"", f);
	else if (isinf(d))
		fputs(d < 0 ? "\"-inf\"" : "\"inf\"", f);
	else
		fprintf(f, "%.17g", d);
}

void tevent_json_value(FILE *f, const struct tvalue *v)
{
	uint8_t ch;

	switch (v->kind) {
	case TV_INT:
		fprintf(f, "%" PRId64, v->v.i);
		break;
	case TV_UINT:
		fprintf(f, "%" PRIu64, v->v.u);
		break;
	case TV_BOOL:
		fputs(v->v.b ? "true" : "false", f);
		break;
	case TV_CHAR:
		ch = (uint8_t)v->v.u;
		tevent_json_string(f, &ch, 1);
		break;
	case TV_PTR:
		fprintf(f, "\"0x%" PRIx64 "\"", v->v.u);
		break;
	case TV_STR:
	case TV_VARIANT:
		tevent_json_string(f, v->v.s.bytes, v->v.s.bytes ? v->v.s.len : 0);
		break;
	case TV_FLOAT:
	case TV_DOUBLE:
		json_double(f, v->v.d);
		break;
	case TV_SLICE:
		if (!v->v.sl.elems) {
			fputs("null", f);
			break;
		}
		fputc('[', f);
		for (unsigned i = 0; i < v->v.sl.n; i++) {
			struct tvalue e = slice_elem(v, i);
			if (i)
				fputc(',', f);
			tevent_json_value(f, &e);
		}
		fputc(']', f);
		break;
	case TV_UNAVAILABLE:
	case TV_ERROR:
	default:
		fputs("null", f);
	}
}

void tevent_json_value_extra(FILE *f, const struct tvalue *v)
{
	if (v->kind == TV_STR && v->v.s.truncated)
		fputs(",\"truncated\":true", f);
	else if (v->kind == TV_SLICE)
		fprintf(f, ",\"len\":%" PRIu64 ",\"cap\":%" PRIu64 "%s", v->v.sl.len, v->v.sl.cap,
			v->v.sl.n < v->v.sl.len ? ",\"truncated\":true" : "");
	else if (v->kind == TV_VARIANT)
		fputs(",\"variant\":true", f);
	else if (v->kind == TV_UNAVAILABLE)
		fputs(",\"unavailable\":true", f);
	else if (v->kind == TV_ERROR)
		fprintf(f, ",\"error\":\"%s\"", err_name(v->v.err));
}

static void text_char(FILE *f, uint8_t c, char quote)
{
	switch (c) {
	case '\n':
		fputs("\\n", f);
		return;
	case '\t':
		fputs("\\t", f);
		return;
	case '\r':
		fputs("\\r", f);
		return;
	case '\0':
		fputs("\\0", f);
		return;
	case '\\':
		fputs("\\\\", f);
		return;
	}
	if (c == (uint8_t)quote)
		fprintf(f, "\\%c", quote);
	else if (c < 0x20 || c >= 0x7f)
		fprintf(f, "\\x%02x", c);
	else
		fputc(c, f);
}

static void text_slice(FILE *f, const struct tvalue *v)
{
	if (!v->v.sl.elems && v->v.sl.len) {
		fprintf(f, "[...](len=%" PRIu64 ")", v->v.sl.len);
		return;
	}
	fputc('[', f);
	for (unsigned i = 0; v->v.sl.elems && i < v->v.sl.n; i++) {
		struct tvalue e = slice_elem(v, i);
		if (i)
			fputs(", ", f);
		tevent_text_value(f, &e);
	}
	if (v->v.sl.n < v->v.sl.len)
		fprintf(f, "%s...](len=%" PRIu64 ")", v->v.sl.n ? ", " : "", v->v.sl.len);
	else if (!v->v.sl.len)
		fputs("](len=0)", f);
	else
		fputc(']', f);
}

void tevent_text_value(FILE *f, const struct tvalue *v)
{
	size_t i;

	switch (v->kind) {
	case TV_INT:
		fprintf(f, "%" PRId64, v->v.i);
		break;
	case TV_UINT:
		fprintf(f, "%" PRIu64, v->v.u);
		break;
	case TV_BOOL:
		fputs(v->v.b ? "true" : "false", f);
		break;
	case TV_CHAR:
		fputc('\'', f);
		text_char(f, (uint8_t)v->v.u, '\'');
		fputc('\'', f);
		break;
	case TV_PTR:
		if (v->go_error && !v->v.u)
			fputs("nil", f);
		else
			fprintf(f, "0x%" PRIx64, v->v.u);
		break;
	case TV_SLICE:
		text_slice(f, v);
		break;
	case TV_VARIANT:
		fwrite(v->v.s.bytes, 1, v->v.s.len, f);
		break;
	case TV_STR:
		fputc('"', f);
		for (i = 0; v->v.s.bytes && i < v->v.s.len; i++)
			text_char(f, v->v.s.bytes[i], '"');
		fputc('"', f);
		if (v->v.s.truncated)
			fputs("...", f);
		break;
	case TV_FLOAT:
	case TV_DOUBLE:
		fprintf(f, "%g", v->v.d);
		break;
	case TV_UNAVAILABLE:
		fputs("<unavailable>", f);
		break;
	case TV_ERROR:
		fprintf(f, "<error: %s>", err_name(v->v.err));
		break;
	default:
		fputs("<?>", f);
	}
}

char *tevent_format_duration(char *buf, size_t cap, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, cap, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 " µs", ns / 1000, ns % 1000 / 100);
	else if (ns < 1000000000)
		snprintf(buf, cap, "%" PRIu64 ".%" PRIu64 " ms", ns / 1000000,
			 ns % 1000000 / 100000);
	else
		snprintf(buf, cap, "%" PRIu64 ".%03" PRIu64 " s", ns / 1000000000,
			 ns % 1000000000 / 1000000);
	return buf;
}
