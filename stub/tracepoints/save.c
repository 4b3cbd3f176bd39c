/* QTSave (`tsave -r FILE`): the live trace written as gdb's trace file by the stub itself,
 * through the same formatters as the qTStatus / qTfP / qTfV replies, so a file from here and
 * one gdb's own `tsave` writes carry the same lines. The main executable's load bias rides
 * along as a status field (tfile.h) for PIE programs. */
#include "stub/tracepoints/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/regs.h"
#include "protocol/buf.h"
#include "protocol/tpfmt.h"
#include "stub/live/live.h"
#include "stub/tracefile/tracefile.h"

#define SAVE_TEXT  (256 * 1024)
#define SAVE_LINES 4096
#define XML_MAX	   65536

struct lines {
	char *text;
	size_t used;
	const char *v[SAVE_LINES];
	size_t n;
};

/* Start a line in l->text; returns a buffer over the free room. */
static void line_begin(struct lines *l, struct rsp_buf *b)
{
	rsp_buf_init(b, (uint8_t *)l->text + l->used, SAVE_TEXT - l->used - 1);
}

static int line_end(struct lines *l, struct rsp_buf *b, int rc)
{
	if (rc || b->overflow || l->n == SAVE_LINES)
		return -ENOSPC;
	b->data[b->len] = 0;
	l->v[l->n++] = (const char *)b->data;
	l->used += b->len + 1;
	return 0;
}

static int tp_lines(struct tpoints *tr, struct lines *l)
{
	struct rsp_buf b;
	int rc = 0;

	for (size_t i = 0; i < tr->ntps && !rc; i++) {
		struct tpoints_tp *tp = tr->tps[i];

		line_begin(l, &b);
		rc = line_end(l, &b, rsp_tpfmt_tp(&b, &tp->def));
		for (size_t a = 0; a < tp->nacts && !rc; a++) {
			line_begin(l, &b);
			rc = line_end(
				l, &b,
				rsp_tpfmt_action(&b, tp->def.num, tp->def.addr, &tp->acts[a]));
		}
		for (size_t s = 0; s < tp->nsrcs && !rc; s++) {
			line_begin(l, &b);
			rc = line_end(l, &b, rsp_tpfmt_src(&b, &tp->srcs[s]));
		}
		if (!rc) {
			line_begin(l, &b);
			rc = line_end(
				l, &b,
				rsp_tpfmt_hits(&b, tp->def.num, tp->def.addr, tp->hits, tp->bytes));
		}
	}
	return rc;
}

static int tsv_lines(struct tpoints *tr, struct lines *l)
{
	struct rsp_buf b;
	int rc = 0;

	for (size_t i = 0; i < tr->ntsvs && !rc; i++) {
		struct rsp_tsv v = {tr->tsvs[i].num, tr->tsvs[i].initial, tr->tsvs[i].builtin,
				    tr->tsvs[i].name ? tr->tsvs[i].name : ""};

		line_begin(l, &b);
		rc = line_end(l, &b, rsp_tpfmt_tsv(&b, &v));
	}
	return rc;
}

static int status_line(struct tpoints *tr, struct lines *l, const char **out)
{
	struct rsp_trace_status st;
	struct rsp_buf b;
	int rc;

	tpoints_trace_ops.status(tr->l, &st);
	line_begin(l, &b);
	rc = line_end(l, &b, rsp_tpfmt_status(&b, &st));
	*out = rc ? NULL : l->v[--l->n];
	return rc;
}

/* The main executable's load bias, from the first mapping of its file. */
static int bias_field(struct tpoints *tr, char *buf, size_t cap)
{
	uint64_t bias;

	if (live_exec_bias(tr->l, &bias))
		return -ENOENT;
	snprintf(buf, cap, "%s:%llx", TFILE_KEY_BIAS, (unsigned long long)bias);
	return 0;
}

/* The frames as files see them (tpoints_link_view) in a buffer of their own. */
static struct tracebuf *file_view(struct tpoints *tr)
{
	struct tracebuf_stats st;
	struct tracebuf *tb;
	uint8_t *s;
	size_t done = 0;

	tracebuf_stats(tr->tb, &st);
	s = malloc(st.used ? st.used : 1);
	tb = tracebuf_new(st.used + TRACEBUF_FRAME_HDR + 64);
	if (!s || !tb || tpoints_read_buffer(tr->l, 0, s, st.used, &done) || done != st.used ||
	    tracebuf_set_regs_size(tb, tr->layout->g_size) || tracebuf_load(tb, s, st.used)) {
		tracebuf_free(tb);
		tb = NULL;
	}
	free(s);
	return tb;
}

#define META_FIELDS (TFILE_META_MAX_LIBS + 2)

/* tsexe/tspid/tslib fields (tfile.h) for replay, while the process is there to ask. */
static size_t meta_fields(struct tpoints *tr, size_t room, char *text, size_t cap,
			  const char **fields)
{
	static struct rsp_library libs[TFILE_META_MAX_LIBS];
	struct tfile_lib rl[TFILE_META_MAX_LIBS];
	const struct rsp_target_ops *ops = live_target_ops();
	pid_t pid = live_current_pid(tr->l);
	char exe[4096];
	size_t n = 0;

	if (!pid || ops->exec_file(tr->l, pid, exe, sizeof(exe)))
		return 0;
	if (ops->list_libraries(tr->l, libs, TFILE_META_MAX_LIBS, &n))
		n = 0;
	if (n > TFILE_META_MAX_LIBS)
		n = TFILE_META_MAX_LIBS;
	for (size_t i = 0; i < n; i++) {
		rl[i].path = libs[i].name;
		rl[i].bias = libs[i].l_addr;
	}
	return tfile_meta_format(exe, pid, rl, n, room, text, cap, fields, META_FIELDS, NULL);
}

int tpoints_save(void *t, const char *path)
{
	struct tpoints *tr = tpoints_of(t);
	struct lines *l = calloc(1, sizeof(*l));
	char *xml = malloc(XML_MAX), bias[64];
	const char *extra[META_FIELDS + 1] = {bias};
	static char meta[8192];
	struct tfile_header h;
	size_t xlen;
	int rc = -ENOMEM;

	if (!l || !xml || !(l->text = malloc(SAVE_TEXT)))
		goto out;
	memset(&h, 0, sizeof(h));
	xlen = x86_64_target_xml(xml, XML_MAX - 1);
	xml[xlen < XML_MAX - 1 ? xlen : XML_MAX - 1] = 0;
	h.regs_size = tr->layout->g_size;
	h.tdesc = xml;
	rc = status_line(tr, l, &h.status);
	if (!rc && !bias_field(tr, bias, sizeof(bias))) {
		size_t used = strlen(h.status) + strlen(bias) + 16;

		h.status_extra = extra;
		h.nstatus_extra = 1;
		if (used < TFILE_LINE_MAX)
			h.nstatus_extra += meta_fields(tr, TFILE_LINE_MAX - used, meta,
						       sizeof(meta), extra + 1);
	}
	if (!rc) {
		size_t first = l->n;

		rc = tsv_lines(tr, l);
		h.tsvs = l->v + first;
		h.ntsvs = l->n - first;
	}
	if (!rc) {
		size_t first = l->n;

		rc = tp_lines(tr, l);
		h.tps = l->v + first;
		h.ntps = l->n - first;
	}
	if (!rc) {
		struct tracebuf *view = file_view(tr);

		rc = view ? tfile_write(path, &h, view) : -ENOMEM;
		tracebuf_free(view);
	}
out:
	if (l)
		free(l->text);
	free(l);
	free(xml);
	return rc;
}
