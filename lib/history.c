/*
 * history.c: a deployment's revisions, read from the state repository's
 * log, and rollback: an earlier revision's record, applied again.
 */
#include "history.h"

#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "error.h"
#include "fs.h"
#include "json.h"
#include "ledger.h"
#include "provider.h"
#include "registry.h"
#include "service.h"
#include "spec.h"
#include "state.h"
#include "trailer.h"
#include "util.h"

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
	free(r->region);
	free(r->instance);
	while (r->nattempts > 0)
		free(r->attempts[--r->nattempts]);
	free(r->attempts);
}

void
lep_history_free(struct lep_revision *v, size_t n)
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
	r->region = lep_trailer_get(e->message, LEP_TRAILER_REGION);
	r->instance = lep_trailer_get(e->message, LEP_TRAILER_INSTANCE);
	r->nattempts = lep_trailer_get_all(&r->attempts, e->message,
	    LEP_TRAILER_ATTEMPT);
}

static const struct lep_err *
not_in_history(const char *name)
{
	return lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no deployment "
	    "named '%s' in the history", name), "'lepton status' lists them");
}

const struct lep_err *
lep_history_list(struct lep_revision **out, size_t *n_out,
    struct lep_ctx *ctx, const char *name, size_t max)
{
	const struct lep_err	*err;
	struct lep_state_entry	*e = NULL;
	struct lep_state	*st = NULL;
	size_t			 n = 0, i, total;
	char			*path, *mark;

	*out = NULL;
	*n_out = 0;
	if ((err = lep_state_open(&st, ctx->home, 0)) != NULL)
		return err->code == LEP_E_NOT_FOUND ? not_in_history(name) :
		    err;
	path = lep_service_state_path(name);
	mark = lep_service_state_mark(name);
	err = lep_state_log(&e, &n, st, path, mark, 0);
	free(mark);
	free(path);
	lep_state_close(st);
	if (err != NULL)
		return err;
	if (n == 0) {
		free(e);
		return not_in_history(name);
	}
	total = n;
	if (max != 0 && n > max)
		n = max;
	*out = xcalloc(n, sizeof(**out));
	for (i = 0; i < n; i++)
		fill_revision(&(*out)[i], &e[i], lep_service_number(e, i,
		    total));
	*n_out = n;
	lep_state_entries_free(e, total);
	return NULL;
}

/* No record at that revision: the commit removed it (a stop). */
static int
is_stop(const struct lep_revision *r)
{
	return strspn(r->blob, "0") == strlen(r->blob);
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
			if (lep_streq(h[i].outcome, "ready") &&
			    !is_stop(&h[i]) &&
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

/* A rollback being prepared: the revision it returns to, and its record. */
struct target {
	const char		*name;
	char			*path;		/* the record in git */
	struct lep_revision	*h;		/* the history, newest first */
	size_t			 n;
	const struct lep_revision *r;		/* the one returned to */
	struct lep_buf		 b;		/* its record's very bytes */
	struct lep_json		*rec;		/* and parsed */
	const char		*pname;		/* the record's provider */
	struct lep_spec		*sp;
	char			*model_dir;
};

static void
target_release(struct target *t)
{
	lep_history_free(t->h, t->n);
	lep_buf_release(&t->b);
	lep_json_free(t->rec);
	lep_spec_free(t->sp);
	free(t->model_dir);
	free(t->path);
}

/*
 * Read the record of the revision to return to. Only a revision without
 * one is a stop: any other failure to read it is the state repository's,
 * reported as such. Errors: NOT_FOUND (no such revision), CONFLICT (a
 * stop), FAILED.
 */
static const struct lep_err *
target_read(struct target *t, struct lep_state *st, const char *to)
{
	const struct lep_err	*err;
	long			 i;

	if ((i = pick_target(t->h, t->n, to, t->name)) < 0) {
		err = to ? lep_err_new(LEP_E_NOT_FOUND, "'%s' has no revision "
		    "'%s'", t->name, to) : lep_err_new(LEP_E_NOT_FOUND, "'%s' "
		    "has no earlier healthy revision to return to", t->name);
		return lep_err_hint(err, "'lepton history %s' lists its "
		    "revisions", t->name);
	}
	t->r = &t->h[i];
	if (lep_streq(t->r->outcome, "no-capacity"))
		return lep_err_new(LEP_E_CONFLICT, "revision %zu of '%s' "
		    "started nowhere (no offer had capacity): there is "
		    "nothing to return to", t->r->number, t->name);
	if (is_stop(t->r))
		return lep_err_new(LEP_E_CONFLICT, "revision %zu of '%s' is a "
		    "stop: there is nothing to return to", t->r->number,
		    t->name);
	if ((err = lep_state_read(&t->b, st, t->r->commit, t->path)) != NULL)
		/* The log saw the blob: it is missing, not absent. */
		return err->code != LEP_E_NOT_FOUND ? err : lep_err_new(
		    LEP_E_FAILED, "state repository: revision %zu of '%s': "
		    "object %s is missing", t->r->number, t->name, t->r->blob);
	if ((err = lep_json_parse(&t->rec, t->b.buf, t->b.len,
	    t->path)) != NULL)
		return err;
	t->pname = lep_json_get_str(t->rec, "provider");
	if (lep_json_get_str(t->rec, "dir") == NULL || t->pname == NULL ||
	    lep_json_get(t->rec, "spec") == NULL)
		return lep_err_new(LEP_E_FAILED, "%s at %.12s: not a "
		    "deployment record", t->path, t->r->commit);
	return NULL;
}

/* Apply the target's record again, as a new revision "rollback". */
static const struct lep_err *
target_apply(struct lep_deployment **out, struct lep_ctx *ctx,
    struct lep_provider *p, struct lep_state *st, struct target *t,
    const struct lep_segment *seg)
{
	const struct lep_err	*err;
	const struct lep_json	*m = lep_json_get(t->rec, "model");
	const char		*hex = lep_json_get_str(t->rec, "spec_sha256");
	struct lep_apply	 a;
	struct lep_txn		 txn;

	memset(&txn, 0, sizeof(txn));
	memset(&a, 0, sizeof(a));
	a.sp = t->sp;
	a.pname = t->pname;
	a.model = lep_json_get_str(m, "name");
	a.version = lep_json_get_str(m, "version");
	a.model_dir = t->model_dir;
	a.hex = hex ? hex : "";
	/* What the revision ran (an image's ID), not what its spec names now. */
	a.pin = lep_json_get_str(t->rec, "pin");
	if (a.version != NULL)
		a.subject = xasprintf("rollback %s to revision %zu (%s) on %s",
		    t->name, t->r->number, a.version, t->pname);
	else
		a.subject = xasprintf("rollback %s to revision %zu on %s",
		    t->name, t->r->number, t->pname);
	a.command = "rollback";
	a.txn = &txn;
	/* The old record's very bytes: the same blob in git. */
	a.record = xstrndup(t->b.buf, t->b.len);
	a.seg = seg;
	err = lep_service_apply(out, ctx, p, st, &a);
	free((char *)a.subject);
	lep_txn_release(&txn);
	return err;
}

const struct lep_err *
lep_history_rollback(struct lep_deployment **out, size_t *to_out,
    struct lep_ctx *ctx, const char *name, const char *to, long long lock_ms)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;
	struct lep_state	*st = NULL;
	struct lep_segment	 seg;
	struct target		 t;
	int			 lockfd = -1;

	*out = NULL;
	*to_out = 0;
	memset(&seg, 0, sizeof(seg));
	memset(&t, 0, sizeof(t));
	t.name = name;
	t.path = lep_service_state_path(name);
	lep_buf_init(&t.b, 0);
	if ((err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL ||
	    (err = lep_state_open(&st, ctx->home, 1)) != NULL ||
	    (!ctx->dry_run &&
	    (err = lep_service_settle_named(ctx, st, name)) != NULL) ||
	    (err = lep_history_list(&t.h, &t.n, ctx, name, 0)) != NULL ||
	    (err = target_read(&t, st, to)) != NULL ||
	    (err = lep_service_record_spec(&t.sp, &t.model_dir, ctx, st,
	    t.rec, t.path)) != NULL ||
	    (err = lep_service_movable(ctx, name, t.pname)) != NULL ||
	    (err = lep_service_prepare(&p, &seg, ctx, t.sp, t.pname)) != NULL)
		goto done;
	if (ctx->dry_run)
		*out = lep_service_planned(name, t.pname);
	else
		err = target_apply(out, ctx, p, st, &t, &seg);
	if (err == NULL)
		*to_out = t.r->number;
done:
	free(seg.region);
	free(seg.instance);
	target_release(&t);
	lep_state_close(st);
	lep_unlock(lockfd);
	lep_provider_close(p);
	return err;
}
