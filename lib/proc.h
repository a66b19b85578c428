/*
 * proc.h: processes by PID without trusting a PID alone (the kernel reuses
 * them: we keep the start time too), running a helper and capturing its
 * output, and free loopback ports.
 */
#ifndef LEPTON_LIB_PROC_H
#define LEPTON_LIB_PROC_H

#include <sys/types.h>

struct lep_buf;
struct lep_err;

/* The process's start time in clock ticks since boot; 0 when gone. */
unsigned long long lep_proc_start_time(long pid);
/* Alive and, when start is not 0, the same process we started. */
int	 lep_proc_alive(long pid, unsigned long long start);
/*
 * Does process group pgid, whose leader started at start (0: any), still
 * have members? A leader that died leaves its group behind while any
 * member lives: a replica's server after its sh -c wrapper was killed.
 */
int	 lep_proc_group_alive(long pgid, unsigned long long start);
/* pid's only child (the server a sh -c wrapper runs), else 0. */
long	 lep_proc_only_child(long pid);

/*
 * Run argv (no shell), capture at most max bytes of stdout into out
 * (initialised here), wait at most timeout_ms. *status_out gets the exit
 * status (or 128+signal). Errors: NOT_FOUND (no such program), TIMEOUT,
 * FAILED.
 */
const struct lep_err *lep_proc_capture(struct lep_buf *out,
	    char *const argv[], size_t max, long timeout_ms, int *status_out);
/*
 * The same with the environment envp (NULL: lepton's own) and, when
 * keep_stderr, the child's stderr left on lepton's (a credential plugin
 * talks to its user there, as under kubectl).
 */
const struct lep_err *lep_proc_capture_env(struct lep_buf *out,
	    char *const argv[], char *const envp[], int keep_stderr,
	    size_t max, long timeout_ms, int *status_out);

/* A port on 127.0.0.1 nobody listens on now, or -1. */
int	 lep_free_port(void);
/* Is something listening on 127.0.0.1:port? */
int	 lep_port_listening(int port);

#endif
