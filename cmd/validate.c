/*
 * validate.c: `lepton validate SPEC`: check a spec and print its
 * normalised form (itself a valid spec). Changes nothing anywhere.
 */
#include <stdlib.h>

#include "cmd.h"
#include "../lib/ctx.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/plan.h"
#include "../lib/provider.h"
#include "../lib/spec.h"

static const struct lep_err *cmd_validate_exec(struct lep_ctx *,
	    const struct lep_args *);

const struct lep_cmd cmd_validate_entry = {
	.name = "validate",
	.summary = "check a spec and print it normalised",
	.usage = "SPEC",
	.description = "Check SPEC strictly (see lepton-spec(5)) and print it "
	    "with every default filled in. Errors name FILE:LINE:COL and exit "
	    "3; a key the provider deploy or train would take cannot honour "
	    "exits 9, as they would. With --json the result is "
	    "{\"file\": ..., \"spec\": ...}.",
	.min_args = 1,
	.max_args = 1,
	.flags = CMD_NO_HOME,
	.exec = cmd_validate_exec,
};

static const struct lep_err *
cmd_validate_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err;
	struct lep_spec		*sp = NULL;
	struct lep_json		*j, *res;
	char			*text;

	if ((err = lep_spec_load(&sp, lep_args_pos(args, 0))) != NULL)
		return err;
	/* What deploy and train would refuse, refused here too. */
	if ((err = lep_provider_refuses(lep_plan_provider(sp), sp)) != NULL) {
		lep_spec_free(sp);
		return err;
	}
	j = lep_spec_to_json(sp);
	if (ctx->out.json) {
		res = lep_json_obj();
		lep_json_set_str(res, "file", sp->file);
		lep_json_set(res, "spec", j);
		lep_out_result(&ctx->out, res);
	} else {
		text = lep_json_print(j, 1);
		lep_out_printf(&ctx->out, "%s\n", text);
		free(text);
		lep_json_free(j);
	}
	lep_spec_free(sp);
	return NULL;
}
