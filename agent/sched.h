/* sched.h - timers on the monotonic clock.
 *
 * Deadlines are kept on CLOCK_MONOTONIC so a wall-clock step never makes a
 * poll run twice or stall; with align set, each deadline is placed on the
 * next multiple of the interval of the real-time clock (so a 10 s interval
 * gathers at :00, :10, ...), measured once when the timer is (re)armed.
 * If the loop falls behind, missed runs are skipped, not bunched.
 * Used from one thread.
 */
#ifndef FP_SCHED_H
#define FP_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fp_timer {
	int64_t interval_ns;
	bool align;
	int64_t next_ns; /* monotonic deadline */
	void (*fn)(void *arg);
	void *arg;
};

struct fp_sched {
	struct fp_timer *timers;
	size_t n, cap;
};

void fp_sched_init(struct fp_sched *s);
void fp_sched_reset(struct fp_sched *s);
/* Adds a timer whose first run is due after one interval (or at the next
 * aligned instant).  Returns its index. */
size_t fp_sched_add(struct fp_sched *s, int64_t interval_ns, bool align, void (*fn)(void *),
		    void *arg);
/* Earliest deadline (monotonic ns); INT64_MAX when there is no timer. */
int64_t fp_sched_next(const struct fp_sched *s);
/* Runs every timer due at mono_now; returns how many ran. */
int fp_sched_run_due(struct fp_sched *s, int64_t mono_now);

/* The next deadline after mono_now for an interval, aligned to the real
 * clock when align is set (exposed for tests). */
int64_t fp_sched_deadline(int64_t mono_now, int64_t real_now, int64_t interval_ns, bool align);

#endif
