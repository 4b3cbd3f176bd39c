/* Unit tests for the printers (text, JSON Lines, Chrome) and the value renderers in
 * stub/tevent.c: golden bytes for synthetic events, every JSON output checked by python3's
 * json module when python3 exists (TAP). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/print/print.h"

static int n_test;
static int failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

static void skip(const char *name, const char *why)
{
	n_test++;
	printf("ok %d - %s # SKIP %s\n", n_test, name, why);
}

/* Compare and show a diff-friendly dump on mismatch. */
static int same(const char *got, const char *want)
{
	if (!strcmp(got, want))
		return 1;
	fprintf(stderr, "# --- got ---\n%s# --- want ---\n%s# ---\n", got, want);
	return 0;
}

static bool have_python;

/* 1 when python3 parses text (mode "lines": each line; "doc": the whole text), 0 when it
 * does not, -1 when python3 is missing. */
static int json_valid(const char *text, const char *mode)
{
	char cmd[256];
	FILE *p;

	if (!have_python)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys\n"
		 "d=sys.stdin.buffer.read().decode(\"utf-8\")\n"
		 "%s' 2>/dev/null",
		 !strcmp(mode, "lines") ? "[json.loads(l) for l in d.splitlines()]"
					: "json.loads(d)");
	p = popen(cmd, "w");
	if (!p)
		return -1;
	fputs(text, p);
	return pclose(p) == 0;
}

static void check_json(const char *text, const char *mode, const char *name)
{
	int r = json_valid(text, mode);

	if (r < 0)
		skip(name, "no python3");
	else
		ok(r == 1, name);
}

/* ---- synthetic events ---- */

static struct tevent evs[8];
static unsigned nevs;
static const struct treg regs[5] = {
	{"rax", 1}, {"rbx", 0x20}, {"rcx", 0}, {"rdx", 0xffffffffffffffff}, {"rip", 0x401136}};
static const uint8_t stack_bytes[18] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
					0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xfe, 0xff};

static struct tvalue *arg(struct tevent *ev, const char *name, enum tvalue_kind k)
{
	struct tvalue *v = &ev->args[ev->nargs++];

	v->name = name;
	v->kind = k;
	return v;
}

static struct tvalue *ret(struct tevent *ev, const char *name, enum tvalue_kind k)
{
	struct tvalue *v = &ev->rets[ev->nrets++];

	v->name = name;
	v->kind = k;
	return v;
}

static struct tevent *next(enum tevent_type type, uint64_t t, int32_t tid, int depth,
			   const char *func)
{
	struct tevent *ev = &evs[nevs++];

	tevent_init(ev, type);
	ev->seq = nevs;
	ev->time_ns = t;
	ev->pid = 100;
	ev->tid = tid;
	ev->depth = depth;
	ev->func = func;
	ev->module = "prog";
	ev->addr = 0x401000 + nevs * 0x10;
	return ev;
}

static void build_events(void)
{
	struct tevent *ev;
	struct tvalue *v;

	ev = next(TEVENT_CALL, 10000, 100, 0, "main");
	arg(ev, "argc", TV_INT)->v.i = 1;
	arg(ev, "argv", TV_PTR)->v.u = 0x7ffd0000;

	ev = next(TEVENT_CALL, 11000, 100, 1, "read");
	arg(ev, "fd", TV_INT)->v.i = 3;
	v = arg(ev, "buf", TV_STR);
	v->v.s.bytes = (const uint8_t *)"ok\n";
	v->v.s.len = 3;
	v->v.s.truncated = true;
	arg(ev, "n", TV_UINT)->v.u = 2;

	ev = next(TEVENT_RETURN, 23345, 100, 1, "read");
	ret(ev, NULL, TV_INT)->v.i = 2;
	ev->duration_ns = 12345;

	ev = next(TEVENT_RETURN, 40000, 100, 0, "main");
	ret(ev, NULL, TV_INT)->v.i = -1;
	ev->duration_ns = 30000;

	ev = next(TEVENT_CALL, 50000, 101, 0, "main.work");
	ev->goid = 7;
	v = arg(ev, "s", TV_STR);
	v->v.s.bytes = (const uint8_t *)"h\xff\xc3\xa9\"\x01";
	v->v.s.len = 6;
	arg(ev, "x", TV_INT)->v.i = -5;
	ev->nbt = 2;
	ev->bt[0] = (struct tframe){0x401000, "main.work", "prog", 0x10};
	ev->bt[1] = (struct tframe){0x402000, NULL, NULL, 0};

	ev = next(TEVENT_RETURN, 70000, 101, 0, "main.work");
	ev->goid = 7;
	ret(ev, "n", TV_INT)->v.i = 3;
	v = ret(ev, "err", TV_PTR);
	v->v.u = 0xc000010000;
	v->go_error = true;
	ev->duration_ns = 20000;

	ev = next(TEVENT_HIT, 80000, 102, 2, "demo");
	ev->addr = 0x401136;
	arg(ev, NULL, TV_UNAVAILABLE);
	arg(ev, "e", TV_ERROR)->v.err = -EFAULT;
	arg(ev, "c", TV_CHAR)->v.u = 'a';
	arg(ev, "b", TV_BOOL)->v.b = true;
	arg(ev, "d", TV_DOUBLE)->v.d = 1.5;
	ev->stack = stack_bytes;
	ev->stack_len = sizeof(stack_bytes);
	ev->regs = regs;
	ev->nregs = 5;
}

/* Run all events through p, return the malloc'd output. */
static char *run(struct printer *(*mk)(FILE *), FILE **fp, char **buf, size_t *len,
		 const struct tsummary *s, unsigned from, unsigned to)
{
	struct printer *p;
	unsigned i;

	*fp = open_memstream(buf, len);
	p = mk(*fp);
	printer_begin(p);
	for (i = from; i < to; i++)
		printer_event(p, &evs[i]);
	printer_end(p, s);
	printer_end(p, s);
	printer_event(p, &evs[0]); /* after end: ignored */
	printer_free(p);
	fclose(*fp);
	return *buf;
}

static struct printer *mk_text(FILE *f)
{
	return printer_text_new(f, false, false);
}

static struct printer *mk_text_color(FILE *f)
{
	return printer_text_new(f, true, false);
}

static struct printer *mk_text_quiet(FILE *f)
{
	return printer_text_new(f, false, true);
}

static const char want_text[] =
	"0.000010 [100] main(argc=1, argv=0x7ffd0000) ...\n"
	"0.000011 [100]   read(fd=3, buf=\"ok\\n\"..., n=2) = 2 <12.3 µs>\n"
	"0.000040 [100] <... main resumed> = -1 <30.0 µs>\n"
	"0.000050 [101/g7] main.work(s=\"h\\xff\\xc3\\xa9\\\"\\x01\", x=-5) ...\n"
	"    #0  0x0000000000401000 main.work+0x10 (prog)\n"
	"    #1  0x0000000000402000 ??+0x0\n"
	"0.000070 [101/g7] <... main.work resumed> = (n=3, err=0xc000010000) <20.0 µs>\n"
	"0.000080 [102]     @ 0x401136 demo(arg0=<unavailable>, e=<error: EFAULT>, c='a', b=true, "
	"d=1.5)\n"
	"        stack+0x0000: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n"
	"        stack+0x0010: fe ff\n"
	"        rax=0x1  rbx=0x20  rcx=0x0  rdx=0xffffffffffffffff\n"
	"        rip=0x401136\n";

static void test_text(void)
{
	FILE *f;
	char *buf;
	size_t len;
	struct tsummary *s = tsummary_new();
	unsigned i;
	char *want;

	run(mk_text, &f, &buf, &len, NULL, 0, nevs);
	ok(same(buf, want_text), "text golden");
	free(buf);

	/* call directly followed by its return: one line; a trailing open call is closed */
	run(mk_text, &f, &buf, &len, NULL, 1, 3);
	ok(same(buf, "0.000011 [100]   read(fd=3, buf=\"ok\\n\"..., n=2) = 2 <12.3 µs>\n"),
	   "call + return on one line");
	free(buf);
	run(mk_text, &f, &buf, &len, NULL, 0, 1);
	ok(same(buf, "0.000010 [100] main(argc=1, argv=0x7ffd0000) ...\n"),
	   "end closes an unfinished call");
	free(buf);

	run(mk_text_color, &f, &buf, &len, NULL, 2, 4);
	ok(same(buf, "0.000023 [100]   <... \033[1mread\033[0m resumed> = 2 <12.3 µs>\n"
		     "0.000040 [100] <... \033[1mmain\033[0m resumed> = \033[31m-1\033[0m <30.0 "
		     "µs>\n"),
	   "color: bold names, red errors");
	free(buf);

	for (i = 0; s && i < nevs; i++)
		tsummary_add(s, &evs[i]);
	run(mk_text_quiet, &f, &buf, &len, s, 0, nevs);
	ok(!strncmp(buf, "function ", 9) && strstr(buf, "\nmain.work ") && !strstr(buf, "[100]"),
	   "quiet: summary only");
	free(buf);
	run(mk_text, &f, &buf, &len, s, 0, nevs);
	want = malloc(sizeof(want_text) + 1);
	if (want)
		snprintf(want, sizeof(want_text) + 1, "%s\n", want_text);
	ok(want && !strncmp(buf, want, strlen(want)) &&
		   !strncmp(buf + strlen(want), "function ", 9),
	   "summary after a blank line");
	free(want);
	free(buf);
	tsummary_free(s);
}

static const char want_json[] =
	"{\"type\":\"call\",\"seq\":1,\"time_ns\":10000,\"pid\":100,\"tid\":100,\"depth\":0,"
	"\"func\":\"main\",\"module\":\"prog\",\"addr\":\"0x401010\",\"args\":[{\"name\":\"argc\","
	"\"value\":1},{\"name\":\"argv\",\"value\":\"0x7ffd0000\"}]}\n"
	"{\"type\":\"call\",\"seq\":2,\"time_ns\":11000,\"pid\":100,\"tid\":100,\"depth\":1,"
	"\"func\":\"read\",\"module\":\"prog\",\"addr\":\"0x401020\",\"args\":[{\"name\":\"fd\","
	"\"value\":3},{\"name\":\"buf\",\"value\":\"ok\\n\",\"truncated\":true},{\"name\":\"n\","
	"\"value\":2}]}\n"
	"{\"type\":\"return\",\"seq\":3,\"time_ns\":23345,\"pid\":100,\"tid\":100,\"depth\":1,"
	"\"func\":\"read\",\"module\":\"prog\",\"addr\":\"0x401030\",\"ret\":[{\"name\":\"ret0\","
	"\"value\":2}],\"duration_ns\":12345}\n"
	"{\"type\":\"return\",\"seq\":4,\"time_ns\":40000,\"pid\":100,\"tid\":100,\"depth\":0,"
	"\"func\":\"main\",\"module\":\"prog\",\"addr\":\"0x401040\",\"ret\":[{\"name\":\"ret0\","
	"\"value\":-1}],\"duration_ns\":30000}\n"
	"{\"type\":\"call\",\"seq\":5,\"time_ns\":50000,\"pid\":100,\"tid\":101,\"goid\":7,"
	"\"depth\":0,\"func\":\"main.work\",\"module\":\"prog\",\"addr\":\"0x401050\",\"args\":[{"
	"\"name\":\"s\",\"value\":\"h\\u00ffé\\\"\\u0001\"},{\"name\":\"x\",\"value\":-5}],"
	"\"bt\":[{\"pc\":\"0x401000\",\"func\":\"main.work\",\"module\":\"prog\",\"offset\":16},"
	"{\"pc\":\"0x402000\",\"func\":null,\"module\":null,\"offset\":0}]}\n"
	"{\"type\":\"return\",\"seq\":6,\"time_ns\":70000,\"pid\":100,\"tid\":101,\"goid\":7,"
	"\"depth\":0,\"func\":\"main.work\",\"module\":\"prog\",\"addr\":\"0x401060\",\"ret\":[{"
	"\"name\":\"n\",\"value\":3},{\"name\":\"err\",\"value\":\"0xc000010000\"}],"
	"\"duration_ns\":20000}\n"
	"{\"type\":\"hit\",\"seq\":7,\"time_ns\":80000,\"pid\":100,\"tid\":102,\"depth\":2,"
	"\"func\":\"demo\",\"module\":\"prog\",\"addr\":\"0x401136\",\"args\":[{\"name\":\"arg0\","
	"\"value\":null,\"unavailable\":true},{\"name\":\"e\",\"value\":null,\"error\":\"EFAULT\"},"
	"{\"name\":\"c\",\"value\":\"a\"},{\"name\":\"b\",\"value\":true},{\"name\":\"d\","
	"\"value\":1.5}],\"stack\":\"000102030405060708090a0b0c0d0e0ffeff\",\"regs\":{\"rax\":"
	"\"0x1\",\"rbx\":\"0x20\",\"rcx\":\"0x0\",\"rdx\":\"0xffffffffffffffff\",\"rip\":"
	"\"0x401136\"}}\n";

static void test_json(void)
{
	FILE *f;
	char *buf;
	size_t len;
	struct tsummary *s = tsummary_new();
	unsigned i;

	run(printer_json_new, &f, &buf, &len, NULL, 0, nevs);
	ok(same(buf, want_json), "JSON golden");
	check_json(buf, "lines", "JSON lines parse");
	free(buf);
	for (i = 0; s && i < nevs; i++)
		tsummary_add(s, &evs[i]);
	run(printer_json_new, &f, &buf, &len, s, 0, 0);
	ok(same(buf, "{\"type\":\"summary\",\"func\":\"main\",\"module\":\"prog\",\"calls\":1,"
		     "\"returns\":1,\"total_ns\":30000,\"avg_ns\":30000,\"min_ns\":30000,"
		     "\"max_ns\":30000,\"errors\":1}\n"
		     "{\"type\":\"summary\",\"func\":\"main.work\",\"module\":\"prog\",\"calls\":1,"
		     "\"returns\":1,\"total_ns\":20000,\"avg_ns\":20000,\"min_ns\":20000,"
		     "\"max_ns\":20000,\"errors\":1}\n"
		     "{\"type\":\"summary\",\"func\":\"read\",\"module\":\"prog\",\"calls\":1,"
		     "\"returns\":1,\"total_ns\":12345,\"avg_ns\":12345,\"min_ns\":12345,"
		     "\"max_ns\":12345,\"errors\":0}\n"
		     "{\"type\":\"summary\",\"func\":\"demo\",\"module\":\"prog\",\"calls\":1,"
		     "\"returns\":0,\"total_ns\":0,\"avg_ns\":0,\"min_ns\":0,\"max_ns\":0,"
		     "\"errors\":0}\n"),
	   "JSON summary lines");
	free(buf);
	tsummary_free(s);
}

static const char want_chrome[] =
	"[\n"
	"{\"name\":\"main\",\"cat\":\"prog\",\"ph\":\"B\",\"ts\":10.000,\"pid\":100,\"tid\":100,"
	"\"args\":{\"argc\":1,\"argv\":\"0x7ffd0000\"}},\n"
	"{\"name\":\"read\",\"cat\":\"prog\",\"ph\":\"B\",\"ts\":11.000,\"pid\":100,\"tid\":100,"
	"\"args\":{\"fd\":3,\"buf\":\"ok\\n\",\"n\":2}},\n"
	"{\"name\":\"read\",\"cat\":\"prog\",\"ph\":\"E\",\"ts\":23.345,\"pid\":100,\"tid\":100,"
	"\"args\":{\"ret0\":2}}\n"
	"]\n";

static void test_chrome(void)
{
	FILE *f;
	char *buf;
	size_t len;

	run(printer_chrome_new, &f, &buf, &len, NULL, 0, 3);
	ok(same(buf, want_chrome), "Chrome golden");
	free(buf);
	run(printer_chrome_new, &f, &buf, &len, NULL, 0, nevs);
	check_json(buf, "doc", "Chrome array parses (goid, hit, errors)");
	ok(strstr(buf, "\"ph\":\"i\",\"ts\":80.000,\"pid\":100,\"tid\":102,\"s\":\"t\"") &&
		   strstr(buf, "\"ph\":\"E\",\"ts\":70.000,\"pid\":100,\"tid\":7,") &&
		   strstr(buf, "\"args\":{\"n\":3,\"err\":\"0xc000010000\",\"goid\":7,"
			       "\"os_tid\":101}") &&
		   strstr(buf, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":100,\"tid\":7,"
			       "\"args\":{\"name\":\"goroutine 7\"}}"),
	   "instant event; Go events on the goroutine's track (named once), the OS thread in args");
	free(buf);
	run(printer_chrome_new, &f, &buf, &len, NULL, 0, 0);
	ok(same(buf, "[\n]\n"), "empty trace is an empty array");
	check_json(buf, "doc", "empty array parses");
	free(buf);
}

static char *esc(const char *s, size_t n)
{
	char *buf;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	tevent_json_string(f, (const uint8_t *)s, n);
	fclose(f);
	return buf;
}

#define ESC_IS(in, want, name)                                                                     \
	do {                                                                                       \
		char *e_ = esc(in, sizeof(in) - 1);                                                \
		ok(same(e_, want), name);                                                          \
		free(e_);                                                                          \
	} while (0)

static void test_escape(void)
{
	char all[256], *buf;
	size_t len;
	FILE *f;
	unsigned i, j;

	ESC_IS("a\"b\\c", "\"a\\\"b\\\\c\"", "quote and backslash");
	ESC_IS("\n\t\r\b\f\x01\x1f\x7f", "\"\\n\\t\\r\\b\\f\\u0001\\u001f\x7f\"", "controls");
	ESC_IS("\0x", "\"\\u0000x\"", "NUL kept by length");
	ESC_IS("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
	       "valid 2/3/4-byte UTF-8 kept");
	ESC_IS("\xc0\xaf", "\"\\u00c0\\u00af\"", "overlong escaped bytewise");
	ESC_IS("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"", "surrogate escaped");
	ESC_IS("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"", "above U+10FFFF escaped");
	ESC_IS("\xe2\x82", "\"\\u00e2\\u0082\"", "cut sequence escaped");
	ESC_IS("\xe2\x82x", "\"\\u00e2\\u0082x\"", "interrupted sequence escaped");

	/* every byte, and every pair of bytes, must come out as valid JSON */
	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	f = open_memstream(&buf, &len);
	tevent_json_string(f, (const uint8_t *)all, 256);
	fputc('\n', f);
	for (i = 0x80; i < 256; i += 3)
		for (j = 0; j < 256; j += 5) {
			char two[2] = {(char)i, (char)j};
			tevent_json_string(f, (const uint8_t *)two, 2);
			fputc('\n', f);
		}
	fclose(f);
	check_json(buf, "lines", "all bytes and byte pairs give valid JSON");
	free(buf);
}

static void test_values(void)
{
	struct tvalue v = {.kind = TV_DOUBLE};
	char *buf, dur[32];
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	v.v.d = 0.0 / 0.0;
	tevent_json_value(f, &v);
	fputc(' ', f);
	v.v.d = -1.0 / 0.0;
	tevent_json_value(f, &v);
	fputc(' ', f);
	v.kind = TV_INT;
	v.v.i = INT64_MIN;
	tevent_json_value(f, &v);
	fputc(' ', f);
	v.kind = TV_UINT;
	v.v.u = UINT64_MAX;
	tevent_json_value(f, &v);
	fputc(' ', f);
	v.kind = TV_STR;
	v.v.s.bytes = NULL;
	v.v.s.len = 5;
	tevent_json_value(f, &v);
	fputc(' ', f);
	v.kind = TV_CHAR;
	v.v.u = '\'';
	tevent_text_value(f, &v);
	fclose(f);
	ok(same(buf, "\"nan\" \"-inf\" -9223372036854775808 18446744073709551615 \"\" '\\''"),
	   "edge values");
	free(buf);
	if (have_python)
		ok(json_valid("{\"a\":1}\n{\n", "lines") == 0 && json_valid("[1,\n2]", "doc") == 1,
		   "the JSON checker rejects bad JSON");
	else
		skip("the JSON checker rejects bad JSON", "no python3");
	ok(!strcmp(tevent_format_duration(dur, sizeof(dur), 999), "999 ns") &&
		   !strcmp(tevent_format_duration(dur, sizeof(dur), 1000), "1.0 µs") &&
		   !strcmp(tevent_format_duration(dur, sizeof(dur), 4567890), "4.5 ms") &&
		   !strcmp(tevent_format_duration(dur, sizeof(dur), 61234567890ull), "61.234 s"),
	   "durations");
}

/* ---- OTLP ---- */

static char sunk[1 << 20];
static size_t nsunk;
static unsigned nsinks, sunk_spans;

static void sink(void *ctx, const uint8_t *body, size_t len, unsigned nspans)
{
	(void)ctx;
	if (len < sizeof(sunk) - nsunk) {
		memcpy(sunk + nsunk, body, len);
		nsunk += len;
		sunk[nsunk++] = '\n';
		sunk[nsunk] = 0;
	}
	nsinks++;
	sunk_spans += nspans;
}

static void otlp_feed(bool json)
{
	struct otlp_opts o = {.json = json, .epoch_ns = 1700000000000000000ull, .sink = sink};
	struct printer *p = printer_otlp_new(&o);
	struct tevent ev;
	static const uint8_t bad[] = {'a', 0xff, 'b'};

	nsunk = nsinks = sunk_spans = 0;
	if (!p)
		return;
	tevent_init(&ev, TEVENT_CALL); /* main: never returns (still open at the end) */
	ev.pid = 7, ev.tid = 8, ev.func = "main", ev.exe = "prog", ev.span_id = 1;
	memset(ev.trace_id, 0xab, 16);
	printer_event(p, &ev);
	ev.func = "f", ev.span_id = 2, ev.parent_span_id = 1, ev.time_ns = 100;
	ev.args[0] = (struct tvalue){.name = "s", .kind = TV_STR, .v.s = {bad, 3, false}};
	ev.args[1] = (struct tvalue){.name = "n", .kind = TV_INT, .v.i = -5};
	ev.nargs = 2;
	printer_event(p, &ev);
	ev.type = TEVENT_RETURN, ev.time_ns = 300, ev.nargs = 0, ev.nrets = 1;
	ev.rets[0] = (struct tvalue){.kind = TV_DOUBLE, .v.d = 1.5};
	printer_event(p, &ev);
	ev.type = TEVENT_HIT, ev.func = "here", ev.span_id = 3, ev.nrets = 0, ev.time_ns = 400;
	printer_event(p, &ev);
	printer_end(p, NULL);
	printer_free(p);
}

static void test_otlp(void)
{
	otlp_feed(true);
	check_json(sunk, "lines", "otlp json: valid JSON");
	ok(nsinks == 1 && sunk_spans == 3, "otlp: one request at the end holding the 3 spans");
	ok(strstr(sunk, "\"name\":\"f\",\"kind\":1,\"startTimeUnixNano\":\"1700000000000000100\","
			"\"endTimeUnixNano\":\"1700000000000000300\"") != NULL,
	   "otlp json: f's name, kind and Unix times");
	ok(strstr(sunk, "\"spanId\":\"0000000000000002\",\"parentSpanId\":\"0000000000000001\"") &&
		   strstr(sunk, "\"traceId\":\"abababababababababababababababab\""),
	   "otlp json: ids as hex, the parent's id");
	ok(strstr(sunk, "{\"key\":\"arg.s\",\"value\":{\"stringValue\":\"a\\\\xffb\"}}") != NULL,
	   "otlp json: a byte that is not UTF-8 spelled \\xff (protobuf strings must be UTF-8)");
	ok(strstr(sunk, "{\"key\":\"arg.n\",\"value\":{\"intValue\":\"-5\"}}") &&
		   strstr(sunk, "{\"key\":\"ret.0\",\"value\":{\"doubleValue\":1.5}}"),
	   "otlp json: int64 as a decimal string, a double as a number");
	ok(strstr(sunk,
		  "\"name\":\"main\",\"kind\":1,\"startTimeUnixNano\":\"1700000000000000000\","
		  "\"endTimeUnixNano\":\"1700000000000000400\"") &&
		   strstr(sunk,
			  "{\"key\":\"tracestub.unfinished\",\"value\":{\"boolValue\":true}}") &&
		   !strstr(sunk, "\"status\""),
	   "otlp: a call still open at the end is exported to the last event, marked unfinished, "
	   "not as an error");
	ok(strstr(sunk, "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"prog\"}}") &&
		   strstr(sunk, "{\"key\":\"process.pid\",\"value\":{\"intValue\":\"7\"}}"),
	   "otlp json: the process as the resource");
	otlp_feed(false);
	ok(nsinks == 1 && (uint8_t)sunk[0] == 0x0a && memmem(sunk, nsunk, "arg.s", 5) &&
		   memmem(sunk, nsunk, "tracestub", 9),
	   "otlp protobuf: field 1 (resource_spans) first, the attributes and scope inside");
}

int main(void)
{
	have_python = system("command -v python3 >/dev/null 2>&1") == 0;
	build_events();
	test_text();
	test_json();
	test_chrome();
	test_escape();
	test_values();
	test_otlp();
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
