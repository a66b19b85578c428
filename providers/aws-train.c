/*
 * aws-train.c: a job is a SageMaker training job named as the job's id.
 * The spec's directory goes to s3://BUCKET/jobs/ID/code/sourcedir.tar.gz
 * (channel "code"; an input model, to channel "model"); the container
 * unpacks it in /opt/ml/code and runs the spec's run there (the image's
 * own command without one), its output in /opt/ml/model, which SageMaker
 * packs as s3://BUCKET/jobs/ID/output/ID/output/model.tar.gz. Once the
 * job completes, that file is fetched, unpacked under HOME/aws/jobs/ID/
 * and registered as the next model version (lib/record).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws-priv.h"
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

/* Where the container finds what lepton sends (SageMaker's layout). */
#define TRAIN_CODE	"/opt/ml/input/data/code/sourcedir.tar.gz"
#define TRAIN_ENTRY	"mkdir -p /opt/ml/code && cd /opt/ml/code && " \
			"tar xzf " TRAIN_CODE " && " \
			"exec /bin/sh -c \"$LEPTON_RUN\""
/* A job without job.max_duration: SageMaker's own ceiling, a day. */
#define TRAIN_MAX_S	86400

static const struct lep_err *
job_read(struct lep_json **out, struct aws_state *s, const char *id)
{
	const struct lep_err	*err;
	char			*p = aws_file(s, "jobs", id);

	err = lep_read_json(out, p, LEP_DRIVER_FILE_MAX);
	free(p);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		return lep_err_new(LEP_E_NOT_FOUND, "no job '%s' on the aws "
		    "provider", id);
	return err;
}

static const struct lep_err *
job_write(struct aws_state *s, const char *id, const struct lep_json *j)
{
	const struct lep_err	*err;
	char			*dir = xasprintf("%s/aws/jobs", s->home);
	char			*p = aws_file(s, "jobs", id);

	if ((err = lep_mkdirs(dir, 0700)) == NULL)
		err = lep_write_json(p, j, 0600);
	free(dir);
	free(p);
	return err;
}

static struct lep_json *
channel(const char *name, const char *uri)
{
	struct lep_json	*c = lep_json_obj(), *ds = lep_json_obj();
	struct lep_json	*s3 = lep_json_obj();

	lep_json_set_str(s3, "S3DataType", "S3Prefix");
	lep_json_set_str(s3, "S3Uri", uri);
	lep_json_set_str(s3, "S3DataDistributionType", "FullyReplicated");
	lep_json_set(ds, "S3DataSource", s3);
	lep_json_set_str(c, "ChannelName", name);
	lep_json_set(c, "DataSource", ds);
	return c;
}

static struct lep_json *
training_body(const struct lep_spec *sp, const char *id, const char *role,
    const char *bucket, const char *instance, int with_model)
{
	struct lep_json	*b = lep_json_obj(), *alg = lep_json_obj();
	struct lep_json	*in = lep_json_arr(), *o = lep_json_obj();
	struct lep_json	*rc = lep_json_obj(), *stop = lep_json_obj();
	struct lep_json	*env = lep_json_obj(), *ep;
	char		*uri, *n;
	size_t		 i;

	lep_json_set_str(b, "TrainingJobName", id);
	lep_json_set_str(alg, "TrainingImage", sp->image.ref);
	lep_json_set_str(alg, "TrainingInputMode", "File");
	if (sp->run != NULL) {
		ep = lep_json_arr();
		lep_json_push(ep, lep_json_str("/bin/sh"));
		lep_json_push(ep, lep_json_str("-c"));
		lep_json_push(ep, lep_json_str(TRAIN_ENTRY));
		lep_json_set(alg, "ContainerEntrypoint", ep);
		lep_json_set_str(env, "LEPTON_RUN", sp->run);
	}
	lep_json_set(b, "AlgorithmSpecification", alg);
	lep_json_set_str(b, "RoleArn", role);
	uri = xasprintf("s3://%s/jobs/%s/code", bucket, id);
	lep_json_push(in, channel("code", uri));
	free(uri);
	if (with_model) {
		uri = xasprintf("s3://%s/jobs/%s/model", bucket, id);
		lep_json_push(in, channel("model", uri));
		free(uri);
		lep_json_set_str(env, "LEPTON_MODEL_DIR",
		    "/opt/ml/input/data/model");
	}
	lep_json_set(b, "InputDataConfig", in);
	uri = xasprintf("s3://%s/jobs/%s/output", bucket, id);
	lep_json_set_str(o, "S3OutputPath", uri);
	free(uri);
	lep_json_set(b, "OutputDataConfig", o);
	lep_json_set_str(rc, "InstanceType", instance);
	lep_json_set_int(rc, "InstanceCount", sp->job.nodes > 0 ?
	    sp->job.nodes : 1);
	lep_json_set_int(rc, "VolumeSizeInGB", 30);
	lep_json_set(b, "ResourceConfig", rc);
	lep_json_set_int(stop, "MaxRuntimeInSeconds", sp->job.max_duration >
	    0 ? sp->job.max_duration : TRAIN_MAX_S);
	lep_json_set(b, "StoppingCondition", stop);
	for (i = 0; i < sp->nenv; i++)
		lep_json_set_str(env, sp->env[i].key, sp->env[i].value);
	lep_json_set_str(env, "LEPTON_JOB_ID", id);
	/* Environment values are strings. */
	n = xasprintf("%d", sp->job.nodes > 0 ? sp->job.nodes : 1);
	lep_json_set_str(env, "LEPTON_NUM_NODES", n);
	free(n);
	lep_json_set_str(env, "LEPTON_OUTPUT_MODEL", "/opt/ml/model");
	lep_json_set(b, "Environment", env);
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
	jb->provider = xstrdup("aws");
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

const struct lep_err *
aws_submit(struct lep_job **out, void *state, const struct lep_submit_req *req)
{
	struct aws_state	*s = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*j = lep_json_obj(), *body;
	struct lep_buf		 tgz = LEP_BUF_INIT;
	const char		*role;
	char			*region = NULL, *bucket = NULL, *key = NULL;
	char			*instance = NULL, *code = NULL;

	*out = NULL;
	if (sp->run != NULL && strlen(sp->run) > 512) {
		err = lep_err_new(LEP_E_UNSUPPORTED, "%s: 'run' is %zu bytes: "
		    "SageMaker takes at most 512 in an environment value",
		    sp->file, strlen(sp->run));
		goto done;
	}
	if ((err = aws_role(&role, s)) != NULL ||
	    (err = aws_region(&region, s, sp, req->region)) != NULL ||
	    (err = aws_bucket(&bucket, s, region)) != NULL)
		goto done;
	instance = aws_instance(req->instance);
	lep_json_set_str(j, "id", req->id);
	lep_json_set_str(j, "name", sp->name);
	lep_json_set_str(j, "region", region);
	lep_json_set_str(j, "bucket", bucket);
	lep_json_set_str(j, "instance", instance);
	lep_json_set_int(j, "started", (long long)time(NULL));
	lep_json_set(j, "spec", lep_spec_to_json(sp));
	lep_json_set_str(j, "spec_file", sp->file);
	lep_json_set_str(j, "spec_dir", sp->dir);
	if ((err = job_write(s, req->id, j)) != NULL)
		goto done;
	key = xasprintf("jobs/%s/code/sourcedir.tar.gz", req->id);
	if ((err = aws_pack(&tgz, sp->dir)) != NULL ||
	    (err = aws_s3_put(s, region, bucket, key, tgz.buf, tgz.len)) !=
	    NULL)
		goto done;
	if (req->model_dir != NULL) {
		lep_buf_release(&tgz);
		free(key);
		key = xasprintf("jobs/%s/model/model.tar.gz", req->id);
		if ((err = aws_pack(&tgz, req->model_dir)) != NULL ||
		    (err = aws_s3_put(s, region, bucket, key, tgz.buf,
		    tgz.len)) != NULL)
			goto done;
	}
	body = training_body(sp, req->id, role, bucket, instance,
	    req->model_dir != NULL);
	if ((err = aws_sm(NULL, &code, s, region, "CreateTrainingJob",
	    body)) != NULL)
		goto done;
	lep_json_set_str(j, "phase", "running");
	if ((err = job_write(s, req->id, j)) == NULL)
		*out = job_of(req->id, j);
	if (s->out != NULL)
		lep_out_info(s->out, "aws: job %s is SageMaker training job "
		    "'%s' on %d x %s in %s", req->id, req->id,
		    sp->job.nodes > 0 ? sp->job.nodes : 1, instance, region);
done:
	if (err != NULL) {
		/* Nothing runs: no record naming a job. */
		char *p = aws_file(s, "jobs", req->id);

		(void)unlink(p);
		free(p);
	}
	lep_buf_release(&tgz);
	lep_json_free(j);
	free(region);
	free(bucket);
	free(key);
	free(instance);
	free(code);
	return err;
}

/* The output model.tar.gz, fetched and unpacked into HOME/aws/jobs/ID/. */
static const struct lep_err *
fetch_output(char **dir_out, struct aws_state *s, const struct lep_json *j,
    const char *url, const char *id)
{
	const struct lep_err	*err;
	struct lep_buf		 gz = LEP_BUF_INIT, tar = LEP_BUF_INIT;
	char			*bucket = NULL, *key = NULL, *dir;

	*dir_out = NULL;
	if (aws_s3_split(&bucket, &key, url) == -1)
		return lep_err_new(LEP_E_PROVIDER, "SageMaker named its output "
		    "'%s', not an s3:// URL", url);
	dir = xasprintf("%s/aws/jobs/%s/output", s->home, id);
	lep_remove_tree(dir);
	if ((err = aws_s3_get(&gz, s, lep_json_get_str(j, "region"), bucket,
	    key, AWS_OUTPUT_MAX)) == NULL &&
	    (err = lep_gunzip(&tar, gz.buf, gz.len, AWS_OUTPUT_MAX)) == NULL &&
	    (err = lep_tar_extract(dir, tar.buf, tar.len)) == NULL) {
		*dir_out = dir;
		dir = NULL;
	}
	lep_buf_release(&gz);
	lep_buf_release(&tar);
	free(dir);
	free(bucket);
	free(key);
	return err;
}

/* The job ended: record it (lib/record), its output registered. */
static const struct lep_err *
record_end(struct aws_state *s, const char *id, struct lep_json *j,
    const struct lep_json *ans, const char *phase)
{
	const struct lep_err	*err;
	struct lep_job_result	 res;
	struct lep_spec		*sp = NULL;
	char			*text, *outdir = NULL, *model = NULL;
	char			*why = NULL, *msg = NULL;
	const char		*url, *reason;

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
	res.provider = "aws";
	res.state = phase;
	reason = lep_json_get_str(ans, "FailureReason");
	res.message = reason;
	res.exit_code = strcmp(phase, "succeeded") == 0 ? 0 : 1;
	(void)lep_json_get_ll(j, "started", &res.started);
	res.ended = (long long)time(NULL);
	url = lep_json_get_str(lep_json_get(ans, "ModelArtifacts"),
	    "S3ModelArtifacts");
	if (strcmp(phase, "succeeded") == 0 && sp->job.output_model != NULL) {
		if (url == NULL)
			msg = xstrdup("SageMaker reports no ModelArtifacts");
		else if ((err = fetch_output(&outdir, s, j, url, id)) != NULL) {
			if (err->code != LEP_E_NOT_FOUND)
				goto done;
			msg = xasprintf("%s: the job wrote nothing to "
			    "/opt/ml/model", err->msg);
			err = NULL;
		}
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
	err = job_write(s, id, j);
done:
	lep_spec_free(sp);
	free(outdir);
	free(model);
	free(why);
	free(msg);
	return err;
}

/* SageMaker's TrainingJobStatus as lepton's job state. */
static const char *
phase_of(const char *st)
{
	if (lep_streq(st, "Completed"))
		return "succeeded";
	if (lep_streq(st, "Failed"))
		return "failed";
	if (lep_streq(st, "Stopped"))
		return "cancelled";
	return "running";	/* InProgress, Stopping */
}

const struct lep_err *
aws_job_status(struct lep_job **out, void *state, const char *id)
{
	struct aws_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*j = NULL, *ans = NULL, *body;
	const char		*phase;

	*out = NULL;
	if ((err = job_read(&j, s, id)) != NULL)
		return err;
	if (!lep_streq(lep_json_get_str(j, "phase"), "running"))
		goto done;	/* ended, and recorded */
	body = lep_json_obj();
	lep_json_set_str(body, "TrainingJobName", id);
	if ((err = aws_sm(&ans, NULL, s, lep_json_get_str(j, "region"),
	    "DescribeTrainingJob", body)) != NULL)
		goto done;
	phase = phase_of(lep_json_get_str(ans, "TrainingJobStatus"));
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
aws_cancel(struct lep_job **out, void *state, const char *id, int grace_s)
{
	struct aws_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*j = NULL, *body;
	struct timespec		 ts = { 1, 0 };
	long long		 until = lep_now_ms() + (grace_s + 60) * 1000LL;
	char			*code = NULL;

	*out = NULL;
	if ((err = job_read(&j, s, id)) != NULL)
		return err;
	if (lep_streq(lep_json_get_str(j, "phase"), "running")) {
		body = lep_json_obj();
		lep_json_set_str(body, "TrainingJobName", id);
		err = aws_sm(NULL, &code, s, lep_json_get_str(j, "region"),
		    "StopTrainingJob", body);
		/* Ended on its own meanwhile: its status says how. */
		if (err != NULL && lep_streq(code, "ValidationException"))
			err = NULL;
	}
	lep_json_free(j);
	free(code);
	if (err != NULL)
		return err;
	/* Stopping, then Stopped: wait a while for it. */
	while ((err = aws_job_status(out, s, id)) == NULL &&
	    strcmp((*out)->state, "running") == 0 && lep_now_ms() < until) {
		lep_job_free(*out);
		*out = NULL;
		nanosleep(&ts, NULL);
	}
	return err;
}

struct job_alive {
	struct aws_state	*s;
	const char		*id;
};

static int
job_alive(void *arg)
{
	struct job_alive	*a = arg;
	struct lep_job		*jb = NULL;
	int			 alive;

	alive = aws_job_status(&jb, a->s, a->id) == NULL &&
	    strcmp(jb->state, "running") == 0;
	lep_job_free(jb);
	return alive;
}

const struct lep_err *
aws_job_logs(struct aws_state *s, const char *id,
    const struct lep_logs_req *req, struct lep_out *out)
{
	const struct lep_err	*err;
	struct lep_json		*j = NULL;
	struct job_alive	 a = { s, id };
	char			*prefix;

	if ((err = job_read(&j, s, id)) != NULL)
		return err;
	/* Streams are ID/algo-N-TIME, one per instance: replica K is N=K+1. */
	if (req->replica >= 0)
		prefix = xasprintf("%s/algo-%d-", id, req->replica + 1);
	else
		prefix = xasprintf("%s/", id);
	err = aws_print_logs(s, lep_json_get_str(j, "region"),
	    "/aws/sagemaker/TrainingJobs", prefix, req, out, job_alive, &a);
	free(prefix);
	lep_json_free(j);
	return err;
}
