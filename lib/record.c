/*
 * record.c: a finished job, recorded whatever ran it: one commit in the
 * state repository (jobs/ID.json, and on success the output registered
 * as the model's next version) and its ledger segment closed.
 */
#include "record.h"

#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fs.h"
#include "json.h"
#include "ledger.h"
#include "registry.h"
#include "spec.h"
#include "state.h"
#include "trailer.h"
#include "util.h"

/* A runner may wait this long for deploys and trains to let go. */
#define RECORD_LOCK_MS	(5 * 60 * 1000)

/* metrics.json in the output, or beside it. */
static struct lep_json *
read_metrics(const char *output)
{
	struct lep_json	*m = NULL;
	struct lep_buf	 b;
	char		*p, *dir, *slash;

	p = xasprintf("%s/metrics.json", output);
	if (lep_read_file(&b, p, LEP_FILE_MAX) == NULL)
		(void)lep_json_parse(&m, b.buf, b.len, p);
	lep_buf_release(&b);
	free(p);
	if (m != NULL)
		return m;
	dir = xstrdup(output);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		p = xasprintf("%s/metrics.json", dir);
		if (lep_read_file(&b, p, LEP_FILE_MAX) == NULL)
			(void)lep_json_parse(&m, b.buf, b.len, p);
		lep_buf_release(&b);
		free(p);
	}
	free(dir);
	return m;
}

/*
 * A succeeded job's output registered as the model's next version in txn:
 * *version_out and *model_out ("iris@v3"), or *state_out "failed" and
 * *why_out when the output is missing. *metrics_out: its metrics.json.
 */
static const struct lep_err *
register_output(char **version_out, char **model_out, char **why_out,
    const char **state_out, struct lep_json **metrics_out,
    struct lep_txn *txn, struct lep_state *st, const char *home,
    const struct lep_job_result *r)
{
	const struct lep_err	*err;
	const struct lep_spec	*sp = r->spec;
	struct lep_json		*src, *manifest = NULL;
	struct stat		 sb;
	const char		*model;
	char			*parent = NULL;
	int			 created = 0;

	model = sp->has_model ? sp->model.name : sp->name;
	if (stat(r->output, &sb) == -1) {
		*state_out = "failed";
		*why_out = xasprintf("job.outputs.model '%s' was not written",
		    sp->job.output_model);
		return NULL;
	}
	*metrics_out = read_metrics(r->output);
	(void)lep_registry_resolve(&parent, st, model, NULL);
	src = lep_json_obj();
	lep_json_set_str(src, "kind", "job");
	lep_json_set_str(src, "job", r->id);
	lep_json_set_str(src, "spec", sp->file);
	lep_json_set_str(src, "provider", r->provider);
	err = lep_registry_register(version_out, &created, &manifest, txn, st,
	    home, model, r->output, src, *metrics_out, parent);
	if (err == NULL)
		*model_out = xasprintf("%s@%s", model, *version_out);
	lep_json_free(src);
	lep_json_free(manifest);
	free(parent);
	return err;
}

/*
 * What train wrote in HOME/jobs/ID.json: the offer the job runs on and
 * those tried before it (lib/job.c), or NULL.
 */
static struct lep_json *
read_index(const char *home, const char *id)
{
	struct lep_json	*j = NULL;
	struct lep_buf	 b;
	char		*p = xasprintf("%s/jobs/%s.json", home, id);

	if (lep_read_file(&b, p, LEP_FILE_MAX) == NULL)
		(void)lep_json_parse(&j, b.buf, b.len, p);
	lep_buf_release(&b);
	free(p);
	return j;
}

/* jobs/ID.json: how the job ended, and the spec it ran. Caller frees. */
static char *
job_record_text(const struct lep_job_result *r, const char *state,
    const char *model, const struct lep_json *metrics,
    const struct lep_json *index)
{
	static const char *const copied[] = { "region", "instance",
	    "attempts" };
	const struct lep_json	*v;
	size_t			 i;
	const struct lep_spec	*sp = r->spec;
	struct lep_json		*rec;
	char			*text, ts[32];

	rec = lep_json_obj();
	lep_json_set_str(rec, "id", r->id);
	lep_json_set_str(rec, "name", sp->name);
	lep_json_set_str(rec, "provider", r->provider);
	for (i = 0; i < LEP_ARRAY_SIZE(copied); i++)
		if ((v = lep_json_get(index, copied[i])) != NULL)
			lep_json_set(rec, copied[i], lep_json_dup(v));
	lep_json_set_str(rec, "dir", sp->dir);
	lep_json_set_str(rec, "state", state);
	lep_json_set_int(rec, "exit_code", r->exit_code);
	lep_format_time(ts, sizeof(ts), r->started);
	lep_json_set_str(rec, "started", ts);
	lep_format_time(ts, sizeof(ts), r->ended);
	lep_json_set_str(rec, "ended", ts);
	lep_json_set_str(rec, "model", model);
	lep_json_set(rec, "metrics", metrics ? lep_json_dup(metrics) :
	    lep_json_null());
	lep_json_set(rec, "spec", lep_spec_to_json(sp));
	text = lep_json_print(rec, 1);
	lep_json_free(rec);
	return text;
}

/* The train commit's message; model is "iris@v3" or NULL. Caller frees. */
static char *
job_message(const struct lep_job_result *r, const char *state,
    const char *version, const char *model, const struct lep_json *index)
{
	const struct lep_json	*att = lep_json_get(index, "attempts"), *a;
	size_t			 i;
	const struct lep_spec	*sp = r->spec;
	struct lep_buf		 b = LEP_BUF_INIT;
	const char		*name;
	char			*subject;
	struct lep_trailer	 kv[] = {
		{ LEP_TRAILER_COMMAND, "train" },
		{ LEP_TRAILER_JOB, r->id },
		{ LEP_TRAILER_PROVIDER, r->provider },
		{ LEP_TRAILER_MODEL, model },
		{ LEP_TRAILER_OUTCOME, state },
		{ LEP_TRAILER_REGION, lep_json_get_str(index, "region") },
		{ LEP_TRAILER_INSTANCE, lep_json_get_str(index, "instance") },
	};

	name = sp->has_model ? sp->model.name : sp->name;
	if (version != NULL)
		subject = xasprintf("train %s %s (job %s)", name, version,
		    r->id);
	else
		subject = xasprintf("train %s: job %s %s", name, r->id, state);
	lep_trailer_format(&b, subject, kv, LEP_ARRAY_SIZE(kv));
	/* The offers tried, as lib/failover.c words them. */
	for (i = 0; i < lep_json_len(att); i++) {
		a = lep_json_at(att, i);
		lep_buf_addf(&b, "%s: %s%s%s%s%s: %s\n", LEP_TRAILER_ATTEMPT,
		    lep_json_get_str(a, "provider"),
		    lep_json_get_str(a, "region") ? " " : "",
		    lep_json_get_str(a, "region") ? lep_json_get_str(a,
		    "region") : "", lep_json_get_str(a, "instance") ? " " : "",
		    lep_json_get_str(a, "instance") ? lep_json_get_str(a,
		    "instance") : "", lep_json_get_str(a, "outcome"));
	}
	free(subject);
	return lep_buf_detach(&b, NULL);
}

const struct lep_err *
lep_record_job(char **model_out, char **why_out, const char *home,
    const struct lep_job_result *r)
{
	const struct lep_err	*err;
	struct lep_state	*st = NULL;
	struct lep_json		*metrics = NULL, *index;
	struct lep_txn		 txn;
	const char		*state = r->state;
	char			*version = NULL, *msg, *path;
	int			 lockfd = -1;

	*model_out = *why_out = NULL;
	memset(&txn, 0, sizeof(txn));
	index = read_index(home, r->id);
	if ((err = lep_lock(&lockfd, home, RECORD_LOCK_MS)) != NULL ||
	    (err = lep_state_open(&st, home, 1)) != NULL)
		goto done;
	if (strcmp(state, "succeeded") == 0 && r->output != NULL) {
		if ((err = register_output(&version, model_out, why_out,
		    &state, &metrics, &txn, st, home, r)) != NULL)
			goto done;
	} else if (r->message != NULL)
		*why_out = xstrdup(r->message);
	path = xasprintf("jobs/%s.json", r->id);
	lep_txn_put(&txn, path, job_record_text(r, state, *model_out,
	    metrics, index));
	free(path);
	msg = job_message(r, state, version, *model_out, index);
	err = lep_txn_commit(NULL, st, &txn, msg);
	free(msg);
	if (err == NULL)
		err = lep_ledger_record(home, r->id, NULL, lep_epoch_ms());
done:
	lep_txn_release(&txn);
	lep_json_free(index);
	lep_json_free(metrics);
	lep_state_close(st);
	lep_unlock(lockfd);
	free(version);
	return err;
}
