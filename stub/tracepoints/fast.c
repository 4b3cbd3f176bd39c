/* gdb's fast tracepoints (`ftrace`, issue 15): a tracepoint gdb sends with QTDP's F field
 * becomes a pad of the in-process agent (stub/agent) instead of an int3, so a hit costs a jump
 * and a record in a ring, not a ptrace stop. What the pad records: the general registers, each
 * memory range of the actions relative to a register, and what the collect expressions (X
 * actions) trace and read, run by the agent at the hit (the condition too). The records are
 * turned into trace frames by the same collection code as a trap hit (hit.c), reading from
 * the record, as tracestub drains the rings. An expression the agent does not run (trace
 * state variables, floats) leaves all of them to tracestub, over a window of the stack above
 * rsp copied at the hit. Refused (why_trap, and the tracepoint traps as before):
 * while-stepping, a memory range the pad cannot reach, a function whose code cannot be
 * patched safely. */
#include "stub/tracepoints/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "arch/x86_64/regs.h"
#include "protocol/ax.h"
#include "stub/agent/agent.h"
#include "stub/debuginfo/debuginfo.h"
#include "stub/live/live.h"
#include "stub/tracefile/tracefile.h"

#define FAST_WINDOW 1024 /* stack bytes a hit keeps for expressions (collect $locals) */
#define CODE_MAX    (1u << 20)

int tpoints_min_fast_len(void *t)
{
	return 1; /* the pad relocates as many instructions as the jump covers */
}

/* A trace state variable the agent can hold: defined, not built in, numbered below
 * AGENT_MAX_TSV. */
static bool tsv_agent_can(const struct tpoints_tsv *v)
{
	return v->defined && !v->builtin && v->num < AGENT_MAX_TSV;
}

static void tsv_bitmap(const struct tpoints *tr, uint64_t *bm)
{
	memset(bm, 0, AGENT_MAX_TSV / 8);
	for (size_t i = 0; i < tr->ntsvs; i++)
		if (tsv_agent_can(&tr->tsvs[i]))
			bm[tr->tsvs[i].num / 64] |= 1ull << (tr->tsvs[i].num % 64);
}

bool tpoints_tsv_in_agent(const struct tpoints *tr, const struct tpoints_tsv *v)
{
	return tr->agent && tsv_agent_can(v);
}

/* A run starts (tstart) or the agent is injected: its hits record again, passcounts from
 * zero, the trace state variables from tracestub's values (tstart has just reset them). */
void tpoints_fast_start(struct tpoints *tr)
{
	if (tr->agent)
		agent_enable(tr->agent);
	for (size_t i = 0; i < tr->ntsvs; i++)
		if (tpoints_tsv_in_agent(tr, &tr->tsvs[i]))
			agent_tsv_set(tr->agent, tr->tsvs[i].num, tr->tsvs[i].value);
}

/* And back, before the agent goes. */
static void tsv_pull(struct tpoints *tr)
{
	for (size_t i = 0; i < tr->ntsvs; i++)
		if (tpoints_tsv_in_agent(tr, &tr->tsvs[i]))
			tr->tsvs[i].value = agent_tsv_get(tr->agent, tr->tsvs[i].num);
}

static struct agent *agent_for(struct tpoints *tr, pid_t pid, uint64_t near, const char **why)
{
	char err[256];
	struct agent_opts o = {.ring_bytes = 16u << 20,
			       .nrings = 64}; /* pages used as records come */

	if (tr->agent && (tr->agent_pid != pid || tr->agent_off))
		tpoints_fast_close(tr);
	if (tr->agent || tr->agent_failed) {
		*why = tr->agent ? NULL : "the agent could not be injected";
		return tr->agent;
	}
	if (agent_open(tr->l, pid, near, &o, &tr->agent, err, sizeof(err))) {
		tr->agent_failed = true;
		fprintf(stderr, "tracestub: process %d: no fast tracepoints (%s)\n", (int)pid, err);
		*why = "the agent could not be injected";
		return NULL;
	}
	tr->agent_pid = pid;
	tpoints_fast_start(tr);
	return tr->agent;
}

/* The bytes of the function holding addr, and where it starts; NULL with *why. */
static uint8_t *function_code(struct tpoints *tr, pid_t pid, uint64_t addr, size_t *len,
			      uint64_t *start, const char **why)
{
	const struct elfsym_func *f;
	struct module *m;
	uint8_t *code = NULL;
	uint64_t off;

	*why = "no function symbol holds the address";
	/* the process's modules, read once a run (tpoints_fast_new_run) */
	if (tr->mods && tr->mods_pid != pid)
		tpoints_fast_new_run(tr);
	if (!tr->mods && module_set_from_pid(pid, &tr->mods))
		tr->mods = NULL;
	tr->mods_pid = pid;
	if (!tr->mods || !(m = module_set_find(tr->mods, addr)) ||
	    !(f = elfsym_lookup(m->syms, addr - m->bias, &off)) || !f->size || f->size > CODE_MAX)
		return NULL;
	*start = f->addr + m->bias;
	*len = f->size;
	if ((code = malloc(*len))) {
		struct iovec lo = {code, *len}, re = {(void *)(uintptr_t)*start, *len};

		/* the process's bytes with our int3s shadowed: the function as its file has it */
		if (live_readv(tr->l, pid, &lo, &re, 1) != (ssize_t)*len) {
			free(code);
			code = NULL;
			*why = "the function's code cannot be read";
		}
	}
	return code;
}

void tpoints_fast_new_run(struct tpoints *tr)
{
	module_set_free(tr->mods);
	tr->mods = NULL;
	tr->mods_pid = 0;
}

/* The agent ops for tp's actions: the stack window, then each memory range; the collect
 * expressions for the agent to run. A window of FAST_WINDOW bytes above rsp only when an
 * expression or the condition is left to tracestub (evaluated over the record). */
static const char *plan_ops(struct tpoints_tp *tp, struct agent_site_spec *sp)
{
	const struct tpoints_plan *pl = &tp->plan[0];
	bool window = tp->def.cond && !sp->cond, cond_tsv = sp->tsv;
	unsigned n = 0, fixed;

	/* the window first (kept once the expressions are placed if one needs it), the ranges,
	 * then the expressions: the simplest become ops too while there is room */
	sp->ops[sp->nops++] = (struct agent_op){AGENT_OP_MEM, AGENT_RSP, 8, 0};
	for (size_t i = 0; i < pl->nmem; i++) {
		int64_t off = (int64_t)pl->mem[i].addr;
		int reg = pl->mem[i].basereg < 0 ? AGENT_RIP : agent_reg_of(pl->mem[i].basereg);

		if (pl->mem[i].basereg < 0) /* absolute: relative to the site */
			off = (int64_t)(pl->mem[i].addr - tp->def.addr);
		if (reg < 0 || off < INT32_MIN || off > INT32_MAX || pl->mem[i].len > 0xffff)
			return "a memory range the pad cannot reach";
		if (sp->nops == AGENT_MAX_OPS)
			return "more memory ranges than a pad collects";
		sp->ops[sp->nops++] = (struct agent_op){AGENT_OP_MEM, (uint8_t)reg,
							(uint16_t)pl->mem[i].len, (int32_t)off};
	}
	fixed = sp->nops;
	for (size_t i = 0; i < tp->nacts; i++) {
		const struct rsp_tp_action *x = &tp->acts[i];
		struct ax_verify_info vi;

		if (x->kind != RSP_TPA_EXPR || x->stepping)
			continue;
		if (ax_verify(x->code, x->code_len, &vi) != AX_OK ||
		    !agent_acts_add(sp, x->code, x->code_len, vi.max_depth))
			window = true;
		n++;
	}
	if (window) { /* all of them over the window then, nothing of theirs in the agent */
		sp->acts_len = sp->acts_budget = 0;
		sp->nops = fixed;
		sp->tsv = cond_tsv;
		sp->ops[0].len = FAST_WINDOW;
	} else { /* no stack but what the actions name, as a trap hit collects */
		memmove(&sp->ops[0], &sp->ops[1], (sp->nops - 1) * sizeof(sp->ops[0]));
		sp->nops--;
	}
	tp->acts_in_agent = window ? 0 : n;
	tp->fast_window = window && (n || tp->def.cond);
	return NULL;
}

int tpoints_fast_install(struct tpoints *tr, struct tpoints_tp *tp, pid_t pid)
{
	struct agent_site_spec sp = {0};
	uint64_t tsv_ok[AGENT_MAX_TSV / 64];
	struct agent *a;
	uint8_t *code = NULL;
	const char *why = NULL;
	int rc = -EBUSY;

	if (tp->def.step_count) {
		tp->why_trap = "while-stepping";
		return -EBUSY;
	}
	tsv_bitmap(tr, tsv_ok);
	sp.tsv_ok = tsv_ok;
	if (tp->def.cond) {
		/* In the agent when it can: a false hit then costs no record, and the condition
		 * reads any memory, not only what the record holds. */
		struct ax_verify_info vi;
		bool ut = false;

		if (ax_verify(tp->def.cond, tp->def.cond_len, &vi) == AX_OK &&
		    agent_cond_fits(tp->def.cond, tp->def.cond_len, vi.max_depth, tsv_ok, &ut)) {
			sp.cond = tp->def.cond;
			sp.cond_len = (uint32_t)tp->def.cond_len;
			sp.tsv |= ut;
		}
	}
	if ((why = plan_ops(tp, &sp)) ||
	    !(code = function_code(tr, pid, tp->def.addr, &sp.len, &sp.fstart, &why)) ||
	    !(a = agent_for(tr, pid, tp->def.addr, &why)))
		goto out;
	sp.code = code;
	sp.at = tp->def.addr;
	sp.owner = tp;
	sp.pass = tp->def.pass_count;
	rc = agent_add_site(a, &sp, &why);
	tp->cond_in_agent = !rc && sp.cond;
	tp->tsv_in_agent = !rc && sp.tsv;
	if (!rc) /* the frames are written while the program runs: no page faults then */
		tracebuf_prefault(tr->tb);
out:
	free(code);
	tp->why_trap = rc ? (why ? why : "the site cannot be patched") : NULL;
	tp->fast = tp->ran_fast = !rc;
	return rc;
}

void tpoints_fast_uninstall(struct tpoints *tr, struct tpoints_tp *tp)
{
	if (!tp->fast || !tr->agent)
		return;
	tpoints_fast_drain(tr);
	/* the patch goes when every thread is stopped (gdb stops them for tstop); else the
	 * agent ignores hits from now on and the patches go at the detach */
	if (!agent_unpatch(tr->agent, tp->def.addr)) {
		agent_disable(tr->agent);
		tr->agent_off = true;
	}
	tp->fast = false;
}

static void on_record(void *ctx, const struct agent_hit *h)
{
	struct tpoints_tp *tp = h->owner;
	struct user_regs_struct regs = h->regs;
	struct probe_hit hit = {.pid = h->pid, .tid = h->tid, .addr = h->addr, .regs = &regs};

	regs.rip = h->addr;
	if (tp && tp->fast)
		tpoints_record_hit(tp, &hit, h->rec);
}

void tpoints_fast_drain(struct tpoints *tr)
{
	if (tr->agent) {
		uint64_t e;

		agent_drain(tr->agent, on_record, tr);
		e = agent_cond_errors(tr->agent);
		tr->expr_errors += e - tr->agent_cond_errors;
		tr->agent_cond_errors = e;
	}
	for (size_t i = 0; tr->agent && i < tr->ntps; i++) {
		struct tpoints_tp *tp = tr->tps[i];

		uint64_t d = tp->fast ? agent_dropped(tr->agent, tp) : 0;

		if (d > tp->adropped) { /* hits = stored + dropped, the ring's drops too */
			tp->hits += d - tp->adropped;
			tp->dropped += d - tp->adropped;
			tp->adropped = d;
		}
	}
}

void tpoints_fast_close(struct tpoints *tr)
{
	if (!tr->agent) {
		tpoints_fast_new_run(tr);
		return;
	}
	tpoints_fast_drain(tr);
	tsv_pull(tr);
	for (size_t i = 0; i < tr->ntps; i++)
		tr->tps[i]->fast = false;
	tpoints_fast_new_run(tr);
	agent_free(tr->agent);
	tr->agent = NULL;
	tr->agent_pid = 0;
	tr->agent_failed = false;
	tr->agent_off = false;
	tr->agent_cond_errors = 0;
}

/* The records stay in the rings until gdb asks for the trace (every request that shows it
 * drains first: qTStatus, qTP, qTV, QTFrame, tsave, tstop, monitor tstats) or a ring is
 * half full: the frames are built when they are wanted, not while the program runs
 * beside a tracestub on the same CPUs. */
int tpoints_tick(void *t)
{
	struct tpoints *tr = tpoints_of(t);

	if (!tr || !tr->agent || !tr->running)
		return -1;
	if (agent_fill_now(tr->agent) > 500)
		tpoints_fast_drain(tr);
	return 5;
}
