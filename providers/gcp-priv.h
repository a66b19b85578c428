/*
 * gcp-priv.h: what the Google Cloud provider's files share: the driver
 * state and its calls (gcp.c), Cloud Storage artifacts and Cloud Logging
 * (gcp-gcs.c), Vertex AI endpoints (gcp-vertex.c) and custom jobs
 * (gcp-train.c). Files under HOME/gcp:
 *
 *   services/NAME.json  one deployment: its project, region, endpoint,
 *                       and every model lepton uploaded for it (those a
 *                       stop deletes), by revision
 *   jobs/ID.json        one custom job: its region, bucket, output
 *   token.json          the access token's cache (lib/gcp)
 *
 * Where each API is reached (gcp_url): Vertex AI at
 * https://REGION-aiplatform.googleapis.com/, or
 * CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM (gcloud's form) or config
 * gcp.aiplatform_endpoint; Cloud Storage at
 * https://storage.googleapis.com/, or STORAGE_EMULATOR_HOST or config
 * gcp.storage_endpoint; Cloud Logging at https://logging.googleapis.com/,
 * or CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING or config
 * gcp.logging_endpoint. Plain http only on a loopback address.
 */
#ifndef LEPTON_PROVIDERS_GCP_PRIV_H
#define LEPTON_PROVIDERS_GCP_PRIV_H

#include <stddef.h>

#include "../lib/gcp.h"

struct lep_buf;
struct lep_deploy_req;
struct lep_deployment;
struct lep_err;
struct lep_http_resp;
struct lep_job;
struct lep_json;
struct lep_logs_req;
struct lep_out;
struct lep_spec;
struct lep_submit_req;

/* Above this, an upload is a resumable one, in chunks of this size (a
   multiple of 256 KiB, as GCS requires). */
#define GCP_RESUMABLE_MIN	(8u << 20)
#define GCP_CHUNK		(8u << 20)
/* What one Vertex, Storage or Logging answer may hold. */
#define GCP_ANSWER_MAX		(8u << 20)
/* A job's output, all its files together. */
#define GCP_OUTPUT_MAX		(1024u << 20)
/* How often an operation or a custom job is asked about. */
#define GCP_POLL_MS		1000
/* How long a deployModel may take (Vertex: many minutes). */
#define GCP_OP_WAIT_S		1800

/* Which Google API a call goes to. */
enum gcp_api {
	GCP_VERTEX,
	GCP_STORAGE,
	GCP_LOGGING,
};

struct gcp_state {
	char			*home;
	struct lep_out		*out;
	/* Config section "gcp", then the environment. */
	char			*project;	/* config gcp.project */
	char			*region;	/* config gcp.region */
	char			*ca_file;
	char			*bucket;	/* config gcp.bucket */
	char			*endpoint[3];	/* config overrides, by api */
	/* Resolved on first use (never at open: no network there). */
	/* The most the next gcp_send's answer may hold (0:
	   GCP_ANSWER_MAX); reset by it. An object's read sets it. */
	size_t			 answer_max;
	int			 resolved;
	const struct lep_err	*creds_err;
	struct lep_gcp_creds	 creds;
};

/* gcp.c */

/* The credentials and a token, resolved once. Errors: AUTH, PROVIDER,
   TIMEOUT (as lep_gcp_creds_resolve). */
const struct lep_err *gcp_creds(struct gcp_state *);
/* The project (borrowed). Errors: as gcp_creds; USAGE (none found). */
const struct lep_err *gcp_project(const char **out, struct gcp_state *);
/*
 * The region a spec runs in: the planner's, else placement.regions'
 * first, else config gcp.region, else us-central1 (gcloud's default for
 * Vertex AI). Caller frees.
 */
char	*gcp_region(struct gcp_state *, const struct lep_spec *,
	    const char *planned);
/*
 * The base URL of api, with a trailing '/': for GCP_VERTEX, region's
 * host. *from (may be NULL) says which override won, or "default".
 * Caller frees.
 */
char	*gcp_url(struct gcp_state *, enum gcp_api, const char *region,
	    const char **from);
/*
 * One call: method on base(api) + path (no leading '/'; a query may
 * follow), with body (taken; NULL: none; a POST without one sends {}),
 * the answer's JSON in *out (caller frees; may be NULL; an empty answer
 * is {}). *status (caller frees; may be NULL): Google's error status
 * ("NOT_FOUND", "RESOURCE_EXHAUSTED", ...) when the answer was an error.
 * GET, PUT, DELETE and a PATCH are retried on 429/5xx/resets with
 * jittered backoff, Retry-After honoured; a POST only where nothing was
 * sent, or on 429 and 503 (Google's own advice: the request was not
 * acted on). Errors: NOT_FOUND (404), AUTH (401, 403: naming the
 * credentials' source), CAPACITY (RESOURCE_EXHAUSTED, or a quota or
 * stockout message: lep_err_capacity), CONFLICT (409, ALREADY_EXISTS,
 * FAILED_PRECONDITION), PROVIDER, TIMEOUT, INTERRUPTED; the message
 * names the call and Google's own words.
 */
const struct lep_err *gcp_call(struct lep_json **out, char **status,
	    struct gcp_state *, enum gcp_api, const char *region,
	    const char *method, const char *path, struct lep_json *body);
/*
 * The same, raw: len bytes of body (may be NULL) as ctype, with extra
 * header lines; resp (caller releases, even on error) holds the answer.
 * A 308 (a resumable upload's "go on") is not an error.
 */
const struct lep_err *gcp_send(struct lep_http_resp *resp, char **status,
	    struct gcp_state *, enum gcp_api, const char *region,
	    const char *method, const char *path, const void *body,
	    size_t len, const char *ctype, const char *const *headers,
	    size_t nheaders);
/*
 * Wait for long-running operation op (an answer of gcp_call) to be
 * done, asking GET v1/{name} every GCP_POLL_MS, at most GCP_OP_WAIT_S;
 * what names the work in messages and on a TTY's progress line. *resp
 * (caller frees; may be NULL): its "response". An operation that ended
 * in error is that error, mapped as gcp_call maps statuses (by its
 * numeric code). Errors: as gcp_call; TIMEOUT; INTERRUPTED.
 */
const struct lep_err *gcp_wait(struct lep_json **resp, struct gcp_state *,
	    const char *region, const struct lep_json *op, const char *what);
/* Does status (or err) say the thing is not there? */
int	 gcp_missing(const char *status, const struct lep_err *);
/* Vertex's machine type for a catalog instance (default n1-standard-4);
   caller frees. */
char	*gcp_machine(const char *catalog_instance);
/* Vertex's acceleratorType for a spec's or catalog's accelerator name
   ("T4", "nvidia-l4", "A100-80GB"...), or NULL: none known. Static. */
const char *gcp_accelerator(const char *name);
/* "projects/P/locations/R". Caller frees. */
char	*gcp_parent(const char *project, const char *region);
/* HOME/gcp/KIND/NAME.json. Caller frees. */
char	*gcp_file(const struct gcp_state *, const char *kind,
	    const char *name);
/* The artifact bucket: config gcp.bucket, else "lepton-PROJECT", made
   in region when missing. Caller frees. */
const struct lep_err *gcp_bucket(char **out, struct gcp_state *,
	    const char *region);

/* gcp-gcs.c */

/*
 * Store data as gs://bucket/object: one media upload, or a resumable
 * upload in GCP_CHUNK pieces above GCP_RESUMABLE_MIN (each piece tried
 * again on its own; a lost session asked where it stands). Errors: as
 * gcp_call.
 */
const struct lep_err *gcp_gcs_put(struct gcp_state *, const char *bucket,
	    const char *object, const void *data, size_t len);
/* Read gs://bucket/object into out, at most max bytes. Errors: NOT_FOUND
   too; FAILED: larger than max. */
const struct lep_err *gcp_gcs_get(struct lep_buf *out, struct gcp_state *,
	    const char *bucket, const char *object, size_t max);
/* The names of every object under prefix, a JSON array of strings
   (caller frees), following nextPageToken. */
const struct lep_err *gcp_gcs_list(struct lep_json **names,
	    struct gcp_state *, const char *bucket, const char *prefix);
/* Delete one object; one not there is not an error. */
const struct lep_err *gcp_gcs_delete(struct gcp_state *, const char *bucket,
	    const char *object);
/* Does bucket exist (and may we use it)? Made in region when not. */
const struct lep_err *gcp_gcs_ensure_bucket(struct gcp_state *,
	    const char *bucket, const char *region);
/* "gs://bucket/object" into its parts (caller frees both). -1: not one. */
int	 gcp_gs_split(char **bucket, char **object, const char *url);
/*
 * Print the Cloud Logging entries of the project that match filter
 * (entries:list, oldest first, following nextPageToken), the last
 * req->tail of them; then, while req->follow and alive(arg) says so,
 * ask again every two seconds for those newer than the last printed.
 * Each entry is its textPayload, or its jsonPayload's "message", one
 * line. Errors: as gcp_call.
 */
const struct lep_err *gcp_print_logs(struct gcp_state *, const char *filter,
	    const struct lep_logs_req *, struct lep_out *,
	    int (*alive)(void *), void *arg);

/* gcp-vertex.c: the service hooks. */
const struct lep_err *gcp_deploy(struct lep_deployment **, void *,
	    const struct lep_deploy_req *);
const struct lep_err *gcp_status(struct lep_deployment **, void *,
	    const char *);
const struct lep_err *gcp_remove(struct lep_deployment **, void *,
	    const char *, int);
const struct lep_err *gcp_update(struct lep_deployment **, void *,
	    const char *, int, const char *);
const struct lep_err *gcp_endpoint(char **, char **, void *, const char *);
const struct lep_err *gcp_svc_logs(void *, const char *,
	    const struct lep_logs_req *, struct lep_out *);

/* gcp-train.c: the job hooks. */
const struct lep_err *gcp_submit(struct lep_job **, void *,
	    const struct lep_submit_req *);
const struct lep_err *gcp_job_status(struct lep_job **, void *,
	    const char *);
const struct lep_err *gcp_cancel(struct lep_job **, void *, const char *,
	    int);
const struct lep_err *gcp_job_logs(struct gcp_state *, const char *id,
	    const struct lep_logs_req *, struct lep_out *);

#endif
