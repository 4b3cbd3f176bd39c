/* stub/debuginfo/: what a module's files say: ELF symbols (libelf), Go's pclntab, DWARF
 * functions, parameters, types and lines, CFI (libdwarf, each file vetted in a child first), and
 * the module set of a process with its load biases. No Elf or Dwarf type leaves this folder. */
#ifndef TRACESTUB_STUB_DEBUGINFO_DEBUGINFO_H
#define TRACESTUB_STUB_DEBUGINFO_DEBUGINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ELF function symbols of one module (libelf behind this wall): .symtab and .dynsym, or the
 * .gopclntab of a stripped Go program; lookup by exact name, by glob and by address.
 * Addresses are link-time; the caller adds the load bias. Never touches a live process. */
struct elfsym;

struct elfsym_func {
	const char *name;  /* as in the symbol table; owned by the struct elfsym */
	const char *dname; /* demangled (C++, Rust) without parameters, NULL if not mangled */
	const char *dsig;  /* demangled with its parameter list, NULL if not mangled */
	uint64_t addr;	   /* link-time address */
	uint64_t size;	   /* 0 when the symbol has no size */
	uint64_t file_off; /* file offset of the first byte, or UINT64_MAX if not in a PT_LOAD */
	bool dynamic;	   /* found in .dynsym (not only .symtab) */
};

/* Open the ELF file at path. Returns 0 or -errno (-ENOEXEC: not a usable ELF). */
int elfsym_open(const char *path, struct elfsym **out);
/* Same over an in-memory image; the bytes are copied. */
int elfsym_open_mem(const void *buf, size_t len, struct elfsym **out);
void elfsym_free(struct elfsym *es);

/* Exact name; NULL if absent. */
const struct elfsym_func *elfsym_find(const struct elfsym *es, const char *name);
/* The link-time address of the data object (STT_OBJECT in .symtab) named name: 0, -ENOENT. */
int elfsym_object_addr(const struct elfsym *es, const char *name, uint64_t *addr);
/* The name to show: the demangled one for C++ and Rust (shop::Cart::add, m::add). */
static inline const char *elfsym_func_name(const struct elfsym_func *f)
{
	return f->dname ? f->dname : f->name;
}
/* Every function a probe spec's name means: the symbol of that exact name; else each whose
 * demangled name is name (every overload); a name with a parameter list ("add(int)") picks
 * by demangled signature, spaces ignored. Fills out (cap entries), returns how many there
 * are in all. */
size_t elfsym_match(const struct elfsym *es, const char *name, const struct elfsym_func **out,
		    size_t cap);
/* fnmatch(3) glob over the symbol names and the demangled names (with parameters when the
 * pattern has a '('): fills up to cap entries (out may be NULL), returns the total number
 * matching. */
size_t elfsym_glob(const struct elfsym *es, const char *pattern, const struct elfsym_func **out,
		   size_t cap);
/* Function containing link-time addr ([addr, addr+size), or exactly addr for size 0); NULL if
 * none. *off (may be NULL) gets addr - func->addr. */
const struct elfsym_func *elfsym_lookup(const struct elfsym *es, uint64_t addr, uint64_t *off);
size_t elfsym_count(const struct elfsym *es);
/* i-th function by ascending address. */
const struct elfsym_func *elfsym_at(const struct elfsym *es, size_t i);

/* Bias-independent load info: for a mapping of file offset off, the link-time address of that
 * offset (p_vaddr - p_offset + off of the PT_LOAD containing it; of the one whose PF_X equals
 * exec when two segments share the page, as lld and mold lay them out). 0 or -ENOENT. */
int elfsym_offset_to_vaddr(const struct elfsym *es, uint64_t off, bool exec, uint64_t *vaddr);
/* ET_DYN (PIE or shared object). */
bool elfsym_is_dyn(const struct elfsym *es);
/* e_entry of a program (an ELF with PT_INTERP), 0 for anything else. */
uint64_t elfsym_entry(const struct elfsym *es);
/* File offset of link-time vaddr inside a PT_LOAD's file bytes. 0 or -ENOENT. */
int elfsym_vaddr_to_offset(const struct elfsym *es, uint64_t vaddr, uint64_t *off);
/* Separate debug info: the GNU build-id (its length; 0 if none), the .gnu_debuglink name
 * (NULL if none) with the CRC-32 the debug file must have, and whether this file has DWARF
 * of its own. */
size_t elfsym_build_id(const struct elfsym *es, const uint8_t **id);
const char *elfsym_debuglink(const struct elfsym *es, uint32_t *crc);
bool elfsym_has_dwarf(const struct elfsym *es);
/* Add from's functions (a debug file's .symtab: its local symbols) to es, at the same
 * link-time addresses; lookups made before are invalid after. 0 or -ENOMEM. */
int elfsym_merge(struct elfsym *es, const struct elfsym *from);

/* The separate debug file of the ELF at path (es: its symbols), found as gdb finds one:
 * ROOT/.build-id/xx/yyyy.debug (its build-id must match), else .gnu_debuglink's name in
 * path's directory, its .debug/ subdirectory, or ROOT/<path's directory>/, with a matching
 * CRC-32. ROOT is /usr/lib/debug unless root is given (may be NULL). 0 with the path in out,
 * or -ENOENT. */
int debugfile_find(const char *path, const struct elfsym *es, const char *root, char *out,
		   size_t cap);

/* Add a function found otherwise (e.g. main of a stripped program); pointers returned
 * earlier by lookups become invalid (names stay). 0 or -ENOMEM. */
int elfsym_add(struct elfsym *es, const char *name, uint64_t addr, uint64_t size);
/* The raw image (borrowed, lives as long as es), for readers of the function bytes. */
const uint8_t *elfsym_image(const struct elfsym *es, size_t *len);

/* CFI unwinding (.eh_frame, then .debug_frame) via libdwarf, with an rbp-chain
 * fallback only where no CFI covers a pc. Never reads target memory itself: the
 * caller gives a reader. */
struct cfi;

/* DWARF x86_64 numbering: 0 rax 1 rdx 2 rcx 3 rbx 4 rsi 5 rdi 6 rbp 7 rsp 8-15
 * r8-r15 16 rip. */
#define CFI_NREGS 17
struct cfi_regs {
	uint64_t r[CFI_NREGS];
	uint32_t valid; /* bit n: r[n] known */
	bool at_entry;	/* rip is a function's first instruction (used where no CFI covers it) */
};

enum cfi_how { CFI_HOW_START, CFI_HOW_CFI, CFI_HOW_FP };
struct cfi_frame {
	uint64_t pc, sp;
	enum cfi_how how; /* how this frame was recovered */
};

typedef int (*cfi_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
/* pc -> the module's cfi (NULL when it has none) and load bias; -ENOENT if no
 * module. */
typedef int (*cfi_module_fn)(void *ctx, uint64_t pc, struct cfi **cfi, uint64_t *bias);

/* Open the CFI of an ELF file. 0, -ENOENT (no CFI), -ENOEXEC or -errno. */
int cfi_open(const char *path, struct cfi **out);
void cfi_free(struct cfi *c);

/* The canonical frame address at link-time pc (the caller's rsp before its call) for regs.
 * 0, or -ENOENT when no CFI covers pc or the rule needs a register that is not valid. */
int cfi_cfa(struct cfi *c, uint64_t pc, const struct cfi_regs *regs, uint64_t *cfa);

/* The CFA rule at link-time pc: CFA = DWARF register *dwreg + *off. 0 or -ENOENT. */
int cfi_cfa_rule(struct cfi *c, uint64_t pc, int *dwreg, int64_t *off);

/* [lo, hi) of the FDE covering link-time pc. 0 or -ENOENT. */
int cfi_fde_range(struct cfi *c, uint64_t pc, uint64_t *lo, uint64_t *hi);

/* Unwind from regs (rip, rsp needed; rbp and callee-saved used when valid).
 * Fills up to max frames (frame 0 = regs), *n gets the count. Stops cleanly on
 * unreadable memory, missing CFI with no frame pointer, a non-increasing stack
 * or pc 0. Returns 0 or -EINVAL. */
int cfi_unwind(cfi_module_fn modules, void *mctx, const struct cfi_regs *regs, cfi_read_fn rd,
	       void *rctx, struct cfi_frame *out, size_t max, size_t *n);

/* DWARF of one module, for the headless tracer (libdwarf behind this wall): per function its
 * parameters (names, types enough to print values, location descriptions), Go results,
 * inlined instances, FILE:LINE -> addresses, and struct member offsets. Addresses are
 * link-time; the caller adds the load bias. Never touches a process: locations are described
 * here and evaluated by the caller against registers and memory. Everything returned is owned
 * by the struct dwarfinfo and lives as long as it. Compressed sections (SHF_COMPRESSED, as
 * Go writes them) are read by libdwarf. */
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
	/* C++ (libstdc++ layouts) and Rust library types shown as what they hold */
	DWT_CXXSTR,  /* a std::string object: {char *p; size_t len; ...} (deref: its address) */
	DWT_CXXVEC,  /* a std::vector object: {T *begin, *end, *cap}; elem_kind/size as slices */
	DWT_CXXSV,   /* a std::string_view: {size_t len; const char *p} */
	DWT_RSTRING, /* a Rust String: bytes at ptr_off/len_off of the object */
	DWT_RVEC,    /* a Rust Vec<T> (and &[T]): elements at ptr_off, count at len_off */
	DWT_RENUM,   /* a Rust enum (Option, Result...): its variant, by the tag at tag_off */
};

#define DWARFINFO_MAX_VARIANTS 8

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
	uint32_t size;		   /* bytes */
	const char *name;	   /* as written ("const char *", "[]int"), may be NULL */
	bool go_error;		   /* Go's error interface */
	bool has_array;		   /* holds an array of 2+ elements (Go passes it in memory) */
	bool by_ref;		   /* passed and returned by invisible reference: a C++ class with a
				    * user-declared destructor (Itanium ABI "non-trivial for calls"), a
				    * Rust aggregate over 16 bytes (rustc's indirect pass mode) */
	bool deref;		   /* the value held is the object's address (an argument by_ref) */
	uint32_t ptr_off, len_off; /* DWT_RSTRING, DWT_RVEC: where the pointer and count are */
	/* DWT_RENUM: the tag, and each variant's tag value (dflt: the variant any other value
	 * means, in a niche-encoded enum) */
	uint32_t tag_off, tag_size;
	unsigned nvariants;
	struct {
		uint64_t value;
		const char *name;
		bool dflt;
	} variants[DWARFINFO_MAX_VARIANTS];
	/* DWT_GOSLICE, DWT_CXXVEC*: element kind and size (DWT_NONE when not a scalar) */
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
	bool fbreg;    /* DWP_MEM relative to a register frame base (valid after the prologue) */
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

enum dwlang { DWLANG_C, DWLANG_GO, DWLANG_RUST, DWLANG_OTHER };

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
/* From here on every compilation unit of di is vetted (dwarfvet) before di first reads it;
 * without this call the whole file is trusted (the caller vetted all of it). */
void dwarfinfo_vet_units(struct dwarfinfo *di);
/* Are path's indexes in the cache (dwarfcache.c)? Then dwarfinfo_open reads no DIE. */
bool dwarfinfo_cached(const char *path);
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

/* dwarfvet: is a part of an ELF file's DWARF safe to hand to libdwarf in this process?
 * libdwarf 20210528 (the Debian 12 library) crashes on some malformed sections (found by
 * tests/fuzz/fuzz_dwarf.c: a double free on a zero-length .debug_rnglists unit). A traced
 * program's files are not trusted, and a crash of the tracer would leave int3s in a running
 * program, so before this process reads a part of a file, a throwaway child reads it the same
 * way (every DIE and attribute, location and range lists, line tables; every FDE's rules).
 * The parts, so that a big library costs what is traced in it: its CFI (dwarfvet_cfi), the
 * walks that index its functions and inlined instances (dwarfvet_index; the child leaves the
 * indexes in the cache, dwarfcache.c, where dwarfinfo_open finds them), then each compilation
 * unit as dwarfinfo first reads into it (dwarfinfo_vet_units). A part on which the child dies
 * or hangs is used without DWARF (symbols and the ABI only), with one warning. */
/* 0 when libdwarf survives (or the file has no DWARF at all), -EILSEQ when the walk crashed,
 * -ETIMEDOUT when it took longer than timeout_s seconds, or -errno (no such file, fork
 * failed). Verdicts are remembered per (device, inode, size, mtime) and part, in memory and
 * in $XDG_CACHE_HOME/tracestub. dwarfvet_check vets the whole file at once. */
#define DWARFVET_TIMEOUT_S 60
int dwarfvet_check(const char *path, unsigned timeout_s);
int dwarfvet_cfi(const char *path, unsigned timeout_s);
int dwarfvet_index(const char *path, unsigned timeout_s);
/* dwarfvet_index, and in the same child the units of the functions at pcs[n] (at most
 * DWARFVET_HINTS): what a start-up reads next, without a second child. */
#define DWARFVET_HINTS 16
int dwarfvet_index_at(const char *path, const uint64_t *pcs, size_t n, unsigned timeout_s);

/* What a child's full walk of path did, without forking: for tests. */
void dwarfvet_walk(const char *path);

/* dwarfstr: a file's DWARF strings, read with libelf only: could a DIE there be named name
 * (spec syntax: "a::b::f(int)", "twice<int>", "main.f")? Always true where that cannot be
 * told (no such sections, a dwz supplementary file). */
struct dwarfstr;
int dwarfstr_open(const char *path, struct dwarfstr **out); /* 0, -ENOMEM or -errno */
void dwarfstr_free(struct dwarfstr *ds);		    /* NULL allowed */
bool dwarfstr_may_name(const struct dwarfstr *ds, const char *name);
/* The answer for path and name kept on disk: 1, 0, or -ENOENT (none); keep one. */
int dwarfstr_known(const char *path, const char *name);
void dwarfstr_remember(const char *path, const char *name, bool may);

/* Loaded modules of a process: path, load bias, symbols, lazily opened CFI and DWARF. Built
 * from /proc/PID/maps text and updated in place as libraries come and go (a module's struct
 * never moves, so pointers to it stay valid until module_set_free); never touches the
 * process otherwise. */
struct cfi;
struct dwarfinfo;
struct elfsym;

struct module {
	char *path;
	char *debug_path;	 /* its separate debug file (DWARF, local symbols), or NULL */
	const char *name;	 /* basename of path */
	uint64_t start, end;	 /* first executable mapping's range */
	uint64_t off;		 /* the file offset mapped at start */
	uint64_t bias;		 /* runtime address = link-time address + bias */
	struct elfsym *syms;	 /* never NULL */
	bool is_go;		 /* a Go program (has the Go runtime's symbols) */
	bool mapped;		 /* false once it is gone from the maps (dlclose) */
	struct cfi *cfi;	 /* lazy: use module_cfi() */
	int cfi_err;		 /* 1 = not tried yet */
	struct dwarfinfo *dwarf; /* lazy: use module_dwarf() */
	int dwarf_err;		 /* 1 = not tried yet */
	struct dwarfstr *dwstr;	 /* lazy: use module_dwarf_may_name() */
	bool dwstr_tried;
};

/* Is runtime addr code of m's file where the loader put it: inside m's executable mapping, and
 * the file offset the mapping holds there is the one the ELF headers give for addr - bias
 * (so a wrong bias can never pass). *file_off (may be NULL) gets that offset. */
bool module_addr_is_code(const struct module *m, uint64_t addr, uint64_t *file_off);

struct module_set {
	struct module **mods; /* in order of discovery */
	size_t n;
};

/* Parse maps text (len bytes, /proc/PID/maps format): one module per file-backed executable
 * mapping; files that are not readable ELF are skipped. 0 or -errno. */
int module_set_from_maps(const char *maps, size_t len, struct module_set **out);
int module_set_from_pid(pid_t pid, struct module_set **out);
/* Bring set up to date with maps text: modules not seen before (by path and start) are
 * appended, modules no longer mapped are marked !mapped (kept, not freed). *nnew (may be
 * NULL) gets how many were appended: they are set->mods[set->n - *nnew ...]. 0 or -errno. */
int module_set_update(struct module_set *set, const char *maps, size_t len, size_t *nnew);
int module_set_update_pid(struct module_set *set, pid_t pid, size_t *nnew);
void module_set_free(struct module_set *set);
/* Mapped module whose executable mapping holds addr; NULL if none. */
struct module *module_set_find(struct module_set *set, uint64_t addr);
/* The module's CFI, opened on first use; NULL when it has none. */
struct cfi *module_cfi(struct module *m);
/* The module's DWARF, opened on first use; NULL when it has none. */
struct dwarfinfo *module_dwarf(struct module *m);
/* module_dwarf for the functions at link-time pcs[n]: their units vetted with the index. */
struct dwarfinfo *module_dwarf_at(struct module *m, const uint64_t *pcs, size_t n);
/* Could m's DWARF hold a function named name (its strings hold the name's last identifier)?
 * false only when surely not: then module_dwarf need not be read to look for it. */
bool module_dwarf_may_name(struct module *m, const char *name);
/* cfi_module_fn adapter: ctx is a struct module_set *. */
int module_set_cfi_lookup(void *ctx, uint64_t pc, struct cfi **cfi, uint64_t *bias);

#endif
