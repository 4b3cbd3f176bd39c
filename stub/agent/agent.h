/* stub/agent/: the in-process fast path. tracestub injects a small agent into the traced
 * process (no LD_PRELOAD: launched or attached, any libc or none), maps a shared memory of
 * rings into both processes, and turns a site into a 5-byte jump to a pad near it; the pad
 * calls the agent, which writes one record into the hitting thread's ring and returns; the
 * program never stops. tracestub drains the rings while the program runs and hands each
 * record back as registers plus the memory blocks collected at the hit.
 *
 * A site that cannot be patched safely (see x86_64_patch_plan, live_patch_insert) is refused
 * with the reason: the caller keeps the trap path for it. */
#ifndef TRACESTUB_STUB_AGENT_AGENT_H
#define TRACESTUB_STUB_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "arch/x86_64/pad.h"
#include "stub/agent/ring.h"

/* At a C function's return the stack is kept from this many bytes below rsp: the slots its
 * epilogue popped the callee-saved registers from (six pushes and a spare word), which the
 * CFI at the ret may still name (the red zone, so the program's own bytes). */
#define AGENT_EXIT_BELOW_RSP 48

struct agent;
struct live;

/* The agent's code, built from stub/agent/rt.c (build/agent/blob.c). */
extern const unsigned char agent_blob[];
extern const size_t agent_blob_len;

struct agent_opts {
	uint32_t ring_bytes; /* per thread, power of two >= 64 KiB */
	uint32_t nrings;     /* threads with a ring at once, power of two */
};

/* Inject the agent into pid: its code into scratch near `near` (any mapped code address), a
 * memfd mapped into both processes. The target keeps no file descriptor. 0 or -errno
 * (message in err). */
int agent_open(struct live *l, pid_t pid, uint64_t near, const struct agent_opts *o,
	       struct agent **out, char *err, size_t errcap);
/* Tests: an agent over memory of this process (agent_map_size bytes at map, zeroed), no
 * injection; sites registered with agent_site_local (no patch). */
size_t agent_map_size(const struct agent_opts *o);
int agent_open_mem(void *map, const struct agent_opts *o, pid_t pid, struct agent **out);
uint32_t agent_site_local(struct agent *a, void *owner, uint64_t addr);
/* Unmap tracestub's view. The target keeps its mappings (a thread may be inside a pad). */
void agent_free(struct agent *a);
pid_t agent_pid(const struct agent *a);

struct agent_site_spec {
	const uint8_t *code; /* the function's original bytes, loaded at fstart */
	size_t len;
	uint64_t fstart;
	uint64_t at; /* the probed instruction */
	bool exit;   /* at is a ret (the pad runs the instructions before it first) */
	unsigned nops;
	struct agent_op ops[AGENT_MAX_OPS];
	const uint8_t *cond; /* condition for the agent to evaluate (agent_cond_fits), or NULL */
	uint32_t cond_len;
	/* trace state variables the agent holds (bit n: number n, defined, not built in), or
	 * NULL: expressions using others (or any, with NULL) are not the agent's */
	const uint64_t *tsv_ok;
	bool tsv; /* the condition or an expression uses them: the hit takes the tsv lock */
	/* collect expressions for the agent to run (agent_acts_add), packed */
	uint8_t acts[AGENT_ACTS_MAX];
	uint32_t acts_len;
	uint32_t acts_budget;		/* the most bytes of blocks they may write */
	uint64_t pass;			/* gdb's passcount: its hit stops the recording, 0 none */
	void *owner;			/* handed back with its records */
	const struct x86_64_pad_go *go; /* Go code: the pad's own stack; NULL for C */
};

/* The agent's register (enum agent_reg) holding gdb's register regno (rax..r15, rip: enum
 * x86_64_regno); -1 for the others. */
int agent_reg_of(int regno);
/* Can the agent evaluate this (verified) condition: at most AGENT_COND_MAX bytes, a stack of
 * at most AGENT_COND_DEPTH values (depth: ax_verify's), only the ops it knows (no trace
 * ops, no floats, trace state variables only those tsv_ok names; *uses_tsv (may be NULL)
 * says whether it uses any)? */
bool agent_cond_fits(const uint8_t *code, size_t len, unsigned depth, const uint64_t *tsv_ok,
		     bool *uses_tsv);
/* The agent's trace state variable n (< AGENT_MAX_TSV): set at tstart, read back. */
void agent_tsv_set(struct agent *a, uint32_t n, int64_t v);
int64_t agent_tsv_get(const struct agent *a, uint32_t n);
/* Add a (verified) collect expression for the agent to run at each hit: false when it cannot
 * (ops it does not run: trace state variables, floats, printf; a stack deeper than
 * AGENT_COND_DEPTH; no room left), and then tracestub evaluates it over a stack window. */
bool agent_acts_add(struct agent_site_spec *s, const uint8_t *code, size_t len, unsigned depth);
/* Conditions the agent could not evaluate (read faults, division by zero), all sites. */
uint64_t agent_cond_errors(const struct agent *a);
/* Bytes of the record a site with these ops writes (what its descriptor's rec_len says). */
uint32_t agent_rec_len(const struct agent_op *ops, unsigned nops);
/* Patch a site. 0; -EBUSY with *why when it cannot be patched safely (the caller traps
 * instead); -ENOSPC (no site ids or a record too big for a slot, *why says); -errno. */
int agent_add_site(struct agent *a, const struct agent_site_spec *s, const char **why);
/* The patch over `addr` (one of its bytes) taken out, if a site of this agent has one: its
 * owner, or NULL (none there, or the process's threads are not all stopped). Records already
 * written still come with that owner. */
void *agent_unpatch(struct agent *a, uint64_t addr);
/* Hits return at once from now on (tracing stopped, the patches stay until detach). */
void agent_disable(struct agent *a);
/* make bench's in-process floor: hits save their registers and 64 stack bytes and nothing
 * else (one thread; nothing is drained). */
void agent_floor(struct agent *a);
/* Hits record again (a new run: passcounts start over). */
void agent_enable(struct agent *a);

/* One drained record. */
struct agent_hit {
	void *owner;
	uint64_t addr; /* the site */
	pid_t pid;     /* the process (a fork child writes into its parent's rings) */
	pid_t tid;
	uint64_t time_ns; /* CLOCK_MONOTONIC, from the TSC */
	struct user_regs_struct regs;
	const struct agent_rec *rec;
};
typedef void (*agent_hit_fn)(void *ctx, const struct agent_hit *h);
/* Hand every complete record to fn, oldest first (by timestamp across threads), then free
 * their slots. Returns how many. */
size_t agent_drain(struct agent *a, agent_hit_fn fn, void *ctx);
/* How full the fullest ring is now, in thousandths (no record read): the caller drains
 * sooner when its rings fill (a ring that fills drops hits). */
uint32_t agent_fill_now(const struct agent *a);
/* Bytes [addr, addr+len) from the record's blocks: how many are there from addr on (a block
 * holding addr, up to what the agent got), 0 if none holds addr. */
size_t agent_rec_read(const struct agent_rec *rec, uint64_t addr, void *buf, size_t len);
/* The next trace state variable num the record's expressions used, from block *cursor on
 * (0 at first; moved past it): true with its value, false if there is none. */
bool agent_rec_tsv(const struct agent_rec *rec, uint32_t *cursor, uint32_t num, int64_t *val);
/* Hits of the site owned by owner that were dropped (ring full or busy, no free ring). */
uint64_t agent_dropped(const struct agent *a, const void *owner);
/* A thread is gone: drain first, then its rings are free for others. */
void agent_thread_gone(struct agent *a, pid_t tid);
/* A process is gone (exit, exec): drain first, then every ring it held is free. */
void agent_proc_gone(struct agent *a, pid_t pid);
/* Sites patched. */
unsigned agent_nsites(const struct agent *a);

#endif
