/* CFI unwinding (.eh_frame, then .debug_frame) via libdwarf, with an rbp-chain
 * fallback only where no CFI covers a pc. Never reads target memory itself: the
 * caller gives a reader. */
#ifndef STUB_CFI_H
#define STUB_CFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfi;

/* DWARF x86_64 numbering: 0 rax 1 rdx 2 rcx 3 rbx 4 rsi 5 rdi 6 rbp 7 rsp 8-15
 * r8-r15 16 rip. */
#define CFI_NREGS 17
struct cfi_regs {
	uint64_t r[CFI_NREGS];
	uint32_t valid; /* bit n: r[n] known */
	bool at_entry;	/* rip is a function's first instruction (used where no CFI covers it) */
};

enum cfi_how { CFI_HOW_START, CFI_HOW_CFI, CFI_HOW_FP };
struct cfi_frame {
	uint64_t pc, sp;
	enum cfi_how how; /* how this frame was recovered */
};

typedef int (*cfi_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
/* pc -> the module's cfi (NULL when it has none) and load bias; -ENOENT if no
 * module. */
typedef int (*cfi_module_fn)(void *ctx, uint64_t pc, struct cfi **cfi, uint64_t *bias);

/* Open the CFI of an ELF file. 0, -ENOENT (no CFI), -ENOEXEC or -errno. */
int cfi_open(const char *path, struct cfi **out);
void cfi_free(struct cfi *c);

/* The canonical frame address at link-time pc (the caller's rsp before its call) for regs.
 * 0, or -ENOENT when no CFI covers pc or the rule needs a register that is not valid. */
int cfi_cfa(struct cfi *c, uint64_t pc, const struct cfi_regs *regs, uint64_t *cfa);

/* [lo, hi) of the FDE covering link-time pc. 0 or -ENOENT. */
int cfi_fde_range(struct cfi *c, uint64_t pc, uint64_t *lo, uint64_t *hi);

/* Unwind from regs (rip, rsp needed; rbp and callee-saved used when valid).
 * Fills up to max frames (frame 0 = regs), *n gets the count. Stops cleanly on
 * unreadable memory, missing CFI with no frame pointer, a non-increasing stack
 * or pc 0. Returns 0 or -EINVAL. */
int cfi_unwind(cfi_module_fn modules, void *mctx, const struct cfi_regs *regs, cfi_read_fn rd,
	       void *rctx, struct cfi_frame *out, size_t max, size_t *n);

#endif
