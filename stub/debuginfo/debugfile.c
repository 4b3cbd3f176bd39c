/* Separate debug info (distributions' -dbg / -dbgsym packages, objcopy --only-keep-debug):
 * the debug file of a module found by build-id or .gnu_debuglink, as gdb finds it. Reads
 * files only; hands out paths. */
#include "stub/debuginfo/debuginfo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define DEBUG_ROOT "/usr/lib/debug"

/* Does the ELF at p carry the build-id id? */
static bool same_build_id(const char *p, const uint8_t *id, size_t len)
{
	struct elfsym *d = NULL;
	const uint8_t *did;
	bool r = false;

	if (!elfsym_open(p, &d)) {
		r = elfsym_build_id(d, &did) == len && !memcmp(did, id, len);
		elfsym_free(d);
	}
	return r;
}

/* CRC-32 (zlib's, the one .gnu_debuglink uses) of the file at p; false if unreadable. */
static bool file_crc(const char *p, uint32_t *crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0, Z_NULL, 0);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		c = crc32(c, buf, (uInt)n);
	close(fd);
	*crc = (uint32_t)c;
	return n == 0;
}

static int by_build_id(const struct elfsym *es, const char *root, char *out, size_t cap)
{
	const uint8_t *id;
	size_t len = elfsym_build_id(es, &id), k;
	int w;

	if (len < 2)
		return -ENOENT;
	w = snprintf(out, cap, "%s/.build-id/%02x/", root, id[0]);
	for (k = 1; k < len && w > 0 && (size_t)w + 3 < cap; k++)
		w += snprintf(out + w, cap - (size_t)w, "%02x", id[k]);
	if (w <= 0 || (size_t)w + 7 > cap || k < len)
		return -ENOENT;
	memcpy(out + w, ".debug", 7);
	return !access(out, R_OK) && same_build_id(out, id, len) ? 0 : -ENOENT;
}

static int by_debuglink(const char *path, const struct elfsym *es, const char *root, char *out,
			size_t cap)
{
	uint32_t want, crc;
	const char *name = elfsym_debuglink(es, &want), *slash = strrchr(path, '/');
	int dlen = slash ? (int)(slash - path) : 0;

	if (!name || !slash)
		return -ENOENT;
	for (unsigned i = 0; i < 3; i++) {
		int w = i == 0	 ? snprintf(out, cap, "%.*s/%s", dlen, path, name)
			: i == 1 ? snprintf(out, cap, "%.*s/.debug/%s", dlen, path, name)
				 : snprintf(out, cap, "%s%.*s/%s", root, dlen, path, name);

		/* the file itself is no debug file of its own (Debian's libc names a
		 * .debug file, but a debuglink may name a same-named copy) */
		if (w <= 0 || (size_t)w >= cap || !strcmp(out, path) || access(out, R_OK))
			continue;
		if (file_crc(out, &crc) && crc == want)
			return 0;
	}
	return -ENOENT;
}

int debugfile_find(const char *path, const struct elfsym *es, const char *root, char *out,
		   size_t cap)
{
	if (!root)
		root = DEBUG_ROOT;
	if (!by_build_id(es, root, out, cap) || !by_debuglink(path, es, root, out, cap))
		return 0;
	if (cap)
		out[0] = 0;
	return -ENOENT;
}
