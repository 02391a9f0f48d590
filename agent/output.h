/* output.h - outputs: where encoded points go.
 *
 * The core encodes each gathered batch once per timestamp precision and
 * submits it to every output from the main thread.  Each output type
 * brings its own delivery thread(s), so a slow or dead output never delays
 * the gatherers or the other outputs:
 *   file      a bounded in-memory queue and a writer thread;
 *   influxdb  a disk spool (write-ahead log) and a sender thread.
 * An output type supplies a const ops table; submit runs in the main
 * thread and must not block on the network.
 */
#ifndef FP_OUTPUT_H
#define FP_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lineproto.h"
#include "point.h"

struct fp_output;
struct fp_config;

struct fp_output_ops {
	const char *type;
	/* Opens the destination and starts the delivery thread. 0 or -errno
	 * (the op logs the reason). */
	int (*start)(struct fp_output *o);
	/* Takes a copy of npoints lines of line protocol. */
	void (*submit)(struct fp_output *o, const char *data, size_t len, size_t npoints);
	/* Stops accepting, delivers what it holds for at most timeout_ms
	 * (an output with a spool keeps the rest there), joins its threads. */
	void (*stop)(struct fp_output *o, int64_t timeout_ms);
	/* True when it cannot take more points now (its queue is full and,
	 * for an output with a spool, the spool cannot be written): the
	 * agent then holds the collectors back.  Optional. */
	bool (*saturated)(struct fp_output *o);
	/* Adds the output's self-metric fields to p. */
	void (*metrics)(struct fp_output *o, struct fp_point *p);
	void (*destroy)(struct fp_output *o); /* frees o->priv */
};

struct fp_output {
	const struct fp_output_ops *ops;
	char *name;
	enum fp_precision precision;
	void *priv;
	bool started;
};

/* Takes priv (freed by ops->destroy). */
struct fp_output *fp_output_new(const struct fp_output_ops *ops, const char *name,
				enum fp_precision precision, void *priv);
int fp_output_start(struct fp_output *o);
void fp_output_submit(struct fp_output *o, const char *data, size_t len, size_t npoints);
void fp_output_stop(struct fp_output *o, int64_t timeout_ms);
bool fp_output_saturated(struct fp_output *o);
/* Stops (without waiting) if needed, then frees.  Accepts NULL. */
void fp_output_free(struct fp_output *o);
/* Appends this output's self-metrics point (measurement footprintd,
 * component output/<name>). */
void fp_output_metrics(struct fp_output *o, struct fp_batch *b, const char *site, const char *host,
		       int64_t ts_ns);

struct fp_file_output_cfg;
struct fp_influx_output_cfg;

/* The file output: path "-" is standard output. */
struct fp_output *fp_output_file_new(const struct fp_file_output_cfg *cfg, const char *path,
				     size_t queue_max);
/* The InfluxDB output (v1 or v2 API) with its spool under state_dir. */
struct fp_output *fp_output_influx_new(const struct fp_influx_output_cfg *cfg,
				       const char *state_dir);

#endif
