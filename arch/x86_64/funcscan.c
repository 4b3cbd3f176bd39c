/* Function exit and call scanning over libzydis. Never reads target memory (the indirect
 * target evaluator is given a reader); no Zydis type leaves this file. */
#include "arch/x86_64/funcscan.h"

#include <Zydis/Zydis.h>
#include <errno.h>
#include <string.h>
#include <sys/user.h>

#include "arch/x86_64/regs.h"

static int regno_of(ZydisRegister r)
{
	static const struct {
		ZydisRegister z;
		int regno;
	} map[] = {
		{ZYDIS_REGISTER_RAX, X86_64_RAX}, {ZYDIS_REGISTER_RBX, X86_64_RBX},
		{ZYDIS_REGISTER_RCX, X86_64_RCX}, {ZYDIS_REGISTER_RDX, X86_64_RDX},
		{ZYDIS_REGISTER_RSI, X86_64_RSI}, {ZYDIS_REGISTER_RDI, X86_64_RDI},
		{ZYDIS_REGISTER_RBP, X86_64_RBP}, {ZYDIS_REGISTER_RSP, X86_64_RSP},
		{ZYDIS_REGISTER_R8, X86_64_R8},	  {ZYDIS_REGISTER_R9, X86_64_R9},
		{ZYDIS_REGISTER_R10, X86_64_R10}, {ZYDIS_REGISTER_R11, X86_64_R11},
		{ZYDIS_REGISTER_R12, X86_64_R12}, {ZYDIS_REGISTER_R13, X86_64_R13},
		{ZYDIS_REGISTER_R14, X86_64_R14}, {ZYDIS_REGISTER_R15, X86_64_R15},
		{ZYDIS_REGISTER_RIP, X86_64_RIP},
	};
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].z == big)
			return map[i].regno;
	return -1;
}

static bool indirect_of(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *op,
			uint64_t addr, struct x86_64_indirect *ind)
{
	memset(ind, 0, sizeof(*ind));
	ind->reg = ind->base = ind->index = -1;
	if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		ind->reg = regno_of(op->reg.value);
		return ind->reg >= 0;
	}
	if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.segment == ZYDIS_REGISTER_FS ||
	    op->mem.segment == ZYDIS_REGISTER_GS)
		return false;
	ind->mem = true;
	ind->disp = op->mem.disp.has_displacement ? op->mem.disp.value : 0;
	ind->scale = op->mem.scale;
	if (op->mem.base == ZYDIS_REGISTER_RIP) {
		ind->disp += (int64_t)(addr + in->length);
	} else if (op->mem.base != ZYDIS_REGISTER_NONE) {
		ind->base = regno_of(op->mem.base);
		if (ind->base < 0)
			return false;
	}
	if (op->mem.index != ZYDIS_REGISTER_NONE) {
		ind->index = regno_of(op->mem.index);
		if (ind->index < 0)
			return false;
	}
	return true;
}

static void put(struct x86_64_site *out, size_t cap, size_t *n, const struct x86_64_site *s)
{
	if (out && *n < cap)
		out[*n] = *s;
	(*n)++;
}

int x86_64_funcscan(const uint8_t *code, size_t len, uint64_t addr, struct x86_64_site *out,
		    size_t cap, size_t *n)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	size_t off = 0;

	*n = 0;
	if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return -EINVAL;
	while (off < len) {
		uint64_t pc = addr + off;
		struct x86_64_site s = {.addr = pc};
		uint64_t target = 0;
		bool rel;

		if (ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, code + off, len - off, &in, ops)))
			return -EINVAL;
		s.len = in.length;
		rel = in.raw.imm[0].is_relative;
		if (rel)
			ZydisCalcAbsoluteAddress(&in, &ops[0], pc, &target);
		switch (in.meta.category) {
		case ZYDIS_CATEGORY_RET:
			s.kind = X86_64_SITE_RET;
			put(out, cap, n, &s);
			break;
		case ZYDIS_CATEGORY_UNCOND_BR:
		case ZYDIS_CATEGORY_COND_BR:
			if (rel && (target < addr || target >= addr + len)) {
				s.kind = X86_64_SITE_JMP_OUT;
				s.target = target;
				put(out, cap, n, &s);
			} else if (!rel && in.meta.category == ZYDIS_CATEGORY_UNCOND_BR &&
				   indirect_of(&in, &ops[0], pc, &s.ind)) {
				s.kind = X86_64_SITE_JMP_INDIRECT;
				put(out, cap, n, &s);
			}
			break;
		case ZYDIS_CATEGORY_CALL:
			s.kind = X86_64_SITE_CALL;
			s.target = rel ? target : 0;
			put(out, cap, n, &s);
			break;
		default:
			break;
		}
		off += in.length;
	}
	return 0;
}

int x86_64_gpr_value(const struct user_regs_struct *r, int regno, uint64_t *val)
{
	const unsigned long long *v[] = {
		[X86_64_RAX] = &r->rax, [X86_64_RBX] = &r->rbx, [X86_64_RCX] = &r->rcx,
		[X86_64_RDX] = &r->rdx, [X86_64_RSI] = &r->rsi, [X86_64_RDI] = &r->rdi,
		[X86_64_RBP] = &r->rbp, [X86_64_RSP] = &r->rsp, [X86_64_R8] = &r->r8,
		[X86_64_R9] = &r->r9,	[X86_64_R10] = &r->r10, [X86_64_R11] = &r->r11,
		[X86_64_R12] = &r->r12, [X86_64_R13] = &r->r13, [X86_64_R14] = &r->r14,
		[X86_64_R15] = &r->r15, [X86_64_RIP] = &r->rip,
	};

	if (regno < 0 || regno > X86_64_RIP)
		return -EINVAL;
	*val = *v[regno];
	return 0;
}

int x86_64_indirect_target(const struct x86_64_indirect *ind, const struct user_regs_struct *regs,
			   x86_64_read_fn rd, void *rctx, uint64_t *target)
{
	uint64_t a = (uint64_t)ind->disp, v;
	int err;

	if (!ind->mem)
		return x86_64_gpr_value(regs, ind->reg, target);
	if (ind->base >= 0) {
		if ((err = x86_64_gpr_value(regs, ind->base, &v)))
			return err;
		a += v;
	}
	if (ind->index >= 0) {
		if ((err = x86_64_gpr_value(regs, ind->index, &v)))
			return err;
		a += v * ind->scale;
	}
	return rd(rctx, a, target, 8);
}

int x86_64_find_main(const uint8_t *code, size_t len, uint64_t entry, uint64_t *main_addr)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint64_t found = 0;
	size_t off = 0;

	if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return -ENOENT;
	for (int n = 0; n < 32 && off < len; n++) {
		if (ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, code + off, len - off, &in, ops)))
			return -ENOENT;
		if (in.meta.category == ZYDIS_CATEGORY_CALL)
			break;
		if (in.mnemonic == ZYDIS_MNEMONIC_LEA &&
		    ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ops[0].reg.value == ZYDIS_REGISTER_RDI && ops[1].mem.base == ZYDIS_REGISTER_RIP)
			found = entry + off + in.length + (uint64_t)ops[1].mem.disp.value;
		off += in.length;
	}
	if (!found)
		return -ENOENT;
	*main_addr = found;
	return 0;
}
