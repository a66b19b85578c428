/*
 * csv.c: see csv.h. Unquoting happens in place: a quoted field is copied
 * down over its own quotes.
 */
#include "csv.h"

#include <string.h>

void
lep_csv_init(struct lep_csv *c, char *buf, size_t len)
{
	c->p = buf;
	c->end = buf + len;
	c->line = 0;
	c->bad = 0;
}

int
lep_csv_row(struct lep_csv *c, char *fields[LEP_CSV_MAX_FIELDS])
{
	char	*p = c->p, *w;
	int	 n = 0, done = 0;

	if (p >= c->end)
		return -1;
	c->line++;
	c->bad = 0;
	while (!done) {
		if (n == LEP_CSV_MAX_FIELDS) {
			c->bad = 1;
			/* Skip the rest of the row. */
			while (p < c->end && *p != '\n')
				p++;
			if (p < c->end)
				p++;
			break;
		}
		fields[n++] = w = p;
		if (p < c->end && *p == '"') {
			p++;
			for (;;) {
				if (p >= c->end) {
					c->bad = 1;	/* unterminated quote */
					done = 1;
					break;
				}
				if (*p == '"') {
					if (p + 1 < c->end && p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				if (*p == '\n')
					c->line++;
				*w++ = *p++;
			}
		}
		/* Unquoted text, or what follows a closing quote. */
		while (!done && p < c->end && *p != ',' && *p != '\n') {
			if (*p == '\r' && (p + 1 == c->end || p[1] == '\n')) {
				p++;
				continue;
			}
			*w++ = *p++;
		}
		if (p >= c->end) {
			if (!done && (n > 1 || w > fields[n - 1]))
				c->bad = 1;	/* no final newline */
			done = 1;
		} else if (*p == '\n') {
			done = 1;
			p++;
		} else if (!done)
			p++;		/* the comma */
		/* The terminator may overwrite the ',' or '\n' consumed. */
		*w = '\0';
	}
	c->p = p;
	return n;
}
