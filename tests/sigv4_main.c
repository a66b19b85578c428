/*
 * sigv4_main.c: the SigV4 signer over JSON lines, for the botocore oracle
 * (tests/sigv4_oracle.sh), and its timing for make bench.
 *
 *   sigv4_main < requests.jsonl	one answer line per request line
 *   sigv4_main -b N			µs per signature, N signatures
 *
 * A request: {"method", "url", "headers": ["Name: value"...], "payload"
 * (text, sent as UTF-8), "payload_hash", "region", "service", "amz_date",
 * "access_key", "secret_key", "token", "s3", "unsigned", "no_token"}.
 * An answer: {"headers": [...added lines], "canonical", "to_sign"}, or
 * {"error": message}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/sigv4.h"
#include "../lib/util.h"

#define MAX_HEADERS	64

static char *
sign_line(const char *line, size_t len)
{
	const struct lep_err	*err;
	struct lep_json		*in = NULL, *ans, *arr, *hs;
	struct lep_sigv4_keys	 keys;
	struct lep_sigv4_req	 req;
	struct lep_sigv4_out	 out;
	const char		*lines[MAX_HEADERS];
	char			*text;
	size_t			 i;

	memset(&out, 0, sizeof(out));
	ans = lep_json_obj();
	if ((err = lep_json_parse(&in, line, len, "stdin")) != NULL) {
		lep_json_set_str(ans, "error", err->msg);
		goto done;
	}
	memset(&keys, 0, sizeof(keys));
	memset(&req, 0, sizeof(req));
	keys.access_key = lep_json_get_str(in, "access_key");
	keys.secret_key = lep_json_get_str(in, "secret_key");
	keys.session_token = lep_json_get_str(in, "token");
	req.method = lep_json_get_str(in, "method");
	req.url = lep_json_get_str(in, "url");
	hs = lep_json_get(in, "headers");
	for (i = 0; i < lep_json_len(hs) && i < MAX_HEADERS; i++)
		lines[i] = lep_json_string(lep_json_at(hs, i));
	req.headers = lines;
	req.nheaders = i;
	req.payload = lep_json_get_str(in, "payload");
	req.payload_len = req.payload != NULL ? strlen(req.payload) : 0;
	req.payload_hash = lep_json_get_str(in, "payload_hash");
	req.region = lep_json_get_str(in, "region");
	req.service = lep_json_get_str(in, "service");
	req.amz_date = lep_json_get_str(in, "amz_date");
	if (lep_json_get_bool(in, "s3", 0))
		req.flags |= LEP_SIGV4_S3;
	if (lep_json_get_bool(in, "unsigned", 0))
		req.flags |= LEP_SIGV4_UNSIGNED;
	if (lep_json_get_bool(in, "no_token", 0))
		req.flags |= LEP_SIGV4_NO_TOKEN;
	if ((err = lep_sigv4_sign(&out, &keys, &req)) != NULL) {
		lep_json_set_str(ans, "error", err->msg);
		goto done;
	}
	arr = lep_json_arr();
	for (i = 0; i < out.nheaders; i++)
		lep_json_push(arr, lep_json_str(out.headers[i]));
	lep_json_set(ans, "headers", arr);
	lep_json_set_str(ans, "canonical", out.canonical);
	lep_json_set_str(ans, "to_sign", out.to_sign);
done:
	lep_sigv4_out_release(&out);
	lep_json_free(in);
	text = lep_json_print(ans, 0);
	lep_json_free(ans);
	return text;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long	 x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* The median of 7 runs of n signatures of req, in ns per signature. */
static long long
bench(const struct lep_sigv4_keys *keys, const struct lep_sigv4_req *req,
    long n)
{
	const struct lep_err	*err;
	struct lep_sigv4_out	 out;
	long long		 t[7], start;
	long			 i;
	int			 r;

	for (r = 0; r < 7; r++) {
		start = lep_now_us();
		for (i = 0; i < n; i++) {
			if ((err = lep_sigv4_sign(&out, keys, req)) != NULL) {
				fprintf(stderr, "sigv4_main: %s\n", err->msg);
				exit(1);
			}
			lep_sigv4_out_release(&out);
		}
		t[r] = (lep_now_us() - start) * 1000 / n;
	}
	qsort(t, 7, sizeof(t[0]), cmp_ll);
	return t[3];
}

static int
bench_main(long n)
{
	static const struct lep_sigv4_keys keys = {
		.access_key = "AKIAIOSFODNN7EXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.session_token = "IQoJb3JpZ2luX2VjEXAMPLETOKEN0123456789",
	};
	static const char *const json_hdrs[] = {
		"Content-Type: application/x-amz-json-1.1",
		"X-Amz-Target: SageMaker.CreateEndpoint",
		"User-Agent: lepton/0.1.0",
	};
	static const char *const s3_hdrs[] = {
		"Content-Type: application/octet-stream",
		"Content-Length: 52428800",
	};
	struct lep_sigv4_req	 post, put;
	char			 body[1024], hash[LEP_SHA256_HEX];
	long long		 ns_post, ns_put;

	/* A 1 KiB JSON body, hashed in each signature. */
	memset(body, 'x', sizeof(body));
	memcpy(body, "{\"EndpointName\": \"", 18);
	memcpy(body + sizeof(body) - 2, "\"}", 2);
	memset(&post, 0, sizeof(post));
	post.method = "POST";
	post.url = "https://api.sagemaker.us-east-1.amazonaws.com/";
	post.headers = json_hdrs;
	post.nheaders = LEP_ARRAY_SIZE(json_hdrs);
	post.payload = body;
	post.payload_len = sizeof(body);
	post.region = "us-east-1";
	post.service = "sagemaker";
	/* An S3 PUT of a file hashed while it was streamed. */
	if (lep_sha256_hex(hash, body, sizeof(body)) != NULL)
		return 1;
	memset(&put, 0, sizeof(put));
	put.method = "PUT";
	put.url = "https://models.s3.us-east-1.amazonaws.com/iris/v3/"
	    "model.tar.gz";
	put.headers = s3_hdrs;
	put.nheaders = LEP_ARRAY_SIZE(s3_hdrs);
	put.payload_hash = hash;
	put.region = "us-east-1";
	put.service = "s3";
	put.flags = LEP_SIGV4_S3;
	(void)bench(&keys, &post, 100);	/* libcrypto loaded, caches warm */
	ns_post = bench(&keys, &post, n);
	ns_put = bench(&keys, &put, n);
	printf("sigv4: POST with a 1 KiB JSON body %lld.%02lld us, "
	    "S3 PUT with a precomputed hash %lld.%02lld us per signature "
	    "(median of 7 runs of %ld)\n", ns_post / 1000,
	    ns_post % 1000 / 10, ns_put / 1000, ns_put % 1000 / 10, n);
	return 0;
}

int
main(int argc, char **argv)
{
	char	*line = NULL, *ans;
	size_t	 cap = 0;
	ssize_t	 len;
	long long n;

	if (argc == 3 && strcmp(argv[1], "-b") == 0) {
		if (lep_parse_ll(&n, argv[2]) != 0 || n < 1) {
			fprintf(stderr, "usage: sigv4_main [-b N]\n");
			return 2;
		}
		return bench_main((long)n);
	}
	if (argc != 1) {
		fprintf(stderr, "usage: sigv4_main [-b N]\n");
		return 2;
	}
	while ((len = getline(&line, &cap, stdin)) != -1) {
		ans = sign_line(line, (size_t)len);
		puts(ans);
		free(ans);
	}
	free(line);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
