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
#include "json.h"
#include "ledger.h"
#include "money.h"
#include "plan.h"
#include "provider.h"
#include "spec.h"
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

/* The first provider in placement.providers this lepton has built. */
static const char *
choose_provider(const struct lep_spec *sp)
{
	size_t	 i, k;

	if (sp->placement.nproviders == 0)
		return "local";
	for (i = 0; i < sp->placement.nproviders; i++)
		for (k = 0; k < lep_provider_count; k++)
			if (strcmp(lep_provider_table[k].name,
			    sp->placement.providers[i]) == 0 &&
			    lep_provider_table[k].ops != NULL)
				return lep_provider_table[k].name;
	return sp->placement.providers[0];
}

/* Files under dir, sorted, each "relative-path sha256" into h. */
static const struct lep_err *
hash_tree(struct lep_sha256 *h, const char *root, const char *rel)
{
	const struct lep_err	*err = NULL;
	struct dirent		**ents = NULL;
	struct stat		 st;
	char			 hex[LEP_SHA256_HEX], *path, *sub;
	int			 n, i;

	path = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	if (stat(path, &st) == -1) {
		err = lep_err_errno(LEP_E_NOT_FOUND, "'%s'", path);
		free(path);
		return err;
	}
	if (S_ISREG(st.st_mode)) {
		if ((err = lep_sha256_file(hex, path)) == NULL) {
			lep_sha256_update(h, rel, strlen(rel) + 1);
			lep_sha256_update(h, hex, 64);
		}
		free(path);
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		free(path);
		return NULL;
	}
	n = scandir(path, &ents, NULL, alphasort);
	if (n == -1)
		err = lep_err_errno(LEP_E_FAILED, "cannot read '%s'", path);
	for (i = 0; i < n; i++) {
		if (err == NULL && strcmp(ents[i]->d_name, ".") != 0 &&
		    strcmp(ents[i]->d_name, "..") != 0) {
			sub = rel[0] ? xasprintf("%s/%s", rel,
			    ents[i]->d_name) : xstrdup(ents[i]->d_name);
			err = hash_tree(h, root, sub);
			free(sub);
		}
		free(ents[i]);
	}
	free(ents);
	free(path);
	return err;
}

/*
 * What makes two deploys the same: the normalised spec, the directory it
 * runs in, and the bytes of the model.
 */
static const struct lep_err *
spec_hash(char hex[LEP_SHA256_HEX], const struct lep_spec *sp,
    const char *model_dir)
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
	if (model_dir != NULL && (err = hash_tree(h, model_dir, "")) != NULL) {
		lep_sha256_free(h);
		return err;
	}
	lep_sha256_final(h, hex);
	return NULL;
}

static const struct lep_err *
model_dir_of(char **out, const struct lep_spec *sp)
{
	struct stat	 st;
	char		*p;

	*out = NULL;
	if (!sp->has_model)
		return NULL;
	if (sp->model.path == NULL)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "%s: model "
		    "'%s' names a %s; the model registry is not built yet",
		    sp->file, sp->model.name, sp->model.version ? "version" :
		    "alias"), "give 'model.path' instead");
	p = sp->model.path[0] == '/' ? xstrdup(sp->model.path) :
	    xasprintf("%s/%s", sp->dir, sp->model.path);
	if (stat(p, &st) == -1) {
		const struct lep_err *err = lep_err_errno(LEP_E_NOT_FOUND,
		    "%s: model.path '%s'", sp->file, sp->model.path);

		free(p);
		return err;
	}
	*out = p;
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

static int64_t
dollars_micro(double d)
{
	char	 buf[64];
	int64_t	 v = 0;

	snprintf(buf, sizeof(buf), "%.6f", d);
	(void)lep_money_parse(&v, buf);
	return v;
}

/*
 * Price the spec on its provider, and refuse it over its budget:
 * placement.max_hourly against the replicas it starts, service.max_cost
 * against a month (730 h) at max replicas. Errors: INFEASIBLE,
 * OVER_BUDGET. *seg_out gets what the ledger will record.
 */
static const struct lep_err *
price_and_guard(struct lep_segment *seg, struct lep_ctx *ctx,
    const struct lep_spec *sp, const char *pname)
{
	const struct lep_err	*err;
	struct lep_plan_opts	 po;
	struct lep_plan		*pl = NULL;
	const struct lep_choice	*c;
	int64_t			 hourly, limit;
	char			 a[32], b[32], d[32];

	memset(&po, 0, sizeof(po));
	po.home = ctx->home;
	po.provider = pname;
	if ((err = lep_plan_new(&pl, sp, &po)) != NULL)
		return err;
	if (pl->n == 0) {
		err = lep_err_new(LEP_E_INFEASIBLE, "%s: %s", sp->file,
		    pl->why);
		goto done;
	}
	c = &pl->choices[0];
	hourly = c->hourly * pl->machines;
	if (sp->placement.has_max_hourly &&
	    hourly > (limit = dollars_micro(sp->placement.max_hourly))) {
		err = lep_err_new(LEP_E_OVER_BUDGET, "%s: %d x $%s/h on %s %s "
		    "is $%s/h, over placement.max_hourly $%s/h", sp->file,
		    pl->machines, lep_money_format(a, sizeof(a), c->hourly),
		    pname, c->offer->instance, lep_money_format(b, sizeof(b),
		    hourly), lep_money_format(d, sizeof(d), limit));
		goto done;
	}
	if (sp->kind == LEP_SPEC_SERVICE && sp->service.has_max_cost &&
	    c->hourly * pl->machines_max * 730 >
	    (limit = dollars_micro(sp->service.max_cost))) {
		err = lep_err_new(LEP_E_OVER_BUDGET, "%s: a month (730 h) of "
		    "%d x $%s/h on %s is $%s, over service.max_cost $%s",
		    sp->file, pl->machines_max, lep_money_format(a, sizeof(a),
		    c->hourly), pname, lep_money_format(b, sizeof(b),
		    c->hourly * pl->machines_max * 730), lep_money_format(d,
		    sizeof(d), limit));
		goto done;
	}
	memset(seg, 0, sizeof(*seg));
	seg->kind = sp->kind == LEP_SPEC_SERVICE ? "service" : "job";
	seg->model = sp->has_model ? sp->model.name : "";
	seg->provider = (char *)(uintptr_t)pname;
	seg->region = xstrdup(c->offer->region);
	seg->instance = xstrdup(c->offer->instance);
	seg->machines = pl->machines;
	seg->price = c->hourly;
done:
	lep_plan_free(pl);
	return err;
}

const struct lep_err *
lep_service_deploy(struct lep_deployment **out, struct lep_ctx *ctx,
    const struct lep_spec *sp, long long lock_ms)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_deployment	*cur = NULL;
	struct lep_deploy_req	 req;
	struct lep_segment	 seg;
	struct lep_json		*rec = NULL;
	const char		*pname, *old;
	char			 hex[LEP_SHA256_HEX], *model_dir = NULL;
	long long		 rev = 0, now = (long long)time(NULL);
	int			 lockfd = -1;

	*out = NULL;
	pname = choose_provider(sp);
	if ((err = open_provider(&p, ctx, pname)) != NULL)
		return err;
	memset(&seg, 0, sizeof(seg));
	if ((err = lep_provider_check(p, sp)) != NULL ||
	    (err = price_and_guard(&seg, ctx, sp, pname)) != NULL ||
	    (err = model_dir_of(&model_dir, sp)) != NULL ||
	    (err = spec_hash(hex, sp, model_dir)) != NULL)
		goto done;
	if (ctx->dry_run) {
		struct lep_deployment	*d = xcalloc(1, sizeof(*d));

		d->name = xstrdup(sp->name);
		d->provider = xstrdup(pname);
		d->state = xstrdup("planned");
		d->spec_sha256 = xstrdup(hex);
		*out = d;
		goto done;
	}
	if ((err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL)
		goto done;
	if ((err = record_load(&rec, ctx, sp->name)) != NULL) {
		if (err->code != LEP_E_NOT_FOUND)
			goto done;
		err = NULL;
	}
	if (rec != NULL) {
		old = lep_json_get_str(rec, "provider");
		if (old != NULL && strcmp(old, pname) != 0) {
			err = lep_err_hint(lep_err_new(LEP_E_CONFLICT,
			    "'%s' is deployed on '%s', not '%s'", sp->name,
			    old, pname), "'lepton stop %s' first", sp->name);
			goto done;
		}
		(void)lep_json_get_ll(rec, "revision", &rev);
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
	} else {
		rec = lep_json_obj();
		lep_json_set_str(rec, "name", sp->name);
		lep_json_set_int(rec, "created", now);
	}
	/* Take the revision number first, so a failed one is never reused. */
	lep_json_set_str(rec, "provider", pname);
	lep_json_set_int(rec, "revision", rev + 1);
	lep_json_set_int(rec, "updated", now);
	if ((err = record_save(ctx, sp->name, rec)) != NULL)
		goto done;
	memset(&req, 0, sizeof(req));
	req.spec = sp;
	req.spec_sha256 = hex;
	req.model_dir = model_dir;
	req.revision = (int)rev + 1;
	req.secret_names = (const char *const *)sp->secrets;
	req.nsecrets = sp->nsecrets;
	err = lep_provider_deploy(out, p, &req);
	if (err != NULL)
		goto done;
	lep_json_set_str(rec, "spec_sha256", hex);
	lep_json_set_str(rec, "spec_file", sp->file);
	lep_json_set_str(rec, "spec_dir", sp->dir);
	lep_json_set_str(rec, "predict_path", sp->service.path);
	lep_json_set_str(rec, "protocol", sp->service.protocol);
	err = record_save(ctx, sp->name, rec);
	stamp_from_record(*out, rec);
	/* The old revision's segment ends, the new one's starts. */
	seg.what = (char *)(uintptr_t)sp->name;
	seg.revision = (int)rev + 1;
	if (err == NULL)
		err = lep_ledger_record(ctx->home, sp->name, &seg,
		    lep_epoch_ms());
done:
	free(seg.region);
	free(seg.instance);
	lep_unlock(lockfd);
	lep_deployment_free(cur);
	lep_json_free(rec);
	lep_provider_close(p);
	free(model_dir);
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
	return open_provider(out, ctx, pname ? pname : "local");
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

	if ((err = provider_of(&p, &rec, ctx, name)) == NULL)
		err = lep_provider_logs(p, name, req, &ctx->out);
	lep_json_free(rec);
	lep_provider_close(p);
	return err;
}

const struct lep_err *
lep_service_target(char **url_out, char **token_out, struct lep_ctx *ctx,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_json		*rec = NULL;
	const char		*path;
	char			*base = NULL;

	*url_out = *token_out = NULL;
	if ((err = provider_of(&p, &rec, ctx, name)) == NULL &&
	    (err = lep_provider_endpoint(&base, token_out, p, name)) == NULL) {
		path = lep_json_get_str(rec, "predict_path");
		*url_out = xasprintf("%s%s", base, path ? path : "/predict");
	}
	free(base);
	lep_json_free(rec);
	lep_provider_close(p);
	return err;
}
