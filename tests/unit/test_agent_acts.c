/* Unit tests for gdb's collect expressions run by the in-process agent (stub/agent/rt.c,
 * compiled in here, hosted): random expressions with every trace op over memory that ends in
 * an unreadable page and holds pointers, run by the agent into a record, then evaluated by
 * tracestub's evaluator (protocol/ax.c) twice: over the live memory, and over nothing but the
 * record (as tracestub does when it drains). Both must record the same blocks with the same
 * bytes and end the same way. Also: the record is cut to its budget, never past it; what
 * agent_acts_add takes and refuses. Under ASan and UBSan. TAP. */
#include "stub/agent/rt.c" /* first: its own syscall numbers */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/uio.h>

#include "protocol/ax.h"
#include "stub/agent/agent.h"

#define RND_SEED 0x2545f4914f6cdd1dull
#include "tests/unit/xorshift.h"

static int n_test, failed;

static void ok(int cond, const char *name)
{
	n_test++;
	failed |= !cond;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_test, name);
}

/* A fake pad frame: 16 words below a 128-byte red zone at the top of a stack page. */
static uint8_t stack[2 * 4096] __attribute__((aligned(4096)));
static uint64_t *G;
static const struct agent_site *S;

/* What one evaluation recorded: blocks in order, each with the bytes it got. */
#define MAXB 64
struct seen {
	unsigned n;
	uint64_t addr[MAXB], len[MAXB];
	size_t got[MAXB];
	uint8_t bytes[MAXB][256];
	const struct agent_rec *rec; /* NULL: the live memory */
};

static size_t read_from(struct seen *w, uint64_t addr, uint8_t *buf, size_t len)
{
	struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};
	ssize_t n;

	if (w->rec)
		return agent_rec_read(w->rec, addr, buf, len);
	n = process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	return n > 0 ? (size_t)n : 0;
}

static int env_reg(void *ctx, unsigned regno, uint64_t *v)
{
	int r = agent_reg_of((int)regno);

	if (r < 0)
		return -ENOENT;
	*v = reg(G, S, (unsigned)r);
	return 0;
}

static int env_mem(void *ctx, uint64_t addr, uint8_t *buf, size_t len)
{
	return read_from(ctx, addr, buf, len) == len ? 0 : -EFAULT;
}

static int env_record(void *ctx, uint64_t addr, uint64_t len)
{
	struct seen *w = ctx;
	size_t n = len < 256 ? (size_t)len : 256;

	if (w->n == MAXB)
		return -ENOSPC;
	w->addr[w->n] = addr;
	w->len[w->n] = len;
	w->got[w->n] = read_from(w, addr, w->bytes[w->n], n);
	w->n++;
	return 0;
}

static enum ax_status eval(struct seen *w, const uint8_t *code, size_t len)
{
	struct ax_env env = {
		.ctx = w, .read_reg = env_reg, .read_mem = env_mem, .record_mem = env_record};
	struct ax_result res;

	w->n = 0;
	return ax_eval(code, len, &env, &res);
}

static bool same(const struct seen *x, const struct seen *y)
{
	if (x->n != y->n)
		return false;
	for (unsigned i = 0; i < x->n; i++)
		if (x->addr[i] != y->addr[i] || x->len[i] != y->len[i] || x->got[i] != y->got[i] ||
		    memcmp(x->bytes[i], y->bytes[i], x->got[i]))
			return false;
	return true;
}

/* rdi + off: 26 0005 22 off 02 */
static size_t at_rdi(uint8_t *c, size_t n, unsigned off)
{
	c[n++] = 0x26;
	put_be(c + n, 5, 2);
	n += 2;
	c[n++] = 0x22;
	c[n++] = (uint8_t)off;
	c[n++] = 0x02;
	return n;
}

/* A random action: a few collections of memory near rdi (the end of a readable page), of
 * what a pointer there points to, of C strings, and reads used as values. */
static size_t random_action(uint8_t *c)
{
	size_t n = 0;
	int k = 1 + (int)(rnd() % 5);

	for (int i = 0; i < k; i++) {
		unsigned off = (unsigned)(rnd() % 200);

		n = at_rdi(c, n, off);
		if (rnd() % 4 == 0) { /* zero_ext 64 (gdb's, a no-op) or 48 (interpreted) */
			c[n++] = 0x2a;
			c[n++] = rnd() % 2 ? 64 : 48;
		}
		switch (rnd() % 6) {
		case 0: /* trace_quick n; pop */
			c[n++] = 0x0d;
			c[n++] = (uint8_t)(1 + rnd() % 64);
			c[n++] = 0x29;
			break;
		case 1: /* trace16 n; pop */
			c[n++] = 0x30;
			put_be(c + n, 1 + rnd() % 200, 2);
			n += 2;
			c[n++] = 0x29;
			break;
		case 2: /* const size; trace */
			c[n++] = 0x22;
			c[n++] = (uint8_t)(1 + rnd() % 120);
			c[n++] = 0x0c;
			break;
		case 3: /* const limit; tracenz */
			c[n++] = 0x22;
			c[n++] = (uint8_t)(1 + rnd() % 100);
			c[n++] = 0x2f;
			break;
		case 4: /* *p@size: the pointer kept, then what it points to */
			c[n++] = 0x0d;
			c[n++] = 8;
			c[n++] = 0x1a;
			c[n++] = 0x22;
			c[n++] = (uint8_t)(1 + rnd() % 48);
			c[n++] = 0x0c;
			break;
		default: /* a read used as a value: the size of the next trace */
			c[n++] = 0x17;
			n = at_rdi(c, n, (unsigned)(rnd() % 64));
			c[n++] = 0x2b;
			c[n++] = 0x0c;
			break;
		}
	}
	c[n++] = 0x27;
	return n;
}

static struct seen live, fromrec;
static const uint8_t *cur_code;
static size_t cur_len, drained;
static enum ax_status st_rec;
static uint32_t rec_len_seen;

static void on_hit(void *ctx, const struct agent_hit *h)
{
	fromrec.rec = h->rec;
	st_rec = eval(&fromrec, cur_code, cur_len);
	rec_len_seen = h->rec->len;
	drained++;
}

/* The trace state variable blocks of a record, in order: getv, setv, tracev of $3. */
static int64_t tsv_seen[3];

static void on_tsv_hit(void *ctx, const struct agent_hit *h)
{
	uint32_t cur = 0;

	memset(tsv_seen, 0xff, sizeof(tsv_seen));
	for (int i = 0; i < 3; i++)
		if (!agent_rec_tsv(h->rec, &cur, 3, &tsv_seen[i]))
			break;
	drained++;
}

int main(void)
{
	struct agent_opts o = {.ring_bytes = 65536, .nrings = 4};
	size_t sz = agent_map_size(&o);
	void *map = aligned_alloc(4096, sz);
	struct agent *a = NULL;
	int owner;
	uint8_t *m =
		mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	memset(map, 0, sz);
	ok(map && m != MAP_FAILED && !agent_open_mem(map, &o, getpid(), &a) && a,
	   "agent over local memory; a page whose next page is unreadable");
	mprotect(m + 4096, 4096, PROT_NONE);
	/* bytes with NULs now and then, and pointers into the page (some into nothing) */
	for (int i = 0; i < 4096; i++)
		m[i] = (uint8_t)(rnd() % 5 ? 'a' + rnd() % 26 : 0);
	for (int i = 3584; i + 8 <= 4096; i += 8) {
		uint64_t p = rnd() % 4 ? (uint64_t)(uintptr_t)(m + 3000 + rnd() % 1096) : 0x10;

		memcpy(m + i, &p, 8);
	}

	uint32_t id = agent_site_local(a, &owner, 0x401000);
	static struct agent_site s;
	struct agent_site_spec sp;
	unsigned tried = 0, agree = 0, faults = 0, cut = 0, mem_ops = 0;

	G = (uint64_t *)(stack + 4096 - 256 - 128 - 16 * 8);
	S = &s;
	live.rec = NULL;
	for (int round = 0; round < 3000; round++) {
		uint8_t code[512];
		size_t len = random_action(code);
		struct ax_verify_info vi;
		enum ax_status st_live;

		if (ax_verify(code, len, &vi) != AX_OK)
			continue;
		memset(&sp, 0, sizeof(sp));
		if (!agent_acts_add(&sp, code, len, vi.max_depth))
			continue;
		memset(&s, 0, sizeof(s));
		s.id = id;
		s.addr = 0x401000;
		s.red_zone = 128;
		memcpy(s.ops, sp.ops, sp.nops * sizeof(s.ops[0])); /* those that became ops */
		s.nops = sp.nops;
		mem_ops += sp.nops > 0;
		s.rec_len = (agent_rec_len(s.ops, s.nops) + sp.acts_budget + 31) & ~31u;
		memcpy(s.acts, sp.acts, sp.acts_len);
		s.acts_len = sp.acts_len;
		for (int i = 0; i < 16; i++)
			G[i] = rnd();
		G[AGENT_RDI] = (uint64_t)(uintptr_t)(m + 3584 + 8 * (rnd() % 56));
		tried++;
		st_live = eval(&live, code, len);
		faults += st_live != AX_OK;
		cur_code = code;
		cur_len = len;
		drained = 0;
		agent_hit(G, &s, (struct agent_hdr *)map);
		agent_drain(a, on_hit, NULL);
		if (drained == 1 && st_rec == st_live && same(&live, &fromrec) &&
		    rec_len_seen <= s.rec_len)
			agree++;
		else if (tried - agree < 4)
			printf("# round %d: live %d (%u blocks), record %d (%u blocks), drained "
			       "%zu\n",
			       round, (int)st_live, live.n, (int)st_rec, fromrec.n, drained);
		cut += rec_len_seen < s.rec_len;
	}
	printf("# %u actions (%u became MEM ops), %u agree, %u stopped by a fault, %u records "
	       "shorter than their budget\n",
	       tried, mem_ops, agree, faults, cut);
	ok(tried > 2500 && agree == tried && faults > 100 && tried - faults > 1000,
	   "random actions: the record holds every byte tracestub's evaluation needs, the same "
	   "blocks and bytes as over the live memory");
	ok(cut > 100, "a record is as long as what was written, not its budget");
	ok(mem_ops > 100 && mem_ops < tried - 100, "some actions became MEM ops, not all");

	/* gdb's collect of a local at -O0 (rbp + 16 - 36, 4 bytes) and of 64 bytes at rsp (gdb
	 * 13's bytes: reg 7, zero_ext 64, const8 64, trace): ops */
	{
		static const uint8_t local[] = {0x26, 0, 6,    0x22, 0x10, 0x02, 0x22, 0xdc,
						0x16, 8, 0x02, 0x22, 4,	   0x0c, 0x27},
				     at_rsp[] = {0x26, 0, 7, 0x2a, 64, 0x22, 64, 0x0c, 0x27},
				     trunc[] = {0x26, 0, 7, 0x2a, 32, 0x22, 64, 0x0c, 0x27};

		memset(&sp, 0, sizeof(sp));
		ok(agent_acts_add(&sp, local, sizeof(local), 2) &&
			   agent_acts_add(&sp, at_rsp, sizeof(at_rsp), 2) && sp.acts_len == 0 &&
			   sp.nops == 2 && sp.ops[0].reg == AGENT_RBP && sp.ops[0].off == -20 &&
			   sp.ops[0].len == 4 && sp.ops[1].reg == AGENT_RSP && sp.ops[1].off == 0 &&
			   sp.ops[1].len == 64,
		   "a local at -O0 and *(char (*)[64])$rsp: MEM ops, no bytecode to interpret");
		ok(agent_acts_add(&sp, trunc, sizeof(trunc), 2) && sp.nops == 2 &&
			   sp.acts_len == sizeof(trunc) + 2,
		   "a register cut to 32 bits: interpreted, not a MEM op");
	}

	/* a budget too small: the blocks are cut to it, never past */
	{
		uint8_t code[32];
		size_t n = at_rdi(code, 0, 0);

		code[n++] = 0x22;
		code[n++] = 200;
		code[n++] = 0x0c;
		code[n++] = 0x27;
		memset(&s, 0, sizeof(s));
		s.id = id;
		s.addr = 0x401000;
		s.red_zone = 128;
		s.rec_len = agent_rec_len(s.ops, 0) + 64;
		s.acts[0] = (uint8_t)n;
		memcpy(s.acts + 2, code, n);
		s.acts_len = (uint32_t)n + 2;
		G[AGENT_RDI] = (uint64_t)(uintptr_t)m;
		cur_code = code;
		cur_len = n;
		drained = 0;
		agent_hit(G, &s, (struct agent_hdr *)map);
		agent_drain(a, on_hit, NULL);
		ok(drained == 1 && rec_len_seen <= s.rec_len && fromrec.n == 1 &&
			   fromrec.got[0] == 64 - sizeof(struct agent_blk) &&
			   !memcmp(fromrec.bytes[0], m, fromrec.got[0]),
		   "a trace bigger than the record's room: cut to the room, the bytes right");
	}

	/* what the agent takes */
	static const uint8_t tsv[] = {0x2e, 0, 1, 0x27}, flt[] = {0x26, 0, 5, 0x1c, 0x27},
			     quick[] = {0x26, 0, 5, 0x1a, 0x0d, 8, 0x27}; /* through a pointer */
	uint8_t big[1100];
	memset(&sp, 0, sizeof(sp));
	ok(!agent_acts_add(&sp, tsv, sizeof(tsv), 1) && !agent_acts_add(&sp, flt, sizeof(flt), 1) &&
		   !agent_acts_add(&sp, quick, sizeof(quick), AGENT_COND_DEPTH + 1) &&
		   sp.acts_len == 0,
	   "trace state variables, floats and deep stacks stay with tracestub");
	ok(agent_acts_add(&sp, quick, sizeof(quick), 1) && sp.acts_len == sizeof(quick) + 2 &&
		   sp.acts_budget == 2 * (sizeof(struct agent_blk) + 8),
	   "*(rdi) traced 8 bytes: its budget is two 8-byte blocks (the pointer, what it points "
	   "to)");
	memset(big, 0x28, sizeof(big));
	ok(!agent_acts_add(&sp, big, sizeof(big), 1) && sp.acts_len == sizeof(quick) + 2,
	   "an expression longer than the room left is refused, the others stay");
	ok(!agent_cond_fits(quick, sizeof(quick), 1, NULL, NULL), "a trace op is no condition");

	/* trace state variables: `teval $n = $n + 1` then `collect $n` (tracev) on the agent's
	 * table, their values in the record in the order the ops ran; a condition on one */
	{
		static const uint8_t incr[] = {0x2c, 0, 3, 0x22, 1, 0x02, 0x2d, 0, 3, 0x27},
				     tracev[] = {0x2e, 0, 3, 0x27},
				     below[] = {0x2c, 0, 3, 0x22, 3, 0x14, 0x27}; /* $n < 3 */
		uint64_t tsv_ok[AGENT_MAX_TSV / 64] = {1ull << 3}, tsv_no[AGENT_MAX_TSV / 64] = {0};
		struct agent_hdr *hd = (struct agent_hdr *)map;
		bool ut = false;
		unsigned recs = 0, inorder = 0;

		memset(&sp, 0, sizeof(sp));
		sp.tsv_ok = tsv_no;
		ok(!agent_acts_add(&sp, incr, sizeof(incr), 2) &&
			   !agent_cond_fits(below, sizeof(below), 2, tsv_no, NULL),
		   "a trace state variable the agent was not given: not the agent's");
		sp.tsv_ok = tsv_ok;
		ok(agent_acts_add(&sp, incr, sizeof(incr), 2) &&
			   agent_acts_add(&sp, tracev, sizeof(tracev), 1) && sp.tsv &&
			   agent_cond_fits(below, sizeof(below), 2, tsv_ok, &ut) && ut,
		   "getv, setv, tracev of a variable it holds: the agent's, the site marked");
		memset(&s, 0, sizeof(s));
		s.id = id;
		s.addr = 0x401000;
		s.red_zone = 128;
		s.tsv = 1;
		s.rec_len = (agent_rec_len(s.ops, 0) + sp.acts_budget + 31) & ~31u;
		memcpy(s.acts, sp.acts, sp.acts_len);
		s.acts_len = sp.acts_len;
		memcpy(s.cond, below, sizeof(below));
		s.cond_len = sizeof(below);
		hd->tsv[3] = 0;
		for (int i = 0; i < 5; i++) { /* $n < 3: three records, $n ends at 3 */
			drained = 0;
			cur_code = incr;
			cur_len = sizeof(incr);
			agent_hit(G, &s, hd);
			agent_drain(a, on_tsv_hit, NULL);
			recs += (unsigned)drained;
			inorder += drained && tsv_seen[0] == i && tsv_seen[1] == i + 1 &&
				   tsv_seen[2] == i + 1;
		}
		ok(recs == 3 && hd->tsv[3] == 3 && inorder == 3 && hd->tsv_lock == 0,
		   "condition $n < 3 at the hit: 3 records of 5 hits, $n = 3 after; each record "
		   "holds getv's n, setv's n + 1, tracev's n + 1");
	}

	/* gdb's passcount in the agent: the 3rd hit is recorded and stops every site; a new
	 * run records again */
	{
		struct agent_hdr *hd = (struct agent_hdr *)map;
		unsigned recs = 0;

		memset(&s, 0, sizeof(s));
		s.id = id;
		s.addr = 0x401000;
		s.red_zone = 128;
		s.pass = 3;
		s.rec_len = agent_rec_len(s.ops, 0);
		for (int i = 0; i < 5; i++) {
			drained = 0;
			cur_code = NULL;
			cur_len = 0;
			agent_hit(G, &s, hd);
			recs += (unsigned)agent_drain(a, on_tsv_hit, NULL);
		}
		ok(recs == 3 && hd->magic == 0 && hd->site_hits[id] == 3,
		   "passcount 3: 3 records of 5 hits, then the agent stops recording");
		agent_enable(a);
		agent_hit(G, &s, hd);
		ok(hd->magic == AGENT_MAGIC && agent_drain(a, on_tsv_hit, NULL) == 1 &&
			   hd->site_hits[id] == 1,
		   "agent_enable: recording again, the passcount from zero");
	}

	munmap(m, 2 * 4096);
	agent_free(a);
	free(map);
	printf("1..%d\n", n_test);
	return failed;
}
