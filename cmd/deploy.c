/*
 * deploy.c: `lepton deploy SPEC`: start or update a service and wait until
 * it is ready; deploying the same spec again changes nothing.
 */
#include "cmd.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/service.h"
#include "../lib/spec.h"
#include "../lib/util.h"

static const struct lep_err *cmd_deploy_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt deploy_opts[] = {
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_deploy_entry = {
	.name = "deploy",
	.summary = "start or update a service and wait until it is ready",
	.usage = "[-n] [--lock-timeout SECONDS] SPEC",
	.description = "Check SPEC, pick its provider (the first built one in "
	    "placement.providers that can honour it; without the list, the "
	    "default: this machine), start the service or "
	    "replace its replicas with a new revision, and wait for the "
	    "readiness probe. The endpoint URL stays the same across updates. "
	    "Deploying an unchanged spec, model and image does nothing. If "
	    "the new "
	    "revision never becomes ready, the old one keeps serving. An "
	    "offer refused for capacity moves the deploy to the next region, "
	    "then the next provider (see FAILOVER in lepton(1)); when every "
	    "one refuses, it exits 16.",
	.opts = deploy_opts,
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_MUTATES,
	.exec = cmd_deploy_exec,
};

static const struct lep_err *
cmd_deploy_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;
	struct lep_spec		*sp = NULL;
	struct lep_json		*j;
	long long		 lock_ms, t0 = lep_now_ms();

	if ((err = lep_cmd_lock_timeout(&lock_ms, args)) != NULL ||
	    (err = lep_spec_load(&sp, lep_args_pos(args, 0))) != NULL)
		goto done;
	if ((err = lep_service_deploy(&d, ctx, sp, lock_ms)) != NULL)
		goto done;
	if (ctx->out.json) {
		j = lep_deployment_json(d);
		lep_json_set_bool(j, "changed", !d->unchanged &&
		    !ctx->dry_run);
		lep_json_set_int(j, "elapsed_ms", lep_now_ms() - t0);
		lep_out_result(&ctx->out, j);
	} else if (ctx->dry_run)
		lep_out_printf(&ctx->out, "would deploy '%s' on %s\n",
		    d->name, d->provider);
	else if (d->unchanged)
		lep_out_printf(&ctx->out, "%s unchanged (revision %d, %s): "
		    "%s\n", d->name, d->revision, d->state, d->endpoint);
	else
		lep_out_printf(&ctx->out, "%s revision %d ready on %s in "
		    "%.1fs (%d/%d replicas): %s\n", d->name, d->revision,
		    d->provider, (double)(lep_now_ms() - t0) / 1000.0,
		    d->ready, d->desired, d->endpoint);
done:
	lep_deployment_free(d);
	lep_spec_free(sp);
	return err;
}
