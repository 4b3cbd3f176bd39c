/* The trace buffer: one arena of frames in gdb's trace-file block encoding (PROTOCOL.md §5.1
 * item 3) and a ring of frame offsets for O(1) lookup by frame number. Frames are never
 * split: in circular mode a frame that does not fit before the arena end goes to the arena
 * start, after evicting the oldest frames it would overlap. The live frames are then
 * [head, wrap_end) followed by [0, tail); otherwise [head, tail). Allocates only in
 * tracebuf_new/tracebuf_resize; no I/O, no stub state. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#include "stub/tracefile/tracefile.h"

struct tracebuf {
	uint8_t *mem;
	size_t size;
	uint32_t *idx; /* arena offset of frame n at idx[(first + n) % idx_cap] */
	size_t idx_cap, first, count;
	size_t tail;	 /* where the next frame goes */
	size_t wrap_end; /* wrapped: end of the older segment */
	bool wrapped, circular, full, pending;
	bool prefaulted; /* tracebuf_prefault ran on this arena */
	size_t regs_size;
	uint64_t created, evicted;
};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int alloc_arena(size_t size, uint8_t **mem, uint32_t **idx, size_t *idx_cap)
{
	if (size == 0)
		size = TRACEBUF_DEFAULT_SIZE;
	/* Any size gdb can ask for (set trace-buffer-size 4): one smaller than a frame just
	 * holds none (linear: full at the first hit; circular: the frame is dropped). */
	if (size > UINT32_MAX)
		return -EINVAL;
	/* Every frame is at least its header: this many frames always fit in the index. */
	*idx_cap = size / TRACEBUF_FRAME_HDR + 1;
	*mem = malloc(size);
	*idx = malloc(*idx_cap * sizeof(**idx));
	if (!*mem || !*idx) {
		free(*mem);
		free(*idx);
		return -ENOMEM;
	}
	return 0;
}

struct tracebuf *tracebuf_new(size_t size)
{
	struct tracebuf *tb = calloc(1, sizeof(*tb));

	if (!tb)
		return NULL;
	if (alloc_arena(size, &tb->mem, &tb->idx, &tb->idx_cap)) {
		free(tb);
		return NULL;
	}
	tb->size = size ? size : TRACEBUF_DEFAULT_SIZE;
	return tb;
}

void tracebuf_free(struct tracebuf *tb)
{
	if (!tb)
		return;
	free(tb->mem);
	free(tb->idx);
	free(tb);
}

void tracebuf_prefault(struct tracebuf *tb)
{
	uintptr_t lo = ((uintptr_t)tb->mem + 4095) & ~(uintptr_t)4095,
		  hi = ((uintptr_t)tb->mem + tb->size) & ~(uintptr_t)4095;

	if (tb->prefaulted || hi <= lo)
		return;
	tb->prefaulted = true;
	/* MADV_POPULATE_WRITE (Linux 5.14); else one write per page */
	if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0)
		return;
	for (uintptr_t p = lo; p < hi; p += 4096)
		*(volatile uint8_t *)p = 0;
}

void tracebuf_clear(struct tracebuf *tb)
{
	tb->first = tb->count = 0;
	tb->tail = tb->wrap_end = 0;
	tb->wrapped = tb->full = tb->pending = false;
	tb->created = tb->evicted = 0;
}

int tracebuf_resize(struct tracebuf *tb, size_t size)
{
	uint8_t *mem;
	uint32_t *idx;
	size_t cap;
	int r = alloc_arena(size, &mem, &idx, &cap);

	if (r)
		return r;
	free(tb->mem);
	free(tb->idx);
	tb->prefaulted = false;
	tb->mem = mem;
	tb->idx = idx;
	tb->idx_cap = cap;
	tb->size = size ? size : TRACEBUF_DEFAULT_SIZE;
	tracebuf_clear(tb);
	return 0;
}

void tracebuf_set_circular(struct tracebuf *tb, bool on)
{
	tb->circular = on;
}

bool tracebuf_is_circular(const struct tracebuf *tb)
{
	return tb->circular;
}

int tracebuf_set_regs_size(struct tracebuf *tb, size_t len)
{
	if (tb->count && tb->regs_size && len != tb->regs_size)
		return -EBUSY;
	tb->regs_size = len;
	return 0;
}

size_t tracebuf_regs_size(const struct tracebuf *tb)
{
	return tb->regs_size;
}

bool tracebuf_is_full(const struct tracebuf *tb)
{
	return tb->full;
}

static size_t head(const struct tracebuf *tb)
{
	return tb->count ? tb->idx[tb->first] : tb->tail;
}

static size_t used(const struct tracebuf *tb)
{
	if (tb->wrapped)
		return tb->wrap_end - head(tb) + tb->tail;
	return tb->tail - head(tb);
}

void tracebuf_stats(const struct tracebuf *tb, struct tracebuf_stats *out)
{
	out->frames = tb->count;
	out->created = tb->created;
	out->evicted = tb->evicted;
	out->size = tb->size;
	out->used = used(tb);
	out->free = tb->size - out->used;
}

static void evict_oldest(struct tracebuf *tb)
{
	size_t old = head(tb);

	tb->first = (tb->first + 1) % tb->idx_cap;
	tb->count--;
	tb->evicted++;
	if (!tb->count) {
		tb->tail = tb->wrap_end = 0;
		tb->wrapped = false;
	} else if (tb->wrapped && head(tb) < old) {
		tb->wrapped = false; /* the older segment is gone */
	}
}

/* Where a frame of max bytes goes: its arena offset, evicting (circular) as needed, or
 * -ENOSPC. The wrap decision is taken here and stays even if the frame is aborted. */
static int place(struct tracebuf *tb, size_t max, size_t *at)
{
	for (;;) {
		if (!tb->count) {
			tb->tail = tb->wrap_end = 0;
			tb->wrapped = false;
		}
		if (!tb->wrapped && max <= tb->size - tb->tail)
			break;
		if (tb->wrapped && max <= head(tb) - tb->tail)
			break;
		if (!tb->circular)
			return -ENOSPC;
		if (!tb->wrapped && head(tb) >= max) {
			tb->wrapped = true;
			tb->wrap_end = tb->tail;
			tb->tail = 0;
			break;
		}
		evict_oldest(tb);
	}
	*at = tb->tail;
	return 0;
}

int tracebuf_begin(struct tracebuf *tb, uint16_t tpnum, size_t max, struct tracebuf_builder *b)
{
	size_t at;

	assert(!tb->pending);
	memset(b, 0, sizeof(*b));
	if (max < TRACEBUF_FRAME_HDR || !tpnum) /* tpnum 0 ends a trace file's frames */
		return -EINVAL;
	if (max > tb->size) {
		tb->full = !tb->circular;
		return -ENOSPC;
	}
	if (place(tb, max, &at)) {
		tb->full = true;
		return -ENOSPC;
	}
	b->base = tb->mem + at;
	b->cap = max;
	b->len = TRACEBUF_FRAME_HDR;
	b->regs_size = tb->regs_size;
	put_le(b->base, tpnum, 2);
	tb->pending = true;
	return 0;
}

/* n more bytes in the frame, or NULL (failed set) when they do not fit. */
static uint8_t *room(struct tracebuf_builder *b, size_t n)
{
	uint8_t *p;

	if (!b->base || n > b->cap - b->len) {
		b->failed = true;
		return NULL;
	}
	p = b->base + b->len;
	b->len += n;
	return p;
}

uint8_t *tracebuf_put_regs(struct tracebuf_builder *b, size_t len)
{
	uint8_t *p;

	if (!len || (b->regs_size && len != b->regs_size) || len == SIZE_MAX) {
		b->failed = true;
		return NULL;
	}
	p = room(b, 1 + len);
	if (!p)
		return NULL;
	p[0] = 'R';
	b->regs_size = len;
	return p + 1;
}

uint8_t *tracebuf_put_mem(struct tracebuf_builder *b, taddr_t addr, uint16_t len)
{
	uint8_t *p = room(b, TRACEBUF_MEM_HDR + (size_t)len);

	if (!p)
		return NULL;
	p[0] = 'M';
	put_le(p + 1, addr, 8);
	put_le(p + 9, len, 2);
	return p + TRACEBUF_MEM_HDR;
}

void tracebuf_trim_mem(struct tracebuf_builder *b, uint8_t *data, uint16_t len)
{
	uint8_t *hdr = data - TRACEBUF_MEM_HDR;
	uint16_t old;

	assert(b->base && hdr >= b->base + TRACEBUF_FRAME_HDR && hdr[0] == 'M');
	old = (uint16_t)get_le(hdr + 9, 2);
	assert(data + old == b->base + b->len); /* the last block */
	if (len >= old)
		return;
	put_le(hdr + 9, len, 2);
	b->len -= old - len;
}

int tracebuf_put_tsv(struct tracebuf_builder *b, int32_t num, int64_t value)
{
	uint8_t *p = room(b, TRACEBUF_TSV_BLOCK);

	if (!p)
		return -ENOSPC;
	p[0] = 'V';
	put_le(p + 1, (uint32_t)num, 4);
	put_le(p + 5, (uint64_t)value, 8);
	return 0;
}

uint64_t tracebuf_commit(struct tracebuf *tb, struct tracebuf_builder *b)
{
	assert(tb->pending && b->base == tb->mem + tb->tail && b->len <= b->cap);
	assert(tb->count < tb->idx_cap);
	put_le(b->base + 2, b->len - TRACEBUF_FRAME_HDR, 4);
	tb->idx[(tb->first + tb->count) % tb->idx_cap] = (uint32_t)tb->tail;
	tb->count++;
	tb->tail += b->len;
	tb->created++;
	tb->pending = false;
	if (!tb->regs_size)
		tb->regs_size = b->regs_size;
	b->base = NULL;
	return tb->count - 1;
}

void tracebuf_abort(struct tracebuf *tb, struct tracebuf_builder *b)
{
	tb->pending = false;
	b->base = NULL;
}

static size_t frame_at(const struct tracebuf *tb, uint64_t num)
{
	return tb->idx[(tb->first + num) % tb->idx_cap];
}

int tracebuf_frame(const struct tracebuf *tb, uint64_t num, struct tracebuf_frame *out)
{
	const uint8_t *p;

	if (num >= tb->count)
		return -ENOENT;
	p = tb->mem + frame_at(tb, num);
	out->num = num;
	out->tpnum = (uint16_t)get_le(p, 2);
	out->size = (uint32_t)get_le(p + 2, 4);
	out->blocks = p + TRACEBUF_FRAME_HDR;
	out->regs_size = tb->regs_size;
	return 0;
}

int tracebuf_frame_offset(const struct tracebuf *tb, uint64_t num, uint64_t *off)
{
	size_t at;

	if (num >= tb->count)
		return -ENOENT;
	at = frame_at(tb, num);
	if (tb->wrapped && at < head(tb))
		*off = tb->wrap_end - head(tb) + at;
	else
		*off = at - head(tb);
	return 0;
}

int tracebuf_next_block(const struct tracebuf_frame *fr, size_t *off, struct tracebuf_block *out)
{
	const uint8_t *p = fr->blocks + *off;
	size_t left, need;

	if (*off == fr->size)
		return 0;
	if (*off > fr->size)
		return -EINVAL;
	left = fr->size - *off;
	memset(out, 0, sizeof(*out));
	out->type = (char)p[0];
	switch (p[0]) {
	case 'R':
		if (!fr->regs_size || fr->regs_size > left - 1)
			return -EINVAL;
		out->data = p + 1;
		out->len = fr->regs_size;
		need = 1 + out->len;
		break;
	case 'M':
		if (left < TRACEBUF_MEM_HDR)
			return -EINVAL;
		out->addr = get_le(p + 1, 8);
		out->len = (size_t)get_le(p + 9, 2);
		out->data = p + TRACEBUF_MEM_HDR;
		need = TRACEBUF_MEM_HDR + out->len;
		if (need > left)
			return -EINVAL;
		break;
	case 'V':
		if (left < TRACEBUF_TSV_BLOCK)
			return -EINVAL;
		out->tsv = (int32_t)(uint32_t)get_le(p + 1, 4);
		out->value = (int64_t)get_le(p + 5, 8);
		need = TRACEBUF_TSV_BLOCK;
		break;
	default:
		return -EINVAL;
	}
	*off += need;
	return 1;
}

int tracebuf_frame_mem(const struct tracebuf_frame *fr, taddr_t addr, uint8_t *buf, size_t len,
		       size_t *done)
{
	struct tracebuf_block blk;
	size_t off = 0, n;
	int r;

	*done = 0;
	while ((r = tracebuf_next_block(fr, &off, &blk)) > 0) {
		if (blk.type != 'M' || addr - blk.addr >= blk.len) /* wraps when addr < start */
			continue;
		n = blk.len - (size_t)(addr - blk.addr);
		if (n > len)
			n = len;
		memcpy(buf, blk.data + (addr - blk.addr), n);
		*done = n;
		return 0;
	}
	return r < 0 ? r : -EIO;
}

int tracebuf_frame_tsv(const struct tracebuf_frame *fr, int32_t num, int64_t *value)
{
	struct tracebuf_block blk;
	size_t off = 0;
	bool found = false;
	int r;

	while ((r = tracebuf_next_block(fr, &off, &blk)) > 0) {
		if (blk.type == 'V' && blk.tsv == num) {
			*value = blk.value;
			found = true;
		}
	}
	if (r < 0)
		return r;
	return found ? 0 : -ENOENT;
}

int tracebuf_frame_regs(const struct tracebuf_frame *fr, const uint8_t **regs, size_t *len)
{
	struct tracebuf_block blk;
	size_t off = 0;
	int r;

	while ((r = tracebuf_next_block(fr, &off, &blk)) > 0) {
		if (blk.type == 'R') {
			*regs = blk.data;
			*len = blk.len;
			return 0;
		}
	}
	return r < 0 ? r : -ENOENT;
}

int tracebuf_read(const struct tracebuf *tb, uint64_t off, uint8_t *buf, size_t len, size_t *done)
{
	size_t h = head(tb), seg1 = (tb->wrapped ? tb->wrap_end : tb->tail) - h;
	size_t total = used(tb), n;

	*done = 0;
	if (off > total)
		return -EINVAL;
	if (len > total - off)
		len = total - (size_t)off;
	while (len) {
		if (off < seg1) {
			n = seg1 - (size_t)off < len ? seg1 - (size_t)off : len;
			memcpy(buf, tb->mem + h + off, n);
		} else {
			n = len; /* wrapped: the rest is in [0, tail) */
			memcpy(buf, tb->mem + (off - seg1), n);
		}
		buf += n;
		off += n;
		len -= n;
		*done += n;
	}
	return 0;
}

/* Check one frame of the stream at *off and step over it. */
static int check_frame(const uint8_t *stream, size_t len, size_t *off, size_t regs_size)
{
	struct tracebuf_frame fr;
	struct tracebuf_block blk;
	size_t boff = 0;
	int r;

	if (len - *off < TRACEBUF_FRAME_HDR)
		return -EINVAL;
	fr.tpnum = (uint16_t)get_le(stream + *off, 2);
	fr.size = (uint32_t)get_le(stream + *off + 2, 4);
	if (!fr.tpnum || fr.size > len - *off - TRACEBUF_FRAME_HDR)
		return -EINVAL;
	fr.blocks = stream + *off + TRACEBUF_FRAME_HDR;
	fr.regs_size = regs_size;
	while ((r = tracebuf_next_block(&fr, &boff, &blk)) > 0)
		;
	if (r < 0)
		return r;
	*off += TRACEBUF_FRAME_HDR + fr.size;
	return 0;
}

int tracebuf_load(struct tracebuf *tb, const uint8_t *stream, size_t len)
{
	size_t off = 0;
	int r;

	tracebuf_clear(tb);
	if (len > tb->size)
		return -ENOSPC;
	while (off < len) {
		assert(tb->count < tb->idx_cap);
		tb->idx[tb->count] = (uint32_t)off;
		r = check_frame(stream, len, &off, tb->regs_size);
		if (r) {
			tracebuf_clear(tb);
			return r;
		}
		tb->count++;
	}
	if (len)
		memcpy(tb->mem, stream, len);
	tb->tail = len;
	tb->created = tb->count;
	return 0;
}
