/* Replay shows the main executable at its link addresses, as trace files store it. Writers
 * differ in how far they went: the headless tracer moved every register and stack word that
 * pointed into the executable, a live session's qTBuffer/QTSave only rip and the addresses
 * of memory blocks. replay_view_link finishes the job on a copy of the frames: every value
 * inside the executable's run-time span [bias + lo, bias + hi) is moved back by bias, in the
 * general registers (rax..r15, rip), in memory-block addresses and in the aligned 8-byte words
 * of memory blocks. Values already at link addresses are left alone (for a PIE the two spans
 * never overlap), so the pass is idempotent. Pure: no I/O. */
#ifndef TRACESTUB_STUB_REPLAY_VIEW_H
#define TRACESTUB_STUB_REPLAY_VIEW_H

#include <stddef.h>
#include <stdint.h>

struct tracebuf;

/* A new buffer with tb's frames so moved (bias 0: a plain copy); rip_off = offset of rip in
 * an R block, R blocks hold rax..r15 then rip at 8-byte steps from 0. NULL on no memory or
 * malformed frames. */
struct tracebuf *replay_view_link(const struct tracebuf *tb, size_t rip_off, uint64_t bias,
				  uint64_t lo, uint64_t hi);

#endif
