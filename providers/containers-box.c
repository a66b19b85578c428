/*
 * containers-box.c: one container held by one process (the box itself is
 * containers-run.c). The supervisor
 * (or job runner) of the local machinery starts `lepton __box` where it
 * would start `sh -c RUN`; the box creates the container, starts it,
 * copies its output into the child's log, waits for it, and removes it.
 * So every rule the local machinery has for a child -- readiness probes,
 * restarts with backoff, SIGTERM then SIGKILL, logs, exit codes -- holds
 * for a container too. SIGTERM to the box stops the container
 * (CTR_STOP_S) and removes it; a box killed with SIGKILL leaves its
 * container behind, labelled with the box's pid and start time, for the
 * next sweep (ctr_sweep) to remove.
 *
 * What a box needs comes in its environment: LEPTON_BOX, a JSON
 * description (never secret), and the container's environment itself.
 * Secrets (the spec's secrets and LEPTON_TOKEN) never reach the
 * engine's record of the container: they go to a 0600 file on a tmpfs
 * (/dev/shm) mounted read-only at /run/lepton, which a 'run' command
 * sources before it starts; `docker inspect` shows only its path.
 */
#include "provider.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containers-priv.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/proc.h"
#include "../lib/spec.h"
#include "../lib/util.h"

extern char **environ;

/*
 * The machine and the home: a box's pid means something only on the
 * machine that started it, so another machine's lepton (same HOME path,
 * same engine) never sweeps what is not its own.
 */
void
ctr_home_label(char out[17], const char *home)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	char		 hex[LEP_SHA256_HEX], host[256];

	if (lep_read_file(&b, "/etc/machine-id", 256) != NULL) {
		lep_buf_release(&b);
		if (gethostname(host, sizeof(host)) == -1)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		lep_buf_add(&b, host);
	}
	lep_buf_addf(&b, "\n%s", home);
	if (lep_sha256_hex(hex, b.buf, b.len) != NULL)
		snprintf(hex, sizeof(hex), "%016zx", b.len);
	lep_buf_release(&b);
	memcpy(out, hex, 16);
	out[16] = '\0';
}

/* --- the spawn, in the supervisor or job runner ------------------------ */

int
ctr_key_is(const char *entry, const char *key)
{
	size_t	 n = strlen(key);

	return strncmp(entry, key, n) == 0 && entry[n] == '=';
}

/* Whether entry is one lepton set for the child (not its own env). */
static int
ours(const char *entry, const struct lep_spec *sp)
{
	size_t	 i;

	if (strncmp(entry, "LEPTON_", 7) == 0)
		return 1;
	for (i = 0; i < sp->nenv; i++)
		if (ctr_key_is(entry, sp->env[i].key))
			return 1;
	for (i = 0; i < sp->nsecrets; i++)
		if (ctr_key_is(entry, sp->secrets[i]))
			return 1;
	return 0;
}

static void
add_bind(struct lep_json *binds, const char *src, const char *mode)
{
	char	*b;

	if (src == NULL)
		return;
	b = xasprintf("%s:%s:%s", src, src, mode);
	lep_json_push(binds, lep_json_str(b));
	free(b);
}

/* The container's name: lepton-NAME-rREV-K-RAND, or lepton-job-ID. */
static char *
box_name(const struct local_spawn_req *req)
{
	char	 rnd[9];

	if (lep_random_hex(rnd, 4) != NULL)
		snprintf(rnd, sizeof(rnd), "%08x", (unsigned)getpid());
	if (req->job_id != NULL)
		return xasprintf("lepton-job-%s-%s", req->job_id, rnd);
	if (req->replica < 0)
		return xasprintf("lepton-%s-r%d-setup-%s", req->name,
		    req->revision, rnd);
	return xasprintf("lepton-%s-r%d-%d-%s", req->name, req->revision,
	    req->replica, rnd);
}

/* LEPTON_BOX: what the box is to create. */
static struct lep_json *
box_desc(const struct local_spawn_req *req)
{
	const struct lep_spec	*sp = req->spec;
	const struct lep_json	*rt = lep_json_get(req->meta, "runtime");
	struct lep_json		*d = lep_json_obj(), *labels, *binds, *keys;
	size_t			 n;
	char			 home[17], num[32], *name = box_name(req);
	char			*scratch;
	const char		*gpus;
	size_t			 i;

	lep_json_set_str(d, "socket", lep_json_get_str(rt, "socket"));
	lep_json_set_str(d, "image", lep_json_get_str(rt, "image_id"));
	if (lep_json_get_str(rt, "user") != NULL)
		lep_json_set_str(d, "user", lep_json_get_str(rt, "user"));
	lep_json_set_str(d, "name", name);
	if (req->cmd != NULL)
		lep_json_set_str(d, "cmd", req->cmd);
	lep_json_set_str(d, "dir", req->dir);
	/* Where secrets go on a host without /dev/shm: 0700, ours. */
	scratch = xasprintf("%s/containers/.run", req->home);
	(void)lep_mkdirs(scratch, 0700);
	lep_json_set_str(d, "scratch", scratch);
	free(scratch);
	if (req->port > 0)
		lep_json_set_int(d, "port", req->port);
	if (sp->resources.has_cpus && !sp->resources.cpus_plus)
		lep_json_set_num(d, "nano_cpus", sp->resources.cpus * 1e9);
	if (sp->resources.has_memory && !sp->resources.memory_plus)
		lep_json_set_num(d, "memory", sp->resources.memory *
		    1024.0 * 1024 * 1024);
	labels = lep_json_obj();
	ctr_home_label(home, req->home);
	lep_json_set_str(labels, CTR_LABEL "home", home);
	lep_json_set_str(labels, CTR_LABEL "name", req->name);
	if (req->job_id != NULL)
		lep_json_set_str(labels, CTR_LABEL "job", req->job_id);
	else {
		snprintf(num, sizeof(num), "%d", req->revision);
		lep_json_set_str(labels, CTR_LABEL "revision", num);
		snprintf(num, sizeof(num), "%d", req->replica);
		lep_json_set_str(labels, CTR_LABEL "replica", num);
	}
	lep_json_set(d, "labels", labels);
	/* The GPUs lepton placed (the meta record), never the caller's env. */
	gpus = req->job_id != NULL ? lep_json_get_str(req->meta,
	    "cuda_visible_devices") : lep_json_string(lep_json_at(
	    lep_json_get(req->meta, "cuda_visible_devices"),
	    (size_t)(req->replica < 0 ? 0 : req->replica)));
	if (gpus != NULL && gpus[0] != '\0' && sp->resources.naccels > 0)
		lep_json_set_str(d, "gpus", gpus);
	binds = lep_json_arr();
	/* A job writes its outputs where it runs; a replica only reads. */
	add_bind(binds, req->dir, req->job_id != NULL ? "rw" : "ro");
	add_bind(binds, lep_json_get_str(req->meta, "model_dir"), "ro");
	n = strlen(req->dir);
	if (req->output != NULL && (strncmp(req->output, req->dir, n) != 0 ||
	    (req->output[n] != '/' && req->output[n] != '\0')))
		add_bind(binds, req->output, "rw");
	lep_json_set(d, "binds", binds);
	if (req->output != NULL)
		lep_json_set_str(d, "output", req->output);
	keys = lep_json_arr();
	lep_json_push(keys, lep_json_str("LEPTON_TOKEN"));
	for (i = 0; i < sp->nsecrets; i++)
		lep_json_push(keys, lep_json_str(sp->secrets[i]));
	lep_json_set(d, "secret_keys", keys);
	free(name);
	return d;
}

static int
open_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type == FTW_D)
		(void)chmod(path, 0755);
	else if (type == FTW_F && S_ISREG(st->st_mode))
		(void)chmod(path, 0444);
	return 0;
}

/*
 * An image that runs as a user of its own (USER 1000, USER app) reads the
 * model as "others", and lepton keeps it 0700 and 0400: the version's own
 * directory is opened to read (0755, files 0444). models/ and
 * models/NAME/ stay 0700, so on the host no one else reaches it; only the
 * container's bind mount does.
 */
static void
open_model_to(const char *user, const char *model_dir)
{
	if (model_dir == NULL || user == NULL || user[0] == '\0' ||
	    strcmp(user, "root") == 0 || strncmp(user, "root:", 5) == 0 ||
	    strcmp(user, "0") == 0 || strncmp(user, "0:", 2) == 0)
		return;
	(void)nftw(model_dir, open_one, 16, FTW_PHYS);
}

pid_t
ctr_box_spawn(const struct local_spawn_req *req)
{
	struct lep_json	*d;
	char		*argv[3], exe[PATH_MAX], **env, *desc, *text;
	size_t		 n = 0, i;
	pid_t		 pid;

	if (local_self_exe(exe, sizeof(exe)) == -1)
		return -1;
	open_model_to(lep_json_get_str(lep_json_get(req->meta, "runtime"),
	    "user"), lep_json_get_str(req->meta, "model_dir"));
	d = box_desc(req);
	text = lep_json_print(d, 0);
	lep_json_free(d);
	desc = xasprintf("LEPTON_BOX=%s", text);
	free(text);
	for (i = 0; req->env[i] != NULL; i++)
		;
	env = xcalloc(i + 3, sizeof(char *));
	for (i = 0; req->env[i] != NULL; i++)
		if (ours(req->env[i], req->spec) &&
		    !ctr_key_is(req->env[i], "LEPTON_HOST") &&
		    !ctr_key_is(req->env[i], "LEPTON_BOX"))
			env[n++] = req->env[i];
	/* A published port reaches only a server bound to every address. */
	env[n++] = "LEPTON_HOST=0.0.0.0";
	env[n++] = desc;
	argv[0] = "lepton";
	argv[1] = CTR_BOX_ARGV1;
	argv[2] = NULL;
	/* The box needs no directory of its own: its paths are absolute. */
	pid = local_spawn_argv("/", exe, argv, req->log, env);
	free(desc);
	free(env);
	return pid;
}


char *
ctr_secrets_dir(const char *name)
{
	return xasprintf("/dev/shm/lepton-%ld-%s", (long)getuid(), name);
}

void
ctr_secrets_remove(const char *dir)
{
	char	*p = xasprintf("%s/env", dir);

	(void)unlink(p);
	(void)rmdir(dir);
	free(p);
}

/* --- sweeps ------------------------------------------------------------ */

/* GET /containers/json of home (and label): the list, or NULL. */
static struct lep_json *
list_ours(const char *sock, const char *home, const char *label)
{
	struct lep_json	*f = lep_json_obj(), *labels = lep_json_arr(), *j;
	char		 h[17], *s, *text, *esc, *path;
	long		 status;

	ctr_home_label(h, home);
	s = xasprintf(CTR_LABEL "home=%s", h);
	lep_json_push(labels, lep_json_str(s));
	free(s);
	if (label != NULL)
		lep_json_push(labels, lep_json_str(label));
	lep_json_set(f, "label", labels);
	text = lep_json_print(f, 0);
	esc = lep_url_escape(text);
	path = xasprintf("/containers/json?all=1&filters=%s", esc);
	if (ctr_call(&status, &j, sock, "GET", path, NULL, 15000) != NULL ||
	    status != 200 || lep_json_type(j) != LEP_JSON_ARRAY) {
		lep_json_free(j);
		j = NULL;
	}
	free(path);
	free(esc);
	free(text);
	lep_json_free(f);
	return j;
}

int
ctr_sweep(const char *sock, const char *home, const char *label)
{
	struct lep_json		*list = list_ours(sock, home, label);
	const struct lep_json	*c;
	const char		*box, *id, *cname;
	unsigned long long	 start;
	long			 pid, status;
	size_t			 i;
	char			*path;
	int			 n = 0;

	if (list == NULL)
		return -1;
	for (i = 0; i < lep_json_len(list); i++) {
		c = lep_json_at(list, i);
		box = lep_json_get_str(lep_json_get(c, "Labels"),
		    CTR_LABEL "box");
		id = lep_json_get_str(c, "Id");
		if (id == NULL || box == NULL ||
		    sscanf(box, "%ld:%llu", &pid, &start) != 2)
			continue;
		if (lep_proc_alive(pid, start))
			continue;
		path = xasprintf("/containers/%s?force=1&v=1", id);
		if (ctr_call(&status, NULL, sock, "DELETE", path, NULL,
		    30000) == NULL && (status == 204 || status == 404)) {
			n++;
			/* The dead box's secrets go with its container. */
			cname = lep_json_string(lep_json_at(lep_json_get(c,
			    "Names"), 0));
			if (cname != NULL) {
				char	*dir = ctr_secrets_dir(cname + (cname[0] ==
				    '/'));

				ctr_secrets_remove(dir);
				free(dir);
			}
		}
		free(path);
	}
	lep_json_free(list);
	return n;
}

int
ctr_count(const char *sock, const char *home, const char *label)
{
	struct lep_json	*list = list_ours(sock, home, label);
	int		 n;

	if (list == NULL)
		return -1;
	n = (int)lep_json_len(list);
	lep_json_free(list);
	return n;
}
