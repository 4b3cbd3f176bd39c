/* The link-address view of the frame stream. gdb opens a trace file (`target tfile`) without
 * auxv or a library list, so a PIE executable sits at its link addresses there while the
 * frames hold run-time ones: rip and the addresses of memory blocks inside the executable are
 * moved back by the load bias when the stream leaves for a file (qTBuffer for gdb's tsave,
 * QTSave). Register and memory contents are not touched: values stay what the program had.
 * The bias itself is kept in the file's status line (tfile.h) for replay. */
#include "stub/tracepoints/internal.h"

#include <string.h>

#include "arch/x86_64/regs.h"
#include "stub/live/live.h"
#include "stub/tracefile/tracefile.h"

void tpoints_note_exe(struct tpoints *tr)
{
	tr->exe_bias = tr->exe_lo = tr->exe_hi = 0;
	if (live_exec_bias(tr->l, &tr->exe_bias) || !tr->exe_bias ||
	    live_exec_span(tr->l, &tr->exe_lo, &tr->exe_hi))
		tr->exe_bias = 0;
}

/* Write the 8-byte field at stream offset at (value v) into the part of it that lies in
 * buf = stream [off, off+len). */
static void patch(uint64_t off, uint8_t *buf, size_t len, uint64_t at, uint64_t v)
{
	uint8_t b[8];

	memcpy(b, &v, 8);
	for (unsigned i = 0; i < 8; i++)
		if (at + i >= off && at + i < off + len)
			buf[at + i - off] = b[i];
}

static bool relocatable(const struct tpoints *tr, uint64_t a, uint64_t *out)
{
	if (a < tr->exe_bias + tr->exe_lo || a >= tr->exe_bias + tr->exe_hi)
		return false;
	*out = a - tr->exe_bias;
	return true;
}

/* First frame whose bytes end after off (frames are in stream order). */
static uint64_t first_frame(const struct tracebuf *tb, uint64_t nframes, uint64_t off)
{
	uint64_t lo = 0, hi = nframes;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2, start = 0;

		if (tracebuf_frame_offset(tb, mid, &start) || start <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : 0;
}

void tpoints_link_view(struct tpoints *tr, uint64_t off, uint8_t *buf, size_t len)
{
	size_t rip_off = tr->layout->regs[X86_64_RIP].offset;
	struct tracebuf_stats st;

	if (!tr->exe_bias || !len)
		return;
	tracebuf_stats(tr->tb, &st);
	for (uint64_t n = first_frame(tr->tb, st.frames, off); n < st.frames; n++) {
		struct tracebuf_frame fr;
		struct tracebuf_block blk;
		uint64_t start, blocks;
		size_t boff = 0;

		if (tracebuf_frame_offset(tr->tb, n, &start) || start >= off + len ||
		    tracebuf_frame(tr->tb, n, &fr))
			break;
		blocks = start + TRACEBUF_FRAME_HDR;
		while (tracebuf_next_block(&fr, &boff, &blk) == 1) {
			uint64_t at = blocks + (uint64_t)(blk.data - fr.blocks), v, nv;

			if (blk.type == 'R' && blk.len >= rip_off + 8) {
				memcpy(&v, blk.data + rip_off, 8);
				if (relocatable(tr, v, &nv))
					patch(off, buf, len, at + rip_off, nv);
			} else if (blk.type == 'M' && relocatable(tr, blk.addr, &nv)) {
				patch(off, buf, len, at - 10,
				      nv); /* 'M', u64 addr, u16 len, bytes */
			}
		}
	}
}
