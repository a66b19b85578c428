/*
 * config.c: HOME/config.json.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "error.h"
#include "fs.h"
#include "json.h"
#include "money.h"
#include "util.h"

const struct lep_err *
lep_config_load(struct lep_config_file *cf, const char *home)
{
	const struct lep_err	*err;
	struct lep_buf		 b;

	memset(cf, 0, sizeof(*cf));
	cf->path = xasprintf("%s/config.json", home);
	err = lep_read_file(&b, cf->path, LEP_FILE_MAX);
	if (err != NULL && err->code == LEP_E_NOT_FOUND) {
		lep_buf_release(&b);
		cf->root = lep_json_obj();
		return NULL;
	}
	if (err == NULL)
		err = lep_json_parse(&cf->root, b.buf, b.len, cf->path);
	lep_buf_release(&b);
	if (err == NULL && lep_json_type(cf->root) != LEP_JSON_OBJECT)
		err = lep_err_new(LEP_E_FAILED, "%s: not a JSON object",
		    cf->path);
	if (err != NULL) {
		lep_config_release(cf);
		return err;
	}
	return NULL;
}

void
lep_config_release(struct lep_config_file *cf)
{
	lep_json_free(cf->root);
	free(cf->path);
	memset(cf, 0, sizeof(*cf));
}

const struct lep_json *
lep_config_get(const struct lep_config_file *cf, const char *key)
{
	return lep_json_get(cf->root, key);
}

/* A price as a string ("2.50") or a number (2.5). */
static const struct lep_err *
money_value(int64_t *out, const struct lep_json *v, const char *path,
    const char *what)
{
	char	 buf[64];

	*out = 0;
	switch (lep_json_type(v)) {
	case LEP_JSON_INVALID:
		return NULL;
	case LEP_JSON_STRING:
		if (lep_money_parse(out, lep_json_string(v)) == 0)
			return NULL;
		break;
	case LEP_JSON_NUMBER:
		snprintf(buf, sizeof(buf), "%.6f", lep_json_number(v));
		if (lep_money_parse(out, buf) == 0)
			return NULL;
		break;
	default:
		break;
	}
	return lep_err_new(LEP_E_FAILED, "%s: %s must be a price in dollars "
	    "per hour, such as \"2.50\"", path, what);
}

static const struct lep_json *
rates_of(const struct lep_config_file *cf, const char *provider)
{
	return lep_json_get(lep_json_get(cf->root, "rates"), provider);
}

const struct lep_err *
lep_config_rate(int64_t *out, const struct lep_config_file *cf,
    const char *provider)
{
	char	 what[96];

	snprintf(what, sizeof(what), "rates.%s.hourly", provider);
	return money_value(out, lep_json_get(rates_of(cf, provider), "hourly"),
	    cf->path, what);
}

const struct lep_err *
lep_config_gpu_rate(int64_t *out, const struct lep_config_file *cf,
    const char *provider, const char *gpu)
{
	const struct lep_json	*g, *m;
	char			 what[160];
	size_t			 i;

	*out = 0;
	g = lep_json_get(rates_of(cf, provider), "gpu");
	for (i = 0; i < lep_json_len(g); i++) {
		m = lep_json_at(g, i);
		if (lep_accel_match(lep_json_key(m), gpu)) {
			snprintf(what, sizeof(what), "rates.%s.gpu.%s",
			    provider, lep_json_key(m));
			return money_value(out, m, cf->path, what);
		}
	}
	snprintf(what, sizeof(what), "rates.%s.gpu.*", provider);
	return money_value(out, lep_json_get(g, "*"), cf->path, what);
}
