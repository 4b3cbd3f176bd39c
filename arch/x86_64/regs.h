/* The one x86_64 register table: the g block layout, target.xml, lldb register info and
 * DWARF numbering are all generated from it. Pure data and pure functions; no ptrace, no
 * protocol headers. */
#ifndef TRACESTUB_ARCH_X86_64_REGS_H
#define TRACESTUB_ARCH_X86_64_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct user_regs_struct;
struct user_fpregs_struct;

/* gdb target-description register numbers (target.xml order). */
enum x86_64_regno {
	X86_64_RAX = 0,
	X86_64_RBX,
	X86_64_RCX,
	X86_64_RDX,
	X86_64_RSI,
	X86_64_RDI,
	X86_64_RBP,
	X86_64_RSP,
	X86_64_R8,
	X86_64_R9,
	X86_64_R10,
	X86_64_R11,
	X86_64_R12,
	X86_64_R13,
	X86_64_R14,
	X86_64_R15,
	X86_64_RIP = 16,
	X86_64_EFLAGS,
	X86_64_CS,
	X86_64_SS,
	X86_64_DS,
	X86_64_ES,
	X86_64_FS,
	X86_64_GS,
	X86_64_ST0 = 24,
	X86_64_FCTRL = 32,
	X86_64_FSTAT,
	X86_64_FTAG,
	X86_64_FISEG,
	X86_64_FIOFF,
	X86_64_FOSEG,
	X86_64_FOOFF,
	X86_64_FOP,
	X86_64_XMM0 = 40,
	X86_64_MXCSR = 56,
	X86_64_ORIG_RAX = 57,
	X86_64_FS_BASE = 58,
	X86_64_GS_BASE = 59,
	X86_64_YMM0H = 60, /* ymm0h..ymm15h: upper halves, 60..75 (org.gnu.gdb.i386.avx) */
	X86_64_NREGS = 76,
};

struct x86_64_reg {
	const char *name;
	uint16_t bitsize;
	uint16_t offset;     /* in the g block */
	int16_t dwarf;	     /* DWARF / eh_frame number, -1 none */
	const char *type;    /* target.xml type: int64, code_ptr, data_ptr, i387_ext, vec128, ... */
	const char *group;   /* general, float, vector, system */
	const char *feature; /* org.gnu.gdb.i386.core, .sse, .linux, .segments, .avx */
	const char *generic; /* pc, sp, fp, flags, arg1..arg6 or NULL */
	const char *encoding; /* lldb: uint, ieee754, vector */
	const char *format;   /* lldb: hex, float, vector-uint8 */
	const char *set;      /* lldb register set name */
	bool expedite;	      /* gdbserver expedites rbp, rsp, rip */
};

/* The table, X86_64_NREGS entries, in regnum order. Never NULL. */
const struct x86_64_reg *x86_64_regs(void);
/* Bytes in the g block (sum of all register sizes). */
size_t x86_64_g_size(void);

/* Write target.xml (all features inline) into buf. Returns its length (which may exceed cap:
 * then only cap bytes were written), never negative. */
size_t x86_64_target_xml(char *buf, size_t cap);
/* qXfer:features:read of annex (annex_len bytes, "target.xml" only: -ENOENT otherwise): up to
 * len bytes from off into buf, *out_len = bytes copied (0 at the end). The XML is built once. */
int x86_64_target_xml_read(const char *annex, size_t annex_len, uint64_t off, uint8_t *buf,
			   size_t len, size_t *out_len);

/* Map between DWARF numbers and regnums. Return -1 if there is no such register. */
int x86_64_regno_from_dwarf(int dwreg);
int x86_64_dwarf_from_regno(int regno);

/* Fill a g block and one availability byte per regnum (1 = valid) from ptrace state.
 * fp may be NULL (x87/SSE unavailable); xsave may be NULL or shorter than the AVX area
 * (ymm*h unavailable). */
void x86_64_regs_to_g(const struct user_regs_struct *gp, const struct user_fpregs_struct *fp,
		      const uint8_t *xsave, size_t xsave_len, uint8_t *g, uint8_t *avail);
/* Write the registers of a g block back into ptrace structs; NULL structs are skipped. */
void x86_64_regs_from_g(const uint8_t *g, struct user_regs_struct *gp,
			struct user_fpregs_struct *fp, uint8_t *xsave, size_t xsave_len);
/* Write one register value (len bytes, target order) into ptrace structs.
 * Returns 0, or -EINVAL for a bad regno/len. Reports which struct changed via the flags. */
#define X86_64_DIRTY_GP	    1u
#define X86_64_DIRTY_FP	    2u
#define X86_64_DIRTY_XSTATE 4u
int x86_64_reg_store(unsigned regno, const uint8_t *val, size_t len, struct user_regs_struct *gp,
		     struct user_fpregs_struct *fp, uint8_t *xsave, size_t xsave_len,
		     unsigned *dirty);

/* The software breakpoint: int3. */
#define X86_64_BREAKPOINT_BYTE 0xcc
#define X86_64_BREAKPOINT_LEN  1
/* PC reported by the kernel after an int3 at addr is addr + 1. */
static inline uint64_t x86_64_trap_pc_to_site(uint64_t pc)
{
	return pc - X86_64_BREAKPOINT_LEN;
}

#endif
