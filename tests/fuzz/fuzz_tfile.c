/* libFuzzer entry point: arbitrary bytes through the trace-file reader (tfile_parse), and the
 * same bytes as a raw frame stream through tracebuf_load. Checks the reader's promises on
 * success (R size in range, NUL-terminated strings, the frames' blocks well formed, the stream
 * equal to the frames, lookups inside the frame) and that failure leaves nothing behind. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stub/tracefile/tracefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct tracebuf_frame *fr, const uint8_t *data, size_t size)
{
	struct tracebuf_block blk;
	uint8_t buf[64];
	const uint8_t *regs;
	size_t off = 0, done, len;
	int64_t v;
	int r;

	while ((r = tracebuf_next_block(fr, &off, &blk)) > 0) {
		if (off > fr->size || (blk.type != 'R' && blk.type != 'M' && blk.type != 'V'))
			abort();
		if (blk.type == 'M' && blk.len) { /* served by this block or an earlier one */
			r = tracebuf_frame_mem(fr, blk.addr, buf, sizeof(buf), &done);
			if (r || done == 0 || done > sizeof(buf))
				abort();
		}
		if (blk.type == 'V' && tracebuf_frame_tsv(fr, blk.tsv, &v))
			abort();
		if (blk.type == 'R' &&
		    (tracebuf_frame_regs(fr, &regs, &len) || len != fr->regs_size))
			abort();
	}
	if (r < 0)
		abort(); /* the reader validated every frame */
	if (size >= 8) {
		uint64_t addr;

		memcpy(&addr, data, 8);
		r = tracebuf_frame_mem(fr, addr, buf, sizeof(buf), &done);
		if ((r && r != -EIO) || done > sizeof(buf))
			abort();
	}
}

static void check_file(const struct tfile *tf, const uint8_t *data, size_t size)
{
	struct tracebuf_frame fr;
	struct tracebuf_stats st;
	static uint8_t stream[1 << 16];
	char val[16];
	size_t i, n = 0, done;
	uint64_t off;

	if (!tf->regs_size || tf->regs_size > TFILE_REGS_MAX ||
	    tracebuf_regs_size(tf->tb) != tf->regs_size)
		abort();
	if (tf->tdesc && strlen(tf->tdesc) != tf->tdesc_len)
		abort();
	for (i = 0; i < tf->ntps; i++)
		if (strchr(tf->tps[i], '\n'))
			abort();
	for (i = 0; i < tf->ntsvs; i++)
		if (strchr(tf->tsvs[i], '\n'))
			abort();
	if (tf->status && strstr(tf->status, ";tspad:"))
		abort();
	(void)tfile_status_field(tf, "tframes", val, sizeof(val));
	(void)tfile_status_field(tf, "", val, 1);
	tracebuf_stats(tf->tb, &st);
	if (st.used > size)
		abort();
	for (i = 0; !tracebuf_frame(tf->tb, i, &fr); i++) {
		if (!fr.tpnum || tracebuf_frame_offset(tf->tb, i, &off) || off != n)
			abort();
		n += TRACEBUF_FRAME_HDR + fr.size;
		check_frame(&fr, data, size);
	}
	if (i != st.frames || n != st.used)
		abort();
	if (st.used <= sizeof(stream) &&
	    (tracebuf_read(tf->tb, 0, stream, sizeof(stream), &done) || done != st.used))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tfile *tf = (struct tfile *)1;
	struct tracebuf *tb;
	char err[128];
	int r;

	r = tfile_parse(data, size, &tf, err, sizeof(err));
	if (r) {
		if (tf || (r != -EINVAL && r != -ENOMEM && r != -EFBIG) || !memchr(err, 0, 128) ||
		    !err[0])
			abort();
	} else {
		check_file(tf, data, size);
		tfile_free(tf);
	}
	/* The raw bytes as a frame stream, R size from the first byte. */
	tb = tracebuf_new(size > 64 ? size : 64);
	if (!tb)
		return 0;
	tracebuf_set_regs_size(tb, size ? data[0] : 0);
	r = tracebuf_load(tb, data, size);
	if (r && r != -EINVAL)
		abort();
	if (!r) {
		struct tracebuf_frame fr;
		uint64_t i;

		for (i = 0; !tracebuf_frame(tb, i, &fr); i++)
			check_frame(&fr, data, size);
	}
	tracebuf_free(tb);
	return 0;
}
