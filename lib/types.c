/*
 * types.c: freeing and printing the shared types of types.h.
 */
#include "types.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

void
lep_job_free(struct lep_job *j)
{
	if (j == NULL)
		return;
	free(j->id);
	free(j->name);
	free(j->provider);
	free(j->state);
	free(j->message);
	free(j->log_path);
	free(j->model);
	free(j);
}

void
lep_deployment_free(struct lep_deployment *d)
{
	if (d == NULL)
		return;
	free(d->name);
	free(d->provider);
	free(d->state);
	free(d->message);
	free(d->endpoint);
	free(d->spec_sha256);
	free(d->log_dir);
	free(d->replicas);
	free(d->canary_replicas);
	free(d);
}

static struct lep_json *
replicas_json(const struct lep_replica *v, size_t n)
{
	struct lep_json	*reps = lep_json_arr(), *r;
	size_t		 i;

	for (i = 0; i < n; i++) {
		r = lep_json_obj();
		lep_json_set_int(r, "index", v[i].index);
		lep_json_set_int(r, "pid", v[i].pid);
		lep_json_set_int(r, "port", v[i].port);
		lep_json_set_str(r, "state", v[i].state);
		lep_json_set_int(r, "restarts", v[i].restarts);
		lep_json_push(reps, r);
	}
	return reps;
}

struct lep_json *
lep_deployment_json(const struct lep_deployment *d)
{
	struct lep_json	*j, *c;
	char		 ts[32];

	j = lep_json_obj();
	lep_json_set_str(j, "name", d->name);
	lep_json_set_str(j, "provider", d->provider);
	lep_json_set_str(j, "state", d->state);
	if (d->message != NULL)
		lep_json_set_str(j, "message", d->message);
	lep_json_set_str(j, "endpoint", d->endpoint);
	lep_json_set_int(j, "revision", d->revision);
	lep_json_set_int(j, "ready", d->ready);
	lep_json_set_int(j, "desired", d->desired);
	if (d->spec_sha256 != NULL)
		lep_json_set_str(j, "spec_sha256", d->spec_sha256);
	if (d->created) {
		lep_format_time(ts, sizeof(ts), d->created);
		lep_json_set_str(j, "created", ts);
	}
	if (d->updated) {
		lep_format_time(ts, sizeof(ts), d->updated);
		lep_json_set_str(j, "updated", ts);
	}
	if (d->supervisor_pid)
		lep_json_set_int(j, "supervisor_pid", d->supervisor_pid);
	if (d->log_dir != NULL)
		lep_json_set_str(j, "log_dir", d->log_dir);
	lep_json_set(j, "replicas", replicas_json(d->replicas, d->nreplicas));
	if (d->canary) {
		c = lep_json_obj();
		lep_json_set_int(c, "revision", d->canary);
		lep_json_set_int(c, "percent", d->canary_percent);
		lep_json_set(c, "replicas", replicas_json(d->canary_replicas,
		    d->ncanary));
		lep_json_set(j, "canary", c);
	}
	return j;
}

struct lep_deployment *
lep_deployment_of_record(const char *provider, const char *name,
    const struct lep_json *st, const char *state, const char *msg,
    int ready, const char *endpoint)
{
	struct lep_deployment	*d = xcalloc(1, sizeof(*d));
	const struct lep_json	*can = lep_json_get(st, "canary");
	const char		*s;
	long long		 n, count = 1;
	size_t			 i;

	d->name = xstrdup(name);
	d->provider = xstrdup(provider);
	d->state = xstrdup(state);
	d->message = msg ? xstrdup(msg) : NULL;
	d->endpoint = xstrdup(endpoint ? endpoint : "");
	if ((s = lep_json_get_str(st, "spec_sha256")) != NULL)
		d->spec_sha256 = xstrdup(s);
	d->revision = lep_json_get_ll(st, "revision", &n) == 0 ? (int)n : 0;
	d->created = lep_json_get_ll(st, "created", &n) == 0 ? n : 0;
	d->updated = lep_json_get_ll(st, "updated", &n) == 0 ? n : 0;
	(void)lep_json_get_ll(st, "count", &count);
	d->desired = strcmp(state, "stopped") ? (int)count : 0;
	d->ready = ready ? (int)count : 0;
	d->nreplicas = (size_t)count;
	d->replicas = xcalloc(d->nreplicas, sizeof(*d->replicas));
	for (i = 0; i < d->nreplicas; i++) {
		d->replicas[i].index = (int)i;
		d->replicas[i].revision = d->revision;
		lep_strlcpy(d->replicas[i].state, ready ? "ready" : state,
		    sizeof(d->replicas[i].state));
	}
	if (can != NULL && lep_json_get_ll(can, "revision", &n) == 0) {
		d->canary = (int)n;
		d->canary_percent = lep_json_get_ll(can, "percent", &n) == 0 ?
		    (int)n : 0;
		d->ncanary = 1;
		d->canary_replicas = xcalloc(1, sizeof(*d->canary_replicas));
		d->canary_replicas[0].revision = d->canary;
		lep_strlcpy(d->canary_replicas[0].state, ready ? "ready" :
		    state, sizeof(d->canary_replicas[0].state));
	}
	return d;
}
