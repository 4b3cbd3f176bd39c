/* Tracepoint ops for the in-memory fake target (fake_target.h, included from there when
 * FAKE_TARGET_TRACE is defined): used by test_pkt_trace.c and fuzz_rsp.c. Keeps copies of
 * what it is given in bounded arrays (refusing with -ENOSPC beyond them), so the fuzzer can
 * throw anything at it. Four fixed trace frames: tp 2 at 0x1010, tp 3 at 0x1020, tp 2 at
 * 0x1010, tp 3 at 0x1024 (a stepping frame); a 0x2100-byte frame stream of bytes i*7+3. */
#ifndef TRACESTUB_TESTS_FAKE_TRACE_H
#define TRACESTUB_TESTS_FAKE_TRACE_H

#include "protocol/trace_ops.h"

#define FT_TPS	    8
#define FT_ACTS	    16
#define FT_SRCS	    8
#define FT_TEXT	    2048
#define FT_TSVS	    8
#define FT_NAME	    32
#define FT_FRAMES   4
#define FT_BUF_SIZE 0x2100

struct fake_tp {
	struct rsp_tp_def def;
	struct rsp_tp_action acts[FT_ACTS];
	struct rsp_tp_src srcs[FT_SRCS];
	size_t nacts, nsrcs;
	uint8_t text[FT_TEXT]; /* copies of conditions, action texts, bytecode, sources */
	size_t text_used;
	uint64_t hits;
};

struct fake_trace {
	struct fake_tp tps[FT_TPS];
	size_t ntps;
	struct rsp_tsv tsvs[FT_TSVS];
	char names[FT_TSVS][FT_NAME];
	size_t ntsvs;
	struct rsp_ro_range ro[4];
	size_t nro;
	bool running, circular, disconnected, stopped_once;
	int64_t bufsize;
	char user[64], notes[64], tstop[64];
	const char *error; /* set by a failed start */
	int64_t frame;	   /* selected frame, -1 = live */
	char saved[64];
	int inits;
};

static const struct {
	uint32_t tp;
	taddr_t pc;
} ft_frames[FT_FRAMES] = {{2, 0x1010}, {3, 0x1020}, {2, 0x1010}, {3, 0x1024}};

static struct fake_trace *ft(void *t)
{
	return ((struct fake *)t)->tr;
}

static struct fake_tp *ft_find(struct fake_trace *tr, uint32_t num, taddr_t addr)
{
	for (size_t i = 0; i < tr->ntps; i++)
		if (tr->tps[i].def.num == num && tr->tps[i].def.addr == addr)
			return &tr->tps[i];
	return NULL;
}

/* Copy n bytes into the tracepoint's text arena (NULL when full). */
static const uint8_t *ft_keep(struct fake_tp *tp, const void *p, size_t n)
{
	if (n > FT_TEXT - tp->text_used)
		return NULL;
	memcpy(tp->text + tp->text_used, p, n);
	tp->text_used += n;
	return tp->text + tp->text_used - n;
}

static int ft_init(void *t)
{
	struct fake_trace *tr = ft(t);
	int inits = tr->inits + 1;
	memset(tr, 0, sizeof(*tr));
	tr->inits = inits;
	tr->frame = -1;
	tr->bufsize = 0x500000;
	return 0;
}

static int ft_define(void *t, const struct rsp_tp_def *def)
{
	struct fake_trace *tr = ft(t);
	struct fake_tp *tp = NULL;
	for (size_t i = 0; i < tr->ntps; i++)
		if (tr->tps[i].def.num == def->num)
			tp = &tr->tps[i];
	if (!tp) {
		if (tr->ntps == FT_TPS)
			return -ENOSPC;
		tp = &tr->tps[tr->ntps++];
	}
	memset(tp, 0, sizeof(*tp));
	tp->def = *def;
	if (def->cond && !(tp->def.cond = ft_keep(tp, def->cond, def->cond_len)))
		return -ENOSPC;
	return 0;
}

static int ft_add_actions(void *t, uint32_t num, taddr_t addr, const struct rsp_tp_action *acts,
			  size_t n)
{
	struct fake_tp *tp = ft_find(ft(t), num, addr);
	if (!tp)
		return -ENOENT;
	if (n > FT_ACTS - tp->nacts)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		struct rsp_tp_action *a = &tp->acts[tp->nacts];
		*a = acts[i];
		a->text = ft_keep(tp, acts[i].text, acts[i].text_len);
		if (!a->text || (a->code && !(a->code = ft_keep(tp, a->code, a->code_len))))
			return -ENOSPC;
		tp->nacts++;
	}
	return 0;
}

static int ft_add_source(void *t, const struct rsp_tp_src *src)
{
	struct fake_tp *tp = ft_find(ft(t), src->num, src->addr);
	struct rsp_tp_src *d;
	if (!tp)
		return -ENOENT;
	if (tp->nsrcs == FT_SRCS)
		return -ENOSPC;
	d = &tp->srcs[tp->nsrcs];
	*d = *src;
	d->type = (const char *)ft_keep(tp, src->type, strlen(src->type) + 1);
	d->text = ft_keep(tp, src->text, src->len);
	if (!d->type || (src->len && !d->text))
		return -ENOSPC;
	tp->nsrcs++;
	return 0;
}

static int ft_define_tsv(void *t, const struct rsp_tsv *v)
{
	struct fake_trace *tr = ft(t);
	size_t i;
	if (strlen(v->name) >= FT_NAME)
		return -ENAMETOOLONG;
	for (i = 0; i < tr->ntsvs && tr->tsvs[i].num != v->num; i++)
		;
	if (i == FT_TSVS)
		return -ENOSPC;
	if (i == tr->ntsvs)
		tr->ntsvs++;
	tr->tsvs[i] = *v;
	snprintf(tr->names[i], FT_NAME, "%s", v->name);
	tr->tsvs[i].name = tr->names[i];
	return 0;
}

static int ft_set_ro(void *t, const struct rsp_ro_range *r, size_t n)
{
	struct fake_trace *tr = ft(t);
	if (n > 4)
		return -E2BIG;
	memcpy(tr->ro, r, n * sizeof(*r));
	tr->nro = n;
	return 0;
}

static int ft_set_disconnected(void *t, bool on)
{
	ft(t)->disconnected = on;
	return 0;
}

static int ft_set_circular(void *t, bool on)
{
	ft(t)->circular = on;
	return 0;
}

static int ft_set_buffer_size(void *t, int64_t size)
{
	struct fake_trace *tr = ft(t);
	if (tr->running)
		return -EBUSY;
	tr->bufsize = size < 0 ? 0x500000 : size;
	return 0;
}

static int ft_set_notes(void *t, const char *user, const char *notes, const char *tstop)
{
	struct fake_trace *tr = ft(t);
	if (user)
		snprintf(tr->user, sizeof(tr->user), "%s", user);
	if (notes)
		snprintf(tr->notes, sizeof(tr->notes), "%s", notes);
	if (tstop)
		snprintf(tr->tstop, sizeof(tr->tstop), "%s", tstop);
	return 0;
}

static int ft_start(void *t)
{
	struct fake_trace *tr = ft(t);
	if (tr->running)
		return -EBUSY;
	if (!tr->ntps) {
		tr->error = "no tracepoints # defined";
		return -EINVAL;
	}
	tr->error = NULL;
	tr->running = true;
	return 0;
}

static int ft_stop(void *t)
{
	struct fake_trace *tr = ft(t);
	tr->running = false;
	tr->stopped_once = true;
	return 0;
}

static int ft_enable(void *t, uint32_t num, taddr_t addr, bool on)
{
	struct fake_tp *tp = ft_find(ft(t), num, addr);
	if (!tp)
		return -ENOENT;
	tp->def.enabled = on;
	return 0;
}

static int ft_status(void *t, struct rsp_trace_status *st)
{
	struct fake_trace *tr = ft(t);
	st->running = tr->running;
	st->stop = tr->stopped_once ? RSP_TSTOP_USER : RSP_TSTOP_NOT_RUN;
	st->stop_note = tr->tstop[0] ? tr->tstop : NULL;
	st->error = tr->error;
	st->frames = st->created = tr->stopped_once ? FT_FRAMES : 0;
	st->size = (uint64_t)tr->bufsize;
	st->free = st->size - (st->frames ? FT_BUF_SIZE : 0);
	st->circular = tr->circular;
	st->disconnected = tr->disconnected;
	st->start_us = tr->stopped_once ? 0x10 : 0;
	st->stop_us = tr->stopped_once ? 0x20 : 0;
	st->user = tr->user;
	st->notes = tr->notes[0] ? tr->notes : NULL;
	return 0;
}

static int ft_tp_get(void *t, size_t idx, struct rsp_tp_info *out)
{
	struct fake_trace *tr = ft(t);
	struct fake_tp *tp;
	if (idx >= tr->ntps)
		return -ENOENT;
	tp = &tr->tps[idx];
	out->def = tp->def;
	out->hits = tp->hits;
	out->actions = tp->acts;
	out->nactions = tp->nacts;
	out->srcs = tp->srcs;
	out->nsrcs = tp->nsrcs;
	return 0;
}

static int ft_tp_hits(void *t, uint32_t num, taddr_t addr, uint64_t *hits, uint64_t *bytes)
{
	struct fake_tp *tp = ft_find(ft(t), num, addr);
	if (!tp)
		return -ENOENT;
	*hits = num == 2 ? 2 : 1;
	*bytes = *hits * 0x40;
	return 0;
}

static int ft_tsv_get(void *t, size_t idx, struct rsp_tsv *out)
{
	struct fake_trace *tr = ft(t);
	if (idx >= tr->ntsvs)
		return -ENOENT;
	*out = tr->tsvs[idx];
	return 0;
}

static int ft_tsv_value(void *t, uint32_t num, int64_t *val)
{
	struct fake_trace *tr = ft(t);
	for (size_t i = 0; i < tr->ntsvs; i++) {
		if (tr->tsvs[i].num != num)
			continue;
		/* In a frame only TSV 2 was collected (value 5 * frame + 5). */
		if (tr->frame >= 0 && num != 2)
			return -ENOENT;
		*val = tr->frame >= 0 ? 5 * tr->frame + 5 : tr->tsvs[i].initial;
		return 0;
	}
	return -ENOENT;
}

static bool ft_frame_matches(enum rsp_tframe_how how, int64_t i, uint64_t a, uint64_t b)
{
	taddr_t pc = ft_frames[i].pc;
	switch (how) {
	case RSP_TFRAME_PC:
		return pc == a;
	case RSP_TFRAME_TDP:
		return ft_frames[i].tp == a;
	case RSP_TFRAME_RANGE:
		return pc >= a && pc <= b;
	case RSP_TFRAME_OUTSIDE:
		return pc < a || pc > b;
	default:
		return false;
	}
}

static int ft_select_frame(void *t, enum rsp_tframe_how how, uint64_t a, uint64_t b, int64_t *frame,
			   uint32_t *tp)
{
	struct fake_trace *tr = ft(t);
	int64_t found = -1;
	if (how == RSP_TFRAME_NUM) {
		found = a < FT_FRAMES ? (int64_t)a : -1;
	} else {
		for (int64_t i = tr->frame + 1; i < FT_FRAMES && found < 0; i++)
			if (ft_frame_matches(how, i, a, b))
				found = i;
	}
	tr->frame = found;
	if (found < 0)
		return -ENOENT;
	*frame = found;
	*tp = ft_frames[found].tp;
	return 0;
}

static int ft_unselect_frame(void *t)
{
	ft(t)->frame = -1;
	return 0;
}

static int ft_frame_info(void *t, struct rsp_tframe_item *out, size_t cap, size_t *n)
{
	struct fake_trace *tr = ft(t);
	const struct rsp_tframe_item items[3] = {
		{false, 0x1000, 4, 0},
		{false, 0x2000 + (taddr_t)tr->frame * 0x10, 0x10, 0},
		{true, 0, 0, 2},
	};
	if (tr->frame < 0)
		return -ENOENT;
	*n = 3;
	memcpy(out, items, (cap < 3 ? cap : 3) * sizeof(*out));
	return 0;
}

static int ft_read_buffer(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *done)
{
	if (off > FT_BUF_SIZE)
		return -EINVAL;
	*done = FT_BUF_SIZE - off < len ? FT_BUF_SIZE - off : len;
	for (size_t i = 0; i < *done; i++)
		buf[i] = (uint8_t)((off + i) * 7 + 3);
	return 0;
}

static int ft_save(void *t, const char *path)
{
	if (!strcmp(path, "/bad"))
		return -EACCES;
	snprintf(ft(t)->saved, sizeof(ft(t)->saved), "%s", path);
	return 0;
}

static const struct rsp_trace_ops fake_trace_ops = {
	.init = ft_init,
	.define = ft_define,
	.add_actions = ft_add_actions,
	.add_source = ft_add_source,
	.define_tsv = ft_define_tsv,
	.set_ro = ft_set_ro,
	.set_disconnected = ft_set_disconnected,
	.set_circular = ft_set_circular,
	.set_buffer_size = ft_set_buffer_size,
	.set_notes = ft_set_notes,
	.start = ft_start,
	.stop = ft_stop,
	.enable = ft_enable,
	.status = ft_status,
	.tp_get = ft_tp_get,
	.tp_hits = ft_tp_hits,
	.tsv_get = ft_tsv_get,
	.tsv_value = ft_tsv_value,
	.select_frame = ft_select_frame,
	.unselect_frame = ft_unselect_frame,
	.frame_info = ft_frame_info,
	.read_buffer = ft_read_buffer,
	.save = ft_save,
};

/* After fake_init: attach tracepoint state tr (reset) and the trace ops. */
static inline void fake_trace_init(struct fake *f, struct fake_trace *tr,
				   struct rsp_target_ops *ops)
{
	f->tr = tr;
	ft_init(f);
	ops->trace = &fake_trace_ops;
}

#endif
