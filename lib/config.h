/*
 * config.h: the user's settings in HOME/config.json (optional): what an
 * hour of each provider's own hardware costs, so plans can compare "our
 * hardware" with the clouds (absent values are 0), and a section per
 * provider that its driver reads (lepton(1) FILES shows them):
 *
 *   {"rates": {PROVIDER: {"hourly": "0.10", "gpu": {"A100": "1.20",
 *                                                   "*": "1.00"}}},
 *    PROVIDER: {...}}
 */
#ifndef LEPTON_LIB_CONFIG_H
#define LEPTON_LIB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct lep_err;
struct lep_json;

struct lep_config_file {
	struct lep_json	*root;		/* owned; an empty object if none */
	char		*path;
};

/* Errors: FAILED (unreadable or not JSON: "FILE: line L col C"). */
const struct lep_err *lep_config_load(struct lep_config_file *,
	    const char *home);
void	 lep_config_release(struct lep_config_file *);

/* Micro-USD per hour for the provider, plus per GPU of that name. */
const struct lep_err *lep_config_rate(int64_t *hourly_out,
	    const struct lep_config_file *, const char *provider);
const struct lep_err *lep_config_gpu_rate(int64_t *out,
	    const struct lep_config_file *, const char *provider,
	    const char *gpu);
/* A provider's section of the file, borrowed; NULL when absent. */
const struct lep_json *lep_config_get(const struct lep_config_file *,
	    const char *key);

#endif
