/*
 * provider.h: the ops table every driver fills. A NULL hook means
 * "unsupported"; only lib/provider.c calls a hook, or reads the table.
 */
#ifndef LEPTON_PROVIDERS_PROVIDER_H
#define LEPTON_PROVIDERS_PROVIDER_H

#include <stddef.h>

#include "../lib/types.h"

struct lep_catalog;
struct lep_err;
struct lep_json;
struct lep_out;
struct lep_spec;

#define LEP_PROVIDER_ABI	1

/*
 * What a driver can honour. lib/provider.c refuses a spec that asks for
 * more (exit 9, naming the provider and the key) before the driver sees it.
 */
#define LEP_CAP_SERVICE		0x01	/* kind: service */
#define LEP_CAP_JOB		0x02	/* kind: job */
#define LEP_CAP_GPU		0x04	/* resources.accelerators */
#define LEP_CAP_CANARY		0x08	/* rollout.strategy: canary */
#define LEP_CAP_MULTINODE	0x10	/* job.nodes above 1 */
#define LEP_CAP_REPLICAS	0x20	/* more than one replica at once */
#define LEP_CAP_PARTITION	0x40	/* placement.partition, .account */
#define LEP_CAP_AUTOSCALE	0x80	/* replicas max above min, target_qps */
#define LEP_CAP_ABORT_IF	0x100	/* rollout.abort_if, acted on */
#define LEP_CAP_SPOT		0x200	/* resources.spot: true */
#define LEP_CAP_IMAGE		0x400	/* image: runs containers */
#define LEP_CAP_SETUP		0x800	/* setup: a step before run */
#define LEP_CAP_RESUBMIT	0x1000	/* job.max_restarts above 0 */
#define LEP_CAP_REGIONS		0x2000	/* placement.regions, .zones */
/*
 * Not a spec key: it creates on the offer lib/ picks, a region and an
 * instance type (lep_deploy_req's and lep_submit_req's region and
 * instance), and says "no capacity there" with lep_err_capacity(): lib/
 * then tries the plan's next region (lib/failover.h). Without it a
 * provider gets NULL for both and one attempt; any provider's capacity
 * refusal moves on to the next provider in placement.providers. On AWS
 * the codes InsufficientCapacity, InsufficientInstanceCapacity,
 * ResourceLimitExceeded and CapacityError are such refusals (the code is
 * the reason). Return one only once nothing of the attempt is left in
 * that region (an endpoint that went Failed for capacity is deleted
 * first): lib/ records it as never started. Any other error stops the
 * deploy where it is.
 */
#define LEP_CAP_OFFER		0x4000
#define LEP_CAP_ALL		0x7fff

/*
 * A hidden entry point: 'lepton ARGV1 ...' runs main instead of a command
 * (a supervisor, a job runner). Its argv starts at ARGV1.
 */
struct lep_provider_main {
	const char	*argv1;		/* "__" and a word */
	int		 (*main)(int argc, char **argv);
};

struct lep_provider_ops {
	const char	*name;
	unsigned int	 abi;
	unsigned int	 caps;
	/* How often to ask about a running job, in ms. */
	int		 poll_ms;
	/* Hidden entry points, ended by a NULL argv1; or NULL. */
	const struct lep_provider_main *mains;

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
	 * even when an error says what failed; "configured": false in it
	 * says the user has not set this provider up at all. lepton check
	 * prints these keys when present: url and url_from, user and
	 * user_from, token_from and token_accepted, server (the engine and
	 * its version, one line), nodes, nodes_usable and partitions,
	 * shared_dir; a cloud's credentials (the source that won, in
	 * words), principal, account, project and project_from, region,
	 * role_arn and role_from; a cluster's context and context_from,
	 * namespace and namespace_from.
	 */
	const struct lep_err *(*probe)(struct lep_json **report, void *state);
	/*
	 * What the spec names outside its own text, resolved now to what
	 * will run (an image: found, pulled or built, as its ID); or NULL
	 * hook. The service layer keeps it in the spec's hash and the state
	 * record, and gives it back in lep_deploy_req.pin, so that a changed
	 * build is a new revision and a rollback runs the very same bytes.
	 */
	const struct lep_err *(*pin)(char **out, void *state,
			     const struct lep_spec *);
	/* The base URL and bearer token (caller frees, wipes the token). */
	const struct lep_err *(*endpoint)(char **url_out, char **token_out,
			     void *state, const char *name);
	/*
	 * For an endpoint that takes a signature over each request instead
	 * of a bearer token (SageMaker's SigV4): the header lines that
	 * authorise method url with body, valid for at least
	 * LEP_SIGN_VALID_S (lib/provider.h) seconds (*lines: caller frees each and the
	 * array, wiping them). NULL hook: the token is enough.
	 */
	const struct lep_err *(*sign)(char ***lines, size_t *n, void *state,
			     const char *name, const char *method,
			     const char *url, const void *body, size_t len);
	/*
	 * The region the user's own configuration names (the cloud CLI's
	 * region: AWS_REGION, the profile's), tried first when a spec
	 * names no placement.regions; *out NULL when none (caller frees).
	 * NULL hook: the plan's order alone.
	 */
	void		 (*home_region)(char **out, void *state);
};

/*
 * One row per provider lepton knows, built or not ("not built yet" and
 * "unknown" are different messages). The first built row is the default.
 * This table is the only place in lepton that names a provider.
 */
struct lep_provider_entry {
	const char			*name;
	const struct lep_provider_ops	*ops;	/* NULL: not built yet */
	const char			*catalog_url;	/* its public price
							   catalog, or NULL */
	int				 catalog_flags;	/* LEP_CATALOG_* */
};

extern const struct lep_provider_entry lep_provider_table[];
extern const size_t lep_provider_count;
extern const struct lep_provider_ops provider_local;
extern const struct lep_provider_ops provider_slurm;
extern const struct lep_provider_ops provider_containers;
extern const struct lep_provider_ops provider_aws;
extern const struct lep_provider_ops provider_gcp;
extern const struct lep_provider_ops provider_kubernetes;

#endif
