/*
 * spec.c: load a spec file, read it as YAML (yaml.c) and check the tree
 * against the schema of lepton-spec(5), with FILE:LINE:COL in every error.
 */
#include "spec.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "json.h"
#include "util.h"
#include "yaml.h"

/* The provider table's names (lep_spec_set_providers), borrowed. */
static const char *const	*known_providers;
static size_t			 nknown_providers;

void
lep_spec_set_providers(const char *const *names, size_t n)
{
	known_providers = names;
	nknown_providers = n;
}

/* --- the schema ---------------------------------------------------- */

enum skind {
	S_NULL,
	S_BOOL,
	S_INT,
	S_FLOAT,
	S_STRING,
	S_MAP,
	S_SEQ,
};

struct sctx {
	const char		*file;
	const struct lep_err	*err;
};

static int
sfail(struct sctx *s, const struct lep_yaml_node *n, const char *fmt, ...)
    LEP_PRINTF(3, 4);

static int
sfail(struct sctx *s, const struct lep_yaml_node *n, const char *fmt, ...)
{
	char	 msg[768];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->err == NULL)
		s->err = lep_err_new(LEP_E_SPEC, "%s:%d:%d: %s", s->file,
		    n->line, n->col, msg);
	return -1;
}

static int
all_digits(const char *p)
{
	if (*p == '\0')
		return 0;
	return strspn(p, "0123456789") == strlen(p);
}

static enum skind
skind(const struct lep_yaml_node *n)
{
	const char	*v, *p;

	if (n->type == LEP_YAML_MAP)
		return S_MAP;
	if (n->type == LEP_YAML_SEQ)
		return S_SEQ;
	if (!n->plain)
		return S_STRING;
	v = n->val;
	if (*v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0)
		return S_NULL;
	if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 ||
	    strcmp(v, "TRUE") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
		return S_BOOL;
	p = (*v == '-' || *v == '+') ? v + 1 : v;
	if (all_digits(p))
		return S_INT;
	if (*p != '\0' && strspn(p, "0123456789.eE+-") == strlen(p)) {
		double	 d;

		if (lep_parse_double(&d, v) == 0)
			return S_FLOAT;
	}
	return S_STRING;
}

static const char *
skind_name(enum skind k)
{
	static const char *const names[] = {
		"null", "a boolean", "an integer", "a number", "a string",
		"a mapping", "a list",
	};

	return names[k];
}

static int
want(struct sctx *s, const struct lep_yaml_node *n, enum skind k,
    const char *key)
{
	enum skind	 got = skind(n);

	if (got == k || (k == S_FLOAT && got == S_INT))
		return 0;
	return sfail(s, n, "'%s' must be %s, not %s", key, skind_name(k),
	    skind_name(got));
}

static const struct lep_yaml_node *
sget(const struct lep_yaml_node *map, const char *key)
{
	return lep_yaml_get(map, key);
}

static int
check_keys(struct sctx *s, const struct lep_yaml_node *map, const char *where,
    const char *const *allowed, size_t n)
{
	const char	*hint;
	size_t		 i, j;

	for (i = 0; i < map->n; i += 2) {
		for (j = 0; j < n; j++)
			if (strcmp(map->kids[i]->val, allowed[j]) == 0)
				break;
		if (j < n)
			continue;
		hint = lep_did_you_mean(map->kids[i]->val, allowed, n);
		if (hint != NULL)
			return sfail(s, map->kids[i], "unknown key '%s' in %s "
			    "(did you mean '%s'?)", map->kids[i]->val, where,
			    hint);
		return sfail(s, map->kids[i], "unknown key '%s' in %s",
		    map->kids[i]->val, where);
	}
	return 0;
}

static int
get_string(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    char **out, int required)
{
	const struct lep_yaml_node	*v = sget(map, key);

	if (v == NULL) {
		if (required)
			return sfail(s, map, "missing required key '%s'", key);
		return 0;
	}
	if (want(s, v, S_STRING, key) == -1)
		return -1;
	if (v->len == 0)
		return sfail(s, v, "'%s' must not be empty", key);
	*out = xstrdup(v->val);
	return 0;
}

static int
get_ll(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    long long *out, long long min, long long max)
{
	const struct lep_yaml_node	*v = sget(map, key);
	long long		 n;

	if (v == NULL)
		return 0;
	if (want(s, v, S_INT, key) == -1)
		return -1;
	if (lep_parse_ll(&n, v->val) == -1 || n < min || n > max)
		return sfail(s, v, "'%s' must be from %lld to %lld, not %s",
		    key, min, max, v->val);
	*out = n;
	return 0;
}

static int
get_int(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    int *out, int min, int max)
{
	long long	 n = *out;

	if (get_ll(s, map, key, &n, min, max) == -1)
		return -1;
	*out = (int)n;
	return 0;
}

static int
get_num(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    double *out, int *has, double min, double max)
{
	const struct lep_yaml_node	*v = sget(map, key);
	double			 d;

	if (v == NULL)
		return 0;
	if (want(s, v, S_FLOAT, key) == -1)
		return -1;
	if (lep_parse_double(&d, v->val) == -1 || d < min || d > max)
		return sfail(s, v, "'%s' must be from %g to %g, not %s", key,
		    min, max, v->val);
	*out = d;
	if (has != NULL)
		*has = 1;
	return 0;
}

static int
get_bool(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    int *out)
{
	const struct lep_yaml_node	*v = sget(map, key);

	if (v == NULL)
		return 0;
	if (want(s, v, S_BOOL, key) == -1)
		return -1;
	*out = v->val[0] == 't' || v->val[0] == 'T';
	return 0;
}

/* An integer of seconds, or a string such as "90s", "5m", "2h". */
static int
get_duration(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    long long *out, long long min, long long max)
{
	const struct lep_yaml_node	*v = sget(map, key);
	enum skind		 k;
	long long		 n;

	if (v == NULL)
		return 0;
	k = skind(v);
	if (k != S_INT && k != S_STRING)
		return sfail(s, v, "'%s' must be a duration such as 90, "
		    "\"90s\", \"5m\" or \"2h\", not %s", key, skind_name(k));
	if (lep_parse_duration(&n, v->val) == -1)
		return sfail(s, v, "'%s': '%s' is not a duration such as "
		    "90, 90s, 5m or 2h", key, v->val);
	if (n < min || n > max)
		return sfail(s, v, "'%s' must be from %llds to %llds, not %s",
		    key, min, max, v->val);
	*out = n;
	return 0;
}

static int
get_str_list(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    char ***out, size_t *nout)
{
	const struct lep_yaml_node	*v = sget(map, key);
	size_t			 i, j;

	if (v == NULL)
		return 0;
	if (want(s, v, S_SEQ, key) == -1)
		return -1;
	*out = xcalloc(v->n + 1, sizeof(char *));
	for (i = 0; i < v->n; i++) {
		if (want(s, v->kids[i], S_STRING, key) == -1)
			return -1;
		if (v->kids[i]->len == 0)
			return sfail(s, v->kids[i], "empty item in '%s'", key);
		for (j = 0; j < i; j++)
			if (strcmp(v->kids[j]->val, v->kids[i]->val) == 0)
				return sfail(s, v->kids[i], "'%s' lists '%s' "
				    "twice", key, v->kids[i]->val);
		(*out)[i] = xstrdup(v->kids[i]->val);
		*nout = i + 1;
	}
	return 0;
}

static int
get_map(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    const struct lep_yaml_node **out)
{
	const struct lep_yaml_node	*v = sget(map, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (want(s, v, S_MAP, key) == -1)
		return -1;
	*out = v;
	return 0;
}

/* DNS-1035 label: what Kubernetes, Slurm and every cloud accept. */
static int
valid_name(const char *p)
{
	size_t	 len = strlen(p), i;

	if (len == 0 || len > 63 || p[0] < 'a' || p[0] > 'z' ||
	    p[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return 0;
	return 1;
}

static int
valid_env_name(const char *p)
{
	size_t	 i;

	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    *p == '_'))
		return 0;
	for (i = 1; p[i]; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return 0;
	return i <= 128;
}

static int
check_name(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    const char *value)
{
	if (value == NULL || valid_name(value))
		return 0;
	return sfail(s, sget(map, key), "'%s' must be 1-63 lower-case "
	    "letters, digits and '-', starting with a letter and not ending "
	    "with '-', not '%s'", key, value);
}

/* "A100", "A100:2", "a100-80gb:8". */
static int
parse_accel(struct sctx *s, const struct lep_yaml_node *at, const char *text,
    const struct lep_yaml_node *count_node, struct lep_accel *out)
{
	const char	*colon = strchr(text, ':');
	size_t		 namelen, i;
	long long	 count = 1;

	namelen = colon ? (size_t)(colon - text) : strlen(text);
	if (namelen == 0 || namelen > 64)
		return sfail(s, at, "accelerator '%s' needs a name, as in "
		    "'A100:1'", text);
	for (i = 0; i < namelen; i++)
		if (!((text[i] >= 'A' && text[i] <= 'Z') ||
		    (text[i] >= 'a' && text[i] <= 'z') ||
		    (text[i] >= '0' && text[i] <= '9') || text[i] == '-' ||
		    text[i] == '_' || text[i] == '.'))
			return sfail(s, at, "accelerator name '%.*s' may hold "
			    "letters, digits, '-', '_' and '.' only",
			    (int)namelen, text);
	if (colon != NULL && count_node != NULL)
		return sfail(s, at, "give the count of '%.*s' once",
		    (int)namelen, text);
	if (colon != NULL && (lep_parse_ll(&count, colon + 1) == -1 ||
	    !all_digits(colon + 1)))
		return sfail(s, at, "accelerator count in '%s' must be a "
		    "whole number, as in 'A100:2'", text);
	if (count_node != NULL) {
		if (want(s, count_node, S_INT, text) == -1)
			return -1;
		if (lep_parse_ll(&count, count_node->val) == -1)
			count = 0;
		at = count_node;
	}
	if (count < 1 || count > 64)
		return sfail(s, at, "accelerator count must be from 1 to 64, "
		    "not %lld", count);
	out->name = xstrndup(text, namelen);
	out->count = (int)count;
	return 0;
}

static int
add_accel(struct sctx *s, struct lep_spec *sp, const struct lep_yaml_node *at,
    const char *text, const struct lep_yaml_node *count_node)
{
	struct lep_accel	 a;
	size_t			 i;

	if (parse_accel(s, at, text, count_node, &a) == -1)
		return -1;
	for (i = 0; i < sp->resources.naccels; i++) {
		if (strcasecmp(sp->resources.accels[i].name, a.name) == 0) {
			free(a.name);
			return sfail(s, at, "accelerator '%s' listed twice",
			    sp->resources.accels[i].name);
		}
	}
	sp->resources.accels = xreallocarray(sp->resources.accels,
	    sp->resources.naccels + 1, sizeof(a));
	sp->resources.accels[sp->resources.naccels++] = a;
	return 0;
}

static int
parse_accels(struct sctx *s, struct lep_spec *sp, const struct lep_yaml_node *v)
{
	size_t	 i;

	sp->resources.accel_pos.line = v->line;
	sp->resources.accel_pos.col = v->col;
	switch (skind(v)) {
	case S_STRING:
		return add_accel(s, sp, v, v->val, NULL);
	case S_SEQ:		/* an ordered preference */
		if (v->n == 0)
			return sfail(s, v, "'accelerators' list is empty");
		for (i = 0; i < v->n; i++) {
			if (want(s, v->kids[i], S_STRING, "accelerators") ==
			    -1 || add_accel(s, sp, v->kids[i],
			    v->kids[i]->val, NULL) == -1)
				return -1;
		}
		return 0;
	case S_MAP:		/* a set: any of them, cheapest first */
		if (v->n == 0)
			return sfail(s, v, "'accelerators' set is empty");
		sp->resources.accel_any = 1;
		for (i = 0; i < v->n; i += 2) {
			const struct lep_yaml_node	*cnt = v->kids[i + 1];

			if (skind(cnt) == S_NULL)
				cnt = NULL;
			if (add_accel(s, sp, v->kids[i], v->kids[i]->val,
			    cnt) == -1)
				return -1;
		}
		return 0;
	default:
		return sfail(s, v, "'accelerators' must be a string such as "
		    "'A100:1', a list (in order of preference) or a set "
		    "(any), not %s", skind_name(skind(v)));
	}
}

/* cpus: 2 | 0.5 | "2+"; memory likewise, in GiB. */
static int
get_amount(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    double *out, int *plus, int *has, double max)
{
	const struct lep_yaml_node	*v = sget(map, key);
	enum skind		 k;
	char			*text;
	size_t			 len;
	double			 d;
	int			 rc;

	if (v == NULL)
		return 0;
	k = skind(v);
	if (k != S_INT && k != S_FLOAT && k != S_STRING)
		return sfail(s, v, "'%s' must be a number or 'N+', not %s",
		    key, skind_name(k));
	text = xstrdup(v->val);
	len = strlen(text);
	*plus = len > 0 && text[len - 1] == '+';
	if (*plus)
		text[len - 1] = '\0';
	rc = lep_parse_double(&d, text);
	free(text);
	if (rc == -1)
		return sfail(s, v, "'%s' must be a number or 'N+' (at least "
		    "N), not '%s'", key, v->val);
	if (d <= 0 || d > max)
		return sfail(s, v, "'%s' must be more than 0 and at most %g, "
		    "not %s", key, max, v->val);
	*out = d;
	*has = 1;
	return 0;
}

static int
parse_resources(struct sctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"accelerators", "cpus", "memory", "spot",
	};
	const struct lep_yaml_node	*v;

	if (check_keys(s, m, "'resources'", keys, LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	sp->has_resources = 1;
	if ((v = sget(m, "accelerators")) != NULL &&
	    parse_accels(s, sp, v) == -1)
		return -1;
	if (get_amount(s, m, "cpus", &sp->resources.cpus,
	    &sp->resources.cpus_plus, &sp->resources.has_cpus, 4096) == -1 ||
	    get_amount(s, m, "memory", &sp->resources.memory,
	    &sp->resources.memory_plus, &sp->resources.has_memory,
	    65536) == -1 ||
	    get_bool(s, m, "spot", &sp->resources.spot) == -1)
		return -1;
	return 0;
}

static int
parse_placement(struct sctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"providers", "regions", "zones", "max_hourly",
		"partition", "account",
	};
	const struct lep_yaml_node	*v;
	const char		*hint;
	size_t			 i, j;

	if (check_keys(s, m, "'placement'", keys, LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	sp->has_placement = 1;
	if (get_str_list(s, m, "providers", &sp->placement.providers,
	    &sp->placement.nproviders) == -1 ||
	    get_str_list(s, m, "regions", &sp->placement.regions,
	    &sp->placement.nregions) == -1 ||
	    get_str_list(s, m, "zones", &sp->placement.zones,
	    &sp->placement.nzones) == -1 ||
	    get_num(s, m, "max_hourly", &sp->placement.max_hourly,
	    &sp->placement.has_max_hourly, 0, 1e6) == -1 ||
	    get_string(s, m, "partition", &sp->placement.partition, 0) == -1 ||
	    get_string(s, m, "account", &sp->placement.account, 0) == -1)
		return -1;
	if ((v = sget(m, "providers")) != NULL) {
		sp->placement.providers_pos.line = v->line;
		sp->placement.providers_pos.col = v->col;
		if (v->n == 0)
			return sfail(s, v, "'providers' is empty: leave it "
			    "out to allow every provider");
	}
	if (sp->placement.nproviders > 0 && known_providers == NULL)
		return sfail(s, v, "BUG: no provider table to check "
		    "'providers' against");
	for (i = 0; i < sp->placement.nproviders; i++) {
		for (j = 0; j < nknown_providers; j++)
			if (strcmp(sp->placement.providers[i],
			    known_providers[j]) == 0)
				break;
		if (j < nknown_providers)
			continue;
		hint = lep_did_you_mean(sp->placement.providers[i],
		    known_providers, nknown_providers);
		return sfail(s, v->kids[i], "unknown provider '%s'%s%s%s",
		    sp->placement.providers[i], hint ? " (did you mean '" : "",
		    hint ? hint : "", hint ? "'?)" : "");
	}
	return 0;
}

static int
parse_model(struct sctx *s, struct lep_spec *sp, const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"name", "path", "version", "alias",
	};
	const char	*v;
	int		 n;

	if (check_keys(s, m, "'model'", keys, LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	sp->has_model = 1;
	if (get_string(s, m, "name", &sp->model.name, 0) == -1 ||
	    check_name(s, m, "name", sp->model.name) == -1 ||
	    get_string(s, m, "path", &sp->model.path, 0) == -1 ||
	    get_string(s, m, "version", &sp->model.version, 0) == -1 ||
	    get_string(s, m, "alias", &sp->model.alias, 0) == -1)
		return -1;
	n = (sp->model.path != NULL) + (sp->model.version != NULL) +
	    (sp->model.alias != NULL);
	/* A job may name only the model it trains (its output's name). */
	if (n > 1 || (n == 0 && sp->kind != LEP_SPEC_JOB))
		return sfail(s, m, "'model' needs exactly one of 'path', "
		    "'version' and 'alias'%s", sp->kind == LEP_SPEC_JOB ?
		    " (or none, for a job)" : "");
	v = sp->model.version;
	if (v != NULL && (v[0] != 'v' || !all_digits(v + 1) ||
	    strlen(v) > 10))
		return sfail(s, sget(m, "version"), "'version' must look like "
		    "'v3', not '%s'", v);
	if (check_name(s, m, "alias", sp->model.alias) == -1)
		return -1;
	if (sp->model.name == NULL)
		sp->model.name = xstrdup(sp->name);
	return 0;
}

static int
parse_env(struct sctx *s, struct lep_spec *sp, const struct lep_yaml_node *m)
{
	const struct lep_yaml_node	*k, *v;
	enum skind		 kind;
	size_t			 i;

	sp->env = xcalloc(m->n / 2 + 1, sizeof(*sp->env));
	for (i = 0; i < m->n; i += 2) {
		k = m->kids[i];
		v = m->kids[i + 1];
		if (!valid_env_name(k->val))
			return sfail(s, k, "'%s' is not a valid environment "
			    "variable name", k->val);
		if (lep_starts_with(k->val, "LEPTON_"))
			return sfail(s, k, "'%s': names starting with "
			    "LEPTON_ are set by lepton", k->val);
		kind = skind(v);
		/* Numbers and booleans are fine here: env values are text. */
		if (kind == S_MAP || kind == S_SEQ || kind == S_NULL)
			return sfail(s, v, "value of '%s' must be text, not %s",
			    k->val, skind_name(kind));
		sp->env[sp->nenv].key = xstrdup(k->val);
		sp->env[sp->nenv].value = xstrdup(v->val);
		sp->nenv++;
	}
	return 0;
}

static int
parse_secrets(struct sctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *top)
{
	const struct lep_yaml_node	*v = sget(top, "secrets");
	size_t			 i, j;

	if (get_str_list(s, top, "secrets", &sp->secrets, &sp->nsecrets) == -1)
		return -1;
	for (i = 0; i < sp->nsecrets; i++) {
		if (!valid_env_name(sp->secrets[i]) ||
		    lep_starts_with(sp->secrets[i], "LEPTON_"))
			return sfail(s, v->kids[i], "secret '%s' must be the "
			    "name of an environment variable (not LEPTON_*)",
			    sp->secrets[i]);
		for (j = 0; j < sp->nenv; j++)
			if (strcmp(sp->env[j].key, sp->secrets[i]) == 0)
				return sfail(s, v->kids[i], "'%s' is both in "
				    "'env' and in 'secrets'", sp->secrets[i]);
	}
	return 0;
}

static int
parse_replicas(struct sctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *svc)
{
	static const char *const keys[] = { "min", "max", "target_qps" };
	const struct lep_yaml_node	*v = sget(svc, "replicas");

	if (v == NULL)
		return 0;
	if (skind(v) == S_INT) {
		if (get_int(s, svc, "replicas", &sp->service.replicas_min, 1,
		    LEP_SPEC_MAX_REPLICAS) == -1)
			return -1;
		sp->service.replicas_max = sp->service.replicas_min;
		return 0;
	}
	if (skind(v) != S_MAP)
		return sfail(s, v, "'replicas' must be a whole number or a "
		    "mapping with 'min' and 'max', not %s",
		    skind_name(skind(v)));
	if (check_keys(s, v, "'replicas'", keys, LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	sp->service.replicas_max = -1;
	if (get_int(s, v, "min", &sp->service.replicas_min, 1,
	    LEP_SPEC_MAX_REPLICAS) == -1 ||
	    get_int(s, v, "max", &sp->service.replicas_max, 1,
	    LEP_SPEC_MAX_REPLICAS) == -1 ||
	    get_num(s, v, "target_qps", &sp->service.target_qps,
	    &sp->service.has_target_qps, 0.001, 1e9) == -1)
		return -1;
	if (sp->service.replicas_max == -1)
		sp->service.replicas_max = sp->service.replicas_min;
	if (sp->service.replicas_max < sp->service.replicas_min)
		return sfail(s, sget(v, "max"), "'max' (%d) is less than "
		    "'min' (%d)", sp->service.replicas_max,
		    sp->service.replicas_min);
	return 0;
}

static int
parse_rollout(struct sctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"strategy", "percent", "bake", "abort_if",
	};
	static const char *const abort_keys[] = { "error_rate", "p99_ms" };
	const struct lep_yaml_node	*ab;

	if (check_keys(s, m, "'rollout'", keys, LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	free(sp->service.strategy);
	sp->service.strategy = NULL;
	if (get_string(s, m, "strategy", &sp->service.strategy, 0) == -1)
		return -1;
	if (sp->service.strategy == NULL)
		sp->service.strategy = xstrdup("replace");
	if (strcmp(sp->service.strategy, "replace") != 0 &&
	    strcmp(sp->service.strategy, "canary") != 0)
		return sfail(s, sget(m, "strategy"), "'strategy' must be "
		    "'replace' or 'canary', not '%s'", sp->service.strategy);
	if (get_int(s, m, "percent", &sp->service.canary_percent, 1,
	    99) == -1 ||
	    get_duration(s, m, "bake", &sp->service.bake, 0, 86400) == -1 ||
	    get_map(s, m, "abort_if", &ab) == -1)
		return -1;
	if (sget(m, "percent") != NULL &&
	    strcmp(sp->service.strategy, "canary") != 0)
		return sfail(s, sget(m, "percent"), "'percent' is for "
		    "strategy 'canary' only");
	if (ab != NULL && (check_keys(s, ab, "'abort_if'", abort_keys,
	    LEP_ARRAY_SIZE(abort_keys)) == -1 ||
	    get_num(s, ab, "error_rate", &sp->service.abort_error_rate,
	    &sp->service.has_abort_error_rate, 0, 1) == -1 ||
	    get_num(s, ab, "p99_ms", &sp->service.abort_p99_ms,
	    &sp->service.has_abort_p99, 0.001, 3.6e6) == -1))
		return -1;
	return 0;
}

/* 'auto' (0: lepton picks) or a TCP port. */
static int
parse_port(struct sctx *s, struct lep_spec *sp, const struct lep_yaml_node *m)
{
	const struct lep_yaml_node	*v = sget(m, "port");
	int			 rc = 0;

	if (v != NULL && skind(v) == S_STRING && strcmp(v->val, "auto") == 0)
		sp->service.port = 0;
	else if (v != NULL && skind(v) != S_INT)
		rc = sfail(s, v, "'port' must be 'auto' or a number from 1 to "
		    "65535, not %s", skind_name(skind(v)));
	else
		rc = get_int(s, m, "port", &sp->service.port, 1, 65535);
	return rc;
}

/* An HTTP path, named what in messages; replaces *out when given. */
static int
get_path(struct sctx *s, const struct lep_yaml_node *map, const char *key,
    const char *what, char **out)
{
	char	*p = NULL;
	int	 rc = -1;

	if (get_string(s, map, key, &p, 0) == -1)
		goto done;
	if (p != NULL && p[0] != '/') {
		sfail(s, sget(map, key), "%s must start with '/'", what);
		goto done;
	}
	if (p != NULL) {
		free(*out);
		*out = p;
		p = NULL;
	}
	rc = 0;
done:
	free(p);
	return rc;
}

static int
parse_readiness(struct sctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = { "path", "timeout" };

	if (check_keys(s, m, "'readiness'", keys, LEP_ARRAY_SIZE(keys)) ==
	    -1 || get_path(s, m, "path", "readiness 'path'",
	    &sp->service.ready_path) == -1 ||
	    get_duration(s, m, "timeout", &sp->service.ready_timeout, 1,
	    3600) == -1)
		return -1;
	return 0;
}

static int
parse_protocol(struct sctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const protocols[] = {
		"json", "kserve-v2", "openai",
	};
	char	*p = NULL;
	size_t	 i;
	int	 rc = -1;

	if (get_string(s, m, "protocol", &p, 0) == -1)
		goto done;
	if (p != NULL) {
		for (i = 0; i < LEP_ARRAY_SIZE(protocols); i++)
			if (strcmp(p, protocols[i]) == 0)
				break;
		if (i == LEP_ARRAY_SIZE(protocols)) {
			sfail(s, sget(m, "protocol"), "'protocol' must be "
			    "'json', 'kserve-v2' or 'openai'");
			goto done;
		}
		free(sp->service.protocol);
		sp->service.protocol = p;
		p = NULL;
	}
	rc = 0;
done:
	free(p);
	return rc;
}

static int
parse_service(struct sctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"port", "path", "readiness", "replicas", "rollout", "protocol",
		"max_cost",
	};
	const struct lep_yaml_node	*rd, *ro;

	if (check_keys(s, m, "'service'", keys, LEP_ARRAY_SIZE(keys)) == -1 ||
	    parse_port(s, sp, m) == -1 ||
	    get_path(s, m, "path", "'path'", &sp->service.path) == -1 ||
	    get_map(s, m, "readiness", &rd) == -1 ||
	    (rd != NULL && parse_readiness(s, sp, rd) == -1) ||
	    get_num(s, m, "max_cost", &sp->service.max_cost,
	    &sp->service.has_max_cost, 0, 1e9) == -1 ||
	    parse_replicas(s, sp, m) == -1 ||
	    get_map(s, m, "rollout", &ro) == -1 ||
	    (ro != NULL && parse_rollout(s, sp, ro) == -1) ||
	    parse_protocol(s, sp, m) == -1)
		return -1;
	return 0;
}

static int
parse_job(struct sctx *s, struct lep_spec *sp, const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"nodes", "max_restarts", "outputs", "max_cost", "max_duration",
	};
	static const char *const out_keys[] = { "model" };
	const struct lep_yaml_node	*o;

	if (check_keys(s, m, "'job'", keys, LEP_ARRAY_SIZE(keys)) == -1 ||
	    get_int(s, m, "nodes", &sp->job.nodes, 1, 1024) == -1 ||
	    get_int(s, m, "max_restarts", &sp->job.max_restarts, 0,
	    100) == -1 ||
	    get_num(s, m, "max_cost", &sp->job.max_cost, &sp->job.has_max_cost,
	    0, 1e9) == -1 ||
	    get_duration(s, m, "max_duration", &sp->job.max_duration, 1,
	    366LL * 86400) == -1 ||
	    get_map(s, m, "outputs", &o) == -1)
		return -1;
	if (o != NULL && (check_keys(s, o, "'outputs'", out_keys,
	    LEP_ARRAY_SIZE(out_keys)) == -1 ||
	    get_string(s, o, "model", &sp->job.output_model, 0) == -1))
		return -1;
	return 0;
}

static void
spec_defaults(struct lep_spec *sp)
{
	sp->service.path = xstrdup("/predict");
	sp->service.ready_path = xstrdup("/healthz");
	sp->service.ready_timeout = 120;
	sp->service.replicas_min = sp->service.replicas_max = 1;
	sp->service.strategy = xstrdup("replace");
	sp->service.protocol = xstrdup("json");
	sp->job.nodes = 1;
}

static int
spec_from_tree(struct sctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *top)
{
	static const char *const keys[] = {
		"kind", "name", "model", "resources", "placement", "setup",
		"run", "env", "secrets", "service", "job",
	};
	const struct lep_yaml_node	*m;
	char			*kind = NULL;
	int			 rc = -1;

	if (top->type != LEP_YAML_MAP)
		return sfail(s, top, "a spec must be a mapping with 'kind', "
		    "'name' and 'run', not %s", skind_name(skind(top)));
	if (check_keys(s, top, "the spec", keys, LEP_ARRAY_SIZE(keys)) == -1 ||
	    get_string(s, top, "kind", &kind, 1) == -1)
		goto done;
	if (strcmp(kind, "service") == 0)
		sp->kind = LEP_SPEC_SERVICE;
	else if (strcmp(kind, "job") == 0)
		sp->kind = LEP_SPEC_JOB;
	else {
		sfail(s, sget(top, "kind"), "'kind' must be 'service' or "
		    "'job', not '%s'", kind);
		goto done;
	}
	if (get_string(s, top, "name", &sp->name, 1) == -1 ||
	    check_name(s, top, "name", sp->name) == -1 ||
	    get_string(s, top, "run", &sp->run, 1) == -1 ||
	    get_string(s, top, "setup", &sp->setup, 0) == -1)
		goto done;
	if (get_map(s, top, "model", &m) == -1 ||
	    (m != NULL && parse_model(s, sp, m) == -1))
		goto done;
	if (get_map(s, top, "resources", &m) == -1 ||
	    (m != NULL && parse_resources(s, sp, m) == -1))
		goto done;
	if (get_map(s, top, "placement", &m) == -1 ||
	    (m != NULL && parse_placement(s, sp, m) == -1))
		goto done;
	if (get_map(s, top, "env", &m) == -1 ||
	    (m != NULL && parse_env(s, sp, m) == -1) ||
	    parse_secrets(s, sp, top) == -1)
		goto done;
	if (get_map(s, top, "service", &m) == -1)
		goto done;
	if (m != NULL && sp->kind != LEP_SPEC_SERVICE) {
		sfail(s, sget(top, "service"), "'service' is only for kind "
		    "'service'");
		goto done;
	}
	if (m != NULL && parse_service(s, sp, m) == -1)
		goto done;
	if (get_map(s, top, "job", &m) == -1)
		goto done;
	if (m != NULL && sp->kind != LEP_SPEC_JOB) {
		sfail(s, sget(top, "job"), "'job' is only for kind 'job'");
		goto done;
	}
	if (m != NULL && parse_job(s, sp, m) == -1)
		goto done;
	rc = 0;
done:
	free(kind);
	return rc;
}

const struct lep_err *
lep_spec_parse(struct lep_spec **out, const char *name, const char *dir,
    const char *text, size_t len)
{
	static const struct lep_yaml_limits lim = {
		.max_scalar = LEP_SPEC_MAX_SCALAR,
		.max_aliases = LEP_SPEC_MAX_ALIASES,
		.max_nodes = LEP_SPEC_MAX_NODES,
		.max_depth = LEP_SPEC_MAX_DEPTH,
	};
	const struct lep_err	*err;
	struct sctx		 s;
	struct lep_yaml_node		*root = NULL;
	struct lep_spec		*sp = NULL;

	*out = NULL;
	if (len > LEP_SPEC_MAX_FILE) {
		err = lep_err_new(LEP_E_SPEC, "%s:1:1: spec is %zu bytes, "
		    "more than the %d allowed", name, len, LEP_SPEC_MAX_FILE);
		goto done;
	}
	if (memchr(text, '\0', len) != NULL) {
		err = lep_err_new(LEP_E_SPEC, "%s:1:1: spec holds a NUL "
		    "byte: not a text file", name);
		goto done;
	}
	if ((err = lep_yaml_load(&root, name, text, len, &lim)) != NULL)
		goto done;
	if (root == NULL) {
		err = lep_err_new(LEP_E_SPEC, "%s:1:1: empty spec: expected a "
		    "mapping with 'kind', 'name' and 'run'", name);
		goto done;
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->file = xstrdup(name);
	sp->dir = xstrdup(dir);
	spec_defaults(sp);
	memset(&s, 0, sizeof(s));
	s.file = name;
	if (spec_from_tree(&s, sp, root) == -1) {
		err = s.err;
		lep_spec_free(sp);
		sp = NULL;
	}
done:
	lep_yaml_free(root);
	*out = sp;
	return err;
}

const struct lep_err *
lep_spec_load_saved(struct lep_spec **out, const char *path,
    const char *name, const char *dir)
{
	const struct lep_err	*err;
	struct lep_buf		 b;

	*out = NULL;
	err = lep_read_file(&b, path, LEP_SPEC_MAX_FILE);
	if (err == NULL)
		err = lep_spec_parse(out, name ? name : path, dir ? dir : "/",
		    b.buf, b.len);
	lep_buf_release(&b);
	return err;
}

const struct lep_err *
lep_spec_load(struct lep_spec **out, const char *path)
{
	const struct lep_err	*err = NULL;
	struct lep_buf		 b = LEP_BUF_INIT;
	char			 chunk[8192], dir[PATH_MAX], *slash, *copy;
	ssize_t			 n;
	int			 fd;

	*out = NULL;
	if ((err = lep_open_read(&fd, path, 0)) != NULL)
		return err;
	lep_buf_init_max(&b, LEP_SPEC_MAX_FILE);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err = lep_err_errno(LEP_E_FAILED, "%s", path);
			goto done;
		}
		if (n == 0)
			break;
		if (lep_buf_addn(&b, chunk, (size_t)n) == -1) {
			err = lep_err_new(LEP_E_SPEC, "%s:1:1: spec is more "
			    "than the %d bytes allowed", path,
			    LEP_SPEC_MAX_FILE);
			goto done;
		}
	}
	copy = xstrdup(path);
	slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	if (realpath(slash ? copy : ".", dir) == NULL) {
		err = lep_err_errno(LEP_E_FAILED, "%s", path);
		free(copy);
		goto done;
	}
	free(copy);
	err = lep_spec_parse(out, path, dir, b.buf, b.len);
done:
	close(fd);
	lep_buf_release(&b);
	return err;
}

void
lep_spec_free(struct lep_spec *sp)
{
	size_t	 i;

	if (sp == NULL)
		return;
	free(sp->file);
	free(sp->dir);
	free(sp->name);
	free(sp->model.name);
	free(sp->model.path);
	free(sp->model.version);
	free(sp->model.alias);
	for (i = 0; i < sp->resources.naccels; i++)
		free(sp->resources.accels[i].name);
	free(sp->resources.accels);
	lep_strv_free(sp->placement.providers, sp->placement.nproviders);
	lep_strv_free(sp->placement.regions, sp->placement.nregions);
	lep_strv_free(sp->placement.zones, sp->placement.nzones);
	free(sp->placement.partition);
	free(sp->placement.account);
	free(sp->setup);
	free(sp->run);
	for (i = 0; i < sp->nenv; i++) {
		free(sp->env[i].key);
		free(sp->env[i].value);
	}
	free(sp->env);
	lep_strv_free(sp->secrets, sp->nsecrets);
	free(sp->service.path);
	free(sp->service.ready_path);
	free(sp->service.strategy);
	free(sp->service.protocol);
	free(sp->job.output_model);
	free(sp);
}
