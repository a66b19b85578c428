/*
 * status.c: `lepton status [NAME]`: every deployment in a table, or one in
 * detail, as it really is (each PID is checked, not just recalled).
 */
#include <stdlib.h>

#include "cmd.h"
#include "../lib/ctx.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/service.h"

static const struct lep_err *cmd_status_exec(struct lep_ctx *,
	    const struct lep_args *);

const struct lep_cmd cmd_status_entry = {
	.name = "status",
	.summary = "list deployments, or show one in detail",
	.usage = "[NAME]",
	.description = "Without NAME, list every deployment: state (starting, "
	    "running, degraded, stopping, stopped, failed), ready replicas, "
	    "revision and endpoint. With NAME, show it in detail, replica by "
	    "replica.",
	.min_args = 0,
	.max_args = 1,
	.exec = cmd_status_exec,
};

static const struct lep_err *
cmd_status_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL, **v = NULL;
	struct lep_json		*arr, *res;
	size_t			 n = 0, i;

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
		lep_out_printf(&ctx->out, "%-20s %-10s %-6s %-7s %-4s %s\n",
		    "NAME", "STATE", "WHERE", "READY", "REV", "ENDPOINT");
		for (i = 0; i < n; i++)
			lep_cmd_print_deployment(&ctx->out, v[i], 0);
	}
	for (i = 0; i < n; i++)
		lep_deployment_free(v[i]);
	free(v);
	return NULL;
}
