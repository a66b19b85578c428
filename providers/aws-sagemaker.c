/*
 * aws-sagemaker.c: a deployment is a SageMaker endpoint named as the
 * deployment. Revision N is model NAME-rN (the image, and the model's
 * files as s3://BUCKET/NAME/rN/model.tar.gz) and endpoint config NAME-rN
 * (one variant on the planner's instance type); a canary adds config
 * NAME-rN-canary, the serving model and the new one as two weighted
 * variants. An update switches the endpoint to the new config
 * (UpdateEndpoint): SageMaker keeps the old one serving until the new one
 * is in service. A revision whose spec was deployed before switches back
 * to the config it had (rollback), made anew only if it was deleted.
 *
 * HOME/aws/services/NAME.json names every model and config lepton made
 * for the deployment, written after each create succeeds (and after a
 * failed one that SageMaker made anyway), so that a deploy that fails at
 * any call leaves a record of exactly what exists: the next deploy
 * reuses it, a stop deletes it. Names are fixed by the revision, so a
 * create repeated finds its resource instead of making a second.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws-priv.h"
#include "provider.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/sigv4.h"
#include "../lib/spec.h"
#include "../lib/types.h"
#include "../lib/util.h"

static volatile sig_atomic_t	 interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* One deploy or stop under way. */
struct svc {
	struct aws_state	*s;
	const char		*name;
	char			*path;		/* services/NAME.json */
	struct lep_json		*st;		/* its content */
	const char		*region;	/* st's */
	int			 calls;		/* AWS calls made */
	int			 made_endpoint;	/* by this deploy */
};

static const struct lep_err *
svc_load(struct svc *v, struct aws_state *s, const char *name, int create)
{
	const struct lep_err	*err;

	memset(v, 0, sizeof(*v));
	v->s = s;
	v->name = name;
	v->path = aws_file(s, "services", name);
	err = lep_read_json(&v->st, v->path, LEP_DRIVER_FILE_MAX);
	if (err != NULL && err->code == LEP_E_NOT_FOUND) {
		if (!create)
			return lep_err_new(LEP_E_NOT_FOUND, "no deployment "
			    "'%s' on the aws provider", name);
		err = NULL;
		v->st = lep_json_obj();
		lep_json_set_int(v->st, "created", (long long)time(NULL));
		lep_json_set(v->st, "models", lep_json_arr());
		lep_json_set(v->st, "configs", lep_json_arr());
		lep_json_set(v->st, "revisions", lep_json_arr());
	}
	if (err == NULL)
		v->region = lep_json_get_str(v->st, "region");
	return err;
}

static const struct lep_err *
svc_save(struct svc *v)
{
	const struct lep_err	*err;
	char			*dir = xasprintf("%s/aws/services", v->s->home);

	lep_json_set_int(v->st, "updated", (long long)time(NULL));
	if ((err = lep_mkdirs(dir, 0700)) == NULL)
		err = lep_write_json(v->path, v->st, 0600);
	free(dir);
	return err;
}

static void
svc_release(struct svc *v)
{
	lep_json_free(v->st);
	free(v->path);
	memset(v, 0, sizeof(*v));
}

/* Is name in st's list key? */
static int
listed(const struct lep_json *st, const char *key, const char *name)
{
	const struct lep_json	*a = lep_json_get(st, key);
	size_t			 i;

	for (i = 0; i < lep_json_len(a); i++)
		if (lep_streq(lep_json_string(lep_json_at(a, i)), name))
			return 1;
	return 0;
}

static void
list_add(struct lep_json *st, const char *key, const char *name)
{
	if (!listed(st, key, name))
		lep_json_push(lep_json_get(st, key), lep_json_str(name));
}

static void
list_del(struct lep_json *st, const char *key, const char *name)
{
	const struct lep_json	*a = lep_json_get(st, key);
	struct lep_json		*keep = lep_json_arr();
	size_t			 i;

	for (i = 0; i < lep_json_len(a); i++)
		if (!lep_streq(lep_json_string(lep_json_at(a, i)), name))
			lep_json_push(keep, lep_json_dup(lep_json_at(a, i)));
	lep_json_set(st, key, keep);
}

static const struct lep_err *
call(struct lep_json **out, char **code, struct svc *v, const char *op,
    struct lep_json *body)
{
	v->calls++;
	return aws_sm(out, code, v->s, v->region, op, body);
}

/* Describe op of name (key: its field): 1 exists, 0 not, -1 error. */
static int
exists(struct svc *v, const char *op, const char *key, const char *name,
    const struct lep_err **err)
{
	struct lep_json	*body = lep_json_obj(), *ans = NULL;
	char		*code = NULL;
	int		 rc;

	lep_json_set_str(body, key, name);
	*err = call(&ans, &code, v, op, body);
	if (*err == NULL && !lep_streq(lep_json_get_str(ans, key), name)) {
		/* A 2xx that does not describe it says nothing. */
		*err = lep_err_new(LEP_E_PROVIDER, "sagemaker: %s: the answer "
		    "does not name '%s'", op, name);
		rc = -1;
	} else if (*err == NULL)
		rc = 1;
	else if (aws_code_missing(code, *err)) {
		*err = NULL;
		rc = 0;
	} else
		rc = -1;
	lep_json_free(ans);
	free(code);
	return rc;
}

/*
 * Create: op with body, recorded under key (models, configs) once it
 * exists. A create refused because the name exists, or that failed
 * after it may have reached SageMaker, asks SageMaker (describe) whether
 * the resource is there; if it is, it is recorded and used.
 */
static const struct lep_err *
create(struct svc *v, const char *op, struct lep_json *body,
    const char *key, const char *name, const char *describe,
    const char *field)
{
	const struct lep_err	*err, *e2;
	struct lep_json		*ans = NULL;
	char			*code = NULL, *arn, *pkey;
	int			 rc;

	/*
	 * Named under KEY-pending before the call: a deploy killed while
	 * SageMaker acts leaves a record of what may exist, which the next
	 * deploy settles and stop deletes.
	 */
	pkey = xasprintf("%s-pending", key);
	if (lep_json_get(v->st, pkey) == NULL)
		lep_json_set(v->st, pkey, lep_json_arr());
	list_add(v->st, pkey, name);
	if ((err = svc_save(v)) != NULL) {
		lep_json_free(body);
		free(pkey);
		return err;
	}
	err = call(&ans, &code, v, op, body);
	/* ModelName: ModelArn. A 2xx without it did not make anything. */
	arn = xasprintf("%.*sArn", (int)(strlen(field) - 4), field);
	if (err == NULL && lep_json_get_str(ans, arn) == NULL)
		err = lep_err_new(LEP_E_PROVIDER, "sagemaker: %s: the answer "
		    "has no %s", op, arn);
	free(arn);
	lep_json_free(ans);
	if (err != NULL && err->code != LEP_E_AUTH) {
		rc = exists(v, describe, field, name, &e2);
		if (rc == 1)
			err = NULL;
		if (rc != -1)
			list_del(v->st, pkey, name);	/* known now */
	} else
		list_del(v->st, pkey, name);
	if (err == NULL)
		list_add(v->st, key, name);
	e2 = svc_save(v);
	if (err == NULL)
		err = e2;
	free(pkey);
	free(code);
	return err;
}

/*
 * What a killed deploy left under KEY-pending: recorded under key if
 * SageMaker has it, forgotten if not, kept while that is not known.
 */
static const struct lep_err *
settle_pending(struct svc *v, const char *key, const char *describe,
    const char *field)
{
	const struct lep_err	*err = NULL, *e;
	struct lep_json		*names;
	const char		*n;
	char			*pkey = xasprintf("%s-pending", key);
	size_t			 i;
	int			 rc;

	if (lep_json_get(v->st, pkey) == NULL) {
		free(pkey);
		return NULL;
	}
	names = lep_json_dup(lep_json_get(v->st, pkey));
	for (i = 0; i < lep_json_len(names); i++) {
		n = lep_json_string(lep_json_at(names, i));
		if ((rc = exists(v, describe, field, n, &e)) == -1) {
			if (err == NULL)
				err = e;
			continue;
		}
		if (rc == 1)
			list_add(v->st, key, n);
		list_del(v->st, pkey, n);
	}
	lep_json_free(names);
	free(pkey);
	if (i > 0 && (e = svc_save(v)) != NULL && err == NULL)
		err = e;
	return err;
}

/* The record of revision rev, or NULL. */
static struct lep_json *
revision_of(const struct lep_json *st, long long rev)
{
	const struct lep_json	*a = lep_json_get(st, "revisions");
	long long		 n;
	size_t			 i;

	for (i = 0; i < lep_json_len(a); i++)
		if (lep_json_get_ll(lep_json_at(a, i), "revision", &n) == 0 &&
		    n == rev)
			return lep_json_at(a, i);
	return NULL;
}

/*
 * An earlier revision of the same spec whose model and config still
 * exist: a rollback (or a deploy of a spec as it was) switches back to
 * it. NULL: none.
 */
static const struct lep_json *
same_spec(const struct lep_json *st, const char *hex, const char *pin)
{
	const struct lep_json	*a = lep_json_get(st, "revisions"), *r;
	size_t			 i;

	if (hex == NULL || *hex == '\0')
		return NULL;
	for (i = lep_json_len(a); i-- > 0;) {
		r = lep_json_at(a, i);
		if (lep_streq(lep_json_get_str(r, "spec_sha256"), hex) &&
		    lep_streq(lep_json_get_str(r, "pin"), pin) &&
		    listed(st, "models", lep_json_get_str(r, "model")) &&
		    listed(st, "configs", lep_json_get_str(r, "config")))
			return r;
	}
	return NULL;
}

/* The container: image, its model files, the spec's environment. */
static struct lep_json *
container(const struct lep_spec *sp, const char *pin, const char *data)
{
	struct lep_json	*c = lep_json_obj(), *env = lep_json_obj();
	size_t		 i;

	lep_json_set_str(c, "Image", pin ? pin : sp->image.ref);
	if (data != NULL)
		lep_json_set_str(c, "ModelDataUrl", data);
	for (i = 0; i < sp->nenv; i++)
		lep_json_set_str(env, sp->env[i].key, sp->env[i].value);
	lep_json_set_str(env, "LEPTON_DEPLOYMENT", sp->name);
	lep_json_set(c, "Environment", env);
	return c;
}

/* Model NAME-rN: its files in S3 first. */
static const struct lep_err *
make_model(struct svc *v, const struct lep_deploy_req *req,
    const char *model, char **data_out)
{
	const struct lep_err	*err;
	const struct lep_spec	*sp = req->spec;
	struct lep_json		*body;
	struct lep_buf		 tgz = LEP_BUF_INIT;
	const char		*role;
	char			*bucket = NULL, *key = NULL;

	*data_out = NULL;
	if (listed(v->st, "models", model))
		return NULL;	/* made by an earlier try */
	if ((err = aws_role(&role, v->s)) != NULL)
		return err;
	if (req->model_dir != NULL) {
		/* Never a key with + = : (S3 verifiers differ on them). */
		key = xasprintf("%s/r%d/model.tar.gz", sp->name, req->revision);
		if ((err = aws_bucket(&bucket, v->s, v->region)) != NULL ||
		    (err = aws_pack(&tgz, req->model_dir)) != NULL)
			goto done;
		v->calls++;
		if ((err = aws_s3_put(v->s, v->region, bucket, key, tgz.buf,
		    tgz.len)) != NULL)
			goto done;
		*data_out = xasprintf("s3://%s/%s", bucket, key);
	}
	body = lep_json_obj();
	lep_json_set_str(body, "ModelName", model);
	lep_json_set_str(body, "ExecutionRoleArn", role);
	lep_json_set(body, "PrimaryContainer", container(sp, req->pin,
	    *data_out));
	err = create(v, "CreateModel", body, "models", model, "DescribeModel",
	    "ModelName");
done:
	lep_buf_release(&tgz);
	free(bucket);
	free(key);
	return err;
}

static struct lep_json *
variant(const char *vname, const char *model, const char *instance,
    int count, double weight)
{
	struct lep_json	*pv = lep_json_obj();

	lep_json_set_str(pv, "VariantName", vname);
	lep_json_set_str(pv, "ModelName", model);
	lep_json_set_int(pv, "InitialInstanceCount", count);
	lep_json_set_str(pv, "InstanceType", instance);
	lep_json_set_num(pv, "InitialVariantWeight", weight);
	return pv;
}

/* Config name: one variant, or two (a canary: old and new). */
static const struct lep_err *
make_config(struct svc *v, const char *config, struct lep_json *variants)
{
	struct lep_json	*body;

	if (listed(v->st, "configs", config)) {
		lep_json_free(variants);
		return NULL;
	}
	body = lep_json_obj();
	lep_json_set_str(body, "EndpointConfigName", config);
	lep_json_set(body, "ProductionVariants", variants);
	return create(v, "CreateEndpointConfig", body, "configs", config,
	    "DescribeEndpointConfig", "EndpointConfigName");
}

/*
 * Wait for the endpoint to be InService on config. Errors: FAILED
 * (Failed, or back on another config: the update failed), TIMEOUT.
 */
static const struct lep_err *
wait_service(struct svc *v, const char *config)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*ans = NULL, *body;
	struct timespec		 ts = { 0, 0 };
	long long		 t0 = lep_now_ms(), until;
	const char		*status, *cur, *why;
	struct sigaction	 sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old);
	until = t0 + (long long)AWS_ENDPOINT_WAIT_S * 1000;
	for (;;) {
		body = lep_json_obj();
		lep_json_set_str(body, "EndpointName", v->name);
		lep_json_free(ans);
		ans = NULL;
		if ((err = call(&ans, NULL, v, "DescribeEndpoint", body)) !=
		    NULL)
			break;
		status = lep_json_get_str(ans, "EndpointStatus");
		cur = lep_json_get_str(ans, "EndpointConfigName");
		why = lep_json_get_str(ans, "FailureReason");
		if (lep_streq(status, "InService") && lep_streq(cur, config))
			break;
		if (lep_streq(status, "Failed") && why != NULL &&
		    strcasestr(why, "capacity") != NULL) {
			err = lep_err_capacity("InsufficientCapacity", "%s: "
			    "endpoint '%s' failed on config '%s': %s",
			    v->region, v->name, config, why);
			break;
		}
		if (lep_streq(status, "Failed") || (lep_streq(status,
		    "InService") && why != NULL)) {
			err = lep_err_hint(lep_err_new(LEP_E_FAILED, "endpoint "
			    "'%s' did not take config '%s': %s%s", v->name,
			    config, status, why ? why : ""), "'lepton logs %s' "
			    "shows what its container wrote", v->name);
			break;
		}
		if (lep_now_ms() >= until) {
			err = lep_err_new(LEP_E_TIMEOUT, "endpoint '%s' not in "
			    "service on '%s' within %ds (%s)", v->name, config,
			    AWS_ENDPOINT_WAIT_S, status ? status : "?");
			break;
		}
		if (interrupted) {
			/* The pending revision is in the state: the next
			   command sees whether it came to serve. */
			err = lep_err_hint(lep_err_new(LEP_E_INTERRUPTED,
			    "interrupted; endpoint '%s' goes on to config '%s' "
			    "(%s)", v->name, config, status ? status : "?"),
			    "'lepton status %s' says when it serves", v->name);
			break;
		}
		if (v->s->out != NULL)
			lep_out_progress(v->s->out, "%s: %s, %llds", v->name,
			    status ? status : "?", (lep_now_ms() - t0) / 1000);
		ts.tv_sec = AWS_POLL_MS / 1000;
		ts.tv_nsec = (long)(AWS_POLL_MS % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	sigaction(SIGINT, &old, NULL);
	if (v->s->out != NULL)
		lep_out_progress_done(v->s->out);
	lep_json_free(ans);
	return err;
}

/*
 * The endpoint's config now (*cur, caller frees): 1 it exists, 0 not,
 * -1 error.
 */
static int
describe(char **cur, struct svc *v, const struct lep_err **err)
{
	struct lep_json	*body = lep_json_obj(), *ans = NULL;
	char		*code = NULL;
	const char	*c;
	int		 rc;

	*cur = NULL;
	lep_json_set_str(body, "EndpointName", v->name);
	*err = call(&ans, &code, v, "DescribeEndpoint", body);
	if (*err == NULL && lep_json_get_str(ans, "EndpointStatus") == NULL) {
		*err = lep_err_new(LEP_E_PROVIDER, "sagemaker: "
		    "DescribeEndpoint: the answer has no EndpointStatus");
		rc = -1;
	} else if (*err == NULL) {
		rc = 1;
		if ((c = lep_json_get_str(ans, "EndpointConfigName")) != NULL)
			*cur = xstrdup(c);
	} else if (aws_code_missing(code, *err)) {
		*err = NULL;
		rc = 0;
	} else
		rc = -1;
	lep_json_free(ans);
	free(code);
	return rc;
}

/*
 * Point the endpoint at config: CreateEndpoint the first time,
 * UpdateEndpoint after; then wait until it serves on it.
 */
static const struct lep_err *
switch_to(struct svc *v, const char *config)
{
	const struct lep_err	*err, *e2;
	struct lep_json		*body = lep_json_obj(), *ans = NULL;
	char			*cur = NULL;
	int			 rc, rc2 = -1;

	lep_json_set_str(body, "EndpointName", v->name);
	lep_json_set_str(body, "EndpointConfigName", config);
	rc = describe(&cur, v, &err);
	if (rc == -1) {
		lep_json_free(body);
		return err;
	}
	if (rc == 1 && lep_streq(cur, config)) {
		/* Already there (a re-run after the answer was lost):
		   SageMaker refuses an update to the config it has. */
		lep_json_free(body);
		free(cur);
		return wait_service(v, config);
	}
	free(cur);
	if (rc == 0) {
		lep_json_set_bool(v->st, "endpoint-pending", 1);
		if ((err = svc_save(v)) != NULL) {
			lep_json_free(body);
			return err;
		}
		err = call(&ans, NULL, v, "CreateEndpoint", body);
		if (err == NULL && lep_json_get_str(ans, "EndpointArn") == NULL)
			err = lep_err_new(LEP_E_PROVIDER, "sagemaker: "
			    "CreateEndpoint: the answer has no EndpointArn");
		lep_json_free(ans);
		if (err != NULL && (rc2 = exists(v, "DescribeEndpoint",
		    "EndpointName", v->name, &e2)) == 1)
			err = NULL;	/* made all the same */
		if (err == NULL) {
			v->made_endpoint = 1;
			lep_json_set_bool(v->st, "endpoint", 1);
		}
		if (err == NULL || rc2 == 0)
			lep_json_set_bool(v->st, "endpoint-pending", 0);
		e2 = svc_save(v);
		if (err == NULL)
			err = e2;
	} else {
		lep_json_set_bool(v->st, "endpoint", 1);
		err = call(NULL, NULL, v, "UpdateEndpoint", body);
	}
	if (err == NULL)
		err = wait_service(v, config);
	return err;
}

static struct lep_deployment *
deployment(const struct svc *v, const char *state, const char *msg,
    int ready)
{
	struct lep_deployment	*d;
	char			*base, *ep = NULL;

	base = lep_aws_endpoint("runtime.sagemaker", v->region ? v->region :
	    "us-east-1", NULL);
	if (strcmp(state, "running") == 0)
		ep = xasprintf("%s/endpoints/%s", base, v->name);
	d = lep_deployment_of_record("aws", v->name, v->st, state, msg,
	    ready, ep);
	free(ep);
	free(base);
	return d;
}

/* Record rev's names (and what it was made from) in the state. */
static void
record_revision(struct svc *v, const struct lep_deploy_req *req,
    const char *model, const char *config, const char *instance,
    const char *data)
{
	struct lep_json	*r = revision_of(v->st, req->revision);

	if (r == NULL) {
		r = lep_json_obj();
		lep_json_push(lep_json_get(v->st, "revisions"), r);
	}
	lep_json_set_int(r, "revision", req->revision);
	lep_json_set_str(r, "model", model);
	lep_json_set_str(r, "config", config);
	lep_json_set_str(r, "instance", instance);
	lep_json_set_str(r, "spec_sha256", req->spec_sha256);
	if (req->pin != NULL)
		lep_json_set_str(r, "pin", req->pin);
	if (data != NULL)
		lep_json_set_str(r, "data", data);
}

/*
 * The revision being switched to, in the state before the switch: if
 * the deploy is interrupted, status finds it serving and records it.
 */
static void
pending(struct svc *v, const struct lep_deploy_req *req, const char *config)
{
	struct lep_json	*p = lep_json_obj();

	lep_json_set_int(p, "revision", req->revision);
	lep_json_set_str(p, "config", config);
	lep_json_set_str(p, "spec_sha256", req->spec_sha256);
	lep_json_set(v->st, "pending", p);
	(void)svc_save(v);
}

/* Delete op name, dropping it from st's key once gone. */
static void
drop(struct svc *v, const char *key, const char *op, const char *field,
    const char *name)
{
	struct lep_json	*body;
	char		*code = NULL;
	const struct lep_err *e;

	if (name == NULL || !listed(v->st, key, name))
		return;
	body = lep_json_obj();
	lep_json_set_str(body, field, name);
	e = call(NULL, &code, v, op, body);
	if (e == NULL || aws_code_missing(code, e))
		list_del(v->st, key, name);
	free(code);
}

/*
 * No capacity for this offer: nothing of the attempt may stay in the
 * region (lib/ records it as never started and tries the next offer):
 * the endpoint if this deploy made it, the revision's configs and model.
 */
static void
undo_attempt(struct svc *v, const char *model, const char *config,
    const char *ccfg)
{
	struct lep_json	*body;
	char		*code = NULL;

	if (v->made_endpoint) {
		body = lep_json_obj();
		lep_json_set_str(body, "EndpointName", v->name);
		if (call(NULL, &code, v, "DeleteEndpoint", body) == NULL)
			lep_json_set_bool(v->st, "endpoint", 0);
		free(code);
	}
	drop(v, "configs", "DeleteEndpointConfig", "EndpointConfigName", ccfg);
	drop(v, "configs", "DeleteEndpointConfig", "EndpointConfigName",
	    config);
	drop(v, "models", "DeleteModel", "ModelName", model);
	(void)svc_save(v);
}

const struct lep_err *
aws_deploy(struct lep_deployment **out, void *state,
    const struct lep_deploy_req *req)
{
	struct aws_state	*s = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	const struct lep_json	*prev;
	struct lep_json		*vars;
	struct svc		 v;
	char			*region = NULL, *model = NULL, *config = NULL;
	char			*instance = NULL, *data = NULL, *ccfg = NULL;
	const char		*old_model = NULL, *target;
	long long		 t0 = lep_now_ms(), old_rev = 0;
	int			 canary, count = sp->service.replicas_min;

	*out = NULL;
	if ((err = svc_load(&v, s, sp->name, 1)) != NULL)
		goto done;
	if (v.region != NULL && ((err = settle_pending(&v, "models",
	    "DescribeModel", "ModelName")) != NULL || (err = settle_pending(&v,
	    "configs", "DescribeEndpointConfig", "EndpointConfigName")) !=
	    NULL))
		goto done;
	if (count < 1)
		count = 1;
	/*
	 * An endpoint stays in the region it was made in; a deployment
	 * with nothing on SageMaker yet (stopped, or refused for capacity)
	 * goes where the plan says now.
	 */
	if (v.region == NULL || lep_json_get_bool(v.st, "stopped", 0) ||
	    (!lep_json_get_bool(v.st, "endpoint", 0) &&
	    lep_json_len(lep_json_get(v.st, "models")) == 0 &&
	    lep_json_len(lep_json_get(v.st, "configs")) == 0)) {
		if ((err = aws_region(&region, s, sp, req->region)) != NULL)
			goto done;
		lep_json_set_str(v.st, "region", region);
		v.region = lep_json_get_str(v.st, "region");
	}
	if ((err = aws_creds(s)) != NULL)
		goto done;
	lep_json_set_bool(v.st, "stopped", 0);
	lep_json_set(v.st, "canary", lep_json_null());
	if (lep_json_get_bool(v.st, "endpoint", 0) &&
	    lep_json_get_ll(v.st, "revision", &old_rev) == 0 &&
	    (prev = revision_of(v.st, old_rev)) != NULL) {
		old_model = lep_json_get_str(prev, "model");
	}
	canary = lep_streq(sp->service.strategy, "canary") && old_model !=
	    NULL && listed(v.st, "models", old_model);
	if ((prev = same_spec(v.st, req->spec_sha256, req->pin)) != NULL &&
	    !canary) {
		/* A rollback: the config that revision had, as it was. */
		target = lep_json_get_str(prev, "config");
		if (s->out != NULL)
			lep_out_info(s->out, "aws: %s revision %d switches "
			    "back to endpoint config '%s'", sp->name,
			    req->revision, target);
		record_revision(&v, req, lep_json_get_str(prev, "model"),
		    target, lep_json_get_str(prev, "instance"),
		    lep_json_get_str(prev, "data"));
		pending(&v, req, target);
		if ((err = switch_to(&v, target)) != NULL)
			goto fail;
		lep_json_set_int(v.st, "revision", req->revision);
		goto served;
	}
	model = xasprintf("%s-r%d", sp->name, req->revision);
	config = xstrdup(model);
	if (req->instance != NULL)
		instance = aws_instance(req->instance);
	else if (prev != NULL && lep_json_get_str(prev, "instance") != NULL)
		instance = xstrdup(lep_json_get_str(prev, "instance"));
	else
		instance = aws_instance(lep_json_get_str(v.st, "instance"));
	lep_json_set_str(v.st, "instance", instance);
	lep_json_set_int(v.st, "count", count);
	if ((err = make_model(&v, req, model, &data)) != NULL)
		goto fail;
	record_revision(&v, req, model, config, instance, data);
	vars = lep_json_arr();
	lep_json_push(vars, variant("AllTraffic", model, instance, count, 1));
	if ((err = make_config(&v, config, vars)) != NULL)
		goto fail;
	target = config;
	if (canary) {
		ccfg = xasprintf("%s-canary", config);
		vars = lep_json_arr();
		lep_json_push(vars, variant("Serving", old_model, instance,
		    count, 100 - sp->service.canary_percent));
		lep_json_push(vars, variant("Canary", model, instance, 1,
		    sp->service.canary_percent));
		if ((err = make_config(&v, ccfg, vars)) != NULL)
			goto fail;
		target = ccfg;
	}
	if (!canary)
		pending(&v, req, target);
	if ((err = switch_to(&v, target)) != NULL)
		goto fail;
	if (canary) {
		struct lep_json	*c = lep_json_obj();

		lep_json_set_int(c, "revision", req->revision);
		lep_json_set_int(c, "percent", sp->service.canary_percent);
		lep_json_set_str(c, "config", ccfg);
		lep_json_set_str(c, "spec_sha256", req->spec_sha256);
		lep_json_set(v.st, "canary", c);
	} else
		lep_json_set_int(v.st, "revision", req->revision);
served:
	lep_json_set(v.st, "pending", lep_json_null());
	if (!canary)
		lep_json_set_str(v.st, "spec_sha256", req->spec_sha256);
	if ((err = svc_save(&v)) != NULL)
		goto done;
	if (s->out != NULL)
		lep_out_info(s->out, "aws: %s in service: %d SageMaker calls, "
		    "%lld ms", sp->name, v.calls, lep_now_ms() - t0);
	*out = deployment(&v, "running", NULL, 1);
	goto done;
fail:
	/* What exists is recorded; the revision before serves on. */
	if (err->code == LEP_E_CAPACITY)
		undo_attempt(&v, model, config, ccfg);
	(void)svc_save(&v);
done:
	svc_release(&v);
	free(region);
	free(model);
	free(config);
	free(ccfg);
	free(instance);
	free(data);
	return err;
}

const struct lep_err *
aws_update(struct lep_deployment **out, void *state, const char *name,
    int revision, const char *action)
{
	struct aws_state	*s = state;
	const struct lep_err	*err;
	const struct lep_json	*can, *r;
	struct svc		 v;
	long long		 crev = 0, rev = 0;
	char			*hex = NULL;

	*out = NULL;
	if ((err = svc_load(&v, s, name, 0)) != NULL)
		goto done;
	can = lep_json_get(v.st, "canary");
	if (lep_json_get_ll(can, "revision", &crev) != 0 || crev != revision) {
		err = lep_err_new(LEP_E_CONFLICT, "'%s' has no canary revision "
		    "%d", name, revision);
		goto done;
	}
	if (strcmp(action, "promote") == 0) {
		r = revision_of(v.st, crev);
		if ((err = switch_to(&v, lep_json_get_str(r, "config"))) !=
		    NULL)
			goto done;
		lep_json_set_int(v.st, "revision", crev);
		hex = xstrdup(lep_json_get_str(r, "spec_sha256") ?
		    lep_json_get_str(r, "spec_sha256") : "");
		lep_json_set_str(v.st, "spec_sha256", hex);
	} else {
		(void)lep_json_get_ll(v.st, "revision", &rev);
		r = revision_of(v.st, rev);
		if ((err = switch_to(&v, lep_json_get_str(r, "config"))) !=
		    NULL)
			goto done;
	}
	lep_json_set(v.st, "canary", lep_json_null());
	if ((err = svc_save(&v)) == NULL)
		*out = deployment(&v, "running", NULL, 1);
done:
	free(hex);
	svc_release(&v);
	return err;
}

const struct lep_err *
aws_status(struct lep_deployment **out, void *state, const char *name)
{
	struct aws_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*ans = NULL, *body;
	struct svc		 v;
	char			*code = NULL, *msg = NULL;
	const char		*st, *why;
	const struct lep_json	*pend;
	long long		 n;

	*out = NULL;
	if ((err = svc_load(&v, s, name, 0)) != NULL)
		goto done;
	if (lep_json_get_bool(v.st, "stopped", 0) ||
	    !lep_json_get_bool(v.st, "endpoint", 0)) {
		*out = deployment(&v, "stopped", NULL, 0);
		goto done;
	}
	body = lep_json_obj();
	lep_json_set_str(body, "EndpointName", name);
	if ((err = call(&ans, &code, &v, "DescribeEndpoint", body)) != NULL) {
		if (aws_code_missing(code, err)) {
			err = NULL;
			*out = deployment(&v, "failed", "its SageMaker "
			    "endpoint is gone", 0);
		}
		goto done;
	}
	st = lep_json_get_str(ans, "EndpointStatus");
	why = lep_json_get_str(ans, "FailureReason");
	pend = lep_json_get(v.st, "pending");
	if (lep_streq(st, "InService") && pend != NULL &&
	    lep_streq(lep_json_get_str(pend, "config"),
	    lep_json_get_str(ans, "EndpointConfigName")) &&
	    lep_json_get_ll(pend, "revision", &n) == 0) {
		/* An interrupted deploy's revision came to serve. */
		lep_json_set_int(v.st, "revision", n);
		lep_json_set_str(v.st, "spec_sha256", lep_json_get_str(pend,
		    "spec_sha256"));
		lep_json_set(v.st, "pending", lep_json_null());
		(void)svc_save(&v);
	}
	if (lep_streq(st, "InService"))
		*out = deployment(&v, "running", why, 1);
	else if (lep_streq(st, "Failed") || lep_streq(st, "OutOfService")) {
		msg = xasprintf("SageMaker: %s%s%s", st, why ? ": " : "",
		    why ? why : "");
		*out = deployment(&v, "failed", msg, 0);
	} else if (lep_streq(st, "Deleting"))
		*out = deployment(&v, "stopped", st, 0);
	else
		*out = deployment(&v, "starting", st, 0);
done:
	free(msg);
	free(code);
	lep_json_free(ans);
	svc_release(&v);
	return err;
}

/* Delete op of each of st's key, dropping each gone from the list. */
static const struct lep_err *
delete_all(struct svc *v, const char *key, const char *op,
    const char *field)
{
	const struct lep_err	*err = NULL, *e;
	struct lep_json		*names, *body;
	const char		*n;
	char			*code;
	size_t			 i;

	if (lep_json_get(v->st, key) == NULL)
		return NULL;	/* a record from before KEY-pending */
	names = lep_json_dup(lep_json_get(v->st, key));

	for (i = 0; i < lep_json_len(names); i++) {
		n = lep_json_string(lep_json_at(names, i));
		body = lep_json_obj();
		lep_json_set_str(body, field, n);
		code = NULL;
		e = call(NULL, &code, v, op, body);
		if (e == NULL || aws_code_missing(code, e)) {
			list_del(v->st, key, n);
			(void)svc_save(v);
		} else if (err == NULL)
			err = e;
		free(code);
	}
	lep_json_free(names);
	return err;
}

const struct lep_err *
aws_remove(struct lep_deployment **out, void *state, const char *name,
    int grace_s)
{
	struct aws_state	*s = state;
	const struct lep_err	*err = NULL, *e;
	struct lep_json		*body;
	struct svc		 v;
	char			*code = NULL;
	long long		 t0 = lep_now_ms();

	(void)grace_s;	/* SageMaker drains an endpoint as it deletes it */
	*out = NULL;
	if ((err = svc_load(&v, s, name, 0)) != NULL)
		goto done;
	if (v.region == NULL) {
		/* Nothing was ever made: nothing to delete. */
		lep_json_set_bool(v.st, "stopped", 1);
		err = svc_save(&v);
		goto stopped;
	}
	if (lep_json_get_bool(v.st, "endpoint", 0) ||
	    lep_json_get_bool(v.st, "endpoint-pending", 0)) {
		body = lep_json_obj();
		lep_json_set_str(body, "EndpointName", name);
		e = call(NULL, &code, &v, "DeleteEndpoint", body);
		if (e == NULL || aws_code_missing(code, e)) {
			lep_json_set_bool(v.st, "endpoint", 0);
			lep_json_set_bool(v.st, "endpoint-pending", 0);
			(void)svc_save(&v);
		} else
			err = e;
	}
	if ((e = delete_all(&v, "configs", "DeleteEndpointConfig",
	    "EndpointConfigName")) != NULL && err == NULL)
		err = e;
	if ((e = delete_all(&v, "configs-pending", "DeleteEndpointConfig",
	    "EndpointConfigName")) != NULL && err == NULL)
		err = e;
	if ((e = delete_all(&v, "models", "DeleteModel", "ModelName")) !=
	    NULL && err == NULL)
		err = e;
	if ((e = delete_all(&v, "models-pending", "DeleteModel",
	    "ModelName")) != NULL && err == NULL)
		err = e;
	lep_json_set_bool(v.st, "stopped", 1);
	lep_json_set(v.st, "canary", lep_json_null());
	/* Nothing is left to switch back to. */
	lep_json_set(v.st, "revisions", lep_json_arr());
	e = svc_save(&v);
	if (err != NULL) {
		err = lep_err_hint(lep_err_new(err->code, "'%s' stopped, but "
		    "not all it made on SageMaker could be deleted: %s", name,
		    err->msg), "'lepton stop %s' tries again", name);
		goto done;
	}
	if ((err = e) != NULL)
		goto done;
	if (s->out != NULL)
		lep_out_info(s->out, "aws: %s deleted: %d SageMaker calls, "
		    "%lld ms", name, v.calls, lep_now_ms() - t0);
stopped:
	if (err == NULL)
		*out = deployment(&v, "stopped", NULL, 0);
done:
	free(code);
	svc_release(&v);
	return err;
}

const struct lep_err *
aws_endpoint(char **url_out, char **token_out, void *state, const char *name)
{
	struct aws_state	*s = state;
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;

	*url_out = *token_out = NULL;
	if ((err = aws_status(&d, s, name)) != NULL)
		return err;
	if (strcmp(d->state, "running") != 0 || d->endpoint[0] == '\0')
		err = lep_err_hint(lep_err_new(LEP_E_NOT_RUNNING, "'%s' is %s "
		    "on aws%s%s", name, d->state, d->message ? ": " : "",
		    d->message ? d->message : ""), "'lepton deploy' starts it "
		    "again");
	else
		*url_out = xstrdup(d->endpoint);
	lep_deployment_free(d);
	return err;
}

const struct lep_err *
aws_sign(char ***lines, size_t *n, void *state, const char *name,
    const char *method, const char *url, const void *body, size_t len)
{
	struct aws_state	*s = state;
	const struct lep_err	*err;
	struct lep_sigv4_keys	 keys;
	struct lep_sigv4_req	 req;
	struct lep_sigv4_out	 sig;
	struct svc		 v;
	size_t			 i;

	*lines = NULL;
	*n = 0;
	memset(&sig, 0, sizeof(sig));
	if ((err = svc_load(&v, s, name, 0)) != NULL ||
	    (err = aws_creds(s)) != NULL)
		goto done;
	keys.access_key = s->creds.access_key;
	keys.secret_key = s->creds.secret_key;
	keys.session_token = s->creds.session_token;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.payload = body;
	req.payload_len = len;
	req.region = v.region ? v.region : s->creds.region;
	/* InvokeEndpoint is signed as "sagemaker", on the runtime host. */
	req.service = "sagemaker";
	if ((err = lep_sigv4_sign(&sig, &keys, &req)) != NULL)
		goto done;
	*lines = xcalloc(sig.nheaders + 1, sizeof(**lines));
	for (i = 0; i < sig.nheaders; i++)
		(*lines)[i] = xstrdup(sig.headers[i]);
	*n = sig.nheaders;
done:
	lep_sigv4_out_release(&sig);
	svc_release(&v);
	return err;
}

struct svc_alive {
	struct aws_state	*s;
	const char		*name;
	long long		 next_ms;
	int			 alive;
};

/* -f follows while the endpoint serves (asked every 10 s at most). */
static int
svc_alive(void *arg)
{
	struct svc_alive	*a = arg;
	struct lep_deployment	*d = NULL;

	if (lep_now_ms() < a->next_ms)
		return a->alive;
	a->next_ms = lep_now_ms() + 10000;
	a->alive = aws_status(&d, a->s, a->name) == NULL &&
	    !lep_streq(d->state, "stopped") && !lep_streq(d->state, "failed");
	lep_deployment_free(d);
	return a->alive;
}

const struct lep_err *
aws_svc_logs(void *state, const char *name, const struct lep_logs_req *req,
    struct lep_out *out)
{
	struct aws_state	*s = state;
	const struct lep_err	*err;
	struct svc		 v;
	struct svc_alive	 a = { s, name, 0, 1 };
	char			*group;

	if ((err = svc_load(&v, s, name, 0)) != NULL)
		return lep_err_new(LEP_E_NOT_FOUND, "no deployment or job "
		    "named '%s' on the aws provider", name);
	if (req->replica >= 0) {
		/* Streams are VARIANT/INSTANCE-ID: no replica number. */
		svc_release(&v);
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED,
		    "provider 'aws' cannot show one replica's log: SageMaker "
		    "names an endpoint's log streams by instance id"),
		    "'lepton logs NAME' shows every instance's lines");
	}
	group = xasprintf("/aws/sagemaker/Endpoints/%s", name);
	err = aws_print_logs(s, v.region ? v.region : s->region, group, "",
	    req, out, svc_alive, &a);
	free(group);
	svc_release(&v);
	return err;
}
