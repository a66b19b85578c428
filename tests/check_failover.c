/*
 * check_failover.c: deploy and train across offers. Fake providers (a
 * table of our own, lep_provider_table_use) refuse chosen regions for
 * capacity; the tests check the order of attempts, what stderr says, the
 * history and job records, the ledger, a pinned region, the exit code
 * when every offer refuses, and that any other failure stays put.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/catalog.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/history.h"
#include "../lib/job.h"
#include "../lib/json.h"
#include "../lib/ledger.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/service.h"
#include "../lib/spec.h"
#include "../lib/types.h"
#include "../lib/util.h"
#include "../providers/provider.h"

/* What the fakes did and are to do; reset by each test (fx_open). */
static char	 tried[1024];		/* "fakea r1 small;" per attempt */
static char	 refusing[256];		/* "fakea/r1 fakec/- " */
static int	 hard_fail;		/* any other failure, at once */
static char	 running[64];		/* "PROVIDER NAME" deployed */
static char	 running_region[16];

static int
refuses(const char *pname, const char *region)
{
	char	 key[64];

	snprintf(key, sizeof(key), "%s/%s ", pname, region ? region : "-");
	return strstr(refusing, key) != NULL;
}

static const struct lep_err *
fake_try(const char *pname, const char *region, const char *instance)
{
	size_t	 len = strlen(tried);

	snprintf(tried + len, sizeof(tried) - len, "%s %s %s;", pname,
	    region ? region : "-", instance ? instance : "-");
	if (refuses(pname, region))
		return lep_err_capacity(strcmp(pname, "fakec") == 0 ?
		    NULL : "ResourceLimitExceeded", "no room for it in %s",
		    region ? region : pname);
	if (hard_fail)
		return lep_err_new(LEP_E_PROVIDER, "the engine broke");
	return NULL;
}

static const struct lep_err *
fake_deploy(struct lep_deployment **out, void *state,
    const struct lep_deploy_req *req)
{
	const struct lep_err	*err;
	struct lep_deployment	*d;
	const char		*pname = state;

	if ((err = fake_try(pname, req->region, req->instance)) != NULL)
		return err;
	d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(req->spec->name);
	d->provider = xstrdup(pname);
	d->state = xstrdup("running");
	d->endpoint = xstrdup("http://127.0.0.1:9");
	d->revision = req->revision;
	d->ready = d->desired = 1;
	snprintf(running, sizeof(running), "%s %s", pname, req->spec->name);
	snprintf(running_region, sizeof(running_region), "%s",
	    req->region ? req->region : "-");
	*out = d;
	return NULL;
}

static const struct lep_err *
fake_status(struct lep_deployment **out, void *state, const char *name)
{
	struct lep_deployment	*d;
	char			 want[64];

	snprintf(want, sizeof(want), "%s %s", (const char *)state, name);
	if (strcmp(running, want) != 0)
		return lep_err_new(LEP_E_NOT_FOUND, "no '%s'", name);
	d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(name);
	d->provider = xstrdup(state);
	d->state = xstrdup("running");
	d->endpoint = xstrdup("http://127.0.0.1:9");
	d->ready = d->desired = 1;
	*out = d;
	return NULL;
}

static const struct lep_err *
fake_submit(struct lep_job **out, void *state,
    const struct lep_submit_req *req)
{
	const struct lep_err	*err;
	struct lep_job		*j;

	if ((err = fake_try(state, req->region, req->instance)) != NULL)
		return err;
	j = xcalloc(1, sizeof(*j));
	j->id = xstrdup(req->id);
	j->name = xstrdup(req->spec->name);
	j->provider = xstrdup(state);
	j->state = xstrdup("running");
	j->exit_code = -1;
	*out = j;
	return NULL;
}

/* Three regions, two sizes each; r1 the cheapest. */
static const struct lep_err *
fake_offers(struct lep_catalog **out, void *state)
{
	struct lep_catalog	*c = lep_catalog_new(state);
	struct lep_offer	 o;
	char			 region[16];
	int			 i;

	memset(&o, 0, sizeof(o));
	o.acc_name = "";
	o.zone = "";
	o.spot = -1;
	for (i = 1; i <= 3; i++) {
		snprintf(region, sizeof(region), "r%d", i);
		o.region = strcmp(state, "fakec") == 0 ? "fakec" : region;
		o.instance = "small";
		o.vcpus = 2;
		o.mem = 4;
		o.price = 100000 * i;
		lep_catalog_add(c, &o);
		o.instance = "big";
		o.vcpus = 8;
		o.mem = 32;
		o.price = 400000 * i;
		lep_catalog_add(c, &o);
	}
	*out = c;
	return NULL;
}

#define FAKE_OPEN(n)							\
static const struct lep_err *						\
n##_open(void **state, const struct lep_config *cfg)			\
{									\
	(void)cfg;							\
	*state = (void *)#n;						\
	return NULL;							\
}
FAKE_OPEN(fakea)
FAKE_OPEN(fakeb)
FAKE_OPEN(fakec)

#define FAKE_OPS(n, offer)						\
static const struct lep_provider_ops n##_ops = {			\
	.name = #n,							\
	.abi = LEP_PROVIDER_ABI,					\
	.caps = LEP_CAP_SERVICE | LEP_CAP_JOB | LEP_CAP_REGIONS | (offer),\
	.poll_ms = 10,							\
	.open = n##_open,						\
	.deploy = fake_deploy,						\
	.status = fake_status,						\
	.submit = fake_submit,						\
	.offers = fake_offers,						\
}
FAKE_OPS(fakea, LEP_CAP_OFFER);
FAKE_OPS(fakeb, LEP_CAP_OFFER);
/* One without regions: a cluster, this machine. */
FAKE_OPS(fakec, 0);

static const struct lep_provider_entry fakes[] = {
	{ "fakea", &fakea_ops, NULL, 0 },
	{ "fakeb", &fakeb_ops, NULL, 0 },
	{ "fakec", &fakec_ops, NULL, 0 },
};
static const char *const fake_names[] = { "fakea", "fakeb", "fakec" };

/* A fresh home, the fakes in place, and stderr into a file. */
struct fx {
	struct lep_ctx	 ctx;
	char		*dir;
	char		*errpath;
	int		 saved;
};

static void
fx_open(struct fx *f, const char *cmd)
{
	static int	 seq;
	int		 fd;

	memset(f, 0, sizeof(*f));
	tried[0] = refusing[0] = running[0] = '\0';
	hard_fail = 0;
	lep_provider_table_use(fakes, LEP_ARRAY_SIZE(fakes));
	lep_spec_set_providers(fake_names, LEP_ARRAY_SIZE(fake_names));
	f->dir = xasprintf("%s/fo%ld-%d", test_sandbox(), (long)getpid(),
	    ++seq);
	ck_assert_ptr_null(lep_mkdirs(f->dir, 0700));
	f->ctx.home = xasprintf("%s/home", f->dir);
	ck_assert_ptr_null(lep_mkdirs(f->ctx.home, 0700));
	lep_out_init(&f->ctx.out, cmd);
	f->errpath = xasprintf("%s/stderr", f->dir);
	f->saved = dup(STDERR_FILENO);
	fd = open(f->errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* What went to stderr so far; caller frees. */
static char *
fx_stderr(struct fx *f)
{
	char	*s = test_slurp(f->errpath, NULL);

	return s != NULL ? s : xstrdup("");
}

static void
fx_close(struct fx *f)
{
	static const char	*real[64];
	struct lep_provider_info pi;
	size_t			 n;

	dup2(f->saved, STDERR_FILENO);
	close(f->saved);
	/* lepton's own providers again, for the suites after this one. */
	lep_provider_table_use(NULL, 0);
	for (n = 0; n < LEP_ARRAY_SIZE(real) && lep_provider_nth(&pi, n) == 0;
	    n++)
		real[n] = pi.name;
	lep_spec_set_providers(real, n);
	lep_out_release(&f->ctx.out);
	free(f->ctx.home);
	free(f->errpath);
	free(f->dir);
}

static struct lep_spec *
fx_spec(struct fx *f, const char *yaml)
{
	struct lep_spec	*sp = NULL;
	char		*path = xasprintf("%s/spec.yaml", f->dir);

	test_write(path, yaml, 0644);
	ck_assert_ptr_null(lep_spec_load(&sp, path));
	free(path);
	return sp;
}

static const char svc_yaml[] =
    "kind: service\n"
    "name: web\n"
    "run: \"true\"\n"
    "placement: {providers: [%s]%s}\n";

static struct lep_spec *
fx_service(struct fx *f, const char *providers, const char *more)
{
	struct lep_spec	*sp;
	char		*yaml = xasprintf(svc_yaml, providers, more);

	sp = fx_spec(f, yaml);
	free(yaml);
	return sp;
}

static const struct lep_err *
fx_deploy(struct fx *f, const struct lep_spec *sp, struct lep_deployment **d)
{
	*d = NULL;
	return lep_service_deploy(d, &f->ctx, sp, 5000);
}

static int
fx_has_record(struct fx *f, const char *name)
{
	struct stat	 sb;
	char		*p = xasprintf("%s/deployments/%s.json", f->ctx.home,
			    name);
	int		 rc = stat(p, &sb) == 0;

	free(p);
	return rc;
}

START_TEST(test_failover_moves_region_then_provider)
{
	const struct lep_err	*err;
	struct lep_deployment	*d;
	struct lep_revision	*h = NULL;
	struct lep_segment	*seg = NULL;
	struct lep_spec		*sp;
	struct fx		 f;
	size_t			 n = 0, nseg = 0;
	char			*e;

	fx_open(&f, "deploy");
	snprintf(refusing, sizeof(refusing), "fakea/r1 fakea/r2 fakea/r3 "
	    "fakeb/r1 ");
	sp = fx_service(&f, "fakea, fakeb", "");
	err = fx_deploy(&f, sp, &d);
	ck_assert_msg(err == NULL, "deploy: %s", err ? err->msg : "");
	ck_assert_str_eq(tried, "fakea r1 small;fakea r2 small;"
	    "fakea r3 small;fakeb r1 small;fakeb r2 small;");
	ck_assert_str_eq(d->provider, "fakeb");
	/* Each move said once, as it happens. */
	e = fx_stderr(&f);
	ck_assert_msg(strstr(e, "fakea r1 small: no capacity "
	    "(ResourceLimitExceeded): trying fakea r2 small\n") != NULL, "%s",
	    e);
	ck_assert_msg(strstr(e, "fakea r3 small: no capacity "
	    "(ResourceLimitExceeded): trying fakeb r1 small\n") != NULL, "%s",
	    e);
	ck_assert_msg(strstr(e, "fakeb r1 small: no capacity "
	    "(ResourceLimitExceeded): trying fakeb r2 small\n") != NULL, "%s",
	    e);
	free(e);
	/* History: the revision, where it runs, and every attempt. */
	ck_assert_ptr_null(lep_history_list(&h, &n, &f.ctx, "web", 0));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(h[0].outcome, "ready");
	ck_assert_str_eq(h[0].provider, "fakeb");
	ck_assert_str_eq(h[0].region, "r2");
	ck_assert_str_eq(h[0].instance, "small");
	ck_assert_uint_eq(h[0].nattempts, 5);
	ck_assert_str_eq(h[0].attempts[0], "fakea r1 small: no capacity "
	    "(ResourceLimitExceeded)");
	ck_assert_str_eq(h[0].attempts[4], "fakeb r2 small: ready");
	lep_history_free(h, n);
	/* The ledger prices the offer it runs on. */
	ck_assert_ptr_null(lep_ledger_read(&seg, &nseg, f.ctx.home));
	ck_assert_uint_eq(nseg, 1);
	ck_assert_str_eq(seg[0].provider, "fakeb");
	ck_assert_str_eq(seg[0].region, "r2");
	ck_assert_str_eq(seg[0].instance, "small");
	ck_assert_int_eq(seg[0].price, 200000);
	lep_segments_free(seg, nseg);
	lep_deployment_free(d);
	lep_spec_free(sp);
	fx_close(&f);
}
END_TEST

START_TEST(test_failover_regions_in_placement_order)
{
	const struct lep_err	*err;
	struct lep_deployment	*d;
	struct lep_spec		*sp;
	struct fx		 f;

	fx_open(&f, "deploy");
	snprintf(refusing, sizeof(refusing), "fakea/r3 ");
	sp = fx_service(&f, "fakea", ", regions: [r3, r1]");
	err = fx_deploy(&f, sp, &d);
	ck_assert_msg(err == NULL, "deploy: %s", err ? err->msg : "");
	/* Never r2: only the regions the spec allows, in its order. */
	ck_assert_str_eq(tried, "fakea r3 small;fakea r1 small;");
	ck_assert_str_eq(running_region, "r1");
	lep_deployment_free(d);
	lep_spec_free(sp);
	fx_close(&f);
}
END_TEST

START_TEST(test_failover_pinned_region_is_not_left)
{
	const struct lep_err	*err;
	struct lep_deployment	*d;
	struct lep_revision	*h = NULL;
	struct lep_spec		*sp;
	struct fx		 f;
	size_t			 n = 0;

	fx_open(&f, "deploy");
	sp = fx_service(&f, "fakea, fakeb", ", regions: [r2]");
	/* fakeb has r2 too: pinned means that region, on any provider. */
	snprintf(refusing, sizeof(refusing), "fakea/r2 fakeb/r2 ");
	err = fx_deploy(&f, sp, &d);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_CAPACITY);
	ck_assert_int_eq(lep_err_exit(err), 16);
	ck_assert_str_eq(tried, "fakea r2 small;fakeb r2 small;");
	ck_assert_msg(strstr(err->hint, "pins it to 'r2'") != NULL, "%s",
	    err->hint);
	ck_assert_str_eq(err->reason, "ResourceLimitExceeded");
	ck_assert_ptr_null(d);
	/* Nothing claims to run; history says what was tried. */
	ck_assert(!fx_has_record(&f, "web"));
	ck_assert_ptr_null(lep_history_list(&h, &n, &f.ctx, "web", 0));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(h[0].outcome, "no-capacity");
	ck_assert_uint_eq(h[0].nattempts, 2);
	ck_assert_str_eq(h[0].attempts[1], "fakeb r2 small: no capacity "
	    "(ResourceLimitExceeded)");
	lep_history_free(h, n);
	lep_spec_free(sp);
	fx_close(&f);
}
END_TEST

START_TEST(test_failover_all_refused_is_capacity)
{
	const struct lep_err	*err;
	struct lep_deployment	*d;
	struct lep_spec		*sp;
	struct fx		 f;

	fx_open(&f, "deploy");
	snprintf(refusing, sizeof(refusing), "fakea/r1 fakea/r2 fakea/r3 "
	    "fakeb/r1 fakeb/r2 fakeb/r3 ");
	sp = fx_service(&f, "fakea, fakeb", "");
	err = fx_deploy(&f, sp, &d);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_CAPACITY);
	ck_assert_str_eq(lep_err_info(err->code)->name, "capacity");
	ck_assert_msg(strstr(err->msg, "no offer had capacity for 'web' "
	    "(6 tried): fakea r1 small: no capacity (ResourceLimitExceeded); "
	    "fakea r2 small") != NULL, "%s", err->msg);
	ck_assert(!fx_has_record(&f, "web"));
	/* A later deploy with room takes the next number, and runs. */
	refusing[0] = '\0';
	tried[0] = '\0';
	err = fx_deploy(&f, sp, &d);
	ck_assert_msg(err == NULL, "deploy: %s", err ? err->msg : "");
	ck_assert_str_eq(tried, "fakea r1 small;");
	ck_assert_int_eq(d->revision, 2);
	lep_deployment_free(d);
	lep_spec_free(sp);
	fx_close(&f);
}
END_TEST

START_TEST(test_failover_other_failures_stay_put)
{
	const struct lep_err	*err;
	struct lep_deployment	*d;
	struct lep_spec		*sp;
	struct fx		 f;
	char			*e;

	fx_open(&f, "deploy");
	hard_fail = 1;
	sp = fx_service(&f, "fakea, fakeb", "");
	err = fx_deploy(&f, sp, &d);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_PROVIDER);
	ck_assert_str_eq(tried, "fakea r1 small;");
	e = fx_stderr(&f);
	ck_assert_msg(strstr(e, "trying") == NULL, "%s", e);
	free(e);
	lep_spec_free(sp);
	fx_close(&f);
}
END_TEST

START_TEST(test_failover_regionless_provider_has_one_attempt)
{
	const struct lep_err	*err;
	struct lep_deployment	*d;
	struct lep_spec		*sp;
	struct fx		 f;
	char			*e;

	fx_open(&f, "deploy");
	snprintf(refusing, sizeof(refusing), "fakec/- ");
	sp = fx_service(&f, "fakec, fakea", "");
	err = fx_deploy(&f, sp, &d);
	ck_assert_msg(err == NULL, "deploy: %s", err ? err->msg : "");
	/* No region or instance for it; one attempt; then the next. */
	ck_assert_str_eq(tried, "fakec - -;fakea r1 small;");
	e = fx_stderr(&f);
	ck_assert_msg(strstr(e, "fakec: no capacity: no room for it in "
	    "fakec: trying fakea r1 small\n") != NULL, "%s", e);
	free(e);
	lep_deployment_free(d);
	lep_spec_free(sp);
	fx_close(&f);
}
END_TEST

START_TEST(test_failover_update_stays_where_it_runs)
{
	const struct lep_err	*err;
	struct lep_deployment	*d;
	struct lep_spec		*sp, *sp2;
	struct fx		 f;

	fx_open(&f, "deploy");
	snprintf(refusing, sizeof(refusing), "fakea/r1 ");
	sp = fx_service(&f, "fakea, fakeb", "");
	err = fx_deploy(&f, sp, &d);
	ck_assert_msg(err == NULL, "deploy: %s", err ? err->msg : "");
	lep_deployment_free(d);
	/* The same spec again: unchanged, where it runs. */
	tried[0] = '\0';
	err = fx_deploy(&f, sp, &d);
	ck_assert_msg(err == NULL, "redeploy: %s", err ? err->msg : "");
	ck_assert(d->unchanged);
	ck_assert_str_eq(tried, "");
	lep_deployment_free(d);
	/* An update refused there is refused: no second copy elsewhere. */
	snprintf(refusing, sizeof(refusing), "fakea/r1 fakea/r2 ");
	sp2 = fx_service(&f, "fakea, fakeb", ", max_hourly: 5");
	err = fx_deploy(&f, sp2, &d);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_CAPACITY);
	ck_assert_str_eq(tried, "fakea r2 small;");
	/* The record still names what runs. */
	ck_assert(fx_has_record(&f, "web"));
	ck_assert_ptr_null(lep_service_get(&d, &f.ctx, "web"));
	ck_assert_str_eq(d->state, "running");
	ck_assert_int_eq(d->revision, 1);
	lep_deployment_free(d);
	/* A later failure rolls back past the revision that went nowhere. */
	refusing[0] = '\0';
	hard_fail = 1;
	err = fx_deploy(&f, sp2, &d);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_PROVIDER);
	ck_assert_msg(strstr(err->msg, "rolled back to revision 1") != NULL,
	    "%s", err->msg);
	lep_spec_free(sp2);
	lep_spec_free(sp);
	fx_close(&f);
}
END_TEST

START_TEST(test_failover_rollback_stays_in_region)
{
	const struct lep_err	*err;
	struct lep_deployment	*d;
	struct lep_spec		*sp, *sp2;
	struct fx		 f;
	size_t			 to = 0;

	fx_open(&f, "rollback");
	snprintf(refusing, sizeof(refusing), "fakea/r1 ");
	sp = fx_service(&f, "fakea", "");
	err = fx_deploy(&f, sp, &d);
	ck_assert_msg(err == NULL, "deploy: %s", err ? err->msg : "");
	lep_deployment_free(d);
	/* Room in r1 again: the update and the rollback stay in r2. */
	refusing[0] = '\0';
	tried[0] = '\0';
	sp2 = fx_service(&f, "fakea", ", max_hourly: 5");
	err = fx_deploy(&f, sp2, &d);
	ck_assert_msg(err == NULL, "update: %s", err ? err->msg : "");
	lep_deployment_free(d);
	err = lep_history_rollback(&d, &to, &f.ctx, "web", NULL, 5000);
	ck_assert_msg(err == NULL, "rollback: %s", err ? err->msg : "");
	ck_assert_uint_eq(to, 1);
	ck_assert_str_eq(tried, "fakea r2 small;fakea r2 small;");
	lep_deployment_free(d);
	lep_spec_free(sp2);
	lep_spec_free(sp);
	fx_close(&f);
}
END_TEST

START_TEST(test_failover_train_moves_and_records)
{
	const struct lep_err	*err;
	struct lep_job		*j = NULL;
	struct lep_json		*idx = NULL;
	struct lep_spec		*sp;
	struct fx		 f;
	char			*path, *text, *dir, *list[4];

	fx_open(&f, "train");
	snprintf(refusing, sizeof(refusing), "fakea/r1 ");
	sp = fx_spec(&f, "kind: job\nname: fit\nrun: \"true\"\n"
	    "placement: {providers: [fakea, fakeb]}\n");
	err = lep_job_train(&j, &f.ctx, sp, 5000);
	ck_assert_msg(err == NULL, "train: %s", err ? err->msg : "");
	ck_assert_str_eq(tried, "fakea r1 small;fakea r2 small;");
	/* The job's index names its offer and what was tried. */
	path = xasprintf("%s/jobs/%s.json", f.ctx.home, j->id);
	text = test_slurp(path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(lep_json_parse(&idx, text, strlen(text), path));
	ck_assert_str_eq(lep_json_get_str(idx, "region"), "r2");
	ck_assert_str_eq(lep_json_get_str(idx, "instance"), "small");
	ck_assert_uint_eq(lep_json_len(lep_json_get(idx, "attempts")), 2);
	ck_assert_str_eq(lep_json_get_str(lep_json_at(lep_json_get(idx,
	    "attempts"), 0), "outcome"), "no capacity "
	    "(ResourceLimitExceeded)");
	lep_json_free(idx);
	free(text);
	free(path);
	lep_job_free(j);
	j = NULL;
	/* Every offer refused: CAPACITY, and no index of a job. */
	snprintf(refusing, sizeof(refusing), "fakea/r1 fakea/r2 fakea/r3 "
	    "fakeb/r1 fakeb/r2 fakeb/r3 ");
	tried[0] = '\0';
	err = lep_job_train(&j, &f.ctx, sp, 5000);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_CAPACITY);
	ck_assert_int_eq(lep_err_exit(err), 16);
	ck_assert_ptr_null(j);
	dir = xasprintf("%s/jobs", f.ctx.home);
	ck_assert_uint_eq(test_list(list, 4, dir, ".json"), 1);
	free(dir);
	lep_spec_free(sp);
	fx_close(&f);
}
END_TEST

Suite *
suite_failover(void)
{
	Suite	*s = suite_create("failover");
	TCase	*tc = tcase_create("failover");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_failover_moves_region_then_provider);
	tcase_add_test(tc, test_failover_regions_in_placement_order);
	tcase_add_test(tc, test_failover_pinned_region_is_not_left);
	tcase_add_test(tc, test_failover_all_refused_is_capacity);
	tcase_add_test(tc, test_failover_other_failures_stay_put);
	tcase_add_test(tc, test_failover_regionless_provider_has_one_attempt);
	tcase_add_test(tc, test_failover_update_stays_where_it_runs);
	tcase_add_test(tc, test_failover_rollback_stays_in_region);
	tcase_add_test(tc, test_failover_train_moves_and_records);
	suite_add_tcase(s, tc);
	return s;
}
