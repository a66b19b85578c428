/*
 * containers-run.c: the box, `lepton __box`: one container held by one
 * process (see containers-box.c for why and how it is started). It
 * creates the container from LEPTON_BOX, starts it, copies its framed
 * output into its own stdout and stderr (the child's log), waits for it,
 * stops it (CTR_STOP_S) on SIGTERM, and removes it; its exit code is the
 * container's. Secrets (the spec's and LEPTON_TOKEN, named in
 * LEPTON_BOX, their values in the box's environment) go to a 0600 file
 * on /dev/shm, mounted read-only at /run/lepton, never to the create
 * request.
 */
#include "provider.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containers-priv.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/proc.h"
#include "../lib/util.h"

extern char **environ;
static volatile sig_atomic_t	 box_stop;

static void
on_stop(int sig)
{
	(void)sig;
	box_stop = 1;
}

struct box {
	struct lep_json	*d;
	const char	*sock;
	char		*id;
	char		*secrets_dir;
};

static void
say(const char *fmt, ...) LEP_PRINTF(1, 2);

static void
say(const char *fmt, ...)
{
	va_list	 ap;

	fputs("lepton: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* VALUE in single quotes for sh: ' becomes '\''. */
static void
sh_quote(struct lep_buf *b, const char *v)
{
	lep_buf_addch(b, '\'');
	for (; *v; v++)
		if (*v == '\'')
			lep_buf_add(b, "'\\''");
		else
			lep_buf_addch(b, *v);
	lep_buf_addch(b, '\'');
}

static int
is_secret(const struct lep_json *keys, const char *entry)
{
	size_t	 i;

	for (i = 0; i < lep_json_len(keys); i++)
		if (ctr_key_is(entry, lep_json_string(lep_json_at(keys, i))))
			return 1;
	return 0;
}

/*
 * The secrets, as "export KEY='VALUE'" lines in a 0600 file under a 0700
 * directory on /dev/shm (memory; the state directory when there is no
 * /dev/shm). Its directory, or NULL with nothing secret.
 */

/*
 * An image that runs as a numeric user (USER 1000[:1000]) reads its
 * secrets as that user: the directory and file are handed to it, still
 * 0700 and 0600. A user by name means the image's /etc/passwd, which
 * lepton does not read: the command then says the file is unreadable.
 */
static const struct lep_err *
give_to_image_user(struct box *b, const char *file)
{
	const char	*u = lep_json_get_str(b->d, "user");
	char		*end;
	unsigned long	 uid, gid;

	if (u == NULL || u[0] < '0' || u[0] > '9')
		return NULL;
	uid = strtoul(u, &end, 10);
	gid = *end == ':' ? strtoul(end + 1, &end, 10) : uid;
	if (*end != '\0' || uid == 0 || uid == (unsigned long)getuid())
		return NULL;
	if (chown(b->secrets_dir, (uid_t)uid, (gid_t)gid) == -1 ||
	    chown(file, (uid_t)uid, (gid_t)gid) == -1)
		return lep_err_errno(LEP_E_FAILED, "cannot hand %s to the "
		    "image's user %s", file, u);
	return NULL;
}

static const struct lep_err *
write_secrets(struct box *b, struct lep_buf *text)
{
	const struct lep_err	*err;
	const char		*name = lep_json_get_str(b->d, "name");
	char			*p;

	if (access("/dev/shm", W_OK) == 0)
		b->secrets_dir = ctr_secrets_dir(name);
	else
		b->secrets_dir = xasprintf("%s/%s", lep_json_get_str(b->d,
		    "scratch"), name);
	/*
	 * Made here and now, or refused: /dev/shm is everyone's, and a
	 * directory someone made first (the name has 32 random bits) is not
	 * one to leave a secret in.
	 */
	if (mkdir(b->secrets_dir, 0700) == -1) {
		err = lep_err_errno(LEP_E_FAILED, "%s", b->secrets_dir);
		free(b->secrets_dir);
		b->secrets_dir = NULL;
		return err;
	}
	p = xasprintf("%s/env", b->secrets_dir);
	err = lep_write_atomic(p, text->buf, text->len, 0600);
	if (err == NULL)
		err = give_to_image_user(b, p);
	free(p);
	return err;
}

static void
remove_secrets(struct box *b)
{
	if (b->secrets_dir != NULL)
		ctr_secrets_remove(b->secrets_dir);
}

/* The create request: image, command, environment, mounts, limits. */
static struct lep_json *
create_body(struct box *b, const struct lep_json *env_pub, int secrets)
{
	const struct lep_json	*d = b->d;
	struct lep_json		*c = lep_json_obj(), *hc = lep_json_obj(), *a;
	struct lep_json		*o, *binds;
	const char		*cmd = lep_json_get_str(d, "cmd");
	char			 key[32], *s, rt[32];
	long long		 port = 0, v;

	lep_json_set_str(c, "Image", lep_json_get_str(d, "image"));
	if (cmd != NULL) {
		/*
		 * The whole command as the entrypoint: an empty Entrypoint
		 * does not clear the image's on Podman, and with one given
		 * neither engine adds the image's Cmd. Secrets a user the
		 * file does not let in cannot read are said to be missing,
		 * not a shell that dies at '.'.
		 */
		a = lep_json_arr();
		lep_json_push(a, lep_json_str("/bin/sh"));
		lep_json_push(a, lep_json_str("-c"));
		s = secrets ? xasprintf("if [ -r " CTR_SECRETS_AT "/env ]; "
		    "then set -a; . " CTR_SECRETS_AT "/env; set +a; else echo "
		    "\"lepton: " CTR_SECRETS_AT "/env is not readable by user "
		    "$(id -u): no secrets in the environment\" >&2; fi\n%s",
		    cmd) : xstrdup(cmd);
		lep_json_push(a, lep_json_str(s));
		free(s);
		lep_json_set(c, "Entrypoint", a);
		lep_json_set(c, "Cmd", lep_json_arr());
		lep_json_set_str(c, "WorkingDir", lep_json_get_str(d, "dir"));
	}
	lep_json_set(c, "Env", lep_json_dup(env_pub));
	lep_json_set(c, "Labels", lep_json_dup(lep_json_get(d, "labels")));
	o = lep_json_get(c, "Labels");
	snprintf(rt, sizeof(rt), "%ld:%llu", (long)getpid(),
	    lep_proc_start_time((long)getpid()));
	lep_json_set_str(o, CTR_LABEL "box", rt);
	binds = lep_json_dup(lep_json_get(d, "binds"));
	if (secrets) {
		s = xasprintf("%s:" CTR_SECRETS_AT ":ro", b->secrets_dir);
		lep_json_push(binds, lep_json_str(s));
		free(s);
	}
	lep_json_set(hc, "Binds", binds);
	lep_json_set_bool(hc, "Init", 1);
	if (lep_json_get_ll(d, "port", &port) == 0 && port > 0) {
		snprintf(key, sizeof(key), "%lld/tcp", port);
		o = lep_json_obj();
		lep_json_set(o, key, lep_json_obj());
		lep_json_set(c, "ExposedPorts", o);
		a = lep_json_arr();
		o = lep_json_obj();
		lep_json_set_str(o, "HostIp", "127.0.0.1");
		snprintf(rt, sizeof(rt), "%lld", port);
		lep_json_set_str(o, "HostPort", rt);
		lep_json_push(a, o);
		o = lep_json_obj();
		lep_json_set(o, key, a);
		lep_json_set(hc, "PortBindings", o);
	}
	if (lep_json_get_ll(d, "nano_cpus", &v) == 0 && v > 0)
		lep_json_set_num(hc, "NanoCpus", (double)v);
	if (lep_json_get_ll(d, "memory", &v) == 0 && v > 0)
		lep_json_set_num(hc, "Memory", (double)v);
	lep_json_set(c, "HostConfig", hc);
	return c;
}

/* GPUs: CUDA_VISIBLE_DEVICES on the host become the container's devices. */
static void
device_requests(struct lep_json *create, const char *cuda)
{
	struct lep_json	*req, *ids, *caps, *one, *arr;
	char		*copy, *tok, *save;

	ids = lep_json_arr();
	copy = xstrdup(cuda);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		lep_json_push(ids, lep_json_str(tok));
	free(copy);
	req = lep_json_obj();
	lep_json_set_str(req, "Driver", "nvidia");
	lep_json_set(req, "DeviceIDs", ids);
	caps = lep_json_arr();
	one = lep_json_arr();
	lep_json_push(one, lep_json_str("gpu"));
	lep_json_push(caps, one);
	lep_json_set(req, "Capabilities", caps);
	arr = lep_json_arr();
	lep_json_push(arr, req);
	lep_json_set(lep_json_get(create, "HostConfig"), "DeviceRequests",
	    arr);
}

static const struct lep_err *
box_create(struct box *b)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*pub = lep_json_arr(), *body, *j = NULL;
	struct lep_buf		 sec;
	const struct lep_json	*keys = lep_json_get(b->d, "secret_keys");
	const char		*gpus = lep_json_get_str(b->d, "gpus");
	char			*path, *esc;
	long			 status;
	size_t			 i;

	/* Big enough never to move: a grown buffer leaves copies behind. */
	lep_buf_init(&sec, 64 * 1024);
	lep_buf_add(&sec, "");
	for (i = 0; environ[i] != NULL; i++) {
		/* The engine renumbers the devices it passes: no host list. */
		if (ctr_key_is(environ[i], "CUDA_VISIBLE_DEVICES"))
			continue;
		if (is_secret(keys, environ[i])) {
			size_t	 n = strcspn(environ[i], "=");

			lep_buf_addf(&sec, "%.*s=", (int)n, environ[i]);
			sh_quote(&sec, environ[i] + n + 1);
			lep_buf_addch(&sec, '\n');
		} else
			lep_json_push(pub, lep_json_str(environ[i]));
	}
	if (sec.len > 0)
		lep_json_push(pub, lep_json_str("LEPTON_SECRETS_FILE="
		    CTR_SECRETS_AT "/env"));
	if (sec.len > 0 && (err = write_secrets(b, &sec)) != NULL)
		goto done;
	body = create_body(b, pub, sec.len > 0);
	if (gpus != NULL)
		device_requests(body, gpus);
	esc = lep_url_escape(lep_json_get_str(b->d, "name"));
	path = xasprintf("/containers/create?name=%s", esc);
	err = ctr_call(&status, &j, b->sock, "POST", path, body, 60000);
	lep_json_free(body);
	free(path);
	free(esc);
	if (err == NULL && status == 201 && lep_json_get_str(j, "Id") != NULL)
		b->id = xstrdup(lep_json_get_str(j, "Id"));
	else if (err == NULL)
		err = ctr_status_err(status, j, "cannot create the container");
	lep_json_free(j);
done:
	lep_wipe(sec.buf, sec.len);
	lep_buf_release(&sec);
	lep_json_free(pub);
	return err;
}

/* The engine's framed output: 8-byte headers, stream 1 or 2, length. */
struct demux {
	unsigned char	 hdr[8];
	size_t		 have;		/* header bytes */
	size_t		 left;		/* payload bytes to copy */
	int		 fd;
};

static void
on_logs(void *arg, const char *p, size_t n)
{
	struct demux	*m = arg;
	size_t		 k;

	while (n > 0) {
		if (m->left == 0) {
			k = 8 - m->have < n ? 8 - m->have : n;
			memcpy(m->hdr + m->have, p, k);
			m->have += k;
			p += k;
			n -= k;
			if (m->have == 8) {
				m->fd = m->hdr[0] == 2 ? STDERR_FILENO :
				    STDOUT_FILENO;
				m->left = (size_t)m->hdr[4] << 24 |
				    (size_t)m->hdr[5] << 16 |
				    (size_t)m->hdr[6] << 8 | m->hdr[7];
				m->have = 0;
			}
			continue;
		}
		k = m->left < n ? m->left : n;
		(void)!write(m->fd, p, k);
		m->left -= k;
		p += k;
		n -= k;
	}
}

/* A child that copies the container's output until it ends. */
static pid_t
follow_logs(struct box *b)
{
	pid_t	 pid = fork();

	if (pid == 0) {
		struct lep_http_resp	 resp;
		struct lep_http_req	 req;
		struct demux		 m;
		char			*url;

		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		memset(&m, 0, sizeof(m));
		url = xasprintf("http://docker%s/containers/%s/logs?follow=1&"
		    "stdout=1&stderr=1", CTR_API, b->id);
		memset(&req, 0, sizeof(req));
		req.method = "GET";
		req.url = url;
		req.unix_socket = b->sock;
		req.timeout_ms = -1;
		lep_http_resp_init(&resp);
		(void)lep_http_stream(&resp, &req, on_logs, &m);
		lep_http_resp_release(&resp);
		free(url);
		_exit(0);
	}
	return pid;
}

/* POST /wait: the exit code; -1 when interrupted or the engine failed. */
static int
box_wait(struct box *b, volatile sig_atomic_t *cancel, long timeout_ms)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_http_req	 req;
	struct lep_json		*j = NULL;
	long long		 code = -1;
	char			*url;

	url = xasprintf("http://docker%s/containers/%s/wait", CTR_API, b->id);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.body = "";
	req.unix_socket = b->sock;
	req.timeout_ms = timeout_ms;
	req.cancel = cancel;
	lep_http_resp_init(&resp);
	err = lep_http_do(&resp, &req);
	if (err == NULL && resp.status == 200 &&
	    lep_json_parse(&j, resp.body.buf, resp.body.len, "wait") == NULL)
		(void)lep_json_get_ll(j, "StatusCode", &code);
	else if (err != NULL && err->code != LEP_E_INTERRUPTED)
		say("waiting for the container: %s", err->msg);
	else if (err == NULL)
		say("waiting for the container: the engine answered %ld: %.200s",
		    resp.status, resp.body.buf);
	lep_json_free(j);
	lep_http_resp_release(&resp);
	free(url);
	return (int)code;
}

static void
box_remove(struct box *b)
{
	const struct lep_err	*err;
	long			 status;
	char			*path;

	path = xasprintf("/containers/%s?force=1&v=1", b->id);
	err = ctr_call(&status, NULL, b->sock, "DELETE", path, NULL, 30000);
	if (err != NULL)
		say("cannot remove container %.12s: %s", b->id, err->msg);
	free(path);
}

/* Start it, copy its output, wait for it; stop it when told to. */
static int
box_run(struct box *b)
{
	const struct lep_err	*err;
	struct lep_json		*j = NULL;
	pid_t			 logs;
	long			 status;
	char			*path;
	int			 code, i, st;

	path = xasprintf("/containers/%s/start", b->id);
	err = ctr_call(&status, &j, b->sock, "POST", path, NULL, 60000);
	free(path);
	if (err == NULL && status != 204 && status != 304)
		err = ctr_status_err(status, j, "cannot start the container");
	lep_json_free(j);
	if (err != NULL) {
		say("%s", err->msg);
		return 125;
	}
	logs = follow_logs(b);
	code = box_wait(b, &box_stop, -1);
	if (code < 0 && box_stop) {
		path = xasprintf("/containers/%s/stop?t=%d", b->id, CTR_STOP_S);
		err = ctr_call(&status, NULL, b->sock, "POST", path, NULL,
		    (CTR_STOP_S + 10) * 1000L);
		free(path);
		if (err != NULL)
			say("cannot stop the container: %s", err->msg);
		code = box_wait(b, NULL, 15000);
	}
	/* The output ends with the container; a stuck stream does not wait. */
	for (i = 0; logs > 0 && i < 50; i++) {
		if (waitpid(logs, &st, WNOHANG) == logs) {
			logs = 0;
			break;
		}
		usleep(100 * 1000);
	}
	if (logs > 0) {
		kill(logs, SIGKILL);
		(void)waitpid(logs, &st, 0);
	}
	return code < 0 ? 125 : code > 255 ? 255 : code;
}

/* lepton __box: hold one container; LEPTON_BOX says which. */
int
ctr_box_main(int argc, char **argv)
{
	const struct lep_err	*err;
	struct sigaction	 sa;
	struct box		 b;
	const char		*desc = getenv("LEPTON_BOX");
	int			 code;

	(void)argv;
	if (argc != 1 || desc == NULL) {
		fprintf(stderr, "usage: LEPTON_BOX=JSON lepton %s\n",
		    CTR_BOX_ARGV1);
		return 2;
	}
	memset(&b, 0, sizeof(b));
	if ((err = lep_json_parse(&b.d, desc, strlen(desc), "LEPTON_BOX")) !=
	    NULL || (b.sock = lep_json_get_str(b.d, "socket")) == NULL ||
	    lep_json_get_str(b.d, "image") == NULL) {
		say("LEPTON_BOX: %s", err ? err->msg : "no socket or image");
		lep_json_free(b.d);
		return 125;
	}
	unsetenv("LEPTON_BOX");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (lep_json_get_str(b.d, "output") != NULL) {
		/* The user's tree, not lepton's: made with the user's umask. */
		lep_umask_restore();
		(void)lep_mkdirs(lep_json_get_str(b.d, "output"), 0755);
		lep_umask_private();
	}
	if ((err = box_create(&b)) != NULL) {
		say("%s", err->msg);
		code = 125;
	} else {
		code = box_run(&b);
		box_remove(&b);
	}
	remove_secrets(&b);
	free(b.secrets_dir);
	free(b.id);
	lep_json_free(b.d);
	return code;
}

