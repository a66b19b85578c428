/*
 * tar.h: a directory as a tar stream (POSIX ustar, with pax headers for
 * long names), in memory: the build context that the Docker Engine API's
 * /build takes.
 */
#ifndef LEPTON_LIB_TAR_H
#define LEPTON_LIB_TAR_H

#include <stddef.h>

struct lep_buf;
struct lep_err;

/* A build context's ceiling, in bytes. */
#define LEP_TAR_MAX	(1024u * 1024 * 1024)

/*
 * Every regular file, directory and symbolic link under dir, in name
 * order, owned by 0:0, into out (at most max bytes). Paths that
 * dir/.dockerignore excludes are left out, as the docker CLI does: one
 * pattern a line, '#' a comment; '*' and '?' within one path segment,
 * "**" any number of segments; a pattern that matches a directory takes
 * its tree; '!' takes back; the last pattern that matches wins. The
 * relative paths in keep (NULL-ended, or NULL) are sent whatever it
 * says (the Dockerfile, .dockerignore). Errors: NOT_FOUND (no dir),
 * FAILED (unreadable, over max, or a socket, FIFO or device in the
 * tree: named).
 */
const struct lep_err *lep_tar_dir(struct lep_buf *out, const char *dir,
	    size_t max, const char *const *keep);

/*
 * Unpack a tar stream (len bytes; ustar, with pax 'path' records) under
 * dir, which is made: regular files and directories only, names that
 * climb out of dir (absolute, "..") refused; links and devices are left
 * out. Errors: FAILED (a malformed or hostile archive, a write).
 */
const struct lep_err *lep_tar_extract(const char *dir, const void *tar,
	    size_t len);

#endif
