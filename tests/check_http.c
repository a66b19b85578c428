/*
 * check_http.c: lib/http's retry rule against a canned server on
 * 127.0.0.1 (a child process answering each connection from a script):
 * what is tried again and what never is, the waits between tries,
 * Retry-After in both forms and its cap, timeouts, and the size cap.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/error.h"
#include "../lib/http.h"
#include "../lib/util.h"

#define R200	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define R404	"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
#define R400	"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
#define R500	"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"
#define R503	"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"
#define R503_RA1 "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0" \
		"\r\n\r\n"
#define R503_RA_HOUR "HTTP/1.1 503 Busy\r\nRetry-After: 3600\r\n" \
		"Content-Length: 0\r\n\r\n"
#define R429_DATE "HTTP/1.1 429 Slow down\r\nRetry-After: %DATE+2%\r\n" \
		"Content-Length: 0\r\n\r\n"
#define RCUT	"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf!"
#define RJUNK	"\x01\x02garbage, not HTTP\xff\xfe\r\n\r\n"
/* Not replies: what the server does instead. */
#define RESET	"<reset>"
#define STALL	"<stall>"
#define HUGE	"<huge>"

struct server {
	pid_t	 pid;
	int	 port;
	int	 times;		/* read end: 8 bytes (ms) per request */
};

static long long
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read one request: headers, and a body of Content-Length. */
static void
read_request(int fd)
{
	char	 buf[8192], *end, *cl;
	size_t	 n = 0;
	ssize_t	 r;
	long	 want = 0;

	while (n < sizeof(buf) - 1) {
		if ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) <= 0)
			return;
		n += (size_t)r;
		buf[n] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
	}
	if (end == NULL)
		return;
	if ((cl = strcasestr(buf, "Content-Length:")) != NULL)
		want = strtol(cl + 15, NULL, 10);
	want -= (long)(n - (size_t)(end + 4 - buf));
	while (want > 0 && (r = read(fd, buf, sizeof(buf))) > 0)
		want -= r;
}

static void
reply(int fd, const char *r)
{
	struct linger	 lg = { 1, 0 };
	char		 date[64], *text;
	const char	*at;
	time_t		 t;

	if (strcmp(r, RESET) == 0) {
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		return;
	}
	if (strcmp(r, STALL) == 0) {
		/* Held open by a child, so that the next one is accepted. */
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			sleep(30);
			_exit(0);
		}
		return;
	}
	if (strcmp(r, HUGE) == 0) {
		static char	 junk[65536];
		const char	*h = "HTTP/1.1 200 OK\r\nContent-Length: "
				    "1000000000\r\n\r\n";
		int		 i;

		memset(junk, 'x', sizeof(junk));
		(void)!write(fd, h, strlen(h));
		for (i = 0; i < 1024; i++)	/* 64 MiB, or until refused */
			if (write(fd, junk, sizeof(junk)) <= 0)
				break;
		return;
	}
	if ((at = strstr(r, "%DATE+2%")) != NULL) {
		t = time(NULL) + 2;
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT",
		    gmtime(&t));
		text = xasprintf("%.*s%s%s", (int)(at - r), r, date, at + 8);
		(void)!write(fd, text, strlen(text));
		free(text);
		return;
	}
	(void)!write(fd, r, strlen(r));
}

/* Serve connection i with script[min(i, n - 1)], until killed. */
static void
server_start(struct server *sv, const char *const *script, size_t n)
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	int			 ls, fd, p[2], one = 1;
	size_t			 i;
	long long		 t;

	ck_assert_int_eq(pipe(p), 0);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(ls, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(ls, 16), 0);
	getsockname(ls, (struct sockaddr *)&sa, &len);
	sv->port = ntohs(sa.sin_port);
	if ((sv->pid = fork()) == 0) {
		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		for (i = 0;; i++) {
			if ((fd = accept(ls, NULL, NULL)) == -1)
				_exit(1);
			read_request(fd);
			t = mono_ms();
			(void)!write(p[1], &t, sizeof(t));
			reply(fd, script[i < n ? i : n - 1]);
			close(fd);
		}
	}
	close(ls);
	close(p[1]);
	sv->times = p[0];
}

/* Stop the server; the requests' arrival times (ms), how many. */
static size_t
server_stop(struct server *sv, long long *t, size_t max)
{
	size_t	 n = 0;

	kill(sv->pid, SIGKILL);
	waitpid(sv->pid, NULL, 0);
	while (n < max && read(sv->times, &t[n], sizeof(t[n])) ==
	    (ssize_t)sizeof(t[n]))
		n++;
	close(sv->times);
	return n;
}

static int
always_final(const struct lep_http_resp *r)
{
	(void)r;
	return 1;
}

static const struct {
	const char	*name;
	const char	*method;
	const char	*script[4];
	int		 final;		/* req.final says so */
	long		 timeout_ms;
	int		 attempts;	/* tries made */
	enum lep_code	 err;		/* 0: an answer */
	long		 status;	/* its status */
	long long	 min_gap_ms;	/* between the first two tries */
	int		 maybe_sent;
} cases[] = {
	{ "503 Retry-After 1 waited", "GET", { R503_RA1, R200 }, 0, 0, 2, 0,
	    200, 1000, 0 },
	{ "429 Retry-After date waited", "GET", { R429_DATE, R200 }, 0, 0, 2,
	    0, 200, 1000, 0 },
	{ "truncated GET tried again", "GET", { RCUT, R200 }, 0, 0, 2, 0, 200,
	    100, 0 },
	{ "garbage GET tried again", "GET", { RJUNK, R200 }, 0, 0, 2, 0, 200,
	    100, 0 },
	{ "500 GET tried again", "GET", { R500, R200 }, 0, 0, 2, 0, 200, 100,
	    0 },
	{ "500 GET final not tried again", "GET", { R500, R200 }, 1, 0, 1, 0,
	    500, 0, 0 },
	{ "reset DELETE tried again", "DELETE", { RESET, R200 }, 0, 0, 2, 0,
	    200, 100, 0 },
	{ "reset POST never again", "POST", { RESET, R200 }, 0, 0, 1,
	    LEP_E_PROVIDER, 0, 0, 1 },
	{ "truncated POST never again", "POST", { RCUT, R200 }, 0, 0, 1,
	    LEP_E_PROVIDER, 0, 0, 1 },
	{ "503 POST never again", "POST", { R503, R200 }, 0, 0, 1, 0, 503, 0,
	    0 },
	{ "404 never again", "GET", { R404, R200 }, 0, 0, 1, 0, 404, 0, 0 },
	{ "400 never again", "GET", { R400, R200 }, 0, 0, 1, 0, 400, 0, 0 },
	{ "Retry-After over the cap not waited", "GET", { R503_RA_HOUR,
	    R200 }, 0, 0, 1, 0, 503, 0, 0 },
	{ "resets give up after 3 tries", "GET", { RESET }, 0, 0, 3,
	    LEP_E_PROVIDER, 0, 100, 1 },
	{ "stalled GET times out, 3 tries", "GET", { STALL }, 0, 300, 3,
	    LEP_E_TIMEOUT, 0, 100, 1 },
	{ "stalled POST times out once", "POST", { STALL }, 0, 300, 1,
	    LEP_E_TIMEOUT, 0, 0, 1 },
	{ "a huge body stops at the cap", "GET", { HUGE }, 0, 0, 1,
	    LEP_E_PROVIDER, 0, 0, 1 },
};

START_TEST(test_http_retry_rule)
{
	const struct lep_err	*err;
	struct lep_http_req	 req;
	struct lep_http_resp	 resp;
	struct server		 sv;
	long long		 t[8], t0;
	size_t			 n, ns = 0;
	char			*url;

	while (ns < 4 && cases[_i].script[ns] != NULL)
		ns++;
	server_start(&sv, cases[_i].script, ns);
	url = xasprintf("http://127.0.0.1:%d/x", sv.port);
	memset(&req, 0, sizeof(req));
	req.method = cases[_i].method;
	req.url = url;
	if (strcmp(req.method, "POST") == 0) {
		req.body = "{}";
		req.body_len = 2;
	}
	req.retries = 2;
	req.timeout_ms = cases[_i].timeout_ms ? cases[_i].timeout_ms : 5000;
	req.max_body = 1u << 20;
	if (cases[_i].final)
		req.final = always_final;
	lep_http_resp_init(&resp);
	t0 = mono_ms();
	err = lep_http_do(&resp, &req);
	n = server_stop(&sv, t, 8);
	if (cases[_i].err != 0) {
		ck_assert_msg(err != NULL, "%s: no error", cases[_i].name);
		ck_assert_msg(err->code == cases[_i].err, "%s: %s",
		    cases[_i].name, err->msg);
	} else {
		ck_assert_msg(err == NULL, "%s: %s", cases[_i].name,
		    err->msg);
		ck_assert_int_eq(resp.status, cases[_i].status);
	}
	ck_assert_msg((int)n == cases[_i].attempts, "%s: %zu requests, want "
	    "%d", cases[_i].name, n, cases[_i].attempts);
	ck_assert_int_eq(resp.attempts, cases[_i].attempts);
	ck_assert_int_eq(resp.maybe_sent, cases[_i].maybe_sent);
	if (n >= 2)
		ck_assert_msg(t[1] - t[0] >= cases[_i].min_gap_ms, "%s: gap "
		    "%lld ms", cases[_i].name, t[1] - t[0]);
	/* Growing waits: the second gap is longer than the first. */
	if (n >= 3 && cases[_i].timeout_ms == 0)
		ck_assert_msg(t[2] - t[1] > t[1] - t[0], "%s: gaps %lld, %lld",
		    cases[_i].name, t[1] - t[0], t[2] - t[1]);
	if (strstr(cases[_i].name, "stalled") != NULL)
		ck_assert_int_lt(mono_ms() - t0, 3000);
	if (strstr(cases[_i].name, "huge") != NULL)
		ck_assert_msg(strstr(err->msg, "larger than") != NULL, "%s",
		    err->msg);
	if (strstr(cases[_i].name, "over the cap") != NULL)
		ck_assert_int_eq(resp.retry_after_ms, 3600000);
	lep_http_resp_release(&resp);
	free(url);
}
END_TEST

START_TEST(test_http_post_tried_again_when_nothing_was_sent)
{
	const struct lep_err	*err;
	struct lep_http_req	 req;
	struct lep_http_resp	 resp;
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	char			*url;
	int			 s;

	/* A port that was just free: refused. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(s, (struct sockaddr *)&sa, &len);
	close(s);
	url = xasprintf("http://127.0.0.1:%d/", ntohs(sa.sin_port));
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.body = "{}";
	req.body_len = 2;
	req.retries = 2;
	lep_http_resp_init(&resp);
	err = lep_http_do(&resp, &req);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(resp.attempts, 3);
	ck_assert_int_eq(resp.maybe_sent, 0);
	ck_assert_ptr_nonnull(strstr(err->msg, "(3 attempts)"));
	free(url);
}
END_TEST

START_TEST(test_http_backoff_grows_with_jitter)
{
	long long	 w, first = -1;
	int		 n, i, differ = 0;

	for (i = 0; i < 50; i++) {
		for (n = 1; n <= 3; n++) {
			w = lep_http_backoff_ms(n, -1);
			ck_assert_int_ge(w, 100LL << (n - 1));
			ck_assert_int_lt(w, 200LL << (n - 1));
		}
		w = lep_http_backoff_ms(1, -1);
		if (first == -1)
			first = w;
		differ |= w != first;
		ck_assert_int_le(lep_http_backoff_ms(40, -1),
		    LEP_HTTP_BACKOFF_MAX_MS);
	}
	ck_assert_msg(differ, "no jitter");
	/* Never shorter than Retry-After; over the cap: do not retry. */
	ck_assert_int_ge(lep_http_backoff_ms(1, 3000), 3000);
	ck_assert_int_ge(lep_http_backoff_ms(1, LEP_HTTP_RETRY_AFTER_MAX_MS),
	    LEP_HTTP_RETRY_AFTER_MAX_MS);
	ck_assert_int_eq(lep_http_backoff_ms(1, LEP_HTTP_RETRY_AFTER_MAX_MS +
	    1), -1);
}
END_TEST

static const struct {
	const char	*value;
	long long	 ms;
} retry_after[] = {
	{ "120", 120000 },
	{ " 0 ", 0 },
	/* 784111777 is Sun, 06 Nov 1994 08:49:37 GMT; now is 5 s before. */
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 5000 },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", 5000 },
	{ "Sun Nov  6 08:49:37 1994", 5000 },
	{ "Sat, 05 Nov 1994 08:49:37 GMT", 0 },	/* past */
	{ "1.5", -1 },
	{ "soon", -1 },
	{ "Sun, 06 Nov 1994 08:49:37 CET", -1 },
	{ "Sun, 06 Foo 1994 08:49:37 GMT", -1 },
	{ "", -1 },
};

START_TEST(test_http_retry_after_both_forms)
{
	ck_assert_msg(lep_http_parse_retry_after(retry_after[_i].value,
	    784111777LL - 5) == retry_after[_i].ms, "'%s': %lld",
	    retry_after[_i].value, lep_http_parse_retry_after(
	    retry_after[_i].value, 784111777LL - 5));
}
END_TEST

Suite *
suite_http(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_http_retry_rule, 0,
	    (int)LEP_ARRAY_SIZE(cases));
	tcase_add_test(tc, test_http_post_tried_again_when_nothing_was_sent);
	tcase_add_test(tc, test_http_backoff_grows_with_jitter);
	tcase_add_loop_test(tc, test_http_retry_after_both_forms, 0,
	    (int)LEP_ARRAY_SIZE(retry_after));
	suite_add_tcase(s, tc);
	return s;
}
