/* Trace frame selection (QTFrame) and the frame backend (DESIGN.md "Data flow of g while a
 * trace frame is selected"): registers from the frame's R block, memory from its M blocks,
 * then from the process's read-only mappings (code and constants, which gdb disassembles),
 * and nothing else: uncollected data is unavailable, never zeros. */
#include "stub/tracepoints/internal.h"

#include "stub/agent/agent.h"

#include <errno.h>
#include <string.h>

#include "arch/x86_64/regs.h"
#include "stub/live/live.h"
#include "stub/tracefile/tracefile.h"

bool tpoints_frame_selected(const struct tpoints *tr)
{
	return tr && tr->sel >= 0;
}

static int cur_frame(struct tpoints *tr, struct tracebuf_frame *fr)
{
	if (tr->sel < 0)
		return -ENOENT;
	return tracebuf_frame(tr->tb, (uint64_t)tr->sel, fr);
}

static taddr_t tp_addr(struct tpoints *tr, uint16_t num)
{
	struct tpoints_tp *tp = tpoints_find_num(tr, num);

	return tp ? tp->def.addr : 0;
}

/* Registers that come with the general-purpose fetch (user_regs_struct). */
static bool is_gp(unsigned r)
{
	return r < X86_64_ST0 || r == X86_64_ORIG_RAX || r == X86_64_FS_BASE || r == X86_64_GS_BASE;
}

int tpoints_frame_regs(struct tpoints *tr, uint8_t *buf, uint8_t *avail)
{
	const struct rsp_reg_layout *lay = tr->layout;
	struct tracebuf_frame fr;
	const uint8_t *r = NULL;
	size_t rlen = 0;
	bool fp = true;
	struct tpoints_tp *tp;
	int rc = cur_frame(tr, &fr);

	if (rc)
		return rc;
	memset(buf, 0, lay->g_size);
	memset(avail, 0, lay->nregs);
	tp = tpoints_find_num(tr, fr.tpnum);
	if (tp)
		fp = tp->plan[0].need_fp || tp->plan[1].need_fp;
	if (tracebuf_frame_regs(&fr, &r, &rlen) == 0) {
		memcpy(buf, r, rlen < lay->g_size ? rlen : lay->g_size);
		for (size_t i = 0; i < lay->nregs; i++) {
			const struct rsp_reg_info *ri = &lay->regs[i];

			avail[i] = (size_t)ri->offset + ri->bitsize / 8 <= rlen && (fp || is_gp(i));
		}
		return 0;
	}
	/* No R block: only the PC is known, from the tracepoint (PROTOCOL.md §3.4). */
	{
		taddr_t pc = tp_addr(tr, fr.tpnum);

		memcpy(buf + lay->regs[X86_64_RIP].offset, &pc, 8);
		avail[X86_64_RIP] = 1;
	}
	return 0;
}

static bool in_ro(struct tpoints *tr, taddr_t addr, size_t *len)
{
	struct rsp_region_info ri;
	pid_t pid = live_current_pid(tr->l);

	if (!pid || live_region(tr->l, addr, &ri) || !ri.mapped || ri.w || !ri.r)
		return false;
	if (addr + *len > ri.start + ri.size)
		*len = ri.start + ri.size - addr;
	return true;
}

int tpoints_frame_mem(struct tpoints *tr, taddr_t addr, uint8_t *buf, size_t len, size_t *done)
{
	struct tracebuf_frame fr;
	int rc = cur_frame(tr, &fr);

	*done = 0;
	if (rc)
		return -EIO;
	if (tracebuf_frame_mem(&fr, addr, buf, len, done) == 0 && *done)
		return 0;
	if (in_ro(tr, addr, &len))
		return live_read_live_mem(tr->l, addr, buf, len, done);
	return -EIO;
}

static bool pc_in(taddr_t pc, uint64_t a, uint64_t b)
{
	return pc >= a && pc <= b;
}

int tpoints_select_frame(void *t, enum rsp_tframe_how how, uint64_t a, uint64_t b, int64_t *frame,
			 uint32_t *tp)
{
	struct tpoints *tr = tpoints_of(t);
	struct tracebuf_stats st;
	struct tracebuf_frame fr;
	uint64_t n;

	tracebuf_stats(tr->tb, &st);
	if (how == RSP_TFRAME_NUM) {
		if (a >= st.frames || tracebuf_frame(tr->tb, a, &fr)) {
			tr->sel = -1;
			return -ENOENT;
		}
		tr->sel = (int64_t)a;
		*frame = tr->sel;
		*tp = fr.tpnum;
		return 0;
	}
	/* pc/tdp/range/outside look at the frames after the selected one, comparing the
	 * tracepoint's address as gdbserver and gdb's tfile reader do. */
	for (n = tr->sel < 0 ? 0 : (uint64_t)tr->sel + 1; n < st.frames; n++) {
		taddr_t pc;
		bool hit;

		if (tracebuf_frame(tr->tb, n, &fr))
			break;
		pc = tp_addr(tr, fr.tpnum);
		switch (how) {
		case RSP_TFRAME_PC:
			hit = pc == a;
			break;
		case RSP_TFRAME_TDP:
			hit = fr.tpnum == a;
			break;
		case RSP_TFRAME_RANGE:
			hit = pc_in(pc, a, b);
			break;
		case RSP_TFRAME_OUTSIDE:
			hit = pc < a || pc > b;
			break;
		default:
			hit = false;
		}
		if (hit) {
			tr->sel = (int64_t)n;
			*frame = tr->sel;
			*tp = fr.tpnum;
			return 0;
		}
	}
	tr->sel = -1;
	return -ENOENT;
}

int tpoints_unselect_frame(void *t)
{
	tpoints_of(t)->sel = -1;
	return 0;
}

int tpoints_frame_info(void *t, struct rsp_tframe_item *out, size_t cap, size_t *n)
{
	struct tpoints *tr = tpoints_of(t);
	struct tracebuf_frame fr;
	struct tracebuf_block blk;
	size_t off = 0;
	int rc = cur_frame(tr, &fr);

	*n = 0;
	if (rc)
		return -ENOENT;
	while (tracebuf_next_block(&fr, &off, &blk) == 1) {
		struct rsp_tframe_item it;

		memset(&it, 0, sizeof(it));
		if (blk.type == 'M') {
			it.addr = blk.addr;
			it.len = blk.len;
		} else if (blk.type == 'V') {
			it.is_tsv = true;
			it.tsv = (uint32_t)blk.tsv;
		} else {
			continue;
		}
		if (*n < cap)
			out[*n] = it;
		(*n)++;
	}
	return 0;
}

int tpoints_read_buffer(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *done)
{
	struct tpoints *tr = tpoints_of(t);
	int rc = tracebuf_read(tr->tb, off, buf, len, done);

	/* qTBuffer feeds gdb's tsave, and gdb opens trace files at link addresses. */
	if (!rc)
		tpoints_link_view(tr, off, buf, *done);
	return rc;
}

int tpoints_tsv_value(void *t, uint32_t num, int64_t *val)
{
	struct tpoints *tr = tpoints_of(t);
	struct tracebuf_frame fr;
	struct tpoints_tsv *v;

	if (tr->sel >= 0) {
		if (cur_frame(tr, &fr))
			return -ENOENT;
		return tracebuf_frame_tsv(&fr, (int32_t)num, val);
	}
	tpoints_fast_drain(tr); /* the fast hits so far first: they may set it */
	v = tpoints_tsv(tr, num);
	if (!v || !v->defined)
		return -ENOENT;
	*val = num == LT_TSV_TIME	     ? (int64_t)tpoints_now_us()
	       : tpoints_tsv_in_agent(tr, v) ? agent_tsv_get(tr->agent, v->num)
					     : v->value;
	return 0;
}
