/*
 * kube.h: a Kubernetes API server as kubectl finds it: the kubeconfig
 * files (KUBECONFIG, merged, or ~/.kube/config), a context, its cluster
 * (server, CA) and user (token, token file, client certificate, exec
 * plugin with its credential cached 0600 under LEPTON_HOME until it
 * expires), and one request to that server with those credentials.
 */
#ifndef LEPTON_LIB_KUBE_H
#define LEPTON_LIB_KUBE_H

#include <stddef.h>

struct lep_err;
struct lep_http_resp;
struct lep_json;

/* An exec credential is used while more than this many seconds remain. */
#define LEP_KUBE_REFRESH_S	10
/* How long an exec plugin may take (it may ask a browser to log in). */
#define LEP_KUBE_EXEC_TIMEOUT_MS	120000L

/*
 * What the provider config section {"kubernetes": {"context": NAME,
 * "namespace": NS}} says, and where the cache is; all borrowed, all
 * optional.
 */
struct lep_kube_opts {
	const char	*home;		/* LEPTON_HOME: the cache */
	const char	*context;	/* beats current-context */
	const char	*namespace;	/* beats the context's */
};

/* Where the user's credentials come from. */
enum lep_kube_auth {
	LEP_KUBE_AUTH_NONE,
	LEP_KUBE_AUTH_TOKEN,
	LEP_KUBE_AUTH_TOKEN_FILE,
	LEP_KUBE_AUTH_CERT,		/* client-certificate, -key */
	LEP_KUBE_AUTH_EXEC,
};

/* One exec plugin, as the user entry states it (paths resolved). */
struct lep_kube_exec {
	char		*api_version;
	char		**argv;		/* command, args, NULL */
	size_t		 argc;
	char		**env;		/* "NAME=value" */
	size_t		 nenv;
	char		*interactive;	/* interactiveMode */
	char		*install_hint;
	int		 cluster_info;	/* provideClusterInfo */
};

/*
 * A context resolved. Strings are owned; the secrets (token, key) are
 * wiped by lep_kube_release.
 */
struct lep_kube {
	int		 unset;		/* no kubeconfig or context */
	char		*files;		/* the files read: a:b */
	const char	*files_from;	/* KUBECONFIG, ~/.kube/config */
	char		*context;
	char		*context_from;	/* "config", "current-context
					   in FILE" */
	char		*cluster;
	char		*cluster_file;	/* the file that defined it */
	char		*server;
	char		*namespace;
	const char	*namespace_from; /* "config", "context", "default" */
	char		*user;		/* NULL: none named */
	char		*user_file;
	enum lep_kube_auth auth;
	char		*auth_detail;	/* the token file, the
					   certificate's file or
					   "data", the plugin */
	int		 insecure;	/* insecure-skip-tls-verify */
	char		*ca;		/* PEM; NULL: the system's */
	size_t		 ca_len;
	char		*ca_from;	/* a file, or "data" */
	char		*cert;		/* PEM */
	size_t		 cert_len;
	char		*cert_file;	/* read by lep_kube_auth */
	char		*key;		/* PEM, secret */
	size_t		 key_len;
	char		*key_file;
	char		*token;		/* secret */
	struct lep_kube_exec *exec;	/* or NULL */
	long long	 expires;	/* the exec credential's; 0: none */
	int		 cached;	/* it came from the cache */
};

/*
 * Read the kubeconfig files as kubectl does: KUBECONFIG's colon list
 * (empty entries and files that do not exist skipped, each file once),
 * else ~/.kube/config. Merged: a cluster, user or context is taken whole
 * from the first file that names it; current-context from the first
 * file that sets it. The context: opts->context, else current-context.
 * Relative paths (files, and an exec command with a '/') are resolved
 * against the directory of the file that holds them. Nothing is run and
 * no credential file is read yet. A kubeconfig others may read is
 * refused.
 *
 * Errors: PROVIDER (no kubeconfig, or no context chosen: out->unset,
 * "not configured"), UNSUPPORTED (a setting lepton cannot honour yet),
 * AUTH (a file refused or malformed, a context, cluster
 * or user it names missing, a setting kubectl would refuse). Release
 * out even on error.
 */
const struct lep_err *lep_kube_load(struct lep_kube *out,
	    const struct lep_kube_opts *);

/*
 * The user's credentials: the token file read (trimmed), the client
 * certificate and key read (the key must be private), or the exec
 * plugin's credential, from the cache while more than LEP_KUBE_REFRESH_S
 * seconds remain, else run (lepton's environment, the entry's env and
 * KUBERNETES_EXEC_INFO; stdin /dev/null, stderr lepton's) under a flock
 * so that concurrent processes run it once. A server on plain http gets
 * no credentials: refused before any is read or run.
 * Errors: AUTH, NOT_FOUND (a file, the plugin), TIMEOUT.
 */
const struct lep_err *lep_kube_auth(struct lep_kube *,
	    const struct lep_kube_opts *);

void	 lep_kube_release(struct lep_kube *);

/*
 * One request to the server at path (with its query), credentials and
 * TLS as resolved; body JSON or NULL. Idempotent methods are retried.
 * Errors: as lep_http_do (any HTTP status is success here).
 */
const struct lep_err *lep_kube_do(struct lep_http_resp *,
	    const struct lep_kube *, const char *method, const char *path,
	    const char *body);

/*
 * For 'lepton check kubernetes': load, authenticate and GET /version,
 * into a JSON object with no secret in it: "configured", "kubeconfig",
 * "context" and "context_from", "url" and "url_from" (the cluster),
 * "user" and "user_from" (the credential's source), "namespace" and
 * "namespace_from", "server" (one line) and "server_version"
 * (gitVersion). Errors: as lep_kube_load and lep_kube_auth; AUTH when
 * the server refuses the credentials, PROVIDER when it does not answer.
 * *out says what was found even then. Caller frees.
 */
const struct lep_err *lep_kube_probe(struct lep_json **out,
	    const struct lep_kube_opts *);

/*
 * An RFC 3339 time (expirationTimestamp) as unix seconds; -1 when it is
 * not one.
 */
long long lep_kube_rfc3339(const char *);

#endif
