/*
 * yaml.h: one YAML document read into a tree whose nodes keep their line
 * and column. Only yaml.c includes libyaml.
 */
#ifndef LEPTON_LIB_YAML_H
#define LEPTON_LIB_YAML_H

#include <stddef.h>

struct lep_err;

enum lep_yaml_type {
	LEP_YAML_SCALAR,
	LEP_YAML_MAP,
	LEP_YAML_SEQ,
};

struct lep_yaml_node {
	enum lep_yaml_type	  type;
	int			  line, col;	/* 1-based */
	char			 *val;		/* scalar text */
	size_t			  len;
	int			  plain;	/* unquoted: null, 3, true... */
	struct lep_yaml_node	**kids;		/* map: key, value, key... */
	size_t			  n;
};

/* Bounds on what one document may hold; the caller picks them. */
struct lep_yaml_limits {
	int	 max_scalar;	/* bytes in one scalar */
	int	 max_aliases;	/* alias uses */
	int	 max_nodes;	/* nodes, aliases expanded */
	int	 max_depth;	/* nesting */
};

/*
 * Read text (len bytes) as one document, refusing what YAML allows but a
 * spec must not have: tabs, tags, duplicate or non-scalar keys, aliases to
 * no anchor, several documents, and anything past lim. file names the text
 * in messages. Errors: LEP_E_SPEC ("FILE:LINE:COL: ..."). *out: NULL when
 * the text holds no document at all (not an error); else caller frees with
 * lep_yaml_free.
 */
const struct lep_err *lep_yaml_load(struct lep_yaml_node **out,
	    const char *file, const char *text, size_t len,
	    const struct lep_yaml_limits *lim);
void	 lep_yaml_free(struct lep_yaml_node *);

/* The value of key in mapping map, or NULL; borrowed from map. */
const struct lep_yaml_node *lep_yaml_get(const struct lep_yaml_node *map,
	    const char *key);

#endif
