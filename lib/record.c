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
	if (lep_read_file(&b, p, 1 << 20) == NULL)
		(void)lep_json_parse(&m, b.buf, b.len, p);
	lep_buf_release(&b);
	free(p);
	if (m != NULL)
		return m;
	dir = xstrdup(output);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		p = xasprintf("%s/metrics.json", dir);
		if (lep_read_file(&b, p, 1 << 20) == NULL)
			(void)lep_json_parse(&m, b.buf, b.len, p);
		lep_buf_release(&b);
		free(p);
	}
	free(dir);
	return m;
}

const struct lep_err *
lep_record_job(char **model_out, char **why_out, const char *home,
    const struct lep_job_result *r)
{
	const struct lep_err	*err;
	const struct lep_spec	*sp = r->spec;
	struct lep_state	*st = NULL;
	struct lep_json		*rec, *src, *metrics = NULL, *manifest = NULL;
	struct lep_txn		 txn;
	struct stat		 sb;
	const char		*state = r->state, *model;
	char			*version = NULL, *parent = NULL, *msg, *path;
	char			 ts[32];
	int			 lockfd = -1, created = 0;

	*model_out = *why_out = NULL;
	memset(&txn, 0, sizeof(txn));
	model = sp->has_model ? sp->model.name : sp->name;
	if ((err = lep_lock(&lockfd, home, RECORD_LOCK_MS)) != NULL ||
	    (err = lep_state_open(&st, home, 1)) != NULL)
		goto done;
	if (strcmp(state, "succeeded") == 0 && r->output != NULL) {
		if (stat(r->output, &sb) == -1) {
			state = "failed";
			*why_out = xasprintf("job.outputs.model '%s' was not "
			    "written", sp->job.output_model);
		} else {
			metrics = read_metrics(r->output);
			(void)lep_registry_resolve(&parent, st, model, NULL);
			src = lep_json_obj();
			lep_json_set_str(src, "kind", "job");
			lep_json_set_str(src, "job", r->id);
			lep_json_set_str(src, "spec", sp->file);
			lep_json_set_str(src, "provider", r->provider);
			err = lep_registry_register(&version, &created,
			    &manifest, &txn, st, home, model, r->output, src,
			    metrics, parent);
			lep_json_free(src);
			if (err != NULL)
				goto done;
			*model_out = xasprintf("%s@%s", model, version);
		}
	} else if (r->message != NULL)
		*why_out = xstrdup(r->message);
	rec = lep_json_obj();
	lep_json_set_str(rec, "id", r->id);
	lep_json_set_str(rec, "name", sp->name);
	lep_json_set_str(rec, "provider", r->provider);
	lep_json_set_str(rec, "dir", sp->dir);
	lep_json_set_str(rec, "state", state);
	lep_json_set_int(rec, "exit_code", r->exit_code);
	lep_format_time(ts, sizeof(ts), r->started);
	lep_json_set_str(rec, "started", ts);
	lep_format_time(ts, sizeof(ts), r->ended);
	lep_json_set_str(rec, "ended", ts);
	lep_json_set_str(rec, "model", *model_out);
	lep_json_set(rec, "metrics", metrics ? lep_json_dup(metrics) :
	    lep_json_null());
	lep_json_set(rec, "spec", lep_spec_to_json(sp));
	path = xasprintf("jobs/%s.json", r->id);
	lep_txn_put(&txn, path, lep_json_print(rec, 1));
	free(path);
	lep_json_free(rec);
	if (version != NULL)
		msg = xasprintf("train %s %s (job %s)\n\nLepton-Command: train\n"
		    "Lepton-Job: %s\nLepton-Provider: %s\nLepton-Model: %s\n"
		    "Lepton-Outcome: %s\n", model, version, r->id, r->id,
		    r->provider, *model_out, state);
	else
		msg = xasprintf("train %s: job %s %s\n\nLepton-Command: train\n"
		    "Lepton-Job: %s\nLepton-Provider: %s\nLepton-Outcome: %s\n",
		    model, r->id, state, r->id, r->provider, state);
	err = lep_txn_commit(NULL, st, &txn, msg);
	free(msg);
	if (err == NULL)
		err = lep_ledger_record(home, r->id, NULL, lep_epoch_ms());
done:
	lep_txn_release(&txn);
	lep_json_free(metrics);
	lep_json_free(manifest);
	lep_state_close(st);
	lep_unlock(lockfd);
	free(version);
	free(parent);
	return err;
}
