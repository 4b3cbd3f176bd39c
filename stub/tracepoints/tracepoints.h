/* stub/tracepoints/: gdb's tracepoints over the live target: definitions, the run, collection at
 * each hit through live probes, and the frame view that answers reads while a frame is selected. */
#ifndef TRACESTUB_STUB_TRACEPOINTS_TRACEPOINTS_H
#define TRACESTUB_STUB_TRACEPOINTS_TRACEPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

/* gdb tracepoints on the live target (issue 3): tracepoint and trace-state-variable
 * definitions, the run state, collection at each hit through internal probes (stub/probe.h:
 * only the hitting thread stops), the trace buffer, and the frame backend that answers
 * register and memory reads while gdb has a trace frame selected. The protocol reaches it
 * through struct rsp_trace_ops (tpoints_ops), whose target context is the struct live *. */
struct live;
struct tpoints;
struct rsp_trace_ops;

/* NULL on no memory. layout is borrowed (the live g block layout). */
struct tpoints *tpoints_new(struct live *l, const struct rsp_reg_layout *layout);
/* Removes nothing from the target (the caller releases the process first). */
void tpoints_free(struct tpoints *tr);

/* The ops table; its context is the struct live * that owns the tpoints (live_trace()). */
extern const struct rsp_trace_ops tpoints_trace_ops;

/* A trace frame is selected: register and memory reads come from it. */
bool tpoints_frame_selected(const struct tpoints *tr);
/* The selected frame's g block: the collected registers, the rest unavailable. */
int tpoints_frame_regs(struct tpoints *tr, uint8_t *buf, uint8_t *avail);
/* The selected frame's memory: collected blocks first, then read-only mappings of the
 * process (code, constants) through read_live; -EIO when neither has addr. */
int tpoints_frame_mem(struct tpoints *tr, taddr_t addr, uint8_t *buf, size_t len, size_t *done);

/* Counters as text (monitor tstats): the buffer, then per tracepoint hits, frames stored,
 * hits dropped (buffer full) and bytes. Returns the length or -ENOSPC. */
int tpoints_stats(struct tpoints *tr, char *buf, size_t cap);

/* The client went away: stop the run unless disconnected tracing was asked for. */
void tpoints_client_gone(struct tpoints *tr);
/* The process is gone (exit, kill, exec): its probes went with it. */
void tpoints_process_gone(struct tpoints *tr);

#endif
