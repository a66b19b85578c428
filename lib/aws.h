/*
 * aws.h: AWS credentials resolved as botocore resolves them, endpoints as
 * the SDKs find them (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), and
 * one signed call with the SDKs' standard retry mode.
 */
#ifndef LEPTON_LIB_AWS_H
#define LEPTON_LIB_AWS_H

#include <stddef.h>

struct lep_err;
struct lep_http_resp;
struct lep_json;

/*
 * Where the credentials are looked for; all borrowed, all optional. A
 * provider config section {"aws": {"profile": P, "region": R}} fills
 * these; the environment decides the rest, as for the aws CLI.
 */
struct lep_aws_opts {
	const char	*profile;	/* as aws --profile: drops env keys */
	const char	*region;	/* beats every other source */
	const char	*home;		/* LEPTON_HOME: the assume-role cache */
};

/*
 * Resolved credentials. method names the source that won, with botocore's
 * names: "env", "assume-role", "assume-role-with-web-identity", "sso",
 * "shared-credentials-file", "custom-process", "config-file".
 */
struct lep_aws_creds {
	char		*access_key;
	char		*secret_key;	/* secret */
	char		*session_token;	/* secret; NULL for long-term keys */
	long long	 expires;	/* unix seconds; 0: never */
	char		*region;	/* NULL: none found */
	char		*profile;	/* the profile read, or NULL (env) */
	const char	*method;	/* static */
	char		*detail;	/* where, for lepton check: a file,
					   a role ARN, a command's name;
					   never a secret; or NULL */
};

/*
 * The first source in botocore's order that has credentials: env keys
 * (not with opts->profile, as aws --profile), the profile's role_arn
 * (AssumeRole with the source_profile's keys, cached 0600 in
 * opts->home/cache/aws until 5 minutes before expiry), web identity, SSO
 * (the token cached by 'aws sso login'), the credentials file,
 * credential_process (run without a shell), the config file. The profile:
 * opts->profile, else AWS_PROFILE, else "default"; one named must exist.
 * The region: opts->region, AWS_REGION, AWS_DEFAULT_REGION, the profile's.
 *
 * Where botocore 1.43 differs: it ignores AWS_REGION (every other SDK and
 * the aws CLI v2 read it, before AWS_DEFAULT_REGION); it reads the config
 * and credentials files and the SSO token cache whoever may read them;
 * it refreshes an expired SSO token, asks for an MFA code (mfa_serial),
 * knows credential_source Ec2InstanceMetadata and EcsContainer, and goes
 * on to the container and instance metadata endpoints; lepton does none of
 * these and says so.
 *
 * Errors: LEP_E_AUTH (none found: "unable to locate credentials", partial
 * keys, a profile that does not exist, a process or an STS call that
 * failed, an expired SSO token; a file others may read, named),
 * LEP_E_PROVIDER or LEP_E_TIMEOUT (STS or SSO unreachable),
 * LEP_E_UNSUPPORTED (mfa_serial, credential_source but Environment).
 * Release out even on error.
 */
const struct lep_err *lep_aws_creds_resolve(struct lep_aws_creds *out,
	    const struct lep_aws_opts *);
/* Wipe the secrets and free. */
void	 lep_aws_creds_release(struct lep_aws_creds *);

/*
 * The base URL for a service ("sagemaker", "runtime.sagemaker", "s3",
 * "sts", "logs", "sso") in region: AWS_ENDPOINT_URL_<SERVICE ID> (the
 * SDKs' service-id spelling: SAGEMAKER, SAGEMAKER_RUNTIME, S3, STS,
 * CLOUDWATCH_LOGS, SSO), then AWS_ENDPOINT_URL, then the public
 * https://HOST. Caller frees. *from (static) says which, for check.
 */
char	*lep_aws_endpoint(const char *service, const char *region,
	    const char **from);

/* One request to AWS, signed. */
struct lep_aws_req {
	const char	*service;	/* as lep_aws_endpoint; also the
					   signing name, but for
					   "runtime.sagemaker" (sagemaker) */
	const char	*region;
	const char	*method;
	const char	*path;		/* "/" or "/bucket/key", encoded */
	const char	*query;		/* encoded, or NULL */
	const char	*target;	/* X-Amz-Target for JSON protocols
					   ("SageMaker.CreateModel"), or
					   NULL */
	const char	*content_type;
	const char *const *headers;	/* more lines, signed */
	size_t		 nheaders;
	const void	*body;
	size_t		 body_len;
	const char	*body_file;	/* or the body from a file (S3) */
	long long	 file_offset, file_len;
	int		 s3;		/* S3 signing rules */
	int		 idempotent;	/* safe to repeat after it may have
					   been sent (a ClientToken, a PUT) */
	size_t		 max_body;	/* 0: the http default */
	long		 timeout_ms;
};

/*
 * Send req, signed with creds, with AWS's standard retry mode: at most 3
 * attempts, exponential backoff with full jitter capped at 20 s,
 * Retry-After honoured; throttling codes, 5xx and resets retried; other
 * 4xx never. resp holds the final answer. Errors: LEP_E_AUTH (403 for the
 * keys: the message names creds->method), LEP_E_PROVIDER (any other
 * status >= 300: the AWS error code and message, from JSON or XML;
 * resp keeps the body), LEP_E_TIMEOUT. The code of an AWS error is
 * returned in *code (caller frees; may be NULL) so that a caller can map
 * capacity errors.
 */
const struct lep_err *lep_aws_call(struct lep_http_resp *resp, char **code,
	    const struct lep_aws_creds *creds, const struct lep_aws_req *req);

/*
 * STS GetCallerIdentity: the account and the ARN (caller frees both).
 * Errors: as lep_aws_call.
 */
const struct lep_err *lep_aws_whoami(char **account, char **arn,
	    const struct lep_aws_creds *creds);

/*
 * For 'lepton check aws': resolve the credentials and ask STS who they
 * are, into a JSON object with no secret in it: "source" (creds.method),
 * "profile", "region", "detail", "access_key" (its last 4 characters
 * only), "expires" (RFC 3339, or absent), "account", "arn". Errors: as
 * lep_aws_creds_resolve and lep_aws_whoami; *out is NULL then. Caller
 * frees with lep_json_free.
 */
const struct lep_err *lep_aws_probe(struct lep_json **out,
	    const struct lep_aws_opts *);

#endif
