/* Linux x86_64 <-> gdb signal numbers. gdb's numbering is part of the remote
 * protocol and differs from Linux for BUS, USR1/2, CHLD, CONT, STOP, TSTP, URG,
 * IO, PWR, SYS and the realtime range (gdb 45..75 = SIG33..SIG63, 77 = SIG32,
 * 78 = SIG64). */
#include "protocol/signals.h"

/* Indexed by Linux signal number 0..31. SIGSTKFLT (16) has no gdb equivalent.
 */
static const unsigned char host_to_gdb[32] = {
	0,  1,	2,  3,	4,  5,	6,  10, 8,  9,	30, 11, 31, 13, 14, 15, RSP_GDB_SIGNAL_UNKNOWN,
	20, 19, 17, 18, 21, 22, 16, 24, 25, 26, 27, 28, 23, 32, 12,
};

int rsp_signal_to_gdb(int signo)
{
	if (signo >= 0 && signo < 32)
		return host_to_gdb[signo];
	if (signo == 32)
		return 77;
	if (signo >= 33 && signo <= 63)
		return 45 + (signo - 33);
	if (signo == 64)
		return 78;
	return RSP_GDB_SIGNAL_UNKNOWN;
}

int rsp_signal_from_gdb(int gdb_signo)
{
	if (gdb_signo == 0)
		return 0;
	for (int s = 1; s < 32; s++)
		if (host_to_gdb[s] == gdb_signo && gdb_signo != RSP_GDB_SIGNAL_UNKNOWN)
			return s;
	/* gdb's SIGPOLL is Linux's SIGIO. */
	if (gdb_signo == 33)
		return 29;
	if (gdb_signo == 77)
		return 32;
	if (gdb_signo >= 45 && gdb_signo <= 75)
		return 33 + (gdb_signo - 45);
	if (gdb_signo == 78)
		return 64;
	return -1;
}
