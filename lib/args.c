/*
 * args.c: a small getopt_long without global state: exact long names,
 * --name=value, bundled short flags, "--" ends options.
 */
#include "args.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"

static const struct lep_opt *
find_long(const struct lep_opt *const *tables, const char *name, size_t len)
{
	const struct lep_opt	*o;
	size_t			 t;

	for (t = 0; tables[t] != NULL; t++)
		for (o = tables[t]; o->name != NULL; o++)
			if (strlen(o->name) == len &&
			    strncmp(o->name, name, len) == 0)
				return o;
	return NULL;
}

static const struct lep_opt *
find_short(const struct lep_opt *const *tables, int c)
{
	const struct lep_opt	*o;
	size_t			 t;

	for (t = 0; tables[t] != NULL; t++)
		for (o = tables[t]; o->name != NULL; o++)
			if (o->short_name == c)
				return o;
	return NULL;
}

static const char *
suggest(const struct lep_opt *const *tables, const char *name)
{
	const char		**cands = NULL, *hint;
	const struct lep_opt	*o;
	size_t			 t, n = 0;

	for (t = 0; tables[t] != NULL; t++)
		for (o = tables[t]; o->name != NULL; o++) {
			cands = xreallocarray(cands, n + 1, sizeof(*cands));
			cands[n++] = o->name;
		}
	hint = lep_did_you_mean(name, cands, n);
	free(cands);
	return hint;
}

static void
add_val(struct lep_args *a, const struct lep_opt *o, const char *v)
{
	a->vals = xreallocarray(a->vals, a->nvals + 1, sizeof(*a->vals));
	a->vals[a->nvals].opt = o;
	a->vals[a->nvals].value = v;
	a->nvals++;
}

/* --name, --name=value or --name value at argv[*i]. */
static const struct lep_err *
parse_long(struct lep_args *a, const struct lep_opt *const *tables,
    int argc, char **argv, int *i)
{
	const struct lep_opt	*o;
	const char		*arg = argv[*i] + 2, *eq, *hint;
	char			 name[64];
	size_t			 len;

	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	if ((o = find_long(tables, arg, len)) == NULL) {
		lep_strlcpy(name, arg, len + 1 < sizeof(name) ? len + 1 :
		    sizeof(name));
		if ((hint = suggest(tables, name)) != NULL)
			return lep_err_hint(lep_err_new(LEP_E_USAGE,
			    "unknown option '--%s'", name), "did you mean "
			    "'--%s'?", hint);
		return lep_err_new(LEP_E_USAGE, "unknown option '--%s'", name);
	}
	if (o->type == LEP_OPT_FLAG) {
		if (eq != NULL)
			return lep_err_new(LEP_E_USAGE, "option '--%s' takes "
			    "no value", o->name);
		add_val(a, o, NULL);
	} else if (eq != NULL)
		add_val(a, o, eq + 1);
	else if (*i + 1 >= argc)
		return lep_err_new(LEP_E_USAGE, "option '--%s' needs a value",
		    o->name);
	else
		add_val(a, o, argv[++*i]);
	return NULL;
}

/* -abc (flags), -o value or -ovalue at argv[*i]. */
static const struct lep_err *
parse_short(struct lep_args *a, const struct lep_opt *const *tables,
    int argc, char **argv, int *i)
{
	const struct lep_opt	*o;
	const char		*arg = argv[*i];
	int			 j;

	for (j = 1; arg[j] != '\0'; j++) {
		if ((o = find_short(tables, (unsigned char)arg[j])) == NULL)
			return lep_err_new(LEP_E_USAGE, "unknown option '-%c'",
			    arg[j]);
		if (o->type == LEP_OPT_FLAG) {
			add_val(a, o, NULL);
			continue;
		}
		if (arg[j + 1] != '\0')
			add_val(a, o, arg + j + 1);
		else if (*i + 1 < argc)
			add_val(a, o, argv[++*i]);
		else
			return lep_err_new(LEP_E_USAGE, "option '-%c' needs a "
			    "value", arg[j]);
		break;
	}
	return NULL;
}

const struct lep_err *
lep_args_parse(struct lep_args *a, const struct lep_opt *const *tables,
    int argc, char **argv, int stop_at_pos, int *used_out)
{
	const struct lep_err	*err;
	const char		*arg;
	int			 i, only_pos = 0;

	memset(a, 0, sizeof(*a));
	a->pos = xcalloc((size_t)argc + 1, sizeof(char *));
	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (only_pos || arg[0] != '-' || arg[1] == '\0') {
			if (stop_at_pos)
				break;
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			if (stop_at_pos) {
				i++;
				break;
			}
			only_pos = 1;
			continue;
		}
		err = arg[1] == '-' ? parse_long(a, tables, argc, argv, &i) :
		    parse_short(a, tables, argc, argv, &i);
		if (err != NULL)
			return err;
	}
	if (used_out != NULL)
		*used_out = i;
	return NULL;
}

void
lep_args_release(struct lep_args *a)
{
	free(a->pos);
	free(a->vals);
	memset(a, 0, sizeof(*a));
}

const char *
lep_args_get(const struct lep_args *a, const char *name)
{
	size_t	 i;

	for (i = a->nvals; i > 0; i--)
		if (strcmp(a->vals[i - 1].opt->name, name) == 0)
			return a->vals[i - 1].value;
	return NULL;
}

int
lep_args_has(const struct lep_args *a, const char *name)
{
	return lep_args_count(a, name) > 0;
}

size_t
lep_args_count(const struct lep_args *a, const char *name)
{
	size_t	 i, n = 0;

	for (i = 0; i < a->nvals; i++)
		if (strcmp(a->vals[i].opt->name, name) == 0)
			n++;
	return n;
}

const char *
lep_args_nth(const struct lep_args *a, const char *name, size_t nth)
{
	size_t	 i;

	for (i = 0; i < a->nvals; i++)
		if (strcmp(a->vals[i].opt->name, name) == 0 && nth-- == 0)
			return a->vals[i].value;
	return NULL;
}

const char *
lep_args_pos(const struct lep_args *a, size_t i)
{
	return i < a->npos ? a->pos[i] : NULL;
}

const struct lep_err *
lep_args_int(long long *out, const struct lep_args *a, const char *name,
    long long def, long long min, long long max)
{
	const char	*v = lep_args_get(a, name);
	long long	 n;

	*out = def;
	if (v == NULL)
		return NULL;
	if (lep_parse_ll(&n, v) == -1 || n < min || n > max)
		return lep_err_new(LEP_E_USAGE,
		    "option '--%s' wants a whole number from %lld to %lld, "
		    "not '%s'", name, min, max, v);
	*out = n;
	return NULL;
}
