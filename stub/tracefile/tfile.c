/* gdb trace files (PROTOCOL.md §5): the writer (header lines, the tracebuf stream in slices,
 * the terminator; incremental appends and an in-place status rewrite for the headless
 * tracer) and the reader (magic, definition lines kept raw, frames loaded into a tracebuf).
 * The reader takes any bytes: every length is checked against the input, lines are capped,
 * nothing is trusted. Never interprets tracepoint or TSV definitions (the protocol layer
 * does). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/tracefile/tracefile.h"

#define PAD_FIELD ";tspad:" /* unknown to gdb, so skipped: fills the status line's room */
#define PAD_LEN	  (sizeof(PAD_FIELD) - 1)
#define CHUNK	  65536

struct tfile_writer {
	FILE *f;
	int err;	  /* first error */
	long status_off;  /* file offset of the status text, -1 if no status line */
	size_t width;	  /* status text bytes, padding included */
	char *extra;	  /* ";key:value..." from status_extra */
	uint64_t written; /* tracebuf "created" count at the last append */
	uint64_t lost;
	uint8_t chunk[CHUNK];
};

/* ---- writer ---- */

static int check_line(const char *kw, const char *text, size_t len)
{
	if (memchr(text, '\n', len) || memchr(text, '\r', len))
		return -EINVAL;
	return strlen(kw) + len > TFILE_LINE_MAX ? -E2BIG : 0;
}

static int check_header(const struct tfile_header *h)
{
	const char *p, *nl;
	size_t i;
	int r = 0;

	if (!h->regs_size || h->regs_size > TFILE_REGS_MAX || (h->nstatus_extra && !h->status))
		return -EINVAL;
	for (p = h->tdesc; p && *p && !r; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		r = check_line("tdesc ", p, nl ? (size_t)(nl - p) : strlen(p));
	}
	for (i = 0; i < h->ntsvs && !r; i++)
		r = check_line("tsv ", h->tsvs[i], strlen(h->tsvs[i]));
	for (i = 0; i < h->ntps && !r; i++)
		r = check_line("tp ", h->tps[i], strlen(h->tps[i]));
	for (i = 0; i < h->nstatus_extra && !r; i++)
		r = strchr(h->status_extra[i], ';')
			    ? -EINVAL
			    : check_line("status ", h->status_extra[i], strlen(h->status_extra[i]));
	return r;
}

static void wr(struct tfile_writer *w, const void *p, size_t n)
{
	if (w->err || !n)
		return;
	errno = 0;
	if (fwrite(p, 1, n, w->f) != n)
		w->err = errno ? -errno : -EIO;
}

static void wr_line(struct tfile_writer *w, const char *kw, const char *text, size_t len)
{
	wr(w, kw, strlen(kw));
	wr(w, text, len);
	wr(w, "\n", 1);
}

/* The status text (status + extras) into buf (TFILE_LINE_MAX + 1 bytes), padded to width
 * when width is not 0. Returns its length or -E2BIG / -ENOSPC. */
static int compose_status(const struct tfile_writer *w, const char *status, size_t width, char *buf)
{
	size_t n = strlen(status), ne = strlen(w->extra), room = TFILE_LINE_MAX - strlen("status ");

	if (memchr(status, '\n', n) || memchr(status, '\r', n))
		return -EINVAL;
	if (n + ne > room)
		return -E2BIG;
	memcpy(buf, status, n);
	memcpy(buf + n, w->extra, ne);
	n += ne;
	if (!width || width == n)
		return (int)n;
	if (n + PAD_LEN > width || width > room)
		return -ENOSPC;
	memcpy(buf + n, PAD_FIELD, PAD_LEN);
	memset(buf + n + PAD_LEN, '0', width - n - PAD_LEN);
	return (int)width;
}

static int join_extra(struct tfile_writer *w, const struct tfile_header *h)
{
	size_t i, n = 1;

	for (i = 0; i < h->nstatus_extra; i++)
		n += 1 + strlen(h->status_extra[i]);
	w->extra = malloc(n);
	if (!w->extra)
		return -ENOMEM;
	w->extra[0] = '\0';
	for (i = 0; i < h->nstatus_extra; i++) {
		strcat(w->extra, ";");
		strcat(w->extra, h->status_extra[i]);
	}
	return 0;
}

static void write_status(struct tfile_writer *w, const char *status, bool pad)
{
	char buf[TFILE_LINE_MAX + 1];
	size_t n = strlen(status) + strlen(w->extra);
	size_t room = TFILE_LINE_MAX - strlen("status ");
	int len;

	w->width = 0;
	if (pad) /* room for a longer status later, when the pad field fits at all */
		w->width = n + PAD_LEN > TFILE_STATUS_ROOM ? n + PAD_LEN : TFILE_STATUS_ROOM;
	if (w->width > room)
		w->width = n;
	len = compose_status(w, status, w->width, buf);
	if (len < 0) {
		if (!w->err)
			w->err = len;
		return;
	}
	w->width = (size_t)len;
	wr(w, "status ", 7);
	if (!w->err)
		w->status_off = ftell(w->f);
	wr(w, buf, (size_t)len);
	wr(w, "\n", 1);
}

static void write_header(struct tfile_writer *w, const struct tfile_header *h, bool pad)
{
	char num[32];
	const char *p, *nl;
	size_t i;

	wr(w, TFILE_MAGIC, TFILE_MAGIC_LEN);
	snprintf(num, sizeof(num), "R %zx\n", h->regs_size);
	wr(w, num, strlen(num));
	/* gdb's own tsave order: R, tdesc, status, tsv, tp, empty line */
	for (p = h->tdesc; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		wr_line(w, "tdesc ", p, nl ? (size_t)(nl - p) : strlen(p));
	}
	if (h->status)
		write_status(w, h->status, pad);
	for (i = 0; i < h->ntsvs; i++)
		wr_line(w, "tsv ", h->tsvs[i], strlen(h->tsvs[i]));
	for (i = 0; i < h->ntps; i++)
		wr_line(w, "tp ", h->tps[i], strlen(h->tps[i]));
	wr(w, "\n", 1);
	if (!w->err && fflush(w->f))
		w->err = -errno;
}

static int writer_open(const char *path, const struct tfile_header *h, bool pad,
		       struct tfile_writer **out)
{
	struct tfile_writer *w;
	int r = check_header(h);

	*out = NULL;
	if (r)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->status_off = -1;
	r = join_extra(w, h);
	if (!r) {
		w->f = fopen(path, "wb");
		r = w->f ? 0 : -errno;
	}
	if (!r) {
		write_header(w, h, pad);
		r = w->err;
	}
	if (r) {
		if (w->f)
			fclose(w->f);
		free(w->extra);
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

int tfile_writer_open(const char *path, const struct tfile_header *h, struct tfile_writer **out)
{
	return writer_open(path, h, true, out);
}

int tfile_writer_frames(struct tfile_writer *w, const struct tracebuf *tb)
{
	struct tracebuf_stats st;
	uint64_t first, off;
	size_t done;
	int r;

	if (w->err)
		return w->err;
	tracebuf_stats(tb, &st);
	first = st.created - st.frames; /* run-wide sequence number of frame 0 */
	if (st.created < w->written)
		w->written = 0; /* the buffer was cleared: a new run */
	if (w->written < first) {
		w->lost += first - w->written;
		w->written = first;
	}
	if (w->written == st.created)
		return 0;
	r = tracebuf_frame_offset(tb, w->written - first, &off);
	while (!r && off < st.used) {
		r = tracebuf_read(tb, off, w->chunk, sizeof(w->chunk), &done);
		if (!r && !done)
			break;
		wr(w, w->chunk, done);
		off += done;
	}
	if (r && !w->err)
		w->err = r;
	w->written = st.created;
	if (!w->err && fflush(w->f))
		w->err = -errno;
	return w->err;
}

uint64_t tfile_writer_lost(const struct tfile_writer *w)
{
	return w->lost;
}

int tfile_writer_set_status(struct tfile_writer *w, const char *status)
{
	char buf[TFILE_LINE_MAX + 1];
	int len;

	if (w->err)
		return w->err;
	if (w->status_off < 0)
		return -EINVAL;
	len = compose_status(w, status, w->width, buf);
	if (len < 0)
		return len;
	if (fflush(w->f) || fseek(w->f, w->status_off, SEEK_SET))
		return -errno;
	wr(w, buf, (size_t)len);
	if (fseek(w->f, 0, SEEK_END) && !w->err)
		w->err = -errno;
	if (!w->err && fflush(w->f))
		w->err = -errno;
	return w->err;
}

int tfile_writer_close(struct tfile_writer *w)
{
	static const uint8_t end[4];
	int r;

	if (!w)
		return 0;
	wr(w, end, sizeof(end));
	r = w->err;
	if (fclose(w->f) && !r)
		r = -errno;
	free(w->extra);
	free(w);
	return r;
}

int tfile_write(const char *path, const struct tfile_header *h, const struct tracebuf *tb)
{
	struct tfile_writer *w;
	int r = writer_open(path, h, false, &w), r2;

	if (r)
		return r;
	r = tfile_writer_frames(w, tb);
	r2 = tfile_writer_close(w);
	return r ? r : r2;
}

/* ---- reader ---- */

struct parse {
	struct tfile *tf;
	const uint8_t *data;
	size_t len, off, lineno, tdesc_cap;
	char *err;
	size_t errlen;
};

static int fail(struct parse *ps, int r, const char *fmt, ...)
{
	va_list ap;

	if (ps->err && ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Append a copy of (s, n) to the array *arr of *count strings (capacity doubles at powers of
 * two). */
static int push(char ***arr, size_t *count, const char *s, size_t n)
{
	char **a = *arr, *copy;

	if (!(*count & (*count - 1))) {
		a = realloc(a, (*count ? 2 * *count : 1) * sizeof(*a));
		if (!a)
			return -ENOMEM;
		*arr = a;
	}
	copy = strndup(s, n);
	if (!copy)
		return -ENOMEM;
	a[(*count)++] = copy;
	return 0;
}

static int add_tdesc(struct parse *ps, const char *s, size_t n)
{
	struct tfile *tf = ps->tf;
	char *t;

	if (tf->tdesc_len + n + 2 > ps->tdesc_cap) {
		size_t cap = 2 * ps->tdesc_cap + n + 2;

		t = realloc(tf->tdesc, cap);
		if (!t)
			return -ENOMEM;
		tf->tdesc = t;
		ps->tdesc_cap = cap;
	}
	memcpy(tf->tdesc + tf->tdesc_len, s, n);
	tf->tdesc_len += n;
	tf->tdesc[tf->tdesc_len++] = '\n';
	tf->tdesc[tf->tdesc_len] = '\0';
	return 0;
}

/* Strict hex of 1..8 digits. */
static int parse_hex(const char *s, size_t n, size_t *out)
{
	size_t v = 0, i;

	if (!n || n > 8)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;

		if (d < 0)
			return -EINVAL;
		v = v * 16 + (size_t)d;
	}
	*out = v;
	return 0;
}

static bool keyword(const char *line, size_t n, const char *kw, const char **rest, size_t *rest_len)
{
	size_t k = strlen(kw);

	if (n < k || memcmp(line, kw, k))
		return false;
	*rest = line + k;
	*rest_len = n - k;
	return true;
}

static int set_status(struct tfile *tf, const char *s, size_t n)
{
	const char *pad = memmem(s, n, PAD_FIELD, PAD_LEN);

	if (pad)
		n = (size_t)(pad - s);
	free(tf->status);
	tf->status = strndup(s, n);
	return tf->status ? 0 : -ENOMEM;
}

/* One definition line (without '\n'). */
static int interp_line(struct parse *ps, const char *line, size_t n)
{
	struct tfile *tf = ps->tf;
	const char *rest;
	size_t len;

	if (keyword(line, n, "R ", &rest, &len)) {
		if (parse_hex(rest, len, &tf->regs_size) || !tf->regs_size ||
		    tf->regs_size > TFILE_REGS_MAX)
			return fail(ps, -EINVAL, "line %zu: bad register block size", ps->lineno);
		return 0;
	}
	if (keyword(line, n, "status ", &rest, &len))
		return set_status(tf, rest, len);
	if (keyword(line, n, "tsv ", &rest, &len))
		return push(&tf->tsvs, &tf->ntsvs, rest, len);
	if (keyword(line, n, "tp ", &rest, &len))
		return push(&tf->tps, &tf->ntps, rest, len);
	if (keyword(line, n, "tdesc ", &rest, &len))
		return add_tdesc(ps, rest, len);
	tf->nignored++; /* gdb warns and goes on */
	return 0;
}

static int parse_header(struct parse *ps)
{
	const uint8_t *nl;
	size_t left, n;
	int r;

	if (ps->len < TFILE_MAGIC_LEN || memcmp(ps->data, TFILE_MAGIC, TFILE_MAGIC_LEN))
		return fail(ps, -EINVAL, "not a trace file (bad magic)");
	ps->off = TFILE_MAGIC_LEN;
	for (;;) {
		ps->lineno++;
		left = ps->len - ps->off;
		nl = memchr(ps->data + ps->off, '\n',
			    left < TFILE_READ_MAX ? left : TFILE_READ_MAX);
		if (!nl)
			return fail(ps, -EINVAL, "line %zu: %s", ps->lineno,
				    left < TFILE_READ_MAX ? "header cut short" : "line too long");
		n = (size_t)(nl - (ps->data + ps->off));
		if (memchr(ps->data + ps->off, '\0', n))
			return fail(ps, -EINVAL, "line %zu: NUL byte", ps->lineno);
		if (!n) {
			ps->off++;
			break;
		}
		r = interp_line(ps, (const char *)ps->data + ps->off, n);
		if (r)
			return r == -ENOMEM ? fail(ps, r, "out of memory") : r;
		ps->off += n + 1;
	}
	if (!ps->tf->regs_size)
		return fail(ps, -EINVAL, "no register block size (R line)");
	return 0;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Frames after the header: whole frames up to the terminator (or the last whole one). */
static int parse_frames(struct parse *ps)
{
	struct tfile *tf = ps->tf;
	const uint8_t *start = ps->data + ps->off;
	size_t left = ps->len - ps->off, off = 0, size;
	int r;

	while (left - off >= 2) {
		if (!le(start + off, 2)) {
			tf->complete = true;
			break;
		}
		if (left - off < TRACEBUF_FRAME_HDR)
			break;
		size = (size_t)le(start + off + 2, 4);
		if (size > left - off - TRACEBUF_FRAME_HDR)
			break;
		off += TRACEBUF_FRAME_HDR + size;
	}
	if (off > UINT32_MAX)
		return fail(ps, -EFBIG, "frames larger than 4 GiB");
	tf->tb = tracebuf_new(off > 64 ? off : 64);
	if (!tf->tb)
		return fail(ps, -ENOMEM, "out of memory");
	tracebuf_set_regs_size(tf->tb, tf->regs_size);
	r = tracebuf_load(tf->tb, start, off);
	if (r)
		return fail(ps, r, "malformed frame data");
	return 0;
}

void tfile_free(struct tfile *tf)
{
	size_t i;

	if (!tf)
		return;
	for (i = 0; i < tf->ntsvs; i++)
		free(tf->tsvs[i]);
	for (i = 0; i < tf->ntps; i++)
		free(tf->tps[i]);
	free(tf->tsvs);
	free(tf->tps);
	free(tf->status);
	free(tf->tdesc);
	tracebuf_free(tf->tb);
	free(tf);
}

int tfile_parse(const uint8_t *data, size_t len, struct tfile **out, char *err, size_t errlen)
{
	struct parse ps = {.data = data, .len = len, .err = err, .errlen = errlen};
	int r;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	ps.tf = calloc(1, sizeof(*ps.tf));
	if (!ps.tf)
		return fail(&ps, -ENOMEM, "out of memory");
	r = parse_header(&ps);
	if (!r)
		r = parse_frames(&ps);
	if (r) {
		tfile_free(ps.tf);
		return r;
	}
	*out = ps.tf;
	return 0;
}

/* The whole file into memory (at most 4 GiB plus a header's worth). */
static int slurp(FILE *f, uint8_t **data, size_t *len)
{
	size_t cap = 65536, n = 0, got;
	uint8_t *buf = malloc(cap), *nb;

	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n < cap)
			continue;
		if (cap > ((size_t)1 << 33)) {
			free(buf);
			return -EFBIG;
		}
		nb = realloc(buf, 2 * cap);
		if (!nb)
			break;
		buf = nb;
		cap *= 2;
	}
	if (!buf || n == cap || ferror(f)) {
		int r = ferror(f) ? -EIO : -ENOMEM;

		free(buf);
		return r;
	}
	*data = buf;
	*len = n;
	return 0;
}

int tfile_read(const char *path, struct tfile **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	size_t len;
	int r;

	*out = NULL;
	if (!f) {
		r = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = slurp(f, &data, &len);
	fclose(f);
	if (r) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = tfile_parse(data, len, out, err, errlen);
	free(data);
	return r;
}

int tfile_status_field(const struct tfile *tf, const char *key, char *buf, size_t cap)
{
	const char *p = tf->status, *end, *colon;
	size_t k = strlen(key), n;

	for (; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ';');
		colon = memchr(p, ':', (size_t)(end - p));
		if (!colon || (size_t)(colon - p) != k || memcmp(p, key, k))
			continue;
		n = (size_t)(end - colon - 1);
		if (n >= cap)
			return -ENOSPC;
		memcpy(buf, colon + 1, n);
		buf[n] = '\0';
		return 0;
	}
	return -ENOENT;
}
