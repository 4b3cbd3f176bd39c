/* Unit tests' pseudo-random numbers (xorshift64, fixed seeds: runs repeat exactly) and a
 * big-endian store for building bytecode. Define RND_SEED before including. */
#ifndef TRACESTUB_TESTS_UNIT_XORSHIFT_H
#define TRACESTUB_TESTS_UNIT_XORSHIFT_H

#include <stdint.h>

static uint64_t rnd_state = RND_SEED;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = n; i-- > 0; v >>= 8)
		p[i] = (uint8_t)v;
}

#endif
