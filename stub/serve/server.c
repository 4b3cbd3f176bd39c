/* Event loop: poll the client and the target's event fd, never block on either. */
#include "stub/serve/serve.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocol/session.h"
#include "stub/live/live.h"

volatile sig_atomic_t server_quit;

struct conn {
	int in, out;
	bool sock;
};

enum end { END_CLIENT, END_CLOSE, END_EXIT };

static int write_all(void *ctx, const uint8_t *buf, size_t len)
{
	const struct conn *c = ctx;

	while (len) {
		ssize_t n =
			c->sock ? send(c->out, buf, len, MSG_NOSIGNAL) : write(c->out, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Binary payloads (x, vFile:pread, qXfer) show their bytes as \xNN, so a reply that starts
 * with a zero byte does not look empty. */
static void log_packet(void *ctx, const char *dir, const uint8_t *buf, size_t len)
{
	if (len > 4096)
		len = 4096;
	fprintf(stderr, "%s ", dir);
	for (size_t i = 0; i < len; i++) {
		if (buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] != '\\')
			fputc(buf[i], stderr);
		else
			fprintf(stderr, "\\x%02x", buf[i]);
	}
	fputc('\n', stderr);
}

static int live_next_stop(void *t, struct rsp_stop *stop)
{
	return live_handle_events(t, stop);
}

static bool live_has_proc(void *t)
{
	return live_has_process(t);
}

void server_target_live(struct server_target *out, struct live *l, const struct rsp_target_ops *ops,
			void (*client_gone)(void *t), int (*tick)(void *t))
{
	*out = (struct server_target){.ops = ops,
				      .target = l,
				      .event_fd = live_event_fd(l),
				      .next_stop = live_next_stop,
				      .client_gone = client_gone,
				      .has_process = live_has_proc,
				      .tick = tick};
}

/* Reap target events; report stops to the session when there is one. */
static int pump_events(const struct server_target *tg, struct rsp_session *s)
{
	struct rsp_stop stop;
	const char *note;
	int r;

	while ((r = tg->next_stop(tg->target, &stop)) > 0) {
		if (!s)
			continue;
		note = tg->stop_note ? tg->stop_note(tg->target) : NULL;
		if (note && rsp_session_console(s, note, strlen(note)) < 0)
			return -EPIPE;
		if (rsp_session_report_stop(s, &stop) < 0)
			return -EPIPE;
	}
	return 0;
}

/* `running`: the session ended while the program ran (a resume awaited its stop). */
static enum end serve(const struct server_config *cfg, struct conn *c, const sigset_t *mask,
		      bool *running)
{
	struct rsp_session_config sc = {
		.ops = cfg->tgt.ops,
		.target = cfg->tgt.target,
		.write = write_all,
		.write_ctx = c,
		.log = log_packet,
		.log_on = cfg->debug,
		.extended = cfg->multi,
		.disabled = cfg->disabled,
	};
	struct rsp_session *s = rsp_session_new(&sc);
	enum end end = END_CLIENT;
	uint8_t buf[65536];

	if (!s) {
		fprintf(stderr, "tracestub: out of memory\n");
		return END_EXIT;
	}
	while (!server_quit) {
		struct pollfd p[2] = {{.fd = c->in, .events = POLLIN},
				      {.fd = cfg->tgt.event_fd, .events = POLLIN}};
		int ms = cfg->tgt.tick ? cfg->tgt.tick(cfg->tgt.target) : -1;
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
		ssize_t n;
		int st;

		if (ppoll(p, 2, ms >= 0 ? &ts : NULL, mask) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents && pump_events(&cfg->tgt, s) < 0)
			break;
		if (!p[0].revents)
			continue;
		n = read(c->in, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* client gone */
		st = rsp_session_feed(s, buf, (size_t)n);
		if (st < 0)
			break;
		if (st == RSP_SESSION_CLOSE || st == RSP_SESSION_EXIT) {
			end = st == RSP_SESSION_CLOSE ? END_CLOSE : END_EXIT;
			break;
		}
		/* A resume may have produced a stop that is already reaped. */
		if (rsp_session_is_waiting(s) && pump_events(&cfg->tgt, s) < 0)
			break;
	}
	*running = rsp_session_is_waiting(s);
	rsp_session_free(s);
	if (cfg->tgt.client_gone)
		cfg->tgt.client_gone(cfg->tgt.target);
	return server_quit ? END_EXIT : end;
}

/* The client went while the program ran: stop it as an interrupt would, so the next client
 * finds it stopped and its `?` is answered with that stop. */
static void stop_target(const struct server_config *cfg, const sigset_t *mask)
{
	const struct server_target *tg = &cfg->tgt;
	struct rsp_stop stop;

	if (!tg->ops->interrupt || tg->ops->interrupt(tg->target))
		return;
	while (!server_quit && tg->has_process(tg->target)) {
		struct pollfd p = {.fd = tg->event_fd, .events = POLLIN};

		if (tg->next_stop(tg->target, &stop) || tg->event_fd < 0)
			return;
		if (ppoll(&p, 1, NULL, mask) < 0 && errno != EINTR)
			return;
	}
}

/* Wait for a client while still reaping the target's events. */
static int wait_client(const struct server_config *cfg, const sigset_t *mask)
{
	while (!server_quit) {
		struct pollfd p[2] = {{.fd = cfg->comm->listen_fd, .events = POLLIN},
				      {.fd = cfg->tgt.event_fd, .events = POLLIN}};

		if (ppoll(p, 2, NULL, mask) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[1].revents)
			pump_events(&cfg->tgt, NULL);
		if (p[0].revents)
			return comm_accept(cfg->comm);
	}
	return -EINTR;
}

int server_run(const struct server_config *cfg, const sigset_t *waitmask)
{
	for (;;) {
		struct conn c = {.in = cfg->comm->in_fd, .out = cfg->comm->out_fd};
		enum end end;
		bool running = false;

		if (cfg->comm->kind != COMM_STDIO) {
			int fd = wait_client(cfg, waitmask);

			if (fd < 0)
				return server_quit ? 0 : 1;
			c.in = c.out = fd;
			c.sock = true;
		}
		end = serve(cfg, &c, waitmask, &running);
		if (c.sock)
			close(c.in);
		if (end == END_EXIT || cfg->comm->kind == COMM_STDIO || cfg->once)
			return 0;
		if (!cfg->multi && !cfg->tgt.has_process(cfg->tgt.target))
			return 0;
		if (running)
			stop_target(cfg, waitmask);
		if (cfg->comm->kind == COMM_TCP)
			fprintf(stderr, "Listening on port %d\n", cfg->comm->port);
	}
}

static void on_quit(int sig)
{
	server_quit = sig;
}

static void on_ignore(int sig)
{
	(void)sig;
}

/* Quit signals are blocked except while waiting, so a flag check cannot miss them. Handlers
 * (not SIG_IGN) so the launched program does not inherit an ignored disposition. */
void server_setup_signals(bool stdio, sigset_t *waitmask)
{
	struct sigaction quit = {.sa_handler = on_quit}, ign = {.sa_handler = on_ignore};
	sigset_t block;

	sigaction(SIGTERM, &quit, NULL);
	sigaction(SIGHUP, &quit, NULL);
	/* In - mode Ctrl-C belongs to gdb, which sends the interrupt byte itself. */
	sigaction(SIGINT, stdio ? &ign : &quit, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGPIPE); /* a gone client is an EPIPE, not a death */
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigaddset(waitmask, SIGPIPE);
	sigaddset(waitmask, SIGCHLD);
}

void server_announce(const struct comm *c)
{
	if (c->kind == COMM_TCP)
		fprintf(stderr, "Listening on port %d\n", c->port);
	else if (c->kind == COMM_UNIX)
		fprintf(stderr, "Listening on %s\n", c->path);
}
