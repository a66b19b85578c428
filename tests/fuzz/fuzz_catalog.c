/*
 * fuzz_catalog.c: the CSV reader (lib/csv.c) and the price catalog read
 * over it (lib/catalog.c): the first byte picks the provider and flags,
 * the rest is the file.
 */
#include "fuzz.h"

#include "../../lib/catalog.h"
#include "../../lib/csv.h"
#include "../../lib/error.h"

static const char *const providers[] = { "aws", "gcp", "azure", "slurm" };

/* Every field lies inside the buffer, NUL-terminated there. */
static void
csv_pass(const uint8_t *data, size_t size)
{
	char		*buf = xmalloc(size + 1), *f[LEP_CSV_MAX_FIELDS];
	struct lep_csv	 csv;
	size_t		 rows = 0;
	int		 n, i;

	if (size > 0)
		memcpy(buf, data, size);
	buf[size] = 'X';	/* writable, but no terminator to lean on */
	lep_csv_init(&csv, buf, size);
	while ((n = lep_csv_row(&csv, f)) != -1) {
		FUZZ_ASSERT(n >= 1 && n <= LEP_CSV_MAX_FIELDS);
		FUZZ_ASSERT(++rows <= size);
		for (i = 0; i < n; i++) {
			FUZZ_ASSERT(f[i] >= buf && f[i] <= buf + size);
			FUZZ_ASSERT(memchr(f[i], '\0',
			    (size_t)(buf + size + 1 - f[i])) != NULL);
		}
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct lep_err	*err;
	struct lep_catalog	*c = NULL, *copy;
	struct lep_accel_row	*rows = NULL;
	size_t			 nrows = 0, i;
	const char		*provider;
	char			*text;
	int			 flags;

	if (size < 1)
		return 0;
	flags = data[0] & (LEP_CATALOG_ACCELERATED | LEP_CATALOG_PAIR_HOSTS);
	provider = providers[(data[0] >> 2) % 4];
	data++;
	size--;
	csv_pass(data, size);

	text = xmalloc(size + 1);	/* the catalog's from here on */
	if (size > 0)
		memcpy(text, data, size);
	text[size] = 'X';
	err = lep_catalog_parse(&c, provider, "fuzz.csv", text, size, flags);
	if (err != NULL) {
		FUZZ_ASSERT(c == NULL);
		FUZZ_ASSERT(strncmp(err->msg, "fuzz.csv", 8) == 0);
		return 0;
	}
	/* What plan and catalog list do with it. */
	copy = lep_catalog_new(provider);
	for (i = 0; i < c->n; i++) {
		FUZZ_ASSERT(c->offers[i].acc_count >= 0);
		FUZZ_ASSERT(c->offers[i].region != NULL &&
		    c->offers[i].region[0] != '\0');
		lep_catalog_add(copy, &c->offers[i]);
		(void)lep_accel_match(c->offers[i].acc_name,
		    c->offers[0].acc_name);
	}
	{
		struct lep_catalog *const cats[2] = { c, copy };

		lep_catalog_accels(&rows, &nrows, cats, 2);
	}
	for (i = 0; i < nrows; i++)
		FUZZ_ASSERT(rows[i].ncounts > 0);
	lep_catalog_accels_free(rows, nrows);
	lep_catalog_free(copy);
	lep_catalog_free(c);
	return 0;
}
