/*
 * plan.h: every offer of every allowed provider that can hold a spec,
 * ranked by price (or by the spec's order of accelerators), with the
 * reason when none can.
 */
#ifndef LEPTON_LIB_PLAN_H
#define LEPTON_LIB_PLAN_H

#include <stddef.h>
#include <stdint.h>

struct lep_catalog;
struct lep_err;
struct lep_offer;
struct lep_out;
struct lep_out;
struct lep_segment;
struct lep_spec;

struct lep_plan_opts {
	const char	*home;		/* for config and user catalogs */
	const char	*provider;	/* --provider: only this one */
	const char	*region;	/* --region: only this one */
	/* Catalogs to use instead of loading them (tests); not owned. */
	struct lep_catalog *const *catalogs;
	size_t		 ncatalogs;
	/* Warnings (a provider left out of the plan, and why), or NULL. */
	struct lep_out	*out;
};

struct lep_choice {
	const struct lep_offer	*offer;
	int64_t			 hourly;	/* one machine, as the spec asks
						   (spot or on-demand) */
	int			 pref;		/* index in an ordered list */
};

struct lep_plan {
	struct lep_choice	*choices;	/* feasible, best first, one
						   per instance and region */
	size_t			 n;
	struct lep_choice	*nearest;	/* when n == 0: the closest */
	size_t			 nnearest;
	char			 why[768];	/* when n == 0 */
	size_t			 scanned;	/* offers looked at */
	int			 machines;	/* per offer: nodes or replicas */
	int			 machines_max;	/* replicas max */
	int			 spot;
	long long		 load_ms, plan_ms;
	struct lep_catalog	**cats;		/* owned */
	size_t			 ncats;
	char			 providers[160]; /* those searched */
};

/*
 * Plan sp. A spec nothing can hold is not an error here: n is 0 and why
 * says which constraint ruled everything out. Errors: catalogs that cannot
 * be read, a bad config. *out: lep_plan_free.
 */
const struct lep_err *lep_plan_new(struct lep_plan **out,
	    const struct lep_spec *sp, const struct lep_plan_opts *);
void	 lep_plan_free(struct lep_plan *);

/*
 * The provider a spec runs on: the first built one in placement.providers,
 * or the default. Borrowed (from the table or the spec).
 */
const char *lep_plan_provider(const struct lep_spec *);
/* One offer to try: a region of a provider, its best instance there. */
struct lep_site {
	char	*region;	/* owned */
	char	*instance;	/* owned */
	int64_t	 hourly;	/* one machine, as the spec asks */
};

/*
 * The offers of provider pname that sp may be created on, in the order to
 * try them (lib/failover.h): one per region, the best-ranked instance
 * there that fits the budget (max_hourly, service.max_cost, job.max_cost);
 * the regions in placement.regions order when given, else the plan's
 * (cheapest first). *machines_out: per offer, nodes or replicas.
 * Errors: INFEASIBLE, OVER_BUDGET (when every offer is over: the best
 * one's), SPEC. *out (n_out > 0): lep_sites_free.
 */
const struct lep_err *lep_plan_sites(struct lep_site **out, size_t *n_out,
	    int *machines_out, const char *home, const struct lep_spec *,
	    const char *pname);
void	 lep_sites_free(struct lep_site *, size_t);
/*
 * Move the site in region (when there is one) to the front, the others
 * keeping their order: the provider's home region goes first when the
 * spec names no regions. region may be NULL.
 */
void	 lep_sites_prefer(struct lep_site *, size_t, const char *region);
/*
 * What the ledger records for site: provider, kind and model borrowed
 * (from pname and sp), region and instance for the caller to free.
 */
void	 lep_plan_segment(struct lep_segment *seg, const struct lep_spec *,
	    const char *pname, const struct lep_site *site, int machines);
/*
 * Price sp on provider pname: its first offer (see lep_plan_sites).
 * Errors: INFEASIBLE, OVER_BUDGET, SPEC. *seg: what the ledger records;
 * free its region and instance.
 */
const struct lep_err *lep_plan_price(struct lep_segment *seg,
	    const char *home, const struct lep_spec *, const char *pname);

/* A plan priced for `lepton cost`. */
struct lep_plan_cost {
	const struct lep_spec	*spec;		/* borrowed */
	struct lep_plan		*plan;		/* owned; n > 0 */
	double			 hours;
	int64_t			*totals;	/* per choice: hours x machines */
	int64_t			 month_min;	/* a service: a month at min */
	int64_t			 month_max;	/* and max replicas; else -1 */
};

/*
 * Plan sp and price every choice over hours (<= 0: a job's max_duration,
 * else 1). Says on diag (-v) how long the plan took. Errors: those of
 * lep_plan_new, INFEASIBLE (with the nearest offers as its hint).
 * *out borrows sp; free with lep_plan_cost_free.
 */
const struct lep_err *lep_plan_cost(struct lep_plan_cost **out,
	    struct lep_out *diag, const struct lep_spec *sp,
	    const struct lep_plan_opts *, double hours);
/* The cheapest offers (all of them with all), as a table or JSON. */
void	 lep_plan_cost_print(struct lep_out *, const struct lep_plan_cost *,
	    int all);
void	 lep_plan_cost_free(struct lep_plan_cost *);

#endif
