/* The replay history index: one pass over the frames at load, then binary searches. */
#include "stub/replay/hist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stub/tracefile/tracefile.h"

/* What one frame says about itself: pc (0 without an R block) and its thread. */
static int frame_facts(const struct tracebuf_frame *fr, size_t rip_off, taddr_t *pc, int64_t *pid,
		       int64_t *tid)
{
	struct tracebuf_block b;
	size_t off = 0;
	int rc;

	*pc = 0;
	*pid = *tid = 0;
	while ((rc = tracebuf_next_block(fr, &off, &b)) == 1) {
		if (b.type == 'R' && b.len >= rip_off + 8 && !*pc)
			memcpy(pc, b.data + rip_off, 8);
		if (b.type == 'V' && b.tsv == TFILE_TSV_THREAD) {
			*pid = (int64_t)((uint64_t)b.value >> 32);
			*tid = (int64_t)(uint32_t)b.value;
		}
	}
	return rc;
}

static int thread_of(struct replay_hist *h, int64_t pid, int64_t tid, size_t *cap)
{
	for (size_t i = 0; i < h->nth; i++)
		if (h->th[i].tid == tid)
			return (int)i;
	if (h->nth == *cap) {
		size_t nc = *cap ? 2 * *cap : 8;
		struct replay_thread *t = realloc(h->th, nc * sizeof(*t));

		if (!t)
			return -ENOMEM;
		h->th = t;
		*cap = nc;
	}
	h->th[h->nth] = (struct replay_thread){pid, tid, NULL, 0};
	return (int)h->nth++;
}

/* The pid shown when the caller gave none: that of the first frame naming its thread. */
static int64_t first_pid(const struct tracebuf *tb, uint64_t n, size_t rip_off)
{
	for (uint64_t i = 0; i < n; i++) {
		struct tracebuf_frame fr;
		int64_t pid, tid;
		taddr_t pc;

		if (!tracebuf_frame(tb, i, &fr) &&
		    frame_facts(&fr, rip_off, &pc, &pid, &tid) == 0 && pid > 0)
			return pid;
	}
	return 1;
}

static int cmp_addr(const void *a, const void *b)
{
	taddr_t x = *(const taddr_t *)a, y = *(const taddr_t *)b;

	return x < y ? -1 : x > y;
}

/* Per-thread index lists and the sorted distinct pcs. */
static int finish(struct replay_hist *h)
{
	size_t k = 0;

	for (size_t t = 0; t < h->nth; t++)
		if (!(h->th[t].idx = calloc(h->th[t].n ? h->th[t].n : 1, sizeof(uint64_t))))
			return -ENOMEM;
	for (size_t t = 0; t < h->nth; t++)
		h->th[t].n = 0;
	if (!(h->pcs = malloc((h->n ? h->n : 1) * sizeof(taddr_t))))
		return -ENOMEM;
	for (size_t i = 0; i < h->n; i++) {
		struct replay_thread *t = &h->th[h->fr[i].th];

		t->idx[t->n++] = i;
		h->pcs[i] = h->fr[i].pc;
	}
	qsort(h->pcs, h->n, sizeof(taddr_t), cmp_addr);
	for (size_t i = 0; i < h->n; i++)
		if (!k || h->pcs[k - 1] != h->pcs[i])
			h->pcs[k++] = h->pcs[i];
	h->npcs = k;
	return 0;
}

int replay_hist_build(struct replay_hist *h, const struct tracebuf *tb, size_t rip_off, int64_t pid,
		      replay_tp_addr_fn tp_addr, void *ctx)
{
	struct tracebuf_stats st;
	size_t cap = 0;
	int rc = 0;

	memset(h, 0, sizeof(*h));
	tracebuf_stats(tb, &st);
	h->pid = pid > 0 ? pid : first_pid(tb, st.frames, rip_off);
	if (!(h->fr = calloc(st.frames ? st.frames : 1, sizeof(*h->fr))))
		return -ENOMEM;
	for (uint64_t i = 0; i < st.frames && !rc; i++) {
		struct tracebuf_frame fr;
		int64_t fpid, tid;
		taddr_t pc;
		int t;

		if (tracebuf_frame(tb, i, &fr) || frame_facts(&fr, rip_off, &pc, &fpid, &tid) < 0) {
			rc = -EINVAL;
			break;
		}
		if (!tid)
			fpid = tid = h->pid;
		if (fpid != h->pid) {
			h->skipped++;
			continue;
		}
		if ((t = thread_of(h, fpid, tid, &cap)) < 0) {
			rc = t;
			break;
		}
		h->th[t].n++;
		h->fr[h->n++] = (struct replay_frame){i, pc ? pc : tp_addr(ctx, fr.tpnum), fr.tpnum,
						      (uint32_t)t};
	}
	if (!rc)
		rc = finish(h);
	if (rc)
		replay_hist_fini(h);
	return rc;
}

void replay_hist_fini(struct replay_hist *h)
{
	for (size_t t = 0; h->th && t < h->nth; t++)
		free(h->th[t].idx);
	free(h->th);
	free(h->fr);
	free(h->pcs);
	memset(h, 0, sizeof(*h));
}

static bool in_sorted(const taddr_t *v, size_t n, taddr_t a)
{
	return n && bsearch(&a, v, n, sizeof(*v), cmp_addr);
}

static bool accepts(const struct replay_hist *h, const struct replay_frame *fr,
		    const struct replay_filter *f)
{
	if (f->tid && h->th[fr->th].tid != f->tid)
		return false;
	if (f->tp && fr->tp != f->tp)
		return false;
	return !f->bps || in_sorted(f->bps, f->nbps, fr->pc);
}

int64_t replay_hist_seek(const struct replay_hist *h, int64_t from, int dir,
			 const struct replay_filter *f)
{
	int64_t i = from + (dir > 0 ? 1 : -1);

	for (; i >= 0 && i<(int64_t)h->n; i += dir> 0 ? 1 : -1)
		if (accepts(h, &h->fr[i], f))
			return i;
	return -1;
}

/* Number of the thread's frames at or before pos. */
static size_t upto(const struct replay_thread *t, int64_t pos)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((int64_t)t->idx[mid] <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int64_t replay_hist_thread_at(const struct replay_hist *h, size_t th, int64_t pos)
{
	size_t k;

	if (th >= h->nth)
		return -1;
	k = upto(&h->th[th], pos);
	return k ? (int64_t)h->th[th].idx[k - 1] : -1;
}

int64_t replay_hist_thread_step(const struct replay_hist *h, size_t th, int64_t pos, int dir)
{
	const struct replay_thread *t;
	size_t k;

	if (th >= h->nth)
		return -1;
	t = &h->th[th];
	if (dir > 0) {
		k = upto(t, pos);
		return k < t->n ? (int64_t)t->idx[k] : -1;
	}
	k = upto(t, pos - 1);
	return k ? (int64_t)t->idx[k - 1] : -1;
}

int64_t replay_hist_thread(const struct replay_hist *h, int64_t tid)
{
	for (size_t i = 0; i < h->nth; i++)
		if (h->th[i].tid == tid)
			return (int64_t)i;
	return -1;
}

bool replay_hist_has_pc(const struct replay_hist *h, taddr_t pc)
{
	return in_sorted(h->pcs, h->npcs, pc);
}
