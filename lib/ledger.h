/*
 * ledger.h: what deployments cost, as segments of time at a price. Every
 * start, update and stop appends to HOME/ledger.jsonl (under the state
 * lock); the report is computed from the segments, exactly.
 */
#ifndef LEPTON_LIB_LEDGER_H
#define LEPTON_LIB_LEDGER_H

#include <stddef.h>
#include <stdint.h>

struct lep_err;
struct lep_out;

struct lep_segment {
	char	*what;		/* the deployment */
	char	*kind;		/* "service" or "job" */
	char	*model;		/* model name, or "" */
	char	*provider;
	char	*region;
	char	*instance;
	int	 revision;
	int	 machines;	/* replicas or nodes */
	int64_t	 price;		/* micro-USD per machine-hour */
	int64_t	 start_ms;	/* epoch milliseconds */
	int64_t	 end_ms;	/* 0 while it runs */
};

struct lep_spend {
	char	*key;
	int64_t	 micro;		/* micro-USD, rounded half up once */
	int64_t	 machine_ms;	/* machine-milliseconds */
};

/* Close what's open segments at at_ms, then open seg (if not NULL). */
const struct lep_err *lep_ledger_record(const char *home, const char *what,
	    const struct lep_segment *seg, int64_t at_ms);
/* Every segment, in the order opened. Free with lep_segments_free. */
const struct lep_err *lep_ledger_read(struct lep_segment **out,
	    size_t *n_out, const char *home);
void	 lep_segments_free(struct lep_segment *, size_t);

/*
 * Spend from since_ms to now_ms, grouped by "deployment", "model",
 * "provider", "day" (UTC), or NULL for one group per segment. Sums are
 * kept as micro-USD x milliseconds / hour in 128 bits and rounded once
 * per group; *total_out likewise over everything. Errors: USAGE (by).
 */
const struct lep_err *lep_ledger_spend(struct lep_spend **out, size_t *n_out,
	    int64_t *total_out, const struct lep_segment *, size_t nseg,
	    int64_t since_ms, int64_t now_ms, const char *by);
void	 lep_spend_free(struct lep_spend *, size_t);

/*
 * `lepton cost report`: the spend from since_ms to now, grouped as
 * lep_ledger_spend does, printed as a table or JSON. Errors: those of
 * lep_ledger_read and lep_ledger_spend.
 */
const struct lep_err *lep_ledger_report(struct lep_out *, const char *home,
	    int64_t since_ms, const char *by);

/* Milliseconds since the epoch, wall clock. */
int64_t	 lep_epoch_ms(void);

#endif
