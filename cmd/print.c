/*
 * print.c: how deploy, status and stop show a deployment as text.
 */
#include <stdio.h>
#include <time.h>

#include "cmd.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/util.h"

static void
replica_rows(struct lep_out *out, const struct lep_replica *r, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		lep_out_printf(out, "  %-8d %-4d %-11s %-8ld %-6d %d\n",
		    r[i].index, r[i].revision, r[i].state, r[i].pid, r[i].port,
		    r[i].restarts);
}

void
lep_cmd_print_deployment(struct lep_out *out, const struct lep_deployment *d,
    int detail)
{
	char	 ts[32];

	if (!detail) {
		lep_out_printf(out, "%-20s %-10s %-10s %3d/%-3d %-4d %s\n",
		    d->name, d->state, d->provider, d->ready, d->desired,
		    d->revision, d->endpoint ? d->endpoint : "-");
		return;
	}
	lep_out_printf(out, "name:        %s\n", d->name);
	if (d->message)
		lep_out_printf(out, "state:       %s (%s)\n", d->state,
		    d->message);
	else
		lep_out_printf(out, "state:       %s\n", d->state);
	lep_out_printf(out, "provider:    %s\n", d->provider);
	lep_out_printf(out, "endpoint:    %s\n", d->endpoint ? d->endpoint :
	    "-");
	lep_out_printf(out, "revision:    %d\n", d->revision);
	if (d->canary)
		lep_out_printf(out, "canary:      revision %d, %d%% of "
		    "connections\n", d->canary, d->canary_percent);
	lep_out_printf(out, "replicas:    %d/%d ready\n", d->ready, d->desired);
	if (d->spec_sha256)
		lep_out_printf(out, "spec:        sha256:%.16s\n",
		    d->spec_sha256);
	if (d->created) {
		lep_format_time(ts, sizeof(ts), d->created);
		lep_out_printf(out, "created:     %s\n", ts);
	}
	if (d->updated) {
		lep_format_time(ts, sizeof(ts), d->updated);
		lep_out_printf(out, "updated:     %s\n", ts);
	}
	if (d->supervisor_pid)
		lep_out_printf(out, "supervisor:  pid %ld\n",
		    d->supervisor_pid);
	if (d->log_dir)
		lep_out_printf(out, "logs:        %s\n", d->log_dir);
	if (d->nreplicas == 0)
		return;
	lep_out_printf(out, "\n  REPLICA  REV  STATE       PID      PORT   "
	    "RESTARTS\n");
	replica_rows(out, d->replicas, d->nreplicas);
	replica_rows(out, d->canary_replicas, d->ncanary);
}

struct lep_json *
lep_cmd_job_json(const struct lep_job *j)
{
	struct lep_json	*o = lep_json_obj();
	char		 ts[32];

	lep_json_set_str(o, "id", j->id);
	lep_json_set_str(o, "name", j->name);
	lep_json_set_str(o, "provider", j->provider);
	lep_json_set_str(o, "state", j->state);
	if (j->exit_code >= 0)
		lep_json_set_int(o, "exit_code", j->exit_code);
	if (j->started) {
		lep_format_time(ts, sizeof(ts), j->started);
		lep_json_set_str(o, "started", ts);
	}
	if (j->ended) {
		lep_format_time(ts, sizeof(ts), j->ended);
		lep_json_set_str(o, "ended", ts);
	}
	lep_json_set_str(o, "model", j->model);
	if (j->message != NULL)
		lep_json_set_str(o, "message", j->message);
	return o;
}

const struct lep_err *
lep_cmd_lock_timeout(long long *ms_out, const struct lep_args *args)
{
	const struct lep_err	*err;
	long long		 s;

	err = lep_args_int(&s, args, "lock-timeout", 10, 0, 3600);
	*ms_out = s * 1000;
	return err;
}
