/* Unit tests for replay (TAP): the status fields (tfile_meta), the history index and its
 * searches (replay_hist), the link-address view (replay_view), module segments (replay_mod,
 * on this test's own executable), and the replay target end to end on a trace file written
 * here: registers and their availability, memory from frames and files, auxv, the library
 * list, continue/step and their reverse forms with and without breakpoints, a step over a
 * breakpoint, the ends, lldb's stops, monitor commands and the tfind ops. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86_64/regs.h"
#include "protocol/hex.h"
#include "protocol/trace_ops.h"
#include "stub/replay/replay.h"
#include "stub/replay/hist.h"
#include "stub/tracefile/tracefile.h"
#include "stub/replay/mod.h"
#include "stub/replay/view.h"

static int n_test;
static int failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

static size_t g_size;
static size_t rip_off, rsp_off, st0_off;

/* A frame: regs (rax, rsp, rip; NULL rip = no R block), a memory block, a thread block. */
struct fspec {
	uint16_t tp;
	uint64_t rip, rax, rsp;
	bool no_regs;
	uint64_t maddr;
	const uint8_t *mem;
	uint16_t mlen;
	int64_t pid, tid; /* 0: no thread block */
	int32_t tsv;
	int64_t tsv_val;
};

static void add(struct tracebuf *tb, const struct fspec *f)
{
	struct tracebuf_builder b;
	uint8_t *p;

	tracebuf_begin(tb, f->tp, 4096, &b);
	if (!f->no_regs && (p = tracebuf_put_regs(&b, g_size))) {
		memset(p, 0, g_size);
		memcpy(p, &f->rax, 8);
		memcpy(p + rsp_off, &f->rsp, 8);
		memcpy(p + rip_off, &f->rip, 8);
		memset(p + st0_off, 0x11, 10);
	}
	if (f->mlen && (p = tracebuf_put_mem(&b, f->maddr, f->mlen)))
		memcpy(p, f->mem, f->mlen);
	if (f->tid)
		tracebuf_put_tsv(&b, TFILE_TSV_THREAD,
				 (int64_t)((uint64_t)f->pid << 32 | (uint64_t)f->tid));
	if (f->tsv)
		tracebuf_put_tsv(&b, f->tsv, f->tsv_val);
	tracebuf_commit(tb, &b);
}

static struct tracebuf *buf_of(const struct fspec *fs, size_t n)
{
	struct tracebuf *tb = tracebuf_new(1 << 20);

	tracebuf_set_regs_size(tb, g_size);
	for (size_t i = 0; i < n; i++)
		add(tb, &fs[i]);
	return tb;
}

/* ---- tfile_meta ---- */

static void test_meta(void)
{
	const struct tfile_lib libs[] = {{"/lib/x.so", 0x7f00}, {"/lib/y.so", 0x7f10}};
	char text[512];
	const char *f[8];
	size_t dropped = 9, n;
	struct tfile_meta m;

	n = tfile_meta_format("/a;b:c", 42, libs, 2, 900, text, sizeof(text), f, 8, &dropped);
	ok(n == 4 && dropped == 0, "format: exe, pid and two libraries");
	ok(n == 4 && !strcmp(f[0], "tsexe:2f613b623a63") && !strcmp(f[1], "tspid:2a") &&
		   !strcmp(f[2], "tslib:2f6c69622f782e736f,7f00"),
	   "format: paths in hex, numbers in hex");
	n = tfile_meta_format("/a", 0, libs, 2, 60, text, sizeof(text), f, 8, &dropped);
	ok(n == 2 && dropped == 1, "format: what does not fit the room is dropped and counted");
	n = tfile_meta_format(NULL, 0, libs, 2, 900, text, 20, f, 8, &dropped);
	ok(n == 0 && dropped == 2, "format: nor what does not fit the text");

	tfile_meta_parse("0;tstop::0;tframes:3;tsbias:1000;tsexe:2f613b623a63;tspid:2a;"
			 "tslib:2f6c69622f782e736f,7f00;tslib:zz,1;tslib:2f62,q;tsexe:2f7a",
			 &m);
	ok(m.exe && !strcmp(m.exe, "/a;b:c"), "parse: the executable (the first one)");
	ok(m.has_bias && m.bias == 0x1000 && m.pid == 42, "parse: bias and pid");
	ok(m.nlibs == 1 && !strcmp(m.lib_path[0], "/lib/x.so") && m.lib_bias[0] == 0x7f00,
	   "parse: malformed library fields skipped");
	tfile_meta_fini(&m);
	tfile_meta_parse(NULL, &m);
	ok(!m.exe && !m.has_bias && !m.nlibs && !m.pid, "parse: no status, no facts");
}

/* ---- replay_hist ---- */

static taddr_t tp_addr(void *ctx, uint16_t tp)
{
	return tp == 2 ? 0x2000 : 0;
}

static void test_hist(void)
{
	const struct fspec fs[] = {
		{.tp = 1, .rip = 0x1000, .pid = 100, .tid = 100},
		{.tp = 1, .rip = 0x1000, .pid = 100, .tid = 101},
		{.tp = 2, .no_regs = true, .pid = 100, .tid = 100},
		{.tp = 1, .rip = 0x1000, .pid = 200, .tid = 200},
		{.tp = 2, .rip = 0x2000, .pid = 100, .tid = 101},
	};
	struct tracebuf *tb = buf_of(fs, 5);
	const taddr_t bps[] = {0x2000};
	struct replay_filter any = {0}, t101 = {.tid = 101}, tp2 = {.tp = 2},
			     bp = {.bps = bps, .nbps = 1}, t100 = {.tid = 100};
	struct replay_hist h;

	ok(replay_hist_build(&h, tb, rip_off, 0, tp_addr, NULL) == 0, "hist: built");
	ok(h.pid == 100 && h.n == 4 && h.skipped == 1 && h.nth == 2,
	   "hist: the first frame's process; another process's frame left out");
	ok(h.fr[2].pc == 0x2000 && h.fr[2].th == 0, "hist: no R block: pc of the tracepoint");
	ok(replay_hist_seek(&h, -1, 1, &any) == 0 && replay_hist_seek(&h, 0, 1, &t101) == 1 &&
		   replay_hist_seek(&h, 1, 1, &tp2) == 2,
	   "hist: seek forward, by thread, by tracepoint");
	ok(replay_hist_seek(&h, 0, 1, &bp) == 2 && replay_hist_seek(&h, 2, 1, &bp) == 3 &&
		   replay_hist_seek(&h, 3, 1, &bp) == -1,
	   "hist: seek frames at breakpoints; -1 past the end");
	ok(replay_hist_seek(&h, 3, -1, &t100) == 2 && replay_hist_seek(&h, 0, -1, &any) == -1,
	   "hist: seek backwards");
	ok(replay_hist_thread_at(&h, 1, 0) == -1 && replay_hist_thread_at(&h, 1, 2) == 1 &&
		   replay_hist_thread_at(&h, 0, 3) == 2,
	   "hist: a thread's latest frame at a position");
	ok(replay_hist_thread_step(&h, 0, 0, 1) == 2 &&
		   replay_hist_thread_step(&h, 0, 2, -1) == 0 &&
		   replay_hist_thread_step(&h, 1, 3, 1) == -1,
	   "hist: a thread's next and previous frames");
	ok(replay_hist_has_pc(&h, 0x2000) && !replay_hist_has_pc(&h, 0x3000) &&
		   replay_hist_thread(&h, 101) == 1 && replay_hist_thread(&h, 5) == -1,
	   "hist: frame pcs, threads by tid");
	replay_hist_fini(&h);
	tracebuf_free(tb);

	const struct fspec plain[] = {{.tp = 1, .rip = 0x10}, {.tp = 1, .rip = 0x20}};
	tb = buf_of(plain, 2);
	ok(replay_hist_build(&h, tb, rip_off, 0, tp_addr, NULL) == 0 && h.pid == 1 && h.nth == 1 &&
		   h.th[0].tid == 1 && h.n == 2,
	   "hist: no thread blocks: one thread");
	replay_hist_fini(&h);
	tracebuf_free(tb);
}

/* ---- replay_view ---- */

static uint64_t word(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void test_view(void)
{
	const uint64_t B = 0x555500000000;
	uint8_t mem[24];
	uint64_t w[3] = {B + 0x1300, 42, B + 0x2ff8};
	struct fspec fs[2] = {{.tp = 1, .rip = B + 0x1200, .rax = B + 0x1100, .rsp = B + 0x5000},
			      {.tp = 1, .rip = 0x1200, .rax = 0x1100}};
	struct tracebuf *tb, *v, *v2;
	struct tracebuf_frame fr;
	struct tracebuf_block b;
	size_t off = 0;
	const uint8_t *r;
	size_t rl;
	uint8_t s1[4096], s2[4096];
	size_t d1 = 0, d2 = 0;

	memcpy(mem, w, sizeof(w));
	fs[0].maddr = B + 0x2000;
	fs[0].mem = mem;
	fs[0].mlen = sizeof(mem);
	tb = buf_of(fs, 2);
	v = replay_view_link(tb, rip_off, B, 0x1000, 0x3000);
	ok(v && !tracebuf_frame(v, 0, &fr) && !tracebuf_frame_regs(&fr, &r, &rl), "view: built");
	ok(word(r) == 0x1100 && word(r + rip_off) == 0x1200, "view: registers moved to link time");
	ok(word(r + rsp_off) == B + 0x5000, "view: a value outside the span stays");
	tracebuf_next_block(&fr, &off, &b);
	tracebuf_next_block(&fr, &off, &b);
	ok(b.type == 'M' && b.addr == 0x2000 && word(b.data) == 0x1300 && word(b.data + 8) == 42 &&
		   word(b.data + 16) == 0x2ff8,
	   "view: memory block address and words moved");
	tracebuf_frame(v, 1, &fr);
	tracebuf_frame_regs(&fr, &r, &rl);
	ok(word(r) == 0x1100 && word(r + rip_off) == 0x1200, "view: link-time values left alone");
	v2 = replay_view_link(v, rip_off, B, 0x1000, 0x3000);
	tracebuf_read(v, 0, s1, sizeof(s1), &d1);
	tracebuf_read(v2, 0, s2, sizeof(s2), &d2);
	ok(v2 && d1 == d2 && !memcmp(s1, s2, d1), "view: idempotent");
	tracebuf_free(v2);
	v2 = replay_view_link(tb, rip_off, 0, 0, 0);
	tracebuf_read(tb, 0, s1, sizeof(s1), &d1);
	tracebuf_read(v2, 0, s2, sizeof(s2), &d2);
	ok(v2 && d1 == d2 && !memcmp(s1, s2, d1), "view: bias 0 copies");
	tracebuf_free(v2);
	tracebuf_free(v);
	tracebuf_free(tb);
}

/* ---- replay_mod, on this executable ---- */

static char self[4096];
static uint8_t *self_img;
static size_t self_len;

static void load_self(void)
{
	FILE *f;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	f = fopen(self, "rb");
	fseek(f, 0, SEEK_END);
	self_len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	self_img = malloc(self_len);
	if (fread(self_img, 1, self_len, f) != self_len)
		self_len = 0;
	fclose(f);
}

static void test_mod(struct replay_mod *m)
{
	const Elf64_Ehdr *eh = (const void *)self_img;
	uint8_t buf[64];
	size_t done = 0;
	struct rsp_region_info ri;
	bool rw_refused = false;

	ok(replay_mod_open(m, self, 0x10000000) == 0, "mod: this executable opened");
	ok(m->entry == eh->e_entry && m->phnum == eh->e_phnum && m->nsegs > 1,
	   "mod: entry and program headers");
	ok(replay_mod_read(m, 0x10000000 + m->phdr, buf, sizeof(buf), &done) == 0 && done == 64 &&
		   !memcmp(buf, self_img + eh->e_phoff, 64),
	   "mod: the program headers read at their run-time address");
	ok(replay_mod_read(m, 0x10000000 - 1, buf, 8, &done) == -EIO, "mod: below the module");
	for (size_t i = 0; i < m->nsegs; i++)
		if (m->segs[i].w)
			rw_refused = replay_mod_read(m,
						     0x10000000 + m->segs[i].vaddr +
							     m->segs[i].memsz - 1,
						     buf, 1, &done) == -EIO;
	ok(rw_refused, "mod: a writable segment is not served from the file");
	ok(replay_mod_region(m, 0x10000000 + m->entry, &ri) && ri.x && ri.r && !ri.w &&
		   (ri.start & 4095) == 0 && !strcmp(ri.name, self),
	   "mod: the code's region, page aligned, named");
	replay_mod_close(m);
}

/* ---- the replay target ---- */

static const struct rsp_target_ops *ops;
static char out_text[8192];

static void out(void *ctx, const char *t, size_t n)
{
	size_t used = strlen(out_text);

	if (used + n < sizeof(out_text)) {
		memcpy(out_text + used, t, n);
		out_text[used + n] = '\0';
	}
}

static const char *mon(struct replay *r, const char *cmd)
{
	out_text[0] = '\0';
	return ops->monitor(r, cmd, strlen(cmd), out, NULL) ? NULL : out_text;
}

static struct rsp_stop next(struct replay *r, int *got)
{
	struct rsp_stop st;

	memset(&st, 0, sizeof(st));
	*got = replay_next_stop(r, &st);
	return st;
}

static const struct rsp_resume_action cont = {.kind = RSP_RESUME_CONTINUE, .thread = {-1, -1}};

static struct rsp_stop go(struct replay *r, int how, int64_t tid)
{
	struct rsp_resume_action acts[2] = {cont, cont};
	int got;

	if (how == 1) {
		ops->resume(r, &cont, 1);
	} else if (how == 2) { /* gdb's step over a breakpoint: that thread alone */
		acts[0] =
			(struct rsp_resume_action){.kind = RSP_RESUME_STEP, .thread = {0x64, tid}};
		ops->resume(r, acts, 1);
	} else if (how == 3) { /* gdb's stepi: the others continue */
		acts[0] =
			(struct rsp_resume_action){.kind = RSP_RESUME_STEP, .thread = {0x64, tid}};
		ops->resume(r, acts, 2);
	} else if (how == -1) {
		ops->reverse_continue(r);
	} else {
		ops->reverse_step(r, (struct rsp_ptid){0x64, tid});
	}
	return next(r, &got);
}

static int regs(struct replay *r, int64_t tid, uint8_t *g, uint8_t *avail)
{
	return ops->read_regs(r, (struct rsp_ptid){0x64, tid}, g, avail);
}

static int nwarn;

static void warn(const char *msg)
{
	nwarn++;
	printf("# warning: %s\n", msg);
}

static char path[256];

/* Five frames of process 0x64: threads 0x64 and 0x65, tracepoints 1 (pc P1) and 2 (P2, its
 * actions collect only rax: no x87/SSE). */
static void write_file(const struct replay_mod *m, uint64_t lib_bias)
{
	const uint64_t P1 = m->entry, P2 = m->entry + 4, S = 0x7ffd0010;
	static const uint8_t stack[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	static const uint8_t later[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
	const struct fspec fs[] = {
		{.tp = 1,
		 .rip = P1,
		 .rax = 1,
		 .rsp = S,
		 .maddr = S,
		 .mem = stack,
		 .mlen = 16,
		 .pid = 0x64,
		 .tid = 0x64},
		{.tp = 2, .rip = P2, .rax = 2, .pid = 0x64, .tid = 0x65, .tsv = 2, .tsv_val = 7},
		{.tp = 1,
		 .rip = P1,
		 .rax = 3,
		 .maddr = S + 8,
		 .mem = later,
		 .mlen = 8,
		 .pid = 0x64,
		 .tid = 0x65},
		{.tp = 2, .rip = P2, .rax = 4, .pid = 0x64, .tid = 0x64},
		{.tp = 1, .rip = P1, .rax = 5, .pid = 0x64, .tid = 0x64},
	};
	struct tracebuf *tb = buf_of(fs, 5);
	char exe[64 + 2 * sizeof(self)], lib[96 + 2 * sizeof(self)], t1[64], t2[64], a2[64];
	const char *extra[] = {exe, "tspid:64", "tsbias:0", lib}, *tps[] = {t1, t2, a2};
	const char *tsvs[] = {"2:0:0:636e74"};
	struct tfile_header h = {.regs_size = g_size,
				 .status = "0;tstop::0;tframes:5;tcreated:5",
				 .status_extra = extra,
				 .nstatus_extra = 4,
				 .tsvs = tsvs,
				 .ntsvs = 1,
				 .tps = tps,
				 .ntps = 3};
	int n = snprintf(exe, sizeof(exe), "tsexe:");

	rsp_hex_encode((const uint8_t *)self, strlen(self), exe + n);
	exe[n + 2 * strlen(self)] = '\0';
	n = snprintf(lib, sizeof(lib), "tslib:");
	rsp_hex_encode((const uint8_t *)self, strlen(self), lib + n);
	snprintf(lib + n + 2 * strlen(self), 32, ",%llx", (unsigned long long)lib_bias);
	snprintf(t1, sizeof(t1), "T1:%016llx:E:0:0", (unsigned long long)P1);
	snprintf(t2, sizeof(t2), "T2:%016llx:E:0:0", (unsigned long long)P2);
	snprintf(a2, sizeof(a2), "A2:%016llx:R01", (unsigned long long)P2);
	snprintf(path, sizeof(path), "%s/test_replay.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	close(mkstemp(path));
	ok(tfile_write(path, &h, tb) == 0, "target: trace file written");
	tracebuf_free(tb);
}

static void test_reads(struct replay *r, const struct replay_mod *m, uint64_t lib_bias)
{
	const Elf64_Ehdr *eh = (const void *)self_img;
	uint8_t g[4096], avail[X86_64_NREGS], buf[64];
	uint64_t auxv[32] = {0}, phdr = 0, entry = 0;
	struct rsp_thread_info th[4];
	struct rsp_library lib;
	struct rsp_region_info ri;
	struct rsp_stop st;
	size_t n = 0, done = 0;

	ok(ops->last_stop(r, &st) == 0 && st.thread.tid == 0x64 && st.signo == 5 &&
		   st.reason == RSP_REASON_NONE,
	   "the first frame: a SIGTRAP of its thread");
	ok(ops->list_threads(r, th, 4, &n) == 0 && n == 1 && th[0].id.tid == 0x64 &&
		   !strncmp(th[0].name, "test_replay", 11),
	   "one thread so far, named like the executable");
	ok(regs(r, 0x64, g, avail) == 0 && word(g) == 1 && avail[X86_64_RAX] && avail[X86_64_ST0] &&
		   !avail[X86_64_YMM0H],
	   "registers of the frame; headless rule: x87 collected, AVX not");
	ok(regs(r, 0x65, g, avail) == -ESRCH, "a thread with no frame yet: none");
	ok(ops->read_mem(r, 0x7ffd0010, buf, 64, &done) == 0 && done == 16 && buf[15] == 16,
	   "memory from the frame's block, up to its end");
	ok(ops->read_mem(r, 0x7ffd0010 - 8, buf, 8, &done) == -EIO, "uncollected memory: an error");
	ok(ops->read_mem(r, m->phdr, buf, 56, &done) == 0 &&
		   !memcmp(buf, self_img + eh->e_phoff, 56),
	   "the executable at link addresses: its program headers");
	ok(ops->read_mem(r, lib_bias + m->phdr, buf, 56, &done) == 0 &&
		   !memcmp(buf, self_img + eh->e_phoff, 56),
	   "a library at its load bias");
	ops->xfer_auxv(r, 0, (uint8_t *)auxv, sizeof(auxv), &n);
	for (size_t i = 0; i + 1 < n / 8; i += 2) {
		phdr = auxv[i] == AT_PHDR ? auxv[i + 1] : phdr;
		entry = auxv[i] == AT_ENTRY ? auxv[i + 1] : entry;
	}
	ok(phdr == m->phdr && entry == m->entry && auxv[n / 8 - 2] == AT_NULL,
	   "auxv: AT_PHDR and AT_ENTRY at link addresses");
	ok(ops->list_libraries(r, &lib, 1, &n) == 0 && n == 1 && !strcmp(lib.name, self) &&
		   lib.l_addr == lib_bias,
	   "the library list");
	ok(ops->exec_file(r, 0x64, (char *)g, sizeof(g)) == 0 && !strcmp((char *)g, self),
	   "qXfer:exec-file: the executable");
	ok(ops->region_info(r, m->entry, &ri) == 0 && ri.mapped && ri.x, "region: code");
	ok(ops->region_info(r, 0x7ffd0018, &ri) == 0 && ri.mapped && ri.w && ri.start == 0x7ffd0010,
	   "region: a collected block");
	ok(ops->region_info(r, 0x7e0000000000, &ri) == 0 && !ri.mapped, "region: nothing");
	ok(ops->write_mem(r, 0x7ffd0010, buf, 1) == -EPERM, "the past is not written");
	{
		struct rsp_mem_range mr[4];

		ok(ops->expedite_mem(r, (struct rsp_ptid){0x64, 0x64}, mr, 4, &n) == 0 && n == 1 &&
			   mr[0].addr == 0x7ffd0010 && mr[0].len == 16,
		   "lldb's expedited memory: the stack block, which starts off a 512-byte line");
	}
}

static void test_moves(struct replay *r, const struct replay_mod *m)
{
	uint8_t g[4096], avail[X86_64_NREGS];
	struct rsp_thread_info th[4];
	struct rsp_stop st;
	const char *note;
	int64_t v = 0;
	size_t n = 0;
	int got;

	st = go(r, 1, 0);
	note = replay_stop_note(r);
	ok(st.thread.tid == 0x65 && st.reason == RSP_REASON_NONE && note &&
		   strstr(note, "trace frame 1 of 5"),
	   "continue, no breakpoints: the next frame; console note for gdb");
	next(r, &got);
	ok(!got && !replay_stop_note(r), "one stop per resume");
	ok(ops->list_threads(r, th, 4, &n) == 0 && n == 2, "the second thread has appeared");
	ok(regs(r, 0x65, g, avail) == 0 && word(g) == 2 && avail[X86_64_RAX] && !avail[X86_64_ST0],
	   "tracepoint 2 collected rax only: no x87");
	ok(ops->trace->tsv_value(r, 2, &v) == 0 && v == 7, "qTV from the present frame");

	ops->insert_point(r, RSP_POINT_SW, m->entry, 1);
	st = go(r, 1, 0);
	ok(st.thread.tid == 0x65 && st.reason == RSP_REASON_SWBREAK, "a breakpoint: its next hit");
	{
		uint8_t b[16];
		size_t done = 0;

		ok(ops->read_mem(r, 0x7ffd0010, b, 16, &done) == 0 && done == 8 && b[7] == 8,
		   "overlapping blocks: the older frame's, up to where a newer one begins");
		ok(ops->read_mem(r, 0x7ffd0018, b, 8, &done) == 0 && done == 8 && b[0] == 0xaa,
		   "overlapping blocks: the newer frame's bytes win");
	}
	ops->remove_point(r, RSP_POINT_SW, m->entry, 1);
	st = go(r, 2, 0x65);
	regs(r, 0x65, g, avail);
	ok(st.reason == RSP_REASON_TRACE && avail[X86_64_RIP] && avail[X86_64_RBP] &&
		   word(g + rip_off) == m->entry + 2 && word(g + 6 * 8) == 0,
	   "gdb steps over it: the emulator runs `xor %ebp,%ebp` of _start (rip + 2, rbp 0)");
	ops->insert_point(r, RSP_POINT_SW, m->entry, 1);
	st = go(r, 1, 0);
	regs(r, 0x65, g, avail);
	ok(st.thread.tid == 0x64 && st.reason == RSP_REASON_SWBREAK &&
		   word(g + rip_off) == m->entry + 2,
	   "continue: frame 4; the other thread stays where the emulator left it");
	st = go(r, 1, 0);
	ok(st.reason == RSP_REASON_REPLAY_END && strstr(st.description, "end of the trace"),
	   "off the end: replaylog end");
	st = go(r, -1, 0);
	regs(r, 0x65, g, avail);
	ok(st.thread.tid == 0x65 && st.reason == RSP_REASON_SWBREAK && avail[X86_64_RAX] &&
		   word(g) == 3,
	   "reverse-continue: back at frame 2's breakpoint");
	st = go(r, -2, 0x65);
	regs(r, 0x65, g, avail);
	ok(st.reason == RSP_REASON_TRACE && word(g) == 2,
	   "reverse-step: the thread's frame before");
	st = go(r, -2, 0x65);
	ok(st.reason == RSP_REASON_REPLAY_BEGIN, "and before that, replaylog begin");
	st = go(r, -1, 0);
	ok(st.thread.tid == 0x64 && st.reason == RSP_REASON_SWBREAK, "reverse-continue: frame 0");
	st = go(r, 3, 0x64);
	regs(r, 0x64, g, avail);
	ok(st.reason == RSP_REASON_TRACE && word(g + rip_off) == m->entry + 2,
	   "stepi (others continue): one instruction on, emulated");
	for (int i = 0; i < 64 && word(g) != 4; i++) {
		st = go(r, 3, 0x64);
		regs(r, 0x64, g, avail);
	}
	note = replay_stop_note(r);
	ok(st.reason == RSP_REASON_TRACE && word(g) == 4 && note &&
		   strstr(note, "could not run on"),
	   "where the emulator cannot go on, stepi goes to the thread's next frame and says why");
}

static void test_lldb_and_monitor(struct replay *r, const struct replay_mod *m)
{
	struct rsp_client_features f = {.is_lldb = true};
	struct rsp_stop st;
	const char *o;

	ops->set_client_features(r, &f);
	ops->remove_point(r, RSP_POINT_SW, m->entry, 1);
	o = mon(r, "frame 1");
	ok(o && strstr(o, "the next continue goes to frame 1"), "monitor frame: told");
	st = go(r, 1, 0);
	ok(st.thread.tid == 0x65 && st.reason == RSP_REASON_SWBREAK && st.description &&
		   strstr(st.description, "trace frame 1 of 5") && !replay_stop_note(r),
	   "lldb: a breakpoint stop with a description, no console note");
	o = mon(r, "tp 2");
	ok(o && strstr(o, "only at tracepoint 2"), "monitor tp");
	st = go(r, 1, 0);
	ok(st.thread.tid == 0x64 && strstr(st.description, "trace frame 3 of 5"),
	   "continue: the next frame of tracepoint 2");
	st = go(r, 1, 0);
	ok(st.signo == 0 && st.reason == RSP_REASON_NONE && strstr(st.description, "end"),
	   "lldb at the end: no signal, the description");
	mon(r, "tp all");
	o = mon(r, "thread 101");
	ok(o && strstr(o, "only in thread 101"), "monitor thread");
	st = go(r, -1, 0);
	ok(st.thread.tid == 0x65 && strstr(st.description, "trace frame 2 of 5"),
	   "reverse-continue: the thread's latest frame");
	o = mon(r, "frames 0 2");
	ok(o && strstr(o, "     0  tracepoint 1") && strstr(o, "     1  tracepoint 2") &&
		   !strstr(o, "     2  tracepoint"),
	   "monitor frames N K");
	ok(mon(r, "frame 99") && strstr(out_text, "no frame"), "monitor frame: out of range");
	ok(!mon(r, "bogus"), "unknown monitor command: -ENOENT");
	mon(r, "thread all");
	o = mon(r, "info");
	ok(o && strstr(o, "5 frames, 2 threads, process 100") && !strstr(o, "only"),
	   "monitor info; filters cleared");
}

static void test_tfind(struct replay *r, const struct replay_mod *m)
{
	const struct rsp_trace_ops *t = ops->trace;
	uint8_t g[4096], avail[X86_64_NREGS], b[64];
	struct rsp_tframe_item items[8];
	struct rsp_trace_status st;
	struct rsp_tp_info ti;
	int64_t frame = -1;
	uint32_t tp = 0;
	size_t n = 0, done = 0;

	ok(t->select_frame(r, RSP_TFRAME_NUM, 1, 0, &frame, &tp) == 0 && frame == 1 && tp == 2,
	   "tfind 1");
	ok(regs(r, 0x64, g, avail) == 0 && word(g) == 2, "registers from the selected frame");
	ok(t->frame_info(r, items, 8, &n) == 0 && n == 2 && items[0].is_tsv, "traceframe-info");
	ok(t->select_frame(r, RSP_TFRAME_PC, m->entry + 4, 0, &frame, &tp) == 0 && frame == 3,
	   "tfind pc: the next frame of that tracepoint's address");
	ok(t->select_frame(r, RSP_TFRAME_TDP, 1, 0, &frame, &tp) == 0 && frame == 4,
	   "tfind tracepoint");
	ok(t->select_frame(r, RSP_TFRAME_TDP, 2, 0, &frame, &tp) == -ENOENT, "tfind: none after");
	t->unselect_frame(r);
	ok(t->tp_get(r, 1, &ti) == 0 && ti.def.num == 2 && ti.nactions == 1 &&
		   t->tp_get(r, 2, &ti) == -ENOENT,
	   "qTfP: the file's tracepoints");
	ok(t->status(r, &st) == 0 && st.frames == 5 && !st.running, "qTStatus: the file's status");
	ok(t->read_buffer(r, 0, b, sizeof(b), &done) == 0 && done == sizeof(b) && b[0] == 1,
	   "qTBuffer: the frames");
}

static void test_target(void)
{
	const uint64_t lib_bias = 0x7f0000000000;
	struct replay_mod m;
	struct replay *r;
	char err[256];

	replay_mod_open(&m, self, 0);
	write_file(&m, lib_bias);
	ops = replay_target_ops();
	r = replay_open(path, NULL, warn, err, sizeof(err));
	ok(r && nwarn == 0, "target: the file opened, no warnings");
	if (!r) {
		printf("# %s\n", err);
		replay_mod_close(&m);
		return;
	}
	test_reads(r, &m, lib_bias);
	test_moves(r, &m);
	test_lldb_and_monitor(r, &m);
	test_tfind(r, &m);
	replay_free(r);
	unlink(path);
	ok(!replay_open(path, NULL, warn, err, sizeof(err)) && strstr(err, "cannot read"),
	   "target: a missing file");
	replay_mod_close(&m);
}

int main(void)
{
	const struct x86_64_reg *x = x86_64_regs();
	struct replay_mod m;

	g_size = x86_64_g_size();
	rip_off = x[X86_64_RIP].offset;
	rsp_off = x[X86_64_RSP].offset;
	st0_off = x[X86_64_ST0].offset;
	load_self();
	test_meta();
	test_hist();
	test_view();
	test_mod(&m);
	test_target();
	free(self_img);
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
