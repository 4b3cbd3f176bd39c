/* Calling-convention facts for x86_64, as gdb register numbers (enum x86_64_regno): where
 * integer arguments and results live at function entry / return under the SysV ABI and Go's
 * ABIInternal. Pure functions; no ptrace, no protocol headers. */
#ifndef TRACESTUB_ARCH_X86_64_ABI_H
#define TRACESTUB_ARCH_X86_64_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct user_regs_struct;

enum x86_64_abi {
	X86_64_ABI_SYSV, /* C: args rdi rsi rdx rcx r8 r9, results rax rdx */
	X86_64_ABI_GO,	 /* Go ABIInternal: rax rbx rcx rdi rsi r8 r9 r10 r11 both ways */
};

/* Go keeps the current goroutine (g) in r14 under ABIInternal. */
#define X86_64_GO_G_REGNO 14 /* X86_64_R14 */

/* Integer argument / result registers in order. *regnos is set to a static array (never
 * NULL); returns how many. */
size_t x86_64_abi_arg_regs(enum x86_64_abi abi, const int **regnos);
size_t x86_64_abi_result_regs(enum x86_64_abi abi, const int **regnos);

/* Regnum of integer argument / result n (0-based), or -1 when it is not in a register. */
int x86_64_abi_arg_regno(enum x86_64_abi abi, unsigned n);
int x86_64_abi_result_regno(enum x86_64_abi abi, unsigned n);

/* Read integer argument / result n (word-sized, all earlier ones word-sized too) from a g
 * block (x86_64_regs_to_g layout, g_len bytes) and its availability bytes (avail may be
 * NULL: all available). Returns 0, -ENOENT if n is passed on the stack (see
 * x86_64_abi_arg_stack_addr), -ENODATA if the register is unavailable, -EINVAL if g is too
 * short or abi unknown. */
int x86_64_abi_arg_from_g(enum x86_64_abi abi, unsigned n, const uint8_t *g, size_t g_len,
			  const uint8_t *avail, uint64_t *val);
int x86_64_abi_result_from_g(enum x86_64_abi abi, unsigned n, const uint8_t *g, size_t g_len,
			     const uint8_t *avail, uint64_t *val);

/* The same from ptrace registers (the hit path). Returns 0, -ENOENT or -EINVAL. */
int x86_64_abi_arg_from_regs(enum x86_64_abi abi, unsigned n, const struct user_regs_struct *regs,
			     uint64_t *val);

/* Stack address of integer argument n at function entry (rsp = the entry rsp, return address
 * at 0(%rsp)), when all arguments are word-sized integers: SysV n >= 6 at rsp+8+8*(n-6), Go
 * ABIInternal n >= 9 at rsp+8+8*(n-9). Returns 0, or -EINVAL if n is in a register. */
int x86_64_abi_arg_stack_addr(enum x86_64_abi abi, unsigned n, uint64_t rsp, uint64_t *addr);

/* ---- Where whole values live: classification and register assignment ---- */

/* One scalar part of a value (a scalar is one leaf at offset 0). */
struct x86_64_abi_leaf {
	uint32_t offset, size;
	bool is_float;
};

struct x86_64_abi_value {
	uint32_t size;			      /* bytes */
	const struct x86_64_abi_leaf *leaves; /* in offset order */
	unsigned nleaves;
	bool memory; /* passed in memory whatever its size (Go arrays, long double, unknown) */
};

enum x86_64_abi_where {
	X86_64_IN_INT,	 /* reg = ordinal in the argument (or result) integer registers */
	X86_64_IN_SSE,	 /* reg = xmm number */
	X86_64_IN_STACK, /* stack_off = bytes from entry rsp + 8 (for results: ret rsp + 8) */
};

struct x86_64_abi_part {
	enum x86_64_abi_where where;
	unsigned reg;
	uint32_t stack_off;
	uint32_t offset, size; /* the bytes of the value this part holds */
};

#define X86_64_ABI_MAX_PARTS 16
struct x86_64_abi_loc {
	unsigned nparts;
	struct x86_64_abi_part parts[X86_64_ABI_MAX_PARTS];
	/* SysV result in memory: at return rax holds its address (parts say where in it). */
	bool indirect;
};

/* Place nargs arguments and nrets results (SysV: at most one) in order, by the ABI's rules:
 * SysV classifies eightbytes (INTEGER or SSE; over 16 bytes or not fitting the remaining
 * registers: memory; a result in memory takes rdi as a hidden first argument); Go
 * ABIInternal gives every scalar leaf its own register (9 integer, 15 floating) and puts a
 * value that does not fit, or holds an array, on the stack. Arrays may be NULL when their
 * count is 0. Returns 0, or -EINVAL (unknown abi, SysV with nrets > 1, too many leaves). */
int x86_64_abi_assign(enum x86_64_abi abi, const struct x86_64_abi_value *args, unsigned nargs,
		      struct x86_64_abi_loc *arg_locs, const struct x86_64_abi_value *rets,
		      unsigned nrets, struct x86_64_abi_loc *ret_locs);

#endif
