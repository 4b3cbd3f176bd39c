/* The dynamic loader's library list (r_debug / link_map walk). */
#ifndef STUB_SVR4_H
#define STUB_SVR4_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/target.h"

typedef int (*svr4_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Walk r_debug/link_map of pid: AT_PHDR/AT_PHNUM from auxv -> PT_PHDR gives the load bias ->
 * PT_DYNAMIC -> DT_DEBUG -> r_debug.r_map chain. Main program (first entry) excluded; entries
 * with empty names excluded. Names copied into strings[]. r_debug not initialised yet ->
 * *n = 0, return 0. */
/* Value of auxv entry type of pid. 0, -ENOENT or -errno. */
int svr4_auxv(pid_t pid, uint64_t type, uint64_t *val);
/* Address of r_debug from the main program's DT_DEBUG (auxv AT_PHDR/AT_PHNUM -> PT_PHDR bias
 * -> PT_DYNAMIC). *rdebug = 0 (return 0) when there is none or the loader has not set it. */
/* Load bias of pid's main executable (AT_PHDR minus PT_PHDR's p_vaddr). -ENOENT without a
 * PT_PHDR (static executable). */
int svr4_exec_bias(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *bias);
/* Link-time span [lo, hi) of the main executable's PT_LOAD segments. -ENOENT if none. */
int svr4_exec_span(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *lo, uint64_t *hi);
int svr4_rdebug(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *rdebug);
int svr4_libraries(pid_t pid, svr4_read_fn rd, void *ctx, struct rsp_library *out, size_t cap,
		   size_t *n, char *strings, size_t strcap);

#endif
