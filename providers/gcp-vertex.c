/*
 * gcp-vertex.c: a deployment is a Vertex AI endpoint, made with an id
 * lepton chooses (so that a create repeated after a kill finds it rather
 * than making a second). Revision N is a model, uploaded as NAME-rN (the
 * image, and the model's files as gs://BUCKET/NAME/rN/model.tar.gz), and
 * deployed on the endpoint as deployed model N (Vertex lets the caller
 * choose that id, so a repeated deployModel finds it too).
 *
 * An update deploys the new model beside the serving one with all the
 * traffic ("0": 100): Vertex moves the split only once the new model is
 * deployed, so the old one serves until then; the old one is undeployed
 * after. A canary deploys it with its share and leaves the old one with
 * the rest; promote and abort move the split (PATCH trafficSplit) and
 * undeploy the other. A rollback is a deploy of a spec deployed before:
 * its model, if it still exists, is deployed again.
 *
 * HOME/gcp/services/NAME.json names the endpoint and every model lepton
 * uploaded for the deployment, written before each call whose result
 * must be found again and after each that made something, so that a
 * deploy that fails (or is killed) at any call leaves a record of
 * exactly what exists: the next deploy reuses it, a stop deletes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gcp-priv.h"
#include "provider.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/gzip.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/tar.h"
#include "../lib/types.h"
#include "../lib/util.h"

/* One deploy, update, status or stop under way. */
struct svc {
	struct gcp_state	*s;
	const char		*name;
	char			*path;		/* services/NAME.json */
	struct lep_json		*st;		/* its content */
	const char		*region;	/* st's */
	const char		*project;	/* st's */
	int			 calls;		/* Google calls made */
};

static const struct lep_err *
svc_load(struct svc *v, struct gcp_state *s, const char *name, int create)
{
	const struct lep_err	*err;

	memset(v, 0, sizeof(*v));
	v->s = s;
	v->name = name;
	v->path = gcp_file(s, "services", name);
	err = lep_read_json(&v->st, v->path, LEP_DRIVER_FILE_MAX);
	if (err != NULL && err->code == LEP_E_NOT_FOUND) {
		if (!create)
			return lep_err_new(LEP_E_NOT_FOUND, "no deployment "
			    "'%s' on the gcp provider", name);
		err = NULL;
		v->st = lep_json_obj();
		lep_json_set_int(v->st, "created", (long long)time(NULL));
		lep_json_set(v->st, "models", lep_json_arr());
	}
	/* Hand-edited or damaged: say so, rather than take it for a
	   deployment that holds nothing (a stop would then leave all). */
	if (err == NULL && (lep_json_type(v->st) != LEP_JSON_OBJECT ||
	    (lep_json_get(v->st, "models") != NULL &&
	    lep_json_type(lep_json_get(v->st, "models")) != LEP_JSON_ARRAY)))
		err = lep_err_hint(lep_err_new(LEP_E_FAILED, "%s: not a "
		    "deployment record of the gcp provider (a JSON object "
		    "with a \"models\" array)", v->path), "it names what "
		    "'%s' made on Vertex AI: restore it, or delete what is "
		    "there by hand", name);
	if (err == NULL) {
		v->region = lep_json_get_str(v->st, "region");
		v->project = lep_json_get_str(v->st, "project");
	}
	return err;
}

static const struct lep_err *
svc_save(struct svc *v)
{
	const struct lep_err	*err;
	char			*dir = xasprintf("%s/gcp/services", v->s->home);

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

/* A call on Vertex in the deployment's region, counted. */
static const struct lep_err *
vcall(struct lep_json **out, char **status, struct svc *v,
    const char *method, const char *path, struct lep_json *body)
{
	v->calls++;
	return gcp_call(out, status, v->s, GCP_VERTEX, v->region, method,
	    path, body);
}

/*
 * Wait for operation op, named in the record meanwhile ("operation"):
 * a Ctrl-C leaves it there, so that the record says what goes on
 * without lepton; any other end removes it.
 */
static const struct lep_err *
op_wait(struct lep_json **resp, struct svc *v, const struct lep_json *op,
    const char *what)
{
	const struct lep_err	*err;
	const char		*name = lep_json_get_str(op, "name");

	if (name != NULL && !lep_json_get_bool(op, "done", 0)) {
		struct lep_json *o = lep_json_obj();

		lep_json_set_str(o, "name", name);
		lep_json_set_str(o, "what", what);
		lep_json_set(v->st, "operation", o);
		(void)svc_save(v);
	}
	err = gcp_wait(resp, v->s, v->region, op, what);
	if (err == NULL || err->code != LEP_E_INTERRUPTED)
		lep_json_set(v->st, "operation", lep_json_null());
	return err;
}

/* A long-running call: made, then waited for. */
static const struct lep_err *
vcall_wait(struct lep_json **resp, struct svc *v, const char *method,
    const char *path, struct lep_json *body, const char *what)
{
	const struct lep_err	*err;
	struct lep_json		*op = NULL;

	if (resp != NULL)
		*resp = NULL;
	if ((err = vcall(&op, NULL, v, method, path, body)) == NULL)
		err = op_wait(resp, v, op, what);
	lep_json_free(op);
	return err;
}

/* The models entry of revision rev, or NULL. */
static struct lep_json *
model_of(const struct lep_json *st, long long rev)
{
	const struct lep_json	*ms = lep_json_get(st, "models");
	struct lep_json		*m;
	long long		 n;
	size_t			 i;

	for (i = 0; i < lep_json_len(ms); i++) {
		m = lep_json_at(ms, i);
		if (lep_json_get_ll(m, "revision", &n) == 0 && n == rev)
			return m;
	}
	return NULL;
}

/* The newest entry that ran the same spec (and image), with a model. */
static struct lep_json *
same_spec(const struct lep_json *st, const char *hex, const char *pin)
{
	const struct lep_json	*ms = lep_json_get(st, "models");
	struct lep_json		*m, *best = NULL;
	size_t			 i;

	for (i = 0; i < lep_json_len(ms); i++) {
		m = lep_json_at(ms, i);
		if (lep_streq(lep_json_get_str(m, "spec_sha256"), hex) &&
		    lep_streq(lep_json_get_str(m, "pin"), pin) &&
		    lep_json_get_str(m, "model") != NULL)
			best = m;
	}
	return best;
}

/* The canary revision taking a share, or 0. */
static long long
canary_of(const struct lep_json *st)
{
	long long	 n;

	return lep_json_get_ll(lep_json_get(st, "canary"), "revision", &n) ==
	    0 ? n : 0;
}

static char *
endpoint_path(const struct svc *v, const char *suffix)
{
	return xasprintf("v1/%s%s", lep_json_get_str(v->st, "endpoint"),
	    suffix);
}

/* A label value: lowercase letters, digits, '-' and '_', 63 at most. */
static char *
label(const char *s)
{
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

static struct lep_json *
labels(const struct lep_spec *sp, int revision)
{
	struct lep_json	*l = lep_json_obj();
	char		*n = label(sp->name), r[24];

	lep_json_set_str(l, "lepton-deployment", n);
	if (revision > 0) {
		snprintf(r, sizeof(r), "%d", revision);
		lep_json_set_str(l, "lepton-revision", r);
	}
	free(n);
	return l;
}

/* The serving container: image, command, environment, routes. */
static struct lep_json *
container(const struct lep_spec *sp, const char *pin)
{
	struct lep_json	*c = lep_json_obj(), *env = lep_json_arr(), *e;
	struct lep_json	*ports, *port, *cmd;
	char		 num[24];
	int		 p = sp->service.port > 0 ? sp->service.port : 8080;
	size_t		 i;

	lep_json_set_str(c, "imageUri", pin ? pin : sp->image.ref);
	if (sp->run != NULL) {
		cmd = lep_json_arr();
		lep_json_push(cmd, lep_json_str("/bin/sh"));
		lep_json_push(cmd, lep_json_str("-c"));
		lep_json_push(cmd, lep_json_str(sp->run));
		lep_json_set(c, "command", cmd);
	}
	snprintf(num, sizeof(num), "%d", p);
	for (i = 0; i <= sp->nenv + 2; i++) {
		e = lep_json_obj();
		if (i < sp->nenv) {
			lep_json_set_str(e, "name", sp->env[i].key);
			lep_json_set_str(e, "value", sp->env[i].value);
		} else if (i == sp->nenv) {
			lep_json_set_str(e, "name", "LEPTON_DEPLOYMENT");
			lep_json_set_str(e, "value", sp->name);
		} else if (i == sp->nenv + 1) {
			lep_json_set_str(e, "name", "LEPTON_PORT");
			lep_json_set_str(e, "value", num);
		} else {
			lep_json_set_str(e, "name", "LEPTON_HOST");
			lep_json_set_str(e, "value", "0.0.0.0");
		}
		lep_json_push(env, e);
	}
	lep_json_set(c, "env", env);
	ports = lep_json_arr();
	port = lep_json_obj();
	lep_json_set_int(port, "containerPort", p);
	lep_json_push(ports, port);
	lep_json_set(c, "ports", ports);
	/* Vertex forwards :predict and :rawPredict both to predictRoute. */
	lep_json_set_str(c, "predictRoute", "/predict");
	lep_json_set_str(c, "healthRoute", sp->service.ready_path ?
	    sp->service.ready_path : "/");
	return c;
}

/*
 * The model's id, chosen and recorded before the upload (models.upload
 * takes one): an upload repeated after a kill answers ALREADY_EXISTS,
 * and a later deploy or a stop finds the model by it. A model with that
 * id already there (the upload of a deploy cut short) is m's model.
 */
static const struct lep_err *
model_id(struct svc *v, const struct lep_spec *sp, int rev,
    struct lep_json *m)
{
	const struct lep_err	*err;
	struct lep_json		*ans = NULL;
	char			 rnd[9], *l, *p, *id, *name, *path, *st = NULL;

	if (lep_json_get_str(m, "model_id") == NULL) {
		if ((err = lep_random_hex(rnd, 4)) != NULL)
			return err;
		/* [a-z0-9_-], not a digit first, 63 at most. */
		l = label(sp->name);
		if (strlen(l) > 40)
			l[40] = '\0';
		for (p = l; *p != '\0'; p++)
			if (*p == '_')
				*p = '-';
		id = xasprintf("lep-%s-r%d-%s", l, rev, rnd);
		name = xasprintf("projects/%s/locations/%s/models/%s",
		    v->project, v->region, id);
		lep_json_set_str(m, "model_id", id);
		lep_json_set_str(m, "model_name", name);
		free(l);
		free(id);
		free(name);
		return svc_save(v);
	}
	path = xasprintf("v1/%s", lep_json_get_str(m, "model_name"));
	err = vcall(&ans, &st, v, "GET", path, NULL);
	free(path);
	lep_json_free(ans);
	if (err == NULL)
		lep_json_set_str(m, "model", lep_json_get_str(m, "model_name"));
	else if (gcp_missing(st, err))
		err = NULL;
	free(st);
	return err;
}

/* Model NAME-rN, uploaded: its files in Cloud Storage first. */
static const struct lep_err *
make_model(struct svc *v, const struct lep_deploy_req *req,
    struct lep_json *m)
{
	const struct lep_err	*err = NULL;
	const struct lep_spec	*sp = req->spec;
	struct lep_json		*body, *model, *resp = NULL;
	struct lep_buf		 tar = LEP_BUF_INIT, tgz = LEP_BUF_INIT;
	char			*bucket = NULL, *obj = NULL, *what, *parent;
	char			*st = NULL;
	const char		*name;

	if (lep_json_get_str(m, "model") != NULL)
		return NULL;	/* uploaded before this deploy was cut */
	if ((err = model_id(v, sp, req->revision, m)) != NULL)
		return err;
	if (lep_json_get_str(m, "model") != NULL)
		return NULL;	/* the upload of a deploy cut short */
	if (req->model_dir != NULL) {
		if ((err = gcp_bucket(&bucket, v->s, v->region)) != NULL)
			return err;
		obj = xasprintf("%s/r%d/model.tar.gz", sp->name, req->revision);
		/* Named before it is written: a stop after a kill in the
		   upload deletes it too. */
		lep_json_set_str(m, "bucket", bucket);
		lep_json_set_str(m, "object", obj);
		if ((err = svc_save(v)) == NULL &&
		    (err = lep_tar_dir(&tar, req->model_dir, LEP_TAR_MAX,
		    NULL)) == NULL &&
		    (err = lep_gzip(&tgz, tar.buf, tar.len)) == NULL)
			err = gcp_gcs_put(v->s, bucket, obj, tgz.buf, tgz.len);
		lep_buf_release(&tar);
		lep_buf_release(&tgz);
		v->calls++;
		if (err != NULL)
			goto done;
	}
	body = lep_json_obj();
	model = lep_json_obj();
	what = xasprintf("%s-r%d", sp->name, req->revision);
	lep_json_set_str(model, "displayName", what);
	if (req->model_dir != NULL) {
		char *uri = xasprintf("gs://%s/%s/r%d/", bucket, sp->name,
		    req->revision);

		lep_json_set_str(model, "artifactUri", uri);
		free(uri);
	}
	lep_json_set(model, "containerSpec", container(sp, req->pin));
	lep_json_set(model, "labels", labels(sp, req->revision));
	lep_json_set(body, "model", model);
	lep_json_set_str(body, "modelId", lep_json_get_str(m, "model_id"));
	free(what);
	what = xasprintf("%s: uploading model %s-r%d", sp->name, sp->name,
	    req->revision);
	parent = gcp_parent(v->project, v->region);
	free(obj);
	obj = xasprintf("v1/%s/models:upload", parent);
	free(parent);
	err = vcall(&resp, &st, v, "POST", obj, body);
	if (err == NULL) {
		struct lep_json *op = resp;

		resp = NULL;
		err = op_wait(&resp, v, op, what);
		lep_json_free(op);
	}
	free(what);
	if (err != NULL && lep_streq(st, "ALREADY_EXISTS")) {
		/* Made by a deploy cut before it recorded it. */
		err = NULL;
		lep_json_set_str(m, "model", lep_json_get_str(m,
		    "model_name"));
		err = svc_save(v);
		goto done;
	}
	if (err != NULL)
		goto done;
	if ((name = lep_json_get_str(resp, "model")) == NULL) {
		err = lep_err_new(LEP_E_PROVIDER, "Vertex AI: models.upload "
		    "of %s-r%d answered no model", sp->name, req->revision);
		goto done;
	}
	lep_json_set_str(m, "model", name);
	err = svc_save(v);
done:
	lep_json_free(resp);
	free(st);
	free(bucket);
	free(obj);
	return err;
}

/*
 * The endpoint, made once with an id chosen (and recorded) before the
 * call: a create repeated after a kill answers ALREADY_EXISTS, and that
 * is the endpoint.
 */
static const struct lep_err *
make_endpoint(struct svc *v, const struct lep_spec *sp)
{
	const struct lep_err	*err;
	struct lep_json		*body, *resp = NULL;
	char			 rnd[9];
	char			*id, *path, *parent, *what, *st = NULL;
	const char		*eid;

	if (lep_json_get_str(v->st, "endpoint") != NULL)
		return NULL;
	if ((eid = lep_json_get_str(v->st, "endpoint_id")) == NULL) {
		char *l = label(sp->name);

		/* Vertex: [a-z0-9-], a letter first, 63 at most. */
		if ((err = lep_random_hex(rnd, 4)) != NULL) {
			free(l);
			return err;
		}
		for (id = l; *id != '\0'; id++)
			if (*id == '_')
				*id = '-';
		if (strlen(l) > 40)
			l[40] = '\0';
		id = xasprintf("lep-%s-%s", l, rnd);
		free(l);
		lep_json_set_str(v->st, "endpoint_id", id);
		free(id);
		if ((err = svc_save(v)) != NULL)
			return err;
		eid = lep_json_get_str(v->st, "endpoint_id");
	}
	parent = gcp_parent(v->project, v->region);
	path = xasprintf("v1/%s/endpoints?endpointId=%s", parent, eid);
	body = lep_json_obj();
	lep_json_set_str(body, "displayName", sp->name);
	lep_json_set(body, "labels", labels(sp, 0));
	what = xasprintf("%s: making endpoint %s", sp->name, eid);
	err = vcall(&resp, &st, v, "POST", path, body);
	if (err == NULL) {
		struct lep_json *op = resp;

		resp = NULL;
		err = op_wait(NULL, v, op, what);
		lep_json_free(op);
	} else if (lep_streq(st, "ALREADY_EXISTS"))
		err = NULL;
	if (err == NULL) {
		char *name = xasprintf("%s/endpoints/%s", parent, eid);

		lep_json_set_str(v->st, "endpoint", name);
		free(name);
		err = svc_save(v);
		if (v->s->out != NULL)
			lep_out_info(v->s->out, "gcp: %s is Vertex AI endpoint "
			    "%s in %s", sp->name, eid, v->region);
	}
	lep_json_free(resp);
	free(st);
	free(what);
	free(path);
	free(parent);
	return err;
}

/*
 * The endpoint as Vertex has it: *ids (caller frees) the deployed
 * models' ids, an array; *split its trafficSplit (may be NULL).
 * Returns 1 it exists, 0 not, -1 error.
 */
static int
endpoint_get(struct lep_json **ids, struct lep_json **split, struct svc *v,
    const struct lep_err **err)
{
	struct lep_json		*ans = NULL, *dms;
	const char		*id;
	char			*path, *st = NULL;
	size_t			 i;

	*ids = lep_json_arr();
	if (split != NULL)
		*split = NULL;
	*err = NULL;
	if (lep_json_get_str(v->st, "endpoint") == NULL)
		return 0;
	path = endpoint_path(v, "");
	*err = vcall(&ans, &st, v, "GET", path, NULL);
	free(path);
	if (*err != NULL) {
		int gone = gcp_missing(st, *err);

		free(st);
		if (gone) {
			*err = NULL;
			return 0;
		}
		return -1;
	}
	dms = lep_json_get(ans, "deployedModels");
	for (i = 0; i < lep_json_len(dms); i++)
		if ((id = lep_json_get_str(lep_json_at(dms, i), "id")) !=
		    NULL)
			lep_json_push(*ids, lep_json_str(id));
	if (split != NULL && lep_json_get(ans, "trafficSplit") != NULL)
		*split = lep_json_dup(lep_json_get(ans, "trafficSplit"));
	lep_json_free(ans);
	return 1;
}

static int
has_id(const struct lep_json *ids, const char *id)
{
	size_t	 i;

	for (i = 0; i < lep_json_len(ids); i++)
		if (lep_streq(lep_json_string(lep_json_at(ids, i)), id))
			return 1;
	return 0;
}

/* Deployed model id of revision rev: the revision's number. */
static void
dm_id(char *buf, size_t len, long long rev)
{
	snprintf(buf, len, "%lld", rev);
}

/*
 * Deploy m's model on the endpoint as deployed model rev, with traffic
 * split (taken; "0" is this one). Already there (a deploy cut after
 * Vertex took it): nothing to do.
 */
static const struct lep_err *
deploy_model(struct svc *v, const struct lep_spec *sp, long long rev,
    const struct lep_json *m, const char *instance, int count,
    struct lep_json *split)
{
	const struct lep_err	*err;
	struct lep_json		*ids = NULL, *body, *dm, *res, *spec;
	const char		*acc;
	char			 id[24], *path, *what, *name;
	int			 r;

	dm_id(id, sizeof(id), rev);
	if ((r = endpoint_get(&ids, NULL, v, &err)) == -1)
		goto done;
	if (r == 1 && has_id(ids, id)) {
		lep_json_free(split);
		goto done;
	}
	body = lep_json_obj();
	dm = lep_json_obj();
	lep_json_set_str(dm, "id", id);
	lep_json_set_str(dm, "model", lep_json_get_str(m, "model"));
	name = xasprintf("%s-r%lld", sp->name, rev);
	lep_json_set_str(dm, "displayName", name);
	free(name);
	res = lep_json_obj();
	spec = lep_json_obj();
	lep_json_set_str(spec, "machineType", instance);
	if (sp->resources.naccels > 0 && (acc =
	    gcp_accelerator(sp->resources.accels[0].name)) != NULL) {
		lep_json_set_str(spec, "acceleratorType", acc);
		lep_json_set_int(spec, "acceleratorCount",
		    sp->resources.accels[0].count > 0 ?
		    sp->resources.accels[0].count : 1);
	}
	lep_json_set(res, "machineSpec", spec);
	lep_json_set_int(res, "minReplicaCount", count);
	lep_json_set_int(res, "maxReplicaCount", count);
	lep_json_set(dm, "dedicatedResources", res);
	lep_json_set(body, "deployedModel", dm);
	lep_json_set(body, "trafficSplit", split);
	path = endpoint_path(v, ":deployModel");
	what = xasprintf("%s: deploying revision %lld on %d x %s", sp->name,
	    rev, count, instance);
	err = vcall_wait(NULL, v, "POST", path, body, what);
	free(path);
	free(what);
done:
	lep_json_free(ids);
	return err;
}

/*
 * Undeploy deployed model id. Vertex undeploys a model only once no
 * traffic goes to it: to (when not NULL) gets all of it in the same
 * call.
 */
static const struct lep_err *
undeploy(struct svc *v, const char *id, const char *to)
{
	const struct lep_err	*err;
	struct lep_json		*body = lep_json_obj(), *split;
	char			*path = endpoint_path(v, ":undeployModel");
	char			*what = xasprintf("%s: undeploying revision %s",
				    v->name, id);

	lep_json_set_str(body, "deployedModelId", id);
	if (to != NULL) {
		split = lep_json_obj();
		lep_json_set_int(split, to, 100);
		lep_json_set(body, "trafficSplit", split);
	}
	err = vcall_wait(NULL, v, "POST", path, body, what);
	/* Gone already (a stop or deploy cut after Vertex acted). */
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = NULL;
	free(path);
	free(what);
	return err;
}

/*
 * Undeploy every deployed model but keep (NULL: all of them, the last
 * one alone, when nothing else is left to take its traffic).
 */
static const struct lep_err *
undeploy_others(struct svc *v, const char *keep)
{
	const struct lep_err	*err, *e;
	struct lep_json		*ids = NULL;
	const char		*id, *to;
	size_t			 i, n;

	if (endpoint_get(&ids, NULL, v, &err) == 1) {
		n = lep_json_len(ids);
		for (i = 0; i < n; i++) {
			id = lep_json_string(lep_json_at(ids, i));
			if (lep_streq(id, keep))
				continue;
			if (keep != NULL)
				to = keep;
			else if (i + 1 < n)
				to = lep_json_string(lep_json_at(ids, n - 1));
			else
				to = NULL;
			if ((e = undeploy(v, id, to)) != NULL && err == NULL)
				err = e;
		}
	}
	lep_json_free(ids);
	return err;
}

/* All the endpoint's traffic to deployed model id. */
static const struct lep_err *
route_all(struct svc *v, const char *id)
{
	const struct lep_err	*err;
	struct lep_json		*body = lep_json_obj(), *split = lep_json_obj();
	char			*path = endpoint_path(v, "?updateMask=trafficSplit");

	lep_json_set_int(split, id, 100);
	lep_json_set(body, "trafficSplit", split);
	err = vcall(NULL, NULL, v, "PATCH", path, body);
	free(path);
	return err;
}

static struct lep_deployment *
deployment(const struct svc *v, const char *state, const char *msg,
    int ready)
{
	struct lep_deployment	*d;
	const char		*name = lep_json_get_str(v->st, "endpoint");
	char			*base, *ep = NULL;

	base = gcp_url(v->s, GCP_VERTEX, v->region, NULL);
	if (strcmp(state, "running") == 0 && name != NULL)
		ep = xasprintf("%sv1/%s", base, name);
	d = lep_deployment_of_record("gcp", v->name, v->st, state, msg,
	    ready, ep);
	free(ep);
	free(base);
	return d;
}

/*
 * No capacity for this offer: nothing of the attempt may stay in the
 * region (lib/ records it as never started and tries the next offer):
 * the endpoint if it serves nothing, and this revision's model.
 */
static void
undo_attempt(struct svc *v, struct lep_json *m)
{
	const struct lep_err	*err;
	struct lep_json		*ids = NULL;
	char			*path;
	const char		*model = lep_json_get_str(m, "model");

	if (endpoint_get(&ids, NULL, v, &err) == 1 &&
	    lep_json_len(ids) == 0) {
		path = endpoint_path(v, "");
		if (vcall_wait(NULL, v, "DELETE", path, NULL, "deleting the "
		    "endpoint") == NULL) {
			lep_json_set(v->st, "endpoint", lep_json_null());
			lep_json_set(v->st, "endpoint_id", lep_json_null());
		}
		free(path);
	}
	lep_json_free(ids);
	if (model != NULL) {
		path = xasprintf("v1/%s", model);
		if ((err = vcall_wait(NULL, v, "DELETE", path, NULL,
		    "deleting the model")) == NULL ||
		    err->code == LEP_E_NOT_FOUND)
			lep_json_set(m, "model", lep_json_null());
		free(path);
	}
	if (lep_json_get_str(v->st, "endpoint") == NULL &&
	    lep_json_len(lep_json_get(v->st, "models")) <= 1)
		lep_json_set(v->st, "region", lep_json_null());
	(void)svc_save(v);
}

/*
 * Entries of the same spec whose upload a kill cut: their model, if
 * Vertex has it, so that the deploy after uses it instead of uploading
 * another.
 */
static const struct lep_err *
settle_uploads(struct svc *v, const char *hex, const char *pin)
{
	const struct lep_err	*err = NULL;
	const struct lep_json	*ms = lep_json_get(v->st, "models");
	struct lep_json		*m, *ans;
	char			*path, *st;
	size_t			 i;

	for (i = 0; err == NULL && i < lep_json_len(ms); i++) {
		m = lep_json_at(ms, i);
		if (lep_json_get_str(m, "model") != NULL ||
		    lep_json_get_str(m, "model_name") == NULL ||
		    !lep_streq(lep_json_get_str(m, "spec_sha256"), hex) ||
		    !lep_streq(lep_json_get_str(m, "pin"), pin))
			continue;
		path = xasprintf("v1/%s", lep_json_get_str(m, "model_name"));
		ans = NULL;
		st = NULL;
		err = vcall(&ans, &st, v, "GET", path, NULL);
		if (err == NULL)
			lep_json_set_str(m, "model", lep_json_get_str(m,
			    "model_name"));
		else if (gcp_missing(st, err))
			err = NULL;
		lep_json_free(ans);
		free(st);
		free(path);
	}
	return err;
}

/*
 * The deployed model a canary shares the endpoint with: the recorded
 * revision's (old), unless a promote or an abort cut short moved all
 * the traffic elsewhere and undeployed it: then the one that takes the
 * most traffic now, in old. None (nothing serves): *canary = 0, a
 * plain update.
 */
static const struct lep_err *
serving_now(int *canary, struct svc *v, char *old, size_t len,
    long long rev)
{
	const struct lep_err	*err;
	struct lep_json		*ids = NULL, *split = NULL;
	const char		*best = NULL;
	char			 self[24];
	long long		 pct, top = -1;
	size_t			 i;

	if (endpoint_get(&ids, &split, v, &err) == -1)
		goto done;
	if (has_id(ids, old))
		goto done;
	dm_id(self, sizeof(self), rev);
	for (i = 0; i < lep_json_len(ids); i++) {
		const char *id = lep_json_string(lep_json_at(ids, i));

		if (lep_streq(id, self))
			continue;
		pct = 0;
		(void)lep_json_get_ll(split, id, &pct);
		if (pct > top) {
			top = pct;
			best = id;
		}
	}
	if (best != NULL) {
		if (v->s->out != NULL)
			lep_out_info(v->s->out, "gcp: %s: deployed model %s "
			    "is gone from the endpoint (an interrupted "
			    "rollout); the canary shares it with %s", v->name,
			    old, best);
		lep_strlcpy(old, best, len);
	} else
		*canary = 0;
done:
	lep_json_free(ids);
	lep_json_free(split);
	return err;
}

/* Is there anything of this deployment on Vertex? */
static int
holds_anything(const struct lep_json *st)
{
	const struct lep_json	*ms = lep_json_get(st, "models");
	size_t			 i;

	if (lep_json_get_str(st, "endpoint") != NULL ||
	    lep_json_get_str(st, "endpoint_id") != NULL)
		return 1;
	for (i = 0; i < lep_json_len(ms); i++)
		if (lep_json_get_str(lep_json_at(ms, i), "model") != NULL ||
		    lep_json_get_str(lep_json_at(ms, i), "model_name") != NULL)
			return 1;
	return 0;
}

const struct lep_err *
gcp_deploy(struct lep_deployment **out, void *state,
    const struct lep_deploy_req *req)
{
	struct gcp_state	*s = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*m = NULL, *prev, *split;
	struct svc		 v;
	char			*region = NULL, *instance = NULL, id[24];
	char			 old[24];
	const char		*project;
	long long		 t0 = lep_now_ms(), old_rev = 0;
	int			 canary, count = sp->service.replicas_min;

	*out = NULL;
	if ((err = svc_load(&v, s, sp->name, 1)) != NULL)
		goto done;
	if (count < 1)
		count = 1;
	/*
	 * An endpoint stays in the region it was made in; a deployment
	 * with nothing on Vertex yet goes where the plan says now.
	 */
	if (v.region == NULL || !holds_anything(v.st)) {
		if ((err = gcp_project(&project, s)) != NULL)
			goto done;
		region = gcp_region(s, sp, req->region);
		lep_json_set_str(v.st, "region", region);
		lep_json_set_str(v.st, "project", project);
		v.region = lep_json_get_str(v.st, "region");
		v.project = lep_json_get_str(v.st, "project");
	} else if (sp->placement.nregions > 0) {
		size_t	 i;

		for (i = 0; i < sp->placement.nregions; i++)
			if (lep_streq(sp->placement.regions[i], v.region))
				break;
		if (i == sp->placement.nregions) {
			err = lep_err_hint(lep_err_new(LEP_E_CONFLICT, "'%s' "
			    "serves in %s, which placement.regions no longer "
			    "names", sp->name, v.region), "'lepton stop %s' "
			    "first, then deploy it where you want it",
			    sp->name);
			goto done;
		}
	}
	if ((err = gcp_creds(s)) != NULL)
		goto done;
	lep_json_set_bool(v.st, "stopped", 0);
	(void)lep_json_get_ll(v.st, "revision", &old_rev);
	dm_id(old, sizeof(old), old_rev);
	/* A canary left by a deploy cut short is replaced (as on aws):
	   this revision's split, or its undeploy below, moves it out. */
	lep_json_set(v.st, "canary", lep_json_null());
	canary = lep_streq(sp->service.strategy, "canary") && old_rev > 0 &&
	    lep_json_get_str(v.st, "endpoint") != NULL;
	if (req->instance != NULL)
		instance = gcp_machine(req->instance);
	else
		instance = gcp_machine(lep_json_get_str(v.st, "instance"));
	if ((m = model_of(v.st, req->revision)) == NULL) {
		m = lep_json_obj();
		lep_json_set_int(m, "revision", req->revision);
		lep_json_set_str(m, "spec_sha256", req->spec_sha256);
		if (req->pin != NULL)
			lep_json_set_str(m, "pin", req->pin);
		/* A rollback: the model that spec had, uploaded before
		   (or by a deploy of the same spec cut short). */
		if ((err = settle_uploads(&v, req->spec_sha256,
		    req->pin)) != NULL)
			goto done;
		if ((prev = same_spec(v.st, req->spec_sha256, req->pin)) !=
		    NULL) {
			lep_json_set_str(m, "model", lep_json_get_str(prev,
			    "model"));
			lep_json_set_str(m, "shared", "yes");
			if (s->out != NULL)
				lep_out_info(s->out, "gcp: %s revision %d "
				    "deploys model %s again", sp->name,
				    req->revision, lep_json_get_str(prev,
				    "model"));
		}
		lep_json_push(lep_json_get(v.st, "models"), m);
	}
	lep_json_set_str(m, "instance", instance);
	lep_json_set_int(m, "count", count);
	if ((err = svc_save(&v)) != NULL ||
	    (err = make_model(&v, req, m)) != NULL ||
	    (err = make_endpoint(&v, sp)) != NULL)
		goto fail;
	if (canary && (err = serving_now(&canary, &v, old, sizeof(old),
	    req->revision)) != NULL)
		goto fail;
	split = lep_json_obj();
	if (canary) {
		lep_json_set_int(split, "0", sp->service.canary_percent);
		lep_json_set_int(split, old, 100 - sp->service.canary_percent);
	} else
		lep_json_set_int(split, "0", 100);
	/* The revision being deployed is in the record: if this deploy is
	   cut, status finds whether it came to serve. */
	if (!canary) {
		lep_json_set_int(v.st, "pending", req->revision);
		(void)svc_save(&v);
	}
	if ((err = deploy_model(&v, sp, req->revision, m, instance, count,
	    split)) != NULL)
		goto fail;
	dm_id(id, sizeof(id), req->revision);
	if (canary) {
		struct lep_json	*c = lep_json_obj();

		lep_json_set_int(c, "revision", req->revision);
		lep_json_set_int(c, "percent", sp->service.canary_percent);
		lep_json_set_str(c, "spec_sha256", req->spec_sha256);
		/* What an abort gives the traffic back to. */
		lep_json_set_str(c, "serving", old);
		lep_json_set(v.st, "canary", c);
	} else {
		/* Vertex moved the traffic when the new model was up. */
		if ((err = route_all(&v, id)) != NULL ||
		    (err = undeploy_others(&v, id)) != NULL)
			goto fail;
		lep_json_set_int(v.st, "revision", req->revision);
		lep_json_set_str(v.st, "spec_sha256", req->spec_sha256);
		lep_json_set_str(v.st, "instance", instance);
		lep_json_set_int(v.st, "count", count);
	}
	lep_json_set(v.st, "pending", lep_json_null());
	if ((err = svc_save(&v)) != NULL)
		goto done;
	if (s->out != NULL)
		lep_out_info(s->out, "gcp: %s in service: %d Google calls, "
		    "%lld ms", sp->name, v.calls, lep_now_ms() - t0);
	*out = deployment(&v, "running", NULL, 1);
	goto done;
fail:
	/* What exists is recorded; the revision before serves on. */
	if (err->code == LEP_E_CAPACITY && m != NULL)
		undo_attempt(&v, m);
	/* Interrupted, the deployModel goes on: status finds whether
	   the pending revision came to serve. */
	if (err->code != LEP_E_INTERRUPTED)
		lep_json_set(v.st, "pending", lep_json_null());
	(void)svc_save(&v);
done:
	svc_release(&v);
	free(region);
	free(instance);
	return err;
}

const struct lep_err *
gcp_update(struct lep_deployment **out, void *state, const char *name,
    int revision, const char *action)
{
	struct gcp_state	*s = state;
	const struct lep_err	*err;
	const struct lep_json	*can;
	struct svc		 v;
	long long		 crev = 0, rev = 0;
	char			 keep[24];
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
	(void)lep_json_get_ll(v.st, "revision", &rev);
	dm_id(keep, sizeof(keep), strcmp(action, "promote") == 0 ? crev :
	    rev);
	if (strcmp(action, "promote") != 0 &&
	    lep_json_get_str(can, "serving") != NULL)
		lep_strlcpy(keep, lep_json_get_str(can, "serving"),
		    sizeof(keep));
	if ((err = route_all(&v, keep)) != NULL ||
	    (err = undeploy_others(&v, keep)) != NULL)
		goto done;
	if (strcmp(action, "promote") == 0) {
		lep_json_set_int(v.st, "revision", crev);
		hex = xstrdup(lep_json_get_str(can, "spec_sha256") ?
		    lep_json_get_str(can, "spec_sha256") : "");
		lep_json_set_str(v.st, "spec_sha256", hex);
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
gcp_status(struct lep_deployment **out, void *state, const char *name)
{
	struct gcp_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*ids = NULL, *m;
	struct svc		 v;
	char			 id[24];
	long long		 rev = 0, pend = 0;
	int			 r;

	*out = NULL;
	if ((err = svc_load(&v, s, name, 0)) != NULL)
		goto done;
	if (lep_json_get_bool(v.st, "stopped", 0) ||
	    lep_json_get_str(v.st, "endpoint") == NULL) {
		*out = deployment(&v, "stopped", NULL, 0);
		goto done;
	}
	if ((r = endpoint_get(&ids, NULL, &v, &err)) == -1)
		goto done;
	if (r == 0) {
		*out = deployment(&v, "failed", "its Vertex AI endpoint is "
		    "gone", 0);
		goto done;
	}
	(void)lep_json_get_ll(v.st, "revision", &rev);
	if (lep_json_get_ll(v.st, "pending", &pend) == 0 && pend > 0) {
		dm_id(id, sizeof(id), pend);
		if (has_id(ids, id) && (m = model_of(v.st, pend)) != NULL &&
		    canary_of(v.st) == 0) {
			/* An interrupted deploy's revision came to serve. */
			rev = pend;
			lep_json_set_int(v.st, "revision", pend);
			lep_json_set_str(v.st, "spec_sha256",
			    lep_json_get_str(m, "spec_sha256"));
			lep_json_set(v.st, "pending", lep_json_null());
			lep_json_set(v.st, "operation", lep_json_null());
			(void)svc_save(&v);
		}
	}
	dm_id(id, sizeof(id), rev);
	/* A canary beside a revision other than the recorded one (see
	   serving_now): that one serves. */
	if (lep_json_get_str(lep_json_get(v.st, "canary"), "serving") != NULL)
		lep_strlcpy(id, lep_json_get_str(lep_json_get(v.st, "canary"),
		    "serving"), sizeof(id));
	if (rev > 0 && has_id(ids, id))
		*out = deployment(&v, "running", NULL, 1);
	else if (lep_json_len(ids) == 0)
		*out = deployment(&v, "failed", "no model is deployed on its "
		    "Vertex AI endpoint", 0);
	else
		*out = deployment(&v, "starting", NULL, 0);
done:
	lep_json_free(ids);
	svc_release(&v);
	return err;
}

const struct lep_err *
gcp_remove(struct lep_deployment **out, void *state, const char *name,
    int grace_s)
{
	struct gcp_state	*s = state;
	const struct lep_err	*err = NULL, *e;
	struct lep_json		*ms, *m;
	struct svc		 v;
	const char		*model, *b, *o;
	char			*path;
	long long		 t0 = lep_now_ms();
	size_t			 i;
	int			 gone;

	(void)grace_s;	/* Vertex drains a deployed model as it goes */
	*out = NULL;
	if ((err = svc_load(&v, s, name, 0)) != NULL)
		goto done;
	if (v.region == NULL || !holds_anything(v.st)) {
		lep_json_set_bool(v.st, "stopped", 1);
		err = svc_save(&v);
		goto stopped;
	}
	if (lep_json_get_str(v.st, "endpoint") == NULL &&
	    lep_json_get_str(v.st, "endpoint_id") != NULL) {
		/* Made, maybe, by a deploy killed in the create. */
		char *parent = gcp_parent(v.project, v.region);
		char *n = xasprintf("%s/endpoints/%s", parent,
		    lep_json_get_str(v.st, "endpoint_id"));

		lep_json_set_str(v.st, "endpoint", n);
		free(n);
		free(parent);
	}
	if (lep_json_get_str(v.st, "endpoint") != NULL) {
		if ((err = undeploy_others(&v, NULL)) == NULL) {
			path = endpoint_path(&v, "");
			e = vcall_wait(NULL, &v, "DELETE", path, NULL,
			    "deleting the endpoint");
			free(path);
			if (e == NULL || e->code == LEP_E_NOT_FOUND) {
				lep_json_set(v.st, "endpoint", lep_json_null());
				lep_json_set(v.st, "endpoint_id",
				    lep_json_null());
				(void)svc_save(&v);
			} else
				err = e;
		}
	}
	ms = lep_json_get(v.st, "models");
	for (i = 0; err == NULL && i < lep_json_len(ms); i++) {
		m = lep_json_at(ms, i);
		/* A model whose upload was cut is asked for by its id. */
		if ((model = lep_json_get_str(m, "model")) == NULL &&
		    (model = lep_json_get_str(m, "model_name")) == NULL)
			continue;
		path = xasprintf("v1/%s", model);
		e = vcall_wait(NULL, &v, "DELETE", path, NULL,
		    "deleting a model");
		free(path);
		if (e == NULL || e->code == LEP_E_NOT_FOUND) {
			/* Revisions that shared it drop it too. */
			char *gone = xstrdup(model);
			size_t k;

			for (k = 0; k < lep_json_len(ms); k++) {
				m = lep_json_at(ms, k);
				if (lep_streq(lep_json_get_str(m, "model"),
				    gone) || lep_streq(lep_json_get_str(m,
				    "model_name"), gone)) {
					lep_json_set(m, "model",
					    lep_json_null());
					lep_json_set(m, "model_name",
					    lep_json_null());
				}
			}
			free(gone);
			(void)svc_save(&v);
		} else
			err = e;
	}
	/* The model files lepton uploaded. */
	for (i = 0; err == NULL && i < lep_json_len(ms); i++) {
		m = lep_json_at(ms, i);
		if ((b = lep_json_get_str(m, "bucket")) == NULL ||
		    (o = lep_json_get_str(m, "object")) == NULL)
			continue;
		if ((e = gcp_gcs_delete(s, b, o)) != NULL)
			err = e;
	}
	if (err == NULL) {
		/* Nothing is left to deploy again. */
		lep_json_set(v.st, "models", lep_json_arr());
		lep_json_set(v.st, "region", lep_json_null());
	}
	/*
	 * Stopped once the endpoint is gone (nothing serves); while it
	 * stands, status asks Vertex, rather than the record saying
	 * "stopped" over an endpoint that may still answer.
	 */
	gone = lep_json_get_str(v.st, "endpoint") == NULL;
	if (gone) {
		lep_json_set_bool(v.st, "stopped", 1);
		lep_json_set(v.st, "canary", lep_json_null());
		lep_json_set(v.st, "pending", lep_json_null());
		lep_json_set(v.st, "operation", lep_json_null());
	}
	e = svc_save(&v);
	if (err != NULL) {
		err = lep_err_hint(lep_err_new(err->code, "'%s' %s, but not "
		    "all it made on Vertex AI could be deleted: %s", name,
		    gone ? "stopped" : "still has its endpoint", err->msg),
		    "'lepton stop %s' tries again", name);
		goto done;
	}
	if ((err = e) != NULL)
		goto done;
	if (s->out != NULL)
		lep_out_info(s->out, "gcp: %s deleted: %d Google calls, %lld "
		    "ms", name, v.calls, lep_now_ms() - t0);
stopped:
	if (err == NULL)
		*out = deployment(&v, "stopped", NULL, 0);
done:
	svc_release(&v);
	return err;
}

const struct lep_err *
gcp_endpoint(char **url_out, char **token_out, void *state, const char *name)
{
	struct gcp_state	*s = state;
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;

	*url_out = *token_out = NULL;
	if ((err = gcp_status(&d, s, name)) != NULL)
		return err;
	if (strcmp(d->state, "running") != 0 || d->endpoint[0] == '\0')
		err = lep_err_hint(lep_err_new(LEP_E_NOT_RUNNING, "'%s' is %s "
		    "on gcp%s%s", name, d->state, d->message ? ": " : "",
		    d->message ? d->message : ""), "'lepton deploy' starts it "
		    "again");
	else if ((err = gcp_creds(s)) == NULL) {
		/* A custom method: the spec's /predict is ":predict". */
		*url_out = xasprintf("%s:", d->endpoint);
		*token_out = xstrdup(s->creds.token);
	}
	lep_deployment_free(d);
	return err;
}

struct svc_alive {
	struct gcp_state	*s;
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
	a->alive = gcp_status(&d, a->s, a->name) == NULL &&
	    strcmp(d->state, "stopped") != 0;
	lep_deployment_free(d);
	return a->alive;
}

const struct lep_err *
gcp_svc_logs(void *state, const char *name, const struct lep_logs_req *req,
    struct lep_out *out)
{
	struct gcp_state	*s = state;
	const struct lep_err	*err;
	struct svc		 v;
	struct svc_alive	 a = { s, name, 0, 1 };
	const char		*ep;
	char			*filter;

	if ((err = svc_load(&v, s, name, 0)) != NULL)
		goto done;
	if ((ep = lep_json_get_str(v.st, "endpoint")) == NULL) {
		err = lep_err_new(LEP_E_NOT_RUNNING, "'%s' has no Vertex AI "
		    "endpoint: nothing logs", name);
		goto done;
	}
	ep = strrchr(ep, '/') + 1;
	filter = xasprintf("resource.type=\"aiplatform.googleapis.com/"
	    "Endpoint\" AND resource.labels.endpoint_id=\"%s\"", ep);
	err = gcp_print_logs(s, filter, req, out, svc_alive, &a);
	free(filter);
done:
	svc_release(&v);
	return err;
}
