/*
 * provider.c: wrappers over the ops table (see provider.h).
 */
#include "provider.h"

#include "../providers/provider.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "out.h"
#include "spec.h"
#include "util.h"

/* providers/table.c's, unless a test swapped in its own. */
static const struct lep_provider_entry	*table = lep_provider_table;
static size_t				 ntable;

static size_t
table_len(void)
{
	return table == lep_provider_table ? lep_provider_count : ntable;
}

void
lep_provider_table_use(const struct lep_provider_entry *t, size_t n)
{
	table = t != NULL ? t : lep_provider_table;
	ntable = n;
}

struct lep_provider {
	const struct lep_provider_ops	*ops;
	void				*state;
	struct lep_out			*out;
};

static void
fill_info(struct lep_provider_info *out, const struct lep_provider_entry *e)
{
	memset(out, 0, sizeof(*out));
	out->name = e->name;
	out->built = e->ops != NULL;
	out->catalog_url = e->catalog_url;
	out->catalog_flags = e->catalog_flags;
	if (e->ops != NULL) {
		out->caps = e->ops->caps;
		out->poll_ms = e->ops->poll_ms;
		out->has_offers = e->ops->offers != NULL;
	}
}

int
lep_provider_nth(struct lep_provider_info *out, size_t i)
{
	if (i >= table_len())
		return -1;
	fill_info(out, &table[i]);
	return 0;
}

int
lep_provider_info(struct lep_provider_info *out, const char *name)
{
	size_t	 i;

	for (i = 0; i < table_len(); i++)
		if (strcmp(table[i].name, name) == 0)
			return lep_provider_nth(out, i);
	return -1;
}

const char *
lep_provider_default(void)
{
	size_t	 i;

	for (i = 0; i < table_len(); i++)
		if (table[i].ops != NULL)
			return table[i].name;
	abort();	/* a lepton with no provider built is a build bug */
}

void
lep_provider_init(void)
{
	static const char	**names;
	size_t			 i;

	if (names != NULL)
		return;
	names = xcalloc(table_len(), sizeof(*names));
	for (i = 0; i < table_len(); i++)
		names[i] = table[i].name;
	lep_spec_set_providers(names, table_len());
}

int
lep_provider_main(int *rc, int argc, char **argv)
{
	const struct lep_provider_main	*m;
	size_t				 i;

	if (argc < 2 || strncmp(argv[1], "__", 2) != 0)
		return 0;
	for (i = 0; i < table_len(); i++) {
		if (table[i].ops == NULL)
			continue;
		for (m = table[i].ops->mains; m != NULL &&
		    m->argv1 != NULL; m++)
			if (strcmp(m->argv1, argv[1]) == 0) {
				*rc = m->main(argc - 1, argv + 1);
				return 1;
			}
	}
	return 0;
}

const struct lep_err *
lep_provider_open(struct lep_provider **out, const char *name,
    const struct lep_config *cfg)
{
	const struct lep_err	*err;
	struct lep_provider	*p;
	size_t			 i;

	*out = NULL;
	for (i = 0; i < table_len(); i++)
		if (strcmp(table[i].name, name) == 0)
			break;
	if (i == table_len())
		return lep_err_new(LEP_E_NOT_FOUND, "unknown provider '%s'",
		    name);
	if (table[i].ops == NULL)
		return lep_err_provider(lep_err_hint(lep_err_new(
		    LEP_E_UNSUPPORTED, "provider '%s' is not built into this "
		    "lepton yet", name), "use 'placement: {providers: "
		    "[%s]}' for now", lep_provider_default()),
		    table[i].name);
	if (table[i].ops->abi != LEP_PROVIDER_ABI)
		return lep_err_new(LEP_E_INTERNAL, "provider '%s' has ABI %u, "
		    "not %u", name, table[i].ops->abi,
		    LEP_PROVIDER_ABI);
	p = xcalloc(1, sizeof(*p));
	p->ops = table[i].ops;
	p->out = cfg->out;
	if (p->ops->open != NULL &&
	    (err = p->ops->open(&p->state, cfg)) != NULL) {
		free(p);
		return lep_err_provider(err, table[i].name);
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

int
lep_provider_takes_offer(const struct lep_provider *p)
{
	return (p->ops->caps & LEP_CAP_OFFER) != 0;
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

/* What a spec asks of a provider, and the capability each needs. */
static const struct {
	unsigned int	 cap;
	const char	*what;		/* what the provider cannot do */
	const char	*instead;	/* how to ask for less, or NULL */
} cap_names[] = {
	{ LEP_CAP_SERVICE, "serve (kind: service)", NULL },
	{ LEP_CAP_JOB, "run jobs (kind: job)", NULL },
	{ LEP_CAP_GPU, "place accelerators", "leave out "
	    "resources.accelerators" },
	{ LEP_CAP_CANARY, "run canary rollouts", "use 'rollout: {strategy: "
	    "replace}'" },
	{ LEP_CAP_MULTINODE, "run a job on several nodes", "use 'nodes: 1'" },
	{ LEP_CAP_REPLICAS, "serve more than one replica", "use "
	    "'replicas: 1'" },
	{ LEP_CAP_PARTITION, "pick a partition or an account", "leave out "
	    "placement.partition and placement.account" },
	{ LEP_CAP_AUTOSCALE, "scale replicas with load", "use one number: "
	    "'replicas: N'" },
	{ LEP_CAP_ABORT_IF, "measure a rollout against abort_if", "leave "
	    "out rollout.abort_if" },
	{ LEP_CAP_SPOT, "run on spot capacity", "use 'spot: false'" },
	{ LEP_CAP_IMAGE, "run a container image", "leave out 'image' and "
	    "give 'run'" },
	{ LEP_CAP_SETUP, "run 'setup' before 'run'", "do the setup in the "
	    "image (a RUN line of its Dockerfile)" },
	{ LEP_CAP_RESUBMIT, "resubmit a job after its node fails or it is "
	    "preempted", "use 'max_restarts: 0'" },
	{ LEP_CAP_REGIONS, "place by region or zone", "leave out "
	    "placement.regions and placement.zones (a cluster's partition "
	    "is placement.partition)" },
};

/* "key: [a, b]" (caller frees). */
static char *
list_key(const char *key, char *const *v, size_t n)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	size_t		 i;

	lep_buf_addf(&b, "%s: [", key);
	for (i = 0; i < n; i++)
		lep_buf_addf(&b, "%s%s", i ? ", " : "", v[i]);
	lep_buf_addch(&b, ']');
	return lep_buf_detach(&b, NULL);
}

/* The spec key that needs cap, as "key: value", or NULL when none. */
static char *
key_needing(const struct lep_spec *sp, unsigned int cap)
{
	int	 svc = sp->kind == LEP_SPEC_SERVICE;

	switch (cap) {
	case LEP_CAP_SERVICE:
		return svc ? xstrdup("kind: service") : NULL;
	case LEP_CAP_JOB:
		return svc ? NULL : xstrdup("kind: job");
	case LEP_CAP_GPU:
		return sp->resources.naccels > 0 ? xasprintf("resources."
		    "accelerators: %s", sp->resources.accels[0].name) : NULL;
	case LEP_CAP_CANARY:
		return svc && lep_streq(sp->service.strategy, "canary") ?
		    xstrdup("service.rollout.strategy: canary") : NULL;
	case LEP_CAP_MULTINODE:
		return !svc && sp->job.nodes > 1 ? xasprintf("job.nodes: %d",
		    sp->job.nodes) : NULL;
	case LEP_CAP_REPLICAS:
		if (!svc || sp->service.replicas_min <= 1)
			return NULL;
		return xasprintf("service.replicas: %d",
		    sp->service.replicas_min);
	case LEP_CAP_AUTOSCALE:
		if (!svc || (sp->service.replicas_max <=
		    sp->service.replicas_min && !sp->service.has_target_qps))
			return NULL;
		if (sp->service.has_target_qps)
			return xasprintf("service.replicas: {min: %d, max: %d, "
			    "target_qps: %g}", sp->service.replicas_min,
			    sp->service.replicas_max, sp->service.target_qps);
		return xasprintf("service.replicas: {min: %d, max: %d}",
		    sp->service.replicas_min, sp->service.replicas_max);
	case LEP_CAP_ABORT_IF:
		return svc && (sp->service.has_abort_error_rate ||
		    sp->service.has_abort_p99) ?
		    xstrdup("service.rollout.abort_if") : NULL;
	case LEP_CAP_SPOT:
		return sp->resources.spot ? xstrdup("resources.spot: true") :
		    NULL;
	case LEP_CAP_IMAGE:
		if (sp->image.ref != NULL)
			return xasprintf("image: %s", sp->image.ref);
		return sp->image.build != NULL ? xasprintf("image: {build: "
		    "%s}", sp->image.build) : NULL;
	case LEP_CAP_SETUP:
		return sp->setup != NULL ? xstrdup("setup") : NULL;
	case LEP_CAP_RESUBMIT:
		return !svc && sp->job.max_restarts > 0 ? xasprintf("job."
		    "max_restarts: %d", sp->job.max_restarts) : NULL;
	case LEP_CAP_REGIONS:
		if (sp->placement.nregions > 0)
			return list_key("placement.regions",
			    sp->placement.regions, sp->placement.nregions);
		return sp->placement.nzones > 0 ? list_key("placement.zones",
		    sp->placement.zones, sp->placement.nzones) : NULL;
	case LEP_CAP_PARTITION:
		if (sp->placement.partition != NULL)
			return xasprintf("placement.partition: %s",
			    sp->placement.partition);
		return sp->placement.account != NULL ? xasprintf("placement."
		    "account: %s", sp->placement.account) : NULL;
	}
	return NULL;
}

/* The built providers that have cap, as "a, b", or NULL when none. */
static char *
providers_with(unsigned int cap)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	size_t		 i;

	for (i = 0; i < table_len(); i++)
		if (table[i].ops != NULL &&
		    (table[i].ops->caps & cap))
			lep_buf_addf(&b, "%s%s", b.len ? ", " : "",
			    table[i].name);
	if (b.len > 0)
		return lep_buf_detach(&b, NULL);
	lep_buf_release(&b);
	return NULL;
}

/*
 * The first row of cap_names that sp needs and caps lacks, with the key
 * that needs it in *key (caller frees); -1 when caps covers sp.
 */
static int
lacking(char **key, unsigned int caps, const struct lep_spec *sp)
{
	size_t	 i;

	*key = NULL;
	for (i = 0; i < LEP_ARRAY_SIZE(cap_names); i++)
		if (!(caps & cap_names[i].cap) &&
		    (*key = key_needing(sp, cap_names[i].cap)) != NULL)
			return (int)i;
	return -1;
}

/*
 * Refuse what the provider's capabilities say it cannot honour, before
 * anything starts: never accept a key and ignore it.
 */
static const struct lep_err *
check_caps(const struct lep_provider_ops *ops, const struct lep_spec *sp)
{
	const struct lep_err	*err;
	char			*key, *who;
	int			 i;

	if ((i = lacking(&key, ops->caps, sp)) == -1)
		return NULL;
	err = lep_err_new(LEP_E_UNSUPPORTED, "%s: provider '%s' cannot "
	    "honour '%s': it cannot %s", sp->file, ops->name, key,
	    cap_names[i].what);
	who = providers_with(cap_names[i].cap);
	if (who != NULL && cap_names[i].instead != NULL)
		err = lep_err_hint(err, "%s, or a provider that can in "
		    "placement.providers: %s", cap_names[i].instead, who);
	else if (who != NULL)
		err = lep_err_hint(err, "name a provider that can in "
		    "placement.providers: %s", who);
	else if (cap_names[i].instead != NULL)
		err = lep_err_hint(err, "%s", cap_names[i].instead);
	free(who);
	free(key);
	return lep_err_provider(err, ops->name);
}

int
lep_provider_runs_anything(const struct lep_provider_info *pi)
{
	return pi->built && (pi->caps & (LEP_CAP_SERVICE | LEP_CAP_JOB)) != 0;
}

int
lep_provider_honours(const struct lep_provider_info *pi,
    const struct lep_spec *sp)
{
	char	*key;
	int	 i = lacking(&key, pi->caps, sp);

	free(key);
	return i == -1;
}

const struct lep_err *
lep_provider_refuses(const char *name, const struct lep_spec *sp)
{
	size_t	 i;

	for (i = 0; i < table_len(); i++)
		if (strcmp(table[i].name, name) == 0 &&
		    table[i].ops != NULL)
			return check_caps(table[i].ops, sp);
	return NULL;	/* unknown or not built: lep_provider_open says so */
}

const struct lep_err *
lep_provider_check(struct lep_provider *p, const struct lep_spec *sp)
{
	const struct lep_err	*err;
	long long		 t0 = lep_now_ms();

	if ((err = check_caps(p->ops, sp)) != NULL)
		return err;
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
lep_provider_pin(char **out, struct lep_provider *p, const struct lep_spec *sp)
{
	long long	 t0 = lep_now_ms();

	*out = NULL;
	if (p->ops->pin == NULL)
		return NULL;
	return finish(p, "pin", t0, p->ops->pin(out, p->state, sp));
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
lep_provider_sign(char ***lines, size_t *n, struct lep_provider *p,
    const char *name, const char *method, const char *url, const void *body,
    size_t len)
{
	*lines = NULL;
	*n = 0;
	if (p->ops->sign == NULL)
		return NULL;
	/* Per request, in a load run's loop too: not timed for -v. */
	return lep_err_provider(p->ops->sign(lines, n, p->state, name, method,
	    url, body, len), p->ops->name);
}

char *
lep_provider_home_region(struct lep_provider *p)
{
	char	*r = NULL;

	if (p->ops->home_region != NULL)
		p->ops->home_region(&r, p->state);
	return r;
}

int
lep_provider_signs(const struct lep_provider *p)
{
	return p->ops->sign != NULL;
}

void
lep_provider_sign_free(char **lines, size_t n)
{
	size_t	 i;

	for (i = 0; lines != NULL && i < n; i++) {
		lep_wipe(lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
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

