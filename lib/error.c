/*
 * error.c: error slots and the exit code table documented in lepton(1).
 */
#include "error.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const struct lep_err_info err_table[] = {
	{ LEP_E_FAILED, "failed", 1, "the operation failed" },
	{ LEP_E_USAGE, "usage", 2, "bad command line" },
	{ LEP_E_SPEC, "spec", 3, "invalid spec" },
	{ LEP_E_AUTH, "auth", 4, "authentication or permission refused" },
	{ LEP_E_NOT_FOUND, "not_found", 5, "no such deployment, job or file" },
	{ LEP_E_CONFLICT, "conflict", 6, "conflicts with the current state" },
	{ LEP_E_PROVIDER, "provider", 7, "provider error (may be transient)" },
	{ LEP_E_TIMEOUT, "timeout", 8, "timed out" },
	{ LEP_E_UNSUPPORTED, "unsupported", 9, "not supported (yet)" },
	{ LEP_E_INFEASIBLE, "infeasible", 10,
	    "no provider can satisfy the requested resources" },
	{ LEP_E_NOT_RUNNING, "not_running", 11, "the deployment is not running" },
	{ LEP_E_LOCKED, "locked", 12, "another lepton holds the state lock" },
	{ LEP_E_OVER_BUDGET, "over_budget", 13,
	    "the plan costs more than the spec allows" },
	{ LEP_E_JOB_FAILED, "job_failed", 14,
	    "the job ran and failed (or was cancelled)" },
	{ LEP_E_CORRUPT, "corrupt", 15,
	    "the state repository is damaged; 'lepton state fsck' says how" },
	{ LEP_E_CAPACITY, "capacity", 16,
	    "no offer the plan allows had capacity (or quota) for it" },
	{ LEP_E_INTERNAL, "internal", 70, "internal error or out of memory" },
	{ LEP_E_INTERRUPTED, "interrupted", 130, "interrupted" },
};

#define ERR_RING	16

static _Thread_local struct lep_err	 ring[ERR_RING];
static _Thread_local unsigned int	 ring_next;

static struct lep_err *
err_slot(enum lep_code code)
{
	struct lep_err	*e = &ring[ring_next++ % ERR_RING];

	memset(e, 0, sizeof(*e));
	e->code = code;
	return e;
}

const struct lep_err *
lep_err_new(enum lep_code code, const char *fmt, ...)
{
	struct lep_err	*e = err_slot(code);
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return e;
}

const struct lep_err *
lep_err_vat(enum lep_code code, const char *file, int line, int col,
    const char *fmt, va_list ap)
{
	char	 msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return lep_err_new(code, "%s:%d:%d: %s", file, line, col, msg);
}

const struct lep_err *
lep_err_errno(enum lep_code code, const char *fmt, ...)
{
	struct lep_err	*e;
	va_list		 ap;
	int		 saved = errno;
	size_t		 len;

	e = err_slot(code);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	len = strlen(e->msg);
	snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(saved));
	return e;
}

/* The slots are ours, so dropping const here is safe. */
static struct lep_err *
err_mut(const struct lep_err *e)
{
	return (struct lep_err *)(uintptr_t)e;
}

const struct lep_err *
lep_err_hint(const struct lep_err *e, const char *fmt, ...)
{
	va_list	 ap;

	if (e == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(err_mut(e)->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
	return e;
}

const struct lep_err *
lep_err_capacity(const char *reason, const char *fmt, ...)
{
	struct lep_err	*e = err_slot(LEP_E_CAPACITY);
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (reason != NULL)
		snprintf(e->reason, sizeof(e->reason), "%s", reason);
	return e;
}

const struct lep_err *
lep_err_provider(const struct lep_err *e, const char *provider)
{
	if (e != NULL && e->provider == NULL)
		err_mut(e)->provider = provider;
	return e;
}

const struct lep_err *
lep_err_http(const struct lep_err *e, int status)
{
	if (e != NULL)
		err_mut(e)->http_status = status;
	return e;
}

const struct lep_err_info *
lep_err_info(enum lep_code code)
{
	size_t	 i;

	for (i = 0; i < LEP_ARRAY_SIZE(err_table); i++)
		if (err_table[i].code == code)
			return &err_table[i];
	/* A code without a row is a bug: loud in tests, 70 otherwise. */
	assert(!"an error code has no row in err_table");
	return lep_err_info(LEP_E_INTERNAL);
}

const struct lep_err_info *
lep_err_table(size_t *n_out)
{
	*n_out = LEP_ARRAY_SIZE(err_table);
	return err_table;
}

int
lep_err_exit(const struct lep_err *e)
{
	return e == NULL ? 0 : lep_err_info(e->code)->exit;
}

int
lep_err_unreachable(const struct lep_err *e)
{
	return e != NULL && (e->code == LEP_E_PROVIDER ||
	    e->code == LEP_E_AUTH || e->code == LEP_E_TIMEOUT);
}
