/* Where each argument and result of a traced function lives, decided once per function
 * before its probes are placed. At a function's entry a DWARF location is used when it is
 * valid there (registers, the caller's stack); a -O0 spill slot below the CFA is not written
 * yet at entry, so the ABI (SysV or Go ABIInternal, classified from the DWARF types) says
 * where the value is instead. Go results have no DWARF location: the ABI gives them at the
 * return. Without DWARF: a built-in prototype, else the six SysV argument registers. */
#include <string.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/tracer/internal.h"

/* Is the location usable at the function's first instruction? */
static bool entry_valid(const struct dwloc *l)
{
	if (!l || !l->npieces)
		return false;
	for (unsigned i = 0; i < l->npieces; i++) {
		const struct dwpiece *p = &l->pieces[i];
		switch (p->kind) {
		case DWP_REG:
		case DWP_ENTRY_REG:
			break;
		case DWP_VALUE:
			if (p->dwreg != DWBASE_NONE && p->dwreg != DWBASE_CFA &&
			    (p->dwreg < 0 || p->dwreg > 16))
				return false;
			break;
		case DWP_MEM:
			/* rustc -O0 and clang -O0: slots off rsp or rbp as set by the prologue */
			if (p->fbreg)
				return false;
			if (p->dwreg == DWBASE_CFA && p->off >= 0)
				break;
			if (p->dwreg == DWBASE_NONE || p->dwreg == 7)
				break;
			return false;
		default:
			return false;
		}
	}
	return true;
}

static bool is_float_kind(enum dwt_kind k)
{
	return k == DWT_FLOAT;
}

/* The ABI's view of a value: its scalar leaves. */
static void abi_value(const struct dwtype *t, bool go, struct x86_64_abi_leaf *leaves,
		      struct x86_64_abi_value *v)
{
	*v = (struct x86_64_abi_value){.size = t->size, .leaves = leaves};
	if (t->deref) { /* the object's address, in one integer register */
		leaves[0] = (struct x86_64_abi_leaf){0, 8, false};
		v->size = 8;
		v->nleaves = 1;
		return;
	}
	switch (t->kind) {
	case DWT_STRUCT:
	case DWT_GOSTRING:
	case DWT_GOSLICE:
	case DWT_GOIFACE:
		for (unsigned i = 0; i < t->nleaves; i++)
			leaves[i] = (struct x86_64_abi_leaf){t->leaves[i].offset, t->leaves[i].size,
							     is_float_kind(t->leaves[i].kind)};
		v->nleaves = t->nleaves;
		v->memory = (go && t->has_array) || !t->nleaves;
		break;
	case DWT_RSTRING:
	case DWT_RVEC:
		for (unsigned i = 0; i < t->nleaves; i++)
			leaves[i] = (struct x86_64_abi_leaf){t->leaves[i].offset, t->leaves[i].size,
							     false};
		v->nleaves = t->nleaves;
		v->memory = t->by_ref;
		break;
	case DWT_RENUM: /* rustc's ScalarPair: tag and payload in a register each */
		if (t->by_ref) {
			v->memory = true;
		} else if (t->tag_size == t->size) {
			leaves[0] = (struct x86_64_abi_leaf){0, t->size, false};
			v->nleaves = 1;
		} else {
			leaves[0] = (struct x86_64_abi_leaf){0, 8, false};
			leaves[1] = (struct x86_64_abi_leaf){8, 8, false};
			v->size = 16;
			v->nleaves = 2;
		}
		break;
	case DWT_MEMORY:
	case DWT_NONE:
	case DWT_CXXSTR:
	case DWT_CXXVEC:
		v->memory = true;
		break;
	case DWT_CXXSV:
		leaves[0] = (struct x86_64_abi_leaf){0, 8, false};
		leaves[1] = (struct x86_64_abi_leaf){8, 8, false};
		v->nleaves = 2;
		break;
	default:
		leaves[0] = (struct x86_64_abi_leaf){0, t->size, is_float_kind(t->kind)};
		v->nleaves = 1;
	}
}

static void set_plan(struct tval_plan *p, const char *name, const struct dwtype *t)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->type = *t;
}

/* ABI locations for every argument and result in the plan. */
static void plan_abi(struct tplan *pl, bool go)
{
	struct x86_64_abi_leaf leaves[2 * TPLAN_MAX][DWARFINFO_MAX_LEAVES];
	struct x86_64_abi_value av[TPLAN_MAX], rv[TPLAN_MAX];
	struct x86_64_abi_loc al[TPLAN_MAX], rl[TPLAN_MAX];
	unsigned nrets = pl->nrets;

	for (unsigned i = 0; i < pl->nargs; i++) {
		struct dwtype *t = &pl->args[i].type;

		/* C++ passes a class with its own destructor by invisible reference: the
		 * register holds the object's address. */
		if (t->by_ref && pl->args[i].src != TSRC_DWARF) {
			bool shown = t->kind == DWT_CXXSTR || t->kind == DWT_CXXVEC ||
				     t->kind == DWT_RSTRING || t->kind == DWT_RVEC ||
				     t->kind == DWT_RENUM;

			t->by_ref = false;
			if (shown && t->size <= 32) {
				t->deref = true;
			} else {
				t->kind = DWT_PTR;
				t->size = 8;
				t->nleaves = 0;
			}
		}
		abi_value(t, go, leaves[i], &av[i]);
	}
	for (unsigned i = 0; i < pl->nrets; i++) {
		abi_value(&pl->rets[i].type, go, leaves[TPLAN_MAX + i], &rv[i]);
		if (pl->rets[i].type.by_ref)
			rv[i].memory =
				true; /* returned through a hidden pointer (rdi in, rax out) */
	}
	if (!go && nrets > 1)
		nrets = 1;
	if (x86_64_abi_assign(pl->abi, av, pl->nargs, al, rv, nrets, rl))
		return;
	for (unsigned i = 0; i < pl->nargs; i++) {
		pl->args[i].abi = al[i];
		if (pl->args[i].src == TSRC_NONE)
			pl->args[i].src = TSRC_ABI;
	}
	for (unsigned i = 0; i < nrets; i++) {
		pl->rets[i].abi = rl[i];
		pl->rets[i].src = TSRC_ABI;
	}
	pl->ret_indirect = !go && nrets && rl[0].indirect;
}

/* From DWARF: at_entry picks ABI where DWARF is not valid yet; otherwise (a hit inside the
 * body) DWARF alone. */
static void plan_dwarf(struct tfunc *f, const struct dwfunc *d, uint64_t pc, bool at_entry)
{
	struct tplan *pl = &f->plan;
	bool go = d->lang == DWLANG_GO;

	pl->abi = go ? X86_64_ABI_GO : X86_64_ABI_SYSV;
	for (unsigned i = 0; i < d->nparams; i++) {
		const struct dwparam *p = &d->params[i];
		struct tval_plan *v;
		if (p->is_result) {
			if (pl->nrets < TPLAN_MAX && !d->inlined)
				set_plan(&pl->rets[pl->nrets++], p->name, &p->type);
			continue;
		}
		if (pl->nargs == TPLAN_MAX)
			continue;
		v = &pl->args[pl->nargs++];
		set_plan(v, p->name, &p->type);
		if (!at_entry || entry_valid(dwarfinfo_loc_at(p, pc))) {
			v->src = TSRC_DWARF;
			v->dw = p;
		}
	}
	if (!go && d->ret.kind != DWT_NONE && !d->inlined)
		set_plan(&pl->rets[pl->nrets++], NULL, &d->ret);
	if (at_entry)
		plan_abi(pl, go);
}

static struct dwtype proto_type(enum dwt_kind k)
{
	struct dwtype t = {.kind = k, .size = 8};

	if (k == DWT_INT)
		t.size = 4; /* C int */
	return t;
}

static void plan_proto(struct tfunc *f, const struct tproto *pr)
{
	struct tplan *pl = &f->plan;
	struct dwtype t;

	pl->abi = X86_64_ABI_SYSV;
	for (unsigned i = 0; i < pr->nargs && i < TPLAN_MAX; i++) {
		t = proto_type(pr->args[i].kind);
		set_plan(&pl->args[pl->nargs++], pr->args[i].name, &t);
	}
	if (pr->ret != DWT_NONE) {
		t = proto_type(pr->ret);
		set_plan(&pl->rets[pl->nrets++], NULL, &t);
	}
	plan_abi(pl, false);
}

/* No types at all: C shows the six argument registers and rax. */
static void plan_bare(struct tfunc *f)
{
	struct tplan *pl = &f->plan;
	struct dwtype ptr = {.kind = DWT_PTR, .size = 8}, ret = {.kind = DWT_INT, .size = 8};

	pl->abi = f->go ? X86_64_ABI_GO : X86_64_ABI_SYSV;
	if (f->go)
		return; /* Go without DWARF: the register count of its arguments is unknown */
	for (unsigned i = 0; i < 6; i++)
		set_plan(&pl->args[pl->nargs++], NULL, &ptr);
	set_plan(&pl->rets[pl->nrets++], NULL, &ret);
	plan_abi(pl, false);
}

void trace_plan_func(struct tfunc *f)
{
	uint64_t bias = f->mod ? f->mod->m->bias : 0;
	uint64_t pc = f->addr - bias;
	const struct tproto *pr;

	memset(&f->plan, 0, sizeof(f->plan));
	if (f->dw) {
		bool at_entry = f->kind == TF_FUNC || (!f->dw->inlined && pc == f->dw->low);
		plan_dwarf(f, f->dw, pc, at_entry);
		f->plan.at_entry = at_entry;
		return;
	}
	if (f->kind != TF_FUNC)
		return; /* a line or address without DWARF: the location alone */
	f->plan.at_entry = true;
	pr = f->go ? NULL : trace_proto_find(f->name);
	if (pr)
		plan_proto(f, pr);
	else
		plan_bare(f);
}
