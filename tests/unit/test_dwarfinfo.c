/* dwarfinfo against real files: dw_args (-O0 C, every parameter kind), dw_opt (-O2 C:
 * location lists, entry values, inlined instances with ranges), go_args and go_webapp (Go
 * register ABI, compressed sections, strings, slices, errors, an inlined net/http.Get). TAP,
 * plan at the end. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/debuginfo/dwarfinfo_internal.h"

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}
static void skip(int n, const char *why)
{
	for (int i = 0; i < n; i++)
		printf("ok %d # SKIP %s\n", ++n_test, why);
}

struct mod {
	struct dwarfinfo *di;
	struct elfsym *es;
};

static bool open_mod(const char *path, struct mod *m)
{
	m->di = NULL;
	m->es = NULL;
	if (access(path, R_OK))
		return false;
	return !dwarfinfo_open(path, &m->di) && !elfsym_open(path, &m->es);
}

static void close_mod(struct mod *m)
{
	dwarfinfo_free(m->di);
	elfsym_free(m->es);
}

static const struct dwfunc *fn(struct mod *m, const char *name)
{
	const struct elfsym_func *s = elfsym_find(m->es, name);
	const struct dwfunc *f = s ? dwarfinfo_func_at(m->di, s->addr) : NULL;

	return f && !strcmp(f->name, name) ? f : NULL;
}

static const struct dwparam *param1(struct mod *m, const char *func)
{
	const struct dwfunc *f = fn(m, func);

	return f && f->nparams == 1 ? &f->params[0] : NULL;
}

static bool kind_is(const struct dwparam *p, enum dwt_kind k, uint32_t size)
{
	return p && p->type.kind == k && p->type.size == size;
}

static void test_c(void)
{
	struct mod m;
	const struct dwparam *p;
	const struct dwfunc *f;
	const struct dwfunc *inl[4];
	uint64_t a[4];
	size_t n = 0;
	unsigned got = 0;

	if (!open_mod("build/fixtures/dw_args", &m)) {
		skip(22, "build/fixtures/dw_args absent (make fixtures)");
		close_mod(&m);
		return;
	}
	ok(kind_is(param1(&m, "f_int"), DWT_INT, 4) && !strcmp(param1(&m, "f_int")->name, "i"),
	   "f_int(int i)");
	ok(kind_is(param1(&m, "f_uchar"), DWT_UINT, 1), "unsigned char: unsigned, 1 byte");
	ok(kind_is(param1(&m, "f_short"), DWT_INT, 2), "short: signed, 2 bytes");
	ok(kind_is(param1(&m, "f_long"), DWT_INT, 8), "long: signed, 8 bytes");
	ok(kind_is(param1(&m, "f_llong"), DWT_INT, 8), "long long");
	ok(kind_is(param1(&m, "f_ptr"), DWT_PTR, 8), "void *: pointer");
	ok(kind_is(param1(&m, "f_str"), DWT_CSTR, 8), "const char *: C string");
	p = param1(&m, "f_struct");
	ok(p && p->type.kind == DWT_STRUCT && p->type.size == 16 && p->type.nleaves == 2 &&
		   !strcmp(p->type.leaves[0].name, "pv.a") && p->type.leaves[0].offset == 0 &&
		   p->type.leaves[0].kind == DWT_INT && p->type.leaves[0].size == 4 &&
		   !strcmp(p->type.leaves[1].name, "pv.b") && p->type.leaves[1].offset == 8 &&
		   p->type.leaves[1].size == 8,
	   "struct pair by value: leaves pv.a (int at 0), pv.b (long at 8)");
	ok(kind_is(param1(&m, "f_structp"), DWT_PTR, 8), "struct pointer");
	ok(kind_is(param1(&m, "f_double"), DWT_FLOAT, 8), "double");
	ok(kind_is(param1(&m, "f_bool"), DWT_BOOL, 1), "bool");
	ok(kind_is(param1(&m, "f_enum"), DWT_UINT, 4), "enum (gcc: unsigned underlying type)");
	ok(kind_is(param1(&m, "f_typedef"), DWT_UINT, 4), "typedef const unsigned int");
	f = fn(&m, "f_double");
	ok(f && f->ret.kind == DWT_FLOAT && f->ret.size == 8 && f->lang == DWLANG_C,
	   "f_double returns double, language C");
	f = fn(&m, "f_many");
	ok(f && f->nparams == 7 && !strcmp(f->params[1].name, "b") &&
		   f->params[1].type.kind == DWT_CHAR && f->params[3].type.kind == DWT_CSTR &&
		   f->params[4].type.kind == DWT_UINT && f->ret.kind == DWT_INT,
	   "f_many: 7 parameters, char b, const char *d, unsigned long e");
	/* -O0: a spill slot below the CFA (not valid before the prologue), and the 7th int on
	 * the caller's stack at CFA+0. */
	ok(f && f->params[0].nlocs == 1 && f->params[0].locs[0].npieces == 1 &&
		   f->params[0].locs[0].pieces[0].kind == DWP_MEM &&
		   f->params[0].locs[0].pieces[0].dwreg == DWBASE_CFA &&
		   f->params[0].locs[0].pieces[0].off < 0,
	   "f_many a: DW_OP_fbreg -N over DW_OP_call_frame_cfa");
	ok(f && f->params[6].nlocs == 1 && f->params[6].locs[0].pieces[0].kind == DWP_MEM &&
		   f->params[6].locs[0].pieces[0].dwreg == DWBASE_CFA &&
		   f->params[6].locs[0].pieces[0].off == 0 &&
		   dwarfinfo_loc_at(&f->params[6], f->low) == &f->params[6].locs[0],
	   "f_many g: the stack argument at CFA+0, valid at entry");
	n = dwarfinfo_inlined(m.di, "f_inl", false, inl, 4);
	ok(n == 2 && inl[0]->inlined && !strcmp(inl[0]->caller, "f_calls_inl") &&
		   inl[0]->call_line == 75 && inl[0]->call_file &&
		   strstr(inl[0]->call_file, "dw_args.c") && inl[0]->nranges >= 1 &&
		   inl[0]->nparams == 1 && !strcmp(inl[0]->params[0].name, "x") &&
		   inl[0]->params[0].type.kind == DWT_INT,
	   "f_inl: 2 inlined instances in f_calls_inl at dw_args.c:75 with parameter x");
	ok(dwarfinfo_inlined(m.di, "f_i*", true, NULL, 0) == 2 &&
		   dwarfinfo_inlined(m.di, "f_int", false, NULL, 0) == 0,
	   "inlined by glob; f_int is never inlined");
	f = fn(&m, "f_int");
	ok(f && !dwarfinfo_line_addrs(m.di, "dw_args.c", 14, a, 4, &n, &got) && n == 1 &&
		   got == 14 && a[0] > f->low && a[0] < f->high,
	   "dw_args.c:14 is one address inside f_int, after its prologue");
	ok(!dwarfinfo_line_addrs(m.di, "fixtures/dw_args.c", 10, a, 4, &n, &got) && got > 10 &&
		   n >= 1,
	   "a line without code moves to the next line with code");
	ok(dwarfinfo_line_addrs(m.di, "other.c", 14, a, 4, &n, &got) == -ENOENT &&
		   dwarfinfo_line_addrs(m.di, "args.c", 14, a, 4, &n, &got) == -ENOENT,
	   "unknown file (a suffix must be whole path components) is -ENOENT");
	close_mod(&m);
}

static void test_opt(void)
{
	struct mod m;
	const struct dwfunc *f, *inl[4];
	const struct dwloc *l;
	size_t n;

	if (!open_mod("build/fixtures/dw_opt", &m)) {
		skip(4, "build/fixtures/dw_opt absent (make fixtures)");
		close_mod(&m);
		return;
	}
	f = fn(&m, "tail");
	l = f && f->nparams == 2 ? dwarfinfo_loc_at(&f->params[0], f->low) : NULL;
	ok(l && l->npieces == 1 && l->pieces[0].kind == DWP_REG && l->pieces[0].dwreg == 5,
	   "tail(a): location list, rdi (DWARF 5) at entry");
	ok(f && f->params[0].nlocs >= 2 && f->params[0].locs[1].pieces[0].kind == DWP_ENTRY_REG &&
		   f->params[0].locs[1].pieces[0].dwreg == 5,
	   "tail(a) later: DW_OP_entry_value(rdi)");
	f = fn(&m, "uses_inline");
	n = dwarfinfo_inlined(m.di, "sq", false, inl, 4);
	ok(f && n == 2 && inl[0]->low >= f->low && inl[0]->high <= f->high &&
		   inl[1]->low >= f->low && inl[1]->high <= f->high && inl[0]->low != inl[1]->low,
	   "sq: two inlined instances inside uses_inline, distinct entries");
	ok(n == 2 && (inl[0]->low == f->low || inl[1]->low == f->low),
	   "DW_AT_entry_pc of an instance with DW_AT_ranges (rnglists) is used");
	close_mod(&m);
}

static void test_go(void)
{
	struct mod m;
	const struct dwfunc *f, *inl[2];
	const struct dwloc *l;
	uint64_t off = 0;

	if (!open_mod("build/fixtures/go_args", &m)) {
		skip(7, "build/fixtures/go_args absent (make fixtures)");
		close_mod(&m);
		return;
	}
	f = fn(&m, "main.add");
	l = f && f->nparams == 3 ? dwarfinfo_loc_at(&f->params[1], f->low) : NULL;
	ok(f && f->lang == DWLANG_GO && l && l->pieces[0].kind == DWP_REG &&
		   l->pieces[0].dwreg == 3 && f->params[2].is_result && !f->params[2].nlocs,
	   "main.add: compressed DWARF read, b in rbx at entry, ~r0 a result without location");
	f = fn(&m, "main.greet");
	l = f && f->nparams == 4 ? dwarfinfo_loc_at(&f->params[0], f->low) : NULL;
	ok(l && f->params[0].type.kind == DWT_GOSTRING && l->npieces == 2 &&
		   l->pieces[0].dwreg == 0 && l->pieces[0].size == 8 && l->pieces[1].dwreg == 3,
	   "greet(name string): rax+rbx pieces");
	ok(f && f->nparams == 4 && f->params[3].type.kind == DWT_GOIFACE &&
		   f->params[3].type.go_error && f->params[3].is_result &&
		   f->params[2].type.kind == DWT_GOSTRING,
	   "greet results: string, error");
	f = fn(&m, "main.sum");
	ok(f && f->nparams == 2 && f->params[0].type.kind == DWT_GOSLICE &&
		   f->params[0].type.elem_kind == DWT_INT && f->params[0].type.elem_size == 8 &&
		   f->params[0].type.nleaves == 3,
	   "sum(xs []int): slice of 8-byte ints");
	ok(!dwarfinfo_member_offset(m.di, "runtime.g", "goid", &off) && off > 16 && off < 1024,
	   "runtime.g.goid offset found");
	ok(dwarfinfo_member_offset(m.di, "runtime.g", "nosuch", &off) == -ENOENT,
	   "unknown member: -ENOENT");
	close_mod(&m);
	if (!open_mod("build/fixtures/go_webapp", &m)) {
		skip(2, "build/fixtures/go_webapp absent");
		close_mod(&m);
		return;
	}
	ok(dwarfinfo_inlined(m.di, "net/http.Get", false, inl, 2) == 1 &&
		   !strcmp(inl[0]->caller, "main.fetch") && inl[0]->nranges >= 1 &&
		   inl[0]->nparams == 3 && inl[0]->params[0].type.kind == DWT_GOSTRING &&
		   inl[0]->params[2].type.go_error,
	   "net/http.Get inlined into main.fetch (DWARF 4 ranges), url string, err error");
	f = fn(&m, "main.fetch");
	ok(f && f->nparams == 5, "main.fetch: duplicated Go results dropped (3 args, 2 results)");
	close_mod(&m);
}

/* The indexes kept on disk: the second open reads them back (no walk), answers the same, and a
 * damaged cache file is ignored. */
static void test_cache(void)
{
	const char *path = "build/fixtures/dw_args";
	char dir[] = "/tmp/dwcache-XXXXXX", cmd[128];
	const struct dwfunc *a[4], *b[4];
	struct dwarfinfo *d1 = NULL, *d2 = NULL, *d3 = NULL;
	size_t n1, n2, n3;
	const struct dwfunc *f1, *f2;

	if (access(path, R_OK) || !mkdtemp(dir)) {
		for (int i = 0; i < 5; i++)
			ok(1, "# SKIP dw_args absent");
		return;
	}
	setenv("XDG_CACHE_HOME", dir, 1);
	ok(!dwarfinfo_open(path, &d1) && !d1->from_cache, "first open: the DIEs walked");
	n1 = dwarfinfo_inlined(d1, "f_inl", false, a, 4);
	f1 = dwarfinfo_func_at(d1, a[0] ? a[0]->low : 0);
	ok(!dwarfinfo_open(path, &d2) && d2->from_cache, "second open: the indexes from the cache");
	n2 = dwarfinfo_inlined(d2, "f_inl", false, b, 4);
	f2 = dwarfinfo_func_at(d2, b[0] ? b[0]->low : 0);
	ok(n1 == 2 && n2 == n1 && a[0]->low == b[0]->low && a[1]->low == b[1]->low &&
		   !strcmp(a[0]->caller, b[0]->caller),
	   "cached: the same inlined instances, callers and addresses");
	ok((f1 == NULL) == (f2 == NULL) &&
		   (!f1 || (f1->low == f2->low && !strcmp(f1->name, f2->name) &&
			    f1->nparams == f2->nparams)),
	   "cached: the same function at an address, with its parameters");
	/* a byte of every cache file flipped: the CRC fails, the file is walked again */
	snprintf(cmd, sizeof(cmd),
		 "for f in %s/tracestub/dwarfidx-*; do printf 'X' | dd of=$f bs=1 seek=40 "
		 "conv=notrunc 2>/dev/null; done",
		 dir);
	ok(!system(cmd) && !dwarfinfo_open(path, &d3) && !d3->from_cache &&
		   (n3 = dwarfinfo_inlined(d3, "f_inl", false, b, 4)) == n1,
	   "a damaged cache file is ignored: walked again, the same answers");
	dwarfinfo_free(d1);
	dwarfinfo_free(d2);
	dwarfinfo_free(d3);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		ok(0, "cleanup");
	unsetenv("XDG_CACHE_HOME");
}

int main(void)
{
	struct dwarfinfo *di = NULL;
	char home[] = "/tmp/dwhome-XXXXXX", rm[64];
	bool have_home = mkdtemp(home) != NULL;

	/* the other tests' indexes go to a folder of their own, not ~/.cache */
	if (have_home)
		setenv("XDG_CACHE_HOME", home, 1);
	test_c();
	test_cache(); /* its own folder, then none */
	if (have_home)
		setenv("XDG_CACHE_HOME", home, 1);
	test_opt();
	test_go();
	ok(dwarfinfo_open("/nonexistent/x", &di) == -ENOENT && !di, "missing file: -ENOENT");
	ok(dwarfinfo_open("/bin/true", &di) == -ENOENT && !di, "stripped binary: -ENOENT");
	snprintf(rm, sizeof(rm), "rm -rf %s", home);
	if (have_home && system(rm))
		ok(0, "cleanup");
	printf("1..%d\n", n_test);
	return 0;
}
