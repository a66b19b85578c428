/*
 * gen_versions.c: make a state repository with N model versions and N
 * deployment revisions of "bench", through the library, for timing
 * `lepton models show` and `lepton history` at scale: the manifests go in
 * commits of 100 (each version tagged), then N commits each change the
 * deployment's record. usage: gen_versions HOME N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/error.h"
#include "../../lib/state.h"
#include "../../lib/util.h"

#define BATCH	100

static char *
manifest(long i)
{
	char	 parent[32];

	if (i > 1)
		snprintf(parent, sizeof(parent), "\"v%ld\"", i - 1);
	else
		lep_strlcpy(parent, "null", sizeof(parent));
	return xasprintf("{\"name\": \"bench\", \"version\": \"v%ld\", "
	    "\"digest\": \"%064ld\", \"created\": \"2026-11-27T00:00:00Z\", "
	    "\"size\": %ld, \"files\": [], \"source\": null, \"metrics\": "
	    "{\"accuracy\": 0.9}, \"parent\": %s}\n", i, i, i, parent);
}

int
main(int argc, char **argv)
{
	const struct lep_err	*err = NULL;
	struct lep_state	*st;
	struct lep_change	 ch[BATCH];
	char			 oid[LEP_OID_HEX], *msg, *tag;
	long			 n, i, k, b;

	if (argc != 3 || (n = strtol(argv[2], NULL, 10)) < 1) {
		fprintf(stderr, "usage: gen_versions HOME N\n");
		return 2;
	}
	lep_state_set_fsync(0);		/* test data: speed over safety */
	if ((err = lep_state_open(&st, argv[1], 1)) != NULL) {
		fprintf(stderr, "%s\n", err->msg);
		return 1;
	}
	for (i = 1; i <= n && err == NULL; i += b) {
		b = n - i + 1 < BATCH ? n - i + 1 : BATCH;
		for (k = 0; k < b; k++) {
			ch[k].path = xasprintf("models/bench/v%ld.json", i + k);
			ch[k].data = manifest(i + k);
			ch[k].len = strlen(ch[k].data);
		}
		if ((err = lep_state_commit(oid, st, ch, (size_t)b,
		    "register bench\n")) == NULL)
			for (k = 0; k < b && err == NULL; k++) {
				tag = xasprintf("refs/tags/models/bench/v%ld",
				    i + k);
				err = lep_state_ref_set(st, tag, oid, "gen", 1);
				free(tag);
			}
		for (k = 0; k < b; k++) {
			free((char *)ch[k].path);
			free((char *)ch[k].data);
		}
	}
	for (i = 1; i <= n && err == NULL; i++) {
		ch[0].path = "deployments/bench.json";
		ch[0].data = msg = xasprintf("{\"name\": \"bench\", "
		    "\"provider\": \"local\", \"model\": {\"name\": \"bench\", "
		    "\"version\": \"v%ld\"}}\n", i);
		ch[0].len = strlen(msg);
		tag = xasprintf("deploy bench v%ld on local\n\nLepton-Command: "
		    "deploy\nLepton-Deployment: bench\nLepton-Provider: local\n"
		    "Lepton-Model: bench@v%ld\nLepton-Spec-Sha256: %064ld\n"
		    "Lepton-Outcome: ready\n", i, i, i);
		err = lep_state_commit(NULL, st, ch, 1, tag);
		free(tag);
		free(msg);
	}
	lep_state_close(st);
	if (err != NULL) {
		fprintf(stderr, "%s\n", err->msg);
		return 1;
	}
	return 0;
}
