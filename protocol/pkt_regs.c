/* Register packets: g G p P (each with lldb's `;thread:` suffix),
 * QSaveRegisterState / QRestoreRegisterState and qRegisterInfoN, all from the
 * target's reg_layout. */
#include <errno.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"

static int read_block(struct rsp_session *s, struct rsp_ptid th, const struct rsp_reg_layout *l)
{
	memset(s->gavail, 0, l->nregs);
	return s->ops->read_regs(s->t, th, s->gbuf, s->gavail);
}

static void put_reg(struct rsp_session *s, const struct rsp_reg_layout *l, unsigned i)
{
	const struct rsp_reg_info *r = &l->regs[i];
	if (s->gavail[i]) {
		rsp_buf_hex(&s->reply, s->gbuf + r->offset, r->bitsize / 8);
		return;
	}
	for (unsigned k = 0; k < r->bitsize / 8; k++)
		rsp_buf_puts(&s->reply, "xx");
}

static int h_g(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const struct rsp_reg_layout *l = rsp_layout(s);
	int rc;
	struct rsp_ptid th = rsp_reg_thread(s, a, &n, &rc);

	if (rc || n)
		return -EINVAL;
	if (!l)
		return -EIO;
	rc = read_block(s, th, l);
	if (rc)
		return rc;
	for (unsigned i = 0; i < l->nregs; i++)
		put_reg(s, l, i);
	return 0;
}

static int h_G(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const struct rsp_reg_layout *l = rsp_layout(s);
	size_t got;
	int rc;
	struct rsp_ptid th = rsp_reg_thread(s, a, &n, &rc);

	if (rc)
		return rc;
	if (!l)
		return -EIO;
	if (n != 2 * l->g_size || rsp_hex_decode(a, n, s->gbuf, s->g_cap, &got))
		return -EINVAL;
	rc = s->ops->write_regs(s->t, th, s->gbuf);
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

static int h_p(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const struct rsp_reg_layout *l = rsp_layout(s);
	uint64_t regno;
	int rc;
	struct rsp_ptid th = rsp_reg_thread(s, a, &n, &rc);

	if (rc || rsp_hex_parse_u64(a, n, &regno))
		return -EINVAL;
	if (!l)
		return -EIO;
	if (regno >= l->nregs)
		return -EINVAL;
	rc = read_block(s, th, l);
	if (rc)
		return rc;
	put_reg(s, l, (unsigned)regno);
	return 0;
}

static int h_P(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const struct rsp_reg_layout *l = rsp_layout(s);
	const uint8_t *p = a, *end;
	uint64_t regno;
	uint8_t val[64];
	size_t vlen;
	int rc;
	struct rsp_ptid th = rsp_reg_thread(s, a, &n, &rc);

	end = a + n;
	if (rc || rsp_hex_scan_u64(&p, end, &regno) || p >= end || *p != '=')
		return -EINVAL;
	p++;
	if (!l)
		return -EIO;
	if (regno >= l->nregs)
		return -EINVAL;
	const struct rsp_reg_info *r = &l->regs[regno];
	if (rsp_hex_decode(p, (size_t)(end - p), val, sizeof(val), &vlen) ||
	    vlen != r->bitsize / 8u)
		return -EINVAL;
	if (s->ops->write_reg) {
		rc = s->ops->write_reg(s->t, th, (unsigned)regno, val, vlen);
	} else if (s->ops->write_regs) {
		rc = read_block(s, th, l);
		if (!rc) {
			memcpy(s->gbuf + r->offset, val, vlen);
			rc = s->ops->write_regs(s->t, th, s->gbuf);
		}
	} else {
		rc = -EOPNOTSUPP;
	}
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

static int h_save(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const struct rsp_reg_layout *l = rsp_layout(s);
	int rc;
	struct rsp_ptid th = rsp_reg_thread(s, a, &n, &rc);

	if (rc || n)
		return -EINVAL;
	if (!l)
		return -EIO;
	for (int i = 0; i < RSP_SAVE_SLOTS; i++) {
		if (s->saved_used[i])
			continue;
		rc = s->ops->read_regs(s->t, th, s->saved[i], s->gavail);
		if (rc)
			return rc;
		s->saved_used[i] = true;
		/* lldb reads the save id as a decimal number. */
		return rsp_buf_dec_u64(&s->reply, (uint64_t)i + 1);
	}
	return -ENOSPC;
}

static int h_restore(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint64_t id;
	int rc;
	struct rsp_ptid th = rsp_reg_thread(s, a, &n, &rc);

	if (rc || n < 2 || a[0] != ':' || rsp_dec_parse_u64(a + 1, n - 1, &id))
		return -EINVAL;
	if (id < 1 || id > RSP_SAVE_SLOTS || !s->saved_used[id - 1])
		return -ENOENT;
	rc = s->ops->write_regs(s->t, th, s->saved[id - 1]);
	s->saved_used[id - 1] = false;
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

static int h_reginfo(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const struct rsp_reg_layout *l = rsp_layout(s);
	uint64_t i;
	struct rsp_buf *b = &s->reply;

	if (rsp_hex_parse_u64(a, n, &i))
		return -EINVAL;
	if (!l)
		return -EIO;
	if (i >= l->nregs)
		return -0x45; /* lldb's end marker: E45 */
	const struct rsp_reg_info *r = &l->regs[i];
	rsp_buf_puts(b, "name:");
	rsp_buf_puts(b, r->name);
	if (r->alt_name) {
		rsp_buf_puts(b, ";alt-name:");
		rsp_buf_puts(b, r->alt_name);
	}
	rsp_buf_puts(b, ";bitsize:");
	rsp_buf_dec_u64(b, r->bitsize);
	rsp_buf_puts(b, ";offset:");
	rsp_buf_dec_u64(b, r->offset);
	rsp_buf_puts(b, ";encoding:");
	rsp_buf_puts(b, r->encoding ? r->encoding : "uint");
	rsp_buf_puts(b, ";format:");
	rsp_buf_puts(b, r->format ? r->format : "hex");
	rsp_buf_puts(b, ";set:");
	rsp_buf_puts(b, r->set ? r->set : "General Purpose Registers");
	rsp_buf_putc(b, ';');
	if (r->ehframe_regno >= 0) {
		rsp_buf_puts(b, "ehframe:");
		rsp_buf_dec_u64(b, (uint64_t)r->ehframe_regno);
		rsp_buf_putc(b, ';');
	}
	if (r->dwarf_regno >= 0) {
		rsp_buf_puts(b, "dwarf:");
		rsp_buf_dec_u64(b, (uint64_t)r->dwarf_regno);
		rsp_buf_putc(b, ';');
	}
	if (r->generic) {
		rsp_buf_puts(b, "generic:");
		rsp_buf_puts(b, r->generic);
		rsp_buf_putc(b, ';');
	}
	return 0;
}

const struct rsp_packet_def rsp_pkts_regs[] = {
	{"g", RSP_MATCH_PREFIX, h_g, RSP_OP(read_regs), NULL, NULL},
	{"G", RSP_MATCH_PREFIX, h_G, RSP_OP(write_regs), NULL, NULL},
	{"p", RSP_MATCH_PREFIX, h_p, RSP_OP(read_regs), NULL, NULL},
	{"P", RSP_MATCH_PREFIX, h_P, RSP_OP(read_regs), NULL, NULL},
	{"QSaveRegisterState", RSP_MATCH_PREFIX, h_save, RSP_OP(write_regs), NULL, NULL},
	{"QRestoreRegisterState", RSP_MATCH_PREFIX, h_restore, RSP_OP(write_regs), NULL, NULL},
	{"qRegisterInfo", RSP_MATCH_PREFIX, h_reginfo, RSP_OP(reg_layout), NULL, NULL},
	{NULL, 0, NULL, 0, NULL, NULL},
};
