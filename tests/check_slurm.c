/*
 * check_slurm.c: the Slurm provider reads slurmrestd's answers right:
 * the recorded responses of tests/fixtures/slurm/responses (Slurm 24.05
 * and 25.11, API v0.0.41 and v0.0.44) to the status their EXPECTED.tsv
 * gives, plain-text bodies without crashing, the v0.0.38 shapes, and the
 * token checks made before a request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_lepton.h"
#include "../lib/error.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/util.h"
#include "../providers/slurm-priv.h"

#define RESP	"tests/fixtures/slurm/responses/"

/* One EXPECTED.tsv row: file, lepton state, exit code, signal, or error. */
static const struct {
	const char	*file;
	const char	*slurm;		/* job_state, or NULL: an error */
	const char	*lepton;
	int		 code, sig, retry;
	enum lep_code	 err;
} rows[] = {
	{ "24.05-v0.0.41/slurm-job-running.json", "RUNNING", "running",
	    0, 0, 0, 0 },
	{ "24.05-v0.0.41/slurm-job-completed.json", "COMPLETED", "succeeded",
	    0, 0, 0, 0 },
	{ "24.05-v0.0.41/slurm-job-failed.json", "FAILED", "failed",
	    1, 0, 0, 0 },
	{ "25.11-v0.0.44/slurm-job-pending.json", "PENDING", "running",
	    0, 0, 0, 0 },
	{ "25.11-v0.0.44/slurm-job-running.json", "RUNNING", "running",
	    0, 0, 0, 0 },
	{ "25.11-v0.0.44/slurm-job-gpus-running.json", "RUNNING", "running",
	    0, 0, 0, 0 },
	{ "25.11-v0.0.44/slurm-job-completed.json", "COMPLETED", "succeeded",
	    0, 0, 0, 0 },
	{ "25.11-v0.0.44/slurm-job-failed.json", "FAILED", "failed",
	    1, 0, 0, 0 },
	{ "25.11-v0.0.44/slurm-job-timeout.json", "TIMEOUT", "failed",
	    -1, 15, 0, 0 },
	{ "25.11-v0.0.44/slurmdb-job-completed.json", "COMPLETED",
	    "succeeded", 0, 0, 0, 0 },
	{ "25.11-v0.0.44/slurmdb-job-failed.json", "FAILED", "failed",
	    1, 0, 0, 0 },
	{ "25.11-v0.0.44/slurm-job-unfound.json", NULL, NULL, 0, 0, 0,
	    LEP_E_NOT_FOUND },
	{ "25.11-v0.0.44/slurm-jwt-expired-token.json", NULL, NULL, 0, 0, 0,
	    LEP_E_AUTH },
};

START_TEST(test_slurm_recorded_jobs)
{
	const struct lep_err	*err;
	struct lep_json		*j = NULL;
	const struct lep_json	*job;
	char			*path, *text;
	size_t			 len;
	int			 code, sig, retry;

	path = xasprintf(RESP "%s", rows[_i].file);
	text = test_slurp(path, &len);
	ck_assert_msg(text != NULL, "%s", path);
	ck_assert_ptr_null(lep_json_parse(&j, text, len, path));
	/* Recorded with HTTP 200 for jobs, 500 for errors. */
	err = slurm_answer_error(rows[_i].slurm ? 200 : 500, text, len, j);
	if (rows[_i].slurm == NULL) {
		ck_assert_msg(err != NULL, "%s: no error", path);
		ck_assert_msg(err->code == rows[_i].err, "%s: code %d: %s",
		    path, err->code, err->msg);
	} else {
		ck_assert_msg(err == NULL, "%s: %s", path, err ? err->msg : "");
		job = lep_json_at(lep_json_get(j, "jobs"), 0);
		ck_assert_str_eq(slurm_job_state(job), rows[_i].slurm);
		ck_assert_str_eq(slurm_map_state(slurm_job_state(job), &retry),
		    rows[_i].lepton);
		ck_assert_int_eq(retry, rows[_i].retry);
		if (strcmp(rows[_i].lepton, "running") != 0) {
			slurm_job_exit(job, &code, &sig);
			ck_assert_msg(code == rows[_i].code, "%s: exit %d",
			    path, code);
			ck_assert_msg(sig == rows[_i].sig, "%s: signal %d",
			    path, sig);
		}
	}
	lep_json_free(j);
	free(text);
	free(path);
}
END_TEST

START_TEST(test_slurm_ping)
{
	static const char old[] = "{\"meta\": {\"Slurm\": {\"release\": "
	    "\"22.05.8\"}}, \"errors\": [], \"pings\": [{\"hostname\": "
	    "\"vm\", \"ping\": \"UP\", \"status\": 0}]}";
	static const char down[] = "{\"pings\": [{\"ping\": \"DOWN\"}]}";
	struct lep_json	*j = NULL;
	const char	*rel;
	char		*text;
	size_t		 len;

	text = test_slurp(RESP "25.11-v0.0.44/slurm-ping.json", &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(lep_json_parse(&j, text, len, "ping"));
	ck_assert_ptr_null(slurm_answer_error(200, text, len, j));
	ck_assert_ptr_null(slurm_ping_answer(&rel, j));
	ck_assert_str_eq(rel, "25.11.0");
	lep_json_free(j);
	free(text);
	ck_assert_ptr_null(lep_json_parse(&j, old, strlen(old), "t"));
	ck_assert_ptr_null(slurm_ping_answer(&rel, j));
	ck_assert_str_eq(rel, "22.05.8");
	lep_json_free(j);
	ck_assert_ptr_null(lep_json_parse(&j, down, strlen(down), "t"));
	ck_assert_int_eq(slurm_ping_answer(&rel, j)->code, LEP_E_PROVIDER);
	lep_json_free(j);
}
END_TEST

START_TEST(test_slurm_plain_text_bodies)
{
	const struct lep_err	*err;
	char			*text;
	size_t			 len;

	text = test_slurp(RESP "25.11-v0.0.44/slurm-not-found.txt", &len);
	ck_assert_ptr_nonnull(text);
	err = slurm_answer_error(404, text, len, NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_PROVIDER);
	ck_assert_ptr_nonnull(strstr(err->msg, "no such endpoint"));
	free(text);
	text = test_slurp(RESP "25.11-v0.0.44/slurm-jwt-missing-headers.txt",
	    &len);
	ck_assert_ptr_nonnull(text);
	err = slurm_answer_error(401, text, len, NULL);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_ptr_nonnull(strstr(err->msg, "Authentication does not"));
	free(text);
	/* "Unable to parse query." with 400, and a 200 that is not JSON. */
	err = slurm_answer_error(400, "Unable to parse query.", 22, NULL);
	ck_assert_int_eq(err->code, LEP_E_PROVIDER);
	ck_assert_ptr_nonnull(strstr(err->msg, "HTTP 400"));
	err = slurm_answer_error(200, "<html>", 6, NULL);
	ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(test_slurm_v0038_shapes)
{
	static const char job[] = "{\"job_state\": \"FAILED\", "
	    "\"exit_code\": 768}";
	static const char killed[] = "{\"job_state\": \"CANCELLED\", "
	    "\"exit_code\": 15}";
	static const char bad_token[] = "{\"meta\": {}, \"errors\": [{"
	    "\"description\": \"slurmctld config is unable to load\", "
	    "\"error_number\": -1, \"error\": \"Unspecified error\", "
	    "\"source\": \"slurm_load_ctl_conf\"}]}";
	static const char bad_part[] = "{\"errors\": [{\"error_code\": 2000, "
	    "\"error\": \"Invalid partition name specified\"}]}";
	struct lep_json	*j = NULL;
	const struct lep_err *err;
	int		 code, sig, retry;

	ck_assert_ptr_null(lep_json_parse(&j, job, strlen(job), "t"));
	slurm_job_exit(j, &code, &sig);
	ck_assert_int_eq(code, 3);	/* the wait status 3 << 8 */
	ck_assert_int_eq(sig, 0);
	lep_json_free(j);
	ck_assert_ptr_null(lep_json_parse(&j, killed, strlen(killed), "t"));
	slurm_job_exit(j, &code, &sig);
	ck_assert_int_eq(code, -1);
	ck_assert_int_eq(sig, 15);
	ck_assert_str_eq(slurm_map_state(slurm_job_state(j), &retry),
	    "cancelled");
	lep_json_free(j);
	ck_assert_ptr_null(lep_json_parse(&j, bad_token, strlen(bad_token),
	    "t"));
	err = slurm_answer_error(500, bad_token, strlen(bad_token), j);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	lep_json_free(j);
	ck_assert_ptr_null(lep_json_parse(&j, bad_part, strlen(bad_part),
	    "t"));
	err = slurm_answer_error(500, bad_part, strlen(bad_part), j);
	ck_assert_int_eq(err->code, LEP_E_INFEASIBLE);
	lep_json_free(j);
	ck_assert_str_eq(slurm_map_state("NODE_FAIL", &retry), "failed");
	ck_assert_int_eq(retry, 1);
	ck_assert_str_eq(slurm_map_state("PREEMPTED", &retry), "failed");
	ck_assert_int_eq(retry, 1);
	ck_assert_str_eq(slurm_map_state("NOT_A_STATE", &retry), "unknown");
}
END_TEST

/* header.payload.signature with these claims. */
static char *
jwt(const char *claims)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	struct lep_buf	 b = LEP_BUF_INIT;
	size_t		 i, n = strlen(claims);
	unsigned int	 v;

	lep_buf_add(&b, "eyJhbGciOiJIUzI1NiJ9.");
	for (i = 0; i < n; i += 3) {
		v = (unsigned char)claims[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)claims[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)claims[i + 2];
		lep_buf_addch(&b, tbl[(v >> 18) & 63]);
		lep_buf_addch(&b, tbl[(v >> 12) & 63]);
		if (i + 1 < n)
			lep_buf_addch(&b, tbl[(v >> 6) & 63]);
		if (i + 2 < n)
			lep_buf_addch(&b, tbl[v & 63]);
	}
	lep_buf_add(&b, ".c2ln");
	return lep_buf_detach(&b, NULL);
}

START_TEST(test_slurm_token_claims)
{
	const struct lep_err	*err;
	char			*t;

	err = slurm_token_check("garbage", "root");
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	t = jwt("{\"exp\": 4102444800, \"sun\": \"alice\"}");
	ck_assert_ptr_null(slurm_token_check(t, "alice"));
	err = slurm_token_check(t, "bob");
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_ptr_nonnull(strstr(err->msg, "for user 'alice'"));
	free(t);
	t = jwt("{\"exp\": 1000, \"sun\": \"alice\"}");
	err = slurm_token_check(t, "alice");
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_ptr_nonnull(strstr(err->msg, "expired"));
	free(t);
	/* root may speak for anyone. */
	t = jwt("{\"exp\": 4102444800, \"sun\": \"root\"}");
	ck_assert_ptr_null(slurm_token_check(t, "bob"));
	free(t);
}
END_TEST

START_TEST(test_slurm_numbers)
{
	static const char text[] = "{\"a\": 5, \"b\": {\"set\": true, "
	    "\"infinite\": false, \"number\": 7}, \"c\": {\"set\": false, "
	    "\"number\": 9}, \"d\": {\"set\": true, \"infinite\": true, "
	    "\"number\": 0}}";
	struct lep_json	*j = NULL;

	ck_assert_ptr_null(lep_json_parse(&j, text, strlen(text), "t"));
	ck_assert_int_eq(slurm_num(j, "a", -1), 5);
	ck_assert_int_eq(slurm_num(j, "b", -1), 7);
	ck_assert_int_eq(slurm_num(j, "c", -1), -1);
	ck_assert_int_eq(slurm_num(j, "d", -1), -1);
	ck_assert_int_eq(slurm_num(j, "missing", -2), -2);
	lep_json_free(j);
}
END_TEST

/* Which 500s are Slurm's final word, and which may pass (lib/http). */
static const struct {
	const char	*body;
	int		 final;
} finals[] = {
	{ "{\"errors\": [{\"error_number\": 2017, \"error\": \"Invalid job "
	    "id specified\"}]}", 1 },
	{ "{\"errors\": [{\"error_number\": -1, \"source\": "
	    "\"slurm_load_jobs\"}]}", 1 },
	{ "{\"errors\": [{\"error_code\": 2009}]}", 1 },
	{ "{\"errors\": [{\"error_number\": 1800, \"error\": \"Unable to "
	    "contact slurm controller\"}]}", 0 },
	{ "{\"errors\": [{\"error_number\": 5004}]}", 0 },
	{ "{\"errors\": [], \"jobs\": []}", 0 },
	{ "Internal Server Error", 0 },	/* a proxy's, not Slurm's */
	{ "", 0 },
};

START_TEST(test_slurm_final_answers)
{
	struct lep_http_resp	 r;

	lep_http_resp_init(&r);
	r.status = 500;
	lep_buf_add(&r.body, finals[_i].body);
	ck_assert_msg(slurm_answer_final(&r) == finals[_i].final, "'%s'",
	    finals[_i].body);
	lep_http_resp_release(&r);
}
END_TEST

/*
 * Found by fuzzing (tests/fuzz/fuzz_slurm.c): a number past long long in
 * an answer ("cpus": 2e79) was converted all the same (UBSan). It counts
 * as unset now.
 */
START_TEST(test_slurm_numbers_out_of_range)
{
	static const char text[] = "{\"a\": 2e79, \"b\": {\"set\": true, "
	    "\"number\": -1e300}, \"exit_code\": 1e300}";
	struct lep_json	*j = NULL;
	int		 code, sig;

	ck_assert_ptr_null(lep_json_parse(&j, text, strlen(text), "t"));
	ck_assert_int_eq(slurm_num(j, "a", -1), -1);
	ck_assert_int_eq(slurm_num(j, "b", -1), -1);
	slurm_job_exit(j, &code, &sig);
	ck_assert_int_eq(code, -1);
	ck_assert_int_eq(sig, 0);
	lep_json_free(j);
}
END_TEST

/* A job killed by a signal, its state unknown: no "%s" of NULL. */
START_TEST(test_slurm_end_message_without_state)
{
	static const char text[] = "{\"exit_code\": 9}";
	struct lep_json	*j = NULL;
	char		*msg;

	ck_assert_ptr_null(lep_json_parse(&j, text, strlen(text), "t"));
	msg = slurm_end_message(j, 42);
	ck_assert_str_eq(msg, "Slurm job 42 ? (signal 9)");
	free(msg);
	lep_json_free(j);
}
END_TEST

Suite *
suite_slurm(void)
{
	Suite	*s = suite_create("slurm");
	TCase	*tc = tcase_create("slurm");

	tcase_add_loop_test(tc, test_slurm_recorded_jobs, 0,
	    (int)LEP_ARRAY_SIZE(rows));
	tcase_add_test(tc, test_slurm_ping);
	tcase_add_test(tc, test_slurm_plain_text_bodies);
	tcase_add_test(tc, test_slurm_v0038_shapes);
	tcase_add_test(tc, test_slurm_token_claims);
	tcase_add_test(tc, test_slurm_numbers);
	tcase_add_loop_test(tc, test_slurm_final_answers, 0,
	    (int)LEP_ARRAY_SIZE(finals));
	tcase_add_test(tc, test_slurm_numbers_out_of_range);
	tcase_add_test(tc, test_slurm_end_message_without_state);
	suite_add_tcase(s, tc);
	return s;
}
