/* Text forms of tracepoint data shared by the qTStatus / qTfP / qTfV replies and the stub's
 * trace-file writer (PROTOCOL.md §3.2, §5.1): pure formatters into a struct rsp_buf, libc
 * only. Each writes one item without any line prefix ("tp ", "tsv ", "status ") and returns
 * 0, or -ENOSPC when the buffer ran out (its overflow flag is then set and the item may be
 * partly written: callers reset or discard the buffer). */
#ifndef TRACESTUB_PROTOCOL_TPFMT_H
#define TRACESTUB_PROTOCOL_TPFMT_H

#include "protocol/buf.h"
#include "protocol/trace_ops.h"

/* "<0|1>;<reason>;tframes:x;tcreated:x;tfree:x;tsize:x;circular:0|1;disconn:0|1;
 * starttime:x;stoptime:x;username:<hex>;notes:<hex>": the qTStatus reply after its 'T' and
 * a trace file's status line after "status ". Reasons as gdbserver spells them: tnotrun:0,
 * tstop:<hexnote>:0 (tstop::0 without a note), tfull:0, tdisconnected:0, tpasscount:<tp>,
 * terror:<hexmsg>:<tp>, tunknown:0. NULL strings are written as empty. */
int rsp_tpfmt_status(struct rsp_buf *b, const struct rsp_trace_status *st);

/* "T<n>:<addr, 16 hex>:<E|D>:<step>:<pass>[:F<len>][:S][:X<len>,<hex cond>]". */
int rsp_tpfmt_tp(struct rsp_buf *b, const struct rsp_tp_def *def);

/* "A<n>:<addr>:<action text>", or "S<n>:..." for a while-stepping action. */
int rsp_tpfmt_action(struct rsp_buf *b, uint32_t num, taddr_t addr,
		     const struct rsp_tp_action *act);

/* "Z<n>:<addr>:<type>:<start>:<slen>:<hex text>". */
int rsp_tpfmt_src(struct rsp_buf *b, const struct rsp_tp_src *src);

/* "V<n>:<addr>:<hits>:<bytes>" (a trace file's "tp V" line; qTP replies lack num/addr). */
int rsp_tpfmt_hits(struct rsp_buf *b, uint32_t num, taddr_t addr, uint64_t hits, uint64_t bytes);

/* "<n>:<initial as 64-bit hex>:<0|1>:<hex name>": a qTfV item and a trace file's tsv line. */
int rsp_tpfmt_tsv(struct rsp_buf *b, const struct rsp_tsv *v);

#endif
