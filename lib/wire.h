/*
 * wire.h: a small HTTP/1.1 keep-alive client for load runs on plain
 * http:// URLs: the request is serialised once and written as is, each
 * response is parsed just enough (status, Content-Length or chunked,
 * Connection: close), over epoll. https:// load runs use libcurl.
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

/*
 * Where the HTTP/1.x response at the start of buf ends: its length, 0
 * when more bytes are needed, -1 when it is not HTTP. *status and
 * *close_after (the server will close) are set once the head is in.
 */
long	 lep_wire_response_end(const char *buf, size_t len, int *status,
	    int *close_after);

#endif
