/*
 * args.h: command-line options from a table (long, short, flag or value).
 */
#ifndef LEPTON_LIB_ARGS_H
#define LEPTON_LIB_ARGS_H

#include <stddef.h>

struct lep_err;

enum lep_opt_type {
	LEP_OPT_FLAG,		/* --name */
	LEP_OPT_VALUE,		/* --name VALUE; the last one wins */
	LEP_OPT_MULTI,		/* --name VALUE, repeatable */
};

struct lep_opt {
	const char		*name;
	int			 short_name;	/* 0: none */
	enum lep_opt_type	 type;
	const char		*metavar;
	const char		*help;
};

struct lep_arg_val {
	const struct lep_opt	*opt;
	const char		*value;		/* borrowed from argv */
};

struct lep_args {
	char			**pos;		/* borrowed strings */
	size_t			  npos;
	struct lep_arg_val	 *vals;
	size_t			  nvals;
};

/*
 * Parse argv[0..argc) against the NULL-terminated tables (searched in
 * order). With stop_at_pos, parsing stops at the first positional word
 * (left in argv at *used_out). Errors: LEP_E_USAGE. Release with
 * lep_args_release.
 */
const struct lep_err *lep_args_parse(struct lep_args *out,
	    const struct lep_opt *const *tables, int argc, char **argv,
	    int stop_at_pos, int *used_out);
void	 lep_args_release(struct lep_args *);

const char	*lep_args_get(const struct lep_args *, const char *name);
int		 lep_args_has(const struct lep_args *, const char *name);
size_t		 lep_args_count(const struct lep_args *, const char *name);
const char	*lep_args_nth(const struct lep_args *, const char *name,
		     size_t);
const char	*lep_args_pos(const struct lep_args *, size_t);
/* Option value as an integer in [min, max], else LEP_E_USAGE. */
const struct lep_err *lep_args_int(long long *out, const struct lep_args *,
	    const char *name, long long def, long long min, long long max);

#endif
