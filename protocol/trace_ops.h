/* Tracepoint capability of a target (PROTOCOL.md §3). A NULL member = unsupported.
 * Parsed definitions are handed over as plain data; the target owns storage. */
#ifndef TRACESTUB_PROTOCOL_TRACE_OPS_H
#define TRACESTUB_PROTOCOL_TRACE_OPS_H

#include "protocol/target.h"

struct rsp_trace_ops {
	int placeholder; /* filled in by the tracepoint work (issue 3) */
};

#endif
