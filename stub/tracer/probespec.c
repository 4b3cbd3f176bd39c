/* Parser for one `-e SPEC` and the condition test. Strict: anything not in the grammar of
 * probespec.h is -EINVAL with a reason; pure: no malloc, no globals, no process access. */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stub/tracer/tracer.h"
#include "stub/print/print.h"

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errcap, const char *fmt,
						      ...)
{
	va_list ap;

	if (err && errcap) {
		va_start(ap, fmt);
		vsnprintf(err, errcap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decimal or 0x hex, the whole of (s, len), no sign. 0 or -EINVAL (empty, garbage) or
 * -ERANGE (overflow). */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	size_t i = 0;
	int d;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i >= len)
		return -EINVAL;
	for (; i < len; i++) {
		d = base == 16 ? hex_digit(s[i]) : (is_digit(s[i]) ? s[i] - '0' : -1);
		if (d < 0)
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -ERANGE;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int copy_field(char *dst, const char *s, size_t len, const char *what, char *err,
		      size_t errcap)
{
	if (len >= PROBESPEC_NAME_MAX)
		return fail(err, errcap, "%s too long (max %d bytes)", what,
			    PROBESPEC_NAME_MAX - 1);
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* A function name or glob: no control characters, brackets closed. */
static int check_func(const char *s, size_t len, bool *glob, char *err, size_t errcap)
{
	size_t i, j;

	*glob = false;
	if (!len)
		return fail(err, errcap, "missing function name");
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(err, errcap, "control character in function name");
		if (s[i] == '*' || s[i] == '?')
			*glob = true;
		if (s[i] == '[') {
			*glob = true;
			/* fnmatch: ']' right after '[' (or "[!") is literal */
			j = i + 1;
			if (j < len && s[j] == '!')
				j++;
			if (j < len && s[j] == ']')
				j++;
			while (j < len && s[j] != ']')
				j++;
			if (j >= len)
				return fail(err, errcap, "unclosed '[' in pattern '%.*s'", (int)len,
					    s);
			i = j;
		}
	}
	return 0;
}

/* First single ':' (not part of "::"), or len when none. */
static size_t find_sep(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != ':')
			continue;
		if (i + 1 < len && s[i + 1] == ':') {
			i++;
			continue;
		}
		return i;
	}
	return len;
}

static int parse_target(const char *s, size_t len, struct probespec *out, char *err, size_t errcap)
{
	size_t sep, i;
	uint64_t v;
	int r;

	if (s[0] == '*' && len > 1 && is_digit(s[1])) {
		r = parse_u64(s + 1, len - 1, &v);
		if (r == -ERANGE)
			return fail(err, errcap, "address '%.*s' out of range", (int)len - 1,
				    s + 1);
		if (r)
			return fail(err, errcap, "bad address '%.*s'", (int)len - 1, s + 1);
		out->kind = PROBESPEC_ADDR;
		out->addr = v;
		return 0;
	}
	sep = find_sep(s, len);
	if (sep == len) {
		r = check_func(s, len, &out->glob, err, errcap);
		if (r)
			return r;
		out->kind = out->glob ? PROBESPEC_GLOB : PROBESPEC_FUNC;
		return copy_field(out->name, s, len, "function name", err, errcap);
	}
	if (!sep)
		return fail(err, errcap, "missing module or file before ':'");
	if (sep + 1 == len)
		return fail(err, errcap, "missing function or line after ':'");
	for (i = sep + 1; i < len && is_digit(s[i]); i++)
		;
	if (i == len) {
		r = parse_u64(s + sep + 1, len - sep - 1, &v);
		if (r || v == 0 || v > INT32_MAX)
			return fail(err, errcap, "bad line number '%.*s'", (int)(len - sep - 1),
				    s + sep + 1);
		out->kind = PROBESPEC_FILELINE;
		out->line = (unsigned)v;
		return copy_field(out->file, s, sep, "file name", err, errcap);
	}
	if (find_sep(s + sep + 1, len - sep - 1) != len - sep - 1)
		return fail(err, errcap, "more than one ':' in '%.*s'", (int)len, s);
	r = check_func(s + sep + 1, len - sep - 1, &out->glob, err, errcap);
	if (r)
		return r;
	out->kind = PROBESPEC_MODFUNC;
	r = copy_field(out->module, s, sep, "module name", err, errcap);
	if (r)
		return r;
	return copy_field(out->name, s + sep + 1, len - sep - 1, "function name", err, errcap);
}

static int parse_str_value(const char *s, struct probespec_cond *c, char *err, size_t errcap)
{
	size_t i = 1;
	uint8_t b;
	int hi, lo;

	c->is_str = true;
	c->str_len = 0;
	for (;;) {
		if (!s[i])
			return fail(err, errcap, "unterminated string in condition");
		if (s[i] == '"')
			break;
		b = (uint8_t)s[i++];
		if (b == '\\') {
			switch (s[i]) {
			case '\\':
			case '"':
				b = (uint8_t)s[i];
				break;
			case 'n':
				b = '\n';
				break;
			case 't':
				b = '\t';
				break;
			case 'r':
				b = '\r';
				break;
			case '0':
				b = 0;
				break;
			case 'x':
				hi = s[i + 1] ? hex_digit(s[i + 1]) : -1;
				lo = hi >= 0 && s[i + 2] ? hex_digit(s[i + 2]) : -1;
				if (lo < 0)
					return fail(err, errcap,
						    "bad \\x escape in condition string");
				b = (uint8_t)(hi << 4 | lo);
				i += 2;
				break;
			default:
				return fail(err, errcap, "unknown escape in condition string");
			}
			i++;
		}
		if (c->str_len >= PROBESPEC_STR_MAX)
			return fail(err, errcap, "condition string too long (max %d bytes)",
				    PROBESPEC_STR_MAX);
		c->str[c->str_len++] = b;
	}
	if (s[i + 1])
		return fail(err, errcap, "trailing text after condition string");
	return 0;
}

static int parse_int_value(const char *s, struct probespec_cond *c, char *err, size_t errcap)
{
	size_t len = strlen(s);
	int r;

	c->negative = s[0] == '-';
	r = parse_u64(s + c->negative, len - c->negative, &c->mag);
	if (r == -ERANGE || (!r && c->negative && c->mag > (uint64_t)INT64_MAX + 1))
		return fail(err, errcap, "condition value '%s' out of range", s);
	if (r)
		return fail(err, errcap, "bad condition value '%s'", s);
	if (!c->mag)
		c->negative = false;
	return 0;
}

static const struct {
	const char *text;
	enum probespec_op op;
} ops[] = {
	{"==", PROBESPEC_EQ}, {"!=", PROBESPEC_NE}, {"<=", PROBESPEC_LE},
	{">=", PROBESPEC_GE}, {"<", PROBESPEC_LT},  {">", PROBESPEC_GT},
};

/* s: after "if" and its blanks, blanks trimmed at the end by the caller. */
static int parse_cond(const char *s, struct probespec_cond *c, char *err, size_t errcap)
{
	size_t n = 0, i;
	int r;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || s[n] == '_' ||
	       (n && is_digit(s[n])))
		n++;
	if (!n)
		return fail(err, errcap, "missing argument name after 'if'");
	r = copy_field(c->arg, s, n, "argument name", err, errcap);
	if (r)
		return r;
	c->argno = -1;
	if (n == 4 && !memcmp(s, "arg", 3) && s[3] >= '0' && s[3] <= '5')
		c->argno = s[3] - '0';
	s += n;
	while (is_blank(*s))
		s++;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strncmp(s, ops[i].text, strlen(ops[i].text)))
			break;
	if (i == sizeof(ops) / sizeof(ops[0]) || s[strlen(ops[i].text)] == '=' ||
	    s[strlen(ops[i].text)] == '<' || s[strlen(ops[i].text)] == '>' ||
	    s[strlen(ops[i].text)] == '!')
		return fail(err, errcap, "unknown operator in condition (use == != < <= > >=)");
	c->op = ops[i].op;
	s += strlen(ops[i].text);
	while (is_blank(*s))
		s++;
	if (!*s)
		return fail(err, errcap, "missing value in condition");
	c->present = true;
	if (*s == '"')
		return parse_str_value(s, c, err, errcap);
	return parse_int_value(s, c, err, errcap);
}

int probespec_parse(const char *spec, struct probespec *out, char *err, size_t errcap)
{
	char cond[2 * PROBESPEC_NAME_MAX + 4 * PROBESPEC_STR_MAX];
	size_t start = 0, end, tlen, clen;
	const char *rest;
	int depth;

	memset(out, 0, sizeof(*out));
	if (err && errcap)
		err[0] = '\0';
	if (!spec)
		return fail(err, errcap, "empty probe spec");
	end = strlen(spec);
	while (start < end && is_blank(spec[start]))
		start++;
	while (end > start && is_blank(spec[end - 1]))
		end--;
	if (start == end)
		return fail(err, errcap, "empty probe spec");
	/* The target ends at a blank outside parentheses: a C++ parameter list may hold
	 * spaces ("add(int, std::string const&)"). */
	for (tlen = 0, depth = 0; start + tlen < end && (depth || !is_blank(spec[start + tlen]));
	     tlen++)
		depth += spec[start + tlen] == '('	      ? 1
			 : spec[start + tlen] == ')' && depth ? -1
							      : 0;
	if (parse_target(spec + start, tlen, out, err, errcap))
		return -EINVAL;
	if (start + tlen == end)
		return 0;
	rest = spec + start + tlen;
	while (is_blank(*rest))
		rest++;
	if (strncmp(rest, "if", 2) || !is_blank(rest[2]))
		return fail(err, errcap, "unexpected '%.*s' after probe (want 'if ARG OP VALUE')",
			    (int)(spec + end - rest), rest);
	rest += 3;
	while (is_blank(*rest))
		rest++;
	clen = (size_t)(spec + end - rest);
	if (clen >= sizeof(cond))
		return fail(err, errcap, "condition too long");
	memcpy(cond, rest, clen);
	cond[clen] = '\0';
	return parse_cond(cond, &out->cond, err, errcap);
}

bool probespec_name_matches(const struct probespec *ps, const char *name)
{
	if (ps->kind != PROBESPEC_FUNC && ps->kind != PROBESPEC_GLOB &&
	    ps->kind != PROBESPEC_MODFUNC)
		return false;
	if (ps->glob)
		return fnmatch(ps->name, name, 0) == 0;
	return strcmp(ps->name, name) == 0;
}

static bool op_holds(enum probespec_op op, int cmp)
{
	switch (op) {
	case PROBESPEC_EQ:
		return cmp == 0;
	case PROBESPEC_NE:
		return cmp != 0;
	case PROBESPEC_LT:
		return cmp < 0;
	case PROBESPEC_LE:
		return cmp <= 0;
	case PROBESPEC_GT:
		return cmp > 0;
	case PROBESPEC_GE:
		return cmp >= 0;
	}
	return false;
}

static int cmp_int(bool aneg, uint64_t amag, bool bneg, uint64_t bmag)
{
	if (aneg != bneg)
		return aneg ? -1 : 1;
	if (amag == bmag)
		return 0;
	return (amag < bmag) != aneg ? -1 : 1;
}

static bool str_matches(const struct probespec_cond *c, const struct tvalue *v)
{
	size_t vlen = v->v.s.bytes ? v->v.s.len : 0;
	size_t n = vlen < c->str_len ? vlen : c->str_len;
	int cmp = n ? memcmp(v->v.s.bytes, c->str, n) : 0;

	if (cmp)
		return op_holds(c->op, cmp);
	if (!v->v.s.truncated)
		return op_holds(c->op, vlen < c->str_len ? -1 : vlen > c->str_len ? 1 : 0);
	/* The real string is longer than vlen: decidable only when c->str fits within vlen
	 * (the value is then greater). */
	if (c->str_len <= vlen)
		return op_holds(c->op, 1);
	return false;
}

bool probespec_cond_matches(const struct probespec_cond *c, const struct tvalue *v)
{
	long double cv, d;

	if (!c->present)
		return true;
	if (!v)
		return false;
	if (c->is_str)
		return v->kind == TV_STR && str_matches(c, v);
	switch (v->kind) {
	case TV_INT:
		return op_holds(c->op, cmp_int(v->v.i < 0,
					       v->v.i < 0 ? 0 - (uint64_t)v->v.i : (uint64_t)v->v.i,
					       c->negative, c->mag));
	case TV_UINT:
	case TV_CHAR:
	case TV_PTR:
		return op_holds(c->op, cmp_int(false, v->v.u, c->negative, c->mag));
	case TV_BOOL:
		return op_holds(c->op, cmp_int(false, v->v.b, c->negative, c->mag));
	case TV_FLOAT:
	case TV_DOUBLE:
		d = v->v.d;
		cv = c->negative ? -(long double)c->mag : (long double)c->mag;
		if (d != d)
			return c->op == PROBESPEC_NE;
		return op_holds(c->op, d < cv ? -1 : d > cv ? 1 : 0);
	default:
		return false;
	}
}

const struct tvalue *probespec_cond_arg(const struct probespec_cond *c, const struct tvalue *args,
					unsigned nargs)
{
	unsigned i;

	if (c->argno >= 0)
		return (unsigned)c->argno < nargs ? &args[c->argno] : NULL;
	for (i = 0; i < nargs; i++)
		if (args[i].name && !strcmp(args[i].name, c->arg))
			return &args[i];
	return NULL;
}
