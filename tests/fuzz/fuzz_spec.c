/*
 * fuzz_spec.c: the spec loader (lib/spec*.c over lib/yaml.c) on any text.
 * What it accepts must survive lepton's own round trip: the normalised
 * JSON (what lepton saves and reloads) is a spec that normalises the same.
 */
#include "fuzz.h"

#include "../../lib/error.h"
#include "../../lib/json.h"
#include "../../lib/provider.h"
#include "../../lib/spec.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	lep_provider_init();	/* the names placement.providers may hold */
	return 0;
}

/* Normalised JSON of a spec; caller frees. */
static char *
normal_text(const struct lep_spec *sp)
{
	struct lep_json	*j = lep_spec_to_json(sp);
	char		*s = lep_json_print(j, 1);

	lep_json_free(j);
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct lep_err	*err;
	struct lep_spec		*sp = NULL, *again = NULL;
	char			*text, *text2;

	err = lep_spec_parse(&sp, "fuzz.yaml", "/fuzz", (const char *)data,
	    size);
	if (err != NULL) {
		FUZZ_ASSERT(sp == NULL);
		FUZZ_ASSERT(err->code == LEP_E_SPEC);
		FUZZ_ASSERT(strncmp(err->msg, "fuzz.yaml:", 10) == 0);
		return 0;
	}
	FUZZ_ASSERT(sp != NULL);
	text = normal_text(sp);
	/* As lep_spec_load_saved reads a saved spec back. */
	err = lep_spec_parse(&again, "fuzz.yaml", "/fuzz", text, strlen(text));
	if (err != NULL) {
		fprintf(stderr, "normalised spec refused: %s\n%s\n", err->msg,
		    text);
		abort();
	}
	text2 = normal_text(again);
	if (strcmp(text, text2) != 0) {
		fprintf(stderr, "normalised twice, not the same:\n%s\n%s\n",
		    text, text2);
		abort();
	}
	free(text);
	free(text2);
	lep_spec_free(again);
	lep_spec_free(sp);
	return 0;
}
