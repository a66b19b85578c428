/*
 * crypto.c: SHA-256, HMAC-SHA256 and AES-256-GCM through OpenSSL, loaded
 * lazily; random bytes from the kernel.
 */
#include "crypto.h"

#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/bio.h>

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
	__typeof__(EVP_sha1)		*sha1;
	__typeof__(EVP_DigestInit_ex)	*digest_init;
	__typeof__(EVP_DigestUpdate)	*digest_update;
	__typeof__(EVP_DigestFinal_ex)	*digest_final;
	__typeof__(EVP_CIPHER_CTX_new)	*cipher_ctx_new;
	__typeof__(EVP_CIPHER_CTX_free)	*cipher_ctx_free;
	__typeof__(EVP_CIPHER_CTX_ctrl)	*cipher_ctx_ctrl;
	__typeof__(EVP_aes_256_gcm)	*aes_256_gcm;
	__typeof__(EVP_EncryptInit_ex)	*encrypt_init;
	__typeof__(EVP_EncryptUpdate)	*encrypt_update;
	__typeof__(EVP_EncryptFinal_ex)	*encrypt_final;
	__typeof__(EVP_DecryptInit_ex)	*decrypt_init;
	__typeof__(EVP_DecryptUpdate)	*decrypt_update;
	__typeof__(EVP_DecryptFinal_ex)	*decrypt_final;
	__typeof__(HMAC)		*hmac;
	__typeof__(ERR_get_error)	*err_get;
	__typeof__(ERR_error_string_n)	*err_string;
} C;
static void	*crypto_handle;

static const struct lep_err *
crypto_load(void)
{
	static const struct lep_dl_sym syms[] = {
		{ "EVP_MD_CTX_new", &C.md_ctx_new },
		{ "EVP_MD_CTX_free", &C.md_ctx_free },
		{ "EVP_sha256", &C.sha256 },
		{ "EVP_sha1", &C.sha1 },
		{ "EVP_DigestInit_ex", &C.digest_init },
		{ "EVP_DigestUpdate", &C.digest_update },
		{ "EVP_DigestFinal_ex", &C.digest_final },
		{ "EVP_CIPHER_CTX_new", &C.cipher_ctx_new },
		{ "EVP_CIPHER_CTX_free", &C.cipher_ctx_free },
		{ "EVP_CIPHER_CTX_ctrl", &C.cipher_ctx_ctrl },
		{ "EVP_aes_256_gcm", &C.aes_256_gcm },
		{ "EVP_EncryptInit_ex", &C.encrypt_init },
		{ "EVP_EncryptUpdate", &C.encrypt_update },
		{ "EVP_EncryptFinal_ex", &C.encrypt_final },
		{ "EVP_DecryptInit_ex", &C.decrypt_init },
		{ "EVP_DecryptUpdate", &C.decrypt_update },
		{ "EVP_DecryptFinal_ex", &C.decrypt_final },
		{ "HMAC", &C.hmac },
		{ "ERR_get_error", &C.err_get },
		{ "ERR_error_string_n", &C.err_string },
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
lep_sha1_hex(char hex[LEP_SHA1_HEX], const void *p, size_t n)
{
	const struct lep_err	*err;
	EVP_MD_CTX		*ctx;
	unsigned char		 md[20];
	unsigned int		 len = 0, i;

	if ((err = crypto_load()) != NULL)
		return err;
	if ((ctx = C.md_ctx_new()) == NULL)
		lep_die_oom();
	if (C.digest_init(ctx, C.sha1(), NULL) != 1 ||
	    C.digest_update(ctx, p, n) != 1 ||
	    C.digest_final(ctx, md, &len) != 1 || len != 20) {
		C.md_ctx_free(ctx);
		return lep_err_new(LEP_E_INTERNAL, "SHA-1 is unavailable");
	}
	C.md_ctx_free(ctx);
	for (i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[40] = '\0';
	return NULL;
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
lep_random_bytes(void *out, size_t n)
{
	unsigned char	*p = out;
	ssize_t		 got;

	while (n > 0) {
		got = getrandom(p, n, 0);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			return lep_err_errno(LEP_E_INTERNAL, "getrandom");
		p += got;
		n -= (size_t)got;
	}
	return NULL;
}

const struct lep_err *
lep_random_hex(char *out, size_t nbytes)
{
	const struct lep_err	*err;
	unsigned char		 buf[64];
	size_t			 i;

	if (nbytes > sizeof(buf))
		return lep_err_new(LEP_E_INTERNAL, "random_hex: %zu bytes",
		    nbytes);
	if ((err = lep_random_bytes(buf, nbytes)) != NULL)
		return err;
	for (i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
	lep_wipe(buf, sizeof(buf));
	return NULL;
}

/*
 * A failure of libcrypto itself (not a wrong tag): its error queue,
 * drained, as an internal error.
 */
static const struct lep_err *
crypto_fail(const char *what)
{
	unsigned long	 e, first = 0;
	char		 text[256];

	while ((e = C.err_get()) != 0)
		if (first == 0)
			first = e;
	if (first == 0)
		return lep_err_new(LEP_E_INTERNAL, "%s failed", what);
	C.err_string(first, text, sizeof(text));
	return lep_err_new(LEP_E_INTERNAL, "%s failed: %s", what, text);
}

const struct lep_err *
lep_hmac_sha256(unsigned char out[LEP_HMAC_SHA256], const void *key,
    size_t keylen, const void *p, size_t n)
{
	const struct lep_err	*err;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 len = 0;

	if ((err = crypto_load()) != NULL)
		return err;
	if (keylen > INT_MAX)
		return lep_err_new(LEP_E_INTERNAL, "HMAC: a %zu-byte key",
		    keylen);
	/* Through md, so that out may be the key. */
	if (C.hmac(C.sha256(), key, (int)keylen, p, n, md, &len) == NULL ||
	    len != LEP_HMAC_SHA256)
		return crypto_fail("HMAC-SHA256");
	memcpy(out, md, LEP_HMAC_SHA256);
	lep_wipe(md, sizeof(md));
	return NULL;
}

const struct lep_err *
lep_aead_seal(unsigned char *ct, unsigned char tag[LEP_AEAD_TAG],
    const unsigned char key[LEP_AEAD_KEY],
    const unsigned char nonce[LEP_AEAD_NONCE], const void *aad, size_t naad,
    const void *pt, size_t n)
{
	const struct lep_err	*err = NULL;
	EVP_CIPHER_CTX		*ctx;
	unsigned char		 fin[LEP_AEAD_TAG];	/* GCM adds none */
	int			 len;

	if ((err = crypto_load()) != NULL)
		return err;
	if (n > INT_MAX || naad > INT_MAX)
		return lep_err_new(LEP_E_INTERNAL, "seal: %zu bytes", n);
	if ((ctx = C.cipher_ctx_new()) == NULL)
		lep_die_oom();
	/* GCM's default nonce is the 12 bytes we pass. */
	if (C.encrypt_init(ctx, C.aes_256_gcm(), NULL, key, nonce) != 1 ||
	    (naad > 0 && C.encrypt_update(ctx, NULL, &len, aad,
	    (int)naad) != 1) ||
	    (n > 0 && C.encrypt_update(ctx, ct, &len, pt, (int)n) != 1) ||
	    C.encrypt_final(ctx, fin, &len) != 1 ||
	    C.cipher_ctx_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, LEP_AEAD_TAG,
	    tag) != 1)
		err = crypto_fail("AES-256-GCM seal");
	C.cipher_ctx_free(ctx);
	return err;
}

const struct lep_err *
lep_aead_open(unsigned char *pt, const unsigned char key[LEP_AEAD_KEY],
    const unsigned char nonce[LEP_AEAD_NONCE], const void *aad, size_t naad,
    const void *ct, size_t n, const unsigned char tag[LEP_AEAD_TAG])
{
	const struct lep_err	*err = NULL;
	EVP_CIPHER_CTX		*ctx;
	unsigned char		 t[LEP_AEAD_TAG], fin[LEP_AEAD_TAG];
	int			 len;

	if ((err = crypto_load()) != NULL)
		return err;
	if (n > INT_MAX || naad > INT_MAX)
		return lep_err_new(LEP_E_INTERNAL, "open: %zu bytes", n);
	if ((ctx = C.cipher_ctx_new()) == NULL)
		lep_die_oom();
	memcpy(t, tag, sizeof(t));	/* the ctrl takes a non-const pointer */
	if (C.decrypt_init(ctx, C.aes_256_gcm(), NULL, key, nonce) != 1 ||
	    (naad > 0 && C.decrypt_update(ctx, NULL, &len, aad,
	    (int)naad) != 1) ||
	    (n > 0 && C.decrypt_update(ctx, pt, &len, ct, (int)n) != 1) ||
	    C.cipher_ctx_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, LEP_AEAD_TAG,
	    t) != 1)
		err = crypto_fail("AES-256-GCM open");
	else if (C.decrypt_final(ctx, fin, &len) != 1) {
		/* The tag does not match: wrong key, data or AAD. */
		while (C.err_get() != 0)
			;
		err = lep_err_new(LEP_E_AUTH, "authentication failed");
	}
	/* Unauthenticated plaintext must never be used, nor left behind. */
	if (err != NULL)
		lep_wipe(pt, n);
	C.cipher_ctx_free(ctx);
	return err;
}

/*
 * MD5, for what S3 asks of it (a part's ETag in CompleteMultipartUpload):
 * a name, never a security check. Its own symbols, loaded on first use.
 */
static struct {
	__typeof__(EVP_md5)	*md5;
	__typeof__(EVP_Digest)	*digest;
} M;
static void	*md5_handle;

const struct lep_err *
lep_md5_hex(char hex[LEP_MD5_HEX], const void *p, size_t n)
{
	static const struct lep_dl_sym syms[] = {
		{ "EVP_md5", &M.md5 },
		{ "EVP_Digest", &M.digest },
	};
	const struct lep_err	*err;
	unsigned char		 md[16];
	unsigned int		 len = 0, i;

	if ((err = lep_dl_load(&md5_handle, LEP_SONAME_CRYPTO, syms,
	    LEP_ARRAY_SIZE(syms))) != NULL)
		return err;
	if (M.digest(p, n, md, &len, M.md5(), NULL) != 1 || len != 16)
		return lep_err_new(LEP_E_INTERNAL, "libcrypto: MD5 failed");
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return NULL;
}

/*
 * RS256 (RSASSA-PKCS1-v1_5 with SHA-256), for the JWTs a Google service
 * account signs. Its own symbols, loaded on first use.
 */
static struct {
	__typeof__(BIO_new_mem_buf)		*bio_mem;
	__typeof__(BIO_free)			*bio_free;
	__typeof__(PEM_read_bio_PrivateKey)	*read_key;
	__typeof__(EVP_PKEY_free)		*pkey_free;
	__typeof__(EVP_PKEY_get_base_id)	*pkey_id;
	__typeof__(EVP_MD_CTX_new)		*ctx_new;
	__typeof__(EVP_MD_CTX_free)		*ctx_free;
	__typeof__(EVP_DigestSignInit)		*sign_init;
	__typeof__(EVP_DigestSign)		*sign;
	__typeof__(EVP_sha256)			*sha256;
	__typeof__(ERR_get_error)		*err_get;
	__typeof__(ERR_error_string_n)		*err_string;
} R;
static void	*rsa_handle;

static const struct lep_err *
rsa_fail(const char *what)
{
	unsigned long	 e, first = 0;
	char		 text[256];

	while ((e = R.err_get()) != 0)
		if (first == 0)
			first = e;
	if (first == 0)
		return lep_err_new(LEP_E_AUTH, "%s", what);
	R.err_string(first, text, sizeof(text));
	return lep_err_new(LEP_E_AUTH, "%s: %s", what, text);
}

const struct lep_err *
lep_rs256_sign(unsigned char **out, size_t *outlen, const char *pem,
    size_t pemlen, const void *p, size_t n)
{
	static const struct lep_dl_sym syms[] = {
		{ "BIO_new_mem_buf", &R.bio_mem },
		{ "BIO_free", &R.bio_free },
		{ "PEM_read_bio_PrivateKey", &R.read_key },
		{ "EVP_PKEY_free", &R.pkey_free },
		{ "EVP_PKEY_get_base_id", &R.pkey_id },
		{ "EVP_MD_CTX_new", &R.ctx_new },
		{ "EVP_MD_CTX_free", &R.ctx_free },
		{ "EVP_DigestSignInit", &R.sign_init },
		{ "EVP_DigestSign", &R.sign },
		{ "EVP_sha256", &R.sha256 },
		{ "ERR_get_error", &R.err_get },
		{ "ERR_error_string_n", &R.err_string },
	};
	const struct lep_err	*err = NULL;
	BIO			*bio = NULL;
	EVP_PKEY		*key = NULL;
	EVP_MD_CTX		*ctx = NULL;
	unsigned char		*sig = NULL;
	size_t			 len = 0;

	*out = NULL;
	*outlen = 0;
	if ((err = lep_dl_load(&rsa_handle, LEP_SONAME_CRYPTO, syms,
	    LEP_ARRAY_SIZE(syms))) != NULL)
		return err;
	if (pemlen > INT_MAX)
		return lep_err_new(LEP_E_AUTH, "private key too large");
	if ((bio = R.bio_mem(pem, (int)pemlen)) == NULL)
		lep_die_oom();
	/* A NULL callback with a NULL passphrase: never prompts. */
	if ((key = R.read_key(bio, NULL, NULL, (void *)"")) == NULL) {
		err = rsa_fail("cannot read the PEM private key");
		goto done;
	}
	if (R.pkey_id(key) != EVP_PKEY_RSA) {
		err = lep_err_new(LEP_E_AUTH, "the private key is not RSA");
		goto done;
	}
	if ((ctx = R.ctx_new()) == NULL)
		lep_die_oom();
	if (R.sign_init(ctx, NULL, R.sha256(), NULL, key) != 1 ||
	    R.sign(ctx, NULL, &len, p, n) != 1) {
		err = rsa_fail("RS256 signing failed");
		goto done;
	}
	sig = xmalloc(len);
	if (R.sign(ctx, sig, &len, p, n) != 1) {
		free(sig);
		err = rsa_fail("RS256 signing failed");
		goto done;
	}
	*out = sig;
	*outlen = len;
done:
	R.ctx_free(ctx);
	R.pkey_free(key);
	R.bio_free(bio);
	return err;
}
