/* dwarfinfo types: a DWARF type reduced to what the tracer prints (scalar kinds, C strings,
 * Go strings/slices/interfaces, structs flattened into scalar leaves; libstdc++'s string,
 * string_view and vector, Rust's &str, String, Vec, slices and enums by what they hold) and
 * how the ABI passes it (C++ and Rust pass some aggregates by invisible reference).
 * Locations are in dwarfinfo_loc.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stub/debuginfo/dwarfinfo_internal.h"

#define TYPE_MAX_DEPTH 16

/* Go's reflect.Kind values in DW_AT_go_kind. */
enum { GO_KIND_INTERFACE = 20, GO_KIND_SLICE = 23, GO_KIND_STRING = 24 };

static enum dwt_kind base_kind(uint64_t enc, uint64_t size, const char *name)
{
	switch (enc) {
	case DW_ATE_boolean:
		return DWT_BOOL;
	case DW_ATE_float:
		return size == 4 || size == 8 ? DWT_FLOAT : DWT_MEMORY;
	case DW_ATE_signed_char:
	case DW_ATE_unsigned_char:
		if (size == 1 && name && !strcmp(name, "char"))
			return DWT_CHAR;
		return enc == DW_ATE_signed_char ? DWT_INT : DWT_UINT;
	case DW_ATE_signed:
		return size >= 1 && size <= 8 ? DWT_INT : DWT_MEMORY;
	case DW_ATE_unsigned:
	case DW_ATE_UTF:
		return size >= 1 && size <= 8 ? DWT_UINT : DWT_MEMORY;
	case DW_ATE_complex_float:
		return DWT_STRUCT;
	default:
		return DWT_MEMORY;
	}
}

/* A type with typedefs and qualifiers looked through. */
struct peeled {
	const char *name; /* the first name met (the typedef's), NULL if none */
	uint64_t go_kind; /* of the last DIE */
	bool go_error;
	uint32_t size; /* the first DW_AT_byte_size met */
	bool has_size;
};

static bool is_qualifier(Dwarf_Half tag)
{
	return tag == DW_TAG_typedef || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
	       tag == DW_TAG_restrict_type || tag == DW_TAG_atomic_type ||
	       tag == DW_TAG_immutable_type || tag == DW_TAG_packed_type ||
	       tag == DW_TAG_shared_type;
}

/* The DIE behind off's typedefs and qualifiers (caller frees), or NULL. Stops early at a Go
 * interface typedef (Go marks the typedef, not the runtime.iface struct behind it). */
static Dwarf_Die peel(struct dwarfinfo *di, Dwarf_Off off, struct peeled *pl)
{
	Dwarf_Die d = di_offdie(di, off);
	uint64_t v;

	memset(pl, 0, sizeof(*pl));
	for (int hop = 0; d && hop < TYPE_MAX_DEPTH; hop++) {
		const char *nm = di_name(di, d);
		Dwarf_Half tag = di_tag(d);
		Dwarf_Off next;

		if (nm && !pl->name)
			pl->name = nm;
		pl->go_kind = 0;
		di_attr_udata(di, d, DW_AT_go_kind, &pl->go_kind);
		if (nm && !strcmp(nm, "error") && pl->go_kind == GO_KIND_INTERFACE)
			pl->go_error = true;
		if (!pl->has_size && !di_attr_udata(di, d, DW_AT_byte_size, &v)) {
			pl->size = (uint32_t)v;
			pl->has_size = true;
		}
		if (pl->go_kind == GO_KIND_INTERFACE || !is_qualifier(tag) ||
		    di_attr_ref(di, d, DW_AT_type, &next))
			return d;
		dwarf_dealloc_die(d);
		d = di_offdie(di, next);
	}
	if (d)
		dwarf_dealloc_die(d);
	return NULL;
}

/* Is the type at off a C char (through typedefs and qualifiers)? */
static bool is_char(struct dwarfinfo *di, Dwarf_Off off)
{
	struct peeled pl;
	Dwarf_Die d = peel(di, off, &pl);
	uint64_t enc = 0;
	bool r = false;

	if (!d)
		return false;
	if (di_tag(d) == DW_TAG_base_type && !di_attr_udata(di, d, DW_AT_encoding, &enc)) {
		const char *nm = di_name(di, d);
		r = base_kind(enc, pl.size, nm) == DWT_CHAR;
	}
	dwarf_dealloc_die(d);
	return r;
}

/* libstdc++'s class templates shown by what they hold (a name test: the layouts are those of
 * libstdc++'s std::__cxx11::basic_string, std::vector and std::basic_string_view). */
enum cxx_class { CXX_OTHER, CXX_STRING, CXX_VECTOR, CXX_STRING_VIEW };

static enum cxx_class cxx_class_of(struct dwarfinfo *di, Dwarf_Die d)
{
	Dwarf_Half tag = di_tag(d);
	const char *nm;

	if (tag != DW_TAG_class_type && tag != DW_TAG_structure_type)
		return CXX_OTHER;
	nm = di_name(di, d);
	if (!nm)
		return CXX_OTHER;
	if (!strncmp(nm, "basic_string<char,", 18) || !strcmp(nm, "basic_string<char>"))
		return CXX_STRING;
	if (!strncmp(nm, "basic_string_view<char,", 23))
		return CXX_STRING_VIEW;
	if (!strncmp(nm, "vector<", 7))
		return CXX_VECTOR;
	return CXX_OTHER;
}

/* Does class d declare its own destructor (so the Itanium C++ ABI passes it by invisible
 * reference)? gcc 12 emits no DW_AT_calling_convention to say so. */
static bool has_user_dtor(struct dwarfinfo *di, Dwarf_Die d)
{
	bool r = false;
	uint64_t art;

	for (Dwarf_Die c = di_first_child(di, d); c; c = di_next_sibling(di, c)) {
		const char *nm;

		if (r || di_tag(c) != DW_TAG_subprogram || !(nm = di_name(di, c)) || nm[0] != '~')
			continue;
		r = di_attr_udata(di, c, DW_AT_artificial, &art) || !art;
	}
	return r;
}

/* Kind and size of a scalar DIE (base, enum, pointer); DWT_NONE when it is not one. */
static enum dwt_kind scalar_kind(struct dwarfinfo *di, Dwarf_Die d, uint32_t *size)
{
	Dwarf_Half tag = di_tag(d);
	uint64_t enc = 0, v;
	Dwarf_Off next;

	switch (tag) {
	case DW_TAG_base_type:
		di_attr_udata(di, d, DW_AT_encoding, &enc);
		if (!di_attr_udata(di, d, DW_AT_byte_size, &v))
			*size = (uint32_t)v;
		if (enc == DW_ATE_complex_float)
			return DWT_NONE;
		return base_kind(enc, *size, di_name(di, d));
	case DW_TAG_enumeration_type:
		if (!di_attr_udata(di, d, DW_AT_byte_size, &v))
			*size = (uint32_t)v;
		if (!*size)
			*size = 4;
		if (!di_attr_ref(di, d, DW_AT_type, &next)) {
			struct peeled pl;
			Dwarf_Die u = peel(di, next, &pl);
			enum dwt_kind k = DWT_INT;
			if (u && di_tag(u) == DW_TAG_base_type &&
			    !di_attr_udata(di, u, DW_AT_encoding, &enc) &&
			    (enc == DW_ATE_unsigned || enc == DW_ATE_unsigned_char))
				k = DWT_UINT;
			if (u)
				dwarf_dealloc_die(u);
			return k;
		}
		return DWT_INT;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
	case DW_TAG_ptr_to_member_type:
		*size = 8;
		if (tag == DW_TAG_pointer_type && !di_attr_ref(di, d, DW_AT_type, &next) &&
		    is_char(di, next))
			return DWT_CSTR;
		return DWT_PTR;
	default:
		return DWT_NONE;
	}
}

struct flat {
	struct dwarfinfo *di;
	struct dwtype *t;
	bool overflow;
};

static void add_leaf(struct flat *fl, const char *name, uint32_t off, uint32_t size,
		     enum dwt_kind kind)
{
	struct dwtype *t = fl->t;

	if (t->nleaves == DWARFINFO_MAX_LEAVES) {
		fl->overflow = true;
		return;
	}
	t->leaves[t->nleaves++] =
		(struct dwleaf){name ? di_strdup(fl->di, name) : NULL, off, size, kind};
}

static void flatten(struct flat *fl, Dwarf_Off toff, const char *name, uint32_t base, int depth);

static void member_path(char *buf, size_t cap, const char *name, const char *member)
{
	snprintf(buf, cap, "%s%s%s", name ? name : "", member[0] == '[' ? "" : ".", member);
}

/* Members of a struct/union/class DIE. */
static void flatten_members(struct flat *fl, Dwarf_Die d, const char *name, uint32_t base,
			    int depth)
{
	for (Dwarf_Die c = di_first_child(fl->di, d); c; c = di_next_sibling(fl->di, c)) {
		uint64_t moff = 0, bits, sz = 0;
		Dwarf_Off mt;
		char path[256];
		const char *mn;

		if (di_tag(c) != DW_TAG_member || fl->overflow)
			continue;
		mn = di_name(fl->di, c);
		member_path(path, sizeof(path), name, mn ? mn : "?");
		di_attr_udata(fl->di, c, DW_AT_data_member_location, &moff);
		if (!di_attr_udata(fl->di, c, DW_AT_bit_size, &bits)) {
			di_attr_udata(fl->di, c, DW_AT_byte_size, &sz);
			add_leaf(fl, path, base + (uint32_t)moff, (uint32_t)(sz ? sz : 4),
				 DWT_NONE);
			continue;
		}
		if (!di_attr_ref(fl->di, c, DW_AT_type, &mt))
			flatten(fl, mt, path, base + (uint32_t)moff, depth + 1);
	}
}

static uint32_t type_size(struct dwarfinfo *di, Dwarf_Off off)
{
	struct peeled pl;
	Dwarf_Die d = peel(di, off, &pl);
	uint32_t size = pl.size;

	if (d) {
		if (!pl.has_size)
			scalar_kind(di, d, &size);
		dwarf_dealloc_die(d);
	}
	return size;
}

/* Array elements (the first dimension; inner ones flatten as elements of elements). */
static void flatten_array(struct flat *fl, Dwarf_Die d, const char *name, uint32_t base, int depth)
{
	uint64_t count = 0, ub;
	uint32_t esize;
	Dwarf_Off et;

	for (Dwarf_Die c = di_first_child(fl->di, d); c; c = di_next_sibling(fl->di, c)) {
		if (di_tag(c) != DW_TAG_subrange_type || count)
			continue;
		if (di_attr_udata(fl->di, c, DW_AT_count, &count) &&
		    !di_attr_udata(fl->di, c, DW_AT_upper_bound, &ub))
			count = ub + 1;
	}
	if (count > 1)
		fl->t->has_array = true;
	if (di_attr_ref(fl->di, d, DW_AT_type, &et))
		return;
	esize = type_size(fl->di, et);
	for (uint64_t i = 0; i < count && !fl->overflow; i++) {
		char path[256], idx[32];
		if (!esize) {
			fl->overflow = true;
			break;
		}
		snprintf(idx, sizeof(idx), "[%llu]", (unsigned long long)i);
		member_path(path, sizeof(path), name, idx);
		flatten(fl, et, path, base + (uint32_t)(i * esize), depth + 1);
	}
}

static void add_words(struct flat *fl, const char *name, uint32_t base, uint64_t go_kind)
{
	static const char *const names[3][3] = {
		{".ptr", ".len", NULL}, {".ptr", ".len", ".cap"}, {".tab", ".data", NULL}};
	unsigned w = go_kind == GO_KIND_STRING ? 0 : go_kind == GO_KIND_SLICE ? 1 : 2;
	unsigned n = w == 1 ? 3 : 2;

	for (unsigned i = 0; i < n; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s%s", name ? name : "", names[w][i]);
		add_leaf(fl, path, base + 8 * i, 8, i && w != 2 ? DWT_INT : DWT_PTR);
	}
}

static void flatten(struct flat *fl, Dwarf_Off toff, const char *name, uint32_t base, int depth)
{
	struct peeled pl;
	Dwarf_Die d;
	Dwarf_Half tag;
	uint32_t size = 0;
	enum dwt_kind k;

	if (depth > TYPE_MAX_DEPTH || !(d = peel(fl->di, toff, &pl))) {
		fl->overflow = true;
		return;
	}
	tag = di_tag(d);
	if (pl.go_kind == GO_KIND_INTERFACE || pl.go_kind == GO_KIND_STRING ||
	    pl.go_kind == GO_KIND_SLICE)
		add_words(fl, name, base, pl.go_kind);
	else if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
		 tag == DW_TAG_class_type)
		flatten_members(fl, d, name, base, depth);
	else if (tag == DW_TAG_array_type)
		flatten_array(fl, d, name, base, depth);
	else if ((k = scalar_kind(fl->di, d, &size)) != DWT_NONE && k != DWT_MEMORY)
		add_leaf(fl, name, base, size, k);
	else if (tag == DW_TAG_base_type && size) {
		uint64_t enc = 0;
		di_attr_udata(fl->di, d, DW_AT_encoding, &enc);
		if (enc == DW_ATE_complex_float) {
			char path[256];
			snprintf(path, sizeof(path), "%s.re", name ? name : "");
			add_leaf(fl, path, base, size / 2, DWT_FLOAT);
			snprintf(path, sizeof(path), "%s.im", name ? name : "");
			add_leaf(fl, path, base + size / 2, size / 2, DWT_FLOAT);
		} else {
			fl->overflow = true;
		}
	} else {
		fl->overflow = true;
	}
	dwarf_dealloc_die(d);
}

/* A std::vector's element type (its first template parameter) as a slice's element. */
static void vec_elem(struct dwarfinfo *di, Dwarf_Die vec, struct dwtype *out)
{
	Dwarf_Off et;
	bool done = false;

	for (Dwarf_Die c = di_first_child(di, vec); c; c = di_next_sibling(di, c)) {
		struct peeled epl;
		Dwarf_Die e;

		if (done || di_tag(c) != DW_TAG_template_type_parameter ||
		    di_attr_ref(di, c, DW_AT_type, &et))
			continue;
		done = true;
		if (!(e = peel(di, et, &epl)))
			continue;
		out->elem_size = epl.size;
		out->elem_kind = scalar_kind(di, e, &out->elem_size);
		dwarf_dealloc_die(e);
	}
}

/* The class behind a pointer or reference type d (caller frees), or NULL. */
static Dwarf_Die pointee(struct dwarfinfo *di, Dwarf_Die d)
{
	struct peeled pl;
	Dwarf_Off next;

	return di_attr_ref(di, d, DW_AT_type, &next) ? NULL : peel(di, next, &pl);
}

/* A pointer or reference to a std::string or std::vector: the object behind it, read through
 * the address (deref). */
static void cxx_pointee(struct dwarfinfo *di, Dwarf_Die d, struct dwtype *out)
{
	Dwarf_Die o = pointee(di, d);
	enum cxx_class c = o ? cxx_class_of(di, o) : CXX_OTHER;
	uint64_t size = 0;

	if ((c == CXX_STRING || c == CXX_VECTOR) && !di_attr_udata(di, o, DW_AT_byte_size, &size) &&
	    size <= 32) {
		out->kind = c == CXX_STRING ? DWT_CXXSTR : DWT_CXXVEC;
		out->deref = true;
		out->size = (uint32_t)size;
		if (c == CXX_VECTOR)
			vec_elem(di, o, out);
	}
	if (o)
		dwarf_dealloc_die(o);
}

/* C++ classes: libstdc++'s string, string_view and vector by what they hold; any class with
 * a destructor of its own passed by invisible reference. */
static void cxx_class(struct dwarfinfo *di, Dwarf_Die d, struct dwtype *out)
{
	switch (cxx_class_of(di, d)) {
	case CXX_STRING:
		out->kind = DWT_CXXSTR;
		out->by_ref = true;
		break;
	case CXX_VECTOR:
		out->kind = DWT_CXXVEC;
		out->by_ref = true;
		vec_elem(di, d, out);
		break;
	case CXX_STRING_VIEW:
		if (out->kind == DWT_STRUCT && out->nleaves == 2)
			out->kind = DWT_CXXSV;
		break;
	default:
		out->by_ref = has_user_dtor(di, d);
	}
}

/* The leaf whose name ends in suffix (".len"), or NULL. */
static const struct dwleaf *leaf_ending(const struct dwtype *t, const char *suffix)
{
	size_t n = strlen(suffix);

	for (unsigned i = 0; i < t->nleaves; i++) {
		const char *nm = t->leaves[i].name;
		size_t k = nm ? strlen(nm) : 0;

		if (k >= n && !strcmp(nm + k - n, suffix))
			return &t->leaves[i];
	}
	return NULL;
}

/* A Rust slice's element: the pointee of its data_ptr member. */
static void slice_elem(struct dwarfinfo *di, Dwarf_Die d, struct dwtype *out)
{
	bool done = false;

	for (Dwarf_Die c = di_first_child(di, d); c; c = di_next_sibling(di, c)) {
		const char *nm;
		Dwarf_Off pt;
		Dwarf_Die p, e;
		struct peeled pl;

		if (done || di_tag(c) != DW_TAG_member || !(nm = di_name(di, c)) ||
		    strcmp(nm, "data_ptr") || di_attr_ref(di, c, DW_AT_type, &pt))
			continue;
		done = true;
		if (!(p = peel(di, pt, &pl)))
			continue;
		if ((e = pointee(di, p))) {
			out->elem_size = 0;
			out->elem_kind = scalar_kind(di, e, &out->elem_size);
			dwarf_dealloc_die(e);
		}
		dwarf_dealloc_die(p);
	}
}

/* A Rust enum's variant part: the tag member and each variant's tag value and name. */
static void rust_variants(struct dwarfinfo *di, Dwarf_Die vp, struct dwtype *out)
{
	Dwarf_Off tag_ref = 0, t;
	uint64_t v;
	bool have_tag = !di_attr_ref(di, vp, DW_AT_discr, &tag_ref);

	for (Dwarf_Die c = di_first_child(di, vp); c; c = di_next_sibling(di, c)) {
		Dwarf_Half tag = di_tag(c);

		if (tag == DW_TAG_member && have_tag && di_die_offset(c) == tag_ref) {
			if (!di_attr_udata(di, c, DW_AT_data_member_location, &v) &&
			    !di_attr_ref(di, c, DW_AT_type, &t) &&
			    (out->tag_size = type_size(di, t)))
				out->tag_off = (uint32_t)v;
		} else if (tag == DW_TAG_variant && out->nvariants < DWARFINFO_MAX_VARIANTS) {
			Dwarf_Die m = di_first_child(di, c);
			const char *nm = m ? di_name(di, m) : NULL;
			bool has_value = !di_attr_udata(di, c, DW_AT_discr_value, &v);

			if (nm) {
				out->variants[out->nvariants].name = di_strdup(di, nm);
				out->variants[out->nvariants].value = has_value ? v : 0;
				out->variants[out->nvariants++].dflt = !has_value;
			}
			if (m)
				dwarf_dealloc_die(m);
		}
	}
}

/* Rust's library types by what they hold (&str, String, Vec<T>, &[T]), and rustc's ABI:
 * an aggregate over 16 bytes is passed and returned through a pointer. */
static void rust_type(struct dwarfinfo *di, Dwarf_Die d, struct dwtype *out)
{
	const char *nm = out->name ? out->name : "";
	const struct dwleaf *p = leaf_ending(out, ".pointer"), *n = leaf_ending(out, ".len");

	if (out->kind != DWT_STRUCT && out->kind != DWT_MEMORY)
		return;
	if (out->nleaves == 2 && (!strcmp(nm, "&str") || !strcmp(nm, "&mut str"))) {
		out->kind = DWT_GOSTRING; /* {data_ptr, length}: a Go string's layout */
	} else if (out->nleaves == 2 && (!strncmp(nm, "&[", 2) || !strncmp(nm, "&mut [", 6))) {
		out->kind = DWT_RVEC;
		out->ptr_off = out->leaves[0].offset;
		out->len_off = out->leaves[1].offset;
		slice_elem(di, d, out);
	} else if (p && n && (!strcmp(nm, "String") || !strncmp(nm, "Vec<", 4))) {
		out->kind = nm[0] == 'S' ? DWT_RSTRING : DWT_RVEC;
		out->ptr_off = p->offset;
		out->len_off = n->offset;
		if (out->kind == DWT_RVEC)
			vec_elem(di, d, out);
	}
	for (Dwarf_Die c = di_first_child(di, d); c; c = di_next_sibling(di, c))
		if (di_tag(c) == DW_TAG_variant_part && !out->nvariants)
			rust_variants(di, c, out);
	if (out->nvariants && out->tag_size && out->tag_size <= 8 &&
	    out->tag_off + out->tag_size <= out->size)
		out->kind = DWT_RENUM;
	out->by_ref = out->size > 16;
}

void di_type(struct dwarfinfo *di, Dwarf_Off off, const char *pname, struct dwtype *out)
{
	struct flat fl = {di, out, false};
	struct peeled pl;
	Dwarf_Die d = peel(di, off, &pl);
	Dwarf_Off et;
	uint32_t size;

	memset(out, 0, sizeof(*out));
	if (!d)
		return;
	out->name = pl.name ? di_strdup(di, pl.name) : NULL;
	out->go_error = pl.go_error;
	out->size = pl.size;
	size = pl.size;
	out->kind = scalar_kind(di, d, &size);
	if (out->kind != DWT_NONE) {
		out->size = size;
		if (out->kind == DWT_PTR && di_tag(d) != DW_TAG_ptr_to_member_type)
			cxx_pointee(di, d, out);
		goto done;
	}
	flatten(&fl, off, pname, 0, 0);
	if (pl.go_kind == GO_KIND_STRING) {
		out->kind = DWT_GOSTRING;
	} else if (pl.go_kind == GO_KIND_SLICE) {
		out->kind = DWT_GOSLICE;
		if (!di_attr_ref(di, d, DW_AT_go_elem, &et)) {
			struct peeled epl;
			Dwarf_Die e = peel(di, et, &epl);
			uint32_t esize = epl.size;
			if (e) {
				out->elem_kind = scalar_kind(di, e, &esize);
				out->elem_size = esize;
				dwarf_dealloc_die(e);
			}
		}
	} else if (pl.go_kind == GO_KIND_INTERFACE) {
		out->kind = DWT_GOIFACE;
		out->size = 16;
	} else if (di_tag(d) == DW_TAG_subroutine_type || di_tag(d) == DW_TAG_unspecified_type) {
		out->kind = DWT_NONE;
	} else {
		out->kind = fl.overflow || !out->nleaves ? DWT_MEMORY : DWT_STRUCT;
		cxx_class(di, d, out);
		if (di->lang == DWLANG_RUST)
			rust_type(di, d, out);
	}
done:
	dwarf_dealloc_die(d);
}

void di_die_type(struct dwarfinfo *di, Dwarf_Die die, const char *pname, struct dwtype *out)
{
	Dwarf_Off t;

	if (di_attr_ref(di, die, DW_AT_type, &t)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	di_type(di, t, pname, out);
}
