/*
 * spec.h: the strict YAML spec (kind: service | job) and its normalised
 * JSON form. Only yaml.c includes libyaml.
 */
#ifndef LEPTON_LIB_SPEC_H
#define LEPTON_LIB_SPEC_H

#include <stddef.h>

struct lep_err;
struct lep_json;

/* Bounds every spec must respect; documented in lepton-spec(5). */
#define LEP_SPEC_MAX_FILE	(1024 * 1024)	/* bytes in the file */
#define LEP_SPEC_MAX_SCALAR	(64 * 1024)	/* bytes in one scalar */
#define LEP_SPEC_MAX_ALIASES	16		/* alias uses per file */
#define LEP_SPEC_MAX_NODES	10000		/* nodes after aliases */
#define LEP_SPEC_MAX_DEPTH	32		/* nesting */
#define LEP_SPEC_MAX_REPLICAS	64

enum lep_spec_kind {
	LEP_SPEC_SERVICE,
	LEP_SPEC_JOB,
};

struct lep_accel {
	char	*name;
	int	 count;
};

struct lep_kv {
	char	*key;
	char	*value;
};

struct lep_spec_pos {
	int	 line;
	int	 col;
};

struct lep_spec {
	char			*file;		/* as given */
	char			*dir;		/* absolute directory of file */
	enum lep_spec_kind	 kind;
	char			*name;

	int			 has_model;
	struct {
		char	*name;
		char	*path;		/* one of path, version, alias */
		char	*version;
		char	*alias;
	} model;

	int			 has_resources;
	struct {
		struct lep_accel	*accels;
		size_t			 naccels;
		int			 accel_any;	/* a set: any, cheapest */
		struct lep_spec_pos	 accel_pos;
		int			 has_cpus, cpus_plus;
		double			 cpus;
		int			 has_memory, memory_plus;
		double			 memory;	/* GiB */
		int			 spot;
	} resources;

	int			 has_placement;
	struct {
		char			**providers;
		size_t			  nproviders;
		struct lep_spec_pos	  providers_pos;
		char			**regions;
		size_t			  nregions;
		char			**zones;
		size_t			  nzones;
		int			  has_max_hourly;
		double			  max_hourly;
		char			 *partition;	/* slurm */
		char			 *account;	/* slurm */
	} placement;

	/* image: a reference or a build; all NULL without one. */
	struct {
		char			*ref;
		char			*build;		/* as written */
		char			*build_dir;	/* absolute */
		char			*dockerfile;	/* in build; NULL:
							   Dockerfile */
		struct lep_spec_pos	 pos;
	} image;

	char			*setup;		/* NULL when absent */
	char			*run;		/* NULL only with an image:
						   its own command */
	struct lep_kv		*env;
	size_t			 nenv;
	char			**secrets;
	size_t			 nsecrets;

	struct {
		int		 port;		/* 0: auto */
		char		*path;		/* POST path for predict */
		char		*ready_path;
		long long	 ready_timeout;	/* seconds */
		int		 replicas_min;
		int		 replicas_max;
		int		 has_target_qps;
		double		 target_qps;
		char		*strategy;	/* replace | canary */
		int		 canary_percent;
		long long	 bake;		/* seconds */
		int		 has_abort_error_rate, has_abort_p99;
		double		 abort_error_rate;
		double		 abort_p99_ms;
		char		*protocol;	/* json | kserve-v2 | openai */
		int		 has_max_cost;
		double		 max_cost;	/* USD per month (LEP_HOURS_PER_MONTH) */
	} service;

	struct {
		int		 nodes;
		int		 max_restarts;
		char		*output_model;
		int		 has_max_cost;
		double		 max_cost;
		long long	 max_duration;	/* seconds, 0: none */
	} job;
};

/*
 * Load and check a spec file. Errors: LEP_E_SPEC ("FILE:LINE:COL: ..."),
 * LEP_E_NOT_FOUND (no such file). *out: caller frees with lep_spec_free.
 */
const struct lep_err *lep_spec_load(struct lep_spec **out, const char *path);
/* The same from memory; name is used in messages, dir for relative paths. */
const struct lep_err *lep_spec_parse(struct lep_spec **out, const char *name,
	    const char *dir, const char *text, size_t len);
/*
 * A spec lepton saved (lep_spec_to_json) at path, named again as the
 * user's file (name, or path when NULL) with its directory (dir, or "/"),
 * so that records and lineage say so. Errors: as lep_spec_parse, and
 * NOT_FOUND.
 */
const struct lep_err *lep_spec_load_saved(struct lep_spec **out,
	    const char *path, const char *name, const char *dir);
void	 lep_spec_free(struct lep_spec *);

/* The normalised spec: defaults filled in; itself a valid spec. */
struct lep_json *lep_spec_to_json(const struct lep_spec *);

/*
 * The provider names placement.providers may hold (and did-you-mean
 * offers), borrowed for good: the provider table's, handed over once at
 * start by lep_provider_init (the table sits in a layer above this one).
 */
void	 lep_spec_set_providers(const char *const *names, size_t n);

#endif
