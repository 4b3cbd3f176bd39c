/* gdb tracepoints on the live target (issue 3): tracepoint and trace-state-variable
 * definitions, the run state, collection at each hit through internal probes (stub/probe.h:
 * only the hitting thread stops), the trace buffer, and the frame backend that answers
 * register and memory reads while gdb has a trace frame selected. The protocol reaches it
 * through struct rsp_trace_ops (ltrace_ops), whose target context is the struct live *. */
#ifndef TRACESTUB_STUB_LTRACE_H
#define TRACESTUB_STUB_LTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

struct live;
struct ltrace;
struct rsp_trace_ops;

/* NULL on no memory. layout is borrowed (the live g block layout). */
struct ltrace *ltrace_new(struct live *l, const struct rsp_reg_layout *layout);
/* Removes nothing from the target (the caller releases the process first). */
void ltrace_free(struct ltrace *tr);

/* The ops table; its context is the struct live * that owns the ltrace (live_trace()). */
extern const struct rsp_trace_ops ltrace_trace_ops;

/* A trace frame is selected: register and memory reads come from it. */
bool ltrace_frame_selected(const struct ltrace *tr);
/* The selected frame's g block: the collected registers, the rest unavailable. */
int ltrace_frame_regs(struct ltrace *tr, uint8_t *buf, uint8_t *avail);
/* The selected frame's memory: collected blocks first, then read-only mappings of the
 * process (code, constants) through read_live; -EIO when neither has addr. */
int ltrace_frame_mem(struct ltrace *tr, taddr_t addr, uint8_t *buf, size_t len, size_t *done);

/* Counters as text (monitor tstats): the buffer, then per tracepoint hits, frames stored,
 * hits dropped (buffer full) and bytes. Returns the length or -ENOSPC. */
int ltrace_stats(struct ltrace *tr, char *buf, size_t cap);

/* The client went away: stop the run unless disconnected tracing was asked for. */
void ltrace_client_gone(struct ltrace *tr);
/* The process is gone (exit, kill, exec): its probes went with it. */
void ltrace_process_gone(struct ltrace *tr);

#endif
