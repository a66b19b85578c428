/*
 * fuzz_dockercfg.c: the docker CLI's files the containers driver reads to
 * find its engine (providers/containers.c): DOCKER_CONFIG/config.json's
 * currentContext, then that context's meta.json (Endpoints.docker.Host).
 * One input is both files. The context's directory is the SHA-256 of its
 * name, through libcrypto (lib/dl.c); without it only config.json is read.
 */
#include "fuzz.h"

#include "../../lib/crypto.h"
#include "../../lib/fs.h"
#include "../../lib/json.h"
#include "../../lib/types.h"
#include "../../providers/containers-priv.h"
#include "../../providers/provider.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("DOCKER_CONFIG", fuzz_dir(), 1);
	unsetenv("DOCKER_HOST");
	unsetenv("DOCKER_CONTEXT");
	return 0;
}

/* The context's meta.json, the same bytes; its directory, or NULL. */
static char *
write_meta(const uint8_t *data, size_t size)
{
	struct lep_json	*j = NULL;
	const char	*name;
	char		 hex[LEP_SHA256_HEX], *dir = NULL, *p;

	if (lep_json_parse(&j, (const char *)data, size, "fuzz") == NULL &&
	    (name = lep_json_get_str(j, "currentContext")) != NULL &&
	    lep_sha256_hex(hex, name, strlen(name)) == NULL) {
		dir = xasprintf("%s/contexts/meta/%s", fuzz_dir(), hex);
		FUZZ_ASSERT(lep_mkdirs(dir, 0700) == NULL);
		p = xasprintf("%s/meta.json", dir);
		fuzz_write(p, data, size);
		free(p);
	}
	lep_json_free(j);
	return dir;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lep_config	 cfg = { .home = fuzz_dir(), .out = NULL };
	struct ctr_state	*cs = NULL;
	char			*p, *meta;

	p = xasprintf("%s/config.json", fuzz_dir());
	fuzz_write(p, data, size);
	free(p);
	meta = write_meta(data, size);
	FUZZ_ASSERT(provider_containers.open((void **)&cs, &cfg) == NULL);
	FUZZ_ASSERT(cs != NULL && cs->sock != NULL && cs->sock_from != NULL);
	if (cs->sock_err == NULL)
		FUZZ_ASSERT(cs->sock[0] == '/');
	provider_containers.close(cs);
	if (meta != NULL) {
		lep_remove_tree(meta);
		free(meta);
	}
	return 0;
}
