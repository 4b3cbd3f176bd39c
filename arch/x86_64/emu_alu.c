/* The replay emulator's arithmetic and logic: the result and every status flag the
 * instruction defines (those it leaves undefined become unknown). */
#include "arch/x86_64/emu_internal.h"

#include <string.h>

static uint64_t msb(uint64_t v, unsigned bits)
{
	return v >> (bits - 1) & 1;
}

static bool same_reg(const struct emu_x *x)
{
	return x->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       x->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	       x->ops[0].reg.value == x->ops[1].reg.value;
}

/* add adc sub sbb cmp neg inc dec */
static int addsub(struct emu_x *x, bool sub, bool carry, bool keep_cf, bool store, uint64_t a,
		  uint64_t b)
{
	unsigned bits = x->ops[0].size;
	uint64_t m = emu_mask(bits), cin = 0, res, f, of;
	bool cf;

	if (carry) {
		if (emu_flags_tested(x))
			return -1;
		cin = x->o->rflags & EMU_CF;
	}
	a &= m;
	b &= m;
	if (sub) {
		res = (a - b - cin) & m;
		cf = (unsigned __int128)a < (unsigned __int128)b + cin;
		of = msb((a ^ b) & (a ^ res), bits);
	} else {
		res = (a + b + cin) & m;
		cf = (((unsigned __int128)a + b + cin) >> bits) & 1;
		of = msb((a ^ res) & (b ^ res), bits);
	}
	f = emu_szp(res, bits) | ((a ^ b ^ res) & EMU_AF) | (of ? EMU_OF : 0) | (cf ? EMU_CF : 0);
	if (store && emu_write(x, 0, res))
		return -1;
	emu_put_flags(x, f, keep_cf ? EMU_ARITH & ~EMU_CF : EMU_ARITH, 0);
	return 0;
}

static int logic(struct emu_x *x, ZydisMnemonic mn)
{
	unsigned bits = x->ops[0].size;
	uint64_t a, b, res;

	if (mn == ZYDIS_MNEMONIC_XOR && same_reg(x)) {
		res = 0;
	} else {
		if (emu_read(x, 0, &a) || emu_read(x, 1, &b))
			return -1;
		res = mn == ZYDIS_MNEMONIC_OR ? a | b : mn == ZYDIS_MNEMONIC_XOR ? a ^ b : a & b;
	}
	if (mn != ZYDIS_MNEMONIC_TEST && emu_write(x, 0, res))
		return -1;
	emu_put_flags(x, emu_szp(res, bits), EMU_ARITH & ~EMU_AF, EMU_AF);
	return 0;
}

static int shift(struct emu_x *x, ZydisMnemonic mn)
{
	unsigned bits = x->ops[0].size;
	uint64_t a, c, res, cf, of, m = emu_mask(bits), f;
	bool rot = mn == ZYDIS_MNEMONIC_ROL || mn == ZYDIS_MNEMONIC_ROR;

	if (emu_read(x, 0, &a) || emu_read(x, 1, &c))
		return -1;
	c &= bits == 64 ? 63 : 31;
	if (!c) /* flags untouched; a 32-bit register is still written (zero-extended) */
		return emu_write(x, 0, a);
	switch (mn) {
	case ZYDIS_MNEMONIC_SHL:
		res = c >= bits ? 0 : (a << c) & m;
		cf = c > bits ? 0 : a >> (bits - c) & 1;
		of = msb(res, bits) ^ cf;
		break;
	case ZYDIS_MNEMONIC_SHR:
		res = c >= bits ? 0 : a >> c;
		cf = c > bits ? 0 : a >> (c - 1) & 1;
		of = msb(a, bits);
		break;
	case ZYDIS_MNEMONIC_SAR:
		res = (uint64_t)((int64_t)emu_sx(a, bits) >> (c >= bits ? bits - 1 : c)) & m;
		cf = (uint64_t)((int64_t)emu_sx(a, bits) >> (c > bits ? bits - 1 : c - 1)) & 1;
		of = 0;
		break;
	case ZYDIS_MNEMONIC_ROL:
		c %= bits;
		res = c ? ((a << c) | (a >> (bits - c))) & m : a;
		cf = res & 1;
		of = msb(res, bits) ^ cf;
		break;
	default: /* ROR */
		c %= bits;
		res = c ? ((a >> c) | (a << (bits - c))) & m : a;
		cf = msb(res, bits);
		of = cf ^ (res >> (bits - 2) & 1);
		break;
	}
	if (emu_write(x, 0, res))
		return -1;
	f = (cf ? EMU_CF : 0) | (of ? EMU_OF : 0);
	if (rot) {
		emu_put_flags(x, f, EMU_CF | (c == 1 ? EMU_OF : 0), c == 1 ? 0 : EMU_OF);
		return 0;
	}
	emu_put_flags(x, f | emu_szp(res, bits),
		      EMU_CF | EMU_ZF | EMU_SF | EMU_PF | (c == 1 ? EMU_OF : 0),
		      EMU_AF | (c == 1 ? 0 : EMU_OF));
	return 0;
}

/* al/ax/eax/rax and dl/dx/edx/rdx of a width. */
static ZydisRegister acc(unsigned bits, bool d)
{
	switch (bits) {
	case 8:
		return d ? ZYDIS_REGISTER_AH : ZYDIS_REGISTER_AL;
	case 16:
		return d ? ZYDIS_REGISTER_DX : ZYDIS_REGISTER_AX;
	case 32:
		return d ? ZYDIS_REGISTER_EDX : ZYDIS_REGISTER_EAX;
	default:
		return d ? ZYDIS_REGISTER_RDX : ZYDIS_REGISTER_RAX;
	}
}

/* The two-register result hi:lo of a one-operand mul/imul/div/idiv. */
static int put_pair(struct emu_x *x, unsigned bits, uint64_t lo, uint64_t hi)
{
	ZydisDecodedOperand save = x->ops[0];
	int rc;

	if (bits == 8) { /* ax = ah:al */
		x->ops[0] = (ZydisDecodedOperand){.type = ZYDIS_OPERAND_TYPE_REGISTER, .size = 16};
		x->ops[0].reg.value = ZYDIS_REGISTER_AX;
		rc = emu_write(x, 0, (hi & 0xff) << 8 | (lo & 0xff));
	} else {
		x->ops[0] = (ZydisDecodedOperand){.type = ZYDIS_OPERAND_TYPE_REGISTER,
						  .size = (ZyanU16)bits};
		x->ops[0].reg.value = acc(bits, false);
		rc = emu_write(x, 0, lo);
		x->ops[0].reg.value = acc(bits, true);
		rc = rc ? rc : emu_write(x, 0, hi);
	}
	x->ops[0] = save;
	return rc;
}

static int muldiv(struct emu_x *x, ZydisMnemonic mn)
{
	unsigned bits = x->ops[0].size;
	bool sgn = mn == ZYDIS_MNEMONIC_IMUL || mn == ZYDIS_MNEMONIC_IDIV;
	uint64_t m = emu_mask(bits), a, b, hi = 0;
	__int128 sp, sa, sb;
	unsigned __int128 up;

	if (x->in.operand_count_visible >= 2) { /* imul r, r/m [, imm] */
		unsigned i = x->in.operand_count_visible == 3 ? 1 : 0;

		if (emu_read(x, i, &a) || emu_read(x, i + 1, &b))
			return -1;
		sp = (__int128)(int64_t)emu_sx(a, bits) * (int64_t)emu_sx(b, bits);
		if (emu_write(x, 0, (uint64_t)sp & m))
			return -1;
		hi = sp != (__int128)(int64_t)emu_sx((uint64_t)sp & m, bits);
		emu_put_flags(x, hi ? EMU_CF | EMU_OF : 0, EMU_CF | EMU_OF,
			      EMU_ZF | EMU_SF | EMU_PF | EMU_AF);
		return 0;
	}
	if (emu_read(x, 0, &b) || emu_reg_get(x, acc(bits, false), &a))
		return -1;
	if (mn == ZYDIS_MNEMONIC_MUL || mn == ZYDIS_MNEMONIC_IMUL) {
		if (sgn) {
			sp = (__int128)(int64_t)emu_sx(a, bits) * (int64_t)emu_sx(b, bits);
			up = (unsigned __int128)sp;
			hi = sp != (__int128)(int64_t)emu_sx((uint64_t)sp & m, bits);
		} else {
			up = (unsigned __int128)a * b;
			hi = (up >> bits) != 0;
		}
		if (put_pair(x, bits, (uint64_t)up & m, (uint64_t)(up >> bits) & m))
			return -1;
		emu_put_flags(x, hi ? EMU_CF | EMU_OF : 0, EMU_CF | EMU_OF,
			      EMU_ZF | EMU_SF | EMU_PF | EMU_AF);
		return 0;
	}
	/* div/idiv: hi:lo / b */
	if (bits == 8) {
		if (emu_reg_get(x, ZYDIS_REGISTER_AX, &a))
			return -1;
	} else if (emu_reg_get(x, acc(bits, true), &hi)) {
		return -1;
	}
	if (!(b & m))
		return emu_fail(x, "a division by zero (the program would have faulted)");
	up = bits == 8 ? a : ((unsigned __int128)hi << bits) | a;
	if (sgn) {
		/* the dividend is 2 * bits wide */
		sa = (__int128)(up << (128 - 2 * bits)) >> (128 - 2 * bits);
		sb = (int64_t)emu_sx(b, bits);
		sp = sa / sb;
		if (sp != (__int128)(int64_t)emu_sx((uint64_t)sp & m, bits))
			return emu_fail(x, "a division overflow (the program would have faulted)");
		if (put_pair(x, bits, (uint64_t)sp & m, (uint64_t)(sa % sb) & m))
			return -1;
	} else {
		if ((up / (b & m)) >> bits)
			return emu_fail(x, "a division overflow (the program would have faulted)");
		if (put_pair(x, bits, (uint64_t)(up / (b & m)) & m, (uint64_t)(up % (b & m)) & m))
			return -1;
	}
	emu_put_flags(x, 0, 0, EMU_ARITH);
	return 0;
}

/* cbw cwde cdqe cwd cdq cqo */
static int widen(struct emu_x *x, ZydisMnemonic mn)
{
	unsigned bits = x->in.operand_width;
	bool into_d =
		mn == ZYDIS_MNEMONIC_CWD || mn == ZYDIS_MNEMONIC_CDQ || mn == ZYDIS_MNEMONIC_CQO;
	unsigned half = into_d ? bits : bits / 2;
	uint64_t a;
	ZydisDecodedOperand save = x->ops[0];
	int rc;

	if (emu_reg_get(x, acc(half, false), &a))
		return -1;
	x->ops[0] =
		(ZydisDecodedOperand){.type = ZYDIS_OPERAND_TYPE_REGISTER, .size = (ZyanU16)bits};
	x->ops[0].reg.value = acc(bits, into_d);
	rc = emu_write(x, 0, into_d ? (msb(a, bits) ? ~0ull : 0) : emu_sx(a, half));
	x->ops[0] = save;
	return rc;
}

int emu_alu(struct emu_x *x)
{
	ZydisMnemonic mn = x->in.mnemonic;
	uint64_t a = 0, b = 0;

	switch (mn) {
	case ZYDIS_MNEMONIC_ADD:
	case ZYDIS_MNEMONIC_ADC:
	case ZYDIS_MNEMONIC_SUB:
	case ZYDIS_MNEMONIC_SBB:
	case ZYDIS_MNEMONIC_CMP: {
		bool sub = mn == ZYDIS_MNEMONIC_SUB || mn == ZYDIS_MNEMONIC_SBB ||
			   mn == ZYDIS_MNEMONIC_CMP;
		bool carry = mn == ZYDIS_MNEMONIC_ADC || mn == ZYDIS_MNEMONIC_SBB;

		if (!(sub && !carry && same_reg(x)) && (emu_read(x, 0, &a) || emu_read(x, 1, &b)))
			return -1;
		return addsub(x, sub, carry, false, mn != ZYDIS_MNEMONIC_CMP, a, b);
	}
	case ZYDIS_MNEMONIC_INC:
	case ZYDIS_MNEMONIC_DEC:
		if (emu_read(x, 0, &a))
			return -1;
		return addsub(x, mn == ZYDIS_MNEMONIC_DEC, false, true, true, a, 1);
	case ZYDIS_MNEMONIC_NEG:
		if (emu_read(x, 0, &b))
			return -1;
		return addsub(x, true, false, false, true, 0, b);
	case ZYDIS_MNEMONIC_NOT:
		return emu_read(x, 0, &a) || emu_write(x, 0, ~a) ? -1 : 0;
	case ZYDIS_MNEMONIC_AND:
	case ZYDIS_MNEMONIC_OR:
	case ZYDIS_MNEMONIC_XOR:
	case ZYDIS_MNEMONIC_TEST:
		return logic(x, mn);
	case ZYDIS_MNEMONIC_SHL:
	case ZYDIS_MNEMONIC_SHR:
	case ZYDIS_MNEMONIC_SAR:
	case ZYDIS_MNEMONIC_ROL:
	case ZYDIS_MNEMONIC_ROR:
		return shift(x, mn);
	case ZYDIS_MNEMONIC_IMUL:
	case ZYDIS_MNEMONIC_MUL:
	case ZYDIS_MNEMONIC_DIV:
	case ZYDIS_MNEMONIC_IDIV:
		return muldiv(x, mn);
	case ZYDIS_MNEMONIC_CBW:
	case ZYDIS_MNEMONIC_CWDE:
	case ZYDIS_MNEMONIC_CDQE:
	case ZYDIS_MNEMONIC_CWD:
	case ZYDIS_MNEMONIC_CDQ:
	case ZYDIS_MNEMONIC_CQO:
		return widen(x, mn);
	default:
		return 1;
	}
}
