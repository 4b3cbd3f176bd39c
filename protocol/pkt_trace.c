/* Tracepoint definition and control packets (PROTOCOL.md §3.2): QTinit, QTDP (both forms),
 * QTDPsrc, QTDV, QTro, QTDisconnected, QTBuffer:circular/size, QTNotes, QTStart, QTStop,
 * QTEnable, QTDisable, QTSave. Parsing lives in tpparse.c; each handler calls one member of
 * s->ops->trace and is served only when that member exists. Decoded data is built in the
 * session's scratch area and lent to the target for the duration of the call. */
#include <errno.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"
#include "protocol/tpparse.h"
#include "protocol/trace_ops.h"

static const struct rsp_trace_ops *tops(const struct rsp_session *s)
{
	return s->ops->trace;
}

static int ok_or(struct rsp_session *s, int rc)
{
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

/* A parse failure: the reason goes into Enn;hex when error strings are on. */
static int refuse(struct rsp_session *s, int rc, const char *why)
{
	s->err_msg = rc == -EINVAL ? why : NULL;
	return rc;
}

/* "n:addr" ending at end, or followed by ':' when colon (*p is then left after it). */
static int parse_num_addr(const uint8_t **p, const uint8_t *end, uint32_t *num, taddr_t *addr,
			  bool colon)
{
	uint64_t n;
	if (rsp_hex_scan_u64(p, end, &n) || n > UINT32_MAX || *p >= end || **p != ':')
		return -EINVAL;
	(*p)++;
	if (rsp_hex_scan_u64(p, end, addr))
		return -EINVAL;
	*num = (uint32_t)n;
	if (!colon)
		return *p == end ? 0 : -EINVAL;
	if (*p >= end || **p != ':')
		return -EINVAL;
	(*p)++;
	return 0;
}

static int h_init(struct rsp_session *s, const uint8_t *a, size_t n)
{
	memset(&s->tcur, 0, sizeof(s->tcur));
	return ok_or(s, tops(s)->init(s->t));
}

static int h_minftpilen(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return rsp_buf_hex_u64(&s->reply, (uint64_t)tops(s)->min_fast_len(s->t));
}

/* QTDP:-n:addr:[S]actions[-]: the actions array follows the decoded bytecode in scratch. */
static int qtdp_actions(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	const char *why = "malformed action packet";
	struct rsp_tp_work w = {s->scratch, 0, 0};
	struct rsp_tp_action *acts;
	uint32_t num;
	taddr_t addr;
	bool stepping = false;
	size_t off, nacts;
	int rc;

	if (parse_num_addr(&p, end, &num, &addr, true))
		return refuse(s, -EINVAL, why);
	if (p < end && end[-1] == '-')
		end--;
	if (p < end && *p == 'S') {
		stepping = true;
		p++;
	}
	w.cap = (size_t)(end - p) / 2;
	off = (w.cap + 15) & ~(size_t)15;
	if (off >= s->scratch_cap)
		return -ENOSPC;
	acts = (struct rsp_tp_action *)(void *)(s->scratch + off);
	rc = rsp_tpparse_actions(p, (size_t)(end - p), stepping, acts,
				 (s->scratch_cap - off) / sizeof(*acts), &nacts, &w, &why);
	if (rc)
		return refuse(s, rc, why);
	return ok_or(s, tops(s)->add_actions(s->t, num, addr, acts, nacts));
}

static int h_qtdp(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_tp_work w = {s->scratch, s->scratch_cap, 0};
	struct rsp_tp_def def;
	const char *why = "malformed tracepoint";
	int rc;

	if (n && a[0] == '-') {
		if (!tops(s)->add_actions)
			return -EOPNOTSUPP;
		return qtdp_actions(s, a + 1, n - 1);
	}
	rc = rsp_tpparse_def(a, n, &def, NULL, &w, &why);
	if (rc)
		return refuse(s, rc, why);
	return ok_or(s, tops(s)->define(s->t, &def));
}

static int h_qtdpsrc(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_tp_work w = {s->scratch, s->scratch_cap, 0};
	struct rsp_tp_src src;
	const char *why = "malformed source";
	int rc = rsp_tpparse_src(a, n, &src, &w, &why);
	if (rc)
		return refuse(s, rc, why);
	return ok_or(s, tops(s)->add_source(s->t, &src));
}

static int h_qtdv(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_tp_work w = {s->scratch, s->scratch_cap, 0};
	struct rsp_tsv v;
	const char *why = "malformed variable";
	int rc = rsp_tpparse_tsv(a, n, &v, &w, &why);
	if (rc)
		return refuse(s, rc, why);
	return ok_or(s, tops(s)->define_tsv(s->t, &v));
}

/* QTro[:start,end]... */
static int h_qtro(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_ro_range *r = (struct rsp_ro_range *)(void *)s->scratch;
	size_t cap = s->scratch_cap / sizeof(*r), nr = 0;
	const uint8_t *p = a, *end = a + n;

	while (p < end) {
		if (*p++ != ':' || nr == cap)
			return -EINVAL;
		if (rsp_hex_scan_u64(&p, end, &r[nr].start) || p >= end || *p++ != ',' ||
		    rsp_hex_scan_u64(&p, end, &r[nr].end))
			return -EINVAL;
		nr++;
	}
	return ok_or(s, tops(s)->set_ro(s->t, r, nr));
}

static int parse_bool(const uint8_t *a, size_t n, bool *on)
{
	if (n != 1 || (a[0] != '0' && a[0] != '1'))
		return -EINVAL;
	*on = a[0] == '1';
	return 0;
}

static int h_disconnected(struct rsp_session *s, const uint8_t *a, size_t n)
{
	bool on;
	if (parse_bool(a, n, &on))
		return -EINVAL;
	return ok_or(s, tops(s)->set_disconnected(s->t, on));
}

static int h_circular(struct rsp_session *s, const uint8_t *a, size_t n)
{
	bool on;
	if (parse_bool(a, n, &on))
		return -EINVAL;
	return ok_or(s, tops(s)->set_circular(s->t, on));
}

static int h_bufsize(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a;
	int64_t size;
	/* gdb sends -1 for "unlimited / the target's default". */
	if (rsp_hex_scan_i64(&p, a + n, &size) || p != a + n || size < -1)
		return -EINVAL;
	return ok_or(s, tops(s)->set_buffer_size(s->t, size));
}

/* QTNotes:[user:hex;][notes:hex;][tstop:hex;]: each value is decoded into scratch at its
 * own offset in the packet, so the three never overlap. */
static int h_notes(struct rsp_session *s, const uint8_t *a, size_t n)
{
	static const char *const keys[3] = {"user", "notes", "tstop"};
	const char *val[3] = {NULL, NULL, NULL};
	const uint8_t *p = a, *end = a + n;

	while (p < end) {
		const uint8_t *c = rsp_memchr(p, end, ':'), *e;
		size_t k;
		if (!c)
			return -EINVAL;
		e = rsp_memchr(c, end, ';');
		if (!e)
			e = end;
		for (k = 0; k < 3; k++)
			if ((size_t)(c - p) == strlen(keys[k]) &&
			    !memcmp(p, keys[k], (size_t)(c - p)))
				break;
		if (k == 3)
			return -EINVAL;
		val[k] = rsp_hex_cstr(s, c + 1, (size_t)(e - c - 1), (size_t)(c + 1 - a));
		if (!val[k])
			return -EINVAL;
		p = e < end ? e + 1 : end;
	}
	return ok_or(s, tops(s)->set_notes(s->t, val[0], val[1], val[2]));
}

/* "E.<text>" (gdb prints it: "Bogus reply from target: E.…"); bytes that would break the
 * framing or the line are replaced. */
static int reply_text_error(struct rsp_session *s, const char *msg)
{
	rsp_buf_puts(&s->reply, "E.");
	for (; *msg; msg++) {
		char c = *msg;
		if (c < 0x20 || c > 0x7e || c == '$' || c == '#' || c == '}' || c == '*')
			c = '?';
		rsp_buf_putc(&s->reply, c);
	}
	return 0;
}

static int h_start(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_trace_status st;
	int rc = tops(s)->start(s->t);

	if (rc >= 0)
		return ok_or(s, rc);
	memset(&st, 0, sizeof(st));
	if (tops(s)->status && !tops(s)->status(s->t, &st) && st.error && st.error[0])
		return reply_text_error(s, st.error);
	return rc;
}

static int h_stop(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return ok_or(s, tops(s)->stop(s->t));
}

static int toggle(struct rsp_session *s, const uint8_t *a, size_t n, bool on)
{
	const uint8_t *p = a;
	uint32_t num;
	taddr_t addr;
	if (parse_num_addr(&p, a + n, &num, &addr, false))
		return -EINVAL;
	return ok_or(s, tops(s)->enable(s->t, num, addr, on));
}

static int h_enable(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return toggle(s, a, n, true);
}

static int h_disable(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return toggle(s, a, n, false);
}

static int h_save(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const char *path = n ? rsp_hex_cstr(s, a, n, 0) : NULL;
	if (!path)
		return -EINVAL;
	return ok_or(s, tops(s)->save(s->t, path));
}

RSP_TRACE_AVAIL(init)
RSP_TRACE_AVAIL(min_fast_len)
RSP_TRACE_AVAIL(define)
RSP_TRACE_AVAIL(add_source)
RSP_TRACE_AVAIL(define_tsv)
RSP_TRACE_AVAIL(set_ro)
RSP_TRACE_AVAIL(set_disconnected)
RSP_TRACE_AVAIL(set_circular)
RSP_TRACE_AVAIL(set_buffer_size)
RSP_TRACE_AVAIL(set_notes)
RSP_TRACE_AVAIL(start)
RSP_TRACE_AVAIL(stop)
RSP_TRACE_AVAIL(enable)
RSP_TRACE_AVAIL(save)

/* tracenz and InstallInTrace need no packet of their own: the agent-expression interpreter
 * runs tracenz, and define is called whether or not a run is active. */
const struct rsp_packet_def rsp_pkts_trace[] = {
	{"QTinit", RSP_MATCH_EXACT, h_init, 0, NULL, has_init},
	{"qTMinFTPILen", RSP_MATCH_EXACT, h_minftpilen, 0, "FastTracepoints+", has_min_fast_len},
	{"QTDP:", RSP_MATCH_PREFIX, h_qtdp, 0, "ConditionalTracepoints+", has_define},
	{"QTDP:", RSP_MATCH_PREFIX, NULL, 0, "tracenz+", has_define},
	{"QTDP:", RSP_MATCH_PREFIX, NULL, 0, "InstallInTrace+", has_define},
	{"QTDPsrc:", RSP_MATCH_PREFIX, h_qtdpsrc, 0, "TracepointSource+", has_add_source},
	{"QTDV:", RSP_MATCH_PREFIX, h_qtdv, 0, "TraceStateVariables+", has_define_tsv},
	{"QTro", RSP_MATCH_PREFIX, h_qtro, 0, NULL, has_set_ro},
	{"QTDisconnected:", RSP_MATCH_PREFIX, h_disconnected, 0, "DisconnectedTracing+",
	 has_set_disconnected},
	{"QTBuffer:circular:", RSP_MATCH_PREFIX, h_circular, 0, NULL, has_set_circular},
	{"QTBuffer:size:", RSP_MATCH_PREFIX, h_bufsize, 0, "QTBuffer:size+", has_set_buffer_size},
	{"QTNotes:", RSP_MATCH_PREFIX, h_notes, 0, NULL, has_set_notes},
	{"QTStart", RSP_MATCH_EXACT, h_start, 0, NULL, has_start},
	{"QTStop", RSP_MATCH_EXACT, h_stop, 0, NULL, has_stop},
	{"QTEnable:", RSP_MATCH_PREFIX, h_enable, 0, "EnableDisableTracepoints+", has_enable},
	{"QTDisable:", RSP_MATCH_PREFIX, h_disable, 0, NULL, has_enable},
	{"QTSave:", RSP_MATCH_PREFIX, h_save, 0, NULL, has_save},
	{NULL, 0, NULL, 0, NULL, NULL},
};
