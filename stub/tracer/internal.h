/* Internals shared by the headless tracer's files (trace_*.c). Not for other modules: they
 * call trace_main(). The tracer core never calls the live engine directly: it goes through
 * struct trace_env, so unit tests drive it with a fake target and hand-made hits.
 *
 *   run.c     command line -> session, outputs, the event loop, signals, exit status
 *   spaces.c     processes, their modules, resolving -e specs (pending until loaded)
 *   plan.c     per function: where each argument/result lives (DWARF, else ABI)
 *   protos.c   built-in prototypes for well-known functions without debug info
 *   collect.c  values, strings, stack bytes, registers, backtraces at a hit
 *   sites.c    probe placement (entry, exits, tail jumps, morestack, return sites)
 *   calls.c    per-thread / per-goroutine call stacks and the hit handlers
 *   out.c      printers, summary, live counters */
#ifndef TRACESTUB_STUB_TRACE_INTERNAL_H
#define TRACESTUB_STUB_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "arch/x86_64/abi.h"
#include "arch/x86_64/funcscan.h"
#include "arch/x86_64/pad.h"
#include "stub/agent/agent.h"
#include "stub/debuginfo/debuginfo.h"
#include "stub/live/live.h"
#include "stub/print/print.h"
#include "stub/tracer/tracer.h"

struct module;
struct module_set;
struct trace_tfile;
struct printer;
struct tsummary;

#define TRACE_STR_MAX	  256 /* bytes of one string value collected */
#define TRACE_SLICE_MAX	  16  /* elements of one Go slice collected */
#define TRACE_MAX_THREADS 4096
#define TRACE_MAX_FRAMES  65536
#define TRACE_MAX_EXITS	  256 /* exit sites per function */
#define TRACE_NREGS	  18

/* ---- the target, as the core sees it ---- */
struct trace_env {
	int (*insert)(void *ctx, pid_t pid, uint64_t addr, probe_hit_fn fn, void *fctx);
	int (*remove)(void *ctx, pid_t pid, uint64_t addr, probe_hit_fn fn, void *fctx);
	ssize_t (*readv)(void *ctx, pid_t pid, const struct iovec *local,
			 const struct iovec *remote, int n);
	int (*fpregs)(void *ctx, pid_t tid, struct user_fpregs_struct *fp); /* may be NULL */
	const char *(*last_error)(void *ctx);				    /* may be NULL */
	void *ctx;
	struct live *live; /* the fast path's engine; NULL: every probe traps (unit tests) */
};

/* ---- how one value is obtained ---- */
enum tsrc_kind {
	TSRC_NONE, /* not collected: unavailable */
	TSRC_DWARF,
	TSRC_ABI,
};

struct tval_plan {
	const char *name;
	struct dwtype type; /* for values without DWARF only kind/size/go_error are set */
	enum tsrc_kind src;
	const struct dwparam *dw;  /* TSRC_DWARF: location list */
	struct x86_64_abi_loc abi; /* TSRC_ABI */
};

#define TPLAN_MAX 16
struct tplan {
	unsigned nargs, nrets;
	struct tval_plan args[TPLAN_MAX];
	struct tval_plan rets[TPLAN_MAX];
	enum x86_64_abi abi;
	bool ret_indirect; /* SysV result in memory: rax holds its address */
	bool at_entry;	   /* the probe is the function's first instruction */
};

/* ---- modules and functions ---- */
struct tmod {
	struct module *m;
	bool goid_tried;
	bool has_goid;
	uint64_t goid_off;     /* runtime.g.goid */
	uint64_t morestack[2]; /* runtime addresses of runtime.morestack{,_noctxt}, 0 if none */
	bool gopad_tried, has_gopad;
	struct x86_64_pad_go gopad; /* the fast path's stack switch (runtime offsets) */
	bool goerr_tried;
	struct tgoerr *goerr; /* goerr.c: where an error's type and message are */
};

enum tfunc_kind {
	TF_FUNC,   /* entry and return */
	TF_HIT,	   /* FILE:LINE or *ADDR: one hit event */
	TF_INLINE, /* an inlined instance: a hit at its entry */
};

struct tspace;

struct tfunc {
	struct tspace *space;
	struct tmod *mod; /* NULL for an *ADDR outside every module */
	unsigned spec;	  /* index into cli->specs */
	enum tfunc_kind kind;
	const char *name;
	uint64_t addr;	     /* runtime address of the entry / hit probe */
	uint64_t start, end; /* runtime function range ([start, start) when unknown) */
	bool go;
	bool placed;  /* its entry (or hit) probe is in */
	bool ra_only; /* exits unknown: the return is caught at the caller's return site */
	const struct dwfunc *dw;
	struct tplan plan;
	unsigned nexits;
	struct x86_64_site *exits; /* runtime addresses */
	uint64_t morestack_site;   /* Go: the call to runtime.morestack in the prologue, or 0 */
	unsigned tpnum;		   /* -o: trace-file tracepoint of calls (returns: +1), 0 none */
	uint64_t calls;
	/* the fast path: entry and returns patched to pads, or why a probe traps */
	bool fast_entry;
	unsigned fast_exits;
	char trap_why[96];  /* the first reason a probe of it was not patched, "" */
	struct tfunc *next; /* in the space */
};

/* What a placed probe is for: the ctx of its probe_hit_fn. */
enum tsite_kind { TS_ENTRY, TS_EXIT, TS_MORESTACK, TS_HIT, TS_RETSITE };
struct tsite {
	enum tsite_kind kind;
	struct tfunc *f; /* NULL for TS_RETSITE */
	unsigned exit;	 /* TS_EXIT: index into f->exits */
	struct trace *t;
	pid_t pid; /* TS_RETSITE */
	uint64_t addr;
	unsigned refs; /* TS_RETSITE: frames waiting for it */
	bool go;       /* TS_RETSITE: in Go code (calls matched by goroutine) */
	bool placed;
	bool fast;	    /* a pad, not an int3 */
	uint8_t retry;	    /* a pad was refused because threads ran: tries left later */
	struct tsite *next; /* in the space (or the return-site list) */
};

/* One address space: a process. A followed fork child has its own, whose probes (copied by
 * the engine) still point at the parent's functions and sites: so a space that exits or
 * execs is only marked dead and freed at the end. */
struct tspace {
	pid_t pid;
	bool dead;
	struct module_set *mods;
	struct module *exe; /* the executable's module, NULL if not found */
	struct tmod **tmods;
	size_t ntmods;
	struct tfunc *funcs;
	struct tsite *sites;
	struct tsite *retsites;
	struct agent *agent; /* the fast path's agent in this process, NULL until needed */
	bool agent_failed;
	bool agent_borrowed; /* a followed fork child: its parent's agent (shared rings) */
	struct tspace *next;
};

/* ---- call stacks ---- */
struct tcall {
	struct tfunc *f;
	uint64_t t_ns;
	uint64_t entry_rsp;
	uint64_t ra;	 /* armed return site (0 = none) */
	uint64_t ra_rsp; /* rsp expected at the return site (C) */
	struct tsite *retsite;
	int32_t prev; /* index of the call below, -1 */
	uint64_t span_id, parent_id;
	uint8_t trace_id[16];
	int io_fd;	 /* --correlate's socket probes: the descriptor at entry */
	uint64_t io_seq; /* and, for a write, the connection's event count then */
};

struct tthread {
	pid_t pid;
	uint64_t key; /* tid, or the g pointer for Go */
	bool used;
	bool go;
	int64_t goid;
	int32_t top; /* index into t->calls, -1 when empty */
	int depth;
	struct tfunc *reenter; /* Go: skip the next entry of this function (morestack) */
};

/* ---- the session ---- */
struct trace_unresolved {
	bool resolved;
	uint64_t placed; /* probes placed for this spec */
};

/* otlp_http.c: OTLP requests POSTed by a thread of their own (never blocks the caller). */
struct otlp_http;
struct otlp_http_stats {
	uint64_t sent, requests; /* spans and requests the collector took */
	uint64_t dropped;	 /* spans lost: refused, retries exhausted, queue full, the end */
};
int otlp_http_open(const char *url, bool json, struct otlp_http **out);
void otlp_http_send(void *ctx, const uint8_t *body, size_t len, unsigned nspans); /* a sink */
void otlp_http_close(struct otlp_http *h, struct otlp_http_stats *st);		  /* NULL ok */
const char *otlp_http_url(const struct otlp_http *h);

struct trace_out {
	struct printer *text, *json, *chrome, *otlp, *otlp_file;
	FILE *json_f, *chrome_f, *otlp_f, *otlp_file_f;
	struct otlp_http *http;
	bool status_tty; /* live counters on stderr */
	bool status_shown;
	uint64_t status_last_ns;
};

/* Are arguments shown anywhere? Not with -q and no file or exporter: then they are not
 * collected (results still are: the summary counts errors). */
static inline bool trace_shows_args(const struct tracecli *c)
{
	return c->args && (!c->quiet || c->json_path || c->gdbtrace_path || c->chrome_path ||
			   c->otlp_url || c->otlp_file);
}

struct trace {
	const struct tracecli *cli;
	struct trace_env env;
	uint64_t start_ns;
	struct tspace *spaces;
	struct trace_unresolved specs[TRACECLI_MAX_SPECS];
	/* call state, preallocated: no malloc on the hit path */
	struct tthread *threads; /* open addressing, TRACE_MAX_THREADS * 2 slots */
	size_t nthreads;
	struct tcall *calls;
	int32_t free_call;
	uint64_t dropped_calls; /* no free call record */
	uint64_t seq;
	uint64_t id_state;	 /* span and trace ids: xorshift64*, seeded from getrandom */
	struct netcorr *netcorr; /* --correlate's sockets (netcorr.c), NULL until used */
	uint64_t events;	 /* call + hit events emitted (for -n) */
	bool stopping;		 /* -n reached or asked to stop: no new events */
	bool stop_requested;	 /* the loop must remove the probes */
	struct tsummary *summary;
	struct trace_out out;
	struct trace_tfile *tf; /* -o FILE, NULL without */
	unsigned ntp;		/* trace-file tracepoint numbers handed out */
	pid_t main_pid;
	/* per-event scratch */
	struct tevent ev;
	uint8_t strbuf[TEVENT_MAX_VALUES * 2][TRACE_STR_MAX];
	uint8_t *stackbuf;
	struct treg regs[TRACE_NREGS];
	/* the fast path (stub/agent/) */
	const struct agent_rec *rec; /* the record a fast hit is being handled from */
	bool draining;
	uint64_t fast_dropped;	  /* hits lost on full rings, counted when a process ends */
	bool fast_busy;		  /* the last look found a ring an eighth full */
	uint64_t fast_drained_ns; /* when the rings were last drained (trace_now_ns) */
	bool fast_retry;	  /* some site waits for trace_fast_promote */
	uint64_t fast_retry_ns;
};

/* fast.c: the fast path (pads through stub/agent/) */
/* Try to patch site x (an entry, or a ret exit) instead of an int3. 0 when patched; else
 * -EBUSY with f->trap_why set (the caller places an int3). */
int trace_fast_place(struct trace *t, struct tsite *x);
/* Sites that got an int3 because threads were running when they were placed (a library loaded
 * by one thread while others ran): with the process held, try their pads again. From the
 * event loop only. */
void trace_fast_promote(struct trace *t);
/* An int3 is wanted at addr, inside a pad's patch: the patch goes and its site traps
 * instead. 0 when done. */
int trace_fast_yield(struct trace *t, struct tspace *s, uint64_t addr);
/* Every record of every process (or of s only), oldest first, through trace_handle. */
void trace_fast_drain(struct trace *t, struct tspace *s);
/* The event loop's: drain when a ring fills or the records have waited long enough. */
void trace_fast_tick(struct trace *t);
/* Tracing stops: hits return at once from now on. */
void trace_fast_disable(struct trace *t);
/* s is gone or has exec'd: drain it, free its agent. */
void trace_fast_close(struct trace *t, struct tspace *s);
void trace_fast_thread_gone(struct trace *t, struct tspace *s, pid_t tid);
/* A followed fork child: it writes into its parent's rings (its pads were copied). */
void trace_fast_fork(struct trace *t, struct tspace *parent, struct tspace *child);
/* How soon the rings want draining again (ms; sooner while they come full), -1 without. */
int trace_fast_timeout_ms(const struct trace *t);
/* Per function: fast or trap, and why; hits lost. */
void trace_fast_report(struct trace *t, FILE *f);

/* spaces.c */
struct tspace *trace_space_new(struct trace *t, pid_t pid);
void trace_space_free(struct trace *t, struct tspace *s);
struct tspace *trace_space_find(struct trace *t, pid_t pid);
/* Read the maps again; resolve every spec against modules not seen before (resolve false:
 * only note them, their probes are already there, as in a fork child). 0 or -errno. */
int trace_space_refresh(struct trace *t, struct tspace *s, bool resolve);
/* The process is gone or has exec'd: its probes went with it. */
void trace_space_kill(struct trace *t, struct tspace *s);
/* The module holding runtime address addr, NULL if none. */
struct tmod *trace_mod_at(struct tspace *s, uint64_t addr);
/* Does MODULE of a MODULE:FUNC spec name m ("libpq.so.5" names libpq.so.5.15)? */
bool trace_module_matches(const struct module *m, const char *spec_module);
/* After the trace: report specs that never resolved and functions never called. */
void trace_report_unresolved(struct trace *t, FILE *f);

/* plan.c */
/* Fill f->plan from DWARF (f->dw), a built-in prototype, or the bare ABI. */
void trace_plan_func(struct tfunc *f);

/* protos.c */
struct tproto_arg {
	const char *name;
	enum dwt_kind kind;
};
struct tproto {
	const char *name;
	enum dwt_kind ret;
	unsigned nargs;
	struct tproto_arg args[8];
};
/* By exact name, NULL if none. */
const struct tproto *trace_proto_find(const char *name);
/* The i-th entry (in name order), NULL past the end. */
const struct tproto *trace_proto_at(size_t i);

/* collect.c */
/* netcorr.c (--correlate): an internal socket probe's entry and return on the call stack key
 * (a thread, or a goroutine's g) (by: the traced call that made it, NULL if none); a root
 * call of (pid, key) nests under the server span that thread or goroutine is in (then trace
 * and parent are set, true); a process gone; the end (open server spans out). */
struct netcorr;
struct trace_hitctx;
void netcorr_entry(struct trace_hitctx *hc, struct tcall *c, const struct tcall *by, uint64_t key);
void netcorr_return(struct trace_hitctx *hc, const struct tcall *c, const struct tcall *by,
		    uint64_t key);
bool netcorr_root(struct trace *t, const struct probe_hit *hit, uint64_t key, const struct tfunc *f,
		  uint8_t trace[16], uint64_t *parent);
void netcorr_forget(struct trace *t, pid_t pid);
void netcorr_fini(struct trace *t);

struct trace_hitctx {
	struct trace *t;
	struct tspace *space;
	struct tmod *mod; /* of the function whose values are collected, NULL if none */
	const struct probe_hit *hit;
	bool fp_tried, fp_ok;
	struct user_fpregs_struct fp;
	unsigned nstr; /* string buffers used */
	/* target memory read for values (strings, slice elements), for -o's M blocks */
	struct {
		uint64_t addr;
		const uint8_t *bytes;
		uint16_t len;
	} reads[TEVENT_MAX_VALUES * 2];
	unsigned nreads;
};
/* goerr.c: a non-nil Go error (itab tab, data) of module tm as its message into out[cap]
 * (NUL-terminated); false when it cannot be told (no DWARF, unreadable). */
bool trace_go_error(struct trace_hitctx *hc, struct tmod *tm, uint64_t tab, uint64_t data,
		    char *out, size_t cap);
/* Fetch the hit thread's x87/SSE registers once (hc->fp, hc->fp_ok); true when available. */
bool trace_fpregs(struct trace_hitctx *hc);
/* Read len bytes at addr of the hit's process. 0 or -errno (-EFAULT when short). */
int trace_read(struct trace_hitctx *hc, uint64_t addr, void *buf, size_t len);
/* The same from the live process even when the hit is a pad's record. */
int trace_read_live(struct trace_hitctx *hc, uint64_t addr, void *buf, size_t len);
/* Up to len bytes, as many as are readable: the count or -errno. */
ssize_t trace_read_some(struct trace_hitctx *hc, uint64_t addr, void *buf, size_t len);
/* The arguments (or, results true, the results at a return) of plan pl into out; a struct
 * gives one value per leaf. at_entry: the hit is the function's first instruction. Returns
 * how many values were written (<= cap). */
unsigned trace_collect(struct trace_hitctx *hc, const struct tplan *pl, bool results, bool at_entry,
		       struct tvalue *out, unsigned cap);
/* Go: the goroutine id of g, -1 when unknown. */
int64_t trace_goid(struct trace_hitctx *hc, struct tmod *mod, uint64_t g);

/* extras.c */
/* --stack, --regs, --bt into t->ev. at_entry: the hit is the function's first instruction. */
void trace_collect_extras(struct trace_hitctx *hc, bool at_entry);
/* Symbolise a runtime pc: function name (NULL if none) and module (NULL outside every
 * module); *off from the function's start, or from the module's text when no symbol. */
bool trace_symbolize(struct tspace *s, uint64_t pc, const char **func, const char **module,
		     uint64_t *off);
/* sites.c */
/* f's bytes in its module file (the code as linked, no int3 or patch), *len = f's size; NULL
 * when the file does not hold them. */
const uint8_t *trace_func_code(const struct tfunc *f, size_t *len);
/* The len bytes of the function symbol starting at runtime address start in m's file; NULL
 * when start is not a symbol's start or the file does not hold them. */
const uint8_t *trace_code_at(struct module *m, uint64_t start, size_t len);
/* Place the probes of f (entry or hit, exits, morestack site). 0 or -errno. */
int trace_place(struct trace *t, struct tfunc *f);
/* A return site at ra in pid, shared by every call waiting for it. NULL on failure. */
struct tsite *trace_retsite_get(struct trace *t, struct tspace *s, uint64_t ra);
void trace_retsite_put(struct trace *t, struct tsite *rs);
/* Remove return sites nobody waits for (never from inside a hit). */
void trace_retsite_sweep(struct trace *t);
/* Remove every probe of the session (end of trace, -n reached). */
void trace_remove_all(struct trace *t);
enum probe_verdict trace_on_hit(void *ctx, const struct probe_hit *hit);

/* calls.c */
int trace_calls_init(struct trace *t);
void trace_calls_fini(struct trace *t);
enum probe_verdict trace_handle(struct tsite *site, const struct probe_hit *hit);
/* Forget the threads of pid (exec, exit) or one thread (thread exit). */
void trace_calls_forget(struct trace *t, pid_t pid, pid_t tid);
/* Calls still open (for the report at the end). */
size_t trace_calls_open(const struct trace *t);

/* record.c */
int trace_tfile_open(struct trace *t);
/* One frame for the event at this hit (ret: the function's return tracepoint). */
void trace_tfile_frame(struct trace_hitctx *hc, const struct tfunc *f, bool ret);
/* Checkpoints of the file while the trace runs: ms until the next one is due (-1: none
 * pending), and write it when due (now_ns monotonic). */
int trace_tfile_timeout_ms(const struct trace *t, uint64_t now_ns);
void trace_tfile_tick(struct trace *t, uint64_t now_ns);
/* Write the file, say how to open it in gdb (on out), free. */
void trace_tfile_close(struct trace *t, FILE *out);

/* out.c */
int trace_out_open(struct trace *t);
void trace_out_event(struct trace *t, struct tevent *ev);
/* Redraw the live counter line when due (now_ns monotonic). */
void trace_out_tick(struct trace *t, uint64_t now_ns);
void trace_out_close(struct trace *t);

uint64_t trace_now_ns(void);

#endif
