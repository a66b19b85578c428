/*
 * creds.c: credential sources, secret files and secret values (see
 * creds.h). Drivers name their sources; this file decides nothing else.
 */
#include "creds.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "json.h"
#include "secret.h"
#include "util.h"

const struct lep_err *
lep_creds_read_file(struct lep_buf *b, const char *path, size_t max)
{
	const struct lep_err	*err;
	int			 fd;

	lep_buf_init_max(b, max);
	/*
	 * A symlink is followed, as the clouds' CLIs and kubectl follow
	 * one (~/.kube/config from a dotfiles manager): what is checked
	 * is the file opened, its owner and mode.
	 */
	if ((err = lep_open_read(&fd, path, 0)) != NULL)
		return err;
	if ((err = lep_check_private(fd, path)) == NULL)
		err = lep_read_fd(b, fd, path, max);
	close(fd);
	return err;
}

static const struct lep_err *
from_file(char **out, const struct lep_cred_source *src)
{
	const struct lep_err	*err;
	struct lep_buf		 b;

	if ((err = lep_creds_read_file(&b, src->where,
	    LEP_CREDS_FILE_MAX)) == NULL)
		*out = src->parse != NULL ? src->parse(b.buf, b.len) :
		    xstrndup(b.buf, b.len);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	return err;
}

const struct lep_err *
lep_creds_resolve(struct lep_cred *out, const struct lep_cred_source *v,
    size_t n)
{
	const struct lep_err	*err;
	const char		*s;
	size_t			 i;

	out->value = NULL;
	out->source = NULL;
	for (i = 0; i < n && out->value == NULL; i++) {
		if (v[i].where == NULL)
			continue;
		switch (v[i].kind) {
		case LEP_CRED_ENV:
			if ((s = getenv(v[i].where)) != NULL && *s != '\0')
				out->value = xstrdup(s);
			break;
		case LEP_CRED_FILE:
			if ((err = from_file(&out->value, &v[i])) != NULL)
				return err;
			break;
		}
		if (out->value != NULL)
			out->source = v[i].name;
	}
	return NULL;
}

void
lep_cred_release(struct lep_cred *c)
{
	if (c->value != NULL) {
		lep_wipe(c->value, strlen(c->value));
		free(c->value);
	}
	c->value = NULL;
	c->source = NULL;
}

const struct lep_err *
lep_creds_secret_env(struct lep_json **out, const char *home,
    const char *const *names, size_t n, const char *command)
{
	const struct lep_err	*err = NULL;
	const char		*v;
	char			*stored;
	size_t			 i;

	*out = lep_json_obj();
	for (i = 0; i < n && err == NULL; i++) {
		/* An exported variable overrides the store; empty is unset. */
		if ((v = getenv(names[i])) != NULL && *v != '\0') {
			lep_json_set_str(*out, names[i], v);
			continue;
		}
		err = lep_secret_get(&stored, home, names[i]);
		if (err == NULL) {
			lep_json_set_str(*out, names[i], stored);
			lep_secret_free(stored);
		} else if (err->code == LEP_E_NOT_FOUND)
			err = lep_err_hint(lep_err_new(LEP_E_AUTH, "secret "
			    "'%s' is not set in the environment nor in the "
			    "secret store", names[i]), "store it with 'lepton "
			    "secret set %s', or export %s before 'lepton %s'",
			    names[i], names[i], command);
	}
	if (err != NULL) {
		lep_json_free_wiped(*out);
		*out = NULL;
	}
	return err;
}
