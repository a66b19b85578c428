/*
 * slurm-priv.h: what the Slurm provider's files share: the REST client
 * (slurm-rest.c), the nodes (slurm-nodes.c), one batch job (slurm-batch.c),
 * training jobs (slurm-job.c) and services with the ops table (slurm.c).
 * Files under the shared directory
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

struct lep_catalog;
struct lep_err;
struct lep_http_resp;
struct lep_job;
struct lep_json;
struct lep_out;
struct lep_spec;
struct lep_submit_req;

/* The oldest and newest slurmrestd API this lepton speaks (v0.0.N). */
/* How often to ask slurmctld about a job, once the first seconds pass. */
#define SLURM_POLL_MS		500
/* What a ping may answer. */
#define SLURM_PING_MAX		(1u << 20)

#define SLURM_API_MIN		36
#define SLURM_API_MAX		44
/* From v0.0.39 on: script inside "job", environment as "K=V" strings,
   numbers as {"set", "infinite", "number"}. */
#define SLURM_API_NEW_SHAPES	39

/* Tries of one request to slurmrestd (lib/http: which are repeated). */
#define SLURM_RETRIES		2
/* Submits of one job when each answer is lost and Slurm has no job
   with its mark (slurm-batch.c). */
#define SLURM_SUBMIT_TRIES	3
/* How long, at least, a submit whose answer was lost may take to show
   in Slurm (also twice slurm.timeout) before lepton says it never did. */
#define SLURM_UNSURE_GRACE_S	60
/* The mark a submitted job carries as its comment: "lepton:" + 32 hex. */
#define SLURM_MARK_SIZE		40

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
	struct {			/* how the last slurm_call went */
		int		 attempts;
		long		 status;	/* 0: no answer */
		int		 maybe_sent;	/* no answer, but it may have
						   reached slurmrestd */
		int		 timed_out;	/* it may be acted on yet */
		int		 refused;	/* turned down for good */
		long long	 retry_after_ms;	/* -1: none */
	} last;
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
 * s->last says how it went, for a caller that must decide whether a
 * failed submit made a job.
 */
const struct lep_err *slurm_call(struct lep_json **out, struct slurm_state *,
	    const char *method, const char *path, const struct lep_json *body);

/*
 * A response as slurm_call reads it: its body parsed when it is a JSON
 * object (*out, caller frees; NULL otherwise), then slurm_answer_error;
 * *refused: the server turned the request down for good.
 */
const struct lep_err *slurm_parse_answer(struct lep_json **out,
	    int *refused, const struct lep_http_resp *);
/*
 * The error an answer carries, or NULL: status and body as received
 * (plain text and JSON bodies both). For the tests too.
 */
const struct lep_err *slurm_answer_error(long status, const char *body,
	    size_t len, const struct lep_json *parsed);

/*
 * Is an answer Slurm's own word, final whatever its status (lib/http
 * tries it again otherwise)? Its JSON "errors" array has entries:
 * slurmrestd's 500 for an unknown job or a refused token says the same
 * again. Not when slurmrestd could not reach slurmctld (Slurm's
 * communication errors, 1001-1004, 1800-1899, 5000-5099), which may pass.
 */
struct lep_http_resp;
int	 slurm_answer_final(const struct lep_http_resp *);

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
/* A token file's text: "SLURM_JWT=..." as scontrol token prints it, or
   the bare token; trailing blanks dropped. Caller wipes and frees. */
char	*slurm_parse_token(const char *text, size_t len);

/* slurm-nodes.c */

/* A node's GPUs, from its gres. */
struct slurm_gres {
	char	 name[64];	/* "" when the gres names no type */
	int	 count;
};

/* The leading decimal number of s (0 when none, or over 2^20). */
int	 slurm_lead_int(const char *s);
/* "gpu:h100:4(S:0-1),gpu:a100:2" (or NULL) -> the first GPU entry. */
void	 slurm_parse_gres(struct slurm_gres *, const char *gres);
/* The partition a spec asks for, else config's; NULL: the default. */
const char *slurm_partition(const struct slurm_state *,
	    const struct lep_spec *);
/* Hooks: can the cluster hold sp (INFEASIBLE: no), what its nodes offer
   (or config.json declares, without slurmrestd), what `check` reports. */
const struct lep_err *slurm_check(void *, const struct lep_spec *);
const struct lep_err *slurm_offers(struct lep_catalog **, void *);
const struct lep_err *slurm_probe(struct lep_json **, void *);

/* slurm-batch.c */

/* Wait before asking Slurm again: often at first (since_ms), then less. */
void	 slurm_poll_pause(long long since_ms);
/*
 * Write a run directory (dir) and submit its batch script as name: a job
 * (and a job again after NODE_FAIL or PREEMPTED: same log, a new Slurm
 * job), or a service's revision. extra: LEPTON_* "K=V" lines, NULL-ended.
 * *sid: the Slurm job; mark: the comment it carries. A submit whose
 * answer is lost is not sent again before Slurm is asked for a job with
 * the mark (slurm-batch.c). Errors: those of slurm_call, FAILED (files);
 * with *unsure set when the submit may make a job yet: look for it later
 * with slurm_find_marked.
 */
const struct lep_err *slurm_start_run(long long *sid,
	    char mark[SLURM_MARK_SIZE], int *unsure, struct slurm_state *,
	    const struct lep_spec *, const char *name, const char *dir,
	    const char *const *extra, int service);
/* How long a submit whose answer was lost may take to show in Slurm. */
long long slurm_unsure_grace_s(const struct slurm_state *);
/* The Slurm job whose comment is mark. Errors: NOT_FOUND (none), those
   of slurm_call. */
const struct lep_err *slurm_find_marked(long long *id, struct slurm_state *,
	    const char *mark);
/* The Slurm job's record (jobs[0]), caller frees; NOT_FOUND once Slurm
   forgot it. */
const struct lep_err *slurm_get_job(struct lep_json **out,
	    struct slurm_state *, long long id);
/* Cancel a Slurm job; one gone or finished already is no error. */
const struct lep_err *slurm_cancel_job(struct slurm_state *, long long id);
/* Wait up to grace_s for a job to end; its final record (caller frees),
   or NULL. */
struct lep_json *slurm_wait_end(struct slurm_state *, long long id,
	    int grace_s);
/* Why a finished Slurm job did not succeed, in words; caller frees. */
char	*slurm_end_message(const struct lep_json *job, long long id);

/* slurm-job.c */

/* SHARED/jobs/ID; caller frees. */
char	*slurm_job_dir(const struct slurm_state *, const char *id);
/* Job hooks, for the ops table in slurm.c. */
const struct lep_err *slurm_submit(struct lep_job **, void *,
	    const struct lep_submit_req *);
const struct lep_err *slurm_job_status(struct lep_job **, void *,
	    const char *);
const struct lep_err *slurm_cancel(struct lep_job **, void *, const char *,
	    int);

#endif
