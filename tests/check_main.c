/*
 * check_main.c: run every suite. The shared fixture: a fresh sandbox for
 * HOME and LEPTON_HOME, no LEPTON_* or cloud credentials from the caller,
 * TZ=UTC and LC_ALL=C.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/fs.h"
#include "../lib/provider.h"
#include "../lib/util.h"

extern char **environ;

static char	 sandbox[] = "/tmp/lepton-check-XXXXXX";

const char *
test_sandbox(void)
{
	return sandbox;
}

static char	**listed;
static size_t	  nlisted;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
free_listed(void)
{
	while (nlisted > 0)
		free(listed[--nlisted]);
	free(listed);
}

size_t
test_list(char **out, size_t max, const char *dir, const char *suffix)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	if (listed == NULL)
		atexit(free_listed);
	while ((de = readdir(d)) != NULL && n < max) {
		if (!lep_ends_with(de->d_name, suffix))
			continue;
		out[n] = xasprintf("%s/%s", dir, de->d_name);
		listed = xreallocarray(listed, nlisted + 1, sizeof(*listed));
		listed[nlisted++] = out[n++];
	}
	closedir(d);
	if (n > 1)
		qsort(out, n, sizeof(*out), cmp_str);
	return n;
}

const char *
test_lepton(void)
{
	const char	*p = getenv("LEPTON");

	return p != NULL && *p != '\0' ? p : "./lepton";
}

char *
test_slurp(const char *path, size_t *len_out)
{
	struct lep_buf	 b;

	if (lep_read_file(&b, path, 64 << 20) != NULL) {
		lep_buf_release(&b);
		return NULL;
	}
	return lep_buf_detach(&b, len_out);
}

void
test_write(const char *path, const char *text, int mode)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_msg(fd != -1, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, (mode_t)mode);
	close(fd);
}

int
test_run(char *const argv[], const char *in, char **out, char **err)
{
	struct lep_buf	 ob = LEP_BUF_INIT, eb = LEP_BUF_INIT;
	struct pollfd	 pfd[2];
	char		 chunk[4096];
	int		 po[2], pe[2], pi[2], status, open_n = 2;
	pid_t		 pid;
	ssize_t		 n;

	ck_assert(pipe(po) == 0 && pipe(pe) == 0 && pipe(pi) == 0);
	pid = fork();
	ck_assert(pid != -1);
	if (pid == 0) {
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(pi[1]);
		close(po[0]);
		close(pe[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	if (in != NULL)
		(void)!write(pi[1], in, strlen(in));
	close(pi[1]);
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_n > 0) {
		if (poll(pfd, 2, -1) == -1 && errno == EINTR)
			continue;
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, chunk, sizeof(chunk));
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_n--;
				continue;
			}
			lep_buf_addn(i == 0 ? &ob : &eb, chunk, (size_t)n);
		}
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	*out = lep_buf_detach(&ob, NULL);
	*err = lep_buf_detach(&eb, NULL);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int
test_word_in(const char *list, const char *word)
{
	size_t	 n = strlen(word);
	const char *p;

	for (p = list; p != NULL && (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == ','))
			return 1;
	return 0;
}

static void
clean_environment(void)
{
	static const char *const drop[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_PROFILE",
		"GOOGLE_APPLICATION_CREDENTIALS", "AZURE_CLIENT_SECRET",
		"KUBECONFIG", "SLURM_JWT", "SLURMRESTD_URL", "SLURMRESTD_USER",
		"XDG_DATA_HOME", "DOCKER_HOST", "CLOUDSDK_CONFIG",
		"GOOGLE_CLOUD_PROJECT",
		"CLOUDSDK_CORE_PROJECT",
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM",
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING",
		"STORAGE_EMULATOR_HOST",
	};
	char	**e, *name;
	const char *keep;
	size_t	 i;

	for (;;) {
		for (e = environ; *e != NULL; e++)
			if (strncmp(*e, "LEPTON_", 7) == 0 &&
			    strncmp(*e, "LEPTON=", 7) != 0)
				break;
		if (*e == NULL)
			break;
		name = xstrndup(*e, strcspn(*e, "="));
		unsetenv(name);
		free(name);
	}
	/*
	 * LEP_TEST_KEEP_ENV names credentials of an engine the suite started
	 * itself (tests/e2e/slurm.sh runs the contract suite so).
	 */
	keep = getenv("LEP_TEST_KEEP_ENV");
	for (i = 0; i < LEP_ARRAY_SIZE(drop); i++)
		if (!test_word_in(keep, drop[i]))
			unsetenv(drop[i]);
	setenv("TZ", "UTC", 1);
	setenv("LC_ALL", "C", 1);
	/* No test leaves loopback: not even gcp's metadata server probe
	   (nothing listens on the discard port). */
	setenv("GCE_METADATA_HOST", "127.0.0.1:9", 1);
	setenv("HOME", sandbox, 1);
}

int
main(int argc, char **argv)
{
	SRunner	*sr;
	char	*home;
	int	 failed, rc;

	/*
	 * The local provider runs its supervisors and job runners as this
	 * very binary (/proc/self/exe): the contract suite needs them.
	 */
	lep_provider_init();
	if (lep_provider_main(&rc, argc, argv))
		return rc;

	if (mkdtemp(sandbox) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	clean_environment();
	home = xasprintf("%s/home", sandbox);
	setenv("LEPTON_HOME", home, 1);
	free(home);
	sr = srunner_create(suite_util());
	srunner_add_suite(sr, suite_args());
	srunner_add_suite(sr, suite_json());
	srunner_add_suite(sr, suite_error());
	srunner_add_suite(sr, suite_spec());
	srunner_add_suite(sr, suite_fs());
	srunner_add_suite(sr, suite_local());
	srunner_add_suite(sr, suite_cmd());
	srunner_add_suite(sr, suite_catalog());
	srunner_add_suite(sr, suite_plan());
	srunner_add_suite(sr, suite_registry());
	srunner_add_suite(sr, suite_slurm());
	srunner_add_suite(sr, suite_http());
	srunner_add_suite(sr, suite_contract());
	srunner_add_suite(sr, suite_crypto());
	srunner_add_suite(sr, suite_secret());
	srunner_add_suite(sr, suite_sigv4());
	srunner_add_suite(sr, suite_failover());
	srunner_add_suite(sr, suite_aws());
	srunner_add_suite(sr, suite_gcp());
	srunner_add_suite(sr, suite_kube());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	lep_remove_tree(sandbox);
	return failed == 0 ? 0 : 1;
}
