/* Internals shared by the protocol layer's files: the session object, the
 * packet table entry, and helpers used by the per-family handler files
 * (pkt_*.c). Not a public API. */
#ifndef TRACESTUB_PROTOCOL_INTERNAL_H
#define TRACESTUB_PROTOCOL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/framing.h"
#include "protocol/session.h"
#include "protocol/target.h"

/* Handler results besides 0 (send s->reply, possibly empty) and -errno (send
 * Enn). */
#define RSP_NO_REPLY 1 /* reply later (resume) or already sent */
/* Error values beyond 0xff are sent modulo 256: this one is sent as E00. */
#define RSP_ERR_E00 (-0x100)

#define RSP_MAX_ACTIONS	  64
#define RSP_MAX_THREADS	  1024
#define RSP_MAX_LIBS	  256
#define RSP_MAX_ARGS	  64
#define RSP_MAX_SYSCALLS  1024 /* numbers in one QCatchSyscalls */
#define RSP_SAVE_SLOTS	  8
#define RSP_QUEUE_PACKETS 8
#define RSP_NOTIF_BYTES	  (512 * 1024) /* non-stop stop replies owed: ~2,000 of them */

struct rsp_session;

/* args/len: the payload after the packet name (borrowed until the handler
 * returns). */
typedef int (*rsp_handler_fn)(struct rsp_session *s, const uint8_t *args, size_t len);

enum rsp_match { RSP_MATCH_EXACT, RSP_MATCH_PREFIX };

/* One packet-table entry. `op` is RSP_OP(member) of the rsp_target_ops member
 * that must be non-NULL for the packet to be served (0 = none); `feature` is
 * advertised in qSupported (as given, e.g. "qXfer:auxv:read+") when the packet
 * is served and not disabled; `avail` (may be NULL) is an extra condition, e.g.
 * for trace ops. An entry with fn NULL only advertises its feature (a second
 * feature of the same packet) and is never dispatched. */
struct rsp_packet_def {
	const char *name;
	enum rsp_match match;
	rsp_handler_fn fn;
	size_t op;
	const char *feature;
	bool (*avail)(const struct rsp_session *s);
};
#define RSP_OP(member) (offsetof(struct rsp_target_ops, member) + 1)

/* Defines has_<member>(), an `avail` hook for a packet served by one member of
 * the trace ops (s->ops->trace, which may be NULL); needs protocol/trace_ops.h. */
#define RSP_TRACE_AVAIL(member)                                                                    \
	static bool has_##member(const struct rsp_session *s)                                      \
	{                                                                                          \
		return s->ops->trace && s->ops->trace->member;                                     \
	}

/* Packet families; each array ends with an entry whose name is NULL. A new
 * family is one pkt_*.c file plus one X(...) line here. */
#define RSP_PACKET_FAMILIES(X)                                                                     \
	X(general)                                                                                 \
	X(regs)                                                                                    \
	X(mem) X(run) X(threads) X(xfer) X(vfile) X(launch) X(points) X(trace) X(tframe) X(nonstop)
#define RSP_DECLARE_FAMILY(f) extern const struct rsp_packet_def rsp_pkts_##f[];
RSP_PACKET_FAMILIES(RSP_DECLARE_FAMILY)

/* Upload positions of qTfP/qTsP and qTfV/qTsV (pkt_tframe.c). */
struct rsp_trace_cursor {
	size_t tp;   /* tp_get index */
	size_t item; /* within it: 0 = T, then A, S and Z items */
	size_t tsv;  /* tsv_get index */
};

struct rsp_session {
	struct rsp_session_config cfg;
	bool log_ts; /* monitor set debug-format timestamp: a time before each logged packet */
	bool host_signals; /* the client asked qHostInfo (lldb): signals in the host's numbers */
	const struct rsp_target_ops *ops;
	void *t;
	char *disabled; /* copy of cfg.disabled, NULL if none */
	size_t packet_size;

	struct rsp_framer fr;
	uint8_t *in; /* framer buffer, packet_size bytes */
	struct rsp_buf reply;
	uint8_t *out; /* framed packet (also kept for `-` resend), out_cap bytes */
	size_t out_cap, out_len;

	uint8_t *scratch; /* per-packet work area, scratch_cap bytes */
	size_t scratch_cap;
	uint8_t *gbuf, *gavail; /* a g block and its availability, g_cap / nregs_cap bytes */
	size_t g_cap, avail_cap;
	struct rsp_thread_info *threads; /* RSP_MAX_THREADS */
	size_t nthreads, thread_cursor;
	struct rsp_library *libs; /* RSP_MAX_LIBS */
	struct rsp_resume_action acts[RSP_MAX_ACTIONS];
	uint8_t *saved[RSP_SAVE_SLOTS]; /* QSaveRegisterState slots, g_cap each */
	bool saved_used[RSP_SAVE_SLOTS];

	uint8_t *queue; /* packets received while waiting: [u32 len][payload]... */
	size_t queue_len, queue_cap;

	bool no_ack, no_ack_pending, extended, waiting, error_strings;
	bool thread_suffix, list_threads_in_stop, draining;
	struct rsp_client_features feat;
	struct rsp_ptid g_thread, c_thread;
	int state; /* enum rsp_session_state */
	int write_err;
	const char *err_msg; /* message for Enn;hex when error strings are on, may be NULL */
	struct rsp_trace_cursor tcur;

	/* Non-stop: stop replies owed to the client, formatted when the stop happened:
	 * [u32 len][payload]...; the first was sent as a %Stop notification (or as the reply to
	 * `?` / vStopped) and goes when the client's vStopped acknowledges it. */
	bool non_stop;
	uint8_t *notif;
	size_t notif_len, notif_cap;
	uint8_t *nout; /* a framed notification, out_cap bytes (keeps s->out for `-` resend) */
	uint8_t *nfmt; /* "Stop:" + one stop reply being formatted, nfmt_cap bytes */
	size_t nfmt_cap;
};

/* pkt_nonstop.c: queue a stop for the client in non-stop mode (sends the %Stop
 * notification when nothing is outstanding); reply to `?` in non-stop mode. */
int rsp_notify_stop(struct rsp_session *s, const struct rsp_stop *st);
int rsp_nonstop_status(struct rsp_session *s);

/* Send one framed packet (lead '$' or '%'); remembered for `-` resend. 0 or
 * -errno. */
int rsp_send_packet(struct rsp_session *s, const uint8_t *payload, size_t len);
/* Handler result -> reply into s->reply (Enn, with message when enabled). */
void rsp_reply_error(struct rsp_session *s, int err);
/* Is the ops member at RSP_OP(...) offset present? */
bool rsp_has_op(const struct rsp_session *s, size_t op);
/* A signal as this client numbers it (gdb's own numbering, or the host's for lldb, which
 * reads stop replies in Linux numbers once qHostInfo said linux), and back: -1 when the
 * number means no host signal. */
int rsp_sig_out(const struct rsp_session *s, int host_signo);
int rsp_sig_in(const struct rsp_session *s, uint64_t client_signo);
/* The packet log (when on): dir is "<-" (received) or "->" (sent). */
void rsp_log(struct rsp_session *s, const char *dir, const uint8_t *pkt, size_t len);
/* Is this payload (or feature name) disabled by --disable-packet? */
bool rsp_is_disabled(const struct rsp_session *s, const uint8_t *name, size_t len);

/* Parse a thread id (`pPID.TID`, `TID`, `-1`, `0`; zero padding allowed) at *p.
 */
int rsp_parse_ptid(const uint8_t **p, const uint8_t *end, struct rsp_ptid *out);
int rsp_put_ptid(struct rsp_session *s, struct rsp_buf *b, struct rsp_ptid id);
/* Split a trailing lldb `;thread:ID;` suffix; *len shrinks to the rest. Returns
 * 1 if found, 0 if none, -EINVAL if malformed. */
int rsp_thread_suffix(const uint8_t *args, size_t *len, struct rsp_ptid *th);
/* The thread for register access: the suffix if given, else Hg. */
struct rsp_ptid rsp_reg_thread(struct rsp_session *s, const uint8_t *args, size_t *len, int *rc);
/* Parse "ADDR,LEN" (hex) ending at end or at `stop` char; *p advanced past it.
 */
int rsp_parse_addr_len(const uint8_t **p, const uint8_t *end, uint64_t *addr, uint64_t *len);
/* Decode a hex string into scratch as a NUL-terminated C string. Returns
 * pointer or NULL. */
char *rsp_hex_cstr(struct rsp_session *s, const uint8_t *hex, size_t len, size_t scratch_off);
/* Reload the target's thread list into s->threads. */
int rsp_load_threads(struct rsp_session *s);
/* Register layout or NULL. */
const struct rsp_reg_layout *rsp_layout(struct rsp_session *s);

/* Stop replies (stop.c). Appends the reply for st into b. */
int rsp_stop_format(struct rsp_session *s, const struct rsp_stop *st, struct rsp_buf *b);
/* lldb only, when the target has expedite_mem: thread th's expedited memory as T-reply
 * `memory:0xADDR=HEX;` keys, or (json) as a jThreadsInfo `,"memory":[...]` member. */
int rsp_stop_expedite(struct rsp_session *s, struct rsp_ptid th, struct rsp_buf *b, bool json);
/* Recompute client features after qSupported and tell the target. */
void rsp_features_changed(struct rsp_session *s);
/* qSupported: negotiate and build the reply from the packet table (session.c).
 */
int rsp_session_qsupported(struct rsp_session *s, const uint8_t *a, size_t len);
/* Start a resume; on success the session waits and the handler returns
 * RSP_NO_REPLY. */
int rsp_start_resume(struct rsp_session *s, size_t nacts);
/* Serve [off, off+len) of obj (obj_len bytes) as a qXfer m/l reply. */
int rsp_xfer_reply(struct rsp_session *s, const uint8_t *obj, size_t obj_len, uint64_t off,
		   uint64_t len);

#endif
