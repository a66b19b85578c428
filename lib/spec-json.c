/*
 * spec-json.c: a spec in its normalised JSON form, every default filled
 * in; records keep it and service.c hashes it, so keys keep their order.
 */
#include "spec.h"

#include <stdio.h>

#include "json.h"

static struct lep_json *
strv_json(char **v, size_t n)
{
	struct lep_json	*a = lep_json_arr();
	size_t		 i;

	for (i = 0; i < n; i++)
		lep_json_push(a, lep_json_str(v[i]));
	return a;
}

static struct lep_json *
amount_json(double v, int plus)
{
	char	 buf[64];

	if (!plus)
		return lep_json_num(v);
	snprintf(buf, sizeof(buf), "%g+", v);
	return lep_json_str(buf);
}

static struct lep_json *
accels_json(const struct lep_spec *sp)
{
	struct lep_json	*j;
	char		 buf[96];
	size_t		 i;

	if (sp->resources.accel_any) {
		j = lep_json_obj();
		for (i = 0; i < sp->resources.naccels; i++)
			lep_json_set_int(j, sp->resources.accels[i].name,
			    sp->resources.accels[i].count);
		return j;
	}
	if (sp->resources.naccels == 1) {
		snprintf(buf, sizeof(buf), "%s:%d",
		    sp->resources.accels[0].name,
		    sp->resources.accels[0].count);
		return lep_json_str(buf);
	}
	j = lep_json_arr();
	for (i = 0; i < sp->resources.naccels; i++) {
		snprintf(buf, sizeof(buf), "%s:%d",
		    sp->resources.accels[i].name,
		    sp->resources.accels[i].count);
		lep_json_push(j, lep_json_str(buf));
	}
	return j;
}

static struct lep_json *
service_json(const struct lep_spec *sp)
{
	struct lep_json	*svc, *o, *ab;

	svc = lep_json_obj();
	if (sp->service.port == 0)
		lep_json_set_str(svc, "port", "auto");
	else
		lep_json_set_int(svc, "port", sp->service.port);
	lep_json_set_str(svc, "path", sp->service.path);
	o = lep_json_obj();
	lep_json_set_str(o, "path", sp->service.ready_path);
	lep_json_set_int(o, "timeout", sp->service.ready_timeout);
	lep_json_set(svc, "readiness", o);
	o = lep_json_obj();
	lep_json_set_int(o, "min", sp->service.replicas_min);
	lep_json_set_int(o, "max", sp->service.replicas_max);
	if (sp->service.has_target_qps)
		lep_json_set_num(o, "target_qps", sp->service.target_qps);
	lep_json_set(svc, "replicas", o);
	o = lep_json_obj();
	lep_json_set_str(o, "strategy", sp->service.strategy);
	if (sp->service.canary_percent)
		lep_json_set_int(o, "percent", sp->service.canary_percent);
	lep_json_set_int(o, "bake", sp->service.bake);
	if (sp->service.has_abort_error_rate || sp->service.has_abort_p99) {
		ab = lep_json_obj();
		if (sp->service.has_abort_error_rate)
			lep_json_set_num(ab, "error_rate",
			    sp->service.abort_error_rate);
		if (sp->service.has_abort_p99)
			lep_json_set_num(ab, "p99_ms",
			    sp->service.abort_p99_ms);
		lep_json_set(o, "abort_if", ab);
	}
	lep_json_set(svc, "rollout", o);
	lep_json_set_str(svc, "protocol", sp->service.protocol);
	if (sp->service.has_max_cost)
		lep_json_set_num(svc, "max_cost", sp->service.max_cost);
	return svc;
}

static struct lep_json *
model_json(const struct lep_spec *sp)
{
	struct lep_json	*o = lep_json_obj();

	lep_json_set_str(o, "name", sp->model.name);
	if (sp->model.path)
		lep_json_set_str(o, "path", sp->model.path);
	if (sp->model.version)
		lep_json_set_str(o, "version", sp->model.version);
	if (sp->model.alias)
		lep_json_set_str(o, "alias", sp->model.alias);
	return o;
}

static struct lep_json *
resources_json(const struct lep_spec *sp)
{
	struct lep_json	*o = lep_json_obj();

	if (sp->resources.naccels)
		lep_json_set(o, "accelerators", accels_json(sp));
	if (sp->resources.has_cpus)
		lep_json_set(o, "cpus", amount_json(sp->resources.cpus,
		    sp->resources.cpus_plus));
	if (sp->resources.has_memory)
		lep_json_set(o, "memory", amount_json(sp->resources.memory,
		    sp->resources.memory_plus));
	lep_json_set_bool(o, "spot", sp->resources.spot);
	return o;
}

static struct lep_json *
placement_json(const struct lep_spec *sp)
{
	struct lep_json	*o = lep_json_obj();

	if (sp->placement.nproviders)
		lep_json_set(o, "providers", strv_json(sp->placement.providers,
		    sp->placement.nproviders));
	if (sp->placement.nregions)
		lep_json_set(o, "regions", strv_json(sp->placement.regions,
		    sp->placement.nregions));
	if (sp->placement.nzones)
		lep_json_set(o, "zones", strv_json(sp->placement.zones,
		    sp->placement.nzones));
	if (sp->placement.has_max_hourly)
		lep_json_set_num(o, "max_hourly", sp->placement.max_hourly);
	if (sp->placement.partition)
		lep_json_set_str(o, "partition", sp->placement.partition);
	if (sp->placement.account)
		lep_json_set_str(o, "account", sp->placement.account);
	return o;
}

static struct lep_json *
job_json(const struct lep_spec *sp)
{
	struct lep_json	*o = lep_json_obj(), *outs;

	lep_json_set_int(o, "nodes", sp->job.nodes);
	lep_json_set_int(o, "max_restarts", sp->job.max_restarts);
	if (sp->job.output_model) {
		outs = lep_json_obj();
		lep_json_set_str(outs, "model", sp->job.output_model);
		lep_json_set(o, "outputs", outs);
	}
	if (sp->job.has_max_cost)
		lep_json_set_num(o, "max_cost", sp->job.max_cost);
	if (sp->job.max_duration)
		lep_json_set_int(o, "max_duration", sp->job.max_duration);
	return o;
}

struct lep_json *
lep_spec_to_json(const struct lep_spec *sp)
{
	struct lep_json	*j, *o;
	size_t		 i;

	j = lep_json_obj();
	lep_json_set_str(j, "kind", sp->kind == LEP_SPEC_SERVICE ? "service" :
	    "job");
	lep_json_set_str(j, "name", sp->name);
	if (sp->has_model)
		lep_json_set(j, "model", model_json(sp));
	if (sp->has_resources)
		lep_json_set(j, "resources", resources_json(sp));
	if (sp->has_placement)
		lep_json_set(j, "placement", placement_json(sp));
	if (sp->image.ref != NULL)
		lep_json_set_str(j, "image", sp->image.ref);
	else if (sp->image.build != NULL) {
		o = lep_json_obj();
		lep_json_set_str(o, "build", sp->image.build);
		if (sp->image.dockerfile != NULL)
			lep_json_set_str(o, "dockerfile", sp->image.dockerfile);
		lep_json_set(j, "image", o);
	}
	if (sp->setup)
		lep_json_set_str(j, "setup", sp->setup);
	if (sp->run)
		lep_json_set_str(j, "run", sp->run);
	if (sp->nenv) {
		o = lep_json_obj();
		for (i = 0; i < sp->nenv; i++)
			lep_json_set_str(o, sp->env[i].key, sp->env[i].value);
		lep_json_set(j, "env", o);
	}
	if (sp->nsecrets)
		lep_json_set(j, "secrets", strv_json(sp->secrets,
		    sp->nsecrets));
	if (sp->kind == LEP_SPEC_SERVICE)
		lep_json_set(j, "service", service_json(sp));
	else
		lep_json_set(j, "job", job_json(sp));
	return j;
}
