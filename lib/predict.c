/*
 * predict.c: one request to a deployment or a URL, in its protocol's way
 * (plain JSON, KServe v2, OpenAI, streamed or not), and what it answers.
 */
#include "predict.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "ctx.h"
#include "error.h"
#include "fs.h"
#include "hdr.h"
#include "http.h"
#include "json.h"
#include "out.h"
#include "predict-priv.h"
#include "provider.h"
#include "service.h"
#include "sse.h"
#include "util.h"

static const struct lep_err *
read_stream(struct lep_buf *b, FILE *fp, const char *what)
{
	char	 chunk[65536];
	size_t	 n;

	lep_buf_init_max(b, LEP_PREDICT_MAX_INPUT);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (lep_buf_addn(b, chunk, n) == -1)
			return lep_err_new(LEP_E_USAGE, "%s is larger than %u "
			    "bytes", what, LEP_PREDICT_MAX_INPUT);
	if (ferror(fp))
		return lep_err_errno(LEP_E_FAILED, "cannot read %s", what);
	return NULL;
}

const struct lep_err *
lep_predict_read(struct lep_buf *out, const char *path)
{
	if (strcmp(path, "-") == 0)
		return read_stream(out, stdin, "standard input");
	return lep_read_file(out, path, LEP_PREDICT_MAX_INPUT);
}

/* -d's argument: JSON text, @FILE, or standard input ("-", "@-", none). */
static const struct lep_err *
read_input(struct lep_buf *b, const char *spec)
{
	if (spec == NULL || strcmp(spec, "-") == 0)
		return lep_predict_read(b, "-");
	if (spec[0] == '@')
		return lep_predict_read(b, spec + 1);
	lep_buf_init(b, 0);
	lep_buf_add(b, spec);
	return NULL;
}

/* KEY=VALUE pairs as one object; VALUE is JSON, else text. */
static const struct lep_err *
body_object(struct lep_buf *body, const char *const *kv, size_t n)
{
	struct lep_json	*obj, *v;
	const char	*eq;
	char		*key, *text;
	size_t		 i;

	obj = lep_json_obj();
	for (i = 0; i < n; i++) {
		if ((eq = strchr(kv[i], '=')) == NULL || eq == kv[i]) {
			lep_json_free(obj);
			return lep_err_new(LEP_E_USAGE, "-i wants KEY=VALUE, "
			    "not '%s'", kv[i]);
		}
		key = xstrndup(kv[i], (size_t)(eq - kv[i]));
		if (lep_json_parse(&v, eq + 1, strlen(eq + 1), "value") != NULL)
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

const struct lep_err *
lep_predict_body(struct lep_buf *out, const char *data,
    const char *const *kv, size_t nkv)
{
	const struct lep_err	*err;
	struct lep_json		*check = NULL;

	if (nkv > 0) {
		err = body_object(out, kv, nkv);
		goto done;
	}
	if ((err = read_input(out, data)) != NULL)
		goto done;
	if ((err = lep_json_parse(&check, out->buf, out->len,
	    "request body")) != NULL) {
		lep_buf_release(out);
		err = lep_err_new(LEP_E_USAGE, "%s", err->msg);
	}
	lep_json_free(check);
done:
	return err;
}

const struct lep_err *
lep_predict_http_error(long status, const char *body, const char *url)
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

struct lep_json *
lep_predict_response_json(const struct lep_http_resp *r)
{
	struct lep_json	*j = NULL;

	if (r->body.len > 0 && lep_json_parse(&j, r->body.buf, r->body.len,
	    "response") == NULL)
		return j;
	/* Not JSON: every byte of it, NULs included (see lep_json_bytes). */
	return lep_json_bytes(r->body.buf, r->body.len);
}

const struct lep_err *
lep_predict_sign(char ***lines, size_t *n, const struct lep_predict *p,
    struct lep_http_req *req)
{
	const struct lep_err	*err;

	*lines = NULL;
	*n = 0;
	if (p->signer == NULL)
		return NULL;
	err = lep_provider_sign(lines, n, p->signer, p->name, req->method,
	    req->url, req->body, req->body_len);
	req->headers = (const char *const *)*lines;
	req->nheaders = *n;
	return err;
}

void
lep_predict_request(struct lep_http_req *out, const struct lep_predict *p,
    const char *url, const char *body, size_t len)
{
	memset(out, 0, sizeof(*out));
	out->method = "POST";
	out->url = url;
	out->body = body;
	out->body_len = len;
	out->bearer = p->token;
	out->timeout_ms = p->timeout_ms;
	out->retries = 2;	/* only when nothing was sent: see http.c */
	out->cacert = p->cacert;
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

/* --json: the text, with its timing, is the result. */
static void
stream_json(struct lep_ctx *ctx, const struct tokens *tk)
{
	struct lep_json	*res, *itl;

	res = lep_json_obj();
	lep_json_set_str(res, "text", tk->text.buf);
	lep_json_set_int(res, "tokens", (long long)tk->n);
	lep_json_set_num(res, "ttft_ms", (double)tk->ttft / 1000.0);
	itl = lep_json_obj();
	lep_json_set_num(itl, "p50", (double)lep_hdr_percentile(tk->itl, 50) /
	    1000.0);
	lep_json_set_num(itl, "p99", (double)lep_hdr_percentile(tk->itl, 99) /
	    1000.0);
	lep_json_set_num(itl, "max", (double)lep_hdr_max(tk->itl) / 1000.0);
	lep_json_set_num(itl, "mean", lep_hdr_mean(tk->itl) / 1000.0);
	lep_json_set(res, "inter_token_ms", itl);
	lep_json_set_bool(res, "done", tk->done);
	lep_out_result(&ctx->out, res);
}

/* The text, printed as it came, is the result; its timing goes beside. */
static void
stream_timing(struct lep_ctx *ctx, const struct tokens *tk)
{
	char	*line;

	lep_out_write(&ctx->out, "\n", 1);
	line = xasprintf("%zu tokens, time to first %.1f ms, between tokens "
	    "p50 %.1f ms p99 %.1f ms max %.1f ms", tk->n,
	    (double)tk->ttft / 1000.0, (double)lep_hdr_percentile(tk->itl,
	    50) / 1000.0, (double)lep_hdr_percentile(tk->itl, 99) / 1000.0,
	    (double)lep_hdr_max(tk->itl) / 1000.0);
	if (!ctx->out.quiet)
		lep_out_stderr("lepton: predict: ", line);
	free(line);
}

static const struct lep_err *
send_stream(struct lep_ctx *ctx, const struct lep_http_req *req)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct tokens		 tk;

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
		err = lep_predict_http_error(resp.status, resp.body.buf,
		    req->url);
	if (err == NULL && tk.n == 0)
		err = lep_err_new(LEP_E_PROVIDER, "%s: the stream held no "
		    "token%s", req->url, tk.bad ? " (and unparsable events)" :
		    "");
	if (err == NULL && ctx->out.json)
		stream_json(ctx, &tk);
	else if (err == NULL)
		stream_timing(ctx, &tk);
	lep_sse_release(&tk.sse);
	lep_buf_release(&tk.text);
	lep_hdr_free(tk.itl);
	lep_http_resp_release(&resp);
	return err;
}

static const struct lep_err *
send_one(struct lep_ctx *ctx, const struct lep_http_req *req)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_json		*res;

	lep_http_resp_init(&resp);
	err = lep_http_do(&resp, req);
	if (err == NULL && (resp.status < 200 || resp.status > 299))
		err = lep_predict_http_error(resp.status, resp.body.buf,
		    req->url);
	if (err == NULL) {
		if (ctx->out.json) {
			res = lep_json_obj();
			lep_json_set_int(res, "status", resp.status);
			lep_json_set_num(res, "latency_ms",
			    resp.seconds * 1000.0);
			lep_json_set(res, "response",
			    lep_predict_response_json(&resp));
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

const struct lep_err *
lep_predict_one(struct lep_ctx *ctx, const struct lep_predict *p,
    const struct lep_buf *body)
{
	const struct lep_err	*err;
	struct lep_http_req	 req;
	const char		*url = p->url;
	char			*alt = NULL, **lines = NULL;
	size_t			 nlines = 0;
	int			 stream = 0, chat;

	lep_predict_request(&req, p, url, body->buf, body->len);
	if (strcmp(p->protocol, "openai") == 0) {
		stream = wants_stream(body, &chat);
		/* A deployment's chat URL serves a prompt at completions. */
		if (!chat && lep_ends_with(url, "/v1/chat/completions")) {
			alt = xasprintf("%.*s/v1/completions",
			    (int)(strlen(url) - strlen("/v1/chat/completions")),
			    url);
			req.url = alt;
		}
	}
	if ((err = lep_predict_sign(&lines, &nlines, p, &req)) != NULL)
		;
	else if (stream)
		err = send_stream(ctx, &req);
	else
		err = send_one(ctx, &req);
	lep_provider_sign_free(lines, nlines);
	free(alt);
	return err;
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
	/* A base ending in ':' takes a custom method (Google's AIP-136):
	   path /predict asks base + "predict". */
	if (lep_ends_with(base, ":") && t->path[0] == '/')
		return xasprintf("%s%s", base, t->path + 1);
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
	for (i = 0; i < n; i++)
		if (strcmp(r[i].state, "ready") == 0)
			break;
	if (i < n && d->canary <= 0) {
		/* A remote provider's endpoint serves only this revision. */
		*out = NULL;
		return NULL;
	}
	if (i < n)
		/*
		 * Its replicas have no address of their own (a provider's
		 * endpoint): the endpoint mixes both revisions, so asking
		 * it would not be asking revision rev.
		 */
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED,
		    "provider '%s' cannot ask revision %d of '%s' directly "
		    "while a canary shares its endpoint", d->provider ?
		    d->provider : "?", rev, d->name), "once the canary is "
		    "promoted or aborted, one revision serves and can be "
		    "asked");
	return lep_err_new(LEP_E_NOT_RUNNING, "revision %d of '%s' has no "
	    "ready replica to ask directly", rev, d->name);
}

/*
 * rev: point t->base at that revision's replica; shadow: *shadow_base
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
	/* A NULL base: the endpoint itself serves that revision alone. */
	if (rev > 0 && (err = revision_base(&base, d, rev)) == NULL &&
	    base != NULL) {
		free(t->base);
		t->base = base;
	}
	if (err == NULL && shadow > 0 &&
	    (err = revision_base(shadow_base, d, shadow)) == NULL &&
	    *shadow_base == NULL)
		*shadow_base = xstrdup(t->base);
	lep_deployment_free(d);
	return err;
}

const struct lep_err *
lep_predict_target(struct lep_predict *out, struct lep_ctx *ctx,
    const char *target, const char *protocol, int rev, int shadow)
{
	const struct lep_err	*err = NULL;
	struct lep_target	 t;
	const char		*env;
	char			*base = NULL;

	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	out->shadow = shadow;
	if (lep_starts_with(target, "http://") ||
	    lep_starts_with(target, "https://")) {
		/* A URL is asked as it is. */
		out->url = xstrdup(target);
		if ((env = getenv("LEPTON_TOKEN")) != NULL && *env != '\0')
			out->token = xstrdup(env);
		out->protocol = xstrdup(protocol ? protocol : "json");
		goto done;
	}
	if ((err = lep_service_target(&t, ctx, target)) != NULL)
		goto done;
	out->protocol = xstrdup(protocol ? protocol : t.protocol);
	if ((rev > 0 || shadow > 0) && (err = revision_bases(ctx, target, &t,
	    rev, shadow, &base)) != NULL)
		goto done;
	if (base != NULL)
		out->shadow_url = endpoint_url(base, out->protocol, &t);
	out->url = endpoint_url(t.base, out->protocol, &t);
	out->token = t.token ? xstrdup(t.token) : NULL;
	/* A provider that signs each request stays open for the run. */
	if ((err = lep_service_provider(&out->signer, ctx, target)) == NULL &&
	    !lep_provider_signs(out->signer)) {
		lep_provider_close(out->signer);
		out->signer = NULL;
	}
	if (out->signer != NULL)
		out->name = xstrdup(target);
done:
	free(base);
	lep_target_release(&t);
	return err;
}

void
lep_predict_release(struct lep_predict *p)
{
	if (p->token != NULL)
		lep_wipe(p->token, strlen(p->token));
	free(p->url);
	free(p->shadow_url);
	free(p->token);
	free(p->protocol);
	free(p->name);
	lep_provider_close(p->signer);
	memset(p, 0, sizeof(*p));
}
