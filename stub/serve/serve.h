/* stub/serve/: the server loop (one client at a time, polled beside the target's event fd)
 * and the connections it speaks over (TCP, unix socket, stdio). Other folders include only this. */
#ifndef TRACESTUB_STUB_SERVE_SERVE_H
#define TRACESTUB_STUB_SERVE_SERVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* The client channel: COMM parsing (HOST:PORT, :PORT, unix:PATH, -) and its sockets. */
enum comm_kind { COMM_TCP, COMM_UNIX, COMM_STDIO };

struct comm {
	enum comm_kind kind;
	int listen_fd;	/* -1 for stdio */
	int in_fd;	/* stdio: the saved stdin (packets in) */
	int out_fd;	/* stdio: the saved stdout (packets out) */
	int port;	/* TCP: the bound port */
	bool loopback;	/* TCP: bound to a loopback address only */
	char path[108]; /* unix: the socket path (removed by comm_close) */
};

/* True when spec looks like a COMM argument (so the CLI can tell it from a program). */
bool comm_is_spec(const char *spec);

/* Parse spec and start listening (stdio: take over fds 0 and 1; the stub's own fds 0 and 1
 * become /dev/null and stderr, which the launched program inherits). 0 or -errno with a
 * one-line reason in err. */
int comm_open(struct comm *c, const char *spec, char *err, size_t errcap);

/* Wait for one client (TCP/unix) and return its fd, or -errno. Prints "Remote debugging from
 * host ..." on stderr. */
int comm_accept(struct comm *c);

void comm_close(struct comm *c);

/* The debug server: accepts clients on a comm, runs one RSP session per connection, and
 * feeds it both client bytes and target events. */
struct comm;
struct live;
struct rsp_stop;
struct rsp_target_ops;

/* What the server serves: the live ptrace engine (server_target_live) or a replayed trace. */
struct server_target {
	const struct rsp_target_ops *ops;
	void *target;
	int event_fd; /* polled beside the client; -1: none (stops come right after a packet) */
	/* Hand out the next stop: 1 and *stop, 0 when none is pending. */
	int (*next_stop)(void *target, struct rsp_stop *stop);
	/* Console text (an O packet) to show before that stop; NULL member or result: none. */
	const char *(*stop_note)(void *target);
	void (*client_gone)(void *target); /* a client went away; may be NULL */
	bool (*has_process)(void *target); /* else a non-extended server ends */
	/* Work to do while the program runs (draining fast tracepoints): done, it returns the
	 * milliseconds until it wants to run again, -1 for never. May be NULL. */
	int (*tick)(void *target);
};

/* The live engine as a server target, served with ops (live_target_ops() or a layer's
 * table over it); client_gone (may be NULL) is told when a client disconnects. */
void server_target_live(struct server_target *out, struct live *l, const struct rsp_target_ops *ops,
			void (*client_gone)(void *t), int (*tick)(void *t));

struct server_config {
	struct comm *comm;
	struct server_target tgt;
	bool once;	      /* serve one connection only */
	bool multi;	      /* extended mode; keep serving with no process */
	bool debug;	      /* packet log on stderr */
	const char *disabled; /* --disable-packet list or NULL */
};

/* Set by the SIGTERM/SIGINT/SIGHUP handlers installed by the caller. */
extern volatile sig_atomic_t server_quit;

/* Install the quit handlers (SIGTERM, SIGHUP, SIGINT unless stdio: then Ctrl-C is gdb's) and
 * block them outside the wait; waitmask gets the mask to wait with. */
void server_setup_signals(bool stdio, sigset_t *waitmask);
/* "Listening on port N" (TCP) or "Listening on PATH" (unix) on stderr. */
void server_announce(const struct comm *c);

/* Serve until done; waitmask is the signal mask to wait with (quit signals unblocked).
 * Returns the exit status for tracestub. */
int server_run(const struct server_config *cfg, const sigset_t *waitmask);

#endif
