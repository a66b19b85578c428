/*
 * status.c: `lepton status [NAME]`: every deployment in a table, or one in
 * detail, as it really is (each PID is checked, not just recalled).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cmd.h"
#include "../lib/ctx.h"
#include "../lib/job.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/service.h"

static const struct lep_err *cmd_status_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt status_opts[] = {
	{ "jobs", 'j', LEP_OPT_FLAG, NULL, "training jobs instead" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_status_entry = {
	.name = "status",
	.summary = "list deployments or jobs, or show one in detail",
	.usage = "[-j] [NAME|JOB]",
	.description = "Without NAME, list every deployment: state (starting, "
	    "running, degraded, stopping, stopped, failed), ready replicas, "
	    "revision and endpoint. With NAME, show it in detail, replica by "
	    "replica. --jobs lists training jobs: state (running, succeeded, "
	    "failed, cancelled), exit status, the model version registered.",
	.opts = status_opts,
	.min_args = 0,
	.max_args = 1,
	.exec = cmd_status_exec,
};

static void
print_job(struct lep_out *out, const struct lep_job *j)
{
	char	 ts[32], code[16], took[24];

	lep_strlcpy(ts, "-", sizeof(ts));
	lep_strlcpy(took, "-", sizeof(took));
	if (j->started) {
		lep_format_time(ts, sizeof(ts), j->started);
		snprintf(took, sizeof(took), "%llds", (j->ended ? j->ended :
		    (long long)time(NULL)) - j->started);
	}
	if (j->exit_code >= 0)
		snprintf(code, sizeof(code), "%d", j->exit_code);
	else
		lep_strlcpy(code, "-", sizeof(code));
	lep_out_printf(out, "%-36s %-10s %4s %20s %8s %s\n", j->id,
	    j->state, code, ts, took, j->model ? j->model : "-");
}


static const struct lep_err *
status_jobs(struct lep_ctx *ctx, const char *id)
{
	const struct lep_err	*err;
	struct lep_job		**v = NULL, *one = NULL;
	struct lep_json		*arr, *res;
	size_t			 n = 0, i;

	if (id != NULL) {
		if ((err = lep_job_get(&one, ctx, id)) != NULL)
			return err;
		v = &one;
		n = 1;
	} else if ((err = lep_job_list(&v, &n, ctx)) != NULL)
		return err;
	if (ctx->out.json) {
		res = lep_json_obj();
		arr = lep_json_arr();
		for (i = 0; i < n; i++)
			lep_json_push(arr, lep_cmd_job_json(v[i]));
		lep_json_set(res, "jobs", arr);
		lep_out_result(&ctx->out, res);
	} else if (n > 0) {
		lep_out_printf(&ctx->out, "%-36s %-10s %4s %20s %8s %s\n", "JOB",
		    "STATE", "EXIT", "STARTED", "TOOK", "MODEL");
		for (i = 0; i < n; i++)
			print_job(&ctx->out, v[i]);
	}
	for (i = 0; i < n; i++)
		lep_job_free(v[i]);
	if (v != &one)
		free(v);
	return NULL;
}

static const struct lep_err *
cmd_status_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL, **v = NULL;
	struct lep_json		*arr, *res;
	size_t			 n = 0, i;

	if (lep_args_has(args, "jobs") || (lep_args_pos(args, 0) != NULL &&
	    lep_job_exists(ctx, lep_args_pos(args, 0))))
		return status_jobs(ctx, lep_args_pos(args, 0));
	if (lep_args_pos(args, 0) != NULL) {
		if ((err = lep_service_get(&d, ctx,
		    lep_args_pos(args, 0))) != NULL)
			return err;
		if (ctx->out.json)
			lep_out_result(&ctx->out, lep_deployment_json(d));
		else
			lep_cmd_print_deployment(&ctx->out, d, 1);
		lep_deployment_free(d);
		return NULL;
	}
	if ((err = lep_service_list(&v, &n, ctx)) != NULL)
		return err;
	if (ctx->out.json) {
		res = lep_json_obj();
		arr = lep_json_arr();
		for (i = 0; i < n; i++)
			lep_json_push(arr, lep_deployment_json(v[i]));
		lep_json_set(res, "deployments", arr);
		lep_out_result(&ctx->out, res);
	} else if (n > 0) {
		lep_out_printf(&ctx->out, "%-20s %-10s %-10s %-7s %-4s %s\n",
		    "NAME", "STATE", "WHERE", "READY", "REV", "ENDPOINT");
		for (i = 0; i < n; i++)
			lep_cmd_print_deployment(&ctx->out, v[i], 0);
	}
	for (i = 0; i < n; i++)
		lep_deployment_free(v[i]);
	free(v);
	return NULL;
}
