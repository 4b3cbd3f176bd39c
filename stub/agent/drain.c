/* The agent's tracestub side, reading: records drained from the rings in timestamp order,
 * their TSC on CLOCK_MONOTONIC, the counters the agent keeps, rings freed as threads go (see
 * agent.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "stub/agent/agent.h"
#include "stub/agent/internal.h"

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void clock_point(uint64_t *tsc, uint64_t *ns)
{
	*tsc = rdtsc();
	*ns = mono_ns();
}

static uint64_t to_ns(const struct agent *a, uint64_t tsc)
{
	return a->ans + (uint64_t)(int64_t)((double)(int64_t)(tsc - a->atsc) * a->k);
}

#define RECALIBRATE_NS 100000000ull

/* A new clock point: a better slope, the anchor moved along the old line. */
static void recalibrate(struct agent *a)
{
	uint64_t tsc, ns;

	clock_point(&tsc, &ns);
	if (tsc <= a->tsc0 || ns <= a->ns0)
		return;
	if (a->k > 0 && (double)(tsc - a->last_tsc) * a->k < (double)RECALIBRATE_NS)
		return;
	if (a->k > 0) {
		a->ans = to_ns(a, tsc);
		a->atsc = tsc;
	} else {
		a->ans = a->ns0;
		a->atsc = a->tsc0;
	}
	a->k = (double)(ns - a->ns0) / (double)(tsc - a->tsc0);
	a->last_tsc = tsc;
}

void agent_clock_start(struct agent *a)
{
	struct timespec ms = {0, 2000000};

	clock_point(&a->tsc0, &a->ns0);
	nanosleep(&ms, NULL);
	recalibrate(a);
}

static struct agent_ring *ring_at(const struct agent *a, uint32_t i)
{
	return (struct agent_ring *)(a->map + a->h->ring_off + (uint64_t)i * a->h->ring_stride);
}

static const struct agent_rec *rec_at(const struct agent *a, struct agent_ring *r, uint64_t off)
{
	return (const struct agent_rec *)((const uint8_t *)r + sizeof(*r) +
					  (off & (a->h->ring_bytes - 1)));
}

/* Merge nruns runs of records, each in timestamp order (one ring: one thread, in the order
 * it hit), pairwise until one is left; returns where the merged records are (src or tmp).
 * A thread's own records keep their ring's order whatever their timestamps say. */
static const struct agent_rec **merge_runs(const struct agent_rec **src,
					   const struct agent_rec **tmp, size_t *runs, size_t nruns)
{
	while (nruns > 1) {
		const struct agent_rec **t = src;
		size_t out = 0, k = 0;

		for (size_t r = 0; r < nruns; r += 2, k++) {
			size_t i = runs[r], ie = runs[r + 1];
			size_t j = r + 1 < nruns ? runs[r + 1] : ie,
			       je = r + 1 < nruns ? runs[r + 2] : ie;

			runs[k] = out;
			while (i < ie && j < je)
				tmp[out++] = src[j]->tsc < src[i]->tsc ? src[j++] : src[i++];
			while (i < ie)
				tmp[out++] = src[i++];
			while (j < je)
				tmp[out++] = src[j++];
		}
		runs[k] = out;
		nruns = k;
		src = tmp;
		tmp = t;
	}
	return src;
}

static void regs_of(const struct agent_rec *rec, struct user_regs_struct *r)
{
	const uint64_t *g = rec->regs;

	memset(r, 0, sizeof(*r));
	r->r15 = g[AGENT_R15];
	r->r14 = g[AGENT_R14];
	r->r13 = g[AGENT_R13];
	r->r12 = g[AGENT_R12];
	r->r11 = g[AGENT_R11];
	r->r10 = g[AGENT_R10];
	r->r9 = g[AGENT_R9];
	r->r8 = g[AGENT_R8];
	r->rdi = g[AGENT_RDI];
	r->rsi = g[AGENT_RSI];
	r->rbp = g[AGENT_RBP];
	r->rbx = g[AGENT_RBX];
	r->rdx = g[AGENT_RDX];
	r->rcx = g[AGENT_RCX];
	r->rax = g[AGENT_RAX];
	r->eflags = g[AGENT_RFLAGS];
	r->rsp = g[AGENT_RSP];
	r->rip = g[AGENT_RIP];
	r->orig_rax = (unsigned long long)-1;
	r->cs = 0x33;
	r->ss = 0x2b;
}

/* Thread ids come from gettid until glibc's thread block (at the fs base) is seen to hold the
 * same id the kernel gives: then the agent reads it there (no syscall). The agent checks at a
 * thread's first hit; this checks a drained record too (where the agent's own read failed). */
static void check_tid_offset(struct agent *a, const struct agent_rec *rec)
{
	int32_t v = 0;
	struct iovec lo = {&v, sizeof(v)},
		     re = {(void *)(uintptr_t)(rec->fs + AGENT_GLIBC_TID_OFFSET), sizeof(v)};

	if (!rec->fs || a->h->tid_off)
		return;
	a->tid_checked = true;
	if (process_vm_readv(rec->pid, &lo, 1, &re, 1, 0) == sizeof(v) && v == rec->tid)
		__atomic_store_n(&a->h->tid_off, AGENT_GLIBC_TID_OFFSET, __ATOMIC_RELEASE);
}

/* One batch: complete records of every ring below its snapshot head, up to MAX_BATCH,
 * handed out by timestamp, then their bytes freed. */
static size_t drain_batch(struct agent *a, const uint64_t *upto, agent_hit_fn fn, void *ctx)
{
	uint64_t *tails = a->tails;
	const struct agent_rec **recs;
	size_t n = 0, nruns = 0;

	for (uint32_t i = 0; i < a->h->nrings; i++) {
		struct agent_ring *r = ring_at(a, i);
		uint64_t tail = r->tail;

		tails[i] = tail;
		if (tail >= upto[i]) /* nothing (more) to read: not touched */
			continue;
		a->runs[nruns++] = n;
		while (tail < upto[i] && n < MAX_BATCH) {
			const struct agent_rec *rec = rec_at(a, r, tail);

			if (__atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE) != tail + 1 ||
			    rec->len < AGENT_REC_ALIGN || rec->len > a->h->ring_bytes)
				break;
			if (rec->site != AGENT_SITE_SKIP)
				a->batch[n++] = rec;
			tail += rec->len;
		}
		tails[i] = tail;
	}
	a->runs[nruns] = n;
	recs = merge_runs(a->batch, a->batch + MAX_BATCH, a->runs, nruns);
	for (size_t i = 0; i < n; i++) {
		const struct agent_rec *rec = recs[i];
		struct agent_hit h = {.rec = rec,
				      .pid = rec->pid,
				      .tid = rec->tid,
				      .time_ns = to_ns(a, rec->tsc)};

		if (rec->site >= a->nsites)
			continue;
		h.owner = a->sites[rec->site].owner;
		h.addr = a->sites[rec->site].addr;
		regs_of(rec, &h.regs);
		if (!a->tid_checked)
			check_tid_offset(a, rec);
		fn(ctx, &h);
	}
	/* only the tails that moved: each sits on the cache line its producer reads per hit */
	for (uint32_t i = 0; i < a->h->nrings; i++)
		if (tails[i] != ring_at(a, i)->tail)
			__atomic_store_n(&ring_at(a, i)->tail, tails[i], __ATOMIC_RELEASE);
	return n;
}

size_t agent_drain(struct agent *a, agent_hit_fn fn, void *ctx)
{
	size_t total = 0, n;

	if (!a->map)
		return 0;
	recalibrate(a);
	/* What is there now, not what the program writes meanwhile: the caller is not held up
	 * by a program that hits faster than records are handled. */
	for (uint32_t i = 0; i < a->h->nrings; i++) {
		struct agent_ring *r = ring_at(a, i);

		a->upto[i] = __atomic_load_n(&r->tid, __ATOMIC_ACQUIRE)
				     ? __atomic_load_n(&r->head, __ATOMIC_ACQUIRE)
				     : r->tail;
	}
	while ((n = drain_batch(a, a->upto, fn, ctx)))
		total += n;
	return total;
}

bool agent_rec_tsv(const struct agent_rec *rec, uint32_t *cursor, uint32_t num, int64_t *val)
{
	const uint8_t *p = (const uint8_t *)(rec + 1);

	for (uint32_t i = 0; i < rec->nblk; i++) {
		const struct agent_blk *b = (const struct agent_blk *)p;

		if (i >= *cursor && b->addr == AGENT_TSV_BLK + num && b->got == 8) {
			memcpy(val, b + 1, 8);
			*cursor = i + 1;
			return true;
		}
		p += sizeof(*b) + ((b->len + 7u) & ~7u);
	}
	return false;
}

void agent_tsv_set(struct agent *a, uint32_t n, int64_t v)
{
	if (a->map && n < AGENT_MAX_TSV)
		__atomic_store_n(&a->h->tsv[n], v, __ATOMIC_RELAXED);
}

int64_t agent_tsv_get(const struct agent *a, uint32_t n)
{
	return a->map && n < AGENT_MAX_TSV ? __atomic_load_n(&a->h->tsv[n], __ATOMIC_RELAXED) : 0;
}

uint32_t agent_fill_now(const struct agent *a)
{
	uint64_t most = 0;

	if (!a->map)
		return 0;
	for (uint32_t i = 0; i < a->h->nrings; i++) {
		struct agent_ring *r = ring_at(a, i);
		uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&r->tid, __ATOMIC_ACQUIRE) && head - r->tail > most)
			most = head - r->tail;
	}
	return (uint32_t)(most * 1000 / a->ring_bytes);
}

size_t agent_rec_read(const struct agent_rec *rec, uint64_t addr, void *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)(rec + 1), *best = NULL;
	size_t most = 0;

	/* the block with the most bytes from addr on (a string's block may end at its NUL
	 * where a later block read on) */
	for (uint32_t i = 0; i < rec->nblk && most < len; i++) {
		const struct agent_blk *b = (const struct agent_blk *)p;

		if (addr >= b->addr && addr < b->addr + b->got &&
		    (size_t)(b->addr + b->got - addr) > most) {
			most = (size_t)(b->addr + b->got - addr);
			best = (const uint8_t *)(b + 1) + (addr - b->addr);
		}
		p += sizeof(*b) + ((b->len + 7u) & ~7u);
	}
	if (most > len)
		most = len;
	if (most)
		memcpy(buf, best, most);
	return most;
}

uint64_t agent_cond_errors(const struct agent *a)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < a->h->nrings; i++)
		n += ring_at(a, i)->cond_errors;
	return n;
}

uint64_t agent_dropped(const struct agent *a, const void *owner)
{
	uint64_t n = 0;

	for (unsigned s = 0; s < a->nsites; s++) {
		if (a->sites[s].owner != owner)
			continue;
		for (uint32_t i = 0; i < a->h->nrings; i++)
			n += ring_at(a, i)->dropped[s];
	}
	return n;
}

static void free_rings(struct agent *a, pid_t pid, pid_t tid)
{
	for (uint32_t i = 0; i < a->h->nrings; i++) {
		struct agent_ring *r = ring_at(a, i);

		if (!r->tid || (tid ? r->tid != tid : r->pid != pid) || r->tail != r->head)
			continue;
		/* The ring's drop counters stay (they count per site, whoever hit). */
		__atomic_store_n(&r->tid, 0, __ATOMIC_RELEASE);
	}
}

void agent_thread_gone(struct agent *a, pid_t tid)
{
	free_rings(a, 0, tid);
}

void agent_proc_gone(struct agent *a, pid_t pid)
{
	free_rings(a, pid, 0);
}
