/* stub/tracefile/: the trace buffer (frames in gdb's block encoding) and gdb's trace-file format,
 * with tracestub's own status fields (tsexe, tsbias, tslib). No process, no socket. */
#ifndef TRACESTUB_STUB_TRACEFILE_TRACEFILE_H
#define TRACESTUB_STUB_TRACEFILE_TRACEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

/* The trace buffer (DESIGN.md "The trace buffer"): an arena holding frames already in the
 * block encoding of gdb's trace file (PROTOCOL.md §5.1 item 3): int16 tpnum, uint32 size,
 * then blocks 'R' regs, 'M' u64 addr + u16 len + bytes, 'V' int32 tsv + int64 value, all
 * little-endian. Linear (refuse when full) or circular (evict the oldest frames). qTBuffer,
 * trace files and replay are slices of it, never conversions. No malloc after
 * tracebuf_new/tracebuf_resize; no I/O; no pointers into stub state (DESIGN.md: the writer
 * side must stay usable by an in-process agent later). */
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
/* Fault the arena's pages in now (a fast tracepoint's frames are then written without a
 * page fault each 4 KiB, by a tracer that shares the CPUs with the program). */
void tracebuf_prefault(struct tracebuf *tb);
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

/* gdb's trace file (PROTOCOL.md §5; `tsave`, `target tfile`): writing a header and the frame
 * stream of a struct tracebuf, at once or incrementally (the headless tracer's -o FILE), and
 * reading one back into a struct tracebuf plus the raw definition lines (replay mode).
 *
 * Private data and gdb (checked with gdb 13.1 `target tfile`): every unknown definition line
 * costs a `warning: Ignoring trace file definition "..."`, but unknown key:value fields of the
 * status line are skipped silently. So tracestub's own data (the load bias of a PIE, say)
 * travels as status fields (status_extra, keys starting with "ts"), never as extra lines; code
 * bytes a PIE needs in gdb are the caller's M blocks. */
struct tracebuf;

#define TFILE_MAGIC	"\x7fTRACE0\n"
#define TFILE_MAGIC_LEN 8
#define TFILE_LINE_MAX                                                                             \
	999 /* longest line gdb 13 reads ("Excessively long lines"), '\n' excluded                 \
	     */
#define TFILE_READ_MAX	  65536	   /* longest line this reader accepts */
#define TFILE_REGS_MAX	  65536	   /* largest R block size accepted */
#define TFILE_STATUS_ROOM 512	   /* status line width kept by tfile_writer_open for rewrites */
#define TFILE_KEY_BIAS	  "tsbias" /* status field: load bias of the main executable (hex) */
/* More tracestub status fields, for replay (stub/tfile_meta.h formats and parses them):
 * "tsexe:<hex of the path>" the main executable, "tspid:<hex>" the traced process, and
 * "tslib:<hex of the path>,<hex load bias>" once per shared library mapped in it (the main
 * executable excluded), as many as the status line has room for. */
#define TFILE_KEY_EXE "tsexe"
#define TFILE_KEY_PID "tspid"
#define TFILE_KEY_LIB "tslib"
/* A frame's V block for this trace-state-variable number names the thread that hit it:
 * value (pid << 32) | tid. No tsv line defines it; gdb ignores V blocks it has no tsv for. */
#define TFILE_TSV_THREAD 0x74730001

/* What goes before the frames. Lines are given without their keyword and newline, as the
 * protocol layer formats them; everything is borrowed for the duration of the call. */
struct tfile_header {
	size_t regs_size;  /* "R <hex>": bytes of one R block; mandatory */
	const char *tdesc; /* target.xml text, one "tdesc" line per XML line; NULL = none */
	/* qTStatus reply without the 'T' ("0;tstop::0;tframes:3;..."); NULL = no status line */
	const char *status;
	const char *const *status_extra; /* "key:value" fields appended to the status line */
	size_t nstatus_extra;
	const char *const *tsvs; /* qTfV items: "n:hexinit:builtin:hexname" */
	size_t ntsvs;
	const char *const
		*tps; /* qTfP items: "T1:addr:E:0:0", "A1:addr:R1ff", "Z1:...", "V1:..." */
	size_t ntps;
};

struct tfile_writer;

/* Create path and write the magic and the header. The status line is padded (a "tspad"
 * field) to TFILE_STATUS_ROOM so tfile_writer_set_status can rewrite it. -EINVAL (no R size,
 * a newline in a line, extras without status), -E2BIG (a line longer than TFILE_LINE_MAX),
 * -ENOMEM, or the error of open/write. */
int tfile_writer_open(const char *path, const struct tfile_header *h, struct tfile_writer **out);
/* Append the frames of tb committed since the last call (all at the first call). tb must be
 * the same buffer, not cleared in between; frames evicted before being written are counted
 * (tfile_writer_lost). Flushed: the file is readable after each call. 0 or -errno. */
int tfile_writer_frames(struct tfile_writer *w, const struct tracebuf *tb);
uint64_t tfile_writer_lost(const struct tfile_writer *w);
/* Rewrite the status line in place (status_extra kept). -ENOSPC if it no longer fits,
 * -ESPIPE if the file cannot seek. */
int tfile_writer_set_status(struct tfile_writer *w, const char *status);
/* Write the terminator and close; frees w (NULL ok). Returns the first error of the writer's
 * life, 0 if none. */
int tfile_writer_close(struct tfile_writer *w);
/* The whole file at once: header (status unpadded), every frame of tb, terminator. */
int tfile_write(const char *path, const struct tfile_header *h, const struct tracebuf *tb);

/* A trace file read back. Strings are NUL-terminated and owned by the struct. */
struct tfile {
	size_t regs_size; /* R line */
	char *status;	  /* after "status ", the "tspad" field removed; NULL if none */
	char **tsvs;	  /* after "tsv ", file order */
	size_t ntsvs;
	char **tps; /* after "tp " (T, A, S, Z, V items), file order */
	size_t ntps;
	char *tdesc; /* the XML, "tdesc" lines joined, each ending in '\n'; NULL if none */
	size_t tdesc_len;
	size_t nignored;     /* unknown definition lines */
	bool complete;	     /* the terminator was seen (else cut after the last whole frame) */
	struct tracebuf *tb; /* the frames, R size set, linear, arena just large enough */
};

/* Parse a whole file held in memory; any input is safe. 0 and *out, or -EINVAL (not a trace
 * file, bad header, malformed frame: message in err when err is not NULL), -ENOMEM,
 * -EFBIG. */
int tfile_parse(const uint8_t *data, size_t len, struct tfile **out, char *err, size_t errlen);
/* tfile_parse of the file at path (open/read errors as -errno). */
int tfile_read(const char *path, struct tfile **out, char *err, size_t errlen);
void tfile_free(struct tfile *tf);
/* The value of the first status field named key ("tframes", TFILE_KEY_BIAS...), copied
 * NUL-terminated into buf. -ENOENT (no status or no such field), -ENOSPC (cap too small). */
int tfile_status_field(const struct tfile *tf, const char *key, char *buf, size_t cap);

/* tracestub's own facts in a trace file's status line (tfile.h: tsbias, tsexe, tspid,
 * tslib): formatted by the writers (the headless tracer's -o) and read back by replay, so
 * the main executable and the shared libraries can be placed where the program had them.
 * Pure string work: no I/O. */
#define TFILE_META_MAX_LIBS 64

/* One shared library of the traced process, as a writer gives it (borrowed). */
struct tfile_lib {
	const char *path;
	uint64_t bias; /* run-time address = link-time address + bias */
};

/* The fields read back. Strings owned by the struct (tfile_meta_fini). */
struct tfile_meta {
	char *exe;     /* NULL: not recorded */
	bool has_bias; /* tsbias seen */
	uint64_t bias; /* of the main executable */
	int64_t pid;   /* 0: not recorded */
	char *lib_path[TFILE_META_MAX_LIBS];
	uint64_t lib_bias[TFILE_META_MAX_LIBS];
	size_t nlibs;
};

/* Writer side: the tsexe (exe may be NULL), tspid (pid 0: none) and tslib fields as
 * "key:value" strings, written into text (cap bytes) and pointed to by fields (fcap
 * entries), costing at most room bytes of the status line in all (a field costs its length
 * plus one for its ';'). Libraries that do not fit are left out and counted in *dropped
 * (may be NULL). Returns the number of fields. */
size_t tfile_meta_format(const char *exe, int64_t pid, const struct tfile_lib *libs, size_t nlibs,
			 size_t room, char *text, size_t cap, const char **fields, size_t fcap,
			 size_t *dropped);

/* Reader side: the fields of a trace file's status text (NULL: none). Unknown or malformed
 * fields are skipped; libraries past TFILE_META_MAX_LIBS are dropped. Returns 0. */
int tfile_meta_parse(const char *status, struct tfile_meta *out);
void tfile_meta_fini(struct tfile_meta *m);

#endif
