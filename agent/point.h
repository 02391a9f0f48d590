/* point.h - the metric model: a measurement, a small tag set, typed
 * fields and a timestamp (line protocol's own shape).
 *
 * A struct fp_batch owns its points and every string in them: the add
 * functions copy their arguments.  A struct fp_point pointer returned by
 * fp_batch_add stays valid until the next fp_batch_add or fp_batch_reset on
 * the same batch.  A batch is used from one thread at a time.
 */
#ifndef FP_POINT_H
#define FP_POINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fp_type { FP_FLOAT, FP_INT, FP_UINT, FP_BOOL, FP_STRING };

struct fp_tag {
	char *key, *val;
};

struct fp_field {
	char *key;
	enum fp_type type;
	union {
		double f;
		int64_t i;
		uint64_t u;
		bool b;
		char *s;
	} v;
};

/* What a point is to an engine that keeps every write (append-only, such
 * as VictoriaMetrics) rather than overwriting a row of the same series and
 * timestamp (InfluxDB). */
enum fp_point_kind {
	FP_PT_PLAIN,	  /* a sample: every engine takes it */
	FP_PT_RUNNING,	  /* a running value of a row a later write replaces */
	FP_PT_FINAL,	  /* the first final write of such a row */
	FP_PT_CORRECTION, /* a later write of a final row (late readings) */
};

struct fp_point {
	enum fp_point_kind kind; /* FP_PT_PLAIN unless set */
	char *measurement;
	struct fp_tag *tags;
	size_t ntags, tcap;
	struct fp_field *fields;
	size_t nfields, fcap;
	int64_t ts_ns; /* real-time clock, nanoseconds since the epoch */
	/* The fields the point's source may carry in its other messages
	 * (NULL-terminated; NULL: unknown), so that a new meter's kind is
	 * decided by configuration rather than by which message comes first
	 * (README, "Meters and roles").  Not encoded, not copied by the
	 * batch: it points into the source's configuration. */
	const char *const *may_carry;
};

struct fp_batch {
	struct fp_point *pts;
	size_t n, cap;
};

void fp_batch_init(struct fp_batch *b);
void fp_batch_reset(struct fp_batch *b); /* frees all points; b reusable */
struct fp_point *fp_batch_add(struct fp_batch *b, const char *measurement, int64_t ts_ns);
/* A self-metric point: measurement footprintd, tags site, host and
 * component (printf-formatted: "output/file0", "modbus/ups-1"). */
struct fp_point *fp_batch_self(struct fp_batch *b, int64_t ts_ns, const char *site,
			       const char *host, const char *component_fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Frees the last point of b (no-op when b is empty). */
void fp_batch_drop_last(struct fp_batch *b);

/* A tag with the same key replaces the earlier value. */
void fp_point_tag(struct fp_point *p, const char *key, const char *val);
void fp_point_float(struct fp_point *p, const char *key, double v);
void fp_point_int(struct fp_point *p, const char *key, int64_t v);
void fp_point_uint(struct fp_point *p, const char *key, uint64_t v);
void fp_point_bool(struct fp_point *p, const char *key, bool v);
void fp_point_string(struct fp_point *p, const char *key, const char *v);
const struct fp_field *fp_point_field(const struct fp_point *p, const char *key);
const char *fp_point_tag_value(const struct fp_point *p, const char *key);

#endif
