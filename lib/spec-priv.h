/*
 * spec-priv.h: what the files of the spec schema share: the typed getters
 * of spec-schema.c and the section parsers that spec.c walks.
 */
#ifndef LEPTON_LIB_SPEC_PRIV_H
#define LEPTON_LIB_SPEC_PRIV_H

#include <stddef.h>

#include "util.h"

struct lep_err;
struct lep_spec;
struct lep_yaml_node;

/* What a node holds, as the schema's messages name it (spec_type_name). */
enum spec_type {
	SPEC_NULL,
	SPEC_BOOL,
	SPEC_INT,
	SPEC_FLOAT,
	SPEC_STRING,
	SPEC_MAP,
	SPEC_SEQ,
};

/* One walk over one file: the first error stands. */
struct spec_ctx {
	const char		*file;
	const struct lep_err	*err;
	const char *const	*providers;	/* lep_spec_set_providers */
	size_t			 nproviders;
};

/*
 * Every function below that returns int gives 0, or -1 after setting
 * s->err (LEP_E_SPEC, "FILE:LINE:COL: message") unless it was set.
 */

/* Records the error at n; always -1. */
int	 spec_fail(struct spec_ctx *s, const struct lep_yaml_node *n,
	    const char *fmt, ...) LEP_PRINTF(3, 4);
enum spec_type spec_typeof(const struct lep_yaml_node *n);
/* "a string", "an integer"...; borrowed, static. */
const char *spec_type_name(enum spec_type t);
/* A SPEC_INT is a SPEC_FLOAT too; key names n in the message. */
int	 spec_want(struct spec_ctx *s, const struct lep_yaml_node *n,
	    enum spec_type t, const char *key);
/* One or more decimal digits and nothing else. */
int	 spec_all_digits(const char *p);
/* Whether name is one of the n in list. */
int	 spec_one_of(const char *name, const char *const *list, size_t n);
/* Every key of map is one of allowed; where names map in the message. */
int	 spec_check_keys(struct spec_ctx *s, const struct lep_yaml_node *map,
	    const char *where, const char *const *allowed, size_t n);
/* A DNS-1035 label, when value (the string under key) is not NULL. */
int	 spec_check_name(struct spec_ctx *s, const struct lep_yaml_node *map,
	    const char *key, const char *value);

/*
 * The getters leave *out as it is when key is absent from map. *out is
 * borrowed from the tree for spec_get; the others' strings are the
 * spec's to free.
 */
int	 spec_get(struct spec_ctx *s, const struct lep_yaml_node *map,
	    const char *key, enum spec_type t,
	    const struct lep_yaml_node **out);
/* Not empty; required: absent is an error. */
int	 spec_get_string(struct spec_ctx *s, const struct lep_yaml_node *map,
	    const char *key, char **out, int required);
int	 spec_get_int(struct spec_ctx *s, const struct lep_yaml_node *map,
	    const char *key, int *out, int min, int max);
/* Sets *has (if not NULL) when the key is there. */
int	 spec_get_num(struct spec_ctx *s, const struct lep_yaml_node *map,
	    const char *key, double *out, int *has, double min, double max);
int	 spec_get_bool(struct spec_ctx *s, const struct lep_yaml_node *map,
	    const char *key, int *out);
/* Seconds: an integer, or a string such as "90s", "5m", "2h". */
int	 spec_get_duration(struct spec_ctx *s,
	    const struct lep_yaml_node *map, const char *key, long long *out,
	    long long min, long long max);
/* Distinct, non-empty strings; *out ends in NULL, *nout items filled. */
int	 spec_get_str_list(struct spec_ctx *s,
	    const struct lep_yaml_node *map, const char *key, char ***out,
	    size_t *nout);

/* The sections, each given its mapping; spec.c walks them in order. */
int	 spec_parse_resources(struct spec_ctx *, struct lep_spec *,
	    const struct lep_yaml_node *m);
/* Checks 'providers' against s->providers. */
int	 spec_parse_placement(struct spec_ctx *, struct lep_spec *,
	    const struct lep_yaml_node *m);
/* 'env' (m, or NULL) and the spec's 'secrets' (in top). */
int	 spec_parse_env(struct spec_ctx *, struct lep_spec *,
	    const struct lep_yaml_node *m, const struct lep_yaml_node *top);
int	 spec_parse_service(struct spec_ctx *, struct lep_spec *,
	    const struct lep_yaml_node *m);
int	 spec_parse_job(struct spec_ctx *, struct lep_spec *,
	    const struct lep_yaml_node *m);
/* 'image' in top, when there: a reference or {build, dockerfile}. */
int	 spec_parse_image(struct spec_ctx *, struct lep_spec *,
	    const struct lep_yaml_node *top);

#endif
