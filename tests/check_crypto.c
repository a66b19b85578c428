/*
 * check_crypto.c: AES-256-GCM through the lazily loaded libcrypto: a
 * known answer, a round trip, and every change the tag must catch.
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
	tcase_add_loop_test(tc, test_aead_open_refuses_any_change, 0,
	    (int)(sizeof(changes) / sizeof(changes[0])));
	suite_add_tcase(s, tc);
	return s;
}
