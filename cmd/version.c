/*
 * version.c: `lepton version`. Touches no library it does not need:
 * libcurl is loaded only for -v.
 */
#include <stdio.h>

#include "cmd.h"
#include "../lib/ctx.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/out.h"

static const struct lep_err *cmd_version_exec(struct lep_ctx *,
	    const struct lep_args *);

const struct lep_cmd cmd_version_entry = {
	.name = "version",
	.summary = "print lepton's version",
	.usage = "",
	.description = "Print the version. With -v, also the version of "
	    "libcurl it loads for network calls.",
	.min_args = 0,
	.max_args = 0,
	.flags = CMD_NO_HOME,
	.exec = cmd_version_exec,
};

static const struct lep_err *
cmd_version_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	struct lep_json	*j;
	const char	*curl = NULL;

	(void)args;
	if (ctx->out.verbose)
		curl = lep_http_version();
	if (ctx->out.json) {
		j = lep_json_obj();
		lep_json_set_str(j, "version", LEPTON_VERSION);
		if (curl != NULL)
			lep_json_set_str(j, "curl", curl);
		lep_out_result(&ctx->out, j);
		return NULL;
	}
	lep_out_printf(&ctx->out, "lepton %s\n", LEPTON_VERSION);
	if (curl != NULL)
		lep_out_printf(&ctx->out, "%s\n", curl);
	return NULL;
}
