/* The in-process agent: the code a pad calls at a fast site. Built freestanding into a flat,
 * position-independent blob (no libc, no relocations, general registers only: the pad saves
 * no vector state) that tracestub copies into the traced process. It never calls program,
 * libc or runtime code: its only outside calls are system calls, gettid (when the thread
 * block gives no tid), madvise (a ring's pages faulted in once) and process_vm_readv on its
 * own process (a read through a pointer that may not be mapped fails there instead of
 * faulting in the program).
 *
 * agent_hit(regs, site, hdr): regs are the 16 words the pad pushed (enum agent_reg order),
 * site the pad's descriptor, hdr the shared header. It finds the thread's ring, evaluates the
 * site's condition if it has one, and writes one record: timestamp (rdtsc), thread id,
 * registers, the site's blocks, then what its collect expressions trace. */
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

typedef uint64_t __attribute__((may_alias, aligned(1))) u64u;

/* rep movsb for long copies; words then bytes for the short ones a hit makes most (its
 * start-up costs more than 64 bytes take word by word) */
static inline void copy(uint8_t *d, const uint8_t *s, uint64_t n)
{
	if (n > 256) {
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
		return;
	}
	for (; n >= 8; n -= 8, d += 8, s += 8)
		*(u64u *)d = *(const u64u *)s;
	for (; n; n--)
		*d++ = *s++;
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

/* A thread's first hit: when glibc's thread block at the fs base holds the id the kernel
 * gave, later hits read it there (no gettid per hit from then on, in every thread). */
static void tid_offset_check(struct agent_hdr *h, int32_t tid, uint64_t fs, int32_t pid)
{
	int32_t v = 0, zero = 0;
	struct iov l = {(uint64_t)(uintptr_t)&v, sizeof(v)}, r = {fs + AGENT_GLIBC_TID_OFFSET, 4};

	if (!fs || __atomic_load_n(&h->tid_off, __ATOMIC_RELAXED))
		return;
	if (sys6(SYS_process_vm_readv, pid, (long)&l, 1, (long)&r, 1, 0) == 4 && v == tid)
		__atomic_compare_exchange_n(&h->tid_off, &zero, AGENT_GLIBC_TID_OFFSET, 0,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* A ring's record pages (from recs on) faulted in now, once, not one by one on the hits (a
 * kernel without MADV_POPULATE_WRITE just says no). */
static void populate(const struct agent_hdr *h, const uint8_t *recs)
{
	uint64_t lo = ((uint64_t)(uintptr_t)recs + 4095) & ~4095ull;
	uint64_t len = h->ring_bytes < POPULATE_MAX ? h->ring_bytes : POPULATE_MAX;

	sys3(SYS_madvise, (long)lo, (long)(len & ~4095ull), MADV_POPULATE_WRITE);
}

/* The thread's ring: open addressing by tid, claimed with a compare-exchange the first time. */
static struct agent_ring *ring_of(struct agent_hdr *h, int32_t tid, uint64_t fs)
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
				r->stk_lo = r->stk_hi = 0;
				populate(h, (const uint8_t *)(r + 1));
				tid_offset_check(h, tid, fs, r->pid);
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
static uint32_t safe_read(struct agent_ring *ring, uint64_t rsp, uint64_t addr, uint8_t *d,
			  uint32_t len)
{
	struct iov l = {(uint64_t)(uintptr_t)d, len}, r = {addr, len};
	uint64_t lo = rsp & ~(PAGE - 1), end = addr + len;
	long n;

	if (addr >= lo && end >= addr &&
	    (end <= lo + PAGE ||
	     (ring->stk_lo <= lo && lo < ring->stk_hi && end <= ring->stk_hi))) {
		copy(d, (const uint8_t *)(uintptr_t)addr, len);
		return len;
	}
	n = sys6(SYS_process_vm_readv, ring->pid, (long)&l, 1, (long)&r, 1, 0);
	if (n > 0 && addr >= lo && addr < lo + PAGE) {
		/* [lo, the end of the last page read) is mapped: remember it (with what was
		 * known above, when the two meet) */
		uint64_t hi = (addr + (uint64_t)n + PAGE - 1) & ~(PAGE - 1);

		if (ring->stk_lo <= hi && lo <= ring->stk_hi && ring->stk_hi > hi)
			hi = ring->stk_hi;
		ring->stk_lo = lo;
		ring->stk_hi = hi;
	}
	return n > 0 ? (uint32_t)n : 0;
}

static uint32_t strnlen1(const uint8_t *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!s[i])
			return i + 1;
	return n;
}

/* gdb's register number (x86-64: rax rbx rcx rdx rsi rdi rbp rsp r8..r15 rip eflags) to the
 * agent's. */
static const uint8_t gdb_reg[18] = {
	AGENT_RAX, AGENT_RBX, AGENT_RCX, AGENT_RDX, AGENT_RSI, AGENT_RDI,
	AGENT_RBP, AGENT_RSP, AGENT_R8,	 AGENT_R9,  AGENT_R10, AGENT_R11,
	AGENT_R12, AGENT_R13, AGENT_R14, AGENT_R15, AGENT_RIP, AGENT_RFLAGS,
};

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t sext(uint64_t v, unsigned bits)
{
	uint64_t m;

	if (bits >= 64)
		return v;
	m = 1ull << (bits - 1);
	v &= (1ull << bits) - 1;
	return (v ^ m) - m;
}

#define COND_STEPS 100000u /* as protocol/ax.c: a goto loop ends here */

/* Where an action expression's trace ops write: blocks from p on, never past end. */
struct sink {
	struct agent_rec *rec;
	uint8_t *p, *end;
};

/* n bytes at addr from a block already in the record (all of them got): 1, else 0. */
static int from_blocks(const struct sink *o, uint64_t addr, uint8_t *d, uint32_t n)
{
	const uint8_t *p = (const uint8_t *)(o->rec + 1);

	for (uint32_t i = 0; i < o->rec->nblk; i++) {
		const struct agent_blk *b = (const struct agent_blk *)p;

		if (addr >= b->addr && addr - b->addr <= b->got && b->got - (addr - b->addr) >= n) {
			copy(d, (const uint8_t *)(b + 1) + (addr - b->addr), n);
			return 1;
		}
		p += sizeof(*b) + ((b->len + 7) & ~7u);
	}
	return 0;
}

/* A block of len bytes at addr (up to its first NUL if str), cut to the room left. */
static void blk_put(struct sink *o, struct agent_ring *r, uint64_t rsp, uint64_t addr, uint64_t len,
		    int str)
{
	struct agent_blk *b = (struct agent_blk *)o->p;
	uint64_t room = (uint64_t)(o->end - o->p);
	uint32_t got;

	if (room < sizeof(*b) + 8)
		return;
	room = (room - sizeof(*b)) & ~7ull;
	if (len > room)
		len = room;
	if (len > 0xffff) /* gdb's frames hold blocks of at most 65535 bytes */
		len = 0xffff;
	b->addr = addr;
	b->len = (uint32_t)len;
	got = addr && len ? safe_read(r, rsp, addr, (uint8_t *)(b + 1), (uint32_t)len) : 0;
	b->got = str ? strnlen1((const uint8_t *)(b + 1), got) : got;
	o->p += sizeof(*b) + ((len + 7) & ~7ull);
	o->rec->nblk++;
}

/* A trace state variable's value as an expression saw it: a block of its own. */
static void tsv_put(struct sink *o, uint64_t num, uint64_t val)
{
	struct agent_blk *b = (struct agent_blk *)o->p;

	if ((uint64_t)(o->end - o->p) < sizeof(*b) + 8)
		return;
	b->addr = AGENT_TSV_BLK + num;
	b->len = b->got = 8;
	*(u64u *)(b + 1) = val;
	o->p += sizeof(*b) + 8;
	o->rec->nblk++;
}

/* Agent-expression bytecode over the hit: a condition (o NULL: 1 true, 0 false) or an
 * action (o: its trace ops write blocks, and each memory read is kept as a block too, so
 * tracestub's own evaluation of the action over the record finds every byte the agent saw).
 * -1: it could not be evaluated. The same semantics as tracestub's evaluator
 * (protocol/ax.c) for the ops it takes; anything else is -1. */
static int ax_run(const struct agent_site *s, const uint8_t *c, uint32_t len, const uint64_t *g,
		  struct agent_ring *r, uint64_t rsp, struct sink *o, struct agent_hdr *h)
{
	uint32_t pc = 0, sp = 0;
	uint64_t st[AGENT_COND_DEPTH], a, b;
	static const uint8_t imm[0x34] = {
		[0x0d] = 1, [0x16] = 1, [0x20] = 2, [0x21] = 2, [0x22] = 1,
		[0x23] = 2, [0x24] = 4, [0x25] = 8, [0x26] = 2, [0x2a] = 1,
		[0x2c] = 2, [0x2d] = 2, [0x2e] = 2, [0x30] = 2, [0x32] = 1};
	static const uint8_t pops[0x34] = {
		[0x02] = 2, [0x03] = 2, [0x04] = 2, [0x05] = 2, [0x06] = 2, [0x07] = 2, [0x08] = 2,
		[0x09] = 2, [0x0a] = 2, [0x0b] = 2, [0x0c] = 2, [0x0d] = 1, [0x0e] = 1, [0x0f] = 2,
		[0x10] = 2, [0x11] = 2, [0x12] = 1, [0x13] = 2, [0x14] = 2, [0x15] = 2, [0x16] = 1,
		[0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x20] = 1, [0x28] = 1, [0x29] = 1,
		[0x2a] = 1, [0x2b] = 2, [0x2d] = 1, [0x2f] = 2, [0x30] = 1, [0x33] = 3};

	for (uint32_t steps = 0; steps < COND_STEPS; steps++) {
		uint8_t op, k;
		const uint8_t *im;
		uint32_t next;

		if (pc >= len)
			return -1;
		op = c[pc];
		if (op >= sizeof(imm))
			return -1;
		k = imm[op];
		im = c + pc + 1;
		if (len - pc - 1 < k || sp < pops[op])
			return -1;
		next = pc + 1 + k;
		a = sp >= 2 ? st[sp - 2] : 0;
		b = sp >= 1 ? st[sp - 1] : 0;
		switch (op) {
		case 0x02:
			st[sp - 2] = a + b, sp--;
			break;
		case 0x03:
			st[sp - 2] = a - b, sp--;
			break;
		case 0x04:
			st[sp - 2] = a * b, sp--;
			break;
		case 0x05:
		case 0x07:
			if (!b)
				return -1;
			if ((int64_t)b == -1)
				st[sp - 2] = op == 0x05 ? 0 - a : 0;
			else
				st[sp - 2] = op == 0x05 ? (uint64_t)((int64_t)a / (int64_t)b)
							: (uint64_t)((int64_t)a % (int64_t)b);
			sp--;
			break;
		case 0x06:
		case 0x08:
			if (!b)
				return -1;
			st[sp - 2] = op == 0x06 ? a / b : a % b, sp--;
			break;
		case 0x09:
			st[sp - 2] = b >= 64 ? 0 : a << b, sp--;
			break;
		case 0x0a:
			st[sp - 2] = b >= 64 ? ((int64_t)a < 0 ? ~0ull : 0)
					     : (uint64_t)((int64_t)a >> b);
			sp--;
			break;
		case 0x0b:
			st[sp - 2] = b >= 64 ? 0 : a >> b, sp--;
			break;
		case 0x0e:
			st[sp - 1] = !b;
			break;
		case 0x0f:
			st[sp - 2] = a & b, sp--;
			break;
		case 0x10:
			st[sp - 2] = a | b, sp--;
			break;
		case 0x11:
			st[sp - 2] = a ^ b, sp--;
			break;
		case 0x12:
			st[sp - 1] = ~b;
			break;
		case 0x13:
			st[sp - 2] = a == b, sp--;
			break;
		case 0x14:
			st[sp - 2] = (int64_t)a < (int64_t)b, sp--;
			break;
		case 0x15:
			st[sp - 2] = a < b, sp--;
			break;
		case 0x16:
			if (!im[0])
				return -1;
			st[sp - 1] = sext(b, im[0]);
			break;
		case 0x2a:
			if (im[0] < 64)
				st[sp - 1] = b & ((1ull << im[0]) - 1);
			break;
		case 0x17:
		case 0x18:
		case 0x19:
		case 0x1a: {
			uint32_t n = 1u << (op - 0x17);
			uint8_t buf[8] = {0};
			uint64_t v = 0;
			int have = o && from_blocks(o, b, buf, n);

			if (o && !have) {
				blk_put(o, r, rsp, b, n, 0);
				have = from_blocks(o, b, buf, n);
			}
			if (!have && safe_read(r, rsp, b, buf, n) != n)
				return -1;
			for (uint32_t i = n; i-- > 0;)
				v = v << 8 | buf[i];
			st[sp - 1] = v;
			break;
		}
		case 0x20:
			sp--;
			if (b)
				next = (uint32_t)be(im, 2);
			break;
		case 0x21:
			next = (uint32_t)be(im, 2);
			break;
		case 0x22:
		case 0x23:
		case 0x24:
		case 0x25:
		case 0x26:
		case 0x28:
		case 0x32: {
			uint64_t v;

			if (sp == AGENT_COND_DEPTH)
				return -1;
			if (op == 0x26) {
				uint64_t n = be(im, 2);

				if (n >= sizeof(gdb_reg))
					return -1;
				v = reg(g, s, gdb_reg[n]);
			} else if (op == 0x28) {
				v = b;
			} else if (op == 0x32) {
				if (im[0] >= sp)
					return -1;
				v = st[sp - 1 - im[0]];
			} else {
				v = be(im, k);
			}
			st[sp++] = v;
			break;
		}
		case 0x0c: /* trace: addr, size */
		case 0x2f: /* tracenz: addr, limit */
			if (!o)
				return -1;
			blk_put(o, r, rsp, a, b, op == 0x2f);
			sp -= 2;
			break;
		case 0x0d: /* trace_quick n, trace16 n: the address stays */
		case 0x30:
			if (!o)
				return -1;
			blk_put(o, r, rsp, b, be(im, k), 0);
			break;
		case 0x2c:   /* getv n */
		case 0x2d:   /* setv n: the value stays */
		case 0x2e: { /* tracev n */
			uint64_t n = be(im, 2);
			int64_t *v = n < AGENT_MAX_TSV ? &h->tsv[n] : NULL;

			if (!v || (op == 0x2c && sp == AGENT_COND_DEPTH))
				return -1;
			if (op == 0x2d)
				__atomic_store_n(v, (int64_t)b, __ATOMIC_RELAXED);
			else if (op == 0x2c)
				st[sp++] = (uint64_t)__atomic_load_n(v, __ATOMIC_RELAXED);
			if (o) /* what it was, for tracestub's evaluation over the record */
				tsv_put(o, n,
					op == 0x2c ? st[sp - 1]
					: op == 0x2d
						? b
						: (uint64_t)__atomic_load_n(v, __ATOMIC_RELAXED));
			break;
		}
		case 0x27:
			return sp > 0 && st[sp - 1] != 0;
		case 0x29:
			sp--;
			break;
		case 0x2b:
			st[sp - 1] = a, st[sp - 2] = b;
			break;
		case 0x33:
			st[sp - 1] = a;
			st[sp - 2] = st[sp - 3];
			st[sp - 3] = b;
			break;
		default:
			return -1;
		}
		pc = next;
	}
	return -1;
}

/* The floor make bench compares a hit with: 16 registers and 64 stack bytes into a ring,
 * nothing else (a single-threaded workload: ring 0, no claim, no lock) */
static void floor_hit(const uint64_t *g, uint64_t rsp, struct agent_hdr *h)
{
	uint64_t pos = h->floor_at & (h->ring_bytes - 1);
	uint8_t *d = (uint8_t *)h + h->ring_off + sizeof(struct agent_ring);

	if (!h->floor_at) /* the first hit, as a ring's claim */
		populate(h, d);
	if (pos + 16 * 8 + 64 > h->ring_bytes)
		pos = 0;
	d += pos;
	copy(d, (const uint8_t *)g, 16 * 8);
	copy(d + 16 * 8, (const uint8_t *)(uintptr_t)rsp, 64);
	h->floor_at = pos + 16 * 8 + 64;
}

void agent_hit(uint64_t *g, const struct agent_site *s, struct agent_hdr *h);

__attribute__((section(".text.entry"), used)) void
agent_hit(uint64_t *g, const struct agent_site *s, struct agent_hdr *h)
{
	uint64_t fs, head, pos, need, skip, rsp = reg(g, s, AGENT_RSP), n_hit = 0;
	int32_t tid;
	struct agent_ring *r;
	struct agent_rec *rec;
	uint8_t *p;
	uint32_t lo, hi;
	uint64_t magic = __atomic_load_n(&h->magic, __ATOMIC_RELAXED);

	if (magic != AGENT_MAGIC) {
		if (magic == AGENT_FLOOR)
			floor_hit(g, rsp, h);
		return; /* tracing stopped */
	}
	tid = thread_id(h, &fs);
	r = ring_of(h, tid, fs);
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
	if (s->tsv) /* getv .. setv of every hit in one order: the order of their records */
		while (__atomic_exchange_n(&h->tsv_lock, 1, __ATOMIC_ACQUIRE))
			__asm__ volatile("pause");
	if (s->cond_len) {
		int c = s->cond_len <= AGENT_COND_MAX
				? ax_run(s, s->cond, s->cond_len, g, r, rsp, NULL, h)
				: -1;

		if (c <= 0) {
			r->cond_errors += c < 0;
			goto out;
		}
	}
	if (s->pass) { /* hits past the passcount: the run is over (tracestub stops it) */
		n_hit = __atomic_add_fetch(&h->site_hits[s->id % AGENT_MAX_SITES], 1,
					   __ATOMIC_RELAXED);
		if (n_hit > s->pass)
			goto out;
	}
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
		} else if (op->kind == AGENT_OP_PSTR) { /* the pointer first, from its slot */
			uint64_t pv = 0, slot = addr + (uint64_t)(int64_t)op->off;

			addr = slot && safe_read(r, rsp, slot, (uint8_t *)&pv, 8) == 8 ? pv : 0;
		} else {
			addr += (uint64_t)(int64_t)op->off;
		}
		b->addr = addr;
		b->len = len;
		got = addr && want ? safe_read(r, rsp, addr, (uint8_t *)(b + 1), want) : 0;
		if (op->kind == AGENT_OP_STR || op->kind == AGENT_OP_PSTR)
			got = strnlen1((const uint8_t *)(b + 1), got);
		b->got = got;
		p += sizeof(*b) + ((len + 7) & ~7u);
		rec->nblk++;
	}
	if (s->acts_len) { /* gdb's collect expressions, each as [length, 2 bytes LE][code] */
		struct sink o = {rec, p, (uint8_t *)rec + need};

		for (uint32_t at = 0; at + 2 <= s->acts_len && at + 2 <= AGENT_ACTS_MAX;) {
			uint32_t n = (uint32_t)s->acts[at] | (uint32_t)s->acts[at + 1] << 8;

			if (n > s->acts_len - at - 2 || n > AGENT_ACTS_MAX - at - 2)
				break;
			ax_run(s, s->acts + at + 2, n, g, r, rsp, &o, h);
			at += 2 + n;
		}
		/* the record is as long as what was written (need was the most it could be) */
		need = ((uint64_t)(o.p - (uint8_t *)rec) + AGENT_REC_ALIGN - 1) &
		       ~(uint64_t)(AGENT_REC_ALIGN - 1);
	}
	rec->len = (uint32_t)need;
	__atomic_store_n(&rec->seq, head + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r->head, head + need, __ATOMIC_RELEASE);
	if (s->pass && n_hit == s->pass) /* the last hit of the run: every site stops */
		__atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
out:
	if (s->tsv)
		__atomic_store_n(&h->tsv_lock, 0, __ATOMIC_RELEASE);
	__asm__ volatile("" ::: "memory");
	r->busy = 0;
}
