/*
 * trailer.h: the "Key: value" trailers that end every commit message in
 * the state repository, written and read in one place.
 */
#ifndef LEPTON_LIB_TRAILER_H
#define LEPTON_LIB_TRAILER_H

#include <stddef.h>

struct lep_buf;

/* The keys lepton writes, and reads back for history and rollback. */
#define LEP_TRAILER_COMMAND	"Lepton-Command"	/* deploy, stop... */
#define LEP_TRAILER_DEPLOYMENT	"Lepton-Deployment"
#define LEP_TRAILER_JOB		"Lepton-Job"
#define LEP_TRAILER_PROVIDER	"Lepton-Provider"
#define LEP_TRAILER_MODEL	"Lepton-Model"		/* "iris@v3" */
#define LEP_TRAILER_SPEC	"Lepton-Spec-Sha256"
#define LEP_TRAILER_OUTCOME	"Lepton-Outcome"	/* ready, failed... */
#define LEP_TRAILER_REVISION	"Lepton-Revision"	/* the number, "7" */
#define LEP_TRAILER_REGION	"Lepton-Region"		/* where it runs */
#define LEP_TRAILER_INSTANCE	"Lepton-Instance"	/* on what */
/* One per offer tried, in order (lib/failover.h), when it moved. */
#define LEP_TRAILER_ATTEMPT	"Lepton-Attempt"

struct lep_trailer {
	const char	*key;		/* "Lepton-Command" */
	const char	*value;		/* NULL: the line is left out */
};

/*
 * Append subject, a blank line, then one "Key: value" line for each of
 * the n trailers that has a value, in order, each ending in a newline.
 */
void	 lep_trailer_format(struct lep_buf *, const char *subject,
	    const struct lep_trailer *, size_t n);
/* The value of msg's first "key: value" line, or NULL. Caller frees. */
char	*lep_trailer_get(const char *msg, const char *key);
/*
 * Every "key: value" line of msg, in order: *out (caller frees each,
 * then the array), and the count.
 */
size_t	 lep_trailer_get_all(char ***out, const char *msg, const char *key);

#endif
