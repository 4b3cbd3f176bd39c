/* Unit tests for protocol/monitor.c (TAP): longest-name matching, arguments, usage on a bad
 * argument, generated help, unknown commands. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protocol/monitor.h"

static int n_test;
static int failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

static char outbuf[4096];
static size_t outlen;

static void out(void *ctx, const char *text, size_t len)
{
	if (outlen + len < sizeof(outbuf)) {
		memcpy(outbuf + outlen, text, len);
		outlen += len;
		outbuf[outlen] = 0;
	}
}

static char seen[64];

static int cmd_set(void *t, const char *args, rsp_output_fn o, void *ctx)
{
	snprintf(seen, sizeof(seen), "set[%s]", args);
	return 0;
}

static int cmd_set_debug(void *t, const char *args, rsp_output_fn o, void *ctx)
{
	if (strcmp(args, "0") && strcmp(args, "1"))
		return -EINVAL;
	snprintf(seen, sizeof(seen), "debug[%s]", args);
	return 0;
}

static int cmd_frame(void *t, const char *args, rsp_output_fn o, void *ctx)
{
	snprintf(seen, sizeof(seen), "frame[%s]%d", args, *(int *)t);
	return 0;
}

static int cmd_frames(void *t, const char *args, rsp_output_fn o, void *ctx)
{
	snprintf(seen, sizeof(seen), "frames[%s]", args);
	return -EIO;
}

static const struct rsp_monitor_cmd a_cmds[] = {
	{"set", "WHAT", "set something", cmd_set},
	{"set debug", "0|1", "debug log", cmd_set_debug},
};
static const struct rsp_monitor_cmd b_cmds[] = {
	{"frame", "N", "go to frame N", cmd_frame},
	{"frames", "", "list frames", cmd_frames},
};
static const struct rsp_monitor_table ta = {a_cmds, 2}, tb = {b_cmds, 2};

static int run(const char *cmd)
{
	const struct rsp_monitor_table *tables[] = {&ta, &tb};
	static int target = 7;

	seen[0] = 0;
	outlen = 0;
	outbuf[0] = 0;
	return rsp_monitor_run(tables, 2, &target, cmd, strlen(cmd), out, NULL);
}

int main(void)
{
	ok(run("set debug 1") == 0 && !strcmp(seen, "debug[1]"), "longest name wins: set debug");
	ok(run("set debugger") == 0 && !strcmp(seen, "set[debugger]"),
	   "a name ends at a space: 'set debugger' is set");
	ok(run("set   x y") == 0 && !strcmp(seen, "set[x y]"), "leading spaces of args skipped");
	ok(run("set debug 2") == 0 && !strcmp(outbuf, "usage: monitor set debug 0|1\n"),
	   "-EINVAL prints the usage and succeeds");
	ok(run("frame 4") == 0 && !strcmp(seen, "frame[4]7"), "second table, target passed");
	ok(run("frames") == -EIO && !strcmp(seen, "frames[]"), "frames is not frame; errors pass");
	ok(run("fram") == -ENOENT && !seen[0], "a prefix of a name is unknown");
	ok(run("nothing") == -ENOENT, "unknown command: -ENOENT");
	ok(run("help") == 0 &&
		   !strcmp(outbuf, "  set WHAT - set something\n  set debug 0|1 - debug log\n"
				   "  frame N - go to frame N\n  frames - list frames\n"),
	   "help generated from every table, in order");
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
