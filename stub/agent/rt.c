/* The in-process agent: the code a pad calls at a fast site. Built freestanding into a flat,
 * position-independent blob (no libc, no relocations, general registers only: the pad saves
 * no vector state) that tracestub copies into the traced process. It never calls program,
 * libc or runtime code: its only outside calls are two system calls, gettid (when the thread
 * block gives no tid) and process_vm_readv on its own process (a read through a pointer that
 * may not be mapped fails there instead of faulting in the program).
 *
 * agent_hit(regs, site, hdr): regs are the 16 words the pad pushed (enum agent_reg order),
 * site the pad's descriptor, hdr the shared header. It finds the thread's ring, and writes
 * one record: timestamp (rdtsc), thread id, registers, then the site's blocks. */
#include <stddef.h>

#include "stub/agent/ring.h"

#define SYS_gettid	     186
#define SYS_getpid	     39
#define SYS_process_vm_readv 310
#define SYS_madvise	     28
#define MADV_POPULATE_WRITE  23
#define POPULATE_MAX	     (16ull << 20)
#define PAGE		     4096ull

struct iov {
	uint64_t base, len;
};

static inline long sys0(long n)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(n) : "rcx", "r11", "memory");
	return r;
}

static inline long sys3(long n, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

static inline void copy(uint8_t *d, const uint8_t *s, uint64_t n)
{
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

static int32_t thread_id(const struct agent_hdr *h, uint64_t *fsp)
{
	uint64_t fs = 0;

	if (h->fsgsbase)
		__asm__ volatile("rdfsbase %0" : "=r"(fs));
	*fsp = fs;
	if (h->tid_off > 0) {
		if (fs) {
			int32_t t = *(volatile const int32_t *)(fs + (uint64_t)h->tid_off);

			if (t > 0)
				return t;
		}
	}
	return (int32_t)sys0(SYS_gettid);
}

static struct agent_ring *ring_at(struct agent_hdr *h, uint32_t i)
{
	return (struct agent_ring *)((uint8_t *)h + h->ring_off + (uint64_t)i * h->ring_stride);
}

/* The thread's ring: open addressing by tid, claimed with a compare-exchange the first time. */
static struct agent_ring *ring_of(struct agent_hdr *h, int32_t tid)
{
	uint32_t mask = h->nrings - 1, i = ((uint32_t)tid * 0x9e3779b1u) & mask;

	for (uint32_t n = 0; n < h->nrings; n++, i = (i + 1) & mask) {
		struct agent_ring *r = ring_at(h, i);
		int32_t o = __atomic_load_n(&r->tid, __ATOMIC_ACQUIRE);

		if (o == tid)
			return r;
		if (o == 0) {
			if (__atomic_compare_exchange_n(&r->tid, &o, tid, 0, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				/* A fork child inherits the rings: each ring knows its
				 * process (reads through pointers, the records' pid). */
				r->pid = (int32_t)sys0(SYS_getpid);
				/* Its pages faulted in now, once, not one by one on the hits
				 * (a kernel without MADV_POPULATE_WRITE just says no). */
				uint64_t lo =
					((uint64_t)(uintptr_t)r + sizeof(*r) + 4095) & ~4095ull;
				uint64_t len =
					h->ring_bytes < POPULATE_MAX ? h->ring_bytes : POPULATE_MAX;

				sys3(SYS_madvise, (long)lo, (long)(len & ~4095ull),
				     MADV_POPULATE_WRITE);
				return r;
			}
			if (o == tid)
				return r;
		}
	}
	return NULL;
}

static uint64_t reg(const uint64_t *g, const struct agent_site *s, unsigned r)
{
	if (r == AGENT_RSP)
		return s->red_zone == AGENT_RSP_SAVED
			       ? g[16]
			       : (uint64_t)(uintptr_t)g + 16 * 8 + s->red_zone;
	if (r == AGENT_RIP)
		return s->addr;
	return r < 16 ? g[r] : 0;
}

/* Read len bytes at addr into d without faulting: directly when they lie in the page holding
 * rsp (mapped: the call that got here wrote there), else through the kernel. Bytes got. */
static uint32_t safe_read(const struct agent_ring *ring, uint64_t rsp, uint64_t addr, uint8_t *d,
			  uint32_t len)
{
	struct iov l = {(uint64_t)(uintptr_t)d, len}, r = {addr, len};
	uint64_t lo = rsp & ~(PAGE - 1);
	long n;

	if (addr >= lo && addr + len <= lo + PAGE && addr + len >= addr) {
		copy(d, (const uint8_t *)(uintptr_t)addr, len);
		return len;
	}
	n = sys6(SYS_process_vm_readv, ring->pid, (long)&l, 1, (long)&r, 1, 0);
	return n > 0 ? (uint32_t)n : 0;
}

static uint32_t strnlen1(const uint8_t *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!s[i])
			return i + 1;
	return n;
}

void agent_hit(uint64_t *g, const struct agent_site *s, struct agent_hdr *h);

__attribute__((section(".text.entry"), used)) void
agent_hit(uint64_t *g, const struct agent_site *s, struct agent_hdr *h)
{
	uint64_t fs, head, pos, need, skip, rsp = reg(g, s, AGENT_RSP);
	int32_t tid;
	struct agent_ring *r;
	struct agent_rec *rec;
	uint8_t *p;
	uint32_t lo, hi;

	if (__atomic_load_n(&h->magic, __ATOMIC_RELAXED) != AGENT_MAGIC)
		return; /* tracing stopped */
	tid = thread_id(h, &fs);
	r = ring_of(h, tid);
	if (!r) {
		__atomic_fetch_add(&h->nofree, 1, __ATOMIC_RELAXED);
		return;
	}
	if (r->busy) { /* a signal handler's hit inside this thread's hit */
		r->dropped[s->id]++;
		r->lost = 1;
		return;
	}
	r->busy = 1;
	__asm__ volatile("" ::: "memory");
	need = s->rec_len;
	head = r->head;
	pos = head & (h->ring_bytes - 1);
	skip = pos + need > h->ring_bytes ? h->ring_bytes - pos : 0;
	if (need > h->rec_max ||
	    head + skip + need - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) > h->ring_bytes) {
		r->dropped[s->id]++;
		r->lost = 1;
		goto out;
	}
	if (skip) {
		rec = (struct agent_rec *)((uint8_t *)r + sizeof(*r) + pos);
		rec->len = (uint32_t)skip;
		rec->site = AGENT_SITE_SKIP;
		__atomic_store_n(&rec->seq, head + 1, __ATOMIC_RELEASE);
		head += skip;
	}
	rec = (struct agent_rec *)((uint8_t *)r + sizeof(*r) + (head & (h->ring_bytes - 1)));
	/* rdtsc, not rdtscp: half the cost here; a thread's own records stay in order */
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	rec->tsc = (uint64_t)hi << 32 | lo;
	rec->site = s->id;
	rec->tid = tid;
	rec->pid = r->pid;
	rec->fs = fs;
	rec->flags = r->lost ? AGENT_REC_AFTER_LOSS : 0;
	r->lost = 0;
	for (unsigned i = 0; i < 16; i++)
		rec->regs[i] = g[i];
	rec->regs[AGENT_RSP] = rsp;
	rec->regs[AGENT_RIP] = s->addr;
	rec->nblk = 0;
	p = (uint8_t *)(rec + 1);
	for (uint32_t i = 0; i < s->nops && i < AGENT_MAX_OPS; i++) {
		const struct agent_op *op = &s->ops[i];
		struct agent_blk *b = (struct agent_blk *)p;
		uint32_t len = op->len, want = len, got;
		uint64_t addr = reg(g, s, op->reg), n;

		if (op->kind == AGENT_OP_CXXSTR) { /* the object first, then its characters */
			uint32_t osz = (uint32_t)op->off;
			uint64_t *w = (uint64_t *)(b + 1);

			b->addr = addr;
			b->len = osz;
			b->got = addr ? safe_read(r, rsp, addr, (uint8_t *)(b + 1), osz) : 0;
			p += sizeof(*b) + ((osz + 7) & ~7u);
			rec->nblk++;
			n = b->got >= 16 ? w[1] : 0;
			addr = b->got >= 16 ? w[0] : 0;
			want = n < len ? (uint32_t)n : len;
			b = (struct agent_blk *)p;
		} else if (op->kind == AGENT_OP_GOSTR) {
			uint64_t scale = ((uint32_t)op->off >> 8) & 0xff;

			n = reg(g, s, (uint32_t)op->off & 0xff);
			n = n < len ? n * (scale ? scale : 1) : len;
			want = n < len ? (uint32_t)n : len;
		} else {
			addr += (uint64_t)(int64_t)op->off;
		}
		b->addr = addr;
		b->len = len;
		got = addr && want ? safe_read(r, rsp, addr, (uint8_t *)(b + 1), want) : 0;
		if (op->kind == AGENT_OP_STR)
			got = strnlen1((const uint8_t *)(b + 1), got);
		b->got = got;
		p += sizeof(*b) + ((len + 7) & ~7u);
		rec->nblk++;
	}
	rec->len = (uint32_t)need;
	__atomic_store_n(&rec->seq, head + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r->head, head + need, __ATOMIC_RELEASE);
out:
	__asm__ volatile("" ::: "memory");
	r->busy = 0;
}
