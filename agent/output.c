/* output.c - output instances: queue, writer thread, retries, metrics. */
#include "config.h"

#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 30000

struct fp_output *fp_output_new(const struct fp_output_ops *ops, const char *name, void *priv,
				size_t queue_max)
{
	struct fp_output *o = fp_xcalloc(1, sizeof(*o));

	o->ops = ops;
	o->name = fp_xstrdup(name);
	o->priv = priv;
	fp_queue_init(&o->q, queue_max);
	atomic_init(&o->stopping, false);
	atomic_init(&o->drain_deadline_ns, 0);
	return o;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool past_deadline(struct fp_output *o)
{
	return atomic_load(&o->stopping) && fp_mono_ns() >= atomic_load(&o->drain_deadline_ns);
}

static void *writer(void *arg)
{
	struct fp_output *o = arg;
	int64_t backoff = RETRY_MIN_MS;

	for (;;) {
		struct fp_chunk *c = fp_queue_pop(&o->q, 1000);
		int64_t t0;
		int rc;

		if (!c) {
			if (atomic_load(&o->stopping) && fp_queue_points(&o->q) == 0 && o->q.closed)
				break;
			continue;
		}
		t0 = fp_mono_ns();
		rc = o->ops->write(o, c);
		atomic_fetch_add(&o->write_time_ms, (unsigned long long)((fp_mono_ns() - t0) / 1000000));
		if (rc == 0) {
			atomic_fetch_add(&o->points_written, c->npoints);
			atomic_fetch_add(&o->chunks_written, 1);
			fp_chunk_free(c);
			if (backoff != RETRY_MIN_MS)
				fp_release(&o->limiter, LOG_NOTICE, "output[%s]: writing again", o->name);
			backoff = RETRY_MIN_MS;
			continue;
		}
		atomic_fetch_add(&o->write_errors, 1);
		fp_complain(&o->limiter, LOG_ERR, "output[%s]: write failed: %s; retrying", o->name,
			    strerror(-rc));
		if (past_deadline(o)) {
			atomic_fetch_add(&o->points_dropped, c->npoints);
			fp_log(LOG_ERR, "output[%s]: shutting down: %zu points could not be written",
			       o->name, c->npoints);
			fp_chunk_free(c);
			continue;
		}
		fp_queue_unpop(&o->q, c);
		sleep_ms(atomic_load(&o->stopping) ? 100 : backoff);
		backoff = backoff * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff * 2;
	}
	return NULL;
}

int fp_output_start(struct fp_output *o)
{
	int rc = o->ops->open ? o->ops->open(o) : 0;

	if (rc < 0)
		return rc;
	rc = -pthread_create(&o->thread, NULL, writer, o);
	if (rc < 0) {
		fp_log(LOG_ERR, "output[%s]: cannot start its thread: %s", o->name, strerror(-rc));
		if (o->ops->close)
			o->ops->close(o);
		return rc;
	}
	o->started = true;
	return 0;
}

int fp_output_submit(struct fp_output *o, const char *data, size_t len, size_t npoints)
{
	char *d = fp_xmalloc(len + 1);
	struct fp_chunk *c;
	int rc;

	memcpy(d, data, len);
	d[len] = '\0';
	c = fp_chunk_new(d, len, npoints);
	rc = fp_queue_push(&o->q, c);
	if (rc < 0) {
		atomic_fetch_add(&o->points_dropped, npoints);
		fp_log(LOG_WARNING, "output[%s]: queue full (%zu points), %zu points dropped", o->name,
		       o->q.max_points, npoints);
		fp_chunk_free(c);
	}
	return rc;
}

void fp_output_stop(struct fp_output *o, int64_t timeout_ms)
{
	struct fp_chunk *c;

	if (!o || !o->started)
		return;
	atomic_store(&o->drain_deadline_ns, fp_mono_ns() + timeout_ms * 1000000LL);
	atomic_store(&o->stopping, true);
	fp_queue_close(&o->q);
	pthread_join(o->thread, NULL);
	o->started = false;
	while ((c = fp_queue_pop(&o->q, 0)) != NULL) {
		atomic_fetch_add(&o->points_dropped, c->npoints);
		fp_chunk_free(c);
	}
	if (o->ops->close)
		o->ops->close(o);
}

void fp_output_free(struct fp_output *o)
{
	if (!o)
		return;
	fp_output_stop(o, 0);
	if (o->ops->destroy)
		o->ops->destroy(o);
	fp_queue_destroy(&o->q);
	free(o->name);
	free(o);
}

void fp_output_metrics(struct fp_output *o, struct fp_batch *b, const char *site, const char *host,
		       int64_t ts_ns)
{
	struct fp_point *p = fp_batch_add(b, "footprintd", ts_ns);
	char comp[160];

	snprintf(comp, sizeof(comp), "output/%s", o->name);
	fp_point_tag(p, "site", site);
	fp_point_tag(p, "host", host);
	fp_point_tag(p, "component", comp);
	fp_point_int(p, "points_written", (int64_t)atomic_load(&o->points_written));
	fp_point_int(p, "points_dropped", (int64_t)atomic_load(&o->points_dropped));
	fp_point_int(p, "points_queued", (int64_t)fp_queue_points(&o->q));
	fp_point_int(p, "write_errors", (int64_t)atomic_load(&o->write_errors));
	fp_point_int(p, "write_time_ms", (int64_t)atomic_load(&o->write_time_ms));
}
