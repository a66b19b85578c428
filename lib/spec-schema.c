/*
 * spec-schema.c: the typed getters every section of the spec schema reads
 * its keys with, and the messages they give (FILE:LINE:COL: ...).
 */
#include "spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "spec-priv.h"
#include "util.h"
#include "yaml.h"

int
spec_fail(struct spec_ctx *s, const struct lep_yaml_node *n, const char *fmt,
    ...)
{
	va_list	 ap;

	/* The first error stands: later ones are its consequences. */
	if (s->err == NULL) {
		va_start(ap, fmt);
		s->err = lep_err_vat(LEP_E_SPEC, s->file, n->line, n->col,
		    fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
spec_all_digits(const char *p)
{
	return *p != '\0' && strspn(p, "0123456789") == strlen(p);
}

int
spec_one_of(const char *name, const char *const *list, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			break;
	return i < n;
}

/* YAML 1.2 core schema, for plain scalars; quoted ones are strings. */
static enum spec_type
scalar_type(const char *v)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const bools[] = {
		"true", "True", "TRUE", "false", "False", "FALSE",
	};
	const char	*p = (*v == '-' || *v == '+') ? v + 1 : v;
	enum spec_type	 t = SPEC_STRING;
	double		 d;

	if (spec_one_of(v, nulls, LEP_ARRAY_SIZE(nulls)))
		t = SPEC_NULL;
	else if (spec_one_of(v, bools, LEP_ARRAY_SIZE(bools)))
		t = SPEC_BOOL;
	else if (spec_all_digits(p))
		t = SPEC_INT;
	else if (*p != '\0' && strspn(p, "0123456789.eE+-") == strlen(p) &&
	    lep_parse_double(&d, v) == 0)
		t = SPEC_FLOAT;
	return t;
}

enum spec_type
spec_typeof(const struct lep_yaml_node *n)
{
	enum spec_type	 t;

	if (n->type == LEP_YAML_MAP)
		t = SPEC_MAP;
	else if (n->type == LEP_YAML_SEQ)
		t = SPEC_SEQ;
	else if (!n->plain)
		t = SPEC_STRING;
	else
		t = scalar_type(n->val);
	return t;
}

const char *
spec_type_name(enum spec_type t)
{
	static const char *const names[] = {
		[SPEC_NULL] = "null",
		[SPEC_BOOL] = "a boolean",
		[SPEC_INT] = "an integer",
		[SPEC_FLOAT] = "a number",
		[SPEC_STRING] = "a string",
		[SPEC_MAP] = "a mapping",
		[SPEC_SEQ] = "a list",
	};

	return names[t];
}

int
spec_want(struct spec_ctx *s, const struct lep_yaml_node *n, enum spec_type t,
    const char *key)
{
	enum spec_type	 got = spec_typeof(n);

	if (got == t || (t == SPEC_FLOAT && got == SPEC_INT))
		return 0;
	return spec_fail(s, n, "'%s' must be %s, not %s", key,
	    spec_type_name(t), spec_type_name(got));
}

int
spec_check_keys(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *where, const char *const *allowed, size_t n)
{
	const struct lep_yaml_node	*k;
	const char		*hint;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; rc == 0 && i < map->n; i += 2) {
		k = map->kids[i];
		if (spec_one_of(k->val, allowed, n))
			continue;
		hint = lep_did_you_mean(k->val, allowed, n);
		rc = spec_fail(s, k, "unknown key '%s' in %s%s%s%s", k->val,
		    where, hint ? " (did you mean '" : "", hint ? hint : "",
		    hint ? "'?)" : "");
	}
	return rc;
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

int
spec_check_name(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *key, const char *value)
{
	if (value == NULL || valid_name(value))
		return 0;
	return spec_fail(s, lep_yaml_get(map, key), "'%s' must be 1-63 "
	    "lower-case letters, digits and '-', starting with a letter and "
	    "not ending with '-', not '%s'", key, value);
}

/* The one lookup all the getters share: absent is fine, wrong is not. */
int
spec_get(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *key, enum spec_type t, const struct lep_yaml_node **out)
{
	const struct lep_yaml_node	*v = lep_yaml_get(map, key);
	int			 rc = 0;

	*out = NULL;
	if (v != NULL && (rc = spec_want(s, v, t, key)) == 0)
		*out = v;
	return rc;
}

int
spec_get_string(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *key, char **out, int required)
{
	const struct lep_yaml_node	*v;
	int			 rc;

	rc = spec_get(s, map, key, SPEC_STRING, &v);
	if (rc == 0 && v == NULL && required)
		rc = spec_fail(s, map, "missing required key '%s'", key);
	else if (v != NULL && v->len == 0)
		rc = spec_fail(s, v, "'%s' must not be empty", key);
	else if (v != NULL)
		*out = xstrdup(v->val);
	return rc;
}

int
spec_get_int(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *key, int *out, int min, int max)
{
	const struct lep_yaml_node	*v;
	long long		 n;
	int			 rc;

	rc = spec_get(s, map, key, SPEC_INT, &v);
	if (v != NULL && (lep_parse_ll(&n, v->val) == -1 || n < min ||
	    n > max))
		rc = spec_fail(s, v, "'%s' must be from %d to %d, not %s",
		    key, min, max, v->val);
	else if (v != NULL)
		*out = (int)n;
	return rc;
}

int
spec_get_num(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *key, double *out, int *has, double min, double max)
{
	const struct lep_yaml_node	*v;
	double			 d;
	int			 rc;

	rc = spec_get(s, map, key, SPEC_FLOAT, &v);
	if (v != NULL && (lep_parse_double(&d, v->val) == -1 || d < min ||
	    d > max))
		rc = spec_fail(s, v, "'%s' must be from %g to %g, not %s",
		    key, min, max, v->val);
	else if (v != NULL) {
		*out = d;
		if (has != NULL)
			*has = 1;
	}
	return rc;
}

int
spec_get_bool(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *key, int *out)
{
	const struct lep_yaml_node	*v;
	int			 rc;

	rc = spec_get(s, map, key, SPEC_BOOL, &v);
	if (v != NULL)
		*out = v->val[0] == 't' || v->val[0] == 'T';
	return rc;
}

int
spec_get_duration(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *key, long long *out, long long min, long long max)
{
	const struct lep_yaml_node	*v = lep_yaml_get(map, key);
	enum spec_type		 t;
	long long		 n;
	int			 rc = 0;

	if (v != NULL) {
		t = spec_typeof(v);
		if (t != SPEC_INT && t != SPEC_STRING)
			rc = spec_fail(s, v, "'%s' must be a duration such as "
			    "90, \"90s\", \"5m\" or \"2h\", not %s", key,
			    spec_type_name(t));
		else if (lep_parse_duration(&n, v->val) == -1)
			rc = spec_fail(s, v, "'%s': '%s' is not a duration "
			    "such as 90, 90s, 5m or 2h", key, v->val);
		else if (n < min || n > max)
			rc = spec_fail(s, v, "'%s' must be from %llds to "
			    "%llds, not %s", key, min, max, v->val);
		else
			*out = n;
	}
	return rc;
}

/* Item i of list: a non-empty string that no earlier item repeats. */
static int
str_list_item(struct spec_ctx *s, const struct lep_yaml_node *list, size_t i,
    const char *key)
{
	const struct lep_yaml_node	*it = list->kids[i];
	size_t			 j;
	int			 rc;

	rc = spec_want(s, it, SPEC_STRING, key);
	if (rc == 0 && it->len == 0)
		rc = spec_fail(s, it, "empty item in '%s'", key);
	for (j = 0; rc == 0 && j < i; j++)
		if (strcmp(list->kids[j]->val, it->val) == 0)
			rc = spec_fail(s, it, "'%s' lists '%s' twice", key,
			    it->val);
	return rc;
}

int
spec_get_str_list(struct spec_ctx *s, const struct lep_yaml_node *map,
    const char *key, char ***out, size_t *nout)
{
	const struct lep_yaml_node	*v;
	size_t			 i;
	int			 rc;

	rc = spec_get(s, map, key, SPEC_SEQ, &v);
	if (v != NULL)
		*out = xcalloc(v->n + 1, sizeof(char *));
	for (i = 0; v != NULL && rc == 0 && i < v->n; i++) {
		rc = str_list_item(s, v, i, key);
		if (rc == 0) {
			(*out)[i] = xstrdup(v->kids[i]->val);
			*nout = i + 1;
		}
	}
	return rc;
}
