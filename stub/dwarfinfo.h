/* DWARF of one module, for the headless tracer (libdwarf behind this wall): per function its
 * parameters (names, types enough to print values, location descriptions), Go results,
 * inlined instances, FILE:LINE -> addresses, and struct member offsets. Addresses are
 * link-time; the caller adds the load bias. Never touches a process: locations are described
 * here and evaluated by the caller against registers and memory. Everything returned is owned
 * by the struct dwarfinfo and lives as long as it. Compressed sections (SHF_COMPRESSED, as
 * Go writes them) are read by libdwarf. */
#ifndef TRACESTUB_STUB_DWARFINFO_H
#define TRACESTUB_STUB_DWARFINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dwarfinfo;

enum dwt_kind {
	DWT_NONE,     /* void, or a type not described (function, unspecified) */
	DWT_INT,      /* signed integer or enum, size 1..8 */
	DWT_UINT,     /* unsigned integer, size 1..8 */
	DWT_BOOL,     /* size 1 */
	DWT_CHAR,     /* a C char (one byte) */
	DWT_FLOAT,    /* size 4 or 8 */
	DWT_PTR,      /* any pointer, Go map/chan/func */
	DWT_CSTR,     /* pointer to C char: a NUL-terminated string */
	DWT_GOSTRING, /* Go string: {ptr, len} */
	DWT_GOSLICE,  /* Go slice: {ptr, len, cap}; elem_kind/elem_size describe elements */
	DWT_GOIFACE,  /* Go interface: {tab or type, data} */
	DWT_STRUCT,   /* C struct/union or other Go struct: leaves hold the scalar parts */
	DWT_MEMORY,   /* an aggregate passed in memory (too big, arrays, long double...) */
};

#define DWARFINFO_MAX_LEAVES 16
#define DWARFINFO_MAX_PIECES 4

/* One scalar part of an aggregate (struct members flattened, array elements). */
struct dwleaf {
	const char *name; /* "p.a", "p.in.x", "p.v[1]" */
	uint32_t offset, size;
	enum dwt_kind kind; /* scalar kinds only; DWT_NONE for bitfields */
};

struct dwtype {
	enum dwt_kind kind;
	uint32_t size;	  /* bytes */
	const char *name; /* as written ("const char *", "[]int"), may be NULL */
	bool go_error;	  /* Go's error interface */
	bool has_array;	  /* holds an array of 2+ elements (Go passes it in memory) */
	/* DWT_GOSLICE: element kind and size (DWT_NONE when not a scalar) */
	enum dwt_kind elem_kind;
	uint32_t elem_size;
	/* DWT_STRUCT (and Go string/slice/interface, whose parts are words): the scalar parts
	 * in offset order. A struct whose parts do not fit is DWT_MEMORY. */
	unsigned nleaves;
	struct dwleaf leaves[DWARFINFO_MAX_LEAVES];
};

enum dwpiece_kind {
	DWP_EMPTY,     /* this piece is optimised out */
	DWP_REG,       /* the value is in register dwreg */
	DWP_MEM,       /* the value is in memory at base + off */
	DWP_VALUE,     /* the value is base + off itself (DW_OP_stack_value) */
	DWP_ENTRY_REG, /* the value dwreg had at function entry (DW_OP_entry_value) */
};

/* base for DWP_MEM / DWP_VALUE: a DWARF register number, or one of these. */
#define DWBASE_CFA  (-1) /* the canonical frame address (rsp + 8 at entry) */
#define DWBASE_NONE (-2) /* absolute: off alone */

struct dwpiece {
	enum dwpiece_kind kind;
	int dwreg; /* DWP_REG / DWP_ENTRY_REG register; DWP_MEM / DWP_VALUE base */
	int64_t off;
	uint32_t size; /* bytes of the value this piece covers; 0 = all of it */
};

/* A location valid for pc in [lo, hi) (a single expression: [0, UINT64_MAX)). */
struct dwloc {
	uint64_t lo, hi;
	unsigned npieces; /* 0: no location here */
	struct dwpiece pieces[DWARFINFO_MAX_PIECES];
};

struct dwparam {
	const char *name; /* NULL when unnamed */
	struct dwtype type;
	bool is_result; /* a Go result (DW_AT_variable_parameter) */
	unsigned nlocs;
	struct dwloc *locs;
};

enum dwlang { DWLANG_C, DWLANG_GO, DWLANG_OTHER };

struct dwfunc {
	const char *name;
	uint64_t low, high; /* [low, high); an inlined instance: entry pc and its last end */
	enum dwlang lang;
	struct dwtype ret; /* C return type (DWT_NONE for void); Go results are params */
	unsigned nparams;
	struct dwparam *params; /* declaration order, Go results included */
	/* inlined instances only */
	bool inlined;
	const char *caller; /* the function it is inlined into */
	const char *call_file;
	unsigned call_line;
	unsigned nranges;
	uint64_t (*ranges)[2];
};

/* Open the DWARF of the ELF file at path. 0, -ENOENT (no DWARF), -ENOMEM or -errno. */
int dwarfinfo_open(const char *path, struct dwarfinfo **out);
void dwarfinfo_free(struct dwarfinfo *di); /* NULL allowed */

/* The out-of-line function whose [low, high) holds pc, parsed on first use; NULL if none. */
const struct dwfunc *dwarfinfo_func_at(struct dwarfinfo *di, uint64_t pc);

/* Inlined instances of functions named name (exact, or fnmatch glob when glob): fills up to
 * cap (out may be NULL), returns how many there are. The first call walks every DIE. */
size_t dwarfinfo_inlined(struct dwarfinfo *di, const char *name, bool glob,
			 const struct dwfunc **out, size_t cap);

/* The location of param valid at pc, NULL if none. */
const struct dwloc *dwarfinfo_loc_at(const struct dwparam *param, uint64_t pc);

/* Addresses where line `line` of a file whose path ends with `file` (whole path components)
 * begins: the first address of each run of is_stmt rows of that line. When the line has no
 * code, the next line that has some is used and *got_line says which. Fills up to cap,
 * *n = total. 0, or -ENOENT (no such file or no code at or after that line). */
int dwarfinfo_line_addrs(struct dwarfinfo *di, const char *file, unsigned line, uint64_t *addrs,
			 size_t cap, size_t *n, unsigned *got_line);

/* Byte offset of member in the struct type named type_name (e.g. "runtime.g", "goid").
 * 0 or -ENOENT. */
int dwarfinfo_member_offset(struct dwarfinfo *di, const char *type_name, const char *member,
			    uint64_t *off);

#endif
