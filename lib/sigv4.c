/*
 * sigv4.c: AWS Signature Version 4, rule for rule as botocore's SigV4Auth
 * and S3SigV4Auth compute it: the canonical request, the string to sign,
 * the HMAC key chain and the headers a request must carry.
 */
#include "sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto.h"
#include "error.h"
#include "util.h"

#define SV4_DATE_LEN	16		/* "20150830T123600Z" */
#define SV4_UNSIGNED	"UNSIGNED-PAYLOAD"

/*
 * Headers never signed: botocore's SIGNED_HEADERS_BLACKLIST, the
 * hop-by-hop headers a proxy may change or drop and those a client or a
 * tracer rewrites.
 */
static const char *const sv4_skip[] = {
	"connection", "expect", "keep-alive", "proxy-authenticate",
	"proxy-authorization", "te", "trailer", "transfer-encoding",
	"upgrade", "user-agent", "x-amzn-trace-id",
};

struct sv4_hdr {
	char	*name;		/* lower case */
	char	*value;		/* trimmed, inner whitespace collapsed */
	size_t	 seq;		/* as given: values of one name keep order */
};

struct sv4_param {
	char	*name;		/* encoded */
	char	*value;		/* encoded */
};

struct sv4_sign {
	struct sv4_hdr	*hdrs;
	size_t		 nhdrs;
	char		*host;		/* from the URL: "host[:port]" */
	const char	*path;		/* in the URL, not NUL-terminated */
	size_t		 npath;
	const char	*query;
	size_t		 nquery;
	const char	*date;		/* one of the headers', or date */
	char		 date_buf[SV4_DATE_LEN + 1];
	const char	*hash;		/* the payload's, or UNSIGNED */
	char		 hash_buf[LEP_SHA256_HEX];
	int		 have_host, have_token, have_sha;
};

static int
sv4_unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

/* Python's str.split() whitespace, in ASCII. */
static int
sv4_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
	    c == '\f' || c == '\r' || (c >= 0x1c && c <= 0x1f);
}

static int
sv4_ctl(int c)
{
	return (c >= 0 && c < 0x20) || c == 0x7f;
}

static int
sv4_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* RFC 3986 encoding of n bytes: unreserved ones (and '/' if slash) kept. */
static void
sv4_encode(struct lep_buf *b, const char *p, size_t n, int slash)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;
	char			 esc[3];
	size_t			 i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (sv4_unreserved(c) || (slash && c == '/'))
			lep_buf_addch(b, c);
		else {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 0xf];
			lep_buf_addn(b, esc, 3);
		}
	}
}

/*
 * A query name or value as the service decodes and encodes it again:
 * "%e1%88%b4", "%E1%88%B4" and the raw UTF-8 bytes all sign as
 * "%E1%88%B4". A '+' is a plus, not a space (send spaces as %20).
 */
static char *
sv4_reencode(const char *p, size_t n)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	char		 c;
	size_t		 i;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '%' && n - i > 2 && lep_hex_digit(p[i + 1]) >= 0 &&
		    lep_hex_digit(p[i + 2]) >= 0) {
			c = (char)(lep_hex_digit(p[i + 1]) * 16 +
			    lep_hex_digit(p[i + 2]));
			i += 2;
		}
		sv4_encode(&b, &c, 1, 0);
	}
	return lep_buf_detach(&b, NULL);
}

/*
 * The URL's parts, as Python's urlsplit() cuts them, and the Host header
 * botocore derives from them (_host_from_url): lower case, no userinfo,
 * the port only when it is not the scheme's default.
 */
static const struct lep_err *
sv4_parse_url(struct sv4_sign *s, const char *url)
{
	const char	*p, *auth, *end, *host, *hend, *port;
	long		 num = -1, def = -1;
	size_t		 i, nscheme;
	char		*h;

	for (p = url; *p != '\0'; p++)
		if (sv4_ctl((unsigned char)*p))
			goto bad;
	if ((p = strstr(url, "://")) == NULL || p == url)
		goto bad;
	nscheme = (size_t)(p - url);
	for (i = 0; i < nscheme; i++)
		if (!sv4_unreserved((unsigned char)url[i]) && url[i] != '+')
			goto bad;
	if (nscheme == 4 && strncasecmp(url, "http", 4) == 0)
		def = 80;
	else if (nscheme == 5 && strncasecmp(url, "https", 5) == 0)
		def = 443;
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	for (host = end; host > auth && host[-1] != '@'; host--)
		;
	if (*host == '[') {
		if ((hend = memchr(host, ']', (size_t)(end - host))) == NULL)
			goto bad;
		hend++;
	} else if ((hend = memchr(host, ':', (size_t)(end - host))) == NULL)
		hend = end;
	if (hend == host || (hend < end && *hend != ':'))
		goto bad;
	if (hend < end && hend + 1 < end) {
		for (num = 0, port = hend + 1; port < end; port++) {
			if (*port < '0' || *port > '9')
				goto bad;
			if ((num = num * 10 + (*port - '0')) > 65535)
				goto bad;
		}
	}
	h = xstrndup(host, (size_t)(hend - host));
	for (p = h; *p != '\0'; p++)
		h[p - h] = (char)sv4_lower((unsigned char)*p);
	if (num != -1 && num != def) {
		s->host = xasprintf("%s:%ld", h, num);
		free(h);
	} else
		s->host = h;
	s->path = end;
	s->npath = strcspn(end, "?#");
	if (end[s->npath] == '?') {
		s->query = end + s->npath + 1;
		s->nquery = strcspn(s->query, "#");
	}
	return NULL;
bad:
	return lep_err_new(LEP_E_USAGE, "sigv4: cannot parse the URL");
}

/*
 * Other services: dot segments and empty segments removed (botocore's
 * remove_dot_segments), then every byte but '/' and the unreserved ones
 * encoded, so that the path as sent, already encoded, is encoded twice.
 */
static void
sv4_uri(struct lep_buf *b, const char *p, size_t n)
{
	const char	**seg = NULL;
	size_t		 *len = NULL, nseg = 0, i, start, l;

	if (n == 0) {
		lep_buf_addch(b, '/');
		return;
	}
	seg = xreallocarray(NULL, n, sizeof(*seg));
	len = xreallocarray(NULL, n, sizeof(*len));
	for (start = 0; start <= n; start = i + 1) {
		for (i = start; i < n && p[i] != '/'; i++)
			;
		l = i - start;
		if (l == 0 || (l == 1 && p[start] == '.'))
			continue;
		if (l == 2 && p[start] == '.' && p[start + 1] == '.') {
			if (nseg > 0)
				nseg--;
			continue;
		}
		seg[nseg] = p + start;
		len[nseg++] = l;
	}
	if (p[0] == '/')
		lep_buf_addch(b, '/');
	for (i = 0; i < nseg; i++) {
		if (i > 0)
			lep_buf_addch(b, '/');
		sv4_encode(b, seg[i], len[i], 0);
	}
	if (p[n - 1] == '/' && nseg > 0)
		lep_buf_addch(b, '/');
	free(seg);
	free(len);
}

/*
 * S3: the path as sent, neither normalised nor encoded again (an object
 * key may hold "//" and "."). Only bytes that cannot be sent raw in a URL
 * (space, controls, non-ASCII, "<>\^`{|}) are encoded, once.
 */
static void
sv4_uri_s3(struct lep_buf *b, const char *p, size_t n)
{
	unsigned char	 c;
	size_t		 i;

	if (n == 0)
		lep_buf_addch(b, '/');
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c) != NULL)
			sv4_encode(b, p + i, 1, 0);
		else
			lep_buf_addch(b, c);
	}
}

static int
sv4_param_cmp(const void *a, const void *b)
{
	const struct sv4_param	*x = a, *y = b;
	int			 r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	return strcmp(x->value, y->value);
}

/*
 * Every name=value pair re-encoded, sorted by name then value; a name with
 * no value keeps its '='; empty pairs ("a=1&&b=2") are dropped.
 */
static void
sv4_query(struct lep_buf *b, const char *q, size_t n)
{
	struct sv4_param	*par = NULL;
	const char		*amp, *eq, *end = q + n;
	size_t			 npar = 0, i;

	while (q < end) {
		if ((amp = memchr(q, '&', (size_t)(end - q))) == NULL)
			amp = end;
		if (amp > q) {
			if ((eq = memchr(q, '=', (size_t)(amp - q))) == NULL)
				eq = amp;
			par = xreallocarray(par, npar + 1, sizeof(*par));
			par[npar].name = sv4_reencode(q, (size_t)(eq - q));
			par[npar++].value = eq < amp ?
			    sv4_reencode(eq + 1, (size_t)(amp - eq - 1)) :
			    xstrdup("");
		}
		q = amp + 1;
	}
	if (npar > 1)
		qsort(par, npar, sizeof(*par), sv4_param_cmp);
	for (i = 0; i < npar; i++) {
		lep_buf_addf(b, "%s%s=%s", i > 0 ? "&" : "", par[i].name,
		    par[i].value);
		free(par[i].name);
		free(par[i].value);
	}
	free(par);
}

/* Trim and collapse inner whitespace runs to one space (botocore's). */
static char *
sv4_trimall(const char *p, size_t n)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	size_t		 i = 0, j;

	for (;;) {
		while (i < n && sv4_space((unsigned char)p[i]))
			i++;
		if (i == n)
			break;
		for (j = i; j < n && !sv4_space((unsigned char)p[j]); j++)
			;
		if (b.len > 0)
			lep_buf_addch(&b, ' ');
		lep_buf_addn(&b, p + i, j - i);
		i = j;
	}
	return lep_buf_detach(&b, NULL);
}

static void
sv4_add_hdr(struct sv4_sign *s, const char *name, size_t nname,
    char *value)
{
	struct sv4_hdr	*h;
	size_t		 i;

	s->hdrs = xreallocarray(s->hdrs, s->nhdrs + 1, sizeof(*s->hdrs));
	h = &s->hdrs[s->nhdrs];
	h->name = xstrndup(name, nname);
	for (i = 0; i < nname; i++)
		h->name[i] = (char)sv4_lower((unsigned char)name[i]);
	h->value = value;
	h->seq = s->nhdrs++;
}

/*
 * One "Name: value" line, as libcurl sends it: "Name:" with a blank value
 * removes one of curl's own headers and sends nothing, so it is not
 * signed; "Name;" sends an empty one. Lines curl would not send at all
 * are refused.
 */
static const struct lep_err *
sv4_parse_hdr(struct sv4_sign *s, const char *line)
{
	const char	*colon, *v, *name;
	size_t		 i, nname;

	if ((colon = strchr(line, ':')) == NULL) {
		nname = strlen(line);
		while (nname > 0 && sv4_space((unsigned char)line[nname - 1]))
			nname--;
		if (nname < 2 || line[nname - 1] != ';' ||
		    memchr(line, ';', nname - 1) != NULL)
			goto bad;
		nname--;
		v = "";
	} else {
		nname = (size_t)(colon - line);
		v = colon + 1;
		for (i = 0; v[i] != '\0' && sv4_space((unsigned char)v[i]); i++)
			;
		if (v[i] == '\0')
			return NULL;	/* curl's "remove this header" */
	}
	if (nname == 0)
		goto bad;
	for (i = 0; i < nname; i++)
		if ((unsigned char)line[i] <= 0x20 || line[i] == 0x7f)
			goto bad;
	for (i = nname; line[i] != '\0'; i++)
		if (line[i] == '\r' || line[i] == '\n')
			goto bad;
	sv4_add_hdr(s, line, nname, sv4_trimall(v, strlen(v)));
	name = s->hdrs[s->nhdrs - 1].name;
	v = s->hdrs[s->nhdrs - 1].value;
	if (strcmp(name, "authorization") == 0)
		return lep_err_new(LEP_E_USAGE, "sigv4: the request already "
		    "has an Authorization header");
	for (i = 0; i < LEP_ARRAY_SIZE(sv4_skip); i++)
		if (strcmp(name, sv4_skip[i]) == 0) {
			/* proxy-authorization is a secret too */
			s->nhdrs--;
			lep_wipe(s->hdrs[s->nhdrs].value, strlen(v));
			free(s->hdrs[s->nhdrs].name);
			free(s->hdrs[s->nhdrs].value);
			return NULL;
		}
	if (strcmp(name, "host") == 0)
		s->have_host = 1;
	else if (strcmp(name, "x-amz-security-token") == 0)
		s->have_token = 1;
	else if (strcmp(name, "x-amz-content-sha256") == 0 && !s->have_sha) {
		s->have_sha = 1;
		s->hash = v;
	} else if (strcmp(name, "x-amz-date") == 0 && s->date == NULL)
		s->date = v;
	return NULL;
bad:
	return lep_err_new(LEP_E_USAGE, "sigv4: a header line it cannot "
	    "sign");
}

static int
sv4_hdr_cmp(const void *a, const void *b)
{
	const struct sv4_hdr	*x = a, *y = b;
	int			 r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "20150830T123600Z" */
static int
sv4_valid_date(const char *d)
{
	size_t	 i;

	if (strlen(d) != SV4_DATE_LEN || d[8] != 'T' || d[15] != 'Z')
		return 0;
	for (i = 0; i < 15; i++)
		if (i != 8 && (d[i] < '0' || d[i] > '9'))
			return 0;
	return 1;
}

/* A credential scope part or key: no separators, blanks or controls. */
static int
sv4_valid_word(const char *w)
{
	if (w == NULL || *w == '\0')
		return 0;
	for (; *w != '\0'; w++)
		if ((unsigned char)*w <= 0x20 || *w == 0x7f || *w == '/' ||
		    *w == ',')
			return 0;
	return 1;
}

static int
sv4_valid_value(const char *v)
{
	for (; *v != '\0'; v++)
		if (sv4_ctl((unsigned char)*v))
			return 0;
	return 1;
}

static const struct lep_err *
sv4_check(const struct lep_sigv4_keys *keys, const struct lep_sigv4_req *req)
{
	size_t	 i;

	if (req->method == NULL || req->method[0] == '\0' || req->url == NULL ||
	    (req->nheaders > 0 && req->headers == NULL) ||
	    (req->payload == NULL && req->payload_len > 0))
		return lep_err_new(LEP_E_USAGE, "sigv4: an incomplete request");
	for (i = 0; i < req->nheaders; i++)
		if (req->headers[i] == NULL)
			return lep_err_new(LEP_E_USAGE, "sigv4: header line "
			    "%zu is NULL", i);
	for (i = 0; req->method[i] != '\0'; i++)
		if ((unsigned char)req->method[i] <= 0x20 ||
		    req->method[i] == 0x7f)
			return lep_err_new(LEP_E_USAGE, "sigv4: a method it "
			    "cannot sign");
	if (!sv4_valid_word(req->region) || !sv4_valid_word(req->service))
		return lep_err_new(LEP_E_USAGE, "sigv4: a region or service "
		    "it cannot sign");
	if (!sv4_valid_word(keys->access_key) || keys->secret_key == NULL ||
	    (keys->session_token != NULL &&
	    !sv4_valid_value(keys->session_token)))
		return lep_err_new(LEP_E_USAGE, "sigv4: keys it cannot sign "
		    "with");
	if (req->amz_date != NULL && !sv4_valid_date(req->amz_date))
		return lep_err_new(LEP_E_USAGE, "sigv4: '%s' is not an "
		    "X-Amz-Date", req->amz_date);
	if (req->payload_hash != NULL) {
		for (i = 0; lep_hex_digit(req->payload_hash[i]) >= 0; i++)
			;
		if (i != 64 || req->payload_hash[i] != '\0')
			return lep_err_new(LEP_E_USAGE, "sigv4: a payload hash "
			    "that is not 64 hex digits");
	}
	return NULL;
}

/* The headers' date, else the caller's, else the clock's. */
static const struct lep_err *
sv4_date(struct sv4_sign *s, const struct lep_sigv4_req *req)
{
	struct tm	 tm;
	time_t		 now;

	if (s->date != NULL) {
		if (!sv4_valid_date(s->date) || (req->amz_date != NULL &&
		    strcmp(req->amz_date, s->date) != 0))
			return lep_err_new(LEP_E_USAGE, "sigv4: X-Amz-Date "
			    "'%s' in the headers is not the date signed",
			    s->date);
		return NULL;
	}
	if (req->amz_date != NULL)
		lep_strlcpy(s->date_buf, req->amz_date, sizeof(s->date_buf));
	else {
		now = time(NULL);
		if (gmtime_r(&now, &tm) == NULL ||
		    strftime(s->date_buf, sizeof(s->date_buf),
		    "%Y%m%dT%H%M%SZ", &tm) != SV4_DATE_LEN)
			return lep_err_errno(LEP_E_INTERNAL, "sigv4: the "
			    "time");
	}
	s->date = s->date_buf;
	return NULL;
}

/* What the signer adds, in the headers signed and in out. */
static void
sv4_add_own(struct lep_sigv4_out *out, struct sv4_sign *s,
    const char *display, const char *value)
{
	sv4_add_hdr(s, display, strlen(display), xstrdup(value));
	out->headers[out->nheaders++] = xasprintf("%s: %s", display, value);
}

static const struct lep_err *
sv4_key(unsigned char key[LEP_HMAC_SHA256], const char *secret,
    const char *date, const struct lep_sigv4_req *req)
{
	const struct lep_err	*err;
	char			*k;

	k = xasprintf("AWS4%s", secret);
	err = lep_hmac_sha256(key, k, strlen(k), date, 8);
	lep_wipe(k, strlen(k));
	free(k);
	if (err == NULL)
		err = lep_hmac_sha256(key, key, LEP_HMAC_SHA256, req->region,
		    strlen(req->region));
	if (err == NULL)
		err = lep_hmac_sha256(key, key, LEP_HMAC_SHA256, req->service,
		    strlen(req->service));
	if (err == NULL)
		err = lep_hmac_sha256(key, key, LEP_HMAC_SHA256,
		    "aws4_request", 12);
	return err;
}

const struct lep_err *
lep_sigv4_sign(struct lep_sigv4_out *out, const struct lep_sigv4_keys *keys,
    const struct lep_sigv4_req *req)
{
	const struct lep_err	*err;
	struct sv4_sign		 s;
	struct lep_buf		 cr = LEP_BUF_INIT, sh = LEP_BUF_INIT;
	unsigned char		 key[LEP_HMAC_SHA256], mac[LEP_HMAC_SHA256];
	char			 crhash[LEP_SHA256_HEX], sig[LEP_SHA256_HEX];
	size_t			 i;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	if ((err = sv4_check(keys, req)) != NULL ||
	    (err = sv4_parse_url(&s, req->url)) != NULL)
		goto done;
	for (i = 0; i < req->nheaders; i++)
		if ((err = sv4_parse_hdr(&s, req->headers[i])) != NULL)
			goto done;
	if ((err = sv4_date(&s, req)) != NULL)
		goto done;
	if (!s.have_host)
		sv4_add_hdr(&s, "host", 4, xstrdup(s.host));
	if (s.date == s.date_buf)	/* else the caller's line is signed */
		sv4_add_own(out, &s, "X-Amz-Date", s.date);
	if (keys->session_token != NULL && !s.have_token &&
	    !(req->flags & LEP_SIGV4_NO_TOKEN))
		sv4_add_own(out, &s, "X-Amz-Security-Token",
		    keys->session_token);
	if (!s.have_sha) {
		if (req->flags & LEP_SIGV4_UNSIGNED)
			s.hash = SV4_UNSIGNED;
		else if (req->payload_hash != NULL)
			s.hash = req->payload_hash;
		else {
			if ((err = lep_sha256_hex(s.hash_buf, req->payload,
			    req->payload_len)) != NULL)
				goto done;
			s.hash = s.hash_buf;
		}
		if (req->flags & (LEP_SIGV4_S3 | LEP_SIGV4_UNSIGNED))
			sv4_add_own(out, &s, "X-Amz-Content-Sha256", s.hash);
	}

	/* The canonical request. */
	for (i = 0; req->method[i] != '\0'; i++)
		lep_buf_addch(&cr, req->method[i] >= 'a' &&
		    req->method[i] <= 'z' ? req->method[i] - 'a' + 'A' :
		    req->method[i]);
	lep_buf_addch(&cr, '\n');
	if (req->flags & LEP_SIGV4_S3)
		sv4_uri_s3(&cr, s.path, s.npath);
	else
		sv4_uri(&cr, s.path, s.npath);
	lep_buf_addch(&cr, '\n');
	sv4_query(&cr, s.query, s.nquery);
	lep_buf_addch(&cr, '\n');
	qsort(s.hdrs, s.nhdrs, sizeof(*s.hdrs), sv4_hdr_cmp);
	for (i = 0; i < s.nhdrs; i++) {
		if (i > 0 && strcmp(s.hdrs[i].name, s.hdrs[i - 1].name) == 0) {
			lep_buf_addf(&cr, ",%s", s.hdrs[i].value);
			continue;
		}
		lep_buf_addf(&cr, "%s%s:%s", i > 0 ? "\n" : "",
		    s.hdrs[i].name, s.hdrs[i].value);
		lep_buf_addf(&sh, "%s%s", i > 0 ? ";" : "", s.hdrs[i].name);
	}
	lep_buf_addf(&cr, "\n\n%s\n%s", sh.buf, s.hash);

	/* The string to sign and the signature. */
	if ((err = lep_sha256_hex(crhash, cr.buf, cr.len)) != NULL ||
	    (err = sv4_key(key, keys->secret_key, s.date, req)) != NULL)
		goto done;
	out->to_sign = xasprintf("AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/"
	    "aws4_request\n%s", s.date, s.date, req->region, req->service,
	    crhash);
	if ((err = lep_hmac_sha256(mac, key, sizeof(key), out->to_sign,
	    strlen(out->to_sign))) != NULL)
		goto done;
	for (i = 0; i < sizeof(mac); i++)
		snprintf(sig + 2 * i, 3, "%02x", mac[i]);
	out->headers[out->nheaders++] = xasprintf("Authorization: "
	    "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, "
	    "SignedHeaders=%s, Signature=%s", keys->access_key, s.date,
	    req->region, req->service, sh.buf, sig);
	out->canonical = lep_buf_detach(&cr, NULL);
done:
	lep_wipe(key, sizeof(key));
	lep_wipe(mac, sizeof(mac));
	for (i = 0; i < s.nhdrs; i++) {
		free(s.hdrs[i].name);
		lep_wipe(s.hdrs[i].value, strlen(s.hdrs[i].value));
		free(s.hdrs[i].value);
	}
	free(s.hdrs);
	free(s.host);
	lep_wipe(cr.buf, cr.len);
	lep_buf_release(&cr);
	lep_buf_release(&sh);
	return err;
}

static void
sv4_free_wiped(char *p)
{
	if (p != NULL) {
		lep_wipe(p, strlen(p));
		free(p);
	}
}

void
lep_sigv4_out_release(struct lep_sigv4_out *out)
{
	size_t	 i;

	for (i = 0; i < out->nheaders; i++)
		sv4_free_wiped(out->headers[i]);
	sv4_free_wiped(out->canonical);
	sv4_free_wiped(out->to_sign);
	memset(out, 0, sizeof(*out));
}
