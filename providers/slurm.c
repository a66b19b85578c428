/*
 * slurm.c: the Slurm provider. Jobs and services are Slurm batch jobs
 * submitted through slurmrestd (slurm-rest.c); their scripts, logs and
 * records live in the shared directory (slurm-priv.h), which the nodes
 * must see at the same path: each script first checks a probe file
 * written there, and exits 97 with a clear message when it is missing.
 *
 * A job: one allocation of job.nodes nodes; srun starts one task per node
 * with LEPTON_NODE_RANK (SLURM_NODEID), LEPTON_NUM_NODES,
 * LEPTON_MASTER_ADDR (the first node's address) and LEPTON_MASTER_PORT.
 * Its end is recorded (and its output registered) by whichever lepton
 * first sees it end; NODE_FAIL and PREEMPTED resubmit it up to
 * job.max_restarts times.
 *
 * A service: one job on one node that serves on a free port it picks and
 * writes to the shared directory; ready when readiness.path answers 200.
 * A new revision starts beside the old one, and the old one is cancelled
 * only once the new one is ready.
 */
#include "provider.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slurm-priv.h"
#include "../lib/catalog.h"
#include "../lib/config.h"
#include "../lib/creds.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/http.h"
#include "../lib/record.h"
#include "../lib/json.h"
#include "../lib/logview.h"
#include "../lib/out.h"
#include "../lib/spec.h"
#include "../lib/util.h"

#define SLURM_POLL_FAST_MS	100	/* the first seconds of a wait */
#define SLURM_POLL_MS		500	/* after them */
#define SLURM_FAST_FOR_MS	5000
#define SLURM_PROBE_MS		2000	/* one readiness probe */

static const struct lep_err *
slurm_open(void **state_out, const struct lep_config *cfg)
{
	struct slurm_state	*s;
	const struct lep_err	*err;

	*state_out = NULL;
	if ((err = slurm_state_new(&s, cfg->home, cfg->out)) != NULL)
		return err;
	*state_out = s;
	return NULL;
}

static void
slurm_close(void *state)
{
	slurm_state_free(state);
}

/* Wait before asking Slurm again: often at first, then less. */
static void
poll_pause(long long since_ms)
{
	long		 ms = lep_now_ms() - since_ms < SLURM_FAST_FOR_MS ?
			    SLURM_POLL_FAST_MS : SLURM_POLL_MS;
	struct timespec	 ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* --- nodes and placement ---------------------------------------------- */

struct gres {
	char	 name[64];	/* "" when the gres names no type */
	int	 count;
};

/* The leading decimal number of s (0 when none). */
static int
lead_int(const char *s)
{
	long	 v = strtol(s, NULL, 10);

	return v > 0 && v < 1 << 20 ? (int)v : 0;
}

/* "gpu:h100:4(S:0-1),gpu:a100:2" -> the first GPU entry. */
static void
parse_gres(struct gres *g, const char *s)
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
			g->count = lead_int(c2 + 1);
		} else if (c1 != NULL)
			g->count = lead_int(c1 + 1);
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

static const char *
partition_of(const struct slurm_state *s, const struct lep_spec *sp)
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
	struct gres	 g;
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
	parse_gres(&g, lep_json_get_str(node, "gres"));
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

static const struct lep_err *
slurm_check(void *state, const struct lep_spec *sp)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*ans = NULL, *nodes;
	const char		*part = partition_of(s, sp);
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
		n = (long long)lep_json_number(g);
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

static const struct lep_err *
slurm_offers(struct lep_catalog **out, void *state)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_config_file	 cf;
	struct lep_json		*ans = NULL, *nodes;
	struct lep_catalog	*c;
	struct lep_offer	 o;
	struct gres		 g;
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
	if ((err = lep_config_rate(&hourly, &cf, "slurm")) != NULL ||
	    (err = get_nodes(&ans, s)) != NULL) {
		lep_config_release(&cf);
		return err;
	}
	c = lep_catalog_new("slurm");
	nodes = lep_json_get(ans, "nodes");
	for (i = 0; i < lep_json_len(nodes); i++) {
		const struct lep_json	*n = lep_json_at(nodes, i);
		const struct lep_json	*ps = lep_json_get(n, "partitions");

		if (!node_usable(n))
			continue;
		memset(&o, 0, sizeof(o));
		o.instance = lep_json_get_str(n, "name");
		o.region = lep_json_len(ps) > 0 ?
		    lep_json_string(lep_json_at(ps, 0)) : "slurm";
		o.zone = "";
		o.acc_name = "";
		o.vcpus = (double)slurm_num(n, "cpus", 0);
		o.mem = (double)slurm_num(n, "real_memory", 0) / 1024.0;
		o.price = hourly;
		o.spot = -1;
		o.elastic = 1;
		lep_catalog_add(c, &o);
		parse_gres(&g, lep_json_get_str(n, "gres"));
		if (g.count > 0 && (err = lep_config_gpu_rate(&rate, &cf,
		    "slurm", g.name[0] ? g.name : "gpu")) != NULL)
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

/* --- scripts ----------------------------------------------------------- */

/* s in single quotes for a shell. */
static void
add_quoted(struct lep_buf *b, const char *s)
{
	lep_buf_addch(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			lep_buf_add(b, "'\\''");
		else
			lep_buf_addch(b, *s);
	}
	lep_buf_addch(b, '\'');
}

/*
 * The batch script: check the shared directory, pick ports, then one
 * task per node (srun) running setup.sh and run.sh from dir.
 */
static char *
batch_script(const char *dir, const char *probe, const struct lep_spec *sp,
    int nodes, int service)
{
	struct lep_buf	 b = LEP_BUF_INIT;

	lep_buf_add(&b, "#!/bin/bash\n# written by lepton: ");
	lep_buf_add(&b, service ? "service " : "job ");
	lep_buf_add(&b, sp->name);
	lep_buf_add(&b, "\nd=");
	add_quoted(&b, dir);
	lep_buf_addf(&b, "\nif [ \"$(cat \"$d/probe\" 2>/dev/null)\" != '%s' ]"
	    "; then\n\techo \"lepton: $d is not visible on $(hostname): "
	    "the lepton home (or slurm.shared_dir) must be on storage every "
	    "node mounts at the same path\" >&2\n\texit %d\nfi\n", probe,
	    SLURM_EXIT_NOT_SHARED);
	lep_buf_add(&b, "cd ");
	add_quoted(&b, sp->dir);
	lep_buf_addf(&b, " || { echo \"lepton: the spec's directory is not "
	    "visible on $(hostname): it must be on shared storage\" >&2; "
	    "exit %d; }\n", SLURM_EXIT_NOT_SHARED);
	/*
	 * A port no socket of this node uses (listening on any address, or
	 * the local end of a connection), below the ephemeral range so that
	 * an outgoing connection cannot take it meanwhile.
	 */
	lep_buf_add(&b, "free_port() {\n"
	    "\tlocal p i lo hi\n"
	    "\tread -r lo hi </proc/sys/net/ipv4/ip_local_port_range "
	    "2>/dev/null || lo=32768\n"
	    "\t[ \"$lo\" -gt 16000 ] || lo=60000\n"
	    "\tfor i in $(seq 1 200); do\n"
	    "\t\tp=$((15000 + RANDOM % (lo - 15000)))\n"
	    "\t\tawk -v h=\"$(printf ':%04X' \"$p\")\" "
	    "'$2 ~ h\"$\" { f = 1 } END { exit !f }' "
	    "/proc/net/tcp /proc/net/tcp6 2>/dev/null && continue\n"
	    "\t\t(exec 3<>\"/dev/tcp/127.0.0.1/$p\") 2>/dev/null && "
	    "continue\n"
	    "\t\techo \"$p\"\n\t\treturn 0\n"
	    "\tdone\n\treturn 1\n}\n");
	lep_buf_add(&b, "export LEPTON_NUM_NODES=$SLURM_JOB_NUM_NODES\n"
	    "export LEPTON_MASTER_PORT=$(free_port)\n");
	if (service) {
		if (sp->service.port > 0)
			lep_buf_addf(&b, "export LEPTON_PORT=%d\n",
			    sp->service.port);
		else
			lep_buf_add(&b, "export LEPTON_PORT=$(free_port)\n");
		lep_buf_add(&b, "echo \"$LEPTON_PORT\" >\"$d/port.tmp\" && "
		    "mv \"$d/port.tmp\" \"$d/port\"\n");
	}
	lep_buf_addf(&b, "srun --nodes=%d --ntasks=%d --ntasks-per-node=1 "
	    "--kill-on-bad-exit=1 bash -c 'export LEPTON_NODE_RANK="
	    "$SLURM_NODEID LEPTON_MASTER_ADDR=$SLURM_LAUNCH_NODE_IPADDR; "
	    "if [ -f \"$0/setup.sh\" ]; then sh \"$0/setup.sh\" || exit $?; "
	    "fi; exec sh \"$0/run.sh\"' \"$d\"\n", nodes, nodes);
	return lep_buf_detach(&b, NULL);
}

/* Write what a run needs into dir: the probe, setup.sh, run.sh, spec. */
static const struct lep_err *
write_run_dir(char probe[33], const char *dir, const struct lep_spec *sp)
{
	const struct lep_err	*err;
	struct lep_json		*spec;
	char			*p;

	if ((err = lep_mkdirs(dir, 0700)) != NULL ||
	    (err = lep_random_hex(probe, 16)) != NULL)
		return err;
	p = xasprintf("%s/probe", dir);
	err = lep_write_atomic(p, probe, strlen(probe), 0600);
	free(p);
	if (err == NULL && sp->setup != NULL) {
		p = xasprintf("%s/setup.sh", dir);
		err = lep_write_atomic(p, sp->setup, strlen(sp->setup), 0600);
		free(p);
	}
	if (err == NULL) {
		p = xasprintf("%s/run.sh", dir);
		err = lep_write_atomic(p, sp->run, strlen(sp->run), 0600);
		free(p);
	}
	if (err == NULL) {
		spec = lep_spec_to_json(sp);
		p = xasprintf("%s/spec.json", dir);
		err = lep_write_json(p, spec, 0600);
		free(p);
		lep_json_free(spec);
	}
	return err;
}

/* The job's environment: a few of ours, the spec's, secrets, extra. */
static struct lep_json *
job_env(const struct lep_spec *sp, const struct lep_json *secret_env,
    const char *const *extra)
{
	static const char *const pass[] = {
		"PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME",
	};
	struct lep_json	*e = lep_json_obj();
	const char	*v, *eq;
	char		*k;
	size_t		 i;

	for (i = 0; i < LEP_ARRAY_SIZE(pass); i++)
		if ((v = getenv(pass[i])) != NULL)
			lep_json_set_str(e, pass[i], v);
	for (i = 0; i < sp->nenv; i++)
		lep_json_set_str(e, sp->env[i].key, sp->env[i].value);
	for (i = 0; i < lep_json_len(secret_env); i++) {
		const struct lep_json	*m = lep_json_at(secret_env, i);

		lep_json_set_str(e, lep_json_key(m), lep_json_string(m));
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		eq = strchr(extra[i], '=');
		k = xstrndup(extra[i], (size_t)(eq - extra[i]));
		lep_json_set_str(e, k, eq + 1);
		free(k);
	}
	return e;
}

/* The submit request in the shape the server's version wants. */
static struct lep_json *
submit_body(const struct slurm_state *s, const struct lep_spec *sp,
    const char *name, const char *script, const char *log,
    struct lep_json *env, int nodes, long long limit_min)
{
	struct lep_json	*body = lep_json_obj(), *job = lep_json_obj(), *a;
	const char	*part = partition_of(s, sp);
	const char	*acct = sp->placement.account ? sp->placement.account :
			    s->account;
	int		 newer = s->api >= SLURM_API_NEW_SHAPES;
	long long	 cpus = 1, mem = 0;
	size_t		 i;
	char		*gres = NULL;

	if (sp->resources.has_cpus && sp->resources.cpus > 1)
		cpus = (long long)(sp->resources.cpus + 0.999);
	if (sp->resources.has_memory)
		mem = (long long)(sp->resources.memory * 1024 + 0.5);
	if (sp->resources.naccels > 0)
		gres = xasprintf("gpu:%s:%d", sp->resources.accels[0].name,
		    sp->resources.accels[0].count);
	lep_json_set_str(job, "name", name);
	if (part != NULL)
		lep_json_set_str(job, "partition", part);
	if (acct != NULL)
		lep_json_set_str(job, "account", acct);
	lep_json_set_str(job, "standard_output", log);
	lep_json_set_str(job, "current_working_directory", sp->dir);
	lep_json_set_int(job, "tasks", nodes);
	lep_json_set_int(job, "tasks_per_node", 1);
	lep_json_set_int(job, "cpus_per_task", cpus);
	/*
	 * A resubmitted job's output follows the first one's (open_mode).
	 * lepton resubmits (job.max_restarts), not Slurm behind it; the
	 * v0.0.38 parser reads "requeue": false as true, so there it is
	 * left to the cluster's JobRequeue (reconcile counts its requeues).
	 */
	if (newer) {
		struct lep_json	*v;

		lep_json_set_bool(job, "requeue", 0);
		a = lep_json_arr();
		lep_json_push(a, lep_json_str("APPEND"));
		lep_json_set(job, "open_mode", a);
		lep_json_set_int(job, "minimum_nodes", nodes);
		lep_json_set_int(job, "maximum_nodes", nodes);
		if (limit_min > 0) {
			v = lep_json_obj();
			lep_json_set_bool(v, "set", 1);
			lep_json_set_bool(v, "infinite", 0);
			lep_json_set_int(v, "number", limit_min);
			lep_json_set(job, "time_limit", v);
		}
		if (mem > 0) {
			v = lep_json_obj();
			lep_json_set_bool(v, "set", 1);
			lep_json_set_bool(v, "infinite", 0);
			lep_json_set_int(v, "number", mem);
			lep_json_set(job, "memory_per_node", v);
		}
		if (gres != NULL) {
			char	*t = xasprintf("gres/%s", gres);

			lep_json_set_str(job, "tres_per_node", t);
			free(t);
		}
		a = lep_json_arr();
		for (i = 0; i < lep_json_len(env); i++) {
			const struct lep_json	*m = lep_json_at(env, i);
			char	*kv = xasprintf("%s=%s", lep_json_key(m),
			    lep_json_string(m));

			lep_json_push(a, lep_json_str(kv));
			lep_wipe(kv, strlen(kv));
			free(kv);
		}
		lep_json_set(job, "environment", a);
		lep_json_free_wiped(env);
		lep_json_set_str(job, "script", script);
	} else {
		lep_json_set_str(job, "open_mode", "append");
		a = lep_json_arr();
		lep_json_push(a, lep_json_int(nodes));
		lep_json_push(a, lep_json_int(nodes));
		lep_json_set(job, "nodes", a);
		if (limit_min > 0)
			lep_json_set_int(job, "time_limit", limit_min);
		if (mem > 0)
			lep_json_set_int(job, "memory_per_node", mem);
		if (gres != NULL)
			lep_json_set_str(job, "gres", gres);
		lep_json_set(job, "environment", env);
		lep_json_set_str(body, "script", script);
	}
	free(gres);
	lep_json_set(body, "job", job);
	return body;
}

static const struct lep_err *
submit(long long *id_out, struct slurm_state *s, struct lep_json *body)
{
	const struct lep_err	*err;
	struct lep_json		*ans = NULL;
	long long		 id = 0;

	*id_out = 0;
	err = slurm_call(&ans, s, "POST", "/job/submit", body);
	if (err == NULL && (lep_json_get_ll(ans, "job_id", &id) != 0 ||
	    id <= 0))
		err = lep_err_new(LEP_E_PROVIDER, "slurmrestd accepted the job "
		    "but gave no job_id");
	lep_json_free(ans);
	*id_out = id;
	return err;
}

/* The Slurm job's record (jobs[0]); NOT_FOUND once Slurm forgot it. */
static const struct lep_err *
get_job(struct lep_json **out, struct slurm_state *s, long long id)
{
	const struct lep_err	*err;
	struct lep_json		*ans = NULL, *jobs;
	char			 path[64];

	*out = NULL;
	snprintf(path, sizeof(path), "/job/%lld", id);
	if ((err = slurm_call(&ans, s, "GET", path, NULL)) != NULL)
		return err;
	jobs = lep_json_get(ans, "jobs");
	if (lep_json_len(jobs) == 0) {
		lep_json_free(ans);
		return lep_err_new(LEP_E_NOT_FOUND, "Slurm has no job %lld",
		    id);
	}
	*out = lep_json_dup(lep_json_at(jobs, 0));
	lep_json_free(ans);
	return NULL;
}

static const struct lep_err *
cancel_job(struct slurm_state *s, long long id)
{
	const struct lep_err	*err;
	struct lep_json		*ans = NULL;
	char			 path[64];

	snprintf(path, sizeof(path), "/job/%lld", id);
	err = slurm_call(&ans, s, "DELETE", path, NULL);
	lep_json_free(ans);
	/* Gone already, or finished: nothing left to cancel. */
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = NULL;
	return err;
}

/* Wait up to grace_s for a job to end; its final record, or NULL. */
static struct lep_json *
wait_end(struct slurm_state *s, long long id, int grace_s)
{
	struct lep_json	*j = NULL;
	long long	 t0 = lep_now_ms(), until = t0 + (long long)grace_s * 1000;
	int		 retry;

	for (;;) {
		lep_json_free(j);
		j = NULL;
		if (get_job(&j, s, id) != NULL)
			return NULL;
		if (strcmp(slurm_map_state(slurm_job_state(j), &retry),
		    "running") != 0 || lep_now_ms() >= until)
			return j;
		poll_pause(t0);
	}
}

/* Why a finished Slurm job did not succeed, in words; caller frees. */
static char *
end_message(const struct lep_json *j, long long id)
{
	const char	*st = slurm_job_state(j);
	const char	*reason = lep_json_get_str(j, "state_reason");
	int		 code, sig;

	slurm_job_exit(j, &code, &sig);
	if (code == SLURM_EXIT_NOT_SHARED)
		return xasprintf("Slurm job %lld could not see the shared "
		    "directory (see its log)", id);
	if (sig > 0)
		return xasprintf("Slurm job %lld %s (signal %d%s%s)", id, st,
		    sig, reason && strcmp(reason, "None") ? ", " : "",
		    reason && strcmp(reason, "None") ? reason : "");
	return xasprintf("Slurm job %lld %s (exit %d%s%s)", id, st ? st : "?",
	    code, reason && strcmp(reason, "None") ? ", " : "",
	    reason && strcmp(reason, "None") ? reason : "");
}

static long long
limit_minutes(const struct slurm_state *s, long long seconds)
{
	if (seconds > 0)
		return (seconds + 59) / 60;
	return s->time_limit;
}

/* --- jobs -------------------------------------------------------------- */

static char *
job_dir(const struct slurm_state *s, const char *id)
{
	return xasprintf("%s/jobs/%s", s->dir, id);
}

/*
 * Write a run directory (dir) and submit its batch script as name: a job
 * (and a job again after NODE_FAIL or PREEMPTED: same log, a new Slurm
 * job), or a service's revision. extra: LEPTON_* "K=V" lines, NULL-ended.
 */
static const struct lep_err *
start_run(long long *sid, struct slurm_state *s, const struct lep_spec *sp,
    const char *name, const char *dir, const char *const *extra,
    int service)
{
	const struct lep_err	*err;
	struct lep_json		*secrets = NULL, *env = NULL, *body;
	char			 probe[33], *log, *script;
	int			 nodes = !service && sp->job.nodes > 1 ?
				     sp->job.nodes : 1;

	*sid = 0;
	if ((err = lep_creds_secret_env(&secrets, (const char *const *)
	    sp->secrets, sp->nsecrets, service ? "deploy" : "train")) !=
	    NULL || (err = write_run_dir(probe, dir, sp)) != NULL) {
		lep_json_free_wiped(secrets);
		return err;
	}
	env = job_env(sp, secrets, extra);
	lep_json_free_wiped(secrets);
	log = xasprintf("%s/log", dir);
	script = batch_script(dir, probe, sp, nodes, service);
	body = submit_body(s, sp, name, script, log, env, nodes,
	    limit_minutes(s, service ? 0 : sp->job.max_duration));
	err = submit(sid, s, body);
	lep_json_free_wiped(body);
	free(script);
	free(log);
	return err;
}

static const struct lep_err *
start_job(long long *sid, struct slurm_state *s, const struct lep_spec *sp,
    const char *id, const char *dir, const char *output,
    const char *model_dir)
{
	const struct lep_err	*err;
	char			*extra[4];
	size_t			 n = 0, i;

	extra[n++] = xasprintf("LEPTON_JOB_ID=%s", id);
	if (output != NULL)
		extra[n++] = xasprintf("LEPTON_OUTPUT_MODEL=%s", output);
	if (model_dir != NULL)
		extra[n++] = xasprintf("LEPTON_MODEL_DIR=%s", model_dir);
	extra[n] = NULL;
	err = start_run(sid, s, sp, id, dir, (const char *const *)extra, 0);
	for (i = 0; i < n; i++)
		free(extra[i]);
	return err;
}

static const struct lep_err *
slurm_submit(struct lep_job **out, void *state,
    const struct lep_submit_req *req)
{
	struct slurm_state	*s = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*rec;
	char			*dir, *p, *output = NULL;
	long long		 sid;

	*out = NULL;
	dir = job_dir(s, req->id);
	if ((err = slurm_discover(s)) != NULL)
		goto done;
	if (sp->job.output_model != NULL) {
		output = sp->job.output_model[0] == '/' ?
		    xstrdup(sp->job.output_model) :
		    xasprintf("%s/%s", sp->dir, sp->job.output_model);
		lep_remove_tree(output);	/* a stale one must not pass */
	}
	if ((err = start_job(&sid, s, sp, req->id, dir, output,
	    req->model_dir)) != NULL)
		goto done;
	rec = lep_json_obj();
	lep_json_set_str(rec, "id", req->id);
	lep_json_set_str(rec, "name", sp->name);
	lep_json_set_str(rec, "spec_file", sp->file);
	lep_json_set_str(rec, "dir", sp->dir);
	if (output != NULL)
		lep_json_set_str(rec, "output", output);
	if (req->model_dir != NULL)
		lep_json_set_str(rec, "model_dir", req->model_dir);
	lep_json_set(rec, "slurm_ids", lep_json_arr());
	lep_json_push(lep_json_get(rec, "slurm_ids"), lep_json_int(sid));
	lep_json_set_int(rec, "restarts", 0);
	lep_json_set_int(rec, "max_restarts", sp->job.max_restarts);
	lep_json_set_int(rec, "started", (long long)time(NULL));
	lep_json_set_str(rec, "phase", "running");
	p = xasprintf("%s/job.json", dir);
	err = lep_write_json(p, rec, 0600);
	free(p);
	lep_json_free(rec);
	if (err != NULL) {
		(void)cancel_job(s, sid);
		goto done;
	}
	if (s->out != NULL)
		lep_out_info(s->out, "slurm: job %s is Slurm job %lld", req->id,
		    sid);
	*out = xcalloc(1, sizeof(**out));
	(*out)->id = xstrdup(req->id);
	(*out)->name = xstrdup(sp->name);
	(*out)->provider = xstrdup("slurm");
	(*out)->state = xstrdup("running");
	(*out)->exit_code = -1;
	(*out)->started = (long long)time(NULL);
	(*out)->log_path = xasprintf("%s/log", dir);
done:
	free(output);
	free(dir);
	return err;
}

static long long
last_id(const struct lep_json *rec)
{
	const struct lep_json	*ids = lep_json_get(rec, "slurm_ids");
	size_t			 n = lep_json_len(ids);

	return n ? (long long)lep_json_number(lep_json_at(ids, n - 1)) : 0;
}

static struct lep_job *
job_from_rec(const struct slurm_state *s, const struct lep_json *rec)
{
	struct lep_job	*j = xcalloc(1, sizeof(*j));
	const char	*v;
	long long	 n;
	char		*dir;

	j->id = xstrdup(lep_json_get_str(rec, "id"));
	j->name = xstrdup(lep_json_get_str(rec, "name") ?
	    lep_json_get_str(rec, "name") : "");
	j->provider = xstrdup("slurm");
	j->state = xstrdup(lep_json_get_str(rec, "phase") ?
	    lep_json_get_str(rec, "phase") : "running");
	j->exit_code = lep_json_get_ll(rec, "exit_code", &n) == 0 ? (int)n : -1;
	j->started = lep_json_get_ll(rec, "started", &n) == 0 ? n : 0;
	j->ended = lep_json_get_ll(rec, "ended", &n) == 0 ? n : 0;
	if ((v = lep_json_get_str(rec, "message")) != NULL)
		j->message = xstrdup(v);
	if ((v = lep_json_get_str(rec, "model")) != NULL)
		j->model = xstrdup(v);
	dir = job_dir(s, j->id);
	j->log_path = xasprintf("%s/log", dir);
	free(dir);
	return j;
}

/* Resubmit the job (NODE_FAIL, PREEMPTED): same script, new Slurm id. */
static const struct lep_err *
resubmit(struct slurm_state *s, struct lep_json *rec, const char *dir,
    const struct lep_spec *sp)
{
	const struct lep_err	*err;
	long long		 sid, restarts = 0;

	if ((err = start_job(&sid, s, sp, lep_json_get_str(rec, "id"), dir,
	    lep_json_get_str(rec, "output"), lep_json_get_str(rec,
	    "model_dir"))) != NULL)
		return err;
	(void)lep_json_get_ll(rec, "restarts", &restarts);
	lep_json_set_int(rec, "restarts", restarts + 1);
	lep_json_push(lep_json_get(rec, "slurm_ids"), lep_json_int(sid));
	return NULL;
}

/* The job's spec, as it was submitted. */
static const struct lep_err *
rec_spec(struct lep_spec **out, const struct lep_json *rec, const char *dir)
{
	const struct lep_err	*err;
	char			*p = xasprintf("%s/spec.json", dir);

	err = lep_spec_load_saved(out, p, lep_json_get_str(rec, "spec_file"),
	    lep_json_get_str(rec, "dir"));
	free(p);
	return err;
}

/*
 * Bring the record up to date with Slurm: resubmit, or record the end
 * (once: under a lock of the job's own, the record re-read inside it).
 */
static const struct lep_err *
reconcile(struct slurm_state *s, const char *id, struct lep_json **recp)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*rec, *sj = NULL;
	struct lep_spec		*sp = NULL;
	struct lep_job_result	 res;
	const char		*phase, *st;
	char			*dir = job_dir(s, id), *p, *msg = NULL;
	char			*model = NULL, *why = NULL, *over = NULL;
	long long		 sid, restarts = 0, maxr = 0, requeued;
	int			 fd, retry, code, sig;

	p = xasprintf("%s/lock", dir);
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(p);
	if (fd == -1 || flock(fd, LOCK_EX) == -1) {
		err = lep_err_errno(LEP_E_FAILED, "cannot lock job %s", id);
		goto done;
	}
	p = xasprintf("%s/job.json", dir);
	err = lep_read_json(&rec, p, 4 << 20);
	if (err != NULL) {
		free(p);
		goto done;
	}
	lep_json_free(*recp);
	*recp = rec;
	phase = lep_json_get_str(rec, "phase");
	if (!lep_streq(phase, "running")) {
		free(p);
		goto done;
	}
	sid = last_id(rec);
	if ((err = get_job(&sj, s, sid)) != NULL) {
		if (err->code != LEP_E_NOT_FOUND) {
			free(p);
			goto done;
		}
		/* Forgotten (MinJobAge passed) before anyone looked. */
		err = NULL;
		sj = lep_json_obj();
		lep_json_set_str(sj, "job_state", "FAILED");
		lep_json_set_str(sj, "state_reason", "ForgottenBySlurm");
	}
	st = slurm_job_state(sj);
	phase = slurm_map_state(st, &retry);
	(void)lep_json_get_ll(rec, "restarts", &restarts);
	(void)lep_json_get_ll(rec, "max_restarts", &maxr);
	requeued = slurm_num(sj, "restart_cnt", 0);
	if (strcmp(phase, "running") == 0 && restarts + requeued > maxr) {
		/*
		 * Slurm requeued it itself (a node failed, it was
		 * preempted; some servers ignore "requeue": false): that
		 * counts against job.max_restarts too.
		 */
		(void)cancel_job(s, sid);
		over = xasprintf("Slurm requeued job %lld %lld time(s), over "
		    "job.max_restarts %lld", sid, requeued, maxr);
		phase = "failed";
	} else if (strcmp(phase, "running") == 0) {
		const char	*reason = lep_json_get_str(sj, "state_reason");

		if (lep_streq(st, "PENDING") && reason != NULL)
			msg = xasprintf("pending in Slurm (%s)", reason);
		lep_json_set(rec, "message", msg ? lep_json_str(msg) :
		    lep_json_null());
		goto save;
	}
	if ((err = rec_spec(&sp, rec, dir)) != NULL) {
		free(p);
		goto done;
	}
	if (over == NULL && retry && restarts < sp->job.max_restarts) {
		if (s->out != NULL)
			lep_out_warn(s->out, "job %s: Slurm job %lld %s; "
			    "submitting it again (restart %lld of %d)", id, sid,
			    st, restarts + 1, sp->job.max_restarts);
		if ((err = resubmit(s, rec, dir, sp)) == NULL)
			goto save;
		free(p);
		goto done;
	}
	slurm_job_exit(sj, &code, &sig);
	if (over != NULL) {
		msg = over;
		over = NULL;
		code = 1;
	} else
		msg = strcmp(phase, "succeeded") ? end_message(sj, sid) : NULL;
	memset(&res, 0, sizeof(res));
	res.id = id;
	res.spec = sp;
	res.provider = "slurm";
	res.state = phase;
	res.message = msg;
	res.exit_code = code >= 0 ? code : (sig > 0 ? 128 + sig : 1);
	res.started = slurm_num(sj, "start_time", 0);
	res.ended = slurm_num(sj, "end_time", 0);
	if (res.ended <= 0 || res.ended > (long long)time(NULL))
		res.ended = (long long)time(NULL);
	/* A job ended while pending has an expected start, or none. */
	if (res.started <= 0 || res.started > res.ended)
		(void)lep_json_get_ll(rec, "started", &res.started);
	res.output = lep_json_get_str(rec, "output");
	if (strcmp(phase, "succeeded") == 0 && res.output != NULL &&
	    access(res.output, F_OK) == -1) {
		/* Nothing to register: say where it may have gone. */
		msg = xasprintf("job.outputs.model '%s' is not here: the job "
		    "did not write it, or wrote it on storage this machine "
		    "does not share with the cluster", res.output);
		res.message = msg;
		res.state = phase = "failed";
		res.output = NULL;
	}
	if ((err = lep_record_job(&model, &why, s->home, &res)) != NULL) {
		free(p);
		goto done;
	}
	if (why != NULL && strcmp(phase, "succeeded") == 0)
		phase = "failed";	/* no output: nothing registered */
	lep_json_set_str(rec, "phase", phase);
	lep_json_set_int(rec, "exit_code", res.exit_code);
	lep_json_set_int(rec, "ended", res.ended);
	lep_json_set_int(rec, "started", res.started);
	lep_json_set(rec, "message", why ? lep_json_str(why) : msg ?
	    lep_json_str(msg) : lep_json_null());
	if (model != NULL)
		lep_json_set_str(rec, "model", model);
save:
	err = lep_write_json(p, rec, 0600);
	free(p);
done:
	if (fd != -1)
		close(fd);
	lep_json_free(sj);
	lep_spec_free(sp);
	free(msg);
	free(over);
	free(model);
	free(why);
	free(dir);
	return err;
}

static const struct lep_err *
slurm_job_status(struct lep_job **out, void *state, const char *id)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*rec = NULL;
	struct stat		 sb;
	char			*dir = job_dir(s, id), *p;

	*out = NULL;
	p = xasprintf("%s/job.json", dir);
	free(dir);
	if (stat(p, &sb) == -1) {
		free(p);
		return lep_err_new(LEP_E_NOT_FOUND, "no job '%s' on the slurm "
		    "provider", id);
	}
	free(p);
	err = reconcile(s, id, &rec);
	if (rec != NULL)
		*out = job_from_rec(s, rec);
	lep_json_free(rec);
	if (err != NULL && *out != NULL) {
		/* Slurm unreachable: say what we last knew, and why. */
		lep_job_free(*out);
		*out = NULL;
	}
	return err;
}

static const struct lep_err *
slurm_cancel(struct lep_job **out, void *state, const char *id, int grace_s)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_job		*j = NULL;
	struct lep_json		*rec = NULL, *end;
	char			*dir, *p;

	*out = NULL;
	if ((err = slurm_job_status(&j, s, id)) != NULL)
		return err;
	if (strcmp(j->state, "running") != 0) {
		*out = j;
		return NULL;
	}
	lep_job_free(j);
	dir = job_dir(s, id);
	p = xasprintf("%s/job.json", dir);
	free(dir);
	err = lep_read_json(&rec, p, 4 << 20);
	free(p);
	if (err == NULL && (err = cancel_job(s, last_id(rec))) == NULL) {
		end = wait_end(s, last_id(rec), grace_s > 0 ? grace_s + 5 : 5);
		lep_json_free(end);
		err = slurm_job_status(out, s, id);
	}
	lep_json_free(rec);
	return err;
}

/* --- services ---------------------------------------------------------- */

static char *
svc_path(const struct slurm_state *s, const char *name, const char *file)
{
	return xasprintf("%s/services/%s/%s", s->dir, name, file);
}

static const struct lep_err *
svc_read(struct lep_json **out, const struct slurm_state *s,
    const char *name)
{
	const struct lep_err	*err;
	char			*p = svc_path(s, name, "state.json");

	err = lep_read_json(out, p, 4 << 20);
	free(p);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		return lep_err_new(LEP_E_NOT_FOUND, "no deployment '%s' on "
		    "the slurm provider", name);
	return err;
}

static const struct lep_err *
svc_write(const struct slurm_state *s, const char *name,
    const struct lep_json *st)
{
	const struct lep_err	*err;
	char			*p = svc_path(s, name, "state.json");

	err = lep_write_json(p, st, 0600);
	free(p);
	return err;
}

/* The endpoint token: made once per deployment, kept across revisions. */
static const struct lep_err *
svc_token(char **out, const struct slurm_state *s, const char *name)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	char			 fresh[65], *p = svc_path(s, name, "token");

	*out = NULL;
	err = lep_creds_read_file(&b, p, 1024);
	if (err == NULL) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		*out = xstrdup(b.buf);
	} else if (err->code == LEP_E_NOT_FOUND &&
	    (err = lep_random_hex(fresh, 32)) == NULL) {
		err = lep_write_atomic(p, fresh, strlen(fresh), 0600);
		if (err == NULL)
			*out = xstrdup(fresh);
		lep_wipe(fresh, sizeof(fresh));
	}
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	free(p);
	return err;
}

/* http://ADDRESS:PORT of a running service job, or NULL (not yet). */
static char *
svc_url(struct slurm_state *s, const struct lep_json *sj, const char *rdir)
{
	struct lep_json	*ans = NULL;
	struct lep_buf	 b;
	const char	*host = lep_json_get_str(sj, "batch_host"), *addr;
	char		*p, path[300], *url = NULL;
	long long	 port = 0;

	if (host == NULL || *host == '\0')
		return NULL;
	p = xasprintf("%s/port", rdir);
	if (lep_read_file(&b, p, 64) == NULL) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		(void)lep_parse_ll(&port, b.buf);
	}
	lep_buf_release(&b);
	free(p);
	if (port <= 0)
		return NULL;
	snprintf(path, sizeof(path), "/node/%s", host);
	addr = host;
	if (slurm_call(&ans, s, "GET", path, NULL) == NULL) {
		const char *a = lep_json_get_str(lep_json_at(lep_json_get(ans,
		    "nodes"), 0), "address");

		if (a != NULL && *a != '\0')
			addr = a;
	}
	url = xasprintf("http://%s:%lld", addr, port);
	lep_json_free(ans);
	return url;
}

static int
probe_ready(const char *url, const char *path)
{
	struct lep_http_req	 req;
	struct lep_http_resp	 resp;
	char			*u = xasprintf("%s%s", url, path);
	int			 ok;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = u;
	req.timeout_ms = SLURM_PROBE_MS;
	req.connect_timeout_ms = SLURM_PROBE_MS;
	req.max_body = 1 << 20;
	lep_http_resp_init(&resp);
	ok = lep_http_do(&resp, &req) == NULL && resp.status >= 200 &&
	    resp.status < 300;
	lep_http_resp_release(&resp);
	free(u);
	return ok;
}

static struct lep_deployment *
svc_deployment(const char *name, const struct lep_json *st,
    const char *state, const char *msg, int ready)
{
	struct lep_deployment	*d = xcalloc(1, sizeof(*d));
	const char		*v;
	long long		 n;

	d->name = xstrdup(name);
	d->provider = xstrdup("slurm");
	d->state = xstrdup(state);
	d->message = msg ? xstrdup(msg) : NULL;
	v = lep_json_get_str(st, "endpoint");
	d->endpoint = xstrdup(v && strcmp(state, "running") == 0 ? v : "");
	if ((v = lep_json_get_str(st, "spec_sha256")) != NULL)
		d->spec_sha256 = xstrdup(v);
	if ((v = lep_json_get_str(st, "dir")) != NULL)
		d->log_dir = xstrdup(v);
	d->revision = lep_json_get_ll(st, "revision", &n) == 0 ? (int)n : 0;
	d->created = lep_json_get_ll(st, "created", &n) == 0 ? n : 0;
	d->updated = lep_json_get_ll(st, "updated", &n) == 0 ? n : 0;
	d->desired = strcmp(state, "stopped") ? 1 : 0;
	d->ready = ready;
	d->replicas = xcalloc(1, sizeof(*d->replicas));
	d->nreplicas = 1;
	d->replicas[0].revision = d->revision;
	d->replicas[0].pid = 0;
	d->replicas[0].port = 0;
	if ((v = lep_json_get_str(st, "endpoint")) != NULL &&
	    (v = strrchr(v, ':')) != NULL)
		d->replicas[0].port = lead_int(v + 1);
	lep_strlcpy(d->replicas[0].state, ready ? "ready" : state,
	    sizeof(d->replicas[0].state));
	return d;
}

/*
 * Wait for revision's job to serve: RUNNING, its port written, and
 * readiness answering. Errors: FAILED (it ended), TIMEOUT.
 */
static const struct lep_err *
svc_wait_ready(char **url_out, struct slurm_state *s, long long sid,
    const char *rdir, const struct lep_spec *sp)
{
	struct lep_json	*sj = NULL;
	long long	 t0 = lep_now_ms();
	long long	 until = t0 + sp->service.ready_timeout * 1000;
	const char	*path = sp->service.ready_path ? sp->service.ready_path :
			    "/";
	char		*url = NULL, *msg;
	const struct lep_err *err = NULL;
	int		 retry;

	*url_out = NULL;
	while (lep_now_ms() < until) {
		lep_json_free(sj);
		sj = NULL;
		if ((err = get_job(&sj, s, sid)) != NULL)
			break;
		if (strcmp(slurm_map_state(slurm_job_state(sj), &retry),
		    "running") != 0) {
			msg = end_message(sj, sid);
			err = lep_err_hint(lep_err_new(LEP_E_FAILED, "%s ended "
			    "before it was ready: %s", sp->name, msg),
			    "'lepton logs %s' shows its output", sp->name);
			free(msg);
			break;
		}
		if (url == NULL)
			url = svc_url(s, sj, rdir);
		if (url != NULL && probe_ready(url, path)) {
			*url_out = url;
			lep_json_free(sj);
			return NULL;
		}
		poll_pause(t0);
	}
	if (err == NULL)
		err = lep_err_hint(lep_err_new(LEP_E_TIMEOUT, "%s: not ready "
		    "within %llds (readiness %s%s)", sp->name,
		    sp->service.ready_timeout, url ? url : "", path),
		    "'lepton logs %s' shows its output", sp->name);
	free(url);
	lep_json_free(sj);
	return err;
}

static const struct lep_err *
slurm_deploy(struct lep_deployment **out, void *state,
    const struct lep_deploy_req *req)
{
	struct slurm_state	*s = state;
	const struct lep_spec	*sp = req->spec;
	const struct lep_err	*err;
	struct lep_json		*st = NULL;
	char			*rdir, *log, *token = NULL;
	char			*url = NULL, *extra[8], *sdir;
	long long		 sid, old = 0, stale = 0, now = time(NULL);
	size_t			 n = 0, i;

	*out = NULL;
	rdir = xasprintf("%s/services/%s/r%d", s->dir, sp->name, req->revision);
	log = xasprintf("%s/log", rdir);
	sdir = xasprintf("%s/services/%s", s->dir, sp->name);
	if ((err = slurm_discover(s)) != NULL ||
	    (err = lep_mkdirs(sdir, 0700)) != NULL)
		goto done;
	if ((err = svc_read(&st, s, sp->name)) != NULL) {
		if (err->code != LEP_E_NOT_FOUND)
			goto done;
		err = NULL;
		st = lep_json_obj();
		lep_json_set_int(st, "created", now);
	}
	if (!lep_json_get_bool(st, "stopped", 0))
		(void)lep_json_get_ll(st, "slurm_id", &old);
	/* A deploy that died while its revision started left it behind. */
	if (lep_json_get_ll(st, "starting_id", &stale) == 0 && stale > 0) {
		if (s->out != NULL)
			lep_out_warn(s->out, "%s: cancelling Slurm job %lld, "
			    "left starting by an interrupted deploy", sp->name,
			    stale);
		(void)cancel_job(s, stale);
	}
	if ((err = svc_token(&token, s, sp->name)) != NULL)
		goto done;
	(void)unlink(log);
	extra[n++] = xasprintf("LEPTON_DEPLOYMENT=%s", sp->name);
	extra[n++] = xasprintf("LEPTON_REVISION=%d", req->revision);
	extra[n++] = xstrdup("LEPTON_REPLICA=0");
	extra[n++] = xasprintf("LEPTON_TOKEN=%s", token);
	if (req->model_dir != NULL)
		extra[n++] = xasprintf("LEPTON_MODEL_DIR=%s", req->model_dir);
	extra[n] = NULL;
	if ((err = start_run(&sid, s, sp, sp->name, rdir,
	    (const char *const *)extra, 1)) != NULL)
		goto done;
	lep_json_set_int(st, "starting_id", sid);
	if ((err = svc_write(s, sp->name, st)) != NULL) {
		(void)cancel_job(s, sid);
		goto done;
	}
	if (s->out != NULL)
		lep_out_info(s->out, "slurm: %s revision %d is Slurm job %lld",
		    sp->name, req->revision, sid);
	if ((err = svc_wait_ready(&url, s, sid, rdir, sp)) != NULL) {
		/* The old revision never stopped: it serves on. */
		(void)cancel_job(s, sid);
		lep_json_set(st, "starting_id", lep_json_null());
		(void)svc_write(s, sp->name, st);
		goto done;
	}
	lep_json_set(st, "starting_id", lep_json_null());
	lep_json_set_int(st, "slurm_id", sid);
	lep_json_set_int(st, "revision", req->revision);
	lep_json_set_str(st, "endpoint", url);
	lep_json_set_str(st, "dir", rdir);
	lep_json_set_str(st, "spec_sha256", req->spec_sha256);
	lep_json_set_bool(st, "stopped", 0);
	lep_json_set_int(st, "updated", now);
	if ((err = svc_write(s, sp->name, st)) != NULL) {
		(void)cancel_job(s, sid);
		goto done;
	}
	if (old > 0 && old != sid)
		(void)cancel_job(s, old);
	*out = svc_deployment(sp->name, st, "running", NULL, 1);
done:
	for (i = 0; i < n; i++) {
		lep_wipe(extra[i], strlen(extra[i]));
		free(extra[i]);
	}
	if (token != NULL) {
		lep_wipe(token, strlen(token));
		free(token);
	}
	lep_json_free(st);
	free(url);
	free(rdir);
	free(sdir);
	free(log);
	return err;
}

static const struct lep_err *
slurm_status(struct lep_deployment **out, void *state, const char *name)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*st = NULL, *sj = NULL;
	const char		*phase, *ep;
	char			*msg = NULL;
	long long		 sid = 0;
	int			 retry;

	*out = NULL;
	if ((err = svc_read(&st, s, name)) != NULL)
		return err;
	(void)lep_json_get_ll(st, "slurm_id", &sid);
	if (lep_json_get_bool(st, "stopped", 0) || sid == 0) {
		*out = svc_deployment(name, st, "stopped", NULL, 0);
		lep_json_free(st);
		return NULL;
	}
	if ((err = get_job(&sj, s, sid)) != NULL &&
	    err->code != LEP_E_NOT_FOUND) {
		lep_json_free(st);
		return err;
	}
	if (err != NULL) {
		*out = svc_deployment(name, st, "failed", "Slurm forgot its "
		    "job", 0);
	} else if (strcmp(phase = slurm_map_state(slurm_job_state(sj),
	    &retry), "running") == 0) {
		ep = lep_json_get_str(st, "endpoint");
		if (lep_streq(slurm_job_state(sj), "RUNNING"))
			*out = svc_deployment(name, st, "running", NULL,
			    ep != NULL);
		else
			*out = svc_deployment(name, st, "starting",
			    slurm_job_state(sj), 0);
	} else {
		msg = end_message(sj, sid);
		*out = svc_deployment(name, st, strcmp(phase, "cancelled") ?
		    "failed" : "stopped", msg, 0);
		free(msg);
	}
	lep_json_free(sj);
	lep_json_free(st);
	return NULL;
}

static const struct lep_err *
slurm_remove(struct lep_deployment **out, void *state, const char *name,
    int grace_s)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*st = NULL;
	long long		 sid = 0;

	*out = NULL;
	if ((err = svc_read(&st, s, name)) != NULL)
		return err;
	(void)lep_json_get_ll(st, "slurm_id", &sid);
	if (sid > 0 && (err = cancel_job(s, sid)) != NULL) {
		lep_json_free(st);
		return err;
	}
	if (sid > 0)
		lep_json_free(wait_end(s, sid, grace_s + 5));
	lep_json_set_bool(st, "stopped", 1);
	lep_json_set_int(st, "updated", (long long)time(NULL));
	err = svc_write(s, name, st);
	if (err == NULL)
		*out = svc_deployment(name, st, "stopped", NULL, 0);
	lep_json_free(st);
	return err;
}

static const struct lep_err *
slurm_endpoint(char **url_out, char **token_out, void *state,
    const char *name)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_deployment	*d = NULL;

	*url_out = *token_out = NULL;
	if ((err = slurm_status(&d, s, name)) != NULL)
		return err;
	if (strcmp(d->state, "running") != 0 || d->endpoint[0] == '\0')
		err = lep_err_hint(lep_err_new(LEP_E_NOT_RUNNING, "'%s' is "
		    "%s on slurm%s%s", name, d->state, d->message ? ": " : "",
		    d->message ? d->message : ""), "'lepton deploy' starts "
		    "it again");
	else if ((err = svc_token(token_out, s, name)) == NULL)
		*url_out = xstrdup(d->endpoint);
	lep_deployment_free(d);
	return err;
}

/* --- logs -------------------------------------------------------------- */

struct follow {
	struct slurm_state	*s;
	const char		*id;		/* a job's, or NULL */
	long long		 sid;		/* a service's Slurm job */
	long long		 next_ms;
	int			 alive;
};

static int
still_running(void *arg)
{
	struct follow	*f = arg;
	struct lep_job	*j = NULL;
	struct lep_json	*sj = NULL;
	int		 retry;

	if (lep_now_ms() < f->next_ms)
		return f->alive;
	f->next_ms = lep_now_ms() + 1000;
	if (f->id != NULL) {
		f->alive = slurm_job_status(&j, f->s, f->id) == NULL &&
		    strcmp(j->state, "running") == 0;
		lep_job_free(j);
	} else {
		f->alive = get_job(&sj, f->s, f->sid) == NULL &&
		    strcmp(slurm_map_state(slurm_job_state(sj), &retry),
		    "running") == 0;
		lep_json_free(sj);
	}
	return f->alive;
}

static const struct lep_err *
slurm_logs(void *state, const char *name, const struct lep_logs_req *req,
    struct lep_out *out)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*st = NULL, *lines, *res;
	struct lep_logsrc	*src;
	struct follow		 f;
	char			*dir, *p;
	struct stat		 sb;

	if (req->setup || req->replica > 0)
		return lep_err_new(LEP_E_USAGE, "'%s' runs on slurm: one log, "
		    "its setup with its run", name);
	memset(&f, 0, sizeof(f));
	f.s = s;
	f.alive = 1;
	src = xcalloc(1, sizeof(*src));
	dir = job_dir(s, name);
	p = xasprintf("%s/job.json", dir);
	if (stat(p, &sb) == 0) {
		f.id = name;
		src[0].path = xasprintf("%s/log", dir);
		lep_strlcpy(src[0].label, "job", sizeof(src[0].label));
	} else if ((err = svc_read(&st, s, name)) == NULL) {
		(void)lep_json_get_ll(st, "slurm_id", &f.sid);
		src[0].path = xasprintf("%s/log", lep_json_get_str(st, "dir") ?
		    lep_json_get_str(st, "dir") : dir);
		lep_strlcpy(src[0].label, "r0", sizeof(src[0].label));
	} else {
		free(p);
		free(dir);
		lep_logview_free(src, 1);
		return lep_err_new(LEP_E_NOT_FOUND, "no deployment or job "
		    "named '%s' on the slurm provider", name);
	}
	free(p);
	free(dir);
	lines = lep_logview_print(src, 1, req, out, still_running, &f);
	if (lines != NULL) {
		res = lep_json_obj();
		lep_json_set_str(res, f.id ? "job" : "deployment", name);
		lep_json_set(res, "lines", lines);
		lep_out_result(out, res);
	}
	lep_logview_free(src, 1);
	lep_json_free(st);
	return NULL;
}

static const struct lep_err *
slurm_probe(struct lep_json **report, void *state)
{
	struct slurm_state	*s = state;
	const struct lep_err	*err;
	struct lep_json		*r, *ans = NULL, *nodes, *parts;
	size_t			 i, k, usable = 0;

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
	lep_json_set_bool(r, "token_accepted", 1);
	if ((err = get_nodes(&ans, s)) != NULL)
		return err;
	nodes = lep_json_get(ans, "nodes");
	parts = lep_json_arr();
	for (i = 0; i < lep_json_len(nodes); i++) {
		const struct lep_json	*n = lep_json_at(nodes, i);
		const struct lep_json	*ps = lep_json_get(n, "partitions");

		usable += node_usable(n);
		for (k = 0; k < lep_json_len(ps); k++) {
			const char	*pn = lep_json_string(lep_json_at(ps, k));
			size_t		 m;

			for (m = 0; m < lep_json_len(parts); m++)
				if (lep_streq(lep_json_string(lep_json_at(
				    parts, m)), pn))
					break;
			if (m == lep_json_len(parts))
				lep_json_push(parts, lep_json_str(pn));
		}
	}
	lep_json_set_int(r, "nodes", (long long)lep_json_len(nodes));
	lep_json_set_int(r, "nodes_usable", (long long)usable);
	lep_json_set(r, "partitions", parts);
	lep_json_free(ans);
	return NULL;
}

const struct lep_provider_ops provider_slurm = {
	.name = "slurm",
	.abi = LEP_PROVIDER_ABI,
	.caps = LEP_CAP_SERVICE | LEP_CAP_JOB | LEP_CAP_GPU |
	    LEP_CAP_MULTINODE | LEP_CAP_PARTITION,
	.poll_ms = 500,		/* a remote engine: ask it less often */
	.open = slurm_open,
	.close = slurm_close,
	.check = slurm_check,
	.deploy = slurm_deploy,
	.status = slurm_status,
	.logs = slurm_logs,
	.remove = slurm_remove,
	.submit = slurm_submit,
	.job_status = slurm_job_status,
	.cancel = slurm_cancel,
	.offers = slurm_offers,
	.endpoint = slurm_endpoint,
	.probe = slurm_probe,
};
