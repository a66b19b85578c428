/*
 * trailer.c: format and parse the trailers of state commit messages, so
 * that deploys, stops, rollbacks and trains agree on their bytes.
 */
#include "trailer.h"

#include <string.h>

#include "util.h"

void
lep_trailer_format(struct lep_buf *b, const char *subject,
    const struct lep_trailer *kv, size_t n)
{
	size_t	 i;

	lep_buf_addf(b, "%s\n\n", subject);
	for (i = 0; i < n; i++)
		if (kv[i].value != NULL)
			lep_buf_addf(b, "%s: %s\n", kv[i].key, kv[i].value);
}

char *
lep_trailer_get(const char *msg, const char *key)
{
	const char	*p = msg;
	size_t		 klen = strlen(key);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':' &&
		    p[klen + 1] == ' ')
			return xstrndup(p + klen + 2, strcspn(p + klen + 2,
			    "\n"));
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return NULL;
}

size_t
lep_trailer_get_all(char ***out, const char *msg, const char *key)
{
	const char	*p = msg;
	size_t		 klen = strlen(key), n = 0;

	*out = NULL;
	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':' &&
		    p[klen + 1] == ' ') {
			*out = xreallocarray(*out, n + 1, sizeof(**out));
			(*out)[n++] = xstrndup(p + klen + 2,
			    strcspn(p + klen + 2, "\n"));
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return n;
}
