/*
 * failover.h: the offers a deploy or a train tries, in order, while
 * providers refuse them for capacity (LEP_E_CAPACITY): each region of a
 * provider (lep_plan_sites), then the next provider of
 * placement.providers. Every attempt is said on stderr as it moves on,
 * and kept for the record (history trailers, the job record).
 */
#ifndef LEPTON_LIB_FAILOVER_H
#define LEPTON_LIB_FAILOVER_H

#include <stddef.h>

struct lep_buf;
struct lep_err;
struct lep_json;
struct lep_out;
struct lep_spec;

struct lep_attempt {
	char	*provider;
	char	*region;	/* NULL: a provider without regions */
	char	*instance;	/* likewise */
	char	*outcome;	/* "no capacity (REASON)", "failed: ...",
				   or NULL: it started */
};

struct lep_failover {
	struct lep_out		*out;		/* borrowed: where to say */
	struct lep_attempt	*v;		/* owned, oldest first */
	size_t			 n;
};

/*
 * The providers to try sp on, in order: lep_plan_provider's, then the
 * others of placement.providers that are built and can honour sp. *out:
 * borrowed names (from the table or sp) in an array the caller frees.
 */
size_t	 lep_failover_providers(const char ***out, const struct lep_spec *);

struct lep_provider;
struct lep_site;

/*
 * lep_plan_sites for sp on the open provider p (named pname), with p's
 * home region (lep_provider_home_region: the cloud CLI's own) first when
 * sp names no placement.regions. Errors and *out: lep_plan_sites'.
 */
const struct lep_err *lep_failover_sites(struct lep_site **out,
	    size_t *n_out, int *machines_out, const char *home,
	    const struct lep_spec *sp, struct lep_provider *p,
	    const char *pname);

void	 lep_failover_init(struct lep_failover *, struct lep_out *);
void	 lep_failover_release(struct lep_failover *);

/*
 * An attempt begins on provider (region and instance, or NULL). When the
 * one before was refused, say on stderr where it moves to.
 */
void	 lep_failover_begin(struct lep_failover *, const char *provider,
	    const char *region, const char *instance);
/*
 * The current attempt ended with err (NULL: it started). Returns whether
 * to try the next offer: err is a capacity refusal.
 */
int	 lep_failover_end(struct lep_failover *, const struct lep_err *err);
/* A provider that could not be tried at all (err says why), said so. */
void	 lep_failover_skip(struct lep_failover *, const char *provider,
	    const struct lep_err *err);
/* Did any attempt move on (so that the record lists them)? */
int	 lep_failover_moved(const struct lep_failover *);

/* "aws us-east-1 ml.m5.large: no capacity (X)"; last: the last's outcome
   when it started. Caller frees. */
char	*lep_failover_line(const struct lep_attempt *, const char *last);
/* The attempts as one "Lepton-Attempt: LINE" trailer each, on b. */
void	 lep_failover_trailers(const struct lep_failover *, struct lep_buf *b,
	    const char *last);
/* The attempts as a JSON array of {provider, region, instance, outcome}. */
struct lep_json *lep_failover_json(const struct lep_failover *,
	    const char *last);
/*
 * Every offer refused for capacity: CAPACITY naming each attempt, with a
 * hint (a spec that pins one region is told so). err: the last refusal.
 */
const struct lep_err *lep_failover_error(const struct lep_failover *,
	    const struct lep_spec *, const struct lep_err *err);

#endif
