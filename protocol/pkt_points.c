/* Breakpoint and watchpoint packets Z0..Z4 / z0..z4. A target answering
 * -EOPNOTSUPP for a type gets the empty reply ("type unsupported").
 * Condition/command suffixes are ignored: ConditionalBreakpoints /
 * BreakpointCommands are not advertised. */
#include <errno.h>

#include "protocol/hex.h"
#include "protocol/internal.h"

static int parse_point(const uint8_t *a, size_t n, enum rsp_point_type *type, uint64_t *addr,
		       uint64_t *kind)
{
	const uint8_t *p = a, *end = a + n;
	if (n < 2 || a[0] < '0' || a[0] > '4' || a[1] != ',')
		return -EINVAL;
	*type = (enum rsp_point_type)(a[0] - '0');
	p += 2;
	if (rsp_parse_addr_len(&p, end, addr, kind))
		return -EINVAL;
	if (p != end && *p != ';')
		return -EINVAL;
	return 0;
}

static int h_Z(struct rsp_session *s, const uint8_t *a, size_t n)
{
	enum rsp_point_type type;
	uint64_t addr, kind;
	int rc = parse_point(a, n, &type, &addr, &kind);
	if (rc)
		return rc;
	rc = s->ops->insert_point(s->t, type, addr, (unsigned)kind);
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

static int h_z(struct rsp_session *s, const uint8_t *a, size_t n)
{
	enum rsp_point_type type;
	uint64_t addr, kind;
	int rc = parse_point(a, n, &type, &addr, &kind);
	if (rc)
		return rc;
	rc = s->ops->remove_point(s->t, type, addr, (unsigned)kind);
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

const struct rsp_packet_def rsp_pkts_points[] = {
	{"Z", RSP_MATCH_PREFIX, h_Z, RSP_OP(insert_point), NULL, NULL},
	{"z", RSP_MATCH_PREFIX, h_z, RSP_OP(remove_point), NULL, NULL},
	{NULL, 0, NULL, 0, NULL, NULL},
};
