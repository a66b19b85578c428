/*
 * check_secret.c: the sealed secret store: round trip, what must not
 * open (a changed, renamed or foreign-keyed file), the key and store
 * refused when others may use them, names and values refused.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/creds.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/secret.h"
#include "../lib/util.h"

#define KEY1	"00112233445566778899aabbccddeeff" \
		"00112233445566778899aabbccddeeff"
#define KEY2	"ffeeddccbbaa99887766554433221100" \
		"ffeeddccbbaa99887766554433221100"

/* A fresh home for one test (tests share the run's sandbox). */
static char *
fresh_home(const char *tag)
{
	return xasprintf("%s/secret-%s", test_sandbox(), tag);
}

static mode_t
mode_of(const char *path)
{
	struct stat	 st;

	ck_assert_msg(stat(path, &st) == 0, "no %s", path);
	return st.st_mode & 0777;
}

static void
expect_err(const struct lep_err *err, enum lep_code code, const char *msg)
{
	ck_assert_msg(err != NULL, "no error, want '%s'", msg);
	ck_assert_msg(err->code == code, "code %d, want %d: %s", err->code,
	    code, err->msg);
	ck_assert_msg(strstr(err->msg, msg) != NULL, "'%s' lacks '%s'",
	    err->msg, msg);
}

START_TEST(test_secret_set_get_round_trip)
{
	const char		*v = "hf_abcdefghijklmnop\nsecond line";
	struct lep_secret_info	*list;
	char			*home = fresh_home("round"), *p, *got, *raw;
	size_t			 n, rawlen;
	int			 made;

	ck_assert_ptr_null(lep_secret_set(&made, home, "HF_TOKEN", v,
	    strlen(v)));
	ck_assert_int_eq(made, 1);
	ck_assert_ptr_null(lep_secret_get(&got, home, "HF_TOKEN"));
	ck_assert_str_eq(got, v);
	lep_secret_free(got);
	/* The second set reuses the key and replaces the value. */
	ck_assert_ptr_null(lep_secret_set(&made, home, "HF_TOKEN", "v2", 2));
	ck_assert_int_eq(made, 0);
	ck_assert_ptr_null(lep_secret_get(&got, home, "HF_TOKEN"));
	ck_assert_str_eq(got, "v2");
	lep_secret_free(got);
	ck_assert_ptr_null(lep_secret_set(NULL, home, "A_B", v, strlen(v)));
	/* Sealed: the value is not in the file. */
	p = xasprintf("%s/secrets/A_B", home);
	raw = test_slurp(p, &rawlen);
	ck_assert_ptr_nonnull(raw);
	ck_assert_uint_eq(rawlen, 16 + 12 + strlen(v) + 16);
	ck_assert_mem_eq(raw, "LEPSEC\001", 7);
	ck_assert_ptr_null(memmem(raw, rawlen, "hf_abc", 6));
	ck_assert_int_eq(mode_of(p), 0600);
	free(raw);
	free(p);
	ck_assert_ptr_null(lep_secret_list(&list, &n, home));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].name, "A_B");
	ck_assert_str_eq(list[1].name, "HF_TOKEN");
	ck_assert(list[0].set <= (long long)time(NULL) &&
	    list[0].set > (long long)time(NULL) - 60);
	lep_secret_list_free(list, n);
	free(home);
}
END_TEST

/* With umask 000 the store is 0700 and its files 0600 all the same. */
START_TEST(test_secret_umask_000_still_private)
{
	char	*home = fresh_home("umask"), *p;
	mode_t	 old = umask(0);

	ck_assert_ptr_null(lep_secret_set(NULL, home, "X", "y", 1));
	umask(old);
	p = xasprintf("%s/secrets", home);
	ck_assert_int_eq(mode_of(p), 0700);
	free(p);
	p = xasprintf("%s/secrets/X", home);
	ck_assert_int_eq(mode_of(p), 0600);
	free(p);
	p = lep_secret_key_path(home);
	ck_assert_int_eq(mode_of(p), 0600);
	free(p);
	free(home);
}
END_TEST

/* Flip one byte of the ciphertext, the tag or the header's time. */
START_TEST(test_secret_tampered_file_does_not_open)
{
	static const long	 at[] = { 16 + 12 + 2, -1, 10 };
	char			*home = fresh_home("tamper"), *p, *got;
	unsigned char		 c;
	off_t			 off;
	int			 fd;

	ck_assert_ptr_null(lep_secret_set(NULL, home, "TOK", "value!", 6));
	p = xasprintf("%s/secrets/TOK", home);
	fd = open(p, O_RDWR);
	ck_assert_int_ne(fd, -1);
	off = at[_i] >= 0 ? at[_i] : lseek(fd, 0, SEEK_END) + at[_i];
	ck_assert_int_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x20;
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
	expect_err(lep_secret_get(&got, home, "TOK"), LEP_E_AUTH,
	    "secret 'TOK' does not open");
	ck_assert_ptr_null(got);
	free(p);
	free(home);
}
END_TEST

/* The name is associated data: a file moved to another name fails. */
START_TEST(test_secret_renamed_file_does_not_open)
{
	char	*home = fresh_home("rename"), *a, *b, *got;

	ck_assert_ptr_null(lep_secret_set(NULL, home, "ALPHA", "aaa", 3));
	a = xasprintf("%s/secrets/ALPHA", home);
	b = xasprintf("%s/secrets/BRAVO", home);
	ck_assert_int_eq(rename(a, b), 0);
	expect_err(lep_secret_get(&got, home, "BRAVO"), LEP_E_AUTH,
	    "secret 'BRAVO' does not open");
	expect_err(lep_secret_get(&got, home, "ALPHA"), LEP_E_NOT_FOUND,
	    "no secret named 'ALPHA'");
	free(a);
	free(b);
	free(home);
}
END_TEST

START_TEST(test_secret_wrong_key_does_not_open)
{
	const struct lep_err	*err;
	char			*home = fresh_home("key"), *got, *key;

	setenv("LEPTON_SECRET_KEY", KEY1 "\n", 1);
	ck_assert_ptr_null(lep_secret_set(NULL, home, "TOK", "abc", 3));
	key = lep_secret_key_path(home);
	ck_assert_int_eq(access(key, F_OK), -1);	/* none made */
	free(key);
	ck_assert_ptr_null(lep_secret_get(&got, home, "TOK"));
	ck_assert_str_eq(got, "abc");
	lep_secret_free(got);
	setenv("LEPTON_SECRET_KEY", KEY2, 1);
	err = lep_secret_get(&got, home, "TOK");
	expect_err(err, LEP_E_AUTH, "secret 'TOK' does not open");
	ck_assert_ptr_nonnull(strstr(err->hint, "LEPTON_SECRET_KEY"));
	/* Not a key: refused, and never echoed. */
	setenv("LEPTON_SECRET_KEY", "00112233zz", 1);
	err = lep_secret_get(&got, home, "TOK");
	expect_err(err, LEP_E_AUTH, "LEPTON_SECRET_KEY is not a key");
	ck_assert_ptr_null(strstr(err->msg, "00112233zz"));
	/* No variable and no key file: the key is missing. */
	unsetenv("LEPTON_SECRET_KEY");
	expect_err(lep_secret_get(&got, home, "TOK"), LEP_E_AUTH,
	    "key '");
	free(home);
}
END_TEST

START_TEST(test_secret_key_file_refused_when_others_may_read)
{
	const struct lep_err	*err;
	char			*home = fresh_home("keymode"), *key, *got;

	ck_assert_ptr_null(lep_secret_set(NULL, home, "TOK", "abc", 3));
	key = lep_secret_key_path(home);
	chmod(key, 0640);
	err = lep_secret_get(&got, home, "TOK");
	expect_err(err, LEP_E_AUTH, "others may read it");
	ck_assert_ptr_nonnull(strstr(err->hint, "chmod 600"));
	expect_err(lep_secret_set(NULL, home, "TOK", "x", 1), LEP_E_AUTH,
	    "others may read it");
	chmod(key, 0620);
	expect_err(lep_secret_get(&got, home, "TOK"), LEP_E_AUTH,
	    "others may change it");
	chmod(key, 0600);
	ck_assert_ptr_null(lep_secret_get(&got, home, "TOK"));
	lep_secret_free(got);
	/* Not 32 bytes: not a key. */
	test_write(key, "short", 0600);
	expect_err(lep_secret_get(&got, home, "TOK"), LEP_E_AUTH,
	    "is not a secret key");
	free(key);
	free(home);
}
END_TEST

START_TEST(test_secret_store_refused_when_others_may_use_it)
{
	struct lep_secret_info	*list;
	const struct lep_err	*err;
	char			*home = fresh_home("dirmode"), *dir, *got;
	size_t			 n;

	ck_assert_ptr_null(lep_secret_set(NULL, home, "TOK", "abc", 3));
	dir = xasprintf("%s/secrets", home);
	chmod(dir, 0755);
	err = lep_secret_get(&got, home, "TOK");
	expect_err(err, LEP_E_AUTH, "others may list it");
	ck_assert_ptr_nonnull(strstr(err->hint, "chmod 700"));
	expect_err(lep_secret_list(&list, &n, home), LEP_E_AUTH,
	    "others may list it");
	expect_err(lep_secret_set(NULL, home, "NEW", "x", 1), LEP_E_AUTH,
	    "others may list it");
	chmod(dir, 0700);
	ck_assert_ptr_null(lep_secret_list(&list, &n, home));
	ck_assert_uint_eq(n, 1);
	lep_secret_list_free(list, n);
	free(dir);
	free(home);
}
END_TEST

static const struct {
	const char	*name;
	size_t		 len;		/* of a value of 'v's; 0: empty */
	int		 nul;		/* a NUL byte in the middle */
	const char	*msg;
} refused[] = {
	{ "1ABC", 1, 0, "'1ABC' is not a secret name" },
	{ "A-B", 1, 0, "'A-B' is not a secret name" },
	{ "../x", 1, 0, "'../x' is not a secret name" },
	{ "", 1, 0, "'' is not a secret name" },
	{ "LEPTON_TOKEN", 1, 0, "'LEPTON_TOKEN' is not a secret name" },
	{ "OK", 0, 0, "the value of 'OK' is empty" },
	{ "OK", LEP_SECRET_MAX + 1, 0, "is larger than 65536 bytes" },
	{ "OK", 8, 1, "holds a NUL byte" },
};

START_TEST(test_secret_refuses_bad_names_and_values)
{
	char	*home = fresh_home("refused"), *v;
	size_t	 len = refused[_i].len;

	v = xmalloc(len + 1);
	memset(v, 'v', len);
	v[len] = '\0';
	if (refused[_i].nul)
		v[len / 2] = '\0';
	expect_err(lep_secret_set(NULL, home, refused[_i].name, v, len),
	    LEP_E_USAGE, refused[_i].msg);
	ck_assert_int_eq(access(home, F_OK), -1);	/* nothing made */
	free(v);
	free(home);
}
END_TEST

START_TEST(test_secret_largest_value_round_trips)
{
	char	*home = fresh_home("large"), *v, *got;

	v = xmalloc(LEP_SECRET_MAX + 1);
	memset(v, 'z', LEP_SECRET_MAX);
	v[LEP_SECRET_MAX] = '\0';
	ck_assert_ptr_null(lep_secret_set(NULL, home, "BIG", v,
	    LEP_SECRET_MAX));
	ck_assert_ptr_null(lep_secret_get(&got, home, "BIG"));
	ck_assert_str_eq(got, v);
	lep_secret_free(got);
	free(v);
	free(home);
}
END_TEST

START_TEST(test_secret_remove_and_unknown_names)
{
	struct lep_secret_info	*list;
	char			*home = fresh_home("rm"), *got;
	size_t			 n;

	/* No store yet: an empty list, not found for the rest. */
	ck_assert_ptr_null(lep_secret_list(&list, &n, home));
	ck_assert_uint_eq(n, 0);
	expect_err(lep_secret_remove(home, "NOPE"), LEP_E_NOT_FOUND,
	    "no secret named 'NOPE'");
	expect_err(lep_secret_get(&got, home, "NOPE"), LEP_E_NOT_FOUND,
	    "no secret named 'NOPE'");
	ck_assert_ptr_null(lep_secret_set(NULL, home, "TOK", "abc", 3));
	expect_err(lep_secret_remove(home, "NOPE"), LEP_E_NOT_FOUND,
	    "no secret named 'NOPE'");
	ck_assert_ptr_null(lep_secret_remove(home, "TOK"));
	expect_err(lep_secret_get(&got, home, "TOK"), LEP_E_NOT_FOUND,
	    "no secret named 'TOK'");
	ck_assert_ptr_null(lep_secret_list(&list, &n, home));
	ck_assert_uint_eq(n, 0);
	lep_secret_list_free(list, n);
	free(home);
}
END_TEST

/* A spec's secret: the environment (not empty) wins, else the store. */
START_TEST(test_secret_env_overrides_store)
{
	const char *const	 names[] = { "LEP_TEST_SECRET" };
	const struct lep_err	*err;
	struct lep_json		*env;
	char			*home = fresh_home("precedence");

	ck_assert_ptr_null(lep_secret_set(NULL, home, "LEP_TEST_SECRET",
	    "from-store", 10));
	setenv("LEP_TEST_SECRET", "from-env", 1);
	ck_assert_ptr_null(lep_creds_secret_env(&env, home, names, 1,
	    "deploy"));
	ck_assert_str_eq(lep_json_get_str(env, "LEP_TEST_SECRET"),
	    "from-env");
	lep_json_free_wiped(env);
	setenv("LEP_TEST_SECRET", "", 1);
	ck_assert_ptr_null(lep_creds_secret_env(&env, home, names, 1,
	    "deploy"));
	ck_assert_str_eq(lep_json_get_str(env, "LEP_TEST_SECRET"),
	    "from-store");
	lep_json_free_wiped(env);
	unsetenv("LEP_TEST_SECRET");
	ck_assert_ptr_null(lep_creds_secret_env(&env, home, names, 1,
	    "train"));
	ck_assert_str_eq(lep_json_get_str(env, "LEP_TEST_SECRET"),
	    "from-store");
	lep_json_free_wiped(env);
	/* In neither: AUTH, and the hint says both ways to set it. */
	ck_assert_ptr_null(lep_secret_remove(home, "LEP_TEST_SECRET"));
	err = lep_creds_secret_env(&env, home, names, 1, "deploy");
	expect_err(err, LEP_E_AUTH, "secret 'LEP_TEST_SECRET' is not set in "
	    "the environment nor in the secret store");
	ck_assert_ptr_nonnull(strstr(err->hint,
	    "lepton secret set LEP_TEST_SECRET"));
	ck_assert_ptr_nonnull(strstr(err->hint, "'lepton deploy'"));
	ck_assert_ptr_null(env);
	free(home);
}
END_TEST

/* A stored secret that does not open stops the deploy, naming it. */
START_TEST(test_secret_env_reports_a_store_that_refuses)
{
	const char *const	 names[] = { "OK_ONE", "BAD_ONE" };
	struct lep_json		*env;
	char			*home = fresh_home("refuses"), *a, *b;

	ck_assert_ptr_null(lep_secret_set(NULL, home, "OK_ONE", "1", 1));
	ck_assert_ptr_null(lep_secret_set(NULL, home, "OTHER", "2", 1));
	a = xasprintf("%s/secrets/OTHER", home);
	b = xasprintf("%s/secrets/BAD_ONE", home);
	ck_assert_int_eq(rename(a, b), 0);
	expect_err(lep_creds_secret_env(&env, home, names, 2, "deploy"),
	    LEP_E_AUTH, "secret 'BAD_ONE' does not open");
	ck_assert_ptr_null(env);
	free(a);
	free(b);
	free(home);
}
END_TEST

Suite *
suite_secret(void)
{
	Suite	*s = suite_create("secret");
	TCase	*tc = tcase_create("secret");

	tcase_add_test(tc, test_secret_set_get_round_trip);
	tcase_add_test(tc, test_secret_umask_000_still_private);
	tcase_add_loop_test(tc, test_secret_tampered_file_does_not_open, 0,
	    3);
	tcase_add_test(tc, test_secret_renamed_file_does_not_open);
	tcase_add_test(tc, test_secret_wrong_key_does_not_open);
	tcase_add_test(tc, test_secret_key_file_refused_when_others_may_read);
	tcase_add_test(tc, test_secret_store_refused_when_others_may_use_it);
	tcase_add_loop_test(tc, test_secret_refuses_bad_names_and_values, 0,
	    (int)LEP_ARRAY_SIZE(refused));
	tcase_add_test(tc, test_secret_largest_value_round_trips);
	tcase_add_test(tc, test_secret_remove_and_unknown_names);
	tcase_add_test(tc, test_secret_env_overrides_store);
	tcase_add_test(tc, test_secret_env_reports_a_store_that_refuses);
	suite_add_tcase(s, tc);
	return s;
}
