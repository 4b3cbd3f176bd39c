/* Fast-site patches and pads. The pad's fixed part is a byte template (Debian's libzydis has
 * a decoder, no encoder); every displaced instruction goes through x86_64_insn_relocate. */
#include "arch/x86_64/pad.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sweep {
	uint32_t *off; /* instruction starts, ascending */
	size_t n;
};

/* What a pad can run elsewhere as it is, or with its rip-relative operand or conditional
 * branch re-targeted (a rel8 jcc becomes rel32). */
static bool plain(const struct x86_64_insn *in)
{
	return in->cls == X86_64_INSN_OTHER || in->cls == X86_64_INSN_RIPREL ||
	       in->cls == X86_64_INSN_JCC;
}

/* Decode the whole function once: instruction starts, and whether a branch lands strictly
 * inside (lo, hi) or the function jumps indirectly. */
static int sweep(const uint8_t *code, size_t len, uint64_t fstart, struct sweep *sw)
{
	size_t off = 0;

	sw->n = 0;
	sw->off = malloc((len + 1) * sizeof(*sw->off));
	if (!sw->off)
		return -ENOMEM;
	while (off < len) {
		struct x86_64_insn in;

		if (x86_64_insn_decode(code + off, len - off, fstart + off, &in))
			return -EINVAL;
		sw->off[sw->n++] = (uint32_t)off;
		off += in.len;
	}
	return 0;
}

static const char *branches_into(const uint8_t *code, size_t len, uint64_t fstart,
				 const struct sweep *sw, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < sw->n; i++) {
		struct x86_64_insn in;

		if (x86_64_insn_decode(code + sw->off[i], len - sw->off[i], fstart + sw->off[i],
				       &in))
			return "its code does not decode";
		if (in.cls == X86_64_INSN_JMP_INDIRECT)
			return "the function jumps indirectly (targets unknown)";
		if ((in.cls == X86_64_INSN_JMP || in.cls == X86_64_INSN_JCC ||
		     in.cls == X86_64_INSN_CALL) &&
		    in.target > lo && in.target < hi)
			return "a branch lands inside the displaced bytes";
	}
	return NULL;
}

static size_t index_of(const struct sweep *sw, uint64_t off)
{
	for (size_t i = 0; i < sw->n; i++)
		if (sw->off[i] == off)
			return i;
	return SIZE_MAX;
}

static const char *take(const uint8_t *code, size_t len, uint64_t fstart, const struct sweep *sw,
			size_t first, size_t count, struct x86_64_patch *p)
{
	p->ninsn = 0;
	p->start = fstart + sw->off[first];
	p->len = 0;
	for (size_t i = first; i < first + count; i++) {
		struct x86_64_insn *in = &p->insns[p->ninsn++];

		if (x86_64_insn_decode(code + sw->off[i], len - sw->off[i], fstart + sw->off[i],
				       in))
			return "its code does not decode";
		p->len = (uint8_t)(p->len + in->len);
	}
	return NULL;
}

int x86_64_patch_plan(const uint8_t *code, size_t len, uint64_t fstart, uint64_t at, bool exit,
		      struct x86_64_patch *out, const char **why)
{
	struct sweep sw;
	size_t k, first, count = 0, bytes = 0;
	const char *w = NULL;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (at < fstart || at >= fstart + len) {
		*why = "outside its function";
		return -EBUSY;
	}
	if (sweep(code, len, fstart, &sw)) {
		free(sw.off);
		*why = "its code does not decode";
		return -EBUSY;
	}
	k = index_of(&sw, at - fstart);
	if (k == SIZE_MAX) {
		w = "not at an instruction boundary";
	} else if (!exit) {
		for (first = k; k < sw.n && bytes < X86_64_JMP_LEN && count < X86_64_PATCH_INSNS;
		     k++, count++)
			bytes = (k + 1 < sw.n ? sw.off[k + 1] : len) - sw.off[first];
		if (bytes < X86_64_JMP_LEN)
			w = "fewer than 5 bytes of code to displace";
		else
			w = take(code, len, fstart, &sw, first, count, out);
		out->probe = 0;
	} else {
		size_t end = (k + 1 < sw.n ? sw.off[k + 1] : len);

		for (first = k + 1;
		     first > 0 && bytes < X86_64_JMP_LEN && count < X86_64_PATCH_INSNS; count++) {
			first--;
			bytes = end - sw.off[first];
		}
		if (bytes < X86_64_JMP_LEN)
			w = "fewer than 5 bytes of code before the ret";
		else
			w = take(code, len, fstart, &sw, first, count, out);
		out->probe = (uint8_t)(out->ninsn - 1);
		if (!w && out->insns[out->probe].cls != X86_64_INSN_RET)
			w = "not a ret";
	}
	for (unsigned i = 0; !w && i < out->ninsn; i++)
		if (!plain(&out->insns[i]) && !(exit && i == out->probe))
			w = "a displaced instruction is not plain code (jmp, call, syscall)";
	if (!w)
		w = branches_into(code, len, fstart, &sw, out->start, out->start + out->len);
	free(sw.off);
	*why = w;
	return w ? -EBUSY : 0;
}

static size_t put(uint8_t *out, size_t at, const void *b, size_t n)
{
	memcpy(out + at, b, n);
	return at + n;
}

static size_t put64(uint8_t *out, size_t at, const uint8_t op[2], uint64_t v)
{
	at = put(out, at, op, 2);
	return put(out, at, &v, 8);
}

static int relocate(const struct x86_64_insn *in, uint64_t pad, uint8_t *out, size_t *at)
{
	size_t n = 0;
	int rc;

	if (*at + X86_64_OOL_MAX > X86_64_PAD_MAX)
		return -ENOTSUP;
	rc = x86_64_insn_relocate(in, pad + *at, out + *at, &n);
	if (rc)
		return rc;
	*at += n;
	return 0;
}

static size_t put32(uint8_t *out, size_t at, const void *op, size_t n, int32_t v)
{
	at = put(out, at, op, n);
	return put(out, at, &v, 4);
}

/* Go, before the frame: flags, rax, rbx on the goroutine's stack (24 bytes); rbx = the stack
 * to use (g0's below g0.sched.sp, or this one when r14 is g0, gsignal or no g); switch; push
 * the old stack pointer and the site's rsp. */
static size_t go_enter(uint8_t *out, size_t at, const struct x86_64_pad_go *go)
{
	size_t j_nog, j_nom, j_g0, j_gs, j_zero, j_done;

	at = put(out, at, "\x9c\x50\x53", 3);	      /* pushfq; push %rax; push %rbx */
	at = put(out, at, "\x48\x89\xe3", 3);	      /* mov %rsp,%rbx: stay by default */
	at = put(out, at, "\x4d\x85\xf6\x74\x00", 5); /* test %r14,%r14; je done */
	j_nog = at - 1;
	at = put32(out, at, "\x49\x8b\x86", 3, go->g_m); /* mov g_m(%r14),%rax */
	at = put(out, at, "\x48\x85\xc0\x74\x00", 5);	 /* test %rax,%rax; je done */
	j_nom = at - 1;
	at = put32(out, at, "\x48\x8b\x98", 3, go->m_g0); /* mov m_g0(%rax),%rbx */
	at = put(out, at, "\x4c\x39\xf3\x74\x00", 5);	  /* cmp %r14,%rbx; je stay */
	j_g0 = at - 1;
	at = put32(out, at, "\x48\x8b\x80", 3, go->m_gsignal); /* mov m_gsignal(%rax),%rax */
	at = put(out, at, "\x4c\x39\xf0\x74\x00", 5);	       /* cmp %r14,%rax; je stay */
	j_gs = at - 1;
	at = put32(out, at, "\x48\x8b\x9b", 3, go->g_sched_sp); /* mov sched_sp(%rbx),%rbx */
	at = put(out, at, "\x48\x85\xdb\x74\x00", 5);		/* test %rbx,%rbx; je stay */
	j_zero = at - 1;
	at = put(out, at, "\x48\x83\xe3\xf0\xeb\x00", 6); /* and $-16,%rbx; jmp done */
	j_done = at - 1;
	out[j_g0] = (uint8_t)(at - j_g0 - 1);
	out[j_gs] = (uint8_t)(at - j_gs - 1);
	out[j_zero] = (uint8_t)(at - j_zero - 1);
	at = put(out, at, "\x48\x89\xe3", 3); /* stay: mov %rsp,%rbx */
	out[j_nog] = (uint8_t)(at - j_nog - 1);
	out[j_nom] = (uint8_t)(at - j_nom - 1);
	out[j_done] = (uint8_t)(at - j_done - 1);
	at = put(out, at, "\x48\x89\xe0\x48\x89\xdc\x50", 7); /* mov %rsp,%rax; mov %rbx,%rsp;
								 push %rax */
	return put(out, at, "\x48\x8d\x40\x18\x50", 5);	      /* lea 24(%rax),%rax; push %rax */
}

/* Go, after the frame is saved: its rax, rbx and rflags slots get the values the goroutine's
 * stack kept (the ones pushed held scratch). */
static size_t go_fix(uint8_t *out, size_t at)
{
	at = put(out, at, "\x48\x8b\x84\x24\x88\0\0\0", 8);	  /* mov 0x88(%rsp),%rax: old sp */
	at = put(out, at, "\x48\x8b\x18\x48\x89\x5c\x24\x58", 8); /* rbx -> slot 11 */
	at = put(out, at, "\x48\x8b\x58\x08\x48\x89\x5c\x24\x70", 9);	/* rax -> slot 14 */
	return put(out, at, "\x48\x8b\x58\x10\x48\x89\x5c\x24\x78", 9); /* rflags -> 15 */
}

/* Save, call entry(rsp = saved registers, site, hdr), restore. */
static size_t call_agent(uint8_t *out, size_t at, uint64_t site, uint64_t hdr, uint64_t entry,
			 const struct x86_64_pad_go *go)
{
	static const uint8_t skip[] = {0x48, 0x8d, 0x64, 0x24, 0x80}; /* lea -0x80(%rsp),%rsp */
	static const uint8_t save[] = {
		0x9c,						/* pushfq */
		0x50, 0x51, 0x52, 0x53, 0x55, 0x56, 0x57,	/* rax rcx rdx rbx rbp rsi rdi */
		0x41, 0x50, 0x41, 0x51, 0x41, 0x52, 0x41, 0x53, /* r8-r11 */
		0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, /* r12-r15 */
	};
	static const uint8_t args[] = {
		0xfc,		  /* cld */
		0x48, 0x89, 0xe7, /* mov %rsp,%rdi */
	};
	static const uint8_t call[] = {
		0x48, 0x89, 0xe3,	/* mov %rsp,%rbx */
		0x48, 0x83, 0xe4, 0xf0, /* and $-16,%rsp */
		0xff, 0xd0,		/* call *%rax */
		0x48, 0x89, 0xdc,	/* mov %rbx,%rsp */
	};
	static const uint8_t restore[] = {
		0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, /* r15-r12 */
		0x41, 0x5b, 0x41, 0x5a, 0x41, 0x59, 0x41, 0x58, /* r11-r8 */
		0x5f, 0x5e, 0x5d, 0x5b, 0x5a, 0x59, 0x58,	/* rdi rsi rbp rbx rdx rcx rax */
		0x9d,						/* popfq */
	};
	static const uint8_t unskip[] = {0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0};
	/* Go: drop the site-rsp word, back to the goroutine's stack, its copies back */
	static const uint8_t go_leave[] = {0x48, 0x83, 0xc4, 0x08, 0x5c, 0x5b, 0x58, 0x9d};

	if (go)
		at = go_enter(out, at, go);
	else
		at = put(out, at, skip, sizeof(skip));
	at = put(out, at, save, sizeof(save));
	if (go)
		at = go_fix(out, at);
	at = put(out, at, args, sizeof(args));
	at = put64(out, at, (const uint8_t[]){0x48, 0xbe}, site);  /* movabs $site,%rsi */
	at = put64(out, at, (const uint8_t[]){0x48, 0xba}, hdr);   /* movabs $hdr,%rdx */
	at = put64(out, at, (const uint8_t[]){0x48, 0xb8}, entry); /* movabs $entry,%rax */
	at = put(out, at, call, sizeof(call));
	at = put(out, at, restore, sizeof(restore));
	if (go)
		return put(out, at, go_leave, sizeof(go_leave));
	return put(out, at, unskip, sizeof(unskip));
}

static int rel32(uint64_t from_end, uint64_t to, int32_t *d)
{
	int64_t v = (int64_t)(to - from_end);

	if (v < INT32_MIN || v > INT32_MAX)
		return -ERANGE;
	*d = (int32_t)v;
	return 0;
}

int x86_64_pad_build(const struct x86_64_patch *p, uint64_t pad, uint64_t site, uint64_t hdr,
		     uint64_t entry, const struct x86_64_pad_go *go, uint8_t *out, size_t *len,
		     uint64_t *moved)
{
	size_t at = 0;
	const struct x86_64_insn *last = &p->insns[p->ninsn - 1];
	int32_t d;
	int rc;

	*len = 0;
	if (!p->ninsn || p->probe >= p->ninsn)
		return -ENOTSUP;
	for (unsigned i = 0; i < p->probe; i++) {
		if (moved)
			moved[i] = pad + at;
		if ((rc = relocate(&p->insns[i], pad, out, &at)))
			return rc;
	}
	at = call_agent(out, at, site, hdr, entry, go);
	for (unsigned i = p->probe; i < p->ninsn; i++) {
		if (moved)
			moved[i] = pad + at;
		if ((rc = relocate(&p->insns[i], pad, out, &at)))
			return rc;
	}
	if (last->cls != X86_64_INSN_RET) {
		if (rel32(pad + at + 5, p->start + p->len, &d))
			return -ERANGE;
		out[at++] = 0xe9;
		memcpy(out + at, &d, 4);
		at += 4;
	}
	*len = at;
	return 0;
}

int x86_64_patch_jump(const struct x86_64_patch *p, uint64_t pad, uint8_t *out)
{
	int32_t d;

	if (rel32(p->start + X86_64_JMP_LEN, pad, &d))
		return -ERANGE;
	out[0] = 0xe9;
	memcpy(out + 1, &d, 4);
	memset(out + X86_64_JMP_LEN, 0xcc, p->len - X86_64_JMP_LEN);
	return 0;
}
