/* The tracestub status fields of a trace file (tfile.h), written and read. Paths travel as
 * hex so ';', ':' and ',' in them cannot break the status grammar. Never does I/O. */
#include "stub/tracefile/tracefile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/hex.h"

/* Append "key:<hex of s>[,<hex v>]" to text at *used when it fits both cap and *room. */
static const char *put_field(const char *key, const char *s, bool with_v, uint64_t v, char *text,
			     size_t cap, size_t *used, size_t *room)
{
	size_t k = strlen(key), n = strlen(s), need = k + 1 + 2 * n + (with_v ? 18 : 0) + 1;
	char *at = text + *used;
	int tail = 0;

	if (need > cap - *used || need > *room)
		return NULL;
	memcpy(at, key, k);
	at[k] = ':';
	rsp_hex_encode((const uint8_t *)s, n, at + k + 1);
	at[k + 1 + 2 * n] = '\0';
	if (with_v)
		tail = snprintf(at + k + 1 + 2 * n, 19, ",%" PRIx64, v);
	n = k + 1 + 2 * n + (size_t)tail;
	*used += n + 1;
	*room -= n + 1; /* the ';' before it */
	return at;
}

size_t tfile_meta_format(const char *exe, int64_t pid, const struct tfile_lib *libs, size_t nlibs,
			 size_t room, char *text, size_t cap, const char **fields, size_t fcap,
			 size_t *dropped)
{
	size_t used = 0, n = 0, lost = 0;
	const char *f;

	if (exe && n < fcap &&
	    (f = put_field(TFILE_KEY_EXE, exe, false, 0, text, cap, &used, &room)))
		fields[n++] = f;
	if (pid > 0 && n < fcap) {
		char num[24];
		int k = snprintf(num, sizeof(num), "%s:%" PRIx64, TFILE_KEY_PID, (uint64_t)pid);

		if ((size_t)k + 1 <= cap - used && (size_t)k + 1 <= room) {
			memcpy(text + used, num, (size_t)k + 1);
			fields[n++] = text + used;
			used += (size_t)k + 1;
			room -= (size_t)k + 1;
		}
	}
	for (size_t i = 0; i < nlibs; i++) {
		f = n < fcap ? put_field(TFILE_KEY_LIB, libs[i].path, true, libs[i].bias, text, cap,
					 &used, &room)
			     : NULL;
		if (f)
			fields[n++] = f;
		else
			lost++;
	}
	if (dropped)
		*dropped = lost;
	return n;
}

/* Hex text [p, end) decoded into a new string; NULL when malformed or out of memory. */
static char *unhex(const char *p, const char *end)
{
	size_t n = (size_t)(end - p), got;
	char *s = malloc(n / 2 + 1);

	if (!s || rsp_hex_decode((const uint8_t *)p, n, (uint8_t *)s, n / 2, &got) ||
	    memchr(s, '\0', got)) {
		free(s);
		return NULL;
	}
	s[got] = '\0';
	return s;
}

static bool key_is(const char *p, const char *colon, const char *key)
{
	return (size_t)(colon - p) == strlen(key) && !memcmp(p, key, strlen(key));
}

static bool parse_hex(const char *p, const char *end, uint64_t *v)
{
	return rsp_hex_parse_u64((const uint8_t *)p, (size_t)(end - p), v) == 0;
}

/* One "key:value" field [p, end); malformed ones (and allocation failures) are skipped. */
static void field(struct tfile_meta *m, const char *p, const char *end)
{
	const char *colon = memchr(p, ':', (size_t)(end - p)), *v, *comma;
	uint64_t x;
	char *s;

	if (!colon)
		return;
	v = colon + 1;
	if (key_is(p, colon, TFILE_KEY_BIAS) && parse_hex(v, end, &m->bias))
		m->has_bias = true;
	else if (key_is(p, colon, TFILE_KEY_PID) && parse_hex(v, end, &x) && x <= INT32_MAX)
		m->pid = (int64_t)x;
	else if (key_is(p, colon, TFILE_KEY_EXE) && !m->exe)
		m->exe = unhex(v, end);
	else if (key_is(p, colon, TFILE_KEY_LIB) && m->nlibs < TFILE_META_MAX_LIBS &&
		 (comma = memchr(v, ',', (size_t)(end - v))) && parse_hex(comma + 1, end, &x)) {
		if (!(s = unhex(v, comma)))
			return;
		m->lib_path[m->nlibs] = s;
		m->lib_bias[m->nlibs++] = x;
	}
}

int tfile_meta_parse(const char *status, struct tfile_meta *out)
{
	const char *p = status, *end;

	memset(out, 0, sizeof(*out));
	for (; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ';');
		field(out, p, end);
	}
	return 0;
}

void tfile_meta_fini(struct tfile_meta *m)
{
	free(m->exe);
	for (size_t i = 0; i < m->nlibs; i++)
		free(m->lib_path[i]);
	memset(m, 0, sizeof(*m));
}
