/*
 * provider.h (lib): the only way into a provider's ops table. A missing
 * hook becomes LEP_E_UNSUPPORTED, errors are tagged with the provider's
 * name, and every call is timed for -v.
 */
#ifndef LEPTON_LIB_PROVIDER_H
#define LEPTON_LIB_PROVIDER_H

#include "../providers/provider.h"

struct lep_provider;

/* Errors: NOT_FOUND (unknown name), UNSUPPORTED (known, not built). */
const struct lep_err *lep_provider_open(struct lep_provider **out,
	    const char *name, const struct lep_config *);
void	 lep_provider_close(struct lep_provider *);	/* accepts NULL */
const char *lep_provider_name(const struct lep_provider *);

const struct lep_err *lep_provider_check(struct lep_provider *,
	    const struct lep_spec *);
const struct lep_err *lep_provider_deploy(struct lep_deployment **out,
	    struct lep_provider *, const struct lep_deploy_req *);
const struct lep_err *lep_provider_status(struct lep_deployment **out,
	    struct lep_provider *, const char *name);
const struct lep_err *lep_provider_logs(struct lep_provider *,
	    const char *name, const struct lep_logs_req *, struct lep_out *);
const struct lep_err *lep_provider_remove(struct lep_deployment **out,
	    struct lep_provider *, const char *name, int grace_s);
const struct lep_err *lep_provider_endpoint(char **url_out, char **token_out,
	    struct lep_provider *, const char *name);

const struct lep_err *lep_provider_update(struct lep_deployment **out,
	    struct lep_provider *, const char *name, int revision,
	    const char *action);
const struct lep_err *lep_provider_submit(struct lep_job **out,
	    struct lep_provider *, const struct lep_submit_req *);
const struct lep_err *lep_provider_job_status(struct lep_job **out,
	    struct lep_provider *, const char *id);
const struct lep_err *lep_provider_cancel(struct lep_job **out,
	    struct lep_provider *, const char *id, int grace_s);

/* Errors: UNSUPPORTED when the provider has no offers of its own. */
/*
 * The values of the secrets named, from lepton's environment, as a JSON
 * object (free with lep_json_free_wiped). Errors: AUTH (one is not set;
 * the hint names 'lepton COMMAND').
 */
const struct lep_err *lep_provider_secret_env(struct lep_json **out,
	    const char *const *names, size_t n, const char *command);

/* What the provider found about itself (see provider.h's probe). */
const struct lep_err *lep_provider_probe(struct lep_json **report,
	    struct lep_provider *);
const struct lep_err *lep_provider_offers(struct lep_catalog **out,
	    struct lep_provider *);

/* The deployment as JSON (for --json and the record). */
struct lep_json *lep_deployment_json(const struct lep_deployment *);

#endif
