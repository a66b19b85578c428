/*
 * out.h: where results and diagnostics go. stdout carries results only:
 * text, or with --json exactly one document; stderr carries the rest.
 */
#ifndef LEPTON_LIB_OUT_H
#define LEPTON_LIB_OUT_H

#include "util.h"

struct lep_err;
struct lep_json;

struct lep_out {
	int		 json;		/* --json */
	int		 quiet;		/* -q: no warnings or progress */
	int		 verbose;	/* -v: informational lines */
	int		 err_tty;	/* stderr is a terminal: progress */
	int		 progress_shown;
	const char	*cmd;		/* "deploy", for "lepton: deploy: ..." */
	struct lep_json	*result;	/* owned; the --json result */
};

void	 lep_out_init(struct lep_out *, const char *cmd);
void	 lep_out_release(struct lep_out *);

/* Text results on stdout; nothing in --json mode. */
void	 lep_out_printf(struct lep_out *, const char *, ...) LEP_PRINTF(2, 3);
/* Raw bytes on stdout in every mode (streams such as logs, JSONL). */
void	 lep_out_write(struct lep_out *, const void *, size_t);
/*
 * The --json result; takes ownership (replaces an earlier one). A command
 * that then fails shows it beside the error (a load run's summary).
 */
void	 lep_out_result(struct lep_out *, struct lep_json *);

/* stderr, one write each; control characters scrubbed. */
void	 lep_out_warn(struct lep_out *, const char *, ...) LEP_PRINTF(2, 3);
void	 lep_out_info(struct lep_out *, const char *, ...) LEP_PRINTF(2, 3);
/* A transient status line, on a terminal only; cleared by the next line. */
void	 lep_out_progress(struct lep_out *, const char *, ...)
	     LEP_PRINTF(2, 3);
void	 lep_out_progress_done(struct lep_out *);

/*
 * Finish the command: print the error (stderr, and the JSON document
 * when --json), flush stdout. Returns the exit status.
 */
int	 lep_out_finish(struct lep_out *, const struct lep_err *);

/* Write a diagnostic line to stderr in one write(), scrubbing controls. */
void	 lep_out_stderr(const char *prefix, const char *msg);

#endif
