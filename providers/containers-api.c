/*
 * containers-api.c: the Docker Engine API (v1.41), spoken over a unix
 * socket through lib/http. Podman's compatible socket answers the same.
 * The URL's host is never resolved: libcurl connects to the socket.
 */
#include "provider.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "containers-priv.h"
#include "../lib/error.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/util.h"

/* Why nothing answered on sock, in words about the socket, not port 80. */
static const struct lep_err *
socket_error(const char *sock, const struct lep_err *err)
{
	struct stat	 st;
	const char	*why;
	int		 e = stat(sock, &st) == -1 ? errno : 0;

	if (e != 0 && e != EACCES)
		why = e == ENOENT ? "no such socket" : strerror(e);
	else if (e == 0 && !S_ISSOCK(st.st_mode))
		why = "not a socket";
	else if (e == EACCES || access(sock, R_OK | W_OK) == -1)
		return lep_err_hint(lep_err_new(LEP_E_AUTH, "no permission to "
		    "use the container engine on %s", sock), "a user in the "
		    "engine's group (docker) may; or a rootless engine's "
		    "socket, in DOCKER_HOST");
	else if (strstr(err->msg, "Couldn't connect") != NULL ||
	    strstr(err->msg, "Connection refused") != NULL)
		why = "nothing listens on it";
	else
		why = err->msg;
	return lep_err_hint(lep_err_new(LEP_E_PROVIDER, "no container engine "
	    "answers on %s: %s", sock, why), "start dockerd or 'podman "
	    "system service', or set DOCKER_HOST=unix:///PATH; 'lepton "
	    "check containers' says which socket it tried and why");
}

const struct lep_err *
ctr_call(long *status, struct lep_json **out, const char *sock,
    const char *method, const char *path, const struct lep_json *body,
    long timeout_ms)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_http_req	 req;
	char			*url, *text = NULL;

	*status = 0;
	if (out != NULL)
		*out = NULL;
	url = xasprintf("http://docker%s%s", CTR_API, path);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.unix_socket = sock;
	req.timeout_ms = timeout_ms;
	req.connect_timeout_ms = 3000;
	req.max_body = 16u * 1024 * 1024;
	/* Only what nothing could have received is tried again. */
	req.retries = 2;
	if (body != NULL) {
		text = lep_json_print(body, 0);
		req.body = text;
		req.body_len = strlen(text);
	} else if (strcmp(method, "POST") == 0) {
		req.body = "";
		req.body_len = 0;
		req.content_type = "application/json";
	}
	lep_http_resp_init(&resp);
	err = lep_http_do(&resp, &req);
	free(text);
	if (err != NULL && err->code == LEP_E_PROVIDER)
		err = socket_error(sock, err);
	if (err == NULL) {
		*status = resp.status;
		if (out != NULL && resp.body.len > 0 &&
		    lep_json_parse(out, resp.body.buf, resp.body.len,
		    "engine") != NULL)
			*out = NULL;
	}
	lep_http_resp_release(&resp);
	free(url);
	return err;
}

const struct lep_err *
ctr_status_err(long status, const struct lep_json *j, const char *fmt, ...)
{
	const char	*msg = lep_json_get_str(j, "message");
	enum lep_code	 code = LEP_E_PROVIDER;
	va_list		 ap;
	char		*what;

	va_start(ap, fmt);
	if (vasprintf(&what, fmt, ap) == -1)
		lep_die_oom();
	va_end(ap);
	if (status == 404)
		code = LEP_E_NOT_FOUND;
	else if (status == 409)
		code = LEP_E_CONFLICT;
	{
		const struct lep_err *e = lep_err_new(code, "%s: the engine "
		    "answered %ld%s%s", what, status, msg ? ": " : "",
		    msg ? msg : "");

		free(what);
		return e;
	}
}

const struct lep_err *
ctr_version(char **out, const char *sock)
{
	const struct lep_err	*err;
	const struct lep_json	*comps, *c;
	struct lep_json		*j = NULL;
	const char		*engine = "Docker Engine", *ver, *api;
	long			 status;
	size_t			 i;

	*out = NULL;
	if ((err = ctr_call(&status, &j, sock, "GET", "/version", NULL,
	    5000)) != NULL)
		return err;
	if (status != 200) {
		err = ctr_status_err(status, j, "GET /version");
		lep_json_free(j);
		return err;
	}
	ver = lep_json_get_str(j, "Version");
	api = lep_json_get_str(j, "ApiVersion");
	/* Podman names itself among the components. */
	comps = lep_json_get(j, "Components");
	for (i = 0; i < lep_json_len(comps); i++) {
		c = lep_json_at(comps, i);
		if (lep_json_get_str(c, "Name") != NULL &&
		    strstr(lep_json_get_str(c, "Name"), "Podman") != NULL) {
			engine = "Podman";
			break;
		}
	}
	*out = xasprintf("%s %s, API %s", engine, ver ? ver : "?",
	    api ? api : "?");
	lep_json_free(j);
	return NULL;
}
