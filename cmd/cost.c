/*
 * cost.c: `lepton cost`. Arrives with its own issue; until then it
 * exits 9 (unsupported) and says so, so scripts can test for it.
 */
#include "cmd.h"

const struct lep_cmd cmd_cost_entry = {
	.name = "cost",
	.summary = "price a spec across providers (not built yet)",
	.usage = "SPEC",
	.description = "Not implemented in this version: exits 9 "
	    "(unsupported).",
	.min_args = 0,
	.max_args = -1,
	.exec = lep_cmd_unsupported,
};
