/* lineproto.h - InfluxDB line protocol encoder and parser.
 *
 * Escaping follows what InfluxDB 1.x/2.x OSS parse (checked against a real
 * influxd by tests/integration):
 *   measurement         ',' and ' ' are escaped with '\'
 *   tag key, tag value  ',', '=' and ' ' are escaped with '\'
 *   field key           ',', '=', ' ' and '"' are escaped with '\'
 *   string field value  '"' and '\' are escaped with '\'
 * Any other backslash is written as it is (the server keeps it literally).
 *
 * Characters the format cannot carry follow one rule, "replace, never
 * split" (README, "Line protocol"):
 *   - a byte that is not valid UTF-8 becomes U+FFFD, in every position;
 *   - a control character (U+0000..U+001F, U+007F) becomes a space, in
 *     every position (so a newline can never end a line or inject a point);
 *   - a backslash ending a measurement, tag key, tag value or field key
 *     becomes '_' (the server would read it as escaping the separator),
 *     and so does one right before ',', '=', ' ' or '"': InfluxDB's line
 *     splitter reads "\\ " as an escaped backslash and a bare space, so
 *     such a pair could make it join or split lines (found by fuzzing);
 *   - a '#' starting a measurement becomes '_' (it would start a comment);
 *   - a tag with an empty key or value is left out; a field with an empty
 *     key or a NaN/infinite value is left out; a point left without fields
 *     is not written.
 * Tags are written sorted by key; floats are printed with the fewest digits
 * that read back to the identical double; integers end in 'i', unsigned in
 * 'u'; booleans are 'true'/'false'.
 */
#ifndef FP_LINEPROTO_H
#define FP_LINEPROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "point.h"
#include "util.h"

enum fp_precision { FP_PREC_NS, FP_PREC_US, FP_PREC_MS, FP_PREC_S };

/* "ns", "us", "ms", "s" -> precision; -1 if unknown. */
int fp_lp_precision_from_name(const char *name);
const char *fp_lp_precision_name(enum fp_precision p);

/* Appends one line (with '\n') to out.  Returns 1 when written, 0 when the
 * point had nothing writable (no fields left), -ENOBUFS when out is full
 * (out is then unchanged). */
int fp_lp_encode_point(struct fp_buf *out, const struct fp_point *p, enum fp_precision prec);

/* Encodes every point of b; returns the number of lines written and adds
 * the points left out to *skipped (may be NULL).  Stops at -ENOBUFS. */
int fp_lp_encode_batch(struct fp_buf *out, const struct fp_batch *b, enum fp_precision prec,
		       size_t *skipped);

/* What an output takes of a batch. */
struct fp_lp_filter {
	/* an engine that keeps every write: running values and corrections
	 * of rows are left out (counted in *skipped), string fields travel
	 * as tags (such an engine keeps numbers only) */
	bool append_only;
	int64_t min_ts_ns; /* older points are left out (counted in *too_old); 0: none */
};

/* fp_lp_encode_batch through filter f (NULL: everything). */
int fp_lp_encode_filtered(struct fp_buf *out, const struct fp_batch *b, enum fp_precision prec,
			  const struct fp_lp_filter *f, size_t *skipped, size_t *too_old);

/* Prints v in the shortest form that strtod reads back to the same double.
 * buf must hold 32 bytes.  Returns the length. */
size_t fp_lp_format_float(char *buf, double v);

/* Parses line protocol text (several lines, '#' comments and blank lines
 * allowed) with the semantics of InfluxDB 1.x, appending one point per line
 * to out; timestamps are taken at precision prec and a missing one is
 * left 0.  Returns the number of points parsed, or -EINVAL at the first bad
 * line, whose 1-based number goes to *bad_line (may be NULL); the points
 * of earlier lines stay in out. */
int fp_lp_parse(const char *text, size_t len, enum fp_precision prec, struct fp_batch *out,
		size_t *bad_line);

#endif
