/*
 * local-priv.h: what the local provider's command side (local.c) and its
 * supervisor process (local-super.c) share: file names under
 * HOME/local/NAME/ and the grace periods; and what the supervisor shares
 * with the life of a revision (local-rev.c), its readiness probes
 * (local-probe.c) and its proxy (local-proxy.c): its state and revision
 * records.
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

#include "../lib/util.h"

struct lep_catalog;
struct lep_config;
struct lep_deploy_req;
struct lep_deployment;
struct lep_err;
struct lep_job;
struct lep_logs_req;
struct local_runtime;
struct local_spawn_req;
struct lep_out;
struct lep_json;
struct lep_spec;
struct lep_submit_req;
struct local_conn;

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
/* The same for path run with argv (not through sh). */
pid_t	  local_spawn_argv(const char *dir, const char *path,
	    char *const argv[], const char *logpath, char **env);
/*
 * lepton's own binary into out, for a hidden main: its path, or
 * /proc/self/exe once it has been replaced (an upgrade). -1 when unknown.
 */
int	  local_self_exe(char *out, size_t len);
/* req through rt's spawn, or local_spawn when it has none. */
pid_t	  local_rt_spawn(const struct local_runtime *,
	    const struct local_spawn_req *);

/*
 * What one start of a child is: a replica (replica >= 0), a revision's
 * setup (replica -1, revision > 0) or a job's step (job_id set).
 */
struct local_spawn_req {
	const char		*dir;		/* the spec's directory */
	const char		*cmd;		/* NULL: the image's own */
	const char		*log;		/* output appended here */
	char			**env;		/* local_env_build's */
	const struct lep_spec	*spec;
	const struct lep_json	*meta;		/* the revision's or job's */
	const char		*home;
	const char		*name;		/* deployment or job name */
	const char		*job_id;	/* NULL: a service */
	const char		*output;	/* a job's output directory */
	int			 revision;
	int			 replica;
	int			 port;		/* the replica's, or 0 */
};

/*
 * How the local machinery runs what it starts: each child a process on
 * this machine (local_processes, the local provider), or something that
 * stands for one, such as a runner that holds a container for as long as
 * it lives (the containers driver builds on this one so). A NULL hook
 * does what the local provider does.
 */
struct local_runtime {
	const char	*name;		/* the provider's: HOME/NAME/... */
	const char	*super_argv1;	/* its supervisor's hidden main */
	const char	*job_argv1;	/* its job runner's */
	/*
	 * Command side, before a revision or job changes anything: get
	 * what the spec needs (an image built) and say what it got in
	 * *runtime, kept as "runtime" in the meta record that spawn gets
	 * (state is the provider's, a struct local_state first).
	 */
	const struct lep_err *(*prepare)(void *state,
		    const struct lep_spec *, const char *pin,
		    struct lep_json **runtime);
	/* Start one child: its pid (a process group of its own) or -1. */
	pid_t		(*spawn)(const struct local_spawn_req *);
	/*
	 * Clean up what children of a deployment (meta: a revision's)
	 * killed before their end left behind. It must not block.
	 */
	void		(*sweep)(const char *home, const char *name,
		    const struct lep_json *meta);
};
extern const struct local_runtime local_processes;

/* The local provider's state, made by open (local.c). */
struct local_state {
	const struct local_runtime *rt;
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
int	 local_supervise_main(int argc, char **argv);	/* local-super.c */
int	 local_job_main(int argc, char **argv);		/* local-job.c */
/* The same for another runtime (argv[0] is its hidden main's name). */
int	 local_supervise_run(const struct local_runtime *, int argc,
	    char **argv);
int	 local_job_run(const struct local_runtime *, int argc, char **argv);

/*
 * The hooks of the local provider's ops table, for a driver that builds
 * on it with a runtime of its own (state is a struct local_state, or
 * starts with one).
 */
void	 local_state_init(struct local_state *, const struct local_runtime *,
	    const struct lep_config *);
void	 local_state_release(struct local_state *);
const struct lep_err *local_check(void *, const struct lep_spec *);
const struct lep_err *local_deploy(struct lep_deployment **, void *,
	    const struct lep_deploy_req *);
const struct lep_err *local_status(struct lep_deployment **, void *,
	    const char *);
const struct lep_err *local_logs(void *, const char *,
	    const struct lep_logs_req *, struct lep_out *);
const struct lep_err *local_remove(struct lep_deployment **, void *,
	    const char *, int);
const struct lep_err *local_update(struct lep_deployment **, void *,
	    const char *, int, const char *);
const struct lep_err *local_endpoint(char **, char **, void *,
	    const char *);
const struct lep_err *local_offers(struct lep_catalog **, void *);
/* The job directory HOME/NAME/jobs/ID/file of a runtime; free it. */
char	*local_job_path(const struct local_runtime *, const char *home,
	    const char *id, const char *file);

/*
 * The supervisor's records (local-super.c). The proxy reads which
 * replicas are ready and on which port, turns each revision's rr and
 * counts its connections in each replica's conns.
 */
enum rstate {
	R_IDLE,
	R_WAIT,		/* crashed: waiting out the backoff */
	R_STARTING,	/* spawned, probing */
	R_READY,
	R_DEAD,
};

enum vphase {
	V_SETUP,
	V_STARTING,
	V_READY,
	V_DRAINING,
	V_STOPPING,
	V_FAILED,
	V_GONE,
};

struct probe {
	int		 fd;		/* -1: none in flight */
	int		 sent;
	char		 buf[64];
	size_t		 len;
	long long	 deadline;
};

struct replica {
	int			 index;
	pid_t			 pid;
	unsigned long long	 start;
	int			 port;
	enum rstate		 st;
	int			 restarts;
	long long		 next_ms;	/* R_WAIT: when to start */
	long long		 probe_ms;	/* next probe */
	long long		 ready_by;	/* R_STARTING deadline */
	long long		 ready_since;
	struct probe		 pr;
	int			 conns;		/* proxied connections to it */
	char			*cuda;	/* CUDA_VISIBLE_DEVICES or NULL */
};

struct rev {
	int		 num;
	struct lep_spec	*spec;
	struct lep_json	*meta;		/* rev-N.meta.json */
	char		*model_dir;
	int		 prefer_port;	/* the endpoint port it had before */
	enum vphase	 phase;
	pid_t		 setup_pid;
	int		 setup_started;
	long long	 deadline;
	long long	 drain_by;
	long long	 kill_at;
	int		 killed;
	char		 msg[512];
	struct replica	*reps;
	int		 nreps;
	unsigned int	 rr;		/* the proxy's next replica */
	struct rev	*next;
};

/*
 * The supervisor's state (local-super.c), one per process; local-rev.c
 * moves its revisions along.
 */
struct local_sup {
	const struct local_runtime *rt;
	char		*home, *name, *dir, *logdir;
	int		 lfd;
	int		 port;
	struct rev	*revs, *active, *pending;
	struct rev	*canary;	/* ready, takes canary_pct of traffic */
	int		 canary_pct;
	struct local_conn *conns;
	int		 sigfd[2];
	int		 stopping;
	int		 fail_exit;
	char		 failmsg[512];
	int		 last_failed;
	char		 last_failed_msg[512];
	int		 dirty;
	long long	 written_ms;
	char		*token;
	struct lep_json	*secret_env;
	unsigned long long start;
};

/* A line, time-stamped, to the supervisor's log (stderr). */
void	 local_slog(const char *fmt, ...) LEP_PRINTF(1, 2);
/* A file under the deployment's directory; free it. */
char	*local_sup_path(const struct local_sup *, const char *fmt, ...)
	    LEP_PRINTF(2, 3);
/*
 * Start cmd for v's replica r (r NULL: v's setup) with its environment,
 * output to logs/log. The pid, or -1, logged.
 */
pid_t	 local_sup_spawn(struct local_sup *, const struct rev *v,
	    const struct replica *r, const char *cmd, const char *log);
/* Start r on a free port, to be probed; or R_WAIT a second to retry. */
void	 local_replica_start(struct local_sup *, struct rev *,
	    struct replica *);

/*
 * Revisions (local-rev.c). Each is on s->revs; s->active, s->pending and
 * s->canary point into that list.
 */
/*
 * Revision num from rev-N.json and its meta record, in V_SETUP; NULL
 * with why set when it cannot be read.
 */
struct rev *local_rev_load(struct local_sup *, int num, char *why,
	    size_t whylen);
/* Append v to s->revs, which owns it from then on. */
void	 local_rev_add(struct local_sup *, struct rev *v);
/* Accepts NULL. */
void	 local_rev_free(struct rev *);
/* Into phase: SIGTERM now, SIGKILL after LOCAL_GRACE_S. */
void	 local_rev_terminate(struct local_sup *, struct rev *,
	    enum vphase phase);
/*
 * v failed with the message given: it stops, and when it was pending it
 * is the last failed one (and the supervisor's failure when nothing
 * else serves).
 */
void	 local_rev_fail(struct local_sup *, struct rev *v, const char *fmt,
	    ...) LEP_PRINTF(3, 4);
/* Move v on in its phase: setup, start, probe, restart, drain, kill. */
void	 local_rev_tick(struct local_sup *, struct rev *v);
/*
 * The file `canary` says "promote N" (N serves everything; the old
 * active drains, and only when want is N) or "abort N" (N stops; the
 * active never stopped). Returns 1 when it acted.
 */
int	 local_rev_canary(struct local_sup *, int want);
/*
 * The pending revision is ready: a canary beside the active one when
 * its strategy says so, else it serves everything.
 */
void	 local_rev_pending_ready(struct local_sup *);
/* Free the revisions gone that nothing points to and no one uses. */
void	 local_rev_sweep(struct local_sup *);

/*
 * Readiness probes (local-probe.c): one GET of the spec's ready path in
 * flight per starting replica, in r->pr.
 */
/* Connect to the replica's port; on failure the next try is scheduled. */
void	 local_probe_start(struct replica *);
/*
 * Move the probe on: revents from poll, or 0 (then only its deadline
 * counts). 1 when the replica answered 2xx; the probe is closed then, and
 * when it failed, with the next one scheduled.
 */
int	 local_probe_check(struct replica *, const char *path,
	    short revents);
/* Close the probe in flight, if any. */
void	 local_probe_close(struct replica *);

/*
 * The proxy (local-proxy.c): the deployment's stable endpoint. It splices
 * each connection it accepts to a ready replica; connections are a list,
 * newest first, that the supervisor holds and polls.
 */
struct pollfd;

/*
 * Listen on 127.0.0.1:port (0: any free port), non-blocking; the port
 * it got in *port_out. The socket, or -1 with errno.
 */
int	 local_proxy_listen(int port, int *port_out);
/*
 * Accept one connection on lfd and connect it to a ready replica: to
 * canary first for canary_pct of connections (canary may be NULL; the
 * draw is random(), which the supervisor seeds), to active first for the
 * rest, each revision's replicas in turn. When none is ready the client
 * gets a 503 and is closed.
 */
void	 local_proxy_accept(struct local_conn **, int lfd, struct rev *active,
	    struct rev *canary, int canary_pct);
/* The pollfd entries the connections need: two each. */
size_t	 local_proxy_npoll(const struct local_conn *);
/* Fill pfd with them (local_proxy_npoll entries). */
void	 local_proxy_poll(const struct local_conn *, struct pollfd *pfd);
/*
 * Move bytes for the connections polled in pfd[0..n), matched by fd:
 * those accepted since are skipped. Returns the entries used.
 */
size_t	 local_proxy_io(struct local_conn *, const struct pollfd *pfd,
	    size_t n);
/*
 * Close the connections to v's replicas (v NULL: all of them), then
 * free every closed one.
 */
void	 local_proxy_close(struct local_conn **, const struct rev *v);
/* Free the closed connections. */
void	 local_proxy_sweep(struct local_conn **);

#endif
