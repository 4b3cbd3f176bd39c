/* libFuzzer entry point: one -e SPEC through probespec_parse, then the condition test
 * against values of every kind and the name matcher; the raw bytes also go through the
 * JSON string escaper, and, split at NUL bytes, through tracecli_parse as an argv. Checks the
 * parser's promises (NUL-terminated fields, kinds in range, an error message on failure). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/tracer/tracer.h"
#include "stub/print/print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cond(const struct probespec *ps, const uint8_t *data, size_t size)
{
	struct tvalue v[8];
	unsigned i;

	memset(v, 0, sizeof(v));
	v[0].kind = TV_INT;
	v[0].v.i = size & 1 ? INT64_MIN : (int64_t)size - 3;
	v[1].kind = TV_UINT;
	v[1].v.u = UINT64_MAX - size;
	v[2].kind = TV_STR;
	v[2].v.s.bytes = data;
	v[2].v.s.len = size / 2;
	v[2].v.s.truncated = size & 2;
	v[3].kind = TV_DOUBLE;
	v[3].v.d = size & 4 ? 0.0 / 0.0 : (double)size / 3;
	v[4].kind = TV_PTR;
	v[4].v.u = size;
	v[5].kind = TV_BOOL;
	v[5].v.b = size & 8;
	v[6].kind = TV_UNAVAILABLE;
	v[7].kind = TV_ERROR;
	v[7].v.err = -EFAULT;
	for (i = 0; i < 8; i++)
		(void)probespec_cond_matches(&ps->cond, &v[i]);
	(void)probespec_cond_arg(&ps->cond, v, 8);
	(void)probespec_name_matches(ps, "PQexec");
}

/* spec holds size bytes + NUL; split it at NULs into an argv after "trace". Inputs that
 * would ask for --help (usage on stdout) are left out. */
static void check_cli(char *spec, size_t size)
{
	static struct tracecli cli;
	static char *argv[66];
	char err[600];
	char *p = spec, *end = spec + size;
	int argc = 1, r;

	argv[0] = "trace";
	while (p <= end && argc < 64) {
		if (p[0] == '-' && (p[1] == '-' ? p[2] == 'h' : strchr(p, 'h') != NULL))
			return;
		argv[argc++] = p;
		p += strlen(p) + 1;
	}
	argv[argc] = NULL;
	r = tracecli_parse(argc, argv, &cli, err, sizeof(err));
	if (r != 0 && r != -EINVAL)
		abort();
	if (r && strncmp(err, "tracestub trace: ", 17))
		abort();
	if (!r && (!cli.nspecs || !!cli.pid == !!cli.prog_argv))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct probespec ps;
	char err[160];
	char *spec;
	FILE *devnull;
	int r;

	spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	memset(err, 'X', sizeof(err));
	r = probespec_parse(spec, &ps, err, sizeof(err));
	if (r != 0 && r != -EINVAL)
		abort();
	if (r) {
		if (!memchr(err, '\0', sizeof(err)) || !err[0])
			abort();
	} else {
		if (!memchr(ps.module, '\0', sizeof(ps.module)) ||
		    !memchr(ps.name, '\0', sizeof(ps.name)) ||
		    !memchr(ps.file, '\0', sizeof(ps.file)) ||
		    !memchr(ps.cond.arg, '\0', sizeof(ps.cond.arg)))
			abort();
		if (ps.kind > PROBESPEC_ADDR || ps.cond.str_len > PROBESPEC_STR_MAX)
			abort();
		if (ps.kind == PROBESPEC_FILELINE && ps.line == 0)
			abort();
		check_cond(&ps, data, size);
	}
	check_cli(spec, size);
	devnull = fopen("/dev/null", "w");
	if (devnull) {
		tevent_json_string(devnull, data, size);
		fclose(devnull);
	}
	free(spec);
	return 0;
}
