/*
 * provider.c: wrappers over the ops table (see provider.h).
 */
#include "provider.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "out.h"
#include "spec.h"
#include "util.h"

struct lep_provider {
	const struct lep_provider_ops	*ops;
	void				*state;
	struct lep_out			*out;
};

const struct lep_err *
lep_provider_open(struct lep_provider **out, const char *name,
    const struct lep_config *cfg)
{
	const struct lep_err	*err;
	struct lep_provider	*p;
	size_t			 i;

	*out = NULL;
	for (i = 0; i < lep_provider_count; i++)
		if (strcmp(lep_provider_table[i].name, name) == 0)
			break;
	if (i == lep_provider_count)
		return lep_err_new(LEP_E_NOT_FOUND, "unknown provider '%s'",
		    name);
	if (lep_provider_table[i].ops == NULL)
		return lep_err_provider(lep_err_hint(lep_err_new(
		    LEP_E_UNSUPPORTED, "provider '%s' is not built into this "
		    "lepton yet", name), "use 'placement: {providers: "
		    "[local]}' for now"), lep_provider_table[i].name);
	if (lep_provider_table[i].ops->abi != LEP_PROVIDER_ABI)
		return lep_err_new(LEP_E_INTERNAL, "provider '%s' has ABI %u, "
		    "not %u", name, lep_provider_table[i].ops->abi,
		    LEP_PROVIDER_ABI);
	p = xcalloc(1, sizeof(*p));
	p->ops = lep_provider_table[i].ops;
	p->out = cfg->out;
	if (p->ops->open != NULL &&
	    (err = p->ops->open(&p->state, cfg)) != NULL) {
		free(p);
		return lep_err_provider(err, lep_provider_table[i].name);
	}
	*out = p;
	return NULL;
}

void
lep_provider_close(struct lep_provider *p)
{
	if (p == NULL)
		return;
	if (p->ops->close != NULL)
		p->ops->close(p->state);
	free(p);
}

const char *
lep_provider_name(const struct lep_provider *p)
{
	return p->ops->name;
}

static const struct lep_err *
unsupported(const struct lep_provider *p, const char *what)
{
	return lep_err_provider(lep_err_new(LEP_E_UNSUPPORTED, "provider "
	    "'%s' cannot %s", p->ops->name, what), p->ops->name);
}

static const struct lep_err *
finish(const struct lep_provider *p, const char *hook, long long t0,
    const struct lep_err *err)
{
	if (p->out != NULL)
		lep_out_info(p->out, "%s.%s: %lld ms%s%s", p->ops->name, hook,
		    lep_now_ms() - t0, err ? ": " : "", err ? err->msg : "");
	return lep_err_provider(err, p->ops->name);
}

const struct lep_err *
lep_provider_check(struct lep_provider *p, const struct lep_spec *sp)
{
	long long	 t0 = lep_now_ms();

	if (p->ops->check == NULL)
		return NULL;	/* nothing to check is not a refusal */
	return finish(p, "check", t0, p->ops->check(p->state, sp));
}

const struct lep_err *
lep_provider_deploy(struct lep_deployment **out, struct lep_provider *p,
    const struct lep_deploy_req *req)
{
	long long	 t0 = lep_now_ms();

	*out = NULL;
	if (p->ops->deploy == NULL)
		return unsupported(p, "deploy services");
	return finish(p, "deploy", t0, p->ops->deploy(out, p->state, req));
}

const struct lep_err *
lep_provider_status(struct lep_deployment **out, struct lep_provider *p,
    const char *name)
{
	long long	 t0 = lep_now_ms();

	*out = NULL;
	if (p->ops->status == NULL)
		return unsupported(p, "report status");
	return finish(p, "status", t0, p->ops->status(out, p->state, name));
}

const struct lep_err *
lep_provider_logs(struct lep_provider *p, const char *name,
    const struct lep_logs_req *req, struct lep_out *out)
{
	long long	 t0 = lep_now_ms();

	if (p->ops->logs == NULL)
		return unsupported(p, "show logs");
	return finish(p, "logs", t0, p->ops->logs(p->state, name, req, out));
}

const struct lep_err *
lep_provider_remove(struct lep_deployment **out, struct lep_provider *p,
    const char *name, int grace_s)
{
	long long	 t0 = lep_now_ms();

	*out = NULL;
	if (p->ops->remove == NULL)
		return unsupported(p, "stop deployments");
	return finish(p, "remove", t0, p->ops->remove(out, p->state, name,
	    grace_s));
}

const struct lep_err *
lep_provider_endpoint(char **url_out, char **token_out,
    struct lep_provider *p, const char *name)
{
	long long	 t0 = lep_now_ms();

	*url_out = *token_out = NULL;
	if (p->ops->endpoint == NULL)
		return unsupported(p, "serve predictions");
	return finish(p, "endpoint", t0, p->ops->endpoint(url_out, token_out,
	    p->state, name));
}

const struct lep_err *
lep_provider_secret_env(struct lep_json **out, const char *const *names,
    size_t n, const char *command)
{
	const char	*v;
	size_t		 i;

	*out = lep_json_obj();
	for (i = 0; i < n; i++) {
		if ((v = getenv(names[i])) == NULL) {
			lep_json_free_wiped(*out);
			*out = NULL;
			return lep_err_hint(lep_err_new(LEP_E_AUTH, "secret "
			    "'%s' is not set in the environment", names[i]),
			    "export %s before 'lepton %s'", names[i], command);
		}
		lep_json_set_str(*out, names[i], v);
	}
	return NULL;
}

const struct lep_err *
lep_provider_probe(struct lep_json **report, struct lep_provider *p)
{
	long long	 t0 = lep_now_ms();

	*report = NULL;
	if (p->ops->probe == NULL) {
		*report = lep_json_obj();
		return NULL;	/* nothing to set up */
	}
	return finish(p, "probe", t0, p->ops->probe(report, p->state));
}

const struct lep_err *
lep_provider_offers(struct lep_catalog **out, struct lep_provider *p)
{
	long long	 t0 = lep_now_ms();

	*out = NULL;
	if (p->ops->offers == NULL)
		return unsupported(p, "list offers");
	return finish(p, "offers", t0, p->ops->offers(out, p->state));
}

const struct lep_err *
lep_provider_update(struct lep_deployment **out, struct lep_provider *p,
    const char *name, int revision, const char *action)
{
	long long	 t0 = lep_now_ms();

	*out = NULL;
	if (p->ops->update == NULL)
		return unsupported(p, "run canaries");
	return finish(p, "update", t0, p->ops->update(out, p->state, name,
	    revision, action));
}

const struct lep_err *
lep_provider_submit(struct lep_job **out, struct lep_provider *p,
    const struct lep_submit_req *req)
{
	long long	 t0 = lep_now_ms();

	*out = NULL;
	if (p->ops->submit == NULL)
		return unsupported(p, "run jobs");
	return finish(p, "submit", t0, p->ops->submit(out, p->state, req));
}

const struct lep_err *
lep_provider_job_status(struct lep_job **out, struct lep_provider *p,
    const char *id)
{
	long long	 t0 = lep_now_ms();

	*out = NULL;
	if (p->ops->job_status == NULL)
		return unsupported(p, "report jobs");
	return finish(p, "job_status", t0, p->ops->job_status(out, p->state,
	    id));
}

const struct lep_err *
lep_provider_cancel(struct lep_job **out, struct lep_provider *p,
    const char *id, int grace_s)
{
	long long	 t0 = lep_now_ms();

	*out = NULL;
	if (p->ops->cancel == NULL)
		return unsupported(p, "cancel jobs");
	return finish(p, "cancel", t0, p->ops->cancel(out, p->state, id,
	    grace_s));
}

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
