/* module: the test process's own module set, and a synthetic maps line. */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}

static void test_lld(void)
{
	char lnk[PATH_MAX], line[2 * PATH_MAX + 128];
	struct module_set *set = NULL;
	struct module *m;
	const struct elfsym_func *f;

	if (!realpath("build/fixtures/lnk_lld", lnk))
		snprintf(lnk, sizeof(lnk), "build/fixtures/lnk_lld");
	snprintf(line, sizeof(line),
		 "555555554000-555555555000 r--p 00000000 08:01 1 %s\n"
		 "555555555000-555555556000 r-xp 00000000 08:01 1 %s\n",
		 lnk, lnk);
	if (access(lnk, R_OK)) {
		for (int i = 0; i < 4; i++)
			printf("ok %d # SKIP %s absent (make fixtures)\n", ++n_test, lnk);
		return;
	}
	ok(!module_set_from_maps(line, strlen(line), &set) && set->n == 1, "lld: one module");
	m = set && set->n ? set->mods[0] : NULL;
	ok(m && m->bias == 0x555555554000, "lld: bias from the R E segment, not the R one at 0");
	f = m ? elfsym_find(m->syms, "lk_add") : NULL;
	ok(f && module_addr_is_code(m, f->addr + m->bias, NULL),
	   "lld: lk_add is code where mapped");
	if (m)
		m->bias += 0x1000; /* what the first PT_LOAD containing offset 0 gave */
	ok(f && !module_addr_is_code(m, f->addr + m->bias, NULL),
	   "a wrong bias never passes the check");
	module_set_free(set);
}

int main(void)
{
	printf("1..11\n");
	struct module_set *set = NULL;
	ok(module_set_from_pid(getpid(), &set) == 0 && set && set->n >= 2, "own module set");
	if (!set)
		return 0;
	uint64_t main_addr = (uint64_t)(uintptr_t)main;
	struct module *m = module_set_find(set, main_addr);
	const struct elfsym_func *f = m ? elfsym_find(m->syms, "main") : NULL;
	ok(f && f->addr + m->bias == main_addr, "bias + link-time main == &main");
	Dl_info di;
	uint64_t gp = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "getpid");
	struct module *lc = module_set_find(set, gp);
	ok(lc && dladdr((void *)(uintptr_t)gp, &di) &&
		   lc->bias == (uint64_t)(uintptr_t)di.dli_fbase,
	   "libc bias equals the dynamic loader's base");
	ok(lc && module_cfi(lc) != NULL, "libc has CFI (.eh_frame)");
	module_set_free(set);

	/* libc's text PT_LOAD: file offset 0x26000 at vaddr 0x26000 on Debian 12. */
	const char *maps =
		"7f0000000000-7f0000001000 r--p 00000000 08:01 1 /lib/x86_64-linux-gnu/libc.so.6\n"
		"7f0000100000-7f0000200000 r-xp 00026000 08:01 1 /lib/x86_64-linux-gnu/libc.so.6\n"
		"7ffd00000000-7ffd00001000 rw-p 00000000 00:00 0 [stack]\n";
	uint64_t text_va = 0;
	struct elfsym *es = NULL;
	elfsym_open("/lib/x86_64-linux-gnu/libc.so.6", &es);
	int have = es && elfsym_offset_to_vaddr(es, 0x26000, true, &text_va) == 0;
	elfsym_free(es);
	ok(module_set_from_maps(maps, strlen(maps), &set) == 0 && set->n == 1, "one x mapping");
	ok(have && set && set->n == 1 && set->mods[0]->bias == 0x7f0000100000 - text_va,
	   "bias = start - vaddr(offset)");
	module_set_free(set);

	/* lld: the R segment (offset 0, vaddr 0) and the R E one (offset 0x...690 at vaddr
	 * 0x...1690) share the file's first page; the x mapping of offset 0 is at vaddr 0x1000. */
	test_lld();

	/* psql is stripped: main is found from _start and sized by its FDE. */
	const char *psql = "/usr/lib/postgresql/15/bin/psql";
	char line[256];
	snprintf(line, sizeof(line),
		 "555555554000-555555570000 r--p 00000000 08:01 1 %s\n"
		 "555555570000-555555600000 r-xp 00018000 08:01 1 %s\n",
		 psql, psql);
	if (access(psql, R_OK)) {
		printf("ok 7 # SKIP %s absent\n", psql);
		return 0;
	}
	const struct elfsym_func *mf = NULL;
	if (!module_set_from_maps(line, strlen(line), &set) && set->n == 1)
		mf = elfsym_find(set->mods[0]->syms, "main");
	ok(mf && mf->size > 100 && elfsym_lookup(set->mods[0]->syms, mf->addr + 50, NULL) == mf,
	   "stripped psql: a sized main symbol");
	module_set_free(set);
	return 0;
}
