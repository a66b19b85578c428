/*
 * local.c: the local provider, the default. Services run as real
 * processes on this machine under a supervisor (local-super.c) that
 * outlives the lepton command; this file starts it, tells it about new
 * revisions, waits for readiness, and reads what it reports, checking
 * every PID itself so that a process killed behind our back shows up.
 */
#include "provider.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "local-priv.h"
#include "../lib/catalog.h"
#include "../lib/config.h"
#include "../lib/creds.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/logview.h"
#include "../lib/out.h"
#include "../lib/proc.h"
#include "../lib/spec.h"
#include "../lib/util.h"

static volatile sig_atomic_t	 interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

void
local_state_init(struct local_state *ls, const struct local_runtime *rt,
    const struct lep_config *cfg)
{
	memset(ls, 0, sizeof(*ls));
	ls->rt = rt;
	ls->home = xstrdup(cfg->home);
	ls->out = cfg->out;
}

void
local_state_release(struct local_state *ls)
{
	while (ls->ngpus > 0)
		free(ls->gpu_names[--ls->ngpus]);
	free(ls->gpu_names);
	free(ls->home);
}

static const struct lep_err *
local_open(void **state_out, const struct lep_config *cfg)
{
	struct local_state	*ls;

	ls = xcalloc(1, sizeof(*ls));
	local_state_init(ls, &local_processes, cfg);
	*state_out = ls;
	return NULL;
}

static void
local_close(void *state)
{
	if (state == NULL)
		return;
	local_state_release(state);
	free(state);
}

/* HOME/PROVIDER/NAME[/file]: one directory per deployment. */
static char *
dep_path(const struct local_state *ls, const char *name, const char *file)
{
	if (file == NULL)
		return xasprintf("%s/%s/%s", ls->home, ls->rt->name, name);
	return xasprintf("%s/%s/%s/%s", ls->home, ls->rt->name, name, file);
}

/* --- GPUs ------------------------------------------------------------ */

/*
 * nvidia-smi's CSV form ("0, NVIDIA H100 80GB HBM3, 81559 MiB"), not its
 * table. No nvidia-smi means no GPU.
 */
void
local_detect_gpus(struct local_state *ls)
{
	char		*argv[] = { "nvidia-smi",
	    "--query-gpu=index,name,memory.total", "--format=csv,noheader",
	    NULL };
	struct lep_buf	 b;
	char		*line, *save = NULL, *name, *end;
	int		 status;

	if (ls->gpus_known)
		return;
	ls->gpus_known = 1;
	if (lep_proc_capture(&b, argv, 1 << 16, 10000, &status) != NULL ||
	    status != 0) {
		lep_buf_release(&b);
		return;
	}
	for (line = strtok_r(b.buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((name = strchr(line, ',')) == NULL)
			continue;
		name++;
		while (*name == ' ')
			name++;
		if ((end = strchr(name, ',')) != NULL)
			*end = '\0';
		ls->gpu_names = xreallocarray(ls->gpu_names,
		    (size_t)ls->ngpus + 1, sizeof(*ls->gpu_names));
		ls->gpu_names[ls->ngpus++] = xstrdup(name);
	}
	lep_buf_release(&b);
}

/* "A100-80GB" matches "NVIDIA A100-SXM4-80GB": compare letters/digits. */
static int
gpu_matches(const char *want, const char *have)
{
	char	 w[96], h[96];
	size_t	 i, n;

	for (i = n = 0; want[i] && n < sizeof(w) - 1; i++)
		if (isalnum((unsigned char)want[i]))
			w[n++] = (char)tolower((unsigned char)want[i]);
	w[n] = '\0';
	for (i = n = 0; have[i] && n < sizeof(h) - 1; i++)
		if (isalnum((unsigned char)have[i]))
			h[n++] = (char)tolower((unsigned char)have[i]);
	h[n] = '\0';
	return n > 0 && strstr(h, w) != NULL;
}

/*
 * Pick the first requested accelerator this machine can hold for every
 * replica. *per_out: GPUs per replica (0 when none asked).
 */
const struct lep_err *
local_place_gpus(struct local_state *ls, const struct lep_spec *sp,
    int *per_out)
{
	const struct lep_accel	*a;
	int			 replicas, i, have;
	size_t			 k;

	*per_out = 0;
	if (sp->resources.naccels == 0)
		return NULL;
	local_detect_gpus(ls);
	replicas = sp->kind == LEP_SPEC_SERVICE ?
	    sp->service.replicas_min : 1;
	for (k = 0; k < sp->resources.naccels; k++) {
		a = &sp->resources.accels[k];
		for (i = have = 0; i < ls->ngpus; i++)
			have += gpu_matches(a->name, ls->gpu_names[i]);
		if (have >= a->count * replicas) {
			*per_out = a->count;
			return NULL;
		}
	}
	a = &sp->resources.accels[0];
	if (ls->ngpus == 0)
		return lep_err_hint(lep_err_new(LEP_E_INFEASIBLE, "%s:%d:%d: "
		    "'accelerators' asks for %s:%d%s, but this machine has no "
		    "GPU (nvidia-smi found none)", sp->file,
		    sp->resources.accel_pos.line, sp->resources.accel_pos.col,
		    a->name, a->count, sp->resources.naccels > 1 ? " or "
		    "another" : ""), "run it where GPUs are, or drop "
		    "'resources.accelerators'");
	return lep_err_new(LEP_E_INFEASIBLE, "%s:%d:%d: 'accelerators' asks "
	    "for %s:%d x %d replica(s), but this machine has %d GPU(s): %s",
	    sp->file, sp->resources.accel_pos.line,
	    sp->resources.accel_pos.col, a->name, a->count, replicas,
	    ls->ngpus, ls->gpu_names[0]);
}

const struct lep_err *
local_check(void *state, const struct lep_spec *sp)
{
	int	 per;

	return local_place_gpus(state, sp, &per);
}

/*
 * nvidia-smi's name in the catalogs' spelling: "NVIDIA A100-SXM4-80GB" is
 * "A100-80GB", "NVIDIA H100 80GB HBM3" is "H100", "Tesla T4" is "T4".
 */
static void
catalog_gpu_name(char *out, size_t len, const char *smi)
{
	size_t	 n;

	if (lep_starts_with(smi, "NVIDIA "))
		smi += 7;
	else if (lep_starts_with(smi, "Tesla "))
		smi += 6;
	n = strcspn(smi, " -");
	snprintf(out, len, "%.*s", (int)n, smi);
	if (strcmp(out, "A100") == 0 && strstr(smi, "80GB") != NULL)
		lep_strlcpy(out, "A100-80GB", len);
	else if (strcmp(out, "V100") == 0 && strstr(smi, "32GB") != NULL)
		lep_strlcpy(out, "V100-32GB", len);
}

/*
 * This machine as offers: CPU only, and 1..N of each GPU model it has,
 * priced from HOME/config.json (rates.PROVIDER), 0 by default.
 */
const struct lep_err *
local_offers(struct lep_catalog **out, void *state)
{
	struct local_state	*ls = state;
	const struct lep_err	*err;
	struct lep_config_file	 cf;
	struct lep_catalog	*c;
	struct lep_offer	 o;
	int64_t			 hourly, gpu;
	long			 pages, psize;
	char			 name[96];
	int			 i, k, same;

	*out = NULL;
	if ((err = lep_config_load(&cf, ls->home)) != NULL)
		return err;
	if ((err = lep_config_rate(&hourly, &cf, ls->rt->name)) != NULL)
		goto done;
	local_detect_gpus(ls);
	c = lep_catalog_new(ls->rt->name);
	memset(&o, 0, sizeof(o));
	o.instance = "this-machine";
	o.acc_name = "";
	o.region = ls->rt->name;
	o.zone = "";
	o.elastic = 1;
	o.vcpus = (double)sysconf(_SC_NPROCESSORS_ONLN);
	pages = sysconf(_SC_PHYS_PAGES);
	psize = sysconf(_SC_PAGE_SIZE);
	o.mem = (double)pages * (double)psize / (1024.0 * 1024 * 1024);
	o.price = hourly;
	o.spot = -1;
	lep_catalog_add(c, &o);
	for (i = 0; i < ls->ngpus; i++) {
		/* One set of offers per GPU model: the first of its kind. */
		for (k = same = 0; k < i; k++)
			same |= strcmp(ls->gpu_names[k], ls->gpu_names[i]) == 0;
		if (same)
			continue;
		for (k = same = 0; k < ls->ngpus; k++)
			same += strcmp(ls->gpu_names[k], ls->gpu_names[i]) == 0;
		catalog_gpu_name(name, sizeof(name), ls->gpu_names[i]);
		if ((err = lep_config_gpu_rate(&gpu, &cf, ls->rt->name,
		    name)) != NULL) {
			lep_catalog_free(c);
			goto done;
		}
		o.acc_name = name;
		for (k = 1; k <= same; k++) {
			o.acc_count = k;
			o.price = hourly + gpu * k;
			lep_catalog_add(c, &o);
		}
	}
	*out = c;
done:
	lep_config_release(&cf);
	return err;
}

/* --- reading the supervisor's state ---------------------------------- */

static int
sup_alive(const struct lep_json *st)
{
	long long	 pid = 0;

	(void)lep_json_get_ll(st, "pid", &pid);
	return pid > 0 && lep_proc_alive((long)pid, local_json_ull(st, "start"));
}

static const struct lep_json *
find_rev(const struct lep_json *st, long long num)
{
	struct lep_json	*revs = lep_json_get(st, "revisions"), *r;
	long long	 n;
	size_t		 i;

	for (i = 0; i < lep_json_len(revs); i++) {
		r = lep_json_at(revs, i);
		if (lep_json_get_ll(r, "revision", &n) == 0 && n == num)
			return r;
	}
	return NULL;
}

/* Every replica PID the state names, alive or not, for cleanup. */
static void
signal_replicas(const struct lep_json *st, int sig, int *alive_out)
{
	struct lep_json	*revs = lep_json_get(st, "revisions"), *reps, *r;
	long long	 pid;
	size_t		 i, k;

	*alive_out = 0;
	for (i = 0; i < lep_json_len(revs); i++) {
		reps = lep_json_get(lep_json_at(revs, i), "replicas");
		for (k = 0; k < lep_json_len(reps); k++) {
			r = lep_json_at(reps, k);
			if (lep_json_get_ll(r, "pid", &pid) == -1 || pid <= 0)
				continue;
			/* The group: a killed wrapper leaves its server. */
			if (!lep_proc_group_alive((long)pid,
			    local_json_ull(r, "start")))
				continue;
			(*alive_out)++;
			if (sig != 0)
				kill(-(pid_t)pid, sig);
		}
	}
}

/* A revision's replicas as state.json has them, PIDs checked. */
static struct lep_replica *
read_replicas(const struct lep_json *st, int revision, size_t *n_out,
    int *ready_out)
{
	const struct lep_json	*reps, *r;
	struct lep_replica	*v;
	const char		*rs;
	long long		 x;
	size_t			 i;

	reps = lep_json_get(find_rev(st, revision), "replicas");
	v = xcalloc(lep_json_len(reps) + 1, sizeof(*v));
	*n_out = 0;
	*ready_out = 0;
	for (i = 0; i < lep_json_len(reps); i++) {
		struct lep_replica	*rp = &v[(*n_out)++];

		r = lep_json_at(reps, i);
		rp->index = (int)i;
		rp->revision = revision;
		if (lep_json_get_ll(r, "pid", &x) == 0 && x > 0 &&
		    lep_proc_alive((long)x, local_json_ull(r, "start")))
			rp->pid = (long)x;
		/* The server, not the sh -c that runs it, when known. */
		if (rp->pid != 0 && lep_json_get_ll(r, "server_pid", &x) == 0 &&
		    x > 0 && lep_proc_alive((long)x, 0))
			rp->pid = (long)x;
		if (lep_json_get_ll(r, "port", &x) == 0)
			rp->port = (int)x;
		if (lep_json_get_ll(r, "restarts", &x) == 0)
			rp->restarts = (int)x;
		rs = lep_json_get_str(r, "state");
		lep_strlcpy(rp->state, rs ? rs : "unknown", sizeof(rp->state));
		/* Trust the PID over the record: it may have died just now. */
		if (rp->pid == 0 && strcmp(rp->state, "ready") == 0)
			lep_strlcpy(rp->state, "exited", sizeof(rp->state));
		if (rp->pid != 0 && strcmp(rp->state, "ready") == 0)
			(*ready_out)++;
	}
	return v;
}

static struct lep_deployment *
deployment_from_state(const struct local_state *ls, const char *name,
    const struct lep_json *st)
{
	struct lep_deployment	*d;
	const char		*phase, *msg;
	long long		 active = 0, pending = 0, port = 0, v;
	int			 alive, orphans = 0;

	d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(name);
	d->provider = xstrdup(ls->rt->name);
	d->log_dir = dep_path(ls, name, "logs");
	(void)lep_json_get_ll(st, "active", &active);
	(void)lep_json_get_ll(st, "pending", &pending);
	(void)lep_json_get_ll(st, "port", &port);
	if (port > 0)
		d->endpoint = xasprintf("http://127.0.0.1:%lld", port);
	phase = lep_json_get_str(st, "phase");
	msg = lep_json_get_str(st, "message");
	alive = sup_alive(st);
	if (alive && lep_json_get_ll(st, "pid", &v) == 0)
		d->supervisor_pid = (long)v;
	d->revision = (int)(active ? active : pending);
	d->replicas = read_replicas(st, d->revision, &d->nreplicas, &d->ready);
	if (lep_json_get_ll(st, "canary", &v) == 0 && v > 0 && alive) {
		int	 ready = 0;

		d->canary = (int)v;
		if (lep_json_get_ll(st, "canary_percent", &v) == 0)
			d->canary_percent = (int)v;
		d->canary_replicas = read_replicas(st, d->canary, &d->ncanary,
		    &ready);
	}
	d->desired = (int)d->nreplicas;
	if (!alive)
		signal_replicas(st, 0, &orphans);
	if (alive && lep_streq(phase, "stopping"))
		d->state = xstrdup("stopping");
	else if (alive && active == 0)
		d->state = xstrdup("starting");
	else if (alive && d->ready == d->desired && d->desired > 0)
		d->state = xstrdup("running");
	else if (alive) {
		d->state = xstrdup("degraded");
		d->message = xasprintf("%d of %d replicas ready", d->ready,
		    d->desired);
	} else if (orphans > 0) {
		d->state = xstrdup("degraded");
		d->message = xasprintf("the supervisor is not running; %d "
		    "replica process(es) left behind: 'lepton stop %s' ends "
		    "them, 'lepton deploy' starts over", orphans, name);
	} else if (lep_streq(phase, "stopped")) {
		d->state = xstrdup("stopped");
	} else {
		d->state = xstrdup("failed");
		d->message = xstrdup(msg ? msg : "the supervisor exited "
		    "unexpectedly");
	}
	if (!alive) {
		d->ready = 0;
		free(d->endpoint);
		d->endpoint = port > 0 ? xasprintf("http://127.0.0.1:%lld",
		    port) : NULL;
	}
	return d;
}

const struct lep_err *
local_status(struct lep_deployment **out, void *state, const char *name)
{
	struct local_state	*ls = state;
	const struct lep_err	*err;
	struct lep_json		*st;
	char			*p;

	*out = NULL;
	p = dep_path(ls, name, "state.json");
	err = local_read_json(&st, p);
	free(p);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		return lep_err_new(LEP_E_NOT_FOUND, "no deployment '%s' on "
		    "the %s provider", name, ls->rt->name);
	if (err != NULL)
		return err;
	*out = deployment_from_state(ls, name, st);
	lep_json_free(st);
	return NULL;
}

/* --- deploy ---------------------------------------------------------- */

/* The endpoint token survives updates; secret values are re-read. */
static const struct lep_err *
write_secrets(struct local_state *ls, const char *name,
    const struct lep_deploy_req *req)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*old = NULL, *j, *env;
	struct lep_buf		 b;
	const char		*tok;
	char			 fresh[65], *p;

	p = dep_path(ls, name, "secrets.json");
	err = lep_creds_read_file(&b, p, LEP_CREDS_FILE_MAX);
	if (err == NULL)
		err = lep_json_parse(&old, b.buf, b.len, p);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	if (err != NULL && err->code != LEP_E_NOT_FOUND)
		goto done;
	err = NULL;
	j = lep_json_obj();
	if ((tok = lep_json_get_str(old, "token")) != NULL)
		lep_json_set_str(j, "token", tok);
	else {
		if ((err = lep_random_hex(fresh, 32)) != NULL) {
			lep_json_free_wiped(j);
			goto done;
		}
		lep_json_set_str(j, "token", fresh);
		lep_wipe(fresh, sizeof(fresh));
	}
	if ((err = lep_creds_secret_env(&env, ls->home,
	    req->secret_names, req->nsecrets, "deploy")) != NULL) {
		lep_json_free_wiped(j);
		goto done;
	}
	lep_json_set(j, "env", env);
	err = lep_write_json(p, j, 0600);
	lep_json_free_wiped(j);
done:
	lep_json_free_wiped(old);
	free(p);
	return err;
}

/*
 * Start `lepton ARGV1 HOME ARG` detached: its own session, stdin from
 * /dev/null, output appended to log. Returns its PID.
 */
const struct lep_err *
local_spawn_lepton(long *pid_out, const char *home, const char *argv1,
    const char *arg, const char *log)
{
	char		*argv[5], exe[PATH_MAX];
	pid_t		 child, sup = -1;
	int		 p[2], status, fd;
	ssize_t		 n;

	*pid_out = 0;
	if (local_self_exe(exe, sizeof(exe)) == -1)
		return lep_err_errno(LEP_E_INTERNAL, "cannot find lepton's "
		    "own binary");
	if (pipe2(p, O_CLOEXEC) == -1)
		return lep_err_errno(LEP_E_FAILED, "pipe");
	argv[0] = "lepton";
	argv[1] = (char *)argv1;
	argv[2] = (char *)home;
	argv[3] = (char *)arg;
	argv[4] = NULL;
	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child == -1) {
		close(p[0]);
		close(p[1]);
		return lep_err_errno(LEP_E_FAILED, "fork");
	}
	if (child == 0) {
		close(p[0]);
		setsid();
		sup = fork();
		if (sup != 0) {
			(void)!write(p[1], &sup, sizeof(sup));
			_exit(sup == -1);
		}
		fd = open("/dev/null", O_RDWR);
		if (fd != -1)
			dup2(fd, STDIN_FILENO);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd != -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		/* It keeps the caller's umask for what it starts in turn. */
		lep_umask_restore();
		execv(exe, argv);
		_exit(127);
	}
	close(p[1]);
	do
		n = read(p[0], &sup, sizeof(sup));
	while (n == -1 && errno == EINTR);
	close(p[0]);
	while (waitpid(child, &status, 0) == -1 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(sup) || sup <= 0)
		return lep_err_new(LEP_E_FAILED, "cannot start '%s'", argv1);
	*pid_out = (long)sup;
	return NULL;
}

/* The revision the supervisor runs when it (re)starts or on SIGHUP. */
static const struct lep_err *
write_desired(struct local_state *ls, const char *name, long long revision)
{
	const struct lep_err	*err;
	char			 buf[32];
	char			*p = dep_path(ls, name, "desired");

	snprintf(buf, sizeof(buf), "%lld\n", revision);
	err = lep_write_atomic(p, buf, strlen(buf), 0600);
	free(p);
	return err;
}

/* Revision revision failed, says st's last_failed: why; else NULL. */
static const struct lep_err *
start_failed(struct local_state *ls, const char *name, int revision,
    const struct lep_json *st)
{
	const struct lep_err	*err;
	const struct lep_json	*lf;
	const char		*msg;
	long long		 n;

	lf = lep_json_get(st, "last_failed");
	if (lep_json_get_ll(lf, "revision", &n) != 0 || n != revision)
		return NULL;
	msg = lep_json_get_str(lf, "message");
	err = lep_err_new(msg && lep_starts_with(msg, "readiness probe") ?
	    LEP_E_TIMEOUT : LEP_E_FAILED, "revision %d of '%s' failed: %s",
	    revision, name, msg ? msg : "unknown error");
	/* The one that still serves is the desired one. */
	if (lep_json_get_ll(st, "active", &n) == 0 && n > 0)
		(void)write_desired(ls, name, n);
	return err;
}

/*
 * Whether the start of revision under supervisor sup_pid is over, by
 * state.json st: 1 when it is (*errp says how; NULL: it serves, as the
 * active revision or the canary), 0 while it goes on.
 */
static int
start_over(const struct lep_err **errp, struct local_state *ls,
    const char *name, int revision, long sup_pid, const struct lep_json *st)
{
	long long	 n, pid = 0;
	const char	*msg;

	(void)lep_json_get_ll(st, "pid", &pid);
	if ((*errp = start_failed(ls, name, revision, st)) != NULL)
		return 1;
	if (pid == sup_pid && ((lep_json_get_ll(st, "active", &n) == 0 &&
	    n == revision) || (lep_json_get_ll(st, "canary", &n) == 0 &&
	    n == revision)))
		return 1;
	if (pid != sup_pid && lep_streq(lep_json_get_str(st, "phase"),
	    "failed") && !lep_proc_alive(sup_pid, 0)) {
		msg = lep_json_get_str(st, "message");
		*errp = lep_err_new(msg && strstr(msg, "readiness probe") ?
		    LEP_E_TIMEOUT : LEP_E_FAILED, "'%s' failed: %s", name,
		    msg ? msg : "unknown error");
		return 1;
	}
	if (!lep_proc_alive(sup_pid, 0)) {
		*errp = lep_err_new(LEP_E_FAILED, "the supervisor of '%s' "
		    "exited unexpectedly; see %s/%s/%s/logs/supervisor.log",
		    name, ls->home, ls->rt->name, name);
		return 1;
	}
	return 0;
}

/* "NAME: revision N PHASE, K/M ready (Ss)" while it starts. */
static void
start_progress(struct local_state *ls, const char *name, int revision,
    const struct lep_json *st, long long t0)
{
	const struct lep_json	*rev, *reps;
	size_t			 i;
	int			 ready;

	rev = find_rev(st, revision);
	reps = lep_json_get(rev, "replicas");
	for (i = 0, ready = 0; i < lep_json_len(reps); i++)
		ready += lep_streq(lep_json_get_str(lep_json_at(reps, i),
		    "state"), "ready");
	lep_out_progress(ls->out, "%s: revision %d %s, %d/%zu ready "
	    "(%llds)", name, revision, rev ? lep_json_get_str(rev,
	    "phase") : "starting", ready, lep_json_len(reps),
	    (lep_now_ms() - t0) / 1000);
}

/*
 * Until revision serves or fails, or SIGINT: state.json every 50 ms,
 * with progress. The state that says it serves in *stp.
 */
static const struct lep_err *
start_poll(struct lep_json **stp, struct local_state *ls, const char *name,
    int revision, long sup_pid, const char *path)
{
	const struct lep_err	*err = NULL;
	struct timespec		 ts = { 0, 50 * 1000 * 1000 };
	long long		 t0 = lep_now_ms();

	for (;;) {
		lep_json_free(*stp);
		*stp = NULL;
		if (interrupted)
			return lep_err_hint(lep_err_new(LEP_E_INTERRUPTED,
			    "interrupted; revision %d of '%s' goes on starting "
			    "in the background", revision, name), "'lepton "
			    "status %s' shows how it does", name);
		if (local_read_json(stp, path) != NULL) {
			if (!lep_proc_alive(sup_pid, 0))
				return lep_err_new(LEP_E_FAILED, "the "
				    "supervisor exited before it started; see "
				    "%s/%s/%s/logs/supervisor.log", ls->home,
				    ls->rt->name, name);
			nanosleep(&ts, NULL);
			continue;
		}
		if (start_over(&err, ls, name, revision, sup_pid, *stp))
			return err;
		start_progress(ls, name, revision, *stp, t0);
		nanosleep(&ts, NULL);
	}
}

static const struct lep_err *
wait_ready(struct lep_deployment **out, struct local_state *ls,
    const char *name, int revision, long sup_pid)
{
	const struct lep_err	*err;
	struct lep_json		*st = NULL;
	struct sigaction	 sa, old;
	char			*path;

	path = dep_path(ls, name, "state.json");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old);
	err = start_poll(&st, ls, name, revision, sup_pid, path);
	sigaction(SIGINT, &old, NULL);
	lep_out_progress_done(ls->out);
	if (err == NULL)
		*out = deployment_from_state(ls, name, st);
	lep_json_free(st);
	free(path);
	return err;
}

/*
 * A supervisor from before: *alive when it serves on (its pid and port),
 * else whatever replicas it left behind are killed and its state goes.
 */
static void
earlier_supervisor(struct local_state *ls, const char *dir, int *alive,
    long long *pid, long long *port)
{
	struct lep_json	*st = NULL;
	char		*p = xasprintf("%s/state.json", dir);
	int		 orphans;

	*alive = 0;
	*pid = *port = 0;
	if (local_read_json(&st, p) == NULL) {
		*alive = sup_alive(st);
		(void)lep_json_get_ll(st, "pid", pid);
		(void)lep_json_get_ll(st, "port", port);
		if (!*alive) {
			signal_replicas(st, SIGKILL, &orphans);
			if (orphans > 0)
				lep_out_warn(ls->out, "killed %d replica "
				    "process(es) left behind by a supervisor "
				    "that died", orphans);
			(void)unlink(p);
		}
	}
	lep_json_free(st);
	free(p);
}

/* The revision's spec and meta (GPUs per replica, the port to keep). */
static const struct lep_err *
write_revision(struct local_state *ls, const char *dir,
    const struct lep_deploy_req *req, long long port, int per,
    struct lep_json *runtime)
{
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*meta = NULL, *cuda;
	char			*p, *gpus;
	int			 i;

	p = xasprintf("%s/rev-%d.json", dir, req->revision);
	err = local_save_spec(&meta, p, sp, req->model_dir);
	free(p);
	if (err != NULL) {
		lep_json_free(runtime);
		return err;
	}
	lep_json_set_int(meta, "revision", req->revision);
	lep_json_set_str(meta, "spec_sha256", req->spec_sha256);
	if (runtime != NULL)
		lep_json_set(meta, "runtime", runtime);
	if (port > 0)
		lep_json_set_int(meta, "prefer_port", port);
	local_detect_gpus(ls);
	if (ls->ngpus > 0) {
		/* Confine each replica to its own GPUs, or to none. */
		cuda = lep_json_arr();
		for (i = 0; i < sp->service.replicas_min; i++) {
			gpus = local_gpu_list(i * per, per);
			lep_json_push(cuda, lep_json_str(gpus));
			free(gpus);
		}
		lep_json_set(meta, "cuda_visible_devices", cuda);
	}
	p = xasprintf("%s/rev-%d.meta.json", dir, req->revision);
	err = lep_write_json(p, meta, 0600);
	free(p);
	lep_json_free(meta);
	return err;
}

/* Tell the running supervisor (SIGHUP), or start one. */
static const struct lep_err *
wake_supervisor(long *sup, struct local_state *ls, const char *name,
    int alive, long long pid)
{
	const struct lep_err	*err;
	char			*p;

	if (alive) {
		*sup = (long)pid;
		if (kill((pid_t)*sup, SIGHUP) == -1)
			return lep_err_errno(LEP_E_FAILED, "cannot signal the "
			    "supervisor (pid %ld)", *sup);
		return NULL;
	}
	p = dep_path(ls, name, "logs/supervisor.log");
	err = local_spawn_lepton(sup, ls->home, ls->rt->super_argv1, name, p);
	free(p);
	return err;
}

const struct lep_err *
local_deploy(struct lep_deployment **out, void *state,
    const struct lep_deploy_req *req)
{
	struct local_state	*ls = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*runtime = NULL;
	char			*dir = NULL, *p;
	long long		 pid, port;
	long			 sup = 0;
	int			 per, alive;

	*out = NULL;
	if (sp->kind != LEP_SPEC_SERVICE)
		return lep_err_new(LEP_E_USAGE, "%s: kind '%s' is trained with "
		    "'lepton train', not deployed", sp->file, "job");
	if ((err = local_place_gpus(ls, sp, &per)) != NULL)
		return err;
	/* What the runtime needs (an image built) before anything changes. */
	if (ls->rt->prepare != NULL &&
	    (err = ls->rt->prepare(ls, sp, req->pin, &runtime)) != NULL)
		return err;
	dir = dep_path(ls, sp->name, NULL);
	p = xasprintf("%s/logs", dir);
	err = lep_mkdirs(p, 0700);
	free(p);
	if (err != NULL) {
		lep_json_free(runtime);
		goto done;
	}
	earlier_supervisor(ls, dir, &alive, &pid, &port);
	if ((err = write_secrets(ls, sp->name, req)) != NULL)
		lep_json_free(runtime);
	else if ((err = write_revision(ls, dir, req, port, per,
	    runtime)) == NULL &&
	    (err = write_desired(ls, sp->name, req->revision)) == NULL &&
	    (err = wake_supervisor(&sup, ls, sp->name, alive, pid)) == NULL)
		err = wait_ready(out, ls, sp->name, req->revision, sup);
done:
	free(dir);
	return err;
}

/* --- canary ---------------------------------------------------------- */

const struct lep_err *
local_update(struct lep_deployment **out, void *state, const char *name,
    int revision, const char *action)
{
	struct local_state	*ls = state;
	const struct lep_err	*err;
	struct lep_json		*st = NULL;
	struct timespec		 ts = { 0, 20 * 1000 * 1000 };
	long long		 pid = 0, active = 0, canary = 0;
	long long		 deadline = lep_now_ms() + 30000;
	char			*p, *text;
	int			 promote = strcmp(action, "promote") == 0;

	*out = NULL;
	if (!promote && strcmp(action, "abort") != 0)
		return lep_err_new(LEP_E_USAGE, "canary action '%s'", action);
	p = dep_path(ls, name, "state.json");
	if ((err = local_read_json(&st, p)) != NULL)
		goto done;
	(void)lep_json_get_ll(st, "pid", &pid);
	(void)lep_json_get_ll(st, "canary", &canary);
	if (!sup_alive(st) || canary != revision) {
		err = lep_err_new(LEP_E_CONFLICT, "revision %d of '%s' is not "
		    "a canary", revision, name);
		goto done;
	}
	free(p);
	p = dep_path(ls, name, "canary");
	text = xasprintf("%s %d\n", action, revision);
	err = lep_write_atomic(p, text, strlen(text), 0600);
	free(text);
	/*
	 * An abort makes the active revision the desired one again, so a
	 * supervisor that starts over (or a later SIGHUP) never brings the
	 * canary back.
	 */
	if (err == NULL && !promote &&
	    lep_json_get_ll(st, "active", &active) == 0 && active > 0)
		err = write_desired(ls, name, active);
	if (err != NULL)
		goto done;
	kill((pid_t)pid, SIGHUP);
	free(p);
	p = dep_path(ls, name, "state.json");
	for (;;) {
		lep_json_free(st);
		st = NULL;
		if (local_read_json(&st, p) == NULL) {
			canary = active = 0;
			(void)lep_json_get_ll(st, "canary", &canary);
			(void)lep_json_get_ll(st, "active", &active);
			if (canary == 0 && (!promote || active == revision))
				break;
		}
		if (lep_now_ms() >= deadline) {
			err = lep_err_new(LEP_E_TIMEOUT, "the supervisor of '%s' "
			    "did not %s revision %d", name, action, revision);
			goto done;
		}
		nanosleep(&ts, NULL);
	}
	*out = deployment_from_state(ls, name, st);
done:
	lep_json_free(st);
	free(p);
	return err;
}

/* --- stop ------------------------------------------------------------ */

static int
wait_gone(long pid, unsigned long long start, long long ms)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	long long	 deadline = lep_now_ms() + ms;

	while (lep_proc_alive(pid, start)) {
		if (lep_now_ms() >= deadline)
			return 0;
		nanosleep(&ts, NULL);
	}
	return 1;
}

const struct lep_err *
local_remove(struct lep_deployment **out, void *state, const char *name,
    int grace_s)
{
	struct local_state	*ls = state;
	const struct lep_err	*err;
	struct lep_json		*st = NULL;
	struct timespec		 ts = { 0, 50 * 1000 * 1000 };
	long long		 pid = 0, deadline;
	unsigned long long	 start;
	char			*p;
	int			 alive;

	*out = NULL;
	p = dep_path(ls, name, "state.json");
	err = local_read_json(&st, p);
	if (err != NULL) {
		free(p);
		if (err->code == LEP_E_NOT_FOUND)
			return lep_err_new(LEP_E_NOT_FOUND, "no deployment "
			    "'%s' on the %s provider", name, ls->rt->name);
		return err;
	}
	(void)lep_json_get_ll(st, "pid", &pid);
	start = local_json_ull(st, "start");
	if (pid > 0 && lep_proc_alive((long)pid, start)) {
		kill((pid_t)pid, SIGTERM);
		if (!wait_gone((long)pid, start, (grace_s + 5) * 1000LL)) {
			lep_out_warn(ls->out, "supervisor %lld did not stop; "
			    "killing it", pid);
			kill((pid_t)pid, SIGKILL);
			(void)wait_gone((long)pid, start, 2000);
		}
	}
	/* Whatever the supervisor left behind ends here, by PID. */
	lep_json_free(st);
	st = NULL;
	if ((err = local_read_json(&st, p)) != NULL) {
		free(p);
		return err;
	}
	signal_replicas(st, SIGTERM, &alive);
	deadline = lep_now_ms() + grace_s * 1000LL;
	while (alive > 0 && lep_now_ms() < deadline) {
		nanosleep(&ts, NULL);
		signal_replicas(st, 0, &alive);
	}
	if (alive > 0)
		signal_replicas(st, SIGKILL, &alive);
	if (!lep_streq(lep_json_get_str(st, "phase"), "stopped") &&
	    !lep_streq(lep_json_get_str(st, "phase"), "failed")) {
		/* The supervisor died without a last word: write it. */
		lep_json_set_int(st, "pid", 0);
		lep_json_set_str(st, "phase", "stopped");
		lep_json_set_int(st, "active", 0);
		lep_json_set(st, "revisions", lep_json_arr());
		(void)lep_write_json(p, st, 0600);
	}
	free(p);
	*out = deployment_from_state(ls, name, st);
	lep_json_free(st);
	return NULL;
}

/* --- endpoint -------------------------------------------------------- */

const struct lep_err *
local_endpoint(char **url_out, char **token_out, void *state,
    const char *name)
{
	struct local_state	*ls = state;
	struct lep_deployment	*d = NULL;
	const struct lep_err	*err;
	struct lep_json		*j = NULL;
	struct lep_buf		 b;
	char			*p;

	*url_out = *token_out = NULL;
	if ((err = local_status(&d, state, name)) != NULL)
		return err;
	if (d->supervisor_pid == 0 || d->ready == 0) {
		err = lep_err_hint(lep_err_new(LEP_E_NOT_RUNNING, "deployment "
		    "'%s' is %s%s%s", name, d->state, d->message ? ": " : "",
		    d->message ? d->message : ""), "'lepton deploy SPEC' "
		    "starts it");
		lep_deployment_free(d);
		return err;
	}
	p = dep_path(ls, name, "secrets.json");
	err = lep_creds_read_file(&b, p, LEP_CREDS_FILE_MAX);
	if (err == NULL)
		err = lep_json_parse(&j, b.buf, b.len, p);
	if (err == NULL && lep_json_get_str(j, "token") != NULL)
		*token_out = xstrdup(lep_json_get_str(j, "token"));
	if (err == NULL)
		*url_out = xstrdup(d->endpoint);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	if (j != NULL) {
		/* Wipe the parsed copy of the token too. */
		const char	*t = lep_json_get_str(j, "token");

		if (t != NULL)
			lep_wipe((char *)(uintptr_t)t, strlen(t));
	}
	lep_json_free(j);
	free(p);
	lep_deployment_free(d);
	return err;
}

/* --- logs ------------------------------------------------------------ */

static int
pid_alive(void *arg)
{
	return lep_proc_alive(*(long *)arg, 0);
}

/* A job's one log, by its id. */
static const struct lep_err *
job_logs(struct local_state *ls, const char *id,
    const struct lep_logs_req *req, struct lep_out *out)
{
	const struct lep_err	*err;
	struct lep_job		*j = NULL;
	struct lep_json		*lines, *res;
	struct lep_logsrc	*src;

	if (req->setup || req->replica >= 0)
		return lep_err_new(LEP_E_USAGE, "'%s' is a job: it has no "
		    "replicas and logs its setup with its run", id);
	if ((err = local_job_status(&j, ls, id)) != NULL)
		return lep_err_new(LEP_E_NOT_FOUND, "no deployment or job "
		    "named '%s' on the %s provider", id, ls->rt->name);
	src = xcalloc(1, sizeof(*src));
	src[0].path = xstrdup(j->log_path);
	lep_strlcpy(src[0].label, "job", sizeof(src[0].label));
	lines = lep_logview_print(src, 1, req, out, j->pid ? pid_alive :
	    NULL, &j->pid);
	if (lines != NULL) {
		res = lep_json_obj();
		lep_json_set_str(res, "job", id);
		lep_json_set(res, "lines", lines);
		lep_out_result(out, res);
	}
	lep_logview_free(src, 1);
	lep_job_free(j);
	return NULL;
}

const struct lep_err *
local_logs(void *state, const char *name, const struct lep_logs_req *req,
    struct lep_out *out)
{
	struct local_state	*ls = state;
	struct lep_deployment	*d = NULL;
	const struct lep_err	*err;
	struct lep_json		*spec = NULL, *lines, *res;
	struct lep_logsrc	*src = NULL;
	struct lep_buf		 b;
	long long		 rev = 0, nrep = 1;
	size_t			 nsrc = 0, i;
	char			*p, revfile[48];

	if ((err = local_status(&d, state, name)) != NULL) {
		if (err->code == LEP_E_NOT_FOUND)
			return job_logs(ls, name, req, out);
		return err;
	}
	p = dep_path(ls, name, "desired");
	if (lep_read_file(&b, p, 64) == NULL) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		(void)lep_parse_ll(&rev, b.buf);
	}
	lep_buf_release(&b);
	free(p);
	if (d->revision > 0)
		rev = d->revision;
	snprintf(revfile, sizeof(revfile), "rev-%lld.json", rev);
	p = dep_path(ls, name, revfile);
	if (local_read_json(&spec, p) == NULL)
		(void)lep_json_get_ll(lep_json_get(lep_json_get(spec,
		    "service"), "replicas"), "min", &nrep);
	free(p);
	lep_json_free(spec);
	src = xcalloc((size_t)nrep + 1, sizeof(*src));
	if (req->setup) {
		src[0].path = xasprintf("%s/r%lld-setup.log", d->log_dir, rev);
		snprintf(src[0].label, sizeof(src[0].label), "setup");
		nsrc = 1;
	} else {
		if (req->replica >= nrep) {
			err = lep_err_new(LEP_E_USAGE, "'%s' has %lld "
			    "replica(s): --replica goes from 0 to %lld", name,
			    nrep, nrep - 1);
			goto done;
		}
		for (i = 0; i < (size_t)nrep; i++) {
			if (req->replica >= 0 && (long long)i != req->replica)
				continue;
			src[nsrc].path = xasprintf("%s/r%lld-%zu.log",
			    d->log_dir, rev, i);
			snprintf(src[nsrc].label, sizeof(src[nsrc].label),
			    "r%zu", i);
			nsrc++;
		}
	}
	lines = lep_logview_print(src, nsrc, req, out, d->supervisor_pid ?
	    pid_alive : NULL, &d->supervisor_pid);
	if (lines != NULL) {
		res = lep_json_obj();
		lep_json_set_str(res, "deployment", name);
		lep_json_set_int(res, "revision", rev);
		lep_json_set(res, "lines", lines);
		lep_out_result(out, res);
	}
done:
	lep_logview_free(src, nsrc);
	lep_deployment_free(d);
	return err;
}

static const struct lep_provider_main local_mains[] = {
	{ LEP_SUPERVISOR_ARGV1, local_supervise_main },
	{ LEP_JOB_ARGV1, local_job_main },
	{ NULL, NULL },
};

const struct lep_provider_ops provider_local = {
	.name = "local",
	.abi = LEP_PROVIDER_ABI,
	.caps = LEP_CAP_SERVICE | LEP_CAP_JOB | LEP_CAP_GPU | LEP_CAP_CANARY |
	    LEP_CAP_REPLICAS | LEP_CAP_SETUP | LEP_CAP_REGIONS,
	.poll_ms = 100,		/* this machine: cheap to ask */
	.mains = local_mains,
	.open = local_open,
	.close = local_close,
	.check = local_check,
	.deploy = local_deploy,
	.status = local_status,
	.logs = local_logs,
	.remove = local_remove,
	.update = local_update,
	.submit = local_submit,
	.job_status = local_job_status,
	.cancel = local_cancel,
	.offers = local_offers,
	.endpoint = local_endpoint,
};
