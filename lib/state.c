/*
 * state.c: the state repository over libgit2, loaded with dlopen on first
 * use. Commits are built without a work tree or index: blobs, then trees
 * rebuilt along the changed paths with treebuilders, then a commit that
 * moves HEAD only if HEAD is still its parent. libgit2 fsyncs each object
 * and ref it writes, not the directories it makes: those are synced here
 * (tests/durability.sh checks the order).
 */
#include "state.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "dl.h"
#include "error.h"
#include "fs.h"
#include "util.h"

#ifndef LEP_SONAME_GIT2
#define LEP_SONAME_GIT2 "libgit2.so.1.5"
#endif

#define SYMS(X) \
	X(git_libgit2_init) X(git_libgit2_opts) X(git_error_last) \
	X(git_error_clear) \
	X(git_repository_open_ext) X(git_repository_init) \
	X(git_repository_free) X(git_repository_config) \
	X(git_repository_set_head) X(git_repository_head_unborn) \
	X(git_config_set_string) \
	X(git_config_free) X(git_revparse_single) X(git_object_free) \
	X(git_object_type) X(git_object_id) X(git_blob_rawcontent) \
	X(git_blob_rawsize) X(git_blob_create_from_buffer) \
	X(git_reference_name_to_id) X(git_commit_lookup) X(git_commit_tree) \
	X(git_commit_free) X(git_commit_message) X(git_commit_time) \
	X(git_commit_author) X(git_commit_parentcount) X(git_commit_parent_id) \
	X(git_commit_tree_id) X(git_commit_create) X(git_tree_lookup) \
	X(git_tree_free) X(git_tree_entry_bypath) X(git_tree_entry_free) \
	X(git_tree_entry_id) X(git_tree_entrycount) X(git_tree_entry_byindex) \
	X(git_tree_entry_name) X(git_tree_entry_type) X(git_treebuilder_new) \
	X(git_treebuilder_insert) X(git_treebuilder_remove) \
	X(git_treebuilder_get) X(git_treebuilder_entrycount) \
	X(git_treebuilder_write) X(git_treebuilder_free) \
	X(git_signature_now) X(git_signature_free) X(git_reference_create) \
	X(git_reference_free) X(git_reference_iterator_glob_new) \
	X(git_reference_next) X(git_reference_iterator_free) \
	X(git_reference_name) X(git_reflog_read) X(git_reflog_entrycount) \
	X(git_reflog_free) X(git_revwalk_new) X(git_revwalk_push_head) \
	X(git_revwalk_next) X(git_revwalk_sorting) X(git_revwalk_free) \
	X(git_oid_tostr) X(git_oid_equal) X(git_oid_fromstr) \
	X(git_remote_create_anonymous) X(git_remote_push) \
	X(git_remote_fetch) X(git_remote_free) X(git_graph_descendant_of) \
	X(git_tree_id) X(git_blob_lookup) X(git_reference_target) \
	X(git_reference_lookup) X(git_reference_type) \
	X(git_reference_symbolic_target) X(git_reference_symbolic_create) \
	X(git_reference_create_matching)

#define DECL(f)	__typeof__(f) *f;
static struct {
	SYMS(DECL)
} G;
#undef DECL
static void	*git_handle;

/*
 * Every call into libgit2 runs under a watchdog: libgit2 1.5 spins
 * forever in inflate() reading a truncated loose object (fixed upstream
 * after 1.5), and a hung lepton keeps the state lock from everyone else.
 * After WATCH_CPU_S seconds of CPU time in one call, SIGVTALRM jumps back
 * to the public function, which fails with CORRUPT; libgit2, stopped
 * mid-call, is not called again in this process. CPU time, not wall
 * time: a slow disk or a push over the network never trips it.
 */
#define WATCH_CPU_S	3
static sigjmp_buf		 watch_jmp;
static volatile sig_atomic_t	 watch_depth;
static volatile sig_atomic_t	 hung;
static git_repository		*abandoned_repo;	/* see lep_state_close */

struct lep_state {
	git_repository	*repo;
	char		*path;
};

static const struct lep_err *
git_load(void)
{
#define ENTRY(f)	{ #f, &G.f },
	static const struct lep_dl_sym syms[] = { SYMS(ENTRY) };
#undef ENTRY
	const struct lep_err	*err;
	int			 was = git_handle != NULL;

	err = lep_dl_load(&git_handle, LEP_SONAME_GIT2, syms,
	    LEP_ARRAY_SIZE(syms));
	if (err == NULL && !was) {
		G.git_libgit2_init();
		/* Every write of the git dir is fsync'd. */
		G.git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	}
	return err;
}

/* libgit2's last error, copied at once (the next call may replace it). */
static const struct lep_err *
git_fail(enum lep_code code, const char *what)
{
	const git_error	*e = G.git_error_last();

	return lep_err_new(code, "state repository: %s: %s", what,
	    e && e->message ? e->message : "unknown error");
}

/* Damage: a clear error, and where to go from there. */
static const struct lep_err *
corrupt(const struct lep_state *st, const char *fmt, const char *what)
{
	const git_error	*e = G.git_error_last();
	char		 msg[512];

	snprintf(msg, sizeof(msg), fmt, what);
	return lep_err_hint(lep_err_new(LEP_E_CORRUPT, "state repository %s "
	    "is corrupt: %s%s%s", st->path, msg, e && e->message ? ": " : "",
	    e && e->message ? e->message : ""), "'lepton state fsck' says "
	    "what is broken and how to recover");
}

/*
 * Was a commit ever made here? HEAD's reflog (every ref update is logged)
 * says so; a repository without one that holds a commit object says so
 * too. 1 yes, 0 no.
 */
static int
ever_committed(struct lep_state *st)
{
	git_reflog	*log;
	size_t		 n = 0;
	char		*p;
	DIR		*d;
	struct dirent	*de;
	int		 found = 0;

	if (G.git_reflog_read(&log, st->repo, "HEAD") == 0) {
		n = G.git_reflog_entrycount(log);
		G.git_reflog_free(log);
		if (n > 0)
			return 1;
	}
	if (G.git_reflog_read(&log, st->repo, "refs/heads/main") == 0) {
		n = G.git_reflog_entrycount(log);
		G.git_reflog_free(log);
		if (n > 0)
			return 1;
	}
	/* Reflogs gone too: any object written is a sign of a past life. */
	p = xasprintf("%s/objects", st->path);
	if ((d = opendir(p)) != NULL) {
		while (!found && (de = readdir(d)) != NULL)
			found = strlen(de->d_name) == 2 &&
			    strspn(de->d_name, "0123456789abcdef") == 2;
		closedir(d);
	}
	free(p);
	return found;
}

/*
 * The commit that HEAD names, to build on. *has = 0 only for a new
 * repository: HEAD names refs/heads/main, which does not exist, and no
 * commit was ever made. Anything else is damage, reported as such and
 * never papered over with a new root commit: that would fork the history
 * and hide the old one. Errors: CORRUPT.
 */
static const struct lep_err *
head_commit(git_oid *out, int *has, struct lep_state *st)
{
	git_reference	*ref;
	const char	*target;
	char		 hex[LEP_OID_HEX];
	int		 rc;

	*has = 0;
	if (G.git_reference_lookup(&ref, st->repo, "HEAD") != 0)
		return corrupt(st, "%s cannot be read", "HEAD");
	if (G.git_reference_type(ref) != GIT_REFERENCE_SYMBOLIC) {
		G.git_oid_tostr(hex, sizeof(hex), G.git_reference_target(ref));
		G.git_reference_free(ref);
		G.git_error_clear();
		return corrupt(st, "HEAD is detached at %s, not "
		    "refs/heads/main", hex);
	}
	target = G.git_reference_symbolic_target(ref);
	if (target == NULL || strcmp(target, "refs/heads/main") != 0) {
		snprintf(hex, sizeof(hex), "%.40s", target ? target : "?");
		G.git_reference_free(ref);
		G.git_error_clear();
		return corrupt(st, "HEAD points at '%s', not refs/heads/main",
		    hex);
	}
	G.git_reference_free(ref);
	rc = G.git_reference_name_to_id(out, st->repo, "refs/heads/main");
	if (rc == 0) {
		*has = 1;
		return NULL;
	}
	if (rc != GIT_ENOTFOUND)
		return corrupt(st, "%s cannot be read", "refs/heads/main");
	if (ever_committed(st)) {
		G.git_error_clear();
		return corrupt(st, "%s is missing, but commits were made "
		    "(its history is in the reflog)", "refs/heads/main");
	}
	return NULL;
}

/* *.lock files under dir: left by a process killed mid-write. */
static void
remove_stale_locks(const char *dir)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		*p;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "objects") == 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				remove_stale_locks(p);
			else if (lep_ends_with(de->d_name, ".lock"))
				(void)unlink(p);
		}
		free(p);
	}
	closedir(d);
}

static const struct lep_err *
state_open(struct lep_state **out, const char *home, int write)
{
	const struct lep_err	*err;
	struct lep_state	*st;
	git_config		*cfg = NULL;
	git_oid			 head;
	char			*p;
	int			 rc, has;

	*out = NULL;
	if ((err = git_load()) != NULL)
		return err;
	st = xcalloc(1, sizeof(*st));
	st->path = xasprintf("%s/state", home);
	if ((err = lep_check_private_dir(st->path)) != NULL)
		goto fail;
	if (write)
		remove_stale_locks(st->path);
	rc = G.git_repository_open_ext(&st->repo, st->path,
	    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, NULL);
	if (rc == GIT_ENOTFOUND && !write) {
		/* Reading creates nothing. */
		err = lep_err_new(LEP_E_NOT_FOUND, "no state repository in "
		    "'%s' yet: nothing was deployed or trained", home);
		goto fail;
	}
	if (rc == GIT_ENOTFOUND) {
		if ((err = lep_mkdirs(home, 0700)) != NULL)
			goto fail;
		if (G.git_repository_init(&st->repo, st->path, 1) != 0) {
			err = git_fail(LEP_E_FAILED, "init");
			goto fail;
		}
		/* Reflogs for every ref: alias moves are audited. */
		if (G.git_repository_config(&cfg, st->repo) != 0 ||
		    G.git_config_set_string(cfg, "core.logAllRefUpdates",
		    "always") != 0 ||
		    G.git_repository_set_head(st->repo,
		    "refs/heads/main") != 0) {
			err = git_fail(LEP_E_FAILED, "init");
			G.git_config_free(cfg);
			goto fail;
		}
		G.git_config_free(cfg);
		/*
		 * libgit2 writes a new repository's files and directories
		 * (config and HEAD among them) unsynced: sync them all, and
		 * state's name in home, before anything refers to them. The
		 * reflogs' directory is made now, so that the first commit
		 * makes none.
		 */
		p = xasprintf("%s/logs/refs/heads", st->path);
		err = lep_mkdirs(p, 0700);
		free(p);
		if (err != NULL)
			goto fail;
		lep_sync_tree(st->path);
	} else if (rc != 0) {
		err = corrupt(st, "%s cannot be opened", "it");
		goto fail;
	} else if ((err = head_commit(&head, &has, st)) != NULL)
		goto fail;
	*out = st;
	return NULL;
fail:
	lep_state_close(st);
	return err;
}

void
lep_state_set_fsync(int on)
{
	if (git_load() == NULL)
		G.git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, on);
}

int
lep_state_abandoned(void)
{
	return hung != 0;
}

void
lep_state_close(struct lep_state *st)
{
	if (st == NULL)
		return;
	/*
	 * After a watchdog jump libgit2's state is unknown: leave the
	 * repository be, but keep it reachable (the process ends soon;
	 * this is not a leak to report).
	 */
	if (st->repo != NULL && !hung)
		G.git_repository_free(st->repo);
	else if (st->repo != NULL)
		abandoned_repo = st->repo;
	free(st->path);
	free(st);
}

static const struct lep_err *
lookup(git_object **obj, struct lep_state *st, const char *rev,
    const char *path)
{
	char	*spec;
	int	 rc;

	spec = xasprintf("%s:%s", rev ? rev : "HEAD", path);
	rc = G.git_revparse_single(obj, st->repo, spec);
	free(spec);
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH ||
	    rc == GIT_EINVALIDSPEC || rc == GIT_EAMBIGUOUS)
		return lep_err_new(LEP_E_NOT_FOUND, "%s: not in the state "
		    "repository%s%s", path, rev ? " at " : "", rev ? rev : "");
	if (rc != 0)
		return git_fail(LEP_E_FAILED, path);
	return NULL;
}

static const struct lep_err *
state_read(struct lep_buf *out, struct lep_state *st, const char *rev,
    const char *path)
{
	const struct lep_err	*err;
	git_object		*obj;

	lep_buf_init(out, 0);
	if ((err = lookup(&obj, st, rev, path)) != NULL)
		return err;
	if (G.git_object_type(obj) != GIT_OBJECT_BLOB)
		err = lep_err_new(LEP_E_NOT_FOUND, "%s: not a file", path);
	else
		lep_buf_addn(out, G.git_blob_rawcontent((git_blob *)obj),
		    (size_t)G.git_blob_rawsize((git_blob *)obj));
	G.git_object_free(obj);
	return err;
}

static const struct lep_err *
state_blob_id(char out[LEP_OID_HEX], struct lep_state *st,
    const char *rev, const char *path)
{
	const struct lep_err	*err;
	git_object		*obj;

	out[0] = '\0';
	if ((err = lookup(&obj, st, rev, path)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? NULL : err;
	G.git_oid_tostr(out, LEP_OID_HEX, G.git_object_id(obj));
	G.git_object_free(obj);
	return NULL;
}

static const struct lep_err *
state_list(char ***out, size_t *n_out, struct lep_state *st,
    const char *path)
{
	const struct lep_err	*err;
	git_object		*obj;
	size_t			 i, n;

	*out = NULL;
	*n_out = 0;
	if ((err = lookup(&obj, st, NULL, path)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? NULL : err;
	if (G.git_object_type(obj) == GIT_OBJECT_TREE) {
		n = G.git_tree_entrycount((git_tree *)obj);
		*out = xcalloc(n + 1, sizeof(char *));
		for (i = 0; i < n; i++)
			(*out)[i] = xstrdup(G.git_tree_entry_name(
			    G.git_tree_entry_byindex((git_tree *)obj, i)));
		*n_out = n;
	}
	G.git_object_free(obj);
	return NULL;
}

static const struct lep_err *
state_read_dir(char ***names_out, char ***data_out, size_t *n_out,
    struct lep_state *st, const char *path)
{
	const struct lep_err	*err;
	const git_tree_entry	*e;
	git_object		*obj, *blob;
	size_t			 i, n, k = 0;

	*names_out = *data_out = NULL;
	*n_out = 0;
	if ((err = lookup(&obj, st, NULL, path)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? NULL : err;
	if (G.git_object_type(obj) != GIT_OBJECT_TREE) {
		G.git_object_free(obj);
		return NULL;
	}
	n = G.git_tree_entrycount((git_tree *)obj);
	*names_out = xcalloc(n + 1, sizeof(char *));
	*data_out = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		e = G.git_tree_entry_byindex((git_tree *)obj, i);
		if (G.git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
		    G.git_blob_lookup((git_blob **)&blob, st->repo,
		    G.git_tree_entry_id(e)) != 0)
			continue;
		(*names_out)[k] = xstrdup(G.git_tree_entry_name(e));
		(*data_out)[k++] = xstrndup(G.git_blob_rawcontent(
		    (git_blob *)blob), (size_t)G.git_blob_rawsize(
		    (git_blob *)blob));
		G.git_object_free(blob);
	}
	G.git_object_free(obj);
	*n_out = k;
	return NULL;
}

static const struct lep_err *
state_refs_targets(char ***names_out, char ***oids_out, size_t *n_out,
    struct lep_state *st, const char *glob)
{
	git_reference_iterator	*it;
	git_reference		*r;
	const git_oid		*id;
	char			 hex[LEP_OID_HEX];
	size_t			 n = 0;

	*names_out = *oids_out = NULL;
	*n_out = 0;
	if (G.git_reference_iterator_glob_new(&it, st->repo, glob) != 0)
		return git_fail(LEP_E_FAILED, glob);
	while (G.git_reference_next(&r, it) == 0) {
		if ((id = G.git_reference_target(r)) != NULL) {
			*names_out = xreallocarray(*names_out, n + 1,
			    sizeof(char *));
			*oids_out = xreallocarray(*oids_out, n + 1,
			    sizeof(char *));
			G.git_oid_tostr(hex, sizeof(hex), id);
			(*names_out)[n] = xstrdup(G.git_reference_name(r));
			(*oids_out)[n++] = xstrdup(hex);
		}
		G.git_reference_free(r);
	}
	G.git_reference_iterator_free(it);
	*n_out = n;
	return NULL;
}

/* One change, its path relative to the tree being rebuilt. */
struct put {
	const char	*rel;
	const git_oid	*blob;		/* NULL: remove */
};

/*
 * base with every change applied, written once per tree touched (a
 * directory with many changes is rebuilt once, not once per change);
 * *empty_out when nothing is left in it.
 */
static int
tree_apply(git_oid *out, int *empty_out, git_repository *repo,
    const git_tree *base, struct put *puts, size_t n)
{
	git_treebuilder		*tb = NULL;
	const git_tree_entry	*e;
	git_tree		*sub;
	git_oid			 subid;
	struct put		*group;
	const char		*slash;
	char			*name;
	size_t			 i, k, len, ng;
	int			 rc, empty;

	if ((rc = G.git_treebuilder_new(&tb, repo, base)) != 0)
		return rc;
	group = xcalloc(n + 1, sizeof(*group));
	for (i = 0; i < n && rc == 0; i++) {
		if (puts[i].rel == NULL)
			continue;		/* done with an earlier group */
		slash = strchr(puts[i].rel, '/');
		if (slash == NULL) {
			if (puts[i].blob != NULL)
				rc = G.git_treebuilder_insert(NULL, tb,
				    puts[i].rel, puts[i].blob,
				    GIT_FILEMODE_BLOB);
			else if (G.git_treebuilder_get(tb, puts[i].rel) != NULL)
				rc = G.git_treebuilder_remove(tb, puts[i].rel);
			continue;
		}
		/* Every later change under the same directory joins it. */
		len = (size_t)(slash - puts[i].rel);
		name = xstrndup(puts[i].rel, len);
		for (k = i, ng = 0; k < n; k++) {
			if (puts[k].rel == NULL ||
			    strncmp(puts[k].rel, name, len) != 0 ||
			    puts[k].rel[len] != '/')
				continue;
			group[ng].rel = puts[k].rel + len + 1;
			group[ng++].blob = puts[k].blob;
			puts[k].rel = NULL;
		}
		sub = NULL;
		e = G.git_treebuilder_get(tb, name);
		if (e != NULL && G.git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = G.git_tree_lookup(&sub, repo,
			    G.git_tree_entry_id(e));
		if (rc == 0)
			rc = tree_apply(&subid, &empty, repo, sub, group, ng);
		if (rc == 0 && empty && e != NULL)
			rc = G.git_treebuilder_remove(tb, name);
		else if (rc == 0 && !empty)
			rc = G.git_treebuilder_insert(NULL, tb, name, &subid,
			    GIT_FILEMODE_TREE);
		if (sub != NULL)
			G.git_tree_free(sub);
		free(name);
	}
	free(group);
	if (rc == 0) {
		*empty_out = G.git_treebuilder_entrycount(tb) == 0;
		rc = G.git_treebuilder_write(out, tb);
	}
	G.git_treebuilder_free(tb);
	return rc;
}

static const struct lep_err *
signature(git_signature **out)
{
	const char	*name = getenv("GIT_AUTHOR_NAME");
	const char	*email = getenv("GIT_AUTHOR_EMAIL");
	struct passwd	*pw;
	char		 host[256], *mail = NULL;
	int		 rc;

	if (name == NULL || *name == '\0') {
		pw = getpwuid(getuid());
		name = pw && pw->pw_name ? pw->pw_name : "lepton";
	}
	if (email == NULL || *email == '\0') {
		if (gethostname(host, sizeof(host)) != 0)
			lep_strlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		mail = xasprintf("%s@%s", name, host);
		email = mail;
	}
	rc = G.git_signature_now(out, name, email);
	free(mail);
	return rc != 0 ? git_fail(LEP_E_FAILED, "signature") : NULL;
}

/*
 * Point refs/heads/main (HEAD's) at commit, only if it still names was
 * (NULL: only if there is none yet): no lost update. The reflog line is
 * the one git_commit_create would write.
 */
static const struct lep_err *
move_main(struct lep_state *st, const git_oid *commit, const git_oid *was,
    const char *message)
{
	git_reference	*r = NULL;
	char		*log;
	int		 rc;

	log = xasprintf("commit%s: %.*s", was ? "" : " (initial)",
	    (int)strcspn(message, "\n"), message);
	rc = G.git_reference_create_matching(&r, st->repo, "refs/heads/main",
	    commit, was != NULL, was, log);
	free(log);
	G.git_reference_free(r);
	/* Only "main moved meanwhile" is a conflict; the rest fails. */
	if (rc != 0)
		return git_fail(rc == GIT_EMODIFIED || rc == GIT_EEXISTS ?
		    LEP_E_CONFLICT : LEP_E_FAILED, "commit");
	return NULL;
}

static const struct lep_err *
state_commit(char oid_out[LEP_OID_HEX], struct lep_state *st,
    const struct lep_change *ch, size_t n, const char *message)
{
	const struct lep_err	*err = NULL;
	git_oid			 head, tree_oid, commit, *blobs;
	git_commit		*parent = NULL;
	git_tree		*base = NULL, *tree = NULL;
	git_signature		*sig = NULL;
	const git_commit	*parents[1];
	struct put		*puts;
	char			*objects;
	size_t			 i;
	int			 empty, has_parent;

	blobs = xcalloc(n + 1, sizeof(*blobs));
	puts = xcalloc(n + 1, sizeof(*puts));
	if ((err = head_commit(&head, &has_parent, st)) != NULL)
		goto done;
	if (has_parent && (G.git_commit_lookup(&parent, st->repo, &head) != 0 ||
	    G.git_commit_tree(&base, parent) != 0)) {
		err = corrupt(st, "%s cannot be read", "the commit HEAD names");
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (ch[i].data != NULL &&
		    G.git_blob_create_from_buffer(&blobs[i], st->repo,
		    ch[i].data, ch[i].len) != 0) {
			err = git_fail(LEP_E_FAILED, ch[i].path);
			goto done;
		}
		puts[i].rel = ch[i].path;
		puts[i].blob = ch[i].data ? &blobs[i] : NULL;
	}
	if (tree_apply(&tree_oid, &empty, st->repo, base, puts, n) != 0 ||
	    G.git_tree_lookup(&tree, st->repo, &tree_oid) != 0) {
		err = git_fail(LEP_E_FAILED, "tree");
		goto done;
	}
	if ((err = signature(&sig)) != NULL)
		goto done;
	parents[0] = parent;
	if (G.git_commit_create(&commit, st->repo, NULL, sig, sig, NULL,
	    message, tree, has_parent ? 1 : 0, parents) != 0) {
		err = git_fail(LEP_E_FAILED, "commit");
		goto done;
	}
	/*
	 * Each object is synced, and the fan-out directory it went to, but
	 * not a fan-out directory's own name: the objects are durable
	 * before the ref names them.
	 */
	objects = xasprintf("%s/objects", st->path);
	lep_sync_dir(objects);
	free(objects);
	if ((err = move_main(st, &commit, has_parent ? &head : NULL,
	    message)) != NULL)
		goto done;
	if (oid_out != NULL)
		G.git_oid_tostr(oid_out, LEP_OID_HEX, &commit);
done:
	if (sig != NULL)
		G.git_signature_free(sig);
	if (tree != NULL)
		G.git_tree_free(tree);
	if (base != NULL)
		G.git_tree_free(base);
	if (parent != NULL)
		G.git_commit_free(parent);
	free(blobs);
	free(puts);
	return err;
}

/*
 * libgit2 syncs a ref, its reflog and the directories that hold them, not
 * the names of directories it made for them (refs/tags/models/NAME/):
 * sync each directory from theirs up to the repository's.
 */
static void
sync_ref_dirs(const struct lep_state *st, const char *ref)
{
	static const char *const roots[] = { "", "/logs" };
	char		*p, *slash;
	size_t		 i, top;

	for (i = 0; i < LEP_ARRAY_SIZE(roots); i++) {
		p = xasprintf("%s%s/%s", st->path, roots[i], ref);
		top = strlen(st->path) + strlen(roots[i]);
		while ((slash = strrchr(p, '/')) != NULL &&
		    (size_t)(slash - p) >= top) {
			*slash = '\0';
			lep_sync_dir(p);
		}
		free(p);
	}
}

static const struct lep_err *
state_ref_set(struct lep_state *st, const char *ref, const char *oid,
    const char *log_message, int force)
{
	git_reference	*r = NULL;
	git_oid		 id;
	int		 rc;

	if (oid == NULL)
		rc = G.git_reference_name_to_id(&id, st->repo, "HEAD");
	else
		rc = G.git_oid_fromstr(&id, oid);
	if (rc != 0)
		return git_fail(LEP_E_FAILED, oid ? oid : "HEAD");
	rc = G.git_reference_create(&r, st->repo, ref, &id, force,
	    log_message);
	if (rc == GIT_EEXISTS)
		return lep_err_new(LEP_E_CONFLICT, "'%s' exists", ref);
	if (rc != 0)
		return git_fail(LEP_E_FAILED, ref);
	G.git_reference_free(r);
	sync_ref_dirs(st, ref);
	return NULL;
}

static const struct lep_err *
state_ref_get(char out[LEP_OID_HEX], struct lep_state *st,
    const char *ref)
{
	git_oid	 id;
	int	 rc;

	out[0] = '\0';
	rc = G.git_reference_name_to_id(&id, st->repo, ref);
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
		return lep_err_new(LEP_E_NOT_FOUND, "no '%s'", ref);
	if (rc != 0)
		return git_fail(LEP_E_FAILED, ref);
	G.git_oid_tostr(out, LEP_OID_HEX, &id);
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct lep_err *
state_refs(char ***out, size_t *n_out, struct lep_state *st,
    const char *glob)
{
	git_reference_iterator	*it;
	git_reference		*r;
	char			**v = NULL;
	size_t			 n = 0;

	*out = NULL;
	*n_out = 0;
	if (G.git_reference_iterator_glob_new(&it, st->repo, glob) != 0)
		return git_fail(LEP_E_FAILED, glob);
	while (G.git_reference_next(&r, it) == 0) {
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrdup(G.git_reference_name(r));
		G.git_reference_free(r);
	}
	G.git_reference_iterator_free(it);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	*n_out = n;
	return NULL;
}

static const struct lep_err *
state_reflog_count(size_t *out, struct lep_state *st, const char *ref)
{
	git_reflog	*log;

	*out = 0;
	if (G.git_reflog_read(&log, st->repo, ref) != 0)
		return git_fail(LEP_E_FAILED, ref);
	*out = G.git_reflog_entrycount(log);
	G.git_reflog_free(log);
	return NULL;
}

/*
 * The id of path's blob in tree tree_id, or zeros when path is not there.
 * Errors: FAILED (the tree cannot be read).
 */
static const struct lep_err *
path_blob(git_oid *out, git_repository *repo, const git_oid *tree_id,
    const char *path)
{
	const struct lep_err	*err = NULL;
	git_tree		*tree;
	git_tree_entry		*e;
	int			 rc;

	memset(out, 0, sizeof(*out));
	if (G.git_tree_lookup(&tree, repo, tree_id) != 0)
		return git_fail(LEP_E_FAILED, path);
	if ((rc = G.git_tree_entry_bypath(&e, tree, path)) == 0) {
		*out = *G.git_tree_entry_id(e);
		G.git_tree_entry_free(e);
	} else if (rc != GIT_ENOTFOUND)
		err = git_fail(LEP_E_FAILED, path);
	G.git_tree_free(tree);
	return err;
}

/*
 * Did commit c change path (from its first parent)? *mine: path's blob in
 * c, or zeros. Errors: FAILED.
 */
static const struct lep_err *
path_changed(int *out, git_oid *mine, git_repository *repo,
    const git_commit *c, const char *path)
{
	const struct lep_err	*err;
	git_commit		*p;
	git_oid			 theirs;

	*out = 0;
	if ((err = path_blob(mine, repo, G.git_commit_tree_id(c),
	    path)) != NULL)
		return err;
	memset(&theirs, 0, sizeof(theirs));
	if (G.git_commit_parentcount(c) > 0) {
		if (G.git_commit_lookup(&p, repo,
		    G.git_commit_parent_id(c, 0)) != 0)
			return git_fail(LEP_E_FAILED, "log");
		err = path_blob(&theirs, repo, G.git_commit_tree_id(p), path);
		G.git_commit_free(p);
		if (err != NULL)
			return err;
	}
	*out = !G.git_oid_equal(mine, &theirs);
	return NULL;
}

/* Does message hold line, whole? */
static int
has_line(const char *message, const char *line)
{
	const char	*p = message;
	size_t		 n = strlen(line);

	while (p != NULL && (p = strstr(p, line)) != NULL) {
		if ((p == message || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static const struct lep_err *
state_log(struct lep_state_entry **out, size_t *n_out,
    struct lep_state *st, const char *path, const char *mark, size_t max)
{
	const struct lep_err	*err = NULL;
	struct lep_state_entry	*v = NULL, *e;
	const git_signature	*a;
	git_revwalk		*walk;
	git_commit		*c;
	git_oid			 id, mine;
	size_t			 n = 0;
	int			 rc = 0, changed;

	*out = NULL;
	*n_out = 0;
	/* Only an unborn HEAD is "no commit yet"; a damaged one is an error. */
	if ((rc = G.git_repository_head_unborn(st->repo)) != 0)
		return rc == 1 ? NULL : git_fail(LEP_E_FAILED, "log: HEAD");
	if (G.git_revwalk_new(&walk, st->repo) != 0)
		return git_fail(LEP_E_FAILED, "log");
	G.git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	if (G.git_revwalk_push_head(walk) != 0) {
		err = git_fail(LEP_E_FAILED, "log: HEAD");
		G.git_revwalk_free(walk);
		return err;
	}
	while ((max == 0 || n < max) &&
	    (rc = G.git_revwalk_next(&id, walk)) == 0) {
		if (G.git_commit_lookup(&c, st->repo, &id) != 0) {
			err = git_fail(LEP_E_FAILED, "log");
			break;
		}
		memset(&mine, 0, sizeof(mine));
		if (path != NULL) {
			err = path_changed(&changed, &mine, st->repo, c, path);
			/* A commit that says it is about path counts too. */
			if (err == NULL && !changed && mark != NULL)
				changed = has_line(G.git_commit_message(c),
				    mark);
			if (err != NULL || !changed) {
				G.git_commit_free(c);
				if (err != NULL)
					break;
				continue;
			}
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		e = &v[n++];
		memset(e, 0, sizeof(*e));
		G.git_oid_tostr(e->oid, LEP_OID_HEX, &id);
		if (path != NULL)
			G.git_oid_tostr(e->blob, LEP_OID_HEX, &mine);
		e->time = (long long)G.git_commit_time(c);
		a = G.git_commit_author(c);
		e->author = xstrdup(a && a->name ? a->name : "");
		e->message = xstrdup(G.git_commit_message(c) ?
		    G.git_commit_message(c) : "");
		G.git_commit_free(c);
	}
	if (err == NULL && rc != 0 && rc != GIT_ITEROVER)
		err = git_fail(LEP_E_FAILED, "log");
	G.git_revwalk_free(walk);
	if (err != NULL) {
		lep_state_entries_free(v, n);
		return err;
	}
	*out = v;
	*n_out = n;
	return NULL;
}

void
lep_state_entries_free(struct lep_state_entry *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(v[i].author);
		free(v[i].message);
	}
	free(v);
}

static char *sync_specs_pull[] = {
	"+refs/heads/main:refs/lepton-remote/main",
	"+refs/tags/*:refs/tags/*",
	"+refs/lepton/*:refs/lepton/*",
};

static const struct lep_err *
state_push(struct lep_state *st, const char *url)
{
	static const char *const globs[] = { "refs/tags/*", "refs/lepton/*" };
	const struct lep_err	*err = NULL;
	git_remote		*r;
	git_strarray		 specs;
	char			**refs, **v = NULL;
	size_t			 n = 0, nr, i, k;
	int			 rc;

	/* libgit2 pushes no glob: name every ref. */
	v = xcalloc(1, sizeof(*v));
	v[n++] = xstrdup("refs/heads/main:refs/heads/main");
	for (k = 0; k < LEP_ARRAY_SIZE(globs) && err == NULL; k++) {
		if ((err = lep_state_refs(&refs, &nr, st, globs[k])) != NULL)
			break;
		v = xreallocarray(v, n + nr, sizeof(*v));
		for (i = 0; i < nr; i++) {
			v[n++] = xasprintf("+%s:%s", refs[i], refs[i]);
			free(refs[i]);
		}
		free(refs);
	}
	if (err == NULL) {
		specs.strings = v;
		specs.count = n;
		if (G.git_remote_create_anonymous(&r, st->repo, url) != 0)
			err = git_fail(LEP_E_PROVIDER, url);
		else {
			rc = G.git_remote_push(r, &specs, NULL);
			G.git_remote_free(r);
			if (rc != 0)
				err = git_fail(LEP_E_PROVIDER, url);
		}
	}
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return err;
}

static const struct lep_err *
state_pull(struct lep_state *st, const char *url)
{
	git_remote	*r;
	git_strarray	 specs = { sync_specs_pull, 3 };
	git_oid		 theirs, mine;
	git_reference	*ref;
	int		 rc, have;

	if (G.git_remote_create_anonymous(&r, st->repo, url) != 0)
		return git_fail(LEP_E_PROVIDER, url);
	rc = G.git_remote_fetch(r, &specs, NULL, "lepton state pull");
	G.git_remote_free(r);
	if (rc != 0)
		return git_fail(LEP_E_PROVIDER, url);
	if (G.git_reference_name_to_id(&theirs, st->repo,
	    "refs/lepton-remote/main") != 0)
		return lep_err_new(LEP_E_NOT_FOUND, "%s has no state", url);
	have = G.git_reference_name_to_id(&mine, st->repo, "HEAD") == 0;
	if (have && G.git_oid_equal(&mine, &theirs))
		return NULL;
	/* Fast-forward only: history is never rewritten. */
	if (have && G.git_graph_descendant_of(st->repo, &theirs, &mine) != 1)
		return lep_err_hint(lep_err_new(LEP_E_CONFLICT, "the state "
		    "in %s and here have diverged", url), "push from one side "
		    "first, or resolve it with git");
	if (G.git_reference_create(&ref, st->repo, "refs/heads/main", &theirs,
	    1, "lepton state pull: fast-forward") != 0)
		return git_fail(LEP_E_FAILED, "refs/heads/main");
	G.git_reference_free(ref);
	return NULL;
}

/* --- the watchdog around every public function ----------------------- */

static void
on_watchdog(int sig)
{
	(void)sig;
	siglongjmp(watch_jmp, 1);
}

static void
watch_timer(int secs)
{
	struct itimerval	 it;
	struct sigaction	 sa;

	if (secs > 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_watchdog;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGVTALRM, &sa, NULL);
	}
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = secs;
	setitimer(ITIMER_VIRTUAL, &it, NULL);
}

static const struct lep_err *
hung_err(void)
{
	return lep_err_hint(lep_err_new(LEP_E_CORRUPT, "state repository: "
	    "reading it did not finish after %d s of CPU time: an object is "
	    "corrupt (libgit2 loops on a truncated one)", WATCH_CPU_S),
	    "'lepton state fsck' says which object and how to recover");
}

/*
 * WATCHED(call): run call (which sets err) under the watchdog; nested
 * calls share the outer one's. The jump lands in the frame that armed it.
 */
#define WATCHED(call)							\
	do {								\
		if (hung)						\
			return hung_err();				\
		if (watch_depth++ == 0) {				\
			if (sigsetjmp(watch_jmp, 1) != 0) {		\
				watch_depth = 0;			\
				hung = 1;				\
				return hung_err();			\
			}						\
			watch_timer(WATCH_CPU_S);			\
		}							\
		err = (call);						\
		if (--watch_depth == 0)					\
			watch_timer(0);					\
		return err;						\
	} while (0)

const struct lep_err *
lep_state_open(struct lep_state **out, const char *home, int write)
{
	const struct lep_err	*err;

	*out = NULL;
	WATCHED(state_open(out, home, write));
}

const struct lep_err *
lep_state_read(struct lep_buf *out, struct lep_state *st, const char *rev,
    const char *path)
{
	const struct lep_err	*err;

	lep_buf_init(out, 0);
	WATCHED(state_read(out, st, rev, path));
}

const struct lep_err *
lep_state_blob_id(char out[LEP_OID_HEX], struct lep_state *st,
    const char *rev, const char *path)
{
	const struct lep_err	*err;

	out[0] = '\0';
	WATCHED(state_blob_id(out, st, rev, path));
}

const struct lep_err *
lep_state_list(char ***out, size_t *n_out, struct lep_state *st,
    const char *path)
{
	const struct lep_err	*err;

	*out = NULL;
	*n_out = 0;
	WATCHED(state_list(out, n_out, st, path));
}

const struct lep_err *
lep_state_read_dir(char ***names_out, char ***data_out, size_t *n_out,
    struct lep_state *st, const char *path)
{
	const struct lep_err	*err;

	*names_out = *data_out = NULL;
	*n_out = 0;
	WATCHED(state_read_dir(names_out, data_out, n_out, st, path));
}

const struct lep_err *
lep_state_refs_targets(char ***names_out, char ***oids_out, size_t *n_out,
    struct lep_state *st, const char *glob)
{
	const struct lep_err	*err;

	*names_out = *oids_out = NULL;
	*n_out = 0;
	WATCHED(state_refs_targets(names_out, oids_out, n_out, st, glob));
}

const struct lep_err *
lep_state_commit(char oid_out[LEP_OID_HEX], struct lep_state *st,
    const struct lep_change *ch, size_t n, const char *message)
{
	const struct lep_err	*err;

	WATCHED(state_commit(oid_out, st, ch, n, message));
}

const struct lep_err *
lep_state_ref_set(struct lep_state *st, const char *ref, const char *oid,
    const char *log_message, int force)
{
	const struct lep_err	*err;

	WATCHED(state_ref_set(st, ref, oid, log_message, force));
}

const struct lep_err *
lep_state_ref_get(char out[LEP_OID_HEX], struct lep_state *st,
    const char *ref)
{
	const struct lep_err	*err;

	out[0] = '\0';
	WATCHED(state_ref_get(out, st, ref));
}

const struct lep_err *
lep_state_refs(char ***out, size_t *n_out, struct lep_state *st,
    const char *glob)
{
	const struct lep_err	*err;

	*out = NULL;
	*n_out = 0;
	WATCHED(state_refs(out, n_out, st, glob));
}

const struct lep_err *
lep_state_reflog_count(size_t *out, struct lep_state *st, const char *ref)
{
	const struct lep_err	*err;

	*out = 0;
	WATCHED(state_reflog_count(out, st, ref));
}

const struct lep_err *
lep_state_log(struct lep_state_entry **out, size_t *n_out,
    struct lep_state *st, const char *path, const char *mark, size_t max)
{
	const struct lep_err	*err;

	*out = NULL;
	*n_out = 0;
	WATCHED(state_log(out, n_out, st, path, mark, max));
}

const struct lep_err *
lep_state_push(struct lep_state *st, const char *url)
{
	const struct lep_err	*err;

	/*
	 * Not watched: packing a large history is honest CPU work, and a
	 * push or pull is a command of its own, never holding up a deploy.
	 */
	if (hung)
		return hung_err();
	err = state_push(st, url);
	return err;
}

const struct lep_err *
lep_state_pull(struct lep_state *st, const char *url)
{
	const struct lep_err	*err;

	if (hung)		/* not watched: see lep_state_push */
		return hung_err();
	err = state_pull(st, url);
	return err;
}
