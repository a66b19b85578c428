/*
 * fs.c: atomic files, bounded reads and the fcntl state lock.
 */
#include "fs.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "json.h"
#include "util.h"

static mode_t	 user_umask;
static int	 user_umask_kept;

void
lep_umask_private(void)
{
	mode_t	 was = umask(077);

	if (!user_umask_kept) {
		user_umask = was;
		user_umask_kept = 1;
	}
}

void
lep_umask_restore(void)
{
	if (user_umask_kept)
		(void)umask(user_umask);
}

const struct lep_err *
lep_check_private_dir(const char *path)
{
	struct stat	 st;

	if (stat(path, &st) == -1) {
		/*
		 * Missing is new; out of reach (EACCES) is for whatever uses
		 * it to report: 'lepton check' never does.
		 */
		if (errno == ENOENT || errno == EACCES)
			return NULL;
		return lep_err_errno(LEP_E_FAILED, "cannot stat '%s'", path);
	}
	if (!S_ISDIR(st.st_mode))
		return lep_err_new(LEP_E_FAILED, "'%s' is not a directory",
		    path);
	if (st.st_uid != geteuid())
		return lep_err_hint(lep_err_new(LEP_E_AUTH, "'%s' holds "
		    "lepton's state but belongs to another user", path),
		    "use a directory of your own: --home DIR or LEPTON_HOME");
	if (st.st_mode & 022)
		return lep_err_hint(lep_err_new(LEP_E_AUTH, "'%s' holds "
		    "lepton's state but others may write to it (mode %03o)",
		    path, (unsigned int)(st.st_mode & 0777)),
		    "chmod -R go-w '%s'", path);
	return NULL;
}

static void fsync_dir_of(const char *);

/* A directory made is made durable: its new name, in its parent, synced. */
static const struct lep_err *
mkdir_one(const char *p, mode_t mode)
{
	if (mkdir(p, mode) == 0)
		fsync_dir_of(p);
	else if (errno != EEXIST)
		return lep_err_errno(LEP_E_FAILED, "cannot create directory "
		    "'%s'", p);
	return NULL;
}

const struct lep_err *
lep_mkdirs(const char *path, mode_t mode)
{
	const struct lep_err	*err = NULL;
	char			*p, *s;

	p = xstrdup(path);
	for (s = p + 1; *s != '\0' && err == NULL; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		err = mkdir_one(p, mode);
		*s = '/';
	}
	if (err == NULL)
		err = mkdir_one(p, mode);
	free(p);
	return err;
}

/* Best effort: what cannot be opened was not written by us either. */
static void
fsync_path(const char *path, int flags)
{
	int	 fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | flags);
	if (fd != -1) {
		(void)fsync(fd);
		close(fd);
	}
}

static void
fsync_dir_of(const char *path)
{
	char	*d, *slash;

	d = xstrdup(path);
	slash = strrchr(d, '/');
	if (slash != NULL) {
		if (slash == d)
			slash[1] = '\0';
		else
			*slash = '\0';
		fsync_path(d, O_DIRECTORY);
	}
	free(d);
}

void
lep_sync_dir(const char *dir)
{
	fsync_path(dir, O_DIRECTORY);
}

void
lep_sync_parent(const char *path)
{
	fsync_dir_of(path);
}

/* Depth first: a directory is synced after what it holds. */
static void
sync_tree(const char *path)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		*sub;

	if (lstat(path, &st) == -1)
		return;
	if (S_ISREG(st.st_mode)) {
		fsync_path(path, 0);
		return;
	}
	if (!S_ISDIR(st.st_mode))
		return;
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			sub = xasprintf("%s/%s", path, de->d_name);
			sync_tree(sub);
			free(sub);
		}
		closedir(d);
	}
	fsync_path(path, O_DIRECTORY);
}

void
lep_sync_tree(const char *path)
{
	sync_tree(path);
	fsync_dir_of(path);
}

/* Write data to a new file beside path, synced: *tmp_out (caller frees). */
static const struct lep_err *
write_tmp(char **tmp_out, const char *path, const void *data, size_t len,
    mode_t mode)
{
	const struct lep_err	*err = NULL;
	const char		*p = data;
	ssize_t			 n;
	int			 fd;

	*tmp_out = xasprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(*tmp_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, mode);
	if (fd == -1)
		return lep_err_errno(LEP_E_FAILED, "cannot write '%s'", path);
	/* The umask must not widen nor narrow what we asked for. */
	(void)fchmod(fd, mode);
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err = lep_err_errno(LEP_E_FAILED, "cannot write '%s'",
			    path);
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (err == NULL && fsync(fd) == -1)
		err = lep_err_errno(LEP_E_FAILED, "cannot sync '%s'", path);
	if (close(fd) == -1 && err == NULL)
		err = lep_err_errno(LEP_E_FAILED, "cannot write '%s'", path);
	if (err != NULL)
		(void)unlink(*tmp_out);
	return err;
}

const struct lep_err *
lep_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	const struct lep_err	*err;
	char			*tmp;

	err = write_tmp(&tmp, path, data, len, mode);
	if (err == NULL && rename(tmp, path) == -1) {
		err = lep_err_errno(LEP_E_FAILED, "cannot replace '%s'", path);
		(void)unlink(tmp);
	}
	if (err == NULL)
		fsync_dir_of(path);
	free(tmp);
	return err;
}

const struct lep_err *
lep_write_exclusive(const char *path, const void *data, size_t len,
    mode_t mode)
{
	const struct lep_err	*err;
	char			*tmp;

	err = write_tmp(&tmp, path, data, len, mode);
	if (err == NULL) {
		/* link(2), unlike rename(2), never replaces what is there. */
		if (link(tmp, path) == -1)
			err = errno == EEXIST ? lep_err_new(LEP_E_CONFLICT,
			    "'%s' exists already", path) :
			    lep_err_errno(LEP_E_FAILED, "cannot create '%s'",
			    path);
		(void)unlink(tmp);
	}
	if (err == NULL)
		fsync_dir_of(path);
	free(tmp);
	return err;
}

const struct lep_err *
lep_check_private(int fd, const char *path)
{
	struct stat	 st;
	const char	*may;
	int		 dir;

	if (fstat(fd, &st) == -1)
		return lep_err_errno(LEP_E_FAILED, "cannot stat '%s'", path);
	if (st.st_uid != geteuid())
		return lep_err_new(LEP_E_AUTH, "'%s' holds secrets but belongs "
		    "to another user", path);
	if ((st.st_mode & 077) == 0)
		return NULL;
	dir = S_ISDIR(st.st_mode);
	if (st.st_mode & 044)
		may = dir ? "list" : "read";
	else if (st.st_mode & 022)
		may = "change";
	else
		may = "enter";
	return lep_err_hint(lep_err_new(LEP_E_AUTH, "'%s' holds secrets but "
	    "others may %s it (mode %03o)", path, may,
	    (unsigned int)(st.st_mode & 0777)), "chmod %s '%s'",
	    dir ? "700" : "600", path);
}

const struct lep_err *
lep_open_read(int *fd_out, const char *path, int flags)
{
	*fd_out = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (*fd_out != -1)
		return NULL;
	if (errno == ENOENT)
		return lep_err_new(LEP_E_NOT_FOUND, "'%s': no such file", path);
	return lep_err_errno(LEP_E_FAILED, "cannot open '%s'", path);
}

const struct lep_err *
lep_read_json(struct lep_json **out, const char *path, size_t max)
{
	const struct lep_err	*err;
	struct lep_buf		 b;

	*out = NULL;
	err = lep_read_file(&b, path, max);
	if (err == NULL)
		err = lep_json_parse(out, b.buf, b.len, path);
	lep_buf_release(&b);
	return err;
}

const struct lep_err *
lep_write_json(const char *path, const struct lep_json *j, mode_t mode)
{
	const struct lep_err	*err;
	char			*text;

	text = lep_json_print(j, 1);
	err = lep_write_atomic(path, text, strlen(text), mode);
	/* What we write may hold secrets (secrets.json): wipe the copy. */
	lep_wipe(text, strlen(text));
	free(text);
	return err;
}

const struct lep_err *
lep_read_fd(struct lep_buf *b, int fd, const char *path, size_t max)
{
	char	 chunk[8192];
	ssize_t	 n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return lep_err_errno(LEP_E_FAILED, "cannot read '%s'",
			    path);
		if (n == 0)
			return NULL;
		if (lep_buf_addn(b, chunk, (size_t)n) == -1)
			return lep_err_new(LEP_E_FAILED, "'%s' is larger than "
			    "%zu bytes", path, max);
	}
}

const struct lep_err *
lep_read_file(struct lep_buf *b, const char *path, size_t max)
{
	const struct lep_err	*err;
	int			 fd;

	struct stat		 st;

	lep_buf_init_max(b, max);
	if ((err = lep_open_read(&fd, path, 0)) != NULL)
		return err;
	/* Size the buffer once: big catalogs are read whole. */
	if (fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size <= max)
		lep_buf_init(b, (size_t)st.st_size), b->max = max;
	err = lep_read_fd(b, fd, path, max);
	close(fd);
	return err;
}

void
lep_remove_tree(const char *path)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		*sub;

	if (lstat(path, &st) == -1)
		return;
	if (!S_ISDIR(st.st_mode)) {
		(void)unlink(path);
		return;
	}
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			sub = xasprintf("%s/%s", path, de->d_name);
			lep_remove_tree(sub);
			free(sub);
		}
		closedir(d);
	}
	(void)rmdir(path);
}

const struct lep_err *
lep_lock(int *fd_out, const char *home, long long timeout_ms)
{
	const struct lep_err	*err;
	struct flock		 fl;
	struct timespec		 ts = { 0, 20 * 1000 * 1000 };
	long long		 deadline;
	char			*path;
	int			 fd;

	*fd_out = -1;
	if ((err = lep_mkdirs(home, 0700)) != NULL)
		return err;
	path = xasprintf("%s/lock", home);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		err = lep_err_errno(LEP_E_FAILED, "cannot open '%s'", path);
		free(path);
		return err;
	}
	deadline = lep_now_ms() + timeout_ms;
	for (;;) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == 0)
			break;
		if (errno != EACCES && errno != EAGAIN) {
			err = lep_err_errno(LEP_E_FAILED, "cannot lock '%s'",
			    path);
			break;
		}
		if (lep_now_ms() >= deadline) {
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(fd, F_GETLK, &fl) == 0 &&
			    fl.l_type != F_UNLCK)
				err = lep_err_new(LEP_E_LOCKED, "'%s' is locked "
				    "by process %ld", path, (long)fl.l_pid);
			else
				err = lep_err_new(LEP_E_LOCKED, "'%s' is "
				    "locked by another process", path);
			lep_err_hint(err, "wait for it to finish, or raise "
			    "--lock-timeout");
			break;
		}
		nanosleep(&ts, NULL);
	}
	free(path);
	if (err != NULL) {
		close(fd);
		return err;
	}
	*fd_out = fd;
	return NULL;
}

void
lep_unlock(int fd)
{
	if (fd != -1)
		close(fd);
}

const struct lep_err *
lep_write_probe(const char *dir, size_t size)
{
	const struct lep_err	*err = NULL;
	char			*p = xasprintf("%s/.probe-%ld", dir, (long)getpid());
	int			 fd, rc;

	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1) {
		err = lep_err_errno(LEP_E_FAILED, "cannot write in '%s'", dir);
		free(p);
		return err;
	}
	/* Blocks really taken, not a sparse promise. */
	if ((rc = posix_fallocate(fd, 0, (off_t)size)) != 0) {
		errno = rc;
		err = lep_err_errno(LEP_E_FAILED, "cannot write in '%s'", dir);
	} else if (fsync(fd) == -1)
		err = lep_err_errno(LEP_E_FAILED, "cannot write in '%s'", dir);
	close(fd);
	(void)unlink(p);
	free(p);
	return err;
}
