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

/* Whole-value placement: SysV eightbyte classes, hidden result pointer, Go per-leaf
 * registers and stack spill. */
static const struct x86_64_abi_leaf L_INT = {0, 8, false}, L_INT4 = {0, 4, false},
				    L_DBL = {0, 8, true};

static struct x86_64_abi_value scalar(const struct x86_64_abi_leaf *l)
{
	return (struct x86_64_abi_value){l->size, l, 1, false};
}

static void assign_tests(void)
{
	struct x86_64_abi_value v[12];
	struct x86_64_abi_loc loc[12], rl[2];
	struct x86_64_abi_leaf pair[2] = {{0, 4, false}, {8, 8, false}};
	struct x86_64_abi_leaf mixed[2] = {{0, 8, true}, {8, 4, false}};
	struct x86_64_abi_leaf str[2] = {{0, 8, false}, {8, 8, false}};
	struct x86_64_abi_leaf big[3] = {{0, 8, false}, {8, 8, false}, {16, 8, false}};

	/* f(int, double, struct {int; long}, struct {double; int}, long) */
	v[0] = scalar(&L_INT4);
	v[1] = scalar(&L_DBL);
	v[2] = (struct x86_64_abi_value){16, pair, 2, false};
	v[3] = (struct x86_64_abi_value){16, mixed, 2, false};
	v[4] = scalar(&L_INT);
	ok(!x86_64_abi_assign(X86_64_ABI_SYSV, v, 5, loc, NULL, 0, NULL) && loc[0].nparts == 1 &&
		   loc[0].parts[0].where == X86_64_IN_INT && loc[0].parts[0].reg == 0 &&
		   loc[1].parts[0].where == X86_64_IN_SSE && loc[1].parts[0].reg == 0 &&
		   loc[2].nparts == 2 && loc[2].parts[0].reg == 1 && loc[2].parts[1].reg == 2 &&
		   loc[2].parts[1].offset == 8,
	   "SysV: int rdi, double xmm0, struct{int;long} rsi+rdx");
	ok(loc[3].nparts == 2 && loc[3].parts[0].where == X86_64_IN_SSE &&
		   loc[3].parts[0].reg == 1 && loc[3].parts[1].where == X86_64_IN_INT &&
		   loc[3].parts[1].reg == 3 && loc[3].parts[1].size == 8 &&
		   loc[4].parts[0].reg == 4,
	   "SysV: struct{double;int} xmm1+rcx, then long in r8");
	/* 7 ints: the 7th at rsp+8; a 24-byte struct in memory before it */
	for (int i = 0; i < 7; i++)
		v[i] = scalar(&L_INT);
	v[7] = v[6];
	v[6] = (struct x86_64_abi_value){24, big, 3, false};
	ok(!x86_64_abi_assign(X86_64_ABI_SYSV, v, 8, loc, NULL, 0, NULL) &&
		   loc[5].parts[0].reg == 5 && loc[6].parts[0].where == X86_64_IN_STACK &&
		   loc[6].parts[0].stack_off == 0 && loc[6].parts[0].size == 24 &&
		   loc[7].parts[0].where == X86_64_IN_STACK && loc[7].parts[0].stack_off == 24,
	   "SysV: struct > 16 bytes on the stack, next stack arg after it");
	/* a pair that no longer fits in the last register goes wholly to the stack */
	for (int i = 0; i < 5; i++)
		v[i] = scalar(&L_INT);
	v[5] = (struct x86_64_abi_value){16, pair, 2, false};
	v[6] = scalar(&L_INT);
	ok(!x86_64_abi_assign(X86_64_ABI_SYSV, v, 7, loc, NULL, 0, NULL) &&
		   loc[5].parts[0].where == X86_64_IN_STACK &&
		   loc[6].parts[0].where == X86_64_IN_INT && loc[6].parts[0].reg == 5,
	   "SysV: a two-register struct with one register left goes to the stack, r9 stays free");
	/* a big result: hidden pointer in rdi, result address in rax at return */
	struct x86_64_abi_value r = {24, big, 3, false};
	v[0] = scalar(&L_INT);
	ok(!x86_64_abi_assign(X86_64_ABI_SYSV, v, 1, loc, &r, 1, rl) && rl[0].indirect &&
		   loc[0].parts[0].reg == 1,
	   "SysV: result in memory shifts the first argument to rsi");
	r = scalar(&L_DBL);
	ok(!x86_64_abi_assign(X86_64_ABI_SYSV, NULL, 0, NULL, &r, 1, rl) && !rl[0].indirect &&
		   rl[0].parts[0].where == X86_64_IN_SSE && rl[0].parts[0].reg == 0 &&
		   x86_64_abi_assign(X86_64_ABI_SYSV, NULL, 0, NULL, v, 2, rl) == -EINVAL,
	   "SysV: double result in xmm0; two results refused");
	/* Go: greet(name string, n int) (string, error) */
	v[0] = (struct x86_64_abi_value){16, str, 2, false};
	v[1] = scalar(&L_INT);
	struct x86_64_abi_value gr[2] = {{16, str, 2, false}, {16, str, 2, false}};
	ok(!x86_64_abi_assign(X86_64_ABI_GO, v, 2, loc, gr, 2, rl) && loc[0].nparts == 2 &&
		   loc[0].parts[0].reg == 0 && loc[0].parts[1].reg == 1 &&
		   loc[1].parts[0].reg == 2 && rl[0].parts[0].reg == 0 && rl[1].parts[0].reg == 2 &&
		   rl[1].parts[1].reg == 3,
	   "Go: string in rax+rbx, int in rcx; results start again: rax rbx, rcx rdi");
	/* Go: 5 strings: the fifth needs 2 registers with 1 left -> stack; an array -> stack */
	for (int i = 0; i < 5; i++)
		v[i] = (struct x86_64_abi_value){16, str, 2, false};
	v[5] = (struct x86_64_abi_value){16, str, 2, true};
	v[6] = scalar(&L_INT);
	ok(!x86_64_abi_assign(X86_64_ABI_GO, v, 7, loc, NULL, 0, NULL) &&
		   loc[3].parts[1].reg == 7 && loc[4].parts[0].where == X86_64_IN_STACK &&
		   loc[4].parts[0].stack_off == 0 && loc[5].parts[0].where == X86_64_IN_STACK &&
		   loc[5].parts[0].stack_off == 16 && loc[6].parts[0].where == X86_64_IN_INT &&
		   loc[6].parts[0].reg == 8,
	   "Go: values that do not fit or hold arrays go to the stack in order; r11 still used");
}

int main(void)
{
	const int *r;
	printf("1..20\n");
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
	assign_tests();
	return n_fail ? 1 : 0;
}
