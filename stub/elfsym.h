/* ELF function symbols of one module (libelf behind this wall): .symtab and .dynsym, or the
 * .gopclntab of a stripped Go program; lookup by exact name, by glob and by address.
 * Addresses are link-time; the caller adds the load bias. Never touches a live process. */
#ifndef STUB_ELFSYM_H
#define STUB_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elfsym;

struct elfsym_func {
	const char *name;  /* owned by the struct elfsym */
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
/* fnmatch(3) glob: fills up to cap entries (out may be NULL), returns the total number matching. */
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
/* Add a function found otherwise (e.g. main of a stripped program); pointers returned
 * earlier by lookups become invalid (names stay). 0 or -ENOMEM. */
int elfsym_add(struct elfsym *es, const char *name, uint64_t addr, uint64_t size);
/* The raw image (borrowed, lives as long as es), for readers of the function bytes. */
const uint8_t *elfsym_image(const struct elfsym *es, size_t *len);

#endif
