/* Launch settings for later runs: QDisableRandomization, QSetDisableASLR
 * (lldb), QEnvironmentHexEncoded/Unset/Reset, QSetWorkingDir,
 * QStartupWithShell, QPassSignals, QProgramSignals (gdb numbers translated to
 * host), QCatchSyscalls, QLaunchArch. */
#include <errno.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"
#include "protocol/signals.h"

static int reply_rc(struct rsp_session *s, int rc)
{
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

static int bool_arg(const uint8_t *a, size_t n, bool *on)
{
	if (n != 2 || a[0] != ':' || (a[1] != '0' && a[1] != '1'))
		return -EINVAL;
	*on = a[1] == '1';
	return 0;
}

static int h_aslr(struct rsp_session *s, const uint8_t *a, size_t n)
{
	bool on;
	if (bool_arg(a, n, &on))
		return -EINVAL;
	return reply_rc(s, s->ops->set_disable_aslr(s->t, on));
}

static int h_shell(struct rsp_session *s, const uint8_t *a, size_t n)
{
	bool on;
	if (bool_arg(a, n, &on))
		return -EINVAL;
	return reply_rc(s, s->ops->set_startup_with_shell(s->t, on));
}

static int h_env_set(struct rsp_session *s, const uint8_t *a, size_t n)
{
	char *kv = rsp_hex_cstr(s, a, n, 0);
	if (!kv || !strchr(kv, '='))
		return -EINVAL;
	return reply_rc(s, s->ops->env_set(s->t, kv));
}

static int h_env_unset(struct rsp_session *s, const uint8_t *a, size_t n)
{
	char *k = rsp_hex_cstr(s, a, n, 0);
	if (!k || !*k)
		return -EINVAL;
	return reply_rc(s, s->ops->env_unset(s->t, k));
}

static int h_env_reset(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return reply_rc(s, s->ops->env_reset(s->t));
}

static int h_cwd(struct rsp_session *s, const uint8_t *a, size_t n)
{
	char *dir = rsp_hex_cstr(s, a, n, 0);
	if (!dir)
		return -EINVAL;
	return reply_rc(s, s->ops->set_cwd(s->t, dir));
}

/* "a;b;c" gdb signal numbers (hex) -> set[host] = 1. Empty list = none. */
static int parse_sigs(const struct rsp_session *s, const uint8_t *a, size_t n, uint8_t *set,
		      size_t cap)
{
	const uint8_t *p = a, *end = a + n;
	memset(set, 0, cap);
	while (p < end) {
		uint64_t g;
		int h;
		if (rsp_hex_scan_u64(&p, end, &g) || g > 255)
			return -EINVAL;
		if (p < end && *p++ != ';')
			return -EINVAL;
		h = rsp_sig_in(s, g);
		if (h > 0 && (size_t)h < cap)
			set[h] = 1;
	}
	return 0;
}

static int h_pass(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint8_t set[65];
	if (parse_sigs(s, a, n, set, sizeof(set)))
		return -EINVAL;
	return reply_rc(s, s->ops->pass_signals(s->t, set, sizeof(set)));
}

static int h_program(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint8_t set[65];
	if (parse_sigs(s, a, n, set, sizeof(set)))
		return -EINVAL;
	return reply_rc(s, s->ops->program_signals(s->t, set, sizeof(set)));
}

/* QCatchSyscalls:0 | QCatchSyscalls:1[;NR]... (hex syscall numbers). */
static int h_catch_syscalls(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint32_t nrs[RSP_MAX_SYSCALLS];
	const uint8_t *p = a + 2, *end = a + n;
	size_t k = 0;

	if (n < 2 || a[0] != ':' || (a[1] != '0' && a[1] != '1') || (a[1] == '0' && n != 2))
		return -EINVAL;
	while (p < end) {
		uint64_t v;

		if (*p++ != ';' || k == RSP_MAX_SYSCALLS || rsp_hex_scan_u64(&p, end, &v) ||
		    v > UINT32_MAX)
			return -EINVAL;
		nrs[k++] = (uint32_t)v;
	}
	return reply_rc(s, s->ops->catch_syscalls(s->t, a[1] == '1', nrs, k));
}

static int h_arch(struct rsp_session *s, const uint8_t *a, size_t n)
{
	return rsp_buf_puts(&s->reply, "OK");
}

const struct rsp_packet_def rsp_pkts_launch[] = {
	{"QDisableRandomization", RSP_MATCH_PREFIX, h_aslr, RSP_OP(set_disable_aslr),
	 "QDisableRandomization+", NULL},
	{"QSetDisableASLR", RSP_MATCH_PREFIX, h_aslr, RSP_OP(set_disable_aslr), NULL, NULL},
	{"QStartupWithShell", RSP_MATCH_PREFIX, h_shell, RSP_OP(set_startup_with_shell),
	 "QStartupWithShell+", NULL},
	{"QEnvironmentHexEncoded:", RSP_MATCH_PREFIX, h_env_set, RSP_OP(env_set),
	 "QEnvironmentHexEncoded+", NULL},
	{"QEnvironmentUnset:", RSP_MATCH_PREFIX, h_env_unset, RSP_OP(env_unset),
	 "QEnvironmentUnset+", NULL},
	{"QEnvironmentReset", RSP_MATCH_EXACT, h_env_reset, RSP_OP(env_reset), "QEnvironmentReset+",
	 NULL},
	{"QSetWorkingDir:", RSP_MATCH_PREFIX, h_cwd, RSP_OP(set_cwd), "QSetWorkingDir+", NULL},
	{"QPassSignals:", RSP_MATCH_PREFIX, h_pass, RSP_OP(pass_signals), "QPassSignals+", NULL},
	{"QProgramSignals:", RSP_MATCH_PREFIX, h_program, RSP_OP(program_signals),
	 "QProgramSignals+", NULL},
	{"QCatchSyscalls", RSP_MATCH_PREFIX, h_catch_syscalls, RSP_OP(catch_syscalls),
	 "QCatchSyscalls+", NULL},
	{"QLaunchArch:", RSP_MATCH_PREFIX, h_arch, 0, NULL, NULL},
	{NULL, 0, NULL, 0, NULL, NULL},
};
