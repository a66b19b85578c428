/*
 * cost.c: `lepton cost SPEC` prices a spec across every allowed provider
 * before it runs; `lepton cost report` says what has been spent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/catalog.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/ledger.h"
#include "../lib/money.h"
#include "../lib/out.h"
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

/* VmHWM: the most resident memory this process has had. */
static long
peak_kib(void)
{
	char	 line[256];
	long	 kib = -1;
	FILE	*fp = fopen("/proc/self/status", "r");

	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (fp != NULL)
		fclose(fp);
	return kib;
}

static void
offer_accels(char *buf, size_t len, const struct lep_offer *o)
{
	if (o->acc_count > 0)
		snprintf(buf, len, "%s:%d", o->acc_name, o->acc_count);
	else
		snprintf(buf, len, "-");
}

static const char *
money_or_dash(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		return "-";
	return lep_money_format(buf, len, v);
}

static struct lep_json *
money_json(int64_t v)
{
	char	 buf[32];

	if (v < 0)
		return lep_json_null();
	return lep_json_str(lep_money_format(buf, sizeof(buf), v));
}

static struct lep_json *
choice_json(const struct lep_choice *c, int machines, double hours)
{
	struct lep_json	*j = lep_json_obj();
	const struct lep_offer *o = c->offer;

	lep_json_set_str(j, "provider", o->provider);
	lep_json_set_str(j, "region", o->region);
	if (o->zone[0])
		lep_json_set_str(j, "zone", o->zone);
	lep_json_set_str(j, "instance", o->instance);
	if (o->acc_count > 0) {
		lep_json_set_str(j, "accelerator", o->acc_name);
		lep_json_set_int(j, "accelerator_count", o->acc_count);
	}
	if (o->vcpus >= 0)
		lep_json_set_num(j, "vcpus", o->vcpus);
	if (o->mem >= 0)
		lep_json_set_num(j, "memory_gib", o->mem);
	lep_json_set(j, "hourly", money_json(o->price));
	lep_json_set(j, "spot_hourly", money_json(o->spot));
	lep_json_set(j, "total", money_json(lep_money_for(c->hourly,
	    machines, (int64_t)(hours * 3600000.0 + 0.5))));
	return j;
}

static void
nearest_hint(const struct lep_err *err, const struct lep_plan *pl)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	char		 acc[96], m[32];
	size_t		 i;

	if (pl->nnearest == 0)
		return;
	lep_buf_add(&b, "nearest:");
	for (i = 0; i < pl->nnearest && i < 3; i++) {
		offer_accels(acc, sizeof(acc), pl->nearest[i].offer);
		lep_buf_addf(&b, "%s %s %s %s %s %g vCPU %g GiB $%s/h", i ? ";" :
		    "", pl->nearest[i].offer->provider,
		    pl->nearest[i].offer->instance, acc,
		    pl->nearest[i].offer->region, pl->nearest[i].offer->vcpus,
		    pl->nearest[i].offer->mem, money_or_dash(m, sizeof(m),
		    pl->nearest[i].hourly));
	}
	lep_err_hint(err, "%s", b.buf);
	lep_buf_release(&b);
}

static const struct lep_err *
cost_spec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_plan_opts	 opts;
	struct lep_plan		*pl = NULL;
	struct lep_spec		*sp = NULL;
	struct lep_json		*res, *arr, *est;
	const char		*hv = lep_args_get(args, "hours");
	char			 acc[96], a[32], b[32], c[32];
	double			 hours = 1;
	size_t			 i, show;
	int			 machines;

	if ((err = lep_spec_load(&sp, lep_args_pos(args, 0))) != NULL)
		return err;
	if (hv != NULL) {
		if (lep_parse_double(&hours, hv) == -1 || hours <= 0 ||
		    hours > 1e6) {
			err = lep_err_new(LEP_E_USAGE, "--hours wants a "
			    "positive number, not '%s'", hv);
			goto done;
		}
	} else if (sp->kind == LEP_SPEC_JOB && sp->job.max_duration > 0)
		hours = (double)sp->job.max_duration / 3600.0;
	memset(&opts, 0, sizeof(opts));
	opts.home = ctx->home;
	opts.provider = lep_args_get(args, "provider");
	opts.region = lep_args_get(args, "region");
	if ((err = lep_plan_new(&pl, sp, &opts)) != NULL)
		goto done;
	lep_out_info(&ctx->out, "plan: %zu offers in %s; catalogs read in "
	    "%lld ms, planned in %lld ms; peak memory %ld KiB", pl->scanned,
	    pl->providers, pl->load_ms, pl->plan_ms, peak_kib());
	if (pl->n == 0) {
		err = lep_err_new(LEP_E_INFEASIBLE, "%s: %s", sp->file,
		    pl->why);
		nearest_hint(err, pl);
		goto done;
	}
	machines = pl->machines;
	show = lep_args_has(args, "all") || pl->n < 10 ? pl->n : 10;
	if (ctx->out.json) {
		res = lep_json_obj();
		lep_json_set_str(res, "spec", sp->name);
		lep_json_set_num(res, "hours", hours);
		lep_json_set_int(res, "machines", machines);
		lep_json_set_bool(res, "spot", pl->spot);
		lep_json_set_str(res, "currency", LEP_CURRENCY);
		lep_json_set(res, "chosen", choice_json(&pl->choices[0],
		    machines, hours));
		arr = lep_json_arr();
		for (i = 0; i < show; i++)
			lep_json_push(arr, choice_json(&pl->choices[i],
			    machines, hours));
		lep_json_set(res, "offers", arr);
		lep_json_set_int(res, "feasible", (long long)pl->n);
		lep_json_set_int(res, "scanned", (long long)pl->scanned);
		if (sp->kind == LEP_SPEC_SERVICE) {
			est = lep_json_obj();
			lep_json_set(est, "min", money_json(lep_money_for(
			    pl->choices[0].hourly, pl->machines,
			    LEP_HOURS_PER_MONTH * 3600000LL)));
			lep_json_set(est, "max", money_json(lep_money_for(
			    pl->choices[0].hourly, pl->machines_max,
			    LEP_HOURS_PER_MONTH * 3600000LL)));
			lep_json_set(res, "month", est);
		}
		lep_out_result(&ctx->out, res);
		goto done;
	}
	lep_out_printf(&ctx->out, "   %-8s %-16s %-26s %-14s %6s %7s %10s "
	    "%10s %12s\n", "PROVIDER", "REGION", "INSTANCE", "ACCELERATORS",
	    "VCPU", "MEM", "$/H", "SPOT $/H", "TOTAL");
	for (i = 0; i < show; i++) {
		const struct lep_choice	*ch = &pl->choices[i];

		offer_accels(acc, sizeof(acc), ch->offer);
		lep_out_printf(&ctx->out, "%s  %-8s %-16s %-26s %-14s %6g "
		    "%7g %10s %10s %12s\n", i == 0 ? "*" : " ",
		    ch->offer->provider, ch->offer->region,
		    ch->offer->instance, acc, ch->offer->vcpus, ch->offer->mem,
		    money_or_dash(a, sizeof(a), ch->offer->price),
		    money_or_dash(b, sizeof(b), ch->offer->spot),
		    lep_money_format(c, sizeof(c), lep_money_for(ch->hourly,
		    machines, (int64_t)(hours * 3600000.0 + 0.5))));
	}
	lep_out_printf(&ctx->out, "\n%zu of %zu feasible offers shown (of "
	    "%zu in %s); total = %s $/h x %g h x %d %s, in %s\n", show, pl->n,
	    pl->scanned, pl->providers, pl->spot ? "spot" : "on-demand",
	    hours, machines, sp->kind == LEP_SPEC_JOB ? "node(s)" :
	    "replica(s)", LEP_CURRENCY);
	if (sp->kind == LEP_SPEC_SERVICE)
		lep_out_printf(&ctx->out, "a month (%d h) of the chosen offer: "
		    "$%s (%d replicas) .. $%s (%d)\n", LEP_HOURS_PER_MONTH,
		    lep_money_format(a, sizeof(a), lep_money_for(
		    pl->choices[0].hourly, pl->machines,
		    LEP_HOURS_PER_MONTH * 3600000LL)), pl->machines,
		    lep_money_format(b, sizeof(b), lep_money_for(
		    pl->choices[0].hourly, pl->machines_max,
		    LEP_HOURS_PER_MONTH * 3600000LL)), pl->machines_max);
done:
	lep_plan_free(pl);
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
	const struct lep_err	*err;
	struct lep_segment	*segs = NULL;
	struct lep_spend	*sp = NULL;
	struct lep_json		*res, *arr, *o;
	const char		*by = lep_args_get(args, "by");
	const char		*since = lep_args_get(args, "since");
	int64_t			 since_ms = 0, now = lep_epoch_ms(), total;
	size_t			 nseg = 0, n = 0, i;
	char			 m[32], a[32], b[32], p[32];

	if (since != NULL && (err = parse_since(&since_ms, since)) != NULL)
		return err;
	if ((err = lep_ledger_read(&segs, &nseg, ctx->home)) != NULL)
		return err;
	if ((err = lep_ledger_spend(&sp, &n, &total, segs, nseg, since_ms,
	    now, by)) != NULL)
		goto done;
	if (ctx->out.json) {
		res = lep_json_obj();
		lep_format_time(a, sizeof(a), since_ms / 1000);
		lep_format_time(b, sizeof(b), now / 1000);
		lep_json_set_str(res, "since", a);
		lep_json_set_str(res, "until", b);
		lep_json_set_str(res, "currency", LEP_CURRENCY);
		lep_json_set_str(res, "by", by ? by : "segment");
		arr = lep_json_arr();
		for (i = 0; i < n; i++) {
			o = lep_json_obj();
			if (by == NULL) {
				const struct lep_segment *sg =
				    &segs[strtoul(sp[i].key, NULL, 10)];

				lep_json_set_str(o, "deployment", sg->what);
				lep_json_set_int(o, "revision", sg->revision);
				lep_json_set_str(o, "provider", sg->provider);
				lep_json_set_str(o, "region", sg->region);
				lep_json_set_str(o, "instance", sg->instance);
				lep_json_set_int(o, "machines", sg->machines);
				lep_json_set_str(o, "price", lep_money_format(
				    p, sizeof(p), sg->price));
				lep_format_time(a, sizeof(a),
				    sg->start_ms / 1000);
				lep_json_set_str(o, "start", a);
				if (sg->end_ms) {
					lep_format_time(a, sizeof(a),
					    sg->end_ms / 1000);
					lep_json_set_str(o, "end", a);
				} else
					lep_json_set(o, "end", lep_json_null());
			} else
				lep_json_set_str(o, "key", sp[i].key);
			lep_json_set_int(o, "machine_ms", sp[i].machine_ms);
			lep_json_set_str(o, "amount", lep_money_format(m,
			    sizeof(m), sp[i].micro));
			lep_json_push(arr, o);
		}
		lep_json_set(res, "rows", arr);
		lep_json_set_str(res, "total", lep_money_format(m, sizeof(m),
		    total));
		lep_out_result(&ctx->out, res);
		goto done;
	}
	if (by == NULL)
		lep_out_printf(&ctx->out, "%-20s %-4s %-8s %-14s %-9s %4s "
		    "%10s %20s %20s %10s\n", "DEPLOYMENT", "REV", "PROVIDER",
		    "INSTANCE", "$/H", "MACH", "HOURS", "START", "END",
		    "AMOUNT");
	else
		lep_out_printf(&ctx->out, "%-24s %12s %14s\n", "KEY",
		    "MACH-HOURS", "AMOUNT");
	for (i = 0; i < n; i++) {
		if (by == NULL) {
			const struct lep_segment *sg =
			    &segs[strtoul(sp[i].key, NULL, 10)];

			lep_format_time(a, sizeof(a), sg->start_ms / 1000);
			if (sg->end_ms)
				lep_format_time(b, sizeof(b),
				    sg->end_ms / 1000);
			else
				lep_strlcpy(b, "running", sizeof(b));
			lep_out_printf(&ctx->out, "%-20s %-4d %-8s %-14s %-9s "
			    "%4d %10.4f %20s %20s %10s\n", sg->what,
			    sg->revision, sg->provider, sg->instance,
			    lep_money_format(p, sizeof(p), sg->price),
			    sg->machines, (double)sp[i].machine_ms / 3.6e6 /
			    sg->machines, a, b, lep_money_format(m, sizeof(m),
			    sp[i].micro));
		} else
			lep_out_printf(&ctx->out, "%-24s %12.4f %14s\n",
			    sp[i].key, (double)sp[i].machine_ms / 3.6e6,
			    lep_money_format(m, sizeof(m), sp[i].micro));
	}
	lep_out_printf(&ctx->out, "total: $%s %s\n", lep_money_format(m,
	    sizeof(m), total), LEP_CURRENCY);
done:
	lep_spend_free(sp, n);
	lep_segments_free(segs, nseg);
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
