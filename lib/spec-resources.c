/*
 * spec-resources.c: the spec's 'resources': cpus and memory ("N" or "N+"),
 * spot, and accelerators as one string, a list in order or a set (any).
 */
#include "spec.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spec-priv.h"
#include "util.h"
#include "yaml.h"

/* "A100", "A100:2", "a100-80gb:8". */
static int
parse_accel(struct spec_ctx *s, const struct lep_yaml_node *at,
    const char *text, const struct lep_yaml_node *count_node,
    struct lep_accel *out)
{
	const char	*colon = strchr(text, ':');
	size_t		 namelen, i;
	long long	 count = 1;

	namelen = colon ? (size_t)(colon - text) : strlen(text);
	if (namelen == 0 || namelen > 64)
		return spec_fail(s, at, "accelerator '%s' needs a name, as in "
		    "'A100:1'", text);
	for (i = 0; i < namelen; i++)
		if (!((text[i] >= 'A' && text[i] <= 'Z') ||
		    (text[i] >= 'a' && text[i] <= 'z') ||
		    (text[i] >= '0' && text[i] <= '9') || text[i] == '-' ||
		    text[i] == '_' || text[i] == '.'))
			return spec_fail(s, at, "accelerator name '%.*s' may "
			    "hold letters, digits, '-', '_' and '.' only",
			    (int)namelen, text);
	if (colon != NULL && count_node != NULL)
		return spec_fail(s, at, "give the count of '%.*s' once",
		    (int)namelen, text);
	if (colon != NULL && (lep_parse_ll(&count, colon + 1) == -1 ||
	    !spec_all_digits(colon + 1)))
		return spec_fail(s, at, "accelerator count in '%s' must be a "
		    "whole number, as in 'A100:2'", text);
	if (count_node != NULL) {
		if (spec_want(s, count_node, SPEC_INT, text) == -1)
			return -1;
		if (lep_parse_ll(&count, count_node->val) == -1)
			count = 0;
		at = count_node;
	}
	if (count < 1 || count > 64)
		return spec_fail(s, at, "accelerator count must be from 1 to "
		    "64, not %lld", count);
	out->name = xstrndup(text, namelen);
	out->count = (int)count;
	return 0;
}

static int
add_accel(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *at, const char *text,
    const struct lep_yaml_node *count_node)
{
	struct lep_accel	 a;
	size_t			 i;

	if (parse_accel(s, at, text, count_node, &a) == -1)
		return -1;
	for (i = 0; i < sp->resources.naccels; i++) {
		if (strcasecmp(sp->resources.accels[i].name, a.name) == 0) {
			free(a.name);
			return spec_fail(s, at, "accelerator '%s' listed twice",
			    sp->resources.accels[i].name);
		}
	}
	sp->resources.accels = xreallocarray(sp->resources.accels,
	    sp->resources.naccels + 1, sizeof(a));
	sp->resources.accels[sp->resources.naccels++] = a;
	return 0;
}

static int
parse_accels(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *v)
{
	size_t	 i;

	sp->resources.accel_pos.line = v->line;
	sp->resources.accel_pos.col = v->col;
	switch (spec_typeof(v)) {
	case SPEC_STRING:
		return add_accel(s, sp, v, v->val, NULL);
	case SPEC_SEQ:		/* an ordered preference */
		if (v->n == 0)
			return spec_fail(s, v, "'accelerators' list is empty");
		for (i = 0; i < v->n; i++) {
			if (spec_want(s, v->kids[i], SPEC_STRING,
			    "accelerators") == -1 || add_accel(s, sp,
			    v->kids[i], v->kids[i]->val, NULL) == -1)
				return -1;
		}
		return 0;
	case SPEC_MAP:		/* a set: any of them, cheapest first */
		if (v->n == 0)
			return spec_fail(s, v, "'accelerators' set is empty");
		sp->resources.accel_any = 1;
		for (i = 0; i < v->n; i += 2) {
			const struct lep_yaml_node	*cnt = v->kids[i + 1];

			if (spec_typeof(cnt) == SPEC_NULL)
				cnt = NULL;
			if (add_accel(s, sp, v->kids[i], v->kids[i]->val,
			    cnt) == -1)
				return -1;
		}
		return 0;
	default:
		return spec_fail(s, v, "'accelerators' must be a string such "
		    "as 'A100:1', a list (in order of preference) or a set "
		    "(any), not %s", spec_type_name(spec_typeof(v)));
	}
}

/* cpus: 2 | 0.5 | "2+"; memory likewise, in GiB. */
static int
get_amount(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *key, double *out, int *plus, int *has, double max)
{
	const struct lep_yaml_node	*v = lep_yaml_get(map, key);
	enum spec_type		 k;
	char			*text;
	size_t			 len;
	double			 d;
	int			 rc;

	if (v == NULL)
		return 0;
	k = spec_typeof(v);
	if (k != SPEC_INT && k != SPEC_FLOAT && k != SPEC_STRING)
		return spec_fail(s, v, "'%s' must be a number or 'N+', not %s",
		    key, spec_type_name(k));
	text = xstrdup(v->val);
	len = strlen(text);
	*plus = len > 0 && text[len - 1] == '+';
	if (*plus)
		text[len - 1] = '\0';
	rc = lep_parse_double(&d, text);
	free(text);
	if (rc == -1)
		return spec_fail(s, v, "'%s' must be a number or 'N+' (at "
		    "least N), not '%s'", key, v->val);
	if (d <= 0 || d > max)
		return spec_fail(s, v, "'%s' must be more than 0 and at most "
		    "%g, not %s", key, max, v->val);
	*out = d;
	*has = 1;
	return 0;
}

int
spec_parse_resources(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"accelerators", "cpus", "memory", "spot",
	};
	const struct lep_yaml_node	*v;

	if (spec_check_keys(s, m, "'resources'", keys,
	    LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	sp->has_resources = 1;
	if ((v = lep_yaml_get(m, "accelerators")) != NULL &&
	    parse_accels(s, sp, v) == -1)
		return -1;
	if (get_amount(s, m, "cpus", &sp->resources.cpus,
	    &sp->resources.cpus_plus, &sp->resources.has_cpus, 4096) == -1 ||
	    get_amount(s, m, "memory", &sp->resources.memory,
	    &sp->resources.memory_plus, &sp->resources.has_memory,
	    65536) == -1 ||
	    spec_get_bool(s, m, "spot", &sp->resources.spot) == -1)
		return -1;
	return 0;
}
