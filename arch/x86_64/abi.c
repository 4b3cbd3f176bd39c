/* SysV and Go ABIInternal argument/result register lists, and readers of integer arguments
 * from a g block or ptrace registers. Pure functions: never touches the target. */
#include "arch/x86_64/abi.h"

#include "arch/x86_64/regs.h"

#include <errno.h>
#include <sys/user.h>

_Static_assert(X86_64_GO_G_REGNO == X86_64_R14, "Go g register is r14");

static const int sysv_args[] = {X86_64_RDI, X86_64_RSI, X86_64_RDX,
				X86_64_RCX, X86_64_R8,	X86_64_R9};
static const int sysv_results[] = {X86_64_RAX, X86_64_RDX};
/* Go internal ABI (go.dev/s/regabi): the same integer sequence for arguments and results. */
static const int go_ints[] = {X86_64_RAX, X86_64_RBX, X86_64_RCX, X86_64_RDI, X86_64_RSI,
			      X86_64_R8,  X86_64_R9,  X86_64_R10, X86_64_R11};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

size_t x86_64_abi_arg_regs(enum x86_64_abi abi, const int **regnos)
{
	if (abi == X86_64_ABI_GO) {
		*regnos = go_ints;
		return COUNT(go_ints);
	}
	*regnos = sysv_args;
	return abi == X86_64_ABI_SYSV ? COUNT(sysv_args) : 0;
}

size_t x86_64_abi_result_regs(enum x86_64_abi abi, const int **regnos)
{
	if (abi == X86_64_ABI_GO) {
		*regnos = go_ints;
		return COUNT(go_ints);
	}
	*regnos = sysv_results;
	return abi == X86_64_ABI_SYSV ? COUNT(sysv_results) : 0;
}

int x86_64_abi_arg_regno(enum x86_64_abi abi, unsigned n)
{
	const int *r;
	size_t cnt = x86_64_abi_arg_regs(abi, &r);
	return n < cnt ? r[n] : -1;
}

int x86_64_abi_result_regno(enum x86_64_abi abi, unsigned n)
{
	const int *r;
	size_t cnt = x86_64_abi_result_regs(abi, &r);
	return n < cnt ? r[n] : -1;
}

static int read_g(int regno, const uint8_t *g, size_t g_len, const uint8_t *avail, uint64_t *val)
{
	const struct x86_64_reg *d = &x86_64_regs()[regno];
	uint64_t v = 0;
	if (!g || (size_t)d->offset + 8 > g_len)
		return -EINVAL;
	if (avail && !avail[regno])
		return -ENODATA;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)g[d->offset + i] << (8 * i);
	*val = v;
	return 0;
}

int x86_64_abi_arg_from_g(enum x86_64_abi abi, unsigned n, const uint8_t *g, size_t g_len,
			  const uint8_t *avail, uint64_t *val)
{
	if (abi != X86_64_ABI_SYSV && abi != X86_64_ABI_GO)
		return -EINVAL;
	int regno = x86_64_abi_arg_regno(abi, n);
	return regno < 0 ? -ENOENT : read_g(regno, g, g_len, avail, val);
}

int x86_64_abi_result_from_g(enum x86_64_abi abi, unsigned n, const uint8_t *g, size_t g_len,
			     const uint8_t *avail, uint64_t *val)
{
	if (abi != X86_64_ABI_SYSV && abi != X86_64_ABI_GO)
		return -EINVAL;
	int regno = x86_64_abi_result_regno(abi, n);
	return regno < 0 ? -ENOENT : read_g(regno, g, g_len, avail, val);
}

int x86_64_abi_arg_from_regs(enum x86_64_abi abi, unsigned n, const struct user_regs_struct *regs,
			     uint64_t *val)
{
	if (abi != X86_64_ABI_SYSV && abi != X86_64_ABI_GO)
		return -EINVAL;
	switch (x86_64_abi_arg_regno(abi, n)) {
	case X86_64_RAX:
		*val = regs->rax;
		return 0;
	case X86_64_RBX:
		*val = regs->rbx;
		return 0;
	case X86_64_RCX:
		*val = regs->rcx;
		return 0;
	case X86_64_RDX:
		*val = regs->rdx;
		return 0;
	case X86_64_RSI:
		*val = regs->rsi;
		return 0;
	case X86_64_RDI:
		*val = regs->rdi;
		return 0;
	case X86_64_R8:
		*val = regs->r8;
		return 0;
	case X86_64_R9:
		*val = regs->r9;
		return 0;
	case X86_64_R10:
		*val = regs->r10;
		return 0;
	case X86_64_R11:
		*val = regs->r11;
		return 0;
	default:
		return -ENOENT;
	}
}

int x86_64_abi_arg_stack_addr(enum x86_64_abi abi, unsigned n, uint64_t rsp, uint64_t *addr)
{
	const int *r;
	size_t cnt = x86_64_abi_arg_regs(abi, &r);
	if (cnt == 0 || n < cnt)
		return -EINVAL;
	*addr = rsp + 8 + 8 * (uint64_t)(n - cnt);
	return 0;
}
