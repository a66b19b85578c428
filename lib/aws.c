/*
 * aws.c: AWS endpoints, one signed call with the SDKs' standard retry
 * mode, AWS errors from JSON or XML answers, and STS GetCallerIdentity.
 * The credential chain is in aws-creds.c.
 */
#include "aws.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "aws-priv.h"
#include "crypto.h"
#include "error.h"
#include "fs.h"
#include "http.h"
#include "json.h"
#include "sigv4.h"
#include "util.h"

/* The services lepton calls: the SDKs' service id, host and signing name. */
static const struct aws_service {
	const char	*name;		/* lep_aws_req.service */
	const char	*id;		/* AWS_ENDPOINT_URL_<id> */
	const char	*host;		/* before ".REGION.amazonaws.com" */
	const char	*signing;	/* SigV4's service */
} aws_services[] = {
	{ .name = "sagemaker", .id = "SAGEMAKER", .host = "api.sagemaker",
	  .signing = "sagemaker" },
	{ .name = "runtime.sagemaker", .id = "SAGEMAKER_RUNTIME",
	  .host = "runtime.sagemaker", .signing = "sagemaker" },
	{ .name = "s3", .id = "S3", .host = "s3", .signing = "s3" },
	{ .name = "sts", .id = "STS", .host = "sts", .signing = "sts" },
	{ .name = "logs", .id = "CLOUDWATCH_LOGS", .host = "logs",
	  .signing = "logs" },
	{ .name = "sso", .id = "SSO", .host = "portal.sso",
	  .signing = "awsssoportal" },
};

static const struct aws_service *
aws_service(const char *name)
{
	size_t	 i;

	for (i = 0; name != NULL && i < LEP_ARRAY_SIZE(aws_services); i++)
		if (strcmp(aws_services[i].name, name) == 0)
			return &aws_services[i];
	return NULL;
}

/* An endpoint from the environment: no trailing '/', and its scheme and
   host in lower case, as they are signed (lep_sigv4_req.url). */
static char *
endpoint_norm(const char *url)
{
	size_t	 n = strlen(url);
	char	*u, *p;

	while (n > 0 && url[n - 1] == '/')
		n--;
	u = xstrndup(url, n);
	p = strstr(u, "://");
	for (p = p != NULL ? p + 3 : u; *p != '\0' && *p != '/'; p++)
		*p = (char)tolower((unsigned char)*p);
	for (p = u; *p != '\0' && *p != ':'; p++)
		*p = (char)tolower((unsigned char)*p);
	return u;
}

char *
lep_aws_endpoint(const char *service, const char *region, const char **from)
{
	static _Thread_local char	 var[64];
	const struct aws_service	*s;
	const char			*v, *ign;

	if (from != NULL)
		*from = "default";
	if ((s = aws_service(service)) == NULL)
		return NULL;
	/* As botocore: this one variable turns both overrides off. */
	ign = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	if (ign == NULL || strcasecmp(ign, "true") != 0) {
		snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", s->id);
		if ((v = getenv(var)) != NULL && *v != '\0') {
			if (from != NULL)
				*from = var;
			return endpoint_norm(v);
		}
		if ((v = getenv("AWS_ENDPOINT_URL")) != NULL && *v != '\0') {
			if (from != NULL)
				*from = "AWS_ENDPOINT_URL";
			return endpoint_norm(v);
		}
	}
	/* STS without a region: the global endpoint, as botocore. */
	if (region == NULL || *region == '\0') {
		if (strcmp(s->name, "sts") == 0)
			return xstrdup("https://sts.amazonaws.com");
		region = "us-east-1";
	}
	return xasprintf("https://%s.%s.amazonaws.com%s", s->host, region,
	    lep_starts_with(region, "cn-") ? ".cn" : "");
}

char *
aws_urlencode(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	struct lep_buf		 b;
	unsigned char		 c;

	lep_buf_init(&b, strlen(s) * 3 + 1);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' ||
		    c == '~')
			lep_buf_addch(&b, c);
		else {
			lep_buf_addch(&b, '%');
			lep_buf_addch(&b, hex[c >> 4]);
			lep_buf_addch(&b, hex[c & 15]);
		}
	}
	return lep_buf_detach(&b, NULL);
}

static void
xml_unescape(char *s)
{
	static const struct {
		const char	*ent;
		char		 c;
	} ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	char	*r, *w;
	size_t	 i, k;

	for (r = w = s; *r != '\0';) {
		for (i = 0; *r == '&' && i < LEP_ARRAY_SIZE(ents); i++) {
			k = strlen(ents[i].ent);
			if (strncmp(r, ents[i].ent, k) == 0)
				break;
		}
		if (*r == '&' && i < LEP_ARRAY_SIZE(ents)) {
			*w++ = ents[i].c;
			r += strlen(ents[i].ent);
		} else
			*w++ = *r++;
	}
	*w = '\0';
}

char *
aws_xml_text(const char *xml, const char *tag)
{
	char		*open, *close, *v;
	const char	*p, *e;

	open = xasprintf("<%s>", tag);
	close = xasprintf("</%s>", tag);
	v = NULL;
	if ((p = strstr(xml, open)) != NULL) {
		p += strlen(open);
		if ((e = strstr(p, close)) != NULL) {
			v = xstrndup(p, e - p);
			xml_unescape(v);
		}
	}
	free(open);
	free(close);
	return v;
}

/* "com.amazon.coral#ValidationException:http://..." -> the name. */
static char *
error_name(const char *s)
{
	const char	*h, *e;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((h = strrchr(s, '#')) != NULL)
		s = h + 1;
	e = strchr(s, ':');
	return xstrndup(s, e != NULL ? (size_t)(e - s) : strlen(s));
}

void
aws_parse_error(char **code, char **msg, const struct lep_http_resp *r)
{
	struct lep_json	*j = NULL;
	const char	*b = r->body.buf, *s;
	char		*h;

	*code = NULL;
	*msg = NULL;
	if ((h = lep_http_resp_header(r, "X-Amzn-Errortype")) != NULL) {
		*code = error_name(h);
		free(h);
	}
	while (*b != '\0' && isspace((unsigned char)*b))
		b++;
	if (*b == '{' && lep_json_parse(&j, r->body.buf, r->body.len,
	    "error") == NULL) {
		if (*code == NULL && (s = lep_json_get_str(j, "__type")) !=
		    NULL)
			*code = error_name(s);
		if (*code == NULL && ((s = lep_json_get_str(j, "code")) !=
		    NULL || (s = lep_json_get_str(j, "Code")) != NULL))
			*code = error_name(s);
		if ((s = lep_json_get_str(j, "message")) != NULL ||
		    (s = lep_json_get_str(j, "Message")) != NULL ||
		    (s = lep_json_get_str(j, "errorMessage")) != NULL)
			*msg = xstrdup(s);
		lep_json_free(j);
		return;
	}
	lep_json_free(j);
	/* XML: <Error><Code>, moto's <ErrorResponse> (even as text/html). */
	if (*b == '<') {
		if (*code == NULL)
			*code = aws_xml_text(b, "Code");
		*msg = aws_xml_text(b, "Message");
	}
}

int
aws_is_throttle(const char *code)
{
	static const char *const codes[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded",
		"BandwidthLimitExceeded", "LimitExceededException",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException",
	};
	size_t	 i;

	for (i = 0; code != NULL && i < LEP_ARRAY_SIZE(codes); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

int
aws_is_transient(const char *code, long status)
{
	static const char *const codes[] = {
		"RequestTimeout", "RequestTimeoutException",
		"PriorRequestNotComplete",
	};
	size_t	 i;

	for (i = 0; code != NULL && i < LEP_ARRAY_SIZE(codes); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return status == 500 || status == 502 || status == 503 ||
	    status == 504;
}

int
aws_is_auth(const char *code, long status)
{
	static const char *const codes[] = {
		"SignatureDoesNotMatch", "InvalidClientTokenId",
		"UnrecognizedClientException", "ExpiredToken",
		"ExpiredTokenException", "InvalidAccessKeyId",
		"InvalidSignatureException", "MissingAuthenticationToken",
		"MissingAuthenticationTokenException", "IncompleteSignature",
		"AuthFailure", "InvalidToken", "UnauthorizedException",
		"RequestExpired",
	};
	size_t	 i;

	if (code == NULL)
		return status == 401 || status == 403;
	if (lep_starts_with(code, "AccessDenied"))
		return 1;
	for (i = 0; i < LEP_ARRAY_SIZE(codes); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

long long
aws_backoff_ms(int n, double r, long long retry_after_ms)
{
	long long	 ms;

	if (n < 1)
		n = 1;
	ms = n > 16 ? AWS_BACKOFF_MAX_MS :
	    (long long)(r * 1000.0 * (double)(1LL << (n - 1)));
	if (ms > AWS_BACKOFF_MAX_MS)
		ms = AWS_BACKOFF_MAX_MS;
	if (retry_after_ms > ms)
		ms = retry_after_ms;
	return ms;
}

static double
jitter(void)
{
	unsigned int	 v = 0;

	if (lep_random_bytes(&v, sizeof(v)) != NULL)
		v = (unsigned int)time(NULL);
	return (double)(v >> 8) / (double)(1u << 24);
}

static void
sleep_ms(long long ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
method_idempotent(const char *m)
{
	return m != NULL && (strcmp(m, "GET") == 0 ||
	    strcmp(m, "HEAD") == 0 || strcmp(m, "PUT") == 0 ||
	    strcmp(m, "DELETE") == 0 || strcmp(m, "OPTIONS") == 0);
}

/* The hex SHA-256 of the range of a file that is the body (S3 parts). */
static const struct lep_err *
file_hash(char hex[LEP_SHA256_HEX], const struct lep_aws_req *req)
{
	const struct lep_err	*err;
	struct lep_sha256	*h = NULL;
	char			*buf = NULL;
	long long		 done = 0;
	ssize_t			 r;
	size_t			 want;
	int			 fd = -1;

	if ((err = lep_open_read(&fd, req->body_file, 0)) != NULL)
		return err;
	if ((err = lep_sha256_new(&h)) != NULL)
		goto done;
	buf = xmalloc(1 << 16);
	while (done < req->file_len) {
		want = req->file_len - done > (1 << 16) ? (1 << 16) :
		    (size_t)(req->file_len - done);
		r = pread(fd, buf, want, (off_t)(req->file_offset + done));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0) {
			err = lep_err_new(LEP_E_FAILED, "'%s': shorter than "
			    "%lld bytes", req->body_file,
			    req->file_offset + req->file_len);
			goto done;
		}
		if (r < 0) {
			err = lep_err_errno(LEP_E_FAILED, "'%s'",
			    req->body_file);
			goto done;
		}
		lep_sha256_update(h, buf, (size_t)r);
		done += r;
	}
	lep_sha256_final(h, hex);
	h = NULL;
done:
	lep_sha256_free(h);
	free(buf);
	close(fd);
	return err;
}

/*
 * msg as it may be printed (caller frees): a server's words, which may
 * echo the request (a proxy's page quoting X-Amz-Security-Token), with
 * the secret key and session token cut out and control characters
 * (a terminal's escapes) made spaces.
 */
static char *
redact(const char *msg, const struct lep_aws_creds *c)
{
	const char	*secrets[2], *p, *hit;
	char		*s, *t;
	size_t		 i, n;

	s = xstrdup(msg);
	secrets[0] = c != NULL ? c->secret_key : NULL;
	secrets[1] = c != NULL ? c->session_token : NULL;
	for (i = 0; i < 2; i++) {
		if (secrets[i] == NULL || (n = strlen(secrets[i])) < 8)
			continue;
		while ((hit = strstr(s, secrets[i])) != NULL) {
			p = hit + n;
			t = xasprintf("%.*s[redacted]%s", (int)(hit - s), s, p);
			lep_wipe(s, strlen(s));
			free(s);
			s = t;
		}
	}
	for (t = s; *t != '\0'; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f)
			*t = ' ';
	return s;
}

/* The error for a final answer of status >= 300. */
static const struct lep_err *
answer_error(const struct lep_aws_creds *creds, const struct lep_aws_req *req,
    const struct lep_http_resp *r, const char *code, const char *msg0)
{
	const struct lep_err	*err;
	char			 body[201], *msg;
	size_t			 i, n;

	if (msg0 == NULL && code == NULL) {
		/* Neither JSON nor XML: the start of the body says more
		   than the status alone (moto's HTML on a 500). */
		n = r->body.len < sizeof(body) - 1 ? r->body.len :
		    sizeof(body) - 1;
		for (i = 0; i < n; i++)
			body[i] = r->body.buf[i] == '\n' ? ' ' :
			    r->body.buf[i];
		body[n] = '\0';
		msg0 = n > 0 ? body : "no error message";
	}
	msg = redact(msg0 != NULL ? msg0 : "", creds);
	if (aws_is_auth(code, r->status) && r->status >= 400 &&
	    r->status < 500 && creds == NULL)
		err = lep_err_new(LEP_E_AUTH, "%s: %s%s%s (HTTP %ld)",
		    req->service, code != NULL ? code : "",
		    code != NULL ? ": " : "", msg, r->status);
	else if (aws_is_auth(code, r->status) && r->status >= 400 &&
	    r->status < 500) {
		err = lep_err_new(LEP_E_AUTH, "%s: %s%s%s (HTTP %ld; "
		    "credentials from %s%s%s%s%s%s)", req->service,
		    code != NULL ? code : "", code != NULL ? ": " : "", msg,
		    r->status, creds->method, creds->profile != NULL ?
		    ", profile '" : "", creds->profile != NULL ?
		    creds->profile : "", creds->profile != NULL ? "'" : "",
		    creds->detail != NULL ? ", " : "", creds->detail != NULL ?
		    creds->detail : "");
		err = lep_err_hint(err, "check them with 'aws sts "
		    "get-caller-identity%s%s'", creds->profile != NULL ?
		    " --profile " : "", creds->profile != NULL ?
		    creds->profile : "");
	} else
		err = lep_err_new(LEP_E_PROVIDER, "%s: %s%s%s (HTTP %ld)",
		    req->service, code != NULL ? code : "",
		    code != NULL ? ": " : "", msg, r->status);
	free(msg);
	return lep_err_http(err, (int)r->status);
}

const struct lep_err *
lep_aws_call(struct lep_http_resp *resp, char **code,
    const struct lep_aws_creds *creds, const struct lep_aws_req *req)
{
	const struct lep_err	*err = NULL;
	const struct aws_service *svc;
	struct lep_sigv4_keys	 keys;
	struct lep_sigv4_req	 sr;
	struct lep_sigv4_out	 so;
	struct lep_http_req	 hr;
	struct lep_http_resp	 r;
	const char		*region, *sign_hdrs[64], *http_hdrs[72];
	const char		*from = NULL;
	char			*base = NULL, *url = NULL, *ctline = NULL;
	char			*target = NULL, *ecode = NULL, *emsg = NULL;
	char			 hash[LEP_SHA256_HEX];
	size_t			 ns = 0, nh, i;
	long long		 wait;
	int			 attempt, retry, idem;

	if (code != NULL)
		*code = NULL;
	lep_http_resp_init(resp);
	lep_http_resp_init(&r);
	memset(&so, 0, sizeof(so));
	if ((svc = aws_service(req->service)) == NULL)
		return lep_err_new(LEP_E_INTERNAL, "aws: unknown service '%s'",
		    req->service != NULL ? req->service : "(null)");
	if (req->nheaders > 48)
		return lep_err_new(LEP_E_INTERNAL, "aws: too many headers");
	region = req->region != NULL ? req->region : creds != NULL &&
	    creds->region != NULL ? creds->region : "us-east-1";
	base = lep_aws_endpoint(req->service, region, &from);
	url = xasprintf("%s%s%s%s", base, req->path != NULL ? req->path : "/",
	    req->query != NULL && *req->query != '\0' ? "?" : "",
	    req->query != NULL ? req->query : "");
	if (req->body_file != NULL && (err = file_hash(hash, req)) != NULL)
		goto done;
	if (req->content_type != NULL) {
		ctline = xasprintf("Content-Type: %s", req->content_type);
		sign_hdrs[ns++] = ctline;
	}
	if (req->target != NULL) {
		target = xasprintf("X-Amz-Target: %s", req->target);
		sign_hdrs[ns++] = target;
	}
	for (i = 0; i < req->nheaders; i++)
		sign_hdrs[ns++] = req->headers[i];
	idem = req->idempotent || method_idempotent(req->method);

	for (attempt = 1;; attempt++) {
		nh = 0;
		for (i = 0; i < ns; i++)	/* http.c adds Content-Type */
			if (sign_hdrs[i] != ctline || (req->body == NULL &&
			    req->body_file == NULL))
				http_hdrs[nh++] = sign_hdrs[i];
		if (creds != NULL) {
			keys.access_key = creds->access_key;
			keys.secret_key = creds->secret_key;
			keys.session_token = creds->session_token;
			memset(&sr, 0, sizeof(sr));
			sr.method = req->method;
			sr.url = url;
			sr.headers = sign_hdrs;
			sr.nheaders = ns;
			sr.payload = req->body;
			sr.payload_len = req->body_len;
			sr.payload_hash = req->body_file != NULL ? hash : NULL;
			sr.region = region;
			sr.service = svc->signing;
			sr.flags = req->s3 ? LEP_SIGV4_S3 : 0;
			err = lep_sigv4_sign(&so, &keys, &sr);
			/* A URL it cannot sign: name where it came from. */
			if (err != NULL && err->code == LEP_E_USAGE)
				err = lep_err_new(LEP_E_USAGE, "%s endpoint %s "
				    "(from %s): %s", req->service, base, from,
				    err->msg);
			if (err != NULL)
				goto done;
			for (i = 0; i < so.nheaders; i++)
				http_hdrs[nh++] = so.headers[i];
		}
		memset(&hr, 0, sizeof(hr));
		hr.method = req->method;
		hr.url = url;
		hr.body = req->body;
		hr.body_len = req->body_len;
		/* A POST or PUT with no body is still one (curl: a GET). */
		if (hr.body == NULL && req->body_file == NULL &&
		    !lep_streq(req->method, "GET") &&
		    !lep_streq(req->method, "HEAD") &&
		    !lep_streq(req->method, "DELETE"))
			hr.body = "";
		hr.body_file = req->body_file;
		hr.file_offset = req->file_offset;
		hr.file_len = req->file_len;
		hr.content_type = req->content_type;
		hr.headers = http_hdrs;
		hr.nheaders = nh;
		hr.timeout_ms = req->timeout_ms;
		hr.max_body = req->max_body;
		hr.retries = 0;		/* the retry mode is ours, below */
		lep_http_resp_release(&r);
		lep_http_resp_init(&r);
		err = lep_http_do(&r, &hr);
		lep_sigv4_out_release(&so);
		memset(&so, 0, sizeof(so));
		free(ecode);
		free(emsg);
		ecode = emsg = NULL;
		if (err != NULL) {
			if (err->code == LEP_E_INTERRUPTED ||
			    err->code == LEP_E_INTERNAL)
				goto done;
			/* Nothing sent: safe to repeat whatever it is. */
			retry = !r.maybe_sent || idem;
		} else if (r.status < 300)
			break;
		else {
			aws_parse_error(&ecode, &emsg, &r);
			/* A throttled request was not acted on; a 5xx or a
			   timeout may have been. */
			retry = aws_is_throttle(ecode) || r.status == 429 ||
			    (idem && aws_is_transient(ecode, r.status));
		}
		if (!retry || attempt >= AWS_MAX_ATTEMPTS ||
		    r.retry_after_ms > LEP_HTTP_RETRY_AFTER_MAX_MS)
			break;
		wait = aws_backoff_ms(attempt, jitter(), r.retry_after_ms);
		sleep_ms(wait);
		err = NULL;
	}
	if (err == NULL && r.status >= 300)
		err = answer_error(creds, req, &r, ecode, emsg);
	if (err != NULL && attempt > 1)
		err = lep_err_hint(err, "after %d attempts", attempt);
	if (code != NULL) {
		*code = ecode;
		ecode = NULL;
	}
	lep_http_resp_release(resp);
	*resp = r;
	lep_http_resp_init(&r);
done:
	lep_sigv4_out_release(&so);
	lep_http_resp_release(&r);
	free(base);
	free(url);
	free(ctline);
	free(target);
	free(ecode);
	free(emsg);
	return err;
}

const struct lep_err *
lep_aws_whoami(char **account, char **arn, const struct lep_aws_creds *creds)
{
	static const char	 body[] =
	    "Action=GetCallerIdentity&Version=2011-06-15";
	const struct lep_err	*err;
	struct lep_http_resp	 r;
	struct lep_aws_req	 req = {
		.service = "sts",
		.method = "POST",
		.path = "/",
		.content_type = "application/x-www-form-urlencoded; "
		    "charset=utf-8",
		.body = body,
		.body_len = sizeof(body) - 1,
		.idempotent = 1,
		.max_body = AWS_STS_MAX,
		.timeout_ms = 30000,
	};

	*account = *arn = NULL;
	err = lep_aws_call(&r, NULL, creds, &req);
	if (err == NULL) {
		*account = aws_xml_text(r.body.buf, "Account");
		*arn = aws_xml_text(r.body.buf, "Arn");
		if (*account == NULL || *arn == NULL)
			err = lep_err_new(LEP_E_PROVIDER, "sts: "
			    "GetCallerIdentity: no Account or Arn in the "
			    "answer");
	}
	if (err != NULL) {
		free(*account);
		free(*arn);
		*account = *arn = NULL;
	}
	lep_http_resp_release(&r);
	return err;
}

const struct lep_err *
lep_aws_probe(struct lep_json **out, const struct lep_aws_opts *opts)
{
	const struct lep_err	*err;
	struct lep_aws_creds	 c;
	char			*account = NULL, *arn = NULL, t[32], *k;
	size_t			 n;

	*out = NULL;
	if ((err = lep_aws_creds_resolve(&c, opts)) == NULL)
		err = lep_aws_whoami(&account, &arn, &c);
	if (err == NULL) {
		*out = lep_json_obj();
		lep_json_set_str(*out, "source", c.method);
		lep_json_set_str(*out, "profile", c.profile);
		lep_json_set_str(*out, "region", c.region);
		lep_json_set_str(*out, "detail", c.detail);
		n = strlen(c.access_key);
		k = xasprintf("****%s", n > 4 ? c.access_key + n - 4 : "");
		lep_json_set_str(*out, "access_key", k);
		free(k);
		if (c.expires != 0) {
			lep_format_time(t, sizeof(t), c.expires);
			lep_json_set_str(*out, "expires", t);
		}
		lep_json_set_str(*out, "account", account);
		lep_json_set_str(*out, "arn", arn);
	}
	free(account);
	free(arn);
	lep_aws_creds_release(&c);
	return err;
}
