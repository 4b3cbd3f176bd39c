/* One module of a replayed program (the main executable or a shared library): its file's
 * program headers and the bytes of its read-only segments, placed at a load bias. Replay
 * serves these bytes as the program's memory (code, constants, .eh_frame, the ELF and
 * program headers a client reads through auxv's AT_PHDR); writable segments are never
 * served from the file, since their contents at run time were not what the file says. */
#ifndef TRACESTUB_STUB_REPLAY_MOD_H
#define TRACESTUB_STUB_REPLAY_MOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

#define REPLAY_MOD_MAX_SEGS 16

struct elfsym;

struct replay_seg {
	uint64_t vaddr, memsz, filesz, off; /* link-time */
	bool r, w, x;
};

struct replay_mod {
	char *path;
	uint64_t bias; /* run-time address = link-time address + bias */
	struct elfsym *es;
	const uint8_t *img; /* the file, borrowed from es */
	size_t len;
	struct replay_seg segs[REPLAY_MOD_MAX_SEGS];
	size_t nsegs;
	uint64_t lo, hi;      /* link-time span of the PT_LOAD segments */
	uint64_t entry;	      /* e_entry */
	uint64_t phdr, phnum; /* link-time address and count of the program headers */
	uint64_t dynamic;     /* link-time PT_DYNAMIC address, 0 if none */
	char interp[256];     /* PT_INTERP, "" if none */
};

/* Open path (an x86_64 ELF) placed at bias. 0, -ENOEXEC (not a usable ELF), -ENOMEM, or the
 * error of reading the file. */
int replay_mod_open(struct replay_mod *m, const char *path, uint64_t bias);
void replay_mod_close(struct replay_mod *m);

/* Read-only segment bytes at run-time addr, as the kernel maps them (whole pages of the
 * file from the page holding p_offset): up to len bytes, never past the mapping (*done);
 * the part of a read-only segment past its file bytes reads as zeros. -EIO when addr is in
 * no read-only segment. */
int replay_mod_read(const struct replay_mod *m, taddr_t addr, uint8_t *buf, size_t len,
		    size_t *done);
/* The segment holding run-time addr as a memory region (name = path). false if none. */
bool replay_mod_region(const struct replay_mod *m, taddr_t addr, struct rsp_region_info *out);
/* Lowest run-time segment start above addr, or UINT64_MAX. */
taddr_t replay_mod_next(const struct replay_mod *m, taddr_t addr);

#endif
