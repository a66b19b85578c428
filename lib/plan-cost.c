/*
 * plan-cost.c: `lepton cost SPEC`: a plan priced over some hours (and, for
 * a service, a month at min..max replicas), printed as a table or JSON.
 */
#include "plan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "error.h"
#include "json.h"
#include "money.h"
#include "out.h"
#include "spec.h"
#include "util.h"

/* At most this many offers unless all are asked for. */
#define COST_SHOW	10

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

/* The hint of an infeasible spec: the three nearest offers. */
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

/* Every choice's total, and a service's month at min and max replicas. */
static void
price_choices(struct lep_plan_cost *pc)
{
	const struct lep_plan	*pl = pc->plan;
	int64_t			 ms, month = LEP_HOURS_PER_MONTH * 3600000LL;
	size_t			 i;

	ms = (int64_t)(pc->hours * 3600000.0 + 0.5);
	pc->totals = xreallocarray(NULL, pl->n, sizeof(*pc->totals));
	for (i = 0; i < pl->n; i++)
		pc->totals[i] = lep_money_for(pl->choices[i].hourly,
		    pl->machines, ms);
	pc->month_min = pc->month_max = -1;
	if (pc->spec->kind == LEP_SPEC_SERVICE) {
		pc->month_min = lep_money_for(pl->choices[0].hourly,
		    pl->machines, month);
		pc->month_max = lep_money_for(pl->choices[0].hourly,
		    pl->machines_max, month);
	}
}

const struct lep_err *
lep_plan_cost(struct lep_plan_cost **out, struct lep_out *diag,
    const struct lep_spec *sp, const struct lep_plan_opts *opts,
    double hours)
{
	const struct lep_err	*err;
	struct lep_plan_cost	*pc;
	struct lep_plan		*pl = NULL;

	*out = NULL;
	if (hours <= 0)
		hours = sp->kind == LEP_SPEC_JOB && sp->job.max_duration > 0 ?
		    (double)sp->job.max_duration / 3600.0 : 1;
	if ((err = lep_plan_new(&pl, sp, opts)) != NULL)
		goto done;
	lep_out_info(diag, "plan: %zu offers in %s; catalogs read in "
	    "%lld ms, planned in %lld ms; peak memory %ld KiB", pl->scanned,
	    pl->providers, pl->load_ms, pl->plan_ms, peak_kib());
	if (pl->n == 0) {
		err = lep_err_new(LEP_E_INFEASIBLE, "%s: %s", sp->file,
		    pl->why);
		nearest_hint(err, pl);
		goto done;
	}
	pc = xcalloc(1, sizeof(*pc));
	pc->spec = sp;
	pc->plan = pl;
	pc->hours = hours;
	pl = NULL;
	price_choices(pc);
	*out = pc;
done:
	lep_plan_free(pl);
	return err;
}

void
lep_plan_cost_free(struct lep_plan_cost *pc)
{
	if (pc == NULL)
		return;
	lep_plan_free(pc->plan);
	free(pc->totals);
	free(pc);
}

static struct lep_json *
choice_json(const struct lep_plan_cost *pc, size_t i)
{
	struct lep_json		*j = lep_json_obj();
	const struct lep_offer	*o = pc->plan->choices[i].offer;

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
	lep_json_set(j, "total", money_json(pc->totals[i]));
	return j;
}

static void
cost_json(struct lep_out *out, const struct lep_plan_cost *pc, size_t show)
{
	const struct lep_plan	*pl = pc->plan;
	struct lep_json		*res, *arr, *est;
	size_t			 i;

	res = lep_json_obj();
	lep_json_set_str(res, "spec", pc->spec->name);
	lep_json_set_num(res, "hours", pc->hours);
	lep_json_set_int(res, "machines", pl->machines);
	lep_json_set_bool(res, "spot", pl->spot);
	lep_json_set_str(res, "currency", LEP_CURRENCY);
	lep_json_set(res, "chosen", choice_json(pc, 0));
	arr = lep_json_arr();
	for (i = 0; i < show; i++)
		lep_json_push(arr, choice_json(pc, i));
	lep_json_set(res, "offers", arr);
	lep_json_set_int(res, "feasible", (long long)pl->n);
	lep_json_set_int(res, "scanned", (long long)pl->scanned);
	if (pc->spec->kind == LEP_SPEC_SERVICE) {
		est = lep_json_obj();
		lep_json_set(est, "min", money_json(pc->month_min));
		lep_json_set(est, "max", money_json(pc->month_max));
		lep_json_set(res, "month", est);
	}
	lep_out_result(out, res);
}

static void
cost_text(struct lep_out *out, const struct lep_plan_cost *pc, size_t show)
{
	const struct lep_plan	*pl = pc->plan;
	const struct lep_choice	*ch;
	char			 acc[96], a[32], b[32], c[32];
	size_t			 i;

	lep_out_printf(out, "   %-8s %-16s %-26s %-14s %6s %7s %10s "
	    "%10s %12s\n", "PROVIDER", "REGION", "INSTANCE", "ACCELERATORS",
	    "VCPU", "MEM", "$/H", "SPOT $/H", "TOTAL");
	for (i = 0; i < show; i++) {
		ch = &pl->choices[i];
		offer_accels(acc, sizeof(acc), ch->offer);
		lep_out_printf(out, "%s  %-8s %-16s %-26s %-14s %6g "
		    "%7g %10s %10s %12s\n", i == 0 ? "*" : " ",
		    ch->offer->provider, ch->offer->region,
		    ch->offer->instance, acc, ch->offer->vcpus, ch->offer->mem,
		    money_or_dash(a, sizeof(a), ch->offer->price),
		    money_or_dash(b, sizeof(b), ch->offer->spot),
		    lep_money_format(c, sizeof(c), pc->totals[i]));
	}
	lep_out_printf(out, "\n%zu of %zu feasible offers shown (of "
	    "%zu in %s); total = %s $/h x %g h x %d %s, in %s\n", show, pl->n,
	    pl->scanned, pl->providers, pl->spot ? "spot" : "on-demand",
	    pc->hours, pl->machines, pc->spec->kind == LEP_SPEC_JOB ?
	    "node(s)" : "replica(s)", LEP_CURRENCY);
	if (pc->spec->kind == LEP_SPEC_SERVICE)
		lep_out_printf(out, "a month (%d h) of the chosen offer: "
		    "$%s (%d replicas) .. $%s (%d)\n", LEP_HOURS_PER_MONTH,
		    lep_money_format(a, sizeof(a), pc->month_min),
		    pl->machines, lep_money_format(b, sizeof(b),
		    pc->month_max), pl->machines_max);
}

void
lep_plan_cost_print(struct lep_out *out, const struct lep_plan_cost *pc,
    int all)
{
	size_t	 show;

	show = all || pc->plan->n < COST_SHOW ? pc->plan->n : COST_SHOW;
	if (out->json)
		cost_json(out, pc, show);
	else
		cost_text(out, pc, show);
}
