/*
 * gzip.h: gzip streams (RFC 1952) in memory, through zlib loaded on first
 * use: the model.tar.gz and sourcedir.tar.gz that SageMaker takes.
 */
#ifndef LEPTON_LIB_GZIP_H
#define LEPTON_LIB_GZIP_H

#include <stddef.h>

struct lep_buf;
struct lep_err;

/*
 * in (len bytes) compressed into out (initialised here). Errors: INTERNAL
 * (no zlib), FAILED. out: lep_buf_release, also on error.
 */
const struct lep_err *lep_gzip(struct lep_buf *out, const void *in,
	    size_t len);
/*
 * A gzip stream (len bytes) inflated into out (initialised here), at most
 * max bytes. Errors: INTERNAL (no zlib), FAILED (not gzip, truncated,
 * larger than max).
 */
const struct lep_err *lep_gunzip(struct lep_buf *out, const void *in,
	    size_t len, size_t max);

#endif
