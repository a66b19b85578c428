/*
 * service.h: deployments across providers: choose the provider, register
 * what is deployed (HOME/deployments/NAME.json), skip a deploy that would
 * change nothing, and find a deployment's endpoint for predict.
 */
#ifndef LEPTON_LIB_SERVICE_H
#define LEPTON_LIB_SERVICE_H

#include <stddef.h>

struct lep_ctx;
struct lep_deployment;
struct lep_err;
struct lep_logs_req;
struct lep_spec;

/*
 * Deploy or update. Errors: SPEC, INFEASIBLE, UNSUPPORTED, LOCKED,
 * TIMEOUT (readiness), FAILED, INTERRUPTED. *out: lep_deployment_free.
 */
const struct lep_err *lep_service_deploy(struct lep_deployment **out,
	    struct lep_ctx *, const struct lep_spec *, long long lock_ms);
/* Errors: NOT_FOUND. */
const struct lep_err *lep_service_get(struct lep_deployment **out,
	    struct lep_ctx *, const char *name);
/* Every recorded deployment, sorted by name; free each, then the array. */
const struct lep_err *lep_service_list(struct lep_deployment ***out,
	    size_t *n_out, struct lep_ctx *);
const struct lep_err *lep_service_stop(struct lep_deployment **out,
	    struct lep_ctx *, const char *name, int grace_s,
	    long long lock_ms);
const struct lep_err *lep_service_logs(struct lep_ctx *, const char *name,
	    const struct lep_logs_req *);
/*
 * The URL to POST predictions to and the bearer token (caller wipes and
 * frees both). Errors: NOT_FOUND, NOT_RUNNING.
 */
const struct lep_err *lep_service_target(char **url_out, char **token_out,
	    struct lep_ctx *, const char *name);

#endif
