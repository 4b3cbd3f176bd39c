/* module: the module set of a process from its maps text, biases from PT_LOAD headers. Owns the
 * elfsym and cfi objects of each module. */
#include "stub/module.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/cfi.h"
#include "stub/elfsym.h"

static int add_module(struct module_set *set, const char *path, uint64_t start, uint64_t end,
		      uint64_t off)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->mods[i].path, path) == 0)
			return 0;
	struct elfsym *es = NULL;
	if (elfsym_open(path, &es) != 0)
		return 0; /* not an ELF we can read: no symbols, not an error for the set */
	uint64_t vaddr;
	if (elfsym_offset_to_vaddr(es, off, &vaddr) != 0) {
		elfsym_free(es);
		return 0;
	}
	struct module *nm = realloc(set->mods, (set->n + 1) * sizeof(*nm));
	char *p = strdup(path);
	if (!nm || !p) {
		if (nm)
			set->mods = nm;
		free(p);
		elfsym_free(es);
		return -ENOMEM;
	}
	set->mods = nm;
	set->mods[set->n++] = (struct module){.path = p,
					      .start = start,
					      .end = end,
					      .bias = start - vaddr,
					      .syms = es,
					      .cfi = NULL,
					      .cfi_err = 1};
	return 0;
}

int module_set_from_maps(const char *maps, size_t len, struct module_set **out)
{
	*out = NULL;
	struct module_set *set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(maps + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (maps + pos)) : len - pos;
		char line[4096 + 128];
		if (ll < sizeof(line)) {
			memcpy(line, maps + pos, ll);
			line[ll] = 0;
			uint64_t s, e, off;
			char perms[8];
			int path_at = 0;
			if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", &s,
				   &e, perms, &off, &path_at) == 4 &&
			    path_at > 0 && strchr(perms, 'x') && line[path_at] == '/') {
				int err = add_module(set, line + path_at, s, e, off);
				if (err) {
					module_set_free(set);
					return err;
				}
			}
		}
		pos += ll + 1;
	}
	*out = set;
	return 0;
}

int module_set_from_pid(pid_t pid, struct module_set **out)
{
	char path[64];
	*out = NULL;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap += 65536;
		}
		size_t r = fread(buf + len, 1, cap - len, f);
		if (r == 0)
			break;
		len += r;
	}
	err = module_set_from_maps(buf ? buf : "", len, out);
out:
	free(buf);
	fclose(f);
	return err;
}

void module_set_free(struct module_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->mods[i].path);
		elfsym_free(set->mods[i].syms);
		cfi_free(set->mods[i].cfi);
	}
	free(set->mods);
	free(set);
}

struct module *module_set_find(struct module_set *set, uint64_t addr)
{
	for (size_t i = 0; i < set->n; i++)
		if (addr >= set->mods[i].start && addr < set->mods[i].end)
			return &set->mods[i];
	return NULL;
}

struct cfi *module_cfi(struct module *m)
{
	if (m->cfi_err == 1)
		m->cfi_err = cfi_open(m->path, &m->cfi);
	return m->cfi;
}

int module_set_cfi_lookup(void *ctx, uint64_t pc, struct cfi **cfi, uint64_t *bias)
{
	struct module *m = module_set_find(ctx, pc);
	if (!m)
		return -ENOENT;
	*cfi = module_cfi(m);
	*bias = m->bias;
	return 0;
}
