/* Strict hex and number codecs and the RSP binary escape. Pure functions over
 * (ptr, len): garbage, odd lengths and overflow are rejected, never turned into
 * zeros. */
#ifndef TRACESTUB_PROTOCOL_HEX_H
#define TRACESTUB_PROTOCOL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value of one hex digit (either case), or -1. */
int rsp_hex_val(uint8_t c);

/* Decode exactly in_len hex chars into out (cap bytes). *out_len = in_len / 2.
 * Returns 0, -EINVAL for odd length or a non-hex char, -ENOSPC if out is too
 * small. */
int rsp_hex_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len);

/* Write 2 * len lower-case hex chars to out (not NUL-terminated). */
void rsp_hex_encode(const uint8_t *in, size_t len, char *out);

/* The whole span must be 1..16 hex digits (leading zeros allowed beyond 16).
 * Returns 0, -EINVAL (empty / garbage) or -ERANGE (does not fit 64 bits). */
int rsp_hex_parse_u64(const uint8_t *in, size_t len, uint64_t *out);

/* Scan a hex number at *p (before end); stops at the first non-hex char and
 * advances *p. At least one digit. Returns 0, -EINVAL or -ERANGE. */
int rsp_hex_scan_u64(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Like rsp_hex_scan_u64 but accepts a leading '-' ("-1" means all threads). */
int rsp_hex_scan_i64(const uint8_t **p, const uint8_t *end, int64_t *out);

/* Decimal variant of rsp_hex_parse_u64 (lldb save ids). */
int rsp_dec_parse_u64(const uint8_t *in, size_t len, uint64_t *out);

/* True if the byte must be escaped in binary data: # $ } and * . */
bool rsp_bin_needs_escape(uint8_t c);

/* Undo `}`-escaping (`}` x -> x ^ 0x20). out may equal in (decodes in place).
 * Returns 0, -EINVAL for a trailing lone `}`, -ENOSPC if out is too small. */
int rsp_bin_unescape(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* Escape as many whole input bytes as fit in cap output bytes. *consumed =
 * input bytes used. Returns the number of output bytes written. */
size_t rsp_bin_escape(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *consumed);

/* Find byte c in [p, end); returns a pointer to it or NULL. */
const uint8_t *rsp_memchr(const uint8_t *p, const uint8_t *end, uint8_t c);

#endif
