/*
 * job.h: training jobs: submit through the spec's provider, follow, and
 * when one ends, record it in the state repository and register its
 * output as the model's next version (lib/record.c does that part).
 */
#ifndef LEPTON_LIB_JOB_H
#define LEPTON_LIB_JOB_H

#include <stddef.h>

struct lep_ctx;
struct lep_err;
struct lep_job;
struct lep_spec;

/* Check, price and submit a job spec. Errors: deploy's, and USAGE. */
const struct lep_err *lep_job_train(struct lep_job **out, struct lep_ctx *,
	    const struct lep_spec *, long long lock_ms);
/* Errors: NOT_FOUND. */
const struct lep_err *lep_job_get(struct lep_job **out, struct lep_ctx *,
	    const char *id);
/* Every job, newest first; free each with lep_job_free, then the array. */
const struct lep_err *lep_job_list(struct lep_job ***out, size_t *n_out,
	    struct lep_ctx *);
const struct lep_err *lep_job_cancel(struct lep_job **out, struct lep_ctx *,
	    const char *id, int grace_s);
/* The provider that runs the job. Errors: NOT_FOUND. */
struct lep_provider;
const struct lep_err *lep_job_provider(struct lep_provider **out,
	    struct lep_ctx *, const char *id);
/*
 * Follow job j until it ends: its log on stderr (unless quiet), its
 * provider asked every poll_ms. *out: the job as it ended (caller frees
 * with lep_job_free). Errors: INTERRUPTED (Ctrl-C: the job goes on),
 * and lep_job_get's.
 */
const struct lep_err *lep_job_follow(struct lep_job **out, struct lep_ctx *,
	    const struct lep_job *j, int quiet);
/* Is there a job with this id? */
int	 lep_job_exists(struct lep_ctx *, const char *id);

#endif
