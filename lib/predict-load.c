/*
 * predict-load.c: a load run of one request, closed or open loop, over
 * the lean client or libcurl, and its summary; Ctrl-C ends it early.
 */
#include "predict.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "ctx.h"
#include "error.h"
#include "hdr.h"
#include "http.h"
#include "json.h"
#include "out.h"
#include "predict-priv.h"
#include "provider.h"
#include "util.h"
#include "wire.h"

static const double	 pcts[] = { 50, 90, 99, 99.9 };
static const char *const pnames[] = { "p50", "p90", "p99", "p99.9" };

static volatile int	 load_stop;

static void
on_load_sigint(int sig)
{
	(void)sig;
	load_stop = 1;
}

const struct lep_err *
lep_predict_engine(const char **out, const char *url, const char *engine)
{
	const struct lep_err	*err = NULL;

	if (engine == NULL)
		engine = lep_starts_with(url, "http://") ? "lean" : "curl";
	if (strcmp(engine, "lean") != 0 && strcmp(engine, "curl") != 0)
		err = lep_err_new(LEP_E_USAGE, "--engine is 'lean' or 'curl', "
		    "not '%s'", engine);
	else if (strcmp(engine, "lean") == 0 && !lep_starts_with(url,
	    "http://"))
		err = lep_err_hint(lep_err_new(LEP_E_USAGE, "the lean engine "
		    "speaks plain http:// only"), "--engine curl for https://");
	*out = engine;
	return err;
}

/* Run o on engine until it is over or Ctrl-C sets o->stop. */
static const struct lep_err *
load_run(struct lep_load_result *r, const struct lep_load_opts *o,
    const char *engine)
{
	const struct lep_err	*err;
	struct sigaction	 sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_load_sigint;
	sigemptyset(&sa.sa_mask);
	load_stop = 0;
	sigaction(SIGINT, &sa, &old);
	/* Plain http: the lean client; https: libcurl, TLS verified. */
	if (strcmp(engine, "lean") == 0)
		err = lep_wire_load(r, o);
	else
		err = lep_http_load(r, o);
	sigaction(SIGINT, &old, NULL);
	return err;
}

static struct lep_json *
ms_json(uint64_t us)
{
	return lep_json_num((double)us / 1000.0);
}

static struct lep_json *
load_json(const struct lep_load_opts *o, const struct lep_load_result *r)
{
	struct lep_json	*res, *lat, *errs;
	size_t		 i;

	res = lep_json_obj();
	lep_json_set_str(res, "mode", o->rate > 0 ? "open" : "closed");
	if (o->rate > 0)
		lep_json_set_num(res, "rate", o->rate);
	lep_json_set_int(res, "concurrency", o->concurrency);
	lep_json_set_num(res, "seconds", r->seconds);
	lep_json_set_int(res, "requests", r->sent);
	lep_json_set_num(res, "throughput", r->seconds > 0 ?
	    (double)lep_hdr_count(r->latency) / r->seconds : 0);
	lep_json_set_int(res, "ok", r->ok);
	errs = lep_json_obj();
	lep_json_set_int(errs, "connect", r->err_connect);
	lep_json_set_int(errs, "timeout", r->err_timeout);
	lep_json_set_int(errs, "other", r->err_other);
	lep_json_set_int(errs, "protocol", r->err_protocol);
	lep_json_set_int(errs, "http_3xx", r->status[3]);
	lep_json_set_int(errs, "http_4xx", r->status[4]);
	lep_json_set_int(errs, "http_5xx", r->status[5]);
	lep_json_set(res, "errors", errs);
	lat = lep_json_obj();
	for (i = 0; i < LEP_ARRAY_SIZE(pcts); i++)
		lep_json_set(lat, pnames[i], ms_json(lep_hdr_percentile(
		    r->latency, pcts[i])));
	lep_json_set(lat, "max", ms_json(lep_hdr_max(r->latency)));
	lep_json_set_num(lat, "mean", lep_hdr_mean(r->latency) / 1000.0);
	lep_json_set(res, "latency_ms", lat);
	lep_json_set_int(res, "late", r->late);
	lep_json_set_int(res, "abandoned", r->abandoned);
	lep_json_set_bool(res, "interrupted", r->stopped);
	return res;
}

static void
load_text(struct lep_out *out, const struct lep_load_opts *o,
    const struct lep_load_result *r)
{
	long long	 conc = o->concurrency;
	size_t		 i;

	if (o->rate > 0)
		lep_out_printf(out, "open loop at %g req/s, %lld in flight at "
		    "most, %.2fs%s\n", o->rate, conc, r->seconds, r->stopped ?
		    " (interrupted)" : "");
	else
		lep_out_printf(out, "closed loop, %lld in flight, %.2fs%s\n",
		    conc, r->seconds, r->stopped ? " (interrupted)" : "");
	lep_out_printf(out, "requests   %lld (%.1f/s), ok %lld; errors: "
	    "connect %lld, timeout %lld, other %lld, protocol %lld, 3xx %lld, "
	    "4xx %lld, 5xx %lld; abandoned %lld\n", r->sent, r->seconds > 0 ?
	    (double)lep_hdr_count(r->latency) / r->seconds : 0, r->ok,
	    r->err_connect, r->err_timeout, r->err_other, r->err_protocol,
	    r->status[3], r->status[4], r->status[5], r->abandoned);
	lep_out_printf(out, "latency    ");
	for (i = 0; i < LEP_ARRAY_SIZE(pcts); i++)
		lep_out_printf(out, "%s %.3f ms  ", pnames[i],
		    (double)lep_hdr_percentile(r->latency, pcts[i]) / 1000.0);
	lep_out_printf(out, "max %.3f ms\n", (double)lep_hdr_max(r->latency) /
	    1000.0);
	if (o->rate > 0)
		lep_out_printf(out, "(open loop: from each request's intended "
		    "send time; %lld started late)\n", r->late);
}

/* The error of a run in which no request succeeded. */
static const struct lep_err *
load_failed(const char *url, const struct lep_load_result *r)
{
	const struct lep_err	*err;

	if (r->abandoned > 0)
		err = lep_err_new(LEP_E_FAILED, "%s: none of the %lld requests "
		    "succeeded (%lld still in flight at the end, abandoned)",
		    url, r->sent, r->abandoned);
	else
		err = lep_err_new(LEP_E_FAILED, "%s: none of the %lld requests "
		    "succeeded", url, r->sent);
	return lep_err_hint(err, "the summary counts them by class");
}

const struct lep_err *
lep_predict_load(struct lep_ctx *ctx, const struct lep_predict *p,
    const struct lep_buf *body, const char *engine,
    const struct lep_load_opts *opts)
{
	const struct lep_err	*err;
	struct lep_load_result	 r;
	struct lep_load_opts	 o = *opts;
	struct lep_http_req	 req;
	char			**lines = NULL;
	size_t			 nlines = 0;

	memset(&r, 0, sizeof(r));
	lep_predict_request(&req, p, p->url, body->buf, body->len);
	o.req = &req;
	o.stop = &load_stop;
	/*
	 * One body, one signature for the run: it must end while the
	 * signature holds.
	 */
	if (p->signer != NULL && o.duration_ms >
	    (long long)LEP_SIGN_VALID_S * 1000)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "'%s' signs each "
		    "request: a load run on it lasts at most %ds", p->name,
		    LEP_SIGN_VALID_S), "give --duration %ds or less",
		    LEP_SIGN_VALID_S);
	if ((err = lep_predict_sign(&lines, &nlines, p, &req)) == NULL)
		err = load_run(&r, &o, engine);
	lep_provider_sign_free(lines, nlines);
	if (err == NULL && ctx->out.json)
		lep_out_result(&ctx->out, load_json(&o, &r));
	else if (err == NULL)
		load_text(&ctx->out, &o, &r);
	/* A run whose every request failed is no measure of anything. */
	if (err == NULL && r.sent > 0 && r.ok == 0)
		err = load_failed(p->url, &r);
	lep_hdr_free(r.latency);
	return err;
}
