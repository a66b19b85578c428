/*
 * service.c: the provider-independent half of deploy, status, stop, logs
 * and predict's lookup. The record of a deployment lives in
 * HOME/deployments/NAME.json, written atomically under the state lock.
 */
#include "service.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "creds.h"
#include "crypto.h"
#include "ctx.h"
#include "error.h"
#include "failover.h"
#include "fs.h"
#include "job.h"
#include "json.h"
#include "ledger.h"
#include "money.h"
#include "plan.h"
#include "provider.h"
#include "registry.h"
#include "service-priv.h"
#include "spec.h"
#include "state.h"
#include "trailer.h"
#include "util.h"

static char *
record_path(const struct lep_ctx *ctx, const char *name)
{
	return xasprintf("%s/deployments/%s.json", ctx->home, name);
}

const struct lep_err *
service_record_load(struct lep_json **out, const struct lep_ctx *ctx,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	char			*p;

	*out = NULL;
	p = record_path(ctx, name);
	err = lep_read_file(&b, p, LEP_FILE_MAX);
	if (err == NULL)
		err = lep_json_parse(out, b.buf, b.len, p);
	else if (err->code == LEP_E_NOT_FOUND)
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no deployment "
		    "named '%s'", name), "'lepton status' lists them");
	lep_buf_release(&b);
	free(p);
	return err;
}

const struct lep_err *
service_record_save(const struct lep_ctx *ctx, const char *name,
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
	err = lep_write_json(p, rec, 0600);
	free(p);
	return err;
}

const struct lep_err *
service_record_remove(const struct lep_ctx *ctx, const char *name)
{
	char	*p = record_path(ctx, name);
	int	 rc = unlink(p);

	free(p);
	if (rc == -1 && errno != ENOENT)
		return lep_err_errno(LEP_E_FAILED, "cannot remove the record "
		    "of '%s'", name);
	return NULL;
}

char *
lep_service_state_path(const char *name)
{
	return xasprintf("deployments/%s.json", name);
}

char *
lep_service_state_mark(const char *name)
{
	return xasprintf("%s: %s", LEP_TRAILER_DEPLOYMENT, name);
}

size_t
lep_service_number(const struct lep_state_entry *e, size_t i, size_t n)
{
	char		*v = lep_trailer_get(e[i].message, LEP_TRAILER_REVISION);
	long long	 num;
	size_t		 r = n - i;	/* before numbers were written down */

	if (v != NULL && lep_parse_ll(&num, v) == 0 && num > 0)
		r = (size_t)num;
	free(v);
	return r;
}

const struct lep_err *
lep_service_next_number(int *out, struct lep_state *st, const char *name,
    const struct lep_json *rec)
{
	const struct lep_err	*err;
	struct lep_state_entry	*e = NULL;
	size_t			 n = 0;
	long long		 rev = 0;
	char			*path = lep_service_state_path(name);
	char			*mark = lep_service_state_mark(name);

	err = lep_state_log(&e, &n, st, path, mark, 1);
	free(path);
	free(mark);
	if (err != NULL)
		return err;
	(void)lep_json_get_ll(rec, "revision", &rev);
	if (n > 0 && (long long)lep_service_number(e, 0, n) > rev)
		rev = (long long)lep_service_number(e, 0, n);
	lep_state_entries_free(e, n);
	*out = (int)rev + 1;
	return NULL;
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

const struct lep_err *
lep_service_movable(struct lep_ctx *ctx, const char *name, const char *pname)
{
	const struct lep_err	*err;
	struct lep_json		*rec = NULL;

	/* Never deployed, or its record gone: nothing runs anywhere. */
	if ((err = service_record_load(&rec, ctx, name)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? NULL : err;
	err = other_provider_stopped(ctx, name, lep_json_get_str(rec,
	    "provider"), pname);
	lep_json_free(rec);
	return err;
}

const struct lep_err *
lep_service_prepare(struct lep_provider **out, struct lep_segment *seg,
    struct lep_ctx *ctx, const struct lep_spec *sp, const char *pname)
{
	const struct lep_err	*err;
	struct lep_json		*rec = NULL;
	struct lep_site		*v = NULL;
	const char		*region = NULL;
	size_t			 n = 0, i;
	int			 machines = 0;

	if ((err = open_provider(out, ctx, pname)) != NULL)
		return err;
	if ((err = lep_provider_check(*out, sp)) != NULL ||
	    (err = lep_failover_sites(&v, &n, &machines, ctx->home, sp,
	    *out, pname)) != NULL)
		return err;
	/* The region it runs in, on this provider, when it is one. */
	if (service_record_load(&rec, ctx, sp->name) == NULL &&
	    lep_streq(lep_json_get_str(rec, "provider"), pname))
		region = lep_json_get_str(rec, "region");
	for (i = 0; region != NULL && i < n; i++)
		if (strcmp(v[i].region, region) == 0)
			break;
	lep_plan_segment(seg, sp, pname, &v[i < n ? i : 0], machines);
	lep_sites_free(v, n);
	lep_json_free(rec);
	return NULL;
}

struct lep_deployment *
lep_service_planned(const char *name, const char *pname)
{
	struct lep_deployment	*d = xcalloc(1, sizeof(*d));

	d->name = xstrdup(name);
	d->provider = xstrdup(pname);
	d->state = xstrdup("planned");
	return d;
}

const struct lep_err *
lep_service_record_spec(struct lep_spec **sp_out, char **model_dir_out,
    struct lep_ctx *ctx, struct lep_state *st, const struct lep_json *rec,
    const char *label)
{
	const struct lep_err	*err;
	const struct lep_json	*m = lep_json_get(rec, "model");
	const char		*model, *version;
	char			*text;

	*sp_out = NULL;
	*model_dir_out = NULL;
	model = lep_json_get_str(m, "name");
	version = lep_json_get_str(m, "version");
	text = lep_json_print(lep_json_get(rec, "spec"), 0);
	err = lep_spec_parse(sp_out, label, lep_json_get_str(rec, "dir"),
	    text, strlen(text));
	free(text);
	if (err == NULL && model != NULL && version != NULL)
		err = lep_registry_materialize(model_dir_out, st, ctx->home,
		    model, version);
	return err;
}

/*
 * The key that makes the secrets' hash worthless outside this home: 32
 * random bytes in HOME/secrets-hash.key (0600), made on first use.
 */
static const struct lep_err *
hash_key(unsigned char key[32], const char *home)
{
	const struct lep_err	*err = NULL;
	struct lep_buf		 b = LEP_BUF_INIT;
	char			*p = xasprintf("%s/secrets-hash.key", home);
	int			 tries;

	for (tries = 0; tries < 2; tries++) {
		err = lep_read_file(&b, p, 64);
		if (err == NULL || err->code != LEP_E_NOT_FOUND ||
		    (err = lep_random_bytes(key, 32)) != NULL)
			break;
		if ((err = lep_write_exclusive(p, key, 32, 0600)) == NULL) {
			free(p);
			return NULL;
		}
		if (err->code != LEP_E_CONFLICT)
			break;
		/* Another lepton made it first: read theirs. */
	}
	if (err == NULL && b.len != 32)
		err = lep_err_new(LEP_E_FAILED, "'%s' is not a 32-byte key", p);
	if (err == NULL)
		memcpy(key, b.buf, 32);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	free(p);
	return err;
}

/*
 * HMAC-SHA256 (RFC 2104) under the home's key of the spec's secrets,
 * names and values, into hex: a rotated value is a changed deploy, yet
 * what reaches the state repository tells nothing about the values.
 * Resolving them also fails a deploy whose secret is unset, as the first
 * deploy would. Errors: AUTH (a secret unset), FAILED.
 */
static const struct lep_err *
secrets_mac(char hex[LEP_SHA256_HEX], struct lep_ctx *ctx,
    const struct lep_spec *sp)
{
	const struct lep_err	*err;
	struct lep_json		*env = NULL;
	struct lep_sha256	*h;
	const struct lep_json	*m;
	unsigned char		 key[32], pad[64], inner[32];
	char			 ihex[LEP_SHA256_HEX];
	const char		*v;
	size_t			 i;
	int			 k;

	if ((err = lep_creds_secret_env(&env, ctx->home, (const char *const *)
	    sp->secrets, sp->nsecrets, "deploy")) != NULL)
		return err;
	if ((err = hash_key(key, ctx->home)) != NULL ||
	    (err = lep_sha256_new(&h)) != NULL) {
		lep_json_free_wiped(env);
		lep_wipe(key, sizeof(key));
		return err;
	}
	for (k = 0; k < 64; k++)
		pad[k] = (unsigned char)((k < 32 ? key[k] : 0) ^ 0x36);
	lep_sha256_update(h, pad, sizeof(pad));
	for (i = 0; i < lep_json_len(env); i++) {
		m = lep_json_at(env, i);
		v = lep_json_string(m);
		lep_sha256_update(h, lep_json_key(m), strlen(lep_json_key(m)) + 1);
		lep_sha256_update(h, v ? v : "", v ? strlen(v) + 1 : 1);
	}
	lep_sha256_final(h, ihex);
	lep_json_free_wiped(env);
	for (k = 0; k < 32; k++)
		sscanf(ihex + 2 * k, "%2hhx", &inner[k]);
	if ((err = lep_sha256_new(&h)) == NULL) {
		for (k = 0; k < 64; k++)
			pad[k] = (unsigned char)((k < 32 ? key[k] : 0) ^ 0x5c);
		lep_sha256_update(h, pad, sizeof(pad));
		lep_sha256_update(h, inner, sizeof(inner));
		lep_sha256_final(h, hex);
	}
	lep_wipe(key, sizeof(key));
	lep_wipe(pad, sizeof(pad));
	return err;
}

/*
 * What makes two deploys the same: the normalised spec, the directory it
 * runs in, the bytes of the model (its version's digest), what the
 * provider pinned the spec to (an image's ID) and the secrets' keyed hash
 * (when there are secrets: a spec without keeps the hash it had).
 */
static const struct lep_err *
spec_hash(char hex[LEP_SHA256_HEX], const struct lep_spec *sp,
    const char *model_digest, const char *pin, const char *secrets)
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
	if (pin != NULL) {
		lep_sha256_update(h, "pin", 4);
		lep_sha256_update(h, pin, strlen(pin) + 1);
	}
	if (secrets != NULL) {
		lep_sha256_update(h, "secrets", 8);
		lep_sha256_update(h, secrets, strlen(secrets) + 1);
	}
	lep_sha256_final(h, hex);
	return NULL;
}

void
service_stamp(struct lep_deployment *d, const struct lep_json *rec)
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
    const char *version, const char *hex, const char *pin)
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
	if (pin != NULL)
		lep_json_set_str(j, "pin", pin);
	lep_json_set(j, "spec", lep_spec_to_json(sp));
	text = lep_json_print(j, 1);
	lep_json_free(j);
	return text;
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
	struct stat		 sb;
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
	if (lep_read_file(&mb, mpath, LEP_FILE_MAX) == NULL)
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
	/* Missing is missing; anything else (a symlink loop) says what. */
	if (err != NULL && err->code == LEP_E_NOT_FOUND &&
	    lstat(path, &sb) == -1)
		err = lep_err_new(LEP_E_NOT_FOUND, "%s: model.path '%s': no "
		    "such file or directory", sp->file, sp->model.path);
	else if (err != NULL)
		err = lep_err_new(err->code, "%s: model.path '%s': %s",
		    sp->file, sp->model.path, err->msg);
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

/*
 * The deployment as recorded, if it is: it must not run on another
 * provider, and with the same spec and model running there is nothing to
 * do (*out: the running deployment, marked unchanged; else NULL).
 */
static const struct lep_err *
unchanged(struct lep_deployment **out, struct lep_ctx *ctx,
    struct lep_provider *p, const struct lep_spec *sp, const char *pname,
    const char *hex)
{
	const struct lep_err	*err;
	struct lep_deployment	*cur = NULL;
	struct lep_json		*rec = NULL;

	*out = NULL;
	if ((err = service_record_load(&rec, ctx, sp->name)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? NULL : err;
	err = other_provider_stopped(ctx, sp->name, lep_json_get_str(rec,
	    "provider"), pname);
	if (err == NULL &&
	    lep_streq(lep_json_get_str(rec, "spec_sha256"), hex) &&
	    lep_provider_status(&cur, p, sp->name) == NULL &&
	    lep_streq(cur->state, "running")) {
		cur->unchanged = 1;
		service_stamp(cur, rec);
		*out = cur;
		cur = NULL;
	}
	lep_deployment_free(cur);
	lep_json_free(rec);
	return err;
}

/*
 * Where name runs now, if it runs: its recorded provider (*pname_out)
 * and region (*region_out, or NULL); both NULL when it runs nowhere.
 * Caller frees both. A provider that cannot say counts as running there.
 */
static void
running_on(char **pname_out, char **region_out, struct lep_ctx *ctx,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_deployment	*d = NULL;
	struct lep_json		*rec = NULL;
	const char		*pname, *region;
	int			 live;

	*pname_out = *region_out = NULL;
	if (service_record_load(&rec, ctx, name) != NULL)
		return;
	pname = lep_json_get_str(rec, "provider");
	region = lep_json_get_str(rec, "region");
	if (pname != NULL) {
		err = open_provider(&p, ctx, pname);
		if (err == NULL)
			err = lep_provider_status(&d, p, name);
		live = err == NULL ? !lep_streq(d->state, "stopped") :
		    err->code != LEP_E_NOT_FOUND;
		if (live) {
			*pname_out = xstrdup(pname);
			*region_out = region ? xstrdup(region) : NULL;
		}
	}
	lep_deployment_free(d);
	lep_provider_close(p);
	lep_json_free(rec);
}

/*
 * A deployment that runs stays where it runs: an update on another offer
 * would leave two copies serving. Keep, of the providers names (n of
 * them), only the one it runs on (when it is one of them; else the
 * CONFLICT of unchanged() will say so), and of its sites only its region
 * (or the first). Returns the new n.
 */
static size_t
stay_put(const char **names, size_t n, const char *pname)
{
	size_t	 i;

	for (i = 0; pname != NULL && i < n; i++)
		if (strcmp(names[i], pname) == 0) {
			names[0] = names[i];
			return 1;
		}
	return n;
}

static void
stay_in_region(struct lep_site *v, size_t *n, const char *region)
{
	struct lep_site	 tmp;
	size_t		 i;

	for (i = 0; region != NULL && i < *n; i++)
		if (strcmp(v[i].region, region) == 0) {
			tmp = v[0];
			v[0] = v[i];
			v[i] = tmp;
			break;
		}
	for (i = 1; i < *n; i++) {
		free(v[i].region);
		free(v[i].instance);
	}
	*n = 1;
}

/*
 * Open provider pname, check that sp fits it, and plan its offers, in
 * the order to try them. Errors: the provider's, INFEASIBLE, OVER_BUDGET,
 * UNSUPPORTED.
 */
static const struct lep_err *
prepare_sites(struct lep_provider **out, struct lep_site **sites,
    size_t *nsites, int *machines, struct lep_ctx *ctx,
    const struct lep_spec *sp, const char *pname)
{
	const struct lep_err	*err;

	if ((err = open_provider(out, ctx, pname)) != NULL)
		return err;
	if ((err = lep_provider_check(*out, sp)) == NULL)
		err = lep_failover_sites(sites, nsites, machines, ctx->home,
		    sp, *out, pname);
	return err;
}

/* What one provider of a deploy holds: freed before the next is tried. */
struct try {
	struct lep_provider	*p;
	struct lep_site		*sites;
	size_t			 nsites;
	int			 machines;
	char			*pin;
	char			*subject;
};

static void
try_release(struct try *t)
{
	lep_provider_close(t->p);
	lep_sites_free(t->sites, t->nsites);
	free(t->pin);
	free(t->subject);
	memset(t, 0, sizeof(*t));
}

const struct lep_err *
lep_service_deploy(struct lep_deployment **out, struct lep_ctx *ctx,
    const struct lep_spec *sp, long long lock_ms)
{
	const struct lep_err	*err = NULL;
	struct lep_state	*st = NULL;
	struct lep_failover	 fo;
	struct lep_txn		 txn;
	struct lep_apply	 a;
	struct lep_err		 last;		/* the last refusal, whole */
	struct try		 t;
	const char		*pname, **names = NULL;
	char			 hex[LEP_SHA256_HEX], *model_dir = NULL;
	char			 mac[LEP_SHA256_HEX];
	char			*version = NULL, *digest = NULL;
	char			*here = NULL, *region = NULL;
	size_t			 i, n;
	int			 lockfd = -1, locked = 0, rev = 0;

	*out = NULL;
	memset(&last, 0, sizeof(last));
	memset(&txn, 0, sizeof(txn));
	memset(&t, 0, sizeof(t));
	lep_failover_init(&fo, &ctx->out);
	n = lep_failover_providers(&names, sp);
	running_on(&here, &region, ctx, sp->name);
	n = stay_put(names, n, here);
	for (i = 0; i < n; i++) {
		try_release(&t);
		pname = names[i];
		if ((err = prepare_sites(&t.p, &t.sites, &t.nsites,
		    &t.machines, ctx, sp, pname)) != NULL) {
			/* The first is the plan; the others, fallbacks. */
			if (i == 0 || err->code == LEP_E_INTERRUPTED)
				goto done;
			lep_failover_skip(&fo, pname, err);
			err = NULL;
			continue;
		}
		if (here != NULL && lep_streq(here, pname))
			stay_in_region(t.sites, &t.nsites, region);
		if (ctx->dry_run) {
			*out = lep_service_planned(sp->name, pname);
			goto done;
		}
		if (!locked && ((err = lep_lock(&lockfd, ctx->home,
		    lock_ms)) != NULL || (err = lep_state_open(&st, ctx->home,
		    1)) != NULL || (err = spec_model(&version, &model_dir,
		    &digest, &txn, ctx, st, sp)) != NULL))
			goto done;
		locked = 1;
		if ((err = lep_provider_pin(&t.pin, t.p, sp)) != NULL ||
		    (sp->nsecrets > 0 &&
		    (err = secrets_mac(mac, ctx, sp)) != NULL) ||
		    (err = spec_hash(hex, sp, digest, t.pin, sp->nsecrets > 0 ?
		    mac : NULL)) != NULL ||
		    (err = unchanged(out, ctx, t.p, sp, pname, hex)) != NULL ||
		    *out != NULL)
			goto done;
		if (version != NULL)
			t.subject = xasprintf("deploy %s %s on %s", sp->name,
			    version, pname);
		else
			t.subject = xasprintf("deploy %s on %s", sp->name,
			    pname);
		memset(&a, 0, sizeof(a));
		a.sp = sp;
		a.pname = pname;
		a.model = sp->has_model ? sp->model.name : NULL;
		a.version = version;
		a.model_dir = model_dir;
		a.hex = hex;
		a.pin = t.pin;
		a.subject = t.subject;
		a.command = "deploy";
		a.txn = &txn;
		a.record = record_text(sp, pname, a.model, version, hex,
		    t.pin);
		a.sites = t.sites;
		a.nsites = t.nsites;
		a.machines = t.machines;
		a.fo = &fo;
		err = lep_service_apply(out, ctx, t.p, st, &a);
		/* Only a refusal for capacity moves on. */
		if (err == NULL || err->code != LEP_E_CAPACITY)
			goto done;
		last = *err;
		rev = a.rev;
	}
	/* Every offer refused (the first provider's were tried). */
	a.subject = NULL;
	a.record = NULL;
	a.rev = rev;
	err = lep_service_refused(st, &a, &last);
done:
	try_release(&t);
	lep_txn_release(&txn);
	lep_state_close(st);
	lep_unlock(lockfd);
	lep_failover_release(&fo);
	free(names);
	free(here);
	free(region);
	free(model_dir);
	free(version);
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
	if ((err = service_record_load(rec_out, ctx, name)) != NULL)
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
		service_stamp(*out, rec);
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
commit_stop(struct lep_state *st, const char *name, const char *pname,
    int number)
{
	const struct lep_err	*err;
	struct lep_change	 ch;
	struct lep_buf		 msg = LEP_BUF_INIT;
	char			*subject, *path;
	struct lep_trailer	 kv[] = {
		{ LEP_TRAILER_COMMAND, "stop" },
		{ LEP_TRAILER_DEPLOYMENT, name },
		{ LEP_TRAILER_PROVIDER, pname },
		{ LEP_TRAILER_OUTCOME, "stopped" },
		{ LEP_TRAILER_REVISION, NULL },
	};
	char			 num[24];

	snprintf(num, sizeof(num), "%d", number);
	kv[4].value = num;
	path = lep_service_state_path(name);
	ch.path = path;
	ch.data = NULL;
	ch.len = 0;
	subject = xasprintf("stop %s on %s", name, pname);
	lep_trailer_format(&msg, subject, kv, LEP_ARRAY_SIZE(kv));
	err = lep_state_commit(NULL, st, &ch, 1, msg.buf);
	lep_buf_release(&msg);
	free(subject);
	free(path);
	return err;
}

const struct lep_err *
lep_service_settle_named(struct lep_ctx *ctx, struct lep_state *st,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_json		*rec = NULL;

	if ((err = provider_of(&p, &rec, ctx, name)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? NULL : err;
	err = lep_service_settle(ctx, p, st, name);
	lep_json_free(rec);
	lep_provider_close(p);
	return err;
}

const struct lep_err *
lep_service_stop(struct lep_deployment **out, struct lep_ctx *ctx,
    const char *name, int grace_s, long long lock_ms)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_json		*rec = NULL;
	struct lep_state	*st = NULL;
	int			 lockfd = -1, number = 0;

	*out = NULL;
	if ((err = provider_of(&p, &rec, ctx, name)) != NULL)
		goto done;
	if (ctx->dry_run) {
		err = lep_provider_status(out, p, name);
		goto done;
	}
	if ((err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL)
		goto done;
	/*
	 * A state that cannot record the stop (damaged, full, read-only) is
	 * found before anything stops: never a stop nobody recorded.
	 */
	if ((err = lep_state_open(&st, ctx->home, 1)) != NULL)
		goto done;
	if ((err = lep_write_probe(ctx->home, 1 << 20)) != NULL) {
		err = lep_err_hint(lep_err_new(err->code, "%s; nothing was "
		    "stopped, since the stop could not be recorded", err->msg),
		    "free some space (or make it writable), then stop again");
		goto done;
	}
	/* stop is a revision: it takes the next number, as a deploy does. */
	if ((err = lep_service_settle(ctx, p, st, name)) != NULL ||
	    (err = lep_service_next_number(&number, st, name, rec)) != NULL)
		goto done;
	err = lep_provider_remove(out, p, name, grace_s);
	if (err == NULL) {
		lep_json_set_int(rec, "revision", number);
		lep_json_set_int(rec, "updated", (long long)time(NULL));
		err = service_record_save(ctx, name, rec);
		service_stamp(*out, rec);
	}
	if (err == NULL)
		err = lep_ledger_record(ctx->home, name, NULL, lep_epoch_ms());
	if (err == NULL)
		err = commit_stop(st, name, lep_provider_name(p), number);
done:
	lep_state_close(st);
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
lep_service_provider(struct lep_provider **out, struct lep_ctx *ctx,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_json		*rec = NULL;

	err = provider_of(out, &rec, ctx, name);
	lep_json_free(rec);
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
