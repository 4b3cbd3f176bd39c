/* elfsym: function symbols from .symtab/.dynsym via libelf. Owns a private copy of the image;
 * must never hand out Elf pointers or touch the OS beyond reading the file. */
#include "stub/debuginfo/debuginfo.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <libiberty/demangle.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub/debuginfo/gopclntab.h"

#define ELFSYM_MAX_LOADS 16

struct elfsym_load {
	uint64_t vaddr, off, filesz;
	bool exec; /* PF_X */
};

struct elfsym {
	uint8_t *img;
	size_t len;
	bool dyn;
	struct elfsym_func *funcs; /* sorted by address */
	size_t n, cap;
	const struct elfsym_func **by_name; /* sorted by name */
	struct elfsym_load loads[ELFSYM_MAX_LOADS];
	size_t nloads;
	uint64_t entry; /* e_entry of a program (has PT_INTERP), else 0 */
	uint8_t build_id[64];
	size_t build_id_len;
	char debuglink[256]; /* .gnu_debuglink file name, "" if none */
	uint32_t debuglink_crc;
	bool has_debug_info; /* a .debug_info section with bytes in the file */
};

static int func_cmp_addr(const void *a, const void *b)
{
	const struct elfsym_func *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Among aliases, sized and exported first so lookups by address pick them. */
	if ((x->size == 0) != (y->size == 0))
		return x->size == 0 ? 1 : -1;
	if (x->dynamic != y->dynamic)
		return x->dynamic ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int func_cmp_addr_name(const void *a, const void *b)
{
	const struct elfsym_func *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void free_names(struct elfsym_func *f)
{
	free((char *)f->name);
	free((char *)f->dname);
	free((char *)f->dsig);
}

/* .symtab and .dynsym repeat each other: keep one entry, remember it is exported. */
static void dedupe(struct elfsym *es)
{
	size_t w = 0;
	qsort(es->funcs, es->n, sizeof(*es->funcs), func_cmp_addr_name);
	for (size_t i = 0; i < es->n; i++) {
		struct elfsym_func *f = &es->funcs[i];
		if (w && es->funcs[w - 1].addr == f->addr &&
		    strcmp(es->funcs[w - 1].name, f->name) == 0) {
			es->funcs[w - 1].dynamic |= f->dynamic;
			free_names(f);
			continue;
		}
		es->funcs[w++] = *f;
	}
	es->n = w;
}

static int func_cmp_name(const void *a, const void *b)
{
	const struct elfsym_func *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

static uint64_t vaddr_to_off(const struct elfsym *es, uint64_t addr)
{
	for (size_t i = 0; i < es->nloads; i++) {
		const struct elfsym_load *l = &es->loads[i];
		if (addr >= l->vaddr && addr - l->vaddr < l->filesz)
			return addr - l->vaddr + l->off;
	}
	return UINT64_MAX;
}

static int add_func(struct elfsym *es, const char *name, const GElf_Sym *sym, bool dynamic)
{
	if (es->n == es->cap) {
		size_t ncap = es->cap ? es->cap * 2 : 256;
		struct elfsym_func *nf = realloc(es->funcs, ncap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		es->funcs = nf;
		es->cap = ncap;
	}
	char *dup = strdup(name), *dname = NULL, *dsig = NULL;
	if (!dup)
		return -ENOMEM;
	/* C++ (_Z) and Rust (_ZN...17h<hash>E, _R): libiberty's demangler, as gdb uses. */
	if (name[0] == '_' && (name[1] == 'Z' || name[1] == 'R')) {
		dname = cplus_demangle(name, DMGL_AUTO);
		dsig = dname ? cplus_demangle(name,
					      DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO | DMGL_RET_DROP)
			     : NULL;
	}
	es->funcs[es->n++] = (struct elfsym_func){.name = dup,
						  .dname = dname,
						  .dsig = dsig,
						  .addr = sym->st_value,
						  .size = sym->st_size,
						  .file_off = vaddr_to_off(es, sym->st_value),
						  .dynamic = dynamic};
	return 0;
}

static int read_symtab(struct elfsym *es, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || sh->sh_entsize == 0)
		return 0;
	size_t count = sh->sh_size / sh->sh_entsize;
	bool dynamic = sh->sh_type == SHT_DYNSYM;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			break;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
			continue;
		const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		int err = add_func(es, name, &sym, dynamic);
		if (err)
			return err;
	}
	return 0;
}

static int add_go_func(void *ctx, const char *name, uint64_t entry, uint64_t end)
{
	GElf_Sym sym = {.st_value = entry, .st_size = end - entry};

	return add_func(ctx, name, &sym, false);
}

static bool has_func(const struct elfsym *es, const char *name)
{
	for (size_t i = 0; i < es->n; i++)
		if (!strcmp(es->funcs[i].name, name))
			return true;
	return false;
}

/* A Go program without its .symtab (-ldflags=-s): the functions of its .gopclntab. A table
 * this parser does not know is no error: the module just has no Go functions. */
static int read_gopclntab(struct elfsym *es, const GElf_Shdr *sh)
{
	int r;

	if (sh->sh_offset > es->len || sh->sh_size > es->len - sh->sh_offset ||
	    has_func(es, "runtime.main"))
		return 0;
	r = gopclntab_walk(es->img + sh->sh_offset, sh->sh_size, add_go_func, es);
	return r == -ENOMEM ? r : 0;
}

/* Sort by address and (re)build the by-name index. */
static int index_funcs(struct elfsym *es)
{
	const struct elfsym_func **bn = calloc(es->n ? es->n : 1, sizeof(*bn));

	if (!bn)
		return -ENOMEM;
	if (es->n)
		qsort(es->funcs, es->n, sizeof(*es->funcs), func_cmp_addr);
	for (size_t i = 0; i < es->n; i++)
		bn[i] = &es->funcs[i];
	if (es->n)
		qsort(bn, es->n, sizeof(*bn), func_cmp_name);
	free(es->by_name);
	es->by_name = bn;
	return 0;
}

/* What points at separate debug info (the build-id note, .gnu_debuglink), and whether the
 * file has DWARF of its own; every offset checked against the image. */
static void debug_links(struct elfsym *es, const char *sname, const GElf_Shdr *sh)
{
	const uint8_t *p;
	uint32_t namesz, descsz;
	size_t n;

	if (sh->sh_offset > es->len || sh->sh_size > es->len - sh->sh_offset)
		return;
	p = es->img + sh->sh_offset;
	if (!strcmp(sname, ".debug_info")) {
		es->has_debug_info = sh->sh_size > 0;
	} else if (!strcmp(sname, ".note.gnu.build-id") && sh->sh_size >= 16) {
		memcpy(&namesz, p, 4);
		memcpy(&descsz, p + 4, 4);
		if (namesz == 4 && !memcmp(p + 12, "GNU", 4) && descsz <= sizeof(es->build_id) &&
		    descsz <= sh->sh_size - 16) {
			memcpy(es->build_id, p + 16, descsz);
			es->build_id_len = descsz;
		}
	} else if (!strcmp(sname, ".gnu_debuglink") && sh->sh_size >= 8) {
		n = strnlen((const char *)p, sh->sh_size);
		/* name, NUL, padding to 4, then the CRC-32 of the debug file */
		if (n && n < sizeof(es->debuglink) && ((n + 4) & ~(size_t)3) + 4 <= sh->sh_size) {
			memcpy(es->debuglink, p, n);
			es->debuglink[n] = 0;
			memcpy(&es->debuglink_crc, p + ((n + 4) & ~(size_t)3), 4);
		}
	}
}

static int load_image(struct elfsym *es)
{
	int err = -ENOEXEC;
	Elf *elf = elf_memory((char *)es->img, es->len);
	if (!elf)
		return -ENOEXEC;
	GElf_Ehdr eh;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		goto out;
	es->dyn = eh.e_type == ET_DYN;
	size_t nph = 0;
	if (elf_getphdrnum(elf, &nph) != 0)
		nph = 0;
	for (size_t i = 0; i < nph && es->nloads < ELFSYM_MAX_LOADS; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD)
			es->loads[es->nloads++] = (struct elfsym_load){
				ph.p_vaddr, ph.p_offset, ph.p_filesz, (ph.p_flags & PF_X) != 0};
		else if (ph.p_type == PT_INTERP)
			es->entry = eh.e_entry;
	}
	Elf_Scn *scn = NULL;
	GElf_Shdr pcln = {0};
	size_t shstr = 0;
	if (elf_getshdrstrndx(elf, &shstr) != 0)
		shstr = 0;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if ((sh.sh_type == SHT_PROGBITS || sh.sh_type == SHT_NOTE) && shstr) {
			const char *sname = elf_strptr(elf, shstr, sh.sh_name);
			if (sname && !strcmp(sname, ".gopclntab"))
				pcln = sh;
			else if (sname)
				debug_links(es, sname, &sh);
		}
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		/* The symbol table must lie inside the image or libelf reads past it. */
		if (sh.sh_offset > es->len || sh.sh_size > es->len - sh.sh_offset)
			continue;
		err = read_symtab(es, elf, scn, &sh);
		if (err)
			goto out;
	}
	if (pcln.sh_size && (err = read_gopclntab(es, &pcln)) != 0)
		goto out;
	if (es->n)
		dedupe(es);
	err = index_funcs(es);
out:
	elf_end(elf);
	return err;
}

/* An elfsym over img[len], which it owns from here on (freed on failure too). */
static int open_owned(uint8_t *img, size_t len, struct elfsym **out)
{
	struct elfsym *es;
	int err;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE || !(es = calloc(1, sizeof(*es)))) {
		free(img);
		return elf_version(EV_CURRENT) == EV_NONE ? -ENOSYS : -ENOMEM;
	}
	es->img = img;
	es->len = len;
	err = load_image(es);
	if (err) {
		elfsym_free(es);
		return err;
	}
	*out = es;
	return 0;
}

int elfsym_open_mem(const void *buf, size_t len, struct elfsym **out)
{
	uint8_t *img = malloc(len ? len : 1);

	*out = NULL;
	if (!img)
		return -ENOMEM;
	if (len)
		memcpy(img, buf, len);
	return open_owned(img, len, out);
}

/* The file read once into memory of its own (a file changed under a mapping would fault). */
int elfsym_open(const char *path, struct elfsym **out)
{
	/* O_NONBLOCK: a FIFO's open would wait for a writer (no effect on a regular file) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), err = 0;
	uint8_t *buf = NULL;
	char magic[SELFMAG];
	struct stat st;
	size_t len, got = 0;

	*out = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	len = (size_t)st.st_size;
	/* Not an ELF: said before the whole file is read (a traced server's workers map shared
	 * memory files, /dev/shm/PostgreSQL.*, megabytes each, at every new worker). */
	if (!S_ISREG(st.st_mode) || len < SELFMAG || pread(fd, magic, SELFMAG, 0) != SELFMAG ||
	    memcmp(magic, ELFMAG, SELFMAG)) {
		err = -ENOEXEC;
		goto out;
	}
	if (!(buf = malloc(len ? len : 1))) {
		err = -ENOMEM;
		goto out;
	}
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			goto out;
		}
		got += (size_t)r;
	}
	err = open_owned(buf, len, out);
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

void elfsym_free(struct elfsym *es)
{
	if (!es)
		return;
	for (size_t i = 0; i < es->n; i++)
		free_names(&es->funcs[i]);
	free(es->funcs);
	free(es->by_name);
	free(es->img);
	free(es);
}

int elfsym_object_addr(const struct elfsym *es, const char *name, uint64_t *addr)
{
	Elf *elf = elf_memory((char *)es->img, es->len);
	int r = -ENOENT;

	if (!elf)
		return -EINVAL;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn && r; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize && r; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			if (GELF_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_shndx == SHN_UNDEF ||
			    !(n = elf_strptr(elf, sh.sh_link, sym.st_name)) || strcmp(n, name))
				continue;
			*addr = sym.st_value;
			r = 0;
		}
	}
	elf_end(elf);
	return r;
}

const struct elfsym_func *elfsym_find(const struct elfsym *es, const char *name)
{
	size_t lo = 0, hi = es->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(es->by_name[mid]->name, name);
		if (c == 0)
			return es->by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* a equals b with spaces ignored ("add(int, char const*)" is "add(int,char const*)"). */
static bool same_sig(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

size_t elfsym_match(const struct elfsym *es, const char *name, const struct elfsym_func **out,
		    size_t cap)
{
	const struct elfsym_func *f = elfsym_find(es, name);
	bool sig = strchr(name, '(') != NULL;
	size_t total = 0;

	if (f) {
		if (out && cap)
			out[0] = f;
		return 1;
	}
	for (size_t i = 0; i < es->n; i++) {
		f = es->by_name[i];
		if (!f->dname || !(sig ? same_sig(f->dsig, name) : !strcmp(f->dname, name)))
			continue;
		if (out && total < cap)
			out[total] = f;
		total++;
	}
	return total;
}

size_t elfsym_glob(const struct elfsym *es, const char *pattern, const struct elfsym_func **out,
		   size_t cap)
{
	bool sig = strchr(pattern, '(') != NULL;
	size_t total = 0;

	for (size_t i = 0; i < es->n; i++) {
		const struct elfsym_func *f = es->by_name[i];

		if (fnmatch(pattern, f->name, 0) != 0 &&
		    (!f->dname || fnmatch(pattern, sig ? f->dsig : f->dname, 0) != 0))
			continue;
		if (out && total < cap)
			out[total] = f;
		total++;
	}
	return total;
}

const struct elfsym_func *elfsym_lookup(const struct elfsym *es, uint64_t addr, uint64_t *off)
{
	/* Last function starting at or below addr, then walk back over overlapping ones. */
	size_t lo = 0, hi = es->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (es->funcs[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct elfsym_func *best = NULL;
	for (size_t i = lo; i > 0 && !best; i--) {
		const struct elfsym_func *f = &es->funcs[i - 1];
		if (addr - f->addr < f->size || (f->size == 0 && f->addr == addr))
			best = f;
		/* Functions do not nest: beyond a few aliases we only find unrelated code. */
		if (lo - i > 64)
			break;
	}
	if (best) {
		/* Prefer the first alias at that address (sorted sized/exported first). */
		while (best > es->funcs && best[-1].addr == best->addr && best[-1].size)
			best--;
		if (off)
			*off = addr - best->addr;
	}
	return best;
}

size_t elfsym_count(const struct elfsym *es)
{
	return es->n;
}

const struct elfsym_func *elfsym_at(const struct elfsym *es, size_t i)
{
	return i < es->n ? &es->funcs[i] : NULL;
}

int elfsym_offset_to_vaddr(const struct elfsym *es, uint64_t off, bool exec, uint64_t *vaddr)
{
	const struct elfsym_load *any = NULL;

	/* lld and mold start a segment mid-page (p_offset 0x690, p_vaddr 0x1690): its first page
	 * is also the last page of the segment before it, so an offset can fall in two PT_LOADs
	 * that differ by a page in p_vaddr - p_offset. The mapping's permission picks the one. */
	for (size_t i = 0; i < es->nloads; i++) {
		const struct elfsym_load *l = &es->loads[i];
		uint64_t start = l->off & ~(uint64_t)0xfff; /* mappings start page-aligned */
		if (off < start || off >= l->off + l->filesz)
			continue;
		if (l->exec == exec) {
			any = l;
			break;
		}
		if (!any)
			any = l;
	}
	if (!any)
		return -ENOENT;
	*vaddr = any->vaddr - any->off + off;
	return 0;
}

bool elfsym_is_dyn(const struct elfsym *es)
{
	return es->dyn;
}

const uint8_t *elfsym_image(const struct elfsym *es, size_t *len)
{
	*len = es->len;
	return es->img;
}

uint64_t elfsym_entry(const struct elfsym *es)
{
	return es->entry;
}

int elfsym_vaddr_to_offset(const struct elfsym *es, uint64_t vaddr, uint64_t *off)
{
	uint64_t o = vaddr_to_off(es, vaddr);

	if (o == UINT64_MAX)
		return -ENOENT;
	*off = o;
	return 0;
}

int elfsym_add(struct elfsym *es, const char *name, uint64_t addr, uint64_t size)
{
	GElf_Sym sym = {.st_value = addr, .st_size = size};
	int err = add_func(es, name, &sym, false);

	return err ? err : index_funcs(es);
}

size_t elfsym_build_id(const struct elfsym *es, const uint8_t **id)
{
	*id = es->build_id;
	return es->build_id_len;
}

const char *elfsym_debuglink(const struct elfsym *es, uint32_t *crc)
{
	*crc = es->debuglink_crc;
	return es->debuglink[0] ? es->debuglink : NULL;
}

bool elfsym_has_dwarf(const struct elfsym *es)
{
	return es->has_debug_info;
}

int elfsym_merge(struct elfsym *es, const struct elfsym *from)
{
	int err = 0;

	for (size_t i = 0; i < from->n && !err; i++) {
		const struct elfsym_func *f = &from->funcs[i];
		GElf_Sym sym = {.st_value = f->addr, .st_size = f->size};

		err = add_func(es, f->name, &sym, f->dynamic);
	}
	if (es->n)
		dedupe(es);
	return err ? err : index_funcs(es);
}
