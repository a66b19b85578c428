/*
 * spec-job.c: the spec's 'job': nodes, restarts, its cost and duration
 * caps, and the model its run writes (outputs).
 */
#include "spec.h"

#include "spec-priv.h"
#include "util.h"
#include "yaml.h"

int
spec_parse_job(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"nodes", "max_restarts", "outputs", "max_cost", "max_duration",
	};
	static const char *const out_keys[] = { "model" };
	const struct lep_yaml_node	*o = NULL;
	int			 rc = 0;

	if (spec_check_keys(s, m, "'job'", keys, LEP_ARRAY_SIZE(keys)) == -1 ||
	    spec_get_int(s, m, "nodes", &sp->job.nodes, 1, 1024) == -1 ||
	    spec_get_int(s, m, "max_restarts", &sp->job.max_restarts, 0,
	    100) == -1 ||
	    spec_get_num(s, m, "max_cost", &sp->job.max_cost,
	    &sp->job.has_max_cost, 0, 1e9) == -1 ||
	    spec_get_duration(s, m, "max_duration", &sp->job.max_duration, 1,
	    366LL * 86400) == -1 ||
	    spec_get(s, m, "outputs", SPEC_MAP, &o) == -1)
		rc = -1;
	else if (o != NULL && (spec_check_keys(s, o, "'outputs'", out_keys,
	    LEP_ARRAY_SIZE(out_keys)) == -1 ||
	    spec_get_string(s, o, "model", &sp->job.output_model, 0) == -1))
		rc = -1;
	return rc;
}
