/* Calling-convention facts for x86_64, as gdb register numbers (enum x86_64_regno): where
 * integer arguments and results live at function entry / return under the SysV ABI and Go's
 * ABIInternal. Pure functions; no ptrace, no protocol headers. */
#ifndef TRACESTUB_ARCH_X86_64_ABI_H
#define TRACESTUB_ARCH_X86_64_ABI_H

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

#endif
