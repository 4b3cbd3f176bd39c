/* Per-function statistics of a trace: calls, total/avg/min/max duration, errors, kept in a
 * fixed-size open-addressing hash keyed by (module, function) and printed as a table sorted
 * by total time. Also formats the live counter line. Never touches a process; allocates only
 * in tsummary_new (once, before tracing), never while adding events. */
#ifndef TRACESTUB_STUB_SUMMARY_H
#define TRACESTUB_STUB_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

struct tsummary {
	struct tsummary_entry slots[TSUMMARY_SLOTS];
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

#endif
