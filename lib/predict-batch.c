/*
 * predict-batch.c: a JSONL batch, N requests in flight, its answers
 * printed in input order; with --shadow, compared with another revision's.
 */
#include "predict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "error.h"
#include "http.h"
#include "json.h"
#include "out.h"
#include "predict-priv.h"
#include "provider.h"
#include "util.h"

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
	char		***sig;		/* per request: its signature's
					   lines (a signing provider) */
	size_t		 *nsig;
	const struct lep_err *sign_err;
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
			    "differently", bt->lineno[bt->next],
			    bt->shadow_rev);
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
		err = lep_predict_http_error(r->status, r->body.buf,
		    "endpoint");
	if (err != NULL)
		line_failed(bt, i, err->http_status, err->msg);
	else
		bt->results[i] = lep_predict_response_json(r);
	batch_flush(bt);
}

/* Room for nlines results, in the order of the input's lines. */
static void
batch_init(struct batch *bt, struct lep_ctx *ctx, size_t nlines)
{
	memset(bt, 0, sizeof(*bt));
	bt->ctx = ctx;
	bt->results = xcalloc(nlines, sizeof(*bt->results));
	bt->lineno = xcalloc(nlines, sizeof(*bt->lineno));
	bt->slot = xcalloc(nlines, sizeof(*bt->slot));
	bt->sig = xcalloc(nlines, sizeof(*bt->sig));
	bt->nsig = xcalloc(nlines, sizeof(*bt->nsig));
}

static void
batch_release(struct batch *bt, size_t nlines)
{
	size_t	 i;

	for (i = 0; i < nlines; i++)
		lep_json_free(bt->results[i]);
	lep_json_free(bt->all);
	free(bt->results);
	free(bt->lineno);
	free(bt->slot);
	for (i = 0; i < nlines; i++)
		lep_provider_sign_free(bt->sig[i], bt->nsig[i]);
	free(bt->sig);
	free(bt->nsig);
}

/*
 * Cut in into lines (in place): a line that is not JSON fails in its
 * slot; the others become requests to url. Returns how many.
 */
static size_t
batch_lines(struct batch *bt, struct lep_http_req *reqs, struct lep_buf *in,
    const struct lep_predict *p, const char *url)
{
	struct lep_json	*check;
	size_t		 i, start, lineno = 0, nreq = 0;
	char		*nl;

	for (start = 0; start < in->len; start = i + 1) {
		nl = memchr(in->buf + start, '\n', in->len - start);
		i = nl ? (size_t)(nl - in->buf) : in->len;
		lineno++;
		in->buf[i] = '\0';
		bt->lineno[bt->n] = lineno;
		check = NULL;
		if (i == start)
			line_failed(bt, bt->n, 0, "empty line");
		else if (lep_json_parse(&check, in->buf + start, i - start,
		    "input") != NULL)
			line_failed(bt, bt->n, 0, "not JSON");
		else {
			lep_predict_request(&reqs[nreq], p, url,
			    in->buf + start, i - start);
			if (bt->sign_err == NULL)
				bt->sign_err = lep_predict_sign(&bt->sig[nreq],
				    &bt->nsig[nreq], p, &reqs[nreq]);
			bt->slot[nreq++] = bt->n;
		}
		lep_json_free(check);
		bt->n++;
	}
	return nreq;
}

/*
 * The end of a printing pass: the shadow's count, --json's result, and
 * the error for lines that failed or were never sent (--fail-fast).
 */
static const struct lep_err *
batch_report(struct batch *bt, const struct lep_err *err)
{
	struct lep_json	*res, *sh;
	size_t		 i, done = 0;
	char		*s;

	if (bt->compare != NULL) {
		s = xasprintf("%zu of %zu lines answered differently by "
		    "revision %d", bt->ndiff, bt->n, bt->shadow_rev);
		lep_out_stderr("lepton: predict: shadow: ", s);
		free(s);
	}
	if (err == NULL && bt->all != NULL) {
		res = lep_json_obj();
		lep_json_set_int(res, "lines", (long long)bt->n);
		lep_json_set_int(res, "failed", (long long)bt->failed);
		lep_json_set(res, "responses", bt->all);
		bt->all = NULL;
		if (bt->compare != NULL) {
			sh = lep_json_obj();
			lep_json_set_int(sh, "revision", bt->shadow_rev);
			lep_json_set_int(sh, "differ", (long long)bt->ndiff);
			lep_json_set(res, "shadow", sh);
		}
		lep_out_result(&bt->ctx->out, res);
	}
	if (err == NULL && bt->stop) {
		for (i = 0; i < bt->n; i++)
			done += bt->results[i] != NULL;
		done += bt->next;
		err = lep_err_new(LEP_E_FAILED, "stopped at line %zu "
		    "(--fail-fast): %zu failed, %zu of %zu lines not answered",
		    bt->first_failed, bt->failed, bt->n - done, bt->n);
	} else if (err == NULL && bt->failed > 0)
		err = lep_err_new(LEP_E_FAILED, "%zu of %zu lines failed",
		    bt->failed, bt->n);
	return err;
}

/*
 * One pass of a batch over input to url. shadow: the results of the
 * shadow pass to compare with (or NULL); collect: the shadow pass itself,
 * which prints nothing and hands its results back.
 */
static const struct lep_err *
batch_pass(struct lep_ctx *ctx, const struct lep_predict *p, const char *url,
    const struct lep_buf *input, int conc, int fail_fast,
    const struct lep_json *shadow, struct lep_json **collect)
{
	const struct lep_err	*err = NULL;
	struct lep_http_req	*reqs;
	struct lep_buf		 in = LEP_BUF_INIT;
	struct batch		 bt;
	size_t			 nlines = 1, i, nreq;

	/* A copy: batch_lines cuts it in place. */
	lep_buf_addn(&in, input->buf, input->len);
	for (i = 0; i < in.len; i++)
		nlines += in.buf[i] == '\n';
	batch_init(&bt, ctx, nlines);
	reqs = xcalloc(nlines, sizeof(*reqs));
	bt.silent = collect != NULL;
	bt.compare = shadow;
	bt.shadow_rev = p->shadow;
	if (ctx->out.json || collect != NULL)
		bt.all = lep_json_arr();
	nreq = batch_lines(&bt, reqs, &in, p, url);
	batch_flush(&bt);
	/* Lines that are not JSON do not stop the batch: only answers do. */
	bt.fail_fast = fail_fast;
	if (bt.sign_err != NULL)
		err = bt.sign_err;
	else if (!bt.stop)
		err = lep_http_many_until(reqs, nreq, conc, batch_done, &bt,
		    &bt.stop);
	if (collect != NULL) {
		*collect = bt.all;
		bt.all = NULL;
	} else
		err = batch_report(&bt, err);
	batch_release(&bt, nlines);
	free(reqs);
	lep_buf_release(&in);
	return err;
}

const struct lep_err *
lep_predict_batch(struct lep_ctx *ctx, const struct lep_predict *p,
    const char *file, int concurrency, int fail_fast)
{
	const struct lep_err	*err;
	struct lep_json		*shadow = NULL;
	struct lep_buf		 in;

	if ((err = lep_predict_read(&in, file)) != NULL)
		goto done;
	/* --shadow: the same lines to the other revision first, kept. */
	if (p->shadow_url != NULL)
		err = batch_pass(ctx, p, p->shadow_url, &in, concurrency,
		    fail_fast, NULL, &shadow);
	if (err == NULL || err->code == LEP_E_FAILED)
		err = batch_pass(ctx, p, p->url, &in, concurrency, fail_fast,
		    shadow, NULL);
done:
	lep_json_free(shadow);
	lep_buf_release(&in);
	return err;
}
