/* The command line of `tracestub trace` (issue 5), parsed into struct tracecli. Owns option
 * syntax, validation and the usage text; never starts, attaches to or reads a process.
 * No malloc: probe specs are copied into the struct, paths and the program argv are borrowed
 * from the argv given to tracecli_parse. */
#ifndef TRACESTUB_STUB_TRACECLI_H
#define TRACESTUB_STUB_TRACECLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "stub/probespec.h"

#define TRACECLI_MAX_SPECS  32
#define TRACECLI_MAX_STACK  65536 /* --stack N upper bound, bytes */
#define TRACECLI_DEFAULT_BT 16
#define TRACECLI_MAX_BT	    64 /* = TEVENT_MAX_FRAMES */

struct tracecli {
	struct probespec specs[TRACECLI_MAX_SPECS]; /* -e, in command-line order */
	unsigned nspecs;			    /* >= 1 after a successful parse */
	pid_t pid;				    /* -p PID, 0 when launching */
	char **prog_argv;			    /* after --: NULL-terminated, NULL with -p */
	int prog_argc;
	bool has_tid; /* --tid TID */
	pid_t tid;
	bool args;		   /* collect arguments and return values (--no-args clears) */
	size_t stack_bytes;	   /* --stack N, 0 = none */
	bool regs;		   /* --regs */
	unsigned bt_depth;	   /* --bt[=DEPTH], 0 = no backtrace */
	uint64_t count;		   /* -n COUNT, 0 = unlimited */
	uint64_t duration_ns;	   /* --duration SECS, 0 = unlimited */
	bool follow_forks;	   /* -f */
	const char *json_path;	   /* --json FILE|-, NULL = none ("-" is stdout) */
	const char *gdbtrace_path; /* -o FILE, NULL = none */
	const char *chrome_path;   /* --chrome FILE, NULL = none */
	bool quiet;		   /* -q: summary only */
};

/* Parse argv[1..argc-1] (argv[0] is "trace"; argv must stay NULL-terminated at argc, as
 * main's is). Returns 0; 1 when --help was asked (usage printed on stdout); -EINVAL with
 * the whole line "tracestub trace: <what> (see tracestub trace --help)" in err (no newline;
 * err may be NULL), for the caller to print on stderr before exiting with status 2. */
int tracecli_parse(int argc, char **argv, struct tracecli *out, char *err, size_t errcap);

/* Print the usage text to f. */
void tracecli_usage(FILE *f);

#endif
