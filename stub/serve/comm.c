/* COMM parsing and sockets. gdbserver's forms: HOST:PORT, :PORT (loopback here: an open port
 * is an unauthenticated root shell), unix:PATH (mode 0600), and - for stdin/stdout. */
#include "stub/serve/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

bool comm_is_spec(const char *spec)
{
	const char *colon;
	char *end;
	long port;

	if (!strcmp(spec, "-") || !strcmp(spec, "stdio") || !strncmp(spec, "unix:", 5))
		return true;
	colon = strrchr(spec, ':');
	if (!colon || !colon[1])
		return false;
	port = strtol(colon + 1, &end, 10);
	return *end == '\0' && port >= 0 && port <= 65535;
}

/* "cannot <verb> <what>: <reason>" */
static int fail(char *err, size_t cap, int e, const char *verb, const char *what)
{
	snprintf(err, cap, "cannot %s %s: %s", verb, what, strerror(e));
	return -e;
}

static int open_stdio(struct comm *c, char *err, size_t cap)
{
	int nul;

	c->kind = COMM_STDIO;
	c->in_fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
	c->out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
	nul = open("/dev/null", O_RDWR);
	if (c->in_fd < 0 || c->out_fd < 0 || nul < 0)
		return fail(err, cap, errno, "set up", "stdin/stdout");
	/* gdbserver does the same: nothing but packets may reach the client's pipe, so the
	 * program reads /dev/null and writes its stdout to the stub's stderr. */
	if (dup2(nul, 0) < 0 || dup2(2, 1) < 0)
		return fail(err, cap, errno, "set up", "stdin/stdout");
	close(nul);
	return 0;
}

static int open_unix(struct comm *c, const char *path, char *err, size_t cap)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, r;

	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, cap, "bad unix socket path '%s'", path);
		return -EINVAL;
	}
	c->kind = COMM_UNIX;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, cap, errno, "create socket", path);
	old = umask(0177); /* created 0600: only the owner may debug through it */
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 1) < 0) {
		r = errno;
		close(fd);
		return fail(err, cap, r, "listen on", path);
	}
	strcpy(c->path, path);
	c->listen_fd = fd;
	return 0;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

/* The address after prev in res: every AF_INET one, then the others. */
static struct addrinfo *next_addr(struct addrinfo *res, const struct addrinfo *prev)
{
	bool v4 = !prev || prev->ai_family == AF_INET;
	struct addrinfo *ai = prev ? prev->ai_next : res;

	for (;; ai = ai->ai_next) {
		if (!ai) {
			if (!v4)
				return NULL;
			v4 = false;
			ai = res;
		}
		if ((ai->ai_family == AF_INET) == v4)
			return ai;
	}
}

static int open_tcp(struct comm *c, const char *spec, char *err, size_t cap)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL, *ai;
	const char *colon = strrchr(spec, ':');
	char host[256], portstr[8];
	size_t hl = (size_t)(colon - spec);
	int fd = -1, e = EADDRNOTAVAIL, one = 1;

	c->kind = COMM_TCP;
	if (hl >= sizeof(host)) {
		snprintf(err, cap, "host name too long in '%s'", spec);
		return -EINVAL;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	snprintf(portstr, sizeof(portstr), "%s", colon + 1);
	if (!*host)
		strcpy(host, "127.0.0.1");
	e = getaddrinfo(host, portstr, &hints, &res);
	if (e) {
		/* gdbserver's words: GDB's testsuite waits for them */
		snprintf(err, cap, "%s: cannot resolve name: %s", spec, gai_strerror(e));
		return -EINVAL;
	}
	/* IPv4 first: Debian's /etc/hosts makes localhost ::1 before 127.0.0.1, and clients
	 * written for gdbserver connect to 127.0.0.1:PORT. */
	for (ai = next_addr(res, NULL); ai; ai = next_addr(res, ai)) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 1)) {
			c->loopback = is_loopback(ai->ai_addr);
			break;
		}
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0 && e == EADDRINUSE) {
		/* gdbserver's words: GDB's testsuite takes the next port on them */
		snprintf(err, cap,
			 "cannot listen on %s: Address already in use\n"
			 "Can't bind address: Address already in use.",
			 colon + 1);
		return -e;
	}
	if (fd < 0)
		return fail(err, cap, e, "listen on", colon + 1);
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		getsockname(fd, (struct sockaddr *)&ss, &sl);
		c->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							 : ((struct sockaddr_in *)&ss)->sin_port);
	}
	c->listen_fd = fd;
	return 0;
}

int comm_open(struct comm *c, const char *spec, char *err, size_t errcap)
{
	memset(c, 0, sizeof(*c));
	c->listen_fd = c->in_fd = c->out_fd = -1;
	if (!strcmp(spec, "-") || !strcmp(spec, "stdio")) /* gdbserver's name for it */
		return open_stdio(c, err, errcap);
	if (!strncmp(spec, "unix:", 5))
		return open_unix(c, spec + 5, err, errcap);
	if (!comm_is_spec(spec)) {
		snprintf(err, errcap, "bad COMM '%s' (HOST:PORT, :PORT, unix:PATH or -)", spec);
		return -EINVAL;
	}
	return open_tcp(c, spec, err, errcap);
}

int comm_accept(struct comm *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64] = "local";
	int fd, one = 1;

	do
		fd = accept4(c->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	if (c->kind == COMM_TCP) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), NULL, 0,
			    NI_NUMERICHOST);
	}
	fprintf(stderr, "Remote debugging from host %s\n", host);
	return fd;
}

void comm_close(struct comm *c)
{
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->kind == COMM_UNIX && c->path[0])
		unlink(c->path);
	c->listen_fd = -1;
}
