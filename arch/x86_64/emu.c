/* The replay emulator's core: decode one instruction with libzydis, find its operands in the
 * partly known state, run it (moves, stack operations, control flow, string moves and stores
 * one iteration at a time, the SSE moves compilers emit for copies; arithmetic is emu_alu.c)
 * and commit the result only when every input was known. Never touches a process. */
#include "arch/x86_64/emu_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/regs.h"

int emu_fail(struct emu_x *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, x->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

uint64_t emu_sx(uint64_t v, unsigned bits)
{
	return bits >= 64 ? v : (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

uint64_t emu_mask(unsigned bits)
{
	return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

/* gdb's index of a GPR (or a part of one), its first byte and width; -1 when not a GPR. */
static int gpr_of(ZydisRegister reg, unsigned *byte, unsigned *bytes)
{
	static const ZydisRegister order[X86_64_EMU_NGPR] = {
		ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX,
		ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSP,
		ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,	ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
		ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15,
	};
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);

	for (int i = 0; i < X86_64_EMU_NGPR; i++) {
		if (order[i] != big)
			continue;
		*bytes = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg) / 8;
		*byte = reg == ZYDIS_REGISTER_AH || reg == ZYDIS_REGISTER_BH ||
					reg == ZYDIS_REGISTER_CH || reg == ZYDIS_REGISTER_DH
				? 1
				: 0;
		return i;
	}
	return -1;
}

static int xmm_of(ZydisRegister reg)
{
	return reg >= ZYDIS_REGISTER_XMM0 && reg <= ZYDIS_REGISTER_XMM15
		       ? (int)(reg - ZYDIS_REGISTER_XMM0)
		       : -1;
}

static uint8_t byte_mask(unsigned byte, unsigned bytes)
{
	return (uint8_t)(((1u << bytes) - 1) << byte);
}

int emu_reg_get(struct emu_x *x, ZydisRegister reg, uint64_t *v)
{
	unsigned byte, bytes;
	int g;

	if (reg == ZYDIS_REGISTER_RIP) {
		*v = x->next;
		return 0;
	}
	g = gpr_of(reg, &byte, &bytes);
	if (g < 0)
		return emu_fail(x, "register %s is not emulated", ZydisRegisterGetString(reg));
	if ((x->o->gpr_known[g] & byte_mask(byte, bytes)) != byte_mask(byte, bytes))
		return emu_fail(x, "%s is unknown", ZydisRegisterGetString(reg));
	*v = (x->o->gpr[g] >> (8 * byte)) & emu_mask(8 * bytes);
	return 0;
}

static int reg_set(struct emu_x *x, ZydisRegister reg, uint64_t v)
{
	unsigned byte, bytes;
	int g = gpr_of(reg, &byte, &bytes);
	uint64_t keep;

	if (g < 0)
		return emu_fail(x, "register %s is not emulated", ZydisRegisterGetString(reg));
	if (bytes == 4) { /* a 32-bit write clears the upper half */
		x->n.gpr[g] = (uint32_t)v;
		x->n.gpr_known[g] = 0xff;
		return 0;
	}
	keep = ~(emu_mask(8 * bytes) << (8 * byte));
	x->n.gpr[g] = (x->n.gpr[g] & keep) | ((v & emu_mask(8 * bytes)) << (8 * byte));
	x->n.gpr_known[g] |= byte_mask(byte, bytes);
	return 0;
}

/* The address a memory operand names (segment base included). */
static int ea(struct emu_x *x, const ZydisDecodedOperand *op, uint64_t *addr)
{
	uint64_t a = (uint64_t)op->mem.disp.value, v;

	if (op->mem.base != ZYDIS_REGISTER_NONE) {
		if (emu_reg_get(x, op->mem.base, &v))
			return -1;
		a += v;
	}
	if (op->mem.index != ZYDIS_REGISTER_NONE) {
		if (emu_reg_get(x, op->mem.index, &v))
			return -1;
		a += v * op->mem.scale;
	}
	if (op->mem.type == ZYDIS_MEMOP_TYPE_MEM && op->mem.segment == ZYDIS_REGISTER_FS) {
		if (!x->o->fs_known)
			return emu_fail(x, "fs_base is unknown");
		a += x->o->fs_base;
	} else if (op->mem.type == ZYDIS_MEMOP_TYPE_MEM && op->mem.segment == ZYDIS_REGISTER_GS) {
		return emu_fail(x, "gs-relative memory is not emulated");
	}
	if (op->mem.type == ZYDIS_MEMOP_TYPE_AGEN && op->size == 32)
		a = (uint32_t)a;
	*addr = a;
	return 0;
}

static int mem_get(struct emu_x *x, uint64_t addr, void *buf, size_t len)
{
	if (x->m->read(x->m->ctx, addr, buf, len))
		return emu_fail(x, "memory at 0x%llx (%zu bytes) is unknown",
				(unsigned long long)addr, len);
	return 0;
}

static int mem_put(struct emu_x *x, uint64_t addr, const void *buf, size_t len)
{
	if (x->wlen || len > sizeof(x->wbuf))
		return emu_fail(x, "more than one memory write");
	x->waddr = addr;
	memcpy(x->wbuf, buf, len);
	x->wlen = len;
	return 0;
}

int emu_read(struct emu_x *x, unsigned i, uint64_t *v)
{
	const ZydisDecodedOperand *op = &x->ops[i];
	uint64_t addr;

	*v = 0;
	switch (op->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER:
		return emu_reg_get(x, op->reg.value, v);
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		/* sign-extended to the destination's width, as the instruction does */
		*v = op->imm.value.u & emu_mask(i ? x->ops[0].size : op->size);
		return 0;
	case ZYDIS_OPERAND_TYPE_MEMORY:
		if (op->size > 64)
			return emu_fail(x, "a %u-bit memory operand", op->size);
		if (ea(x, op, &addr) || mem_get(x, addr, v, op->size / 8))
			return -1;
		return 0;
	default:
		return emu_fail(x, "operand kind not emulated");
	}
}

int emu_write(struct emu_x *x, unsigned i, uint64_t v)
{
	const ZydisDecodedOperand *op = &x->ops[i];
	uint64_t addr;

	if (op->type == ZYDIS_OPERAND_TYPE_REGISTER)
		return reg_set(x, op->reg.value, v);
	if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->size > 64)
		return emu_fail(x, "destination not emulated");
	return ea(x, op, &addr) ? -1 : mem_put(x, addr, &v, op->size / 8);
}

void emu_put_flags(struct emu_x *x, uint64_t val, uint64_t def, uint64_t undef)
{
	x->n.rflags = (x->n.rflags & ~def) | (val & def);
	x->n.flags_known = (x->n.flags_known | def) & ~undef;
}

uint64_t emu_szp(uint64_t res, unsigned bits)
{
	uint64_t f = 0;

	res &= emu_mask(bits);
	if (!res)
		f |= EMU_ZF;
	if (res >> (bits - 1) & 1)
		f |= EMU_SF;
	if (!__builtin_parity((unsigned)(res & 0xff)))
		f |= EMU_PF;
	return f;
}

int emu_flags_tested(struct emu_x *x)
{
	uint64_t t = x->in.cpu_flags ? x->in.cpu_flags->tested : 0;

	if (t & ~x->o->flags_known)
		return emu_fail(x, "the flags %s tests are unknown",
				ZydisMnemonicGetString(x->in.mnemonic));
	return 0;
}

bool emu_cond(const struct emu_x *x, unsigned cc)
{
	uint64_t f = x->o->rflags;
	bool cf = f & EMU_CF, zf = f & EMU_ZF, sf = f & EMU_SF, of = f & EMU_OF, pf = f & EMU_PF;
	bool r;

	switch (cc >> 1) {
	case 0:
		r = of;
		break;
	case 1:
		r = cf;
		break;
	case 2:
		r = zf;
		break;
	case 3:
		r = cf || zf;
		break;
	case 4:
		r = sf;
		break;
	case 5:
		r = pf;
		break;
	case 6:
		r = sf != of;
		break;
	default:
		r = zf || sf != of;
		break;
	}
	return (cc & 1) ? !r : r;
}

/* ---- the stack ---- */

static int push(struct emu_x *x, uint64_t v)
{
	uint64_t sp;

	if (emu_reg_get(x, ZYDIS_REGISTER_RSP, &sp) || mem_put(x, sp - 8, &v, 8))
		return -1;
	return reg_set(x, ZYDIS_REGISTER_RSP, sp - 8);
}

static int pop(struct emu_x *x, uint64_t *v, uint64_t extra)
{
	uint64_t sp;

	if (emu_reg_get(x, ZYDIS_REGISTER_RSP, &sp) || mem_get(x, sp, v, 8))
		return -1;
	return reg_set(x, ZYDIS_REGISTER_RSP, sp + 8 + extra);
}

/* The target of a jmp/call: relative, or through a register or memory. */
static int branch_target(struct emu_x *x, uint64_t *t)
{
	const ZydisDecodedOperand *op = &x->ops[0];

	if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op->imm.is_relative) {
		*t = x->next + op->imm.value.u;
		return 0;
	}
	return emu_read(x, 0, t);
}

static int control(struct emu_x *x)
{
	uint64_t t, v;

	switch (x->in.mnemonic) {
	case ZYDIS_MNEMONIC_JMP:
		x->kind = X86_64_EMU_K_BRANCH;
		if (branch_target(x, &t))
			return -1;
		x->n.rip = t;
		return 0;
	case ZYDIS_MNEMONIC_CALL:
		x->kind = X86_64_EMU_K_CALL;
		if (branch_target(x, &t) || push(x, x->next))
			return -1;
		x->n.rip = t;
		return 0;
	case ZYDIS_MNEMONIC_RET:
		x->kind = X86_64_EMU_K_RET;
		if (pop(x, &t, x->in.operand_count_visible ? x->ops[0].imm.value.u : 0))
			return -1;
		x->n.rip = t;
		return 0;
	case ZYDIS_MNEMONIC_JRCXZ:
	case ZYDIS_MNEMONIC_JECXZ:
		x->kind = X86_64_EMU_K_BRANCH;
		if (emu_reg_get(x,
				x->in.mnemonic == ZYDIS_MNEMONIC_JRCXZ ? ZYDIS_REGISTER_RCX
								       : ZYDIS_REGISTER_ECX,
				&v))
			return -1;
		if (!v)
			x->n.rip = x->next + x->ops[0].imm.value.u;
		return 0;
	default:
		break;
	}
	if (x->in.meta.category != ZYDIS_CATEGORY_COND_BR)
		return 1;
	x->kind = X86_64_EMU_K_BRANCH;
	if (emu_flags_tested(x))
		return -1;
	if (emu_cond(x, x->in.opcode & 0xf))
		x->n.rip = x->next + x->ops[0].imm.value.u;
	return 0;
}

static int moves(struct emu_x *x)
{
	uint64_t v, w, sp;

	switch (x->in.mnemonic) {
	case ZYDIS_MNEMONIC_NOP:
	case ZYDIS_MNEMONIC_ENDBR64:
	case ZYDIS_MNEMONIC_PAUSE:
	case ZYDIS_MNEMONIC_PREFETCHT0:
	case ZYDIS_MNEMONIC_PREFETCHT1:
	case ZYDIS_MNEMONIC_PREFETCHT2:
	case ZYDIS_MNEMONIC_PREFETCHNTA:
		return 0;
	case ZYDIS_MNEMONIC_MOV:
	case ZYDIS_MNEMONIC_MOVZX:
		return emu_read(x, 1, &v) || emu_write(x, 0, v) ? -1 : 0;
	case ZYDIS_MNEMONIC_MOVSX:
	case ZYDIS_MNEMONIC_MOVSXD:
		return emu_read(x, 1, &v) || emu_write(x, 0, emu_sx(v, x->ops[1].size)) ? -1 : 0;
	case ZYDIS_MNEMONIC_LEA:
		return ea(x, &x->ops[1], &v) || emu_write(x, 0, v) ? -1 : 0;
	case ZYDIS_MNEMONIC_PUSH:
		if (emu_read(x, 0, &v))
			return -1;
		if (x->ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
			v = emu_sx(v, x->ops[0].size);
		return push(x, v);
	case ZYDIS_MNEMONIC_POP:
		return pop(x, &v, 0) || emu_write(x, 0, v) ? -1 : 0;
	case ZYDIS_MNEMONIC_LEAVE:
		if (emu_reg_get(x, ZYDIS_REGISTER_RBP, &sp) || mem_get(x, sp, &v, 8))
			return -1;
		reg_set(x, ZYDIS_REGISTER_RSP, sp + 8);
		return reg_set(x, ZYDIS_REGISTER_RBP, v);
	case ZYDIS_MNEMONIC_XCHG:
		if (emu_read(x, 0, &v) || emu_read(x, 1, &w))
			return -1;
		return emu_write(x, 0, w) || emu_write(x, 1, v) ? -1 : 0;
	case ZYDIS_MNEMONIC_BSWAP:
		if (emu_read(x, 0, &v))
			return -1;
		v = x->ops[0].size == 64 ? __builtin_bswap64(v) : __builtin_bswap32((uint32_t)v);
		return emu_write(x, 0, v);
	default:
		break;
	}
	switch (x->in.meta.category) {
	case ZYDIS_CATEGORY_CMOV:
		if (emu_flags_tested(x) || emu_read(x, 0, &w) || emu_read(x, 1, &v))
			return -1;
		return emu_write(x, 0, emu_cond(x, x->in.opcode & 0xf) ? v : w);
	case ZYDIS_CATEGORY_SETCC:
		if (emu_flags_tested(x))
			return -1;
		return emu_write(x, 0, emu_cond(x, x->in.opcode & 0xf));
	default:
		return 1;
	}
}

/* movs/stos, one iteration (with rep: rip stays until rcx reaches 0). */
static int strings(struct emu_x *x)
{
	ZydisMnemonic mn = x->in.mnemonic;
	bool stos = mn >= ZYDIS_MNEMONIC_STOSB && mn <= ZYDIS_MNEMONIC_STOSW;
	bool rep = x->in.attributes & ZYDIS_ATTRIB_HAS_REP;
	unsigned size = x->in.operand_width / 8;
	uint64_t si = 0, di, cx = 1, v = 0;
	int64_t d;

	if (x->in.meta.category != ZYDIS_CATEGORY_STRINGOP)
		return 1;
	if (!stos && !(mn >= ZYDIS_MNEMONIC_MOVSB && mn <= ZYDIS_MNEMONIC_MOVSW))
		return emu_fail(x, "%s is not emulated", ZydisMnemonicGetString(mn));
	if (!(x->o->flags_known & EMU_DF))
		return emu_fail(x, "the direction flag is unknown");
	d = (x->o->rflags & EMU_DF) ? -(int64_t)size : (int64_t)size;
	if (rep && emu_reg_get(x, ZYDIS_REGISTER_RCX, &cx))
		return -1;
	if (!cx) /* rep with rcx 0: nothing */
		return 0;
	if (emu_reg_get(x, ZYDIS_REGISTER_RDI, &di))
		return -1;
	if (stos ? emu_reg_get(x, ZYDIS_REGISTER_RAX, &v)
		 : emu_reg_get(x, ZYDIS_REGISTER_RSI, &si) || mem_get(x, si, &v, size))
		return -1;
	if (mem_put(x, di, &v, size))
		return -1;
	reg_set(x, ZYDIS_REGISTER_RDI, di + (uint64_t)d);
	if (!stos)
		reg_set(x, ZYDIS_REGISTER_RSI, si + (uint64_t)d);
	if (rep) {
		reg_set(x, ZYDIS_REGISTER_RCX, cx - 1);
		if (cx - 1)
			x->n.rip = x->o->rip; /* the next iteration */
	}
	return 0;
}

/* An SSE operand of up to 16 bytes. */
static int vec_read(struct emu_x *x, unsigned i, uint8_t *buf, unsigned bytes)
{
	const ZydisDecodedOperand *op = &x->ops[i];
	int r = op->type == ZYDIS_OPERAND_TYPE_REGISTER ? xmm_of(op->reg.value) : -1;
	uint64_t v, addr;

	memset(buf, 0, 16);
	if (r >= 0) {
		if (!(x->o->xmm_known >> r & 1))
			return emu_fail(x, "%s is unknown", ZydisRegisterGetString(op->reg.value));
		memcpy(buf, x->o->xmm[r], bytes);
		return 0;
	}
	if (op->type == ZYDIS_OPERAND_TYPE_MEMORY)
		return ea(x, op, &addr) || mem_get(x, addr, buf, bytes) ? -1 : 0;
	if (emu_read(x, i, &v))
		return -1;
	memcpy(buf, &v, bytes > 8 ? 8 : bytes);
	return 0;
}

/* zero: the rest of an xmm destination is cleared (else kept). */
static int vec_write(struct emu_x *x, unsigned i, const uint8_t *buf, unsigned bytes, bool zero)
{
	const ZydisDecodedOperand *op = &x->ops[i];
	int r = op->type == ZYDIS_OPERAND_TYPE_REGISTER ? xmm_of(op->reg.value) : -1;
	uint64_t v = 0, addr;

	if (r >= 0) {
		if (!zero && bytes < 16 && !(x->o->xmm_known >> r & 1))
			return emu_fail(x, "%s is unknown", ZydisRegisterGetString(op->reg.value));
		if (zero)
			memset(x->n.xmm[r], 0, 16);
		memcpy(x->n.xmm[r], buf, bytes);
		x->n.xmm_known |= (uint16_t)(1u << r);
		return 0;
	}
	if (op->type == ZYDIS_OPERAND_TYPE_MEMORY)
		return ea(x, op, &addr) || mem_put(x, addr, buf, bytes) ? -1 : 0;
	memcpy(&v, buf, bytes > 8 ? 8 : bytes);
	return emu_write(x, i, v);
}

static int sse(struct emu_x *x)
{
	uint8_t a[16], b[16];
	bool from_mem;
	unsigned n;

	if (x->in.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY)
		return 1;
	from_mem = x->ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY;
	switch (x->in.mnemonic) {
	case ZYDIS_MNEMONIC_MOVAPS:
	case ZYDIS_MNEMONIC_MOVUPS:
	case ZYDIS_MNEMONIC_MOVAPD:
	case ZYDIS_MNEMONIC_MOVUPD:
	case ZYDIS_MNEMONIC_MOVDQA:
	case ZYDIS_MNEMONIC_MOVDQU:
	case ZYDIS_MNEMONIC_LDDQU:
		return vec_read(x, 1, a, 16) || vec_write(x, 0, a, 16, true) ? -1 : 0;
	case ZYDIS_MNEMONIC_MOVQ:
	case ZYDIS_MNEMONIC_MOVD:
		n = x->in.mnemonic == ZYDIS_MNEMONIC_MOVQ ? 8 : 4;
		return vec_read(x, 1, a, n) || vec_write(x, 0, a, n, true) ? -1 : 0;
	case ZYDIS_MNEMONIC_MOVSS:
	case ZYDIS_MNEMONIC_MOVSD:
		/* from memory the rest is cleared; between registers it is kept */
		n = x->in.mnemonic == ZYDIS_MNEMONIC_MOVSS ? 4 : 8;
		return vec_read(x, 1, a, n) || vec_write(x, 0, a, n, from_mem) ? -1 : 0;
	case ZYDIS_MNEMONIC_PXOR:
	case ZYDIS_MNEMONIC_XORPS:
	case ZYDIS_MNEMONIC_XORPD:
		if (x->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    x->ops[1].reg.value == x->ops[0].reg.value) {
			memset(a, 0, 16);
			return vec_write(x, 0, a, 16, true);
		}
		if (vec_read(x, 0, a, 16) || vec_read(x, 1, b, 16))
			return -1;
		for (int i = 0; i < 16; i++)
			a[i] ^= b[i];
		return vec_write(x, 0, a, 16, true);
	case ZYDIS_MNEMONIC_PUNPCKLQDQ:
		if (vec_read(x, 0, a, 16) || vec_read(x, 1, b, 16))
			return -1;
		memcpy(a + 8, b, 8);
		return vec_write(x, 0, a, 16, true);
	default:
		return 1;
	}
}

static int decode(struct emu_x *x)
{
	ZydisDecoder dec;
	uint8_t code[ZYDIS_MAX_INSTRUCTION_LENGTH];
	size_t len = sizeof(code);

	/* Near the end of what is known, fewer bytes may still hold the instruction. */
	while (len && x->m->read(x->m->ctx, x->o->rip, code, len))
		len--;
	if (!len)
		return emu_fail(x, "the code at 0x%llx is unknown", (unsigned long long)x->o->rip);
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	if (ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, code, len, &x->in, x->ops)))
		return emu_fail(x, "no instruction decodes at 0x%llx",
				(unsigned long long)x->o->rip);
	x->next = x->o->rip + x->in.length;
	return 0;
}

int x86_64_emu_step(struct x86_64_emu_cpu *c, const struct x86_64_emu_mem *m,
		    enum x86_64_emu_kind *kind, char *why, size_t whylen)
{
	static int (*const groups[])(struct emu_x *) = {control, moves, emu_alu, strings, sse};
	struct emu_x x = {.o = c, .n = *c, .m = m, .why = why, .whylen = whylen};
	int rc = 1;

	if (decode(&x))
		return -1;
	x.n.rip = x.next;
	if (x.in.attributes & ZYDIS_ATTRIB_HAS_LOCK)
		return emu_fail(&x, "a locked instruction (another thread's memory)");
	for (size_t i = 0; rc == 1 && i < sizeof(groups) / sizeof(groups[0]); i++)
		rc = groups[i](&x);
	if (rc == 1)
		return emu_fail(&x, "%s is not emulated", ZydisMnemonicGetString(x.in.mnemonic));
	if (rc)
		return -1;
	if (x.wlen && m->write(m->ctx, x.waddr, x.wbuf, x.wlen))
		return emu_fail(&x, "no room for what the code wrote");
	*c = x.n;
	if (kind)
		*kind = x.kind;
	return 0;
}

void x86_64_emu_all_known(struct x86_64_emu_cpu *c, bool known)
{
	memset(c->gpr_known, known ? 0xff : 0, sizeof(c->gpr_known));
	c->flags_known = known ? ~0ull : 0;
	c->xmm_known = known ? 0xffff : 0;
	c->fs_known = known;
}
