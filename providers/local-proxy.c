/*
 * local-proxy.c: the local supervisor's stable endpoint: it accepts TCP
 * connections, splits them between the active and the canary revision
 * and splices each to a ready replica until both sides are done.
 */
#include "local-priv.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/util.h"

#define CONN_BUF	16384

struct local_conn {
	int			 cfd, bfd;
	struct replica		*rep;
	char			 up[CONN_BUF], down[CONN_BUF];
	size_t			 ul, uo, dl, dof;
	int			 c_eof, b_eof, b_shut, c_shut, dead;
	struct local_conn	*next;
};

int
local_proxy_listen(int port, int *port_out)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 512) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return -1;
	}
	*port_out = ntohs(sin.sin_port);
	return fd;
}

/* Blocking, a known weakness: a gateway is to replace this proxy. */
static int
connect_loopback(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

void
local_proxy_accept(struct local_conn **conns, int lfd, struct rev *active,
    struct rev *canary, int canary_pct)
{
	static const char unavailable[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\nContent-Length: 37\r\n"
	    "Connection: close\r\n\r\n"
	    "{\"error\": \"no replica is ready yet\"}\n";
	struct rev		*v = active, *pick[2];
	struct local_conn	*c;
	int			 cfd, bfd = -1, tries, one = 1, k;
	unsigned int		 i = 0;

	cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd == -1)
		return;
	(void)setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The traffic split: canary_pct of connections go to the canary. */
	pick[0] = active;
	pick[1] = canary;
	if (canary != NULL && (int)(random() % 100) < canary_pct) {
		pick[0] = canary;
		pick[1] = active;
	}
	for (k = 0; k < 2 && bfd == -1; k++) {
		v = pick[k];
		for (tries = 0; v != NULL && tries < v->nreps && bfd == -1;
		    tries++) {
			i = v->rr++ % (unsigned int)v->nreps;
			if (v->reps[i].st != R_READY)
				continue;
			bfd = connect_loopback(v->reps[i].port);
		}
	}
	if (bfd == -1) {
		(void)!write(cfd, unavailable, sizeof(unavailable) - 1);
		close(cfd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->cfd = cfd;
	c->bfd = bfd;
	c->rep = &v->reps[i];
	c->rep->conns++;
	c->next = *conns;
	*conns = c;
}

static void
conn_close(struct local_conn *c)
{
	c->dead = 1;
}

/* Move bytes one way: from src into buf, and from buf into dst. */
static void
pump(struct local_conn *c, int src, int dst, char *buf, size_t *len,
    size_t *off, int *src_eof, int *dst_shut, short src_ev)
{
	ssize_t	 n;

	if ((src_ev & (POLLIN | POLLHUP | POLLERR)) && *len == 0 &&
	    !*src_eof) {
		n = read(src, buf, CONN_BUF);
		if (n > 0) {
			*len = (size_t)n;
			*off = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			*src_eof = 1;
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(c);
			return;
		}
	}
	/* Non-blocking: try the write whenever bytes wait (EAGAIN is fine). */
	if (*len > *off) {
		n = write(dst, buf + *off, *len - *off);
		if (n > 0) {
			*off += (size_t)n;
			if (*off == *len)
				*len = *off = 0;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_close(c);
			return;
		}
	}
	if (*src_eof && *len == 0 && !*dst_shut) {
		shutdown(dst, SHUT_WR);
		*dst_shut = 1;
	}
}

static void
conn_io(struct local_conn *c, short cev, short bev)
{
	if ((cev & POLLERR) || (bev & POLLERR)) {
		conn_close(c);
		return;
	}
	pump(c, c->cfd, c->bfd, c->up, &c->ul, &c->uo, &c->c_eof, &c->b_shut,
	    cev);
	if (!c->dead)
		pump(c, c->bfd, c->cfd, c->down, &c->dl, &c->dof, &c->b_eof,
		    &c->c_shut, bev);
	if (c->c_eof && c->b_eof && c->ul == 0 && c->dl == 0)
		conn_close(c);
}

size_t
local_proxy_npoll(const struct local_conn *conns)
{
	const struct local_conn	*c;
	size_t			 n = 0;

	for (c = conns; c != NULL; c = c->next)
		n += 2;
	return n;
}

void
local_proxy_poll(const struct local_conn *conns, struct pollfd *pfd)
{
	const struct local_conn	*c;
	size_t			 n = 0;

	for (c = conns; c != NULL; c = c->next) {
		pfd[n].fd = c->cfd;
		pfd[n].events = (c->ul == 0 && !c->c_eof ? POLLIN : 0) |
		    (c->dl > c->dof ? POLLOUT : 0);
		n++;
		pfd[n].fd = c->bfd;
		pfd[n].events = (c->dl == 0 && !c->b_eof ? POLLIN : 0) |
		    (c->ul > c->uo ? POLLOUT : 0);
		n++;
	}
}

size_t
local_proxy_io(struct local_conn *conns, const struct pollfd *pfd, size_t n)
{
	struct local_conn	*c;
	size_t			 k = 0;

	for (c = conns; c != NULL; c = c->next) {
		if (k >= n || pfd[k].fd != c->cfd)
			continue;
		conn_io(c, pfd[k].revents, pfd[k + 1].revents);
		k += 2;
	}
	return k;
}

void
local_proxy_close(struct local_conn **conns, const struct rev *v)
{
	struct local_conn	*c;

	for (c = *conns; c != NULL; c = c->next)
		if (v == NULL ||
		    (c->rep >= v->reps && c->rep < v->reps + v->nreps))
			conn_close(c);
	local_proxy_sweep(conns);
}

void
local_proxy_sweep(struct local_conn **conns)
{
	struct local_conn	**pp = conns, *c;

	while ((c = *pp) != NULL) {
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		close(c->cfd);
		close(c->bfd);
		if (c->rep != NULL)
			c->rep->conns--;
		*pp = c->next;
		free(c);
	}
}
