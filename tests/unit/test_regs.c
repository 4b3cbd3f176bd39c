/* Unit tests for arch/x86_64/regs.c and xml.c: table consistency, DWARF
 * mapping, target.xml structure, ptrace <-> g conversions (byte-exact), x87 tag
 * word conversion. TAP output. */
#include "arch/x86_64/regs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <elf.h>
#include <unistd.h>

static int n_test;
static int n_fail;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

static void test_table(void)
{
	const struct x86_64_reg *t = x86_64_regs();
	int contiguous = 1;
	unsigned off = 0;
	for (int i = 0; i < X86_64_NREGS; i++) {
		if (t[i].offset != off || !t[i].name || !t[i].type || !t[i].feature)
			contiguous = 0;
		off += t[i].bitsize / 8;
	}
	ok(contiguous, "offsets contiguous, all entries filled");
	ok(x86_64_g_size() == 816 && off == 816, "g size 816 (560 + avx 256)");
	ok(t[X86_64_YMM0H].offset == 560, "560 bytes before avx");
	ok(t[X86_64_RIP].offset == 128 && t[X86_64_EFLAGS].offset == 136 &&
		   t[X86_64_ST0].offset == 164 && t[X86_64_XMM0].offset == 276 &&
		   t[X86_64_MXCSR].offset == 532 && t[X86_64_ORIG_RAX].offset == 536 &&
		   t[X86_64_FS_BASE].offset == 544 && t[X86_64_GS_BASE].offset == 552,
	   "gdb amd64 offsets (rip 128, eflags 136, st0 164, xmm0 276, mxcsr 532)");
	ok(strcmp(t[X86_64_ORIG_RAX].name, "orig_rax") == 0 && t[57].bitsize == 64 &&
		   strcmp(t[X86_64_YMM0H + 15].name, "ymm15h") == 0 &&
		   strcmp(t[X86_64_ST0 + 7].name, "st7") == 0 && t[X86_64_ST0].bitsize == 80 &&
		   t[X86_64_EFLAGS].bitsize == 32 && t[X86_64_GS].bitsize == 32,
	   "names and bitsizes");
	ok(t[X86_64_RBP].expedite && t[X86_64_RSP].expedite && t[X86_64_RIP].expedite &&
		   !t[X86_64_RAX].expedite,
	   "expedite rbp rsp rip");
}

static void test_dwarf(void)
{
	static const int pairs[][2] = {
		{0, X86_64_RAX},	{1, X86_64_RDX},      {2, X86_64_RCX},
		{3, X86_64_RBX},	{4, X86_64_RSI},      {5, X86_64_RDI},
		{6, X86_64_RBP},	{7, X86_64_RSP},      {8, X86_64_R8},
		{15, X86_64_R15},	{16, X86_64_RIP},     {17, X86_64_XMM0},
		{32, X86_64_XMM0 + 15}, {33, X86_64_ST0},     {40, X86_64_ST0 + 7},
		{49, X86_64_EFLAGS},	{50, X86_64_ES},      {51, X86_64_CS},
		{52, X86_64_SS},	{53, X86_64_DS},      {54, X86_64_FS},
		{55, X86_64_GS},	{58, X86_64_FS_BASE}, {59, X86_64_GS_BASE},
		{64, X86_64_MXCSR},	{65, X86_64_FCTRL},   {66, X86_64_FSTAT},
	};
	int good = 1;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (x86_64_regno_from_dwarf(pairs[i][0]) != pairs[i][1] ||
		    x86_64_dwarf_from_regno(pairs[i][1]) != pairs[i][0])
			good = 0;
	}
	ok(good, "DWARF mapping both ways");
	ok(x86_64_regno_from_dwarf(-1) == -1 && x86_64_regno_from_dwarf(41) == -1 &&
		   x86_64_regno_from_dwarf(1000) == -1 &&
		   x86_64_dwarf_from_regno(X86_64_ORIG_RAX) == -1 &&
		   x86_64_dwarf_from_regno(X86_64_YMM0H) == -1 &&
		   x86_64_dwarf_from_regno(X86_64_NREGS) == -1 && x86_64_dwarf_from_regno(-1) == -1,
	   "DWARF mapping: no such register");
	int round = 1;
	for (int r = 0; r < X86_64_NREGS; r++) {
		int d = x86_64_dwarf_from_regno(r);
		if (d >= 0 && x86_64_regno_from_dwarf(d) != r)
			round = 0;
	}
	ok(round, "DWARF numbers unique");
}

/* Value of attribute attr inside the tag starting at p (up to '>'), copied into
 * out. */
static int attr(const char *p, const char *attr_name, char *out, size_t cap)
{
	const char *end = strchr(p, '>');
	char key[32];
	snprintf(key, sizeof(key), " %s=\"", attr_name);
	const char *a = strstr(p, key);
	if (!a || !end || a > end)
		return -1;
	a += strlen(key);
	const char *q = strchr(a, '"');
	if (!q || (size_t)(q - a) >= cap)
		return -1;
	memcpy(out, a, (size_t)(q - a));
	out[q - a] = 0;
	return 0;
}

/* Every element opened is closed, in order (a tiny well-formedness check). */
static int balanced(const char *x)
{
	const char *stack[16];
	size_t depth = 0;
	for (const char *p = strchr(x, '<'); p; p = strchr(p + 1, '<')) {
		if (p[1] == '?' || p[1] == '!')
			continue;
		const char *gt = strchr(p, '>');
		if (!gt)
			return 0;
		if (p[1] == '/') {
			size_t n = strcspn(p + 2, ">");
			if (depth == 0 || strncmp(stack[depth - 1], p + 2, n) != 0)
				return 0;
			depth--;
		} else if (gt[-1] != '/') {
			if (depth == 16)
				return 0;
			stack[depth++] = p + 1;
		}
	}
	return depth == 0;
}

static void test_xml(void)
{
	static char x[32768];
	size_t n = x86_64_target_xml(x, sizeof(x) - 1);
	ok(n > 0 && n < sizeof(x) - 1, "target.xml fits");
	x[n] = 0;
	ok(strlen(x) == n, "no NUL inside");
	ok(strncmp(x,
		   "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM "
		   "\"gdb-target.dtd\">\n",
		   64) == 0 &&
		   strstr(x, "<architecture>i386:x86-64</architecture>") &&
		   strstr(x, "<osabi>GNU/Linux</osabi>") &&
		   strcmp(x + n - 21, "</feature>\n</target>\n") == 0,
	   "header, architecture, osabi, trailer");
	ok(balanced(x), "elements balanced");
	ok(!strstr(x, "xi:include"), "no xi:include");
	const char *feats[] = {"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse",
			       "org.gnu.gdb.i386.linux", "org.gnu.gdb.i386.segments",
			       "org.gnu.gdb.i386.avx"};
	const char *prev = x;
	int fo = 1;
	for (int i = 0; i < 5; i++) {
		char key[64];
		snprintf(key, sizeof(key), "<feature name=\"%s\">", feats[i]);
		const char *f = strstr(x, key);
		if (!f || f < prev)
			fo = 0;
		prev = f ? f : prev;
	}
	ok(fo, "five features in order");
	ok(strstr(x, "<flags id=\"i386_eflags\" size=\"4\">") &&
		   strstr(x, "<union id=\"vec128\">") && strstr(x, "<flags id=\"i386_mxcsr\""),
	   "type definitions present");
	const struct x86_64_reg *t = x86_64_regs();
	int r = 0, good = 1;
	for (const char *p = strstr(x, "<reg "); p; p = strstr(p + 1, "<reg "), r++) {
		char name[32], bits[8], num[8];
		if (r >= X86_64_NREGS || attr(p, "name", name, sizeof(name)) ||
		    attr(p, "bitsize", bits, sizeof(bits)) || attr(p, "regnum", num, sizeof(num)) ||
		    strcmp(name, t[r].name) != 0 || atoi(bits) != t[r].bitsize || atoi(num) != r)
			good = 0;
	}
	ok(good && r == X86_64_NREGS, "every register in regnum order with its bitsize");
	ok(strstr(x, "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\" regnum=\"16\" "
		     "group=\"general\" offset=\"128\" encoding=\"uint\" format=\"hex\" "
		     "dwarf_regnum=\"16\" ehframe_regnum=\"16\" generic=\"pc\"/>\n") != NULL,
	   "rip line exact");
	char small[10];
	memset(small, 'Z', sizeof(small));
	size_t n2 = x86_64_target_xml(small, 8);
	ok(n2 == n && memcmp(small, x, 8) == 0 && small[8] == 'Z' && small[9] == 'Z',
	   "truncation: full length returned, only cap bytes written");
	ok(x86_64_target_xml(NULL, 0) == n, "NULL buffer, cap 0");
}

static void fill(void *p, size_t n, unsigned seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
}

/* Structs holding only what the g block can represent. */
static void make_state(struct user_regs_struct *gp, struct user_fpregs_struct *fp, uint8_t *xs,
		       size_t xs_len)
{
	fill(gp, sizeof(*gp), 1);
	gp->eflags &= 0xffffffffu;
	gp->cs &= 0xffffffffu;
	gp->ss &= 0xffffffffu;
	gp->ds &= 0xffffffffu;
	gp->es &= 0xffffffffu;
	gp->fs &= 0xffffffffu;
	gp->gs &= 0xffffffffu;
	memset(fp, 0, sizeof(*fp));
	fill(fp->st_space, sizeof(fp->st_space), 2);
	for (int j = 0; j < 8; j++)
		memset((uint8_t *)&fp->st_space[j * 4] + 10, 0, 6);
	fill(fp->xmm_space, sizeof(fp->xmm_space), 3);
	fp->cwd = 0x037f;
	fp->swd = 0x3800; /* TOP = 7 */
	fp->ftw = 0xa5;
	fp->fop = 0x5ab;
	fp->rip = 0x0000beef12345678ull;
	fp->rdp = 0x0000cafe9abcdef0ull;
	fp->mxcsr = 0x1fa0;
	memset(xs, 0, xs_len);
	if (xs_len >= 832) {
		fill(xs + 576, 256, 4);
		xs[512] = 7;
	}
}

static void test_roundtrip(void)
{
	struct user_regs_struct gp, gp2;
	struct user_fpregs_struct fp, fp2;
	static uint8_t xs[1024], xs2[1024];
	uint8_t g[816], g2[816], avail[X86_64_NREGS];

	make_state(&gp, &fp, xs, sizeof(xs));
	x86_64_regs_to_g(&gp, &fp, xs, sizeof(xs), g, avail);
	int all = 1;
	for (int r = 0; r < X86_64_NREGS; r++)
		all &= avail[r] == 1;
	ok(all, "all registers available with full state");
	uint8_t exp_rip[8];
	memcpy(exp_rip, &gp.rip, 8);
	ok(memcmp(g + 128, exp_rip, 8) == 0 && memcmp(g + 0, &gp.rax, 8) == 0 &&
		   memcmp(g + 8, &gp.rbx, 8) == 0 && memcmp(g + 136, &gp.eflags, 4) == 0 &&
		   memcmp(g + 536, &gp.orig_rax, 8) == 0 && memcmp(g + 552, &gp.gs_base, 8) == 0,
	   "gp fields at their offsets");
	ok(memcmp(g + 164 + 10 * 3, (uint8_t *)fp.st_space + 16 * 3, 10) == 0 &&
		   memcmp(g + 276 + 16 * 15, (uint8_t *)fp.xmm_space + 16 * 15, 16) == 0 &&
		   memcmp(g + 560 + 16 * 2, xs + 576 + 32, 16) == 0,
	   "st3, xmm15, ymm2h at their offsets");
	static const uint8_t fpc[32] = {
		0x7f, 0x03, 0,	  0,	0x00, 0x38, 0, 0, 0,	0,    0,    0,	  0xef, 0xbe, 0, 0,
		0x78, 0x56, 0x34, 0x12, 0xfe, 0xca, 0, 0, 0xf0, 0xde, 0xbc, 0x9a, 0xab, 0x05, 0, 0};
	uint8_t fpc_got[32];
	memcpy(fpc_got, g + 244, 32);
	memset(fpc_got + 8, 0, 4); /* ftag checked separately */
	ok(memcmp(fpc_got, fpc, 32) == 0, "fctrl fstat fiseg fioff foseg fooff fop exact bytes");
	ok(memcmp(g + 532, "\xa0\x1f\0\0", 4) == 0, "mxcsr bytes");

	memset(&gp2, 0, sizeof(gp2));
	memset(&fp2, 0, sizeof(fp2));
	memset(xs2, 0, sizeof(xs2));
	x86_64_regs_from_g(g, &gp2, &fp2, xs2, sizeof(xs2));
	ok(memcmp(&gp, &gp2, sizeof(gp)) == 0, "user_regs_struct round trip byte-exact");
	ok(memcmp(&fp, &fp2, sizeof(fp)) == 0, "user_fpregs_struct round trip byte-exact");
	ok(memcmp(xs + 576, xs2 + 576, 256) == 0 && xs2[512] == 4,
	   "xsave ymmh round trip, XSTATE_BV avx bit set");
	x86_64_regs_to_g(&gp2, &fp2, xs2, sizeof(xs2), g2, NULL);
	ok(memcmp(g, g2, sizeof(g)) == 0, "g -> ptrace -> g byte-exact");
}

static void test_avail(void)
{
	struct user_regs_struct gp;
	struct user_fpregs_struct fp;
	static uint8_t xs[1024];
	uint8_t g[816], avail[X86_64_NREGS];

	make_state(&gp, &fp, xs, sizeof(xs));
	x86_64_regs_to_g(&gp, NULL, NULL, 0, g, avail);
	ok(avail[X86_64_RIP] && avail[X86_64_GS_BASE] && !avail[X86_64_ST0] &&
		   !avail[X86_64_MXCSR] && !avail[X86_64_XMM0] && !avail[X86_64_YMM0H + 15],
	   "no fp, no xsave: only gp available");
	x86_64_regs_to_g(&gp, &fp, xs, 831, g, avail);
	ok(avail[X86_64_MXCSR] && !avail[X86_64_YMM0H], "short xsave: ymmh unavailable");
	xs[512] = 3; /* AVX component in init state */
	x86_64_regs_to_g(&gp, &fp, xs, 832, g, avail);
	static const uint8_t zero[256];
	ok(avail[X86_64_YMM0H] && memcmp(g + 560, zero, 256) == 0,
	   "XSTATE_BV avx clear: ymmh zero, available");
}

static void test_ftag(void)
{
	struct user_fpregs_struct fp;
	uint8_t g[816], avail[X86_64_NREGS];
	static const uint8_t one[10] = {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f}; /* 1.0 */
	static const uint8_t nan[10] = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x7f};
	static const uint8_t denorm[10] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0};

	memset(&fp, 0, sizeof(fp));
	fp.swd = 0x3000; /* TOP = 6: ST(0) is physical 6, ST(1) physical 7 */
	fp.ftw = 0xc0;
	memcpy(&fp.st_space[0], one, 10);
	x86_64_regs_to_g(NULL, &fp, NULL, 0, g, avail);
	ok(memcmp(g + 252, "\xff\x4f\0\0", 4) == 0, "ftag: st0 valid, st1 zero (TOP 6) = 0x4fff");
	fp.swd = 0;
	fp.ftw = 0x07;
	memcpy(&fp.st_space[0], nan, 10);
	memcpy(&fp.st_space[4], denorm, 10);
	memcpy(&fp.st_space[8], one, 10);
	x86_64_regs_to_g(NULL, &fp, NULL, 0, g, avail);
	ok(memcmp(g + 252, "\xca\xff\0\0", 4) == 0, "ftag: special, special, valid = 0xffca");
	struct user_fpregs_struct fp2;
	memset(&fp2, 0, sizeof(fp2));
	unsigned dirty = 0;
	ok(x86_64_reg_store(X86_64_FTAG, (const uint8_t *)"\xff\x5f\0\0", 4, NULL, &fp2, NULL, 0,
			    &dirty) == 0 &&
		   fp2.ftw == 0xc0 && dirty == X86_64_DIRTY_FP,
	   "ftag store: full -> abridged");
}

/* The CPU's own full tag word (fnstenv) must equal the one computed from
 * FXSAVE. */
static void test_ftag_cpu(void)
{
	struct user_fpregs_struct fp;
	uint8_t fx[512] __attribute__((aligned(16)));
	uint8_t env[28];
	uint8_t g[816], avail[X86_64_NREGS];
	/* 0.0, pi, 1.0, a denormal made by dividing the smallest normal, and an
	 * infinity */
	static const long double tiny = 3.3621031431120935063e-4932L;
	static const long double two = 2.0L;
	__asm__ volatile("finit\n\t"
			 "fld1\n\t"
			 "fldpi\n\t"
			 "fldz\n\t"
			 "fldt %2\n\t"
			 "fldt %3\n\t"
			 "fdivrp\n\t"
			 "fld1\n\t"
			 "fldz\n\t"
			 "fdivrp\n\t"
			 "fxsave %0\n\t"
			 "fnstenv %1\n\t"
			 "finit\n\t"
			 : "=m"(fx), "=m"(env)
			 : "m"(tiny), "m"(two));
	memcpy(&fp, fx, sizeof(fx));
	x86_64_regs_to_g(NULL, &fp, NULL, 0, g, avail);
	ok(memcmp(g + 252, env + 8, 2) == 0 && g[254] == 0 && g[255] == 0,
	   "ftag equals the CPU's fnstenv tag word");
	printf("# fxsave ftw %02x, cpu tag %02x%02x, ours %02x%02x\n", fx[4], env[9], env[8],
	       g[253], g[252]);
}

static void test_store(void)
{
	struct user_regs_struct gp;
	struct user_fpregs_struct fp;
	static uint8_t xs[1024];
	unsigned dirty = 0;
	memset(&gp, 0xee, sizeof(gp));
	memset(&fp, 0, sizeof(fp));
	memset(xs, 0, sizeof(xs));
	ok(x86_64_reg_store(X86_64_EFLAGS, (const uint8_t *)"\x46\x02\0\0", 4, &gp, &fp, xs,
			    sizeof(xs), &dirty) == 0 &&
		   gp.eflags == 0x246 && dirty == X86_64_DIRTY_GP,
	   "store eflags (4 bytes, zero-extended)");
	ok(x86_64_reg_store(X86_64_RIP, (const uint8_t *)"\x10\x32\x54\x76\x98\xba\xdc\xfe", 8, &gp,
			    &fp, xs, sizeof(xs), &dirty) == 0 &&
		   gp.rip == 0xfedcba9876543210ull,
	   "store rip");
	ok(x86_64_reg_store(X86_64_RIP, (const uint8_t *)"\0\0\0\0", 4, &gp, &fp, xs, sizeof(xs),
			    &dirty) == -EINVAL &&
		   x86_64_reg_store(X86_64_NREGS, (const uint8_t *)"\0\0\0\0", 4, &gp, &fp, xs,
				    sizeof(xs), &dirty) == -EINVAL,
	   "bad len / regno -> -EINVAL");
	dirty = 0;
	uint8_t v[16];
	for (int i = 0; i < 16; i++)
		v[i] = (uint8_t)(0xa0 + i);
	ok(x86_64_reg_store(X86_64_YMM0H + 1, v, 16, &gp, &fp, xs, sizeof(xs), &dirty) == 0 &&
		   memcmp(xs + 592, v, 16) == 0 && xs[512] == 4 && dirty == X86_64_DIRTY_XSTATE,
	   "store ymm1h into xsave");
	dirty = 0;
	ok(x86_64_reg_store(X86_64_XMM0 + 2, v, 16, &gp, &fp, xs, sizeof(xs), &dirty) == 0 &&
		   memcmp((uint8_t *)fp.xmm_space + 32, v, 16) == 0 && dirty == X86_64_DIRTY_FP,
	   "store xmm2");
	dirty = 0;
	ok(x86_64_reg_store(X86_64_ST0 + 1, v, 10, &gp, &fp, xs, sizeof(xs), &dirty) == 0 &&
		   memcmp((uint8_t *)fp.st_space + 16, v, 10) == 0 && dirty == X86_64_DIRTY_FP,
	   "store st1 (10 bytes)");
}

/* A traced child loads known values into ymm0 and st0 and stops on int3: the kernel's
 * FXSAVE/XSAVE layout must put them where the g block expects. */
static void test_ptrace_real(void)
{
	static const uint8_t pat[32] = {1,  2,	3,  4,	5,  6,	7,  8,	9,  10, 11,
					12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
					23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
	static const long double pi = 3.14159265358979323846L;
	int avx = __builtin_cpu_supports("avx");
	pid_t pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		if (avx)
			__asm__ volatile("vmovdqu %0, %%ymm0" : : "m"(pat) : "xmm0");
		__asm__ volatile("fninit\n\tfldt %0\n\tint3" : : "m"(pi));
		_exit(0);
	}
	int status = 0;
	struct user_regs_struct gp;
	struct user_fpregs_struct fp;
	static uint8_t xs[4096];
	struct iovec iov = {xs, sizeof(xs)};
	uint8_t g[816], avail[X86_64_NREGS];
	int got = pid > 0 && waitpid(pid, &status, 0) == pid && WIFSTOPPED(status) &&
		  ptrace(PTRACE_GETREGS, pid, NULL, &gp) == 0 &&
		  ptrace(PTRACE_GETFPREGS, pid, NULL, &fp) == 0;
	long xr = got ? ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov) : -1;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	x86_64_regs_to_g(&gp, &fp, xr == 0 ? xs : NULL, xr == 0 ? iov.iov_len : 0, g, avail);
	ok(got && memcmp(g + 164, &pi, 10) == 0 && memcmp(g + 128, &gp.rip, 8) == 0 &&
		   memcmp(g + 252, "\xff\x3f", 2) == 0,
	   "real child: st0 = pi, ftag 0x3fff (st0 valid)");
	if (!avx) {
		ok(1, "real child: ymm0 # SKIP no AVX");
		return;
	}
	ok(xr == 0 && avail[X86_64_YMM0H] && memcmp(g + 276, pat, 16) == 0 &&
		   memcmp(g + 560, pat + 16, 16) == 0,
	   "real child: xmm0 / ymm0h from FXSAVE / XSAVE 576");
}

int main(void)
{
	printf("1..44\n");
	test_table();
	test_dwarf();
	test_xml();
	test_roundtrip();
	test_avail();
	test_ftag();
	test_ftag_cpu();
	test_store();
	test_ptrace_real();
	if (n_test != 44)
		printf("# planned 44, ran %d\n", n_test);
	return n_fail ? 1 : 0;
}
