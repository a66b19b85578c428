/*
 * aws-priv.h: what aws.c and aws-creds.c share, and what their unit tests
 * reach: the INI reader, the error parser and the retry rules.
 */
#ifndef LEPTON_LIB_AWS_PRIV_H
#define LEPTON_LIB_AWS_PRIV_H

#include <stddef.h>

struct lep_err;
struct lep_http_resp;

/* Sizes read from the network or from files we do not own. */
#define AWS_INI_MAX		(1 << 20)
#define AWS_STS_MAX		(256 * 1024)
#define AWS_PROCESS_MAX		(64 * 1024)
#define AWS_MAX_ATTEMPTS	3
#define AWS_BACKOFF_MAX_MS	20000LL

enum aws_sec_kind {
	AWS_SEC_OTHER,		/* [services x], [plugins]... */
	AWS_SEC_PROFILE,	/* config [default], [profile X]; every
				   section of the credentials file */
	AWS_SEC_SSO,		/* config [sso-session X] */
};

struct aws_ini_kv {
	char		*key;		/* lower case, as configparser */
	char		*val;		/* may hold a secret */
	int		 nested;	/* "s3 =\n  k = v": not a value */
};

struct aws_ini_sec {
	char			*name;	/* the profile's or session's name */
	enum aws_sec_kind	 kind;
	struct aws_ini_kv	*kv;
	size_t			 n;
};

struct aws_ini {
	struct aws_ini_sec	*sec;
	size_t			 n;
};

/*
 * Parse an INI file as botocore's raw_config_parse does (configparser:
 * full-line comments '#' and ';', "key = value" or "key: value", keys
 * lower-cased, indented lines continue a value, an empty value followed
 * by indented lines is a nested section). config: the config file's
 * section names ("profile X", "sso-session X"); else the credentials
 * file's (each section a profile). Errors: LEP_E_AUTH (not INI: the
 * message names path, as botocore's ConfigParseError). Free with
 * aws_ini_free, even on error.
 */
const struct lep_err *aws_ini_parse(struct aws_ini *out, const char *text,
	    size_t len, const char *path, int config);
void	 aws_ini_free(struct aws_ini *);
/* The section of that kind and name, or NULL (borrowed). */
const struct aws_ini_sec *aws_ini_find(const struct aws_ini *,
	    enum aws_sec_kind, const char *name);
/* A key's value, NULL when absent or nested (borrowed); "s3.k": the key
   k of the nested section s3 (valid until the next such call). */
const char *aws_ini_get(const struct aws_ini_sec *, const char *key);

/*
 * Split a command line as Python's shlex.split (POSIX): blanks separate,
 * quotes group, backslash escapes; no shell. Returns argc, -1 on an
 * unterminated quote; *argv_out is NULL-terminated (lep_strv_free(v, n)).
 */
int	 aws_shell_split(char ***argv_out, const char *line);

/* "2026-12-06T04:33:23.548667+00:00", "...Z", "... UTC": unix seconds,
   -1 when it is none of these. */
long long aws_parse_time(const char *);

/*
 * The AWS error in an answer: code (X-Amzn-Errortype, JSON __type/code,
 * XML <Code>) and message (JSON message/Message, XML <Message>). Either
 * may be NULL; caller frees both.
 */
void	 aws_parse_error(char **code, char **msg,
	    const struct lep_http_resp *);
/* The text of the first <tag>...</tag> in xml, unescaped, or NULL. */
char	*aws_xml_text(const char *xml, const char *tag);

/* Is code one of the SDKs' throttling codes / transient codes? */
int	 aws_is_throttle(const char *code);
int	 aws_is_transient(const char *code, long status);
/* Does this 4xx say the keys are wrong (LEP_E_AUTH)? */
int	 aws_is_auth(const char *code, long status);
/*
 * Wait before attempt n + 1 (n >= 1 made), the standard mode's full
 * jitter: r * 2^(n-1) s, r in [0, 1), at most AWS_BACKOFF_MAX_MS; the
 * server's Retry-After (ms, -1: none) when longer. r is given so that
 * tests can pin it.
 */
long long aws_backoff_ms(int n, double r, long long retry_after_ms);

/* "a%2Fb" for a form body or a query: RFC 3986 unreserved kept. Caller
   frees. */
char	*aws_urlencode(const char *);

#endif
