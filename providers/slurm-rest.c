/*
 * slurm-rest.c: the Slurm provider's client for slurmrestd, through
 * lib/http only: where the server is and who we are (environment first,
 * then HOME/config.json), which API version to speak, and what an answer
 * means. slurmrestd reports most failures in the JSON "errors" array,
 * often with HTTP 500 (a bad token among them), and some 400/401 bodies
 * are plain text: both are read here.
 */
#include "provider.h"

#include <ctype.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slurm-priv.h"
#include "../lib/config.h"
#include "../lib/creds.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/util.h"

#define SLURM_MAX_BODY		(16u * 1024 * 1024)
#define SLURM_TIMEOUT_MS	30000

static char *
env_nonempty(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

char *
slurm_parse_token(const char *text, size_t n)
{
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		n--;
	if (n > 10 && strncmp(text, "SLURM_JWT=", 10) == 0)
		return xstrndup(text + 10, n - 10);
	return xstrndup(text, n);
}

/* The token's sources, in the order slurm's own tools read them. */
static const struct lep_err *
read_token(struct slurm_state *s)
{
	const struct lep_err	*err;
	struct lep_cred		 c;
	struct lep_cred_source	 src[] = {
		{ "SLURM_JWT", LEP_CRED_ENV, "SLURM_JWT", NULL },
		{ "config token_file", LEP_CRED_FILE, s->token_file,
		    slurm_parse_token },
	};

	err = lep_creds_resolve(&c, src, LEP_ARRAY_SIZE(src));
	if (err == NULL) {
		s->token = c.value;	/* slurm_state_free wipes it */
		s->token_from = c.source;
	} else
		lep_cred_release(&c);
	return err;
}

const struct lep_err *
slurm_state_new(struct slurm_state **out, const char *home,
    struct lep_out *o)
{
	const struct lep_err	*err;
	struct lep_config_file	 cf;
	const struct lep_json	*c;
	struct slurm_state	*s;
	struct passwd		*pw;
	const char		*v;
	long long		 n;
	size_t			 len;

	*out = NULL;
	if ((err = lep_config_load(&cf, home)) != NULL)
		return err;
	c = lep_config_get(&cf, provider_slurm.name);
	s = xcalloc(1, sizeof(*s));
	s->home = xstrdup(home);
	s->out = o;
	s->timeout_ms = SLURM_TIMEOUT_MS;
	if ((s->url = env_nonempty("SLURMRESTD_URL")) != NULL)
		s->url_from = "SLURMRESTD_URL";
	else if ((v = lep_json_get_str(c, "url")) != NULL) {
		s->url = xstrdup(v);
		s->url_from = "config";
	}
	if (s->url != NULL && (len = strlen(s->url)) > 0 &&
	    s->url[len - 1] == '/')
		s->url[len - 1] = '\0';
	if ((s->user = env_nonempty("SLURMRESTD_USER")) != NULL)
		s->user_from = "SLURMRESTD_USER";
	else if ((v = lep_json_get_str(c, "user")) != NULL) {
		s->user = xstrdup(v);
		s->user_from = "config";
	} else if ((pw = getpwuid(geteuid())) != NULL) {
		s->user = xstrdup(pw->pw_name);
		s->user_from = "login";
	} else {
		s->user = xasprintf("%ld", (long)geteuid());
		s->user_from = "uid";
	}
	if ((v = lep_json_get_str(c, "token_file")) != NULL)
		s->token_file = xstrdup(v);
	if ((err = read_token(s)) != NULL)
		goto fail;
	if ((v = lep_json_get_str(c, "partition")) != NULL)
		s->partition = xstrdup(v);
	if ((v = lep_json_get_str(c, "account")) != NULL)
		s->account = xstrdup(v);
	if (lep_json_get_ll(c, "time_limit", &n) == 0 && n > 0)
		s->time_limit = n;
	/* Seconds; too many for a long long of ms: the default stays. */
	if (lep_json_get_ll(c, "timeout", &n) == 0 && n > 0 &&
	    n <= LLONG_MAX / 1000)
		s->timeout_ms = n * 1000;
	if ((v = lep_json_get_str(c, "shared_dir")) != NULL) {
		if (v[0] != '/') {
			err = lep_err_new(LEP_E_FAILED, "%s: slurm.shared_dir "
			    "must be an absolute path", cf.path);
			goto fail;
		}
		s->dir = xstrdup(v);
	} else
		s->dir = xasprintf("%s/slurm", home);
	lep_config_release(&cf);
	*out = s;
	return NULL;
fail:
	lep_config_release(&cf);
	slurm_state_free(s);
	return err;
}

void
slurm_state_free(struct slurm_state *s)
{
	if (s == NULL)
		return;
	if (s->token != NULL) {
		lep_wipe(s->token, strlen(s->token));
		free(s->token);
	}
	free(s->home);
	free(s->url);
	free(s->user);
	free(s->token_file);
	free(s->partition);
	free(s->account);
	free(s->dir);
	free(s->release);
	free(s);
}

/* --- the token ------------------------------------------------------- */

const struct lep_err *
slurm_token_check(const char *token, const char *user)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*claims = NULL;
	const char		*dot1, *dot2, *sun;
	char			*payload;
	size_t			 len;
	long long		 exp;

	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot1 == NULL || dot2 == NULL || lep_base64_decode(&payload, &len,
	    dot1 + 1, (size_t)(dot2 - dot1 - 1), LEP_B64_URL) == -1)
		return lep_err_hint(lep_err_new(LEP_E_AUTH, "the Slurm token "
		    "is not a JWT (header.payload.signature)"), "'scontrol "
		    "token' prints one: SLURM_JWT=...");
	if (lep_json_parse(&claims, payload, len, "token") != NULL) {
		free(payload);
		return lep_err_new(LEP_E_AUTH, "the Slurm token's claims "
		    "are not JSON");
	}
	lep_wipe(payload, len);
	free(payload);
	if (lep_json_get_ll(claims, "exp", &exp) == 0 &&
	    exp <= (long long)time(NULL)) {
		char	 ts[32];

		lep_format_time(ts, sizeof(ts), exp);
		err = lep_err_hint(lep_err_new(LEP_E_AUTH, "the Slurm token "
		    "expired at %s", ts), "get a new one: 'scontrol token "
		    "lifespan=SECONDS'");
	} else if ((sun = lep_json_get_str(claims, "sun")) != NULL &&
	    strcmp(sun, user) != 0 && strcmp(sun, "root") != 0)
		/* Only root's tokens may speak for another user. */
		err = lep_err_hint(lep_err_new(LEP_E_AUTH, "the Slurm token "
		    "is for user '%s', not '%s'", sun, user), "set "
		    "SLURMRESTD_USER=%s or slurm.user in config.json", sun);
	lep_json_free(claims);
	return err;
}

/* --- answers --------------------------------------------------------- */

static long long
num_of(const struct lep_json *v, long long def)
{
	long long	 n;

	switch (lep_json_type(v)) {
	case LEP_JSON_NUMBER:
		return lep_json_ll(v, &n) == 0 ? n : def;
	case LEP_JSON_OBJECT:
		if (!lep_json_get_bool(v, "set", 1) ||
		    lep_json_get_bool(v, "infinite", 0))
			return def;
		return lep_json_get_ll(v, "number", &n) == 0 ? n : def;
	default:
		return def;
	}
}

long long
slurm_num(const struct lep_json *o, const char *key, long long def)
{
	return num_of(lep_json_get(o, key), def);
}

static const char *
first_str(const struct lep_json *v)
{
	if (lep_json_type(v) == LEP_JSON_STRING)
		return lep_json_string(v);
	if (lep_json_type(v) == LEP_JSON_ARRAY && lep_json_len(v) > 0)
		return lep_json_string(lep_json_at(v, 0));
	return NULL;
}

const char *
slurm_job_state(const struct lep_json *job)
{
	const char	*s = first_str(lep_json_get(job, "job_state"));

	if (s == NULL)
		s = first_str(lep_json_get(lep_json_get(job, "state"),
		    "current"));
	return s;
}

void
slurm_job_exit(const struct lep_json *job, int *code, int *sig)
{
	const struct lep_json	*e = lep_json_get(job, "exit_code");
	long long		 raw;

	*code = -1;
	*sig = 0;
	if (lep_json_ll(e, &raw) == 0) {
		/* v0.0.38 and older: the wait(2) status. */
		if (raw & 0x7f)
			*sig = (int)(raw & 0x7f);
		else
			*code = (int)((raw >> 8) & 0xff);
		return;
	}
	if (lep_json_type(e) != LEP_JSON_OBJECT)
		return;
	*code = (int)num_of(lep_json_get(e, "return_code"), -1);
	*sig = (int)num_of(lep_json_get(lep_json_get(e, "signal"), "id"), 0);
}

void
slurm_node_state(const struct lep_json *node, char *buf, size_t len)
{
	const char	*s = first_str(lep_json_get(node, "state"));
	size_t		 i;

	lep_strlcpy(buf, s ? s : "unknown", len);
	for (i = 0; buf[i] != '\0'; i++) {
		if (buf[i] == '+' || buf[i] == ' ') {
			buf[i] = '\0';
			break;
		}
		buf[i] = (char)tolower((unsigned char)buf[i]);
	}
}

const char *
slurm_map_state(const char *st, int *retry)
{
	static const struct {
		const char	*slurm;
		const char	*lepton;
		int		 retry;
	} map[] = {
		{ "PENDING", "running", 0 },
		{ "CONFIGURING", "running", 0 },
		{ "RUNNING", "running", 0 },
		{ "COMPLETING", "running", 0 },
		{ "SUSPENDED", "running", 0 },
		{ "REQUEUED", "running", 0 },
		{ "REQUEUE_HOLD", "running", 0 },
		{ "REQUEUE_FED", "running", 0 },
		{ "RESIZING", "running", 0 },
		{ "SIGNALING", "running", 0 },
		{ "STAGE_OUT", "running", 0 },
		{ "COMPLETED", "succeeded", 0 },
		{ "CANCELLED", "cancelled", 0 },
		{ "FAILED", "failed", 0 },
		{ "TIMEOUT", "failed", 0 },
		{ "OUT_OF_MEMORY", "failed", 0 },
		{ "DEADLINE", "failed", 0 },
		{ "NODE_FAIL", "failed", 1 },
		{ "PREEMPTED", "failed", 1 },
		{ "BOOT_FAIL", "failed", 1 },
		{ "SPECIAL_EXIT", "failed", 0 },
		{ "REVOKED", "cancelled", 0 },
	};
	size_t	 i;

	*retry = 0;
	for (i = 0; st != NULL && i < LEP_ARRAY_SIZE(map); i++)
		if (strcmp(map[i].slurm, st) == 0) {
			*retry = map[i].retry;
			return map[i].lepton;
		}
	return "unknown";
}

/* The text of a plain body, trimmed to one line. */
static void
body_line(char *buf, size_t len, const char *body, size_t n)
{
	size_t	 i, k = 0;

	for (i = 0; i < n && k + 1 < len; i++) {
		if (body[i] == '\n' || body[i] == '\r')
			break;
		buf[k++] = isprint((unsigned char)body[i]) ? body[i] : '?';
	}
	buf[k] = '\0';
}

const struct lep_err *
slurm_answer_error(long status, const char *body, size_t len,
    const struct lep_json *parsed)
{
	const struct lep_json	*errs = lep_json_get(parsed, "errors"), *e;
	const char		*what, *why, *src;
	long long		 num = 0;
	enum lep_code		 code;
	char			 line[256];

	if (status == 401 || status == 403) {
		body_line(line, sizeof(line), body, len);
		return lep_err_http(lep_err_hint(lep_err_new(LEP_E_AUTH,
		    "slurmrestd refused the request (HTTP %ld: %s)", status,
		    line[0] ? line : "no reason given"), "it needs both "
		    "X-SLURM-USER-NAME and X-SLURM-USER-TOKEN: check "
		    "SLURM_JWT and the user"), (int)status);
	}
	if (lep_json_len(errs) == 0) {
		if (status >= 200 && status < 300 && parsed != NULL)
			return NULL;
		body_line(line, sizeof(line), body, len);
		if (status == 404)
			return lep_err_http(lep_err_new(LEP_E_PROVIDER,
			    "slurmrestd has no such endpoint (HTTP 404: %s)",
			    line), 404);
		return lep_err_http(lep_err_new(LEP_E_PROVIDER, "slurmrestd "
		    "answered HTTP %ld%s%s", status, line[0] ? ": " : "",
		    line), (int)status);
	}
	e = lep_json_at(errs, 0);
	what = lep_json_get_str(e, "error");
	why = lep_json_get_str(e, "description");
	src = lep_json_get_str(e, "source");
	if (lep_json_get_ll(e, "error_number", &num) != 0)
		(void)lep_json_get_ll(e, "error_code", &num);
	switch (num) {
	case 1007:	/* Protocol authentication error */
	case 2010:	/* Access/permission denied */
		code = LEP_E_AUTH;
		break;
	case 2017:	/* Invalid job id specified */
		code = LEP_E_NOT_FOUND;
		break;
	case 2000:	/* Invalid partition name */
	case 2014:	/* Requested node config unavailable */
	case 2015:	/* Requested partition config unavailable */
	case 2050:	/* Invalid account */
	case 2072:	/* Invalid generic resource (gres) */
		code = LEP_E_INFEASIBLE;
		break;
	case -1:
		/*
		 * 22.05 says only "Unspecified error" when slurmctld
		 * refuses the token (or cannot be reached behind
		 * slurmrestd): a token problem far more often.
		 */
		code = src != NULL && lep_starts_with(src, "slurm_load") ?
		    LEP_E_AUTH : LEP_E_PROVIDER;
		break;
	default:
		code = LEP_E_PROVIDER;
		break;
	}
	if (code == LEP_E_AUTH)
		return lep_err_http(lep_err_hint(lep_err_new(code, "slurmctld "
		    "refused the request: %s%s%s (error %lld%s%s)", what ?
		    what : "unknown error", why ? ": " : "", why ? why : "",
		    num, src ? " from " : "", src ? src : ""), "check the "
		    "token (SLURM_JWT, or slurm.token_file) and that "
		    "slurmctld is up; 'lepton check slurm' says which was "
		    "used"), (int)status);
	return lep_err_http(lep_err_new(code, "slurmrestd: %s%s%s (error "
	    "%lld)", what ? what : "unknown error", why && *why ? ": " : "",
	    why ? why : "", num), (int)status);
}

const struct lep_err *
slurm_ping_answer(const char **release, const struct lep_json *ans)
{
	const struct lep_json	*meta = lep_json_get(ans, "meta");
	const struct lep_json	*p0 = lep_json_at(lep_json_get(ans, "pings"),
				    0);
	const char		*up, *rel;

	rel = lep_json_get_str(lep_json_get(meta, "Slurm"), "release");
	if (rel == NULL)	/* v0.0.40 on */
		rel = lep_json_get_str(lep_json_get(meta, "slurm"),
		    "release");
	*release = rel ? rel : "unknown";
	up = lep_json_get_str(p0, "pinged");
	if (up == NULL)		/* v0.0.39 and older */
		up = lep_json_get_str(p0, "ping");
	if (lep_streq(up, "UP"))
		return NULL;
	return lep_err_hint(lep_err_new(LEP_E_PROVIDER, "slurmrestd "
	    "answers, but its slurmctld does not (ping: %s)", up ? up :
	    "no answer"), "is slurmctld running? 'scontrol ping' on the "
	    "cluster says");
}

/* --- requests -------------------------------------------------------- */

static const struct lep_err *
not_configured(const struct slurm_state *s)
{
	if (s->url == NULL)
		return lep_err_hint(lep_err_new(LEP_E_PROVIDER, "no "
		    "slurmrestd URL: Slurm is not configured"), "set "
		    "SLURMRESTD_URL, or \"slurm\": {\"url\": ...} in "
		    "%s/config.json", s->home);
	if (s->token == NULL)
		return lep_err_hint(lep_err_new(LEP_E_AUTH, "no Slurm token"),
		    "set SLURM_JWT (from 'scontrol token'), or \"slurm\": "
		    "{\"token_file\": PATH} (mode 0600) in %s/config.json",
		    s->home);
	return NULL;
}

int
slurm_answer_final(const struct lep_http_resp *r)
{
	const struct lep_json	*e;
	struct lep_json		*j = NULL;
	long long		 num = 0;
	int			 final = 0;

	if (r->body.len == 0 || r->body.buf[strspn(r->body.buf, " \t\r\n")] !=
	    '{' || lep_json_parse(&j, r->body.buf, r->body.len, "slurmrestd") !=
	    NULL)
		return 0;
	e = lep_json_at(lep_json_get(j, "errors"), 0);
	if (e != NULL) {
		if (lep_json_get_ll(e, "error_number", &num) != 0)
			(void)lep_json_get_ll(e, "error_code", &num);
		final = !((num >= 1001 && num <= 1004) ||
		    (num >= 1800 && num <= 1899) || (num >= 5000 && num <= 5099));
	}
	lep_json_free(j);
	return final;
}

/* One request to URL/PATH, as s->user with s->token. */
static const struct lep_err *
send_one(struct lep_http_resp *resp, struct slurm_state *s,
    const char *method, const char *path, const char *body, int retries)
{
	const struct lep_err	*err;
	struct lep_http_req	 req;
	const char		*hdr[2];
	char			*h_user, *h_token, *url;

	h_user = xasprintf("X-SLURM-USER-NAME: %s", s->user);
	h_token = xasprintf("X-SLURM-USER-TOKEN: %s", s->token);
	hdr[0] = h_user;
	hdr[1] = h_token;
	url = xasprintf("%s%s", s->url, path);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.headers = hdr;
	req.nheaders = 2;
	req.timeout_ms = s->timeout_ms;
	req.connect_timeout_ms = 3000;
	req.max_body = SLURM_MAX_BODY;
	req.retries = retries;
	req.final = slurm_answer_final;
	lep_http_resp_init(resp);
	err = lep_http_do(resp, &req);
	lep_wipe(h_token, strlen(h_token));
	free(h_token);
	free(h_user);
	if (err != NULL)
		err = lep_err_hint(lep_err_new(err->code, "cannot reach "
		    "slurmrestd at %s (from %s): %s", s->url, s->url_from,
		    err->msg), "is slurmrestd running? 'lepton check slurm' "
		    "tries it");
	free(url);
	return err;
}

/* err, saying how often it was asked, and a Retry-After not waited for. */
static const struct lep_err *
retry_note(const struct lep_err *err, const struct lep_http_resp *resp)
{
	const struct lep_err	*e;
	char			 tries[32] = "", later[96] = "";

	if (resp->attempts > 1)
		snprintf(tries, sizeof(tries), " (%d attempts)",
		    resp->attempts);
	if (resp->retry_after_ms > LEP_HTTP_RETRY_AFTER_MAX_MS)
		snprintf(later, sizeof(later), "; it asks to be tried again "
		    "in %llds, over lepton's %llds", resp->retry_after_ms /
		    1000, LEP_HTTP_RETRY_AFTER_MAX_MS / 1000);
	if (tries[0] == '\0' && later[0] == '\0')
		return err;
	e = lep_err_new(err->code, "%s%s%s", err->msg, tries, later);
	if (err->hint[0] != '\0')
		(void)lep_err_hint(e, "%s", err->hint);
	return err->http_status ? lep_err_http(e, err->http_status) : e;
}

/*
 * The answer's JSON (NULL for a plain body), or its error. *refused: the
 * server turned the request down for good (Slurm's own errors array, or
 * a 4xx but 408 and 429): a submit so answered made no job.
 */
const struct lep_err *
slurm_parse_answer(struct lep_json **out, int *refused,
    const struct lep_http_resp *resp)
{
	struct lep_json		*j = NULL;
	const struct lep_err	*err;
	const char		*b = resp->body.buf;
	size_t			 n = resp->body.len;

	*out = NULL;
	while (n > 0 && isspace((unsigned char)*b)) {
		b++;
		n--;
	}
	if (n > 0 && *b == '{' &&
	    lep_json_parse(&j, b, n, "slurmrestd") != NULL)
		j = NULL;
	if ((err = slurm_answer_error(resp->status, b, n, j)) != NULL) {
		*refused = lep_json_len(lep_json_get(j, "errors")) > 0 ||
		    (resp->status >= 400 && resp->status < 500 &&
		    resp->status != 408 && resp->status != 429);
		lep_json_free(j);
		return retry_note(err, resp);
	}
	*out = j;
	return NULL;
}

/*
 * The version found for this URL last time (shared_dir/api.json): one
 * command need not ping again. A 404 on it throws it away (slurm_call).
 */
static int
cached_api(struct slurm_state *s)
{
	struct lep_json	*j = NULL;
	char		*p = xasprintf("%s/api.json", s->dir);
	long long	 v = 0;

	if (lep_read_json(&j, p, 4096) == NULL &&
	    lep_streq(lep_json_get_str(j, "url"), s->url) &&
	    lep_json_get_ll(j, "api", &v) == 0 && v >= SLURM_API_MIN &&
	    v <= SLURM_API_MAX) {
		s->api = (int)v;
		free(s->release);
		s->release = xstrdup(lep_json_get_str(j, "release") ?
		    lep_json_get_str(j, "release") : "unknown");
	}
	lep_json_free(j);
	free(p);
	return s->api != 0;
}

static void
cache_api(const struct slurm_state *s)
{
	struct lep_json	*j = lep_json_obj();
	char		*p = xasprintf("%s/api.json", s->dir);

	lep_json_set_str(j, "url", s->url);
	lep_json_set_int(j, "api", s->api);
	lep_json_set_str(j, "release", s->release);
	/* Best effort: without it the next command pings again. */
	if (lep_mkdirs(s->dir, 0700) == NULL)
		(void)lep_write_json(p, j, 0600);
	lep_json_free(j);
	free(p);
}

const struct lep_err *
slurm_discover(struct slurm_state *s)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_json		*j;
	const char		*rel;
	char			 path[64];
	int			 v, refused;

	if (s->api != 0)
		return NULL;
	if ((err = not_configured(s)) != NULL ||
	    (err = slurm_token_check(s->token, s->user)) != NULL)
		return err;
	if (!s->fresh && cached_api(s))
		return NULL;
	/* Newest first: a server answers 404 for versions it lacks. */
	for (v = SLURM_API_MAX; v >= SLURM_API_MIN; v--) {
		snprintf(path, sizeof(path), "/slurm/v0.0.%d/ping", v);
		if ((err = send_one(&resp, s, "GET", path, NULL, 2)) != NULL) {
			lep_http_resp_release(&resp);
			return err;
		}
		if (resp.status == 404) {
			lep_http_resp_release(&resp);
			continue;
		}
		err = slurm_parse_answer(&j, &refused, &resp);
		lep_http_resp_release(&resp);
		if (err != NULL)
			return err;
		if ((err = slurm_ping_answer(&rel, j)) != NULL) {
			lep_json_free(j);
			return err;
		}
		s->release = xstrdup(rel);
		s->api = v;
		lep_json_free(j);
		cache_api(s);
		if (s->out != NULL)
			lep_out_info(s->out, "slurm: %s speaks v0.0.%d (Slurm "
			    "%s)", s->url, v, s->release);
		return NULL;
	}
	return lep_err_hint(lep_err_new(LEP_E_PROVIDER, "slurmrestd at %s "
	    "serves none of the API versions v0.0.%d to v0.0.%d", s->url,
	    SLURM_API_MIN, SLURM_API_MAX), "start it with one of them "
	    "(slurmrestd -s openapi/v0.0.%d)", SLURM_API_MIN + 2);
}

const struct lep_err *
slurm_call(struct lep_json **out, struct slurm_state *s, const char *method,
    const char *path, const struct lep_json *body)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	char			*text = NULL, *full;
	int			 refused = 0;

	*out = NULL;
	memset(&s->last, 0, sizeof(s->last));
	s->last.retry_after_ms = -1;
	if ((err = slurm_discover(s)) != NULL)
		return err;
	if (body != NULL)
		text = lep_json_print(body, 0);
	full = xasprintf("/slurm/v0.0.%d%s", s->api, path);
	/*
	 * lib/http repeats reads and cancels after what may pass, and a
	 * submit (POST) only when nothing was sent: whether a lost submit
	 * made a job is slurm-batch.c's to find out.
	 */
	err = send_one(&resp, s, method, full, text, SLURM_RETRIES);
	if (err == NULL && resp.status == 404 && !s->fresh) {
		/* The server changed under the cached version: ask again. */
		lep_http_resp_release(&resp);
		free(full);
		s->api = 0;
		s->fresh = 1;
		if ((err = slurm_discover(s)) == NULL) {
			full = xasprintf("/slurm/v0.0.%d%s", s->api, path);
			err = send_one(&resp, s, method, full, text,
			    SLURM_RETRIES);
		} else {
			full = NULL;
			lep_http_resp_init(&resp);
		}
	}
	s->last.attempts = resp.attempts;
	s->last.retry_after_ms = resp.retry_after_ms;
	s->last.status = err == NULL ? resp.status : 0;
	s->last.maybe_sent = err != NULL && resp.maybe_sent;
	s->last.timed_out = (err != NULL && err->code == LEP_E_TIMEOUT) ||
	    (err == NULL && resp.status == 504);
	if (err == NULL)
		err = slurm_parse_answer(out, &refused, &resp);
	s->last.refused = refused;
	lep_http_resp_release(&resp);
	if (text != NULL) {
		lep_wipe(text, strlen(text));	/* may hold secrets */
		free(text);
	}
	free(full);
	return err;
}
