/*
 * fuzz_dockerignore.c: the .dockerignore reader and matcher that decide
 * what a build context sends (lib/tar.c). The input is the file, then
 * optionally a NUL byte and the paths to ask about, one a line; without
 * them, a fixed set of paths is asked about.
 */
#include "fuzz.h"

#include "../../lib/tar-priv.h"

static const char *const fixed[] = {
	"Dockerfile", ".dockerignore", "serve.py", "model/weights.bin",
	"a/b/c/d/e/f/g/h", "node_modules/x/y.js", ".git/HEAD", "logs/1.log",
	"src/main.c", "x",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lep_tar_ignore	 ign;
	const uint8_t		*nul;
	char			*text, *paths = NULL, *line, *next;
	size_t			 i;

	nul = memchr(data, '\0', size);
	text = fuzz_str(data, nul ? (size_t)(nul - data) : size);
	if (nul != NULL)
		paths = fuzz_str(nul + 1, size - (size_t)(nul - data) - 1);
	lep_tar_ignore_parse(&ign, text);
	FUZZ_ASSERT(ign.n == 0 || (ign.segs != NULL && ign.neg != NULL));
	for (i = 0; i < ign.n; i++)
		FUZZ_ASSERT(ign.neg[i] == 0 || ign.neg[i] == 1);
	if (paths == NULL)
		for (i = 0; i < LEP_ARRAY_SIZE(fixed); i++)
			(void)lep_tar_ignored(&ign, fixed[i]);
	else
		for (line = paths; line != NULL; line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			(void)lep_tar_ignored(&ign, line);
		}
	lep_tar_ignore_release(&ign);
	free(text);
	free(paths);
	return 0;
}
