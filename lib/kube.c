/*
 * kube.c: kubeconfig read and merged as kubectl does (client-go's
 * clientcmd loader), the user's credentials, exec plugins with their
 * credential cached 0600 in LEPTON_HOME/cache/kube behind a flock.
 */
#include "kube.h"

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "creds.h"
#include "crypto.h"
#include "error.h"
#include "fs.h"
#include "http.h"
#include "json.h"
#include "proc.h"
#include "util.h"
#include "yaml.h"

extern char **environ;

#define KUBE_EXEC_MAX		(1 << 20)
#define KUBE_API_V1		"client.authentication.k8s.io/v1"
#define KUBE_API_V1BETA1	"client.authentication.k8s.io/v1beta1"

/* One kubeconfig file, parsed. */
struct kfile {
	char			*path;
	char			*dir;	/* relative paths start here */
	struct lep_yaml_node	*root;	/* NULL: empty */
};

struct kconf {
	struct kfile	*f;
	size_t		 n;
};

/* --- times ---------------------------------------------------------------- */

long long
lep_kube_rfc3339(const char *s)
{
	struct tm	 tm;
	int		 y, mo, d, h, mi, se, n = 0, oh, om;
	long long	 t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%*1[Tt]%2d:%2d:%2d%n", &y, &mo,
	    &d, &h, &mi, &se, &n) != 6 || n != 19)
		return -1;
	s += n;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60 || y < 1970)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = (long long)timegm(&tm);
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return t;
	n = 0;
	if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om,
	    &n) == 2 && n == 5 && s[6] == '\0' && oh < 24 && om < 60)
		return *s == '+' ? t - (oh * 3600 + om * 60) :
		    t + (oh * 3600 + om * 60);
	return -1;
}

/* --- the files --------------------------------------------------------- */

/* A scalar's text, NULL when absent, null or not a scalar. */
static const char *
str(const struct lep_yaml_node *m, const char *key)
{
	const struct lep_yaml_node	*v;

	if (m == NULL || m->type != LEP_YAML_MAP ||
	    (v = lep_yaml_get(m, key)) == NULL || v->type != LEP_YAML_SCALAR)
		return NULL;
	if (v->plain && (strcmp(v->val, "null") == 0 ||
	    strcmp(v->val, "~") == 0))
		return NULL;
	return v->val;
}

/* A scalar that is set and not empty: Go's zero value is "unset". */
static const char *
set(const struct lep_yaml_node *m, const char *key)
{
	const char	*v = str(m, key);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int
is_true(const struct lep_yaml_node *m, const char *key)
{
	const char	*v = str(m, key);

	return v != NULL && (strcmp(v, "true") == 0 ||
	    strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0);
}

/* p resolved against dir, as client-go's ResolvePaths. Caller frees. */
static char *
resolve(const char *dir, const char *p)
{
	if (*p == '/' || dir == NULL)
		return xstrdup(p);
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	return xasprintf("%s/%s", dir, p);
}

static void
kconf_release(struct kconf *c)
{
	size_t	 i;

	for (i = 0; i < c->n; i++) {
		free(c->f[i].path);
		free(c->f[i].dir);
		lep_yaml_free(c->f[i].root);
	}
	free(c->f);
	c->f = NULL;
	c->n = 0;
}

/*
 * Read path into c; a file that does not exist is skipped (*found 0).
 * Refused: others may read it (it holds credentials), or it is not
 * YAML.
 */
static const struct lep_err *
kconf_add(struct kconf *c, const char *path, int *found)
{
	static const struct lep_yaml_limits lim = {
		.max_scalar = 1 << 20,
		.max_aliases = 64,
		.max_nodes = 100000,
		.max_depth = 32,
	};
	const struct lep_err	*err;
	struct lep_yaml_node	*root = NULL;
	struct lep_buf		 b;
	struct kfile		*f;
	char			*cwd, *abs, *slash;
	size_t			 i;

	*found = 0;
	if (*path != '/' && (cwd = getcwd(NULL, 0)) != NULL) {
		abs = xasprintf("%s/%s", cwd, path);
		free(cwd);
	} else
		abs = xstrdup(path);
	for (i = 0; i < c->n; i++)
		if (strcmp(c->f[i].path, abs) == 0) {
			free(abs);	/* each file once */
			return NULL;
		}
	err = lep_creds_read_file(&b, abs, LEP_CREDS_FILE_MAX);
	if (err != NULL && err->code == LEP_E_NOT_FOUND) {
		lep_buf_release(&b);
		free(abs);
		return NULL;
	}
	if (err == NULL)
		err = lep_yaml_load(&root, abs, b.buf, b.len, &lim);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	if (err == NULL && root != NULL && root->type != LEP_YAML_MAP)
		err = lep_err_new(LEP_E_AUTH, "'%s': not a kubeconfig (a "
		    "mapping is expected)", abs);
	if (err != NULL) {
		lep_yaml_free(root);
		free(abs);
		return err->code == LEP_E_AUTH ? err :
		    lep_err_new(LEP_E_AUTH, "kubeconfig %s", err->msg);
	}
	*found = 1;
	c->f = xreallocarray(c->f, c->n + 1, sizeof(*c->f));
	f = &c->f[c->n++];
	f->path = abs;
	slash = strrchr(abs, '/');
	f->dir = xstrndup(abs, (size_t)(slash - abs));
	f->root = root;
	return NULL;
}

static const struct lep_err *
kconf_load(struct kconf *c, struct lep_kube *k)
{
	const struct lep_err	*err = NULL;
	const char		*env = getenv("KUBECONFIG"), *home;
	struct lep_buf		 names = LEP_BUF_INIT;
	char			*list, *p, *next;
	int			 found;

	if (env != NULL && *env != '\0') {
		k->files_from = "KUBECONFIG";
		list = xstrdup(env);
		for (p = list; p != NULL && err == NULL; p = next) {
			if ((next = strchr(p, ':')) != NULL)
				*next++ = '\0';
			if (*p == '\0')
				continue;
			if ((err = kconf_add(c, p, &found)) == NULL && found)
				lep_buf_addf(&names, "%s%s", names.len ? ":" :
				    "", c->f[c->n - 1].path);
		}
		free(list);
	} else {
		k->files_from = "~/.kube/config";
		if ((home = getenv("HOME")) == NULL || *home == '\0')
			home = "/";
		p = xasprintf("%s/.kube/config", home);
		if ((err = kconf_add(c, p, &found)) == NULL && found)
			lep_buf_add(&names, c->f[0].path);
		free(p);
	}
	k->files = lep_buf_detach(&names, NULL);
	if (err == NULL && c->n == 0) {
		k->unset = 1;
		err = lep_err_hint(lep_err_new(LEP_E_PROVIDER, "no "
		    "kubeconfig: %s", env != NULL && *env != '\0' ?
		    "no file in KUBECONFIG exists" : "~/.kube/config does "
		    "not exist and KUBECONFIG is unset"), "set KUBECONFIG, "
		    "as for kubectl");
	}
	return err;
}

/*
 * The entry named name in list (clusters, users, contexts) of the first
 * file that has one: its inner mapping (what: cluster, user, context),
 * and the file. NULL when no file names it.
 */
static const struct lep_yaml_node *
kconf_find(const struct kconf *c, const char *list, const char *what,
    const char *name, const struct kfile **file)
{
	const struct lep_yaml_node	*l, *e, *v;
	static const struct lep_yaml_node empty = { .type = LEP_YAML_MAP };
	size_t				 i, j;

	for (i = 0; i < c->n; i++) {
		if (c->f[i].root == NULL || (l = lep_yaml_get(c->f[i].root,
		    list)) == NULL || l->type != LEP_YAML_SEQ)
			continue;
		for (j = 0; j < l->n; j++) {
			e = l->kids[j];
			if (!lep_streq(str(e, "name"), name))
				continue;
			*file = &c->f[i];
			v = lep_yaml_get(e, what);
			return v != NULL && v->type == LEP_YAML_MAP ? v :
			    &empty;
		}
	}
	return NULL;
}

/* --- cluster and user -------------------------------------------------- */

static const struct lep_err *
read_pem(char **out, size_t *len, char **from, const char *dir,
    const struct lep_yaml_node *m, const char *key, int secret,
    const char *what, const char *owner)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	const char		*data, *file;
	char			*dkey = xasprintf("%s-data", key), *path;

	data = set(m, dkey);
	file = set(m, key);
	free(dkey);
	if (data != NULL) {
		if (from != NULL)
			*from = xstrdup("data");
		if (lep_base64_decode(out, len, data, strlen(data), 0) == -1)
			return lep_err_new(LEP_E_AUTH, "%s '%s': %s-data is "
			    "not base64", what, owner, key);
		return NULL;
	}
	if (file == NULL)
		return NULL;
	path = resolve(dir, file);
	if (from != NULL)
		*from = xstrdup(path);
	err = secret ? lep_creds_read_file(&b, path, LEP_CREDS_FILE_MAX) :
	    lep_read_file(&b, path, LEP_CREDS_FILE_MAX);
	if (err == NULL)
		*out = lep_buf_detach(&b, len);
	else {
		lep_wipe(b.buf, b.len);
		lep_buf_release(&b);
		err = lep_err_new(err->code == LEP_E_NOT_FOUND ?
		    LEP_E_NOT_FOUND : LEP_E_AUTH, "%s '%s' %s: %s", what,
		    owner, key, err->msg);
	}
	free(path);
	return err;
}

static const struct lep_err *
load_cluster(struct lep_kube *k, const struct lep_yaml_node *m,
    const struct kfile *f)
{
	const char	*v;

	k->cluster_file = xstrdup(f->path);
	if ((v = set(m, "server")) == NULL)
		return lep_err_new(LEP_E_AUTH, "cluster '%s' (%s) has no "
		    "server", k->cluster, f->path);
	if (!lep_starts_with(v, "https://") && !lep_starts_with(v, "http://"))
		return lep_err_new(LEP_E_AUTH, "cluster '%s' (%s): server "
		    "'%s' is not an http or https URL", k->cluster, f->path, v);
	k->server = xstrdup(v);
	while (lep_ends_with(k->server, "/"))
		k->server[strlen(k->server) - 1] = '\0';
	if (set(m, "tls-server-name") != NULL || set(m, "proxy-url") != NULL)
		return lep_err_new(LEP_E_UNSUPPORTED, "cluster '%s' (%s): "
		    "%s is not supported by lepton yet", k->cluster, f->path,
		    set(m, "proxy-url") ? "proxy-url" : "tls-server-name");
	k->insecure = is_true(m, "insecure-skip-tls-verify");
	/* The data beats the file, as in kubectl (which warns). */
	if (k->insecure && (set(m, "certificate-authority") != NULL ||
	    set(m, "certificate-authority-data") != NULL))
		return lep_err_new(LEP_E_AUTH, "cluster '%s' (%s): a "
		    "certificate-authority with insecure-skip-tls-verify: "
		    "kubectl refuses both", k->cluster, f->path);
	return read_pem(&k->ca, &k->ca_len, &k->ca_from, f->dir, m,
	    "certificate-authority", 0, "cluster", k->cluster);
}

static const struct lep_err *
load_exec(struct lep_kube *k, const struct lep_yaml_node *e,
    const struct kfile *f)
{
	const struct lep_yaml_node	*l, *it;
	struct lep_kube_exec		*x;
	const char			*v, *name, *val;
	size_t				 i;

	x = k->exec = xcalloc(1, sizeof(*x));
	v = set(e, "apiVersion");
	if (!lep_streq(v, KUBE_API_V1) && !lep_streq(v, KUBE_API_V1BETA1))
		return lep_err_new(LEP_E_AUTH, "user '%s' (%s): exec "
		    "apiVersion '%s' is not supported (%s, %s)", k->user,
		    f->path, v ? v : "", KUBE_API_V1, KUBE_API_V1BETA1);
	x->api_version = xstrdup(v);
	if ((v = set(e, "command")) == NULL)
		return lep_err_new(LEP_E_AUTH, "user '%s' (%s): exec has no "
		    "command", k->user, f->path);
	l = lep_yaml_get(e, "args");
	x->argv = xcalloc(2 + (l != NULL ? l->n : 0), sizeof(*x->argv));
	/* A command with a '/' is a path, relative to the file. */
	x->argv[x->argc++] = strchr(v, '/') != NULL ? resolve(f->dir, v) :
	    xstrdup(v);
	for (i = 0; l != NULL && l->type == LEP_YAML_SEQ && i < l->n; i++) {
		if (l->kids[i]->type != LEP_YAML_SCALAR)
			return lep_err_new(LEP_E_AUTH, "user '%s' (%s): exec "
			    "args must be strings", k->user, f->path);
		x->argv[x->argc++] = xstrdup(l->kids[i]->val);
	}
	l = lep_yaml_get(e, "env");
	for (i = 0; l != NULL && l->type == LEP_YAML_SEQ && i < l->n; i++) {
		it = l->kids[i];
		if ((name = set(it, "name")) == NULL ||
		    (val = str(it, "value")) == NULL || strchr(name, '=') !=
		    NULL)
			return lep_err_new(LEP_E_AUTH, "user '%s' (%s): exec "
			    "env entries need a name and a value", k->user,
			    f->path);
		x->env = xreallocarray(x->env, x->nenv + 1, sizeof(*x->env));
		x->env[x->nenv++] = xasprintf("%s=%s", name, val);
	}
	v = set(e, "interactiveMode");
	/* v1 has no default (client-go refuses it unset); v1beta1's. */
	if (v == NULL && lep_streq(x->api_version, KUBE_API_V1))
		return lep_err_new(LEP_E_AUTH, "interactiveMode must be "
		    "specified for %s to use exec authentication plugin (%s)",
		    k->user, f->path);
	if (v == NULL)
		v = "IfAvailable";
	if (!lep_streq(v, "Never") && !lep_streq(v, "IfAvailable") &&
	    !lep_streq(v, "Always"))
		return lep_err_new(LEP_E_AUTH, "user '%s' (%s): exec "
		    "interactiveMode '%s' is not Never, IfAvailable or Always",
		    k->user, f->path, v);
	x->interactive = xstrdup(v);
	if ((v = set(e, "installHint")) != NULL)
		x->install_hint = xstrdup(v);
	x->cluster_info = is_true(e, "provideClusterInfo");
	k->auth = LEP_KUBE_AUTH_EXEC;
	k->auth_detail = xstrdup(x->argv[0]);
	return NULL;
}

static const struct lep_err *
load_user(struct lep_kube *k, const struct lep_yaml_node *m,
    const struct kfile *f)
{
	static const char *const pairs[][2] = {
		{ "client-certificate", "client-certificate-data" },
		{ "client-key", "client-key-data" },
	};
	const struct lep_err		*err;
	const struct lep_yaml_node	*e;
	const char			*v;
	size_t				 i;

	k->user_file = xstrdup(f->path);
	if ((e = lep_yaml_get(m, "auth-provider")) != NULL)
		return lep_err_hint(lep_err_new(LEP_E_UNSUPPORTED, "user '%s' "
		    "(%s): auth-provider '%s' is not supported", k->user,
		    f->path, (v = set(e, "name")) ? v : "?"), "use an exec "
		    "plugin, as current kubectl does");
	if (set(m, "username") != NULL || set(m, "password") != NULL)
		return lep_err_new(LEP_E_UNSUPPORTED, "user '%s' (%s): basic "
		    "authentication (username, password) is not supported",
		    k->user, f->path);
	if (set(m, "as") != NULL || set(m, "as-uid") != NULL ||
	    lep_yaml_get(m, "as-groups") != NULL)
		return lep_err_new(LEP_E_UNSUPPORTED, "user '%s' (%s): "
		    "impersonation (as, as-groups, as-uid) is not supported",
		    k->user, f->path);
	for (i = 0; i < LEP_ARRAY_SIZE(pairs); i++)
		if (set(m, pairs[i][0]) != NULL && set(m, pairs[i][1]) != NULL)
			return lep_err_new(LEP_E_AUTH, "%s and %s are both "
			    "specified for %s; please specify only one",
			    pairs[i][1], pairs[i][0], k->user);
	if ((set(m, "client-certificate") || set(m,
	    "client-certificate-data")) != (set(m, "client-key") ||
	    set(m, "client-key-data")))
		return lep_err_new(LEP_E_AUTH, "user '%s' (%s): a client "
		    "certificate needs a key, and a key a certificate",
		    k->user, f->path);
	/* A client certificate goes with a token, a plugin or alone. */
	if (set(m, "client-certificate-data") != NULL) {
		if ((err = read_pem(&k->cert, &k->cert_len, NULL, f->dir, m,
		    "client-certificate", 0, "user", k->user)) != NULL)
			return err;
	} else if ((v = set(m, "client-certificate")) != NULL)
		k->cert_file = resolve(f->dir, v);
	if (set(m, "client-key-data") != NULL) {
		if ((err = read_pem(&k->key, &k->key_len, NULL, f->dir, m,
		    "client-key", 1, "user", k->user)) != NULL)
			return err;
	} else if ((v = set(m, "client-key")) != NULL)
		k->key_file = resolve(f->dir, v);
	if ((e = lep_yaml_get(m, "exec")) != NULL && e->type == LEP_YAML_MAP) {
		if (set(m, "token") != NULL || set(m, "tokenFile") != NULL)
			return lep_err_new(LEP_E_AUTH, "user '%s' (%s): both "
			    "a token and an exec plugin; lepton will not "
			    "guess which one is meant", k->user, f->path);
		return load_exec(k, e, f);
	}
	/*
	 * Both token and tokenFile: client-go sends the file's token,
	 * which it reads again and again, once it can read it.
	 */
	if ((v = set(m, "tokenFile")) != NULL) {
		k->auth = LEP_KUBE_AUTH_TOKEN_FILE;
		k->auth_detail = resolve(f->dir, v);
	} else if ((v = set(m, "token")) != NULL) {
		k->auth = LEP_KUBE_AUTH_TOKEN;
		k->auth_detail = xstrdup("kubeconfig");
		k->token = xstrdup(v);
	}
	if (k->auth == LEP_KUBE_AUTH_NONE && (k->cert != NULL ||
	    k->cert_file != NULL)) {
		k->auth = LEP_KUBE_AUTH_CERT;
		k->auth_detail = xstrdup(k->cert_file ? k->cert_file : "data");
	}
	return NULL;
}

void
lep_kube_release(struct lep_kube *k)
{
	struct lep_kube_exec	*x = k->exec;

	if (k->token != NULL)
		lep_wipe(k->token, strlen(k->token));
	if (k->key != NULL)
		lep_wipe(k->key, k->key_len);
	if (x != NULL) {
		free(x->api_version);
		lep_strv_free(x->argv, x->argc);
		lep_strv_free(x->env, x->nenv);
		free(x->interactive);
		free(x->install_hint);
		free(x);
	}
	free(k->files);
	free(k->context);
	free(k->context_from);
	free(k->cluster);
	free(k->cluster_file);
	free(k->server);
	free(k->namespace);
	free(k->user);
	free(k->user_file);
	free(k->auth_detail);
	free(k->ca);
	free(k->ca_from);
	free(k->cert);
	free(k->cert_file);
	free(k->key);
	free(k->key_file);
	free(k->token);
	memset(k, 0, sizeof(*k));
}

const struct lep_err *
lep_kube_load(struct lep_kube *k, const struct lep_kube_opts *opts)
{
	const struct lep_err		*err;
	const struct lep_yaml_node	*ctx, *m;
	const struct kfile		*f = NULL, *cf = NULL;
	struct kconf			 c = { 0 };
	const char			*name = NULL, *v;
	size_t				 i;

	memset(k, 0, sizeof(*k));
	if ((err = kconf_load(&c, k)) != NULL)
		goto done;
	if (opts->context != NULL && *opts->context != '\0') {
		name = opts->context;
		k->context_from = xstrdup("config");
	} else
		for (i = 0; i < c.n && name == NULL; i++)
			if ((name = set(c.f[i].root, "current-context")) !=
			    NULL)
				k->context_from = xasprintf("current-context "
				    "in %s", c.f[i].path);
	if (name == NULL) {
		k->unset = 1;
		err = lep_err_hint(lep_err_new(LEP_E_PROVIDER, "kubeconfig "
		    "%s sets no current-context", k->files), "run 'kubectl "
		    "config use-context NAME', or name a context in "
		    "config.json (lepton(1) KUBERNETES)");
		goto done;
	}
	k->context = xstrdup(name);
	if ((ctx = kconf_find(&c, "contexts", "context", name, &cf)) == NULL) {
		err = lep_err_new(LEP_E_AUTH, "context '%s' (from %s) is not "
		    "in %s", name, k->context_from, k->files);
		goto done;
	}
	if ((v = set(ctx, "cluster")) == NULL) {
		err = lep_err_new(LEP_E_AUTH, "context '%s' (%s) names no "
		    "cluster", name, cf->path);
		goto done;
	}
	k->cluster = xstrdup(v);
	if ((m = kconf_find(&c, "clusters", "cluster", v, &f)) == NULL) {
		err = lep_err_new(LEP_E_AUTH, "cluster '%s' of context '%s' "
		    "is not in %s", v, name, k->files);
		goto done;
	}
	if ((err = load_cluster(k, m, f)) != NULL)
		goto done;
	if (opts->namespace != NULL && *opts->namespace != '\0') {
		k->namespace = xstrdup(opts->namespace);
		k->namespace_from = "config";
	} else if ((v = set(ctx, "namespace")) != NULL) {
		k->namespace = xstrdup(v);
		k->namespace_from = "context";
	} else {
		k->namespace = xstrdup("default");
		k->namespace_from = "default";
	}
	if ((v = set(ctx, "user")) == NULL)
		goto done;	/* anonymous */
	k->user = xstrdup(v);
	if ((m = kconf_find(&c, "users", "user", v, &f)) == NULL) {
		err = lep_err_new(LEP_E_AUTH, "user '%s' of context '%s' is "
		    "not in %s", v, name, k->files);
		goto done;
	}
	err = load_user(k, m, f);
done:
	kconf_release(&c);
	return err;
}

/* --- credentials ------------------------------------------------------- */

/* KUBERNETES_EXEC_INFO, as kubectl sets it. Caller frees. */
static char *
exec_info(const struct lep_kube *k)
{
	struct lep_json	*j = lep_json_obj(), *spec = lep_json_obj(), *cl;
	char		*s;

	lep_json_set_str(j, "kind", "ExecCredential");
	lep_json_set_str(j, "apiVersion", k->exec->api_version);
	if (k->exec->cluster_info) {
		cl = lep_json_obj();
		lep_json_set_str(cl, "server", k->server);
		if (k->ca != NULL) {
			s = lep_base64(k->ca, k->ca_len, 0);
			lep_json_set_str(cl, "certificate-authority-data", s);
			free(s);
		}
		if (k->insecure)
			lep_json_set_bool(cl, "insecure-skip-tls-verify", 1);
		/* The cluster's client.authentication.k8s.io/exec
		   extension: lepton reads none. */
		lep_json_set(cl, "config", lep_json_null());
		lep_json_set(spec, "cluster", cl);
	}
	/* stdin is /dev/null: never interactive. */
	lep_json_set_bool(spec, "interactive", 0);
	lep_json_set(j, "spec", spec);
	s = lep_json_print(j, 0);
	lep_json_free(j);
	return s;
}

/* The plugin's certificate and key, in place of the user entry's. */
static void
set_cert(struct lep_kube *k, const char *cert, const char *key)
{
	if (k->key != NULL)
		lep_wipe(k->key, k->key_len);
	free(k->cert);
	free(k->key);
	k->cert = xstrdup(cert);
	k->cert_len = strlen(cert);
	k->key = xstrdup(key);
	k->key_len = strlen(key);
}

/*
 * An ExecCredential (text, len bytes) into k: status.token, or
 * status.clientCertificateData and clientKeyData, and
 * expirationTimestamp. Never quotes the text: it holds the secret.
 */
static const struct lep_err *
exec_parse(struct lep_kube *k, const char *text, size_t len)
{
	const struct lep_err	*err = NULL;
	struct lep_json		*j = NULL, *st;
	const char		*tok, *cert, *key, *exp, *v;
	const char		*plugin = k->exec->argv[0];

	if (lep_json_parse(&j, text, len, "exec credential") != NULL) {
		err = lep_err_new(LEP_E_AUTH, "exec plugin '%s': its output "
		    "is not JSON", plugin);
		goto done;
	}
	if (!lep_streq(lep_json_get_str(j, "kind"), "ExecCredential")) {
		err = lep_err_new(LEP_E_AUTH, "exec plugin '%s': its output "
		    "is not an ExecCredential", plugin);
		goto done;
	}
	v = lep_json_get_str(j, "apiVersion");
	if (!lep_streq(v, k->exec->api_version)) {
		err = lep_err_new(LEP_E_AUTH, "exec plugin is configured to "
		    "use API version %s, plugin returned version %s",
		    k->exec->api_version, v ? v : "(none)");
		goto done;
	}
	if ((st = lep_json_get(j, "status")) == NULL ||
	    lep_json_type(st) != LEP_JSON_OBJECT) {
		err = lep_err_new(LEP_E_AUTH, "exec plugin '%s' didn't "
		    "return a status field", plugin);
		goto done;
	}
	tok = lep_json_get_str(st, "token");
	cert = lep_json_get_str(st, "clientCertificateData");
	key = lep_json_get_str(st, "clientKeyData");
	if ((tok == NULL || *tok == '\0') && (cert == NULL || key == NULL ||
	    *cert == '\0' || *key == '\0')) {
		err = lep_err_new(LEP_E_AUTH, "exec plugin '%s' didn't "
		    "return a token or cert/key pair", plugin);
		goto done;
	}
	if ((cert == NULL || *cert == '\0') != (key == NULL || *key == '\0')) {
		err = lep_err_new(LEP_E_AUTH, "exec plugin '%s' returned "
		    "only one of clientCertificateData and clientKeyData",
		    plugin);
		goto done;
	}
	k->expires = 0;
	if ((exp = lep_json_get_str(st, "expirationTimestamp")) != NULL &&
	    (k->expires = lep_kube_rfc3339(exp)) == -1) {
		k->expires = 0;
		err = lep_err_new(LEP_E_AUTH, "exec plugin '%s': "
		    "expirationTimestamp '%s' is not an RFC 3339 time", plugin,
		    exp);
		goto done;
	}
	if (tok != NULL && *tok != '\0')
		k->token = xstrdup(tok);
	/* PEM text, not base64: the fields are strings. */
	if (cert != NULL && *cert != '\0')
		set_cert(k, cert, key);
done:
	lep_json_free_wiped(j);
	return err;
}

/*
 * LEPTON_HOME/cache/kube/<sha256 of the plugin's configuration and the
 * server>: another plugin, another argument or another cluster is
 * another credential.
 */
static char *
cache_base(const struct lep_kube *k, const struct lep_kube_opts *opts)
{
	struct lep_buf	 key = LEP_BUF_INIT;
	char		 hex[LEP_SHA256_HEX], *base = NULL;
	size_t		 i;

	if (opts->home == NULL)
		return NULL;
	lep_buf_addf(&key, "%s\n%s\n%s\n%d\n", k->exec->api_version,
	    k->server, k->user, k->exec->cluster_info);
	for (i = 0; i < k->exec->argc; i++)
		lep_buf_addf(&key, "a %zu %s\n", strlen(k->exec->argv[i]),
		    k->exec->argv[i]);
	for (i = 0; i < k->exec->nenv; i++)
		lep_buf_addf(&key, "e %zu %s\n", strlen(k->exec->env[i]),
		    k->exec->env[i]);
	if (lep_sha256_hex(hex, key.buf, key.len) == NULL)
		base = xasprintf("%s/cache/kube/%s", opts->home, hex);
	lep_buf_release(&key);
	return base;
}

static int
cache_get(struct lep_kube *k, const char *path)
{
	struct lep_json	*j = NULL;
	struct lep_buf	 b;
	const char	*tok, *cert, *key;
	long long	 exp;
	int		 ok = 0;

	if (lep_creds_read_file(&b, path, KUBE_EXEC_MAX) == NULL &&
	    lep_json_parse(&j, b.buf, b.len, path) == NULL &&
	    lep_json_get_ll(j, "expires", &exp) == 0 &&
	    exp - (long long)time(NULL) > LEP_KUBE_REFRESH_S) {
		tok = lep_json_get_str(j, "token");
		cert = lep_json_get_str(j, "clientCertificateData");
		key = lep_json_get_str(j, "clientKeyData");
		if (tok != NULL || (cert != NULL && key != NULL)) {
			k->token = tok ? xstrdup(tok) : NULL;
			if (cert != NULL && key != NULL)
				set_cert(k, cert, key);
			k->expires = exp;
			k->cached = 1;
			ok = 1;
		}
	}
	lep_json_free_wiped(j);
	lep_wipe(b.buf, b.len);
	lep_buf_release(&b);
	return ok;
}

static void
cache_put(const struct lep_kube *k, const char *path)
{
	struct lep_json	*j = lep_json_obj();

	if (k->token != NULL)
		lep_json_set_str(j, "token", k->token);
	if (k->cert != NULL) {
		lep_json_set_str(j, "clientCertificateData", k->cert);
		lep_json_set_str(j, "clientKeyData", k->key);
	}
	lep_json_set_int(j, "expires", k->expires);
	/* Best effort: a cache we cannot write costs a plugin run. */
	(void)lep_write_json(path, j, 0600);
	lep_json_free_wiped(j);
}

/* Run the plugin: lepton's environment, the entry's, the exec info. */
static const struct lep_err *
exec_run(struct lep_kube *k)
{
	const struct lep_err	*err;
	struct lep_kube_exec	*x = k->exec;
	struct lep_buf		 out;
	char			**envp, *info;
	size_t			 n = 0, i, j, len;
	int			 status, dup;

	if (lep_streq(x->interactive, "Always"))
		return lep_err_new(LEP_E_AUTH, "exec plugin '%s' is "
		    "configured to need a terminal (interactiveMode: Always); "
		    "lepton gives it none", x->argv[0]);
	for (i = 0; environ[i] != NULL; i++)
		;
	envp = xcalloc(i + x->nenv + 2, sizeof(*envp));
	for (i = 0; environ[i] != NULL; i++) {
		len = strcspn(environ[i], "=");
		dup = strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0;
		for (j = 0; j < x->nenv && !dup; j++)
			dup = strncmp(environ[i], x->env[j], len + 1) == 0;
		if (!dup)
			envp[n++] = environ[i];
	}
	for (j = 0; j < x->nenv; j++)
		envp[n++] = x->env[j];
	info = exec_info(k);
	envp[n++] = xasprintf("KUBERNETES_EXEC_INFO=%s", info);
	free(info);
	err = lep_proc_capture_env(&out, x->argv, envp, 1, KUBE_EXEC_MAX,
	    LEP_KUBE_EXEC_TIMEOUT_MS, &status);
	free(envp[n - 1]);
	free(envp);
	if (err != NULL && err->code == LEP_E_NOT_FOUND)
		err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "exec plugin "
		    "'%s' of user '%s' not found", x->argv[0], k->user),
		    "%s", x->install_hint ? x->install_hint : "install it, "
		    "or mend the user's exec command in the kubeconfig");
	else if (err != NULL)
		err = lep_err_new(err->code, "exec plugin: %s", err->msg);
	else if (status != 0)
		err = lep_err_new(LEP_E_AUTH, "exec plugin '%s' of user '%s' "
		    "exited with status %d", x->argv[0], k->user, status);
	else
		err = exec_parse(k, out.buf, out.len);
	lep_wipe(out.buf, out.len);
	lep_buf_release(&out);
	return err;
}

/*
 * The cached credential, or the plugin run under an exclusive flock on
 * BASE.lock, the cache read again once it is held: of processes that
 * start together, one runs it and the others read its answer. Only a
 * credential that expires is kept: one that does not is asked for each
 * time (kubectl keeps it for its own process alone).
 */
static const struct lep_err *
exec_credential(struct lep_kube *k, const struct lep_kube_opts *opts)
{
	const struct lep_err	*err = NULL;
	char			*base, *path = NULL, *lock = NULL, *dir;
	int			 fd = -1;

	if ((base = cache_base(k, opts)) == NULL)
		return exec_run(k);
	path = xasprintf("%s.json", base);
	lock = xasprintf("%s.lock", base);
	if (cache_get(k, path))
		goto done;
	dir = xasprintf("%s/cache/kube", opts->home);
	if (lep_mkdirs(dir, 0700) == NULL)
		fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	free(dir);
	if (fd != -1)
		while (flock(fd, LOCK_EX) == -1 && errno == EINTR)
			;
	if (fd != -1 && cache_get(k, path))
		goto done;
	if ((err = exec_run(k)) == NULL && fd != -1 && k->expires > 0)
		cache_put(k, path);
done:
	if (fd != -1)
		close(fd);	/* releases the flock */
	free(base);
	free(path);
	free(lock);
	return err;
}

const struct lep_err *
lep_kube_auth(struct lep_kube *k, const struct lep_kube_opts *opts)
{
	const struct lep_err	*err = NULL;
	struct lep_buf		 b;
	size_t			 n;

	if (k->auth == LEP_KUBE_AUTH_NONE && k->cert == NULL &&
	    k->cert_file == NULL)
		return NULL;
	/* kubectl withholds credentials from a plain http server. */
	if (!lep_starts_with(k->server, "https://"))
		return lep_err_hint(lep_err_new(LEP_E_AUTH, "server '%s' of "
		    "cluster '%s' is plain http: lepton sends no credentials "
		    "over it (kubectl withholds them too)", k->server,
		    k->cluster), "use the API server's https address");
	if (k->cert_file != NULL && k->cert == NULL) {
		if ((err = lep_read_file(&b, k->cert_file,
		    LEP_CREDS_FILE_MAX)) != NULL) {
			lep_buf_release(&b);
			return lep_err_new(err->code == LEP_E_NOT_FOUND ?
			    err->code : LEP_E_AUTH, "user '%s' "
			    "client-certificate: %s", k->user, err->msg);
		}
		k->cert = lep_buf_detach(&b, &k->cert_len);
	}
	if (k->key_file != NULL && k->key == NULL) {
		if ((err = lep_creds_read_file(&b, k->key_file,
		    LEP_CREDS_FILE_MAX)) != NULL) {
			lep_wipe(b.buf, b.len);
			lep_buf_release(&b);
			return lep_err_new(err->code == LEP_E_NOT_FOUND ?
			    err->code : LEP_E_AUTH, "user '%s' client-key: %s",
			    k->user, err->msg);
		}
		k->key = lep_buf_detach(&b, &k->key_len);
	}
	if (k->auth == LEP_KUBE_AUTH_TOKEN_FILE && k->token == NULL) {
		if ((err = lep_creds_read_file(&b, k->auth_detail,
		    LEP_CREDS_FILE_MAX)) != NULL) {
			lep_wipe(b.buf, b.len);
			lep_buf_release(&b);
			return lep_err_new(err->code == LEP_E_NOT_FOUND ?
			    err->code : LEP_E_AUTH, "user '%s' tokenFile: %s",
			    k->user, err->msg);
		}
		/* client-go trims it. */
		while (b.len > 0 && strchr(" \t\r\n", b.buf[b.len - 1]))
			b.buf[--b.len] = '\0';
		for (n = 0; n < b.len && strchr(" \t\r\n", b.buf[n]); n++)
			;
		k->token = xstrdup(b.buf + n);
		lep_wipe(b.buf, b.len);
		lep_buf_release(&b);
		if (*k->token == '\0')
			return lep_err_new(LEP_E_AUTH, "user '%s' tokenFile "
			    "'%s' is empty", k->user, k->auth_detail);
	}
	/* A client certificate of the entry's own may go with it. */
	if (k->auth == LEP_KUBE_AUTH_EXEC && k->token == NULL &&
	    k->expires == 0)
		err = exec_credential(k, opts);
	return err;
}

const struct lep_err *
lep_kube_do(struct lep_http_resp *resp, const struct lep_kube *k,
    const char *method, const char *path, const char *body)
{
	static const char *const hdr[] = { "Accept: application/json" };
	const struct lep_err	*err;
	struct lep_http_tls	 tls = {
		.ca = k->ca,
		.ca_len = k->ca_len,
		.cert = k->cert,
		.cert_len = k->cert_len,
		.key = k->key,
		.key_len = k->key_len,
		.insecure = k->insecure,
	};
	struct lep_http_req	 req = {
		.method = method,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.bearer = k->token,
		.headers = hdr,
		.nheaders = 1,
		.timeout_ms = 30000,
		.retries = 2,
		.tls = &tls,
	};
	char			*url = xasprintf("%s%s", k->server, path);

	req.url = url;
	lep_http_resp_init(resp);
	err = lep_http_do(resp, &req);
	free(url);
	return err;
}

/* user_from for lepton check: where the credential comes from. */
static char *
user_from(const struct lep_kube *k)
{
	const char	*cert = k->cert != NULL || k->cert_file != NULL ?
	    " and a client certificate" : "";
	char		 when[32];

	switch (k->auth) {
	case LEP_KUBE_AUTH_TOKEN:
		return xasprintf("token in the kubeconfig%s", cert);
	case LEP_KUBE_AUTH_TOKEN_FILE:
		return xasprintf("token file %s%s", k->auth_detail, cert);
	case LEP_KUBE_AUTH_CERT:
		return xasprintf("client certificate %s", k->auth_detail);
	case LEP_KUBE_AUTH_EXEC:
		if (k->expires <= 0)
			return xasprintf("exec plugin %s", k->auth_detail);
		lep_format_time(when, sizeof(when), k->expires);
		return xasprintf("exec plugin %s, %s until %s",
		    k->auth_detail, k->cached ? "cached" : "valid", when);
	default:
		return xstrdup("no credentials");
	}
}

/* GET /version refused: the Kubernetes Status message, else the status. */
static const struct lep_err *
version_refused(const struct lep_kube *k, const struct lep_http_resp *resp)
{
	struct lep_json	*j = NULL;
	const char	*m;
	char		*msg;
	const struct lep_err *err;

	(void)lep_json_parse(&j, resp->body.buf, resp->body.len, "status");
	m = lep_json_get_str(j, "message");
	msg = xasprintf("%s/version: HTTP %ld%s%s", k->server, resp->status,
	    m ? ": " : "", m ? m : "");
	err = lep_err_new(resp->status == 401 || resp->status == 403 ?
	    LEP_E_AUTH : LEP_E_PROVIDER, "%s (user '%s', %s)", msg,
	    k->user ? k->user : "(none)", k->auth == LEP_KUBE_AUTH_NONE ?
	    "no credentials" : "credentials sent");
	free(msg);
	lep_json_free(j);
	return err;
}

const struct lep_err *
lep_kube_probe(struct lep_json **out, const struct lep_kube_opts *opts)
{
	const struct lep_err	*err;
	struct lep_http_resp	 resp;
	struct lep_json		*j = NULL, *files;
	struct lep_kube		 k;
	const char		*ver;
	char			*s, *p, *next;

	*out = lep_json_obj();
	err = lep_kube_load(&k, opts);
	/* No kubeconfig or no context: not set up, rather than broken. */
	lep_json_set_bool(*out, "configured", !k.unset);
	if (k.files != NULL && *k.files != '\0') {
		files = lep_json_arr();
		s = xstrdup(k.files);
		for (p = s; p != NULL; p = next) {
			if ((next = strchr(p, ':')) != NULL)
				*next++ = '\0';
			lep_json_push(files, lep_json_str(p));
		}
		free(s);
		lep_json_set(*out, "kubeconfig", files);
	}
	if (k.context != NULL) {
		lep_json_set_str(*out, "context", k.context);
		lep_json_set_str(*out, "context_from", k.context_from);
	}
	if (k.server != NULL) {
		lep_json_set_str(*out, "url", k.server);
		s = xasprintf("cluster %s in %s", k.cluster, k.cluster_file);
		lep_json_set_str(*out, "url_from", s);
		free(s);
	}
	if (k.namespace != NULL) {
		lep_json_set_str(*out, "namespace", k.namespace);
		lep_json_set_str(*out, "namespace_from", k.namespace_from);
	}
	if (err == NULL)
		err = lep_kube_auth(&k, opts);
	if (k.user != NULL || k.server != NULL) {
		lep_json_set_str(*out, "user", k.user ? k.user : "(none)");
		s = user_from(&k);
		lep_json_set_str(*out, "user_from", s);
		free(s);
	}
	if (err != NULL)
		goto done;
	if ((err = lep_kube_do(&resp, &k, "GET", "/version", NULL)) == NULL) {
		if (resp.status != 200)
			err = version_refused(&k, &resp);
		else if (lep_json_parse(&j, resp.body.buf, resp.body.len,
		    "/version") != NULL || (ver = lep_json_get_str(j,
		    "gitVersion")) == NULL)
			err = lep_err_new(LEP_E_PROVIDER, "%s/version: no "
			    "gitVersion in the answer", k.server);
		else {
			lep_json_set_str(*out, "server_version", ver);
			s = xasprintf("Kubernetes %s", ver);
			lep_json_set_str(*out, "server", s);
			free(s);
		}
		lep_json_free(j);
	}
	lep_http_resp_release(&resp);
done:
	lep_kube_release(&k);
	return err;
}
