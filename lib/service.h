/*
 * service.h: deployments across providers: choose the provider, register
 * what is deployed (HOME/deployments/NAME.json), skip a deploy that would
 * change nothing, and find a deployment's endpoint for predict.
 */
#ifndef LEPTON_LIB_SERVICE_H
#define LEPTON_LIB_SERVICE_H

#include <stddef.h>

struct lep_ctx;
struct lep_segment;
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
/* Where and how to ask a deployment: all owned; lep_target_release. */
struct lep_target {
	char	*base;		/* the endpoint, "http://127.0.0.1:PORT" */
	char	*token;		/* bearer token (wiped on release) */
	char	*path;		/* service.path, for protocol json */
	char	*protocol;	/* json, kserve-v2, openai */
	char	*model;		/* the model's name (KServe's URL) */
};

/* Errors: NOT_FOUND, NOT_RUNNING. */
const struct lep_err *lep_service_target(struct lep_target *,
	    struct lep_ctx *, const char *name);
void	 lep_target_release(struct lep_target *);

/* One revision of a deployment: a commit that changed its record. */
struct lep_revision {
	size_t		 number;	/* 1 = the first */
	char		*commit;
	char		 blob[41];	/* the record's blob ("0..." if none) */
	long long	 time;
	char		*author;
	char		*model;		/* "iris@v3", or NULL */
	char		*spec_sha256;
	char		*provider;
	char		*outcome;	/* ready, failed, stopped */
	char		*command;	/* deploy, rollback, stop */
	char		*subject;
};

/* Newest first, at most max (0: all). Errors: NOT_FOUND. */
const struct lep_err *lep_service_history(struct lep_revision **out,
	    size_t *n_out, struct lep_ctx *, const char *name, size_t max);
void	 lep_revisions_free(struct lep_revision *, size_t);

/*
 * Put the deployment back on an earlier revision (to: a revision number,
 * a model version or a commit id; NULL: the last healthy one before the
 * current), as a new commit restoring that revision's record and applied
 * to the provider. *to_out: the number of the revision returned to.
 * Errors: NOT_FOUND (no such revision), LOCKED, and deploy's.
 */
const struct lep_err *lep_service_rollback(struct lep_deployment **out,
	    size_t *to_out, struct lep_ctx *, const char *name,
	    const char *to, long long lock_ms);

#endif
