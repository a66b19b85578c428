/*
 * containers.c: the containers provider. Services and jobs run as
 * containers on a Docker Engine API socket -- dockerd, or Podman's
 * compatible service -- spoken to directly (containers-api.c), never
 * through a docker CLI. Everything else is the local provider's: the
 * supervisor, the stable endpoint and its token, rollouts, canaries,
 * history and the job runner, with a runtime (ctr_runtime) whose every
 * child is a box holding one container (containers-box.c).
 *
 * The engine: DOCKER_HOST (unix://PATH only; lepton speaks no TCP to an
 * engine) or /var/run/docker.sock, as the docker CLI would use.
 */
#include "provider.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers-priv.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/util.h"

#define CTR_SUPERVISOR_ARGV1	"__ctr-supervise"
#define CTR_JOB_ARGV1		"__ctr-job"

/* DOCKER_HOST, or the default socket; an error for what we cannot use. */
static void
resolve_socket(struct ctr_state *cs)
{
	const char	*dh = getenv("DOCKER_HOST");

	if (dh == NULL || dh[0] == '\0') {
		cs->sock = xstrdup(CTR_SOCKET);
		cs->sock_from = "default";
		return;
	}
	cs->sock_from = "DOCKER_HOST";
	if (strncmp(dh, "unix://", 7) == 0 && dh[7] == '/') {
		cs->sock = xstrdup(dh + 7);
		return;
	}
	cs->sock = xstrdup(dh);
	cs->sock_err = lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "DOCKER_HOST"
	    "=%s: lepton speaks to a container engine on a unix socket only "
	    "(unix:///PATH)", dh), "point DOCKER_HOST at the engine's socket, "
	    "or forward one (ssh -L /tmp/docker.sock:/var/run/docker.sock)");
}

static const struct lep_err *
ctr_open(void **state_out, const struct lep_config *cfg)
{
	struct ctr_state	*cs = xcalloc(1, sizeof(*cs));

	local_state_init(&cs->ls, &ctr_runtime, cfg);
	resolve_socket(cs);
	*state_out = cs;
	return NULL;
}

static void
ctr_close(void *state)
{
	struct ctr_state	*cs = state;

	if (cs == NULL)
		return;
	local_state_release(&cs->ls);
	free(cs->sock);
	free(cs);
}

/* The runtime's prepare: the engine answers and the image is there. */
static const struct lep_err *
ctr_prepare(void *state, const struct lep_spec *sp, struct lep_json **rt)
{
	struct ctr_state	*cs = state;

	*rt = NULL;
	if (cs->sock_err != NULL)
		return cs->sock_err;
	/* What boxes killed before their end left: gone before we add. */
	(void)ctr_sweep(cs->sock, cs->ls.home, NULL);
	return ctr_prepare_image(cs, sp, rt);
}

static void
ctr_rt_sweep(const char *home, const char *name)
{
	struct ctr_state	 cs;

	memset(&cs, 0, sizeof(cs));
	resolve_socket(&cs);
	if (cs.sock_err == NULL)
		(void)ctr_sweep(cs.sock, home, name);
	free(cs.sock);
}

const struct local_runtime ctr_runtime = {
	.name = "containers",
	.super_argv1 = CTR_SUPERVISOR_ARGV1,
	.job_argv1 = CTR_JOB_ARGV1,
	.prepare = ctr_prepare,
	.spawn = ctr_box_spawn,
	.sweep = ctr_rt_sweep,
};

static const struct lep_err *
ctr_check(void *state, const struct lep_spec *sp)
{
	struct ctr_state	*cs = state;

	if (sp->image.ref == NULL && sp->image.build == NULL)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "containers runs a container image, and the spec names "
		    "none", sp->file), "add 'image: REFERENCE' or 'image: "
		    "{build: DIR}' (a directory with a Dockerfile)");
	if (sp->setup != NULL)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
		    "containers cannot run 'setup': each replica is a fresh "
		    "container of the image", sp->file), "do the setup in "
		    "the image (a RUN line of its Dockerfile)");
	if (cs->sock_err != NULL)
		return cs->sock_err;
	return local_check(state, sp);
}

static const struct lep_err *
ctr_probe(struct lep_json **report, void *state)
{
	struct ctr_state	*cs = state;
	const struct lep_err	*err;
	struct stat		 st;
	char			*server = NULL, *url;
	int			 n;

	*report = lep_json_obj();
	url = xasprintf("unix://%s", cs->sock);
	lep_json_set_str(*report, "url", cs->sock_err ? cs->sock : url);
	free(url);
	lep_json_set_str(*report, "url_from", cs->sock_from);
	lep_json_set_bool(*report, "configured", cs->sock_from[0] == 'D' ||
	    stat(cs->sock, &st) == 0);
	if (cs->sock_err != NULL)
		return cs->sock_err;
	if ((err = ctr_version(&server, cs->sock)) != NULL)
		return err;
	lep_json_set_str(*report, "server", server);
	free(server);
	/* Ours that no box holds any more: a check is a good time to go. */
	if ((n = ctr_sweep(cs->sock, cs->ls.home, NULL)) > 0)
		lep_out_info(cs->ls.out, "removed %d container(s) left behind "
		    "by a lepton that was killed", n);
	return NULL;
}

/* Each command that reads or changes a deployment sweeps first. */
static void
sweep(struct ctr_state *cs, const char *name)
{
	int	 n;

	if (cs->sock_err != NULL)
		return;
	if ((n = ctr_sweep(cs->sock, cs->ls.home, name)) > 0)
		lep_out_warn(cs->ls.out, "removed %d container(s) of '%s' left "
		    "behind by a lepton that was killed", n, name);
}

static const struct lep_err *
ctr_status(struct lep_deployment **out, void *state, const char *name)
{
	sweep(state, name);
	return local_status(out, state, name);
}

static const struct lep_err *
ctr_remove(struct lep_deployment **out, void *state, const char *name,
    int grace_s)
{
	struct ctr_state	*cs = state;
	const struct lep_err	*err;
	int			 left;

	err = local_remove(out, state, name, grace_s);
	if (err != NULL || cs->sock_err != NULL)
		return err;
	sweep(cs, name);
	if ((left = ctr_count(cs->sock, cs->ls.home, name)) > 0)
		lep_out_warn(cs->ls.out, "%d container(s) of '%s' are still on "
		    "the engine; the next 'lepton stop %s' removes them", left,
		    name, name);
	return NULL;
}

static const struct lep_err *
ctr_cancel(struct lep_job **out, void *state, const char *id, int grace_s)
{
	const struct lep_err	*err = local_cancel(out, state, id, grace_s);

	if (err == NULL)
		sweep(state, id);
	return err;
}

static int
ctr_supervise_main(int argc, char **argv)
{
	return local_supervise_run(&ctr_runtime, argc, argv);
}

static int
ctr_job_main(int argc, char **argv)
{
	return local_job_run(&ctr_runtime, argc, argv);
}

static const struct lep_provider_main ctr_mains[] = {
	{ CTR_SUPERVISOR_ARGV1, ctr_supervise_main },
	{ CTR_JOB_ARGV1, ctr_job_main },
	{ CTR_BOX_ARGV1, ctr_box_main },
	{ NULL, NULL },
};

const struct lep_provider_ops provider_containers = {
	.name = "containers",
	.abi = LEP_PROVIDER_ABI,
	.caps = LEP_CAP_SERVICE | LEP_CAP_JOB | LEP_CAP_GPU | LEP_CAP_CANARY |
	    LEP_CAP_REPLICAS | LEP_CAP_IMAGE,
	.poll_ms = 100,
	.mains = ctr_mains,
	.open = ctr_open,
	.close = ctr_close,
	.check = ctr_check,
	.deploy = local_deploy,
	.status = ctr_status,
	.logs = local_logs,
	.remove = ctr_remove,
	.update = local_update,
	.submit = local_submit,
	.job_status = local_job_status,
	.cancel = ctr_cancel,
	.offers = local_offers,
	.probe = ctr_probe,
	.endpoint = local_endpoint,
};
