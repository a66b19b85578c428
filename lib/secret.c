/*
 * secret.c: the sealed secret store (see secret.h): file format, key
 * handling and the checks that nobody else can use either.
 */
#include "secret.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "fs.h"
#include "util.h"

/*
 * A sealed file: HDR bytes of header (magic, version, a reserved zero
 * byte, the time it was set as a big-endian signed 64-bit count of
 * seconds), the nonce, the ciphertext, the tag. The header and the name
 * are the associated data: a file renamed or re-dated does not open.
 */
#define MAGIC		"LEPSEC"
#define MAGIC_LEN	6
#define VERSION		1
#define HDR		16
#define OVERHEAD	(HDR + LEP_AEAD_NONCE + LEP_AEAD_TAG)
#define NAME_MAX_LEN	128

int
lep_secret_name_ok(const char *name)
{
	return lep_valid_env_name(name) && !lep_starts_with(name, "LEPTON_");
}

char *
lep_secret_key_path(const char *home)
{
	return xasprintf("%s/secret.key", home);
}

static const struct lep_err *
check_name(const char *name)
{
	if (lep_secret_name_ok(name))
		return NULL;
	return lep_err_hint(lep_err_new(LEP_E_USAGE, "'%s' is not a secret "
	    "name", name), "use an environment variable's name: letters, "
	    "digits and '_', not starting with a digit, not LEPTON_*");
}

const struct lep_err *
lep_secret_check(const char *name, const char *value, size_t len)
{
	const struct lep_err	*err;

	if ((err = check_name(name)) != NULL)
		return err;
	if (len == 0)
		return lep_err_new(LEP_E_USAGE, "the value of '%s' is empty",
		    name);
	if (len > LEP_SECRET_MAX)
		return lep_err_new(LEP_E_USAGE, "the value of '%s' is larger "
		    "than %d bytes", name, LEP_SECRET_MAX);
	if (memchr(value, '\0', len) != NULL)
		return lep_err_new(LEP_E_USAGE, "the value of '%s' holds a NUL "
		    "byte, which no environment variable can", name);
	return NULL;
}

/*
 * HOME/secrets, checked: ours, 0700. With create, made when missing;
 * else a missing store is NOT_FOUND. *dir_out: caller frees.
 */
static const struct lep_err *
open_store(char **dir_out, const char *home, int create)
{
	const struct lep_err	*err = NULL;
	char			*dir;
	int			 fd, made = 0;

	*dir_out = NULL;
	dir = xasprintf("%s/secrets", home);
	if (create) {
		if ((err = lep_mkdirs(home, 0700)) != NULL)
			goto done;
		if (mkdir(dir, 0700) == 0)
			made = 1;
		else if (errno != EEXIST) {
			err = lep_err_errno(LEP_E_FAILED, "cannot create "
			    "directory '%s'", dir);
			goto done;
		}
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		err = errno == ENOENT ? lep_err_new(LEP_E_NOT_FOUND, "no "
		    "secret store in '%s'", home) : lep_err_errno(LEP_E_FAILED,
		    "cannot open '%s'", dir);
		goto done;
	}
	/* Whatever the umask took away or left, the store is 0700. */
	if (made)
		(void)fchmod(fd, 0700);
	err = lep_check_private(fd, dir);
	close(fd);
done:
	if (err == NULL)
		*dir_out = dir;
	else
		free(dir);
	return err;
}

/* $LEPTON_SECRET_KEY: 64 hex digits, trailing white space allowed. */
static const struct lep_err *
key_from_env(unsigned char key[LEP_AEAD_KEY], const char *v)
{
	size_t	 n = strlen(v), i;
	int	 hi, lo;

	while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r' ||
	    v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n != 2 * LEP_AEAD_KEY)
		goto bad;
	for (i = 0; i < LEP_AEAD_KEY; i++) {
		hi = lep_hex_digit((unsigned char)v[2 * i]);
		lo = lep_hex_digit((unsigned char)v[2 * i + 1]);
		if (hi == -1 || lo == -1)
			goto bad;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return NULL;
bad:
	lep_wipe(key, LEP_AEAD_KEY);
	/* Never the value: it is (nearly) a key. */
	return lep_err_hint(lep_err_new(LEP_E_AUTH, LEP_SECRET_KEY_ENV " is "
	    "not a key: want 64 hexadecimal digits (32 bytes)"), "make one "
	    "with 'openssl rand -hex 32'");
}

/* Read the key file: ours, 0600, exactly 32 bytes. */
static const struct lep_err *
key_from_file(unsigned char key[LEP_AEAD_KEY], const char *path)
{
	const struct lep_err	*err;
	struct stat		 st;
	ssize_t			 n;
	size_t			 got = 0;
	int			 fd;

	if ((err = lep_open_read(&fd, path, O_NOFOLLOW)) != NULL)
		return err;
	if ((err = lep_check_private(fd, path)) != NULL)
		goto done;
	if (fstat(fd, &st) == -1) {
		err = lep_err_errno(LEP_E_FAILED, "cannot stat '%s'", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != LEP_AEAD_KEY) {
		err = lep_err_new(LEP_E_AUTH, "'%s' is not a secret key: "
		    "%lld bytes, want %d", path, (long long)st.st_size,
		    LEP_AEAD_KEY);
		goto done;
	}
	while (got < LEP_AEAD_KEY) {
		n = read(fd, key + got, LEP_AEAD_KEY - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? lep_err_new(LEP_E_AUTH, "'%s' is not "
			    "a secret key: it is shorter than %d bytes", path,
			    LEP_AEAD_KEY) : lep_err_errno(LEP_E_FAILED,
			    "cannot read '%s'", path);
			break;
		}
		got += (size_t)n;
	}
done:
	if (err != NULL)
		lep_wipe(key, LEP_AEAD_KEY);
	close(fd);
	return err;
}

/*
 * The key: $LEPTON_SECRET_KEY when set, else HOME/secret.key. With
 * create, a missing key file is made (*made says so); without, it is an
 * AUTH error naming what is missing.
 */
static const struct lep_err *
load_key(unsigned char key[LEP_AEAD_KEY], int *made, const char *home,
    int create)
{
	const struct lep_err	*err;
	const char		*v = getenv(LEP_SECRET_KEY_ENV);
	char			*path;

	*made = 0;
	if (v != NULL && *v != '\0')
		return key_from_env(key, v);
	path = lep_secret_key_path(home);
	err = key_from_file(key, path);
	if (err != NULL && err->code == LEP_E_NOT_FOUND && create) {
		if ((err = lep_random_bytes(key, LEP_AEAD_KEY)) == NULL &&
		    (err = lep_write_exclusive(path, key, LEP_AEAD_KEY,
		    0600)) == NULL)
			*made = 1;
		else if (err->code == LEP_E_CONFLICT)
			err = key_from_file(key, path);	/* another set won */
		if (err != NULL)
			lep_wipe(key, LEP_AEAD_KEY);
	} else if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = lep_err_hint(lep_err_new(LEP_E_AUTH, "the secret store's "
		    "key '%s' is missing", path), "restore it, or set "
		    LEP_SECRET_KEY_ENV " to the key the secrets were stored "
		    "with");
	free(path);
	return err;
}

static void
put_be64(unsigned char *p, long long v)
{
	uint64_t	 u = (uint64_t)v;
	int		 i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
}

static long long
get_be64(const unsigned char *p)
{
	uint64_t	 u = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		u = u << 8 | p[i];
	return (long long)u;
}

/* The associated data: the header, then the name. */
static size_t
make_aad(unsigned char *aad, const unsigned char *hdr, const char *name)
{
	size_t	 n = strlen(name);

	memcpy(aad, hdr, HDR);
	memcpy(aad + HDR, name, n);
	return HDR + n;
}

const struct lep_err *
lep_secret_set(int *new_key_out, const char *home, const char *name,
    const char *value, size_t len)
{
	const struct lep_err	*err;
	unsigned char		 key[LEP_AEAD_KEY], aad[HDR + NAME_MAX_LEN];
	unsigned char		*buf = NULL, *nonce, *ct;
	char			*dir = NULL, *path = NULL;
	size_t			 naad;
	int			 made = 0;

	if (new_key_out != NULL)
		*new_key_out = 0;
	if ((err = lep_secret_check(name, value, len)) != NULL)
		return err;
	if ((err = open_store(&dir, home, 1)) != NULL ||
	    (err = load_key(key, &made, home, 1)) != NULL)
		goto done;
	buf = xmalloc(OVERHEAD + len);
	memcpy(buf, MAGIC, MAGIC_LEN);
	buf[MAGIC_LEN] = VERSION;
	buf[MAGIC_LEN + 1] = 0;
	put_be64(buf + 8, (long long)time(NULL));
	nonce = buf + HDR;
	ct = nonce + LEP_AEAD_NONCE;
	naad = make_aad(aad, buf, name);
	if ((err = lep_random_bytes(nonce, LEP_AEAD_NONCE)) == NULL &&
	    (err = lep_aead_seal(ct, ct + len, key, nonce, aad, naad, value,
	    len)) == NULL) {
		path = xasprintf("%s/%s", dir, name);
		err = lep_write_atomic(path, buf, OVERHEAD + len, 0600);
	}
	lep_wipe(key, sizeof(key));
done:
	if (new_key_out != NULL)
		*new_key_out = made;
	free(buf);
	free(path);
	free(dir);
	return err;
}

/* Read a sealed file whole (ours, 0600). Errors: NOT_FOUND, AUTH, FAILED. */
static const struct lep_err *
read_sealed(struct lep_buf *b, const char *path, const char *name)
{
	const struct lep_err	*err;
	int			 fd;

	lep_buf_init_max(b, OVERHEAD + LEP_SECRET_MAX);
	if ((err = lep_open_read(&fd, path, O_NOFOLLOW)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? lep_err_hint(lep_err_new(
		    LEP_E_NOT_FOUND, "no secret named '%s'", name),
		    "'lepton secret list' lists them") : err;
	if ((err = lep_check_private(fd, path)) == NULL)
		err = lep_read_fd(b, fd, path, OVERHEAD + LEP_SECRET_MAX);
	close(fd);
	return err;
}

/* The header's version, or an error for what is not ours. */
static const struct lep_err *
check_header(const unsigned char *p, size_t len, const char *path)
{
	if (len < OVERHEAD || memcmp(p, MAGIC, MAGIC_LEN) != 0)
		return lep_err_new(LEP_E_FAILED, "'%s' is not a lepton secret",
		    path);
	if (p[MAGIC_LEN] != VERSION)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "'%s' is a "
		    "version %u secret; this lepton reads version %d", path,
		    p[MAGIC_LEN], VERSION), "use a newer lepton");
	return NULL;
}

const struct lep_err *
lep_secret_get(char **out, const char *home, const char *name)
{
	const struct lep_err	*err;
	struct lep_buf		 b = LEP_BUF_INIT;
	unsigned char		 key[LEP_AEAD_KEY], aad[HDR + NAME_MAX_LEN];
	const unsigned char	*p;
	char			*dir = NULL, *path = NULL, *v = NULL;
	size_t			 n, naad;
	int			 made, from_env;

	*out = NULL;
	if ((err = check_name(name)) != NULL)
		return err;
	if ((err = open_store(&dir, home, 0)) != NULL) {
		if (err->code == LEP_E_NOT_FOUND)
			err = lep_err_new(LEP_E_NOT_FOUND, "no secret named "
			    "'%s'", name);
		goto done;
	}
	path = xasprintf("%s/%s", dir, name);
	if ((err = read_sealed(&b, path, name)) != NULL)
		goto done;
	p = (const unsigned char *)b.buf;
	if ((err = check_header(p, b.len, path)) != NULL ||
	    (err = load_key(key, &made, home, 0)) != NULL)
		goto done;
	n = b.len - OVERHEAD;
	naad = make_aad(aad, p, name);
	v = xmalloc(n + 1);
	err = lep_aead_open((unsigned char *)v, key, p + HDR, aad, naad,
	    p + HDR + LEP_AEAD_NONCE, n, p + HDR + LEP_AEAD_NONCE + n);
	lep_wipe(key, sizeof(key));
	if (err != NULL && err->code == LEP_E_AUTH) {
		from_env = getenv(LEP_SECRET_KEY_ENV) != NULL &&
		    *getenv(LEP_SECRET_KEY_ENV) != '\0';
		err = lep_err_hint(lep_err_new(LEP_E_AUTH, "secret '%s' does "
		    "not open: the key is not the one it was stored with, or "
		    "'%s' was changed or renamed", name, path), "%s; or store "
		    "it again: lepton secret set %s", from_env ?
		    "unset " LEP_SECRET_KEY_ENV " or set it to that key" :
		    "restore that key", name);
	}
	if (err == NULL) {
		v[n] = '\0';
		*out = v;
		v = NULL;
	}
done:
	free(v);		/* wiped by lep_aead_open on failure */
	lep_buf_release(&b);	/* ciphertext only */
	free(path);
	free(dir);
	return err;
}

void
lep_secret_free(char *v)
{
	if (v == NULL)
		return;
	lep_wipe(v, strlen(v));
	free(v);
}

static int
cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct lep_secret_info *)a)->name,
	    ((const struct lep_secret_info *)b)->name);
}

/* When the file was set, from its header; -1 when it is not ours. */
static long long
set_time(const char *path)
{
	unsigned char	 hdr[HDR];
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	do
		n = read(fd, hdr, sizeof(hdr));
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n != HDR || memcmp(hdr, MAGIC, MAGIC_LEN) != 0)
		return -1;
	return get_be64(hdr + 8);
}

const struct lep_err *
lep_secret_list(struct lep_secret_info **out, size_t *n_out,
    const char *home)
{
	const struct lep_err	*err;
	struct lep_secret_info	*v = NULL;
	struct dirent		*de;
	struct stat		 st;
	size_t			 n = 0;
	char			*dir, *path;
	DIR			*d;

	*out = NULL;
	*n_out = 0;
	if ((err = open_store(&dir, home, 0)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? NULL : err;
	if ((d = opendir(dir)) == NULL) {
		err = lep_err_errno(LEP_E_FAILED, "cannot read '%s'", dir);
		free(dir);
		return err;
	}
	while ((de = readdir(d)) != NULL) {
		/* Not a name: ".", "..", a write under way (NAME.tmp.PID). */
		if (!lep_secret_name_ok(de->d_name))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n].name = xstrdup(de->d_name);
			v[n].set = set_time(path);
			n++;
		}
		free(path);
	}
	closedir(d);
	free(dir);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_info);
	*out = v;
	*n_out = n;
	return NULL;
}

void
lep_secret_list_free(struct lep_secret_info *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].name);
	free(v);
}

const struct lep_err *
lep_secret_remove(const char *home, const char *name)
{
	const struct lep_err	*err;
	char			*dir, *path;
	int			 fd;

	if ((err = check_name(name)) != NULL)
		return err;
	if ((err = open_store(&dir, home, 0)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? lep_err_hint(lep_err_new(
		    LEP_E_NOT_FOUND, "no secret named '%s'", name),
		    "'lepton secret list' lists them") : err;
	path = xasprintf("%s/%s", dir, name);
	if (unlink(path) == -1) {
		err = errno == ENOENT ? lep_err_hint(lep_err_new(
		    LEP_E_NOT_FOUND, "no secret named '%s'", name),
		    "'lepton secret list' lists them") :
		    lep_err_errno(LEP_E_FAILED, "cannot remove '%s'", path);
		goto done;
	}
	/* The removal itself must survive a crash. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
done:
	free(path);
	free(dir);
	return err;
}
