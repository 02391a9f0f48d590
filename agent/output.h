/* output.h - outputs: where encoded points go.
 *
 * Each output instance owns a bounded queue and one writer thread, so a
 * slow or failing output never delays the gatherers or the other outputs.
 * The core encodes a batch once and submits a copy to every output.
 * An output type supplies a const ops table; ops run in the writer thread
 * only (open also runs once in the caller of fp_output_start).
 */
#ifndef FP_OUTPUT_H
#define FP_OUTPUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "point.h"
#include "queue.h"

struct fp_output;

struct fp_output_ops {
	const char *type;
	/* Opens the destination; 0 or -errno (logged by the op). */
	int (*open)(struct fp_output *o);
	/* Writes one chunk; 0 when it is safely delivered, -errno otherwise
	 * (the chunk is kept and retried with backoff). */
	int (*write)(struct fp_output *o, const struct fp_chunk *c);
	void (*close)(struct fp_output *o);
	void (*destroy)(struct fp_output *o); /* frees o->priv */
};

struct fp_output {
	const struct fp_output_ops *ops;
	char *name;
	void *priv;
	struct fp_queue q;
	pthread_t thread;
	bool started;
	atomic_bool stopping;
	atomic_llong drain_deadline_ns; /* monotonic; writer gives up after */
	struct fp_complain limiter;
	/* self-metrics */
	atomic_ullong points_written, points_dropped, write_errors, write_time_ms, chunks_written;
};

/* Takes priv (freed by ops->destroy).  queue_max is in points. */
struct fp_output *fp_output_new(const struct fp_output_ops *ops, const char *name, void *priv,
				size_t queue_max);
/* Opens the output and starts its writer thread.  0 or -errno. */
int fp_output_start(struct fp_output *o);
/* Queues a copy of data (npoints lines).  When the queue is full the
 * points are dropped, counted in points_dropped and logged (rate-limited);
 * returns -ENOSPC then. */
int fp_output_submit(struct fp_output *o, const char *data, size_t len, size_t npoints);
/* Stops accepting, lets the writer deliver what is queued for at most
 * timeout_ms, then joins it.  Undelivered points are counted as dropped
 * and logged. */
void fp_output_stop(struct fp_output *o, int64_t timeout_ms);
void fp_output_free(struct fp_output *o);
/* Appends this output's self-metrics point (measurement footprintd). */
void fp_output_metrics(struct fp_output *o, struct fp_batch *b, const char *site, const char *host,
		       int64_t ts_ns);

/* The file output: path "-" is standard output. */
struct fp_output *fp_output_file_new(const char *name, const char *path, bool do_fsync,
				     size_t queue_max);

#endif
