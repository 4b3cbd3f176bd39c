/* qXfer objects: features, auxv, libraries-svr4 (built here from
 * list_libraries; no main-lm attribute, which lldb 14 misreads on PIE:
 * PROTOCOL.md 2.3), threads, exec-file, siginfo read/write. Replies are `m`/`l`
 * chunks of escaped binary. */
#include <errno.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"

struct xfer_req {
	const uint8_t *annex;
	size_t annex_len;
	uint64_t off, len;
	const uint8_t *data; /* write: the rest after ':' */
	size_t data_len;
};

/* "ANNEX:OFF,LEN" (read) or "ANNEX:OFF:DATA" (write). */
static int parse_req(const uint8_t *a, size_t n, bool write, struct xfer_req *r)
{
	const uint8_t *end = a + n, *c = rsp_memchr(a, end, ':'), *p;
	if (!c)
		return -EINVAL;
	r->annex = a;
	r->annex_len = (size_t)(c - a);
	p = c + 1;
	if (write) {
		if (rsp_hex_scan_u64(&p, end, &r->off) || p >= end || *p != ':')
			return -EINVAL;
		r->data = p + 1;
		r->data_len = (size_t)(end - p - 1);
		return 0;
	}
	if (rsp_parse_addr_len(&p, end, &r->off, &r->len) || p != end)
		return -EINVAL;
	return 0;
}

/* Reads from a target object callback directly into scratch, then escapes into
 * the reply. */
static size_t chunk_len(struct rsp_session *s, uint64_t len)
{
	size_t room = rsp_buf_room(&s->reply);
	size_t max = room > 1 ? room - 1 : 0;
	if (max > s->scratch_cap)
		max = s->scratch_cap;
	return len < max ? (size_t)len : max;
}

static int reply_chunk(struct rsp_session *s, size_t got, size_t asked)
{
	size_t used;
	rsp_buf_putc(&s->reply, 'm');
	rsp_buf_bin(&s->reply, s->scratch, got, &used);
	/* A short read from the target marks the end of the object. */
	if (used == got && got < asked)
		s->reply.data[0] = 'l';
	if (!got)
		s->reply.data[0] = 'l';
	return 0;
}

static int h_features(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct xfer_req r;
	size_t got = 0, want;
	int rc;

	if (parse_req(a, n, false, &r))
		return -EINVAL;
	want = chunk_len(s, r.len);
	rc = s->ops->xfer_features(s->t, (const char *)r.annex, r.annex_len, r.off, s->scratch,
				   want, &got);
	/* Bad annex: E00 as gdbserver answers. */
	if (rc == -ENOENT)
		return RSP_ERR_E00;
	if (rc)
		return rc;
	return reply_chunk(s, got, want);
}

static int h_auxv(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct xfer_req r;
	size_t got = 0, want;
	int rc;

	if (parse_req(a, n, false, &r) || r.annex_len)
		return -EINVAL;
	want = chunk_len(s, r.len);
	rc = s->ops->xfer_auxv(s->t, r.off, s->scratch, want, &got);
	return rc ? rc : reply_chunk(s, got, want);
}

static int h_siginfo_read(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct xfer_req r;
	size_t got = 0, want;
	int rc;

	if (parse_req(a, n, false, &r) || r.annex_len)
		return -EINVAL;
	want = chunk_len(s, r.len);
	rc = s->ops->xfer_siginfo_read(s->t, s->g_thread, r.off, s->scratch, want, &got);
	return rc ? rc : reply_chunk(s, got, want);
}

static int h_siginfo_write(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct xfer_req r;
	size_t got;
	int rc;

	if (parse_req(a, n, true, &r) || r.annex_len ||
	    rsp_bin_unescape(r.data, r.data_len, s->scratch, s->scratch_cap, &got))
		return -EINVAL;
	rc = s->ops->xfer_siginfo_write(s->t, s->g_thread, r.off, s->scratch, got);
	if (rc)
		return rc;
	rsp_buf_hex_u64(&s->reply, got);
	return 0;
}

static int h_exec_file(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct xfer_req r;
	uint64_t pid = 0;
	char *path;
	size_t cap = s->scratch_cap / 2;
	int rc;

	if (parse_req(a, n, false, &r))
		return -EINVAL;
	if (r.annex_len && rsp_hex_parse_u64(r.annex, r.annex_len, &pid))
		return -EINVAL;
	path = (char *)s->scratch + cap;
	rc = s->ops->exec_file(s->t, r.annex_len ? (int64_t)pid : 0, path, cap);
	if (rc)
		return rc;
	path[cap - 1] = 0;
	return rsp_xfer_reply(s, (const uint8_t *)path, strlen(path), r.off, r.len);
}

static void xml_attr(struct rsp_buf *b, const char *name, const char *val)
{
	rsp_buf_putc(b, ' ');
	rsp_buf_puts(b, name);
	rsp_buf_puts(b, "=\"");
	for (; *val; val++) {
		switch (*val) {
		case '&':
			rsp_buf_puts(b, "&amp;");
			break;
		case '<':
			rsp_buf_puts(b, "&lt;");
			break;
		case '>':
			rsp_buf_puts(b, "&gt;");
			break;
		case '"':
			rsp_buf_puts(b, "&quot;");
			break;
		case '\'':
			rsp_buf_puts(b, "&apos;");
			break;
		default:
			rsp_buf_putc(b, *val);
		}
	}
	rsp_buf_putc(b, '"');
}

static void xml_addr(struct rsp_buf *b, const char *name, uint64_t v)
{
	rsp_buf_putc(b, ' ');
	rsp_buf_puts(b, name);
	rsp_buf_puts(b, "=\"0x");
	rsp_buf_hex_u64(b, v);
	rsp_buf_putc(b, '"');
}

static int h_libraries(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct xfer_req r;
	struct rsp_buf x;
	size_t count = 0;
	int rc;

	if (parse_req(a, n, false, &r))
		return -EINVAL;
	rc = s->ops->list_libraries(s->t, s->libs, RSP_MAX_LIBS, &count);
	if (rc)
		return rc;
	if (count > RSP_MAX_LIBS)
		count = RSP_MAX_LIBS;
	rsp_buf_init(&x, s->scratch, s->scratch_cap);
	if (!count) {
		rsp_buf_puts(&x, "<library-list-svr4 version=\"1.0\"/>");
	} else {
		rsp_buf_puts(&x, "<library-list-svr4 version=\"1.0\">");
		for (size_t i = 0; i < count; i++) {
			const struct rsp_library *l = &s->libs[i];
			rsp_buf_puts(&x, "<library");
			xml_attr(&x, "name", l->name ? l->name : "");
			xml_addr(&x, "lm", l->lm);
			xml_addr(&x, "l_addr", l->l_addr);
			xml_addr(&x, "l_ld", l->l_ld);
			xml_addr(&x, "lmid", l->lmid);
			rsp_buf_puts(&x, "/>");
		}
		rsp_buf_puts(&x, "</library-list-svr4>");
	}
	if (x.overflow)
		return -ENOSPC;
	return rsp_xfer_reply(s, x.data, x.len, r.off, r.len);
}

static int h_threads_xml(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct xfer_req r;
	struct rsp_buf x;
	int rc;

	if (parse_req(a, n, false, &r) || r.annex_len)
		return -EINVAL;
	rc = rsp_load_threads(s);
	if (rc)
		return rc;
	rsp_buf_init(&x, s->scratch, s->scratch_cap);
	rsp_buf_puts(&x, "<?xml version=\"1.0\"?>\n<threads>\n");
	for (size_t i = 0; i < s->nthreads; i++) {
		struct rsp_thread_info *ti = &s->threads[i];
		ti->name[sizeof(ti->name) - 1] = 0;
		rsp_buf_puts(&x, "<thread id=\"");
		rsp_put_ptid(s, &x, ti->id);
		rsp_buf_putc(&x, '"');
		if (ti->core >= 0) {
			rsp_buf_puts(&x, " core=\"");
			rsp_buf_hex_u64(&x, (uint64_t)ti->core);
			rsp_buf_putc(&x, '"');
		}
		if (ti->name[0])
			xml_attr(&x, "name", ti->name);
		rsp_buf_puts(&x, "/>\n");
	}
	rsp_buf_puts(&x, "</threads>\n");
	if (x.overflow)
		return -ENOSPC;
	return rsp_xfer_reply(s, x.data, x.len, r.off, r.len);
}

const struct rsp_packet_def rsp_pkts_xfer[] = {
	{"qXfer:features:read:", RSP_MATCH_PREFIX, h_features, RSP_OP(xfer_features),
	 "qXfer:features:read+", NULL},
	{"qXfer:auxv:read:", RSP_MATCH_PREFIX, h_auxv, RSP_OP(xfer_auxv), "qXfer:auxv:read+", NULL},
	{"qXfer:libraries-svr4:read:", RSP_MATCH_PREFIX, h_libraries, RSP_OP(list_libraries),
	 "qXfer:libraries-svr4:read+", NULL},
	{"qXfer:threads:read:", RSP_MATCH_PREFIX, h_threads_xml, RSP_OP(list_threads),
	 "qXfer:threads:read+", NULL},
	{"qXfer:exec-file:read:", RSP_MATCH_PREFIX, h_exec_file, RSP_OP(exec_file),
	 "qXfer:exec-file:read+", NULL},
	{"qXfer:siginfo:read:", RSP_MATCH_PREFIX, h_siginfo_read, RSP_OP(xfer_siginfo_read),
	 "qXfer:siginfo:read+", NULL},
	{"qXfer:siginfo:write:", RSP_MATCH_PREFIX, h_siginfo_write, RSP_OP(xfer_siginfo_write),
	 "qXfer:siginfo:write+", NULL},
	{NULL, 0, NULL, 0, NULL, NULL},
};
