/* Unit tests for stub/probespec.c: the -e SPEC grammar and condition tests (TAP). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stub/tracer/tracer.h"
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

static struct probespec ps;
static char err[256];

static int parse(const char *s)
{
	return probespec_parse(s, &ps, err, sizeof(err));
}

static void test_targets(void)
{
	ok(parse("main") == 0 && ps.kind == PROBESPEC_FUNC && !strcmp(ps.name, "main") &&
		   !ps.glob && !ps.cond.present,
	   "FUNC");
	ok(parse("  PQ*\t") == 0 && ps.kind == PROBESPEC_GLOB && !strcmp(ps.name, "PQ*") && ps.glob,
	   "glob, blanks trimmed");
	ok(parse("libpq.so.5:PQexec") == 0 && ps.kind == PROBESPEC_MODFUNC &&
		   !strcmp(ps.module, "libpq.so.5") && !strcmp(ps.name, "PQexec") && !ps.glob,
	   "MODULE:FUNC");
	ok(parse("libpq.so.5:PQ[ae]*") == 0 && ps.kind == PROBESPEC_MODFUNC && ps.glob,
	   "MODULE:GLOB");
	ok(parse("demo.c:42") == 0 && ps.kind == PROBESPEC_FILELINE && !strcmp(ps.file, "demo.c") &&
		   ps.line == 42,
	   "FILE:LINE");
	ok(parse("ns::klass::run") == 0 && ps.kind == PROBESPEC_FUNC &&
		   !strcmp(ps.name, "ns::klass::run"),
	   "C++ :: is not a separator");
	ok(parse("libx.so:ns::f") == 0 && ps.kind == PROBESPEC_MODFUNC &&
		   !strcmp(ps.module, "libx.so") && !strcmp(ps.name, "ns::f"),
	   "module with C++ name");
	ok(parse("shop::Cart::add(int, std::string const&) if x == 1") == 0 &&
		   ps.kind == PROBESPEC_FUNC &&
		   !strcmp(ps.name, "shop::Cart::add(int, std::string const&)") && ps.cond.present,
	   "C++ parameter list with blanks, then a condition");
	ok(parse("twice<int>") == 0 && ps.kind == PROBESPEC_FUNC && !strcmp(ps.name, "twice<int>"),
	   "C++ template name");
	ok(parse("f(int ) x") == -EINVAL, "after the parameter list, only a condition");
	ok(parse("main.(*T).Run") == 0 && ps.kind == PROBESPEC_GLOB, "Go method name is a glob");
	ok(parse("*0x401000") == 0 && ps.kind == PROBESPEC_ADDR && ps.addr == 0x401000,
	   "*ADDR hex");
	ok(parse("*4198400") == 0 && ps.kind == PROBESPEC_ADDR && ps.addr == 4198400,
	   "*ADDR decimal");
	ok(parse("*0xffffffffffffffff") == 0 && ps.addr == UINT64_MAX, "*ADDR max");
	ok(parse("*_init") == 0 && ps.kind == PROBESPEC_GLOB, "*name is a glob");
}

static void test_bad(void)
{
	ok(parse("") == -EINVAL && !strcmp(err, "empty probe spec"), "empty");
	ok(parse("   ") == -EINVAL && !strcmp(err, "empty probe spec"), "blank");
	ok(probespec_parse(NULL, &ps, err, sizeof(err)) == -EINVAL, "NULL");
	ok(parse("*0x10000000000000000") == -EINVAL &&
		   !strcmp(err, "address '0x10000000000000000' out of range"),
	   "address overflow");
	ok(parse("*0x12g") == -EINVAL && !strcmp(err, "bad address '0x12g'"), "bad address");
	ok(parse("*0x") == -EINVAL, "bare 0x");
	ok(parse("f.c:0") == -EINVAL && !strcmp(err, "bad line number '0'"), "line 0");
	ok(parse("f.c:99999999999") == -EINVAL, "line overflow");
	ok(parse(":f") == -EINVAL && !strcmp(err, "missing module or file before ':'"),
	   "missing module");
	ok(parse("lib.so:") == -EINVAL && !strcmp(err, "missing function or line after ':'"),
	   "missing func");
	ok(parse("a:b:c") == -EINVAL, "two separators");
	ok(parse("f[ab") == -EINVAL && !strcmp(err, "unclosed '[' in pattern 'f[ab'"),
	   "unclosed bracket");
	ok(parse("main extra") == -EINVAL &&
		   !strcmp(err, "unexpected 'extra' after probe (want 'if ARG OP VALUE')"),
	   "trailing garbage");
	ok(parse("main if") == -EINVAL, "if without condition");
	ok(parse("main if x") == -EINVAL &&
		   !strcmp(err, "unknown operator in condition (use == != < <= > >=)"),
	   "missing operator");
	ok(parse("main if x = 1") == -EINVAL, "single = rejected");
	ok(parse("main if x === 1") == -EINVAL, "=== rejected");
	ok(parse("main if x <> 1") == -EINVAL, "<> rejected");
	ok(parse("main if x ==") == -EINVAL && !strcmp(err, "missing value in condition"),
	   "missing value");
	ok(parse("main if x == 12z") == -EINVAL && !strcmp(err, "bad condition value '12z'"),
	   "bad number");
	ok(parse("main if x == 18446744073709551616") == -EINVAL, "value overflow");
	ok(parse("main if x == -9223372036854775809") == -EINVAL, "negative overflow");
	ok(parse("main if x == \"abc") == -EINVAL &&
		   !strcmp(err, "unterminated string in condition"),
	   "unterminated string");
	ok(parse("main if x == \"a\" b") == -EINVAL, "garbage after string");
	ok(parse("main if x == \"\\q\"") == -EINVAL, "unknown escape");
	ok(parse("main if x == \"\\x4\"") == -EINVAL, "short \\x escape");
	ok(parse("main if == 1") == -EINVAL, "missing arg name");
	ok(parse("main if x == 1 2") == -EINVAL, "two values");
	ok(parse("f\x01") == -EINVAL, "control char in name");
	ok(probespec_parse("", &ps, NULL, 0) == -EINVAL, "NULL err buffer");
}

static void test_cond_parse(void)
{
	ok(parse("read if fd == 3") == 0 && ps.kind == PROBESPEC_FUNC && ps.cond.present &&
		   !strcmp(ps.cond.arg, "fd") && ps.cond.argno == -1 &&
		   ps.cond.op == PROBESPEC_EQ && !ps.cond.is_str && !ps.cond.negative &&
		   ps.cond.mag == 3,
	   "name == dec");
	ok(parse("read if arg2>=0x10") == 0 && ps.cond.argno == 2 && ps.cond.op == PROBESPEC_GE &&
		   ps.cond.mag == 16,
	   "arg2 >= hex, no blanks");
	ok(parse("f if arg6 != -5") == 0 && ps.cond.argno == -1 && ps.cond.op == PROBESPEC_NE &&
		   ps.cond.negative && ps.cond.mag == 5,
	   "arg6 is a name; negative");
	ok(parse("f if x < -9223372036854775808") == 0 && ps.cond.negative &&
		   ps.cond.mag == (uint64_t)INT64_MAX + 1 && ps.cond.op == PROBESPEC_LT,
	   "INT64_MIN");
	ok(parse("f if x <= 18446744073709551615") == 0 && ps.cond.mag == UINT64_MAX &&
		   ps.cond.op == PROBESPEC_LE,
	   "UINT64_MAX");
	ok(parse("f if x > -0") == 0 && !ps.cond.negative && ps.cond.op == PROBESPEC_GT, "-0 is 0");
	ok(parse("PQexec if query == \"SELECT 1\\n\\x00\\\"\"") == 0 && ps.cond.is_str &&
		   ps.cond.str_len == 11 && !memcmp(ps.cond.str, "SELECT 1\n\0\"", 11),
	   "string with escapes");
	ok(parse("f.c:10 if arg0 == 1") == 0 && ps.kind == PROBESPEC_FILELINE && ps.cond.present,
	   "condition on FILE:LINE");
}

static struct tvalue ival(int64_t i)
{
	struct tvalue v = {.kind = TV_INT};
	v.v.i = i;
	return v;
}

static struct tvalue uval(uint64_t u)
{
	struct tvalue v = {.kind = TV_UINT};
	v.v.u = u;
	return v;
}

static struct tvalue sval(const char *s, size_t len, bool trunc)
{
	struct tvalue v = {.kind = TV_STR};
	v.v.s.bytes = (const uint8_t *)s;
	v.v.s.len = len;
	v.v.s.truncated = trunc;
	return v;
}

static bool m(const char *spec, struct tvalue v)
{
	if (probespec_parse(spec, &ps, err, sizeof(err)))
		return false;
	return probespec_cond_matches(&ps.cond, &v);
}

static void test_cond_eval(void)
{
	struct tvalue args[3];
	struct tvalue d = {.kind = TV_DOUBLE}, un = {.kind = TV_UNAVAILABLE};

	ok(m("f if x == 3", ival(3)) && !m("f if x == 3", ival(4)), "int ==");
	ok(m("f if x < 0", ival(-1)) && !m("f if x < 0", ival(0)), "int < 0");
	ok(m("f if x > -2", ival(-1)) && !m("f if x > -2", ival(-3)), "negative compare");
	ok(!m("f if x == -1", uval(UINT64_MAX)) && m("f if x > -1", uval(0)),
	   "uint never equals a negative");
	ok(m("f if x == 0xffffffffffffffff", uval(UINT64_MAX)) &&
		   !m("f if x == 0xffffffffffffffff", ival(-1)),
	   "uint max vs -1 as int");
	ok(m("f if x <= -9223372036854775808", ival(INT64_MIN)), "INT64_MIN <=");
	ok(m("f if x != 5", ival(4)) && m("f if x >= 5", ival(5)) && !m("f if x > 5", ival(5)),
	   "!= >= >");
	d.v.d = 2.5;
	ok(m("f if x > 2", d) && !m("f if x >= 3", d), "double vs int");
	d.v.d = 0.0 / 0.0;
	ok(!m("f if x == 0", d) && m("f if x != 0", d), "NaN");
	ok(!m("f if x == 0", un) && !m("f if x != 0", un), "unavailable never matches");
	ok(m("f if s == \"ok\"", sval("ok", 2, false)) &&
		   !m("f if s == \"ok\"", sval("oka", 3, false)),
	   "string ==");
	ok(!m("f if s == 1", sval("1", 1, false)) && !m("f if s == \"1\"", ival(1)),
	   "string vs number is false");
	ok(m("f if s < \"b\"", sval("abc", 3, false)) &&
		   m("f if s > \"ab\"", sval("abc", 3, false)),
	   "string order");
	ok(m("f if s != \"ab\"", sval("ab", 2, true)) &&
		   !m("f if s == \"ab\"", sval("ab", 2, true)),
	   "truncated longer than value");
	ok(!m("f if s == \"abc\"", sval("ab", 2, true)) &&
		   !m("f if s != \"abc\"", sval("ab", 2, true)),
	   "truncated undecidable is false");
	ok(m("f if s == \"a\\x00b\"", sval("a\0b", 3, false)), "NUL inside string");
	ok(parse("main") == 0 && probespec_cond_matches(&ps.cond, NULL), "no condition is true");

	args[0] = ival(1);
	args[0].name = "fd";
	args[1] = ival(2);
	args[1].name = "n";
	args[2] = ival(3);
	args[2].name = NULL;
	ok(parse("f if n == 2") == 0 && probespec_cond_arg(&ps.cond, args, 3) == &args[1],
	   "arg by name");
	ok(parse("f if arg2 == 2") == 0 && probespec_cond_arg(&ps.cond, args, 3) == &args[2] &&
		   probespec_cond_arg(&ps.cond, args, 2) == NULL,
	   "arg by position");
	ok(parse("f if zz == 2") == 0 && probespec_cond_arg(&ps.cond, args, 3) == NULL,
	   "unknown name");
}

static void test_match(void)
{
	ok(parse("PQ*") == 0 && probespec_name_matches(&ps, "PQexec") &&
		   !probespec_name_matches(&ps, "xPQ"),
	   "glob match");
	ok(parse("lib.so:foo") == 0 && probespec_name_matches(&ps, "foo") &&
		   !probespec_name_matches(&ps, "foo2"),
	   "exact match");
	ok(parse("a.c:3") == 0 && !probespec_name_matches(&ps, "a.c"),
	   "FILE:LINE never name-matches");
}

int main(void)
{
	test_targets();
	test_bad();
	test_cond_parse();
	test_cond_eval();
	test_match();
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
