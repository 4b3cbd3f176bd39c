/* Unit tests for stub/tracebuf.c: frame bytes, linear full, circular eviction and wrap,
 * the logical stream, frame lookups, trim, abort, resize, load (TAP). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/tracefile/tracefile.h"

static int n_test;
static int failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

static struct tracebuf_stats stats(const struct tracebuf *tb)
{
	struct tracebuf_stats st;

	tracebuf_stats(tb, &st);
	return st;
}

/* A frame of exactly len bytes (header included, 19 or >= 30): one V block (tsv 1 = seq) and,
 * when room is left, one M block at 0x1000 + seq filled with seq. */
static int add_frame(struct tracebuf *tb, uint16_t tp, size_t len, int64_t seq)
{
	struct tracebuf_builder b;
	uint8_t *m;
	int r = tracebuf_begin(tb, tp, len, &b);

	if (r)
		return r;
	if (tracebuf_put_tsv(&b, 1, seq))
		return -EIO;
	if (len > TRACEBUF_FRAME_HDR + TRACEBUF_TSV_BLOCK) {
		size_t n = len - TRACEBUF_FRAME_HDR - TRACEBUF_TSV_BLOCK - TRACEBUF_MEM_HDR;

		m = tracebuf_put_mem(&b, 0x1000 + (uint64_t)seq, (uint16_t)n);
		if (!m)
			return -EIO;
		memset(m, (int)(seq & 0xff), n);
	}
	if (b.len != len)
		return -EIO;
	tracebuf_commit(tb, &b);
	return 0;
}

static int64_t frame_seq(const struct tracebuf *tb, uint64_t num)
{
	struct tracebuf_frame fr;
	int64_t v = -1;

	if (tracebuf_frame(tb, num, &fr) || tracebuf_frame_tsv(&fr, 1, &v))
		return -1;
	return v;
}

/* The whole stream through tracebuf_read in chunks of step bytes; returns its length. */
static size_t read_all(const struct tracebuf *tb, uint8_t *out, size_t cap, size_t step)
{
	size_t off = 0, done;

	while (off < cap && !tracebuf_read(tb, off, out + off, step, &done) && done)
		off += done;
	return off;
}

/* The frames rebuilt from tracebuf_frame, concatenated; returns the length. */
static size_t concat_frames(const struct tracebuf *tb, uint8_t *out)
{
	struct tracebuf_frame fr;
	size_t n = 0;
	uint64_t i;

	for (i = 0; !tracebuf_frame(tb, i, &fr); i++) {
		out[n] = (uint8_t)fr.tpnum;
		out[n + 1] = (uint8_t)(fr.tpnum >> 8);
		out[n + 2] = (uint8_t)fr.size;
		out[n + 3] = (uint8_t)(fr.size >> 8);
		out[n + 4] = (uint8_t)(fr.size >> 16);
		out[n + 5] = (uint8_t)(fr.size >> 24);
		memcpy(out + n + 6, fr.blocks, fr.size);
		n += 6 + fr.size;
	}
	return n;
}

static void test_frame_bytes(void)
{
	static const uint8_t want[] = {
		3,    0,    32,	  0,	0,    0,    'R',  1,	2,    3,    4,	  'M',	0x88,
		0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 3,	0,    'a',  'b',  'c',	'V',
		2,    0,    0,	  0,	0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	struct tracebuf *tb = tracebuf_new(1000);
	struct tracebuf_builder b;
	struct tracebuf_stats st;
	uint8_t out[64], *p;
	size_t done = 0;
	int r;

	r = tracebuf_begin(tb, 3, 100, &b);
	ok(r == 0 && b.cap == 100 && b.len == 6, "begin reserves max, header written");
	p = tracebuf_put_regs(&b, 4);
	if (p)
		memcpy(p, "\1\2\3\4", 4);
	p = tracebuf_put_mem(&b, 0x1122334455667788ull, 3);
	if (p)
		memcpy(p, "abc", 3);
	r = tracebuf_put_tsv(&b, 2, -2);
	ok(r == 0 && tracebuf_commit(tb, &b) == 0, "first frame is number 0");
	st = stats(tb);
	ok(st.frames == 1 && st.created == 1 && st.used == sizeof(want) &&
		   st.free == 1000 - sizeof(want) && st.size == 1000 && st.evicted == 0,
	   "stats after one frame: commit shrank the reservation to what was written");
	r = tracebuf_read(tb, 0, out, sizeof(out), &done);
	ok(r == 0 && done == sizeof(want) && !memcmp(out, want, sizeof(want)),
	   "exact bytes: int16 tpnum, uint32 size, R, M addr len bytes, V i32 i64 (LE)");
	r = tracebuf_read(tb, 10, out, 5, &done);
	ok(r == 0 && done == 5 && !memcmp(out, want + 10, 5), "read from an offset");
	ok(tracebuf_read(tb, sizeof(want), out, 5, &done) == 0 && done == 0, "read at end: 0");
	ok(tracebuf_read(tb, sizeof(want) + 1, out, 5, &done) == -EINVAL, "read past end");
	ok(tracebuf_regs_size(tb) == 4, "the first R block fixed the R size");
	tracebuf_free(tb);
}

static void test_blocks(void)
{
	struct tracebuf *tb = tracebuf_new(1000);
	struct tracebuf_builder b;
	struct tracebuf_frame fr;
	struct tracebuf_block blk;
	size_t off = 0;
	uint8_t *p;
	int r1, r2, r3, r4;

	tracebuf_set_regs_size(tb, 8);
	tracebuf_begin(tb, 7, 200, &b);
	ok(tracebuf_put_regs(&b, 4) == NULL && b.failed, "R block of the wrong size refused");
	b.failed = false;
	p = tracebuf_put_regs(&b, 8);
	if (p)
		memset(p, 0xaa, 8);
	p = tracebuf_put_mem(&b, 0x5000, 2);
	if (p)
		memcpy(p, "xy", 2);
	tracebuf_put_tsv(&b, -3, INT64_MIN);
	tracebuf_commit(tb, &b);
	tracebuf_frame(tb, 0, &fr);
	ok(fr.tpnum == 7 && fr.size == 9 + 13 + 13 && fr.num == 0 && fr.regs_size == 8,
	   "frame: tpnum, size, R size");
	r1 = tracebuf_next_block(&fr, &off, &blk);
	ok(r1 == 1 && blk.type == 'R' && blk.len == 8 && blk.data[7] == 0xaa && off == 9,
	   "block 1: R");
	r2 = tracebuf_next_block(&fr, &off, &blk);
	ok(r2 == 1 && blk.type == 'M' && blk.addr == 0x5000 && blk.len == 2 &&
		   !memcmp(blk.data, "xy", 2),
	   "block 2: M");
	r3 = tracebuf_next_block(&fr, &off, &blk);
	ok(r3 == 1 && blk.type == 'V' && blk.tsv == -3 && blk.value == INT64_MIN, "block 3: V");
	r4 = tracebuf_next_block(&fr, &off, &blk);
	ok(r4 == 0 && off == fr.size, "end of blocks");
	off = fr.size + 1;
	ok(tracebuf_next_block(&fr, &off, &blk) == -EINVAL, "offset past the frame");
	ok(tracebuf_set_regs_size(tb, 16) == -EBUSY && tracebuf_set_regs_size(tb, 8) == 0,
	   "R size fixed while frames are held");
	tracebuf_free(tb);
}

static void test_malformed_blocks(void)
{
	static const uint8_t m_short[] = {'M', 0, 0x10, 0, 0, 0, 0, 0, 0, 5, 0, 'a', 'b'};
	static const uint8_t v_short[] = {'V', 1, 0, 0, 0, 2};
	static const uint8_t bad[] = {'S', 0, 0};
	static const uint8_t r_only[] = {'R', 1, 2, 3};
	struct tracebuf_frame fr = {.blocks = m_short, .size = sizeof(m_short)};
	struct tracebuf_block blk;
	size_t off = 0, done;
	uint8_t buf[8];

	ok(tracebuf_next_block(&fr, &off, &blk) == -EINVAL, "M block longer than the frame");
	ok(tracebuf_frame_mem(&fr, 0x1000, buf, 1, &done) == -EINVAL, "mem lookup: malformed");
	fr.size = 5;
	off = 0;
	ok(tracebuf_next_block(&fr, &off, &blk) == -EINVAL, "M header cut");
	fr.blocks = v_short;
	fr.size = sizeof(v_short);
	off = 0;
	ok(tracebuf_next_block(&fr, &off, &blk) == -EINVAL, "V block cut");
	fr.blocks = bad;
	fr.size = sizeof(bad);
	off = 0;
	ok(tracebuf_next_block(&fr, &off, &blk) == -EINVAL, "unknown block type (S)");
	fr.blocks = r_only;
	fr.size = sizeof(r_only);
	off = 0;
	ok(tracebuf_next_block(&fr, &off, &blk) == -EINVAL, "R block with no known R size");
	fr.regs_size = 4;
	off = 0;
	ok(tracebuf_next_block(&fr, &off, &blk) == -EINVAL, "R block longer than the frame");
	fr.regs_size = 3;
	off = 0;
	ok(tracebuf_next_block(&fr, &off, &blk) == 1 && blk.len == 3, "R block of the R size");
}

static void test_lookups(void)
{
	struct tracebuf *tb = tracebuf_new(1000);
	struct tracebuf_builder b;
	struct tracebuf_frame fr;
	const uint8_t *regs;
	uint8_t buf[64], *p;
	size_t done = 99, len = 0;
	int64_t v = 0;
	int i, r;

	tracebuf_begin(tb, 1, 300, &b);
	p = tracebuf_put_regs(&b, 8);
	memcpy(p, "regsregs", 8);
	p = tracebuf_put_mem(&b, 0x1000, 16);
	for (i = 0; i < 16; i++)
		p[i] = (uint8_t)(0x40 + i);
	p = tracebuf_put_mem(&b, 0x1008, 4);
	memcpy(p, "XXXX", 4);
	tracebuf_put_tsv(&b, 5, 1);
	tracebuf_put_tsv(&b, 6, -1);
	tracebuf_put_tsv(&b, 5, 2);
	tracebuf_commit(tb, &b);
	tracebuf_begin(tb, 2, 300, &b);
	tracebuf_put_tsv(&b, 5, 9);
	tracebuf_commit(tb, &b);

	tracebuf_frame(tb, 0, &fr);
	r = tracebuf_frame_mem(&fr, 0x1004, buf, sizeof(buf), &done);
	ok(r == 0 && done == 12 && buf[0] == 0x44 && buf[11] == 0x4f,
	   "mem: truncated at the end of the first block holding addr");
	r = tracebuf_frame_mem(&fr, 0x1009, buf, 2, &done);
	ok(r == 0 && done == 2 && buf[0] == 0x49, "mem: first block wins over a later overlap");
	r = tracebuf_frame_mem(&fr, 0x100f, buf, 8, &done);
	ok(r == 0 && done == 1 && buf[0] == 0x4f, "mem: last byte of a block");
	ok(tracebuf_frame_mem(&fr, 0x1010, buf, 8, &done) == -EIO && done == 0,
	   "mem: one past the block is -EIO");
	ok(tracebuf_frame_mem(&fr, 0xfff, buf, 8, &done) == -EIO, "mem: one before the block");
	ok(tracebuf_frame_tsv(&fr, 5, &v) == 0 && v == 2, "tsv: last V block wins");
	ok(tracebuf_frame_tsv(&fr, 6, &v) == 0 && v == -1, "tsv: negative value");
	ok(tracebuf_frame_tsv(&fr, 7, &v) == -ENOENT, "tsv: not collected");
	r = tracebuf_frame_regs(&fr, &regs, &len);
	ok(r == 0 && len == 8 && !memcmp(regs, "regsregs", 8), "regs: the R block");
	tracebuf_frame(tb, 1, &fr);
	ok(tracebuf_frame_regs(&fr, &regs, &len) == -ENOENT, "regs: frame without R block");
	ok(tracebuf_frame_mem(&fr, 0x1000, buf, 8, &done) == -EIO, "mem: frame without M block");
	ok(tracebuf_frame_tsv(&fr, 5, &v) == 0 && v == 9 && fr.tpnum == 2, "second frame's tsv");
	ok(tracebuf_frame(tb, 2, &fr) == -ENOENT, "no frame 2");
	tracebuf_free(tb);
}

static void test_linear_full(void)
{
	struct tracebuf *tb = tracebuf_new(100);
	struct tracebuf_builder b;
	struct tracebuf_stats st;
	int i, r = 0;

	for (i = 0; i < 5 && !r; i++)
		r = add_frame(tb, 1, 19, i);
	ok(r == 0 && stats(tb).used == 95 && !tracebuf_is_full(tb), "5 frames of 19 in 100 bytes");
	r = add_frame(tb, 1, 19, 5);
	st = stats(tb);
	ok(r == -ENOSPC && tracebuf_is_full(tb) && st.frames == 5 && st.created == 5 &&
		   st.free == 5 && st.evicted == 0,
	   "linear: the sixth is refused, buffer full, nothing evicted");
	ok(frame_seq(tb, 0) == 0 && frame_seq(tb, 4) == 4, "linear keeps the oldest frames");
	tracebuf_clear(tb);
	st = stats(tb);
	ok(!tracebuf_is_full(tb) && st.frames == 0 && st.used == 0 && st.created == 0,
	   "clear drops frames, counters and the full flag");
	for (i = 0; i < 3; i++)
		add_frame(tb, 1, 19, i);
	r = tracebuf_begin(tb, 1, 44, &b);
	ok(r == -ENOSPC && tracebuf_is_full(tb),
	   "linear refuses when max may not fit (43 bytes free, max 44)");
	tracebuf_clear(tb);
	ok(tracebuf_begin(tb, 1, 101, &b) == -ENOSPC, "max larger than the arena");
	ok(tracebuf_begin(tb, 1, 5, &b) == -EINVAL, "max below the frame header");
	ok(tracebuf_begin(tb, 0, 50, &b) == -EINVAL, "tpnum 0 refused (the file terminator)");
	ok(tracebuf_begin(tb, 1, 100, &b) == 0, "a frame of the whole arena");
	ok(tracebuf_put_mem(&b, 0, 90) == NULL && b.failed && b.len == 6,
	   "a block that does not fit");
	ok(tracebuf_put_tsv(&b, 1, 1) == 0 && b.len == 19, "a smaller block after a failure");
	tracebuf_commit(tb, &b);
	ok(stats(tb).used == 19 && frame_seq(tb, 0) == 1, "commit stores what fit");
	tracebuf_free(tb);
}

/* Uniform frames of len bytes in an arena of size bytes: circular keeps exactly the newest
 * size / len frames, whatever the wrap position. */
static void check_uniform(size_t size, size_t len, int total)
{
	struct tracebuf *tb = tracebuf_new(size);
	uint8_t *a = malloc(size), *c = malloc(size);
	size_t keep = size / len, na, nc;
	struct tracebuf_stats st;
	char name[200];
	int i, good = 1, r = 0;

	tracebuf_set_circular(tb, true);
	for (i = 0; i < total && !r; i++) {
		r = add_frame(tb, (uint16_t)(1 + i % 3), len, i);
		st = stats(tb);
		if (st.frames != ((size_t)i + 1 < keep ? (size_t)i + 1 : keep))
			good = 0;
		if (frame_seq(tb, st.frames - 1) != i || frame_seq(tb, 0) != i + 1 - (int)st.frames)
			good = 0;
		na = read_all(tb, a, size, 7);
		nc = concat_frames(tb, c);
		if (na != st.used || na != nc || memcmp(a, c, na))
			good = 0;
	}
	st = stats(tb);
	snprintf(name, sizeof(name),
		 "circular %zu/%zu: after each of %d frames exactly the newest %zu held, stream "
		 "read in 7-byte slices equals the frames",
		 size, len, total, keep);
	ok(r == 0 && good && st.evicted == total - keep && st.created == (uint64_t)total &&
		   !tracebuf_is_full(tb),
	   name);
	free(a);
	free(c);
	tracebuf_free(tb);
}

static void test_circular_uniform(void)
{
	check_uniform(100, 19, 23);
	check_uniform(100, 30, 9);
	check_uniform(100, 100, 3);
	check_uniform(1000, 33, 200);
}

/* Frames of varying sizes: held frames are always the newest, numbered from 0, and the stream
 * equals their concatenation; frame offsets agree with the stream. */
static void test_circular_varying(void)
{
	struct tracebuf *tb = tracebuf_new(300);
	uint8_t a[300], c[300];
	struct tracebuf_stats st;
	uint64_t off, want;
	struct tracebuf_frame fr;
	int i, good = 1, wrapped_read = 0, offs = 1;
	size_t len, na, j;

	tracebuf_set_circular(tb, true);
	for (i = 0; i < 400; i++) {
		len = i % 5 ? 30 + (size_t)(i * 37 % 90) : 19;
		if (add_frame(tb, 2, len, i)) {
			good = 0;
			break;
		}
		st = stats(tb);
		if (st.frames + st.evicted != st.created || st.used > 300 || st.frames == 0)
			good = 0;
		for (j = 0; j < st.frames; j++)
			if (frame_seq(tb, j) != i + 1 - (int)st.frames + (int)j)
				good = 0;
		na = read_all(tb, a, sizeof(a), 13);
		if (na != st.used || na != concat_frames(tb, c) || memcmp(a, c, na))
			good = 0;
		want = 0;
		for (j = 0; !tracebuf_frame(tb, j, &fr); j++) {
			if (tracebuf_frame_offset(tb, j, &off) || off != want)
				offs = 0;
			want += TRACEBUF_FRAME_HDR + fr.size;
		}
		if (tracebuf_frame_offset(tb, j, &off) != -ENOENT)
			offs = 0;
		/* the oldest frame lies after the newest in the arena: wrapped */
		if (st.frames > 1) {
			struct tracebuf_frame f0, fl;

			tracebuf_frame(tb, 0, &f0);
			tracebuf_frame(tb, st.frames - 1, &fl);
			wrapped_read += f0.blocks > fl.blocks;
		}
	}
	ok(good, "varying sizes: always the newest frames, stream = frames, 400 frames");
	ok(offs, "frame offsets in the stream agree with the frame sizes");
	ok(wrapped_read > 100, "the wrapped layout was exercised");
	tracebuf_free(tb);
}

static void test_trim_abort(void)
{
	static const uint8_t want[] = {9, 0,   26,  0,	 0, 0, 'M', 0, 0x20, 0, 0, 0, 0, 0, 0, 2,
				       0, 'a', 'b', 'V', 4, 0, 0,   0, 7,    0, 0, 0, 0, 0, 0, 0};
	struct tracebuf *tb = tracebuf_new(200);
	struct tracebuf_builder b;
	struct tracebuf_stats st;
	uint8_t out[64], *p;
	size_t done;

	tracebuf_begin(tb, 9, 100, &b);
	p = tracebuf_put_mem(&b, 0x2000, 10);
	memcpy(p, "abcdefghij", 10);
	tracebuf_trim_mem(&b, p, 2);
	ok(b.len == 6 + 11 + 2, "trim shortens the frame");
	tracebuf_put_tsv(&b, 4, 7);
	tracebuf_commit(tb, &b);
	tracebuf_read(tb, 0, out, sizeof(out), &done);
	ok(done == sizeof(want) && !memcmp(out, want, sizeof(want)),
	   "trimmed M block: len 2, next block right after");

	tracebuf_begin(tb, 3, 100, &b);
	tracebuf_put_tsv(&b, 1, 1);
	tracebuf_abort(tb, &b);
	st = stats(tb);
	ok(st.frames == 1 && st.created == 1 && st.used == sizeof(want), "abort stores nothing");
	add_frame(tb, 5, 19, 77);
	tracebuf_read(tb, 0, out, sizeof(out), &done);
	ok(done == sizeof(want) + 19 && out[sizeof(want)] == 5 && frame_seq(tb, 1) == 77,
	   "the next frame takes the aborted one's place");
	tracebuf_free(tb);
}

/* An abort after the wrap decision, then linear mode over a wrapped buffer. */
static void test_abort_wrapped(void)
{
	struct tracebuf *tb = tracebuf_new(100);
	struct tracebuf_builder b;
	uint8_t a[100], c[100];
	size_t na;
	int i;

	tracebuf_set_circular(tb, true);
	for (i = 0; i < 5; i++)
		add_frame(tb, 1, 19, i);
	ok(tracebuf_begin(tb, 1, 19, &b) == 0 && stats(tb).evicted == 1, "wrap evicts the oldest");
	tracebuf_abort(tb, &b);
	na = read_all(tb, a, sizeof(a), 5);
	ok(stats(tb).frames == 4 && na == 76 && na == concat_frames(tb, c) && !memcmp(a, c, na) &&
		   frame_seq(tb, 0) == 1,
	   "aborted after wrapping: the eviction stays, the stream is the 4 frames left");
	tracebuf_set_circular(tb, false);
	ok(add_frame(tb, 2, 19, 5) == 0 && frame_seq(tb, 4) == 5 && stats(tb).used == 95,
	   "linear over a wrapped buffer: the gap before the oldest frame is used");
	ok(add_frame(tb, 2, 19, 6) == -ENOSPC && tracebuf_is_full(tb) && stats(tb).frames == 5,
	   "linear over a wrapped buffer: full, nothing evicted");
	na = read_all(tb, a, sizeof(a), 100);
	ok(na == 95 && na == concat_frames(tb, c) && !memcmp(a, c, na) && a[4 * 19] == 2,
	   "wrapped stream read oldest first");
	tracebuf_free(tb);
}

static void test_resize(void)
{
	struct tracebuf *tb = tracebuf_new(0);
	struct tracebuf_stats st;

	ok(tb && stats(tb).size == TRACEBUF_DEFAULT_SIZE, "size 0 = 5 MiB default");
	add_frame(tb, 1, 40, 1);
	tracebuf_set_circular(tb, true);
	ok(tracebuf_resize(tb, 64) == 0, "resize");
	st = stats(tb);
	ok(st.size == 64 && st.frames == 0 && st.used == 0 && st.created == 0 &&
		   tracebuf_is_circular(tb),
	   "resize clears, keeps circular");
	ok(tracebuf_resize(tb, (size_t)UINT32_MAX + 1) == -EINVAL && stats(tb).size == 64,
	   "too large: refused, old arena kept");
	{
		struct tracebuf *tiny = tracebuf_new(4);
		struct tracebuf_builder b4;

		ok(tiny && tracebuf_begin(tiny, 1, TRACEBUF_FRAME_HDR, &b4) == -ENOSPC &&
			   tracebuf_is_full(tiny),
		   "smaller than a frame (set trace-buffer-size 4): no frame fits, full");
		if (tiny) {
			tracebuf_clear(tiny);
			tracebuf_set_circular(tiny, true);
		}
		ok(tiny && tracebuf_begin(tiny, 1, TRACEBUF_FRAME_HDR, &b4) == -ENOSPC &&
			   !tracebuf_is_full(tiny),
		   "circular and smaller than a frame: the frame is dropped, never full");
		tracebuf_free(tiny);
	}
	add_frame(tb, 1, 40, 1);
	add_frame(tb, 1, 40, 2);
	st = stats(tb);
	ok(st.frames == 1 && st.evicted == 1 && frame_seq(tb, 0) == 2, "new arena in use");
	ok(tracebuf_new((size_t)UINT32_MAX + 1) == NULL, "tracebuf_new refuses sizes over 4 GiB");
	tracebuf_free(tb);
	tracebuf_free(NULL);
}

static void test_load(void)
{
	struct tracebuf *src = tracebuf_new(500), *dst = tracebuf_new(600);
	struct tracebuf_builder b;
	struct tracebuf_stats st;
	uint8_t a[600], c[600], *p;
	size_t na, nc;
	int i;

	tracebuf_set_circular(src, true);
	for (i = 0; i < 40; i++) {
		tracebuf_begin(src, (uint16_t)(i % 4 + 1), 120, &b);
		p = tracebuf_put_regs(&b, 16);
		memset(p, i, 16);
		p = tracebuf_put_mem(&b, 0x400000 + (uint64_t)i, (uint16_t)(i % 50));
		memset(p, 0x11, (size_t)(i % 50));
		tracebuf_put_tsv(&b, 1, i);
		tracebuf_commit(src, &b);
	}
	na = read_all(src, a, sizeof(a), 64);
	ok(tracebuf_load(dst, a, na) == -EINVAL && stats(dst).frames == 0,
	   "load without the R size: R blocks malformed");
	tracebuf_set_regs_size(dst, 16);
	ok(tracebuf_load(dst, a, na) == 0, "load a wrapped buffer's stream");
	st = stats(dst);
	nc = read_all(dst, c, sizeof(c), 1000);
	ok(st.frames == stats(src).frames && st.used == na && nc == na && !memcmp(a, c, na) &&
		   st.created == st.frames,
	   "round trip: same frames, same bytes");
	ok(frame_seq(dst, 0) == frame_seq(src, 0) && frame_seq(dst, st.frames - 1) == 39,
	   "loaded frames numbered from 0");
	ok(tracebuf_load(dst, a, na - 1) == -EINVAL && stats(dst).frames == 0,
	   "truncated stream: -EINVAL, left empty");
	c[0] = 0;
	c[1] = 0;
	ok(tracebuf_load(dst, c, na) == -EINVAL, "tpnum 0 inside the stream");
	memcpy(c, a, na);
	c[6] = 'S';
	ok(tracebuf_load(dst, c, na) == -EINVAL, "unknown block type");
	ok(tracebuf_load(dst, a, 3) == -EINVAL, "a partial frame header");
	ok(tracebuf_load(dst, a, 0) == 0 && stats(dst).frames == 0, "empty stream");
	tracebuf_resize(dst, 64);
	tracebuf_set_regs_size(dst, 16);
	ok(tracebuf_load(dst, a, na) == -ENOSPC, "stream larger than the arena");
	tracebuf_free(src);
	tracebuf_free(dst);
}

int main(void)
{
	test_frame_bytes();
	test_blocks();
	test_malformed_blocks();
	test_lookups();
	test_linear_full();
	test_circular_uniform();
	test_circular_varying();
	test_trim_abort();
	test_abort_wrapped();
	test_resize();
	test_load();
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
