/*
 * containers-priv.h: the containers driver's files share this. The
 * driver builds on the local provider's machinery (local-priv.h): the
 * same supervisor, stable endpoint, rollouts and job runner, with a
 * runtime whose every child is a runner (`lepton __box`) that holds one
 * container on a Docker Engine API socket for as long as it lives.
 *
 *   containers.c        the ops table, the engine's address, check
 *   containers-api.c    the Engine API over a unix socket (lib/http)
 *   containers-build.c  images: found, pulled or built from a directory
 *   containers-box.c    starting a box (one container's holder), sweeps
 *   containers-run.c    the box: lepton __box
 */
#ifndef LEPTON_PROVIDERS_CONTAINERS_PRIV_H
#define LEPTON_PROVIDERS_CONTAINERS_PRIV_H

#include <stddef.h>
#include <sys/types.h>

#include "local-priv.h"

struct lep_err;
struct lep_json;
struct lep_out;
struct lep_spec;

#define CTR_API		"/v1.41"	/* Docker 20.10, Podman 4 */
#define CTR_SOCKET	"/var/run/docker.sock"
#define CTR_STOP_S	5		/* SIGTERM to SIGKILL, in the box:
					   under LOCAL_GRACE_S */
#define CTR_LABEL	"ai.lepton."	/* our labels' prefix */
#define CTR_SECRETS_AT	"/run/lepton"	/* the secrets' mount, read-only */
#define CTR_BOX_ARGV1	"__box"

/* The driver's state: the local machinery's first. */
struct ctr_state {
	struct local_state	 ls;
	char			*sock;		/* the engine's socket */
	char			*sock_from;	/* DOCKER_HOST, a docker
						   context, or default */
	const struct lep_err	*sock_err;	/* DOCKER_HOST we cannot use */
};

/* The runtime the supervisor and job runner get (containers.c). */
extern const struct local_runtime ctr_runtime;

/*
 * One Engine API call: method, path under CTR_API (query included),
 * an optional JSON body. *status and *out (the parsed answer, or NULL
 * when it is not JSON) as the engine gave them. Errors: PROVIDER when
 * nothing answers on sock (with a hint), TIMEOUT.
 */
const struct lep_err *ctr_call(long *status, struct lep_json **out,
	    const char *sock, const char *method, const char *path,
	    const struct lep_json *body, long timeout_ms);
/* The engine's message for a status that is not 2xx, as an error. */
const struct lep_err *ctr_status_err(long status, const struct lep_json *,
	    const char *fmt, ...) LEP_PRINTF(3, 4);
/* "Docker Engine 20.10.24, API 1.41" or "Podman 4.3.1, API 1.41". */
const struct lep_err *ctr_version(char **out, const char *sock);

/*
 * The image a spec names, found (or pulled), or built from its
 * directory; or the one pinned (an ID), which must still be there:
 * *runtime gets socket, image, image_id and user (containers-build.c).
 */
const struct lep_err *ctr_prepare_image(struct ctr_state *,
	    const struct lep_spec *, const char *pin,
	    struct lep_json **runtime);

/* containers-box.c: start a box; containers-run.c: the box. */
pid_t	 ctr_box_spawn(const struct local_spawn_req *);
int	 ctr_box_main(int argc, char **argv);
/* Whether "KEY=VALUE" entry is key's. */
int	 ctr_key_is(const char *entry, const char *key);
/* Where the box of a container (its name) keeps its secrets; free it. */
char	*ctr_secrets_dir(const char *name);
/* Remove that directory and its file. */
void	 ctr_secrets_remove(const char *dir);
/* "ai.lepton.home" of a home: hex, 16 digits, into out[17]. */
void	 ctr_home_label(char out[17], const char *home);
/*
 * Remove the containers whose box is gone (killed before its end), of
 * those with label ("ai.lepton.name=NAME", "ai.lepton.job=ID"), or of
 * every one (NULL). The count removed, or -1 when the engine did not
 * answer.
 */
int	 ctr_sweep(const char *sock, const char *home, const char *label);
/* The containers with label under home still there. */
int	 ctr_count(const char *sock, const char *home, const char *label);

#endif
