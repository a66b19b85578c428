/*
 * ctx.h: what every command gets from the dispatcher: where state lives,
 * how to print, and the global options.
 */
#ifndef LEPTON_LIB_CTX_H
#define LEPTON_LIB_CTX_H

#include "out.h"

struct lep_err;

struct lep_ctx {
	char		*home;		/* owned; $LEPTON_HOME resolved */
	struct lep_out	 out;
	int		 dry_run;
	long long	 lock_timeout_ms;
};

/*
 * The home directory: opt (--home), else $LEPTON_HOME, else
 * ${XDG_DATA_HOME:-$HOME/.local/share}/lepton. Not created here.
 * Errors: LEP_E_USAGE (no HOME to start from). *out: caller frees.
 */
const struct lep_err *lep_home_resolve(char **out, const char *opt);

#endif
