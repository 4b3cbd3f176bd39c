/* The trace buffer (DESIGN.md "The trace buffer"): an arena holding frames already in the
 * block encoding of gdb's trace file (PROTOCOL.md §5.1 item 3): int16 tpnum, uint32 size,
 * then blocks 'R' regs, 'M' u64 addr + u16 len + bytes, 'V' int32 tsv + int64 value, all
 * little-endian. Linear (refuse when full) or circular (evict the oldest frames). qTBuffer,
 * trace files and replay are slices of it, never conversions. No malloc after
 * tracebuf_new/tracebuf_resize; no I/O; no pointers into stub state (DESIGN.md: the writer
 * side must stay usable by an in-process agent later). */
#ifndef TRACESTUB_STUB_TRACEBUF_H
#define TRACESTUB_STUB_TRACEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

#define TRACEBUF_DEFAULT_SIZE 0x500000 /* gdbserver's default, 5 MiB */
#define TRACEBUF_FRAME_HDR    6	       /* int16 tpnum + uint32 size */
#define TRACEBUF_MEM_HDR      11       /* 'M' + u64 addr + u16 len */
#define TRACEBUF_TSV_BLOCK    13       /* 'V' + i32 + i64 */
#define TRACEBUF_MEM_MAX      65535    /* one M block; longer collections are split */

struct tracebuf;

/* A frame being written: blocks are appended in place in the arena. */
struct tracebuf_builder {
	uint8_t *base;	  /* frame header */
	size_t cap;	  /* bytes reserved (header included) */
	size_t len;	  /* bytes written (header included) */
	bool failed;	  /* a block did not fit: commit still stores what fits */
	size_t regs_size; /* R block size the buffer holds (0 = not fixed yet: the first R
			   * block fixes it at commit) */
};

/* NULL on no memory or a size outside [TRACEBUF_FRAME_HDR, UINT32_MAX]. size = arena bytes
 * (TRACEBUF_DEFAULT_SIZE if 0). The frame index (4 bytes per smallest possible frame) is
 * allocated here too. */
struct tracebuf *tracebuf_new(size_t size);
void tracebuf_free(struct tracebuf *tb);
/* Drop every frame and the counters. */
void tracebuf_clear(struct tracebuf *tb);
/* New arena size (clears; 0 = default). 0, -ENOMEM or -EINVAL (size out of range); on
 * error the old arena is kept. */
int tracebuf_resize(struct tracebuf *tb, size_t size);
void tracebuf_set_circular(struct tracebuf *tb, bool on);
bool tracebuf_is_circular(const struct tracebuf *tb);
/* 'R' blocks carry no length: every frame's R block has the size of the target's g packet
 * (a trace file's "R" line). 0 = unknown (then fixed by the first committed R block).
 * -EBUSY when frames with another R size are held. */
int tracebuf_set_regs_size(struct tracebuf *tb, size_t len);
size_t tracebuf_regs_size(const struct tracebuf *tb);

/* Reserve room for a frame of at most max bytes (header included) for tracepoint tpnum.
 * Circular: evicts the oldest frames as needed. Returns 0, -ENOSPC when the linear buffer
 * is full (tracebuf_is_full then true, until clear) or max exceeds the arena; -EINVAL when max
 * is below TRACEBUF_FRAME_HDR or tpnum is 0. One frame at a time. */
int tracebuf_begin(struct tracebuf *tb, uint16_t tpnum, size_t max, struct tracebuf_builder *b);
/* Append an 'R' block of len bytes; returns where to write them, NULL if it does not fit. */
uint8_t *tracebuf_put_regs(struct tracebuf_builder *b, size_t len);
/* Append an 'M' block (len <= TRACEBUF_MEM_MAX) for addr; returns where to write the bytes,
 * NULL if it does not fit. */
uint8_t *tracebuf_put_mem(struct tracebuf_builder *b, taddr_t addr, uint16_t len);
/* Shorten the last M block to len bytes (a read came back short). */
void tracebuf_trim_mem(struct tracebuf_builder *b, uint8_t *data, uint16_t len);
int tracebuf_put_tsv(struct tracebuf_builder *b, int32_t num, int64_t value);
/* Store the frame (its size field written); returns its frame number. */
uint64_t tracebuf_commit(struct tracebuf *tb, struct tracebuf_builder *b);
void tracebuf_abort(struct tracebuf *tb, struct tracebuf_builder *b);

bool tracebuf_is_full(const struct tracebuf *tb);
struct tracebuf_stats {
	uint64_t frames;  /* frames now held */
	uint64_t created; /* frames ever committed since clear */
	uint64_t evicted; /* circular evictions */
	uint64_t size;	  /* arena bytes */
	uint64_t used;	  /* bytes of the frame stream */
	uint64_t free;	  /* size - used */
};
void tracebuf_stats(const struct tracebuf *tb, struct tracebuf_stats *out);

/* One stored frame. Frame numbers start at 0 with the oldest frame still held. */
struct tracebuf_frame {
	uint64_t num;
	uint16_t tpnum;
	const uint8_t *blocks; /* size bytes of blocks, borrowed until the next write */
	uint32_t size;
	size_t regs_size; /* of its R block (tracebuf_regs_size) */
};
/* -ENOENT if no such frame. */
int tracebuf_frame(const struct tracebuf *tb, uint64_t num, struct tracebuf_frame *out);
/* Offset of frame num's header in the tracebuf_read stream; -ENOENT if no such frame. */
int tracebuf_frame_offset(const struct tracebuf *tb, uint64_t num, uint64_t *off);

/* Block iteration within a frame. *off starts at 0. Returns 1 and fills the block, 0 at the
 * end, -EINVAL on a malformed block. */
struct tracebuf_block {
	char type; /* 'R', 'M', 'V' */
	const uint8_t *data;
	size_t len;    /* R: register bytes; M: memory bytes */
	taddr_t addr;  /* M */
	int32_t tsv;   /* V */
	int64_t value; /* V */
};
int tracebuf_next_block(const struct tracebuf_frame *fr, size_t *off, struct tracebuf_block *out);

/* Frame reads (the frame backend). Memory: from the first M block containing addr, at most
 * up to that block's end (*done); -EIO when no block holds addr. TSV: last V block for num;
 * -ENOENT otherwise. Registers: the R block or -ENOENT. */
int tracebuf_frame_mem(const struct tracebuf_frame *fr, taddr_t addr, uint8_t *buf, size_t len,
		       size_t *done);
int tracebuf_frame_tsv(const struct tracebuf_frame *fr, int32_t num, int64_t *value);
int tracebuf_frame_regs(const struct tracebuf_frame *fr, const uint8_t **regs, size_t *len);

/* The frame stream oldest first, as one logical byte range [0, stats.used): copy up to len
 * bytes from off. *done = 0 at the end; -EINVAL when off > used. */
int tracebuf_read(const struct tracebuf *tb, uint64_t off, uint8_t *buf, size_t len, size_t *done);

/* Replace the content by a frame stream (a trace file's frames, without the terminator);
 * set the R size first. -EINVAL on malformed frames (tpnum 0, size past the end, bad
 * block), -ENOSPC when it does not fit; the buffer is left empty on error. */
int tracebuf_load(struct tracebuf *tb, const uint8_t *stream, size_t len);

#endif
