/*
 * aws.c: the AWS provider: services are SageMaker endpoints
 * (aws-sagemaker.c), jobs SageMaker training jobs (aws-train.c), their
 * artifacts gzip'd tars in S3 (aws-s3.c). Credentials, endpoints and
 * signed calls are lib/aws's; this file holds the driver's state, the
 * JSON calls, the capabilities and `lepton check aws`.
 *
 * Config section "aws" of HOME/config.json: profile, region, role_arn
 * (SageMaker's execution role; else LEPTON_AWS_ROLE_ARN), bucket (the
 * artifact bucket; default lepton-ACCOUNT-REGION, made when missing).
 */
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws-priv.h"
#include "../lib/catalog.h"
#include "../lib/config.h"
#include "../lib/error.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/logview.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/types.h"
#include "../lib/util.h"

#define AWS_ROLE_ENV	"LEPTON_AWS_ROLE_ARN"

static char *
cfg_str(const struct lep_json *c, const char *key)
{
	const char	*v = lep_json_get_str(c, key);

	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

static const struct lep_err *
aws_open(void **state_out, const struct lep_config *cfg)
{
	struct aws_state	*s;
	struct lep_config_file	 cf;
	const struct lep_json	*c;
	const struct lep_err	*err;
	const char		*env;

	*state_out = NULL;
	if ((err = lep_config_load(&cf, cfg->home)) != NULL)
		return err;
	c = lep_config_get(&cf, provider_aws.name);
	s = xcalloc(1, sizeof(*s));
	s->home = xstrdup(cfg->home);
	s->out = cfg->out;
	s->profile = cfg_str(c, "profile");
	s->region = cfg_str(c, "region");
	s->bucket = cfg_str(c, "bucket");
	if ((s->role_arn = cfg_str(c, "role_arn")) != NULL)
		s->role_from = "config aws.role_arn";
	else if ((env = getenv(AWS_ROLE_ENV)) != NULL && *env != '\0') {
		s->role_arn = xstrdup(env);
		s->role_from = AWS_ROLE_ENV;
	}
	lep_config_release(&cf);
	*state_out = s;
	return NULL;
}

static void
aws_close(void *state)
{
	struct aws_state	*s = state;

	if (s == NULL)
		return;
	lep_aws_creds_release(&s->creds);
	free(s->home);
	free(s->profile);
	free(s->region);
	free(s->role_arn);
	free(s->bucket);
	free(s->account);
	free(s);
}

const struct lep_err *
aws_creds(struct aws_state *s)
{
	struct lep_aws_opts	 o;

	if (s->resolved)
		return s->creds_err;
	memset(&o, 0, sizeof(o));
	o.profile = s->profile;
	o.region = s->region;
	o.home = s->home;
	s->creds_err = lep_aws_creds_resolve(&s->creds, &o);
	s->resolved = 1;
	return s->creds_err;
}

/* The credentials' region (AWS_REGION, the profile's), when they resolve. */
static void
aws_home_region(char **out, void *state)
{
	struct aws_state	*s = state;

	*out = NULL;
	if (aws_creds(s) == NULL && s->creds.region != NULL)
		*out = xstrdup(s->creds.region);
}

const struct lep_err *
aws_region(char **out, struct aws_state *s, const struct lep_spec *sp,
    const char *planned)
{
	const struct lep_err	*err;

	*out = NULL;
	/* The offer lib/ creates on (LEP_CAP_OFFER): the plan's region. */
	if (planned != NULL) {
		*out = xstrdup(planned);
		return NULL;
	}
	if (sp != NULL && sp->placement.nregions > 0) {
		*out = xstrdup(sp->placement.regions[0]);
		return NULL;
	}
	if ((err = aws_creds(s)) != NULL)
		return err;
	if (s->creds.region != NULL)
		*out = xstrdup(s->creds.region);
	else if (planned != NULL)
		*out = xstrdup(planned);
	else
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "no AWS region: "
		    "none in placement.regions, the config or the "
		    "environment"), "set AWS_REGION, 'region' in ~/.aws/config "
		    "or placement.regions");
	return NULL;
}

const struct lep_err *
aws_role(const char **out, struct aws_state *s)
{
	*out = s->role_arn;
	if (s->role_arn != NULL)
		return NULL;
	return lep_err_hint(lep_err_new(LEP_E_USAGE, "no SageMaker execution "
	    "role: SageMaker runs models and jobs as an IAM role lepton must "
	    "name"), "set " AWS_ROLE_ENV "=arn:aws:iam::ACCOUNT:role/NAME, or "
	    "\"role_arn\" in the \"aws\" section of HOME/config.json");
}

/* The account (STS GetCallerIdentity), asked once. */
static const struct lep_err *
account(const char **out, struct aws_state *s)
{
	const struct lep_err	*err;
	char			*arn = NULL;

	*out = NULL;
	if (s->account == NULL) {
		if ((err = aws_creds(s)) != NULL ||
		    (err = lep_aws_whoami(&s->account, &arn, &s->creds)) !=
		    NULL)
			return err;
		free(arn);
	}
	*out = s->account;
	return NULL;
}

const struct lep_err *
aws_bucket(char **out, struct aws_state *s, const char *region)
{
	const struct lep_err	*err;
	const char		*acct;

	*out = NULL;
	if (s->bucket != NULL)
		*out = xstrdup(s->bucket);
	else if ((err = account(&acct, s)) != NULL)
		return err;
	else
		*out = xasprintf("lepton-%s-%s", acct, region);
	if ((err = aws_s3_ensure_bucket(s, region, *out)) != NULL) {
		free(*out);
		*out = NULL;
	}
	return err;
}

/*
 * A 2xx answer of a JSON protocol: a JSON object (or nothing), else
 * PROVIDER naming what came (a proxy's HTML page, a cut-off body), so
 * that a create answered so is not taken as made. *out: the object,
 * when out is not NULL.
 */
static const struct lep_err *
json_answer(struct lep_json **out, const struct lep_http_resp *r,
    const char *service, const char *op)
{
	const struct lep_err	*err;
	struct lep_json		*j = NULL;
	char			*ct, start[61];
	size_t			 i, n;

	if (r->body.len == 0)
		return NULL;
	if (lep_json_parse(&j, r->body.buf, r->body.len, op) == NULL &&
	    lep_json_type(j) == LEP_JSON_OBJECT) {
		if (out != NULL)
			*out = j;
		else
			lep_json_free(j);
		return NULL;
	}
	lep_json_free(j);
	n = r->body.len < sizeof(start) - 1 ? r->body.len : sizeof(start) - 1;
	for (i = 0; i < n; i++)
		start[i] = r->body.buf[i] >= 0x20 && r->body.buf[i] < 0x7f ?
		    r->body.buf[i] : ' ';
	start[n] = '\0';
	ct = lep_http_resp_header(r, "Content-Type");
	err = lep_err_new(LEP_E_PROVIDER, "%s: %s: HTTP %ld with an answer "
	    "that is not a JSON object (%zu bytes%s%s): '%s%s'", service, op,
	    r->status, r->body.len, ct != NULL ? ", " : "", ct != NULL ? ct :
	    "", start, r->body.len > n ? "..." : "");
	free(ct);
	return err;
}

/* One call of a JSON protocol (SageMaker, Logs). */
static const struct lep_err *
json_call(struct lep_json **out, char **code, struct aws_state *s,
    const char *service, const char *prefix, const char *region,
    const char *op, struct lep_json *body)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_aws_req	 req;
	char			*text, *target, *c = NULL;

	if (out != NULL)
		*out = NULL;
	if (code != NULL)
		*code = NULL;
	if ((err = aws_creds(s)) != NULL) {
		lep_json_free(body);
		return err;
	}
	/* No body: an empty object, freed below with the rest. */
	if (body == NULL)
		body = lep_json_obj();
	text = lep_json_print(body, 0);
	target = xasprintf("%s.%s", prefix, op);
	memset(&req, 0, sizeof(req));
	req.service = service;
	req.region = region;
	req.method = "POST";
	req.path = "/";
	req.target = target;
	req.content_type = "application/x-amz-json-1.1";
	req.body = text;
	req.body_len = strlen(text);
	/* Create* calls carry names that exist once: a repeat is refused,
	   not doubled. Describe and List read. */
	req.idempotent = 1;
	req.max_body = AWS_ANSWER_MAX;
	lep_http_resp_init(&resp);
	err = lep_aws_call(&resp, &c, &s->creds, &req);
	/*
	 * No capacity or quota for this instance type here: CAPACITY,
	 * so that lib/ tries the plan's next offer (another region,
	 * another provider), once the driver has undone the attempt.
	 */
	if (err != NULL && aws_code_capacity(c))
		err = lep_err_capacity(c, "%s: %s: %s", region, op, err->msg);
	if (code != NULL)
		*code = c;
	else
		free(c);
	if (err == NULL)
		err = json_answer(out, &resp, service, op);
	lep_http_resp_release(&resp);
	lep_json_free(body);
	free(target);
	free(text);
	return err;
}

const struct lep_err *
aws_sm(struct lep_json **out, char **code, struct aws_state *s,
    const char *region, const char *op, struct lep_json *body)
{
	return json_call(out, code, s, "sagemaker", "SageMaker", region, op,
	    body);
}

const struct lep_err *
aws_logs_call(struct lep_json **out, char **code, struct aws_state *s,
    const char *region, const char *op, struct lep_json *body)
{
	return json_call(out, code, s, "logs", "Logs_20140328", region, op,
	    body);
}

int
aws_code_missing(const char *code, const struct lep_err *err)
{
	if (lep_streq(code, "ResourceNotFound") ||
	    lep_streq(code, "ResourceNotFoundException") ||
	    lep_streq(code, "NoSuchKey") || lep_streq(code, "NoSuchBucket") ||
	    lep_streq(code, "NotFound"))
		return 1;
	/* SageMaker says "Could not find ..." as a ValidationException. */
	return lep_streq(code, "ValidationException") && err != NULL &&
	    (strstr(err->msg, "Could not find") != NULL ||
	    strstr(err->msg, "does not exist") != NULL ||
	    strstr(err->msg, "not found") != NULL);
}

int
aws_code_capacity(const char *code)
{
	return lep_streq(code, "ResourceLimitExceeded") ||
	    lep_streq(code, "InsufficientCapacity") ||
	    lep_streq(code, "InsufficientCapacityError") ||
	    lep_streq(code, "InsufficientInstanceCapacity") ||
	    lep_streq(code, "CapacityError");
}

char *
aws_instance(const char *inst)
{
	if (inst == NULL)
		return xstrdup("ml.m5.large");
	if (lep_starts_with(inst, "ml."))
		return xstrdup(inst);
	return xasprintf("ml.%s", inst);
}

char *
aws_file(const struct aws_state *s, const char *kind, const char *name)
{
	return xasprintf("%s/aws/%s/%s.json", s->home, kind, name);
}

/* --- logs -------------------------------------------------------------- */

struct logs_follow {
	int	(*alive)(void *);
	void	*arg;
};

/* One pass of FilterLogEvents from *since (ms), printed in time order. */
static const struct lep_err *
logs_pass(struct aws_state *s, const char *region, const char *group,
    const char *prefix, long long *since, struct lep_json *lines,
    struct lep_out *out)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*ans = NULL, *body;
	const struct lep_json	*ev, *e;
	char			*next = NULL, *code = NULL;
	const char		*msg, *tok;
	long long		 ts;
	size_t			 i;

	do {
		body = lep_json_obj();
		lep_json_set_str(body, "logGroupName", group);
		if (prefix != NULL && *prefix != '\0')
			lep_json_set_str(body, "logStreamNamePrefix", prefix);
		if (*since > 0)
			lep_json_set_int(body, "startTime", *since);
		if (next != NULL)
			lep_json_set_str(body, "nextToken", next);
		free(code);
		code = NULL;
		lep_json_free(ans);
		ans = NULL;
		if ((err = aws_logs_call(&ans, &code, s, region,
		    "FilterLogEvents", body)) != NULL) {
			if (aws_code_missing(code, err))
				err = NULL;	/* nothing written yet */
			break;
		}
		ev = lep_json_get(ans, "events");
		for (i = 0; i < lep_json_len(ev); i++) {
			e = lep_json_at(ev, i);
			if ((msg = lep_json_get_str(e, "message")) == NULL)
				continue;
			if (lep_json_get_ll(e, "timestamp", &ts) == 0 &&
			    ts + 1 > *since)
				*since = ts + 1;
			if (lines != NULL)
				lep_json_push(lines, lep_json_str(msg));
			else
				lep_out_printf(out, "%s%s", msg,
				    lep_ends_with(msg, "\n") ? "" : "\n");
		}
		free(next);
		next = (tok = lep_json_get_str(ans, "nextToken")) != NULL ?
		    xstrdup(tok) : NULL;
	} while (next != NULL);
	free(next);
	free(code);
	lep_json_free(ans);
	return err;
}

const struct lep_err *
aws_print_logs(struct aws_state *s, const char *region, const char *group,
    const char *prefix, const struct lep_logs_req *req, struct lep_out *out,
    int (*alive)(void *), void *arg)
{
	const struct lep_err	*err;
	struct lep_json		*lines = NULL, *res;
	struct timespec		 ts = { 1, 0 };
	long long		 since = 0;
	size_t			 n, drop;

	if (req->setup)
		return lep_err_new(LEP_E_USAGE, "SageMaker runs no setup step: "
		    "there is no setup log");
	/* --tail N keeps the first pass's lines to print the last N. */
	if (out->json || req->tail >= 0)
		lines = lep_json_arr();
	err = logs_pass(s, region, group, prefix, &since, lines, out);
	if (err == NULL && lines != NULL && req->tail >= 0) {
		n = lep_json_len(lines);
		if ((size_t)req->tail < n) {
			struct lep_json *keep = lep_json_arr();

			for (drop = n - (size_t)req->tail; drop < n; drop++)
				lep_json_push(keep, lep_json_dup(
				    lep_json_at(lines, drop)));
			lep_json_free(lines);
			lines = keep;
		}
	}
	if (err == NULL && lines != NULL && !out->json) {
		const char	*msg;

		for (drop = 0; drop < lep_json_len(lines); drop++) {
			if ((msg = lep_json_string(lep_json_at(lines,
			    drop))) == NULL)
				continue;
			lep_out_printf(out, "%s%s", msg,
			    lep_ends_with(msg, "\n") ? "" : "\n");
		}
		lep_json_free(lines);
		lines = NULL;
	}
	while (err == NULL && req->follow && lines == NULL && alive != NULL &&
	    alive(arg)) {
		nanosleep(&ts, NULL);
		err = logs_pass(s, region, group, prefix, &since, NULL, out);
	}
	if (err == NULL && lines != NULL) {
		res = lep_json_obj();
		lep_json_set_str(res, "group", group);
		lep_json_set(res, "lines", lines);
		lines = NULL;
		lep_out_result(out, res);
	}
	lep_json_free(lines);
	return err;
}

static const struct lep_err *
aws_logs(void *state, const char *name, const struct lep_logs_req *req,
    struct lep_out *out)
{
	struct aws_state	*s = state;
	char			*p = aws_file(s, "jobs", name);
	FILE			*fp = fopen(p, "r");

	free(p);
	if (fp != NULL) {
		fclose(fp);
		return aws_job_logs(s, name, req, out);
	}
	return aws_svc_logs(state, name, req, out);
}

/* --- offers ----------------------------------------------------------- */

/*
 * The EC2 families SageMaker hosts and trains on (botocore's
 * ProductionVariantInstanceType and TrainingInstanceType both list
 * them), as "ml." types. Newer CPU families (m6i, c7i...) are left out
 * for now: moto's SageMaker refuses them, and a plan must not pick what
 * the tests' server cannot take.
 */
static const char *const sm_families[] = {
	"c4", "c5", "m4", "m5", "r5", "r5d",
	"g4dn", "g5", "g6", "g6e", "p2", "p3", "p4d", "p4de", "p5", "p5e",
	"trn1", "trn2",
};

static int
sm_family(const char *instance)
{
	const char	*dot = strchr(instance, '.');
	size_t		 i, n;

	if (dot == NULL)
		return 0;
	n = (size_t)(dot - instance);
	for (i = 0; i < LEP_ARRAY_SIZE(sm_families); i++)
		if (strlen(sm_families[i]) == n &&
		    strncmp(sm_families[i], instance, n) == 0)
			return 1;
	return 0;
}

/* The AWS catalog's offers that SageMaker runs, named as it names them. */
static const struct lep_err *
aws_offers(struct lep_catalog **out, void *state)
{
	struct aws_state	*s = state;
	const struct lep_err	*err;
	struct lep_catalog	*all = NULL;
	struct lep_offer	 o;
	char			*path, *name;
	size_t			 i;

	*out = NULL;
	if ((path = lep_catalog_path(s->home, provider_aws.name)) == NULL)
		return lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no price "
		    "catalog for 'aws'"), "'lepton catalog update' fetches it");
	err = lep_catalog_load(&all, provider_aws.name, path, 0);
	free(path);
	if (err != NULL)
		return err;
	*out = lep_catalog_new(provider_aws.name);
	for (i = 0; i < all->n; i++) {
		if (!sm_family(all->offers[i].instance))
			continue;
		o = all->offers[i];
		name = xasprintf("ml.%s", o.instance);
		o.instance = name;
		lep_catalog_add(*out, &o);
		free(name);
	}
	lep_catalog_free(all);
	return NULL;
}

/* --- check and probe --------------------------------------------------- */

static const struct lep_err *
aws_check(void *state, const struct lep_spec *sp)
{
	(void)state;
	if (sp->image.build != NULL)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "provider 'aws' cannot honour 'image: {build: %s}': "
		    "SageMaker pulls a built image from a registry", sp->file,
		    sp->image.build), "build and push it (ECR), then give "
		    "'image: REFERENCE'");
	if (sp->image.ref == NULL)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "provider 'aws' needs 'image': SageMaker runs a container "
		    "image from a registry, and the spec names none",
		    sp->file), "add 'image: "
		    "ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG'");
	/* A model's or job's Environment is anyone's to read who may
	   describe it: no place for a secret. */
	if (sp->nsecrets > 0)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "provider 'aws' cannot honour 'secrets: [%s%s]': "
		    "SageMaker shows a container's environment to whoever "
		    "may describe it", sp->file, sp->secrets[0],
		    sp->nsecrets > 1 ? ", ..." : ""), "leave out 'secrets' "
		    "(read them from AWS Secrets Manager in the container)");
	if (sp->kind == LEP_SPEC_SERVICE && (!lep_streq(sp->service.path,
	    "/invocations") || (sp->service.protocol != NULL &&
	    !lep_streq(sp->service.protocol, "json"))))
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "provider 'aws' cannot honour 'service.path: %s'%s: "
		    "SageMaker endpoints answer POST /invocations in their "
		    "container's own format", sp->file, sp->service.path ?
		    sp->service.path : "/", sp->service.protocol != NULL &&
		    !lep_streq(sp->service.protocol, "json") ?
		    " with that protocol" : ""), "set 'service: "
		    "{path: /invocations}' (protocol json)");
	return NULL;
}

static const struct lep_err *
aws_probe(struct lep_json **report, void *state)
{
	struct aws_state	*s = state;
	const struct lep_err	*err;
	const char		*from = NULL, *acct;
	char			*url, *src;

	*report = lep_json_obj();
	err = aws_creds(s);
	if (err != NULL) {
		/* No key anywhere: not set up, rather than broken. */
		lep_json_set_bool(*report, "configured", s->profile != NULL ||
		    strcasestr(err->msg, "unable to locate") == NULL);
		return err;
	}
	src = xasprintf("%s%s%s%s%s", s->creds.method, s->creds.profile ?
	    ", profile " : "", s->creds.profile ? s->creds.profile : "",
	    s->creds.detail ? ", " : "", s->creds.detail ? s->creds.detail :
	    "");
	lep_json_set_str(*report, "credentials", src);
	free(src);
	lep_json_set_str(*report, "region", s->creds.region);
	url = lep_aws_endpoint("sagemaker", s->creds.region ?
	    s->creds.region : "us-east-1", &from);
	lep_json_set_str(*report, "url", url);
	lep_json_set_str(*report, "url_from", from);
	free(url);
	if (s->role_arn != NULL) {
		lep_json_set_str(*report, "role_arn", s->role_arn);
		lep_json_set_str(*report, "role_from", s->role_from);
	}
	if ((err = account(&acct, s)) != NULL)
		return err;
	lep_json_set_str(*report, "account", acct);
	return NULL;
}

const struct lep_provider_ops provider_aws = {
	.name = "aws",
	.abi = LEP_PROVIDER_ABI,
	/*
	 * No SETUP (the image is the set-up), no image builds, no SPOT
	 * (managed spot training is not driven), no AUTOSCALE or ABORT_IF
	 * (SageMaker's own scaling policies are not driven), no RESUBMIT.
	 */
	.caps = LEP_CAP_SERVICE | LEP_CAP_JOB | LEP_CAP_GPU | LEP_CAP_CANARY |
	    LEP_CAP_MULTINODE | LEP_CAP_REPLICAS | LEP_CAP_IMAGE |
	    LEP_CAP_REGIONS | LEP_CAP_OFFER,
	.poll_ms = AWS_POLL_MS,
	.open = aws_open,
	.close = aws_close,
	.check = aws_check,
	.deploy = aws_deploy,
	.status = aws_status,
	.logs = aws_logs,
	.remove = aws_remove,
	.update = aws_update,
	.submit = aws_submit,
	.job_status = aws_job_status,
	.cancel = aws_cancel,
	.offers = aws_offers,
	.probe = aws_probe,
	.endpoint = aws_endpoint,
	.sign = aws_sign,
	.home_region = aws_home_region,
};
