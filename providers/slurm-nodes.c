/*
 * slurm-nodes.c: the Slurm cluster's nodes as the provider sees them: GPUs
 * from their gres, which ones can hold a spec (check), what they offer
 * (offers, priced from config.json) and what `lepton check` reports.
 */
#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slurm-priv.h"
#include "../lib/catalog.h"
#include "../lib/config.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/spec.h"
#include "../lib/util.h"

int
slurm_lead_int(const char *s)
{
	long	 v = strtol(s, NULL, 10);

	return v > 0 && v < 1 << 20 ? (int)v : 0;
}

void
slurm_parse_gres(struct slurm_gres *g, const char *s)
{
	const char	*p, *end;
	char		 item[128], *c1, *c2;
	size_t		 n;

	memset(g, 0, sizeof(*g));
	for (p = s; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p) < sizeof(item) - 1 ?
		    (size_t)(end - p) : sizeof(item) - 1;
		memcpy(item, p, n);
		item[n] = '\0';
		item[strcspn(item, "(")] = '\0';
		if (strncmp(item, "gpu", 3) != 0 || (item[3] != ':' &&
		    item[3] != '\0'))
			continue;
		c1 = strchr(item, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 != NULL) {
			*c2 = '\0';
			lep_strlcpy(g->name, c1 + 1, sizeof(g->name));
			g->count = slurm_lead_int(c2 + 1);
		} else if (c1 != NULL)
			g->count = slurm_lead_int(c1 + 1);
		return;
	}
}

static int
node_usable(const struct lep_json *node)
{
	char	 st[32];

	slurm_node_state(node, st, sizeof(st));
	return strcmp(st, "down") != 0 && strcmp(st, "drained") != 0 &&
	    strcmp(st, "draining") != 0 && strcmp(st, "drain") != 0 &&
	    strcmp(st, "fail") != 0 && strcmp(st, "future") != 0 &&
	    strcmp(st, "unknown") != 0 && strcmp(st, "inval") != 0;
}

static int
in_partition(const struct lep_json *node, const char *part)
{
	const struct lep_json	*ps = lep_json_get(node, "partitions");
	size_t			 i;

	if (part == NULL)
		return 1;
	for (i = 0; i < lep_json_len(ps); i++)
		if (lep_streq(lep_json_string(lep_json_at(ps, i)), part))
			return 1;
	return 0;
}

const char *
slurm_partition(const struct slurm_state *s, const struct lep_spec *sp)
{
	return sp->placement.partition ? sp->placement.partition :
	    s->partition;
}

/* Can a node hold one task of the spec? Why not, in why. */
static int
node_fits(const struct lep_json *node, const struct lep_spec *sp,
    char *why, size_t len)
{
	const char	*name = lep_json_get_str(node, "name");
	struct slurm_gres g;
	long long	 cpus = slurm_num(node, "cpus", 0);
	long long	 mem = slurm_num(node, "real_memory", 0);
	size_t		 i;

	if (sp->resources.has_cpus && (double)cpus < sp->resources.cpus) {
		snprintf(why, len, "node %s has %lld CPUs", name, cpus);
		return 0;
	}
	if (sp->resources.has_memory &&
	    (double)mem < sp->resources.memory * 1024) {
		snprintf(why, len, "node %s has %lld MiB of memory", name,
		    mem);
		return 0;
	}
	if (sp->resources.naccels == 0 && !sp->resources.accel_any)
		return 1;
	slurm_parse_gres(&g, lep_json_get_str(node, "gres"));
	if (sp->resources.accel_any)
		return g.count > 0;
	for (i = 0; i < sp->resources.naccels; i++)
		if ((g.name[0] == '\0' || lep_accel_match(
		    sp->resources.accels[i].name, g.name)) &&
		    g.count >= sp->resources.accels[i].count)
			return 1;
	snprintf(why, len, "node %s has %d GPU(s)%s%s", name, g.count,
	    g.name[0] ? " of type " : "", g.name);
	return 0;
}

static const struct lep_err *
get_nodes(struct lep_json **out, struct slurm_state *s)
{
	return slurm_call(out, s, "GET", "/nodes", NULL);
}

const struct lep_err *
slurm_check(void *state, const struct lep_spec *sp)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*ans = NULL, *nodes;
	const char		*part = slurm_partition(s, sp);
	char			 why[160] = "";
	size_t			 i, inpart = 0, fit = 0;
	int			 want = sp->kind == LEP_SPEC_JOB &&
				     sp->job.nodes > 1 ? sp->job.nodes : 1;

	if ((err = get_nodes(&ans, s)) != NULL)
		return err;
	nodes = lep_json_get(ans, "nodes");
	for (i = 0; i < lep_json_len(nodes); i++) {
		const struct lep_json	*n = lep_json_at(nodes, i);

		if (!in_partition(n, part))
			continue;
		inpart++;
		if (node_usable(n) && node_fits(n, sp, why, sizeof(why)))
			fit++;
	}
	lep_json_free(ans);
	if (inpart == 0)
		return lep_err_hint(lep_err_new(LEP_E_INFEASIBLE, "%s: the "
		    "Slurm cluster has no nodes%s%s%s", sp->file,
		    part ? " in partition '" : "", part ? part : "",
		    part ? "'" : ""), "placement.partition, or slurm."
		    "partition in config.json, picks another");
	if (fit < (size_t)want)
		return lep_err_new(LEP_E_INFEASIBLE, "%s: %zu node(s) of the "
		    "Slurm cluster%s%s%s can hold it, %d needed%s%s", sp->file,
		    fit, part ? " (partition " : "", part ? part : "",
		    part ? ")" : "", want, why[0] ? ": " : "", why);
	return NULL;
}

/*
 * With no slurmrestd to ask, the offers the cluster declares in
 * config.json ("slurm": {"gpus": {"A100": 8}, "cpus": 128, ...}), so that
 * a plan can still be priced; none when it declares nothing.
 */
static const struct lep_err *
declared_offers(struct lep_catalog **out, const struct lep_config_file *cf)
{
	const char		*provider = provider_slurm.name;
	const struct lep_json	*cl = lep_config_get(cf, provider), *gpus, *g;
	const struct lep_err	*err;
	struct lep_catalog	*c;
	struct lep_offer	 o;
	int64_t			 hourly, rate;
	long long		 n, k;
	size_t			 i;

	*out = NULL;
	if (cl == NULL)
		return NULL;
	if ((err = lep_config_rate(&hourly, cf, provider)) != NULL)
		return err;
	c = lep_catalog_new(provider);
	memset(&o, 0, sizeof(o));
	o.instance = "cluster";
	o.acc_name = "";
	o.region = lep_json_get_str(cl, "region") ?
	    lep_json_get_str(cl, "region") : provider;
	o.zone = "";
	o.elastic = 1;
	o.vcpus = lep_json_get_ll(cl, "cpus", &n) == 0 ? (double)n : -1;
	o.mem = lep_json_get_ll(cl, "memory", &n) == 0 ? (double)n : -1;
	o.price = hourly;
	o.spot = -1;
	lep_catalog_add(c, &o);
	gpus = lep_json_get(cl, "gpus");
	for (i = 0; i < lep_json_len(gpus); i++) {
		g = lep_json_at(gpus, i);
		if ((err = lep_config_gpu_rate(&rate, cf, provider,
		    lep_json_key(g))) != NULL) {
			lep_catalog_free(c);
			return err;
		}
		if (lep_json_ll(g, &n) != 0)
			n = 0;
		o.acc_name = lep_json_key(g);
		for (k = 1; k <= n && k <= 64; k++) {
			o.acc_count = (int)k;
			o.price = hourly + rate * k;
			lep_catalog_add(c, &o);
		}
	}
	*out = c;
	return NULL;
}

const struct lep_err *
slurm_offers(struct lep_catalog **out, void *state)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_config_file	 cf;
	struct lep_json		*ans = NULL, *nodes;
	struct lep_catalog	*c;
	struct lep_offer	 o;
	struct slurm_gres	 g;
	int64_t			 hourly = 0, rate = 0;
	size_t			 i;
	int			 k;

	*out = NULL;
	if ((err = lep_config_load(&cf, s->home)) != NULL)
		return err;
	if (s->url == NULL) {
		err = declared_offers(out, &cf);
		lep_config_release(&cf);
		return err;
	}
	if ((err = lep_config_rate(&hourly, &cf,
	    provider_slurm.name)) != NULL ||
	    (err = get_nodes(&ans, s)) != NULL) {
		lep_config_release(&cf);
		return err;
	}
	c = lep_catalog_new(provider_slurm.name);
	nodes = lep_json_get(ans, "nodes");
	for (i = 0; i < lep_json_len(nodes); i++) {
		const struct lep_json	*n = lep_json_at(nodes, i);
		const struct lep_json	*ps = lep_json_get(n, "partitions");

		if (!node_usable(n))
			continue;
		memset(&o, 0, sizeof(o));
		o.instance = lep_json_get_str(n, "name");
		o.region = lep_json_len(ps) > 0 ?
		    lep_json_string(lep_json_at(ps, 0)) : provider_slurm.name;
		o.zone = "";
		o.acc_name = "";
		o.vcpus = (double)slurm_num(n, "cpus", 0);
		o.mem = (double)slurm_num(n, "real_memory", 0) / 1024.0;
		o.price = hourly;
		o.spot = -1;
		o.elastic = 1;
		lep_catalog_add(c, &o);
		slurm_parse_gres(&g, lep_json_get_str(n, "gres"));
		if (g.count > 0 && (err = lep_config_gpu_rate(&rate, &cf,
		    provider_slurm.name, g.name[0] ? g.name : "gpu")) != NULL)
			break;
		for (k = 1; k <= g.count && k <= 64; k++) {
			o.acc_name = g.name[0] ? g.name : "gpu";
			o.acc_count = k;
			o.price = hourly + rate * k;
			lep_catalog_add(c, &o);
		}
	}
	lep_json_free(ans);
	lep_config_release(&cf);
	if (err != NULL) {
		lep_catalog_free(c);
		return err;
	}
	*out = c;
	return NULL;
}

/* Push the string str onto the array a unless a holds it already. */
static void
add_once(struct lep_json *a, const char *str)
{
	size_t	 m;

	for (m = 0; m < lep_json_len(a); m++)
		if (lep_streq(lep_json_string(lep_json_at(a, m)), str))
			break;
	if (m == lep_json_len(a))
		lep_json_push(a, lep_json_str(str));
}

const struct lep_err *
slurm_probe(struct lep_json **report, void *state)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*r, *ans = NULL, *nodes, *parts;
	size_t			 i, k, usable = 0;
	char			*server;

	r = lep_json_obj();
	*report = r;
	lep_json_set_str(r, "url", s->url);
	lep_json_set_str(r, "url_from", s->url_from);
	lep_json_set_str(r, "user", s->user);
	lep_json_set_str(r, "user_from", s->user_from);
	lep_json_set_str(r, "token_from", s->token_from);
	lep_json_set_str(r, "shared_dir", s->dir);
	lep_json_set_bool(r, "configured", s->url != NULL);
	s->fresh = 1;	/* a check asks the server, not a cache */
	if ((err = slurm_discover(s)) != NULL)
		return err;
	lep_json_set_str(r, "release", s->release);
	lep_json_set_int(r, "api", s->api);
	server = xasprintf("Slurm %s, API v0.0.%d", s->release, s->api);
	lep_json_set_str(r, "server", server);
	free(server);
	lep_json_set_bool(r, "token_accepted", 1);
	if ((err = get_nodes(&ans, s)) != NULL)
		return err;
	nodes = lep_json_get(ans, "nodes");
	parts = lep_json_arr();
	for (i = 0; i < lep_json_len(nodes); i++) {
		const struct lep_json	*n = lep_json_at(nodes, i);
		const struct lep_json	*ps = lep_json_get(n, "partitions");

		usable += node_usable(n);
		for (k = 0; k < lep_json_len(ps); k++)
			add_once(parts, lep_json_string(lep_json_at(ps, k)));
	}
	lep_json_set_int(r, "nodes", (long long)lep_json_len(nodes));
	lep_json_set_int(r, "nodes_usable", (long long)usable);
	lep_json_set(r, "partitions", parts);
	lep_json_free(ans);
	return NULL;
}
