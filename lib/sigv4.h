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

#define LEP_SIGV4_S3		0x01	/* S3 rules: the path is not encoded
					   twice; x-amz-content-sha256 is
					   sent and signed */
#define LEP_SIGV4_UNSIGNED	0x02	/* S3: UNSIGNED-PAYLOAD */
#define LEP_SIGV4_NO_TOKEN	0x04	/* the token is not added as a
					   header (the test suite's
					   post-sts-token cases) */

struct lep_sigv4_req {
	const char	*method;	/* "GET", "POST"... */
	const char	*url;		/* as it will be sent:
					   scheme://host[:port]/path?query */
	const char *const *headers;	/* "Name: value" lines to be sent,
					   all signed (but user-agent,
					   expect, x-amzn-trace-id); Host
					   is taken from url when absent */
	size_t		 nheaders;
	const void	*payload;	/* may be NULL */
	size_t		 payload_len;
	const char	*payload_hash;	/* hex SHA-256 when already known
					   (a file streamed), or NULL */
	const char	*region;	/* "us-east-1" */
	const char	*service;	/* "sagemaker", "s3", "sts"... */
	const char	*amz_date;	/* "20150830T123600Z"; NULL: now,
					   unless headers hold X-Amz-Date */
	int		 flags;		/* LEP_SIGV4_* */
};

/*
 * What signing adds: header lines to send with the request's own
 * ("X-Amz-Date: ...", "X-Amz-Security-Token: ...",
 * "X-Amz-Content-Sha256: ..." and "Authorization: ..."), each owned; and,
 * for tests, the canonical request and the string to sign.
 */
struct lep_sigv4_out {
	char		*headers[4];
	size_t		 nheaders;
	char		*canonical;
	char		*to_sign;
};

/*
 * Sign req with keys. Errors: LEP_E_USAGE (a URL or header it cannot
 * parse), LEP_E_INTERNAL (libcrypto missing). Release out with
 * lep_sigv4_out_release, even on error.
 */
const struct lep_err *lep_sigv4_sign(struct lep_sigv4_out *out,
	    const struct lep_sigv4_keys *, const struct lep_sigv4_req *);
/* Wipe (the Authorization line is a credential for 15 minutes) and free. */
void	 lep_sigv4_out_release(struct lep_sigv4_out *);

#endif
