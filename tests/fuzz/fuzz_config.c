/*
 * fuzz_config.c: HOME/config.json, the file that holds what a provider
 * needs to reach its engine (the Slurm section: url, user, token_file,
 * shared_dir, timeouts) and the rates plans price with: read by
 * lib/config.c, then by the Slurm driver's set-up and its declared
 * offers, which need no server.
 */
#include "fuzz.h"

#include "../../lib/catalog.h"
#include "../../lib/config.h"
#include "../../lib/error.h"
#include "../../lib/json.h"
#include "../../providers/slurm-priv.h"

static const char *const providers[] = { "local", "slurm", "containers" };
static const char *const gpus[] = { "A100", "a100-80gb", "H100", "gpu",
    "*", "" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The token from the environment: token_file is never opened. */
	setenv("SLURM_JWT", "fuzz.not.used", 1);
	unsetenv("SLURMRESTD_URL");
	unsetenv("SLURMRESTD_USER");
	return 0;
}

static void
rates(const struct lep_config_file *cf)
{
	int64_t		 v;
	size_t		 i, k;

	for (i = 0; i < LEP_ARRAY_SIZE(providers); i++) {
		(void)lep_config_rate(&v, cf, providers[i]);
		for (k = 0; k < LEP_ARRAY_SIZE(gpus); k++)
			(void)lep_config_gpu_rate(&v, cf, providers[i],
			    gpus[k]);
		(void)lep_config_get(cf, providers[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct lep_err	*err;
	struct lep_config_file	 cf;
	struct slurm_state	*s = NULL;
	struct lep_catalog	*cat = NULL;
	const char		*home = fuzz_dir();
	char			*path;

	path = xasprintf("%s/config.json", home);
	fuzz_write(path, data, size);
	free(path);
	err = lep_config_load(&cf, home);
	if (err != NULL) {
		FUZZ_ASSERT(err->code == LEP_E_FAILED);
		FUZZ_ASSERT(cf.root == NULL && cf.path == NULL);
		return 0;
	}
	FUZZ_ASSERT(lep_json_type(cf.root) == LEP_JSON_OBJECT);
	rates(&cf);
	lep_config_release(&cf);

	if (slurm_state_new(&s, home, NULL) != NULL) {
		FUZZ_ASSERT(s == NULL);
		return 0;
	}
	FUZZ_ASSERT(s->user != NULL && s->dir != NULL && s->token != NULL);
	FUZZ_ASSERT(s->timeout_ms > 0);
	/* No server: what config.json declares. */
	free(s->url);
	s->url = NULL;
	if (slurm_offers(&cat, s) == NULL && cat != NULL) {
		FUZZ_ASSERT(cat->n >= 1);
		lep_catalog_free(cat);
	}
	slurm_state_free(s);
	return 0;
}
