/*
 * check_kube.c: kubeconfig as kubectl reads it: two files merged, paths
 * relative to their file, CA data against file, exec credentials parsed
 * and cached until they expire, and what is refused. Nothing here talks
 * to a server (tests/kube/check.sh does, next to kubectl).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/kube.h"
#include "../lib/util.h"

/* A PEM-looking text: lep_kube_load does not parse certificates. */
#define CA_TEXT		"-----BEGIN CERTIFICATE-----\nY2E=\n" \
			"-----END CERTIFICATE-----\n"
/* base64 of CA_TEXT */
#define CA_B64	"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClkyRT0KLS0t" \
		"LS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="

/* A fresh directory for one test: dir/NAME. Caller frees. */
static char *
tdir(const char *name)
{
	static int	 seq;	/* CK_FORK=no: one process for all */
	char		*d = xasprintf("%s/kube-%s-%ld-%d", test_sandbox(),
	    name, (long)getpid(), ++seq);

	ck_assert_ptr_null(lep_mkdirs(d, 0700));
	return d;
}

/* Write dir/name (mode) and return its path; caller frees. */
static char *
put(const char *dir, const char *name, const char *text, int mode)
{
	char	*p = xasprintf("%s/%s", dir, name);

	test_write(p, text, mode);
	return p;
}

static const struct lep_err *
load(struct lep_kube *k, const char *kubeconfig)
{
	struct lep_kube_opts	 o = { 0 };

	setenv("KUBECONFIG", kubeconfig, 1);
	return lep_kube_load(k, &o);
}

START_TEST(test_kube_merges_files_as_kubectl)
{
	struct lep_kube	 k;
	char		*d = tdir("merge"), *a, *b, *list;

	/* a: current-context ctx-a, cluster x, user u. */
	a = put(d, "a", "current-context: ctx-a\n"
	    "clusters:\n"
	    "- {name: x, cluster: {server: 'https://a.example:6443'}}\n"
	    "users:\n- {name: u, user: {token: from-a}}\n"
	    "contexts:\n"
	    "- {name: ctx-a, context: {cluster: x, user: u}}\n", 0600);
	/* b: its own current-context, x again (loses), y, u again (loses),
	   and ctx-b that names y. */
	b = put(d, "b", "current-context: ctx-b\n"
	    "clusters:\n"
	    "- {name: x, cluster: {server: 'https://b.example:6443', "
	    "insecure-skip-tls-verify: true}}\n"
	    "- {name: y, cluster: {server: 'https://y.example'}}\n"
	    "users:\n- {name: u, user: {tokenFile: /nonexistent}}\n"
	    "contexts:\n"
	    "- {name: ctx-b, context: {cluster: y, user: u, namespace: nb}}\n",
	    0600);
	list = xasprintf("%s::%s:%s/missing:%s", a, b, d, a);
	ck_assert_ptr_null(load(&k, list));
	ck_assert_str_eq(k.context, "ctx-a");
	ck_assert_msg(strstr(k.context_from, a) != NULL, "%s",
	    k.context_from);
	/* x whole from a: not b's insecure flag. */
	ck_assert_str_eq(k.server, "https://a.example:6443");
	ck_assert_int_eq(k.insecure, 0);
	ck_assert_int_eq(k.auth, LEP_KUBE_AUTH_TOKEN);
	ck_assert_str_eq(k.token, "from-a");
	ck_assert_str_eq(k.namespace, "default");
	/* Each file once, the missing one skipped. */
	free(list);
	list = xasprintf("%s:%s", a, b);
	ck_assert_str_eq(k.files, list);
	lep_kube_release(&k);

	/* b's own context, reached through config: cluster y from b, user
	   u still from a (the first file that names it). */
	{
		struct lep_kube_opts	 o = { .context = "ctx-b" };

		ck_assert_ptr_null(lep_kube_load(&k, &o));
		ck_assert_str_eq(k.context_from, "config");
		ck_assert_str_eq(k.server, "https://y.example");
		ck_assert_str_eq(k.token, "from-a");
		ck_assert_str_eq(k.namespace, "nb");
		ck_assert_str_eq(k.namespace_from, "context");
		lep_kube_release(&k);
		o.namespace = "mine";
		ck_assert_ptr_null(lep_kube_load(&k, &o));
		ck_assert_str_eq(k.namespace, "mine");
		ck_assert_str_eq(k.namespace_from, "config");
		lep_kube_release(&k);
	}
	free(list);
	free(a);
	free(b);
	free(d);
}
END_TEST

/* current-context from the first file that sets one, even if a later
   file defines the context. */
START_TEST(test_kube_current_context_from_first_file_that_sets_it)
{
	struct lep_kube	 k;
	char		*d = tdir("cur"), *a, *b, *list;

	a = put(d, "a", "clusters:\n"
	    "- {name: x, cluster: {server: 'https://x.example'}}\n", 0600);
	b = put(d, "b", "current-context: c\ncontexts:\n"
	    "- {name: c, context: {cluster: x}}\n", 0600);
	list = xasprintf("%s:%s", a, b);
	ck_assert_ptr_null(load(&k, list));
	ck_assert_str_eq(k.context, "c");
	ck_assert_ptr_null(k.user);
	ck_assert_int_eq(k.auth, LEP_KUBE_AUTH_NONE);
	ck_assert_str_eq(k.server, "https://x.example");
	lep_kube_release(&k);
	free(list);
	free(a);
	free(b);
	free(d);
}
END_TEST

/* A relative certificate-authority is relative to its kubeconfig's
   directory, not to where lepton runs; the data beats the file. */
START_TEST(test_kube_ca_relative_path_and_data)
{
	struct lep_kube	 k;
	char		*d = tdir("ca"), *sub, *kc, *ca, *want, *text;

	sub = xasprintf("%s/sub", d);
	ck_assert_ptr_null(lep_mkdirs(sub, 0700));
	ca = put(sub, "ca.pem", CA_TEXT, 0644);
	kc = put(d, "config", "current-context: c\n"
	    "clusters: [{name: x, cluster: {server: 'https://127.0.0.1:9/',"
	    " certificate-authority: ./sub/ca.pem}}]\n"
	    "contexts: [{name: c, context: {cluster: x}}]\n", 0600);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_ptr_null(load(&k, kc));
	ck_assert_str_eq(k.ca, CA_TEXT);
	ck_assert_uint_eq(k.ca_len, strlen(CA_TEXT));
	want = xasprintf("%s/sub/ca.pem", d);
	ck_assert_str_eq(k.ca_from, want);
	/* The trailing '/' goes: paths are appended to it. */
	ck_assert_str_eq(k.server, "https://127.0.0.1:9");
	lep_kube_release(&k);

	/* Data and a file that does not exist: the data wins. */
	text = xasprintf("current-context: c\n"
	    "clusters: [{name: x, cluster: {server: 'https://h',"
	    " certificate-authority: nowhere.pem,"
	    " certificate-authority-data: %s}}]\n"
	    "contexts: [{name: c, context: {cluster: x}}]\n", CA_B64);
	free(kc);
	kc = put(d, "config2", text, 0600);
	ck_assert_ptr_null(load(&k, kc));
	ck_assert_str_eq(k.ca, CA_TEXT);
	ck_assert_str_eq(k.ca_from, "data");
	lep_kube_release(&k);
	free(text);
	free(want);
	free(ca);
	free(kc);
	free(sub);
	free(d);
}
END_TEST

/* Client certificate and key from files (relative) or data. */
START_TEST(test_kube_client_certificate_file_and_data)
{
	const struct lep_err	*err;
	struct lep_kube		 k;
	struct lep_kube_opts	 o = { 0 };
	char			*d = tdir("cert"), *kc, *c, *key, *text;

	c = put(d, "c.pem", "CERT\n", 0644);
	key = put(d, "k.pem", "KEY\n", 0600);
	kc = put(d, "config", "current-context: c\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {client-certificate: c.pem,"
	    " client-key: k.pem}}]\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n", 0600);
	ck_assert_ptr_null(load(&k, kc));
	ck_assert_int_eq(k.auth, LEP_KUBE_AUTH_CERT);
	ck_assert_ptr_null(k.cert);
	ck_assert_ptr_null(lep_kube_auth(&k, &o));
	ck_assert_str_eq(k.cert, "CERT\n");
	ck_assert_str_eq(k.key, "KEY\n");
	lep_kube_release(&k);

	/* A key others may read: refused, named. */
	ck_assert_int_eq(chmod(key, 0644), 0);
	ck_assert_ptr_null(load(&k, kc));
	err = lep_kube_auth(&k, &o);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_msg(strstr(err->msg, key) != NULL, "%s", err->msg);
	lep_kube_release(&k);

	/* Data: "CERT\n" and "KEY\n" in base64. */
	text = xstrdup("current-context: c\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {client-certificate-data: Q0VSVAo=,"
	    " client-key-data: S0VZCg==}}]\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n");
	free(kc);
	kc = put(d, "config2", text, 0600);
	ck_assert_ptr_null(load(&k, kc));
	ck_assert_str_eq(k.auth_detail, "data");
	ck_assert_ptr_null(lep_kube_auth(&k, &o));
	ck_assert_str_eq(k.cert, "CERT\n");
	ck_assert_str_eq(k.key, "KEY\n");
	lep_kube_release(&k);
	free(text);
	free(c);
	free(key);
	free(kc);
	free(d);
}
END_TEST

/* A token file is read at auth time and trimmed, as client-go does. */
START_TEST(test_kube_token_file_trimmed_and_beats_token)
{
	struct lep_kube		 k;
	struct lep_kube_opts	 o = { 0 };
	char			*d = tdir("tokf"), *kc, *t;

	t = put(d, "tok", "  tok-file\n\n", 0600);
	kc = put(d, "config", "current-context: c\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {token: inline, tokenFile: tok}}]\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n", 0600);
	ck_assert_ptr_null(load(&k, kc));
	ck_assert_int_eq(k.auth, LEP_KUBE_AUTH_TOKEN_FILE);
	ck_assert_str_eq(k.auth_detail, t);
	ck_assert_ptr_null(lep_kube_auth(&k, &o));
	ck_assert_str_eq(k.token, "tok-file");
	lep_kube_release(&k);
	free(t);
	free(kc);
	free(d);
}
END_TEST

/* What lep_kube_load refuses, and the words that say why. */
static const struct {
	const char	*yaml;
	int		 mode;
	int		 code;
	const char	*want;
} refusals[] = {
	/* The kubeconfig itself, readable by others. */
	{ "current-context: c\n", 0644, LEP_E_AUTH, "chmod" },
	{ "- a\n- b\n", 0600, LEP_E_AUTH, "not a kubeconfig" },
	{ "clusters: [\n", 0600, LEP_E_AUTH, "kubeconfig" },
	{ "clusters: []\n", 0600, LEP_E_PROVIDER, "sets no current-context" },
	{ "current-context: c\n", 0600, LEP_E_AUTH,
	    "context 'c' (from current-context in" },
	{ "current-context: c\ncontexts: [{name: c, context: {user: u}}]\n",
	    0600, LEP_E_AUTH, "names no cluster" },
	{ "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]"
	    "\n", 0600, LEP_E_AUTH, "cluster 'x' of context 'c' is not in" },
	{ "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]"
	    "\nclusters: [{name: x, cluster: {}}]\n", 0600, LEP_E_AUTH,
	    "has no server" },
	{ "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]"
	    "\nclusters: [{name: x, cluster: {server: 'ftp://h'}}]\n", 0600,
	    LEP_E_AUTH, "not an http or https URL" },
	{ "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]"
	    "\nclusters: [{name: x, cluster: {server: 'https://h', "
	    "insecure-skip-tls-verify: true, certificate-authority-data: "
	    "Y2E=}}]\n", 0600, LEP_E_AUTH, "kubectl refuses both" },
	{ "current-context: c\ncontexts: [{name: c, context: {cluster: x}}]"
	    "\nclusters: [{name: x, cluster: {server: 'https://h', "
	    "proxy-url: 'http://p'}}]\n", 0600, LEP_E_UNSUPPORTED,
	    "proxy-url" },
	{ "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n", 0600,
	    LEP_E_AUTH, "user 'u' of context 'c' is not in" },
	{ "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n", 0600,
	    LEP_E_UNSUPPORTED, "auth-provider 'gcp'" },
	{ "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {username: a, password: b}}]\n", 0600,
	    LEP_E_UNSUPPORTED, "basic authentication" },
	{ "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {client-certificate: c.pem}}]\n", 0600,
	    LEP_E_AUTH, "needs a key" },
	{ "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {client-certificate: c.pem, "
	    "client-certificate-data: Y2E=, client-key: k.pem}}]\n", 0600,
	    LEP_E_AUTH, "please specify only one" },
	{ "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {client-certificate-data: '%%%', "
	    "client-key-data: Y2E=}}]\n", 0600, LEP_E_AUTH, "not base64" },
	{ "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: "
	    "client.authentication.k8s.io/v1, command: p}}}]\n", 0600,
	    LEP_E_AUTH, "interactiveMode must be specified for u" },
	{ "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: "
	    "client.authentication.k8s.io/v1alpha1, command: p}}}]\n", 0600,
	    LEP_E_AUTH, "v1alpha1' is not supported" },
	{ "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {token: t, exec: {apiVersion: "
	    "client.authentication.k8s.io/v1beta1, command: p}}}]\n", 0600,
	    LEP_E_AUTH, "both a token and an exec plugin" },
};

START_TEST(test_kube_refuses)
{
	const struct lep_err	*err;
	struct lep_kube		 k;
	char			*d = tdir("refuse"), *name, *kc;

	name = xasprintf("config-%d", _i);
	kc = put(d, name, refusals[_i].yaml, refusals[_i].mode);
	err = load(&k, kc);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, refusals[_i].code);
	ck_assert_msg(strstr(err->msg, refusals[_i].want) != NULL ||
	    (err->hint != NULL && strstr(err->hint, refusals[_i].want) !=
	    NULL), "%d: '%s' wanted in: %s", _i, refusals[_i].want,
	    err->msg);
	/* A file refused for its mode is named. */
	if (refusals[_i].mode != 0600)
		ck_assert_msg(strstr(err->msg, kc) != NULL, "%s", err->msg);
	lep_kube_release(&k);
	free(name);
	free(kc);
	free(d);
}
END_TEST

START_TEST(test_kube_nothing_configured)
{
	const struct lep_err	*err;
	struct lep_kube		 k;
	struct lep_kube_opts	 o = { 0 };
	struct lep_json		*r;

	/* The fixture's HOME has no .kube/config; KUBECONFIG is unset. */
	unsetenv("KUBECONFIG");
	err = lep_kube_load(&k, &o);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(k.unset, 1);
	ck_assert_msg(strstr(err->msg, "~/.kube/config") != NULL, "%s",
	    err->msg);
	lep_kube_release(&k);
	/* Every file in KUBECONFIG missing: the same, not an error of
	   the files. */
	setenv("KUBECONFIG", "/nonexistent/a:/nonexistent/b", 1);
	err = lep_kube_probe(&r, &o);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(lep_json_get_bool(r, "configured", 1), 0);
	lep_json_free(r);
}
END_TEST

/* Plain http gets no credentials, and no plugin is run for it. */
START_TEST(test_kube_no_credentials_over_plain_http)
{
	const struct lep_err	*err;
	struct lep_kube		 k;
	struct lep_kube_opts	 o = { 0 };
	char			*d = tdir("http"), *kc, *text, *mark;
	struct stat		 st;

	mark = xasprintf("%s/ran", d);
	text = xasprintf("current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'http://127.0.0.1:9'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: "
	    "client.authentication.k8s.io/v1beta1, command: /bin/sh, "
	    "args: [-c, 'touch %s']}}}]\n", mark);
	kc = put(d, "config", text, 0600);
	ck_assert_ptr_null(load(&k, kc));
	err = lep_kube_auth(&k, &o);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_msg(strstr(err->msg, "plain http") != NULL, "%s", err->msg);
	ck_assert_int_eq(stat(mark, &st), -1);
	lep_kube_release(&k);
	free(mark);
	free(text);
	free(kc);
	free(d);
}
END_TEST

/*
 * An exec plugin that prints dir/out.json, counts its runs in dir/count
 * and keeps its environment in dir/env. Returns the kubeconfig's path.
 */
static char *
exec_config_with(const char *dir, const char *api, const char *more)
{
	char	*text, *kc, *script;

	script = xasprintf("#!/bin/sh\necho x >>\"%s/count\"\n"
	    "env >\"%s/env\"\ncat \"%s/out.json\"\n", dir, dir, dir);
	free(put(dir, "plugin", script, 0700));
	text = xasprintf("current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://127.0.0.1:9'}}]\n"
	    "users: [{name: u, user: {%s exec: {apiVersion: %s,"
	    " command: ./plugin, interactiveMode: Never,"
	    " env: [{name: PLUGIN_SAYS, value: hello}]}}}]\n", more, api);
	kc = put(dir, "config", text, 0600);
	free(text);
	free(script);
	return kc;
}

static char *
exec_config(const char *dir, const char *api)
{
	return exec_config_with(dir, api, "");
}

static int
runs(const char *dir)
{
	char	*p = xasprintf("%s/count", dir), *t;
	int	 n = 0;
	size_t	 i, len;

	if ((t = test_slurp(p, &len)) != NULL)
		for (i = 0; i < len; i++)
			n += t[i] == '\n';
	free(t);
	free(p);
	return n;
}

#define V1	"client.authentication.k8s.io/v1"
#define V1B	"client.authentication.k8s.io/v1beta1"

static const struct {
	const char	*api;		/* the kubeconfig's */
	const char	*out;		/* the plugin's answer */
	const char	*want;		/* NULL: accepted */
} creds[] = {
	{ V1, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
	    "\"status\":{\"token\":\"t-1\"}}", NULL },
	{ V1B, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1B "\","
	    "\"status\":{\"token\":\"t-1\",\"expirationTimestamp\":"
	    "\"2099-01-01T00:00:00Z\"}}", NULL },
	{ V1, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
	    "\"status\":{\"clientCertificateData\":\"C\","
	    "\"clientKeyData\":\"K\"}}", NULL },
	{ V1, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1B "\","
	    "\"status\":{\"token\":\"t-1\"}}",
	    "plugin returned version " V1B },
	{ V1, "{\"kind\":\"Other\",\"apiVersion\":\"" V1 "\","
	    "\"status\":{\"token\":\"t-1\"}}", "not an ExecCredential" },
	{ V1, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\"}",
	    "didn't return a status field" },
	{ V1, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
	    "\"status\":{}}", "didn't return a token or cert/key pair" },
	{ V1, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
	    "\"status\":{\"clientCertificateData\":\"C\",\"token\":\"t\"}}",
	    "only one of clientCertificateData" },
	{ V1, "{\"kind\":\"ExecCredential\",\"apiVersion\":\"" V1 "\","
	    "\"status\":{\"token\":\"secret-t\",\"expirationTimestamp\":"
	    "\"tomorrow\"}}", "not an RFC 3339 time" },
	{ V1, "token=secret-t", "not JSON" },
};

START_TEST(test_kube_exec_credential_parsing)
{
	const struct lep_err	*err;
	struct lep_kube		 k;
	struct lep_kube_opts	 o = { 0 };
	char			*d = tdir("exec"), *kc, *env, *p;

	kc = exec_config(d, creds[_i].api);
	free(put(d, "out.json", creds[_i].out, 0600));
	ck_assert_ptr_null(load(&k, kc));
	ck_assert_int_eq(k.auth, LEP_KUBE_AUTH_EXEC);
	err = lep_kube_auth(&k, &o);
	if (creds[_i].want == NULL) {
		ck_assert_msg(err == NULL, "%s", err ? err->msg : "");
		ck_assert(k.token != NULL || (k.cert != NULL &&
		    k.key != NULL));
	} else {
		ck_assert_ptr_nonnull(err);
		ck_assert_int_eq(err->code, LEP_E_AUTH);
		ck_assert_msg(strstr(err->msg, creds[_i].want) != NULL,
		    "'%s' wanted in: %s", creds[_i].want, err->msg);
		/* The plugin's output is never quoted: it is the secret. */
		ck_assert_msg(strstr(err->msg, "secret-t") == NULL, "%s",
		    err->msg);
	}
	/* The entry's env and KUBERNETES_EXEC_INFO reached the plugin. */
	p = xasprintf("%s/env", d);
	env = test_slurp(p, NULL);
	ck_assert_ptr_nonnull(env);
	ck_assert(strstr(env, "PLUGIN_SAYS=hello\n") != NULL);
	ck_assert_msg(strstr(env, "KUBERNETES_EXEC_INFO={\"kind\":"
	    "\"ExecCredential\",\"apiVersion\":\"") != NULL, "%s", env);
	ck_assert(strstr(env, "\"spec\":{\"interactive\":false}}") != NULL);
	ck_assert_int_eq(runs(d), 1);
	lep_kube_release(&k);
	free(env);
	free(p);
	free(kc);
	free(d);
}
END_TEST

/*
 * The cache: a credential that expires later than LEP_KUBE_REFRESH_S
 * from now serves the next process too; one about to expire, or one
 * without an expiry, is asked for again.
 */
static const struct {
	long long	 in_s;		/* expires in; 0: no expiry */
	int		 runs;		/* plugin runs for two auths */
} expiry[] = {
	{ 3600, 1 },
	{ LEP_KUBE_REFRESH_S + 60, 1 },
	{ LEP_KUBE_REFRESH_S - 5, 2 },
	{ -60, 2 },
	{ 0, 2 },
};

START_TEST(test_kube_exec_cache_until_expiry)
{
	struct lep_kube		 k;
	struct lep_kube_opts	 o = { 0 };
	char			*d = tdir("cache"), *kc, *out, when[32];
	char			*cache, **names;
	time_t			 t;
	struct tm		 tm;
	struct stat		 st;
	size_t			 n;
	int			 i;

	o.home = d;
	kc = exec_config(d, V1);
	if (expiry[_i].in_s != 0) {
		t = time(NULL) + (time_t)expiry[_i].in_s;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		out = xasprintf("{\"kind\":\"ExecCredential\",\"apiVersion\":"
		    "\"" V1 "\",\"status\":{\"token\":\"t-%d\","
		    "\"expirationTimestamp\":\"%s\"}}", _i, when);
	} else
		out = xasprintf("{\"kind\":\"ExecCredential\",\"apiVersion\":"
		    "\"" V1 "\",\"status\":{\"token\":\"t-%d\"}}", _i);
	free(put(d, "out.json", out, 0600));
	for (i = 0; i < 2; i++) {
		ck_assert_ptr_null(load(&k, kc));
		ck_assert_ptr_null(lep_kube_auth(&k, &o));
		ck_assert_int_eq(k.cached, i == 1 && expiry[_i].runs == 1);
		lep_kube_release(&k);
	}
	ck_assert_int_eq(runs(d), expiry[_i].runs);
	/* What is kept is its owner's alone. */
	cache = xasprintf("%s/cache/kube", d);
	names = xcalloc(8, sizeof(*names));
	n = test_list(names, 8, cache, ".json");
	if (expiry[_i].runs == 1) {
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(stat(names[0], &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0600);
		ck_assert_int_eq(stat(cache, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0700);
	} else if (expiry[_i].in_s == 0)
		ck_assert_uint_eq(n, 0);
	free(names);
	free(cache);
	free(out);
	free(kc);
	free(d);
}
END_TEST

/* An entry's own client certificate does not stand in for its plugin's
   token: both are used, as by client-go. */
START_TEST(test_kube_exec_with_a_client_certificate_of_its_own)
{
	struct lep_kube		 k;
	struct lep_kube_opts	 o = { 0 };
	char			*d = tdir("execcert"), *kc;

	kc = exec_config_with(d, V1, " client-certificate-data: Q0VSVAo=,"
	    " client-key-data: S0VZCg==,");
	free(put(d, "out.json", "{\"kind\":\"ExecCredential\",\"apiVersion\":"
	    "\"" V1 "\",\"status\":{\"token\":\"t-x\"}}", 0600));
	ck_assert_ptr_null(load(&k, kc));
	ck_assert_int_eq(k.auth, LEP_KUBE_AUTH_EXEC);
	ck_assert_ptr_null(lep_kube_auth(&k, &o));
	ck_assert_str_eq(k.token, "t-x");
	ck_assert_str_eq(k.cert, "CERT\n");
	ck_assert_int_eq(runs(d), 1);
	lep_kube_release(&k);
	free(kc);
	free(d);
}
END_TEST

/* A plugin that is not there names itself and gives the install hint. */
START_TEST(test_kube_exec_plugin_missing_gives_hint)
{
	const struct lep_err	*err;
	struct lep_kube		 k;
	struct lep_kube_opts	 o = { 0 };
	char			*d = tdir("hint"), *kc;

	kc = put(d, "config", "current-context: c\n"
	    "contexts: [{name: c, context: {cluster: x, user: u}}]\n"
	    "clusters: [{name: x, cluster: {server: 'https://127.0.0.1:9'}}]\n"
	    "users: [{name: u, user: {exec: {apiVersion: " V1B ","
	    " command: lepton-no-such-plugin,"
	    " installHint: 'get it from the vendor'}}}]\n", 0600);
	ck_assert_ptr_null(load(&k, kc));
	err = lep_kube_auth(&k, &o);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_NOT_FOUND);
	ck_assert_msg(strstr(err->msg, "lepton-no-such-plugin") != NULL, "%s",
	    err->msg);
	ck_assert_str_eq(err->hint, "get it from the vendor");
	lep_kube_release(&k);
	free(kc);
	free(d);
}
END_TEST

static const struct {
	const char	*in;
	const char	*out;		/* NULL: refused */
} b64[] = {
	{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" },
	{ "Zm9vYg", "foob" }, { "Zm9v\nYmFy\n", "foobar" },
	{ "Zm9v YmFy", NULL }, { "Z", NULL }, { "Zh==", NULL },
	{ "Zg==Zg==", NULL }, { "-_8", NULL },
};

START_TEST(test_kube_b64dec)
{
	char	*out;
	size_t	 len;
	int	 rc = lep_base64_decode(&out, &len, b64[_i].in,
	    strlen(b64[_i].in), 0);

	if (b64[_i].out == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_null(out);
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, b64[_i].out);
		ck_assert_uint_eq(len, strlen(b64[_i].out));
	}
	free(out);
}
END_TEST

static const struct {
	const char	*in;
	long long	 t;
} times[] = {
	{ "2026-12-06T15:00:00Z", 1796569200LL },
	{ "2026-12-06T15:00:00.123456Z", 1796569200LL },
	{ "2026-12-06T16:30:00+01:30", 1796569200LL },
	{ "2026-12-06T13:00:00-02:00", 1796569200LL },
	{ "2026-12-06 15:00:00Z", -1 },
	{ "2026-12-06T15:00:00", -1 },
	{ "2026-13-06T15:00:00Z", -1 },
	{ "tomorrow", -1 },
};

START_TEST(test_kube_rfc3339)
{
	ck_assert_int_eq(lep_kube_rfc3339(times[_i].in), times[_i].t);
}
END_TEST

Suite *
suite_kube(void)
{
	Suite	*s = suite_create("kube");
	TCase	*tc = tcase_create("kube");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kube_merges_files_as_kubectl);
	tcase_add_test(tc,
	    test_kube_current_context_from_first_file_that_sets_it);
	tcase_add_test(tc, test_kube_ca_relative_path_and_data);
	tcase_add_test(tc, test_kube_client_certificate_file_and_data);
	tcase_add_test(tc, test_kube_token_file_trimmed_and_beats_token);
	tcase_add_loop_test(tc, test_kube_refuses, 0,
	    LEP_ARRAY_SIZE(refusals));
	tcase_add_test(tc, test_kube_nothing_configured);
	tcase_add_test(tc, test_kube_no_credentials_over_plain_http);
	tcase_add_loop_test(tc, test_kube_exec_credential_parsing, 0,
	    LEP_ARRAY_SIZE(creds));
	tcase_add_loop_test(tc, test_kube_exec_cache_until_expiry, 0,
	    LEP_ARRAY_SIZE(expiry));
	tcase_add_test(tc, test_kube_exec_with_a_client_certificate_of_its_own);
	tcase_add_test(tc, test_kube_exec_plugin_missing_gives_hint);
	tcase_add_loop_test(tc, test_kube_b64dec, 0, LEP_ARRAY_SIZE(b64));
	tcase_add_loop_test(tc, test_kube_rfc3339, 0, LEP_ARRAY_SIZE(times));
	suite_add_tcase(s, tc);
	return s;
}
