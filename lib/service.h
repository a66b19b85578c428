/*
 * service.h: deployments across providers: choose the provider, register
 * what is deployed (HOME/deployments/NAME.json), skip a deploy that would
 * change nothing, and find a deployment's endpoint for predict.
 */
#ifndef LEPTON_LIB_SERVICE_H
#define LEPTON_LIB_SERVICE_H

#include <stddef.h>

struct lep_ctx;
struct lep_failover;
struct lep_segment;
struct lep_site;
struct lep_deployment;
struct lep_err;
struct lep_json;
struct lep_logs_req;
struct lep_provider;
struct lep_spec;
struct lep_state;
struct lep_txn;

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

/*
 * The provider the record of deployment name names, opened. Errors:
 * NOT_FOUND, the provider's. *out: lep_provider_close.
 */
const struct lep_err *lep_service_provider(struct lep_provider **out,
	    struct lep_ctx *, const char *name);

/* Errors: NOT_FOUND, NOT_RUNNING. */
const struct lep_err *lep_service_target(struct lep_target *,
	    struct lep_ctx *, const char *name);
void	 lep_target_release(struct lep_target *);

/*
 * For rollback (lib/history.c), which applies a recorded revision again
 * the way deploy applies a new one.
 */

/* Where a deployment's record lives in the state repository. Caller frees. */
char	*lep_service_state_path(const char *name);
/*
 * The trailer line every commit about deployment name holds, so that one
 * which leaves its record as it was still shows in its history. Caller
 * frees.
 */
char	*lep_service_state_mark(const char *name);
struct lep_state_entry;
/*
 * The number of e[i], of n commits newest first: its Lepton-Revision
 * trailer, or its place for commits from before numbers were written.
 */
size_t	 lep_service_number(const struct lep_state_entry *e, size_t i,
	    size_t n);
/*
 * The next revision number of name: one more than the record's and than
 * the newest commit's. Errors: as lep_state_log.
 */
const struct lep_err *lep_service_next_number(int *out, struct lep_state *,
	    const char *name, const struct lep_json *rec);

/*
 * A recorded revision's spec (its "spec" and "dir"; label names it in
 * errors) and its model version's files (*model_dir_out, NULL without a
 * model). Errors: SPEC, NOT_FOUND (the model version). Caller frees both
 * (lep_spec_free, free).
 */
const struct lep_err *lep_service_record_spec(struct lep_spec **sp_out,
	    char **model_dir_out, struct lep_ctx *, struct lep_state *,
	    const struct lep_json *rec, const char *label);

/*
 * Open provider pname, check that sp fits it, and price the revision
 * into *seg (its region and instance: caller frees): the first offer of
 * lep_plan_sites, or the region the deployment is recorded in on pname. *out:
 * lep_provider_close. Errors: the provider's, INFEASIBLE, OVER_BUDGET.
 */
const struct lep_err *lep_service_prepare(struct lep_provider **out,
	    struct lep_segment *seg, struct lep_ctx *, const struct lep_spec *,
	    const char *pname);

/*
 * A deployment recorded on another provider must be stopped there before
 * it runs on pname. Errors: CONFLICT, and reading its record's.
 */
const struct lep_err *lep_service_movable(struct lep_ctx *, const char *name,
	    const char *pname);

/* What --dry-run reports: name "planned" on pname. lep_deployment_free. */
struct lep_deployment *lep_service_planned(const char *name,
	    const char *pname);

/* What one apply of a spec to its provider needs: all borrowed but record. */
struct lep_apply {
	const struct lep_spec	*sp;
	const char		*pname;
	const char		*model;		/* or NULL */
	const char		*version;
	const char		*model_dir;
	const char		*hex;
	const char		*pin;		/* lep_deploy_req's, or NULL */
	const char		*subject;	/* of the commit */
	const char		*command;	/* deploy, rollback */
	struct lep_txn		*txn;		/* the record joins it */
	char			*record;	/* owned: joins the txn */
	/* The offer it runs on without sites (a rollback's), or NULL. */
	const struct lep_segment *seg;
	/*
	 * The offers to try in order (lep_plan_sites), each machines wide,
	 * and the attempts so far (NULL: one attempt, no failover). When
	 * every site refuses for capacity, apply records nothing, returns
	 * CAPACITY and leaves in rev the number the revision took: the
	 * caller tries another provider, or ends with lep_service_refused.
	 */
	const struct lep_site	*sites;
	size_t			 nsites;
	int			 machines;
	struct lep_failover	*fo;
	int			 rev;
};

/*
 * Start the revision on p, then record it in one commit whose outcome
 * says how it went; if it failed and the revision before was healthy,
 * that one serves on and a second commit restores its record. Under the
 * state lock, st open for writing; a->record is taken whatever happens.
 * Errors: deploy's. *out: lep_deployment_free.
 */
const struct lep_err *lep_service_apply(struct lep_deployment **out,
	    struct lep_ctx *, struct lep_provider *, struct lep_state *,
	    struct lep_apply *);

/*
 * After the last refusal (last) of a failover (a as the last apply left
 * it): one commit, under a->rev, that leaves the record as it was and
 * lists the attempts (with the model a->txn registered). Returns CAPACITY
 * naming them, or the commit's error.
 */
const struct lep_err *lep_service_refused(struct lep_state *,
	    struct lep_apply *a, const struct lep_err *last);

/*
 * A revision recorded as interrupted (its deploy was, with Ctrl-C) that
 * serves now is recorded as ready, in a commit of its own with its
 * number: rollback can then return to it. Errors: as lep_state_commit.
 */
struct lep_provider;
const struct lep_err *lep_service_settle(struct lep_ctx *,
	    struct lep_provider *, struct lep_state *, const char *name);
/* The same, with the provider the record names. */
const struct lep_err *lep_service_settle_named(struct lep_ctx *,
	    struct lep_state *, const char *name);

#endif
