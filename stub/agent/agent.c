/* The agent's tracestub side: injection, site patching and draining (see agent.h). */
#include "stub/agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86_64/pad.h"
#include "arch/x86_64/regs.h"
#include "stub/live/live.h"

#define HDR_BYTES 16384
_Static_assert(sizeof(struct agent_hdr) <= HDR_BYTES, "the header fits its page");
#define MAX_BATCH 65536

struct agent {
	struct live *l;
	pid_t pid;
	uint8_t *map;
	size_t size;
	struct agent_hdr *h;
	uint64_t t_hdr, t_entry; /* in the target */
	struct {
		void *owner;
		uint64_t addr;
		uint64_t start; /* the patch: [start, start + len) */
		uint8_t len;
		bool off; /* unpatched */
	} sites[AGENT_MAX_SITES];
	unsigned nsites;
	/* TSC -> CLOCK_MONOTONIC: ns = ans + (tsc - atsc) * k. k from the first clock point to
	 * the latest (taken at drains, at most every 100 ms); at each new k the anchor moves to
	 * that point where the old line put it, so the line never jumps: a call's entry and
	 * return drained on either side of a change still differ by their TSC difference. */
	uint64_t tsc0, ns0, atsc, ans, last_tsc;
	double k;
	bool tid_checked;
	bool map_borrowed; /* agent_open_mem: not ours to unmap */
	uint32_t ring_bytes, nrings;
	/* a drain's records (2 x MAX_BATCH: the runs, then where they are merged) */
	const struct agent_rec **batch;
	uint64_t *upto, *tails; /* per ring, for a drain */
	size_t *runs;		/* per ring + 1: where each ring's records start in batch */
};

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

static int sys(struct agent *a, const uint64_t args[7], uint64_t *ret)
{
	int rc = live_syscall(a->l, a->pid, args, ret);

	if (rc)
		return rc;
	return *ret > (uint64_t)-4096 ? (int)(int64_t)*ret : 0;
}

static uint32_t pow2(uint32_t v, uint32_t dflt)
{
	uint32_t p = 1;

	if (!v)
		return dflt;
	while (p < v)
		p <<= 1;
	return p;
}

/* The shared memory: a memfd created, sized and mapped by the target, opened by us through
 * /proc, closed in the target. */
static int share(struct agent *a, uint64_t name, char *err, size_t errcap)
{
	uint64_t fd = 0, ret = 0, at = 0;
	char path[64];
	int rc, ours;

	uint64_t mk[7] = {SYS_memfd_create, name, MFD_CLOEXEC};
	if ((rc = sys(a, mk, &fd))) {
		snprintf(err, errcap, "memfd_create in the target: %s", strerror(-rc));
		return rc;
	}
	uint64_t tr[7] = {SYS_ftruncate, fd, a->size};
	uint64_t mm[7] = {SYS_mmap, 0, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0};
	if ((rc = sys(a, tr, &ret)) || (rc = sys(a, mm, &at))) {
		snprintf(err, errcap, "sizing or mapping the rings in the target: %s",
			 strerror(-rc));
		goto out;
	}
	a->t_hdr = at;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)a->pid, (int)fd);
	ours = open(path, O_RDWR | O_CLOEXEC);
	if (ours < 0) {
		rc = -errno;
		snprintf(err, errcap, "opening %s: %s", path, strerror(errno));
		goto out;
	}
	a->map = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, ours, 0);
	close(ours);
	if (a->map == MAP_FAILED) {
		a->map = NULL;
		rc = -errno;
		snprintf(err, errcap, "mapping the rings: %s", strerror(errno));
	}
out:;
	uint64_t cl[7] = {SYS_close, fd};
	sys(a, cl, &ret);
	return rc;
}

static uint64_t ring_stride(uint32_t bytes)
{
	return (sizeof(struct agent_ring) + (uint64_t)bytes + 4095) & ~4095ull;
}

size_t agent_map_size(const struct agent_opts *o)
{
	uint32_t bytes = pow2(o->ring_bytes, 1u << 20), nrings = pow2(o->nrings, 128);

	return HDR_BYTES + ring_stride(bytes) * nrings;
}

/* The tracestub side, before any memory is shared. */
static int agent_new(const struct agent_opts *o, pid_t pid, struct agent **out)
{
	struct agent *a = calloc(1, sizeof(*a));
	uint32_t bytes = pow2(o->ring_bytes, 1u << 20), nrings = pow2(o->nrings, 128);

	if (bytes < 65536 || bytes > (1u << 30)) {
		free(a);
		return -EINVAL;
	}
	if (!a || !(a->batch = malloc(2 * MAX_BATCH * sizeof(*a->batch))) ||
	    !(a->upto = calloc(2 * (size_t)nrings, sizeof(*a->upto))) ||
	    !(a->runs = calloc((size_t)nrings + 1, sizeof(*a->runs)))) {
		if (a) {
			free(a->batch);
			free(a->upto);
		}
		free(a);
		return -ENOMEM;
	}
	a->tails = a->upto + nrings;
	a->pid = pid;
	a->ring_bytes = bytes;
	a->nrings = nrings;
	a->size = agent_map_size(o);
	*out = a;
	return 0;
}

/* The shared header, once the memory is mapped; the clock's first two points. */
static void layout(struct agent *a)
{
	a->h = (struct agent_hdr *)a->map;
	a->h->version = AGENT_VERSION;
	a->h->nrings = a->nrings;
	a->h->ring_bytes = a->ring_bytes;
	a->h->rec_max = a->ring_bytes / 4;
	a->h->ring_off = HDR_BYTES;
	a->h->ring_stride = ring_stride(a->ring_bytes);
	a->h->pid = a->pid;
	a->h->fsgsbase = (getauxval(AT_HWCAP2) & 2) != 0; /* HWCAP2_FSGSBASE */
	__atomic_store_n(&a->h->magic, AGENT_MAGIC, __ATOMIC_RELEASE);
	clock_point(&a->tsc0, &a->ns0);
	struct timespec ms = {0, 2000000};
	nanosleep(&ms, NULL);
	recalibrate(a);
}

int agent_open_mem(void *map, const struct agent_opts *o, pid_t pid, struct agent **out)
{
	int rc = agent_new(o, pid, out);

	if (rc)
		return rc;
	(*out)->map = map;
	(*out)->map_borrowed = true;
	layout(*out);
	return 0;
}

uint32_t agent_site_local(struct agent *a, void *owner, uint64_t addr)
{
	if (a->nsites == AGENT_MAX_SITES)
		return UINT32_MAX;
	a->sites[a->nsites].owner = owner;
	a->sites[a->nsites].addr = addr;
	return a->nsites++;
}

int agent_open(struct live *l, pid_t pid, uint64_t near, const struct agent_opts *o,
	       struct agent **out, char *err, size_t errcap)
{
	static const char name[] = "tracestub-agent";
	struct agent *a;
	uint64_t code;
	int rc = agent_new(o, pid, &a);

	*out = NULL;
	if (rc) {
		snprintf(err, errcap, "%s",
			 rc == -ENOMEM ? "out of memory" : "ring size out of range");
		return rc;
	}
	a->l = l;
	/* the code, then the memfd's name, in scratch anywhere */
	rc = live_scratch(l, pid, near, agent_blob_len + sizeof(name) + 16, &code);
	if (!rc)
		rc = live_poke(l, pid, code, agent_blob, agent_blob_len);
	if (!rc)
		rc = live_poke(l, pid, code + agent_blob_len, name, sizeof(name));
	if (rc) {
		snprintf(err, errcap, "placing the agent's code: %s", strerror(-rc));
		goto fail;
	}
	a->t_entry = code; /* agent_hit is the blob's first function */
	if ((rc = share(a, code + agent_blob_len, err, errcap)))
		goto fail;
	layout(a);
	*out = a;
	return 0;
fail:
	agent_free(a);
	return rc;
}

void agent_free(struct agent *a)
{
	if (!a)
		return;
	if (a->map && !a->map_borrowed)
		munmap(a->map, a->size);
	free(a->batch);
	free(a->upto);
	free(a->runs);
	free(a);
}

pid_t agent_pid(const struct agent *a)
{
	return a->pid;
}

unsigned agent_nsites(const struct agent *a)
{
	return a->nsites;
}

void *agent_unpatch(struct agent *a, uint64_t addr)
{
	for (unsigned i = 0; i < a->nsites; i++) {
		if (a->sites[i].off || addr < a->sites[i].start ||
		    addr >= a->sites[i].start + a->sites[i].len)
			continue;
		if (live_patch_remove(a->l, a->pid, a->sites[i].start))
			return NULL;
		a->sites[i].off = true;
		return a->sites[i].owner;
	}
	return NULL;
}

void agent_enable(struct agent *a)
{
	if (!a->map)
		return;
	for (unsigned i = 0; i < AGENT_MAX_SITES; i++)
		__atomic_store_n(&a->h->site_hits[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&a->h->magic, AGENT_MAGIC, __ATOMIC_RELEASE);
}

void agent_disable(struct agent *a)
{
	__atomic_store_n(&a->h->magic, 0, __ATOMIC_RELEASE);
}

void agent_floor(struct agent *a)
{
	a->h->floor_at = 0;
	__atomic_store_n(&a->h->magic, AGENT_FLOOR, __ATOMIC_RELEASE);
}

int agent_reg_of(int regno)
{
	static const int map[] = {
		[X86_64_RAX] = AGENT_RAX, [X86_64_RBX] = AGENT_RBX, [X86_64_RCX] = AGENT_RCX,
		[X86_64_RDX] = AGENT_RDX, [X86_64_RSI] = AGENT_RSI, [X86_64_RDI] = AGENT_RDI,
		[X86_64_RBP] = AGENT_RBP, [X86_64_RSP] = AGENT_RSP, [X86_64_R8] = AGENT_R8,
		[X86_64_R9] = AGENT_R9,	  [X86_64_R10] = AGENT_R10, [X86_64_R11] = AGENT_R11,
		[X86_64_R12] = AGENT_R12, [X86_64_R13] = AGENT_R13, [X86_64_R14] = AGENT_R14,
		[X86_64_R15] = AGENT_R15, [X86_64_RIP] = AGENT_RIP,
	};

	return regno >= 0 && regno <= X86_64_RIP ? map[regno] : -1;
}

uint32_t agent_rec_len(const struct agent_op *ops, unsigned nops)
{
	size_t n = sizeof(struct agent_rec);

	for (unsigned i = 0; i < nops; i++) {
		n += sizeof(struct agent_blk) + ((ops[i].len + 7u) & ~7u);
		if (ops[i].kind == AGENT_OP_CXXSTR) /* the object's block too */
			n += sizeof(struct agent_blk) + (((uint32_t)ops[i].off + 7u) & ~7u);
	}
	return (uint32_t)((n + AGENT_REC_ALIGN - 1) & ~(size_t)(AGENT_REC_ALIGN - 1));
}

int agent_add_site(struct agent *a, const struct agent_site_spec *s, const char **why)
{
	struct x86_64_patch p;
	struct agent_site d = {0};
	uint8_t pad[X86_64_PAD_MAX], jmp[16];
	size_t dlen = (sizeof(d) + 15) & ~(size_t)15, plen = 0;
	uint64_t at, to[X86_64_PATCH_INSNS], move[2 * X86_64_PATCH_INSNS];
	int rc;

	*why = NULL;
	if (a->nsites == AGENT_MAX_SITES || s->nops > AGENT_MAX_OPS) {
		*why = "too many fast sites";
		return -ENOSPC;
	}
	if (agent_rec_len(s->ops, s->nops) > a->h->rec_max) {
		*why = "what it collects does not fit a record";
		return -ENOSPC;
	}
	if (s->acts_len > AGENT_ACTS_MAX) {
		*why = "its collect expressions are too long for the agent";
		return -ENOSPC;
	}
	if ((rc = x86_64_patch_plan(s->code, s->len, s->fstart, s->at, s->exit, &p, why)))
		return rc;
	rc = live_scratch(a->l, a->pid, p.start, dlen + X86_64_PAD_MAX, &at);
	if (rc) {
		*why = "no scratch memory within reach of the code";
		return -EBUSY;
	}
	d.id = a->nsites;
	d.nops = s->nops;
	d.rec_len = agent_rec_len(s->ops, s->nops);
	d.tsv = s->tsv;
	d.pass = s->pass;
	if (s->acts_len) { /* what the expressions may write: most of a record at most */
		uint64_t n = (uint64_t)d.rec_len + s->acts_budget + AGENT_REC_ALIGN - 1;

		n &= ~(uint64_t)(AGENT_REC_ALIGN - 1);
		d.rec_len = (uint32_t)(n > a->h->rec_max ? a->h->rec_max : n);
		memcpy(d.acts, s->acts, s->acts_len);
		d.acts_len = s->acts_len;
	}
	d.addr = s->at;
	d.red_zone = s->go ? AGENT_RSP_SAVED : X86_64_PAD_RED_ZONE;
	memcpy(d.ops, s->ops, s->nops * sizeof(d.ops[0]));
	if (s->cond && s->cond_len <= AGENT_COND_MAX) {
		memcpy(d.cond, s->cond, s->cond_len);
		d.cond_len = s->cond_len;
	}
	if ((rc = x86_64_pad_build(&p, at + dlen, at, a->t_hdr, a->t_entry, s->go, pad, &plen,
				   to)) ||
	    (rc = x86_64_patch_jump(&p, at + dlen, jmp))) {
		*why = "a displaced instruction cannot be relocated";
		return -EBUSY;
	}
	if ((rc = live_poke(a->l, a->pid, at, &d, sizeof(d))) ||
	    (rc = live_poke(a->l, a->pid, at + dlen, pad, plen)))
		return rc;
	for (unsigned i = 0; i < p.ninsn; i++) {
		move[2 * i] = p.insns[i].addr;
		move[2 * i + 1] = to[i];
	}
	rc = live_patch_insert(a->l, a->pid, p.start, jmp, p.len, move, p.ninsn);
	if (rc == -EBUSY) {
		*why = live_last_error(a->l);
		return rc;
	}
	if (rc)
		return rc;
	a->sites[a->nsites].owner = s->owner;
	a->sites[a->nsites].addr = s->at;
	a->sites[a->nsites].start = p.start;
	a->sites[a->nsites].len = p.len;
	a->nsites++;
	return 0;
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
