/*
 * state.c: `lepton state push|pull REMOTE`: share the state repository
 * (history and registry, not the artifacts) through any git remote;
 * `lepton state fsck [--repair]`: check it, and recover from damage.
 */
#include <string.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/state.h"
#include "../lib/state-fsck.h"

static const struct lep_err *cmd_state_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt state_opts[] = {
	{ "repair", 0, LEP_OPT_FLAG, NULL,
	    "fsck: set corrupt objects aside, return main to its newest "
	    "whole commit" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_state_entry = {
	.name = "state",
	.summary = "share, check or repair the state repository",
	.usage = "push|pull REMOTE | fsck [--repair]",
	.description = "Push main, the model tags and the aliases to REMOTE "
	    "(any URL libgit2 takes: file://, https://, ssh://), or fetch them "
	    "and fast-forward main. Diverged histories are refused, never "
	    "rewritten. Model files stay in $LEPTON_HOME/objects. fsck checks "
	    "every loose object, HEAD and main's commit without libgit2 and "
	    "exits 15 when something is damaged; --repair sets corrupt objects "
	    "aside in state/corrupt/ and points main at the newest whole "
	    "commit its reflog names.",
	.opts = state_opts,
	.min_args = 1,
	.max_args = 2,
	.flags = CMD_MUTATES,
	.exec = cmd_state_exec,
};

/* The report, as text; the damage found is the error to exit with. */
static const struct lep_err *
fsck_report(struct lep_ctx *ctx, const struct lep_json *r, int repair)
{
	const struct lep_json	*bad = lep_json_get(r, "corrupt"), *b;
	const char		*intact = lep_json_get_str(r, "intact");
	const char		*main_oid = lep_json_get_str(r, "main");
	long long		 n = 0, lost = 0;
	size_t			 i;

	(void)lep_json_get_ll(r, "loose_objects", &n);
	(void)lep_json_get_ll(r, "commits_lost", &lost);
	lep_out_printf(&ctx->out, "repository  %s (%lld loose objects)\n",
	    lep_json_get_str(r, "repository"), n);
	lep_out_printf(&ctx->out, "HEAD        %s\n", lep_json_get_str(r,
	    "head"));
	lep_out_printf(&ctx->out, "main        %s\n", !*main_oid ? "missing" :
	    lep_json_get_bool(r, "main_intact", 0) ? main_oid : "damaged");
	for (i = 0; i < lep_json_len(bad); i++) {
		b = lep_json_at(bad, i);
		lep_out_printf(&ctx->out, "corrupt     %s: %s\n",
		    lep_json_get_str(b, "object"), lep_json_get_str(b,
		    "problem"));
	}
	if (!lep_json_get_bool(r, "damaged", 0)) {
		lep_out_printf(&ctx->out, "ok\n");
		return NULL;
	}
	if (*intact)
		lep_out_printf(&ctx->out, "whole       %s (%lld newer commit(s) "
		    "lost)\n", intact, lost);
	if (lep_json_get_bool(r, "repaired", 0)) {
		lep_out_printf(&ctx->out, "repaired    main is %s\n", intact);
		return NULL;
	}
	if (!*intact)
		return lep_err_hint(lep_err_new(LEP_E_CORRUPT, "the state "
		    "repository is damaged and main has no whole commit to "
		    "return to"), "restore it from a copy: 'lepton state pull "
		    "REMOTE' into a new LEPTON_HOME");
	return lep_err_hint(lep_err_new(LEP_E_CORRUPT, "the state repository "
	    "is damaged"), "%s", repair ? "nothing was changed (--dry-run)" :
	    "'lepton state fsck --repair' sets the corrupt objects aside and "
	    "points main at the whole commit above");
}

static const struct lep_err *
state_fsck(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_json		*r = NULL;
	long long		 lock_ms;
	int			 lockfd = -1;
	int			 repair = lep_args_has(args, "repair");

	if (lep_args_pos(args, 1) != NULL)
		return lep_err_new(LEP_E_USAGE, "'state fsck' takes no REMOTE");
	if (repair && !ctx->dry_run &&
	    ((err = lep_cmd_lock_timeout(&lock_ms, args)) != NULL ||
	    (err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL))
		return err;
	err = lep_state_fsck(&r, ctx->home, repair && !ctx->dry_run);
	if (err == NULL) {
		err = fsck_report(ctx, r, repair);
		lep_out_result(&ctx->out, r);
	}
	lep_unlock(lockfd);
	return err;
}

static const struct lep_err *
cmd_state_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_state	*st = NULL;
	const char		*sub = lep_args_pos(args, 0);
	const char		*url = lep_args_pos(args, 1);
	long long		 lock_ms;
	int			 lockfd = -1, push;

	if (strcmp(sub, "push") != 0 && strcmp(sub, "pull") != 0 &&
	    strcmp(sub, "fsck") != 0)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "unknown "
		    "subcommand '%s'", sub), "usage: lepton state %s",
		    cmd_state_entry.usage);
	if (strcmp(sub, "fsck") == 0)
		return state_fsck(ctx, args);
	if (lep_args_has(args, "repair"))
		return lep_err_new(LEP_E_USAGE, "--repair goes with 'fsck'");
	if (url == NULL)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "'state %s' needs "
		    "a REMOTE", sub), "usage: lepton state %s",
		    cmd_state_entry.usage);
	push = strcmp(sub, "push") == 0;
	if ((err = lep_cmd_lock_timeout(&lock_ms, args)) != NULL ||
	    (err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL ||
	    (err = lep_state_open(&st, ctx->home, 1)) != NULL)
		goto done;
	if (ctx->dry_run)
		lep_out_printf(&ctx->out, "would %s %s\n", sub, url);
	else if ((err = push ? lep_state_push(st, url) :
	    lep_state_pull(st, url)) == NULL)
		lep_out_printf(&ctx->out, "%s %s: done\n", push ? "pushed to" :
		    "pulled from", url);
done:
	lep_state_close(st);
	lep_unlock(lockfd);
	return err;
}
