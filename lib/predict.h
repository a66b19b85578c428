/*
 * predict.h: ask a deployment (or a URL) in its protocol's way: one
 * request, a JSONL batch printed in input order, or a load run.
 */
#ifndef LEPTON_LIB_PREDICT_H
#define LEPTON_LIB_PREDICT_H

#include <stddef.h>

struct lep_buf;
struct lep_ctx;
struct lep_err;
struct lep_load_opts;

/* Where and how to ask. */
struct lep_predict {
	char		*url;		/* the endpoint, in protocol's way */
	char		*shadow_url;	/* --shadow's endpoint, or NULL */
	char		*token;		/* bearer token or NULL; wiped */
	char		*protocol;	/* json, kserve-v2, openai */
	int		 shadow;	/* the shadow revision, or 0 */
	const char	*cacert;	/* borrowed: CA bundle, or NULL */
	long		 timeout_ms;	/* per request */
	/* The deployment's provider when it signs each request (SigV4),
	   and the deployment's name; else NULL. Owned. */
	struct lep_provider *signer;
	char		*name;
};

struct lep_http_req;
struct lep_provider;
/*
 * Sign req (its URL and body) when p has a signer: req->headers become
 * the signature's lines, *lines (caller frees with
 * lep_provider_sign_free, after the request). Errors: the provider's.
 */
const struct lep_err *lep_predict_sign(char ***lines, size_t *n,
	    const struct lep_predict *p, struct lep_http_req *req);

/*
 * Resolve target, an http(s):// URL (token from $LEPTON_TOKEN) or a
 * deployment's name, into out. protocol: json, kserve-v2 or openai, or
 * NULL for the deployment's (json for a URL). For a deployment, rev > 0:
 * ask revision rev's replica directly; shadow > 0: out->shadow_url asks
 * revision shadow's. out->cacert and out->timeout_ms are the caller's.
 * Errors: NOT_FOUND, NOT_RUNNING. out: lep_predict_release, also on error.
 */
const struct lep_err *lep_predict_target(struct lep_predict *out,
	    struct lep_ctx *, const char *target, const char *protocol,
	    int rev, int shadow);
void	 lep_predict_release(struct lep_predict *);

/*
 * The request body: the nkv KEY=VALUE strings of kv as one object (VALUE
 * is JSON, else text), or when nkv is 0, data: JSON text, @FILE, or
 * NULL, "-" or "@-" for standard input, checked to be one JSON value.
 * Errors: USAGE, NOT_FOUND, FAILED. out: lep_buf_release (on success).
 */
const struct lep_err *lep_predict_body(struct lep_buf *out, const char *data,
	    const char *const *kv, size_t nkv);

/*
 * POST body and print the response (--json: status, latency and the
 * response). openai with "stream": true prints tokens as they come, and
 * their timing on stderr. Errors: from HTTP status (AUTH, NOT_FOUND,
 * PROVIDER, FAILED) and lib/http's.
 */
const struct lep_err *lep_predict_one(struct lep_ctx *,
	    const struct lep_predict *, const struct lep_buf *body);

/*
 * Send every line of file ("-": standard input), concurrency at a time,
 * and print one JSON line per input line in input order (--json: one
 * result). A line that fails prints {"line": N, "error": ...} and the
 * rest go on, unless fail_fast. With p->shadow_url, every line goes there
 * first and the lines answered differently are reported. Errors: FAILED
 * (some lines failed), USAGE, NOT_FOUND, and lib/http's.
 */
const struct lep_err *lep_predict_batch(struct lep_ctx *,
	    const struct lep_predict *, const char *file, int concurrency,
	    int fail_fast);

/*
 * The client for a load run on url: engine ("lean" or "curl"), or NULL
 * for lean on http://, curl on https://. *out: borrowed (engine or a
 * constant). Errors: USAGE.
 */
const struct lep_err *lep_predict_engine(const char **out, const char *url,
	    const char *engine);
/*
 * A load run of body to p->url on engine (from lep_predict_engine) as o
 * says (its req and stop are set here), ended early by Ctrl-C; prints
 * throughput, latency percentiles and errors by class. Errors: FAILED
 * when requests were sent and none succeeded (after the summary), and
 * set-up failures.
 */
const struct lep_err *lep_predict_load(struct lep_ctx *,
	    const struct lep_predict *p, const struct lep_buf *body,
	    const char *engine, const struct lep_load_opts *o);

#endif
