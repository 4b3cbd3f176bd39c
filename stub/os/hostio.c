/* vFile backend: own fd table; paths optionally confined to a root directory. */
#include "stub/os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTIO_MAX_FDS 64

struct hostio {
	char *root;	/* realpath of --file-root, or NULL */
	int64_t fs_pid; /* 0: stub's view */
	int fds[HOSTIO_MAX_FDS];
};

struct hostio *hostio_new(const char *root)
{
	struct hostio *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	for (int i = 0; i < HOSTIO_MAX_FDS; i++)
		h->fds[i] = -1;
	if (root) {
		h->root = realpath(root, NULL);
		if (!h->root) {
			free(h);
			return NULL;
		}
	}
	return h;
}

void hostio_free(struct hostio *h)
{
	if (!h)
		return;
	for (int i = 0; i < HOSTIO_MAX_FDS; i++)
		if (h->fds[i] >= 0)
			close(h->fds[i]);
	free(h->root);
	free(h);
}

int hostio_setfs(struct hostio *h, int64_t pid)
{
	if (pid < 0)
		return -EINVAL;
	h->fs_pid = pid;
	return 0;
}

static bool under_root(const char *root, const char *real)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return true;
	return strncmp(real, root, n) == 0 && (real[n] == '\0' || real[n] == '/');
}

/* Build the host path for a client path. With a root, the path is resolved against it and the
 * result (or, when the file does not exist yet, its directory) must stay inside root. */
static int host_path(struct hostio *h, const char *path, char *out, size_t cap, bool final_link)
{
	char tmp[PATH_MAX], real[PATH_MAX];
	int n;

	if (!path || !*path)
		return -ENOENT;
	if (h->fs_pid > 0)
		n = snprintf(tmp, sizeof tmp, "/proc/%lld/root%s%s", (long long)h->fs_pid,
			     path[0] == '/' ? "" : "/", path);
	else if (h->root)
		n = snprintf(tmp, sizeof tmp, "%s/%s", h->root, path);
	else
		n = snprintf(tmp, sizeof tmp, "%s", path);
	if (n < 0 || (size_t)n >= sizeof tmp || (size_t)n >= cap)
		return -ENAMETOOLONG;
	if (h->root) {
		if (final_link && realpath(tmp, real)) {
			if (!under_root(h->root, real))
				return -EACCES;
		} else {
			/* check the parent directory; the last component must not be ".." */
			char dir[PATH_MAX];
			char *slash;
			const char *base;

			memcpy(dir, tmp, (size_t)n + 1);
			slash = strrchr(dir, '/');
			base = slash ? slash + 1 : dir;
			if (strcmp(base, "..") == 0 || strcmp(base, ".") == 0)
				return -EACCES;
			if (slash)
				*slash = '\0';
			if (!realpath(dir[0] ? dir : "/", real))
				return -errno == -ENOENT ? -ENOENT : -EACCES;
			if (!under_root(h->root, real))
				return -EACCES;
		}
	}
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}

int hostio_open(struct hostio *h, const char *path, int flags, int mode, int *fd)
{
	char p[PATH_MAX];
	int slot = -1, r, f;

	r = host_path(h, path, p, sizeof p, true);
	if (r < 0)
		return r;
	for (int i = 0; i < HOSTIO_MAX_FDS; i++)
		if (h->fds[i] < 0) {
			slot = i;
			break;
		}
	if (slot < 0)
		return -EMFILE;
	f = open(p, flags | O_CLOEXEC | (h->root ? O_NOFOLLOW : 0), (mode_t)mode);
	if (f < 0)
		return errno == ELOOP && h->root ? -EACCES : -errno;
	h->fds[slot] = f;
	*fd = slot;
	return 0;
}

static int host_fd(struct hostio *h, int fd)
{
	if (fd < 0 || fd >= HOSTIO_MAX_FDS || h->fds[fd] < 0)
		return -EBADF;
	return h->fds[fd];
}

int hostio_close(struct hostio *h, int fd)
{
	int f = host_fd(h, fd);

	if (f < 0)
		return f;
	h->fds[fd] = -1;
	return close(f) < 0 ? -errno : 0;
}

int hostio_pread(struct hostio *h, int fd, uint8_t *buf, size_t len, uint64_t off, size_t *done)
{
	int f = host_fd(h, fd);
	ssize_t r;

	if (f < 0)
		return f;
	do
		r = pread(f, buf, len, (off_t)off);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	*done = (size_t)r;
	return 0;
}

int hostio_pwrite(struct hostio *h, int fd, const uint8_t *buf, size_t len, uint64_t off,
		  size_t *done)
{
	int f = host_fd(h, fd);
	ssize_t r;

	if (f < 0)
		return f;
	do
		r = pwrite(f, buf, len, (off_t)off);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	*done = (size_t)r;
	return 0;
}

int hostio_fstat(struct hostio *h, int fd, struct rsp_file_stat *st)
{
	int f = host_fd(h, fd);
	struct stat s;

	if (f < 0)
		return f;
	if (fstat(f, &s) < 0)
		return -errno;
	st->dev = (uint32_t)s.st_dev;
	st->ino = (uint32_t)s.st_ino;
	st->mode = s.st_mode;
	st->nlink = (uint32_t)s.st_nlink;
	st->uid = s.st_uid;
	st->gid = s.st_gid;
	st->rdev = (uint32_t)s.st_rdev;
	st->size = (uint64_t)s.st_size;
	st->blksize = (uint64_t)s.st_blksize;
	st->blocks = (uint64_t)s.st_blocks;
	st->atime = (uint32_t)s.st_atime;
	st->mtime = (uint32_t)s.st_mtime;
	st->ctime = (uint32_t)s.st_ctime;
	return 0;
}

int hostio_unlink(struct hostio *h, const char *path)
{
	char p[PATH_MAX];
	int r = host_path(h, path, p, sizeof p, false);

	if (r < 0)
		return r;
	return unlink(p) < 0 ? -errno : 0;
}

int hostio_readlink(struct hostio *h, const char *path, char *buf, size_t cap, size_t *len)
{
	char p[PATH_MAX];
	ssize_t n;
	int r = host_path(h, path, p, sizeof p, false);

	if (r < 0)
		return r;
	n = readlink(p, buf, cap);
	if (n < 0)
		return -errno;
	*len = (size_t)n;
	return 0;
}
