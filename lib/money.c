/*
 * money.c: exact decimal money.
 */
#include "money.h"

#include <stdio.h>
#include <string.h>

int
lep_money_parse(int64_t *out, const char *s)
{
	int64_t	 whole = 0, frac = 0;
	int	 digits = 0, fd = 0, round = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		/* Checked after each digit, so that no digit gets past. */
		whole = whole * 10 + (*s - '0');
		if (whole > LEP_MONEY_MAX / LEP_MICRO)
			return -1;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
			if (fd < 6) {
				frac = frac * 10 + (*s - '0');
				fd++;
			} else if (fd == 6) {
				round = *s >= '5';
				fd++;
			}
		}
	}
	if (*s != '\0' || digits == 0)
		return -1;
	for (; fd < 6; fd++)
		frac *= 10;
	*out = whole * LEP_MICRO + frac + round;
	return 0;
}

char *
lep_money_format(char *buf, size_t len, int64_t micro)
{
	char	 frac[8];
	int	 n;
	int	 neg = micro < 0;
	uint64_t u = neg ? (uint64_t)(-(micro + 1)) + 1 : (uint64_t)micro;

	snprintf(frac, sizeof(frac), "%06llu",
	    (unsigned long long)(u % LEP_MICRO));
	for (n = 6; n > 2 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	snprintf(buf, len, "%s%llu.%s", neg ? "-" : "",
	    (unsigned long long)(u / LEP_MICRO), frac);
	return buf;
}

int64_t
lep_money_for(int64_t price_per_hour, int64_t count, int64_t ms)
{
	__int128	 v = (__int128)price_per_hour * count * ms;

	return (int64_t)((v + 1800000) / 3600000);
}
