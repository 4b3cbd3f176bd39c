/* Loaded modules of a process: path, load bias, symbols, lazily opened CFI and DWARF. Built
 * from /proc/PID/maps text and updated in place as libraries come and go (a module's struct
 * never moves, so pointers to it stay valid until module_set_free); never touches the
 * process otherwise. */
#ifndef STUB_MODULE_H
#define STUB_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cfi;
struct dwarfinfo;
struct elfsym;

struct module {
	char *path;
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
};

/* Is runtime addr code of m's file where the loader put it: inside m's executable mapping, and
 * the file offset the mapping holds there is the one the ELF headers give for addr - bias
 * (so a wrong bias can never pass). */
bool module_addr_is_code(const struct module *m, uint64_t addr);

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
/* cfi_module_fn adapter: ctx is a struct module_set *. */
int module_set_cfi_lookup(void *ctx, uint64_t pc, struct cfi **cfi, uint64_t *bias);

#endif
