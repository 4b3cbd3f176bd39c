/* Shared by emu.c (decoding, operands, moves, control flow, strings, SSE moves) and
 * emu_alu.c (arithmetic and logic with their flags). Not a public API: the only header
 * with Zydis types in it besides the .c files. */
#ifndef TRACESTUB_ARCH_X86_64_EMU_INTERNAL_H
#define TRACESTUB_ARCH_X86_64_EMU_INTERNAL_H

#include <Zydis/Zydis.h>

#include "arch/x86_64/emu.h"

#define EMU_CF	  (1ull << 0)
#define EMU_PF	  (1ull << 2)
#define EMU_AF	  (1ull << 4)
#define EMU_ZF	  (1ull << 6)
#define EMU_SF	  (1ull << 7)
#define EMU_DF	  (1ull << 10)
#define EMU_OF	  (1ull << 11)
#define EMU_ARITH (EMU_CF | EMU_PF | EMU_AF | EMU_ZF | EMU_SF | EMU_OF)

/* One instruction being run: reads come from o (the state before), results go to n and to
 * at most one pending memory write, applied only when everything else succeeded. */
struct emu_x {
	const struct x86_64_emu_cpu *o;
	struct x86_64_emu_cpu n;
	const struct x86_64_emu_mem *m;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint64_t next; /* the address of the next instruction */
	uint64_t waddr;
	uint8_t wbuf[16];
	size_t wlen;
	enum x86_64_emu_kind kind;
	char *why;
	size_t whylen;
};

/* -1 with why set from fmt. */
int emu_fail(struct emu_x *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Operand i (explicit), masked to its width; -1 when unknown. */
int emu_read(struct emu_x *x, unsigned i, uint64_t *v);
/* Write v to operand i (register now, memory as the pending write); -1 when it cannot. */
int emu_write(struct emu_x *x, unsigned i, uint64_t v);
/* A register's value (masked to its width); -1 when any of its bytes is unknown. */
int emu_reg_get(struct emu_x *x, ZydisRegister reg, uint64_t *v);
/* The flags the instruction tests are known: 0, else -1 with why set. */
int emu_flags_tested(struct emu_x *x);
/* Condition code cc (the low nibble of jcc/setcc/cmovcc opcodes) on the old flags. */
bool emu_cond(const struct emu_x *x, unsigned cc);

/* Set the flags in def to the bits of val, forget those in undef. */
void emu_put_flags(struct emu_x *x, uint64_t val, uint64_t def, uint64_t undef);
/* ZF, SF, PF of a result of width bits. */
uint64_t emu_szp(uint64_t res, unsigned bits);
uint64_t emu_mask(unsigned bits);
/* v sign-extended from its low bits bits to 64. */
uint64_t emu_sx(uint64_t v, unsigned bits);

/* emu_alu.c: add adc sub sbb cmp and or xor test inc dec neg not, shifts and rotates,
 * imul mul div idiv, cbw/cwde/cdqe cwd/cdq/cqo. 1: not one of those. */
int emu_alu(struct emu_x *x);

#endif
