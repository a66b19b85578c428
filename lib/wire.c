/*
 * wire.c: see wire.h. Why not libcurl here: its multi interface spent
 * twice wrk's CPU per request (per-transfer setup, header parsing, a poll
 * of every connection each turn); a load generator only has to write the
 * same bytes and find where each response ends.
 */
#include "wire.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "crypto.h"
#include "hdr.h"
#include "http.h"
#include "util.h"

#define RBUF	65536

enum cstate {
	C_IDLE,
	C_CONNECTING,
	C_WRITING,
	C_READING,
};

struct conn {
	int		 fd;
	enum cstate	 st;
	size_t		 wpos;
	char		*rbuf;
	size_t		 rlen;
	size_t		 total;		/* bytes of this response so far */
	long long	 intended;	/* us */
	long long	 deadline;	/* us */
	int		 counted;
};

/* "http://host[:port][/path]" into parts. */
static const struct lep_err *
parse_url(char **host, char **port, char **path, const char *url)
{
	const char	*p, *slash, *colon;

	if (!lep_starts_with(url, "http://"))
		return lep_err_new(LEP_E_USAGE, "%s: not an http:// URL", url);
	p = url + 7;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	if (p[0] == '[')
		return lep_err_new(LEP_E_USAGE, "%s: IPv6 literals are not "
		    "supported by load mode yet", url);
	*host = xstrndup(p, (size_t)((colon ? colon : slash) - p));
	*port = colon ? xstrndup(colon + 1, (size_t)(slash - colon - 1)) :
	    xstrdup("80");
	*path = xstrdup(*slash ? slash : "/");
	return NULL;
}

static void
conn_close(int ep, struct conn *c)
{
	if (c->fd != -1) {
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->st = C_IDLE;
	c->rlen = c->total = 0;
}

static void
conn_watch(int ep, struct conn *c, unsigned int events, int add)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	(void)epoll_ctl(ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev);
}

/*
 * The number (base 10 or 16) at p, blanks before it skipped, read no
 * further than end: strtol would skip line ends too and run on past the
 * bytes read (the read buffer holds no terminator). -1 when there is no
 * digit; LONG_MAX when it is larger.
 */
static long
number_at(const char *p, const char *end, int base)
{
	long	 v = 0;
	int	 d, any = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		any = 1;
		v = v > (LONG_MAX - d) / base ? LONG_MAX : v * base + d;
	}
	return any ? v : -1;
}

/*
 * Where the response in buf ends: its length, 0 when more is needed, -1
 * when it is not HTTP. *status and *close_after are set once known.
 */
long
lep_wire_response_end(const char *buf, size_t len, int *status,
    int *close_after)
{
	const char	*end, *p, *line, *nl;
	size_t		 hdr, pos, n;
	long		 clen = -1, sz;
	int		 chunked = 0;

	end = memmem(buf, len, "\r\n\r\n", 4);
	if (end == NULL)
		return len > RBUF - 1 ? -1 : 0;
	hdr = (size_t)(end - buf) + 4;
	if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0)
		return -1;
	sz = number_at(buf + 9, end, 10);
	*status = sz >= 0 && sz <= 999 ? (int)sz : 0;
	*close_after = buf[7] == '0';
	for (line = memchr(buf, '\n', hdr); line != NULL && line < end;
	    line = nl) {
		line++;
		nl = memchr(line, '\n', (size_t)(end + 2 - line));
		if (nl == NULL)
			break;
		/* No name is compared past its line: the bytes may end. */
		n = (size_t)(nl - line);
		if (n >= 15 && strncasecmp(line, "content-length:", 15) == 0)
			clen = number_at(line + 15, nl, 10);
		else if (n >= 18 &&
		    strncasecmp(line, "transfer-encoding:", 18) == 0 &&
		    memmem(line, n, "chunked", 7) != NULL)
			chunked = 1;
		else if (n >= 11 && strncasecmp(line, "connection:", 11) == 0 &&
		    memmem(line, n, "close", 5) != NULL)
			*close_after = 1;
	}
	if (*status == 204 || *status == 304 || (*status >= 100 &&
	    *status < 200))
		return (long)hdr;
	if (chunked) {
		/* size CRLF data CRLF ... 0 CRLF (trailers) CRLF */
		for (pos = hdr;;) {
			p = memmem(buf + pos, len - pos, "\r\n", 2);
			if (p == NULL)
				return 0;
			sz = number_at(buf + pos, p, 16);
			if (sz < 0)
				return -1;
			pos = (size_t)(p - buf) + 2;
			if (sz == 0) {
				p = memmem(buf + pos - 2, len - pos + 2,
				    "\r\n\r\n", 4);
				return p ? (long)(p - buf) + 4 : 0;
			}
			if (pos + (size_t)sz + 2 > len)
				return 0;
			pos += (size_t)sz + 2;
		}
	}
	if (clen >= 0)
		return hdr + (size_t)clen <= len ? (long)(hdr + (size_t)clen) :
		    0;
	*close_after = 1;	/* no length: until the server closes */
	return 0;
}

struct run {
	const struct lep_load_opts	*o;
	struct lep_load_result		*r;
	struct addrinfo			*ai;
	char				*req;
	size_t				 reqlen;
	int				 ep;
	int				 inflight;
};

static void
finish(struct run *w, struct conn *c, int status, int kind)
{
	struct lep_load_result	*r = w->r;

	w->inflight--;
	if (!c->counted)
		return;
	if (kind == 0) {
		if (status >= 100 && status < 600)
			r->status[status / 100]++;
		if (status >= 200 && status < 300)
			r->ok++;
	} else if (kind == 1)
		r->err_connect++;
	else if (kind == 2)
		r->err_timeout++;
	else
		r->err_other++;
	lep_hdr_record(r->latency, (uint64_t)(lep_now_us() - c->intended));
}

static void
start(struct run *w, struct conn *c, long long when, int counted)
{
	ssize_t	 n;
	int	 one = 1;

	c->intended = when;
	c->counted = counted;
	c->deadline = lep_now_us() + (w->o->req->timeout_ms > 0 ?
	    w->o->req->timeout_ms : 60000) * 1000LL;
	c->wpos = 0;
	c->rlen = c->total = 0;
	w->inflight++;
	if (c->fd == -1) {
		c->fd = socket(w->ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (c->fd == -1) {
			finish(w, c, 0, 3);
			return;
		}
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (connect(c->fd, w->ai->ai_addr, w->ai->ai_addrlen) == -1 &&
		    errno != EINPROGRESS) {
			close(c->fd);
			c->fd = -1;
			finish(w, c, 0, 1);
			return;
		}
		c->st = C_CONNECTING;
		conn_watch(w->ep, c, EPOLLOUT, 1);
		return;
	}
	/* A kept-alive connection: write at once, most often all of it. */
	n = write(c->fd, w->req, w->reqlen);
	if (n < 0 && errno != EAGAIN) {
		conn_close(w->ep, c);
		finish(w, c, 0, 3);
		return;
	}
	c->wpos = n > 0 ? (size_t)n : 0;
	c->st = c->wpos < w->reqlen ? C_WRITING : C_READING;
	conn_watch(w->ep, c, c->st == C_WRITING ? EPOLLOUT : EPOLLIN, 0);
}

static void
on_event(struct run *w, struct conn *c, unsigned int ev)
{
	long		 end;
	ssize_t		 n;
	int		 soerr = 0, status = 0, close_after = 0;
	socklen_t	 sl = sizeof(soerr);

	if (c->st == C_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
		    soerr != 0) {
			conn_close(w->ep, c);
			finish(w, c, 0, 1);
			return;
		}
		c->st = C_WRITING;
	}
	if (c->st == C_WRITING) {
		n = write(c->fd, w->req + c->wpos, w->reqlen - c->wpos);
		if (n < 0 && errno != EAGAIN) {
			conn_close(w->ep, c);
			finish(w, c, 0, 3);
			return;
		}
		if (n > 0)
			c->wpos += (size_t)n;
		if (c->wpos < w->reqlen) {
			conn_watch(w->ep, c, EPOLLOUT, 0);
			return;
		}
		c->st = C_READING;
		conn_watch(w->ep, c, EPOLLIN, 0);
		return;
	}
	if (c->st != C_READING || !(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		n = read(c->fd, c->rbuf + c->rlen, RBUF - 1 - c->rlen);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(w->ep, c);
			finish(w, c, 0, 3);	/* closed mid-response */
			return;
		}
		c->rlen += (size_t)n;
		c->total += (size_t)n;
		if (w->o->req->max_body && c->total > w->o->req->max_body) {
			conn_close(w->ep, c);
			finish(w, c, 0, 3);
			return;
		}
		end = lep_wire_response_end(c->rbuf, c->rlen, &status,
		    &close_after);
		if (end < 0) {
			conn_close(w->ep, c);
			finish(w, c, 0, 3);
			return;
		}
		if (end > 0)
			break;
		if (c->rlen >= RBUF - 1) {
			/* A body bigger than the buffer: keep its tail only. */
			conn_close(w->ep, c);
			finish(w, c, 0, 3);
			return;
		}
	}
	if (close_after)
		conn_close(w->ep, c);
	else
		c->st = C_IDLE;
	finish(w, c, status, 0);
}

/* The one request every connection sends, whole (it may hold a token). */
static void
build_request(struct lep_buf *b, const struct lep_load_opts *o,
    const char *host, const char *port, const char *path)
{
	lep_buf_addf(b, "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: "
	    "lepton/%s\r\nAccept: */*\r\n", path, host, port, LEPTON_VERSION);
	if (o->req->body != NULL)
		lep_buf_addf(b, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    o->req->content_type ? o->req->content_type :
		    "application/json", o->req->body_len);
	if (o->req->bearer != NULL)
		lep_buf_addf(b, "Authorization: Bearer %s\r\n",
		    o->req->bearer);
	lep_buf_add(b, "\r\n");
	if (o->req->body != NULL)
		lep_buf_addn(b, o->req->body, o->req->body_len);
}

/* Start what the clock says is due on the idle connections. */
static void
start_due(struct run *w, struct lep_load_clock *c, struct conn *conns,
    int n, long long now)
{
	const struct lep_load_opts	*o = w->o;
	long long			 when;
	int				 i;

	for (i = 0; i < n; i++) {
		if (conns[i].st != C_IDLE)
			continue;
		if (!lep_load_clock_next(c, w->r, now, &when))
			break;
		start(w, &conns[i], when, when >= c->counted_from);
		if (o->requests > 0 && c->started >= o->requests)
			break;
	}
}

/* Open loop until the clock ends the run and the last answer is in. */
static void
run_loop(struct run *w, struct lep_load_clock *c, struct conn *conns, int n)
{
	struct epoll_event	 evs[256];
	long long		 now, wait_us;
	int			 i, e, nev, stopping = 0;

	for (;;) {
		now = lep_now_us();
		if (lep_load_clock_over(c, w->o, now))
			stopping = 1;
		if (!stopping)
			start_due(w, c, conns, n, now);
		if (stopping && w->inflight == 0)
			break;
		wait_us = 50000;
		if (c->interval > 0 && !stopping && c->next_due - now < wait_us)
			wait_us = c->next_due - now;
		nev = epoll_wait(w->ep, evs, (int)LEP_ARRAY_SIZE(evs),
		    wait_us > 0 ? (int)(wait_us / 1000) : 0);
		for (e = 0; e < nev; e++)
			on_event(w, evs[e].data.ptr, evs[e].events);
		/* Requests past their timeout: the connection goes too. */
		now = lep_now_us();
		for (i = 0; i < n; i++) {
			if (conns[i].st != C_IDLE && now > conns[i].deadline) {
				conn_close(w->ep, &conns[i]);
				finish(w, &conns[i], 0, 2);
			}
		}
	}
}

const struct lep_err *
lep_wire_load(struct lep_load_result *r, const struct lep_load_opts *o)
{
	const struct lep_err	*err = NULL;
	struct addrinfo		 hints;
	struct lep_buf		 b = LEP_BUF_INIT;
	struct conn		*conns;
	struct run		 w;
	char			*host = NULL, *port = NULL, *path = NULL;
	struct lep_load_clock	 c;
	int			 n = o->concurrency > 0 ? o->concurrency : 1;
	int			 i, rc;

	memset(r, 0, sizeof(*r));
	r->latency = lep_hdr_new();
	memset(&w, 0, sizeof(w));
	w.o = o;
	w.r = r;
	if ((err = parse_url(&host, &port, &path, o->req->url)) != NULL)
		goto done;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &w.ai)) != 0) {
		err = lep_err_new(LEP_E_PROVIDER, "%s: %s", host,
		    gai_strerror(rc));
		goto done;
	}
	build_request(&b, o, host, port, path);
	w.req = b.buf;
	w.reqlen = b.len;
	w.ep = epoll_create1(EPOLL_CLOEXEC);
	if (w.ep == -1) {
		err = lep_err_errno(LEP_E_INTERNAL, "epoll_create1");
		goto done;
	}
	conns = xcalloc((size_t)n, sizeof(*conns));
	for (i = 0; i < n; i++) {
		conns[i].fd = -1;
		conns[i].rbuf = xmalloc(RBUF);
	}
	lep_load_clock_init(&c, o);
	run_loop(&w, &c, conns, n);
	lep_load_clock_end(&c, r, o, lep_now_us());
	for (i = 0; i < n; i++) {
		conn_close(w.ep, &conns[i]);
		free(conns[i].rbuf);
	}
	free(conns);
	close(w.ep);
done:
	if (w.ai != NULL)
		freeaddrinfo(w.ai);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	free(host);
	free(port);
	free(path);
	return err;
}
