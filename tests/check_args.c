/*
 * check_args.c: the option parser.
 */
#include <string.h>

#include "check_lepton.h"
#include "../lib/args.h"
#include "../lib/error.h"
#include "../lib/util.h"

static const struct lep_opt opts[] = {
	{ "follow", 'f', LEP_OPT_FLAG, NULL, "" },
	{ "tail", 0, LEP_OPT_VALUE, "N", "" },
	{ "data", 'd', LEP_OPT_VALUE, "JSON", "" },
	{ "input", 'i', LEP_OPT_MULTI, "K=V", "" },
	{ "quiet", 'q', LEP_OPT_FLAG, NULL, "" },
	{ NULL, 0, 0, NULL, NULL }
};
static const struct lep_opt *const tables[] = { opts, NULL };

START_TEST(test_args_long_short_and_equals)
{
	char	*argv[] = { "-f", "--tail=5", "NAME", "-d", "{}", "-qi",
	    "a=1", "--input", "b=2", NULL };
	struct lep_args	 a;

	ck_assert_ptr_null(lep_args_parse(&a, tables, 9, argv, 0, NULL));
	ck_assert(lep_args_has(&a, "follow"));
	ck_assert(lep_args_has(&a, "quiet"));
	ck_assert_str_eq(lep_args_get(&a, "tail"), "5");
	ck_assert_str_eq(lep_args_get(&a, "data"), "{}");
	ck_assert_uint_eq(lep_args_count(&a, "input"), 2);
	ck_assert_str_eq(lep_args_nth(&a, "input", 1), "b=2");
	ck_assert_uint_eq(a.npos, 1);
	ck_assert_str_eq(lep_args_pos(&a, 0), "NAME");
	lep_args_release(&a);
}
END_TEST

START_TEST(test_args_double_dash_ends_options)
{
	char	*argv[] = { "--", "-f", "x", NULL };
	struct lep_args	 a;

	ck_assert_ptr_null(lep_args_parse(&a, tables, 3, argv, 0, NULL));
	ck_assert(!lep_args_has(&a, "follow"));
	ck_assert_uint_eq(a.npos, 2);
	ck_assert_str_eq(lep_args_pos(&a, 0), "-f");
	lep_args_release(&a);
}
END_TEST

START_TEST(test_args_unknown_option_suggests)
{
	char	*argv[] = { "--folow", NULL };
	const struct lep_err	*err;
	struct lep_args		 a;

	err = lep_args_parse(&a, tables, 1, argv, 0, NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_USAGE);
	ck_assert_ptr_nonnull(strstr(err->msg, "'--folow'"));
	ck_assert_ptr_nonnull(strstr(err->hint, "--follow"));
	lep_args_release(&a);
}
END_TEST

START_TEST(test_args_missing_value_and_flag_value)
{
	char	*argv1[] = { "--tail", NULL };
	char	*argv2[] = { "--follow=yes", NULL };
	const struct lep_err	*err;
	struct lep_args		 a;

	err = lep_args_parse(&a, tables, 1, argv1, 0, NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->msg, "needs a value"));
	lep_args_release(&a);
	err = lep_args_parse(&a, tables, 1, argv2, 0, NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->msg, "takes no value"));
	lep_args_release(&a);
}
END_TEST

START_TEST(test_args_stop_at_positional)
{
	char	*argv[] = { "-q", "deploy", "-f", NULL };
	struct lep_args	 a;
	int		 used = -1;

	ck_assert_ptr_null(lep_args_parse(&a, tables, 3, argv, 1, &used));
	ck_assert_int_eq(used, 1);
	ck_assert(lep_args_has(&a, "quiet"));
	ck_assert(!lep_args_has(&a, "follow"));
	lep_args_release(&a);
}
END_TEST

START_TEST(test_args_int_range)
{
	char	*argv[] = { "--tail", "abc", NULL };
	const struct lep_err	*err;
	struct lep_args		 a;
	long long		 v;

	ck_assert_ptr_null(lep_args_parse(&a, tables, 2, argv, 0, NULL));
	err = lep_args_int(&v, &a, "tail", 10, 0, 100);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_USAGE);
	ck_assert_ptr_null(lep_args_int(&v, &a, "data", 10, 0, 100));
	ck_assert_int_eq(v, 10);
	lep_args_release(&a);
}
END_TEST

Suite *
suite_args(void)
{
	Suite	*s = suite_create("args");
	TCase	*tc = tcase_create("args");

	tcase_add_test(tc, test_args_long_short_and_equals);
	tcase_add_test(tc, test_args_double_dash_ends_options);
	tcase_add_test(tc, test_args_unknown_option_suggests);
	tcase_add_test(tc, test_args_missing_value_and_flag_value);
	tcase_add_test(tc, test_args_stop_at_positional);
	tcase_add_test(tc, test_args_int_range);
	suite_add_tcase(s, tc);
	return s;
}
