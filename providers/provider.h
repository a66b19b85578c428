/*
 * provider.h: the ops table every driver fills. A NULL hook means
 * "unsupported"; cmd/ never calls a hook directly (lib/provider.c does).
 */
#ifndef LEPTON_PROVIDERS_PROVIDER_H
#define LEPTON_PROVIDERS_PROVIDER_H

#include <stddef.h>

struct lep_catalog;
struct lep_err;
struct lep_json;
struct lep_out;
struct lep_spec;

#define LEP_PROVIDER_ABI	1

#define LEP_CAP_SERVICE		0x1	/* deploy/status/logs/remove */
#define LEP_CAP_JOB		0x2	/* submit/job_status/cancel */
#define LEP_CAP_GPU		0x4	/* can place accelerators */

/* argv[1] that turns lepton into the local provider's supervisor. */
#define LEP_SUPERVISOR_ARGV1	"__supervise"

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
};

struct lep_logs_req {
	int		 follow;
	long		 tail;		/* -1: all */
	int		 replica;	/* -1: every replica */
	int		 setup;		/* the setup log instead */
};

struct lep_provider_ops {
	const char	*name;
	unsigned int	 abi;
	unsigned int	 caps;

	const struct lep_err *(*open)(void **state_out,
			     const struct lep_config *);
	void		 (*close)(void *state);

	/* Can this spec run here at all? LEP_E_INFEASIBLE when not. */
	const struct lep_err *(*check)(void *state, const struct lep_spec *);
	const struct lep_err *(*deploy)(struct lep_deployment **out,
			     void *state, const struct lep_deploy_req *);
	const struct lep_err *(*status)(struct lep_deployment **out,
			     void *state, const char *name);
	const struct lep_err *(*logs)(void *state, const char *name,
			     const struct lep_logs_req *, struct lep_out *);
	const struct lep_err *(*remove)(struct lep_deployment **out,
			     void *state, const char *name, int grace_s);
	/* Jobs: start one, report it, stop it. */
	const struct lep_err *(*submit)(struct lep_job **out, void *state,
			     const struct lep_submit_req *);
	const struct lep_err *(*job_status)(struct lep_job **out, void *state,
			     const char *id);
	const struct lep_err *(*cancel)(struct lep_job **out, void *state,
			     const char *id, int grace_s);
	/* A canary revision: "promote" it to all traffic or "abort" it. */
	const struct lep_err *(*update)(struct lep_deployment **out,
			     void *state, const char *name, int revision,
			     const char *action);
	/* What it can run and at what price (caller frees the catalog). */
	const struct lep_err *(*offers)(struct lep_catalog **out,
			     void *state);
	/*
	 * Is it usable here: configuration, credentials (which source won),
	 * the engine answering. *report (caller frees) says what was found,
	 * even when an error says what failed.
	 */
	const struct lep_err *(*probe)(struct lep_json **report, void *state);
	/* The base URL and bearer token (caller frees, wipes the token). */
	const struct lep_err *(*endpoint)(char **url_out, char **token_out,
			     void *state, const char *name);
};

struct lep_provider_entry {
	const char			*name;
	const struct lep_provider_ops	*ops;	/* NULL: not built yet */
};

extern const struct lep_provider_entry lep_provider_table[];
extern const size_t lep_provider_count;
extern const struct lep_provider_ops provider_local;
extern const struct lep_provider_ops provider_slurm;

void	 lep_deployment_free(struct lep_deployment *);
void	 lep_job_free(struct lep_job *);

/* The local provider's supervisor process (lepton __supervise ...). */
int	 lep_provider_supervise(int argc, char **argv);

/* argv[1] that turns lepton into the runner of one local job. */
#define LEP_JOB_ARGV1		"__job"
int	 lep_provider_job_main(int argc, char **argv);

#endif
