/*
 * slurm-priv.h: what the Slurm provider's REST client (slurm-rest.c) and
 * its hooks (slurm.c) share. Files under the shared directory
 * (config slurm.shared_dir, default HOME/slurm), which the cluster's nodes
 * must see at the same path:
 *
 *   jobs/ID/        one training job: job.json (Slurm ids, restarts),
 *                   spec.json, setup.sh, run.sh, probe, log
 *   services/NAME/  one deployment: state.json (active revision, its
 *                   Slurm job), secrets.json (0600), rN/ per revision
 *                   (spec.json, setup.sh, run.sh, probe, port, log)
 */
#ifndef LEPTON_PROVIDERS_SLURM_PRIV_H
#define LEPTON_PROVIDERS_SLURM_PRIV_H

#include <stddef.h>

struct lep_err;
struct lep_json;
struct lep_out;

/* The oldest and newest slurmrestd API this lepton speaks (v0.0.N). */
#define SLURM_API_MIN		36
#define SLURM_API_MAX		44
/* From v0.0.39 on: script inside "job", environment as "K=V" strings,
   numbers as {"set", "infinite", "number"}. */
#define SLURM_API_NEW_SHAPES	39

/* Exit status of a job script that finds the shared directory missing. */
#define SLURM_EXIT_NOT_SHARED	97

struct slurm_state {
	char		*home;
	struct lep_out	*out;
	char		*url;		/* no trailing slash; NULL: none */
	char		*user;
	char		*token;		/* secret; NULL: none */
	const char	*url_from;	/* "SLURMRESTD_URL", "config"... */
	const char	*user_from;
	const char	*token_from;
	char		*token_file;	/* config slurm.token_file */
	char		*partition;	/* config defaults, or NULL */
	char		*account;
	long long	 time_limit;	/* minutes, 0: none */
	char		*dir;		/* shared directory */
	int		 api;		/* N of v0.0.N, 0 until known */
	int		 fresh;		/* ping, whatever api.json says */
	char		*release;	/* "22.05.8" */
	long long	 timeout_ms;
};

/* Read config and environment; never touches the network. */
const struct lep_err *slurm_state_new(struct slurm_state **out,
	    const char *home, struct lep_out *);
void	 slurm_state_free(struct slurm_state *);

/*
 * Pick the newest API version both sides know (pings, newest first),
 * or the one shared_dir/api.json remembers for this URL unless s->fresh.
 * Errors: PROVIDER (unreachable, no common version), AUTH.
 */
const struct lep_err *slurm_discover(struct slurm_state *);

/*
 * METHOD /slurm/v0.0.N/PATH with body (or NULL); *out gets the parsed
 * answer. The JSON "errors" array decides, not the HTTP status alone:
 * AUTH (401, 1007, a token slurmctld refused), NOT_FOUND (2017: no such
 * job), INFEASIBLE (2000-ish placement refusals), PROVIDER (the rest).
 */
const struct lep_err *slurm_call(struct lep_json **out, struct slurm_state *,
	    const char *method, const char *path, const struct lep_json *body);

/*
 * The error an answer carries, or NULL: status and body as received
 * (plain text and JSON bodies both). For the tests too.
 */
const struct lep_err *slurm_answer_error(long status, const char *body,
	    size_t len, const struct lep_json *parsed);

/* A ping's answer: slurmctld UP, and its release. Errors: PROVIDER. */
const struct lep_err *slurm_ping_answer(const char **release,
	    const struct lep_json *answer);

/* Fields that changed shape across versions. */
/* A number, plain or {"set", "infinite", "number"}; def when unset. */
long long slurm_num(const struct lep_json *, const char *key, long long def);
/* job_state: "RUNNING", ["RUNNING"], or state.current (accounting). */
const char *slurm_job_state(const struct lep_json *job);
/* Exit code (-1: unknown) and signal (0: none) of a finished job. */
void	 slurm_job_exit(const struct lep_json *job, int *code, int *sig);
/* A node's state, lowercased first word: "idle", "mixed", "down"... */
void	 slurm_node_state(const struct lep_json *node, char *buf, size_t len);

/*
 * Slurm's job state as lepton's: running (also pending), succeeded,
 * failed, cancelled; *retry when a resubmit may help (NODE_FAIL,
 * PREEMPTED, BOOT_FAIL).
 */
const char *slurm_map_state(const char *slurm_state, int *retry);

/* The token's claims, checked here before the server is asked:
   expired, or for another user. Errors: AUTH. */
const struct lep_err *slurm_token_check(const char *token, const char *user);

#endif
