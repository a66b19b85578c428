/*
 * local-job.c: training jobs on this machine. `lepton train` writes the
 * job's files under HOME/local/jobs/ID/ (HOME/PROVIDER/... for a driver
 * that builds on this one) and starts a runner (`lepton
 * __job HOME ID`) that outlives it: setup, then run, in a process group
 * of their own, the output to ID/log, max_duration enforced, SIGTERM
 * (lepton stop) forwarded. When the job ends, the runner records it and
 * registers its output (lib/job.c) and writes its end to ID/state.json.
 */
#include "provider.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "local-priv.h"
#include "../lib/creds.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/record.h"
#include "../lib/json.h"
#include "../lib/proc.h"
#include "../lib/spec.h"
#include "../lib/util.h"

char *
local_job_path(const struct local_runtime *rt, const char *home,
    const char *id, const char *file)
{
	return xasprintf("%s/%s/jobs/%s/%s", home, rt->name, id, file);
}

/* --- the hooks, in the lepton command ----------------------------------- */

/*
 * Why a runner is gone without a word: its own last line, else a disk
 * that is full or read-only, else that nobody knows.
 */
static char *
runner_death(const struct local_runtime *rt, const char *home, const char *id)
{
	struct lep_buf	 b;
	struct statvfs	 vfs;
	char		*p, *msg = NULL, *nl;

	p = local_job_path(rt, home, id, "runner.log");
	if (lep_read_file(&b, p, 1 << 20) == NULL && b.len > 0) {
		while (b.len > 0 && b.buf[b.len - 1] == '\n')
			b.buf[--b.len] = '\0';
		nl = strrchr(b.buf, '\n');
		msg = xasprintf("the job's runner died: %s", nl ? nl + 1 :
		    b.buf);
	}
	lep_buf_release(&b);
	free(p);
	if (msg != NULL)
		return msg;
	p = local_job_path(rt, home, id, "");
	if (statvfs(p, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		msg = xasprintf("the job's runner died: '%s' is on a "
		    "read-only file system", p);
	else if (statvfs(p, &vfs) == 0 && vfs.f_bavail == 0)
		msg = xasprintf("the job's runner died: no space left on the "
		    "device holding '%s'", p);
	else
		msg = xasprintf("the job's runner died without a word (killed, "
		    "or its disk was full for a while); see '%srunner.log'", p);
	free(p);
	return msg;
}

static struct lep_job *
job_from_state(const struct local_runtime *rt, const char *home,
    const char *id, const struct lep_json *st)
{
	struct lep_job	*j = xcalloc(1, sizeof(*j));
	const char	*phase = lep_json_get_str(st, "phase");
	long long	 v;

	j->id = xstrdup(id);
	j->name = xstrdup(lep_json_get_str(st, "name") ?
	    lep_json_get_str(st, "name") : "");
	j->provider = xstrdup(rt->name);
	j->log_path = local_job_path(rt, home, id, "log");
	j->exit_code = lep_json_get_ll(st, "exit_code", &v) == 0 ? (int)v : -1;
	j->started = lep_json_get_ll(st, "started", &v) == 0 ? v : 0;
	j->ended = lep_json_get_ll(st, "ended", &v) == 0 ? v : 0;
	if (lep_json_get_str(st, "model") != NULL)
		j->model = xstrdup(lep_json_get_str(st, "model"));
	if (lep_json_get_str(st, "message") != NULL)
		j->message = xstrdup(lep_json_get_str(st, "message"));
	/* What the runner could not write, beside why the job ended. */
	if (lep_json_get_str(st, "disk") != NULL) {
		char	*m = xasprintf("%s%s%s", j->message ? j->message : "",
		    j->message ? "; also " : "", lep_json_get_str(st, "disk"));

		free(j->message);
		j->message = m;
	}
	(void)lep_json_get_ll(st, "pid", &v);
	if (lep_streq(phase, "running") || lep_streq(phase, "recording")) {
		if (v > 0 && lep_proc_alive((long)v, local_json_ull(st, "start"))) {
			j->pid = (long)v;
			j->state = xstrdup("running");
		} else {
			/* Killed behind our back: say so, and why if known. */
			j->state = xstrdup("failed");
			free(j->message);
			j->message = runner_death(rt, home, id);
		}
	} else
		j->state = xstrdup(phase ? phase : "unknown");
	return j;
}

const struct lep_err *
local_job_status(struct lep_job **out, void *state, const char *id)
{
	struct local_state	*ls = state;
	const struct lep_err	*err;
	struct lep_json		*st;
	char			*p;

	*out = NULL;
	p = local_job_path(ls->rt, ls->home, id, "state.json");
	err = local_read_json(&st, p);
	free(p);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		return lep_err_new(LEP_E_NOT_FOUND, "no job '%s' on the %s "
		    "provider", id, ls->rt->name);
	if (err != NULL)
		return err;
	*out = job_from_state(ls->rt, ls->home, id, st);
	lep_json_free(st);
	return NULL;
}

const struct lep_err *
local_submit(struct lep_job **out, void *state,
    const struct lep_submit_req *req)
{
	struct local_state	*ls = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*j, *env, *runtime = NULL;
	struct timespec		 ts = { 0, 20 * 1000 * 1000 };
	char			*dir, *p, *out_path = NULL;
	long			 pid;
	long long		 deadline;
	int			 per;

	*out = NULL;
	if ((err = local_place_gpus(ls, sp, &per)) != NULL)
		return err;
	if (ls->rt->prepare != NULL &&
	    (err = ls->rt->prepare(ls, sp, NULL, &runtime)) != NULL)
		return err;
	dir = xasprintf("%s/%s/jobs/%s", ls->home, ls->rt->name, req->id);
	if ((err = lep_mkdirs(dir, 0700)) != NULL) {
		lep_json_free(runtime);
		goto done;
	}
	p = local_job_path(ls->rt, ls->home, req->id, "spec.json");
	err = local_save_spec(&j, p, sp, req->model_dir);
	free(p);
	if (err != NULL) {
		lep_json_free(runtime);
		goto done;
	}
	lep_json_set_str(j, "id", req->id);
	if (runtime != NULL)
		lep_json_set(j, "runtime", runtime);
	if (sp->job.output_model != NULL) {
		out_path = sp->job.output_model[0] == '/' ?
		    xstrdup(sp->job.output_model) : xasprintf("%s/%s",
		    sp->dir, sp->job.output_model);
		lep_json_set_str(j, "output", out_path);
	}
	local_detect_gpus(ls);
	if (ls->ngpus > 0) {
		char	*gpus = local_gpu_list(0, per);

		lep_json_set_str(j, "cuda_visible_devices", gpus);
		free(gpus);
	}
	p = local_job_path(ls->rt, ls->home, req->id, "meta.json");
	err = lep_write_json(p, j, 0600);
	free(p);
	lep_json_free(j);
	if (err != NULL)
		goto done;
	/* Secret values, for the runner only: 0600, removed when it ends. */
	if ((err = lep_creds_secret_env(&env, ls->home,
	    req->secret_names, req->nsecrets, "train")) != NULL)
		goto done;
	j = lep_json_obj();
	lep_json_set(j, "env", env);
	p = local_job_path(ls->rt, ls->home, req->id, "secrets.json");
	err = lep_write_json(p, j, 0600);
	free(p);
	lep_json_free_wiped(j);
	if (err != NULL)
		goto done;
	p = local_job_path(ls->rt, ls->home, req->id, "runner.log");
	err = local_spawn_lepton(&pid, ls->home, ls->rt->job_argv1, req->id, p);
	free(p);
	if (err != NULL)
		goto done;
	/* The runner writes state.json first thing. */
	deadline = lep_now_ms() + 10000;
	while ((err = local_job_status(out, ls, req->id)) != NULL &&
	    err->code == LEP_E_NOT_FOUND && lep_now_ms() < deadline &&
	    lep_proc_alive(pid, 0))
		nanosleep(&ts, NULL);
done:
	free(out_path);
	free(dir);
	return err;
}

const struct lep_err *
local_cancel(struct lep_job **out, void *state, const char *id, int grace_s)
{
	struct local_state	*ls = state;
	const struct lep_err	*err;
	struct timespec		 ts = { 0, 50 * 1000 * 1000 };
	struct lep_json		*st;
	long long		 deadline, child = 0;
	char			*p;

	*out = NULL;
	if ((err = local_job_status(out, state, id)) != NULL)
		return err;
	if ((*out)->pid == 0)
		return NULL;		/* over already */
	kill((pid_t)(*out)->pid, SIGTERM);
	deadline = lep_now_ms() + (grace_s + 30) * 1000LL;
	while (lep_proc_alive((*out)->pid, 0) && lep_now_ms() < deadline)
		nanosleep(&ts, NULL);
	if (lep_proc_alive((*out)->pid, 0)) {
		/* The runner is stuck: end it and its job by PID. */
		p = local_job_path(ls->rt, ls->home, id, "state.json");
		if (local_read_json(&st, p) == NULL) {
			(void)lep_json_get_ll(st, "child", &child);
			lep_json_free(st);
		}
		free(p);
		if (child > 0)
			kill(-(pid_t)child, SIGKILL);
		kill((pid_t)(*out)->pid, SIGKILL);
	}
	lep_job_free(*out);
	return local_job_status(out, state, id);
}

/* --- the runner -------------------------------------------------------- */

static volatile sig_atomic_t	 cancelled;

static void
on_term(int sig)
{
	(void)sig;
	cancelled = 1;
}

struct runner {
	const struct local_runtime *rt;
	char			*home, *id, *state_path;
	struct lep_json		*st;
	unsigned long long	 start;
};

/*
 * The job's state. A full disk must not leave it saying "running" after
 * the runner is gone: the runner keeps a reserve of space (made at its
 * start) that it gives up to write its last states, saying why.
 */
static void
runner_write(struct runner *r)
{
	const struct lep_err	*err;
	char			*p;

	if ((err = lep_write_json(r->state_path, r->st, 0600)) == NULL)
		return;
	p = local_job_path(r->rt, r->home, r->id, "reserve");
	if (unlink(p) == 0) {
		fprintf(stderr, "lepton: job %s: %s; gave up lepton's reserve "
		    "to record it\n", r->id, err->msg);
		if (lep_json_get_str(r->st, "disk") == NULL)
			lep_json_set_str(r->st, "disk", err->msg);
		(void)lep_write_json(r->state_path, r->st, 0600);
	}
	free(p);
}

/* Space for the last states on a disk that fills up: see runner_write. */
static void
runner_reserve(struct runner *r)
{
	char	*p = local_job_path(r->rt, r->home, r->id, "reserve");
	int	 fd;

	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) !=
	    -1) {
		if (posix_fallocate(fd, 0, 256 * 1024) != 0)
			(void)unlink(p);
		close(fd);
	}
	free(p);
}

/* Run cmd to its end; its exit status, 128+N for a signal, or -1. */
static int
run_step(struct runner *r, const struct lep_spec *sp,
    const struct lep_json *meta, const char *cmd, char **env,
    const char *log, long long deadline_ms, const char **why)
{
	struct local_spawn_req	 req;
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };
	long long	 kill_at = 0;
	pid_t		 pid, got;
	int		 status = 0, term_sent = 0;

	memset(&req, 0, sizeof(req));
	req.dir = sp->dir;
	req.cmd = cmd;
	req.log = log;
	req.env = env;
	req.spec = sp;
	req.meta = meta;
	req.home = r->home;
	req.name = sp->name;
	req.job_id = r->id;
	req.output = lep_json_get_str(meta, "output");
	req.replica = -1;
	pid = local_rt_spawn(r->rt, &req);
	if (pid == -1) {
		*why = "cannot start the job";
		return -1;
	}
	lep_json_set_int(r->st, "child", (long long)pid);
	runner_write(r);
	for (;;) {
		got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (got == -1 && errno != EINTR)
			return -1;
		if (!term_sent && (cancelled || (deadline_ms &&
		    lep_now_ms() >= deadline_ms))) {
			*why = cancelled ? "stopped" : "ran past job.max_duration";
			kill(-pid, SIGTERM);
			term_sent = 1;
			kill_at = lep_now_ms() + LOCAL_GRACE_S * 1000;
		}
		if (term_sent && lep_now_ms() >= kill_at)
			kill(-pid, SIGKILL);
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);	/* what the shell left behind */
	lep_json_set_int(r->st, "child", 0);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* The job's record, spec and secrets, as local_submit left them. */
static const struct lep_err *
runner_load(struct lep_json **meta, struct lep_spec **sp,
    struct lep_json **secrets, const struct runner *r)
{
	const struct lep_err	*err;
	struct lep_buf		 b = LEP_BUF_INIT;
	char			*p;

	p = local_job_path(r->rt, r->home, r->id, "meta.json");
	err = local_read_json(meta, p);
	free(p);
	p = local_job_path(r->rt, r->home, r->id, "spec.json");
	if (err == NULL)
		err = lep_spec_load_saved(sp, p, lep_json_get_str(*meta,
		    "spec_file"), lep_json_get_str(*meta, "dir"));
	free(p);
	p = local_job_path(r->rt, r->home, r->id, "secrets.json");
	if (err == NULL && (err = lep_creds_read_file(&b, p,
	    LEP_CREDS_FILE_MAX)) == NULL)
		err = lep_json_parse(secrets, b.buf, b.len, p);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	(void)unlink(p);	/* read once; never kept */
	free(p);
	return err;
}

/* The environment of the job's steps; free with local_env_free. */
static char **
runner_env(const struct runner *r, const struct lep_spec *sp,
    const struct lep_json *meta, const struct lep_json *secrets)
{
	const char	*output = lep_json_get_str(meta, "output");
	const char	*model_dir = lep_json_get_str(meta, "model_dir");
	char		*extra[10], **env;
	size_t		 n = 0, i;
	int		 port = lep_free_port();

	extra[n++] = xasprintf("LEPTON_JOB_ID=%s", r->id);
	extra[n++] = xstrdup("LEPTON_NODE_RANK=0");
	extra[n++] = xstrdup("LEPTON_NUM_NODES=1");
	extra[n++] = xstrdup("LEPTON_MASTER_ADDR=127.0.0.1");
	extra[n++] = xasprintf("LEPTON_MASTER_PORT=%d", port > 0 ? port :
	    29500);
	if (output != NULL)
		extra[n++] = xasprintf("LEPTON_OUTPUT_MODEL=%s", output);
	if (model_dir != NULL)
		extra[n++] = xasprintf("LEPTON_MODEL_DIR=%s", model_dir);
	extra[n] = NULL;
	env = local_env_build(sp, lep_json_get(secrets, "env"),
	    (const char *const *)extra, lep_json_get_str(meta,
	    "cuda_visible_devices"));
	for (i = 0; i < n; i++)
		free(extra[i]);
	return env;
}

/* setup, then run, within job.max_duration; their exit status. */
static int
runner_steps(struct runner *r, const struct lep_spec *sp,
    const struct lep_json *meta, char **env, const char **why)
{
	const char	*output = lep_json_get_str(meta, "output");
	long long	 deadline = 0;
	char		*log = local_job_path(r->rt, r->home, r->id, "log");
	int		 rc = 0;

	if (sp->job.max_duration > 0)
		deadline = lep_now_ms() + sp->job.max_duration * 1000;
	/* A stale output must not pass for this run's. */
	if (output != NULL)
		lep_remove_tree(output);
	if (sp->setup != NULL)
		rc = run_step(r, sp, meta, sp->setup, env, log, deadline, why);
	if (rc == 0 && !cancelled)
		rc = run_step(r, sp, meta, sp->run, env, log, deadline, why);
	free(log);
	return rc;
}

/* Record how it ended (registry, ledger) and say so in state.json. */
static void
runner_record(struct runner *r, const struct lep_spec *sp,
    const char *output, int rc, const char *why)
{
	const struct lep_err	*err;
	struct lep_job_result	 res;
	char			*model = NULL, *why_not = NULL;

	memset(&res, 0, sizeof(res));
	res.id = r->id;
	res.spec = sp;
	res.provider = r->rt->name;
	res.exit_code = rc;
	res.started = (long long)lep_json_number(lep_json_get(r->st,
	    "started"));
	res.ended = (long long)time(NULL);
	res.output = output;
	if (cancelled)
		res.state = "cancelled";
	else if (rc == 0 && why == NULL)
		res.state = "succeeded";
	else
		res.state = "failed";
	res.message = why;
	lep_json_set_str(r->st, "phase", "recording");
	lep_json_set_int(r->st, "exit_code", rc);
	lep_json_set_int(r->st, "ended", res.ended);
	runner_write(r);
	err = lep_record_job(&model, &why_not, r->home, &res);
	if (err != NULL) {
		/* Ran, but not recorded: say so; nothing is lost but that. */
		lep_json_set_str(r->st, "message", err->msg);
		fprintf(stderr, "lepton: job %s: %s\n", r->id, err->msg);
	} else if (why_not != NULL)
		lep_json_set_str(r->st, "message", why_not);
	if (why_not != NULL && strcmp(res.state, "succeeded") == 0)
		res.state = "failed";	/* no output: nothing to register */
	lep_json_set_str(r->st, "phase", res.state);
	if (model != NULL)
		lep_json_set_str(r->st, "model", model);
	runner_write(r);
	free(model);
	free(why_not);
}

int
local_job_main(int argc, char **argv)
{
	return local_job_run(&local_processes, argc, argv);
}

/* lepton __job HOME ID: run one local job, then record it. */
int
local_job_run(const struct local_runtime *rt, int argc, char **argv)
{
	const struct lep_err	*err;
	struct lep_json		*meta = NULL, *secrets = NULL;
	struct lep_spec		*sp = NULL;
	struct sigaction	 sa;
	struct runner		 r;
	const char		*why = NULL, *output;
	char			**env, *p;
	int			 rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: lepton %s HOME ID\n", rt->job_argv1);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.rt = rt;
	r.home = argv[1];
	r.id = argv[2];
	r.state_path = local_job_path(rt, r.home, r.id, "state.json");
	r.start = lep_proc_start_time((long)getpid());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((err = runner_load(&meta, &sp, &secrets, &r)) != NULL) {
		fprintf(stderr, "lepton: job %s: %s\n", r.id, err->msg);
		rc = 1;
		goto done;
	}
	runner_reserve(&r);
	r.st = lep_json_obj();
	lep_json_set_int(r.st, "pid", (long long)getpid());
	lep_json_set_num(r.st, "start", (double)r.start);
	lep_json_set_str(r.st, "name", sp->name);
	lep_json_set_str(r.st, "phase", "running");
	lep_json_set_int(r.st, "started", (long long)time(NULL));
	runner_write(&r);
	output = lep_json_get_str(meta, "output");
	env = runner_env(&r, sp, meta, secrets);
	rc = runner_steps(&r, sp, meta, env, &why);
	local_env_free(env);
	runner_record(&r, sp, output, rc, why);
	rc = 0;
done:
	lep_json_free(r.st);
	lep_json_free(meta);
	lep_json_free(secrets);
	lep_spec_free(sp);
	p = local_job_path(rt, r.home, r.id, "reserve");
	(void)unlink(p);
	free(p);
	free(r.state_path);
	return rc;
}
