/*
 * check_error.c: the exit code table is stable, unique, and documented in
 * lepton(1) under EXIT STATUS.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_lepton.h"
#include "../lib/error.h"
#include "../lib/util.h"

START_TEST(test_error_codes_are_unique)
{
	const struct lep_err_info	*t;
	size_t				 n, i, k;

	t = lep_err_table(&n);
	ck_assert_uint_ge(n, 12);
	for (i = 0; i < n; i++) {
		ck_assert_int_ne(t[i].exit, 0);
		for (k = i + 1; k < n; k++) {
			ck_assert_int_ne(t[i].exit, t[k].exit);
			ck_assert_str_ne(t[i].name, t[k].name);
		}
	}
}
END_TEST

/* The numbers scripts depend on: never to change. */
/* Every code of the enum has its row: none falls back to another. */
START_TEST(test_error_every_code_has_a_row)
{
	int	 c;

	for (c = LEP_E_FAILED; c < LEP_E__COUNT; c++)
		ck_assert_int_eq(lep_err_info((enum lep_code)c)->code, c);
}
END_TEST

/* A code without a row stops a debug build (assert), never exits 1. */
START_TEST(test_error_unknown_code_aborts)
{
	(void)lep_err_info(LEP_E__COUNT);
}
END_TEST

START_TEST(test_error_codes_are_stable)
{
	ck_assert_int_eq(lep_err_info(LEP_E_USAGE)->exit, 2);
	ck_assert_int_eq(lep_err_info(LEP_E_SPEC)->exit, 3);
	ck_assert_int_eq(lep_err_info(LEP_E_NOT_FOUND)->exit, 5);
	ck_assert_int_eq(lep_err_info(LEP_E_TIMEOUT)->exit, 8);
	ck_assert_int_eq(lep_err_info(LEP_E_UNSUPPORTED)->exit, 9);
	ck_assert_int_eq(lep_err_info(LEP_E_NOT_RUNNING)->exit, 11);
	ck_assert_int_eq(lep_err_info(LEP_E_CAPACITY)->exit, 16);
	ck_assert_str_eq(lep_err_info(LEP_E_CAPACITY)->name, "capacity");
	ck_assert_int_eq(lep_err_info(LEP_E_INTERNAL)->exit, 70);
	ck_assert_int_eq(lep_err_info(LEP_E_INTERRUPTED)->exit, 130);
	ck_assert_int_eq(lep_err_exit(NULL), 0);
}
END_TEST

START_TEST(test_error_codes_in_man_page)
{
	const struct lep_err_info	*t;
	size_t				 n, i;
	char				*man, want[64];

	man = test_slurp("man/lepton.1", NULL);
	ck_assert_ptr_nonnull(man);
	ck_assert_ptr_nonnull(strstr(man, ".SH EXIT STATUS"));
	t = lep_err_table(&n);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), ".IP \"%d %s\"", t[i].exit,
		    t[i].name);
		ck_assert_msg(strstr(man, want) != NULL,
		    "man/lepton.1 lacks %s", want);
	}
	free(man);
}
END_TEST

START_TEST(test_error_ring_keeps_recent_errors)
{
	const struct lep_err	*a, *b;

	a = lep_err_new(LEP_E_SPEC, "first %d", 1);
	b = lep_err_hint(lep_err_new(LEP_E_AUTH, "second"), "try %s", "x");
	ck_assert_str_eq(a->msg, "first 1");
	ck_assert_int_eq(a->code, LEP_E_SPEC);
	ck_assert_str_eq(b->hint, "try x");
	ck_assert_int_eq(lep_err_exit(b), 4);
}
END_TEST

Suite *
suite_error(void)
{
	Suite	*s = suite_create("error");
	TCase	*tc = tcase_create("error");

	tcase_add_test(tc, test_error_codes_are_unique);
	tcase_add_test(tc, test_error_codes_are_stable);
	tcase_add_test(tc, test_error_every_code_has_a_row);
#ifndef NDEBUG
	/* It aborts: only where each test has a process of its own. */
	if (!lep_streq(getenv("CK_FORK"), "no"))
		tcase_add_test_raise_signal(tc, test_error_unknown_code_aborts,
		    SIGABRT);
#endif
	tcase_add_test(tc, test_error_codes_in_man_page);
	tcase_add_test(tc, test_error_ring_keeps_recent_errors);
	suite_add_tcase(s, tc);
	return s;
}
