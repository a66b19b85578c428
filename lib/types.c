/*
 * types.c: freeing and printing the shared types of types.h.
 */
#include "types.h"

#include <stdlib.h>

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
