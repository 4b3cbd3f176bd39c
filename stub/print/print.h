/* stub/print/: decoded trace events and the printers fed by them (text, JSON Lines, Chrome), and
 * the per-function summary. Pure formatting: never touches a process. */
#ifndef TRACESTUB_STUB_PRINT_PRINT_H
#define TRACESTUB_STUB_PRINT_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "protocol/target.h"

/* The decoded trace event handed to printers and the summary: what a probe saw at one call,
 * return or hit. Owns only plain data and the value renderers shared by the printers (text
 * and JSON spellings of one struct tvalue, JSON string escaping, duration formatting).
 * Never touches a process, never allocates: an event is built in fixed arrays with borrowed
 * pointers (names, string bytes, stack bytes), valid only during the call that receives it. */
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
	TV_VARIANT,	/* v.s: the name of an enum's variant (Rust's Some, None, Ok, Err) */
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
	/* Every call is a span: its trace (16 bytes; all zero: none), its id (a call and its
	 * return share it; a hit is a span of its own) and its parent's (0: a root). */
	uint8_t trace_id[16];
	uint64_t span_id, parent_span_id;
	const char *exe; /* the process's executable (basename), NULL when unknown */
	/* Spans of requests through sockets (--correlate): the kind (TSPAN_*), a link to a span
	 * of another trace (link_span_id 0: none), the peer. */
	int span_kind;
	uint8_t link_trace_id[16];
	uint64_t link_span_id;
	const char *peer_addr; /* "127.0.0.1", "::1", a Unix socket's path or "" */
	int peer_port;	       /* 0 for Unix sockets */
	const char *transport; /* "ip_tcp", "unix" */
};
enum { TSPAN_INTERNAL = 0, TSPAN_SERVER = 2, TSPAN_CLIENT = 3 };

/* A non-nil Go error: a pointer (its message unknown) or its message (TV_STR). */
static inline bool tvalue_go_error_set(const struct tvalue *v)
{
	return v->go_error && ((v->kind == TV_PTR && v->v.u) || v->kind == TV_STR);
}

/* Reset ev to an empty event of the given type (goid -1, no values). */
void tevent_init(struct tevent *ev, enum tevent_type type);

/* The span ids of ev as JSON members, lead (e.g. ",") first: "trace_id" (32 hex digits),
 * "span_id" and, for a span with a parent, "parent_span_id" (16 each), the spelling OTLP/JSON
 * uses; for socket spans "span_kind" ("server", "client"), "link_trace_id", "link_span_id",
 * "transport", "peer", "peer_port"; nothing for an event without a span. */
void tevent_json_ids(FILE *f, const struct tevent *ev, const char *lead);
/* Length of the valid UTF-8 sequence at p (RFC 3629), 0 when p does not start one; p[0] >=
 * 0x80. */
size_t tevent_utf8_len(const uint8_t *p, size_t left);
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

/* Per-function statistics of a trace: calls, total/avg/min/max duration, errors, kept in a
 * fixed-size open-addressing hash keyed by (module, function) and printed as a table sorted
 * by total time. Also formats the live counter line. Never touches a process; allocates only
 * in tsummary_new (once, before tracing), never while adding events. */
struct tevent;

#define TSUMMARY_SLOTS	  4096 /* power of two */
#define TSUMMARY_FUNC_MAX 128  /* bytes kept of a function name, NUL included */
#define TSUMMARY_MOD_MAX  64   /* bytes kept of a module name, NUL included */

struct tsummary_entry {
	char func[TSUMMARY_FUNC_MAX]; /* "" marks a free slot; names longer are cut */
	char module[TSUMMARY_MOD_MAX];
	uint64_t calls;	  /* call and hit events */
	uint64_t returns; /* return events: the durations below cover these */
	uint64_t total_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t errors; /* returns with a negative int result or a non-nil Go error */
};

#define TSUMMARY_HINTS 256 /* power of two */

struct tsummary {
	struct tsummary_entry slots[TSUMMARY_SLOTS];
	/* The entry an event's (func, module) strings led to last, by their addresses: a
	 * function's events share its strings, so most events skip hashing the names. A hint
	 * is taken only when the entry's names still equal the event's. */
	struct {
		const char *func, *module;
		struct tsummary_entry *e;
	} hints[TSUMMARY_HINTS];
	unsigned used;	  /* slots holding a function */
	uint64_t dropped; /* events not counted because the table was full */
	uint64_t events;  /* all events seen */
	uint64_t calls;	  /* sum of calls */
	uint64_t errors;  /* sum of errors */
};

/* Returns NULL on no memory. Free with tsummary_free (NULL allowed). */
struct tsummary *tsummary_new(void);
void tsummary_free(struct tsummary *s);
/* For a struct tsummary the caller owns. */
void tsummary_init(struct tsummary *s);

/* Count one event (call/hit: calls; return: duration, errors). Returns 0, or -ENOSPC when
 * the table is full and the function is new (counted in dropped). No allocation. */
int tsummary_add(struct tsummary *s, const struct tevent *ev);

/* The entry for (module, func) (module may be NULL), or NULL. */
const struct tsummary_entry *tsummary_find(const struct tsummary *s, const char *module,
					   const char *func);

/* Fill out with up to cap entries sorted by total time (descending), then calls
 * (descending), then name. Returns how many were written. */
size_t tsummary_sorted(const struct tsummary *s, const struct tsummary_entry **out, size_t cap);

/* Print the table (header, one line per function, sorted as tsummary_sorted). */
void tsummary_print(const struct tsummary *s, FILE *f);

/* The live counter line for stderr, without newline: "12.3 s  1234 calls  2 errors
 * 5 functions" (+ "  7 dropped" when any). Returns the snprintf length. */
int tsummary_format_live(const struct tsummary *s, uint64_t elapsed_ns, char *buf, size_t cap);

/* Printers: where decoded trace events go. One small interface (begin, event, end) and one
 * file per format: text.c (terminal lines + summary table), json.c (JSON Lines),
 * chrome.c (Chrome trace-event JSON for Perfetto). A printer writes to a FILE it
 * borrows (the caller opens and closes it), never allocates after its constructor, never
 * touches a process. A new format is one new file with a constructor declared here. */
struct tevent;
struct tsummary;
struct printer;

struct printer_ops {
	/* Before the first event (headers, the opening '['). 0 or -EIO. */
	int (*begin)(struct printer *p);
	/* One event; ev and everything it points to are borrowed for this call only. 0 or
	 * -EIO when the output failed. Events after end are ignored. */
	int (*event)(struct printer *p, const struct tevent *ev);
	/* After the last event, also on Ctrl-C: finish the output so that it is complete
	 * (unfinished lines closed, JSON array closed) and flush. s (may be NULL) is the
	 * per-function summary for formats that show one. Calling it twice is harmless. */
	int (*end)(struct printer *p, const struct tsummary *s);
	void (*free)(struct printer *p);
	/* Optional: time passes (time_ns on the events' clock) with or without events. */
	void (*tick)(struct printer *p, uint64_t time_ns);
};

/* Every printer starts with this header. */
struct printer {
	const struct printer_ops *ops;
	FILE *f;   /* borrowed */
	bool done; /* end was called */
};

/* Constructors: f is borrowed. Return NULL on no memory. */

/* Text: "0.000012 [tid] " + two spaces per depth + "func(a=1, s=\"ok\") = 2 <12.3 µs>"; a
 * call whose return is not the next event ends with " ..." and its return reads
 * "<... func resumed> = 2 <12.3 µs>"; --bt/--stack/--regs as indented lines after the call;
 * the summary table at end. color: bold function names, red error results. quiet: only the
 * summary. */
struct printer *printer_text_new(FILE *f, bool color, bool quiet);
/* JSON Lines: one object per event (fields in DESIGN order: type, seq, time_ns, pid, tid,
 * goid, depth, func, module, addr, args, ret, duration_ns, bt, stack, regs), then one
 * {"type":"summary",...} line per function at end. Invalid UTF-8 bytes in strings are
 * written as \u00XX of the byte (see tevent_json_string). */
struct printer *printer_json_new(FILE *f);
/* Chrome trace-event JSON array: "B" on call, "E" on return, "i" on hit, ts in µs (float),
 * pid, tid, name, args; the array is closed by end. Events with a goid use it as their tid
 * (one track per goroutine, named by an "M" thread_name event; the OS thread is in args). */
struct printer *printer_chrome_new(FILE *f);

/* OTLP (otlp.c): every call and hit a span (the events' ids; arguments and results as
 * attributes "arg.NAME", "ret.NAME"; thread.id, go.goroutine.id, code.function,
 * code.namespace), one resource per process (service.name: service, else the executable;
 * process.pid; host.name), in ExportTraceServiceRequest messages of at most OTLP_BATCH
 * spans, protobuf or (json) OTLP/JSON, handed to sink when a batch is full, a second old
 * (tick), and at end. epoch_ns: the Unix time of the events' time 0. The sink gets bytes it
 * must copy and must not block. */
typedef void (*otlp_sink_fn)(void *ctx, const uint8_t *body, size_t len, unsigned nspans);
struct otlp_opts {
	bool json;
	const char *service; /* NULL: each process's executable name */
	uint64_t epoch_ns;
	otlp_sink_fn sink;
	void *ctx;
};
struct otlp_stats {
	uint64_t exported; /* spans handed to the sink */
	uint64_t requests;
	uint64_t dropped; /* calls not exported: too many open at once */
};
struct printer *printer_otlp_new(const struct otlp_opts *o);
const struct otlp_stats *printer_otlp_stats(const struct printer *p);

static inline void printer_tick(struct printer *p, uint64_t time_ns)
{
	if (p->ops->tick)
		p->ops->tick(p, time_ns);
}

static inline int printer_begin(struct printer *p)
{
	return p->ops->begin(p);
}

static inline int printer_event(struct printer *p, const struct tevent *ev)
{
	return p->done ? 0 : p->ops->event(p, ev);
}

static inline int printer_end(struct printer *p, const struct tsummary *s)
{
	if (p->done)
		return 0;
	p->done = true;
	return p->ops->end(p, s);
}

/* NULL allowed. Does not close the FILE. */
static inline void printer_free(struct printer *p)
{
	if (p)
		p->ops->free(p);
}

#endif
