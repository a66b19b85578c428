/*
 * check_json.c: the cJSON wrapper.
 */
#include <stdlib.h>
#include <string.h>

#include "check_lepton.h"
#include "../lib/error.h"
#include "../lib/json.h"

START_TEST(test_json_parse_error_has_line_and_col)
{
	const char		*text = "{\n  \"a\": 1,\n  \"b\": ?\n}";
	const struct lep_err	*err;
	struct lep_json		*j;

	err = lep_json_parse(&j, text, strlen(text), "in.json");
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_null(j);
	ck_assert_ptr_nonnull(strstr(err->msg, "in.json: line 3 col 8"));
}
END_TEST

START_TEST(test_json_rejects_trailing_garbage)
{
	struct lep_json	*j;

	ck_assert_ptr_nonnull(lep_json_parse(&j, "{} {}", 5, "x"));
	ck_assert_ptr_null(lep_json_parse(&j, "{}\n \n", 5, "x"));
	lep_json_free(j);
}
END_TEST

START_TEST(test_json_print_has_no_tabs)
{
	struct lep_json	*j = lep_json_obj(), *a = lep_json_arr();
	char		*s;

	lep_json_set_str(j, "tab", "a\tb");
	lep_json_push(a, lep_json_int(1));
	lep_json_set(j, "list", a);
	lep_json_set_bool(j, "off", 0);
	s = lep_json_print(j, 1);
	ck_assert_ptr_null(strchr(s, '\t'));
	ck_assert_ptr_nonnull(strstr(s, "\"tab\": \"a\\tb\""));
	ck_assert_ptr_nonnull(strstr(s, "\"off\": false"));
	free(s);
	lep_json_free(j);
}
END_TEST

/* Reliability issue, defect 10a: a body is carried whole, NULs and all. */
START_TEST(test_json_bytes_keeps_nul_and_base64s_the_rest)
{
	struct lep_json	*a = lep_json_arr();
	char		*s;

	lep_json_push(a, lep_json_bytes("a\0b\"\\\n\x01\xc3\xa9", 9));
	lep_json_push(a, lep_json_bytes("plain", 5));
	lep_json_push(a, lep_json_bytes("\x89PNG\0\xff", 6));
	lep_json_push(a, lep_json_bytes("\xed\xa0\x80", 3));	/* surrogate */
	lep_json_push(a, lep_json_bytes("\xff", 1));
	lep_json_push(a, lep_json_bytes("ab\xff", 2));	/* only len bytes */
	lep_json_push(a, lep_json_bytes("", 0));
	s = lep_json_print(a, 0);
	ck_assert_str_eq(s, "[\"a\\u0000b\\\"\\\\\\n\\u0001\xc3\xa9\","
	    "\"plain\",{\"base64\":\"iVBORwD/\"},{\"base64\":\"7aCA\"},"
	    "{\"base64\":\"/w==\"},\"ab\",\"\"]");
	free(s);
	lep_json_free(a);
}
END_TEST

START_TEST(test_json_set_replaces_and_getters_check_types)
{
	struct lep_json	*j = lep_json_obj();
	long long	 v = 0;

	lep_json_set_int(j, "n", 1);
	lep_json_set_int(j, "n", 2);
	ck_assert_uint_eq(lep_json_len(j), 1);
	ck_assert_int_eq(lep_json_get_ll(j, "n", &v), 0);
	ck_assert_int_eq(v, 2);
	ck_assert_ptr_null(lep_json_get_str(j, "n"));
	ck_assert_int_eq(lep_json_get_ll(j, "missing", &v), -1);
	lep_json_free(j);
}
END_TEST

/*
 * Found by fuzzing (tests/fuzz/fuzz_json.c): 8e80 as a long long was an
 * undefined conversion (UBSan); out of range is now "mistyped".
 */
START_TEST(test_json_ll_refuses_numbers_out_of_range)
{
	const char	*text = "{\"big\": 8e80, \"neg\": -1e19, "
			    "\"max\": 9223372036854774784, \"frac\": -2.5}";
	struct lep_json	*j = NULL;
	long long	 v = 7;

	ck_assert_ptr_null(lep_json_parse(&j, text, strlen(text), "x"));
	ck_assert_int_eq(lep_json_get_ll(j, "big", &v), -1);
	ck_assert_int_eq(lep_json_get_ll(j, "neg", &v), -1);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(lep_json_get_ll(j, "max", &v), 0);
	ck_assert(v == 9223372036854774784LL);
	ck_assert_int_eq(lep_json_ll(lep_json_get(j, "frac"), &v), 0);
	ck_assert_int_eq(v, -2);
	lep_json_free(j);
}
END_TEST

Suite *
suite_json(void)
{
	Suite	*s = suite_create("json");
	TCase	*tc = tcase_create("json");

	tcase_add_test(tc, test_json_parse_error_has_line_and_col);
	tcase_add_test(tc, test_json_rejects_trailing_garbage);
	tcase_add_test(tc, test_json_print_has_no_tabs);
	tcase_add_test(tc, test_json_bytes_keeps_nul_and_base64s_the_rest);
	tcase_add_test(tc, test_json_set_replaces_and_getters_check_types);
	tcase_add_test(tc, test_json_ll_refuses_numbers_out_of_range);
	suite_add_tcase(s, tc);
	return s;
}
