/*
 * sse.h: a server-sent events parser (the text/event-stream format of
 * HTML's EventSource, as OpenAI-compatible servers stream tokens). Bytes
 * go in as they arrive, split anywhere; whole events come out.
 */
#ifndef LEPTON_LIB_SSE_H
#define LEPTON_LIB_SSE_H

#include <stddef.h>

#include "util.h"

/* One event: its data lines joined with '\n' (borrowed for the call). */
typedef void (*lep_sse_fn)(void *arg, const char *event, const char *data,
	    size_t len);

struct lep_sse {
	struct lep_buf	 line;		/* the line being read */
	struct lep_buf	 data;		/* the event's data so far */
	struct lep_buf	 event;		/* its "event:" name */
	int		 has_data;
	int		 cr;		/* the last byte was '\r' */
	lep_sse_fn	 fn;
	void		*arg;
};

void	 lep_sse_init(struct lep_sse *, lep_sse_fn, void *arg);
/* Feed bytes; complete events are passed to fn. -1 on a line over 1 MiB. */
int	 lep_sse_feed(struct lep_sse *, const char *, size_t);
/* The stream ended: an event without its blank line is still passed. */
void	 lep_sse_end(struct lep_sse *);
void	 lep_sse_release(struct lep_sse *);

#endif
