/*
 * service.c: the provider-independent half of deploy, status, stop, logs
 * and predict's lookup. The record of a deployment lives in
 * HOME/deployments/NAME.json, written atomically under the state lock.
 */
#include "service.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "crypto.h"
#include "ctx.h"
#include "error.h"
#include "fs.h"
#include "job.h"
#include "json.h"
#include "ledger.h"
#include "money.h"
#include "plan.h"
#include "provider.h"
#include "registry.h"
#include "spec.h"
#include "state.h"
#include "trailer.h"
#include "util.h"

static char *
record_path(const struct lep_ctx *ctx, const char *name)
{
	return xasprintf("%s/deployments/%s.json", ctx->home, name);
}

static const struct lep_err *
record_load(struct lep_json **out, const struct lep_ctx *ctx,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	char			*p;

	*out = NULL;
	p = record_path(ctx, name);
	err = lep_read_file(&b, p, 1 << 20);
	if (err == NULL)
		err = lep_json_parse(out, b.buf, b.len, p);
	else if (err->code == LEP_E_NOT_FOUND)
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no deployment "
		    "named '%s'", name), "'lepton status' lists them");
	lep_buf_release(&b);
	free(p);
	return err;
}

static const struct lep_err *
record_save(const struct lep_ctx *ctx, const char *name,
    const struct lep_json *rec)
{
	const struct lep_err	*err;
	char			*dir, *p;

	dir = xasprintf("%s/deployments", ctx->home);
	err = lep_mkdirs(dir, 0700);
	free(dir);
	if (err != NULL)
		return err;
	p = record_path(ctx, name);
	err = lep_write_json(p, rec, 0644);
	free(p);
	return err;
}

static const struct lep_err *
open_provider(struct lep_provider **out, struct lep_ctx *ctx,
    const char *name)
{
	struct lep_config	 cfg = { ctx->home, &ctx->out };

	return lep_provider_open(out, name, &cfg);
}

/*
 * A deployment moves to another provider only once it is stopped where
 * it runs: two live copies on two providers would both answer, and only
 * one could be rolled back. Errors: CONFLICT.
 */
static const struct lep_err *
other_provider_stopped(struct lep_ctx *ctx, const char *name,
    const char *old, const char *pname)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_deployment	*d = NULL;
	int			 live;

	if (old == NULL || strcmp(old, pname) == 0)
		return NULL;
	err = open_provider(&p, ctx, old);
	if (err == NULL)
		err = lep_provider_status(&d, p, name);
	live = err == NULL ? !lep_streq(d->state, "stopped") :
	    err->code != LEP_E_NOT_FOUND;
	lep_deployment_free(d);
	lep_provider_close(p);
	if (!live)
		return NULL;
	return lep_err_hint(lep_err_new(LEP_E_CONFLICT, "'%s' is deployed "
	    "on '%s', not '%s'", name, old, pname), "'lepton stop %s' first",
	    name);
}

/*
 * What makes two deploys the same: the normalised spec, the directory it
 * runs in, and the bytes of the model (its version's digest).
 */
static const struct lep_err *
spec_hash(char hex[LEP_SHA256_HEX], const struct lep_spec *sp,
    const char *model_digest)
{
	const struct lep_err	*err;
	struct lep_sha256	*h;
	struct lep_json		*j;
	char			*text;

	if ((err = lep_sha256_new(&h)) != NULL)
		return err;
	j = lep_spec_to_json(sp);
	text = lep_json_print(j, 0);
	lep_sha256_update(h, text, strlen(text) + 1);
	lep_sha256_update(h, sp->dir, strlen(sp->dir) + 1);
	free(text);
	lep_json_free(j);
	if (model_digest != NULL)
		lep_sha256_update(h, model_digest, strlen(model_digest) + 1);
	lep_sha256_final(h, hex);
	return NULL;
}

static void
stamp_from_record(struct lep_deployment *d, const struct lep_json *rec)
{
	long long	 v;
	const char	*s;

	if (lep_json_get_ll(rec, "created", &v) == 0)
		d->created = v;
	if (lep_json_get_ll(rec, "updated", &v) == 0)
		d->updated = v;
	if ((s = lep_json_get_str(rec, "spec_sha256")) != NULL) {
		free(d->spec_sha256);
		d->spec_sha256 = xstrdup(s);
	}
	if (d->revision == 0 && lep_json_get_ll(rec, "revision", &v) == 0)
		d->revision = (int)v;
}

/*
 * The deployment as the state repository keeps it: the desired state
 * only (no revision number, no time), so that a rollback writes back the
 * very bytes, and git the very blob, of the revision it returns to.
 */
static char *
record_text(const struct lep_spec *sp, const char *pname, const char *model,
    const char *version, const char *hex)
{
	struct lep_json	*j = lep_json_obj(), *m;
	char		*text;

	lep_json_set_str(j, "name", sp->name);
	lep_json_set_str(j, "provider", pname);
	lep_json_set_str(j, "dir", sp->dir);
	if (model != NULL) {
		m = lep_json_obj();
		lep_json_set_str(m, "name", model);
		lep_json_set_str(m, "version", version);
		lep_json_set(j, "model", m);
	}
	lep_json_set_str(j, "spec_sha256", hex);
	lep_json_set(j, "spec", lep_spec_to_json(sp));
	text = lep_json_print(j, 1);
	lep_json_free(j);
	return text;
}

static char *
record_path_git(const char *name)
{
	return xasprintf("deployments/%s.json", name);
}

/* What one apply of a spec to its provider needs. */
struct apply {
	const struct lep_spec	*sp;
	const char		*pname;
	const char		*model;		/* or NULL */
	const char		*version;
	const char		*model_dir;
	const char		*hex;
	const char		*subject;	/* of the commit */
	const char		*command;	/* deploy, rollback */
	struct lep_txn		*txn;		/* the record joins it */
	char			*record;	/* owned: joins the txn */
	const struct lep_segment *seg;
};

/*
 * rollout.bake: watch the new revision for that long; a replica that
 * crashes (is restarted) or a deployment that stops running fails it.
 */
static const struct lep_err *
bake(struct lep_ctx *ctx, struct lep_provider *p, const struct apply *a)
{
	const struct lep_err	*err = NULL;
	struct lep_deployment	*d = NULL;
	struct timespec		 ts = { 0, 200 * 1000 * 1000 };
	long long		 end = lep_now_ms() + a->sp->service.bake * 1000;
	size_t			 i;

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
	struct lep_json		*rec = NULL, *spec;
	const char		*dir, *model, *version;
	char			*text = NULL, *model_dir = NULL;

	if ((err = lep_json_parse(&rec, record->buf, record->len,
	    name)) != NULL)
		return err;
	dir = lep_json_get_str(rec, "dir");
	spec = lep_json_get(rec, "spec");
	model = lep_json_get_str(lep_json_get(rec, "model"), "name");
	version = lep_json_get_str(lep_json_get(rec, "model"), "version");
	if (dir == NULL || spec == NULL) {
		err = lep_err_new(LEP_E_FAILED, "%s: not a deployment record",
		    name);
		goto done;
	}
	text = lep_json_print(spec, 0);
	if ((err = lep_spec_parse(&sp, name, dir, text, strlen(text))) != NULL)
		goto done;
	if (model != NULL && version != NULL && (err =
	    lep_registry_materialize(&model_dir, st, ctx->home, model,
	    version)) != NULL)
		goto done;
	memset(&req, 0, sizeof(req));
	req.spec = sp;
	req.spec_sha256 = lep_json_get_str(rec, "spec_sha256") ?
	    lep_json_get_str(rec, "spec_sha256") : "";
	req.model_dir = model_dir;
	req.revision = rev;
	req.secret_names = (const char *const *)sp->secrets;
	req.nsecrets = sp->nsecrets;
	err = lep_provider_deploy(&d, p, &req);
done:
	lep_deployment_free(d);
	lep_spec_free(sp);
	lep_json_free(rec);
	free(text);
	free(model_dir);
	return err;
}

static char *
commit_message(const struct apply *a, const char *outcome)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	char		*model = a->model == NULL ? NULL :
			    xasprintf("%s@%s", a->model, a->version);
	struct lep_trailer kv[] = {
		{ LEP_TRAILER_COMMAND, a->command },
		{ LEP_TRAILER_DEPLOYMENT, a->sp->name },
		{ LEP_TRAILER_PROVIDER, a->pname },
		{ LEP_TRAILER_MODEL, model },
		{ LEP_TRAILER_SPEC, a->hex },
		{ LEP_TRAILER_OUTCOME, outcome },
	};

	lep_trailer_format(&b, a->subject, kv, LEP_ARRAY_SIZE(kv));
	free(model);
	return lep_buf_detach(&b, NULL);
}

/* The restoring commit has the trailers of the revision it restores. */
static char *
restore_message(const struct apply *a, const char *prev, size_t number)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	char		*model = lep_trailer_get(prev, LEP_TRAILER_MODEL);
	char		*spec = lep_trailer_get(prev, LEP_TRAILER_SPEC);
	char		*subject;
	struct lep_trailer kv[] = {
		{ LEP_TRAILER_COMMAND, "rollback" },
		{ LEP_TRAILER_DEPLOYMENT, a->sp->name },
		{ LEP_TRAILER_PROVIDER, a->pname },
		{ LEP_TRAILER_MODEL, model },
		{ LEP_TRAILER_SPEC, spec ? spec : "" },
		{ LEP_TRAILER_OUTCOME, "ready" },
	};

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

/*
 * Start the revision on the provider, then record it in one commit whose
 * outcome says how it went. If it failed and an earlier revision was
 * healthy, that one still serves (the provider never stopped it): a second
 * commit restores its record. Under the state lock.
 */
static const struct lep_err *
apply(struct lep_deployment **out, struct lep_ctx *ctx,
    struct lep_provider *p, struct lep_state *st, struct apply *a)
{
	const struct lep_err	*err, *cerr;
	struct lep_state_entry	*hist = NULL;
	struct lep_deploy_req	 req;
	struct lep_json		*rec = NULL;
	struct lep_buf		 prev;
	char			*path, *msg, *outcome, *restore;
	size_t			 nhist = 0;
	int			 baked;
	long long		 rev = 0, now = (long long)time(NULL);
	const char		*name = a->sp->name;

	*out = NULL;
	path = record_path_git(name);
	lep_buf_init(&prev, 0);
	if ((err = lep_state_log(&hist, &nhist, st, path, 0)) != NULL)
		goto done;
	if ((err = record_load(&rec, ctx, name)) != NULL) {
		if (err->code != LEP_E_NOT_FOUND)
			goto done;
		err = NULL;
		rec = lep_json_obj();
		lep_json_set_str(rec, "name", name);
		lep_json_set_int(rec, "created", now);
	}
	(void)lep_json_get_ll(rec, "revision", &rev);
	/* Never reuse a number: the provider's or the history's. */
	if ((long long)nhist > rev)
		rev = (long long)nhist;
	lep_json_set_str(rec, "provider", a->pname);
	lep_json_set_int(rec, "revision", rev + 1);
	lep_json_set_int(rec, "updated", now);
	if ((err = record_save(ctx, name, rec)) != NULL)
		goto done;
	memset(&req, 0, sizeof(req));
	req.spec = a->sp;
	req.spec_sha256 = a->hex;
	req.model_dir = a->model_dir;
	req.revision = (int)rev + 1;
	req.secret_names = (const char *const *)a->sp->secrets;
	req.nsecrets = a->sp->nsecrets;
	abort_stale_canary(ctx, p, name);
	err = lep_provider_deploy(out, p, &req);
	baked = 0;
	if (err == NULL && (*out)->canary == (int)rev + 1) {
		/*
		 * A canary takes its share while it bakes, beside the active
		 * revision; then it takes everything, or it goes and the
		 * active one never noticed.
		 */
		struct lep_deployment	*d = NULL;

		if ((err = bake(ctx, p, a)) == NULL) {
			if ((err = lep_provider_update(&d, p, name,
			    (int)rev + 1, "promote")) == NULL) {
				lep_deployment_free(*out);
				*out = d;
			}
		} else
			(void)lep_provider_update(&d, p, name, (int)rev + 1,
			    "abort");
		if (err != NULL)
			lep_deployment_free(d);
	} else if (err == NULL && a->sp->kind == LEP_SPEC_SERVICE &&
	    a->sp->service.bake > 0 && nhist > 0 &&
	    (err = bake(ctx, p, a)) != NULL)
		baked = 1;	/* the old replicas are gone: start them again */

	lep_txn_put(a->txn, path, a->record);
	a->record = NULL;
	msg = commit_message(a, err == NULL ? "ready" : "failed");
	cerr = lep_txn_commit(NULL, st, a->txn, msg);
	free(msg);
	if (err == NULL && cerr != NULL)
		err = cerr;
	if (err != NULL) {
		/* Automatic rollback: the last healthy revision serves on. */
		outcome = nhist > 0 ? lep_trailer_get(hist[0].message,
		    LEP_TRAILER_OUTCOME) : NULL;
		if (lep_streq(outcome, "ready") &&
		    lep_state_read(&prev, st, hist[0].oid, path) == NULL &&
		    (!baked || reapply(ctx, p, st, name, &prev,
		    (int)rev + 2) == NULL)) {
			struct lep_change	 ch = { path, prev.buf, prev.len };

			msg = restore_message(a, hist[0].message, nhist);
			if (lep_state_commit(NULL, st, &ch, 1, msg) == NULL) {
				restore = xasprintf("%s; rolled back to "
				    "revision %zu, which %s", err->msg, nhist,
				    baked ? "serves again" : "still serves");
				if (baked) {
					lep_json_set_int(rec, "revision",
					    rev + 2);
					(void)record_save(ctx, name, rec);
				}
				err = lep_err_hint(lep_err_new(err->code, "%s",
				    restore), "'lepton history %s' shows both",
				    name);
				free(restore);
			}
			free(msg);
		}
		free(outcome);
		goto done;
	}
	lep_json_set_str(rec, "spec_sha256", a->hex);
	lep_json_set_str(rec, "spec_file", a->sp->file);
	lep_json_set_str(rec, "spec_dir", a->sp->dir);
	lep_json_set_str(rec, "predict_path", a->sp->service.path);
	lep_json_set_str(rec, "protocol", a->sp->service.protocol);
	if (a->model != NULL) {
		lep_json_set_str(rec, "model", a->model);
		lep_json_set_str(rec, "model_version", a->version);
	} else {
		lep_json_set(rec, "model", lep_json_null());
		lep_json_set(rec, "model_version", lep_json_null());
	}
	err = record_save(ctx, name, rec);
	stamp_from_record(*out, rec);
	if (err == NULL && a->seg != NULL) {
		struct lep_segment	 seg = *a->seg;

		/* The old revision's segment ends, the new one's starts. */
		seg.what = (char *)(uintptr_t)name;
		seg.revision = (int)rev + 1;
		err = lep_ledger_record(ctx->home, name, &seg, lep_epoch_ms());
	}
done:
	free(a->record);
	a->record = NULL;
	lep_buf_release(&prev);
	lep_state_entries_free(hist, nhist);
	lep_json_free(rec);
	free(path);
	return err;
}

/* The spec's model, registered by content or resolved, and its files. */
static const struct lep_err *
spec_model(char **version_out, char **dir_out, char **digest_out,
    struct lep_txn *txn, struct lep_ctx *ctx, struct lep_state *st,
    const struct lep_spec *sp)
{
	const struct lep_err	*err;
	struct lep_json		*src, *metrics = NULL, *manifest = NULL;
	struct lep_buf		 mb;
	char			*path, *mpath, *parent = NULL;
	int			 created;

	*version_out = *dir_out = *digest_out = NULL;
	if (!sp->has_model)
		return NULL;
	if (sp->model.path == NULL) {
		if ((err = lep_registry_resolve(version_out, st, sp->model.name,
		    sp->model.version ? sp->model.version :
		    sp->model.alias)) != NULL ||
		    (err = lep_registry_manifest(&manifest, st, sp->model.name,
		    *version_out)) != NULL)
			return err;
		*digest_out = xstrdup(lep_json_get_str(manifest, "digest") ?
		    lep_json_get_str(manifest, "digest") : "");
		lep_json_free(manifest);
		return lep_registry_materialize(dir_out, st, ctx->home,
		    sp->model.name, *version_out);
	}
	path = sp->model.path[0] == '/' ? xstrdup(sp->model.path) :
	    xasprintf("%s/%s", sp->dir, sp->model.path);
	/* A metrics.json beside the model comes along. */
	mpath = xasprintf("%s/metrics.json", path);
	if (lep_read_file(&mb, mpath, 1 << 20) == NULL)
		(void)lep_json_parse(&metrics, mb.buf, mb.len, mpath);
	lep_buf_release(&mb);
	free(mpath);
	(void)lep_registry_resolve(&parent, st, sp->model.name, NULL);
	src = lep_json_obj();
	lep_json_set_str(src, "kind", "spec");
	lep_json_set_str(src, "spec", sp->file);
	lep_json_set_str(src, "path", path);
	err = lep_registry_register(version_out, &created, &manifest, txn, st,
	    ctx->home, sp->model.name, path, src, metrics, parent);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = lep_err_new(LEP_E_NOT_FOUND, "%s: model.path '%s': no "
		    "such file or directory", sp->file, sp->model.path);
	if (err == NULL) {
		*digest_out = xstrdup(lep_json_get_str(manifest, "digest") ?
		    lep_json_get_str(manifest, "digest") : "");
		err = lep_registry_materialize_from(dir_out, ctx->home,
		    manifest);
	}
	lep_json_free(manifest);
	lep_json_free(metrics);
	lep_json_free(src);
	free(parent);
	free(path);
	return err;
}

const struct lep_err *
lep_service_deploy(struct lep_deployment **out, struct lep_ctx *ctx,
    const struct lep_spec *sp, long long lock_ms)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_deployment	*cur = NULL;
	struct lep_state	*st = NULL;
	struct lep_segment	 seg;
	struct lep_txn		 txn;
	struct lep_json		*rec = NULL;
	struct apply		 a;
	const char		*pname, *old;
	char			 hex[LEP_SHA256_HEX], *model_dir = NULL;
	char			*version = NULL, *subject = NULL, *digest = NULL;
	int			 lockfd = -1;

	*out = NULL;
	memset(&txn, 0, sizeof(txn));
	memset(&seg, 0, sizeof(seg));
	pname = lep_plan_provider(sp);
	if ((err = open_provider(&p, ctx, pname)) != NULL)
		return err;
	if ((err = lep_provider_check(p, sp)) != NULL ||
	    (err = lep_plan_price(&seg, ctx->home, sp, pname)) != NULL)
		goto done;
	if (ctx->dry_run) {
		struct lep_deployment	*d = xcalloc(1, sizeof(*d));

		d->name = xstrdup(sp->name);
		d->provider = xstrdup(pname);
		d->state = xstrdup("planned");
		*out = d;
		goto done;
	}
	if ((err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL ||
	    (err = lep_state_open(&st, ctx->home, 1)) != NULL ||
	    (err = spec_model(&version, &model_dir, &digest, &txn, ctx, st,
	    sp)) != NULL ||
	    (err = spec_hash(hex, sp, digest)) != NULL)
		goto done;
	if ((err = record_load(&rec, ctx, sp->name)) != NULL) {
		if (err->code != LEP_E_NOT_FOUND)
			goto done;
		err = NULL;
	}
	if (rec != NULL) {
		old = lep_json_get_str(rec, "provider");
		if ((err = other_provider_stopped(ctx, sp->name, old,
		    pname)) != NULL)
			goto done;
		/* The same spec and model, running: nothing to do. */
		if (lep_streq(lep_json_get_str(rec, "spec_sha256"), hex) &&
		    lep_provider_status(&cur, p, sp->name) == NULL &&
		    lep_streq(cur->state, "running")) {
			cur->unchanged = 1;
			stamp_from_record(cur, rec);
			*out = cur;
			cur = NULL;
			goto done;
		}
	}
	if (version != NULL)
		subject = xasprintf("deploy %s %s on %s", sp->name, version,
		    pname);
	else
		subject = xasprintf("deploy %s on %s", sp->name, pname);
	memset(&a, 0, sizeof(a));
	a.sp = sp;
	a.pname = pname;
	a.model = sp->has_model ? sp->model.name : NULL;
	a.version = version;
	a.model_dir = model_dir;
	a.hex = hex;
	a.subject = subject;
	a.command = "deploy";
	a.txn = &txn;
	a.record = record_text(sp, pname, a.model, version, hex);
	a.seg = &seg;
	err = apply(out, ctx, p, st, &a);
done:
	free(seg.region);
	free(seg.instance);
	lep_txn_release(&txn);
	lep_state_close(st);
	lep_unlock(lockfd);
	lep_deployment_free(cur);
	lep_json_free(rec);
	lep_provider_close(p);
	free(model_dir);
	free(version);
	free(subject);
	free(digest);
	return err;
}

static const struct lep_err *
provider_of(struct lep_provider **out, struct lep_json **rec_out,
    struct lep_ctx *ctx, const char *name)
{
	const struct lep_err	*err;
	const char		*pname;

	*out = NULL;
	if ((err = record_load(rec_out, ctx, name)) != NULL)
		return err;
	pname = lep_json_get_str(*rec_out, "provider");
	return open_provider(out, ctx, pname ? pname :
	    lep_provider_default());
}

const struct lep_err *
lep_service_get(struct lep_deployment **out, struct lep_ctx *ctx,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_json		*rec = NULL;

	*out = NULL;
	err = provider_of(&p, &rec, ctx, name);
	if (err == NULL && (err = lep_provider_status(out, p, name)) != NULL &&
	    err->code == LEP_E_NOT_FOUND) {
		/* Recorded, never started: it failed before the provider. */
		struct lep_deployment	*d = xcalloc(1, sizeof(*d));

		d->name = xstrdup(name);
		d->provider = xstrdup(lep_provider_name(p));
		d->state = xstrdup("failed");
		d->message = xstrdup("never started");
		*out = d;
		err = NULL;
	}
	if (err == NULL)
		stamp_from_record(*out, rec);
	lep_json_free(rec);
	lep_provider_close(p);
	return err;
}

static int
cmp_dep(const void *a, const void *b)
{
	const struct lep_deployment *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

const struct lep_err *
lep_service_list(struct lep_deployment ***out, size_t *n_out,
    struct lep_ctx *ctx)
{
	const struct lep_err	*err = NULL;
	struct lep_deployment	**v = NULL, *d;
	struct dirent		*de;
	size_t			 n = 0, len;
	char			*dir, *name;
	DIR			*dp;

	*out = NULL;
	*n_out = 0;
	dir = xasprintf("%s/deployments", ctx->home);
	dp = opendir(dir);
	free(dir);
	if (dp == NULL)
		return errno == ENOENT ? NULL : lep_err_errno(LEP_E_FAILED,
		    "cannot list deployments");
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || !lep_ends_with(de->d_name, ".json") ||
		    de->d_name[0] == '.')
			continue;
		name = xstrndup(de->d_name, len - 5);
		err = lep_service_get(&d, ctx, name);
		if (lep_err_unreachable(err)) {
			/* One provider down hides none of the others. */
			lep_out_warn(&ctx->out, "%s: %s", name, err->msg);
			d = xcalloc(1, sizeof(*d));
			d->name = xstrdup(name);
			d->provider = xstrdup(err->provider ? err->provider :
			    "");
			d->state = xstrdup("unknown");
			d->message = xstrdup(err->msg);
			d->endpoint = xstrdup("");
			err = NULL;
		}
		free(name);
		if (err != NULL)
			break;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = d;
	}
	closedir(dp);
	if (err != NULL) {
		while (n > 0)
			lep_deployment_free(v[--n]);
		free(v);
		return err;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_dep);
	*out = v;
	*n_out = n;
	return NULL;
}

/* stop is a revision too: the record leaves the state repository. */
static const struct lep_err *
commit_stop(struct lep_ctx *ctx, const char *name, const char *pname)
{
	const struct lep_err	*err;
	struct lep_state	*st;
	struct lep_change	 ch;
	struct lep_buf		 msg = LEP_BUF_INIT;
	char			*subject, *path;
	struct lep_trailer	 kv[] = {
		{ LEP_TRAILER_COMMAND, "stop" },
		{ LEP_TRAILER_DEPLOYMENT, name },
		{ LEP_TRAILER_PROVIDER, pname },
		{ LEP_TRAILER_OUTCOME, "stopped" },
	};

	if ((err = lep_state_open(&st, ctx->home, 1)) != NULL)
		return err;
	path = record_path_git(name);
	ch.path = path;
	ch.data = NULL;
	ch.len = 0;
	subject = xasprintf("stop %s on %s", name, pname);
	lep_trailer_format(&msg, subject, kv, LEP_ARRAY_SIZE(kv));
	err = lep_state_commit(NULL, st, &ch, 1, msg.buf);
	lep_buf_release(&msg);
	free(subject);
	free(path);
	lep_state_close(st);
	return err;
}

const struct lep_err *
lep_service_stop(struct lep_deployment **out, struct lep_ctx *ctx,
    const char *name, int grace_s, long long lock_ms)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_json		*rec = NULL;
	int			 lockfd = -1;

	*out = NULL;
	if ((err = provider_of(&p, &rec, ctx, name)) != NULL)
		goto done;
	if (ctx->dry_run) {
		err = lep_provider_status(out, p, name);
		goto done;
	}
	if ((err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL)
		goto done;
	err = lep_provider_remove(out, p, name, grace_s);
	if (err == NULL) {
		lep_json_set_int(rec, "updated", (long long)time(NULL));
		err = record_save(ctx, name, rec);
		stamp_from_record(*out, rec);
	}
	if (err == NULL)
		err = lep_ledger_record(ctx->home, name, NULL, lep_epoch_ms());
	if (err == NULL)
		err = commit_stop(ctx, name, lep_provider_name(p));
done:
	lep_unlock(lockfd);
	lep_json_free(rec);
	lep_provider_close(p);
	return err;
}

const struct lep_err *
lep_service_logs(struct lep_ctx *ctx, const char *name,
    const struct lep_logs_req *req)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_json		*rec = NULL;

	err = provider_of(&p, &rec, ctx, name);
	/* Not a deployment: a job's id. */
	if (err != NULL && err->code == LEP_E_NOT_FOUND &&
	    lep_job_exists(ctx, name))
		err = lep_job_provider(&p, ctx, name);
	if (err == NULL)
		err = lep_provider_logs(p, name, req, &ctx->out);
	lep_json_free(rec);
	lep_provider_close(p);
	return err;
}

const struct lep_err *
lep_service_target(struct lep_target *t, struct lep_ctx *ctx,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_json		*rec = NULL;
	const char		*v;

	memset(t, 0, sizeof(*t));
	if ((err = provider_of(&p, &rec, ctx, name)) == NULL &&
	    (err = lep_provider_endpoint(&t->base, &t->token, p,
	    name)) == NULL) {
		v = lep_json_get_str(rec, "predict_path");
		t->path = xstrdup(v ? v : "/predict");
		v = lep_json_get_str(rec, "protocol");
		t->protocol = xstrdup(v ? v : "json");
		v = lep_json_get_str(rec, "model");
		t->model = xstrdup(v ? v : name);
	}
	lep_json_free(rec);
	lep_provider_close(p);
	return err;
}

void
lep_target_release(struct lep_target *t)
{
	if (t->token != NULL)
		lep_wipe(t->token, strlen(t->token));
	free(t->base);
	free(t->token);
	free(t->path);
	free(t->protocol);
	free(t->model);
	memset(t, 0, sizeof(*t));
}

static void
revision_free(struct lep_revision *r)
{
	free(r->commit);
	free(r->author);
	free(r->model);
	free(r->spec_sha256);
	free(r->provider);
	free(r->outcome);
	free(r->command);
	free(r->subject);
}

void
lep_revisions_free(struct lep_revision *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		revision_free(&v[i]);
	free(v);
}

static void
fill_revision(struct lep_revision *r, const struct lep_state_entry *e,
    size_t number)
{
	r->number = number;
	r->commit = xstrdup(e->oid);
	memcpy(r->blob, e->blob, sizeof(r->blob));
	r->time = e->time;
	r->author = xstrdup(e->author);
	r->model = lep_trailer_get(e->message, LEP_TRAILER_MODEL);
	r->spec_sha256 = lep_trailer_get(e->message, LEP_TRAILER_SPEC);
	r->provider = lep_trailer_get(e->message, LEP_TRAILER_PROVIDER);
	r->outcome = lep_trailer_get(e->message, LEP_TRAILER_OUTCOME);
	r->command = lep_trailer_get(e->message, LEP_TRAILER_COMMAND);
	r->subject = xstrndup(e->message, strcspn(e->message, "\n"));
}

const struct lep_err *
lep_service_history(struct lep_revision **out, size_t *n_out,
    struct lep_ctx *ctx, const char *name, size_t max)
{
	const struct lep_err	*err;
	struct lep_state_entry	*e = NULL;
	struct lep_state	*st = NULL;
	size_t			 n = 0, i, total;
	char			*path;

	*out = NULL;
	*n_out = 0;
	if ((err = lep_state_open(&st, ctx->home, 0)) != NULL) {
		if (err->code != LEP_E_NOT_FOUND)
			return err;
		return lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no "
		    "deployment named '%s' in the history", name),
		    "'lepton status' lists them");
	}
	path = record_path_git(name);
	err = lep_state_log(&e, &n, st, path, 0);
	free(path);
	lep_state_close(st);
	if (err != NULL)
		return err;
	if (n == 0) {
		free(e);
		return lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no "
		    "deployment named '%s' in the history", name),
		    "'lepton status' lists them");
	}
	total = n;
	if (max != 0 && n > max)
		n = max;
	*out = xcalloc(n, sizeof(**out));
	for (i = 0; i < n; i++)
		fill_revision(&(*out)[i], &e[i], total - i);
	*n_out = n;
	lep_state_entries_free(e, total);
	return NULL;
}

/* --to: a revision number, a model version (vN) or a commit id. */
static long
pick_target(const struct lep_revision *h, size_t n, const char *to,
    const char *name)
{
	long long	 num;
	size_t		 i;
	char		*want;

	if (to == NULL) {
		/* The last healthy revision before this one, that differs. */
		for (i = 1; i < n; i++)
			if (lep_streq(h[i].outcome, "ready") && h[i].blob[0] &&
			    strspn(h[i].blob, "0") != strlen(h[i].blob) &&
			    strcmp(h[i].blob, h[0].blob) != 0)
				return (long)i;
		return -1;
	}
	if (lep_parse_ll(&num, to) == 0) {
		for (i = 0; i < n; i++)
			if ((long long)h[i].number == num)
				return (long)i;
		return -1;
	}
	if (to[0] == 'v' && lep_parse_ll(&num, to + 1) == 0) {
		want = xasprintf("%s@%s", name, to);
		for (i = 0; i < n; i++)
			if (lep_streq(h[i].outcome, "ready") && h[i].model &&
			    strcmp(h[i].model + strcspn(h[i].model, "@"),
			    want + strcspn(want, "@")) == 0) {
				free(want);
				return (long)i;
			}
		free(want);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (strlen(to) >= 4 && lep_starts_with(h[i].commit, to))
			return (long)i;
	return -1;
}

const struct lep_err *
lep_service_rollback(struct lep_deployment **out, size_t *to_out,
    struct lep_ctx *ctx, const char *name, const char *to, long long lock_ms)
{
	const struct lep_err	*err;
	struct lep_revision	*h = NULL;
	struct lep_provider	*p = NULL;
	struct lep_state	*st = NULL;
	struct lep_spec		*sp = NULL;
	struct lep_segment	 seg;
	struct lep_json		*rec = NULL, *spec, *cur = NULL;
	struct lep_txn		 txn;
	struct lep_buf		 b;
	struct apply		 a;
	const char		*dir, *model, *version, *pname;
	char			*path, *text = NULL, *model_dir = NULL;
	char			*subject = NULL;
	size_t			 n = 0;
	long			 i;
	int			 lockfd = -1;

	*out = NULL;
	*to_out = 0;
	memset(&txn, 0, sizeof(txn));
	memset(&seg, 0, sizeof(seg));
	lep_buf_init(&b, 0);
	path = record_path_git(name);
	if ((err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL ||
	    (err = lep_service_history(&h, &n, ctx, name, 0)) != NULL ||
	    (err = lep_state_open(&st, ctx->home, 1)) != NULL)
		goto done;
	if ((i = pick_target(h, n, to, name)) < 0) {
		err = to ? lep_err_new(LEP_E_NOT_FOUND, "'%s' has no revision "
		    "'%s'", name, to) : lep_err_new(LEP_E_NOT_FOUND, "'%s' has "
		    "no earlier healthy revision to return to", name);
		lep_err_hint(err, "'lepton history %s' lists its revisions",
		    name);
		goto done;
	}
	if ((err = lep_state_read(&b, st, h[i].commit, path)) != NULL) {
		err = lep_err_new(LEP_E_CONFLICT, "revision %zu of '%s' is a "
		    "stop: there is nothing to return to", h[i].number, name);
		goto done;
	}
	if ((err = lep_json_parse(&rec, b.buf, b.len, path)) != NULL)
		goto done;
	dir = lep_json_get_str(rec, "dir");
	pname = lep_json_get_str(rec, "provider");
	spec = lep_json_get(rec, "spec");
	model = lep_json_get_str(lep_json_get(rec, "model"), "name");
	version = lep_json_get_str(lep_json_get(rec, "model"), "version");
	if (dir == NULL || pname == NULL || spec == NULL) {
		err = lep_err_new(LEP_E_FAILED, "%s at %.12s: not a deployment "
		    "record", path, h[i].commit);
		goto done;
	}
	text = lep_json_print(spec, 0);
	if ((err = lep_spec_parse(&sp, path, dir, text, strlen(text))) != NULL)
		goto done;
	if (model != NULL && version != NULL && (err =
	    lep_registry_materialize(&model_dir, st, ctx->home, model,
	    version)) != NULL)
		goto done;
	if (record_load(&cur, ctx, name) == NULL &&
	    (err = other_provider_stopped(ctx, name, lep_json_get_str(cur,
	    "provider"), pname)) != NULL)
		goto done;
	if ((err = open_provider(&p, ctx, pname)) != NULL ||
	    (err = lep_provider_check(p, sp)) != NULL ||
	    (err = lep_plan_price(&seg, ctx->home, sp, pname)) != NULL)
		goto done;
	if (version != NULL)
		subject = xasprintf("rollback %s to revision %zu (%s) on %s",
		    name, h[i].number, version, pname);
	else
		subject = xasprintf("rollback %s to revision %zu on %s", name,
		    h[i].number, pname);
	memset(&a, 0, sizeof(a));
	a.sp = sp;
	a.pname = pname;
	a.model = model;
	a.version = version;
	a.model_dir = model_dir;
	a.hex = lep_json_get_str(rec, "spec_sha256") ?
	    lep_json_get_str(rec, "spec_sha256") : "";
	a.subject = subject;
	a.command = "rollback";
	a.txn = &txn;
	/* The old record's very bytes: the same blob in git. */
	a.record = xstrndup(b.buf, b.len);
	a.seg = &seg;
	if (ctx->dry_run) {
		free(a.record);
		*out = xcalloc(1, sizeof(**out));
		(*out)->name = xstrdup(name);
		(*out)->provider = xstrdup(pname);
		(*out)->state = xstrdup("planned");
	} else
		err = apply(out, ctx, p, st, &a);
	if (err == NULL)
		*to_out = h[i].number;
done:
	free(seg.region);
	free(seg.instance);
	lep_txn_release(&txn);
	lep_revisions_free(h, n);
	lep_state_close(st);
	lep_unlock(lockfd);
	lep_provider_close(p);
	lep_spec_free(sp);
	lep_json_free(rec);
	lep_json_free(cur);
	lep_buf_release(&b);
	free(text);
	free(model_dir);
	free(subject);
	free(path);
	return err;
}
