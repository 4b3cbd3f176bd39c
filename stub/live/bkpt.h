/* Software breakpoint sites keyed by address (hash table, O(1) lookup). Each
 * site has a set of owners (user Z0, internal, tracepoint) and the original
 * byte it displaced. Memory access goes through callbacks so the table is
 * testable from memory and knows nothing of ptrace. */
#ifndef TRACESTUB_STUB_BKPT_H
#define TRACESTUB_STUB_BKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

#define BKPT_OWNER_USER	    1u /* Z0 from the client */
#define BKPT_OWNER_INTERNAL 2u /* stub-internal (library hook, step-over) */
#define BKPT_OWNER_TRACE    4u /* tracepoint */

/* How the table touches target memory. read/write return 0 or -errno. */
struct bkpt_mem {
	void *ctx;
	int (*read)(void *ctx, taddr_t addr, uint8_t *buf, size_t len);
	int (*write)(void *ctx, taddr_t addr, const uint8_t *buf, size_t len);
};

struct bkpt_table;

/* NULL on no memory. */
struct bkpt_table *bkpt_table_new(void);
/* Frees the table only; memory is not touched (call bkpt_remove_all first if
 * needed). */
void bkpt_table_free(struct bkpt_table *t);

/* Add owner at addr: the first owner saves the original byte and writes int3.
 * Adding an owner that is already present is a no-op. 0, -ENOMEM, or the memory
 * error. */
int bkpt_insert(struct bkpt_table *t, const struct bkpt_mem *mem, taddr_t addr, unsigned owner);
/* Drop owner at addr; the last owner restores the original byte. -ENOENT if
 * absent. */
int bkpt_remove(struct bkpt_table *t, const struct bkpt_mem *mem, taddr_t addr, unsigned owner);
/* Restore every original byte and empty the table. Returns the first error,
 * keeps going. */
int bkpt_remove_all(struct bkpt_table *t, const struct bkpt_mem *mem);
/* Write every original byte through mem without changing the table (a forked
 * child's copy). */
int bkpt_restore_into(const struct bkpt_table *t, const struct bkpt_mem *mem);
/* Empty the table without touching memory (the address space is gone: exec,
 * exit). */
void bkpt_forget_all(struct bkpt_table *t);

/* Owner set at addr, 0 if no site. */
unsigned bkpt_owners(const struct bkpt_table *t, taddr_t addr);
bool bkpt_is_inserted(const struct bkpt_table *t, taddr_t addr);
/* Saved original byte at addr into *orig. -ENOENT if no site. */
int bkpt_orig_byte(const struct bkpt_table *t, taddr_t addr, uint8_t *orig);
size_t bkpt_count(const struct bkpt_table *t);

/* buf holds len bytes read from addr: replace int3s of sites by their original
 * bytes. */
void bkpt_shadow(const struct bkpt_table *t, taddr_t addr, uint8_t *buf, size_t len);
/* buf holds len bytes about to be written at addr: sites in range take the new
 * bytes as their original and buf gets int3 back at those places, so the
 * breakpoint stays armed. */
void bkpt_write_through(struct bkpt_table *t, taddr_t addr, uint8_t *buf, size_t len);

/* Patches: len (<= BKPT_PATCH_MAX) bytes at addr replaced by code, the originals kept. They
 * take part in everything above that restores or shadows (bkpt_restore_into,
 * bkpt_remove_all, bkpt_forget_all, bkpt_shadow, bkpt_write_through); an int3 inside a
 * patch and a patch over an int3 or another patch are refused (-EBUSY). */
#define BKPT_PATCH_MAX 16
int bkpt_patch_insert(struct bkpt_table *t, const struct bkpt_mem *mem, taddr_t addr,
		      const uint8_t *code, size_t len);
/* Restore the original bytes. -ENOENT if no patch starts at addr. */
int bkpt_patch_remove(struct bkpt_table *t, const struct bkpt_mem *mem, taddr_t addr);
bool bkpt_patch_overlaps(const struct bkpt_table *t, taddr_t addr, size_t len);
/* Add every patch of from to t, memory untouched (a fork child's copy). 0 or -ENOMEM. */
int bkpt_patch_copy(struct bkpt_table *t, const struct bkpt_table *from);
size_t bkpt_patch_count(const struct bkpt_table *t);

#endif
