/* dwarfvet_run: the throwaway child that reads part of a file with libdwarf before this process
 * reads that part (dwarfvet.c: what each walk reads; dwarfinfo.c: the index walks), and its
 * verdicts, kept per file identity and scope in memory and in $XDG_CACHE_HOME/tracestub.
 * Scopes: "all" (everything), "cfi" (every FDE), "index" (the walks that build dwarfinfo's
 * indexes: every unit header and the DIEs and attributes those walks read) and "u<offset>"
 * (everything in the compilation unit whose header is at offset). A big library is then read
 * in proportion to what is traced: its index once, and the units of traced functions. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/debuginfo/dwarfinfo_internal.h"

enum what { VET_ALL, VET_CFI, VET_INDEX, VET_UNITS };

struct job {
	enum what what;
	const uint64_t *units; /* VET_UNITS: sorted offsets; VET_INDEX: pcs of functions */
	size_t n;
	int fd; /* VET_INDEX: the child's account of how far it got (or -1) */
};

static void child(const char *path, unsigned timeout_s, const struct job *j)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	sigset_t all;

	/* Only the default dispositions here: a tracer's quit handler must not run in this
	 * copy of it, and the parent's blocked SIGCHLD/SIGTERM must not keep it alive. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	alarm(timeout_s);
	switch (j->what) {
	case VET_ALL:
		dwarfvet_walk(path);
		break;
	case VET_CFI:
		dwarfvet_walk_some(path, true, NULL, 0, false);
		break;
	case VET_INDEX:
		di_index_walk(path, j->units, j->n, j->fd);
		break;
	case VET_UNITS:
		dwarfvet_walk_some(path, false, j->units, j->n, false);
		break;
	}
	_exit(0);
}

/* 0 when the child survived, -EILSEQ when it died, -ETIMEDOUT when it hung; -errno when it
 * could not be run. */
static int run(const char *path, unsigned timeout_s, const struct job *j)
{
	int status;
	pid_t pid = fork(), w;

	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(path, timeout_s, j);
	if (j->fd >= 0)
		close(j->fd); /* the child's end */
	while ((w = waitpid(pid, &status, __WALL)) < 0 && errno == EINTR)
		;
	if (w < 0)
		return -ECHILD;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? -ETIMEDOUT : -EILSEQ;
}

static bool is_verdict(int r)
{
	return r == 0 || r == -EILSEQ || r == -ETIMEDOUT;
}

/* ---- verdicts in memory (whole-file scopes; units are kept by dwarfinfo itself) ---- */

#define SCOPE_MAX 24

struct verdict {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char scope[SCOPE_MAX];
	int result;
};

#define VET_CACHE 64
static struct verdict mem[VET_CACHE];
static unsigned nmem;

static struct verdict *in_memory(const struct stat *st, const char *scope)
{
	for (unsigned i = 0; i < nmem && i < VET_CACHE; i++) {
		struct verdict *v = &mem[i];
		if (v->dev == st->st_dev && v->ino == st->st_ino && v->size == st->st_size &&
		    v->mtime.tv_sec == st->st_mtim.tv_sec &&
		    v->mtime.tv_nsec == st->st_mtim.tv_nsec && !strcmp(v->scope, scope))
			return v;
	}
	return NULL;
}

static void remember(const struct stat *st, const char *scope, int result)
{
	struct verdict *v = &mem[nmem++ % VET_CACHE];

	*v = (struct verdict){st->st_dev, st->st_ino, st->st_size, st->st_mtim, "", result};
	snprintf(v->scope, sizeof(v->scope), "%s", scope);
}

/* ---- verdicts on disk: one line per file and scope, "dev ino size mtime.sec mtime.nsec
 * scope result", appended in one write. The name carries the walks' version: a change to what
 * is vetted starts a new file. ---- */

#define VET_FILE "dwarfvet-2"

typedef void (*scan_fn)(const char *scope, int result, void *ctx);

/* fn for every verdict on disk about the file st (later lines win: fn sees them last). */
static void disk_scan(const struct stat *st, scan_fn fn, void *ctx)
{
	char path[4096], line[160], scope[SCOPE_MAX];
	FILE *f;

	if (di_cache_named(path, sizeof(path), VET_FILE, false) || !(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long dev, ino, sec, nsec;
		long long size;
		int r;

		if (sscanf(line, "%llu %llu %lld %llu %llu %23s %d", &dev, &ino, &size, &sec, &nsec,
			   scope, &r) == 7 &&
		    dev == (unsigned long long)st->st_dev &&
		    ino == (unsigned long long)st->st_ino && size == (long long)st->st_size &&
		    sec == (unsigned long long)st->st_mtim.tv_sec &&
		    nsec == (unsigned long long)st->st_mtim.tv_nsec && is_verdict(r))
			fn(scope, r, ctx);
	}
	fclose(f);
}

static int verdict_line(char *buf, size_t cap, const struct stat *st, const char *scope, int result)
{
	int k = di_file_key(buf, cap, st), n;

	if (k < 0)
		return 0;
	n = snprintf(buf + k, cap - (size_t)k, "%s %d\n", scope, result);
	return n > 0 && (size_t)(k + n) < cap ? k + n : 0;
}

/* ---- whole-file scopes ---- */

struct one {
	const char *scope;
	int result;
	bool found;
};

static void match_one(const char *scope, int result, void *ctx)
{
	struct one *o = ctx;

	if (!strcmp(scope, o->scope))
		o->result = result, o->found = true;
}

/* The units the index child walked after the indexes (their offsets in got[len]): their
 * verdicts on disk, where dwarfvet_units finds them. */
static void units_walked(const struct stat *st, const uint8_t *got, size_t len)
{
	char text[DWARFVET_HINTS * 96], scope[SCOPE_MAX];
	size_t at = 0;

	for (size_t i = 0; i + 8 <= len && i < 8 * DWARFVET_HINTS; i += 8) {
		uint64_t off;

		memcpy(&off, got + i, 8);
		snprintf(scope, sizeof(scope), "u%llx", (unsigned long long)off);
		at += (size_t)verdict_line(text + at, sizeof(text) - at, st, scope, 0);
	}
	di_cache_append(VET_FILE, text, at);
}

/* run, and for the index child what it said it got through: 'I' (indexes done), then 'U' and
 * the offsets of the units it walked. */
static int run_index(const char *path, const struct stat *st, unsigned timeout_s, struct job *j)
{
	uint8_t got[2 + 8 * DWARFVET_HINTS];
	size_t len = 0;
	ssize_t r;
	int p[2], result;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	j->fd = p[1];
	result = run(path, timeout_s, j);
	while (len < sizeof(got) &&
	       ((r = read(p[0], got + len, sizeof(got) - len)) > 0 || (r < 0 && errno == EINTR)))
		len += r > 0 ? (size_t)r : 0;
	close(p[0]);
	if (!is_verdict(result) || !len || got[0] != 'I')
		return result;
	if (len > 1 && got[1] == 'U')
		units_walked(st, got + 2, len - 2);
	return 0; /* the indexes were done; a unit it died in is vetted again on its own */
}

static int check(const char *path, const char *scope, unsigned timeout_s, struct job *j)
{
	struct stat st;
	struct verdict *v;
	struct one o = {scope, 0, false};
	char line[160];
	int result;

	if (stat(path, &st) != 0)
		return -errno;
	if ((v = in_memory(&st, scope)))
		return v->result;
	disk_scan(&st, match_one, &o);
	if (o.found) {
		remember(&st, scope, o.result);
		return o.result;
	}
	result =
		j->what == VET_INDEX ? run_index(path, &st, timeout_s, j) : run(path, timeout_s, j);
	if (!is_verdict(result))
		return result; /* not the file's fault: no verdict */
	remember(&st, scope, result);
	di_cache_append(VET_FILE, line,
			(size_t)verdict_line(line, sizeof(line), &st, scope, result));
	return result;
}

int dwarfvet_check(const char *path, unsigned timeout_s)
{
	struct job j = {VET_ALL, NULL, 0, -1};

	return check(path, "all", timeout_s, &j);
}

int dwarfvet_cfi(const char *path, unsigned timeout_s)
{
	struct job j = {VET_CFI, NULL, 0, -1};

	return check(path, "cfi", timeout_s, &j);
}

int dwarfvet_index(const char *path, unsigned timeout_s)
{
	return dwarfvet_index_at(path, NULL, 0, timeout_s);
}

int dwarfvet_index_at(const char *path, const uint64_t *pcs, size_t n, unsigned timeout_s)
{
	struct job j = {VET_INDEX, pcs, n < DWARFVET_HINTS ? n : DWARFVET_HINTS, -1};

	return check(path, "index", timeout_s, &j);
}

/* ---- compilation units ---- */

struct many {
	const uint64_t *units;
	size_t n;
	int *res;
	bool *known;
};

static void match_unit(const char *scope, int result, void *ctx)
{
	struct many *m = ctx;
	unsigned long long off;
	char *end;

	if (scope[0] != 'u')
		return;
	off = strtoull(scope + 1, &end, 16);
	if (*end)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (m->units[i] == off)
			m->res[i] = result, m->known[i] = true;
}

int dwarfvet_units(const char *path, const uint64_t *units, size_t n, int *res, unsigned timeout_s)
{
	struct stat st;
	bool *known = calloc(n ? n : 1, sizeof(*known));
	uint64_t *todo = calloc(n ? n : 1, sizeof(*todo));
	struct many m = {units, n, res, known};
	size_t ntodo = 0, len = 0, cap = 64 + n * 80;
	char *text = malloc(cap);
	int r = 0;

	if (!known || !todo || !text) {
		r = -ENOMEM;
		goto out;
	}
	if (stat(path, &st) != 0) {
		r = -errno;
		goto out;
	}
	disk_scan(&st, match_unit, &m);
	for (size_t i = 0; i < n; i++)
		if (!known[i])
			todo[ntodo++] = units[i];
	qsort(todo, ntodo, sizeof(*todo), di_u64_cmp);
	if (ntodo) {
		struct job j = {VET_UNITS, todo, ntodo, -1};
		int all = run(path, timeout_s, &j);

		if (!is_verdict(all)) {
			r = all;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			char scope[SCOPE_MAX];

			if (known[i])
				continue;
			res[i] = all;
			/* one bad unit of many: find which, each on its own */
			if (all && ntodo > 1) {
				j = (struct job){VET_UNITS, &units[i], 1, -1};
				res[i] = run(path, timeout_s, &j);
				if (!is_verdict(res[i]))
					res[i] = all;
			}
			snprintf(scope, sizeof(scope), "u%llx", (unsigned long long)units[i]);
			len += (size_t)verdict_line(text + len, cap - len, &st, scope, res[i]);
		}
		di_cache_append(VET_FILE, text, len);
	}
out:
	free(known);
	free(todo);
	free(text);
	return r;
}
