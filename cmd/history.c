/*
 * history.c: `lepton history NAME`: a deployment's revisions, from the
 * state repository's log.
 */
#include <stdlib.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/history.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/util.h"

static const struct lep_err *cmd_history_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt history_opts[] = {
	{ "max", 'm', LEP_OPT_VALUE, "N", "only the newest N revisions" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_history_entry = {
	.name = "history",
	.summary = "list a deployment's revisions",
	.usage = "[-m N] NAME",
	.description = "Every revision of NAME, newest first: its number, when "
	    "and by whom, the model version, the spec's hash, the provider, "
	    "the outcome (ready, failed, stopped, no-capacity) and the "
	    "commit in $LEPTON_HOME/state; under a deploy that moved from "
	    "offer to offer for capacity, one 'tried' line per offer, in "
	    "order.",
	.opts = history_opts,
	.min_args = 1,
	.max_args = 1,
	.exec = cmd_history_exec,
};

static const struct lep_err *
cmd_history_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_revision	*h = NULL;
	struct lep_json		*res, *arr, *o, *att;
	long long		 max;
	size_t			 n = 0, i, k;
	char			 ts[32];

	if ((err = lep_args_int(&max, args, "max", 0, 0, 1000000000)) != NULL)
		return err;
	err = lep_history_list(&h, &n, ctx, lep_args_pos(args, 0),
	    (size_t)max);
	if (err != NULL)
		return err;
	if (ctx->out.json) {
		res = lep_json_obj();
		lep_json_set_str(res, "deployment", lep_args_pos(args, 0));
		arr = lep_json_arr();
		for (i = 0; i < n; i++) {
			o = lep_json_obj();
			lep_json_set_int(o, "revision", (long long)h[i].number);
			lep_format_time(ts, sizeof(ts), h[i].time);
			lep_json_set_str(o, "time", ts);
			lep_json_set_str(o, "author", h[i].author);
			lep_json_set_str(o, "command", h[i].command);
			lep_json_set_str(o, "model", h[i].model);
			lep_json_set_str(o, "spec_sha256", h[i].spec_sha256);
			lep_json_set_str(o, "provider", h[i].provider);
			lep_json_set_str(o, "outcome", h[i].outcome);
			lep_json_set_str(o, "commit", h[i].commit);
			lep_json_set_str(o, "subject", h[i].subject);
			if (h[i].region != NULL)
				lep_json_set_str(o, "region", h[i].region);
			if (h[i].instance != NULL)
				lep_json_set_str(o, "instance",
				    h[i].instance);
			if (h[i].nattempts > 0) {
				att = lep_json_arr();
				for (k = 0; k < h[i].nattempts; k++)
					lep_json_push(att, lep_json_str(
					    h[i].attempts[k]));
				lep_json_set(o, "attempts", att);
			}
			lep_json_push(arr, o);
		}
		lep_json_set(res, "revisions", arr);
		lep_out_result(&ctx->out, res);
	} else {
		lep_out_printf(&ctx->out, "%-4s %-20s %-10s %-9s %-14s %-12s "
		    "%-10s %-8s %s\n", "REV", "TIME", "WHO", "COMMAND", "MODEL",
		    "SPEC", "WHERE", "OUTCOME", "COMMIT");
		for (i = 0; i < n; i++) {
			lep_format_time(ts, sizeof(ts), h[i].time);
			lep_out_printf(&ctx->out, "%-4zu %-20s %-10.10s %-9s "
			    "%-14s %-12.12s %-10s %-8s %.12s\n", h[i].number, ts,
			    h[i].author, h[i].command ? h[i].command : "-",
			    h[i].model ? h[i].model : "-",
			    h[i].spec_sha256 ? h[i].spec_sha256 : "-",
			    h[i].provider ? h[i].provider : "-",
			    h[i].outcome ? h[i].outcome : "-", h[i].commit);
			/* The offers it tried, when it moved. */
			for (k = 0; k < h[i].nattempts; k++)
				lep_out_printf(&ctx->out, "     tried %s\n",
				    h[i].attempts[k]);
		}
	}
	lep_history_free(h, n);
	return NULL;
}
