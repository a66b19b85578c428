/*
 * csv.h: an in-place CSV reader (RFC 4180: quoted fields, "" inside
 * quotes, CRLF or LF). Fields point into the caller's buffer, which is
 * modified; nothing is allocated per field.
 */
#ifndef LEPTON_LIB_CSV_H
#define LEPTON_LIB_CSV_H

#include <stddef.h>

#define LEP_CSV_MAX_FIELDS	64

struct lep_csv {
	char	*p, *end;
	size_t	 line;		/* of the row last returned, 1-based */
	int	 bad;		/* the row last returned was malformed */
};

void	 lep_csv_init(struct lep_csv *, char *buf, size_t len);
/*
 * The next row's fields (NUL-terminated, unquoted) into fields[]; returns
 * how many, or -1 at the end. A row with more than LEP_CSV_MAX_FIELDS
 * fields, an unterminated quote or a last line without its newline sets
 * bad (the fields read are still returned).
 */
int	 lep_csv_row(struct lep_csv *, char *fields[LEP_CSV_MAX_FIELDS]);

#endif
