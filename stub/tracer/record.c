/* -o FILE: every event also becomes a frame of gdb's trace file (PROTOCOL.md §5), kept in a
 * circular trace buffer and written at the end with one tracepoint per traced function's call
 * and one per its return. A frame holds the registers (R, our target.xml layout), the stack
 * at rsp and the strings that were read (M), so `gdb PROG -ex 'target tfile FILE'` shows
 * arguments and a backtrace. gdb keeps a PIE at its link addresses under `target tfile`
 * (no auxv there): so addresses inside the main executable's code, in registers, stack words
 * and tracepoint lines, are written as link-time addresses, and gdb finds its symbols with no
 * option. The load bias travels in the tsbias status field.
 * So that a tracer killed outright (SIGKILL, OOM) loses at most the last moments, the whole
 * file is also rewritten while the trace runs: at most once a second, and never more often
 * than ten times the last write took (at most 10% of the time), to FILE.tmp renamed over
 * FILE (a reader never sees half a file). Only for a regular file (not a FIFO or device). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86_64/regs.h"
#include "stub/debuginfo/debuginfo.h"
#include "stub/agent/agent.h"
#include "stub/tracefile/tracefile.h"
#include "stub/tracer/internal.h"

#define TF_BUF_SIZE    (32u << 20)
#define TF_STACK_MIN   256 /* stack bytes kept when --stack is not given */
#define TF_BELOW_RSP   AGENT_EXIT_BELOW_RSP
#define TF_MAX_TP      32767
#define TF_HEX_MAX     (2 * 128 + 1)
#define TF_LINES_PER   3
#define TF_SAVE_MIN_NS 1000000000ull /* checkpoints at most once a second */
#define TF_SAVE_COST   10	     /* ... and at most 1/10 of the time */

struct trace_tfile {
	struct tracebuf *tb;
	size_t gsize;
	uint64_t frames, dropped;
	uint64_t saved_frames, next_save_ns; /* checkpoints */
	bool checkpoints;
	uint8_t g[1024], avail[X86_64_NREGS];
};

static bool regular_or_new(const char *path)
{
	struct stat st;

	return stat(path, &st) != 0 ? errno == ENOENT : S_ISREG(st.st_mode);
}

int trace_tfile_open(struct trace *t)
{
	struct trace_tfile *tf = calloc(1, sizeof(*tf));

	if (!tf || !(tf->tb = tracebuf_new(TF_BUF_SIZE))) {
		free(tf);
		return -ENOMEM;
	}
	tf->gsize = x86_64_g_size();
	if (tf->gsize > sizeof(tf->g)) {
		tracebuf_free(tf->tb);
		free(tf);
		return -EINVAL;
	}
	tracebuf_set_circular(tf->tb, true);
	tracebuf_set_regs_size(tf->tb, tf->gsize);
	tf->checkpoints = regular_or_new(t->cli->gdbtrace_path);
	tf->next_save_ns = trace_now_ns() + TF_SAVE_MIN_NS;
	t->tf = tf;
	return 0;
}

/* Runtime -> the address gdb sees: link-time inside the main executable's code. */
static uint64_t gdb_addr(const struct tspace *s, uint64_t a)
{
	const struct module *e = s ? s->exe : NULL;

	return e && e->bias && a >= e->start && a < e->end ? a - e->bias : a;
}

/* The stack from rsp up; at a C function's return from TF_BELOW_RSP below it (the same
 * length): its epilogue has popped the callee-saved registers, but the CFI there may still
 * say they are saved in those slots, so a debugger unwinding the frame reads them there. */
static void put_stack(struct trace_hitctx *hc, struct tracebuf_builder *b, bool below)
{
	const struct tracecli *c = hc->t->cli;
	size_t n = c->stack_bytes > TF_STACK_MIN ? c->stack_bytes : TF_STACK_MIN;
	uint64_t rsp = hc->hit->regs->rsp - (below ? TF_BELOW_RSP : 0);
	uint8_t *p;
	ssize_t got;

	while (n) {
		uint16_t k = n > TRACEBUF_MEM_MAX ? TRACEBUF_MEM_MAX : (uint16_t)n;
		if (!(p = tracebuf_put_mem(b, rsp, k)))
			return;
		got = trace_read_some(hc, rsp, p, k);
		if (got < (ssize_t)k) {
			tracebuf_trim_mem(b, p, got > 0 ? (uint16_t)(got & ~7) : 0);
			return;
		}
		for (size_t i = 0; i + 8 <= k; i += 8) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			w = gdb_addr(hc->space, w);
			memcpy(p + i, &w, 8);
		}
		rsp += k;
		n -= k;
	}
}

/* At a Go function's entry, its goroutine's stack bound (g.stackguard0, at r14 + 16 in the
 * register ABI): the prologue compares rsp with it, and replay's emulator must know the
 * answer to run on into the function. 8 bytes a frame. */
static void put_go_guard(struct trace_hitctx *hc, struct tracebuf_builder *b)
{
	uint64_t at = hc->hit->regs->r14 + 16, v;
	uint8_t *p;

	if (hc->hit->regs->r14 && !trace_read(hc, at, &v, 8) && (p = tracebuf_put_mem(b, at, 8)))
		memcpy(p, &v, 8);
}

static void put_regs(struct trace_hitctx *hc, struct tracebuf_builder *b)
{
	struct trace_tfile *tf = hc->t->tf;
	struct user_regs_struct r = *hc->hit->regs;
	unsigned long long *gp[] = {&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi,
				    &r.rbp, &r.rsp, &r.r8,  &r.r9,  &r.r10, &r.r11,
				    &r.r12, &r.r13, &r.r14, &r.r15, &r.rip};
	uint8_t *p;

	r.rip = hc->hit->addr;
	for (size_t i = 0; i < sizeof(gp) / sizeof(gp[0]); i++)
		*gp[i] = gdb_addr(hc->space, *gp[i]);
	trace_fpregs(hc);
	x86_64_regs_to_g(&r, hc->fp_ok ? &hc->fp : NULL, NULL, 0, tf->g, tf->avail);
	if ((p = tracebuf_put_regs(b, tf->gsize)))
		memcpy(p, tf->g, tf->gsize);
}

void trace_tfile_frame(struct trace_hitctx *hc, const struct tfunc *f, bool ret)
{
	struct trace_tfile *tf = hc->t->tf;
	struct tracebuf_builder b;
	size_t max = tf->gsize + 64 + 3 * TRACEBUF_MEM_HDR + 8 + TF_STACK_MIN +
		     hc->t->cli->stack_bytes + TRACEBUF_TSV_BLOCK;
	unsigned tp = f->tpnum + (ret ? 1 : 0);

	for (unsigned i = 0; i < hc->nreads; i++)
		max += TRACEBUF_MEM_HDR + hc->reads[i].len;
	if (!f->tpnum || tp > TF_MAX_TP * 2 || tracebuf_begin(tf->tb, (uint16_t)tp, max, &b)) {
		tf->dropped++;
		return;
	}
	put_regs(hc, &b);
	/* which thread hit it, for replay (tfile.h) */
	tracebuf_put_tsv(&b, TFILE_TSV_THREAD,
			 (int64_t)((uint64_t)hc->hit->pid << 32 | (uint32_t)hc->hit->tid));
	put_stack(hc, &b, ret && !f->go);
	if (f->go && !ret)
		put_go_guard(hc, &b);
	for (unsigned i = 0; i < hc->nreads; i++) {
		uint8_t *p = tracebuf_put_mem(&b, hc->reads[i].addr, hc->reads[i].len);
		if (p)
			memcpy(p, hc->reads[i].bytes, hc->reads[i].len);
	}
	tracebuf_commit(tf->tb, &b);
	tf->frames++;
}

static void hex_of(const char *s, char *out, size_t cap)
{
	size_t i;

	for (i = 0; s[i] && 2 * i + 2 < cap; i++)
		snprintf(out + 2 * i, 3, "%02x", (unsigned char)s[i]);
	out[2 * i] = '\0';
}

/* The tp lines of one tracepoint: its address, location and what it collects. */
static void tp_lines(char (*lines)[300], unsigned tp, uint64_t addr, const char *what)
{
	char at[64], hat[TF_HEX_MAX], hcmd[TF_HEX_MAX];

	snprintf(at, sizeof(at), "*0x%" PRIx64, addr);
	hex_of(at, hat, sizeof(hat));
	hex_of(what, hcmd, sizeof(hcmd));
	snprintf(lines[0], 300, "T%u:%016" PRIx64 ":E:0:0", tp, addr);
	snprintf(lines[1], 300, "Z%u:%016" PRIx64 ":at:0:%zx:%s", tp, addr, strlen(at), hat);
	snprintf(lines[2], 300, "Z%u:%016" PRIx64 ":cmd:0:%zx:%s", tp, addr, strlen(what), hcmd);
}

static size_t count_tps(struct trace *t)
{
	size_t n = 0;

	for (struct tspace *s = t->spaces; s; s = s->next)
		for (struct tfunc *f = s->funcs; f; f = f->next)
			n += f->tpnum ? 2 : 0;
	return n;
}

/* The executable, the pid and the libraries of the main process, for replay (tfile.h). */
static size_t meta_fields(struct trace *t, const struct tspace *main, size_t room, char *text,
			  size_t cap, const char **fields, size_t fcap)
{
	struct tfile_lib libs[TFILE_META_MAX_LIBS];
	size_t n = 0;

	for (size_t i = 0; main && main->mods && i < main->mods->n && n < TFILE_META_MAX_LIBS;
	     i++) {
		const struct module *m = main->mods->mods[i];
		if (m != main->exe && m->mapped)
			libs[n++] = (struct tfile_lib){m->path, m->bias};
	}
	return tfile_meta_format(main && main->exe ? main->exe->path : NULL, t->main_pid, libs, n,
				 room, text, cap, fields, fcap, NULL);
}

/* FILE.tmp renamed over FILE when FILE is a regular file (or new), else FILE itself. */
static int write_whole(const char *path, const struct tfile_header *h, struct trace_tfile *tf)
{
	char tmp[4096];
	int r;

	if (!tf->checkpoints || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return tfile_write(path, h, tf->tb);
	r = tfile_write(tmp, h, tf->tb);
	if (!r && rename(tmp, path) != 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

static int write_file(struct trace *t, const char *path, const struct tspace *main)
{
	struct trace_tfile *tf = t->tf;
	static char xml[32768];
	char status[256], bias[64], meta[TFILE_LINE_MAX];
	const char *extra[1 + TFILE_META_MAX_LIBS + 2] = {bias};
	size_t nextra;
	size_t ntp = count_tps(t), k = 0;
	char(*lines)[300] = calloc(ntp * TF_LINES_PER + 1, sizeof(*lines));
	const char **tps = calloc(ntp * TF_LINES_PER + 1, sizeof(*tps));
	struct tracebuf_stats st;
	int r = -ENOMEM;

	if (!lines || !tps || x86_64_target_xml(xml, sizeof(xml)) >= sizeof(xml))
		goto out;
	for (struct tspace *s = t->spaces; s; s = s->next)
		for (struct tfunc *f = s->funcs; f; f = f->next) {
			uint64_t a = gdb_addr(s, f->addr);
			uint64_t ra = f->nexits ? gdb_addr(s, f->exits[0].addr) : a;
			if (!f->tpnum)
				continue;
			tp_lines(lines + k, f->tpnum, a, "collect $regs");
			tp_lines(lines + k + TF_LINES_PER, f->tpnum + 1, ra, "collect $regs");
			k += 2 * TF_LINES_PER;
		}
	for (size_t i = 0; i < k; i++)
		tps[i] = lines[i];
	tracebuf_stats(tf->tb, &st);
	snprintf(status, sizeof(status),
		 "0;tstop::0;tframes:%" PRIx64 ";tcreated:%" PRIx64 ";tfree:%" PRIx64
		 ";tsize:%" PRIx64 ";circular:1;disconn:0",
		 st.frames, st.created, st.free, st.size);
	snprintf(bias, sizeof(bias), TFILE_KEY_BIAS ":%" PRIx64,
		 main && main->exe ? main->exe->bias : 0);
	nextra = 1 + meta_fields(t, main, TFILE_LINE_MAX - 8 - strlen(status) - strlen(bias), meta,
				 sizeof(meta), extra + 1, sizeof(extra) / sizeof(extra[0]) - 1);
	struct tfile_header h = {.regs_size = tf->gsize,
				 .tdesc = xml,
				 .status = status,
				 .status_extra = extra,
				 .nstatus_extra = nextra,
				 .tps = tps,
				 .ntps = k};
	r = write_whole(path, &h, tf);
out:
	free(lines);
	free(tps);
	return r;
}

/* How to open the file in gdb: the executable, and the libraries holding traced code. */
static void advise(struct trace *t, const char *path, const struct tspace *main, FILE *out)
{
	const char *exe = main && main->exe ? main->exe->path : "PROG";

	fprintf(out, "tracestub trace: %" PRIu64 " frames in %s; open with:\n  gdb %s",
		t->tf->frames, path, exe);
	for (size_t i = 0; main && i < main->ntmods; i++) {
		const struct module *m = main->tmods[i]->m;
		bool used = false;
		for (const struct tfunc *f = main->funcs; f && !used; f = f->next)
			used = f->mod && f->mod->m == m && f->calls;
		if (used && m != main->exe)
			fprintf(out, " -ex 'add-symbol-file %s -o 0x%" PRIx64 "'", m->path,
				m->bias);
	}
	fprintf(out, " -ex 'target tfile %s'\n", path);
}

static const struct tspace *main_space(const struct trace *t)
{
	for (const struct tspace *s = t->spaces; s; s = s->next)
		if (s->pid == t->main_pid)
			return s; /* the newest first: the latest image of the main process */
	return NULL;
}

int trace_tfile_timeout_ms(const struct trace *t, uint64_t now_ns)
{
	const struct trace_tfile *tf = t->tf;

	if (!tf || !tf->checkpoints || tf->frames == tf->saved_frames)
		return -1;
	return now_ns >= tf->next_save_ns ? 0 : (int)((tf->next_save_ns - now_ns) / 1000000 + 1);
}

void trace_tfile_tick(struct trace *t, uint64_t now_ns)
{
	struct trace_tfile *tf = t->tf;
	uint64_t took;

	if (trace_tfile_timeout_ms(t, now_ns) != 0)
		return;
	if (write_file(t, t->cli->gdbtrace_path, main_space(t)) != 0)
		tf->checkpoints = false; /* said once, at the end */
	tf->saved_frames = tf->frames;
	took = trace_now_ns() - now_ns;
	tf->next_save_ns = now_ns + (took * TF_SAVE_COST > TF_SAVE_MIN_NS ? took * TF_SAVE_COST
									  : TF_SAVE_MIN_NS);
}

void trace_tfile_close(struct trace *t, FILE *out)
{
	const struct tspace *main = main_space(t);
	int r;

	if (!t->tf)
		return;
	r = write_file(t, t->cli->gdbtrace_path, main);
	if (r)
		fprintf(out, "tracestub trace: cannot write %s: %s\n", t->cli->gdbtrace_path,
			strerror(-r));
	else
		advise(t, t->cli->gdbtrace_path, main, out);
	if (t->tf->dropped)
		fprintf(out, "tracestub trace: %" PRIu64 " frames not recorded in %s\n",
			t->tf->dropped, t->cli->gdbtrace_path);
	tracebuf_free(t->tf->tb);
	free(t->tf);
	t->tf = NULL;
}
