/*
 * gcp-gcs.c: Cloud Storage's JSON API (buckets, media and resumable
 * uploads, reads, lists, deletes) and Cloud Logging's entries:list, as
 * the GCP driver uses them. Every call is gcp_send's: a bearer token,
 * timeouts, bounded retries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcp-priv.h"
#include "../lib/error.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/types.h"
#include "../lib/util.h"

/* How often a followed log is asked again. */
#define LOGS_POLL_MS	2000
/* Entries asked for per page. */
#define LOGS_PAGE	1000

int
gcp_gs_split(char **bucket, char **object, const char *url)
{
	const char	*b, *slash;

	*bucket = *object = NULL;
	if (!lep_starts_with(url, "gs://"))
		return -1;
	b = url + 5;
	if ((slash = strchr(b, '/')) == NULL || slash == b)
		return -1;
	*bucket = xstrndup(b, (size_t)(slash - b));
	*object = xstrdup(slash + 1);
	return 0;
}

const struct lep_err *
gcp_gcs_ensure_bucket(struct gcp_state *s, const char *bucket,
    const char *region)
{
	const struct lep_err	*err;
	struct lep_json		*body;
	const char		*project;
	char			*path, *esc, *st = NULL;

	esc = lep_url_escape(bucket);
	path = xasprintf("storage/v1/b/%s", esc);
	err = gcp_call(NULL, NULL, s, GCP_STORAGE, NULL, "GET", path, NULL);
	free(path);
	if (err == NULL || err->code != LEP_E_NOT_FOUND)
		goto done;
	if ((err = gcp_project(&project, s)) != NULL)
		goto done;
	free(esc);
	esc = lep_url_escape(project);
	path = xasprintf("storage/v1/b?project=%s", esc);
	body = lep_json_obj();
	lep_json_set_str(body, "name", bucket);
	if (region != NULL)
		lep_json_set_str(body, "location", region);
	err = gcp_call(NULL, &st, s, GCP_STORAGE, NULL, "POST", path, body);
	free(path);
	/* Made meanwhile by another lepton: as good. */
	if (err != NULL && err->code == LEP_E_CONFLICT)
		err = NULL;
	if (err == NULL && s->out != NULL)
		lep_out_info(s->out, "gcp: made bucket gs://%s in %s", bucket,
		    region != NULL ? region : "the default location");
done:
	free(st);
	free(esc);
	return err;
}

/* One media upload: the whole object in one request. */
static const struct lep_err *
put_media(struct gcp_state *s, const char *bucket, const char *object,
    const void *data, size_t len)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	char			*b = lep_url_escape(bucket);
	char			*o = lep_url_escape(object), *path;

	path = xasprintf("upload/storage/v1/b/%s/o?uploadType=media&name=%s",
	    b, o);
	err = gcp_send(&resp, NULL, s, GCP_STORAGE, NULL, "POST", path, data,
	    len, "application/octet-stream", NULL, 0);
	lep_http_resp_release(&resp);
	free(path);
	free(b);
	free(o);
	return err;
}

/*
 * How much of a resumable upload the server holds, from a 308's Range
 * ("bytes=0-N": N + 1; none: 0).
 */
static size_t
held(const struct lep_http_resp *r)
{
	char		*range = lep_http_resp_header(r, "Range");
	const char	*dash;
	size_t		 n = 0;

	if (range != NULL && (dash = strchr(range, '-')) != NULL)
		n = (size_t)strtoull(dash + 1, NULL, 10) + 1;
	free(range);
	return n;
}

/* A new resumable upload session's URL in *session (caller frees). */
static const struct lep_err *
begin_session(char **session, struct gcp_state *s, const char *bucket,
    const char *object, size_t len)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_json		*meta;
	char			*b = lep_url_escape(bucket);
	char			*o = lep_url_escape(object), *path, *text, *hdr;
	const char		*hdrs[1];

	*session = NULL;
	path = xasprintf("upload/storage/v1/b/%s/o?uploadType=resumable&"
	    "name=%s", b, o);
	meta = lep_json_obj();
	lep_json_set_str(meta, "name", object);
	text = lep_json_print(meta, 0);
	lep_json_free(meta);
	hdr = xasprintf("X-Upload-Content-Length: %zu", len);
	hdrs[0] = hdr;
	err = gcp_send(&resp, NULL, s, GCP_STORAGE, NULL, "POST", path, text,
	    strlen(text), "application/json", hdrs, 1);
	if (err == NULL && (*session = lep_http_resp_header(&resp,
	    "Location")) == NULL)
		err = lep_err_new(LEP_E_PROVIDER, "Cloud Storage: a resumable "
		    "upload of gs://%s/%s began without a session URL",
		    bucket, object);
	lep_http_resp_release(&resp);
	free(text);
	free(hdr);
	free(path);
	free(b);
	free(o);
	return err;
}

/*
 * A resumable upload: a session, then GCP_CHUNK pieces, each a PUT
 * (retried on its own by lep_http_do); after a failed piece the session
 * is asked how much it holds, and the upload goes on from there. A
 * session Google no longer knows (404, 410: expired, or lost) is begun
 * again from the first byte, as Google's upload guide says.
 */
static const struct lep_err *
put_resumable(struct gcp_state *s, const char *bucket, const char *object,
    const void *data, size_t len)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	char			*session = NULL, *hdr;
	const char		*hdrs[1];
	size_t			 off = 0, n;
	int			 lost = 0, restarts = 0;

	err = begin_session(&session, s, bucket, object, len);
	while (err == NULL) {
		n = len - off < GCP_CHUNK ? len - off : GCP_CHUNK;
		hdr = n > 0 ? xasprintf("Content-Range: bytes %zu-%zu/%zu",
		    off, off + n - 1, len) : xasprintf("Content-Range: "
		    "bytes */%zu", len);
		hdrs[0] = hdr;
		err = gcp_send(&resp, NULL, s, GCP_STORAGE, NULL, "PUT",
		    session, (const char *)data + off, n,
		    "application/octet-stream", hdrs, 1);
		free(hdr);
		if (err == NULL && resp.status != 308) {
			lep_http_resp_release(&resp);
			break;		/* the object is whole */
		}
		if (err == NULL) {
			off = held(&resp);
			lep_http_resp_release(&resp);
			if (off > len)
				err = lep_err_new(LEP_E_PROVIDER, "Cloud "
				    "Storage holds %zu bytes of gs://%s/%s, "
				    "more than its %zu", off, bucket, object,
				    len);
			continue;
		}
		if ((resp.status == 404 || resp.status == 410) &&
		    ++restarts <= 3) {
			/* The session is gone: a new one, from byte 0. */
			lep_http_resp_release(&resp);
			free(session);
			session = NULL;
			off = 0;
			err = begin_session(&session, s, bucket, object, len);
			continue;
		}
		lep_http_resp_release(&resp);
		/* A piece failed past its retries: where do we stand? */
		if (err->code != LEP_E_PROVIDER && err->code != LEP_E_TIMEOUT)
			break;
		if (++lost > 3)
			break;
		hdr = xasprintf("Content-Range: bytes */%zu", len);
		hdrs[0] = hdr;
		err = gcp_send(&resp, NULL, s, GCP_STORAGE, NULL, "PUT",
		    session, NULL, 0, "application/octet-stream", hdrs, 1);
		free(hdr);
		if (err == NULL && resp.status != 308) {
			lep_http_resp_release(&resp);
			break;
		}
		if (err == NULL)
			off = held(&resp);
		else if ((resp.status == 404 || resp.status == 410) &&
		    ++restarts <= 3) {
			free(session);
			session = NULL;
			off = 0;
			err = begin_session(&session, s, bucket, object, len);
		}
		lep_http_resp_release(&resp);
	}
	free(session);
	return err;
}

const struct lep_err *
gcp_gcs_put(struct gcp_state *s, const char *bucket, const char *object,
    const void *data, size_t len)
{
	if (len > GCP_RESUMABLE_MIN)
		return put_resumable(s, bucket, object, data, len);
	return put_media(s, bucket, object, data, len);
}

const struct lep_err *
gcp_gcs_get(struct lep_buf *out, struct gcp_state *s, const char *bucket,
    const char *object, size_t max)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	char			*b = lep_url_escape(bucket);
	char			*o = lep_url_escape(object), *path;
	struct lep_json		*meta = NULL;
	long long		 size = -1;
	const char		*v;

	lep_buf_init(out, 0);
	/*
	 * Its size first: an object (model weights) may be far larger
	 * than an API answer (GCP_ANSWER_MAX), and one over max is
	 * refused before it is read.
	 */
	path = xasprintf("storage/v1/b/%s/o/%s", b, o);
	err = gcp_call(&meta, NULL, s, GCP_STORAGE, NULL, "GET", path, NULL);
	free(path);
	if (err == NULL && (v = lep_json_get_str(meta, "size")) != NULL)
		size = strtoll(v, NULL, 10);
	lep_json_free(meta);
	if (err != NULL) {
		free(b);
		free(o);
		return err;
	}
	if (size > 0 && (unsigned long long)size > max) {
		free(b);
		free(o);
		return lep_err_new(LEP_E_FAILED, "gs://%s/%s is over %zu bytes",
		    bucket, object, max);
	}
	path = xasprintf("storage/v1/b/%s/o/%s?alt=media", b, o);
	s->answer_max = (size >= 0 ? (size_t)size : max) + 1;
	err = gcp_send(&resp, NULL, s, GCP_STORAGE, NULL, "GET", path, NULL,
	    0, NULL, NULL, 0);
	if (err == NULL && resp.body.len > max)
		err = lep_err_new(LEP_E_FAILED, "gs://%s/%s is over %zu bytes",
		    bucket, object, max);
	if (err == NULL)
		lep_buf_addn(out, resp.body.buf, resp.body.len);
	lep_http_resp_release(&resp);
	free(path);
	free(b);
	free(o);
	return err;
}

const struct lep_err *
gcp_gcs_list(struct lep_json **names, struct gcp_state *s,
    const char *bucket, const char *prefix)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*ans, *items, *it;
	const char		*tok, *n;
	char			*b = lep_url_escape(bucket);
	char			*p = lep_url_escape(prefix), *t = NULL, *path;
	size_t			 i;
	int			 pages = 0;

	*names = lep_json_arr();
	for (;;) {
		path = xasprintf("storage/v1/b/%s/o?prefix=%s%s%s", b, p,
		    t != NULL ? "&pageToken=" : "", t != NULL ? t : "");
		err = gcp_call(&ans, NULL, s, GCP_STORAGE, NULL, "GET", path,
		    NULL);
		free(path);
		free(t);
		t = NULL;
		if (err != NULL)
			break;
		items = lep_json_get(ans, "items");
		for (i = 0; i < lep_json_len(items); i++) {
			it = lep_json_at(items, i);
			if ((n = lep_json_get_str(it, "name")) != NULL)
				lep_json_push(*names, lep_json_str(n));
		}
		tok = lep_json_get_str(ans, "nextPageToken");
		if (tok != NULL && *tok != '\0')
			t = lep_url_escape(tok);
		lep_json_free(ans);
		if (t == NULL)
			break;
		if (++pages > 10000) {
			err = lep_err_new(LEP_E_PROVIDER, "Cloud Storage: "
			    "gs://%s/%s lists more than 10000 pages", bucket,
			    prefix);
			break;
		}
	}
	free(t);
	free(b);
	free(p);
	if (err != NULL) {
		lep_json_free(*names);
		*names = NULL;
	}
	return err;
}

const struct lep_err *
gcp_gcs_delete(struct gcp_state *s, const char *bucket, const char *object)
{
	const struct lep_err	*err;
	char			*b = lep_url_escape(bucket);
	char			*o = lep_url_escape(object), *path;

	path = xasprintf("storage/v1/b/%s/o/%s", b, o);
	err = gcp_call(NULL, NULL, s, GCP_STORAGE, NULL, "DELETE", path,
	    NULL);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = NULL;
	free(path);
	free(b);
	free(o);
	return err;
}

/* --- Cloud Logging ------------------------------------------------------ */

/* One entry's text, one line: textPayload, else jsonPayload.message. */
static const char *
entry_text(const struct lep_json *e)
{
	const char	*t;

	if ((t = lep_json_get_str(e, "textPayload")) != NULL)
		return t;
	return lep_json_get_str(lep_json_get(e, "jsonPayload"), "message");
}

/*
 * Every entry matching filter, oldest first, into all (an array). Errors:
 * as gcp_call.
 */
static const struct lep_err *
list_entries(struct lep_json *all, struct gcp_state *s, const char *filter)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*body, *ans, *es, *names;
	const char		*project, *tok;
	char			*t = NULL, *rn;
	size_t			 i;

	if ((err = gcp_project(&project, s)) != NULL)
		return err;
	rn = xasprintf("projects/%s", project);
	for (;;) {
		body = lep_json_obj();
		names = lep_json_arr();
		lep_json_push(names, lep_json_str(rn));
		lep_json_set(body, "resourceNames", names);
		lep_json_set_str(body, "filter", filter);
		lep_json_set_str(body, "orderBy", "timestamp asc");
		lep_json_set_int(body, "pageSize", LOGS_PAGE);
		if (t != NULL)
			lep_json_set_str(body, "pageToken", t);
		free(t);
		t = NULL;
		if ((err = gcp_call(&ans, NULL, s, GCP_LOGGING, NULL, "POST",
		    "v2/entries:list", body)) != NULL)
			break;
		es = lep_json_get(ans, "entries");
		for (i = 0; i < lep_json_len(es); i++)
			lep_json_push(all, lep_json_dup(lep_json_at(es, i)));
		tok = lep_json_get_str(ans, "nextPageToken");
		if (tok != NULL && *tok != '\0')
			t = xstrdup(tok);
		lep_json_free(ans);
		if (t == NULL)
			break;
	}
	free(t);
	free(rn);
	return err;
}

const struct lep_err *
gcp_print_logs(struct gcp_state *s, const char *filter,
    const struct lep_logs_req *req, struct lep_out *out,
    int (*alive)(void *), void *arg)
{
	const struct lep_err	*err;
	struct lep_json		*all, *e;
	const char		*t, *ts;
	char			*last = NULL, *f;
	size_t			 i, n, from;

	for (;;) {
		all = lep_json_arr();
		if (last != NULL)
			f = xasprintf("%s AND timestamp>\"%s\"", filter, last);
		else
			f = xstrdup(filter);
		err = list_entries(all, s, f);
		free(f);
		if (err != NULL) {
			lep_json_free(all);
			break;
		}
		n = lep_json_len(all);
		from = 0;
		if (last == NULL && req->tail >= 0 && (size_t)req->tail < n)
			from = n - (size_t)req->tail;
		for (i = from; i < n; i++) {
			e = lep_json_at(all, i);
			if ((t = entry_text(e)) != NULL)
				lep_out_printf(out, "%s%s", t,
				    lep_ends_with(t, "\n") ? "" : "\n");
			if ((ts = lep_json_get_str(e, "timestamp")) != NULL) {
				free(last);
				last = xstrdup(ts);
			}
		}
		if (last == NULL)
			last = xstrdup("1970-01-01T00:00:00Z");
		lep_json_free(all);
		if (!req->follow || alive == NULL || !alive(arg))
			break;
		lep_sleep_ms(LOGS_POLL_MS);
	}
	free(last);
	return err;
}
