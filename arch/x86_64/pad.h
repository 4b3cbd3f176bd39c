/* Fast sites: which whole instructions a 5-byte `jmp` to a pad replaces, and the pad's code
 * (the displaced instructions relocated around a call into the in-process agent, then a jump
 * back). Pure: decoding through insn.c (libzydis), no ptrace, nothing of the agent's memory
 * layout beyond the three addresses the pad loads. */
#ifndef TRACESTUB_ARCH_X86_64_PAD_H
#define TRACESTUB_ARCH_X86_64_PAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/insn.h"

#define X86_64_JMP_LEN	    5
#define X86_64_PATCH_INSNS  5
#define X86_64_PAD_MAX	    384
#define X86_64_PAD_RED_ZONE 128 /* bytes below rsp a C function may use without moving rsp */
#define X86_64_PAD_SAVED    128 /* 16 words: rflags and 15 registers, rsp excluded */

struct x86_64_patch {
	uint64_t start; /* the first displaced byte */
	uint8_t len;	/* bytes displaced, >= X86_64_JMP_LEN */
	uint8_t ninsn;
	uint8_t probe; /* index of the probed instruction in insns (an exit: the ret, last) */
	struct x86_64_insn insns[X86_64_PATCH_INSNS];
};

/* Plan the patch for a probe at `at` in the function whose original bytes are
 * code[0..len), loaded at fstart. An entry (exit false) displaces the instructions from `at`
 * on; an exit (`at` is a ret) the ret and the instructions just before it, which the pad runs
 * first so the agent sees the registers the ret sees. Refused, with *why set, when a
 * displaced instruction is not plain, rip-relative or a conditional branch (a jmp, call,
 * syscall, int3),
 * when a branch of the function lands inside the displaced bytes, when the function has an
 * indirect jump (its targets are unknown), or when the bytes do not decode. 0 or -EBUSY. */
int x86_64_patch_plan(const uint8_t *code, size_t len, uint64_t fstart, uint64_t at, bool exit,
		      struct x86_64_patch *out, const char **why);

/* Go: where the pad finds a stack of its own. At a Go function's entry or ret, r14 is the
 * goroutine (ABIInternal); unless it is the thread's g0 or gsignal (already a system stack),
 * the pad moves to g0's stack below g0.sched.sp (free while a goroutine runs: the runtime's
 * own systemstack/asmcgocall do the same), after 24 bytes on the goroutine's stack. Offsets
 * from the runtime's DWARF. The frame then holds the site's rsp as its 17th word. */
struct x86_64_pad_go {
	int32_t g_m, m_g0, m_gsignal, g_sched_sp;
};

/* The pad for p placed at `pad`. moved[i] (may be NULL) gets the pad address where a thread
 * stopped at p->insns[i] continues once the patch is in (its relocated copy, after the
 * agent's call for an entry: that hit is not recorded). [displaced instructions before the probe]
 * [C (go NULL): skip the red zone; Go: move to a stack of its own; save rflags and the general
 * registers on the stack; call entry(regs, site, hdr) with a 16-byte aligned stack; restore] [the
 * probed instruction and the rest] [jmp back to the byte after the patch, unless the last
 * instruction was the ret]. Writes at most X86_64_PAD_MAX bytes. 0, -ERANGE (the pad is not within
 * reach of the code), or -ENOTSUP. */
int x86_64_pad_build(const struct x86_64_patch *p, uint64_t pad, uint64_t site, uint64_t hdr,
		     uint64_t entry, const struct x86_64_pad_go *go, uint8_t *out, size_t *len,
		     uint64_t *moved);

/* The bytes written over p: `jmp pad`, the rest int3. out holds p->len bytes. 0 or -ERANGE. */
int x86_64_patch_jump(const struct x86_64_patch *p, uint64_t pad, uint8_t *out);

#endif
