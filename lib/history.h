/*
 * history.h: a deployment's revisions, as the state repository's log
 * records them, and rollback to one of them.
 */
#ifndef LEPTON_LIB_HISTORY_H
#define LEPTON_LIB_HISTORY_H

#include <stddef.h>

struct lep_ctx;
struct lep_deployment;
struct lep_err;

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
	char		*outcome;	/* ready, failed, stopped,
					   no-capacity */
	char		*command;	/* deploy, rollback, stop */
	char		*subject;
	char		*region;	/* where it started, or NULL */
	char		*instance;
	char		**attempts;	/* the offers tried, in order, when
					   it moved (lib/failover.h) */
	size_t		 nattempts;
};

/*
 * Newest first, at most max (0: all). Errors: NOT_FOUND (no such
 * deployment in the history), FAILED (the state repository cannot be
 * read). *out: lep_history_free.
 */
const struct lep_err *lep_history_list(struct lep_revision **out,
	    size_t *n_out, struct lep_ctx *, const char *name, size_t max);
void	 lep_history_free(struct lep_revision *, size_t);

/*
 * Put the deployment back on an earlier revision (to: a revision number,
 * a model version or a commit id; NULL: the last healthy one before the
 * current), as a new commit restoring that revision's record and applied
 * to the provider. *to_out: the number of the revision returned to.
 * Errors: NOT_FOUND (no such revision), CONFLICT (it is a stop), FAILED
 * (the state repository cannot be read), LOCKED, and deploy's.
 */
const struct lep_err *lep_history_rollback(struct lep_deployment **out,
	    size_t *to_out, struct lep_ctx *, const char *name,
	    const char *to, long long lock_ms);

#endif
