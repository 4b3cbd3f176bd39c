/* netcorr (--correlate): requests followed through stream sockets. libc's read/write family
 * is traced (internal probes, trap path: the descriptor is looked up while the call is in
 * it); each socket is identified as the kernel knows it (/proc/PID/fd, /proc/PID/net/tcp{,6},
 * /proc/PID/net/unix; a Unix socket's peer through sock_diag) and its bytes are counted per
 * direction. Spans come from what both ends of a connection see, so tracers that never talk
 * (one per host) give ids a collector joins:
 *   - a write by the client side (the side that did not accept) at offset W of the flow
 *     src>dst is an anchor: a CLIENT span in the request's trace, trace id T(flow, W), span
 *     id A(flow, W), with a link to the traced call that made the write (its own trace);
 *   - a read by the server side that starts a run of reads at offset O is a SERVER span,
 *     trace T(flow, O), parent A(flow, O), lasting to the last write of the response run;
 *     calls traced on that thread meanwhile (roots of its call stack) nest under it.
 * T, A and the server span's own id are FNV-1a 64 over "src>dst/offset/" + a tag
 * ("trace-hi", "trace-lo", "anchor", "server"); src and dst are "ip:port" (IPv4-mapped
 * IPv6 as IPv4); a Unix socket's flow is "unix:CLIENT-INODE>server". Offsets count from when
 * the tracer first sees the socket.
 * Runs only on the tracer's hit path; reads /proc and one netlink socket, never the
 * program's memory. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/tracer/internal.h"
#include "stub/tracer/netcorr.h"

#define NCONN 1024
/* Span names: few, so that collectors can group them (the peer is an attribute). */
#define CLIENT_NAME "send request"
#define SERVER_NAME "serve request"
#define NCTX	    256

/* A thread (or goroutine) serving a request: roots of its call stack nest under the server
 * span. */
struct nctx {
	pid_t pid;
	uint64_t key; /* the tid, or the goroutine's g */
	int32_t con;  /* index into conns, -1 free */
};

/* Go: where internal/poll.FD keeps its descriptor, per module. */
struct ngo {
	const struct tmod *mod;
	uint64_t sysfd; /* UINT64_MAX: unknown */
	uint64_t req;	/* net/http.transportRequest's *Request */
};

/* Go's net/http writes a request from the connection's writer goroutine, not the one that
 * asked: the *http.Request both see carries the asker's span over (a ring of the latest). */
#define NHAND 64
struct nhand {
	pid_t pid;
	uint64_t req, key; /* the request; in writing: the goroutine writing it */
	uint8_t trace[16]; /* the traced call that asked for it */
	uint64_t span;
};

struct netcorr {
	struct ncon conns[NCONN];
	struct nctx ctx[NCTX];
	struct ngo go[8];
	struct nhand asked[NHAND]; /* roundTrip: request -> its asker */
	unsigned nasked;
	struct nhand writing[NHAND]; /* Request.write in progress: goroutine -> the asker */
};

static struct netcorr *nc_of(struct trace *t)
{
	if (!t->netcorr && (t->netcorr = calloc(1, sizeof(*t->netcorr))))
		for (int i = 0; i < NCTX; i++)
			t->netcorr->ctx[i].con = -1;
	return t->netcorr;
}

/* ---- ids ---- */

/* The key of the j-th request of a run at offset off: "off" for the first (j 0), "off+j"
 * for the ones pipelined after it (written back to back, answered in turn). */
static uint64_t fnv(const char *flow, uint64_t off, uint32_t j, const char *tag)
{
	char buf[256];
	int n = j ? snprintf(buf, sizeof(buf), "%s/%" PRIu64 "+%" PRIu32 "/%s", flow, off, j, tag)
		  : snprintf(buf, sizeof(buf), "%s/%" PRIu64 "/%s", flow, off, tag);
	uint64_t h = 0xcbf29ce484222325ull;

	for (int i = 0; i < n && i < (int)sizeof(buf); i++)
		h = (h ^ (uint8_t)buf[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

static void be64(uint8_t *out, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static void trace_id_of(const char *flow, uint64_t off, uint32_t j, uint8_t out[16])
{
	be64(out, fnv(flow, off, j, "trace-hi"));
	be64(out + 8, fnv(flow, off, j, "trace-lo"));
}

static void drop(struct trace *t, struct netcorr *nc, struct ncon *k);

static struct ncon *lookup(struct trace *t, struct netcorr *nc, pid_t pid, int fd)
{
	char path[64], link[64];
	unsigned long long ino;
	struct ncon *c, *free_c = NULL;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return NULL;
	link[n] = 0;
	if (sscanf(link, "socket:[%llu]", &ino) != 1)
		return NULL;
	for (int i = 0; i < NCONN; i++) {
		c = &nc->conns[i];
		if (!c->used) {
			if (!free_c)
				free_c = c;
			continue;
		}
		if (c->pid == pid && c->fd == fd) {
			if (c->ino == ino)
				return c->sock ? c : NULL;
			drop(t, nc, c); /* the descriptor now names another socket */
			free_c = c;
			break;
		}
	}
	if (!(c = free_c))
		return NULL;
	*c = (struct ncon){.used = true, .pid = pid, .fd = fd, .ino = ino};
	c->sock = netcorr_name(c);
	return c->sock ? c : NULL;
}

/* ---- spans ---- */

/* The client-to-server flow of c's connection, as both ends name it: "src>dst" for TCP; for
 * a Unix socket "unix:CLIENT>server" (the client's inode: the server's end may not have one
 * yet when the client first writes, before the accept). */
static void flow_of(const struct ncon *c, char *out, size_t cap)
{
	const char *client = c->server ? c->remote : c->local;
	const char *server = c->server ? c->local : c->remote;

	if (!strcmp(c->transport, "unix"))
		snprintf(out, cap, "%s>server", client);
	else
		snprintf(out, cap, "%s>%s", client, server);
}

static struct nctx *ctx_of(struct netcorr *nc, pid_t pid, uint64_t key, bool make)
{
	struct nctx *free_x = NULL;

	for (int i = 0; i < NCTX; i++) {
		struct nctx *x = &nc->ctx[i];

		if (x->con >= 0 && x->pid == pid && x->key == key)
			return x;
		if (x->con < 0 && !free_x)
			free_x = x;
	}
	if (make && free_x) {
		free_x->pid = pid;
		free_x->key = key;
	}
	return make ? free_x : NULL;
}

/* A synthetic event of a socket span into t->ev, then out. */
static void out(struct trace *t, const struct ncon *c, enum tevent_type type, pid_t tid,
		uint64_t at_ns, const char *name, int kind)
{
	struct tevent *ev = &t->ev;
	struct tspace *sp;

	tevent_init(ev, type);
	ev->pid = c->pid;
	ev->tid = tid;
	ev->time_ns = at_ns > t->start_ns ? at_ns - t->start_ns : 0;
	ev->func = name;
	ev->module = c->transport;
	ev->exe = (sp = trace_space_find(t, c->pid)) && sp->exe ? sp->exe->name : NULL;
	ev->span_kind = kind;
	ev->peer_addr = c->peer_addr;
	ev->peer_port = c->peer_port;
	ev->transport = c->transport;
	ev->seq = ++t->seq;
}

static void server_end(struct trace *t, struct ncon *c)
{
	struct tevent *ev = &t->ev;

	if (!c->open)
		return;
	c->open = false;
	out(t, c, TEVENT_RETURN, c->tid, c->end_ns, SERVER_NAME, TSPAN_SERVER);
	memcpy(ev->trace_id, c->trace, 16);
	ev->span_id = c->span;
	ev->parent_span_id = c->parent;
	ev->duration_ns = c->end_ns > c->start_ns ? c->end_ns - c->start_ns : 0;
	trace_out_event(t, ev);
}

/* Forget socket k: its server span out, the threads and goroutines that served it freed. A
 * thread's link to a socket outlives each span (only the socket's end drops it): Go's
 * net/http may read a request's first byte on a background goroutine while the connection's
 * goroutine, which reads the rest and runs the handler, keeps pointing here. */
static void drop(struct trace *t, struct netcorr *nc, struct ncon *k)
{
	server_end(t, k);
	for (int i = 0; i < NCTX; i++)
		if (nc->ctx[i].con == (int32_t)(k - nc->conns))
			nc->ctx[i].con = -1;
	k->used = false;
}

static void server_begin(struct trace *t, struct netcorr *nc, struct ncon *c, pid_t tid,
			 uint64_t key, uint64_t at_ns, uint64_t off, uint32_t j)
{
	struct tevent *ev = &t->ev;
	char flow[200];
	struct nctx *x;

	server_end(t, c);
	flow_of(c, flow, sizeof(flow));
	trace_id_of(flow, off, j, c->trace);
	c->parent = fnv(flow, off, j, "anchor");
	c->span = fnv(flow, off, j, "server");
	c->run = off;
	c->j = j;
	c->first = NULL;
	c->wrote = false;
	c->start_ns = c->end_ns = at_ns;
	c->tid = tid;
	c->key = key;
	c->open = true;
	out(t, c, TEVENT_CALL, tid, at_ns, SERVER_NAME, TSPAN_SERVER);
	memcpy(ev->trace_id, c->trace, 16);
	ev->span_id = c->span;
	ev->parent_span_id = c->parent;
	trace_out_event(t, ev);
	if ((x = ctx_of(nc, c->pid, key, true)))
		x->con = (int32_t)(c - nc->conns);
}

/* The client's write, the j-th of a run of writes at offset w: its anchor, linked to the call
 * that made it. */
static void anchor(struct trace *t, struct ncon *c, pid_t tid, uint64_t t0, uint64_t t1, uint64_t w,
		   uint32_t j, const struct tcall *by, const struct nhand *asker)
{
	struct tevent *ev = &t->ev;
	char flow[200];
	uint8_t trace[16];
	uint64_t span;

	flow_of(c, flow, sizeof(flow));
	trace_id_of(flow, w, j, trace);
	span = fnv(flow, w, j, "anchor");
	for (int k = 0; k < 2; k++) {
		out(t, c, k ? TEVENT_RETURN : TEVENT_CALL, tid, k ? t1 : t0, CLIENT_NAME,
		    TSPAN_CLIENT);
		memcpy(ev->trace_id, trace, 16);
		ev->span_id = span;
		if (by) {
			memcpy(ev->link_trace_id, by->trace_id, 16);
			ev->link_span_id = by->span_id;
		} else if (asker) {
			memcpy(ev->link_trace_id, asker->trace, 16);
			ev->link_span_id = asker->span;
		}
		if (k)
			ev->duration_ns = t1 > t0 ? t1 - t0 : 0;
		trace_out_event(t, ev);
	}
}

/* ---- the probes ---- */

/* What a probe does: libc's read/write family or Go's poller (internal/poll.(*FD).Read). */
enum io_op { IO_READ, IO_WRITE, IO_CLOSE, IO_ASK, IO_REQWRITE };

static enum io_op op_of(const char *fn)
{
	if (!strcmp(fn, "net/http.(*persistConn).roundTrip"))
		return IO_ASK;
	if (!strcmp(fn, "net/http.(*Request).write"))
		return IO_REQWRITE;
	const char *dot = strrchr(fn, '.');
	const char *base = dot && dot[1] ? dot + 1 : fn;

	if (!strcmp(base, "close") || !strcmp(base, "Close"))
		return IO_CLOSE;
	if (!strcmp(base, "write") || !strcmp(base, "send") || !strcmp(base, "sendto") ||
	    !strcmp(base, "sendmsg") || !strcmp(base, "writev") || !strcmp(base, "Write"))
		return IO_WRITE;
	return IO_READ;
}

/* Go's FD.Sysfd and transportRequest.Request offsets in module tm (from its DWARF),
 * UINT64_MAX when unknown. */
static const struct ngo *go_layout(struct netcorr *nc, struct tmod *tm)
{
	static const struct ngo none = {NULL, UINT64_MAX, UINT64_MAX};
	struct dwarfinfo *di;
	struct ngo g = {tm, UINT64_MAX, UINT64_MAX};
	int i;

	for (i = 0; i < 8 && nc->go[i].mod; i++)
		if (nc->go[i].mod == tm)
			return &nc->go[i];
	if (!tm || i == 8)
		return &none;
	if ((di = module_dwarf(tm->m))) {
		if (dwarfinfo_member_offset(di, "internal/poll.FD", "Sysfd", &g.sysfd))
			g.sysfd = UINT64_MAX;
		if (dwarfinfo_member_offset(di, "net/http.transportRequest", "Request", &g.req))
			g.req = UINT64_MAX;
	}
	nc->go[i] = g;
	return &nc->go[i];
}

/* The descriptor a probe's call is on: C's first argument; Go's *FD (the receiver, in RAX
 * under Go's register ABI) holds it in Sysfd. -1 when unknown. */
static int fd_of(struct trace_hitctx *hc, struct netcorr *nc, const struct tcall *c)
{
	const struct probe_hit *hit = hc->hit;
	uint64_t off;
	int64_t fd;

	if (!c->f->go)
		return (int)hit->regs->rdi;
	off = go_layout(nc, c->f->mod)->sysfd;
	if (off == UINT64_MAX || trace_read(hc, hit->regs->rax + off, &fd, 8))
		return -1;
	return (int)fd;
}

static struct nhand *writing_of(struct netcorr *nc, pid_t pid, uint64_t key)
{
	for (int i = 0; i < NHAND; i++)
		if (nc->writing[i].req && nc->writing[i].pid == pid && nc->writing[i].key == key)
			return &nc->writing[i];
	return NULL;
}

/* Go's hand-over: roundTrip notes which traced call asked for the request; Request.write
 * on the writer goroutine finds it, for the anchors that goroutine writes until its next
 * request. */
static void handover(struct trace_hitctx *hc, struct netcorr *nc, const struct tcall *c,
		     const struct tcall *by, uint64_t key, bool ask)
{
	const struct probe_hit *hit = hc->hit;
	uint64_t req = hit->regs->rax, off;

	if (ask) {
		off = go_layout(nc, c->f->mod)->req;
		if (!by || off == UINT64_MAX || trace_read(hc, hit->regs->rbx + off, &req, 8))
			return;
		struct nhand *h = &nc->asked[nc->nasked++ % NHAND];

		*h = (struct nhand){hit->pid, req, 0, {0}, by->span_id};
		memcpy(h->trace, by->trace_id, 16);
		return;
	}
	for (int i = 0; i < NHAND; i++) {
		const struct nhand *a = &nc->asked[i];
		struct nhand *w;

		if (!a->req || a->pid != hit->pid || a->req != req)
			continue;
		if (!(w = writing_of(nc, hit->pid, key)))
			for (int k = 0; k < NHAND && !w; k++)
				if (!nc->writing[k].req)
					w = &nc->writing[k];
		if (w) {
			*w = *a;
			w->key = key;
		}
		return;
	}
}

void netcorr_entry(struct trace_hitctx *hc, struct tcall *c, const struct tcall *by, uint64_t key)
{
	struct trace *t = hc->t;
	struct netcorr *nc = nc_of(t);
	pid_t pid = hc->hit->pid;
	enum io_op op = op_of(c->f->name);
	int fd;

	c->io_fd = -1;
	if (!nc)
		return;
	if (op == IO_ASK || op == IO_REQWRITE) {
		handover(hc, nc, c, by, key, op == IO_ASK);
		return;
	}
	c->io_fd = fd = fd_of(hc, nc, c);
	if (op == IO_WRITE && fd >= 0) {
		/* A server's response has begun once its write is entered: the next request's
		 * bytes, which it causes, may be read (another thread's read returning) before
		 * this write's return is seen. */
		for (int i = 0; i < NCONN; i++) {
			struct ncon *k = &nc->conns[i];

			if (k->used && k->pid == pid && k->fd == fd) {
				c->io_seq = ++k->seq;
				if (k->server) {
					k->last = 2;
					k->wrote = k->open;
				}
				break;
			}
		}
		return;
	}
	if (op != IO_CLOSE || fd < 0)
		return;
	for (int i = 0; i < NCONN; i++) {
		struct ncon *k = &nc->conns[i];

		if (k->used && k->pid == pid && k->fd == fd)
			drop(t, nc, k);
	}
}

void netcorr_return(struct trace_hitctx *hc, const struct tcall *c, const struct tcall *by,
		    uint64_t key)
{
	struct trace *t = hc->t;
	const struct probe_hit *hit = hc->hit;
	struct netcorr *nc = nc_of(t);
	int64_t n = (int64_t)hit->regs->rax;
	enum io_op op = op_of(c->f->name);
	struct ncon *k;

	/* A Request.write's hand-over lasts past its return: the writer goroutine flushes the
	 * request's bytes (pc.bw.Flush) after it; the next request it writes replaces it. */
	if (!nc || n <= 0 || (op != IO_READ && op != IO_WRITE) || c->io_fd < 0 ||
	    !(k = lookup(t, nc, hit->pid, c->io_fd)))
		return;
	if (op == IO_WRITE) {
		uint64_t w = k->sent;

		k->wj = k->last != 2 ? 0 : k->wj + 1; /* a new run of writes, or one more */
		k->woff[k->wj % NALIAS] = w;
		k->sent += (uint64_t)n;
		/* (a write first seen here, at its return, counts from now) */
		if (!c->io_seq || c->io_seq > k->rseq)
			k->last = 2;
		if (k->server) {
			if (k->open) {
				k->end_ns = hit->time_ns;
				k->wrote = true;
			}
		} else {
			/* its own offset; and, pipelined, the m-th request of a read run that
			 * began m writes before (a server may read them in one go) */
			for (uint32_t m = 0; m <= k->wj && m < NALIAS; m++)
				anchor(t, k, hit->tid, c->t_ns, hit->time_ns,
				       k->woff[(k->wj - m) % NALIAS], m, by,
				       by ? NULL : writing_of(nc, hit->pid, key));
		}
		return;
	}
	if (k->server && k->last != 1) /* bytes in: it starts */
		server_begin(t, nc, k, hit->tid, key, hit->time_ns, k->rcvd, 0);
	k->rcvd += (uint64_t)n;
	k->last = 1;
	k->rseq = ++k->seq;
}

/* The server span of the next pipelined request, while the caller's event is being built
 * in t->ev (the spans go out through it): that one is kept aside meanwhile. */
static void next_request(struct trace *t, struct ncon *c, const struct probe_hit *hit, uint64_t key)
{
	struct tevent *keep = malloc(sizeof(*keep));

	if (!keep)
		return;
	*keep = t->ev;
	server_begin(t, t->netcorr, c, hit->tid, key, hit->time_ns, c->run, c->j + 1);
	t->ev = *keep;
	free(keep);
}

bool netcorr_root(struct trace *t, const struct probe_hit *hit, uint64_t key, const struct tfunc *f,
		  uint8_t trace[16], uint64_t *parent)
{
	struct nctx *x;
	struct ncon *c;

	if (!t->netcorr || !(x = ctx_of(t->netcorr, hit->pid, key, false)) || x->con < 0)
		return false;
	c = &t->netcorr->conns[x->con];
	if (!c->open)
		return false;
	/* Pipelined requests read in one go: once the response has begun, the handler called
	 * again (no read between) serves the next request of the same read run. */
	if (f && !t->cli->specs[f->spec].internal) {
		if (!c->first) {
			c->first = f;
		} else if (c->wrote && f == c->first) {
			next_request(t, c, hit, key);
			c->first = f; /* the handler of this one too: a third comes the same way */
		}
	}
	memcpy(trace, c->trace, 16);
	*parent = c->span;
	return true;
}

void netcorr_forget(struct trace *t, pid_t pid)
{
	struct netcorr *nc = t->netcorr;

	for (int i = 0; nc && i < NCONN; i++) {
		struct ncon *k = &nc->conns[i];

		if (k->used && k->pid == pid)
			drop(t, nc, k);
	}
}

void netcorr_fini(struct trace *t)
{
	struct netcorr *nc = t->netcorr;

	for (int i = 0; nc && i < NCONN; i++)
		if (nc->conns[i].used)
			server_end(t, &nc->conns[i]);
	free(nc);
	t->netcorr = NULL;
}
