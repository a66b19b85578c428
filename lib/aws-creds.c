/*
 * aws-creds.c: the AWS credential chain in botocore 1.43's order, over
 * botocore's reading of ~/.aws/config and ~/.aws/credentials.
 */
#include "aws.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws-priv.h"
#include "creds.h"
#include "crypto.h"
#include "error.h"
#include "fs.h"
#include "http.h"
#include "json.h"
#include "util.h"

/* Cached assume-role keys are used until this close to their expiry. */
#define AWS_CACHE_MARGIN_S	300
#define AWS_PROCESS_TIMEOUT_MS	120000
#define AWS_MAX_CHAIN		16

/* --- INI, as configparser reads it for botocore --- */

static void
ini_sec_name(struct aws_ini_sec *sec, const char *h, int config)
{
	char	**w = NULL;
	int	 n = 0;

	sec->kind = AWS_SEC_OTHER;
	if (!config || strcmp(h, "default") == 0) {
		sec->kind = AWS_SEC_PROFILE;
		sec->name = xstrdup(h);
		return;
	}
	/* botocore: shlex.split, two words, else the section is ignored
	   ('[profile "a" "b"]', '[profile "no end quote]'). */
	if ((lep_starts_with(h, "profile") || lep_starts_with(h,
	    "sso-session")) && (n = aws_shell_split(&w, h)) == 2) {
		if (strcmp(w[0], "profile") == 0)
			sec->kind = AWS_SEC_PROFILE;
		else if (strcmp(w[0], "sso-session") == 0)
			sec->kind = AWS_SEC_SSO;
		sec->name = xstrdup(w[1]);
	} else
		sec->name = xstrdup(h);
	if (w != NULL)
		lep_strv_free(w, n > 0 ? (size_t)n : 0);
}

/* botocore's _parse_nested: each line of a nested value is "k = v". */
static const struct lep_err *
ini_check_nested(const struct aws_ini_kv *kv, const char *path)
{
	const char	*p, *eol;

	if (!kv->nested)
		return NULL;
	for (p = kv->val + 1; *p != '\0'; p = *eol ? eol + 1 : eol) {
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		if (memchr(p, '=', eol - p) == NULL)
			return lep_err_new(LEP_E_AUTH, "unable to parse config "
			    "file: %s: nested sub-section '%s': '%.*s' has no "
			    "'='", path, kv->key, (int)(eol - p), p);
	}
	return NULL;
}

const struct lep_err *
aws_ini_parse(struct aws_ini *out, const char *text, size_t len,
    const char *path, int config)
{
	const struct lep_err	*err;
	struct aws_ini_sec	*sec = NULL;
	struct aws_ini_kv	*kv = NULL;
	const char		*p = text, *end = text + len, *eol, *s, *e, *d;
	char			*line = NULL, *h, *v;
	size_t			 indent, cur_indent = 0, lineno = 0;

	memset(out, 0, sizeof(*out));
	for (; p < end; p = eol < end ? eol + 1 : end) {
		lineno++;
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		for (s = p; s < eol && (*s == ' ' || *s == '\t' ||
		    *s == '\r'); s++)
			;
		for (e = eol; e > s && isspace((unsigned char)e[-1]); e--)
			;
		if (s == e || *s == '#' || *s == ';')
			continue;
		indent = s - p;
		if (kv != NULL && indent > cur_indent) {
			/* A continuation line; after an empty value, a
			   nested section ("s3 =\n  addressing_style = x"). */
			if (kv->val[0] == '\0')
				kv->nested = 1;
			v = xasprintf("%s\n%.*s", kv->val, (int)(e - s), s);
			lep_wipe(kv->val, strlen(kv->val));
			free(kv->val);
			kv->val = v;
			continue;
		}
		cur_indent = indent;
		if (kv != NULL && (err = ini_check_nested(kv, path)) != NULL)
			return err;
		kv = NULL;
		if (*s == '[' && (d = memrchr(s, ']', e - s)) != NULL) {
			out->sec = xreallocarray(out->sec, out->n + 1,
			    sizeof(*out->sec));
			sec = &out->sec[out->n++];
			memset(sec, 0, sizeof(*sec));
			h = xstrndup(s + 1, d - s - 1);
			ini_sec_name(sec, h, config);
			free(h);
			continue;
		}
		if (sec == NULL)
			return lep_err_new(LEP_E_AUTH, "unable to parse config "
			    "file: %s: line %zu: no section header", path,
			    lineno);
		for (d = s; d < e && *d != '=' && *d != ':'; d++)
			;
		if (d == e)
			return lep_err_new(LEP_E_AUTH, "unable to parse config "
			    "file: %s: line %zu: not 'key = value'", path,
			    lineno);
		line = xstrndup(s, d - s);
		for (h = line + strlen(line); h > line &&
		    isspace((unsigned char)h[-1]); h--)
			h[-1] = '\0';
		for (h = line; *h != '\0'; h++)
			*h = (char)tolower((unsigned char)*h);
		for (d++; d < e && isspace((unsigned char)*d); d++)
			;
		sec->kv = xreallocarray(sec->kv, sec->n + 1, sizeof(*sec->kv));
		kv = &sec->kv[sec->n++];
		kv->key = line;
		kv->val = xstrndup(d, e - d);
		kv->nested = 0;
		line = NULL;
	}
	return kv != NULL ? ini_check_nested(kv, path) : NULL;
}

void
aws_ini_free(struct aws_ini *ini)
{
	size_t	 i, j;

	for (i = 0; i < ini->n; i++) {
		for (j = 0; j < ini->sec[i].n; j++) {
			lep_wipe(ini->sec[i].kv[j].val,
			    strlen(ini->sec[i].kv[j].val));
			free(ini->sec[i].kv[j].val);
			free(ini->sec[i].kv[j].key);
		}
		free(ini->sec[i].kv);
		free(ini->sec[i].name);
	}
	free(ini->sec);
	memset(ini, 0, sizeof(*ini));
}

const struct aws_ini_sec *
aws_ini_find(const struct aws_ini *ini, enum aws_sec_kind kind,
    const char *name)
{
	const struct aws_ini_sec	*found = NULL;
	size_t				 i;

	/* Sections are read in order; a later one wins, as in botocore. */
	for (i = 0; i < ini->n; i++)
		if (ini->sec[i].kind == kind &&
		    strcmp(ini->sec[i].name, name) == 0)
			found = &ini->sec[i];
	return found;
}

/* "k" in a nested value "\n  k = v\n  ...": borrowed into buf. */
static const char *
nested_get(const char *val, const char *key, char *buf, size_t len)
{
	const char	*p, *eol, *eq, *ks, *ke, *vs;
	size_t		 k = strlen(key);

	for (p = val; *p != '\0'; p = *eol ? eol + 1 : eol) {
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		if ((eq = memchr(p, '=', eol - p)) == NULL)
			continue;
		for (ks = p; ks < eq && isspace((unsigned char)*ks); ks++)
			;
		for (ke = eq; ke > ks && isspace((unsigned char)ke[-1]); ke--)
			;
		if ((size_t)(ke - ks) != k || strncmp(ks, key, k) != 0)
			continue;
		for (vs = eq + 1; vs < eol && isspace((unsigned char)*vs); vs++)
			;
		if ((size_t)(eol - vs) >= len)
			return NULL;
		memcpy(buf, vs, eol - vs);
		buf[eol - vs] = '\0';
		return buf;
	}
	return NULL;
}

const char *
aws_ini_get(const struct aws_ini_sec *sec, const char *key)
{
	static _Thread_local char	 nbuf[1024];
	const char			*v = NULL, *dot;
	size_t				 i, k;

	if (sec == NULL)
		return NULL;
	/* "s3.addressing_style": a key of a nested section. */
	if ((dot = strchr(key, '.')) != NULL) {
		k = dot - key;
		for (i = 0; i < sec->n; i++)
			if (sec->kv[i].nested && strlen(sec->kv[i].key) == k &&
			    strncmp(sec->kv[i].key, key, k) == 0)
				v = nested_get(sec->kv[i].val, dot + 1, nbuf,
				    sizeof(nbuf));
		return v;
	}
	for (i = 0; i < sec->n; i++)
		if (strcmp(sec->kv[i].key, key) == 0)
			v = sec->kv[i].nested ? NULL : sec->kv[i].val;
	return v;
}

/* --- small parsers --- */

int
aws_shell_split(char ***argv_out, const char *s)
{
	struct lep_buf	 w;
	char		**v = NULL;
	int		 n = 0, inword = 0;
	char		 q;

	*argv_out = NULL;
	lep_buf_init(&w, 0);
	for (;; s++) {
		if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n' ||
		    *s == '\r') {
			if (inword) {
				v = xreallocarray(v, n + 2, sizeof(*v));
				v[n++] = lep_buf_detach(&w, NULL);
				v[n] = NULL;
				inword = 0;
			}
			if (*s == '\0')
				break;
			continue;
		}
		inword = 1;
		if (*s == '\\') {
			if (*++s == '\0')
				goto bad;
			lep_buf_addch(&w, *s);
		} else if (*s == '\'' || *s == '"') {
			for (q = *s++; *s != q; s++) {
				if (*s == '\0')
					goto bad;
				/* In "...", \ escapes only \ and ". */
				if (q == '"' && *s == '\\' && (s[1] == '"' ||
				    s[1] == '\\'))
					s++;
				lep_buf_addch(&w, *s);
			}
		} else
			lep_buf_addch(&w, *s);
	}
	lep_buf_release(&w);
	if (v == NULL)
		v = xcalloc(1, sizeof(*v));
	*argv_out = v;
	return n;
bad:
	lep_buf_release(&w);
	lep_strv_free(v, n);
	return -1;
}

long long
aws_parse_time(const char *s)
{
	struct tm	 tm;
	int		 Y, M, D, h, m, sec, oh, om, k = 0;
	long long	 t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D,
	    &h, &m, &sec, &k) != 6 || k == 0)
		return -1;
	s += k;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = (long long)timegm(&tm);
	if (*s == '\0' || strcmp(s, "Z") == 0 || strcmp(s, " UTC") == 0 ||
	    strcmp(s, "UTC") == 0)
		return t;
	if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d", &oh,
	    &om) == 2)
		return *s == '+' ? t - (oh * 3600 + om * 60) :
		    t + (oh * 3600 + om * 60);
	return -1;
}

/* --- the chain --- */

struct chain {
	const struct lep_aws_opts *opts;
	struct aws_ini	 cfg;		/* ~/.aws/config */
	struct aws_ini	 cred;		/* ~/.aws/credentials */
	char		*cfg_path;
	char		*cred_path;
	const char	*region;	/* resolved: for STS */
	const char	*visited[AWS_MAX_CHAIN];
	size_t		 nvisited;
};

static const struct aws_ini_sec *
cfg_profile(const struct chain *ch, const char *p)
{
	return aws_ini_find(&ch->cfg, AWS_SEC_PROFILE, p);
}

static const struct aws_ini_sec *
cred_profile(const struct chain *ch, const char *p)
{
	return aws_ini_find(&ch->cred, AWS_SEC_PROFILE, p);
}

/* A profile's value as botocore's full config has it: the credentials
   file's over the config file's. */
static const char *
prof_get(const struct chain *ch, const char *p, const char *key)
{
	const char	*v;

	if ((v = aws_ini_get(cred_profile(ch, p), key)) != NULL)
		return v;
	return aws_ini_get(cfg_profile(ch, p), key);
}

static const char *
env(const char *name)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static const struct lep_err *
load_ini(struct aws_ini *ini, char **path_out, const char *var,
    const char *file, int config)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	const char		*home;

	memset(ini, 0, sizeof(*ini));
	if (env(var) != NULL)
		*path_out = xstrdup(env(var));
	else if ((home = env("HOME")) != NULL)
		*path_out = xasprintf("%s/.aws/%s", home, file);
	else
		return NULL;
	/* Keys may be in either file: both must be ours alone. */
	err = lep_creds_read_file(&b, *path_out, AWS_INI_MAX);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = NULL;
	else if (err == NULL)
		err = aws_ini_parse(ini, b.buf, b.len, *path_out, config);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	return err;
}

static void
set_keys(struct lep_aws_creds *out, const char *ak, const char *sk,
    const char *tok, long long expires)
{
	out->access_key = xstrdup(ak);
	out->secret_key = xstrdup(sk);
	out->session_token = tok != NULL && *tok != '\0' ? xstrdup(tok) : NULL;
	out->expires = expires;
}

static void
clear_keys(struct lep_aws_creds *c)
{
	if (c->secret_key != NULL)
		lep_wipe(c->secret_key, strlen(c->secret_key));
	if (c->session_token != NULL)
		lep_wipe(c->session_token, strlen(c->session_token));
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	c->access_key = c->secret_key = c->session_token = NULL;
	c->expires = 0;
}

/* Static keys from a profile's section (credentials or config file). */
static const struct lep_err *
static_keys(struct lep_aws_creds *out, int *found,
    const struct aws_ini_sec *sec, const char *method, const char *path)
{
	const char	*ak = aws_ini_get(sec, "aws_access_key_id");
	const char	*sk = aws_ini_get(sec, "aws_secret_access_key");
	const char	*tok = aws_ini_get(sec, "aws_session_token");

	*found = 0;
	if (ak == NULL)
		return NULL;
	if (sk == NULL)
		return lep_err_new(LEP_E_AUTH, "partial credentials found in "
		    "%s, missing: aws_secret_access_key (%s)", method, path);
	if (tok == NULL)
		tok = aws_ini_get(sec, "aws_security_token");
	set_keys(out, ak, sk, tok, 0);
	out->method = method;
	out->detail = xstrdup(path);
	*found = 1;
	return NULL;
}

static const struct lep_err *
from_env(struct lep_aws_creds *out, int *found)
{
	const char	*ak = env("AWS_ACCESS_KEY_ID");
	const char	*sk = env("AWS_SECRET_ACCESS_KEY");
	const char	*tok = env("AWS_SESSION_TOKEN");
	const char	*exp = env("AWS_CREDENTIAL_EXPIRATION");
	long long	 t = 0;

	*found = 0;
	if (ak == NULL)
		return NULL;
	if (sk == NULL)
		return lep_err_new(LEP_E_AUTH, "partial credentials found in "
		    "env, missing: AWS_SECRET_ACCESS_KEY");
	if (tok == NULL)
		tok = env("AWS_SECURITY_TOKEN");
	if (exp != NULL && (t = aws_parse_time(exp)) < 0)
		return lep_err_new(LEP_E_AUTH, "AWS_CREDENTIAL_EXPIRATION: "
		    "not a time: '%s'", exp);
	set_keys(out, ak, sk, tok, t);
	out->method = "env";
	out->detail = xstrdup("AWS_ACCESS_KEY_ID");
	*found = 1;
	return NULL;
}

/* Keys from an STS answer (AssumeRole, AssumeRoleWithWebIdentity). */
static const struct lep_err *
sts_keys(struct lep_aws_creds *out, const char *xml, const char *what)
{
	const struct lep_err	*err = NULL;
	char			*ak, *sk, *tok, *exp;

	ak = aws_xml_text(xml, "AccessKeyId");
	sk = aws_xml_text(xml, "SecretAccessKey");
	tok = aws_xml_text(xml, "SessionToken");
	exp = aws_xml_text(xml, "Expiration");
	if (ak == NULL || sk == NULL || tok == NULL || exp == NULL ||
	    aws_parse_time(exp) < 0)
		err = lep_err_new(LEP_E_PROVIDER, "sts: %s: no credentials in "
		    "the answer", what);
	else
		set_keys(out, ak, sk, tok, aws_parse_time(exp));
	if (sk != NULL)
		lep_wipe(sk, strlen(sk));
	if (tok != NULL)
		lep_wipe(tok, strlen(tok));
	free(ak);
	free(sk);
	free(tok);
	free(exp);
	return err;
}

/* POST a form to STS, signed with src (NULL: unsigned). */
static const struct lep_err *
sts_post(struct lep_aws_creds *out, const struct chain *ch,
    const struct lep_aws_creds *src, const char *body, const char *what)
{
	const struct lep_err	*err;
	struct lep_http_resp	 r;
	struct lep_aws_req	 req = {
		.service = "sts",
		.region = ch->region,
		.method = "POST",
		.path = "/",
		.content_type = "application/x-www-form-urlencoded; "
		    "charset=utf-8",
		.body = body,
		.body_len = strlen(body),
		.max_body = AWS_STS_MAX,
		.timeout_ms = 30000,
		.idempotent = 1,	/* a second session is harmless */
	};

	err = lep_aws_call(&r, NULL, src, &req);
	if (err == NULL)
		err = sts_keys(out, r.body.buf, what);
	else if (err->code == LEP_E_PROVIDER && r.status >= 400 &&
	    r.status < 500)
		err = lep_err_new(LEP_E_AUTH, "%s", err->msg);
	lep_wipe(r.body.buf, r.body.len);
	lep_http_resp_release(&r);
	return err;
}

/* --- assume-role cache: LEPTON_HOME/cache/aws/<sha256>.json, 0600 --- */

static char *
cache_path(const struct chain *ch, const char *key)
{
	char	 hex[LEP_SHA256_HEX];

	if (ch->opts == NULL || ch->opts->home == NULL ||
	    lep_sha256_hex(hex, key, strlen(key)) != NULL)
		return NULL;
	return xasprintf("%s/cache/aws/%s.json", ch->opts->home, hex);
}

static int
cache_get(struct lep_aws_creds *out, const char *path)
{
	struct lep_json	*j = NULL;
	struct lep_buf	 b;
	const char	*ak, *sk, *tok;
	long long	 exp;
	int		 ok = 0;

	lep_buf_init(&b, 0);
	if (path == NULL || lep_creds_read_file(&b, path,
	    AWS_STS_MAX) != NULL) {
		lep_buf_release(&b);
		return 0;
	}
	if (lep_json_parse(&j, b.buf, b.len, path) == NULL &&
	    (ak = lep_json_get_str(j, "AccessKeyId")) != NULL &&
	    (sk = lep_json_get_str(j, "SecretAccessKey")) != NULL &&
	    (tok = lep_json_get_str(j, "SessionToken")) != NULL &&
	    lep_json_get_ll(j, "Expiration", &exp) == 0 &&
	    exp - (long long)time(NULL) > AWS_CACHE_MARGIN_S) {
		set_keys(out, ak, sk, tok, exp);
		ok = 1;
	}
	lep_json_free_wiped(j);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	return ok;
}

static void
cache_put(const struct lep_aws_creds *c, const char *path)
{
	struct lep_json	*j;
	char		*dir, *slash;

	if (path == NULL)
		return;
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	j = lep_json_obj();
	lep_json_set_str(j, "AccessKeyId", c->access_key);
	lep_json_set_str(j, "SecretAccessKey", c->secret_key);
	lep_json_set_str(j, "SessionToken", c->session_token);
	lep_json_set_int(j, "Expiration", c->expires);
	/* Best effort: a cache we cannot write costs one STS call. */
	if (lep_mkdirs(dir, 0700) == NULL)
		(void)lep_write_json(path, j, 0600);
	lep_json_free_wiped(j);
	free(dir);
}

static const struct lep_err *resolve_profile_source(struct lep_aws_creds *,
	    struct chain *, const char *profile, const char *from);

static const struct lep_err *
assume_role(struct lep_aws_creds *out, struct chain *ch, const char *profile)
{
	const struct lep_err	*err = NULL;
	struct lep_aws_creds	 src;
	struct lep_buf		 body = LEP_BUF_INIT;
	const char		*arn, *sp, *cs, *name, *ext, *dur;
	char			*sess = NULL, *e, *key = NULL, *path = NULL;
	size_t			 i;

	memset(&src, 0, sizeof(src));
	arn = prof_get(ch, profile, "role_arn");
	sp = prof_get(ch, profile, "source_profile");
	cs = prof_get(ch, profile, "credential_source");
	name = prof_get(ch, profile, "role_session_name");
	ext = prof_get(ch, profile, "external_id");
	dur = prof_get(ch, profile, "duration_seconds");
	if ((sp == NULL) == (cs == NULL))
		return lep_err_new(LEP_E_AUTH, "the profile '%s' must have "
		    "one of: source_profile, credential_source", profile);
	if (prof_get(ch, profile, "mfa_serial") != NULL)
		return lep_err_new(LEP_E_UNSUPPORTED, "profile '%s': "
		    "mfa_serial: lepton cannot ask for an MFA code", profile);
	for (i = 0; i < ch->nvisited; i++)
		if (strcmp(ch->visited[i], profile) == 0)
			return lep_err_new(LEP_E_AUTH, "infinite loop in "
			    "credential configuration detected: profile "
			    "'%s'", profile);
	if (ch->nvisited == AWS_MAX_CHAIN)
		return lep_err_new(LEP_E_AUTH, "profile '%s': role chain "
		    "longer than %d", profile, AWS_MAX_CHAIN);
	ch->visited[ch->nvisited++] = profile;
	if (cs != NULL) {
		int	 found;

		if (strcmp(cs, "Environment") != 0) {
			err = lep_err_new(LEP_E_UNSUPPORTED, "profile '%s': "
			    "credential_source %s is not supported (only "
			    "Environment)", profile, cs);
			goto done;
		}
		if ((err = from_env(&src, &found)) == NULL && !found)
			err = lep_err_new(LEP_E_AUTH, "profile '%s': "
			    "credential_source Environment: no "
			    "AWS_ACCESS_KEY_ID", profile);
	} else if (cfg_profile(ch, sp) == NULL && cred_profile(ch, sp) == NULL)
		err = lep_err_new(LEP_E_AUTH, "the source_profile \"%s\" "
		    "referenced in the profile \"%s\" does not exist", sp,
		    profile);
	else
		err = resolve_profile_source(&src, ch, sp, profile);
	if (err != NULL)
		goto done;

	sess = name != NULL ? xstrdup(name) :
	    xasprintf("botocore-session-%lld", (long long)time(NULL));
	key = xasprintf("assume-role\n%s\n%s\n%s\n%s\n%s\n%s", arn,
	    name != NULL ? name : "", ext != NULL ? ext : "",
	    dur != NULL ? dur : "", profile, src.access_key);
	path = cache_path(ch, key);
	if (!cache_get(out, path)) {
		lep_buf_add(&body, "Action=AssumeRole&Version=2011-06-15"
		    "&RoleSessionName=");
		lep_buf_add(&body, (e = aws_urlencode(sess)));
		free(e);
		lep_buf_add(&body, "&RoleArn=");
		lep_buf_add(&body, (e = aws_urlencode(arn)));
		free(e);
		if (ext != NULL) {
			lep_buf_add(&body, "&ExternalId=");
			lep_buf_add(&body, (e = aws_urlencode(ext)));
			free(e);
		}
		if (dur != NULL) {
			lep_buf_add(&body, "&DurationSeconds=");
			lep_buf_add(&body, (e = aws_urlencode(dur)));
			free(e);
		}
		if ((err = sts_post(out, ch, &src, body.buf,
		    "AssumeRole")) != NULL) {
			err = lep_err_new(err->code, "profile '%s': assume "
			    "role %s: %s", profile, arn, err->msg);
			goto done;
		}
		cache_put(out, path);
	}
	out->method = "assume-role";
	out->detail = xstrdup(arn);
done:
	ch->nvisited--;
	lep_aws_creds_release(&src);
	lep_buf_release(&body);
	free(sess);
	free(key);
	free(path);
	return err;
}

static const struct lep_err *
web_identity(struct lep_aws_creds *out, int *found, struct chain *ch,
    const char *profile)
{
	const struct lep_err	*err;
	struct lep_buf		 tok, body = LEP_BUF_INIT;
	const char		*file, *arn, *name;
	char			*sess, *e;

	*found = 0;
	file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
	if (file == NULL)
		file = prof_get(ch, profile, "web_identity_token_file");
	if (file == NULL)
		return NULL;
	if ((arn = env("AWS_ROLE_ARN")) == NULL)
		arn = prof_get(ch, profile, "role_arn");
	if (arn == NULL)
		return lep_err_new(LEP_E_AUTH, "web identity token file '%s' "
		    "but no role ARN: set AWS_ROLE_ARN or the profile's "
		    "role_arn", file);
	if ((name = env("AWS_ROLE_SESSION_NAME")) == NULL)
		name = prof_get(ch, profile, "role_session_name");
	/* The token is short-lived and Kubernetes mounts it 0644: read as
	   is, not refused as a secret file would be. */
	if ((err = lep_read_file(&tok, file, LEP_CREDS_FILE_MAX)) != NULL) {
		lep_buf_release(&tok);
		return err;
	}
	while (tok.len > 0 && isspace((unsigned char)tok.buf[tok.len - 1]))
		tok.buf[--tok.len] = '\0';
	sess = name != NULL ? xstrdup(name) :
	    xasprintf("botocore-session-%lld", (long long)time(NULL));
	lep_buf_add(&body, "Action=AssumeRoleWithWebIdentity"
	    "&Version=2011-06-15&RoleArn=");
	lep_buf_add(&body, (e = aws_urlencode(arn)));
	free(e);
	lep_buf_add(&body, "&RoleSessionName=");
	lep_buf_add(&body, (e = aws_urlencode(sess)));
	free(e);
	lep_buf_add(&body, "&WebIdentityToken=");
	e = aws_urlencode(tok.buf);
	lep_buf_add(&body, e);
	lep_wipe(e, strlen(e));
	free(e);
	err = sts_post(out, ch, NULL, body.buf, "AssumeRoleWithWebIdentity");
	if (err != NULL)
		err = lep_err_new(err->code, "assume role %s with web "
		    "identity: %s", arn, err->msg);
	else {
		out->method = "assume-role-with-web-identity";
		out->detail = xstrdup(arn);
		*found = 1;
	}
	lep_wipe(body.buf, body.len);
	lep_buf_release(&body);
	lep_wipe(tok.buf, tok.len);
	lep_buf_release(&tok);
	free(sess);
	return err;
}

static const struct lep_err *
sso(struct lep_aws_creds *out, int *found, struct chain *ch,
    const char *profile)
{
	const struct lep_err		*err = NULL;
	const struct aws_ini_sec	*ss = NULL;
	struct lep_json			*j = NULL, *rc;
	struct lep_http_resp		 r;
	struct lep_buf			 b = LEP_BUF_INIT;
	const char			*sname, *url, *reg, *acct, *role;
	const char			*tok, *ak, *sk, *st, *hdrs[1];
	const char			*home = env("HOME");
	char				 hex[LEP_SHA1_HEX];
	char				*path = NULL, *q = NULL, *hdr = NULL;
	char				*e1, *e2;
	long long			 exp, ms;

	*found = 0;
	lep_http_resp_init(&r);
	acct = prof_get(ch, profile, "sso_account_id");
	role = prof_get(ch, profile, "sso_role_name");
	if (acct == NULL && role == NULL)
		return NULL;
	sname = prof_get(ch, profile, "sso_session");
	if (sname != NULL) {
		if ((ss = aws_ini_find(&ch->cfg, AWS_SEC_SSO, sname)) == NULL)
			return lep_err_new(LEP_E_AUTH, "the specified "
			    "sso-session does not exist: \"%s\"", sname);
		url = aws_ini_get(ss, "sso_start_url");
		reg = aws_ini_get(ss, "sso_region");
	} else {
		url = prof_get(ch, profile, "sso_start_url");
		reg = prof_get(ch, profile, "sso_region");
	}
	if (url == NULL || reg == NULL || acct == NULL || role == NULL)
		return lep_err_new(LEP_E_AUTH, "the profile \"%s\" is "
		    "configured to use SSO but is missing required "
		    "configuration: %s%s%s%s", profile,
		    url == NULL ? "sso_start_url " : "",
		    reg == NULL ? "sso_region " : "",
		    acct == NULL ? "sso_account_id " : "",
		    role == NULL ? "sso_role_name" : "");
	/* The token cache: sha1 of the session's name, else of the URL. */
	e1 = (char *)(sname != NULL ? sname : url);
	if ((err = lep_sha1_hex(hex, e1, strlen(e1))) != NULL)
		return err;
	if (home == NULL)
		return lep_err_new(LEP_E_AUTH, "error loading SSO Token: no "
		    "HOME");
	path = xasprintf("%s/.aws/sso/cache/%s.json", home, hex);
	err = lep_creds_read_file(&b, path, LEP_CREDS_FILE_MAX);
	if (err != NULL && err->code == LEP_E_NOT_FOUND) {
		err = lep_err_hint(lep_err_new(LEP_E_AUTH, "error loading SSO "
		    "Token: Token for %s does not exist", e1), "run 'aws sso "
		    "login --profile %s'", profile);
		goto done;
	}
	if (err != NULL)
		goto done;
	if ((err = lep_json_parse(&j, b.buf, b.len, path)) != NULL) {
		err = lep_err_new(LEP_E_AUTH, "%s", err->msg);
		goto done;
	}
	tok = lep_json_get_str(j, "accessToken");
	exp = aws_parse_time(lep_json_get_str(j, "expiresAt"));
	if (tok == NULL || exp < 0) {
		err = lep_err_new(LEP_E_AUTH, "error loading SSO Token: %s: "
		    "no accessToken or expiresAt", path);
		goto done;
	}
	if (exp <= (long long)time(NULL)) {
		err = lep_err_hint(sname != NULL ? lep_err_new(LEP_E_AUTH,
		    "profile '%s': SSO token has expired and refresh failed "
		    "(lepton does not refresh SSO tokens)", profile) :
		    lep_err_new(LEP_E_AUTH, "profile '%s': the SSO session "
		    "associated with this profile has expired or is "
		    "otherwise invalid", profile), "run 'aws sso login "
		    "--profile %s'", profile);
		goto done;
	}
	e1 = aws_urlencode(role);
	e2 = aws_urlencode(acct);
	q = xasprintf("role_name=%s&account_id=%s", e1, e2);
	free(e1);
	free(e2);
	hdr = xasprintf("x-amz-sso_bearer_token: %s", tok);
	hdrs[0] = hdr;
	{
		struct lep_aws_req	 req = {
			.service = "sso",
			.region = reg,
			.method = "GET",
			.path = "/federation/credentials",
			.query = q,
			.headers = hdrs,
			.nheaders = 1,
			.max_body = AWS_STS_MAX,
			.timeout_ms = 30000,
		};

		err = lep_aws_call(&r, NULL, NULL, &req);
	}
	if (err != NULL) {
		err = lep_err_hint(lep_err_new(err->code, "profile '%s': SSO "
		    "GetRoleCredentials: %s", profile, err->msg),
		    "run 'aws sso login --profile %s'", profile);
		goto done;
	}
	lep_json_free_wiped(j);
	j = NULL;
	if ((err = lep_json_parse(&j, r.body.buf, r.body.len,
	    "sso")) != NULL)
		goto done;
	rc = lep_json_get(j, "roleCredentials");
	ak = lep_json_get_str(rc, "accessKeyId");
	sk = lep_json_get_str(rc, "secretAccessKey");
	st = lep_json_get_str(rc, "sessionToken");
	if (ak == NULL || sk == NULL || lep_json_get_ll(rc, "expiration",
	    &ms) != 0) {
		err = lep_err_new(LEP_E_PROVIDER, "sso: GetRoleCredentials: "
		    "no credentials in the answer");
		goto done;
	}
	set_keys(out, ak, sk, st, ms / 1000);
	out->method = "sso";
	out->detail = xstrdup(url);
	*found = 1;
done:
	if (hdr != NULL)
		lep_wipe(hdr, strlen(hdr));
	free(hdr);
	free(q);
	free(path);
	lep_json_free_wiped(j);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	lep_wipe(r.body.buf, r.body.len);
	lep_http_resp_release(&r);
	return err;
}

/* Read fd into b until EOF or the cap (then the rest is drained). */
static int
drain(int fd, struct lep_buf *b)
{
	char	 buf[4096];
	ssize_t	 n;

	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	(void)lep_buf_addn(b, buf, (size_t)n);
	lep_wipe(buf, (size_t)n);
	return 1;
}

/* Run argv (no shell): its stdout and stderr, its exit status. */
static const struct lep_err *
run_process(struct lep_buf *out, struct lep_buf *errb, char **argv,
    int *status)
{
	struct pollfd	 pfd[2];
	long long	 deadline = lep_now_ms() + AWS_PROCESS_TIMEOUT_MS;
	pid_t		 pid;
	int		 po[2], pe[2], open_n = 2, st = 0, i;

	lep_buf_init_max(out, AWS_PROCESS_MAX);
	lep_buf_init_max(errb, AWS_PROCESS_MAX);
	if (pipe2(po, O_CLOEXEC) == -1)
		return lep_err_errno(LEP_E_FAILED, "pipe");
	if (pipe2(pe, O_CLOEXEC) == -1) {
		close(po[0]);
		close(po[1]);
		return lep_err_errno(LEP_E_FAILED, "pipe");
	}
	if ((pid = fork()) == -1) {
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return lep_err_errno(LEP_E_FAILED, "fork");
	}
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_n > 0 && lep_now_ms() < deadline) {
		if (poll(pfd, 2, 1000) == -1 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents != 0 &&
			    !drain(pfd[i].fd, i == 0 ? out : errb)) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_n--;
			}
	}
	for (i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	if (open_n > 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (open_n > 0)
		return lep_err_new(LEP_E_TIMEOUT, "credential_process '%s' ran "
		    "past %d s", argv[0], AWS_PROCESS_TIMEOUT_MS / 1000);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return NULL;
}

static const struct lep_err *
process(struct lep_aws_creds *out, int *found, const char *profile,
    const char *cmd)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*j = NULL, *ver;
	struct lep_buf		 o = LEP_BUF_INIT, e = LEP_BUF_INIT;
	const char		*ak, *sk, *exp;
	char			**argv = NULL, *vs = NULL;
	long long		 v, t = 0;
	int			 argc, status = 0;

	*found = 0;
	if ((argc = aws_shell_split(&argv, cmd)) <= 0) {
		err = lep_err_new(LEP_E_AUTH, "profile '%s': "
		    "credential_process: %s", profile, argc == 0 ? "empty" :
		    "no closing quotation");
		goto done;
	}
	if ((err = run_process(&o, &e, argv, &status)) != NULL)
		goto done;
	if (status != 0) {
		while (e.len > 0 && isspace((unsigned char)e.buf[e.len - 1]))
			e.buf[--e.len] = '\0';
		err = lep_err_new(LEP_E_AUTH, "error when retrieving "
		    "credentials from custom-process: %s", e.buf);
		goto done;
	}
	if (o.overflow || lep_json_parse(&j, o.buf, o.len,
	    "credential_process") != NULL) {
		err = lep_err_new(LEP_E_AUTH, "error when retrieving "
		    "credentials from custom-process: '%s' did not print a "
		    "JSON object", argv[0]);
		goto done;
	}
	ver = lep_json_get(j, "Version");
	if (ver == NULL || lep_json_ll(ver, &v) != 0 || v != 1) {
		vs = ver == NULL ? xstrdup("<Version key not provided>") :
		    lep_json_print(ver, 0);
		err = lep_err_new(LEP_E_AUTH, "error when retrieving "
		    "credentials from custom-process: Unsupported version "
		    "'%s' for credential process provider, supported "
		    "versions: 1", vs);
		goto done;
	}
	ak = lep_json_get_str(j, "AccessKeyId");
	sk = lep_json_get_str(j, "SecretAccessKey");
	if (ak == NULL || sk == NULL) {
		err = lep_err_new(LEP_E_AUTH, "error when retrieving "
		    "credentials from custom-process: Missing required key in "
		    "response: %s", ak == NULL ? "AccessKeyId" :
		    "SecretAccessKey");
		goto done;
	}
	if ((exp = lep_json_get_str(j, "Expiration")) != NULL &&
	    (t = aws_parse_time(exp)) < 0) {
		err = lep_err_new(LEP_E_AUTH, "credential_process: "
		    "Expiration: not a time: '%s'", exp);
		goto done;
	}
	set_keys(out, ak, sk, lep_json_get_str(j, "SessionToken"), t);
	out->method = "custom-process";
	out->detail = xstrdup(argv[0]);
	*found = 1;
done:
	free(vs);
	lep_json_free_wiped(j);
	lep_wipe(o.buf, o.len);
	lep_buf_release(&o);
	lep_buf_release(&e);
	if (argc > 0)
		lep_strv_free(argv, (size_t)argc);
	else
		free(argv);
	return err;
}

/*
 * The credentials of a source_profile, as botocore resolves them: its
 * own role, web identity, SSO, process, else its static keys.
 */
static const struct lep_err *
resolve_profile_source(struct lep_aws_creds *out, struct chain *ch,
    const char *p, const char *from)
{
	const struct lep_err	*err;
	const char		*ak, *sk, *cmd;
	int			 found = 0;

	if (prof_get(ch, p, "role_arn") != NULL &&
	    prof_get(ch, p, "web_identity_token_file") == NULL &&
	    strcmp(p, from) != 0)
		return assume_role(out, ch, p);
	if (prof_get(ch, p, "web_identity_token_file") != NULL)
		return web_identity(out, &found, ch, p);
	if ((err = sso(out, &found, ch, p)) != NULL || found)
		return err;
	if ((cmd = prof_get(ch, p, "credential_process")) != NULL)
		return process(out, &found, p, cmd);
	ak = prof_get(ch, p, "aws_access_key_id");
	sk = prof_get(ch, p, "aws_secret_access_key");
	if (ak == NULL && sk == NULL)
		return lep_err_new(LEP_E_AUTH, "the source_profile \"%s\" must "
		    "specify either static credentials or an assume role "
		    "configuration", p);
	if (ak == NULL || sk == NULL)
		return lep_err_new(LEP_E_AUTH, "partial credentials found in "
		    "%s, missing: %s", p, ak == NULL ? "aws_access_key_id" :
		    "aws_secret_access_key");
	set_keys(out, ak, sk, prof_get(ch, p, "aws_session_token"), 0);
	return NULL;
}

static char *
resolve_region(const struct chain *ch, const char *profile)
{
	const char	*v;

	if (ch->opts != NULL && ch->opts->region != NULL &&
	    *ch->opts->region != '\0')
		return xstrdup(ch->opts->region);
	/* AWS_REGION: every SDK and the aws CLI v2 read it; botocore 1.43
	   does not (the one deviation, see lep_aws_creds_resolve). */
	if ((v = env("AWS_REGION")) != NULL ||
	    (v = env("AWS_DEFAULT_REGION")) != NULL)
		return xstrdup(v);
	/* The profile's own: [default]'s is not inherited. */
	v = prof_get(ch, profile, "region");
	return v != NULL ? xstrdup(v) : NULL;
}

const struct lep_err *
lep_aws_creds_resolve(struct lep_aws_creds *out,
    const struct lep_aws_opts *opts)
{
	const struct lep_err	*err = NULL;
	struct chain		 ch;
	const char		*profile, *cmd;
	int			 explicit, found = 0;

	memset(out, 0, sizeof(*out));
	memset(&ch, 0, sizeof(ch));
	ch.opts = opts;
	explicit = opts != NULL && opts->profile != NULL &&
	    *opts->profile != '\0';
	profile = explicit ? opts->profile : env("AWS_PROFILE");
	if ((err = load_ini(&ch.cfg, &ch.cfg_path, "AWS_CONFIG_FILE",
	    "config", 1)) != NULL ||
	    (err = load_ini(&ch.cred, &ch.cred_path,
	    "AWS_SHARED_CREDENTIALS_FILE", "credentials", 0)) != NULL)
		goto done;
	/* A profile named, even "default", must exist: botocore's
	   ProfileNotFound, whatever keys the environment holds. */
	if (profile != NULL && cfg_profile(&ch, profile) == NULL &&
	    cred_profile(&ch, profile) == NULL) {
		err = lep_err_new(LEP_E_AUTH, "the config profile (%s) could "
		    "not be found", profile);
		goto done;
	}
	if (profile == NULL)
		profile = "default";
	out->region = resolve_region(&ch, profile);
	ch.region = out->region;

	/* As aws --profile: an explicit profile drops the env keys. */
	if (!explicit && ((err = from_env(out, &found)) != NULL || found))
		goto done;
	out->profile = xstrdup(profile);
	if (prof_get(&ch, profile, "role_arn") != NULL &&
	    prof_get(&ch, profile, "web_identity_token_file") == NULL) {
		err = assume_role(out, &ch, profile);
		goto done;
	}
	if ((err = web_identity(out, &found, &ch, profile)) != NULL || found)
		goto done;
	if ((err = sso(out, &found, &ch, profile)) != NULL || found)
		goto done;
	if ((err = static_keys(out, &found, cred_profile(&ch, profile),
	    "shared-credentials-file", ch.cred_path)) != NULL || found)
		goto done;
	if ((cmd = prof_get(&ch, profile, "credential_process")) != NULL) {
		err = process(out, &found, profile, cmd);
		goto done;
	}
	if ((err = static_keys(out, &found, cfg_profile(&ch, profile),
	    "config-file", ch.cfg_path)) != NULL || found)
		goto done;
	err = lep_err_hint(lep_err_new(LEP_E_AUTH, "unable to locate "
	    "credentials"), "run 'aws configure', or set AWS_PROFILE or "
	    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
done:
	if (err != NULL)
		clear_keys(out);
	if (out->access_key == NULL && err == NULL)
		err = lep_err_new(LEP_E_INTERNAL, "aws: no keys and no error");
	aws_ini_free(&ch.cfg);
	aws_ini_free(&ch.cred);
	free(ch.cfg_path);
	free(ch.cred_path);
	return err;
}

void
lep_aws_creds_release(struct lep_aws_creds *c)
{
	if (c == NULL)
		return;
	clear_keys(c);
	free(c->region);
	free(c->profile);
	free(c->detail);
	memset(c, 0, sizeof(*c));
}
