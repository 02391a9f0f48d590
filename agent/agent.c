/* agent.c - one running configuration: outputs, schedule, self-metrics. */
#include "config.h"

#include "agent.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "indicators.h"
#include "lineproto.h"
#include "log.h"
#include "util.h"

static void tick(void *arg);

struct fp_agent *fp_agent_new(const struct fp_config *cfg, bool dry_run)
{
	struct fp_agent *a = fp_xcalloc(1, sizeof(*a));
	size_t i;
	int rc;

	a->cfg = cfg;
	a->dry_run = dry_run;
	fp_log_set_ratelimit(cfg->log_burst, cfg->log_interval_ms * 1000000LL);
	pthread_mutex_init(&a->lock, NULL);
	fp_cond_init_mono(&a->room);
	pthread_rwlock_init(&a->ind_lock, NULL);
	a->out_locks = fp_xcalloc(cfg->noutputs + 1, sizeof(*a->out_locks));
	for (i = 0; i < cfg->noutputs + 1; i++)
		pthread_mutex_init(&a->out_locks[i], NULL);
	a->started_ns = fp_mono_ns();
	fp_sched_init(&a->sched);
	if (!dry_run) {
		rc = fp_mkdirs(cfg->state_dir, 0750);
		if (rc < 0) {
			fp_log(LOG_ERR, "agent: cannot create state_dir %s: %s", cfg->state_dir,
			       strerror(-rc));
			goto fail;
		}
		a->outputs = fp_xcalloc(cfg->noutputs + 1, sizeof(*a->outputs));
		for (i = 0; i < cfg->noutputs; i++) {
			const struct fp_output_cfg *oc = &cfg->outputs[i];
			struct fp_output *o = oc->ops->create(oc->oc, oc->name, cfg);
			a->outputs[a->noutputs++] = o;
			if (fp_output_start(o) < 0)
				goto fail;
		}
	}
	if (!dry_run && cfg->indicators && cfg->indicators->enabled) {
		/* NULL when its ledger cannot be opened (logged): the agent
		 * still collects and delivers, without the indicators */
		a->ind = fp_ind_new(cfg, fp_agent_push, a);
	}
	a->collectors = fp_xcalloc(cfg->ncollectors + 1, sizeof(*a->collectors));
	for (i = 0; i < cfg->ncollectors; i++) {
		struct fp_collector *c = &a->collectors[a->ncollectors++];
		c->ops = cfg->collectors[i].ops;
		c->inst = c->ops->create(cfg->collectors[i].cc, cfg, fp_agent_push, a);
	}
	fp_sched_add(&a->sched, cfg->interval_ms * 1000000LL, cfg->round_interval, tick, a);
	return a;
fail:
	fp_agent_free(a);
	return NULL;
}

int fp_agent_start(struct fp_agent *a, bool push_only)
{
	size_t i;

	if (!push_only && fp_ind_start(a->ind) < 0)
		return -1;
	for (i = 0; i < a->ncollectors; i++) {
		const struct fp_collector *c = &a->collectors[i];
		if (push_only && c->ops->gather)
			continue;
		if (c->ops->start(c->inst) < 0)
			return -1;
	}
	return 0;
}

void fp_agent_stop(struct fp_agent *a, int64_t timeout_ms)
{
	int64_t deadline = fp_mono_ns() + timeout_ms * 1000000LL;
	size_t i;

	/* A collector held back by full outputs goes on (and its points are
	 * dropped, counted, if they still are). */
	pthread_mutex_lock(&a->lock);
	atomic_store(&a->stopping, true);
	pthread_cond_broadcast(&a->room);
	pthread_mutex_unlock(&a->lock);
	/* Collectors first: nothing new arrives while the outputs drain. */
	for (i = 0; i < a->ncollectors; i++)
		a->collectors[i].ops->stop(a->collectors[i].inst);
	/* Then the indicator engine: what it holds is counted in the ledger. */
	{
		/* Not under the lock: the engine's thread pushes through it. */
		struct fp_ind *ind;
		pthread_rwlock_wrlock(&a->ind_lock);
		ind = a->ind;
		a->ind = NULL;
		pthread_rwlock_unlock(&a->ind_lock);
		fp_ind_flush_final(ind); /* the windows as last counted */
		fp_ind_free(ind);
	}
	fp_log_flush_suppressed(true); /* what the rate limits held back */
	/* One deadline for all: the whole stop is bounded by timeout_ms. */
	for (i = 0; i < a->noutputs; i++) {
		int64_t left = (deadline - fp_mono_ns()) / 1000000;
		fp_output_stop(a->outputs[i], left > 0 ? left : 0);
	}
}

void fp_agent_free(struct fp_agent *a)
{
	size_t i;

	if (!a)
		return;
	fp_agent_stop(a, a->cfg->shutdown_timeout_ms);
	for (i = 0; i < a->ncollectors; i++)
		a->collectors[i].ops->destroy(a->collectors[i].inst);
	free(a->collectors);
	for (i = 0; i < a->noutputs; i++)
		fp_output_free(a->outputs[i]);
	free(a->outputs);
	fp_sched_reset(&a->sched);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->room);
	pthread_rwlock_destroy(&a->ind_lock);
	for (i = 0; i < a->cfg->noutputs + 1; i++)
		pthread_mutex_destroy(&a->out_locks[i]);
	free(a->out_locks);
	free(a);
}

static void self_metrics(struct fp_agent *a, struct fp_batch *b, int64_t now)
{
	const struct fp_config *c = a->cfg;
	struct fp_point *p = fp_batch_self(b, now, c->site, c->hostname, "agent");
	long rss = fp_rss_kb();
	size_t i;

	fp_point_int(p, "gathers", (int64_t)a->gathers);
	fp_point_int(p, "points_gathered", (int64_t)a->points_gathered);
	fp_point_int(p, "points_skipped", (int64_t)a->points_skipped);
	fp_point_int(p, "backpressure_waits", (int64_t)a->backpressure_waits);
	fp_point_int(p, "uptime_s", (fp_mono_ns() - a->started_ns) / 1000000000LL);
	if (rss >= 0)
		fp_point_int(p, "rss_kb", rss);
	for (i = 0; i < a->noutputs; i++)
		fp_output_metrics(a->outputs[i], b, c->site, c->hostname, now);
	for (i = 0; i < a->ncollectors; i++)
		a->collectors[i].ops->metrics(a->collectors[i].inst, b, c->site, c->hostname, now);
	fp_ind_metrics(a->ind, b, c->site, c->hostname, now);
}

void fp_agent_gather(struct fp_agent *a, struct fp_batch *b)
{
	size_t i;

	for (i = 0; i < a->ncollectors; i++)
		if (a->collectors[i].ops->gather)
			a->collectors[i].ops->gather(a->collectors[i].inst, b);
	a->gathers++;
}

void fp_agent_self_metrics(struct fp_agent *a, struct fp_batch *b)
{
	if (a->cfg->self_metrics)
		self_metrics(a, b, fp_real_ns());
}

/* No output can take points now (and there is at least one). */
static bool saturated(struct fp_agent *a)
{
	size_t i;

	if (a->dry_run || !a->noutputs)
		return false;
	for (i = 0; i < a->noutputs; i++)
		if (!fp_output_saturated(a->outputs[i]))
			return false;
	return true;
}

void fp_agent_push(void *agent, struct fp_batch *b)
{
	struct fp_agent *a = agent;
	struct timespec dl;
	bool waited = false;

	/* Locked only to wait: dispatch runs in each collector's thread at
	 * once (see struct fp_agent). */
	if (atomic_load(&a->stopping) || !saturated(a)) {
		fp_agent_dispatch(a, b);
		return;
	}
	pthread_mutex_lock(&a->lock);
	while (!atomic_load(&a->stopping) && saturated(a)) {
		if (!waited)
			fp_complain(
				&a->bp_log, LOG_WARNING,
				"agent: every output is full: the "
				"collectors wait (nothing is dropped; pushed messages stay "
				"unacknowledged at their source); counted in backpressure_waits");
		waited = true;
		a->backpressure_waits++;
		fp_mono_deadline(&dl, 100);
		pthread_cond_timedwait(&a->room, &a->lock, &dl);
	}
	pthread_mutex_unlock(&a->lock);
	fp_agent_dispatch(a, b);
}

/* An output that does not take every point (an engine that keeps every
 * write, or keeps a retention period only) gets its own encoding. */
static void submit_filtered(struct fp_agent *a, size_t oi, const struct fp_batch *b)
{
	struct fp_output *o = a->outputs[oi];
	struct fp_lp_filter f = { o->append_only, 0 };
	struct fp_buf buf;
	size_t skipped = 0, too_old = 0;
	int n;

	if (o->retention_ms)
		f.min_ts_ns = fp_real_ns() - o->retention_ms * 1000000LL;
	fp_buf_init(&buf, (size_t)1 << 30);
	n = fp_lp_encode_filtered(&buf, b, o->precision, &f, &skipped, &too_old);
	pthread_mutex_lock(&a->out_locks[oi]);
	if (n > 0)
		fp_output_submit(o, buf.data, buf.len, (size_t)n);
	fp_buf_reset(&buf);
	if (too_old) {
		o->too_old += too_old;
		fp_complain(&o->too_old_log, LOG_WARNING,
			    "output %s: %zu points older than its retention (%lld s) not sent "
			    "(the engine would drop them); counted in points_too_old",
			    o->name, too_old, (long long)(o->retention_ms / 1000));
	}
	pthread_mutex_unlock(&a->out_locks[oi]);
}

size_t fp_agent_dispatch(struct fp_agent *a, const struct fp_batch *b)
{
	struct fp_buf buf[4];
	bool done[4] = { false, false, false, false };
	size_t skipped = 0, i;
	int n = 0, np[4] = { 0, 0, 0, 0 };

	/* Encode once per precision the outputs use (ns for --test). */
	for (i = 0; i < 4; i++)
		fp_buf_init(&buf[i], (size_t)1 << 30);
	for (i = 0; i < (a->dry_run ? 1 : a->noutputs); i++) {
		enum fp_precision pr = a->dry_run ? FP_PREC_NS : a->outputs[i]->precision;
		if (done[pr])
			continue;
		done[pr] = true;
		skipped = 0;
		np[pr] = fp_lp_encode_batch(&buf[pr], b, pr, &skipped);
		if (np[pr] < 0) {
			fp_log(LOG_ERR, "agent: a batch of %zu points is too large to encode",
			       b->n);
			np[pr] = 0;
		}
		n = np[pr];
	}
	pthread_rwlock_rdlock(&a->ind_lock);
	fp_ind_observe(a->ind, b);
	pthread_rwlock_unlock(&a->ind_lock);
	a->points_gathered += (uint64_t)n;
	a->points_skipped += skipped;
	if (skipped)
		fp_log(LOG_DEBUG, "agent: %zu points had no writable field", skipped);
	if (a->dry_run && n > 0) {
		pthread_mutex_lock(&a->lock);
		fwrite(buf[FP_PREC_NS].data, 1, buf[FP_PREC_NS].len, stdout);
		fflush(stdout);
		pthread_mutex_unlock(&a->lock);
	}
	for (i = 0; !a->dry_run && i < a->noutputs; i++) {
		struct fp_output *o = a->outputs[i];
		if (o->append_only || o->retention_ms) {
			submit_filtered(a, i, b);
		} else if (np[o->precision] > 0) {
			pthread_mutex_lock(&a->out_locks[i]);
			fp_output_submit(o, buf[o->precision].data, buf[o->precision].len,
					 (size_t)np[o->precision]);
			pthread_mutex_unlock(&a->out_locks[i]);
		}
	}
	for (i = 0; i < 4; i++)
		fp_buf_reset(&buf[i]);
	return (size_t)n;
}

/* The agent's own timer: self-metrics (collectors push on their own). */
static void tick(void *arg)
{
	struct fp_agent *a = arg;
	struct fp_batch b;

	a->gathers++;
	fp_log_flush_suppressed(false);
	if (!a->cfg->self_metrics)
		return;
	fp_batch_init(&b);
	self_metrics(a, &b, fp_real_ns());
	/* never held back: this thread also handles the signals */
	fp_agent_dispatch(a, &b);
	fp_batch_reset(&b);
}

int64_t fp_agent_run_due(struct fp_agent *a)
{
	fp_sched_run_due(&a->sched, fp_mono_ns());
	return fp_sched_next(&a->sched);
}

/* Sums an integer self-metric field over the points of b. */
static int64_t sum_field(const struct fp_batch *b, const char *key)
{
	int64_t t = 0;
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct fp_field *f = fp_point_field(&b->pts[i], key);
		const char *comp = fp_point_tag_value(&b->pts[i], "component");
		/* "type/instance" only: finer points (a subscription of a
		 * broker) repeat what their instance already counts. */
		if (comp && strchr(comp, '/') && strchr(strchr(comp, '/') + 1, '/'))
			continue;
		if (f && f->type == FP_INT)
			t += f->v.i;
	}
	return t;
}

void fp_agent_status(struct fp_agent *a, char *buf, size_t len)
{
	const struct fp_config *c = a->cfg;
	struct fp_batch outs, cols;
	size_t i, n = 0;

	/* From the same self-metrics the outputs and collectors write. */
	fp_batch_init(&outs);
	fp_batch_init(&cols);
	for (i = 0; i < a->noutputs; i++)
		fp_output_metrics(a->outputs[i], &outs, c->site, c->hostname, 0);
	for (i = 0; i < a->ncollectors; i++)
		a->collectors[i].ops->metrics(a->collectors[i].inst, &cols, c->site, c->hostname,
					      0);
	/* Every collector type's count, configured or not. */
	for (i = 0; fp_collectors[i]; i++) {
		const struct fp_collector_ops *ops = fp_collectors[i];
		if (!ops->status_field || n >= len)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%lld %s",
				      (long long)sum_field(&cols, ops->status_field),
				      ops->status_what);
		if (ops->status_failed && n < len)
			n += (size_t)snprintf(buf + n, len - n, " (%lld failed)",
					      (long long)sum_field(&cols, ops->status_failed));
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, ", ");
	}
	if (n < len)
		snprintf(buf + n, len - n, "%llu points gathered, %lld written, %lld in spools",
			 (unsigned long long)a->points_gathered,
			 (long long)sum_field(&outs, "points_written"),
			 (long long)sum_field(&outs, "points_spooled"));
	fp_batch_reset(&outs);
	fp_batch_reset(&cols);
}
