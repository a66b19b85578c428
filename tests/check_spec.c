/*
 * check_spec.c: the spec loader against tests/fixtures/spec/. Each
 * invalid fixture names its expected error in its first line,
 * "# expect: LINE:COL message"; each valid one must load, and its
 * normalised form must load again to the same normalised form.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_lepton.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/spec.h"
#include "../lib/util.h"

#define FIXTURES	"tests/fixtures/spec"
#define MAX_FIXTURES	256

static char	*invalid[MAX_FIXTURES], *valid[MAX_FIXTURES];
static size_t	 ninvalid, nvalid;

START_TEST(test_spec_rejects_invalid_fixture)
{
	const char		*path = invalid[_i];
	const struct lep_err	*err;
	struct lep_spec		*sp = NULL;
	char			*text, *nl, *want, *sp_at;

	text = test_slurp(path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(lep_starts_with(text, "# expect: "),
	    "%s: first line must be '# expect: LINE:COL message'", path);
	if ((nl = strchr(text, '\n')) != NULL)
		*nl = '\0';
	/* "LINE:COL message" -> "PATH:LINE:COL: message" */
	sp_at = strchr(text + 10, ' ');
	ck_assert_ptr_nonnull(sp_at);
	*sp_at = '\0';
	want = xasprintf("%s:%s: %s", path, text + 10, sp_at + 1);
	err = lep_spec_load(&sp, path);
	ck_assert_msg(err != NULL, "%s: loaded, but should fail", path);
	ck_assert_ptr_null(sp);
	ck_assert_int_eq(err->code, LEP_E_SPEC);
	ck_assert_int_eq(lep_err_exit(err), 3);
	ck_assert_msg(lep_starts_with(err->msg, want), "%s:\n want %s\n got  %s",
	    path, want, err->msg);
	free(want);
	free(text);
}
END_TEST

START_TEST(test_spec_valid_fixture_round_trips)
{
	const char		*path = valid[_i];
	const struct lep_err	*err;
	struct lep_spec		*sp = NULL, *again = NULL;
	struct lep_json		*j1, *j2;
	char			*t1, *t2;

	err = lep_spec_load(&sp, path);
	ck_assert_msg(err == NULL, "%s: %s", path, err ? err->msg : "");
	j1 = lep_spec_to_json(sp);
	t1 = lep_json_print(j1, 1);
	err = lep_spec_parse(&again, "normalised", sp->dir, t1, strlen(t1));
	ck_assert_msg(err == NULL, "%s: normalised form fails: %s", path,
	    err ? err->msg : "");
	j2 = lep_spec_to_json(again);
	t2 = lep_json_print(j2, 1);
	ck_assert_str_eq(t1, t2);
	free(t1);
	free(t2);
	lep_json_free(j1);
	lep_json_free(j2);
	lep_spec_free(sp);
	lep_spec_free(again);
}
END_TEST

START_TEST(test_spec_enough_fixtures)
{
	ck_assert_uint_ge(ninvalid, 30);
	ck_assert_uint_ge(nvalid, 10);
}
END_TEST

START_TEST(test_spec_defaults_are_filled)
{
	const char	*text = "kind: service\nname: a\nrun: x\n";
	struct lep_spec	*sp;

	ck_assert_ptr_null(lep_spec_parse(&sp, "t", "/", text, strlen(text)));
	ck_assert_int_eq(sp->service.port, 0);
	ck_assert_str_eq(sp->service.path, "/predict");
	ck_assert_str_eq(sp->service.ready_path, "/healthz");
	ck_assert_int_eq(sp->service.ready_timeout, 120);
	ck_assert_int_eq(sp->service.replicas_min, 1);
	ck_assert_str_eq(sp->service.protocol, "json");
	lep_spec_free(sp);
}
END_TEST

START_TEST(test_spec_accelerator_forms)
{
	const char	*ordered = "kind: job\nname: a\nrun: x\nresources:\n"
	    "  accelerators: [H100:8, a100-80gb]\n";
	const char	*any = "kind: job\nname: a\nrun: x\nresources:\n"
	    "  accelerators: {L4:2, T4: 4}\n";
	struct lep_spec	*sp;

	ck_assert_ptr_null(lep_spec_parse(&sp, "t", "/", ordered,
	    strlen(ordered)));
	ck_assert_uint_eq(sp->resources.naccels, 2);
	ck_assert(!sp->resources.accel_any);
	ck_assert_str_eq(sp->resources.accels[0].name, "H100");
	ck_assert_int_eq(sp->resources.accels[0].count, 8);
	ck_assert_int_eq(sp->resources.accels[1].count, 1);
	ck_assert_int_eq(sp->resources.accel_pos.line, 5);
	ck_assert_int_eq(sp->resources.accel_pos.col, 17);
	lep_spec_free(sp);
	ck_assert_ptr_null(lep_spec_parse(&sp, "t", "/", any, strlen(any)));
	ck_assert(sp->resources.accel_any);
	ck_assert_int_eq(sp->resources.accels[0].count, 2);
	ck_assert_int_eq(sp->resources.accels[1].count, 4);
	lep_spec_free(sp);
}
END_TEST

START_TEST(test_spec_missing_file_is_not_found)
{
	const struct lep_err	*err;
	struct lep_spec		*sp;

	err = lep_spec_load(&sp, "/nonexistent/spec.yaml");
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_NOT_FOUND);
}
END_TEST

START_TEST(test_spec_nul_byte_refused)
{
	const char		 text[] = "kind: service\0name: a\n";
	const struct lep_err	*err;
	struct lep_spec		*sp;

	err = lep_spec_parse(&sp, "t", "/", text, sizeof(text) - 1);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_SPEC);
	ck_assert_ptr_nonnull(strstr(err->msg, "NUL"));
}
END_TEST

Suite *
suite_spec(void)
{
	Suite	*s = suite_create("spec");
	TCase	*tc = tcase_create("spec");

	if (ninvalid == 0) {
		ninvalid = test_list(invalid, MAX_FIXTURES, FIXTURES "/invalid",
		    ".yaml");
		nvalid = test_list(valid, MAX_FIXTURES, FIXTURES "/valid",
		    ".yaml");
	}
	tcase_add_test(tc, test_spec_enough_fixtures);
	tcase_add_loop_test(tc, test_spec_rejects_invalid_fixture, 0,
	    (int)ninvalid);
	tcase_add_loop_test(tc, test_spec_valid_fixture_round_trips, 0,
	    (int)nvalid);
	tcase_add_test(tc, test_spec_defaults_are_filled);
	tcase_add_test(tc, test_spec_accelerator_forms);
	tcase_add_test(tc, test_spec_missing_file_is_not_found);
	tcase_add_test(tc, test_spec_nul_byte_refused);
	suite_add_tcase(s, tc);
	return s;
}
