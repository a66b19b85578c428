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
 * does to state.json, which `lepton` reads. Here are its loop, signals,
 * files and the replicas' processes; a revision's life is in local-rev.c,
 * the readiness probes in local-probe.c.
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

static struct local_sup	 S;
/* Who asked it to stop, for the log: the signal and its sender. */
static volatile sig_atomic_t	 term_sig;
static volatile long		 term_from;

void
local_slog(const char *fmt, ...)
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
on_signal(int sig, siginfo_t *si, void *uc)
{
	char	 c = sig == SIGCHLD ? 'C' : sig == SIGHUP ? 'H' : 'T';
	int	 saved = errno;

	(void)uc;
	if (c == 'T') {
		term_sig = sig;
		term_from = si != NULL ? (long)si->si_pid : 0;
	}

	(void)!write(S.sigfd[1], &c, 1);
	errno = saved;
}

/* --- files ----------------------------------------------------------- */

char *
local_sup_path(const struct local_sup *s, const char *fmt, ...)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	va_list		 ap;

	lep_buf_addf(&b, "%s/", s->dir);
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

	p = local_sup_path(&S, "desired");
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

	p = local_sup_path(&S, "secrets.json");
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

/* state.json's revisions, each with its replicas (none when final). */
static struct lep_json *
state_revisions(int final)
{
	struct lep_json	*revs, *r, *reps, *o;
	struct rev	*v;
	long		 server;
	int		 i;

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
			/* A box's child is no server: only for processes. */
			if (S.rt == &local_processes && v->reps[i].pid > 0 &&
			    (server = lep_proc_only_child(
			    (long)v->reps[i].pid)) > 0)
				lep_json_set_int(o, "server_pid", server);
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
	return revs;
}

/*
 * state.json: what lepton reads. final: the supervisor's last word (no
 * PID, no revisions, stopped or failed).
 */
static void
write_state(int final)
{
	struct lep_json	*j, *o;
	char		*p;

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
	lep_json_set(j, "revisions", state_revisions(final));
	p = local_sup_path(&S, "state.json");
	(void)lep_write_json(p, j, 0600);
	free(p);
	lep_json_free(j);
	S.dirty = 0;
	S.written_ms = lep_now_ms();
}

/* --- processes ------------------------------------------------------- */

/* The replica's (or setup's, r NULL) environment: see local-env.c. */
static char **
build_env(const struct local_sup *s, const struct rev *v,
    const struct replica *r)
{
	char	*extra[9];
	char	**env;
	size_t	 n = 0, i;

	extra[n++] = xasprintf("LEPTON_DEPLOYMENT=%s", s->name);
	extra[n++] = xasprintf("LEPTON_REVISION=%d", v->num);
	if (v->model_dir != NULL)
		extra[n++] = xasprintf("LEPTON_MODEL_DIR=%s", v->model_dir);
	if (r != NULL) {
		extra[n++] = xasprintf("LEPTON_PORT=%d", r->port);
		/* The address to bind: a runtime may say another. */
		extra[n++] = xstrdup("LEPTON_HOST=127.0.0.1");
		extra[n++] = xasprintf("LEPTON_REPLICA=%d", r->index);
		if (s->token != NULL)
			extra[n++] = xasprintf("LEPTON_TOKEN=%s", s->token);
	}
	extra[n] = NULL;
	env = local_env_build(v->spec, s->secret_env,
	    (const char *const *)extra, r != NULL ? r->cuda : NULL);
	for (i = 0; i < n; i++) {
		lep_wipe(extra[i], strlen(extra[i]));
		free(extra[i]);
	}
	return env;
}

pid_t
local_sup_spawn(struct local_sup *s, const struct rev *v,
    const struct replica *r, const char *cmd, const char *log)
{
	struct local_spawn_req	 req;
	char			**env, *logpath;
	pid_t			  pid;

	logpath = xasprintf("%s/%s", s->logdir, log);
	env = build_env(s, v, r);
	memset(&req, 0, sizeof(req));
	req.dir = v->spec->dir;
	req.cmd = cmd;
	req.log = logpath;
	req.env = env;
	req.spec = v->spec;
	req.meta = v->meta;
	req.home = s->home;
	req.name = s->name;
	req.revision = v->num;
	req.replica = r != NULL ? r->index : -1;
	req.port = r != NULL ? r->port : 0;
	pid = local_rt_spawn(s->rt, &req);
	if (pid == -1)
		local_slog("cannot start '%s': %s", log, strerror(errno));
	local_env_free(env);
	free(logpath);
	return pid;
}

void
local_replica_start(struct local_sup *s, struct rev *v, struct replica *r)
{
	char	 log[64];
	long long now = lep_now_ms();

	r->port = lep_free_port();
	snprintf(log, sizeof(log), "r%d-%d.log", v->num, r->index);
	r->pid = r->port > 0 ? local_sup_spawn(s, v, r, v->spec->run,
	    log) : -1;
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
	local_slog("revision %d replica %d: started pid %ld on port %d",
	    v->num, r->index, (long)r->pid, r->port);
	s->dirty = 1;
}

/* Its probe passed: it takes connections. */
static void
replica_ready(struct rev *v, struct replica *r)
{
	r->st = R_READY;
	r->ready_since = lep_now_ms();
	S.dirty = 1;
	local_slog("revision %d replica %d: ready", v->num, r->index);
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
	/* A runtime's leftovers of a child killed before its end. */
	if (S.rt->sweep != NULL)
		S.rt->sweep(S.home, S.name, v->meta);
	if (v->phase == V_STARTING) {
		r->st = R_DEAD;
		local_rev_fail(&S, v, "replica %d exited (%s) before it was "
		    "ready; see 'lepton logs %s'", r->index, how, S.name);
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
	local_slog("revision %d replica %d exited (%s); restart %d in %lld ms",
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

/* v's setup exited: on to V_STARTING when it succeeded. */
static void
setup_exited(struct rev *v, int status)
{
	char	 how[64];

	kill(-v->setup_pid, SIGKILL);	/* what setup left */
	v->setup_pid = 0;
	if (v->phase != V_SETUP)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		local_slog("revision %d: setup done", v->num);
		v->phase = V_STARTING;
		v->setup_started = 2;
	} else {
		describe_status(how, sizeof(how), status);
		local_rev_fail(&S, v, "setup failed (%s); see 'lepton logs %s "
		    "--setup'", how, S.name);
	}
}

static void
reap(void)
{
	struct rev	*v;
	pid_t		 pid;
	int		 status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (v = S.revs; v != NULL; v = v->next) {
			if (v->setup_pid == pid) {
				setup_exited(v, status);
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

/*
 * A newer revision takes pending's place. That is no reason to exit,
 * even with nothing active yet: the deploy that started pending may
 * have been killed before it was recorded, and the next one waits here.
 */
static void
supersede(struct rev *pending, int want)
{
	int	 was = S.fail_exit;

	local_rev_fail(&S, pending, "superseded by revision %d", want);
	S.fail_exit = was;
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
	if (S.canary != NULL && local_rev_canary(&S, want))
		return;
	if (S.active != NULL && S.active->num == want) {
		if (S.pending != NULL)
			supersede(S.pending, want);
		return;
	}
	if (S.pending != NULL && S.pending->num == want)
		return;
	v = local_rev_load(&S, want, why, sizeof(why));
	if (v == NULL) {
		S.last_failed = want;
		lep_strlcpy(S.last_failed_msg, why, sizeof(S.last_failed_msg));
		S.dirty = 1;
		return;
	}
	if (S.pending != NULL)
		supersede(S.pending, want);
	local_rev_add(&S, v);
	S.pending = v;
	S.dirty = 1;
	local_slog("revision %d: starting", want);
}

static void
begin_stop(void)
{
	struct rev	*v;

	if (S.stopping)
		return;
	S.stopping = 1;
	if (term_sig != 0)
		local_slog("stopping (%s from pid %ld)", strsignal(term_sig),
		    (long)term_from);
	else
		local_slog("stopping");
	if (S.lfd != -1)
		close(S.lfd);
	S.lfd = -1;
	local_proxy_close(&S.conns, NULL);
	for (v = S.revs; v != NULL; v = v->next)
		if (v->phase != V_GONE && v->phase != V_FAILED)
			local_rev_terminate(&S, v, V_STOPPING);
	S.pending = NULL;
	S.active = NULL;
	S.canary = NULL;
	S.dirty = 1;
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
			local_slog("poll: %s", strerror(errno));
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
			local_rev_tick(&S, v);
		if (S.pending != NULL && S.pending->phase == V_READY)
			local_rev_pending_ready(&S);
		if (S.fail_exit && !S.stopping)
			begin_stop();
		local_rev_sweep(&S);
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
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP | SA_SIGINFO;
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
		local_rev_free(v);
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
	return local_supervise_run(&local_processes, argc, argv);
}

int
local_supervise_run(const struct local_runtime *rt, int argc, char **argv)
{
	struct rev		*v;
	char			 why[512];
	int			 want, port, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: lepton %s HOME NAME\n",
		    rt->super_argv1);
		return 2;
	}
	memset(&S, 0, sizeof(S));
	S.rt = rt;
	S.lfd = -1;
	S.home = argv[1];
	S.name = argv[2];
	S.dir = xasprintf("%s/%s/%s", S.home, rt->name, S.name);
	S.logdir = xasprintf("%s/logs", S.dir);
	S.start = lep_proc_start_time((long)getpid());
	if (super_signals() == -1)
		return 1;
	load_secrets();
	want = read_desired();
	v = want > 0 ? local_rev_load(&S, want, why, sizeof(why)) : NULL;
	if (v == NULL) {
		S.fail_exit = 1;
		lep_strlcpy(S.failmsg, want > 0 ? why : "no desired revision",
		    sizeof(S.failmsg));
		local_slog("%s", S.failmsg);
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
		local_slog("%s", S.failmsg);
		local_rev_free(v);
		write_state(1);
		super_free();
		return 1;
	}
	local_slog("supervisor %ld: endpoint http://127.0.0.1:%d, revision %d",
	    (long)getpid(), S.port, want);
	local_rev_add(&S, v);
	S.pending = v;
	write_state(0);
	rc = super_loop();
	write_state(1);
	local_slog("supervisor exits (%s)", rc ? S.failmsg : "stopped");
	super_free();
	return rc;
}
