/* module: the module set of a process from its maps text, biases from PT_LOAD headers. Owns the
 * elfsym, cfi and dwarfinfo objects of each module. */
#include "stub/debuginfo/debuginfo.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arch/x86_64/funcscan.h"

static struct module *find_exact(struct module_set *set, const char *path, uint64_t start)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->mods[i]->start == start && !strcmp(set->mods[i]->path, path))
			return set->mods[i];
	return NULL;
}

static bool seen_path(struct module_set *set, const char *path)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->mods[i]->mapped && !strcmp(set->mods[i]->path, path))
			return true;
	return false;
}

/* A stripped program has no symbol for main; its _start passes main to __libc_start_main,
 * and its CFI says where main ends: enough to name backtrace frames "main". */
static void synthesize_main(struct module *m)
{
	uint64_t entry = elfsym_entry(m->syms), off, addr, lo, hi;
	size_t len;
	const uint8_t *img = elfsym_image(m->syms, &len);

	if (!entry || elfsym_find(m->syms, "main") ||
	    elfsym_vaddr_to_offset(m->syms, entry, &off) || off >= len ||
	    x86_64_find_main(img + off, len - off < 128 ? len - off : 128, entry, &addr) ||
	    !module_cfi(m) || cfi_fde_range(m->cfi, addr, &lo, &hi) || lo != addr)
		return;
	elfsym_add(m->syms, "main", addr, hi - lo);
}

/* A separate debug file for a file without DWARF: its path, its .symtab merged (local
 * symbols such as glibc's __GI_ names; names for backtraces through static functions). */
static char *debug_file(const char *path, struct elfsym *es)
{
	char dbg[PATH_MAX];
	struct elfsym *d = NULL;

	if (elfsym_has_dwarf(es) ||
	    debugfile_find(path, es, getenv("TRACESTUB_DEBUG_ROOT"), dbg, sizeof(dbg)))
		return NULL;
	if (!elfsym_open(dbg, &d)) {
		elfsym_merge(es, d);
		elfsym_free(d);
	}
	return strdup(dbg);
}

/* The symbols of a file, shared by every module set that maps it (a traced server's forked
 * workers map the same files: each reading its 9 MB executable and libc's 31 MB debug file
 * again cost a core for a while). Keyed by path and the file's identity; freed with its last
 * user. */
struct syms_entry {
	char *path, *debug_path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct elfsym *es; /* merged with the debug file's symbols, main synthesized */
	unsigned refs;
	struct syms_entry *next;
};
static struct syms_entry *syms_cache;

static struct syms_entry *syms_get(const char *path)
{
	struct syms_entry *e;
	struct stat st;

	if (stat(path, &st))
		return NULL;
	for (e = syms_cache; e; e = e->next)
		if (e->dev == st.st_dev && e->ino == st.st_ino && e->size == st.st_size &&
		    e->mtime.tv_sec == st.st_mtim.tv_sec &&
		    e->mtime.tv_nsec == st.st_mtim.tv_nsec && !strcmp(e->path, path)) {
			e->refs++;
			return e;
		}
	if (!(e = calloc(1, sizeof(*e))) || !(e->path = strdup(path)) ||
	    elfsym_open(path, &e->es) != 0) {
		if (e)
			free(e->path);
		free(e);
		return NULL; /* not an ELF we can read */
	}
	e->debug_path = debug_file(path, e->es);
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->size = st.st_size;
	e->mtime = st.st_mtim;
	e->refs = 1;
	e->next = syms_cache;
	syms_cache = e;
	return e;
}

static void syms_put(struct elfsym *es)
{
	for (struct syms_entry **pp = &syms_cache, *e; (e = *pp); pp = &e->next) {
		if (e->es != es)
			continue;
		if (--e->refs == 0) {
			*pp = e->next;
			elfsym_free(e->es);
			free(e->path);
			free(e->debug_path);
			free(e);
		}
		return;
	}
	elfsym_free(es);
}

static int add_module(struct module_set *set, const char *path, uint64_t start, uint64_t end,
		      uint64_t off)
{
	struct syms_entry *se = syms_get(path);
	struct elfsym *es = se ? se->es : NULL;
	uint64_t vaddr;

	if (!es)
		return 0; /* not an ELF we can read: no symbols, not an error for the set */
	if (elfsym_offset_to_vaddr(es, off, true, &vaddr) != 0) {
		syms_put(es);
		return 0;
	}
	struct module **nm = realloc(set->mods, (set->n + 1) * sizeof(*nm));
	struct module *m = calloc(1, sizeof(*m));
	char *p = strdup(path);
	char *dp = se->debug_path ? strdup(se->debug_path) : NULL;
	if (!nm || !m || !p || (se->debug_path && !dp)) {
		if (nm)
			set->mods = nm;
		free(m);
		free(p);
		free(dp);
		syms_put(es);
		return -ENOMEM;
	}
	const char *slash = strrchr(p, '/');
	*m = (struct module){.path = p,
			     .debug_path = dp,
			     .name = slash ? slash + 1 : p,
			     .start = start,
			     .end = end,
			     .off = off,
			     .bias = start - vaddr,
			     .syms = es,
			     .is_go = elfsym_find(es, "runtime.main") != NULL,
			     .mapped = true,
			     .cfi_err = 1,
			     .dwarf_err = 1};
	set->mods = nm;
	set->mods[set->n++] = m;
	synthesize_main(m);
	return 0;
}

bool module_addr_is_code(const struct module *m, uint64_t addr, uint64_t *file_off)
{
	uint64_t off;

	if (!file_off)
		file_off = &off;
	return addr >= m->start && addr < m->end && addr >= m->bias &&
	       !elfsym_vaddr_to_offset(m->syms, addr - m->bias, file_off) &&
	       *file_off == addr - m->start + m->off;
}

/* One maps line: fills path_at and returns true for a file-backed executable mapping. */
static bool parse_line(char *line, uint64_t *s, uint64_t *e, uint64_t *off, char **path)
{
	char perms[8];
	int path_at = 0;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", s, e, perms, off,
		   &path_at) != 4 ||
	    path_at <= 0 || !strchr(perms, 'x') || line[path_at] != '/')
		return false;
	*path = line + path_at;
	return true;
}

int module_set_update(struct module_set *set, const char *maps, size_t len, size_t *nnew)
{
	size_t before = set->n, pos = 0;

	for (size_t i = 0; i < set->n; i++)
		set->mods[i]->mapped = false;
	while (pos < len) {
		const char *nl = memchr(maps + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (maps + pos)) : len - pos;
		char line[4096 + 128], *path;
		uint64_t s, e, off;
		struct module *m;

		if (ll < sizeof(line)) {
			memcpy(line, maps + pos, ll);
			line[ll] = 0;
			if (parse_line(line, &s, &e, &off, &path)) {
				if ((m = find_exact(set, path, s)) != NULL) {
					m->mapped = true;
				} else if (!seen_path(set, path)) {
					int err = add_module(set, path, s, e, off);
					if (err)
						return err;
				}
			}
		}
		pos += ll + 1;
	}
	if (nnew)
		*nnew = set->n - before;
	return 0;
}

int module_set_from_maps(const char *maps, size_t len, struct module_set **out)
{
	struct module_set *set = calloc(1, sizeof(*set));
	int err;

	*out = NULL;
	if (!set)
		return -ENOMEM;
	err = module_set_update(set, maps, len, NULL);
	if (err) {
		module_set_free(set);
		return err;
	}
	*out = set;
	return 0;
}

static int read_maps(pid_t pid, char **buf, size_t *len)
{
	char path[64];
	size_t cap = 0;
	int err = 0;
	FILE *f;

	*buf = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (;;) {
		if (cap - *len < 4096) {
			char *nb = realloc(*buf, cap + 65536);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			*buf = nb;
			cap += 65536;
		}
		size_t r = fread(*buf + *len, 1, cap - *len, f);
		if (r == 0)
			break;
		*len += r;
	}
	fclose(f);
	return err;
}

int module_set_from_pid(pid_t pid, struct module_set **out)
{
	char *buf;
	size_t len;
	int err = read_maps(pid, &buf, &len);

	*out = NULL;
	if (!err)
		err = module_set_from_maps(buf ? buf : "", len, out);
	free(buf);
	return err;
}

int module_set_update_pid(struct module_set *set, pid_t pid, size_t *nnew)
{
	char *buf;
	size_t len;
	int err = read_maps(pid, &buf, &len);

	if (nnew)
		*nnew = 0;
	if (!err)
		err = module_set_update(set, buf ? buf : "", len, nnew);
	free(buf);
	return err;
}

void module_set_free(struct module_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		struct module *m = set->mods[i];
		free(m->path);
		free(m->debug_path);
		syms_put(m->syms);
		cfi_free(m->cfi);
		dwarfinfo_free(m->dwarf);
		dwarfstr_free(m->dwstr);
		free(m);
	}
	free(set->mods);
	free(set);
}

struct module *module_set_find(struct module_set *set, uint64_t addr)
{
	for (size_t i = 0; i < set->n; i++) {
		struct module *m = set->mods[i];
		if (m->mapped && addr >= m->start && addr < m->end)
			return m;
	}
	return NULL;
}

/* libdwarf reads a part of a file in this process only after a throwaway child survived
 * reading it (dwarfvet): the CFI, the DWARF's indexes, then each unit as it is first read. 0 to
 * go on (errors other than a crash or hang are left to the open). */
static int vetted(struct module *m, const char *path, bool cfi, const uint64_t *pcs, size_t n)
{
	int r = cfi ? dwarfvet_cfi(path, DWARFVET_TIMEOUT_S)
		    : dwarfvet_index_at(path, pcs, n, DWARFVET_TIMEOUT_S);

	if (r != -EILSEQ && r != -ETIMEDOUT)
		return 0;
	fprintf(stderr, "tracestub: warning: %s: libdwarf %s reading its %s; using %s\n", path,
		r == -EILSEQ ? "crashes" : "hangs", cfi ? "CFI" : "DWARF",
		cfi ? "frame pointers and the ABI" : "its symbols only");
	if (cfi)
		m->cfi_err = r;
	else
		m->dwarf_err = r;
	return r;
}

struct cfi *module_cfi(struct module *m)
{
	if (m->cfi_err == 1 && (m->cfi_err = vetted(m, m->path, true, NULL, 0)) == 0)
		m->cfi_err = cfi_open(m->path, &m->cfi);
	return m->cfi;
}

struct dwarfinfo *module_dwarf_at(struct module *m, const uint64_t *pcs, size_t n)
{
	const char *p = m->debug_path ? m->debug_path : m->path;

	if (m->dwarf_err == 1 && (m->dwarf_err = vetted(m, p, false, pcs, n)) == 0) {
		m->dwarf_err = dwarfinfo_open(p, &m->dwarf);
		dwarfinfo_vet_units(m->dwarf);
	}
	return m->dwarf;
}

struct dwarfinfo *module_dwarf(struct module *m)
{
	return module_dwarf_at(m, NULL, 0);
}

bool module_dwarf_may_name(struct module *m, const char *name)
{
	const char *p = m->debug_path ? m->debug_path : m->path;
	int known;
	bool may;

	if (m->dwarf || dwarfinfo_cached(p))
		return true; /* its indexes answer at no cost */
	if ((known = dwarfstr_known(p, name)) >= 0)
		return known;
	if (!m->dwstr_tried) {
		m->dwstr_tried = true;
		dwarfstr_open(p, &m->dwstr);
	}
	if (!m->dwstr)
		return true;
	may = dwarfstr_may_name(m->dwstr, name);
	dwarfstr_remember(p, name, may);
	return may;
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
