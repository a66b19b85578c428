/*
 * local-super.c: the local provider's supervisor, one process per
 * deployment (`lepton __supervise HOME NAME`). It owns the deployment's
 * stable endpoint port, whose proxy (local-proxy.c) forwards each TCP
 * connection to a ready replica of the active revision (or the canary).
 * It runs setup once per revision, starts the replicas in their own
 * process groups, probes readiness, restarts crashed replicas with
 * backoff, and on SIGHUP brings up the revision named in `desired` beside
 * the old one, switches new connections to it once every replica is
 * ready, and drains the old one. SIGTERM stops all. It writes what it
 * does to state.json, which `lepton` reads.
 */
#include "provider.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "local-priv.h"
#include "../lib/creds.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/proc.h"
#include "../lib/spec.h"
#include "../lib/util.h"

static const char *const rstate_names[] = {
	"idle", "restarting", "starting", "ready", "exited",
};

static const char *const vphase_names[] = {
	"setup", "starting", "ready", "draining", "stopping", "failed", "gone",
};

struct sup {
	char		*home, *name, *dir, *logdir;
	int		 lfd;
	int		 port;
	struct rev	*revs, *active, *pending;
	struct rev	*canary;	/* ready, takes canary_pct of traffic */
	int		 canary_pct;
	struct local_conn *conns;
	int		 sigfd[2];
	int		 stopping;
	int		 fail_exit;
	char		 failmsg[512];
	int		 last_failed;
	char		 last_failed_msg[512];
	int		 dirty;
	long long	 written_ms;
	char		*token;
	struct lep_json	*secret_env;
	unsigned long long start;
};

static struct sup	 S;

static void
slog(const char *fmt, ...) LEP_PRINTF(1, 2);

static void
slog(const char *fmt, ...)
{
	char	 ts[32], *msg;
	va_list	 ap;

	lep_format_time(ts, sizeof(ts), (long long)time(NULL));
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s %s\n", ts, msg);
	fflush(stderr);
	free(msg);
}

static void
on_signal(int sig)
{
	char	 c = sig == SIGCHLD ? 'C' : sig == SIGHUP ? 'H' : 'T';
	int	 saved = errno;

	(void)!write(S.sigfd[1], &c, 1);
	errno = saved;
}

/* --- files ----------------------------------------------------------- */

static char *
path_of(const char *fmt, ...) LEP_PRINTF(1, 2);

static char *
path_of(const char *fmt, ...)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	va_list		 ap;

	lep_buf_addf(&b, "%s/", S.dir);
	va_start(ap, fmt);
	lep_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return lep_buf_detach(&b, NULL);
}

static int
read_desired(void)
{
	struct lep_buf	 b;
	long long	 n = 0;
	char		*p;

	p = path_of("desired");
	if (lep_read_file(&b, p, 64) == NULL) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		if (lep_parse_ll(&n, b.buf) == -1)
			n = 0;
	}
	lep_buf_release(&b);
	free(p);
	return (int)n;
}

static void
load_secrets(void)
{
	struct lep_json	*j = NULL;
	struct lep_buf	 b;
	const char	*tok;
	char		*p;

	p = path_of("secrets.json");
	if (lep_creds_read_file(&b, p, LEP_CREDS_FILE_MAX) == NULL &&
	    lep_json_parse(&j, b.buf, b.len, p) == NULL) {
		if ((tok = lep_json_get_str(j, "token")) != NULL) {
			if (S.token != NULL) {
				lep_wipe(S.token, strlen(S.token));
				free(S.token);
			}
			S.token = xstrdup(tok);
		}
		lep_json_free(S.secret_env);
		S.secret_env = lep_json_dup(lep_json_get(j, "env") ?
		    lep_json_get(j, "env") : lep_json_obj());
	}
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	lep_json_free(j);
	free(p);
}

static void
rev_free(struct rev *v)
{
	int	 i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nreps; i++) {
		if (v->reps[i].pr.fd != -1)
			close(v->reps[i].pr.fd);
		free(v->reps[i].cuda);
	}
	free(v->reps);
	lep_spec_free(v->spec);
	free(v->model_dir);
	free(v);
}

static struct rev *
rev_load(int num, char *why, size_t whylen)
{
	const struct lep_err	*err;
	struct lep_json		*meta = NULL, *cuda;
	struct lep_buf		 b, mb;
	struct rev		*v = NULL;
	const char		*dir, *md;
	char			*sp, *mp;
	int			 i;

	sp = path_of("rev-%d.json", num);
	mp = path_of("rev-%d.meta.json", num);
	lep_buf_init(&b, 0);
	lep_buf_init(&mb, 0);
	if ((err = lep_read_file(&mb, mp, LEP_FILE_MAX)) != NULL ||
	    (err = lep_json_parse(&meta, mb.buf, mb.len, mp)) != NULL ||
	    (err = lep_read_file(&b, sp, LEP_SPEC_MAX_FILE)) != NULL) {
		lep_strlcpy(why, err->msg, whylen);
		goto done;
	}
	if ((dir = lep_json_get_str(meta, "dir")) == NULL) {
		snprintf(why, whylen, "%s: no 'dir'", mp);
		goto done;
	}
	v = xcalloc(1, sizeof(*v));
	v->num = num;
	v->setup_pid = 0;
	if ((err = lep_spec_parse(&v->spec, sp, dir, b.buf, b.len)) != NULL) {
		lep_strlcpy(why, err->msg, whylen);
		rev_free(v);
		v = NULL;
		goto done;
	}
	if ((md = lep_json_get_str(meta, "model_dir")) != NULL)
		v->model_dir = xstrdup(md);
	{
		long long	 pp = 0;

		(void)lep_json_get_ll(meta, "prefer_port", &pp);
		v->prefer_port = pp > 0 && pp < 65536 ? (int)pp : 0;
	}
	v->nreps = v->spec->service.replicas_min;
	v->reps = xcalloc((size_t)v->nreps, sizeof(*v->reps));
	cuda = lep_json_get(meta, "cuda_visible_devices");
	for (i = 0; i < v->nreps; i++) {
		v->reps[i].index = i;
		v->reps[i].pr.fd = -1;
		if (lep_json_string(lep_json_at(cuda, (size_t)i)) != NULL)
			v->reps[i].cuda = xstrdup(lep_json_string(
			    lep_json_at(cuda, (size_t)i)));
	}
	v->phase = V_SETUP;
done:
	lep_buf_release(&b);
	lep_buf_release(&mb);
	lep_json_free(meta);
	free(sp);
	free(mp);
	return v;
}

/*
 * state.json: what lepton reads. final: the supervisor's last word (no
 * PID, no revisions, stopped or failed).
 */
static void
write_state(int final)
{
	struct lep_json	*j, *revs, *r, *reps, *o;
	struct rev	*v;
	char		*p;
	int		 i;

	j = lep_json_obj();
	lep_json_set_int(j, "pid", final ? 0 : (long long)getpid());
	lep_json_set_num(j, "start", (double)S.start);
	lep_json_set_int(j, "port", S.port);
	if (final)
		lep_json_set_str(j, "phase", S.fail_exit ? "failed" :
		    "stopped");
	else
		lep_json_set_str(j, "phase", S.stopping ? "stopping" :
		    S.active ? "running" : "starting");
	if (final && S.fail_exit)
		lep_json_set_str(j, "message", S.failmsg);
	lep_json_set_int(j, "active", S.active && !final ? S.active->num : 0);
	lep_json_set_int(j, "pending", S.pending && !final ?
	    S.pending->num : 0);
	lep_json_set_int(j, "canary", S.canary && !final ? S.canary->num : 0);
	lep_json_set_int(j, "canary_percent", S.canary && !final ?
	    S.canary_pct : 0);
	if (S.last_failed) {
		o = lep_json_obj();
		lep_json_set_int(o, "revision", S.last_failed);
		lep_json_set_str(o, "message", S.last_failed_msg);
		lep_json_set(j, "last_failed", o);
	}
	lep_json_set_int(j, "updated", (long long)time(NULL));
	revs = lep_json_arr();
	for (v = final ? NULL : S.revs; v != NULL; v = v->next) {
		r = lep_json_obj();
		lep_json_set_int(r, "revision", v->num);
		lep_json_set_str(r, "phase", vphase_names[v->phase]);
		if (v->msg[0])
			lep_json_set_str(r, "message", v->msg);
		reps = lep_json_arr();
		for (i = 0; i < v->nreps; i++) {
			o = lep_json_obj();
			lep_json_set_int(o, "index", i);
			lep_json_set_int(o, "pid", v->reps[i].pid);
			lep_json_set_num(o, "start", (double)v->reps[i].start);
			lep_json_set_int(o, "port", v->reps[i].port);
			lep_json_set_str(o, "state",
			    rstate_names[v->reps[i].st]);
			lep_json_set_int(o, "restarts", v->reps[i].restarts);
			lep_json_push(reps, o);
		}
		lep_json_set(r, "replicas", reps);
		lep_json_push(revs, r);
	}
	lep_json_set(j, "revisions", revs);
	p = path_of("state.json");
	(void)lep_write_json(p, j, 0644);
	free(p);
	lep_json_free(j);
	S.dirty = 0;
	S.written_ms = lep_now_ms();
}

/* --- processes ------------------------------------------------------- */

/* The replica's (or setup's, r NULL) environment: see local-env.c. */
static char **
build_env(const struct rev *v, const struct replica *r)
{
	char	*extra[8];
	char	**env;
	size_t	 n = 0, i;

	extra[n++] = xasprintf("LEPTON_DEPLOYMENT=%s", S.name);
	extra[n++] = xasprintf("LEPTON_REVISION=%d", v->num);
	if (v->model_dir != NULL)
		extra[n++] = xasprintf("LEPTON_MODEL_DIR=%s", v->model_dir);
	if (r != NULL) {
		extra[n++] = xasprintf("LEPTON_PORT=%d", r->port);
		extra[n++] = xasprintf("LEPTON_REPLICA=%d", r->index);
		if (S.token != NULL)
			extra[n++] = xasprintf("LEPTON_TOKEN=%s", S.token);
	}
	extra[n] = NULL;
	env = local_env_build(v->spec, S.secret_env,
	    (const char *const *)extra, r != NULL ? r->cuda : NULL);
	for (i = 0; i < n; i++) {
		lep_wipe(extra[i], strlen(extra[i]));
		free(extra[i]);
	}
	return env;
}

static pid_t
spawn(const struct rev *v, const struct replica *r, const char *cmd,
    const char *log)
{
	char	**env, *logpath;
	pid_t	  pid;

	logpath = xasprintf("%s/%s", S.logdir, log);
	env = build_env(v, r);
	pid = local_spawn(v->spec->dir, cmd, logpath, env);
	if (pid == -1)
		slog("cannot start '%s': %s", log, strerror(errno));
	local_env_free(env);
	free(logpath);
	return pid;
}

static void
replica_start(struct rev *v, struct replica *r)
{
	char	 log[64];
	long long now = lep_now_ms();

	r->port = lep_free_port();
	snprintf(log, sizeof(log), "r%d-%d.log", v->num, r->index);
	r->pid = r->port > 0 ? spawn(v, r, v->spec->run, log) : -1;
	if (r->pid <= 0) {
		r->pid = 0;
		r->st = R_WAIT;
		r->next_ms = now + 1000;
		return;
	}
	r->start = lep_proc_start_time(r->pid);
	r->st = R_STARTING;
	r->probe_ms = now;
	r->ready_by = now + v->spec->service.ready_timeout * 1000;
	slog("revision %d replica %d: started pid %ld on port %d", v->num,
	    r->index, (long)r->pid, r->port);
	S.dirty = 1;
}

/* Its probe passed: it takes connections. */
static void
replica_ready(struct rev *v, struct replica *r)
{
	r->st = R_READY;
	r->ready_since = lep_now_ms();
	S.dirty = 1;
	slog("revision %d replica %d: ready", v->num, r->index);
}

static int
rev_alive(const struct rev *v)
{
	int	 i;

	if (v->setup_pid > 0)
		return 1;
	for (i = 0; i < v->nreps; i++)
		if (v->reps[i].pid > 0)
			return 1;
	return 0;
}

static void
rev_signal(struct rev *v, int sig)
{
	int	 i;

	if (v->setup_pid > 0)
		kill(-v->setup_pid, sig);
	for (i = 0; i < v->nreps; i++)
		if (v->reps[i].pid > 0)
			kill(-v->reps[i].pid, sig);
}

static void
rev_terminate(struct rev *v, enum vphase phase)
{
	int	 i;

	v->phase = phase;
	for (i = 0; i < v->nreps; i++)
		local_probe_close(&v->reps[i]);
	rev_signal(v, SIGTERM);
	v->kill_at = lep_now_ms() + LOCAL_GRACE_S * 1000;
	S.dirty = 1;
}

static void
rev_fail(struct rev *v, const char *fmt, ...) LEP_PRINTF(2, 3);

static void
rev_fail(struct rev *v, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	slog("revision %d failed: %s", v->num, v->msg);
	rev_terminate(v, V_FAILED);
	if (v == S.pending) {
		S.pending = NULL;
		S.last_failed = v->num;
		lep_strlcpy(S.last_failed_msg, v->msg,
		    sizeof(S.last_failed_msg));
		if (S.active == NULL && !S.stopping) {
			lep_strlcpy(S.failmsg, v->msg, sizeof(S.failmsg));
			S.fail_exit = 1;
		}
	}
}

static void
describe_status(char *buf, size_t len, int status)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status %d", status);
}

static void
replica_exited(struct rev *v, struct replica *r, int status)
{
	char	 how[64], *logpath, *line;
	int	 fd;
	long long backoff;

	describe_status(how, sizeof(how), status);
	/*
	 * The shell may have left children (a shim, a pipeline): they are
	 * in the replica's process group and go with it, or they would hold
	 * the port and outlive every stop.
	 */
	kill(-r->pid, SIGKILL);
	r->pid = 0;
	r->start = 0;
	local_probe_close(r);
	S.dirty = 1;
	if (v->phase == V_STARTING) {
		r->st = R_DEAD;
		rev_fail(v, "replica %d exited (%s) before it was ready; "
		    "see 'lepton logs %s'", r->index, how, S.name);
		return;
	}
	if (v->phase != V_READY || S.stopping) {
		r->st = R_DEAD;
		return;
	}
	r->restarts++;
	backoff = 500LL << (r->restarts < 6 ? r->restarts - 1 : 5);
	/* A replica that ran a while before it died starts over quickly. */
	if (r->ready_since && lep_now_ms() - r->ready_since > 60000)
		backoff = 500;
	if (backoff > LOCAL_BACKOFF_MAX_MS)
		backoff = LOCAL_BACKOFF_MAX_MS;
	r->st = R_WAIT;
	r->next_ms = lep_now_ms() + backoff;
	r->ready_since = 0;
	slog("revision %d replica %d exited (%s); restart %d in %lld ms",
	    v->num, r->index, how, r->restarts, backoff);
	logpath = xasprintf("%s/r%d-%d.log", S.logdir, v->num, r->index);
	fd = open(logpath, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd != -1) {
		line = xasprintf("lepton: replica %d exited (%s); restarting\n",
		    r->index, how);
		(void)!write(fd, line, strlen(line));
		free(line);
		close(fd);
	}
	free(logpath);
}

static void
reap(void)
{
	struct rev	*v;
	char		 how[64];
	pid_t		 pid;
	int		 status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (v = S.revs; v != NULL; v = v->next) {
			if (v->setup_pid == pid) {
				kill(-pid, SIGKILL);	/* what setup left */
				v->setup_pid = 0;
				if (v->phase != V_SETUP)
					break;
				if (WIFEXITED(status) &&
				    WEXITSTATUS(status) == 0) {
					slog("revision %d: setup done", v->num);
					v->phase = V_STARTING;
					v->setup_started = 2;
				} else {
					describe_status(how, sizeof(how),
					    status);
					rev_fail(v, "setup failed (%s); see "
					    "'lepton logs %s --setup'", how,
					    S.name);
				}
				break;
			}
			for (i = 0; i < v->nreps; i++)
				if (v->reps[i].pid == pid)
					break;
			if (i < v->nreps) {
				replica_exited(v, &v->reps[i], status);
				break;
			}
		}
	}
}

static int
rev_conns(const struct rev *v)
{
	int	 i, n = 0;

	for (i = 0; i < v->nreps; i++)
		n += v->reps[i].conns;
	return n;
}

/* --- revisions ------------------------------------------------------- */

/* V_SETUP, once: start the spec's setup, or go on without one. */
static void
rev_setup_start(struct rev *v)
{
	char	 log[64];

	v->setup_started = 1;
	if (v->spec->setup == NULL)
		v->phase = V_STARTING;
	else {
		snprintf(log, sizeof(log), "r%d-setup.log", v->num);
		v->setup_pid = spawn(v, NULL, v->spec->setup, log);
		if (v->setup_pid <= 0) {
			v->setup_pid = 0;
			rev_fail(v, "cannot start setup");
		} else
			slog("revision %d: setup started (pid %ld)", v->num,
			    (long)v->setup_pid);
		S.dirty = 1;
	}
}

/*
 * V_STARTING: start every replica, then probe them until all are ready
 * or the revision's deadline passes.
 */
static void
rev_tick_starting(struct rev *v, long long now)
{
	int	 i, ready = 0;

	if (v->deadline == 0) {
		v->deadline = now + v->spec->service.ready_timeout * 1000;
		for (i = 0; i < v->nreps; i++)
			replica_start(v, &v->reps[i]);
	}
	for (i = 0; i < v->nreps; i++) {
		struct replica	*r = &v->reps[i];

		if (r->st == R_READY)
			ready++;
		else if (r->st == R_STARTING && r->pr.fd == -1 &&
		    now >= r->probe_ms)
			local_probe_start(r);
	}
	if (ready == v->nreps) {
		v->phase = V_READY;
		S.dirty = 1;
		slog("revision %d: all %d replicas ready", v->num, v->nreps);
	} else if (now >= v->deadline)
		rev_fail(v, "readiness probe GET %s did not pass within %llds "
		    "(%d of %d replicas ready); see 'lepton logs %s'",
		    v->spec->service.ready_path,
		    v->spec->service.ready_timeout, ready, v->nreps, S.name);
}

/*
 * V_READY: restart crashed replicas once their backoff is over, probe
 * the restarted ones, and kill those not ready in time.
 */
static void
rev_tick_ready(struct rev *v, long long now)
{
	int	 i;

	for (i = 0; i < v->nreps; i++) {
		struct replica	*r = &v->reps[i];

		if (r->st == R_WAIT && now >= r->next_ms)
			replica_start(v, r);
		else if (r->st == R_STARTING && r->pr.fd == -1 &&
		    now >= r->probe_ms)
			local_probe_start(r);
		if (r->st == R_STARTING && now >= r->ready_by && r->pid > 0) {
			slog("revision %d replica %d: not ready within %llds; "
			    "killing it", v->num, i,
			    v->spec->service.ready_timeout);
			kill(-r->pid, SIGKILL);
			r->ready_by = now + 1000000;
		}
	}
}

static void
rev_tick(struct rev *v)
{
	long long	 now = lep_now_ms();

	switch (v->phase) {
	case V_SETUP:
		if (!v->setup_started)
			rev_setup_start(v);
		break;
	case V_STARTING:
		rev_tick_starting(v, now);
		break;
	case V_READY:
		rev_tick_ready(v, now);
		break;
	case V_DRAINING:
		if (rev_conns(v) == 0 || now >= v->drain_by) {
			local_proxy_close(&S.conns, v);
			slog("revision %d: drained; stopping it", v->num);
			rev_terminate(v, V_STOPPING);
		}
		break;
	case V_STOPPING:
	case V_FAILED:
		if (!rev_alive(v)) {
			v->phase = V_GONE;
			S.dirty = 1;
		} else if (now >= v->kill_at && !v->killed) {
			rev_signal(v, SIGKILL);
			v->killed = 1;
		}
		break;
	case V_GONE:
		break;
	}
}

static void
switch_to_pending(void)
{
	struct rev	*old = S.active;

	S.active = S.pending;
	S.pending = NULL;
	S.dirty = 1;
	slog("revision %d: serving", S.active->num);
	if (old != NULL) {
		old->phase = V_DRAINING;
		old->drain_by = lep_now_ms() + LOCAL_DRAIN_S * 1000;
	}
}

static void
add_rev(struct rev *v)
{
	struct rev	**pp = &S.revs;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = v;
}

/*
 * The file `canary` says "promote N" (N serves everything; the old
 * active drains) or "abort N" (N stops; the active never stopped).
 * Returns 1 when it acted.
 */
static int
canary_action(int want)
{
	struct lep_buf	 b;
	long long	 n = 0;
	char		*p, *sp;
	int		 acted = 0;

	p = path_of("canary");
	if (lep_read_file(&b, p, 64) == NULL && (sp = strchr(b.buf, ' ')) !=
	    NULL) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		(void)lep_parse_ll(&n, sp + 1);
		if (n == S.canary->num && lep_starts_with(b.buf, "promote") &&
		    want == n) {
			S.pending = S.canary;
			S.canary = NULL;
			switch_to_pending();
			acted = 1;
		} else if (n == S.canary->num && lep_starts_with(b.buf,
		    "abort")) {
			struct rev	*v = S.canary;

			S.canary = NULL;
			lep_strlcpy(v->msg, "canary aborted", sizeof(v->msg));
			slog("revision %d: canary aborted", v->num);
			rev_terminate(v, V_STOPPING);
			acted = 1;
		}
	}
	lep_buf_release(&b);
	free(p);
	S.dirty = 1;
	return acted;
}

static void
on_hup(void)
{
	struct rev	*v;
	char		 why[512];
	int		 want;

	load_secrets();
	want = read_desired();
	if (want <= 0 || S.stopping)
		return;
	if (S.canary != NULL && canary_action(want))
		return;
	if (S.active != NULL && S.active->num == want) {
		if (S.pending != NULL)
			rev_fail(S.pending, "superseded by revision %d", want);
		return;
	}
	if (S.pending != NULL && S.pending->num == want)
		return;
	v = rev_load(want, why, sizeof(why));
	if (v == NULL) {
		S.last_failed = want;
		lep_strlcpy(S.last_failed_msg, why, sizeof(S.last_failed_msg));
		S.dirty = 1;
		return;
	}
	if (S.pending != NULL)
		rev_fail(S.pending, "superseded by revision %d", want);
	add_rev(v);
	S.pending = v;
	S.dirty = 1;
	slog("revision %d: starting", want);
}

static void
begin_stop(void)
{
	struct rev	*v;

	if (S.stopping)
		return;
	S.stopping = 1;
	slog("stopping");
	if (S.lfd != -1)
		close(S.lfd);
	S.lfd = -1;
	local_proxy_close(&S.conns, NULL);
	for (v = S.revs; v != NULL; v = v->next)
		if (v->phase != V_GONE && v->phase != V_FAILED)
			rev_terminate(v, V_STOPPING);
	S.pending = NULL;
	S.active = NULL;
	S.canary = NULL;
	S.dirty = 1;
}

static void
drop_gone(void)
{
	struct rev	**pp = &S.revs, *v;

	while ((v = *pp) != NULL) {
		if (v->phase == V_GONE && v != S.active && v != S.pending &&
		    v != S.canary && rev_conns(v) == 0) {
			*pp = v->next;
			rev_free(v);
			continue;
		}
		pp = &v->next;
	}
}

/* The stable endpoint's socket; its port in S.port. */
static int
listen_on(int port)
{
	return local_proxy_listen(port, &S.port);
}

/* --- the loop -------------------------------------------------------- */

/*
 * What to poll: the signal pipe, the endpoint, the proxy's connections,
 * then every replica's probe (fd -1 when none is in flight). Returns how
 * many entries; *pfdp grows to hold them.
 */
static size_t
poll_fill(struct pollfd **pfdp, size_t *capp)
{
	struct pollfd	*pfd;
	struct rev	*v;
	size_t		 n, k;
	int		 i;

	n = 2 + local_proxy_npoll(S.conns);
	for (v = S.revs; v != NULL; v = v->next)
		n += (size_t)v->nreps;
	if (n > *capp) {
		*capp = n * 2;
		*pfdp = xreallocarray(*pfdp, *capp, sizeof(**pfdp));
	}
	pfd = *pfdp;
	pfd[0].fd = S.sigfd[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = S.lfd;
	pfd[1].events = POLLIN;
	local_proxy_poll(S.conns, pfd + 2);
	n = 2 + local_proxy_npoll(S.conns);
	for (v = S.revs; v != NULL; v = v->next) {
		for (i = 0; i < v->nreps; i++) {
			pfd[n].fd = v->reps[i].pr.fd;
			pfd[n].events = v->reps[i].pr.sent ? POLLIN : POLLOUT;
			n++;
		}
	}
	for (k = 0; k < n; k++)
		pfd[k].revents = 0;
	return n;
}

/* Drain the signal pipe: which signals came since the last look. */
static void
read_signals(int *chld, int *hup, int *term)
{
	char	 sigs[64];
	ssize_t	 got, k;

	while ((got = read(S.sigfd[0], sigs, sizeof(sigs))) > 0) {
		for (k = 0; k < got; k++) {
			*chld |= sigs[k] == 'C';
			*hup |= sigs[k] == 'H';
			*term |= sigs[k] == 'T';
		}
	}
}

/* The probes, from pfd[k] on, in the order poll_fill put them. */
static void
probes_io(const struct pollfd *pfd, size_t k, size_t n)
{
	struct rev	*v;
	int		 i;

	for (v = S.revs; v != NULL; v = v->next) {
		for (i = 0; i < v->nreps; i++, k++) {
			struct replica	*r = &v->reps[i];

			if (k >= n || r->pr.fd == -1 || pfd[k].fd != r->pr.fd)
				continue;
			if (local_probe_check(r, v->spec->service.ready_path,
			    pfd[k].revents))
				replica_ready(v, r);
		}
	}
}

/*
 * The pending revision is ready: a canary beside the active one when
 * its strategy says so, else it serves everything.
 */
static void
pending_ready(void)
{
	if (S.active != NULL && S.canary == NULL &&
	    lep_streq(S.pending->spec->service.strategy, "canary")) {
		/* Beside the active one, for its share. */
		S.canary = S.pending;
		S.pending = NULL;
		S.canary_pct = S.canary->spec->service.canary_percent ?
		    S.canary->spec->service.canary_percent : 10;
		S.dirty = 1;
		slog("revision %d: canary at %d%%", S.canary->num,
		    S.canary_pct);
	} else
		switch_to_pending();
}

static int
super_loop(void)
{
	struct pollfd	*pfd = NULL;
	struct rev	*v;
	size_t		 n, cap = 0, k;
	int		 chld, hup, term;

	for (;;) {
		n = poll_fill(&pfd, &cap);
		if (poll(pfd, (nfds_t)n, 50) == -1 && errno != EINTR) {
			slog("poll: %s", strerror(errno));
			break;
		}
		chld = hup = term = 0;
		if (pfd[0].revents & POLLIN)
			read_signals(&chld, &hup, &term);
		if ((pfd[1].revents & POLLIN) && S.lfd != -1)
			local_proxy_accept(&S.conns, S.lfd, S.active, S.canary,
			    S.canary_pct);
		/* The conns and probes in pfd are those from before accept. */
		k = 2 + local_proxy_io(S.conns, pfd + 2, n - 2);
		local_proxy_sweep(&S.conns);
		probes_io(pfd, k, n);
		if (chld)
			reap();
		if (hup)
			on_hup();
		if (term)
			begin_stop();
		for (v = S.revs; v != NULL; v = v->next)
			rev_tick(v);
		if (S.pending != NULL && S.pending->phase == V_READY)
			pending_ready();
		if (S.fail_exit && !S.stopping)
			begin_stop();
		drop_gone();
		if (S.stopping && S.revs == NULL)
			break;
		if (S.dirty || lep_now_ms() - S.written_ms > 2000)
			write_state(0);
	}
	free(pfd);
	return S.fail_exit ? 1 : 0;
}

/* Signals reach the loop through S.sigfd; the canary split is seeded. */
static int
super_signals(void)
{
	struct sigaction	 sa;
	unsigned int		 seed = (unsigned int)getpid();

	if (pipe2(S.sigfd, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The canary split: a different draw in every supervisor. */
	(void)!getrandom(&seed, sizeof(seed), 0);
	srandom(seed);
	return 0;
}

static void
super_free(void)
{
	struct rev	*v;

	while (S.revs != NULL) {
		v = S.revs;
		S.revs = v->next;
		rev_free(v);
	}
	if (S.token != NULL) {
		lep_wipe(S.token, strlen(S.token));
		free(S.token);
	}
	lep_json_free(S.secret_env);
	free(S.dir);
	free(S.logdir);
}

int
local_supervise_main(int argc, char **argv)
{
	struct rev		*v;
	char			 why[512];
	int			 want, port, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: lepton %s HOME NAME\n",
		    LEP_SUPERVISOR_ARGV1);
		return 2;
	}
	memset(&S, 0, sizeof(S));
	S.lfd = -1;
	S.home = argv[1];
	S.name = argv[2];
	S.dir = xasprintf("%s/local/%s", S.home, S.name);
	S.logdir = xasprintf("%s/logs", S.dir);
	S.start = lep_proc_start_time((long)getpid());
	if (super_signals() == -1)
		return 1;
	load_secrets();
	want = read_desired();
	v = want > 0 ? rev_load(want, why, sizeof(why)) : NULL;
	if (v == NULL) {
		S.fail_exit = 1;
		lep_strlcpy(S.failmsg, want > 0 ? why : "no desired revision",
		    sizeof(S.failmsg));
		slog("%s", S.failmsg);
		write_state(1);
		super_free();
		return 1;
	}
	port = v->spec->service.port;
	if (port == 0 && v->prefer_port > 0)
		S.lfd = listen_on(v->prefer_port);
	if (S.lfd == -1)
		S.lfd = listen_on(port);
	if (S.lfd == -1) {
		S.fail_exit = 1;
		snprintf(S.failmsg, sizeof(S.failmsg), "cannot listen on "
		    "127.0.0.1:%d: %s", port, strerror(errno));
		slog("%s", S.failmsg);
		rev_free(v);
		write_state(1);
		super_free();
		return 1;
	}
	slog("supervisor %ld: endpoint http://127.0.0.1:%d, revision %d",
	    (long)getpid(), S.port, want);
	add_rev(v);
	S.pending = v;
	write_state(0);
	rc = super_loop();
	write_state(1);
	slog("supervisor exits (%s)", rc ? S.failmsg : "stopped");
	super_free();
	return rc;
}
