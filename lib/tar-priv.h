/*
 * tar-priv.h: tar.c's .dockerignore reader, apart from the file it comes
 * from, so that it can be tested (and fuzzed) on text alone.
 */
#ifndef LEPTON_LIB_TAR_PRIV_H
#define LEPTON_LIB_TAR_PRIV_H

#include <stddef.h>

/* The patterns of one .dockerignore. */
struct lep_tar_ignore {
	char	***segs;	/* each pattern split at '/', NULL-ended */
	int	  *neg;		/* the pattern began with '!' */
	size_t	   n;
	int	   any_neg;
};

/*
 * The patterns of text (NUL-terminated; changed in place) into ign: one
 * a line, '#' a comment, blank lines and edge blanks dropped. Release
 * with lep_tar_ignore_release.
 */
void	 lep_tar_ignore_parse(struct lep_tar_ignore *ign, char *text);
void	 lep_tar_ignore_release(struct lep_tar_ignore *);

/*
 * Whether rel (a path relative to the context) is excluded: a pattern
 * matches it or a directory above it, and the last pattern that matches
 * wins.
 */
int	 lep_tar_ignored(const struct lep_tar_ignore *, const char *rel);

#endif
