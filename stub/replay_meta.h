/* tracestub's own facts in a trace file's status line (tfile.h: tsbias, tsexe, tspid,
 * tslib): formatted by the writers (the headless tracer's -o) and read back by replay, so
 * the main executable and the shared libraries can be placed where the program had them.
 * Pure string work: no I/O. */
#ifndef TRACESTUB_STUB_REPLAY_META_H
#define TRACESTUB_STUB_REPLAY_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLAY_META_MAX_LIBS 64

/* One shared library of the traced process, as a writer gives it (borrowed). */
struct replay_lib {
	const char *path;
	uint64_t bias; /* run-time address = link-time address + bias */
};

/* The fields read back. Strings owned by the struct (replay_meta_fini). */
struct replay_meta {
	char *exe;     /* NULL: not recorded */
	bool has_bias; /* tsbias seen */
	uint64_t bias; /* of the main executable */
	int64_t pid;   /* 0: not recorded */
	char *lib_path[REPLAY_META_MAX_LIBS];
	uint64_t lib_bias[REPLAY_META_MAX_LIBS];
	size_t nlibs;
};

/* Writer side: the tsexe (exe may be NULL), tspid (pid 0: none) and tslib fields as
 * "key:value" strings, written into text (cap bytes) and pointed to by fields (fcap
 * entries), costing at most room bytes of the status line in all (a field costs its length
 * plus one for its ';'). Libraries that do not fit are left out and counted in *dropped
 * (may be NULL). Returns the number of fields. */
size_t replay_meta_format(const char *exe, int64_t pid, const struct replay_lib *libs, size_t nlibs,
			  size_t room, char *text, size_t cap, const char **fields, size_t fcap,
			  size_t *dropped);

/* Reader side: the fields of a trace file's status text (NULL: none). Unknown or malformed
 * fields are skipped; libraries past REPLAY_META_MAX_LIBS are dropped. Returns 0. */
int replay_meta_parse(const char *status, struct replay_meta *out);
void replay_meta_fini(struct replay_meta *m);

#endif
