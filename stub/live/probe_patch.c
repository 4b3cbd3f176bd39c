/* Fast sites as the live engine sees them: code patches (a jump to a pad) kept in the
 * process's breakpoint table, so reads show the original bytes and the originals come back in
 * an unfollowed fork child and at detach, exactly as for int3s; scratch runs for pads and the
 * agent; syscalls injected for the agent's set-up. A patch is written only while every thread
 * of the process is stopped and none is inside the bytes it replaces: the engine never stops
 * threads for it (that would run other hits' callbacks inside the caller's). */
#include <errno.h>

#include "stub/live/internal.h"
#include "stub/os/os.h"

static struct proc *proc_of(struct live *l, pid_t pid, struct probe_space **ps)
{
	struct proc *p = proc_find(&l->pt, pid);

	*ps = NULL;
	if (!p)
		return NULL;
	*ps = probe_space_of(l, p);
	if (!*ps)
		*ps = probe_space_new(l, p);
	return *ps ? p : NULL;
}

/* Where a thread stopped at rip continues: rip itself, or its move target; 0 if it is inside
 * the patch elsewhere. */
static uint64_t moved_to(uint64_t rip, uint64_t addr, size_t n, const uint64_t *move, size_t nmove)
{
	if (rip <= addr || rip >= addr + n)
		return rip;
	for (size_t i = 0; i < nmove; i++)
		if (move[2 * i] == rip)
			return move[2 * i + 1];
	return 0;
}

int live_patch_insert(struct live *l, pid_t pid, uint64_t addr, const uint8_t *code, size_t n,
		      const uint64_t *move, size_t nmove)
{
	struct probe_space *ps;
	struct proc *p = proc_of(l, pid, &ps);
	struct bkpt_table *bk;
	struct bkpt_mem mem;
	struct proc_thread *th;
	int rc;

	if (!p)
		return -ESRCH;
	for (th = p->threads; th; th = th->next) {
		struct user_regs_struct r;

		if (th->running || th->so) {
			probe_set_error(l, "thread %d is running", (int)th->tid);
			return -EBUSY;
		}
		if (th->initial_stop)
			continue;
		if (ptr_getregs(th->tid, &r)) {
			probe_set_error(l, "thread %d: registers unreadable", (int)th->tid);
			return -EBUSY;
		}
		if (!moved_to(r.rip, addr, n, move, nmove)) {
			probe_set_error(l, "thread %d is inside the displaced bytes", (int)th->tid);
			return -EBUSY;
		}
	}
	bk = live_proc_bk(l, p);
	if (!bk)
		return -ENOMEM;
	live_bkpt_mem(l, p, &mem);
	rc = bkpt_patch_insert(bk, &mem, addr, code, n);
	if (rc == -EBUSY)
		probe_set_error(l, "another probe's bytes are in the way");
	if (rc)
		return rc;
	/* The patch is in: threads inside it continue in the pad. */
	for (th = p->threads; th; th = th->next) {
		struct user_regs_struct r;

		if (th->initial_stop || ptr_getregs(th->tid, &r) || r.rip <= addr ||
		    r.rip >= addr + n)
			continue;
		r.rip = moved_to(r.rip, addr, n, move, nmove);
		if (ptr_setregs(th->tid, &r))
			live_log(l, "thread %d: could not move it out of a patch", (int)th->tid);
		else
			live_log(l, "thread %d moved into the pad at %#llx", (int)th->tid, r.rip);
	}
	return 0;
}

int live_patch_remove(struct live *l, pid_t pid, uint64_t addr)
{
	struct proc *p = proc_find(&l->pt, pid);
	struct bkpt_table *bk = p ? live_proc_bk(l, p) : NULL;
	struct bkpt_mem mem;

	if (!bk)
		return -ESRCH;
	for (struct proc_thread *th = p->threads; th; th = th->next)
		if (th->running || th->so) {
			probe_set_error(l, "thread %d is running", (int)th->tid);
			return -EBUSY;
		}
	live_bkpt_mem(l, p, &mem);
	return bkpt_patch_remove(bk, &mem, addr);
}

int live_hold(struct live *l, pid_t pid)
{
	struct proc *p = proc_find(&l->pt, pid);

	if (!p || !l->headless || l->hit_th)
		return -EINVAL;
	return live_stop_all_sync(l, p);
}

void live_unhold(struct live *l)
{
	live_resume_all(l);
}

int live_scratch(struct live *l, pid_t pid, uint64_t near, size_t n, uint64_t *at)
{
	struct probe_space *ps;
	struct proc *p = proc_of(l, pid, &ps);

	return p ? probe_scratch_run(l, p, ps, near, n, at) : -ESRCH;
}

int live_poke(struct live *l, pid_t pid, uint64_t addr, const void *buf, size_t n)
{
	struct proc *p = proc_find(&l->pt, pid);

	return p ? live_mem_write_raw(l, p, addr, buf, n) : -ESRCH;
}

int live_syscall(struct live *l, pid_t pid, const uint64_t args[7], uint64_t *ret)
{
	struct probe_space *ps;
	struct proc *p = proc_of(l, pid, &ps);

	return p ? probe_syscall(l, p, ps, args, ret) : -ESRCH;
}
