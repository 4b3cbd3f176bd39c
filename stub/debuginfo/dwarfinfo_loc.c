/* dwarfinfo locations: DW_AT_location expressions and location lists (and a function's
 * DW_AT_frame_base) reduced to pieces (register, memory at base+offset, value, entry value).
 * Expressions beyond that are "no location", never guessed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stub/debuginfo/dwarfinfo_internal.h"

struct expr_state {
	struct dwloc *loc;
	bool have;	    /* cur holds something not yet turned into a piece */
	bool is_value;	    /* DW_OP_stack_value seen */
	struct dwpiece cur; /* DWP_REG, DWP_ENTRY_REG, or DWP_MEM meaning "address base+off" */
	bool bad;
};

static void end_piece(struct expr_state *st, uint32_t size)
{
	struct dwpiece p = st->have ? st->cur : (struct dwpiece){.kind = DWP_EMPTY};

	if (st->have && st->is_value && p.kind == DWP_MEM)
		p.kind = DWP_VALUE;
	p.size = size;
	if (st->loc->npieces == DWARFINFO_MAX_PIECES) {
		st->bad = true;
		return;
	}
	st->loc->pieces[st->loc->npieces++] = p;
	st->have = st->is_value = false;
}

static void set_addr(struct expr_state *st, int base, int64_t off)
{
	st->cur = (struct dwpiece){.kind = DWP_MEM, .dwreg = base, .off = off};
	st->have = true;
}

/* One operation of a location expression. */
static void expr_op(struct expr_state *st, const struct di_fbase *fb, Dwarf_Small op,
		    Dwarf_Unsigned op1, Dwarf_Unsigned op2)
{
	if (op >= DW_OP_reg0 && op <= DW_OP_reg31) {
		st->cur = (struct dwpiece){.kind = DWP_REG, .dwreg = op - DW_OP_reg0};
		st->have = true;
	} else if (op == DW_OP_regx) {
		st->cur = (struct dwpiece){.kind = DWP_REG, .dwreg = (int)op1};
		st->have = true;
	} else if (op >= DW_OP_breg0 && op <= DW_OP_breg31) {
		set_addr(st, op - DW_OP_breg0, (int64_t)op1);
	} else if (op == DW_OP_bregx) {
		set_addr(st, (int)op1, (int64_t)op2);
	} else if (op == DW_OP_fbreg) {
		if (!fb || !fb->valid)
			st->bad = true;
		else {
			set_addr(st, fb->base, fb->off + (int64_t)op1);
			st->cur.fbreg = fb->base != DWBASE_CFA;
		}
	} else if (op == DW_OP_call_frame_cfa) {
		set_addr(st, DWBASE_CFA, 0);
	} else if (op == DW_OP_addr) {
		set_addr(st, DWBASE_NONE, (int64_t)op1);
	} else if (op >= DW_OP_lit0 && op <= DW_OP_lit31) {
		set_addr(st, DWBASE_NONE, op - DW_OP_lit0);
	} else if (op == DW_OP_const1u || op == DW_OP_const2u || op == DW_OP_const4u ||
		   op == DW_OP_const8u || op == DW_OP_constu || op == DW_OP_const1s ||
		   op == DW_OP_const2s || op == DW_OP_const4s || op == DW_OP_const8s ||
		   op == DW_OP_consts) {
		set_addr(st, DWBASE_NONE, (int64_t)op1);
	} else if (op == DW_OP_plus_uconst && st->have && st->cur.kind == DWP_MEM) {
		st->cur.off += (int64_t)op1;
	} else if (op == DW_OP_stack_value && st->have) {
		st->is_value = true;
	} else if ((op == DW_OP_entry_value || op == DW_OP_GNU_entry_value) && op1 == 1 && op2) {
		/* libdwarf: op1 = block length, op2 = pointer to the block. */
		uint8_t sub = *(const uint8_t *)(uintptr_t)op2;
		if (sub >= DW_OP_reg0 && sub <= DW_OP_reg31) {
			st->cur =
				(struct dwpiece){.kind = DWP_ENTRY_REG, .dwreg = sub - DW_OP_reg0};
			st->have = true;
		} else {
			st->bad = true;
		}
	} else if (op == DW_OP_piece) {
		end_piece(st, (uint32_t)op1);
	} else if (op == DW_OP_nop) {
	} else {
		st->bad = true;
	}
}

/* Decode one location description into loc; false when it uses what we do not evaluate. */
static bool decode_expr(struct dwarfinfo *di, Dwarf_Locdesc_c desc, Dwarf_Unsigned nops,
			const struct di_fbase *fb, struct dwloc *loc)
{
	struct expr_state st = {.loc = loc};
	bool pieces = false;

	loc->npieces = 0;
	for (Dwarf_Unsigned j = 0; j < nops && !st.bad; j++) {
		Dwarf_Small op;
		Dwarf_Unsigned o1, o2, o3, r1, r2, r3, br;
		Dwarf_Error e = NULL;
		if (dwarf_get_location_op_value_d(desc, j, &op, &o1, &o2, &o3, &r1, &r2, &r3, &br,
						  &e) != DW_DLV_OK) {
			di_err(di, e);
			return false;
		}
		expr_op(&st, fb, op, o1, o2);
		pieces |= op == DW_OP_piece;
	}
	if (st.bad)
		return false;
	if (st.have || !pieces) {
		if (pieces)
			return false; /* a trailing part without DW_OP_piece */
		if (!st.have)
			return true; /* empty: optimised out here */
		end_piece(&st, 0);
	}
	return !st.bad;
}

void di_frame_base(struct dwarfinfo *di, Dwarf_Die fn, struct di_fbase *fb)
{
	struct dwloc *locs = NULL;
	unsigned n = 0;

	memset(fb, 0, sizeof(*fb));
	if (di_locations(di, fn, DW_AT_frame_base, NULL, &locs, &n) || n != 1 ||
	    locs[0].npieces != 1)
		return;
	/* DW_OP_call_frame_cfa (gcc, Go) or a register such as rbp (clang -O0). */
	if (locs[0].pieces[0].kind == DWP_MEM && locs[0].pieces[0].dwreg == DWBASE_CFA) {
		*fb = (struct di_fbase){true, DWBASE_CFA, locs[0].pieces[0].off};
	} else if (locs[0].pieces[0].kind == DWP_REG) {
		*fb = (struct di_fbase){true, locs[0].pieces[0].dwreg, 0};
	}
}

int di_locations(struct dwarfinfo *di, Dwarf_Die die, Dwarf_Half at, const struct di_fbase *fb,
		 struct dwloc **locs, unsigned *nlocs)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Loc_Head_c head = NULL;
	Dwarf_Unsigned count = 0;
	Dwarf_Error e = NULL;
	unsigned kind = 0, n = 0;
	int err = 0;

	*locs = NULL;
	*nlocs = 0;
	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK) {
		di_err(di, e);
		return 0;
	}
	if (dwarf_get_loclist_c(a, &head, &count, &e) != DW_DLV_OK) {
		di_err(di, e);
		goto out;
	}
	if (dwarf_get_loclist_head_kind(head, &kind, &e) != DW_DLV_OK) {
		di_err(di, e), e = NULL;
		kind = DW_LKIND_unknown;
	}
	if (count && !(*locs = di_alloc(di, count * sizeof(**locs)))) {
		err = -ENOMEM;
		goto out;
	}
	for (Dwarf_Unsigned i = 0; i < count; i++) {
		Dwarf_Small lle, src;
		Dwarf_Unsigned rlo, rhi, nops, eoff, doff;
		Dwarf_Bool unavail = 0;
		Dwarf_Addr lo, hi;
		Dwarf_Locdesc_c desc;
		struct dwloc *l = &(*locs)[n];

		if (dwarf_get_locdesc_entry_d(head, i, &lle, &rlo, &rhi, &unavail, &lo, &hi, &nops,
					      &desc, &src, &eoff, &doff, &e) != DW_DLV_OK) {
			di_err(di, e), e = NULL;
			continue;
		}
		if (kind == DW_LKIND_expression) {
			lo = 0;
			hi = UINT64_MAX;
		}
		if (unavail || lo >= hi || !nops)
			continue;
		l->lo = lo;
		l->hi = hi;
		if (decode_expr(di, desc, nops, fb, l))
			n++;
	}
	*nlocs = n;
out:
	if (head)
		dwarf_loc_head_c_dealloc(head);
	dwarf_dealloc_attribute(a);
	return err;
}
