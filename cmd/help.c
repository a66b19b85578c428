/*
 * help.c: `lepton help [COMMAND]`, and the --help text of every command.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/json.h"

static const struct lep_err *cmd_help_exec(struct lep_ctx *,
	    const struct lep_args *);

const struct lep_cmd cmd_help_entry = {
	.name = "help",
	.summary = "show the commands, or one command's options",
	.usage = "[COMMAND]",
	.description = "Without COMMAND, list every command. With one, show "
	    "its usage and options, as 'lepton COMMAND --help' does.",
	.min_args = 0,
	.max_args = 1,
	.flags = CMD_NO_HOME,
	.exec = cmd_help_exec,
};

static void
print_opts(FILE *fp, const struct lep_opt *o)
{
	char	 left[64];

	for (; o != NULL && o->name != NULL; o++) {
		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
			    o->short_name, o->name, o->metavar ? " " : "",
			    o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
			    o->metavar ? " " : "",
			    o->metavar ? o->metavar : "");
		fprintf(fp, "  %-26s %s\n", left, o->help);
	}
}

void
lep_cmd_print_overview(FILE *fp)
{
	size_t	 i;

	fputs("usage: lepton [--json] [-q] [-v] [--home DIR] COMMAND "
	    "[ARGS]\n\nDeploy, train, query, roll back and price AI "
	    "workloads.\n\ncommands:\n", fp);
	for (i = 0; i < lep_cmd_count; i++)
		fprintf(fp, "  %-10s %s\n", lep_cmd_table[i]->name,
		    lep_cmd_table[i]->summary);
	fputs("\nglobal options:\n", fp);
	print_opts(fp, lep_global_opts);
	fputs("  -V, --version              print the version and exit\n"
	    "\n'lepton help COMMAND' or 'lepton COMMAND --help' tells more; "
	    "exit\ncodes are listed in lepton(1).\n", fp);
}

void
lep_cmd_print_usage(FILE *fp, const struct lep_cmd *cmd)
{
	fprintf(fp, "usage: lepton %s %s\n", cmd->name, cmd->usage);
}

void
lep_cmd_print_help(FILE *fp, const struct lep_cmd *cmd)
{
	lep_cmd_print_usage(fp, cmd);
	fprintf(fp, "\n%s.\n", cmd->summary);
	if (cmd->description != NULL)
		fprintf(fp, "\n%s\n", cmd->description);
	if ((cmd->opts != NULL && cmd->opts->name != NULL) ||
	    (cmd->flags & CMD_MUTATES)) {
		fputs("\noptions:\n", fp);
		print_opts(fp, cmd->opts);
		if (cmd->flags & CMD_MUTATES)
			print_opts(fp, lep_mutate_opts);
	}
	fputs("\nglobal options:\n", fp);
	print_opts(fp, lep_global_opts);
	fprintf(fp, "\nSee lepton(1) for exit codes.\n");
}

static const struct lep_err *
cmd_help_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_cmd	*cmd;
	const char		*name = lep_args_pos(args, 0);
	struct lep_json		*res, *arr, *o;
	size_t			 i;

	if (name != NULL && (cmd = lep_cmd_find(name)) == NULL)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "unknown command "
		    "'%s'", name), "'lepton help' lists the commands");
	if (ctx->out.json) {
		res = lep_json_obj();
		arr = lep_json_arr();
		for (i = 0; i < lep_cmd_count; i++) {
			cmd = lep_cmd_table[i];
			if (name != NULL && strcmp(cmd->name, name) != 0)
				continue;
			o = lep_json_obj();
			lep_json_set_str(o, "name", cmd->name);
			lep_json_set_str(o, "summary", cmd->summary);
			lep_json_set_str(o, "usage", cmd->usage);
			lep_json_push(arr, o);
		}
		lep_json_set(res, "commands", arr);
		lep_out_result(&ctx->out, res);
		return NULL;
	}
	if (name != NULL) {
		lep_cmd_print_help(stdout, lep_cmd_find(name));
		return NULL;
	}
	lep_cmd_print_overview(stdout);
	return NULL;
}
