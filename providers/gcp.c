/*
 * gcp.c: the Google Cloud provider, so far only its credentials: `lepton
 * check gcp` and no capabilities, so that every spec placed here is
 * refused (unsupported) before anything is asked of Google. Credentials
 * and tokens are lib/gcp's.
 *
 * Config section "gcp" of HOME/config.json: project, region, ca_file (a
 * CA bundle for an https token server of one's own).
 */
#include "provider.h"

#include <stdlib.h>

#include "../lib/config.h"
#include "../lib/error.h"
#include "../lib/gcp.h"
#include "../lib/json.h"
#include "../lib/util.h"

struct gcp_state {
	char	*home;
	char	*project;
	char	*region;
	char	*ca_file;
};

static char *
cfg_str(const struct lep_json *c, const char *key)
{
	const char	*v = lep_json_get_str(c, key);

	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

static const struct lep_err *
gcp_open(void **state_out, const struct lep_config *cfg)
{
	struct gcp_state	*s;
	struct lep_config_file	 cf;
	const struct lep_json	*c;
	const struct lep_err	*err;

	*state_out = NULL;
	if ((err = lep_config_load(&cf, cfg->home)) != NULL)
		return err;
	c = lep_config_get(&cf, provider_gcp.name);
	s = xcalloc(1, sizeof(*s));
	s->home = xstrdup(cfg->home);
	s->project = cfg_str(c, "project");
	s->region = cfg_str(c, "region");
	s->ca_file = cfg_str(c, "ca_file");
	lep_config_release(&cf);
	*state_out = s;
	return NULL;
}

static void
gcp_close(void *state)
{
	struct gcp_state	*s = state;

	if (s == NULL)
		return;
	free(s->home);
	free(s->project);
	free(s->region);
	free(s->ca_file);
	free(s);
}

static const struct lep_err *
gcp_check(void *state, const struct lep_spec *sp)
{
	(void)state;
	(void)sp;
	return NULL;
}

static const struct lep_err *
gcp_probe(struct lep_json **report, void *state)
{
	struct gcp_state	*s = state;
	struct lep_gcp_opts	 o = {
		.home = s->home,
		.project = s->project,
		.region = s->region,
		.ca_file = s->ca_file,
	};

	return lep_gcp_probe(report, &o);
}

const struct lep_provider_ops provider_gcp = {
	.name = "gcp",
	.abi = LEP_PROVIDER_ABI,
	/* Credentials only, so far: Vertex AI deploy and train come later. */
	.caps = 0,
	.open = gcp_open,
	.close = gcp_close,
	.check = gcp_check,
	.probe = gcp_probe,
};
