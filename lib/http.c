/*
 * http.c: libcurl, loaded with dlopen on first use.
 *
 * Retry rule (lep_http_do in http.h): any method is tried again when
 * nothing was sent; an idempotent one also when the answer was lost or
 * says "later" (429, 500, 502, 503, 504), at most 1 + req->retries tries,
 * the waits between them growing with jitter and never shorter than the
 * server's Retry-After. A POST that may have reached the server is the
 * caller's to repeat or not: only it can tell whether it took effect.
 */
#include "http.h"

#include <sys/random.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "crypto.h"
#include "dl.h"
#include "error.h"
#include "fs.h"
#include "hdr.h"

#ifndef LEP_SONAME_CURL
#define LEP_SONAME_CURL "libcurl.so.4"
#endif

static struct {
	__typeof__(curl_global_init)		*global_init;
	__typeof__(curl_easy_init)		*easy_init;
	__typeof__(curl_easy_setopt)		*easy_setopt;
	__typeof__(curl_easy_perform)		*easy_perform;
	__typeof__(curl_easy_getinfo)		*easy_getinfo;
	__typeof__(curl_easy_cleanup)		*easy_cleanup;
	__typeof__(curl_easy_strerror)		*easy_strerror;
	__typeof__(curl_slist_append)		*slist_append;
	__typeof__(curl_slist_free_all)		*slist_free_all;
	__typeof__(curl_multi_init)		*multi_init;
	__typeof__(curl_multi_add_handle)	*multi_add_handle;
	__typeof__(curl_multi_remove_handle)	*multi_remove_handle;
	__typeof__(curl_multi_perform)		*multi_perform;
	__typeof__(curl_multi_poll)		*multi_poll;
	__typeof__(curl_multi_info_read)	*multi_info_read;
	__typeof__(curl_multi_cleanup)		*multi_cleanup;
	__typeof__(curl_multi_setopt)		*multi_setopt;
	__typeof__(curl_version)		*version;
} C;
static void	*curl_handle;

static const struct lep_err *
http_load(void)
{
	static const struct lep_dl_sym syms[] = {
		{ "curl_global_init", &C.global_init },
		{ "curl_easy_init", &C.easy_init },
		{ "curl_easy_setopt", &C.easy_setopt },
		{ "curl_easy_perform", &C.easy_perform },
		{ "curl_easy_getinfo", &C.easy_getinfo },
		{ "curl_easy_cleanup", &C.easy_cleanup },
		{ "curl_easy_strerror", &C.easy_strerror },
		{ "curl_slist_append", &C.slist_append },
		{ "curl_slist_free_all", &C.slist_free_all },
		{ "curl_multi_init", &C.multi_init },
		{ "curl_multi_add_handle", &C.multi_add_handle },
		{ "curl_multi_remove_handle", &C.multi_remove_handle },
		{ "curl_multi_perform", &C.multi_perform },
		{ "curl_multi_poll", &C.multi_poll },
		{ "curl_multi_info_read", &C.multi_info_read },
		{ "curl_multi_cleanup", &C.multi_cleanup },
		{ "curl_multi_setopt", &C.multi_setopt },
		{ "curl_version", &C.version },
	};
	const struct lep_err	*err;
	int			 was_loaded = curl_handle != NULL;

	err = lep_dl_load(&curl_handle, LEP_SONAME_CURL, syms,
	    LEP_ARRAY_SIZE(syms));
	if (err == NULL && !was_loaded &&
	    C.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return lep_err_new(LEP_E_INTERNAL, "libcurl failed to start");
	return err;
}

const char *
lep_http_version(void)
{
	if (http_load() != NULL)
		return NULL;
	return C.version();
}

void
lep_http_resp_init(struct lep_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	lep_buf_init(&r->body, 0);
	lep_buf_init_max(&r->headers, LEP_HTTP_MAX_HEADERS);
	r->retry_after_ms = -1;
}

void
lep_http_resp_release(struct lep_http_resp *r)
{
	lep_buf_release(&r->body);
	lep_buf_release(&r->headers);
}

char *
lep_http_resp_header(const struct lep_http_resp *r, const char *name)
{
	const char	*p, *eol, *v;
	size_t		 k = strlen(name);

	for (p = r->headers.buf; p != NULL && *p != '\0'; p = eol) {
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		else
			eol++;
		if ((size_t)(eol - p) <= k || strncasecmp(p, name, k) != 0 ||
		    p[k] != ':')
			continue;
		for (v = p + k + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		while (eol > v && isspace((unsigned char)eol[-1]))
			eol--;
		return xstrndup(v, eol - v);
	}
	return NULL;
}

/* One transfer: the easy handle and what it owns. */
struct xfer {
	CURL			*easy;
	struct curl_slist	*headers;
	struct lep_http_resp	 resp;
	char			 errbuf[CURL_ERROR_SIZE];
	const struct lep_http_req *req;
	size_t			 index;
	int			 tries;
	long long		 not_before;	/* backoff: ms, monotonic */
	char			 retry_after[64]; /* the answer's header */
	int			 fd;		/* req->body_file, when open */
	int			 has_fd;
	int			 keep_headers;	/* not in load runs */
	CURLcode		 setup_rc;	/* an option libcurl lacks */
	long long		 fpos;		/* read so far, this try */
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;

	if (lep_buf_addn(&x->resp.body, p, size * n) == -1)
		return 0;	/* over the cap: curl fails the transfer */
	return size * n;
}

/* Keep the answer's Retry-After (each new status line forgets it). */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	size_t		 len = size * n, k = sizeof("Retry-After:") - 1, i = 0;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->retry_after[0] = '\0';
		lep_buf_reset(&x->resp.headers);
		return size * n;
	}
	/* Past the cap, later lines are dropped, not the answer. */
	if (len > 2 && x->keep_headers)
		(void)lep_buf_addn(&x->resp.headers, p, len);
	if (len > k && strncasecmp(p, "Retry-After:", k) == 0) {
		p += k;
		len -= k;
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		for (; i < len && i + 1 < sizeof(x->retry_after); i++)
			x->retry_after[i] = p[i];
		x->retry_after[i] = '\0';
	}
	return size * n;
}

/* The next piece of a file body; pread, so a rewind is a new offset. */
static size_t
on_read(char *p, size_t size, size_t n, void *arg)
{
	struct xfer	*x = arg;
	long long	 left = x->req->file_len - x->fpos;
	size_t		 want = size * n;
	ssize_t		 r;

	if (left <= 0)
		return 0;
	if ((long long)want > left)
		want = (size_t)left;
	do
		r = pread(x->fd, p, want, (off_t)(x->req->file_offset +
		    x->fpos));
	while (r == -1 && errno == EINTR);
	if (r <= 0)
		return CURL_READFUNC_ABORT;	/* shrunk under us */
	x->fpos += r;
	return (size_t)r;
}

static int
on_seek(void *arg, curl_off_t off, int origin)
{
	struct xfer	*x = arg;

	if (origin != SEEK_SET || off < 0 || off > x->req->file_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->fpos = off;
	return CURL_SEEKFUNC_OK;
}

static void
xfer_release(struct xfer *x)
{
	if (x->easy != NULL)
		C.easy_cleanup(x->easy);
	if (x->headers != NULL)
		C.slist_free_all(x->headers);	/* wipes nothing: see below */
	x->easy = NULL;
	x->headers = NULL;
	lep_http_resp_release(&x->resp);
}

/* Called about once a second and on progress: a cancelled request ends. */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	const struct lep_http_req	*req = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return *req->cancel != 0;
}

/*
 * In-memory PEM, not copied by libcurl (CURL_BLOB_NOCOPY): the key is
 * wiped by its owner, after the request. The first option this libcurl
 * lacks (before 7.77) is the error.
 */
static CURLcode
tls_setup(struct xfer *x, const struct lep_http_tls *t)
{
	struct curl_blob	 ca = { (void *)t->ca, t->ca_len,
	    CURL_BLOB_NOCOPY };
	struct curl_blob	 cert = { (void *)t->cert, t->cert_len,
	    CURL_BLOB_NOCOPY };
	struct curl_blob	 key = { (void *)t->key, t->key_len,
	    CURL_BLOB_NOCOPY };
	CURLcode		 rc = CURLE_OK;

	if (t->insecure) {
		C.easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		C.easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (t->ca != NULL) {
		/* The cluster's CA alone, as kubectl: not the system's. */
		rc = C.easy_setopt(x->easy, CURLOPT_CAINFO_BLOB, &ca);
		C.easy_setopt(x->easy, CURLOPT_CAPATH, NULL);
	}
	if (rc == CURLE_OK && t->cert != NULL) {
		rc = C.easy_setopt(x->easy, CURLOPT_SSLCERTTYPE, "PEM");
		if (rc == CURLE_OK)
			rc = C.easy_setopt(x->easy, CURLOPT_SSLCERT_BLOB,
			    &cert);
		if (rc == CURLE_OK)
			rc = C.easy_setopt(x->easy, CURLOPT_SSLKEYTYPE, "PEM");
		if (rc == CURLE_OK)
			rc = C.easy_setopt(x->easy, CURLOPT_SSLKEY_BLOB, &key);
	}
	if (rc != CURLE_OK)
		snprintf(x->errbuf, sizeof(x->errbuf), "this libcurl cannot "
		    "take TLS certificates from memory (7.77 or later can)");
	return rc;
}

static void
xfer_setup(struct xfer *x, const struct lep_http_req *req, CURL *reuse)
{
	struct curl_slist	*h = NULL;
	char			*auth;
	const char		*ct;
	size_t			 i;

	x->req = req;
	x->easy = reuse ? reuse : C.easy_init();
	if (x->easy == NULL)
		lep_die_oom();
	lep_http_resp_init(&x->resp);
	lep_buf_init_max(&x->resp.body, req->max_body ? req->max_body :
	    LEP_HTTP_MAX_BODY);
	x->errbuf[0] = '\0';
	x->retry_after[0] = '\0';
	C.easy_setopt(x->easy, CURLOPT_URL, req->url);
	C.easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	C.easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	C.easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
	C.easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	C.easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
	C.easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	C.easy_setopt(x->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	C.easy_setopt(x->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	C.easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	C.easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ?
	    req->timeout_ms : req->timeout_ms < 0 ? 0L : 60000L);
	C.easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 5000L);
	C.easy_setopt(x->easy, CURLOPT_USERAGENT, "lepton/" LEPTON_VERSION);
	if (req->cacert != NULL)
		C.easy_setopt(x->easy, CURLOPT_CAINFO, req->cacert);
	x->setup_rc = req->tls != NULL ? tls_setup(x, req->tls) : CURLE_OK;
	/* Both set or reset: a reused handle keeps its options. */
	C.easy_setopt(x->easy, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
	C.easy_setopt(x->easy, CURLOPT_XFERINFOFUNCTION, req->cancel != NULL ?
	    on_progress : NULL);
	C.easy_setopt(x->easy, CURLOPT_XFERINFODATA, req);
	C.easy_setopt(x->easy, CURLOPT_NOPROGRESS, req->cancel != NULL ? 0L :
	    1L);
	x->fpos = 0;
	if (req->body_file != NULL && x->has_fd) {
		C.easy_setopt(x->easy, CURLOPT_READFUNCTION, on_read);
		C.easy_setopt(x->easy, CURLOPT_READDATA, x);
		C.easy_setopt(x->easy, CURLOPT_SEEKFUNCTION, on_seek);
		C.easy_setopt(x->easy, CURLOPT_SEEKDATA, x);
		if (req->method != NULL && strcmp(req->method, "PUT") == 0) {
			C.easy_setopt(x->easy, CURLOPT_UPLOAD, 1L);
			C.easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)req->file_len);
		} else {
			C.easy_setopt(x->easy, CURLOPT_POST, 1L);
			C.easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->file_len);
		}
	}
	if (req->body != NULL || (req->body_file != NULL && x->has_fd)) {
		if (req->body != NULL) {
			C.easy_setopt(x->easy, CURLOPT_POSTFIELDS, req->body);
			C.easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->body_len);
		}
		ct = req->content_type ? req->content_type :
		    "application/json";
		auth = xasprintf("Content-Type: %s", ct);
		h = C.slist_append(h, auth);
		free(auth);
	}
	if (req->method != NULL && strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "POST") != 0)
		C.easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, req->method);
	else if (req->method != NULL && strcmp(req->method, "GET") == 0)
		C.easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
	if (req->bearer != NULL) {
		auth = xasprintf("Authorization: Bearer %s", req->bearer);
		h = C.slist_append(h, auth);
		lep_wipe(auth, strlen(auth));
		free(auth);
	}
	for (i = 0; i < req->nheaders; i++)
		h = C.slist_append(h, req->headers[i]);
	/* No "Expect: 100-continue" round trip on larger bodies. */
	h = C.slist_append(h, "Expect:");
	x->headers = h;
	C.easy_setopt(x->easy, CURLOPT_HTTPHEADER, h);
}

/* RFC 9110 9.2.2: the methods whose repetition has the effect of one. */
static int
idempotent(const struct lep_http_req *req)
{
	static const char *const m[] = { "GET", "HEAD", "PUT", "DELETE",
	    "OPTIONS" };
	size_t	 i;

	if (req->method == NULL)
		return 1;
	for (i = 0; i < LEP_ARRAY_SIZE(m); i++)
		if (strcmp(req->method, m[i]) == 0)
			return 1;
	return 0;
}

/* What a finished try left in x->resp besides the body, failed or not. */
static void
xfer_outcome(struct xfer *x, CURLcode rc)
{
	long	 sent = 0;

	x->resp.attempts = x->tries;
	x->resp.retry_after_ms = x->retry_after[0] ?
	    lep_http_parse_retry_after(x->retry_after, (long long)time(NULL)) :
	    -1;
	/* Bytes of the request went out: the server may have acted. */
	C.easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &sent);
	x->resp.maybe_sent = rc != CURLE_OK && sent > 0;
}

/* May this try be made again? (Not yet: whether the wait allows it.) */
static int
should_retry(const struct xfer *x, CURLcode rc)
{
	if (x->tries > x->req->retries)
		return 0;
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_COULDNT_RESOLVE_PROXY)
		return 1;
	/* A connect timeout: nothing was sent. */
	if (rc == CURLE_OPERATION_TIMEDOUT && !x->resp.maybe_sent)
		return 1;
	if (!idempotent(x->req))
		return 0;
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:	/* truncated */
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* "Received HTTP/0.9": garbage where an answer was due
		   (before sending, it is a URL's scheme: final). */
		return x->resp.maybe_sent;
	default:
		return 0;	/* TLS, over the size cap, a bad URL... */
	}
	switch (x->resp.status) {
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return x->req->final == NULL || !x->req->final(&x->resp);
	default:
		return 0;	/* 4xx but 429 says the same again */
	}
}

long long
lep_http_backoff_ms(int n, long long retry_after_ms)
{
	unsigned int	 r = 0;
	long long	 lo;

	if (retry_after_ms > LEP_HTTP_RETRY_AFTER_MAX_MS)
		return -1;
	if (n < 1)
		n = 1;
	lo = LEP_HTTP_BACKOFF_BASE_MS << (n < 16 ? n - 1 : 15);
	if (lo > LEP_HTTP_BACKOFF_MAX_MS / 2)
		lo = LEP_HTTP_BACKOFF_MAX_MS / 2;
	(void)!getrandom(&r, sizeof(r), 0);
	/*
	 * Jitter, so that clients refused together do not come back
	 * together; the floor makes each wait longer than the last.
	 */
	if (retry_after_ms >= 0 && retry_after_ms >= lo)
		return retry_after_ms + (long long)(r % (unsigned int)lo);
	return lo + (long long)(r % (unsigned int)lo);
}

static int
month_of(const char *m)
{
	static const char *const names[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int	 i;

	for (i = 0; i < 12; i++)
		if (strcmp(m, names[i]) == 0)
			return i;
	return -1;
}

long long
lep_http_parse_retry_after(const char *v, long long now_s)
{
	struct tm	 tm;
	char		 wk[16], mo[4], tz[4], *end;
	long long	 secs, t;
	int		 d, y, h, mi, se, n = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	if (isdigit((unsigned char)*v)) {
		errno = 0;
		secs = strtoll(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end != '\0')
			return -1;
		if (errno == ERANGE || secs > LLONG_MAX / 1000)
			return LLONG_MAX;
		return secs * 1000;
	}
	memset(&tm, 0, sizeof(tm));
	if (sscanf(v, "%15[A-Za-z], %d %3s %d %d:%d:%d %3s%n", wk, &d, mo,
	    &y, &h, &mi, &se, tz, &n) == 8 && v[n] == '\0' &&
	    strcmp(tz, "GMT") == 0)
		;	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	else if ((n = 0, sscanf(v, "%15[A-Za-z], %d-%3s-%d %d:%d:%d %3s%n",
	    wk, &d, mo, &y, &h, &mi, &se, tz, &n)) == 8 && v[n] == '\0' &&
	    strcmp(tz, "GMT") == 0)
		y += y >= 100 ? 0 : y < 70 ? 2000 : 1900;	/* RFC 850 */
	else if ((n = 0, sscanf(v, "%15[A-Za-z] %3s %d %d:%d:%d %d%n", wk,
	    mo, &d, &h, &mi, &se, &y, &n)) == 7 && v[n] == '\0')
		;	/* asctime: Sun Nov  6 08:49:37 1994 */
	else
		return -1;
	if ((tm.tm_mon = month_of(mo)) < 0 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60 || y < 1970 || h < 0 || mi < 0 || se < 0)
		return -1;
	tm.tm_mday = d;
	tm.tm_year = y - 1900;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = (long long)timegm(&tm);
	if (t <= now_s)
		return 0;
	return t - now_s > LLONG_MAX / 1000 ? LLONG_MAX : (t - now_s) * 1000;
}

static const struct lep_err *
xfer_error(struct xfer *x, CURLcode rc)
{
	const char	*what = x->errbuf[0] ? x->errbuf :
	    C.easy_strerror(rc);
	char		 tries[32] = "";

	if (x->tries > 1)
		snprintf(tries, sizeof(tries), " (%d attempts)", x->tries);
	if (rc == CURLE_WRITE_ERROR && x->resp.body.overflow)
		return lep_err_new(LEP_E_PROVIDER, "%s: response is larger "
		    "than %zu bytes", x->req->url, x->resp.body.max);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return lep_err_new(LEP_E_TIMEOUT, "%s: %s%s", x->req->url,
		    what, tries);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return lep_err_new(LEP_E_INTERRUPTED, "%s: cancelled",
		    x->req->url);
	return lep_err_new(LEP_E_PROVIDER, "%s: %s%s", x->req->url, what,
	    tries);
}

/* Sleep ms, in slices when *cancel may end it; 1 when it did. */
static int
sleep_ms(long long ms, volatile sig_atomic_t *cancel)
{
	struct timespec	 ts;
	long long	 slice;

	while (ms > 0) {
		if (cancel != NULL && *cancel)
			return 1;
		slice = cancel != NULL && ms > 100 ? 100 : ms;
		ts.tv_sec = slice / 1000;
		ts.tv_nsec = (slice % 1000) * 1000000;
		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return cancel != NULL && *cancel;
}

const struct lep_err *
lep_http_do(struct lep_http_resp *resp, const struct lep_http_req *req)
{
	const struct lep_err	*err;
	struct xfer		 x;
	CURLcode		 rc;
	long long		 wait;

	if ((err = http_load()) != NULL)
		return err;
	memset(&x, 0, sizeof(x));
	x.keep_headers = 1;
	if (req->body_file != NULL) {
		if (req->file_offset < 0 || req->file_len < 0)
			return lep_err_new(LEP_E_INTERNAL, "'%s': bad range",
			    req->body_file);
		if ((err = lep_open_read(&x.fd, req->body_file, 0)) != NULL)
			return err;
		x.has_fd = 1;
	}
	for (;;) {
		xfer_setup(&x, req, NULL);
		x.tries++;
		if ((rc = x.setup_rc) != CURLE_OK)
			break;
		rc = C.easy_perform(x.easy);
		if (rc == CURLE_OK)
			C.easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE,
			    &x.resp.status);
		xfer_outcome(&x, rc);
		if (!should_retry(&x, rc) || (wait = lep_http_backoff_ms(
		    x.tries, x.resp.retry_after_ms)) < 0)
			break;
		xfer_release(&x);
		if (sleep_ms(wait, req->cancel)) {
			resp->attempts = x.tries;
			if (x.has_fd)
				close(x.fd);
			return lep_err_new(LEP_E_INTERRUPTED, "%s: cancelled",
			    req->url);
		}
	}
	err = rc == CURLE_OK ? NULL : xfer_error(&x, rc);
	resp->attempts = x.resp.attempts;
	resp->maybe_sent = x.resp.maybe_sent;
	resp->retry_after_ms = x.resp.retry_after_ms;
	if (err == NULL) {
		C.easy_getinfo(x.easy, CURLINFO_TOTAL_TIME, &x.resp.seconds);
		*resp = x.resp;
		lep_http_resp_init(&x.resp);
	}
	xfer_release(&x);
	if (x.has_fd)
		close(x.fd);
	return err;
}

struct stream {
	struct xfer	*x;
	void		(*on_data)(void *, const char *, size_t);
	void		*arg;
};

static size_t
on_stream(char *p, size_t size, size_t n, void *arg)
{
	struct stream	*s = arg;
	long		 status = 0;

	C.easy_getinfo(s->x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		s->on_data(s->arg, p, size * n);
		return size * n;
	}
	return on_body(p, size, n, s->x);
}

const struct lep_err *
lep_http_stream(struct lep_http_resp *resp, const struct lep_http_req *req,
    void (*on_data)(void *, const char *, size_t), void *arg)
{
	const struct lep_err	*err;
	struct stream		 s;
	struct xfer		 x;
	CURLcode		 rc;

	if ((err = http_load()) != NULL)
		return err;
	memset(&x, 0, sizeof(x));
	x.keep_headers = 1;
	xfer_setup(&x, req, NULL);
	s.x = &x;
	s.on_data = on_data;
	s.arg = arg;
	C.easy_setopt(x.easy, CURLOPT_WRITEFUNCTION, on_stream);
	C.easy_setopt(x.easy, CURLOPT_WRITEDATA, &s);
	rc = C.easy_perform(x.easy);
	if (rc == CURLE_OK) {
		C.easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &x.resp.status);
		C.easy_getinfo(x.easy, CURLINFO_TOTAL_TIME, &x.resp.seconds);
		*resp = x.resp;
		lep_http_resp_init(&x.resp);
	}
	err = rc == CURLE_OK ? NULL : xfer_error(&x, rc);
	xfer_release(&x);
	return err;
}

const struct lep_err *
lep_http_many(const struct lep_http_req *reqs, size_t n, int concurrency,
    lep_http_done_fn done, void *arg)
{
	return lep_http_many_until(reqs, n, concurrency, done, arg, NULL);
}

/* Set x up again on its own easy handle, for reqs[idx], try `tries`. */
static void
xfer_reuse(struct xfer *x, const struct lep_http_req *req, size_t idx,
    int tries)
{
	CURL	*e = x->easy;

	x->easy = NULL;
	if (x->headers != NULL)
		C.slist_free_all(x->headers);
	x->headers = NULL;
	lep_http_resp_release(&x->resp);
	xfer_setup(x, req, e);
	x->index = idx;
	x->tries = tries;
	x->not_before = 0;
}

/* A many-run: its requests, where it is, and whom to tell. */
struct many {
	const struct lep_http_req	*reqs;
	size_t				 n, next, finished;
	CURLM				*multi;
	lep_http_done_fn		 done;
	void				*arg;
	volatile int			*stop;
};

static int
many_stopped(const struct many *m)
{
	return m->stop != NULL && *m->stop;
}

/* One transfer ended: retry it later, or report it and start the next. */
static void
many_done(struct many *m, struct xfer *x, CURLcode rc)
{
	long long	 wait;

	C.multi_remove_handle(m->multi, x->easy);
	if (rc == CURLE_OK) {
		C.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
		    &x->resp.status);
		C.easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &x->resp.seconds);
	}
	xfer_outcome(x, rc);
	if (should_retry(x, rc) && (wait = lep_http_backoff_ms(x->tries,
	    x->resp.retry_after_ms)) >= 0) {
		xfer_reuse(x, &m->reqs[x->index], x->index, x->tries + 1);
		x->not_before = lep_now_ms() + (wait > 0 ? wait : 1);
		return;
	}
	m->done(m->arg, x->index, rc == CURLE_OK ? &x->resp : NULL,
	    rc == CURLE_OK ? NULL : xfer_error(x, rc));
	m->finished++;
	if (m->next < m->n && !many_stopped(m)) {
		xfer_reuse(x, &m->reqs[m->next], m->next, 1);
		m->next++;
		C.multi_add_handle(m->multi, x->easy);
	}
}

const struct lep_err *
lep_http_many_until(const struct lep_http_req *reqs, size_t n,
    int concurrency, lep_http_done_fn done, void *arg, volatile int *stop)
{
	const struct lep_err	*err;
	struct xfer		*slots, *x;
	struct many		 m = { reqs, n, 0, 0, NULL, done, arg, stop };
	CURLMsg			*msg;
	size_t			 i;
	int			 running, left, nslots;
	long long		 now;

	if ((err = http_load()) != NULL)
		return err;
	if (concurrency < 1)
		concurrency = 1;
	nslots = (size_t)concurrency < n ? concurrency : (int)n;
	if (nslots == 0)
		return NULL;
	if ((m.multi = C.multi_init()) == NULL)
		lep_die_oom();
	C.multi_setopt(m.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)nslots);
	slots = xcalloc((size_t)nslots, sizeof(*slots));
	for (i = 0; i < (size_t)nslots; i++) {
		xfer_setup(&slots[i], &reqs[m.next], NULL);
		slots[i].index = m.next++;
		slots[i].tries = 1;
		C.easy_setopt(slots[i].easy, CURLOPT_PRIVATE, &slots[i]);
		C.multi_add_handle(m.multi, slots[i].easy);
	}
	/* Stopped: what is in flight finishes, nothing more starts. */
	while (m.finished < n && !(many_stopped(&m) && m.finished == m.next)) {
		C.multi_perform(m.multi, &running);
		while ((msg = C.multi_info_read(m.multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			C.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			many_done(&m, x, msg->data.result);
		}
		/* Re-add transfers whose backoff has passed. */
		now = lep_now_ms();
		for (i = 0; i < (size_t)nslots; i++) {
			if (slots[i].not_before != 0 &&
			    slots[i].not_before <= now) {
				slots[i].not_before = 0;
				C.multi_add_handle(m.multi, slots[i].easy);
			}
		}
		if (m.finished < n && !(many_stopped(&m) &&
		    m.finished == m.next))
			C.multi_poll(m.multi, NULL, 0, 50, NULL);
	}
	for (i = 0; i < (size_t)nslots; i++)
		xfer_release(&slots[i]);
	free(slots);
	C.multi_cleanup(m.multi);
	return NULL;
}

struct slot {
	struct xfer	 x;
	int		 busy;
	long long	 intended;	/* us: when it was due (or sent) */
	int		 counted;	/* started after the warmup */
};

void
lep_load_count(struct lep_load_result *r, enum lep_load_end how, long status,
    long long latency_us)
{
	if (how == LEP_LOAD_ANSWERED && (status < 200 || status > 599))
		how = LEP_LOAD_PROTOCOL;
	switch (how) {
	case LEP_LOAD_ANSWERED:
		r->status[status / 100]++;
		r->ok += status < 300;
		break;
	case LEP_LOAD_CONNECT:
		r->err_connect++;
		break;
	case LEP_LOAD_TIMEOUT:
		r->err_timeout++;
		break;
	case LEP_LOAD_PROTOCOL:
		r->err_protocol++;
		break;
	default:
		r->err_other++;
		break;
	}
	/* Failures take time too: every request's latency is recorded. */
	lep_hdr_record(r->latency, (uint64_t)(latency_us > 0 ? latency_us : 0));
}

static void
load_done(struct lep_load_result *r, struct slot *s, CURLcode rc,
    long long end)
{
	enum lep_load_end	 how;
	long			 status = 0;

	if (!s->counted)
		return;
	if (rc == CURLE_OK) {
		C.easy_getinfo(s->x.easy, CURLINFO_RESPONSE_CODE, &status);
		how = LEP_LOAD_ANSWERED;
	} else if (rc == CURLE_COULDNT_CONNECT ||
	    rc == CURLE_COULDNT_RESOLVE_HOST)
		how = LEP_LOAD_CONNECT;
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		how = LEP_LOAD_TIMEOUT;
	else if (rc == CURLE_WEIRD_SERVER_REPLY ||
	    rc == CURLE_UNSUPPORTED_PROTOCOL ||
	    (rc == CURLE_RECV_ERROR && strstr(s->x.errbuf, "chunk") != NULL))
		/*
		 * A status line that is not HTTP's (curl takes it for
		 * HTTP/0.9), or bad chunked framing, which curl reports as
		 * a receive error, each of its messages naming the chunk.
		 */
		how = LEP_LOAD_PROTOCOL;
	else
		how = LEP_LOAD_OTHER;
	lep_load_count(r, how, status, end - s->intended);
}

void
lep_load_clock_init(struct lep_load_clock *c, const struct lep_load_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->interval = o->rate > 0 ? 1e6 / o->rate : 0;
	c->t0 = c->next_due = lep_now_us();
	c->counted_from = c->t0 + o->warmup_ms * 1000;
	c->end_at = o->duration_ms > 0 ? c->counted_from +
	    o->duration_ms * 1000 : 0;
}

int
lep_load_clock_over(const struct lep_load_clock *c,
    const struct lep_load_opts *o, long long now)
{
	return (o->stop != NULL && *o->stop) || (c->end_at &&
	    now >= c->end_at) || (o->requests > 0 &&
	    c->started >= o->requests);
}

int
lep_load_clock_cut(const struct lep_load_clock *c,
    const struct lep_load_opts *o, long long now)
{
	return (o->stop != NULL && *o->stop) || (c->end_at && now >= c->end_at);
}

int
lep_load_clock_next(struct lep_load_clock *c, struct lep_load_result *r,
    long long now, long long *when)
{
	if (c->interval > 0) {
		if (now < c->next_due)
			return 0;
		*when = c->next_due;
		c->k++;
		c->next_due = c->t0 + (long long)((double)c->k * c->interval);
		if (now - *when > 1000)
			r->late += *when >= c->counted_from;
	} else
		*when = now;
	c->started += *when >= c->counted_from;
	return 1;
}

void
lep_load_clock_end(const struct lep_load_clock *c, struct lep_load_result *r,
    const struct lep_load_opts *o, long long now)
{
	r->sent = c->started;
	r->stopped = o->stop != NULL && *o->stop;
	r->seconds = now > c->counted_from ? (double)(now - c->counted_from) /
	    1e6 : 0;
}

/* Start what the clock says is due on the idle slots; how many started. */
static int
load_start_due(struct slot *slots, int n, CURLM *multi,
    struct lep_load_clock *c, struct lep_load_result *r,
    const struct lep_load_opts *o, long long now)
{
	long long	 when;
	int		 i, started = 0;

	for (i = 0; i < n; i++) {
		if (slots[i].busy)
			continue;
		if (!lep_load_clock_next(c, r, now, &when))
			break;
		slots[i].busy = 1;
		slots[i].intended = when;
		slots[i].counted = when >= c->counted_from;
		lep_http_resp_release(&slots[i].x.resp);
		slots[i].x.errbuf[0] = '\0';
		lep_buf_init_max(&slots[i].x.resp.body, o->req->max_body ?
		    o->req->max_body : LEP_HTTP_MAX_BODY);
		C.multi_add_handle(multi, slots[i].x.easy);
		started++;
		if (o->requests > 0 && c->started >= o->requests)
			break;
	}
	return started;
}

/* Record what finished; how many did. */
static int
load_reap(CURLM *multi, struct lep_load_result *r)
{
	struct slot	*s;
	CURLMsg		*msg;
	int		 left, done = 0;

	while ((msg = C.multi_info_read(multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		C.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&s);
		C.multi_remove_handle(multi, s->x.easy);
		load_done(r, s, msg->data.result, lep_now_us());
		s->busy = 0;
		done++;
	}
	return done;
}

const struct lep_err *
lep_http_load(struct lep_load_result *r, const struct lep_load_opts *o)
{
	const struct lep_err	*err;
	struct slot		*slots;
	CURLM			*multi;
	struct lep_load_clock	 c;
	long long		 now, wait_ms;
	int			 n = o->concurrency > 0 ? o->concurrency : 1;
	int			 i, running, inflight = 0, stopping = 0;
	int			 done;

	memset(r, 0, sizeof(*r));
	r->latency = lep_hdr_new();
	if ((err = http_load()) != NULL)
		return err;
	multi = C.multi_init();
	if (multi == NULL)
		lep_die_oom();
	C.multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n);
	slots = xcalloc((size_t)n, sizeof(*slots));
	for (i = 0; i < n; i++) {
		xfer_setup(&slots[i].x, o->req, NULL);
		C.easy_setopt(slots[i].x.easy, CURLOPT_PRIVATE, &slots[i]);
	}
	lep_load_clock_init(&c, o);
	for (;;) {
		now = lep_now_us();
		if (lep_load_clock_over(&c, o, now))
			stopping = 1;
		if (stopping && (inflight == 0 || lep_load_clock_cut(&c, o,
		    now)))
			break;
		if (!stopping)
			inflight += load_start_due(slots, n, multi, &c, r, o,
			    now);
		C.multi_perform(multi, &running);
		done = load_reap(multi, r);
		inflight -= done;
		/* A closed loop refills at once what just finished. */
		if (done > 0 && c.interval == 0)
			continue;
		/* Sleep until the next is due, or something happens. */
		now = lep_now_us();
		wait_ms = 50;
		if (c.interval > 0 && !stopping && c.next_due > now)
			wait_ms = (c.next_due - now) / 1000;
		else if (c.interval > 0 && !stopping)
			wait_ms = 0;
		if (wait_ms > 50)
			wait_ms = 50;
		if (c.end_at > 0 && (c.end_at - now) / 1000 < wait_ms)
			wait_ms = c.end_at > now ? (c.end_at - now) / 1000 : 0;
		C.multi_poll(multi, NULL, 0, (int)wait_ms, NULL);
	}
	lep_load_clock_end(&c, r, o, lep_now_us());
	/* Cut: what is still in flight is abandoned, not waited for. */
	for (i = 0; i < n; i++) {
		if (slots[i].busy) {
			C.multi_remove_handle(multi, slots[i].x.easy);
			r->abandoned += slots[i].counted;
			slots[i].busy = 0;
		}
	}
	for (i = 0; i < n; i++)
		xfer_release(&slots[i].x);
	free(slots);
	C.multi_cleanup(multi);
	return NULL;
}
