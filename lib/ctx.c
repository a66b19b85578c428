/*
 * ctx.c: resolving LEPTON_HOME.
 */
#include "ctx.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"

const struct lep_err *
lep_home_resolve(char **out, const char *opt)
{
	const char	*v;

	*out = NULL;
	if (opt != NULL && *opt != '\0') {
		*out = xstrdup(opt);
		return NULL;
	}
	if ((v = getenv("LEPTON_HOME")) != NULL && *v != '\0') {
		*out = xstrdup(v);
		return NULL;
	}
	if ((v = getenv("XDG_DATA_HOME")) != NULL && v[0] == '/') {
		*out = xasprintf("%s/lepton", v);
		return NULL;
	}
	if ((v = getenv("HOME")) != NULL && *v != '\0') {
		*out = xasprintf("%s/.local/share/lepton", v);
		return NULL;
	}
	return lep_err_hint(lep_err_new(LEP_E_USAGE, "no home directory: "
	    "HOME is not set"), "set LEPTON_HOME or pass --home DIR");
}
