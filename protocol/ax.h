/* Agent expressions (PROTOCOL.md §4): a static verifier run when a tracepoint is defined and
 * a bounded interpreter run on every hit. libc only; the interpreter never allocates (its
 * stack is a fixed array on the C stack) and never trusts the bytecode, verified or not. */
#ifndef TRACESTUB_PROTOCOL_AX_H
#define TRACESTUB_PROTOCOL_AX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AX_STACK_MAX 128     /* values; the verifier refuses deeper expressions */
#define AX_MAX_LEN   65535   /* bytes of bytecode */
#define AX_STEP_MAX  100000u /* instructions per evaluation (goto loops end here) */

/* Opcodes that matter to callers and tests (the full list lives in ax.c's table). */
enum ax_op {
	AX_OP_FLOAT = 0x01,
	AX_OP_ADD = 0x02,
	AX_OP_TRACE = 0x0c,
	AX_OP_TRACE_QUICK = 0x0d,
	AX_OP_IF_GOTO = 0x20,
	AX_OP_GOTO = 0x21,
	AX_OP_CONST8 = 0x22,
	AX_OP_CONST16 = 0x23,
	AX_OP_CONST32 = 0x24,
	AX_OP_CONST64 = 0x25,
	AX_OP_REG = 0x26,
	AX_OP_END = 0x27,
	AX_OP_GETV = 0x2c,
	AX_OP_SETV = 0x2d,
	AX_OP_TRACEV = 0x2e,
	AX_OP_TRACENZ = 0x2f,
	AX_OP_TRACE16 = 0x30,
	AX_OP_PICK = 0x32,
	AX_OP_ROT = 0x33,
	AX_OP_PRINTF = 0x34,
};

/* Results of verification and evaluation. AX_OK is 0; everything else ends the expression. */
enum ax_status {
	AX_OK = 0,
	AX_E_BAD_OPCODE,     /* undefined opcode (incl. invalid2) */
	AX_E_UNSUPPORTED,    /* float ops, printf */
	AX_E_TRUNCATED,	     /* operand runs past the end */
	AX_E_BAD_OPERAND,    /* ext 0 */
	AX_E_OVERFLOW,	     /* stack deeper than AX_STACK_MAX */
	AX_E_UNDERFLOW,	     /* pop from an empty stack (pick n beyond depth) */
	AX_E_BAD_JUMP,	     /* target outside the code or inside an instruction */
	AX_E_NO_END,	     /* a path runs off the end without `end` */
	AX_E_DEPTH_MISMATCH, /* two paths reach one instruction with different depths */
	AX_E_TOO_LONG,	     /* empty or longer than AX_MAX_LEN */
	AX_E_DIV_ZERO,
	AX_E_MEM_FAULT, /* ref* / tracenz read failed */
	AX_E_REG_UNAVAILABLE,
	AX_E_TSV,	/* get/set/record of a trace state variable failed */
	AX_E_RECORD,	/* recording into the frame failed (frame full) */
	AX_E_STEPS,	/* AX_STEP_MAX exceeded */
	AX_E_NO_MEMORY, /* verifier could not allocate its work arrays */
};

/* What the interpreter may touch; any member may be NULL (the op using it then fails with
 * the matching error). All return 0 or a negative errno. */
struct ax_env {
	void *ctx;
	/* Register regno (gdb numbering); -ENOENT when unavailable. */
	int (*read_reg)(void *ctx, unsigned regno, uint64_t *val);
	/* Exactly len bytes at addr into buf; any failure is a fault. */
	int (*read_mem)(void *ctx, uint64_t addr, uint8_t *buf, size_t len);
	/* Collect len bytes at addr into the frame (trace, trace_quick, trace16, tracenz). */
	int (*record_mem)(void *ctx, uint64_t addr, uint64_t len);
	int (*get_tsv)(void *ctx, unsigned num, int64_t *val);
	int (*set_tsv)(void *ctx, unsigned num, int64_t val);
	/* Collect the current value of TSV num into the frame (tracev). */
	int (*record_tsv)(void *ctx, unsigned num);
};

struct ax_verify_info {
	size_t pc;	    /* offset of the offending instruction (errors) */
	unsigned max_depth; /* deepest stack on any path (success) */
	const char *reason; /* static text, never NULL after the call */
};

struct ax_result {
	uint64_t value; /* top of stack at `end` */
	bool has_value; /* false when the stack was empty at `end` */
	size_t pc;	/* where evaluation stopped */
	unsigned steps; /* instructions executed */
};

/* Static checks over code[0..len): opcodes, operands, jumps to instruction starts only, stack
 * depth on every path within [0, AX_STACK_MAX], every path reaches `end`. info may be NULL.
 * Allocates work arrays (definition time only). */
enum ax_status ax_verify(const uint8_t *code, size_t len, struct ax_verify_info *info);

/* Run code against env. out may be NULL. No allocation; safe on unverified input. */
enum ax_status ax_eval(const uint8_t *code, size_t len, const struct ax_env *env,
		       struct ax_result *out);

/* What verified code can record at most: bytes of memory in mem_ops trace blocks and
 * tsv_ops trace-state values, when every trace op runs at most once with a constant length
 * (no jump back, no trace/tracenz). 0, or -ERANGE (unbounded) / -EINVAL. */
int ax_trace_bound(const uint8_t *code, size_t len, uint64_t *bytes, unsigned *mem_ops,
		   unsigned *tsv_ops);

/* Does code read a register (the reg op)? */
bool ax_reads_regs(const uint8_t *code, size_t len);

/* Static description of a status ("division by zero"), never NULL. */
const char *ax_status_str(enum ax_status st);

/* Name of an opcode ("add"), or NULL if undefined. */
const char *ax_op_name(uint8_t op);

#endif
