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

/* The user_regs_struct slot holding a 64-bit GPR (or its sub-register), NULL
 * otherwise. */
static unsigned long long *gpr(struct user_regs_struct *r, ZydisRegister reg)
{
	switch (ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg)) {
	case ZYDIS_REGISTER_RAX:
		return &r->rax;
	case ZYDIS_REGISTER_RBX:
		return &r->rbx;
	case ZYDIS_REGISTER_RCX:
		return &r->rcx;
	case ZYDIS_REGISTER_RDX:
		return &r->rdx;
	case ZYDIS_REGISTER_RSI:
		return &r->rsi;
	case ZYDIS_REGISTER_RDI:
		return &r->rdi;
	case ZYDIS_REGISTER_RBP:
		return &r->rbp;
	case ZYDIS_REGISTER_RSP:
		return &r->rsp;
	case ZYDIS_REGISTER_R8:
		return &r->r8;
	case ZYDIS_REGISTER_R9:
		return &r->r9;
	case ZYDIS_REGISTER_R10:
		return &r->r10;
	case ZYDIS_REGISTER_R11:
		return &r->r11;
	case ZYDIS_REGISTER_R12:
		return &r->r12;
	case ZYDIS_REGISTER_R13:
		return &r->r13;
	case ZYDIS_REGISTER_R14:
		return &r->r14;
	case ZYDIS_REGISTER_R15:
		return &r->r15;
	default:
		return NULL;
	}
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

/* Instructions x86_64_insn_emulate handles: register-only effects (plus
 * push/call's store). */
static bool emulable(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_NOP:
	case ZYDIS_MNEMONIC_ENDBR64:
	case ZYDIS_MNEMONIC_ENDBR32:
		return true;
	case ZYDIS_MNEMONIC_PUSH:
		return op_is_gpr(&ops[0], 64);
	case ZYDIS_MNEMONIC_MOV:
		return (op_is_gpr(&ops[0], 64) && op_is_gpr(&ops[1], 64)) ||
		       (op_is_gpr(&ops[0], 32) && op_is_gpr(&ops[1], 32));
	case ZYDIS_MNEMONIC_ADD:
	case ZYDIS_MNEMONIC_SUB:
		return !(in->attributes & ZYDIS_ATTRIB_HAS_LOCK) && op_is_gpr(&ops[0], 64) &&
		       ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
	case ZYDIS_MNEMONIC_XOR:
		return (op_is_gpr(&ops[0], 64) || op_is_gpr(&ops[0], 32)) &&
		       ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		       ops[1].reg.value == ops[0].reg.value;
	case ZYDIS_MNEMONIC_LEA:
		return (op_is_gpr(&ops[0], 64) || op_is_gpr(&ops[0], 32)) &&
		       in->address_width == 64 && ops[1].mem.segment != ZYDIS_REGISTER_FS &&
		       ops[1].mem.segment != ZYDIS_REGISTER_GS;
	case ZYDIS_MNEMONIC_JMP:
	case ZYDIS_MNEMONIC_CALL:
		return in->raw.imm[0].is_relative;
	default:
		return false;
	}
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
	if (out->cls == X86_64_INSN_UNSAFE)
		out->strategy = X86_64_STEP_INLINE;
	else if (emulable(in, ops))
		out->strategy = X86_64_STEP_EMULATE;
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

static void push64(struct user_regs_struct *regs, uint64_t v, struct x86_64_memwrite *w, size_t *nw)
{
	regs->rsp -= 8;
	memset(w, 0, sizeof(*w));
	w->addr = regs->rsp;
	w->len = 8;
	for (int i = 0; i < 8; i++)
		w->bytes[i] = (uint8_t)(v >> (8 * i));
	*nw = 1;
}

static uint64_t lea_addr(const struct x86_64_insn *insn, const ZydisDecodedOperand *m,
			 struct user_regs_struct *regs)
{
	uint64_t ea = (uint64_t)m->mem.disp.value;
	if (m->mem.base == ZYDIS_REGISTER_RIP)
		ea += insn->addr + insn->len;
	else if (m->mem.base != ZYDIS_REGISTER_NONE)
		ea += *gpr(regs, m->mem.base);
	if (m->mem.index != ZYDIS_REGISTER_NONE)
		ea += *gpr(regs, m->mem.index) * m->mem.scale;
	return ea;
}

int x86_64_insn_emulate(const struct x86_64_insn *insn, struct user_regs_struct *regs,
			struct x86_64_memwrite *writes, size_t *nwrites)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint64_t next = insn->addr + insn->len;

	*nwrites = 0;
	if (insn->strategy != X86_64_STEP_EMULATE || zy_decode(insn->bytes, insn->len, &in, ops) ||
	    !emulable(&in, ops))
		return -ENOTSUP;
	/* Operands that are index registers must be GPRs too (lea (%rax,%rax,2)
	 * etc.). */
	if (in.mnemonic == ZYDIS_MNEMONIC_LEA &&
	    ((ops[1].mem.base != ZYDIS_REGISTER_NONE && ops[1].mem.base != ZYDIS_REGISTER_RIP &&
	      !is_gpr(ops[1].mem.base, 64)) ||
	     (ops[1].mem.index != ZYDIS_REGISTER_NONE && !is_gpr(ops[1].mem.index, 64))))
		return -ENOTSUP;
	switch (in.mnemonic) {
	case ZYDIS_MNEMONIC_PUSH:
		push64(regs, *gpr(regs, ops[0].reg.value), writes, nwrites);
		break;
	case ZYDIS_MNEMONIC_MOV: {
		uint64_t v = *gpr(regs, ops[1].reg.value);
		*gpr(regs, ops[0].reg.value) = op_is_gpr(&ops[0], 32) ? (uint32_t)v : v;
		break;
	}
	case ZYDIS_MNEMONIC_ADD:
	case ZYDIS_MNEMONIC_SUB: {
		bool sub = in.mnemonic == ZYDIS_MNEMONIC_SUB;
		unsigned long long *d = gpr(regs, ops[0].reg.value);
		uint64_t a = *d, b = ops[1].imm.value.u;
		uint64_t r = sub ? a - b : a + b;
		regs->eflags = arith_flags(regs->eflags, a, b, r, sub);
		*d = r;
		break;
	}
	case ZYDIS_MNEMONIC_XOR:
		/* xor r,r: result 0; CF OF cleared, ZF PF set, SF clear; AF is cleared on
		 * real hardware (undefined in the SDM). */
		*gpr(regs, ops[0].reg.value) = 0;
		regs->eflags = (regs->eflags & ~EFL_ARITH) | EFL_ZF | EFL_PF;
		break;
	case ZYDIS_MNEMONIC_LEA: {
		uint64_t ea = lea_addr(insn, &ops[1], regs);
		*gpr(regs, ops[0].reg.value) = op_is_gpr(&ops[0], 32) ? (uint32_t)ea : ea;
		break;
	}
	case ZYDIS_MNEMONIC_JMP:
		next = insn->target;
		break;
	case ZYDIS_MNEMONIC_CALL:
		push64(regs, next, writes, nwrites);
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

static bool is_rep_string(const struct x86_64_insn *insn)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	if (zy_decode(insn->bytes, insn->len, &in, ops))
		return false;
	return (in.attributes &
		(ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) != 0;
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
	if (regs->rip == to && is_rep_string(insn))
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
		if (insn->cls == X86_64_INSN_SYSCALL && regs->rcx == fall)
			regs->rcx = next; /* syscall saved the return rip in rcx */
		regs->rip = next;
	}
	return 0;
}
