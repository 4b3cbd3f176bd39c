/* Tracepoint definitions, trace state variables, settings and the run state of the live
 * target's gdb tracepoints (PROTOCOL.md §3). Definitions are copied out of the borrowed
 * packet data; starting a run installs one internal probe per tracepoint (several may share
 * an address) and stopping it removes them. Collection itself lives in hit.c, the
 * layer over the live target's ops in layer.c. */
#include "stub/tracepoints/internal.h"

#include "stub/agent/agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "stub/live/live.h"
#include "stub/tracefile/tracefile.h"

uint64_t tpoints_now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static void copy_note(char *dst, const char *src)
{
	snprintf(dst, LT_NOTE_MAX, "%s", src ? src : "");
}

void tpoints_end_run(struct tpoints *tr, enum rsp_trace_stop why, uint32_t tp, const char *msg)
{
	if (!tr->running)
		return;
	tr->running = false;
	tr->stop = why;
	tr->stop_tp = tp;
	tr->stop_us = tpoints_now_us();
	snprintf(tr->error, sizeof(tr->error), "%s", msg ? msg : "");
}

struct tpoints_tp *tpoints_find(struct tpoints *tr, uint32_t num, taddr_t addr)
{
	for (size_t i = 0; i < tr->ntps; i++)
		if (tr->tps[i]->def.num == num && tr->tps[i]->def.addr == addr)
			return tr->tps[i];
	return NULL;
}

struct tpoints_tp *tpoints_find_num(struct tpoints *tr, uint32_t num)
{
	for (size_t i = 0; i < tr->ntps; i++)
		if (tr->tps[i]->def.num == num)
			return tr->tps[i];
	return NULL;
}

struct tpoints_tsv *tpoints_tsv(struct tpoints *tr, uint32_t num)
{
	for (size_t i = 0; i < tr->ntsvs; i++)
		if (tr->tsvs[i].num == num)
			return &tr->tsvs[i];
	return NULL;
}

static void uninstall(struct tpoints *tr, struct tpoints_tp *tp)
{
	if (!tp->installed)
		return;
	if (tp->fast)
		tpoints_fast_uninstall(tr, tp);
	else
		live_probe_remove(tr->l, tp->pid, tp->def.addr, tpoints_on_hit, tp);
	tp->installed = false;
}

/* An ftrace as a pad when it can be one, else (and every other tracepoint) an int3. */
static int install(struct tpoints *tr, struct tpoints_tp *tp, pid_t pid)
{
	int rc = 0;

	tp->why_trap = NULL;
	if (!tp->def.fast || tpoints_fast_install(tr, tp, pid))
		rc = live_probe_insert(tr->l, pid, tp->def.addr, tpoints_on_hit, tp);
	if (!rc) {
		tp->installed = true;
		tp->pid = pid;
	}
	return rc;
}

static void tp_free(struct tpoints *tr, struct tpoints_tp *tp)
{
	uninstall(tr, tp);
	for (size_t i = 0; i < tp->nacts; i++) {
		free((void *)tp->acts[i].text);
		free((void *)tp->acts[i].code);
	}
	for (size_t i = 0; i < tp->nsrcs; i++) {
		free((void *)tp->srcs[i].type);
		free((void *)tp->srcs[i].text);
	}
	free(tp->acts);
	free(tp->srcs);
	free(tp->cond);
	free(tp);
}

static void *dup_bytes(const void *p, size_t n)
{
	void *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

static void builtin_tsvs(struct tpoints *tr)
{
	memset(tr->tsvs, 0, sizeof(tr->tsvs));
	tr->ntsvs = 1;
	tr->tsvs[0].num = LT_TSV_TIME;
	tr->tsvs[0].builtin = true;
	tr->tsvs[0].defined = true;
	tr->tsvs[0].name = strdup("trace_timestamp");
}

static void free_tsvs(struct tpoints *tr)
{
	for (size_t i = 0; i < tr->ntsvs; i++)
		free(tr->tsvs[i].name);
	tr->ntsvs = 0;
}

static int op_init(void *t)
{
	struct tpoints *tr = tpoints_of(t);

	if (tr->running)
		tpoints_end_run(tr, RSP_TSTOP_USER, 0, NULL);
	for (size_t i = 0; i < tr->ntps; i++)
		tp_free(tr, tr->tps[i]);
	tr->ntps = 0;
	free_tsvs(tr);
	builtin_tsvs(tr);
	tr->nro = 0;
	tr->sel = -1;
	tracebuf_clear(tr->tb);
	return 0;
}

static int op_define(void *t, const struct rsp_tp_def *def)
{
	struct tpoints *tr = tpoints_of(t);
	struct tpoints_tp *tp, *old = tpoints_find(tr, def->num, def->addr);

	if (def->is_static)
		return -EOPNOTSUPP; /* not advertised: gdb sends them as trap tracepoints */
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->tr = tr;
	tp->def = *def;
	if (def->cond) {
		tp->cond = dup_bytes(def->cond, def->cond_len);
		if (!tp->cond) {
			free(tp);
			return -ENOMEM;
		}
		tp->def.cond = tp->cond;
	}
	tpoints_plan_build(tr, tp);
	if (old) {
		for (size_t i = 0; i < tr->ntps; i++)
			if (tr->tps[i] == old)
				tr->tps[i] = tp;
		tp_free(tr, old);
	} else {
		if (tr->ntps == tr->tpcap) {
			size_t cap = tr->tpcap ? 2 * tr->tpcap : 16;
			struct tpoints_tp **n = realloc(tr->tps, cap * sizeof(*n));

			if (!n) {
				tp_free(tr, tp);
				return -ENOMEM;
			}
			tr->tps = n;
			tr->tpcap = cap;
		}
		tr->tps[tr->ntps++] = tp;
	}
	/* InstallInTrace: a tracepoint defined during a run goes in at once. */
	if (tr->running) {
		pid_t pid = live_current_pid(tr->l);

		return pid ? install(tr, tp, pid) : -ESRCH;
	}
	return 0;
}

static int op_add_actions(void *t, uint32_t num, taddr_t addr, const struct rsp_tp_action *acts,
			  size_t n)
{
	struct tpoints *tr = tpoints_of(t);
	struct tpoints_tp *tp = tpoints_find(tr, num, addr);

	if (!tp)
		return -ENOENT;
	if (tp->nacts + n > tp->acap) {
		size_t cap = tp->nacts + n + 8;
		struct rsp_tp_action *a = realloc(tp->acts, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		tp->acts = a;
		tp->acap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		struct rsp_tp_action *d = &tp->acts[tp->nacts];

		*d = acts[i];
		d->text = dup_bytes(acts[i].text, acts[i].text_len);
		d->code = acts[i].code ? dup_bytes(acts[i].code, acts[i].code_len) : NULL;
		if (!d->text || (acts[i].code && !d->code)) {
			free((void *)d->text);
			free((void *)d->code);
			return -ENOMEM;
		}
		tp->nacts++;
	}
	tpoints_plan_build(tr, tp);
	return 0;
}

static int op_add_source(void *t, const struct rsp_tp_src *src)
{
	struct tpoints *tr = tpoints_of(t);
	struct tpoints_tp *tp = tpoints_find(tr, src->num, src->addr);
	struct rsp_tp_src *d;

	if (!tp)
		return -ENOENT;
	if (tp->nsrcs == tp->scap) {
		size_t cap = tp->scap ? 2 * tp->scap : 8;
		struct rsp_tp_src *s = realloc(tp->srcs, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		tp->srcs = s;
		tp->scap = cap;
	}
	d = &tp->srcs[tp->nsrcs];
	*d = *src;
	d->type = strdup(src->type);
	d->text = dup_bytes(src->text, src->len);
	if (!d->type || !d->text) {
		free((void *)d->type);
		free((void *)d->text);
		return -ENOMEM;
	}
	tp->nsrcs++;
	return 0;
}

static int op_define_tsv(void *t, const struct rsp_tsv *v)
{
	struct tpoints *tr = tpoints_of(t);
	struct tpoints_tsv *d = tpoints_tsv(tr, v->num);

	if (!d) {
		if (tr->ntsvs == LT_MAX_TSV)
			return -ENOSPC;
		d = &tr->tsvs[tr->ntsvs++];
		memset(d, 0, sizeof(*d));
	}
	free(d->name);
	d->num = v->num;
	d->initial = v->initial;
	d->value = v->initial;
	d->builtin = v->builtin;
	d->defined = true;
	d->name = strdup(v->name ? v->name : "");
	if (tpoints_tsv_in_agent(tr, d)) /* (re)defined while an agent holds the values */
		agent_tsv_set(tr->agent, d->num, d->value);
	return d->name ? 0 : -ENOMEM;
}

static int op_set_ro(void *t, const struct rsp_ro_range *r, size_t n)
{
	struct tpoints *tr = tpoints_of(t);

	if (n > LT_MAX_RANGES)
		n = LT_MAX_RANGES;
	memcpy(tr->ro, r, n * sizeof(*r));
	tr->nro = n;
	return 0;
}

static int op_set_disconnected(void *t, bool on)
{
	tpoints_of(t)->disconnected = on;
	return 0;
}

static int op_set_circular(void *t, bool on)
{
	struct tpoints *tr = tpoints_of(t);

	tr->circular = on;
	tracebuf_set_circular(tr->tb, on);
	return 0;
}

static int op_set_buffer_size(void *t, int64_t size)
{
	struct tpoints *tr = tpoints_of(t);
	size_t want = size < 0 ? TRACEBUF_DEFAULT_SIZE : (size_t)size;
	int rc;

	/* gdbserver refuses a resize during a run too. */
	if (tr->running)
		return -EBUSY;
	if (!want || (size > 0 && (uint64_t)size > (1ull << 32)))
		return -EINVAL;
	if (want == tr->buf_size)
		return 0;
	rc = tracebuf_resize(tr->tb, want);
	if (!rc) {
		tr->buf_size = want;
		tracebuf_set_regs_size(tr->tb, tr->layout->g_size);
	}
	return rc;
}

static int op_set_notes(void *t, const char *user, const char *notes, const char *tstop)
{
	struct tpoints *tr = tpoints_of(t);

	if (user)
		copy_note(tr->user, user);
	if (notes)
		copy_note(tr->notes, notes);
	if (tstop)
		copy_note(tr->stop_note, tstop);
	return 0;
}

static void uninstall_all(struct tpoints *tr)
{
	for (size_t i = 0; i < tr->ntps; i++)
		uninstall(tr, tr->tps[i]);
}

static int op_start(void *t)
{
	struct tpoints *tr = tpoints_of(t);
	pid_t pid = live_current_pid(tr->l);

	if (tr->running)
		return -EBUSY;
	if (!pid)
		return -ESRCH;
	uninstall_all(tr);
	tpoints_fast_new_run(tr);
	tracebuf_clear(tr->tb);
	tracebuf_set_circular(tr->tb, tr->circular);
	for (size_t i = 0; i < tr->ntsvs; i++)
		tr->tsvs[i].value = tr->tsvs[i].initial;
	tpoints_fast_start(tr); /* an agent of an earlier run: recording again, these values */
	for (size_t i = 0; i < tr->ntps; i++) {
		struct tpoints_tp *tp = tr->tps[i];
		int rc;

		tp->hits = tp->bytes = tp->stored = tp->dropped = tp->adropped = 0;
		rc = install(tr, tp, pid);
		if (rc) {
			snprintf(tr->error, sizeof(tr->error), "tracepoint %u at 0x%llx: %s",
				 tp->def.num, (unsigned long long)tp->def.addr,
				 live_last_error(tr->l));
			fprintf(stderr, "tracestub: %s\n", tr->error);
			uninstall_all(tr);
			return rc;
		}
	}
	tpoints_note_exe(tr);
	tr->running = true;
	tr->ever_run = true;
	tr->stop = RSP_TSTOP_UNKNOWN;
	tr->stop_tp = 0;
	tr->error[0] = 0;
	tr->start_us = tpoints_now_us();
	tr->stop_us = 0;
	tr->expr_errors = 0;
	tr->sel = -1;
	return 0;
}

static int op_stop(void *t)
{
	struct tpoints *tr = tpoints_of(t);

	tpoints_fast_drain(tr);
	tpoints_end_run(tr, RSP_TSTOP_USER, 0, NULL);
	uninstall_all(tr);
	return 0;
}

static int op_enable(void *t, uint32_t num, taddr_t addr, bool on)
{
	struct tpoints_tp *tp = tpoints_find(tpoints_of(t), num, addr);

	if (!tp)
		return -ENOENT;
	tp->def.enabled = on;
	return 0;
}

static int op_status(void *t, struct rsp_trace_status *out)
{
	struct tpoints *tr = tpoints_of(t);
	struct tracebuf_stats st;

	tpoints_fast_drain(tr);
	tracebuf_stats(tr->tb, &st);
	memset(out, 0, sizeof(*out));
	out->running = tr->running;
	out->stop = tr->running ? RSP_TSTOP_UNKNOWN : tr->ever_run ? tr->stop : RSP_TSTOP_NOT_RUN;
	out->stop_tp = tr->stop_tp;
	out->error = tr->error;
	out->stop_note = tr->stop_note;
	out->frames = st.frames;
	out->created = st.created;
	out->size = st.size;
	out->free = st.free;
	out->circular = tr->circular;
	out->disconnected = tr->disconnected;
	out->start_us = tr->start_us;
	out->stop_us = tr->stop_us;
	out->user = tr->user;
	out->notes = tr->notes;
	return 0;
}

static int op_tp_get(void *t, size_t idx, struct rsp_tp_info *out)
{
	struct tpoints *tr = tpoints_of(t);
	struct tpoints_tp *tp;

	if (idx >= tr->ntps)
		return -ENOENT;
	tp = tr->tps[idx];
	out->def = tp->def;
	out->hits = tp->hits;
	out->bytes = tp->bytes;
	out->actions = tp->acts;
	out->nactions = tp->nacts;
	out->srcs = tp->srcs;
	out->nsrcs = tp->nsrcs;
	return 0;
}

/* The one tracepoint at addr, NULL if none or several. */
static struct tpoints_tp *find_addr(struct tpoints *tr, taddr_t addr)
{
	struct tpoints_tp *found = NULL;

	for (size_t i = 0; i < tr->ntps; i++) {
		if (tr->tps[i]->def.addr != addr)
			continue;
		if (found)
			return NULL;
		found = tr->tps[i];
	}
	return found;
}

static int op_tp_hits(void *t, uint32_t num, taddr_t addr, uint64_t *hits, uint64_t *bytes)
{
	struct tpoints *tr = tpoints_of(t);
	struct tpoints_tp *tp = tpoints_find(tr, num, addr);

	/* A gdb that reconnected and re-created the target's tracepoint N as its own M asks
	 * `qTP:M:addr` (gdb 13, seen here; gdbserver answers E01): match by address. */
	if (!tp)
		tp = find_addr(tr, addr);

	if (!tp)
		return -ENOENT;
	tpoints_fast_drain(tr);
	*hits = tp->hits;
	*bytes = tp->bytes;
	return 0;
}

/* qTfV/qTsV list the newest definition first, as gdbserver does (gdb downloads them in reverse
 * of creation, so this gives them back in creation order; MI's =tsv-created follow it). */
static int op_tsv_get(void *t, size_t idx, struct rsp_tsv *out)
{
	struct tpoints *tr = tpoints_of(t);
	const struct tpoints_tsv *v;

	if (idx >= tr->ntsvs)
		return -ENOENT;
	v = &tr->tsvs[tr->ntsvs - 1 - idx];
	out->num = v->num;
	out->initial = v->initial;
	out->builtin = v->builtin;
	out->name = v->name ? v->name : "";
	return 0;
}

/* Reads of the trace: the fast hits recorded so far in first. */
static int op_select_frame(void *t, enum rsp_tframe_how how, uint64_t a, uint64_t b, int64_t *frame,
			   uint32_t *tp)
{
	tpoints_fast_drain(tpoints_of(t));
	return tpoints_select_frame(t, how, a, b, frame, tp);
}

static int op_read_buffer(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *done)
{
	tpoints_fast_drain(tpoints_of(t));
	return tpoints_read_buffer(t, off, buf, len, done);
}

static int op_save(void *t, const char *path)
{
	tpoints_fast_drain(tpoints_of(t));
	return tpoints_save(t, path);
}

const struct rsp_trace_ops tpoints_trace_ops = {
	.init = op_init,
	.min_fast_len = tpoints_min_fast_len,
	.define = op_define,
	.add_actions = op_add_actions,
	.add_source = op_add_source,
	.define_tsv = op_define_tsv,
	.set_ro = op_set_ro,
	.set_disconnected = op_set_disconnected,
	.set_circular = op_set_circular,
	.set_buffer_size = op_set_buffer_size,
	.set_notes = op_set_notes,
	.start = op_start,
	.stop = op_stop,
	.enable = op_enable,
	.status = op_status,
	.tp_get = op_tp_get,
	.tp_hits = op_tp_hits,
	.tsv_get = op_tsv_get,
	.tsv_value = tpoints_tsv_value,
	.select_frame = op_select_frame,
	.unselect_frame = tpoints_unselect_frame,
	.frame_info = tpoints_frame_info,
	.read_buffer = op_read_buffer,
	.save = op_save,
};

struct tpoints *tpoints_new(struct live *l)
{
	struct tpoints *tr = calloc(1, sizeof(*tr));
	const struct rsp_reg_layout *layout = live_target_ops()->reg_layout(l);

	if (!tr)
		return NULL;
	tr->l = l;
	tr->layout = layout;
	tr->buf_size = TRACEBUF_DEFAULT_SIZE;
	tr->tb = tracebuf_new(tr->buf_size);
	if (tr->tb)
		tracebuf_set_regs_size(tr->tb, layout->g_size);
	tr->sel = -1;
	tr->stop = RSP_TSTOP_NOT_RUN;
	builtin_tsvs(tr);
	if (!tr->tb || tpoints_layer_attach(tr)) {
		tpoints_free(tr);
		return NULL;
	}
	return tr;
}

void tpoints_free(struct tpoints *tr)
{
	if (!tr)
		return;
	tpoints_fast_close(tr);
	for (size_t i = 0; i < tr->ntps; i++) {
		tr->tps[i]->installed = false;
		tp_free(tr, tr->tps[i]);
	}
	free(tr->tps);
	free_tsvs(tr);
	tracebuf_free(tr->tb);
	free(tr);
}
