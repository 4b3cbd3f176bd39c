/* Debug-register slots and their encoding into DR7; the pokes go through
 * stub/ptrace.c. Knows nothing of threads beyond the tid it is told to update.
 */
#include "stub/live/hwdebug.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/user.h>

#include "stub/os/os.h"

static size_t dr_off(unsigned i)
{
	return offsetof(struct user, u_debugreg) + i * sizeof(unsigned long);
}

void hwdebug_init(struct hwdebug *hw)
{
	memset(hw, 0, sizeof(*hw));
}

/* The largest aligned piece (8, 4, 2 or 1 bytes) at addr within len bytes. */
static unsigned piece(taddr_t addr, uint64_t len)
{
	unsigned n = 8;

	while (n > 1 && ((addr & (n - 1)) || n > len))
		n >>= 1;
	return n;
}

int hwdebug_insert(struct hwdebug *hw, enum rsp_point_type type, taddr_t addr, unsigned len)
{
	unsigned i, need = 0, free_slots = 0;
	taddr_t a;
	uint64_t left;

	if (type == RSP_POINT_READ || type == RSP_POINT_SW)
		return -EOPNOTSUPP;
	if (type == RSP_POINT_HW)
		len = 1; /* kind is the instruction length hint; DR7 exec length is always 1 */
	if (!len)
		return -EINVAL;
	for (a = addr, left = len; left; need++) {
		unsigned n = piece(a, left);

		a += n;
		left -= n;
	}
	for (i = 0; i < HWDEBUG_SLOTS; i++)
		free_slots += !hw->slot[i].used;
	if (need > free_slots)
		return -ENOSPC;
	for (i = 0, a = addr, left = len; i < HWDEBUG_SLOTS && left; i++) {
		unsigned n;

		if (hw->slot[i].used)
			continue;
		n = piece(a, left);
		hw->slot[i].used = true;
		hw->slot[i].type = type;
		hw->slot[i].addr = a;
		hw->slot[i].len = n;
		hw->slot[i].gaddr = addr;
		hw->slot[i].glen = len;
		a += n;
		left -= n;
	}
	return 0;
}

int hwdebug_remove(struct hwdebug *hw, enum rsp_point_type type, taddr_t addr, unsigned len)
{
	unsigned i;
	int rc = -ENOENT;

	if (type == RSP_POINT_HW)
		len = 1;
	for (i = 0; i < HWDEBUG_SLOTS; i++) {
		if (hw->slot[i].used && hw->slot[i].type == type && hw->slot[i].gaddr == addr &&
		    hw->slot[i].glen == len) {
			hw->slot[i].used = false;
			rc = 0;
		}
	}
	return rc;
}

uint64_t hwdebug_dr7(const struct hwdebug *hw)
{
	uint64_t dr7 = 0;
	unsigned i;

	for (i = 0; i < HWDEBUG_SLOTS; i++) {
		uint64_t rw, ln;

		if (!hw->slot[i].used)
			continue;
		switch (hw->slot[i].type) {
		case RSP_POINT_WRITE:
			rw = 1;
			break;
		case RSP_POINT_ACCESS:
			rw = 3;
			break;
		default:
			rw = 0;
			break;
		}
		/* LEN encoding: 00 = 1, 01 = 2, 11 = 4, 10 = 8 bytes (SDM vol. 3, 17.2.4).
		 */
		switch (hw->slot[i].len) {
		case 2:
			ln = 1;
			break;
		case 4:
			ln = 3;
			break;
		case 8:
			ln = 2;
			break;
		default:
			ln = 0;
			break;
		}
		dr7 |= 1ull << (2 * i);
		dr7 |= (rw | ln << 2) << (16 + 4 * i);
	}
	return dr7;
}

bool hwdebug_any(const struct hwdebug *hw)
{
	return hwdebug_dr7(hw) != 0;
}

int hwdebug_apply(const struct hwdebug *hw, pid_t tid)
{
	unsigned i;
	int rc;

	/* Disable first: the kernel validates each address against the current DR7.
	 */
	rc = ptr_pokeuser(tid, dr_off(7), 0);
	if (rc)
		return rc;
	for (i = 0; i < HWDEBUG_SLOTS; i++) {
		if (!hw->slot[i].used)
			continue;
		rc = ptr_pokeuser(tid, dr_off(i), hw->slot[i].addr);
		if (rc)
			return rc;
	}
	return ptr_pokeuser(tid, dr_off(7), hwdebug_dr7(hw));
}

int hwdebug_clear(pid_t tid)
{
	return ptr_pokeuser(tid, dr_off(7), 0);
}

int hwdebug_take_dr6(pid_t tid, uint64_t *dr6)
{
	int rc = ptr_peekuser(tid, dr_off(6), dr6);

	if (rc)
		return rc;
	return ptr_pokeuser(tid, dr_off(6), 0);
}

int hwdebug_hit(const struct hwdebug *hw, uint64_t dr6, enum rsp_stop_reason *reason, taddr_t *addr)
{
	unsigned i;

	for (i = 0; i < HWDEBUG_SLOTS; i++) {
		if (!(dr6 & (1u << i)) || !hw->slot[i].used)
			continue;
		*addr = hw->slot[i].addr;
		switch (hw->slot[i].type) {
		case RSP_POINT_WRITE:
			*reason = RSP_REASON_WATCH;
			break;
		case RSP_POINT_ACCESS:
			*reason = RSP_REASON_AWATCH;
			break;
		default:
			*reason = RSP_REASON_HWBREAK;
			break;
		}
		return 1;
	}
	return 0;
}
