/* libFuzzer entry point: raw client bytes through framing and dispatch of one RSP session
 * backed by the in-memory fake target (with its tracepoint ops unless mode bit 2 is set).
 * The first byte picks the configuration; the rest is fed in pieces, and whenever the
 * session waits a stop is reported (kind from the input). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FAKE_TARGET_TRACE
#include "protocol/session.h"
#include "tests/unit/fake_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *ctx, const uint8_t *buf, size_t len)
{
	size_t *total = ctx;
	*total += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake fk;
	static struct fake_trace tr;
	struct rsp_target_ops ops;
	struct rsp_session_config cfg = {0};
	struct rsp_session *s;
	size_t total = 0;
	uint8_t mode;

	if (!size)
		return 0;
	mode = data[0];
	data++;
	size--;
	fake_init(&fk, &ops);
	fk.nlibs = mode & 3;
	/* Mode bit 2 also takes the trace ops away, so both halves of every trace packet's
	 * availability are fuzzed. */
	if (mode & 4)
		ops.write_reg = NULL;
	else
		fake_trace_init(&fk, &tr, &ops);
	cfg.ops = &ops;
	cfg.target = &fk;
	cfg.write = sink;
	cfg.write_ctx = &total;
	cfg.extended = mode & 8;
	cfg.packet_size = mode & 16 ? 0x200 : 0;
	cfg.disabled = mode & 32 ? "vCont,qXfer:auxv:read,Z0,multiprocess" : NULL;
	s = rsp_session_new(&cfg);
	if (!s)
		return 0;
	size_t chunk = (mode >> 6) + 1;
	for (size_t off = 0; off < size;) {
		size_t n = size - off < chunk * 7 ? size - off : chunk * 7;
		int st = rsp_session_feed(s, data + off, n);
		off += n;
		if (st != RSP_SESSION_OPEN)
			break;
		if (rsp_session_is_waiting(s)) {
			uint8_t b = data[off - 1];
			struct rsp_stop stop = {.kind = (enum rsp_stop_kind)(b % 5),
						.reason = (enum rsp_stop_reason)(b % 18),
						.thread = {0x64, 0x64 + (b & 1)},
						.signo = b % 70,
						.core = -1,
						.exec_path = "/x",
						.description = "d"};
			rsp_session_console(s, "out", 3);
			rsp_session_report_stop(s, &stop);
		}
	}
	rsp_session_free(s);
	return 0;
}
