/*
 * plan.c: filter every offer through the spec's constraints in a fixed
 * order (accelerator, count, region/zone, cpus, memory, price), keep the
 * survivors, rank them. Counting where each offer drops out tells, when
 * nothing survives, which constraint ruled everything out.
 */
#include "plan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "error.h"
#include "json.h"
#include "ledger.h"
#include "money.h"
#include "out.h"
#include "provider.h"
#include "spec.h"
#include "util.h"

enum stage {
	ST_ACCEL,
	ST_COUNT,
	ST_WHERE,
	ST_CPUS,
	ST_MEM,
	ST_PRICE,
	ST_OK,
};

static int
in_list(char *const *v, size_t n, const char *s)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int
amount_ok(double have, double want, int plus, int elastic)
{
	if (have < 0)
		return 0;
	if (plus || elastic)
		return have + 1e-9 >= want;
	return have > want - 1e-9 && have < want + 1e-9;
}

/* The first constraint o fails, or ST_OK; *pref: its accelerator's rank. */
static enum stage
check_offer(const struct lep_spec *sp, const struct lep_plan_opts *opts,
    const struct lep_offer *o, int spot, int *pref)
{
	size_t	 i;
	int	 named = 0, counted = 0;

	if (sp->resources.naccels == 0) {
		if (o->acc_count != 0)
			return ST_ACCEL;
	} else if (o->acc_name[0] == '\0') {
		return ST_ACCEL;	/* most rows: no need to compare names */
	} else {
		for (i = 0; i < sp->resources.naccels; i++) {
			if (!lep_accel_match(sp->resources.accels[i].name,
			    o->acc_name))
				continue;
			named = 1;
			if (sp->resources.accels[i].count == o->acc_count) {
				counted = 1;
				*pref = (int)i;
				break;
			}
		}
		if (!named)
			return ST_ACCEL;
		if (!counted)
			return ST_COUNT;
	}
	if ((sp->placement.nregions && !in_list(sp->placement.regions,
	    sp->placement.nregions, o->region)) ||
	    (sp->placement.nzones && !in_list(sp->placement.zones,
	    sp->placement.nzones, o->zone)) ||
	    (opts->region != NULL && strcmp(opts->region, o->region) != 0))
		return ST_WHERE;
	if (sp->resources.has_cpus && !amount_ok(o->vcpus, sp->resources.cpus,
	    sp->resources.cpus_plus, o->elastic))
		return ST_CPUS;
	if (sp->resources.has_memory && !amount_ok(o->mem,
	    sp->resources.memory, sp->resources.memory_plus, o->elastic))
		return ST_MEM;
	if ((spot ? o->spot : o->price) < 0)
		return ST_PRICE;
	return ST_OK;
}

/* qsort_r: arg points to "rank by preference first" (an ordered list). */
static int
cmp_choice(const void *a, const void *b, void *arg)
{
	const struct lep_choice	*x = a, *y = b;
	const int		*ordered = arg;
	int			 r;

	if (*ordered && x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	if (x->hourly != y->hourly)
		return x->hourly < y->hourly ? -1 : 1;
	if ((r = strcmp(x->offer->provider, y->offer->provider)) != 0 ||
	    (r = strcmp(x->offer->instance, y->offer->instance)) != 0 ||
	    (r = strcmp(x->offer->region, y->offer->region)) != 0 ||
	    (r = strcmp(x->offer->zone, y->offer->zone)) != 0)
		return r;
	return 0;
}

static uint64_t
fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h ^ 0xff) * 1099511628211ULL;
}

static int
same_machine(const struct lep_offer *a, const struct lep_offer *b)
{
	return a->provider == b->provider && a->acc_count == b->acc_count &&
	    strcmp(a->instance, b->instance) == 0 &&
	    strcmp(a->region, b->region) == 0 &&
	    strcmp(a->acc_name, b->acc_name) == 0;
}

/*
 * Keep the first (the best ranked) of each provider, instance and region:
 * zones of one region differ only in spot price, and the list is one
 * line per choice a user can make. A hash set keeps it linear.
 */
static size_t
dedupe(struct lep_choice *c, size_t n)
{
	size_t		*slot, mask, size = 16, i, h, out = 0;
	uint64_t	 key;

	while (size < 2 * n)
		size *= 2;
	mask = size - 1;
	slot = xcalloc(size, sizeof(*slot));	/* 0: empty, else out+1 */
	for (i = 0; i < n; i++) {
		const struct lep_offer	*o = c[i].offer;

		key = fnv(fnv(fnv(fnv(14695981039346656037ULL, o->provider),
		    o->instance), o->region), o->acc_name) ^
		    (uint64_t)o->acc_count;
		for (h = (size_t)key & mask; slot[h] != 0; h = (h + 1) & mask)
			if (same_machine(c[slot[h] - 1].offer, o))
				break;
		if (slot[h] != 0)
			continue;
		c[out] = c[i];
		slot[h] = ++out;
	}
	free(slot);
	return out;
}

static void
describe_accels(struct lep_buf *b, const struct lep_spec *sp)
{
	size_t	 i;

	for (i = 0; i < sp->resources.naccels; i++)
		lep_buf_addf(b, "%s%s:%d", i ? (sp->resources.accel_any ?
		    " or " : ", then ") : "", sp->resources.accels[i].name,
		    sp->resources.accels[i].count);
}

static void
explain(struct lep_plan *pl, const struct lep_spec *sp,
    const struct lep_plan_opts *opts, enum stage killer)
{
	struct lep_buf	 b = LEP_BUF_INIT, what = LEP_BUF_INIT;
	size_t		 i;

	if (sp->resources.naccels)
		describe_accels(&what, sp);
	else
		lep_buf_add(&what, "a CPU-only machine");
	switch (killer) {
	case ST_ACCEL:
		lep_buf_addf(&b, "no offer in %s has ", pl->providers);
		if (sp->resources.naccels)
			describe_accels(&b, sp);
		else
			lep_buf_add(&b, "no accelerator");
		lep_buf_add(&b, " by name");
		break;
	case ST_COUNT:
		lep_buf_addf(&b, "no offer in %s has %s: not in that count",
		    pl->providers, what.buf);
		break;
	case ST_WHERE:
		lep_buf_addf(&b, "no offer of %s is in", what.buf);
		for (i = 0; i < sp->placement.nregions; i++)
			lep_buf_addf(&b, " %s", sp->placement.regions[i]);
		for (i = 0; i < sp->placement.nzones; i++)
			lep_buf_addf(&b, " %s", sp->placement.zones[i]);
		if (opts->region != NULL)
			lep_buf_addf(&b, " %s", opts->region);
		break;
	case ST_CPUS:
		lep_buf_addf(&b, "no offer of %s there has cpus %g%s",
		    what.buf, sp->resources.cpus,
		    sp->resources.cpus_plus ? "+" : "");
		break;
	case ST_MEM:
		lep_buf_addf(&b, "no offer of %s there has memory %g%s GiB",
		    what.buf, sp->resources.memory,
		    sp->resources.memory_plus ? "+" : "");
		break;
	case ST_PRICE:
		lep_buf_addf(&b, "no offer that fits has %s price",
		    pl->spot ? "a spot" : "an on-demand");
		break;
	case ST_OK:
		break;
	}
	lep_strlcpy(pl->why, b.buf, sizeof(pl->why));
	lep_buf_release(&b);
	lep_buf_release(&what);
}

static int
provider_allowed(const struct lep_spec *sp, const struct lep_plan_opts *opts,
    const char *name)
{
	if (opts->provider != NULL)
		return strcmp(opts->provider, name) == 0;
	return sp->placement.nproviders == 0 ||
	    in_list(sp->placement.providers, sp->placement.nproviders, name);
}

/* Is name the one provider this plan may use? */
static int
only_provider(const struct lep_spec *sp, const struct lep_plan_opts *opts,
    const char *name)
{
	if (opts->provider != NULL)
		return strcmp(opts->provider, name) == 0;
	return sp->placement.nproviders == 1 &&
	    strcmp(sp->placement.providers[0], name) == 0;
}

static void
add_cat(struct lep_plan *pl, struct lep_catalog *c)
{
	pl->cats = xreallocarray(pl->cats, pl->ncats + 1, sizeof(*pl->cats));
	pl->cats[pl->ncats++] = c;
}

/*
 * What a built provider offers, asked through its offers hook. One that
 * cannot answer (down, not set up, a bad setting) fails only a plan that
 * must use it; any other plan goes on without it, with a warning.
 */
static const struct lep_err *
driver_offers(struct lep_catalog **out, const struct lep_spec *sp,
    const struct lep_plan_opts *opts, const char *name)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_config	 pcfg = { opts->home, NULL };

	if ((err = lep_provider_open(&p, name, &pcfg)) == NULL)
		err = lep_provider_offers(out, p);
	lep_provider_close(p);
	if (err != NULL && !only_provider(sp, opts, name)) {
		if (opts->out != NULL)
			lep_out_warn(opts->out, "%s left out of the plan: %s",
			    name, err->msg);
		err = NULL;
	}
	return err;
}

/* What a provider not built yet would cost: its public price catalog. */
static const struct lep_err *
catalog_offers(struct lep_catalog **out, const struct lep_spec *sp,
    const struct lep_plan_opts *opts, const struct lep_provider_info *pi)
{
	const struct lep_err	*err;
	char			*path;

	if ((path = lep_catalog_path(opts->home, pi->name)) == NULL)
		return lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no price "
		    "catalog for '%s'", pi->name), "'lepton catalog update' "
		    "fetches them");
	err = lep_catalog_load(out, pi->name, path, pi->catalog_flags |
	    (sp->resources.naccels ? LEP_CATALOG_ACCELERATED : 0));
	free(path);
	return err;
}

/* The offers of every provider the spec allows, in the table's order. */
static const struct lep_err *
load_catalogs(struct lep_plan *pl, const struct lep_spec *sp,
    const struct lep_plan_opts *opts)
{
	const struct lep_err	*err = NULL;
	struct lep_provider_info pi;
	struct lep_catalog	*c;
	size_t			 i;

	for (i = 0; err == NULL && lep_provider_nth(&pi, i) == 0; i++) {
		if (!provider_allowed(sp, opts, pi.name))
			continue;
		/*
		 * What a provider cannot honour is no offer of its; one that
		 * runs nothing yet is priced from its catalog, as one not
		 * built.
		 */
		if (lep_provider_runs_anything(&pi) &&
		    !lep_provider_honours(&pi, sp) &&
		    !only_provider(sp, opts, pi.name))
			continue;
		c = NULL;
		if (pi.has_offers)
			err = driver_offers(&c, sp, opts, pi.name);
		else if (pi.catalog_url != NULL)
			err = catalog_offers(&c, sp, opts, &pi);
		if (c != NULL)
			add_cat(pl, c);
	}
	return err;
}

/* Every allowed offer that holds the spec; passed[] counts each stage. */
static void
scan(struct lep_plan *pl, const struct lep_spec *sp,
    const struct lep_plan_opts *opts, struct lep_catalog *const *cats,
    size_t ncats, size_t passed[ST_OK + 1])
{
	const struct lep_offer	*o;
	struct lep_choice	*c;
	enum stage		 st;
	size_t			 i, k;
	int			 pref;

	for (i = 0; i < ncats; i++) {
		if (!provider_allowed(sp, opts, cats[i]->provider))
			continue;
		lep_strlcpy(pl->providers + strlen(pl->providers),
		    pl->providers[0] ? ", " : "", sizeof(pl->providers) -
		    strlen(pl->providers));
		lep_strlcpy(pl->providers + strlen(pl->providers),
		    cats[i]->provider, sizeof(pl->providers) -
		    strlen(pl->providers));
		for (k = 0; k < cats[i]->n; k++) {
			o = &cats[i]->offers[k];
			pref = 0;
			st = check_offer(sp, opts, o, pl->spot, &pref);
			passed[st]++;
			if (st != ST_OK)
				continue;
			pl->choices = xreallocarray(pl->choices, pl->n + 1,
			    sizeof(*pl->choices));
			c = &pl->choices[pl->n++];
			c->offer = o;
			c->hourly = pl->spot ? o->spot : o->price;
			c->pref = pref;
		}
	}
}

/*
 * When nothing fits: the constraint after which nothing was left, why,
 * and the nearest offers (those that failed only that constraint).
 */
static void
explain_none(struct lep_plan *pl, const struct lep_spec *sp,
    const struct lep_plan_opts *opts, struct lep_catalog *const *cats,
    size_t ncats, const size_t passed[ST_OK + 1])
{
	const struct lep_offer	*o;
	struct lep_choice	*near = NULL;
	enum stage		 st, killer;
	size_t			 i, k, beyond, nnear = 0;
	int			 pref, by_price = 0;

	if (pl->providers[0] == '\0')
		lep_strlcpy(pl->providers, "no provider",
		    sizeof(pl->providers));
	for (killer = ST_ACCEL; killer < ST_OK; killer++) {
		for (beyond = 0, st = killer + 1; st <= ST_OK; st++)
			beyond += passed[st];
		if (beyond == 0)
			break;
	}
	explain(pl, sp, opts, killer);
	for (i = 0; i < ncats && killer != ST_ACCEL; i++) {
		if (!provider_allowed(sp, opts, cats[i]->provider))
			continue;
		for (k = 0; k < cats[i]->n; k++) {
			o = &cats[i]->offers[k];
			pref = 0;
			if (check_offer(sp, opts, o, pl->spot, &pref) != killer)
				continue;
			near = xreallocarray(near, nnear + 1, sizeof(*near));
			near[nnear].offer = o;
			near[nnear].hourly = o->price >= 0 ? o->price : o->spot;
			near[nnear].pref = pref;
			nnear++;
		}
	}
	if (nnear > 1)
		qsort_r(near, nnear, sizeof(*near), cmp_choice, &by_price);
	pl->nnearest = dedupe(near, nnear);
	pl->nearest = near;
}

const struct lep_err *
lep_plan_new(struct lep_plan **out, const struct lep_spec *sp,
    const struct lep_plan_opts *opts)
{
	const struct lep_err	*err;
	struct lep_catalog *const *cats;
	struct lep_plan		*pl;
	size_t			 ncats, i, passed[ST_OK + 1];
	long long		 t0 = lep_now_ms();
	int			 ordered;

	*out = NULL;
	pl = xcalloc(1, sizeof(*pl));
	pl->spot = sp->resources.spot;
	if (sp->kind == LEP_SPEC_JOB)
		pl->machines = pl->machines_max = sp->job.nodes;
	else {
		pl->machines = sp->service.replicas_min;
		pl->machines_max = sp->service.replicas_max;
	}
	if (opts->catalogs != NULL) {
		cats = opts->catalogs;
		ncats = opts->ncatalogs;
	} else {
		if ((err = load_catalogs(pl, sp, opts)) != NULL) {
			lep_plan_free(pl);
			return err;
		}
		cats = pl->cats;
		ncats = pl->ncats;
	}
	pl->load_ms = lep_now_ms() - t0;
	for (i = 0; i < ncats; i++)
		if (provider_allowed(sp, opts, cats[i]->provider))
			pl->scanned += cats[i]->rows ? cats[i]->rows :
			    cats[i]->n;
	t0 = lep_now_ms();
	memset(passed, 0, sizeof(passed));
	scan(pl, sp, opts, cats, ncats, passed);
	ordered = sp->resources.naccels > 1 && !sp->resources.accel_any;
	if (pl->n > 1)
		qsort_r(pl->choices, pl->n, sizeof(*pl->choices), cmp_choice,
		    &ordered);
	pl->n = dedupe(pl->choices, pl->n);
	if (pl->n == 0)
		explain_none(pl, sp, opts, cats, ncats, passed);
	pl->plan_ms = lep_now_ms() - t0;
	*out = pl;
	return NULL;
}

void
lep_plan_free(struct lep_plan *pl)
{
	size_t	 i;

	if (pl == NULL)
		return;
	for (i = 0; i < pl->ncats; i++)
		lep_catalog_free(pl->cats[i]);
	free(pl->cats);
	free(pl->choices);
	free(pl->nearest);
	free(pl);
}

/* The provider a spec runs on (see plan.h). */
const char *
lep_plan_provider(const struct lep_spec *sp)
{
	struct lep_provider_info pi;
	const char		*first = NULL;
	size_t			 i;

	if (sp->placement.nproviders == 0)
		return lep_provider_default();
	/* The first that can honour the spec; else the first built. */
	for (i = 0; i < sp->placement.nproviders; i++) {
		if (lep_provider_info(&pi, sp->placement.providers[i]) != 0 ||
		    !pi.built)
			continue;
		if (lep_provider_honours(&pi, sp))
			return pi.name;
		if (first == NULL)
			first = pi.name;
	}
	return first != NULL ? first : sp->placement.providers[0];
}

static int64_t
dollars_micro(double d)
{
	char	 buf[64];
	int64_t	 v = 0;

	snprintf(buf, sizeof(buf), "%.6f", d);
	(void)lep_money_parse(&v, buf);
	return v;
}

/*
 * Refuse choice c of plan pl on provider pname over the spec's budget:
 * placement.max_hourly against the replicas it starts, service.max_cost
 * against a month (LEP_HOURS_PER_MONTH) at max replicas, job.max_cost
 * against job.max_duration. Errors: OVER_BUDGET, SPEC.
 */
static const struct lep_err *
over_budget(const struct lep_spec *sp, const struct lep_plan *pl,
    const struct lep_choice *c, const char *pname)
{
	int64_t			 hourly, limit;
	char			 a[32], b[32], d[32];

	hourly = c->hourly * pl->machines;
	if (sp->placement.has_max_hourly &&
	    hourly > (limit = dollars_micro(sp->placement.max_hourly)))
		return lep_err_new(LEP_E_OVER_BUDGET, "%s: %d x $%s/h on %s %s "
		    "is $%s/h, over placement.max_hourly $%s/h", sp->file,
		    pl->machines, lep_money_format(a, sizeof(a), c->hourly),
		    pname, c->offer->instance, lep_money_format(b, sizeof(b),
		    hourly), lep_money_format(d, sizeof(d), limit));
	if (sp->kind == LEP_SPEC_SERVICE && sp->service.has_max_cost &&
	    c->hourly * pl->machines_max * LEP_HOURS_PER_MONTH >
	    (limit = dollars_micro(sp->service.max_cost)))
		return lep_err_new(LEP_E_OVER_BUDGET, "%s: a month (%d h) of "
		    "%d x $%s/h on %s is $%s, over service.max_cost $%s",
		    sp->file, LEP_HOURS_PER_MONTH, pl->machines_max,
		    lep_money_format(a, sizeof(a), c->hourly), pname,
		    lep_money_format(b, sizeof(b), c->hourly *
		    pl->machines_max * LEP_HOURS_PER_MONTH),
		    lep_money_format(d, sizeof(d), limit));
	if (sp->kind == LEP_SPEC_JOB && sp->job.has_max_cost) {
		if (sp->job.max_duration == 0)
			return lep_err_new(LEP_E_SPEC, "%s: job.max_cost needs "
			    "job.max_duration, to bound what the job costs",
			    sp->file);
		limit = dollars_micro(sp->job.max_cost);
		if (lep_money_for(c->hourly, pl->machines,
		    sp->job.max_duration * 1000) > limit)
			return lep_err_new(LEP_E_OVER_BUDGET, "%s: %d x $%s/h "
			    "on %s for job.max_duration %llds is $%s, over "
			    "job.max_cost $%s", sp->file, pl->machines,
			    lep_money_format(a, sizeof(a), c->hourly), pname,
			    sp->job.max_duration, lep_money_format(b,
			    sizeof(b), lep_money_for(c->hourly, pl->machines,
			    sp->job.max_duration * 1000)), lep_money_format(d,
			    sizeof(d), limit));
	}
	return NULL;
}

void
lep_sites_free(struct lep_site *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].region);
		free(v[i].instance);
	}
	free(v);
}

void
lep_sites_prefer(struct lep_site *v, size_t n, const char *region)
{
	struct lep_site	 tmp;
	size_t		 i;

	if (region == NULL)
		return;
	for (i = 0; i < n; i++)
		if (strcmp(v[i].region, region) == 0)
			break;
	if (i == n || i == 0)
		return;
	tmp = v[i];
	memmove(v + 1, v, i * sizeof(*v));
	v[0] = tmp;
}

/* Where region is in placement.regions; past the end when it is not. */
static size_t
region_rank(const struct lep_spec *sp, const char *region)
{
	size_t	 i;

	for (i = 0; i < sp->placement.nregions; i++)
		if (strcmp(sp->placement.regions[i], region) == 0)
			break;
	return i;
}

const struct lep_err *
lep_plan_sites(struct lep_site **out, size_t *n_out, int *machines_out,
    const char *home, const struct lep_spec *sp, const char *pname)
{
	const struct lep_err	*err, *first = NULL;
	const struct lep_choice	*c;
	struct lep_plan_opts	 po;
	struct lep_plan		*pl = NULL;
	struct lep_site		*v = NULL, tmp;
	size_t			 n = 0, i, k;

	*out = NULL;
	*n_out = 0;
	memset(&po, 0, sizeof(po));
	po.home = home;
	po.provider = pname;
	if ((err = lep_plan_new(&pl, sp, &po)) != NULL)
		return err;
	if (pl->n == 0) {
		err = lep_err_new(LEP_E_INFEASIBLE, "%s: %s", sp->file,
		    pl->why);
		goto done;
	}
	/* Best first: the first choice seen in a region is its best. */
	for (i = 0; i < pl->n; i++) {
		c = &pl->choices[i];
		for (k = 0; k < n; k++)
			if (strcmp(v[k].region, c->offer->region) == 0)
				break;
		if (k < n)
			continue;
		if ((err = over_budget(sp, pl, c, pname)) != NULL) {
			if (err->code != LEP_E_OVER_BUDGET)
				goto done;
			if (first == NULL)
				first = err;
			err = NULL;
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].region = xstrdup(c->offer->region);
		v[n].instance = xstrdup(c->offer->instance);
		v[n].hourly = c->hourly;
		n++;
	}
	if (n == 0) {
		err = first;
		goto done;
	}
	/* The user's order of regions, when given (an insertion sort). */
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && region_rank(sp, v[k - 1].region) >
		    region_rank(sp, v[k].region); k--) {
			tmp = v[k - 1];
			v[k - 1] = v[k];
			v[k] = tmp;
		}
	*machines_out = pl->machines;
	*out = v;
	*n_out = n;
	v = NULL;
	n = 0;
done:
	lep_sites_free(v, n);
	lep_plan_free(pl);
	return err;
}

void
lep_plan_segment(struct lep_segment *seg, const struct lep_spec *sp,
    const char *pname, const struct lep_site *site, int machines)
{
	memset(seg, 0, sizeof(*seg));
	seg->kind = sp->kind == LEP_SPEC_SERVICE ? "service" : "job";
	seg->model = sp->has_model ? sp->model.name : "";
	seg->provider = (char *)(uintptr_t)pname;
	seg->region = xstrdup(site->region);
	seg->instance = xstrdup(site->instance);
	seg->machines = machines;
	seg->price = site->hourly;
}

/* The first of lep_plan_sites. */
const struct lep_err *
lep_plan_price(struct lep_segment *seg, const char *home,
    const struct lep_spec *sp, const char *pname)
{
	const struct lep_err	*err;
	struct lep_site		*v = NULL;
	size_t			 n = 0;
	int			 machines = 0;

	if ((err = lep_plan_sites(&v, &n, &machines, home, sp, pname)) ==
	    NULL)
		lep_plan_segment(seg, sp, pname, &v[0], machines);
	lep_sites_free(v, n);
	return err;
}
