/* Unit tests for stub/tracecli.c: `tracestub trace` options and their errors (TAP). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stub/tracer/tracer.h"

static int n_test;
static int failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

static struct tracecli cli;
static char err[512];

/* argv lives here so that prog_argv (borrowed) stays valid after PARSE. */
static char *argv_buf[64];

static int parse_v(char *const *v, int n)
{
	memcpy(argv_buf, v, (size_t)(n + 1) * sizeof(v[0]));
	return tracecli_parse(n, argv_buf, &cli, err, sizeof(err));
}

#define PARSE(...)                                                                                 \
	parse_v((char *[]){"trace", __VA_ARGS__, NULL},                                            \
		(int)(sizeof((char *[]){"trace", __VA_ARGS__, NULL}) / sizeof(char *)) - 1)

/* The "<what>" of the last error. */
static int is_err(const char *what)
{
	char want[600];

	snprintf(want, sizeof(want), "tracestub trace: %s (see tracestub trace --help)", what);
	if (strcmp(err, want))
		fprintf(stderr, "# got  '%s'\n# want '%s'\n", err, want);
	return !strcmp(err, want);
}

static void test_good(void)
{
	ok(PARSE("-e", "f", "-p", "3", "-p", "5", "--", "prog") == 0 && cli.pid == 0 &&
		   cli.nmore == 2 && cli.more[0] == 3 && cli.more[1] == 5 && cli.prog_argv,
	   "-p with a program: it is launched, the -p attached as well");
	ok(PARSE("-e", "f", "-p", "3", "-p", "5", "-p", "7") == 0 && cli.pid == 3 &&
		   cli.nmore == 2 && cli.more[0] == 5 && cli.more[1] == 7 && !cli.prog_argv,
	   "-p three times: the first is the main one");
	ok(PARSE("-e", "main", "--", "/bin/true", "x") == 0 && cli.nspecs == 1 &&
		   !strcmp(cli.specs[0].name, "main") && cli.prog_argc == 2 &&
		   !strcmp(cli.prog_argv[0], "/bin/true") && !strcmp(cli.prog_argv[1], "x") &&
		   cli.prog_argv[2] == NULL && cli.pid == 0 && cli.args && !cli.quiet &&
		   cli.bt_depth == 0 && cli.count == 0 && err[0] == '\0',
	   "minimal launch, defaults");
	ok(PARSE("-e", "PQ*", "-elibpq.so.5:PQexec", "-p", "1234") == 0 && cli.nspecs == 2 &&
		   cli.specs[1].kind == PROBESPEC_MODFUNC && cli.pid == 1234 && !cli.prog_argv,
	   "attach, two specs, -eSPEC");
	ok(PARSE("-e", "f if fd == 3", "--tid", "77", "--no-args", "--stack", "128", "--regs",
		 "--bt", "-n", "10", "--duration", "2.5", "-f", "--json", "-", "-o", "t.tf",
		 "--chrome=c.json", "-q", "-p", "9") == 0 &&
		   cli.specs[0].cond.present && cli.has_tid && cli.tid == 77 && !cli.args &&
		   cli.stack_bytes == 128 && cli.regs && cli.bt_depth == 16 && cli.count == 10 &&
		   cli.duration_ns == 2500000000ull && cli.follow_forks &&
		   !strcmp(cli.json_path, "-") && !strcmp(cli.gdbtrace_path, "t.tf") &&
		   !strcmp(cli.chrome_path, "c.json") && cli.quiet,
	   "every option");
	ok(PARSE("--bt=5", "-e", "f", "-p", "1") == 0 && cli.bt_depth == 5, "--bt=DEPTH");
	ok(PARSE("-qfn3", "-e", "f", "-p", "1") == 0 && cli.quiet && cli.follow_forks &&
		   cli.count == 3,
	   "bundled short options");
	ok(PARSE("--stack=64", "--tid=5", "-e", "f", "-p", "1") == 0 && cli.stack_bytes == 64 &&
		   cli.tid == 5,
	   "--opt=value");
	ok(PARSE("--duration", ".25", "-e", "f", "-p", "1") == 0 && cli.duration_ns == 250000000,
	   "fractional duration");
	ok(PARSE("-e", "f", "--", "prog", "-p", "--", "-e") == 0 && cli.pid == 0 &&
		   cli.prog_argc == 4 && !strcmp(cli.prog_argv[1], "-p") && cli.nspecs == 1,
	   "options after -- belong to the program");
}

#define USAGE1 "usage: tracestub trace [OPTIONS] (-p PID... | [-p PID...] -- PROG ARGS...)\n"

static void test_help(void)
{
	FILE *saved = stdout;
	char buf[4096] = {0};
	FILE *mem = fmemopen(buf, sizeof(buf) - 1, "w");
	int r1, r2;

	fflush(stdout);
	stdout = mem;
	r1 = PARSE("-e", "f", "--help");
	r2 = PARSE("-h");
	stdout = saved;
	fclose(mem);
	ok(r1 == 1, "--help returns 1");
	ok(r2 == 1, "-h returns 1");
	ok(!strncmp(buf, USAGE1, strlen(USAGE1)), "usage printed on stdout");
}

static void test_bad(void)
{
	ok(PARSE("-p", "1") == -EINVAL && is_err("no probe: give at least one -e SPEC"), "no -e");
	ok(PARSE("-e", "f") == -EINVAL &&
		   is_err("nothing to trace: give -p PID or -- PROG ARGS..."),
	   "no target");
	ok(PARSE("-e", "f", "-p", "3", "-p", "5", "-p", "3") == -EINVAL &&
		   is_err("-p 3 given twice"),
	   "the same -p twice");
	ok(PARSE("-e", "f", "-p", "0") == -EINVAL && is_err("bad process id '0'"), "-p 0");
	ok(PARSE("-e", "f", "--") == -EINVAL && is_err("no program after --"), "empty --");
	ok(PARSE("-e", "f", "prog") == -EINVAL &&
		   is_err("unexpected argument 'prog' (put the program after --)"),
	   "program without --");
	ok(PARSE("-e", "f", "-p", "0") == -EINVAL && is_err("bad process id '0'"), "pid 0");
	ok(PARSE("-e", "f", "-p", "12x") == -EINVAL && is_err("bad process id '12x'"),
	   "pid garbage");
	ok(PARSE("-e", "f", "-p", "2147483648") == -EINVAL, "pid overflow");
	ok(PARSE("-e", "f", "-p", "-5") == -EINVAL, "negative pid");
	ok(PARSE("-e", "f", "-p", "1", "-p", "1") == -EINVAL && is_err("-p 1 given twice"),
	   "-p twice, the same pid");
	ok(PARSE("-e", "", "-p", "1") == -EINVAL && is_err("bad probe '': empty probe spec"),
	   "empty spec");
	ok(PARSE("-e", "f if x ~ 1", "-p", "1") == -EINVAL &&
		   is_err("bad probe 'f if x ~ 1': unknown operator in condition (use == != < <= > "
			  ">=)"),
	   "bad operator");
	ok(PARSE("-e", "f", "-p", "1", "-x") == -EINVAL && is_err("unknown option '-x'"),
	   "unknown short");
	ok(PARSE("-e", "f", "-p", "1", "--frobnicate=2") == -EINVAL &&
		   is_err("unknown option '--frobnicate'"),
	   "unknown long");
	ok(PARSE("-e", "f", "-p", "1", "--regs=1") == -EINVAL &&
		   is_err("option --regs takes no value"),
	   "value on flag");
	ok(PARSE("-p", "1", "-e") == -EINVAL && is_err("option -e needs a value"), "-e at end");
	ok(PARSE("-e", "f", "-p", "1", "--json") == -EINVAL &&
		   is_err("option --json needs a value"),
	   "--json at end");
	ok(PARSE("-e", "f", "-p", "1", "-n", "0") == -EINVAL &&
		   is_err("bad count '0' (want a number >= 1)"),
	   "-n 0");
	ok(PARSE("-e", "f", "-p", "1", "-n", "18446744073709551616") == -EINVAL, "-n overflow");
	ok(PARSE("-e", "f", "-p", "1", "--stack", "65537") == -EINVAL &&
		   is_err("bad --stack size '65537' (want 1..65536 bytes)"),
	   "--stack too big");
	ok(PARSE("-e", "f", "-p", "1", "--bt=65") == -EINVAL &&
		   is_err("bad --bt depth '65' (want 1..64)"),
	   "--bt too deep");
	ok(PARSE("-e", "f", "-p", "1", "--bt=") == -EINVAL, "--bt= empty");
	ok(PARSE("-e", "f", "-p", "1", "--duration", "0") == -EINVAL &&
		   is_err("bad --duration '0' (want seconds > 0, e.g. 2.5)"),
	   "--duration 0");
	ok(PARSE("-e", "f", "-p", "1", "--duration", "1.0000000001") == -EINVAL,
	   "--duration too precise");
	ok(PARSE("-e", "f", "-p", "1", "--duration", "1e3") == -EINVAL, "--duration garbage");
	ok(PARSE("-e", "f", "-p", "1", "--tid", "x") == -EINVAL && is_err("bad thread id 'x'"),
	   "bad tid");
	ok(PARSE("-e", "f", "-p", "1", "--json", "a", "--json", "b") == -EINVAL &&
		   is_err("--json given twice"),
	   "--json twice");
	ok(PARSE("-e", "f", "-p", "1", "--json", "-", "--chrome", "-") == -EINVAL &&
		   is_err("--json and --chrome cannot both write to stdout"),
	   "two outputs on stdout");
	ok(PARSE("-e", "f", "-p", "1", "-o", "") == -EINVAL && is_err("empty file name for -o"),
	   "empty -o");
	ok(PARSE("-e", "f", "-p", "1", "-") == -EINVAL, "lone dash");
	ok(tracecli_parse(1, (char *[]){"trace", NULL}, &cli, NULL, 0) == -EINVAL,
	   "NULL err buffer");
}

static void test_many(void)
{
	char *v[2 * TRACECLI_MAX_SPECS + 8];
	int n = 0, i;

	v[n++] = "trace";
	for (i = 0; i <= TRACECLI_MAX_SPECS; i++) {
		v[n++] = "-e";
		v[n++] = "f";
	}
	v[n++] = "-p";
	v[n++] = "1";
	v[n] = NULL;
	ok(tracecli_parse(n, v, &cli, err, sizeof(err)) == -EINVAL &&
		   is_err("too many -e (max 32)"),
	   "too many specs");
	v[2] = "trace";
	ok(tracecli_parse(n - 2, v + 2, &cli, err, sizeof(err)) == 0 &&
		   cli.nspecs == TRACECLI_MAX_SPECS,
	   "max specs accepted");
}

int main(void)
{
	test_good();
	test_help();
	test_bad();
	test_many();
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
