/* dwarfinfo_units: the compilation units of a file and which of them this process may read.
 * The index walks (dwarfinfo.c, dwarfinfo_inline.c) record every unit's header offset; with
 * dwarfinfo_vet_units on, a unit is handed to libdwarf here only after a throwaway child read
 * all of it (dwarfvet_units), so a big library costs the units of what is traced. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "stub/debuginfo/dwarfinfo_internal.h"

int di_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void dwarfinfo_vet_units(struct dwarfinfo *di)
{
	if (di)
		di->vet_units = true;
}

int di_unit_record(struct dwarfinfo *di, uint64_t off, uint64_t end)
{
	if (di->nunits && di->units[di->nunits - 1].off >= off)
		return 0; /* a second walk: recorded already */
	if (di->nunits == di->unitcap) {
		size_t ncap = di->unitcap ? di->unitcap * 2 : 64;
		struct di_unit *n = realloc(di->units, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		di->units = n;
		di->unitcap = ncap;
	}
	di->units[di->nunits++] = (struct di_unit){off, end, 0};
	return 0;
}

static struct di_unit *find(struct dwarfinfo *di, uint64_t off)
{
	size_t lo = 0, hi = di->nunits;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct di_unit *u = &di->units[mid];

		if (off < u->off)
			hi = mid;
		else if (off >= u->end)
			lo = mid + 1;
		else
			return u;
	}
	return NULL;
}

const struct di_unit *di_unit_of(struct dwarfinfo *di, uint64_t off)
{
	return find(di, off);
}

/* Vet the units in v[n] (states 0); each gets its verdict. */
static void vet(struct dwarfinfo *di, struct di_unit **v, size_t n)
{
	uint64_t *offs = calloc(n, sizeof(*offs));
	int *res = calloc(n, sizeof(*res));

	if (offs && res) {
		for (size_t i = 0; i < n; i++)
			offs[i] = v[i]->off;
		/* no verdict (fork failed, no memory): not read now, asked again next time */
		if (!dwarfvet_units(di->path, offs, n, res, DWARFVET_TIMEOUT_S)) {
			for (size_t i = 0; i < n; i++) {
				v[i]->state = res[i] ? -1 : 1;
				if (res[i] && !di->warned) {
					di->warned = true;
					fprintf(stderr,
						"tracestub: warning: %s: libdwarf %s reading the "
						"unit at 0x%llx; its functions are traced without "
						"DWARF\n",
						di->path,
						res[i] == -ETIMEDOUT ? "hangs" : "crashes",
						(unsigned long long)v[i]->off);
				}
			}
		}
	}
	free(offs);
	free(res);
}

bool di_unit_ok(struct dwarfinfo *di, uint64_t off)
{
	struct di_unit *u;

	if (!di->vet_units || di->indexing)
		return true;
	if (!(u = find(di, off)))
		return false; /* not in a unit the index walk saw: not read at all */
	if (!u->state)
		vet(di, &u, 1);
	return u->state > 0;
}

bool di_unit_ok_at(struct dwarfinfo *di, uint64_t off)
{
	struct di_unit *u;

	if (!di->vet_units || di->indexing)
		return true;
	u = find(di, off);
	return u && u->off == off && u->state > 0;
}

void di_units_vet_all(struct dwarfinfo *di)
{
	struct di_unit **v;
	size_t n = 0;

	if (!di->vet_units || di->indexing ||
	    !(v = calloc(di->nunits ? di->nunits : 1, sizeof(*v))))
		return;
	for (size_t i = 0; i < di->nunits; i++)
		if (!di->units[i].state)
			v[n++] = &di->units[i];
	if (n)
		vet(di, v, n);
	free(v);
}

void di_units_save(struct dwarfinfo *di, struct di_cbuf *b)
{
	di_cbuf_u64(b, di->nunits);
	for (size_t i = 0; i < di->nunits; i++) {
		di_cbuf_u64(b, di->units[i].off);
		di_cbuf_u64(b, di->units[i].end);
	}
}

int di_units_load(struct dwarfinfo *di, struct di_creader *r)
{
	uint64_t n = di_creader_u64(r);

	if (r->bad || n > (r->len - r->at) / 16)
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t off = di_creader_u64(r), end = di_creader_u64(r);

		if (r->bad || end <= off || (di->nunits && off < di->units[di->nunits - 1].end) ||
		    di_unit_record(di, off, end))
			return -EINVAL;
	}
	return 0;
}
