/*
 * check_gcp.c: RS256 and the Google JWT-bearer assertion byte for byte
 * against RFC 7515 A.2 and its derived vector, base64url, the kinds of
 * credentials file, and what the credential chain refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_lepton.h"
#include "../lib/crypto.h"
#include "../lib/error.h"
#include "../lib/gcp.h"
#include "../lib/json.h"
#include "../lib/util.h"
#include "../providers/gcp-priv.h"

#define JWT	"tests/data/jwt-rs256/"
#define FIX	"tests/data/google-auth-fixtures/"
/* Nothing listens on the discard port here: no metadata server. */
#define NO_METADATA	"127.0.0.1:9"

static struct lep_json *
load_json(const char *path)
{
	struct lep_json	*j = NULL;
	size_t		 len;
	char		*text = test_slurp(path, &len);

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(lep_json_parse(&j, text, len, path));
	free(text);
	return j;
}

static const char *const a2_keys[] = {
	JWT "rfc7515_A.2.private-pkcs8.pem",
	JWT "rfc7515_A.2.private-pkcs1.pem",
};

/* RSASSA-PKCS1-v1_5 is deterministic: the RFC's JWS, exactly. */
START_TEST(test_gcp_rs256_matches_rfc7515_a2)
{
	struct lep_json	*x = load_json(JWT "rfc7515_A.2.expected.json");
	const char	*in = lep_json_get_str(x, "signing_input_ascii");
	char		*pem, *want, *sig64, *got;
	unsigned char	*sig;
	size_t		 len, siglen;

	pem = test_slurp(a2_keys[_i], &len);
	want = test_slurp(JWT "rfc7515_A.2.jwsc", NULL);
	want[strcspn(want, "\r\n")] = '\0';
	ck_assert_ptr_null(lep_rs256_sign(&sig, &siglen, pem, len, in,
	    strlen(in)));
	ck_assert_uint_eq(siglen, 256);
	sig64 = lep_base64(sig, siglen, LEP_B64_URL);
	ck_assert_str_eq(sig64, lep_json_get_str(x, "signature_b64url"));
	got = xasprintf("%s.%s", in, sig64);
	ck_assert_str_eq(got, want);
	free(got);
	free(sig64);
	free(sig);
	free(want);
	free(pem);
	lep_json_free(x);
}
END_TEST

/* The assertion google-auth would send for the derived key at a fixed
   time: same header and claims bytes, same signature. */
START_TEST(test_gcp_jwt_bearer_matches_derived_vector)
{
	struct lep_json	*x, *k;
	long long	 now;
	char		*jwt;

	x = load_json(JWT "derived-google-jwt-bearer.expected.json");
	k = load_json(JWT "derived-service-account-rfc7515-key.json");
	ck_assert_int_eq(lep_json_get_ll(x, "fixed_now_unix", &now), 0);
	ck_assert_ptr_null(lep_gcp_jwt(&jwt, lep_json_get_str(k,
	    "client_email"), lep_json_get_str(k, "private_key_id"),
	    lep_json_get_str(k, "private_key"), LEP_GCP_SCOPE, now));
	ck_assert_str_eq(jwt, lep_json_get_str(x, "assertion"));
	free(jwt);
	lep_json_free(k);
	lep_json_free(x);
}
END_TEST

START_TEST(test_gcp_rs256_refuses_what_is_not_an_rsa_key)
{
	static const char	 junk[] = "-----BEGIN PRIVATE KEY-----\n"
	    "bm90IGEga2V5\n-----END PRIVATE KEY-----\n";
	const struct lep_err	*err;
	unsigned char		*sig;
	size_t			 siglen;

	err = lep_rs256_sign(&sig, &siglen, junk, strlen(junk), "x", 1);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_ptr_null(sig);
}
END_TEST

static const struct {
	const char	*in, *out;
} b64[] = {
	{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
	{ "\xfb\xff", "-_8" }, { "\xfb\xef\xbe", "----" },
};

START_TEST(test_gcp_b64url_is_unpadded_rfc4648)
{
	char	*s = lep_base64(b64[_i].in, strlen(b64[_i].in),
	    LEP_B64_URL);

	ck_assert_str_eq(s, b64[_i].out);
	free(s);
}
END_TEST

static const struct {
	const char	*file;
	int		 mode;
	const char	*want;		/* NULL: past the file, to the token */
} files[] = {
	/* A key readable by others is refused, named. */
	{ FIX "service_account.json", 0644, "others may read it" },
	{ FIX "external_account_authorized_user.json", 0600,
	    "'external_account_authorized_user' are not supported" },
	/* Accepted: the token request is what fails (nothing listens). */
	{ FIX "service_account.json", 0600, "token request" },
	{ FIX "authorized_user.json", 0600, "token request" },
};

START_TEST(test_gcp_credentials_file_kinds)
{
	const struct lep_err	*err;
	struct lep_gcp_creds	 c;
	struct lep_gcp_opts	 o = { 0 };
	struct lep_json		*j = load_json(files[_i].file);
	char			*path, *text;

	/* Keep the token request on loopback, to a closed port. */
	lep_json_set_str(j, "token_uri", "http://127.0.0.1:9/token");
	path = xasprintf("%s/key-%d.json", test_sandbox(), _i);
	text = lep_json_print(j, 0);
	test_write(path, text, files[_i].mode);
	setenv("GOOGLE_APPLICATION_CREDENTIALS", path, 1);
	err = lep_gcp_creds_resolve(&c, &o);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_ne(err->code, LEP_E_INTERNAL);
	ck_assert_msg(strstr(err->msg, files[_i].want) != NULL, "%s",
	    err->msg);
	if (files[_i].mode != 0600)
		ck_assert_msg(strstr(err->msg, path) != NULL, "%s", err->msg);
	lep_gcp_creds_release(&c);
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	free(text);
	free(path);
	lep_json_free(j);
}
END_TEST

static const struct {
	const char	*uri;
	int		 ok;
} uris[] = {
	{ "http://example.com/token", 0 },
	{ "http://127.0.0.1.example.com/token", 0 },
	{ "http://localhostx/token", 0 },
	{ "http://[::1].example.com/token", 0 },
	{ "http://127.0.0.1/token", 1 },
	{ "ftp://127.0.0.1/token", 0 },
	{ "http://127.0.0.1:9/token", 1 },
	{ "http://localhost:9/token", 1 },
	{ "http://[::1]:9/token", 1 },
};

START_TEST(test_gcp_plain_http_only_on_loopback)
{
	const struct lep_err	*err;
	struct lep_gcp_creds	 c;
	struct lep_gcp_opts	 o = { 0 };
	struct lep_json		*j = load_json(FIX "service_account.json");
	char			*path, *text;

	lep_json_set_str(j, "token_uri", uris[_i].uri);
	path = xasprintf("%s/uri-%d.json", test_sandbox(), _i);
	text = lep_json_print(j, 0);
	test_write(path, text, 0600);
	setenv("GOOGLE_APPLICATION_CREDENTIALS", path, 1);
	err = lep_gcp_creds_resolve(&c, &o);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg((strstr(err->msg, "only https") == NULL) ==
	    uris[_i].ok, "%s: %s", uris[_i].uri, err->msg);
	lep_gcp_creds_release(&c);
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	free(text);
	free(path);
	lep_json_free(j);
}
END_TEST

START_TEST(test_gcp_no_credentials_anywhere)
{
	const struct lep_err	*err;
	struct lep_gcp_creds	 c;
	struct lep_gcp_opts	 o = { 0 };

	/* The shared fixture points GCE_METADATA_HOST at a closed port. */
	ck_assert_str_eq(getenv("GCE_METADATA_HOST"), NO_METADATA);
	err = lep_gcp_creds_resolve(&c, &o);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_msg(strstr(err->msg, "no credentials") != NULL, "%s",
	    err->msg);
	ck_assert_str_eq(c.source, "metadata");
	lep_gcp_creds_release(&c);
}
END_TEST


/* The catalog's and a spec's accelerator names, as Vertex's enum. */
static const struct {
	const char	*name;
	const char	*vertex;	/* NULL: none */
} accels[] = {
	{ "T4", "NVIDIA_TESLA_T4" },
	{ "nvidia-tesla-t4", "NVIDIA_TESLA_T4" },
	{ "A100", "NVIDIA_TESLA_A100" },
	{ "A100-80GB", "NVIDIA_A100_80GB" },
	{ "nvidia-l4", "NVIDIA_L4" },
	{ "L4", "NVIDIA_L4" },
	{ "H100", "NVIDIA_H100_80GB" },
	{ "H100-MEGA", "NVIDIA_H100_MEGA_80GB" },
	{ "tpu-v3-8", NULL },
	{ "MI300X", NULL },
	{ "", NULL },
};

START_TEST(test_gcp_accelerator_names)
{
	const char	*v = gcp_accelerator(accels[_i].name);

	if (accels[_i].vertex == NULL)
		ck_assert_msg(v == NULL, "%s: %s", accels[_i].name, v);
	else
		ck_assert_str_eq(v, accels[_i].vertex);
}
END_TEST

START_TEST(test_gcp_gs_split)
{
	char	*b, *o;

	ck_assert_int_eq(gcp_gs_split(&b, &o, "gs://bkt/a/b/model.tar.gz"), 0);
	ck_assert_str_eq(b, "bkt");
	ck_assert_str_eq(o, "a/b/model.tar.gz");
	free(b);
	free(o);
	ck_assert_int_eq(gcp_gs_split(&b, &o, "gs://bkt/"), 0);
	ck_assert_str_eq(b, "bkt");
	ck_assert_str_eq(o, "");
	free(b);
	free(o);
	ck_assert_int_eq(gcp_gs_split(&b, &o, "gs:///x"), -1);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(gcp_gs_split(&b, &o, "gs://bkt"), -1);
	ck_assert_int_eq(gcp_gs_split(&b, &o, "s3://bkt/x"), -1);
}
END_TEST

/* Object names go into a path segment: '/' and the rest escaped. */
START_TEST(test_gcp_object_names_are_escaped)
{
	char	*e = lep_url_escape("iris/r1/model.tar.gz");

	ck_assert_str_eq(e, "iris%2Fr1%2Fmodel.tar.gz");
	free(e);
	e = lep_url_escape("a b&c=d~_-.");
	ck_assert_str_eq(e, "a%20b%26c%3Dd~_-.");
	free(e);
}
END_TEST

Suite *
suite_gcp(void)
{
	Suite	*s = suite_create("gcp");
	TCase	*tc = tcase_create("gcp");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_gcp_rs256_matches_rfc7515_a2, 0,
	    LEP_ARRAY_SIZE(a2_keys));
	tcase_add_test(tc, test_gcp_jwt_bearer_matches_derived_vector);
	tcase_add_test(tc, test_gcp_rs256_refuses_what_is_not_an_rsa_key);
	tcase_add_loop_test(tc, test_gcp_b64url_is_unpadded_rfc4648, 0,
	    LEP_ARRAY_SIZE(b64));
	tcase_add_loop_test(tc, test_gcp_credentials_file_kinds, 0,
	    LEP_ARRAY_SIZE(files));
	tcase_add_loop_test(tc, test_gcp_plain_http_only_on_loopback, 0,
	    LEP_ARRAY_SIZE(uris));
	tcase_add_test(tc, test_gcp_no_credentials_anywhere);
	tcase_add_loop_test(tc, test_gcp_accelerator_names, 0,
	    LEP_ARRAY_SIZE(accels));
	tcase_add_test(tc, test_gcp_gs_split);
	tcase_add_test(tc, test_gcp_object_names_are_escaped);
	suite_add_tcase(s, tc);
	return s;
}
