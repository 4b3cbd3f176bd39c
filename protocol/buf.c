/* Fixed-capacity reply builder. Owns no memory; never writes past cap. */
#include "protocol/buf.h"

#include <errno.h>
#include <string.h>

#include "protocol/hex.h"

void rsp_buf_init(struct rsp_buf *b, uint8_t *mem, size_t cap)
{
	b->data = mem;
	b->cap = cap;
	b->len = 0;
	b->overflow = false;
}

void rsp_buf_reset(struct rsp_buf *b)
{
	b->len = 0;
	b->overflow = false;
}

size_t rsp_buf_room(const struct rsp_buf *b)
{
	return b->cap - b->len;
}

int rsp_buf_put(struct rsp_buf *b, const void *p, size_t n)
{
	if (n > b->cap - b->len) {
		b->overflow = true;
		return -ENOSPC;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int rsp_buf_puts(struct rsp_buf *b, const char *s)
{
	return rsp_buf_put(b, s, strlen(s));
}

int rsp_buf_putc(struct rsp_buf *b, char c)
{
	return rsp_buf_put(b, &c, 1);
}

int rsp_buf_hex(struct rsp_buf *b, const uint8_t *p, size_t n)
{
	if (n > (b->cap - b->len) / 2) {
		b->overflow = true;
		return -ENOSPC;
	}
	rsp_hex_encode(p, n, (char *)b->data + b->len);
	b->len += 2 * n;
	return 0;
}

int rsp_buf_hex_str(struct rsp_buf *b, const char *s)
{
	return rsp_buf_hex(b, (const uint8_t *)s, strlen(s));
}

int rsp_buf_hex_u64_w(struct rsp_buf *b, uint64_t v, unsigned width)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	unsigned n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	if (width > 16)
		width = 16;
	while (n < width)
		tmp[n++] = '0';
	if (n > b->cap - b->len) {
		b->overflow = true;
		return -ENOSPC;
	}
	while (n)
		b->data[b->len++] = (uint8_t)tmp[--n];
	return 0;
}

int rsp_buf_hex_u64(struct rsp_buf *b, uint64_t v)
{
	return rsp_buf_hex_u64_w(b, v, 1);
}

int rsp_buf_hex_i64(struct rsp_buf *b, int64_t v)
{
	if (v >= 0)
		return rsp_buf_hex_u64(b, (uint64_t)v);
	if (rsp_buf_room(b) < 2) {
		b->overflow = true;
		return -ENOSPC;
	}
	size_t save = b->len;
	rsp_buf_putc(b, '-');
	if (rsp_buf_hex_u64(b, -(uint64_t)v)) {
		b->len = save;
		return -ENOSPC;
	}
	return 0;
}

int rsp_buf_dec_u64(struct rsp_buf *b, uint64_t v)
{
	char tmp[20];
	unsigned n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (n > b->cap - b->len) {
		b->overflow = true;
		return -ENOSPC;
	}
	while (n)
		b->data[b->len++] = (uint8_t)tmp[--n];
	return 0;
}

int rsp_buf_dec_i64(struct rsp_buf *b, int64_t v)
{
	if (v >= 0)
		return rsp_buf_dec_u64(b, (uint64_t)v);
	size_t save = b->len;
	if (rsp_buf_putc(b, '-') || rsp_buf_dec_u64(b, -(uint64_t)v)) {
		b->len = save;
		return -ENOSPC;
	}
	return 0;
}

void rsp_buf_bin(struct rsp_buf *b, const uint8_t *p, size_t n, size_t *consumed)
{
	b->len += rsp_bin_escape(p, n, b->data + b->len, b->cap - b->len, consumed);
}

int rsp_buf_bin_all(struct rsp_buf *b, const uint8_t *p, size_t n)
{
	size_t save = b->len, used;
	rsp_buf_bin(b, p, n, &used);
	if (used != n) {
		b->len = save;
		b->overflow = true;
		return -ENOSPC;
	}
	return 0;
}
