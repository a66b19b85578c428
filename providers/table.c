/*
 * table.c: every provider lepton knows, built or not: "not built yet" and
 * "unknown" are different messages.
 */
#include "provider.h"

#include "../lib/util.h"

const struct lep_provider_entry lep_provider_table[] = {
	{ "local", &provider_local },
	{ "slurm", &provider_slurm },
	{ "kubernetes", NULL },
	{ "aws", NULL },
	{ "gcp", NULL },
	{ "azure", NULL },
	{ "lepton", NULL },
};
const size_t lep_provider_count = LEP_ARRAY_SIZE(lep_provider_table);
