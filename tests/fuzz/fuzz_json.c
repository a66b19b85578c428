/*
 * fuzz_json.c: the JSON layer (lib/json.c over cJSON) on any text: what
 * parses prints, prints the same once printed and read again, copies, and
 * answers every accessor lepton's readers use.
 */
#include "fuzz.h"

#include "../../lib/error.h"
#include "../../lib/json.h"

/* Every accessor on every value, as the readers of answers use them. */
static void
walk(const struct lep_json *j, int depth)
{
	const struct lep_json	*k;
	const char		*key;
	long long		 ll;
	size_t			 i, n;

	if (depth > 64)
		return;
	n = lep_json_len(j);
	switch (lep_json_type(j)) {
	case LEP_JSON_OBJECT:
		for (i = 0; i < n; i++) {
			k = lep_json_at(j, i);
			FUZZ_ASSERT(k != NULL);
			key = lep_json_key(k);
			FUZZ_ASSERT(key != NULL);
			/* The first member of that name, maybe not k. */
			FUZZ_ASSERT(lep_json_get(j, key) != NULL);
			(void)lep_json_get_str(j, key);
			(void)lep_json_get_ll(j, key, &ll);
			(void)lep_json_get_bool(j, key, 0);
			walk(k, depth + 1);
		}
		FUZZ_ASSERT(lep_json_at(j, n) == NULL);
		break;
	case LEP_JSON_ARRAY:
		for (i = 0; i < n; i++)
			walk(lep_json_at(j, i), depth + 1);
		FUZZ_ASSERT(lep_json_at(j, n) == NULL);
		break;
	case LEP_JSON_STRING:
		FUZZ_ASSERT(lep_json_string(j) != NULL);
		break;
	case LEP_JSON_NUMBER:
		(void)lep_json_number(j);
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lep_json		*j = NULL, *again = NULL, *dup;
	const struct lep_err	*err;
	char			*compact, *pretty, *compact2;

	err = lep_json_parse(&j, (const char *)data, size, "fuzz");
	if (err != NULL) {
		FUZZ_ASSERT(j == NULL);
		FUZZ_ASSERT(strncmp(err->msg, "fuzz: line ", 11) == 0);
		return 0;
	}
	walk(j, 0);
	compact = lep_json_print(j, 0);
	pretty = lep_json_print(j, 1);
	FUZZ_ASSERT(compact != NULL && pretty != NULL);
	FUZZ_ASSERT(strchr(pretty, '\t') == NULL);
	/* Printed once, a document prints the same ever after. */
	err = lep_json_parse(&again, compact, strlen(compact), "printed");
	if (err != NULL) {
		fprintf(stderr, "printed JSON does not parse: %s\n%s\n",
		    err->msg, compact);
		abort();
	}
	compact2 = lep_json_print(again, 0);
	err = lep_json_parse(&dup, pretty, strlen(pretty), "pretty");
	FUZZ_ASSERT(err == NULL);
	lep_json_free(dup);
	dup = lep_json_dup(again);
	free(pretty);
	pretty = lep_json_print(dup, 0);
	if (strcmp(compact2, pretty) != 0 ||
	    strcmp(compact2, compact) != 0) {
		fprintf(stderr, "printed twice, not the same:\n%s\n%s\n%s\n",
		    compact, compact2, pretty);
		abort();
	}
	lep_json_free_wiped(dup);
	lep_json_free(again);
	lep_json_free(j);
	free(compact);
	free(compact2);
	free(pretty);
	return 0;
}
