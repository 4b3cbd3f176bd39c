/* The decoded trace event handed to printers and the summary: what a probe saw at one call,
 * return or hit. Owns only plain data and the value renderers shared by the printers (text
 * and JSON spellings of one struct tvalue, JSON string escaping, duration formatting).
 * Never touches a process, never allocates: an event is built in fixed arrays with borrowed
 * pointers (names, string bytes, stack bytes), valid only during the call that receives it. */
#ifndef TRACESTUB_STUB_TEVENT_H
#define TRACESTUB_STUB_TEVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "protocol/target.h"

#define TEVENT_MAX_VALUES 16
#define TEVENT_MAX_FRAMES 64

enum tevent_type {
	TEVENT_CALL,   /* function entry */
	TEVENT_RETURN, /* function return (rets, duration_ns valid) */
	TEVENT_HIT,    /* a FILE:LINE or *ADDR probe */
};

enum tvalue_kind {
	TV_INT,		/* v.i */
	TV_UINT,	/* v.u */
	TV_BOOL,	/* v.b */
	TV_CHAR,	/* v.u: one byte */
	TV_PTR,		/* v.u: a target address */
	TV_STR,		/* v.s: bytes read from the target (C or Go string), s.truncated if cut */
	TV_FLOAT,	/* v.d (was a 32-bit float) */
	TV_DOUBLE,	/* v.d */
	TV_SLICE,	/* v.sl: a Go slice, its first elements when they were read */
	TV_UNAVAILABLE, /* not collected (optimised out, not asked for): never shown as zero */
	TV_ERROR,	/* collecting failed: v.err is a negative errno */
};

struct tvalue {
	const char *name; /* parameter name, or NULL (printers then say arg0, ret0, ...) */
	enum tvalue_kind kind;
	/* A Go `error` result: a TV_PTR whose non-zero value means non-nil (counted as an
	 * error by the summary). */
	bool go_error;
	union {
		int64_t i;
		uint64_t u;
		bool b;
		double d;
		int err;
		struct {
			const uint8_t *bytes; /* borrowed, may hold NULs and invalid UTF-8 */
			size_t len;
			bool truncated;
		} s;
		struct {
			uint64_t addr, len, cap;
			const uint8_t *elems; /* borrowed: n elements of elem_size bytes, or NULL */
			unsigned n;
			uint8_t elem_size;	    /* 1, 2, 4, 8 */
			enum tvalue_kind elem_kind; /* TV_INT, TV_UINT, TV_BOOL, TV_FLOAT,
						     * TV_DOUBLE or TV_PTR */
		} sl;
	} v;
};

struct tframe {
	taddr_t pc;
	const char *func;   /* NULL when unknown */
	const char *module; /* NULL when unknown */
	uint64_t offset;    /* pc - start of func */
};

struct treg {
	const char *name;
	uint64_t value;
};

struct tevent {
	enum tevent_type type;
	uint64_t seq;	  /* 1, 2, ... in emission order */
	uint64_t time_ns; /* since the trace started */
	int32_t pid;
	int32_t tid;
	int64_t goid; /* goroutine id, -1 for none */
	int depth;    /* call depth on this thread (goroutine), 0 outermost */
	const char *func;
	const char *module; /* NULL when unknown */
	taddr_t addr;
	unsigned nargs;
	struct tvalue args[TEVENT_MAX_VALUES];
	unsigned nrets; /* TEVENT_RETURN only */
	struct tvalue rets[TEVENT_MAX_VALUES];
	uint64_t duration_ns; /* TEVENT_RETURN only */
	unsigned nbt;	      /* 0: no backtrace collected */
	struct tframe bt[TEVENT_MAX_FRAMES];
	const uint8_t *stack; /* --stack bytes at entry, NULL when not collected */
	size_t stack_len;
	const struct treg *regs; /* --regs, borrowed array of nregs, NULL when not collected */
	unsigned nregs;
};

/* Reset ev to an empty event of the given type (goid -1, no values). */
void tevent_init(struct tevent *ev, enum tevent_type type);

/* Write bytes as a JSON string, quotes included. Valid UTF-8 is copied as is (but '"', '\\'
 * and control characters are escaped: \n \t \r \b \f, others \u00XX); each byte that is not
 * part of valid UTF-8 (overlong, surrogate, > U+10FFFF, cut sequence) is written as \u00XX
 * of the byte itself, so every output parses and Latin-1 input reads back unchanged. */
void tevent_json_string(FILE *f, const uint8_t *bytes, size_t len);
/* Same for a NUL-terminated string; NULL is written as null. */
void tevent_json_cstr(FILE *f, const char *s);
/* The JSON value of v: numbers for integers and finite floats, hex strings for pointers,
 * strings for strings and chars, true/false, "nan"/"inf"/"-inf" for non-finite floats, an
 * array of the elements read for a slice (null when none were), null for unavailable and
 * error (the caller adds the reason with tevent_json_value_extra). */
void tevent_json_value(FILE *f, const struct tvalue *v);
/* Extra members after "value" (leading comma included): ,"truncated":true /
 * ,"unavailable":true / ,"error":"EFAULT" / ,"len":N,"cap":M for slices (with
 * ,"truncated":true when fewer elements were read); nothing for other values. */
void tevent_json_value_extra(FILE *f, const struct tvalue *v);
/* The text spelling of v: 42, 0x7ffd1000, "ok\n"..., 'a', true, 1.5, <unavailable>,
 * <error: EFAULT>, [1, 2, 3] (a slice; [1, 2, ...](len=9) when cut, [](len=0),
 * [...](len=3) when unread), nil for a nil Go error. C escapes for strings; "..." after
 * the quote when truncated. */
void tevent_text_value(FILE *f, const struct tvalue *v);
/* Format a duration as "850 ns", "12.3 µs", "4.5 ms", "1.234 s" (truncated, not rounded).
 * Returns buf. cap >= 24 always fits. */
char *tevent_format_duration(char *buf, size_t cap, uint64_t ns);

#endif
