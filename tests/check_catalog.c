/*
 * check_catalog.c: the CSV reader, money, accelerator names, catalogs
 * (Lambda's file with its CRLF and dict-like GpuInfo, GCP's pairing of
 * accelerators with hosts), and the golden plans of tests/fixtures/plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_lepton.h"
#include "../lib/catalog.h"
#include "../lib/csv.h"
#include "../lib/error.h"
#include "../lib/money.h"
#include "../lib/plan.h"
#include "../lib/spec.h"
#include "../lib/util.h"

START_TEST(test_csv_quotes_crlf_and_empty_fields)
{
	char		 text[] = "a,\"b,\"\"c\"\"\",,d\r\n\"x\ny\",2\n";
	struct lep_csv	 c;
	char		*f[LEP_CSV_MAX_FIELDS];

	lep_csv_init(&c, text, sizeof(text) - 1);
	ck_assert_int_eq(lep_csv_row(&c, f), 4);
	ck_assert(!c.bad);
	ck_assert_str_eq(f[0], "a");
	ck_assert_str_eq(f[1], "b,\"c\"");
	ck_assert_str_eq(f[2], "");
	ck_assert_str_eq(f[3], "d");		/* no \r */
	ck_assert_int_eq(lep_csv_row(&c, f), 2);
	ck_assert_str_eq(f[0], "x\ny");
	ck_assert_str_eq(f[1], "2");
	ck_assert_int_eq(lep_csv_row(&c, f), -1);
}
END_TEST

START_TEST(test_csv_flags_cut_and_unclosed_rows)
{
	char		 cut[] = "a,b\n1,2";
	char		 open[] = "a,\"b\n";
	struct lep_csv	 c;
	char		*f[LEP_CSV_MAX_FIELDS];

	lep_csv_init(&c, cut, sizeof(cut) - 1);
	ck_assert_int_eq(lep_csv_row(&c, f), 2);
	ck_assert(!c.bad);
	ck_assert_int_eq(lep_csv_row(&c, f), 2);
	ck_assert(c.bad);			/* no final newline */
	lep_csv_init(&c, open, sizeof(open) - 1);
	lep_csv_row(&c, f);
	ck_assert(c.bad);
}
END_TEST

START_TEST(test_money_is_exact)
{
	int64_t	 v;
	char	 buf[32];

	ck_assert_int_eq(lep_money_parse(&v, "23.47126"), 0);
	ck_assert_int_eq(v, 23471260);
	ck_assert_int_eq(lep_money_parse(&v, "0.256800"), 0);
	ck_assert_int_eq(v, 256800);
	ck_assert_int_eq(lep_money_parse(&v, "1.0000005"), 0);
	ck_assert_int_eq(v, 1000001);		/* half up */
	ck_assert_int_eq(lep_money_parse(&v, "12"), 0);
	ck_assert_int_eq(v, 12000000);
	ck_assert_int_eq(lep_money_parse(&v, ""), -1);
	ck_assert_int_eq(lep_money_parse(&v, "-1"), -1);
	ck_assert_int_eq(lep_money_parse(&v, "1e3"), -1);
	ck_assert_int_eq(lep_money_parse(&v, "."), -1);
	/*
	 * Found by fuzzing (tests/fuzz/fuzz_catalog.c): the bound was
	 * checked before the last digit, so 14 digits overflowed int64_t;
	 * then two prices at the bound overflowed their sum.
	 */
	ck_assert_int_eq(lep_money_parse(&v, "1000000000.999999"), 0);
	ck_assert(v == 1000000000999999LL);
	ck_assert_int_eq(lep_money_parse(&v, "1000000001"), -1);
	ck_assert_int_eq(lep_money_parse(&v, "77777777777777"), -1);
	ck_assert_str_eq(lep_money_format(buf, sizeof(buf), 3000000), "3.00");
	ck_assert_str_eq(lep_money_format(buf, sizeof(buf), 19421700),
	    "19.4217");
	ck_assert_str_eq(lep_money_format(buf, sizeof(buf), 1), "0.000001");
	/* $3.60/h x 2 for 1.5 s is $0.003 exactly. */
	ck_assert_int_eq(lep_money_for(3600000, 2, 1500), 3000);
	/* $0.000001/h for 1.8 s rounds half up to 0.000001 x 0.0005. */
	ck_assert_int_eq(lep_money_for(1, 1, 1800000), 1);
	ck_assert_int_eq(lep_money_for(1, 1, 1799999), 0);
}
END_TEST

START_TEST(test_accelerator_names_and_aliases)
{
	ck_assert(lep_accel_match("a100", "A100"));
	ck_assert(lep_accel_match("A100-40GB", "A100"));
	ck_assert(lep_accel_match("nvidia-h100-80gb", "H100"));
	ck_assert(lep_accel_match("A100-80GB", "a100-80gb"));
	ck_assert(!lep_accel_match("A100-80GB", "A100"));
	ck_assert(!lep_accel_match("A10", "A10G"));
}
END_TEST

START_TEST(test_lambda_catalog_reads_crlf_and_dict_gpuinfo)
{
	const struct lep_err	*err;
	struct lep_catalog	*c;
	size_t			 i, gpus = 0;

	err = lep_catalog_load(&c, "lambda",
	    "tests/fixtures/catalog/lambda.csv", 0);
	ck_assert_msg(err == NULL, "%s", err ? err->msg : "");
	ck_assert_uint_eq(c->rows, 323);
	for (i = 0; i < c->n; i++) {
		ck_assert_ptr_null(strchr(c->offers[i].region, '\r'));
		ck_assert_int_eq(c->offers[i].spot, -1);	/* no spot */
		ck_assert_int_ge(c->offers[i].price, 0);
		gpus += c->offers[i].acc_count > 0;
	}
	ck_assert_uint_eq(gpus, 306);
	lep_catalog_free(c);
}
END_TEST

static const struct lep_err *
parse_text(struct lep_catalog **c, const char *provider, const char *text,
    int flags)
{
	return lep_catalog_parse(c, provider, "t.csv", xstrdup(text),
	    strlen(text), flags);
}

START_TEST(test_catalog_rejects_bad_files)
{
	static const struct {
		const char	*text, *want;
	} bad[] = {
		{ "InstanceType,Price\nx,1\n", "no 'AcceleratorName' column" },
		{ "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,"
		    "MemoryGiB,GpuInfo,Price,SpotPrice,Region\n"
		    "m5,,,2,8,,0.1,0.05,us-east-1\nm6,,,2,8,,0.1\n",
		    "t.csv:3: 7 fields, the header has 9" },
		{ "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,"
		    "MemoryGiB,GpuInfo,Price,SpotPrice,Region\n"
		    "m5,,,2,8,,cheap,,us-east-1\n",
		    "t.csv:2: Price 'cheap' is not a price" },
		{ "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,"
		    "MemoryGiB,GpuInfo,Price,SpotPrice,Region\n"
		    "m5,,,2,8,,0.1,,us-ea", "t.csv:2: malformed row" },
		{ "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,"
		    "MemoryGiB,GpuInfo,Price,SpotPrice,Region\n", "no rows" },
	};
	const struct lep_err	*err;
	struct lep_catalog	*c;
	size_t			 i;

	for (i = 0; i < LEP_ARRAY_SIZE(bad); i++) {
		err = parse_text(&c, "aws", bad[i].text, 0);
		ck_assert_msg(err != NULL, "case %zu parsed", i);
		ck_assert_msg(strstr(err->msg, bad[i].want) != NULL,
		    "case %zu: %s", i, err->msg);
		ck_assert_ptr_null(c);
	}
}
END_TEST

START_TEST(test_gcp_pairs_accelerators_with_hosts_in_the_zone)
{
	const char *text = "InstanceType,vCPUs,MemoryGiB,AcceleratorName,"
	    "AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice\n"
	    "a2-highgpu-1g,12.0,85.0,,,,r1,r1-a,0.5,0.2\n"
	    "a2-highgpu-2g,24.0,170.0,,,,r1,r1-a,1.0,\n"
	    "n1-standard-4,4.0,15.0,,,,r1,r1-a,0.19,0.04\n"
	    ",,,A100,1,{'Gpus': []},r1,r1-a,2.5,1.0\n"
	    ",,,A100,1,,r2,r2-a,2.0,0.9\n";
	struct lep_catalog	*c;
	size_t			 i, a100 = 0;

	ck_assert_ptr_null(parse_text(&c, "gcp", text, LEP_CATALOG_PAIR_HOSTS));
	for (i = 0; i < c->n; i++) {
		const struct lep_offer	*o = &c->offers[i];

		/* a2 hosts are not machines on their own. */
		ck_assert(!lep_starts_with(o->instance, "a2-") ||
		    o->acc_count > 0);
		if (o->acc_count == 0)
			continue;
		a100++;
		ck_assert_str_eq(o->instance, "a2-highgpu-1g");
		ck_assert_int_eq(o->price, 3000000);	/* 2.5 + 0.5 */
		ck_assert_int_eq(o->spot, 1200000);
		ck_assert(o->vcpus == 12.0);
	}
	ck_assert_uint_eq(a100, 1);	/* r2 has no host: no offer */
	lep_catalog_free(c);
}
END_TEST

/* --- golden plans ---------------------------------------------------- */

#define MAX_PLANS	64
static char	*plans[MAX_PLANS];
static size_t	 nplans;

START_TEST(test_golden_plan)
{
	const char		*path = plans[_i];
	struct lep_plan_opts	 opts;
	struct lep_plan		*pl;
	struct lep_spec		*sp;
	char			*text, *nl, got[256], price[32];
	const struct lep_choice	*c;

	text = test_slurp(path, NULL);
	ck_assert_ptr_nonnull(text);
	if ((nl = strchr(text, '\n')) != NULL)
		*nl = '\0';
	ck_assert(lep_starts_with(text, "# expect: "));
	ck_assert_ptr_null(lep_spec_load(&sp, path));
	memset(&opts, 0, sizeof(opts));
	opts.home = test_sandbox();
	ck_assert_ptr_null(lep_plan_new(&pl, sp, &opts));
	ck_assert_msg(pl->n > 0, "%s: %s", path, pl->why);
	c = &pl->choices[0];
	snprintf(got, sizeof(got), "%s %s %s %s", c->offer->provider,
	    c->offer->instance, c->offer->region,
	    lep_money_format(price, sizeof(price), c->hourly));
	ck_assert_msg(strcmp(got, text + 10) == 0, "%s: want '%s', got '%s'",
	    path, text + 10, got);
	lep_plan_free(pl);
	lep_spec_free(sp);
	free(text);
}
END_TEST

START_TEST(test_golden_plans_are_ten)
{
	ck_assert_uint_ge(nplans, 10);
}
END_TEST

Suite *
suite_catalog(void)
{
	Suite		*s = suite_create("catalog");
	TCase		*tc = tcase_create("catalog");

	if (nplans == 0)
		nplans = test_list(plans, MAX_PLANS, "tests/fixtures/plan",
		    ".yaml");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_csv_quotes_crlf_and_empty_fields);
	tcase_add_test(tc, test_csv_flags_cut_and_unclosed_rows);
	tcase_add_test(tc, test_money_is_exact);
	tcase_add_test(tc, test_accelerator_names_and_aliases);
	tcase_add_test(tc, test_lambda_catalog_reads_crlf_and_dict_gpuinfo);
	tcase_add_test(tc, test_catalog_rejects_bad_files);
	tcase_add_test(tc, test_gcp_pairs_accelerators_with_hosts_in_the_zone);
	tcase_add_test(tc, test_golden_plans_are_ten);
	tcase_add_loop_test(tc, test_golden_plan, 0, (int)nplans);
	suite_add_tcase(s, tc);
	return s;
}
