/*
 * rollback.c: `lepton rollback NAME` puts a deployment back on an earlier
 * revision, as a new revision: history is never rewritten.
 */
#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/history.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/util.h"

static const struct lep_err *cmd_rollback_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt rollback_opts[] = {
	{ "to", 't', LEP_OPT_VALUE, "REV",
	    "a revision number, a model version (v3) or a commit id" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_rollback_entry = {
	.name = "rollback",
	.summary = "return a deployment to an earlier revision",
	.usage = "[-n] [-t REV] NAME",
	.description = "Put NAME back on the last healthy revision before the "
	    "current one, or on --to REV (a number from 'lepton history', a "
	    "model version such as v3, or a commit id). The old revision's "
	    "record is written back as a new revision (its bytes and git blob "
	    "unchanged) and applied to the provider; where lepton runs the "
	    "replicas on this machine, the old ones start beside the current "
	    "ones and take over the same endpoint with no failed request.",
	.opts = rollback_opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_MUTATES,
	.exec = cmd_rollback_exec,
};

static const struct lep_err *
cmd_rollback_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;
	struct lep_json		*j;
	long long		 lock_ms, t0 = lep_now_ms();
	size_t			 to = 0;

	if ((err = lep_cmd_lock_timeout(&lock_ms, args)) != NULL)
		return err;
	err = lep_history_rollback(&d, &to, ctx, lep_args_pos(args, 0),
	    lep_args_get(args, "to"), lock_ms);
	if (err != NULL)
		return err;
	if (ctx->out.json) {
		j = lep_deployment_json(d);
		lep_json_set_int(j, "rolled_back_to", (long long)to);
		lep_json_set_int(j, "elapsed_ms", lep_now_ms() - t0);
		lep_out_result(&ctx->out, j);
	} else if (ctx->dry_run)
		lep_out_printf(&ctx->out, "would return %s to revision %zu\n",
		    d->name, to);
	else
		lep_out_printf(&ctx->out, "%s is back on revision %zu, as "
		    "revision %d, in %.1fs: %s\n", d->name, to, d->revision,
		    (double)(lep_now_ms() - t0) / 1000.0, d->endpoint);
	lep_deployment_free(d);
	return NULL;
}
