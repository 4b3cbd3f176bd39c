/* Exits and calls of one function, found by decoding its bytes with libzydis (linear sweep
 * over [addr, addr+len)): every `ret`, every jump whose target lies outside the function
 * (tail calls, direct or conditional), every indirect jump (whose target is known only at
 * run time: x86_64_indirect_target), and every call. The headless tracer puts its return
 * probes on the exits; it never rewrites a return address. Pure: no ptrace, no Zydis type in
 * this header. */
#ifndef TRACESTUB_ARCH_X86_64_FUNCSCAN_H
#define TRACESTUB_ARCH_X86_64_FUNCSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct user_regs_struct;

enum x86_64_site_kind {
	X86_64_SITE_RET,	  /* ret / ret imm16 */
	X86_64_SITE_JMP_OUT,	  /* jmp or jcc to target outside the function */
	X86_64_SITE_JMP_INDIRECT, /* jmp through a register or memory */
	X86_64_SITE_CALL,	  /* call; target 0 when indirect */
};

/* An indirect operand: a register (mem false) or memory at
 * base + index*scale + disp (registers as enum x86_64_regno, -1 for none; a rip-relative
 * operand has base -1 and disp already absolute). */
struct x86_64_indirect {
	bool mem;
	int reg; /* mem false */
	int base, index;
	uint8_t scale;
	int64_t disp;
};

struct x86_64_site {
	uint64_t addr;
	uint8_t len;
	enum x86_64_site_kind kind;
	uint64_t target; /* JMP_OUT, direct CALL */
	struct x86_64_indirect ind;
};

/* Scan code[0..len), the function loaded at addr. Fills up to cap sites (out may be NULL)
 * and sets *n to how many there are. 0, or -EINVAL when some bytes do not decode (sites up
 * to there are kept, *n counts them). */
int x86_64_funcscan(const uint8_t *code, size_t len, uint64_t addr, struct x86_64_site *out,
		    size_t cap, size_t *n);

/* Memory reader for x86_64_indirect_target: 0 or -errno. */
typedef int (*x86_64_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
/* Where the indirect jump at a site goes, from the registers at the site. 0 or -errno. */
int x86_64_indirect_target(const struct x86_64_indirect *ind, const struct user_regs_struct *regs,
			   x86_64_read_fn rd, void *rctx, uint64_t *target);

/* main of a stripped program from its entry code (code = bytes at entry): the glibc _start
 * loads main's address into rdi (lea disp(%rip)) before its first call. 0 and *main, or
 * -ENOENT. */
int x86_64_find_main(const uint8_t *code, size_t len, uint64_t entry, uint64_t *main_addr);

/* Value of a general-purpose register by enum x86_64_regno (0..16, rip included). */
int x86_64_gpr_value(const struct user_regs_struct *regs, int regno, uint64_t *val);

#endif
