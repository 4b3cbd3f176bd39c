/* General query packets: qSupported, ?, qAttached, qSymbol, QStartNoAckMode, !,
 * vMustReplyEmpty, QEnableErrorStrings, qEcho, qHostInfo, qProcessInfo,
 * qGetWorkingDir, qRcmd (monitor, with built-in help and exit),
 * qWatchpointSupportInfo. */
#include <errno.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"
#include "protocol/monitor.h"

/* The stub only serves Linux x86_64 (DESIGN.md): lldb's host triple. */
static const char triple[] = "x86_64-pc-linux-gnu";

static int h_qsupported(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return rsp_session_qsupported(s, a, n);
}

static int h_question(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_stop st;
	int rc;

	if (s->non_stop)
		return rsp_nonstop_status(s);
	memset(&st, 0, sizeof(st));
	st.core = -1;
	rc = s->ops->last_stop ? s->ops->last_stop(s->t, &st) : -ESRCH;
	if (rc == -ESRCH) {
		/* No process: gdbserver answers W00 (extended mode), lldb-server E02. */
		if (s->feat.is_lldb)
			return -2;
		return rsp_buf_puts(&s->reply, "W00");
	}
	if (rc)
		return rc;
	return rsp_stop_format(s, &st, &s->reply);
}

static int h_qattached(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint64_t pid = 0;
	bool was = false;
	int rc;

	if (n) {
		if (a[0] != ':' || rsp_hex_parse_u64(a + 1, n - 1, &pid))
			return -EINVAL;
	}
	rc = s->ops->attached(s->t, n ? (int64_t)pid : -1, &was);
	if (rc)
		return rc;
	return rsp_buf_puts(&s->reply, was ? "1" : "0");
}

static int h_ok(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return rsp_buf_puts(&s->reply, "OK");
}

static int h_empty(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return 0;
}

static int h_noack(struct rsp_session *s, const uint8_t *a, size_t n)
{
	s->no_ack_pending = true;
	return rsp_buf_puts(&s->reply, "OK");
}

static int h_extended(struct rsp_session *s, const uint8_t *a, size_t n)
{
	s->extended = true;
	return rsp_buf_puts(&s->reply, "OK");
}

static int h_error_strings(struct rsp_session *s, const uint8_t *a, size_t n)
{
	s->error_strings = true;
	return rsp_buf_puts(&s->reply, "OK");
}

static int h_echo(struct rsp_session *s, const uint8_t *a, size_t n)
{
	/* lldb matches the whole echoed packet to resynchronise. */
	rsp_buf_puts(&s->reply, "qEcho");
	return rsp_buf_put(&s->reply, a, n);
}

static int h_host_info(struct rsp_session *s, const uint8_t *a, size_t n)
{
	/* lldb-server's convention: a client that learns the host is Linux reads signal
	 * numbers as Linux's (lldb 14 shows gdb's 30, SIGUSR1, as SIGPWR). gdb never asks. */
	s->host_signals = true;
	rsp_buf_puts(&s->reply, "triple:");
	rsp_buf_hex_str(&s->reply, triple);
	return rsp_buf_puts(&s->reply, ";ptrsize:8;endian:little;ostype:linux;"
				       "watchpoint_exceptions_received:after;");
}

static void put_kv(struct rsp_buf *b, const char *k, int64_t v)
{
	rsp_buf_puts(b, k);
	rsp_buf_hex_i64(b, v);
	rsp_buf_putc(b, ';');
}

static int h_process_info(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_process_info pi;
	int rc;

	memset(&pi, 0, sizeof(pi));
	rc = s->ops->process_info(s->t, &pi);
	if (rc)
		return rc;
	put_kv(&s->reply, "pid:", pi.pid);
	put_kv(&s->reply, "parent-pid:", pi.ppid);
	put_kv(&s->reply, "real-uid:", pi.uid);
	put_kv(&s->reply, "real-gid:", pi.gid);
	put_kv(&s->reply, "effective-uid:", pi.euid);
	put_kv(&s->reply, "effective-gid:", pi.egid);
	rsp_buf_puts(&s->reply, "triple:");
	rsp_buf_hex_str(&s->reply, triple);
	rsp_buf_puts(&s->reply, ";ostype:linux;endian:little;ptrsize:8;");
	if (pi.name) {
		rsp_buf_puts(&s->reply, "name:");
		rsp_buf_hex_str(&s->reply, pi.name);
		rsp_buf_putc(&s->reply, ';');
	}
	return 0;
}

static int h_get_cwd(struct rsp_session *s, const uint8_t *a, size_t n)
{
	char *buf = (char *)s->scratch;
	size_t cap = s->packet_size / 2;
	int rc = s->ops->get_cwd(s->t, buf, cap);
	if (rc)
		return rc;
	buf[cap - 1] = 0;
	return rsp_buf_hex_str(&s->reply, buf);
}

/* ---- monitor ---- */

static void monitor_out(void *ctx, const char *text, size_t len)
{
	struct rsp_session *s = ctx;
	uint8_t pkt[1 + 2 * 256];
	while (len) {
		size_t n = len < 256 ? len : 256;
		pkt[0] = 'O';
		rsp_hex_encode((const uint8_t *)text, n, (char *)pkt + 1);
		rsp_send_packet(s, pkt, 1 + 2 * n);
		text += n;
		len -= n;
	}
}

static void out_str(struct rsp_session *s, const char *t)
{
	monitor_out(s, t, strlen(t));
}

/* qGetTLSAddr:THREAD,OFFSET,LM (gdb, when it prints a __thread variable) */
static int h_tls_addr(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	struct rsp_ptid th;
	uint64_t off, lm;
	taddr_t addr;
	int rc;

	if (rsp_parse_ptid(&p, end, &th) || p >= end || *p++ != ',' ||
	    rsp_hex_scan_u64(&p, end, &off) || p >= end || *p++ != ',' ||
	    rsp_hex_scan_u64(&p, end, &lm) || p != end)
		return -EINVAL;
	rc = s->ops->get_tls_addr(s->t, th, off, lm, &addr);
	if (rc)
		return rc;
	return rsp_buf_hex_u64(&s->reply, addr);
}

/* ---- the session's own monitor commands (gdbserver's), then the target's ---- */

static int mon_exit(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	((struct rsp_session *)t)->state = RSP_SESSION_EXIT;
	return 0;
}

static int mon_remote_debug(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	struct rsp_session *s = t;

	if (strcmp(args, "0") && strcmp(args, "1"))
		return -EINVAL;
	s->cfg.log_on = args[0] == '1';
	out_str(s, s->cfg.log_on ? "Protocol debug output enabled.\n"
				 : "Protocol debug output disabled.\n");
	return 0;
}

/* gdbserver's options: all, none, timestamp (comma-separated). */
static int mon_debug_format(void *t, const char *args, rsp_output_fn out, void *ctx)
{
	struct rsp_session *s = t;
	const char *p = args;

	if (!*p)
		return -EINVAL;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 3 && !memcmp(p, "all", 3)) {
			s->log_ts = true;
			out_str(s, "All extra debug format options enabled.\n");
		} else if (n == 4 && !memcmp(p, "none", 4)) {
			s->log_ts = false;
			out_str(s, "All extra debug format options disabled.\n");
		} else if (n == 9 && !memcmp(p, "timestamp", 9)) {
			s->log_ts = true;
			out_str(s, "Timestamps in debug output enabled.\n");
		} else {
			return -EINVAL;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

static const struct rsp_monitor_cmd session_cmds[] = {
	{"set remote-debug", "0|1", "log every packet on the server's stderr", mon_remote_debug},
	{"set debug-format", "all|none|timestamp", "a timestamp before each logged packet",
	 mon_debug_format},
	{"exit", "", "end the server", mon_exit},
};

static void monitor_help(struct rsp_session *s)
{
	static const struct rsp_monitor_table t = {session_cmds, 3};
	const struct rsp_monitor_table *tables[] = {&t};

	out_str(s, "The following monitor commands are supported:\n"
		   "  help - this list\n");
	rsp_monitor_run(tables, 1, s, "help", 4, monitor_out, s);
	/* The target lists its own commands for "help". */
	if (s->ops->monitor)
		s->ops->monitor(s->t, "help", 4, monitor_out, s);
}

static int h_rcmd(struct rsp_session *s, const uint8_t *a, size_t n)
{
	static const struct rsp_monitor_table t = {session_cmds, 3};
	const struct rsp_monitor_table *tables[] = {&t};
	size_t len;
	int rc;
	char *cmd;

	if (n < 1 || a[0] != ',')
		return -EINVAL;
	cmd = rsp_hex_cstr(s, a + 1, n - 1, 0);
	if (!cmd)
		return -EINVAL;
	len = strlen(cmd);
	if (!strcmp(cmd, "help")) {
		monitor_help(s);
		return rsp_buf_puts(&s->reply, "OK");
	}
	rc = rsp_monitor_run(tables, 1, s, cmd, len, monitor_out, s);
	if (rc == -ENOENT)
		rc = s->ops->monitor ? s->ops->monitor(s->t, cmd, len, monitor_out, s) : -ENOENT;
	if (rc == -ENOENT) {
		/* gdbserver: the message, the list, and an error reply (gdb: "Protocol error") */
		out_str(s, "Unknown monitor command.\n\n");
		monitor_help(s);
		return -EPERM;
	}
	if (rc)
		return rc;
	return rsp_buf_puts(&s->reply, "OK");
}

static int h_watch_info(struct rsp_session *s, const uint8_t *a, size_t n)
{
	/* x86 has four debug address registers. */
	return rsp_buf_puts(&s->reply, "num:4;");
}

const struct rsp_packet_def rsp_pkts_general[] = {
	{"qSupported", RSP_MATCH_PREFIX, h_qsupported, 0, NULL, NULL},
	{"?", RSP_MATCH_EXACT, h_question, 0, NULL, NULL},
	{"qAttached", RSP_MATCH_PREFIX, h_qattached, RSP_OP(attached), NULL, NULL},
	{"qSymbol:", RSP_MATCH_PREFIX, h_ok, 0, NULL, NULL},
	{"QStartNoAckMode", RSP_MATCH_EXACT, h_noack, 0, "QStartNoAckMode+", NULL},
	{"!", RSP_MATCH_EXACT, h_extended, 0, NULL, NULL},
	{"vMustReplyEmpty", RSP_MATCH_EXACT, h_empty, 0, NULL, NULL},
	{"QEnableErrorStrings", RSP_MATCH_EXACT, h_error_strings, 0, NULL, NULL},
	{"qEcho", RSP_MATCH_PREFIX, h_echo, 0, "qEcho+", NULL},
	{"qHostInfo", RSP_MATCH_EXACT, h_host_info, 0, NULL, NULL},
	{"qProcessInfo", RSP_MATCH_EXACT, h_process_info, RSP_OP(process_info), NULL, NULL},
	{"qGetTLSAddr:", RSP_MATCH_PREFIX, h_tls_addr, RSP_OP(get_tls_addr), NULL, NULL},
	{"qGetWorkingDir", RSP_MATCH_EXACT, h_get_cwd, RSP_OP(get_cwd), NULL, NULL},
	{"qRcmd", RSP_MATCH_PREFIX, h_rcmd, 0, NULL, NULL},
	{"qWatchpointSupportInfo", RSP_MATCH_PREFIX, h_watch_info, RSP_OP(insert_point), NULL,
	 NULL},
	{NULL, 0, NULL, 0, NULL, NULL},
};
