/* Unit tests for arch/x86_64/insn.c: a zoo of encodings (length, class, strategy, target,
 * relocated bytes, fixup results), and emulation / relocation checked against the CPU by
 * executing the real instructions in this process. TAP output. */
#include "arch/x86_64/insn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/user.h>

static int n_test;
static int n_fail;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

#define ADDR 0x401000ull
#define TO   0x7f000000ull /* scratch within 2 GiB of ADDR */

static struct x86_64_insn dec(const char *bytes, size_t len)
{
	struct x86_64_insn in;
	if (x86_64_insn_decode((const uint8_t *)bytes, len, ADDR, &in) != 0)
		memset(&in, 0xff, sizeof(in));
	return in;
}

static int is(const struct x86_64_insn *in, unsigned len, enum x86_64_insn_class cls,
	      enum x86_64_stepover st, uint64_t target)
{
	return in->len == len && in->cls == cls && in->strategy == st && in->target == target;
}

static int reloc_is(const struct x86_64_insn *in, const char *want, size_t want_len)
{
	uint8_t out[X86_64_OOL_MAX];
	size_t len = 0;
	return x86_64_insn_relocate(in, TO, out, &len) == 0 && len == want_len &&
	       memcmp(out, want, want_len) == 0;
}

static void test_simple(void)
{
	struct user_regs_struct r;
	struct x86_64_memwrite w[2];
	size_t nw = 9;
	struct x86_64_insn in = dec("\xf3\x0f\x1e\xfa", 4);
	memset(&r, 0, sizeof(r));
	ok(is(&in, 4, X86_64_INSN_OTHER, X86_64_STEP_EMULATE, 0) && strcmp(in.text, "endbr64") == 0,
	   "endbr64: len 4, emulate");
	ok(x86_64_insn_emulate(&in, &r, w, &nw) == 0 && r.rip == ADDR + 4 && nw == 0,
	   "endbr64 emulated: rip advanced, no writes");

	in = dec("\x55", 1);
	memset(&r, 0, sizeof(r));
	r.rsp = 0x7ffe0000;
	r.rbp = 0x1122334455667788ull;
	ok(is(&in, 1, X86_64_INSN_OTHER, X86_64_STEP_EMULATE, 0) &&
		   strcmp(in.text, "push %rbp") == 0,
	   "push %rbp: emulate, text");
	ok(x86_64_insn_emulate(&in, &r, w, &nw) == 0 && r.rsp == 0x7ffdfff8 && r.rip == ADDR + 1 &&
		   nw == 1 && w[0].addr == 0x7ffdfff8 && w[0].len == 8 &&
		   memcmp(w[0].bytes, "\x88\x77\x66\x55\x44\x33\x22\x11", 8) == 0,
	   "push %rbp emulated: one 8-byte write below rsp");

	in = dec("\x48\x89\xe5", 3);
	memset(&r, 0, sizeof(r));
	r.rsp = 0x7ffdfff8;
	ok(is(&in, 3, X86_64_INSN_OTHER, X86_64_STEP_EMULATE, 0) &&
		   x86_64_insn_emulate(&in, &r, w, &nw) == 0 && r.rbp == 0x7ffdfff8 &&
		   r.rip == ADDR + 3 && nw == 0,
	   "mov %rsp,%rbp emulated");

	in = dec("\x89\xf8", 2);
	memset(&r, 0, sizeof(r));
	r.rax = 0xffffffffffffffffull;
	r.rdi = 0xaaaaaaaa87654321ull;
	ok(in.strategy == X86_64_STEP_EMULATE && x86_64_insn_emulate(&in, &r, w, &nw) == 0 &&
		   r.rax == 0x87654321ull,
	   "mov %edi,%eax zero-extends");

	in = dec("\x0f\x1f\x44\x00\x00", 5);
	ok(is(&in, 5, X86_64_INSN_OTHER, X86_64_STEP_EMULATE, 0), "nopl 0(%rax,%rax,1): emulate");
	in = dec("\x66\x90", 2);
	ok(is(&in, 2, X86_64_INSN_OTHER, X86_64_STEP_EMULATE, 0), "66 90 nop: emulate");

	in = dec("\x48\x83\xec\x20", 4);
	memset(&r, 0, sizeof(r));
	r.rsp = 0x7ffdfff8;
	r.eflags = 0x246;
	ok(is(&in, 4, X86_64_INSN_OTHER, X86_64_STEP_EMULATE, 0) &&
		   x86_64_insn_emulate(&in, &r, w, &nw) == 0 && r.rsp == 0x7ffdffd8 &&
		   r.eflags == 0x206 && r.rip == ADDR + 4,
	   "sub $0x20,%rsp emulated: rsp, flags (PF only)");

	in = dec("\x58", 1);
	ok(is(&in, 1, X86_64_INSN_OTHER, X86_64_STEP_OUT_OF_LINE, 0) &&
		   x86_64_insn_emulate(&in, &r, w, &nw) == -ENOTSUP,
	   "pop %rax: out of line (reads memory), emulate refuses");
	in = dec("\x66\x55", 2);
	ok(in.strategy == X86_64_STEP_OUT_OF_LINE, "push %bp (16-bit): out of line");
	in = dec("\x48\x83\x2c\x24\x20", 5);
	ok(in.strategy == X86_64_STEP_OUT_OF_LINE, "subq $0x20,(%rsp): out of line");
}

static void test_riprel(void)
{
	struct user_regs_struct r;
	struct x86_64_memwrite w[2];
	size_t nw;
	uint8_t out[X86_64_OOL_MAX];
	size_t len;

	struct x86_64_insn in = dec("\x48\x8d\x05\x10\x00\x00\x00", 7);
	ok(is(&in, 7, X86_64_INSN_RIPREL, X86_64_STEP_EMULATE, ADDR + 0x17) &&
		   in.disp_offset == 3 && in.disp_size == 4,
	   "lea 0x10(%rip),%rax: riprel, emulate, target, disp at 3");
	memset(&r, 0, sizeof(r));
	ok(x86_64_insn_emulate(&in, &r, w, &nw) == 0 && r.rax == ADDR + 0x17 && r.rip == ADDR + 7,
	   "lea rip-relative emulated");
	/* new disp = 0x401017 - (0x7f000000 + 7) = -0x7ebfeff0 */
	ok(reloc_is(&in, "\x48\x8d\x05\x10\x10\x40\x81", 7), "lea relocated: disp re-targeted");

	in = dec("\x8b\x05\x2f\x00\x00\x00", 6);
	ok(is(&in, 6, X86_64_INSN_RIPREL, X86_64_STEP_OUT_OF_LINE, ADDR + 0x35) &&
		   in.disp_offset == 2,
	   "mov 0x2f(%rip),%eax: riprel, out of line");
	/* 0x401035 - 0x7f000006 = -0x7ebfefd1 -> 0x81401 02f */
	ok(reloc_is(&in, "\x8b\x05\x2f\x10\x40\x81", 6), "mov rip-relative relocated");
	memset(&r, 0, sizeof(r));
	r.rip = TO + 6;
	ok(x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == ADDR + 6 && nw == 0,
	   "fixup after step: rip back to addr+len");
	ok(x86_64_insn_relocate(&in, ADDR + 0xc0000000ull, out, &len) == -ERANGE,
	   "relocation beyond 2 GiB: -ERANGE");

	in = dec("\xc5\xfe\x6f\x07", 4);
	ok(is(&in, 4, X86_64_INSN_OTHER, X86_64_STEP_OUT_OF_LINE, 0) &&
		   reloc_is(&in, "\xc5\xfe\x6f\x07", 4) &&
		   strcmp(in.text, "vmovdqu (%rdi), %ymm0") == 0,
	   "vmovdqu (%rdi),%ymm0: copied verbatim");
	in = dec("\xc5\xfe\x6f\x0d\x10\x00\x00\x00", 8);
	/* 0x401018 - 0x7f000008 = -0x7ebfeff0 */
	ok(is(&in, 8, X86_64_INSN_RIPREL, X86_64_STEP_OUT_OF_LINE, ADDR + 0x18) &&
		   in.disp_offset == 4 && reloc_is(&in, "\xc5\xfe\x6f\x0d\x10\x10\x40\x81", 8),
	   "vmovdqu 0x10(%rip),%ymm1: VEX disp re-targeted");
	in = dec("\xf0\x48\x0f\xb1\x0a", 5);
	ok(is(&in, 5, X86_64_INSN_OTHER, X86_64_STEP_OUT_OF_LINE, 0) &&
		   reloc_is(&in, "\xf0\x48\x0f\xb1\x0a", 5),
	   "lock cmpxchg %rcx,(%rdx): out of line, verbatim");
}

static void test_branches(void)
{
	struct user_regs_struct r;
	struct x86_64_memwrite w[2];
	size_t nw;

	struct x86_64_insn in = dec("\xe8\x10\x00\x00\x00", 5);
	memset(&r, 0, sizeof(r));
	r.rsp = 0x7ffe0000;
	ok(is(&in, 5, X86_64_INSN_CALL, X86_64_STEP_EMULATE, ADDR + 0x15), "call rel32: emulate");
	ok(x86_64_insn_emulate(&in, &r, w, &nw) == 0 && r.rip == ADDR + 0x15 &&
		   r.rsp == 0x7ffdfff8 && nw == 1 && w[0].addr == 0x7ffdfff8 &&
		   memcmp(w[0].bytes, "\x05\x10\x40\x00\x00\x00\x00\x00", 8) == 0,
	   "call emulated: return address pushed");
	/* 0x401015 - 0x7f000005 = -0x7ebfeff0 */
	ok(reloc_is(&in, "\xe8\x10\x10\x40\x81", 5), "call relocated");
	memset(&r, 0, sizeof(r));
	r.rip = ADDR + 0x15;
	r.rsp = 0x7ffdfff8;
	ok(x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == ADDR + 0x15 && nw == 1 &&
		   w[0].addr == 0x7ffdfff8 && memcmp(w[0].bytes, "\x05\x10\x40\0\0\0\0\0", 8) == 0,
	   "call fixup: pushed return rewritten");

	in = dec("\xff\xd0", 2);
	ok(is(&in, 2, X86_64_INSN_CALL_INDIRECT, X86_64_STEP_OUT_OF_LINE, 0) &&
		   reloc_is(&in, "\xff\xd0", 2),
	   "call *%rax: out of line, verbatim");
	memset(&r, 0, sizeof(r));
	r.rip = 0x555555554000ull;
	r.rsp = 0x7ffdfff0;
	ok(x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == 0x555555554000ull && nw == 1 &&
		   w[0].addr == 0x7ffdfff0 && memcmp(w[0].bytes, "\x02\x10\x40\0\0\0\0\0", 8) == 0,
	   "call *%rax fixup: return address addr+2");
	in = dec("\xff\x15\x10\x00\x00\x00", 6);
	ok(is(&in, 6, X86_64_INSN_CALL_INDIRECT, X86_64_STEP_OUT_OF_LINE, ADDR + 0x16) &&
		   reloc_is(&in, "\xff\x15\x10\x10\x40\x81", 6),
	   "call *0x10(%rip): slot re-targeted");

	in = dec("\xeb\x10", 2);
	ok(is(&in, 2, X86_64_INSN_JMP, X86_64_STEP_EMULATE, ADDR + 0x12) &&
		   reloc_is(&in, "\xe9\x0d\x10\x40\x81", 5),
	   "jmp rel8: emulate; relocated as jmp rel32");
	memset(&r, 0, sizeof(r));
	ok(x86_64_insn_emulate(&in, &r, w, &nw) == 0 && r.rip == ADDR + 0x12 && nw == 0,
	   "jmp rel8 emulated");
	in = dec("\xe9\x00\x01\x00\x00", 5);
	ok(is(&in, 5, X86_64_INSN_JMP, X86_64_STEP_EMULATE, ADDR + 0x105), "jmp rel32: emulate");

	in = dec("\x74\x05", 2);
	ok(is(&in, 2, X86_64_INSN_JCC, X86_64_STEP_OUT_OF_LINE, ADDR + 7) &&
		   reloc_is(&in, "\x0f\x84\x01\x10\x40\x81", 6),
	   "je rel8: relocated as je rel32");
	memset(&r, 0, sizeof(r));
	r.rip = ADDR + 7;
	ok(x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == ADDR + 7 && nw == 0,
	   "je taken: rip already the real target");
	r.rip = TO + 6;
	ok(x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == ADDR + 2,
	   "je not taken: rip = addr+2");

	in = dec("\xe2\xfe", 2);
	ok(is(&in, 2, X86_64_INSN_JCC, X86_64_STEP_OUT_OF_LINE, ADDR) &&
		   reloc_is(&in, "\xe2\x02\xeb\x05\xe9\xf7\x0f\x40\x81", 9),
	   "loop: rel8 trampoline");
	r.rip = TO + 4;
	ok(x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == ADDR, "loop taken fixup");
	r.rip = TO + 2;
	ok(x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == ADDR + 2,
	   "loop not taken fixup");

	in = dec("\xc3", 1);
	memset(&r, 0, sizeof(r));
	r.rip = 0x401234;
	ok(is(&in, 1, X86_64_INSN_RET, X86_64_STEP_OUT_OF_LINE, 0) &&
		   x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == 0x401234 && nw == 0,
	   "ret: out of line, nothing to fix");

	in = dec("\x0f\x05", 2);
	memset(&r, 0, sizeof(r));
	r.rip = TO + 2;
	r.rcx = TO + 2;
	ok(is(&in, 2, X86_64_INSN_SYSCALL, X86_64_STEP_OUT_OF_LINE, 0) &&
		   x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == ADDR + 2 &&
		   r.rcx == ADDR + 2,
	   "syscall: rip and rcx back to addr+2");

	in = dec("\xcc", 1);
	ok(is(&in, 1, X86_64_INSN_INT3, X86_64_STEP_OUT_OF_LINE, 0), "int3");

	in = dec("\xc7\xf8\x00\x00\x00\x00", 6);
	uint8_t out[X86_64_OOL_MAX];
	size_t len;
	ok(in.cls == X86_64_INSN_UNSAFE && in.strategy == X86_64_STEP_INLINE &&
		   x86_64_insn_relocate(&in, TO, out, &len) == -ENOTSUP,
	   "xbegin: unsafe, inline");

	in = dec("\xf3\xa4", 2);
	memset(&r, 0, sizeof(r));
	r.rip = TO;
	ok(in.strategy == X86_64_STEP_OUT_OF_LINE && x86_64_insn_fixup(&in, TO, &r, w, &nw) == 1 &&
		   r.rip == TO,
	   "rep movsb: one iteration left -> step again (1)");
	r.rip = TO + 2;
	ok(x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.rip == ADDR + 2, "rep movsb done");
}

static void test_go(void)
{
	struct x86_64_insn in = dec("\x49\x3b\x66\x10\x76\x20", 6);
	ok(is(&in, 4, X86_64_INSN_OTHER, X86_64_STEP_OUT_OF_LINE, 0) &&
		   strcmp(in.text, "cmp 0x10(%r14), %rsp") == 0,
	   "Go prologue cmp 0x10(%r14),%rsp: out of line");
	struct x86_64_insn j;
	ok(x86_64_insn_decode((const uint8_t *)"\x76\x20", 2, ADDR + 4, &j) == 0 &&
		   is(&j, 2, X86_64_INSN_JCC, X86_64_STEP_OUT_OF_LINE, ADDR + 0x26),
	   "Go prologue jbe: jcc");
	ok(x86_64_insn_decode((const uint8_t *)"\xe8\x00", 2, ADDR, &j) == -EINVAL,
	   "truncated: -EINVAL");
}

/* Emulation added for common entry instructions, decided once at decode time. */
static void test_more_emulation(void)
{
	struct user_regs_struct r;
	struct x86_64_memwrite w[2];
	size_t nw;
	struct x86_64_insn in = dec("\xb8\x29\x00\x00\x00", 5);

	memset(&r, 0, sizeof(r));
	r.rax = 0xffffffffffffffffull;
	ok(is(&in, 5, X86_64_INSN_OTHER, X86_64_STEP_EMULATE, 0) &&
		   x86_64_insn_emulate(&in, &r, w, &nw) == 0 && r.rax == 41 && r.rip == ADDR + 5 &&
		   nw == 0,
	   "mov $41,%eax emulated: zero-extends");
	in = dec("\x48\xc7\xc1\xff\xff\xff\xff", 7);
	memset(&r, 0, sizeof(r));
	ok(in.strategy == X86_64_STEP_EMULATE && x86_64_insn_emulate(&in, &r, w, &nw) == 0 &&
		   r.rcx == 0xffffffffffffffffull,
	   "mov $-1,%rcx emulated: sign-extended imm32");
	in = dec("\x49\xbb\x88\x77\x66\x55\x44\x33\x22\x11", 10);
	memset(&r, 0, sizeof(r));
	ok(in.strategy == X86_64_STEP_EMULATE && x86_64_insn_emulate(&in, &r, w, &nw) == 0 &&
		   r.r11 == 0x1122334455667788ull && r.rip == ADDR + 10,
	   "movabs $imm64,%r11 emulated");
	in = dec("\x66\xb8\x01\x00", 4);
	ok(in.strategy == X86_64_STEP_OUT_OF_LINE, "mov $1,%ax (16-bit): out of line");
	in = dec("\x6a\xff", 2);
	memset(&r, 0, sizeof(r));
	r.rsp = 0x7ffe0000;
	ok(in.strategy == X86_64_STEP_EMULATE && x86_64_insn_emulate(&in, &r, w, &nw) == 0 &&
		   r.rsp == 0x7ffdfff8 && nw == 1 && w[0].len == 8 &&
		   memcmp(w[0].bytes, "\xff\xff\xff\xff\xff\xff\xff\xff", 8) == 0,
	   "push $-1 emulated: 8 bytes, sign-extended");
	in = dec("\x9c", 1);
	memset(&r, 0, sizeof(r));
	r.rsp = 0x7ffe0000;
	r.eflags = 0x10246; /* RF set: reads as 0 in the pushed image */
	ok(in.strategy == X86_64_STEP_EMULATE && x86_64_insn_emulate(&in, &r, w, &nw) == 0 &&
		   nw == 1 && w[0].len == 8 && w[0].addr == 0x7ffdfff8 &&
		   memcmp(w[0].bytes, "\x46\x02\0\0\0\0\0\0", 8) == 0,
	   "pushfq emulated: no trap flag from a step, RF clear");
	in = dec("\x66\x9c", 2);
	memset(&r, 0, sizeof(r));
	r.rsp = 0x7ffe0000;
	r.eflags = 0x246;
	ok(in.strategy == X86_64_STEP_EMULATE && x86_64_insn_emulate(&in, &r, w, &nw) == 0 &&
		   r.rsp == 0x7ffdfffe && w[0].len == 2,
	   "pushf (16-bit) emulated: 2 bytes");
	in = dec("\xf3\x48\xab", 3);
	ok(in.rep && in.strategy == X86_64_STEP_OUT_OF_LINE, "rep stos: rep flag, out of line");
	in = dec("\x0f\x05", 2);
	memset(&r, 0, sizeof(r));
	r.rip = TO + 2;
	r.rcx = TO + 2;
	r.r11 = 0x346;
	ok(x86_64_insn_fixup(&in, TO, &r, w, &nw) == 0 && r.r11 == 0x246,
	   "stepped syscall: the trap flag saved in r11 cleared");
	in = dec("\x48\x8d\x44\x24\xf8", 5);
	memset(&r, 0, sizeof(r));
	r.rsp = 0x7ffe0000;
	ok(in.strategy == X86_64_STEP_EMULATE && x86_64_insn_emulate(&in, &r, w, &nw) == 0 &&
		   r.rax == 0x7ffdfff8,
	   "lea -8(%rsp),%rax emulated");
	in = dec("\x4a\x8d\x04\x8b", 4);
	memset(&r, 0, sizeof(r));
	r.rbx = 0x1000;
	r.r9 = 3;
	ok(in.strategy == X86_64_STEP_EMULATE && x86_64_insn_emulate(&in, &r, w, &nw) == 0 &&
		   r.rax == 0x100c,
	   "lea (%rbx,%r9,4),%rax emulated");
}

/* Emulated pushfq against the CPU's: the same image for the same flags (IF reads as set in
 * user mode, RF as clear). */
static void test_native_pushf(void)
{
	uint64_t cpu;
	struct user_regs_struct r;
	struct x86_64_memwrite w[2];
	size_t nw;
	struct x86_64_insn in = dec("\x9c", 1);

	__asm__ volatile("pushq $0x8d7\n\tpopfq\n\tpushfq\n\tpopq %0" : "=r"(cpu) : : "cc");
	memset(&r, 0, sizeof(r));
	r.rsp = 0x7ffe0000;
	r.eflags = cpu | 0x10000; /* as GETREGS may show it after a trap: RF set */
	ok(x86_64_insn_emulate(&in, &r, w, &nw) == 0 && !memcmp(w[0].bytes, &cpu, 8),
	   "pushfq image as the CPU's");
}

/* ---- against the CPU ---- */

static uint64_t native_addsub(uint64_t a, uint64_t b, int sub, uint64_t *flags)
{
	uint64_t f;
	if (sub)
		__asm__("sub %2, %0\n\tpushfq\n\tpopq %1" : "+r"(a), "=r"(f) : "r"(b) : "cc");
	else
		__asm__("add %2, %0\n\tpushfq\n\tpopq %1" : "+r"(a), "=r"(f) : "r"(b) : "cc");
	*flags = f;
	return a;
}

static void test_native_flags(void)
{
	static const uint64_t av[] = {0,
				      1,
				      0x20,
				      0x1f,
				      0x7fffffffffffffffull,
				      0x8000000000000000ull,
				      0xffffffffffffffffull,
				      0x7ffdfff8,
				      0x7ffdfff0,
				      0x8000000000000010ull,
				      0x0f,
				      0xff};
	static const int32_t iv[] = {0, 1, -1, 0x20, 0x7f, -0x80, 0x10, 0x7fffffff, INT32_MIN, 8};
	int good = 1, checked = 0;
	for (size_t i = 0; i < sizeof(av) / sizeof(av[0]); i++) {
		for (size_t k = 0; k < sizeof(iv) / sizeof(iv[0]); k++) {
			for (int sub = 0; sub < 2; sub++) {
				uint8_t code[7] = {0x48, 0x81, (uint8_t)(sub ? 0xe8 : 0xc0)};
				size_t n = 7;
				if (iv[k] >= -128 && iv[k] <= 127) {
					code[1] = 0x83;
					code[3] = (uint8_t)iv[k];
					n = 4;
				} else {
					memcpy(code + 3, &iv[k], 4);
				}
				struct x86_64_insn in;
				struct user_regs_struct r;
				struct x86_64_memwrite w[2];
				size_t nw;
				uint64_t f;
				uint64_t want =
					native_addsub(av[i], (uint64_t)(int64_t)iv[k], sub, &f);
				memset(&r, 0, sizeof(r));
				r.rax = av[i];
				r.eflags = 0x202 | 0x8d5;
				if (x86_64_insn_decode(code, n, ADDR, &in) ||
				    in.strategy != X86_64_STEP_EMULATE ||
				    x86_64_insn_emulate(&in, &r, w, &nw) || r.rax != want ||
				    (r.eflags & 0x8d5) != (f & 0x8d5) || r.rip != ADDR + n) {
					good = 0;
					printf("# %s %#llx, %d: got %#llx fl %#llx want %#llx fl "
					       "%#llx\n",
					       sub ? "sub" : "add", (unsigned long long)av[i],
					       iv[k], (unsigned long long)r.rax,
					       (unsigned long long)r.eflags,
					       (unsigned long long)want, (unsigned long long)f);
				}
				checked++;
			}
		}
	}
	ok(good && checked == 240, "add/sub $imm,%rax: result and CF PF AF ZF SF OF as the CPU");

	uint64_t f;
	uint64_t v = 0x123456789ull;
	__asm__("pushq $0x8d7\n\tpopfq\n\txor %k0, %k0\n\tpushfq\n\tpopq %1"
		: "+r"(v), "=r"(f)
		:
		: "cc");
	struct x86_64_insn in = dec("\x31\xc0", 2);
	struct user_regs_struct r;
	struct x86_64_memwrite w[2];
	size_t nw;
	memset(&r, 0, sizeof(r));
	r.rax = 0x123456789ull;
	r.eflags = 0x8d7;
	ok(in.strategy == X86_64_STEP_EMULATE && x86_64_insn_emulate(&in, &r, w, &nw) == 0 &&
		   r.rax == v && (r.eflags & 0x8d5) == (f & 0x8d5),
	   "xor %eax,%eax: result and flags as the CPU");
}

/* Relocated code run for real: a rip-relative lea and a je, copied into an executable page. */
static void test_native_reloc(void)
{
	uint8_t *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		ok(0, "mmap exec page");
		ok(0, "mmap exec page");
		return;
	}
	uint64_t to = (uint64_t)page;
	uint64_t addr = to + 0x1000; /* the "original" site */
	struct x86_64_insn in;
	uint8_t out[X86_64_OOL_MAX];
	size_t len = 0;
	uint64_t got = 0;

	x86_64_insn_decode((const uint8_t *)"\x48\x8d\x05\x34\x12\x00\x00", 7, addr, &in);
	int rc = x86_64_insn_relocate(&in, to, out, &len);
	memcpy(page, out, len);
	page[len] = 0xc3;
	if (rc == 0)
		got = ((uint64_t(*)(void))(uintptr_t)page)();
	ok(rc == 0 && got == addr + 7 + 0x1234,
	   "relocated lea executed yields the original address");

	/* je to addr+0x20 (where "mov $1,%eax; ret" sits); fall-through "xor %eax,%eax; ret" */
	x86_64_insn_decode((const uint8_t *)"\x74\x1e", 2, addr, &in);
	rc = x86_64_insn_relocate(&in, to, out, &len);
	memcpy(page, out, len);
	memcpy(page + len, "\x31\xc0\xc3", 3);
	memcpy(page + 0x1020, "\xb8\x01\x00\x00\x00\xc3", 6);
	uint64_t taken = 9, not_taken = 9;
	if (rc == 0) {
		__asm__ volatile("sub $128, %%rsp\n\t"
				 "cmp %%rax, %%rax\n\t"
				 "call *%1\n\t"
				 "add $128, %%rsp"
				 : "=a"(taken)
				 : "r"(page), "a"(7)
				 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory",
				   "cc");
		__asm__ volatile("sub $128, %%rsp\n\t"
				 "cmp $1, %%rax\n\t"
				 "call *%1\n\t"
				 "add $128, %%rsp"
				 : "=a"(not_taken)
				 : "r"(page), "a"(7)
				 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory",
				   "cc");
	}
	ok(rc == 0 && taken == 1 && not_taken == 0,
	   "relocated je executed: taken reaches the original target");
	munmap(page, 8192);
}

/* Random bytes through every entry point (under ASan/UBSan): invariants only. */
static void test_sweep(void)
{
	uint32_t seed = 12345;
	int decoded = 0, bad = 0;
	for (int i = 0; i < 200000; i++) {
		uint8_t code[X86_64_INSN_MAX];
		for (size_t k = 0; k < sizeof(code); k++) {
			seed = seed * 1664525u + 1013904223u;
			code[k] = (uint8_t)(seed >> 24);
		}
		struct x86_64_insn in;
		if (x86_64_insn_decode(code, sizeof(code), ADDR, &in) != 0)
			continue;
		decoded++;
		uint8_t out[X86_64_OOL_MAX];
		size_t len = 0;
		struct user_regs_struct r;
		struct x86_64_memwrite w[2];
		size_t nw = 0;
		memset(&r, 0, sizeof(r));
		r.rsp = 0x7ffe0000;
		int rc = x86_64_insn_relocate(&in, TO, out, &len);
		if (in.len == 0 || in.len > X86_64_INSN_MAX ||
		    memcmp(in.bytes, code, in.len) != 0 ||
		    (rc == 0 && (len == 0 || len > X86_64_OOL_MAX)) ||
		    (rc == -ENOTSUP) != (in.cls == X86_64_INSN_UNSAFE) ||
		    (rc == -ERANGE && in.disp_offset == 0) ||
		    (rc != 0 && rc != -ENOTSUP && rc != -ERANGE) ||
		    (in.cls == X86_64_INSN_UNSAFE) != (in.strategy == X86_64_STEP_INLINE) ||
		    !memchr(in.text, 0, sizeof(in.text)))
			bad++;
		r.rip = TO + len;
		if (rc == 0 && (x86_64_insn_fixup(&in, TO, &r, w, &nw) < 0 || nw > 1))
			bad++;
		memset(&r, 0, sizeof(r));
		r.rsp = 0x7ffe0000;
		if (in.strategy == X86_64_STEP_EMULATE &&
		    (x86_64_insn_emulate(&in, &r, w, &nw) != 0 || nw > 1))
			bad++;
	}
	printf("# %d decoded\n", decoded);
	ok(decoded > 100000 && bad == 0, "random bytes: decode/relocate/fixup/emulate invariants");
}

int main(void)
{
	printf("1..64\n");
	test_simple();
	test_riprel();
	test_branches();
	test_go();
	test_more_emulation();
	test_native_flags();
	test_native_pushf();
	test_native_reloc();
	test_sweep();
	if (n_test != 64)
		printf("# planned 64, ran %d\n", n_test);
	return n_fail ? 1 : 0;
}
