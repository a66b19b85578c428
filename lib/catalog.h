/*
 * catalog.h: price catalogs in SkyPilot's CSV layout, read into offers:
 * one machine (and its accelerators) in one region or zone at one price.
 */
#ifndef LEPTON_LIB_CATALOG_H
#define LEPTON_LIB_CATALOG_H

#include <stddef.h>
#include <stdint.h>

struct lep_err;

/* Strings are borrowed from the catalog that holds the offer. */
struct lep_offer {
	const char	*provider;
	const char	*instance;
	const char	*acc_name;	/* "" when none */
	int		 acc_count;	/* 0 when none */
	double		 vcpus;		/* -1 when unknown */
	double		 mem;		/* GiB, -1 when unknown */
	int64_t		 price;		/* micro-USD per hour, -1: none */
	int64_t		 spot;		/* micro-USD per hour, -1: none */
	const char	*region;
	const char	*zone;		/* "" when none */
	int		 elastic;	/* vcpus/mem are a capacity to share
					   (this machine, a cluster), not a
					   fixed machine size */
};

struct lep_catalog {
	char			*provider;
	char			*path;		/* where it was read, or NULL */
	char			*buf;		/* the file, fields in place */
	struct lep_offer	*offers;
	size_t			 n, alloc;
	size_t			 rows;		/* data rows in the file */
	char			**owned;	/* strings of added offers */
	size_t			 nowned;
};

/*
 * Where PROVIDER's catalog is: HOME/catalog/ (written by catalog update),
 * else the installed share/lepton/catalog, else catalog/ beside the
 * binary. Caller frees; NULL when there is none.
 */
char	*lep_catalog_path(const char *home, const char *provider);

/* Keep only offers with accelerators (a GPU spec needs no others). */
#define LEP_CATALOG_ACCELERATED	0x1
/*
 * The file lists accelerators apart from the hosts that take them (GCP's
 * layout): pair each with its host types (the provider table says so).
 */
#define LEP_CATALOG_PAIR_HOSTS	0x2

/* Errors: NOT_FOUND, FAILED ("FILE:LINE: ..." for bad content). */
const struct lep_err *lep_catalog_load(struct lep_catalog **out,
	    const char *provider, const char *path, int flags);
/*
 * Parse text (len bytes, followed by one writable byte) that the catalog
 * takes over (freed with it). name is used in messages.
 */
const struct lep_err *lep_catalog_parse(struct lep_catalog **out,
	    const char *provider, const char *name, char *text, size_t len,
	    int flags);
/* An empty catalog, for offers made up from configuration. */
struct lep_catalog *lep_catalog_new(const char *provider);
/* Copy an offer in (its strings too). */
void	 lep_catalog_add(struct lep_catalog *, const struct lep_offer *);
void	 lep_catalog_free(struct lep_catalog *);

/*
 * One accelerator across catalogs: the counts it comes in and, per
 * catalog, the cheapest on-demand price of one accelerator-hour.
 */
struct lep_accel_row {
	const char		 *name;		/* borrowed from a catalog */
	int			 *counts;	/* ascending */
	int			  ncounts;
	int64_t			 *best;		/* per catalog, micro-USD;
						   -1: none */
	const struct lep_offer	**where;	/* per catalog: at best */
};

/*
 * Every accelerator offered at a price in cats[0..ncat), sorted by name
 * (without case). *out borrows from cats; free with
 * lep_catalog_accels_free.
 */
void	 lep_catalog_accels(struct lep_accel_row **out, size_t *n_out,
	    struct lep_catalog *const *cats, size_t ncat);
void	 lep_catalog_accels_free(struct lep_accel_row *, size_t);

/*
 * Accelerator names as the catalogs spell them, compared without case and
 * through aliases ("a100-40gb" is "A100", "nvidia-h100-80gb" is "H100").
 */
int	 lep_accel_match(const char *want, const char *have);

#endif
