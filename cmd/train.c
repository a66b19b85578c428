/*
 * train.c: `lepton train SPEC` runs a job, follows it, and on success
 * registers its output as the model's next version.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/job.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/types.h"
#include "../lib/util.h"

static const struct lep_err *cmd_train_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt train_opts[] = {
	{ "detach", 'd', LEP_OPT_FLAG, NULL,
	    "return once the job runs; follow it with 'lepton logs -f ID'" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_train_entry = {
	.name = "train",
	.summary = "run a training job and register its model",
	.usage = "[-n] [-d] SPEC",
	.description = "Run a kind: job spec on its provider: setup, then run, "
	    "with LEPTON_JOB_ID, LEPTON_NODE_RANK, LEPTON_NUM_NODES, "
	    "LEPTON_MASTER_ADDR, LEPTON_MASTER_PORT and LEPTON_OUTPUT_MODEL "
	    "(job.outputs.model, absolute). Its output goes to standard error "
	    "on a terminal (-q: not at all) and to 'lepton logs ID'. On exit "
	    "0 the output is registered as the model's next version (model.name, "
	    "or the spec's name), with the metrics.json it wrote and its "
	    "lineage, in one commit; a job that fails registers nothing and "
	    "exits 14. An offer refused for capacity moves the job to the "
	    "next region, then the next provider (see FAILOVER in "
	    "lepton(1)); when every one refuses, it exits 16. Ctrl-C stops "
	    "following, not the job.",
	.opts = train_opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_MUTATES,
	.exec = cmd_train_exec,
};

static const struct lep_err *
cmd_train_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_spec		*sp = NULL;
	struct lep_job		*j = NULL, *now = NULL;
	struct lep_json		*o;
	long long		 lock_ms, t0 = lep_now_ms();

	if ((err = lep_cmd_lock_timeout(&lock_ms, args)) != NULL ||
	    (err = lep_spec_load(&sp, lep_args_pos(args, 0))) != NULL ||
	    (err = lep_job_train(&j, ctx, sp, lock_ms)) != NULL)
		goto done;
	if (ctx->dry_run) {
		lep_out_printf(&ctx->out, "would train '%s' on %s\n", j->name,
		    j->provider);
		goto done;
	}
	if (lep_args_has(args, "detach")) {
		if (ctx->out.json)
			lep_out_result(&ctx->out, lep_cmd_job_json(j));
		else
			lep_out_printf(&ctx->out, "%s\n", j->id);
		goto done;
	}
	/* The log on stderr (a terminal's, or -v), until the job ends. */
	if ((err = lep_job_follow(&now, ctx, j, ctx->out.quiet ||
	    (!ctx->out.err_tty && !ctx->out.verbose))) != NULL)
		goto done;
	if (strcmp(now->state, "succeeded") != 0) {
		err = lep_err_hint(lep_err_new(LEP_E_JOB_FAILED, "job %s "
		    "%s (exit status %d)%s%s", j->id, now->state,
		    now->exit_code, now->message ? ": " : "",
		    now->message ? now->message : ""), "'lepton logs "
		    "%s' shows its output", j->id);
	} else if (ctx->out.json) {
		o = lep_cmd_job_json(now);
		lep_json_set_int(o, "elapsed_ms", lep_now_ms() - t0);
		lep_out_result(&ctx->out, o);
	} else
		lep_out_printf(&ctx->out, "job %s succeeded in %.1fs: "
		    "registered %s\n", j->id, (double)(lep_now_ms() - t0) /
		    1000.0, now->model ? now->model : "nothing");
done:
	lep_job_free(j);
	lep_job_free(now);
	lep_spec_free(sp);
	return err;
}
