/* Monitor command tables: matching, usage and generated help (protocol/monitor.h). */
#include "protocol/monitor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rsp_monitor_printf(rsp_output_fn out, void *ctx, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		out(ctx, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void help(const struct rsp_monitor_table *const *tables, size_t ntables, rsp_output_fn out,
		 void *ctx)
{
	for (size_t i = 0; i < ntables; i++)
		for (size_t k = 0; k < tables[i]->n; k++) {
			const struct rsp_monitor_cmd *c = &tables[i]->cmds[k];

			rsp_monitor_printf(out, ctx, "  %s%s%s - %s\n", c->name,
					   *c->args ? " " : "", c->args, c->help);
		}
}

int rsp_monitor_run(const struct rsp_monitor_table *const *tables, size_t ntables, void *t,
		    const char *cmd, size_t len, rsp_output_fn out, void *ctx)
{
	const struct rsp_monitor_cmd *best = NULL;
	size_t best_len = 0;
	int rc;

	if (len == 4 && !memcmp(cmd, "help", 4)) {
		help(tables, ntables, out, ctx);
		return 0;
	}
	for (size_t i = 0; i < ntables; i++)
		for (size_t k = 0; k < tables[i]->n; k++) {
			const struct rsp_monitor_cmd *c = &tables[i]->cmds[k];
			size_t n = strlen(c->name);

			if (n <= len && n > best_len && !memcmp(cmd, c->name, n) &&
			    (n == len || cmd[n] == ' ')) {
				best = c;
				best_len = n;
			}
		}
	if (!best)
		return -ENOENT;
	cmd += best_len;
	while (*cmd == ' ')
		cmd++;
	rc = best->run(t, cmd, out, ctx);
	if (rc == -EINVAL) {
		rsp_monitor_printf(out, ctx, "usage: monitor %s%s%s\n", best->name,
				   *best->args ? " " : "", best->args);
		return 0;
	}
	return rc;
}
