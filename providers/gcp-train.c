/*
 * gcp-train.c: a job is a Vertex AI custom job whose displayName is the
 * job's id. The spec's directory goes to
 * gs://BUCKET/jobs/ID/code/sourcedir.tar.gz (an input model, to
 * jobs/ID/model/model.tar.gz); the container reads both through the
 * Cloud Storage FUSE mount that Vertex gives every custom job (/gcs/),
 * unpacks the code and runs the spec's run there (the image's own
 * command without one). Its output goes to Vertex's AIP_MODEL_DIR,
 * gs://BUCKET/jobs/ID/output/model/ (through /gcs/ again). Once the job
 * succeeds, those objects are fetched into HOME/gcp/jobs/ID/output/ and
 * registered as the next model version (lib/record).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gcp-priv.h"
#include "provider.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/gzip.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/record.h"
#include "../lib/spec.h"
#include "../lib/tar.h"
#include "../lib/types.h"
#include "../lib/util.h"

/*
 * What the container runs with a spec's run. The code (and an input
 * model) is read through the /gcs/BUCKET/OBJECT mount rather than
 * fetched: the image need not hold gsutil or credentials. The output
 * directory is made on the mount, so that a run that writes nothing
 * still finds it.
 */
#define TRAIN_ENTRY	"set -e; " \
			"mkdir -p /tmp/lepton/code; cd /tmp/lepton/code; " \
			"tar xzf \"/gcs/${LEPTON_CODE_URI#gs://}\"; " \
			"if [ -n \"${LEPTON_MODEL_URI:-}\" ]; then " \
			"mkdir -p /tmp/lepton/model; " \
			"tar xzf \"/gcs/${LEPTON_MODEL_URI#gs://}\" " \
			"-C /tmp/lepton/model; " \
			"export LEPTON_MODEL_DIR=/tmp/lepton/model; fi; " \
			"mkdir -p \"$LEPTON_OUTPUT_MODEL\"; " \
			"exec /bin/sh -c \"$LEPTON_RUN\""
/* Vertex's ceiling on a container's environment. */
#define TRAIN_ENV_MAX	100
/* The variables lepton adds to the spec's env, at most. */
#define TRAIN_ENV_OWN	6

static const struct lep_err *
job_read(struct lep_json **out, struct gcp_state *s, const char *id)
{
	const struct lep_err	*err;
	char			*p = gcp_file(s, "jobs", id);

	err = lep_read_json(out, p, LEP_DRIVER_FILE_MAX);
	free(p);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		return lep_err_new(LEP_E_NOT_FOUND, "no job '%s' on the gcp "
		    "provider", id);
	return err;
}

static const struct lep_err *
job_write(struct gcp_state *s, const char *id, const struct lep_json *j)
{
	const struct lep_err	*err;
	char			*dir = xasprintf("%s/gcp/jobs", s->home);
	char			*p = gcp_file(s, "jobs", id);

	if ((err = lep_mkdirs(dir, 0700)) == NULL)
		err = lep_write_json(p, j, 0600);
	free(dir);
	free(p);
	return err;
}

/* A label value: lowercase letters, digits, '-' and '_', 63 at most. */
static char *
label(const char *s)
{
	/* xstrndup copies n bytes, whatever their length. */
	char	*l = xstrndup(s, strnlen(s, 63)), *p;

	for (p = l; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (!((*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			*p = '-';
	}
	return l;
}

static void
env_add(struct lep_json *env, const char *name, const char *value)
{
	struct lep_json	*e = lep_json_obj();

	lep_json_set_str(e, "name", name);
	lep_json_set_str(e, "value", value);
	lep_json_push(env, e);
}

/* One worker pool: count replicas of the same machine and container. */
static struct lep_json *
worker_pool(const struct lep_spec *sp, const char *machine, int count,
    const struct lep_json *container)
{
	struct lep_json	*w = lep_json_obj(), *m = lep_json_obj();
	const char	*acc;
	char		 n[24];

	lep_json_set_str(m, "machineType", machine);
	if (sp->resources.naccels > 0 && (acc =
	    gcp_accelerator(sp->resources.accels[0].name)) != NULL) {
		lep_json_set_str(m, "acceleratorType", acc);
		lep_json_set_int(m, "acceleratorCount",
		    sp->resources.accels[0].count > 0 ?
		    sp->resources.accels[0].count : 1);
	}
	lep_json_set(w, "machineSpec", m);
	/* int64: a string in JSON. */
	snprintf(n, sizeof(n), "%d", count);
	lep_json_set_str(w, "replicaCount", n);
	lep_json_set(w, "containerSpec", lep_json_dup(container));
	return w;
}

/* The CustomJob that customJobs.create takes. */
static struct lep_json *
custom_job(const struct lep_spec *sp, const char *id, const char *bucket,
    const char *machine, int with_model)
{
	struct lep_json	*b = lep_json_obj(), *js = lep_json_obj();
	struct lep_json	*c = lep_json_obj(), *env = lep_json_arr();
	struct lep_json	*pools = lep_json_arr(), *o, *cmd, *l;
	int		 nodes = sp->job.nodes > 0 ? sp->job.nodes : 1;
	char		*v, *n;
	size_t		 i;

	lep_json_set_str(b, "displayName", id);
	l = lep_json_obj();
	n = label(sp->name);
	lep_json_set_str(l, "lepton-job", n);
	free(n);
	lep_json_set(b, "labels", l);

	lep_json_set_str(c, "imageUri", sp->image.ref);
	if (sp->run != NULL) {
		cmd = lep_json_arr();
		lep_json_push(cmd, lep_json_str("/bin/sh"));
		lep_json_push(cmd, lep_json_str("-c"));
		lep_json_push(cmd, lep_json_str(TRAIN_ENTRY));
		lep_json_set(c, "command", cmd);
		env_add(env, "LEPTON_RUN", sp->run);
	}
	for (i = 0; i < sp->nenv; i++)
		env_add(env, sp->env[i].key, sp->env[i].value);
	env_add(env, "LEPTON_JOB_ID", id);
	n = xasprintf("%d", nodes);
	env_add(env, "LEPTON_NUM_NODES", n);
	free(n);
	v = xasprintf("gs://%s/jobs/%s/code/sourcedir.tar.gz", bucket, id);
	env_add(env, "LEPTON_CODE_URI", v);
	free(v);
	if (with_model) {
		v = xasprintf("gs://%s/jobs/%s/model/model.tar.gz", bucket,
		    id);
		env_add(env, "LEPTON_MODEL_URI", v);
		free(v);
	}
	/* AIP_MODEL_DIR, as the mount shows it. */
	v = xasprintf("/gcs/%s/jobs/%s/output/model", bucket, id);
	env_add(env, "LEPTON_OUTPUT_MODEL", v);
	free(v);
	lep_json_set(c, "env", env);

	/*
	 * Vertex wants the first pool to be the one primary replica: the
	 * other nodes are a second pool of the same machines.
	 */
	lep_json_push(pools, worker_pool(sp, machine, 1, c));
	if (nodes > 1)
		lep_json_push(pools, worker_pool(sp, machine, nodes - 1, c));
	lep_json_free(c);
	lep_json_set(js, "workerPoolSpecs", pools);
	o = lep_json_obj();
	v = xasprintf("gs://%s/jobs/%s/output/", bucket, id);
	lep_json_set_str(o, "outputUriPrefix", v);
	free(v);
	lep_json_set(js, "baseOutputDirectory", o);
	if (sp->job.max_duration > 0) {
		o = lep_json_obj();
		v = xasprintf("%llds", sp->job.max_duration);
		lep_json_set_str(o, "timeout", v);
		free(v);
		lep_json_set(js, "scheduling", o);
	}
	lep_json_set(b, "jobSpec", js);
	return b;
}

static struct lep_job *
job_of(const char *id, const struct lep_json *j)
{
	struct lep_job	*jb = xcalloc(1, sizeof(*jb));
	const char	*v;
	long long	 n;

	jb->id = xstrdup(id);
	jb->name = xstrdup((v = lep_json_get_str(j, "name")) ? v : id);
	jb->provider = xstrdup("gcp");
	jb->state = xstrdup((v = lep_json_get_str(j, "phase")) ? v :
	    "running");
	if ((v = lep_json_get_str(j, "message")) != NULL)
		jb->message = xstrdup(v);
	jb->exit_code = lep_json_get_ll(j, "exit_code", &n) == 0 ? (int)n : -1;
	jb->started = lep_json_get_ll(j, "started", &n) == 0 ? n : 0;
	jb->ended = lep_json_get_ll(j, "ended", &n) == 0 ? n : 0;
	if ((v = lep_json_get_str(j, "model")) != NULL)
		jb->model = xstrdup(v);
	return jb;
}

/* dir as a gzip'd tar, stored as gs://bucket/object. */
static const struct lep_err *
put_tree(struct gcp_state *s, const char *bucket, const char *object,
    const char *dir)
{
	const struct lep_err	*err;
	struct lep_buf		 tar = LEP_BUF_INIT, tgz = LEP_BUF_INIT;

	if ((err = lep_tar_dir(&tar, dir, LEP_TAR_MAX, NULL)) == NULL &&
	    (err = lep_gzip(&tgz, tar.buf, tar.len)) == NULL)
		err = gcp_gcs_put(s, bucket, object, tgz.buf, tgz.len);
	lep_buf_release(&tar);
	lep_buf_release(&tgz);
	return err;
}

/* "projects/P/locations/R/customJobs/NUM": NUM. */
static const char *
job_num(const char *name)
{
	const char	*p = strrchr(name, '/');

	return p != NULL ? p + 1 : name;
}

const struct lep_err *
gcp_submit(struct lep_job **out, void *state, const struct lep_submit_req *req)
{
	struct gcp_state	*s = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*j = lep_json_obj(), *ans = NULL, *body;
	const char		*project, *name;
	char			*region = NULL, *bucket = NULL, *obj = NULL;
	char			*machine = NULL, *parent = NULL, *path = NULL;
	int			 nodes = sp->job.nodes > 0 ? sp->job.nodes : 1;

	*out = NULL;
	if (sp->nenv + TRAIN_ENV_OWN > TRAIN_ENV_MAX) {
		err = lep_err_new(LEP_E_UNSUPPORTED, "%s: 'env' has %zu "
		    "variables: Vertex AI takes at most %d in a container, "
		    "%d of them lepton's", sp->file, sp->nenv, TRAIN_ENV_MAX,
		    TRAIN_ENV_OWN);
		goto done;
	}
	if ((err = gcp_project(&project, s)) != NULL)
		goto done;
	region = gcp_region(s, sp, req->region);
	if ((err = gcp_bucket(&bucket, s, region)) != NULL)
		goto done;
	machine = gcp_machine(req->instance);
	lep_json_set_str(j, "id", req->id);
	lep_json_set_str(j, "name", sp->name);
	lep_json_set_str(j, "project", project);
	lep_json_set_str(j, "region", region);
	lep_json_set_str(j, "bucket", bucket);
	lep_json_set_str(j, "instance", machine);
	lep_json_set_int(j, "started", (long long)time(NULL));
	lep_json_set(j, "spec", lep_spec_to_json(sp));
	lep_json_set_str(j, "spec_file", sp->file);
	lep_json_set_str(j, "spec_dir", sp->dir);
	/* Until Vertex's answer is recorded: a kill in between leaves a
	   job only its displayName finds (adopt). */
	lep_json_set_str(j, "phase", "submitting");
	if ((err = job_write(s, req->id, j)) != NULL)
		goto done;
	obj = xasprintf("jobs/%s/code/sourcedir.tar.gz", req->id);
	if ((err = put_tree(s, bucket, obj, sp->dir)) != NULL)
		goto done;
	if (req->model_dir != NULL) {
		free(obj);
		obj = xasprintf("jobs/%s/model/model.tar.gz", req->id);
		if ((err = put_tree(s, bucket, obj, req->model_dir)) != NULL)
			goto done;
	}
	body = custom_job(sp, req->id, bucket, machine,
	    req->model_dir != NULL);
	parent = gcp_parent(project, region);
	path = xasprintf("v1/%s/customJobs", parent);
	/* The answer is the CustomJob itself, not an operation. */
	if ((err = gcp_call(&ans, NULL, s, GCP_VERTEX, region, "POST", path,
	    body)) != NULL)
		goto done;
	if ((name = lep_json_get_str(ans, "name")) == NULL) {
		err = lep_err_new(LEP_E_PROVIDER, "Vertex AI: customJobs.create "
		    "of %s answered no name", req->id);
		goto done;
	}
	lep_json_set_str(j, "job", name);
	lep_json_set_str(j, "phase", "running");
	if ((err = job_write(s, req->id, j)) == NULL)
		*out = job_of(req->id, j);
	if (s->out != NULL)
		lep_out_info(s->out, "gcp: job %s is Vertex AI custom job %s "
		    "on %d x %s in %s", req->id, job_num(name), nodes, machine,
		    region);
done:
	if (err != NULL) {
		/* Nothing runs (a capacity refusal included: lib/ tries the
		   next offer): no record naming a job. */
		char *p = gcp_file(s, "jobs", req->id);

		(void)unlink(p);
		free(p);
	}
	lep_json_free(j);
	lep_json_free(ans);
	free(region);
	free(bucket);
	free(obj);
	free(machine);
	free(parent);
	free(path);
	return err;
}

/*
 * A relative path of the output, as an object's name below the prefix:
 * no absolute name, no "." or "..", no empty component (the objects
 * are written under one directory, and must stay there).
 */
static int
rel_ok(const char *rel)
{
	const char	*p = rel, *e;
	size_t		 n;

	if (*rel == '\0' || *rel == '/')
		return 0;
	for (;;) {
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (e == NULL)
			return 1;
		p = e + 1;
	}
}

/* One object, written as dir/rel. */
static const struct lep_err *
write_object(const char *dir, const char *rel, const struct lep_buf *b)
{
	const struct lep_err	*err;
	char			*p = xasprintf("%s/%s", dir, rel), *slash;

	slash = strrchr(p, '/');
	*slash = '\0';
	err = lep_mkdirs(p, 0700);
	*slash = '/';
	if (err == NULL)
		err = lep_write_atomic(p, b->buf, b->len, 0600);
	free(p);
	return err;
}

/*
 * The objects under gs://BUCKET/jobs/ID/output/model/ (AIP_MODEL_DIR),
 * fetched into HOME/gcp/jobs/ID/output/ with their relative paths, at
 * most GCP_OUTPUT_MAX bytes in all. *why_out (caller frees): why the
 * output cannot be taken (none, a name that is no relative path, too
 * large), for good: the job failed. An error is one worth asking again.
 */
static const struct lep_err *
fetch_output(char **dir_out, char **why_out, struct gcp_state *s,
    const struct lep_json *j, const char *id)
{
	const struct lep_err	*err;
	struct lep_json		*names = NULL;
	struct lep_buf		 b = LEP_BUF_INIT;
	const char		*bucket = lep_json_get_str(j, "bucket"), *n;
	const char		*rel;
	char			*prefix, *dir;
	size_t			 i, total = 0, files = 0;

	*dir_out = *why_out = NULL;
	if (bucket == NULL)
		return lep_err_new(LEP_E_CORRUPT, "job %s: its record names no "
		    "bucket", id);
	prefix = xasprintf("jobs/%s/output/model/", id);
	dir = xasprintf("%s/gcp/jobs/%s/output", s->home, id);
	lep_remove_tree(dir);
	if ((err = gcp_gcs_list(&names, s, bucket, prefix)) != NULL) {
		/* The bucket is gone: so is the output. */
		if (err->code == LEP_E_NOT_FOUND) {
			*why_out = xasprintf("%s: the job's output is gone",
			    err->msg);
			err = NULL;
		}
		goto done;
	}
	if ((err = lep_mkdirs(dir, 0700)) != NULL)
		goto done;
	for (i = 0; i < lep_json_len(names); i++) {
		n = lep_json_string(lep_json_at(names, i));
		if (n == NULL || !lep_starts_with(n, prefix))
			continue;
		rel = n + strlen(prefix);
		/* A directory's placeholder (the mount's mkdir). */
		if (*rel == '\0' || lep_ends_with(rel, "/"))
			continue;
		if (!rel_ok(rel)) {
			*why_out = xasprintf("the output holds gs://%s/%s: a "
			    "name that cannot be a file under one directory",
			    bucket, n);
			goto done;
		}
		err = gcp_gcs_get(&b, s, bucket, n, GCP_OUTPUT_MAX - total);
		if (err != NULL && err->code == LEP_E_FAILED) {
			*why_out = xasprintf("the output, gs://%s/%s, is over "
			    "%u bytes", bucket, prefix, GCP_OUTPUT_MAX);
			err = NULL;
			goto done;
		}
		if (err != NULL)
			goto done;
		total += b.len;
		err = write_object(dir, rel, &b);
		lep_buf_release(&b);
		if (err != NULL)
			goto done;
		files++;
	}
	if (files == 0)
		*why_out = xasprintf("gs://%s/%s holds no file: the job wrote "
		    "nothing to AIP_MODEL_DIR ($LEPTON_OUTPUT_MODEL)", bucket,
		    prefix);
done:
	if (err == NULL && *why_out == NULL) {
		*dir_out = dir;
		dir = NULL;
	} else
		lep_remove_tree(dir);
	lep_buf_release(&b);
	lep_json_free(names);
	free(prefix);
	free(dir);
	return err;
}

/*
 * A job that ended needs its inputs no more: the code archive and the
 * input model go (one already gone is fine); its output stays, as the
 * model's files. A failed delete is said, not an error: the job's end
 * is recorded either way.
 */
static void
drop_inputs(struct gcp_state *s, const char *id, const struct lep_json *j)
{
	const struct lep_err	*e;
	const char		*b = lep_json_get_str(j, "bucket");
	char			*o;
	int			 k;

	if (b == NULL)
		return;
	for (k = 0; k < 2; k++) {
		o = xasprintf(k == 0 ? "jobs/%s/code/sourcedir.tar.gz" :
		    "jobs/%s/model/model.tar.gz", id);
		if ((e = gcp_gcs_delete(s, b, o)) != NULL && s->out != NULL)
			lep_out_warn(s->out, "gcp: gs://%s/%s is left: %s", b,
			    o, e->msg);
		free(o);
	}
}

/* The job ended: record it (lib/record), its output registered. */
static const struct lep_err *
record_end(struct gcp_state *s, const char *id, struct lep_json *j,
    const struct lep_json *ans, const char *phase)
{
	const struct lep_err	*err;
	struct lep_job_result	 res;
	struct lep_spec		*sp = NULL;
	char			*text, *outdir = NULL, *model = NULL;
	char			*why = NULL, *msg = NULL;

	text = lep_json_print(lep_json_get(j, "spec"), 0);
	err = lep_spec_parse(&sp, lep_json_get_str(j, "spec_file") ?
	    lep_json_get_str(j, "spec_file") : id, lep_json_get_str(j,
	    "spec_dir") ? lep_json_get_str(j, "spec_dir") : "/", text,
	    strlen(text));
	free(text);
	if (err != NULL)
		return err;
	memset(&res, 0, sizeof(res));
	res.id = id;
	res.spec = sp;
	res.provider = "gcp";
	res.state = phase;
	res.message = lep_json_get_str(lep_json_get(ans, "error"), "message");
	if (res.message == NULL && lep_streq(lep_json_get_str(ans, "state"),
	    "JOB_STATE_EXPIRED"))
		res.message = "Vertex AI: the job expired (JOB_STATE_EXPIRED)";
	res.exit_code = strcmp(phase, "succeeded") == 0 ? 0 : 1;
	(void)lep_json_get_ll(j, "started", &res.started);
	res.ended = (long long)time(NULL);
	if (strcmp(phase, "succeeded") == 0 && sp->job.output_model != NULL) {
		/* A network error: the next status asks again. */
		if ((err = fetch_output(&outdir, &msg, s, j, id)) != NULL)
			goto done;
		if (msg != NULL) {
			res.state = "failed";
			res.message = msg;
			res.exit_code = 1;
		}
		res.output = outdir;
	}
	if ((err = lep_record_job(&model, &why, s->home, &res)) != NULL)
		goto done;
	lep_json_set_str(j, "phase", why != NULL && strcmp(res.state,
	    "succeeded") == 0 ? "failed" : res.state);
	lep_json_set_int(j, "exit_code", why ? 1 : res.exit_code);
	lep_json_set_int(j, "ended", res.ended);
	lep_json_set(j, "message", why ? lep_json_str(why) : res.message ?
	    lep_json_str(res.message) : lep_json_null());
	if (model != NULL)
		lep_json_set_str(j, "model", model);
	if ((err = job_write(s, id, j)) == NULL)
		drop_inputs(s, id, j);
done:
	lep_spec_free(sp);
	free(outdir);
	free(model);
	free(why);
	free(msg);
	return err;
}

/* Vertex's JobState as lepton's job state. */
static const char *
phase_of(const char *st)
{
	if (lep_streq(st, "JOB_STATE_SUCCEEDED"))
		return "succeeded";
	/* PARTIALLY_SUCCEEDED is a batch prediction's, never a custom
	   job's: not all of it ran, so not a success. */
	if (lep_streq(st, "JOB_STATE_FAILED") ||
	    lep_streq(st, "JOB_STATE_EXPIRED") ||
	    lep_streq(st, "JOB_STATE_PARTIALLY_SUCCEEDED"))
		return "failed";
	if (lep_streq(st, "JOB_STATE_CANCELLED"))
		return "cancelled";
	/* QUEUED, PENDING, RUNNING, CANCELLING, UPDATING, PAUSED. */
	return "running";
}

/*
 * A record a submit left before it recorded Vertex's answer (killed
 * between customJobs.create and the write): the custom job, if Vertex
 * made it, is found by its displayName (the id) and recorded; if not,
 * nothing runs, and the record says the job failed. Errors: as gcp_call.
 */
static const struct lep_err *
adopt(struct gcp_state *s, const char *id, struct lep_json *j)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*ans, *jobs;
	const char		*project, *region, *tok, *name = NULL;
	char			*parent, *path, *t = NULL, *q;
	size_t			 i;

	if (lep_json_get_str(j, "job") != NULL ||
	    (lep_json_get_str(j, "phase") != NULL &&
	    !lep_streq(lep_json_get_str(j, "phase"), "submitting")))
		return NULL;
	if ((project = lep_json_get_str(j, "project")) == NULL ||
	    (region = lep_json_get_str(j, "region")) == NULL)
		return lep_err_new(LEP_E_FAILED, "job %s: its record names no "
		    "project or region", id);
	parent = gcp_parent(project, region);
	q = xasprintf("display_name=\"%s\"", id);
	path = lep_url_escape(q);
	free(q);
	q = path;
	for (;;) {
		path = xasprintf("v1/%s/customJobs?filter=%s%s%s", parent, q,
		    t != NULL ? "&pageToken=" : "", t != NULL ? t : "");
		free(t);
		t = NULL;
		ans = NULL;
		err = gcp_call(&ans, NULL, s, GCP_VERTEX, region, "GET", path,
		    NULL);
		free(path);
		if (err != NULL)
			break;
		jobs = lep_json_get(ans, "customJobs");
		for (i = 0; i < lep_json_len(jobs); i++)
			if (lep_streq(lep_json_get_str(lep_json_at(jobs, i),
			    "displayName"), id) && name == NULL)
				name = lep_json_get_str(lep_json_at(jobs, i),
				    "name");
		if (name != NULL)
			lep_json_set_str(j, "job", name);
		tok = lep_json_get_str(ans, "nextPageToken");
		if (name == NULL && tok != NULL && *tok != '\0')
			t = lep_url_escape(tok);
		lep_json_free(ans);
		if (t == NULL)
			break;
	}
	free(q);
	free(parent);
	if (err != NULL)
		return err;
	if (lep_json_get_str(j, "job") != NULL)
		lep_json_set_str(j, "phase", "running");
	else {
		lep_json_set_str(j, "phase", "failed");
		lep_json_set_int(j, "exit_code", 1);
		lep_json_set_int(j, "ended", (long long)time(NULL));
		lep_json_set_str(j, "message", "lepton was stopped before "
		    "Vertex AI made the custom job: nothing ran");
	}
	return job_write(s, id, j);
}

const struct lep_err *
gcp_job_status(struct lep_job **out, void *state, const char *id)
{
	struct gcp_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*j = NULL, *ans = NULL;
	const char		*phase, *name;
	char			*path;

	*out = NULL;
	if ((err = job_read(&j, s, id)) != NULL)
		return err;
	if ((err = adopt(s, id, j)) != NULL)
		goto done;
	if (!lep_streq(lep_json_get_str(j, "phase"), "running") ||
	    (name = lep_json_get_str(j, "job")) == NULL)
		goto done;	/* ended, and recorded */
	path = xasprintf("v1/%s", name);
	err = gcp_call(&ans, NULL, s, GCP_VERTEX, lep_json_get_str(j,
	    "region"), "GET", path, NULL);
	free(path);
	if (err != NULL)
		goto done;
	phase = phase_of(lep_json_get_str(ans, "state"));
	if (strcmp(phase, "running") != 0)
		err = record_end(s, id, j, ans, phase);
done:
	if (err == NULL)
		*out = job_of(id, j);
	lep_json_free(ans);
	lep_json_free(j);
	return err;
}

const struct lep_err *
gcp_cancel(struct lep_job **out, void *state, const char *id, int grace_s)
{
	struct gcp_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*j = NULL;
	struct timespec		 ts = { 1, 0 };
	long long		 until = lep_now_ms() + (grace_s + 60) * 1000LL;
	const char		*name;
	char			*path;

	*out = NULL;
	if ((err = job_read(&j, s, id)) != NULL)
		return err;
	if ((err = adopt(s, id, j)) != NULL) {
		lep_json_free(j);
		return err;
	}
	if (lep_streq(lep_json_get_str(j, "phase"), "running") &&
	    (name = lep_json_get_str(j, "job")) != NULL) {
		path = xasprintf("v1/%s:cancel", name);
		err = gcp_call(NULL, NULL, s, GCP_VERTEX, lep_json_get_str(j,
		    "region"), "POST", path, lep_json_obj());
		free(path);
		/* Ended on its own meanwhile (FAILED_PRECONDITION): its
		   status says how. */
		if (err != NULL && err->code == LEP_E_CONFLICT)
			err = NULL;
	}
	lep_json_free(j);
	if (err != NULL)
		return err;
	/* Vertex has no grace of its own: CANCELLING, then CANCELLED. As
	   aws_cancel, wait a while (grace_s more) for it. */
	while ((err = gcp_job_status(out, s, id)) == NULL &&
	    strcmp((*out)->state, "running") == 0 && lep_now_ms() < until) {
		lep_job_free(*out);
		*out = NULL;
		nanosleep(&ts, NULL);
	}
	return err;
}

struct job_alive {
	struct gcp_state	*s;
	const char		*id;
};

static int
job_alive(void *arg)
{
	struct job_alive	*a = arg;
	struct lep_job		*jb = NULL;
	int			 alive;

	alive = gcp_job_status(&jb, a->s, a->id) == NULL &&
	    strcmp(jb->state, "running") == 0;
	lep_job_free(jb);
	return alive;
}

const struct lep_err *
gcp_job_logs(struct gcp_state *s, const char *id,
    const struct lep_logs_req *req, struct lep_out *out)
{
	const struct lep_err	*err;
	struct lep_json		*j = NULL;
	struct job_alive	 a = { s, id };
	const char		*name;
	char			*filter, *task = NULL;

	if ((err = job_read(&j, s, id)) != NULL)
		return err;
	if ((name = lep_json_get_str(j, "job")) == NULL) {
		err = lep_err_new(LEP_E_NOT_RUNNING, "job '%s' has no Vertex "
		    "AI custom job: nothing logs", id);
		goto done;
	}
	/* Replica 0 is pool 0's only one; replica K, pool 1's K-1. */
	if (req->replica == 0)
		task = xstrdup(" AND resource.labels.task_name="
		    "\"workerpool0-0\"");
	else if (req->replica > 0)
		task = xasprintf(" AND resource.labels.task_name="
		    "\"workerpool1-%d\"", req->replica - 1);
	filter = xasprintf("resource.type=\"ml_job\" AND "
	    "resource.labels.job_id=\"%s\"%s", job_num(name),
	    task != NULL ? task : "");
	err = gcp_print_logs(s, filter, req, out, job_alive, &a);
	free(filter);
done:
	free(task);
	lep_json_free(j);
	return err;
}
