/* gopclntab: the functions of a Go program from its .gopclntab section, for binaries built
 * with -ldflags=-s (no .symtab): the Go runtime needs this table to walk its stacks, so even
 * a stripped Go binary keeps it. Go 1.18+ layout (magic 0xfffffff0, 0xfffffff1 from 1.20):
 * a header with the text start and table offsets, a functab of (entry offset, _func offset)
 * pairs ending with the end of text, and each _func naming its function in funcnametab.
 * Pure parsing of bytes; every offset is checked against the section's length. */
#ifndef TRACESTUB_STUB_GOPCLNTAB_H
#define TRACESTUB_STUB_GOPCLNTAB_H

#include <stddef.h>
#include <stdint.h>

/* One function: its name (NUL-terminated, inside the table), link-time [entry, end). Returns
 * 0 to go on, anything else stops the walk and is returned. */
typedef int (*gopclntab_fn)(void *ctx, const char *name, uint64_t entry, uint64_t end);

/* Walk the len bytes of a .gopclntab section. 0, -ENOENT (not a layout known here), -EINVAL
 * (offsets out of the table, entries out of order), or what fn returned. */
int gopclntab_walk(const uint8_t *tab, size_t len, gopclntab_fn fn, void *ctx);

#endif
