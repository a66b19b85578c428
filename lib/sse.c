/*
 * sse.c: lines end in CRLF, LF or CR; "data:" lines accumulate, a blank
 * line dispatches, ":" lines are comments, other fields are ignored.
 */
#include "sse.h"

#include <string.h>

void
lep_sse_init(struct lep_sse *s, lep_sse_fn fn, void *arg)
{
	memset(s, 0, sizeof(*s));
	lep_buf_init_max(&s->line, 1 << 20);
	lep_buf_init_max(&s->data, 16 << 20);
	lep_buf_init_max(&s->event, 256);
	s->fn = fn;
	s->arg = arg;
}

void
lep_sse_release(struct lep_sse *s)
{
	lep_buf_release(&s->line);
	lep_buf_release(&s->data);
	lep_buf_release(&s->event);
}

static void
dispatch(struct lep_sse *s)
{
	if (s->has_data)
		s->fn(s->arg, s->event.len ? s->event.buf : "message",
		    s->data.buf, s->data.len);
	lep_buf_reset(&s->data);
	lep_buf_reset(&s->event);
	s->has_data = 0;
}

static void
field(struct lep_sse *s, const char *line, size_t len)
{
	const char	*colon = memchr(line, ':', len);
	const char	*value;
	size_t		 name_len, vlen;

	if (len == 0) {
		dispatch(s);
		return;
	}
	if (colon == line)
		return;			/* a comment */
	name_len = colon ? (size_t)(colon - line) : len;
	value = colon ? colon + 1 : line + len;
	vlen = len - (size_t)(value - line);
	if (vlen > 0 && *value == ' ') {
		value++;
		vlen--;
	}
	if (name_len == 4 && memcmp(line, "data", 4) == 0) {
		if (s->has_data)
			lep_buf_addch(&s->data, '\n');
		lep_buf_addn(&s->data, value, vlen);
		s->has_data = 1;
	} else if (name_len == 5 && memcmp(line, "event", 5) == 0) {
		lep_buf_reset(&s->event);
		lep_buf_addn(&s->event, value, vlen);
	}
}

int
lep_sse_feed(struct lep_sse *s, const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && s->cr) {
			s->cr = 0;	/* the LF of a CRLF */
			continue;
		}
		s->cr = p[i] == '\r';
		if (p[i] == '\n' || p[i] == '\r') {
			field(s, s->line.buf, s->line.len);
			lep_buf_reset(&s->line);
			continue;
		}
		if (lep_buf_addch(&s->line, p[i]) == -1)
			return -1;
	}
	return 0;
}

void
lep_sse_end(struct lep_sse *s)
{
	if (s->line.len > 0) {
		field(s, s->line.buf, s->line.len);
		lep_buf_reset(&s->line);
	}
	dispatch(s);
}
