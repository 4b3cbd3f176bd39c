/* The link-address view of a trace for replay (replay_view.h): the frame stream copied out,
 * patched in place through the block offsets tracebuf gives, loaded into a new buffer. */
#include "stub/replay/view.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stub/tracefile/tracefile.h"

struct span {
	uint64_t bias, lo, hi;
};

static void move_word(const struct span *s, uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	if (v >= s->bias + s->lo && v < s->bias + s->hi) {
		v -= s->bias;
		memcpy(p, &v, 8);
	}
}

/* Patch one frame's blocks; at = the frame's blocks in the copied stream. */
static int patch_frame(const struct span *s, const struct tracebuf_frame *fr, uint8_t *at,
		       size_t rip_off)
{
	struct tracebuf_block b;
	size_t off = 0;
	int rc;

	while ((rc = tracebuf_next_block(fr, &off, &b)) == 1) {
		uint8_t *data = at + (b.data - fr->blocks);

		if (b.type == 'R') {
			for (size_t r = 0; r <= rip_off && r + 8 <= b.len; r += 8)
				move_word(s, data + r);
		} else if (b.type == 'M') {
			/* words aligned by address, as the program stored them */
			for (size_t i = (8 - (b.addr & 7)) & 7; i + 8 <= b.len; i += 8)
				move_word(s, data + i);
			move_word(s, data - 10); /* 'M', u64 addr, u16 len, bytes */
		}
	}
	return rc;
}

struct tracebuf *replay_view_link(const struct tracebuf *tb, size_t rip_off, uint64_t bias,
				  uint64_t lo, uint64_t hi)
{
	const struct span s = {bias, lo, hi};
	struct tracebuf_stats st;
	struct tracebuf *out = NULL;
	uint8_t *stream;
	size_t done = 0;
	bool ok;

	tracebuf_stats(tb, &st);
	stream = malloc(st.used ? st.used : 1);
	ok = stream && tracebuf_read(tb, 0, stream, st.used, &done) == 0 && done == st.used;
	for (uint64_t n = 0; ok && bias && n < st.frames; n++) {
		struct tracebuf_frame fr;
		uint64_t start;

		ok = !tracebuf_frame(tb, n, &fr) && !tracebuf_frame_offset(tb, n, &start) &&
		     patch_frame(&s, &fr, stream + start + TRACEBUF_FRAME_HDR, rip_off) == 0;
	}
	if (ok)
		out = tracebuf_new(st.used + TRACEBUF_FRAME_HDR);
	if (out && (tracebuf_set_regs_size(out, tracebuf_regs_size(tb)) ||
		    tracebuf_load(out, stream, st.used))) {
		tracebuf_free(out);
		out = NULL;
	}
	free(stream);
	return out;
}
