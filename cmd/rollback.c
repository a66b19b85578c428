/*
 * rollback.c: `lepton rollback`. Arrives with its own issue; until then it
 * exits 9 (unsupported) and says so, so scripts can test for it.
 */
#include "cmd.h"

const struct lep_cmd cmd_rollback_entry = {
	.name = "rollback",
	.summary = "return a deployment to an earlier revision (not built yet)",
	.usage = "[--to REV] DEPLOYMENT",
	.description = "Not implemented in this version: exits 9 "
	    "(unsupported).",
	.min_args = 0,
	.max_args = -1,
	.exec = lep_cmd_unsupported,
};
