/* x86_64 instruction handling for breakpoint sites, on top of libzydis: decode
 * and classify, emulate the few instructions that only touch registers (plus a
 * push), relocate the rest for out-of-line stepping and fix registers
 * afterwards. Never reads target memory, never calls ptrace; no Zydis type
 * leaves this file. */
#include "arch/x86_64/insn.h"

#include <Zydis/Zydis.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/user.h>

#define EFL_CF	  (1ull << 0)
#define EFL_PF	  (1ull << 2)
#define EFL_AF	  (1ull << 4)
#define EFL_ZF	  (1ull << 6)
#define EFL_SF	  (1ull << 7)
#define EFL_OF	  (1ull << 11)
#define EFL_ARITH (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF)

static int zy_decode(const uint8_t *code, size_t len, ZydisDecodedInstruction *in,
		     ZydisDecodedOperand *ops)
{
	ZydisDecoder dec;
	if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return -EINVAL;
	if (ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, code, len, in, ops)))
		return -EINVAL;
	return 0;
}

/* Index of the 64-bit slot of struct user_regs_struct holding a GPR (or its sub-register),
 * X86_64_EMU_NOREG otherwise. */
static uint8_t gpr_slot(ZydisRegister reg)
{
#define SLOT(f) ((uint8_t)(offsetof(struct user_regs_struct, f) / 8))
	switch (ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg)) {
	case ZYDIS_REGISTER_RAX:
		return SLOT(rax);
	case ZYDIS_REGISTER_RBX:
		return SLOT(rbx);
	case ZYDIS_REGISTER_RCX:
		return SLOT(rcx);
	case ZYDIS_REGISTER_RDX:
		return SLOT(rdx);
	case ZYDIS_REGISTER_RSI:
		return SLOT(rsi);
	case ZYDIS_REGISTER_RDI:
		return SLOT(rdi);
	case ZYDIS_REGISTER_RBP:
		return SLOT(rbp);
	case ZYDIS_REGISTER_RSP:
		return SLOT(rsp);
	case ZYDIS_REGISTER_R8:
		return SLOT(r8);
	case ZYDIS_REGISTER_R9:
		return SLOT(r9);
	case ZYDIS_REGISTER_R10:
		return SLOT(r10);
	case ZYDIS_REGISTER_R11:
		return SLOT(r11);
	case ZYDIS_REGISTER_R12:
		return SLOT(r12);
	case ZYDIS_REGISTER_R13:
		return SLOT(r13);
	case ZYDIS_REGISTER_R14:
		return SLOT(r14);
	case ZYDIS_REGISTER_R15:
		return SLOT(r15);
	default:
		return X86_64_EMU_NOREG;
	}
#undef SLOT
}

static bool is_gpr(ZydisRegister reg, unsigned bits)
{
	if (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg) != bits)
		return false;
	ZydisRegisterClass c = ZydisRegisterGetClass(reg);
	return (bits == 64 && c == ZYDIS_REGCLASS_GPR64) ||
	       (bits == 32 && c == ZYDIS_REGCLASS_GPR32);
}

static bool op_is_gpr(const ZydisDecodedOperand *op, unsigned bits)
{
	return op->type == ZYDIS_OPERAND_TYPE_REGISTER && is_gpr(op->reg.value, bits);
}

static bool op_is_gpr64_32(const ZydisDecodedOperand *op)
{
	return op_is_gpr(op, 64) || op_is_gpr(op, 32);
}

static void emu_dst(struct x86_64_emu *e, uint8_t op, const ZydisDecodedOperand *dst)
{
	e->op = op;
	e->dst = gpr_slot(dst->reg.value);
	e->width = op_is_gpr(dst, 32) ? 4 : 8;
}

/* A memory operand the emulator can compute: GPR (or rip) base, GPR index, no fs/gs. */
static bool plain_mem(const ZydisDecodedOperand *m)
{
	if (m->type != ZYDIS_OPERAND_TYPE_MEMORY || m->mem.segment == ZYDIS_REGISTER_FS ||
	    m->mem.segment == ZYDIS_REGISTER_GS)
		return false;
	if (m->mem.base != ZYDIS_REGISTER_NONE && m->mem.base != ZYDIS_REGISTER_RIP &&
	    !is_gpr(m->mem.base, 64))
		return false;
	return m->mem.index == ZYDIS_REGISTER_NONE || is_gpr(m->mem.index, 64);
}

/* base, index, scale and displacement of a plain_mem operand into e. */
static void emu_mem(struct x86_64_emu *e, const ZydisDecodedOperand *m)
{
	e->base = m->mem.base == ZYDIS_REGISTER_RIP    ? X86_64_EMU_RIP
		  : m->mem.base == ZYDIS_REGISTER_NONE ? X86_64_EMU_NOREG
						       : gpr_slot(m->mem.base);
	e->index = m->mem.index == ZYDIS_REGISTER_NONE ? X86_64_EMU_NOREG : gpr_slot(m->mem.index);
	e->scale = m->mem.scale;
	e->imm = m->mem.disp.value;
}

static bool plan_lea(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
		     struct x86_64_emu *e)
{
	if (!op_is_gpr64_32(&ops[0]) || in->address_width != 64 || !plain_mem(&ops[1]))
		return false;
	emu_dst(e, X86_64_EMU_LEA, &ops[0]);
	emu_mem(e, &ops[1]);
	return true;
}

/* Instructions x86_64_insn_emulate handles: register-only effects plus a push's store.
 * Fills *e; false if the instruction is not one of them. */
static bool plan_emulation(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
			   struct x86_64_emu *e)
{
	memset(e, 0, sizeof(*e));
	e->dst = e->src = e->base = e->index = X86_64_EMU_NOREG;
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_NOP:
	case ZYDIS_MNEMONIC_ENDBR64:
	case ZYDIS_MNEMONIC_ENDBR32:
		e->op = X86_64_EMU_NOP;
		return true;
	case ZYDIS_MNEMONIC_PUSH:
		if (op_is_gpr(&ops[0], 64)) {
			e->op = X86_64_EMU_PUSH_REG;
			e->src = gpr_slot(ops[0].reg.value);
			return true;
		}
		if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && in->operand_width == 64) {
			e->op = X86_64_EMU_PUSH_IMM;
			e->imm = ops[0].imm.value.s;
			return true;
		}
		return false;
	case ZYDIS_MNEMONIC_PUSHF:
	case ZYDIS_MNEMONIC_PUSHFQ:
		/* Stepped, pushf would store the trap flag the tracer set (Linux hides TF
		 * from GETREGS, not from the stack): emulate it instead. */
		e->op = X86_64_EMU_PUSHF;
		e->width = in->operand_width == 16 ? 2 : 8;
		return true;
	case ZYDIS_MNEMONIC_MOV:
		if ((op_is_gpr(&ops[0], 64) && op_is_gpr(&ops[1], 64)) ||
		    (op_is_gpr(&ops[0], 32) && op_is_gpr(&ops[1], 32))) {
			emu_dst(e, X86_64_EMU_MOV_RR, &ops[0]);
			e->src = gpr_slot(ops[1].reg.value);
			return true;
		}
		if (op_is_gpr64_32(&ops[0]) && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			emu_dst(e, X86_64_EMU_MOV_RI, &ops[0]);
			e->imm = ops[1].imm.value.s;
			return true;
		}
		return false;
	case ZYDIS_MNEMONIC_ADD:
	case ZYDIS_MNEMONIC_SUB:
		if ((in->attributes & ZYDIS_ATTRIB_HAS_LOCK) || !op_is_gpr(&ops[0], 64) ||
		    ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
			return false;
		emu_dst(e, X86_64_EMU_ADDSUB, &ops[0]);
		e->sub = in->mnemonic == ZYDIS_MNEMONIC_SUB;
		e->imm = (int64_t)ops[1].imm.value.u;
		return true;
	case ZYDIS_MNEMONIC_XOR:
		if (!op_is_gpr64_32(&ops[0]) || ops[1].type != ZYDIS_OPERAND_TYPE_REGISTER ||
		    ops[1].reg.value != ops[0].reg.value)
			return false;
		emu_dst(e, X86_64_EMU_XOR_ZERO, &ops[0]);
		return true;
	case ZYDIS_MNEMONIC_LEA:
		return plan_lea(in, ops, e);
	case ZYDIS_MNEMONIC_JMP:
	case ZYDIS_MNEMONIC_CALL:
		if (!in->raw.imm[0].is_relative)
			return false;
		e->op = in->mnemonic == ZYDIS_MNEMONIC_JMP ? X86_64_EMU_JMP : X86_64_EMU_CALL;
		return true;
	default:
		return false;
	}
}

/* mov between a 32/64-bit GPR and a plain memory operand (no fs/gs, GPR or rip base, GPR
 * index): planned for the memory fast path of an out-of-line site. */
static bool plan_memmov(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
			struct x86_64_emu *e)
{
	const ZydisDecodedOperand *m, *r;
	bool load;

	if (in->mnemonic != ZYDIS_MNEMONIC_MOV || in->address_width != 64 ||
	    (in->attributes & ZYDIS_ATTRIB_HAS_LOCK))
		return false;
	load = ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY;
	m = load ? &ops[1] : &ops[0];
	r = load ? &ops[0] : &ops[1];
	if (!plain_mem(m) || !op_is_gpr64_32(r))
		return false;
	memset(e, 0, sizeof(*e));
	e->op = load ? X86_64_EMU_LOAD : X86_64_EMU_STORE;
	e->width = op_is_gpr(r, 32) ? 4 : 8;
	e->dst = load ? gpr_slot(r->reg.value) : X86_64_EMU_NOREG;
	e->src = load ? X86_64_EMU_NOREG : gpr_slot(r->reg.value);
	emu_mem(e, m);
	return true;
}

static bool has_riprel(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops, int *idx)
{
	for (int i = 0; i < in->operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    ops[i].mem.base == ZYDIS_REGISTER_RIP) {
			*idx = i;
			return true;
		}
	return false;
}

static void classify(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
		     struct x86_64_insn *out)
{
	/* Zydis' ATTRIB_IS_RELATIVE also covers rip-relative memory operands: a relative branch
	 * is one whose immediate is relative. */
	bool rel = in->raw.imm[0].is_relative;
	int mi = -1;
	bool riprel = has_riprel(in, ops, &mi);

	out->cls = X86_64_INSN_OTHER;
	out->strategy = X86_64_STEP_OUT_OF_LINE;
	if (riprel) {
		ZyanU64 t = 0;
		ZydisCalcAbsoluteAddress(in, &ops[mi], out->addr, &t);
		out->target = t;
		out->disp_offset = in->raw.disp.offset;
		out->disp_size = in->raw.disp.size / 8;
		out->cls = X86_64_INSN_RIPREL;
	} else if (rel) {
		ZyanU64 t = 0;
		ZydisCalcAbsoluteAddress(in, &ops[0], out->addr, &t);
		out->target = t;
		out->disp_offset = in->raw.imm[0].offset;
		out->disp_size = in->raw.imm[0].size / 8;
	}
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_INT3:
		out->cls = X86_64_INSN_INT3;
		break;
	case ZYDIS_MNEMONIC_SYSCALL:
		out->cls = X86_64_INSN_SYSCALL;
		break;
	case ZYDIS_MNEMONIC_RET:
		out->cls = X86_64_INSN_RET;
		break;
	case ZYDIS_MNEMONIC_CALL:
		out->cls = rel ? X86_64_INSN_CALL : X86_64_INSN_CALL_INDIRECT;
		break;
	case ZYDIS_MNEMONIC_JMP:
		out->cls = rel ? X86_64_INSN_JMP : X86_64_INSN_JMP_INDIRECT;
		break;
	case ZYDIS_MNEMONIC_XBEGIN:
		out->cls = X86_64_INSN_UNSAFE;
		break;
	default:
		if (in->meta.category == ZYDIS_CATEGORY_COND_BR && rel)
			out->cls = X86_64_INSN_JCC;
		else if (rel)
			/* xbegin and any other rip-relative branch we cannot model */
			out->cls = X86_64_INSN_UNSAFE;
		break;
	}
	out->rep = (in->attributes &
		    (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) != 0;
	if (out->cls == X86_64_INSN_UNSAFE)
		out->strategy = X86_64_STEP_INLINE;
	else if (plan_emulation(in, ops, &out->emu))
		out->strategy = X86_64_STEP_EMULATE;
	else if (!plan_memmov(in, ops, &out->emu))
		out->emu.op = X86_64_EMU_NONE;
}

int x86_64_insn_decode(const uint8_t *code, size_t len, uint64_t addr, struct x86_64_insn *out)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisFormatter fmt;

	if (!code || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (zy_decode(code, len, &in, ops) < 0)
		return -EINVAL;
	out->addr = addr;
	out->len = in.length;
	memcpy(out->bytes, code, in.length);
	classify(&in, ops, out);
	if (ZYAN_FAILED(ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_ATT)) ||
	    ZYAN_FAILED(ZydisFormatterFormatInstruction(&fmt, &in, ops, in.operand_count_visible,
							out->text, sizeof(out->text), addr, NULL)))
		snprintf(out->text, sizeof(out->text), "(bad)");
	return 0;
}

static int parity_even(uint64_t v)
{
	return !__builtin_parity((unsigned)(v & 0xff));
}

/* Set CF PF AF ZF SF OF of 64-bit a op b = r as the CPU does for add/sub. */
static uint64_t arith_flags(uint64_t flags, uint64_t a, uint64_t b, uint64_t r, bool sub)
{
	flags &= ~EFL_ARITH;
	if (sub ? a < b : r < a)
		flags |= EFL_CF;
	if (parity_even(r))
		flags |= EFL_PF;
	if ((a ^ b ^ r) & 0x10)
		flags |= EFL_AF;
	if (r == 0)
		flags |= EFL_ZF;
	if (r >> 63)
		flags |= EFL_SF;
	if (((sub ? (a ^ b) : ~(a ^ b)) & (a ^ r)) >> 63)
		flags |= EFL_OF;
	return flags;
}

static void push_bytes(struct user_regs_struct *regs, uint64_t v, unsigned len,
		       struct x86_64_memwrite *w, size_t *nw)
{
	regs->rsp -= len;
	memset(w, 0, sizeof(*w));
	w->addr = regs->rsp;
	w->len = (uint8_t)len;
	for (unsigned i = 0; i < len; i++)
		w->bytes[i] = (uint8_t)(v >> (8 * i));
	*nw = 1;
}

static uint64_t lea_addr(const struct x86_64_insn *insn, const uint64_t *slot)
{
	const struct x86_64_emu *e = &insn->emu;
	uint64_t ea = (uint64_t)e->imm;

	if (e->base == X86_64_EMU_RIP)
		ea += insn->addr + insn->len;
	else if (e->base != X86_64_EMU_NOREG)
		ea += slot[e->base];
	if (e->index != X86_64_EMU_NOREG)
		ea += slot[e->index] * e->scale;
	return ea;
}

static void set_dst(uint64_t *slot, const struct x86_64_emu *e, uint64_t v)
{
	slot[e->dst] = e->width == 4 ? (uint32_t)v : v;
}

int x86_64_insn_mem_plan(const struct x86_64_insn *insn, const struct user_regs_struct *regs,
			 struct x86_64_memwrite *acc, bool *store)
{
	const struct x86_64_emu *e = &insn->emu;
	const uint64_t *slot = (const uint64_t *)regs;

	if (insn->strategy != X86_64_STEP_OUT_OF_LINE ||
	    (e->op != X86_64_EMU_LOAD && e->op != X86_64_EMU_STORE))
		return -ENOTSUP;
	memset(acc, 0, sizeof(*acc));
	acc->addr = lea_addr(insn, slot);
	acc->len = e->width;
	*store = e->op == X86_64_EMU_STORE;
	if (*store)
		for (unsigned i = 0; i < e->width; i++)
			acc->bytes[i] = (uint8_t)(slot[e->src] >> (8 * i));
	return 0;
}

void x86_64_insn_mem_finish(const struct x86_64_insn *insn, struct user_regs_struct *regs,
			    const uint8_t *loaded)
{
	const struct x86_64_emu *e = &insn->emu;
	uint64_t v = 0;

	if (e->op == X86_64_EMU_LOAD) {
		for (unsigned i = 0; i < e->width; i++)
			v |= (uint64_t)loaded[i] << (8 * i);
		set_dst((uint64_t *)regs, e, v);
	}
	regs->rip = insn->addr + insn->len;
}

int x86_64_insn_emulate(const struct x86_64_insn *insn, struct user_regs_struct *regs,
			struct x86_64_memwrite *writes, size_t *nwrites)
{
	const struct x86_64_emu *e = &insn->emu;
	uint64_t *slot = (uint64_t *)regs;
	uint64_t next = insn->addr + insn->len;

	*nwrites = 0;
	if (insn->strategy != X86_64_STEP_EMULATE || e->op == X86_64_EMU_NONE)
		return -ENOTSUP;
	switch (e->op) {
	case X86_64_EMU_PUSH_REG:
		push_bytes(regs, slot[e->src], 8, writes, nwrites);
		break;
	case X86_64_EMU_PUSH_IMM:
		push_bytes(regs, (uint64_t)e->imm, 8, writes, nwrites);
		break;
	case X86_64_EMU_PUSHF:
		/* RF and VM read as zero in the pushed image (SDM PUSHF). */
		push_bytes(regs, regs->eflags & ~0x30000ull, e->width, writes, nwrites);
		break;
	case X86_64_EMU_MOV_RR:
		set_dst(slot, e, slot[e->src]);
		break;
	case X86_64_EMU_MOV_RI:
		set_dst(slot, e, (uint64_t)e->imm);
		break;
	case X86_64_EMU_ADDSUB: {
		uint64_t a = slot[e->dst], b = (uint64_t)e->imm;
		uint64_t r = e->sub ? a - b : a + b;

		regs->eflags = arith_flags(regs->eflags, a, b, r, e->sub);
		slot[e->dst] = r;
		break;
	}
	case X86_64_EMU_XOR_ZERO:
		/* xor r,r: result 0; CF OF cleared, ZF PF set, SF clear; AF is cleared on
		 * real hardware (undefined in the SDM). */
		slot[e->dst] = 0;
		regs->eflags = (regs->eflags & ~EFL_ARITH) | EFL_ZF | EFL_PF;
		break;
	case X86_64_EMU_LEA:
		set_dst(slot, e, lea_addr(insn, slot));
		break;
	case X86_64_EMU_JMP:
		next = insn->target;
		break;
	case X86_64_EMU_CALL:
		push_bytes(regs, next, 8, writes, nwrites);
		next = insn->target;
		break;
	default: /* nop, endbr */
		break;
	}
	regs->rip = next;
	return 0;
}

static int put_rel32(uint8_t *p, uint64_t target, uint64_t next)
{
	int64_t d = (int64_t)(target - next);
	if (d < INT32_MIN || d > INT32_MAX)
		return -ERANGE;
	uint32_t u = (uint32_t)(int32_t)d;
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(u >> (8 * i));
	return 0;
}

/* jrcxz/jecxz/loop/loope/loopne have only a rel8 form: copy them with rel8 = 2
 * over a short jmp, followed by a jmp rel32 to the real target. After one step,
 * rip is to+len (not taken) or to+len+2 (taken; fixed up to the target). */
static bool is_rel8_only(uint8_t op)
{
	return op >= 0xe0 && op <= 0xe3;
}

int x86_64_insn_relocate(const struct x86_64_insn *insn, uint64_t to, uint8_t *out, size_t *len)
{
	size_t n = insn->len;
	*len = 0;
	switch (insn->cls) {
	case X86_64_INSN_UNSAFE:
		return -ENOTSUP;
	case X86_64_INSN_JMP:
	case X86_64_INSN_CALL:
		out[0] = insn->cls == X86_64_INSN_JMP ? 0xe9 : 0xe8;
		if (put_rel32(out + 1, insn->target, to + 5))
			return -ERANGE;
		*len = 5;
		return 0;
	case X86_64_INSN_JCC: {
		uint8_t op = insn->bytes[insn->disp_offset - 1];
		if (insn->disp_size == 1 && op >= 0x70 && op <= 0x7f) {
			out[0] = 0x0f;
			out[1] = (uint8_t)(0x80 + (op & 0x0f));
			if (put_rel32(out + 2, insn->target, to + 6))
				return -ERANGE;
			*len = 6;
			return 0;
		}
		if (insn->disp_size == 1 && is_rel8_only(op)) {
			memcpy(out, insn->bytes, n);
			out[n - 1] = 2;
			out[n] = 0xeb; /* jmp +5: skips the trampoline */
			out[n + 1] = 5;
			out[n + 2] = 0xe9;
			if (put_rel32(out + n + 3, insn->target, to + n + 7))
				return -ERANGE;
			*len = n + 7;
			return 0;
		}
		if (insn->disp_size != 4)
			return -ENOTSUP;
		memcpy(out, insn->bytes, n);
		if (put_rel32(out + insn->disp_offset, insn->target, to + n))
			return -ERANGE;
		*len = n;
		return 0;
	}
	default:
		memcpy(out, insn->bytes, n);
		if (insn->disp_offset && insn->disp_size == 4 &&
		    put_rel32(out + insn->disp_offset, insn->target, to + n))
			return -ERANGE;
		*len = n;
		return 0;
	}
}

int x86_64_insn_fixup(const struct x86_64_insn *insn, uint64_t to, struct user_regs_struct *regs,
		      struct x86_64_memwrite *writes, size_t *nwrites)
{
	uint8_t code[X86_64_OOL_MAX];
	size_t rl = 0;
	uint64_t next = insn->addr + insn->len;
	int err = x86_64_insn_relocate(insn, to, code, &rl);

	*nwrites = 0;
	if (err)
		return err;
	uint64_t fall = to + rl; /* rip after the copy ran to its end */
	if (insn->cls == X86_64_INSN_JCC && insn->disp_size == 1 &&
	    is_rel8_only(insn->bytes[insn->disp_offset - 1])) {
		fall = to + insn->len;
		if (regs->rip == to + insn->len + 2) {
			regs->rip = insn->target;
			return 0;
		}
	}
	if (regs->rip == to && insn->rep)
		return 1; /* one iteration done, rcx not exhausted: step the copy again */
	if (insn->cls == X86_64_INSN_CALL || insn->cls == X86_64_INSN_CALL_INDIRECT) {
		/* The copy pushed to+rl; the program must see the original return address.
		 */
		struct x86_64_memwrite *w = &writes[0];
		memset(w, 0, sizeof(*w));
		w->addr = regs->rsp;
		w->len = 8;
		for (int i = 0; i < 8; i++)
			w->bytes[i] = (uint8_t)(next >> (8 * i));
		*nwrites = 1;
	}
	if (regs->rip == fall) {
		if (insn->cls == X86_64_INSN_SYSCALL && regs->rcx == fall) {
			regs->rcx = next;	/* syscall saved the return rip in rcx */
			regs->r11 &= ~0x100ull; /* and rflags in r11, with the step's TF */
		}
		regs->rip = next;
	}
	return 0;
}
