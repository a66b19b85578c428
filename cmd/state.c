/*
 * state.c: `lepton state push|pull REMOTE`: share the state repository
 * (history and registry, not the artifacts) through any git remote.
 */
#include <string.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/out.h"
#include "../lib/state.h"

static const struct lep_err *cmd_state_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt state_opts[] = {
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_state_entry = {
	.name = "state",
	.summary = "push or pull the state repository to or from a git remote",
	.usage = "push|pull REMOTE",
	.description = "Push main, the model tags and the aliases to REMOTE "
	    "(any URL libgit2 takes: file://, https://, ssh://), or fetch them "
	    "and fast-forward main. Diverged histories are refused, never "
	    "rewritten. Model files stay in $LEPTON_HOME/objects.",
	.opts = state_opts,
	.min_args = 2,
	.max_args = 2,
	.flags = CMD_MUTATES,
	.exec = cmd_state_exec,
};

static const struct lep_err *
cmd_state_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_state	*st = NULL;
	const char		*sub = lep_args_pos(args, 0);
	const char		*url = lep_args_pos(args, 1);
	long long		 lock_ms;
	int			 lockfd = -1, push;

	if (strcmp(sub, "push") != 0 && strcmp(sub, "pull") != 0)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "unknown "
		    "subcommand '%s'", sub), "usage: lepton state %s",
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
