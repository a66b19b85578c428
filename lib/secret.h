/*
 * secret.h: the secret store: one file per name in HOME/secrets/ (0700),
 * each value sealed with AES-256-GCM under a key from $LEPTON_SECRET_KEY
 * (64 hex digits) or HOME/secret.key (0600, 32 random bytes, made by the
 * first set). lepton-secret(1) describes the file format.
 */
#ifndef LEPTON_LIB_SECRET_H
#define LEPTON_LIB_SECRET_H

#include <stddef.h>

struct lep_err;

#define LEP_SECRET_MAX		(64 * 1024)	/* bytes in one value */
#define LEP_SECRET_KEY_ENV	"LEPTON_SECRET_KEY"

struct lep_secret_info {
	char		*name;		/* owned */
	long long	 set;		/* epoch seconds; -1: not a secret */
};

/* Does the store take name: an environment variable's, not LEPTON_*? */
int	 lep_secret_name_ok(const char *name);

/*
 * Would lep_secret_set take name and value? Errors: USAGE (a bad name; a
 * value empty, over LEP_SECRET_MAX or holding a NUL byte).
 */
const struct lep_err *lep_secret_check(const char *name, const char *value,
	    size_t len);

/* HOME/secret.key; caller frees. */
char	*lep_secret_key_path(const char *home);

/*
 * Seal len bytes of value under name, replacing what name held. Makes
 * HOME/secrets (0700) and, unless $LEPTON_SECRET_KEY is set, the key
 * file when they are missing (*new_key_out, when not NULL, says whether
 * it did). Errors: USAGE (a bad name; a value empty, over
 * LEP_SECRET_MAX or holding a NUL byte), AUTH (the key or the store may
 * be used by others, or is not a key), FAILED.
 */
const struct lep_err *lep_secret_set(int *new_key_out, const char *home,
	    const char *name, const char *value, size_t len);

/*
 * The value stored under name, NUL-terminated: free with lep_secret_free.
 * Errors: NOT_FOUND (nothing stored under name), AUTH (a wrong key, a
 * file changed or renamed, a key or store others may use, no key),
 * FAILED (not a secret file), UNSUPPORTED (a newer format).
 */
const struct lep_err *lep_secret_get(char **out, const char *home,
	    const char *name);
/* Wipe and free a value from lep_secret_get (accepts NULL). */
void	 lep_secret_free(char *);

/*
 * Every name stored, sorted, with when it was set; no key needed.
 * Free with lep_secret_list_free. Errors: AUTH (the store may be used by
 * others), FAILED.
 */
const struct lep_err *lep_secret_list(struct lep_secret_info **out,
	    size_t *n_out, const char *home);
void	 lep_secret_list_free(struct lep_secret_info *, size_t n);

/* Forget name. Errors: USAGE (a bad name), NOT_FOUND, AUTH, FAILED. */
const struct lep_err *lep_secret_remove(const char *home, const char *name);

#endif
