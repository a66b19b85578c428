/*
 * spec-env.c: the spec's 'env' (names and text values for the run) and
 * 'secrets' (names whose values come from the deployer's environment).
 */
#include "spec.h"

#include <string.h>

#include "spec-priv.h"
#include "util.h"
#include "yaml.h"

static int
parse_env(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	const struct lep_yaml_node	*k, *v;
	enum spec_type		 kind;
	size_t			 i;

	sp->env = xcalloc(m->n / 2 + 1, sizeof(*sp->env));
	for (i = 0; i < m->n; i += 2) {
		k = m->kids[i];
		v = m->kids[i + 1];
		if (!lep_valid_env_name(k->val))
			return spec_fail(s, k, "'%s' is not a valid "
			    "environment variable name", k->val);
		if (lep_starts_with(k->val, "LEPTON_"))
			return spec_fail(s, k, "'%s': names starting with "
			    "LEPTON_ are set by lepton", k->val);
		kind = spec_typeof(v);
		/* Numbers and booleans are fine here: env values are text. */
		if (kind == SPEC_MAP || kind == SPEC_SEQ || kind == SPEC_NULL)
			return spec_fail(s, v, "value of '%s' must be text, "
			    "not %s", k->val, spec_type_name(kind));
		sp->env[sp->nenv].key = xstrdup(k->val);
		sp->env[sp->nenv].value = xstrdup(v->val);
		sp->nenv++;
	}
	return 0;
}

static int
parse_secrets(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *top)
{
	const struct lep_yaml_node	*v = lep_yaml_get(top, "secrets");
	size_t			 i, j;

	if (spec_get_str_list(s, top, "secrets", &sp->secrets,
	    &sp->nsecrets) == -1)
		return -1;
	for (i = 0; i < sp->nsecrets; i++) {
		if (!lep_valid_env_name(sp->secrets[i]) ||
		    lep_starts_with(sp->secrets[i], "LEPTON_"))
			return spec_fail(s, v->kids[i], "secret '%s' must be "
			    "the name of an environment variable (not "
			    "LEPTON_*)", sp->secrets[i]);
		for (j = 0; j < sp->nenv; j++)
			if (strcmp(sp->env[j].key, sp->secrets[i]) == 0)
				return spec_fail(s, v->kids[i], "'%s' is both "
				    "in 'env' and in 'secrets'",
				    sp->secrets[i]);
	}
	return 0;
}

int
spec_parse_env(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m, const struct lep_yaml_node *top)
{
	int	 rc = 0;

	if (m != NULL)
		rc = parse_env(s, sp, m);
	if (rc == 0)
		rc = parse_secrets(s, sp, top);
	return rc;
}
