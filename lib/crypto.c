/*
 * crypto.c: SHA-256 through OpenSSL's EVP interface, loaded lazily.
 */
#include "crypto.h"

#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dl.h"
#include "error.h"
#include "fs.h"
#include "util.h"

#ifndef LEP_SONAME_CRYPTO
#define LEP_SONAME_CRYPTO "libcrypto.so.3"
#endif

static struct {
	__typeof__(EVP_MD_CTX_new)	*md_ctx_new;
	__typeof__(EVP_MD_CTX_free)	*md_ctx_free;
	__typeof__(EVP_sha256)		*sha256;
	__typeof__(EVP_DigestInit_ex)	*digest_init;
	__typeof__(EVP_DigestUpdate)	*digest_update;
	__typeof__(EVP_DigestFinal_ex)	*digest_final;
} C;
static void	*crypto_handle;

static const struct lep_err *
crypto_load(void)
{
	static const struct lep_dl_sym syms[] = {
		{ "EVP_MD_CTX_new", &C.md_ctx_new },
		{ "EVP_MD_CTX_free", &C.md_ctx_free },
		{ "EVP_sha256", &C.sha256 },
		{ "EVP_DigestInit_ex", &C.digest_init },
		{ "EVP_DigestUpdate", &C.digest_update },
		{ "EVP_DigestFinal_ex", &C.digest_final },
	};

	return lep_dl_load(&crypto_handle, LEP_SONAME_CRYPTO, syms,
	    LEP_ARRAY_SIZE(syms));
}

const struct lep_err *
lep_sha256_new(struct lep_sha256 **out)
{
	const struct lep_err	*err;
	EVP_MD_CTX		*ctx;

	*out = NULL;
	if ((err = crypto_load()) != NULL)
		return err;
	ctx = C.md_ctx_new();
	if (ctx == NULL)
		lep_die_oom();
	if (C.digest_init(ctx, C.sha256(), NULL) != 1) {
		C.md_ctx_free(ctx);
		return lep_err_new(LEP_E_INTERNAL, "SHA-256 is unavailable");
	}
	*out = (struct lep_sha256 *)ctx;
	return NULL;
}

void
lep_sha256_update(struct lep_sha256 *h, const void *p, size_t n)
{
	C.digest_update((EVP_MD_CTX *)h, p, n);
}

void
lep_sha256_final(struct lep_sha256 *h, char hex[LEP_SHA256_HEX])
{
	unsigned char	 md[32];
	unsigned int	 len = 0, i;

	C.digest_final((EVP_MD_CTX *)h, md, &len);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
	C.md_ctx_free((EVP_MD_CTX *)h);
}

void
lep_sha256_free(struct lep_sha256 *h)
{
	if (h != NULL)
		C.md_ctx_free((EVP_MD_CTX *)h);
}

const struct lep_err *
lep_sha256_hex(char hex[LEP_SHA256_HEX], const void *p, size_t n)
{
	const struct lep_err	*err;
	struct lep_sha256	*h;

	if ((err = lep_sha256_new(&h)) != NULL)
		return err;
	lep_sha256_update(h, p, n);
	lep_sha256_final(h, hex);
	return NULL;
}

const struct lep_err *
lep_sha256_file(char hex[LEP_SHA256_HEX], const char *path)
{
	const struct lep_err	*err;
	struct lep_sha256	*h;
	char			 chunk[65536];
	ssize_t			 n;
	int			 fd;

	if ((err = lep_open_read(&fd, path, 0)) != NULL)
		return err;
	if ((err = lep_sha256_new(&h)) != NULL) {
		close(fd);
		return err;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		lep_sha256_update(h, chunk, (size_t)n);
	}
	if (n == -1) {
		err = lep_err_errno(LEP_E_FAILED, "cannot read '%s'", path);
		lep_sha256_free(h);
	} else
		lep_sha256_final(h, hex);
	close(fd);
	return err;
}

const struct lep_err *
lep_random_hex(char *out, size_t nbytes)
{
	unsigned char	 buf[64];
	size_t		 i;
	ssize_t		 n;

	if (nbytes > sizeof(buf))
		return lep_err_new(LEP_E_INTERNAL, "random_hex: %zu bytes",
		    nbytes);
	do
		n = getrandom(buf, nbytes, 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)nbytes)
		return lep_err_errno(LEP_E_INTERNAL, "getrandom");
	for (i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
	lep_wipe(buf, sizeof(buf));
	return NULL;
}
