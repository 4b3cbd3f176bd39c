/* Trace query packets (PROTOCOL.md §3.2, §3.4): qTStatus, qTP, the qTfP/qTsP and qTfV/qTsV
 * uploads (the session keeps the cursor), qTV, QTFrame in all its forms, qTBuffer and
 * qXfer:traceframe-info:read. Text forms come from tpfmt.c, shared with the trace-file
 * writer. The frame selection itself lives in the target; nothing here remembers it. */
#include <errno.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"
#include "protocol/tpfmt.h"
#include "protocol/trace_ops.h"

static const struct rsp_trace_ops *tops(const struct rsp_session *s)
{
	return s->ops->trace;
}

static int h_status(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_trace_status st;
	int rc;

	memset(&st, 0, sizeof(st));
	rc = tops(s)->status(s->t, &st);
	if (rc)
		return rc;
	rsp_buf_putc(&s->reply, 'T');
	return rsp_tpfmt_status(&s->reply, &st);
}

/* qTP:n:addr -> V<hits>:<bytes> */
static int h_tp(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	uint64_t num, addr, hits = 0, bytes = 0;
	int rc;

	if (rsp_hex_scan_u64(&p, end, &num) || num > UINT32_MAX || p >= end || *p++ != ':' ||
	    rsp_hex_scan_u64(&p, end, &addr) || p != end)
		return -EINVAL;
	rc = tops(s)->tp_hits(s->t, (uint32_t)num, addr, &hits, &bytes);
	if (rc)
		return rc;
	rsp_buf_putc(&s->reply, 'V');
	rsp_buf_hex_u64(&s->reply, hits);
	rsp_buf_putc(&s->reply, ':');
	return rsp_buf_hex_u64(&s->reply, bytes);
}

/* Item `item` of one tracepoint: 0 = T, then its non-stepping actions as A, its stepping
 * actions as S, its sources as Z. Returns 1 if the item exists but is not of the kind at its
 * place (skip it), 0 when written, -ENOENT past the last item. */
static int tp_item(struct rsp_buf *b, const struct rsp_tp_info *ti, size_t item)
{
	size_t na = ti->actions ? ti->nactions : 0, nz = ti->srcs ? ti->nsrcs : 0;
	const struct rsp_tp_action *act;

	if (item == 0)
		return rsp_tpfmt_tp(b, &ti->def);
	item--;
	if (item < 2 * na) {
		act = &ti->actions[item % na];
		if (act->stepping != (item >= na))
			return 1;
		return rsp_tpfmt_action(b, ti->def.num, ti->def.addr, act);
	}
	item -= 2 * na;
	if (item < nz)
		return rsp_tpfmt_src(b, &ti->srcs[item]);
	return -ENOENT;
}

static int upload_tp(struct rsp_session *s)
{
	struct rsp_trace_cursor *c = &s->tcur;
	for (;;) {
		struct rsp_tp_info ti;
		int rc;

		memset(&ti, 0, sizeof(ti));
		rc = tops(s)->tp_get(s->t, c->tp, &ti);
		if (rc == -ENOENT)
			return rsp_buf_putc(&s->reply, 'l');
		if (rc)
			return rc;
		do
			rc = tp_item(&s->reply, &ti, c->item++);
		while (rc == 1);
		if (rc != -ENOENT)
			return rc;
		c->tp++;
		c->item = 0;
	}
}

static int h_first_tp(struct rsp_session *s, const uint8_t *a, size_t n)
{
	s->tcur.tp = 0;
	s->tcur.item = 0;
	return upload_tp(s);
}

static int h_next_tp(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return upload_tp(s);
}

static int upload_tsv(struct rsp_session *s)
{
	struct rsp_tsv v;
	int rc;

	memset(&v, 0, sizeof(v));
	rc = tops(s)->tsv_get(s->t, s->tcur.tsv, &v);
	if (rc == -ENOENT)
		return rsp_buf_putc(&s->reply, 'l');
	if (rc)
		return rc;
	s->tcur.tsv++;
	return rsp_tpfmt_tsv(&s->reply, &v);
}

static int h_first_tsv(struct rsp_session *s, const uint8_t *a, size_t n)
{
	s->tcur.tsv = 0;
	return upload_tsv(s);
}

static int h_next_tsv(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return upload_tsv(s);
}

/* qTV:n -> V<value> or U */
static int h_tsv_value(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint64_t num;
	int64_t val = 0;
	int rc;

	if (rsp_hex_parse_u64(a, n, &num) || num > UINT32_MAX)
		return -EINVAL;
	rc = tops(s)->tsv_value(s->t, (uint32_t)num, &val);
	if (rc == -ENOENT)
		return rsp_buf_putc(&s->reply, 'U');
	if (rc)
		return rc;
	rsp_buf_putc(&s->reply, 'V');
	return rsp_buf_hex_u64(&s->reply, (uint64_t)val);
}

static const struct {
	const char *prefix;
	enum rsp_tframe_how how;
	bool two;
} frame_forms[] = {
	{"pc:", RSP_TFRAME_PC, false},
	{"tdp:", RSP_TFRAME_TDP, false},
	{"range:", RSP_TFRAME_RANGE, true},
	{"outside:", RSP_TFRAME_OUTSIDE, true},
};

static int parse_frame(const uint8_t *a, size_t n, enum rsp_tframe_how *how, uint64_t *x,
		       uint64_t *y)
{
	const uint8_t *p = a, *end = a + n;
	bool two = false;

	*how = RSP_TFRAME_NUM;
	*y = 0;
	for (size_t i = 0; i < sizeof(frame_forms) / sizeof(frame_forms[0]); i++) {
		size_t l = strlen(frame_forms[i].prefix);
		if (n >= l && !memcmp(a, frame_forms[i].prefix, l)) {
			*how = frame_forms[i].how;
			two = frame_forms[i].two;
			p += l;
			break;
		}
	}
	if (*how == RSP_TFRAME_NUM && p < end && *p == '-') {
		int64_t v;
		if (rsp_hex_scan_i64(&p, end, &v) || v != -1)
			return -EINVAL;
		*x = UINT64_MAX;
	} else if (rsp_hex_scan_u64(&p, end, x)) {
		return -EINVAL;
	}
	if (two && (p >= end || *p++ != ':' || rsp_hex_scan_u64(&p, end, y)))
		return -EINVAL;
	return p == end ? 0 : -EINVAL;
}

static int h_frame(struct rsp_session *s, const uint8_t *a, size_t n)
{
	enum rsp_tframe_how how;
	uint64_t x, y;
	int64_t frame = -1;
	uint32_t tp = 0;
	int rc;

	if (parse_frame(a, n, &how, &x, &y))
		return -EINVAL;
	/* gdb sends -1 as 32-bit hex (ffffffff): back to the live target. */
	if (how == RSP_TFRAME_NUM && (x == 0xffffffffu || x == UINT64_MAX)) {
		if (!tops(s)->unselect_frame)
			return -ENOSYS;
		rc = tops(s)->unselect_frame(s->t);
		return rc ? rc : rsp_buf_puts(&s->reply, "OK");
	}
	rc = tops(s)->select_frame(s->t, how, x, y, &frame, &tp);
	if (rc == -ENOENT)
		return rsp_buf_puts(&s->reply, "F-1");
	if (rc)
		return rc;
	rsp_buf_putc(&s->reply, 'F');
	rsp_buf_hex_i64(&s->reply, frame);
	rsp_buf_putc(&s->reply, 'T');
	return rsp_buf_hex_u64(&s->reply, tp);
}

/* qTBuffer:off,len -> hex of the frame stream; 'l' at its end; E01 beyond it (gdbserver).
 * At most half a packet of bytes, so the hex fits the client's packet size. */
static int h_buffer(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a;
	uint64_t off, len;
	size_t max = s->packet_size / 2 - 1, done = 0;
	int rc;

	if (rsp_parse_addr_len(&p, a + n, &off, &len) || p != a + n)
		return -EINVAL;
	if (max > s->scratch_cap)
		max = s->scratch_cap;
	if (len > max)
		len = max;
	rc = tops(s)->read_buffer(s->t, off, s->scratch, (size_t)len, &done);
	if (rc == -EINVAL)
		return -1;
	if (rc)
		return rc;
	if (!done)
		return rsp_buf_putc(&s->reply, 'l');
	return rsp_buf_hex(&s->reply, s->scratch, done < len ? done : (size_t)len);
}

static void xml_hex_attr(struct rsp_buf *b, const char *name, uint64_t v)
{
	rsp_buf_putc(b, ' ');
	rsp_buf_puts(b, name);
	rsp_buf_puts(b, "=\"0x");
	rsp_buf_hex_u64(b, v);
	rsp_buf_putc(b, '"');
}

/* Items in the first half of scratch, the XML in the second half. */
static int h_frame_info(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_tframe_item *items = (struct rsp_tframe_item *)(void *)s->scratch;
	size_t half = s->scratch_cap / 2, cap = half / sizeof(*items), count = 0;
	const uint8_t *p = a + 1;
	uint64_t off, len;
	struct rsp_buf x;
	int rc;

	/* The annex is empty: ":off,len". */
	if (!n || a[0] != ':' || rsp_parse_addr_len(&p, a + n, &off, &len) || p != a + n)
		return -EINVAL;
	rc = tops(s)->frame_info(s->t, items, cap, &count);
	if (rc == -ENOENT)
		return -1;
	if (rc)
		return rc;
	if (count > cap)
		return -E2BIG;
	rsp_buf_init(&x, s->scratch + half, s->scratch_cap - half);
	rsp_buf_puts(&x, "<traceframe-info>");
	for (size_t i = 0; i < count; i++) {
		if (items[i].is_tsv) {
			rsp_buf_puts(&x, "<tvar id=\"");
			rsp_buf_dec_u64(&x, items[i].tsv);
			rsp_buf_puts(&x, "\"/>");
			continue;
		}
		rsp_buf_puts(&x, "<memory");
		xml_hex_attr(&x, "start", items[i].addr);
		xml_hex_attr(&x, "length", items[i].len);
		rsp_buf_puts(&x, "/>");
	}
	rsp_buf_puts(&x, "</traceframe-info>");
	if (x.overflow)
		return -ENOSPC;
	return rsp_xfer_reply(s, x.data, x.len, off, len);
}

RSP_TRACE_AVAIL(status)
RSP_TRACE_AVAIL(tp_hits)
RSP_TRACE_AVAIL(tp_get)
RSP_TRACE_AVAIL(tsv_get)
RSP_TRACE_AVAIL(tsv_value)
RSP_TRACE_AVAIL(select_frame)
RSP_TRACE_AVAIL(read_buffer)
RSP_TRACE_AVAIL(frame_info)

const struct rsp_packet_def rsp_pkts_tframe[] = {
	{"qTStatus", RSP_MATCH_EXACT, h_status, 0, NULL, has_status},
	{"qTP:", RSP_MATCH_PREFIX, h_tp, 0, NULL, has_tp_hits},
	{"qTfP", RSP_MATCH_EXACT, h_first_tp, 0, NULL, has_tp_get},
	{"qTsP", RSP_MATCH_EXACT, h_next_tp, 0, NULL, has_tp_get},
	{"qTfV", RSP_MATCH_EXACT, h_first_tsv, 0, NULL, has_tsv_get},
	{"qTsV", RSP_MATCH_EXACT, h_next_tsv, 0, NULL, has_tsv_get},
	{"qTV:", RSP_MATCH_PREFIX, h_tsv_value, 0, NULL, has_tsv_value},
	{"QTFrame:", RSP_MATCH_PREFIX, h_frame, 0, NULL, has_select_frame},
	{"qTBuffer:", RSP_MATCH_PREFIX, h_buffer, 0, NULL, has_read_buffer},
	{"qXfer:traceframe-info:read:", RSP_MATCH_PREFIX, h_frame_info, 0,
	 "qXfer:traceframe-info:read+", has_frame_info},
	{NULL, 0, NULL, 0, NULL, NULL},
};
