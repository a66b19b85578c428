/*
 * service-apply.c: one revision of a deployment started on its provider
 * and recorded as one commit, and the automatic rollback when it fails.
 */
#include "service.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
#include "error.h"
#include "failover.h"
#include "json.h"
#include "ledger.h"
#include "plan.h"
#include "provider.h"
#include "registry.h"
#include "service-priv.h"
#include "spec.h"
#include "state.h"
#include "trailer.h"
#include "util.h"

/* One apply under way: what its steps hand on. */
struct run {
	char			*path;		/* the record in git */
	struct lep_state_entry	*hist;		/* its commits, newest first */
	size_t			 nhist;
	struct lep_json		*rec;		/* HOME/deployments/NAME.json */
	struct lep_json		*old;		/* the record before, or NULL */
	int			 rev;		/* the new revision's number */
	int			 baked;		/* bake failed: old ones gone */
	int			 started;	/* an offer took it */
	const struct lep_site	*site;		/* the offer it started on */
	const char		*region;	/* as the provider was told */
	const char		*instance;
};

/*
 * rollout.bake: watch the new revision for that long; a replica that
 * crashes (is restarted) or a deployment that stops running fails it.
 */
static const struct lep_err *
bake(struct lep_ctx *ctx, struct lep_provider *p, const struct lep_apply *a)
{
	const struct lep_err	*err = NULL;
	struct lep_deployment	*d = NULL;
	struct timespec		 ts = { 0, 200 * 1000 * 1000 };
	long long		 end;
	size_t			 i;

	end = lep_now_ms() + a->sp->service.bake * 1000;
	while (err == NULL && lep_now_ms() < end) {
		lep_out_progress(&ctx->out, "%s: baking, %llds left",
		    a->sp->name, (end - lep_now_ms()) / 1000 + 1);
		nanosleep(&ts, NULL);
		if ((err = lep_provider_status(&d, p, a->sp->name)) != NULL)
			break;
		/* A canary's own replicas, else the active ones. */
		for (i = 0; i < (d->canary ? d->ncanary : d->nreplicas); i++)
			if ((d->canary ? d->canary_replicas :
			    d->replicas)[i].restarts > 0)
				err = lep_err_new(LEP_E_FAILED, "replica %zu "
				    "of the new revision crashed during "
				    "rollout.bake (%llds)", i,
				    a->sp->service.bake);
		if (err == NULL && !lep_streq(d->state, "running"))
			err = lep_err_new(LEP_E_FAILED, "the new revision went "
			    "%s during rollout.bake", d->state);
		lep_deployment_free(d);
		d = NULL;
	}
	lep_out_progress_done(&ctx->out);
	return err;
}

/*
 * Start a recorded revision again (its old replicas are gone): the
 * record's spec, directory and model version, as provider revision rev.
 */
static const struct lep_err *
reapply(struct lep_ctx *ctx, struct lep_provider *p, struct lep_state *st,
    const char *name, const struct lep_buf *record, int rev)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;
	struct lep_deploy_req	 req;
	struct lep_spec		*sp = NULL;
	struct lep_json		*rec = NULL;
	char			*model_dir = NULL;

	if ((err = lep_json_parse(&rec, record->buf, record->len,
	    name)) != NULL)
		return err;
	if (lep_json_get_str(rec, "dir") == NULL ||
	    lep_json_get(rec, "spec") == NULL) {
		err = lep_err_new(LEP_E_FAILED, "%s: not a deployment record",
		    name);
		goto done;
	}
	if ((err = lep_service_record_spec(&sp, &model_dir, ctx, st, rec,
	    name)) != NULL)
		goto done;
	memset(&req, 0, sizeof(req));
	req.spec = sp;
	req.spec_sha256 = lep_json_get_str(rec, "spec_sha256") ?
	    lep_json_get_str(rec, "spec_sha256") : "";
	req.model_dir = model_dir;
	req.revision = rev;
	req.secret_names = (const char *const *)sp->secrets;
	req.nsecrets = sp->nsecrets;
	req.pin = lep_json_get_str(rec, "pin");
	err = lep_provider_deploy(&d, p, &req);
done:
	lep_deployment_free(d);
	lep_spec_free(sp);
	lep_json_free(rec);
	free(model_dir);
	return err;
}

static char *
commit_message(const struct lep_apply *a, const struct run *r,
    const char *outcome, int number)
{
	struct lep_buf		 b = LEP_BUF_INIT;
	char			*model = a->model == NULL ? NULL :
				    xasprintf("%s@%s", a->model, a->version);
	char			 num[24];
	struct lep_trailer	 kv[] = {
		{ LEP_TRAILER_COMMAND, a->command },
		{ LEP_TRAILER_DEPLOYMENT, a->sp->name },
		{ LEP_TRAILER_PROVIDER, a->pname },
		{ LEP_TRAILER_MODEL, model },
		{ LEP_TRAILER_SPEC, a->hex },
		{ LEP_TRAILER_OUTCOME, outcome },
		{ LEP_TRAILER_REVISION, num },
		{ LEP_TRAILER_REGION, r->region },
		{ LEP_TRAILER_INSTANCE, r->instance },
	};

	snprintf(num, sizeof(num), "%d", number);

	lep_trailer_format(&b, a->subject, kv, LEP_ARRAY_SIZE(kv));
	/* What was tried, when it moved or found no room at all. */
	if (a->fo != NULL && (lep_failover_moved(a->fo) ||
	    strcmp(outcome, "no-capacity") == 0))
		lep_failover_trailers(a->fo, &b, outcome);
	free(model);
	return lep_buf_detach(&b, NULL);
}

/* The restoring commit has the trailers of the revision it restores. */
static char *
restore_message(const struct lep_apply *a, const char *prev, size_t number,
    int own)
{
	struct lep_buf		 b = LEP_BUF_INIT;
	char			*model, *spec, *subject, num[24];
	struct lep_trailer	 kv[] = {
		{ LEP_TRAILER_COMMAND, "rollback" },
		{ LEP_TRAILER_DEPLOYMENT, a->sp->name },
		{ LEP_TRAILER_PROVIDER, a->pname },
		{ LEP_TRAILER_MODEL, NULL },
		{ LEP_TRAILER_SPEC, NULL },
		{ LEP_TRAILER_OUTCOME, "ready" },
		{ LEP_TRAILER_REVISION, num },
	};

	snprintf(num, sizeof(num), "%d", own);

	kv[3].value = model = lep_trailer_get(prev, LEP_TRAILER_MODEL);
	spec = lep_trailer_get(prev, LEP_TRAILER_SPEC);
	kv[4].value = spec ? spec : "";
	subject = xasprintf("rollback %s to revision %zu (automatic)",
	    a->sp->name, number);
	lep_trailer_format(&b, subject, kv, LEP_ARRAY_SIZE(kv));
	free(subject);
	free(model);
	free(spec);
	return lep_buf_detach(&b, NULL);
}

/*
 * A canary whose deploy was interrupted keeps its share until someone
 * decides; the next deploy or rollback decides: it goes, and the revision
 * the history says is serving goes on serving.
 */
static void
abort_stale_canary(struct lep_ctx *ctx, struct lep_provider *p,
    const char *name)
{
	struct lep_deployment	*d = NULL, *after = NULL;
	int			 canary;

	if (lep_provider_status(&d, p, name) != NULL || d == NULL)
		return;		/* nothing deployed yet, or nothing to say */
	canary = d->canary;
	lep_deployment_free(d);
	if (canary <= 0)
		return;
	lep_out_warn(&ctx->out, "%s: revision %d was left as a canary by an "
	    "interrupted deploy; removing it", name, canary);
	/* A failure here shows again as the deploy's own. */
	(void)lep_provider_update(&after, p, name, canary, "abort");
	lep_deployment_free(after);
}

const struct lep_err *
lep_service_settle(struct lep_ctx *ctx, struct lep_provider *p,
    struct lep_state *st, const char *name)
{
	const struct lep_err	*err;
	struct lep_state_entry	*e = NULL;
	struct lep_deployment	*d = NULL;
	struct lep_buf		 b = LEP_BUF_INIT;
	size_t			 n = 0, num, i;
	char			*path, *mark, *subject, nbuf[24];
	char			*v[4] = { NULL, NULL, NULL, NULL };
	struct lep_trailer	 kv[] = {
		{ LEP_TRAILER_COMMAND, NULL },
		{ LEP_TRAILER_DEPLOYMENT, name },
		{ LEP_TRAILER_PROVIDER, NULL },
		{ LEP_TRAILER_MODEL, NULL },
		{ LEP_TRAILER_SPEC, NULL },
		{ LEP_TRAILER_OUTCOME, "ready" },
		{ LEP_TRAILER_REVISION, nbuf },
	};

	path = lep_service_state_path(name);
	mark = lep_service_state_mark(name);
	err = lep_state_log(&e, &n, st, path, mark, 1);
	free(path);
	free(mark);
	if (err != NULL || n == 0)
		return err;
	v[0] = lep_trailer_get(e[0].message, LEP_TRAILER_OUTCOME);
	num = lep_service_number(e, 0, n);
	if (!lep_streq(v[0], "interrupted") ||
	    lep_provider_status(&d, p, name) != NULL ||
	    d->revision != (int)num || !lep_streq(d->state, "running"))
		goto done;
	/* It serves now: say so, with the trailers it was recorded with. */
	kv[0].value = v[1] = lep_trailer_get(e[0].message,
	    LEP_TRAILER_COMMAND);
	kv[2].value = v[2] = lep_trailer_get(e[0].message,
	    LEP_TRAILER_PROVIDER);
	kv[3].value = v[3] = lep_trailer_get(e[0].message, LEP_TRAILER_MODEL);
	kv[4].value = lep_trailer_get(e[0].message, LEP_TRAILER_SPEC);
	snprintf(nbuf, sizeof(nbuf), "%zu", num);
	subject = xasprintf("revision %zu of %s became ready after its %s "
	    "was interrupted", num, name, kv[0].value ? kv[0].value :
	    "deploy");
	lep_trailer_format(&b, subject, kv, LEP_ARRAY_SIZE(kv));
	free(subject);
	free((char *)kv[4].value);
	if ((err = lep_state_commit(NULL, st, NULL, 0, b.buf)) == NULL)
		lep_out_warn(&ctx->out, "%s: revision %zu, interrupted, became "
		    "ready; recorded now", name, num);
	lep_buf_release(&b);
done:
	for (i = 0; i < 4; i++)
		free(v[i]);
	lep_deployment_free(d);
	lep_state_entries_free(e, n);
	return err;
}

/*
 * A number the record took that no commit has: lepton was killed between
 * the two (or the disk filled). It is recorded now, with what became of
 * it by the provider's word, so that history and status count alike.
 */
static const struct lep_err *
unrecorded(struct lep_ctx *ctx, struct lep_provider *p, struct lep_state *st,
    const struct lep_apply *a, struct run *r, long long rev)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;
	struct lep_buf		 b = LEP_BUF_INIT;
	const char		*outcome = "interrupted", *pname;
	char			 num[24], *subject;
	struct lep_trailer	 kv[] = {
		{ LEP_TRAILER_COMMAND, "deploy" },
		{ LEP_TRAILER_DEPLOYMENT, a->sp->name },
		{ LEP_TRAILER_PROVIDER, NULL },
		{ LEP_TRAILER_OUTCOME, NULL },
		{ LEP_TRAILER_REVISION, num },
	};

	if (rev <= 0 || (r->nhist > 0 && (long long)lep_service_number(
	    r->hist, 0, r->nhist) >= rev) || (r->nhist == 0 && rev <= 0))
		return NULL;
	pname = lep_json_get_str(r->rec, "provider");
	if (lep_streq(pname, a->pname) &&
	    lep_provider_status(&d, p, a->sp->name) == NULL &&
	    d->revision == (int)rev && lep_streq(d->state, "running"))
		outcome = "unrecorded";	/* serves, its spec never written */
	lep_deployment_free(d);
	snprintf(num, sizeof(num), "%lld", rev);
	kv[2].value = pname;
	kv[3].value = outcome;
	subject = xasprintf("revision %lld of %s: %s (never recorded: lepton "
	    "was killed, or the record was lost)", rev, a->sp->name,
	    lep_streq(outcome, "unrecorded") ? "serving" : "interrupted");
	lep_trailer_format(&b, subject, kv, LEP_ARRAY_SIZE(kv));
	free(subject);
	err = lep_state_commit(NULL, st, NULL, 0, b.buf);
	lep_buf_release(&b);
	if (err != NULL)
		return err;
	lep_out_warn(&ctx->out, "%s: revision %lld was never recorded; "
	    "recorded now as %s", a->sp->name, rev, outcome);
	return NULL;
}

/*
 * The record's history and the new revision's number, never one used
 * before (by the record or by the history); the record takes it at once.
 */
static const struct lep_err *
next_revision(struct run *r, struct lep_ctx *ctx, struct lep_provider *p,
    struct lep_state *st, const struct lep_apply *a)
{
	const struct lep_err	*err;
	const char		*name = a->sp->name;
	char			*mark;
	long long		 rev = 0, now = (long long)time(NULL);

	mark = lep_service_state_mark(name);
	err = lep_state_log(&r->hist, &r->nhist, st, r->path, mark, 0);
	free(mark);
	if (err != NULL)
		return err;
	if ((err = service_record_load(&r->rec, ctx, name)) != NULL) {
		if (err->code != LEP_E_NOT_FOUND)
			return err;
		r->rec = lep_json_obj();
		lep_json_set_str(r->rec, "name", name);
		lep_json_set_int(r->rec, "created", now);
	} else
		r->old = lep_json_dup(r->rec);
	(void)lep_json_get_ll(r->rec, "revision", &rev);
	if ((err = unrecorded(ctx, p, st, a, r, rev)) != NULL ||
	    (err = lep_service_settle(ctx, p, st, name)) != NULL)
		return err;
	/* The history as the two above left it. */
	lep_state_entries_free(r->hist, r->nhist);
	r->hist = NULL;
	r->nhist = 0;
	mark = lep_service_state_mark(name);
	err = lep_state_log(&r->hist, &r->nhist, st, r->path, mark, 0);
	free(mark);
	if (err != NULL)
		return err;
	/* Never reuse a number: the provider's or the history's. */
	if (r->nhist > 0 && (long long)lep_service_number(r->hist, 0,
	    r->nhist) > rev)
		rev = (long long)lep_service_number(r->hist, 0, r->nhist);
	r->rev = (int)rev + 1;
	lep_json_set_str(r->rec, "provider", a->pname);
	lep_json_set_int(r->rec, "revision", r->rev);
	lep_json_set_int(r->rec, "updated", now);
	return service_record_save(ctx, name, r->rec);
}

/*
 * Deploy req on a->sites in turn (on a->seg's offer without them) while
 * each is refused for capacity; the provider hears of an offer only if
 * it takes one (LEP_CAP_OFFER), and only such a provider moves between
 * regions. r->site: the offer it started on. Errors: the provider's,
 * CAPACITY (the last refusal).
 */
static const struct lep_err *
start_on_offers(struct lep_deployment **out, struct run *r,
    struct lep_provider *p, const struct lep_apply *a,
    struct lep_deploy_req *req)
{
	const struct lep_err	*err;
	size_t			 k, n = a->nsites;
	int			 offer = lep_provider_takes_offer(p);

	if (!offer || n == 0)
		n = 1;
	for (k = 0; k < n; k++) {
		r->site = a->nsites > 0 ? &a->sites[k] : NULL;
		req->region = req->instance = NULL;
		if (offer && r->site != NULL) {
			req->region = r->site->region;
			req->instance = r->site->instance;
		} else if (offer && a->seg != NULL) {
			req->region = a->seg->region;
			req->instance = a->seg->instance;
		}
		r->region = req->region;
		r->instance = req->instance;
		if (a->fo != NULL)
			lep_failover_begin(a->fo, a->pname, req->region,
			    req->instance);
		err = lep_provider_deploy(out, p, req);
		if (a->fo != NULL)
			(void)lep_failover_end(a->fo, err);
		r->started = err == NULL;
		if (err == NULL || err->code != LEP_E_CAPACITY)
			return err;
	}
	return err;
}

/*
 * Deploy revision r->rev. A canary takes its share while it bakes, beside
 * the active revision; then it takes everything, or it goes and the active
 * one never noticed. Without a canary, an update bakes alone, and if that
 * fails the old replicas are already gone (r->baked).
 */
static const struct lep_err *
start_revision(struct lep_deployment **out, struct run *r,
    struct lep_ctx *ctx, struct lep_provider *p, const struct lep_apply *a)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;
	struct lep_deploy_req	 req;
	const char		*name = a->sp->name;

	memset(&req, 0, sizeof(req));
	req.spec = a->sp;
	req.spec_sha256 = a->hex;
	req.model_dir = a->model_dir;
	req.revision = r->rev;
	req.secret_names = (const char *const *)a->sp->secrets;
	req.nsecrets = a->sp->nsecrets;
	req.pin = a->pin;
	abort_stale_canary(ctx, p, name);
	if ((err = start_on_offers(out, r, p, a, &req)) != NULL)
		return err;
	if ((*out)->canary == r->rev) {
		if ((err = bake(ctx, p, a)) != NULL)
			(void)lep_provider_update(&d, p, name, r->rev, "abort");
		else if ((err = lep_provider_update(&d, p, name, r->rev,
		    "promote")) == NULL) {
			lep_deployment_free(*out);
			*out = d;
			d = NULL;
		}
		lep_deployment_free(d);
	} else if (a->sp->kind == LEP_SPEC_SERVICE &&
	    a->sp->service.bake > 0 && r->nhist > 0 &&
	    (err = bake(ctx, p, a)) != NULL)
		r->baked = 1;	/* the old replicas are gone: restart them */
	return err;
}

/* The record joins the txn: one commit whose outcome says how it went. */
static const struct lep_err *
commit_revision(struct lep_state *st, struct lep_apply *a,
    const struct run *r, const char *outcome)
{
	const struct lep_err	*err;
	char			*msg;

	lep_txn_put(a->txn, r->path, a->record);
	a->record = NULL;
	msg = commit_message(a, r, outcome, r->rev);
	err = lep_txn_commit(NULL, st, a->txn, msg);
	free(msg);
	return err;
}

/*
 * Automatic rollback after failure: if the revision before was healthy it
 * still serves (the provider never stopped it) or, after a failed bake,
 * is started again; a second commit restores its record. Returns the
 * error to report: failure, saying so when it rolled back.
 */
static const struct lep_err *
restore_previous(struct lep_ctx *ctx, struct lep_provider *p,
    struct lep_state *st, const struct lep_apply *a, struct run *r,
    const struct lep_err *failure)
{
	const struct lep_err	*err = failure;
	const char		*name = a->sp->name;
	struct lep_change	 ch;
	struct lep_buf		 prev;
	char			*outcome = NULL, *msg = NULL, *why;
	size_t			 k;

	lep_buf_init(&prev, 0);
	/* The revision that serves: past deploys that started nowhere. */
	for (k = 0; k < r->nhist; k++) {
		free(outcome);
		outcome = lep_trailer_get(r->hist[k].message,
		    LEP_TRAILER_OUTCOME);
		if (!lep_streq(outcome, "no-capacity"))
			break;
	}
	if (k == r->nhist || !lep_streq(outcome, "ready") ||
	    lep_state_read(&prev, st, r->hist[k].oid, r->path) != NULL ||
	    (r->baked && reapply(ctx, p, st, name, &prev, r->rev + 1) != NULL))
		goto done;
	ch.path = r->path;
	ch.data = prev.buf;
	ch.len = prev.len;
	msg = restore_message(a, r->hist[k].message, lep_service_number(r->hist,
	    k, r->nhist), r->rev + 1);
	if (lep_state_commit(NULL, st, &ch, 1, msg) != NULL)
		goto done;
	why = xasprintf("%s; rolled back to revision %zu, which %s",
	    failure->msg, lep_service_number(r->hist, k, r->nhist),
	    r->baked ? "serves again" : "still serves");
	lep_json_set_int(r->rec, "revision", r->rev + 1);
	(void)service_record_save(ctx, name, r->rec);
	err = lep_err_hint(lep_err_new(failure->code, "%s", why),
	    "'lepton history %s' shows both", name);
	free(why);
done:
	lep_buf_release(&prev);
	free(outcome);
	free(msg);
	return err;
}

/* A healthy revision: the record says what serves, the ledger where. */
static const struct lep_err *
finish_record(struct lep_deployment *d, struct lep_ctx *ctx,
    const struct lep_apply *a, const struct run *r)
{
	const struct lep_err	*err;
	struct lep_segment	 seg;
	const char		*name = a->sp->name;

	lep_json_set_str(r->rec, "spec_sha256", a->hex);
	lep_json_set_str(r->rec, "spec_file", a->sp->file);
	lep_json_set_str(r->rec, "spec_dir", a->sp->dir);
	lep_json_set_str(r->rec, "predict_path", a->sp->service.path);
	lep_json_set_str(r->rec, "protocol", a->sp->service.protocol);
	/* Where it runs: an update stays there (lib/service.c). */
	lep_json_set(r->rec, "region", r->region ? lep_json_str(r->region) :
	    lep_json_null());
	lep_json_set(r->rec, "instance", r->instance ?
	    lep_json_str(r->instance) : lep_json_null());
	if (a->model != NULL) {
		lep_json_set_str(r->rec, "model", a->model);
		lep_json_set_str(r->rec, "model_version", a->version);
	} else {
		lep_json_set(r->rec, "model", lep_json_null());
		lep_json_set(r->rec, "model_version", lep_json_null());
	}
	err = service_record_save(ctx, name, r->rec);
	service_stamp(d, r->rec);
	if (err == NULL && r->site != NULL) {
		/* The offer it runs on, not the one planned first. */
		lep_plan_segment(&seg, a->sp, a->pname, r->site, a->machines);
		seg.what = (char *)(uintptr_t)name;
		seg.revision = r->rev;
		err = lep_ledger_record(ctx->home, name, &seg, lep_epoch_ms());
		free(seg.region);
		free(seg.instance);
	} else if (err == NULL && a->seg != NULL) {
		/* The old revision's segment ends, the new one's starts. */
		seg = *a->seg;
		seg.what = (char *)(uintptr_t)name;
		seg.revision = r->rev;
		err = lep_ledger_record(ctx->home, name, &seg, lep_epoch_ms());
	}
	return err;
}

/*
 * Every offer of this provider refused for capacity: nothing started, so
 * the record goes back as it was, and a->rev keeps the number the
 * revision took, for lep_service_refused. Returns last, or the error of
 * putting the record back.
 */
static const struct lep_err *
refused(struct lep_ctx *ctx, struct lep_apply *a, const struct run *r,
    const struct lep_err *last)
{
	const struct lep_err	*err;

	a->rev = r->rev;
	if (r->old != NULL)
		err = service_record_save(ctx, a->sp->name, r->old);
	else
		err = service_record_remove(ctx, a->sp->name);
	return err != NULL ? err : last;
}

const struct lep_err *
lep_service_refused(struct lep_state *st, struct lep_apply *a,
    const struct lep_err *last)
{
	const struct lep_err	*err;
	struct run		 r;
	char			*msg, *subject;
	const char		*keep = a->subject;

	memset(&r, 0, sizeof(r));
	subject = xasprintf("deploy %s: no capacity on any offer (%zu "
	    "tried)", a->sp->name, a->fo->n);
	a->subject = subject;
	msg = commit_message(a, &r, "no-capacity", a->rev);
	a->subject = keep;
	err = lep_txn_commit(NULL, st, a->txn, msg);
	free(msg);
	free(subject);
	return err != NULL ? err : lep_failover_error(a->fo, a->sp, last);
}

const struct lep_err *
lep_service_apply(struct lep_deployment **out, struct lep_ctx *ctx,
    struct lep_provider *p, struct lep_state *st, struct lep_apply *a)
{
	const struct lep_err	*err, *cerr;
	struct run		 r;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.path = lep_service_state_path(a->sp->name);
	if ((err = next_revision(&r, ctx, p, st, a)) != NULL)
		goto done;
	err = start_revision(out, &r, ctx, p, a);
	if (err != NULL && err->code == LEP_E_CAPACITY && a->fo != NULL &&
	    !r.started) {
		err = refused(ctx, a, &r, err);
		goto done;
	}
	/*
	 * Interrupted is not failed: the revision goes on starting, and the
	 * next command records what became of it.
	 */
	cerr = commit_revision(st, a, &r, err == NULL ? "ready" :
	    err->code == LEP_E_INTERRUPTED ? "interrupted" : "failed");
	if (err == NULL)
		err = cerr;
	if (err == NULL)
		err = finish_record(*out, ctx, a, &r);
	else if (err->code != LEP_E_INTERRUPTED)
		err = restore_previous(ctx, p, st, a, &r, err);
done:
	free(a->record);
	a->record = NULL;
	lep_state_entries_free(r.hist, r.nhist);
	lep_json_free(r.rec);
	lep_json_free(r.old);
	free(r.path);
	return err;
}
