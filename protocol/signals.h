/* Host (Linux x86_64) signal numbers <-> gdb's remote-protocol numbering (enum
 * gdb_signal, include/gdb/signals.def). Pure functions. */
#ifndef TRACESTUB_PROTOCOL_SIGNALS_H
#define TRACESTUB_PROTOCOL_SIGNALS_H

#define RSP_GDB_SIGNAL_UNKNOWN 143

/* gdb number for host signal signo (0 -> 0); RSP_GDB_SIGNAL_UNKNOWN if it has
 * none. */
int rsp_signal_to_gdb(int signo);
/* host number for a gdb signal; 0 for gdb 0; -1 if the host has no such signal.
 */
int rsp_signal_from_gdb(int gdb_signo);

#endif
