/* One RSP conversation with one client: bytes in (rsp_session_feed), bytes out (the write
 * callback). Owns framing state, ack mode, negotiated features, the selected threads and
 * the packet table. Never touches the OS: the target is reached only through
 * struct rsp_target_ops, the client only through the write callback. */
#ifndef TRACESTUB_PROTOCOL_SESSION_H
#define TRACESTUB_PROTOCOL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

struct rsp_session;

/* Send len bytes to the client; must send them all or fail. 0 or -errno. */
typedef int (*rsp_write_fn)(void *ctx, const uint8_t *buf, size_t len);
/* Debug log of packets (--debug); dir is "<-" (received) or "->" (sent). */
typedef void (*rsp_log_fn)(void *ctx, const char *dir, const uint8_t *buf, size_t len);

struct rsp_session_config {
	const struct rsp_target_ops *ops;
	void *target;
	rsp_write_fn write;
	void *write_ctx;
	rsp_log_fn log; /* may be NULL */
	void *log_ctx;
	bool log_on;   /* log from the start (--debug); `monitor set remote-debug 0|1` toggles */
	bool extended; /* start in extended mode (--multi) */
	size_t packet_size;   /* advertised PacketSize; 0 = default 0x4000 */
	const char *disabled; /* comma-separated packet names (--disable-packet=), may be NULL */
};

/* What the owner should do after a feed. */
enum rsp_session_state {
	RSP_SESSION_OPEN,  /* keep serving */
	RSP_SESSION_CLOSE, /* close this connection (detach/kill in non-extended mode) */
	RSP_SESSION_EXIT,  /* monitor exit: the server should exit */
};

/* Returns NULL on no memory. cfg is copied; ops and target are borrowed. */
struct rsp_session *rsp_session_new(const struct rsp_session_config *cfg);
void rsp_session_free(struct rsp_session *s);

/* Feed bytes received from the client. Complete packets are handled at once; partial ones
 * are kept. Returns the session state, or -errno if the write callback failed. */
int rsp_session_feed(struct rsp_session *s, const uint8_t *buf, size_t len);

/* The target stopped while the client waits for a stop reply (after c/s/vCont/interrupt):
 * send the stop reply. Ignored (returns 0) if no stop reply is awaited. */
int rsp_session_report_stop(struct rsp_session *s, const struct rsp_stop *stop);

/* True while the client waits for a stop reply (the target is running for it). */
bool rsp_session_is_waiting(const struct rsp_session *s);

/* Send console output as an O packet (all-stop, only while waiting). */
int rsp_session_console(struct rsp_session *s, const char *text, size_t len);

/* Counters of framing faults, for --debug and tests. */
struct rsp_session_stats {
	uint64_t packets, bad_checksum, overflow, garbage_bytes, nacks, interrupts;
};
void rsp_session_stats(const struct rsp_session *s, struct rsp_session_stats *out);

#endif
