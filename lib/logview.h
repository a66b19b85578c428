/*
 * logview.h: print log files as `lepton logs` does for every provider
 * whose logs are files lepton can read: the last lines first, then, when
 * following, what they gain until Ctrl-C or until the source ends.
 */
#ifndef LEPTON_LIB_LOGVIEW_H
#define LEPTON_LIB_LOGVIEW_H

#include <sys/types.h>

#include "util.h"

struct lep_json;
struct lep_logs_req;
struct lep_out;

struct lep_logsrc {
	char		*path;		/* owned */
	char		 label[32];	/* "r0", "job": prefixes lines when
					   there are several sources */
	off_t		 off;
	struct lep_buf	 partial;
};

/*
 * Print the sources (tail first); with req->follow keep printing until
 * Ctrl-C or until alive(arg) says 0 (checked about every 200 ms; NULL:
 * stop at once). Returns the --json lines (NULL in text mode).
 */
struct lep_json *lep_logview_print(struct lep_logsrc *, size_t n,
	    const struct lep_logs_req *, struct lep_out *,
	    int (*alive)(void *arg), void *arg);
void	 lep_logview_free(struct lep_logsrc *, size_t n);

#endif
