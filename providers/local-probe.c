/*
 * local-probe.c: the supervisor's readiness probes, one non-blocking
 * HTTP/1.0 GET in flight per starting replica; any 2xx means ready.
 */
#include "local-priv.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/util.h"

void
local_probe_close(struct replica *r)
{
	if (r->pr.fd != -1)
		close(r->pr.fd);
	r->pr.fd = -1;
}

void
local_probe_start(struct replica *r)
{
	struct sockaddr_in	 sin;
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)r->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		r->probe_ms = lep_now_ms() + LOCAL_PROBE_MS;
		return;
	}
	r->pr.fd = fd;
	r->pr.sent = 0;
	r->pr.len = 0;
	r->pr.deadline = lep_now_ms() + 2000;
}

/* The probe is over: ok, or the next one in LOCAL_PROBE_MS. Returns ok. */
static int
probe_end(struct replica *r, int ok)
{
	local_probe_close(r);
	if (!ok)
		r->probe_ms = lep_now_ms() + LOCAL_PROBE_MS;
	return ok;
}

/* Connected (or not): send the request. */
static int
probe_send(struct replica *r, const char *path)
{
	char		*req;
	ssize_t		 n;
	int		 soerr = 0;
	socklen_t	 len = sizeof(soerr);

	if (getsockopt(r->pr.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1 ||
	    soerr != 0)
		return probe_end(r, 0);
	req = xasprintf("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
	    "User-Agent: lepton-probe\r\nConnection: close\r\n\r\n",
	    path, r->port);
	n = write(r->pr.fd, req, strlen(req));
	free(req);
	if (n <= 0)
		return probe_end(r, 0);
	r->pr.sent = 1;
	return 0;
}

/* The status line, once 12 bytes of it came. */
static int
probe_read(struct replica *r, short revents)
{
	ssize_t	 n;

	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	n = read(r->pr.fd, r->pr.buf + r->pr.len,
	    sizeof(r->pr.buf) - 1 - r->pr.len);
	if (n <= 0)
		return probe_end(r, 0);
	r->pr.len += (size_t)n;
	r->pr.buf[r->pr.len] = '\0';
	if (r->pr.len < 12)
		return 0;
	/* "HTTP/1.x 2xx": ready on any 2xx. */
	return probe_end(r, strncmp(r->pr.buf, "HTTP/1.", 7) == 0 &&
	    r->pr.buf[9] == '2');
}

int
local_probe_check(struct replica *r, const char *path, short revents)
{
	if (revents)
		return r->pr.sent ? probe_read(r, revents) :
		    probe_send(r, path);
	if (lep_now_ms() >= r->pr.deadline)
		return probe_end(r, 0);
	return 0;
}
