/* The headless tracer's core without a live process: hand-made functions, sites and hits
 * against a fake target (memory is this test's own), checking what is reported. C calls
 * matched by rsp, a tail jump's return caught at the caller's return site (armed on demand,
 * swept when unused), longjmp'd calls dropped; Go calls matched by goroutine across threads
 * and moved stacks, the morestack re-entry counted once, recursion depths; conditions and
 * -n. Also the built-in prototype table and the SysV/Go argument plans. TAP. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "arch/x86_64/regs.h"
#include "stub/debuginfo/debuginfo.h"
#include "stub/print/print.h"
#include "stub/tracefile/tracefile.h"
#include "stub/tracer/internal.h"

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}

/* ---- the fake target ---- */
struct placed {
	pid_t pid;
	uint64_t addr;
	void *ctx;
	bool live;
};
static struct placed placed[64];
static unsigned nplaced, nremoved;

static int f_insert(void *ctx, pid_t pid, uint64_t addr, probe_hit_fn fn, void *fctx)
{
	placed[nplaced++] = (struct placed){pid, addr, fctx, true};
	return 0;
}

static int f_remove(void *ctx, pid_t pid, uint64_t addr, probe_hit_fn fn, void *fctx)
{
	for (unsigned i = 0; i < nplaced; i++)
		if (placed[i].live && placed[i].addr == addr && placed[i].ctx == fctx) {
			placed[i].live = false;
			nremoved++;
			return 0;
		}
	return -ENOENT;
}

static ssize_t f_readv(void *ctx, pid_t pid, const struct iovec *l, const struct iovec *r, int n)
{
	return process_vm_readv(getpid(), l, (unsigned long)n, r, (unsigned long)n, 0);
}

static struct tsite *placed_at(uint64_t addr)
{
	for (unsigned i = 0; i < nplaced; i++)
		if (placed[i].live && placed[i].addr == addr)
			return placed[i].ctx;
	return NULL;
}

/* ---- a session ---- */
static struct trace T;
static struct tracecli cli;
static struct tspace *S;
static uint64_t now_ns = 1000000;

static void session(char **argv, int argc)
{
	char err[256];

	memset(&T, 0, sizeof(T));
	if (tracecli_parse(argc, argv, &cli, err, sizeof(err)))
		printf("# parse: %s\n", err);
	cli.quiet = true;
	cli.json_path = "/dev/null"; /* an output that shows arguments: they are collected */
	T.cli = &cli;
	T.env = (struct trace_env){f_insert, f_remove, f_readv, NULL, NULL, NULL, NULL};
	T.start_ns = 1000000;
	trace_calls_init(&T);
	trace_out_open(&T);
	S = trace_space_new(&T, getpid());
	nplaced = nremoved = 0;
}

static void end_session(void)
{
	trace_out_close(&T);
	while (T.spaces)
		trace_space_free(&T, T.spaces);
	trace_calls_fini(&T);
}

static struct tfunc *func(const char *name, uint64_t start, uint64_t end, bool go)
{
	struct tfunc *f = calloc(1, sizeof(*f));

	f->space = S;
	f->kind = TF_FUNC;
	f->name = name;
	f->addr = f->start = start;
	f->end = end;
	f->go = go;
	f->next = S->funcs;
	S->funcs = f;
	trace_plan_func(f);
	return f;
}

static struct tsite *site(struct tfunc *f, enum tsite_kind kind, uint64_t addr, unsigned exit)
{
	struct tsite *x = calloc(1, sizeof(*x));

	*x = (struct tsite){.kind = kind,
			    .f = f,
			    .exit = exit,
			    .t = &T,
			    .pid = S->pid,
			    .addr = addr,
			    .placed = true};
	x->next = S->sites;
	S->sites = x;
	return x;
}

static void add_exit(struct tfunc *f, enum x86_64_site_kind kind, uint64_t addr)
{
	f->exits = realloc(f->exits, (f->nexits + 1) * sizeof(*f->exits));
	f->exits[f->nexits] = (struct x86_64_site){.addr = addr, .len = 1, .kind = kind};
	site(f, TS_EXIT, addr, f->nexits);
	f->nexits++;
}

static struct user_regs_struct R;
static void hit(struct tsite *x, pid_t tid, uint64_t dt)
{
	struct probe_hit h = {.pid = getpid(), .tid = tid, .addr = x->addr, .regs = &R};

	now_ns += dt;
	h.time_ns = now_ns;
	R.rip = x->addr;
	trace_handle(x, &h);
}

static const struct tsummary_entry *stats(const char *name)
{
	return tsummary_find(T.summary, NULL, name);
}

/* ---- C: PQexec from the prototype table, a ret and a tail jump ---- */
static uint64_t stack[64]; /* a fake thread stack: [rsp] holds the return address */

static void test_c(void)
{
	char *argv[] = {"trace", "-e", "PQexec", "--", "x", NULL};
	struct tfunc *f;
	struct tsite *entry, *ret, *jmp, *rs;
	uint64_t base = 0x10000, ra = 0x5555;

	session(argv, 5);
	f = func("PQexec", base, base + 0x40, false);
	ok(f->plan.nargs == 2 && f->plan.args[1].type.kind == DWT_CSTR &&
		   !strcmp(f->plan.args[1].name, "query") && f->plan.nrets == 1 &&
		   f->plan.args[1].src == TSRC_ABI && f->plan.args[1].abi.parts[0].reg == 1,
	   "PQexec(conn, query) -> ptr from the built-in prototypes, query in rsi");
	entry = site(f, TS_ENTRY, base, 0);
	add_exit(f, X86_64_SITE_RET, base + 0x10);
	add_exit(f, X86_64_SITE_JMP_OUT, base + 0x20);
	ret = S->sites->next; /* sites are pushed: [jmp, ret, entry] */
	jmp = S->sites;

	stack[10] = ra;
	R = (struct user_regs_struct){.rdi = 0x1234,
				      .rsi = (uint64_t)(uintptr_t) "SELECT 1",
				      .rsp = (uint64_t)(uintptr_t)&stack[10],
				      .rax = 0x777};
	hit(entry, 100, 10);
	ok(T.ev.type == TEVENT_CALL && T.ev.nargs == 2 && T.ev.args[1].kind == TV_STR &&
		   T.ev.args[1].v.s.len == 8 && !memcmp(T.ev.args[1].v.s.bytes, "SELECT 1", 8) &&
		   T.ev.args[0].kind == TV_PTR && T.ev.args[0].v.u == 0x1234 && T.ev.depth == 0,
	   "call: conn pointer and the SQL text read from memory");
	hit(ret, 100, 500);
	ok(T.ev.type == TEVENT_RETURN && T.ev.nrets == 1 && T.ev.rets[0].v.u == 0x777 &&
		   T.ev.duration_ns == 500,
	   "ret at the entry rsp closes the call: result from rax, duration");

	/* the tail-jump path: no ret is reached; the caller's return site reports it */
	R.rsi = (uint64_t)(uintptr_t) "SELECT 2";
	hit(entry, 100, 10);
	unsigned before = nplaced;
	hit(jmp, 100, 5);
	rs = placed_at(ra);
	ok(nplaced == before + 1 && rs && rs->kind == TS_RETSITE && rs->refs == 1,
	   "tail jmp: a probe at the return address read from the entry rsp");
	R.rsp += 8; /* the callee returned: rsp just above the return address */
	R.rax = 0x888;
	hit(rs, 100, 100);
	ok(T.ev.type == TEVENT_RETURN && T.ev.rets[0].v.u == 0x888 && T.ev.duration_ns == 105 &&
		   rs->refs == 0,
	   "return site with the expected rsp reports the return");
	trace_retsite_sweep(&T);
	ok(nremoved == 1 && !placed_at(ra), "an unused return site is removed by the sweep");
	ok(stats("PQexec") && stats("PQexec")->calls == 2 && stats("PQexec")->returns == 2,
	   "2 calls, 2 returns");

	/* longjmp: a call never returns; the next entry at a higher rsp drops it */
	R.rsp = (uint64_t)(uintptr_t)&stack[10];
	hit(entry, 100, 1);
	R.rsp = (uint64_t)(uintptr_t)&stack[8];
	hit(entry, 100, 1);
	ok(T.ev.depth == 1, "nested call at depth 1");
	R.rsp = (uint64_t)(uintptr_t)&stack[12];
	hit(entry, 100, 1);
	ok(T.ev.depth == 0 && trace_calls_open(&T) == 1,
	   "an entry above both open calls: they were longjmp'd over, dropped");
	/* another thread's ret never closes this thread's call */
	R.rsp = (uint64_t)(uintptr_t)&stack[12];
	hit(ret, 101, 1);
	ok(trace_calls_open(&T) == 1, "a ret on another thread matches nothing");
	end_session();
}

static void test_cond_and_count(void)
{
	char *argv[] = {"trace", "-e", "PQexec if query == \"SELECT 2\"", "-n", "2", "--",
			"x",	 NULL};
	struct tfunc *f;
	struct tsite *entry;

	session(argv, 7);
	f = func("PQexec", 0x20000, 0x20040, false);
	entry = site(f, TS_ENTRY, 0x20000, 0);
	R = (struct user_regs_struct){.rsp = (uint64_t)(uintptr_t)&stack[20]};
	const char *q[4] = {"SELECT 1", "SELECT 2", "SELECT 3", "SELECT 2"};
	for (int i = 0; i < 4; i++) {
		R.rsi = (uint64_t)(uintptr_t)q[i];
		hit(entry, 100, 1);
	}
	ok(stats("PQexec") && stats("PQexec")->calls == 2 && T.stopping && T.stop_requested,
	   "the condition keeps 2 of 4 calls; -n 2 then stops");
	R.rsi = (uint64_t)(uintptr_t)q[1];
	hit(entry, 100, 1);
	ok(stats("PQexec")->calls == 2, "nothing is reported once -n is reached");
	end_session();
}

static void test_tid(void)
{
	char *argv[] = {"trace", "-e", "PQexec", "--tid", "100", "--", "x", NULL};
	struct tfunc *f;
	struct tsite *entry;

	session(argv, 7);
	f = func("PQexec", 0x50000, 0x50040, false);
	entry = site(f, TS_ENTRY, 0x50000, 0);
	R = (struct user_regs_struct){.rsp = (uint64_t)(uintptr_t)&stack[20]};
	hit(entry, 101, 1);
	hit(entry, 100, 1);
	hit(entry, 102, 1);
	ok(stats("PQexec") && stats("PQexec")->calls == 1, "--tid 100: only that thread's call");
	end_session();
}

/* ---- Go: matched by goroutine, morestack re-entry counted once ---- */
static void go_plan(struct tfunc *f)
{
	struct x86_64_abi_leaf l = {0, 8, false};
	struct x86_64_abi_value v = {8, &l, 1, false};
	struct x86_64_abi_loc al, rl;
	struct tplan *p = &f->plan;

	memset(p, 0, sizeof(*p));
	p->abi = X86_64_ABI_GO;
	p->at_entry = true;
	p->nargs = p->nrets = 1;
	p->args[0].name = "n";
	p->args[0].type = (struct dwtype){.kind = DWT_INT, .size = 8};
	p->rets[0].type = p->args[0].type;
	x86_64_abi_assign(X86_64_ABI_GO, &v, 1, &al, &v, 1, &rl);
	p->args[0].src = p->rets[0].src = TSRC_ABI;
	p->args[0].abi = al;
	p->rets[0].abi = rl;
}

static void test_go(void)
{
	char *argv[] = {"trace", "-e", "main.deep", "--", "x", NULL};
	struct tfunc *f;
	struct tsite *entry, *ret, *more;
	const uint64_t g1 = 0xc000001000, g2 = 0xc000002000;

	session(argv, 5);
	f = func("main.deep", 0x40000, 0x40100, true);
	go_plan(f);
	entry = site(f, TS_ENTRY, 0x40000, 0);
	more = site(f, TS_MORESTACK, 0x400f0, 0);
	add_exit(f, X86_64_SITE_RET, 0x40080);
	ret = S->sites;

	R = (struct user_regs_struct){.rax = 3, .r14 = g1, .rsp = 0x7000};
	hit(entry, 200, 1);
	ok(T.ev.type == TEVENT_CALL && T.ev.args[0].v.i == 3, "Go call: n=3 from rax");
	hit(more, 200, 1); /* prologue: stack too small */
	R.rsp = 0x9000;	   /* the stack was copied elsewhere */
	hit(entry, 200, 1);
	ok(stats("main.deep")->calls == 1, "the entry after runtime.morestack is not a new call");
	R.rax = 2;
	R.rsp = 0x8f00;
	hit(entry, 201, 1); /* recursion, on another thread: same goroutine */
	ok(T.ev.depth == 1 && stats("main.deep")->calls == 2, "recursive call at depth 1");
	/* another goroutine on the first thread */
	R = (struct user_regs_struct){.rax = 9, .r14 = g2, .rsp = 0x3000};
	hit(entry, 200, 1);
	ok(T.ev.depth == 0, "another goroutine starts at depth 0");
	R = (struct user_regs_struct){.rax = 42, .r14 = g1, .rsp = 0x1234};
	hit(ret, 202, 1);
	ok(T.ev.type == TEVENT_RETURN && T.ev.depth == 1 && T.ev.rets[0].v.i == 42,
	   "return on a third thread, stack elsewhere: matched by goroutine, depth 1");
	R.rax = 43;
	hit(ret, 200, 1);
	ok(T.ev.depth == 0 && T.ev.rets[0].v.i == 43 && stats("main.deep")->returns == 2,
	   "outer return at depth 0");
	R = (struct user_regs_struct){.rax = 7, .r14 = g2};
	hit(ret, 203, 1);
	ok(stats("main.deep")->returns == 3 && stats("main.deep")->calls == 3 &&
		   trace_calls_open(&T) == 0,
	   "3 calls, 3 returns, nothing left open");
	end_session();
}

/* -o: one frame per event, R + stack + the SQL text, a call and a return tracepoint */
static void test_tfile(void)
{
	char path[] = "/tmp/test_trace_core.XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = {"trace", "-e", "PQexec", "-o", path, "--", "x", NULL};
	struct tfile *tf = NULL;
	struct tracebuf_frame fr;
	struct tracebuf_block blk;
	struct tfunc *f;
	struct tsite *entry;
	bool sql = false, regs = false;
	size_t off = 0;
	char err[128];
	FILE *sink = fopen("/dev/null", "w");

	close(fd);
	session(argv, 7);
	trace_tfile_open(&T);
	T.main_pid = getpid();
	f = func("PQexec", 0x30000, 0x30040, false);
	f->tpnum = 1;
	entry = site(f, TS_ENTRY, 0x30000, 0);
	add_exit(f, X86_64_SITE_RET, 0x30010);
	stack[10] = 0x4444;
	R = (struct user_regs_struct){.rsi = (uint64_t)(uintptr_t) "SELECT 42",
				      .rsp = (uint64_t)(uintptr_t)&stack[10]};
	hit(entry, 100, 1);
	hit(S->sites, 100, 1);
	trace_tfile_close(&T, sink);
	fclose(sink);
	int rr = tfile_read(path, &tf, err, sizeof(err));
	ok(!rr && tf->complete && tf->ntps == 6 &&
		   !strncmp(tf->tps[0], "T1:0000000000030000", 19) &&
		   !strncmp(tf->tps[3], "T2:0000000000030010", 19),
	   "trace file: complete, call (T1) and return (T2) tracepoints");
	ok(tf && !tracebuf_frame(tf->tb, 0, &fr) && fr.tpnum == 1 &&
		   tracebuf_frame(tf->tb, 1, &fr) == 0 && fr.tpnum == 2 &&
		   tracebuf_frame(tf->tb, 2, &fr) == -ENOENT,
	   "two frames: the call, then the return");
	tracebuf_frame(tf->tb, 0, &fr);
	while (tracebuf_next_block(&fr, &off, &blk) == 1) {
		if (blk.type == 'R')
			regs = blk.len == x86_64_g_size();
		if (blk.type == 'M' && blk.addr == R.rsi && blk.len == 10 &&
		    !memcmp(blk.data, "SELECT 42", 10))
			sql = true;
	}
	ok(regs && sql, "call frame: registers and the query string (NUL included) as M");
	tfile_free(tf);
	unlink(path);
	end_session();
}

static void test_protos(void)
{
	const struct tproto *p = trace_proto_find("PQsendQuery"), *q;
	bool all = true;
	size_t i;

	ok(p && p->nargs == 2 && p->args[1].kind == DWT_CSTR && p->ret == DWT_INT,
	   "PQsendQuery(conn, query) -> int");
	for (i = 0; (q = trace_proto_at(i)); i++)
		all &= trace_proto_find(q->name) == q &&
		       (!i || strcmp(trace_proto_at(i - 1)->name, q->name) < 0);
	ok(all && i > 50 && !trace_proto_find("PQnosuch"),
	   "the table is sorted: every entry found by bsearch");
}

int main(void)
{
	test_c();
	test_cond_and_count();
	test_tid();
	test_go();
	test_tfile();
	test_protos();
	printf("1..%d\n", n_test);
	return 0;
}
