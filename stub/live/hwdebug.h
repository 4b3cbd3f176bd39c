/* x86 debug registers: Z1 hardware breakpoints and Z2/Z4 watchpoints in
 * DR0-3/DR7, the same set applied to every traced thread. x86 cannot watch
 * reads only: Z3 is -EOPNOTSUPP. */
#ifndef TRACESTUB_STUB_HWDEBUG_H
#define TRACESTUB_STUB_HWDEBUG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/target.h"

#define HWDEBUG_SLOTS 4

struct hwdebug {
	struct {
		bool used;
		enum rsp_point_type type;
		taddr_t addr;
		unsigned len;
		taddr_t gaddr; /* the point asked for: a region split over several slots */
		unsigned glen;
	} slot[HWDEBUG_SLOTS];
};

void hwdebug_init(struct hwdebug *hw);
/* Claim slots. A watchpoint region is covered by aligned pieces of 8, 4, 2 and 1 bytes (a
 * 16-byte struct takes two slots; gdbserver splits the same way), all or none. 0,
 * -EOPNOTSUPP (read watch, SW type), -EINVAL (empty region), -ENOSPC (not enough free). */
int hwdebug_insert(struct hwdebug *hw, enum rsp_point_type type, taddr_t addr, unsigned len);
/* Free the slots holding exactly this point. -ENOENT if none. */
int hwdebug_remove(struct hwdebug *hw, enum rsp_point_type type, taddr_t addr, unsigned len);
/* The DR7 value enabling the used slots (local enable bits). */
uint64_t hwdebug_dr7(const struct hwdebug *hw);
bool hwdebug_any(const struct hwdebug *hw);
/* Write DR0-3 and DR7 of thread tid (stopped). 0 or -errno. */
int hwdebug_apply(const struct hwdebug *hw, pid_t tid);
/* Disable all debug registers of tid (detach, forked child). */
int hwdebug_clear(pid_t tid);
/* Read and reset DR6 of tid. */
int hwdebug_take_dr6(pid_t tid, uint64_t *dr6);
/* Which point a DR6 value reports: 1 and *reason (HWBREAK, WATCH, AWATCH) and
 * *addr, or 0. */
int hwdebug_hit(const struct hwdebug *hw, uint64_t dr6, enum rsp_stop_reason *reason,
		taddr_t *addr);

#define HWDEBUG_DR6_BS 0x4000u /* single-step trap */

#endif
