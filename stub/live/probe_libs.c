/* The dynamic loader hook: an internal probe on r_brk (the loader calls it around every
 * change of the link map) that calls the libs hook when r_debug.r_state is RT_CONSISTENT,
 * so probes in a new library are placed before its code runs. r_brk comes from r_debug
 * (the main program's DT_DEBUG) once the loader set it up, else from the loader's own
 * _dl_debug_state symbol (AT_BASE + the symbol in ld.so's file), so the hook is in place
 * at the very first instruction after exec. */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/live/internal.h"
#include "stub/os/os.h"

#define RDEBUG_BRK   16 /* struct r_debug: int r_version; link_map *r_map; r_brk; r_state */
#define RDEBUG_STATE 24

struct rd_ctx {
	struct live *l;
	struct proc *p;
};

static int rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct rd_ctx *c = ctx;
	size_t done = 0;
	int rc = live_mem_read_raw(c->l, c->p, addr, buf, len, &done);

	return rc ? rc : done == len ? 0 : -EIO;
}

static taddr_t find_rdebug(struct live *l, struct proc *p)
{
	struct rd_ctx c = {l, p};
	uint64_t r = 0;

	if (svr4_rdebug(p->pid, rd, &c, &r))
		return 0;
	return r;
}

/* The path of the file mapped at base (ld.so's first mapping). */
static int mapped_path(pid_t pid, uint64_t base, char *out, size_t cap)
{
	char path[64], line[4352];
	FILE *f;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		int off = 0;

		if (sscanf(line, "%llx-%*x %*s %*s %*s %*s %n", &a, &off) < 1 || a != base || !off)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, cap, "%s", line + off);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

/* _dl_debug_state in the loader, from its symbol table (before the loader ran). */
static taddr_t loader_brk(struct live *l, struct proc *p)
{
	char path[4096];
	struct elfsym *es = NULL;
	const struct elfsym_func *fn;
	uint64_t base = 0;
	taddr_t a = 0;

	if (svr4_auxv(p->pid, AT_BASE, &base) || !base ||
	    mapped_path(p->pid, base, path, sizeof(path)) || elfsym_open(path, &es))
		return 0;
	fn = elfsym_find(es, "_dl_debug_state");
	if (fn)
		a = base + fn->addr; /* ld.so is linked at 0 */
	elfsym_free(es);
	return a;
}

static enum probe_verdict libs_hit(void *ctx, const struct probe_hit *h)
{
	struct live *l = ctx;
	struct proc *p = proc_find(&l->pt, h->pid);
	struct rd_ctx c = {l, p};
	int32_t state = -1;

	if (!p || !p->ps || !l->nlibs_hooks)
		return PROBE_RESUME;
	if (!p->ps->rdebug)
		p->ps->rdebug = find_rdebug(l, p);
	if (p->ps->rdebug && !rd(&c, p->ps->rdebug + RDEBUG_STATE, &state, sizeof(state)) &&
	    state == RT_CONSISTENT)
		for (size_t i = 0; i < l->nlibs_hooks; i++)
			l->libs_hooks[i].fn(l->libs_hooks[i].ctx, h->pid);
	return PROBE_RESUME;
}

void probe_libs_arm(struct live *l, struct proc *p)
{
	struct rd_ctx c = {l, p};
	taddr_t rdebug, brk = 0;

	if (!l->nlibs_hooks || p->fork_child || p->vfork_keep || (p->ps && p->ps->rbrk))
		return;
	rdebug = find_rdebug(l, p);
	if (rdebug)
		rd(&c, rdebug + RDEBUG_BRK, &brk, sizeof(brk));
	if (!brk)
		brk = loader_brk(l, p);
	if (!brk) {
		live_log(l, "libs hook: no dynamic loader in %d", (int)p->pid);
		return;
	}
	if (live_probe_insert(l, p->pid, brk, libs_hit, l) && !p->ps)
		return;
	if (p->ps && probe_site_find(p->ps, brk)) {
		p->ps->rbrk = brk;
		p->ps->rdebug = rdebug;
	}
}
