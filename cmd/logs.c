/*
 * logs.c: `lepton logs NAME`: what the deployment's replicas printed.
 */
#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/provider.h"
#include "../lib/service.h"

static const struct lep_err *cmd_logs_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt logs_opts[] = {
	{ "follow", 'f', LEP_OPT_FLAG, NULL,
	    "keep printing new lines until the deployment stops or Ctrl-C" },
	{ "tail", 0, LEP_OPT_VALUE, "N", "only the last N lines of each log" },
	{ "replica", 0, LEP_OPT_VALUE, "K", "only replica K" },
	{ "setup", 0, LEP_OPT_FLAG, NULL, "the output of 'setup' instead" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_logs_entry = {
	.name = "logs",
	.summary = "show what a deployment's replicas print",
	.usage = "[-f] [--tail N] [--replica K | --setup] NAME",
	.description = "Print the logs of the current revision's replicas. "
	    "With several replicas, each line starts with its replica "
	    "('r0| '). --json gives {\"lines\": [{\"source\", \"line\"}]} and "
	    "cannot be combined with --follow.",
	.opts = logs_opts,
	.min_args = 1,
	.max_args = 1,
	.exec = cmd_logs_exec,
};

static const struct lep_err *
cmd_logs_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_logs_req	 req;
	long long		 tail, replica;

	if ((err = lep_args_int(&tail, args, "tail", -1, 0,
	    1000000000)) != NULL ||
	    (err = lep_args_int(&replica, args, "replica", -1, 0, 63)) != NULL)
		return err;
	req.follow = lep_args_has(args, "follow");
	req.tail = (long)tail;
	req.replica = (int)replica;
	req.setup = lep_args_has(args, "setup");
	if (req.follow && ctx->out.json)
		return lep_err_new(LEP_E_USAGE, "--follow cannot be combined "
		    "with --json");
	if (req.setup && replica >= 0)
		return lep_err_new(LEP_E_USAGE, "--setup and --replica "
		    "exclude each other");
	return lep_service_logs(ctx, lep_args_pos(args, 0), &req);
}
