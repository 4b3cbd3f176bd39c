/* Unit tests for stub/summary.c: per-function stats, the sorted table, the live line (TAP). */
#include <errno.h>
#include <stdio.h>
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

static struct tevent ev;

static int call(struct tsummary *s, const char *mod, const char *func)
{
	tevent_init(&ev, TEVENT_CALL);
	ev.func = func;
	ev.module = mod;
	return tsummary_add(s, &ev);
}

static int ret_int(struct tsummary *s, const char *mod, const char *func, uint64_t dur, int64_t r)
{
	tevent_init(&ev, TEVENT_RETURN);
	ev.func = func;
	ev.module = mod;
	ev.duration_ns = dur;
	ev.nrets = 1;
	ev.rets[0].kind = TV_INT;
	ev.rets[0].v.i = r;
	return tsummary_add(s, &ev);
}

static void test_stats(void)
{
	struct tsummary *s = tsummary_new();
	const struct tsummary_entry *e, *rows[8];
	size_t n;

	if (!s) {
		ok(0, "tsummary_new");
		return;
	}
	call(s, "prog", "read");
	ret_int(s, "prog", "read", 3000, 5);
	call(s, "prog", "read");
	ret_int(s, "prog", "read", 1000, -1);
	call(s, "prog", "read");
	ret_int(s, "prog", "read", 2000, 0);
	e = tsummary_find(s, "prog", "read");
	ok(e && e->calls == 3 && e->returns == 3 && e->total_ns == 6000 && e->min_ns == 1000 &&
		   e->max_ns == 3000 && e->errors == 1,
	   "calls, total, min, max, negative int is an error");
	call(s, "libc.so.6", "read");
	ok(tsummary_find(s, "libc.so.6", "read") != e && s->used == 2,
	   "same name in two modules kept apart");
	ok(tsummary_find(s, "prog", "write") == NULL, "absent function");

	/* Go: (n int, err error) with a non-nil error */
	tevent_init(&ev, TEVENT_RETURN);
	ev.func = "main.work";
	ev.duration_ns = 10000;
	ev.nrets = 2;
	ev.rets[0].kind = TV_INT;
	ev.rets[0].v.i = 3;
	ev.rets[1].kind = TV_PTR;
	ev.rets[1].go_error = true;
	ev.rets[1].v.u = 0xc000010000;
	tsummary_add(s, &ev);
	ev.rets[1].v.u = 0;
	tsummary_add(s, &ev);
	e = tsummary_find(s, NULL, "main.work");
	ok(e && e->errors == 1 && e->returns == 2 && e->calls == 0,
	   "Go non-nil error counted once");
	ret_int(s, "prog", "f", 100, 0);
	tevent_init(&ev, TEVENT_RETURN);
	ev.func = "g";
	ev.nrets = 1;
	ev.rets[0].kind = TV_UINT;
	ev.rets[0].v.u = UINT64_MAX;
	tsummary_add(s, &ev);
	ok(tsummary_find(s, NULL, "g")->errors == 0, "unsigned result never an error");

	n = tsummary_sorted(s, rows, 8);
	ok(n == 5 && !strcmp(rows[0]->func, "main.work") && !strcmp(rows[1]->func, "read") &&
		   !strcmp(rows[2]->func, "f") && !strcmp(rows[3]->func, "read") &&
		   !strcmp(rows[3]->module, "libc.so.6") && !strcmp(rows[4]->func, "g"),
	   "sorted by total, then calls, then name");
	ok(tsummary_sorted(s, rows, 2) == 2, "sorted respects cap");
	tsummary_free(s);
}

static void test_print(void)
{
	struct tsummary *s = tsummary_new();
	char buf[2048] = {0};
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
	char live[128];

	if (!s || !f) {
		ok(0, "setup");
		return;
	}
	call(s, "prog", "read");
	ret_int(s, "prog", "read", 12345, -1);
	call(s, "prog", "read");
	ret_int(s, "prog", "read", 2000000, 0);
	call(s, NULL, "main");
	tsummary_print(s, f);
	fclose(f);
	ok(!strcmp(buf,
		   "function                         module              calls        total "
		   "         avg          min          max  errors\n"
		   "read                             prog                    2       2.0 ms    "
		   "   1.0 ms      12.3 µs       2.0 ms       1\n"
		   "main                             -                       1            -    "
		   "        -            -            -       0\n"),
	   "table bytes");
	if (failed)
		fprintf(stderr, "%s", buf);
	ok(tsummary_format_live(s, 12345678901ull, live, sizeof(live)) > 0 &&
		   !strcmp(live, "12.3 s  3 calls  1 errors  2 functions"),
	   "live counter line");
	tsummary_free(s);
}

static void test_full(void)
{
	struct tsummary *s = tsummary_new();
	char name[32], live[128];
	int i, r = 0;

	if (!s) {
		ok(0, "tsummary_new");
		return;
	}
	for (i = 0; i < TSUMMARY_SLOTS - 1; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		r |= call(s, NULL, name);
	}
	ok(r == 0 && s->used == TSUMMARY_SLOTS - 1, "fills to capacity - 1");
	ok(call(s, NULL, "one_more") == -ENOSPC && s->dropped == 1,
	   "new function dropped when full");
	ok(call(s, NULL, "f7") == 0 && tsummary_find(s, NULL, "f7")->calls == 2,
	   "known function still counted when full");
	tsummary_format_live(s, 0, live, sizeof(live));
	ok(!strcmp(live, "0.0 s  4096 calls  0 errors  4095 functions  1 dropped"),
	   "live line shows dropped");
	tsummary_free(s);
}

static void test_long_names(void)
{
	struct tsummary s;
	char longname[300];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	tsummary_init(&s);
	call(&s, NULL, longname);
	call(&s, NULL, longname);
	ok(s.used == 1 && tsummary_find(&s, NULL, longname)->calls == 2 &&
		   strlen(tsummary_find(&s, NULL, longname)->func) == TSUMMARY_FUNC_MAX - 1,
	   "long names cut consistently");
	tevent_init(&ev, TEVENT_CALL);
	tsummary_add(&s, &ev);
	ok(tsummary_find(&s, NULL, "?") != NULL, "NULL func counted as ?");
}

/* The hints by the names' addresses: a buffer reused for another name, the same name from
 * another buffer, a name longer than an entry keeps. */
static void test_hints(void)
{
	struct tsummary *s = tsummary_new();
	char name[200], mod[16] = "prog", other[16] = "prog";
	const struct tsummary_entry *e;

	if (!s) {
		ok(0, "tsummary_new");
		return;
	}
	strcpy(name, "first");
	call(s, mod, name);
	call(s, mod, name);
	strcpy(name, "second"); /* the same address, another function */
	call(s, mod, name);
	e = tsummary_find(s, "prog", "first");
	ok(e && e->calls == 2, "a reused buffer: the first name keeps its 2 calls");
	e = tsummary_find(s, "prog", "second");
	ok(e && e->calls == 1, "and the new name gets its own entry");
	call(s, other, "second"); /* another buffer, the same names */
	ok(e && e->calls == 2 && s->used == 2, "the same names from other buffers: one entry");
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	for (int i = 0; i < 3; i++)
		call(s, mod, name);
	ok(s->used == 3 && s->calls == 7, "a name longer than an entry keeps: one entry, 3 calls");
	tsummary_free(s);
}

int main(void)
{
	test_stats();
	test_print();
	test_full();
	test_long_names();
	test_hints();
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
