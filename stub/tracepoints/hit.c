/* Collection at a tracepoint hit (DESIGN.md "Data flow of one tracepoint hit"): runs on the
 * hitting thread while only it is stopped. Condition, pass count, then one frame written
 * straight into the trace buffer: the R block from the registers the probe engine fetched
 * (x87/SSE/AVX only when the mask asks for them), every absolute M block in one vectored
 * read, agent expressions recording into the same frame. No malloc, no logging. */
#include "stub/tracepoints/internal.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "arch/x86_64/regs.h"
#include "protocol/ax.h"
#include "stub/agent/agent.h"
#include "stub/live/live.h"
#include "stub/os/os.h"
#include "stub/tracefile/tracefile.h"

#define G_MAX 1024

static bool mask_wants_fp(const uint8_t *mask)
{
	for (unsigned r = X86_64_ST0; r < X86_64_NREGS; r++) {
		if (r == X86_64_ORIG_RAX || r == X86_64_FS_BASE || r == X86_64_GS_BASE)
			continue;
		if (mask[r >> 3] & (1u << (r & 7)))
			return true;
	}
	return false;
}

/* Frame bytes an X action may add: exact when its trace ops are bounded (`collect var`
 * compiles to trace_quick), else LT_EXPR_ROOM. A reservation no larger than needed lets a
 * buffer sized for N frames (circ.exp) hold N of them. */
static size_t expr_room(const struct rsp_tp_action *a)
{
	uint64_t bytes;
	unsigned mem, tsv;

	if (ax_trace_bound(a->code, a->code_len, &bytes, &mem, &tsv) || bytes > (1u << 24))
		return LT_EXPR_ROOM;
	return (size_t)bytes + (size_t)mem * TRACEBUF_MEM_HDR + (size_t)tsv * TRACEBUF_TSV_BLOCK;
}

void tpoints_plan_build(struct tpoints *tr, struct tpoints_tp *tp)
{
	for (int s = 0; s < 2; s++) {
		struct tpoints_plan *pl = &tp->plan[s];

		memset(pl, 0, sizeof(*pl));
		pl->max = TRACEBUF_FRAME_HDR;
		for (size_t i = 0; i < tp->nacts; i++) {
			const struct rsp_tp_action *a = &tp->acts[i];

			if (a->stepping != (s == 1))
				continue;
			pl->any = true;
			if (a->kind == RSP_TPA_REGS && mask_wants_fp(a->mask))
				pl->need_fp = true;
			/* an R action, or an expression that reads registers (locals in
			 * registers, $sp-relative blocks): unwinding such a frame needs them */
			if ((a->kind == RSP_TPA_REGS ||
			     (a->kind == RSP_TPA_EXPR && ax_reads_regs(a->code, a->code_len))) &&
			    !pl->regs) {
				pl->regs = true;
				pl->max += 1 + tr->layout->g_size;
			}
			if (a->kind == RSP_TPA_EXPR)
				pl->max += expr_room(a);
			if (a->kind == RSP_TPA_MEM && pl->nmem < LT_MAX_MEM) {
				uint64_t len = a->len;

				pl->mem[pl->nmem].addr = a->offset;
				pl->mem[pl->nmem].len = len;
				pl->mem[pl->nmem].basereg = (int)a->basereg;
				pl->nmem++;
				pl->max += (len / TRACEBUF_MEM_MAX + 1) * TRACEBUF_MEM_HDR + len;
			}
		}
	}
}

/* One hit's collection state: what the agent-expression callbacks see. */
struct tpoints_ctx {
	struct tpoints *tr;
	const struct probe_hit *hit;
	const struct agent_rec *rec; /* a fast hit: memory from its record, not the process */
	bool tsv_rec;		     /* its trace state variables too (the agent ran them) */
	uint32_t tsv_cursor;	     /* the next of its blocks to look at for one */
	struct tracebuf_builder b;
	uint8_t g[G_MAX];
	uint8_t avail[X86_64_NREGS];
};

/* process_vm_readv's contract over the hit's memory: the live process, or the record of a
 * fast hit (the memory as it was then). */
static ssize_t cx_readv(struct tpoints_ctx *c, const struct iovec *lo, const struct iovec *re,
			int n)
{
	ssize_t total = 0;

	if (!c->rec)
		return live_readv(c->tr->l, c->hit->pid, lo, re, (size_t)n);
	for (int i = 0; i < n; i++) {
		size_t got = agent_rec_read(c->rec, (uint64_t)(uintptr_t)re[i].iov_base,
					    lo[i].iov_base, re[i].iov_len);

		total += (ssize_t)got;
		if (got < re[i].iov_len)
			break;
	}
	return total ? total : -1;
}

static int cx_read_reg(void *ctx, unsigned regno, uint64_t *val)
{
	struct tpoints_ctx *c = ctx;
	const struct rsp_reg_info *ri;
	size_t n;

	if (regno >= c->tr->layout->nregs || !c->avail[regno])
		return -ENOENT;
	ri = &c->tr->layout->regs[regno];
	n = ri->bitsize / 8 < 8 ? ri->bitsize / 8 : 8;
	*val = 0;
	memcpy(val, c->g + ri->offset, n); /* little-endian host = target */
	return 0;
}

static int cx_read_mem(void *ctx, uint64_t addr, uint8_t *buf, size_t len)
{
	struct tpoints_ctx *c = ctx;
	struct iovec lo = {buf, len}, re = {(void *)(uintptr_t)addr, len};

	return cx_readv(c, &lo, &re, 1) == (ssize_t)len ? 0 : -EFAULT;
}

static int record(struct tpoints_ctx *c, uint64_t addr, uint64_t len)
{
	while (len) {
		uint16_t n = len > TRACEBUF_MEM_MAX ? TRACEBUF_MEM_MAX : (uint16_t)len;
		uint8_t *p = tracebuf_put_mem(&c->b, addr, n);
		struct iovec lo, re;
		ssize_t got;

		if (!p)
			return -ENOSPC;
		lo.iov_base = p;
		lo.iov_len = n;
		re.iov_base = (void *)(uintptr_t)addr;
		re.iov_len = n;
		got = cx_readv(c, &lo, &re, 1);
		if (got < (ssize_t)n) {
			tracebuf_trim_mem(&c->b, p, got > 0 ? (uint16_t)got : 0);
			return -EFAULT;
		}
		addr += n;
		len -= n;
	}
	return 0;
}

static int cx_record_mem(void *ctx, uint64_t addr, uint64_t len)
{
	return record(ctx, addr, len);
}

/* A trace state variable's value for an expression: a fast hit whose expressions the agent
 * ran takes it from its record (what the agent saw at the hit, in the order its ops ran);
 * otherwise the value now: the agent's while it holds the variable, else tracestub's. */
static int tsv_now(struct tpoints_ctx *c, struct tpoints_tsv *v, int64_t *val)
{
	if (c->rec && c->tsv_rec && agent_rec_tsv(c->rec, &c->tsv_cursor, v->num, val))
		return 0;
	if (v->num == LT_TSV_TIME)
		*val = (int64_t)tpoints_now_us();
	else
		*val = tpoints_tsv_in_agent(c->tr, v) ? agent_tsv_get(c->tr->agent, v->num)
						      : v->value;
	return 0;
}

static int cx_get_tsv(void *ctx, unsigned num, int64_t *val)
{
	struct tpoints_ctx *c = ctx;
	struct tpoints_tsv *v = tpoints_tsv(c->tr, num);

	return v ? tsv_now(c, v, val) : -ENOENT;
}

static int cx_set_tsv(void *ctx, unsigned num, int64_t val)
{
	struct tpoints_ctx *c = ctx;
	struct tpoints_tsv *v = tpoints_tsv(c->tr, num);
	int64_t seen;

	if (!v || v->builtin)
		return -ENOENT;
	/* the agent set it at the hit already: only step past its block */
	if (c->rec && c->tsv_rec && agent_rec_tsv(c->rec, &c->tsv_cursor, v->num, &seen))
		return 0;
	v->value = val;
	if (tpoints_tsv_in_agent(c->tr, v))
		agent_tsv_set(c->tr->agent, v->num, val);
	return 0;
}

static int cx_record_tsv(void *ctx, unsigned num)
{
	struct tpoints_ctx *c = ctx;
	int64_t val;
	int rc = cx_get_tsv(ctx, num, &val);

	return rc ? rc : tracebuf_put_tsv(&c->b, (int32_t)num, val);
}

static void env_init(struct tpoints_ctx *c, struct ax_env *env)
{
	memset(env, 0, sizeof(*env));
	env->ctx = c;
	env->read_reg = cx_read_reg;
	env->read_mem = cx_read_mem;
	env->record_mem = cx_record_mem;
	env->get_tsv = cx_get_tsv;
	env->set_tsv = cx_set_tsv;
	env->record_tsv = cx_record_tsv;
}

/* Registers of the hit into c->g: the probe's general registers, x87/SSE/AVX when asked. */
static void load_regs(struct tpoints_ctx *c, bool need_fp)
{
	static uint8_t xsave[8192];
	struct user_fpregs_struct fp;
	size_t xlen = 0;
	bool have_fp = false;

	if (need_fp) {
		have_fp = !c->rec && ptr_getfpregs(c->hit->tid, &fp) == 0;
		if (have_fp && ptr_getxstate(c->hit->tid, xsave, sizeof(xsave), &xlen))
			xlen = 0;
	}
	x86_64_regs_to_g(c->hit->regs, have_fp ? &fp : NULL, xlen ? xsave : NULL, xlen, c->g,
			 c->avail);
}

static bool condition_holds(struct tpoints_ctx *c, const struct tpoints_tp *tp)
{
	struct ax_env env;
	struct ax_result res;

	if (!tp->def.cond || (c->rec && tp->cond_in_agent))
		return true; /* a record of the agent's: it held */
	env_init(c, &env);
	/* An evaluation error (bad memory, division by zero) makes the condition false: that
	 * hit is not collected, the run goes on. */
	if (ax_eval(tp->def.cond, tp->def.cond_len, &env, &res) != AX_OK) {
		c->tr->expr_errors++;
		return false;
	}
	return res.has_value && res.value != 0;
}

static void collect_mem(struct tpoints_ctx *c, const struct tpoints_plan *pl)
{
	struct iovec lo[LT_MAX_MEM], re[LT_MAX_MEM];
	uint8_t *dst[LT_MAX_MEM];
	int n = 0;
	ssize_t got;

	for (size_t i = 0; i < pl->nmem; i++) {
		taddr_t addr = pl->mem[i].addr;
		uint64_t base = 0;

		if (pl->mem[i].basereg >= 0) {
			if (cx_read_reg(c, (unsigned)pl->mem[i].basereg, &base))
				continue;
			addr += base;
		}
		if (pl->mem[i].len > TRACEBUF_MEM_MAX) {
			record(c, addr, pl->mem[i].len); /* rare: split blocks, own reads */
			continue;
		}
		dst[n] = tracebuf_put_mem(&c->b, addr, (uint16_t)pl->mem[i].len);
		if (!dst[n])
			break;
		lo[n].iov_base = dst[n];
		lo[n].iov_len = pl->mem[i].len;
		re[n].iov_base = (void *)(uintptr_t)addr;
		re[n].iov_len = pl->mem[i].len;
		n++;
	}
	if (!n)
		return;
	got = cx_readv(c, lo, re, n);
	/* process_vm_readv stops at the first unreadable block: trim that one. Later blocks
	 * stay as collected only when the read reached them. */
	for (int i = 0; i < n; i++) {
		size_t want = lo[i].iov_len;
		size_t have = got <= 0 ? 0 : (size_t)got >= want ? want : (size_t)got;

		if (have < want)
			tracebuf_trim_mem(&c->b, dst[i], (uint16_t)have);
		got = got > (ssize_t)want ? got - (ssize_t)want : 0;
	}
}

static void run_exprs(struct tpoints_ctx *c, const struct tpoints_tp *tp, bool stepping)
{
	struct ax_env env;

	env_init(c, &env);
	for (size_t i = 0; i < tp->nacts; i++) {
		const struct rsp_tp_action *a = &tp->acts[i];

		if (a->kind != RSP_TPA_EXPR || a->stepping != stepping)
			continue;
		if (ax_eval(a->code, a->code_len, &env, NULL) != AX_OK)
			c->tr->expr_errors++;
	}
}

/* One frame for tp from the hit; false when the buffer refused it (the run ended). */
static bool collect(struct tpoints_ctx *c, struct tpoints_tp *tp, bool stepping)
{
	struct tpoints *tr = c->tr;
	const struct tpoints_plan *pl = &tp->plan[stepping];
	uint8_t *r;

	if (tracebuf_begin(tr->tb, (uint16_t)tp->def.num, pl->max, &c->b)) {
		tp->dropped++;
		tpoints_end_run(tr, RSP_TSTOP_FULL, 0, NULL);
		return false;
	}
	if (pl->need_fp)
		load_regs(c, true);
	/* Registers only when an action asked for them (gdbserver too): then the whole g block,
	 * as gdb's trace file has one register block size; a frame without one shows its pc
	 * (the tracepoint's address) and every other register unavailable. */
	if (pl->regs && (r = tracebuf_put_regs(&c->b, tr->layout->g_size)))
		memcpy(r, c->g, tr->layout->g_size);
	collect_mem(c, pl);
	run_exprs(c, tp, stepping);
	tp->bytes += c->b.len;
	tp->stored++;
	tracebuf_commit(tr->tb, &c->b);
	return true;
}

static void check_pass(struct tpoints *tr, struct tpoints_tp *tp)
{
	if (tp->def.pass_count && tp->hits >= tp->def.pass_count)
		tpoints_end_run(tr, RSP_TSTOP_PASSCOUNT, tp->def.num, NULL);
}

void tpoints_record_hit(struct tpoints_tp *tp, const struct probe_hit *hit,
			const struct agent_rec *rec)
{
	struct tpoints *tr = tp->tr;
	struct tpoints_ctx c;

	if (!tr->running || !tp->def.enabled)
		return;
	c.tr = tr;
	c.hit = hit;
	c.rec = rec;
	c.tsv_rec = rec && tp->tsv_in_agent;
	c.tsv_cursor = 0;
	load_regs(&c, false);
	if (!condition_holds(&c, tp))
		return;
	tp->hits++;
	if (collect(&c, tp, false))
		check_pass(tr, tp);
}

enum probe_verdict tpoints_on_hit(void *ctx, const struct probe_hit *hit)
{
	struct tpoints_tp *tp = ctx;
	struct tpoints *tr = tp->tr;
	struct tpoints_ctx c;

	if (!tr->running || !tp->def.enabled)
		return PROBE_RESUME;
	c.tr = tr;
	c.hit = hit;
	c.rec = NULL;
	c.tsv_rec = false;
	load_regs(&c, false);
	if (hit->step == 0) {
		if (!condition_holds(&c, tp))
			return PROBE_RESUME;
		tp->hits++;
		if (!collect(&c, tp, false))
			return PROBE_RESUME;
		if (tp->def.step_count)
			return PROBE_STEP;
		check_pass(tr, tp);
		return PROBE_RESUME;
	}
	if (!collect(&c, tp, true))
		return PROBE_RESUME;
	if (hit->step < tp->def.step_count)
		return PROBE_STEP;
	check_pass(tr, tp);
	return PROBE_RESUME;
}
