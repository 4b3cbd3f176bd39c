/* Stop replies (T/W/X/w/N) are built by rsp_stop_format(), declared in
 * protocol/internal.h because it needs the session's negotiated features. This
 * header only names the lldb reason strings, which tests and the replay backend
 * may want. */
#ifndef TRACESTUB_PROTOCOL_STOP_H
#define TRACESTUB_PROTOCOL_STOP_H

#include "protocol/target.h"

/* lldb's `reason:` value for a stop reason ("breakpoint", "trace",
 * "watchpoint", "signal"), or NULL when none applies. */
const char *rsp_stop_lldb_reason(enum rsp_stop_reason r, int signo);

#endif
