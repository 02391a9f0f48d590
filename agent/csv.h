/* csv.h - RFC 4180 records from a buffer or a file: the asset import,
 * the category table and the Modbus register profiles.
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
 * end, -1 on an error (*why says what, r->line is the line of the fault;
 * *pos is then past that line). */
int fp_csv_next(const char *s, size_t len, size_t *pos, int *line, struct fp_csv_rec *r,
		const char **why);

/* Called by fp_csv_load for each record in order, the header first: why is
 * NULL and r holds the fields, or why says why the reader refused a record
 * (r->n is 0 and r->line the line of the fault; the reader goes on at the
 * next line).  r and its fields belong to fp_csv_load.  Returns 0 to go on,
 * < 0 to stop. */
typedef int (*fp_csv_row_fn)(void *arg, const struct fp_csv_rec *r, const char *why);
/* Reads the file at path (at most max bytes) and calls row for its
 * records.  Returns the number of lines in the file (>= 0), row's value
 * when it stopped the walk, or -errno when the file cannot be read
 * (-EFBIG when it is larger than max). */
int fp_csv_load(const char *path, size_t max, fp_csv_row_fn row, void *arg);
void fp_csv_rec_free(struct fp_csv_rec *r);
/* Index of the column named name (case-insensitive) in a header, or -1. */
int fp_csv_col(const struct fp_csv_rec *hdr, const char *name);

#endif
