/*
 * catalog.c: read a catalog CSV by its header's column names, turn each
 * row into an offer, and on GCP pair each accelerator row with the host
 * machines it attaches to in the same zone (GCP prices them apart).
 */
#include "catalog.h"

#include <sys/stat.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "csv.h"
#include "error.h"
#include "fs.h"
#include "money.h"
#include "util.h"

#ifndef LEP_DATADIR
#define LEP_DATADIR "/usr/local/share/lepton"
#endif

#define CATALOG_MAX	(64u * 1024 * 1024)

enum col {
	C_INSTANCE,
	C_ACC_NAME,
	C_ACC_COUNT,
	C_VCPUS,
	C_MEM,
	C_PRICE,
	C_SPOT,
	C_REGION,
	C_ZONE,		/* optional */
	C__COUNT
};

static const char *const col_names[C__COUNT] = {
	"InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs",
	"MemoryGiB", "Price", "SpotPrice", "Region", "AvailabilityZone",
};

static int
file_exists(const char *p)
{
	struct stat	 st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* DIR/catalog/PROVIDER.csv when it exists, else NULL. */
static char *
catalog_in(const char *dir, const char *provider)
{
	char	*p;

	p = xasprintf("%s/catalog/%s.csv", dir, provider);
	if (!file_exists(p)) {
		free(p);
		p = NULL;
	}
	return p;
}

/*
 * The binary's directory is read here, when a catalog is wanted, not at
 * start-up: most commands never need one. /proc/self/exe is already free
 * of symbolic links, so its parent directory is textual.
 */
char *
lep_catalog_path(const char *home, const char *provider)
{
	char	 exe[PATH_MAX], *bin = NULL, *share, *slash, *p = NULL;
	ssize_t	 n;

	if (home != NULL)
		p = catalog_in(home, provider);
	if (p == NULL &&
	    (n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			bin = exe;
		}
	}
	/*
	 * Installed: PREFIX/bin/lepton reads PREFIX/share/lepton, wherever
	 * `make install` put it, whatever PREFIX was when it was built.
	 */
	if (p == NULL && bin != NULL &&
	    (slash = strrchr(bin, '/')) != NULL) {
		share = xasprintf("%.*s/share/lepton", (int)(slash - bin), bin);
		p = catalog_in(share, provider);
		free(share);
	}
	if (p == NULL)
		p = catalog_in(LEP_DATADIR, provider);
	/* Run from the build tree: catalog/ sits beside ./lepton. */
	if (p == NULL && bin != NULL)
		p = catalog_in(bin, provider);
	/* Tests run from build/: one level up. */
	if (p == NULL && bin != NULL) {
		share = xasprintf("%s/..", bin);
		p = catalog_in(share, provider);
		free(share);
	}
	return p;
}

struct lep_catalog *
lep_catalog_new(const char *provider)
{
	struct lep_catalog	*c = xcalloc(1, sizeof(*c));

	c->provider = xstrdup(provider);
	return c;
}

static struct lep_offer *
new_offer(struct lep_catalog *c)
{
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 1024;
		c->offers = xreallocarray(c->offers, c->alloc,
		    sizeof(*c->offers));
	}
	memset(&c->offers[c->n], 0, sizeof(c->offers[0]));
	c->offers[c->n].provider = c->provider;
	return &c->offers[c->n++];
}

static const char *
own(struct lep_catalog *c, const char *s)
{
	/*
	 * Room doubles at each power of two from 16: a driver's 20,000
	 * offers (four strings each) cost 13 reallocations, not 80,000
	 * (each a copy of the whole array under ASan, where lepton cost
	 * took minutes).
	 */
	if (c->nowned == 0 || (c->nowned >= 16 &&
	    (c->nowned & (c->nowned - 1)) == 0))
		c->owned = xreallocarray(c->owned, c->nowned ? c->nowned * 2 :
		    16, sizeof(char *));
	c->owned[c->nowned] = xstrdup(s ? s : "");
	return c->owned[c->nowned++];
}

void
lep_catalog_add(struct lep_catalog *c, const struct lep_offer *o)
{
	struct lep_offer	*n = new_offer(c);

	*n = *o;
	n->provider = c->provider;
	n->instance = own(c, o->instance);
	n->acc_name = own(c, o->acc_name);
	n->region = own(c, o->region);
	n->zone = own(c, o->zone);
}

void
lep_catalog_free(struct lep_catalog *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
	free(c->offers);
	free(c->buf);
	free(c->path);
	free(c->provider);
	free(c);
}

/* A float field: -1 when empty, -2 when not a number. */
static double
num_field(const char *s)
{
	double	 d;

	if (*s == '\0')
		return -1;
	if (lep_parse_double(&d, s) == -1 || d < 0)
		return -2;
	return d;
}

static const struct lep_err *
price_field(int64_t *out, const char *s, const char *name, size_t line,
    const char *col)
{
	if (*s == '\0') {
		*out = -1;
		return NULL;
	}
	if (lep_money_parse(out, s) == -1)
		return lep_err_new(LEP_E_FAILED, "%s:%zu: %s '%s' is not a "
		    "price", name, line, col, s);
	return NULL;
}

/* --- GCP: accelerators priced apart from their host --------------------- */

/* GCP host rows grouped by zone, by a hash of the zone's name. */
struct zone_hosts {
	const char		 *zone;
	struct lep_offer	**hosts;
	size_t			  n;
};

#define ZONE_SLOTS	4096		/* GCP has about 130 zones */

static size_t
zone_hash(const char *s)
{
	size_t	 h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h & (ZONE_SLOTS - 1);
}

static struct zone_hosts *
zone_find(struct zone_hosts *t, const char *zone, int add)
{
	size_t	 h = zone_hash(zone), i;

	for (i = 0; i < ZONE_SLOTS; i++, h = (h + 1) & (ZONE_SLOTS - 1)) {
		if (t[h].zone == NULL) {
			if (!add)
				return NULL;
			t[h].zone = zone;
			return &t[h];
		}
		if (strcmp(t[h].zone, zone) == 0)
			return &t[h];
	}
	return NULL;
}

/*
 * The one host machine type that carries count accelerators acc (A100 x 8:
 * "a2-highgpu-8g"), into want; "" when a family of hosts does (see
 * gcp_host_fits) or none.
 */
static void
gcp_host_for(char *want, size_t len, const char *acc, int count)
{
	want[0] = '\0';
	if (strcasecmp(acc, "A100") == 0)
		snprintf(want, len, count == 16 ? "a2-megagpu-16g" :
		    "a2-highgpu-%dg", count);
	else if (strcasecmp(acc, "A100-80GB") == 0)
		snprintf(want, len, "a2-ultragpu-%dg", count);
	else if (strcasecmp(acc, "H100") == 0)
		snprintf(want, len, "a3-highgpu-%dg", count);
	else if (strcasecmp(acc, "H100-MEGA") == 0 && count == 8)
		lep_strlcpy(want, "a3-megagpu-8g", len);
}

/* Does host machine type h take count accelerators acc (no one host)? */
static int
gcp_host_fits(const char *acc, int count, const char *h)
{
	long		 n;

	if (strcasecmp(acc, "L4") == 0) {
		/* g2-standard-N: 4..32 carry one L4, 24 two, 48 four, 96 8. */
		if (!lep_starts_with(h, "g2-standard-"))
			return 0;
		n = strtol(h + 12, NULL, 10);
		switch (count) {
		case 1:
			return n == 4 || n == 8 || n == 12 || n == 16 ||
			    n == 32;
		case 2:
			return n == 24;
		case 4:
			return n == 48;
		case 8:
			return n == 96;
		}
		return 0;
	}
	if (strcasecmp(acc, "T4") == 0 || strcasecmp(acc, "V100") == 0 ||
	    strcasecmp(acc, "P100") == 0 || strcasecmp(acc, "P4") == 0)
		return lep_starts_with(h, "n1-");
	return 0;
}

/* Host families that exist only to carry their accelerators. */
static int
gcp_gpu_only_host(const char *h)
{
	return lep_starts_with(h, "a2-") || lep_starts_with(h, "a3-") ||
	    lep_starts_with(h, "g2-");
}

static int64_t
add_prices(int64_t a, int64_t b)
{
	return a < 0 || b < 0 ? -1 : a + b;
}

static void
gcp_pair(struct lep_catalog *c, int flags)
{
	struct lep_offer	*rows, *a, *o;
	struct zone_hosts	*zones, *z;
	size_t			 nrows = c->n, i, k;
	char			 want[64];

	rows = c->offers;
	c->offers = NULL;
	c->n = c->alloc = 0;
	zones = xcalloc(ZONE_SLOTS, sizeof(*zones));
	for (i = 0; i < nrows; i++) {
		if (rows[i].instance[0] == '\0' ||
		    (z = zone_find(zones, rows[i].zone, 1)) == NULL)
			continue;
		z->hosts = xreallocarray(z->hosts, z->n + 1,
		    sizeof(*z->hosts));
		z->hosts[z->n++] = &rows[i];
	}
	for (i = 0; i < nrows; i++) {
		a = &rows[i];
		if (a->instance[0] != '\0') {
			if (!gcp_gpu_only_host(a->instance) &&
			    !(flags & LEP_CATALOG_ACCELERATED))
				*new_offer(c) = *a;
			continue;
		}
		if (a->acc_name[0] == '\0')
			continue;
		if (lep_starts_with(a->acc_name, "tpu-")) {
			/* A TPU VM: its own machine. */
			o = new_offer(c);
			*o = *a;
			o->instance = a->acc_name;
			continue;
		}
		if ((z = zone_find(zones, a->zone, 0)) == NULL)
			continue;
		gcp_host_for(want, sizeof(want), a->acc_name, a->acc_count);
		for (k = 0; k < z->n; k++) {
			if (want[0] != '\0' ? strcmp(z->hosts[k]->instance,
			    want) != 0 : !gcp_host_fits(a->acc_name,
			    a->acc_count, z->hosts[k]->instance))
				continue;
			o = new_offer(c);
			*o = *z->hosts[k];
			o->acc_name = a->acc_name;
			o->acc_count = a->acc_count;
			o->price = add_prices(a->price, z->hosts[k]->price);
			o->spot = add_prices(a->spot, z->hosts[k]->spot);
		}
	}
	for (i = 0; i < ZONE_SLOTS; i++)
		free(zones[i].hosts);
	free(zones);
	free(rows);
}

/* Where each column is (idx[C_ZONE] may be -1), from the header row f. */
static const struct lep_err *
map_header(int *idx, char **f, int ncols, const char *name)
{
	const struct lep_err	*err = NULL;
	int			 i, k;

	for (k = 0; k < C__COUNT && err == NULL; k++) {
		idx[k] = -1;
		for (i = 0; i < ncols; i++)
			if (strcmp(f[i], col_names[k]) == 0)
				idx[k] = i;
		if (idx[k] == -1 && k != C_ZONE)
			err = lep_err_new(LEP_E_FAILED, "%s:1: the header has "
			    "no '%s' column", name, col_names[k]);
	}
	return err;
}

/*
 * Is a row worth an offer? With LEP_CATALOG_ACCELERATED one without an
 * accelerator is not, unless GCP prices it as the host of one.
 */
static int
wanted_row(char **f, const int *idx, int flags)
{
	const char	*inst = f[idx[C_INSTANCE]];

	if (!(flags & LEP_CATALOG_ACCELERATED) || f[idx[C_ACC_NAME]][0] != '\0')
		return 1;
	return (flags & LEP_CATALOG_PAIR_HOSTS) &&
	    (gcp_gpu_only_host(inst) || lep_starts_with(inst, "n1-"));
}

/* Fill o from row f, line line of name; its strings stay in f. */
static const struct lep_err *
parse_row(struct lep_offer *o, char **f, const int *idx, const char *name,
    size_t line)
{
	const struct lep_err	*err = NULL;
	double			 d;

	o->instance = f[idx[C_INSTANCE]];
	o->acc_name = f[idx[C_ACC_NAME]];
	o->region = f[idx[C_REGION]];
	o->zone = idx[C_ZONE] >= 0 ? f[idx[C_ZONE]] : "";
	o->vcpus = num_field(f[idx[C_VCPUS]]);
	o->mem = num_field(f[idx[C_MEM]]);
	d = num_field(f[idx[C_ACC_COUNT]]);
	if (o->vcpus == -2 || o->mem == -2 || d == -2 || d > 4096 ||
	    (d >= 0 && d != (double)(int)d)) {
		err = lep_err_new(LEP_E_FAILED, "%s:%zu: vCPUs, MemoryGiB and "
		    "AcceleratorCount must be numbers", name, line);
		goto done;
	}
	o->acc_count = d > 0 ? (int)d : 0;
	if (o->acc_name[0] == '\0')
		o->acc_count = 0;
	if ((err = price_field(&o->price, f[idx[C_PRICE]], name, line,
	    "Price")) != NULL || (err = price_field(&o->spot, f[idx[C_SPOT]],
	    name, line, "SpotPrice")) != NULL)
		goto done;
	if (o->region[0] == '\0')
		err = lep_err_new(LEP_E_FAILED, "%s:%zu: no Region", name,
		    line);
done:
	return err;
}

/* Every row after the header into c's offers; c->rows counts them. */
static const struct lep_err *
parse_rows(struct lep_catalog *c, struct lep_csv *csv, const int *idx,
    int ncols, const char *name, int flags)
{
	const struct lep_err	*err = NULL;
	char			*f[LEP_CSV_MAX_FIELDS];
	int			 nf;

	while (err == NULL && (nf = lep_csv_row(csv, f)) != -1) {
		if (csv->bad) {
			err = lep_err_new(LEP_E_FAILED, "%s:%zu: malformed "
			    "row (an unclosed quote, or a last line cut "
			    "short)", name, csv->line);
			break;
		}
		if (nf == 1 && f[0][0] == '\0')
			continue;	/* a blank line */
		if (nf != ncols) {
			err = lep_err_new(LEP_E_FAILED, "%s:%zu: %d fields, "
			    "the header has %d", name, csv->line, nf, ncols);
			break;
		}
		c->rows++;
		if (wanted_row(f, idx, flags))
			err = parse_row(new_offer(c), f, idx, name, csv->line);
	}
	if (err == NULL && c->rows == 0)
		err = lep_err_new(LEP_E_FAILED, "%s: no rows", name);
	return err;
}

const struct lep_err *
lep_catalog_parse(struct lep_catalog **out, const char *provider,
    const char *name, char *text, size_t len, int flags)
{
	const struct lep_err	*err = NULL;
	struct lep_catalog	*c;
	struct lep_csv		 csv;
	char			*f[LEP_CSV_MAX_FIELDS];
	int			 idx[C__COUNT], ncols;

	*out = NULL;
	c = lep_catalog_new(provider);
	c->buf = text;
	lep_csv_init(&csv, text, len);
	ncols = lep_csv_row(&csv, f);
	if (ncols <= 0 || csv.bad)
		err = lep_err_new(LEP_E_FAILED, "%s: no CSV header", name);
	if (err == NULL)
		err = map_header(idx, f, ncols, name);
	if (err == NULL)
		err = parse_rows(c, &csv, idx, ncols, name, flags);
	if (err != NULL) {
		lep_catalog_free(c);
		goto done;
	}
	if (flags & LEP_CATALOG_PAIR_HOSTS)
		gcp_pair(c, flags);
	*out = c;
done:
	return err;
}

const struct lep_err *
lep_catalog_load(struct lep_catalog **out, const char *provider,
    const char *path, int flags)
{
	const struct lep_err	*err;
	struct lep_buf		 b;
	char			*text;
	size_t			 len;

	*out = NULL;
	if ((err = lep_read_file(&b, path, CATALOG_MAX)) != NULL) {
		lep_buf_release(&b);
		return err;
	}
	text = lep_buf_detach(&b, &len);	/* NUL-terminated: len+1 */
	if ((err = lep_catalog_parse(out, provider, path, text, len,
	    flags)) == NULL)
		(*out)->path = xstrdup(path);
	return err;
}

/* Upper case, no "NVIDIA-"/"NVIDIA " prefix, aliases resolved. */
static void
accel_canon(char *out, size_t len, const char *in)
{
	static const struct {
		const char	*from, *to;
	} aliases[] = {
		{ "A100-40GB", "A100" },
		{ "H100-80GB", "H100" },
		{ "H100-SXM", "H100" },
		{ "H100-SXM5", "H100" },
		{ "V100-16GB", "V100" },
		{ "A10-24GB", "A10" },
		{ "L4-24GB", "L4" },
		{ "T4-16GB", "T4" },
	};
	size_t	 i;

	if (strncasecmp(in, "nvidia-", 7) == 0 ||
	    strncasecmp(in, "nvidia ", 7) == 0)
		in += 7;
	for (i = 0; in[i] != '\0' && i + 1 < len; i++)
		out[i] = (char)toupper((unsigned char)in[i]);
	out[i] = '\0';
	for (i = 0; i < LEP_ARRAY_SIZE(aliases); i++)
		if (strcmp(out, aliases[i].from) == 0) {
			lep_strlcpy(out, aliases[i].to, len);
			break;
		}
}

int
lep_accel_match(const char *want, const char *have)
{
	char	 a[80], b[80];

	accel_canon(a, sizeof(a), want);
	accel_canon(b, sizeof(b), have);
	return strcmp(a, b) == 0;
}
