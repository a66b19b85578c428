/*
 * aws-s3.c: artifacts in S3, path-style: the bucket made when missing, an
 * object put whole or in parts (every part's payload hash signed), one
 * read back, and a directory packed as the gzip'd tar SageMaker takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws-priv.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/gzip.h"
#include "../lib/http.h"
#include "../lib/out.h"
#include "../lib/tar.h"
#include "../lib/util.h"

/* One S3 request; the answer's body in resp (caller releases). */
static const struct lep_err *
s3_call(struct lep_http_resp *resp, char **code, struct aws_state *s,
    const char *region, const char *method, const char *path,
    const char *query, const void *body, size_t len, size_t max)
{
	const struct lep_err	*err;
	struct lep_aws_req	 req;

	lep_http_resp_init(resp);
	if (code != NULL)
		*code = NULL;
	if ((err = aws_creds(s)) != NULL)
		return err;
	memset(&req, 0, sizeof(req));
	req.service = "s3";
	req.region = region;
	req.method = method;
	req.path = path;
	req.query = query;
	req.body = body;
	req.body_len = len;
	req.s3 = 1;
	/* PUT of a whole object or part, GET, HEAD, DELETE: all repeatable.
	   The multipart POSTs name the upload they belong to. */
	req.idempotent = 1;
	req.max_body = max;
	req.content_type = body != NULL ? "application/octet-stream" : NULL;
	return lep_aws_call(resp, code, &s->creds, &req);
}

const struct lep_err *
aws_s3_ensure_bucket(struct aws_state *s, const char *region,
    const char *bucket)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	char			*path = xasprintf("/%s", bucket), *code = NULL;
	char			*cfg = NULL;

	err = s3_call(&resp, &code, s, region, "HEAD", path, NULL, NULL, 0,
	    0);
	lep_http_resp_release(&resp);
	if (err != NULL && (resp.status == 404 || aws_code_missing(code,
	    err))) {
		free(code);
		code = NULL;
		/* us-east-1 takes no LocationConstraint; the others must. */
		if (strcmp(region, "us-east-1") != 0)
			cfg = xasprintf("<CreateBucketConfiguration xmlns=\""
			    "http://s3.amazonaws.com/doc/2006-03-01/\">"
			    "<LocationConstraint>%s</LocationConstraint>"
			    "</CreateBucketConfiguration>", region);
		err = s3_call(&resp, &code, s, region, "PUT", path, NULL, cfg,
		    cfg ? strlen(cfg) : 0, 0);
		lep_http_resp_release(&resp);
		if (err != NULL && (lep_streq(code, "BucketAlreadyOwnedByYou")))
			err = NULL;
		if (err == NULL && s->out != NULL)
			lep_out_info(s->out, "aws: made bucket s3://%s in %s",
			    bucket, region);
	}
	if (err != NULL)
		err = lep_err_hint(lep_err_new(err->code, "S3 bucket '%s': %s",
		    bucket, err->msg), "name one of yours as \"bucket\" in the "
		    "\"aws\" section of HOME/config.json");
	free(cfg);
	free(code);
	free(path);
	return err;
}

/* The text of <tag>...</tag> in xml, or NULL. Caller frees. */
static char *
xml_text(const char *xml, const char *tag)
{
	char	*open = xasprintf("<%s>", tag);
	char	*close = xasprintf("</%s>", tag);
	char	*a, *b, *v = NULL;

	if ((a = strstr(xml, open)) != NULL &&
	    (b = strstr(a, close)) != NULL)
		v = xstrndup(a + strlen(open), (size_t)(b - a - strlen(open)));
	free(open);
	free(close);
	return v;
}

static const struct lep_err *
put_multipart(struct aws_state *s, const char *region, const char *path,
    const void *data, size_t len)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_buf		 done = LEP_BUF_INIT;
	char			*id = NULL, *q, *abort_q;
	char			 etag[LEP_MD5_HEX];
	size_t			 off, n, part;

	err = s3_call(&resp, NULL, s, region, "POST", path, "uploads=", NULL,
	    0, 1 << 20);
	if (err == NULL && (id = xml_text(resp.body.buf, "UploadId")) == NULL)
		err = lep_err_new(LEP_E_PROVIDER, "S3 CreateMultipartUpload: "
		    "no UploadId in its answer");
	lep_http_resp_release(&resp);
	if (err != NULL)
		return err;
	lep_buf_add(&done, "<CompleteMultipartUpload>");
	for (off = 0, part = 1; err == NULL && off < len; off += n, part++) {
		n = len - off < AWS_PART_SIZE ? len - off : AWS_PART_SIZE;
		/* Sorted by name: partNumber before uploadId. */
		q = xasprintf("partNumber=%zu&uploadId=%s", part, id);
		err = s3_call(&resp, NULL, s, region, "PUT", path, q,
		    (const char *)data + off, n, 1 << 20);
		free(q);
		/* A part's ETag is its MD5 (not KMS-encrypted). */
		if (err == NULL && (err = lep_md5_hex(etag,
		    (const char *)data + off, n)) == NULL)
			lep_buf_addf(&done, "<Part><PartNumber>%zu</PartNumber>"
			    "<ETag>\"%s\"</ETag></Part>", part, etag);
		lep_http_resp_release(&resp);
	}
	lep_buf_add(&done, "</CompleteMultipartUpload>");
	if (err == NULL) {
		q = xasprintf("uploadId=%s", id);
		err = s3_call(&resp, NULL, s, region, "POST", path, q,
		    done.buf, done.len, 1 << 20);
		lep_http_resp_release(&resp);
		free(q);
	}
	if (err != NULL) {
		/* No parts left to be paid for. */
		abort_q = xasprintf("uploadId=%s", id);
		(void)s3_call(&resp, NULL, s, region, "DELETE", path, abort_q,
		    NULL, 0, 1 << 20);
		lep_http_resp_release(&resp);
		free(abort_q);
	}
	lep_buf_release(&done);
	free(id);
	return err;
}

const struct lep_err *
aws_s3_put(struct aws_state *s, const char *region, const char *bucket,
    const char *key, const void *data, size_t len)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	char			*path = xasprintf("/%s/%s", bucket, key);

	if (len > AWS_MULTIPART_MIN)
		err = put_multipart(s, region, path, data, len);
	else {
		err = s3_call(&resp, NULL, s, region, "PUT", path, NULL, data,
		    len, 1 << 20);
		lep_http_resp_release(&resp);
	}
	free(path);
	return err;
}

const struct lep_err *
aws_s3_get(struct lep_buf *out, struct aws_state *s, const char *region,
    const char *bucket, const char *key, size_t max)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	char			*path = xasprintf("/%s/%s", bucket, key);
	char			*code = NULL;

	lep_buf_init(out, 0);
	err = s3_call(&resp, &code, s, region, "GET", path, NULL, NULL, 0,
	    max);
	if (err != NULL && (resp.status == 404 || aws_code_missing(code, err)))
		err = lep_err_new(LEP_E_NOT_FOUND, "s3://%s/%s: no such object",
		    bucket, key);
	if (err == NULL) {
		lep_buf_release(out);
		*out = resp.body;
		lep_buf_init(&resp.body, 0);
	}
	lep_http_resp_release(&resp);
	free(code);
	free(path);
	return err;
}

const struct lep_err *
aws_pack(struct lep_buf *out, const char *dir)
{
	const struct lep_err	*err;
	struct lep_buf		 tar;

	lep_buf_init(out, 0);
	if ((err = lep_tar_dir(&tar, dir, LEP_TAR_MAX, NULL)) != NULL)
		return err;
	lep_buf_release(out);
	err = lep_gzip(out, tar.buf, tar.len);
	lep_buf_release(&tar);
	return err;
}

int
aws_s3_split(char **bucket, char **key, const char *url)
{
	const char	*b, *slash;

	*bucket = *key = NULL;
	if (!lep_starts_with(url, "s3://"))
		return -1;
	b = url + 5;
	if ((slash = strchr(b, '/')) == NULL || slash == b)
		return -1;
	*bucket = xstrndup(b, (size_t)(slash - b));
	*key = xstrdup(slash + 1);
	return 0;
}
