/*
 * check_aws.c: lib/aws without AWS: botocore's INI reading (its own test
 * files), profile selection, partial keys, secret files others may read,
 * endpoints, AWS errors from JSON and XML, and the standard retry mode
 * against a canned server on 127.0.0.1 that records every request.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/aws.h"
#include "../lib/aws-priv.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/http.h"
#include "../lib/json.h"
#include "../lib/util.h"

#define DATA	"tests/data/aws-config-files/"

extern char **environ;

/* Every AWS_* variable goes: each test sets what it needs. */
static void
aws_setup(void)
{
	char	**e, *name;

	for (;;) {
		for (e = environ; *e != NULL; e++)
			if (strncmp(*e, "AWS_", 4) == 0)
				break;
		if (*e == NULL)
			break;
		name = xstrndup(*e, strcspn(*e, "="));
		unsetenv(name);
		free(name);
	}
}

static struct aws_ini
load(const char *file, int config, const struct lep_err **err)
{
	struct aws_ini	 ini;
	char		*text;
	size_t		 len;

	text = test_slurp(file, &len);
	ck_assert_msg(text != NULL, "%s", file);
	*err = aws_ini_parse(&ini, text, len, file, config);
	free(text);
	return ini;
}

static size_t
nprofiles(const struct aws_ini *ini)
{
	size_t	 i, n = 0;

	for (i = 0; i < ini->n; i++)
		n += ini->sec[i].kind == AWS_SEC_PROFILE;
	return n;
}

/* botocore tests/unit/test_configloader.py, as EXPECTED.json has it. */
START_TEST(test_aws_ini_reads_botocore_test_files)
{
	const struct lep_err		*err;
	const struct aws_ini_sec	*s;
	struct aws_ini			 ini;

	ini = load(DATA "aws_config", 1, &err);
	ck_assert_ptr_null(err);
	ck_assert_uint_eq(nprofiles(&ini), 2);
	s = aws_ini_find(&ini, AWS_SEC_PROFILE, "personal");
	ck_assert_str_eq(aws_ini_get(s, "aws_security_token"), "fiebaz");
	ck_assert_str_eq(aws_ini_get(aws_ini_find(&ini, AWS_SEC_PROFILE,
	    "default"), "aws_access_key_id"), "foo");
	aws_ini_free(&ini);

	ini = load(DATA "aws_bad_profile", 1, &err);
	ck_assert_ptr_null(err);
	ck_assert_uint_eq(nprofiles(&ini), 3);
	ck_assert_ptr_nonnull(aws_ini_find(&ini, AWS_SEC_PROFILE, "default"));
	ck_assert_ptr_nonnull(aws_ini_find(&ini, AWS_SEC_PROFILE,
	    "my profile"));
	s = aws_ini_find(&ini, AWS_SEC_PROFILE, "personal1");
	ck_assert_str_eq(aws_ini_get(s, "aws_access_key_id"),
	    "access_personal1");
	aws_ini_free(&ini);

	ini = load(DATA "aws_config_nested", 1, &err);
	ck_assert_ptr_null(err);
	s = aws_ini_find(&ini, AWS_SEC_PROFILE, "default");
	ck_assert_str_eq(aws_ini_get(s, "aws_access_key_id"), "foo");
	ck_assert_str_eq(aws_ini_get(s, "region"), "us-west-2");
	ck_assert_ptr_null(aws_ini_get(s, "s3"));
	ck_assert_str_eq(aws_ini_get(s, "s3.signature_version"), "s3v4");
	ck_assert_str_eq(aws_ini_get(s, "s3.addressing_style"), "path");
	ck_assert_str_eq(aws_ini_get(s, "cloudwatch.signature_version"),
	    "v4");
	aws_ini_free(&ini);

	ini = load(DATA "aws_sso_session_config", 1, &err);
	ck_assert_ptr_null(err);
	ck_assert_uint_eq(nprofiles(&ini), 1);
	s = aws_ini_find(&ini, AWS_SEC_SSO, "sso");
	ck_assert_str_eq(aws_ini_get(s, "sso_start_url"),
	    "https://example.com");
	ck_assert_str_eq(aws_ini_get(s, "sso_region"), "us-east-1");
	aws_ini_free(&ini);

	ini = load(DATA "aws_services_config", 1, &err);
	ck_assert_ptr_null(err);
	ck_assert_uint_eq(nprofiles(&ini), 1);
	s = aws_ini_find(&ini, AWS_SEC_OTHER, "services my-services");
	ck_assert_str_eq(aws_ini_get(s, "s3.endpoint_url"),
	    "https://localhost:5678/");
	ck_assert_str_eq(aws_ini_get(s, "dynamodb.endpoint_url"),
	    "https://localhost:8888/");
	aws_ini_free(&ini);
}
END_TEST

static const struct {
	const char	*file;
	int		 config;
	const char	*msg;
} bad_files[] = {
	{ DATA "aws_config_bad", 1, "no section header" },
	{ DATA "aws_config_nested_bad", 1, "'bad_syntax @ s3v4' has no '='" },
	{ DATA "aws_credentials", 0, "no section header" },
};

START_TEST(test_aws_ini_refuses_what_botocore_refuses)
{
	const struct lep_err	*err;
	struct aws_ini		 ini;

	ini = load(bad_files[_i].file, bad_files[_i].config, &err);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_msg(strstr(err->msg, bad_files[_i].msg) != NULL, "%s",
	    err->msg);
	ck_assert_msg(strstr(err->msg, bad_files[_i].file) != NULL, "%s",
	    err->msg);
	aws_ini_free(&ini);
}
END_TEST

START_TEST(test_aws_ini_comments_and_continuations)
{
	static const char	 text[] =
	    "# comment\n; other\n[profile x]\nKEY_Case = a\n  b\n"
	    "   ; indented comment\nother: v: w\nempty =\n"
	    "[profile  \"y z\"]\nk=1\n[profile]\nk=2\n[profilex]\nk=3\n";
	const struct lep_err		*err;
	const struct aws_ini_sec	*s;
	struct aws_ini			 ini;

	err = aws_ini_parse(&ini, text, sizeof(text) - 1, "t", 1);
	ck_assert_ptr_null(err);
	s = aws_ini_find(&ini, AWS_SEC_PROFILE, "x");
	ck_assert_str_eq(aws_ini_get(s, "key_case"), "a\nb");
	ck_assert_str_eq(aws_ini_get(s, "other"), "v: w");
	ck_assert_str_eq(aws_ini_get(s, "empty"), "");
	ck_assert_str_eq(aws_ini_get(aws_ini_find(&ini, AWS_SEC_PROFILE,
	    "y z"), "k"), "1");
	ck_assert_uint_eq(nprofiles(&ini), 2);
	aws_ini_free(&ini);
}
END_TEST

static const struct {
	const char	*line;
	int		 argc;
	const char	*argv[4];
} splits[] = {
	{ "/bin/x arg1", 2, { "/bin/x", "arg1" } },
	{ "  a\t 'b c'  ", 2, { "a", "b c" } },
	{ "\"a \\\"q\\\" \\\\ \\n\" x\\ y", 2, { "a \"q\" \\ \\n", "x y" } },
	{ "'it''s' \"\"", 2, { "its", "" } },
	{ "a 'unterminated", -1, { NULL } },
	{ "a\\", -1, { NULL } },
	{ "", 0, { NULL } },
};

START_TEST(test_aws_shell_split_as_shlex)
{
	char	**v;
	int	 n, i;

	n = aws_shell_split(&v, splits[_i].line);
	ck_assert_int_eq(n, splits[_i].argc);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(v[i], splits[_i].argv[i]);
	if (n >= 0) {
		ck_assert_ptr_null(v[n]);
		lep_strv_free(v, (size_t)n);
	} else
		ck_assert_ptr_null(v);
}
END_TEST

static const struct {
	const char	*s;
	long long	 t;
} times[] = {
	{ "2099-01-01T00:00:00Z", 4070908800LL },
	{ "2099-01-01T00:00:00+00:00", 4070908800LL },
	{ "2026-12-06T04:33:23.548667+00:00", 1796531603LL },
	{ "2026-12-06T05:33:23+01:00", 1796531603LL },
	{ "2026-12-06T04:33:23 UTC", 1796531603LL },
	{ "yesterday", -1 },
	{ "2026-12-06T04:33:23Zjunk", -1 },
};

START_TEST(test_aws_parse_time_forms)
{
	ck_assert_int_eq(aws_parse_time(times[_i].s), times[_i].t);
}
END_TEST

/* --- the chain on files in the sandbox's HOME --- */

static const char creds_file[] =
    "[default]\naws_access_key_id = AKIADEFAULT\n"
    "aws_secret_access_key = defsecret\n\n"
    "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = devsecret\n"
    "aws_session_token = devtoken\n\n"
    "[half]\naws_access_key_id = AKIAHALF\n";
static const char config_file[] =
    "[default]\nregion = eu-west-1\n\n"
    "[profile dev]\nregion = us-west-2\naws_access_key_id = AKIADEVCFG\n"
    "aws_secret_access_key = x\n\n"
    "[profile cfgonly]\naws_access_key_id = AKIACFG\n"
    "aws_secret_access_key = cfgsecret\n\n"
    "[profile none]\nregion = ap-east-1\n";

static void
write_aws_files(int creds_mode, int config_mode)
{
	char	*dir, *p;

	dir = xasprintf("%s/.aws", getenv("HOME"));
	mkdir(dir, 0700);
	p = xasprintf("%s/credentials", dir);
	unlink(p);
	test_write(p, creds_file, 0600);
	chmod(p, creds_mode);
	free(p);
	p = xasprintf("%s/config", dir);
	unlink(p);
	test_write(p, config_file, 0600);
	chmod(p, config_mode);
	free(p);
	free(dir);
}

static const struct {
	const char	*name;
	const char	*env[6];	/* NAME=value */
	const char	*profile;	/* opts->profile */
	const char	*region;	/* opts->region */
	const char	*method;	/* NULL: an error */
	const char	*key;
	const char	*want_region;
	enum lep_code	 err;
	const char	*msg;
} chain_cases[] = {
	{ "env wins", { "AWS_ACCESS_KEY_ID=AKIAENV",
	  "AWS_SECRET_ACCESS_KEY=s" }, NULL, NULL, "env", "AKIAENV",
	  "eu-west-1", 0, NULL },
	{ "partial env", { "AWS_ACCESS_KEY_ID=AKIAENV" }, NULL, NULL, NULL,
	  NULL, NULL, LEP_E_AUTH,
	  "partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY" },
	{ "an empty variable is unset", { "AWS_ACCESS_KEY_ID=" }, NULL, NULL,
	  "shared-credentials-file", "AKIADEFAULT", "eu-west-1", 0, NULL },
	{ "default", { NULL }, NULL, NULL, "shared-credentials-file",
	  "AKIADEFAULT", "eu-west-1", 0, NULL },
	{ "credentials file beats config", { NULL }, "dev", NULL,
	  "shared-credentials-file", "AKIADEV", "us-west-2", 0, NULL },
	{ "config keys; [default] region not inherited", { NULL }, "cfgonly",
	  NULL, "config-file", "AKIACFG", NULL, 0, NULL },
	{ "AWS_PROFILE with env keys", { "AWS_PROFILE=dev",
	  "AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=s" }, NULL,
	  NULL, "env", "AKIAENV", "us-west-2", 0, NULL },
	{ "explicit profile drops env keys", { "AWS_ACCESS_KEY_ID=AKIAENV",
	  "AWS_SECRET_ACCESS_KEY=s" }, "dev", NULL, "shared-credentials-file",
	  "AKIADEV", "us-west-2", 0, NULL },
	{ "AWS_PROFILE nosuch even with env keys", { "AWS_PROFILE=nosuch",
	  "AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=s" }, NULL,
	  NULL, NULL, NULL, NULL, LEP_E_AUTH,
	  "the config profile (nosuch) could not be found" },
	{ "explicit nosuch", { NULL }, "nosuch", NULL, NULL, NULL, NULL,
	  LEP_E_AUTH, "the config profile (nosuch) could not be found" },
	{ "partial credentials file", { NULL }, "half", NULL, NULL, NULL,
	  NULL, LEP_E_AUTH, "partial credentials found in "
	  "shared-credentials-file, missing: aws_secret_access_key" },
	{ "a profile without keys", { NULL }, "none", NULL, NULL, NULL, NULL,
	  LEP_E_AUTH, "unable to locate credentials" },
	{ "opts region first", { "AWS_REGION=a", "AWS_DEFAULT_REGION=b" },
	  "dev", "opt-1", "shared-credentials-file", "AKIADEV", "opt-1", 0,
	  NULL },
	{ "AWS_REGION, then AWS_DEFAULT_REGION", { "AWS_REGION=a",
	  "AWS_DEFAULT_REGION=b" }, "dev", NULL, "shared-credentials-file",
	  "AKIADEV", "a", 0, NULL },
	{ "AWS_DEFAULT_REGION beats the profile", { "AWS_DEFAULT_REGION=b" },
	  "dev", NULL, "shared-credentials-file", "AKIADEV", "b", 0, NULL },
	{ "AWS_SHARED_CREDENTIALS_FILE elsewhere", {
	  "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/c" }, NULL, NULL, NULL,
	  NULL, NULL, LEP_E_AUTH, "unable to locate credentials" },
};

START_TEST(test_aws_chain_selects_profile_and_source)
{
	const struct lep_err	*err;
	struct lep_aws_creds	 c;
	struct lep_aws_opts	 o = { NULL, NULL, NULL };
	char			*kv;
	size_t			 i;

	aws_setup();
	write_aws_files(0600, 0600);
	for (i = 0; i < LEP_ARRAY_SIZE(chain_cases[_i].env) &&
	    chain_cases[_i].env[i] != NULL; i++) {
		kv = xstrdup(chain_cases[_i].env[i]);
		kv[strcspn(kv, "=")] = '\0';
		setenv(kv, kv + strlen(kv) + 1, 1);
		free(kv);
	}
	o.profile = chain_cases[_i].profile;
	o.region = chain_cases[_i].region;
	err = lep_aws_creds_resolve(&c, &o);
	if (chain_cases[_i].method == NULL) {
		ck_assert_msg(err != NULL, "%s: no error",
		    chain_cases[_i].name);
		ck_assert_int_eq(err->code, chain_cases[_i].err);
		ck_assert_msg(strstr(err->msg, chain_cases[_i].msg) != NULL,
		    "%s: %s", chain_cases[_i].name, err->msg);
		ck_assert_ptr_null(c.access_key);
		ck_assert_ptr_null(c.secret_key);
	} else {
		ck_assert_msg(err == NULL, "%s: %s", chain_cases[_i].name,
		    err->msg);
		ck_assert_str_eq(c.method, chain_cases[_i].method);
		ck_assert_str_eq(c.access_key, chain_cases[_i].key);
		if (chain_cases[_i].want_region == NULL)
			ck_assert_ptr_null(c.region);
		else
			ck_assert_str_eq(c.region,
			    chain_cases[_i].want_region);
	}
	lep_aws_creds_release(&c);
}
END_TEST

START_TEST(test_aws_refuses_files_others_may_read)
{
	const struct lep_err	*err;
	struct lep_aws_creds	 c;
	char			*p;

	aws_setup();
	write_aws_files(0644, 0600);
	err = lep_aws_creds_resolve(&c, NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	p = xasprintf("%s/.aws/credentials", getenv("HOME"));
	ck_assert_msg(strstr(err->msg, p) != NULL, "%s", err->msg);
	ck_assert_ptr_null(strstr(err->msg, "defsecret"));
	free(p);
	lep_aws_creds_release(&c);

	write_aws_files(0600, 0640);
	err = lep_aws_creds_resolve(&c, NULL);
	ck_assert_ptr_nonnull(err);
	p = xasprintf("%s/.aws/config", getenv("HOME"));
	ck_assert_msg(strstr(err->msg, p) != NULL, "%s", err->msg);
	free(p);
	lep_aws_creds_release(&c);
}
END_TEST

START_TEST(test_aws_credential_process_runs_without_shell)
{
	const struct lep_err	*err;
	struct lep_aws_creds	 c;
	struct lep_aws_opts	 o = { "p", NULL, NULL };
	char			*cfg, *sh, *text;

	aws_setup();
	sh = xasprintf("%s/p r.sh", test_sandbox());
	test_write(sh, "#!/bin/sh\n[ \"$1\" = 'a;b' ] || exit 3\n"
	    "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIAP\", "
	    "\"SecretAccessKey\": \"s\", \"Expiration\": "
	    "\"2099-01-01T00:00:00Z\"}'\n", 0700);
	cfg = xasprintf("%s/cfg", test_sandbox());
	text = xasprintf("[profile p]\ncredential_process = \"%s\" 'a;b'\n",
	    sh);
	test_write(cfg, text, 0600);
	setenv("AWS_CONFIG_FILE", cfg, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
	err = lep_aws_creds_resolve(&c, &o);
	ck_assert_msg(err == NULL, "%s", err ? err->msg : "");
	ck_assert_str_eq(c.method, "custom-process");
	ck_assert_str_eq(c.access_key, "AKIAP");
	ck_assert_ptr_null(c.session_token);
	ck_assert_int_eq(c.expires, 4070908800LL);
	ck_assert_str_eq(c.detail, sh);
	lep_aws_creds_release(&c);

	/* A failure: its stderr is the message. */
	test_write(sh, "#!/bin/sh\necho 'no MFA device' >&2\nexit 1\n", 0700);
	err = lep_aws_creds_resolve(&c, &o);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_msg(strstr(err->msg, "custom-process: no MFA device") !=
	    NULL, "%s", err->msg);
	lep_aws_creds_release(&c);
	free(sh);
	free(cfg);
	free(text);
}
END_TEST

START_TEST(test_aws_sso_cache_name_is_sha1)
{
	char	 hex[LEP_SHA1_HEX];

	ck_assert_ptr_null(lep_sha1_hex(hex, "corp", 4));
	ck_assert_str_eq(hex, "ee0bfd2552fbd840c02cc48b6e823320543c450f");
}
END_TEST

/* --- endpoints --- */

static const struct {
	const char	*service, *region;
	const char	*env[2];
	const char	*url, *from;
} endpoints[] = {
	{ "sagemaker", "eu-west-1", { NULL },
	  "https://api.sagemaker.eu-west-1.amazonaws.com", "default" },
	{ "runtime.sagemaker", "us-east-1", { NULL },
	  "https://runtime.sagemaker.us-east-1.amazonaws.com", "default" },
	{ "s3", "us-west-2", { NULL }, "https://s3.us-west-2.amazonaws.com",
	  "default" },
	{ "sts", "us-east-1", { NULL }, "https://sts.us-east-1.amazonaws.com",
	  "default" },
	{ "sts", NULL, { NULL }, "https://sts.amazonaws.com", "default" },
	{ "logs", "cn-north-1", { NULL },
	  "https://logs.cn-north-1.amazonaws.com.cn", "default" },
	{ "sso", "us-east-1", { NULL },
	  "https://portal.sso.us-east-1.amazonaws.com", "default" },
	{ "sagemaker", "us-east-1", { "AWS_ENDPOINT_URL=http://127.0.0.1:9/" },
	  "http://127.0.0.1:9", "AWS_ENDPOINT_URL" },
	{ "sts", "us-east-1", { "AWS_ENDPOINT_URL_STS=HTTP://Sts.Local:9/A/" },
	  "http://sts.local:9/A", "AWS_ENDPOINT_URL_STS" },
	{ "runtime.sagemaker", "us-east-1", {
	  "AWS_ENDPOINT_URL=http://a:1",
	  "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=http://b:2" }, "http://b:2",
	  "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME" },
	{ "logs", "us-east-1", { "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://l",
	  "AWS_ENDPOINT_URL_S3=http://s" }, "http://l",
	  "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS" },
	{ "s3", "us-east-1", { "AWS_ENDPOINT_URL=http://a:1",
	  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true" },
	  "https://s3.us-east-1.amazonaws.com", "default" },
	{ "ec2", "us-east-1", { NULL }, NULL, "default" },
};

START_TEST(test_aws_endpoint_order)
{
	const char	*from = NULL;
	char		*kv, *url;
	size_t		 i;

	aws_setup();
	for (i = 0; i < 2 && endpoints[_i].env[i] != NULL; i++) {
		kv = xstrdup(endpoints[_i].env[i]);
		kv[strcspn(kv, "=")] = '\0';
		setenv(kv, kv + strlen(kv) + 1, 1);
		free(kv);
	}
	url = lep_aws_endpoint(endpoints[_i].service, endpoints[_i].region,
	    &from);
	if (endpoints[_i].url == NULL)
		ck_assert_ptr_null(url);
	else
		ck_assert_str_eq(url, endpoints[_i].url);
	ck_assert_str_eq(from, endpoints[_i].from);
	free(url);
}
END_TEST

/* --- errors --- */

static const struct {
	const char	*headers;
	const char	*body;
	const char	*code, *msg;
} errors[] = {
	{ "", "{\"__type\":\"com.amazon.coral.validate#ValidationException\","
	  "\"message\":\"Could not find endpoint\"}", "ValidationException",
	  "Could not find endpoint" },
	{ "X-Amzn-Errortype: ResourceNotFound:http://internal.amazon.com/\r\n",
	  "{\"Message\":\"nope\"}", "ResourceNotFound", "nope" },
	{ "", "{\"code\":\"ThrottlingException\"}", "ThrottlingException",
	  NULL },
	{ "", "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>"
	  "Reduce your &quot;rate&quot; &amp; retry</Message></Error>",
	  "SlowDown", "Reduce your \"rate\" & retry" },
	{ "Content-Type: text/html\r\n", "<ErrorResponse><Error><Type>Sender"
	  "</Type><Code>SignatureDoesNotMatch</Code><Message>The request "
	  "signature we calculated does not match</Message></Error>"
	  "</ErrorResponse>", "SignatureDoesNotMatch",
	  "The request signature we calculated does not match" },
	{ "", "<!doctype html><title>500 Internal Server Error</title>", NULL,
	  NULL },
	{ "", "", NULL, NULL },
};

START_TEST(test_aws_parse_error_json_and_xml)
{
	struct lep_http_resp	 r;
	char			*code, *msg;

	lep_http_resp_init(&r);
	lep_buf_add(&r.body, errors[_i].body);
	lep_buf_add(&r.headers, errors[_i].headers);
	aws_parse_error(&code, &msg, &r);
	if (errors[_i].code == NULL)
		ck_assert_ptr_null(code);
	else
		ck_assert_str_eq(code, errors[_i].code);
	if (errors[_i].msg == NULL)
		ck_assert_ptr_null(msg);
	else
		ck_assert_str_eq(msg, errors[_i].msg);
	free(code);
	free(msg);
	lep_http_resp_release(&r);
}
END_TEST

START_TEST(test_aws_retry_classification)
{
	long long	 ms;
	int		 n;

	ck_assert(aws_is_throttle("ThrottlingException"));
	ck_assert(aws_is_throttle("SlowDown"));
	ck_assert(aws_is_throttle("EC2ThrottledException"));
	ck_assert(!aws_is_throttle("ValidationException"));
	ck_assert(!aws_is_throttle(NULL));
	ck_assert(aws_is_transient("RequestTimeout", 400));
	ck_assert(aws_is_transient(NULL, 503));
	ck_assert(aws_is_transient("InternalFailure", 500));
	ck_assert(!aws_is_transient(NULL, 501));
	ck_assert(!aws_is_transient("ValidationException", 400));
	ck_assert(aws_is_auth("SignatureDoesNotMatch", 403));
	ck_assert(aws_is_auth("AccessDeniedException", 400));
	ck_assert(aws_is_auth("ExpiredToken", 400));
	ck_assert(aws_is_auth(NULL, 403));
	ck_assert(!aws_is_auth("ValidationException", 400));
	ck_assert(!aws_is_auth(NULL, 404));
	/* Full jitter: r * 2^(n-1) s, at most 20 s, Retry-After if longer. */
	ck_assert_int_eq(aws_backoff_ms(1, 0.5, -1), 500);
	ck_assert_int_eq(aws_backoff_ms(2, 0.5, -1), 1000);
	ck_assert_int_eq(aws_backoff_ms(3, 0.999, -1), 3996);
	ck_assert_int_eq(aws_backoff_ms(30, 0.9, -1), AWS_BACKOFF_MAX_MS);
	ck_assert_int_eq(aws_backoff_ms(1, 0.0, 1500), 1500);
	ck_assert_int_eq(aws_backoff_ms(2, 0.9, 100), 1800);
	for (n = 1; n < 10; n++) {
		ms = aws_backoff_ms(n, 0.999999, -1);
		ck_assert(ms >= 0 && ms <= AWS_BACKOFF_MAX_MS);
	}
}
END_TEST

/* --- lep_aws_call against a canned server that records requests --- */

struct rec_server {
	pid_t	 pid;
	int	 port;
	int	 rec;		/* read end: each request, NUL-terminated */
};

static void
serve_one(int fd, int rec, const char *reply)
{
	char	 buf[65536], *end, *cl;
	size_t	 n = 0;
	ssize_t	 r;
	long	 want = 0;

	while (n < sizeof(buf) - 1) {
		if ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			if ((cl = strcasestr(buf, "Content-Length:")) != NULL)
				want = strtol(cl + 15, NULL, 10);
			if ((long)(n - (size_t)(end + 4 - buf)) >= want)
				break;
		}
	}
	(void)!write(rec, buf, n + 1);
	(void)!write(fd, reply, strlen(reply));
}

static void
rec_start(struct rec_server *sv, const char *const *script, size_t n)
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	int			 ls, fd, p[2], one = 1;
	size_t			 i;

	ck_assert_int_eq(pipe(p), 0);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(ls, 16), 0);
	getsockname(ls, (struct sockaddr *)&sa, &len);
	sv->port = ntohs(sa.sin_port);
	if ((sv->pid = fork()) == 0) {
		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		for (i = 0;; i++) {
			if ((fd = accept(ls, NULL, NULL)) == -1)
				_exit(1);
			serve_one(fd, p[1], script[i < n ? i : n - 1]);
			close(fd);
		}
	}
	close(ls);
	close(p[1]);
	sv->rec = p[0];
}

/* Stop; the requests recorded, each one string in out (caller frees). */
static size_t
rec_stop(struct rec_server *sv, char **out, size_t max)
{
	struct lep_buf	 b;
	char		 buf[4096], *p;
	ssize_t		 r;
	size_t		 n = 0;

	kill(sv->pid, SIGKILL);
	waitpid(sv->pid, NULL, 0);
	lep_buf_init(&b, 0);
	while ((r = read(sv->rec, buf, sizeof(buf))) > 0)
		lep_buf_addn(&b, buf, (size_t)r);
	close(sv->rec);
	for (p = b.buf; p < b.buf + b.len && n < max; p += strlen(p) + 1)
		out[n++] = xstrdup(p);
	lep_buf_release(&b);
	return n;
}

/* No Content-Length: the body ends where the server closes. */
#define J200	"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1" \
		"\r\nContent-Length: 2\r\n\r\n{}"
#define THROTTLE "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n" \
		"{\"__type\":\"ThrottlingException\",\"message\":\"m\"}"
#define VALID	"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n" \
		"{\"__type\":\"ValidationException\",\"message\":\"m\"}"
#define E500	"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"
#define E503RA	"HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0" \
		"\r\n\r\n"
#define MOTO403	"HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n" \
		"Connection: close\r\n\r\n<ErrorResponse><Error><Code>" \
		"SignatureDoesNotMatch</Code><Message>bad sig</Message>" \
		"</Error></ErrorResponse>"

static const struct {
	const char	*name;
	const char	*script[3];
	int		 idempotent;
	int		 attempts;
	enum lep_code	 err;		/* 0: success */
	const char	*code;		/* *code returned */
	long long	 min_ms;	/* at least this long (Retry-After) */
} calls[] = {
	{ "ok", { J200 }, 0, 1, 0, NULL, 0 },
	{ "throttled POST is retried", { THROTTLE, J200 }, 0, 2, 0, NULL, 0 },
	{ "throttled 3 times", { THROTTLE }, 0, 3, LEP_E_PROVIDER,
	  "ThrottlingException", 0 },
	{ "500 to a POST is not", { E500, J200 }, 0, 1, LEP_E_PROVIDER, NULL,
	  0 },
	{ "500 to an idempotent one is", { E500, J200 }, 1, 2, 0, NULL, 0 },
	{ "4xx never", { VALID, J200 }, 1, 1, LEP_E_PROVIDER,
	  "ValidationException", 0 },
	{ "Retry-After honoured", { E503RA, J200 }, 1, 2, 0, NULL, 1000 },
	{ "moto's 403 is an auth error", { MOTO403 }, 1, 1, LEP_E_AUTH,
	  "SignatureDoesNotMatch", 0 },
};

static const struct lep_aws_creds test_creds = {
	.access_key = "AKIDEXAMPLE",
	.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	.method = "shared-credentials-file",
	.profile = (char *)"dev",
	.detail = (char *)"/home/u/.aws/credentials",
};

START_TEST(test_aws_call_standard_retry_mode)
{
	const struct lep_err	*err;
	struct rec_server	 sv;
	struct lep_http_resp	 r;
	struct lep_aws_req	 req;
	char			*url, *code, *got[8];
	size_t			 n, i, ns;
	long long		 t0;

	aws_setup();
	for (ns = 0; ns < 3 && calls[_i].script[ns] != NULL; ns++)
		;
	rec_start(&sv, calls[_i].script, ns);
	url = xasprintf("http://127.0.0.1:%d", sv.port);
	setenv("AWS_ENDPOINT_URL", url, 1);
	memset(&req, 0, sizeof(req));
	req.service = "sagemaker";
	req.region = "us-east-1";
	req.method = "POST";
	req.path = "/";
	req.target = "SageMaker.DescribeEndpoint";
	req.content_type = "application/x-amz-json-1.1";
	req.body = "{\"EndpointName\":\"e\"}";
	req.body_len = strlen(req.body);
	req.idempotent = calls[_i].idempotent;
	t0 = lep_now_ms();
	err = lep_aws_call(&r, &code, &test_creds, &req);
	n = rec_stop(&sv, got, LEP_ARRAY_SIZE(got));
	ck_assert_msg(n == (size_t)calls[_i].attempts, "%s: %zu attempts",
	    calls[_i].name, n);
	if (calls[_i].err == 0)
		ck_assert_msg(err == NULL, "%s: %s", calls[_i].name,
		    err->msg);
	else {
		ck_assert_ptr_nonnull(err);
		ck_assert_int_eq(err->code, calls[_i].err);
	}
	if (calls[_i].code != NULL)
		ck_assert_str_eq(code, calls[_i].code);
	if (calls[_i].err == LEP_E_AUTH) {
		ck_assert_msg(strstr(err->msg, "shared-credentials-file") !=
		    NULL && strstr(err->msg, "'dev'") != NULL, "%s",
		    err->msg);
		ck_assert_ptr_null(strstr(err->msg, test_creds.secret_key));
	}
	ck_assert(lep_now_ms() - t0 >= calls[_i].min_ms);
	for (i = 0; i < n; i++) {
		/* Each attempt signed anew, the target and type signed. */
		ck_assert_ptr_nonnull(strcasestr(got[i], "\r\nAuthorization: "
		    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
		ck_assert_ptr_nonnull(strstr(got[i], "/us-east-1/sagemaker/"
		    "aws4_request"));
		ck_assert_ptr_nonnull(strcasestr(got[i],
		    "\r\nX-Amz-Target: SageMaker.DescribeEndpoint\r\n"));
		ck_assert_ptr_nonnull(strcasestr(got[i], "content-type;"));
		ck_assert_ptr_nonnull(strcasestr(got[i], "\r\nX-Amz-Date: "));
		ck_assert_ptr_nonnull(strstr(got[i], "{\"EndpointName\":"));
		free(got[i]);
	}
	free(code);
	free(url);
	lep_http_resp_release(&r);
}
END_TEST

START_TEST(test_aws_call_streams_a_file_range)
{
	static const char *const script[] = {
		"HTTP/1.1 200 OK\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n",
	};
	const struct lep_err	*err;
	struct rec_server	 sv;
	struct lep_http_resp	 r;
	struct lep_aws_req	 req;
	char			*url, *path, *got[2], *etag, *want;
	char			 hex[LEP_SHA256_HEX];
	size_t			 n;

	aws_setup();
	path = xasprintf("%s/part.bin", test_sandbox());
	test_write(path, "0123456789abcdefghij", 0600);
	rec_start(&sv, script, 1);
	url = xasprintf("http://127.0.0.1:%d", sv.port);
	setenv("AWS_ENDPOINT_URL_S3", url, 1);
	memset(&req, 0, sizeof(req));
	req.service = "s3";
	req.region = "us-east-1";
	req.method = "PUT";
	req.path = "/models/iris/model.tar.gz";
	req.query = "partNumber=2&uploadId=u1";
	req.body_file = path;
	req.file_offset = 10;
	req.file_len = 5;
	req.s3 = 1;
	err = lep_aws_call(&r, NULL, &test_creds, &req);
	n = rec_stop(&sv, got, LEP_ARRAY_SIZE(got));
	ck_assert_msg(err == NULL, "%s", err ? err->msg : "");
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(got[0], "PUT /models/iris/model.tar.gz?"
	    "partNumber=2&uploadId=u1 HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strcasestr(got[0], "\r\nContent-Length: 5\r\n"));
	ck_assert_str_eq(got[0] + strlen(got[0]) - 9, "\r\n\r\nabcde");
	ck_assert_ptr_null(lep_sha256_hex(hex, "abcde", 5));
	want = xasprintf("\r\nX-Amz-Content-Sha256: %s\r\n", hex);
	ck_assert_msg(strcasestr(got[0], want) != NULL, "%s", got[0]);
	etag = lep_http_resp_header(&r, "etag");
	ck_assert_str_eq(etag, "\"abc\"");
	free(etag);
	free(want);
	free(got[0]);
	free(url);
	free(path);
	lep_http_resp_release(&r);
}
END_TEST

START_TEST(test_aws_call_refuses_a_range_past_the_end)
{
	const struct lep_err	*err;
	struct lep_http_resp	 r;
	struct lep_aws_req	 req;
	char			*path;

	aws_setup();
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9", 1);
	path = xasprintf("%s/short.bin", test_sandbox());
	test_write(path, "0123456789", 0600);
	memset(&req, 0, sizeof(req));
	req.service = "s3";
	req.method = "PUT";
	req.path = "/b/k";
	req.body_file = path;
	req.file_offset = 5;
	req.file_len = 6;
	req.s3 = 1;
	err = lep_aws_call(&r, NULL, &test_creds, &req);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_FAILED);
	ck_assert_msg(strstr(err->msg, "shorter than 11 bytes") != NULL, "%s",
	    err->msg);
	free(path);
	lep_http_resp_release(&r);
}
END_TEST

START_TEST(test_aws_probe_says_who_without_secrets)
{
	static const char *const script[] = {
		"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
		"Connection: close\r\n\r\n<GetCallerIdentityResponse>"
		"<GetCallerIdentityResult><UserId>AIDA</UserId><Account>"
		"123456789012</Account><Arn>arn:aws:iam::123456789012:user/"
		"lepton</Arn></GetCallerIdentityResult>"
		"</GetCallerIdentityResponse>",
	};
	const struct lep_err	*err;
	struct rec_server	 sv;
	struct lep_json		*j;
	char			*url, *got[2], *text;
	size_t			 n;

	aws_setup();
	write_aws_files(0600, 0600);
	rec_start(&sv, script, 1);
	url = xasprintf("http://127.0.0.1:%d/", sv.port);
	setenv("AWS_ENDPOINT_URL_STS", url, 1);
	err = lep_aws_probe(&j, NULL);
	n = rec_stop(&sv, got, LEP_ARRAY_SIZE(got));
	ck_assert_msg(err == NULL, "%s", err ? err->msg : "");
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(got[0], "POST / HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(got[0],
	    "Action=GetCallerIdentity&Version=2011-06-15"));
	ck_assert_ptr_nonnull(strstr(got[0], "/eu-west-1/sts/aws4_request"));
	text = lep_json_print(j, 0);
	ck_assert(lep_starts_with(text, "{\"source\":\"shared-credentials-"
	    "file\",\"profile\":\"default\",\"region\":\"eu-west-1\","
	    "\"detail\":\""));
	ck_assert(lep_ends_with(text, "/.aws/credentials\",\"access_key\":"
	    "\"****AULT\",\"account\":\"123456789012\",\"arn\":"
	    "\"arn:aws:iam::123456789012:user/lepton\"}"));
	ck_assert_ptr_null(strstr(text, "defsecret"));
	ck_assert_ptr_null(strstr(text, "AKIADEFAULT"));
	free(text);
	free(got[0]);
	free(url);
	lep_json_free(j);
}
END_TEST

Suite *
suite_aws(void)
{
	Suite	*s = suite_create("aws");
	TCase	*tc = tcase_create("aws");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_aws_ini_reads_botocore_test_files);
	tcase_add_loop_test(tc, test_aws_ini_refuses_what_botocore_refuses, 0,
	    LEP_ARRAY_SIZE(bad_files));
	tcase_add_test(tc, test_aws_ini_comments_and_continuations);
	tcase_add_loop_test(tc, test_aws_shell_split_as_shlex, 0,
	    LEP_ARRAY_SIZE(splits));
	tcase_add_loop_test(tc, test_aws_parse_time_forms, 0,
	    LEP_ARRAY_SIZE(times));
	tcase_add_loop_test(tc, test_aws_chain_selects_profile_and_source, 0,
	    LEP_ARRAY_SIZE(chain_cases));
	tcase_add_test(tc, test_aws_refuses_files_others_may_read);
	tcase_add_test(tc, test_aws_credential_process_runs_without_shell);
	tcase_add_test(tc, test_aws_sso_cache_name_is_sha1);
	tcase_add_loop_test(tc, test_aws_endpoint_order, 0,
	    LEP_ARRAY_SIZE(endpoints));
	tcase_add_loop_test(tc, test_aws_parse_error_json_and_xml, 0,
	    LEP_ARRAY_SIZE(errors));
	tcase_add_test(tc, test_aws_retry_classification);
	tcase_add_loop_test(tc, test_aws_call_standard_retry_mode, 0,
	    LEP_ARRAY_SIZE(calls));
	tcase_add_test(tc, test_aws_call_streams_a_file_range);
	tcase_add_test(tc, test_aws_call_refuses_a_range_past_the_end);
	tcase_add_test(tc, test_aws_probe_says_who_without_secrets);
	suite_add_tcase(s, tc);
	return s;
}
