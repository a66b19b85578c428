/*
 * hdr.c: log-linear buckets as in HdrHistogram: values below 2048 are
 * exact; above, each power of two is split into 1024 buckets.
 */
#include "hdr.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define SUB		2048
#define HALF		1024
#define MAX_US		3600000000ULL	/* an hour */
#define NBUCKETS	(SUB + 22 * HALF)

struct lep_hdr {
	uint64_t	 counts[NBUCKETS];
	uint64_t	 total;
	uint64_t	 min, max;
	long double	 sum;
};

static int
msb(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

static size_t
bucket_of(uint64_t v)
{
	int	 m;

	if (v < SUB)
		return (size_t)v;
	m = msb(v) - 10;		/* v >> m is in [1024, 2048) */
	return SUB + (size_t)(m - 1) * HALF + (size_t)((v >> m) - HALF);
}

/* The highest value that falls in bucket i. */
static uint64_t
bucket_high(size_t i)
{
	size_t	 k;
	int	 m;

	if (i < SUB)
		return i;
	k = i - SUB;
	m = (int)(k / HALF) + 1;
	return ((uint64_t)(k % HALF + HALF + 1) << m) - 1;
}

struct lep_hdr *
lep_hdr_new(void)
{
	struct lep_hdr	*h = xcalloc(1, sizeof(*h));

	h->min = UINT64_MAX;
	return h;
}

void
lep_hdr_free(struct lep_hdr *h)
{
	free(h);
}

void
lep_hdr_record(struct lep_hdr *h, uint64_t us)
{
	uint64_t	 v = us > MAX_US ? MAX_US : us;

	h->counts[bucket_of(v)]++;
	h->total++;
	h->sum += (long double)us;
	if (us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
}

void
lep_hdr_add(struct lep_hdr *into, const struct lep_hdr *h)
{
	size_t	 i;

	for (i = 0; i < NBUCKETS; i++)
		into->counts[i] += h->counts[i];
	into->total += h->total;
	into->sum += h->sum;
	if (h->min < into->min)
		into->min = h->min;
	if (h->max > into->max)
		into->max = h->max;
}

uint64_t
lep_hdr_count(const struct lep_hdr *h)
{
	return h->total;
}

uint64_t
lep_hdr_max(const struct lep_hdr *h)
{
	return h->total ? h->max : 0;
}

uint64_t
lep_hdr_min(const struct lep_hdr *h)
{
	return h->total ? h->min : 0;
}

double
lep_hdr_mean(const struct lep_hdr *h)
{
	return h->total ? (double)(h->sum / (long double)h->total) : 0;
}

uint64_t
lep_hdr_percentile(const struct lep_hdr *h, double p)
{
	uint64_t	 want, seen = 0, v;
	size_t		 i;

	if (h->total == 0)
		return 0;
	if (p >= 100)
		return h->max;
	want = (uint64_t)((p / 100.0) * (double)h->total + 0.999999);
	if (want == 0)
		want = 1;
	for (i = 0; i < NBUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= want) {
			v = bucket_high(i);
			/* Never past what was seen. */
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}
