/* Internals shared by the dwarfinfo files (dwarfinfo.c: index, functions; dwarfinfo_inline.c:
 * inlined instances; dwarfinfo_type.c: types; dwarfinfo_loc.c: locations; dwarfinfo_line.c:
 * line tables). Not for other folders: they use stub/debuginfo/debuginfo.h. The only header
 * that names Dwarf_* types. */
#ifndef TRACESTUB_STUB_DWARFINFO_INTERNAL_H
#define TRACESTUB_STUB_DWARFINFO_INTERNAL_H

#include <dwarf.h>
#include <libdwarf.h>

#include "stub/debuginfo/debuginfo.h"

/* An out-of-line function in the index (parsed lazily). */
struct di_sub {
	uint64_t low, high;
	Dwarf_Off off;
	enum dwlang lang;
	struct dwfunc *parsed;
};

struct di_inl_index;

struct di_block {
	struct di_block *next;
	max_align_t data[];
};

/* A compilation unit: its header's offset in .debug_info and the next header's. */
struct di_unit {
	uint64_t off, end;
	int8_t state; /* 0 not vetted yet, 1 vetted, -1 libdwarf dies or hangs on it */
};

struct dwarfinfo {
	int fd;
	Dwarf_Debug dbg;
	struct di_sub *subs; /* sorted by low */
	size_t nsubs, subcap;
	bool inl_done;
	struct di_inl_index *inl; /* dwarfinfo_inline.c */
	struct di_block *blocks;  /* everything handed out, freed at dwarfinfo_free */
	enum dwlang lang;	  /* of the unit whose types are being read */
	char *path;		  /* of the DWARF file: names its cached indexes */
	bool from_cache;	  /* the indexes were read from the cache (dwarfcache.c) */
	struct di_unit *units;	  /* sorted by off; recorded by the first unit walk */
	size_t nunits, unitcap;
	bool vet_units; /* dwarfinfo_vet_units was called */
	bool indexing;	/* in an index walk: what the index vet read (no unit gate) */
	bool warned;	/* of a unit libdwarf cannot read */
};

/* dwarfvet.c: a child's walk of path's FDEs (frames) and of the units whose headers are at
 * units[n] (sorted), or of all units (all_units). dwarfvet_run.c: vet those units, a verdict
 * per unit into res[] (0, -EILSEQ, -ETIMEDOUT); 0 or -errno when none could be had. */
void dwarfvet_walk_some(const char *path, bool frames, const uint64_t *units, size_t n,
			bool all_units);
int dwarfvet_units(const char *path, const uint64_t *units, size_t n, int *res, unsigned timeout_s);
/* dwarfinfo_units.c: record a unit (walks in header order; a second walk records nothing);
 * may this process read the unit holding off (vetted now if it was not); is off the header of
 * such a unit (no vet); vet every unit not vetted yet, in one child. */
int di_unit_record(struct dwarfinfo *di, uint64_t off, uint64_t end);
int di_u64_cmp(const void *a, const void *b); /* qsort/bsearch of uint64_t, ascending */
bool di_unit_ok(struct dwarfinfo *di, uint64_t off);
bool di_unit_ok_at(struct dwarfinfo *di, uint64_t off);
const struct di_unit *di_unit_of(struct dwarfinfo *di, uint64_t off); /* NULL if none */
void di_units_vet_all(struct dwarfinfo *di);
void dwarfvet_walk_units(Dwarf_Debug dbg, const uint64_t *units, size_t n);
/* dwarfinfo.c: the index vet's child: both index walks of path, left in the cache; then 'I'
 * to fd, the walk of the units of the functions at pcs[n], and 'U' and their offsets to fd. */
void di_index_walk(const char *path, const uint64_t *pcs, size_t n, int fd);

/* dwarfcache.c: tracestub's cache folder ($XDG_CACHE_HOME/tracestub, else
 * ~/.cache/tracestub) into out, made when make; its length, or -errno. dwarfvet.c keeps its
 * verdicts there too. */
int di_cache_dir(char *out, size_t cap, bool make);
/* The file name in that folder into out (0 or -errno); text appended to it in one write (the
 * file starts over past 1 MiB; failures are silent); a file's identity as the text files
 * there key it, "dev ino size mtime.sec mtime.nsec " (its length, or -ENAMETOOLONG). */
struct stat;
int di_cache_named(char *out, size_t cap, const char *name, bool make);
void di_cache_append(const char *name, const char *text, size_t len);
int di_file_key(char *buf, size_t cap, const struct stat *st);
/* dwarfcache.c: the indexes on disk. A growable buffer to write them, a bounded reader. */
struct di_cbuf {
	uint8_t *data;
	size_t len, cap;
	int err;
};
struct di_creader {
	const uint8_t *data;
	size_t len, at;
	bool bad; /* a read went past the end or found garbage: the whole file is ignored */
};
int di_cbuf_put(struct di_cbuf *b, const void *p, size_t n);
int di_cbuf_u64(struct di_cbuf *b, uint64_t v);
int di_cbuf_str(struct di_cbuf *b, const char *s); /* s may be NULL */
bool di_creader_get(struct di_creader *r, void *p, size_t n);
uint64_t di_creader_u64(struct di_creader *r);
const char *di_creader_str(struct dwarfinfo *di, struct di_creader *r); /* di's copy, or NULL */
/* Read both indexes of di->path from the cache: 0, or -ENOENT (none, or not valid: nothing
 * kept). */
int di_cache_load(struct dwarfinfo *di);
/* Write both indexes (after the inlined-instance walk); failures are silent. */
void di_cache_store(struct dwarfinfo *di);
/* Each index's part of the cache (dwarfinfo.c, dwarfinfo_inline.c); loads return 0 or -EINVAL. */
void di_subs_save(struct dwarfinfo *di, struct di_cbuf *b);
int di_subs_load(struct dwarfinfo *di, struct di_creader *r);
void di_units_save(struct dwarfinfo *di, struct di_cbuf *b);
int di_units_load(struct dwarfinfo *di, struct di_creader *r);
void di_inline_save(struct dwarfinfo *di, struct di_cbuf *b);
int di_inline_load(struct dwarfinfo *di, struct di_creader *r);
/* Drop whatever a failed load left. */
void di_cache_forget(struct dwarfinfo *di);

/* Zeroed memory owned by di; NULL on no memory. */
void *di_alloc(struct dwarfinfo *di, size_t size);
char *di_strdup(struct dwarfinfo *di, const char *s);
void di_err(struct dwarfinfo *di, Dwarf_Error e);

/* Attribute helpers: 0 or -ENOENT. */
int di_attr_ref(struct dwarfinfo *di, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *off);
int di_attr_udata(struct dwarfinfo *di, Dwarf_Die die, Dwarf_Half at, uint64_t *v);
/* The DIE's name, following abstract_origin/specification; NULL if none (libdwarf-owned). */
const char *di_name(struct dwarfinfo *di, Dwarf_Die die);
Dwarf_Die di_offdie(struct dwarfinfo *di, Dwarf_Off off);

Dwarf_Half di_tag(Dwarf_Die die);
/* [low, high) of a DIE with low_pc/high_pc. 0 or -ENOENT. */
int di_pc_range(struct dwarfinfo *di, Dwarf_Die die, uint64_t *low, uint64_t *high);
Dwarf_Off di_die_offset(Dwarf_Die die);				/* 0 if unknown */
Dwarf_Die di_first_child(struct dwarfinfo *di, Dwarf_Die die);	/* NULL if none */
Dwarf_Die di_next_sibling(struct dwarfinfo *di, Dwarf_Die die); /* frees die; NULL at end */
typedef int (*di_cu_fn)(struct dwarfinfo *di, Dwarf_Die cu, enum dwlang lang, void *ctx);
/* fn for every compilation unit; stops calling at the first error, which it returns. */
int di_for_each_cu(struct dwarfinfo *di, di_cu_fn fn, void *ctx);
struct di_fbase;
/* Formal parameters of fn (a subprogram or an inlined instance) into f. 0 or -ENOMEM. */
int di_parse_params(struct dwarfinfo *di, Dwarf_Die fn, const struct di_fbase *fb,
		    struct dwfunc *f);

/* dwarfinfo_inline.c: free the inlined-instance index. */
struct di_inl_index;
void di_inline_free(struct dwarfinfo *di);

/* dwarfinfo_type.c */
/* Describe the type at off (DW_AT_type target). Unknown parts become DWT_NONE. */
void di_type(struct dwarfinfo *di, Dwarf_Off off, const char *pname, struct dwtype *out);
/* DW_AT_type of die described, DWT_NONE when absent (void). */
void di_die_type(struct dwarfinfo *di, Dwarf_Die die, const char *pname, struct dwtype *out);
/* dwarfinfo_loc.c */
/* Location list of die's DW_AT_location; frame base of the function fb (may be NULL: then
 * DW_OP_fbreg is unsupported). 0 (locs may be 0) or -ENOMEM. */
struct di_fbase {
	bool valid;
	int base; /* DWBASE_CFA or a DWARF register */
	int64_t off;
};
int di_locations(struct dwarfinfo *di, Dwarf_Die die, Dwarf_Half at, const struct di_fbase *fb,
		 struct dwloc **locs, unsigned *nlocs);
void di_frame_base(struct dwarfinfo *di, Dwarf_Die fn, struct di_fbase *fb);

#endif
