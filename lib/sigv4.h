/*
 * sigv4.h: AWS Signature Version 4, in C on OpenSSL's HMAC and SHA-256
 * (not libcurl's CURLOPT_AWS_SIGV4, which neither sorts the query nor
 * signs S3's payload hash). Checked against the AWS SigV4 test suite and
 * byte for byte against botocore's signer.
 */
#ifndef LEPTON_LIB_SIGV4_H
#define LEPTON_LIB_SIGV4_H

#include <stddef.h>

struct lep_err;

/* The keys a request is signed with; all borrowed. */
struct lep_sigv4_keys {
	const char	*access_key;
	const char	*secret_key;	/* secret: never logged */
	const char	*session_token;	/* NULL: long-term keys */
};

#define LEP_SIGV4_S3		0x01	/* S3 rules: the path is signed as
					   sent, not normalised nor encoded
					   twice; x-amz-content-sha256 is
					   sent and signed */
#define LEP_SIGV4_UNSIGNED	0x02	/* S3: UNSIGNED-PAYLOAD (sent as
					   x-amz-content-sha256, as botocore
					   does, for other services too) */
#define LEP_SIGV4_NO_TOKEN	0x04	/* the token is not added as a
					   header (the test suite's
					   post-sts-token cases) */

struct lep_sigv4_req {
	const char	*method;	/* "GET", "POST"... */
	const char	*url;		/* as it will be sent, encoded:
					   scheme://host[:port]/path?query;
					   a '+' in the query is a plus:
					   send a space as %20. Its host
					   must be lower case: Host is
					   signed so (as botocore does) but
					   curl sends it as written */
	const char *const *headers;	/* "Name: value" lines to be sent,
					   all signed but botocore's
					   unsigned ones (user-agent,
					   expect, x-amzn-trace-id and the
					   hop-by-hop headers); curl's
					   "Name:" (sends none) is not
					   signed, "Name;" signs an empty
					   value. Host is taken from url
					   when absent (lower case, the
					   port only when not the
					   scheme's default). A given
					   X-Amz-Date, X-Amz-Security-Token
					   or X-Amz-Content-Sha256 is
					   signed as given and not added
					   again; the last is then the
					   payload's hash */
	size_t		 nheaders;
	const void	*payload;	/* may be NULL */
	size_t		 payload_len;
	const char	*payload_hash;	/* hex SHA-256 when already known
					   (a file streamed), or NULL:
					   the payload's is computed */
	const char	*region;	/* "us-east-1" */
	const char	*service;	/* "sagemaker", "s3", "sts"... */
	const char	*amz_date;	/* "20150830T123600Z"; NULL: now,
					   unless headers hold X-Amz-Date */
	int		 flags;		/* LEP_SIGV4_* */
};

/*
 * What signing adds: header lines to send with the request's own
 * ("X-Amz-Date: ...", "X-Amz-Security-Token: ...",
 * "X-Amz-Content-Sha256: ...", in that order, each when due and not among
 * the request's, then "Authorization: ...", always last), each owned;
 * and, for tests, the canonical request and the string to sign.
 */
struct lep_sigv4_out {
	char		*headers[4];
	size_t		 nheaders;
	char		*canonical;
	char		*to_sign;
};

/*
 * Sign req with keys. Errors: LEP_E_USAGE (a URL, header, date, hash or
 * key it cannot sign; headers that already hold Authorization),
 * LEP_E_INTERNAL (libcrypto missing). Release out with
 * lep_sigv4_out_release, even on error.
 */
const struct lep_err *lep_sigv4_sign(struct lep_sigv4_out *out,
	    const struct lep_sigv4_keys *, const struct lep_sigv4_req *);
/* Wipe (the Authorization line is a credential for 15 minutes) and free. */
void	 lep_sigv4_out_release(struct lep_sigv4_out *);

#endif
