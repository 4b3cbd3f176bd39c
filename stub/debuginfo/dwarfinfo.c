/* dwarfinfo: opening a module's DWARF, the index of out-of-line functions by address, lazy
 * parsing of one function's parameters, and the index of inlined instances. No Dwarf_* type
 * leaves the dwarfinfo files; libdwarf errors are freed where they happen and become
 * "not found". */
#include "stub/debuginfo/debuginfo.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/debuginfo/dwarfinfo_internal.h"

#define DI_MAX_DEPTH 64

void *di_alloc(struct dwarfinfo *di, size_t size)
{
	struct di_block *b = calloc(1, sizeof(*b) + size);

	if (!b)
		return NULL;
	b->next = di->blocks;
	di->blocks = b;
	return b->data;
}

char *di_strdup(struct dwarfinfo *di, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = di_alloc(di, n);

	if (d)
		memcpy(d, s, n);
	return d;
}

void di_err(struct dwarfinfo *di, Dwarf_Error e)
{
	if (e)
		dwarf_dealloc_error(di->dbg, e);
}

Dwarf_Die di_offdie(struct dwarfinfo *di, Dwarf_Off off)
{
	Dwarf_Die d = NULL;
	Dwarf_Error e = NULL;

	if (!di_unit_ok(di, off))
		return NULL;
	if (dwarf_offdie_b(di->dbg, off, 1, &d, &e) != DW_DLV_OK) {
		di_err(di, e);
		return NULL;
	}
	return d;
}

int di_attr_ref(struct dwarfinfo *di, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *off)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error e = NULL;
	int r = -ENOENT;

	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK) {
		di_err(di, e);
		return -ENOENT;
	}
	if (dwarf_global_formref(a, off, &e) == DW_DLV_OK)
		r = 0;
	else
		di_err(di, e);
	dwarf_dealloc_attribute(a);
	return r;
}

int di_attr_udata(struct dwarfinfo *di, Dwarf_Die die, Dwarf_Half at, uint64_t *v)
{
	Dwarf_Attribute a = NULL;
	Dwarf_Error e = NULL;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	Dwarf_Bool flag;
	int r = -ENOENT;

	if (dwarf_attr(die, at, &a, &e) != DW_DLV_OK) {
		di_err(di, e);
		return -ENOENT;
	}
	if (dwarf_formudata(a, &u, &e) == DW_DLV_OK) {
		*v = u;
		r = 0;
	} else {
		di_err(di, e), e = NULL;
		if (dwarf_formsdata(a, &s, &e) == DW_DLV_OK) {
			*v = (uint64_t)s;
			r = 0;
		} else {
			di_err(di, e), e = NULL;
			if (dwarf_formflag(a, &flag, &e) == DW_DLV_OK) {
				*v = flag;
				r = 0;
			} else {
				di_err(di, e);
			}
		}
	}
	dwarf_dealloc_attribute(a);
	return r;
}

static const char *own_name(struct dwarfinfo *di, Dwarf_Die die)
{
	char *s = NULL;
	Dwarf_Error e = NULL;

	if (dwarf_diename(die, &s, &e) != DW_DLV_OK) {
		di_err(di, e);
		return NULL;
	}
	return s;
}

const char *di_name(struct dwarfinfo *di, Dwarf_Die die)
{
	const char *s = own_name(di, die);
	Dwarf_Off off;

	for (int hop = 0; !s && hop < 4; hop++) {
		if (di_attr_ref(di, die, DW_AT_abstract_origin, &off) &&
		    di_attr_ref(di, die, DW_AT_specification, &off))
			break;
		Dwarf_Die o = di_offdie(di, off);
		if (!o)
			break;
		s = own_name(di, o);
		if (hop)
			dwarf_dealloc_die(die);
		die = o;
	}
	return s;
}

Dwarf_Off di_die_offset(Dwarf_Die die)
{
	Dwarf_Off off = 0;
	Dwarf_Error e = NULL;

	if (dwarf_dieoffset(die, &off, &e) != DW_DLV_OK)
		return 0;
	return off;
}

Dwarf_Half di_tag(Dwarf_Die die)
{
	Dwarf_Half tag = 0;
	Dwarf_Error e = NULL;

	if (dwarf_tag(die, &tag, &e) != DW_DLV_OK)
		return 0;
	return tag;
}

/* [low, high) of a DIE with low_pc/high_pc. 0 or -ENOENT. */
int di_pc_range(struct dwarfinfo *di, Dwarf_Die die, uint64_t *low, uint64_t *high)
{
	Dwarf_Addr lo, hi;
	Dwarf_Half form;
	enum Dwarf_Form_Class cls;
	Dwarf_Error e = NULL;

	if (dwarf_lowpc(die, &lo, &e) != DW_DLV_OK) {
		di_err(di, e);
		return -ENOENT;
	}
	if (dwarf_highpc_b(die, &hi, &form, &cls, &e) != DW_DLV_OK) {
		di_err(di, e);
		return -ENOENT;
	}
	if (cls == DW_FORM_CLASS_CONSTANT)
		hi += lo;
	if (hi <= lo)
		return -ENOENT;
	*low = lo;
	*high = hi;
	return 0;
}

Dwarf_Die di_first_child(struct dwarfinfo *di, Dwarf_Die die)
{
	Dwarf_Die c = NULL;
	Dwarf_Error e = NULL;

	if (dwarf_child(die, &c, &e) != DW_DLV_OK) {
		di_err(di, e);
		return NULL;
	}
	return c;
}

/* The next sibling; frees die. */
Dwarf_Die di_next_sibling(struct dwarfinfo *di, Dwarf_Die die)
{
	Dwarf_Die s = NULL;
	Dwarf_Error e = NULL;
	int r = dwarf_siblingof_b(di->dbg, die, 1, &s, &e);

	dwarf_dealloc_die(die);
	if (r != DW_DLV_OK) {
		di_err(di, e);
		return NULL;
	}
	return s;
}

static int add_sub(struct dwarfinfo *di, uint64_t low, uint64_t high, Dwarf_Off off,
		   enum dwlang lang)
{
	if (di->nsubs == di->subcap) {
		size_t ncap = di->subcap ? di->subcap * 2 : 1024;
		struct di_sub *n = realloc(di->subs, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		di->subs = n;
		di->subcap = ncap;
	}
	di->subs[di->nsubs++] = (struct di_sub){low, high, off, lang, NULL};
	return 0;
}

/* Subprograms with code among the children of parent (namespaces searched too). */
static int index_children(struct dwarfinfo *di, Dwarf_Die parent, enum dwlang lang, int depth)
{
	Dwarf_Die c = di_first_child(di, parent);
	int err = 0;

	while (c && !err) {
		Dwarf_Half tag = di_tag(c);
		uint64_t lo, hi;
		Dwarf_Off off;
		Dwarf_Error e = NULL;

		if (tag == DW_TAG_subprogram && !di_pc_range(di, c, &lo, &hi)) {
			if (dwarf_dieoffset(c, &off, &e) == DW_DLV_OK)
				err = add_sub(di, lo, hi, off, lang);
			else
				di_err(di, e);
		} else if ((tag == DW_TAG_namespace || tag == DW_TAG_module) &&
			   depth < DI_MAX_DEPTH) {
			err = index_children(di, c, lang, depth + 1);
		}
		c = di_next_sibling(di, c);
	}
	if (c)
		dwarf_dealloc_die(c);
	return err;
}

static enum dwlang cu_lang(struct dwarfinfo *di, Dwarf_Die cu)
{
	uint64_t v;

	if (di_attr_udata(di, cu, DW_AT_language, &v))
		return DWLANG_OTHER;
	switch (v) {
	case DW_LANG_Go:
		return DWLANG_GO;
	case DW_LANG_Rust:
		return DWLANG_RUST;
	case DW_LANG_C89:
	case DW_LANG_C:
	case DW_LANG_C99:
	case DW_LANG_C11:
	case DW_LANG_C_plus_plus:
	case DW_LANG_C_plus_plus_11:
	case DW_LANG_C_plus_plus_14:
		return DWLANG_C;
	default:
		return DWLANG_OTHER;
	}
}

/* Call fn for every compilation unit this process may read (the units are recorded on the
 * first walk; with unit vetting, those not vetted yet are, in one child); stops calling at the
 * first error. */
int di_for_each_cu(struct dwarfinfo *di, di_cu_fn fn, void *ctx)
{
	Dwarf_Unsigned next, at = 0;
	Dwarf_Half ver, cutype;
	Dwarf_Error e = NULL;
	int r, err = 0;

	di_units_vet_all(di);
	while ((r = dwarf_next_cu_header_d(di->dbg, 1, NULL, &ver, NULL, NULL, NULL, NULL, NULL,
					   NULL, &next, &cutype, &e)) == DW_DLV_OK) {
		Dwarf_Die cu = NULL;
		uint64_t hdr = at;

		at = next;
		if (di->indexing && !err)
			err = di_unit_record(di, hdr, next);
		if (!di_unit_ok_at(di, hdr))
			continue;
		if (dwarf_siblingof_b(di->dbg, NULL, 1, &cu, &e) != DW_DLV_OK) {
			di_err(di, e), e = NULL;
			continue;
		}
		if (!err)
			err = fn(di, cu, cu_lang(di, cu), ctx);
		dwarf_dealloc_die(cu);
	}
	di_err(di, e);
	return err;
}

static int index_cu(struct dwarfinfo *di, Dwarf_Die cu, enum dwlang lang, void *ctx)
{
	return index_children(di, cu, lang, 0);
}

static int sub_cmp(const void *a, const void *b)
{
	const struct di_sub *x = a, *y = b;

	return x->low < y->low ? -1 : x->low > y->low;
}

static bool no_cache_load; /* in the index vet's child: the walks run, whatever is cached */

int dwarfinfo_open(const char *path, struct dwarfinfo **out)
{
	struct dwarfinfo *di;
	Dwarf_Error e = NULL;
	int err;

	*out = NULL;
	di = calloc(1, sizeof(*di));
	if (!di)
		return -ENOMEM;
	di->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (di->fd < 0) {
		err = -errno;
		free(di);
		return err;
	}
	if (dwarf_init_b(di->fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &di->dbg, &e) !=
	    DW_DLV_OK) {
		if (e)
			dwarf_dealloc_error(NULL, e);
		close(di->fd);
		free(di);
		return -ENOENT;
	}
	di->path = strdup(path);
	di->indexing = true;
	err = no_cache_load || di_cache_load(di) ? di_for_each_cu(di, index_cu, NULL) : 0;
	di->indexing = false;
	if (!err && !di->nsubs)
		err = -ENOENT;
	if (err) {
		dwarfinfo_free(di);
		return err;
	}
	qsort(di->subs, di->nsubs, sizeof(*di->subs), sub_cmp);
	*out = di;
	return 0;
}

void di_subs_save(struct dwarfinfo *di, struct di_cbuf *b)
{
	di_cbuf_u64(b, di->nsubs);
	for (size_t i = 0; i < di->nsubs; i++) {
		di_cbuf_u64(b, di->subs[i].low);
		di_cbuf_u64(b, di->subs[i].high);
		di_cbuf_u64(b, di->subs[i].off);
		di_cbuf_u64(b, di->subs[i].lang);
	}
}

int di_subs_load(struct dwarfinfo *di, struct di_creader *r)
{
	uint64_t n = di_creader_u64(r);

	if (r->bad || n > (r->len - r->at) / 32)
		return -EINVAL;
	di->subs = calloc(n ? n : 1, sizeof(*di->subs));
	if (!di->subs)
		return -EINVAL;
	di->subcap = n;
	for (uint64_t i = 0; i < n; i++) {
		struct di_sub *x = &di->subs[i];
		uint64_t lang;

		x->low = di_creader_u64(r);
		x->high = di_creader_u64(r);
		x->off = di_creader_u64(r);
		lang = di_creader_u64(r);
		if (r->bad || lang > DWLANG_OTHER || x->high < x->low)
			return -EINVAL;
		x->lang = (enum dwlang)lang;
		di->nsubs++;
	}
	return 0;
}

void di_cache_forget(struct dwarfinfo *di)
{
	free(di->subs);
	di->subs = NULL;
	di->nsubs = di->subcap = 0;
	free(di->units);
	di->units = NULL;
	di->nunits = di->unitcap = 0;
	di_inline_free(di);
	di->inl_done = false;
}

static struct di_sub *sub_at(struct dwarfinfo *di, uint64_t pc);

void di_index_walk(const char *path, const uint64_t *pcs, size_t n, int fd)
{
	struct dwarfinfo *di = NULL;
	uint64_t units[DWARFVET_HINTS];
	size_t k = 0;

	no_cache_load = true;
	if (dwarfinfo_open(path, &di))
		return;
	dwarfinfo_inlined(di, "", false, NULL, 0); /* the second walk, then the cache */
	if (fd < 0 || write(fd, "I", 1) != 1 || !n)
		goto out;
	/* The units of the functions at pcs, on the same handle: no second load of the file. */
	for (size_t i = 0; i < n && i < DWARFVET_HINTS; i++) {
		struct di_sub *s = sub_at(di, pcs[i]);
		const struct di_unit *u = s ? di_unit_of(di, s->off) : NULL;
		bool seen = false;

		for (size_t j = 0; u && j < k; j++)
			seen |= units[j] == u->off;
		if (u && !seen)
			units[k++] = u->off;
	}
	qsort(units, k, sizeof(*units), di_u64_cmp);
	dwarfvet_walk_units(di->dbg, units, k);
	if (write(fd, "U", 1) != 1 || write(fd, units, k * sizeof(*units)) < 0) {
		/* the parent vets them on their own */
	}
out:
	dwarfinfo_free(di);
}

void dwarfinfo_free(struct dwarfinfo *di)
{
	if (!di)
		return;
	while (di->blocks) {
		struct di_block *b = di->blocks;
		di->blocks = b->next;
		free(b);
	}
	free(di->subs);
	free(di->units);
	free(di->path);
	di_inline_free(di);
	if (di->dbg)
		dwarf_finish(di->dbg, NULL);
	close(di->fd);
	free(di);
}

/* Go 1.19 writes the results of some functions (those with defers) twice. */
static bool is_duplicate(const struct dwfunc *f, const struct dwparam *p)
{
	for (unsigned i = 0; i + 1 < f->nparams; i++)
		if (f->params[i].name && !strcmp(f->params[i].name, p->name))
			return true;
	return false;
}

/* Formal parameters of fn (a subprogram or inlined instance) into f->params. */
int di_parse_params(struct dwarfinfo *di, Dwarf_Die fn, const struct di_fbase *fb, struct dwfunc *f)
{
	Dwarf_Die c = di_first_child(di, fn);
	unsigned cap = 0;
	int err = 0;

	for (Dwarf_Die k = c ? di_first_child(di, fn) : NULL; k; k = di_next_sibling(di, k))
		cap += di_tag(k) == DW_TAG_formal_parameter;
	if (cap && !(f->params = di_alloc(di, cap * sizeof(*f->params))))
		err = -ENOMEM;
	while (c && !err && f->nparams < cap) {
		if (di_tag(c) == DW_TAG_formal_parameter) {
			struct dwparam *p = &f->params[f->nparams++];
			Dwarf_Off ooff;
			Dwarf_Die origin = NULL;
			uint64_t v = 0;
			const char *nm = di_name(di, c);

			p->name = nm ? di_strdup(di, nm) : NULL;
			if (!di_attr_ref(di, c, DW_AT_abstract_origin, &ooff))
				origin = di_offdie(di, ooff);
			di_die_type(di,
				    origin && di_attr_ref(di, c, DW_AT_type, &ooff) ? origin : c,
				    p->name, &p->type);
			if (!di_attr_udata(di, origin ? origin : c, DW_AT_variable_parameter, &v))
				p->is_result = v != 0;
			if (origin)
				dwarf_dealloc_die(origin);
			err = di_locations(di, c, DW_AT_location, fb, &p->locs, &p->nlocs);
			if (p->is_result && p->name && is_duplicate(f, p))
				f->nparams--;
		}
		c = di_next_sibling(di, c);
	}
	if (c)
		dwarf_dealloc_die(c);
	return err;
}

/* The result type of fn: its own DW_AT_type, else that of the declaration it completes (a
 * C++ member function: DW_AT_specification) or of its abstract origin. */
static void result_type(struct dwarfinfo *di, Dwarf_Die fn, struct dwtype *out)
{
	Dwarf_Die d = fn, o;
	Dwarf_Off off;

	for (int hop = 0; hop < 3 && di_attr_ref(di, d, DW_AT_type, &off); hop++) {
		if (di_attr_ref(di, d, DW_AT_specification, &off) &&
		    di_attr_ref(di, d, DW_AT_abstract_origin, &off))
			break;
		if (!(o = di_offdie(di, off)))
			break;
		if (d != fn)
			dwarf_dealloc_die(d);
		d = o;
	}
	di_die_type(di, d, NULL, out);
	if (d != fn)
		dwarf_dealloc_die(d);
}

static struct dwfunc *parse_sub(struct dwarfinfo *di, struct di_sub *s)
{
	Dwarf_Die d = di_offdie(di, s->off);
	struct dwfunc *f;
	struct di_fbase fb;
	const char *nm;

	if (!d)
		return NULL;
	f = di_alloc(di, sizeof(*f));
	if (!f)
		goto out;
	nm = di_name(di, d);
	f->name = di_strdup(di, nm ? nm : "");
	f->low = s->low;
	f->high = s->high;
	f->lang = s->lang;
	di->lang = s->lang;
	if (f->lang != DWLANG_GO)
		result_type(di, d, &f->ret);
	di_frame_base(di, d, &fb);
	if (!f->name || di_parse_params(di, d, &fb, f))
		f = NULL;
out:
	dwarf_dealloc_die(d);
	return f;
}

/* The out-of-line function whose range holds pc, or NULL. */
static struct di_sub *sub_at(struct dwarfinfo *di, uint64_t pc)
{
	size_t lo = 0, hi = di->nsubs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (di->subs[mid].low <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Nested subprograms may overlap: the innermost starts last, so look back a few. */
	for (size_t k = 0; k < 16 && lo > 0; k++) {
		struct di_sub *s = &di->subs[--lo];
		if (pc >= s->low && pc < s->high)
			return s;
	}
	return NULL;
}

const struct dwfunc *dwarfinfo_func_at(struct dwarfinfo *di, uint64_t pc)
{
	struct di_sub *s = sub_at(di, pc);

	if (s && !s->parsed)
		s->parsed = parse_sub(di, s);
	return s ? s->parsed : NULL;
}

const struct dwloc *dwarfinfo_loc_at(const struct dwparam *param, uint64_t pc)
{
	for (unsigned i = 0; i < param->nlocs; i++)
		if (pc >= param->locs[i].lo && pc < param->locs[i].hi)
			return &param->locs[i];
	return NULL;
}
