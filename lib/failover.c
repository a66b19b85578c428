/*
 * failover.c: the attempts of one deploy or train across offers, said on
 * stderr as each moves on, and written down for history and the job
 * record.
 */
#include "failover.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "out.h"
#include "plan.h"
#include "provider.h"
#include "spec.h"
#include "trailer.h"
#include "util.h"

size_t
lep_failover_providers(const char ***out, const struct lep_spec *sp)
{
	struct lep_provider_info pi;
	const char		*first = lep_plan_provider(sp);
	size_t			 i, n = 1;

	*out = xcalloc(sp->placement.nproviders + 1, sizeof(**out));
	(*out)[0] = first;
	for (i = 0; i < sp->placement.nproviders; i++)
		if (strcmp(sp->placement.providers[i], first) != 0 &&
		    lep_provider_info(&pi, sp->placement.providers[i]) == 0 &&
		    pi.built && lep_provider_honours(&pi, sp))
			(*out)[n++] = pi.name;
	return n;
}

void
lep_failover_init(struct lep_failover *fo, struct lep_out *out)
{
	memset(fo, 0, sizeof(*fo));
	fo->out = out;
}

void
lep_failover_release(struct lep_failover *fo)
{
	size_t	 i;

	for (i = 0; i < fo->n; i++) {
		free(fo->v[i].provider);
		free(fo->v[i].region);
		free(fo->v[i].instance);
		free(fo->v[i].outcome);
	}
	free(fo->v);
	fo->v = NULL;
	fo->n = 0;
}

/* "aws us-east-1 ml.m5.large", or "local". Caller frees. */
static char *
where(const struct lep_attempt *a)
{
	return xasprintf("%s%s%s%s%s", a->provider, a->region ? " " : "",
	    a->region ? a->region : "", a->instance ? " " : "",
	    a->instance ? a->instance : "");
}

/* One line of s: a trailer holds no newline, a diagnostic no control. */
static char *
one_line(const char *s)
{
	char	*t = xstrdup(s), *p;

	for (p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return t;
}

char *
lep_failover_line(const struct lep_attempt *a, const char *last)
{
	char	*w = where(a), *line;

	line = xasprintf("%s: %s", w, a->outcome ? a->outcome : last ? last :
	    "started");
	free(w);
	return line;
}

void
lep_failover_begin(struct lep_failover *fo, const char *provider,
    const char *region, const char *instance)
{
	struct lep_attempt	*a;
	char			*prev, *next;

	fo->v = xreallocarray(fo->v, fo->n + 1, sizeof(*fo->v));
	a = &fo->v[fo->n++];
	a->provider = xstrdup(provider);
	a->region = region ? xstrdup(region) : NULL;
	a->instance = instance ? xstrdup(instance) : NULL;
	a->outcome = NULL;
	if (fo->n < 2 || fo->v[fo->n - 2].outcome == NULL)
		return;
	prev = lep_failover_line(&fo->v[fo->n - 2], NULL);
	next = where(a);
	lep_out_warn(fo->out, "%s: trying %s", prev, next);
	free(prev);
	free(next);
}

int
lep_failover_end(struct lep_failover *fo, const struct lep_err *err)
{
	struct lep_attempt	*a;

	if (fo->n == 0 || err == NULL)
		return 0;
	a = &fo->v[fo->n - 1];
	free(a->outcome);
	if (err->code != LEP_E_CAPACITY) {
		a->outcome = xasprintf("failed: %s", err->msg);
		return 0;
	}
	if (err->reason[0])
		a->outcome = xasprintf("no capacity (%s)", err->reason);
	else
		a->outcome = xasprintf("no capacity: %s", err->msg);
	return 1;
}

void
lep_failover_skip(struct lep_failover *fo, const char *provider,
    const struct lep_err *err)
{
	lep_out_warn(fo->out, "%s left out: %s", provider, err->msg);
}

int
lep_failover_moved(const struct lep_failover *fo)
{
	return fo->n > 1;
}

void
lep_failover_trailers(const struct lep_failover *fo, struct lep_buf *b,
    const char *last)
{
	size_t	 i;
	char	*line, *clean;

	for (i = 0; i < fo->n; i++) {
		line = lep_failover_line(&fo->v[i], last);
		clean = one_line(line);
		lep_buf_addf(b, "%s: %s\n", LEP_TRAILER_ATTEMPT, clean);
		free(clean);
		free(line);
	}
}

struct lep_json *
lep_failover_json(const struct lep_failover *fo, const char *last)
{
	struct lep_json	*arr = lep_json_arr(), *o;
	size_t		 i;

	for (i = 0; i < fo->n; i++) {
		o = lep_json_obj();
		lep_json_set_str(o, "provider", fo->v[i].provider);
		if (fo->v[i].region != NULL)
			lep_json_set_str(o, "region", fo->v[i].region);
		if (fo->v[i].instance != NULL)
			lep_json_set_str(o, "instance", fo->v[i].instance);
		lep_json_set_str(o, "outcome", fo->v[i].outcome ?
		    fo->v[i].outcome : last ? last : "started");
		lep_json_push(arr, o);
	}
	return arr;
}

const struct lep_err *
lep_failover_error(const struct lep_failover *fo, const struct lep_spec *sp,
    const struct lep_err *last)
{
	const struct lep_err	*err;
	struct lep_buf		 b = LEP_BUF_INIT;
	size_t			 i;
	char			*line;

	for (i = 0; i < fo->n; i++) {
		line = lep_failover_line(&fo->v[i], NULL);
		lep_buf_addf(&b, "%s%s", i ? "; " : "", line);
		free(line);
	}
	err = lep_err_capacity(last != NULL ? last->reason : NULL, "%s: no "
	    "offer had capacity for '%s' (%zu tried): %s", sp->file, sp->name,
	    fo->n, b.buf);
	lep_buf_release(&b);
	if (last != NULL && last->provider != NULL)
		err = lep_err_provider(err, last->provider);
	if (sp->placement.nregions == 1)
		return lep_err_hint(err, "placement.regions pins it to '%s': "
		    "list more regions (or providers) to let lepton move it, "
		    "or try later", sp->placement.regions[0]);
	return lep_err_hint(err, "try later, raise the quota, or allow more "
	    "regions or providers in placement");
}

const struct lep_err *
lep_failover_sites(struct lep_site **out, size_t *n_out, int *machines_out,
    const char *home, const struct lep_spec *sp, struct lep_provider *p,
    const char *pname)
{
	const struct lep_err	*err;
	char			*r;

	if ((err = lep_plan_sites(out, n_out, machines_out, home, sp,
	    pname)) != NULL || sp->placement.nregions > 0)
		return err;
	r = lep_provider_home_region(p);
	lep_sites_prefer(*out, *n_out, r);
	free(r);
	return NULL;
}
