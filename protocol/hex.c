/* Strict hex/number codecs and binary escaping for RSP payloads. Never lenient:
 * a decoder that meets garbage reports -EINVAL instead of producing zeros. No
 * allocation. */
#include "protocol/hex.h"

#include <errno.h>
#include <string.h>

int rsp_hex_val(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rsp_hex_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
	if (in_len % 2)
		return -EINVAL;
	if (in_len / 2 > cap)
		return -ENOSPC;
	for (size_t i = 0; i < in_len; i += 2) {
		int hi = rsp_hex_val(in[i]), lo = rsp_hex_val(in[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*out_len = in_len / 2;
	return 0;
}

void rsp_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

int rsp_hex_scan_u64(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	const uint8_t *q = *p;
	uint64_t v = 0;
	int d;

	if (q >= end || rsp_hex_val(*q) < 0)
		return -EINVAL;
	while (q < end && (d = rsp_hex_val(*q)) >= 0) {
		if (v >> 60)
			return -ERANGE;
		v = v << 4 | (uint64_t)d;
		q++;
	}
	*p = q;
	*out = v;
	return 0;
}

int rsp_hex_scan_i64(const uint8_t **p, const uint8_t *end, int64_t *out)
{
	const uint8_t *q = *p;
	bool neg = false;
	uint64_t v;
	int rc;

	if (q < end && *q == '-') {
		neg = true;
		q++;
	}
	rc = rsp_hex_scan_u64(&q, end, &v);
	if (rc)
		return rc;
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*out = neg ? -(int64_t)v : (int64_t)v;
	*p = q;
	return 0;
}

int rsp_hex_parse_u64(const uint8_t *in, size_t len, uint64_t *out)
{
	const uint8_t *p = in;
	int rc = rsp_hex_scan_u64(&p, in + len, out);
	if (rc)
		return rc;
	return p == in + len ? 0 : -EINVAL;
}

int rsp_dec_parse_u64(const uint8_t *in, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (!len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (in[i] < '0' || in[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(in[i] - '0');
	}
	*out = v;
	return 0;
}

bool rsp_bin_needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

int rsp_bin_unescape(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		if (c == '}') {
			if (++i == len)
				return -EINVAL;
			c = in[i] ^ 0x20;
		}
		if (o == cap)
			return -ENOSPC;
		out[o++] = c;
	}
	*out_len = o;
	return 0;
}

size_t rsp_bin_escape(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *consumed)
{
	size_t o = 0, i;
	for (i = 0; i < len; i++) {
		if (rsp_bin_needs_escape(in[i])) {
			if (cap - o < 2)
				break;
			out[o++] = '}';
			out[o++] = in[i] ^ 0x20;
		} else {
			if (cap - o < 1)
				break;
			out[o++] = in[i];
		}
	}
	*consumed = i;
	return o;
}

const uint8_t *rsp_memchr(const uint8_t *p, const uint8_t *end, uint8_t c)
{
	if (p >= end)
		return NULL;
	return memchr(p, c, (size_t)(end - p));
}
