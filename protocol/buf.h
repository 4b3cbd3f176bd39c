/* A reply builder over caller-owned memory with a fixed capacity. Appends are
 * all-or- nothing: a failed append sets `overflow` and leaves the contents
 * untouched, so nothing is ever written past the capacity. */
#ifndef TRACESTUB_PROTOCOL_BUF_H
#define TRACESTUB_PROTOCOL_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rsp_buf {
	uint8_t *data;
	size_t len, cap;
	bool overflow;
};

/* mem (cap bytes) is borrowed. */
void rsp_buf_init(struct rsp_buf *b, uint8_t *mem, size_t cap);
void rsp_buf_reset(struct rsp_buf *b);
size_t rsp_buf_room(const struct rsp_buf *b);

/* Each returns 0, or -ENOSPC (and sets overflow) if the whole item does not
 * fit. */
int rsp_buf_put(struct rsp_buf *b, const void *p, size_t n);
int rsp_buf_puts(struct rsp_buf *b, const char *s);
int rsp_buf_putc(struct rsp_buf *b, char c);
/* n bytes as 2n hex chars. */
int rsp_buf_hex(struct rsp_buf *b, const uint8_t *p, size_t n);
/* A C string as hex of its bytes. */
int rsp_buf_hex_str(struct rsp_buf *b, const char *s);
/* A number in hex without padding ("0" for zero). */
int rsp_buf_hex_u64(struct rsp_buf *b, uint64_t v);
/* A signed number in hex ("-1"). */
int rsp_buf_hex_i64(struct rsp_buf *b, int64_t v);
/* A number in hex, zero-padded to at least width digits. */
int rsp_buf_hex_u64_w(struct rsp_buf *b, uint64_t v, unsigned width);
/* Decimal. */
int rsp_buf_dec_u64(struct rsp_buf *b, uint64_t v);
int rsp_buf_dec_i64(struct rsp_buf *b, int64_t v);
/* Escaped binary: as many whole bytes as fit; *consumed = input bytes written
 * (may be fewer than n; never sets overflow). */
void rsp_buf_bin(struct rsp_buf *b, const uint8_t *p, size_t n, size_t *consumed);
/* Escaped binary, all or nothing (-ENOSPC). */
int rsp_buf_bin_all(struct rsp_buf *b, const uint8_t *p, size_t n);

#endif
