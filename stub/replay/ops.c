/* The replay target's reads: registers from the frame (what was not collected unavailable),
 * memory from the collected blocks of the frames that make up the present and then from the
 * read-only segments of the executable and libraries, threads, and the objects that place
 * the program (auxv, the library list, the executable's path). Nothing is ever written. */
#include "stub/replay/internal.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "stub/tracefile/tracefile.h"

static int64_t thread_index(const struct replay *r, struct rsp_ptid id)
{
	if (id.tid <= 0)
		return r->stop_th;
	return replay_hist_thread(&r->h, id.tid);
}

int64_t replay_frame_for(const struct replay *r, size_t th)
{
	return r->tsel >= 0 ? r->tsel : replay_hist_thread_at(&r->h, th, r->pos);
}

static bool is_gp(unsigned i)
{
	return i < X86_64_ST0 || i == X86_64_ORIG_RAX || i == X86_64_FS_BASE || i == X86_64_GS_BASE;
}

static bool is_avx(unsigned i)
{
	return i >= X86_64_YMM0H;
}

/* Frame idx's g block; which registers count as collected follows the tracepoint. */
int replay_frame_regs(struct replay *r, int64_t idx, uint8_t *buf, uint8_t *avail)
{
	const struct replay_frame *hf = &r->h.fr[idx];
	struct replay_tp *tp = replay_tp_find(r, hf->tp);
	bool fp = tp ? tp->fp : true, avx = tp ? tp->avx : false;
	struct tracebuf_frame fr;
	const uint8_t *regs;
	size_t rlen;

	memset(buf, 0, r->layout.g_size);
	memset(avail, 0, r->layout.nregs);
	if (tracebuf_frame(r->tb, hf->num, &fr))
		return -EIO;
	if (tracebuf_frame_regs(&fr, &regs, &rlen)) {
		/* No R block: only the pc, from the tracepoint (PROTOCOL.md §3.4). */
		memcpy(buf + r->layout.regs[X86_64_RIP].offset, &hf->pc, 8);
		avail[X86_64_RIP] = 1;
		return 0;
	}
	memcpy(buf, regs, rlen < r->layout.g_size ? rlen : r->layout.g_size);
	for (unsigned i = 0; i < r->layout.nregs; i++) {
		const struct rsp_reg_info *ri = &r->layout.regs[i];

		avail[i] = (size_t)ri->offset + ri->bitsize / 8 <= rlen &&
			   (is_gp(i) || (is_avx(i) ? avx : fp));
	}
	return 0;
}

static int op_read_regs(void *t, struct rsp_ptid id, uint8_t *buf, uint8_t *avail)
{
	struct replay *r = t;
	int64_t th = thread_index(r, id), idx;

	if (th < 0)
		return -ESRCH;
	if (r->tsel < 0 && replay_emu_active(r, (size_t)th)) {
		/* Run on from its frame: the frame's registers, what the emulator knows over them.
		 */
		if (replay_frame_regs(r, r->emu[th].base, buf, avail))
			return -EIO;
		replay_emu_regs(r, (size_t)th, buf, avail);
		return 0;
	}
	idx = replay_frame_for(r, (size_t)th);
	return idx < 0 ? -ESRCH : replay_frame_regs(r, idx, buf, avail);
}

static int frame_mem(const struct replay *r, int64_t idx, taddr_t addr, uint8_t *buf, size_t len,
		     size_t *done)
{
	struct tracebuf_frame fr;

	if (idx < 0 || tracebuf_frame(r->tb, r->h.fr[idx].num, &fr))
		return -EIO;
	return tracebuf_frame_mem(&fr, addr, buf, len, done) == 0 && *done ? 0 : -EIO;
}

/* The lowest start of a memory block of frame idx in (addr, end), else end. */
static taddr_t next_block(const struct replay *r, int64_t idx, taddr_t addr, taddr_t end)
{
	struct tracebuf_frame fr;
	struct tracebuf_block b;
	size_t off = 0;

	if (tracebuf_frame(r->tb, r->h.fr[idx].num, &fr))
		return end;
	while (tracebuf_next_block(&fr, &off, &b) == 1)
		if (b.type == 'M' && b.addr > addr && b.addr < end)
			end = b.addr;
	return end;
}

/* The present is the latest frame of every thread. Their blocks can overlap (Go's goroutine
 * stacks sit side by side, and a stack is collected past its top): the most recent frame
 * holding addr answers, and no further than where a more recent frame's block begins. */
static int present_mem(const struct replay *r, int64_t pos, taddr_t addr, uint8_t *buf, size_t len,
		       size_t *done)
{
	int64_t best = -1;

	for (size_t th = 0; th < r->h.nth; th++) {
		int64_t idx = replay_hist_thread_at(&r->h, th, pos);
		size_t d = 0;

		if (idx > best && !frame_mem(r, idx, addr, buf, 1, &d))
			best = idx;
	}
	if (best < 0 || frame_mem(r, best, addr, buf, len, done))
		return -EIO;
	for (size_t th = 0; th < r->h.nth; th++) {
		int64_t idx = replay_hist_thread_at(&r->h, th, pos);

		if (idx > best)
			*done = next_block(r, idx, addr, addr + *done) - addr;
	}
	return 0;
}

/* The files' read-only segments. */
static int files_mem(const struct replay *r, taddr_t addr, uint8_t *buf, size_t len, size_t *done)
{
	for (size_t i = 0; i < r->nmods; i++)
		if ((i || r->have_exe) && !replay_mod_read(&r->mods[i], addr, buf, len, done))
			return 0;
	return -EIO;
}

int replay_read_mem_at(const struct replay *r, int64_t pos, taddr_t addr, uint8_t *buf, size_t len,
		       size_t *done)
{
	*done = 0;
	if (!present_mem(r, pos, addr, buf, len, done))
		return 0;
	return files_mem(r, addr, buf, len, done);
}

static int op_read_mem(void *t, taddr_t addr, uint8_t *buf, size_t len, size_t *done)
{
	struct replay *r = t;

	*done = 0;
	if (r->tsel >= 0)
		return !frame_mem(r, r->tsel, addr, buf, len, done)
			       ? 0
			       : files_mem(r, addr, buf, len, done);
	/* the thread that stopped sees what its emulated code wrote */
	if (r->stop_th >= 0 && replay_emu_active(r, (size_t)r->stop_th))
		return replay_emu_read(r, (size_t)r->stop_th, addr, buf, len, done);
	return replay_read_mem_at(r, r->pos, addr, buf, len, done);
}

static int op_refuse(void *t)
{
	return -EPERM; /* the past cannot be changed */
}

static int op_write_regs(void *t, struct rsp_ptid th, const uint8_t *buf)
{
	return op_refuse(t);
}

static int op_write_reg(void *t, struct rsp_ptid th, unsigned regno, const uint8_t *val, size_t len)
{
	return op_refuse(t);
}

static int op_write_mem(void *t, taddr_t addr, const uint8_t *buf, size_t len)
{
	return op_refuse(t);
}

static bool known_now(const struct replay *r, size_t th)
{
	return replay_hist_thread_at(&r->h, th, r->pos) >= 0;
}

/* The threads that have hit a frame by the present, as if the others did not exist yet. */
static int op_list_threads(void *t, struct rsp_thread_info *out, size_t cap, size_t *n)
{
	struct replay *r = t;
	size_t k = 0;

	for (size_t th = 0; th < r->h.nth; th++) {
		if (!known_now(r, th))
			continue;
		if (k < cap) {
			memset(&out[k], 0, sizeof(out[k]));
			out[k].id = (struct rsp_ptid){r->h.th[th].pid, r->h.th[th].tid};
			out[k].core = -1;
			memcpy(out[k].name, r->name, sizeof(r->name));
		}
		k++;
	}
	*n = k;
	return 0;
}

static bool op_thread_alive(void *t, struct rsp_ptid id)
{
	struct replay *r = t;
	int64_t th = thread_index(r, id);

	return th >= 0 && known_now(r, (size_t)th);
}

static int op_kill(void *t, int64_t pid)
{
	return 0; /* nothing runs; the connection ends */
}

static int op_attached(void *t, int64_t pid, bool *was)
{
	*was = true; /* gdb then detaches on quit */
	return 0;
}

/* Copy [off, off + len) of an object of size n. */
static int slice(const void *obj, size_t n, uint64_t off, uint8_t *buf, size_t len, size_t *out_len)
{
	*out_len = 0;
	if (off >= n)
		return 0;
	*out_len = n - off < len ? n - off : len;
	memcpy(buf, (const uint8_t *)obj + off, *out_len);
	return 0;
}

static int op_xfer_features(void *t, const char *annex, size_t annex_len, uint64_t off,
			    uint8_t *buf, size_t len, size_t *out_len)
{
	return x86_64_target_xml_read(annex, annex_len, off, buf, len, out_len);
}

void replay_build_auxv(struct replay *r)
{
	const struct replay_mod *e = &r->mods[0];
	const uint64_t v[] = {
		AT_PHDR,   e->phdr,
		AT_PHENT,  sizeof(Elf64_Phdr),
		AT_PHNUM,  e->phnum,
		AT_PAGESZ, 4096,
		AT_BASE,   r->interp ? r->mods[r->interp].bias : 0,
		AT_FLAGS,  0,
		AT_ENTRY,  e->entry,
		AT_NULL,   0,
	};

	r->auxv_len = 0;
	if (!r->have_exe)
		return;
	memcpy(r->auxv, v, sizeof(v));
	r->auxv_len = sizeof(v);
}

static int op_xfer_auxv(void *t, uint64_t off, uint8_t *buf, size_t len, size_t *out_len)
{
	struct replay *r = t;

	if (!r->auxv_len)
		return -ESRCH;
	return slice(r->auxv, r->auxv_len, off, buf, len, out_len);
}

static int op_list_libraries(void *t, struct rsp_library *out, size_t cap, size_t *n)
{
	struct replay *r = t;
	size_t k = 0;

	for (size_t i = 1; i < r->nmods; i++, k++) {
		const struct replay_mod *m = &r->mods[i];

		if (k >= cap)
			continue;
		/* The loader's own entry is named as the program asks for it (PT_INTERP), like
		 * its link_map: lldb would load it a second time under another name. */
		out[k].name = i == r->interp ? r->mods[0].interp : m->path;
		out[k].l_addr = m->bias;
		out[k].l_ld = m->dynamic ? m->dynamic + m->bias : 0;
		/* No link_map was recorded: a distinct address nobody reads. */
		out[k].lm = out[k].l_ld ? out[k].l_ld : m->bias;
		out[k].lmid = 0;
	}
	*n = k;
	return 0;
}

static int op_exec_file(void *t, int64_t pid, char *buf, size_t cap)
{
	struct replay *r = t;

	if (!r->have_exe)
		return -ESRCH;
	if (strlen(r->mods[0].path) >= cap)
		return -ENAMETOOLONG;
	strcpy(buf, r->mods[0].path);
	return 0;
}

static int op_process_info(void *t, struct rsp_process_info *out)
{
	struct replay *r = t;

	memset(out, 0, sizeof(*out));
	out->pid = r->h.pid;
	out->uid = out->euid = getuid();
	out->gid = out->egid = getgid();
	out->name = r->have_exe ? r->mods[0].path : NULL;
	return 0;
}

/* Memory regions: module segments, the collected blocks of the present, else a gap. */
static int op_region_info(void *t, taddr_t addr, struct rsp_region_info *out)
{
	struct replay *r = t;
	taddr_t next = UINT64_MAX;

	for (size_t i = 0; i < r->nmods; i++) {
		if (!i && !r->have_exe)
			continue;
		if (replay_mod_region(&r->mods[i], addr, out))
			return 0;
		taddr_t a = replay_mod_next(&r->mods[i], addr);
		next = a < next ? a : next;
	}
	memset(out, 0, sizeof(*out));
	for (size_t th = 0; th < r->h.nth; th++) {
		int64_t idx = replay_frame_for(r, th);
		struct tracebuf_frame fr;
		struct tracebuf_block b;
		size_t off = 0;

		if (idx < 0 || tracebuf_frame(r->tb, r->h.fr[idx].num, &fr))
			continue;
		while (tracebuf_next_block(&fr, &off, &b) == 1) {
			if (b.type != 'M' || !b.len)
				continue;
			if (addr >= b.addr && addr - b.addr < b.len) {
				*out = (struct rsp_region_info){.start = b.addr,
								.size = b.len,
								.mapped = true,
								.r = true,
								.w = true};
				return 0;
			}
			if (b.addr > addr && b.addr < next)
				next = b.addr;
		}
	}
	out->start = addr;
	out->size = next - addr;
	return 0;
}

static bool overlaps(const struct rsp_mem_range *r, size_t n, taddr_t lo, taddr_t hi)
{
	for (size_t i = 0; i < n; i++)
		if (lo < r[i].addr + r[i].len && r[i].addr < hi)
			return true;
	return false;
}

/* lldb reads memory in aligned 512-byte lines and gives up on a line whose start it cannot
 * read; a collected block (the stack from rsp) rarely starts on one. The head of each block,
 * up to a little past the first line boundary, goes ahead with the stop instead. */
static int op_expedite_mem(void *t, struct rsp_ptid id, struct rsp_mem_range *out, size_t cap,
			   size_t *n)
{
	struct replay *r = t;
	int64_t th = thread_index(r, id), idx = th < 0 ? -1 : replay_frame_for(r, (size_t)th);
	struct tracebuf_frame fr;
	struct tracebuf_block b;
	size_t off = 0;

	*n = 0;
	if (idx < 0 || tracebuf_frame(r->tb, r->h.fr[idx].num, &fr))
		return -ESRCH;
	if (r->tsel < 0 && replay_emu_active(r, (size_t)th))
		*n = replay_emu_expedite(r, (size_t)th, out, cap);
	while (*n < cap && tracebuf_next_block(&fr, &off, &b) == 1) {
		taddr_t end = ((b.addr + 511) & ~(taddr_t)511) + 64;

		if (b.type != 'M' || !(b.addr & 511) || !b.len)
			continue;
		end = end < b.addr + b.len ? end : b.addr + b.len;
		if (overlaps(out, *n, b.addr, end))
			continue; /* sent already, from what the emulated code sees */
		out[*n].addr = b.addr;
		out[*n].len = end - b.addr < RSP_EXPEDITE_MAX ? end - b.addr : RSP_EXPEDITE_MAX;
		(*n)++;
	}
	return 0;
}

static void op_set_client_features(void *t, const struct rsp_client_features *f)
{
	replay_of(t)->lldb = f->is_lldb;
}

static const struct rsp_reg_layout *op_reg_layout(void *t)
{
	return &replay_of(t)->layout;
}

const struct rsp_target_ops replay_ops = {
	.reg_layout = op_reg_layout,
	.read_regs = op_read_regs,
	.write_regs = op_write_regs,
	.write_reg = op_write_reg,
	.read_mem = op_read_mem,
	.write_mem = op_write_mem,
	.insert_point = replay_insert_point,
	.remove_point = replay_remove_point,
	.resume = replay_resume,
	.interrupt = replay_interrupt,
	.last_stop = replay_last_stop,
	.list_threads = op_list_threads,
	.thread_alive = op_thread_alive,
	.kill = op_kill,
	.detach = op_kill,
	.attached = op_attached,
	.xfer_features = op_xfer_features,
	.xfer_auxv = op_xfer_auxv,
	.list_libraries = op_list_libraries,
	.exec_file = op_exec_file,
	.process_info = op_process_info,
	.region_info = op_region_info,
	.expedite_mem = op_expedite_mem,
	.monitor = replay_monitor,
	.set_client_features = op_set_client_features,
	.reverse_step = replay_reverse_step,
	.reverse_continue = replay_reverse_continue,
	.trace = &replay_trace_ops,
};
