/* Helpers shared by the session and the packet handlers (stop replies included): ptid and
 * address parsing, thread lists, the register layout, resume and qXfer replies, packet
 * capability checks. They read and write session state only; they never dispatch, so
 * session.c, stop.c and the pkt_*.c files all stand above this file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "protocol/hex.h"
#include "protocol/internal.h"
#include "protocol/signals.h"

bool rsp_has_op(const struct rsp_session *s, size_t op)
{
	void (*fp)(void);
	if (!op)
		return true;
	memcpy(&fp, (const char *)s->ops + op - 1, sizeof(fp));
	return fp != NULL;
}

static bool is_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

bool rsp_is_disabled(const struct rsp_session *s, const uint8_t *name, size_t len)
{
	const char *p = s->disabled;
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n && n <= len && !memcmp(p, name, n) && (n == len || !is_name_char(name[n])))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

/* ---- helpers for the handler files ---- */

int rsp_parse_ptid(const uint8_t **p, const uint8_t *end, struct rsp_ptid *out)
{
	const uint8_t *q = *p;
	int64_t pid = 0, tid;
	int rc;

	if (q < end && *q == 'p') {
		q++;
		rc = rsp_hex_scan_i64(&q, end, &pid);
		if (rc)
			return rc;
		tid = -1;
		if (q < end && *q == '.') {
			q++;
			rc = rsp_hex_scan_i64(&q, end, &tid);
			if (rc)
				return rc;
		}
	} else {
		rc = rsp_hex_scan_i64(&q, end, &tid);
		if (rc)
			return rc;
		if (tid == -1)
			pid = -1;
	}
	if (pid < -1 || tid < -1)
		return -EINVAL;
	out->pid = pid;
	out->tid = tid;
	*p = q;
	return 0;
}

int rsp_put_ptid(struct rsp_session *s, struct rsp_buf *b, struct rsp_ptid id)
{
	int rc = 0;
	if (s->feat.multiprocess) {
		rc |= rsp_buf_putc(b, 'p');
		rc |= rsp_buf_hex_i64(b, id.pid);
		rc |= rsp_buf_putc(b, '.');
	}
	rc |= rsp_buf_hex_i64(b, id.tid);
	return rc ? -ENOSPC : 0;
}

int rsp_thread_suffix(const uint8_t *args, size_t *len, struct rsp_ptid *th)
{
	static const char key[] = ";thread:";
	size_t kl = sizeof(key) - 1, n = *len;
	for (size_t i = 0; i + kl <= n; i++) {
		if (memcmp(args + i, key, kl))
			continue;
		const uint8_t *p = args + i + kl, *end = args + n;
		if (rsp_parse_ptid(&p, end, th))
			return -EINVAL;
		if (p < end && *p == ';')
			p++;
		if (p != end)
			return -EINVAL;
		*len = i;
		return 1;
	}
	return 0;
}

struct rsp_ptid rsp_reg_thread(struct rsp_session *s, const uint8_t *args, size_t *len, int *rc)
{
	struct rsp_ptid th;
	int r = rsp_thread_suffix(args, len, &th);
	*rc = r < 0 ? r : 0;
	return r == 1 ? th : s->g_thread;
}

int rsp_parse_addr_len(const uint8_t **p, const uint8_t *end, uint64_t *addr, uint64_t *len)
{
	const uint8_t *q = *p;
	if (rsp_hex_scan_u64(&q, end, addr) || q >= end || *q != ',')
		return -EINVAL;
	q++;
	if (rsp_hex_scan_u64(&q, end, len))
		return -EINVAL;
	*p = q;
	return 0;
}

char *rsp_hex_cstr(struct rsp_session *s, const uint8_t *hex, size_t len, size_t off)
{
	size_t n;
	if (off >= s->scratch_cap ||
	    rsp_hex_decode(hex, len, s->scratch + off, s->scratch_cap - off - 1, &n))
		return NULL;
	if (memchr(s->scratch + off, 0, n))
		return NULL;
	s->scratch[off + n] = 0;
	return (char *)s->scratch + off;
}

int rsp_load_threads(struct rsp_session *s)
{
	size_t n = 0;
	int rc;
	s->nthreads = 0;
	if (!s->ops->list_threads)
		return -EOPNOTSUPP;
	rc = s->ops->list_threads(s->t, s->threads, RSP_MAX_THREADS, &n);
	if (rc)
		return rc;
	s->nthreads = n < RSP_MAX_THREADS ? n : RSP_MAX_THREADS;
	return 0;
}

const struct rsp_reg_layout *rsp_layout(struct rsp_session *s)
{
	const struct rsp_reg_layout *l = s->ops->reg_layout ? s->ops->reg_layout(s->t) : NULL;
	if (!l || l->g_size > s->g_cap || l->nregs > s->avail_cap)
		return NULL;
	return l;
}

int rsp_start_resume(struct rsp_session *s, size_t nacts)
{
	int rc;
	if (s->non_stop) {
		/* Non-stop: OK now; each stop comes later as a %Stop notification. */
		rc = s->ops->resume(s->t, s->acts, nacts);
		return rc ? rc : rsp_buf_puts(&s->reply, "OK");
	}
	/* Waiting is set before the call so that a target reporting the stop from
	 * inside resume() is served. */
	s->waiting = true;
	rc = s->ops->resume(s->t, s->acts, nacts);
	if (rc) {
		s->waiting = false;
		return rc;
	}
	return RSP_NO_REPLY;
}

int rsp_xfer_reply(struct rsp_session *s, const uint8_t *obj, size_t obj_len, uint64_t off,
		   uint64_t len)
{
	size_t avail, used;
	if (off >= obj_len) {
		return rsp_buf_putc(&s->reply, 'l');
	}
	avail = obj_len - (size_t)off;
	if (len < avail)
		avail = (size_t)len;
	rsp_buf_putc(&s->reply, 'm');
	rsp_buf_bin(&s->reply, obj + off, avail, &used);
	if (off + used == obj_len)
		s->reply.data[0] = 'l';
	return 0;
}

void rsp_log(struct rsp_session *s, const char *dir, const uint8_t *pkt, size_t len)
{
	char tdir[48];
	struct timespec ts;

	if (!s->cfg.log || !s->cfg.log_on)
		return;
	if (s->log_ts && !clock_gettime(CLOCK_REALTIME, &ts)) {
		snprintf(tdir, sizeof(tdir), "%lld.%06ld %s", (long long)ts.tv_sec,
			 ts.tv_nsec / 1000, dir);
		dir = tdir;
	}
	s->cfg.log(s->cfg.log_ctx, dir, pkt, len);
}

int rsp_sig_out(const struct rsp_session *s, int host_signo)
{
	return s->host_signals ? host_signo : rsp_signal_to_gdb(host_signo);
}

int rsp_sig_in(const struct rsp_session *s, uint64_t client_signo)
{
	if (s->host_signals)
		return client_signo < 65 ? (int)client_signo : -1;
	return client_signo > 255 ? -1 : rsp_signal_from_gdb((int)client_signo);
}
