/*
 * check.c: `lepton check [PROVIDER...]`: is each provider usable from
 * here, and with which configuration and credentials.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/args.h"
#include "../lib/util.h"

static const struct lep_err *cmd_check_exec(struct lep_ctx *,
	    const struct lep_args *);

const struct lep_cmd cmd_check_entry = {
	.name = "check",
	.summary = "check that providers are set up and answer",
	.usage = "[PROVIDER...]",
	.description = "For each provider named (default: every one built "
	    "in), say whether it is usable from here: where its engine is "
	    "and where that setting came from (environment or config.json), "
	    "which user and which token source won, and whether the engine "
	    "answers and accepts them (for a cluster: its release and API "
	    "version, its nodes and partitions). With no names, a "
	    "provider that is not configured is reported, not an error; a "
	    "named one must work. Exits with the first failure's code: 4 "
	    "for credentials, 7 for an engine that is down or not "
	    "configured.",
	.min_args = 0,
	.max_args = -1,
	.exec = cmd_check_exec,
};

static void
print_line(struct lep_out *o, const char *key, const char *val)
{
	if (val != NULL)
		lep_out_printf(o, "  %-10s %s\n", key, val);
}

static void
print_report(struct lep_out *o, const char *name, const struct lep_json *r,
    const char *status)
{
	const char	*v;
	char		 buf[512];
	long long	 n, m;
	size_t		 i;

	lep_out_printf(o, "%s: %s\n", name, status);
	/* A Kubernetes cluster: which kubeconfig context. */
	if ((v = lep_json_get_str(r, "context")) != NULL) {
		snprintf(buf, sizeof(buf), "%s (from %s)", v,
		    lep_json_get_str(r, "context_from"));
		print_line(o, "context", buf);
	}
	if ((v = lep_json_get_str(r, "url")) != NULL) {
		snprintf(buf, sizeof(buf), "%s (from %s)", v,
		    lep_json_get_str(r, "url_from"));
		print_line(o, "url", buf);
	}
	if ((v = lep_json_get_str(r, "user")) != NULL) {
		snprintf(buf, sizeof(buf), "%s (from %s)", v,
		    lep_json_get_str(r, "user_from"));
		print_line(o, "user", buf);
	}
	if ((v = lep_json_get_str(r, "namespace")) != NULL) {
		snprintf(buf, sizeof(buf), "%s (from %s)", v,
		    lep_json_get_str(r, "namespace_from"));
		print_line(o, "namespace", buf);
	}
	if (lep_json_get(r, "token_from") != NULL) {
		v = lep_json_get_str(r, "token_from");
		snprintf(buf, sizeof(buf), "%s%s", v ? "from " : "none",
		    v ? v : "");
		if (lep_json_get_bool(r, "token_accepted", 0))
			lep_strlcpy(buf + strlen(buf), ", accepted",
			    sizeof(buf) - strlen(buf));
		print_line(o, "token", buf);
	}
	print_line(o, "server", lep_json_get_str(r, "server"));
	/* A cloud: whose keys, which account and region, what role. */
	print_line(o, "creds", lep_json_get_str(r, "credentials"));
	print_line(o, "principal", lep_json_get_str(r, "principal"));
	print_line(o, "account", lep_json_get_str(r, "account"));
	if ((v = lep_json_get_str(r, "project")) != NULL) {
		snprintf(buf, sizeof(buf), "%s (from %s)", v,
		    lep_json_get_str(r, "project_from"));
		print_line(o, "project", buf);
	}
	print_line(o, "region", lep_json_get_str(r, "region"));
	if ((v = lep_json_get_str(r, "role_arn")) != NULL) {
		snprintf(buf, sizeof(buf), "%s (from %s)", v,
		    lep_json_get_str(r, "role_from"));
		print_line(o, "role", buf);
	}
	if (lep_json_get_ll(r, "nodes", &n) == 0 &&
	    lep_json_get_ll(r, "nodes_usable", &m) == 0) {
		const struct lep_json	*ps = lep_json_get(r, "partitions");
		struct lep_buf		 b = LEP_BUF_INIT;

		lep_buf_addf(&b, "%lld (%lld usable); partitions:", n, m);
		for (i = 0; i < lep_json_len(ps); i++)
			lep_buf_addf(&b, " %s",
			    lep_json_string(lep_json_at(ps, i)));
		print_line(o, "nodes", b.buf);
		lep_buf_release(&b);
	}
	if ((v = lep_json_get_str(r, "shared_dir")) != NULL)
		print_line(o, "shared", v);
}

static const struct lep_err *
cmd_check_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const struct lep_err	*err, *first = NULL;
	struct lep_config	 cfg = { ctx->home, &ctx->out };
	struct lep_provider_info pi;
	struct lep_provider	*p;
	struct lep_json		*report, *all = lep_json_arr(), *o;
	size_t			 i;
	const char		*name, *status;
	int			 named = args->npos > 0;

	for (i = 0; named ? i < args->npos : lep_provider_nth(&pi, i) == 0;
	    i++) {
		name = named ? lep_args_pos(args, i) : pi.name;
		if (!named && !pi.built)
			continue;
		report = NULL;
		p = NULL;
		if ((err = lep_provider_open(&p, name, &cfg)) == NULL)
			err = lep_provider_probe(&report, p);
		lep_provider_close(p);
		if (report == NULL)
			report = lep_json_obj();
		status = "ok";
		if (err != NULL && !named &&
		    !lep_json_get_bool(report, "configured", 1)) {
			status = "not configured";
			err = NULL;
		} else if (err != NULL)
			status = "FAILED";
		if (ctx->out.json) {
			o = lep_json_obj();
			lep_json_set_str(o, "provider", name);
			lep_json_set_str(o, "status", status);
			if (err != NULL)
				lep_json_set_str(o, "error", err->msg);
			lep_json_set(o, "details", report);
			lep_json_push(all, o);
		} else {
			print_report(&ctx->out, name, report, status);
			if (err != NULL)
				lep_out_printf(&ctx->out, "  %-10s %s\n",
				    "error", err->msg);
			lep_json_free(report);
		}
		if (err != NULL && first == NULL)
			first = err;
	}
	if (ctx->out.json) {
		o = lep_json_obj();
		lep_json_set(o, "providers", all);
		if (first == NULL) {
			lep_out_result(&ctx->out, o);
			return NULL;
		}
		lep_json_free(o);
	} else
		lep_json_free(all);
	return first;
}
