/* /proc readers used by the ptrace engine. Errors are -errno. */
#ifndef STUB_PROCFS_H
#define STUB_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/target.h"

int procfs_auxv(pid_t pid, uint64_t off, uint8_t *buf, size_t len, size_t *out_len);
int procfs_exec_file(pid_t pid, char *buf, size_t cap);
/* lldb qMemoryRegionInfo semantics: the mapping containing addr, or the unmapped gap up to the
 * next mapping (mapped=false). */
int procfs_region(pid_t pid, uint64_t addr, struct rsp_region_info *out);
int procfs_process_info(pid_t pid, struct rsp_process_info *out, char *namebuf, size_t cap);
int procfs_thread_name(pid_t pid, pid_t tid, char *buf, size_t cap);
int procfs_thread_core(pid_t pid, pid_t tid); /* -1 unknown */
/* The signals pending for thread tid itself (SigPnd: bit n-1 for signal n), not the
 * process-wide set. 0 or -errno. */
int procfs_thread_sigpending(pid_t pid, pid_t tid, uint64_t *mask);
int procfs_list_tids(pid_t pid, pid_t *out, size_t cap, size_t *n);
int procfs_cwd(pid_t pid, char *buf, size_t cap);

#endif
