/*
 * cost.c: `lepton cost SPEC` prices a spec across every allowed provider
 * before it runs; `lepton cost report` says what has been spent.
 */
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/ledger.h"
#include "../lib/plan.h"
#include "../lib/spec.h"
#include "../lib/util.h"

static const struct lep_err *cmd_cost_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt cost_opts[] = {
	{ "hours", 0, LEP_OPT_VALUE, "H",
	    "estimate for H hours (default: the job's max_duration, or 1)" },
	{ "all", 'a', LEP_OPT_FLAG, NULL, "every feasible offer, not the top 10" },
	{ "provider", 'p', LEP_OPT_VALUE, "NAME", "only this provider" },
	{ "region", 'r', LEP_OPT_VALUE, "REGION", "only this region" },
	{ "since", 0, LEP_OPT_VALUE, "DATE",
	    "report: from DATE (YYYY-MM-DD or RFC 3339, UTC)" },
	{ "by", 0, LEP_OPT_VALUE, "KEY",
	    "report: group by deployment, model, provider or day" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_cost_entry = {
	.name = "cost",
	.summary = "price a spec across providers, or report what was spent",
	.usage = "[-a] [--hours H] [-p PROVIDER] [-r REGION] SPEC | report "
	    "[--since DATE] [--by KEY]",
	.description = "With SPEC: every offer of every allowed provider that "
	    "can hold it, cheapest first (or in the spec's order of "
	    "accelerators), the chosen one marked '*', with $/h on demand and "
	    "spot and an estimate: H hours (a job's max_duration by default) "
	    "times its nodes, and for a service a month at min..max replicas. "
	    "A spec nothing can hold exits 10, naming the constraint that "
	    "ruled everything out and the nearest offers. With 'report': the "
	    "spend recorded in the ledger (every start, update and stop of a "
	    "deployment), running ones up to now. Money is exact, in USD.",
	.opts = cost_opts,
	.min_args = 1,
	.max_args = 1,
	.exec = cmd_cost_exec,
};

static const struct lep_err *
cost_spec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_plan_opts	 opts;
	struct lep_plan_cost	*pc = NULL;
	struct lep_spec		*sp = NULL;
	const char		*hv = lep_args_get(args, "hours");
	double			 hours = 0;	/* 0: the spec's default */

	if ((err = lep_spec_load(&sp, lep_args_pos(args, 0))) != NULL)
		goto done;
	if (hv != NULL && (lep_parse_double(&hours, hv) == -1 ||
	    hours <= 0 || hours > 1e6)) {
		err = lep_err_new(LEP_E_USAGE, "--hours wants a positive "
		    "number, not '%s'", hv);
		goto done;
	}
	memset(&opts, 0, sizeof(opts));
	opts.home = ctx->home;
	opts.provider = lep_args_get(args, "provider");
	opts.region = lep_args_get(args, "region");
	opts.out = &ctx->out;
	if ((err = lep_plan_cost(&pc, &ctx->out, sp, &opts, hours)) == NULL)
		lep_plan_cost_print(&ctx->out, pc, lep_args_has(args, "all"));
done:
	lep_plan_cost_free(pc);
	lep_spec_free(sp);
	return err;
}

/* "2026-11-27" or "2026-11-27T17:00:00Z", UTC, to epoch milliseconds. */
static const struct lep_err *
parse_since(int64_t *out, const char *s)
{
	struct tm	 tm;
	char		*end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end != NULL && *end == 'T')
		end = strptime(end, "T%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return lep_err_new(LEP_E_USAGE, "--since wants YYYY-MM-DD or "
		    "YYYY-MM-DDTHH:MM:SSZ (UTC), not '%s'", s);
	*out = (int64_t)timegm(&tm) * 1000;
	return NULL;
}

static const struct lep_err *
cost_report(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err = NULL;
	const char		*since = lep_args_get(args, "since");
	int64_t			 since_ms = 0;

	if (since != NULL)
		err = parse_since(&since_ms, since);
	if (err == NULL)
		err = lep_ledger_report(&ctx->out, ctx->home, since_ms,
		    lep_args_get(args, "by"));
	return err;
}

static const struct lep_err *
cmd_cost_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	if (strcmp(lep_args_pos(args, 0), "report") == 0)
		return cost_report(ctx, args);
	if (lep_args_has(args, "since") || lep_args_has(args, "by"))
		return lep_err_new(LEP_E_USAGE, "--since and --by are for "
		    "'lepton cost report'");
	return cost_spec(ctx, args);
}
