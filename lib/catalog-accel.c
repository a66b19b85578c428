/*
 * catalog-accel.c: `lepton catalog`: every accelerator the catalogs offer,
 * in which counts, and per catalog its cheapest on-demand hour.
 */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

static struct lep_accel_row *
find_row(struct lep_accel_row **rows, size_t *n, const char *name,
    size_t ncat)
{
	struct lep_accel_row	*r;
	size_t			 i;

	for (i = 0; i < *n; i++)
		if (strcasecmp((*rows)[i].name, name) == 0)
			return &(*rows)[i];
	*rows = xreallocarray(*rows, *n + 1, sizeof(**rows));
	r = &(*rows)[(*n)++];
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->best = xreallocarray(NULL, ncat, sizeof(*r->best));
	r->where = xcalloc(ncat, sizeof(*r->where));
	for (i = 0; i < ncat; i++)
		r->best[i] = -1;
	return r;
}

static void
add_count(struct lep_accel_row *r, int count)
{
	int	 c;

	for (c = 0; c < r->ncounts; c++)
		if (r->counts[c] == count)
			return;
	r->counts = xreallocarray(r->counts, (size_t)r->ncounts + 1,
	    sizeof(*r->counts));
	r->counts[r->ncounts++] = count;
}

static int
cmp_row(const void *a, const void *b)
{
	return strcasecmp(((const struct lep_accel_row *)a)->name,
	    ((const struct lep_accel_row *)b)->name);
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void
lep_catalog_accels(struct lep_accel_row **out, size_t *n_out,
    struct lep_catalog *const *cats, size_t ncat)
{
	struct lep_accel_row	*rows = NULL, *r;
	const struct lep_offer	*o;
	size_t			 n = 0, i, k, p;
	int64_t			 per;

	for (p = 0; p < ncat; p++) {
		for (k = 0; k < cats[p]->n; k++) {
			o = &cats[p]->offers[k];
			if (o->acc_count <= 0 || o->price < 0)
				continue;
			r = find_row(&rows, &n, o->acc_name, ncat);
			add_count(r, o->acc_count);
			per = o->price / o->acc_count;
			if (r->best[p] < 0 || per < r->best[p]) {
				r->best[p] = per;
				r->where[p] = o;
			}
		}
	}
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_row);
	for (i = 0; i < n; i++)
		qsort(rows[i].counts, (size_t)rows[i].ncounts, sizeof(int),
		    cmp_int);
	*out = rows;
	*n_out = n;
}

void
lep_catalog_accels_free(struct lep_accel_row *rows, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(rows[i].counts);
		free(rows[i].best);
		free(rows[i].where);
	}
	free(rows);
}
