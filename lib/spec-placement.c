/*
 * spec-placement.c: the spec's 'placement': which providers, regions and
 * zones may hold it, at what hourly price, in which partition and account.
 */
#include "spec.h"

#include "spec-priv.h"
#include "util.h"
#include "yaml.h"

/* Each of the spec's providers (in list v) is in the provider table. */
static int
check_providers(struct spec_ctx *s, const struct lep_spec *sp,
    const struct lep_yaml_node *v)
{
	const char	*name, *hint;
	size_t		 i;
	int		 rc = 0;

	if (sp->placement.nproviders > 0 && s->providers == NULL)
		rc = spec_fail(s, v, "BUG: no provider table to check "
		    "'providers' against");
	for (i = 0; rc == 0 && i < sp->placement.nproviders; i++) {
		name = sp->placement.providers[i];
		if (spec_one_of(name, s->providers, s->nproviders))
			continue;
		hint = lep_did_you_mean(name, s->providers, s->nproviders);
		rc = spec_fail(s, v->kids[i], "unknown provider '%s'%s%s%s",
		    name, hint ? " (did you mean '" : "", hint ? hint : "",
		    hint ? "'?)" : "");
	}
	return rc;
}

int
spec_parse_placement(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"providers", "regions", "zones", "max_hourly",
		"partition", "account",
	};
	const struct lep_yaml_node	*v;

	if (spec_check_keys(s, m, "'placement'", keys,
	    LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	sp->has_placement = 1;
	if (spec_get_str_list(s, m, "providers", &sp->placement.providers,
	    &sp->placement.nproviders) == -1 ||
	    spec_get_str_list(s, m, "regions", &sp->placement.regions,
	    &sp->placement.nregions) == -1 ||
	    spec_get_str_list(s, m, "zones", &sp->placement.zones,
	    &sp->placement.nzones) == -1 ||
	    spec_get_num(s, m, "max_hourly", &sp->placement.max_hourly,
	    &sp->placement.has_max_hourly, 0, 1e6) == -1 ||
	    spec_get_string(s, m, "partition", &sp->placement.partition,
	    0) == -1 ||
	    spec_get_string(s, m, "account", &sp->placement.account, 0) == -1)
		return -1;
	if ((v = lep_yaml_get(m, "providers")) != NULL) {
		sp->placement.providers_pos.line = v->line;
		sp->placement.providers_pos.col = v->col;
		if (v->n == 0)
			return spec_fail(s, v, "'providers' is empty: leave it "
			    "out to allow every provider");
	}
	return check_providers(s, sp, v);
}
