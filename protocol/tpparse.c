/* Parsers for tracepoint definitions, actions, sources, trace state variables and the trace
 * status (tpparse.h). Strict: every number must be hex, every separator present, every
 * bytecode verified; nothing malformed is turned into a default. Never allocates except
 * through ax_verify's work arrays (definition time only). */
#include "protocol/tpparse.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "protocol/ax.h"
#include "protocol/hex.h"

struct cur {
	const uint8_t *p, *end;
	const char **why;
};

static int bad(struct cur *c, const char *why)
{
	if (c->why)
		*c->why = why;
	return -EINVAL;
}

static bool at(const struct cur *c, uint8_t ch)
{
	return c->p < c->end && *c->p == ch;
}

static int expect(struct cur *c, uint8_t ch, const char *why)
{
	if (!at(c, ch))
		return bad(c, why);
	c->p++;
	return 0;
}

static int hex_u64(struct cur *c, uint64_t *v, const char *why)
{
	int rc = rsp_hex_scan_u64(&c->p, c->end, v);
	if (rc == -EINVAL)
		return bad(c, why);
	return rc;
}

static int hex_u32(struct cur *c, uint32_t *v, const char *why)
{
	uint64_t x;
	int rc = hex_u64(c, &x, why);
	if (rc)
		return rc;
	if (x > UINT32_MAX)
		return -ERANGE;
	*v = (uint32_t)x;
	return 0;
}

/* "<num>:<addr>:" shared by every definition form. */
static int num_addr(struct cur *c, uint32_t *num, taddr_t *addr)
{
	int rc = hex_u32(c, num, "bad tracepoint number");
	if (!rc)
		rc = expect(c, ':', "missing ':' after number");
	if (!rc)
		rc = hex_u64(c, addr, "bad address");
	if (!rc)
		rc = expect(c, ':', "missing ':' after address");
	return rc;
}

static uint8_t *work_take(struct rsp_tp_work *w, size_t n)
{
	if (n > w->cap - w->used)
		return NULL;
	w->used += n;
	return w->mem + w->used - n;
}

/* Decode n hex chars into the work area. */
static int work_hex(struct cur *c, struct rsp_tp_work *w, const uint8_t *hex, size_t n,
		    const uint8_t **out, size_t *out_len)
{
	uint8_t *dst = work_take(w, n / 2);
	if (!dst)
		return -ENOSPC;
	if (rsp_hex_decode(hex, n, dst, n / 2, out_len))
		return bad(c, "bad hex");
	*out = dst;
	return 0;
}

/* Copy n raw bytes (or decode 2n hex chars) as a NUL-terminated string; NULs refused. */
static int work_str(struct cur *c, struct rsp_tp_work *w, const uint8_t *in, size_t n, bool hex,
		    const char **out)
{
	size_t len = hex ? n / 2 : n;
	uint8_t *dst = work_take(w, len + 1);
	if (!dst)
		return -ENOSPC;
	if (hex && rsp_hex_decode(in, n, dst, len, &len))
		return bad(c, "bad hex");
	if (!hex)
		memcpy(dst, in, n);
	if (memchr(dst, 0, len))
		return bad(c, "NUL in text");
	dst[len] = 0;
	*out = (const char *)dst;
	return 0;
}

/* "<len>,<2*len hex>" of an agent expression, decoded and verified. */
static int bytecode(struct cur *c, struct rsp_tp_work *w, const uint8_t **code, size_t *n)
{
	struct ax_verify_info vi;
	uint64_t len;
	int rc = hex_u64(c, &len, "bad bytecode length");

	if (!rc)
		rc = expect(c, ',', "missing ',' after bytecode length");
	if (rc)
		return rc;
	if (len > (uint64_t)(c->end - c->p) / 2)
		return bad(c, "bytecode shorter than its length");
	rc = work_hex(c, w, c->p, 2 * (size_t)len, code, n);
	if (rc)
		return rc;
	c->p += 2 * len;
	if (ax_verify(*code, *n, &vi) != AX_OK)
		return bad(c, vi.reason);
	return 0;
}

static int def_option(struct cur *c, struct rsp_tp_def *def, struct rsp_tp_work *w)
{
	uint32_t flen = 0;
	int rc;

	if (c->p == c->end)
		return bad(c, "empty tracepoint option");
	switch (*c->p++) {
	case 'F':
		rc = hex_u32(c, &flen, "bad fast tracepoint length");
		def->fast = true;
		def->fast_len = flen;
		return rc;
	case 'S':
		def->is_static = true;
		return 0;
	case 'X':
		return bytecode(c, w, &def->cond, &def->cond_len);
	default:
		return bad(c, "unknown tracepoint option");
	}
}

int rsp_tpparse_def(const uint8_t *p, size_t len, struct rsp_tp_def *def, bool *more,
		    struct rsp_tp_work *w, const char **why)
{
	struct cur c = {p, p + len, why};
	int rc;

	memset(def, 0, sizeof(*def));
	if (more)
		*more = false;
	rc = num_addr(&c, &def->num, &def->addr);
	if (rc)
		return rc;
	if (at(&c, 'E') || at(&c, 'D'))
		def->enabled = *c.p++ == 'E';
	else
		return bad(&c, "expected E or D");
	rc = expect(&c, ':', "missing ':' after E/D");
	if (!rc)
		rc = hex_u64(&c, &def->step_count, "bad step count");
	if (!rc)
		rc = expect(&c, ':', "missing pass count");
	if (!rc)
		rc = hex_u64(&c, &def->pass_count, "bad pass count");
	while (!rc && at(&c, ':')) {
		c.p++;
		rc = def_option(&c, def, w);
	}
	if (rc)
		return rc;
	if (at(&c, '-')) {
		c.p++;
		if (more)
			*more = true;
	}
	return c.p == c.end ? 0 : bad(&c, "junk after tracepoint definition");
}

/* Big-endian hex of any length: the last digit holds registers 0..3. */
static int reg_mask(struct cur *c, uint8_t *mask)
{
	const uint8_t *start = c->p;
	while (c->p < c->end && rsp_hex_val(*c->p) >= 0)
		c->p++;
	if (c->p == start)
		return bad(c, "empty register mask");
	for (size_t i = 0; i < (size_t)(c->p - start); i++) {
		unsigned v = (unsigned)rsp_hex_val(c->p[-1 - (ptrdiff_t)i]);
		if (!v)
			continue;
		if (i / 2 >= RSP_TP_MASK_BYTES)
			return bad(c, "register number beyond the mask");
		mask[i / 2] |= (uint8_t)(v << (i % 2 * 4));
	}
	return 0;
}

static int mem_action(struct cur *c, struct rsp_tp_action *a)
{
	int rc = rsp_hex_scan_i64(&c->p, c->end, &a->basereg);
	if (rc)
		return rc == -EINVAL ? bad(c, "bad base register") : rc;
	rc = expect(c, ',', "missing ',' after base register");
	if (!rc)
		rc = hex_u64(c, &a->offset, "bad offset");
	if (!rc)
		rc = expect(c, ',', "missing ',' after offset");
	if (!rc)
		rc = hex_u64(c, &a->len, "bad length");
	return rc;
}

static int one_action(struct cur *c, struct rsp_tp_action *a, struct rsp_tp_work *w)
{
	switch (*c->p++) {
	case 'R':
		a->kind = RSP_TPA_REGS;
		return reg_mask(c, a->mask);
	case 'M':
		a->kind = RSP_TPA_MEM;
		return mem_action(c, a);
	case 'X':
		a->kind = RSP_TPA_EXPR;
		return bytecode(c, w, &a->code, &a->code_len);
	case 'L':
		a->kind = RSP_TPA_SDATA;
		return 0;
	default:
		return bad(c, "unknown action");
	}
}

int rsp_tpparse_actions(const uint8_t *p, size_t len, bool stepping, struct rsp_tp_action *acts,
			size_t cap, size_t *n, struct rsp_tp_work *w, const char **why)
{
	struct cur c = {p, p + len, why};
	*n = 0;
	while (c.p < c.end) {
		struct rsp_tp_action *a = &acts[*n];
		int rc;
		if (*n == cap)
			return -E2BIG;
		memset(a, 0, sizeof(*a));
		a->stepping = stepping;
		a->text = c.p;
		rc = one_action(&c, a, w);
		if (rc)
			return rc;
		a->text_len = (size_t)(c.p - a->text);
		(*n)++;
	}
	return 0;
}

/* The span up to the next ':' (required). */
static int field(struct cur *c, const uint8_t **f, size_t *n, const char *why)
{
	const uint8_t *e = rsp_memchr(c->p, c->end, ':');
	if (!e)
		return bad(c, why);
	*f = c->p;
	*n = (size_t)(e - c->p);
	c->p = e + 1;
	return 0;
}

int rsp_tpparse_src(const uint8_t *p, size_t len, struct rsp_tp_src *src, struct rsp_tp_work *w,
		    const char **why)
{
	struct cur c = {p, p + len, why};
	const uint8_t *type;
	size_t tlen;
	int rc;

	memset(src, 0, sizeof(*src));
	rc = num_addr(&c, &src->num, &src->addr);
	if (!rc)
		rc = field(&c, &type, &tlen, "missing source type");
	if (!rc && !tlen)
		rc = bad(&c, "empty source type");
	if (!rc)
		rc = work_str(&c, w, type, tlen, false, &src->type);
	if (!rc)
		rc = hex_u64(&c, &src->start, "bad source start");
	if (!rc)
		rc = expect(&c, ':', "missing ':' after start");
	if (!rc)
		rc = hex_u64(&c, &src->slen, "bad source length");
	if (!rc)
		rc = expect(&c, ':', "missing source text");
	if (!rc)
		rc = work_hex(&c, w, c.p, (size_t)(c.end - c.p), &src->text, &src->len);
	return rc;
}

int rsp_tpparse_tsv(const uint8_t *p, size_t len, struct rsp_tsv *v, struct rsp_tp_work *w,
		    const char **why)
{
	struct cur c = {p, p + len, why};
	uint64_t u, builtin = 0;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = hex_u32(&c, &v->num, "bad variable number");
	if (!rc)
		rc = expect(&c, ':', "missing ':' after number");
	if (rc)
		return rc;
	if (at(&c, '-')) {
		rc = rsp_hex_scan_i64(&c.p, c.end, &v->initial);
		if (rc == -EINVAL)
			rc = bad(&c, "bad initial value");
	} else {
		/* gdb sends the value as 16 hex digits of its two's complement. */
		rc = hex_u64(&c, &u, "bad initial value");
		v->initial = (int64_t)u;
	}
	if (!rc)
		rc = expect(&c, ':', "missing ':' after value");
	if (!rc)
		rc = hex_u64(&c, &builtin, "bad builtin flag");
	if (!rc && builtin > 1)
		rc = bad(&c, "bad builtin flag");
	if (!rc)
		rc = expect(&c, ':', "missing variable name");
	if (!rc)
		rc = work_str(&c, w, c.p, (size_t)(c.end - c.p), true, &v->name);
	v->builtin = builtin == 1;
	return rc;
}

/* ---- status ---- */

static const struct {
	const char *name;
	enum rsp_trace_stop stop;
} reasons[] = {
	{"tnotrun", RSP_TSTOP_NOT_RUN},	     {"tstop", RSP_TSTOP_USER},
	{"tfull", RSP_TSTOP_FULL},	     {"tdisconnected", RSP_TSTOP_DISCONNECTED},
	{"tpasscount", RSP_TSTOP_PASSCOUNT}, {"terror", RSP_TSTOP_ERROR},
	{"tunknown", RSP_TSTOP_UNKNOWN},
};

static const struct {
	const char *name;
	size_t off;
} numbers[] = {
	{"tframes", offsetof(struct rsp_trace_status, frames)},
	{"tcreated", offsetof(struct rsp_trace_status, created)},
	{"tfree", offsetof(struct rsp_trace_status, free)},
	{"tsize", offsetof(struct rsp_trace_status, size)},
	{"starttime", offsetof(struct rsp_trace_status, start_us)},
	{"stoptime", offsetof(struct rsp_trace_status, stop_us)},
};

static bool key_is(const uint8_t *k, size_t n, const char *name)
{
	return strlen(name) == n && !memcmp(k, name, n);
}

static int whole_hex(struct cur *c, const uint8_t *v, size_t n, uint64_t *out)
{
	int rc = rsp_hex_parse_u64(v, n, out);
	return rc == -EINVAL ? bad(c, "bad number in status") : rc;
}

/* tstop / terror values: "<hex text>:<tp>" (tstop also plain "<tp>"). */
static int reason_value(struct cur *c, struct rsp_trace_status *st, const uint8_t *v, size_t n,
			struct rsp_tp_work *w)
{
	const uint8_t *colon = NULL;
	const char *text = NULL;
	uint64_t tp;
	int rc;

	for (size_t i = n; i-- > 0;)
		if (v[i] == ':') {
			colon = v + i;
			break;
		}
	if (colon) {
		rc = work_str(c, w, v, (size_t)(colon - v), true, &text);
		if (rc)
			return rc;
		n -= (size_t)(colon + 1 - v);
		v = colon + 1;
	} else if (st->stop == RSP_TSTOP_ERROR) {
		return bad(c, "terror without a message");
	}
	rc = whole_hex(c, v, n, &tp);
	if (rc)
		return rc;
	if (tp > UINT32_MAX)
		return -ERANGE;
	st->stop_tp = (uint32_t)tp;
	if (st->stop == RSP_TSTOP_ERROR)
		st->error = text;
	else if (st->stop == RSP_TSTOP_USER)
		st->stop_note = text;
	return 0;
}

static int status_field(struct cur *c, struct rsp_trace_status *st, const uint8_t *k, size_t kn,
			const uint8_t *v, size_t vn, struct rsp_tp_work *w)
{
	uint64_t x;
	int rc;

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (key_is(k, kn, reasons[i].name)) {
			st->stop = reasons[i].stop;
			return reason_value(c, st, v, vn, w);
		}
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (key_is(k, kn, numbers[i].name)) {
			rc = whole_hex(c, v, vn, &x);
			if (!rc)
				memcpy((char *)st + numbers[i].off, &x, sizeof(x));
			return rc;
		}
	if (key_is(k, kn, "circular") || key_is(k, kn, "disconn")) {
		rc = whole_hex(c, v, vn, &x);
		if (!rc && k[0] == 'c')
			st->circular = x != 0;
		else if (!rc)
			st->disconnected = x != 0;
		return rc;
	}
	if (key_is(k, kn, "username") || key_is(k, kn, "notes")) {
		/* gdbserver ends its reply with "notes:<hex>:". */
		if (vn && v[vn - 1] == ':')
			vn--;
		return work_str(c, w, v, vn, true, k[0] == 'u' ? &st->user : &st->notes);
	}
	return 0; /* unknown fields are skipped, as gdb does */
}

int rsp_tpparse_status(const uint8_t *p, size_t len, struct rsp_trace_status *st,
		       struct rsp_tp_work *w, const char **why)
{
	struct cur c = {p, p + len, why};

	memset(st, 0, sizeof(*st));
	st->stop = RSP_TSTOP_UNKNOWN;
	if (!len || (p[0] != '0' && p[0] != '1'))
		return bad(&c, "status must start with 0 or 1");
	st->running = p[0] == '1';
	c.p++;
	while (c.p < c.end) {
		const uint8_t *f, *fe, *colon;
		int rc = expect(&c, ';', "missing ';' in status");
		if (rc)
			return rc;
		f = c.p;
		fe = rsp_memchr(f, c.end, ';');
		if (!fe)
			fe = c.end;
		c.p = fe;
		colon = rsp_memchr(f, fe, ':');
		if (!colon)
			return bad(&c, "status field without ':'");
		rc = status_field(&c, st, f, (size_t)(colon - f), colon + 1,
				  (size_t)(fe - colon - 1), w);
		if (rc)
			return rc;
	}
	return 0;
}
