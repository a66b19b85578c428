/*
 * local-priv.h: what the local provider's command side (local.c) and its
 * supervisor process (local-super.c) share: file names under
 * HOME/local/NAME/ and the grace periods.
 *
 *   rev-N.json       the normalised spec of revision N (a valid spec)
 *   rev-N.meta.json  its directory, model directory and spec hash
 *   desired          "N": the revision the supervisor should serve
 *   secrets.json     0600: the endpoint token and secret env values
 *   state.json       written by the supervisor: pids, ports, phases
 *   logs/            rN-K.log per replica, rN-setup.log, supervisor.log
 */
#ifndef LEPTON_PROVIDERS_LOCAL_PRIV_H
#define LEPTON_PROVIDERS_LOCAL_PRIV_H

#define LOCAL_GRACE_S		10	/* SIGTERM, then SIGKILL after */
#define LOCAL_DRAIN_S		30	/* old revision's connections */
#define LOCAL_PROBE_MS		200	/* between readiness probes */
#define LOCAL_BACKOFF_MAX_MS	10000	/* restart backoff ceiling */

#include <sys/types.h>

struct lep_err;
struct lep_job;
struct lep_out;
struct lep_json;
struct lep_spec;
struct lep_submit_req;

/* A JSON file of at most 4 MiB. Errors: NOT_FOUND, FAILED. */
const struct lep_err *local_read_json(struct lep_json **out, const char *path);
/* A number field as an unsigned integer (0 when absent). */
unsigned long long local_json_ull(const struct lep_json *, const char *key);
/*
 * Write sp as JSON to path (the exact spec a revision or job runs), and
 * start its meta record: dir, spec_file, model_dir. Errors: FAILED.
 */
const struct lep_err *local_save_spec(struct lep_json **meta_out,
	    const char *path, const struct lep_spec *, const char *model_dir);
/* "first,first+1,..." n GPU indices for CUDA_VISIBLE_DEVICES; free it. */
char	*local_gpu_list(int first, int n);

/*
 * A child's environment: lepton's own less every LEPTON_* (and less
 * CUDA_VISIBLE_DEVICES when cuda is set), then the spec's env and secrets
 * (values from secret_env), then extra ("KEY=VALUE", NULL-terminated).
 * Free with local_env_free, which wipes it.
 */
char	**local_env_build(const struct lep_spec *,
	    const struct lep_json *secret_env, const char *const *extra,
	    const char *cuda);
void	  local_env_free(char **);

/*
 * sh -c cmd in dir, in a process group of its own, stdin from /dev/null,
 * stdout and stderr appended to logpath. -1 with errno on failure.
 */
pid_t	  local_spawn(const char *dir, const char *cmd, const char *logpath,
	    char **env);

/* The local provider's state, made by open (local.c). */
struct local_state {
	char		*home;
	struct lep_out	*out;
	int		 gpus_known;
	int		 ngpus;
	char		**gpu_names;	/* nvidia-smi's, as many as it has */
};


/* nvidia-smi's GPUs, once. */
void	 local_detect_gpus(struct local_state *);
/* GPUs per replica (or job) the spec can have here. Errors: INFEASIBLE. */
const struct lep_err *local_place_gpus(struct local_state *,
	    const struct lep_spec *, int *per_out);
/* Start `lepton ARGV1 HOME ARG` detached, output to log. */
const struct lep_err *local_spawn_lepton(long *pid_out, const char *home,
	    const char *argv1, const char *arg, const char *log);

/* Job hooks (local-job.c), for the ops table in local.c. */
const struct lep_err *local_submit(struct lep_job **, void *,
	    const struct lep_submit_req *);
const struct lep_err *local_job_status(struct lep_job **, void *,
	    const char *);
const struct lep_err *local_cancel(struct lep_job **, void *, const char *,
	    int);

/* The hidden entry points (see struct lep_provider_main). */
#define LEP_SUPERVISOR_ARGV1	"__supervise"	/* a deployment's supervisor */
#define LEP_JOB_ARGV1		"__job"		/* the runner of one job */
int	 lep_provider_supervise(int argc, char **argv);	/* local-super.c */
int	 local_job_main(int argc, char **argv);		/* local-job.c */

#endif
