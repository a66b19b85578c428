/*
 * containers-build.c: the image a revision or job runs, pinned by its ID
 * so that a rollback runs exactly what ran before even when a tag has
 * moved. image: REF is looked up on the engine, and pulled when missing;
 * image: {build: DIR} is sent to /build as a tar of DIR (lib/tar.c,
 * .dockerignore honoured) and tagged lepton/NAME:CONTEXT-DIGEST.
 */
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "containers-priv.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/tar.h"
#include "../lib/util.h"

#define BUILD_TIMEOUT_MS	(30L * 60 * 1000)
#define BUILD_TAIL		12	/* lines of output kept for errors */

/*
 * The ID of an image the engine has, or NOT_FOUND; and the user it runs
 * as (Config.User, "" for root) when user is not NULL.
 */
static const struct lep_err *
image_id(char **id, char **user, const char *sock, const char *ref)
{
	const struct lep_err	*err;
	struct lep_json		*j = NULL;
	long			 status;
	char			*esc = lep_url_escape(ref), *path;

	*id = NULL;
	path = xasprintf("/images/%s/json", esc);
	err = ctr_call(&status, &j, sock, "GET", path, NULL, 30000);
	if (err == NULL && status == 200 && lep_json_get_str(j, "Id") != NULL) {
		*id = xstrdup(lep_json_get_str(j, "Id"));
		if (user != NULL) {
			const char *u = lep_json_get_str(lep_json_get(j,
			    "Config"), "User");

			*user = xstrdup(u ? u : "");
		}
	} else if (err == NULL)
		err = ctr_status_err(status, j, "image '%s'", ref);
	lep_json_free(j);
	free(path);
	free(esc);
	return err;
}

/*
 * The engine's progress stream (/build, /images/create): one JSON object
 * a line, or several back to back. An "error" ends it badly; the last
 * lines of "stream" output are kept for the message; aux.ID is the image.
 */
struct progress {
	struct lep_buf	 line;
	char		*tail[BUILD_TAIL];
	size_t		 ntail;
	char		*error;
	char		*aux_id;
};

static void
progress_keep(struct progress *pg, const char *s)
{
	size_t	 n = strcspn(s, "\n");

	if (n == 0)
		return;
	if (pg->ntail == BUILD_TAIL) {
		free(pg->tail[0]);
		memmove(pg->tail, pg->tail + 1, (BUILD_TAIL - 1) *
		    sizeof(char *));
		pg->ntail--;
	}
	pg->tail[pg->ntail++] = xstrndup(s, n);
}

static void
progress_object(struct progress *pg, const char *text, size_t len)
{
	struct lep_json	*j = NULL;
	const char	*s;

	if (lep_json_parse(&j, text, len, "engine") != NULL)
		return;
	if ((s = lep_json_get_str(j, "error")) != NULL && pg->error == NULL)
		pg->error = xstrdup(s);
	if ((s = lep_json_get_str(j, "stream")) != NULL) {
		const char	*p = s, *nl;

		while (*p) {
			nl = strchr(p, '\n');
			char *one = xstrndup(p, nl ? (size_t)(nl - p) :
			    strlen(p));

			progress_keep(pg, one);
			free(one);
			if (nl == NULL)
				break;
			p = nl + 1;
		}
	}
	if ((s = lep_json_get_str(lep_json_get(j, "aux"), "ID")) != NULL) {
		free(pg->aux_id);
		pg->aux_id = xstrdup(s);
	}
	lep_json_free(j);
}

static void
on_progress(void *arg, const char *p, size_t n)
{
	struct progress	*pg = arg;
	size_t		 i, start = 0;

	for (i = 0; i < n; i++)
		if (p[i] == '\n') {
			lep_buf_addn(&pg->line, p + start, i - start);
			if (pg->line.len > 0)
				progress_object(pg, pg->line.buf,
				    pg->line.len);
			lep_buf_reset(&pg->line);
			start = i + 1;
		}
	lep_buf_addn(&pg->line, p + start, n - start);
}

static void
progress_release(struct progress *pg)
{
	while (pg->ntail > 0)
		free(pg->tail[--pg->ntail]);
	lep_buf_release(&pg->line);
	free(pg->error);
	free(pg->aux_id);
}

static char *
progress_tail(const struct progress *pg)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	size_t		 i;

	lep_buf_add(&b, "");
	for (i = 0; i < pg->ntail; i++)
		lep_buf_addf(&b, "\n  %s", pg->tail[i]);
	return lep_buf_detach(&b, NULL);
}

/* A streamed POST: the body (or none) and the progress it answers. */
static const struct lep_err *
stream_post(long *status, struct progress *pg, const char *sock,
    const char *path, const char *body, size_t len, const char *ctype)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_http_req	 req;
	struct lep_json		*j = NULL;
	char			*url = xasprintf("http://docker%s%s", CTR_API,
	    path);

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.unix_socket = sock;
	req.body = body ? body : "";
	req.body_len = len;
	req.content_type = ctype;
	req.timeout_ms = BUILD_TIMEOUT_MS;
	req.connect_timeout_ms = 3000;
	lep_http_resp_init(&resp);
	lep_buf_init_max(&pg->line, 1024 * 1024);
	err = lep_http_stream(&resp, &req, on_progress, pg);
	*status = resp.status;
	if (err == NULL && pg->line.len > 0)
		progress_object(pg, pg->line.buf, pg->line.len);
	if (err == NULL && (resp.status < 200 || resp.status > 299)) {
		(void)lep_json_parse(&j, resp.body.buf, resp.body.len,
		    "engine");
		if (pg->error == NULL)
			pg->error = xstrdup(lep_json_get_str(j, "message") ?
			    lep_json_get_str(j, "message") : "(no message)");
		lep_json_free(j);
	}
	if (err != NULL && err->code == LEP_E_PROVIDER)
		err = lep_err_hint(err, "is the engine running on %s?", sock);
	lep_http_resp_release(&resp);
	free(url);
	return err;
}

static const struct lep_err *
pull(struct ctr_state *cs, const struct lep_spec *sp, char **id)
{
	const struct lep_err	*err;
	struct progress		 pg;
	long			 status;
	char			*esc = lep_url_escape(sp->image.ref), *path, *tail;
	const char		*slash;

	memset(&pg, 0, sizeof(pg));
	lep_out_progress(cs->ls.out, "pulling %s", sp->image.ref);
	/* Without a tag or digest Docker pulls every tag: :latest, as run. */
	slash = strrchr(sp->image.ref, '/');
	path = xasprintf("/images/create?fromImage=%s%s", esc,
	    strchr(sp->image.ref, '@') == NULL && strchr(slash ? slash :
	    sp->image.ref, ':') == NULL ? "&tag=latest" : "");
	err = stream_post(&status, &pg, cs->sock, path, NULL, 0,
	    "application/json");
	lep_out_progress_done(cs->ls.out);
	if (err == NULL && pg.error != NULL) {
		tail = progress_tail(&pg);
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "%s:%d:%d: "
		    "image '%s' is not on the engine and cannot be pulled: "
		    "%s%s", sp->file, sp->image.pos.line, sp->image.pos.col,
		    sp->image.ref, pg.error, tail), "build it here "
		    "('image: {build: DIR}') or load it into the engine");
		free(tail);
	}
	if (err == NULL)
		err = image_id(id, NULL, cs->sock, sp->image.ref);
	progress_release(&pg);
	free(path);
	free(esc);
	return err;
}

static const struct lep_err *
build(struct ctr_state *cs, const struct lep_spec *sp, char **tag_out,
    char **id)
{
	const struct lep_err	*err;
	struct lep_buf		 ctx;
	struct progress		 pg;
	struct stat		 st;
	char			 digest[LEP_SHA256_HEX], *path, *tag, *etag;
	char			*edf, *tail;
	long			 status;
	long long		 t0 = lep_now_ms();
	size_t			 tar_len;
	const char		*keep[3];

	*tag_out = *id = NULL;
	if (stat(sp->image.build_dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return lep_err_new(LEP_E_SPEC, "%s:%d:%d: image.build: %s is "
		    "not a directory", sp->file, sp->image.pos.line,
		    sp->image.pos.col, sp->image.build_dir);
	keep[0] = sp->image.dockerfile ? sp->image.dockerfile : "Dockerfile";
	keep[1] = ".dockerignore";
	keep[2] = NULL;
	if ((err = lep_tar_dir(&ctx, sp->image.build_dir, LEP_TAR_MAX,
	    keep)) != NULL)
		return err;
	tar_len = ctx.len;
	/* The Dockerfile's name is part of what is built, after a NUL. */
	lep_buf_addch(&ctx, '\0');
	lep_buf_add(&ctx, sp->image.dockerfile ? sp->image.dockerfile :
	    "Dockerfile");
	err = lep_sha256_hex(digest, ctx.buf, ctx.len);
	ctx.len = tar_len;
	if (err != NULL) {
		lep_buf_release(&ctx);
		return err;
	}
	digest[12] = '\0';
	tag = xasprintf("lepton/%s:%s", sp->name, digest);
	/*
	 * The tag names the context's bytes (the Dockerfile among them): an
	 * image with it is this build's, and the engine's cache would only
	 * make it again, after reading every byte of the context.
	 */
	if (image_id(id, NULL, cs->sock, tag) == NULL) {
		lep_buf_release(&ctx);
		lep_out_info(cs->ls.out, "image %s is built already (%s)",
		    tag, *id);
		*tag_out = tag;
		return NULL;
	}
	etag = lep_url_escape(tag);
	edf = lep_url_escape(sp->image.dockerfile ? sp->image.dockerfile :
	    "Dockerfile");
	path = xasprintf("/build?t=%s&dockerfile=%s&rm=1&forcerm=1", etag,
	    edf);
	memset(&pg, 0, sizeof(pg));
	lep_out_progress(cs->ls.out, "building %s from %s (%zu KiB)", tag,
	    sp->image.build, ctx.len / 1024);
	err = stream_post(&status, &pg, cs->sock, path, ctx.buf, ctx.len,
	    "application/x-tar");
	lep_out_progress_done(cs->ls.out);
	lep_buf_release(&ctx);
	if (err == NULL && pg.error != NULL) {
		tail = progress_tail(&pg);
		err = lep_err_new(LEP_E_FAILED, "%s:%d:%d: the image did not "
		    "build: %s%s", sp->file, sp->image.pos.line,
		    sp->image.pos.col, pg.error, tail);
		free(tail);
	}
	/* The tag is what both engines agree on; aux.ID only Docker sends. */
	if (err == NULL)
		err = image_id(id, NULL, cs->sock, tag);
	if (err == NULL) {
		lep_out_info(cs->ls.out, "built %s (%s) in %.1f s", tag,
		    *id, (double)(lep_now_ms() - t0) / 1000);
		*tag_out = tag;
		tag = NULL;
	}
	progress_release(&pg);
	free(tag);
	free(etag);
	free(edf);
	free(path);
	return err;
}

const struct lep_err *
ctr_prepare_image(struct ctr_state *cs, const struct lep_spec *sp,
    const char *pin, struct lep_json **runtime)
{
	const struct lep_err	*err;
	char			*id = NULL, *tag = NULL, *again = NULL;
	char			*user = NULL;

	*runtime = NULL;
	if (pin != NULL) {
		err = image_id(&id, NULL, cs->sock, pin);
		if (err != NULL && err->code == LEP_E_NOT_FOUND)
			err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "image "
			    "%.19s, the one this revision of '%s' ran, is no "
			    "longer on the engine", pin, sp->name), "'lepton "
			    "deploy SPEC' builds or pulls it again, as a new "
			    "revision");
	} else if (sp->image.build != NULL)
		err = build(cs, sp, &tag, &id);
	else {
		err = image_id(&id, NULL, cs->sock, sp->image.ref);
		if (err != NULL && err->code == LEP_E_NOT_FOUND)
			err = pull(cs, sp, &id);
	}
	/* By its ID again: the user it runs as goes with it. */
	if (err == NULL)
		err = image_id(&again, &user, cs->sock, id);
	if (err != NULL) {
		free(tag);
		free(id);
		return err;
	}
	*runtime = lep_json_obj();
	lep_json_set_str(*runtime, "socket", cs->sock);
	lep_json_set_str(*runtime, "image", tag ? tag : sp->image.ref ?
	    sp->image.ref : id);
	lep_json_set_str(*runtime, "image_id", id);
	lep_json_set_str(*runtime, "user", user);
	free(again);
	free(user);
	free(tag);
	free(id);
	return NULL;
}
