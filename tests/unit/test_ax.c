/* Agent expressions: every opcode with exact results, gdb 13's sequences (PROTOCOL.md §4.3)
 * against a fake environment, and the verifier's refusals. */
#include "protocol/ax.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int n_test;
static int n_fail;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		n_fail++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_test, name);
}

/* ---- fake target: 64 registers, 256 bytes of memory at 0x1000, a record log ---- */
#define MEM_BASE 0x1000u
struct fake {
	uint64_t regs[64];
	uint64_t reg_avail; /* bit per regno < 64 */
	uint8_t mem[256];
	struct {
		uint64_t addr, len;
	} rec[16];
	unsigned nrec;
	int64_t tsv[8];
	unsigned tsv_rec[8];
	unsigned ntsv_rec;
};

static int f_reg(void *ctx, unsigned regno, uint64_t *val)
{
	struct fake *f = ctx;
	if (regno >= 64 || !(f->reg_avail >> regno & 1))
		return -ENOENT;
	*val = f->regs[regno];
	return 0;
}

static int f_mem(void *ctx, uint64_t addr, uint8_t *buf, size_t len)
{
	struct fake *f = ctx;
	if (addr < MEM_BASE || addr - MEM_BASE > sizeof(f->mem) ||
	    len > sizeof(f->mem) - (addr - MEM_BASE))
		return -EFAULT;
	memcpy(buf, f->mem + (addr - MEM_BASE), len);
	return 0;
}

static int f_rec(void *ctx, uint64_t addr, uint64_t len)
{
	struct fake *f = ctx;
	if (f->nrec >= 16)
		return -ENOSPC;
	f->rec[f->nrec].addr = addr;
	f->rec[f->nrec].len = len;
	f->nrec++;
	return 0;
}

static int f_get(void *ctx, unsigned n, int64_t *v)
{
	struct fake *f = ctx;
	if (n >= 8)
		return -ENOENT;
	*v = f->tsv[n];
	return 0;
}

static int f_set(void *ctx, unsigned n, int64_t v)
{
	struct fake *f = ctx;
	if (n >= 8)
		return -ENOENT;
	f->tsv[n] = v;
	return 0;
}

static int f_rtsv(void *ctx, unsigned n)
{
	struct fake *f = ctx;
	if (n >= 8 || f->ntsv_rec >= 8)
		return -ENOENT;
	f->tsv_rec[f->ntsv_rec++] = n;
	return 0;
}

static struct fake F;
static const struct ax_env ENV = {&F, f_reg, f_mem, f_rec, f_get, f_set, f_rtsv};

static void reset(void)
{
	memset(&F, 0, sizeof(F));
	for (unsigned i = 0; i < 17; i++)
		F.regs[i] = 0x100 + i;
	F.reg_avail = 0x1ffff;
	for (unsigned i = 0; i < sizeof(F.mem); i++)
		F.mem[i] = (uint8_t)(0xa0 + i);
}

/* Run code: verified first (must pass), then evaluated; result must be val. */
static int runv(const uint8_t *code, size_t len, uint64_t want)
{
	struct ax_result r;
	if (ax_verify(code, len, NULL) != AX_OK)
		return 0;
	if (ax_eval(code, len, &ENV, &r) != AX_OK)
		return 0;
	return r.has_value && r.value == want;
}

#define RUN(want, ...)                                                                             \
	do {                                                                                       \
		static const uint8_t c_[] = {__VA_ARGS__};                                         \
		ok(runv(c_, sizeof(c_), (want)), #want " <- " #__VA_ARGS__);                       \
	} while (0)

static enum ax_status evst(const uint8_t *code, size_t len)
{
	return ax_eval(code, len, &ENV, NULL);
}

#define EVST(st, ...)                                                                              \
	do {                                                                                       \
		static const uint8_t c_[] = {__VA_ARGS__};                                         \
		ok(evst(c_, sizeof(c_)) == (st), "eval " #st " <- " #__VA_ARGS__);                 \
	} while (0)

#define VERST(st, at, ...)                                                                         \
	do {                                                                                       \
		static const uint8_t c_[] = {__VA_ARGS__};                                         \
		struct ax_verify_info i_;                                                          \
		enum ax_status s_ = ax_verify(c_, sizeof(c_), &i_);                                \
		ok(s_ == (st) && i_.pc == (at), "verify " #st " @" #at " <- " #__VA_ARGS__);       \
	} while (0)

static void test_arith(void)
{
	RUN(7, 0x22, 3, 0x22, 4, 0x02, 0x27);
	RUN((uint64_t)-1, 0x22, 3, 0x22, 4, 0x03, 0x27);
	RUN(12, 0x22, 3, 0x22, 4, 0x04, 0x27);
	/* -7 / 2 = -3 (truncation), -7 % 2 = -1 */
	RUN((uint64_t)-3, 0x22, 0xf9, 0x16, 8, 0x22, 2, 0x05, 0x27);
	RUN((uint64_t)-1, 0x22, 0xf9, 0x16, 8, 0x22, 2, 0x07, 0x27);
	RUN(0x7ffffffffffffffcull, 0x22, 0xf9, 0x16, 8, 0x22, 2, 0x06, 0x27);
	RUN(1, 0x22, 0xf9, 0x16, 8, 0x22, 2, 0x08, 0x27);
	/* INT64_MIN / -1 wraps, % -1 is 0 */
	RUN(0x8000000000000000ull, 0x25, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x22, 0xff, 0x16, 8, 0x05,
	    0x27);
	RUN(0, 0x25, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x22, 0xff, 0x16, 8, 0x07, 0x27);
	RUN(0x30, 0x22, 3, 0x22, 4, 0x09, 0x27);
	RUN(0, 0x22, 3, 0x22, 64, 0x09, 0x27);
	RUN((uint64_t)-2, 0x22, 0xf8, 0x16, 8, 0x22, 2, 0x0a, 0x27);
	RUN((uint64_t)-1, 0x22, 0xf8, 0x16, 8, 0x22, 70, 0x0a, 0x27);
	RUN(0x3ffffffffffffffeull, 0x22, 0xf8, 0x16, 8, 0x22, 2, 0x0b, 0x27);
	RUN(0, 0x22, 5, 0x0e, 0x27);
	RUN(1, 0x22, 0, 0x0e, 0x27);
	RUN(0x04, 0x22, 0x0c, 0x22, 0x06, 0x0f, 0x27);
	RUN(0x0e, 0x22, 0x0c, 0x22, 0x06, 0x10, 0x27);
	RUN(0x0a, 0x22, 0x0c, 0x22, 0x06, 0x11, 0x27);
	RUN(0xfffffffffffffff3ull, 0x22, 0x0c, 0x12, 0x27);
	RUN(1, 0x22, 9, 0x22, 9, 0x13, 0x27);
	RUN(0, 0x22, 9, 0x22, 8, 0x13, 0x27);
	/* less: a b -> a < b; -1 < 1 signed yes, unsigned no */
	RUN(1, 0x22, 0xff, 0x16, 8, 0x22, 1, 0x14, 0x27);
	RUN(0, 0x22, 0xff, 0x16, 8, 0x22, 1, 0x15, 0x27);
	RUN(1, 0x22, 1, 0x22, 2, 0x15, 0x27);
}

static void test_ext(void)
{
	RUN(0xffffffffffffff80ull, 0x22, 0x80, 0x16, 8, 0x27);
	RUN(0x7f, 0x22, 0x7f, 0x16, 8, 0x27);
	RUN(0xffffffffffffffffull, 0x22, 0x01, 0x16, 1, 0x27);
	RUN(0xfffffffffffff834ull, 0x23, 0x18, 0x34, 0x16, 12, 0x27);
	RUN(0x234, 0x23, 0x12, 0x34, 0x16, 12, 0x27);
	RUN(0x1234, 0x23, 0x12, 0x34, 0x16, 64, 0x27);
	RUN(0x34, 0x23, 0x12, 0x34, 0x2a, 8, 0x27);
	RUN(0x234, 0x23, 0x12, 0x34, 0x2a, 12, 0x27);
	RUN(0, 0x23, 0x12, 0x34, 0x2a, 0, 0x27);
	RUN(0x8000000000000000ull, 0x25, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x2a, 64, 0x27);
	RUN(0x12, 0x22, 0x12, 0x27);
	RUN(0x1234, 0x23, 0x12, 0x34, 0x27);
	RUN(0x12345678, 0x24, 0x12, 0x34, 0x56, 0x78, 0x27);
	RUN(0x0102030405060708ull, 0x25, 1, 2, 3, 4, 5, 6, 7, 8, 0x27);
}

static void test_stackops(void)
{
	RUN(5, 0x22, 5, 0x28, 0x02, 0x22, 5, 0x03, 0x27);	   /* dup */
	RUN(1, 0x22, 1, 0x22, 2, 0x29, 0x27);			   /* pop */
	RUN(1, 0x22, 1, 0x22, 2, 0x2b, 0x29, 0x29, 0x22, 1, 0x27); /* swap, then pops */
	RUN(2, 0x22, 1, 0x22, 2, 0x2b, 0x29, 0x27);		   /* swap: top was 1 -> 2 */
	RUN(1, 0x22, 1, 0x22, 2, 0x22, 3, 0x32, 2, 0x27);	   /* pick 2 */
	RUN(3, 0x22, 1, 0x22, 2, 0x22, 3, 0x32, 0, 0x27);	   /* pick 0 = dup */
	/* rot: 1 2 3 -> 3 1 2 (top 2, then 1, then 3) */
	RUN(2, 0x22, 1, 0x22, 2, 0x22, 3, 0x33, 0x27);
	RUN(1, 0x22, 1, 0x22, 2, 0x22, 3, 0x33, 0x29, 0x27);
	RUN(3, 0x22, 1, 0x22, 2, 0x22, 3, 0x33, 0x29, 0x29, 0x27);
	/* if_goto taken / not taken, goto; offsets absolute */
	RUN(9, 0x22, 1, 0x20, 0x00, 0x08, 0x22, 7, 0x27, 0x22, 9, 0x27);
	RUN(7, 0x22, 0, 0x20, 0x00, 0x08, 0x22, 7, 0x27, 0x22, 9, 0x27);
	RUN(9, 0x21, 0x00, 0x06, 0x22, 7, 0x27, 0x22, 9, 0x27);
	/* end with empty stack: ok, no value */
	{
		static const uint8_t c[] = {0x27};
		struct ax_result r;
		ok(ax_eval(c, 1, &ENV, &r) == AX_OK && !r.has_value && r.steps == 1,
		   "end on empty stack: no value");
	}
}

static void test_env_ops(void)
{
	struct ax_result r;

	reset();
	RUN(0x106, 0x26, 0x00, 0x06, 0x27);
	RUN(0x110, 0x26, 0x00, 0x10, 0x27);
	EVST(AX_E_REG_UNAVAILABLE, 0x26, 0x00, 0x20, 0x27);
	/* ref* read little-endian and zero-extend */
	RUN(0xa0, 0x23, 0x10, 0x00, 0x17, 0x27);
	RUN(0xa1a0, 0x23, 0x10, 0x00, 0x18, 0x27);
	RUN(0xa3a2a1a0, 0x23, 0x10, 0x00, 0x19, 0x27);
	RUN(0xa7a6a5a4a3a2a1a0ull, 0x23, 0x10, 0x00, 0x1a, 0x27);
	EVST(AX_E_MEM_FAULT, 0x22, 0x10, 0x1a, 0x27);
	EVST(AX_E_MEM_FAULT, 0x23, 0x10, 0xfc, 0x1a, 0x27); /* straddles the end */
	/* trace: addr size -> (recorded) */
	reset();
	{
		static const uint8_t c[] = {0x23, 0x10, 0x00, 0x22, 0x20, 0x0c, 0x22, 1, 0x27};
		ok(ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && r.value == 1 && F.nrec == 1 &&
			   F.rec[0].addr == 0x1000 && F.rec[0].len == 0x20,
		   "trace records (0x1000, 0x20) and pops both");
	}
	reset();
	{
		static const uint8_t c[] = {0x23, 0x10, 0x04, 0x0d, 0x08, 0x30, 0x01, 0x02, 0x27};
		ok(ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && r.value == 0x1004 && F.nrec == 2 &&
			   F.rec[0].len == 8 && F.rec[1].addr == 0x1004 && F.rec[1].len == 0x102,
		   "trace_quick 8 / trace16 0x102 keep the address");
	}
	reset();
	F.mem[0x13] = 0;
	{
		static const uint8_t c[] = {0x23, 0x10, 0x10, 0x22, 0x20, 0x2f, 0x27};
		ok(ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && !r.has_value && F.nrec == 1 &&
			   F.rec[0].addr == 0x1010 && F.rec[0].len == 4,
		   "tracenz stops after the NUL");
	}
	reset();
	{
		static const uint8_t c[] = {0x23, 0x10, 0x10, 0x22, 0x02, 0x2f, 0x22, 0, 0x27};
		ok(ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && F.nrec == 1 && F.rec[0].len == 2,
		   "tracenz stops at the limit");
	}
	reset();
	{
		/* string runs to the end of mapped memory: fault after the last good byte */
		static const uint8_t c[] = {0x23, 0x10, 0xf0, 0x22, 0x40, 0x2f, 0x22, 0, 0x27};
		ok(ax_eval(c, sizeof(c), &ENV, &r) == AX_E_MEM_FAULT && F.nrec == 0,
		   "tracenz running into unmapped memory faults");
	}
	/* tsvs */
	reset();
	F.tsv[2] = 41;
	{
		/* teval $cnt = $cnt + 1 exactly as gdb emits it */
		static const uint8_t c[] = {0x2c, 0x00, 0x02, 0x22, 0x01, 0x02,
					    0x16, 0x40, 0x2d, 0x00, 0x02, 0x27};
		ok(ax_verify(c, sizeof(c), NULL) == AX_OK &&
			   ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && F.tsv[2] == 42 &&
			   r.value == 42,
		   "teval $cnt = $cnt + 1: 41 -> 42, value stays");
	}
	{
		/* collect $cnt: getv 2, tracev 2, pop, end */
		static const uint8_t c[] = {0x2c, 0x00, 0x02, 0x2e, 0x00, 0x02, 0x29, 0x27};
		ok(ax_verify(c, sizeof(c), NULL) == AX_OK &&
			   ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && F.ntsv_rec == 1 &&
			   F.tsv_rec[0] == 2 && !r.has_value,
		   "collect $cnt: tracev records tsv 2, stack unchanged");
	}
	EVST(AX_E_TSV, 0x2c, 0x00, 0x09, 0x27);
	EVST(AX_E_RECORD, 0x2e, 0x00, 0x09, 0x27);
	{
		static const struct ax_env none = {0};
		static const uint8_t c[] = {0x22, 1, 0x22, 1, 0x0c, 0x27};
		ok(ax_eval(c, sizeof(c), &none, NULL) == AX_E_RECORD, "no record callback: error");
	}
}

static void test_gdb_sequences(void)
{
	struct ax_result r;

	/* local a (int at CFA-36), CFA = rbp+16 */
	reset();
	F.regs[6] = 0x1040;
	{
		static const uint8_t c[] = {0x26, 0x00, 0x06, 0x22, 0x10, 0x02, 0x22, 0xdc,
					    0x16, 0x08, 0x02, 0x22, 0x04, 0x0c, 0x27};
		ok(ax_verify(c, sizeof(c), NULL) == AX_OK &&
			   ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && F.nrec == 1 &&
			   F.rec[0].addr == 0x1040 + 16 - 36 && F.rec[0].len == 4,
		   "collect a: records 4 bytes at rbp+16-36");
	}
	/* condition a == 3 */
	reset();
	F.regs[6] = 0x1040;
	F.mem[0x2c] = 3, F.mem[0x2d] = 0, F.mem[0x2e] = 0, F.mem[0x2f] = 0;
	{
		static const uint8_t c[] = {0x26, 0x00, 0x06, 0x22, 0x10, 0x02, 0x22, 0xdc, 0x16,
					    0x08, 0x02, 0x19, 0x16, 0x20, 0x22, 0x03, 0x13, 0x27};
		ok(ax_verify(c, sizeof(c), NULL) == AX_OK &&
			   ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && r.value == 1,
		   "cond a == 3 true");
		F.mem[0x2c] = 0xfd, F.mem[0x2d] = 0xff, F.mem[0x2e] = 0xff, F.mem[0x2f] = 0xff;
		ok(ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && r.value == 0,
		   "cond a == 3 false (a=-3)");
	}
	/* a > 0 && x < 5 shaped like gdb's condition (if_goto/goto to absolute offsets) */
	reset();
	{
		static const uint8_t c[] = {0x22, 0x07, 0x22, 0x00, 0x2b, 0x14, 0x20, 0x00,
					    0x0c, 0x21, 0x00, 0x18, 0x22, 0x03, 0x22, 0x05,
					    0x14, 0x20, 0x00, 0x17, 0x21, 0x00, 0x19, 0x22,
					    0x01, 0x21, 0x00, 0x1c, 0x22, 0x00, 0x27};
		ok(ax_verify(c, sizeof(c), NULL) == AX_E_BAD_JUMP, "goto into an operand refused");
	}
	{
		static const uint8_t c[] = {
			0x22, 0x07, 0x22, 0x00, 0x2b, 0x14, /* 0..5: 0 < a */
			0x20, 0x00, 0x0c,		    /* 6: if_goto 12 */
			0x21, 0x00, 0x1a,		    /* 9: goto 26 (false) */
			0x22, 0x03, 0x22, 0x05, 0x14,	    /* 12..16: x < 5 */
			0x20, 0x00, 0x17,		    /* 17: if_goto 23 */
			0x21, 0x00, 0x1a,		    /* 20: goto 26 */
			0x22, 0x01, 0x27,		    /* 23: true */
			0x22, 0x00, 0x27,		    /* 26: false */
		};
		ok(ax_verify(c, sizeof(c), NULL) == AX_OK &&
			   ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && r.value == 1,
		   "a > 0 && x < 5 with a=7 x=3 -> 1");
	}
	/* arr[1]@2: const32 addr, 1*4, add, zero_ext 64, 8 bytes, trace */
	reset();
	{
		static const uint8_t c[] = {0x24, 0x00, 0x40, 0x40, 0x40, 0x22, 0x01, 0x22, 0x04,
					    0x04, 0x02, 0x2a, 0x40, 0x22, 0x08, 0x0c, 0x27};
		ok(ax_verify(c, sizeof(c), NULL) == AX_OK &&
			   ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && F.nrec == 1 &&
			   F.rec[0].addr == 0x404044 && F.rec[0].len == 8,
		   "arr[1]@2 records (0x404044, 8)");
	}
	/* *p@2: address of p (rbp-8 here), trace_quick 8, ref64, const8 8, trace */
	reset();
	F.regs[6] = 0x1020;
	F.mem[0x18] = 0x40, F.mem[0x19] = 0x10;
	memset(F.mem + 0x1a, 0, 6);
	{
		static const uint8_t c[] = {0x26, 0x00, 0x06, 0x22, 0xf8, 0x16, 0x08, 0x02,
					    0x0d, 0x08, 0x1a, 0x22, 0x08, 0x0c, 0x27};
		ok(ax_verify(c, sizeof(c), NULL) == AX_OK &&
			   ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && F.nrec == 2 &&
			   F.rec[0].addr == 0x1018 && F.rec[0].len == 8 &&
			   F.rec[1].addr == 0x1040 && F.rec[1].len == 8,
		   "*p@2: pointer then pointee recorded");
	}
	/* *(long*)$rsp@4 */
	reset();
	{
		static const uint8_t c[] = {0x26, 0x00, 0x07, 0x2a, 0x40, 0x22, 0x20, 0x0c, 0x27};
		ok(ax_verify(c, sizeof(c), NULL) == AX_OK &&
			   ax_eval(c, sizeof(c), &ENV, &r) == AX_OK && F.rec[0].addr == 0x107 &&
			   F.rec[0].len == 32,
		   "*(long*)$rsp@4 records (rsp, 32)");
	}
}

static void test_eval_errors(void)
{
	EVST(AX_E_DIV_ZERO, 0x22, 1, 0x22, 0, 0x05, 0x27);
	EVST(AX_E_DIV_ZERO, 0x22, 1, 0x22, 0, 0x06, 0x27);
	EVST(AX_E_DIV_ZERO, 0x22, 1, 0x22, 0, 0x07, 0x27);
	EVST(AX_E_DIV_ZERO, 0x22, 1, 0x22, 0, 0x08, 0x27);
	EVST(AX_E_UNSUPPORTED, 0x01, 0x27);
	EVST(AX_E_UNSUPPORTED, 0x22, 1, 0x1e, 0x27);
	EVST(AX_E_BAD_OPCODE, 0x31, 0x27);
	EVST(AX_E_BAD_OPCODE, 0x00);
	EVST(AX_E_BAD_OPCODE, 0x99);
	EVST(AX_E_UNDERFLOW, 0x02, 0x27);
	EVST(AX_E_UNDERFLOW, 0x22, 1, 0x32, 1, 0x27);
	EVST(AX_E_TRUNCATED, 0x25, 1, 2, 3);
	EVST(AX_E_NO_END, 0x22, 1);
	EVST(AX_E_NO_END, 0x21, 0x10, 0x00);
	EVST(AX_E_STEPS, 0x21, 0x00, 0x00); /* goto 0 forever */
	EVST(AX_E_BAD_OPERAND, 0x22, 1, 0x16, 0, 0x27);
	{
		/* dup forever: overflow ends it */
		static const uint8_t c[] = {0x22, 1, 0x28, 0x21, 0x00, 0x02};
		ok(evst(c, sizeof(c)) == AX_E_OVERFLOW, "dup loop overflows the fixed stack");
	}
	ok(ax_eval((const uint8_t *)"", 0, &ENV, NULL) == AX_E_TOO_LONG, "empty expression");
}

static void test_verify(void)
{
	struct ax_verify_info i;

	VERST(AX_E_BAD_OPCODE, 2, 0x22, 1, 0x31, 0x27);
	VERST(AX_E_UNSUPPORTED, 0, 0x01, 0x27);
	VERST(AX_E_UNSUPPORTED, 2, 0x22, 1, 0x1c, 0x27);
	VERST(AX_E_UNSUPPORTED, 0, 0x34, 0x00, 0x00, 0x00, 0x27);
	VERST(AX_E_TRUNCATED, 2, 0x22, 1, 0x23, 0x00);
	VERST(AX_E_UNDERFLOW, 2, 0x22, 1, 0x02, 0x27);
	VERST(AX_E_UNDERFLOW, 2, 0x22, 1, 0x32, 0x01, 0x27);
	/* underflow only on one path: if_goto false branch pops once more */
	VERST(AX_E_UNDERFLOW, 5, 0x22, 1, 0x20, 0x00, 0x07, 0x29, 0x29, 0x27);
	VERST(AX_E_BAD_JUMP, 0, 0x21, 0x00, 0x05, 0x27);
	VERST(AX_E_BAD_JUMP, 0, 0x21, 0x00, 0x04, 0x22, 0x01, 0x27);
	VERST(AX_E_NO_END, 2, 0x22, 1, 0x29);
	VERST(AX_E_NO_END, 2, 0x22, 1, 0x20, 0x00, 0x00); /* fallthrough past the end */
	VERST(AX_E_BAD_OPERAND, 2, 0x22, 1, 0x16, 0x00, 0x27);
	/* loop pushing one value per iteration: depths 1 vs 2 at offset 2 */
	VERST(AX_E_DEPTH_MISMATCH, 2, 0x22, 1, 0x22, 1, 0x21, 0x00, 0x02);
	/* loops with constant depth are fine (the interpreter bounds them) */
	ok(ax_verify((const uint8_t[]){0x21, 0x00, 0x00}, 3, &i) == AX_OK,
	   "goto-self loop verifies");
	{
		uint8_t big[2 * (AX_STACK_MAX + 1) + 1];
		for (unsigned k = 0; k < AX_STACK_MAX + 1; k++)
			big[2 * k] = 0x22, big[2 * k + 1] = (uint8_t)k;
		big[sizeof(big) - 1] = 0x27;
		ok(ax_verify(big, sizeof(big), &i) == AX_E_OVERFLOW && i.pc == 2 * AX_STACK_MAX,
		   "129 pushes overflow statically");
		ok(ax_verify(big + 2, sizeof(big) - 2, &i) == AX_OK && i.max_depth == AX_STACK_MAX,
		   "128 pushes verify, max_depth 128");
	}
	ok(ax_verify((const uint8_t[]){0x27}, 0, &i) == AX_E_TOO_LONG &&
		   strcmp(i.reason, "bad expression length") == 0,
	   "empty refused with a reason");
	ok(ax_verify((const uint8_t[]){0x22, 1, 0x22, 2, 0x27}, 5, &i) == AX_OK && i.max_depth == 2,
	   "max_depth 2");
	ok(strcmp(ax_status_str(AX_E_DIV_ZERO), "division by zero") == 0, "status text");
	ok(ax_op_name(0x0c) && strcmp(ax_op_name(0x0c), "trace") == 0 && !ax_op_name(0x31) &&
		   !ax_op_name(0xff),
	   "op names");
}

/* What a tracepoint frame must reserve for an X action (gdb's circ.exp sizes its buffer to 4
 * frames): exact for constant-length trace ops, unbounded otherwise. */
static void test_trace_bound(void)
{
	/* collect testload (int[13]): const64 addr; trace_quick 52; end */
	static const uint8_t quick[] = {0x25, 0,    0,	  0x55, 0x55, 0x55,
					0x55, 0x80, 0x10, 0x0d, 52,   0x27};
	/* *(void **)$sp @ 128: reg rsp; zero_ext 64; const16 1024; trace; end */
	static const uint8_t sp[] = {0x26, 0, 7, 0x2a, 0x40, 0x23, 0x04, 0x00, 0x0c, 0x27};
	/* trace with a computed length: reg; reg; trace */
	static const uint8_t dyn[] = {0x26, 0, 7, 0x26, 0, 0, 0x0c, 0x27};
	/* a jump back over a trace_quick */
	static const uint8_t loop[] = {0x22, 1, 0x0d, 4, 0x20, 0, 0, 0x27};
	/* tracev 3; trace16 300 */
	static const uint8_t v16[] = {0x2e, 0, 3, 0x22, 9, 0x30, 0x01, 0x2c, 0x27};
	uint64_t bytes;
	unsigned mem, tsv;

	ok(!ax_trace_bound(quick, sizeof(quick), &bytes, &mem, &tsv) && bytes == 52 && mem == 1 &&
		   !tsv && !ax_reads_regs(quick, sizeof(quick)),
	   "trace bound: trace_quick 52 is one block of 52 bytes; no register read");
	ok(!ax_trace_bound(sp, sizeof(sp), &bytes, &mem, &tsv) && bytes == 1024 && mem == 1 &&
		   ax_reads_regs(sp, sizeof(sp)),
	   "trace bound: trace after const16 1024 is 1024 bytes; reads a register");
	ok(ax_trace_bound(dyn, sizeof(dyn), &bytes, &mem, &tsv) == -ERANGE,
	   "trace bound: a computed length is unbounded");
	ok(ax_trace_bound(loop, sizeof(loop), &bytes, &mem, &tsv) == -ERANGE,
	   "trace bound: a jump back is unbounded");
	ok(!ax_trace_bound(v16, sizeof(v16), &bytes, &mem, &tsv) && bytes == 300 && mem == 1 &&
		   tsv == 1,
	   "trace bound: tracev and trace16");
}

int main(void)
{
	test_trace_bound();
	reset();
	test_arith();
	test_ext();
	test_stackops();
	test_env_ops();
	test_gdb_sequences();
	test_eval_errors();
	test_verify();
	printf("1..%d\n", n_test);
	return n_fail != 0;
}
