/* Weak stand-ins for the probe engine's API (stub/probe.h) while it is being written on
 * another branch: they let the tracer build and its unit tests run; every call fails with
 * -ENOSYS. The engine's real (strong) definitions replace them at link time; this file goes
 * away when the engine lands. */
#include <errno.h>

#include "stub/live.h"
#include "stub/probe.h"

__attribute__((weak)) int live_probe_insert(struct live *l, pid_t pid, uint64_t addr,
					    probe_hit_fn fn, void *ctx)
{
	return -ENOSYS;
}

__attribute__((weak)) int live_probe_remove(struct live *l, pid_t pid, uint64_t addr,
					    probe_hit_fn fn, void *ctx)
{
	return -ENOSYS;
}

__attribute__((weak)) const char *live_last_error(const struct live *l)
{
	return "the probe engine is not built in";
}

__attribute__((weak)) ssize_t live_readv(struct live *l, pid_t pid, const struct iovec *local,
					 const struct iovec *remote, int n)
{
	return -ENOSYS;
}

__attribute__((weak)) void live_set_libs_hook(struct live *l, live_libs_fn fn, void *ctx) {}

__attribute__((weak)) void live_set_proc_hook(struct live *l, live_proc_fn fn, void *ctx) {}

__attribute__((weak)) int live_resume_all(struct live *l)
{
	return -ENOSYS;
}
