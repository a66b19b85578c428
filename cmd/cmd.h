/*
 * cmd.h: the command table. One entry per file in cmd/; the table is the
 * single source for dispatch, --help, `lepton help` and the man page test.
 */
#ifndef LEPTON_CMD_CMD_H
#define LEPTON_CMD_CMD_H

#include <stdio.h>

#include "../lib/args.h"

struct lep_ctx;
struct lep_err;

#define CMD_MUTATES	0x1	/* changes state: adds --dry-run and
				   --lock-timeout */
#define CMD_NO_HOME	0x2	/* never reads LEPTON_HOME: runs even where
				   that is refused (lep_check_private_dir) */

struct lep_cmd {
	const char		*name;
	const char		*alias;		/* optional, exact */
	const char		*summary;	/* one line, lower case */
	const char		*usage;		/* after "lepton NAME " */
	const char		*description;	/* a paragraph, for --help */
	const struct lep_opt	*opts;		/* NULL-terminated or NULL */
	int			 min_args;
	int			 max_args;	/* -1: no limit */
	unsigned int		 flags;
	const struct lep_err	*(*exec)(struct lep_ctx *,
				     const struct lep_args *);
};

extern const struct lep_cmd *const lep_cmd_table[];
extern const size_t lep_cmd_count;
extern const struct lep_opt lep_global_opts[];
extern const struct lep_opt lep_mutate_opts[];

const struct lep_cmd *lep_cmd_find(const char *name);
void	 lep_cmd_print_overview(FILE *);
void	 lep_cmd_print_help(FILE *, const struct lep_cmd *);
void	 lep_cmd_print_usage(FILE *, const struct lep_cmd *);

/* For commands that arrive with a later issue: exit 9, say so. */
const struct lep_err *lep_cmd_unsupported(struct lep_ctx *,
	    const struct lep_args *);

struct lep_deployment;
struct lep_out;

/* Shared by deploy, status and stop (cmd/print.c). */
void	 lep_cmd_print_deployment(struct lep_out *,
	    const struct lep_deployment *, int detail);
struct lep_job;
/* A job as JSON, for train and status (cmd/print.c). */
struct lep_json *lep_cmd_job_json(const struct lep_job *);
/* --lock-timeout SECONDS in milliseconds (default 10 s). */
const struct lep_err *lep_cmd_lock_timeout(long long *ms_out,
	    const struct lep_args *);

extern const struct lep_cmd cmd_catalog_entry;
extern const struct lep_cmd cmd_check_entry;
extern const struct lep_cmd cmd_cost_entry;
extern const struct lep_cmd cmd_deploy_entry;
extern const struct lep_cmd cmd_help_entry;
extern const struct lep_cmd cmd_history_entry;
extern const struct lep_cmd cmd_logs_entry;
extern const struct lep_cmd cmd_models_entry;
extern const struct lep_cmd cmd_predict_entry;
extern const struct lep_cmd cmd_rollback_entry;
extern const struct lep_cmd cmd_secret_entry;
extern const struct lep_cmd cmd_state_entry;
extern const struct lep_cmd cmd_status_entry;
extern const struct lep_cmd cmd_stop_entry;
extern const struct lep_cmd cmd_train_entry;
extern const struct lep_cmd cmd_validate_entry;
extern const struct lep_cmd cmd_version_entry;

#endif
