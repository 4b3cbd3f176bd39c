/* Scratch pages for out-of-line step-overs: 64 KiB chunks mapped into the target with an
 * injected mmap, placed in a free gap within +-2 GiB of the probed code (rip-relative
 * operands and rel32 branches of the relocated copy must reach), one 64-byte slot per
 * site written at insert time: the relocated instruction, then a jump back to the next
 * original instruction (so a thread or child that leaves the slot on its own, e.g. a
 * clone or fork returning from a stepped syscall, lands in the original code). The
 * injected syscall runs at an existing `syscall` instruction: no code byte is touched
 * while other threads run. Insert time only: never on the hit path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stub/live/internal.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define GUARD	      0x100000ull /* keep clear of neighbours (stack guard gap, brk) */
#define REACH	      0x7fff0000ll
#define MAX_MAPS      4096
#define MAX_TRIES     8
#define GADGET_WINDOW 65536

struct map_ent {
	uint64_t start, end;
	char perms[5];
	bool exe, heap, stack, vdso;
};

struct maps {
	struct map_ent *e;
	size_t n;
};

static char *slurp(const char *path, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int maps_read(pid_t pid, struct maps *m)
{
	char path[64], exe[4096];
	char *text, *line, *save = NULL;
	size_t len = 0;
	ssize_t el;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	el = readlink(path, exe, sizeof(exe) - 1);
	exe[el > 0 ? el : 0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	text = slurp(path, &len);
	m->e = calloc(MAX_MAPS, sizeof(*m->e));
	m->n = 0;
	if (!text || !m->e) {
		free(text);
		free(m->e);
		return -ENOMEM;
	}
	for (line = strtok_r(text, "\n", &save); line && m->n < MAX_MAPS;
	     line = strtok_r(NULL, "\n", &save)) {
		struct map_ent *e = &m->e[m->n];
		unsigned long long a, b;
		int off = 0;
		const char *name;

		if (sscanf(line, "%llx-%llx %4s %*s %*s %*s %n", &a, &b, e->perms, &off) < 3)
			continue;
		name = off ? line + off : "";
		e->start = a;
		e->end = b;
		e->exe = *exe && !strcmp(name, exe);
		e->heap = !strcmp(name, "[heap]");
		e->stack = !strncmp(name, "[stack", 6);
		e->vdso = !strcmp(name, "[vdso]");
		m->n++;
	}
	free(text);
	return 0;
}

/* ---- the syscall gadget ---- */

static taddr_t scan_gadget(struct live *l, struct proc *p, const struct map_ent *e)
{
	static uint8_t buf[GADGET_WINDOW];
	uint64_t len = e->end - e->start < sizeof(buf) ? e->end - e->start : sizeof(buf);
	struct bkpt_table *bk = live_proc_bk(l, p);
	size_t done = 0, i;

	if (live_mem_read_raw(l, p, e->start, buf, len, &done))
		return 0;
	/* Raw bytes: an int3 of ours reads as 0xcc, so a pair found is real code. */
	for (i = 0; i + 1 < done; i++)
		if (buf[i] == 0x0f && buf[i + 1] == 0x05 &&
		    !(bk && (bkpt_is_inserted(bk, e->start + i) ||
			     bkpt_is_inserted(bk, e->start + i + 1))))
			return e->start + i;
	return 0;
}

/* Any `0f 05` in executable memory executes as `syscall` when rip is set to it: the vDSO
 * first (nobody probes it), then other code. */
static taddr_t find_gadget(struct live *l, struct proc *p, const struct maps *m)
{
	taddr_t g = 0;
	size_t i;

	for (i = 0; i < m->n && !g; i++)
		if (m->e[i].vdso)
			g = scan_gadget(l, p, &m->e[i]);
	for (i = 0; i < m->n && !g; i++)
		if (m->e[i].perms[0] == 'r' && m->e[i].perms[2] == 'x')
			g = scan_gadget(l, p, &m->e[i]);
	return g;
}

static bool gadget_ok(struct live *l, struct proc *p, taddr_t g)
{
	struct bkpt_table *bk = live_proc_bk(l, p);

	return g && !(bk && (bkpt_is_inserted(bk, g) || bkpt_is_inserted(bk, g + 1)));
}

/* ---- placement ---- */

struct cand {
	uint64_t addr, dist;
};

static void add_cand(struct cand *c, size_t *n, size_t cap, uint64_t addr, uint64_t near)
{
	uint64_t d = addr > near ? addr - near : near - addr;

	if (d + PROBE_CHUNK_SIZE >= (uint64_t)REACH || *n == cap)
		return;
	c[*n].addr = addr;
	c[*n].dist = d;
	(*n)++;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->dist < y->dist ? -1 : x->dist > y->dist;
}

/* The brk heap grows up from the end of the executable's image: keep its gap free. */
static bool below_brk(const struct maps *m, size_t i)
{
	const struct map_ent *e = &m->e[i];

	return e->heap || e->exe || (i > 0 && m->e[i - 1].exe && m->e[i - 1].end == e->start);
}

/* Free gaps near `near`, nearest first: just below the upper neighbour, or just above the
 * lower one (not where a stack or the heap grows). */
static size_t candidates(const struct maps *m, uint64_t near, struct cand *c, size_t cap)
{
	uint64_t need = PROBE_CHUNK_SIZE + 2 * GUARD, prev_end = 0x100000;
	size_t n = 0, i;

	for (i = 0; i <= m->n; i++) {
		uint64_t start = i < m->n ? m->e[i].start : 0x7ffffffff000ull;

		if (start > prev_end && start - prev_end >= need) {
			if (i < m->n && !m->e[i].stack)
				add_cand(c, &n, cap, start - GUARD - PROBE_CHUNK_SIZE, near);
			if (i == 0 || !below_brk(m, i - 1))
				add_cand(c, &n, cap, prev_end + GUARD, near);
		}
		if (i < m->n && m->e[i].end > prev_end)
			prev_end = m->e[i].end;
	}
	qsort(c, n, sizeof(*c), cand_cmp);
	return n;
}

static int inject_mmap(struct live *l, struct proc_thread *th, taddr_t gadget, uint64_t addr,
		       uint64_t *out)
{
	uint64_t args[7] = {SYS_mmap,
			    addr,
			    PROBE_CHUNK_SIZE,
			    PROT_READ | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			    (uint64_t)-1,
			    0};
	uint64_t ret = 0;
	int rc = live_inject_syscall(l, th, gadget, args, &ret);

	if (rc)
		return rc;
	if (ret > (uint64_t)-4096)
		return (int)(int64_t)ret;
	*out = ret;
	return 0;
}

static void inject_munmap(struct live *l, struct proc_thread *th, taddr_t gadget, uint64_t addr)
{
	uint64_t args[7] = {SYS_munmap, addr, PROBE_CHUNK_SIZE, 0, 0, 0, 0}, ret;

	live_inject_syscall(l, th, gadget, args, &ret);
}

static int try_places(struct live *l, struct proc_thread *th, taddr_t gadget, const struct cand *c,
		      size_t n, uint64_t near, uint64_t *out)
{
	int rc = -ERANGE;

	for (size_t i = 0; i < n && i < MAX_TRIES; i++) {
		uint64_t got = 0, d;

		rc = inject_mmap(l, th, gadget, c[i].addr, &got);
		live_log(l, "mmap at 0x%llx: %d got 0x%llx", (unsigned long long)c[i].addr, rc,
			 (unsigned long long)got);
		if (rc == -EEXIST || rc == -ENOMEM || rc == -EPERM)
			continue;
		if (rc)
			return rc;
		/* Kernels without MAP_FIXED_NOREPLACE take the address as a hint only. */
		d = got > near ? got - near : near - got;
		if (d + PROBE_CHUNK_SIZE < (uint64_t)REACH) {
			*out = got;
			return 0;
		}
		inject_munmap(l, th, gadget, got);
		rc = -ERANGE;
	}
	return rc;
}

/* A `syscall` gadget known (from m, or maps read now when m is NULL) and a stopped thread of p
 * to run injected syscalls on (give it back with probe_release_thread). NULL and *rc. */
static struct proc_thread *injector(struct live *l, struct proc *p, struct probe_space *ps,
				    const struct maps *m, bool *held, int *rc)
{
	struct proc_thread *th;
	struct maps own;

	if (!gadget_ok(l, p, ps->gadget)) {
		if (!m && (*rc = maps_read(p->pid, &own)))
			return NULL;
		ps->gadget = find_gadget(l, p, m ? m : &own);
		if (!m)
			free(own.e);
	}
	*rc = -ENOEXEC;
	if (!ps->gadget)
		return NULL;
	*rc = -ESRCH;
	th = probe_stopped_thread(l, p, held);
	return th;
}

static int map_chunk(struct live *l, struct proc *p, struct probe_space *ps, uint64_t near,
		     struct probe_chunk **out)
{
	struct cand c[64];
	struct maps m;
	struct proc_thread *th;
	struct probe_chunk *ch;
	uint64_t base = 0;
	size_t n;
	bool held;
	int rc = maps_read(p->pid, &m);

	if (rc)
		return rc;
	n = candidates(&m, near, c, sizeof(c) / sizeof(c[0]));
	th = injector(l, p, ps, &m, &held, &rc);
	free(m.e);
	if (!th)
		return rc;
	rc = try_places(l, th, ps->gadget, c, n, near, &base);
	probe_release_thread(l, th, held);
	if (rc) {
		live_log(l, "scratch near 0x%llx: %zu places tried: %s", (unsigned long long)near,
			 n, strerror(-rc));
		return rc;
	}
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->base = base;
	ch->nfree = PROBE_CHUNK_SLOTS;
	ch->next = ps->chunks;
	ps->chunks = ch;
	live_log(l, "scratch chunk at 0x%llx for code near 0x%llx", (unsigned long long)base,
		 (unsigned long long)near);
	*out = ch;
	return 0;
}

/* ---- slots ---- */

static bool falls_through(enum x86_64_insn_class cls)
{
	return cls != X86_64_INSN_JMP && cls != X86_64_INSN_JMP_INDIRECT && cls != X86_64_INSN_RET;
}

/* The relocated copy, then a jump back to the instruction after the site. */
static int build_slot(const struct probe_site *s, taddr_t slot, uint8_t *out, size_t *len)
{
	taddr_t next = s->addr + s->insn.len, at;
	int64_t d;
	int rc = x86_64_insn_relocate(&s->insn, slot, out, len);

	if (rc || !falls_through(s->insn.cls))
		return rc;
	at = slot + *len;
	d = (int64_t)(next - (at + 5));
	if (d >= INT32_MIN && d <= INT32_MAX) {
		uint32_t u = (uint32_t)(int32_t)d;

		out[(*len)++] = 0xe9;
		memcpy(out + *len, &u, 4);
		*len += 4;
		return 0;
	}
	memcpy(out + *len, "\xff\x25\0\0\0\0", 6); /* jmp *0(%rip) */
	memcpy(out + *len + 6, &next, 8);
	*len += 14;
	return 0;
}

static int free_index(const struct probe_chunk *c)
{
	for (unsigned w = 0; w < PROBE_CHUNK_SLOTS / 64; w++)
		if (~c->used[w])
			return (int)(w * 64 + (unsigned)__builtin_ctzll(~c->used[w]));
	return -1;
}

/* 0; -ERANGE (not in reach from this chunk) / -ENOSPC (full): try another; -errno. */
static int try_chunk(struct live *l, struct proc *p, struct probe_chunk *c, struct probe_site *s)
{
	uint8_t code[PROBE_SLOT_SIZE];
	size_t len = 0;
	int idx = c->nfree ? free_index(c) : -1, rc;
	taddr_t slot;

	if (idx < 0)
		return -ENOSPC;
	slot = c->base + (taddr_t)idx * PROBE_SLOT_SIZE;
	rc = build_slot(s, slot, code, &len);
	if (rc)
		return rc;
	rc = live_mem_write_raw(l, p, slot, code, len);
	if (rc)
		return rc;
	c->used[idx / 64] |= 1ull << (idx % 64);
	c->nfree--;
	s->slot = slot;
	s->chunk = c;
	s->slot_idx = (unsigned)idx;
	return 0;
}

int probe_slot_assign(struct live *l, struct proc *p, struct probe_space *ps, struct probe_site *s)
{
	struct probe_chunk *c;
	int rc;

	for (c = ps->chunks; c; c = c->next) {
		rc = try_chunk(l, p, c, s);
		if (rc != -ERANGE && rc != -ENOSPC)
			return rc;
	}
	rc = map_chunk(l, p, ps, s->addr, &c);
	if (rc == -ERANGE || rc == -EEXIST || rc == -ENOMEM)
		return -ERANGE; /* no free gap within reach */
	if (rc)
		return rc;
	return try_chunk(l, p, c, s);
}

/* ---- runs of slots for pads and the agent (never released: a thread may still be inside) ---- */

static long free_run(const struct probe_chunk *c, unsigned k)
{
	unsigned run = 0;

	for (unsigned i = 0; i < PROBE_CHUNK_SLOTS; i++) {
		run = c->used[i / 64] & (1ull << (i % 64)) ? 0 : run + 1;
		if (run == k)
			return (long)(i + 1 - k);
	}
	return -1;
}

static bool reaches(const struct probe_chunk *c, uint64_t near)
{
	uint64_t d = c->base > near ? c->base - near : near - c->base;

	return d + PROBE_CHUNK_SIZE < (uint64_t)REACH;
}

int probe_scratch_run(struct live *l, struct proc *p, struct probe_space *ps, uint64_t near,
		      size_t n, taddr_t *at)
{
	unsigned k = (unsigned)((n + PROBE_SLOT_SIZE - 1) / PROBE_SLOT_SIZE);
	struct probe_chunk *c;
	long idx = -1;
	int rc;

	if (!k || k > PROBE_CHUNK_SLOTS || !near)
		return -EINVAL;
	for (c = ps->chunks; c; c = c->next)
		if (reaches(c, near) && c->nfree >= k && (idx = free_run(c, k)) >= 0)
			break;
	if (!c) {
		rc = map_chunk(l, p, ps, near, &c);
		if (rc)
			return rc == -EEXIST || rc == -ENOMEM ? -ERANGE : rc;
		idx = free_run(c, k);
	}
	for (unsigned i = 0; i < k; i++)
		c->used[(idx + i) / 64] |= 1ull << ((idx + i) % 64);
	c->nfree -= k;
	*at = c->base + (taddr_t)idx * PROBE_SLOT_SIZE;
	return 0;
}

int probe_syscall(struct live *l, struct proc *p, struct probe_space *ps, const uint64_t args[7],
		  uint64_t *ret)
{
	bool held;
	int rc;
	struct proc_thread *th = injector(l, p, ps, NULL, &held, &rc);

	if (!th)
		return rc;
	rc = live_inject_syscall(l, th, ps->gadget, args, ret);
	probe_release_thread(l, th, held);
	return rc;
}

void probe_slot_release(struct probe_site *s)
{
	struct probe_chunk *c = s->chunk;

	if (!c)
		return;
	c->used[s->slot_idx / 64] &= ~(1ull << (s->slot_idx % 64));
	c->nfree++;
	s->chunk = NULL;
	s->slot = 0;
}

void probe_chunks_forget(struct probe_space *ps)
{
	while (ps->chunks) {
		struct probe_chunk *c = ps->chunks;

		ps->chunks = c->next;
		free(c);
	}
}
