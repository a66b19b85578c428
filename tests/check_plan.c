/*
 * check_plan.c: feasibility, ranking, ordered vs any-of, the reason when
 * nothing fits (on a small catalog written here), and the ledger's
 * arithmetic.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_lepton.h"
#include "../lib/catalog.h"
#include "../lib/error.h"
#include "../lib/ledger.h"
#include "../lib/money.h"
#include "../lib/plan.h"
#include "../lib/spec.h"
#include "../lib/util.h"

static const char catalog_text[] =
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,"
    "GpuInfo,Price,SpotPrice,Region,AvailabilityZone\n"
    "cpu.small,,,2.0,8.0,,0.10,0.03,r-east,e1\n"
    "cpu.large,,,8.0,32.0,,0.40,,r-east,e1\n"
    "a100.1,A100,1.0,12.0,85.0,,3.00,1.20,r-east,e1\n"
    "a100.1,A100,1.0,12.0,85.0,,3.00,1.10,r-east,e2\n"
    "a100.1,A100,1.0,12.0,85.0,,2.80,,r-west,w1\n"
    "h100.1,H100,1.0,26.0,200.0,,5.00,2.00,r-east,e1\n"
    "l4.1,L4,1.0,8.0,32.0,,0.90,0.30,r-west,w1\n"
    "a100.8,A100,8.0,96.0,680.0,,24.00,9.00,r-east,e1\n";

static struct lep_catalog *cat;

static void
setup(void)
{
	ck_assert_ptr_null(lep_catalog_parse(&cat, "aws", "test.csv",
	    xstrdup(catalog_text), strlen(catalog_text), 0));
}

static void
teardown(void)
{
	lep_catalog_free(cat);
}

static struct lep_plan *
plan(const char *resources_and_more)
{
	struct lep_plan_opts	 opts;
	struct lep_plan		*pl;
	struct lep_spec		*sp;
	char			*text;

	text = xasprintf("kind: job\nname: t\nrun: x\n%s", resources_and_more);
	ck_assert_ptr_null(lep_spec_parse(&sp, "t.yaml", "/", text,
	    strlen(text)));
	memset(&opts, 0, sizeof(opts));
	opts.catalogs = &cat;
	opts.ncatalogs = 1;
	ck_assert_ptr_null(lep_plan_new(&pl, sp, &opts));
	lep_spec_free(sp);
	free(text);
	return pl;
}

static void
expect_choice(const struct lep_plan *pl, size_t i, const char *instance,
    const char *region, int64_t hourly)
{
	ck_assert_msg(i < pl->n, "only %zu choices: %s", pl->n, pl->why);
	ck_assert_str_eq(pl->choices[i].offer->instance, instance);
	ck_assert_str_eq(pl->choices[i].offer->region, region);
	ck_assert_int_eq(pl->choices[i].hourly, hourly);
}

START_TEST(test_plan_cheapest_first_one_per_region)
{
	struct lep_plan	*pl = plan("resources: {accelerators: A100:1}\n");

	/* Two zones of r-east collapse to one line. */
	ck_assert_uint_eq(pl->n, 2);
	expect_choice(pl, 0, "a100.1", "r-west", 2800000);
	expect_choice(pl, 1, "a100.1", "r-east", 3000000);
	lep_plan_free(pl);
}
END_TEST

START_TEST(test_plan_spot_needs_a_spot_price)
{
	struct lep_plan	*pl = plan("resources: {accelerators: A100:1, "
	    "spot: true}\n");

	ck_assert_uint_eq(pl->n, 1);		/* r-west has no spot */
	expect_choice(pl, 0, "a100.1", "r-east", 1100000);	/* zone e2 */
	ck_assert_str_eq(pl->choices[0].offer->zone, "e2");
	lep_plan_free(pl);
}
END_TEST

START_TEST(test_plan_ordered_list_ranks_by_preference)
{
	struct lep_plan	*pl = plan("resources: {accelerators: [H100:1, "
	    "L4:1]}\n");

	expect_choice(pl, 0, "h100.1", "r-east", 5000000);	/* first */
	expect_choice(pl, 1, "l4.1", "r-west", 900000);
	lep_plan_free(pl);
	pl = plan("resources: {accelerators: {H100:1, L4:1}}\n");
	expect_choice(pl, 0, "l4.1", "r-west", 900000);		/* cheapest */
	lep_plan_free(pl);
}
END_TEST

START_TEST(test_plan_cpus_exact_or_at_least)
{
	struct lep_plan	*pl;

	pl = plan("resources: {cpus: 8}\n");
	ck_assert_uint_eq(pl->n, 1);
	expect_choice(pl, 0, "cpu.large", "r-east", 400000);
	lep_plan_free(pl);
	pl = plan("resources: {cpus: 2+}\n");
	ck_assert_uint_eq(pl->n, 2);	/* GPU machines are not CPU offers */
	expect_choice(pl, 0, "cpu.small", "r-east", 100000);
	lep_plan_free(pl);
}
END_TEST

START_TEST(test_plan_nodes_and_regions)
{
	struct lep_plan	*pl = plan("resources: {accelerators: A100:8}\n"
	    "job: {nodes: 3}\n");

	ck_assert_int_eq(pl->machines, 3);
	expect_choice(pl, 0, "a100.8", "r-east", 24000000);
	lep_plan_free(pl);
	pl = plan("resources: {accelerators: A100:1}\n"
	    "placement: {regions: [r-east]}\n");
	ck_assert_uint_eq(pl->n, 1);
	expect_choice(pl, 0, "a100.1", "r-east", 3000000);
	lep_plan_free(pl);
}
END_TEST

static const struct {
	const char	*spec;
	const char	*why;
	const char	*nearest;	/* NULL: none shown */
} infeasible[] = {
	{ "resources: {accelerators: X100:1}\n",
	    "no offer in aws has X100:1 by name", NULL },
	{ "resources: {accelerators: A100:2}\n",
	    "no offer in aws has A100:2: not in that count", "a100.1" },
	{ "resources: {accelerators: L4:1}\nplacement: {regions: [r-east]}\n",
	    "no offer of L4:1 is in r-east", "l4.1" },
	{ "resources: {accelerators: A100:1, cpus: 64+}\n",
	    "no offer of A100:1 there has cpus 64+", "a100.1" },
	{ "resources: {accelerators: A100:1, memory: 2}\n",
	    "no offer of A100:1 there has memory 2 GiB", "a100.1" },
	{ "resources: {cpus: 8, spot: true}\n",
	    "no offer that fits has a spot price", "cpu.large" },
};

START_TEST(test_plan_says_why_nothing_fits)
{
	struct lep_plan	*pl = plan(infeasible[_i].spec);

	ck_assert_uint_eq(pl->n, 0);
	ck_assert_msg(strstr(pl->why, infeasible[_i].why) != NULL,
	    "want '%s', got '%s'", infeasible[_i].why, pl->why);
	if (infeasible[_i].nearest == NULL)
		ck_assert_uint_eq(pl->nnearest, 0);
	else {
		ck_assert_uint_gt(pl->nnearest, 0);
		ck_assert_str_eq(pl->nearest[0].offer->instance,
		    infeasible[_i].nearest);
	}
	lep_plan_free(pl);
}
END_TEST

/* --- the ledger ------------------------------------------------------ */

static struct lep_segment
seg(const char *what, const char *provider, int64_t price, int machines,
    int64_t start, int64_t end)
{
	struct lep_segment	 s;

	memset(&s, 0, sizeof(s));
	s.what = (char *)what;
	s.model = (char *)"";
	s.provider = (char *)provider;
	s.price = price;
	s.machines = machines;
	s.start_ms = start;
	s.end_ms = end;
	return s;
}

START_TEST(test_ledger_overlapping_segments_exact)
{
	/* $1.000001/h x 3 for 1 h and $0.333333/h for 2 h, overlapping. */
	struct lep_segment	 s[3];
	struct lep_spend	*sp;
	size_t			 n;
	int64_t			 total;

	s[0] = seg("a", "aws", 1000001, 3, 0, 3600000);
	s[1] = seg("b", "gcp", 333333, 1, 1800000, 9000000);
	s[2] = seg("a", "aws", 1000001, 1, 3600000, 0);	/* still running */
	ck_assert_ptr_null(lep_ledger_spend(&sp, &n, &total, s, 3, 0,
	    7200000, "deployment"));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(sp[0].key, "a");
	/* 3 x 1.000001 + 1 x 1.000001 (to now, 2 h) */
	ck_assert_int_eq(sp[0].micro, 4000004);
	ck_assert_str_eq(sp[1].key, "b");
	/* 0.333333 x 1.5 h = 0.4999995 -> 0.500000 (half up) */
	ck_assert_int_eq(sp[1].micro, 500000);
	/* 4.000004 + 0.4999995 = 4.5000035 -> 4.500004, rounded once */
	ck_assert_int_eq(total, 4500004);
	lep_spend_free(sp, n);
	/* --since clips: from 1 h on, only a's second segment and b. */
	ck_assert_ptr_null(lep_ledger_spend(&sp, &n, &total, s, 3, 3600000,
	    7200000, NULL));
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(total, 1000001 + 333333);
	lep_spend_free(sp, n);
}
END_TEST

START_TEST(test_ledger_days_split_at_midnight)
{
	struct lep_segment	 s[1];
	struct lep_spend	*sp;
	size_t			 n;
	int64_t			 total, day = 86400000;

	/* 23:00 to 02:00 at $1/h: 1 h on day one, 2 h on day two. */
	s[0] = seg("a", "local", 1000000, 1, day - 3600000, day + 7200000);
	ck_assert_ptr_null(lep_ledger_spend(&sp, &n, &total, s, 1, 0,
	    3 * day, "day"));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(sp[0].key, "1970-01-01");
	ck_assert_int_eq(sp[0].micro, 1000000);
	ck_assert_str_eq(sp[1].key, "1970-01-02");
	ck_assert_int_eq(sp[1].micro, 2000000);
	ck_assert_int_eq(total, 3000000);
	lep_spend_free(sp, n);
	ck_assert_ptr_nonnull(lep_ledger_spend(&sp, &n, &total, s, 1, 0,
	    day, "week"));
}
END_TEST

START_TEST(test_ledger_record_read_and_torn_line)
{
	struct lep_segment	 s, *v;
	char			*home, *path;
	size_t			 n;
	int			 fd;

	home = xasprintf("%s/ledger-home", test_sandbox());
	s = seg("iris", "local", 2500000, 2, 0, 0);
	s.kind = (char *)"service";
	s.region = (char *)"local";
	s.instance = (char *)"this-machine";
	s.revision = 1;
	ck_assert_ptr_null(lep_ledger_record(home, "iris", &s, 1000));
	/* A crash mid-append leaves half a line. */
	path = xasprintf("%s/ledger.jsonl", home);
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, "{\"op\":\"cl", 9), 9);
	close(fd);
	ck_assert_ptr_null(lep_ledger_record(home, "iris", NULL, 5000));
	ck_assert_ptr_null(lep_ledger_read(&v, &n, home));
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].what, "iris");
	ck_assert_int_eq(v[0].price, 2500000);
	ck_assert_int_eq(v[0].machines, 2);
	ck_assert_int_eq(v[0].start_ms, 1000);
	ck_assert_int_eq(v[0].end_ms, 5000);
	lep_segments_free(v, n);
	free(path);
	free(home);
}
END_TEST

Suite *
suite_plan(void)
{
	Suite	*s = suite_create("plan");
	TCase	*tc = tcase_create("plan");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plan_cheapest_first_one_per_region);
	tcase_add_test(tc, test_plan_spot_needs_a_spot_price);
	tcase_add_test(tc, test_plan_ordered_list_ranks_by_preference);
	tcase_add_test(tc, test_plan_cpus_exact_or_at_least);
	tcase_add_test(tc, test_plan_nodes_and_regions);
	tcase_add_loop_test(tc, test_plan_says_why_nothing_fits, 0,
	    LEP_ARRAY_SIZE(infeasible));
	tcase_add_test(tc, test_ledger_overlapping_segments_exact);
	tcase_add_test(tc, test_ledger_days_split_at_midnight);
	tcase_add_test(tc, test_ledger_record_read_and_torn_line);
	suite_add_tcase(s, tc);
	return s;
}
