/* Formatters for tracepoint definitions, trace state variables and the trace status
 * (tpfmt.h). Pure: no session, no target, no allocation. Addresses are written with 16 hex
 * digits as gdb sends them in QTDP; every other number without padding. */
#include "protocol/tpfmt.h"

#include <errno.h>

static int put_addr(struct rsp_buf *b, taddr_t addr)
{
	return rsp_buf_hex_u64_w(b, addr, 16);
}

/* "<num>:<addr>:" after the item letter. */
static int put_head(struct rsp_buf *b, char letter, uint32_t num, taddr_t addr)
{
	int rc = rsp_buf_putc(b, letter);
	rc |= rsp_buf_hex_u64(b, num);
	rc |= rsp_buf_putc(b, ':');
	rc |= put_addr(b, addr);
	rc |= rsp_buf_putc(b, ':');
	return rc;
}

static int put_hex_str(struct rsp_buf *b, const char *s)
{
	return s ? rsp_buf_hex_str(b, s) : 0;
}

static int put_reason(struct rsp_buf *b, const struct rsp_trace_status *st)
{
	int rc = 0;
	uint32_t tp = 0;

	switch (st->stop) {
	case RSP_TSTOP_NOT_RUN:
		rc |= rsp_buf_puts(b, "tnotrun");
		break;
	case RSP_TSTOP_USER:
		/* gdbserver always writes the note field: tstop::0 when there is none. */
		rc |= rsp_buf_puts(b, "tstop:");
		rc |= put_hex_str(b, st->stop_note);
		break;
	case RSP_TSTOP_FULL:
		rc |= rsp_buf_puts(b, "tfull");
		break;
	case RSP_TSTOP_DISCONNECTED:
		rc |= rsp_buf_puts(b, "tdisconnected");
		break;
	case RSP_TSTOP_PASSCOUNT:
		rc |= rsp_buf_puts(b, "tpasscount");
		tp = st->stop_tp;
		break;
	case RSP_TSTOP_ERROR:
		rc |= rsp_buf_puts(b, "terror:");
		rc |= put_hex_str(b, st->error);
		tp = st->stop_tp;
		break;
	default:
		rc |= rsp_buf_puts(b, "tunknown");
		break;
	}
	rc |= rsp_buf_putc(b, ':');
	rc |= rsp_buf_hex_u64(b, tp);
	return rc;
}

static int put_num(struct rsp_buf *b, const char *key, uint64_t v)
{
	int rc = rsp_buf_putc(b, ';');
	rc |= rsp_buf_puts(b, key);
	rc |= rsp_buf_hex_u64(b, v);
	return rc;
}

int rsp_tpfmt_status(struct rsp_buf *b, const struct rsp_trace_status *st)
{
	int rc = rsp_buf_putc(b, st->running ? '1' : '0');
	rc |= rsp_buf_putc(b, ';');
	rc |= put_reason(b, st);
	rc |= put_num(b, "tframes:", st->frames);
	rc |= put_num(b, "tcreated:", st->created);
	rc |= put_num(b, "tfree:", st->free);
	rc |= put_num(b, "tsize:", st->size);
	rc |= put_num(b, "circular:", st->circular);
	rc |= put_num(b, "disconn:", st->disconnected);
	rc |= put_num(b, "starttime:", st->start_us);
	rc |= put_num(b, "stoptime:", st->stop_us);
	rc |= rsp_buf_puts(b, ";username:");
	rc |= put_hex_str(b, st->user);
	rc |= rsp_buf_puts(b, ";notes:");
	rc |= put_hex_str(b, st->notes);
	return rc ? -ENOSPC : 0;
}

int rsp_tpfmt_tp(struct rsp_buf *b, const struct rsp_tp_def *def)
{
	int rc = put_head(b, 'T', def->num, def->addr);
	rc |= rsp_buf_putc(b, def->enabled ? 'E' : 'D');
	rc |= rsp_buf_putc(b, ':');
	rc |= rsp_buf_hex_u64(b, def->step_count);
	rc |= rsp_buf_putc(b, ':');
	rc |= rsp_buf_hex_u64(b, def->pass_count);
	if (def->fast) {
		rc |= rsp_buf_puts(b, ":F");
		rc |= rsp_buf_hex_u64(b, def->fast_len);
	}
	if (def->is_static)
		rc |= rsp_buf_puts(b, ":S");
	if (def->cond) {
		rc |= rsp_buf_puts(b, ":X");
		rc |= rsp_buf_hex_u64(b, def->cond_len);
		rc |= rsp_buf_putc(b, ',');
		rc |= rsp_buf_hex(b, def->cond, def->cond_len);
	}
	return rc ? -ENOSPC : 0;
}

int rsp_tpfmt_action(struct rsp_buf *b, uint32_t num, taddr_t addr, const struct rsp_tp_action *act)
{
	int rc = put_head(b, act->stepping ? 'S' : 'A', num, addr);
	rc |= rsp_buf_put(b, act->text, act->text_len);
	return rc ? -ENOSPC : 0;
}

int rsp_tpfmt_src(struct rsp_buf *b, const struct rsp_tp_src *src)
{
	int rc = put_head(b, 'Z', src->num, src->addr);
	rc |= rsp_buf_puts(b, src->type ? src->type : "");
	rc |= rsp_buf_putc(b, ':');
	rc |= rsp_buf_hex_u64(b, src->start);
	rc |= rsp_buf_putc(b, ':');
	rc |= rsp_buf_hex_u64(b, src->slen);
	rc |= rsp_buf_putc(b, ':');
	rc |= rsp_buf_hex(b, src->text, src->len);
	return rc ? -ENOSPC : 0;
}

int rsp_tpfmt_hits(struct rsp_buf *b, uint32_t num, taddr_t addr, uint64_t hits, uint64_t bytes)
{
	int rc = put_head(b, 'V', num, addr);
	rc |= rsp_buf_hex_u64(b, hits);
	rc |= rsp_buf_putc(b, ':');
	rc |= rsp_buf_hex_u64(b, bytes);
	return rc ? -ENOSPC : 0;
}

int rsp_tpfmt_tsv(struct rsp_buf *b, const struct rsp_tsv *v)
{
	/* gdb reads the initial value back as an unsigned 64-bit number (two's complement). */
	int rc = rsp_buf_hex_u64(b, v->num);
	rc |= rsp_buf_putc(b, ':');
	rc |= rsp_buf_hex_u64(b, (uint64_t)v->initial);
	rc |= rsp_buf_putc(b, ':');
	rc |= rsp_buf_putc(b, v->builtin ? '1' : '0');
	rc |= rsp_buf_putc(b, ':');
	rc |= put_hex_str(b, v->name);
	return rc ? -ENOSPC : 0;
}
