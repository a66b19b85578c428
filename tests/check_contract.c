/*
 * check_contract.c: the provider contract. Every provider is driven
 * through the same hooks (lib/provider.h) on the same tiny specs: probe,
 * check, deploy, status, logs, stop; submit, job status, cancel; unknown
 * names; and refusing, with exit 9, whatever its capability bits say it
 * cannot do. A new provider joins by adding its row to `rows`.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/spec.h"
#include "../lib/util.h"
#include "../providers/provider.h"

static const struct contract_row {
	const char	*provider;
	/*
	 * The row runs when this variable is set (the engine the suite
	 * started says where it is), or always when NULL.
	 * LEP_CONTRACT_PROVIDERS="a b" picks rows by name instead.
	 */
	const char	*needs_env;
	int		 deadline_s;	/* for anything to start or end */
	/*
	 * The variable naming the image every spec gets ("image: REF"),
	 * for a provider that runs containers; or NULL.
	 */
	const char	*image_env;
	int		 host_pids;	/* a job's $$ is a pid on this host */
	/*
	 * Or the row runs only the API cases (tcase "contract-api": probe,
	 * unknown names, refusals) when this variable is set: an emulator
	 * that answers the API but runs no workload.
	 */
	const char	*api_env;
} rows[] = {
	{ "local", NULL, 60, NULL, 1, NULL },
	{ "containers", "LEP_PY_IMAGE", 120, "LEP_PY_IMAGE", 0, NULL },
	{ "slurm", "SLURMRESTD_URL", 120, NULL, 1, NULL },
	/*
	 * SageMaker: only against a real account (LEP_AWS_CONTRACT set, an
	 * image that serves /invocations in LEP_AWS_IMAGE). moto cannot
	 * play this contract: its training jobs complete at once with no
	 * exit code, and it writes no logs. tests/e2e/aws.sh drives the
	 * same hooks against moto instead, and runs the API cases here
	 * against moto with LEP_AWS_MOTO set.
	 */
	{ "aws", "LEP_AWS_CONTRACT", 1800, "LEP_AWS_IMAGE", 0, "LEP_AWS_MOTO" },
	/*
	 * Vertex AI: the workload cases only against a real account
	 * (LEP_GCP_CONTRACT set, an image in LEP_GCP_IMAGE): the loopback
	 * server (tests/gcp/vertex_server.py) runs no container.
	 * tests/e2e/gcp.sh drives the hooks against it instead, and runs
	 * the API cases here against it with LEP_GCP_API set.
	 */
	{ "gcp", "LEP_GCP_CONTRACT", 1800, "LEP_GCP_IMAGE", 0, "LEP_GCP_API" },
	/*
	 * Kubernetes: the kubeconfig only so far (caps 0; tests/kube/check.sh
	 * drives it); the row runs once Deployments and Jobs exist and
	 * LEP_KUBE_CONTRACT names a cluster.
	 */
	{ "kubernetes", "LEP_KUBE_CONTRACT", 600, "LEP_KUBE_IMAGE", 0, NULL },
};

static const struct contract_row	*picked[LEP_ARRAY_SIZE(rows)];
static int				 npicked;
/* The rows the API cases run on: the picked ones and the api_env ones. */
static const struct contract_row	*api_picked[LEP_ARRAY_SIZE(rows)];
static int				 napicked;

/* One open provider, its output, and a directory for its specs. */
struct ct {
	const struct contract_row	*row;
	struct lep_provider		*p;
	struct lep_out			 out;
	struct lep_config		 cfg;
	char				*dir;
	char				 tag[32];	/* unique per test */
};

static void
ct_open_row(struct ct *c, const struct contract_row *row)
{
	static int	 seq;

	memset(c, 0, sizeof(*c));
	c->row = row;
	lep_out_init(&c->out, "contract");
	c->out.quiet = 1;
	c->cfg.home = getenv("LEPTON_HOME");
	c->cfg.out = &c->out;
	snprintf(c->tag, sizeof(c->tag), "ct%ld-%d", (long)getpid(), ++seq);
	c->dir = xasprintf("%s/%s", test_sandbox(), c->tag);
	ck_assert_ptr_null(lep_mkdirs(c->dir, 0755));
	ck_assert_ptr_null(lep_provider_open(&c->p, c->row->provider,
	    &c->cfg));
}

static void
ct_open(struct ct *c, int i)
{
	ct_open_row(c, picked[i]);
}

static void
ct_close(struct ct *c)
{
	lep_provider_close(c->p);
	lep_out_release(&c->out);
	free(c->dir);
}

/* Parse yaml (a format with %s for the tag) as c->dir/NAME.yaml. */
static struct lep_spec *
ct_spec(struct ct *c, const char *fmt)
{
	struct lep_spec	*sp;
	char		*text, *path, *more;
	const char	*image = c->row->image_env ? getenv(c->row->image_env) :
	    NULL;

	text = xasprintf(fmt, c->tag);
	if (image != NULL && strstr(text, "\nimage:") == NULL) {
		more = xasprintf("%simage: %s\n", text, image);
		free(text);
		text = more;
	}
	path = xasprintf("%s/spec.yaml", c->dir);
	test_write(path, text, 0644);
	ck_assert_ptr_null(lep_spec_load(&sp, path));
	free(path);
	free(text);
	return sp;
}

static int
expired(const struct ct *c, time_t t0)
{
	return time(NULL) - t0 > c->row->deadline_s;
}

static void
nap(void)
{
	struct timespec	 ts = { 0, 200 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* The provider's logs for name, as written to stdout, in a string. */
static char *
ct_logs(struct ct *c, const char *name)
{
	const struct lep_err	*err;
	struct lep_logs_req	 req = { 0, -1, -1, 0 };
	char			*path, *text;
	int			 fd, saved;

	path = xasprintf("%s/logs.out", c->dir);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	err = lep_provider_logs(c->p, name, &req, &c->out);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	ck_assert_msg(err == NULL, "logs: %s", err ? err->msg : "");
	text = test_slurp(path, NULL);
	free(path);
	return text != NULL ? text : xstrdup("");
}

static const char service_yaml[] =
    "kind: service\n"
    "name: %s\n"
    "run: echo contract-hello; exec python3 -m http.server "
    "\"$LEPTON_PORT\" --bind \"${LEPTON_HOST:-127.0.0.1}\"\n"
    "env: {PYTHONUNBUFFERED: \"1\"}\n"
    "service:\n"
    "  readiness: {path: /, timeout: 60}\n"
    "  replicas: 1\n";

START_TEST(test_contract_probe_reports_what_it_found)
{
	const struct lep_err	*err;
	struct lep_json		*report = NULL;
	struct ct		 c;

	ct_open_row(&c, api_picked[_i]);
	err = lep_provider_probe(&report, c.p);
	ck_assert_msg(err == NULL, "%s: probe: %s", c.row->provider,
	    err ? err->msg : "");
	ck_assert_ptr_nonnull(report);
	lep_json_free(report);
	ct_close(&c);
}
END_TEST

START_TEST(test_contract_service_deploys_serves_logs_and_stops)
{
	const struct lep_err	*err;
	struct lep_deploy_req	 req;
	struct lep_deployment	*d = NULL;
	struct lep_spec		*sp;
	struct ct		 c;
	char			*logs = NULL, *url = NULL, *token = NULL;
	time_t			 t0 = time(NULL);

	ct_open(&c, _i);
	sp = ct_spec(&c, service_yaml);
	ck_assert_ptr_null(lep_provider_check(c.p, sp));
	memset(&req, 0, sizeof(req));
	req.spec = sp;
	req.spec_sha256 = "0000000000000000000000000000000000000000000000000"
	    "000000000000000";
	req.revision = 1;
	err = lep_provider_deploy(&d, c.p, &req);
	ck_assert_msg(err == NULL, "deploy: %s", err ? err->msg : "");
	ck_assert_str_eq(d->name, c.tag);
	ck_assert_str_eq(d->provider, c.row->provider);
	/* Status until it runs with its one replica ready. */
	while (!lep_streq(d->state, "running") || d->ready < 1) {
		ck_assert_msg(!lep_streq(d->state, "failed"), "failed: %s",
		    d->message ? d->message : "");
		ck_assert_msg(!expired(&c, t0), "not running: %s", d->state);
		lep_deployment_free(d);
		nap();
		err = lep_provider_status(&d, c.p, c.tag);
		ck_assert_msg(err == NULL, "status: %s", err ? err->msg : "");
	}
	lep_deployment_free(d);
	err = lep_provider_endpoint(&url, &token, c.p, c.tag);
	ck_assert_msg(err == NULL, "endpoint: %s", err ? err->msg : "");
	ck_assert(lep_starts_with(url, "http"));
	/* The replica's own output reaches its logs. */
	while (logs == NULL || strstr(logs, "contract-hello") == NULL) {
		ck_assert_msg(logs == NULL || !expired(&c, t0), "logs lack "
		    "the replica's line: %s", logs);
		free(logs);
		logs = ct_logs(&c, c.tag);
		if (strstr(logs, "contract-hello") == NULL)
			nap();
	}
	err = lep_provider_remove(&d, c.p, c.tag, 5);
	ck_assert_msg(err == NULL, "remove: %s", err ? err->msg : "");
	ck_assert_str_eq(d->state, "stopped");
	lep_deployment_free(d);
	d = NULL;
	err = lep_provider_status(&d, c.p, c.tag);
	ck_assert(err == NULL ? lep_streq(d->state, "stopped") :
	    err->code == LEP_E_NOT_FOUND);
	lep_deployment_free(d);
	if (token != NULL)
		lep_wipe(token, strlen(token));
	free(token);
	free(url);
	free(logs);
	lep_spec_free(sp);
	ct_close(&c);
}
END_TEST

/* The pid a job wrote to c->dir/pid, or 0. */
static long
job_pid(const struct ct *c)
{
	char	*p = xasprintf("%s/pid", c->dir), *text;
	long	 pid = 0;

	if ((text = test_slurp(p, NULL)) != NULL)
		pid = strtol(text, NULL, 10);
	free(text);
	free(p);
	return pid;
}

/* Submit the job spec yaml; wait for the job to end; return it. */
static struct lep_job *
run_job(struct ct *c, const char *yaml, int cancel)
{
	const struct lep_err	*err;
	struct lep_submit_req	 req;
	struct lep_job		*j = NULL;
	struct lep_spec		*sp;
	time_t			 t0 = time(NULL);

	sp = ct_spec(c, yaml);
	ck_assert_ptr_null(lep_provider_check(c->p, sp));
	memset(&req, 0, sizeof(req));
	req.spec = sp;
	req.id = c->tag;
	err = lep_provider_submit(&j, c->p, &req);
	ck_assert_msg(err == NULL, "submit: %s", err ? err->msg : "");
	ck_assert_str_eq(j->id, c->tag);
	ck_assert_str_eq(j->provider, c->row->provider);
	if (cancel) {
		/* Once it runs (it writes its pid), not before. */
		while (job_pid(c) <= 0) {
			ck_assert_msg(!expired(c, t0), "never started");
			nap();
		}
		lep_job_free(j);
		err = lep_provider_cancel(&j, c->p, c->tag, 2);
		ck_assert_msg(err == NULL, "cancel: %s", err ? err->msg : "");
	}
	while (lep_streq(j->state, "running")) {
		ck_assert_msg(!expired(c, t0), "still running");
		lep_job_free(j);
		nap();
		err = lep_provider_job_status(&j, c->p, c->tag);
		ck_assert_msg(err == NULL, "job status: %s", err ? err->msg :
		    "");
	}
	lep_spec_free(sp);
	return j;
}

START_TEST(test_contract_job_runs_to_success)
{
	struct lep_job	*j;
	struct ct	 c;

	ct_open(&c, _i);
	j = run_job(&c, "kind: job\nname: %s\nrun: echo contract-job\n", 0);
	ck_assert_msg(lep_streq(j->state, "succeeded"), "%s: %s", j->state,
	    j->message ? j->message : "");
	ck_assert_int_eq(j->exit_code, 0);
	ck_assert(j->ended >= j->started);
	lep_job_free(j);
	ct_close(&c);
}
END_TEST

START_TEST(test_contract_job_failure_keeps_its_exit_code)
{
	struct lep_job	*j;
	struct ct	 c;

	ct_open(&c, _i);
	j = run_job(&c, "kind: job\nname: %s\nrun: exit 7\n", 0);
	ck_assert_str_eq(j->state, "failed");
	ck_assert_int_eq(j->exit_code, 7);
	lep_job_free(j);
	ct_close(&c);
}
END_TEST

START_TEST(test_contract_job_cancel_ends_it)
{
	struct lep_job	*j;
	struct ct	 c;
	char		*yaml;
	long		 pid;
	time_t		 t0;

	ct_open(&c, _i);
	yaml = xasprintf("kind: job\nname: %%s\nrun: echo $$ >%s/pid; "
	    "exec sleep 297\n", c.dir);
	j = run_job(&c, yaml, 1);
	ck_assert_msg(lep_streq(j->state, "cancelled"), "%s", j->state);
	/* Cancelled means ended: its process is gone too. */
	pid = job_pid(&c);
	t0 = time(NULL);
	while (c.row->host_pids && kill((pid_t)pid, 0) == 0) {
		ck_assert_msg(!expired(&c, t0), "process %ld survived", pid);
		nap();
	}
	lep_job_free(j);
	free(yaml);
	ct_close(&c);
}
END_TEST

START_TEST(test_contract_unknown_names_are_not_found)
{
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;
	struct lep_job		*j = NULL;
	struct ct		 c;

	ct_open_row(&c, api_picked[_i]);
	err = lep_provider_status(&d, c.p, "ct-never-deployed");
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_NOT_FOUND);
	ck_assert_ptr_null(d);
	err = lep_provider_job_status(&j, c.p, "ct-never-submitted");
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_NOT_FOUND);
	ck_assert_ptr_null(j);
	ct_close(&c);
}
END_TEST

/* A spec that needs each capability, and the key the refusal names. */
static const struct {
	unsigned int	 cap;
	const char	*yaml;
	const char	*key;
} needs[] = {
	{ LEP_CAP_SERVICE, "kind: service\nname: %s\nrun: \"true\"\n",
	    "kind: service" },
	{ LEP_CAP_JOB, "kind: job\nname: %s\nrun: \"true\"\n", "kind: job" },
	{ LEP_CAP_GPU, "kind: job\nname: %s\nrun: \"true\"\n"
	    "resources: {accelerators: \"A100:1\"}\n",
	    "resources.accelerators: A100" },
	{ LEP_CAP_CANARY, "kind: service\nname: %s\nrun: \"true\"\n"
	    "service: {rollout: {strategy: canary, percent: 10}}\n",
	    "service.rollout.strategy: canary" },
	{ LEP_CAP_MULTINODE, "kind: job\nname: %s\nrun: \"true\"\n"
	    "job: {nodes: 2}\n", "job.nodes: 2" },
	{ LEP_CAP_REPLICAS, "kind: service\nname: %s\nrun: \"true\"\n"
	    "service: {replicas: 3}\n", "service.replicas: 3" },
	{ LEP_CAP_PARTITION, "kind: job\nname: %s\nrun: \"true\"\n"
	    "placement: {partition: nowhere}\n",
	    "placement.partition: nowhere" },
	{ LEP_CAP_PARTITION, "kind: job\nname: %s\nrun: \"true\"\n"
	    "placement: {account: nobody}\n", "placement.account: nobody" },
	{ LEP_CAP_AUTOSCALE, "kind: service\nname: %s\nrun: \"true\"\n"
	    "service: {replicas: {min: 1, max: 4, target_qps: 5}}\n",
	    "service.replicas: {min: 1, max: 4, target_qps: 5}" },
	{ LEP_CAP_AUTOSCALE, "kind: service\nname: %s\nrun: \"true\"\n"
	    "service: {replicas: {min: 1, max: 1, target_qps: 5}}\n",
	    "service.replicas: {min: 1, max: 1, target_qps: 5}" },
	{ LEP_CAP_ABORT_IF, "kind: service\nname: %s\nrun: \"true\"\n"
	    "service: {rollout: {abort_if: {p99_ms: 800}}}\n",
	    "service.rollout.abort_if" },
	{ LEP_CAP_SPOT, "kind: job\nname: %s\nrun: \"true\"\n"
	    "resources: {spot: true}\n", "resources.spot: true" },
	{ LEP_CAP_IMAGE, "kind: job\nname: %s\nrun: \"true\"\n"
	    "image: busybox:1.36\n", "image: busybox:1.36" },
	{ LEP_CAP_SETUP, "kind: job\nname: %s\nsetup: \"true\"\n"
	    "run: \"true\"\n", "setup" },
	{ LEP_CAP_RESUBMIT, "kind: job\nname: %s\nrun: \"true\"\n"
	    "job: {max_restarts: 1}\n", "job.max_restarts: 1" },
	{ LEP_CAP_REGIONS, "kind: job\nname: %s\nrun: \"true\"\n"
	    "placement: {regions: [nowhere, elsewhere]}\n",
	    "placement.regions: [nowhere, elsewhere]" },
	{ LEP_CAP_REGIONS, "kind: job\nname: %s\nrun: \"true\"\n"
	    "placement: {zones: [nowhere-a]}\n", "placement.zones: [nowhere-a]" },
};

START_TEST(test_contract_refuses_what_its_capabilities_lack)
{
	const struct lep_err	*err;
	struct lep_provider_info pi;
	struct lep_spec		*sp;
	struct ct		 c;
	char			 want[64];
	size_t			 k, refused = 0;

	ct_open_row(&c, api_picked[_i]);
	ck_assert_int_eq(lep_provider_info(&pi, c.row->provider), 0);
	snprintf(want, sizeof(want), "provider '%s'", c.row->provider);
	for (k = 0; k < LEP_ARRAY_SIZE(needs); k++) {
		sp = ct_spec(&c, needs[k].yaml);
		err = lep_provider_check(c.p, sp);
		if (pi.caps & needs[k].cap) {
			/*
			 * It may not fit here, or want a key of its own
			 * (SageMaker: service.path), but it is not refused
			 * for this one.
			 */
			ck_assert_msg(err == NULL ||
			    err->code != LEP_E_UNSUPPORTED ||
			    strstr(err->msg, needs[k].key) == NULL,
			    "%s refused: %s", needs[k].key, err ? err->msg :
			    "");
		} else {
			ck_assert_msg(err != NULL, "%s accepted", needs[k].key);
			ck_assert_int_eq(err->code, LEP_E_UNSUPPORTED);
			ck_assert_int_eq(lep_err_exit(err), 9);
			ck_assert_msg(strstr(err->msg, want) != NULL &&
			    strstr(err->msg, needs[k].key) != NULL,
			    "'%s' names not '%s' and '%s'", err->msg, want,
			    needs[k].key);
			ck_assert_str_eq(err->provider, c.row->provider);
			refused++;
		}
		lep_spec_free(sp);
	}
	/* A provider that can do everything has nothing to refuse. */
	ck_assert_msg(refused > 0 || pi.caps == LEP_CAP_ALL, "nothing refused");
	ct_close(&c);
}
END_TEST

static void
pick_rows(void)
{
	const char	*only = getenv("LEP_CONTRACT_PROVIDERS");
	size_t		 i, k;

	npicked = 0;
	for (i = 0; i < LEP_ARRAY_SIZE(rows); i++) {
		if (only != NULL ? !test_word_in(only, rows[i].provider) :
		    rows[i].needs_env != NULL &&
		    getenv(rows[i].needs_env) == NULL)
			continue;
		picked[npicked++] = &rows[i];
	}
	napicked = 0;
	for (i = 0; i < LEP_ARRAY_SIZE(rows); i++) {
		for (k = 0; k < (size_t)npicked; k++)
			if (picked[k] == &rows[i])
				break;
		if (k < (size_t)npicked || (rows[i].api_env != NULL &&
		    getenv(rows[i].api_env) != NULL))
			api_picked[napicked++] = &rows[i];
	}
}

/* Every provider built in has a row; every name asked for is one. */
START_TEST(test_contract_covers_every_built_provider)
{
	struct lep_provider_info pi;
	const char		*only = getenv("LEP_CONTRACT_PROVIDERS");
	size_t			 i, k;

	for (i = 0; lep_provider_nth(&pi, i) == 0; i++) {
		for (k = 0; k < LEP_ARRAY_SIZE(rows); k++)
			if (strcmp(rows[k].provider, pi.name) == 0)
				break;
		ck_assert_msg(!pi.built || k < LEP_ARRAY_SIZE(rows),
		    "provider '%s' is built but has no contract row", pi.name);
	}
	ck_assert_msg(only == NULL || npicked > 0, "LEP_CONTRACT_PROVIDERS="
	    "'%s' names no row", only);
}
END_TEST

Suite *
suite_contract(void)
{
	Suite	*s = suite_create("contract");
	TCase	*tc = tcase_create("contract");
	TCase	*api = tcase_create("contract-api");

	pick_rows();
	tcase_set_timeout(api, 240);
	tcase_add_test(api, test_contract_covers_every_built_provider);
	tcase_add_loop_test(api, test_contract_probe_reports_what_it_found, 0,
	    napicked);
	tcase_add_loop_test(api, test_contract_unknown_names_are_not_found, 0,
	    napicked);
	tcase_add_loop_test(api,
	    test_contract_refuses_what_its_capabilities_lack, 0, napicked);
	suite_add_tcase(s, api);
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc,
	    test_contract_service_deploys_serves_logs_and_stops, 0, npicked);
	tcase_add_loop_test(tc, test_contract_job_runs_to_success, 0,
	    npicked);
	tcase_add_loop_test(tc, test_contract_job_failure_keeps_its_exit_code,
	    0, npicked);
	tcase_add_loop_test(tc, test_contract_job_cancel_ends_it, 0, npicked);
	suite_add_tcase(s, tc);
	return s;
}
