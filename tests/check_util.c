/*
 * check_util.c: lep_buf, string helpers, number and duration parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_lepton.h"
#include "../lib/hdr.h"
#include "../lib/sse.h"
#include "../lib/trailer.h"
#include "../lib/util.h"
#include "../lib/wire.h"

START_TEST(test_buf_grows_and_stays_terminated)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	int		 i;

	ck_assert_str_eq(b.buf, "");
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(lep_buf_addf(&b, "%d,", i % 10), 0);
	ck_assert_uint_eq(b.len, 2000);
	ck_assert_int_eq(b.buf[b.len], '\0');
	ck_assert(strncmp(b.buf, "0,1,2,", 6) == 0);
	lep_buf_release(&b);
	ck_assert_str_eq(b.buf, "");
}
END_TEST

START_TEST(test_buf_cap_refuses_overflow)
{
	struct lep_buf	 b;

	lep_buf_init_max(&b, 8);
	ck_assert_int_eq(lep_buf_add(&b, "12345678"), 0);
	ck_assert_int_eq(lep_buf_add(&b, "9"), -1);
	ck_assert(b.overflow);
	ck_assert_str_eq(b.buf, "12345678");
	lep_buf_release(&b);
}
END_TEST

START_TEST(test_buf_detach_hands_over)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	char		*s;
	size_t		 len;

	s = lep_buf_detach(&b, &len);	/* empty: still a string */
	ck_assert_str_eq(s, "");
	free(s);
	lep_buf_add(&b, "abc");
	s = lep_buf_detach(&b, &len);
	ck_assert_str_eq(s, "abc");
	ck_assert_uint_eq(len, 3);
	ck_assert_uint_eq(b.len, 0);
	free(s);
}
END_TEST

static const struct {
	const char	*a, *b;
	size_t		 d;
} distances[] = {
	{ "replica", "replicas", 1 },
	{ "nmae", "name", 1 },		/* transposition */
	{ "gpc", "gcp", 1 },
	{ "kitten", "sitting", 3 },
	{ "", "abc", 3 },
	{ "same", "same", 0 },
};

START_TEST(test_edit_distance)
{
	ck_assert_uint_eq(lep_edit_distance(distances[_i].a,
	    distances[_i].b, 5), distances[_i].d);
}
END_TEST

START_TEST(test_did_you_mean_picks_closest_or_none)
{
	static const char *const keys[] = { "replicas", "readiness", "port" };

	ck_assert_str_eq(lep_did_you_mean("replica", keys, 3), "replicas");
	ck_assert_str_eq(lep_did_you_mean("prot", keys, 3), "port");
	ck_assert_ptr_null(lep_did_you_mean("zebra", keys, 3));
}
END_TEST

START_TEST(test_parse_numbers_strictly)
{
	long long	 n;
	double		 d;

	ck_assert_int_eq(lep_parse_ll(&n, "-42"), 0);
	ck_assert_int_eq(n, -42);
	ck_assert_int_eq(lep_parse_ll(&n, "42x"), -1);
	ck_assert_int_eq(lep_parse_ll(&n, ""), -1);
	ck_assert_int_eq(lep_parse_ll(&n, "99999999999999999999"), -1);
	ck_assert_int_eq(lep_parse_double(&d, "2.5"), 0);
	ck_assert(d == 2.5);
	ck_assert_int_eq(lep_parse_double(&d, "inf"), -1);
	ck_assert_int_eq(lep_parse_double(&d, "nan"), -1);
	ck_assert_int_eq(lep_parse_double(&d, "0x10"), -1);
	ck_assert_int_eq(lep_parse_double(&d, "1e999"), -1);
}
END_TEST

static const struct {
	const char	*text;
	long long	 seconds;	/* -1: invalid */
} durations[] = {
	{ "90", 90 }, { "90s", 90 }, { "5m", 300 }, { "2h", 7200 },
	{ "1d", 86400 }, { "", -1 }, { "m", -1 }, { "5 minutes", -1 },
	{ "-5s", -1 }, { "1.5h", -1 }, { "9999999999999999999d", -1 },
};

START_TEST(test_parse_duration)
{
	long long	 v = 0;
	int		 rc = lep_parse_duration(&v, durations[_i].text);

	if (durations[_i].seconds == -1)
		ck_assert_int_eq(rc, -1);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(v, durations[_i].seconds);
	}
}
END_TEST

START_TEST(test_format_time_is_rfc3339_utc)
{
	char	 buf[32];

	lep_format_time(buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	lep_format_time(buf, sizeof(buf), 1795801694);
	ck_assert_str_eq(buf, "2026-11-27T17:48:14Z");
}
END_TEST

START_TEST(test_hdr_percentiles_of_a_known_distribution)
{
	struct lep_hdr	*h = lep_hdr_new(), *g = lep_hdr_new();
	uint64_t	 v, p;
	static const double pcts[] = { 50, 90, 99, 99.9 };
	size_t		 i;

	/* 1..100000 us, each once: the p-th percentile is p% of 100000. */
	for (v = 1; v <= 100000; v++)
		lep_hdr_record(h, v);
	ck_assert_uint_eq(lep_hdr_count(h), 100000);
	for (i = 0; i < LEP_ARRAY_SIZE(pcts); i++) {
		double	 want = pcts[i] * 1000;

		p = lep_hdr_percentile(h, pcts[i]);
		/* Never below, and within the 0.1% precision above. */
		ck_assert_msg(p >= want && p <= want * 1.001 + 1,
		    "p%g = %llu, want %g", pcts[i], (unsigned long long)p,
		    want);
	}
	ck_assert_uint_eq(lep_hdr_max(h), 100000);
	ck_assert_uint_eq(lep_hdr_min(h), 1);
	ck_assert(lep_hdr_mean(h) > 50000.4 && lep_hdr_mean(h) < 50000.6);
	/* Small values are exact; one slow outlier is the max, exactly. */
	lep_hdr_record(g, 7);
	lep_hdr_record(g, 1000000);
	ck_assert_uint_eq(lep_hdr_percentile(g, 50), 7);
	ck_assert_uint_eq(lep_hdr_percentile(g, 99), 1000000);
	lep_hdr_add(h, g);
	ck_assert_uint_eq(lep_hdr_count(h), 100002);
	ck_assert_uint_eq(lep_hdr_max(h), 1000000);
	lep_hdr_free(h);
	lep_hdr_free(g);
}
END_TEST

/*
 * Feed text to p step bytes at a time, as lep_wire_load does: what is
 * not used is handed again with the next bytes. eof: the server closes
 * after text. *end: where a response that is done ended.
 */
static int
wire_feed(struct lep_wire_resp *p, const char *text, size_t len, size_t step,
    int eof, size_t *end)
{
	char	*held = xmalloc(len + 1);
	size_t	 hlen = 0, off = 0, base = 0, n, used = 0;
	int	 rc = LEP_WIRE_MORE;

	lep_wire_resp_init(p);
	while (off < len && rc == LEP_WIRE_MORE) {
		n = step < len - off ? step : len - off;
		memcpy(held + hlen, text + off, n);
		hlen += n;
		off += n;
		rc = lep_wire_resp_feed(p, held, hlen, &used);
		if (rc != LEP_WIRE_MORE)
			break;
		memmove(held, held + used, hlen - used);
		hlen -= used;
		base += used;
	}
	if (rc == LEP_WIRE_DONE)
		*end = base + used;
	else if (rc == LEP_WIRE_MORE && eof &&
	    (rc = lep_wire_resp_eof(p)) == LEP_WIRE_DONE)
		*end = len;
	free(held);
	return rc;
}

#define OK200	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

static const struct {
	const char	*text;
	int		 eof;	/* the server closes after it */
	int		 rc;
	long		 end;	/* DONE: where; -1: the whole text */
	int		 status, close;
} wire_cases[] = {
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0,
	    LEP_WIRE_DONE, -1, 200, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 0,
	    LEP_WIRE_MORE, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Le", 0, LEP_WIRE_MORE, 0, 0, 0 },
	{ "HTTP/1.1 503 No\r\ncontent-length: 0\r\nConnection: "
	    "close\r\n\r\n", 0, LEP_WIRE_DONE, -1, 503, 1 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nwiki\r\n5;x=y\r\npedia\r\nA\r\n0123456789\r\n0\r\n\r\n", 0,
	    LEP_WIRE_DONE, -1, 200, 0 },
	/* A trailer, and the next response's first bytes after. */
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nwiki\r\n0\r\nX-Sum: 1\r\n\r\nHTTP/1.1", 0, LEP_WIRE_DONE,
	    71, 200, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nwiki\r\n5\r\nped", 0, LEP_WIRE_MORE, 0, 0, 0 },
	{ "HTTP/1.0 204 No Content\r\n\r\n", 0, LEP_WIRE_DONE, -1, 204, 1 },
	{ "SSH-2.0-OpenSSH\r\n\r\n", 0, LEP_WIRE_BAD, 0, 0, 0 },
	/* lepton-issue defect 2: a chunk size that is not hex. */
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "zz\r\n\r\n", 0, LEP_WIRE_BAD, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    ";x\r\n\r\n", 0, LEP_WIRE_BAD, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "-5\r\nhello\r\n0\r\n\r\n", 0, LEP_WIRE_BAD, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "10000000000000000\r\n", 0, LEP_WIRE_BAD, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nwikiXX0\r\n\r\n", 0, LEP_WIRE_BAD, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n", 0,
	    LEP_WIRE_BAD, 0, 0, 0 },
	/* Defect 3: interim answers are skipped, the final one counts. */
	{ "HTTP/1.1 100 Continue\r\n\r\n" OK200, 0, LEP_WIRE_DONE, -1,
	    200, 0 },
	{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
	    "Link: </a>\r\n\r\n" OK200, 0, LEP_WIRE_DONE, -1, 200, 0 },
	{ "HTTP/1.1 102 Processing\r\n\r\n", 0, LEP_WIRE_MORE, 0, 0, 0 },
	{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", 0, LEP_WIRE_BAD, 0,
	    0, 0 },
	/* Defect 4: any three digits are read; the counting judges. */
	{ "HTTP/1.1 999 Weird\r\nContent-Length: 2\r\n\r\n{}", 0,
	    LEP_WIRE_DONE, -1, 999, 0 },
	{ "HTTP/1.1 abc Weird\r\nContent-Length: 2\r\n\r\n{}", 0,
	    LEP_WIRE_BAD, 0, 0, 0 },
	{ "HTTP/1.1 20 OK\r\n\r\n", 0, LEP_WIRE_BAD, 0, 0, 0 },
	{ "HTTP/1.1 2000 OK\r\n\r\n", 0, LEP_WIRE_BAD, 0, 0, 0 },
	/* No length: the body ends when the server closes, else cut. */
	{ "HTTP/1.1 200 OK\r\n\r\nuntil the end", 1, LEP_WIRE_DONE, -1,
	    200, 1 },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}", 1,
	    LEP_WIRE_MORE, 0, 0, 0 },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwi",
	    1, LEP_WIRE_MORE, 0, 0, 0 },
};

/* Every case cut every way: whole, byte by byte, in 2s, 3s and 7s. */
START_TEST(test_wire_reads_responses_however_cut)
{
	static const size_t steps[] = { 65536, 1, 2, 3, 7 };
	struct lep_wire_resp	 p;
	size_t			 k, end, len = strlen(wire_cases[_i].text);
	int			 rc;

	for (k = 0; k < LEP_ARRAY_SIZE(steps); k++) {
		end = 0;
		rc = wire_feed(&p, wire_cases[_i].text, len, steps[k],
		    wire_cases[_i].eof, &end);
		ck_assert_msg(rc == wire_cases[_i].rc, "case %d, step %zu: "
		    "rc %d", _i, steps[k], rc);
		if (rc != LEP_WIRE_DONE)
			continue;
		ck_assert_uint_eq(end, wire_cases[_i].end == -1 ? len :
		    (size_t)wire_cases[_i].end);
		ck_assert_int_eq(p.status, wire_cases[_i].status);
		ck_assert_int_eq(p.close_after, wire_cases[_i].close);
	}
}
END_TEST

/* Defect 1: a body over the 64 KiB read buffer is read, not refused. */
START_TEST(test_wire_reads_bodies_of_any_size)
{
	struct lep_wire_resp	 p;
	struct lep_buf		 b = LEP_BUF_INIT;
	size_t			 end, i, k, chunk;
	static const size_t	 steps[] = { 65536, 4096, 1000 };

	lep_buf_addf(&b, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
	    300000);
	for (i = 0; i < 300000; i++)
		lep_buf_add(&b, "x");
	lep_buf_add(&b, "HTTP/1.1");
	for (k = 0; k < LEP_ARRAY_SIZE(steps); k++) {
		ck_assert_int_eq(wire_feed(&p, b.buf, b.len, steps[k], 0,
		    &end), LEP_WIRE_DONE);
		ck_assert_uint_eq(end, b.len - 8);
	}
	lep_buf_release(&b);
	lep_buf_init(&b, 0);
	lep_buf_add(&b, "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	for (chunk = 1; chunk <= 131072; chunk *= 2) {
		lep_buf_addf(&b, "%zx\r\n", chunk);
		for (i = 0; i < chunk; i++)
			lep_buf_add(&b, "y");
		lep_buf_add(&b, "\r\n");
	}
	lep_buf_add(&b, "0\r\n\r\n");
	for (k = 0; k < LEP_ARRAY_SIZE(steps); k++) {
		ck_assert_int_eq(wire_feed(&p, b.buf, b.len, steps[k], 0,
		    &end), LEP_WIRE_DONE);
		ck_assert_uint_eq(end, b.len);
		ck_assert_int_eq(p.status, 200);
	}
	lep_buf_release(&b);
}
END_TEST

struct sse_seen {
	struct lep_buf	 all;
	int		 n;
};

static void
sse_collect(void *arg, const char *event, const char *data, size_t len)
{
	struct sse_seen	*s = arg;

	lep_buf_addf(&s->all, "[%s|%.*s]", event, (int)len, data);
	s->n++;
}

/* The same stream split every way: byte by byte, in 2s, 3s, 7s. */
START_TEST(test_sse_chunk_boundaries_anywhere)
{
	static const char stream[] =
	    ": a comment\r\n"
	    "data: {\"t\": \"he\"}\r\n\r\n"
	    "event: usage\ndata: line one\ndata: line two\n\n"
	    "data:no-space\r\r"
	    "id: 7\nretry: 10\ndata: [DONE]\n\n"
	    "data: cut at the end";
	static const char want[] =
	    "[message|{\"t\": \"he\"}][usage|line one\nline two]"
	    "[message|no-space][message|[DONE]][message|cut at the end]";
	static const size_t steps[] = { 1, 2, 3, 7, sizeof(stream) };
	struct lep_sse	 sse;
	struct sse_seen	 seen;
	size_t		 i, k, n;

	for (k = 0; k < LEP_ARRAY_SIZE(steps); k++) {
		memset(&seen, 0, sizeof(seen));
		lep_buf_init(&seen.all, 0);
		lep_sse_init(&sse, sse_collect, &seen);
		for (i = 0; i < sizeof(stream) - 1; i += n) {
			n = steps[k];
			if (i + n > sizeof(stream) - 1)
				n = sizeof(stream) - 1 - i;
			ck_assert_int_eq(lep_sse_feed(&sse, stream + i, n), 0);
		}
		lep_sse_end(&sse);
		ck_assert_msg(strcmp(seen.all.buf, want) == 0,
		    "split by %zu: %s", steps[k], seen.all.buf);
		ck_assert_int_eq(seen.n, 5);
		lep_sse_release(&sse);
		lep_buf_release(&seen.all);
	}
}
END_TEST

START_TEST(test_trailer_round_trip)
{
	struct lep_buf		 b = LEP_BUF_INIT;
	struct lep_trailer	 kv[] = {
		{ LEP_TRAILER_COMMAND, "deploy" },
		{ LEP_TRAILER_MODEL, NULL },
		{ LEP_TRAILER_SPEC, "" },
		{ LEP_TRAILER_OUTCOME, "ready" },
	};
	char			*v;

	lep_trailer_format(&b, "deploy iris on local", kv,
	    LEP_ARRAY_SIZE(kv));
	ck_assert_str_eq(b.buf, "deploy iris on local\n\n"
	    "Lepton-Command: deploy\nLepton-Spec-Sha256: \n"
	    "Lepton-Outcome: ready\n");
	v = lep_trailer_get(b.buf, LEP_TRAILER_OUTCOME);
	ck_assert_str_eq(v, "ready");
	free(v);
	v = lep_trailer_get(b.buf, LEP_TRAILER_SPEC);
	ck_assert_str_eq(v, "");
	free(v);
	/* Absent, and a key that is only a prefix of another. */
	ck_assert_ptr_null(lep_trailer_get(b.buf, LEP_TRAILER_MODEL));
	ck_assert_ptr_null(lep_trailer_get(b.buf, "Lepton"));
	lep_buf_release(&b);
}
END_TEST

/* RFC 4648 section 10's vectors, both ways; the URL alphabet unpadded. */
static const struct {
	const char	*in, *std, *url;
} b64v[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
	{ "\xfb\xff", "+/8=", "-_8" },
};

START_TEST(test_base64_rfc4648_vectors)
{
	char	*e, *d;
	size_t	 n = strlen(b64v[_i].in), len;

	e = lep_base64(b64v[_i].in, n, 0);
	ck_assert_str_eq(e, b64v[_i].std);
	free(e);
	e = lep_base64(b64v[_i].in, n, LEP_B64_URL);
	ck_assert_str_eq(e, b64v[_i].url);
	free(e);
	ck_assert_int_eq(lep_base64_decode(&d, &len, b64v[_i].std,
	    strlen(b64v[_i].std), 0), 0);
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(d, b64v[_i].in, n);
	free(d);
	ck_assert_int_eq(lep_base64_decode(&d, &len, b64v[_i].url,
	    strlen(b64v[_i].url), LEP_B64_URL), 0);
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(d, b64v[_i].in, n);
	free(d);
}
END_TEST

START_TEST(test_base64_refuses_what_is_not)
{
	char	*d;
	size_t	 len;

	/* The other alphabet, a lone character, bits left over, a
	   character after padding. */
	ck_assert_int_eq(lep_base64_decode(&d, &len, "+/8=", 4, LEP_B64_URL),
	    -1);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(lep_base64_decode(&d, &len, "-_8", 3, 0), -1);
	ck_assert_int_eq(lep_base64_decode(&d, &len, "Zm9vY", 5, 0), -1);
	ck_assert_int_eq(lep_base64_decode(&d, &len, "Zh==", 4, 0), -1);
	ck_assert_int_eq(lep_base64_decode(&d, &len, "Zg==Zg", 6, 0), -1);
	/* Line breaks are skipped, as Go's decoder skips them. */
	ck_assert_int_eq(lep_base64_decode(&d, &len, "Zm9v\nYmFy\n", 10, 0),
	    0);
	ck_assert_str_eq(d, "foobar");
	free(d);
}
END_TEST

Suite *
suite_util(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc = tcase_create("util");

	tcase_add_test(tc, test_buf_grows_and_stays_terminated);
	tcase_add_test(tc, test_buf_cap_refuses_overflow);
	tcase_add_test(tc, test_buf_detach_hands_over);
	tcase_add_loop_test(tc, test_edit_distance, 0,
	    LEP_ARRAY_SIZE(distances));
	tcase_add_test(tc, test_did_you_mean_picks_closest_or_none);
	tcase_add_test(tc, test_parse_numbers_strictly);
	tcase_add_loop_test(tc, test_parse_duration, 0,
	    LEP_ARRAY_SIZE(durations));
	tcase_add_test(tc, test_format_time_is_rfc3339_utc);
	tcase_add_test(tc, test_hdr_percentiles_of_a_known_distribution);
	tcase_add_loop_test(tc, test_wire_reads_responses_however_cut, 0,
	    LEP_ARRAY_SIZE(wire_cases));
	tcase_add_test(tc, test_wire_reads_bodies_of_any_size);
	tcase_add_test(tc, test_sse_chunk_boundaries_anywhere);
	tcase_add_test(tc, test_trailer_round_trip);
	tcase_add_loop_test(tc, test_base64_rfc4648_vectors, 0,
	    LEP_ARRAY_SIZE(b64v));
	tcase_add_test(tc, test_base64_refuses_what_is_not);
	suite_add_tcase(s, tc);
	return s;
}
