/* file.c - the file output: line protocol appended to a file or
 * written to standard output ("-").  The embedded default output.
 *
 * Submitted chunks wait in a bounded queue (agent.queue_max points); one
 * writer thread appends them.  A failed write is retried with backoff
 * (100 ms doubling to 30 s) and never leaves a torn line; when the queue
 * is full new points are dropped, counted and logged. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "file.h"

#include "conf.h"
#include "lineproto.h"
#include "log.h"
#include "output.h"
#include "queue.h"
#include "util.h"

#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 30000
#define GATHER_MAX (1u << 20) /* bytes in one write */

/* One element of outputs.file (the name is the loader's). */
struct file_cfg {
	char *path; /* "-" is stdout; relative paths are under state_dir */
	enum fp_precision precision;
	bool fsync;
};

struct file_priv {
	char *path;
	int fd;
	bool do_fsync;
	struct fp_queue q;
	pthread_t thread;
	atomic_bool stopping;
	atomic_llong deadline_ns; /* monotonic; the writer gives up after */
	struct fp_complain limiter;
	struct fp_complain lim_drop; /* submit's (under the agent's lock) */
	atomic_ullong points_written, points_dropped, write_errors, write_time_ms;
};

static int open_file(struct fp_output *o, struct file_priv *p)
{
	if (strcmp(p->path, "-") == 0) {
		p->fd = STDOUT_FILENO;
		return 0;
	}
	p->fd = open(p->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (p->fd < 0) {
		int e = errno;
		fp_complain(&p->limiter, LOG_ERR, "output[%s]: cannot open %s: %s", o->name,
			    p->path, strerror(e));
		return -e;
	}
	return 0;
}

static int write_chunk(struct fp_output *o, struct file_priv *p, const struct fp_chunk *c)
{
	size_t off = 0;

	if (p->fd < 0) {
		int rc = open_file(o, p);
		if (rc < 0)
			return rc;
	}
	while (off < c->len) {
		ssize_t n = write(p->fd, c->data + off, c->len - off);
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			/* Cut back a partial chunk so the retry neither
			 * duplicates nor tears a line. */
			if (off && p->fd != STDOUT_FILENO) {
				off_t end = lseek(p->fd, 0, SEEK_END);
				if (end >= (off_t)off && ftruncate(p->fd, end - (off_t)off) != 0)
					fp_log(LOG_ERR,
					       "output[%s]: cannot cut a partial write: %s",
					       o->name, strerror(errno));
			}
			return -e;
		}
		off += (size_t)n;
	}
	if (p->do_fsync && p->fd != STDOUT_FILENO && fsync(p->fd) != 0)
		return -errno;
	return 0;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Sleeps ms, in steps of at most 100 ms, and stops early once the output
 * is stopping: a backoff of up to RETRY_MAX_MS must not outlast the
 * shutdown timeout. */
static void backoff_ms(struct file_priv *p, int64_t ms)
{
	int64_t end = fp_mono_ns() + ms * 1000000LL, left;

	while (!atomic_load(&p->stopping) && (left = (end - fp_mono_ns()) / 1000000) > 0)
		sleep_ms(left > 100 ? 100 : left);
}

/* Joins the chunks waiting behind c into one write (at most 1 MB).  A
 * small c first waits 2 ms for company: a nap, not a wait on the queue,
 * so the pushes meanwhile wake nobody.  A flood of small batches (an MQTT
 * message each) then costs one wake-up and one write per 2 ms, not one per
 * message with the collector and this thread taking turns. */
static struct fp_chunk *gather(struct file_priv *p, struct fp_chunk *c)
{
	struct fp_chunk *l, *n;
	struct fp_buf b;
	size_t np, len;
	char *d;

	if (c->len >= GATHER_MAX)
		return c;
	if (c->len < GATHER_MAX / 16 && !atomic_load(&p->stopping))
		sleep_ms(2);
	if (!(l = fp_queue_take(&p->q, GATHER_MAX - c->len, SIZE_MAX)))
		return c;
	fp_buf_init(&b, (size_t)2 * GATHER_MAX);
	fp_buf_add(&b, c->data, c->len);
	np = c->npoints;
	fp_chunk_free(c);
	for (; l; l = n) {
		n = l->next;
		fp_buf_add(&b, l->data, l->len); /* fits: take counted the bytes */
		np += l->npoints;
		fp_chunk_free(l);
	}
	d = fp_buf_steal(&b, &len);
	return fp_chunk_new(d, len, np);
}

static void *writer(void *arg)
{
	struct fp_output *o = arg;
	struct file_priv *p = o->priv;
	int64_t backoff = RETRY_MIN_MS;

	for (;;) {
		struct fp_chunk *c = fp_queue_pop(&p->q, 1000);
		int64_t t0;
		int rc;

		if (!c) {
			if (atomic_load(&p->stopping))
				break; /* closed and drained */
			continue;
		}
		c = gather(p, c);
		t0 = fp_mono_ns();
		rc = write_chunk(o, p, c);
		atomic_fetch_add(&p->write_time_ms,
				 (unsigned long long)((fp_mono_ns() - t0) / 1000000));
		if (rc == 0) {
			atomic_fetch_add(&p->points_written, c->npoints);
			fp_queue_done(&p->q, c->npoints);
			fp_chunk_free(c);
			if (backoff != RETRY_MIN_MS)
				fp_release(&p->limiter, LOG_NOTICE, "output[%s]: writing again",
					   o->name);
			backoff = RETRY_MIN_MS;
			continue;
		}
		atomic_fetch_add(&p->write_errors, 1);
		fp_complain(&p->limiter, LOG_ERR, "output[%s]: write to %s failed: %s; retrying",
			    o->name, p->path, strerror(-rc));
		if (atomic_load(&p->stopping) && fp_mono_ns() >= atomic_load(&p->deadline_ns)) {
			atomic_fetch_add(&p->points_dropped, c->npoints);
			fp_log(LOG_ERR,
			       "output[%s]: shutting down: %zu points could not be written",
			       o->name, c->npoints);
			fp_queue_done(&p->q, c->npoints);
			fp_chunk_free(c);
			continue;
		}
		fp_queue_unpop(&p->q, c);
		if (atomic_load(&p->stopping))
			sleep_ms(100);
		else
			backoff_ms(p, backoff);
		backoff = backoff * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff * 2;
	}
	return NULL;
}

static int file_start(struct fp_output *o)
{
	struct file_priv *p = o->priv;
	int rc = open_file(o, p);

	if (rc < 0)
		return rc;
	rc = -pthread_create(&p->thread, NULL, writer, o);
	if (rc < 0) {
		fp_log(LOG_ERR, "output[%s]: cannot start its thread: %s", o->name, strerror(-rc));
		return rc;
	}
	return 0;
}

static void file_submit(struct fp_output *o, const char *data, size_t len, size_t npoints)
{
	struct file_priv *p = o->priv;
	char *d = fp_xmalloc(len + 1);
	struct fp_chunk *c;

	memcpy(d, data, len);
	d[len] = '\0';
	c = fp_chunk_new(d, len, npoints);
	if (fp_queue_push(&p->q, c) < 0) {
		unsigned long long all = atomic_fetch_add(&p->points_dropped, npoints) + npoints;
		fp_complain(&p->lim_drop, LOG_WARNING,
			    "output[%s]: queue full (%zu points), %zu "
			    "points dropped (%llu in all, counted in points_dropped)",
			    o->name, p->q.max_points, npoints, all);
		fp_chunk_free(c);
	}
}

static void file_stop(struct fp_output *o, int64_t timeout_ms)
{
	struct file_priv *p = o->priv;
	struct fp_chunk *c;

	atomic_store(&p->deadline_ns, fp_mono_ns() + timeout_ms * 1000000LL);
	atomic_store(&p->stopping, true);
	fp_queue_close(&p->q);
	pthread_join(p->thread, NULL);
	while ((c = fp_queue_pop(&p->q, 0)) != NULL) {
		atomic_fetch_add(&p->points_dropped, c->npoints);
		fp_chunk_free(c);
	}
	if (p->fd >= 0 && p->fd != STDOUT_FILENO)
		close(p->fd);
	p->fd = -1;
}

static void file_metrics(struct fp_output *o, struct fp_point *pt)
{
	struct file_priv *p = o->priv;

	fp_point_int(pt, "points_written", (int64_t)atomic_load(&p->points_written));
	fp_point_int(pt, "points_dropped", (int64_t)atomic_load(&p->points_dropped));
	fp_point_int(pt, "points_queued", (int64_t)fp_queue_points(&p->q));
	fp_point_int(pt, "write_errors", (int64_t)atomic_load(&p->write_errors));
	fp_point_int(pt, "write_time_ms", (int64_t)atomic_load(&p->write_time_ms));
}

static void file_destroy(struct fp_output *o)
{
	struct file_priv *p = o->priv;

	if (!p)
		return;
	fp_queue_destroy(&p->q);
	free(p->path);
	free(p);
	o->priv = NULL;
}

static bool file_saturated(struct fp_output *o)
{
	struct file_priv *p = o->priv;

	/* with what the writer holds: a failed write puts it back */
	return fp_queue_load(&p->q) >= p->q.max_points;
}

/* ---- config ---- */

static void *file_default_config(void)
{
	struct file_cfg *f = fp_xcalloc(1, sizeof(*f));

	f->path = fp_xstrdup("footprint.lp");
	f->precision = FP_PREC_NS;
	return f;
}

static void *file_parse(const config_setting_t *g, const struct fp_config *c,
			struct fp_cfg_errors *e)
{
	static const char *const precs[] = { "ns", "us", "ms", "s", NULL };
	struct file_cfg *f = fp_xcalloc(1, sizeof(*f));
	int prec;

	(void)c;
	f->precision = FP_PREC_NS;
	if (fp_cfg_get_string(e, g, "path", &f->path) == 0)
		fp_cfg_report(e, g, "path", "is required (a file, or \"-\" for standard output)");
	if (!f->path)
		f->path = fp_xstrdup("-");
	else if (!f->path[0])
		fp_cfg_report(e, g, "path", "must not be empty");
	if (fp_cfg_get_enum(e, g, "precision", precs, &prec) > 0)
		f->precision = (enum fp_precision)prec;
	fp_cfg_get_bool(e, g, "fsync", &f->fsync);
	return f;
}

static void file_free_config(void *oc)
{
	struct file_cfg *f = oc;

	if (!f)
		return;
	free(f->path);
	free(f);
}

static void file_describe(const void *oc, FILE *out)
{
	const struct file_cfg *f = oc;

	fprintf(out, " path=\"%s\" precision=%s fsync=%s\n", f->path,
		fp_lp_precision_name(f->precision), f->fsync ? "true" : "false");
}

static struct fp_output *file_create(const void *oc, const char *name, const struct fp_config *c)
{
	const struct file_cfg *f = oc;
	struct file_priv *p = fp_xcalloc(1, sizeof(*p));

	p->path = (strcmp(f->path, "-") == 0 || f->path[0] == '/')
		? fp_xstrdup(f->path)
		: fp_xasprintf("%s/%s", c->state_dir, f->path);
	p->fd = -1;
	p->do_fsync = f->fsync;
	fp_queue_init(&p->q, (size_t)c->queue_max);
	atomic_init(&p->stopping, false);
	atomic_init(&p->deadline_ns, 0);
	return fp_output_new(&fp_file_output, name, f->precision, p);
}

static const char *const file_keys[] = { "name", "path", "precision", "fsync", NULL };

const struct fp_output_ops fp_file_output = {
	.type = "file",
	.keys = file_keys,
	.parse = file_parse,
	.default_config = file_default_config,
	.free_config = file_free_config,
	.describe = file_describe,
	.create = file_create,
	.start = file_start,
	.submit = file_submit,
	.stop = file_stop,
	.saturated = file_saturated,
	.metrics = file_metrics,
	.destroy = file_destroy,
};
