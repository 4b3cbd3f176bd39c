/* The debug server: accepts clients on a comm, runs one RSP session per connection, and
 * feeds it both client bytes and target events. */
#ifndef TRACESTUB_STUB_SERVER_H
#define TRACESTUB_STUB_SERVER_H

#include <signal.h>
#include <stdbool.h>

struct comm;
struct live;

struct server_config {
	struct comm *comm;
	struct live *live;
	bool once;	      /* serve one connection only */
	bool multi;	      /* extended mode; keep serving with no process */
	bool debug;	      /* packet log on stderr */
	const char *disabled; /* --disable-packet list or NULL */
};

/* Set by the SIGTERM/SIGINT/SIGHUP handlers installed by the caller. */
extern volatile sig_atomic_t server_quit;

/* Serve until done; waitmask is the signal mask to wait with (quit signals unblocked).
 * Returns the exit status for tracestub. */
int server_run(const struct server_config *cfg, const sigset_t *waitmask);

#endif
