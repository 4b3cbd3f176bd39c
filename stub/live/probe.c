/* Internal probes (stub/probe.h): the per-process site table (hash by address, several
 * fn+ctx owners per site, the BKPT_OWNER_TRACE bit in the breakpoint table so reads stay
 * shadowed and a user Z0 coexists), the step-over strategy chosen once at insert time, and
 * vectored reads. The hit path is stub/probe_step.c (inline steps stub/probe_inline.c),
 * scratch slots stub/probe_scratch.c, hooks and process lifecycle stub/probe_proc.c. */
#include "stub/live/live.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/live/internal.h"

void probe_set_error(struct live *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->probe_err, sizeof(l->probe_err), fmt, ap);
	va_end(ap);
	live_log(l, "probe: %s", l->probe_err);
}

const char *live_last_error(const struct live *l)
{
	return l->probe_err;
}

/* ---- spaces ---- */

struct probe_space *probe_space_new(struct live *l, struct proc *p)
{
	struct probe_space *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->nbuckets = 256;
	ps->buckets = calloc(ps->nbuckets, sizeof(*ps->buckets));
	if (p != l->cur)
		ps->own_bk = bkpt_table_new();
	if (!ps->buckets || (p != l->cur && !ps->own_bk)) {
		free(ps->buckets);
		bkpt_table_free(ps->own_bk);
		free(ps);
		return NULL;
	}
	p->ps = ps;
	return ps;
}

struct probe_space *probe_space_of(struct live *l, struct proc *p)
{
	struct proc *par;

	if (p->ps || !p->vfork_keep)
		return p->ps;
	par = proc_find(&l->pt, p->parent);
	return par ? par->ps : NULL;
}

struct bkpt_table *live_proc_bk(struct live *l, struct proc *p)
{
	struct proc *par;

	if (p == l->cur)
		return l->bk;
	if (p->vfork_keep) {
		par = proc_find(&l->pt, p->parent);
		return par && par != p ? live_proc_bk(l, par) : NULL;
	}
	return p->ps ? p->ps->own_bk : NULL;
}

static void site_free(struct probe_site *s)
{
	probe_slot_release(s);
	free(s->owners);
	free(s);
}

static void grow(struct probe_space *ps)
{
	size_t n = ps->nbuckets * 2, i, oldn = ps->nbuckets;
	struct probe_site **nb = calloc(n, sizeof(*nb)), **old = ps->buckets;

	if (!nb)
		return; /* longer chains, still correct */
	ps->buckets = nb;
	ps->nbuckets = n;
	for (i = 0; i < oldn; i++) {
		struct probe_site *s = old[i], *next;

		for (; s; s = next) {
			size_t k = probe_bucket(ps, s->addr);

			next = s->next;
			s->next = nb[k];
			nb[k] = s;
		}
	}
	free(old);
}

void probe_site_link(struct probe_space *ps, struct probe_site *s)
{
	size_t k = probe_bucket(ps, s->addr);

	s->next = ps->buckets[k];
	ps->buckets[k] = s;
	if (++ps->count > ps->nbuckets)
		grow(ps);
}

static void site_unlink(struct probe_space *ps, struct probe_site *s)
{
	struct probe_site **pp = &ps->buckets[probe_bucket(ps, s->addr)];

	while (*pp && *pp != s)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = s->next;
		ps->count--;
	}
	s->next = NULL;
}

void probe_space_clear(struct probe_space *ps)
{
	size_t i;

	for (i = 0; i < ps->nbuckets; i++) {
		struct probe_site *s = ps->buckets[i], *next;

		for (; s; s = next) {
			next = s->next;
			site_free(s);
		}
		ps->buckets[i] = NULL;
	}
	while (ps->dead) {
		struct probe_site *s = ps->dead;

		ps->dead = s->next;
		site_free(s);
	}
	ps->count = 0;
	probe_chunks_forget(ps);
	if (ps->own_bk)
		bkpt_forget_all(ps->own_bk);
	ps->gadget = ps->rdebug = ps->rbrk = 0;
}

/* Threads of vfork children stepping p's slots lose their site (p's space goes away). */
static void orphan_vfork_steppers(struct live *l, struct proc *p)
{
	struct proc *c;

	for (c = l->pt.procs; c; c = c->next) {
		struct proc_thread *th;

		if (c == p || !c->vfork_keep || c->parent != p->pid)
			continue;
		for (th = c->threads; th; th = th->next) {
			th->so_site = NULL;
			th->so = PROC_SO_NONE;
		}
	}
}

void probe_proc_gone(struct live *l, struct proc *p)
{
	struct proc_thread *th;

	for (th = p->threads; th; th = th->next)
		probe_thread_gone(l, th);
	if (!p->ps)
		return;
	orphan_vfork_steppers(l, p);
	probe_space_clear(p->ps);
	free(p->ps->buckets);
	bkpt_table_free(p->ps->own_bk);
	free(p->ps);
	p->ps = NULL;
}

/* ---- owners and sites ---- */

static int owner_add(struct probe_site *s, probe_hit_fn fn, void *ctx)
{
	unsigned i;

	for (i = 0; i < s->nowners; i++)
		if (s->owners[i].fn == fn && s->owners[i].ctx == ctx)
			return -EEXIST;
	if (s->nowners == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 2;
		struct probe_owner *o = realloc(s->owners, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		s->owners = o;
		s->cap = cap;
	}
	s->owners[s->nowners].fn = fn;
	s->owners[s->nowners].ctx = ctx;
	s->nowners++;
	return 0;
}

static unsigned live_owners(const struct probe_site *s)
{
	unsigned i, n = 0;

	for (i = 0; i < s->nowners; i++)
		n += s->owners[i].fn != NULL;
	return n;
}

static void owners_compact(struct probe_site *s)
{
	unsigned i, k = 0;

	for (i = 0; i < s->nowners; i++)
		if (s->owners[i].fn)
			s->owners[k++] = s->owners[i];
	s->nowners = k;
}

void probe_site_unbusy(struct live *l, struct proc *p, struct probe_site *s)
{
	struct probe_space *ps = probe_space_of(l, p);
	struct probe_site **pp;

	if (--s->busy)
		return;
	owners_compact(s);
	if (!s->dead)
		return;
	for (pp = ps ? &ps->dead : NULL; pp && *pp && *pp != s; pp = &(*pp)->next)
		;
	if (pp && *pp)
		*pp = s->next;
	site_free(s);
}

/* The original instruction bytes at addr (int3s of any owner shadowed), decoded. */
static int read_insn(struct live *l, struct proc *p, taddr_t addr, struct x86_64_insn *insn)
{
	struct bkpt_table *bk = live_proc_bk(l, p);
	uint8_t code[X86_64_INSN_MAX];
	size_t done = 0;
	int rc = live_mem_read_raw(l, p, addr, code, sizeof(code), &done);

	if (rc || !done) {
		probe_set_error(l, "cannot read code at 0x%llx: %s", (unsigned long long)addr,
				strerror(rc ? -rc : EIO));
		return rc ? rc : -EIO;
	}
	if (bk)
		bkpt_shadow(bk, addr, code, done);
	if (x86_64_insn_decode(code, done, addr, insn)) {
		probe_set_error(l, "cannot decode the instruction at 0x%llx",
				(unsigned long long)addr);
		return -EINVAL;
	}
	if (insn->cls == X86_64_INSN_INT3) {
		probe_set_error(l, "0x%llx holds the program's own int3: nothing to step over",
				(unsigned long long)addr);
		return -EINVAL;
	}
	return 0;
}

/* Decide how the site is stepped over; an out-of-line slot is written now. */
static int choose_strategy(struct live *l, struct proc *p, struct probe_space *ps,
			   struct probe_site *s)
{
	int rc;

	s->strategy = l->probe_force_inline ? X86_64_STEP_INLINE : s->insn.strategy;
	if (s->strategy == X86_64_STEP_OUT_OF_LINE) {
		rc = probe_slot_assign(l, p, ps, s);
		if (rc == -ERANGE || rc == -ENOTSUP) {
			live_log(l, "probe 0x%llx (%s): no slot in reach, stepping inline",
				 (unsigned long long)s->addr, s->insn.text);
			s->strategy = X86_64_STEP_INLINE;
		} else if (rc) {
			probe_set_error(l, "no scratch slot for 0x%llx (%s): %s",
					(unsigned long long)s->addr, s->insn.text, strerror(-rc));
			return rc;
		}
	}
	/* Inline means every other thread waits while the instruction runs: a blocking
	 * syscall would hold them for as long as it blocks. */
	if (s->strategy == X86_64_STEP_INLINE && s->insn.cls == X86_64_INSN_SYSCALL) {
		probe_set_error(l,
				"0x%llx (%s): no scratch slot within 2 GiB and stepping a "
				"syscall inline could stop every thread indefinitely",
				(unsigned long long)s->addr, s->insn.text);
		return -EINVAL;
	}
	return 0;
}

static int site_create(struct live *l, struct proc *p, struct probe_space *ps, taddr_t addr,
		       probe_hit_fn fn, void *ctx)
{
	struct probe_site *s = calloc(1, sizeof(*s));
	struct bkpt_table *bk = live_proc_bk(l, p);
	struct bkpt_mem mem;
	int rc;

	if (!s || !bk) {
		free(s);
		return -ENOMEM;
	}
	s->addr = addr;
	rc = read_insn(l, p, addr, &s->insn);
	if (!rc)
		rc = owner_add(s, fn, ctx);
	if (!rc)
		rc = choose_strategy(l, p, ps, s);
	if (rc) {
		site_free(s);
		return rc;
	}
	probe_site_link(ps, s);
	live_bkpt_mem(l, p, &mem);
	rc = bkpt_insert(bk, &mem, addr, BKPT_OWNER_TRACE);
	if (rc) {
		probe_set_error(l, "cannot write an int3 at 0x%llx: %s", (unsigned long long)addr,
				strerror(-rc));
		site_unlink(ps, s);
		site_free(s);
		return rc;
	}
	live_log(l, "probe 0x%llx: %s, %s", (unsigned long long)addr, s->insn.text,
		 s->strategy == X86_64_STEP_EMULATE	  ? "emulated"
		 : s->strategy == X86_64_STEP_OUT_OF_LINE ? "out of line"
							  : "inline");
	return 0;
}

int live_probe_insert(struct live *l, pid_t pid, uint64_t addr, probe_hit_fn fn, void *ctx)
{
	struct proc *p = proc_find(&l->pt, pid);
	struct probe_space *ps;
	struct probe_site *s;

	l->probe_err[0] = '\0';
	if (!fn)
		return -EINVAL;
	if (!p || p->fork_child) {
		probe_set_error(l, "process %d is not traced", (int)pid);
		return -ESRCH;
	}
	if (p->vfork_keep) {
		probe_set_error(l, "process %d shares its parent's memory (vfork)", (int)pid);
		return -EINVAL;
	}
	ps = p->ps ? p->ps : probe_space_new(l, p);
	if (!ps)
		return -ENOMEM;
	s = probe_site_find(ps, addr);
	if (s)
		return owner_add(s, fn, ctx);
	return site_create(l, p, ps, addr, fn, ctx);
}

int live_probe_remove(struct live *l, pid_t pid, uint64_t addr, probe_hit_fn fn, void *ctx)
{
	struct proc *p = proc_find(&l->pt, pid);
	struct probe_site *s = p && p->ps ? probe_site_find(p->ps, addr) : NULL;
	struct bkpt_mem mem;
	unsigned i;
	int rc;

	if (!s)
		return -ENOENT;
	for (i = 0; i < s->nowners; i++)
		if (s->owners[i].fn == fn && s->owners[i].ctx == ctx)
			break;
	if (i == s->nowners)
		return -ENOENT;
	/* A callback may remove owners of the site it runs for: leave a hole until the
	 * loop over owners is done. */
	s->owners[i].fn = NULL;
	if (!s->busy)
		owners_compact(s);
	if (live_owners(s))
		return 0;
	live_bkpt_mem(l, p, &mem);
	rc = bkpt_remove(live_proc_bk(l, p), &mem, addr, BKPT_OWNER_TRACE);
	site_unlink(p->ps, s);
	if (s->busy) {
		s->dead = true;
		s->next = p->ps->dead;
		p->ps->dead = s;
	} else {
		site_free(s);
	}
	return rc;
}

/* ---- reads ---- */

/* Shadow int3s in the bytes process_vm_readv put into local[] for remote[]. */
static void shadow_iov(const struct bkpt_table *bk, const struct iovec *local,
		       const struct iovec *remote, int n, size_t total)
{
	size_t loff = 0;
	int li = 0, ri;

	for (ri = 0; ri < n && total; ri++) {
		taddr_t a = (taddr_t)(uintptr_t)remote[ri].iov_base;
		size_t len = remote[ri].iov_len < total ? remote[ri].iov_len : total;

		total -= len;
		while (len) {
			size_t k;

			while (li < n && loff == local[li].iov_len) {
				li++;
				loff = 0;
			}
			if (li >= n)
				return;
			k = local[li].iov_len - loff < len ? local[li].iov_len - loff : len;
			bkpt_shadow(bk, a, (uint8_t *)local[li].iov_base + loff, k);
			a += k;
			len -= k;
			loff += k;
		}
	}
}

ssize_t live_readv(struct live *l, pid_t pid, const struct iovec *local, const struct iovec *remote,
		   int n)
{
	struct proc *p = proc_find(&l->pt, pid);
	struct bkpt_table *bk;
	ssize_t r;

	if (!p)
		return -ESRCH;
	if (n <= 0)
		return n ? -EINVAL : 0;
	r = process_vm_readv(pid, local, (unsigned long)n, remote, (unsigned long)n, 0);
	if (r < 0)
		return -errno;
	bk = live_proc_bk(l, p);
	if (bk && (bkpt_count(bk) || bkpt_patch_count(bk)))
		shadow_iov(bk, local, remote, n, (size_t)r);
	return r;
}
