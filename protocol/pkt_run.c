/* Execution control: c C s S, vCont? vCont, Hg Hc, T, k vKill D, vRun vAttach
 * R, vCtrlC, bc bs. A successful resume leaves the session waiting (no reply
 * now); the owner reports the stop through rsp_session_report_stop(). */
#include <errno.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"
#include "protocol/signals.h"

static int host_sig(const struct rsp_session *s, uint64_t sig, int *out)
{
	int h = rsp_sig_in(s, sig);
	if (h < 0)
		return -EINVAL;
	*out = h;
	return 0;
}

static struct rsp_ptid any_thread(void)
{
	return (struct rsp_ptid){-1, -1};
}

/* Legacy c/C/s/S: [SIG][;]ADDR. */
static int legacy(struct rsp_session *s, const uint8_t *a, size_t n, enum rsp_resume_kind kind,
		  bool has_sig)
{
	struct rsp_resume_action *act = &s->acts[0];
	const uint8_t *p = a, *end = a + n;
	uint64_t v;

	memset(act, 0, sizeof(*act));
	act->kind = kind;
	if (kind == RSP_RESUME_STEP)
		act->thread = s->c_thread.tid > 0 ? s->c_thread : s->g_thread;
	else
		act->thread = any_thread();
	if (has_sig) {
		if (rsp_hex_scan_u64(&p, end, &v) || host_sig(s, v, &act->signo))
			return -EINVAL;
		if (p < end && *p++ != ';')
			return -EINVAL;
	}
	if (p < end) {
		if (rsp_hex_parse_u64(p, (size_t)(end - p), &v))
			return -EINVAL;
		act->has_addr = true;
		act->addr = v;
	}
	return rsp_start_resume(s, 1);
}

static int h_c(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return legacy(s, a, n, RSP_RESUME_CONTINUE, false);
}

static int h_C(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return legacy(s, a, n, RSP_RESUME_CONTINUE, true);
}

static int h_s(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return legacy(s, a, n, RSP_RESUME_STEP, false);
}

static int h_S(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return legacy(s, a, n, RSP_RESUME_STEP, true);
}

static int h_vcont_query(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return rsp_buf_puts(&s->reply, "vCont;c;C;s;S;t;r");
}

static int parse_action(const struct rsp_session *s, const uint8_t **pp, const uint8_t *end,
			struct rsp_resume_action *act)
{
	const uint8_t *p = *pp;
	uint64_t v;

	memset(act, 0, sizeof(*act));
	act->thread = any_thread();
	if (p >= end)
		return -EINVAL;
	switch (*p++) {
	case 'c':
		act->kind = RSP_RESUME_CONTINUE;
		break;
	case 's':
		act->kind = RSP_RESUME_STEP;
		break;
	case 't':
		act->kind = RSP_RESUME_STOP;
		break;
	case 'C':
	case 'S':
		act->kind = p[-1] == 'C' ? RSP_RESUME_CONTINUE : RSP_RESUME_STEP;
		if (rsp_hex_scan_u64(&p, end, &v) || host_sig(s, v, &act->signo))
			return -EINVAL;
		break;
	case 'r':
		act->kind = RSP_RESUME_RANGE_STEP;
		if (rsp_parse_addr_len(&p, end, &act->start, &act->end))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (p < end && *p == ':') {
		p++;
		if (rsp_parse_ptid(&p, end, &act->thread))
			return -EINVAL;
	}
	if (p < end && *p != ';')
		return -EINVAL;
	*pp = p;
	return 0;
}

static int h_vcont(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	size_t k = 0;

	while (p < end) {
		if (*p != ';' || k == RSP_MAX_ACTIONS)
			return -EINVAL;
		p++;
		if (parse_action(s, &p, end, &s->acts[k++]))
			return -EINVAL;
	}
	if (!k)
		return -EINVAL;
	return rsp_start_resume(s, k);
}

static int h_H(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a + 1, *end = a + n;
	struct rsp_ptid id;

	if (n < 2 || (a[0] != 'g' && a[0] != 'c'))
		return -EINVAL;
	if (rsp_parse_ptid(&p, end, &id) || p != end)
		return -EINVAL;
	if (a[0] == 'g') {
		s->g_thread = id;
		if (s->ops->select_thread)
			s->ops->select_thread(s->t, id);
	} else
		s->c_thread = id;
	return rsp_buf_puts(&s->reply, "OK");
}

static int h_T(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	struct rsp_ptid id;

	if (rsp_parse_ptid(&p, end, &id) || p != end)
		return -EINVAL;
	if (!s->ops->thread_alive(s->t, id))
		return -ESRCH;
	return rsp_buf_puts(&s->reply, "OK");
}

static bool processes_remain(struct rsp_session *s)
{
	return !rsp_load_threads(s) && s->nthreads > 0;
}

static int h_k(struct rsp_session *s, const uint8_t *a, size_t n)
{
	s->ops->kill(s->t, -1);
	/* lldb expects X09 (lldb-server); gdb does not wait for a reply. */
	if (!s->extended)
		s->state = RSP_SESSION_CLOSE;
	return rsp_buf_puts(&s->reply, "X09");
}

static int h_vkill(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint64_t pid;
	int rc;
	if (rsp_hex_parse_u64(a, n, &pid) || pid > INT64_MAX)
		return -EINVAL;
	rc = s->ops->kill(s->t, (int64_t)pid);
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

static int h_D(struct rsp_session *s, const uint8_t *a, size_t n)
{
	int64_t pid = -1;
	uint64_t v;
	int rc;

	if (n) {
		/* lldb sends the pid zero-padded to 16 digits. */
		if (a[0] != ';' || rsp_hex_parse_u64(a + 1, n - 1, &v) || v > INT64_MAX)
			return -EINVAL;
		pid = (int64_t)v;
	}
	rc = s->ops->detach(s->t, pid);
	if (rc)
		return rc;
	/* Like gdbserver: a non-extended server ends when no process is left to
	 * debug. */
	if (!s->extended && (pid == -1 || !processes_remain(s)))
		s->state = RSP_SESSION_CLOSE;
	return rsp_buf_puts(&s->reply, "OK");
}

static int stop_reply_from(struct rsp_session *s, int rc, const struct rsp_stop *st)
{
	if (rc)
		return rc;
	return rsp_stop_format(s, st, &s->reply);
}

static int h_vrun(struct rsp_session *s, const uint8_t *a, size_t n)
{
	char *argv[RSP_MAX_ARGS];
	const uint8_t *p = a, *end = a + n;
	size_t argc = 0, off = 0;
	struct rsp_stop st;

	while (p < end) {
		const uint8_t *e;
		if (*p != ';' || argc == RSP_MAX_ARGS)
			return -EINVAL;
		p++;
		e = rsp_memchr(p, end, ';');
		if (!e)
			e = end;
		argv[argc] = rsp_hex_cstr(s, p, (size_t)(e - p), off);
		if (!argv[argc])
			return -EINVAL;
		off += strlen(argv[argc]) + 1;
		argc++;
		p = e;
	}
	if (!argc)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.core = -1;
	return stop_reply_from(s, s->ops->run(s->t, argv, argc, &st), &st);
}

static int h_vattach(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint64_t pid;
	struct rsp_stop st;
	int rc;

	if (rsp_hex_parse_u64(a, n, &pid) || pid > INT64_MAX)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.core = -1;
	rc = s->ops->attach(s->t, (int64_t)pid, &st);
	/* Non-stop: OK (gdbserver's answer); gdb then stops each thread with vCont;t. */
	if (!rc && s->non_stop)
		return rsp_buf_puts(&s->reply, "OK");
	return stop_reply_from(s, rc, &st);
}

static int h_R(struct rsp_session *s, const uint8_t *a, size_t n)
{
	char empty[] = "";
	char *argv[1] = {empty};
	struct rsp_stop st;

	if (!s->extended)
		return -EPERM;
	memset(&st, 0, sizeof(st));
	s->ops->run(s->t, argv, 0, &st); /* argc 0: the last program and arguments */
	return RSP_NO_REPLY;		 /* R has no reply */
}

static int h_ctrlc(struct rsp_session *s, const uint8_t *a, size_t n)
{
	int rc = s->ops->interrupt(s->t);
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

static int h_bc(struct rsp_session *s, const uint8_t *a, size_t n)
{
	int rc;
	s->waiting = true;
	rc = s->ops->reverse_continue(s->t);
	if (rc) {
		s->waiting = false;
		return rc;
	}
	return RSP_NO_REPLY;
}

static int h_bs(struct rsp_session *s, const uint8_t *a, size_t n)
{
	int rc;
	s->waiting = true;
	rc = s->ops->reverse_step(s->t, s->g_thread);
	if (rc) {
		s->waiting = false;
		return rc;
	}
	return RSP_NO_REPLY;
}

const struct rsp_packet_def rsp_pkts_run[] = {
	{"c", RSP_MATCH_PREFIX, h_c, RSP_OP(resume), NULL, NULL},
	{"C", RSP_MATCH_PREFIX, h_C, RSP_OP(resume), NULL, NULL},
	{"s", RSP_MATCH_PREFIX, h_s, RSP_OP(resume), NULL, NULL},
	{"S", RSP_MATCH_PREFIX, h_S, RSP_OP(resume), NULL, NULL},
	{"vCont?", RSP_MATCH_EXACT, h_vcont_query, RSP_OP(resume), "vContSupported+", NULL},
	{"vCont", RSP_MATCH_PREFIX, h_vcont, RSP_OP(resume), NULL, NULL},
	{"H", RSP_MATCH_PREFIX, h_H, 0, NULL, NULL},
	{"T", RSP_MATCH_PREFIX, h_T, RSP_OP(thread_alive), NULL, NULL},
	{"k", RSP_MATCH_EXACT, h_k, RSP_OP(kill), NULL, NULL},
	{"vKill;", RSP_MATCH_PREFIX, h_vkill, RSP_OP(kill), NULL, NULL},
	{"D", RSP_MATCH_PREFIX, h_D, RSP_OP(detach), NULL, NULL},
	{"vRun", RSP_MATCH_PREFIX, h_vrun, RSP_OP(run), NULL, NULL},
	{"vAttach;", RSP_MATCH_PREFIX, h_vattach, RSP_OP(attach), NULL, NULL},
	{"R", RSP_MATCH_PREFIX, h_R, RSP_OP(run), NULL, NULL},
	{"vCtrlC", RSP_MATCH_EXACT, h_ctrlc, RSP_OP(interrupt), NULL, NULL},
	{"bc", RSP_MATCH_EXACT, h_bc, RSP_OP(reverse_continue), "ReverseContinue+", NULL},
	{"bs", RSP_MATCH_EXACT, h_bs, RSP_OP(reverse_step), "ReverseStep+", NULL},
	{NULL, 0, NULL, 0, NULL, NULL},
};
