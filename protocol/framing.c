/* RSP framing (PROTOCOL.md 1.1): `$payload#cs`, acks, the interrupt byte and
 * resync after garbage. Binary payloads may contain 0x03 and (escaped) `#`/`$`,
 * so the byte following
 * `}` is always payload. Owns no memory; never reads the network. */
#include "protocol/framing.h"

#include "protocol/hex.h"

enum { ST_IDLE, ST_DATA, ST_CS1, ST_CS2 };

void rsp_framer_init(struct rsp_framer *f, uint8_t *buf, size_t cap)
{
	*f = (struct rsp_framer){.pkt = buf, .cap = cap, .state = ST_IDLE};
}

const uint8_t *rsp_framer_packet(const struct rsp_framer *f, size_t *len)
{
	*len = f->len;
	return f->pkt;
}

static void start_packet(struct rsp_framer *f)
{
	f->state = ST_DATA;
	f->len = 0;
	f->sum = 0;
	f->escape = false;
	f->overflow = false;
}

static enum rsp_frame_event idle_byte(struct rsp_framer *f, uint8_t c)
{
	switch (c) {
	case '$':
		start_packet(f);
		return RSP_FRAME_NONE;
	case 0x03:
		f->stats.interrupts++;
		return RSP_FRAME_INTERRUPT;
	case '+':
		return RSP_FRAME_ACK;
	case '-':
		f->stats.nacks++;
		return RSP_FRAME_NACK;
	default:
		f->stats.garbage_bytes++;
		return RSP_FRAME_NONE;
	}
}

static enum rsp_frame_event data_byte(struct rsp_framer *f, uint8_t c)
{
	if (!f->escape) {
		if (c == '#') {
			f->state = ST_CS1;
			return RSP_FRAME_NONE;
		}
		if (c == '$') {
			/* A raw `$` cannot be payload: the client restarted. The partial
			 * packet is garbage. */
			f->stats.garbage_bytes += f->len + 1;
			start_packet(f);
			return RSP_FRAME_NONE;
		}
	}
	f->escape = !f->escape && c == '}';
	f->sum = (uint8_t)(f->sum + c);
	if (f->len < f->cap)
		f->pkt[f->len++] = c;
	else
		f->overflow = true;
	return RSP_FRAME_NONE;
}

static enum rsp_frame_event checksum_done(struct rsp_framer *f, bool valid)
{
	f->state = ST_IDLE;
	if (f->overflow) {
		f->stats.overflow++;
		f->len = 0;
		return RSP_FRAME_OVERFLOW;
	}
	if (!valid || f->cs != f->sum) {
		f->stats.bad_checksum++;
		if (!f->no_ack || !valid) {
			f->len = 0;
			return RSP_FRAME_BAD_CHECKSUM;
		}
	}
	f->stats.packets++;
	return RSP_FRAME_PACKET;
}

enum rsp_frame_event rsp_framer_byte(struct rsp_framer *f, uint8_t c)
{
	int d;

	switch (f->state) {
	case ST_IDLE:
		return idle_byte(f, c);
	case ST_DATA:
		return data_byte(f, c);
	case ST_CS1:
		d = rsp_hex_val(c);
		if (d < 0)
			return checksum_done(f, false);
		f->cs = (uint8_t)(d << 4);
		f->state = ST_CS2;
		return RSP_FRAME_NONE;
	default:
		d = rsp_hex_val(c);
		if (d < 0)
			return checksum_done(f, false);
		f->cs |= (uint8_t)d;
		return checksum_done(f, true);
	}
}

size_t rsp_frame_encode(char lead, const uint8_t *payload, size_t len, uint8_t *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t sum = 0;

	if (cap < 4 || len > cap - 4)
		return 0;
	out[0] = (uint8_t)lead;
	for (size_t i = 0; i < len; i++) {
		out[1 + i] = payload[i];
		sum = (uint8_t)(sum + payload[i]);
	}
	out[1 + len] = '#';
	out[2 + len] = (uint8_t)digits[sum >> 4];
	out[3 + len] = (uint8_t)digits[sum & 15];
	return len + 4;
}
