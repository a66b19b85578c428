/*
 * aws-priv.h: what the AWS provider's files share: the driver state and
 * its calls (aws.c), S3 artifacts (aws-s3.c), SageMaker endpoints
 * (aws-sagemaker.c) and training jobs (aws-train.c). Files under
 * HOME/aws:
 *
 *   services/NAME.json  one deployment: its region, endpoint, and every
 *                       model and endpoint config lepton made for it
 *                       (those a stop deletes), by revision
 *   jobs/ID.json        one training job: its region, bucket, output
 */
#ifndef LEPTON_PROVIDERS_AWS_PRIV_H
#define LEPTON_PROVIDERS_AWS_PRIV_H

#include <stddef.h>

#include "../lib/aws.h"

struct lep_buf;
struct lep_deploy_req;
struct lep_deployment;
struct lep_err;
struct lep_job;
struct lep_json;
struct lep_logs_req;
struct lep_out;
struct lep_spec;
struct lep_submit_req;

/* Above this, an upload is a multipart one, in parts of this size. */
#define AWS_MULTIPART_MIN	(8u << 20)
#define AWS_PART_SIZE		(8u << 20)
/* What one SageMaker or Logs answer may hold. */
#define AWS_ANSWER_MAX		(8u << 20)
/* A training job's output, packed and unpacked. */
#define AWS_OUTPUT_MAX		(1024u << 20)
/* How often DescribeEndpoint / DescribeTrainingJob are asked. */
#define AWS_POLL_MS		1000
/* How long an endpoint may take to be InService (SageMaker: minutes). */
#define AWS_ENDPOINT_WAIT_S	1800

struct aws_state {
	char			*home;
	struct lep_out		*out;
	/* Config section "aws", then the environment. */
	char			*profile;
	char			*region;	/* config aws.region, or NULL */
	char			*role_arn;	/* SageMaker's execution role */
	const char		*role_from;
	char			*bucket;	/* config aws.bucket, or NULL */
	/* Resolved on first use (never at open: no network there). */
	int			 resolved;
	const struct lep_err	*creds_err;
	struct lep_aws_creds	 creds;
	char			*account;
};

/* aws.c */

/* The credentials, resolved once. Errors: AUTH, PROVIDER, TIMEOUT. */
const struct lep_err *aws_creds(struct aws_state *);
/*
 * The region a spec runs in: the planner's (planned: the offer lib/
 * gives, within placement.regions), else placement.regions' first,
 * else the credentials'. Caller frees. Errors: USAGE (none anywhere).
 */
const struct lep_err *aws_region(char **out, struct aws_state *,
	    const struct lep_spec *, const char *planned);
/* The execution role. Errors: USAGE (none configured). */
const struct lep_err *aws_role(const char **out, struct aws_state *);
/* The artifact bucket in region, made when missing. Caller frees. */
const struct lep_err *aws_bucket(char **out, struct aws_state *,
	    const char *region);
/*
 * SageMaker's JSON API: op with body (taken; NULL: {}), its answer in
 * *out (caller frees; may be NULL). *code (caller frees; may be NULL):
 * the AWS error code. Errors: as lep_aws_call.
 */
const struct lep_err *aws_sm(struct lep_json **out, char **code,
	    struct aws_state *, const char *region, const char *op,
	    struct lep_json *body);
/* CloudWatch Logs' JSON API, the same way. */
const struct lep_err *aws_logs_call(struct lep_json **out, char **code,
	    struct aws_state *, const char *region, const char *op,
	    struct lep_json *body);
/* Is code an AWS error saying the thing is not there? */
int	 aws_code_missing(const char *code, const struct lep_err *);
/* Is code AWS saying there is no capacity or quota for the request? */
int	 aws_code_capacity(const char *code);
/* The SageMaker instance type for a catalog instance: "ml." + it. */
char	*aws_instance(const char *catalog_instance);
/* HOME/aws/KIND/NAME.json. Caller frees. */
char	*aws_file(const struct aws_state *, const char *kind,
	    const char *name);
/*
 * Print CloudWatch Logs of group whose streams start with prefix ("" for
 * all), following while alive(arg) says so. Errors: as aws_logs_call.
 */
const struct lep_err *aws_print_logs(struct aws_state *, const char *region,
	    const char *group, const char *prefix,
	    const struct lep_logs_req *, struct lep_out *,
	    int (*alive)(void *), void *arg);

/* aws-s3.c */

/*
 * PUT data at s3://bucket/key: one PutObject, or a multipart upload
 * above AWS_MULTIPART_MIN; every part's payload hash signed. Errors: as
 * lep_aws_call.
 */
const struct lep_err *aws_s3_put(struct aws_state *, const char *region,
	    const char *bucket, const char *key, const void *data, size_t len);
/* GET s3://bucket/key into out (at most max). Errors: NOT_FOUND too. */
const struct lep_err *aws_s3_get(struct lep_buf *out, struct aws_state *,
	    const char *region, const char *bucket, const char *key,
	    size_t max);
/* Does bucket exist (and may we use it)? Made when not. */
const struct lep_err *aws_s3_ensure_bucket(struct aws_state *,
	    const char *region, const char *bucket);
/* dir packed as a gzip'd tar into out. Errors: FAILED, NOT_FOUND. */
const struct lep_err *aws_pack(struct lep_buf *out, const char *dir);
/* "s3://bucket/key" into its parts (caller frees both). -1: not one. */
int	 aws_s3_split(char **bucket, char **key, const char *url);

/* aws-sagemaker.c: the service hooks. */
const struct lep_err *aws_deploy(struct lep_deployment **, void *,
	    const struct lep_deploy_req *);
const struct lep_err *aws_status(struct lep_deployment **, void *,
	    const char *);
const struct lep_err *aws_remove(struct lep_deployment **, void *,
	    const char *, int);
const struct lep_err *aws_update(struct lep_deployment **, void *,
	    const char *, int, const char *);
const struct lep_err *aws_endpoint(char **, char **, void *, const char *);
const struct lep_err *aws_sign(char ***, size_t *, void *, const char *,
	    const char *, const char *, const void *, size_t);
const struct lep_err *aws_svc_logs(void *, const char *,
	    const struct lep_logs_req *, struct lep_out *);

/* aws-train.c: the job hooks. */
const struct lep_err *aws_submit(struct lep_job **, void *,
	    const struct lep_submit_req *);
const struct lep_err *aws_job_status(struct lep_job **, void *,
	    const char *);
const struct lep_err *aws_cancel(struct lep_job **, void *, const char *,
	    int);
const struct lep_err *aws_job_logs(struct aws_state *, const char *id,
	    const struct lep_logs_req *, struct lep_out *);

#endif
