/*
 * kubernetes.c: the Kubernetes provider, so far only its kubeconfig:
 * `lepton check kubernetes` and no capabilities, so that every spec
 * placed here is refused (unsupported) before anything is asked of the
 * cluster. The kubeconfig and credentials are lib/kube's.
 *
 * Config section "kubernetes" of HOME/config.json: context (instead of
 * current-context), namespace (instead of the context's).
 */
#include "provider.h"

#include <stdlib.h>

#include "../lib/config.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/kube.h"
#include "../lib/util.h"

struct kube_state {
	char	*home;
	char	*context;
	char	*namespace;
};

static char *
cfg_str(const struct lep_json *c, const char *key)
{
	const char	*v = lep_json_get_str(c, key);

	return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

static const struct lep_err *
kube_open(void **state_out, const struct lep_config *cfg)
{
	struct kube_state	*s;
	struct lep_config_file	 cf;
	const struct lep_json	*c;
	const struct lep_err	*err;

	*state_out = NULL;
	if ((err = lep_config_load(&cf, cfg->home)) != NULL)
		return err;
	c = lep_config_get(&cf, provider_kubernetes.name);
	s = xcalloc(1, sizeof(*s));
	s->home = xstrdup(cfg->home);
	s->context = cfg_str(c, "context");
	s->namespace = cfg_str(c, "namespace");
	lep_config_release(&cf);
	*state_out = s;
	return NULL;
}

static void
kube_close(void *state)
{
	struct kube_state	*s = state;

	if (s == NULL)
		return;
	free(s->home);
	free(s->context);
	free(s->namespace);
	free(s);
}

static const struct lep_err *
kube_check(void *state, const struct lep_spec *sp)
{
	(void)state;
	(void)sp;
	return NULL;
}

static const struct lep_err *
kube_probe(struct lep_json **report, void *state)
{
	struct kube_state	*s = state;
	struct lep_kube_opts	 o = {
		.home = s->home,
		.context = s->context,
		.namespace = s->namespace,
	};

	return lep_kube_probe(report, &o);
}

const struct lep_provider_ops provider_kubernetes = {
	.name = "kubernetes",
	.abi = LEP_PROVIDER_ABI,
	/* The kubeconfig only, so far: Deployments and Jobs come later. */
	.caps = 0,
	.open = kube_open,
	.close = kube_close,
	.check = kube_check,
	.probe = kube_probe,
};
