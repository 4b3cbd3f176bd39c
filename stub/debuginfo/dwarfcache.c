/* dwarfinfo's indexes kept on disk: the function ranges and the inlined instances of a file,
 * walked once (the walk is most of a start-up on a big library: 0.14 s of libpython's DIEs),
 * read back on the next run. One file per (device, inode, size, mtime) of the DWARF file under
 * $XDG_CACHE_HOME/tracestub (else ~/.cache/tracestub), with a CRC-32 over its bytes; anything
 * that does not check out is ignored and rebuilt. Only reads and writes that folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "stub/debuginfo/dwarfinfo_internal.h"

#define MAGIC "TSDIDX3" /* a change of what is kept: a new magic */

int di_cache_dir(char *out, size_t cap, bool make)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (x && *x)
		n = snprintf(out, cap, "%s/tracestub", x);
	else if (home && *home)
		n = snprintf(out, cap, "%s/.cache/tracestub", home);
	else
		return -ENOENT;
	if (n <= 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	if (make) {
		char *slash = strrchr(out, '/');

		*slash = 0;
		mkdir(out, 0755); /* ~/.cache may not exist yet */
		*slash = '/';
		mkdir(out, 0755);
	}
	return n;
}

int di_cache_named(char *out, size_t cap, const char *name, bool make)
{
	int n = di_cache_dir(out, cap, make);

	if (n < 0)
		return n;
	if ((size_t)n + strlen(name) + 2 > cap)
		return -ENAMETOOLONG;
	snprintf(out + n, cap - (size_t)n, "/%s", name);
	return 0;
}

void di_cache_append(const char *name, const char *text, size_t len)
{
	char path[4096];
	struct stat cs;
	int fd, trunc = 0;

	if (!len || di_cache_named(path, sizeof(path), name, true))
		return;
	if (!stat(path, &cs) && cs.st_size > (1 << 20))
		trunc = O_TRUNC; /* bounded: start over rather than grow forever */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | trunc, 0644)) < 0)
		return;
	if (write(fd, text, len) != (ssize_t)len) {
		/* not kept: the next run finds out again */
	}
	close(fd);
}

int di_file_key(char *buf, size_t cap, const struct stat *st)
{
	int n = snprintf(buf, cap, "%llu %llu %lld %llu %llu ", (unsigned long long)st->st_dev,
			 (unsigned long long)st->st_ino, (long long)st->st_size,
			 (unsigned long long)st->st_mtim.tv_sec,
			 (unsigned long long)st->st_mtim.tv_nsec);

	return n > 0 && (size_t)n < cap ? n : -ENAMETOOLONG;
}

static int cache_file(const char *path, char *out, size_t cap, bool make)
{
	struct stat st;
	char dir[4096];
	int n;

	if (stat(path, &st))
		return -errno;
	if ((n = di_cache_dir(dir, sizeof(dir), make)) < 0)
		return n;
	n = snprintf(out, cap, "%s/dwarfidx-%llx-%llx-%llx-%llx.%09ld", dir,
		     (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		     (unsigned long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
		     st.st_mtim.tv_nsec);
	return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

bool dwarfinfo_cached(const char *path)
{
	char file[4200];

	return !cache_file(path, file, sizeof(file), false) && !access(file, R_OK);
}

/* At most CACHE_KEEP index files: the oldest go (a rebuilt program leaves its old ones). */
#define CACHE_KEEP 64

static void prune(const char *file)
{
	char dir[4096], p[4400], oldest[4400];
	const char *slash = strrchr(file, '/');
	struct dirent *e;
	struct stat st;
	time_t old_t;
	DIR *d;
	int n;

	for (int round = 0; slash && round < 16; round++) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
		if (!(d = opendir(dir)))
			return;
		n = 0;
		old_t = 0;
		oldest[0] = 0;
		while ((e = readdir(d))) {
			if (strncmp(e->d_name, "dwarfidx-", 9))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			if (stat(p, &st))
				continue;
			n++;
			if (!oldest[0] || st.st_mtime < old_t) {
				old_t = st.st_mtime;
				snprintf(oldest, sizeof(oldest), "%s", p);
			}
		}
		closedir(d);
		if (n <= CACHE_KEEP || !oldest[0] || unlink(oldest))
			return;
	}
}

/* ---- writing ---- */

int di_cbuf_put(struct di_cbuf *b, const void *p, size_t n)
{
	if (b->err)
		return b->err;
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 65536;
		uint8_t *nb;

		while (ncap < b->len + n)
			ncap *= 2;
		if (!(nb = realloc(b->data, ncap)))
			return b->err = -ENOMEM;
		b->data = nb;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int di_cbuf_u64(struct di_cbuf *b, uint64_t v)
{
	return di_cbuf_put(b, &v, sizeof(v));
}

int di_cbuf_str(struct di_cbuf *b, const char *s)
{
	uint64_t n = s ? strlen(s) + 1 : 0;

	di_cbuf_u64(b, n);
	return n ? di_cbuf_put(b, s, n) : b->err;
}

void di_cache_store(struct dwarfinfo *di)
{
	struct di_cbuf b = {0};
	char path[4200], tmp[4300];
	uint32_t crc;
	int fd;

	if (!di->path || di->from_cache || cache_file(di->path, path, sizeof(path), true))
		return;
	di_cbuf_put(&b, MAGIC, 8);
	di_subs_save(di, &b);
	di_units_save(di, &b);
	di_inline_save(di, &b);
	crc = (uint32_t)crc32(0, b.data, (uInt)b.len);
	di_cbuf_put(&b, &crc, sizeof(crc));
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	if (!b.err && (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) >= 0) {
		bool ok = write(fd, b.data, b.len) == (ssize_t)b.len;

		close(fd);
		/* the rename makes the file appear whole or not at all */
		if (!ok || rename(tmp, path))
			unlink(tmp);
		else
			prune(path);
	}
	free(b.data);
}

/* ---- reading ---- */

bool di_creader_get(struct di_creader *r, void *p, size_t n)
{
	if (r->bad || n > r->len - r->at) {
		r->bad = true;
		return false;
	}
	memcpy(p, r->data + r->at, n);
	r->at += n;
	return true;
}

uint64_t di_creader_u64(struct di_creader *r)
{
	uint64_t v = 0;

	di_creader_get(r, &v, sizeof(v));
	return v;
}

const char *di_creader_str(struct dwarfinfo *di, struct di_creader *r)
{
	uint64_t n = di_creader_u64(r);
	const char *s = (const char *)r->data + r->at;

	if (r->bad || !n)
		return NULL;
	if (n > r->len - r->at || s[n - 1]) {
		r->bad = true;
		return NULL;
	}
	r->at += n;
	return di_strdup(di, s);
}

int di_cache_load(struct dwarfinfo *di)
{
	char path[4200];
	struct di_creader r = {0};
	struct stat st;
	uint8_t *data;
	uint32_t crc;
	int fd, rc = -ENOENT;

	if (!di->path || cache_file(di->path, path, sizeof(path), false))
		return -ENOENT;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -ENOENT;
	if (fstat(fd, &st) || st.st_size < 12 || st.st_size > (1 << 30) ||
	    !(data = malloc((size_t)st.st_size))) {
		close(fd);
		return -ENOENT;
	}
	if (read(fd, data, (size_t)st.st_size) == st.st_size) {
		memcpy(&crc, data + st.st_size - 4, 4);
		r = (struct di_creader){data, (size_t)st.st_size - 4, 8, false};
		if (!memcmp(data, MAGIC, 8) && crc == (uint32_t)crc32(0, data, (uInt)r.len) &&
		    !di_subs_load(di, &r) && !di_units_load(di, &r) && !di_inline_load(di, &r) &&
		    !r.bad && r.at == r.len)
			rc = 0;
	}
	close(fd);
	free(data);
	if (rc)
		di_cache_forget(di);
	else
		di->from_cache = true;
	return rc;
}
