/*
 * gzip.c: gzip in memory with zlib, loaded with dl on first use so that
 * no command pays for it at start-up (see dl.h).
 */
#include "gzip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "dl.h"
#include "error.h"
#include "util.h"

#ifndef LEP_SONAME_Z
#define LEP_SONAME_Z	"libz.so.1"
#endif

/* windowBits for a gzip header and trailer (16 + 15), and to read one. */
#define GZ_WRITE_BITS	31
#define GZ_READ_BITS	31
/* windowBits for a zlib header and trailer (RFC 1950: git's objects). */
#define ZLIB_BITS	15

static struct {
	__typeof__(deflateInit2_)	*deflateInit2_;
	__typeof__(deflate)		*deflate;
	__typeof__(deflateEnd)		*deflateEnd;
	__typeof__(inflateInit2_)	*inflateInit2_;
	__typeof__(inflate)		*inflate;
	__typeof__(inflateEnd)		*inflateEnd;
} Z;
static void	*z_handle;

static const struct lep_err *
z_load(void)
{
	static const struct lep_dl_sym syms[] = {
		{ "deflateInit2_", &Z.deflateInit2_ },
		{ "deflate", &Z.deflate },
		{ "deflateEnd", &Z.deflateEnd },
		{ "inflateInit2_", &Z.inflateInit2_ },
		{ "inflate", &Z.inflate },
		{ "inflateEnd", &Z.inflateEnd },
	};

	return lep_dl_load(&z_handle, LEP_SONAME_Z, syms,
	    LEP_ARRAY_SIZE(syms));
}

const struct lep_err *
lep_gzip(struct lep_buf *out, const void *in, size_t len)
{
	const struct lep_err	*err;
	z_stream		 zs;
	unsigned char		 chunk[65536];
	int			 zrc;

	lep_buf_init(out, len / 2 + 64);
	if ((err = z_load()) != NULL)
		return err;
	memset(&zs, 0, sizeof(zs));
	if (Z.deflateInit2_(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
	    GZ_WRITE_BITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
	    (int)sizeof(zs)) != Z_OK)
		return lep_err_new(LEP_E_FAILED, "zlib cannot start");
	zs.next_in = (unsigned char *)(uintptr_t)in;
	/* Inputs here are at most LEP_TAR_MAX (1 GiB): they fit uInt. */
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zrc = Z.deflate(&zs, Z_FINISH);
		lep_buf_addn(out, chunk, sizeof(chunk) - zs.avail_out);
	} while (zrc == Z_OK || zrc == Z_BUF_ERROR);
	Z.deflateEnd(&zs);
	if (zrc != Z_STREAM_END)
		return lep_err_new(LEP_E_FAILED, "gzip: zlib failed (%d)", zrc);
	return NULL;
}

/* in inflated with windowBits bits into out, at most max bytes. */
static const struct lep_err *
inflate_all(struct lep_buf *out, const void *in, size_t len, size_t max,
    int bits, const char *what)
{
	const struct lep_err	*err;
	z_stream		 zs;
	unsigned char		 chunk[65536];
	int			 zrc;

	lep_buf_init(out, len * 2 + 64);
	if ((err = z_load()) != NULL)
		return err;
	memset(&zs, 0, sizeof(zs));
	if (Z.inflateInit2_(&zs, bits, ZLIB_VERSION, (int)sizeof(zs)) != Z_OK)
		return lep_err_new(LEP_E_FAILED, "zlib cannot start");
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zrc = Z.inflate(&zs, Z_NO_FLUSH);
		lep_buf_addn(out, chunk, sizeof(chunk) - zs.avail_out);
	} while (zrc == Z_OK && out->len <= max);
	Z.inflateEnd(&zs);
	if (out->len > max)
		return lep_err_new(LEP_E_FAILED, "%s: more than %zu bytes "
		    "once inflated", what, max);
	if (zrc != Z_STREAM_END)
		return lep_err_new(LEP_E_FAILED, "%s: %s", what,
		    zrc == Z_BUF_ERROR ? "truncated" : what[0] == 'g' ?
		    "not a valid gzip stream" : "not a valid zlib stream");
	return NULL;
}

const struct lep_err *
lep_gunzip(struct lep_buf *out, const void *in, size_t len, size_t max)
{
	return inflate_all(out, in, len, max, GZ_READ_BITS, "gzip");
}

const struct lep_err *
lep_inflate(struct lep_buf *out, const void *in, size_t len, size_t max)
{
	return inflate_all(out, in, len, max, ZLIB_BITS, "zlib");
}

const struct lep_err *
lep_zlib_ready(void)
{
	return z_load();
}
