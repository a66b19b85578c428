/*
 * tar.c: ustar writing (POSIX.1-2001). Each entry is a 512-byte header
 * then its data padded to 512; two zero blocks end the archive. A name
 * that does not fit ustar's 100-byte name (or 155-byte prefix and name)
 * gets a pax 'x' header before it, as GNU tar and Go's archive/tar write.
 */
#include "tar.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "tar-priv.h"
#include "util.h"

#define BLOCK	512

struct tarw {
	struct lep_buf	*out;
	const char	*root;
	struct lep_tar_ignore	 ign;
	const char *const *keep;	/* sent whatever .dockerignore says */
	const struct lep_err *err;
};

static void
octal(char *field, size_t len, unsigned long long v)
{
	char	 tmp[32];
	int	 n;

	/* len-1 digits and a NUL, as ustar has it (values here fit). */
	n = snprintf(tmp, sizeof(tmp), "%0*llo", (int)len - 1, v);
	if (n < 0 || (size_t)n >= len)
		memset(tmp, '7', len - 1);
	memcpy(field, tmp, len - 1);
	field[len - 1] = '\0';
}

static int
add(struct tarw *t, const void *p, size_t n)
{
	if (lep_buf_addn(t->out, p, n) == -1) {
		t->err = lep_err_new(LEP_E_FAILED, "%s: the build context is "
		    "larger than %zu bytes", t->root, t->out->max);
		return -1;
	}
	return 0;
}

static int
pad(struct tarw *t, size_t n)
{
	static const char	 zero[BLOCK];

	return n % BLOCK ? add(t, zero, BLOCK - n % BLOCK) : 0;
}

/* ustar's split: prefix "/" name, or -1 when it cannot be split. */
static int
split_name(const char *path, char *prefix, char *name)
{
	size_t	 len = strlen(path), i;

	if (len < 100) {
		prefix[0] = '\0';
		memcpy(name, path, len + 1);
		return 0;
	}
	for (i = len; i-- > 0;)
		if (path[i] == '/' && i < 155 && len - i - 1 < 100 &&
		    len - i - 1 > 0) {
			memcpy(prefix, path, i);
			prefix[i] = '\0';
			memcpy(name, path + i + 1, len - i);
			return 0;
		}
	return -1;
}

static int
header(struct tarw *t, const char *path, int type, unsigned long long size,
    unsigned int mode, long long mtime, const char *link)
{
	unsigned char	 h[BLOCK];
	char		 prefix[156], name[101];
	unsigned int	 sum = 0;
	size_t		 i;

	memset(h, 0, sizeof(h));
	if (split_name(path, prefix, name) == -1) {
		prefix[0] = '\0';
		lep_strlcpy(name, path, sizeof(name));
	}
	memcpy(h, name, strlen(name));
	octal((char *)h + 100, 8, mode & 07777);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	octal((char *)h + 124, 12, size);
	octal((char *)h + 136, 12, mtime < 0 ? 0 : (unsigned long long)mtime);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	if (link != NULL)
		memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 99);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	memcpy(h + 345, prefix, strlen(prefix));
	for (i = 0; i < BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum & 0777777);
	return add(t, h, BLOCK);
}

/* "LEN key=value\n", where LEN counts the whole record, itself too. */
static void
pax_record(struct lep_buf *b, const char *key, const char *value)
{
	size_t	 body = strlen(key) + strlen(value) + 3, len, digits = 1;

	for (;;) {
		char	 tmp[24];

		len = body + digits;
		if ((size_t)snprintf(tmp, sizeof(tmp), "%zu", len) == digits)
			break;
		digits++;
	}
	lep_buf_addf(b, "%zu %s=%s\n", len, key, value);
}

static int
entry(struct tarw *t, const char *path, int type, unsigned long long size,
    unsigned int mode, long long mtime, const char *link)
{
	struct lep_buf	 pax = LEP_BUF_INIT;
	char		 prefix[156], name[101];
	int		 rc = 0;

	if (split_name(path, prefix, name) == -1)
		pax_record(&pax, "path", path);
	if (link != NULL && strlen(link) >= 100)
		pax_record(&pax, "linkpath", link);
	if (pax.len > 0)
		rc = header(t, "PaxHeaders/entry", 'x', pax.len, 0644, mtime,
		    NULL) == -1 || add(t, pax.buf, pax.len) == -1 ||
		    pad(t, pax.len) == -1 ? -1 : 0;
	lep_buf_release(&pax);
	if (rc == -1)
		return -1;
	return header(t, path, type, size, mode, mtime, link);
}

/* "a/b/c" as {"a", "b", "c", NULL}, empty and "." parts left out. */
static char **
split_path(const char *p)
{
	char	**v = xcalloc(strlen(p) + 2, sizeof(char *));
	size_t	  n = 0, k;

	while (*p) {
		k = strcspn(p, "/");
		if (k > 0 && !(k == 1 && p[0] == '.'))
			v[n++] = xstrndup(p, k);
		p += k + (p[k] == '/');
	}
	v[n] = NULL;
	return v;
}

static void
free_path(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

void
lep_tar_ignore_parse(struct lep_tar_ignore *ign, char *text)
{
	char	*line, *save, *s;
	size_t	 len;

	memset(ign, 0, sizeof(*ign));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		s = line + strspn(line, " \t");
		len = strlen(s);
		while (len > 0 && strchr(" \t\r", s[len - 1]))
			s[--len] = '\0';
		if (len == 0 || s[0] == '#')
			continue;
		ign->segs = xreallocarray(ign->segs, ign->n + 1,
		    sizeof(char **));
		ign->neg = xreallocarray(ign->neg, ign->n + 1, sizeof(int));
		ign->neg[ign->n] = s[0] == '!';
		ign->any_neg |= s[0] == '!';
		s += s[0] == '!';
		ign->segs[ign->n++] = split_path(s);
	}
}

void
lep_tar_ignore_release(struct lep_tar_ignore *ign)
{
	size_t	 i;

	for (i = 0; i < ign->n; i++)
		free_path(ign->segs[i]);
	free(ign->segs);
	free(ign->neg);
	memset(ign, 0, sizeof(*ign));
}

/* .dockerignore, when there: one pattern a line, '#' a comment. */
static void
ignore_load(struct lep_tar_ignore *ign, const char *root)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	char		*p = xasprintf("%s/.dockerignore", root);

	memset(ign, 0, sizeof(*ign));
	if (lep_read_file(&b, p, LEP_FILE_MAX) == NULL)
		lep_tar_ignore_parse(ign, b.buf);
	lep_buf_release(&b);
	free(p);
}

/* Add to set the positions a "**" may match no segment to reach. */
static void
stars_skip(unsigned char *set, char *const *pat, size_t m)
{
	size_t	 i;

	for (i = 0; i < m; i++)
		if (set[i] && strcmp(pat[i], "**") == 0)
			set[i + 1] = 1;
}

/*
 * Whether pattern segments pat match the first len segments of path for
 * some len from 1 to n (the path, or a directory above it), as Docker's
 * patternmatcher does: each segment by fnmatch ('*' and '?' within it),
 * and "**" for any number of segments, none too. The pattern runs as an
 * automaton, the set of its positions reached so far advanced one path
 * segment at a time: O(segments x pattern) fnmatch calls, where trying
 * every split of the path for each "**" in turn was exponential.
 */
static int
segs_match(char *const *pat, char *const *path, size_t n)
{
	unsigned char	*cur, *next, *t;
	size_t		 m, i, j;
	int		 hit = 0;

	for (m = 0; pat[m] != NULL; m++)
		;
	cur = xcalloc(m + 1, 1);
	next = xcalloc(m + 1, 1);
	cur[0] = 1;
	stars_skip(cur, pat, m);
	for (j = 0; j < n && !hit; j++) {
		memset(next, 0, m + 1);
		for (i = 0; i < m; i++) {
			if (!cur[i])
				continue;
			if (strcmp(pat[i], "**") == 0)
				next[i] = 1;
			else if (fnmatch(pat[i], path[j], 0) == 0)
				next[i + 1] = 1;
		}
		stars_skip(next, pat, m);
		t = cur;
		cur = next;
		next = t;
		hit = cur[m];
	}
	free(cur);
	free(next);
	return hit;
}

int
lep_tar_ignored(const struct lep_tar_ignore *ign, const char *rel)
{
	char	**path;
	size_t	 i, n;
	int	 out = 0;

	if (ign->n == 0)
		return 0;
	path = split_path(rel);
	for (n = 0; path[n] != NULL; n++)
		;
	for (i = 0; i < ign->n; i++)
		if (segs_match(ign->segs[i], path, n))
			out = !ign->neg[i];
	free_path(path);
	return out;
}

static int
kept(const struct tarw *t, const char *rel)
{
	size_t	 i;

	for (i = 0; t->keep != NULL && t->keep[i] != NULL; i++)
		if (strcmp(t->keep[i], rel) == 0)
			return 1;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct tarw *, const char *rel);

/*
 * A directory's entry and then its tree; an excluded directory only when
 * a '!' pattern may take something under it back, without its entry.
 */
static int
one_dir(struct tarw *t, const char *rel, const struct stat *st, int excluded)
{
	char	*d;
	int	 rc = 0;

	if (!excluded) {
		d = xasprintf("%s/", rel);
		rc = entry(t, d, '5', 0, st->st_mode, st->st_mtime, NULL);
		free(d);
	}
	return rc == 0 ? walk(t, rel) : rc;
}

static int
one(struct tarw *t, const char *rel, int excluded)
{
	struct lep_buf	 data = LEP_BUF_INIT;
	struct stat	 st;
	char		*p = xasprintf("%s/%s", t->root, rel), link[4096];
	ssize_t		 n;
	int		 rc = -1;

	if (lstat(p, &st) == -1)
		t->err = lep_err_errno(LEP_E_FAILED, "%s", p);
	else if (S_ISDIR(st.st_mode))
		rc = one_dir(t, rel, &st, excluded);
	else if (excluded)
		rc = 0;
	else if (S_ISLNK(st.st_mode)) {
		if ((n = readlink(p, link, sizeof(link) - 1)) == -1)
			t->err = lep_err_errno(LEP_E_FAILED, "%s", p);
		else {
			link[n] = '\0';
			rc = entry(t, rel, '2', 0, 0777, st.st_mtime, link);
		}
	} else if (S_ISREG(st.st_mode)) {
		if ((t->err = lep_read_file(&data, p, t->out->max)) == NULL &&
		    entry(t, rel, '0', data.len, st.st_mode, st.st_mtime,
		    NULL) == 0 && add(t, data.buf, data.len) == 0)
			rc = pad(t, data.len);
	} else
		t->err = lep_err_new(LEP_E_FAILED, "%s: not a file, directory "
		    "or symbolic link: it cannot go in a build context "
		    "(.dockerignore can leave it out)", p);
	lep_buf_release(&data);
	free(p);
	return rc;
}

static int
walk(struct tarw *t, const char *rel)
{
	struct dirent	*e;
	DIR		*d;
	char		*p, **names = NULL, *sub;
	size_t		 n = 0, i;
	int		 rc = 0;

	p = rel[0] ? xasprintf("%s/%s", t->root, rel) : xstrdup(t->root);
	if ((d = opendir(p)) == NULL) {
		t->err = lep_err_errno(errno == ENOENT ? LEP_E_NOT_FOUND :
		    LEP_E_FAILED, "%s", p);
		free(p);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(char *));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	free(p);
	qsort(names, n, sizeof(char *), name_cmp);
	for (i = 0; i < n; i++) {
		sub = rel[0] ? xasprintf("%s/%s", rel, names[i]) :
		    xstrdup(names[i]);
		if (rc == 0) {
			int	 ex = lep_tar_ignored(&t->ign, sub) &&
			    !kept(t, sub);

			/* An excluded tree is walked for what '!' takes back. */
			if (!ex || t->ign.any_neg)
				rc = one(t, sub, ex);
		}
		free(sub);
		free(names[i]);
	}
	free(names);
	return rc;
}

const struct lep_err *
lep_tar_dir(struct lep_buf *out, const char *dir, size_t max,
    const char *const *keep)
{
	static const char	 end[2 * BLOCK];
	struct tarw		 t;

	lep_buf_init_max(out, max);
	memset(&t, 0, sizeof(t));
	t.out = out;
	t.root = dir;
	t.keep = keep;
	ignore_load(&t.ign, dir);
	if (walk(&t, "") == 0)
		(void)add(&t, end, sizeof(end));
	lep_tar_ignore_release(&t.ign);
	if (t.err != NULL)
		lep_buf_release(out);
	return t.err;
}

/* An octal field, NUL- or space-ended; -1 when not a number. */
static long long
field_octal(const char *f, size_t len)
{
	long long	 v = 0;
	size_t		 i = 0;

	while (i < len && f[i] == ' ')
		i++;
	if (i == len || f[i] < '0' || f[i] > '7')
		return -1;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (f[i] - '0');
	return v;
}

/* A relative name that stays under its root. */
static int
name_safe(const char *name)
{
	const char	*p = name;

	if (*name == '/' || *name == '\0')
		return 0;
	while (*p != '\0') {
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return 0;
		if ((p = strchr(p, '/')) == NULL)
			break;
		p++;
	}
	return 1;
}

/* pax records "LEN key=VALUE\n": the path's value, or NULL. Caller frees. */
static char *
pax_path(const char *rec, size_t len)
{
	size_t		 off = 0, n, i;

	while (off < len) {
		for (n = 0, i = off; i < len && rec[i] >= '0' &&
		    rec[i] <= '9' && n < len; i++)
			n = n * 10 + (size_t)(rec[i] - '0');
		if (i >= len || rec[i] != ' ' || n <= i - off + 1 ||
		    n > len - off || rec[off + n - 1] != '\n')
			return NULL;
		i++;
		if (off + n - i > 5 && strncmp(rec + i, "path=", 5) == 0)
			return xstrndup(rec + i + 5, off + n - 1 - i - 5);
		off += n;
	}
	return NULL;
}

const struct lep_err *
lep_tar_extract(const char *dir, const void *tar, size_t len)
{
	const struct lep_err	*err = NULL;
	const char		*t = tar, *h;
	char			 name[256 + 2], *full, *slash, *pax = NULL;
	long long		 size;
	size_t			 off = 0;
	int			 fd;

	if ((err = lep_mkdirs(dir, 0700)) != NULL)
		return err;
	while (err == NULL && off + BLOCK <= len) {
		h = t + off;
		if (h[0] == '\0')
			break;		/* the end blocks */
		size = field_octal(h + 124, 12);
		if (size < 0 || (size_t)size > len - off - BLOCK)
			return lep_err_new(LEP_E_FAILED, "tar: a header at "
			    "byte %zu is malformed or overruns the archive",
			    off);
		if (pax == NULL && h[345] != '\0' &&
		    memcmp(h + 257, "ustar", 5) == 0)
			snprintf(name, sizeof(name), "%.155s/%.100s", h + 345,
			    h);
		else
			snprintf(name, sizeof(name), "%.100s", h);
		if (h[156] == 'x') {
			free(pax);
			pax = pax_path(h + BLOCK, (size_t)size);
		} else if (h[156] == '0' || h[156] == '\0' || h[156] == '5') {
			full = NULL;
			if (!name_safe(pax ? pax : name))
				err = lep_err_new(LEP_E_FAILED, "tar: entry "
				    "'%s' would land outside %s", pax ? pax :
				    name, dir);
			else
				full = xasprintf("%s/%s", dir, pax ? pax :
				    name);
			if (err == NULL && h[156] == '5')
				err = lep_mkdirs(full, 0700);
			else if (err == NULL) {
				if ((slash = strrchr(full, '/')) != NULL) {
					*slash = '\0';
					err = lep_mkdirs(full, 0700);
					*slash = '/';
				}
				if (err == NULL) {
					fd = open(full, O_WRONLY | O_CREAT |
					    O_TRUNC | O_NOFOLLOW, 0600);
					if (fd == -1 || write(fd, h + BLOCK,
					    (size_t)size) != (ssize_t)size)
						err = lep_err_errno(
						    LEP_E_FAILED, "tar: "
						    "cannot write %s", full);
					if (fd != -1)
						close(fd);
				}
			}
			free(full);
			free(pax);
			pax = NULL;
		} else {
			free(pax);	/* a link, a device: left out */
			pax = NULL;
		}
		off += BLOCK + (((size_t)size + BLOCK - 1) / BLOCK) * BLOCK;
	}
	free(pax);
	return err;
}
