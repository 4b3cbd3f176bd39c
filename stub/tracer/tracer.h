/* stub/tracer/: the headless tracer (`tracestub trace`): probe specs, the command line, and the run
 * that places probes through the live target and hands decoded events to stub/print/. */
#ifndef TRACESTUB_STUB_TRACER_TRACER_H
#define TRACESTUB_STUB_TRACER_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "protocol/target.h"

/* One `-e SPEC` of `tracestub trace`, parsed: FUNC, GLOB, MODULE:FUNC, FILE:LINE or *ADDR,
 * with an optional `if ARG OP VALUE` condition. Owns the grammar and the condition test;
 * never resolves symbols or touches a process. Pure: no malloc, no globals. Every string is
 * copied into the fixed-size fields below (NUL-terminated; too long is an error), so a parsed
 * spec does not borrow the input. */
struct tvalue;

#define PROBESPEC_NAME_MAX 256 /* bytes with the NUL, for module, name, file, arg */
#define PROBESPEC_STR_MAX  128 /* condition string bytes (may hold NULs via \x00) */

enum probespec_kind {
	PROBESPEC_FUNC,	    /* name: traces entry and return */
	PROBESPEC_GLOB,	    /* name is a glob ('PQ*'), any module */
	PROBESPEC_MODFUNC,  /* module:name; name may be a glob (glob set) */
	PROBESPEC_FILELINE, /* file:line */
	PROBESPEC_ADDR,	    /* *addr, decimal or 0x hex */
};

enum probespec_op {
	PROBESPEC_EQ,
	PROBESPEC_NE,
	PROBESPEC_LT,
	PROBESPEC_LE,
	PROBESPEC_GT,
	PROBESPEC_GE
};

struct probespec_cond {
	bool present;
	int argno;		      /* 0..5 for arg0..arg5, -1 when arg names a parameter */
	char arg[PROBESPEC_NAME_MAX]; /* as written */
	enum probespec_op op;
	bool is_str;
	/* integer: value = negative ? -mag : mag, so the full int64 and uint64 ranges fit */
	bool negative;
	uint64_t mag;
	uint8_t str[PROBESPEC_STR_MAX]; /* string value, str_len bytes, escapes decoded */
	size_t str_len;
};

struct probespec {
	enum probespec_kind kind;
	bool glob;     /* name holds glob characters (* ? [) */
	bool internal; /* added by --correlate: its hits feed netcorr.c, never shown */
	char module[PROBESPEC_NAME_MAX]; /* MODFUNC only, else "" */
	char name[PROBESPEC_NAME_MAX];	 /* FUNC, GLOB, MODFUNC */
	char file[PROBESPEC_NAME_MAX];	 /* FILELINE */
	unsigned line;			 /* FILELINE, >= 1 */
	taddr_t addr;			 /* ADDR */
	struct probespec_cond cond;
};

/* Parse spec (NUL-terminated). Grammar:
 *   SPEC  := TARGET [ WS+ "if" WS+ ARG WS* OP WS* VALUE ] (surrounding blanks ignored)
 *   TARGET:= "*" NUMBER | FILE ":" DIGITS | MODULE ":" FUNC | FUNC
 * A single ':' separates (C++ "::" does not); digits after the last one make FILE:LINE.
 * FUNC with * ? [ is a glob. OP: == != < <= > >=. VALUE: [-]decimal, [-]0xhex, or a "string"
 * with \\ \" \n \t \r \0 \xHH escapes. ARG: an identifier; arg0..arg5 select by position.
 * Returns 0, or -EINVAL with a one-line reason in err (err may be NULL, errcap 0). */
int probespec_parse(const char *spec, struct probespec *out, char *err, size_t errcap);

/* Does the function name match the spec's name (exact, or glob with fnmatch rules)? For
 * FUNC, GLOB and MODFUNC; false for the others. */
bool probespec_name_matches(const struct probespec *ps, const char *name);

/* Does the collected value satisfy the condition? Integers compare as mathematical integers
 * (signed or not), floats numerically, strings bytewise (memcmp order); a string against a
 * number, unavailable or error values, and undecidable comparisons on truncated strings are
 * false. A condition that is not present is true. */
bool probespec_cond_matches(const struct probespec_cond *c, const struct tvalue *v);

/* The value the condition names among args (by position or name), or NULL. */
const struct tvalue *probespec_cond_arg(const struct probespec_cond *c, const struct tvalue *args,
					unsigned nargs);

/* The command line of `tracestub trace` (issue 5), parsed into struct tracecli. Owns option
 * syntax, validation and the usage text; never starts, attaches to or reads a process.
 * No malloc: probe specs are copied into the struct, paths and the program argv are borrowed
 * from the argv given to tracecli_parse. */
#define TRACECLI_MAX_SPECS  32
#define TRACECLI_MAX_PIDS   16
#define TRACECLI_MAX_STACK  65536 /* --stack N upper bound, bytes */
#define TRACECLI_MIN_RING   (64ull << 10)
#define TRACECLI_MAX_RING   (1ull << 30)
#define TRACECLI_DEFAULT_BT 16
#define TRACECLI_MAX_BT	    64 /* = TEVENT_MAX_FRAMES */

struct tracecli {
	struct probespec specs[TRACECLI_MAX_SPECS]; /* -e, in command-line order */
	unsigned nspecs;			    /* >= 1 after a successful parse */
	pid_t pid;				    /* -p PID, 0 when launching */
	pid_t more[TRACECLI_MAX_PIDS];		    /* the other -p (all of them when launching) */
	unsigned nmore;
	char **prog_argv; /* after --: NULL-terminated, NULL with -p */
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
	bool trap;		   /* --trap: every probe an int3 (no pads) */
	uint64_t ring_bytes;	   /* --ring SIZE: per-thread ring of the fast path, 0 = default */
	const char *otlp_url;	   /* --otlp URL: OTLP over HTTP, NULL = none */
	bool otlp_json;		   /* --otlp-json: JSON instead of protobuf */
	const char *otlp_file;	   /* --otlp-file FILE|-: OTLP/JSON lines, NULL = none */
	const char *service;	   /* --service NAME, NULL = each executable's name */
	bool correlate;		   /* --correlate: socket I/O joins client and server spans */
};

/* Parse argv[1..argc-1] (argv[0] is "trace"; argv must stay NULL-terminated at argc, as
 * main's is). Returns 0; 1 when --help was asked (usage printed on stdout); -EINVAL with
 * the whole line "tracestub trace: <what> (see tracestub trace --help)" in err (no newline;
 * err may be NULL), for the caller to print on stderr before exiting with status 2. */
int tracecli_parse(int argc, char **argv, struct tracecli *out, char *err, size_t errcap);

/* Print the usage text to f. */
void tracecli_usage(FILE *f);

/* `tracestub trace ARGS`: argv[0] is "trace". Returns the exit status. */
int trace_main(int argc, char **argv);

#endif
