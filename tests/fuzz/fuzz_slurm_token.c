/*
 * fuzz_slurm_token.c: the Slurm token file (config slurm.token_file) as
 * lepton reads it: through lib/creds.c's file source (a 0600 file, the
 * way 'scontrol token' output is kept), slurm_parse_token, then the
 * JWT's claims checked before any server is asked (slurm_token_check:
 * base64url, JSON, expiry, user).
 */
#include "fuzz.h"

#include "../../lib/creds.h"
#include "../../lib/error.h"
#include "../../providers/slurm-priv.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct lep_err	*err;
	struct lep_cred		 c;
	char			*path, *direct;
	struct lep_cred_source	 src[] = {
		{ "SLURM_JWT", LEP_CRED_ENV, "LEPTON_FUZZ_NO_SUCH_VAR", NULL },
		{ "config token_file", LEP_CRED_FILE, NULL,
		    slurm_parse_token },
	};

	if (size > LEP_CREDS_FILE_MAX)
		return 0;
	path = xasprintf("%s/token", fuzz_dir());
	fuzz_write(path, data, size);
	src[1].where = path;
	err = lep_creds_resolve(&c, src, LEP_ARRAY_SIZE(src));
	FUZZ_ASSERT(err == NULL && c.value != NULL);
	FUZZ_ASSERT(strcmp(c.source, "config token_file") == 0);
	direct = slurm_parse_token((const char *)data, size);
	FUZZ_ASSERT(strcmp(direct, c.value) == 0);
	err = slurm_token_check(c.value, "alice");
	FUZZ_ASSERT(err == NULL || err->code == LEP_E_AUTH);
	err = slurm_token_check(c.value, "root");
	FUZZ_ASSERT(err == NULL || err->code == LEP_E_AUTH);
	lep_wipe(direct, strlen(direct));
	free(direct);
	lep_cred_release(&c);
	free(path);
	return 0;
}
