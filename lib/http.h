/*
 * http.h: every network call lepton makes, through libcurl (loaded on
 * first use): timeouts, bounded retries with jittered exponential backoff
 * for what is safe to repeat, Retry-After honoured up to a cap, TLS
 * verification always on, capped response sizes.
 */
#ifndef LEPTON_LIB_HTTP_H
#define LEPTON_LIB_HTTP_H

#include <signal.h>
#include <stddef.h>

#include "util.h"

struct lep_err;
struct lep_http_resp;

/*
 * TLS as a kubeconfig states it, PEM in memory (lep_http_do only: a
 * reused handle of lep_http_many would keep it). ca: trust only these
 * CAs, not the system's. cert and key: a client certificate (the key is
 * secret: never copied, wiped by its owner). insecure: no verification
 * at all, for kubeconfig's insecure-skip-tls-verify: true alone.
 */
struct lep_http_tls {
	const char	*ca;
	size_t		 ca_len;
	const char	*cert;
	size_t		 cert_len;
	const char	*key;
	size_t		 key_len;
	int		 insecure;
};

#define LEP_HTTP_MAX_BODY	(64u * 1024 * 1024)
/* The longest Retry-After waited for; a server asking for more is not
   tried again (lepton(1) NETWORK). */
#define LEP_HTTP_RETRY_AFTER_MAX_MS	30000LL
/* Backoff before try n+1: in [base << (n-1), 2 * base << (n-1)), at most
   LEP_HTTP_BACKOFF_MAX_MS. */
#define LEP_HTTP_BACKOFF_BASE_MS	100LL
#define LEP_HTTP_BACKOFF_MAX_MS		5000LL

struct lep_http_req {
	const char	*method;	/* "GET", "POST"... */
	const char	*url;
	const char	*body;		/* may be NULL */
	size_t		 body_len;
	/* Or the body read from a file, file_len bytes from file_offset,
	   sent again whole on each try (lep_http_do only): */
	const char	*body_file;
	long long	 file_offset;
	long long	 file_len;
	const char	*content_type;	/* default application/json w/ body */
	const char	*bearer;	/* secret: never logged */
	const char *const *headers;	/* "Name: value" lines, may hold
					   secrets: never logged */
	size_t		 nheaders;
	long		 timeout_ms;	/* whole request; default 60 s,
					   -1: none (a stream for a life) */
	long		 connect_timeout_ms;	/* default 5 s */
	size_t		 max_body;	/* default LEP_HTTP_MAX_BODY */
	int		 retries;	/* extra tries; see http.c for when */
	/* Is this answer the server's final word whatever its status (say,
	   a 500 that carries the server's own error report)? Then it is
	   not tried again. NULL: the status alone decides. */
	int		(*final)(const struct lep_http_resp *);
	const char	*cacert;	/* a private CA bundle, or NULL */
	const struct lep_http_tls *tls;	/* or this (lep_http_do) */
	const char	*unix_socket;	/* connect to this socket instead
					   of the URL's host (Docker) */
	volatile sig_atomic_t *cancel;	/* set (by a signal): the request
					   ends within a second, as
					   LEP_E_INTERRUPTED */
};

/* The most of an answer's header lines kept in lep_http_resp.headers. */
#define LEP_HTTP_MAX_HEADERS	(64u * 1024)

struct lep_http_resp {
	long		 status;
	struct lep_buf	 body;
	struct lep_buf	 headers;	/* the final answer's header lines,
					   "Name: value\r\n", up to
					   LEP_HTTP_MAX_HEADERS */
	double		 seconds;
	/* Set on failure too: */
	int		 attempts;	/* tries made */
	int		 maybe_sent;	/* the last try failed after sending:
					   the server may have acted on it */
	long long	 retry_after_ms; /* the last answer's Retry-After,
					   -1: none */
};

void	 lep_http_resp_init(struct lep_http_resp *);
void	 lep_http_resp_release(struct lep_http_resp *);
/*
 * The value of the answer's header name (any case), trimmed, or NULL when
 * it has none. Caller frees.
 */
char	*lep_http_resp_header(const struct lep_http_resp *, const char *name);

/*
 * One request, tried up to 1 + req->retries times. Any method is tried
 * again when nothing was sent (no connection); an idempotent one (GET,
 * HEAD, PUT, DELETE, OPTIONS) also after a timeout, a reset, a truncated
 * or garbled answer, and HTTP 429, 500, 502, 503 and 504 (unless
 * req->final says the answer is final). Never one that is not (POST)
 * once it may have reached the server: the caller decides, with
 * resp->maybe_sent. Between tries: lep_http_backoff_ms().
 *
 * A transport failure is LEP_E_PROVIDER (connection refused, TLS, reset)
 * or LEP_E_TIMEOUT; an HTTP status of any value is success here: the
 * caller reads resp->status. resp->attempts, maybe_sent and
 * retry_after_ms are set either way; its body only on success.
 */
const struct lep_err *lep_http_do(struct lep_http_resp *resp,
	    const struct lep_http_req *);

/*
 * One request whose response body is handed to on_data as it arrives
 * (server-sent events): resp gets the status; its body is only kept, up to
 * the cap, when the status is not 2xx. Errors: as lep_http_do; no retry.
 */
const struct lep_err *lep_http_stream(struct lep_http_resp *resp,
	    const struct lep_http_req *,
	    void (*on_data)(void *arg, const char *, size_t), void *arg);

/* Called once per request as it completes, in completion order. */
typedef void (*lep_http_done_fn)(void *arg, size_t index,
	    const struct lep_http_resp *, const struct lep_err *);

/*
 * Send n requests with at most concurrency in flight over reused
 * connections (libcurl multi). Errors: only set-up failures; per-request
 * outcomes go to done.
 */
const struct lep_err *lep_http_many(const struct lep_http_req *reqs, size_t n,
	    int concurrency, lep_http_done_fn done, void *arg);
/* The same; once *stop is set, no more requests start (the rest of n
   never reach done). */
const struct lep_err *lep_http_many_until(const struct lep_http_req *reqs,
	    size_t n, int concurrency, lep_http_done_fn done, void *arg,
	    volatile int *stop);

struct lep_hdr;

struct lep_load_opts {
	const struct lep_http_req *req;	/* sent again and again */
	int		 concurrency;	/* in flight (open loop: at most) */
	double		 rate;		/* > 0: open loop, requests/s */
	long long	 duration_ms;	/* 0: until requests */
	long long	 requests;	/* 0: until duration */
	long long	 warmup_ms;	/* not counted */
	volatile int	*stop;		/* set (by SIGINT) to end early */
};

/*
 * sent = ok + the errors (connect, timeout, other, protocol, status 3xx,
 * 4xx and 5xx) + abandoned.
 */
struct lep_load_result {
	struct lep_hdr	*latency;	/* us; owned: free with lep_hdr_free */
	long long	 sent;		/* counted requests, started */
	long long	 ok;		/* 2xx */
	long long	 err_connect;
	long long	 err_timeout;
	long long	 err_other;	/* reset, cut short, TLS, over cap */
	long long	 err_protocol;	/* not HTTP: status line, framing */
	long long	 status[6];	/* final, by class: [3] 3xx... */
	long long	 late;		/* open loop: started after their time */
	long long	 abandoned;	/* in flight when the run was cut */
	double		 seconds;	/* measured, after warmup */
	int		 stopped;	/* ended by *stop */
};

/* How a request of a load run ended. */
enum lep_load_end {
	LEP_LOAD_ANSWERED,	/* a final response, whose status says more */
	LEP_LOAD_CONNECT,	/* no connection */
	LEP_LOAD_TIMEOUT,	/* past the request's timeout */
	LEP_LOAD_PROTOCOL,	/* an answer that is not HTTP */
	LEP_LOAD_OTHER,		/* reset, cut short, over the size cap */
};

/*
 * Count a request in r that ended as how after latency_us; status: the
 * final response's. A status outside 200-599 (no 1xx is final here) is a
 * protocol error, 2xx is ok, the others count by class. Both engines
 * count through this, so that they agree.
 */
void	 lep_load_count(struct lep_load_result *r, enum lep_load_end how,
	    long status, long long latency_us);

/*
 * The clock of a load run, shared by both engines: when each request is
 * due (open loop: every 1/rate s from the start; closed loop: whenever a
 * connection is free), which ones count (after the warmup), and when the
 * run is over. Times in microseconds.
 */
struct lep_load_clock {
	long long	 t0, counted_from, end_at, next_due, k;
	long long	 started;	/* counted requests started */
	double		 interval;	/* 0: closed loop */
};

void	 lep_load_clock_init(struct lep_load_clock *,
	    const struct lep_load_opts *);
/* Whether to start no more: stopped, past the duration or the count. */
int	 lep_load_clock_over(const struct lep_load_clock *,
	    const struct lep_load_opts *, long long now);
/*
 * Whether the run ends now, whatever is in flight: stopped, or past the
 * duration (a run of N requests waits for its last). What is in flight
 * is abandoned: counted in abandoned, neither ok nor an error, with no
 * latency, as neither engine knows how long it would have taken.
 */
int	 lep_load_clock_cut(const struct lep_load_clock *,
	    const struct lep_load_opts *, long long now);
/*
 * 1 and *when (the time it was due) when a request may start now, counted
 * in started if past the warmup, and in r->late if over a ms late; 0 when
 * the next is not due yet.
 */
int	 lep_load_clock_next(struct lep_load_clock *, struct lep_load_result *,
	    long long now, long long *when);
/* Fill r's sent, stopped and seconds at the end of the run. */
void	 lep_load_clock_end(const struct lep_load_clock *,
	    struct lep_load_result *, const struct lep_load_opts *,
	    long long now);

/*
 * A load run over reused connections. Closed loop: concurrency requests
 * always in flight, latency from each send. Open loop (rate): requests
 * due at a constant rate, latency from each one's intended send time,
 * so that a stalled server cannot hide its queueing (coordinated
 * omission). The run ends at the end of the duration or when *stop is
 * set, even with requests in flight (see lep_load_clock_cut). Errors:
 * only set-up failures.
 */
const struct lep_err *lep_http_load(struct lep_load_result *,
	    const struct lep_load_opts *);

/*
 * How long to wait before try n + 1 (n >= 1 tries made): exponential
 * backoff with jitter, in [b, 2b) for b = LEP_HTTP_BACKOFF_BASE_MS <<
 * (n - 1), at most LEP_HTTP_BACKOFF_MAX_MS; or the server's Retry-After
 * (ms, -1: none) when that is longer. -1 when Retry-After is over
 * LEP_HTTP_RETRY_AFTER_MAX_MS: do not try again.
 */
long long lep_http_backoff_ms(int n, long long retry_after_ms);

/*
 * A Retry-After value in ms from now: delay-seconds or an HTTP-date
 * (IMF-fixdate, RFC 850 or asctime), 0 for a date past. -1 when it is
 * neither.
 */
long long lep_http_parse_retry_after(const char *value, long long now_s);

/* libcurl's version string, loading it. NULL when it cannot load. */
const char *lep_http_version(void);

#endif
