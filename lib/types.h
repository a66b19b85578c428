/*
 * types.h: what every layer passes around: a deployment and a job as a
 * provider reports them, and the requests that start them. Drivers fill
 * them; lib/ and cmd/ read them. No provider is named here.
 */
#ifndef LEPTON_LIB_TYPES_H
#define LEPTON_LIB_TYPES_H

#include <stddef.h>

struct lep_json;
struct lep_out;
struct lep_spec;

struct lep_config {
	const char	*home;		/* LEPTON_HOME */
	struct lep_out	*out;		/* progress and warnings */
};

struct lep_replica {
	int		 index;
	int		 revision;
	long		 pid;		/* 0: not running */
	int		 port;
	char		 state[16];	/* starting ready restarting exited */
	int		 restarts;
};

struct lep_deployment {
	char			*name;
	char			*provider;
	char			*state;		/* starting running degraded
						   stopped failed */
	char			*message;	/* why, when not running */
	char			*endpoint;	/* stable base URL */
	char			*spec_sha256;
	char			*log_dir;
	int			 revision;
	int			 ready;
	int			 desired;
	long long		 created;	/* epoch seconds */
	long long		 updated;
	long			 supervisor_pid;
	struct lep_replica	*replicas;
	size_t			 nreplicas;
	int			 unchanged;	/* deploy had nothing to do */
	int			 canary;	/* a revision taking a share */
	int			 canary_percent;
	struct lep_replica	*canary_replicas;
	size_t			 ncanary;
};

struct lep_deploy_req {
	const struct lep_spec	*spec;
	const char		*spec_sha256;
	const char		*model_dir;	/* absolute, or NULL */
	int			 revision;
	const char *const	*secret_names;	/* values from environ */
	size_t			 nsecrets;
	/*
	 * What the provider's pin hook resolved the spec to (an image's
	 * ID), or NULL: a deploy given one runs exactly that.
	 */
	const char		*pin;
	/*
	 * The offer to create on: a region and an instance type of the
	 * provider's catalog, as the planner chose them, or NULL for a
	 * provider without LEP_CAP_OFFER (one that has no regions). No
	 * capacity there: return lep_err_capacity(), and lib/ tries the
	 * next offer.
	 */
	const char		*region;
	const char		*instance;
};

/* A job as its provider reports it. */
struct lep_job {
	char		*id;
	char		*name;
	char		*provider;
	char		*state;		/* running succeeded failed cancelled */
	char		*message;	/* why, when not succeeded */
	int		 exit_code;	/* -1 while running */
	long long	 started;	/* epoch seconds */
	long long	 ended;		/* 0 while running */
	long		 pid;		/* 0 when not running */
	char		*log_path;
	char		*model;		/* "iris@v3" once registered, or NULL */
};

struct lep_submit_req {
	const struct lep_spec	*spec;
	const char		*id;		/* chosen by lib/job.c */
	const char		*model_dir;	/* an input model, or NULL */
	const char *const	*secret_names;
	size_t			 nsecrets;
	/* As lep_deploy_req's. */
	const char		*region;
	const char		*instance;
};

struct lep_logs_req {
	int		 follow;
	long		 tail;		/* -1: all */
	int		 replica;	/* -1: every replica */
	int		 setup;		/* the setup log instead */
};

/* Accept NULL. */
void	 lep_deployment_free(struct lep_deployment *);
void	 lep_job_free(struct lep_job *);

/*
 * A managed cloud's deployment, whose replicas lepton cannot see one by
 * one, as its driver's record st (HOME/PROVIDER/services/NAME.json) says
 * it is, in state (msg, when not NULL, says why): the record's keys
 * "spec_sha256", "revision", "created", "updated", "count" (replicas,
 * default 1) and "canary" ({"revision", "percent"}, or null). endpoint:
 * its base URL, or NULL (""). Every replica, and the canary's one, is
 * "ready" when ready, else state. Caller frees.
 */
struct lep_deployment *lep_deployment_of_record(const char *provider,
	    const char *name, const struct lep_json *st, const char *state,
	    const char *msg, int ready, const char *endpoint);

/* The deployment as JSON (for --json and the record); caller frees. */
struct lep_json *lep_deployment_json(const struct lep_deployment *);

#endif
