/* Parsers for the text forms of tracepoint data (PROTOCOL.md §3.2, §5.1): the bodies of
 * QTDP, QTDPsrc and QTDV packets, which are also the grammars of a trace file's "tp T",
 * "tp A/S", "tp Z" and "tsv" lines, and the qTStatus / "status" line. Pure functions over
 * (ptr, len), libc only. Decoded bytes and strings go into a caller-given work area; the
 * results point into it and into the input, both borrowed. Every function returns 0 or
 * -EINVAL (malformed; *why, when why is not NULL, then names the problem in static text),
 * -ERANGE (a number too large), -ENOSPC (work area too small) or -E2BIG (too many items). */
#ifndef TRACESTUB_PROTOCOL_TPPARSE_H
#define TRACESTUB_PROTOCOL_TPPARSE_H

#include "protocol/trace_ops.h"

/* A work area: decoded data is appended at mem + used. */
struct rsp_tp_work {
	uint8_t *mem;
	size_t cap, used;
};

/* "n:addr:E|D:step:pass[:F<flen>][:S][:X<len>,<hex>][-]". The condition is decoded into
 * w and verified with ax_verify (refused: -EINVAL). *more = a trailing '-' was present
 * (action packets follow); more may be NULL. */
int rsp_tpparse_def(const uint8_t *p, size_t len, struct rsp_tp_def *def, bool *more,
		    struct rsp_tp_work *w, const char **why);

/* A concatenated action list "R<mask>M<base>,<off>,<len>X<len>,<hex>L..." (no 'S' prefix,
 * no trailing '-'). Up to cap actions into acts, *n = count; each text points into p; X
 * bytecode is decoded into w and verified. An R mask bit beyond RSP_TP_MASK_BYTES * 8 is
 * refused. */
int rsp_tpparse_actions(const uint8_t *p, size_t len, bool stepping, struct rsp_tp_action *acts,
			size_t cap, size_t *n, struct rsp_tp_work *w, const char **why);

/* "n:addr:type:start:slen:hex"; type and text are decoded into w. */
int rsp_tpparse_src(const uint8_t *p, size_t len, struct rsp_tp_src *src, struct rsp_tp_work *w,
		    const char **why);

/* "n:value:builtin:hexname"; value is 64-bit hex (two's complement) or '-'hex. */
int rsp_tpparse_tsv(const uint8_t *p, size_t len, struct rsp_tsv *v, struct rsp_tp_work *w,
		    const char **why);

/* The status grammar of rsp_tpfmt_status (after 'T' or "status "), in any field order, as
 * gdb reads it: unknown fields are skipped, missing ones stay zero, gdbserver's trailing ':'
 * after notes is accepted, the older "tstop:0" form too. Strings are decoded into w
 * (NULL when absent). */
int rsp_tpparse_status(const uint8_t *p, size_t len, struct rsp_trace_status *st,
		       struct rsp_tp_work *w, const char **why);

#endif
