/* The client channel: COMM parsing (HOST:PORT, :PORT, unix:PATH, -) and its sockets. */
#ifndef TRACESTUB_STUB_COMM_H
#define TRACESTUB_STUB_COMM_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
