/*
 * gcp.c: the Google Cloud provider: Vertex AI endpoints (gcp-vertex.c)
 * and custom jobs (gcp-train.c), artifacts in Cloud Storage and logs
 * from Cloud Logging (gcp-gcs.c). This file holds the driver's state,
 * the one call every Google API goes through, long-running operations,
 * and check and probe. Credentials and tokens are lib/gcp's.
 *
 * Config section "gcp" of HOME/config.json: project, region, bucket,
 * ca_file (a CA bundle for https test servers), aiplatform_endpoint,
 * storage_endpoint, logging_endpoint (base URLs).
 */
#include "provider.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcp-priv.h"
#include "../lib/catalog.h"
#include "../lib/config.h"
#include "../lib/error.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/types.h"
#include "../lib/util.h"

/* Tries of a POST that Google refused without acting on it (429, 503). */
#define GCP_POST_TRIES	4

static const char *const api_name[] = { "Vertex AI", "Cloud Storage",
    "Cloud Logging" };
static const char *const api_cfg[] = { "aiplatform_endpoint",
    "storage_endpoint", "logging_endpoint" };

static volatile sig_atomic_t	 interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static char *
cfg_str(const struct lep_json *c, const char *key)
{
	const char	*v = lep_json_get_str(c, key);

	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

static const struct lep_err *
gcp_open(void **state_out, const struct lep_config *cfg)
{
	struct gcp_state	*s;
	struct lep_config_file	 cf;
	const struct lep_json	*c;
	const struct lep_err	*err;
	size_t			 i;

	*state_out = NULL;
	if ((err = lep_config_load(&cf, cfg->home)) != NULL)
		return err;
	c = lep_config_get(&cf, provider_gcp.name);
	s = xcalloc(1, sizeof(*s));
	s->home = xstrdup(cfg->home);
	s->out = cfg->out;
	s->project = cfg_str(c, "project");
	s->region = cfg_str(c, "region");
	s->ca_file = cfg_str(c, "ca_file");
	s->bucket = cfg_str(c, "bucket");
	for (i = 0; i < LEP_ARRAY_SIZE(api_cfg); i++)
		s->endpoint[i] = cfg_str(c, api_cfg[i]);
	lep_config_release(&cf);
	*state_out = s;
	return NULL;
}

static void
gcp_close(void *state)
{
	struct gcp_state	*s = state;
	size_t			 i;

	if (s == NULL)
		return;
	lep_gcp_creds_release(&s->creds);
	free(s->home);
	free(s->project);
	free(s->region);
	free(s->ca_file);
	free(s->bucket);
	for (i = 0; i < LEP_ARRAY_SIZE(s->endpoint); i++)
		free(s->endpoint[i]);
	free(s);
}

static void
opts_of(struct lep_gcp_opts *o, const struct gcp_state *s)
{
	memset(o, 0, sizeof(*o));
	o->home = s->home;
	o->project = s->project;
	o->region = s->region;
	o->ca_file = s->ca_file;
}

const struct lep_err *
gcp_creds(struct gcp_state *s)
{
	struct lep_gcp_opts	 o;

	if (s->resolved)
		return s->creds_err;
	opts_of(&o, s);
	s->creds_err = lep_gcp_creds_resolve(&s->creds, &o);
	s->resolved = 1;
	return s->creds_err;
}

const struct lep_err *
gcp_project(const char **out, struct gcp_state *s)
{
	const struct lep_err	*err;

	*out = NULL;
	if ((err = gcp_creds(s)) != NULL)
		return err;
	if (s->creds.project == NULL)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "no Google Cloud "
		    "project: none in the credentials, the environment or "
		    "the config"), "set GOOGLE_CLOUD_PROJECT, or \"project\" "
		    "in the \"gcp\" section of HOME/config.json");
	*out = s->creds.project;
	return NULL;
}

char *
gcp_region(struct gcp_state *s, const struct lep_spec *sp,
    const char *planned)
{
	if (planned != NULL)
		return xstrdup(planned);
	if (sp != NULL && sp->placement.nregions > 0)
		return xstrdup(sp->placement.regions[0]);
	if (s->region != NULL)
		return xstrdup(s->region);
	return xstrdup("us-central1");
}

/* The region config names, tried first when a spec names none. */
static void
gcp_home_region(char **out, void *state)
{
	struct gcp_state	*s = state;

	*out = s->region != NULL ? xstrdup(s->region) : NULL;
}

char *
gcp_url(struct gcp_state *s, enum gcp_api api, const char *region,
    const char **from)
{
	static const char *const env[] = {
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM",
		"STORAGE_EMULATOR_HOST",
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING",
	};
	const char	*v, *f;
	char		*url;

	if ((v = getenv(env[api])) != NULL && *v != '\0')
		f = env[api];
	else if ((v = s->endpoint[api]) != NULL)
		f = api_cfg[api];
	else
		f = "default";
	if (from != NULL)
		*from = f;
	if (v == NULL) {
		if (api == GCP_VERTEX)
			return xasprintf("https://%s-aiplatform.googleapis.com/",
			    region != NULL ? region : "us-central1");
		return xstrdup(api == GCP_STORAGE ?
		    "https://storage.googleapis.com/" :
		    "https://logging.googleapis.com/");
	}
	/* STORAGE_EMULATOR_HOST may be host:port alone (the libraries
	   take it so). */
	if (strstr(v, "://") == NULL)
		url = xasprintf("http://%s", v);
	else
		url = xstrdup(v);
	if (!lep_ends_with(url, "/")) {
		char *t = xasprintf("%s/", url);

		free(url);
		url = t;
	}
	return url;
}

char *
gcp_parent(const char *project, const char *region)
{
	return xasprintf("projects/%s/locations/%s", project, region);
}

char *
gcp_file(const struct gcp_state *s, const char *kind, const char *name)
{
	return xasprintf("%s/gcp/%s/%s.json", s->home, kind, name);
}

/* --- one call ---------------------------------------------------------- */

/* google.rpc.Code numbers, as an operation's error carries them. */
static const char *
code_status(long long code)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
		"PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
		"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	};

	if (code < 0 || code >= (long long)LEP_ARRAY_SIZE(names))
		return "UNKNOWN";
	return names[code];
}

/* Is this Google saying there is no machine or quota for the request? */
static int
capacity_said(const char *status, const char *msg)
{
	if (lep_streq(status, "RESOURCE_EXHAUSTED"))
		return 1;
	return msg != NULL && (strcasestr(msg, "stockout") != NULL ||
	    strcasestr(msg, "not have enough resources") != NULL ||
	    strcasestr(msg, "quota") != NULL);
}

/*
 * The error an answer of status (Google's word, may be NULL) with msg
 * stands for; what names the call.
 */
static const struct lep_err *
google_err(struct gcp_state *s, long http, const char *status,
    const char *msg, const char *what)
{
	const struct lep_err	*err;
	enum lep_code		 code;

	if (msg == NULL)
		msg = "";
	/*
	 * An HTTP 429 is RESOURCE_EXHAUSTED too, but as a rate limit (too
	 * many requests), past its retries: transient, not "no machine or
	 * quota here" (which would move a deploy to another region, and
	 * make a status or a stop exit 16). Vertex's own quota refusals
	 * say "quota".
	 */
	if (http == 429 && !capacity_said(NULL, msg))
		status = NULL;
	if (capacity_said(status, msg))
		return lep_err_capacity(status != NULL ? status :
		    "RESOURCE_EXHAUSTED", "%s: %s", what, msg);
	if (http == 404 || lep_streq(status, "NOT_FOUND"))
		code = LEP_E_NOT_FOUND;
	else if (http == 401 || http == 403 ||
	    lep_streq(status, "UNAUTHENTICATED") ||
	    lep_streq(status, "PERMISSION_DENIED"))
		code = LEP_E_AUTH;
	else if (http == 409 || lep_streq(status, "ALREADY_EXISTS") ||
	    lep_streq(status, "FAILED_PRECONDITION") ||
	    lep_streq(status, "ABORTED"))
		code = LEP_E_CONFLICT;
	else if (lep_streq(status, "DEADLINE_EXCEEDED"))
		code = LEP_E_TIMEOUT;
	else if (lep_streq(status, "INVALID_ARGUMENT") ||
	    lep_streq(status, "OUT_OF_RANGE"))
		code = LEP_E_FAILED;
	else
		code = LEP_E_PROVIDER;
	if (http > 0)
		err = lep_err_new(code, "%s: HTTP %ld %s: %s", what, http,
		    status != NULL ? status : "", msg);
	else
		err = lep_err_new(code, "%s: %s: %s", what, status != NULL ?
		    status : "error", msg);
	if (code == LEP_E_AUTH && s->creds.source != NULL)
		err = lep_err_hint(err, "the token came from %s%s%s "
		    "(principal %s); 'lepton check gcp' says more",
		    s->creds.source, s->creds.file ? " " : "",
		    s->creds.file ? s->creds.file : "", s->creds.principal ?
		    s->creds.principal : "?");
	return err;
}

/* What a non-2xx answer says: Google's {"error": {...}} when it is one. */
static const struct lep_err *
answer_err(char **status_out, struct gcp_state *s,
    const struct lep_http_resp *r, const char *what)
{
	const struct lep_err	*err;
	struct lep_json		*j = NULL, *e;
	const char		*st = NULL, *msg = NULL;
	char			 start[201];
	size_t			 i, n;

	if (lep_json_parse(&j, r->body.buf, r->body.len, what) == NULL &&
	    (e = lep_json_get(j, "error")) != NULL) {
		if (lep_json_type(e) == LEP_JSON_OBJECT) {
			st = lep_json_get_str(e, "status");
			msg = lep_json_get_str(e, "message");
		} else {
			/* OAuth's form: {"error": "invalid_grant", ...} */
			st = lep_json_string(e);
			msg = lep_json_get_str(j, "error_description");
		}
	}
	if (msg == NULL) {
		n = r->body.len < sizeof(start) - 1 ? r->body.len :
		    sizeof(start) - 1;
		for (i = 0; i < n; i++)
			start[i] = r->body.buf[i] >= 0x20 &&
			    r->body.buf[i] < 0x7f ? r->body.buf[i] : ' ';
		start[n] = '\0';
		msg = start;
	}
	if (status_out != NULL && st != NULL)
		*status_out = xstrdup(st);
	err = google_err(s, r->status, st, msg, what);
	lep_json_free(j);
	return err;
}

const struct lep_err *
gcp_send(struct lep_http_resp *resp, char **status, struct gcp_state *s,
    enum gcp_api api, const char *region, const char *method,
    const char *path, const void *body, size_t len, const char *ctype,
    const char *const *headers, size_t nheaders)
{
	const struct lep_err	*err;
	struct lep_http_req	 req;
	char			*base, *url, *what;
	long long		 wait;
	int			 tries, post;
	size_t			 max = s->answer_max > 0 ? s->answer_max :
				    GCP_ANSWER_MAX;

	s->answer_max = 0;
	if (status != NULL)
		*status = NULL;
	lep_http_resp_init(resp);
	what = xasprintf("%s: %s %s", api_name[api], method, path);
	base = gcp_url(s, api, region, NULL);
	/* A resumable upload's session is a whole URL of Google's. */
	url = strstr(path, "://") != NULL ? xstrdup(path) :
	    xasprintf("%s%s", base, path);
	if ((err = gcp_creds(s)) != NULL ||
	    (err = lep_gcp_url_ok(url, api_name[api])) != NULL)
		goto done;
	post = strcmp(method, "POST") == 0;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = len;
	req.content_type = ctype;
	req.headers = headers;
	req.nheaders = nheaders;
	req.bearer = s->creds.token;
	req.max_body = max;
	req.retries = 4;
	req.cacert = s->ca_file;
	req.cancel = &interrupted;
	for (tries = 1;; tries++) {
		if ((err = lep_http_do(resp, &req)) != NULL) {
			err = lep_err_provider(err, "gcp");
			break;
		}
		/*
		 * 429 and 503 are Google saying it did not act on the
		 * request: a POST may go again, after Retry-After.
		 */
		if (post && (resp->status == 429 || resp->status == 503) &&
		    tries < GCP_POST_TRIES && (wait =
		    lep_http_backoff_ms(tries, resp->retry_after_ms)) >= 0) {
			lep_http_resp_release(resp);
			lep_http_resp_init(resp);
			lep_sleep_ms(wait);
			continue;
		}
		break;
	}
	if (err == NULL && (resp->status < 200 || resp->status > 299) &&
	    resp->status != 308)
		err = answer_err(status, s, resp, what);
done:
	free(url);
	free(base);
	free(what);
	return err;
}

const struct lep_err *
gcp_call(struct lep_json **out, char **status, struct gcp_state *s,
    enum gcp_api api, const char *region, const char *method,
    const char *path, struct lep_json *body)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_json		*j = NULL;
	char			*text = NULL;

	if (out != NULL)
		*out = NULL;
	if (body == NULL && strcmp(method, "POST") == 0)
		body = lep_json_obj();
	if (body != NULL)
		text = lep_json_print(body, 0);
	err = gcp_send(&resp, status, s, api, region, method, path, text,
	    text != NULL ? strlen(text) : 0, text != NULL ?
	    "application/json" : NULL, NULL, 0);
	if (err != NULL)
		;
	else if (resp.body.len > 0 && (lep_json_parse(&j, resp.body.buf,
	    resp.body.len, path) != NULL || lep_json_type(j) !=
	    LEP_JSON_OBJECT)) {
		err = lep_err_new(LEP_E_PROVIDER, "%s: %s %s: HTTP %ld with an "
		    "answer that is not a JSON object (%zu bytes)",
		    api_name[api], method, path, resp.status, resp.body.len);
	} else if (out != NULL) {
		*out = j != NULL ? j : lep_json_obj();
		j = NULL;
	}
	lep_json_free(j);
	lep_http_resp_release(&resp);
	lep_json_free(body);
	free(text);
	return err;
}

int
gcp_missing(const char *status, const struct lep_err *err)
{
	return lep_streq(status, "NOT_FOUND") || (err != NULL &&
	    err->code == LEP_E_NOT_FOUND);
}

const struct lep_err *
gcp_wait(struct lep_json **resp, struct gcp_state *s, const char *region,
    const struct lep_json *op, const char *what)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*cur = lep_json_dup(op), *e;
	struct sigaction	 sa, old;
	long long		 t0 = lep_now_ms(), until, code;
	const char		*name, *msg;
	char			*path, *w;

	if (resp != NULL)
		*resp = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old);
	until = t0 + (long long)GCP_OP_WAIT_S * 1000;
	for (;;) {
		if (lep_json_get_bool(cur, "done", 0))
			break;
		if ((name = lep_json_get_str(cur, "name")) == NULL) {
			err = lep_err_new(LEP_E_PROVIDER, "%s: Vertex AI "
			    "answered an operation without a name", what);
			break;
		}
		if (lep_now_ms() >= until) {
			err = lep_err_new(LEP_E_TIMEOUT, "%s: operation %s not "
			    "done within %ds", what, name, GCP_OP_WAIT_S);
			break;
		}
		if (interrupted) {
			err = lep_err_hint(lep_err_new(LEP_E_INTERRUPTED,
			    "interrupted; %s goes on (operation %s)", what,
			    name), "'lepton status' says where it stands");
			break;
		}
		if (s->out != NULL)
			lep_out_progress(s->out, "%s, %llds", what,
			    (lep_now_ms() - t0) / 1000);
		lep_sleep_ms(GCP_POLL_MS);
		path = xasprintf("v1/%s", name);
		e = NULL;
		err = gcp_call(&e, NULL, s, GCP_VERTEX, region, "GET", path,
		    NULL);
		free(path);
		/* Ctrl-C in the GET: the same words as between two. */
		if (err != NULL && err->code == LEP_E_INTERRUPTED)
			err = lep_err_hint(lep_err_new(LEP_E_INTERRUPTED,
			    "interrupted; %s goes on (operation %s)", what,
			    name), "'lepton status' says where it stands");
		if (err != NULL)
			break;
		lep_json_free(cur);
		cur = e;
	}
	sigaction(SIGINT, &old, NULL);
	if (s->out != NULL)
		lep_out_progress_done(s->out);
	if (err == NULL && (e = lep_json_get(cur, "error")) != NULL) {
		code = 2;
		(void)lep_json_get_ll(e, "code", &code);
		msg = lep_json_get_str(e, "message");
		w = xasprintf("%s: operation %s", what,
		    lep_json_get_str(cur, "name") ? lep_json_get_str(cur,
		    "name") : "?");
		err = google_err(s, 0, code_status(code), msg, w);
		free(w);
	}
	if (err == NULL && resp != NULL) {
		e = lep_json_get(cur, "response");
		*resp = e != NULL ? lep_json_dup(e) : lep_json_obj();
	}
	lep_json_free(cur);
	return err;
}

char *
gcp_machine(const char *inst)
{
	return xstrdup(inst != NULL ? inst : "n1-standard-4");
}

const char *
gcp_accelerator(const char *name)
{
	/* The catalog's (and a spec's) names, and Vertex's enum for them. */
	static const struct {
		const char	*name;
		const char	*vertex;
	} t[] = {
		{ "t4", "NVIDIA_TESLA_T4" },
		{ "v100", "NVIDIA_TESLA_V100" },
		{ "p100", "NVIDIA_TESLA_P100" },
		{ "p4", "NVIDIA_TESLA_P4" },
		{ "k80", "NVIDIA_TESLA_K80" },
		{ "a100", "NVIDIA_TESLA_A100" },
		{ "a100-80gb", "NVIDIA_A100_80GB" },
		{ "l4", "NVIDIA_L4" },
		{ "h100", "NVIDIA_H100_80GB" },
		{ "h100-mega", "NVIDIA_H100_MEGA_80GB" },
		{ "h200", "NVIDIA_H200_141GB" },
		{ "b200", "NVIDIA_B200" },
	};
	const char	*n = name;
	size_t		 i;

	if (n == NULL)
		return NULL;
	if (strncasecmp(n, "nvidia-tesla-", 13) == 0)
		n += 13;
	else if (strncasecmp(n, "nvidia-", 7) == 0)
		n += 7;
	for (i = 0; i < LEP_ARRAY_SIZE(t); i++)
		if (strcasecmp(n, t[i].name) == 0)
			return t[i].vertex;
	return NULL;
}

const struct lep_err *
gcp_bucket(char **out, struct gcp_state *s, const char *region)
{
	const struct lep_err	*err;
	const char		*project;

	*out = NULL;
	if (s->bucket != NULL)
		*out = xstrdup(s->bucket);
	else if ((err = gcp_project(&project, s)) != NULL)
		return err;
	else
		*out = xasprintf("lepton-%s", project);
	if ((err = gcp_gcs_ensure_bucket(s, *out, region)) != NULL) {
		free(*out);
		*out = NULL;
	}
	return err;
}

/* --- offers ----------------------------------------------------------- */

/*
 * The machine families Vertex AI both serves and trains on (its
 * "Configure compute resources" lists): a plan must not pick one
 * (t2d, c3d, m3...) that deployModel or customJobs.create refuses.
 */
static const char *const vx_families[] = {
	"e2", "n1", "n2", "n2d", "c2", "a2", "a3", "g2",
};

static int
vx_family(const char *instance)
{
	size_t	 i, n = strcspn(instance, "-");

	for (i = 0; i < LEP_ARRAY_SIZE(vx_families); i++)
		if (strlen(vx_families[i]) == n &&
		    strncmp(vx_families[i], instance, n) == 0 &&
		    instance[n] == '-')
			return 1;
	return 0;
}

/* The GCP catalog's offers that Vertex AI runs. */
static const struct lep_err *
gcp_offers(struct lep_catalog **out, void *state)
{
	struct gcp_state	*s = state;
	const struct lep_err	*err;
	struct lep_catalog	*all = NULL;
	char			*path;
	size_t			 i;

	*out = NULL;
	if ((path = lep_catalog_path(s->home, provider_gcp.name)) == NULL)
		return lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no price "
		    "catalog for 'gcp'"), "'lepton catalog update' fetches it");
	err = lep_catalog_load(&all, provider_gcp.name, path,
	    LEP_CATALOG_PAIR_HOSTS);
	free(path);
	if (err != NULL)
		return err;
	*out = lep_catalog_new(provider_gcp.name);
	for (i = 0; i < all->n; i++)
		if (vx_family(all->offers[i].instance))
			lep_catalog_add(*out, &all->offers[i]);
	lep_catalog_free(all);
	return NULL;
}

/* --- the hooks of this file ------------------------------------------- */

static const struct lep_err *
gcp_logs(void *state, const char *name, const struct lep_logs_req *req,
    struct lep_out *out)
{
	struct gcp_state	*s = state;
	char			*p = gcp_file(s, "jobs", name);
	FILE			*fp = fopen(p, "r");

	free(p);
	if (fp != NULL) {
		fclose(fp);
		return gcp_job_logs(s, name, req, out);
	}
	return gcp_svc_logs(state, name, req, out);
}

static const struct lep_err *
gcp_check(void *state, const struct lep_spec *sp)
{
	size_t	 i;

	(void)state;
	if (sp->image.build != NULL)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "provider 'gcp' cannot honour 'image: {build: %s}': "
		    "Vertex AI pulls a built image from a registry", sp->file,
		    sp->image.build), "build and push it (Artifact Registry), "
		    "then give 'image: REFERENCE'");
	if (sp->image.ref == NULL)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "provider 'gcp' needs 'image': Vertex AI runs a container "
		    "image from a registry, and the spec names none",
		    sp->file), "add 'image: "
		    "REGION-docker.pkg.dev/PROJECT/REPO/NAME:TAG'");
	/* A model's or job's env is anyone's to read who may get it. */
	if (sp->nsecrets > 0)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "provider 'gcp' cannot honour 'secrets: [%s%s]': Vertex "
		    "AI shows a container's environment to whoever may read "
		    "the model or job", sp->file, sp->secrets[0],
		    sp->nsecrets > 1 ? ", ..." : ""), "leave out 'secrets' "
		    "(read them from Secret Manager in the container)");
	for (i = 0; i < sp->resources.naccels; i++)
		if (gcp_accelerator(sp->resources.accels[i].name) == NULL)
			return lep_err_new(LEP_E_UNSUPPORTED, "%s: provider "
			    "'gcp' cannot honour 'resources.accelerators: "
			    "%s': Vertex AI has no such accelerator type",
			    sp->file, sp->resources.accels[i].name);
	if (sp->kind == LEP_SPEC_SERVICE && sp->service.path != NULL &&
	    ((!lep_streq(sp->service.path, "/predict") &&
	    !lep_streq(sp->service.path, "/rawPredict")) ||
	    (sp->service.protocol != NULL &&
	    !lep_streq(sp->service.protocol, "json"))))
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "provider 'gcp' cannot honour 'service.path: %s'%s: a "
		    "Vertex AI endpoint answers :predict and :rawPredict",
		    sp->file, sp->service.path ? sp->service.path : "/",
		    sp->service.protocol != NULL &&
		    !lep_streq(sp->service.protocol, "json") ?
		    " with that protocol" : ""), "set 'service: {path: "
		    "/predict}' (Vertex's JSON instances) or '/rawPredict' "
		    "(the container's own format)");
	return NULL;
}

static const struct lep_err *
gcp_probe(struct lep_json **report, void *state)
{
	struct gcp_state	*s = state;
	struct lep_gcp_opts	 o;
	const struct lep_err	*err;
	const char		*from;
	char			*url;

	opts_of(&o, s);
	err = lep_gcp_probe(report, &o);
	url = gcp_url(s, GCP_VERTEX, s->region, &from);
	lep_json_set_str(*report, "url", url);
	lep_json_set_str(*report, "url_from", from);
	free(url);
	return err;
}

const struct lep_provider_ops provider_gcp = {
	.name = "gcp",
	.abi = LEP_PROVIDER_ABI,
	/*
	 * No SETUP (the image is the set-up), no image builds, no SPOT
	 * (Spot VMs are not driven), no AUTOSCALE or ABORT_IF (Vertex's
	 * own autoscaling is not driven), no RESUBMIT.
	 */
	.caps = LEP_CAP_SERVICE | LEP_CAP_JOB | LEP_CAP_GPU | LEP_CAP_CANARY |
	    LEP_CAP_MULTINODE | LEP_CAP_REPLICAS | LEP_CAP_IMAGE |
	    LEP_CAP_REGIONS | LEP_CAP_OFFER,
	.poll_ms = GCP_POLL_MS,
	.open = gcp_open,
	.close = gcp_close,
	.check = gcp_check,
	.deploy = gcp_deploy,
	.status = gcp_status,
	.logs = gcp_logs,
	.remove = gcp_remove,
	.update = gcp_update,
	.submit = gcp_submit,
	.job_status = gcp_job_status,
	.cancel = gcp_cancel,
	.offers = gcp_offers,
	.probe = gcp_probe,
	.endpoint = gcp_endpoint,
	.home_region = gcp_home_region,
};
