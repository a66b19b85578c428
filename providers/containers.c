/*
 * containers.c: the containers provider. Services and jobs run as
 * containers on a Docker Engine API socket -- dockerd, or Podman's
 * compatible service -- spoken to directly (containers-api.c), never
 * through a docker CLI. Everything else is the local provider's: the
 * supervisor, the stable endpoint and its token, rollouts, canaries,
 * history and the job runner, with a runtime (ctr_runtime) whose every
 * child is a box holding one container (containers-box.c).
 *
 * The engine: where the docker CLI would look (DOCKER_HOST, a docker
 * context, /var/run/docker.sock); a unix:// socket only, lepton speaks
 * no TCP or SSH to an engine.
 */
#include "provider.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containers-priv.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/util.h"

#define CTR_SUPERVISOR_ARGV1	"__ctr-supervise"
#define CTR_JOB_ARGV1		"__ctr-job"

/* The docker CLI's configuration directory: DOCKER_CONFIG or ~/.docker. */
static char *
docker_config_dir(void)
{
	const char	*d = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	if (d != NULL && d[0] != '\0')
		return xstrdup(d);
	return xasprintf("%s/.docker", home ? home : "/");
}

/*
 * The host of docker context name, as the docker CLI keeps it:
 * CONFIG/contexts/meta/SHA256(name)/meta.json, Endpoints.docker.Host.
 */
static const struct lep_err *
context_host(char **host, const char *dir, const char *name)
{
	const struct lep_err	*err;
	struct lep_json		*j = NULL;
	char			 hex[LEP_SHA256_HEX], *p;
	const char		*h;

	*host = NULL;
	if ((err = lep_sha256_hex(hex, name, strlen(name))) != NULL)
		return err;
	p = xasprintf("%s/contexts/meta/%s/meta.json", dir, hex);
	err = lep_read_json(&j, p, LEP_DRIVER_FILE_MAX);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "docker "
		    "context '%s' not found (no %s)", name, p), "'docker "
		    "context ls' lists them; DOCKER_HOST=unix:///PATH needs "
		    "none");
	else if (err == NULL) {
		h = lep_json_get_str(lep_json_get(lep_json_get(j,
		    "Endpoints"), "docker"), "Host");
		if (h == NULL)
			err = lep_err_new(LEP_E_FAILED, "%s: docker context "
			    "'%s' names no Endpoints.docker.Host", p, name);
		else
			*host = xstrdup(h);
	}
	lep_json_free(j);
	free(p);
	return err;
}

/*
 * Where the engine is, in the docker CLI's order: DOCKER_HOST, then the
 * context DOCKER_CONTEXT names, then config.json's currentContext, then
 * /var/run/docker.sock ("default" is that context). A unix:// address
 * only: an error for what we cannot use.
 */
static void
resolve_socket(struct ctr_state *cs)
{
	struct lep_json	*cfg = NULL;
	const char	*dh = getenv("DOCKER_HOST"), *name = NULL;
	char		*dir, *p, *host = NULL;

	cs->sock_from = xstrdup("default");
	if (dh != NULL && dh[0] != '\0') {
		host = xstrdup(dh);
		free(cs->sock_from);
		cs->sock_from = xstrdup("DOCKER_HOST");
	} else {
		dir = docker_config_dir();
		p = xasprintf("%s/config.json", dir);
		if ((name = getenv("DOCKER_CONTEXT")) != NULL &&
		    name[0] != '\0') {
			free(cs->sock_from);
			cs->sock_from = xasprintf("docker context %s, from "
			    "DOCKER_CONTEXT", name);
		} else if (lep_read_json(&cfg, p, LEP_DRIVER_FILE_MAX) ==
		    NULL && (name = lep_json_get_str(cfg,
		    "currentContext")) != NULL && name[0] != '\0') {
			free(cs->sock_from);
			cs->sock_from = xasprintf("docker context %s, from %s",
			    name, p);
		} else
			name = NULL;
		if (name != NULL && strcmp(name, "default") != 0)
			cs->sock_err = context_host(&host, dir, name);
		lep_json_free(cfg);
		free(p);
		free(dir);
	}
	if (cs->sock_err != NULL || host == NULL) {
		cs->sock = xstrdup(CTR_SOCKET);
		free(host);
		return;
	}
	if (strncmp(host, "unix://", 7) == 0 && host[7] == '/') {
		cs->sock = xstrdup(host + 7);
		free(host);
		return;
	}
	cs->sock = host;
	cs->sock_err = lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "the "
	    "container engine at %s (%s): lepton speaks to one on a unix "
	    "socket only (unix:///PATH)", host, cs->sock_from), "point "
	    "DOCKER_HOST at this machine's engine: the spec's directory is "
	    "mounted from here, and ports are published on its 127.0.0.1");
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
	free(cs->sock_from);
	free(cs);
}

/* The engine can run sp: it answers, and takes its accelerators. */
static const struct lep_err *
engine_takes(struct ctr_state *cs, const struct lep_spec *sp)
{
	const struct lep_err	*err;
	char			*server = NULL;

	if (cs->sock_err != NULL)
		return cs->sock_err;
	/*
	 * Podman's Docker-compatible API takes no DeviceRequests (only CDI
	 * names): GPUs asked of it would be dropped without a word.
	 */
	if (sp->resources.naccels > 0) {
		if ((err = ctr_version(&server, cs->sock)) != NULL)
			return err;
		if (strncmp(server, "Podman", 6) == 0) {
			err = lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: "
			    "containers on %s cannot place accelerators "
			    "(resources.accelerators: %s): its Docker API "
			    "passes no GPUs", sp->file, server,
			    sp->resources.accels[0].name), "use dockerd with "
			    "the NVIDIA runtime");
			free(server);
			return err;
		}
		free(server);
	}
	return NULL;
}

/*
 * The runtime's prepare: the engine answers and the image is there, the
 * one pinned (a revision's, again) or the one the spec names now.
 */
static const struct lep_err *
ctr_prepare(void *state, const struct lep_spec *sp, const char *pin,
    struct lep_json **rt)
{
	struct ctr_state	*cs = state;
	const struct lep_err	*err;

	*rt = NULL;
	if ((err = engine_takes(cs, sp)) != NULL)
		return err;
	/* What boxes killed before their end left: gone before we add. */
	(void)ctr_sweep(cs->sock, cs->ls.home, NULL);
	return ctr_prepare_image(cs, sp, pin, rt);
}

/* The ops' pin: the image the spec names, found or built, by its ID. */
static const struct lep_err *
ctr_pin(char **out, void *state, const struct lep_spec *sp)
{
	struct ctr_state	*cs = state;
	const struct lep_err	*err;
	struct lep_json		*rt = NULL;

	*out = NULL;
	if ((err = engine_takes(cs, sp)) != NULL ||
	    (err = ctr_prepare_image(cs, sp, NULL, &rt)) != NULL)
		return err;
	*out = xstrdup(lep_json_get_str(rt, "image_id"));
	lep_json_free(rt);
	return NULL;
}

/*
 * The supervisor's sweep, when a box ended: in a child of its own, so
 * that a slow engine never holds up the endpoint's loop (the supervisor
 * reaps it with its replicas), on the socket the revision was made on.
 */
static void
ctr_rt_sweep(const char *home, const char *name, const struct lep_json *meta)
{
	const char	*sock = lep_json_get_str(lep_json_get(meta, "runtime"),
	    "socket");
	char		*label;
	pid_t		 pid;

	if (sock == NULL || (pid = fork()) != 0)
		return;
	label = xasprintf(CTR_LABEL "name=%s", name);
	(void)ctr_sweep(sock, home, label);
	free(label);
	_exit(0);
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
	lep_json_set_bool(*report, "configured", strcmp(cs->sock_from,
	    "default") != 0 || stat(cs->sock, &st) == 0);
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

/*
 * Each command that reads or changes a deployment (key "name") or a job
 * (key "job") sweeps its containers first.
 */
static void
sweep(struct ctr_state *cs, const char *key, const char *name)
{
	char	*label;
	int	 n;

	if (cs->sock_err != NULL)
		return;
	label = xasprintf(CTR_LABEL "%s=%s", key, name);
	if ((n = ctr_sweep(cs->sock, cs->ls.home, label)) > 0)
		lep_out_warn(cs->ls.out, "removed %d container(s) of '%s' left "
		    "behind by a lepton that was killed", n, name);
	free(label);
}

static const struct lep_err *
ctr_status(struct lep_deployment **out, void *state, const char *name)
{
	sweep(state, "name", name);
	return local_status(out, state, name);
}

static const struct lep_err *
ctr_remove(struct lep_deployment **out, void *state, const char *name,
    int grace_s)
{
	struct ctr_state	*cs = state;
	const struct lep_err	*err;
	char			*label;
	int			 left;

	err = local_remove(out, state, name, grace_s);
	if (err != NULL || cs->sock_err != NULL)
		return err;
	sweep(cs, "name", name);
	label = xasprintf(CTR_LABEL "name=%s", name);
	left = ctr_count(cs->sock, cs->ls.home, label);
	free(label);
	if (left > 0)
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
		sweep(state, "job", id);
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
	/*
	 * No SETUP: each replica is a fresh container of its image. No
	 * RESUBMIT: its jobs are the local runner's, which nothing preempts.
	 */
	.caps = LEP_CAP_SERVICE | LEP_CAP_JOB | LEP_CAP_GPU | LEP_CAP_CANARY |
	    LEP_CAP_REPLICAS | LEP_CAP_IMAGE | LEP_CAP_REGIONS,
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
	.pin = ctr_pin,
	.endpoint = local_endpoint,
};
