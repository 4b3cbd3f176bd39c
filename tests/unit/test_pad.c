/* Unit tests for arch/x86_64/pad.c: which instructions a fast site's jump displaces (entries,
 * rets with the instructions before them), every refusal (branches into the bytes, indirect
 * jumps, calls, too little code), and the pad's bytes (the red-zone skip, the agent call, the
 * relocated rip-relative copy, the jump back, where a thread inside is moved). TAP. */
#include "arch/x86_64/insn.h"
#include "arch/x86_64/pad.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}

static int64_t rel(const uint8_t *b)
{
	int32_t v;

	memcpy(&v, b, 4);
	return v;
}

static bool has(const uint8_t *b, size_t n, const void *pat, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(b + i, pat, k))
			return true;
	return false;
}

#define F 0x555555555000ull

/* push %rbp; mov %rsp,%rbp; mov 0x100(%rip),%eax; add $1,%eax; mov %eax,-4(%rbp);
 * mov -4(%rbp),%eax; pop %rbp; ret */
static const uint8_t fn[] = {0x55, 0x48, 0x89, 0xe5, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0x83,
			     0xc0, 0x01, 0x89, 0x45, 0xfc, 0x8b, 0x45, 0xfc, 0x5d, 0xc3};

int main(void)
{
	struct x86_64_patch p;
	const char *why;
	uint8_t pad[X86_64_PAD_MAX], jmp[16];
	uint64_t moved[X86_64_PATCH_INSNS];
	size_t n = 0;

	/* ---- plans ---- */
	ok(!x86_64_patch_plan(fn, sizeof(fn), F, F, false, &p, &why) && p.start == F &&
		   p.len == 10 && p.ninsn == 3 && p.probe == 0,
	   "entry: push, mov, the rip-relative load (10 bytes, 3 instructions)");
	ok(!x86_64_patch_plan(fn, sizeof(fn), F, F + 20, true, &p, &why) && p.start == F + 16 &&
		   p.len == 5 && p.ninsn == 3 && p.probe == 2 && p.insns[2].cls == X86_64_INSN_RET,
	   "exit: mov -4(%rbp),%eax; pop %rbp; ret (5 bytes, the ret probed last)");
	ok(x86_64_patch_plan(fn, sizeof(fn), F, F + 19, true, &p, &why) == -EBUSY && why,
	   "exit at something that is not a ret: refused");
	ok(x86_64_patch_plan(fn, sizeof(fn), F, F + 2, false, &p, &why) == -EBUSY && why &&
		   strstr(why, "boundary"),
	   "not at an instruction boundary: refused");

	static const uint8_t loop[] = {0x55, 0x48, 0x89, 0xe5, 0x90, 0x90,
				       0x90, 0x75, 0xfa, 0x5d, 0xc3}; /* ...; jne back to F+3 */
	ok(x86_64_patch_plan(loop, sizeof(loop), F, F, false, &p, &why) == -EBUSY &&
		   strstr(why, "branch lands inside"),
	   "a branch of the function into the displaced bytes: refused");
	static const uint8_t ind[] = {0x55, 0x48, 0x89, 0xe5, 0x90, 0xff, 0xe0, 0x5d, 0xc3};
	ok(x86_64_patch_plan(ind, sizeof(ind), F, F, false, &p, &why) == -EBUSY &&
		   strstr(why, "indirect"),
	   "an indirect jump in the function (unknown targets): refused");
	static const uint8_t call[] = {0x55, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x5d, 0xc3};
	ok(x86_64_patch_plan(call, sizeof(call), F, F, false, &p, &why) == -EBUSY &&
		   strstr(why, "not plain"),
	   "a call among the displaced instructions: refused");
	static const uint8_t tiny[] = {0x31, 0xc0, 0xc3}; /* xor %eax,%eax; ret */
	ok(x86_64_patch_plan(tiny, sizeof(tiny), F, F, false, &p, &why) == -EBUSY &&
		   x86_64_patch_plan(tiny, sizeof(tiny), F, F + 2, true, &p, &why) == -EBUSY,
	   "a 3-byte function: neither entry nor exit can take 5 bytes");

	/* ---- the entry pad ---- */
	x86_64_patch_plan(fn, sizeof(fn), F, F, false, &p, &why);
	uint64_t at = F + 0x10000, site = 0x7000, hdr = 0x8000, entry = 0x9000;
	ok(!x86_64_pad_build(&p, at, site, hdr, entry, NULL, pad, &n, moved) && n > 60 &&
		   n <= X86_64_PAD_MAX,
	   "entry pad built");
	ok(!memcmp(pad, "\x48\x8d\x64\x24\x80\x9c", 6), "it skips the red zone, then pushfq");
	ok(has(pad, n, "\x48\xbe\x00\x70\0\0\0\0\0\0", 10) &&
		   has(pad, n, "\x48\xba\x00\x80\0\0\0\0\0\0", 10) &&
		   has(pad, n, "\x48\xb8\x00\x90\0\0\0\0\0\0", 10) && has(pad, n, "\xff\xd0", 2),
	   "it loads site, header and entry and calls the agent");
	ok(has(pad, n, "\x48\x83\xe4\xf0", 4), "the call is made on a 16-byte aligned stack");
	ok(has(pad, n, "\x9d\x48\x8d\xa4\x24\x80\0\0\0", 9),
	   "popfq, then rsp back above the red zone");
	struct x86_64_insn in;
	uint64_t off = moved[2] - at;
	ok(!x86_64_insn_decode(pad + off, n - off, moved[2], &in) && in.cls == X86_64_INSN_RIPREL &&
		   in.target == F + 10 + 0x100,
	   "the rip-relative load relocated: it still reads F+0x10a");
	ok(!memcmp(pad + (moved[1] - at), "\x48\x89\xe5", 3) && moved[1] == moved[0] + 1,
	   "a thread stopped at the 2nd displaced instruction moves to its copy");
	ok(pad[n - 5] == 0xe9 && (int64_t)(at + n) + rel(pad + n - 4) == (int64_t)(F + 10),
	   "the pad ends with a jump back to the byte after the patch");
	ok(!x86_64_patch_jump(&p, at, jmp) && jmp[0] == 0xe9 &&
		   (int64_t)(F + 5) + rel(jmp + 1) == (int64_t)at && jmp[5] == 0xcc &&
		   jmp[9] == 0xcc,
	   "the patch: jmp to the pad, the rest int3");
	ok(x86_64_pad_build(&p, F + 0x90000000ull, site, hdr, entry, NULL, pad, &n, NULL) ==
			   -ERANGE &&
		   x86_64_patch_jump(&p, F + 0x90000000ull, jmp) == -ERANGE,
	   "a pad beyond +-2 GiB: -ERANGE");

	/* test %edi,%edi; je +0x20 (out of the displaced bytes); push %rbp; ... */
	static const uint8_t jcc[] = {0x85, 0xff, 0x74, 0x20, 0x55,	    0x48,
				      0x89, 0xe5, 0x5d, 0xc3, [0x24] = 0xc3};
	ok(!x86_64_patch_plan(jcc, sizeof(jcc), F, F, false, &p, &why) && p.ninsn == 3 &&
		   p.insns[1].cls == X86_64_INSN_JCC,
	   "entry with a jcc among the displaced instructions: taken");
	ok(!x86_64_pad_build(&p, at, site, hdr, entry, NULL, pad, &n, moved) &&
		   !x86_64_insn_decode(pad + (moved[1] - at), n - (moved[1] - at), moved[1], &in) &&
		   in.cls == X86_64_INSN_JCC && in.target == F + 0x24 && in.len == 6,
	   "the jcc relocated as rel32 to its original target");

	/* ---- the exit pad ---- */
	x86_64_patch_plan(fn, sizeof(fn), F, F + 20, true, &p, &why);
	ok(!x86_64_pad_build(&p, at, site, hdr, entry, NULL, pad, &n, moved) &&
		   !memcmp(pad, "\x8b\x45\xfc\x5d\x48\x8d\x64\x24\x80", 9) && pad[n - 1] == 0xc3,
	   "exit pad: the instructions before the ret first, the agent, then the ret itself");
	ok(moved[0] == at && moved[1] == at + 3 && moved[2] == at + n - 1,
	   "exit pad: threads inside move to the copies");
	/* ---- a Go pad: its own stack ---- */
	struct x86_64_pad_go go = {0x30, 0x0, 0x50, 0x38};
	x86_64_patch_plan(fn, sizeof(fn), F, F, false, &p, &why);
	ok(!x86_64_pad_build(&p, at, site, hdr, entry, &go, pad, &n, moved) &&
		   !memcmp(pad, "\x9c\x50\x53", 3),
	   "Go pad: flags, rax, rbx on the goroutine's stack first (24 bytes), no red-zone skip");
	size_t k = 0, ninsn = 0;
	bool decodes = true;
	while (k < n && decodes) {
		decodes = !x86_64_insn_decode(pad + k, n - k, at + k, &in);
		k += in.len;
		ninsn++;
	}
	ok(decodes && k == n, "Go pad: every byte decodes as instructions");
	ok(has(pad, n, "\x49\x8b\x86\x30\0\0\0", 7) && has(pad, n, "\x48\x8b\x98\0\0\0\0", 7) &&
		   has(pad, n, "\x48\x8b\x80\x50\0\0\0", 7) &&
		   has(pad, n, "\x48\x8b\x9b\x38\0\0\0", 7),
	   "Go pad: g.m, m.g0, m.gsignal, g0.sched.sp read at the given offsets");
	ok(has(pad, n, "\x48\x83\xc4\x08\x5c\x5b\x58\x9d", 8) &&
		   !memcmp(pad + (moved[0] - at), "\x55", 1),
	   "Go pad: back to the goroutine's stack, its rbx, rax, flags, then the displaced code");
	printf("1..%d\n", n_test);
	return 0;
}
