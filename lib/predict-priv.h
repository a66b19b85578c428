/*
 * predict-priv.h: what lib/predict*.c share: the request, the reading of
 * inputs, and the meaning of a response.
 */
#ifndef LEPTON_LIB_PREDICT_PRIV_H
#define LEPTON_LIB_PREDICT_PRIV_H

#include <stddef.h>

struct lep_buf;
struct lep_err;
struct lep_http_req;
struct lep_http_resp;
struct lep_json;
struct lep_predict;

/* The largest request body or batch read. */
#define LEP_PREDICT_MAX_INPUT	(256u * 1024 * 1024)

/* A POST of body to url with p's token, timeout and CA bundle. */
void	 lep_predict_request(struct lep_http_req *out,
	    const struct lep_predict *p, const char *url, const char *body,
	    size_t len);
/*
 * The error for a response with HTTP status outside 2xx, its body's start
 * in the message. Errors: AUTH, NOT_FOUND, PROVIDER, FAILED.
 */
const struct lep_err *lep_predict_http_error(long status, const char *body,
	    const char *url);
/*
 * The response as one JSON value: parsed if it is JSON, else every byte
 * of it (a string, or {"base64": ...}: see lep_json_bytes).
 */
struct lep_json *lep_predict_response_json(const struct lep_http_resp *);
/*
 * Read path ("-": standard input) whole into out (initialised here).
 * Errors: USAGE (too large), NOT_FOUND, FAILED.
 */
const struct lep_err *lep_predict_read(struct lep_buf *out, const char *path);

#endif
