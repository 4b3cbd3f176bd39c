/* Breakpoint site table: chained hash by address. Owns site bookkeeping and the
 * shadowing of original bytes; touches target memory only through struct
 * bkpt_mem and never decides when to step over a site. */
#include "stub/live/bkpt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/regs.h"

struct bkpt_site {
	taddr_t addr;
	struct bkpt_site *next;
	uint8_t orig;
	uint8_t owners;
};

/* A multi-byte patch (a fast site's jump to its pad): its original bytes. */
struct bkpt_patch {
	taddr_t addr;
	struct bkpt_patch *next;
	uint8_t len;
	uint8_t orig[BKPT_PATCH_MAX];
	uint8_t code[BKPT_PATCH_MAX];
};

struct bkpt_table {
	struct bkpt_site **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	struct bkpt_patch *patches;
	size_t npatches;
};

static size_t slot_of(const struct bkpt_table *t, taddr_t addr)
{
	uint64_t h = addr * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (t->nbuckets - 1);
}

struct bkpt_table *bkpt_table_new(void)
{
	struct bkpt_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nbuckets = 256;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	return t;
}

void bkpt_table_free(struct bkpt_table *t)
{
	if (!t)
		return;
	bkpt_forget_all(t);
	free(t->buckets);
	free(t);
}

static struct bkpt_site *find(const struct bkpt_table *t, taddr_t addr)
{
	struct bkpt_site *s;

	for (s = t->buckets[slot_of(t, addr)]; s; s = s->next)
		if (s->addr == addr)
			return s;
	return NULL;
}

static void grow(struct bkpt_table *t)
{
	size_t n = t->nbuckets * 2, i;
	struct bkpt_site **nb = calloc(n, sizeof(*nb));
	struct bkpt_site **old = t->buckets;
	size_t oldn = t->nbuckets;

	if (!nb)
		return; /* keep the longer chains; still correct */
	t->buckets = nb;
	t->nbuckets = n;
	for (i = 0; i < oldn; i++) {
		struct bkpt_site *s = old[i], *next;

		for (; s; s = next) {
			size_t k = slot_of(t, s->addr);

			next = s->next;
			s->next = nb[k];
			nb[k] = s;
		}
	}
	free(old);
}

int bkpt_insert(struct bkpt_table *t, const struct bkpt_mem *mem, taddr_t addr, unsigned owner)
{
	struct bkpt_site *s = find(t, addr);
	uint8_t orig, trap = X86_64_BREAKPOINT_BYTE;
	size_t k;
	int rc;

	if (s) {
		s->owners |= (uint8_t)owner;
		return 0;
	}
	if (bkpt_patch_overlaps(t, addr, 1))
		return -EBUSY;
	rc = mem->read(mem->ctx, addr, &orig, 1);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	rc = mem->write(mem->ctx, addr, &trap, 1);
	if (rc) {
		free(s);
		return rc;
	}
	s->addr = addr;
	s->orig = orig;
	s->owners = (uint8_t)owner;
	k = slot_of(t, addr);
	s->next = t->buckets[k];
	t->buckets[k] = s;
	if (++t->count > t->nbuckets)
		grow(t);
	return 0;
}

static void unlink_site(struct bkpt_table *t, struct bkpt_site *s)
{
	struct bkpt_site **pp = &t->buckets[slot_of(t, s->addr)];

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	t->count--;
	free(s);
}

int bkpt_remove(struct bkpt_table *t, const struct bkpt_mem *mem, taddr_t addr, unsigned owner)
{
	struct bkpt_site *s = find(t, addr);
	int rc;

	if (!s || !(s->owners & owner))
		return -ENOENT;
	s->owners &= (uint8_t)~owner;
	if (s->owners)
		return 0;
	rc = mem->write(mem->ctx, addr, &s->orig, 1);
	unlink_site(t, s);
	return rc;
}

int bkpt_restore_into(const struct bkpt_table *t, const struct bkpt_mem *mem)
{
	int first = 0;
	size_t i;

	for (const struct bkpt_patch *pt = t->patches; pt; pt = pt->next) {
		int rc = mem->write(mem->ctx, pt->addr, pt->orig, pt->len);

		if (rc && !first)
			first = rc;
	}
	for (i = 0; i < t->nbuckets; i++) {
		const struct bkpt_site *s;

		for (s = t->buckets[i]; s; s = s->next) {
			int rc = mem->write(mem->ctx, s->addr, &s->orig, 1);

			if (rc && !first)
				first = rc;
		}
	}
	return first;
}

int bkpt_remove_all(struct bkpt_table *t, const struct bkpt_mem *mem)
{
	int rc = bkpt_restore_into(t, mem);

	bkpt_forget_all(t);
	return rc;
}

void bkpt_forget_all(struct bkpt_table *t)
{
	size_t i;

	for (i = 0; i < t->nbuckets; i++) {
		struct bkpt_site *s = t->buckets[i], *next;

		for (; s; s = next) {
			next = s->next;
			free(s);
		}
		t->buckets[i] = NULL;
	}
	t->count = 0;
	while (t->patches) {
		struct bkpt_patch *pt = t->patches;

		t->patches = pt->next;
		free(pt);
	}
	t->npatches = 0;
}

unsigned bkpt_owners(const struct bkpt_table *t, taddr_t addr)
{
	const struct bkpt_site *s = find(t, addr);

	return s ? s->owners : 0;
}

bool bkpt_is_inserted(const struct bkpt_table *t, taddr_t addr)
{
	return find(t, addr) != NULL;
}

int bkpt_orig_byte(const struct bkpt_table *t, taddr_t addr, uint8_t *orig)
{
	const struct bkpt_site *s = find(t, addr);

	if (!s)
		return -ENOENT;
	*orig = s->orig;
	return 0;
}

size_t bkpt_count(const struct bkpt_table *t)
{
	return t->count;
}

/* Visit sites inside [addr, addr+len): by address when the range is short, else
 * by site. */
static void visit_range(const struct bkpt_table *t, taddr_t addr, size_t len,
			void (*fn)(struct bkpt_site *s, uint8_t *b), uint8_t *buf)
{
	size_t i;

	if (!t->count || !len)
		return;
	if (len <= t->count) {
		for (i = 0; i < len; i++) {
			struct bkpt_site *s = find(t, addr + i);

			if (s)
				fn(s, &buf[i]);
		}
		return;
	}
	for (i = 0; i < t->nbuckets; i++) {
		struct bkpt_site *s;

		for (s = t->buckets[i]; s; s = s->next)
			if (s->addr >= addr && s->addr - addr < len)
				fn(s, &buf[s->addr - addr]);
	}
}

static void shadow_one(struct bkpt_site *s, uint8_t *b)
{
	*b = s->orig;
}

static void through_one(struct bkpt_site *s, uint8_t *b)
{
	s->orig = *b;
	*b = X86_64_BREAKPOINT_BYTE;
}

/* For each byte of a patch inside [addr, addr+len): fn(patch, index in patch, index in buf). */
static void visit_patches(const struct bkpt_table *t, taddr_t addr, size_t len,
			  void (*fn)(struct bkpt_patch *pt, size_t i, uint8_t *b), uint8_t *buf)
{
	for (struct bkpt_patch *pt = t->patches; pt; pt = pt->next)
		for (size_t i = 0; i < pt->len; i++)
			if (pt->addr + i >= addr && pt->addr + i - addr < len)
				fn(pt, i, &buf[pt->addr + i - addr]);
}

static void shadow_patch(struct bkpt_patch *pt, size_t i, uint8_t *b)
{
	*b = pt->orig[i];
}

static void through_patch(struct bkpt_patch *pt, size_t i, uint8_t *b)
{
	pt->orig[i] = *b;
	*b = pt->code[i];
}

void bkpt_shadow(const struct bkpt_table *t, taddr_t addr, uint8_t *buf, size_t len)
{
	visit_range(t, addr, len, shadow_one, buf);
	visit_patches(t, addr, len, shadow_patch, buf);
}

void bkpt_write_through(struct bkpt_table *t, taddr_t addr, uint8_t *buf, size_t len)
{
	visit_range(t, addr, len, through_one, buf);
	visit_patches(t, addr, len, through_patch, buf);
}

bool bkpt_patch_overlaps(const struct bkpt_table *t, taddr_t addr, size_t len)
{
	for (const struct bkpt_patch *pt = t->patches; pt; pt = pt->next)
		if (pt->addr < addr + len && addr < pt->addr + pt->len)
			return true;
	return false;
}

int bkpt_patch_insert(struct bkpt_table *t, const struct bkpt_mem *mem, taddr_t addr,
		      const uint8_t *code, size_t len)
{
	struct bkpt_patch *pt;
	int rc;

	if (!len || len > BKPT_PATCH_MAX)
		return -EINVAL;
	if (bkpt_patch_overlaps(t, addr, len))
		return -EBUSY;
	for (size_t i = 0; i < len; i++)
		if (find(t, addr + i))
			return -EBUSY;
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->addr = addr;
	pt->len = (uint8_t)len;
	memcpy(pt->code, code, len);
	if ((rc = mem->read(mem->ctx, addr, pt->orig, len)) ||
	    (rc = mem->write(mem->ctx, addr, code, len))) {
		free(pt);
		return rc;
	}
	pt->next = t->patches;
	t->patches = pt;
	t->npatches++;
	return 0;
}

int bkpt_patch_remove(struct bkpt_table *t, const struct bkpt_mem *mem, taddr_t addr)
{
	for (struct bkpt_patch **pp = &t->patches; *pp; pp = &(*pp)->next) {
		struct bkpt_patch *pt = *pp;

		if (pt->addr != addr)
			continue;
		*pp = pt->next;
		t->npatches--;
		int rc = mem->write(mem->ctx, addr, pt->orig, pt->len);
		free(pt);
		return rc;
	}
	return -ENOENT;
}

int bkpt_patch_copy(struct bkpt_table *t, const struct bkpt_table *from)
{
	for (const struct bkpt_patch *pt = from->patches; pt; pt = pt->next) {
		struct bkpt_patch *n = malloc(sizeof(*n));

		if (!n)
			return -ENOMEM;
		*n = *pt;
		n->next = t->patches;
		t->patches = n;
		t->npatches++;
	}
	return 0;
}

size_t bkpt_patch_count(const struct bkpt_table *t)
{
	return t->npatches;
}
