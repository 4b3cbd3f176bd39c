/* Byte-fed RSP framer: turns the client's byte stream into events (a complete
 * packet, an interrupt byte, an ack/nack, a bad checksum, an oversized packet)
 * and counts every fault. Also encodes outgoing packets. No I/O, no allocation
 * (the packet buffer is the owner's). */
#ifndef TRACESTUB_PROTOCOL_FRAMING_H
#define TRACESTUB_PROTOCOL_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/session.h"

enum rsp_frame_event {
	RSP_FRAME_NONE,		/* byte consumed, nothing to do */
	RSP_FRAME_PACKET,	/* a packet is complete: rsp_framer_packet() */
	RSP_FRAME_INTERRUPT,	/* 0x03 outside a packet */
	RSP_FRAME_ACK,		/* `+` */
	RSP_FRAME_NACK,		/* `-`: resend the last reply */
	RSP_FRAME_BAD_CHECKSUM, /* packet dropped; in ack mode answer `-` */
	RSP_FRAME_OVERFLOW,	/* packet longer than the buffer: dropped, answer E */
};

struct rsp_framer {
	uint8_t *pkt; /* borrowed, cap bytes */
	size_t cap, len;
	int state;
	uint8_t sum, cs;
	bool escape, overflow;
	bool no_ack; /* checksum mismatches are counted but the packet is accepted */
	struct rsp_session_stats stats;
};

/* buf (cap bytes) is borrowed for the framer's lifetime. */
void rsp_framer_init(struct rsp_framer *f, uint8_t *buf, size_t cap);
/* Feed one byte. */
enum rsp_frame_event rsp_framer_byte(struct rsp_framer *f, uint8_t c);
/* The packet payload after RSP_FRAME_PACKET; valid until the next byte is fed.
 */
const uint8_t *rsp_framer_packet(const struct rsp_framer *f, size_t *len);

/* Frame `$payload#cs` into out. Returns the framed length, or 0 if cap is too
 * small. The payload must already be escaped where binary. */
size_t rsp_frame_encode(char lead, const uint8_t *payload, size_t len, uint8_t *out, size_t cap);

#endif
