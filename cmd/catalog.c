/*
 * catalog.c: `lepton catalog` lists the accelerators the price catalogs
 * offer, with the cheapest price per provider; `lepton catalog update`
 * fetches fresh catalogs and replaces them only when all are good.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/catalog.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/money.h"
#include "../lib/out.h"
#include "../lib/provider.h"
#include "../lib/util.h"

static const struct lep_err *cmd_catalog_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt catalog_opts[] = {
	{ "from", 0, LEP_OPT_VALUE, "URL|DIR",
	    "update: read PROVIDER/vms.csv or PROVIDER.csv under this" },
	{ "provider", 'p', LEP_OPT_VALUE, "NAME", "only this provider" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_catalog_entry = {
	.name = "catalog",
	.summary = "list accelerators and prices, or update the catalogs",
	.usage = "[-p PROVIDER] | update [--from URL|DIR] [-p PROVIDER]",
	.description = "Without arguments, list every accelerator in the price "
	    "catalogs with the counts offered and, per provider, the cheapest "
	    "on-demand price of one accelerator-hour. 'update' fetches the "
	    "public catalog of every provider that has one (SkyPilot's "
	    "public files by default; --from a URL or directory holding "
	    "PROVIDER/vms.csv or PROVIDER.csv), checks every header and row, and only when all "
	    "are good replaces the copies in $LEPTON_HOME/catalog/, each "
	    "atomically; a failed or malformed download changes nothing.",
	.opts = catalog_opts,
	.min_args = 0,
	.max_args = 1,
	.exec = cmd_catalog_exec,
};

/* Every catalog on this machine (or only's), for the accelerator list. */
static const struct lep_err *
load_all(struct lep_catalog ***out, size_t *n_out, struct lep_ctx *ctx,
    const char *only)
{
	const struct lep_err	*err = NULL;
	struct lep_provider_info pi;
	struct lep_catalog	**cats = NULL;
	size_t			 i, n = 0;
	char			*path;

	for (i = 0; err == NULL && lep_provider_nth(&pi, i) == 0; i++) {
		if (pi.catalog_url == NULL ||
		    (only != NULL && strcmp(only, pi.name) != 0))
			continue;
		if ((path = lep_catalog_path(ctx->home, pi.name)) == NULL)
			continue;
		cats = xreallocarray(cats, n + 1, sizeof(*cats));
		err = lep_catalog_load(&cats[n], pi.name, path,
		    pi.catalog_flags | LEP_CATALOG_ACCELERATED);
		free(path);
		if (err == NULL)
			n++;
	}
	*out = cats;
	*n_out = n;
	return err;
}

static void
list_json(struct lep_out *out, struct lep_catalog *const *cats, size_t ncat,
    const struct lep_accel_row *rows, size_t n)
{
	struct lep_json	*res, *arr, *o, *best, *b;
	size_t		 i, p;
	char		 m[32];
	int		 c;

	res = lep_json_obj();
	lep_json_set_str(res, "currency", LEP_CURRENCY);
	arr = lep_json_arr();
	for (i = 0; i < n; i++) {
		o = lep_json_obj();
		lep_json_set_str(o, "name", rows[i].name);
		b = lep_json_arr();
		for (c = 0; c < rows[i].ncounts; c++)
			lep_json_push(b, lep_json_int(rows[i].counts[c]));
		lep_json_set(o, "counts", b);
		best = lep_json_obj();
		for (p = 0; p < ncat; p++) {
			if (rows[i].best[p] < 0)
				continue;
			b = lep_json_obj();
			lep_json_set_str(b, "per_accelerator_hour",
			    lep_money_format(m, sizeof(m), rows[i].best[p]));
			lep_json_set_str(b, "instance",
			    rows[i].where[p]->instance);
			lep_json_set_str(b, "region", rows[i].where[p]->region);
			lep_json_set(best, cats[p]->provider, b);
		}
		lep_json_set(o, "cheapest", best);
		lep_json_push(arr, o);
	}
	lep_json_set(res, "accelerators", arr);
	lep_out_result(out, res);
}

static void
list_text(struct lep_out *out, struct lep_catalog *const *cats, size_t ncat,
    const struct lep_accel_row *rows, size_t n)
{
	size_t		 i, p;
	char		 m[32];
	int		 c;

	lep_out_printf(out, "%-26s %-18s", "ACCELERATOR", "COUNTS");
	for (p = 0; p < ncat; p++)
		lep_out_printf(out, " %10s", cats[p]->provider);
	lep_out_printf(out, "\n");
	for (i = 0; i < n; i++) {
		struct lep_buf	 cb = LEP_BUF_INIT;

		for (c = 0; c < rows[i].ncounts; c++)
			lep_buf_addf(&cb, "%s%d", c ? "," : "",
			    rows[i].counts[c]);
		lep_out_printf(out, "%-26s %-18s", rows[i].name, cb.buf);
		lep_buf_release(&cb);
		for (p = 0; p < ncat; p++)
			lep_out_printf(out, " %10s", rows[i].best[p] < 0 ?
			    "-" : lep_money_format(m, sizeof(m),
			    rows[i].best[p]));
		lep_out_printf(out, "\n");
	}
	lep_out_printf(out, "\ncheapest on-demand $ per accelerator-hour, "
	    "%s\n", LEP_CURRENCY);
}

static const struct lep_err *
catalog_list(struct lep_ctx *ctx, const char *only)
{
	const struct lep_err	*err;
	struct lep_catalog	**cats = NULL;
	struct lep_accel_row	*rows = NULL;
	size_t			 n = 0, ncat = 0, i;

	if ((err = load_all(&cats, &ncat, ctx, only)) != NULL)
		goto done;
	if (ncat == 0) {
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no price "
		    "catalog%s%s", only ? " for " : "", only ? only : ""),
		    "'lepton catalog update' fetches them");
		goto done;
	}
	lep_catalog_accels(&rows, &n, cats, ncat);
	if (ctx->out.json)
		list_json(&ctx->out, cats, ncat, rows, n);
	else
		list_text(&ctx->out, cats, ncat, rows, n);
done:
	lep_catalog_accels_free(rows, n);
	for (i = 0; i < ncat; i++)
		lep_catalog_free(cats[i]);
	free(cats);
	return err;
}

/* Fetch (or read) one provider's file into b. */
static const struct lep_err *
fetch_one(struct lep_buf *b, const char *from, const char *provider,
    const char *deflt, char **src_out)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_http_req	 req;
	char			*url = NULL;

	*src_out = NULL;
	if (from != NULL && !lep_starts_with(from, "http://") &&
	    !lep_starts_with(from, "https://")) {
		url = xasprintf("%s/%s.csv", from, provider);
		if (access(url, R_OK) != 0) {
			free(url);
			url = xasprintf("%s/%s/vms.csv", from, provider);
		}
		*src_out = url;
		return lep_read_file(b, url, 256u << 20);
	}
	url = from != NULL ? xasprintf("%s/%s/vms.csv", from, provider) :
	    xstrdup(deflt);
	*src_out = url;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.timeout_ms = 300000;
	req.max_body = 256u << 20;
	req.retries = 3;
	lep_buf_init(b, 0);
	lep_http_resp_init(&resp);
	if ((err = lep_http_do(&resp, &req)) != NULL) {
		lep_http_resp_release(&resp);
		return err;
	}
	if (resp.status != 200) {
		err = lep_err_http(lep_err_new(LEP_E_PROVIDER, "%s: HTTP %ld",
		    url, resp.status), (int)resp.status);
		lep_http_resp_release(&resp);
		return err;
	}
	lep_buf_release(b);
	*b = resp.body;
	lep_buf_release(&resp.headers);
	return NULL;
}

/* What catalog update replaced, and from where, for --json. */
static void
update_json(struct lep_out *out, const char *dir, const char **prov,
    char **src, const size_t *rows, size_t n)
{
	struct lep_json	*res, *arr, *o;
	size_t		 i;

	res = lep_json_obj();
	arr = lep_json_arr();
	for (i = 0; i < n; i++) {
		o = lep_json_obj();
		lep_json_set_str(o, "provider", prov[i]);
		lep_json_set_str(o, "source", src[i]);
		lep_json_set_int(o, "rows", (long long)rows[i]);
		lep_json_push(arr, o);
	}
	lep_json_set(res, "updated", arr);
	lep_json_set_str(res, "dir", dir);
	lep_out_result(out, res);
}

static const struct lep_err *
catalog_update(struct lep_ctx *ctx, const char *from, const char *only)
{
	const struct lep_err	*err = NULL;
	struct lep_provider_info pi;
	struct lep_catalog	*cat;
	struct lep_buf		*got = NULL;
	char			**src = NULL, *dir, *path, *copy;
	size_t			 i, n = 0, *rows = NULL;
	const char		**prov = NULL;

	for (i = 0; lep_provider_nth(&pi, i) == 0; i++) {
		if (pi.catalog_url == NULL ||
		    (only != NULL && strcmp(only, pi.name) != 0))
			continue;
		got = xreallocarray(got, n + 1, sizeof(*got));
		src = xreallocarray(src, n + 1, sizeof(*src));
		rows = xreallocarray(rows, n + 1, sizeof(*rows));
		prov = xreallocarray(prov, n + 1, sizeof(*prov));
		prov[n] = pi.name;
		src[n] = NULL;
		lep_out_progress(&ctx->out, "fetching %s", prov[n]);
		err = fetch_one(&got[n], from, prov[n], pi.catalog_url,
		    &src[n]);
		if (err == NULL) {
			/* Check it whole; the parse takes a copy. */
			copy = xstrndup(got[n].buf, got[n].len);
			err = lep_catalog_parse(&cat, prov[n], src[n], copy,
			    got[n].len, pi.catalog_flags);
			if (err == NULL) {
				rows[n] = cat->rows;
				lep_catalog_free(cat);
			}
		}
		n++;
		if (err != NULL)
			goto done;
	}
	if (n == 0) {
		err = lep_err_new(LEP_E_USAGE, "no catalog for provider '%s'",
		    only);
		goto done;
	}
	/* Every file is good: now, and only now, replace them. */
	dir = xasprintf("%s/catalog", ctx->home);
	err = lep_mkdirs(dir, 0700);
	for (i = 0; i < n && err == NULL; i++) {
		path = xasprintf("%s/%s.csv", dir, prov[i]);
		err = lep_write_atomic(path, got[i].buf, got[i].len, 0600);
		free(path);
	}
	if (err == NULL && ctx->out.json)
		update_json(&ctx->out, dir, prov, src, rows, n);
	else if (err == NULL) {
		for (i = 0; i < n; i++)
			lep_out_printf(&ctx->out, "%s: %zu rows from %s\n",
			    prov[i], rows[i], src[i]);
	}
	free(dir);
done:
	for (i = 0; i < n; i++) {
		lep_buf_release(&got[i]);
		free(src[i]);
	}
	free(got);
	free(src);
	free(rows);
	free(prov);
	return err;
}

static const struct lep_err *
cmd_catalog_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const char	*sub = lep_args_pos(args, 0);

	if (sub == NULL) {
		if (lep_args_has(args, "from"))
			return lep_err_new(LEP_E_USAGE, "--from is for "
			    "'lepton catalog update'");
		return catalog_list(ctx, lep_args_get(args, "provider"));
	}
	if (strcmp(sub, "update") != 0)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "unknown "
		    "subcommand '%s'", sub), "usage: lepton catalog %s",
		    cmd_catalog_entry.usage);
	return catalog_update(ctx, lep_args_get(args, "from"),
	    lep_args_get(args, "provider"));
}
