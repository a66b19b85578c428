/*
 * main.c: the dispatcher. Everything shared happens here, in this order:
 * exact command match, option parsing and argument count (usage: exit 2),
 * the context, then the command's exec, whose error we print.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/out.h"
#include "../lib/util.h"
#include "../lib/provider.h"

static const struct lep_opt no_opts[] = {
	{ NULL, 0, 0, NULL, NULL }
};

/* Only before the command: `lepton --version`. */
static const struct lep_opt top_opts[] = {
	{ "version", 'V', LEP_OPT_FLAG, NULL, "print the version and exit" },
	{ NULL, 0, 0, NULL, NULL }
};

static int
wants_json(int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--json") == 0)
			return 1;
	}
	return 0;
}

/* Report a usage error before a command's context exists. */
static int
usage_error(const char *cmd, const struct lep_err *err, int json)
{
	struct lep_out	 out;
	int		 rc;

	lep_out_init(&out, cmd);
	out.json = json;
	rc = lep_out_finish(&out, err);
	lep_out_release(&out);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct lep_opt	*tables[4];
	const struct lep_cmd	*cmd;
	const struct lep_err	*err;
	struct lep_args		 g, a;
	struct lep_ctx		 ctx;
	const char		*name, *hint, *cands[64];
	int			 used, json, rc, nt = 0;
	size_t			 i;

	lep_provider_init();
	if (lep_provider_main(&rc, argc, argv))
		return rc;
	signal(SIGPIPE, SIG_IGN);
	json = wants_json(argc, argv);

	tables[0] = lep_global_opts;
	tables[1] = top_opts;
	tables[2] = NULL;
	err = lep_args_parse(&g, tables, argc - 1, argv + 1, 1, &used);
	if (err != NULL) {
		lep_args_release(&g);
		return usage_error(NULL, err, json);
	}
	if (lep_args_has(&g, "version"))
		name = "version";
	else if (used + 1 < argc)
		name = argv[used + 1];
	else if (lep_args_has(&g, "help"))
		name = "help";
	else {
		lep_args_release(&g);
		lep_cmd_print_overview(stderr);
		return 2;
	}
	cmd = lep_cmd_find(name);
	if (cmd == NULL) {
		for (i = 0; i < lep_cmd_count && i < 64; i++)
			cands[i] = lep_cmd_table[i]->name;
		hint = lep_did_you_mean(name, cands, i);
		err = lep_err_new(LEP_E_USAGE, "unknown command '%s'", name);
		if (hint != NULL)
			lep_err_hint(err, "did you mean 'lepton %s'?", hint);
		else
			lep_err_hint(err, "'lepton help' lists the commands");
		lep_args_release(&g);
		return usage_error(NULL, err, json);
	}

	/* The command's own options, then --dry-run and --lock-timeout,
	 * then the globals. */
	tables[nt++] = cmd->opts ? cmd->opts : no_opts;
	if (cmd->flags & CMD_MUTATES)
		tables[nt++] = lep_mutate_opts;
	tables[nt++] = lep_global_opts;
	tables[nt] = NULL;
	if (used + 1 < argc && strcmp(name, argv[used + 1]) == 0)
		used++;
	err = lep_args_parse(&a, tables, argc - 1 - used, argv + 1 + used, 0,
	    NULL);
	if (err == NULL && (lep_args_has(&a, "help") ||
	    lep_args_has(&g, "help"))) {
		lep_cmd_print_help(stdout, cmd);
		lep_args_release(&g);
		lep_args_release(&a);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (err == NULL && (int)a.npos < cmd->min_args)
		err = lep_err_new(LEP_E_USAGE, "missing argument");
	if (err == NULL && cmd->max_args >= 0 && (int)a.npos > cmd->max_args)
		err = lep_err_new(LEP_E_USAGE, "unexpected argument '%s'",
		    a.pos[cmd->max_args]);
	if (err != NULL) {
		if (err->hint[0] == '\0')
			lep_err_hint(err, "usage: lepton %s %s", cmd->name,
			    cmd->usage);
		lep_args_release(&g);
		lep_args_release(&a);
		return usage_error(cmd->name, err, json);
	}

	memset(&ctx, 0, sizeof(ctx));
	lep_out_init(&ctx.out, cmd->name);
	ctx.out.json = lep_args_has(&a, "json") || lep_args_has(&g, "json");
	ctx.out.quiet = lep_args_has(&a, "quiet") || lep_args_has(&g, "quiet");
	ctx.out.verbose = lep_args_has(&a, "verbose") ||
	    lep_args_has(&g, "verbose");
	ctx.dry_run = lep_args_has(&a, "dry-run");
	err = lep_home_resolve(&ctx.home, lep_args_get(&a, "home") ?
	    lep_args_get(&a, "home") : lep_args_get(&g, "home"));
	if (err == NULL)
		err = cmd->exec(&ctx, &a);
	rc = lep_out_finish(&ctx.out, err);
	lep_out_release(&ctx.out);
	free(ctx.home);
	lep_args_release(&g);
	lep_args_release(&a);
	return rc;
}
