/* The agent's tracestub side: injection and site patching (see agent.h; the drain is in
 * drain.c). */
#include "stub/agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/x86_64/pad.h"
#include "arch/x86_64/regs.h"
#include "stub/agent/internal.h"
#include "stub/live/live.h"

#define HDR_BYTES 16384
_Static_assert(sizeof(struct agent_hdr) <= HDR_BYTES, "the header fits its page");
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
	agent_clock_start(a);
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
