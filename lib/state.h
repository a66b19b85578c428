/*
 * state.h: the state repository, HOME/state: a bare git repository
 * (libgit2, loaded on first use) in which every mutation is one commit,
 * model versions are tags and aliases are refs with a reflog. Callers hold
 * the state lock (lep_lock) around every write.
 */
#ifndef LEPTON_LIB_STATE_H
#define LEPTON_LIB_STATE_H

#include <stddef.h>

struct lep_buf;
struct lep_err;
struct lep_state;

#define LEP_OID_HEX	41	/* 40 hex digits and a NUL */

/*
 * Whether a libgit2 call was cut short by the watchdog in this process:
 * libgit2 (and the libcrypto under it) may hold locks and allocations
 * that nothing will release, so the process should end without running
 * exit handlers over them (cmd/main.c does).
 */
int	 lep_state_abandoned(void);

/*
 * Open HOME/state. With write (only under the state lock): create it if
 * missing (bare, fsync on, reflogs for every ref) and remove the *.lock
 * files a killed process left. libgit2 makes it under lepton's umask
 * (lep_umask_private): 0700 and 0600. Errors: NOT_FOUND (none yet, not
 * write), AUTH (someone else may write to it: lep_check_private_dir),
 * INTERNAL (no libgit2), FAILED.
 */
const struct lep_err *lep_state_open(struct lep_state **out, const char *home,
	    int write);
void	 lep_state_close(struct lep_state *);
/* fsync of the git dir: on by default; off only for test data generators. */
void	 lep_state_set_fsync(int on);

/*
 * A file's bytes at rev (a commit id, ref or NULL for HEAD) into out
 * (initialised here). Errors: NOT_FOUND.
 */
const struct lep_err *lep_state_read(struct lep_buf *out, struct lep_state *,
	    const char *rev, const char *path);
/* The blob id of path at rev ("" when absent). */
const struct lep_err *lep_state_blob_id(char out[LEP_OID_HEX],
	    struct lep_state *, const char *rev, const char *path);
/* The names in directory path at HEAD (caller frees each and the array). */
const struct lep_err *lep_state_list(char ***out, size_t *n_out,
	    struct lep_state *, const char *path);

/*
 * Every file directly in directory path at HEAD: names and contents
 * (NUL-terminated), in tree order. Free both with lep_strv_free-like loops
 * (each string, then the arrays).
 */
const struct lep_err *lep_state_read_dir(char ***names_out, char ***data_out,
	    size_t *n_out, struct lep_state *, const char *path);
/* Refs matching glob and the commit each points at, in one pass. */
const struct lep_err *lep_state_refs_targets(char ***names_out,
	    char ***oids_out, size_t *n_out, struct lep_state *,
	    const char *glob);

struct lep_change {
	const char	*path;
	const char	*data;		/* NULL: remove path */
	size_t		 len;
};

/*
 * One commit on HEAD with these changes, the user as author, and message
 * (subject, blank line, trailers). oid_out may be NULL.
 */
const struct lep_err *lep_state_commit(char oid_out[LEP_OID_HEX],
	    struct lep_state *, const struct lep_change *, size_t n,
	    const char *message);

/* Point ref at a commit (HEAD when oid is NULL), with a reflog line. */
const struct lep_err *lep_state_ref_set(struct lep_state *, const char *ref,
	    const char *oid, const char *log_message, int force);
/* Errors: NOT_FOUND. */
const struct lep_err *lep_state_ref_get(char out[LEP_OID_HEX],
	    struct lep_state *, const char *ref);
/* Names of refs matching glob ("refs/tags/models/iris/ *"), sorted. */
const struct lep_err *lep_state_refs(char ***out, size_t *n_out,
	    struct lep_state *, const char *glob);
/* How many times ref has moved (its reflog's length). */
const struct lep_err *lep_state_reflog_count(size_t *out, struct lep_state *,
	    const char *ref);

struct lep_state_entry {
	char		 oid[LEP_OID_HEX];	/* the commit */
	char		 blob[LEP_OID_HEX];	/* path's blob there */
	long long	 time;			/* epoch seconds */
	char		*author;
	char		*message;
};

/*
 * The commits in which path changed, or whose message holds the line mark
 * (NULL: none), or every commit when path is NULL; newest first, at most
 * max (0: all). Free with lep_state_entries_free.
 */
const struct lep_err *lep_state_log(struct lep_state_entry **out,
	    size_t *n_out, struct lep_state *, const char *path,
	    const char *mark, size_t max);
void	 lep_state_entries_free(struct lep_state_entry *, size_t);

/* Push HEAD's branch to, or fast-forward it from, a git remote URL. */
const struct lep_err *lep_state_push(struct lep_state *, const char *url);
const struct lep_err *lep_state_pull(struct lep_state *, const char *url);

#endif
