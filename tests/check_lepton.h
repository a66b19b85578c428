/*
 * check_lepton.h: the suites check_main.c runs, and helpers they share.
 */
#ifndef LEPTON_TESTS_CHECK_LEPTON_H
#define LEPTON_TESTS_CHECK_LEPTON_H

#include <check.h>
#include <stddef.h>

Suite	*suite_util(void);
Suite	*suite_args(void);
Suite	*suite_json(void);
Suite	*suite_error(void);
Suite	*suite_spec(void);
Suite	*suite_fs(void);
Suite	*suite_local(void);
Suite	*suite_cmd(void);
Suite	*suite_catalog(void);
Suite	*suite_plan(void);
Suite	*suite_registry(void);
Suite	*suite_slurm(void);
Suite	*suite_http(void);
Suite	*suite_contract(void);
Suite	*suite_crypto(void);
Suite	*suite_secret(void);
Suite	*suite_sigv4(void);
Suite	*suite_failover(void);
Suite	*suite_aws(void);
Suite	*suite_gcp(void);
Suite	*suite_kube(void);

/* The sandbox made by check_main.c for this run (a fresh temp dir). */
const char *test_sandbox(void);
/* Read a whole file; caller frees. NULL when it cannot. */
char	*test_slurp(const char *path, size_t *len_out);
/* Write a file, creating it with mode. */
void	 test_write(const char *path, const char *text, int mode);
/*
 * Run argv with the given stdin text (or none), capture stdout and stderr
 * (caller frees both). Returns the exit status, 128+N for a signal.
 */
int	 test_run(char *const argv[], const char *in, char **out, char **err);
/*
 * The files in dir whose names end in suffix, as "dir/name", sorted, at
 * most max; freed at exit.
 */
size_t	 test_list(char **out, size_t max, const char *dir, const char *suffix);
/* Is word one of the words (space or comma separated) of list (or NULL)? */
int	 test_word_in(const char *list, const char *word);
/* The lepton binary under test ($LEPTON, else ./lepton). */
const char *test_lepton(void);

#endif
