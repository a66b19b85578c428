/*
 * yaml.c: libyaml's event parser feeding a small tree that keeps every
 * node's line and column, refusing tabs, tags, duplicate keys, alias bombs
 * and several documents on the way.
 */
#include "yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "error.h"
#include "util.h"

struct yanchor {
	char			*name;
	struct lep_yaml_node	*node;
};

struct yparse {
	const char			*file;
	const struct lep_yaml_limits	*lim;
	yaml_parser_t			 parser;
	struct yanchor			*anchors;
	size_t				 nanchors;
	size_t				 nodes;
	size_t				 aliases;
	const struct lep_err		*err;
};

static struct lep_yaml_node *yparse_node(struct yparse *, yaml_event_t *,
	    int);

void
lep_yaml_free(struct lep_yaml_node *n)
{
	size_t	 i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		lep_yaml_free(n->kids[i]);
	free(n->kids);
	free(n->val);
	free(n);
}

const struct lep_yaml_node *
lep_yaml_get(const struct lep_yaml_node *map, const char *key)
{
	const struct lep_yaml_node	*v = NULL;
	size_t				 i;

	for (i = 0; i + 1 < map->n; i += 2) {
		if (strcmp(map->kids[i]->val, key) == 0) {
			v = map->kids[i + 1];
			break;
		}
	}
	return v;
}

static void
ynode_add(struct lep_yaml_node *parent, struct lep_yaml_node *kid)
{
	parent->kids = xreallocarray(parent->kids, parent->n + 1,
	    sizeof(*parent->kids));
	parent->kids[parent->n++] = kid;
}

static const struct lep_err *
yerr(struct yparse *yp, int line, int col, const char *fmt, ...)
    LEP_PRINTF(4, 5);

/* The first error stands: later ones are its consequences. */
static const struct lep_err *
yerr(struct yparse *yp, int line, int col, const char *fmt, ...)
{
	va_list	 ap;

	if (yp->err == NULL) {
		va_start(ap, fmt);
		yp->err = lep_err_vat(LEP_E_SPEC, yp->file, line, col, fmt,
		    ap);
		va_end(ap);
	}
	return yp->err;
}

static int
ycount(struct yparse *yp, int line, int col)
{
	int	 rc = 0;

	if (++yp->nodes > (size_t)yp->lim->max_nodes) {
		yerr(yp, line, col, "spec has more than %d nodes "
		    "(aliases expanding without bound?)", yp->lim->max_nodes);
		rc = -1;
	}
	return rc;
}

/*
 * Expand an alias: a deep copy that keeps each node's own position; every
 * copied node counts against the bound, reported at the alias (at_line,
 * at_col), which is what made them.
 */
static struct lep_yaml_node *
ynode_copy(struct yparse *yp, const struct lep_yaml_node *n, int at_line,
    int at_col)
{
	struct lep_yaml_node	*c = NULL, *k;
	size_t			 i;

	if (ycount(yp, at_line, at_col) == -1)
		goto done;
	c = xcalloc(1, sizeof(*c));
	c->type = n->type;
	c->line = n->line;
	c->col = n->col;
	c->plain = n->plain;
	if (n->val != NULL)
		c->val = xstrndup(n->val, n->len);
	c->len = n->len;
	for (i = 0; i < n->n; i++) {
		if ((k = ynode_copy(yp, n->kids[i], at_line, at_col)) == NULL) {
			lep_yaml_free(c);
			c = NULL;
			goto done;
		}
		ynode_add(c, k);
	}
done:
	return c;
}

static int
ynext(struct yparse *yp, yaml_event_t *ev)
{
	const char	*problem;
	yaml_mark_t	 m;
	int		 rc = 0;

	if (!yaml_parser_parse(&yp->parser, ev)) {
		problem = yp->parser.problem ? yp->parser.problem :
		    "invalid YAML";
		m = yp->parser.problem_mark;
		if (yp->parser.context != NULL)
			yerr(yp, (int)m.line + 1, (int)m.column + 1, "%s %s",
			    problem, yp->parser.context);
		else
			yerr(yp, (int)m.line + 1, (int)m.column + 1, "%s",
			    problem);
		rc = -1;
	}
	return rc;
}

static void
yanchor_add(struct yparse *yp, const unsigned char *name,
    struct lep_yaml_node *n)
{
	yp->anchors = xreallocarray(yp->anchors, yp->nanchors + 1,
	    sizeof(*yp->anchors));
	yp->anchors[yp->nanchors].name = xstrdup((const char *)name);
	yp->anchors[yp->nanchors].node = n;
	yp->nanchors++;
}

/* Add key to map n unless n has it already; takes ownership of key. */
static int
ymap_key(struct yparse *yp, struct lep_yaml_node *n,
    struct lep_yaml_node *key)
{
	size_t	 i;
	int	 rc = -1;

	if (key->type != LEP_YAML_SCALAR) {
		yerr(yp, key->line, key->col,
		    "mapping keys must be plain words");
		goto done;
	}
	for (i = 0; i < n->n; i += 2) {
		if (strcmp(n->kids[i]->val, key->val) == 0) {
			yerr(yp, key->line, key->col,
			    "duplicate key '%s' (first at line %d, "
			    "column %d)", key->val, n->kids[i]->line,
			    n->kids[i]->col);
			goto done;
		}
	}
	ynode_add(n, key);
	key = NULL;
	rc = 0;
done:
	lep_yaml_free(key);
	return rc;
}

/* Parse children until the closing event; ev is the opening event. */
static struct lep_yaml_node *
yparse_collection(struct yparse *yp, yaml_event_t *ev, int depth)
{
	struct lep_yaml_node	*n, *kid;
	yaml_event_t		 kev;
	yaml_event_type_t	 end;
	int			 is_map = ev->type == YAML_MAPPING_START_EVENT;

	n = xcalloc(1, sizeof(*n));
	n->type = is_map ? LEP_YAML_MAP : LEP_YAML_SEQ;
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	for (;;) {
		if (ynext(yp, &kev) == -1)
			goto fail;
		if (kev.type == end) {
			yaml_event_delete(&kev);
			break;
		}
		if ((kid = yparse_node(yp, &kev, depth + 1)) == NULL)
			goto fail;
		if (!is_map) {
			ynode_add(n, kid);
			continue;
		}
		if (ymap_key(yp, n, kid) == -1 || ynext(yp, &kev) == -1)
			goto fail;
		if ((kid = yparse_node(yp, &kev, depth + 1)) == NULL)
			goto fail;
		ynode_add(n, kid);
	}
	goto done;
fail:
	lep_yaml_free(n);
	n = NULL;
done:
	return n;
}

/* The anchor and tag of a node's opening event, each NULL when absent. */
static void
yprops(const yaml_event_t *ev, const unsigned char **anchor,
    const unsigned char **tag)
{
	*anchor = *tag = NULL;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		*anchor = ev->data.scalar.anchor;
		*tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		*anchor = ev->data.sequence_start.anchor;
		*tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		*anchor = ev->data.mapping_start.anchor;
		*tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
}

static struct lep_yaml_node *
yparse_scalar(struct yparse *yp, const yaml_event_t *ev, int line, int col)
{
	struct lep_yaml_node	*n = NULL;
	size_t			 len = ev->data.scalar.length;

	if (len > (size_t)yp->lim->max_scalar) {
		yerr(yp, line, col, "value is %zu bytes, more than the %d "
		    "allowed", len, yp->lim->max_scalar);
		goto done;
	}
	if (memchr(ev->data.scalar.value, '\0', len) != NULL) {
		yerr(yp, line, col, "value holds a NUL character");
		goto done;
	}
	n = xcalloc(1, sizeof(*n));
	n->type = LEP_YAML_SCALAR;
	n->line = line;
	n->col = col;
	n->val = xstrndup((const char *)ev->data.scalar.value, len);
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
done:
	return n;
}

/* A copy of the latest node anchored under the alias's name. */
static struct lep_yaml_node *
yparse_alias(struct yparse *yp, const yaml_event_t *ev, int line, int col)
{
	struct lep_yaml_node	*n = NULL;
	const char		*name = (const char *)ev->data.alias.anchor;
	size_t			 i;

	if (++yp->aliases > (size_t)yp->lim->max_aliases) {
		yerr(yp, line, col, "more than %d aliases in one spec",
		    yp->lim->max_aliases);
		goto done;
	}
	for (i = yp->nanchors; i > 0; i--)
		if (strcmp(yp->anchors[i - 1].name, name) == 0)
			break;
	if (i == 0) {
		yerr(yp, line, col, "alias '*%s' names no anchor defined "
		    "before it", name);
		goto done;
	}
	yp->nodes--;	/* the copy counts itself */
	n = ynode_copy(yp, yp->anchors[i - 1].node, line, col);
	if (n != NULL) {
		n->line = line;
		n->col = col;
	}
done:
	return n;
}

/* Takes ownership of ev. */
static struct lep_yaml_node *
yparse_node(struct yparse *yp, yaml_event_t *ev, int depth)
{
	struct lep_yaml_node	*n = NULL;
	const unsigned char	*anchor, *tag;
	int			 line, col;

	line = (int)ev->start_mark.line + 1;
	col = (int)ev->start_mark.column + 1;
	if (depth > yp->lim->max_depth) {
		yerr(yp, line, col, "nesting deeper than %d levels",
		    yp->lim->max_depth);
		goto done;
	}
	yprops(ev, &anchor, &tag);
	if (tag != NULL) {
		yerr(yp, line, col, "YAML tags such as '%s' are not allowed "
		    "in a spec", (const char *)tag);
		goto done;
	}
	if (ycount(yp, line, col) == -1)
		goto done;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = yparse_scalar(yp, ev, line, col);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = yparse_collection(yp, ev, depth);
		break;
	case YAML_ALIAS_EVENT:
		n = yparse_alias(yp, ev, line, col);
		break;
	default:
		yerr(yp, line, col, "unexpected YAML event");
		break;
	}
	if (n != NULL && anchor != NULL)
		yanchor_add(yp, anchor, n);
done:
	yaml_event_delete(ev);
	return n;
}

/* YAML forbids tabs in indentation; a spec forbids them outright. */
static int
ytabs(struct yparse *yp, const char *text, size_t len)
{
	size_t	 i;
	int	 line = 1, col = 1, rc = 0;

	for (i = 0; i < len; i++) {
		if (text[i] == '\t') {
			yerr(yp, line, col, "tab character: indent with "
			    "spaces");
			rc = -1;
			break;
		}
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			col++;
	}
	return rc;
}

/* After the root node: the document's end, then the stream's. */
static int
yparse_end(struct yparse *yp)
{
	yaml_event_t	 ev;
	int		 rc = -1;

	if (ynext(yp, &ev) == -1)
		goto done;
	yaml_event_delete(&ev);		/* document end */
	if (ynext(yp, &ev) == -1)
		goto done;
	if (ev.type != YAML_STREAM_END_EVENT)
		yerr(yp, (int)ev.start_mark.line + 1,
		    (int)ev.start_mark.column + 1, "a second document: one "
		    "spec per file");
	else
		rc = 0;
	yaml_event_delete(&ev);
done:
	return rc;
}

/* The root node, or NULL: an error in yp->err, or no document at all. */
static struct lep_yaml_node *
yparse_stream(struct yparse *yp)
{
	struct lep_yaml_node	*root = NULL;
	yaml_event_t		 ev;

	if (ynext(yp, &ev) == -1)
		goto done;
	yaml_event_delete(&ev);		/* stream start */
	if (ynext(yp, &ev) == -1)
		goto done;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		goto done;
	}
	yaml_event_delete(&ev);		/* document start */
	if (ynext(yp, &ev) == -1)
		goto done;
	root = yparse_node(yp, &ev, 0);
	if (root != NULL && yparse_end(yp) == -1) {
		lep_yaml_free(root);
		root = NULL;
	}
done:
	return root;
}

const struct lep_err *
lep_yaml_load(struct lep_yaml_node **out, const char *file, const char *text,
    size_t len, const struct lep_yaml_limits *lim)
{
	struct yparse	 yp;
	size_t		 i;

	*out = NULL;
	memset(&yp, 0, sizeof(yp));
	yp.file = file;
	yp.lim = lim;
	if (ytabs(&yp, text, len) == -1)
		goto done;
	if (!yaml_parser_initialize(&yp.parser))
		lep_die_oom();
	yaml_parser_set_input_string(&yp.parser, (const unsigned char *)text,
	    len);
	*out = yparse_stream(&yp);
	yaml_parser_delete(&yp.parser);
	for (i = 0; i < yp.nanchors; i++)
		free(yp.anchors[i].name);
	free(yp.anchors);
done:
	return yp.err;
}
