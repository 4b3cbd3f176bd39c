/* The trace file's definitions (tp, tsv and status lines, parsed with the protocol's own
 * parsers) and the tracepoint ops over the replayed frames: qTStatus, the qTfP/qTfV
 * uploads, qTV, QTFrame in all its forms (gdb's tfind family), traceframe-info and
 * qTBuffer (so tsave works here too). A selected trace frame is only a view: the present of
 * the replay stays where continue and step left it. */
#include "stub/replay/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/hex.h"
#include "protocol/tpparse.h"
#include "stub/tracefile/tracefile.h"

/* A work area for one line, kept as long as the definitions. */
static int work_for(struct replay *r, size_t len, struct rsp_tp_work *w)
{
	void **v = realloc(r->work, (r->nwork + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->work = v;
	w->cap = 2 * len + 256;
	w->used = 0;
	if (!(w->mem = malloc(w->cap)))
		return -ENOMEM;
	r->work[r->nwork++] = w->mem;
	return 0;
}

struct replay_tp *replay_tp_find(struct replay *r, uint32_t num)
{
	for (size_t i = 0; i < r->ntps; i++)
		if (r->tps[i].def.num == num)
			return &r->tps[i];
	return NULL;
}

/* "n:addr:" at the start of a tp line's body; *rest after it. */
static int num_addr(const uint8_t *p, const uint8_t *end, uint32_t *num, taddr_t *addr,
		    const uint8_t **rest)
{
	uint64_t n, a;

	if (rsp_hex_scan_u64(&p, end, &n) || n > UINT32_MAX || p >= end || *p++ != ':' ||
	    rsp_hex_scan_u64(&p, end, &a) || p >= end || *p++ != ':')
		return -EINVAL;
	*num = (uint32_t)n;
	*addr = a;
	*rest = p;
	return 0;
}

static int add_tp(struct replay *r, const uint8_t *p, size_t len, struct rsp_tp_work *w,
		  const char **why)
{
	struct replay_tp *v = realloc(r->tps, (r->ntps + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->tps = v;
	memset(&v[r->ntps], 0, sizeof(*v));
	if (rsp_tpparse_def(p, len, &v[r->ntps].def, NULL, w, why))
		return -EINVAL;
	r->ntps++;
	return 0;
}

static int add_actions(struct replay_tp *tp, const uint8_t *p, size_t len, bool stepping,
		       struct rsp_tp_work *w, const char **why)
{
	struct rsp_tp_action acts[64], *v;
	size_t n = 0;

	if (rsp_tpparse_actions(p, len, stepping, acts, 64, &n, w, why))
		return -EINVAL;
	v = realloc(tp->acts, (tp->nacts + n) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	tp->acts = v;
	memcpy(v + tp->nacts, acts, n * sizeof(*v));
	tp->nacts += n;
	return 0;
}

static int add_src(struct replay_tp *tp, const uint8_t *p, size_t len, struct rsp_tp_work *w,
		   const char **why)
{
	struct rsp_tp_src *v = realloc(tp->srcs, (tp->nsrcs + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	tp->srcs = v;
	return rsp_tpparse_src(p, len, &v[tp->nsrcs++], w, why) ? -EINVAL : 0;
}

/* One "tp" line: T defines, A/S/Z/V add to the tracepoint they name. */
static int tp_line(struct replay *r, const char *line, const char **why)
{
	const uint8_t *p = (const uint8_t *)line + 1, *end = p + strlen(line + 1), *rest;
	struct rsp_tp_work w;
	struct replay_tp *tp;
	uint32_t num;
	taddr_t addr;
	uint64_t hits, bytes;
	int rc = work_for(r, strlen(line), &w);

	if (rc)
		return rc;
	if (line[0] == 'T')
		return add_tp(r, p, (size_t)(end - p), &w, why);
	if (num_addr(p, end, &num, &addr, &rest)) {
		*why = "bad tracepoint number or address";
		return -EINVAL;
	}
	if (!(tp = replay_tp_find(r, num)))
		return 0; /* gdb ignores those too */
	switch (line[0]) {
	case 'A':
	case 'S':
		return add_actions(tp, rest, (size_t)(end - rest), line[0] == 'S', &w, why);
	case 'Z':
		return add_src(tp, p, (size_t)(end - p), &w, why);
	case 'V':
		if (rsp_hex_scan_u64(&rest, end, &hits) || rest >= end || *rest++ != ':' ||
		    rsp_hex_scan_u64(&rest, end, &bytes))
			return 0;
		tp->hits = hits;
		tp->bytes = bytes;
		return 0;
	default:
		return 0;
	}
}

/* Which registers a tracepoint's frames hold: tracestub's live collection fetches x87/SSE/AVX
 * only when an R mask asks for one of them; the headless tracer (no actions recorded) always
 * fetches x87/SSE and never AVX. */
static void regs_rule(struct replay_tp *tp)
{
	tp->fp = !tp->nacts;
	for (size_t i = 0; i < tp->nacts; i++) {
		const struct rsp_tp_action *a = &tp->acts[i];

		if (a->kind != RSP_TPA_REGS)
			continue;
		for (unsigned reg = X86_64_ST0; reg < X86_64_NREGS; reg++)
			if (reg != X86_64_ORIG_RAX && reg != X86_64_FS_BASE &&
			    reg != X86_64_GS_BASE && (a->mask[reg >> 3] >> (reg & 7) & 1))
				tp->fp = tp->avx = true;
	}
}

static int tsv_line(struct replay *r, const char *line, const char **why)
{
	struct rsp_tsv *v = realloc(r->tsvs, (r->ntsvs + 1) * sizeof(*v));
	struct rsp_tp_work w;
	int rc;

	if (!v)
		return -ENOMEM;
	r->tsvs = v;
	if ((rc = work_for(r, strlen(line), &w)))
		return rc;
	if (rsp_tpparse_tsv((const uint8_t *)line, strlen(line), &v[r->ntsvs], &w, why))
		return -EINVAL;
	r->ntsvs++;
	return 0;
}

int replay_defs_load(struct replay *r, char *err, size_t errlen)
{
	const struct tfile *tf = r->tf;
	const char *why = NULL;
	struct rsp_tp_work w;
	int rc = 0;

	for (size_t i = 0; i < tf->ntps && !rc; i++)
		rc = tp_line(r, tf->tps[i], &why);
	for (size_t i = 0; i < tf->ntsvs && !rc; i++)
		rc = tsv_line(r, tf->tsvs[i], &why);
	r->status.stop = RSP_TSTOP_UNKNOWN;
	if (!rc && tf->status && !(rc = work_for(r, strlen(tf->status), &w)) &&
	    rsp_tpparse_status((const uint8_t *)tf->status, strlen(tf->status), &r->status, &w,
			       &why))
		rc = -EINVAL;
	r->status.running = false; /* whatever it was then, it is over */
	for (size_t i = 0; i < r->ntps; i++)
		regs_rule(&r->tps[i]);
	if (rc)
		snprintf(err, errlen, "%s",
			 rc == -ENOMEM ? "out of memory"
			 : why	       ? why
				       : "bad definition line");
	return rc;
}

void replay_defs_free(struct replay *r)
{
	for (size_t i = 0; i < r->ntps; i++) {
		free(r->tps[i].acts);
		free(r->tps[i].srcs);
	}
	free(r->tps);
	free(r->tsvs);
	for (size_t i = 0; i < r->nwork; i++)
		free(r->work[i]);
	free(r->work);
}

/* ---- the ops ---- */

static int op_status(void *t, struct rsp_trace_status *out)
{
	*out = replay_of(t)->status;
	return 0;
}

static int op_tp_get(void *t, size_t idx, struct rsp_tp_info *out)
{
	struct replay *r = t;
	const struct replay_tp *tp;

	if (idx >= r->ntps)
		return -ENOENT;
	tp = &r->tps[idx];
	*out = (struct rsp_tp_info){tp->def,   tp->hits, tp->bytes, tp->acts,
				    tp->nacts, tp->srcs, tp->nsrcs};
	return 0;
}

static int op_tp_hits(void *t, uint32_t num, taddr_t addr, uint64_t *hits, uint64_t *bytes)
{
	struct replay_tp *tp = replay_tp_find(t, num);

	if (!tp)
		return -ENOENT;
	*hits = tp->hits;
	*bytes = tp->bytes;
	return 0;
}

static int op_tsv_get(void *t, size_t idx, struct rsp_tsv *out)
{
	struct replay *r = t;

	if (idx >= r->ntsvs)
		return -ENOENT;
	*out = r->tsvs[idx];
	return 0;
}

static int cur_frame(const struct replay *r, struct tracebuf_frame *fr)
{
	int64_t idx = r->tsel >= 0 ? r->tsel : r->pos;

	return tracebuf_frame(r->tb, r->h.fr[idx].num, fr);
}

static int op_tsv_value(void *t, uint32_t num, int64_t *val)
{
	struct tracebuf_frame fr;

	if (cur_frame(t, &fr))
		return -ENOENT;
	return tracebuf_frame_tsv(&fr, (int32_t)num, val);
}

/* gdb and gdbserver compare the tracepoint's address, not the pc in the frame. */
static bool frame_matches(struct replay *r, int64_t i, enum rsp_tframe_how how, uint64_t a,
			  uint64_t b)
{
	const struct replay_frame *fr = &r->h.fr[i];
	struct replay_tp *tp = replay_tp_find(r, fr->tp);
	taddr_t pc = tp ? tp->def.addr : fr->pc;

	switch (how) {
	case RSP_TFRAME_PC:
		return pc == a;
	case RSP_TFRAME_TDP:
		return fr->tp == a;
	case RSP_TFRAME_RANGE:
		return pc >= a && pc <= b;
	case RSP_TFRAME_OUTSIDE:
		return pc < a || pc > b;
	default:
		return false;
	}
}

static int op_select_frame(void *t, enum rsp_tframe_how how, uint64_t a, uint64_t b, int64_t *frame,
			   uint32_t *tp)
{
	struct replay *r = t;
	int64_t i = -1;

	if (how == RSP_TFRAME_NUM)
		i = a < r->h.n ? (int64_t)a : -1;
	else
		for (int64_t k = r->tsel + 1; k < (int64_t)r->h.n && i < 0; k++)
			if (frame_matches(r, k, how, a, b))
				i = k;
	r->tsel = i;
	if (i < 0)
		return -ENOENT;
	*frame = i;
	*tp = r->h.fr[i].tp;
	return 0;
}

static int op_unselect_frame(void *t)
{
	replay_of(t)->tsel = -1;
	return 0;
}

static int op_frame_info(void *t, struct rsp_tframe_item *out, size_t cap, size_t *n)
{
	struct replay *r = t;
	struct tracebuf_frame fr;
	struct tracebuf_block b;
	size_t off = 0;

	*n = 0;
	if (r->tsel < 0 || cur_frame(r, &fr))
		return -ENOENT;
	while (tracebuf_next_block(&fr, &off, &b) == 1) {
		struct rsp_tframe_item it = {.is_tsv = b.type == 'V',
					     .addr = b.addr,
					     .len = b.len,
					     .tsv = (uint32_t)b.tsv};

		if (b.type == 'R')
			continue;
		if (*n < cap)
			out[*n] = it;
		(*n)++;
	}
	return 0;
}

static int op_read_buffer(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *done)
{
	return tracebuf_read(replay_of(t)->tb, off, buf, len, done);
}

const struct rsp_trace_ops replay_trace_ops = {
	.status = op_status,
	.tp_get = op_tp_get,
	.tp_hits = op_tp_hits,
	.tsv_get = op_tsv_get,
	.tsv_value = op_tsv_value,
	.select_frame = op_select_frame,
	.unselect_frame = op_unselect_frame,
	.frame_info = op_frame_info,
	.read_buffer = op_read_buffer,
};
