/* Unit tests for arch/x86_64/emu*.c, the replay emulator: every arithmetic, logic, shift,
 * multiply, divide, widening, move and condition form in its table is run on this CPU and
 * in the emulator from the same random registers and flags, and the results and every flag
 * the emulator calls known must agree; then whole functions of this program (loops, calls,
 * recursion, a jump table, string stores, SSE copies) are emulated from their entry to their
 * return and must give what the real call gives; unknown inputs stop it with a reason and
 * leave the state alone. TAP output. */
#include "arch/x86_64/emu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86_64/regs.h"

static int n_test;
static int n_fail;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

/* ---- the CPU: run one instruction from a register file ---- */

struct native {
	uint64_t gpr[16]; /* gdb's order */
	uint64_t rflags;
	void *code; /* the instruction, then ret */
};

void emu_native_run(struct native *n);
__asm__(".text\n"
	".globl emu_native_run\n"
	".type emu_native_run,@function\n"
	"emu_native_run:\n"
	"push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"push %rdi\n"
	"pushq 136(%rdi)\n"
	"pushq 128(%rdi)\n popfq\n"
	"mov 0(%rdi),%rax\n mov 8(%rdi),%rbx\n mov 16(%rdi),%rcx\n mov 24(%rdi),%rdx\n"
	"mov 32(%rdi),%rsi\n mov 48(%rdi),%rbp\n mov 64(%rdi),%r8\n mov 72(%rdi),%r9\n"
	"mov 80(%rdi),%r10\n mov 88(%rdi),%r11\n mov 96(%rdi),%r12\n mov 104(%rdi),%r13\n"
	"mov 112(%rdi),%r14\n mov 120(%rdi),%r15\n mov 40(%rdi),%rdi\n"
	"call *(%rsp)\n"
	"xchg %rdi,8(%rsp)\n"
	"mov %rax,0(%rdi)\n mov %rbx,8(%rdi)\n mov %rcx,16(%rdi)\n mov %rdx,24(%rdi)\n"
	"mov %rsi,32(%rdi)\n mov %rbp,48(%rdi)\n mov %r8,64(%rdi)\n mov %r9,72(%rdi)\n"
	"mov %r10,80(%rdi)\n mov %r11,88(%rdi)\n mov %r12,96(%rdi)\n mov %r13,104(%rdi)\n"
	"mov %r14,112(%rdi)\n mov %r15,120(%rdi)\n"
	"pushfq\n popq 128(%rdi)\n"
	"mov 8(%rsp),%rax\n mov %rax,40(%rdi)\n"
	"add $16,%rsp\n"
	"pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n ret\n");

/* ---- memory: this process, with the emulated writes in an overlay ---- */

#define OVL_MAX 65536
static struct {
	uint64_t addr;
	uint8_t b;
} ovl[OVL_MAX];
static size_t novl;
static uint64_t unknown_lo, unknown_hi; /* reads here are unknown */

static int ovl_find(uint64_t a)
{
	for (size_t i = novl; i-- > 0;)
		if (ovl[i].addr == a)
			return (int)i;
	return -1;
}

__attribute__((no_sanitize("address"))) static int mem_read(void *ctx, uint64_t addr, void *buf,
							    size_t len)
{
	uint8_t *out = buf;

	if (addr < unknown_hi && addr + len > unknown_lo)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int k = ovl_find(addr + i);

		out[i] = k >= 0 ? ovl[k].b : *(const volatile uint8_t *)(uintptr_t)(addr + i);
	}
	return 0;
}

static int mem_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	const uint8_t *in = buf;

	for (size_t i = 0; i < len; i++) {
		int k = ovl_find(addr + i);

		if (k < 0) {
			if (novl == OVL_MAX)
				return -1;
			k = (int)novl++;
			ovl[k].addr = addr + i;
		}
		ovl[k].b = in[i];
	}
	return 0;
}

static const struct x86_64_emu_mem mem = {NULL, mem_read, mem_write};

static uint64_t rnd(void)
{
	static const uint64_t edge[] = {0,	    1,		0x7f,	    0x80,	0xff,
					0x7fff,	    0x8000,	0xffff,	    0x7fffffff, 0x80000000,
					0xffffffff, 1ull << 63, ~0ull >> 1, ~0ull,	2};
	uint64_t v = ((uint64_t)random() << 33) ^ ((uint64_t)random() << 11) ^ (uint64_t)random();

	switch (random() % 4) {
	case 0:
		return edge[random() % (sizeof(edge) / sizeof(edge[0]))];
	case 1:
		return v & 0xff;
	default:
		return v;
	}
}

static int hexbytes(const char *hex, uint8_t *out)
{
	int n = 0;
	unsigned v;

	while (sscanf(hex, " %2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		hex += strspn(hex, " ");
		hex += 2;
	}
	return n;
}

static const char *const table[][2] = {
	{"48 01 d8", "add rbx,rax"},
	{"01 d8", "add ebx,eax"},
	{"00 d8", "add bl,al"},
	{"66 01 d8", "add bx,ax"},
	{"48 11 d8", "adc rbx,rax"},
	{"48 29 d8", "sub rbx,rax"},
	{"29 d8", "sub ebx,eax"},
	{"48 19 d8", "sbb rbx,rax"},
	{"18 d8", "sbb bl,al"},
	{"48 39 d8", "cmp rbx,rax"},
	{"39 ca", "cmp ecx,edx"},
	{"48 21 d8", "and rbx,rax"},
	{"09 d8", "or ebx,eax"},
	{"48 31 d8", "xor rbx,rax"},
	{"84 d8", "test bl,al"},
	{"48 ff c0", "inc rax"},
	{"ff c9", "dec ecx"},
	{"fe c3", "inc bl"},
	{"48 f7 d8", "neg rax"},
	{"f7 db", "neg ebx"},
	{"48 f7 d0", "not rax"},
	{"48 d3 e0", "shl cl,rax"},
	{"48 d3 e8", "shr cl,rax"},
	{"48 d3 f8", "sar cl,rax"},
	{"d1 e0", "shl 1,eax"},
	{"d1 eb", "shr 1,ebx"},
	{"48 d1 fa", "sar 1,rdx"},
	{"d3 e3", "shl cl,ebx"},
	{"d2 fb", "sar cl,bl"},
	{"48 d3 c0", "rol cl,rax"},
	{"d3 c8", "ror cl,eax"},
	{"48 d1 c3", "rol 1,rbx"},
	{"48 d1 cb", "ror 1,rbx"},
	{"48 0f af c3", "imul rbx,rax"},
	{"0f af c3", "imul ebx,eax"},
	{"48 6b c3 f9", "imul -7,rbx,rax"},
	{"69 d1 e8 03 00 00", "imul 1000,ecx,edx"},
	{"48 f7 eb", "imul rbx"},
	{"48 f7 e3", "mul rbx"},
	{"f7 e3", "mul ebx"},
	{"f6 e3", "mul bl"},
	{"f6 eb", "imul bl"},
	{"48 99", "cqo"},
	{"99", "cdq"},
	{"48 98", "cdqe"},
	{"98", "cwde"},
	{"66 98", "cbw"},
	{"48 0f be c3", "movsx bl,rax"},
	{"0f bf c3", "movsx bx,eax"},
	{"48 63 c3", "movsxd ebx,rax"},
	{"0f b6 c3", "movzx bl,eax"},
	{"48 0f b7 c3", "movzx bx,rax"},
	{"48 0f 4c c3", "cmovl rbx,rax"},
	{"0f 46 c3", "cmovbe ebx,eax"},
	{"48 0f 47 c3", "cmova rbx,rax"},
	{"48 0f 40 c3", "cmovo rbx,rax"},
	{"0f 9f c0", "setg al"},
	{"0f 9a c3", "setp bl"},
	{"0f 94 c1", "sete cl"},
	{"0f 92 c2", "setb dl"},
	{"48 8d 4c 98 08", "lea 8(rax,rbx,4),rcx"},
	{"67 8d 4c 18 ff", "lea -1(eax,ebx),ecx"},
	{"48 93", "xchg rax,rbx"},
	{"48 0f c8", "bswap rax"},
	{"0f cb", "bswap ebx"},
	{"48 83 c0 ff", "add -1,rax"},
	{"80 eb 7f", "sub 0x7f,bl"},
	{"25 f0 00 00 00", "and 0xf0,eax"},
	{"31 c0", "xor eax,eax"},
	{"48 29 c9", "sub rcx,rcx"},
	{"48 c7 c0 ff ff ff ff", "mov -1,rax"},
	{"b8 ff ff ff ff", "mov 0xffffffff,eax"},
	{"48 b9 89 67 45 23 01 00 00 00", "movabs 0x123456789,rcx"},
	{"88 f8", "mov bh,al"},
	{"88 c5", "mov al,ch"},
	{"48 f7 f3", "div rbx"},
	{"48 f7 fb", "idiv rbx"},
	{"f7 f3", "div ebx"},
	{"f7 f9", "idiv ecx"},
	{"f6 f3", "div bl"},
	{"66 f7 fb", "idiv bx"},
};

#define FLAGS_TESTED 0x8d5ull /* CF PF AF ZF SF OF */

/* One table entry, many random inputs: native and emulated agree. */
static void test_table_entry(uint8_t *page, const char *hex, const char *name)
{
	uint8_t code[16];
	int len = hexbytes(hex, code), bad = 0, ran = 0, refused = 0;
	char why[128];

	memcpy(page, code, (size_t)len);
	page[len] = 0xc3;
	for (int it = 0; it < 400; it++) {
		struct native nt = {.code = page};
		struct x86_64_emu_cpu c;

		for (int r = 0; r < 16; r++)
			nt.gpr[r] = rnd();
		nt.gpr[X86_64_RSP] = 0;
		nt.rflags = 0x202 | (rnd() & FLAGS_TESTED);
		memset(&c, 0, sizeof(c));
		x86_64_emu_all_known(&c, true);
		memcpy(c.gpr, nt.gpr, sizeof(c.gpr));
		c.rip = (uint64_t)(uintptr_t)page;
		c.rflags = nt.rflags;
		if (x86_64_emu_step(&c, &mem, NULL, why, sizeof(why))) {
			/* only a divide that would fault may be refused */
			refused++;
			if (!strstr(why, "division"))
				bad++;
			continue;
		}
		ran++;
		emu_native_run(&nt);
		for (int r = 0; r < 16; r++)
			if (r != X86_64_RSP && nt.gpr[r] != c.gpr[r])
				bad++;
		if (c.rip != (uint64_t)(uintptr_t)page + (unsigned)len)
			bad++;
		if ((nt.rflags ^ c.rflags) & c.flags_known & FLAGS_TESTED)
			bad++;
		if (bad && bad < 3)
			fprintf(stderr, "# %s: a=%#llx b=%#llx c=%#llx d=%#llx\n", name,
				(unsigned long long)nt.gpr[0], (unsigned long long)c.gpr[0],
				(unsigned long long)nt.rflags, (unsigned long long)c.rflags);
	}
	char t[192];

	snprintf(t, sizeof(t), "%s: CPU and emulator agree (%d run, %d refused)", name, ran,
		 refused);
	ok(!bad && ran > 100, t);
}

static void test_table(void)
{
	uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED) {
		ok(0, "mmap an executable page");
		return;
	}
	srandom(17);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		test_table_entry(page, table[i][0], table[i][1]);
	munmap(page, 4096);
}

/* ---- whole functions ---- */

#define NOSAN __attribute__((noinline, no_sanitize("address", "undefined")))

NOSAN static long sum_sq(const int *v, int n)
{
	long s = 0;

	for (int i = 0; i < n; i++)
		s += (long)v[i] * v[i] - (v[i] >> 1);
	return s;
}

NOSAN static long fib(long n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

NOSAN static int classify(int k)
{
	switch (k) {
	case 0:
		return 11;
	case 1:
		return 23;
	case 2:
		return 37;
	case 3:
		return 41;
	case 4:
		return 53;
	case 5:
		return 67;
	case 6:
		return 71;
	default:
		return -1;
	}
}

struct blob {
	long a, b, c, d;
	char name[32];
};

NOSAN static void fill(struct blob *dst, const struct blob *src, int k)
{
	*dst = *src;
	dst->b += k;
	for (int i = 0; i < 16; i++)
		dst->name[16 + i] = (char)('a' + (i + k) % 26);
}

NOSAN static unsigned long divs(unsigned long a, long b)
{
	return a / 7 + (unsigned long)(b % 5) + a % 13;
}

static uint8_t stack_mem[65536] __attribute__((aligned(16)));
#define SENTINEL 0x5e47124e1ull

/* Emulate fn(a, b, c) from its entry to its return; -1 when it stopped, why set. */
static int emulate_call(void *fn, uint64_t a, uint64_t b, uint64_t c, uint64_t *ret,
			unsigned long *steps, char *why, size_t whylen)
{
	struct x86_64_emu_cpu cpu;
	uint64_t sp = (uint64_t)(uintptr_t)(stack_mem + sizeof(stack_mem) - 64);
	uint64_t ra = SENTINEL;

	novl = 0;
	memset(&cpu, 0, sizeof(cpu));
	x86_64_emu_all_known(&cpu, false);
	cpu.rip = (uint64_t)(uintptr_t)fn;
	cpu.gpr[X86_64_RDI] = a;
	cpu.gpr[X86_64_RSI] = b;
	cpu.gpr[X86_64_RDX] = c;
	cpu.gpr[X86_64_RSP] = sp;
	for (int r = X86_64_RAX; r <= X86_64_R15; r++)
		cpu.gpr_known[r] = r == X86_64_RAX || r == X86_64_R10 || r == X86_64_R11 ? 0 : 0xff;
	cpu.flags_known = 1ull << 10; /* DF clear at a call, the ABI says */
	mem_write(NULL, sp, &ra, 8);
	for (*steps = 0; cpu.rip != SENTINEL; (*steps)++)
		if (*steps > 2000000 || x86_64_emu_step(&cpu, &mem, NULL, why, whylen))
			return -1;
	*ret = (cpu.gpr_known[X86_64_RAX] & 0xff) == 0xff ? cpu.gpr[X86_64_RAX] : 0xdeadull;
	return cpu.gpr[X86_64_RSP] == sp + 8 ? 0 : -1;
}

static void test_functions(void)
{
	static const int v[] = {3, -4, 5, 1000, -77, 12, 0, 9};
	struct blob src = {1, 2, 3, 4, "source-name"}, want, got;
	char why[160] = "", t[256];
	unsigned long steps;
	uint64_t r;
	int rc;

	rc = emulate_call((void *)sum_sq, (uint64_t)(uintptr_t)v, 8, 0, &r, &steps, why,
			  sizeof(why));
	snprintf(t, sizeof(t), "a loop over an array: %ld (%lu steps%s%s)", (long)r, steps,
		 rc ? ", " : "", rc ? why : "");
	ok(!rc && (long)r == sum_sq(v, 8), t);

	rc = emulate_call((void *)fib, 15, 0, 0, &r, &steps, why, sizeof(why));
	snprintf(t, sizeof(t), "recursion: fib(15) = %ld (%lu steps%s%s)", (long)r, steps,
		 rc ? ", " : "", rc ? why : "");
	ok(!rc && r == 610, t);

	int all = 1;
	for (int k = -1; k < 9; k++)
		all &= !emulate_call((void *)classify, (uint64_t)k, 0, 0, &r, &steps, why,
				     sizeof(why)) &&
		       (int)r == classify(k);
	ok(all, "a switch (jump table or compare chain): all 10 cases as the CPU");

	fill(&want, &src, 5);
	memset(&got, 0, sizeof(got));
	rc = emulate_call((void *)fill, (uint64_t)(uintptr_t)&got, (uint64_t)(uintptr_t)&src, 5, &r,
			  &steps, why, sizeof(why));
	/* the copy landed in the overlay: read the destination back through it */
	mem_read(NULL, (uint64_t)(uintptr_t)&got, &got, sizeof(got));
	snprintf(t, sizeof(t), "a struct copy and byte stores (%lu steps%s%s)", steps,
		 rc ? ", " : "", rc ? why : "");
	ok(!memcmp(&got, &want, sizeof(got)), t);

	rc = emulate_call((void *)divs, 1000003, -17, 0, &r, &steps, why, sizeof(why));
	ok(!rc && r == divs(1000003, -17), "division and remainder, signed and unsigned");
}

static void test_unknown(void)
{
	/* mov (%rdi),%rax with rdi unknown; then with rdi known, its memory unknown */
	static uint8_t code[] = {0x48, 0x8b, 0x07, 0xc3};
	uint64_t word = 42;
	struct x86_64_emu_cpu c, before;
	char why[128] = "";

	memset(&c, 0, sizeof(c));
	x86_64_emu_all_known(&c, true);
	c.gpr_known[X86_64_RDI] = 0;
	c.rip = (uint64_t)(uintptr_t)code;
	before = c;
	ok(x86_64_emu_step(&c, &mem, NULL, why, sizeof(why)) == -1 && strstr(why, "rdi") &&
		   !memcmp(&c, &before, sizeof(c)),
	   "an unknown register stops the step, says which, changes nothing");
	c.gpr_known[X86_64_RDI] = 0xff;
	c.gpr[X86_64_RDI] = (uint64_t)(uintptr_t)&word;
	unknown_lo = (uint64_t)(uintptr_t)&word;
	unknown_hi = unknown_lo + 8;
	before = c;
	ok(x86_64_emu_step(&c, &mem, NULL, why, sizeof(why)) == -1 && strstr(why, "memory at") &&
		   !memcmp(&c, &before, sizeof(c)),
	   "unknown memory stops the step and says where");
	unknown_lo = unknown_hi = 0;
	ok(x86_64_emu_step(&c, &mem, NULL, why, sizeof(why)) == 0 && c.gpr[X86_64_RAX] == 42 &&
		   c.rip == (uint64_t)(uintptr_t)code + 3,
	   "known memory: the load runs");

	/* jz with ZF unknown */
	static uint8_t jz[] = {0x74, 0x02, 0x90, 0x90, 0xc3};
	memset(&c, 0, sizeof(c));
	x86_64_emu_all_known(&c, true);
	c.flags_known &= ~(1ull << 6);
	c.rip = (uint64_t)(uintptr_t)jz;
	ok(x86_64_emu_step(&c, &mem, NULL, why, sizeof(why)) == -1 && strstr(why, "flags"),
	   "a branch on unknown flags stops");
	/* xor of a register with itself needs nothing */
	static uint8_t xz[] = {0x31, 0xc0};
	memset(&c, 0, sizeof(c));
	c.rip = (uint64_t)(uintptr_t)xz;
	ok(x86_64_emu_step(&c, &mem, NULL, why, sizeof(why)) == 0 && c.gpr_known[0] == 0xff &&
		   c.gpr[0] == 0 && (c.flags_known & 0x40) && (c.rflags & 0x40),
	   "xor eax,eax from nothing known: eax 0, ZF set");
	/* rep stosb one iteration at a time, rip kept until rcx is 0 */
	static uint8_t rs[] = {0xf3, 0xaa, 0xc3};
	uint8_t dst[3] = {0};
	enum x86_64_emu_kind k;
	int steps = 0;

	novl = 0;
	memset(&c, 0, sizeof(c));
	x86_64_emu_all_known(&c, true);
	c.rflags = 0;
	c.rip = (uint64_t)(uintptr_t)rs;
	c.gpr[X86_64_RCX] = 3;
	c.gpr[X86_64_RAX] = 'z';
	c.gpr[X86_64_RDI] = (uint64_t)(uintptr_t)dst;
	while (c.rip == (uint64_t)(uintptr_t)rs && steps < 10 &&
	       !x86_64_emu_step(&c, &mem, &k, why, sizeof(why)))
		steps++;
	mem_read(NULL, (uint64_t)(uintptr_t)dst, dst, 3);
	ok(steps == 3 && !memcmp(dst, "zzz", 3) && c.gpr[X86_64_RCX] == 0,
	   "rep stosb: one iteration per step, as a hardware single-step");
	/* ret and call kinds */
	static uint8_t callret[] = {0xe8, 0x00, 0x00, 0x00, 0x00, 0xc3};
	novl = 0;
	memset(&c, 0, sizeof(c));
	x86_64_emu_all_known(&c, true);
	c.rip = (uint64_t)(uintptr_t)callret;
	c.gpr[X86_64_RSP] = (uint64_t)(uintptr_t)(stack_mem + 1024);
	int a = !x86_64_emu_step(&c, &mem, &k, why, sizeof(why)) && k == X86_64_EMU_K_CALL;
	a = a && !x86_64_emu_step(&c, &mem, &k, why, sizeof(why)) && k == X86_64_EMU_K_RET &&
	    c.rip == (uint64_t)(uintptr_t)callret + 5 &&
	    c.gpr[X86_64_RSP] == (uint64_t)(uintptr_t)(stack_mem + 1024);
	ok(a, "call then ret: kinds, the return address through the stack");
	static uint8_t lockadd[] = {0xf0, 0x48, 0x01, 0x07};
	memset(&c, 0, sizeof(c));
	x86_64_emu_all_known(&c, true);
	c.rip = (uint64_t)(uintptr_t)lockadd;
	ok(x86_64_emu_step(&c, &mem, NULL, why, sizeof(why)) == -1 && strstr(why, "locked"),
	   "a locked instruction is refused (shared memory)");
}

int main(void)
{
	test_table();
	test_functions();
	test_unknown();
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}
