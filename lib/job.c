/*
 * job.c: training jobs across providers. The record of a running job is
 * HOME/jobs/ID.json (which provider has it); a finished job is a commit in
 * the state repository (jobs/ID.json), with its output registered.
 */
#include "job.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "ctx.h"
#include "error.h"
#include "failover.h"
#include "fs.h"
#include "json.h"
#include "ledger.h"
#include "out.h"
#include "plan.h"
#include "provider.h"
#include "registry.h"
#include "spec.h"
#include "state.h"
#include "util.h"

static char *
index_path(const char *home, const char *id)
{
	return xasprintf("%s/jobs/%s.json", home, id);
}

const struct lep_err *
lep_job_provider(struct lep_provider **out, struct lep_ctx *ctx,
    const char *id)
{
	const struct lep_err	*err;
	struct lep_config	 cfg = { ctx->home, &ctx->out };
	struct lep_json		*j = NULL;
	struct lep_buf		 b;
	char			*p;
	const char		*pname;

	*out = NULL;
	p = index_path(ctx->home, id);
	err = lep_read_file(&b, p, LEP_FILE_MAX);
	if (err == NULL)
		err = lep_json_parse(&j, b.buf, b.len, p);
	else if (err->code == LEP_E_NOT_FOUND)
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no deployment "
		    "or job named '%s'", id), "'lepton status' and 'lepton "
		    "status --jobs' list them");
	lep_buf_release(&b);
	free(p);
	if (err == NULL) {
		pname = lep_json_get_str(j, "provider");
		err = lep_provider_open(out, pname ? pname :
		    lep_provider_default(), &cfg);
	}
	lep_json_free(j);
	return err;
}

int
lep_job_exists(struct lep_ctx *ctx, const char *id)
{
	struct stat	 st;
	char		*p = index_path(ctx->home, id);
	int		 rc = stat(p, &st) == 0;

	free(p);
	return rc;
}

/* The input model a fine-tuning job names (version or alias), or none. */
static const struct lep_err *
input_model(char **version, char **model_dir, struct lep_ctx *ctx,
    const struct lep_spec *sp)
{
	const struct lep_err	*err = NULL;
	struct lep_state	*st = NULL;

	*version = *model_dir = NULL;
	if (!sp->has_model || (!sp->model.version && !sp->model.alias))
		return NULL;
	if ((err = lep_state_open(&st, ctx->home, 0)) == NULL &&
	    (err = lep_registry_resolve(version, st, sp->model.name,
	    sp->model.version ? sp->model.version : sp->model.alias)) == NULL)
		err = lep_registry_materialize(model_dir, st, ctx->home,
		    sp->model.name, *version);
	lep_state_close(st);
	return err;
}

/* A new job's id: NAME-YYYYmmdd-HHMMSS-XXXX. Caller frees. */
static const struct lep_err *
new_id(char **out, const struct lep_spec *sp)
{
	const struct lep_err	*err;
	struct tm		 tm;
	time_t			 now = time(NULL);
	char			 rnd[9], stamp[32];

	*out = NULL;
	if ((err = lep_random_hex(rnd, 2)) != NULL)
		return err;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	*out = xasprintf("%s-%s-%s", sp->name, stamp, rnd);
	return NULL;
}

/*
 * HOME/jobs/ID.json: which provider runs the job, on what offer, and the
 * offers tried before it when it moved (lep_record_job copies those into
 * the job's record).
 */
static const struct lep_err *
write_index(const char *home, const char *id, const struct lep_spec *sp,
    const char *pname, const struct lep_submit_req *req,
    const struct lep_failover *fo)
{
	const struct lep_err	*err;
	struct lep_json		*j;
	char			*path;

	path = xasprintf("%s/jobs", home);
	err = lep_mkdirs(path, 0700);
	free(path);
	if (err != NULL)
		return err;
	j = lep_json_obj();
	lep_json_set_str(j, "id", id);
	lep_json_set_str(j, "name", sp->name);
	lep_json_set_str(j, "provider", pname);
	if (req->region != NULL)
		lep_json_set_str(j, "region", req->region);
	if (req->instance != NULL)
		lep_json_set_str(j, "instance", req->instance);
	if (lep_failover_moved(fo))
		lep_json_set(j, "attempts", lep_failover_json(fo, "submitted"));
	lep_json_set_int(j, "created", (long long)time(NULL));
	path = index_path(home, id);
	err = lep_write_json(path, j, 0600);
	free(path);
	lep_json_free(j);
	return err;
}

/*
 * Index and submit on one offer of p (site, or the provider's own place
 * when it takes none), and open the job's ledger segment (its runner
 * ends it). A refusal leaves no index: nothing runs.
 */
static const struct lep_err *
submit(struct lep_job **out, struct lep_ctx *ctx, struct lep_provider *p,
    const struct lep_spec *sp, char *id, const char *model_dir,
    const struct lep_site *site, int machines, struct lep_failover *fo)
{
	const struct lep_err	*err;
	struct lep_submit_req	 req;
	struct lep_segment	 seg;
	const char		*pname = lep_provider_name(p);
	char			*path;

	memset(&req, 0, sizeof(req));
	req.spec = sp;
	req.id = id;
	req.model_dir = model_dir;
	req.secret_names = (const char *const *)sp->secrets;
	req.nsecrets = sp->nsecrets;
	if (lep_provider_takes_offer(p)) {
		req.region = site->region;
		req.instance = site->instance;
	}
	lep_failover_begin(fo, pname, req.region, req.instance);
	if ((err = write_index(ctx->home, id, sp, pname, &req, fo)) != NULL)
		return err;
	if ((err = lep_provider_submit(out, p, &req)) != NULL) {
		/* Nothing runs: no index that names a job. */
		path = index_path(ctx->home, id);
		(void)unlink(path);
		free(path);
		(void)lep_failover_end(fo, err);
		return err;
	}
	lep_plan_segment(&seg, sp, pname, site, machines);
	seg.what = id;
	seg.revision = 0;
	err = lep_ledger_record(ctx->home, id, &seg, lep_epoch_ms());
	free(seg.region);
	free(seg.instance);
	return err;
}

/*
 * Open provider pname, check sp fits it, and plan its offers. Errors:
 * the provider's, INFEASIBLE, OVER_BUDGET, UNSUPPORTED.
 */
static const struct lep_err *
prepare(struct lep_provider **out, struct lep_site **sites, size_t *nsites,
    int *machines, struct lep_ctx *ctx, const struct lep_spec *sp,
    const char *pname)
{
	const struct lep_err	*err;
	struct lep_config	 cfg = { ctx->home, &ctx->out };

	if ((err = lep_provider_open(out, pname, &cfg)) != NULL)
		return err;
	if ((err = lep_provider_check(*out, sp)) == NULL)
		err = lep_failover_sites(sites, nsites, machines, ctx->home,
		    sp, *out, pname);
	return err;
}

const struct lep_err *
lep_job_train(struct lep_job **out, struct lep_ctx *ctx,
    const struct lep_spec *sp, long long lock_ms)
{
	const struct lep_err	*err = NULL;
	struct lep_provider	*p = NULL;
	struct lep_failover	 fo;
	struct lep_err		 refused;	/* the last, kept whole */
	struct lep_site		*sites = NULL;
	const char		**names = NULL;
	char			*id = NULL, *version = NULL, *model_dir = NULL;
	size_t			 nnames, nsites = 0, i, k;
	int			 lockfd = -1, machines = 0;

	*out = NULL;
	if (sp->kind != LEP_SPEC_JOB)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "%s: kind "
		    "'service' is deployed, not trained", sp->file), "'lepton "
		    "deploy %s'", sp->file);
	memset(&refused, 0, sizeof(refused));
	lep_failover_init(&fo, &ctx->out);
	nnames = lep_failover_providers(&names, sp);
	for (i = 0; i < nnames; i++) {
		lep_sites_free(sites, nsites);
		sites = NULL;
		nsites = 0;
		lep_provider_close(p);
		p = NULL;
		if ((err = prepare(&p, &sites, &nsites, &machines, ctx, sp,
		    names[i])) != NULL) {
			/* The first is the plan; the others, fallbacks. */
			if (i == 0 || err->code == LEP_E_INTERRUPTED)
				goto done;
			lep_failover_skip(&fo, names[i], err);
			err = NULL;
			continue;
		}
		if (i == 0 && (err = input_model(&version, &model_dir, ctx,
		    sp)) != NULL)
			goto done;
		if (ctx->dry_run) {
			*out = xcalloc(1, sizeof(**out));
			(*out)->name = xstrdup(sp->name);
			(*out)->provider = xstrdup(names[i]);
			(*out)->state = xstrdup("planned");
			goto done;
		}
		if (id == NULL && ((err = new_id(&id, sp)) != NULL ||
		    (err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL))
			goto done;
		/* Each region in turn, while each says it has no room. */
		for (k = 0; k < (lep_provider_takes_offer(p) ? nsites : 1);
		    k++) {
			err = submit(out, ctx, p, sp, id, model_dir, &sites[k],
			    machines, &fo);
			if (err == NULL || err->code != LEP_E_CAPACITY)
				goto done;
			refused = *err;
		}
	}
	/* Only the first provider's failures end it early: all refused. */
	err = lep_failover_error(&fo, sp, &refused);
done:
	lep_unlock(lockfd);
	lep_sites_free(sites, nsites);
	lep_provider_close(p);
	lep_failover_release(&fo);
	free(names);
	free(version);
	free(model_dir);
	free(id);
	return err;
}

const struct lep_err *
lep_job_get(struct lep_job **out, struct lep_ctx *ctx, const char *id)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;

	*out = NULL;
	if ((err = lep_job_provider(&p, ctx, id)) == NULL)
		err = lep_provider_job_status(out, p, id);
	lep_provider_close(p);
	return err;
}

const struct lep_err *
lep_job_cancel(struct lep_job **out, struct lep_ctx *ctx, const char *id,
    int grace_s)
{
	const struct lep_err	*err;
	struct lep_provider	*p = NULL;

	*out = NULL;
	if ((err = lep_job_provider(&p, ctx, id)) == NULL)
		err = lep_provider_cancel(out, p, id, grace_s);
	lep_provider_close(p);
	return err;
}

static int
cmp_job(const void *a, const void *b)
{
	const struct lep_job *const *x = a, *const *y = b;

	if ((*x)->started != (*y)->started)
		return (*x)->started > (*y)->started ? -1 : 1;
	return strcmp((*x)->id, (*y)->id);
}

const struct lep_err *
lep_job_list(struct lep_job ***out, size_t *n_out, struct lep_ctx *ctx)
{
	const struct lep_err	*err = NULL;
	struct lep_job		**v = NULL, *j;
	struct dirent		*de;
	size_t			 n = 0;
	char			*dir, *id;
	DIR			*dp;

	*out = NULL;
	*n_out = 0;
	dir = xasprintf("%s/jobs", ctx->home);
	dp = opendir(dir);
	free(dir);
	if (dp == NULL)
		return errno == ENOENT ? NULL : lep_err_errno(LEP_E_FAILED,
		    "cannot list jobs");
	while ((de = readdir(dp)) != NULL) {
		if (!lep_ends_with(de->d_name, ".json") || de->d_name[0] == '.')
			continue;
		id = xstrndup(de->d_name, strlen(de->d_name) - 5);
		err = lep_job_get(&j, ctx, id);
		if (lep_err_unreachable(err)) {
			/* One provider down hides none of the other jobs. */
			lep_out_warn(&ctx->out, "job %s: %s", id, err->msg);
			j = xcalloc(1, sizeof(*j));
			j->id = xstrdup(id);
			j->name = xstrdup("");
			j->provider = xstrdup(err->provider ? err->provider :
			    "");
			j->state = xstrdup("unknown");
			j->message = xstrdup(err->msg);
			j->exit_code = -1;
			err = NULL;
		}
		free(id);
		if (err != NULL)
			break;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = j;
	}
	closedir(dp);
	if (err != NULL) {
		while (n > 0)
			lep_job_free(v[--n]);
		free(v);
		return err;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_job);
	*out = v;
	*n_out = n;
	return NULL;
}

static volatile sig_atomic_t	 interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Copy what the job's log gained since *off to stderr. */
static void
pass_log(const char *path, off_t *off, int quiet)
{
	char	 buf[65536];
	ssize_t	 n;
	FILE	*fp;

	if (quiet || path == NULL || (fp = fopen(path, "r")) == NULL)
		return;
	if (fseeko(fp, *off, SEEK_SET) == 0)
		while ((n = (ssize_t)fread(buf, 1, sizeof(buf), fp)) > 0) {
			(void)!write(STDERR_FILENO, buf, (size_t)n);
			*off += n;
		}
	fclose(fp);
}

const struct lep_err *
lep_job_follow(struct lep_job **out, struct lep_ctx *ctx,
    const struct lep_job *j, int quiet)
{
	const struct lep_err	*err = NULL;
	struct lep_provider_info pi;
	struct sigaction	 sa, old;
	struct timespec		 ts = { 0, 100 * 1000 * 1000 };
	off_t			 off = 0;

	*out = NULL;
	/* Ask as often as the provider says it can take. */
	if (lep_provider_info(&pi, j->provider) == 0 && pi.poll_ms > 0) {
		ts.tv_sec = pi.poll_ms / 1000;
		ts.tv_nsec = (long)(pi.poll_ms % 1000) * 1000 * 1000;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old);
	while (!interrupted) {
		pass_log(j->log_path, &off, quiet);
		lep_job_free(*out);
		*out = NULL;
		if ((err = lep_job_get(out, ctx, j->id)) != NULL ||
		    strcmp((*out)->state, "running") != 0)
			break;
		nanosleep(&ts, NULL);
	}
	sigaction(SIGINT, &old, NULL);
	if (err == NULL && interrupted)
		err = lep_err_hint(lep_err_new(LEP_E_INTERRUPTED, "stopped "
		    "following job %s; it goes on", j->id), "'lepton logs -f "
		    "%s' follows it, 'lepton stop %s' ends it", j->id, j->id);
	else if (err == NULL)
		pass_log(j->log_path, &off, quiet);
	else if (lep_err_unreachable(err)) {
		/* Following failed, not the job: say so. */
		const struct lep_err	*e = lep_err_new(err->code, "%s",
					    err->msg);

		if (err->provider != NULL)
			e = lep_err_provider(e, err->provider);
		err = lep_err_hint(e, "job %s goes on; lepton only stopped "
		    "following it: 'lepton status %s' asks again, 'lepton "
		    "stop %s' ends it", j->id, j->id, j->id);
	}
	if (err != NULL) {
		lep_job_free(*out);
		*out = NULL;
	}
	return err;
}
