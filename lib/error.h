/*
 * error.h: the one error type and the table of stable exit codes.
 * Fallible functions return const struct lep_err *; NULL means success.
 */
#ifndef LEPTON_LIB_ERROR_H
#define LEPTON_LIB_ERROR_H

#include <stdarg.h>

#include "util.h"

/* Append-only: a retired code keeps its number. */
enum lep_code {
	LEP_E_FAILED = 1,
	LEP_E_USAGE,
	LEP_E_SPEC,
	LEP_E_AUTH,
	LEP_E_NOT_FOUND,
	LEP_E_CONFLICT,
	LEP_E_PROVIDER,
	LEP_E_TIMEOUT,
	LEP_E_UNSUPPORTED,
	LEP_E_INFEASIBLE,
	LEP_E_NOT_RUNNING,
	LEP_E_LOCKED,
	LEP_E_INTERNAL,
	LEP_E_INTERRUPTED,
	LEP_E_OVER_BUDGET,
	LEP_E_JOB_FAILED,
	LEP_E_CORRUPT,
	LEP_E_CAPACITY,
	LEP_E__COUNT
};

struct lep_err {
	enum lep_code	 code;
	char		 msg[1024];
	char		 hint[512];
	const char	*provider;	/* static string or NULL */
	int		 http_status;	/* 0 when none */
	/*
	 * The provider's own name for a refusal (AWS's
	 * "ResourceLimitExceeded"), or "": said beside the message.
	 */
	char		 reason[64];
};

struct lep_err_info {
	enum lep_code	 code;
	const char	*name;		/* stable JSON name */
	int		 exit;		/* stable exit status */
	const char	*text;		/* default text, for lepton(1) */
};

/*
 * Constructors fill a ring of thread-local slots: no allocation, never
 * freed. The result stays valid until 16 more errors are made.
 */
const struct lep_err *lep_err_new(enum lep_code, const char *fmt, ...)
	    LEP_PRINTF(2, 3);
/* "FILE:LINE:COL: message", the message at most 767 bytes. */
const struct lep_err *lep_err_vat(enum lep_code, const char *file,
	    int line, int col, const char *fmt, va_list);
/* Like lep_err_new, with ": strerror(errno)" appended. */
const struct lep_err *lep_err_errno(enum lep_code, const char *fmt, ...)
	    LEP_PRINTF(2, 3);
/* Set the hint of an error made by the constructors above; returns it. */
const struct lep_err *lep_err_hint(const struct lep_err *, const char *fmt,
	    ...) LEP_PRINTF(2, 3);
/*
 * A provider's "no capacity (or no quota) for this offer": LEP_E_CAPACITY
 * with reason, the provider's own code for it (or NULL). lib/ then tries
 * the plan's next offer (see lib/failover.h); nothing else does that.
 */
const struct lep_err *lep_err_capacity(const char *reason, const char *fmt,
	    ...) LEP_PRINTF(2, 3);
const struct lep_err *lep_err_provider(const struct lep_err *, const char *);
const struct lep_err *lep_err_http(const struct lep_err *, int status);

const struct lep_err_info *lep_err_info(enum lep_code);
/* The whole table, for help and tests; n_out gets its length. */
const struct lep_err_info *lep_err_table(size_t *n_out);
int	 lep_err_exit(const struct lep_err *);	/* 0 for NULL */
/* Did a provider fail to answer (down, refused us, too slow)? A listing
   shows such an entry as unknown rather than failing as a whole. */
int	 lep_err_unreachable(const struct lep_err *);

#endif
