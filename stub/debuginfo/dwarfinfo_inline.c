/* dwarfinfo inlined instances: one walk over every function body indexes the
 * DW_TAG_inlined_subroutine DIEs by their origin's name; a match is parsed (entry pc, address
 * ranges, call site, parameters with locations) on first request. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "stub/debuginfo/dwarfinfo_internal.h"

#define INL_MAX_DEPTH 64

struct di_inl {
	const char *name;   /* origin's name (libdwarf-owned, or di's when cached) */
	const char *caller; /* enclosing out-of-line function (the same; may be NULL) */
	Dwarf_Off off, cu_off;
	enum dwlang lang;
	uint64_t cu_base;
	struct di_fbase fb;
	struct dwfunc *parsed;
	bool failed;
};

struct di_inl_index {
	struct di_inl *v;
	size_t n, cap;
};

struct walk {
	struct di_inl_index *ix;
	Dwarf_Off cu_off;
	enum dwlang lang;
	uint64_t cu_base;
	int err;
};

static void add_inl(struct dwarfinfo *di, struct walk *w, Dwarf_Die d, const char *caller,
		    const struct di_fbase *fb)
{
	struct di_inl_index *ix = w->ix;
	const char *nm = di_name(di, d);
	Dwarf_Off off;
	Dwarf_Error e = NULL;

	if (!nm || dwarf_dieoffset(d, &off, &e) != DW_DLV_OK) {
		di_err(di, e);
		return;
	}
	if (ix->n == ix->cap) {
		size_t ncap = ix->cap ? ix->cap * 2 : 256;
		struct di_inl *nv = realloc(ix->v, ncap * sizeof(*nv));
		if (!nv) {
			w->err = -ENOMEM;
			return;
		}
		ix->v = nv;
		ix->cap = ncap;
	}
	ix->v[ix->n++] = (struct di_inl){.name = nm,
					 .caller = caller,
					 .off = off,
					 .cu_off = w->cu_off,
					 .lang = w->lang,
					 .cu_base = w->cu_base,
					 .fb = *fb};
}

static void walk_body(struct dwarfinfo *di, struct walk *w, Dwarf_Die parent, const char *caller,
		      const struct di_fbase *fb, int depth)
{
	if (depth > INL_MAX_DEPTH)
		return;
	for (Dwarf_Die c = di_first_child(di, parent); c && !w->err; c = di_next_sibling(di, c)) {
		Dwarf_Half tag = di_tag(c);
		if (tag == DW_TAG_inlined_subroutine) {
			add_inl(di, w, c, caller, fb);
			walk_body(di, w, c, caller, fb, depth + 1);
		} else if (tag == DW_TAG_lexical_block) {
			walk_body(di, w, c, caller, fb, depth + 1);
		} else if (tag == DW_TAG_subprogram) {
			struct di_fbase sub;
			const char *nm = di_name(di, c);
			di_frame_base(di, c, &sub);
			walk_body(di, w, c, nm ? nm : caller, &sub, depth + 1);
		} else if (tag == DW_TAG_namespace || tag == DW_TAG_module) {
			walk_body(di, w, c, caller, fb, depth + 1);
		}
	}
}

static int inl_cu(struct dwarfinfo *di, Dwarf_Die cu, enum dwlang lang, void *ctx)
{
	struct walk *w = ctx;
	struct di_fbase none = {0};
	Dwarf_Addr base = 0;
	Dwarf_Error e = NULL;

	if (dwarf_dieoffset(cu, &w->cu_off, &e) != DW_DLV_OK) {
		di_err(di, e);
		return 0;
	}
	if (dwarf_lowpc(cu, &base, &e) != DW_DLV_OK)
		di_err(di, e);
	w->lang = lang;
	w->cu_base = base;
	walk_body(di, w, cu, NULL, &none, 0);
	return w->err;
}

static int add_range(struct dwarfinfo *di, struct dwfunc *f, uint64_t lo, uint64_t hi, size_t *cap)
{
	if (lo >= hi)
		return 0;
	if (f->nranges == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		uint64_t(*nr)[2] = di_alloc(di, ncap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		if (f->nranges)
			memcpy(nr, f->ranges, f->nranges * sizeof(*nr));
		f->ranges = nr;
		*cap = ncap;
	}
	f->ranges[f->nranges][0] = lo;
	f->ranges[f->nranges][1] = hi;
	f->nranges++;
	return 0;
}

/* DWARF 5 .debug_rnglists. */
static int rnglists(struct dwarfinfo *di, Dwarf_Attribute a, Dwarf_Half form, struct dwfunc *f,
		    size_t *cap)
{
	Dwarf_Unsigned val = 0, count = 0, goff;
	Dwarf_Off ref;
	Dwarf_Rnglists_Head head = NULL;
	Dwarf_Error e = NULL;
	int err = 0;

	if (form == DW_FORM_rnglistx) {
		if (dwarf_formudata(a, &val, &e) != DW_DLV_OK)
			goto fail;
	} else {
		if (dwarf_global_formref(a, &ref, &e) != DW_DLV_OK)
			goto fail;
		val = ref;
	}
	if (dwarf_rnglists_get_rle_head(a, form, val, &head, &count, &goff, &e) != DW_DLV_OK)
		goto fail;
	for (Dwarf_Unsigned i = 0; i < count && !err; i++) {
		unsigned len, code;
		Dwarf_Unsigned r1, r2, c1, c2;
		Dwarf_Bool unavail = 0;
		if (dwarf_get_rnglists_entry_fields_a(head, i, &len, &code, &r1, &r2, &unavail, &c1,
						      &c2, &e) != DW_DLV_OK) {
			di_err(di, e), e = NULL;
			continue;
		}
		if (!unavail && (code == DW_RLE_offset_pair || code == DW_RLE_start_end ||
				 code == DW_RLE_start_length || code == DW_RLE_startx_endx ||
				 code == DW_RLE_startx_length))
			err = add_range(di, f, c1, c2, cap);
	}
	dwarf_dealloc_rnglists_head(head);
	return err;
fail:
	di_err(di, e);
	return 0;
}

/* DWARF 2-4 .debug_ranges: offsets from the CU base unless a selection entry moves it. */
static int ranges4(struct dwarfinfo *di, Dwarf_Die d, Dwarf_Attribute a, uint64_t base,
		   struct dwfunc *f, size_t *cap)
{
	Dwarf_Off off, real;
	Dwarf_Unsigned u, bytes;
	Dwarf_Ranges *r = NULL;
	Dwarf_Signed n = 0;
	Dwarf_Error e = NULL;
	int err = 0;

	if (dwarf_global_formref(a, &off, &e) != DW_DLV_OK) {
		di_err(di, e), e = NULL;
		if (dwarf_formudata(a, &u, &e) != DW_DLV_OK) {
			di_err(di, e);
			return 0;
		}
		off = u;
	}
	if (dwarf_get_ranges_b(di->dbg, off, d, &real, &r, &n, &bytes, &e) != DW_DLV_OK) {
		di_err(di, e);
		return 0;
	}
	for (Dwarf_Signed i = 0; i < n && !err; i++) {
		if (r[i].dwr_type == DW_RANGES_END)
			break;
		if (r[i].dwr_type == DW_RANGES_ADDRESS_SELECTION)
			base = r[i].dwr_addr2;
		else
			err = add_range(di, f, base + r[i].dwr_addr1, base + r[i].dwr_addr2, cap);
	}
	dwarf_ranges_dealloc(di->dbg, r, n);
	return err;
}

static int inl_ranges(struct dwarfinfo *di, Dwarf_Die d, uint64_t cu_base, struct dwfunc *f)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Half form = 0, ver = 0, offsz = 0;
	Dwarf_Error e = NULL;
	uint64_t lo, hi;
	size_t cap = 0;
	int err;

	if (!di_pc_range(di, d, &lo, &hi))
		return add_range(di, f, lo, hi, &cap);
	if (dwarf_attr(d, DW_AT_ranges, &a, &e) != DW_DLV_OK) {
		di_err(di, e);
		return 0;
	}
	dwarf_whatform(a, &form, &e);
	dwarf_get_version_of_die(d, &ver, &offsz);
	if (form == DW_FORM_rnglistx || ver >= 5)
		err = rnglists(di, a, form, f, &cap);
	else
		err = ranges4(di, d, a, cu_base, f, &cap);
	dwarf_dealloc_attribute(a);
	return err;
}

static const char *call_file(struct dwarfinfo *di, Dwarf_Die d, Dwarf_Off cu_off)
{
	uint64_t idx;
	Dwarf_Die cu;
	char **files = NULL;
	Dwarf_Signed n = 0;
	Dwarf_Half ver = 0, offsz = 0;
	Dwarf_Error e = NULL;
	const char *r = NULL;

	if (di_attr_udata(di, d, DW_AT_call_file, &idx) || !(cu = di_offdie(di, cu_off)))
		return NULL;
	dwarf_get_version_of_die(cu, &ver, &offsz);
	if (dwarf_srcfiles(cu, &files, &n, &e) == DW_DLV_OK) {
		/* DWARF 5 numbers files from 0, earlier versions from 1. */
		Dwarf_Signed i = ver >= 5 ? (Dwarf_Signed)idx : (Dwarf_Signed)idx - 1;
		if (i >= 0 && i < n)
			r = di_strdup(di, files[i]);
		for (Dwarf_Signed k = 0; k < n; k++)
			dwarf_dealloc(di->dbg, files[k], DW_DLA_STRING);
		dwarf_dealloc(di->dbg, files, DW_DLA_LIST);
	} else {
		di_err(di, e);
	}
	dwarf_dealloc_die(cu);
	return r;
}

static struct dwfunc *parse_inl(struct dwarfinfo *di, struct di_inl *in)
{
	Dwarf_Die d = di_offdie(di, in->off);
	struct dwfunc *f;
	uint64_t v, entry = UINT64_MAX;
	Dwarf_Addr ep;
	Dwarf_Attribute a = NULL;
	Dwarf_Error e = NULL;

	if (!d)
		return NULL;
	f = di_alloc(di, sizeof(*f));
	if (!f || inl_ranges(di, d, in->cu_base, f) || !f->nranges)
		goto fail;
	f->inlined = true;
	f->name = di_strdup(di, in->name);
	f->caller = in->caller ? di_strdup(di, in->caller) : NULL;
	f->lang = in->lang;
	di->lang = in->lang;
	f->call_file = call_file(di, d, in->cu_off);
	if (!di_attr_udata(di, d, DW_AT_call_line, &v))
		f->call_line = (unsigned)v;
	for (unsigned i = 0; i < f->nranges; i++) {
		if (f->ranges[i][0] < entry)
			entry = f->ranges[i][0];
		if (f->ranges[i][1] > f->high)
			f->high = f->ranges[i][1];
	}
	if (dwarf_attr(d, DW_AT_entry_pc, &a, &e) == DW_DLV_OK) {
		if (dwarf_formaddr(a, &ep, &e) == DW_DLV_OK)
			entry = ep;
		else
			di_err(di, e);
		dwarf_dealloc_attribute(a);
	} else {
		di_err(di, e);
	}
	f->low = entry;
	if (!f->name || di_parse_params(di, d, &in->fb, f))
		goto fail;
	dwarf_dealloc_die(d);
	return f;
fail:
	dwarf_dealloc_die(d);
	return NULL;
}

static int build_index(struct dwarfinfo *di)
{
	struct di_inl_index *ix = calloc(1, sizeof(*ix));
	struct walk w = {.ix = ix};

	if (!ix)
		return -ENOMEM;
	di->inl = ix;
	di->indexing = true; /* what the index vet's child read (di_index_walk) */
	di_for_each_cu(di, inl_cu, &w);
	di->indexing = false;
	di->inl_done = true;
	if (!w.err)
		di_cache_store(di);
	return w.err;
}

void di_inline_save(struct dwarfinfo *di, struct di_cbuf *b)
{
	const struct di_inl_index *ix = di->inl;

	di_cbuf_u64(b, ix ? ix->n : 0);
	for (size_t i = 0; ix && i < ix->n; i++) {
		const struct di_inl *in = &ix->v[i];

		di_cbuf_str(b, in->name);
		di_cbuf_str(b, in->caller);
		di_cbuf_u64(b, in->off);
		di_cbuf_u64(b, in->cu_off);
		di_cbuf_u64(b, in->lang);
		di_cbuf_u64(b, in->cu_base);
		di_cbuf_u64(b, in->fb.valid);
		di_cbuf_u64(b, (uint64_t)(int64_t)in->fb.base);
		di_cbuf_u64(b, (uint64_t)in->fb.off);
	}
}

int di_inline_load(struct dwarfinfo *di, struct di_creader *r)
{
	uint64_t n = di_creader_u64(r);
	struct di_inl_index *ix;

	if (r->bad || n > (r->len - r->at) / 72 || !(ix = calloc(1, sizeof(*ix))))
		return -EINVAL;
	di->inl = ix;
	if (n && !(ix->v = calloc(n, sizeof(*ix->v))))
		return -EINVAL;
	ix->cap = n;
	for (uint64_t i = 0; i < n; i++) {
		struct di_inl *in = &ix->v[i];
		uint64_t lang, valid, base;

		in->name = di_creader_str(di, r);
		in->caller = di_creader_str(di, r);
		in->off = di_creader_u64(r);
		in->cu_off = di_creader_u64(r);
		lang = di_creader_u64(r);
		in->cu_base = di_creader_u64(r);
		valid = di_creader_u64(r);
		base = di_creader_u64(r);
		in->fb.off = (int64_t)di_creader_u64(r);
		if (r->bad || !in->name || lang > DWLANG_OTHER || valid > 1)
			return -EINVAL;
		in->lang = (enum dwlang)lang;
		in->fb.valid = valid;
		in->fb.base = (int)(int64_t)base;
		ix->n++;
	}
	di->inl_done = true;
	return 0;
}

size_t dwarfinfo_inlined(struct dwarfinfo *di, const char *name, bool glob,
			 const struct dwfunc **out, size_t cap)
{
	struct di_inl_index *ix;
	size_t n = 0;

	if (!di->inl_done && build_index(di))
		return 0;
	ix = di->inl;
	for (size_t i = 0; ix && i < ix->n; i++) {
		struct di_inl *in = &ix->v[i];
		if (glob ? fnmatch(name, in->name, 0) : strcmp(name, in->name))
			continue;
		if (!in->parsed && !in->failed) {
			in->parsed = parse_inl(di, in);
			in->failed = !in->parsed;
		}
		if (!in->parsed)
			continue;
		if (out && n < cap)
			out[n] = in->parsed;
		n++;
	}
	return n;
}

void di_inline_free(struct dwarfinfo *di)
{
	struct di_inl_index *ix = di->inl;

	if (ix)
		free(ix->v);
	free(ix);
	di->inl = NULL;
}
