/*
 * local-env.c: how the local provider starts a process: its environment
 * and its process group, for replicas (local-super.c) and jobs
 * (local-job.c) alike.
 */
#include "provider.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local-priv.h"
#include "../lib/crypto.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/spec.h"
#include "../lib/util.h"

extern char **environ;

const struct local_runtime local_processes = {
	.name = "local",
	.super_argv1 = LEP_SUPERVISOR_ARGV1,
	.job_argv1 = LEP_JOB_ARGV1,
};

pid_t
local_rt_spawn(const struct local_runtime *rt,
    const struct local_spawn_req *req)
{
	if (rt->spawn != NULL)
		return rt->spawn(req);
	return local_spawn(req->dir, req->cmd, req->log, req->env);
}

const struct lep_err *
local_read_json(struct lep_json **out, const char *path)
{
	return lep_read_json(out, path, LEP_DRIVER_FILE_MAX);
}

unsigned long long
local_json_ull(const struct lep_json *j, const char *key)
{
	struct lep_json	*v = lep_json_get(j, key);

	return lep_json_type(v) == LEP_JSON_NUMBER ?
	    (unsigned long long)lep_json_number(v) : 0;
}

const struct lep_err *
local_save_spec(struct lep_json **meta_out, const char *path,
    const struct lep_spec *sp, const char *model_dir)
{
	const struct lep_err	*err;
	struct lep_json		*spec = lep_spec_to_json(sp);

	*meta_out = NULL;
	err = lep_write_json(path, spec, 0600);
	lep_json_free(spec);
	if (err != NULL)
		return err;
	*meta_out = lep_json_obj();
	lep_json_set_str(*meta_out, "dir", sp->dir);
	lep_json_set_str(*meta_out, "spec_file", sp->file);
	if (model_dir != NULL)
		lep_json_set_str(*meta_out, "model_dir", model_dir);
	return NULL;
}

char *
local_gpu_list(int first, int n)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	int		 g;

	lep_buf_add(&b, "");
	for (g = 0; g < n; g++)
		lep_buf_addf(&b, "%s%d", g ? "," : "", first + g);
	return lep_buf_detach(&b, NULL);
}

static int
env_overridden(const char *entry, const struct lep_spec *sp, int has_cuda)
{
	size_t	 i, n = strcspn(entry, "=");

	if (strncmp(entry, "LEPTON_", 7) == 0)
		return 1;
	if (has_cuda && n == 20 && strncmp(entry, "CUDA_VISIBLE_DEVICES",
	    20) == 0)
		return 1;
	for (i = 0; i < sp->nenv; i++)
		if (strlen(sp->env[i].key) == n &&
		    strncmp(entry, sp->env[i].key, n) == 0)
			return 1;
	for (i = 0; i < sp->nsecrets; i++)
		if (strlen(sp->secrets[i]) == n &&
		    strncmp(entry, sp->secrets[i], n) == 0)
			return 1;
	return 0;
}

char **
local_env_build(const struct lep_spec *sp, const struct lep_json *secret_env,
    const char *const *extra, const char *cuda)
{
	char		**env;
	size_t		  n = 0, cap, i;
	const char	 *val;

	for (i = 0; environ[i] != NULL; i++)
		;
	cap = i + sp->nenv + sp->nsecrets + 2;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		cap++;
	env = xcalloc(cap, sizeof(char *));
	for (i = 0; environ[i] != NULL; i++)
		if (!env_overridden(environ[i], sp, cuda != NULL))
			env[n++] = xstrdup(environ[i]);
	for (i = 0; i < sp->nenv; i++)
		env[n++] = xasprintf("%s=%s", sp->env[i].key,
		    sp->env[i].value);
	for (i = 0; i < sp->nsecrets; i++)
		if ((val = lep_json_get_str(secret_env, sp->secrets[i])) !=
		    NULL)
			env[n++] = xasprintf("%s=%s", sp->secrets[i], val);
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		env[n++] = xstrdup(extra[i]);
	if (cuda != NULL)
		env[n++] = xasprintf("CUDA_VISIBLE_DEVICES=%s", cuda);
	env[n] = NULL;
	return env;
}

void
local_env_free(char **env)
{
	size_t	 i;

	for (i = 0; env != NULL && env[i] != NULL; i++) {
		lep_wipe(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
}

int
local_self_exe(char *out, size_t len)
{
	ssize_t	 n;

	/* Resolved here: a tool such as valgrind fakes only the readlink. */
	n = readlink("/proc/self/exe", out, len - 1);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	/*
	 * Replaced since this process started (an upgrade, a rebuild): the
	 * binary it runs is still there by /proc.
	 */
	if (n > 10 && strcmp(out + n - 10, " (deleted)") == 0)
		lep_strlcpy(out, "/proc/self/exe", len);
	return 0;
}

pid_t
local_spawn_argv(const char *dir, const char *path, char *const argv[],
    const char *logpath, char **env)
{
	pid_t	 pid;
	int	 logfd, devnull, saved;

	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd == -1)
		return -1;
	pid = fork();
	if (pid == 0) {
		sigset_t	 none;

		setpgid(0, 0);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (chdir(dir) == -1)
			_exit(126);
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		/* The user's process writes files with the user's umask. */
		lep_umask_restore();
		execve(path, argv, env);
		_exit(127);
	}
	saved = errno;
	if (pid > 0)
		setpgid(pid, pid);
	close(logfd);
	errno = saved;
	return pid;
}

pid_t
local_spawn(const char *dir, const char *cmd, const char *logpath,
    char **env)
{
	char	*argv[4];

	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)cmd;
	argv[3] = NULL;
	return local_spawn_argv(dir, "/bin/sh", argv, logpath, env);
}
