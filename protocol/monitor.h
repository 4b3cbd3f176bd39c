/* Monitor commands (gdb `monitor CMD`, lldb `process plugin packet monitor CMD`) as tables a
 * target owns: name, argument synopsis, one help line, handler. `help` is generated from the
 * tables, so a command and its help cannot drift apart. Pure: no I/O but the out callback. */
#ifndef TRACESTUB_PROTOCOL_MONITOR_H
#define TRACESTUB_PROTOCOL_MONITOR_H

#include <stddef.h>

#include "protocol/target.h"

/* args: what follows the name, leading spaces skipped, NUL-terminated ("" when none).
 * Returns 0, -EINVAL for bad arguments (the usage line is printed), or another -errno. */
typedef int (*rsp_monitor_fn)(void *t, const char *args, rsp_output_fn out, void *ctx);

struct rsp_monitor_cmd {
	const char *name; /* one word or more: "set debug" */
	const char *args; /* synopsis for help and usage, "" for none */
	const char *help; /* one line, no newline */
	rsp_monitor_fn run;
};

struct rsp_monitor_table {
	const struct rsp_monitor_cmd *cmds;
	size_t n;
};

/* printf to a monitor's output (one line of at most 511 bytes; longer is cut). */
void rsp_monitor_printf(rsp_output_fn out, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Run cmd (len bytes, NUL-terminated) against the tables in order: the longest name that
 * cmd starts with, followed by a space or the end, wins. "help" lists every command of every
 * table. Returns the handler's result (0 after printing the usage for -EINVAL), or -ENOENT
 * when nothing matches. */
int rsp_monitor_run(const struct rsp_monitor_table *const *tables, size_t ntables, void *t,
		    const char *cmd, size_t len, rsp_output_fn out, void *ctx);

#endif
