/*
 * table.c: every command, sorted by name.
 */
#include "cmd.h"

#include <string.h>

#include "../lib/error.h"
#include "../lib/util.h"

const struct lep_cmd *const lep_cmd_table[] = {
	&cmd_catalog_entry,
	&cmd_check_entry,
	&cmd_cost_entry,
	&cmd_deploy_entry,
	&cmd_help_entry,
	&cmd_history_entry,
	&cmd_logs_entry,
	&cmd_models_entry,
	&cmd_predict_entry,
	&cmd_rollback_entry,
	&cmd_secret_entry,
	&cmd_state_entry,
	&cmd_status_entry,
	&cmd_stop_entry,
	&cmd_train_entry,
	&cmd_validate_entry,
	&cmd_version_entry,
};
const size_t lep_cmd_count = LEP_ARRAY_SIZE(lep_cmd_table);

const struct lep_opt lep_global_opts[] = {
	{ "json", 0, LEP_OPT_FLAG, NULL,
	    "print exactly one JSON document on stdout" },
	{ "quiet", 'q', LEP_OPT_FLAG, NULL, "no warnings or progress" },
	{ "verbose", 'v', LEP_OPT_FLAG, NULL, "say more on stderr" },
	{ "home", 0, LEP_OPT_VALUE, "DIR",
	    "state directory (default: $LEPTON_HOME or "
	    "$XDG_DATA_HOME/lepton)" },
	{ "help", 'h', LEP_OPT_FLAG, NULL, "show this help" },
	{ NULL, 0, 0, NULL, NULL }
};

/* Every command that changes state takes these (CMD_MUTATES). */
const struct lep_opt lep_mutate_opts[] = {
	{ "dry-run", 'n', LEP_OPT_FLAG, NULL, "say what would change; "
	    "change nothing" },
	{ "lock-timeout", 0, LEP_OPT_VALUE, "SECONDS",
	    "wait this long for another lepton's lock (default 10)" },
	{ NULL, 0, 0, NULL, NULL }
};

/* Exact names and aliases only: a new command must not break a script. */
const struct lep_cmd *
lep_cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < lep_cmd_count; i++) {
		if (strcmp(lep_cmd_table[i]->name, name) == 0 ||
		    (lep_cmd_table[i]->alias != NULL &&
		    strcmp(lep_cmd_table[i]->alias, name) == 0))
			return lep_cmd_table[i];
	}
	return NULL;
}

const struct lep_err *
lep_cmd_unsupported(struct lep_ctx *ctx, const struct lep_args *args)
{
	(void)ctx;
	(void)args;
	return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "this command is "
	    "not implemented yet"), "see 'lepton help' for the commands "
	    "this version has");
}
