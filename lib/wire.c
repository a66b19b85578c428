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
	char		*rbuf;		/* RBUF: a head not whole yet */
	size_t		 rlen;
	size_t		 total;		/* bytes of this response so far */
	struct lep_wire_resp resp;
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

/* Where a response's reading is (struct lep_wire_resp's state). */
enum {
	W_HEAD,			/* before its head is whole */
	W_BODY,			/* Content-Length: left bytes to go */
	W_SIZE,			/* a chunk's size, in hex */
	W_EXT,			/* the rest of the chunk size line */
	W_SIZE_LF,		/* the LF after the size line's CR */
	W_DATA,			/* a chunk's data: left bytes to go */
	W_DATA_CR,		/* the CRLF after a chunk's data */
	W_DATA_LF,
	W_TRAILER,		/* trailer lines, to the empty one */
	W_UNTIL_CLOSE,		/* no length: the body ends at EOF */
	W_DONE,
};

void
lep_wire_resp_init(struct lep_wire_resp *p)
{
	memset(p, 0, sizeof(*p));
}

/* Does the header value [s, e) hold token (lower case), case aside? */
static int
has_token(const char *s, const char *e, const char *token)
{
	size_t	 n = strlen(token);

	for (; s + n <= e; s++)
		if ((*s | 0x20) == token[0] && strncasecmp(s, token, n) == 0)
			return 1;
	return 0;
}

/*
 * Does the header line [line, nl) start with name (n bytes, lower case)?
 * Never a byte past nl: the read buffer ends there, unterminated (found
 * by tests/fuzz/fuzz_http.c).
 */
static int
name_is(const char *line, const char *nl, const char *name, size_t n)
{
	return (size_t)(nl - line) >= n && strncasecmp(line, name, n) == 0;
}

/* Content-Length's value, [s, e): digits between blanks, else -1. */
static long long
parse_length(const char *s, const char *e)
{
	long long	 v = 0;
	int		 digits = 0;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	for (; s < e && *s >= '0' && *s <= '9'; s++) {
		if (++digits > 18)
			return -1;
		v = v * 10 + (*s - '0');
	}
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return digits > 0 && s == e ? v : -1;
}

/*
 * The head [buf, buf + len), its blank line included: its status line,
 * then what says where the body ends. Sets p->state for what follows.
 */
static int
parse_head(struct lep_wire_resp *p, const char *buf, size_t len)
{
	const char	*end = buf + len - 2, *line, *nl;
	long long	 clen = -1;
	int		 chunked = 0, status;

	/* "HTTP/1.x NNN" and a space or the line's end. */
	if (len < 16 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' ||
	    buf[7] > '9' || buf[8] != ' ' || buf[9] < '1' || buf[9] > '9' ||
	    buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9' ||
	    (buf[12] != ' ' && buf[12] != '\r'))
		return LEP_WIRE_BAD;
	status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + buf[11] - '0';
	if (status == 101)
		return LEP_WIRE_BAD;	/* switched away from HTTP: unasked */
	/* Interim answers (100 Continue, 103 Early Hints): the next head. */
	if (status < 200) {
		p->state = W_HEAD;
		return LEP_WIRE_MORE;
	}
	p->status = status;
	p->close_after = buf[7] == '0';
	for (line = memchr(buf, '\n', len); line != NULL && line < end;
	    line = nl) {
		line++;
		if ((nl = memchr(line, '\n', (size_t)(end + 2 - line))) == NULL)
			break;
		/* The three that matter start with c or t: skip the rest. */
		if ((*line | 0x20) != 'c' && (*line | 0x20) != 't')
			continue;
		if (name_is(line, nl, "content-length:", 15)) {
			if ((clen = parse_length(line + 15, nl)) == -1)
				return LEP_WIRE_BAD;
		} else if (name_is(line, nl, "transfer-encoding:", 18) &&
		    has_token(line + 18, nl, "chunked"))
			chunked = 1;
		else if (name_is(line, nl, "connection:", 11) &&
		    has_token(line + 11, nl, "close"))
			p->close_after = 1;
	}
	if (status == 204 || status == 304)
		p->state = W_DONE;
	else if (chunked)
		p->state = W_SIZE;
	else if (clen >= 0) {
		p->left = (unsigned long long)clen;
		p->state = clen > 0 ? W_BODY : W_DONE;
	} else {
		p->state = W_UNTIL_CLOSE;
		p->close_after = 1;
	}
	return LEP_WIRE_MORE;
}

/* One byte of a chunk's size line, its CRLFs or the trailer. */
static int
chunk_byte(struct lep_wire_resp *p, char ch)
{
	int	 v;

	switch (p->state) {
	case W_SIZE:
		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			v = (ch | 0x20) - 'a' + 10;
		else if (p->digits > 0 && (ch == ';' || ch == ' ' ||
		    ch == '\t' || ch == '\r' || ch == '\n')) {
			p->state = ch == '\r' ? W_SIZE_LF : W_EXT;
			return ch == '\n' ? chunk_byte(p, ch) : 0;
		} else
			return -1;
		/* 15 hex digits: up to 2^60 bytes, no overflow. */
		if (++p->digits > 15)
			return -1;
		p->left = p->left * 16 + (unsigned int)v;
		return 0;
	case W_SIZE_LF:
		if (ch != '\n')
			return -1;
		/* FALLTHROUGH */
	case W_EXT:
		if (ch != '\n')
			return 0;
		p->digits = 0;
		p->line = 0;
		p->state = p->left > 0 ? W_DATA : W_TRAILER;
		return 0;
	case W_DATA_CR:
		if (ch == '\r') {
			p->state = W_DATA_LF;
			return 0;
		}
		/* FALLTHROUGH */
	case W_DATA_LF:
		if (ch != '\n')
			return -1;
		p->state = W_SIZE;
		return 0;
	default:	/* W_TRAILER: ends at an empty line */
		if (ch == '\n' && p->line == 0)
			p->state = W_DONE;
		else if (ch == '\n')
			p->line = 0;
		else if (ch != '\r')
			p->line++;
		return 0;
	}
}

int
lep_wire_resp_feed(struct lep_wire_resp *p, const char *buf, size_t len,
    size_t *used)
{
	const char	*e;
	size_t		 pos = 0, from, n;
	int		 rc;

	while (pos < len && p->state != W_DONE) {
		switch (p->state) {
		case W_HEAD:
			/* Not HTTP from its first bytes: no need to wait. */
			n = len - pos < 7 ? len - pos : 7;
			if (memcmp(buf + pos, "HTTP/1.", n) != 0)
				return LEP_WIRE_BAD;
			from = p->scanned > 3 ? p->scanned - 3 : 0;
			e = memmem(buf + pos + from, len - pos - from,
			    "\r\n\r\n", 4);
			if (e == NULL) {
				p->scanned = len - pos;
				*used = pos;
				return LEP_WIRE_MORE;
			}
			n = (size_t)(e - (buf + pos)) + 4;
			p->scanned = 0;
			if ((rc = parse_head(p, buf + pos, n)) != LEP_WIRE_MORE)
				return rc;
			pos += n;
			break;
		case W_BODY:
		case W_DATA:
			n = len - pos;
			if (n > p->left)
				n = (size_t)p->left;
			pos += n;
			p->left -= n;
			if (p->left == 0)
				p->state = p->state == W_BODY ? W_DONE :
				    W_DATA_CR;
			break;
		case W_UNTIL_CLOSE:
			pos = len;
			break;
		default:
			if (chunk_byte(p, buf[pos++]) == -1)
				return LEP_WIRE_BAD;
			break;
		}
	}
	*used = pos;
	return p->state == W_DONE ? LEP_WIRE_DONE : LEP_WIRE_MORE;
}

int
lep_wire_resp_eof(const struct lep_wire_resp *p)
{
	return p->state == W_UNTIL_CLOSE ? LEP_WIRE_DONE : LEP_WIRE_MORE;
}

struct run {
	const struct lep_load_opts	*o;
	struct lep_load_result		*r;
	struct addrinfo			*ai;
	char				*req;
	size_t				 reqlen;
	size_t				 cap;	/* bytes of a response */
	int				 ep;
	int				 inflight;
};

static void
finish(struct run *w, struct conn *c, enum lep_load_end how, int status)
{
	w->inflight--;
	if (c->counted)
		lep_load_count(w->r, how, status, lep_now_us() - c->intended);
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
	lep_wire_resp_init(&c->resp);
	w->inflight++;
	if (c->fd == -1) {
		c->fd = socket(w->ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (c->fd == -1) {
			finish(w, c, LEP_LOAD_OTHER, 0);
			return;
		}
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (connect(c->fd, w->ai->ai_addr, w->ai->ai_addrlen) == -1 &&
		    errno != EINPROGRESS) {
			close(c->fd);
			c->fd = -1;
			finish(w, c, LEP_LOAD_CONNECT, 0);
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
		finish(w, c, LEP_LOAD_OTHER, 0);
		return;
	}
	c->wpos = n > 0 ? (size_t)n : 0;
	c->st = c->wpos < w->reqlen ? C_WRITING : C_READING;
	conn_watch(w->ep, c, c->st == C_WRITING ? EPOLLOUT : EPOLLIN, 0);
}

static void
on_event(struct run *w, struct conn *c, unsigned int ev)
{
	ssize_t		 n;
	size_t		 used;
	int		 soerr = 0, rc;
	socklen_t	 sl = sizeof(soerr);

	if (c->st == C_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
		    soerr != 0) {
			conn_close(w->ep, c);
			finish(w, c, LEP_LOAD_CONNECT, 0);
			return;
		}
		c->st = C_WRITING;
	}
	if (c->st == C_WRITING) {
		n = write(c->fd, w->req + c->wpos, w->reqlen - c->wpos);
		if (n < 0 && errno != EAGAIN) {
			conn_close(w->ep, c);
			finish(w, c, LEP_LOAD_OTHER, 0);
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
		n = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* Closed: the end of a body with no length, or not. */
			conn_close(w->ep, c);
			if (n == 0 && lep_wire_resp_eof(&c->resp) ==
			    LEP_WIRE_DONE)
				finish(w, c, LEP_LOAD_ANSWERED,
				    c->resp.status);
			else
				finish(w, c, LEP_LOAD_OTHER, 0);
			return;
		}
		c->total += (size_t)n;
		if (c->total > w->cap) {
			conn_close(w->ep, c);
			finish(w, c, LEP_LOAD_OTHER, 0);
			return;
		}
		rc = lep_wire_resp_feed(&c->resp, c->rbuf, c->rlen + (size_t)n,
		    &used);
		if (rc == LEP_WIRE_DONE)
			break;
		/* Keep what is left of a head: it is fed again, whole. */
		if (rc == LEP_WIRE_MORE)
			c->rlen = c->rlen + (size_t)n - used;
		if (rc == LEP_WIRE_BAD || c->rlen == RBUF) {
			conn_close(w->ep, c);
			finish(w, c, LEP_LOAD_PROTOCOL, 0);
			return;
		}
		if (c->rlen > 0 && used > 0)
			memmove(c->rbuf, c->rbuf + used, c->rlen);
	}
	if (c->resp.close_after)
		conn_close(w->ep, c);
	else
		c->st = C_IDLE;
	finish(w, c, LEP_LOAD_ANSWERED, c->resp.status);
}

/* The one request every connection sends, whole (it may hold a token). */
static void
build_request(struct lep_buf *b, const struct lep_load_opts *o,
    const char *host, const char *port, const char *path)
{
	size_t	 i;

	lep_buf_addf(b, "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: "
	    "lepton/%s\r\nAccept: */*\r\n", path, host, port, LEPTON_VERSION);
	if (o->req->body != NULL)
		lep_buf_addf(b, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    o->req->content_type ? o->req->content_type :
		    "application/json", o->req->body_len);
	if (o->req->bearer != NULL)
		lep_buf_addf(b, "Authorization: Bearer %s\r\n",
		    o->req->bearer);
	/* A signature's lines (predict on a signing provider). */
	for (i = 0; i < o->req->nheaders; i++)
		lep_buf_addf(b, "%s\r\n", o->req->headers[i]);
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

/* Until the clock ends the run: the last answer in, or the run cut. */
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
		if (stopping && (w->inflight == 0 || lep_load_clock_cut(c,
		    w->o, now)))
			break;
		if (!stopping)
			start_due(w, c, conns, n, now);
		wait_us = 50000;
		if (c->interval > 0 && !stopping && c->next_due - now < wait_us)
			wait_us = c->next_due - now;
		if (c->end_at > 0 && c->end_at - now < wait_us)
			wait_us = c->end_at - now;
		nev = epoll_wait(w->ep, evs, (int)LEP_ARRAY_SIZE(evs),
		    wait_us > 0 ? (int)(wait_us / 1000) : 0);
		for (e = 0; e < nev; e++)
			on_event(w, evs[e].data.ptr, evs[e].events);
		/* Requests past their timeout: the connection goes too. */
		now = lep_now_us();
		for (i = 0; i < n; i++) {
			if (conns[i].st != C_IDLE && now > conns[i].deadline) {
				conn_close(w->ep, &conns[i]);
				finish(w, &conns[i], LEP_LOAD_TIMEOUT, 0);
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
	w.cap = o->req->max_body ? o->req->max_body : LEP_HTTP_MAX_BODY;
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
		/* Cut: what is still in flight is abandoned. */
		if (conns[i].st != C_IDLE)
			r->abandoned += conns[i].counted;
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
