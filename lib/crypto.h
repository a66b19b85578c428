/*
 * crypto.h: hashing and randomness. SHA-256 comes from OpenSSL's libcrypto,
 * loaded on first use; random bytes come from the kernel.
 */
#ifndef LEPTON_LIB_CRYPTO_H
#define LEPTON_LIB_CRYPTO_H

#include <stddef.h>

struct lep_err;
struct lep_sha256;

#define LEP_SHA256_HEX	65	/* 64 hex digits and a NUL */

/* Errors: LEP_E_INTERNAL (libcrypto missing). Free with _final or _free. */
const struct lep_err *lep_sha256_new(struct lep_sha256 **out);
void	 lep_sha256_update(struct lep_sha256 *, const void *, size_t);
/* Write the hex digest and free the context. */
void	 lep_sha256_final(struct lep_sha256 *, char hex[LEP_SHA256_HEX]);
void	 lep_sha256_free(struct lep_sha256 *);
const struct lep_err *lep_sha256_hex(char hex[LEP_SHA256_HEX], const void *,
	    size_t);
/* Hash of a file's bytes. Errors: NOT_FOUND, FAILED. */
const struct lep_err *lep_sha256_file(char hex[LEP_SHA256_HEX],
	    const char *path);

/* n random bytes as 2n hex digits into out (2n+1 bytes). */
const struct lep_err *lep_random_hex(char *out, size_t nbytes);
#endif
