/*
 * main.c: the dispatcher. Everything shared happens here, in this order:
 * exact command match, option parsing and argument count (usage: exit 2),
 * the context, then the command's exec, whose error we print.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/out.h"
#include "../lib/util.h"
#include "../lib/provider.h"
#include "../lib/state.h"

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

/* What main carries from one step to the next. */
struct dispatch {
	int			 argc;
	char			**argv;
	int			 json;	/* --json anywhere */
	struct lep_args		 g;	/* before the command */
	struct lep_args		 a;	/* the command's */
	int			 used;	/* argv words g took */
	const char		*name;
	const struct lep_cmd	*cmd;
};

/*
 * The options before the command, and the command's name. 0 when that is
 * all there is to do (an error, or no command), with *rc the exit status.
 */
static int
parse_globals(struct dispatch *d, int *rc)
{
	const struct lep_opt	*tables[3];
	const struct lep_err	*err;
	int			 go_on = 0;

	tables[0] = lep_global_opts;
	tables[1] = top_opts;
	tables[2] = NULL;
	err = lep_args_parse(&d->g, tables, d->argc - 1, d->argv + 1, 1,
	    &d->used);
	if (err != NULL) {
		*rc = usage_error(NULL, err, d->json);
		goto done;
	}
	if (lep_args_has(&d->g, "version"))
		d->name = "version";
	else if (d->used + 1 < d->argc)
		d->name = d->argv[d->used + 1];
	else if (lep_args_has(&d->g, "help"))
		d->name = "help";
	else {
		lep_cmd_print_overview(stderr);
		*rc = 2;
		goto done;
	}
	go_on = 1;
done:
	return go_on;
}

/* The command by its exact name; else 0, saying what it might have been. */
static int
find_command(struct dispatch *d, int *rc)
{
	const struct lep_err	*err;
	const char		*hint, **cands;
	size_t			 i;

	if ((d->cmd = lep_cmd_find(d->name)) != NULL)
		goto done;
	cands = xcalloc(lep_cmd_count, sizeof(*cands));
	for (i = 0; i < lep_cmd_count; i++)
		cands[i] = lep_cmd_table[i]->name;
	hint = lep_did_you_mean(d->name, cands, lep_cmd_count);
	free(cands);
	err = lep_err_new(LEP_E_USAGE, "unknown command '%s'", d->name);
	if (hint != NULL)
		lep_err_hint(err, "did you mean 'lepton %s'?", hint);
	else
		lep_err_hint(err, "'lepton help' lists the commands");
	*rc = usage_error(NULL, err, d->json);
done:
	return d->cmd != NULL;
}

/*
 * The command's options and arguments. 0 when that is all there is to do
 * (--help, a usage error), with *rc the exit status.
 */
static int
parse_command(struct dispatch *d, int *rc)
{
	const struct lep_opt	*tables[4];
	const struct lep_cmd	*cmd = d->cmd;
	const struct lep_err	*err;
	int			 nt = 0, go_on = 0;

	/* The command's own options, then --dry-run and --lock-timeout,
	 * then the globals. */
	tables[nt++] = cmd->opts ? cmd->opts : no_opts;
	if (cmd->flags & CMD_MUTATES)
		tables[nt++] = lep_mutate_opts;
	tables[nt++] = lep_global_opts;
	tables[nt] = NULL;
	if (d->used + 1 < d->argc && strcmp(d->name, d->argv[d->used + 1]) == 0)
		d->used++;
	err = lep_args_parse(&d->a, tables, d->argc - 1 - d->used,
	    d->argv + 1 + d->used, 0, NULL);
	if (err == NULL && (lep_args_has(&d->a, "help") ||
	    lep_args_has(&d->g, "help"))) {
		lep_cmd_print_help(stdout, cmd);
		*rc = fflush(stdout) == 0 ? 0 : 1;
		goto done;
	}
	if (err == NULL && (int)d->a.npos < cmd->min_args)
		err = lep_err_new(LEP_E_USAGE, "missing argument");
	if (err == NULL && cmd->max_args >= 0 && (int)d->a.npos > cmd->max_args)
		err = lep_err_new(LEP_E_USAGE, "unexpected argument '%s'",
		    d->a.pos[cmd->max_args]);
	if (err != NULL) {
		if (err->hint[0] == '\0')
			lep_err_hint(err, "usage: lepton %s %s", cmd->name,
			    cmd->usage);
		*rc = usage_error(cmd->name, err, d->json);
		goto done;
	}
	go_on = 1;
done:
	return go_on;
}

/* Set up the context, run the command, print its error: the exit status. */
static int
run_command(struct dispatch *d)
{
	const struct lep_cmd	*cmd = d->cmd;
	const struct lep_err	*err;
	struct lep_ctx		 ctx;
	int			 rc;

	memset(&ctx, 0, sizeof(ctx));
	lep_out_init(&ctx.out, cmd->name);
	ctx.out.json = lep_args_has(&d->a, "json") ||
	    lep_args_has(&d->g, "json");
	ctx.out.quiet = lep_args_has(&d->a, "quiet") ||
	    lep_args_has(&d->g, "quiet");
	ctx.out.verbose = lep_args_has(&d->a, "verbose") ||
	    lep_args_has(&d->g, "verbose");
	ctx.dry_run = lep_args_has(&d->a, "dry-run");
	err = lep_home_resolve(&ctx.home, lep_args_get(&d->a, "home") ?
	    lep_args_get(&d->a, "home") : lep_args_get(&d->g, "home"));
	if (err == NULL && !(cmd->flags & CMD_NO_HOME))
		err = lep_check_private_dir(ctx.home);
	if (err == NULL)
		err = cmd->exec(&ctx, &d->a);
	rc = lep_out_finish(&ctx.out, err);
	lep_out_release(&ctx.out);
	free(ctx.home);
	return rc;
}

int
main(int argc, char **argv)
{
	struct dispatch	 d;
	int		 rc;

	/* Before anything is made: lepton's helpers (lepton __super) too. */
	lep_umask_private();
	lep_provider_init();
	if (lep_provider_main(&rc, argc, argv))
		return rc;
	signal(SIGPIPE, SIG_IGN);
	memset(&d, 0, sizeof(d));
	d.argc = argc;
	d.argv = argv;
	d.json = wants_json(argc, argv);
	if (parse_globals(&d, &rc) && find_command(&d, &rc) &&
	    parse_command(&d, &rc))
		rc = run_command(&d);
	lep_args_release(&d.g);
	lep_args_release(&d.a);
	if (lep_state_abandoned()) {
		/* No exit handler runs over a library cut short. */
		fflush(stdout);
		fflush(stderr);
		_exit(rc);
	}
	return rc;
}
