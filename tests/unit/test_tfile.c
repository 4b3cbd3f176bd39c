/* Unit tests for stub/tfile.c: exact header bytes, write/read round trip, the incremental
 * writer (appends, lost frames, status rewrite, readable before close), header validation,
 * and the reader on truncated and garbage files (TAP).
 * Helper modes for tests/e2e/210_tfile.t:
 *   test_tfile --write FILE TRACED_ADDR COUNTER_ADDR   a 3-frame file for gdb
 *   test_tfile --dump FILE                             summary of a file (any writer)
 *   test_tfile --copy IN OUT                           read IN, write it again */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86_64/regs.h"
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

static char tmp_path[256];

static const char *tmpfile_path(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "%s/test_tfile.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(tmp_path);
	if (fd >= 0)
		close(fd);
	return tmp_path;
}

static uint8_t *file_bytes(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = (size_t)n;
	return buf;
}

/* One frame: R block (byte pattern seq), M block at addr (4 bytes: value), V tsv = seq. */
static void add_frame(struct tracebuf *tb, uint16_t tp, size_t rlen, uint64_t addr, uint32_t value,
		      int64_t seq)
{
	struct tracebuf_builder b;
	uint8_t *p;
	unsigned i;

	if (tracebuf_begin(tb, tp, 64 + rlen, &b))
		return;
	p = tracebuf_put_regs(&b, rlen);
	if (p)
		memset(p, (int)(seq & 0xff), rlen);
	p = tracebuf_put_mem(&b, addr, 4);
	for (i = 0; p && i < 4; i++)
		p[i] = (uint8_t)(value >> (8 * i));
	tracebuf_put_tsv(&b, 2, seq);
	tracebuf_commit(tb, &b);
}

static size_t stream(const struct tracebuf *tb, uint8_t *out, size_t cap)
{
	size_t off = 0, done;

	while (off < cap && !tracebuf_read(tb, off, out + off, cap - off, &done) && done)
		off += done;
	return off;
}

static uint64_t stats_evicted(const struct tracebuf *tb)
{
	struct tracebuf_stats st;

	tracebuf_stats(tb, &st);
	return st.evicted;
}

static const char *const tsvs[] = {"1:0:1:74726163655f74696d657374616d70", "2:0:0:68697473"};
static const char *const tps[] = {"T1:0000000000401150:E:0:0", "A1:0000000000401150:R1ff",
				  "Z1:0000000000401150:cmd:0:f:636f6c6c65637420636f756e746572"};
static const char *const extra[] = {TFILE_KEY_BIAS ":555555554000"};
static const char xml[] = "<?xml version=\"1.0\"?>\n<target>\n\n</target>\n";

static struct tfile_header header(const char *status)
{
	struct tfile_header h = {
		.regs_size = 16,
		.tdesc = xml,
		.status = status,
		.status_extra = extra,
		.nstatus_extra = 1,
		.tsvs = tsvs,
		.ntsvs = 2,
		.tps = tps,
		.ntps = 3,
	};
	return h;
}

static const char want_header[] =
	"\x7fTRACE0\nR 10\n"
	"tdesc <?xml version=\"1.0\"?>\ntdesc <target>\ntdesc \ntdesc </target>\n"
	"status 0;tstop::0;tframes:2;tcreated:2;tfree:0;tsize:400;circular:0;disconn:0;"
	"tsbias:555555554000\n"
	"tsv 1:0:1:74726163655f74696d657374616d70\ntsv 2:0:0:68697473\n"
	"tp T1:0000000000401150:E:0:0\ntp A1:0000000000401150:R1ff\n"
	"tp Z1:0000000000401150:cmd:0:f:636f6c6c65637420636f756e746572\n\n";
static const char status0[] = "0;tstop::0;tframes:2;tcreated:2;tfree:0;tsize:400;circular:0;"
			      "disconn:0";

static void test_write_exact(void)
{
	struct tracebuf *tb = tracebuf_new(1024);
	struct tfile_header h = header(status0);
	const char *path = tmpfile_path();
	uint8_t frames[1024], *data;
	size_t hl = sizeof(want_header) - 1, nf, len;
	int r;

	add_frame(tb, 1, 16, 0x404040, 7, 1);
	add_frame(tb, 1, 16, 0x404040, 8, 2);
	nf = stream(tb, frames, sizeof(frames));
	r = tfile_write(path, &h, tb);
	data = file_bytes(path, &len);
	ok(r == 0 && data && len == hl + nf + 4, "tfile_write: header + frames + terminator");
	ok(data && len >= hl && !memcmp(data, want_header, hl),
	   "exact header: magic, R, tdesc per XML line, status + extra field, tsv, tp, blank");
	ok(data && len == hl + nf + 4 && !memcmp(data + hl, frames, nf) &&
		   !memcmp(data + hl + nf, "\0\0\0\0", 4),
	   "frame stream verbatim, then 4 zero bytes");
	free(data);
	unlink(path);
	tracebuf_free(tb);
}

static int same_lines(char **got, size_t n, const char *const *want, size_t nw)
{
	size_t i;

	if (n != nw)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(got[i], want[i]))
			return 0;
	return 1;
}

static void test_round_trip(void)
{
	struct tracebuf *tb = tracebuf_new(2048);
	struct tfile_header h = header(status0);
	const char *path = tmpfile_path();
	struct tfile *tf = NULL;
	struct tracebuf_stats st;
	uint8_t a[2048], c[2048];
	char err[128], val[32];
	size_t na, nc;
	int i, r;

	tracebuf_set_circular(tb, true);
	for (i = 0; i < 30; i++)
		add_frame(tb, (uint16_t)(1 + i % 2), 16, 0x404040 + (uint64_t)i, (uint32_t)i, i);
	na = stream(tb, a, sizeof(a));
	r = tfile_write(path, &h, tb);
	r = r ? r : tfile_read(path, &tf, err, sizeof(err));
	ok(r == 0 && tf, "write a wrapped circular buffer, read it back");
	if (!tf)
		return;
	tracebuf_stats(tf->tb, &st);
	nc = stream(tf->tb, c, sizeof(c));
	ok(tf->regs_size == 16 && tracebuf_regs_size(tf->tb) == 16, "R size");
	ok(st.frames == 30 - stats_evicted(tb) && na == nc && !memcmp(a, c, na) && tf->complete,
	   "frames identical, terminator seen");
	ok(tf->status && !strcmp(tf->status, "0;tstop::0;tframes:2;tcreated:2;tfree:0;tsize:400;"
					     "circular:0;disconn:0;tsbias:555555554000"),
	   "status line with the extra field");
	ok(same_lines(tf->tsvs, tf->ntsvs, tsvs, 2) && same_lines(tf->tps, tf->ntps, tps, 3),
	   "tsv and tp lines in order");
	ok(tf->tdesc && tf->tdesc_len == strlen(xml) && !strcmp(tf->tdesc, xml) && !tf->nignored,
	   "tdesc reassembled (blank XML line kept)");
	ok(tfile_status_field(tf, TFILE_KEY_BIAS, val, sizeof(val)) == 0 &&
		   !strcmp(val, "555555554000"),
	   "status field: load bias");
	ok(tfile_status_field(tf, "tframes", val, sizeof(val)) == 0 && !strcmp(val, "2"),
	   "status field: tframes");
	ok(tfile_status_field(tf, "tstop", val, sizeof(val)) == 0 && !strcmp(val, ":0"),
	   "status field: stop reason keeps its note and tp");
	ok(tfile_status_field(tf, "tsize", val, 3) == -ENOSPC &&
		   tfile_status_field(tf, "user", val, sizeof(val)) == -ENOENT &&
		   tfile_status_field(tf, "0", val, sizeof(val)) == -ENOENT,
	   "status field: too small, absent, no key");
	tfile_free(tf);
	unlink(path);
	tracebuf_free(tb);
}

/* V block (tsv 2) values of every frame, in order, into seq; returns the count. */
static size_t frame_seqs(const struct tracebuf *tb, int64_t *seq, size_t cap)
{
	struct tracebuf_frame fr;
	size_t n = 0;

	while (n < cap && !tracebuf_frame(tb, n, &fr) && !tracebuf_frame_tsv(&fr, 2, &seq[n]))
		n++;
	return n;
}

static void test_incremental(void)
{
	struct tracebuf *tb = tracebuf_new(400);
	struct tfile_header h = header("1;tnotrun:0;tframes:0");
	const char *path = tmpfile_path();
	struct tfile_writer *w = NULL;
	struct tfile *tf = NULL;
	int64_t seq[64];
	char longer[600];
	size_t n, len0 = 0, len1 = 0;
	uint8_t *data;
	int i, r, good = 1;

	tracebuf_set_circular(tb, true);
	r = tfile_writer_open(path, &h, &w);
	ok(r == 0 && w, "writer open");
	if (!w)
		return;
	ok(tfile_writer_frames(w, tb) == 0, "no frames yet: nothing to append");
	for (i = 0; i < 3; i++)
		add_frame(tb, 1, 16, 0x1000, 0, i);
	r = tfile_writer_frames(w, tb);
	add_frame(tb, 1, 16, 0x1000, 0, 3);
	r = r ? r : tfile_writer_frames(w, tb);
	r = r ? r : tfile_writer_frames(w, tb);
	ok(r == 0 && tfile_writer_lost(w) == 0, "appends: 3 frames, then 1, then none");
	for (i = 4; i < 40; i++) /* about 7 fit: most are evicted before being written */
		add_frame(tb, 1, 16, 0x1000, 0, i);
	r = tfile_writer_frames(w, tb);
	n = frame_seqs(tb, seq, 64);
	ok(r == 0 && n > 3 && n < 20 && tfile_writer_lost(w) == 36 - n,
	   "frames evicted before they were written are counted as lost");
	data = file_bytes(path, &len0);
	free(data);
	r = tfile_read(path, &tf, NULL, 0);
	n = tf ? frame_seqs(tf->tb, seq, 64) : 0;
	ok(r == 0 && tf && !tf->complete && n == 4 + (40 - 4 - tfile_writer_lost(w)),
	   "readable before close: no terminator, every appended frame");
	for (i = 0; i < (int)n; i++)
		if (seq[i] != (i < 4 ? i : i + (int64_t)tfile_writer_lost(w)))
			good = 0;
	ok(good, "file frames in order: 0..3, then the newest after the gap");
	ok(tf && tf->status && !strcmp(tf->status, "1;tnotrun:0;tframes:0;tsbias:555555554000"),
	   "padding field stripped by the reader");
	tfile_free(tf);
	tf = NULL;
	r = tfile_writer_set_status(w, "0;tstop::0;tframes:b;tcreated:28");
	data = file_bytes(path, &len1);
	free(data);
	ok(r == 0 && len1 == len0, "status rewritten in place: file length unchanged");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	longer[0] = '0';
	longer[1] = ';';
	longer[2] = 'x';
	longer[3] = ':';
	ok(tfile_writer_set_status(w, longer) == -ENOSPC, "a status longer than the room");
	add_frame(tb, 2, 16, 0x1000, 0, 40);
	r = tfile_writer_frames(w, tb);
	r = r ? r : tfile_writer_close(w);
	ok(r == 0, "append after the rewrite, close");
	r = tfile_read(path, &tf, NULL, 0);
	n = tf ? frame_seqs(tf->tb, seq, 64) : 0;
	ok(r == 0 && tf && tf->complete && n >= 2 && seq[n - 1] == 40 &&
		   !strcmp(tf->status, "0;tstop::0;tframes:b;tcreated:28;tsbias:555555554000"),
	   "after close: terminator, last frame, new status");
	tfile_free(tf);
	ok(tfile_writer_close(NULL) == 0, "close(NULL)");
	unlink(path);
	tracebuf_free(tb);
}

static void test_header_checks(void)
{
	struct tracebuf *tb = tracebuf_new(100);
	struct tfile_header h = header(status0);
	const char *path = tmpfile_path();
	const char *bad_tp[1];
	static char line[1001];
	struct tfile *tf = NULL;
	int r;

	h.regs_size = 0;
	ok(tfile_write(path, &h, tb) == -EINVAL, "no R size");
	h = header(status0);
	bad_tp[0] = "T1:1:E:0:0\ntp T2:2:E:0:0";
	h.tps = bad_tp;
	h.ntps = 1;
	ok(tfile_write(path, &h, tb) == -EINVAL, "a newline inside a tp line");
	memset(line, 'a', 996);
	line[996] = '\0';
	bad_tp[0] = line;
	r = tfile_write(path, &h, tb);
	ok(r == 0 && !tfile_read(path, &tf, NULL, 0) && tf->ntps == 1 && strlen(tf->tps[0]) == 996,
	   "a 999-byte line (gdb's longest) is written");
	tfile_free(tf);
	line[996] = 'a';
	line[997] = '\0';
	ok(tfile_write(path, &h, tb) == -E2BIG, "a 1000-byte line is refused");
	h = header(NULL);
	ok(tfile_write(path, &h, tb) == -EINVAL, "status extras without a status");
	h.nstatus_extra = 0;
	h.tdesc = NULL;
	ok(tfile_write(path, &h, tb) == 0 && !tfile_read(path, &tf, NULL, 0) && !tf->status &&
		   !tf->tdesc && tf->complete && tf->ntsvs == 2,
	   "no status, no tdesc");
	tfile_free(tf);
	ok(tfile_write("/nonexistent/dir/f", &h, tb) == -ENOENT, "open error returned");
	unlink(path);
	tracebuf_free(tb);
}

static int parse_str(const char *s, size_t len, struct tfile **tf, char *err, size_t errlen)
{
	return tfile_parse((const uint8_t *)s, len, tf, err, errlen);
}

#define HDR "\x7fTRACE0\nR 4\n"

static void test_reader_errors(void)
{
	static const char frames[] = HDR "\n\1\0\5\0\0\0R1234\2\0\0\0\0\0\0\0\0\0";
	struct tfile *tf = NULL;
	char err[128];
	char *big;
	size_t n = sizeof(frames) - 1, cut, good = 0;
	int r;

	ok(parse_str("\x7fTRACE1\nR 4\n\n", 13, &tf, err, sizeof(err)) == -EINVAL && !tf &&
		   strstr(err, "magic"),
	   "bad magic");
	ok(parse_str("\x7fTRACE0\n\n", 9, &tf, err, sizeof(err)) == -EINVAL &&
		   strstr(err, "R line"),
	   "no R line");
	ok(parse_str(HDR "R 0\n\n", 17, &tf, err, sizeof(err)) == -EINVAL, "R 0");
	ok(parse_str("\x7fTRACE0\nR 4x\n\n", 14, &tf, err, sizeof(err)) == -EINVAL, "R not hex");
	ok(parse_str("\x7fTRACE0\nR 123456789\n\n", 21, &tf, err, sizeof(err)) == -EINVAL,
	   "R too large");
	ok(parse_str(HDR, sizeof(HDR) - 1, &tf, err, sizeof(err)) == -EINVAL &&
		   strstr(err, "cut short"),
	   "header without its blank line");
	ok(parse_str(HDR "tp T1\0:x\n\n", sizeof(HDR) + 9, &tf, err, sizeof(err)) == -EINVAL,
	   "NUL byte in a line");
	big = malloc(TFILE_READ_MAX + 64);
	memcpy(big, HDR "tp ", sizeof(HDR) + 2);
	memset(big + sizeof(HDR) + 2, 'a', TFILE_READ_MAX + 10);
	memcpy(big + sizeof(HDR) + 2 + TFILE_READ_MAX + 10, "\n\n", 2);
	ok(tfile_parse((uint8_t *)big, sizeof(HDR) + 14 + TFILE_READ_MAX, &tf, err, sizeof(err)) ==
			   -EINVAL &&
		   strstr(err, "too long"),
	   "line longer than the reader's cap");
	free(big);
	r = parse_str(HDR "frobnicate 1\ntsv\n\n", sizeof(HDR) + 17, &tf, NULL, 0);
	ok(r == 0 && tf && tf->nignored == 2 && !tf->complete && tf->ntsvs == 0,
	   "unknown lines ignored and counted; no frames, no terminator");
	tfile_free(tf);
	r = parse_str(frames, n, &tf, NULL, 0);
	ok(r == 0 && tf->complete, "two frames and the terminator");
	tfile_free(tf);
	/* frames: 11 bytes, 6 bytes, terminator 4 (2 zero bytes are enough to end) */
	for (cut = sizeof(HDR); cut < n; cut++) {
		size_t l = cut - sizeof(HDR), want = l < 11 ? 0 : l < 17 ? 1 : 2;
		struct tracebuf_stats st;

		r = parse_str(frames, cut, &tf, NULL, 0);
		if (r == 0)
			tracebuf_stats(tf->tb, &st);
		if (r == 0 && st.frames == want && tf->complete == (l >= 19))
			good++;
		tfile_free(tf);
		tf = NULL;
	}
	ok(good == n - sizeof(HDR),
	   "cut anywhere in the frames: the whole frames before the cut are kept");
	r = parse_str(HDR "\n\1\0\5\0\0\0S1234\0\0", sizeof(HDR) + 13, &tf, err, sizeof(err));
	ok(r == -EINVAL && !tf && strstr(err, "frame"), "unknown block type in a frame");
	r = parse_str(HDR "\n\1\0\4\0\0\0R1234\0\0", sizeof(HDR) + 13, &tf, err, sizeof(err));
	ok(r == -EINVAL, "R block longer than its frame");
	r = parse_str(HDR "\n\0\0garbage", sizeof(HDR) + 9, &tf, NULL, 0);
	ok(r == 0 && tf->complete, "bytes after the terminator ignored");
	tfile_free(tf);
	ok(tfile_read("/nonexistent/f.tf", &tf, err, sizeof(err)) == -ENOENT && strstr(err, "f.tf"),
	   "missing file");
}

/* ---- helper modes for the e2e test ---- */

static void hex_of(const char *s, char *out)
{
	for (; *s; s++, out += 2)
		sprintf(out, "%02x", (unsigned char)*s);
	*out = '\0';
}

/* Three frames of tracepoint 1 at traced: full g block (rip = traced, rsp, rbp), the 4 bytes
 * of counter (10, 20, 30) and tsv 2 ($hits = 1, 2, 3). */
static int mode_write(const char *path, uint64_t traced, uint64_t counter)
{
	static char xml_buf[32768], tp_lines[5][200], at[32], h1[64], h2[64], h3[64];
	size_t g = x86_64_g_size(), i;
	struct tracebuf *tb = tracebuf_new(0);
	const char *tpv[5];
	struct tfile_header h = header("0;tstop::0;tframes:3;tcreated:3;tfree:4fe000;"
				       "tsize:500000;circular:0;disconn:0");
	struct tracebuf_builder b;
	uint8_t *p;
	int r;

	if (!tb || x86_64_target_xml(xml_buf, sizeof(xml_buf)) >= sizeof(xml_buf))
		return -ENOMEM;
	snprintf(at, sizeof(at), "*0x%llx", (unsigned long long)traced);
	hex_of(at, h1);
	hex_of("collect $regs", h2);
	hex_of("collect counter", h3);
	snprintf(tp_lines[0], 200, "T1:%016llx:E:0:0", (unsigned long long)traced);
	snprintf(tp_lines[1], 200, "Z1:%016llx:at:0:%zx:%s", (unsigned long long)traced,
		 strlen(h1) / 2, h1);
	snprintf(tp_lines[2], 200, "Z1:%016llx:cmd:0:%zx:%s", (unsigned long long)traced,
		 strlen(h2) / 2, h2);
	snprintf(tp_lines[3], 200, "Z1:%016llx:cmd:0:%zx:%s", (unsigned long long)traced,
		 strlen(h3) / 2, h3);
	snprintf(tp_lines[4], 200, "V1:%016llx:3:%x", (unsigned long long)traced, 3u);
	for (i = 0; i < 5; i++)
		tpv[i] = tp_lines[i];
	h.tps = tpv;
	h.ntps = 5;
	h.regs_size = g;
	h.tdesc = xml_buf;
	for (i = 1; i <= 3; i++) {
		if (tracebuf_begin(tb, 1, 200 + g, &b))
			return -ENOSPC;
		p = tracebuf_put_regs(&b, g);
		memset(p, 0, g);
		memcpy(p + 16 * 8, &traced, 8); /* rip */
		memcpy(p + 7 * 8, &(uint64_t){0x7ffc0000}, 8);
		memcpy(p + 6 * 8, &(uint64_t){0x7ffc0010}, 8);
		p = tracebuf_put_mem(&b, counter, 4);
		memcpy(p, &(uint32_t){(uint32_t)(10 * i)}, 4);
		tracebuf_put_tsv(&b, 2, (int64_t)i);
		tracebuf_commit(tb, &b);
	}
	r = tfile_write(path, &h, tb);
	tracebuf_free(tb);
	return r;
}

static int mode_dump(const char *path)
{
	struct tracebuf_frame fr;
	struct tracebuf_block blk;
	struct tracebuf_stats st;
	struct tfile *tf;
	char err[200];
	size_t off;
	uint64_t i;
	int r = tfile_read(path, &tf, err, sizeof(err));

	if (r) {
		fprintf(stderr, "%s\n", err);
		return r;
	}
	tracebuf_stats(tf->tb, &st);
	printf("regs %zu\nstatus %s\ntsvs %zu\ntps %zu\ntdesc %zu\nignored %zu\ncomplete %d\n"
	       "frames %llu\n",
	       tf->regs_size, tf->status ? tf->status : "-", tf->ntsvs, tf->ntps, tf->tdesc_len,
	       tf->nignored, tf->complete, (unsigned long long)st.frames);
	for (i = 0; !tracebuf_frame(tf->tb, i, &fr); i++) {
		printf("frame %llu tp %u size %u:", (unsigned long long)i, fr.tpnum, fr.size);
		for (off = 0; tracebuf_next_block(&fr, &off, &blk) > 0;)
			printf(" %c", blk.type);
		printf("\n");
	}
	tfile_free(tf);
	return 0;
}

static int mode_copy(const char *in, const char *out)
{
	struct tfile *tf;
	struct tfile_header h = {0};
	int r = tfile_read(in, &tf, NULL, 0);

	if (r)
		return r;
	h.regs_size = tf->regs_size;
	h.tdesc = tf->tdesc;
	h.status = tf->status;
	h.tsvs = (const char *const *)tf->tsvs;
	h.ntsvs = tf->ntsvs;
	h.tps = (const char *const *)tf->tps;
	h.ntps = tf->ntps;
	r = tfile_write(out, &h, tf->tb);
	tfile_free(tf);
	return r;
}

static int modes(int argc, char **argv)
{
	int r = -EINVAL;

	if (argc == 5 && !strcmp(argv[1], "--write"))
		r = mode_write(argv[2], strtoull(argv[3], NULL, 16), strtoull(argv[4], NULL, 16));
	else if (argc == 3 && !strcmp(argv[1], "--dump"))
		r = mode_dump(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "--copy"))
		r = mode_copy(argv[2], argv[3]);
	if (r)
		fprintf(stderr, "test_tfile %s: %s\n", argv[1], strerror(-r));
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return modes(argc, argv);
	test_write_exact();
	test_round_trip();
	test_incremental();
	test_header_checks();
	test_reader_errors();
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
