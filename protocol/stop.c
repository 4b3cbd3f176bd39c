/* Stop replies (PROTOCOL.md 1.5): T with expedited registers, thread, core and
 * one reason key; W/X/w/N. The PC is never adjusted here: the TARGET rewinds it
 * after an int3 for every client (lldb never negotiates swbreak but expects a
 * rewound PC; gdb negotiates swbreak and then expects the same), so the
 * protocol only reports what it is given. */
#include "protocol/stop.h"

#include <errno.h>
#include <string.h>

#include "protocol/internal.h"
#include "protocol/signals.h"

const char *rsp_stop_lldb_reason(enum rsp_stop_reason r, int signo)
{
	switch (r) {
	case RSP_REASON_SWBREAK:
	case RSP_REASON_HWBREAK:
		return "breakpoint";
	case RSP_REASON_TRACE:
		return "trace";
	case RSP_REASON_WATCH:
	case RSP_REASON_RWATCH:
	case RSP_REASON_AWATCH:
		return "watchpoint";
	case RSP_REASON_SIGNAL:
		return "signal";
	case RSP_REASON_NONE:
		return signo && signo != 5 ? "signal" : NULL;
	default:
		return NULL;
	}
}

static void put_reg(struct rsp_buf *b, const struct rsp_reg_info *r, unsigned regno,
		    const uint8_t *g, const uint8_t *avail)
{
	rsp_buf_hex_u64_w(b, regno, 2);
	rsp_buf_putc(b, ':');
	if (avail[regno])
		rsp_buf_hex(b, g + r->offset, r->bitsize / 8);
	else
		for (unsigned i = 0; i < r->bitsize / 8; i++)
			rsp_buf_puts(b, "xx");
	rsp_buf_putc(b, ';');
}

static void put_expedited(struct rsp_session *s, struct rsp_ptid th, struct rsp_buf *b)
{
	const struct rsp_reg_layout *l = rsp_layout(s);
	if (!l || !s->ops->read_regs)
		return;
	memset(s->gavail, 0, l->nregs);
	if (s->ops->read_regs(s->t, th, s->gbuf, s->gavail))
		return;
	for (unsigned i = 0; i < l->nregs; i++) {
		const struct rsp_reg_info *r = &l->regs[i];
		/* lldb-server sends every GPR (0..16 on x86_64); gdb only the expedite set.
		 */
		bool want = r->expedite || (s->feat.is_lldb && i <= 16);
		/* gdb refuses xx in a stop reply ("Invalid hex digit 120"): it gets no
		 * unavailable register (it reads them with g, where xx is fine). */
		if (!s->gavail[i] && !s->feat.is_lldb)
			want = false;
		if (want && r->offset + r->bitsize / 8 <= l->g_size)
			put_reg(b, r, i, s->gbuf, s->gavail);
	}
}

int rsp_stop_expedite(struct rsp_session *s, struct rsp_ptid th, struct rsp_buf *b, bool json)
{
	struct rsp_mem_range r[RSP_EXPEDITE_RANGES];
	uint8_t mem[RSP_EXPEDITE_MAX];
	size_t n = 0, k = 0, done;

	if (!s->feat.is_lldb || !s->ops->expedite_mem ||
	    s->ops->expedite_mem(s->t, th, r, RSP_EXPEDITE_RANGES, &n))
		return 0;
	for (size_t i = 0; i < n && i < RSP_EXPEDITE_RANGES; i++) {
		size_t len = r[i].len < sizeof(mem) ? r[i].len : sizeof(mem);

		/* room for the rest of the reply, whatever the other threads need */
		if (b->cap - b->len < 2 * len + 4096 ||
		    s->ops->read_mem(s->t, r[i].addr, mem, len, &done) || !done)
			continue;
		if (!json) {
			rsp_buf_puts(b, "memory:0x");
			rsp_buf_hex_u64(b, r[i].addr);
			rsp_buf_putc(b, '=');
			rsp_buf_hex(b, mem, done);
			rsp_buf_putc(b, ';');
			continue;
		}
		rsp_buf_puts(b, k++ ? ",{\"address\":" : ",\"memory\":[{\"address\":");
		rsp_buf_dec_u64(b, r[i].addr);
		rsp_buf_puts(b, ",\"bytes\":\"");
		rsp_buf_hex(b, mem, done);
		rsp_buf_puts(b, "\"}");
	}
	if (k)
		rsp_buf_putc(b, ']');
	return 0;
}

static int pc_regno(const struct rsp_reg_layout *l)
{
	for (size_t i = 0; i < l->nregs; i++)
		if (l->regs[i].generic && !strcmp(l->regs[i].generic, "pc"))
			return (int)i;
	return -1;
}

/* lldb: threads:t1,t2;thread-pcs:pc1,pc2; after QListThreadsInStopReply. */
static void put_thread_list(struct rsp_session *s, struct rsp_buf *b)
{
	const struct rsp_reg_layout *l = rsp_layout(s);
	if (rsp_load_threads(s))
		return;
	rsp_buf_puts(b, "threads:");
	for (size_t i = 0; i < s->nthreads; i++) {
		if (i)
			rsp_buf_putc(b, ',');
		rsp_buf_hex_i64(b, s->threads[i].id.tid);
	}
	rsp_buf_putc(b, ';');
	int pc = l ? pc_regno(l) : -1;
	if (pc < 0 || !s->ops->read_regs)
		return;
	rsp_buf_puts(b, "thread-pcs:");
	for (size_t i = 0; i < s->nthreads; i++) {
		uint64_t v = 0;
		const struct rsp_reg_info *r = &l->regs[pc];
		if (i)
			rsp_buf_putc(b, ',');
		memset(s->gavail, 0, l->nregs);
		if (!s->ops->read_regs(s->t, s->threads[i].id, s->gbuf, s->gavail) &&
		    s->gavail[pc] && r->bitsize == 64)
			for (int k = 7; k >= 0; k--)
				v = v << 8 | s->gbuf[r->offset + k];
		rsp_buf_hex_u64_w(b, v, 16);
	}
	rsp_buf_putc(b, ';');
}

static void put_name(struct rsp_session *s, struct rsp_ptid th, struct rsp_buf *b)
{
	if (rsp_load_threads(s))
		return;
	for (size_t i = 0; i < s->nthreads; i++) {
		if (s->threads[i].id.tid != th.tid || !s->threads[i].name[0])
			continue;
		const char *name = s->threads[i].name;
		s->threads[i].name[sizeof(s->threads[i].name) - 1] = 0;
		/* Plain names go as name:, anything that could clash with the packet syntax as
		 * hexname: (both are lldb keys). */
		if (name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "0123456789_-.")]) {
			rsp_buf_puts(b, "hexname:");
			rsp_buf_hex_str(b, name);
		} else {
			rsp_buf_puts(b, "name:");
			rsp_buf_puts(b, name);
		}
		rsp_buf_putc(b, ';');
		return;
	}
}

static void put_reason(struct rsp_session *s, const struct rsp_stop *st, struct rsp_buf *b)
{
	const struct rsp_client_features *f = &s->feat;
	switch (st->reason) {
	case RSP_REASON_SWBREAK:
		if (f->swbreak)
			rsp_buf_puts(b, "swbreak:;");
		break;
	case RSP_REASON_HWBREAK:
		if (f->hwbreak)
			rsp_buf_puts(b, "hwbreak:;");
		break;
	case RSP_REASON_WATCH:
	case RSP_REASON_RWATCH:
	case RSP_REASON_AWATCH:
		rsp_buf_puts(b, st->reason == RSP_REASON_WATCH	  ? "watch:"
				: st->reason == RSP_REASON_RWATCH ? "rwatch:"
								  : "awatch:");
		rsp_buf_hex_u64(b, st->watch_addr);
		rsp_buf_putc(b, ';');
		break;
	case RSP_REASON_FORK:
	case RSP_REASON_VFORK:
		if (st->reason == RSP_REASON_FORK ? f->fork_events : f->vfork_events) {
			rsp_buf_puts(b, st->reason == RSP_REASON_FORK ? "fork:" : "vfork:");
			rsp_put_ptid(s, b, st->child);
			rsp_buf_putc(b, ';');
		}
		break;
	case RSP_REASON_VFORKDONE:
		if (f->vfork_events)
			rsp_buf_puts(b, "vforkdone:;");
		break;
	case RSP_REASON_EXEC:
		if (f->exec_events) {
			rsp_buf_puts(b, "exec:");
			rsp_buf_hex_str(b, st->exec_path ? st->exec_path : "");
			rsp_buf_putc(b, ';');
		}
		break;
	case RSP_REASON_CREATE:
		if (f->thread_events)
			rsp_buf_puts(b, "create:;");
		break;
	case RSP_REASON_LIBRARY:
		rsp_buf_puts(b, "library:;");
		break;
	case RSP_REASON_SYSCALL_ENTRY:
	case RSP_REASON_SYSCALL_RETURN:
		rsp_buf_puts(b, st->reason == RSP_REASON_SYSCALL_ENTRY ? "syscall_entry:"
								       : "syscall_return:");
		rsp_buf_hex_u64(b, (uint64_t)st->syscall_no);
		rsp_buf_putc(b, ';');
		break;
	case RSP_REASON_REPLAY_BEGIN:
		rsp_buf_puts(b, "replaylog:begin;");
		break;
	case RSP_REASON_REPLAY_END:
		rsp_buf_puts(b, "replaylog:end;");
		break;
	default:
		break;
	}
}

static void put_process(struct rsp_session *s, const struct rsp_stop *st, struct rsp_buf *b)
{
	if (!s->feat.multiprocess)
		return;
	rsp_buf_puts(b, ";process:");
	rsp_buf_hex_i64(b, st->thread.pid);
}

static void put_thread_core(struct rsp_session *s, const struct rsp_stop *st, struct rsp_buf *b)
{
	rsp_buf_puts(b, "thread:");
	rsp_put_ptid(s, b, st->thread);
	rsp_buf_putc(b, ';');
	if (st->core >= 0) {
		rsp_buf_puts(b, "core:");
		rsp_buf_hex_u64(b, (uint64_t)st->core);
		rsp_buf_putc(b, ';');
	}
}

int rsp_stop_format(struct rsp_session *s, const struct rsp_stop *st, struct rsp_buf *b)
{
	int sig = rsp_sig_out(s, st->signo);

	switch (st->kind) {
	case RSP_STOP_EXITED:
		rsp_buf_putc(b, 'W');
		rsp_buf_hex_u64_w(b, (uint64_t)(st->status & 0xff), 2);
		put_process(s, st, b);
		break;
	case RSP_STOP_TERMINATED:
		rsp_buf_putc(b, 'X');
		rsp_buf_hex_u64_w(b, (uint64_t)sig, 2);
		put_process(s, st, b);
		break;
	case RSP_STOP_THREAD_EXITED:
		rsp_buf_putc(b, 'w');
		rsp_buf_hex_u64_w(b, (uint64_t)(st->status & 0xff), 2);
		rsp_buf_putc(b, ';');
		rsp_put_ptid(s, b, st->thread);
		break;
	case RSP_STOP_NO_RESUMED:
		rsp_buf_putc(b, 'N');
		break;
	default:
		/* --disable-packet=T: plain S replies; Tthread: no thread or core (gdbserver's
		 * meanings). */
		if (rsp_is_disabled(s, (const uint8_t *)"T", 1)) {
			rsp_buf_putc(b, 'S');
			rsp_buf_hex_u64_w(b, (uint64_t)sig, 2);
			s->g_thread = st->thread;
			break;
		}
		rsp_buf_putc(b, 'T');
		rsp_buf_hex_u64_w(b, (uint64_t)sig, 2);
		put_expedited(s, st->thread, b);
		if (!rsp_is_disabled(s, (const uint8_t *)"Tthread", 7))
			put_thread_core(s, st, b);
		put_reason(s, st, b);
		if (s->feat.is_lldb) {
			const char *r = rsp_stop_lldb_reason(st->reason, st->signo);
			put_name(s, st->thread, b);
			if (r) {
				rsp_buf_puts(b, "reason:");
				rsp_buf_puts(b, r);
				rsp_buf_putc(b, ';');
			}
			if (st->description) {
				rsp_buf_puts(b, "description:");
				rsp_buf_hex_str(b, st->description);
				rsp_buf_putc(b, ';');
			}
		}
		if (s->list_threads_in_stop)
			put_thread_list(s, b);
		rsp_stop_expedite(s, st->thread, b, false);
		s->g_thread = st->thread;
		break;
	}
	return b->overflow ? -ENOSPC : 0;
}
