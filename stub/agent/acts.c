/* gdb's agent expressions for the in-process agent: which ones it runs (a condition; a collect
 * expression, its trace ops writing blocks), the most bytes they may write, and the simplest
 * collect expressions turned into the agent's MEM ops. Pure: no process, no ring. */
#include "stub/agent/agent.h"

#include <string.h>

/* Immediate bytes of each op the agent runs (rt.c's ax_run); -1: not run there; -2: a trace
 * op, run in actions only; -3: a trace state variable op (2 bytes: its number), run when
 * the caller's bitmap says the agent holds that variable. */
static const int8_t ax_imm[0x34] = {
	[0x00] = -1, [0x01] = -1, [0x0c] = -2, [0x0d] = -2, [0x1b] = -1, [0x1c] = -1, [0x1d] = -1,
	[0x1e] = -1, [0x1f] = -1, [0x2c] = -3, [0x2d] = -3, [0x2e] = -3, [0x2f] = -2, [0x30] = -2,
	[0x31] = -1, [0x16] = 1,  [0x20] = 2,  [0x21] = 2,  [0x22] = 1,	 [0x23] = 2,  [0x24] = 4,
	[0x25] = 8,  [0x26] = 2,  [0x2a] = 1,  [0x32] = 1,
};

/* Walk code as the agent would run it: false if an op is not run there. With budget, the
 * most bytes its blocks take (a trace op's size from the constant pushed just before it,
 * else TRACE_GUESS; each memory read one 8-byte block). */
#define TRACE_GUESS 1024
static bool ax_walk(const uint8_t *code, size_t len, bool actions, uint64_t *budget,
		    const uint64_t *tsv_ok, bool *uses_tsv)
{
	uint64_t last = TRACE_GUESS, n = 0;
	bool have_last = false;

	for (size_t pc = 0; pc < len;) {
		uint8_t op = code[pc];
		int k = op < sizeof(ax_imm) ? ax_imm[op] : -1;
		uint64_t sz = 0;

		if (k == -1 || (k == -2 && !actions))
			return false;
		if (k == -2)
			k = op == 0x0d ? 1 : op == 0x30 ? 2 : 0;
		if (k == -3) {
			uint32_t num = pc + 2 < len ? (uint32_t)code[pc + 1] << 8 | code[pc + 2]
						    : AGENT_MAX_TSV;

			if (!tsv_ok || num >= AGENT_MAX_TSV ||
			    !(tsv_ok[num / 64] >> (num % 64) & 1))
				return false;
			*uses_tsv = true;
			k = 2;
		}
		if (pc + 1 + (size_t)k > len)
			return false;
		if (op == 0x0d)
			sz = code[pc + 1];
		else if (op == 0x30)
			sz = (uint64_t)code[pc + 1] << 8 | code[pc + 2];
		else if (op == 0x0c || op == 0x2f)
			sz = have_last && last < TRACE_GUESS ? last : TRACE_GUESS;
		else if ((op >= 0x17 && op <= 0x1a) || (op >= 0x2c && op <= 0x2e))
			sz = actions ? 8 : 0; /* a read or a variable's value, kept in the record */
		if (sz)
			n += sizeof(struct agent_blk) + ((sz + 7) & ~7ull);
		have_last = op >= 0x22 && op <= 0x24;
		if (have_last)
			for (int i = 0, j = op == 0x22 ? 1 : op == 0x23 ? 2 : 4; i < j; i++)
				last = (i ? last << 8 : 0) | code[pc + 1 + i];
		pc += 1 + (size_t)k;
	}
	if (budget)
		*budget += n;
	return true;
}

bool agent_cond_fits(const uint8_t *code, size_t len, unsigned depth, const uint64_t *tsv_ok,
		     bool *uses_tsv)
{
	bool t = false;

	if (!code || !len || len > AGENT_COND_MAX || depth > AGENT_COND_DEPTH ||
	    !ax_walk(code, len, false, NULL, tsv_ok, &t))
		return false;
	if (uses_tsv)
		*uses_tsv = t;
	return true;
}

/* An expression that only traces memory at fixed offsets from registers (gdb's `collect
 * *(T *)$rsp`, a local at -O0: reg, constants, add, ext, zero_ext, trace, trace_quick, pop): its
 * blocks as MEM ops, which cost the agent no interpretation. false: anything else. */
struct sym {
	int reg; /* agent register, or -1: a constant */
	int64_t v;
};

static bool as_mem_ops(const uint8_t *code, size_t len, struct agent_site_spec *s)
{
	struct sym st[AGENT_COND_DEPTH];
	struct agent_op ops[AGENT_MAX_OPS];
	unsigned sp = 0, n = 0;

	for (size_t pc = 0; pc < len;) {
		uint8_t op = code[pc];
		int k = op < sizeof(ax_imm) ? ax_imm[op] : -1;
		uint64_t im = 0;

		if (k == -2)
			k = op == 0x0d ? 1 : op == 0x30 ? 2 : 0;
		if (k < 0 || pc + 1 + (size_t)k > len)
			return false;
		for (int i = 0; i < k; i++)
			im = im << 8 | code[pc + 1 + i];
		pc += 1 + (size_t)k;
		switch (op) {
		case 0x22:
		case 0x23:
		case 0x24:
		case 0x25:
		case 0x26: /* const, reg */
			if (sp == AGENT_COND_DEPTH)
				return false;
			if (op == 0x26) {
				int r = im <= 0xffff ? agent_reg_of((int)im) : -1;

				if (r < 0)
					return false;
				st[sp++] = (struct sym){r, 0};
			} else {
				st[sp++] = (struct sym){-1, (int64_t)im};
			}
			break;
		case 0x02: /* add: a register's value plus constants */
			if (sp < 2 || (st[sp - 1].reg >= 0 && st[sp - 2].reg >= 0))
				return false;
			st[sp - 2].reg = st[sp - 2].reg >= 0 ? st[sp - 2].reg : st[sp - 1].reg;
			st[sp - 2].v = (int64_t)((uint64_t)st[sp - 2].v + (uint64_t)st[sp - 1].v);
			sp--;
			break;
		case 0x16: /* ext n of a constant, or 64 of anything (gdb's `*(T *)$rsp`) */
		case 0x2a: /* zero_ext n, the same */
			if (!sp || !im || im > 64 || (st[sp - 1].reg >= 0 && im < 64))
				return false;
			if (im < 64 && op == 0x2a) {
				st[sp - 1].v =
					(int64_t)((uint64_t)st[sp - 1].v & ((1ull << im) - 1));
			} else if (im < 64) {
				uint64_t m = 1ull << (im - 1),
					 v = (uint64_t)st[sp - 1].v & ((m << 1) - 1);

				st[sp - 1].v = (int64_t)((v ^ m) - m);
			}
			break;
		case 0x29: /* pop */
			if (!sp)
				return false;
			sp--;
			break;
		case 0x0c: /* trace: register + offset, constant size */
		case 0x0d: /* trace_quick n */
		case 0x30: /* trace16 n */ {
			struct sym *ad = op == 0x0c ? (sp >= 2 ? &st[sp - 2] : NULL)
						    : (sp ? &st[sp - 1] : NULL);
			int64_t size = op == 0x0c ? (sp ? st[sp - 1].v : -1) : (int64_t)im;

			if (!ad || ad->reg < 0 || (op == 0x0c && st[sp - 1].reg >= 0) || size < 0 ||
			    size > 0xffff || ad->v < INT32_MIN || ad->v > INT32_MAX ||
			    n == AGENT_MAX_OPS)
				return false;
			ops[n++] = (struct agent_op){AGENT_OP_MEM, (uint8_t)ad->reg, (uint16_t)size,
						     (int32_t)ad->v};
			if (op == 0x0c)
				sp -= 2;
			break;
		}
		case 0x27: /* end */
			if (s->nops + n > AGENT_MAX_OPS)
				return false;
			memcpy(s->ops + s->nops, ops, n * sizeof(ops[0]));
			s->nops += n;
			return true;
		default:
			return false;
		}
	}
	return false;
}

bool agent_acts_add(struct agent_site_spec *s, const uint8_t *code, size_t len, unsigned depth)
{
	uint64_t budget = s->acts_budget;
	bool t = false;

	if (code && len && as_mem_ops(code, len, s))
		return true;
	if (!code || !len || len > 0xffff || depth > AGENT_COND_DEPTH ||
	    len + 2 > AGENT_ACTS_MAX - s->acts_len ||
	    !ax_walk(code, len, true, &budget, s->tsv_ok, &t))
		return false;
	s->tsv |= t;
	s->acts[s->acts_len] = (uint8_t)len;
	s->acts[s->acts_len + 1] = (uint8_t)(len >> 8);
	memcpy(s->acts + s->acts_len + 2, code, len);
	s->acts_len += (uint32_t)len + 2;
	s->acts_budget = budget > UINT32_MAX ? UINT32_MAX : (uint32_t)budget;
	return true;
}
