/*
 * crypto.h: hashing, authenticated encryption, RS256 signatures and
 * randomness. SHA-256, HMAC-SHA256, AES-256-GCM and RS256 come from
 * OpenSSL's libcrypto, loaded on first use; random bytes come from the
 * kernel (getrandom).
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

#define LEP_HMAC_SHA256	32	/* bytes of an HMAC-SHA256 */

/*
 * HMAC-SHA256 of n bytes of p under a key of keylen bytes (at most
 * INT_MAX) into out, which may be the key itself (SigV4 chains them).
 * Errors: LEP_E_INTERNAL (libcrypto missing or failing).
 */
const struct lep_err *lep_hmac_sha256(unsigned char out[LEP_HMAC_SHA256],
	    const void *key, size_t keylen, const void *p, size_t n);

#define LEP_SHA1_HEX	41	/* 40 hex digits and a NUL */

/*
 * SHA-1, only to name files as other tools name them (the AWS SSO token
 * cache), never for security. Errors: LEP_E_INTERNAL.
 */
const struct lep_err *lep_sha1_hex(char hex[LEP_SHA1_HEX], const void *,
	    size_t);

/* n random bytes into out. Errors: INTERNAL. */
const struct lep_err *lep_random_bytes(void *out, size_t n);
/* n random bytes (at most 64) as 2n hex digits into out (2n+1 bytes). */
const struct lep_err *lep_random_hex(char *out, size_t nbytes);

/* AES-256-GCM: a 32-byte key, a 12-byte nonce, a 16-byte tag. */
#define LEP_AEAD_KEY	32
#define LEP_AEAD_NONCE	12
#define LEP_AEAD_TAG	16

/*
 * Encrypt n bytes of pt into ct (n bytes too; they may not overlap) and
 * authenticate them with aad (naad bytes, may be 0), under key and nonce.
 * A nonce must never be used twice with one key: take a random one.
 * Errors: INTERNAL (libcrypto missing or failing).
 */
const struct lep_err *lep_aead_seal(unsigned char *ct,
	    unsigned char tag[LEP_AEAD_TAG],
	    const unsigned char key[LEP_AEAD_KEY],
	    const unsigned char nonce[LEP_AEAD_NONCE], const void *aad,
	    size_t naad, const void *pt, size_t n);
/*
 * Check tag over ct and aad, and decrypt n bytes of ct into pt. Errors:
 * AUTH ("authentication failed": a wrong key, or ct, aad or the tag
 * changed), INTERNAL. On any error pt is wiped.
 */
const struct lep_err *lep_aead_open(unsigned char *pt,
	    const unsigned char key[LEP_AEAD_KEY],
	    const unsigned char nonce[LEP_AEAD_NONCE], const void *aad,
	    size_t naad, const void *ct, size_t n,
	    const unsigned char tag[LEP_AEAD_TAG]);
/* MD5 as 32 hex digits: S3's ETag of a part (a name, not a check). */
#define LEP_MD5_HEX	33
const struct lep_err *lep_md5_hex(char hex[LEP_MD5_HEX], const void *,
	    size_t);

/*
 * Sign n bytes of p with RS256 (RSASSA-PKCS1-v1_5, SHA-256) under the RSA
 * private key in pem (PKCS#8 or PKCS#1, unencrypted; pemlen bytes). *out
 * (caller frees) gets *outlen bytes. Errors: AUTH (not a readable RSA
 * key: OpenSSL's reason), INTERNAL (libcrypto missing).
 */
const struct lep_err *lep_rs256_sign(unsigned char **out, size_t *outlen,
	    const char *pem, size_t pemlen, const void *p, size_t n);

#endif
