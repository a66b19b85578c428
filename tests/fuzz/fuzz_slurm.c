/*
 * fuzz_slurm.c: what the Slurm provider reads in slurmrestd's answers
 * (providers/slurm-rest.c, slurm-nodes.c, slurm-batch.c): the error an
 * answer carries, a ping, jobs (state, exit, the message for an end)
 * and nodes (state, gres). The first byte picks the HTTP status.
 */
#include "fuzz.h"

#include "../../lib/error.h"
#include "../../lib/http.h"
#include "../../lib/json.h"
#include "../../providers/slurm-priv.h"

static const long statuses[] = { 200, 200, 200, 400, 401, 403, 404, 500 };

static void
job(const struct lep_json *jb)
{
	const char	*st;
	char		*msg;
	int		 retry, code, sig;

	st = slurm_job_state(jb);
	FUZZ_ASSERT(slurm_map_state(st, &retry) != NULL);
	slurm_job_exit(jb, &code, &sig);
	msg = slurm_end_message(jb, 42);
	FUZZ_ASSERT(msg != NULL);
	free(msg);
	(void)slurm_num(jb, "time_limit", -1);
	(void)slurm_num(jb, "start_time", 0);
	(void)slurm_num(jb, "job_id", 0);
}

static void
node(const struct lep_json *n)
{
	struct slurm_gres	 g;
	char			 small[4], st[32];
	const char		*gres;

	slurm_node_state(n, small, sizeof(small));
	slurm_node_state(n, st, sizeof(st));
	FUZZ_ASSERT(strlen(small) < sizeof(small) && strlen(st) < sizeof(st));
	gres = lep_json_get_str(n, "gres");
	slurm_parse_gres(&g, gres);
	FUZZ_ASSERT(g.count >= 0 && g.count < 1 << 20);
	FUZZ_ASSERT(strlen(g.name) < sizeof(g.name));
	if (gres != NULL)
		(void)slurm_lead_int(gres);
	(void)slurm_num(n, "cpus", 0);
	(void)slurm_num(n, "real_memory", 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lep_http_resp	 resp;
	struct lep_json		*j = NULL;
	const struct lep_json	*a;
	const struct lep_err	*err;
	const char		*release;
	size_t			 i;
	int			 refused = 0;

	if (size < 1)
		return 0;
	lep_http_resp_init(&resp);
	resp.status = statuses[data[0] % LEP_ARRAY_SIZE(statuses)];
	lep_buf_addn(&resp.body, data + 1, size - 1);
	err = slurm_parse_answer(&j, &refused, &resp);
	if (err != NULL) {
		FUZZ_ASSERT(j == NULL);
		FUZZ_ASSERT(err->msg[0] != '\0');
		goto done;
	}
	(void)slurm_ping_answer(&release, j);
	FUZZ_ASSERT(release != NULL);
	a = lep_json_get(j, "jobs");
	for (i = 0; i < lep_json_len(a) && i < 16; i++)
		job(lep_json_at(a, i));
	job(j);
	a = lep_json_get(j, "nodes");
	for (i = 0; i < lep_json_len(a) && i < 16; i++)
		node(lep_json_at(a, i));
done:
	lep_json_free(j);
	lep_http_resp_release(&resp);
	return 0;
}
