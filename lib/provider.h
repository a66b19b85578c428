/*
 * provider.h (lib): the only way into a provider's ops table. A missing
 * hook becomes LEP_E_UNSUPPORTED, errors are tagged with the provider's
 * name, and every call is timed for -v.
 */
#ifndef LEPTON_LIB_PROVIDER_H
#define LEPTON_LIB_PROVIDER_H

#include <stddef.h>

#include "types.h"

struct lep_catalog;
struct lep_err;
struct lep_spec;

struct lep_provider;

/* A provider as the table lists it (see providers/provider.h). */
struct lep_provider_info {
	const char	*name;
	int		 built;
	unsigned int	 caps;		/* LEP_CAP_* */
	int		 poll_ms;	/* how often to ask it (0: not built) */
	const char	*catalog_url;	/* its public price catalog, or NULL */
	int		 catalog_flags;	/* LEP_CATALOG_* */
	int		 has_offers;	/* it prices offers itself */
};

/* The i-th provider lepton knows, in table order: 0, or -1 past the end. */
int	 lep_provider_nth(struct lep_provider_info *out, size_t i);
/* By name: 0, or -1 when lepton knows no such provider. */
int	 lep_provider_info(struct lep_provider_info *out, const char *name);
/*
 * Does the driver run anything yet (a service or a job)? One that does
 * not (gcp: credentials only, so far) is priced from its public catalog,
 * as one not built.
 */
int	 lep_provider_runs_anything(const struct lep_provider_info *);
/*
 * Can pi honour every key of sp its capabilities cover? (lep_provider_check
 * refuses, with exit 9, what it cannot.)
 */
int	 lep_provider_honours(const struct lep_provider_info *pi,
	    const struct lep_spec *sp);
/*
 * What lep_provider_check refuses by capabilities alone, without opening
 * the provider (lepton validate): UNSUPPORTED naming the provider and the
 * key; NULL when it honours sp, or is unknown or not built (which
 * lep_provider_open reports).
 */
const struct lep_err *lep_provider_refuses(const char *name,
	    const struct lep_spec *sp);
/* Where a spec without placement.providers runs: the first built row. */
const char *lep_provider_default(void);
/*
 * Give the spec checker the table's names (placement.providers); call
 * once at start, before any spec is read.
 */
void	 lep_provider_init(void);
/*
 * When argv[1] names a provider's hidden entry point (a supervisor, a job
 * runner), run it and return 1 with *rc its exit status; else return 0.
 */
int	 lep_provider_main(int *rc, int argc, char **argv);

/*
 * Tests only: look providers up in t (n rows, with fake drivers) instead
 * of providers/table.c; NULL goes back to it. Call lep_spec_set_providers
 * too, for specs that name them.
 */
struct lep_provider_entry;
void	 lep_provider_table_use(const struct lep_provider_entry *t, size_t n);

/* Errors: NOT_FOUND (unknown name), UNSUPPORTED (known, not built). */
const struct lep_err *lep_provider_open(struct lep_provider **out,
	    const char *name, const struct lep_config *);
void	 lep_provider_close(struct lep_provider *);	/* accepts NULL */
const char *lep_provider_name(const struct lep_provider *);
/*
 * Does p create on the region and instance lib/ gives it (LEP_CAP_OFFER),
 * so that a refusal for capacity moves on to its next region?
 */
int	 lep_provider_takes_offer(const struct lep_provider *);

const struct lep_err *lep_provider_check(struct lep_provider *,
	    const struct lep_spec *);
const struct lep_err *lep_provider_deploy(struct lep_deployment **out,
	    struct lep_provider *, const struct lep_deploy_req *);
/* The provider's pin of sp (see its ops), or *out NULL when it has none. */
const struct lep_err *lep_provider_pin(char **out, struct lep_provider *,
	    const struct lep_spec *);
const struct lep_err *lep_provider_status(struct lep_deployment **out,
	    struct lep_provider *, const char *name);
const struct lep_err *lep_provider_logs(struct lep_provider *,
	    const char *name, const struct lep_logs_req *, struct lep_out *);
const struct lep_err *lep_provider_remove(struct lep_deployment **out,
	    struct lep_provider *, const char *name, int grace_s);
const struct lep_err *lep_provider_endpoint(char **url_out, char **token_out,
	    struct lep_provider *, const char *name);

/* How long a signature from a provider's sign hook may be used. */
#define LEP_SIGN_VALID_S	240
/*
 * The header lines that sign one request to name's endpoint (see the
 * ops' sign), or *n 0 and *lines NULL when the provider needs none.
 * *lines: lep_provider_sign_free.
 */
const struct lep_err *lep_provider_sign(char ***lines, size_t *n,
	    struct lep_provider *, const char *name, const char *method,
	    const char *url, const void *body, size_t len);
/* Does the provider sign requests (lep_provider_sign)? */
int	 lep_provider_signs(const struct lep_provider *);
void	 lep_provider_sign_free(char **lines, size_t n);
/*
 * The region the provider's own configuration names (the hook's comment
 * in providers/provider.h), or NULL; caller frees.
 */
char	*lep_provider_home_region(struct lep_provider *);

const struct lep_err *lep_provider_update(struct lep_deployment **out,
	    struct lep_provider *, const char *name, int revision,
	    const char *action);
const struct lep_err *lep_provider_submit(struct lep_job **out,
	    struct lep_provider *, const struct lep_submit_req *);
const struct lep_err *lep_provider_job_status(struct lep_job **out,
	    struct lep_provider *, const char *id);
const struct lep_err *lep_provider_cancel(struct lep_job **out,
	    struct lep_provider *, const char *id, int grace_s);

/* What the provider found about itself (see provider.h's probe). */
const struct lep_err *lep_provider_probe(struct lep_json **report,
	    struct lep_provider *);
const struct lep_err *lep_provider_offers(struct lep_catalog **out,
	    struct lep_provider *);

#endif
