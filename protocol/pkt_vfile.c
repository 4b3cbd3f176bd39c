/* Host I/O (PROTOCOL.md 1.12):
 * vFile:open/close/pread/pwrite/fstat/unlink/readlink/setfs and lldb's
 * vFile:size/exists/mode built on open+fstat. File-I/O open flags and errno
 * values are translated both ways here; the target sees host values only. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"

#define FIO_O_WRONLY 0x1
#define FIO_O_RDWR   0x2
#define FIO_O_APPEND 0x8
#define FIO_O_CREAT  0x200
#define FIO_O_TRUNC  0x400
#define FIO_O_EXCL   0x800
#define FIO_O_KNOWN  0xe0b

static int flags_from_fileio(uint64_t f, int *out)
{
	int h;
	if (f & ~(uint64_t)FIO_O_KNOWN || (f & 3) == 3)
		return -EINVAL;
	h = (f & 3) == FIO_O_WRONLY ? O_WRONLY : (f & 3) == FIO_O_RDWR ? O_RDWR : O_RDONLY;
	if (f & FIO_O_APPEND)
		h |= O_APPEND;
	if (f & FIO_O_CREAT)
		h |= O_CREAT;
	if (f & FIO_O_TRUNC)
		h |= O_TRUNC;
	if (f & FIO_O_EXCL)
		h |= O_EXCL;
	*out = h;
	return 0;
}

static unsigned errno_to_fileio(int e)
{
	static const int known[] = {EPERM,  ENOENT, EINTR,  EBADF,   EACCES, EFAULT,
				    EBUSY,  EEXIST, ENODEV, ENOTDIR, EISDIR, EINVAL,
				    ENFILE, EMFILE, EFBIG,  ENOSPC,  ESPIPE, EROFS};
	if (e < 0)
		e = -e;
	if (e == ENAMETOOLONG)
		return 91;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i] == e)
			return (unsigned)e; /* Linux and File-I/O agree on these */
	return 9999;
}

static int f_error(struct rsp_session *s, int err)
{
	rsp_buf_reset(&s->reply);
	rsp_buf_puts(&s->reply, "F-1,");
	return rsp_buf_hex_u64(&s->reply, errno_to_fileio(err));
}

static int f_result(struct rsp_session *s, int rc, uint64_t v)
{
	if (rc)
		return f_error(s, rc);
	rsp_buf_putc(&s->reply, 'F');
	return rsp_buf_hex_u64(&s->reply, v);
}

/* Split a,b,c into up to max fields. */
static size_t split(const uint8_t *a, size_t n, const uint8_t **f, size_t *fl, size_t max)
{
	const uint8_t *p = a, *end = a + n;
	size_t k = 0;
	while (k < max) {
		const uint8_t *c = k + 1 < max ? rsp_memchr(p, end, ',') : NULL;
		f[k] = p;
		fl[k] = c ? (size_t)(c - p) : (size_t)(end - p);
		k++;
		if (!c)
			break;
		p = c + 1;
	}
	return k;
}

static int num(const uint8_t *p, size_t l, uint64_t *v)
{
	return rsp_hex_parse_u64(p, l, v);
}

static int do_open(struct rsp_session *s, const uint8_t *a, size_t n, int *fd)
{
	const uint8_t *f[3];
	size_t fl[3];
	uint64_t flags, mode;
	int hflags;
	char *path;

	if (split(a, n, f, fl, 3) != 3 || num(f[1], fl[1], &flags) || num(f[2], fl[2], &mode) ||
	    flags_from_fileio(flags, &hflags) || mode > 07777)
		return -EINVAL;
	path = rsp_hex_cstr(s, f[0], fl[0], 0);
	if (!path)
		return -EINVAL;
	return s->ops->file_open(s->t, path, hflags, (int)mode, fd);
}

static int h_open(struct rsp_session *s, const uint8_t *a, size_t n)
{
	int fd = -1, rc = do_open(s, a, n, &fd);
	return f_result(s, rc, (uint64_t)fd);
}

static int h_close(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint64_t fd;
	if (num(a, n, &fd) || fd > INT32_MAX)
		return f_error(s, EINVAL);
	return f_result(s, s->ops->file_close(s->t, (int)fd), 0);
}

static int h_pread(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *f[3];
	size_t fl[3], done = 0, used;
	uint64_t fd, count, off;
	int rc;

	if (split(a, n, f, fl, 3) != 3 || num(f[0], fl[0], &fd) || num(f[1], fl[1], &count) ||
	    num(f[2], fl[2], &off) || fd > INT32_MAX)
		return f_error(s, EINVAL);
	/* Worst case every byte is escaped: keep the reply within the buffer. */
	size_t max = (rsp_buf_room(&s->reply) - 32) / 2;
	if (count > max)
		count = max;
	if (count > s->scratch_cap)
		count = s->scratch_cap;
	rc = s->ops->file_pread(s->t, (int)fd, s->scratch, (size_t)count, off, &done);
	if (rc)
		return f_error(s, rc);
	rsp_buf_putc(&s->reply, 'F');
	rsp_buf_hex_u64(&s->reply, done);
	rsp_buf_putc(&s->reply, ';');
	rsp_buf_bin(&s->reply, s->scratch, done, &used);
	return used == done ? 0 : -ENOSPC;
}

static int h_pwrite(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *f[3];
	size_t fl[3], got, done = 0;
	uint64_t fd, off;
	int rc;

	if (split(a, n, f, fl, 3) != 3 || num(f[0], fl[0], &fd) || num(f[1], fl[1], &off) ||
	    fd > INT32_MAX || rsp_bin_unescape(f[2], fl[2], s->scratch, s->scratch_cap, &got))
		return f_error(s, EINVAL);
	rc = s->ops->file_pwrite(s->t, (int)fd, s->scratch, got, off, &done);
	return f_result(s, rc, done);
}

static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int h_fstat(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_file_stat st;
	uint8_t raw[64];
	uint64_t fd;
	int rc;

	if (num(a, n, &fd) || fd > INT32_MAX)
		return f_error(s, EINVAL);
	memset(&st, 0, sizeof(st));
	rc = s->ops->file_fstat(s->t, (int)fd, &st);
	if (rc)
		return f_error(s, rc);
	be32(raw + 0, st.dev);
	be32(raw + 4, st.ino);
	be32(raw + 8, st.mode);
	be32(raw + 12, st.nlink);
	be32(raw + 16, st.uid);
	be32(raw + 20, st.gid);
	be32(raw + 24, st.rdev);
	be64(raw + 28, st.size);
	be64(raw + 36, st.blksize);
	be64(raw + 44, st.blocks);
	be32(raw + 52, st.atime);
	be32(raw + 56, st.mtime);
	be32(raw + 60, st.ctime);
	rsp_buf_puts(&s->reply, "F40;");
	return rsp_buf_bin_all(&s->reply, raw, sizeof(raw));
}

static int h_unlink(struct rsp_session *s, const uint8_t *a, size_t n)
{
	char *path = rsp_hex_cstr(s, a, n, 0);
	if (!path)
		return f_error(s, EINVAL);
	return f_result(s, s->ops->file_unlink(s->t, path), 0);
}

static int h_readlink(struct rsp_session *s, const uint8_t *a, size_t n)
{
	char *path = rsp_hex_cstr(s, a, n, 0);
	size_t off = s->scratch_cap / 2, len = 0;
	int rc;

	if (!path)
		return f_error(s, EINVAL);
	rc = s->ops->file_readlink(s->t, path, (char *)s->scratch + off, 4096, &len);
	if (rc)
		return f_error(s, rc);
	if (len > 4096)
		return f_error(s, ENAMETOOLONG);
	rsp_buf_putc(&s->reply, 'F');
	rsp_buf_hex_u64(&s->reply, len);
	rsp_buf_putc(&s->reply, ';');
	return rsp_buf_bin_all(&s->reply, s->scratch + off, len);
}

static int h_setfs(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint64_t pid;
	if (num(a, n, &pid) || pid > INT64_MAX)
		return f_error(s, EINVAL);
	return f_result(s, s->ops->file_setfs(s->t, (int64_t)pid), 0);
}

/* lldb platform extras: stat a path through open + fstat + close. */
static int stat_path(struct rsp_session *s, const uint8_t *a, size_t n, struct rsp_file_stat *st)
{
	char *path = rsp_hex_cstr(s, a, n, 0);
	int fd = -1, rc;
	if (!path)
		return -EINVAL;
	rc = s->ops->file_open(s->t, path, O_RDONLY, 0, &fd);
	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	rc = s->ops->file_fstat(s->t, fd, st);
	s->ops->file_close(s->t, fd);
	return rc;
}

static bool can_stat(const struct rsp_session *s)
{
	return s->ops->file_fstat && s->ops->file_close;
}

static int h_size(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_file_stat st;
	int rc = stat_path(s, a, n, &st);
	return f_result(s, rc, st.size);
}

static int h_mode(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_file_stat st;
	int rc = stat_path(s, a, n, &st);
	return f_result(s, rc, st.mode & 07777);
}

static int h_exists(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_file_stat st;
	int rc = stat_path(s, a, n, &st);
	if (rc == -EINVAL)
		return f_error(s, EINVAL);
	return rsp_buf_puts(&s->reply, rc ? "F,0" : "F,1");
}

const struct rsp_packet_def rsp_pkts_vfile[] = {
	{"vFile:open:", RSP_MATCH_PREFIX, h_open, RSP_OP(file_open), NULL, NULL},
	{"vFile:close:", RSP_MATCH_PREFIX, h_close, RSP_OP(file_close), NULL, NULL},
	{"vFile:pread:", RSP_MATCH_PREFIX, h_pread, RSP_OP(file_pread), NULL, NULL},
	{"vFile:pwrite:", RSP_MATCH_PREFIX, h_pwrite, RSP_OP(file_pwrite), NULL, NULL},
	{"vFile:fstat:", RSP_MATCH_PREFIX, h_fstat, RSP_OP(file_fstat), NULL, NULL},
	{"vFile:unlink:", RSP_MATCH_PREFIX, h_unlink, RSP_OP(file_unlink), NULL, NULL},
	{"vFile:readlink:", RSP_MATCH_PREFIX, h_readlink, RSP_OP(file_readlink), NULL, NULL},
	{"vFile:setfs:", RSP_MATCH_PREFIX, h_setfs, RSP_OP(file_setfs), NULL, NULL},
	{"vFile:size:", RSP_MATCH_PREFIX, h_size, RSP_OP(file_open), NULL, can_stat},
	{"vFile:mode:", RSP_MATCH_PREFIX, h_mode, RSP_OP(file_open), NULL, can_stat},
	{"vFile:exists:", RSP_MATCH_PREFIX, h_exists, RSP_OP(file_open), NULL, can_stat},
	{NULL, 0, NULL, 0, NULL, NULL},
};
