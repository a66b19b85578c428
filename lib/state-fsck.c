/*
 * state-fsck.c: check the state repository without trusting libgit2 to
 * read it (libgit2 1.5 hangs on a truncated loose object), and repair
 * what can be: loose objects are inflated here with zlib, loaded on use.
 */
#include "state-fsck.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "gzip.h"
#include "json.h"
#include "util.h"

#define OBJ_MAX		(256u << 20)	/* an object larger is refused */
#define WALK_MAX	100000		/* objects followed from one commit */

struct fsck {
	const char	*path;		/* HOME/state */
	struct lep_json	*bad;		/* [{object, why}] */
	char		 why[128];
};

/*
 * Loose object hex, inflated into out ("TYPE SIZE\0" and the content).
 * 1: read and whole; 0: not a loose object (packed, or missing); -1:
 * corrupt, f->why says how.
 */
static int
loose_read(struct lep_buf *out, struct fsck *f, const char *hex)
{
	const struct lep_err *err;
	struct lep_buf	 raw;
	char		*p, *nul;
	long long	 want;

	lep_buf_init(out, 0);
	p = xasprintf("%s/objects/%.2s/%s", f->path, hex, hex + 2);
	if (access(p, F_OK) != 0) {
		free(p);
		return 0;
	}
	if (lep_read_file(&raw, p, OBJ_MAX) != NULL) {
		free(p);
		snprintf(f->why, sizeof(f->why), "unreadable");
		return -1;
	}
	free(p);
	err = lep_inflate(out, raw.buf, raw.len, OBJ_MAX + 64);
	lep_buf_release(&raw);
	if (err != NULL) {
		snprintf(f->why, sizeof(f->why), "%s",
		    strstr(err->msg, "truncated") != NULL ?
		    "truncated (its zlib stream ends early)" :
		    "not a valid zlib stream");
		return -1;
	}
	/* "TYPE SIZE\0": the size must be what follows. */
	nul = memchr(out->buf, '\0', out->len < 32 ? out->len : 32);
	if (nul == NULL || (p = strchr(out->buf, ' ')) == NULL || p > nul ||
	    lep_parse_ll(&want, p + 1) != 0 || want < 0 ||
	    (size_t)want != out->len - (size_t)(nul + 1 - out->buf)) {
		snprintf(f->why, sizeof(f->why), "its header and length "
		    "disagree");
		return -1;
	}
	return 1;
}

static void
add_bad(struct fsck *f, const char *hex, const char *why)
{
	struct lep_json	*o;
	size_t		 i;

	for (i = 0; i < lep_json_len(f->bad); i++)
		if (lep_streq(lep_json_get_str(lep_json_at(f->bad, i),
		    "object"), hex))
			return;
	o = lep_json_obj();
	lep_json_set_str(o, "object", hex);
	lep_json_set_str(o, "problem", why);
	lep_json_push(f->bad, o);
}

/* Every loose object under objects/: each one inflates whole. */
static void
scan_loose(struct fsck *f, size_t *n_out)
{
	struct dirent	*de, *oe;
	struct lep_buf	 b;
	DIR		*d, *od;
	char		*p, hex[LEP_OID_HEX];

	*n_out = 0;
	p = xasprintf("%s/objects", f->path);
	d = opendir(p);
	free(p);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 2 ||
		    strspn(de->d_name, "0123456789abcdef") != 2)
			continue;
		p = xasprintf("%s/objects/%s", f->path, de->d_name);
		od = opendir(p);
		free(p);
		if (od == NULL)
			continue;
		while ((oe = readdir(od)) != NULL) {
			if (strlen(oe->d_name) != 38 || strspn(oe->d_name,
			    "0123456789abcdef") != 38)
				continue;
			/* Lengths checked above: 2 + 38 digits. */
			memcpy(hex, de->d_name, 2);
			memcpy(hex + 2, oe->d_name, 38);
			hex[40] = '\0';
			(*n_out)++;
			if (loose_read(&b, f, hex) < 0)
				add_bad(f, hex, f->why);
			lep_buf_release(&b);
		}
		closedir(od);
	}
	closedir(d);
}

static int
is_bad(const struct fsck *f, const char *hex)
{
	size_t	 i;

	for (i = 0; i < lep_json_len(f->bad); i++)
		if (lep_streq(lep_json_get_str(lep_json_at(f->bad, i),
		    "object"), hex))
			return 1;
	return 0;
}

/*
 * Is everything commit hex needs there and whole: the commit, its tree
 * and every tree and blob below it? Objects that are not loose (packed)
 * are taken on trust. 1 intact, 0 not.
 */
static int
commit_intact(struct fsck *f, const char *hex)
{
	struct lep_buf	 b = LEP_BUF_INIT;	/* is_bad() skips loose_read */
	char		**todo, cur[LEP_OID_HEX];
	const char	*body, *e, *end;
	size_t		 n = 0, cap = 16, seen = 0, i;
	int		 ok = 1, r;

	if (is_bad(f, hex) || loose_read(&b, f, hex) < 0) {
		lep_buf_release(&b);
		return 0;
	}
	if (b.len == 0) {	/* packed: trusted */
		lep_buf_release(&b);
		return 1;
	}
	body = memchr(b.buf, '\0', b.len);
	if (body == NULL || strncmp(body + 1, "tree ", 5) != 0 ||
	    b.len < (size_t)(body + 1 - b.buf) + 45) {
		lep_buf_release(&b);
		return 0;
	}
	todo = xcalloc(cap, sizeof(*todo));
	todo[n++] = xstrndup(body + 6, 40);
	lep_buf_release(&b);
	while (ok && n > 0 && seen++ < WALK_MAX) {
		lep_strlcpy(cur, todo[--n], sizeof(cur));
		free(todo[n]);
		if (is_bad(f, cur) || (r = loose_read(&b, f, cur)) < 0) {
			ok = 0;
			lep_buf_release(&b);
			break;
		}
		if (r == 0 || strncmp(b.buf, "tree ", 5) != 0) {
			lep_buf_release(&b);
			continue;
		}
		/* Entries: "MODE NAME\0" and 20 raw bytes of id. */
		e = memchr(b.buf, '\0', b.len) + 1;
		end = b.buf + b.len;
		while (e < end) {
			const char *nul = memchr(e, '\0', (size_t)(end - e));

			if (nul == NULL || end - nul < 21) {
				ok = 0;
				break;
			}
			if (n == cap)
				todo = xreallocarray(todo, cap *= 2,
				    sizeof(*todo));
			todo[n] = xmalloc(LEP_OID_HEX);
			for (i = 0; i < 20; i++)
				snprintf(todo[n] + 2 * i, 3, "%02x",
				    (unsigned char)nul[1 + i]);
			n++;
			e = nul + 21;
		}
		lep_buf_release(&b);
	}
	while (n > 0)
		free(todo[--n]);
	free(todo);
	return ok;
}

/* A ref's commit: its loose file, else packed-refs. 0 found, -1 not. */
static int
ref_read(char out[LEP_OID_HEX], const struct fsck *f, const char *ref)
{
	struct lep_buf	 b;
	char		*p, *line, *save = NULL;
	int		 rc = -1;

	p = xasprintf("%s/%s", f->path, ref);
	if (lep_read_file(&b, p, 4096) == NULL) {
		if (b.len >= 40 && strspn(b.buf, "0123456789abcdef") >= 40) {
			snprintf(out, LEP_OID_HEX, "%.40s", b.buf);
			rc = 0;
		}
		lep_buf_release(&b);
		free(p);
		return rc;
	}
	free(p);
	p = xasprintf("%s/packed-refs", f->path);
	if (lep_read_file(&b, p, 16 << 20) == NULL) {
		for (line = strtok_r(b.buf, "\n", &save); line != NULL &&
		    rc != 0; line = strtok_r(NULL, "\n", &save))
			if (strlen(line) > 41 && line[40] == ' ' &&
			    strcmp(line + 41, ref) == 0) {
				snprintf(out, LEP_OID_HEX, "%.40s", line);
				rc = 0;
			}
		lep_buf_release(&b);
	}
	free(p);
	return rc;
}

/*
 * Commits main has pointed at, newest first, from its reflog (or HEAD's):
 * the candidates to fall back to. Caller frees with lep_strv_free.
 */
static void
reflog_commits(char ***out, size_t *n_out, const struct fsck *f)
{
	static const char *const logs[] = { "logs/refs/heads/main",
	    "logs/HEAD" };
	struct lep_buf	 b;
	char		*p, *line, *save = NULL, **v = NULL;
	size_t		 n = 0, k, i;

	for (k = 0; k < LEP_ARRAY_SIZE(logs); k++) {
		p = xasprintf("%s/%s", f->path, logs[k]);
		if (lep_read_file(&b, p, 64 << 20) != NULL) {
			free(p);
			continue;
		}
		free(p);
		/* "OLD NEW NAME <MAIL> TIME TZ\tMESSAGE": NEW is the commit. */
		for (line = strtok_r(b.buf, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (strlen(line) < 81 || line[40] != ' ' ||
			    strspn(line + 41, "0123456789abcdef") < 40 ||
			    strspn(line + 41, "0") >= 40)
				continue;
			for (i = 0; i < n; i++)
				if (strncmp(v[i], line + 41, 40) == 0)
					break;
			if (i < n)
				continue;
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n++] = xstrndup(line + 41, 40);
		}
		lep_buf_release(&b);
	}
	/* Oldest first in the file: newest first here. */
	for (i = 0; i < n / 2; i++) {
		p = v[i];
		v[i] = v[n - 1 - i];
		v[n - 1 - i] = p;
	}
	*out = v;
	*n_out = n;
}

/* HEAD names refs/heads/main? NULL when it does; else what it holds. */
static char *
head_problem(const struct fsck *f)
{
	struct lep_buf	 b;
	char		*p, *why = NULL;

	p = xasprintf("%s/HEAD", f->path);
	if (lep_read_file(&b, p, 4096) != NULL)
		why = xstrdup("HEAD is missing or unreadable");
	else if (b.len < 20 || strncmp(b.buf, "ref: refs/heads/main", 20)
	    != 0 || (b.len > 20 && b.buf[20] != '\n'))
		why = xasprintf("HEAD holds '%.*s', not 'ref: "
		    "refs/heads/main'", (int)strcspn(b.buf, "\n") > 60 ? 60 :
		    (int)strcspn(b.buf, "\n"), b.buf);
	lep_buf_release(&b);
	free(p);
	return why;
}

/* Move a corrupt loose object aside, into HOME/state/corrupt/. */
static const struct lep_err *
set_aside(const struct fsck *f, const char *hex)
{
	char	*from, *dir, *to;
	int	 rc;

	from = xasprintf("%s/objects/%.2s/%s", f->path, hex, hex + 2);
	dir = xasprintf("%s/corrupt", f->path);
	to = xasprintf("%s/%s", dir, hex);
	(void)mkdir(dir, 0700);
	rc = rename(from, to);
	free(from);
	free(dir);
	free(to);
	if (rc == -1 && errno != ENOENT)
		return lep_err_errno(LEP_E_FAILED, "cannot move object %s "
		    "aside", hex);
	return NULL;
}

const struct lep_err *
lep_state_fsck(struct lep_json **out, const char *home, int repair)
{
	const struct lep_err	*err;
	struct fsck		 f;
	struct lep_json		*r;
	char			 main_oid[LEP_OID_HEX], *head, **cands = NULL;
	char			*p, *line, *d;
	const char		*good = NULL;
	size_t			 nobj, ncand = 0, i, back = 0;
	int			 have_main, main_ok = 0, damaged;

	*out = NULL;
	if ((err = lep_zlib_ready()) != NULL)
		return err;
	memset(&f, 0, sizeof(f));
	p = xasprintf("%s/state", home);
	f.path = p;
	if (access(p, F_OK) != 0) {
		free(p);
		return lep_err_new(LEP_E_NOT_FOUND, "no state repository in "
		    "'%s' yet: nothing was deployed or trained", home);
	}
	f.bad = lep_json_arr();
	r = lep_json_obj();
	lep_json_set_str(r, "repository", f.path);
	scan_loose(&f, &nobj);
	lep_json_set_int(r, "loose_objects", (long long)nobj);
	head = head_problem(&f);
	lep_json_set_str(r, "head", head ? head : "ok");
	have_main = ref_read(main_oid, &f, "refs/heads/main") == 0;
	if (have_main)
		main_ok = commit_intact(&f, main_oid);
	lep_json_set_str(r, "main", have_main ? main_oid : "");
	lep_json_set_bool(r, "main_intact", main_ok);
	damaged = head != NULL || lep_json_len(f.bad) > 0 || !main_ok;
	if (!have_main && head == NULL && nobj == 0)
		damaged = 0;	/* new and empty */
	if (have_main && main_ok)
		good = main_oid;
	else if (damaged) {
		/* The newest commit main had that is whole. */
		reflog_commits(&cands, &ncand, &f);
		for (i = 0; i < ncand && good == NULL; i++)
			if (commit_intact(&f, cands[i])) {
				good = cands[i];
				back = i;
			}
	}
	lep_json_set_str(r, "intact", good ? good : "");
	lep_json_set_int(r, "commits_lost", good && good != main_oid ?
	    (long long)back : 0);
	lep_json_set(r, "corrupt", f.bad);
	lep_json_set_bool(r, "damaged", damaged);
	lep_json_set_bool(r, "repaired", 0);
	if (damaged && repair) {
		if (good == NULL) {
			err = lep_err_new(LEP_E_CORRUPT, "state repository %s: "
			    "no intact commit to return to; restore it from "
			    "a copy ('lepton state pull REMOTE' into a new "
			    "LEPTON_HOME)", f.path);
			goto done;
		}
		for (i = 0; i < lep_json_len(f.bad) && err == NULL; i++)
			err = set_aside(&f, lep_json_get_str(lep_json_at(f.bad,
			    i), "object"));
		if (err == NULL && good != main_oid) {
			p = xasprintf("%s/refs/heads/main", f.path);
			line = xasprintf("%s\n", good);
			d = xasprintf("%s/refs/heads", f.path);
			(void)lep_mkdirs(d, 0700);
			free(d);
			err = lep_write_atomic(p, line, strlen(line), 0600);
			free(line);
			free(p);
		}
		if (err == NULL && head != NULL) {
			p = xasprintf("%s/HEAD", f.path);
			line = xstrdup("ref: refs/heads/main\n");
			err = lep_write_atomic(p, line, strlen(line), 0600);
			free(line);
			free(p);
		}
		if (err == NULL)
			lep_json_set_bool(r, "repaired", 1);
	}
done:
	free(head);
	lep_strv_free(cands, ncand);
	free((char *)f.path);
	if (err != NULL) {
		lep_json_free(r);
		return err;
	}
	*out = r;
	return NULL;
}
