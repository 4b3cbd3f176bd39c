/* What --stack, --regs and --bt add to an event, and naming code addresses: stack bytes at
 * rsp, the general registers, a backtrace unwound by CFI from the hit's registers (Go's
 * .debug_frame included) and symbolised module by module ("module+offset" when a module has
 * no symbol there). Uses the session's preallocated scratch only. */
#include <errno.h>
#include <string.h>

#include "arch/x86_64/regs.h"
#include "stub/debuginfo/debuginfo.h"
#include "stub/tracer/internal.h"

bool trace_symbolize(struct tspace *s, uint64_t pc, const char **func, const char **module,
		     uint64_t *off)
{
	struct module *m = module_set_find(s->mods, pc);
	const struct elfsym_func *f;

	*func = NULL;
	*module = NULL;
	*off = 0;
	if (!m)
		return false;
	*module = m->name;
	f = elfsym_lookup(m->syms, pc - m->bias, off);
	if (!f) {
		*off = pc - m->start;
		return false;
	}
	*func = elfsym_func_name(f);
	return true;
}

static int bt_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return trace_read(ctx, addr, buf, len);
}

static void backtrace(struct trace_hitctx *hc, unsigned depth, bool at_entry)
{
	struct tevent *ev = &hc->t->ev;
	const struct user_regs_struct *r = hc->hit->regs;
	struct cfi_frame fr[TEVENT_MAX_FRAMES];
	struct cfi_regs cr = {0};
	size_t n = 0;

	for (int i = 0; i < 16; i++) {
		uint64_t v;
		if (!x86_64_gpr_value(r, x86_64_regno_from_dwarf(i), &v)) {
			cr.r[i] = v;
			cr.valid |= 1u << i;
		}
	}
	cr.r[16] = hc->hit->addr;
	cr.valid |= 1u << 16;
	cr.at_entry = at_entry;
	if (depth > TEVENT_MAX_FRAMES)
		depth = TEVENT_MAX_FRAMES;
	if (cfi_unwind(module_set_cfi_lookup, hc->space->mods, &cr, bt_read, hc, fr, depth, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		struct tframe *tf = &ev->bt[i];
		uint64_t off;
		/* A caller's pc is a return address: name the call, which is just before it. */
		uint64_t look = i ? fr[i].pc - 1 : fr[i].pc;
		tf->pc = fr[i].pc;
		trace_symbolize(hc->space, look, &tf->func, &tf->module, &off);
		tf->offset = off + (look != fr[i].pc);
	}
	ev->nbt = (unsigned)n;
}

static void registers(struct trace_hitctx *hc)
{
	static const int order[TRACE_NREGS] = {
		X86_64_RAX, X86_64_RBX, X86_64_RCX, X86_64_RDX, X86_64_RSI, X86_64_RDI,
		X86_64_RBP, X86_64_RSP, X86_64_R8,  X86_64_R9,	X86_64_R10, X86_64_R11,
		X86_64_R12, X86_64_R13, X86_64_R14, X86_64_R15, X86_64_RIP, X86_64_EFLAGS};
	struct trace *t = hc->t;

	for (unsigned i = 0; i < TRACE_NREGS; i++) {
		uint64_t v = 0;
		if (order[i] == X86_64_EFLAGS)
			v = hc->hit->regs->eflags;
		else
			x86_64_gpr_value(hc->hit->regs, order[i], &v);
		if (order[i] == X86_64_RIP)
			v = hc->hit->addr;
		t->regs[i] = (struct treg){x86_64_regs()[order[i]].name, v};
	}
	t->ev.regs = t->regs;
	t->ev.nregs = TRACE_NREGS;
}

void trace_collect_extras(struct trace_hitctx *hc, bool at_entry)
{
	struct trace *t = hc->t;
	const struct tracecli *c = t->cli;
	ssize_t n;

	if (c->stack_bytes && t->stackbuf) {
		n = trace_read_some(hc, hc->hit->regs->rsp, t->stackbuf, c->stack_bytes);
		if (n > 0) {
			t->ev.stack = t->stackbuf;
			t->ev.stack_len = (size_t)n;
		}
	}
	if (c->regs)
		registers(hc);
	if (c->bt_depth)
		backtrace(hc, c->bt_depth, at_entry);
}
