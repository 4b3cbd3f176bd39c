/* Unit tests for arch/x86_64/abi.c: SysV and Go ABIInternal register lists, reading
 * arguments from a g block and from ptrace registers, stack argument addresses. TAP. */
#include "arch/x86_64/abi.h"
#include "arch/x86_64/regs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/user.h>

static int n_test;
static int n_fail;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

int main(void)
{
	const int *r;
	printf("1..12\n");
	size_t n = x86_64_abi_arg_regs(X86_64_ABI_SYSV, &r);
	ok(n == 6 && r[0] == X86_64_RDI && r[1] == X86_64_RSI && r[2] == X86_64_RDX &&
		   r[3] == X86_64_RCX && r[4] == X86_64_R8 && r[5] == X86_64_R9,
	   "SysV args rdi rsi rdx rcx r8 r9");
	n = x86_64_abi_result_regs(X86_64_ABI_SYSV, &r);
	ok(n == 2 && r[0] == X86_64_RAX && r[1] == X86_64_RDX, "SysV results rax rdx");
	n = x86_64_abi_arg_regs(X86_64_ABI_GO, &r);
	static const int go[] = {0, 1, 2, 5, 4, 8, 9, 10, 11};
	ok(n == 9 && memcmp(r, go, sizeof(go)) == 0,
	   "Go args rax rbx rcx rdi rsi r8 r9 r10 r11 (regnums 0 1 2 5 4 8 9 10 11)");
	n = x86_64_abi_result_regs(X86_64_ABI_GO, &r);
	ok(n == 9 && memcmp(r, go, sizeof(go)) == 0, "Go results same order");
	ok(X86_64_GO_G_REGNO == X86_64_R14 &&
		   strcmp(x86_64_regs()[X86_64_GO_G_REGNO].name, "r14") == 0,
	   "Go g in r14");
	ok(x86_64_abi_arg_regno(X86_64_ABI_SYSV, 5) == X86_64_R9 &&
		   x86_64_abi_arg_regno(X86_64_ABI_SYSV, 6) == -1 &&
		   x86_64_abi_arg_regno(X86_64_ABI_GO, 8) == X86_64_R11 &&
		   x86_64_abi_arg_regno(X86_64_ABI_GO, 9) == -1 &&
		   x86_64_abi_result_regno(X86_64_ABI_SYSV, 2) == -1,
	   "regno of arg n, -1 past the registers");

	struct user_regs_struct regs;
	uint8_t g[816], avail[X86_64_NREGS];
	memset(&regs, 0, sizeof(regs));
	regs.rdi = 0x1111;
	regs.rsi = 0x2222;
	regs.rbx = 0xb0b0b0b0b0b0b0b0ull;
	regs.r11 = 0x0102030405060708ull;
	regs.rdx = 0xdddd;
	x86_64_regs_to_g(&regs, NULL, NULL, 0, g, avail);
	uint64_t v = 0, v2 = 0, v3 = 0;
	ok(x86_64_abi_arg_from_g(X86_64_ABI_SYSV, 0, g, sizeof(g), avail, &v) == 0 && v == 0x1111 &&
		   x86_64_abi_arg_from_g(X86_64_ABI_SYSV, 1, g, sizeof(g), NULL, &v2) == 0 &&
		   v2 == 0x2222,
	   "SysV arg 0, 1 from g");
	ok(x86_64_abi_arg_from_g(X86_64_ABI_GO, 1, g, sizeof(g), avail, &v) == 0 &&
		   v == 0xb0b0b0b0b0b0b0b0ull &&
		   x86_64_abi_arg_from_g(X86_64_ABI_GO, 8, g, sizeof(g), avail, &v2) == 0 &&
		   v2 == 0x0102030405060708ull &&
		   x86_64_abi_result_from_g(X86_64_ABI_SYSV, 1, g, sizeof(g), avail, &v3) == 0 &&
		   v3 == 0xdddd,
	   "Go arg 1 (rbx), arg 8 (r11), SysV result 1 (rdx) from g");
	avail[X86_64_RDI] = 0;
	ok(x86_64_abi_arg_from_g(X86_64_ABI_SYSV, 0, g, sizeof(g), avail, &v) == -ENODATA &&
		   x86_64_abi_arg_from_g(X86_64_ABI_SYSV, 6, g, sizeof(g), avail, &v) == -ENOENT &&
		   x86_64_abi_arg_from_g(X86_64_ABI_SYSV, 5, g, 64, NULL, &v) == -EINVAL &&
		   x86_64_abi_arg_from_g((enum x86_64_abi)7, 0, g, sizeof(g), NULL, &v) == -EINVAL,
	   "unavailable, on stack, short g, bad abi");
	ok(x86_64_abi_arg_from_regs(X86_64_ABI_GO, 8, &regs, &v) == 0 &&
		   v == 0x0102030405060708ull &&
		   x86_64_abi_arg_from_regs(X86_64_ABI_SYSV, 1, &regs, &v2) == 0 && v2 == 0x2222 &&
		   x86_64_abi_arg_from_regs(X86_64_ABI_SYSV, 6, &regs, &v3) == -ENOENT,
	   "args from ptrace regs");
	uint64_t a = 0, b = 0;
	ok(x86_64_abi_arg_stack_addr(X86_64_ABI_SYSV, 6, 0x7ffd0000, &a) == 0 && a == 0x7ffd0008 &&
		   x86_64_abi_arg_stack_addr(X86_64_ABI_SYSV, 8, 0x7ffd0000, &b) == 0 &&
		   b == 0x7ffd0018,
	   "SysV stack args at rsp+8, rsp+24");
	ok(x86_64_abi_arg_stack_addr(X86_64_ABI_GO, 9, 0x7ffd0000, &a) == 0 && a == 0x7ffd0008 &&
		   x86_64_abi_arg_stack_addr(X86_64_ABI_GO, 3, 0x7ffd0000, &b) == -EINVAL,
	   "Go stack arg 9 at rsp+8; register arg -> -EINVAL");
	return n_fail ? 1 : 0;
}
