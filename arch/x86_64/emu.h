/* An x86-64 emulator over partly known state, for replay (issue 17): it runs the code that
 * follows a recorded frame for as long as every input of the next instruction is known, and
 * says why when one is not. Registers carry a known-mask, memory is reached only through the
 * caller's callbacks (which answer "unknown" for what the recording lacks). Decoding is
 * libzydis's; no Zydis type leaves emu*.c. Never touches a process, never speaks protocol. */
#ifndef TRACESTUB_ARCH_X86_64_EMU_H
#define TRACESTUB_ARCH_X86_64_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X86_64_EMU_NGPR 16

/* Registers. gpr[] in gdb's order (enum x86_64_regno: rax rbx rcx rdx rsi rdi rbp rsp
 * r8..r15); gpr_known has a bit per byte; rip is always known. */
struct x86_64_emu_cpu {
	uint64_t gpr[X86_64_EMU_NGPR];
	uint8_t gpr_known[X86_64_EMU_NGPR];
	uint64_t rip;
	uint64_t rflags;
	uint64_t flags_known; /* the rflags bits known */
	uint8_t xmm[16][16];
	uint16_t xmm_known; /* a bit per register (all 16 bytes) */
	uint64_t fs_base;
	bool fs_known;
};

/* The memory the code sees. read: all len bytes into buf and 0, or -1 when any is unknown.
 * write: 0, or -1 when it cannot be kept. */
struct x86_64_emu_mem {
	void *ctx;
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t addr, const void *buf, size_t len);
};

/* What a step did, for the callers that follow calls and returns. */
enum x86_64_emu_kind {
	X86_64_EMU_K_PLAIN,
	X86_64_EMU_K_CALL,   /* a call: the return address was pushed */
	X86_64_EMU_K_RET,    /* a return */
	X86_64_EMU_K_BRANCH, /* a jump or conditional branch (taken or not) */
};

/* Run the instruction at c->rip. 0: done, *c and memory updated (a rep string instruction
 * does one iteration, as a hardware single-step does); kind (may be NULL) set. -1: not run,
 * nothing changed, why says which input was unknown or what is not emulated. */
int x86_64_emu_step(struct x86_64_emu_cpu *c, const struct x86_64_emu_mem *m,
		    enum x86_64_emu_kind *kind, char *why, size_t whylen);

/* Mark every byte of every GPR, the flags and the xmm registers known or unknown. */
void x86_64_emu_all_known(struct x86_64_emu_cpu *c, bool known);

#endif
