/*
 * wire.h: a small HTTP/1.1 keep-alive client for load runs on plain
 * http:// URLs: the request is serialised once and written as is, each
 * response is parsed just enough (status, Content-Length or chunked,
 * Connection: close) as it streams in, over epoll. https:// load runs
 * use libcurl.
 */
#ifndef LEPTON_LIB_WIRE_H
#define LEPTON_LIB_WIRE_H

#include <stddef.h>

struct lep_err;
struct lep_load_opts;
struct lep_load_result;

/* As lep_http_load (see http.h). Errors: USAGE (not http://), PROVIDER. */
const struct lep_err *lep_wire_load(struct lep_load_result *,
	    const struct lep_load_opts *);

/* Where the reading of one response is; see lep_wire_resp_feed. */
struct lep_wire_resp {
	int		 state;
	int		 status;	/* the final response's, once read */
	int		 close_after;	/* the server closes after it */
	int		 digits;	/* of the chunk size being read */
	unsigned long long left;	/* bytes of the body or chunk to go */
	size_t		 scanned;	/* of the head, searched for its end */
	size_t		 line;		/* bytes of the trailer line so far */
};

#define LEP_WIRE_MORE	0	/* the response goes on */
#define LEP_WIRE_DONE	1	/* it ended */
#define LEP_WIRE_BAD	(-1)	/* it is not HTTP */

/* Ready p for the next response. */
void	 lep_wire_resp_init(struct lep_wire_resp *p);
/*
 * Read the len bytes at buf, the next of the response, however they were
 * cut; a body is read and forgotten, whatever its size. *used gets how
 * many were taken: all, unless the head is not whole yet (the caller
 * hands the rest again, first, with the bytes that follow), or the
 * response ended before (DONE; what follows is not its own). Interim 1xx
 * responses are skipped; p->status is the final one's, any three digits.
 * LEP_WIRE_BAD: a status line, Content-Length or chunk size that is not
 * HTTP/1.x's.
 */
int	 lep_wire_resp_feed(struct lep_wire_resp *p, const char *buf,
	    size_t len, size_t *used);
/*
 * The server closed the connection: LEP_WIRE_DONE if that ends the
 * response (a body with no length), else LEP_WIRE_MORE: it was cut short.
 */
int	 lep_wire_resp_eof(const struct lep_wire_resp *p);

#endif
