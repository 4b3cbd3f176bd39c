/* The RSP session: buffers (allocated once in rsp_session_new, none on the
 * packet path), framing events, the packet table assembled from per-family
 * arrays, --disable-packet, qSupported derived from the table and the target's
 * ops, dispatch, the all-stop waiting state with its queue of packets received
 * while the target runs (non-stop's stop queue: pkt_nonstop.c). Never touches the OS. */
#include "protocol/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"

#define DEFAULT_PACKET_SIZE 0x4000
#define MIN_PACKET_SIZE	    0x200

#define RSP_FAMILY_ENTRY(f) rsp_pkts_##f,
static const struct rsp_packet_def *const families[] = {RSP_PACKET_FAMILIES(RSP_FAMILY_ENTRY)};

/* The --disable-packet list, with gdbserver's group names expanded: `threads` is vCont,
 * Tthread, qC and qfThreadInfo; qfThreadInfo takes qsThreadInfo along. */
static int copy_disabled(struct rsp_session *s, const char *list)
{
	static const char threads[] = ",vCont,Tthread,qC,qfThreadInfo", qs[] = ",qsThreadInfo";
	size_t n = strlen(list);

	s->disabled = malloc(n + sizeof(threads) + sizeof(qs));
	if (!s->disabled)
		return -ENOMEM;
	memcpy(s->disabled, list, n + 1);
	if (rsp_is_disabled(s, (const uint8_t *)"threads", 7))
		strcat(s->disabled, threads);
	if (rsp_is_disabled(s, (const uint8_t *)"qfThreadInfo", 12))
		strcat(s->disabled, qs);
	return 0;
}

static bool def_served(const struct rsp_session *s, const struct rsp_packet_def *d)
{
	return rsp_has_op(s, d->op) && (!d->avail || d->avail(s));
}

static const struct rsp_packet_def *lookup(const uint8_t *pkt, size_t len)
{
	const struct rsp_packet_def *best = NULL;
	size_t best_len = 0;
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		for (const struct rsp_packet_def *d = families[f]; d->name; d++) {
			size_t n = strlen(d->name);
			if (!d->fn || n > len || memcmp(d->name, pkt, n))
				continue;
			if (d->match == RSP_MATCH_EXACT && n != len)
				continue;
			if (!best || n > best_len) {
				best = d;
				best_len = n;
			}
		}
	}
	return best;
}

/* ---- output ---- */

static int write_raw(struct rsp_session *s, const uint8_t *buf, size_t len)
{
	int rc = s->cfg.write(s->cfg.write_ctx, buf, len);
	if (rc < 0 && !s->write_err)
		s->write_err = rc;
	return rc < 0 ? rc : 0;
}

int rsp_send_packet(struct rsp_session *s, const uint8_t *payload, size_t len)
{
	size_t n = rsp_frame_encode('$', payload, len, s->out, s->out_cap);
	if (!n)
		return -ENOSPC;
	s->out_len = n;
	rsp_log(s, "->", payload, len);
	return write_raw(s, s->out, n);
}

void rsp_reply_error(struct rsp_session *s, int err)
{
	unsigned v = err < 0 ? (unsigned)-err : (unsigned)err;
	if (v > 0xff)
		v &= 0xff;
	else if (v == 0)
		v = 0xff;
	rsp_buf_reset(&s->reply);
	rsp_buf_putc(&s->reply, 'E');
	rsp_buf_hex_u64_w(&s->reply, v, 2);
	if (s->error_strings) {
		const char *msg = s->err_msg ? s->err_msg : strerror((int)v);
		rsp_buf_putc(&s->reply, ';');
		if (rsp_buf_hex_str(&s->reply, msg))
			s->reply.len = 3;
	}
}

/* ---- dispatch ---- */

static void dispatch(struct rsp_session *s, const uint8_t *pkt, size_t len)
{
	const struct rsp_packet_def *d = lookup(pkt, len);
	int rc = 0;

	rsp_log(s, "<-", pkt, len);
	rsp_buf_reset(&s->reply);
	s->err_msg = NULL;
	if (d && def_served(s, d) && !rsp_is_disabled(s, pkt, len)) {
		size_t n = strlen(d->name);
		rc = d->fn(s, pkt + n, len - n);
	}
	if (rc == RSP_NO_REPLY)
		return;
	if (rc == -EOPNOTSUPP)
		rsp_buf_reset(&s->reply);
	else if (rc < 0)
		rsp_reply_error(s, rc);
	else if (s->reply.overflow)
		rsp_reply_error(s, -ENOSPC);
	rsp_send_packet(s, s->reply.data, s->reply.len);
	if (s->no_ack_pending) {
		/* QStartNoAckMode: its own exchange is acked; acks stop from the next
		 * packet. */
		s->no_ack_pending = false;
		s->no_ack = true;
		s->fr.no_ack = true;
	}
}

static void enqueue(struct rsp_session *s, const uint8_t *pkt, size_t len)
{
	uint32_t n = (uint32_t)len;
	if (s->queue_cap - s->queue_len < sizeof(n) + len) {
		/* Bounded queue: a client flooding packets during a resume is counted. */
		s->fr.stats.overflow++;
		return;
	}
	memcpy(s->queue + s->queue_len, &n, sizeof(n));
	memcpy(s->queue + s->queue_len + sizeof(n), pkt, len);
	s->queue_len += sizeof(n) + len;
}

static void drain_queue(struct rsp_session *s)
{
	while (s->queue_len && !s->waiting && s->state == RSP_SESSION_OPEN) {
		uint32_t n;
		memcpy(&n, s->queue, sizeof(n));
		dispatch(s, s->queue + sizeof(n), n);
		size_t used = sizeof(n) + n;
		memmove(s->queue, s->queue + used, s->queue_len - used);
		s->queue_len -= used;
	}
}

static void drain(struct rsp_session *s)
{
	if (s->draining)
		return;
	s->draining = true;
	drain_queue(s);
	s->draining = false;
}

int rsp_session_feed(struct rsp_session *s, const uint8_t *buf, size_t len)
{
	static const uint8_t plus = '+', minus = '-';
	static const uint8_t too_long[] = "E07";
	size_t plen;
	const uint8_t *pkt;

	for (size_t i = 0; i < len && s->state == RSP_SESSION_OPEN && !s->write_err; i++) {
		switch (rsp_framer_byte(&s->fr, buf[i])) {
		case RSP_FRAME_PACKET:
			if (!s->no_ack)
				write_raw(s, &plus, 1);
			pkt = rsp_framer_packet(&s->fr, &plen);
			if (s->waiting)
				enqueue(s, pkt, plen);
			else
				dispatch(s, pkt, plen);
			break;
		case RSP_FRAME_INTERRUPT:
			if ((s->waiting || s->non_stop) && s->ops->interrupt)
				s->ops->interrupt(s->t);
			break;
		case RSP_FRAME_NACK:
			if (!s->no_ack && s->out_len)
				write_raw(s, s->out, s->out_len);
			break;
		case RSP_FRAME_BAD_CHECKSUM:
			if (!s->no_ack)
				write_raw(s, &minus, 1);
			break;
		case RSP_FRAME_OVERFLOW:
			if (!s->no_ack)
				write_raw(s, &plus, 1);
			if (!s->waiting)
				rsp_send_packet(s, too_long, 3);
			break;
		default:
			break;
		}
	}
	if (s->write_err)
		return s->write_err;
	return s->state;
}

int rsp_session_report_stop(struct rsp_session *s, const struct rsp_stop *stop)
{
	if (s->non_stop) {
		rsp_notify_stop(s, stop);
		return s->write_err;
	}
	if (!s->waiting)
		return 0;
	s->waiting = false;
	rsp_buf_reset(&s->reply);
	rsp_stop_format(s, stop, &s->reply);
	rsp_send_packet(s, s->reply.data, s->reply.len);
	drain(s);
	return s->write_err;
}

bool rsp_session_is_waiting(const struct rsp_session *s)
{
	return s->waiting;
}

int rsp_session_console(struct rsp_session *s, const char *text, size_t len)
{
	uint8_t pkt[1 + 2 * 256];
	if (!s->waiting)
		return 0;
	while (len) {
		size_t n = len < 256 ? len : 256;
		pkt[0] = 'O';
		rsp_hex_encode((const uint8_t *)text, n, (char *)pkt + 1);
		int rc = rsp_send_packet(s, pkt, 1 + 2 * n);
		if (rc)
			return rc;
		text += n;
		len -= n;
	}
	return 0;
}

void rsp_session_stats(const struct rsp_session *s, struct rsp_session_stats *out)
{
	*out = s->fr.stats;
}

/* ---- qSupported ---- */

static bool has_feature(const uint8_t *a, size_t len, const char *feat)
{
	size_t n = strlen(feat);
	const uint8_t *p = a, *end = a + len;
	while (p < end) {
		const uint8_t *e = rsp_memchr(p, end, ';');
		size_t l = e ? (size_t)(e - p) : (size_t)(end - p);
		if (l >= n && !memcmp(p, feat, n) && (l == n || feat[n - 1] == '='))
			return true;
		p = e ? e + 1 : end;
	}
	return false;
}

static bool xml_regs_has_arm(const uint8_t *a, size_t len)
{
	const char *key = "xmlRegisters=";
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl <= len; i++) {
		if (memcmp(a + i, key, kl))
			continue;
		for (size_t j = i + kl; j + 3 <= len && a[j] != ';'; j++)
			if (!memcmp(a + j, "arm", 3))
				return true;
	}
	return false;
}

static bool feature_disabled(const struct rsp_session *s, const char *f)
{
	size_t n = strcspn(f, "+-=");
	return rsp_is_disabled(s, (const uint8_t *)f, n);
}

static void put_feature(struct rsp_session *s, const char *f)
{
	if (feature_disabled(s, f))
		return;
	rsp_buf_putc(&s->reply, ';');
	rsp_buf_puts(&s->reply, f);
}

int rsp_session_qsupported(struct rsp_session *s, const uint8_t *a, size_t len)
{
	const struct rsp_target_ops *o = s->ops;
	bool tell = o->set_client_features != NULL;
	struct rsp_client_features f = {0};

	if (len && a[0] == ':') {
		a++;
		len--;
	}
	f.multiprocess = has_feature(a, len, "multiprocess+") &&
			 !rsp_is_disabled(s, (const uint8_t *)"multiprocess", 12);
	f.swbreak = has_feature(a, len, "swbreak+") && o->insert_point;
	f.hwbreak = has_feature(a, len, "hwbreak+") && o->insert_point;
	f.fork_events = tell && has_feature(a, len, "fork-events+");
	f.vfork_events = tell && has_feature(a, len, "vfork-events+");
	f.exec_events = tell && has_feature(a, len, "exec-events+");
	f.no_resumed = tell && has_feature(a, len, "no-resumed+");
	f.thread_events = s->feat.thread_events;
	/* lldb 14 never offers swbreak+ and lists arm among its xmlRegisters; gdb
	 * always offers swbreak+. The target rewinds the PC after an int3 for every
	 * client (lldb needs it, and gdb with swbreak+ does too), so the protocol
	 * only reports. */
	f.is_lldb = xml_regs_has_arm(a, len) || !has_feature(a, len, "swbreak+");
	if (feature_disabled(s, "swbreak"))
		f.swbreak = false;
	if (feature_disabled(s, "hwbreak"))
		f.hwbreak = false;
	s->feat = f;

	rsp_buf_puts(&s->reply, "PacketSize=");
	rsp_buf_hex_u64(&s->reply, s->packet_size);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		for (const struct rsp_packet_def *d = families[i]; d->name; d++)
			if (d->feature && def_served(s, d) &&
			    !rsp_is_disabled(s, (const uint8_t *)d->name, strlen(d->name)))
				put_feature(s, d->feature);
	if (f.multiprocess)
		put_feature(s, "multiprocess+");
	if (f.swbreak)
		put_feature(s, "swbreak+");
	if (f.hwbreak)
		put_feature(s, "hwbreak+");
	if (f.fork_events)
		put_feature(s, "fork-events+");
	if (f.vfork_events)
		put_feature(s, "vfork-events+");
	if (f.exec_events)
		put_feature(s, "exec-events+");
	if (f.no_resumed)
		put_feature(s, "no-resumed+");
	rsp_features_changed(s);
	return 0;
}

void rsp_features_changed(struct rsp_session *s)
{
	if (s->ops->set_client_features)
		s->ops->set_client_features(s->t, &s->feat);
}

/* ---- lifetime ---- */

void rsp_session_free(struct rsp_session *s)
{
	if (!s)
		return;
	free(s->disabled);
	free(s->in);
	free(s->reply.data);
	free(s->out);
	free(s->scratch);
	free(s->gbuf);
	free(s->gavail);
	free(s->threads);
	free(s->libs);
	free(s->queue);
	free(s->notif);
	free(s->nout);
	free(s->nfmt);
	for (int i = 0; i < RSP_SAVE_SLOTS; i++)
		free(s->saved[i]);
	free(s);
}

struct rsp_session *rsp_session_new(const struct rsp_session_config *cfg)
{
	struct rsp_session *s = calloc(1, sizeof(*s));
	const struct rsp_reg_layout *l;
	size_t reply_cap;
	bool ok = true;

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->ops = cfg->ops;
	s->t = cfg->target;
	s->extended = cfg->extended;
	s->state = RSP_SESSION_OPEN;
	s->packet_size = cfg->packet_size ? cfg->packet_size : DEFAULT_PACKET_SIZE;
	if (s->packet_size < MIN_PACKET_SIZE)
		s->packet_size = MIN_PACKET_SIZE;
	s->g_thread = s->c_thread = (struct rsp_ptid){0, 0};
	if (cfg->disabled && cfg->disabled[0])
		ok = ok && !copy_disabled(s, cfg->disabled);
	l = s->ops->reg_layout ? s->ops->reg_layout(s->t) : NULL;
	s->g_cap = l && l->g_size ? l->g_size : 16;
	s->avail_cap = l && l->nregs ? l->nregs : 1;
	reply_cap = 2 * s->packet_size + 64;
	s->in = malloc(s->packet_size);
	uint8_t *rmem = malloc(reply_cap);
	rsp_buf_init(&s->reply, rmem, reply_cap);
	s->out_cap = reply_cap + 4;
	s->out = malloc(s->out_cap);
	s->scratch_cap = 4 * s->packet_size + 65536;
	s->scratch = malloc(s->scratch_cap);
	s->gbuf = malloc(s->g_cap);
	s->gavail = malloc(s->avail_cap);
	s->threads = calloc(RSP_MAX_THREADS, sizeof(*s->threads));
	s->libs = calloc(RSP_MAX_LIBS, sizeof(*s->libs));
	s->queue_cap = RSP_QUEUE_PACKETS * (s->packet_size + 4);
	s->queue = malloc(s->queue_cap);
	if (s->ops->set_non_stop) {
		s->notif_cap = RSP_NOTIF_BYTES;
		s->notif = malloc(s->notif_cap);
		s->nout = malloc(s->out_cap);
		s->nfmt_cap = reply_cap;
		s->nfmt = malloc(s->nfmt_cap);
		ok = ok && s->notif && s->nout && s->nfmt;
	}
	for (int i = 0; i < RSP_SAVE_SLOTS; i++) {
		s->saved[i] = malloc(s->g_cap);
		ok = ok && s->saved[i];
	}
	ok = ok && s->in && rmem && s->out && s->scratch && s->gbuf && s->gavail && s->threads &&
	     s->libs && s->queue;
	if (!ok) {
		rsp_session_free(s);
		return NULL;
	}
	rsp_framer_init(&s->fr, s->in, s->packet_size);
	return s;
}
