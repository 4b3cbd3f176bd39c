/* Unit tests for the in-process agent (stub/agent/rt.c, compiled in here, hosted) and
 * tracestub's side of the rings (stub/agent/agent.c) over memory of this process: what a record
 * holds (registers, rsp and rip as the pad sees them, stack bytes, C and Go strings, a bad
 * pointer read as nothing), drops counted (a hit inside a hit, a full ring) and said by the
 * next record, the wrap, per-thread rings drained in timestamp order, a disabled agent.
 * Under ASan and UBSan like every unit test. TAP. */
#include "stub/agent/rt.c" /* first: its own syscall numbers */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/uio.h>

#include "protocol/ax.h"
#include "stub/agent/agent.h"

#define RND_SEED 0x9e3779b97f4a7c15ull
#include "tests/unit/xorshift.h"

static int n_test, failed;

static void ok(int cond, const char *name)
{
	n_test++;
	failed |= !cond;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_test, name);
}

#define MAXHITS 4096
static struct agent_hit hits[MAXHITS];
static struct agent_rec recs[MAXHITS]; /* headers only: blocks are read before returning */
static uint8_t blk[MAXHITS][64];
static size_t nhits, blkgot[MAXHITS];

static void on_hit(void *ctx, const struct agent_hit *h)
{
	if (nhits == MAXHITS)
		return;
	hits[nhits] = *h;
	recs[nhits] = *h->rec;
	blkgot[nhits] = agent_rec_read(h->rec, (uint64_t)(uintptr_t)ctx, blk[nhits], 64);
	nhits++;
}

/* A fake pad frame: 16 words at the top of a page-aligned stack, below a 128-byte red zone,
 * so rsp (as the pad computes it) is `rsp_off` bytes below the end of page 0. */
static uint8_t stack[3 * 4096] __attribute__((aligned(4096)));

static uint64_t *frame_at(size_t rsp_off)
{
	uint8_t *rsp = stack + 4096 - rsp_off;

	return (uint64_t *)(rsp - 128 - 16 * 8);
}

static struct agent_ring *ring_of_tid(struct agent_hdr *h, pid_t tid)
{
	for (uint32_t i = 0; i < h->nrings; i++)
		if (ring_at(h, i)->tid == tid)
			return ring_at(h, i);
	return NULL;
}

static struct agent_hdr *H;
static struct agent_site site_plain;

/* ---- conditions: the agent's evaluator against tracestub's (protocol/ax.c) ---- */

static const uint64_t *cond_g;
static const struct agent_site *cond_site;

static int env_reg(void *ctx, unsigned regno, uint64_t *v)
{
	int r = agent_reg_of((int)regno); /* tracestub's own mapping, not rt.c's table */

	if (r < 0)
		return -ENOENT;
	*v = reg(cond_g, cond_site, (unsigned)r);
	return 0;
}

static int env_mem(void *ctx, uint64_t addr, uint8_t *buf, size_t len)
{
	struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* A random straight-line condition over registers, constants and memory near rdi (some
 * reads fault), every op the agent runs but jumps; a forward if_goto now and then. */
static size_t random_cond(uint8_t *c, size_t cap)
{
	static const uint8_t bin[] = {0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
				      0x0a, 0x0b, 0x0f, 0x10, 0x11, 0x13, 0x14, 0x15};
	size_t n = 0;
	unsigned depth = 0;

	for (int k = 0; k < 24 && n + 16 < cap; k++) {
		unsigned pick = (unsigned)(rnd() % 10);

		if (depth < 2 || pick < 3) {
			unsigned w = (unsigned)(rnd() % 4);

			if (rnd() % 3 == 0) {
				c[n++] =
					0x26; /* reg: rax..r15 (not rsp/rip, whose values differ) */
				put_be(c + n, rnd() % 16 == 7 ? 0 : rnd() % 16, 2);
				n += 2;
			} else {
				c[n++] = (uint8_t)(0x22 + w);
				put_be(c + n, rnd() % 5 == 0 ? rnd() : rnd() % 9, 1u << w);
				n += 1u << w;
			}
			depth++;
			continue;
		}
		switch (pick) {
		case 3:
			c[n++] = bin[rnd() % sizeof(bin)];
			depth--;
			break;
		case 4: /* rdi + small offset, read: in the buffer, or off its end into nothing */
			c[n++] = 0x26;
			put_be(c + n, 5, 2);
			n += 2;
			c[n++] = 0x22;
			c[n++] = (uint8_t)(rnd() % 40);
			c[n++] = 0x02;
			c[n++] = (uint8_t)(0x17 + rnd() % 4);
			depth++;
			break;
		case 5:
			c[n++] = (uint8_t)(rnd() % 2 ? 0x16 : 0x2a);
			c[n++] = (uint8_t)(rnd() % 66);
			break;
		case 6:
			c[n++] = (uint8_t)(rnd() % 2 ? 0x0e : 0x12);
			break;
		case 7:
			c[n++] = (uint8_t)(rnd() % 2 ? 0x28 : 0x2b);
			depth += c[n - 1] == 0x28;
			break;
		case 8:
			if (depth >= 3) {
				c[n++] = 0x33;
			} else {
				c[n++] = 0x32;
				c[n++] = (uint8_t)(rnd() % depth);
				depth++;
			}
			break;
		default: /* dup; if_goto to the next instruction: both paths meet */
			c[n++] = 0x28;
			c[n++] = 0x20;
			put_be(c + n, n + 2, 2);
			n += 2;
			break;
		}
		if (depth > 20) {
			c[n++] = 0x29;
			depth--;
		}
	}
	c[n++] = 0x27;
	return n;
}

static void test_conditions(struct agent *a, uint32_t id)
{
	static uint8_t buf[4096] __attribute__((aligned(4096)));
	struct agent_site s = {.id = id, .nops = 1, .addr = 0x401000, .red_zone = 128};
	struct ax_env env = {.read_reg = env_reg, .read_mem = env_mem};
	uint64_t *g = frame_at(256);
	struct agent_ring *r;
	unsigned agree = 0, tried = 0, trues = 0, errs = 0, fits = 0;

	s.ops[0] = (struct agent_op){AGENT_OP_MEM, AGENT_RSP, 8, 0};
	s.rec_len = agent_rec_len(s.ops, s.nops);
	for (int i = 0; i < 4096; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	cond_g = g;
	cond_site = &s;
	for (int round = 0; round < 3000; round++) {
		struct ax_verify_info vi;
		struct ax_result res;
		enum ax_status st;
		uint64_t e0;
		int want;

		for (int i = 0; i < 16; i++)
			g[i] = rnd() % 4 == 0 ? rnd() : rnd() % 7;
		g[AGENT_RDI] = (uint64_t)(uintptr_t)buf + 4096 - 20; /* reads may run off the end */
		s.cond_len = (uint32_t)random_cond(s.cond, sizeof(s.cond));
		if (ax_verify(s.cond, s.cond_len, &vi) != AX_OK) {
			if (round < 3)
				printf("# not verified: %s at %zu\n", vi.reason, vi.pc);
			continue;
		}
		tried++;
		fits += agent_cond_fits(s.cond, s.cond_len, vi.max_depth, NULL, NULL);
		st = ax_eval(s.cond, s.cond_len, &env, &res);
		want = st == AX_OK ? res.has_value && res.value : -1;
		r = ring_of_tid(H, (pid_t)syscall(SYS_gettid));
		e0 = r ? r->cond_errors : 0;
		nhits = 0;
		agent_hit(g, &s, H);
		agent_drain(a, on_hit, NULL);
		r = ring_of_tid(H, (pid_t)syscall(SYS_gettid));
		if ((want == 1 && nhits == 1) ||
		    (want == 0 && nhits == 0 && r->cond_errors == e0) ||
		    (want == -1 && nhits == 0 && r->cond_errors == e0 + 1))
			agree++;
		else if (tried - agree < 4)
			printf("# round %d: ax_eval %d (status %d), agent %zu records, errors "
			       "%llu\n",
			       round, want, (int)st, nhits,
			       (unsigned long long)(r->cond_errors - e0));
		trues += want == 1;
		errs += want == -1;
	}
	ok(tried > 2000 && agree == tried && trues > 200 && errs > 50 && tried - trues - errs > 200,
	   "random conditions: the agent and tracestub's evaluator agree on every one");
	printf("# %u conditions: %u true, %u errors, %u agree, %u fit the agent\n", tried, trues,
	       errs, agree, fits);
	ok(fits == tried, "every generated condition fits the agent (depth, ops, length)");

	/* rsp and rip as the pad saw them, a loop, and what the agent refuses to take */
	static const uint8_t rsp_rip[] = {0x26, 0, 7, 0x26, 0, 16, 0x02, 0x27};
	uint64_t v_rsp = reg(g, &s, AGENT_RSP);
	memcpy(s.cond, rsp_rip, sizeof(rsp_rip));
	s.cond_len = sizeof(rsp_rip);
	nhits = 0;
	agent_hit(g, &s, H);
	agent_drain(a, on_hit, NULL);
	ok(nhits == (v_rsp + 0x401000 != 0), "reg rsp + reg rip: the site's values");
	/* count r = 5 down to 0 in a loop: 5 -> dup if_goto... ends false */
	static const uint8_t loop[] = {0x22, 5,	   0x28, 0x20, 0,    9, 0x27, 0x27,
				       0x27, 0x22, 1,	 0x03, 0x21, 0, 2};
	memcpy(s.cond, loop, sizeof(loop));
	s.cond_len = sizeof(loop);
	nhits = 0;
	agent_hit(g, &s, H);
	agent_drain(a, on_hit, NULL);
	ok(nhits == 0, "a goto loop counting 5 down to 0 ends false");
	static const uint8_t tsv[] = {0x2c, 0, 1, 0x27}, trace[] = {0x22, 1, 0x22, 1, 0x0c, 0x27};
	ok(!agent_cond_fits(tsv, sizeof(tsv), 1, NULL, NULL) &&
		   !agent_cond_fits(trace, sizeof(trace), 2, NULL, NULL) &&
		   !agent_cond_fits(rsp_rip, sizeof(rsp_rip), AGENT_COND_DEPTH + 1, NULL, NULL) &&
		   agent_cond_fits(rsp_rip, sizeof(rsp_rip), 2, NULL, NULL),
	   "trace state variables it was not given, trace ops and deep stacks stay with tracestub");
	s.cond_len = 0;
}

static void *other_thread(void *arg)
{
	uint64_t *g = frame_at(512);

	agent_hit(g, &site_plain, H);
	return NULL;
}

/* Hits of several threads at once, interleaved: each on a frame of its own stack. */
#define MT_THREADS 5
#define MT_HITS	   60
static pthread_barrier_t mt_go;

static void *hitting_thread(void *arg)
{
	uint64_t g[48] = {0}; /* 16 words, the red zone, the 16 bytes the site reads */

	pthread_barrier_wait(&mt_go);
	for (int i = 0; i < MT_HITS; i++) {
		g[AGENT_RAX] = (uint64_t)i;
		agent_hit(g, &site_plain, H);
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	struct agent_opts o = {.ring_bytes = 65536, .nrings = 8};
	size_t sz = agent_map_size(&o);
	void *map = aligned_alloc(4096, sz);
	struct agent *a = NULL;
	int owner1, owner2;
	static const char hello[] = "hello", gos[] = "abcdef";

	memset(map, 0, sz);
	ok(map && !agent_open_mem(map, &o, getpid(), &a) && a, "agent over local memory");
	H = map;
	uint32_t id1 = agent_site_local(a, &owner1, 0x401000);
	uint32_t id2 = agent_site_local(a, &owner2, 0x402000);

	/* ---- one hit, every kind of op ---- */
	struct agent_site s = {.id = id1, .nops = 5, .addr = 0x401000, .red_zone = 128};
	s.ops[0] = (struct agent_op){AGENT_OP_MEM, AGENT_RSP, 64, 0};
	s.ops[1] = (struct agent_op){AGENT_OP_STR, AGENT_RDI, 256, 0};
	s.ops[2] = (struct agent_op){AGENT_OP_STR, AGENT_RSI, 256, 0};
	s.ops[3] = (struct agent_op){AGENT_OP_GOSTR, AGENT_RDX, 256, AGENT_RCX};
	s.ops[4] = (struct agent_op){AGENT_OP_MEM, AGENT_RSP, 64, 4096 - 32}; /* crosses a page */
	s.rec_len = agent_rec_len(s.ops, s.nops);
	uint64_t *g = frame_at(256);
	uint64_t rsp = (uint64_t)(uintptr_t)(stack + 4096 - 256);
	for (int i = 0; i < 16; i++)
		g[i] = 0x1000 + (uint64_t)i;
	g[AGENT_RDI] = (uint64_t)(uintptr_t)hello;
	g[AGENT_RSI] = 0x10; /* not mapped */
	g[AGENT_RDX] = (uint64_t)(uintptr_t)gos;
	g[AGENT_RCX] = 3;
	for (int i = 0; i < 64; i++)
		stack[4096 - 256 + i] = (uint8_t)(i + 1);
	memset(stack + 4096 - 256 + 4096 - 32, 0x5a, 64);
	agent_hit(g, &s, H);
	nhits = 0;
	ok(agent_drain(a, on_hit, (void *)(uintptr_t)rsp) == 1 && nhits == 1, "one record drained");
	ok(hits[0].owner == &owner1 && hits[0].addr == 0x401000 &&
		   hits[0].tid == (pid_t)syscall(SYS_gettid) && hits[0].pid == getpid(),
	   "its site, thread and process");
	ok(hits[0].regs.rdi == (uint64_t)(uintptr_t)hello && hits[0].regs.r15 == 0x1000 &&
		   hits[0].regs.rsp == rsp && hits[0].regs.rip == 0x401000,
	   "registers as pushed, rsp above the red zone, rip the site");
	ok(blkgot[0] == 64 && blk[0][0] == 1 && blk[0][63] == 64, "64 stack bytes at rsp");
	ok(recs[0].nblk == 5 && recs[0].len % AGENT_REC_ALIGN == 0, "five blocks, aligned length");

	/* re-read the record's blocks through a fresh drain of a second hit */
	g[AGENT_RCX] = 1000; /* a Go string longer than what is asked (256): capped */
	agent_hit(g, &s, H);
	struct agent_ring *r = ring_of_tid(H, (pid_t)syscall(SYS_gettid));
	/* the ring was fresh: the second record follows the first */
	const struct agent_rec *rec =
		(const struct agent_rec *)((uint8_t *)r + sizeof(*r) + recs[0].len);
	uint8_t b[300];
	/* (another block may hold more of the bytes from there: the most is what is read) */
	ok(agent_rec_read(rec, (uint64_t)(uintptr_t)hello, b, 256) >= 6 && !memcmp(b, "hello", 6),
	   "C string: up to and with its NUL");
	ok(agent_rec_read(rec, 0x10, b, 16) == 0, "a pointer to nothing: nothing read, no crash");
	ok(agent_rec_read(rec, (uint64_t)(uintptr_t)gos, b, 300) == 256 && !memcmp(b, "abcdef", 6),
	   "Go string: its length in bytes, capped at what the op asks");
	ok(agent_rec_read(rec, rsp + 4096 - 32, b, 64) == 64 && b[0] == 0x5a && b[63] == 0x5a,
	   "a block across a page boundary (read by the kernel)");
	ok(agent_rec_read(rec, rsp + 60, b, 16) == 4, "a read running off a block: what it holds");
	nhits = 0;
	agent_drain(a, on_hit, NULL);

	/* a Go slice: its length in elements times their size */
	static const int64_t elems[4] = {7, 8, 9, 10};
	struct agent_site sl = {.id = id1, .nops = 1, .addr = 0x401000, .red_zone = 128};
	sl.ops[0] = (struct agent_op){AGENT_OP_GOSTR, AGENT_RAX, 128, AGENT_RBX | (8 << 8)};
	sl.rec_len = agent_rec_len(sl.ops, sl.nops);
	g[AGENT_RAX] = (uint64_t)(uintptr_t)elems;
	g[AGENT_RBX] = 3;
	agent_hit(g, &sl, H);
	nhits = 0;
	agent_drain(a, on_hit, (void *)(uintptr_t)elems);
	ok(nhits == 1 && blkgot[0] == 24 && !memcmp(blk[0], elems, 24),
	   "Go slice: 3 elements of 8 bytes");

	/* a std::string by reference: the object (pointer, length, ...), then the characters */
	static const char chars[] = "a longer string than fits inline";
	uint64_t obj[4] = {(uint64_t)(uintptr_t)chars, 9, 0, 0};
	sl.ops[0] = (struct agent_op){AGENT_OP_CXXSTR, AGENT_RDI, 256, 32};
	sl.rec_len = agent_rec_len(sl.ops, sl.nops);
	g[AGENT_RDI] = (uint64_t)(uintptr_t)obj;
	agent_hit(g, &sl, H);
	nhits = 0;
	agent_drain(a, on_hit, (void *)(uintptr_t)chars);
	ok(nhits == 1 && recs[0].nblk == 2 && blkgot[0] == 9 && !memcmp(blk[0], "a longer ", 9),
	   "std::string: two blocks, the object and its 9 characters");

	/* ---- drops ---- */
	r->busy = 1;
	agent_hit(g, &s, H);
	r->busy = 0;
	ok(r->dropped[id1] == 1 && r->lost,
	   "a hit inside a hit of the same thread: dropped, counted");
	site_plain = (struct agent_site){.id = id2, .nops = 1, .addr = 0x402000, .red_zone = 128};
	site_plain.ops[0] = (struct agent_op){AGENT_OP_MEM, AGENT_RSP, 16, 0};
	site_plain.rec_len = agent_rec_len(site_plain.ops, site_plain.nops);
	agent_hit(frame_at(512), &site_plain, H);
	nhits = 0;
	agent_drain(a, on_hit, NULL);
	ok(nhits == 1 && (recs[0].flags & AGENT_REC_AFTER_LOSS) && !r->lost,
	   "the next record says hits were lost before it");
	ok(agent_dropped(a, &owner1) == 1 && agent_dropped(a, &owner2) == 0,
	   "drops counted per site");

	size_t n = 0;
	uint64_t before = r->dropped[id2];
	for (int i = 0; i < 1000; i++, n++)
		agent_hit(frame_at(512), &site_plain, H);
	uint64_t dropped = r->dropped[id2] - before;
	nhits = 0;
	agent_drain(a, on_hit, NULL);
	ok(dropped > 0 && nhits + dropped == n, "a full ring: every hit stored or counted dropped");
	uint64_t lap = r->head / H->ring_bytes;
	size_t got = 0;
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 150; i++)
			agent_hit(frame_at(512), &site_plain, H);
		nhits = 0;
		agent_drain(a, on_hit, NULL);
		got += nhits;
	}
	ok(got == 300 && r->head == r->tail && r->head / H->ring_bytes > lap,
	   "across the ring's end (a skip record): 300 more in two rounds, all there");

	/* ---- another thread: its own ring, drained in time order ---- */
	pthread_t th;
	agent_hit(frame_at(512), &site_plain, H);
	pthread_create(&th, NULL, other_thread, NULL);
	pthread_join(th, NULL);
	agent_hit(frame_at(512), &site_plain, H);
	nhits = 0;
	agent_drain(a, on_hit, NULL);
	ok(nhits == 3 && hits[1].tid != hits[0].tid && hits[2].tid == hits[0].tid &&
		   recs[0].tsc <= recs[1].tsc && recs[1].tsc <= recs[2].tsc,
	   "another thread's ring; records handed out by timestamp across rings");
	ok(hits[1].time_ns >= hits[0].time_ns && hits[2].time_ns >= hits[1].time_ns,
	   "timestamps on CLOCK_MONOTONIC, in order");
	agent_thread_gone(a, hits[1].tid);
	ok(!ring_of_tid(H, hits[1].tid), "a gone thread's drained ring is free again");

	/* ---- 5 threads at once: one drain merges their rings by timestamp ---- */
	{
		pthread_t mt[MT_THREADS];
		bool sorted = true, own_order = true;
		int per[MT_THREADS + 1] = {0};
		int32_t tids[MT_THREADS];
		size_t ntids = 0;

		pthread_barrier_init(&mt_go, NULL, MT_THREADS);
		for (int i = 0; i < MT_THREADS; i++)
			pthread_create(&mt[i], NULL, hitting_thread, NULL);
		for (int i = 0; i < MT_THREADS; i++)
			pthread_join(mt[i], NULL);
		pthread_barrier_destroy(&mt_go);
		nhits = 0;
		agent_drain(a, on_hit, NULL);
		for (size_t i = 0; i < nhits; i++) {
			size_t k = 0;

			while (k < ntids && tids[k] != hits[i].tid)
				k++;
			if (k == ntids && ntids < MT_THREADS)
				tids[ntids++] = hits[i].tid;
			if (i && recs[i].tsc < recs[i - 1].tsc)
				sorted = false;
			/* a thread's records come in the order it hit: rax counts up */
			if (hits[i].regs.rax != (uint64_t)per[k < MT_THREADS ? k : MT_THREADS])
				own_order = false;
			per[k < MT_THREADS ? k : MT_THREADS]++;
		}
		ok(nhits == MT_THREADS * MT_HITS && ntids == MT_THREADS && !per[MT_THREADS],
		   "5 threads' 300 hits, all drained");
		ok(sorted && own_order, "merged by timestamp, each thread's in the order it hit");
		for (size_t k = 0; k < ntids; k++)
			agent_thread_gone(a, tids[k]);
	}

	/* a C string whose pointer is in a stack slot (a line probe at -O0): pointer, string */
	{
		struct agent_site ps = {.id = id1, .nops = 2, .addr = 0x401000, .red_zone = 128};
		uint64_t *pg = frame_at(256);
		uint64_t prsp = (uint64_t)(uintptr_t)(stack + 4096 - 256);
		const char *sp_ = hello;
		uint8_t sb[64];

		ps.ops[0] = (struct agent_op){AGENT_OP_PSTR, AGENT_RBP, 256, -24};
		ps.ops[1] = (struct agent_op){AGENT_OP_PSTR, AGENT_RBP, 256, -32};
		ps.rec_len = agent_rec_len(ps.ops, ps.nops);
		pg[AGENT_RBP] = prsp + 64;
		memcpy(stack + 4096 - 256 + 64 - 24, &sp_, 8);
		memset(stack + 4096 - 256 + 64 - 32, 0x11, 8); /* a pointer to nothing */
		nhits = 0;
		agent_hit(pg, &ps, H);
		r = ring_of_tid(H, (pid_t)syscall(SYS_gettid));
		const struct agent_rec *pr =
			(const struct agent_rec *)((uint8_t *)r + sizeof(*r) +
						   (r->head - ps.rec_len) % H->ring_bytes);
		ok(agent_rec_read(pr, (uint64_t)(uintptr_t)hello, sb, 64) == 6 &&
			   !memcmp(sb, "hello", 6),
		   "PSTR: the pointer read from its slot, then the string, NUL included");
		ok(pr->nblk == 2 && agent_rec_read(pr, 0x1111111111111111ull, sb, 8) == 0,
		   "PSTR: a slot holding a bad pointer reads as nothing, no crash");
		agent_drain(a, on_hit, NULL);
	}

	test_conditions(a, id1);

	/* ---- disabled ---- */
	agent_disable(a);
	agent_hit(frame_at(512), &site_plain, H);
	nhits = 0;
	ok(agent_drain(a, on_hit, NULL) == 0, "disabled: a hit records nothing");

	agent_free(a);
	free(map);
	printf("1..%d\n", n_test);
	return failed;
}
