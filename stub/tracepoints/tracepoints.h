/* stub/tracepoints/: gdb's tracepoints over the live target: definitions, the run, collection at
 * each hit through live probes, and the frame view that answers reads while a frame is selected. */
#ifndef TRACESTUB_STUB_TRACEPOINTS_TRACEPOINTS_H
#define TRACESTUB_STUB_TRACEPOINTS_TRACEPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

/* gdb tracepoints on the live target: tracepoint and trace-state-variable definitions, the
 * run state, collection at each hit through internal probes (only the hitting thread stops),
 * the trace buffer, and the frame view that answers register and memory reads while gdb has a
 * trace frame selected. It is a layer over the live target: its ops table is live's with the
 * trace ops added and reads, monitor commands wrapped; the context stays the struct live *,
 * and the layer finds itself through live_layer(). The live target knows nothing of it. */
struct live;
struct tpoints;

/* Put the layer over l (registers it with live_set_layer and subscribes to its process
 * events). NULL on no memory. Free it after live_free(l). */
struct tpoints *tpoints_new(struct live *l);
/* Removes nothing from the target (the caller releases the process first). */
void tpoints_free(struct tpoints *tr);

/* The live target's ops with tracepoints: the table to serve a client with. Context: the
 * struct live * a tpoints was put over. */
const struct rsp_target_ops *tpoints_target_ops(void);

/* The client of target t (a struct live *) went away: stop the run unless disconnected
 * tracing was asked for (QTDisconnected; gdbserver does the same). */
void tpoints_client_gone(void *t);
/* The server's tick while the program runs: fast tracepoints' records drained into the
 * trace buffer (rings do not fill); ms until the next one, -1 when no fast run is on. */
int tpoints_tick(void *t);

#endif
