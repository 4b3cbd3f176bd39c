/* Printers: where decoded trace events go. One small interface (begin, event, end) and one
 * file per format: print_text.c (terminal lines + summary table), print_json.c (JSON Lines),
 * print_chrome.c (Chrome trace-event JSON for Perfetto). A printer writes to a FILE it
 * borrows (the caller opens and closes it), never allocates after its constructor, never
 * touches a process. A new format is one new file with a constructor declared here. */
#ifndef TRACESTUB_STUB_PRINTER_H
#define TRACESTUB_STUB_PRINTER_H

#include <stdbool.h>
#include <stdio.h>

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
