/*
 * table.c: every provider lepton knows, built or not: "not built yet" and
 * "unknown" are different messages.
 */
#include "provider.h"

#include "../lib/catalog.h"
#include "../lib/util.h"

/* SkyPilot's public catalogs, whole files (see catalog/README.md). */
#define UPSTREAM "https://raw.githubusercontent.com/skypilot-org/" \
	"skypilot-catalog/master/catalogs"

const struct lep_provider_entry lep_provider_table[] = {
	{ "local", &provider_local, NULL, 0 },
	{ "containers", &provider_containers, NULL, 0 },
	{ "slurm", &provider_slurm, NULL, 0 },
	{ "kubernetes", &provider_kubernetes, NULL, 0 },
	{ "aws", &provider_aws, UPSTREAM "/v7/aws/vms.csv", 0 },
	/* GCP sells GPUs apart from the hosts that take them. */
	{ "gcp", &provider_gcp, UPSTREAM "/v7/gcp/vms.csv", LEP_CATALOG_PAIR_HOSTS },
	{ "azure", NULL, UPSTREAM "/v6/azure/vms.csv", 0 },
	{ "lepton", NULL, NULL, 0 },
};
const size_t lep_provider_count = LEP_ARRAY_SIZE(lep_provider_table);
