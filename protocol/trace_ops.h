/* Tracepoint capability of a target (PROTOCOL.md §3). A NULL member = unsupported (the
 * packet gets the empty reply; the qSupported feature it gates is not advertised). Parsed
 * definitions are handed over as plain data with borrowed pointers, valid only during the
 * call: the target copies what it keeps. While a trace frame is selected (select_frame
 * returned a frame), the target answers read_regs/read_mem of struct rsp_target_ops from
 * that frame; the protocol layer keeps no frame state of its own. */
#ifndef TRACESTUB_PROTOCOL_TRACE_OPS_H
#define TRACESTUB_PROTOCOL_TRACE_OPS_H

#include "protocol/target.h"

#define RSP_TP_MASK_BYTES 32 /* R masks cover gdb regnums 0..255 */

/* QTDP:n:addr:E|D:step:pass[:Fflen][:S][:Xlen,cond][-] */
struct rsp_tp_def {
	uint32_t num;
	taddr_t addr;
	bool enabled;
	uint64_t step_count; /* while-stepping steps */
	uint64_t pass_count; /* 0 = no limit */
	bool fast;	     /* F seen: a fast tracepoint was asked for */
	uint32_t fast_len;
	bool is_static;	     /* S seen: static marker */
	const uint8_t *cond; /* condition bytecode (decoded from hex), NULL if none */
	size_t cond_len;
};

enum rsp_tp_action_kind {
	RSP_TPA_REGS,  /* R<hexmask> */
	RSP_TPA_MEM,   /* M<basereg>,<offset>,<len> */
	RSP_TPA_EXPR,  /* X<len>,<hex bytecode> */
	RSP_TPA_SDATA, /* L: static-marker data */
};

/* One action of a QTDP:-n:addr:[S]actions[-] packet. */
struct rsp_tp_action {
	enum rsp_tp_action_kind kind;
	bool stepping; /* in the while-stepping list (the packet started with S) */
	/* The action as sent ("R1ff", "M-1,4040,4", "X0e,2600..."), for upload (qTfP A/S
	 * items) and trace files; not NUL-terminated. */
	const uint8_t *text;
	size_t text_len;
	uint8_t mask[RSP_TP_MASK_BYTES]; /* REGS: bit (regno & 7) of mask[regno >> 3] */
	int64_t basereg;		 /* MEM: -1 = absolute */
	uint64_t offset, len;		 /* MEM */
	const uint8_t *code;		 /* EXPR: bytecode (decoded), verified by the protocol */
	size_t code_len;
};

/* QTDPsrc:n:addr:type:start:slen:hex */
struct rsp_tp_src {
	uint32_t num;
	taddr_t addr;
	const char *type; /* "at", "cond", "cmd" (NUL-terminated, borrowed) */
	uint64_t start, slen;
	const uint8_t *text; /* decoded bytes, len bytes */
	size_t len;
};

/* QTDV:n:value:builtin:hexname, and one item of qTfV/qTsV. */
struct rsp_tsv {
	uint32_t num;
	int64_t initial;
	bool builtin;
	const char *name; /* decoded, NUL-terminated, borrowed */
};

enum rsp_trace_stop {
	RSP_TSTOP_NOT_RUN,	/* tnotrun:0 */
	RSP_TSTOP_USER,		/* tstop[:hexnote]:0 */
	RSP_TSTOP_FULL,		/* tfull:0 */
	RSP_TSTOP_DISCONNECTED, /* tdisconnected:0 */
	RSP_TSTOP_PASSCOUNT,	/* tpasscount:<tp> */
	RSP_TSTOP_ERROR,	/* terror:<hexmsg>:<tp> */
	RSP_TSTOP_UNKNOWN,	/* tunknown:0 */
};

/* qTStatus (and a trace file's status line). Strings borrowed, may be NULL. */
struct rsp_trace_status {
	bool running;
	enum rsp_trace_stop stop;
	uint32_t stop_tp;      /* PASSCOUNT / ERROR */
	const char *error;     /* ERROR: message */
	const char *stop_note; /* USER: tstop note */
	uint64_t frames;       /* tframes */
	uint64_t created;      /* tcreated: frames ever created */
	uint64_t size, free;   /* tsize, tfree: buffer bytes */
	bool circular, disconnected;
	uint64_t start_us, stop_us; /* 0 = unknown */
	const char *user, *notes;
};

/* One tracepoint for upload (qTfP/qTsP) and trace files. Arrays borrowed until the next
 * call of tp_get. */
struct rsp_tp_info {
	struct rsp_tp_def def;
	uint64_t hits, bytes;		     /* qTP: V<hits>:<bytes used> */
	const struct rsp_tp_action *actions; /* text fields set; order as defined */
	size_t nactions;
	const struct rsp_tp_src *srcs;
	size_t nsrcs;
};

enum rsp_tframe_how {
	RSP_TFRAME_NUM,	    /* QTFrame:N (a = N) */
	RSP_TFRAME_PC,	    /* QTFrame:pc:A */
	RSP_TFRAME_TDP,	    /* QTFrame:tdp:T */
	RSP_TFRAME_RANGE,   /* QTFrame:range:A:B (inclusive) */
	RSP_TFRAME_OUTSIDE, /* QTFrame:outside:A:B (exclusive) */
};

/* One item of qXfer:traceframe-info: a collected memory block or a collected TSV. */
struct rsp_tframe_item {
	bool is_tsv;
	taddr_t addr; /* memory */
	uint64_t len;
	uint32_t tsv; /* is_tsv */
};

struct rsp_ro_range {
	taddr_t start, end;
};

/* Every member returns 0 or -errno unless said otherwise. */
struct rsp_trace_ops {
	int (*init)(void *t); /* QTinit: drop tracepoints, TSVs and the buffer */
	/* qTMinFTPILen: the shortest instruction a fast tracepoint may sit on (>= 1; gdb
	 * refuses `ftrace` on shorter ones). Present: FastTracepoints+ is advertised and QTDP's
	 * F field reaches define as def->fast; absent, gdb downloads ftrace as trace. */
	int (*min_fast_len)(void *t);
	/* QTDP: create (or replace) tracepoint def->num at def->addr. The condition was
	 * verified by the protocol. -EEXIST never: a redefinition replaces. */
	int (*define)(void *t, const struct rsp_tp_def *def);
	/* QTDP:-n:addr: actions of an existing tracepoint (-ENOENT otherwise). */
	int (*add_actions)(void *t, uint32_t num, taddr_t addr, const struct rsp_tp_action *acts,
			   size_t n);
	int (*add_source)(void *t, const struct rsp_tp_src *src);
	int (*define_tsv)(void *t, const struct rsp_tsv *v);
	int (*set_ro)(void *t, const struct rsp_ro_range *r, size_t n); /* QTro */
	int (*set_disconnected)(void *t, bool on);			/* QTDisconnected */
	int (*set_circular)(void *t, bool on);				/* QTBuffer:circular */
	int (*set_buffer_size)(void *t, int64_t size);			/* -1 = default */
	/* QTNotes: each NULL = unchanged; decoded NUL-terminated text. */
	int (*set_notes)(void *t, const char *user, const char *notes, const char *tstop);
	int (*start)(void *t); /* QTStart; -EBUSY running; a message via status.error on E.text */
	int (*stop)(void *t);  /* QTStop */
	int (*enable)(void *t, uint32_t num, taddr_t addr, bool on); /* QTEnable / QTDisable */
	int (*status)(void *t, struct rsp_trace_status *out);	     /* qTStatus */
	/* idx-th tracepoint (0-based) in definition order; -ENOENT past the end. */
	int (*tp_get)(void *t, size_t idx, struct rsp_tp_info *out);
	/* qTP:n:addr */
	int (*tp_hits)(void *t, uint32_t num, taddr_t addr, uint64_t *hits, uint64_t *bytes);
	/* idx-th TSV; -ENOENT past the end. */
	int (*tsv_get)(void *t, size_t idx, struct rsp_tsv *out);
	/* qTV:n current value (of the selected frame when one is selected); -ENOENT = U. */
	int (*tsv_value)(void *t, uint32_t num, int64_t *val);
	/* QTFrame: search from the frame after the selected one (NUM: absolute). *frame and
	 * *tp set; -ENOENT = F-1 (nothing selected afterwards). */
	int (*select_frame)(void *t, enum rsp_tframe_how how, uint64_t a, uint64_t b,
			    int64_t *frame, uint32_t *tp);
	int (*unselect_frame)(void *t); /* QTFrame:ffffffff */
	/* qXfer:traceframe-info of the selected frame; *n = total, at most cap filled.
	 * -ENOENT: no frame selected. */
	int (*frame_info)(void *t, struct rsp_tframe_item *out, size_t cap, size_t *n);
	/* qTBuffer:off,len: bytes of the frame stream; *done = 0 at the end; -EINVAL beyond. */
	int (*read_buffer)(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *done);
	int (*save)(void *t, const char *path); /* QTSave: write a trace file */
};

#endif
