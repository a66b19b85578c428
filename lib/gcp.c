/*
 * gcp.c: Google credentials in google-auth's order and the access token
 * they give, cached 0600 in LEPTON_HOME/cache/gcp behind a flock.
 */
#include "gcp.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "creds.h"
#include "crypto.h"
#include "error.h"
#include "fs.h"
#include "http.h"
#include "json.h"
#include "util.h"

#define GCP_METADATA_HOST	"169.254.169.254"
#define GCP_METADATA_PATH	"/computeMetadata/v1/"
#define GCP_JWT_LIFE_S		3600
#define GCP_TOKEN_MAX		(256 * 1024)

/* application/x-www-form-urlencoded value. */
static void
form_add(struct lep_buf *b, const char *name, const char *v)
{
	if (b->len > 0)
		lep_buf_add(b, "&");
	lep_buf_add(b, name);
	lep_buf_add(b, "=");
	for (; *v != '\0'; v++) {
		if ((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
		    (*v >= '0' && *v <= '9') || strchr("-_.~", *v) != NULL)
			lep_buf_addn(b, v, 1);
		else
			lep_buf_addf(b, "%%%02X", (unsigned char)*v);
	}
}

const struct lep_err *
lep_gcp_jwt(char **out, const char *email, const char *kid, const char *pem,
    const char *scope, long long now)
{
	const struct lep_err	*err;
	struct lep_json		*h, *c;
	struct lep_buf		 in = LEP_BUF_INIT;
	unsigned char		*sig = NULL;
	size_t			 siglen;
	char			*hs, *cs, *h64, *c64, *s64;

	*out = NULL;
	/* Key order as google-auth's: the signature covers these bytes. */
	h = lep_json_obj();
	lep_json_set_str(h, "alg", "RS256");
	lep_json_set_str(h, "typ", "JWT");
	if (kid != NULL)
		lep_json_set_str(h, "kid", kid);
	c = lep_json_obj();
	lep_json_set_str(c, "iss", email);
	lep_json_set_str(c, "scope", scope);
	lep_json_set_str(c, "aud", LEP_GCP_TOKEN_URI);
	lep_json_set_int(c, "iat", now);
	lep_json_set_int(c, "exp", now + GCP_JWT_LIFE_S);
	hs = lep_json_print(h, 0);
	cs = lep_json_print(c, 0);
	h64 = lep_base64(hs, strlen(hs), LEP_B64_URL);
	c64 = lep_base64(cs, strlen(cs), LEP_B64_URL);
	lep_buf_addf(&in, "%s.%s", h64, c64);
	if ((err = lep_rs256_sign(&sig, &siglen, pem, strlen(pem), in.buf,
	    in.len)) == NULL) {
		s64 = lep_base64(sig, siglen, LEP_B64_URL);
		*out = xasprintf("%s.%s", in.buf, s64);
		free(s64);
	}
	free(sig);
	free(hs);
	free(cs);
	free(h64);
	free(c64);
	lep_buf_release(&in);
	lep_json_free(h);
	lep_json_free(c);
	return err;
}

/* --- where the credentials are ---------------------------------------- */

struct gcp_file {
	struct lep_json	*j;		/* the file, parsed; wiped on free */
	const char	*type;		/* static */
};

static int
is_loopback(const char *url)
{
	const char	*h = url + strlen("http://");
	struct in_addr	 a;
	char		 host[64];
	size_t		 n;

	if (*h == '[')
		return strncmp(h, "[::1]", 5) == 0 && (h[5] == ':' ||
		    h[5] == '/' || h[5] == '\0');
	if ((n = strcspn(h, ":/?#")) >= sizeof(host))
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	if (strcmp(host, "localhost") == 0)
		return 1;
	return inet_pton(AF_INET, host, &a) == 1 &&
	    (ntohl(a.s_addr) >> 24) == 127;
}

const struct lep_err *
lep_gcp_url_ok(const char *url, const char *what)
{
	if (strncmp(url, "https://", 8) == 0 ||
	    (strncmp(url, "http://", 7) == 0 && is_loopback(url)))
		return NULL;
	return lep_err_hint(lep_err_new(LEP_E_AUTH, "%s '%s': only https, "
	    "or http on a loopback address", what, url), "use an https URL");
}

static const struct lep_err *
read_file(struct gcp_file *f, const char *path)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	const char		*t;

	f->j = NULL;
	f->type = NULL;
	err = lep_creds_read_file(&b, path, LEP_CREDS_FILE_MAX);
	if (err == NULL)
		err = lep_json_parse(&f->j, b.buf, b.len, path);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	if (err != NULL)
		return lep_err_new(LEP_E_AUTH, "%s", err->msg);
	t = lep_json_get_str(f->j, "type");
	if (lep_streq(t, "service_account")) {
		f->type = "service_account";
		if (lep_json_get_str(f->j, "client_email") == NULL ||
		    lep_json_get_str(f->j, "private_key") == NULL)
			return lep_err_new(LEP_E_AUTH, "'%s': a service "
			    "account key needs client_email and private_key",
			    path);
	} else if (lep_streq(t, "authorized_user")) {
		f->type = "authorized_user";
		if (lep_json_get_str(f->j, "client_id") == NULL ||
		    lep_json_get_str(f->j, "client_secret") == NULL ||
		    lep_json_get_str(f->j, "refresh_token") == NULL)
			return lep_err_new(LEP_E_AUTH, "'%s': an authorized "
			    "user file needs client_id, client_secret and "
			    "refresh_token", path);
	} else
		return lep_err_new(LEP_E_AUTH, "'%s': credentials of type "
		    "'%s' are not supported (service_account, "
		    "authorized_user)", path, t != NULL ? t : "(none)");
	return NULL;
}

static char *
adc_path(void)
{
	const char	*d, *home;

	if ((d = getenv("CLOUDSDK_CONFIG")) != NULL && *d != '\0')
		return xasprintf("%s/application_default_credentials.json", d);
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		return NULL;
	return xasprintf("%s/.config/gcloud/"
	    "application_default_credentials.json", home);
}

static char *
metadata_url(const char *path)
{
	const char	*h = getenv("GCE_METADATA_HOST");

	return xasprintf("http://%s" GCP_METADATA_PATH "%s",
	    h != NULL && *h != '\0' ? h : GCP_METADATA_HOST, path);
}

/* One GET to the metadata server: short timeouts, a machine without
   one fails fast. *out: caller frees. */
static const struct lep_err *
metadata_get(char **out, const char *path)
{
	static const char *const hdr[] = { "Metadata-Flavor: Google" };
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_http_req	 req = {
		.method = "GET",
		.headers = hdr,
		.nheaders = 1,
		.timeout_ms = 3000,
		.connect_timeout_ms = 1000,
		.max_body = GCP_TOKEN_MAX,
	};
	char			*url = metadata_url(path), *flavor;

	*out = NULL;
	req.url = url;
	lep_http_resp_init(&resp);
	if ((err = lep_http_do(&resp, &req)) == NULL) {
		flavor = lep_http_resp_header(&resp, "Metadata-Flavor");
		if (resp.status != 200 || !lep_streq(flavor, "Google"))
			err = lep_err_new(LEP_E_AUTH, "metadata server %s: "
			    "HTTP %ld%s", url, resp.status,
			    lep_streq(flavor, "Google") ? "" :
			    " without Metadata-Flavor: Google");
		else
			*out = xstrndup(resp.body.buf, resp.body.len);
		free(flavor);
	}
	lep_wipe(resp.body.buf, resp.body.len);
	lep_http_resp_release(&resp);
	free(url);
	return err;
}

/* --- the token --------------------------------------------------------- */

/* A token answer: {"access_token", "expires_in"}, or Google's error. */
static const struct lep_err *
token_answer(struct lep_gcp_creds *c, struct lep_http_resp *resp,
    const char *url)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*j = NULL;
	const char		*tok, *e, *d;
	long long		 in;

	(void)lep_json_parse(&j, resp->body.buf, resp->body.len, url);
	if (resp->status != 200) {
		e = lep_json_get_str(j, "error");
		d = lep_json_get_str(j, "error_description");
		err = lep_err_new(resp->status >= 500 ? LEP_E_PROVIDER :
		    LEP_E_AUTH, "token request to %s: HTTP %ld%s%s%s%s "
		    "(credentials: %s%s%s)", url, resp->status, e ? ": " : "",
		    e ? e : "", d ? ": " : "", d ? d : "", c->source,
		    c->file ? " " : "", c->file ? c->file : "");
	} else if ((tok = lep_json_get_str(j, "access_token")) == NULL ||
	    *tok == '\0' || lep_json_get_ll(j, "expires_in", &in) != 0)
		err = lep_err_new(LEP_E_AUTH, "token request to %s: no "
		    "access_token and expires_in in the answer", url);
	else {
		c->token = xstrdup(tok);
		c->expires = (long long)time(NULL) + in;
	}
	lep_json_free_wiped(j);
	return err;
}

static const struct lep_err *
token_post(struct lep_gcp_creds *c, const char *url, const char *body,
    const struct lep_gcp_opts *opts)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_http_req	 req = {
		.method = "POST",
		.url = url,
		.body = body,
		.body_len = strlen(body),
		.content_type = "application/x-www-form-urlencoded",
		.timeout_ms = 30000,
		.max_body = GCP_TOKEN_MAX,
		/* A grant has no side effect: safe to send again. */
		.retries = 2,
		.cacert = opts->ca_file,
	};

	lep_http_resp_init(&resp);
	if ((err = lep_http_do(&resp, &req)) == NULL)
		err = token_answer(c, &resp, url);
	else
		/* lib/http's message names the URL. */
		err = lep_err_new(err->code, "token request: %s", err->msg);
	lep_wipe(resp.body.buf, resp.body.len);
	lep_http_resp_release(&resp);
	return err;
}

static const struct lep_err *
fetch_token(struct lep_gcp_creds *c, const struct gcp_file *f,
    const struct lep_gcp_opts *opts)
{
	const struct lep_err	*err;
	struct lep_buf		 body = LEP_BUF_INIT;
	struct lep_http_resp	 resp;
	char			*jwt = NULL, *text = NULL;

	if (f == NULL) {
		if ((err = metadata_get(&text, "instance/service-accounts/"
		    "default/token")) != NULL)
			return err;
		lep_http_resp_init(&resp);
		resp.status = 200;
		lep_buf_add(&resp.body, text);
		err = token_answer(c, &resp, c->token_uri);
		lep_wipe(resp.body.buf, resp.body.len);
		lep_http_resp_release(&resp);
		lep_wipe(text, strlen(text));
		free(text);
		return err;
	}
	if (lep_streq(f->type, "service_account")) {
		if ((err = lep_gcp_jwt(&jwt, c->principal,
		    lep_json_get_str(f->j, "private_key_id"),
		    lep_json_get_str(f->j, "private_key"), LEP_GCP_SCOPE,
		    (long long)time(NULL))) != NULL)
			return lep_err_new(err->code, "'%s': %s", c->file,
			    err->msg);
		form_add(&body, "grant_type",
		    "urn:ietf:params:oauth:grant-type:jwt-bearer");
		form_add(&body, "assertion", jwt);
		lep_wipe(jwt, strlen(jwt));
		free(jwt);
	} else {
		form_add(&body, "grant_type", "refresh_token");
		form_add(&body, "client_id", lep_json_get_str(f->j,
		    "client_id"));
		form_add(&body, "client_secret", lep_json_get_str(f->j,
		    "client_secret"));
		form_add(&body, "refresh_token", lep_json_get_str(f->j,
		    "refresh_token"));
	}
	err = token_post(c, c->token_uri, body.buf, opts);
	lep_wipe(body.buf, body.len);
	lep_buf_release(&body);
	return err;
}

/* LEPTON_HOME/cache/gcp/<sha256 of source, file, principal, scope>. */
static char *
cache_base(const struct lep_gcp_creds *c, const struct lep_gcp_opts *opts)
{
	char	 hex[LEP_SHA256_HEX], *key;

	if (opts->home == NULL)
		return NULL;
	key = xasprintf("%s\n%s\n%s\n%s\n%s", c->source, c->file ? c->file :
	    "", c->principal ? c->principal : "", c->token_uri,
	    LEP_GCP_SCOPE);
	if (lep_sha256_hex(hex, key, strlen(key)) != NULL) {
		free(key);
		return NULL;
	}
	free(key);
	return xasprintf("%s/cache/gcp/%s", opts->home, hex);
}

static int
cache_get(struct lep_gcp_creds *c, const char *path)
{
	struct lep_json	*j = NULL;
	struct lep_buf	 b;
	const char	*tok;
	long long	 exp;
	int		 ok = 0;

	if (lep_creds_read_file(&b, path, GCP_TOKEN_MAX) == NULL &&
	    lep_json_parse(&j, b.buf, b.len, path) == NULL &&
	    (tok = lep_json_get_str(j, "access_token")) != NULL &&
	    lep_json_get_ll(j, "expires", &exp) == 0 &&
	    exp - (long long)time(NULL) > LEP_GCP_REFRESH_S) {
		free(c->token);
		c->token = xstrdup(tok);
		c->expires = exp;
		c->cached = 1;
		ok = 1;
	}
	lep_json_free_wiped(j);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	return ok;
}

static void
cache_put(const struct lep_gcp_creds *c, const char *path)
{
	struct lep_json	*j = lep_json_obj();

	lep_json_set_str(j, "access_token", c->token);
	lep_json_set_int(j, "expires", c->expires);
	/* Best effort: a cache we cannot write costs a token request. */
	(void)lep_write_json(path, j, 0600);
	lep_json_free_wiped(j);
}

/*
 * The cached token, or a new one fetched under an exclusive flock on
 * BASE.lock, the cache read again once it is held: of processes that
 * start together, one asks and the others read its answer.
 */
static const struct lep_err *
get_token(struct lep_gcp_creds *c, const struct gcp_file *f,
    const struct lep_gcp_opts *opts)
{
	const struct lep_err	*err = NULL;
	char			*base, *path = NULL, *lock = NULL, *dir;
	int			 fd = -1;

	if ((base = cache_base(c, opts)) == NULL)
		return fetch_token(c, f, opts);
	path = xasprintf("%s.json", base);
	lock = xasprintf("%s.lock", base);
	if (cache_get(c, path))
		goto done;
	dir = xasprintf("%s/cache/gcp", opts->home);
	if (lep_mkdirs(dir, 0700) == NULL)
		fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	free(dir);
	if (fd != -1)
		while (flock(fd, LOCK_EX) == -1 && errno == EINTR)
			;
	if (fd != -1 && cache_get(c, path))
		goto done;
	if ((err = fetch_token(c, f, opts)) == NULL && fd != -1)
		cache_put(c, path);
done:
	if (fd != -1)
		close(fd);	/* releases the flock */
	free(base);
	free(path);
	free(lock);
	return err;
}

/* --- resolve ----------------------------------------------------------- */

static void
set_project(struct lep_gcp_creds *c, const struct lep_gcp_opts *opts,
    const char *own, const char *own_from)
{
	static const char *const env[] = { "GOOGLE_CLOUD_PROJECT",
	    "CLOUDSDK_CORE_PROJECT" };
	const char	*v;
	size_t		 i;

	if (opts->project != NULL && *opts->project != '\0') {
		c->project = xstrdup(opts->project);
		c->project_from = "config";
		return;
	}
	for (i = 0; i < LEP_ARRAY_SIZE(env); i++)
		if ((v = getenv(env[i])) != NULL && *v != '\0') {
			c->project = xstrdup(v);
			c->project_from = env[i];
			return;
		}
	if (own != NULL && *own != '\0') {
		c->project = xstrdup(own);
		c->project_from = own_from;
	}
}

static const struct lep_err *
from_file(struct lep_gcp_creds *c, const struct lep_gcp_opts *opts,
    const char *source, const char *path)
{
	const struct lep_err	*err;
	struct gcp_file		 f;
	const char		*uri, *p, *pf;

	c->source = source;
	c->file = xstrdup(path);
	if ((err = read_file(&f, path)) != NULL)
		goto done;
	c->type = f.type;
	if (lep_streq(f.type, "service_account")) {
		c->principal = xstrdup(lep_json_get_str(f.j, "client_email"));
		p = lep_json_get_str(f.j, "project_id");
		pf = "key file";
	} else {
		c->principal = xstrdup(lep_json_get_str(f.j, "client_id"));
		p = lep_json_get_str(f.j, "quota_project_id");
		pf = "quota_project_id";
	}
	uri = lep_json_get_str(f.j, "token_uri");
	c->token_uri = xstrdup(uri != NULL && *uri != '\0' ? uri :
	    LEP_GCP_TOKEN_URI);
	set_project(c, opts, p, pf);
	if ((err = lep_gcp_url_ok(c->token_uri, "token_uri")) == NULL)
		err = get_token(c, &f, opts);
done:
	lep_json_free_wiped(f.j);
	return err;
}

static const struct lep_err *
from_metadata(struct lep_gcp_creds *c, const struct lep_gcp_opts *opts)
{
	const struct lep_err	*err;
	char			*email = NULL, *proj = NULL, *h;

	c->source = "metadata";
	h = metadata_url("");
	c->file = xstrndup(h + strlen("http://"), strcspn(h +
	    strlen("http://"), "/"));
	free(h);
	c->token_uri = metadata_url("instance/service-accounts/default/token");
	/* The email first: it says whether there is a server at all. */
	if ((err = metadata_get(&email, "instance/service-accounts/default/"
	    "email")) != NULL)
		return lep_err_hint(lep_err_new(LEP_E_AUTH, "no credentials: "
		    "GOOGLE_APPLICATION_CREDENTIALS is unset, there is no "
		    "application-default file, and no metadata server at %s "
		    "(%s)", c->file, err->msg), "set "
		    "GOOGLE_APPLICATION_CREDENTIALS to a service account key "
		    "file, or run 'gcloud auth application-default login'");
	c->principal = email;
	(void)metadata_get(&proj, "project/project-id");
	set_project(c, opts, proj, "metadata");
	free(proj);
	return get_token(c, NULL, opts);
}

const struct lep_err *
lep_gcp_creds_resolve(struct lep_gcp_creds *out,
    const struct lep_gcp_opts *opts)
{
	const char	*env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
	char		*adc;
	const struct lep_err *err;
	struct stat	 st;

	memset(out, 0, sizeof(*out));
	if (env != NULL && *env != '\0')
		return from_file(out, opts, "GOOGLE_APPLICATION_CREDENTIALS",
		    env);
	/* google-auth takes the file when it exists; a broken one is an
	   error, not a reason to go on to the metadata server. */
	if ((adc = adc_path()) != NULL && lstat(adc, &st) == 0) {
		err = from_file(out, opts, "adc", adc);
		free(adc);
		return err;
	}
	free(adc);
	return from_metadata(out, opts);
}

void
lep_gcp_creds_release(struct lep_gcp_creds *c)
{
	if (c->token != NULL)
		lep_wipe(c->token, strlen(c->token));
	free(c->token);
	free(c->file);
	free(c->principal);
	free(c->project);
	free(c->token_uri);
	memset(c, 0, sizeof(*c));
}

const struct lep_err *
lep_gcp_probe(struct lep_json **out, const struct lep_gcp_opts *opts)
{
	const struct lep_err	*err;
	struct lep_gcp_creds	 c;
	char			*s, when[32];
	time_t			 t;
	struct tm		 tm;

	*out = lep_json_obj();
	err = lep_gcp_creds_resolve(&c, opts);
	/* No source at all: not set up, rather than broken. */
	lep_json_set_bool(*out, "configured", err == NULL ||
	    strstr(err->msg, "no credentials") == NULL);
	if (c.source != NULL) {
		s = xasprintf("%s%s%s%s%s", c.source, c.type ? " " : "",
		    c.type ? c.type : "", c.file ? " " : "", c.file ? c.file :
		    "");
		lep_json_set_str(*out, "credentials", s);
		free(s);
		lep_json_set_str(*out, "source", c.source);
		if (c.file != NULL)
			lep_json_set_str(*out, "file", c.file);
	}
	if (c.principal != NULL)
		lep_json_set_str(*out, "principal", c.principal);
	if (c.project != NULL) {
		lep_json_set_str(*out, "project", c.project);
		lep_json_set_str(*out, "project_from", c.project_from);
	}
	if (opts->region != NULL)
		lep_json_set_str(*out, "region", opts->region);
	if (c.token_uri != NULL) {
		lep_json_set_str(*out, "token_from", c.cached ? "cache" :
		    c.token_uri);
		lep_json_set_bool(*out, "token_accepted", err == NULL &&
		    c.token != NULL);
	}
	if (err == NULL && c.expires > 0) {
		t = (time_t)c.expires;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		lep_json_set_str(*out, "expires", when);
	}
	lep_gcp_creds_release(&c);
	return err;
}
