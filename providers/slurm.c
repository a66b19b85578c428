/*
 * slurm.c: the Slurm provider. Jobs (slurm-job.c) and services (here) are
 * Slurm batch jobs (slurm-batch.c) submitted through slurmrestd
 * (slurm-rest.c) onto the cluster's nodes (slurm-nodes.c); their scripts,
 * logs and records live in the shared directory (slurm-priv.h), which the
 * nodes must see at the same path: each script first checks a probe file
 * written there, and exits 97 with a clear message when it is missing.
 *
 * A service: one job on one node that serves on a free port it picks and
 * writes to the shared directory; ready when readiness.path answers 200.
 * A new revision starts beside the old one, and the old one is cancelled
 * only once the new one is ready.
 */
#include "provider.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slurm-priv.h"
#include "../lib/creds.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/logview.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/util.h"

#define SLURM_PROBE_MS		2000	/* one readiness probe */

static const struct lep_err *
slurm_open(void **state_out, const struct lep_config *cfg)
{
	struct slurm_state	*s;
	const struct lep_err	*err;

	*state_out = NULL;
	if ((err = slurm_state_new(&s, cfg->home, cfg->out)) != NULL)
		return err;
	*state_out = s;
	return NULL;
}

static void
slurm_close(void *state)
{
	slurm_state_free(state);
}

/* --- services ---------------------------------------------------------- */

static char *
svc_path(const struct slurm_state *s, const char *name, const char *file)
{
	return xasprintf("%s/services/%s/%s", s->dir, name, file);
}

static const struct lep_err *
svc_read(struct lep_json **out, const struct slurm_state *s,
    const char *name)
{
	const struct lep_err	*err;
	char			*p = svc_path(s, name, "state.json");

	err = lep_read_json(out, p, LEP_DRIVER_FILE_MAX);
	free(p);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		return lep_err_new(LEP_E_NOT_FOUND, "no deployment '%s' on "
		    "the slurm provider", name);
	return err;
}

static const struct lep_err *
svc_write(const struct slurm_state *s, const char *name,
    const struct lep_json *st)
{
	const struct lep_err	*err;
	char			*p = svc_path(s, name, "state.json");

	err = lep_write_json(p, st, 0600);
	free(p);
	return err;
}

/* The endpoint token: made once per deployment, kept across revisions. */
static const struct lep_err *
svc_token(char **out, const struct slurm_state *s, const char *name)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	char			 fresh[65], *p = svc_path(s, name, "token");

	*out = NULL;
	err = lep_creds_read_file(&b, p, 1024);
	if (err == NULL) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		*out = xstrdup(b.buf);
	} else if (err->code == LEP_E_NOT_FOUND &&
	    (err = lep_random_hex(fresh, 32)) == NULL) {
		err = lep_write_atomic(p, fresh, strlen(fresh), 0600);
		if (err == NULL)
			*out = xstrdup(fresh);
		lep_wipe(fresh, sizeof(fresh));
	}
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	free(p);
	return err;
}

/* http://ADDRESS:PORT of a running service job, or NULL (not yet). */
static char *
svc_url(struct slurm_state *s, const struct lep_json *sj, const char *rdir)
{
	struct lep_json	*ans = NULL;
	struct lep_buf	 b;
	const char	*host = lep_json_get_str(sj, "batch_host"), *addr;
	char		*p, path[300], *url = NULL;
	long long	 port = 0;

	if (host == NULL || *host == '\0')
		return NULL;
	p = xasprintf("%s/port", rdir);
	if (lep_read_file(&b, p, 64) == NULL) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		(void)lep_parse_ll(&port, b.buf);
	}
	lep_buf_release(&b);
	free(p);
	if (port <= 0)
		return NULL;
	snprintf(path, sizeof(path), "/node/%s", host);
	addr = host;
	if (slurm_call(&ans, s, "GET", path, NULL) == NULL) {
		const char *a = lep_json_get_str(lep_json_at(lep_json_get(ans,
		    "nodes"), 0), "address");

		if (a != NULL && *a != '\0')
			addr = a;
	}
	url = xasprintf("http://%s:%lld", addr, port);
	lep_json_free(ans);
	return url;
}

static int
probe_ready(const char *url, const char *path)
{
	struct lep_http_req	 req;
	struct lep_http_resp	 resp;
	char			*u = xasprintf("%s%s", url, path);
	int			 ok;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = u;
	req.timeout_ms = SLURM_PROBE_MS;
	req.connect_timeout_ms = SLURM_PROBE_MS;
	req.max_body = SLURM_PING_MAX;
	lep_http_resp_init(&resp);
	ok = lep_http_do(&resp, &req) == NULL && resp.status >= 200 &&
	    resp.status < 300;
	lep_http_resp_release(&resp);
	free(u);
	return ok;
}

static struct lep_deployment *
svc_deployment(const char *name, const struct lep_json *st,
    const char *state, const char *msg, int ready)
{
	struct lep_deployment	*d = xcalloc(1, sizeof(*d));
	const char		*v;
	long long		 n;

	d->name = xstrdup(name);
	d->provider = xstrdup(provider_slurm.name);
	d->state = xstrdup(state);
	d->message = msg ? xstrdup(msg) : NULL;
	v = lep_json_get_str(st, "endpoint");
	d->endpoint = xstrdup(v && strcmp(state, "running") == 0 ? v : "");
	if ((v = lep_json_get_str(st, "spec_sha256")) != NULL)
		d->spec_sha256 = xstrdup(v);
	if ((v = lep_json_get_str(st, "dir")) != NULL)
		d->log_dir = xstrdup(v);
	d->revision = lep_json_get_ll(st, "revision", &n) == 0 ? (int)n : 0;
	d->created = lep_json_get_ll(st, "created", &n) == 0 ? n : 0;
	d->updated = lep_json_get_ll(st, "updated", &n) == 0 ? n : 0;
	d->desired = strcmp(state, "stopped") ? 1 : 0;
	d->ready = ready;
	d->replicas = xcalloc(1, sizeof(*d->replicas));
	d->nreplicas = 1;
	d->replicas[0].revision = d->revision;
	d->replicas[0].pid = 0;
	d->replicas[0].port = 0;
	if ((v = lep_json_get_str(st, "endpoint")) != NULL &&
	    (v = strrchr(v, ':')) != NULL)
		d->replicas[0].port = slurm_lead_int(v + 1);
	lep_strlcpy(d->replicas[0].state, ready ? "ready" : state,
	    sizeof(d->replicas[0].state));
	return d;
}

/*
 * Wait for revision's job to serve: RUNNING, its port written, and
 * readiness answering. Errors: FAILED (it ended), TIMEOUT.
 */
static const struct lep_err *
svc_wait_ready(char **url_out, struct slurm_state *s, long long sid,
    const char *rdir, const struct lep_spec *sp)
{
	struct lep_json	*sj = NULL;
	long long	 t0 = lep_now_ms();
	long long	 until = t0 + sp->service.ready_timeout * 1000;
	const char	*path = sp->service.ready_path ?
			    sp->service.ready_path : "/";
	char		*url = NULL, *msg;
	const struct lep_err *err = NULL;
	int		 retry;

	*url_out = NULL;
	while (lep_now_ms() < until) {
		lep_json_free(sj);
		sj = NULL;
		if ((err = slurm_get_job(&sj, s, sid)) != NULL)
			break;
		if (strcmp(slurm_map_state(slurm_job_state(sj), &retry),
		    "running") != 0) {
			msg = slurm_end_message(sj, sid);
			err = lep_err_hint(lep_err_new(LEP_E_FAILED, "%s ended "
			    "before it was ready: %s", sp->name, msg),
			    "'lepton logs %s' shows its output", sp->name);
			free(msg);
			break;
		}
		if (url == NULL)
			url = svc_url(s, sj, rdir);
		if (url != NULL && probe_ready(url, path)) {
			*url_out = url;
			lep_json_free(sj);
			return NULL;
		}
		slurm_poll_pause(t0);
	}
	if (err == NULL)
		err = lep_err_hint(lep_err_new(LEP_E_TIMEOUT, "%s: not ready "
		    "within %llds (readiness %s%s)", sp->name,
		    sp->service.ready_timeout, url ? url : "", path),
		    "'lepton logs %s' shows its output", sp->name);
	free(url);
	lep_json_free(sj);
	return err;
}

/*
 * Cancel the Slurm jobs a deployment's state says lepton left behind: a
 * revision left starting (starting_id; or starting_mark, when the
 * submit's answer was lost) and old revisions whose cancel failed
 * (leftover_ids). What cannot be cancelled now stays in leftover_ids for
 * the next deploy or stop; the first such error is returned.
 */
static const struct lep_err *
svc_sweep(struct slurm_state *s, struct lep_json *st, const char *name)
{
	const struct lep_err	*err = NULL, *e;
	const struct lep_json	*left = lep_json_get(st, "leftover_ids");
	const char		*mark = lep_json_get_str(st, "starting_mark");
	struct lep_json		*keep = lep_json_arr();
	long long		 ids[64], id = 0, since = 0;
	size_t			 n = 0, i;

	if (lep_json_get_ll(st, "starting_id", &id) == 0 && id > 0) {
		if (s->out != NULL)
			lep_out_warn(s->out, "%s: cancelling Slurm job %lld, "
			    "left starting by an interrupted deploy", name, id);
		ids[n++] = id;
	}
	if (mark != NULL) {
		(void)lep_json_get_ll(st, "starting_since", &since);
		if ((e = slurm_find_marked(&id, s, mark)) == NULL) {
			if (s->out != NULL)
				lep_out_warn(s->out, "%s: cancelling Slurm "
				    "job %lld, submitted by a deploy that "
				    "never heard back", name, id);
			ids[n++] = id;
			mark = NULL;
		} else if (e->code != LEP_E_NOT_FOUND)
			err = e;
		else if ((long long)time(NULL) - since >=
		    slurm_unsure_grace_s(s))
			mark = NULL;	/* it never reached Slurm */
	}
	for (i = 0; i < lep_json_len(left) && n < LEP_ARRAY_SIZE(ids); i++)
		ids[n++] = (long long)lep_json_number(lep_json_at(left, i));
	for (i = 0; i < n; i++)
		if ((e = slurm_cancel_job(s, ids[i])) != NULL) {
			lep_json_push(keep, lep_json_int(ids[i]));
			if (err == NULL)
				err = e;
		}
	lep_json_set(st, "starting_id", lep_json_null());
	if (mark == NULL)
		lep_json_set(st, "starting_mark", lep_json_null());
	if (lep_json_len(keep) > 0)
		lep_json_set(st, "leftover_ids", keep);
	else {
		lep_json_free(keep);
		lep_json_set(st, "leftover_ids", lep_json_null());
	}
	return err;
}

/* What lepton left in Slurm that the next deploy or stop cancels, in
   words; NULL: nothing. Caller frees. */
static char *
svc_leftovers(const struct lep_json *st)
{
	const struct lep_json	*left = lep_json_get(st, "leftover_ids");
	const char		*mark = lep_json_get_str(st, "starting_mark");
	struct lep_buf		 ids = LEP_BUF_INIT;
	char			*msg;
	long long		 id;
	size_t			 i, n = 0;

	if (lep_json_get_ll(st, "starting_id", &id) == 0 && id > 0) {
		lep_buf_addf(&ids, " %lld", id);
		n++;
	}
	for (i = 0; i < lep_json_len(left); i++, n++)
		lep_buf_addf(&ids, " %lld", (long long)lep_json_number(
		    lep_json_at(left, i)));
	if (n == 0 && mark == NULL) {
		lep_buf_release(&ids);
		return NULL;
	}
	msg = xasprintf("Slurm job%s%s%s%s%s left by a deploy; the next deploy "
	    "or stop cancels %s", n == 1 ? "" : "s", ids.buf, n > 0 && mark ?
	    " and any" : n > 0 ? "" : " (if any)", mark ? " marked " : "",
	    mark ? mark : "", n > 1 || mark ? "them" : "it");
	lep_buf_release(&ids);
	return msg;
}

/*
 * The deployment's state (a new one: created now), the Slurm job of the
 * revision it serves (*old, 0: none), and what earlier deploys left in
 * Slurm, cancelled (what cannot be is kept for next time).
 */
static const struct lep_err *
svc_begin(struct lep_json **st_out, long long *old, struct slurm_state *s,
    const char *name, long long now)
{
	const struct lep_err	*err;
	struct lep_json		*st = NULL;

	*old = 0;
	if ((err = svc_read(&st, s, name)) != NULL) {
		if (err->code != LEP_E_NOT_FOUND)
			goto done;
		err = NULL;
		st = lep_json_obj();
		lep_json_set_int(st, "created", now);
	}
	if (!lep_json_get_bool(st, "stopped", 0))
		(void)lep_json_get_ll(st, "slurm_id", old);
	(void)svc_sweep(s, st, name);
done:
	*st_out = st;
	return err;
}

/* Submit the revision's Slurm job, its LEPTON_* environment with it. */
static const struct lep_err *
svc_start(long long *sid, char mark[SLURM_MARK_SIZE], int *unsure,
    struct slurm_state *s, const struct lep_deploy_req *req,
    const char *rdir, const char *token)
{
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	char			*extra[8];
	size_t			 n = 0, i;

	extra[n++] = xasprintf("LEPTON_DEPLOYMENT=%s", sp->name);
	extra[n++] = xasprintf("LEPTON_REVISION=%d", req->revision);
	extra[n++] = xstrdup("LEPTON_REPLICA=0");
	extra[n++] = xasprintf("LEPTON_TOKEN=%s", token);
	if (req->model_dir != NULL)
		extra[n++] = xasprintf("LEPTON_MODEL_DIR=%s", req->model_dir);
	extra[n] = NULL;
	err = slurm_start_run(sid, mark, unsure, s, sp, sp->name, rdir,
	    (const char *const *)extra, 1);
	for (i = 0; i < n; i++) {
		lep_wipe(extra[i], strlen(extra[i]));
		free(extra[i]);
	}
	return err;
}

/*
 * The submit's answer was lost and Slurm had no job with its mark: the
 * mark is recorded (a stop or the next deploy cancels what turns up),
 * and looked for while the revision may take to be ready.
 */
static const struct lep_err *
svc_find_lost(long long *sid, struct slurm_state *s, struct lep_json *st,
    const char *mark, const struct lep_spec *sp, const struct lep_err *why)
{
	const struct lep_err	*err;
	long long		 t0 = lep_now_ms();
	long long		 until = t0 + sp->service.ready_timeout * 1000;

	*sid = 0;
	lep_json_set_str(st, "starting_mark", mark);
	lep_json_set_int(st, "starting_since", (long long)time(NULL));
	if ((err = svc_write(s, sp->name, st)) != NULL)
		return err;
	if (s->out != NULL)
		lep_out_warn(s->out, "%s: %s; looking for a Slurm job marked "
		    "'%s'", sp->name, why->msg, mark);
	while (lep_now_ms() < until) {
		if (slurm_find_marked(sid, s, mark) == NULL) {
			lep_json_set(st, "starting_mark", lep_json_null());
			return NULL;
		}
		slurm_poll_pause(t0);
	}
	return lep_err_hint(lep_err_new(why->code, "%s", why->msg), "the "
	    "submit may yet make a job (comment %s): 'lepton stop %s' or the "
	    "next deploy cancels it", mark, sp->name);
}

/* The state once revision's Slurm job sid serves at url. */
static void
svc_serving(struct lep_json *st, const struct lep_deploy_req *req,
    long long sid, const char *url, const char *rdir, long long now)
{
	lep_json_set(st, "starting_id", lep_json_null());
	lep_json_set_int(st, "slurm_id", sid);
	lep_json_set_int(st, "revision", req->revision);
	lep_json_set_str(st, "endpoint", url);
	lep_json_set_str(st, "dir", rdir);
	lep_json_set_str(st, "spec_sha256", req->spec_sha256);
	lep_json_set_bool(st, "stopped", 0);
	lep_json_set_int(st, "updated", now);
}

static const struct lep_err *
slurm_deploy(struct lep_deployment **out, void *state,
    const struct lep_deploy_req *req)
{
	struct slurm_state	*s = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*st = NULL;
	char			*rdir, *log, *token = NULL, *url = NULL, *sdir;
	char			 mark[SLURM_MARK_SIZE];
	long long		 sid, old = 0, now = time(NULL);
	int			 unsure = 0;

	*out = NULL;
	rdir = xasprintf("%s/services/%s/r%d", s->dir, sp->name, req->revision);
	log = xasprintf("%s/log", rdir);
	sdir = xasprintf("%s/services/%s", s->dir, sp->name);
	if ((err = slurm_discover(s)) != NULL ||
	    (err = lep_mkdirs(sdir, 0700)) != NULL ||
	    (err = svc_begin(&st, &old, s, sp->name, now)) != NULL ||
	    (err = svc_token(&token, s, sp->name)) != NULL)
		goto done;
	(void)unlink(log);
	if ((err = svc_start(&sid, mark, &unsure, s, req, rdir, token)) !=
	    NULL && (!unsure || (err = svc_find_lost(&sid, s, st, mark, sp,
	    err)) != NULL))
		goto done;
	lep_json_set_int(st, "starting_id", sid);
	if ((err = svc_write(s, sp->name, st)) != NULL) {
		(void)slurm_cancel_job(s, sid);
		goto done;
	}
	if (s->out != NULL)
		lep_out_info(s->out, "slurm: %s revision %d is Slurm job %lld",
		    sp->name, req->revision, sid);
	if ((err = svc_wait_ready(&url, s, sid, rdir, sp)) != NULL) {
		/*
		 * The old revision never stopped: it serves on. The new one
		 * is forgotten only once it is cancelled.
		 */
		if (slurm_cancel_job(s, sid) == NULL)
			lep_json_set(st, "starting_id", lep_json_null());
		(void)svc_write(s, sp->name, st);
		goto done;
	}
	svc_serving(st, req, sid, url, rdir, now);
	if ((err = svc_write(s, sp->name, st)) != NULL) {
		(void)slurm_cancel_job(s, sid);
		goto done;
	}
	if (old > 0 && old != sid && slurm_cancel_job(s, old) != NULL) {
		/* Kept, for the next deploy or stop to cancel. */
		if (lep_json_get(st, "leftover_ids") == NULL ||
		    lep_json_type(lep_json_get(st, "leftover_ids")) !=
		    LEP_JSON_ARRAY)
			lep_json_set(st, "leftover_ids", lep_json_arr());
		lep_json_push(lep_json_get(st, "leftover_ids"),
		    lep_json_int(old));
		(void)svc_write(s, sp->name, st);
		if (s->out != NULL)
			lep_out_warn(s->out, "%s: the old revision's Slurm job "
			    "%lld could not be cancelled; the next deploy or "
			    "stop does it", sp->name, old);
	}
	*out = svc_deployment(sp->name, st, "running", NULL, 1);
done:
	if (token != NULL) {
		lep_wipe(token, strlen(token));
		free(token);
	}
	lep_json_free(st);
	free(url);
	free(rdir);
	free(sdir);
	free(log);
	return err;
}

static const struct lep_err *
slurm_status(struct lep_deployment **out, void *state, const char *name)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*st = NULL, *sj = NULL;
	const char		*phase, *ep;
	char			*msg = NULL, *left;
	long long		 sid = 0;
	int			 retry;

	*out = NULL;
	if ((err = svc_read(&st, s, name)) != NULL)
		return err;
	(void)lep_json_get_ll(st, "slurm_id", &sid);
	/* What a failed deploy or stop left in Slurm is said, not hidden. */
	left = svc_leftovers(st);
	if (lep_json_get_bool(st, "stopped", 0) || sid == 0) {
		*out = svc_deployment(name, st, "stopped", left, 0);
		goto done;
	}
	if ((err = slurm_get_job(&sj, s, sid)) != NULL &&
	    err->code != LEP_E_NOT_FOUND)
		goto done;
	if (err != NULL) {
		err = NULL;
		*out = svc_deployment(name, st, "failed", "Slurm forgot its "
		    "job", 0);
	} else if (strcmp(phase = slurm_map_state(slurm_job_state(sj),
	    &retry), "running") == 0) {
		ep = lep_json_get_str(st, "endpoint");
		if (lep_streq(slurm_job_state(sj), "RUNNING"))
			*out = svc_deployment(name, st, "running", left,
			    ep != NULL);
		else
			*out = svc_deployment(name, st, "starting",
			    slurm_job_state(sj), 0);
	} else {
		msg = slurm_end_message(sj, sid);
		*out = svc_deployment(name, st, strcmp(phase, "cancelled") ?
		    "failed" : "stopped", msg, 0);
	}
done:
	free(msg);
	free(left);
	lep_json_free(sj);
	lep_json_free(st);
	return err;
}

static const struct lep_err *
slurm_remove(struct lep_deployment **out, void *state, const char *name,
    int grace_s)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err, *werr;
	struct lep_json		*st = NULL;
	long long		 sid = 0;

	*out = NULL;
	if ((err = svc_read(&st, s, name)) != NULL)
		return err;
	(void)lep_json_get_ll(st, "slurm_id", &sid);
	if (sid > 0 && (err = slurm_cancel_job(s, sid)) != NULL) {
		lep_json_free(st);
		return err;
	}
	if (sid > 0)
		lep_json_free(slurm_wait_end(s, sid, grace_s + 5));
	/* A revision left starting, an old one a deploy could not end. */
	err = svc_sweep(s, st, name);
	lep_json_set_bool(st, "stopped", 1);
	lep_json_set_int(st, "updated", (long long)time(NULL));
	werr = svc_write(s, name, st);
	if (err != NULL)
		err = lep_err_hint(lep_err_new(err->code, "'%s' stopped, but "
		    "not every Slurm job it left could be cancelled: %s", name,
		    err->msg), "'lepton stop %s' tries them again", name);
	else
		err = werr;
	if (err == NULL)
		*out = svc_deployment(name, st, "stopped", NULL, 0);
	lep_json_free(st);
	return err;
}

static const struct lep_err *
slurm_endpoint(char **url_out, char **token_out, void *state,
    const char *name)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;

	*url_out = *token_out = NULL;
	if ((err = slurm_status(&d, s, name)) != NULL)
		return err;
	if (strcmp(d->state, "running") != 0 || d->endpoint[0] == '\0')
		err = lep_err_hint(lep_err_new(LEP_E_NOT_RUNNING, "'%s' is "
		    "%s on slurm%s%s", name, d->state, d->message ? ": " : "",
		    d->message ? d->message : ""), "'lepton deploy' starts "
		    "it again");
	else if ((err = svc_token(token_out, s, name)) == NULL)
		*url_out = xstrdup(d->endpoint);
	lep_deployment_free(d);
	return err;
}

/* --- logs -------------------------------------------------------------- */

struct follow {
	struct slurm_state	*s;
	const char		*id;		/* a job's, or NULL */
	long long		 sid;		/* a service's Slurm job */
	long long		 next_ms;
	int			 alive;
};

static int
still_running(void *arg)
{
	struct follow	*f = arg;
	struct lep_job	*j = NULL;
	struct lep_json	*sj = NULL;
	int		 retry;

	if (lep_now_ms() < f->next_ms)
		return f->alive;
	f->next_ms = lep_now_ms() + 1000;
	if (f->id != NULL) {
		f->alive = slurm_job_status(&j, f->s, f->id) == NULL &&
		    strcmp(j->state, "running") == 0;
		lep_job_free(j);
	} else {
		f->alive = slurm_get_job(&sj, f->s, f->sid) == NULL &&
		    strcmp(slurm_map_state(slurm_job_state(sj), &retry),
		    "running") == 0;
		lep_json_free(sj);
	}
	return f->alive;
}

static const struct lep_err *
slurm_logs(void *state, const char *name, const struct lep_logs_req *req,
    struct lep_out *out)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*st = NULL, *lines, *res;
	struct lep_logsrc	*src;
	struct follow		 f;
	char			*dir, *p;
	struct stat		 sb;

	if (req->setup || req->replica > 0)
		return lep_err_new(LEP_E_USAGE, "'%s' runs on slurm: one log, "
		    "its setup with its run", name);
	memset(&f, 0, sizeof(f));
	f.s = s;
	f.alive = 1;
	src = xcalloc(1, sizeof(*src));
	dir = slurm_job_dir(s, name);
	p = xasprintf("%s/job.json", dir);
	if (stat(p, &sb) == 0) {
		f.id = name;
		src[0].path = xasprintf("%s/log", dir);
		lep_strlcpy(src[0].label, "job", sizeof(src[0].label));
	} else if ((err = svc_read(&st, s, name)) == NULL) {
		(void)lep_json_get_ll(st, "slurm_id", &f.sid);
		src[0].path = xasprintf("%s/log", lep_json_get_str(st, "dir") ?
		    lep_json_get_str(st, "dir") : dir);
		lep_strlcpy(src[0].label, "r0", sizeof(src[0].label));
	} else {
		free(p);
		free(dir);
		lep_logview_free(src, 1);
		return lep_err_new(LEP_E_NOT_FOUND, "no deployment or job "
		    "named '%s' on the slurm provider", name);
	}
	free(p);
	free(dir);
	lines = lep_logview_print(src, 1, req, out, still_running, &f);
	if (lines != NULL) {
		res = lep_json_obj();
		lep_json_set_str(res, f.id ? "job" : "deployment", name);
		lep_json_set(res, "lines", lines);
		lep_out_result(out, res);
	}
	lep_logview_free(src, 1);
	lep_json_free(st);
	return NULL;
}


const struct lep_provider_ops provider_slurm = {
	.name = "slurm",
	.abi = LEP_PROVIDER_ABI,
	/*
	 * No REGIONS: its offers' regions are partitions, but a job goes to
	 * placement.partition (or the default), so regions would only
	 * steer the plan, not the job.
	 */
	.caps = LEP_CAP_SERVICE | LEP_CAP_JOB | LEP_CAP_GPU |
	    LEP_CAP_MULTINODE | LEP_CAP_PARTITION | LEP_CAP_SETUP |
	    LEP_CAP_RESUBMIT,
	.poll_ms = SLURM_POLL_MS,	/* a remote engine: ask it less often */
	.open = slurm_open,
	.close = slurm_close,
	.check = slurm_check,
	.deploy = slurm_deploy,
	.status = slurm_status,
	.logs = slurm_logs,
	.remove = slurm_remove,
	.submit = slurm_submit,
	.job_status = slurm_job_status,
	.cancel = slurm_cancel,
	.offers = slurm_offers,
	.endpoint = slurm_endpoint,
	.probe = slurm_probe,
};

