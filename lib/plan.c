/*
 * plan.c: filter every offer through the spec's constraints in a fixed
 * order (accelerator, count, region/zone, cpus, memory, price), keep the
 * survivors, rank them. Counting where each offer drops out tells, when
 * nothing survives, which constraint ruled everything out.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "error.h"
#include "json.h"
#include "money.h"
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

/* Offers a cluster declares in config.json ("slurm": {"gpus": ...}). */
static const struct lep_err *
cluster_offers(struct lep_catalog **out, const struct lep_config_file *cf,
    const char *provider)
{
	const struct lep_json	*cl = lep_config_get(cf, provider), *gpus, *g;
	const struct lep_err	*err;
	struct lep_catalog	*c;
	struct lep_offer	 o;
	int64_t			 hourly, rate;
	long long		 n, k;
	size_t			 i;

	*out = NULL;
	if (cl == NULL)
		return NULL;
	if ((err = lep_config_rate(&hourly, cf, provider)) != NULL)
		return err;
	c = lep_catalog_new(provider);
	memset(&o, 0, sizeof(o));
	o.instance = "cluster";
	o.acc_name = "";
	o.region = lep_json_get_str(cl, "region") ?
	    lep_json_get_str(cl, "region") : provider;
	o.zone = "";
	o.elastic = 1;
	o.vcpus = lep_json_get_ll(cl, "cpus", &n) == 0 ? (double)n : -1;
	o.mem = lep_json_get_ll(cl, "memory", &n) == 0 ? (double)n : -1;
	o.price = hourly;
	o.spot = -1;
	lep_catalog_add(c, &o);
	gpus = lep_json_get(cl, "gpus");
	for (i = 0; i < lep_json_len(gpus); i++) {
		g = lep_json_at(gpus, i);
		if ((err = lep_config_gpu_rate(&rate, cf, provider,
		    lep_json_key(g))) != NULL) {
			lep_catalog_free(c);
			return err;
		}
		n = (long long)lep_json_number(g);
		o.acc_name = lep_json_key(g);
		for (k = 1; k <= n && k <= 64; k++) {
			o.acc_count = (int)k;
			o.price = hourly + rate * k;
			lep_catalog_add(c, &o);
		}
	}
	*out = c;
	return NULL;
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

/* A slurmrestd to ask: SLURMRESTD_URL, or slurm.url in config.json. */
static int
slurm_reachable(const struct lep_config_file *cf)
{
	const char	*v = getenv("SLURMRESTD_URL");

	return (v != NULL && *v != '\0') ||
	    lep_json_get_str(lep_config_get(cf, "slurm"), "url") != NULL;
}

static int
only_slurm(const struct lep_spec *sp, const struct lep_plan_opts *opts)
{
	if (opts->provider != NULL)
		return strcmp(opts->provider, "slurm") == 0;
	return sp->placement.nproviders == 1 &&
	    strcmp(sp->placement.providers[0], "slurm") == 0;
}

static void
add_cat(struct lep_plan *pl, struct lep_catalog *c)
{
	pl->cats = xreallocarray(pl->cats, pl->ncats + 1, sizeof(*pl->cats));
	pl->cats[pl->ncats++] = c;
}

static const struct lep_err *
load_catalogs(struct lep_plan *pl, const struct lep_spec *sp,
    const struct lep_plan_opts *opts)
{
	const struct lep_err	*err = NULL;
	struct lep_config_file	 cf;
	struct lep_provider	*p = NULL;
	struct lep_config	 pcfg = { opts->home, NULL };
	struct lep_catalog	*c = NULL;
	char			*path;
	size_t			 i;

	if (provider_allowed(sp, opts, "local")) {
		if ((err = lep_provider_open(&p, "local", &pcfg)) == NULL)
			err = lep_provider_offers(&c, p);
		lep_provider_close(p);
		if (err != NULL)
			return err;
		add_cat(pl, c);
	}
	if (provider_allowed(sp, opts, "slurm")) {
		if ((err = lep_config_load(&cf, opts->home)) != NULL)
			return err;
		if (slurm_reachable(&cf)) {
			/* The cluster's own nodes, from slurmrestd. */
			if ((err = lep_provider_open(&p, "slurm",
			    &pcfg)) == NULL)
				err = lep_provider_offers(&c, p);
			lep_provider_close(p);
			p = NULL;
			/* Only a plan that must use slurm fails with it. */
			if (err != NULL && !only_slurm(sp, opts))
				err = NULL;
		} else
			err = cluster_offers(&c, &cf, "slurm");
		lep_config_release(&cf);
		if (err != NULL)
			return err;
		if (c != NULL)
			add_cat(pl, c);
		c = NULL;
	}
	for (i = 0; i < lep_catalog_nproviders; i++) {
		if (!provider_allowed(sp, opts, lep_catalog_providers[i]))
			continue;
		path = lep_catalog_path(opts->home, lep_catalog_providers[i]);
		if (path == NULL)
			return lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no "
			    "price catalog for '%s'", lep_catalog_providers[i]),
			    "'lepton catalog update' fetches them");
		err = lep_catalog_load(&c, lep_catalog_providers[i], path,
		    sp->resources.naccels ? LEP_CATALOG_ACCELERATED : 0);
		free(path);
		if (err != NULL)
			return err;
		add_cat(pl, c);
	}
	return NULL;
}

const struct lep_err *
lep_plan_new(struct lep_plan **out, const struct lep_spec *sp,
    const struct lep_plan_opts *opts)
{
	const struct lep_err	*err;
	struct lep_catalog *const *cats;
	struct lep_plan		*pl;
	struct lep_choice	*near = NULL;
	size_t			 ncats, i, k, passed[ST_OK + 1], nnear = 0;
	long long		 t0 = lep_now_ms();
	enum stage		 st, killer;
	int			 pref, ordered, by_price = 0;

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
			const struct lep_offer	*o = &cats[i]->offers[k];

			pref = 0;
			st = check_offer(sp, opts, o, pl->spot, &pref);
			passed[st]++;
			if (st != ST_OK)
				continue;
			pl->choices = xreallocarray(pl->choices, pl->n + 1,
			    sizeof(*pl->choices));
			pl->choices[pl->n].offer = o;
			pl->choices[pl->n].hourly = pl->spot ? o->spot :
			    o->price;
			pl->choices[pl->n].pref = pref;
			pl->n++;
		}
	}
	ordered = sp->resources.naccels > 1 && !sp->resources.accel_any;
	if (pl->n > 1)
		qsort_r(pl->choices, pl->n, sizeof(*pl->choices), cmp_choice,
		    &ordered);
	pl->n = dedupe(pl->choices, pl->n);
	if (pl->n == 0) {
		if (pl->providers[0] == '\0')
			lep_strlcpy(pl->providers, "no provider",
			    sizeof(pl->providers));
		/* The constraint after which nothing was left. */
		for (killer = ST_ACCEL; killer < ST_OK; killer++) {
			size_t	 beyond = 0;

			for (st = killer + 1; st <= ST_OK; st++)
				beyond += passed[st];
			if (beyond == 0)
				break;
		}
		explain(pl, sp, opts, killer);
		/* The nearest: those that failed only that constraint. */
		for (i = 0; i < ncats && killer != ST_ACCEL; i++) {
			if (!provider_allowed(sp, opts, cats[i]->provider))
				continue;
			for (k = 0; k < cats[i]->n; k++) {
				const struct lep_offer *o = &cats[i]->offers[k];

				pref = 0;
				if (check_offer(sp, opts, o, pl->spot,
				    &pref) != killer)
					continue;
				near = xreallocarray(near, nnear + 1,
				    sizeof(*near));
				near[nnear].offer = o;
				near[nnear].hourly = o->price >= 0 ? o->price :
				    o->spot;
				near[nnear].pref = pref;
				nnear++;
			}
		}
		if (nnear > 1)
			qsort_r(near, nnear, sizeof(*near), cmp_choice,
			    &by_price);
		nnear = dedupe(near, nnear);
		pl->nearest = near;
		pl->nnearest = nnear;
	}
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
