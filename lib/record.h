/*
 * record.h: record a finished job, whatever provider ran it.
 */
#ifndef LEPTON_LIB_RECORD_H
#define LEPTON_LIB_RECORD_H

struct lep_err;
struct lep_spec;

/* How a job ended, as its runner saw it. */
struct lep_job_result {
	const char		*id;
	const struct lep_spec	*spec;
	const char		*provider;
	const char		*state;		/* succeeded failed cancelled */
	const char		*message;	/* or NULL */
	int			 exit_code;
	long long		 started, ended;	/* epoch seconds */
	const char		*output;	/* job.outputs.model, absolute */
};

/*
 * Record a finished job (one commit: jobs/ID.json, and on success the
 * output's manifest and tag), taking the state lock itself. *model_out:
 * "iris@v3" when a version was registered, else NULL; caller frees.
 * *why_out: why nothing was registered, or NULL; caller frees.
 */
const struct lep_err *lep_record_job(char **model_out, char **why_out,
	    const char *home, const struct lep_job_result *);

#endif
