/*
 * predict.c: `lepton predict NAME|URL`: one JSON request, or a JSONL batch
 * whose responses come back as JSONL in input order.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/error.h"
#include "../lib/http.h"
#include "../lib/predict.h"
#include "../lib/util.h"

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
	    "errors by class; it exits 1 when no request succeeded. Ctrl-C "
	    "ends it early with the summary so far. "
	    "While a canary takes a share of a deployment's traffic, "
	    "--revision N asks one revision's replicas directly and --shadow "
	    "N compares a batch's answers from revision N with the ones "
	    "printed.",
	.opts = predict_opts,
	.min_args = 1,
	.max_args = 1,
	.exec = cmd_predict_exec,
};

/*
 * The request body: -i KEY=VALUE pairs as one object, else -d's JSON (or
 * @file, or standard input).
 */
static const struct lep_err *
request_body(struct lep_buf *body, const struct lep_args *args)
{
	const struct lep_err	*err;
	const char		**kv;
	size_t			 i, n = lep_args_count(args, "input");

	if (n > 0 && lep_args_has(args, "data"))
		err = lep_err_new(LEP_E_USAGE, "-i and -d exclude each other");
	else {
		kv = xcalloc(n + 1, sizeof(*kv));
		for (i = 0; i < n; i++)
			kv[i] = lep_args_nth(args, "input", i);
		err = lep_predict_body(body, lep_args_get(args, "data"), kv,
		    n);
		free(kv);
	}
	return err;
}

static const struct lep_err *
predict_one(struct lep_ctx *ctx, const struct lep_predict *p,
    const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_buf		 body;

	if ((err = request_body(&body, args)) == NULL) {
		err = lep_predict_one(ctx, p, &body);
		lep_buf_release(&body);
	}
	return err;
}

static const struct lep_err *
predict_batch(struct lep_ctx *ctx, const struct lep_predict *p,
    const struct lep_args *args)
{
	const struct lep_err	*err;
	long long		 conc;

	if ((err = lep_args_int(&conc, args, "concurrency", 4, 1,
	    1024)) == NULL)
		err = lep_predict_batch(ctx, p, lep_args_get(args, "file"),
		    (int)conc, lep_args_has(args, "fail-fast"));
	return err;
}

static const struct lep_err *
duration_opt(long long *ms_out, const struct lep_args *args, const char *name)
{
	const struct lep_err	*err = NULL;
	const char		*v = lep_args_get(args, name);
	long long		 s;

	*ms_out = 0;
	if (v != NULL && (lep_parse_duration(&s, v) == -1 || s > 86400))
		err = lep_err_new(LEP_E_USAGE, "--%s wants a duration such as "
		    "30, 30s or 5m, not '%s'", name, v);
	else if (v != NULL)
		*ms_out = s * 1000;
	return err;
}

/* --rate, -c, -n, --duration and --warmup of a load run. */
static const struct lep_err *
load_opts(struct lep_load_opts *o, const struct lep_args *args)
{
	const struct lep_err	*err;
	const char		*rv = lep_args_get(args, "rate");
	long long		 conc;

	memset(o, 0, sizeof(*o));
	if (rv != NULL && (lep_parse_double(&o->rate, rv) == -1 ||
	    o->rate <= 0 || o->rate > 1e6))
		err = lep_err_new(LEP_E_USAGE, "--rate wants requests per "
		    "second, more than 0, not '%s'", rv);
	else if ((err = lep_args_int(&conc, args, "concurrency", o->rate > 0 ?
	    256 : 4, 1, 10000)) == NULL &&
	    (err = lep_args_int(&o->requests, args, "requests", 0, 1,
	    1000000000)) == NULL &&
	    (err = duration_opt(&o->duration_ms, args, "duration")) == NULL &&
	    (err = duration_opt(&o->warmup_ms, args, "warmup")) == NULL) {
		o->concurrency = (int)conc;
		if (o->duration_ms == 0 && o->requests == 0)
			err = lep_err_new(LEP_E_USAGE, "a load run needs "
			    "--duration or --requests");
	}
	return err;
}

static const struct lep_err *
predict_load(struct lep_ctx *ctx, const struct lep_predict *p,
    const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_load_opts	 o;
	struct lep_buf		 body;
	const char		*engine;

	/* --shadow needs --file, so it stops here too. */
	if (lep_args_has(args, "file"))
		err = lep_err_new(LEP_E_USAGE, "a load run sends -d's body; "
		    "--file is for batches");
	else if ((err = lep_predict_engine(&engine, p->url,
	    lep_args_get(args, "engine"))) == NULL &&
	    (err = load_opts(&o, args)) == NULL &&
	    (err = request_body(&body, args)) == NULL) {
		err = lep_predict_load(ctx, p, &body, engine, &o);
		lep_buf_release(&body);
	}
	return err;
}

/* The checks of options that go together, before anything is asked. */
static const struct lep_err *
check_opts(const struct lep_args *args, const char *protocol, long long rev,
    long long shadow)
{
	const struct lep_err	*err = NULL;
	const char		*target = lep_args_pos(args, 0);

	if (shadow > 0 && !lep_args_has(args, "file"))
		err = lep_err_new(LEP_E_USAGE, "--shadow compares a batch; it "
		    "needs --file");
	else if (lep_args_has(args, "data") && lep_args_has(args, "file"))
		err = lep_err_new(LEP_E_USAGE, "--data and --file exclude "
		    "each other");
	else if (protocol != NULL && strcmp(protocol, "json") != 0 &&
	    strcmp(protocol, "kserve-v2") != 0 &&
	    strcmp(protocol, "openai") != 0)
		err = lep_err_new(LEP_E_USAGE, "--protocol is json, kserve-v2 "
		    "or openai, not '%s'", protocol);
	else if ((rev > 0 || shadow > 0) && (lep_starts_with(target,
	    "http://") || lep_starts_with(target, "https://")))
		err = lep_err_new(LEP_E_USAGE, "--revision and --shadow name a "
		    "deployment's revision; '%s' is a URL", target);
	return err;
}

static const struct lep_err *
cmd_predict_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_predict	 p;
	const char		*protocol = lep_args_get(args, "protocol");
	long long		 timeout, rev, shadow;

	memset(&p, 0, sizeof(p));
	if ((err = lep_args_int(&timeout, args, "timeout", 30, 1,
	    86400)) != NULL ||
	    (err = lep_args_int(&rev, args, "revision", 0, 1,
	    INT_MAX)) != NULL ||
	    (err = lep_args_int(&shadow, args, "shadow", 0, 1,
	    INT_MAX)) != NULL ||
	    (err = check_opts(args, protocol, rev, shadow)) != NULL ||
	    (err = lep_predict_target(&p, ctx, lep_args_pos(args, 0), protocol,
	    (int)rev, (int)shadow)) != NULL)
		goto done;
	p.cacert = lep_args_get(args, "cacert");
	p.timeout_ms = (long)timeout * 1000;
	if (lep_args_has(args, "duration") || lep_args_has(args, "requests") ||
	    lep_args_has(args, "rate"))
		err = predict_load(ctx, &p, args);
	else if (lep_args_has(args, "file"))
		err = predict_batch(ctx, &p, args);
	else
		err = predict_one(ctx, &p, args);
done:
	lep_predict_release(&p);
	return err;
}
