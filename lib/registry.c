/*
 * registry.c: model versions over the state repository and a
 * content-addressed object store.
 */
#include "registry.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "fs.h"
#include "json.h"
#include "state.h"
#include "util.h"

void
lep_txn_put(struct lep_txn *t, const char *path, char *data)
{
	t->paths = xreallocarray(t->paths, t->n + 1, sizeof(char *));
	t->data = xreallocarray(t->data, t->n + 1, sizeof(char *));
	t->paths[t->n] = xstrdup(path);
	t->data[t->n++] = data;
}

void
lep_txn_tag(struct lep_txn *t, const char *ref)
{
	t->tags = xreallocarray(t->tags, t->ntags + 1, sizeof(char *));
	t->tags[t->ntags++] = xstrdup(ref);
}

const struct lep_err *
lep_txn_commit(char *oid_out, struct lep_state *st, struct lep_txn *t,
    const char *message)
{
	const struct lep_err	*err;
	struct lep_change	*ch;
	char			 oid[LEP_OID_HEX];
	size_t			 i;

	ch = xcalloc(t->n + 1, sizeof(*ch));
	for (i = 0; i < t->n; i++) {
		ch[i].path = t->paths[i];
		ch[i].data = t->data[i];
		ch[i].len = t->data[i] ? strlen(t->data[i]) : 0;
	}
	err = lep_state_commit(oid, st, ch, t->n, message);
	free(ch);
	/*
	 * Tags follow the commit. A crash in between leaves a manifest
	 * without its tag; lep_registry_versions() reads manifests, and the
	 * next registration of that model puts the tag back.
	 */
	for (i = 0; err == NULL && i < t->ntags; i++)
		err = lep_state_ref_set(st, t->tags[i], oid, message, 1);
	if (err == NULL && oid_out != NULL)
		memcpy(oid_out, oid, LEP_OID_HEX);
	return err;
}

void
lep_txn_release(struct lep_txn *t)
{
	lep_strv_free(t->paths, t->n);
	lep_strv_free(t->data, t->n);
	lep_strv_free(t->tags, t->ntags);
	memset(t, 0, sizeof(*t));
}

static long
version_num(const char *v)
{
	long long	 n;

	if (v == NULL || v[0] != 'v' || lep_parse_ll(&n, v + 1) == -1 ||
	    n < 1)
		return -1;
	return (long)n;
}

static int
cmp_version(const void *a, const void *b)
{
	long	 x = version_num(*(char *const *)a);
	long	 y = version_num(*(char *const *)b);

	return x < y ? -1 : x > y;
}

const struct lep_err *
lep_registry_versions(char ***out, size_t *n_out, struct lep_state *st,
    const char *name)
{
	const struct lep_err	*err;
	char			*dir, **v;
	size_t			 n, i, k = 0;

	dir = xasprintf("models/%s", name);
	err = lep_state_list(&v, &n, st, dir);
	free(dir);
	if (err != NULL)
		return err;
	for (i = 0; i < n; i++) {
		if (lep_ends_with(v[i], ".json")) {
			v[i][strlen(v[i]) - 5] = '\0';
			if (version_num(v[i]) > 0) {
				v[k++] = v[i];
				continue;
			}
		}
		free(v[i]);
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), cmp_version);
	*out = v;
	*n_out = k;
	return NULL;
}

static int
cmp_manifest(const void *a, const void *b)
{
	long	 x = version_num(lep_json_get_str(*(struct lep_json *const *)a,
	    "version"));
	long	 y = version_num(lep_json_get_str(*(struct lep_json *const *)b,
	    "version"));

	return x < y ? -1 : x > y;
}

const struct lep_err *
lep_registry_all(struct lep_json ***out, size_t *n_out, struct lep_state *st,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_json		**v, *m;
	char			**names, **data, *dir;
	size_t			 n, i, k = 0;

	*out = NULL;
	*n_out = 0;
	dir = xasprintf("models/%s", name);
	err = lep_state_read_dir(&names, &data, &n, st, dir);
	free(dir);
	if (err != NULL)
		return err;
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		m = NULL;
		if (lep_ends_with(names[i], ".json") &&
		    lep_json_parse(&m, data[i], strlen(data[i]), names[i]) ==
		    NULL && version_num(lep_json_get_str(m, "version")) > 0)
			v[k++] = m;
		else
			lep_json_free(m);
	}
	lep_strv_free(names, n);
	lep_strv_free(data, n);
	if (k > 1)
		qsort(v, k, sizeof(*v), cmp_manifest);
	*out = v;
	*n_out = k;
	return NULL;
}

const struct lep_err *
lep_registry_aliases(char ***aliases, char ***versions, size_t *n_out,
    struct lep_state *st, const char *name)
{
	const struct lep_err	*err;
	char			**an = NULL, **ao = NULL, **tn = NULL, **to = NULL;
	char			*glob;
	size_t			 na = 0, nt = 0, i, k, skip, out = 0;

	*aliases = *versions = NULL;
	*n_out = 0;
	glob = xasprintf("refs/lepton/aliases/%s/*", name);
	err = lep_state_refs_targets(&an, &ao, &na, st, glob);
	free(glob);
	if (err != NULL || na == 0)
		goto done;
	glob = xasprintf("refs/tags/models/%s/*", name);
	err = lep_state_refs_targets(&tn, &to, &nt, st, glob);
	skip = strlen(glob) - 1;
	free(glob);
	if (err != NULL)
		goto done;
	*aliases = xcalloc(na + 1, sizeof(char *));
	*versions = xcalloc(na + 1, sizeof(char *));
	for (i = 0; i < na; i++) {
		for (k = 0; k < nt; k++)
			if (strcmp(ao[i], to[k]) == 0)
				break;
		if (k == nt)
			continue;
		(*aliases)[out] = xstrdup(strrchr(an[i], '/') + 1);
		(*versions)[out++] = xstrdup(tn[k] + skip);
	}
	*n_out = out;
done:
	lep_strv_free(an, na);
	lep_strv_free(ao, na);
	lep_strv_free(tn, nt);
	lep_strv_free(to, nt);
	return err;
}

const struct lep_err *
lep_registry_models(char ***out, size_t *n, struct lep_state *st)
{
	return lep_state_list(out, n, st, "models");
}

const struct lep_err *
lep_registry_manifest(struct lep_json **out, struct lep_state *st,
    const char *name, const char *version)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	char			*path;

	*out = NULL;
	path = xasprintf("models/%s/%s.json", name, version);
	err = lep_state_read(&b, st, NULL, path);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no model "
		    "version %s@%s", name, version), "'lepton models show %s' "
		    "lists its versions", name);
	if (err == NULL)
		err = lep_json_parse(out, b.buf, b.len, path);
	lep_buf_release(&b);
	free(path);
	return err;
}

/* Copy src into the object store as its hash, unless it is there. */
static const struct lep_err *
store_object(const char *home, const char *src, const char *hex)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	struct stat		 sb;
	char			*dir, *path;

	dir = xasprintf("%s/objects/sha256/%.2s", home, hex);
	path = xasprintf("%s/%s", dir, hex + 2);
	if (stat(path, &sb) == 0) {
		free(dir);
		free(path);
		return NULL;
	}
	if ((err = lep_mkdirs(dir, 0700)) == NULL &&
	    (err = lep_read_file(&b, src, 8ULL << 30)) == NULL)
		err = lep_write_atomic(path, b.buf, b.len, 0400);
	lep_buf_release(&b);
	free(dir);
	free(path);
	return err;
}

/* A directory on the way down, to tell a loop from a deep tree. */
struct walk_dir {
	dev_t		 dev;
	ino_t		 ino;
	const char	*path;		/* borrowed from the walk above */
};

struct walk {
	struct lep_json	*files;
	long long	 size;
	struct walk_dir	*dirs;		/* root first */
	size_t		 ndirs;
};

/*
 * Why path cannot be read. A symlink loop is said so, naming the link:
 * stat's ELOOP (a link to itself) and a directory that leads back to one
 * above it, which stat follows happily until the path is 40 links deep.
 */
static const struct lep_err *
walk_error(const struct walk *w, const char *path, const struct stat *sb)
{
	size_t	 i;

	if (sb == NULL && errno == ELOOP)
		return lep_err_errno(LEP_E_FAILED, "symlink loop at '%s'",
		    path);
	if (sb == NULL)
		return lep_err_errno(errno == ENOENT || errno == ENOTDIR ?
		    LEP_E_NOT_FOUND : LEP_E_FAILED, "'%s'", path);
	for (i = 0; i < w->ndirs; i++)
		if (w->dirs[i].dev == sb->st_dev &&
		    w->dirs[i].ino == sb->st_ino)
			return lep_err_new(LEP_E_FAILED, "symlink loop at '%s': "
			    "it leads back to '%s' (%s)", path,
			    w->dirs[i].path, strerror(ELOOP));
	return NULL;
}

static const struct lep_err *
walk_files(struct walk *w, const char *home, const char *root,
    const char *rel)
{
	const struct lep_err	*err = NULL;
	struct dirent		**ents = NULL;
	struct stat		 sb;
	struct lep_json		*f;
	char			 hex[LEP_SHA256_HEX], *path, *sub;
	int			 n, i;

	path = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	if (stat(path, &sb) == -1) {
		err = walk_error(w, path, NULL);
		free(path);
		return err;
	}
	if (S_ISREG(sb.st_mode)) {
		if ((err = lep_sha256_file(hex, path)) == NULL &&
		    (err = store_object(home, path, hex)) == NULL) {
			f = lep_json_obj();
			lep_json_set_str(f, "path", rel[0] ? rel :
			    strrchr(root, '/') ? strrchr(root, '/') + 1 : root);
			lep_json_set_str(f, "sha256", hex);
			lep_json_set_int(f, "size", (long long)sb.st_size);
			lep_json_push(w->files, f);
			w->size += (long long)sb.st_size;
		}
		free(path);
		return err;
	}
	if (!S_ISDIR(sb.st_mode)) {
		free(path);
		return NULL;	/* a socket, a FIFO: no model bytes */
	}
	if ((err = walk_error(w, path, &sb)) != NULL) {
		free(path);
		return err;
	}
	/* An unreadable directory is an error, not an empty one. */
	if ((n = scandir(path, &ents, NULL, alphasort)) == -1) {
		err = lep_err_errno(LEP_E_FAILED, "'%s'", path);
		free(path);
		return err;
	}
	w->dirs = xreallocarray(w->dirs, w->ndirs + 1, sizeof(*w->dirs));
	w->dirs[w->ndirs].dev = sb.st_dev;
	w->dirs[w->ndirs].ino = sb.st_ino;
	w->dirs[w->ndirs++].path = path;
	for (i = 0; i < n; i++) {
		if (err == NULL && ents[i]->d_name[0] != '.') {
			sub = rel[0] ? xasprintf("%s/%s", rel, ents[i]->d_name) :
			    xstrdup(ents[i]->d_name);
			err = walk_files(w, home, root, sub);
			free(sub);
		}
		free(ents[i]);
	}
	w->ndirs--;
	free(ents);
	free(path);
	return err;
}

/* sha256 over "path sha256\n" of every file: what the version is. */
static const struct lep_err *
digest_of(char hex[LEP_SHA256_HEX], const struct lep_json *files)
{
	const struct lep_err	*err;
	struct lep_buf		 b = LEP_BUF_INIT;
	size_t			 i;

	for (i = 0; i < lep_json_len(files); i++)
		lep_buf_addf(&b, "%s %s\n", lep_json_get_str(lep_json_at(files,
		    i), "path"), lep_json_get_str(lep_json_at(files, i),
		    "sha256"));
	err = lep_sha256_hex(hex, b.buf, b.len);
	lep_buf_release(&b);
	return err;
}

const struct lep_err *
lep_registry_register(char **version_out, int *created_out,
    struct lep_json **manifest_out, struct lep_txn *txn,
    struct lep_state *st, const char *home, const char *name,
    const char *path, const struct lep_json *source,
    const struct lep_json *metrics, const char *parent)
{
	const struct lep_err	*err;
	struct lep_json		*m = NULL, *old;
	struct walk		 w;
	char			 digest[LEP_SHA256_HEX], ts[32], *ref, **v = NULL;
	char			 oid[LEP_OID_HEX];
	size_t			 n = 0, i;
	long			 next = 1;

	*version_out = NULL;
	*created_out = 0;
	*manifest_out = NULL;
	memset(&w, 0, sizeof(w));
	w.files = lep_json_arr();
	if ((err = walk_files(&w, home, path, "")) != NULL ||
	    (err = digest_of(digest, w.files)) != NULL ||
	    (err = lep_registry_versions(&v, &n, st, name)) != NULL)
		goto done;
	if (lep_json_len(w.files) == 0) {
		err = lep_err_new(LEP_E_FAILED, "'%s' holds no file", path);
		goto done;
	}
	/* The same bytes are the same version. */
	for (i = n; i > 0; i--) {
		if (lep_registry_manifest(&old, st, name, v[i - 1]) != NULL)
			continue;
		if (lep_streq(lep_json_get_str(old, "digest"), digest)) {
			*manifest_out = old;
			*version_out = xstrdup(v[i - 1]);
			ref = xasprintf("refs/tags/models/%s/%s", name, v[i - 1]);
			if (lep_state_ref_get(oid, st, ref) != NULL)
				lep_txn_tag(txn, ref);	/* lost in a crash */
			free(ref);
			goto done;
		}
		lep_json_free(old);
	}
	if (n > 0)
		next = version_num(v[n - 1]) + 1;
	m = lep_json_obj();
	lep_json_set_str(m, "name", name);
	*version_out = xasprintf("v%ld", next);
	lep_json_set_str(m, "version", *version_out);
	lep_json_set_str(m, "digest", digest);
	lep_format_time(ts, sizeof(ts), (long long)time(NULL));
	lep_json_set_str(m, "created", ts);
	lep_json_set_int(m, "size", w.size);
	lep_json_set(m, "files", w.files);
	w.files = NULL;
	lep_json_set(m, "source", source ? lep_json_dup(source) :
	    lep_json_null());
	lep_json_set(m, "metrics", metrics ? lep_json_dup(metrics) :
	    lep_json_null());
	lep_json_set_str(m, "parent", parent);
	ref = xasprintf("models/%s/%s.json", name, *version_out);
	lep_txn_put(txn, ref, lep_json_print(m, 1));
	free(ref);
	ref = xasprintf("refs/tags/models/%s/%s", name, *version_out);
	lep_txn_tag(txn, ref);
	free(ref);
	*created_out = 1;
	*manifest_out = m;
	m = NULL;
done:
	lep_json_free(w.files);
	free(w.dirs);
	lep_json_free(m);
	lep_strv_free(v, n);
	return err;
}

const struct lep_err *
lep_registry_resolve(char **version_out, struct lep_state *st,
    const char *name, const char *ref)
{
	const struct lep_err	*err;
	struct lep_json		*m;
	char			 target[LEP_OID_HEX], tag[LEP_OID_HEX], *r;
	char			**v = NULL;
	size_t			 n = 0, i;

	*version_out = NULL;
	if ((err = lep_registry_versions(&v, &n, st, name)) != NULL)
		return err;
	if (n == 0) {
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no model "
		    "named '%s'", name), "'lepton models' lists them");
		goto done;
	}
	/* "latest" is no ref: it is always the newest version. */
	if (ref == NULL || strcmp(ref, "latest") == 0) {
		*version_out = xstrdup(v[n - 1]);
		goto done;
	}
	if (version_num(ref) > 0) {
		if ((err = lep_registry_manifest(&m, st, name, ref)) == NULL) {
			*version_out = xstrdup(ref);
			lep_json_free(m);
		}
		goto done;
	}
	r = xasprintf("refs/lepton/aliases/%s/%s", name, ref);
	err = lep_state_ref_get(target, st, r);
	free(r);
	if (err != NULL) {
		err = lep_err_new(LEP_E_NOT_FOUND, "model '%s' has no version "
		    "or alias '%s'", name, ref);
		goto done;
	}
	for (i = n; i > 0 && *version_out == NULL; i--) {
		r = xasprintf("refs/tags/models/%s/%s", name, v[i - 1]);
		if (lep_state_ref_get(tag, st, r) == NULL &&
		    strcmp(tag, target) == 0)
			*version_out = xstrdup(v[i - 1]);
		free(r);
	}
	if (*version_out == NULL)
		err = lep_err_new(LEP_E_NOT_FOUND, "alias %s@%s points at no "
		    "version", name, ref);
done:
	lep_strv_free(v, n);
	return err;
}

/* The grammar lepton-spec(5) and lepton(1) give aliases. */
const char *
lep_registry_alias_invalid(const char *alias)
{
	size_t	 len = strlen(alias), i;

	if (len == 0)
		return "it is empty";
	if (len > 63)
		return "it is longer than 63 characters";
	if (alias[0] < 'a' || alias[0] > 'z')
		return "it must start with a lower-case letter";
	for (i = 0; i < len; i++)
		if (!((alias[i] >= 'a' && alias[i] <= 'z') ||
		    (alias[i] >= '0' && alias[i] <= '9') || alias[i] == '-'))
			return "it may hold only lower-case letters, digits "
			    "and '-'";
	if (alias[len - 1] == '-')
		return "it must not end with '-'";
	/* NAME@v3 and NAME@latest would never reach such an alias. */
	if (alias[0] == 'v' && len > 1 &&
	    strspn(alias + 1, "0123456789") == len - 1)
		return "it looks like a version (vN)";
	if (strcmp(alias, "latest") == 0)
		return "'latest' always names the newest version";
	return NULL;
}

const struct lep_err *
lep_registry_alias_check(const char *alias)
{
	const char	*why;

	if ((why = lep_registry_alias_invalid(alias)) == NULL)
		return NULL;
	return lep_err_hint(lep_err_new(LEP_E_USAGE, "invalid alias '%s': "
	    "%s", alias, why), "an alias is 1-63 lower-case letters, digits "
	    "and '-', starting with a letter, not ending with '-', and "
	    "neither 'vN' nor 'latest'");
}

const struct lep_err *
lep_registry_alias(struct lep_state *st, const char *name,
    const char *version, const char *alias)
{
	const struct lep_err	*err;
	char			 target[LEP_OID_HEX], *tag, *ref, *msg;

	if ((err = lep_registry_alias_check(alias)) != NULL)
		return err;
	tag = xasprintf("refs/tags/models/%s/%s", name, version);
	err = lep_state_ref_get(target, st, tag);
	free(tag);
	if (err != NULL)
		return lep_err_new(LEP_E_NOT_FOUND, "no model version %s@%s",
		    name, version);
	ref = xasprintf("refs/lepton/aliases/%s/%s", name, alias);
	msg = xasprintf("lepton models tag %s %s %s", name, version, alias);
	err = lep_state_ref_set(st, ref, target, msg, 1);
	free(ref);
	free(msg);
	return err;
}

char *
lep_registry_aliases_of(struct lep_state *st, const char *name,
    const char *version)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	char		 want[LEP_OID_HEX], got[LEP_OID_HEX], *glob, *tag;
	char		**v = NULL;
	size_t		 n = 0, i, skip;

	tag = xasprintf("refs/tags/models/%s/%s", name, version);
	glob = xasprintf("refs/lepton/aliases/%s/*", name);
	skip = strlen(glob) - 1;
	if (lep_state_ref_get(want, st, tag) == NULL &&
	    lep_state_refs(&v, &n, st, glob) == NULL) {
		for (i = 0; i < n; i++)
			if (lep_state_ref_get(got, st, v[i]) == NULL &&
			    strcmp(got, want) == 0)
				lep_buf_addf(&b, "%s%s", b.len ? "," : "",
				    v[i] + skip);
	}
	lep_strv_free(v, n);
	free(glob);
	free(tag);
	return lep_buf_detach(&b, NULL);
}

const struct lep_err *
lep_registry_materialize(char **dir_out, struct lep_state *st,
    const char *home, const char *name, const char *version)
{
	const struct lep_err	*err;
	struct lep_json		*m;
	struct stat		 sb;
	char			*dir;

	*dir_out = NULL;
	dir = xasprintf("%s/models/%s/%s", home, name, version);
	if (stat(dir, &sb) == 0) {
		*dir_out = dir;
		return NULL;
	}
	free(dir);
	if ((err = lep_registry_manifest(&m, st, name, version)) != NULL)
		return err;
	err = lep_registry_materialize_from(dir_out, home, m);
	lep_json_free(m);
	return err;
}

const struct lep_err *
lep_registry_materialize_from(char **dir_out, const char *home,
    const struct lep_json *m)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*files, *f;
	struct stat		 sb;
	char			*dir, *tmp, *dst, *src, *slash;
	const char		*hex, *rel, *name, *version;
	size_t			 i;

	*dir_out = NULL;
	name = lep_json_get_str(m, "name");
	version = lep_json_get_str(m, "version");
	if (name == NULL || version == NULL)
		return lep_err_new(LEP_E_FAILED, "a manifest without a name "
		    "or version");
	dir = xasprintf("%s/models/%s/%s", home, name, version);
	if (stat(dir, &sb) == 0) {
		*dir_out = dir;
		return NULL;
	}
	/* Built aside, renamed into place: never half there. */
	tmp = xasprintf("%s.tmp.%ld", dir, (long)getpid());
	lep_remove_tree(tmp);
	files = lep_json_get(m, "files");
	for (i = 0; err == NULL && i < lep_json_len(files); i++) {
		f = lep_json_at(files, i);
		hex = lep_json_get_str(f, "sha256");
		rel = lep_json_get_str(f, "path");
		if (hex == NULL || rel == NULL || strstr(rel, "..") != NULL ||
		    strlen(hex) != 64) {
			err = lep_err_new(LEP_E_FAILED, "%s@%s: bad manifest",
			    name, version);
			break;
		}
		dst = xasprintf("%s/%s", tmp, rel);
		src = xasprintf("%s/objects/sha256/%.2s/%s", home, hex,
		    hex + 2);
		slash = strrchr(dst, '/');
		*slash = '\0';
		err = lep_mkdirs(dst, 0700);
		*slash = '/';
		if (err == NULL && link(src, dst) == -1) {
			struct lep_buf	 b;

			/* Across file systems: copy. */
			if ((err = lep_read_file(&b, src, 8ULL << 30)) == NULL)
				err = lep_write_atomic(dst, b.buf, b.len, 0400);
			lep_buf_release(&b);
			if (err != NULL && err->code == LEP_E_NOT_FOUND)
				err = lep_err_new(LEP_E_NOT_FOUND, "%s@%s: "
				    "object %s is missing from %s/objects",
				    name, version, hex, home);
		}
		free(dst);
		free(src);
	}
	/* Durable before it has its name, and the name after. */
	if (err == NULL)
		lep_sync_tree(tmp);
	if (err == NULL && rename(tmp, dir) == -1 && errno != ENOTEMPTY &&
	    errno != EEXIST)
		err = lep_err_errno(LEP_E_FAILED, "cannot create '%s'", dir);
	if (err == NULL)
		lep_sync_parent(dir);
	if (err != NULL || stat(tmp, &sb) == 0)
		lep_remove_tree(tmp);
	free(tmp);
	if (err != NULL) {
		free(dir);
		return err;
	}
	*dir_out = dir;
	return NULL;
}
