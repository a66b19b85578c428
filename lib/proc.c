/*
 * proc.c: /proc start times, capture of a helper's output, loopback ports.
 */
#include "proc.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "util.h"

unsigned long long
lep_proc_start_time(long pid)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 start = 0;
	ssize_t			 n;
	int			 fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and ')': skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	p++;
	/* Field 3 is the state; zombies count as gone. */
	if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
		return 0;
	for (field = 2; field < 22 && *p; p++)
		if (*p == ' ')
			field++;
	if (field == 22)
		start = strtoull(p, NULL, 10);
	return start;
}

/* Field 5 of /proc/PID/stat, the process group; 0 gone or a zombie. */
static long
proc_pgrp(long pid)
{
	char	 path[64], buf[1024], *p;
	ssize_t	 n;
	int	 fd;
	long	 pgrp = 0;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == 'Z' ||
	    p[2] == 'X')
		return 0;
	/* ") S PPID PGRP ..." */
	if (sscanf(p + 2, "%*c %*d %ld", &pgrp) != 1)
		return 0;
	return pgrp;
}

int
lep_proc_group_alive(long pgid, unsigned long long start)
{
	struct dirent	*de;
	DIR		*d;
	long		 pid;
	int		 found = 0;

	if (pgid <= 0)
		return 0;
	/* A live leader is ours only if it is the one that started then. */
	if (lep_proc_start_time(pgid) != 0)
		return lep_proc_alive(pgid, start);
	/*
	 * The leader is gone. Linux never hands out a PID still in use as a
	 * process group, so members of group pgid are what it left.
	 */
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = strtol(de->d_name, NULL, 10);
		found = proc_pgrp(pid) == pgid;
	}
	closedir(d);
	return found;
}

long
lep_proc_only_child(long pid)
{
	char	 path[64], buf[256];
	ssize_t	 n;
	long	 child;
	int	 fd, used = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", pid, pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %n", &child, &used) != 1 || buf[used] != '\0')
		return 0;
	return child;
}

int
lep_proc_alive(long pid, unsigned long long start)
{
	unsigned long long	 now;

	if (pid <= 0)
		return 0;
	now = lep_proc_start_time(pid);
	if (now == 0)
		return 0;
	return start == 0 || now == start;
}

const struct lep_err *
lep_proc_capture(struct lep_buf *out, char *const argv[], size_t max,
    long timeout_ms, int *status_out)
{
	return lep_proc_capture_env(out, argv, NULL, 0, max, timeout_ms,
	    status_out);
}

const struct lep_err *
lep_proc_capture_env(struct lep_buf *out, char *const argv[],
    char *const envp[], int keep_stderr, size_t max, long timeout_ms,
    int *status_out)
{
	const struct lep_err	*err = NULL;
	struct pollfd		 pfd;
	long long		 deadline;
	char			 chunk[4096];
	pid_t			 pid;
	ssize_t			 n;
	int			 p[2], status = 0, rc;

	lep_buf_init_max(out, max);
	*status_out = -1;
	if (pipe2(p, O_CLOEXEC) == -1)
		return lep_err_errno(LEP_E_FAILED, "pipe");
	pid = fork();
	if (pid == -1) {
		close(p[0]);
		close(p[1]);
		return lep_err_errno(LEP_E_FAILED, "fork");
	}
	if (pid == 0) {
		int	 devnull = open("/dev/null", O_RDWR);

		dup2(p[1], STDOUT_FILENO);
		if (devnull != -1) {
			dup2(devnull, STDIN_FILENO);
			if (!keep_stderr)
				dup2(devnull, STDERR_FILENO);
		}
		lep_umask_restore();
		if (envp != NULL)
			execvpe(argv[0], argv, envp);
		else
			execvp(argv[0], argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(p[1]);
	deadline = lep_now_ms() + timeout_ms;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		long long	 left = deadline - lep_now_ms();

		if (left <= 0) {
			kill(pid, SIGKILL);
			err = lep_err_new(LEP_E_TIMEOUT, "'%s' did not finish "
			    "within %ld ms", argv[0], timeout_ms);
			break;
		}
		rc = poll(&pfd, 1, (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		n = read(p[0], chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (lep_buf_addn(out, chunk, (size_t)n) == -1) {
			kill(pid, SIGKILL);
			err = lep_err_new(LEP_E_FAILED, "'%s' printed more "
			    "than %zu bytes", argv[0], max);
			break;
		}
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (err != NULL)
		return err;
	if (WIFEXITED(status))
		*status_out = WEXITSTATUS(status);
	else
		*status_out = 128 + WTERMSIG(status);
	if (*status_out == 127)
		return lep_err_new(LEP_E_NOT_FOUND, "'%s': command not found",
		    argv[0]);
	return NULL;
}

int
lep_free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, port = -1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

int
lep_port_listening(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	close(fd);
	return rc == 0;
}
