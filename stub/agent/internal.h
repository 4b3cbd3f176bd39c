/* What agent.c (injection, sites) and drain.c (records, clock) share: the tracestub side's
 * state of one agent. Not for other folders: they use agent.h. */
#ifndef TRACESTUB_STUB_AGENT_INTERNAL_H
#define TRACESTUB_STUB_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "stub/agent/ring.h"

struct live;

#define MAX_BATCH 65536

struct agent {
	struct live *l;
	pid_t pid;
	uint8_t *map;
	size_t size;
	struct agent_hdr *h;
	uint64_t t_hdr, t_entry; /* in the target */
	struct {
		void *owner;
		uint64_t addr;
		uint64_t start; /* the patch: [start, start + len) */
		uint8_t len;
		bool off; /* unpatched */
	} sites[AGENT_MAX_SITES];
	unsigned nsites;
	/* TSC -> CLOCK_MONOTONIC: ns = ans + (tsc - atsc) * k. k from the first clock point to
	 * the latest (taken at drains, at most every 100 ms); at each new k the anchor moves to
	 * that point where the old line put it, so the line never jumps: a call's entry and
	 * return drained on either side of a change still differ by their TSC difference. */
	uint64_t tsc0, ns0, atsc, ans, last_tsc;
	double k;
	bool tid_checked;
	bool map_borrowed; /* agent_open_mem: not ours to unmap */
	uint32_t ring_bytes, nrings;
	/* a drain's records (2 x MAX_BATCH: the runs, then where they are merged) */
	const struct agent_rec **batch;
	uint64_t *upto, *tails; /* per ring, for a drain */
	size_t *runs;		/* per ring + 1: where each ring's records start in batch */
};

/* The TSC -> CLOCK_MONOTONIC line's first two points (2 ms apart), at injection. */
void agent_clock_start(struct agent *a);

#endif
