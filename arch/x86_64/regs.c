/* The x86_64 register table and conversions between ptrace state
 * (user_regs_struct, the FXSAVE area, the XSAVE area) and the gdb g block. Pure
 * data and pure functions: this file never calls ptrace and knows nothing of
 * the protocol. */
#include "arch/x86_64/regs.h"

#include <errno.h>
#include <string.h>
#include <sys/user.h>

#define F_CORE	"org.gnu.gdb.i386.core"
#define F_SSE	"org.gnu.gdb.i386.sse"
#define F_LINUX "org.gnu.gdb.i386.linux"
#define F_SEG	"org.gnu.gdb.i386.segments"
#define F_AVX	"org.gnu.gdb.i386.avx"
#define SET_GPR "General Purpose Registers"
#define SET_FPR "Floating Point Registers"
#define SET_AVX "Advanced Vector Extensions"

#define GPR(nm, off, dw, gen)                                                                      \
	{                                                                                          \
		nm, 64, off, dw, "int64", "general", F_CORE, gen, "uint", "hex", SET_GPR, false    \
	}
#define SEG32(nm, off, dw)                                                                         \
	{                                                                                          \
		nm, 32, off, dw, "int32", "general", F_CORE, NULL, "uint", "hex", SET_GPR, false   \
	}
/* lldb 14 shows an 80-bit register as unavailable unless it is a byte vector, as
 * lldb-server describes it. */
#define ST(i)                                                                                      \
	{                                                                                          \
		"st" #i, 80, 164 + 10 * (i), 33 + (i), "i387_ext", "float", F_CORE, NULL,          \
			"vector", "vector-uint8", SET_FPR, false                                   \
	}
#define FPC(nm, i, dw)                                                                             \
	{                                                                                          \
		nm, 32, 244 + 4 * (i), dw, "int", "float", F_CORE, NULL, "uint", "hex", SET_FPR,   \
			false                                                                      \
	}
#define XMM(i)                                                                                     \
	{                                                                                          \
		"xmm" #i, 128, 276 + 16 * (i), 17 + (i), "vec128", "vector", F_SSE, NULL,          \
			"vector", "vector-uint8", SET_FPR, false                                   \
	}
#define YMMH(i)                                                                                    \
	{                                                                                          \
		"ymm" #i "h", 128, 560 + 16 * (i), -1, "uint128", "vector", F_AVX, NULL, "vector", \
			"vector-uint8", SET_AVX, false                                             \
	}

static const struct x86_64_reg regs_table[X86_64_NREGS] = {
	[X86_64_RAX] = GPR("rax", 0, 0, NULL),
	[X86_64_RBX] = GPR("rbx", 8, 3, NULL),
	[X86_64_RCX] = GPR("rcx", 16, 2, "arg4"),
	[X86_64_RDX] = GPR("rdx", 24, 1, "arg3"),
	[X86_64_RSI] = GPR("rsi", 32, 4, "arg2"),
	[X86_64_RDI] = GPR("rdi", 40, 5, "arg1"),
	[X86_64_RBP] = {"rbp", 64, 48, 6, "data_ptr", "general", F_CORE, "fp", "uint", "hex",
			SET_GPR, true},
	[X86_64_RSP] = {"rsp", 64, 56, 7, "data_ptr", "general", F_CORE, "sp", "uint", "hex",
			SET_GPR, true},
	[X86_64_R8] = GPR("r8", 64, 8, "arg5"),
	[X86_64_R9] = GPR("r9", 72, 9, "arg6"),
	[X86_64_R10] = GPR("r10", 80, 10, NULL),
	[X86_64_R11] = GPR("r11", 88, 11, NULL),
	[X86_64_R12] = GPR("r12", 96, 12, NULL),
	[X86_64_R13] = GPR("r13", 104, 13, NULL),
	[X86_64_R14] = GPR("r14", 112, 14, NULL),
	[X86_64_R15] = GPR("r15", 120, 15, NULL),
	[X86_64_RIP] = {"rip", 64, 128, 16, "code_ptr", "general", F_CORE, "pc", "uint", "hex",
			SET_GPR, true},
	[X86_64_EFLAGS] = {"eflags", 32, 136, 49, "i386_eflags", "general", F_CORE, "flags", "uint",
			   "hex", SET_GPR, false},
	[X86_64_CS] = SEG32("cs", 140, 51),
	[X86_64_SS] = SEG32("ss", 144, 52),
	[X86_64_DS] = SEG32("ds", 148, 53),
	[X86_64_ES] = SEG32("es", 152, 50),
	[X86_64_FS] = SEG32("fs", 156, 54),
	[X86_64_GS] = SEG32("gs", 160, 55),
	[X86_64_ST0 + 0] = ST(0),
	[X86_64_ST0 + 1] = ST(1),
	[X86_64_ST0 + 2] = ST(2),
	[X86_64_ST0 + 3] = ST(3),
	[X86_64_ST0 + 4] = ST(4),
	[X86_64_ST0 + 5] = ST(5),
	[X86_64_ST0 + 6] = ST(6),
	[X86_64_ST0 + 7] = ST(7),
	[X86_64_FCTRL] = FPC("fctrl", 0, 65),
	[X86_64_FSTAT] = FPC("fstat", 1, 66),
	[X86_64_FTAG] = FPC("ftag", 2, -1),
	[X86_64_FISEG] = FPC("fiseg", 3, -1),
	[X86_64_FIOFF] = FPC("fioff", 4, -1),
	[X86_64_FOSEG] = FPC("foseg", 5, -1),
	[X86_64_FOOFF] = FPC("fooff", 6, -1),
	[X86_64_FOP] = FPC("fop", 7, -1),
	[X86_64_XMM0 + 0] = XMM(0),
	[X86_64_XMM0 + 1] = XMM(1),
	[X86_64_XMM0 + 2] = XMM(2),
	[X86_64_XMM0 + 3] = XMM(3),
	[X86_64_XMM0 + 4] = XMM(4),
	[X86_64_XMM0 + 5] = XMM(5),
	[X86_64_XMM0 + 6] = XMM(6),
	[X86_64_XMM0 + 7] = XMM(7),
	[X86_64_XMM0 + 8] = XMM(8),
	[X86_64_XMM0 + 9] = XMM(9),
	[X86_64_XMM0 + 10] = XMM(10),
	[X86_64_XMM0 + 11] = XMM(11),
	[X86_64_XMM0 + 12] = XMM(12),
	[X86_64_XMM0 + 13] = XMM(13),
	[X86_64_XMM0 + 14] = XMM(14),
	[X86_64_XMM0 + 15] = XMM(15),
	[X86_64_MXCSR] = {"mxcsr", 32, 532, 64, "i386_mxcsr", "vector", F_SSE, NULL, "uint", "hex",
			  SET_FPR, false},
	[X86_64_ORIG_RAX] = {"orig_rax", 64, 536, -1, "int", "system", F_LINUX, NULL, "uint", "hex",
			     SET_GPR, false},
	[X86_64_FS_BASE] = {"fs_base", 64, 544, 58, "int", "system", F_SEG, NULL, "uint", "hex",
			    SET_GPR, false},
	[X86_64_GS_BASE] = {"gs_base", 64, 552, 59, "int", "system", F_SEG, NULL, "uint", "hex",
			    SET_GPR, false},
	[X86_64_YMM0H + 0] = YMMH(0),
	[X86_64_YMM0H + 1] = YMMH(1),
	[X86_64_YMM0H + 2] = YMMH(2),
	[X86_64_YMM0H + 3] = YMMH(3),
	[X86_64_YMM0H + 4] = YMMH(4),
	[X86_64_YMM0H + 5] = YMMH(5),
	[X86_64_YMM0H + 6] = YMMH(6),
	[X86_64_YMM0H + 7] = YMMH(7),
	[X86_64_YMM0H + 8] = YMMH(8),
	[X86_64_YMM0H + 9] = YMMH(9),
	[X86_64_YMM0H + 10] = YMMH(10),
	[X86_64_YMM0H + 11] = YMMH(11),
	[X86_64_YMM0H + 12] = YMMH(12),
	[X86_64_YMM0H + 13] = YMMH(13),
	[X86_64_YMM0H + 14] = YMMH(14),
	[X86_64_YMM0H + 15] = YMMH(15),
};

/* XSAVE standard format: XSTATE_BV at 512, AVX (ymm upper halves) component at
 * 576. */
#define XSAVE_BV_OFF   512
#define XSAVE_YMMH_OFF 576
#define XSAVE_YMMH_END (XSAVE_YMMH_OFF + 16 * 16)
#define XSTATE_AVX_BIT 4u

const struct x86_64_reg *x86_64_regs(void)
{
	return regs_table;
}

size_t x86_64_g_size(void)
{
	const struct x86_64_reg *last = &regs_table[X86_64_NREGS - 1];
	return (size_t)last->offset + last->bitsize / 8;
}

int x86_64_regno_from_dwarf(int dwreg)
{
	if (dwreg < 0)
		return -1;
	for (int i = 0; i < X86_64_NREGS; i++)
		if (regs_table[i].dwarf == dwreg)
			return i;
	return -1;
}

int x86_64_dwarf_from_regno(int regno)
{
	if (regno < 0 || regno >= X86_64_NREGS)
		return -1;
	return regs_table[regno].dwarf;
}

/* user_regs_struct field for a general register regno, or NULL. */
static unsigned long long *gp_field(struct user_regs_struct *gp, unsigned regno)
{
	switch (regno) {
	case X86_64_RAX:
		return &gp->rax;
	case X86_64_RBX:
		return &gp->rbx;
	case X86_64_RCX:
		return &gp->rcx;
	case X86_64_RDX:
		return &gp->rdx;
	case X86_64_RSI:
		return &gp->rsi;
	case X86_64_RDI:
		return &gp->rdi;
	case X86_64_RBP:
		return &gp->rbp;
	case X86_64_RSP:
		return &gp->rsp;
	case X86_64_R8:
		return &gp->r8;
	case X86_64_R9:
		return &gp->r9;
	case X86_64_R10:
		return &gp->r10;
	case X86_64_R11:
		return &gp->r11;
	case X86_64_R12:
		return &gp->r12;
	case X86_64_R13:
		return &gp->r13;
	case X86_64_R14:
		return &gp->r14;
	case X86_64_R15:
		return &gp->r15;
	case X86_64_RIP:
		return &gp->rip;
	case X86_64_EFLAGS:
		return &gp->eflags;
	case X86_64_CS:
		return &gp->cs;
	case X86_64_SS:
		return &gp->ss;
	case X86_64_DS:
		return &gp->ds;
	case X86_64_ES:
		return &gp->es;
	case X86_64_FS:
		return &gp->fs;
	case X86_64_GS:
		return &gp->gs;
	case X86_64_ORIG_RAX:
		return &gp->orig_rax;
	case X86_64_FS_BASE:
		return &gp->fs_base;
	case X86_64_GS_BASE:
		return &gp->gs_base;
	default:
		return NULL;
	}
}

static void put_le(uint8_t *dst, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *src, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)src[i] << (8 * i);
	return v;
}

/* Tag of one 80-bit x87 register (Intel SDM 8.1.7): 0 valid, 1 zero, 2 special.
 */
static unsigned x87_tag(const uint8_t *st)
{
	uint64_t mant = get_le(st, 8);
	unsigned exp = (unsigned)get_le(st + 8, 2) & 0x7fff;
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant == 0 ? 1 : 2;
	return (mant >> 63) ? 0 : 2;
}

/* FXSAVE keeps an abridged tag (1 bit per physical register, 1 = not empty);
 * gdb's ftag is the full 16-bit word, which must be recomputed from the
 * register contents. ST(j) lives in slot j; physical register i is ST((i - TOP)
 * & 7). */
static uint16_t ftag_full(const struct user_fpregs_struct *fp)
{
	unsigned top = (fp->swd >> 11) & 7;
	uint16_t tag = 0;
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = 3;
		if (fp->ftw & (1u << i)) {
			unsigned j = (i - top) & 7;
			t = x87_tag((const uint8_t *)&fp->st_space[j * 4]);
		}
		tag |= (uint16_t)(t << (2 * i));
	}
	return tag;
}

static uint16_t ftag_abridged(uint16_t full)
{
	uint16_t ab = 0;
	for (unsigned i = 0; i < 8; i++)
		if (((full >> (2 * i)) & 3) != 3)
			ab |= (uint16_t)(1u << i);
	return ab;
}

static void fp_to_g(const struct user_fpregs_struct *fp, unsigned regno, uint8_t *dst)
{
	if (regno >= X86_64_ST0 && regno < X86_64_ST0 + 8) {
		memcpy(dst, &fp->st_space[(regno - X86_64_ST0) * 4], 10);
		return;
	}
	if (regno >= X86_64_XMM0 && regno < X86_64_XMM0 + 16) {
		memcpy(dst, &fp->xmm_space[(regno - X86_64_XMM0) * 4], 16);
		return;
	}
	uint64_t v = 0;
	switch (regno) {
	case X86_64_FCTRL:
		v = fp->cwd;
		break;
	case X86_64_FSTAT:
		v = fp->swd;
		break;
	case X86_64_FTAG:
		v = ftag_full(fp);
		break;
	/* 64-bit FXSAVE: FIP/FDP are 64-bit; gdb shows the low half as fioff/fooff
	 * and the next 16 bits as fiseg/foseg, and masks fop to 11 bits. */
	case X86_64_FISEG:
		v = (fp->rip >> 32) & 0xffff;
		break;
	case X86_64_FIOFF:
		v = fp->rip & 0xffffffffu;
		break;
	case X86_64_FOSEG:
		v = (fp->rdp >> 32) & 0xffff;
		break;
	case X86_64_FOOFF:
		v = fp->rdp & 0xffffffffu;
		break;
	case X86_64_FOP:
		v = fp->fop & 0x7ff;
		break;
	case X86_64_MXCSR:
		v = fp->mxcsr;
		break;
	default:
		break;
	}
	put_le(dst, v, 4);
}

static bool is_fp_reg(unsigned regno)
{
	return regno >= X86_64_ST0 && regno <= X86_64_MXCSR;
}

static bool is_ymmh(unsigned regno)
{
	return regno >= X86_64_YMM0H && regno < X86_64_YMM0H + 16;
}

static bool xsave_has_avx(size_t xsave_len)
{
	return xsave_len >= XSAVE_YMMH_END;
}

void x86_64_regs_to_g(const struct user_regs_struct *gp, const struct user_fpregs_struct *fp,
		      const uint8_t *xsave, size_t xsave_len, uint8_t *g, uint8_t *avail)
{
	bool avx = xsave && xsave_has_avx(xsave_len);
	/* XSTATE_BV bit clear: the component is in its init state (zero), whatever
	 * memory holds. */
	bool avx_init = avx && !(xsave[XSAVE_BV_OFF] & XSTATE_AVX_BIT);

	if (!fp && !xsave) { /* general registers only (a fast tracepoint's record): the rest
			      * zero and unavailable in one go, the general ones by a table */
		static struct {
			uint16_t regno, goff, uoff, n;
		} map[X86_64_NREGS];
		static unsigned nmap;

		if (!nmap) {
			struct user_regs_struct z;

			for (unsigned r = 0; r < X86_64_NREGS; r++)
				if (!is_fp_reg(r) && !is_ymmh(r) && gp_field(&z, r))
					map[nmap++] = (__typeof__(map[0])){
						(uint16_t)r, (uint16_t)regs_table[r].offset,
						(uint16_t)((uint8_t *)gp_field(&z, r) -
							   (uint8_t *)&z),
						(uint16_t)(regs_table[r].bitsize / 8 < 8
								   ? regs_table[r].bitsize / 8
								   : 8)};
		}
		memset(g, 0, x86_64_g_size());
		if (avail)
			memset(avail, 0, X86_64_NREGS);
		for (unsigned i = 0; i < nmap && gp; i++) {
			memcpy(g + map[i].goff, (const uint8_t *)gp + map[i].uoff, map[i].n);
			if (avail)
				avail[map[i].regno] = 1;
		}
		return;
	}
	for (unsigned r = 0; r < X86_64_NREGS; r++) {
		const struct x86_64_reg *d = &regs_table[r];
		uint8_t *dst = g + d->offset;
		size_t n = d->bitsize / 8;
		bool ok = false;
		memset(dst, 0, n);
		if (is_fp_reg(r)) {
			if (fp) {
				fp_to_g(fp, r, dst);
				ok = true;
			}
		} else if (is_ymmh(r)) {
			if (avx) {
				if (!avx_init)
					memcpy(dst,
					       xsave + XSAVE_YMMH_OFF + 16 * (r - X86_64_YMM0H),
					       16);
				ok = true;
			}
		} else if (gp) {
			put_le(dst, *gp_field((struct user_regs_struct *)gp, r), n);
			ok = true;
		}
		if (avail)
			avail[r] = ok;
	}
}

/* Store one fp register's value (already length-checked) into the FXSAVE
 * struct. */
static void fp_from_g(struct user_fpregs_struct *fp, unsigned regno, const uint8_t *src)
{
	if (regno >= X86_64_ST0 && regno < X86_64_ST0 + 8) {
		uint8_t *slot = (uint8_t *)&fp->st_space[(regno - X86_64_ST0) * 4];
		memcpy(slot, src, 10);
		memset(slot + 10, 0, 6);
		return;
	}
	if (regno >= X86_64_XMM0 && regno < X86_64_XMM0 + 16) {
		memcpy(&fp->xmm_space[(regno - X86_64_XMM0) * 4], src, 16);
		return;
	}
	uint32_t v = (uint32_t)get_le(src, 4);
	switch (regno) {
	case X86_64_FCTRL:
		fp->cwd = (uint16_t)v;
		break;
	case X86_64_FSTAT:
		fp->swd = (uint16_t)v;
		break;
	case X86_64_FTAG:
		fp->ftw = ftag_abridged((uint16_t)v);
		break;
	case X86_64_FISEG:
		fp->rip = (fp->rip & 0xffffffffu) | ((uint64_t)(v & 0xffff) << 32);
		break;
	case X86_64_FIOFF:
		fp->rip = (fp->rip & ~0xffffffffull) | v;
		break;
	case X86_64_FOSEG:
		fp->rdp = (fp->rdp & 0xffffffffu) | ((uint64_t)(v & 0xffff) << 32);
		break;
	case X86_64_FOOFF:
		fp->rdp = (fp->rdp & ~0xffffffffull) | v;
		break;
	case X86_64_FOP:
		fp->fop = (uint16_t)(v & 0x7ff);
		break;
	case X86_64_MXCSR:
		fp->mxcsr = v;
		break;
	default:
		break;
	}
}

static void store_one(unsigned r, const uint8_t *src, struct user_regs_struct *gp,
		      struct user_fpregs_struct *fp, uint8_t *xsave, size_t xsave_len,
		      unsigned *dirty)
{
	if (is_fp_reg(r)) {
		if (fp) {
			fp_from_g(fp, r, src);
			*dirty |= X86_64_DIRTY_FP;
		}
	} else if (is_ymmh(r)) {
		if (xsave && xsave_has_avx(xsave_len)) {
			memcpy(xsave + XSAVE_YMMH_OFF + 16 * (r - X86_64_YMM0H), src, 16);
			/* The kernel loads the component only if its XSTATE_BV bit is set. */
			xsave[XSAVE_BV_OFF] |= XSTATE_AVX_BIT;
			*dirty |= X86_64_DIRTY_XSTATE;
		}
	} else if (gp) {
		*gp_field(gp, r) = get_le(src, regs_table[r].bitsize / 8);
		*dirty |= X86_64_DIRTY_GP;
	}
}

void x86_64_regs_from_g(const uint8_t *g, struct user_regs_struct *gp,
			struct user_fpregs_struct *fp, uint8_t *xsave, size_t xsave_len)
{
	unsigned dirty = 0;
	for (unsigned r = 0; r < X86_64_NREGS; r++)
		store_one(r, g + regs_table[r].offset, gp, fp, xsave, xsave_len, &dirty);
}

int x86_64_reg_store(unsigned regno, const uint8_t *val, size_t len, struct user_regs_struct *gp,
		     struct user_fpregs_struct *fp, uint8_t *xsave, size_t xsave_len,
		     unsigned *dirty)
{
	unsigned d = 0;
	if (regno >= X86_64_NREGS || !val || len != regs_table[regno].bitsize / 8U)
		return -EINVAL;
	store_one(regno, val, gp, fp, xsave, xsave_len, &d);
	if (dirty)
		*dirty |= d;
	return 0;
}
