/*
 * gzip.h: gzip streams (RFC 1952) in memory, through zlib loaded on first
 * use: the model.tar.gz and sourcedir.tar.gz that the clouds take; and
 * zlib streams (RFC 1950), as git stores its loose objects.
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

/*
 * A zlib stream (len bytes) inflated into out, as lep_gunzip. Errors:
 * INTERNAL (no zlib), FAILED ("zlib: truncated", "zlib: not a valid zlib
 * stream", larger than max).
 */
const struct lep_err *lep_inflate(struct lep_buf *out, const void *in,
	    size_t len, size_t max);
/* Can zlib be loaded? Errors: INTERNAL, naming the library. */
const struct lep_err *lep_zlib_ready(void);

#endif
