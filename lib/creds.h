/*
 * creds.h: every credential and secret lepton reads goes through here:
 * named sources tried in the order the engine's own client tries them
 * (the winner is kept for 'lepton check'), secret files refused when
 * others may read them, a spec's secrets from the environment or the
 * secret store, and values wiped when released.
 */
#ifndef LEPTON_LIB_CREDS_H
#define LEPTON_LIB_CREDS_H

#include <stddef.h>

struct lep_buf;
struct lep_err;
struct lep_json;

/* The size cap on a file that holds a credential or a token. */
#define LEP_CREDS_FILE_MAX	(1 << 20)

enum lep_cred_kind {
	LEP_CRED_ENV,		/* where: a variable name; empty is unset */
	LEP_CRED_FILE,		/* where: a path (0600, ours) */
};

/* One place a credential may come from. */
struct lep_cred_source {
	const char		*name;	/* as 'lepton check' shows it */
	enum lep_cred_kind	 kind;
	const char		*where;	/* NULL: this source is not set up */
	/* Turns a file's text into the value (owned by the caller). */
	char			*(*parse)(const char *text, size_t len);
};

struct lep_cred {
	char		*value;		/* owned; NULL when no source had it */
	const char	*source;	/* the winner's name, borrowed */
};

/*
 * The first source that has a value wins. A file source that is set up
 * but unreadable, or readable by others, is an error (AUTH or FAILED):
 * falling through to the next source would hide the mistake. Release
 * out with lep_cred_release even on error.
 */
const struct lep_err *lep_creds_resolve(struct lep_cred *out,
	    const struct lep_cred_source *, size_t n);
/* Wipe and free the value. */
void	 lep_cred_release(struct lep_cred *);

/*
 * Read a file that holds secrets into b (initialised here): refused
 * (AUTH) when group or others may read it, or when another user owns it
 * (a symlink is followed: the file it names is checked).
 * Errors: NOT_FOUND, AUTH, FAILED (larger than max).
 */
const struct lep_err *lep_creds_read_file(struct lep_buf *b,
	    const char *path, size_t max);

/*
 * The values of the secrets named, as a JSON object (free with
 * lep_json_free_wiped). Each comes from lepton's environment when set
 * there and not empty (an explicit override), else from the secret store
 * in home (see secret.h). Errors: AUTH (one is in neither: the hint
 * names 'lepton secret set NAME' and 'lepton COMMAND'; or the store
 * refused it), FAILED, UNSUPPORTED.
 */
const struct lep_err *lep_creds_secret_env(struct lep_json **out,
	    const char *home, const char *const *names, size_t n,
	    const char *command);

#endif
