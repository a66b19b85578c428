/*
 * models.c: `lepton models`: model versions in the registry, their
 * aliases and lineage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/registry.h"
#include "../lib/state.h"
#include "../lib/util.h"

static const struct lep_err *cmd_models_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt models_opts[] = {
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_models_entry = {
	.name = "models",
	.summary = "list model versions, show one, tag it, trace its lineage",
	.usage = "| show NAME[@VERSION|@ALIAS] | tag NAME VERSION ALIAS | "
	    "lineage NAME@VERSION",
	.description = "Without arguments, every model with its versions, "
	    "latest version and aliases. 'show NAME' lists the versions; "
	    "'show NAME@v3' (or @prod) prints that version's manifest: every "
	    "file's sha256 and size, when, its source and metrics, its "
	    "parent. 'tag' points an alias (prod, staging...) at a version: "
	    "an atomic ref move with a reflog; an alias is 1-63 of a-z, 0-9 "
	    "and '-', starting with a letter, and neither vN nor latest. "
	    "'lineage' follows a version "
	    "back through its sources and parents.",
	.opts = models_opts,
	.min_args = 0,
	.max_args = 4,
	.flags = CMD_MUTATES,
	.exec = cmd_models_exec,
};

/* "iris@v3" into name and ref ("v3", "prod" or NULL). */
static void
split_ref(char **name, char **ref, const char *arg)
{
	const char	*at = strchr(arg, '@');

	*name = at ? xstrndup(arg, (size_t)(at - arg)) : xstrdup(arg);
	*ref = at ? xstrdup(at + 1) : NULL;
}

static const struct lep_err *
models_list(struct lep_ctx *ctx, struct lep_state *st)
{
	const struct lep_err	*err;
	struct lep_json		*res, *arr, *o;
	char			**names = NULL, **v, *aliases;
	size_t			 n = 0, nv, i;

	if ((err = lep_registry_models(&names, &n, st)) != NULL)
		return err;
	res = lep_json_obj();
	arr = lep_json_arr();
	if (!ctx->out.json)
		lep_out_printf(&ctx->out, "%-24s %8s %-8s %s\n", "MODEL",
		    "VERSIONS", "LATEST", "ALIASES");
	for (i = 0; i < n && err == NULL; i++) {
		if ((err = lep_registry_versions(&v, &nv, st, names[i])) != NULL)
			break;
		aliases = nv ? lep_registry_aliases_of(st, names[i],
		    v[nv - 1]) : xstrdup("");
		if (ctx->out.json) {
			o = lep_json_obj();
			lep_json_set_str(o, "name", names[i]);
			lep_json_set_int(o, "versions", (long long)nv);
			lep_json_set_str(o, "latest", nv ? v[nv - 1] : NULL);
			lep_json_push(arr, o);
		} else
			lep_out_printf(&ctx->out, "%-24s %8zu %-8s %s\n",
			    names[i], nv, nv ? v[nv - 1] : "-", aliases);
		free(aliases);
		lep_strv_free(v, nv);
	}
	lep_json_set(res, "models", arr);
	if (ctx->out.json && err == NULL)
		lep_out_result(&ctx->out, res);
	else
		lep_json_free(res);
	lep_strv_free(names, n);
	return err;
}

/* NAME@VERSION (or @ALIAS): that version's manifest, with its aliases. */
static const struct lep_err *
show_version(struct lep_ctx *ctx, struct lep_state *st, const char *name,
    const char *ref)
{
	const struct lep_err	*err;
	struct lep_json		*m = NULL;
	char			*ver = NULL, *s, *al;

	if ((err = lep_registry_resolve(&ver, st, name, ref)) == NULL &&
	    (err = lep_registry_manifest(&m, st, name, ver)) == NULL) {
		al = lep_registry_aliases_of(st, name, ver);
		lep_json_set_str(m, "aliases", al);
		free(al);
		if (ctx->out.json) {
			lep_out_result(&ctx->out, m);
			m = NULL;
		} else {
			s = lep_json_print(m, 1);
			lep_out_printf(&ctx->out, "%s\n", s);
			free(s);
		}
	}
	lep_json_free(m);
	free(ver);
	return err;
}

/* One row of 'models show NAME'; takes m (pushed to arr with --json). */
static void
show_row(struct lep_ctx *ctx, struct lep_json *arr, struct lep_json *m,
    char **an, char **av, size_t na)
{
	struct lep_buf	 ab = LEP_BUF_INIT;
	const char	*ver = lep_json_get_str(m, "version");
	const char	*created = lep_json_get_str(m, "created");
	const char	*parent = lep_json_get_str(m, "parent");
	struct lep_json	*metrics;
	long long	 size = 0;
	size_t		 k;
	char		*s;

	for (k = 0; k < na; k++)
		if (strcmp(av[k], ver) == 0)
			lep_buf_addf(&ab, "%s%s", ab.len ? "," : "", an[k]);
	lep_json_set_str(m, "aliases", ab.buf);
	if (ctx->out.json) {
		lep_json_push(arr, m);
		lep_buf_release(&ab);
		return;
	}
	metrics = lep_json_get(m, "metrics");
	s = lep_json_type(metrics) == LEP_JSON_OBJECT ?
	    lep_json_print(metrics, 0) : xstrdup("-");
	(void)lep_json_get_ll(m, "size", &size);
	lep_out_printf(&ctx->out, "%-8s %-20s %10lld %-8s %-10s %s\n", ver,
	    created ? created : "-", size, parent ? parent : "-", ab.len ?
	    ab.buf : "-", s);
	free(s);
	lep_json_free(m);
	lep_buf_release(&ab);
}

static const struct lep_err *
models_show(struct lep_ctx *ctx, struct lep_state *st, const char *arg)
{
	const struct lep_err	*err;
	struct lep_json		*res, *arr, **all = NULL;
	char			*name, *ref;
	char			**an = NULL, **av = NULL;
	size_t			 nv = 0, na = 0, i;

	split_ref(&name, &ref, arg);
	if (ref != NULL) {
		err = show_version(ctx, st, name, ref);
		goto done;
	}
	if ((err = lep_registry_all(&all, &nv, st, name)) != NULL ||
	    (err = lep_registry_aliases(&an, &av, &na, st, name)) != NULL)
		goto done;
	if (nv == 0) {
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no model "
		    "named '%s'", name), "'lepton models' lists them");
		goto done;
	}
	res = lep_json_obj();
	arr = lep_json_arr();
	if (!ctx->out.json)
		lep_out_printf(&ctx->out, "%-8s %-20s %10s %-8s %-10s %s\n",
		    "VERSION", "CREATED", "BYTES", "PARENT", "ALIASES",
		    "METRICS");
	for (i = nv; i > 0; i--) {
		show_row(ctx, arr, all[i - 1], an, av, na);
		all[i - 1] = NULL;
	}
	lep_json_set_str(res, "name", name);
	lep_json_set(res, "versions", arr);
	if (ctx->out.json)
		lep_out_result(&ctx->out, res);
	else
		lep_json_free(res);
done:
	for (i = 0; all != NULL && i < nv; i++)
		lep_json_free(all[i]);
	free(all);
	lep_strv_free(an, na);
	lep_strv_free(av, na);
	free(name);
	free(ref);
	return err;
}

static const struct lep_err *
models_lineage(struct lep_ctx *ctx, struct lep_state *st, const char *arg)
{
	const struct lep_err	*err;
	struct lep_json		*m, *res, *arr, *o;
	char			*name, *ref, *ver = NULL, *s;
	int			 depth = 0;

	split_ref(&name, &ref, arg);
	res = lep_json_obj();
	arr = lep_json_arr();
	err = lep_registry_resolve(&ver, st, name, ref);
	while (err == NULL && ver != NULL && depth++ < 10000) {
		if ((err = lep_registry_manifest(&m, st, name, ver)) != NULL)
			break;
		o = lep_json_obj();
		lep_json_set_str(o, "version", ver);
		lep_json_set(o, "source", lep_json_dup(lep_json_get(m,
		    "source")));
		lep_json_set(o, "metrics", lep_json_dup(lep_json_get(m,
		    "metrics")));
		if (!ctx->out.json) {
			s = lep_json_print(lep_json_get(m, "source"), 0);
			lep_out_printf(&ctx->out, "%s%s@%s  from %s\n",
			    depth > 1 ? "<- " : "", name, ver, s);
			free(s);
		}
		lep_json_push(arr, o);
		free(ver);
		ver = lep_json_get_str(m, "parent") ?
		    xstrdup(lep_json_get_str(m, "parent")) : NULL;
		lep_json_free(m);
	}
	lep_json_set_str(res, "name", name);
	lep_json_set(res, "lineage", arr);
	if (err == NULL && ctx->out.json)
		lep_out_result(&ctx->out, res);
	else
		lep_json_free(res);
	free(ver);
	free(name);
	free(ref);
	return err;
}

static const struct lep_err *
cmd_models_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_state	*st = NULL;
	const char		*sub = lep_args_pos(args, 0);
	long long		 lock_ms;
	size_t			 want;
	int			 lockfd = -1;

	if (sub == NULL)
		want = 1;
	else if (strcmp(sub, "show") == 0 || strcmp(sub, "lineage") == 0)
		want = 2;
	else if (strcmp(sub, "tag") == 0)
		want = 4;
	else
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "unknown "
		    "subcommand '%s'", sub), "usage: lepton models %s",
		    cmd_models_entry.usage);
	if (sub != NULL && args->npos != want)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "'models %s' "
		    "takes %zu argument(s)", sub, want - 1), "usage: lepton "
		    "models %s", cmd_models_entry.usage);
	if (sub != NULL && strcmp(sub, "tag") == 0) {
		/* Refused before the state is locked, let alone made. */
		if ((err = lep_registry_alias_check(lep_args_pos(args,
		    3))) != NULL ||
		    (err = lep_cmd_lock_timeout(&lock_ms, args)) != NULL ||
		    (err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL)
			return err;
	}
	if ((err = lep_state_open(&st, ctx->home, lockfd != -1)) != NULL) {
		/* Nothing registered yet: an empty list, not an error. */
		if (sub == NULL && err->code == LEP_E_NOT_FOUND) {
			err = NULL;
			if (ctx->out.json) {
				struct lep_json	*res = lep_json_obj();

				lep_json_set(res, "models", lep_json_arr());
				lep_out_result(&ctx->out, res);
			}
		}
		goto done;
	}
	if (sub == NULL)
		err = models_list(ctx, st);
	else if (strcmp(sub, "show") == 0)
		err = models_show(ctx, st, lep_args_pos(args, 1));
	else if (strcmp(sub, "lineage") == 0)
		err = models_lineage(ctx, st, lep_args_pos(args, 1));
	else if (!ctx->dry_run) {
		err = lep_registry_alias(st, lep_args_pos(args, 1),
		    lep_args_pos(args, 2), lep_args_pos(args, 3));
		if (err == NULL)
			lep_out_printf(&ctx->out, "%s@%s is now %s@%s\n",
			    lep_args_pos(args, 1), lep_args_pos(args, 3),
			    lep_args_pos(args, 1), lep_args_pos(args, 2));
	}
done:
	lep_state_close(st);
	lep_unlock(lockfd);
	return err;
}
