/* The headless tracer's fast path. A function's entry and its ret exits become jumps to pads
 * (stub/agent/) when its probes allow: what the pad collects is derived from the function's
 * plan (registers, stack slots, the stack window --stack and -o keep, C strings through a
 * register), and every value the trap path would read must be among it, else the probe traps
 * and says why. Records are drained while the program runs and handled by the same code as
 * trap hits (trace_handle), reading memory from the record. Before a trap hit is handled the
 * rings are drained, so a thread's calls and returns are seen in order whichever path took
 * them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/regs.h"
#include "stub/debuginfo/debuginfo.h"
#include "stub/tracer/internal.h"

#define WINDOW_MIN    16		/* the return address and a little above */
#define WINDOW_TF     256		/* what -o keeps (record.c's TF_STACK_MIN) */
#define FAST_DRAIN_NS (50ull * 1000000) /* the most records wait in a ring */
#define WINDOW_MAX    4096
#define WINDOW_BT     4096 /* stack bytes a pad keeps for --bt (a signal frame is ~3 KiB) */

struct want {
	struct agent_site_spec *sp;
	uint32_t window; /* bytes at rsp */
	int cfa_reg;	 /* the CFA at the site: agent register + offset (entry: rsp + 8); */
	int64_t cfa_off; /* cfa_reg -1: unknown (no CFI there) */
	const char *why;
};

static void op(struct want *w, uint8_t kind, int reg, int64_t off, uint32_t len)
{
	if (w->why)
		return;
	if (reg == AGENT_RSP && kind == AGENT_OP_MEM && off >= 0 && off + len <= WINDOW_MAX) {
		if (off + len > w->window)
			w->window = (uint32_t)(off + len);
		return;
	}
	/* Slots of one frame off the same register (a line's locals off rbp): one block. */
	for (unsigned i = 0; kind == AGENT_OP_MEM && i < w->sp->nops; i++) {
		struct agent_op *o = &w->sp->ops[i];
		int64_t lo = o->off < off ? o->off : off;
		int64_t hi = o->off + o->len > off + len ? o->off + o->len : off + (int64_t)len;

		if (o->kind == AGENT_OP_MEM && o->reg == reg && hi - lo <= 512) {
			o->off = (int32_t)lo;
			o->len = (uint16_t)(hi - lo);
			return;
		}
	}
	if (w->sp->nops == AGENT_MAX_OPS || len > 0xffff || off < INT32_MIN || off > INT32_MAX) {
		w->why = "too many values behind pointers";
		return;
	}
	w->sp->ops[w->sp->nops++] =
		(struct agent_op){kind, (uint8_t)reg, (uint16_t)len, (int32_t)off};
}

/* Where the value's bytes come from. regs[0..1]: the registers holding its first two words
 * when it lies in registers only (a pointer to follow, a Go string's pointer and length),
 * else -1. */
static void sources(struct want *w, const struct tval_plan *p, const struct tplan *pl, bool results,
		    uint64_t pc, int regs[2], int slot[2])
{
	uint32_t size = p->type.size;
	bool in_regs = true;

	regs[0] = regs[1] = -1;
	slot[0] = slot[1] = -1; /* the one 8-byte memory piece holding it: agent reg, offset */
	if (p->src == TSRC_DWARF) {
		const struct dwloc *l = dwarfinfo_loc_at(p->dw, pc);

		for (unsigned i = 0; l && i < l->npieces; i++) {
			const struct dwpiece *pc_ = &l->pieces[i];
			uint32_t n = pc_->size ? pc_->size : size;
			int r = pc_->dwreg >= 0 && pc_->dwreg <= 16
					? agent_reg_of(x86_64_regno_from_dwarf(pc_->dwreg))
					: -1;

			switch (pc_->kind) {
			case DWP_REG:
			case DWP_ENTRY_REG:
				if (pc_->dwreg >= 17)
					w->why =
						"a value in a vector register (the pad saves none)";
				else if (i < 2)
					regs[i] = r;
				break;
			case DWP_MEM:
				in_regs = false;
				if (pc_->dwreg == DWBASE_CFA && w->cfa_reg < 0)
					w->why = "no CFI at the probe";
				else if (pc_->dwreg == DWBASE_CFA)
					op(w, AGENT_OP_MEM, w->cfa_reg, w->cfa_off + pc_->off, n);
				else if (r >= 0)
					op(w, AGENT_OP_MEM, r, pc_->off, n);
				if (!w->why && l->npieces == 1 && n == 8 &&
				    (pc_->dwreg == DWBASE_CFA || r >= 0)) {
					slot[0] = pc_->dwreg == DWBASE_CFA ? w->cfa_reg : r;
					slot[1] = (int)(pc_->dwreg == DWBASE_CFA
								? w->cfa_off + pc_->off
								: pc_->off);
				}
				if (pc_->dwreg != DWBASE_CFA && r < 0)
					w->why = "a value at an absolute address";
				break;
			case DWP_VALUE:
				in_regs = false;
				if (pc_->dwreg != DWBASE_CFA && pc_->dwreg != DWBASE_NONE && r < 0)
					w->why = "a value computed from a vector register";
				break;
			default:
				in_regs = false;
				break;
			}
		}
		if (!in_regs || !l || !l->npieces)
			regs[0] = regs[1] = -1;
		return;
	}
	if (p->src != TSRC_ABI)
		return;
	for (unsigned i = 0; i < p->abi.nparts; i++) {
		const struct x86_64_abi_part *pt = &p->abi.parts[i];
		int regno = results ? x86_64_abi_result_regno(pl->abi, pt->reg)
				    : x86_64_abi_arg_regno(pl->abi, pt->reg);

		switch (pt->where) {
		case X86_64_IN_INT:
			if (i < 2)
				regs[i] = agent_reg_of(regno);
			break;
		case X86_64_IN_SSE:
			w->why = "a value in a vector register (the pad saves none)";
			break;
		case X86_64_IN_STACK:
			regs[0] = regs[1] = -1;
			if (results && pl->ret_indirect)
				op(w, AGENT_OP_MEM, AGENT_RAX, 0, pt->size);
			else
				op(w, AGENT_OP_MEM, AGENT_RSP, 8 + pt->stack_off, pt->size);
			break;
		}
	}
}

/* A Go slice: what collect.c's goslice reads, its first elements (a []byte as a string). */
static void slice_op(struct want *w, const struct dwtype *t, const int r[2])
{
	uint32_t es = t->elem_size, len;

	if (t->elem_kind == DWT_UINT && es == 1) {
		len = TRACE_STR_MAX;
	} else if (es == 1 || es == 2 || es == 4 || es == 8) {
		len = TRACE_SLICE_MAX * es < TRACE_STR_MAX ? TRACE_SLICE_MAX * es : TRACE_STR_MAX;
	} else {
		return; /* elements not shown: nothing to read */
	}
	if (r[0] < 0 || r[1] < 0)
		w->why = "a Go slice kept in memory";
	else
		op(w, AGENT_OP_GOSTR, r[0], r[1] | (int)(es << 8), len);
}

static void values(struct want *w, const struct tfunc *f, bool results, uint64_t pc)
{
	const struct tplan *pl = &f->plan;
	const struct tval_plan *p = results ? pl->rets : pl->args;
	unsigned n = results ? pl->nrets : pl->nargs;

	for (unsigned i = 0; i < n && !w->why; i++) {
		int r[2], slot[2];

		if (p[i].type.size > 32 && p[i].type.kind != DWT_MEMORY &&
		    p[i].type.kind != DWT_NONE)
			continue; /* not collected on either path */
		sources(w, &p[i], pl, results, pc, r, slot);
		if (p[i].type.kind == DWT_CXXSTR && p[i].type.deref && !results &&
		    p[i].type.size >= 16 && p[i].type.size <= 64) {
			/* a std::string argument by reference: the object, then its characters */
			if (r[0] < 0 || r[1] >= 0)
				w->why = "a std::string reference kept in memory";
			else
				op(w, AGENT_OP_CXXSTR, r[0], p[i].type.size, TRACE_STR_MAX);
			continue;
		}
		if (p[i].type.deref) {
			w->why = "an argument passed by reference (memory behind a pointer)";
			break;
		}
		switch (p[i].type.kind) {
		case DWT_CSTR:
			if (r[0] >= 0 && r[1] < 0)
				op(w, AGENT_OP_STR, r[0], 0, TRACE_STR_MAX);
			else if (slot[0] >= 0) /* in a frame slot (-O0): pointer, then string */
				op(w, AGENT_OP_PSTR, slot[0], slot[1], TRACE_STR_MAX);
			else
				w->why = "a string pointer kept in memory";
			break;
		case DWT_GOSTRING:
			if (r[0] < 0 || r[1] < 0)
				w->why = "a Go string kept in memory";
			else
				op(w, AGENT_OP_GOSTR, r[0], r[1], TRACE_STR_MAX);
			break;
		case DWT_GOSLICE:
			slice_op(w, &p[i].type, r);
			break;
		case DWT_CXXSTR:
		case DWT_CXXSV:
		case DWT_CXXVEC:
		case DWT_RSTRING:
		case DWT_RVEC:
			w->why = "a value whose bytes are behind a pointer";
			break;
		default:
			break;
		}
	}
}

static const char *eligible(const struct tfunc *f)
{
	if (!f->mod || (f->kind == TF_FUNC && f->end <= f->start))
		return "the function's bounds are unknown";
	if (f->kind != TF_FUNC && !f->plan.at_entry && f->go)
		return "a line or address probe in Go code";
	return NULL;
}

/* The function holding a line or address probe: its bytes in the file and where it starts.
 * NULL when its symbol has no size or its bytes are not in the file. */
static const uint8_t *hit_func_code(const struct tfunc *f, uint64_t addr, uint64_t *start,
				    size_t *len)
{
	struct module *m = f->mod->m;
	uint64_t off;
	const struct elfsym_func *sym = elfsym_lookup(m->syms, addr - m->bias, &off);

	if (!sym || off >= sym->size)
		return NULL;
	*start = sym->addr + m->bias;
	*len = sym->size;
	return trace_code_at(m, *start, *len);
}

/* The CFA at a probe inside a function (after its prologue: off rbp, or off rsp), from the
 * module's CFI, as the agent register and offset the pad reads the frame's slots from. */
static void cfa_at(struct want *w, const struct tfunc *f, uint64_t pc)
{
	struct cfi *c = module_cfi(f->mod->m);
	int dwreg, r;
	int64_t off;

	w->cfa_reg = -1;
	if (!c || cfi_cfa_rule(c, pc, &dwreg, &off) || dwreg > 16)
		return;
	r = agent_reg_of(x86_64_regno_from_dwarf(dwreg));
	if (r >= 0) {
		w->cfa_reg = r;
		w->cfa_off = off;
	}
}

/* Go: the runtime offsets a pad needs to move to g0's stack, and the goroutine id's. */
static const char *go_layout(struct tmod *tm)
{
	struct dwarfinfo *di;
	uint64_t m, g0, gs, sched, sp;

	if (!tm->gopad_tried) {
		tm->gopad_tried = true;
		di = module_dwarf(tm->m);
		tm->has_gopad = di && !dwarfinfo_member_offset(di, "runtime.g", "m", &m) &&
				!dwarfinfo_member_offset(di, "runtime.m", "g0", &g0) &&
				!dwarfinfo_member_offset(di, "runtime.m", "gsignal", &gs) &&
				!dwarfinfo_member_offset(di, "runtime.g", "sched", &sched) &&
				!dwarfinfo_member_offset(di, "runtime.gobuf", "sp", &sp) &&
				!dwarfinfo_member_offset(di, "runtime.g", "goid", &tm->goid_off);
		if (tm->has_gopad)
			tm->gopad = (struct x86_64_pad_go){(int32_t)m, (int32_t)g0, (int32_t)gs,
							   (int32_t)(sched + sp)};
	}
	return tm->has_gopad ? NULL : "no runtime layout (Go without DWARF)";
}

static struct agent *agent_for(struct trace *t, struct tspace *s, uint64_t near, const char **why)
{
	char err[256];
	uint32_t ring = t->cli->ring_bytes ? (uint32_t)t->cli->ring_bytes : 1u << 20;
	/* at most 64 GiB of address space for the rings (pages are used as records come) */
	struct agent_opts o = {.ring_bytes = ring, .nrings = ring > (512u << 20) ? 64 : 128};

	if (s->agent || s->agent_failed) {
		*why = s->agent ? NULL : "the agent could not be injected";
		return s->agent;
	}
	if (agent_open(t->env.live, s->pid, near, &o, &s->agent, err, sizeof(err))) {
		s->agent_failed = true;
		fprintf(stderr, "tracestub trace: process %d: no fast path (%s): probes trap\n",
			(int)s->pid, err);
		*why = "the agent could not be injected";
		return NULL;
	}
	/* make bench's floors: =pad, pads that call the agent, which returns at once; =1, the
	 * agent saves the registers and 64 stack bytes and nothing else */
	if (getenv("TRACESTUB_BENCH_FLOOR")) {
		if (!strcmp(getenv("TRACESTUB_BENCH_FLOOR"), "pad"))
			agent_disable(s->agent);
		else
			agent_floor(s->agent);
	}
	return s->agent;
}

int trace_fast_place(struct trace *t, struct tsite *x)
{
	struct tfunc *f = x->f;
	const struct tracecli *c = t->cli;
	struct agent_site_spec sp = {0};
	struct want w = {.sp = &sp, .window = WINDOW_MIN, .cfa_reg = AGENT_RSP, .cfa_off = 8};
	bool exit = x->kind == TS_EXIT;
	uint64_t pc = x->addr - (f->mod ? f->mod->m->bias : 0);
	struct agent *a;
	const char *why = NULL;
	int rc;

	if (!t->env.live || c->trap)
		return -EBUSY;
	if ((w.why = eligible(f)) || (!exit && f->ra_only &&
				      (w.why = "returns caught at the "
					       "caller's return site")))
		goto trap;
	if (f->go && (w.why = go_layout(f->mod)))
		goto trap;
	sp.fstart = f->start;
	if (f->kind == TF_FUNC)
		sp.code = trace_func_code(f, &sp.len);
	else /* FILE:LINE or *ADDR: the site inside its function */
		sp.code = hit_func_code(f, x->addr, &sp.fstart, &sp.len);
	if (!sp.code) {
		w.why = "the function's code is not in its file";
		goto trap;
	}
	if (f->kind != TF_FUNC && !f->plan.at_entry)
		cfa_at(&w, f, pc);
	if (c->stack_bytes)
		w.window = c->stack_bytes < WINDOW_MAX ? (uint32_t)c->stack_bytes : WINDOW_MAX;
	if (t->tf && w.window < WINDOW_TF)
		w.window = WINDOW_TF;
	/* --bt: the unwinder reads the caller frames from the record (frames past it are not
	 * shown: the backtrace stops there) */
	if (c->bt_depth && w.window < WINDOW_BT)
		w.window = WINDOW_BT;
	if ((exit ? c->args : trace_shows_args(c)) || c->specs[f->spec].cond.present)
		values(&w, f, exit, pc);
	if (w.why)
		goto trap;
	if (f->go) /* the goroutine id, read at the hit from the g in r14 */
		op(&w, AGENT_OP_MEM, AGENT_R14, (int64_t)f->mod->goid_off, 8);
	if (f->go && t->tf && !exit) /* g.stackguard0, for replay (record.c put_go_guard) */
		op(&w, AGENT_OP_MEM, AGENT_R14, 16, 8);
	if (w.why)
		goto trap;
	memmove(&sp.ops[1], &sp.ops[0], sp.nops * sizeof(sp.ops[0]));
	if (exit && !f->go) /* what -o's return frames keep: the popped slots too (record.c) */
		sp.ops[0] = (struct agent_op){AGENT_OP_MEM, AGENT_RSP,
					      (uint16_t)(w.window + AGENT_EXIT_BELOW_RSP),
					      -AGENT_EXIT_BELOW_RSP};
	else
		sp.ops[0] = (struct agent_op){AGENT_OP_MEM, AGENT_RSP, (uint16_t)w.window, 0};
	sp.nops++;
	sp.go = f->go ? &f->mod->gopad : NULL;
	if (sp.nops > AGENT_MAX_OPS) {
		w.why = "too many values behind pointers";
		goto trap;
	}
	sp.at = x->addr;
	sp.exit = exit;
	sp.owner = x;
	if (!(a = agent_for(t, f->space, x->addr, &why))) {
		w.why = why;
		goto trap;
	}
	rc = agent_add_site(a, &sp, &why);
	if (rc) {
		w.why = why ? why : strerror(-rc);
		if (rc == -EBUSY && why && strstr(why, "is running") && !x->fast) {
			if (!x->retry) /* first refusal: try again with the process held */
				x->retry = 3;
			t->fast_retry = true;
		}
		goto trap;
	}
	x->retry = 0;
	x->fast = true;
	if (exit)
		f->fast_exits++;
	else
		f->fast_entry = true;
	return 0;
trap:
	if (!f->trap_why[0])
		snprintf(f->trap_why, sizeof(f->trap_why), "%s", w.why ? w.why : "unknown");
	return -EBUSY;
}

#define PROMOTE_EVERY_NS 100000000ull

void trace_fast_promote(struct trace *t)
{
	uint64_t now = trace_now_ns();

	if (!t->fast_retry || t->stopping || now - t->fast_retry_ns < PROMOTE_EVERY_NS)
		return;
	t->fast_retry_ns = now;
	t->fast_retry = false;
	for (struct tspace *s = t->spaces; s; s = s->next) {
		bool held = false;

		if (s->dead || s->agent_borrowed)
			continue;
		for (struct tsite *x = s->sites; x; x = x->next) {
			if (!x->retry || !x->placed || x->fast)
				continue;
			if (!held && live_hold(t->env.live, s->pid))
				break;
			held = true;
			x->retry--;
			/* the int3 out, the pad in; the int3 back if the pad is refused again */
			t->env.remove(t->env.ctx, s->pid, x->addr, trace_on_hit, x);
			if (trace_fast_place(t, x)) {
				if (t->env.insert(t->env.ctx, s->pid, x->addr, trace_on_hit, x))
					x->placed = false;
				if (x->retry)
					t->fast_retry = true;
			} else if (!strncmp(x->f->trap_why, "thread ", 7)) {
				x->f->trap_why[0] = '\0';
			}
		}
		if (held)
			live_unhold(t->env.live);
	}
}

int trace_fast_yield(struct trace *t, struct tspace *s, uint64_t addr)
{
	struct tsite *x = s->agent ? agent_unpatch(s->agent, addr) : NULL;
	int err;

	if (!x)
		return -EBUSY;
	x->fast = false;
	if (x->kind == TS_EXIT)
		x->f->fast_exits--;
	else
		x->f->fast_entry = false;
	snprintf(x->f->trap_why, sizeof(x->f->trap_why), "another probe is inside its patch");
	err = t->env.insert(t->env.ctx, s->pid, x->addr, trace_on_hit, x);
	if (err)
		x->placed = false;
	return 0;
}

static void on_record(void *ctx, const struct agent_hit *h)
{
	struct trace *t = ctx;
	struct tsite *x = h->owner;
	struct user_regs_struct regs = h->regs;
	struct probe_hit hit = {.pid = h->pid,
				.tid = h->tid,
				.addr = h->addr,
				.regs = &regs,
				.time_ns = h->time_ns};

	/* Hits of this thread were lost just before: its open calls are unknown now (a return
	 * whose call was lost must not pair with an older call). */
	if (h->rec->flags & AGENT_REC_AFTER_LOSS)
		trace_calls_forget(t, h->pid, h->tid);
	t->rec = h->rec;
	trace_handle(x, &hit);
	t->rec = NULL;
}

void trace_fast_drain(struct trace *t, struct tspace *only)
{
	if (t->draining)
		return;
	t->draining = true;
	for (struct tspace *s = t->spaces; s; s = s->next)
		if (s->agent && !s->agent_borrowed && (!only || s == only))
			agent_drain(s->agent, on_record, t);
	t->draining = false;
	if (!only)
		t->fast_drained_ns = trace_now_ns();
}

/* The event loop's drain: when a ring is an eighth full (then looked at every ms), or 50 ms
 * after the last drain (looked at every 5: the heads only). Records wait in the rings
 * meanwhile: a burst of hits runs with the CPUs to itself, its records handled after it in
 * one batch, not beside it (on 2 cores, 8 threads' records drained as they came cost them
 * half their throughput). A trap hit drains first (trace_on_hit), so order holds. */
void trace_fast_tick(struct trace *t)
{
	uint32_t fill = 0;

	for (struct tspace *s = t->spaces; s; s = s->next)
		if (s->agent && !s->agent_borrowed && agent_fill_now(s->agent) > fill)
			fill = agent_fill_now(s->agent);
	t->fast_busy = fill > 125;
	if (t->fast_busy || trace_now_ns() - t->fast_drained_ns >= FAST_DRAIN_NS)
		trace_fast_drain(t, NULL);
}

void trace_fast_disable(struct trace *t)
{
	for (struct tspace *s = t->spaces; s; s = s->next)
		if (s->agent)
			agent_disable(s->agent);
}

static void count_drops(struct trace *t, struct tspace *s)
{
	if (s->agent_borrowed)
		return;
	for (struct tsite *x = s->sites; x; x = x->next)
		if (x->fast)
			t->fast_dropped += agent_dropped(s->agent, x);
}

/* The agent stays until the end (trace_space_free): fork children may still write into it. */
void trace_fast_close(struct trace *t, struct tspace *s)
{
	if (!s->agent)
		return;
	trace_fast_drain(t, NULL);
	agent_proc_gone(s->agent, s->pid);
}

void trace_fast_fork(struct trace *t, struct tspace *parent, struct tspace *child)
{
	if (!parent || !child || !parent->agent || child->agent)
		return;
	child->agent = parent->agent;
	child->agent_borrowed = true;
}

void trace_fast_thread_gone(struct trace *t, struct tspace *s, pid_t tid)
{
	if (!s->agent)
		return;
	trace_fast_drain(t, NULL);
	agent_thread_gone(s->agent, tid);
}

int trace_fast_timeout_ms(const struct trace *t)
{
	for (const struct tspace *s = t->spaces; s; s = s->next)
		if (s->agent && agent_nsites(s->agent))
			return t->fast_busy ? 1 : 5;
	return -1;
}

void trace_fast_report(struct trace *t, FILE *f)
{
	if (!t->env.live || t->cli->trap)
		return;
	for (struct tspace *s = t->spaces; s; s = s->next)
		if (s->agent)
			count_drops(t, s);
	for (struct tspace *s = t->spaces; s; s = s->next) {
		for (struct tfunc *fn = s->funcs; fn; fn = fn->next) {
			if (!fn->placed || t->cli->specs[fn->spec].internal)
				continue;
			if (fn->kind != TF_FUNC) /* a line or address: one site */
				fprintf(f, "tracestub trace: %s @ 0x%llx: %s%s%s%s\n", fn->name,
					(unsigned long long)fn->addr,
					fn->fast_entry ? "fast" : "trap",
					fn->trap_why[0] && !fn->fast_entry ? " (" : "",
					fn->fast_entry ? "" : fn->trap_why,
					fn->trap_why[0] && !fn->fast_entry ? ")" : "");
			else if (fn->fast_entry && fn->fast_exits == fn->nexits && !fn->ra_only)
				fprintf(f, "tracestub trace: %s: fast (entry and %u returns)\n",
					fn->name, fn->nexits);
			else
				fprintf(f,
					"tracestub trace: %s: %s entry, %u of %u exits "
					"fast%s%s%s\n",
					fn->name, fn->fast_entry ? "fast" : "trap", fn->fast_exits,
					fn->nexits, fn->trap_why[0] ? " (trap: " : "", fn->trap_why,
					fn->trap_why[0] ? ")" : "");
		}
	}
	if (t->fast_dropped)
		fprintf(f, "tracestub trace: %llu fast hits lost (a thread's ring was full)\n",
			(unsigned long long)t->fast_dropped);
}
