/* `tracestub trace` option parsing and usage. Hand-written instead of getopt_long: no
 * global state, no argv permutation, and every error worded the same way. Never touches a
 * process; never exits (the caller turns -EINVAL into status 2). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "stub/tracer/tracer.h"

#define TRACECLI_ERR_MAX 512

struct parser {
	int argc;
	char **argv;
	int i; /* index of the next argv to read */
	struct tracecli *out;
	char *err;
	size_t errcap;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
	char what[TRACECLI_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (p->err && p->errcap)
		snprintf(p->err, p->errcap, "tracestub trace: %s (see tracestub trace --help)",
			 what);
	return -EINVAL;
}

/* Strict decimal in [min, max]. */
static bool parse_dec(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* N[K|M|G] bytes. */
static bool parse_size(const char *s, uint64_t *out)
{
	char num[24];
	size_t n = strlen(s);
	unsigned shift = 0;

	if (n && (s[n - 1] == 'K' || s[n - 1] == 'k'))
		shift = 10;
	else if (n && (s[n - 1] == 'M' || s[n - 1] == 'm'))
		shift = 20;
	else if (n && (s[n - 1] == 'G' || s[n - 1] == 'g'))
		shift = 30;
	if (shift)
		n--;
	if (!n || n >= sizeof(num))
		return false;
	memcpy(num, s, n);
	num[n] = '\0';
	if (!parse_dec(num, 1, UINT64_MAX >> 31, out))
		return false;
	*out <<= shift;
	return true;
}

/* SECS[.FRACTION] (up to 9 fraction digits) into nanoseconds, > 0. */
static bool parse_secs(const char *s, uint64_t *ns)
{
	char whole[24];
	const char *dot = strchr(s, '.');
	size_t wlen = dot ? (size_t)(dot - s) : strlen(s);
	uint64_t sec = 0, frac = 0;
	size_t i, nfrac = 0;

	if (!wlen && !dot)
		return false;
	if (wlen >= sizeof(whole))
		return false;
	memcpy(whole, s, wlen);
	whole[wlen] = '\0';
	if (wlen && !parse_dec(whole, 0, UINT64_MAX / 1000000000 - 1, &sec))
		return false;
	if (dot) {
		for (i = 1; dot[i]; i++) {
			if (dot[i] < '0' || dot[i] > '9' || ++nfrac > 9)
				return false;
			frac = frac * 10 + (uint64_t)(dot[i] - '0');
		}
		if (!nfrac && !wlen)
			return false;
		for (; nfrac < 9; nfrac++)
			frac *= 10;
	}
	*ns = sec * 1000000000 + frac;
	return *ns > 0;
}

enum opt_id {
	OPT_E,
	OPT_P,
	OPT_N,
	OPT_O,
	OPT_F,
	OPT_Q,
	OPT_HELP,
	OPT_TID,
	OPT_NO_ARGS,
	OPT_STACK,
	OPT_REGS,
	OPT_BT,
	OPT_DURATION,
	OPT_JSON,
	OPT_CHROME,
	OPT_TRAP,
	OPT_RING,
	OPT_OTLP,
	OPT_OTLP_JSON,
	OPT_OTLP_FILE,
	OPT_SERVICE,
	OPT_CORRELATE,
};

enum opt_arg { ARG_NONE, ARG_REQUIRED, ARG_OPTIONAL };

static const struct opt {
	char short_name;
	const char *long_name;
	enum opt_arg arg;
	enum opt_id id;
} opts[] = {
	{'e', NULL, ARG_REQUIRED, OPT_E},
	{'p', NULL, ARG_REQUIRED, OPT_P},
	{'n', NULL, ARG_REQUIRED, OPT_N},
	{'o', NULL, ARG_REQUIRED, OPT_O},
	{'f', NULL, ARG_NONE, OPT_F},
	{'q', NULL, ARG_NONE, OPT_Q},
	{'h', "help", ARG_NONE, OPT_HELP},
	{0, "tid", ARG_REQUIRED, OPT_TID},
	{0, "no-args", ARG_NONE, OPT_NO_ARGS},
	{0, "stack", ARG_REQUIRED, OPT_STACK},
	{0, "regs", ARG_NONE, OPT_REGS},
	{0, "bt", ARG_OPTIONAL, OPT_BT},
	{0, "duration", ARG_REQUIRED, OPT_DURATION},
	{0, "json", ARG_REQUIRED, OPT_JSON},
	{0, "chrome", ARG_REQUIRED, OPT_CHROME},
	{0, "trap", ARG_NONE, OPT_TRAP},
	{0, "ring", ARG_REQUIRED, OPT_RING},
	{0, "otlp", ARG_REQUIRED, OPT_OTLP},
	{0, "otlp-json", ARG_NONE, OPT_OTLP_JSON},
	{0, "otlp-file", ARG_REQUIRED, OPT_OTLP_FILE},
	{0, "service", ARG_REQUIRED, OPT_SERVICE},
	{0, "correlate", ARG_NONE, OPT_CORRELATE},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static int set_path(struct parser *p, const char **slot, const char *what, const char *val)
{
	if (*slot)
		return fail(p, "%s given twice", what);
	if (!*val)
		return fail(p, "empty file name for %s", what);
	*slot = val;
	return 0;
}

/* name: "-e" or "--tid" for messages; val NULL for options without a value. */
static int apply(struct parser *p, const struct opt *o, const char *name, const char *val)
{
	struct tracecli *c = p->out;
	char perr[256];
	uint64_t v;

	switch (o->id) {
	case OPT_E:
		if (c->nspecs >= TRACECLI_MAX_SPECS)
			return fail(p, "too many -e (max %d)", TRACECLI_MAX_SPECS);
		if (probespec_parse(val, &c->specs[c->nspecs], perr, sizeof(perr)))
			return fail(p, "bad probe '%s': %s", val, perr);
		c->nspecs++;
		return 0;
	case OPT_P: /* the first is c->pid until validate() knows whether a program runs */
		if (!parse_dec(val, 1, INT_MAX, &v))
			return fail(p, "bad process id '%s'", val);
		if ((pid_t)v == c->pid)
			return fail(p, "-p %s given twice", val);
		for (unsigned i = 0; i < c->nmore; i++)
			if (c->more[i] == (pid_t)v)
				return fail(p, "-p %s given twice", val);
		if (!c->pid) {
			c->pid = (pid_t)v;
			return 0;
		}
		if (c->nmore == TRACECLI_MAX_PIDS - 1)
			return fail(p, "too many -p (max %d)", TRACECLI_MAX_PIDS);
		c->more[c->nmore++] = (pid_t)v;
		return 0;
	case OPT_TID:
		if (!parse_dec(val, 1, INT_MAX, &v))
			return fail(p, "bad thread id '%s'", val);
		c->has_tid = true;
		c->tid = (pid_t)v;
		return 0;
	case OPT_N:
		if (!parse_dec(val, 1, UINT64_MAX, &v))
			return fail(p, "bad count '%s' (want a number >= 1)", val);
		c->count = v;
		return 0;
	case OPT_STACK:
		if (!parse_dec(val, 1, TRACECLI_MAX_STACK, &v))
			return fail(p, "bad --stack size '%s' (want 1..%d bytes)", val,
				    TRACECLI_MAX_STACK);
		c->stack_bytes = (size_t)v;
		return 0;
	case OPT_BT:
		v = TRACECLI_DEFAULT_BT;
		if (val && !parse_dec(val, 1, TRACECLI_MAX_BT, &v))
			return fail(p, "bad --bt depth '%s' (want 1..%d)", val, TRACECLI_MAX_BT);
		c->bt_depth = (unsigned)v;
		return 0;
	case OPT_DURATION:
		if (!parse_secs(val, &c->duration_ns))
			return fail(p, "bad --duration '%s' (want seconds > 0, e.g. 2.5)", val);
		return 0;
	case OPT_O:
		return set_path(p, &c->gdbtrace_path, name, val);
	case OPT_JSON:
		return set_path(p, &c->json_path, name, val);
	case OPT_CHROME:
		return set_path(p, &c->chrome_path, name, val);
	case OPT_F:
		c->follow_forks = true;
		return 0;
	case OPT_Q:
		c->quiet = true;
		return 0;
	case OPT_NO_ARGS:
		c->args = false;
		return 0;
	case OPT_REGS:
		c->regs = true;
		return 0;
	case OPT_TRAP:
		c->trap = true;
		return 0;
	case OPT_RING:
		if (!parse_size(val, &v) || v < TRACECLI_MIN_RING || v > TRACECLI_MAX_RING ||
		    (v & (v - 1)))
			return fail(p, "bad --ring size '%s' (want a power of two, 64K..1G)", val);
		c->ring_bytes = v;
		return 0;
	case OPT_OTLP:
		if (c->otlp_url)
			return fail(p, "--otlp given twice");
		if (strncmp(val, "http://", 7) || !val[7] || val[7] == '/' || strchr(val, ' '))
			return fail(p, "bad --otlp URL '%s' (want http://HOST:PORT[/PATH])", val);
		c->otlp_url = val;
		return 0;
	case OPT_OTLP_JSON:
		c->otlp_json = true;
		return 0;
	case OPT_OTLP_FILE:
		return set_path(p, &c->otlp_file, name, val);
	case OPT_SERVICE:
		if (c->service)
			return fail(p, "--service given twice");
		if (!*val)
			return fail(p, "empty --service name");
		c->service = val;
		return 0;
	case OPT_CORRELATE:
		c->correlate = true;
		return 0;
	case OPT_HELP:
		return 1;
	}
	return fail(p, "internal: unhandled option %s", name);
}

static int parse_long(struct parser *p, const char *arg)
{
	const char *body = arg + 2, *eq = strchr(body, '=');
	size_t n = eq ? (size_t)(eq - body) : strlen(body);
	char name[64];
	size_t k;

	for (k = 0; k < NOPTS; k++)
		if (opts[k].long_name && strlen(opts[k].long_name) == n &&
		    !strncmp(opts[k].long_name, body, n))
			break;
	if (k == NOPTS)
		return fail(p, "unknown option '%.*s'", (int)(n + 2 < 200 ? n + 2 : 200), arg);
	snprintf(name, sizeof(name), "--%s", opts[k].long_name);
	if (opts[k].arg == ARG_NONE && eq)
		return fail(p, "option %s takes no value", name);
	if (opts[k].arg == ARG_REQUIRED && !eq) {
		if (p->i >= p->argc)
			return fail(p, "option %s needs a value", name);
		return apply(p, &opts[k], name, p->argv[p->i++]);
	}
	return apply(p, &opts[k], name, eq ? eq + 1 : NULL);
}

/* A bundle of short options: -qf, -emain, -n 5. */
static int parse_short(struct parser *p, const char *arg)
{
	const char *s = arg + 1;
	char name[3] = {'-', 0, 0};
	size_t k;
	int r;

	for (; *s; s++) {
		for (k = 0; k < NOPTS; k++)
			if (opts[k].short_name && opts[k].short_name == *s)
				break;
		if (k == NOPTS)
			return fail(p, "unknown option '-%c'", *s);
		name[1] = *s;
		if (opts[k].arg == ARG_NONE) {
			r = apply(p, &opts[k], name, NULL);
			if (r)
				return r;
			continue;
		}
		if (s[1])
			return apply(p, &opts[k], name, s + 1);
		if (p->i >= p->argc)
			return fail(p, "option %s needs a value", name);
		return apply(p, &opts[k], name, p->argv[p->i++]);
	}
	return 0;
}

/* --correlate: libc's socket I/O and Go's (its runtime's poller), traced for netcorr.c
 * (never shown). */
static int add_correlation_specs(struct parser *p)
{
	static const char *const io[] = {"read",   "write",    "send",	  "recv",
					 "sendto", "recvfrom", "sendmsg", "recvmsg",
					 "readv",  "writev",   "close"};
	static const char *const go_io[] = {
		"internal/poll.(*FD).Read", "internal/poll.(*FD).Write",
		"internal/poll.(*FD).Close",
		/* net/http's hand-over from the asking goroutine to the connection's writer */
		"net/http.(*persistConn).roundTrip", "net/http.(*Request).write"};
	const size_t nio = sizeof(io) / sizeof(io[0]), ngo = sizeof(go_io) / sizeof(go_io[0]);
	struct tracecli *c = p->out;

	if (c->nspecs + nio + ngo > TRACECLI_MAX_SPECS)
		return fail(p, "too many -e for --correlate (max %d with it)",
			    TRACECLI_MAX_SPECS - (int)(nio + ngo));
	for (size_t i = 0; i < nio + ngo; i++) {
		struct probespec *ps = &c->specs[c->nspecs++];

		memset(ps, 0, sizeof(*ps));
		ps->kind = i < nio ? PROBESPEC_MODFUNC : PROBESPEC_FUNC;
		if (i < nio)
			snprintf(ps->module, sizeof(ps->module), "libc.so.6");
		snprintf(ps->name, sizeof(ps->name), "%s", i < nio ? io[i] : go_io[i - nio]);
		ps->internal = true;
	}
	return 0;
}

static int validate(struct parser *p)
{
	struct tracecli *c = p->out;

	if (c->pid && c->prog_argv) { /* a launched program and attached ones */
		memmove(&c->more[1], &c->more[0], c->nmore * sizeof(c->more[0]));
		c->more[0] = c->pid;
		c->nmore++;
		c->pid = 0;
	}
	if (!c->pid && !c->prog_argv)
		return fail(p, "nothing to trace: give -p PID or -- PROG ARGS...");
	if (!c->nspecs)
		return fail(p, "no probe: give at least one -e SPEC");
	if (c->json_path && c->chrome_path && !strcmp(c->json_path, "-") &&
	    !strcmp(c->chrome_path, "-"))
		return fail(p, "--json and --chrome cannot both write to stdout");
	if (c->correlate && add_correlation_specs(p))
		return -EINVAL;
	if (c->otlp_json && !c->otlp_url)
		return fail(p, "--otlp-json needs --otlp URL");
	if (c->service && !c->otlp_url && !c->otlp_file)
		return fail(p, "--service needs --otlp URL or --otlp-file FILE");
	if (c->otlp_file && !strcmp(c->otlp_file, "-") &&
	    ((c->json_path && !strcmp(c->json_path, "-")) ||
	     (c->chrome_path && !strcmp(c->chrome_path, "-"))))
		return fail(p, "only one of --json, --chrome and --otlp-file can write to stdout");
	return 0;
}

int tracecli_parse(int argc, char **argv, struct tracecli *out, char *err, size_t errcap)
{
	struct parser p = {
		.argc = argc, .argv = argv, .i = 1, .out = out, .err = err, .errcap = errcap};
	const char *a;
	int r;

	memset(out, 0, sizeof(*out));
	out->args = true;
	if (err && errcap)
		err[0] = '\0';
	while (p.i < argc) {
		a = argv[p.i++];
		if (!strcmp(a, "--")) {
			if (p.i >= argc)
				return fail(&p, "no program after --");
			out->prog_argv = argv + p.i;
			out->prog_argc = argc - p.i;
			break;
		}
		if (a[0] != '-' || !a[1])
			return fail(&p, "unexpected argument '%s' (put the program after --)", a);
		r = a[1] == '-' ? parse_long(&p, a) : parse_short(&p, a);
		if (r == 1) {
			tracecli_usage(stdout);
			return 1;
		}
		if (r)
			return r;
	}
	return validate(&p);
}

void tracecli_usage(FILE *f)
{
	fputs("usage: tracestub trace [OPTIONS] (-p PID... | [-p PID...] -- PROG ARGS...)\n"
	      "\n"
	      "probes (at least one):\n"
	      "  -e SPEC            FUNC, 'GLOB*', MODULE:FUNC, FILE:LINE or *ADDR; functions are\n"
	      "                     traced at entry and return; repeatable\n"
	      "  -e 'SPEC if ARG OP VALUE'\n"
	      "                     only when ARG (a parameter name or arg0..arg5) compares true;\n"
	      "                     OP: == != < <= > >=; VALUE: integer (dec, 0x hex, -n) or "
	      "\"string\"\n"
	      "  --tid TID          only this thread\n"
	      "collect:\n"
	      "  --no-args          no arguments or return values (collected by default)\n"
	      "  --stack N          N bytes of stack at entry (1..65536)\n"
	      "  --regs             registers at entry\n"
	      "  --bt[=DEPTH]       a backtrace at entry (default depth 16, max 64)\n"
	      "  -n COUNT           stop after COUNT calls\n"
	      "  --duration SECS    stop after SECS seconds (fractions allowed)\n"
	      "  -p PID             attach to PID (repeatable, up to 16; with a program too:\n"
	      "                     it runs, they are attached, tracing ends with it)\n"
	      "  -f                 follow forks\n"
	      "how (pads where a probe allows, else int3 traps; the end says which and why):\n"
	      "  --trap             int3 traps only (no code injected into the program)\n"
	      "  --ring SIZE        each thread's ring of pad records (64K..1G, default 1M)\n"
	      "output (text on the terminal unless -q):\n"
	      "  -q                 no per-call lines, only the summary table\n"
	      "  --json FILE|-      JSON Lines, one event per line\n"
	      "  -o FILE            a gdb trace file\n"
	      "  --chrome FILE      Chrome trace-event JSON (loads in Perfetto)\n"
	      "  --otlp URL         OpenTelemetry traces to a collector over HTTP (OTLP, "
	      "protobuf;\n"
	      "                     http://HOST:PORT, /v1/traces added when no path is given)\n"
	      "  --otlp-json        OTLP/JSON instead of protobuf to --otlp\n"
	      "  --otlp-file FILE|- OTLP/JSON, one ExportTraceServiceRequest per line\n"
	      "  --service NAME     service.name of the spans (default: the executable's name)\n"
	      "  --correlate        follow requests through sockets: the server span that read a\n"
	      "                     request becomes a child of the client call that wrote it\n"
	      "  -h, --help         this text\n",
	      f);
}
