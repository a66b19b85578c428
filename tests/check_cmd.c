/*
 * check_cmd.c: the command table and the CLI contract, against the real
 * binary: every command has --help (exit 0, usage on stdout, nothing on
 * stderr) and a section in lepton(1); --json gives exactly one document,
 * on failure too; usage errors exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_lepton.h"
#include "../cmd/cmd.h"
#include "../lib/json.h"
#include "../lib/util.h"

START_TEST(test_cmd_help_for_every_command)
{
	const struct lep_cmd	*cmd = lep_cmd_table[_i];
	char			*argv[] = { (char *)test_lepton(),
	    (char *)cmd->name, "--help", NULL };
	char			*out, *err, *want, *man;
	int			 rc;

	rc = test_run(argv, NULL, &out, &err);
	ck_assert_msg(rc == 0, "%s --help exited %d", cmd->name, rc);
	want = xasprintf("usage: lepton %s", cmd->name);
	ck_assert_msg(lep_starts_with(out, want), "%s --help: %s", cmd->name,
	    out);
	ck_assert_str_eq(err, "");
	free(want);
	man = test_slurp("man/lepton.1", NULL);
	ck_assert_ptr_nonnull(man);
	want = xasprintf(".SS \"lepton %s", cmd->name);
	ck_assert_msg(strstr(man, want) != NULL, "man/lepton.1 has no %s",
	    want);
	free(want);
	free(man);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_cmd_table_sorted_and_exact)
{
	size_t	 i;

	for (i = 1; i < lep_cmd_count; i++)
		ck_assert_int_lt(strcmp(lep_cmd_table[i - 1]->name,
		    lep_cmd_table[i]->name), 0);
	ck_assert_ptr_nonnull(lep_cmd_find("deploy"));
	ck_assert_ptr_null(lep_cmd_find("dep"));	/* never prefixes */
}
END_TEST

static struct lep_json *
one_document(const char *out)
{
	struct lep_json	*j = NULL;

	ck_assert_msg(lep_json_parse(&j, out, strlen(out), "stdout") == NULL,
	    "stdout is not exactly one JSON document: %s", out);
	return j;
}

START_TEST(test_cmd_json_failure_is_one_document)
{
	char		*argv[] = { (char *)test_lepton(), "--json", "status",
	    "no-such-deployment", NULL };
	char		*out, *err;
	struct lep_json	*j, *e;
	long long	 code;
	int		 rc;

	rc = test_run(argv, NULL, &out, &err);
	ck_assert_int_eq(rc, 5);
	j = one_document(out);
	ck_assert_int_eq(lep_json_get_bool(j, "ok", 1), 0);
	e = lep_json_get(j, "error");
	ck_assert_str_eq(lep_json_get_str(e, "code"), "not_found");
	ck_assert_int_eq(lep_json_get_ll(e, "exit", &code), 0);
	ck_assert_int_eq(code, 5);
	ck_assert_ptr_nonnull(strstr(err, "lepton: status: no deployment"));
	lep_json_free(j);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_cmd_unknown_command_is_usage_error)
{
	char	*argv[] = { (char *)test_lepton(), "deplyo", NULL };
	char	*out, *err;

	ck_assert_int_eq(test_run(argv, NULL, &out, &err), 2);
	ck_assert_str_eq(out, "");
	ck_assert_ptr_nonnull(strstr(err, "unknown command 'deplyo'"));
	ck_assert_ptr_nonnull(strstr(err, "did you mean 'lepton deploy'"));
	free(out);
	free(err);
}
END_TEST

START_TEST(test_cmd_usage_errors_exit_2)
{
	char	*noargs[] = { (char *)test_lepton(), NULL };
	char	*missing[] = { (char *)test_lepton(), "validate", NULL };
	char	*extra[] = { (char *)test_lepton(), "version", "x", NULL };
	char	*badopt[] = { (char *)test_lepton(), "--json", "logs",
	    "--tial", "5", "x", NULL };
	char	*out, *err;
	struct lep_json	*j;

	ck_assert_int_eq(test_run(noargs, NULL, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "usage: lepton"));
	free(out);
	free(err);
	ck_assert_int_eq(test_run(missing, NULL, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "usage: lepton validate SPEC"));
	free(out);
	free(err);
	ck_assert_int_eq(test_run(extra, NULL, &out, &err), 2);
	free(out);
	free(err);
	ck_assert_int_eq(test_run(badopt, NULL, &out, &err), 2);
	j = one_document(out);
	ck_assert_str_eq(lep_json_get_str(lep_json_get(j, "error"), "code"),
	    "usage");
	ck_assert_ptr_nonnull(strstr(err, "did you mean '--tail'"));
	lep_json_free(j);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_cmd_train_wants_a_job)
{
	char	*argv[] = { (char *)test_lepton(), "train",
	    "examples/iris/service.yaml", NULL };
	char	*out, *err;

	ck_assert_int_eq(test_run(argv, NULL, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "kind 'service' is deployed, not "
	    "trained"));
	free(out);
	free(err);
}
END_TEST

START_TEST(test_cmd_version_and_global_options)
{
	char	*v1[] = { (char *)test_lepton(), "--version", NULL };
	char	*v2[] = { (char *)test_lepton(), "version", "--json", NULL };
	char	*out, *err;
	struct lep_json	*j;

	ck_assert_int_eq(test_run(v1, NULL, &out, &err), 0);
	ck_assert(lep_starts_with(out, "lepton "));
	free(out);
	free(err);
	ck_assert_int_eq(test_run(v2, NULL, &out, &err), 0);
	j = one_document(out);
	ck_assert_ptr_nonnull(lep_json_get_str(lep_json_get(j, "result"),
	    "version"));
	lep_json_free(j);
	free(out);
	free(err);
}
END_TEST

START_TEST(test_cmd_validate_json_round_trip)
{
	char	*argv[] = { (char *)test_lepton(), "validate", "--json",
	    "examples/iris/service.yaml", NULL };
	char	*out, *err;
	struct lep_json	*j, *spec;

	ck_assert_int_eq(test_run(argv, NULL, &out, &err), 0);
	j = one_document(out);
	spec = lep_json_get(lep_json_get(j, "result"), "spec");
	ck_assert_str_eq(lep_json_get_str(spec, "name"), "iris");
	ck_assert_str_eq(err, "");
	lep_json_free(j);
	free(out);
	free(err);
}
END_TEST

Suite *
suite_cmd(void)
{
	Suite	*s = suite_create("cmd");
	TCase	*tc = tcase_create("cmd");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_cmd_help_for_every_command, 0,
	    (int)lep_cmd_count);
	tcase_add_test(tc, test_cmd_table_sorted_and_exact);
	tcase_add_test(tc, test_cmd_json_failure_is_one_document);
	tcase_add_test(tc, test_cmd_unknown_command_is_usage_error);
	tcase_add_test(tc, test_cmd_usage_errors_exit_2);
	tcase_add_test(tc, test_cmd_train_wants_a_job);
	tcase_add_test(tc, test_cmd_version_and_global_options);
	tcase_add_test(tc, test_cmd_validate_json_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
