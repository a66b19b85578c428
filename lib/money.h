/*
 * money.h: amounts of money as whole micro-dollars (int64_t), never binary
 * floats: parsed from decimal text, summed exactly, printed as decimal.
 */
#ifndef LEPTON_LIB_MONEY_H
#define LEPTON_LIB_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define LEP_MICRO	1000000LL
#define LEP_CURRENCY	"USD"
/*
 * The most a price may be: a billion dollars (an hour), so that any sum
 * lepton makes of prices (a host and its accelerators, an hourly rate
 * and 64 GPUs' rates) fits an int64_t with room to spare.
 */
#define LEP_MONEY_MAX	(1000000000LL * LEP_MICRO)

/*
 * "23.47126" -> 23471260. Digits, an optional point and decimals; more
 * than 6 decimals round half up. 0 on success, -1 otherwise (empty,
 * negative, junk, whole dollars over LEP_MONEY_MAX).
 */
int	 lep_money_parse(int64_t *out, const char *);
/* 23471260 -> "23.47126"; at least 2 decimals. buf: at least 32 bytes. */
char	*lep_money_format(char *buf, size_t len, int64_t micro);
/*
 * price (micro-USD per hour) x count x ms, in micro-USD, rounded half up;
 * exact for any realistic input (128-bit intermediate).
 */
int64_t	 lep_money_for(int64_t price_per_hour, int64_t count, int64_t ms);

/* A month of hours, as the clouds' monthly prices count it (365 x 24 / 12). */
#define LEP_HOURS_PER_MONTH	730

#endif
