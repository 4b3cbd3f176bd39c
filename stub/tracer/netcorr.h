/* Shared by netcorr.c (--correlate: sockets, spans, probes) and netsock.c (naming a socket
 * as the kernel knows it). Not a public API. */
#ifndef TRACESTUB_STUB_TRACER_NETCORR_H
#define TRACESTUB_STUB_TRACER_NETCORR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct tfunc;

#define NALIAS 4 /* pipelined requests a server may read in one go, named each way */

/* A socket of a traced process, as first seen by a socket call on its descriptor. */
struct ncon {
	bool used;
	pid_t pid;
	int fd;
	uint64_t ino;
	bool sock;   /* a stream socket we can name (else ignored) */
	bool server; /* the accepting side */
	char local[80], remote[80];
	char peer_addr[64];
	int peer_port;
	const char *transport;
	uint64_t sent, rcvd; /* bytes this process wrote / read since first seen */
	int last;	     /* 0 nothing yet, 1 read, 2 write */
	/* events on it, counted (seq), and the count at the last read's return: a write
	 * whose entry came before a read's return does not end that read's run */
	uint64_t seq, rseq;
	/* client: its run of writes (no read between): how many before this one, and the
	 * offsets of the last NALIAS (by index % NALIAS) */
	uint32_t wj;
	uint64_t woff[NALIAS];
	/* the server span open on it */
	bool open;
	pid_t tid;
	uint64_t key; /* the thread or goroutine serving it */
	uint8_t trace[16];
	uint64_t span, parent, start_ns, end_ns;
	uint64_t run; /* the offset of the read run it serves, and which request of it (j) */
	uint32_t j;
	const struct tfunc *first; /* the first traced call it served (the handler) */
	bool wrote;		   /* its response has begun */
};

/* Name c (pid, fd, ino set) from /proc/PID/net/{tcp,tcp6,unix} and sock_diag: its local and
 * remote names, peer, transport, and whether it is the accepting side. false: not a stream
 * socket we can name. */
bool netcorr_name(struct ncon *c);

#endif
