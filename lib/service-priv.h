/*
 * service-priv.h: what service.c and service-apply.c share: the record
 * of a deployment in HOME/deployments/NAME.json.
 */
#ifndef LEPTON_LIB_SERVICE_PRIV_H
#define LEPTON_LIB_SERVICE_PRIV_H

struct lep_ctx;
struct lep_deployment;
struct lep_err;
struct lep_json;

/* Errors: NOT_FOUND (none: a hint names 'lepton status'), FAILED. */
const struct lep_err *service_record_load(struct lep_json **out,
	    const struct lep_ctx *, const char *name);
/* Written atomically; the caller holds the state lock. */
const struct lep_err *service_record_save(const struct lep_ctx *,
	    const char *name, const struct lep_json *rec);
/* No record at all (a first deploy that started nowhere). */
const struct lep_err *service_record_remove(const struct lep_ctx *,
	    const char *name);
/* Times, spec hash and revision from the record onto d. */
void	 service_stamp(struct lep_deployment *d, const struct lep_json *rec);

#endif
