/* Running on from a recorded frame (issue 17): a thread's state after k instructions of its
 * code emulated from the registers of frame base, over the recorded memory at that point,
 * the files' read-only segments and, first, what the emulated code itself wrote (an overlay
 * per thread). A state is a function of (base, k): going back is running again to k - 1.
 * The emulator is arch/x86_64/emu.c; this file only feeds it what the recording knows. */
#include "stub/replay/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the overlay: the bytes the emulated code wrote, by 8-byte word ---- */

#define OVL_MAX (1u << 20) /* words */

struct ovl_word {
	uint64_t key; /* address / 8, + 1 (0: empty) */
	uint8_t b[8];
	uint8_t valid;
};

static void ovl_clear(struct replay_ovl *o)
{
	if (o->n)
		memset(o->w, 0, o->cap * sizeof(*o->w));
	o->n = 0;
}

static struct ovl_word *ovl_slot(const struct replay_ovl *o, uint64_t key)
{
	size_t i = (size_t)(key * 0x9e3779b97f4a7c15ull) & (o->cap - 1);

	while (o->w[i].key && o->w[i].key != key)
		i = (i + 1) & (o->cap - 1);
	return &o->w[i];
}

static int ovl_grow(struct replay_ovl *o)
{
	struct replay_ovl n = {.cap = o->cap ? o->cap * 2 : 256};

	if (n.cap > 2 * OVL_MAX || !(n.w = calloc(n.cap, sizeof(*n.w))))
		return -ENOMEM;
	for (size_t i = 0; i < o->cap; i++)
		if (o->w[i].key) {
			*ovl_slot(&n, o->w[i].key) = o->w[i];
			n.n++;
		}
	free(o->w);
	*o = n;
	return 0;
}

static int ovl_put(struct replay_ovl *o, uint64_t addr, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t a = addr + i, key = a / 8 + 1;
		struct ovl_word *w;

		if ((o->n + 1) * 2 > o->cap && ovl_grow(o))
			return -1;
		w = ovl_slot(o, key);
		if (!w->key) {
			w->key = key;
			o->n++;
		}
		w->b[a % 8] = buf[i];
		w->valid |= (uint8_t)(1u << (a % 8));
	}
	return 0;
}

static bool ovl_get(const struct replay_ovl *o, uint64_t a, uint8_t *b)
{
	const struct ovl_word *w;

	if (!o->n)
		return false;
	w = ovl_slot(o, a / 8 + 1);
	if (!w->key || !(w->valid >> (a % 8) & 1))
		return false;
	*b = w->b[a % 8];
	return true;
}

void replay_emu_free(struct replay_emu *e)
{
	free(e->ovl.w);
	memset(e, 0, sizeof(*e));
	e->base = -1;
}

/* ---- memory as thread th sees it ---- */

int replay_emu_read(const struct replay *r, size_t th, uint64_t addr, uint8_t *buf, size_t len,
		    size_t *done)
{
	const struct replay_emu *e = &r->emu[th];
	size_t i = 0;

	*done = 0;
	while (i < len) {
		size_t j = i, got = 0;

		if (ovl_get(&e->ovl, addr + i, &buf[i])) {
			i++;
			continue;
		}
		while (j < len && !ovl_get(&e->ovl, addr + j, &buf[j]))
			j++;
		/* the recording at the thread's frame, then the files */
		if (replay_read_mem_at(r, e->base, addr + i, buf + i, j - i, &got) || !got)
			break;
		i += got;
	}
	*done = i;
	return i ? 0 : -EIO;
}

/* The step's one memory write waits here until the step is kept. */
struct emu_ctx {
	struct replay *r;
	size_t th;
	uint64_t waddr;
	uint8_t wbuf[16];
	size_t wlen;
};

static int mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct emu_ctx *c = ctx;
	size_t done = 0;

	return !replay_emu_read(c->r, c->th, addr, buf, len, &done) && done == len ? 0 : -1;
}

static int mem_write(void *ctx, uint64_t addr, const void *buf, size_t len)
{
	struct emu_ctx *c = ctx;

	if (len > sizeof(c->wbuf) || c->r->emu[c->th].ovl.n >= OVL_MAX)
		return -1;
	memcpy(c->wbuf, buf, len);
	c->waddr = addr;
	c->wlen = len;
	return 0;
}

/* ---- states ---- */

/* Thread th at frame base, nothing run yet. */
int replay_emu_start(struct replay *r, size_t th, int64_t base)
{
	struct replay_emu *e = &r->emu[th];
	uint8_t g[REPLAY_G_MAX], avail[X86_64_NREGS];
	struct x86_64_emu_cpu *c = &e->cpu;

	if (replay_frame_regs(r, base, g, avail))
		return -EIO;
	ovl_clear(&e->ovl);
	e->base = base;
	e->k = 0;
	e->blind = false;
	e->why[0] = 0;
	memset(c, 0, sizeof(*c));
	for (unsigned i = X86_64_RAX; i <= X86_64_R15; i++) {
		memcpy(&c->gpr[i], g + r->layout.regs[i].offset, 8);
		c->gpr_known[i] = avail[i] ? 0xff : 0;
	}
	memcpy(&c->rip, g + r->layout.regs[X86_64_RIP].offset, 8);
	if (avail[X86_64_EFLAGS]) {
		memcpy(&c->rflags, g + r->layout.regs[X86_64_EFLAGS].offset, 4);
		c->flags_known = ~0ull;
	}
	if (avail[X86_64_FS_BASE]) {
		memcpy(&c->fs_base, g + r->layout.regs[X86_64_FS_BASE].offset, 8);
		c->fs_known = true;
	}
	for (unsigned i = 0; i < 16; i++)
		if (avail[X86_64_XMM0 + i]) {
			memcpy(c->xmm[i], g + r->layout.regs[X86_64_XMM0 + i].offset, 16);
			c->xmm_known |= (uint16_t)(1u << i);
		}
	return 0;
}

/* One more instruction. 0, or -1 with e->why set (nothing changed). A step that arrives at a
 * tracepoint's address ends the run: the thread's next frame is that point, with real data. */
int replay_emu_step(struct replay *r, size_t th)
{
	struct replay_emu *e = &r->emu[th];
	struct emu_ctx ctx = {.r = r, .th = th};
	const struct x86_64_emu_mem m = {&ctx, mem_read, mem_write};
	struct x86_64_emu_cpu c = e->cpu;

	if (e->blind)
		return snprintf(e->why, sizeof(e->why), "stepped over an instruction not emulated"),
		       -1;
	if (x86_64_emu_step(&c, &m, NULL, e->why, sizeof(e->why)))
		return -1;
	if (replay_hist_has_pc(&r->h, c.rip)) {
		/* the thread's next frame takes over (the overlay may hold the step's write) */
		snprintf(e->why, sizeof(e->why),
			 "the next instruction, at 0x%" PRIx64
			 ", is a tracepoint: the thread's next frame",
			 c.rip);
		return -1;
	}
	if (ctx.wlen && ovl_put(&e->ovl, ctx.waddr, ctx.wbuf, ctx.wlen))
		return snprintf(e->why, sizeof(e->why), "no room for what the code wrote"), -1;
	e->cpu = c;
	e->k++;
	return 0;
}

/* Thread th at (base, k), run again from the frame. */
int replay_emu_goto(struct replay *r, size_t th, int64_t base, uint64_t k)
{
	struct replay_emu *e = &r->emu[th];

	if (e->base == base && e->k == k)
		return 0;
	if (e->base != base || e->k > k || e->blind) {
		if (replay_emu_start(r, th, base))
			return -EIO;
	}
	while (e->k < k)
		if (replay_emu_step(r, th))
			return -EIO;
	return 0;
}

/* Only the pc known, one instruction of len bytes on: a client stepping over a breakpoint
 * on an instruction the emulator cannot run still sees the pc move. */
void replay_emu_blind(struct replay *r, size_t th, int64_t base, taddr_t pc)
{
	struct replay_emu *e = &r->emu[th];

	replay_emu_start(r, th, base);
	x86_64_emu_all_known(&e->cpu, false);
	e->cpu.rip = pc;
	e->k = 1;
	e->blind = true;
}

bool replay_emu_active(const struct replay *r, size_t th)
{
	const struct replay_emu *e = &r->emu[th];

	return e->k > 0 && e->base >= 0 && e->base == replay_hist_thread_at(&r->h, th, r->pos);
}

void replay_emu_clear(struct replay *r, size_t th)
{
	r->emu[th].k = 0;
	r->emu[th].base = -1;
}

taddr_t replay_thread_pc(const struct replay *r, size_t th)
{
	int64_t cur = replay_hist_thread_at(&r->h, th, r->pos);

	if (replay_emu_active(r, th))
		return r->emu[th].cpu.rip;
	return cur >= 0 ? r->h.fr[cur].pc : 0;
}

/* The g block of an emulated state: the frame's, with what the emulator knows on top. */
void replay_emu_regs(const struct replay *r, size_t th, uint8_t *buf, uint8_t *avail)
{
	const struct x86_64_emu_cpu *c = &r->emu[th].cpu;
	uint64_t fl = c->rflags;

	for (unsigned i = X86_64_RAX; i <= X86_64_R15; i++) {
		memcpy(buf + r->layout.regs[i].offset, &c->gpr[i], 8);
		avail[i] = c->gpr_known[i] == 0xff;
	}
	memcpy(buf + r->layout.regs[X86_64_RIP].offset, &c->rip, 8);
	avail[X86_64_RIP] = 1;
	memcpy(buf + r->layout.regs[X86_64_EFLAGS].offset, &fl, 4);
	avail[X86_64_EFLAGS] = avail[X86_64_EFLAGS] && (c->flags_known & 0xcd5) == 0xcd5;
	for (unsigned i = 0; i < 16; i++) {
		if (!avail[X86_64_XMM0 + i])
			continue;
		memcpy(buf + r->layout.regs[X86_64_XMM0 + i].offset, c->xmm[i], 16);
		avail[X86_64_XMM0 + i] = c->xmm_known >> i & 1;
	}
	if (r->emu[th].blind)
		for (unsigned i = 0; i < r->layout.nregs; i++)
			avail[i] = i == X86_64_RIP;
}

size_t replay_emu_expedite(const struct replay *r, size_t th, struct rsp_mem_range *out, size_t cap)
{
	const struct x86_64_emu_cpu *c = &r->emu[th].cpu;
	uint8_t buf[RSP_EXPEDITE_MAX];
	uint64_t a, end;
	size_t n = 0, done;

	if ((c->gpr_known[X86_64_RSP] != 0xff))
		return 0;
	a = c->gpr[X86_64_RSP] - 128; /* the red zone */
	end = c->gpr[X86_64_RSP] + 512;
	while (a < end && n + 1 < cap) {
		if (replay_emu_read(r, th, a, buf, end - a < sizeof(buf) ? end - a : sizeof(buf),
				    &done) ||
		    !done) {
			a++;
			continue;
		}
		out[n++] = (struct rsp_mem_range){a, done};
		a += done;
	}
	return n;
}
