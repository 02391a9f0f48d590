/* csv.h - RFC 4180 records from a buffer: the asset import and the
 * category table.
 *
 * Fields are separated by commas; a field in double quotes may hold
 * commas, line breaks and doubled quotes ("").  Lines end in LF or CRLF.
 * Unquoted fields are trimmed of blanks.  Lines that are empty or start
 * with '#' between records are skipped (comments).
 */
#ifndef FP_CSV_H
#define FP_CSV_H

#include <stddef.h>

#define FP_CSV_MAX_FIELDS 64
#define FP_CSV_MAX_FIELD 4096

struct fp_csv_rec {
	char *f[FP_CSV_MAX_FIELDS];
	int n;
	int line; /* where the record starts (1-based) */
};

/* Parses the next record of s[*pos, len) into r (fields owned by r until
 * fp_csv_rec_free).  *line counts lines.  Returns 1 for a record, 0 at the
 * end, -1 on an error (*why says what; *pos is then past that line). */
int fp_csv_next(const char *s, size_t len, size_t *pos, int *line, struct fp_csv_rec *r,
		const char **why);
void fp_csv_rec_free(struct fp_csv_rec *r);
/* Index of the column named name (case-insensitive) in a header, or -1. */
int fp_csv_col(const struct fp_csv_rec *hdr, const char *name);

#endif
