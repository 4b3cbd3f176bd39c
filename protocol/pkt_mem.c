/* Memory packets: m M X x (lldb's binary read), qMemoryRegionInfo, _M _m, qCRC.
 */
#include <errno.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/internal.h"

static int h_m(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	uint64_t addr, len;
	size_t done = 0;
	int rc;

	if (rsp_parse_addr_len(&p, end, &addr, &len) || p != end)
		return -EINVAL;
	/* Short replies are allowed: the client asks again for the rest. */
	if (len > rsp_buf_room(&s->reply) / 2)
		len = rsp_buf_room(&s->reply) / 2;
	if (len > s->scratch_cap)
		len = s->scratch_cap;
	if (!len)
		return 0;
	rc = s->ops->read_mem(s->t, addr, s->scratch, (size_t)len, &done);
	if (rc && !done)
		return rc;
	if (!done)
		return -EIO;
	return rsp_buf_hex(&s->reply, s->scratch, done);
}

static int h_M(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	uint64_t addr, len;
	size_t got;
	int rc;

	if (rsp_parse_addr_len(&p, end, &addr, &len) || p >= end || *p != ':')
		return -EINVAL;
	p++;
	if ((size_t)(end - p) != 2 * len ||
	    rsp_hex_decode(p, (size_t)(end - p), s->scratch, s->scratch_cap, &got))
		return -EINVAL;
	rc = len ? s->ops->write_mem(s->t, addr, s->scratch, got) : 0;
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

static int h_X(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	uint64_t addr, len;
	size_t got;
	int rc;

	if (rsp_parse_addr_len(&p, end, &addr, &len) || p >= end || *p != ':')
		return -EINVAL;
	p++;
	if (rsp_bin_unescape(p, (size_t)(end - p), s->scratch, s->scratch_cap, &got) || got != len)
		return -EINVAL;
	/* gdb probes X support with a zero-length write. */
	rc = len ? s->ops->write_mem(s->t, addr, s->scratch, got) : 0;
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

static int h_x(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	uint64_t addr, len;
	size_t done = 0, used;
	int rc;

	if (rsp_parse_addr_len(&p, end, &addr, &len) || p != end)
		return -EINVAL;
	/* lldb probes with x0,0 and expects OK. */
	if (!len)
		return rsp_buf_puts(&s->reply, "OK");
	if (len > rsp_buf_room(&s->reply) / 2)
		len = rsp_buf_room(&s->reply) / 2;
	rc = s->ops->read_mem(s->t, addr, s->scratch, (size_t)len, &done);
	if (rc && !done)
		return rc;
	/* Whole or nothing, as lldb-server 14: lldb <= 16's memory cache copies past its buffer
	 * when a cache-line read comes back short (fixed in LLVM 17, D145624), and a replay's
	 * recorded windows end anywhere in a line. */
	if (done < len)
		return -EIO;
	rsp_buf_bin(&s->reply, s->scratch, done, &used);
	return 0;
}

static int h_region(struct rsp_session *s, const uint8_t *a, size_t n)
{
	struct rsp_region_info ri;
	uint64_t addr;
	int rc;
	struct rsp_buf *b = &s->reply;

	if (!n)
		return rsp_buf_puts(b, "OK"); /* lldb's support probe */
	if (a[0] != ':' || rsp_hex_parse_u64(a + 1, n - 1, &addr))
		return -EINVAL;
	memset(&ri, 0, sizeof(ri));
	rc = s->ops->region_info(s->t, addr, &ri);
	if (rc)
		return rc;
	rsp_buf_puts(b, "start:");
	rsp_buf_hex_u64(b, ri.start);
	rsp_buf_puts(b, ";size:");
	rsp_buf_hex_u64(b, ri.size);
	rsp_buf_putc(b, ';');
	if (ri.mapped) {
		rsp_buf_puts(b, "permissions:");
		if (ri.r)
			rsp_buf_putc(b, 'r');
		if (ri.w)
			rsp_buf_putc(b, 'w');
		if (ri.x)
			rsp_buf_putc(b, 'x');
		rsp_buf_putc(b, ';');
		ri.name[sizeof(ri.name) - 1] = 0;
		if (ri.name[0]) {
			rsp_buf_puts(b, "name:");
			rsp_buf_hex_str(b, ri.name);
			rsp_buf_putc(b, ';');
		}
	}
	return 0;
}

static int h_alloc(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	uint64_t size;
	bool r = false, w = false, x = false;
	taddr_t addr;
	int rc;

	if (rsp_hex_scan_u64(&p, end, &size) || p >= end || *p++ != ',')
		return -EINVAL;
	for (; p < end; p++) {
		if (*p == 'r')
			r = true;
		else if (*p == 'w')
			w = true;
		else if (*p == 'x')
			x = true;
		else
			return -EINVAL;
	}
	rc = s->ops->alloc_mem(s->t, size, r, w, x, &addr);
	return rc ? rc : rsp_buf_hex_u64(&s->reply, addr);
}

static int h_free(struct rsp_session *s, const uint8_t *a, size_t n)
{
	uint64_t addr;
	int rc;
	if (rsp_hex_parse_u64(a, n, &addr))
		return -EINVAL;
	rc = s->ops->free_mem(s->t, addr);
	return rc ? rc : rsp_buf_puts(&s->reply, "OK");
}

/* gdb's CRC-32 (compare-sections): polynomial 0x04c11db7, MSB first, initial
 * 0xffffffff, no final inversion. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 24;
		for (int k = 0; k < 8; k++)
			crc = crc & 0x80000000u ? crc << 1 ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

static int h_crc(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	uint64_t addr, len;
	uint32_t crc = 0xffffffffu;

	if (rsp_parse_addr_len(&p, end, &addr, &len) || p != end)
		return -EINVAL;
	while (len) {
		size_t chunk = len < s->scratch_cap ? (size_t)len : s->scratch_cap, done = 0;
		int rc = s->ops->read_mem(s->t, addr, s->scratch, chunk, &done);
		if (rc || done != chunk)
			return rc ? rc : -EIO;
		crc = crc32_update(crc, s->scratch, chunk);
		addr += chunk;
		len -= chunk;
	}
	rsp_buf_putc(&s->reply, 'C');
	return rsp_buf_hex_u64(&s->reply, crc);
}

/* qSearch:memory:ADDR;LEN;PATTERN(hex) -> "1,ADDR" found, "0" not found. Reads in
 * chunks that overlap by the pattern length so matches across chunks are seen. */
static int h_search(struct rsp_session *s, const uint8_t *a, size_t n)
{
	const uint8_t *p = a, *end = a + n;
	uint64_t addr, len;
	size_t plen, half = s->scratch_cap / 2;
	uint8_t *pat = s->scratch + half;

	if (rsp_hex_scan_u64(&p, end, &addr) || p >= end || *p++ != ';' ||
	    rsp_hex_scan_u64(&p, end, &len) || p >= end || *p++ != ';' ||
	    rsp_hex_decode(p, (size_t)(end - p), pat, half, &plen) || !plen || plen > half / 2)
		return -EINVAL;
	while (len >= plen) {
		size_t chunk = len < half ? (size_t)len : half, done = 0;
		int rc = s->ops->read_mem(s->t, addr, s->scratch, chunk, &done);
		if (rc || !done)
			return rc ? rc : -EIO;
		for (size_t i = 0; i + plen <= done; i++) {
			if (!memcmp(s->scratch + i, pat, plen)) {
				rsp_buf_puts(&s->reply, "1,");
				return rsp_buf_hex_u64(&s->reply, addr + i);
			}
		}
		if (done < plen || done == len)
			break;
		addr += done - plen + 1;
		len -= done - plen + 1;
	}
	return rsp_buf_putc(&s->reply, '0');
}

const struct rsp_packet_def rsp_pkts_mem[] = {
	{"qSearch:memory:", RSP_MATCH_PREFIX, h_search, RSP_OP(read_mem), NULL, NULL},
	{"m", RSP_MATCH_PREFIX, h_m, RSP_OP(read_mem), NULL, NULL},
	{"M", RSP_MATCH_PREFIX, h_M, RSP_OP(write_mem), NULL, NULL},
	{"X", RSP_MATCH_PREFIX, h_X, RSP_OP(write_mem), NULL, NULL},
	{"x", RSP_MATCH_PREFIX, h_x, RSP_OP(read_mem), NULL, NULL},
	{"qMemoryRegionInfo", RSP_MATCH_PREFIX, h_region, RSP_OP(region_info), NULL, NULL},
	{"_M", RSP_MATCH_PREFIX, h_alloc, RSP_OP(alloc_mem), NULL, NULL},
	{"_m", RSP_MATCH_PREFIX, h_free, RSP_OP(free_mem), NULL, NULL},
	{"qCRC:", RSP_MATCH_PREFIX, h_crc, RSP_OP(read_mem), NULL, NULL},
	{NULL, 0, NULL, 0, NULL, NULL},
};
