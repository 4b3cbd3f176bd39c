/* Process and thread records: a list of processes, each with a list of threads,
 * and a chained hash from tid to thread. Bookkeeping only; the policy is in
 * events.c. */
#include "stub/live/proc.h"

#include <errno.h>
#include <stdlib.h>

static size_t slot_of(const struct proc_table *t, pid_t tid)
{
	return ((uint32_t)tid * 2654435761u) & (t->nbuckets - 1);
}

int proc_table_init(struct proc_table *t)
{
	t->procs = NULL;
	t->nthreads = 0;
	t->nbuckets = 64;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

void proc_table_fini(struct proc_table *t)
{
	while (t->procs)
		proc_remove(t, t->procs);
	free(t->buckets);
	t->buckets = NULL;
}

struct proc *proc_add(struct proc_table *t, pid_t pid)
{
	struct proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	p->memfd = -1;
	p->next = t->procs;
	t->procs = p;
	return p;
}

struct proc *proc_find(const struct proc_table *t, pid_t pid)
{
	struct proc *p;

	for (p = t->procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

void proc_remove(struct proc_table *t, struct proc *p)
{
	struct proc **pp = &t->procs;

	while (p->threads)
		proc_thread_remove(t, p->threads);
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	free(p);
}

static void grow(struct proc_table *t)
{
	size_t n = t->nbuckets * 2, i;
	struct proc_thread **nb = calloc(n, sizeof(*nb));
	struct proc_thread **old = t->buckets;
	size_t oldn = t->nbuckets;

	if (!nb)
		return;
	t->buckets = nb;
	t->nbuckets = n;
	for (i = 0; i < oldn; i++) {
		struct proc_thread *th = old[i], *next;

		for (; th; th = next) {
			size_t k = slot_of(t, th->tid);

			next = th->hnext;
			th->hnext = nb[k];
			nb[k] = th;
		}
	}
	free(old);
}

struct proc_thread *proc_thread_add(struct proc_table *t, struct proc *p, pid_t tid)
{
	struct proc_thread *th = calloc(1, sizeof(*th)), **tail;
	size_t k;

	if (!th)
		return NULL;
	th->tid = tid;
	th->proc = p;
	th->resume = RSP_RESUME_NONE;
	/* Keep creation order so the thread list reads like the program's. */
	tail = &p->threads;
	while (*tail)
		tail = &(*tail)->next;
	*tail = th;
	p->nthreads++;
	k = slot_of(t, tid);
	th->hnext = t->buckets[k];
	t->buckets[k] = th;
	if (++t->nthreads > 2 * t->nbuckets)
		grow(t);
	return th;
}

struct proc_thread *proc_thread_find(const struct proc_table *t, pid_t tid)
{
	struct proc_thread *th;

	for (th = t->buckets[slot_of(t, tid)]; th; th = th->hnext)
		if (th->tid == tid)
			return th;
	return NULL;
}

void proc_thread_remove(struct proc_table *t, struct proc_thread *th)
{
	struct proc_thread **pp = &t->buckets[slot_of(t, th->tid)];
	struct proc *p = th->proc;

	while (*pp && *pp != th)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = th->hnext;
	pp = &p->threads;
	while (*pp && *pp != th)
		pp = &(*pp)->next;
	if (*pp)
		*pp = th->next;
	if (p->event == th)
		p->event = NULL;
	p->nthreads--;
	t->nthreads--;
	free(th);
}
