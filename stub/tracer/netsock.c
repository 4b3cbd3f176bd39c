/* netcorr's socket naming: a socket inode of a traced process found in /proc/PID/net/tcp{,6}
 * (the 4-tuple, and whether its local port listens: the server side) or /proc/PID/net/unix
 * (its path; the peer's inode through sock_diag). Reads /proc and one netlink socket only. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stub/tracer/netcorr.h"

/* "0100007F:1F90" (or 32 hex digits for IPv6) from /proc/net/tcp into "127.0.0.1:8080",
 * addr and port apart too. */
static bool hexaddr(const char *hex, char *out, size_t cap, char *addr, size_t acap, int *port)
{
	const char *colon = strchr(hex, ':');
	size_t n = colon ? (size_t)(colon - hex) : 0;
	uint32_t w[4];
	uint8_t b[16];
	char a[INET6_ADDRSTRLEN];

	if (n != 8 && n != 32)
		return false;
	for (size_t i = 0; i < n / 8; i++)
		if (sscanf(hex + 8 * i, "%8x", &w[i]) != 1)
			return false;
	memcpy(b, w, n / 2); /* the kernel prints each 32-bit word in host order */
	if (n == 32 && !memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
		inet_ntop(AF_INET, b + 12, a, sizeof(a)); /* IPv4-mapped: as IPv4 */
	else
		inet_ntop(n == 8 ? AF_INET : AF_INET6, b, a, sizeof(a));
	*port = (int)strtol(colon + 1, NULL, 16);
	snprintf(addr, acap, "%s", a);
	snprintf(out, cap, "%s:%d", a, *port);
	return true;
}

/* The TCP socket ino of pid: local and remote names; server when its local port listens.
 * One read of each table: the socket's line and the ports that listen. */
static bool name_tcp(struct ncon *c)
{
	static const char *const files[] = {"tcp", "tcp6"};
	char path[64], line[512], la[80], ra[80], st[8], a[64];
	uint8_t listening[65536 / 8] = {0};
	int lport = -1;

	for (int k = 0; k < 2; k++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)c->pid, files[k]);
		if (!(f = fopen(path, "re")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long ino;
			char *p;

			if (sscanf(line, "%*s %79s %79s %7s %*s %*s %*s %*s %*s %llu", la, ra, st,
				   &ino) != 4 ||
			    !(p = strchr(la, ':')))
				continue;
			if (!strcmp(st, "0A")) { /* TCP_LISTEN */
				unsigned port = (unsigned)strtoul(p + 1, NULL, 16) & 0xffff;

				listening[port / 8] |= (uint8_t)(1u << (port % 8));
			} else if (ino == c->ino &&
				   hexaddr(la, c->local, sizeof(c->local), a, sizeof(a), &lport) &&
				   !hexaddr(ra, c->remote, sizeof(c->remote), c->peer_addr,
					    sizeof(c->peer_addr), &c->peer_port)) {
				lport = -1;
			}
		}
		fclose(f);
	}
	if (lport < 0)
		return false;
	c->server = listening[lport / 8] & (1u << (lport % 8));
	c->transport = "ip_tcp";
	return true;
}

/* The peer of Unix socket ino, through sock_diag (0 when unknown). */
static uint64_t unix_peer(uint64_t ino)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req r;
	} req = {{sizeof(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0},
		 /* an exact lookup: no cookie (both words ~0) */
		 {AF_UNIX, 0, 0, 0xffffffff, (uint32_t)ino, UDIAG_SHOW_PEER, {~0u, ~0u}}};
	uint8_t buf[4096];
	uint64_t peer = 0;
	ssize_t n;
	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (s < 0)
		return 0;
	if (send(s, &req, sizeof(req), 0) == (ssize_t)sizeof(req) &&
	    (n = recv(s, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (NLMSG_OK(h, (size_t)n) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			struct unix_diag_msg *m = NLMSG_DATA(h);
			struct rtattr *a = (struct rtattr *)(m + 1);
			int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));

			for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == UNIX_DIAG_PEER)
					peer = *(uint32_t *)RTA_DATA(a);
		}
	}
	close(s);
	return peer;
}

/* A Unix stream socket: names by inode; the server is the side bound to a path. */
static bool name_unix(struct ncon *c)
{
	char path[64], line[512], name[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/unix", (int)c->pid);
	if (!(f = fopen(path, "re")))
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned type, st;
		unsigned long long ino;

		name[0] = 0;
		if (sscanf(line, "%*s %*s %*s %*s %x %x %llu %255s", &type, &st, &ino, name) < 3 ||
		    ino != c->ino)
			continue;
		found = type == 1; /* SOCK_STREAM */
		c->server = name[0] != 0;
		snprintf(c->peer_addr, sizeof(c->peer_addr), "%.63s", name);
		break;
	}
	fclose(f);
	if (!found)
		return false;
	snprintf(c->local, sizeof(c->local), "unix:%" PRIu64, c->ino);
	snprintf(c->remote, sizeof(c->remote), "unix:%" PRIu64, unix_peer(c->ino));
	c->peer_port = 0;
	c->transport = "unix";
	return true;
}

/* The connection fd of pid is now, or NULL when it is not a stream socket we can name. */
bool netcorr_name(struct ncon *c)
{
	return name_tcp(c) || name_unix(c);
}
