/*
 * fuzz.h: what the libFuzzer harnesses share: the entry points, a copy of
 * the input as a C string, and a private scratch directory.
 */
#ifndef LEPTON_TESTS_FUZZ_FUZZ_H
#define LEPTON_TESTS_FUZZ_FUZZ_H

#include <sys/stat.h>

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/util.h"

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A check that failed is a finding: say what, then crash for libFuzzer. */
#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: fuzz check failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

/* The input NUL-terminated (it may hold NUL bytes too); free it. */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char	*s = xmalloc(size + 1);

	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * A fresh directory under TMPDIR (tests/fuzz/run.sh points it into the
 * build directory), made once per process; its path is kept for good.
 */
static inline const char *
fuzz_dir(void)
{
	static char	*dir;
	const char	*tmp = getenv("TMPDIR");

	if (dir == NULL) {
		dir = xasprintf("%s/lepton-fuzz-XXXXXX", tmp && *tmp ? tmp :
		    "/tmp");
		if (mkdtemp(dir) == NULL) {
			perror(dir);
			abort();
		}
	}
	return dir;
}

/* Write size bytes to path (mode 0600), replacing it; abort on failure. */
static inline void
fuzz_write(const char *path, const void *data, size_t size)
{
	const char	*p = data;
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		perror(path);
		abort();
	}
	while (size > 0) {
		if ((n = write(fd, p, size)) <= 0) {
			perror(path);
			abort();
		}
		p += n;
		size -= (size_t)n;
	}
	close(fd);
}

#endif
