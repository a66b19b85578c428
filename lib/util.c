/*
 * util.c: checked allocation, lep_buf and string helpers.
 */
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char lep_buf_empty[1];

void
lep_die_oom(void)
{
	static const char msg[] = "lepton: out of memory\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(70);
}

void
lep_wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

void *
xmalloc(size_t n)
{
	void	*p = malloc(n ? n : 1);

	if (p == NULL)
		lep_die_oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		lep_die_oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		lep_die_oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		lep_die_oom();
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	struct lep_buf	 b = LEP_BUF_INIT;

	lep_buf_vaddf(&b, fmt, ap);
	return lep_buf_detach(&b, NULL);
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void
lep_buf_init(struct lep_buf *b, size_t hint)
{
	b->buf = lep_buf_empty;
	b->len = b->alloc = b->max = 0;
	b->overflow = 0;
	if (hint) {
		b->buf = xmalloc(hint + 1);
		b->buf[0] = '\0';
		b->alloc = hint + 1;
	}
}

void
lep_buf_init_max(struct lep_buf *b, size_t max)
{
	lep_buf_init(b, 0);
	b->max = max;
}

static int
buf_grow(struct lep_buf *b, size_t extra)
{
	size_t	 need;

	if (extra > SIZE_MAX - b->len - 1)
		lep_die_oom();
	need = b->len + extra + 1;
	if (b->max && b->len + extra > b->max) {
		b->overflow = 1;
		return -1;
	}
	if (need <= b->alloc)
		return 0;
	if (b->alloc == 0) {
		b->alloc = need < 64 ? 64 : need;
		b->buf = xmalloc(b->alloc);
		b->buf[0] = '\0';
		return 0;
	}
	while (b->alloc < need)
		b->alloc = b->alloc < SIZE_MAX / 2 ? b->alloc * 2 : need;
	b->buf = xrealloc(b->buf, b->alloc);
	return 0;
}

int
lep_buf_addn(struct lep_buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) == -1)
		return -1;
	if (n == 0)
		return 0;
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

int
lep_buf_add(struct lep_buf *b, const char *s)
{
	return lep_buf_addn(b, s, strlen(s));
}

int
lep_buf_addch(struct lep_buf *b, int c)
{
	char	 ch = (char)c;

	return lep_buf_addn(b, &ch, 1);
}

int
lep_buf_vaddf(struct lep_buf *b, const char *fmt, va_list ap)
{
	va_list	 cp;
	int	 n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	if (buf_grow(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int
lep_buf_addf(struct lep_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 rc;

	va_start(ap, fmt);
	rc = lep_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
lep_buf_reset(struct lep_buf *b)
{
	b->len = 0;
	b->overflow = 0;
	if (b->alloc)
		b->buf[0] = '\0';
}

char *
lep_buf_detach(struct lep_buf *b, size_t *len_out)
{
	char	*s;

	if (b->alloc == 0)
		s = xstrdup("");
	else
		s = b->buf;
	if (len_out != NULL)
		*len_out = b->len;
	b->buf = lep_buf_empty;
	b->len = b->alloc = 0;
	b->overflow = 0;
	return s;
}

void
lep_buf_release(struct lep_buf *b)
{
	if (b->alloc)
		free(b->buf);
	b->buf = lep_buf_empty;
	b->len = b->alloc = 0;
	b->overflow = 0;
}

void
lep_strv_free(char **v, size_t n)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
lep_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int
lep_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int
lep_ends_with(const char *s, const char *suffix)
{
	size_t	 a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

size_t
lep_strlcpy(char *dst, const char *src, size_t size)
{
	size_t	 n = strlen(src);

	if (size) {
		size_t	 c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

/* Optimal string alignment: like Levenshtein, and "ab" -> "ba" costs 1. */
int
lep_valid_env_name(const char *p)
{
	size_t	 i;

	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    *p == '_'))
		return 0;
	for (i = 1; p[i]; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return 0;
	return i <= 128;
}

size_t
lep_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, c, v;
	size_t	 d[65][65];

	if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			c = a[i - 1] != b[j - 1];
			v = d[i - 1][j - 1] + c;
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb] > cap ? cap + 1 : d[la][lb];
}

const char *
lep_did_you_mean(const char *word, const char *const *cands, size_t n)
{
	const char	*best = NULL;
	size_t		 i, d, bestd, cap;

	cap = strlen(word) <= 4 ? 1 : 2;
	bestd = cap + 1;
	for (i = 0; i < n; i++) {
		d = lep_edit_distance(word, cands[i], cap);
		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return best;
}

int
lep_parse_ll(long long *out, const char *s)
{
	char		*end;
	long long	 v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s)
		return -1;
	*out = v;
	return 0;
}

int
lep_parse_double(double *out, const char *s)
{
	char	*end;
	double	 v;

	if (s == NULL || *s == '\0')
		return -1;
	/* Only plain decimals: no hex floats, inf or nan from strtod. */
	if (strspn(s, "+-0123456789.eE") != strlen(s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int
lep_parse_duration(long long *out, const char *s)
{
	static const struct {
		char		 suffix;
		long long	 mult;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char		 num[32];
	size_t		 len, i;
	long long	 v, mult = 1;

	if (s == NULL || (len = strlen(s)) == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len + 1);
	for (i = 0; i < LEP_ARRAY_SIZE(units); i++) {
		if (num[len - 1] == units[i].suffix) {
			mult = units[i].mult;
			num[--len] = '\0';
			break;
		}
	}
	if (len == 0 || strspn(num, "0123456789") != len)
		return -1;
	if (lep_parse_ll(&v, num) == -1 || v > LLONG_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

long long
lep_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
lep_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
lep_format_time(char *buf, size_t len, long long epoch)
{
	struct tm	 tm;
	time_t		 t = (time_t)epoch;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
lep_url_escape(const char *s)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	const char	*p;

	lep_buf_add(&b, "");
	for (p = s; *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			lep_buf_addch(&b, *p);
		else
			lep_buf_addf(&b, "%%%02X", (unsigned char)*p);
	return lep_buf_detach(&b, NULL);
}

void
lep_sleep_ms(long long ms)
{
	struct timespec	 ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	(void)nanosleep(&ts, NULL);
}

int
lep_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz0123456789-_";

char *
lep_base64(const void *p, size_t n, int flags)
{
	const char		*abc = flags & LEP_B64_URL ? b64_url : b64_std;
	const unsigned char	*s = p;
	struct lep_buf		 b = LEP_BUF_INIT;
	unsigned long		 v;
	size_t			 i;
	int			 pad = !(flags & LEP_B64_URL);

	lep_buf_add(&b, "");
	for (i = 0; i < n; i += 3) {
		v = (unsigned long)s[i] << 16 |
		    (i + 1 < n ? (unsigned long)s[i + 1] << 8 : 0) |
		    (i + 2 < n ? s[i + 2] : 0);
		lep_buf_addch(&b, abc[v >> 18 & 63]);
		lep_buf_addch(&b, abc[v >> 12 & 63]);
		if (i + 1 < n)
			lep_buf_addch(&b, abc[v >> 6 & 63]);
		else if (pad)
			lep_buf_addch(&b, '=');
		if (i + 2 < n)
			lep_buf_addch(&b, abc[v & 63]);
		else if (pad)
			lep_buf_addch(&b, '=');
	}
	return lep_buf_detach(&b, NULL);
}

int
lep_base64_decode(char **out, size_t *len, const char *s, size_t n,
    int flags)
{
	const char	*abc = flags & LEP_B64_URL ? b64_url : b64_std;
	struct lep_buf	 b = LEP_BUF_INIT;
	unsigned long	 v = 0;
	const char	*p;
	size_t		 i;
	int		 bits = 0, pad = 0;

	*out = NULL;
	*len = 0;
	lep_buf_add(&b, "");
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || s[i] == '\0' ||
		    (p = strchr(abc, s[i])) == NULL)
			goto bad;
		v = (v << 6 | (unsigned long)(p - abc)) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			lep_buf_addch(&b, (int)(v >> bits & 0xff));
		}
	}
	/* Left over: 0, 2 or 4 bits of zero; never 6 (a lone character). */
	if (bits >= 6 || pad > 2 || (v & ((1ul << bits) - 1)) != 0)
		goto bad;
	*out = lep_buf_detach(&b, len);
	return 0;
bad:
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	return -1;
}
