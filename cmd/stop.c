/*
 * stop.c: `lepton stop NAME`: end every process of a deployment by PID,
 * SIGTERM first and SIGKILL after the grace period. The record stays, so
 * status shows it stopped.
 */
#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/job.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/service.h"

static const struct lep_err *cmd_stop_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt stop_opts[] = {
	{ "grace", 0, LEP_OPT_VALUE, "SECONDS",
	    "time between SIGTERM and SIGKILL (default 10)" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_stop_entry = {
	.name = "stop",
	.summary = "stop a deployment (every process or container it runs) "
	    "or a job",
	.usage = "[-n] [--grace SECONDS] NAME|JOB",
	.description = "Send SIGTERM to the deployment's supervisor and "
	    "replicas, SIGKILL to what is left after the grace period, and "
	    "check by PID that nothing remains. The endpoint port is freed.",
	.opts = stop_opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_MUTATES,
	.exec = cmd_stop_exec,
};

static const struct lep_err *
stop_job(struct lep_ctx *ctx, const char *id, int grace)
{
	const struct lep_err	*err;
	struct lep_job		*j = NULL;
	struct lep_json		*o;

	if (ctx->dry_run) {
		lep_out_printf(&ctx->out, "would stop job %s\n", id);
		return NULL;
	}
	if ((err = lep_job_cancel(&j, ctx, id, grace)) != NULL)
		return err;
	if (ctx->out.json) {
		o = lep_json_obj();
		lep_json_set_str(o, "id", j->id);
		lep_json_set_str(o, "state", j->state);
		lep_out_result(&ctx->out, o);
	} else
		lep_out_printf(&ctx->out, "%s %s\n", j->id, j->state);
	lep_job_free(j);
	return NULL;
}

static const struct lep_err *
cmd_stop_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;
	long long		 grace, lock_ms;

	if ((err = lep_args_int(&grace, args, "grace", 10, 0, 3600)) != NULL ||
	    (err = lep_cmd_lock_timeout(&lock_ms, args)) != NULL)
		return err;
	if (lep_job_exists(ctx, lep_args_pos(args, 0)))
		return stop_job(ctx, lep_args_pos(args, 0), (int)grace);
	err = lep_service_stop(&d, ctx, lep_args_pos(args, 0), (int)grace,
	    lock_ms);
	if (err != NULL)
		return err;
	if (ctx->out.json)
		lep_out_result(&ctx->out, lep_deployment_json(d));
	else if (ctx->dry_run)
		lep_out_printf(&ctx->out, "would stop %s (%s)\n", d->name,
		    d->state);
	else
		lep_out_printf(&ctx->out, "%s %s\n", d->name, d->state);
	lep_deployment_free(d);
	return NULL;
}
