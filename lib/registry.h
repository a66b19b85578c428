/*
 * registry.h: model versions. A version is a manifest in the state
 * repository (models/NAME/vN.json: every file's sha256 and size, when,
 * where it came from, metrics, parent) plus a tag refs/tags/models/NAME/vN;
 * the bytes live once, content-addressed, in HOME/objects/sha256/.
 * Aliases are refs/lepton/aliases/NAME/ALIAS, moved atomically with a
 * reflog.
 */
#ifndef LEPTON_LIB_REGISTRY_H
#define LEPTON_LIB_REGISTRY_H

#include <stddef.h>

struct lep_err;
struct lep_json;
struct lep_state;

/* What one commit will write: files, then tags pointing at the commit. */
struct lep_txn {
	char	**paths;
	char	**data;
	size_t	  n;
	char	**tags;
	size_t	  ntags;
};

void	 lep_txn_put(struct lep_txn *, const char *path, char *data_owned);
void	 lep_txn_tag(struct lep_txn *, const char *ref);
/* Commit, then create the tags. oid_out may be NULL. */
const struct lep_err *lep_txn_commit(char *oid_out, struct lep_state *,
	    struct lep_txn *, const char *message);
void	 lep_txn_release(struct lep_txn *);

/*
 * Register the files under path (a directory or one file) as a version of
 * model name: the same bytes give the same version (*created_out 0), new
 * bytes the next one. source and metrics (may be NULL) go into a new
 * manifest; parent ("v2" or NULL) too. The manifest and tag join txn.
 * *version_out ("v3") and *manifest_out: caller frees.
 */
const struct lep_err *lep_registry_register(char **version_out,
	    int *created_out, struct lep_json **manifest_out,
	    struct lep_txn *, struct lep_state *, const char *home,
	    const char *name, const char *path, const struct lep_json *source,
	    const struct lep_json *metrics, const char *parent);

/*
 * NAME, NAME@vN or NAME@ALIAS to a version ("v3"; caller frees), the
 * latest when bare. Errors: NOT_FOUND.
 */
const struct lep_err *lep_registry_resolve(char **version_out,
	    struct lep_state *, const char *name, const char *ref);
/* The manifest of NAME vN. Errors: NOT_FOUND. Caller frees. */
const struct lep_err *lep_registry_manifest(struct lep_json **out,
	    struct lep_state *, const char *name, const char *version);
/* Model names, and a model's versions oldest first ("v1", ...). */
const struct lep_err *lep_registry_models(char ***out, size_t *n,
	    struct lep_state *);
const struct lep_err *lep_registry_versions(char ***out, size_t *n,
	    struct lep_state *, const char *name);
/*
 * Every manifest of model name, oldest version first, in one read of its
 * directory (fast at 10,000 versions). Free each, then the array.
 */
const struct lep_err *lep_registry_all(struct lep_json ***out, size_t *n,
	    struct lep_state *, const char *name);
/*
 * Every alias of name and the version it points at ("prod", "v3"), from
 * one pass over the refs. Free both arrays with lep_strv_free.
 */
const struct lep_err *lep_registry_aliases(char ***aliases, char ***versions,
	    size_t *n, struct lep_state *, const char *name);
/*
 * Why alias cannot be an alias's name, or NULL when it can. An alias is a
 * DNS-1035 label, as a model's name is (1-63 of a-z, 0-9 and '-', starting
 * with a letter, not ending with '-'), other than what names a version:
 * "v3" and "latest". Borrowed, static.
 */
const char *lep_registry_alias_invalid(const char *alias);
/* The same as an error: USAGE, with the grammar as its hint. */
const struct lep_err *lep_registry_alias_check(const char *alias);
/*
 * Point an alias at a version (atomic ref move, with reflog). Errors:
 * USAGE (an alias lep_registry_alias_invalid refuses), NOT_FOUND.
 */
const struct lep_err *lep_registry_alias(struct lep_state *, const char *name,
	    const char *version, const char *alias);
/* The aliases of name pointing at version, as "prod,staging" (or ""). */
char	*lep_registry_aliases_of(struct lep_state *, const char *name,
	    const char *version);
/*
 * A directory holding version's files (hard links into the object store),
 * made on first use. Caller frees. Errors: NOT_FOUND, FAILED.
 */
const struct lep_err *lep_registry_materialize(char **dir_out,
	    struct lep_state *, const char *home, const char *name,
	    const char *version);
/* The same from a manifest, committed or not (lep_registry_register's). */
const struct lep_err *lep_registry_materialize_from(char **dir_out,
	    const char *home, const struct lep_json *manifest);


#endif
