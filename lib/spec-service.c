/*
 * spec-service.c: the spec's 'service': port, path, readiness, replicas,
 * rollout (replace or canary), protocol and max_cost.
 */
#include "spec.h"

#include <stdlib.h>
#include <string.h>

#include "spec-priv.h"
#include "util.h"
#include "yaml.h"

/*
 * The end of reading string p (NULL: not given) and checking it: when
 * rc is 0, p replaces *out (a default); else p is dropped. Returns rc.
 */
static int
keep(int rc, char *p, char **out)
{
	if (rc == 0 && p != NULL) {
		free(*out);
		*out = p;
	} else
		free(p);
	return rc;
}

static int
parse_replicas(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *svc)
{
	static const char *const keys[] = { "min", "max", "target_qps" };
	const struct lep_yaml_node	*v = lep_yaml_get(svc, "replicas");

	if (v == NULL)
		return 0;
	if (spec_typeof(v) == SPEC_INT) {
		if (spec_get_int(s, svc, "replicas", &sp->service.replicas_min,
		    1, LEP_SPEC_MAX_REPLICAS) == -1)
			return -1;
		sp->service.replicas_max = sp->service.replicas_min;
		return 0;
	}
	if (spec_typeof(v) != SPEC_MAP)
		return spec_fail(s, v, "'replicas' must be a whole number or "
		    "a mapping with 'min' and 'max', not %s",
		    spec_type_name(spec_typeof(v)));
	if (spec_check_keys(s, v, "'replicas'", keys,
	    LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	sp->service.replicas_max = -1;
	if (spec_get_int(s, v, "min", &sp->service.replicas_min, 1,
	    LEP_SPEC_MAX_REPLICAS) == -1 ||
	    spec_get_int(s, v, "max", &sp->service.replicas_max, 1,
	    LEP_SPEC_MAX_REPLICAS) == -1 ||
	    spec_get_num(s, v, "target_qps", &sp->service.target_qps,
	    &sp->service.has_target_qps, 0.001, 1e9) == -1)
		return -1;
	if (sp->service.replicas_max == -1)
		sp->service.replicas_max = sp->service.replicas_min;
	if (sp->service.replicas_max < sp->service.replicas_min)
		return spec_fail(s, lep_yaml_get(v, "max"), "'max' (%d) is "
		    "less than 'min' (%d)", sp->service.replicas_max,
		    sp->service.replicas_min);
	return 0;
}

static int
parse_rollout(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"strategy", "percent", "bake", "abort_if",
	};
	static const char *const strategies[] = { "replace", "canary" };
	static const char *const abort_keys[] = { "error_rate", "p99_ms" };
	const struct lep_yaml_node	*ab;
	char			*p = NULL;
	int			 rc;

	if (spec_check_keys(s, m, "'rollout'", keys,
	    LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	rc = spec_get_string(s, m, "strategy", &p, 0);
	if (rc == 0 && p != NULL &&
	    !spec_one_of(p, strategies, LEP_ARRAY_SIZE(strategies)))
		rc = spec_fail(s, lep_yaml_get(m, "strategy"), "'strategy' "
		    "must be 'replace' or 'canary', not '%s'", p);
	if (keep(rc, p, &sp->service.strategy) == -1 ||
	    spec_get_int(s, m, "percent", &sp->service.canary_percent, 1,
	    99) == -1 ||
	    spec_get_duration(s, m, "bake", &sp->service.bake, 0,
	    86400) == -1 ||
	    spec_get(s, m, "abort_if", SPEC_MAP, &ab) == -1)
		return -1;
	if (lep_yaml_get(m, "percent") != NULL &&
	    strcmp(sp->service.strategy, "canary") != 0)
		return spec_fail(s, lep_yaml_get(m, "percent"), "'percent' is "
		    "for strategy 'canary' only");
	if (ab != NULL && (spec_check_keys(s, ab, "'abort_if'", abort_keys,
	    LEP_ARRAY_SIZE(abort_keys)) == -1 ||
	    spec_get_num(s, ab, "error_rate", &sp->service.abort_error_rate,
	    &sp->service.has_abort_error_rate, 0, 1) == -1 ||
	    spec_get_num(s, ab, "p99_ms", &sp->service.abort_p99_ms,
	    &sp->service.has_abort_p99, 0.001, 3.6e6) == -1))
		return -1;
	return 0;
}

/* 'auto' (0: lepton picks) or a TCP port. */
static int
parse_port(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	const struct lep_yaml_node	*v = lep_yaml_get(m, "port");
	int			 rc = 0;

	if (v != NULL && spec_typeof(v) == SPEC_STRING &&
	    strcmp(v->val, "auto") == 0)
		sp->service.port = 0;
	else if (v != NULL && spec_typeof(v) != SPEC_INT)
		rc = spec_fail(s, v, "'port' must be 'auto' or a number from 1 "
		    "to 65535, not %s", spec_type_name(spec_typeof(v)));
	else
		rc = spec_get_int(s, m, "port", &sp->service.port, 1, 65535);
	return rc;
}

/* An HTTP path, named what in messages; replaces *out when given. */
static int
get_path(struct spec_ctx *s, const struct lep_yaml_node *map, const char *key,
    const char *what, char **out)
{
	char	*p = NULL;
	int	 rc;

	rc = spec_get_string(s, map, key, &p, 0);
	if (rc == 0 && p != NULL && p[0] != '/')
		rc = spec_fail(s, lep_yaml_get(map, key), "%s must start "
		    "with '/'", what);
	return keep(rc, p, out);
}

static int
parse_readiness(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = { "path", "timeout" };

	if (spec_check_keys(s, m, "'readiness'", keys,
	    LEP_ARRAY_SIZE(keys)) == -1 ||
	    get_path(s, m, "path", "readiness 'path'",
	    &sp->service.ready_path) == -1 ||
	    spec_get_duration(s, m, "timeout", &sp->service.ready_timeout, 1,
	    3600) == -1)
		return -1;
	return 0;
}

static int
parse_protocol(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const protocols[] = {
		"json", "kserve-v2", "openai",
	};
	char	*p = NULL;
	int	 rc;

	rc = spec_get_string(s, m, "protocol", &p, 0);
	if (rc == 0 && p != NULL &&
	    !spec_one_of(p, protocols, LEP_ARRAY_SIZE(protocols)))
		rc = spec_fail(s, lep_yaml_get(m, "protocol"), "'protocol' "
		    "must be 'json', 'kserve-v2' or 'openai'");
	return keep(rc, p, &sp->service.protocol);
}

int
spec_parse_service(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"port", "path", "readiness", "replicas", "rollout", "protocol",
		"max_cost",
	};
	const struct lep_yaml_node	*rd, *ro;

	if (spec_check_keys(s, m, "'service'", keys,
	    LEP_ARRAY_SIZE(keys)) == -1 ||
	    parse_port(s, sp, m) == -1 ||
	    get_path(s, m, "path", "'path'", &sp->service.path) == -1 ||
	    spec_get(s, m, "readiness", SPEC_MAP, &rd) == -1 ||
	    (rd != NULL && parse_readiness(s, sp, rd) == -1) ||
	    spec_get_num(s, m, "max_cost", &sp->service.max_cost,
	    &sp->service.has_max_cost, 0, 1e9) == -1 ||
	    parse_replicas(s, sp, m) == -1 ||
	    spec_get(s, m, "rollout", SPEC_MAP, &ro) == -1 ||
	    (ro != NULL && parse_rollout(s, sp, ro) == -1) ||
	    parse_protocol(s, sp, m) == -1)
		return -1;
	return 0;
}
