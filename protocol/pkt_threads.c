/* Thread packets: qC, qfThreadInfo/qsThreadInfo, qThreadExtraInfo, jThreadsInfo
 * (lldb JSON, `}`-escaped), qThreadStopInfo, QListThreadsInStopReply,
 * QThreadSuffixSupported, QThreadEvents. */
#include <errno.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"
#include "protocol/signals.h"

static int h_qC(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_stop st;
	struct rsp_ptid id = s->g_thread;

	memset(&st, 0, sizeof(st));
	if (s->ops->last_stop && !s->ops->last_stop(s->t, &st) && st.kind == RSP_STOP_SIGNAL)
		id = st.thread;
	else if (id.tid <= 0 && !rsp_load_threads(s) && s->nthreads)
		id = s->threads[0].id;
	if (id.tid <= 0)
		return -ESRCH;
	rsp_buf_puts(&s->reply, "QC");
	return rsp_put_ptid(s, &s->reply, id);
}

static int put_thread_batch(struct rsp_session *s)
{
	if (s->thread_cursor >= s->nthreads)
		return rsp_buf_putc(&s->reply, 'l');
	rsp_buf_putc(&s->reply, 'm');
	for (bool first = true; s->thread_cursor < s->nthreads; first = false) {
		size_t save = s->reply.len;
		if ((!first && rsp_buf_putc(&s->reply, ',')) ||
		    rsp_put_ptid(s, &s->reply, s->threads[s->thread_cursor].id) ||
		    rsp_buf_room(&s->reply) < 64) {
			s->reply.len = save;
			s->reply.overflow = false;
			break;
		}
		s->thread_cursor++;
	}
	return 0;
}

static int h_qf(struct rsp_session *s, const uint8_t *a, size_t n)
{
	int rc = rsp_load_threads(s);
	if (rc)
		return rc;
	s->thread_cursor = 0;
	return put_thread_batch(s);
}

static int h_qs(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return put_thread_batch(s);
}

static const struct rsp_thread_info *find_thread(struct rsp_session *s, struct rsp_ptid id)
{
	if (rsp_load_threads(s))
		return NULL;
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].id.tid == id.tid &&
		    (id.pid <= 0 || s->threads[i].id.pid == id.pid))
			return &s->threads[i];
	return NULL;
}

static int h_extra(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a + 1, *end = a + n;
	struct rsp_ptid id;
	struct rsp_thread_info *ti;

	if (n < 2 || a[0] != ',' || rsp_parse_ptid(&p, end, &id) || p != end)
		return -EINVAL;
	ti = (struct rsp_thread_info *)find_thread(s, id);
	if (!ti)
		return -ESRCH;
	ti->name[sizeof(ti->name) - 1] = 0;
	return rsp_buf_hex_str(&s->reply, ti->name);
}

static void json_str(struct rsp_buf *b, const char *str)
{
	rsp_buf_putc(b, '"');
	for (; *str; str++) {
		unsigned char c = (unsigned char)*str;
		if (c == '"' || c == '\\') {
			rsp_buf_putc(b, '\\');
			rsp_buf_putc(b, (char)c);
		} else if (c < 0x20) {
			rsp_buf_puts(b, "\\u00");
			rsp_buf_hex_u64_w(b, c, 2);
		} else {
			rsp_buf_putc(b, (char)c);
		}
	}
	rsp_buf_putc(b, '"');
}

/* Expedited registers keyed by decimal regnum, values in target-order hex. */
static void json_regs(struct rsp_session *s, struct rsp_buf *b, struct rsp_ptid id)
{
	const struct rsp_reg_layout *l = rsp_layout(s);
	bool first = true;

	if (!l || !s->ops->read_regs)
		return;
	memset(s->gavail, 0, l->nregs);
	if (s->ops->read_regs(s->t, id, s->gbuf, s->gavail))
		return;
	rsp_buf_puts(b, ",\"registers\":{");
	for (unsigned i = 0; i < l->nregs; i++) {
		const struct rsp_reg_info *r = &l->regs[i];
		if (!(r->expedite || i <= 16) || !s->gavail[i])
			continue;
		if (!first)
			rsp_buf_putc(b, ',');
		first = false;
		rsp_buf_putc(b, '"');
		rsp_buf_dec_u64(b, i);
		rsp_buf_puts(b, "\":\"");
		rsp_buf_hex(b, s->gbuf + r->offset, r->bitsize / 8);
		rsp_buf_putc(b, '"');
	}
	rsp_buf_putc(b, '}');
}

static int h_jthreads(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_buf js;
	struct rsp_stop st;
	bool have_stop;
	size_t used;
	int rc = rsp_load_threads(s);

	if (rc)
		return rc;
	memset(&st, 0, sizeof(st));
	have_stop =
		s->ops->last_stop && !s->ops->last_stop(s->t, &st) && st.kind == RSP_STOP_SIGNAL;
	rsp_buf_init(&js, s->scratch, s->scratch_cap);
	rsp_buf_putc(&js, '[');
	for (size_t i = 0; i < s->nthreads; i++) {
		struct rsp_thread_info *ti = &s->threads[i];
		ti->name[sizeof(ti->name) - 1] = 0;
		if (i)
			rsp_buf_putc(&js, ',');
		rsp_buf_puts(&js, "{\"tid\":");
		rsp_buf_dec_i64(&js, ti->id.tid);
		if (ti->name[0]) {
			rsp_buf_puts(&js, ",\"name\":");
			json_str(&js, ti->name);
		}
		if (have_stop && st.thread.tid == ti->id.tid) {
			const char *r =
				st.reason == RSP_REASON_SWBREAK || st.reason == RSP_REASON_HWBREAK
					? "breakpoint"
				: st.reason == RSP_REASON_TRACE ? "trace"
								: "signal";
			rsp_buf_puts(&js, ",\"reason\":\"");
			rsp_buf_puts(&js, r);
			rsp_buf_puts(&js, "\",\"signal\":");
			rsp_buf_dec_u64(&js, (uint64_t)rsp_sig_out(s, st.signo));
		}
		json_regs(s, &js, ti->id);
		rsp_stop_expedite(s, ti->id, &js, true);
		rsp_buf_putc(&js, '}');
	}
	rsp_buf_putc(&js, ']');
	if (js.overflow)
		return -ENOSPC;
	/* lldb-server escapes `}` in JSON replies; so must we (binary-escape rules).
	 */
	rsp_buf_bin(&s->reply, js.data, js.len, &used);
	return used == js.len ? 0 : -ENOSPC;
}

static int h_stopinfo(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	struct rsp_ptid id;
	struct rsp_stop st;
	int rc;

	if (rsp_parse_ptid(&p, end, &id) || p != end)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	rc = s->ops->last_stop(s->t, &st);
	if (rc)
		return rc;
	if (id.pid <= 0)
		id.pid = st.thread.pid;
	if (st.kind == RSP_STOP_SIGNAL && st.thread.tid != id.tid) {
		/* Another thread of an all-stop stop: stopped with no signal. */
		st.thread = id;
		st.signo = 0;
		st.reason = RSP_REASON_NONE;
		st.description = NULL;
	}
	return rsp_stop_format(s, &st, &s->reply);
}

static int h_list_in_stop(struct rsp_session *s, const uint8_t *a, size_t n)
{
	s->list_threads_in_stop = true;
	return rsp_buf_puts(&s->reply, "OK");
}

static int h_suffix(struct rsp_session *s, const uint8_t *a, size_t n)
{
	s->thread_suffix = true;
	return rsp_buf_puts(&s->reply, "OK");
}

static int h_thread_events(struct rsp_session *s, const uint8_t *a, size_t n)
{
	if (n != 2 || a[0] != ':' || (a[1] != '0' && a[1] != '1'))
		return -EINVAL;
	s->feat.thread_events = a[1] == '1';
	rsp_features_changed(s);
	return rsp_buf_puts(&s->reply, "OK");
}

const struct rsp_packet_def rsp_pkts_threads[] = {
	{"qC", RSP_MATCH_EXACT, h_qC, 0, NULL, NULL},
	{"qfThreadInfo", RSP_MATCH_EXACT, h_qf, RSP_OP(list_threads), NULL, NULL},
	{"qsThreadInfo", RSP_MATCH_EXACT, h_qs, RSP_OP(list_threads), NULL, NULL},
	{"qThreadExtraInfo", RSP_MATCH_PREFIX, h_extra, RSP_OP(list_threads), NULL, NULL},
	{"jThreadsInfo", RSP_MATCH_EXACT, h_jthreads, RSP_OP(list_threads), NULL, NULL},
	{"qThreadStopInfo", RSP_MATCH_PREFIX, h_stopinfo, RSP_OP(last_stop), NULL, NULL},
	{"QListThreadsInStopReply", RSP_MATCH_EXACT, h_list_in_stop, RSP_OP(list_threads),
	 "QListThreadsInStopReply+", NULL},
	{"QThreadSuffixSupported", RSP_MATCH_EXACT, h_suffix, 0, "QThreadSuffixSupported+", NULL},
	{"QThreadEvents", RSP_MATCH_PREFIX, h_thread_events, RSP_OP(set_client_features),
	 "QThreadEvents+", NULL},
	{NULL, 0, NULL, 0, NULL, NULL},
};
