/* SysV and Go ABIInternal argument/result register lists, and readers of integer arguments
 * from a g block or ptrace registers. Pure functions: never touches the target. */
#include "arch/x86_64/abi.h"

#include "arch/x86_64/regs.h"

#include <errno.h>
#include <string.h>
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

/* ---- value placement ---- */

#define SYSV_INT_REGS 6
#define SYSV_SSE_REGS 8
#define GO_INT_REGS   9
#define GO_SSE_REGS   15

struct place {
	unsigned ints, sses; /* next free ordinal */
	unsigned max_ints, max_sses;
	uint32_t stack; /* next free stack byte */
};

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) / a * a;
}

static void on_stack(struct place *pl, const struct x86_64_abi_value *v, uint32_t align,
		     struct x86_64_abi_loc *loc)
{
	pl->stack = align_up(pl->stack, align);
	loc->nparts = 1;
	loc->parts[0] = (struct x86_64_abi_part){X86_64_IN_STACK, 0, pl->stack, 0, v->size};
	pl->stack += align_up(v->size, 8);
}

/* SysV: each eightbyte is SSE when every leaf overlapping it is a float, else INTEGER. */
static bool sysv_classify(const struct x86_64_abi_value *v, bool sse[2])
{
	unsigned ne = (v->size + 7) / 8;

	if (v->memory || v->size == 0 || v->size > 16)
		return false;
	for (unsigned e = 0; e < ne; e++) {
		bool any = false, all_float = true;
		for (unsigned i = 0; i < v->nleaves; i++) {
			const struct x86_64_abi_leaf *l = &v->leaves[i];
			if (l->offset >= 8 * (e + 1) || l->offset + l->size <= 8 * e)
				continue;
			if (l->offset / 8 != (l->offset + l->size - 1) / 8)
				return false; /* straddles an eightbyte: unaligned, memory */
			any = true;
			all_float &= l->is_float;
		}
		sse[e] = any && all_float;
	}
	return true;
}

static void sysv_regs(struct place *pl, const struct x86_64_abi_value *v, const bool sse[2],
		      struct x86_64_abi_loc *loc)
{
	unsigned ne = (v->size + 7) / 8;

	loc->nparts = ne;
	for (unsigned e = 0; e < ne; e++) {
		uint32_t sz = v->size - 8 * e < 8 ? v->size - 8 * e : 8;
		loc->parts[e] =
			(struct x86_64_abi_part){sse[e] ? X86_64_IN_SSE : X86_64_IN_INT,
						 sse[e] ? pl->sses++ : pl->ints++, 0, 8 * e, sz};
	}
}

static void sysv_one(struct place *pl, const struct x86_64_abi_value *v, struct x86_64_abi_loc *loc)
{
	bool sse[2] = {false, false};
	unsigned ne = (v->size + 7) / 8, need_int = 0, need_sse = 0;

	memset(loc, 0, sizeof(*loc));
	if (!sysv_classify(v, sse)) {
		on_stack(pl, v, 8, loc);
		return;
	}
	for (unsigned e = 0; e < ne; e++)
		sse[e] ? need_sse++ : need_int++;
	if (pl->ints + need_int > pl->max_ints || pl->sses + need_sse > pl->max_sses) {
		on_stack(pl, v, 8, loc);
		return;
	}
	sysv_regs(pl, v, sse, loc);
}

static int sysv_assign(const struct x86_64_abi_value *args, unsigned nargs,
		       struct x86_64_abi_loc *arg_locs, const struct x86_64_abi_value *rets,
		       unsigned nrets, struct x86_64_abi_loc *ret_locs)
{
	struct place pl = {0, 0, SYSV_INT_REGS, SYSV_SSE_REGS, 0};

	if (nrets > 1)
		return -EINVAL;
	if (nrets) {
		struct place rp = {0, 0, 2, 2, 0};
		bool sse[2] = {false, false};
		memset(ret_locs, 0, sizeof(*ret_locs));
		if (sysv_classify(&rets[0], sse)) {
			sysv_regs(&rp, &rets[0], sse, ret_locs);
		} else {
			ret_locs->indirect = true;
			ret_locs->nparts = 1;
			ret_locs->parts[0] =
				(struct x86_64_abi_part){X86_64_IN_STACK, 0, 0, 0, rets[0].size};
			pl.ints = 1; /* the hidden pointer takes rdi */
		}
	}
	for (unsigned i = 0; i < nargs; i++)
		sysv_one(&pl, &args[i], &arg_locs[i]);
	return 0;
}

static uint32_t go_align(const struct x86_64_abi_value *v)
{
	uint32_t a = 1;

	for (unsigned i = 0; i < v->nleaves; i++)
		if (v->leaves[i].size > a)
			a = v->leaves[i].size > 8 ? 8 : v->leaves[i].size;
	return a;
}

static void go_one(struct place *pl, const struct x86_64_abi_value *v, struct x86_64_abi_loc *loc)
{
	unsigned ni = 0, nf = 0;

	memset(loc, 0, sizeof(*loc));
	for (unsigned i = 0; i < v->nleaves; i++)
		v->leaves[i].is_float ? nf++ : ni++;
	if (v->memory || v->nleaves > X86_64_ABI_MAX_PARTS || pl->ints + ni > pl->max_ints ||
	    pl->sses + nf > pl->max_sses) {
		if (v->size)
			on_stack(pl, v, go_align(v), loc);
		return;
	}
	loc->nparts = v->nleaves;
	for (unsigned i = 0; i < v->nleaves; i++) {
		const struct x86_64_abi_leaf *l = &v->leaves[i];
		loc->parts[i] = (struct x86_64_abi_part){
			l->is_float ? X86_64_IN_SSE : X86_64_IN_INT,
			l->is_float ? pl->sses++ : pl->ints++, 0, l->offset, l->size};
	}
}

static int go_assign(const struct x86_64_abi_value *args, unsigned nargs,
		     struct x86_64_abi_loc *arg_locs, const struct x86_64_abi_value *rets,
		     unsigned nrets, struct x86_64_abi_loc *ret_locs)
{
	struct place pl = {0, 0, GO_INT_REGS, GO_SSE_REGS, 0};

	for (unsigned i = 0; i < nargs; i++)
		go_one(&pl, &args[i], &arg_locs[i]);
	/* Results start again at the first register; stack results follow the stack
	 * arguments, pointer-aligned (go.dev/s/regabi). */
	pl = (struct place){0, 0, GO_INT_REGS, GO_SSE_REGS, align_up(pl.stack, 8)};
	for (unsigned i = 0; i < nrets; i++)
		go_one(&pl, &rets[i], &ret_locs[i]);
	return 0;
}

int x86_64_abi_assign(enum x86_64_abi abi, const struct x86_64_abi_value *args, unsigned nargs,
		      struct x86_64_abi_loc *arg_locs, const struct x86_64_abi_value *rets,
		      unsigned nrets, struct x86_64_abi_loc *ret_locs)
{
	if (abi == X86_64_ABI_SYSV)
		return sysv_assign(args, nargs, arg_locs, rets, nrets, ret_locs);
	if (abi == X86_64_ABI_GO)
		return go_assign(args, nargs, arg_locs, rets, nrets, ret_locs);
	return -EINVAL;
}
