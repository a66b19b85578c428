/*
 * slurm-job.c: training jobs on Slurm. A job is one allocation of
 * job.nodes nodes; srun starts one task per node with LEPTON_NODE_RANK
 * (SLURM_NODEID), LEPTON_NUM_NODES, LEPTON_MASTER_ADDR (the first node's
 * address) and LEPTON_MASTER_PORT. Its end is recorded (and its output
 * registered) by whichever lepton first sees it end; NODE_FAIL and
 * PREEMPTED resubmit it up to job.max_restarts times.
 */
#include "provider.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slurm-priv.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/record.h"
#include "../lib/spec.h"
#include "../lib/util.h"

char *
slurm_job_dir(const struct slurm_state *s, const char *id)
{
	return xasprintf("%s/jobs/%s", s->dir, id);
}

static const struct lep_err *
start_job(long long *sid, char mark[SLURM_MARK_SIZE], int *unsure,
    struct slurm_state *s, const struct lep_spec *sp, const char *id,
    const char *dir, const char *output, const char *model_dir)
{
	const struct lep_err	*err;
	char			*extra[4];
	size_t			 n = 0, i;

	extra[n++] = xasprintf("LEPTON_JOB_ID=%s", id);
	if (output != NULL)
		extra[n++] = xasprintf("LEPTON_OUTPUT_MODEL=%s", output);
	if (model_dir != NULL)
		extra[n++] = xasprintf("LEPTON_MODEL_DIR=%s", model_dir);
	extra[n] = NULL;
	err = slurm_start_run(sid, mark, unsure, s, sp, id, dir,
	    (const char *const *)extra, 0);
	for (i = 0; i < n; i++)
		free(extra[i]);
	return err;
}


/*
 * A submit lepton cannot tell took (its answer lost, no job with its mark
 * yet): recorded with the mark, for reconcile to find the job by.
 */
static void
rec_unsure(struct slurm_state *s, struct lep_json *rec, const char *id,
    const char *mark, const struct lep_err *err)
{
	lep_json_set_str(rec, "submit_mark", mark);
	lep_json_set_int(rec, "submitted", (long long)time(NULL));
	lep_json_set_str(rec, "message", "submitted; Slurm has not "
	    "confirmed it yet");
	if (s->out != NULL)
		lep_out_warn(s->out, "job %s: %s; it is recorded, and lepton "
		    "looks for a Slurm job marked '%s' for %llds", id, err->msg,
		    mark, slurm_unsure_grace_s(s));
}

/* The job's record (job.json) as submitted: its first Slurm job is sid
   (0: not known yet). */
static struct lep_json *
new_rec(const struct lep_submit_req *req, const char *output, long long sid)
{
	const struct lep_spec	*sp = req->spec;
	struct lep_json		*rec = lep_json_obj();

	lep_json_set_str(rec, "id", req->id);
	lep_json_set_str(rec, "name", sp->name);
	lep_json_set_str(rec, "spec_file", sp->file);
	lep_json_set_str(rec, "dir", sp->dir);
	if (output != NULL)
		lep_json_set_str(rec, "output", output);
	if (req->model_dir != NULL)
		lep_json_set_str(rec, "model_dir", req->model_dir);
	lep_json_set(rec, "slurm_ids", lep_json_arr());
	if (sid > 0)
		lep_json_push(lep_json_get(rec, "slurm_ids"),
		    lep_json_int(sid));
	lep_json_set_int(rec, "restarts", 0);
	lep_json_set_int(rec, "max_restarts", sp->job.max_restarts);
	lep_json_set_int(rec, "started", (long long)time(NULL));
	lep_json_set_str(rec, "phase", "running");
	return rec;
}

const struct lep_err *
slurm_submit(struct lep_job **out, void *state,
    const struct lep_submit_req *req)
{
	struct slurm_state	*s = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*rec;
	char			*dir, *p, *output = NULL, mark[SLURM_MARK_SIZE];
	long long		 sid;
	int			 unsure;

	*out = NULL;
	dir = slurm_job_dir(s, req->id);
	if ((err = slurm_discover(s)) != NULL)
		goto done;
	if (sp->job.output_model != NULL) {
		output = sp->job.output_model[0] == '/' ?
		    xstrdup(sp->job.output_model) :
		    xasprintf("%s/%s", sp->dir, sp->job.output_model);
		lep_remove_tree(output);	/* a stale one must not pass */
	}
	if ((err = start_job(&sid, mark, &unsure, s, sp, req->id, dir, output,
	    req->model_dir)) != NULL && !unsure)
		goto done;
	rec = new_rec(req, output, sid);
	if (err != NULL)
		rec_unsure(s, rec, req->id, mark, err);
	p = xasprintf("%s/job.json", dir);
	err = lep_write_json(p, rec, 0600);
	free(p);
	lep_json_free(rec);
	if (err != NULL) {
		if (sid > 0)
			(void)slurm_cancel_job(s, sid);
		goto done;
	}
	if (s->out != NULL)
		lep_out_info(s->out, "slurm: job %s is Slurm job %lld", req->id,
		    sid);
	*out = xcalloc(1, sizeof(**out));
	(*out)->id = xstrdup(req->id);
	(*out)->name = xstrdup(sp->name);
	(*out)->provider = xstrdup(provider_slurm.name);
	(*out)->state = xstrdup("running");
	(*out)->exit_code = -1;
	(*out)->started = (long long)time(NULL);
	(*out)->log_path = xasprintf("%s/log", dir);
done:
	free(output);
	free(dir);
	return err;
}

static long long
last_id(const struct lep_json *rec)
{
	const struct lep_json	*ids = lep_json_get(rec, "slurm_ids");
	size_t			 n = lep_json_len(ids);
	long long		 id;

	if (n == 0 || lep_json_ll(lep_json_at(ids, n - 1), &id) != 0)
		return 0;
	return id;
}

static struct lep_job *
job_from_rec(const struct slurm_state *s, const struct lep_json *rec)
{
	struct lep_job	*j = xcalloc(1, sizeof(*j));
	const char	*v;
	long long	 n;
	char		*dir;

	j->id = xstrdup(lep_json_get_str(rec, "id"));
	j->name = xstrdup(lep_json_get_str(rec, "name") ?
	    lep_json_get_str(rec, "name") : "");
	j->provider = xstrdup(provider_slurm.name);
	j->state = xstrdup(lep_json_get_str(rec, "phase") ?
	    lep_json_get_str(rec, "phase") : "running");
	j->exit_code = lep_json_get_ll(rec, "exit_code", &n) == 0 ? (int)n : -1;
	j->started = lep_json_get_ll(rec, "started", &n) == 0 ? n : 0;
	j->ended = lep_json_get_ll(rec, "ended", &n) == 0 ? n : 0;
	if ((v = lep_json_get_str(rec, "message")) != NULL)
		j->message = xstrdup(v);
	if ((v = lep_json_get_str(rec, "model")) != NULL)
		j->model = xstrdup(v);
	dir = slurm_job_dir(s, j->id);
	j->log_path = xasprintf("%s/log", dir);
	free(dir);
	return j;
}

/* Resubmit the job (NODE_FAIL, PREEMPTED): same script, new Slurm id. */
static const struct lep_err *
resubmit(struct slurm_state *s, struct lep_json *rec, const char *dir,
    const struct lep_spec *sp)
{
	const struct lep_err	*err;
	long long		 sid, restarts = 0;
	char			 mark[SLURM_MARK_SIZE];
	int			 unsure;

	if ((err = start_job(&sid, mark, &unsure, s, sp, lep_json_get_str(rec,
	    "id"), dir, lep_json_get_str(rec, "output"), lep_json_get_str(rec,
	    "model_dir"))) != NULL && !unsure)
		return err;
	(void)lep_json_get_ll(rec, "restarts", &restarts);
	lep_json_set_int(rec, "restarts", restarts + 1);
	if (err != NULL)
		rec_unsure(s, rec, lep_json_get_str(rec, "id"), mark, err);
	else
		lep_json_push(lep_json_get(rec, "slurm_ids"),
		    lep_json_int(sid));
	return NULL;
}

/* The job's spec, as it was submitted. */
static const struct lep_err *
rec_spec(struct lep_spec **out, const struct lep_json *rec, const char *dir)
{
	const struct lep_err	*err;
	char			*p = xasprintf("%s/spec.json", dir);

	err = lep_spec_load_saved(out, p, lep_json_get_str(rec, "spec_file"),
	    lep_json_get_str(rec, "dir"));
	free(p);
	return err;
}

/* Take the job's own lock: one lepton at a time records its end. */
static const struct lep_err *
job_lock(int *fd_out, const char *dir, const char *id)
{
	const struct lep_err	*err = NULL;
	char			*p = xasprintf("%s/lock", dir);
	int			 fd;

	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (fd == -1 || flock(fd, LOCK_EX) == -1)
		err = lep_err_errno(LEP_E_FAILED, "cannot lock job %s", id);
	*fd_out = fd;
	return err;
}

/* The Slurm job's record, or a FAILED one when Slurm forgot the job. */
static const struct lep_err *
job_or_forgotten(struct lep_json **out, struct slurm_state *s, long long sid)
{
	const struct lep_err	*err;

	err = slurm_get_job(out, s, sid);
	if (err != NULL && err->code == LEP_E_NOT_FOUND) {
		/* Forgotten (MinJobAge passed) before anyone looked. */
		err = NULL;
		*out = lep_json_obj();
		lep_json_set_str(*out, "job_state", "FAILED");
		lep_json_set_str(*out, "state_reason", "ForgottenBySlurm");
	}
	return err;
}

/*
 * A job Slurm still runs: is it over job.max_restarts? Slurm requeued it
 * itself (a node failed, it was preempted; some servers ignore "requeue":
 * false): that counts too. Then it is cancelled, and *over says why
 * (caller frees). Otherwise its message in rec: why it is pending.
 */
static void
update_running(char **over, struct slurm_state *s, struct lep_json *rec,
    const struct lep_json *sj, long long sid)
{
	const char	*reason = lep_json_get_str(sj, "state_reason");
	char		*msg = NULL;
	long long	 restarts = 0, maxr = 0, requeued;

	*over = NULL;
	(void)lep_json_get_ll(rec, "restarts", &restarts);
	(void)lep_json_get_ll(rec, "max_restarts", &maxr);
	requeued = slurm_num(sj, "restart_cnt", 0);
	if (restarts + requeued > maxr) {
		(void)slurm_cancel_job(s, sid);
		*over = xasprintf("Slurm requeued job %lld %lld time(s), over "
		    "job.max_restarts %lld", sid, requeued, maxr);
	} else {
		if (lep_streq(slurm_job_state(sj), "PENDING") && reason != NULL)
			msg = xasprintf("pending in Slurm (%s)", reason);
		lep_json_set(rec, "message", msg ? lep_json_str(msg) :
		    lep_json_null());
		free(msg);
	}
}

/*
 * What lib/record is told of the job's end: phase, why (over: lepton
 * ended it; else Slurm's words unless it succeeded), exit and times.
 * *msg: res->message, caller frees.
 */
static void
end_result(struct lep_job_result *res, char **msg, const struct lep_json *rec,
    const struct lep_json *sj, long long sid, const char *phase,
    const char *over)
{
	int	 code, sig;

	slurm_job_exit(sj, &code, &sig);
	if (over != NULL) {
		*msg = xstrdup(over);
		code = 1;
	} else
		*msg = strcmp(phase, "succeeded") ? slurm_end_message(sj, sid) :
		    NULL;
	res->provider = provider_slurm.name;
	res->state = phase;
	res->message = *msg;
	res->exit_code = code >= 0 ? code : (sig > 0 ? 128 + sig : 1);
	res->started = slurm_num(sj, "start_time", 0);
	res->ended = slurm_num(sj, "end_time", 0);
	if (res->ended <= 0 || res->ended > (long long)time(NULL))
		res->ended = (long long)time(NULL);
	/* A job ended while pending has an expected start, or none. */
	if (res->started <= 0 || res->started > res->ended)
		(void)lep_json_get_ll(rec, "started", &res->started);
	res->output = lep_json_get_str(rec, "output");
	if (strcmp(phase, "succeeded") == 0 && res->output != NULL &&
	    access(res->output, F_OK) == -1) {
		/* Nothing to register: say where it may have gone. */
		*msg = xasprintf("job.outputs.model '%s' is not here: the job "
		    "did not write it, or wrote it on storage this machine "
		    "does not share with the cluster", res->output);
		res->message = *msg;
		res->state = "failed";
		res->output = NULL;
	}
}

/*
 * Record the job's end (lib/record: history, its output registered) and
 * write it into rec. over: why lepton failed a job Slurm still ran.
 */
static const struct lep_err *
record_end(struct slurm_state *s, const char *id, struct lep_json *rec,
    const struct lep_json *sj, const struct lep_spec *sp, long long sid,
    const char *phase, const char *over)
{
	const struct lep_err	*err;
	struct lep_job_result	 res;
	char			*msg = NULL, *model = NULL, *why = NULL;

	memset(&res, 0, sizeof(res));
	res.id = id;
	res.spec = sp;
	end_result(&res, &msg, rec, sj, sid, phase, over);
	phase = res.state;
	if ((err = lep_record_job(&model, &why, s->home, &res)) != NULL)
		goto done;
	if (why != NULL && strcmp(phase, "succeeded") == 0)
		phase = "failed";	/* no output: nothing registered */
	lep_json_set_str(rec, "phase", phase);
	lep_json_set_int(rec, "exit_code", res.exit_code);
	lep_json_set_int(rec, "ended", res.ended);
	lep_json_set_int(rec, "started", res.started);
	lep_json_set(rec, "message", why ? lep_json_str(why) : msg ?
	    lep_json_str(msg) : lep_json_null());
	if (model != NULL)
		lep_json_set_str(rec, "model", model);
done:
	free(msg);
	free(model);
	free(why);
	return err;
}

/*
 * A submit whose answer was lost (rec's submit_mark): the Slurm job with
 * its mark, once found, goes on slurm_ids. Until then *unseen: why, in
 * words (caller frees), once it is over: its grace passed, or cancel.
 */
static const struct lep_err *
resolve_mark(char **unseen, int *waiting, struct slurm_state *s,
    struct lep_json *rec, int cancel)
{
	const struct lep_err	*err;
	const char		*mark = lep_json_get_str(rec, "submit_mark");
	long long		 id, since = 0;

	*unseen = NULL;
	*waiting = 0;
	if (mark == NULL)
		return NULL;
	if ((err = slurm_find_marked(&id, s, mark)) == NULL) {
		lep_json_push(lep_json_get(rec, "slurm_ids"), lep_json_int(id));
		lep_json_set(rec, "submit_mark", lep_json_null());
		lep_json_set(rec, "message", lep_json_null());
		return NULL;
	}
	if (err->code != LEP_E_NOT_FOUND)
		return err;
	(void)lep_json_get_ll(rec, "submitted", &since);
	if (cancel)
		*unseen = xasprintf("cancelled before Slurm showed its submit "
		    "(no job marked '%s')", mark);
	else if ((long long)time(NULL) - since >= slurm_unsure_grace_s(s))
		*unseen = xasprintf("its submit never reached Slurm (no job "
		    "marked '%s' within %llds)", mark, slurm_unsure_grace_s(s));
	else
		*waiting = 1;
	if (*unseen != NULL)
		lep_json_set(rec, "submit_mark", lep_json_null());
	return NULL;
}

/*
 * Bring the record up to date with Slurm: find a job whose submit's
 * answer was lost, resubmit, or record the end (once: under a lock of
 * the job's own, the record re-read inside it). cancel: a lost submit
 * not found is over, cancelled.
 */
static const struct lep_err *
reconcile(struct slurm_state *s, const char *id, struct lep_json **recp,
    int cancel)
{
	const struct lep_err	*err;
	struct lep_json		*rec, *sj = NULL;
	struct lep_spec		*sp = NULL;
	const char		*phase, *st = NULL;
	char			*dir = slurm_job_dir(s, id), *p = NULL;
	char			*over = NULL;
	long long		 sid, restarts = 0;
	int			 fd = -1, retry, waiting;

	if ((err = job_lock(&fd, dir, id)) != NULL)
		goto done;
	p = xasprintf("%s/job.json", dir);
	if ((err = lep_read_json(&rec, p, LEP_DRIVER_FILE_MAX)) != NULL)
		goto done;
	lep_json_free(*recp);
	*recp = rec;
	if (!lep_streq(lep_json_get_str(rec, "phase"), "running"))
		goto done;
	if ((err = resolve_mark(&over, &waiting, s, rec, cancel)) != NULL)
		goto done;
	if (waiting)
		goto save;
	sid = last_id(rec);
	if (over != NULL) {
		/* No Slurm job to ask: the end is lepton's to say. */
		sj = lep_json_obj();
		lep_json_set_str(sj, "job_state", cancel ? "CANCELLED" :
		    "FAILED");
		phase = cancel ? "cancelled" : "failed";
		retry = 0;
		goto end;
	}
	if ((err = job_or_forgotten(&sj, s, sid)) != NULL)
		goto done;
	st = slurm_job_state(sj);
	phase = slurm_map_state(st, &retry);
	if (strcmp(phase, "running") == 0) {
		update_running(&over, s, rec, sj, sid);
		if (over == NULL)
			goto save;
		phase = "failed";
	}
end:
	if ((err = rec_spec(&sp, rec, dir)) != NULL)
		goto done;
	(void)lep_json_get_ll(rec, "restarts", &restarts);
	if (over == NULL && retry && restarts < sp->job.max_restarts) {
		if (s->out != NULL)
			lep_out_warn(s->out, "job %s: Slurm job %lld %s; "
			    "submitting it again (restart %lld of %d)", id, sid,
			    st, restarts + 1, sp->job.max_restarts);
		err = resubmit(s, rec, dir, sp);
	} else
		err = record_end(s, id, rec, sj, sp, sid, phase, over);
	if (err != NULL)
		goto done;
save:
	err = lep_write_json(p, rec, 0600);
done:
	if (fd != -1)
		close(fd);
	lep_json_free(sj);
	lep_spec_free(sp);
	free(over);
	free(dir);
	free(p);
	return err;
}

const struct lep_err *
slurm_job_status(struct lep_job **out, void *state, const char *id)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*rec = NULL;
	struct stat		 sb;
	char			*dir = slurm_job_dir(s, id), *p;

	*out = NULL;
	p = xasprintf("%s/job.json", dir);
	free(dir);
	if (stat(p, &sb) == -1) {
		err = lep_err_new(LEP_E_NOT_FOUND, "no job '%s' on the slurm "
		    "provider", id);
		goto done;
	}
	err = reconcile(s, id, &rec, 0);
	if (rec != NULL)
		*out = job_from_rec(s, rec);
	if (err != NULL && *out != NULL) {
		/* Slurm unreachable: say what we last knew, and why. */
		lep_job_free(*out);
		*out = NULL;
	}
done:
	lep_json_free(rec);
	free(p);
	return err;
}

const struct lep_err *
slurm_cancel(struct lep_job **out, void *state, const char *id, int grace_s)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_job		*j = NULL;
	struct lep_json		*rec = NULL, *end;
	char			*dir, *p;

	*out = NULL;
	if ((err = slurm_job_status(&j, s, id)) != NULL)
		goto done;
	if (strcmp(j->state, "running") != 0) {
		*out = j;
		j = NULL;
		goto done;
	}
	dir = slurm_job_dir(s, id);
	p = xasprintf("%s/job.json", dir);
	free(dir);
	err = lep_read_json(&rec, p, LEP_DRIVER_FILE_MAX);
	free(p);
	/*
	 * A submit whose answer was lost, its job not seen yet: one found
	 * now is cancelled below; none, and it is recorded cancelled.
	 */
	if (err == NULL && lep_json_get_str(rec, "submit_mark") != NULL)
		err = reconcile(s, id, &rec, 1);
	if (err == NULL && lep_streq(lep_json_get_str(rec, "phase"),
	    "running") && (err = slurm_cancel_job(s, last_id(rec))) == NULL) {
		end = slurm_wait_end(s, last_id(rec), grace_s > 0 ?
		    grace_s + 5 : 5);
		lep_json_free(end);
	}
	if (err == NULL)
		err = slurm_job_status(out, s, id);
done:
	lep_job_free(j);
	lep_json_free(rec);
	return err;
}
