/*
 * util.h: allocation that never returns NULL, growable strings with an
 * optional cap, and the small string helpers every module needs.
 */
#ifndef LEPTON_LIB_UTIL_H
#define LEPTON_LIB_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#define LEP_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define LEP_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define LEP_NORETURN		__attribute__((noreturn))
#else
#define LEP_PRINTF(f, a)
#define LEP_NORETURN
#endif

/* Out of memory: print one line and exit 70 (internal). Never NULL. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) LEP_PRINTF(1, 2);
char	*xvasprintf(const char *, va_list) LEP_PRINTF(1, 0);
LEP_NORETURN void lep_die_oom(void);
/* Wipe memory that held a secret; not optimised away. */
void	 lep_wipe(void *, size_t);

/*
 * A growable NUL-terminated string. After LEP_BUF_INIT or lep_buf_init*,
 * buf is never NULL. max caps len (0: no cap); appending past it fails and
 * sets overflow, so network-fed buffers cannot grow without bound.
 */
struct lep_buf {
	char	*buf;
	size_t	 len;
	size_t	 alloc;
	size_t	 max;
	int	 overflow;
};

extern char lep_buf_empty[];
#define LEP_BUF_INIT	{ lep_buf_empty, 0, 0, 0, 0 }

void	 lep_buf_init(struct lep_buf *, size_t hint);
void	 lep_buf_init_max(struct lep_buf *, size_t max);
/* Return 0, or -1 when the cap would be passed (nothing is appended). */
int	 lep_buf_addn(struct lep_buf *, const void *, size_t);
int	 lep_buf_add(struct lep_buf *, const char *);
int	 lep_buf_addch(struct lep_buf *, int);
int	 lep_buf_addf(struct lep_buf *, const char *, ...) LEP_PRINTF(2, 3);
int	 lep_buf_vaddf(struct lep_buf *, const char *, va_list)
	     LEP_PRINTF(2, 0);
void	 lep_buf_reset(struct lep_buf *);
/* Hand over the string (caller frees with free); the buffer is reset. */
char	*lep_buf_detach(struct lep_buf *, size_t *len_out);
void	 lep_buf_release(struct lep_buf *);

/* n strings, then the array (accepts NULL). */
void	 lep_strv_free(char **, size_t);

/* Strings. */
int	 lep_streq(const char *, const char *);	/* NULL-safe */
/* Base64 (RFC 4648): the standard alphabet, padded; or with LEP_B64_URL
   the URL-safe one, unpadded (JWTs). */
#define LEP_B64_URL	0x1
/* n bytes of p encoded. Caller frees. */
char	*lep_base64(const void *p, size_t n, int flags);
/*
 * s (n bytes) decoded into *out (caller frees, wipes if secret; NUL-ended
 * past *len). Line breaks are skipped (Go's decoder skips them); padding
 * is optional; leftover bits must be zero. -1: not base64 in that
 * alphabet (nothing is left in *out).
 */
int	 lep_base64_decode(char **out, size_t *len, const char *s, size_t n,
	    int flags);
/* The value of hex digit c (either case), or -1. */
int	 lep_hex_digit(int c);
/* s percent-encoded but for RFC 3986's unreserved characters (a path
   segment or query value). Caller frees. */
char	*lep_url_escape(const char *s);
int	 lep_starts_with(const char *, const char *);
int	 lep_ends_with(const char *, const char *);
size_t	 lep_strlcpy(char *, const char *, size_t);
/* A portable environment variable name: [A-Za-z_][A-Za-z0-9_]*, <= 128. */
int	 lep_valid_env_name(const char *);
/* Levenshtein distance, capped at cap+1 for speed. */
size_t	 lep_edit_distance(const char *, const char *, size_t cap);
/* The candidate closest to word within a small distance, or NULL. */
const char *lep_did_you_mean(const char *word, const char *const *cands,
	    size_t n);
/* Parse a whole decimal integer / number; 0 on success, -1 otherwise. */
int	 lep_parse_ll(long long *out, const char *);
int	 lep_parse_double(double *out, const char *);
/* "90", "90s", "5m", "2h", "1d" -> seconds; 0 on success, -1 otherwise. */
int	 lep_parse_duration(long long *out, const char *);
/* Monotonic milliseconds and wall-clock seconds. */
long long lep_now_ms(void);
/* Sleep ms milliseconds (a signal may end it early). */
void	 lep_sleep_ms(long long ms);
long long lep_now_us(void);
/* RFC 3339 UTC ("2026-11-27T17:33:07Z") into buf of at least 21 bytes. */
void	 lep_format_time(char *buf, size_t len, long long epoch);

#endif
