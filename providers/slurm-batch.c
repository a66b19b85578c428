/*
 * slurm-batch.c: one run, a Slurm batch job, for a training job or a
 * service's revision alike: its directory in the shared directory, its
 * script and environment, the submit request, and the calls that submit,
 * read, cancel and wait for it.
 */
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slurm-priv.h"
#include "../lib/creds.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/util.h"

#define SLURM_POLL_FAST_MS	100	/* the first seconds of a wait */
#define SLURM_FAST_FOR_MS	5000

void
slurm_poll_pause(long long since_ms)
{
	long		 ms = lep_now_ms() - since_ms < SLURM_FAST_FOR_MS ?
			    SLURM_POLL_FAST_MS : SLURM_POLL_MS;
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* s in single quotes for a shell. */
static void
add_quoted(struct lep_buf *b, const char *s)
{
	lep_buf_addch(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			lep_buf_add(b, "'\\''");
		else
			lep_buf_addch(b, *s);
	}
	lep_buf_addch(b, '\'');
}

/*
 * The batch script: check the shared directory, pick ports, then one
 * task per node (srun) running setup.sh and run.sh from dir.
 */
static char *
batch_script(const char *dir, const char *probe, const struct lep_spec *sp,
    int nodes, int service)
{
	struct lep_buf	 b = LEP_BUF_INIT;

	lep_buf_add(&b, "#!/bin/bash\n# written by lepton: ");
	lep_buf_add(&b, service ? "service " : "job ");
	lep_buf_add(&b, sp->name);
	lep_buf_add(&b, "\nd=");
	add_quoted(&b, dir);
	lep_buf_addf(&b, "\nif [ \"$(cat \"$d/probe\" 2>/dev/null)\" != '%s' ]"
	    "; then\n\techo \"lepton: $d is not visible on $(hostname): "
	    "the lepton home (or slurm.shared_dir) must be on storage every "
	    "node mounts at the same path\" >&2\n\texit %d\nfi\n", probe,
	    SLURM_EXIT_NOT_SHARED);
	lep_buf_add(&b, "cd ");
	add_quoted(&b, sp->dir);
	lep_buf_addf(&b, " || { echo \"lepton: the spec's directory is not "
	    "visible on $(hostname): it must be on shared storage\" >&2; "
	    "exit %d; }\n", SLURM_EXIT_NOT_SHARED);
	/*
	 * A port no socket of this node uses (listening on any address, or
	 * the local end of a connection), below the ephemeral range so that
	 * an outgoing connection cannot take it meanwhile.
	 */
	lep_buf_add(&b, "free_port() {\n"
	    "\tlocal p i lo hi\n"
	    "\tread -r lo hi </proc/sys/net/ipv4/ip_local_port_range "
	    "2>/dev/null || lo=32768\n"
	    "\t[ \"$lo\" -gt 16000 ] || lo=60000\n"
	    "\tfor i in $(seq 1 200); do\n"
	    "\t\tp=$((15000 + RANDOM % (lo - 15000)))\n"
	    "\t\tawk -v h=\"$(printf ':%04X' \"$p\")\" "
	    "'$2 ~ h\"$\" { f = 1 } END { exit !f }' "
	    "/proc/net/tcp /proc/net/tcp6 2>/dev/null && continue\n"
	    "\t\t(exec 3<>\"/dev/tcp/127.0.0.1/$p\") 2>/dev/null && "
	    "continue\n"
	    "\t\techo \"$p\"\n\t\treturn 0\n"
	    "\tdone\n\treturn 1\n}\n");
	lep_buf_add(&b, "export LEPTON_NUM_NODES=$SLURM_JOB_NUM_NODES\n"
	    "export LEPTON_MASTER_PORT=$(free_port)\n");
	if (service) {
		if (sp->service.port > 0)
			lep_buf_addf(&b, "export LEPTON_PORT=%d\n",
			    sp->service.port);
		else
			lep_buf_add(&b, "export LEPTON_PORT=$(free_port)\n");
		lep_buf_add(&b, "echo \"$LEPTON_PORT\" >\"$d/port.tmp\" && "
		    "mv \"$d/port.tmp\" \"$d/port\"\n");
	}
	lep_buf_addf(&b, "srun --nodes=%d --ntasks=%d --ntasks-per-node=1 "
	    "--kill-on-bad-exit=1 bash -c 'export LEPTON_NODE_RANK="
	    "$SLURM_NODEID LEPTON_MASTER_ADDR=$SLURM_LAUNCH_NODE_IPADDR; "
	    "if [ -f \"$0/setup.sh\" ]; then sh \"$0/setup.sh\" || exit $?; "
	    "fi; exec sh \"$0/run.sh\"' \"$d\"\n", nodes, nodes);
	return lep_buf_detach(&b, NULL);
}

/* Write what a run needs into dir: the probe, setup.sh, run.sh, spec. */
static const struct lep_err *
write_run_dir(char probe[33], const char *dir, const struct lep_spec *sp)
{
	const struct lep_err	*err;
	struct lep_json		*spec;
	char			*p;

	if ((err = lep_mkdirs(dir, 0700)) != NULL ||
	    (err = lep_random_hex(probe, 16)) != NULL)
		return err;
	p = xasprintf("%s/probe", dir);
	err = lep_write_atomic(p, probe, strlen(probe), 0600);
	free(p);
	if (err == NULL && sp->setup != NULL) {
		p = xasprintf("%s/setup.sh", dir);
		err = lep_write_atomic(p, sp->setup, strlen(sp->setup), 0600);
		free(p);
	}
	if (err == NULL) {
		p = xasprintf("%s/run.sh", dir);
		err = lep_write_atomic(p, sp->run, strlen(sp->run), 0600);
		free(p);
	}
	if (err == NULL) {
		spec = lep_spec_to_json(sp);
		p = xasprintf("%s/spec.json", dir);
		err = lep_write_json(p, spec, 0600);
		free(p);
		lep_json_free(spec);
	}
	return err;
}

/* The job's environment: a few of ours, the spec's, secrets, extra. */
static struct lep_json *
job_env(const struct lep_spec *sp, const struct lep_json *secret_env,
    const char *const *extra)
{
	static const char *const pass[] = {
		"PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME",
	};
	struct lep_json	*e = lep_json_obj();
	const char	*v, *eq;
	char		*k;
	size_t		 i;

	for (i = 0; i < LEP_ARRAY_SIZE(pass); i++)
		if ((v = getenv(pass[i])) != NULL)
			lep_json_set_str(e, pass[i], v);
	for (i = 0; i < sp->nenv; i++)
		lep_json_set_str(e, sp->env[i].key, sp->env[i].value);
	for (i = 0; i < lep_json_len(secret_env); i++) {
		const struct lep_json	*m = lep_json_at(secret_env, i);

		lep_json_set_str(e, lep_json_key(m), lep_json_string(m));
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		eq = strchr(extra[i], '=');
		k = xstrndup(extra[i], (size_t)(eq - extra[i]));
		lep_json_set_str(e, k, eq + 1);
		free(k);
	}
	return e;
}

/* A number as v0.0.39 on wants it: {"set", "infinite", "number"}. */
static struct lep_json *
set_number(long long n)
{
	struct lep_json	*v = lep_json_obj();

	lep_json_set_bool(v, "set", 1);
	lep_json_set_bool(v, "infinite", 0);
	lep_json_set_int(v, "number", n);
	return v;
}

/* env as "K=V" strings (v0.0.39 on); frees env, wiping it. */
static struct lep_json *
env_strings(struct lep_json *env)
{
	struct lep_json	*a = lep_json_arr();
	size_t		 i;

	for (i = 0; i < lep_json_len(env); i++) {
		const struct lep_json	*m = lep_json_at(env, i);
		char	*kv = xasprintf("%s=%s", lep_json_key(m),
		    lep_json_string(m));

		lep_json_push(a, lep_json_str(kv));
		lep_wipe(kv, strlen(kv));
		free(kv);
	}
	lep_json_free_wiped(env);
	return a;
}

/*
 * The fields that changed shape, as v0.0.39 on wants them: the script
 * inside the job. A resubmitted job's output follows the first one's
 * (open_mode). lepton resubmits (job.max_restarts), not Slurm behind it;
 * the v0.0.38 parser reads "requeue": false as true, so there it is left
 * to the cluster's JobRequeue (reconcile counts its requeues).
 */
static void
body_newer(struct lep_json *job, const char *script, struct lep_json *env,
    int nodes, long long limit_min, long long mem, const char *gres)
{
	struct lep_json	*a;
	char		*t;

	lep_json_set_bool(job, "requeue", 0);
	a = lep_json_arr();
	lep_json_push(a, lep_json_str("APPEND"));
	lep_json_set(job, "open_mode", a);
	lep_json_set_int(job, "minimum_nodes", nodes);
	lep_json_set_int(job, "maximum_nodes", nodes);
	if (limit_min > 0)
		lep_json_set(job, "time_limit", set_number(limit_min));
	if (mem > 0)
		lep_json_set(job, "memory_per_node", set_number(mem));
	if (gres != NULL) {
		t = xasprintf("gres/%s", gres);
		lep_json_set_str(job, "tres_per_node", t);
		free(t);
	}
	lep_json_set(job, "environment", env_strings(env));
	lep_json_set_str(job, "script", script);
}

/* The same fields up to v0.0.38: the script beside the job. */
static void
body_older(struct lep_json *body, struct lep_json *job, const char *script,
    struct lep_json *env, int nodes, long long limit_min, long long mem,
    const char *gres)
{
	struct lep_json	*a;

	lep_json_set_str(job, "open_mode", "append");
	a = lep_json_arr();
	lep_json_push(a, lep_json_int(nodes));
	lep_json_push(a, lep_json_int(nodes));
	lep_json_set(job, "nodes", a);
	if (limit_min > 0)
		lep_json_set_int(job, "time_limit", limit_min);
	if (mem > 0)
		lep_json_set_int(job, "memory_per_node", mem);
	if (gres != NULL)
		lep_json_set_str(job, "gres", gres);
	lep_json_set(job, "environment", env);
	lep_json_set_str(body, "script", script);
}

/* The submit request in the shape the server's version wants. */
static struct lep_json *
submit_body(const struct slurm_state *s, const struct lep_spec *sp,
    const char *name, const char *script, const char *log,
    struct lep_json *env, int nodes, long long limit_min, const char *mark)
{
	struct lep_json	*body = lep_json_obj(), *job = lep_json_obj();
	const char	*part = slurm_partition(s, sp);
	const char	*acct = sp->placement.account ? sp->placement.account :
			    s->account;
	long long	 cpus = 1, mem = 0;
	char		*gres = NULL;

	if (sp->resources.has_cpus && sp->resources.cpus > 1)
		cpus = (long long)(sp->resources.cpus + 0.999);
	if (sp->resources.has_memory)
		mem = (long long)(sp->resources.memory * 1024 + 0.5);
	if (sp->resources.naccels > 0)
		gres = xasprintf("gpu:%s:%d", sp->resources.accels[0].name,
		    sp->resources.accels[0].count);
	lep_json_set_str(job, "name", name);
	/* How lepton finds the job when the submit's answer is lost. */
	lep_json_set_str(job, "comment", mark);
	if (part != NULL)
		lep_json_set_str(job, "partition", part);
	if (acct != NULL)
		lep_json_set_str(job, "account", acct);
	lep_json_set_str(job, "standard_output", log);
	lep_json_set_str(job, "current_working_directory", sp->dir);
	lep_json_set_int(job, "tasks", nodes);
	lep_json_set_int(job, "tasks_per_node", 1);
	lep_json_set_int(job, "cpus_per_task", cpus);
	if (s->api >= SLURM_API_NEW_SHAPES)
		body_newer(job, script, env, nodes, limit_min, mem, gres);
	else
		body_older(body, job, script, env, nodes, limit_min, mem, gres);
	free(gres);
	lep_json_set(body, "job", job);
	return body;
}

long long
slurm_unsure_grace_s(const struct slurm_state *s)
{
	long long	 g = 2 * s->timeout_ms / 1000;

	return g > SLURM_UNSURE_GRACE_S ? g : SLURM_UNSURE_GRACE_S;
}

const struct lep_err *
slurm_find_marked(long long *id, struct slurm_state *s, const char *mark)
{
	const struct lep_err	*err;
	const struct lep_json	*jobs, *j;
	struct lep_json		*ans = NULL;
	size_t			 i;

	*id = 0;
	if ((err = slurm_call(&ans, s, "GET", "/jobs", NULL)) != NULL)
		return err;
	jobs = lep_json_get(ans, "jobs");
	for (i = 0; i < lep_json_len(jobs) && *id == 0; i++) {
		j = lep_json_at(jobs, i);
		if (lep_streq(lep_json_get_str(j, "comment"), mark))
			*id = slurm_num(j, "job_id", 0);
	}
	lep_json_free(ans);
	return *id > 0 ? NULL : lep_err_new(LEP_E_NOT_FOUND, "Slurm has no "
	    "job marked '%s'", mark);
}

/*
 * Might the failed submit have made a job? Not when Slurm (or a 4xx)
 * turned it down, nor when nothing reached slurmrestd.
 */
static int
submit_unsure(const struct slurm_state *s)
{
	if (s->last.refused)
		return 0;
	if (s->last.status == 0)
		return s->last.maybe_sent;
	return s->last.status == 429 || s->last.status >= 500 ||
	    (s->last.status >= 200 && s->last.status < 300);
}

static void
sleep_ms(long long ms)
{
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

/*
 * Submit body (its job's comment: mark). A submit is not sent again
 * blindly: when its answer is lost (a reset, a cut or garbled answer, a
 * 5xx or 429 that is not Slurm's own refusal), lepton waits as for any
 * retry (Retry-After too), then asks Slurm for a job with the mark. One
 * found is the job; none, and it is sent again, SLURM_SUBMIT_TRIES in
 * all, unless lepton stopped waiting before slurmrestd answered (a
 * timeout, a 504): then the submit may take effect yet, and *unsure says
 * so (*id_out 0, an error).
 */
static const struct lep_err *
submit(long long *id_out, int *unsure, struct slurm_state *s,
    struct lep_json *body, const char *mark)
{
	const struct lep_err	*err, *lerr;
	struct lep_json		*ans;
	long long		 id, wait;
	int			 n, timed;

	*id_out = 0;
	*unsure = 0;
	for (n = 1;; n++) {
		ans = NULL;
		id = 0;
		err = slurm_call(&ans, s, "POST", "/job/submit", body);
		if (err == NULL && (lep_json_get_ll(ans, "job_id", &id) != 0 ||
		    id <= 0))
			err = lep_err_new(LEP_E_PROVIDER, "slurmrestd accepted "
			    "the job but gave no job_id");
		lep_json_free(ans);
		if (err == NULL) {
			*id_out = id;
			return NULL;
		}
		if (!submit_unsure(s))
			return err;
		timed = s->last.timed_out;
		wait = lep_http_backoff_ms(n, s->last.retry_after_ms);
		sleep_ms(wait >= 0 ? wait : lep_http_backoff_ms(n, -1));
		if ((lerr = slurm_find_marked(&id, s, mark)) == NULL) {
			if (s->out != NULL)
				lep_out_warn(s->out, "slurm: the submit's "
				    "answer was lost (%s); Slurm job %lld has "
				    "its mark: that is the job", err->msg, id);
			*id_out = id;
			return NULL;
		}
		if (lerr->code != LEP_E_NOT_FOUND || timed) {
			*unsure = 1;
			return lep_err_hint(lep_err_new(err->code, "%s",
			    err->msg), "the submit may yet make a job (its "
			    "comment: %s); lepton looks for it again", mark);
		}
		if (n >= SLURM_SUBMIT_TRIES || wait < 0)
			return err;
		if (s->out != NULL)
			lep_out_warn(s->out, "slurm: the submit failed (%s) and "
			    "Slurm has no job with its mark: submitting again "
			    "(%d of %d)", err->msg, n + 1, SLURM_SUBMIT_TRIES);
	}
}

/* The Slurm job's record (jobs[0]); NOT_FOUND once Slurm forgot it. */
const struct lep_err *
slurm_get_job(struct lep_json **out, struct slurm_state *s, long long id)
{
	const struct lep_err	*err;
	struct lep_json		*ans = NULL, *jobs;
	char			 path[64];

	*out = NULL;
	snprintf(path, sizeof(path), "/job/%lld", id);
	if ((err = slurm_call(&ans, s, "GET", path, NULL)) != NULL)
		return err;
	jobs = lep_json_get(ans, "jobs");
	if (lep_json_len(jobs) == 0) {
		lep_json_free(ans);
		return lep_err_new(LEP_E_NOT_FOUND, "Slurm has no job %lld",
		    id);
	}
	*out = lep_json_dup(lep_json_at(jobs, 0));
	lep_json_free(ans);
	return NULL;
}

const struct lep_err *
slurm_cancel_job(struct slurm_state *s, long long id)
{
	const struct lep_err	*err;
	struct lep_json		*ans = NULL;
	char			 path[64];

	snprintf(path, sizeof(path), "/job/%lld", id);
	err = slurm_call(&ans, s, "DELETE", path, NULL);
	lep_json_free(ans);
	/* Gone already, or finished: nothing left to cancel. */
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = NULL;
	return err;
}

/* Wait up to grace_s for a job to end; its final record, or NULL. */
struct lep_json *
slurm_wait_end(struct slurm_state *s, long long id, int grace_s)
{
	struct lep_json	*j = NULL;
	long long	 t0 = lep_now_ms();
	long long	 until = t0 + (long long)grace_s * 1000;
	int		 retry;

	for (;;) {
		lep_json_free(j);
		j = NULL;
		if (slurm_get_job(&j, s, id) != NULL)
			return NULL;
		if (strcmp(slurm_map_state(slurm_job_state(j), &retry),
		    "running") != 0 || lep_now_ms() >= until)
			return j;
		slurm_poll_pause(t0);
	}
}

/* Why a finished Slurm job did not succeed, in words; caller frees. */
char *
slurm_end_message(const struct lep_json *j, long long id)
{
	const char	*st = slurm_job_state(j);
	const char	*reason = lep_json_get_str(j, "state_reason");
	int		 code, sig;

	slurm_job_exit(j, &code, &sig);
	if (code == SLURM_EXIT_NOT_SHARED)
		return xasprintf("Slurm job %lld could not see the shared "
		    "directory (see its log)", id);
	if (sig > 0)
		return xasprintf("Slurm job %lld %s (signal %d%s%s)", id,
		    st ? st : "?", sig, reason && strcmp(reason, "None") ?
		    ", " : "", reason && strcmp(reason, "None") ? reason : "");
	return xasprintf("Slurm job %lld %s (exit %d%s%s)", id, st ? st : "?",
	    code, reason && strcmp(reason, "None") ? ", " : "",
	    reason && strcmp(reason, "None") ? reason : "");
}

static long long
limit_minutes(const struct slurm_state *s, long long seconds)
{
	if (seconds > 0)
		return (seconds + 59) / 60;
	return s->time_limit;
}

/*
 * Write a run directory (dir) and submit its batch script as name: a job
 * (and a job again after NODE_FAIL or PREEMPTED: same log, a new Slurm
 * job), or a service's revision. extra: LEPTON_* "K=V" lines, NULL-ended.
 * mark: the comment the job carries, a fresh one each time (submit()).
 */
const struct lep_err *
slurm_start_run(long long *sid, char mark[SLURM_MARK_SIZE], int *unsure,
    struct slurm_state *s, const struct lep_spec *sp, const char *name,
    const char *dir, const char *const *extra, int service)
{
	const struct lep_err	*err;
	struct lep_json		*secrets = NULL, *env = NULL, *body;
	char			 probe[33], nonce[33], *log, *script;
	int			 nodes = !service && sp->job.nodes > 1 ?
				     sp->job.nodes : 1;

	*sid = 0;
	*unsure = 0;
	mark[0] = '\0';
	if ((err = lep_random_hex(nonce, 16)) != NULL)
		return err;
	snprintf(mark, SLURM_MARK_SIZE, "lepton:%s", nonce);
	if ((err = lep_creds_secret_env(&secrets, s->home,
	    (const char *const *)sp->secrets, sp->nsecrets, service ?
	    "deploy" : "train")) != NULL ||
	    (err = write_run_dir(probe, dir, sp)) != NULL) {
		lep_json_free_wiped(secrets);
		return err;
	}
	env = job_env(sp, secrets, extra);
	lep_json_free_wiped(secrets);
	log = xasprintf("%s/log", dir);
	script = batch_script(dir, probe, sp, nodes, service);
	body = submit_body(s, sp, name, script, log, env, nodes,
	    limit_minutes(s, service ? 0 : sp->job.max_duration), mark);
	err = submit(sid, unsure, s, body, mark);
	lep_json_free_wiped(body);
	free(script);
	free(log);
	return err;
}
