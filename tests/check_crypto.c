/*
 * check_crypto.c: AES-256-GCM and HMAC-SHA256 through the lazily loaded
 * libcrypto: known answers, a round trip, and every change the tag must
 * catch.
 */
#include <stdlib.h>
#include <string.h>

#include "check_lepton.h"
#include "../lib/crypto.h"
#include "../lib/error.h"

/* The GCM specification's test case 14: zero key, nonce and block. */
START_TEST(test_aead_known_answer)
{
	static const unsigned char	 want_ct[16] = {
		0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e,
		0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d, 0x18,
	};
	static const unsigned char	 want_tag[16] = {
		0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0,
		0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a, 0xb9, 0x19,
	};
	unsigned char	 key[LEP_AEAD_KEY] = { 0 };
	unsigned char	 nonce[LEP_AEAD_NONCE] = { 0 };
	unsigned char	 pt[16] = { 0 }, ct[16], tag[LEP_AEAD_TAG];

	ck_assert_ptr_null(lep_aead_seal(ct, tag, key, nonce, NULL, 0, pt,
	    sizeof(pt)));
	ck_assert_mem_eq(ct, want_ct, sizeof(ct));
	ck_assert_mem_eq(tag, want_tag, sizeof(tag));
}
END_TEST

START_TEST(test_aead_round_trip_with_aad)
{
	const char	*msg = "hf_0123456789abcdef", *aad = "HF_TOKEN";
	unsigned char	 key[LEP_AEAD_KEY], nonce[LEP_AEAD_NONCE];
	unsigned char	 ct[64], pt[64], tag[LEP_AEAD_TAG];
	size_t		 n = strlen(msg);

	ck_assert_ptr_null(lep_random_bytes(key, sizeof(key)));
	ck_assert_ptr_null(lep_random_bytes(nonce, sizeof(nonce)));
	ck_assert_ptr_null(lep_aead_seal(ct, tag, key, nonce, aad,
	    strlen(aad), msg, n));
	ck_assert(memcmp(ct, msg, n) != 0);
	ck_assert_ptr_null(lep_aead_open(pt, key, nonce, aad, strlen(aad), ct,
	    n, tag));
	ck_assert_mem_eq(pt, msg, n);
}
END_TEST

/*
 * RFC 4231's test cases 2 (a short key) and 6 (a key longer than the
 * block, hashed first), the second written over its own key as SigV4's
 * key chain does.
 */
START_TEST(test_hmac_sha256_known_answers)
{
	static const unsigned char	 want2[LEP_HMAC_SHA256] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e,
		0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
		0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
		0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	static const unsigned char	 want6[LEP_HMAC_SHA256] = {
		0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f,
		0x0d, 0x8a, 0x26, 0xaa, 0xcb, 0xf5, 0xb7, 0x7f,
		0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28, 0xc5, 0x14,
		0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3, 0x7f, 0x54,
	};
	const char	*msg6 = "Test Using Larger Than Block-Size Key - "
			    "Hash Key First";
	unsigned char	 mac[LEP_HMAC_SHA256], key[131];

	ck_assert_ptr_null(lep_hmac_sha256(mac, "Jefe", 4,
	    "what do ya want for nothing?", 28));
	ck_assert_mem_eq(mac, want2, sizeof(mac));
	memset(key, 0xaa, sizeof(key));
	ck_assert_ptr_null(lep_hmac_sha256(key, key, sizeof(key), msg6,
	    strlen(msg6)));
	ck_assert_mem_eq(key, want6, sizeof(want6));
}
END_TEST

/* What a case changes after sealing; every one must fail the tag. */
enum change { CT, TAG, AAD, KEY, NONCE };

static const struct {
	enum change	 what;
	const char	*name;
} changes[] = {
	{ CT, "a ciphertext byte" },
	{ TAG, "a tag byte" },
	{ AAD, "the associated data (another name)" },
	{ KEY, "the key" },
	{ NONCE, "the nonce" },
};

START_TEST(test_aead_open_refuses_any_change)
{
	const struct lep_err	*err;
	const char		*msg = "s3cr3t-value", *aad = "MY_SECRET";
	const char		*other = "MY_SECRE7";
	unsigned char		 key[LEP_AEAD_KEY], nonce[LEP_AEAD_NONCE];
	unsigned char		 ct[32], pt[32], tag[LEP_AEAD_TAG];
	size_t			 n = strlen(msg);

	ck_assert_ptr_null(lep_random_bytes(key, sizeof(key)));
	ck_assert_ptr_null(lep_random_bytes(nonce, sizeof(nonce)));
	ck_assert_ptr_null(lep_aead_seal(ct, tag, key, nonce, aad,
	    strlen(aad), msg, n));
	switch (changes[_i].what) {
	case CT:
		ct[3] ^= 0x01;
		break;
	case TAG:
		tag[15] ^= 0x80;
		break;
	case AAD:
		aad = other;
		break;
	case KEY:
		key[0] ^= 0x01;
		break;
	case NONCE:
		nonce[11] ^= 0x01;
		break;
	}
	memset(pt, 'x', sizeof(pt));
	err = lep_aead_open(pt, key, nonce, aad, strlen(aad), ct, n, tag);
	ck_assert_msg(err != NULL, "changing %s went unnoticed",
	    changes[_i].name);
	ck_assert_int_eq(err->code, LEP_E_AUTH);
	ck_assert_ptr_null(memmem(pt, sizeof(pt), msg, n));
}
END_TEST

Suite *
suite_crypto(void)
{
	Suite	*s = suite_create("crypto");
	TCase	*tc = tcase_create("crypto");

	tcase_add_test(tc, test_aead_known_answer);
	tcase_add_test(tc, test_aead_round_trip_with_aad);
	tcase_add_test(tc, test_hmac_sha256_known_answers);
	tcase_add_loop_test(tc, test_aead_open_refuses_any_change, 0,
	    (int)(sizeof(changes) / sizeof(changes[0])));
	suite_add_tcase(s, tc);
	return s;
}
