/* gdb's trace file (PROTOCOL.md §5; `tsave`, `target tfile`): writing a header and the frame
 * stream of a struct tracebuf, at once or incrementally (the headless tracer's -o FILE), and
 * reading one back into a struct tracebuf plus the raw definition lines (replay mode).
 *
 * Private data and gdb (checked with gdb 13.1 `target tfile`): every unknown definition line
 * costs a `warning: Ignoring trace file definition "..."`, but unknown key:value fields of the
 * status line are skipped silently. So tracestub's own data (the load bias of a PIE, say)
 * travels as status fields (status_extra, keys starting with "ts"), never as extra lines; code
 * bytes a PIE needs in gdb are the caller's M blocks. */
#ifndef TRACESTUB_STUB_TFILE_H
#define TRACESTUB_STUB_TFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* More tracestub status fields, for replay (stub/replay_meta.h formats and parses them):
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

#endif
