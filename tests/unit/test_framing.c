/* Unit tests for protocol/framing.c (TAP): packets, checksums, acks, interrupt byte,
 * escapes inside packets, garbage, oversize, and the encoder. */
#include <stdio.h>
#include <string.h>

#include "protocol/framing.h"

static int n_test;
static int failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

static uint8_t pktbuf[16];
static struct rsp_framer fr;
static int events[16]; /* count per event kind */
static char last[32];
static size_t last_len;

static void feed(const char *bytes, size_t n)
{
	memset(events, 0, sizeof(events));
	for (size_t i = 0; i < n; i++) {
		enum rsp_frame_event ev = rsp_framer_byte(&fr, (uint8_t)bytes[i]);
		events[ev]++;
		if (ev == RSP_FRAME_PACKET) {
			const uint8_t *p = rsp_framer_packet(&fr, &last_len);
			memcpy(last, p, last_len);
			last[last_len] = 0;
		}
	}
}
#define FEED(lit) feed(lit, sizeof(lit) - 1)

int main(void)
{
	uint8_t out[32];
	size_t n;

	printf("1..27\n");
	rsp_framer_init(&fr, pktbuf, sizeof(pktbuf));
	FEED("$g#67");
	ok(events[RSP_FRAME_PACKET] == 1 && !strcmp(last, "g"), "simple packet");
	ok(fr.stats.packets == 1, "packet counted");
	FEED("$m0,4#fd");
	ok(events[RSP_FRAME_PACKET] == 1 && !strcmp(last, "m0,4"), "packet with args");
	FEED("$g#00");
	ok(events[RSP_FRAME_BAD_CHECKSUM] == 1 && !events[RSP_FRAME_PACKET],
	   "bad checksum reported");
	ok(fr.stats.bad_checksum == 1, "bad checksum counted");
	FEED("$g#zz");
	ok(events[RSP_FRAME_BAD_CHECKSUM] == 1 && fr.stats.bad_checksum == 2,
	   "non-hex checksum is a bad checksum");
	FEED("\x03");
	ok(events[RSP_FRAME_INTERRUPT] == 1 && fr.stats.interrupts == 1, "interrupt outside");
	FEED("$X0,1:\x03#22");
	ok(events[RSP_FRAME_PACKET] == 1 && !events[RSP_FRAME_INTERRUPT] && last_len == 6 &&
		   last[5] == 3,
	   "0x03 inside a packet is payload");
	ok(fr.stats.interrupts == 1, "inside 0x03 not counted as interrupt");
	/* `}#` is an escaped 0x03: the `#` must not end the packet. */
	FEED("$X}#a#59");
	ok(events[RSP_FRAME_PACKET] == 1 && last_len == 4 && !memcmp(last, "X}#a", 4),
	   "escaped # does not end the packet");
	FEED("+");
	ok(events[RSP_FRAME_ACK] == 1, "ack");
	FEED("-");
	ok(events[RSP_FRAME_NACK] == 1 && fr.stats.nacks == 1, "nack counted");
	uint64_t g0 = fr.stats.garbage_bytes;
	FEED("xyz$g#67");
	ok(events[RSP_FRAME_PACKET] == 1 && fr.stats.garbage_bytes == g0 + 3,
	   "garbage before packet skipped and counted");
	FEED("$ab$g#67");
	ok(events[RSP_FRAME_PACKET] == 1 && !strcmp(last, "g") && fr.stats.garbage_bytes == g0 + 6,
	   "raw $ restarts a packet, partial counted as garbage");
	FEED("$0123456789abcdefXYZ#00");
	ok(events[RSP_FRAME_OVERFLOW] == 1 && !events[RSP_FRAME_PACKET], "oversized rejected");
	ok(fr.stats.overflow == 1, "oversize counted");
	FEED("$g#67");
	ok(events[RSP_FRAME_PACKET] == 1 && !strcmp(last, "g"), "resync after oversize");
	FEED("$0123456789abcdef#00");
	ok(events[RSP_FRAME_BAD_CHECKSUM] == 1, "packet of exactly capacity accepted by framer");
	fr.no_ack = true;
	FEED("$g#00");
	ok(events[RSP_FRAME_PACKET] == 1 && fr.stats.bad_checksum == 4,
	   "no-ack: mismatch counted, packet accepted");
	FEED("$g#q0");
	ok(events[RSP_FRAME_BAD_CHECKSUM] == 1, "no-ack: malformed checksum still rejected");
	fr.no_ack = false;
	FEED("$");
	FEED("g");
	FEED("#6");
	ok(!events[RSP_FRAME_PACKET], "partial packet kept");
	FEED("7");
	ok(events[RSP_FRAME_PACKET] == 1 && !strcmp(last, "g"), "packet split across feeds");
	FEED("$#00");
	ok(events[RSP_FRAME_PACKET] == 1 && last_len == 0, "empty packet");

	n = rsp_frame_encode('$', (const uint8_t *)"OK", 2, out, sizeof(out));
	ok(n == 6 && !memcmp(out, "$OK#9a", 6), "encode OK");
	n = rsp_frame_encode('$', (const uint8_t *)"", 0, out, sizeof(out));
	ok(n == 4 && !memcmp(out, "$#00", 4), "encode empty");
	n = rsp_frame_encode('%', (const uint8_t *)"Stop:T05", 8, out, sizeof(out));
	ok(n == 12 && out[0] == '%', "encode notification");
	ok(rsp_frame_encode('$', (const uint8_t *)"OK", 2, out, 5) == 0, "encode overflow is 0");
	return failed ? 1 : 0;
}
