/*
 * hdr.h: a high-dynamic-range histogram of latencies in microseconds:
 * every value from 1 us to an hour kept to 3 significant digits in a
 * fixed 184 KiB, so that p99.9 and max are read, not guessed.
 */
#ifndef LEPTON_LIB_HDR_H
#define LEPTON_LIB_HDR_H

#include <stdint.h>

struct lep_hdr;

struct lep_hdr	*lep_hdr_new(void);		/* never NULL */
void		 lep_hdr_free(struct lep_hdr *);
/* Values past an hour count as an hour (and as max, exactly). */
void		 lep_hdr_record(struct lep_hdr *, uint64_t us);
void		 lep_hdr_add(struct lep_hdr *into, const struct lep_hdr *);
uint64_t	 lep_hdr_count(const struct lep_hdr *);
uint64_t	 lep_hdr_max(const struct lep_hdr *);
uint64_t	 lep_hdr_min(const struct lep_hdr *);
double		 lep_hdr_mean(const struct lep_hdr *);
/*
 * The value at percentile p (0 < p <= 100): the highest value that falls
 * in the bucket holding the p-th percentile, so never an underestimate
 * by more than the 0.1% precision. 0 when empty.
 */
uint64_t	 lep_hdr_percentile(const struct lep_hdr *, double p);

#endif
