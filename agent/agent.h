/* agent.h - one running configuration: outputs, schedule, self-metrics.
 *
 * The main thread owns the agent.  fp_agent_new builds everything from a
 * validated config (borrowed: it must outlive the agent), fp_agent_gather
 * runs what is due, fp_agent_free drains the outputs (bounded by
 * agent.shutdown_timeout) and frees.
 */
#ifndef FP_AGENT_H
#define FP_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "collector.h"
#include "conf.h"
#include "log.h"
#include "output.h"
#include "point.h"
#include "sched.h"

struct fp_agent {
	const struct fp_config *cfg;
	struct fp_output **outputs;
	size_t noutputs;
	struct fp_collector *collectors; /* one per configured collector (owned) */
	size_t ncollectors;
	struct fp_ind *ind;   /* the indicator engine (NULL in dry runs) */
	pthread_mutex_t lock; /* the backpressure wait, --test's stdout */
	pthread_cond_t room;  /* backpressure: waits for an output with room */
	/* Dispatch runs in the collectors' threads at once: ind_lock guards
	 * the pointer ind (read by dispatch, cleared by fp_agent_stop), the
	 * engine has its own lock; out_locks[i] serialises the submits to
	 * output i and its rate-limited complaints (outputs[i] queues are
	 * thread-safe, their complaint state is not). */
	pthread_rwlock_t ind_lock;
	pthread_mutex_t *out_locks;
	atomic_bool stopping;
	uint64_t backpressure_waits; /* 100 ms waits of a collector, in all */
	struct fp_complain bp_log;
	struct fp_sched sched;
	int64_t started_ns; /* monotonic */
	uint64_t gathers;
	_Atomic uint64_t points_gathered, points_skipped;
	bool dry_run; /* --test: print to stdout instead of outputs */
};

/* Creates the state directory and opens the outputs (unless dry_run).
 * Returns NULL after logging the reason. */
struct fp_agent *fp_agent_new(const struct fp_config *cfg, bool dry_run);
void fp_agent_free(struct fp_agent *a);
/* Stops the outputs, letting them deliver for at most timeout_ms
 * (fp_agent_free does this with agent.shutdown_timeout). */
void fp_agent_stop(struct fp_agent *a, int64_t timeout_ms);

/* Starts the collectors' threads (the daemon); with push_only, only the
 * collectors that push (those without gather), for --test --test-wait. */
int fp_agent_start(struct fp_agent *a, bool push_only);
/* Polls every collector that gathers once now, in this thread, into b:
 * --test and --once. */
void fp_agent_gather(struct fp_agent *a, struct fp_batch *b);
/* Appends the self-metrics (when agent.self_metrics) to b: after the
 * gathered batch was dispatched, so that they count its points. */
void fp_agent_self_metrics(struct fp_agent *a, struct fp_batch *b);
/* Encodes and dispatches b (thread-safe; the collectors' push callback).
 * While every output is saturated (queue full, spool unwritable) the
 * caller waits, in steps of 100 ms, until one has room or the agent
 * stops: a collector is held back rather than its points dropped (a
 * pushed message then stays unacknowledged at its source). */
void fp_agent_push(void *agent, struct fp_batch *b);
/* Encodes b once and hands it to every output (or stdout when dry_run);
 * thread-safe, several threads encode at once (see struct fp_agent).
 * Returns the number of points written into line protocol. */
size_t fp_agent_dispatch(struct fp_agent *a, const struct fp_batch *b);
/* Runs the timers due now; returns the next deadline (monotonic ns). */
int64_t fp_agent_run_due(struct fp_agent *a);
/* A one-line summary for logs and systemd STATUS=. */
void fp_agent_status(struct fp_agent *a, char *buf, size_t len);

#endif
