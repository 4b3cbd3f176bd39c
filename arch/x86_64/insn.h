/* Instruction decoding for breakpoint sites, through libzydis (never hand-decoded): length,
 * classification, emulation in registers, relocation for out-of-line execution.
 * No Zydis type appears here; no ptrace. */
#ifndef TRACESTUB_ARCH_X86_64_INSN_H
#define TRACESTUB_ARCH_X86_64_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct user_regs_struct;

#define X86_64_INSN_MAX 15

enum x86_64_insn_class {
	X86_64_INSN_OTHER,  /* plain, position-independent */
	X86_64_INSN_RIPREL, /* has a rip-relative memory operand */
	X86_64_INSN_JMP,    /* direct jmp rel8/rel32 */
	X86_64_INSN_JCC,    /* conditional relative branch (incl. jrcxz/loop) */
	X86_64_INSN_CALL,   /* direct call rel32 */
	X86_64_INSN_CALL_INDIRECT,
	X86_64_INSN_JMP_INDIRECT,
	X86_64_INSN_RET,
	X86_64_INSN_SYSCALL,
	X86_64_INSN_INT3,
	X86_64_INSN_UNSAFE, /* cannot be stepped out of line (e.g. rip read other than disp) */
};

/* How a site's displaced instruction is stepped over. */
enum x86_64_stepover {
	X86_64_STEP_EMULATE,	 /* x86_64_insn_emulate */
	X86_64_STEP_OUT_OF_LINE, /* x86_64_insn_relocate into scratch, step there, fix up */
	X86_64_STEP_INLINE,	 /* stop all threads, restore byte, single-step */
};

/* What x86_64_insn_emulate does, decided once by x86_64_insn_decode (no decoding on the hit
 * path). Registers are indexes into struct user_regs_struct viewed as an array of 64-bit
 * slots; X86_64_EMU_NOREG for none, X86_64_EMU_RIP for a rip base. */
enum x86_64_emu_op {
	X86_64_EMU_NONE,
	X86_64_EMU_NOP,	     /* nop, endbr */
	X86_64_EMU_PUSH_REG, /* push src */
	X86_64_EMU_PUSH_IMM, /* push imm (sign-extended to 64 bits) */
	X86_64_EMU_PUSHF,    /* pushf/pushfq: width 2 or 8 */
	X86_64_EMU_MOV_RR,   /* mov src,dst (width 4: zero-extend) */
	X86_64_EMU_MOV_RI,   /* mov imm,dst (width 4: zero-extend) */
	X86_64_EMU_ADDSUB,   /* add/sub imm,dst (64-bit), flags */
	X86_64_EMU_XOR_ZERO, /* xor dst,dst */
	X86_64_EMU_LEA,	     /* lea disp(base,index,scale),dst */
	X86_64_EMU_JMP,	     /* jmp target */
	X86_64_EMU_CALL,     /* call target */
};
#define X86_64_EMU_NOREG 0xff
#define X86_64_EMU_RIP	 0xfe

struct x86_64_emu {
	uint8_t op; /* enum x86_64_emu_op */
	uint8_t width;
	uint8_t dst, src, base, index, scale;
	bool sub;
	int64_t imm; /* immediate, or the lea displacement */
};

struct x86_64_insn {
	uint64_t addr;
	uint8_t bytes[X86_64_INSN_MAX];
	uint8_t len;
	enum x86_64_insn_class cls;
	enum x86_64_stepover strategy;
	uint64_t target;     /* branch/call target; for a rip-relative memory operand its effective
			      * address (for `call *x(%rip)`, the address of the slot) */
	uint8_t disp_offset; /* offset of the rip-relative disp32 / rel32 in bytes, 0 if none */
	uint8_t disp_size;
	bool rep;	       /* rep/repe/repne prefix (string instructions iterate) */
	struct x86_64_emu emu; /* op NONE unless strategy is EMULATE */
	char text[64];	       /* AT&T disassembly, for logs and errors */
};

/* Decode the instruction at addr from code[0..len). Returns 0, -EINVAL if undecodable. */
int x86_64_insn_decode(const uint8_t *code, size_t len, uint64_t addr, struct x86_64_insn *out);

/* A memory write produced by emulation (e.g. push): the stub applies it to the target. */
struct x86_64_memwrite {
	uint64_t addr;
	uint8_t len;
	uint8_t bytes[16];
};

/* Emulate insn (strategy EMULATE) on regs. *nwrites memory writes are produced (at most 2).
 * Reads of memory are never needed by emulated instructions. Uses only insn->emu (no
 * decoding: cheap enough for the hit path). Returns 0 or -ENOTSUP. */
int x86_64_insn_emulate(const struct x86_64_insn *insn, struct user_regs_struct *regs,
			struct x86_64_memwrite *writes, size_t *nwrites);

/* Produce code to execute insn out of line at scratch address `to`: rip-relative operands
 * and relative branches re-targeted. Writes at most X86_64_OOL_MAX bytes to out, *len set.
 * After single-stepping it there, call x86_64_insn_fixup. Returns 0, -ENOTSUP (class UNSAFE:
 * step it inline) or -ERANGE (a re-targeted rel32/disp32 does not reach: scratch must lie
 * within +-2 GiB of the original). */
#define X86_64_OOL_MAX 32
int x86_64_insn_relocate(const struct x86_64_insn *insn, uint64_t to, uint8_t *out, size_t *len);
/* Fix registers after one step of the relocated copy at `to`: rip back into the original
 * code, a pushed return address of a call rewritten, syscall's rcx (return rip) rewritten.
 * May produce one memory write. Returns 0; 1 if rip is still `to` after a rep-prefixed string
 * instruction (one iteration done, rcx not exhausted: step the copy again, then call again);
 * or the error x86_64_insn_relocate gives. */
int x86_64_insn_fixup(const struct x86_64_insn *insn, uint64_t to, struct user_regs_struct *regs,
		      struct x86_64_memwrite *writes, size_t *nwrites);

#endif
