/* The memory tracestub and its in-process agent share (a memfd mapped into both): one header,
 * a thread table and one ring per traced thread. Plain layout, no functions: included by the
 * freestanding agent (stub/agent/rt.c) and by tracestub (stub/agent/agent.c).
 *
 * A ring has one producer, the thread it belongs to (so a hit takes no lock and no atomic
 * read-modify-write), and one consumer, tracestub, which drains it while the program runs.
 * Records have the length they need (a multiple of 32 bytes). The producer writes one at byte
 * offset `head` (a record that would cross the ring's end is preceded by a skip record
 * filling the rest), then publishes it by storing seq = head + 1 with release order and
 * advancing head; tracestub reads records up to head and then advances tail.
 * A full ring drops the hit and counts it per site: hits = records drained + dropped, never
 * a silent loss. A hit from a signal handler interrupting a hit of the same thread is
 * dropped and counted the same way (the ring is busy). */
#ifndef TRACESTUB_STUB_AGENT_RING_H
#define TRACESTUB_STUB_AGENT_RING_H

#include <stdint.h>

#define AGENT_MAGIC 0x3174736563617274ull /* "tracest1" */
/* make bench's in-process floor: a hit saves its 16 registers and 64 stack bytes into ring
 * 0's records, one after another (no clock, no thread id, no atomic, nothing published) */
#define AGENT_FLOOR	 0x726f6f6c66747374ull /* "tstfloor" */
#define AGENT_VERSION	 1
#define AGENT_MAX_SITES	 1024
#define AGENT_MAX_OPS	 8
#define AGENT_NREGS	 18   /* agent_gregs (16 words) + rsp + rip */
#define AGENT_COND_MAX	 256  /* bytes of a condition the agent evaluates (agent expression) */
#define AGENT_COND_DEPTH 32   /* its stack, in values (tracestub checks the depth first) */
#define AGENT_ACTS_MAX	 1024 /* bytes of a site's collect expressions, packed */
#define AGENT_MAX_TSV	 256  /* trace state variables the agent knows: numbers 0..255 */
/* A record's block for a trace state variable (getv, setv or tracev of an expression, in the
 * order they ran): addr AGENT_TSV_BLK + its number (no user address is this high), 8 bytes,
 * the value. */
#define AGENT_TSV_BLK	       0xffffffffffff0000ull
#define AGENT_GLIBC_TID_OFFSET 0x2d0 /* struct pthread's tid (glibc >= 2.26, x86_64); checked */

/* General registers as the pad pushes them (lowest address first). */
enum agent_reg {
	AGENT_R15,
	AGENT_R14,
	AGENT_R13,
	AGENT_R12,
	AGENT_R11,
	AGENT_R10,
	AGENT_R9,
	AGENT_R8,
	AGENT_RDI,
	AGENT_RSI,
	AGENT_RBP,
	AGENT_RBX,
	AGENT_RDX,
	AGENT_RCX,
	AGENT_RAX,
	AGENT_RFLAGS,
	AGENT_RSP, /* computed: where rsp was at the site */
	AGENT_RIP, /* the site's address */
};

/* What one op collects. MEM: len bytes at reg + off. STR: up to len bytes of the C string
 * whose address is reg + off (stops at the first NUL, a page it cannot read ends it).
 * GOSTR: a Go string or slice: its address in reg, its length in the register off & 0xff,
 * times the element size (off >> 8 & 0xff, 0 meaning 1), up to len bytes.
 * CXXSTR: a libstdc++ std::string at the address in reg: its `off` bytes (data pointer, then
 * length), then up to len bytes of its characters: two blocks. */
enum agent_op_kind {
	AGENT_OP_MEM = 1,
	AGENT_OP_STR = 2,
	AGENT_OP_GOSTR = 3,
	AGENT_OP_CXXSTR = 4,
	AGENT_OP_PSTR = 5, /* a C string whose pointer is the 8 bytes at reg + off (a slot) */
};

struct agent_op {
	uint8_t kind, reg; /* enum agent_op_kind, enum agent_reg */
	uint16_t len;
	int32_t off;
};

#define AGENT_RSP_SAVED UINT64_MAX

/* A site as the pad hands it to the agent (it lives in the pad, read-only). */
struct agent_site {
	uint32_t id; /* < AGENT_MAX_SITES */
	uint32_t nops;
	uint32_t rec_len;  /* bytes of its record, AGENT_REC_ALIGN-aligned (tracestub computes) */
	uint32_t tsv;	   /* its condition or expressions use trace state variables: the hit
			    * holds the header's tsv_lock from the condition to the record's end */
	uint64_t addr;	   /* the probed instruction (a return site: the `ret`) */
	uint64_t red_zone; /* bytes the pad skipped below rsp before saving (128 or 0), or
			    * AGENT_RSP_SAVED: the site's rsp is the frame's 17th word (Go) */
	/* gdb's passcount: the hit that makes it (the site's hits counted in the header) is
	 * recorded and stops the agent (every site, as tracestub stops the run); 0: none */
	uint64_t pass;
	struct agent_op ops[AGENT_MAX_OPS];
	/* gdb's condition, evaluated before anything is written: false or an error (a read
	 * that faults, a division by zero) and the hit records nothing. cond_len 0: none.
	 * Reg, ref, const, arithmetic, comparison, jump and trace state variable ops (no
	 * trace ops, no floats: those conditions are evaluated by tracestub on the record). */
	uint32_t cond_len;
	/* gdb's collect expressions (X actions), run after the ops: [length (2 bytes,
	 * little-endian)][bytecode] each. Their trace ops write blocks, their memory reads
	 * too; the record ends where they stopped (rec_len is the most they may write). */
	uint32_t acts_len;
	uint8_t cond[AGENT_COND_MAX];
	uint8_t acts[AGENT_ACTS_MAX];
};

/* One collected block inside a record: addr, bytes asked, bytes got (0..len), then the
 * bytes, padded to 8. */
struct agent_blk {
	uint64_t addr;
	uint32_t len;
	uint32_t got;
};

#define AGENT_REC_ALIGN 32
#define AGENT_SITE_SKIP 0xffffffffu /* a skip record: len bytes to the ring's end */

struct agent_rec {
	uint64_t seq;  /* its byte offset in the ring (not wrapped) + 1, once complete */
	uint32_t len;  /* bytes of this record, header included, a multiple of 32 */
	uint32_t site; /* AGENT_SITE_SKIP: nothing but len is valid */
	uint64_t tsc;
	int32_t tid;
	int32_t pid;
	uint16_t nblk;
	uint16_t flags; /* AGENT_REC_AFTER_LOSS: hits of this thread were dropped just before */
	uint64_t fs;	/* the thread's fs base (0 if unknown) */
	uint64_t regs[AGENT_NREGS];
	/* struct agent_blk blocks follow */
};

#define AGENT_REC_AFTER_LOSS 1

struct agent_ring {
	/* read by every thread looking for its ring (open addressing by tid): written only
	 * when the ring is claimed or freed, never per hit */
	int32_t tid; /* owner; 0 = free; claimed by the thread with a compare-exchange */
	int32_t pid; /* the owner's process (getpid when claimed: forks share the rings) */
	uint64_t pad_owner[7];
	/* the producer's, written per hit (its own cache line: another thread's probe for its
	 * ring never pulls it away) */
	uint64_t head;	      /* written by the producer only */
	uint32_t busy;	      /* the producer is inside a hit (a nested hit drops) */
	uint32_t lost;	      /* a hit was dropped since the last record (the next one says so) */
	uint64_t cond_errors; /* conditions that failed to evaluate (counted as false) */
	/* Stack pages [stk_lo, stk_hi) the kernel read for this thread, from the page holding
	 * its rsp upward: read directly while rsp stays in them (a thread's stack above its
	 * rsp stays mapped while it runs there). Reset when the ring is claimed. */
	uint64_t stk_lo, stk_hi;
	uint64_t pad0[3];
	uint64_t tail; /* written by tracestub only */
	uint64_t pad1[7];
	/* hits dropped (ring full or busy), per site */
	uint64_t dropped[AGENT_MAX_SITES];
	/* ring_bytes bytes of records follow */
};

struct agent_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t nrings;      /* power of two */
	uint32_t ring_bytes;  /* per ring, power of two */
	uint32_t rec_max;     /* the biggest record a site may write */
	uint64_t ring_off;    /* from the header to ring 0 */
	uint64_t ring_stride; /* bytes per ring, records included */
	int32_t pid;	      /* the process the agent was injected into */
	int32_t tid_off;      /* glibc: offset of the tid in the thread block at fs:0; 0 =
			       * ask the kernel (gettid) */
	uint32_t fsgsbase;    /* rdfsbase is usable */
	uint32_t pad;
	uint64_t nofree;   /* hits dropped because every ring was taken */
	uint32_t tsv_lock; /* held by a hit whose site uses trace state variables */
	uint32_t pad2;
	uint64_t floor_at; /* AGENT_FLOOR: where the next hit's bytes go in ring 0 */
	uint64_t reserved[6];
	/* gdb's trace state variables by number (tracestub sets them at tstart and reads them
	 * back; a site's getv/setv use them at the hit, under tsv_lock) */
	int64_t tsv[AGENT_MAX_TSV];
	/* hits of each site with a passcount (counted after its condition) */
	uint64_t site_hits[AGENT_MAX_SITES];
};

#endif
