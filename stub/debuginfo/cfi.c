/* cfi: CFA/register rules from libdwarf's frame API and the unwinding loop. No
 * Dwarf_* type leaves this file; libdwarf errors become -errno here. */
#include "stub/debuginfo/debuginfo.h"

#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <libdwarf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct cfi {
	int fd;
	Dwarf_Debug dbg;
	Dwarf_Cie *cie[2];
	Dwarf_Fde *fde[2];
	Dwarf_Signed ncie[2], nfde[2];
	bool have[2]; /* [0] .eh_frame, [1] .debug_frame */
};

int cfi_open(const char *path, struct cfi **out)
{
	*out = NULL;
	struct cfi *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		int err = -errno;
		free(c);
		return err;
	}
	Dwarf_Error de = NULL;
	if (dwarf_init_b(c->fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &c->dbg, &de) !=
	    DW_DLV_OK) {
		if (de)
			dwarf_dealloc_error(NULL, de);
		close(c->fd);
		free(c);
		return -ENOENT;
	}
	dwarf_set_frame_rule_initial_value(c->dbg, DW_FRAME_SAME_VAL);
	if (dwarf_get_fde_list_eh(c->dbg, &c->cie[0], &c->ncie[0], &c->fde[0], &c->nfde[0], &de) ==
	    DW_DLV_OK)
		c->have[0] = true;
	else if (de)
		dwarf_dealloc_error(c->dbg, de), de = NULL;
	if (dwarf_get_fde_list(c->dbg, &c->cie[1], &c->ncie[1], &c->fde[1], &c->nfde[1], &de) ==
	    DW_DLV_OK)
		c->have[1] = true;
	else if (de)
		dwarf_dealloc_error(c->dbg, de), de = NULL;
	if (!c->have[0] && !c->have[1]) {
		cfi_free(c);
		return -ENOENT;
	}
	*out = c;
	return 0;
}

void cfi_free(struct cfi *c)
{
	if (!c)
		return;
	for (int i = 0; i < 2; i++)
		if (c->have[i])
			dwarf_fde_cie_list_dealloc(c->dbg, c->cie[i], c->ncie[i], c->fde[i],
						   c->nfde[i]);
	if (c->dbg)
		dwarf_finish(c->dbg, NULL);
	close(c->fd);
	free(c);
}

static int find_fde_range(struct cfi *c, uint64_t pc, Dwarf_Fde *fde, uint64_t *lo_out,
			  uint64_t *hi_out)
{
	for (int i = 0; i < 2; i++) {
		Dwarf_Addr lo, hi;
		Dwarf_Error de = NULL;
		if (!c->have[i])
			continue;
		int r = dwarf_get_fde_at_pc(c->fde[i], pc, fde, &lo, &hi, &de);
		if (r == DW_DLV_OK) {
			*lo_out = lo;
			*hi_out = hi;
			return 0;
		}
		if (de)
			dwarf_dealloc_error(c->dbg, de);
	}
	return -ENOENT;
}

static int find_fde(struct cfi *c, uint64_t pc, Dwarf_Fde *fde)
{
	uint64_t lo, hi;

	return find_fde_range(c, pc, fde, &lo, &hi);
}

int cfi_fde_range(struct cfi *c, uint64_t pc, uint64_t *lo, uint64_t *hi)
{
	Dwarf_Fde fde;
	uint64_t l, h;

	if (find_fde_range(c, pc, &fde, &l, &h))
		return -ENOENT;
	/* libdwarf's hi is the last byte covered */
	*lo = l;
	*hi = h + 1;
	return 0;
}

/* The CFA at link-time pc for the registers in; fde gets the FDE. */
/* The CFA rule at pc: register + offset. -ENOENT when no FDE covers pc or the rule is an
 * expression (PLT stubs: treated as no CFI). */
static int cfa_rule(struct cfi *c, uint64_t pc, Dwarf_Fde *fde, int *dwreg, int64_t *cfa_off)
{
	if (find_fde(c, pc, fde) != 0)
		return -ENOENT;
	Dwarf_Small vt;
	Dwarf_Signed rel, reg, off;
	Dwarf_Ptr blk;
	Dwarf_Addr row;
	Dwarf_Error de = NULL;
	if (dwarf_get_fde_info_for_cfa_reg3(*fde, pc, &vt, &rel, &reg, &off, &blk, &row, &de) !=
	    DW_DLV_OK) {
		if (de)
			dwarf_dealloc_error(c->dbg, de);
		return -ENOENT;
	}
	if (vt != DW_EXPR_OFFSET || reg < 0 || reg >= CFI_NREGS)
		return -ENOENT;
	*dwreg = (int)reg;
	*cfa_off = (int64_t)off;
	return 0;
}

static int cfa_of(struct cfi *c, uint64_t pc, const struct cfi_regs *in, Dwarf_Fde *fde,
		  uint64_t *cfa)
{
	int reg;
	int64_t off;

	if (cfa_rule(c, pc, fde, &reg, &off) || !(in->valid & (1u << reg)))
		return -ENOENT;
	*cfa = in->r[reg] + (uint64_t)off;
	return 0;
}

int cfi_cfa_rule(struct cfi *c, uint64_t pc, int *dwreg, int64_t *off)
{
	Dwarf_Fde fde;

	return c ? cfa_rule(c, pc, &fde, dwreg, off) : -ENOENT;
}

int cfi_cfa(struct cfi *c, uint64_t pc, const struct cfi_regs *regs, uint64_t *cfa)
{
	Dwarf_Fde fde;

	return cfa_of(c, pc, regs, &fde, cfa);
}

/* One CFI step: regs in the callee -> regs in the caller. pc is link-time. */
static int cfi_step(struct cfi *c, uint64_t pc, const struct cfi_regs *in, cfi_read_fn rd,
		    void *rctx, struct cfi_regs *out)
{
	Dwarf_Fde fde;
	Dwarf_Small vt;
	Dwarf_Signed rel, reg, off;
	Dwarf_Ptr blk;
	Dwarf_Addr row;
	Dwarf_Error de = NULL;
	uint64_t cfa;
	if (cfa_of(c, pc, in, &fde, &cfa))
		return -ENOENT;
	*out = (struct cfi_regs){0};
	for (int col = 0; col < CFI_NREGS; col++) {
		if (col == 7)
			continue;
		if (dwarf_get_fde_info_for_reg3(fde, (Dwarf_Half)col, pc, &vt, &rel, &reg, &off,
						&blk, &row, &de) != DW_DLV_OK) {
			if (de)
				dwarf_dealloc_error(c->dbg, de), de = NULL;
			continue;
		}
		if (vt != DW_EXPR_OFFSET && vt != DW_EXPR_VAL_OFFSET)
			continue;
		if (reg == DW_FRAME_SAME_VAL) {
			/* x86_64 psABI: only callee-saved registers survive a call. */
			bool callee_saved = col == 3 || col == 6 || (col >= 12 && col <= 15);
			if (callee_saved && (in->valid & (1u << col))) {
				out->r[col] = in->r[col];
				out->valid |= 1u << col;
			}
		} else if (reg == DW_FRAME_CFA_COL3 && rel) {
			if (vt == DW_EXPR_VAL_OFFSET) {
				out->r[col] = cfa + (uint64_t)off;
			} else {
				int err = rd(rctx, cfa + (uint64_t)off, &out->r[col], 8);
				if (err)
					return -EFAULT;
			}
			out->valid |= 1u << col;
		} else if (!rel && reg >= 0 && reg < CFI_NREGS && (in->valid & (1u << reg))) {
			out->r[col] = in->r[reg];
			out->valid |= 1u << col;
		}
	}
	out->r[7] = cfa;
	out->valid |= 1u << 7;
	if (!(out->valid & (1u << 16)))
		return -EFAULT;
	return 0;
}

static int fp_step(const struct cfi_regs *in, cfi_read_fn rd, void *rctx, struct cfi_regs *out)
{
	uint64_t fp = in->r[6], v[2];
	if (!(in->valid & (1u << 6)) || fp == 0 || fp < in->r[7])
		return -ENOENT;
	if (rd(rctx, fp, v, sizeof(v)) != 0)
		return -EFAULT;
	*out = (struct cfi_regs){0};
	out->r[6] = v[0];
	out->r[16] = v[1];
	out->r[7] = fp + 16;
	out->valid = (1u << 6) | (1u << 7) | (1u << 16);
	return 0;
}

/* At a function's first instruction nothing is pushed yet: the return address is at rsp and
 * every other register is the caller's (the rbp chain would skip the caller). */
static int entry_step(const struct cfi_regs *in, cfi_read_fn rd, void *rctx, struct cfi_regs *out)
{
	uint64_t ra;

	if (rd(rctx, in->r[7], &ra, sizeof(ra)) != 0)
		return -EFAULT;
	*out = *in;
	out->at_entry = false;
	out->r[16] = ra;
	out->r[7] = in->r[7] + 8;
	return 0;
}

int cfi_unwind(cfi_module_fn modules, void *mctx, const struct cfi_regs *regs, cfi_read_fn rd,
	       void *rctx, struct cfi_frame *out, size_t max, size_t *n)
{
	const uint32_t need = (1u << 7) | (1u << 16);
	*n = 0;
	if ((regs->valid & need) != need)
		return -EINVAL;
	struct cfi_regs cur = *regs, next;
	enum cfi_how how = CFI_HOW_START;
	while (*n < max && cur.r[16] != 0) {
		out[(*n)++] = (struct cfi_frame){cur.r[16], cur.r[7], how};
		struct cfi *c = NULL;
		uint64_t bias = 0;
		/* Caller frames hold return addresses: look up pc-1, which is still inside
		 * the call even when the call is the function's last instruction. */
		uint64_t look = how == CFI_HOW_START ? cur.r[16] : cur.r[16] - 1;
		int err = modules(mctx, look, &c, &bias);
		err = err == 0 && c ? cfi_step(c, look - bias, &cur, rd, rctx, &next) : -ENOENT;
		if (err == -ENOENT) {
			err = how == CFI_HOW_START && regs->at_entry
				      ? entry_step(&cur, rd, rctx, &next)
				      : fp_step(&cur, rd, rctx, &next);
			how = CFI_HOW_FP;
		} else {
			how = CFI_HOW_CFI;
		}
		if (err || next.r[7] <= cur.r[7])
			break;
		cur = next;
	}
	return 0;
}
