/*
 * gcp.h: Google Cloud credentials found as google-auth finds them, the
 * OAuth access token they yield (RS256 JWT-bearer, refresh token or the
 * metadata server), cached 0600 under LEPTON_HOME and shared between
 * concurrent lepton processes.
 */
#ifndef LEPTON_LIB_GCP_H
#define LEPTON_LIB_GCP_H

#include <stddef.h>

struct lep_err;
struct lep_json;

/* OAuth's token endpoint, and the audience of every JWT-bearer grant. */
#define LEP_GCP_TOKEN_URI	"https://oauth2.googleapis.com/token"
#define LEP_GCP_SCOPE		"https://www.googleapis.com/auth/cloud-platform"
/* A cached token is used while more than this many seconds remain
   (google-auth's refresh window). */
#define LEP_GCP_REFRESH_S	225

/*
 * Where to look; all borrowed, all optional. A provider config section
 * {"gcp": {"project": P, "region": R, "ca_file": F}} fills these.
 */
struct lep_gcp_opts {
	const char	*home;		/* LEPTON_HOME: the token cache */
	const char	*project;	/* beats every other source */
	const char	*region;
	const char	*ca_file;	/* a CA bundle for https test servers */
};

/*
 * Resolved credentials and a token. source: "service-account",
 * "authorized-user" (from GOOGLE_APPLICATION_CREDENTIALS), "adc" (gcloud's
 * application-default file, either type) or "metadata".
 */
struct lep_gcp_creds {
	const char	*source;	/* static */
	const char	*type;		/* the file's "type", static; or NULL */
	char		*file;		/* the file read, or metadata's host */
	char		*principal;	/* client_email, the metadata's email,
					   or an authorized user's client_id */
	char		*project;	/* NULL: none found */
	const char	*project_from;	/* static */
	char		*token_uri;	/* where the token came from */
	char		*token;		/* secret */
	long long	 expires;	/* unix seconds */
	int		 cached;	/* token read from the cache */
};

/*
 * The first source in google-auth's order: GOOGLE_APPLICATION_CREDENTIALS
 * (a service_account key or an authorized_user file), gcloud's
 * application_default_credentials.json under CLOUDSDK_CONFIG or
 * ~/.config/gcloud, the metadata server (GCE_METADATA_HOST, else
 * 169.254.169.254; one-second timeouts). Then a token: from the cache
 * while more than LEP_GCP_REFRESH_S seconds remain, else fetched under
 * a lock so that concurrent processes make one request. A token_uri must
 * be https, or http on a loopback address. The project: opts->project,
 * GOOGLE_CLOUD_PROJECT, CLOUDSDK_CORE_PROJECT, the file's project_id (or
 * quota_project_id), the metadata server's.
 *
 * Errors: LEP_E_AUTH (none found: "no credentials"; a file unreadable,
 * readable by others, or not a key, named; a token request refused:
 * Google's error and the source), LEP_E_PROVIDER or LEP_E_TIMEOUT (the
 * token endpoint unreachable). Release out even on error.
 */
const struct lep_err *lep_gcp_creds_resolve(struct lep_gcp_creds *out,
	    const struct lep_gcp_opts *);
/* Wipe the token and free. */
void	 lep_gcp_creds_release(struct lep_gcp_creds *);

/*
 * The signed JWT-bearer assertion (RFC 7523) for a service account at
 * time now: header {"alg":"RS256","typ":"JWT","kid":kid} (no kid when
 * NULL), claims {"iss","scope","aud","iat","exp"} with aud
 * LEP_GCP_TOKEN_URI and exp now + 3600, as google-auth sends them.
 * *out: caller wipes and frees. Errors: AUTH (not an RSA key).
 */
const struct lep_err *lep_gcp_jwt(char **out, const char *email,
	    const char *kid, const char *pem, const char *scope,
	    long long now);

/*
 * Is url one lepton may send a token to: https anywhere, plain http only
 * on a loopback address (a test server)? Errors: AUTH, naming what.
 */
const struct lep_err *lep_gcp_url_ok(const char *url, const char *what);

/*
 * For 'lepton check gcp': resolve and get a token, into a JSON object
 * with no secret in it: "configured", "credentials" (the source in
 * words), "source", "file", "principal", "project", "project_from",
 * "region", "token_from", "token_accepted", "expires". Errors: as
 * lep_gcp_creds_resolve; *out says what was found even then. Caller
 * frees.
 */
const struct lep_err *lep_gcp_probe(struct lep_json **out,
	    const struct lep_gcp_opts *);

#endif
