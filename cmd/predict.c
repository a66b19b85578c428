/*
 * predict.c: `lepton predict NAME|URL`: one JSON request, or a JSONL batch
 * whose responses come back as JSONL in input order.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/crypto.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/hdr.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/service.h"
#include "../lib/sse.h"
#include "../lib/util.h"
#include "../lib/wire.h"

#define PREDICT_MAX_INPUT	(256u * 1024 * 1024)

static const struct lep_err *cmd_predict_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt predict_opts[] = {
	{ "data", 'd', LEP_OPT_VALUE, "JSON|@FILE",
	    "the request body (default: read stdin)" },
	{ "input", 'i', LEP_OPT_MULTI, "KEY=VALUE",
	    "build the body {KEY: VALUE, ...}; VALUE is JSON, else text" },
	{ "protocol", 'p', LEP_OPT_VALUE, "json|kserve-v2|openai",
	    "how to ask (default: the deployment's service.protocol)" },
	{ "fail-fast", 0, LEP_OPT_FLAG, NULL,
	    "with --file: stop at the first failed line" },
	{ "file", 'f', LEP_OPT_VALUE, "JSONL",
	    "send every line of JSONL ('-': stdin); print JSONL in order" },
	{ "concurrency", 'c', LEP_OPT_VALUE, "N",
	    "requests in flight with --file (default 4)" },
	{ "timeout", 0, LEP_OPT_VALUE, "SECONDS",
	    "per request (default 30)" },
	{ "cacert", 0, LEP_OPT_VALUE, "FILE",
	    "trust this CA bundle for https:// URLs" },
	{ "rate", 'r', LEP_OPT_VALUE, "R",
	    "load: open loop at R requests/s (latency from intended send)" },
	{ "duration", 0, LEP_OPT_VALUE, "DURATION",
	    "load: run this long (90, 90s, 5m)" },
	{ "requests", 'n', LEP_OPT_VALUE, "N", "load: send N requests" },
	{ "warmup", 0, LEP_OPT_VALUE, "DURATION",
	    "load: send, but do not count, for this long first" },
	{ "revision", 0, LEP_OPT_VALUE, "N",
	    "ask revision N's replicas directly (the canary, say)" },
	{ "shadow", 0, LEP_OPT_VALUE, "N",
	    "with --file: send every line to revision N too; report lines "
	    "it answers differently" },
	{ "engine", 0, LEP_OPT_VALUE, "lean|curl",
	    "load: the HTTP client (default: lean for http://, curl for "
	    "https://)" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_predict_entry = {
	.name = "predict",
	.summary = "send requests to a deployment and print the responses",
	.usage = "[-d JSON|@FILE] [-f JSONL [-c N] [--shadow N] | -c N|-r R "
	    "--duration D|-n N [--warmup D]] [--revision N] NAME|URL",
	.description = "POST JSON to a deployment's endpoint (its "
	    "service.path, /predict by default) with its bearer token, or to "
	    "an http(s):// URL (token from $LEPTON_TOKEN, if set). With "
	    "--file, send each JSONL line, N at a time over reused "
	    "connections, and print one JSON line per input line in input "
	    "order; a failed line prints {\"line\": N, \"error\": ...}, the "
	    "rest go on, and the exit status is 1. With --duration or "
	    "--requests, a load run of the one request: closed loop with -c N "
	    "in flight, or open loop with --rate R, where each request's "
	    "latency counts from when it was due, so a stalled server cannot "
	    "hide its queue (coordinated omission); it prints throughput, "
	    "p50/p90/p99/p99.9/max from a high-dynamic-range histogram and "
	    "errors by class. Ctrl-C ends it early with the summary so far. "
	    "While a canary takes a share of a deployment's traffic, "
	    "--revision N asks one revision's replicas directly and --shadow "
	    "N compares a batch's answers from revision N with the ones "
	    "printed.",
	.opts = predict_opts,
	.min_args = 1,
	.max_args = 1,
	.exec = cmd_predict_exec,
};

static const struct lep_err *
read_stream(struct lep_buf *b, FILE *fp, const char *what)
{
	char	 chunk[65536];
	size_t	 n;

	lep_buf_init_max(b, PREDICT_MAX_INPUT);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (lep_buf_addn(b, chunk, n) == -1)
			return lep_err_new(LEP_E_USAGE, "%s is larger than %u "
			    "bytes", what, PREDICT_MAX_INPUT);
	if (ferror(fp))
		return lep_err_errno(LEP_E_FAILED, "cannot read %s", what);
	return NULL;
}

static const struct lep_err *
read_input(struct lep_buf *b, const char *spec)
{
	if (spec == NULL || strcmp(spec, "-") == 0 || strcmp(spec, "@-") == 0)
		return read_stream(b, stdin, "standard input");
	if (spec[0] == '@')
		return lep_read_file(b, spec + 1, PREDICT_MAX_INPUT);
	lep_buf_init(b, 0);
	lep_buf_add(b, spec);
	return NULL;
}

/*
 * The request body: -i KEY=VALUE pairs as one object, else -d's JSON (or
 * @file, or standard input); checked to be one JSON value.
 */
static const struct lep_err *
request_body(struct lep_buf *body, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_json		*obj, *v, *check = NULL;
	const char		*kv, *eq;
	char			*key, *text;
	size_t			 i, n = lep_args_count(args, "input");

	if (n > 0) {
		if (lep_args_has(args, "data"))
			return lep_err_new(LEP_E_USAGE, "-i and -d exclude each "
			    "other");
		obj = lep_json_obj();
		for (i = 0; i < n; i++) {
			kv = lep_args_nth(args, "input", i);
			if ((eq = strchr(kv, '=')) == NULL || eq == kv) {
				lep_json_free(obj);
				return lep_err_new(LEP_E_USAGE, "-i wants "
				    "KEY=VALUE, not '%s'", kv);
			}
			key = xstrndup(kv, (size_t)(eq - kv));
			if (lep_json_parse(&v, eq + 1, strlen(eq + 1),
			    "value") != NULL)
				v = lep_json_str(eq + 1);
			lep_json_set(obj, key, v);
			free(key);
		}
		text = lep_json_print(obj, 0);
		lep_json_free(obj);
		lep_buf_init(body, 0);
		lep_buf_add(body, text);
		free(text);
		return NULL;
	}
	if ((err = read_input(body, lep_args_get(args, "data"))) != NULL)
		return err;
	if ((err = lep_json_parse(&check, body->buf, body->len,
	    "request body")) != NULL) {
		lep_buf_release(body);
		return lep_err_new(LEP_E_USAGE, "%s", err->msg);
	}
	lep_json_free(check);
	return NULL;
}

static const struct lep_err *
status_error(long status, const char *body, const char *url)
{
	enum lep_code	 code;
	char		 snippet[201];
	size_t		 i;

	lep_strlcpy(snippet, body, sizeof(snippet));
	for (i = 0; snippet[i]; i++)
		if (snippet[i] == '\n' || snippet[i] == '\r')
			snippet[i] = ' ';
	if (status == 401 || status == 403)
		code = LEP_E_AUTH;
	else if (status == 404)
		code = LEP_E_NOT_FOUND;
	else if (status >= 500)
		code = LEP_E_PROVIDER;
	else
		code = LEP_E_FAILED;
	return lep_err_http(lep_err_new(code, "%s: HTTP %ld: %s", url, status,
	    snippet), (int)status);
}

/* The response as one JSON value: parsed if it is JSON, else a string. */
static struct lep_json *
body_json(const struct lep_http_resp *r)
{
	struct lep_json	*j = NULL;

	if (r->body.len > 0 && lep_json_parse(&j, r->body.buf, r->body.len,
	    "response") == NULL)
		return j;
	return lep_json_str(r->body.buf);
}

/* An OpenAI-compatible stream: tokens as they come, and their timing. */
struct tokens {
	struct lep_ctx	*ctx;
	struct lep_sse	 sse;
	struct lep_hdr	*itl;		/* inter-token latency, us */
	struct lep_buf	 text;
	long long	 t0, last, ttft;	/* us */
	size_t		 n;
	int		 done, bad;
};

static void
on_token_event(void *arg, const char *event, const char *data, size_t len)
{
	struct tokens	*tk = arg;
	struct lep_json	*j = NULL, *choice;
	const char	*piece;
	long long	 now = lep_now_us();

	(void)event;
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		tk->done = 1;
		return;
	}
	if (lep_json_parse(&j, data, len, "event") != NULL) {
		tk->bad++;
		return;
	}
	choice = lep_json_at(lep_json_get(j, "choices"), 0);
	piece = lep_json_get_str(lep_json_get(choice, "delta"), "content");
	if (piece == NULL)
		piece = lep_json_get_str(choice, "text");
	if (piece != NULL && *piece != '\0') {
		if (tk->n == 0)
			tk->ttft = now - tk->t0;
		else
			lep_hdr_record(tk->itl, (uint64_t)(now - tk->last));
		tk->last = now;
		tk->n++;
		if (tk->ctx->out.json)
			lep_buf_add(&tk->text, piece);
		else {
			lep_out_write(&tk->ctx->out, piece, strlen(piece));
			fflush(stdout);
		}
	}
	lep_json_free(j);
}

static void
on_stream_data(void *arg, const char *p, size_t n)
{
	struct tokens	*tk = arg;

	if (lep_sse_feed(&tk->sse, p, n) == -1)
		tk->bad++;
}

static const struct lep_err *
predict_stream(struct lep_ctx *ctx, const struct lep_http_req *req)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_json		*res, *itl;
	struct tokens		 tk;
	char			*line;

	memset(&tk, 0, sizeof(tk));
	tk.ctx = ctx;
	tk.itl = lep_hdr_new();
	lep_buf_init(&tk.text, 0);
	lep_sse_init(&tk.sse, on_token_event, &tk);
	tk.t0 = lep_now_us();
	lep_http_resp_init(&resp);
	err = lep_http_stream(&resp, req, on_stream_data, &tk);
	lep_sse_end(&tk.sse);
	if (err == NULL && (resp.status < 200 || resp.status > 299))
		err = status_error(resp.status, resp.body.buf, req->url);
	if (err == NULL && tk.n == 0)
		err = lep_err_new(LEP_E_PROVIDER, "%s: the stream held no "
		    "token%s", req->url, tk.bad ? " (and unparsable events)" :
		    "");
	if (err == NULL && ctx->out.json) {
		res = lep_json_obj();
		lep_json_set_str(res, "text", tk.text.buf);
		lep_json_set_int(res, "tokens", (long long)tk.n);
		lep_json_set_num(res, "ttft_ms", (double)tk.ttft / 1000.0);
		itl = lep_json_obj();
		lep_json_set_num(itl, "p50", (double)lep_hdr_percentile(
		    tk.itl, 50) / 1000.0);
		lep_json_set_num(itl, "p99", (double)lep_hdr_percentile(
		    tk.itl, 99) / 1000.0);
		lep_json_set_num(itl, "max", (double)lep_hdr_max(tk.itl) /
		    1000.0);
		lep_json_set_num(itl, "mean", lep_hdr_mean(tk.itl) / 1000.0);
		lep_json_set(res, "inter_token_ms", itl);
		lep_json_set_bool(res, "done", tk.done);
		lep_out_result(&ctx->out, res);
	} else if (err == NULL) {
		lep_out_write(&ctx->out, "\n", 1);
		/* The text is the result; its timing goes beside it. */
		line = xasprintf("%zu tokens, time to first %.1f ms, between "
		    "tokens p50 %.1f ms p99 %.1f ms max %.1f ms", tk.n,
		    (double)tk.ttft / 1000.0, (double)lep_hdr_percentile(tk.itl,
		    50) / 1000.0, (double)lep_hdr_percentile(tk.itl, 99) /
		    1000.0, (double)lep_hdr_max(tk.itl) / 1000.0);
		if (!ctx->out.quiet)
			lep_out_stderr("lepton: predict: ", line);
		free(line);
	}
	lep_sse_release(&tk.sse);
	lep_buf_release(&tk.text);
	lep_hdr_free(tk.itl);
	lep_http_resp_release(&resp);
	return err;
}

/* A POST of body to url with the token, the timeout and --cacert. */
static void
post_req(struct lep_http_req *req, const char *url, const char *body,
    size_t len, const char *token, long timeout_ms,
    const struct lep_args *args)
{
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->url = url;
	req->body = body;
	req->body_len = len;
	req->bearer = token;
	req->timeout_ms = timeout_ms;
	req->retries = 2;	/* only when nothing was sent: see http.c */
	req->cacert = lep_args_get(args, "cacert");
}

/* Does the JSON body ask for a stream ("stream": true)? */
static int
wants_stream(const struct lep_buf *body, int *chat)
{
	struct lep_json	*j = NULL;
	int		 s = 0;

	*chat = 1;
	if (lep_json_parse(&j, body->buf, body->len, "body") == NULL) {
		s = lep_json_get_bool(j, "stream", 0);
		*chat = lep_json_get(j, "messages") != NULL ||
		    lep_json_get(j, "prompt") == NULL;
	}
	lep_json_free(j);
	return s;
}

static const struct lep_err *predict_one_send(struct lep_ctx *,
	    const struct lep_http_req *);

static const struct lep_err *
predict_one(struct lep_ctx *ctx, const char *url, const char *token,
    const struct lep_args *args, long timeout_ms, const char *protocol)
{
	const struct lep_err	*err;
	struct lep_http_req	 req;
	struct lep_buf		 body;
	char			*alt = NULL;
	int			 stream = 0, chat;

	if ((err = request_body(&body, args)) != NULL)
		return err;
	post_req(&req, url, body.buf, body.len, token, timeout_ms, args);
	if (strcmp(protocol, "openai") == 0) {
		stream = wants_stream(&body, &chat);
		/* A deployment's chat URL serves a prompt at completions. */
		if (!chat && lep_ends_with(url, "/v1/chat/completions")) {
			alt = xasprintf("%.*s/v1/completions", (int)(strlen(url) -
			    strlen("/v1/chat/completions")), url);
			req.url = alt;
		}
	}
	if (stream)
		err = predict_stream(ctx, &req);
	else
		err = predict_one_send(ctx, &req);
	lep_buf_release(&body);
	free(alt);
	return err;
}

static const struct lep_err *
predict_one_send(struct lep_ctx *ctx, const struct lep_http_req *reqp)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_json		*res;
	const char		*url = reqp->url;

	lep_http_resp_init(&resp);
	err = lep_http_do(&resp, reqp);
	if (err == NULL && (resp.status < 200 || resp.status > 299))
		err = status_error(resp.status, resp.body.buf, url);
	if (err == NULL) {
		if (ctx->out.json) {
			res = lep_json_obj();
			lep_json_set_int(res, "status", resp.status);
			lep_json_set_num(res, "latency_ms",
			    resp.seconds * 1000.0);
			lep_json_set(res, "response", body_json(&resp));
			lep_out_result(&ctx->out, res);
		} else {
			lep_out_write(&ctx->out, resp.body.buf, resp.body.len);
			if (resp.body.len == 0 ||
			    resp.body.buf[resp.body.len - 1] != '\n')
				lep_out_write(&ctx->out, "\n", 1);
		}
	}
	lep_http_resp_release(&resp);
	return err;
}

/*
 * A batch: each input line has a slot; results wait in their slot until
 * every earlier one is printed, so output follows input order whatever
 * order the responses arrive in.
 */
struct batch {
	struct lep_ctx	 *ctx;
	struct lep_json	**results;	/* per slot */
	size_t		 *lineno;	/* per slot */
	size_t		 *slot;		/* per request: its slot */
	size_t		  n, next;
	size_t		  failed;
	struct lep_json	 *all;		/* --json: every result */
	int		  fail_fast;
	volatile int	  stop;		/* fail-fast: a line failed */
	size_t		  first_failed;	/* its line number */
	int		  silent;	/* the shadow pass: collect only */
	const struct lep_json *compare;	/* shadow results, per line */
	int		  shadow_rev;
	size_t		  ndiff;
};

static struct lep_json *
line_error(size_t lineno, long status, const char *msg)
{
	struct lep_json	*j = lep_json_obj(), *e = lep_json_obj();

	lep_json_set_int(j, "line", (long long)lineno);
	if (status)
		lep_json_set_int(e, "status", status);
	lep_json_set_str(e, "message", msg);
	lep_json_set(j, "error", e);
	return j;
}

static void
line_failed(struct batch *bt, size_t i, long status, const char *msg)
{
	char	*line;

	line = xasprintf("%sline %zu: %s", bt->silent ? "shadow: " : "",
	    bt->lineno[i], msg);
	lep_out_stderr("lepton: predict: ", line);
	free(line);
	bt->results[i] = line_error(bt->lineno[i], status, msg);
	bt->failed++;
	if (bt->fail_fast && !bt->stop) {
		bt->stop = 1;
		bt->first_failed = bt->lineno[i];
	}
}

static int
same_json(const struct lep_json *a, const struct lep_json *b)
{
	char	*x, *y;
	int	 same;

	if (a == NULL || b == NULL)
		return a == b;
	x = lep_json_print(a, 0);
	y = lep_json_print(b, 0);
	same = strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

static void
batch_flush(struct batch *bt)
{
	char	*s;

	while (bt->next < bt->n && bt->results[bt->next] != NULL) {
		if (bt->compare != NULL && !same_json(bt->results[bt->next],
		    lep_json_at(bt->compare, bt->next))) {
			s = xasprintf("line %zu: revision %d answers "
			    "differently", bt->lineno[bt->next], bt->shadow_rev);
			lep_out_stderr("lepton: predict: shadow: ", s);
			free(s);
			bt->ndiff++;
		}
		if (bt->all != NULL) {
			lep_json_push(bt->all, bt->results[bt->next]);
		} else {
			s = lep_json_print(bt->results[bt->next], 0);
			lep_out_write(&bt->ctx->out, s, strlen(s));
			lep_out_write(&bt->ctx->out, "\n", 1);
			free(s);
			lep_json_free(bt->results[bt->next]);
		}
		bt->results[bt->next] = NULL;
		bt->next++;
	}
}

static void
batch_done(void *arg, size_t k, const struct lep_http_resp *r,
    const struct lep_err *err)
{
	struct batch	*bt = arg;
	size_t		 i = bt->slot[k];

	if (err == NULL && (r->status < 200 || r->status > 299))
		err = status_error(r->status, r->body.buf, "endpoint");
	if (err != NULL)
		line_failed(bt, i, err->http_status, err->msg);
	else
		bt->results[i] = body_json(r);
	batch_flush(bt);
}

/*
 * One pass of a batch over in (a copy: it is cut in place). shadow: the
 * results of the shadow pass to compare with (or NULL); collect: the
 * shadow pass itself, which prints nothing and hands its results back.
 */
static const struct lep_err *
batch_pass(struct lep_ctx *ctx, const struct lep_buf *input, const char *url,
    const char *token, const struct lep_args *args, long timeout_ms,
    long long conc, const struct lep_json *shadow, int shadow_rev,
    struct lep_json **collect)
{
	const struct lep_err	*err = NULL;
	struct lep_http_req	*reqs;
	struct lep_json		*check, *res;
	struct lep_buf		 in = LEP_BUF_INIT;
	struct batch		 bt;
	size_t			 nlines = 1, i, start, lineno = 0, nreq = 0;
	char			*p;

	lep_buf_addn(&in, input->buf, input->len);
	for (i = 0; i < in.len; i++)
		nlines += in.buf[i] == '\n';
	memset(&bt, 0, sizeof(bt));
	bt.ctx = ctx;
	bt.results = xcalloc(nlines, sizeof(*bt.results));
	bt.lineno = xcalloc(nlines, sizeof(*bt.lineno));
	bt.slot = xcalloc(nlines, sizeof(*bt.slot));
	reqs = xcalloc(nlines, sizeof(*reqs));
	bt.silent = collect != NULL;
	bt.compare = shadow;
	bt.shadow_rev = shadow_rev;
	if (ctx->out.json || collect != NULL)
		bt.all = lep_json_arr();
	/* A line that is not JSON fails in place; the others are sent. */
	for (start = 0; start < in.len; start = i + 1) {
		p = memchr(in.buf + start, '\n', in.len - start);
		i = p ? (size_t)(p - in.buf) : in.len;
		lineno++;
		in.buf[i] = '\0';
		bt.lineno[bt.n] = lineno;
		check = NULL;
		if (i == start)
			line_failed(&bt, bt.n, 0, "empty line");
		else if (lep_json_parse(&check, in.buf + start, i - start,
		    "input") != NULL)
			line_failed(&bt, bt.n, 0, "not JSON");
		else {
			post_req(&reqs[nreq], url, in.buf + start, i - start,
			    token, timeout_ms, args);
			bt.slot[nreq++] = bt.n;
		}
		lep_json_free(check);
		bt.n++;
	}
	batch_flush(&bt);
	bt.fail_fast = lep_args_has(args, "fail-fast");
	if (!bt.stop)
		err = lep_http_many_until(reqs, nreq, (int)conc, batch_done,
		    &bt, &bt.stop);
	if (collect != NULL) {
		*collect = bt.all;
		bt.all = NULL;
		goto done;
	}
	if (shadow != NULL) {
		p = xasprintf("%zu of %zu lines answered differently by "
		    "revision %d", bt.ndiff, bt.n, shadow_rev);
		lep_out_stderr("lepton: predict: shadow: ", p);
		free(p);
	}
	if (err == NULL && bt.all != NULL) {
		res = lep_json_obj();
		lep_json_set_int(res, "lines", (long long)bt.n);
		lep_json_set_int(res, "failed", (long long)bt.failed);
		lep_json_set(res, "responses", bt.all);
		bt.all = NULL;
		if (shadow != NULL) {
			struct lep_json	*sh = lep_json_obj();

			lep_json_set_int(sh, "revision", shadow_rev);
			lep_json_set_int(sh, "differ", (long long)bt.ndiff);
			lep_json_set(res, "shadow", sh);
		}
		lep_out_result(&ctx->out, res);
	}
	if (err == NULL && bt.stop) {
		size_t	 done = 0;

		for (i = 0; i < bt.n; i++)
			done += bt.results[i] != NULL;
		done += bt.next;
		err = lep_err_new(LEP_E_FAILED, "stopped at line %zu "
		    "(--fail-fast): %zu failed, %zu of %zu lines not answered",
		    bt.first_failed, bt.failed, bt.n - done, bt.n);
	} else if (err == NULL && bt.failed > 0)
		err = lep_err_new(LEP_E_FAILED, "%zu of %zu lines failed",
		    bt.failed, bt.n);
done:
	for (i = 0; i < nlines; i++)
		lep_json_free(bt.results[i]);
	lep_json_free(bt.all);
	free(bt.results);
	free(bt.lineno);
	free(bt.slot);
	free(reqs);
	lep_buf_release(&in);
	return err;
}

static const struct lep_err *
predict_batch(struct lep_ctx *ctx, const char *url, const char *token,
    const struct lep_args *args, long timeout_ms, const char *shadow_url,
    int shadow_rev)
{
	const struct lep_err	*err;
	struct lep_json		*shadow = NULL;
	struct lep_buf		 in;
	const char		*file = lep_args_get(args, "file");
	long long		 conc;

	if ((err = lep_args_int(&conc, args, "concurrency", 4, 1,
	    1024)) != NULL)
		return err;
	if (strcmp(file, "-") == 0)
		err = read_stream(&in, stdin, "standard input");
	else
		err = lep_read_file(&in, file, PREDICT_MAX_INPUT);
	if (err != NULL)
		return err;
	/* --shadow: the same lines to the other revision first, kept. */
	if (shadow_url != NULL)
		err = batch_pass(ctx, &in, shadow_url, token, args, timeout_ms,
		    conc, NULL, 0, &shadow);
	if (err == NULL || err->code == LEP_E_FAILED)
		err = batch_pass(ctx, &in, url, token, args, timeout_ms, conc,
		    shadow, shadow_rev, NULL);
	lep_json_free(shadow);
	lep_buf_release(&in);
	return err;
}

static volatile int	 load_stop;

static void
on_load_sigint(int sig)
{
	(void)sig;
	load_stop = 1;
}

static const struct lep_err *
duration_opt(long long *ms_out, const struct lep_args *args, const char *name)
{
	const char	*v = lep_args_get(args, name);
	long long	 s;

	*ms_out = 0;
	if (v == NULL)
		return NULL;
	if (lep_parse_duration(&s, v) == -1 || s > 86400)
		return lep_err_new(LEP_E_USAGE, "--%s wants a duration such as "
		    "30, 30s or 5m, not '%s'", name, v);
	*ms_out = s * 1000;
	return NULL;
}

static struct lep_json *
ms_json(uint64_t us)
{
	return lep_json_num((double)us / 1000.0);
}

static const struct lep_err *
predict_load(struct lep_ctx *ctx, const char *url, const char *token,
    const struct lep_args *args, long timeout_ms)
{
	static const double	 pcts[] = { 50, 90, 99, 99.9 };
	static const char *const pnames[] = { "p50", "p90", "p99", "p99.9" };
	const struct lep_err	*err;
	struct lep_load_result	 r;
	struct lep_load_opts	 o;
	struct lep_http_req	 req;
	struct lep_json		*res, *lat, *errs;
	struct lep_buf		 body;
	struct sigaction	 sa, old;
	const char		*rv = lep_args_get(args, "rate"), *engine;
	long long		 conc;
	double			 rate = 0;
	size_t			 i;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	engine = lep_args_get(args, "engine");
	if (engine == NULL)
		engine = lep_starts_with(url, "http://") ? "lean" : "curl";
	if (strcmp(engine, "lean") != 0 && strcmp(engine, "curl") != 0)
		return lep_err_new(LEP_E_USAGE, "--engine is 'lean' or 'curl', "
		    "not '%s'", engine);
	if (strcmp(engine, "lean") == 0 && !lep_starts_with(url, "http://"))
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "the lean engine "
		    "speaks plain http:// only"), "--engine curl for https://");
	if (rv != NULL && (lep_parse_double(&rate, rv) == -1 || rate <= 0 ||
	    rate > 1e6))
		return lep_err_new(LEP_E_USAGE, "--rate wants requests per "
		    "second, more than 0, not '%s'", rv);
	if ((err = lep_args_int(&conc, args, "concurrency", rate > 0 ? 256 :
	    4, 1, 10000)) != NULL ||
	    (err = lep_args_int(&o.requests, args, "requests", 0, 1,
	    1000000000)) != NULL ||
	    (err = duration_opt(&o.duration_ms, args, "duration")) != NULL ||
	    (err = duration_opt(&o.warmup_ms, args, "warmup")) != NULL)
		return err;
	if (o.duration_ms == 0 && o.requests == 0)
		return lep_err_new(LEP_E_USAGE, "a load run needs --duration or "
		    "--requests");
	if ((err = request_body(&body, args)) != NULL)
		return err;
	post_req(&req, url, body.buf, body.len, token, timeout_ms, args);
	o.req = &req;
	o.concurrency = (int)conc;
	o.rate = rate;
	o.stop = &load_stop;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_load_sigint;
	sigemptyset(&sa.sa_mask);
	load_stop = 0;
	sigaction(SIGINT, &sa, &old);
	/* Plain http: the lean client; https: libcurl, TLS verified. */
	if (strcmp(engine, "lean") == 0)
		err = lep_wire_load(&r, &o);
	else
		err = lep_http_load(&r, &o);
	sigaction(SIGINT, &old, NULL);
	lep_buf_release(&body);
	if (err != NULL) {
		lep_hdr_free(r.latency);
		return err;
	}
	if (ctx->out.json) {
		res = lep_json_obj();
		lep_json_set_str(res, "mode", rate > 0 ? "open" : "closed");
		if (rate > 0)
			lep_json_set_num(res, "rate", rate);
		lep_json_set_int(res, "concurrency", conc);
		lep_json_set_num(res, "seconds", r.seconds);
		lep_json_set_int(res, "requests", r.sent);
		lep_json_set_num(res, "throughput", r.seconds > 0 ?
		    (double)lep_hdr_count(r.latency) / r.seconds : 0);
		lep_json_set_int(res, "ok", r.ok);
		errs = lep_json_obj();
		lep_json_set_int(errs, "connect", r.err_connect);
		lep_json_set_int(errs, "timeout", r.err_timeout);
		lep_json_set_int(errs, "other", r.err_other);
		lep_json_set_int(errs, "http_4xx", r.status[4]);
		lep_json_set_int(errs, "http_5xx", r.status[5]);
		lep_json_set(res, "errors", errs);
		lat = lep_json_obj();
		for (i = 0; i < LEP_ARRAY_SIZE(pcts); i++)
			lep_json_set(lat, pnames[i], ms_json(lep_hdr_percentile(
			    r.latency, pcts[i])));
		lep_json_set(lat, "max", ms_json(lep_hdr_max(r.latency)));
		lep_json_set_num(lat, "mean", lep_hdr_mean(r.latency) / 1000.0);
		lep_json_set(res, "latency_ms", lat);
		lep_json_set_int(res, "late", r.late);
		lep_json_set_bool(res, "interrupted", r.stopped);
		lep_out_result(&ctx->out, res);
	} else {
		if (rate > 0)
			lep_out_printf(&ctx->out, "open loop at %g req/s, %lld in "
			    "flight at most, %.2fs%s\n", rate, conc, r.seconds,
			    r.stopped ? " (interrupted)" : "");
		else
			lep_out_printf(&ctx->out, "closed loop, %lld in flight, "
			    "%.2fs%s\n", conc, r.seconds, r.stopped ?
			    " (interrupted)" : "");
		lep_out_printf(&ctx->out, "requests   %lld (%.1f/s), ok %lld; "
		    "errors: connect %lld, timeout %lld, other %lld, 4xx %lld, "
		    "5xx %lld\n", r.sent, r.seconds > 0 ?
		    (double)lep_hdr_count(r.latency) / r.seconds : 0, r.ok,
		    r.err_connect, r.err_timeout, r.err_other, r.status[4],
		    r.status[5]);
		lep_out_printf(&ctx->out, "latency    ");
		for (i = 0; i < LEP_ARRAY_SIZE(pcts); i++)
			lep_out_printf(&ctx->out, "%s %.3f ms  ", pnames[i],
			    (double)lep_hdr_percentile(r.latency, pcts[i]) /
			    1000.0);
		lep_out_printf(&ctx->out, "max %.3f ms\n",
		    (double)lep_hdr_max(r.latency) / 1000.0);
		if (rate > 0)
			lep_out_printf(&ctx->out, "(open loop: from each "
			    "request's intended send time; %lld started late)\n",
			    r.late);
	}
	lep_hdr_free(r.latency);
	return NULL;
}

/* The URL that asks base in protocol's way. */
static char *
endpoint_url(const char *base, const char *protocol,
    const struct lep_target *t)
{
	if (strcmp(protocol, "kserve-v2") == 0)
		return xasprintf("%s/v2/models/%s/infer", base, t->model);
	if (strcmp(protocol, "openai") == 0)
		return xasprintf("%s/v1/chat/completions", base);
	return xasprintf("%s%s", base, t->path);
}

/* The base URL of a ready replica of revision rev, from d's record. */
static const struct lep_err *
revision_base(char **out, const struct lep_deployment *d, int rev)
{
	const struct lep_replica	*r;
	size_t				 i, n;

	*out = NULL;
	if (rev == d->revision) {
		r = d->replicas;
		n = d->nreplicas;
	} else if (d->canary > 0 && rev == d->canary) {
		r = d->canary_replicas;
		n = d->ncanary;
	} else
		return lep_err_hint(lep_err_new(LEP_E_NOT_RUNNING, "revision "
		    "%d of '%s' is not serving", rev, d->name), d->canary > 0 ?
		    "it serves its current revision and a canary" :
		    "'lepton status NAME' shows the revision serving");
	for (i = 0; i < n; i++)
		if (strcmp(r[i].state, "ready") == 0 && r[i].port > 0) {
			*out = xasprintf("http://127.0.0.1:%d", r[i].port);
			return NULL;
		}
	return lep_err_new(LEP_E_NOT_RUNNING, "revision %d of '%s' has no "
	    "ready replica to ask directly", rev, d->name);
}

/*
 * --revision: point t->base at that revision's replica; --shadow: *shadow
 * gets the shadow revision's base.
 */
static const struct lep_err *
revision_bases(struct lep_ctx *ctx, const char *name, struct lep_target *t,
    int rev, int shadow, char **shadow_base)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;
	char			*base = NULL;

	*shadow_base = NULL;
	if ((err = lep_service_get(&d, ctx, name)) != NULL)
		return err;
	if (rev > 0 && (err = revision_base(&base, d, rev)) == NULL) {
		free(t->base);
		t->base = base;
	}
	if (err == NULL && shadow > 0)
		err = revision_base(shadow_base, d, shadow);
	lep_deployment_free(d);
	return err;
}

static const struct lep_err *
cmd_predict_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_target	 t;
	const char		*target = lep_args_pos(args, 0), *env;
	const char		*protocol = lep_args_get(args, "protocol");
	char			*url = NULL, *token = NULL, *shadow_url = NULL;
	char			*base;
	long long		 timeout, rev, shadow;

	memset(&t, 0, sizeof(t));
	if ((err = lep_args_int(&timeout, args, "timeout", 30, 1,
	    86400)) != NULL ||
	    (err = lep_args_int(&rev, args, "revision", 0, 1,
	    INT_MAX)) != NULL ||
	    (err = lep_args_int(&shadow, args, "shadow", 0, 1,
	    INT_MAX)) != NULL)
		return err;
	if (shadow > 0 && !lep_args_has(args, "file"))
		return lep_err_new(LEP_E_USAGE, "--shadow compares a batch; it "
		    "needs --file");
	if (lep_args_has(args, "data") && lep_args_has(args, "file"))
		return lep_err_new(LEP_E_USAGE, "--data and --file exclude "
		    "each other");
	if (protocol != NULL && strcmp(protocol, "json") != 0 &&
	    strcmp(protocol, "kserve-v2") != 0 && strcmp(protocol, "openai") != 0)
		return lep_err_new(LEP_E_USAGE, "--protocol is json, kserve-v2 "
		    "or openai, not '%s'", protocol);
	if ((rev > 0 || shadow > 0) && (lep_starts_with(target, "http://") ||
	    lep_starts_with(target, "https://")))
		return lep_err_new(LEP_E_USAGE, "--revision and --shadow name a "
		    "deployment's revision; '%s' is a URL", target);
	if (lep_starts_with(target, "http://") ||
	    lep_starts_with(target, "https://")) {
		/* A URL is asked as it is. */
		url = xstrdup(target);
		if ((env = getenv("LEPTON_TOKEN")) != NULL && *env != '\0')
			token = xstrdup(env);
		if (protocol == NULL)
			protocol = "json";
	} else {
		if ((err = lep_service_target(&t, ctx, target)) != NULL)
			return err;
		if (protocol == NULL)
			protocol = t.protocol;
		if (rev > 0 || shadow > 0) {
			if ((err = revision_bases(ctx, target, &t, (int)rev,
			    (int)shadow, &base)) != NULL) {
				lep_target_release(&t);
				return err;
			}
			if (base != NULL)
				shadow_url = endpoint_url(base, protocol, &t);
			free(base);
		}
		url = endpoint_url(t.base, protocol, &t);
		token = t.token ? xstrdup(t.token) : NULL;
	}
	if (lep_args_has(args, "duration") || lep_args_has(args, "requests") ||
	    lep_args_has(args, "rate")) {
		/* --shadow needs --file, so it stops here too. */
		if (lep_args_has(args, "file"))
			err = lep_err_new(LEP_E_USAGE, "a load run sends -d's "
			    "body; --file is for batches");
		else
			err = predict_load(ctx, url, token, args,
			    timeout * 1000);
	} else if (lep_args_has(args, "file"))
		err = predict_batch(ctx, url, token, args, timeout * 1000,
		    shadow_url, (int)shadow);
	else
		err = predict_one(ctx, url, token, args, timeout * 1000,
		    protocol);
	if (token != NULL) {
		lep_wipe(token, strlen(token));
		free(token);
	}
	lep_target_release(&t);
	free(url);
	free(shadow_url);
	return err;
}
