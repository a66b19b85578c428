/*
 * local-rev.c: the life of one revision under the local supervisor:
 * loaded from rev-N.json, setup, replicas started and probed until all
 * are ready, then serving (or a canary), draining and stopping.
 */
#include "local-priv.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/spec.h"
#include "../lib/util.h"

void
local_rev_free(struct rev *v)
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
	lep_json_free(v->meta);
	free(v->model_dir);
	free(v);
}

/*
 * What the meta record adds to the spec: the model directory, the
 * endpoint port the deployment had and each replica's GPUs.
 */
static void
rev_meta(struct rev *v, const struct lep_json *meta)
{
	const struct lep_json	*cuda;
	const char		*md;
	long long		 pp = 0;
	int			 i;

	if ((md = lep_json_get_str(meta, "model_dir")) != NULL)
		v->model_dir = xstrdup(md);
	(void)lep_json_get_ll(meta, "prefer_port", &pp);
	v->prefer_port = pp > 0 && pp < 65536 ? (int)pp : 0;
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
}

struct rev *
local_rev_load(struct local_sup *s, int num, char *why, size_t whylen)
{
	const struct lep_err	*err;
	struct lep_json		*meta = NULL;
	struct lep_buf		 b, mb;
	struct rev		*v = NULL;
	const char		*dir;
	char			*sp, *mp;

	sp = local_sup_path(s, "rev-%d.json", num);
	mp = local_sup_path(s, "rev-%d.meta.json", num);
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
		local_rev_free(v);
		v = NULL;
		goto done;
	}
	rev_meta(v, meta);
	v->meta = meta;
	meta = NULL;
	v->phase = V_SETUP;
done:
	lep_buf_release(&b);
	lep_buf_release(&mb);
	lep_json_free(meta);
	free(sp);
	free(mp);
	return v;
}

void
local_rev_add(struct local_sup *s, struct rev *v)
{
	struct rev	**pp = &s->revs;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = v;
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

void
local_rev_terminate(struct local_sup *s, struct rev *v, enum vphase phase)
{
	int	 i;

	v->phase = phase;
	for (i = 0; i < v->nreps; i++)
		local_probe_close(&v->reps[i]);
	rev_signal(v, SIGTERM);
	v->kill_at = lep_now_ms() + LOCAL_GRACE_S * 1000;
	s->dirty = 1;
}

void
local_rev_fail(struct local_sup *s, struct rev *v, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	local_slog("revision %d failed: %s", v->num, v->msg);
	local_rev_terminate(s, v, V_FAILED);
	if (v == s->pending) {
		s->pending = NULL;
		s->last_failed = v->num;
		lep_strlcpy(s->last_failed_msg, v->msg,
		    sizeof(s->last_failed_msg));
		if (s->active == NULL && !s->stopping) {
			lep_strlcpy(s->failmsg, v->msg, sizeof(s->failmsg));
			s->fail_exit = 1;
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

/* V_SETUP, once: start the spec's setup, or go on without one. */
static void
rev_setup_start(struct local_sup *s, struct rev *v)
{
	char	 log[64];

	v->setup_started = 1;
	if (v->spec->setup == NULL)
		v->phase = V_STARTING;
	else {
		snprintf(log, sizeof(log), "r%d-setup.log", v->num);
		v->setup_pid = local_sup_spawn(s, v, NULL, v->spec->setup,
		    log);
		if (v->setup_pid <= 0) {
			v->setup_pid = 0;
			local_rev_fail(s, v, "cannot start setup");
		} else
			local_slog("revision %d: setup started (pid %ld)",
			    v->num, (long)v->setup_pid);
		s->dirty = 1;
	}
}

/*
 * V_STARTING: start every replica, then probe them until all are ready
 * or the revision's deadline passes.
 */
static void
rev_tick_starting(struct local_sup *s, struct rev *v, long long now)
{
	int	 i, ready = 0;

	if (v->deadline == 0) {
		v->deadline = now + v->spec->service.ready_timeout * 1000;
		for (i = 0; i < v->nreps; i++)
			local_replica_start(s, v, &v->reps[i]);
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
		s->dirty = 1;
		local_slog("revision %d: all %d replicas ready", v->num,
		    v->nreps);
	} else if (now >= v->deadline)
		local_rev_fail(s, v, "readiness probe GET %s did not pass "
		    "within %llds (%d of %d replicas ready); see 'lepton logs "
		    "%s'",
		    v->spec->service.ready_path,
		    v->spec->service.ready_timeout, ready, v->nreps, s->name);
}

/*
 * V_READY: restart crashed replicas once their backoff is over, probe
 * the restarted ones, and kill those not ready in time.
 */
static void
rev_tick_ready(struct local_sup *s, struct rev *v, long long now)
{
	int	 i;

	for (i = 0; i < v->nreps; i++) {
		struct replica	*r = &v->reps[i];

		if (r->st == R_WAIT && now >= r->next_ms)
			local_replica_start(s, v, r);
		else if (r->st == R_STARTING && r->pr.fd == -1 &&
		    now >= r->probe_ms)
			local_probe_start(r);
		if (r->st == R_STARTING && now >= r->ready_by && r->pid > 0) {
			local_slog("revision %d replica %d: not ready within "
			    "%llds; killing it", v->num, i,
			    v->spec->service.ready_timeout);
			kill(-r->pid, SIGKILL);
			r->ready_by = now + 1000000;
		}
	}
}

void
local_rev_tick(struct local_sup *s, struct rev *v)
{
	long long	 now = lep_now_ms();

	switch (v->phase) {
	case V_SETUP:
		if (!v->setup_started)
			rev_setup_start(s, v);
		break;
	case V_STARTING:
		rev_tick_starting(s, v, now);
		break;
	case V_READY:
		rev_tick_ready(s, v, now);
		break;
	case V_DRAINING:
		if (rev_conns(v) == 0 || now >= v->drain_by) {
			local_proxy_close(&s->conns, v);
			local_slog("revision %d: drained; stopping it", v->num);
			local_rev_terminate(s, v, V_STOPPING);
		}
		break;
	case V_STOPPING:
	case V_FAILED:
		if (!rev_alive(v)) {
			v->phase = V_GONE;
			s->dirty = 1;
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
switch_to_pending(struct local_sup *s)
{
	struct rev	*old = s->active;

	s->active = s->pending;
	s->pending = NULL;
	s->dirty = 1;
	local_slog("revision %d: serving", s->active->num);
	if (old != NULL) {
		old->phase = V_DRAINING;
		old->drain_by = lep_now_ms() + LOCAL_DRAIN_S * 1000;
	}
}

/*
 * The file `canary` says "promote N" (N serves everything; the old
 * active drains) or "abort N" (N stops; the active never stopped).
 * Returns 1 when it acted.
 */
int
local_rev_canary(struct local_sup *s, int want)
{
	struct lep_buf	 b;
	long long	 n = 0;
	char		*p, *sp;
	int		 acted = 0;

	p = local_sup_path(s, "canary");
	if (lep_read_file(&b, p, 64) == NULL && (sp = strchr(b.buf, ' ')) !=
	    NULL) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		(void)lep_parse_ll(&n, sp + 1);
		if (n == s->canary->num && lep_starts_with(b.buf, "promote") &&
		    want == n) {
			s->pending = s->canary;
			s->canary = NULL;
			switch_to_pending(s);
			acted = 1;
		} else if (n == s->canary->num && lep_starts_with(b.buf,
		    "abort")) {
			struct rev	*v = s->canary;

			s->canary = NULL;
			lep_strlcpy(v->msg, "canary aborted", sizeof(v->msg));
			local_slog("revision %d: canary aborted", v->num);
			local_rev_terminate(s, v, V_STOPPING);
			acted = 1;
		}
	}
	lep_buf_release(&b);
	free(p);
	s->dirty = 1;
	return acted;
}

/*
 * The pending revision is ready: a canary beside the active one when
 * its strategy says so, else it serves everything.
 */
void
local_rev_pending_ready(struct local_sup *s)
{
	if (s->active != NULL && s->canary == NULL &&
	    lep_streq(s->pending->spec->service.strategy, "canary")) {
		/* Beside the active one, for its share. */
		s->canary = s->pending;
		s->pending = NULL;
		s->canary_pct = s->canary->spec->service.canary_percent ?
		    s->canary->spec->service.canary_percent : 10;
		s->dirty = 1;
		local_slog("revision %d: canary at %d%%", s->canary->num,
		    s->canary_pct);
	} else
		switch_to_pending(s);
}

void
local_rev_sweep(struct local_sup *s)
{
	struct rev	**pp = &s->revs, *v;

	while ((v = *pp) != NULL) {
		if (v->phase == V_GONE && v != s->active && v != s->pending &&
		    v != s->canary && rev_conns(v) == 0) {
			*pp = v->next;
			local_rev_free(v);
			continue;
		}
		pp = &v->next;
	}
}
