/* sched.c - timers on the monotonic clock. */
#include "config.h"

#include "sched.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void fp_sched_init(struct fp_sched *s)
{
	memset(s, 0, sizeof(*s));
}

void fp_sched_reset(struct fp_sched *s)
{
	free(s->timers);
	fp_sched_init(s);
}

int64_t fp_sched_deadline(int64_t mono_now, int64_t real_now, int64_t interval_ns, bool align)
{
	int64_t wait = interval_ns;

	if (interval_ns <= 0)
		return mono_now;
	if (align && real_now >= 0) {
		wait = interval_ns - real_now % interval_ns;
		if (wait <= 0)
			wait = interval_ns;
	}
	return mono_now + wait;
}

size_t fp_sched_add(struct fp_sched *s, int64_t interval_ns, bool align, void (*fn)(void *),
		    void *arg)
{
	struct fp_timer *t;

	fp_xgrow((void **)&s->timers, &s->cap, s->n + 1, sizeof(*s->timers));
	t = &s->timers[s->n];
	t->interval_ns = interval_ns;
	t->align = align;
	t->fn = fn;
	t->arg = arg;
	t->next_ns = fp_sched_deadline(fp_mono_ns(), fp_real_ns(), interval_ns, align);
	return s->n++;
}

int64_t fp_sched_next(const struct fp_sched *s)
{
	int64_t best = INT64_MAX;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->timers[i].next_ns < best)
			best = s->timers[i].next_ns;
	return best;
}

int fp_sched_run_due(struct fp_sched *s, int64_t mono_now)
{
	size_t i;
	int ran = 0;

	for (i = 0; i < s->n; i++) {
		struct fp_timer *t = &s->timers[i];
		if (t->next_ns > mono_now)
			continue;
		/* Next deadline first, so fn may change the interval. */
		if (t->align)
			t->next_ns = fp_sched_deadline(mono_now, fp_real_ns(), t->interval_ns,
						       true);
		else {
			t->next_ns += t->interval_ns;
			if (t->next_ns <= mono_now) /* fell behind: skip, don't bunch */
				t->next_ns = mono_now + t->interval_ns;
		}
		t->fn(t->arg);
		ran++;
	}
	return ran;
}
