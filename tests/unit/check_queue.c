/* check_queue.c - the bounded queue and the scheduler. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "fp_check.h"
#include "queue.h"
#include "sched.h"
#include "util.h"

static struct fp_chunk *mk(size_t npoints)
{
	return fp_chunk_new(fp_xstrdup("m v=1 1\n"), 8, npoints);
}

START_TEST(test_queue_fifo)
{
	struct fp_queue q;
	struct fp_chunk *a = mk(1), *b = mk(2), *c;

	fp_queue_init(&q, 10);
	ck_assert_int_eq(fp_queue_push(&q, a), 0);
	ck_assert_int_eq(fp_queue_push(&q, b), 0);
	ck_assert_uint_eq(fp_queue_points(&q), 3);
	c = fp_queue_pop(&q, 0);
	ck_assert_ptr_eq(c, a);
	fp_queue_unpop(&q, c);
	ck_assert_ptr_eq(fp_queue_pop(&q, 0), a);
	ck_assert_ptr_eq(fp_queue_pop(&q, 0), b);
	ck_assert_ptr_null(fp_queue_pop(&q, 0));
	fp_chunk_free(a);
	fp_chunk_free(b);
	fp_queue_destroy(&q);
}
END_TEST

/* take: the head's chunks that fit the byte limit, at least one, in order,
 * and the counts follow. */
START_TEST(test_queue_take)
{
	struct fp_queue q;
	struct fp_chunk *c[4], *l, *n;
	size_t i;

	fp_queue_init(&q, 100);
	ck_assert_ptr_null(fp_queue_take(&q, 1000, 1000));
	for (i = 0; i < 4; i++) {
		c[i] = mk(i + 1);
		ck_assert_int_eq(fp_queue_push(&q, c[i]), 0);
	}
	l = fp_queue_take(&q, 20, 100); /* two chunks of 8 bytes fit, not three */
	ck_assert_ptr_eq(l, c[0]);
	ck_assert_ptr_eq(l->next, c[1]);
	ck_assert_ptr_null(c[1]->next);
	ck_assert_uint_eq(fp_queue_points(&q), 3 + 4);
	ck_assert_uint_eq(q.bytes, 16);
	ck_assert_uint_eq(q.chunks, 2);
	for (; l; l = n) {
		n = l->next;
		fp_chunk_free(l);
	}
	l = fp_queue_take(&q, 1, 1); /* too small for one: still one */
	ck_assert_ptr_eq(l, c[2]);
	ck_assert_ptr_null(l->next);
	fp_chunk_free(l);
	l = fp_queue_take(&q, 1000, 3); /* c[3] has 4 points: alone, still taken */
	ck_assert_ptr_eq(l, c[3]);
	ck_assert_ptr_null(q.head);
	ck_assert_ptr_null(q.tail);
	ck_assert_uint_eq(fp_queue_points(&q), 0);
	/* the queue works on after it was emptied */
	ck_assert_int_eq(fp_queue_push(&q, l), 0);
	ck_assert_ptr_eq(fp_queue_pop(&q, 0), l);
	fp_chunk_free(l);
	fp_queue_destroy(&q);
}
END_TEST

/* take by points, and join: one chunk with the data in order */
START_TEST(test_queue_take_points_join)
{
	struct fp_queue q;
	struct fp_chunk *l, *j;
	size_t i;

	fp_queue_init(&q, 100);
	for (i = 1; i <= 3; i++)
		ck_assert_int_eq(
			fp_queue_push(&q, fp_chunk_new(fp_xasprintf("m v=%zu %zu\n", i, i), 8, i)),
			0);
	l = fp_queue_take(&q, 1000, 3); /* 1 + 2 points fit, not 1 + 2 + 3 */
	ck_assert_ptr_nonnull(l->next);
	j = fp_chunk_join(l);
	ck_assert_ptr_null(j->next);
	ck_assert_uint_eq(j->npoints, 3);
	ck_assert_uint_eq(j->len, 16);
	ck_assert_str_eq(j->data, "m v=1 1\nm v=2 2\n");
	fp_chunk_free(j);
	l = fp_queue_take(&q, 1000, 3);
	ck_assert_ptr_eq(fp_chunk_join(l), l); /* alone: itself */
	ck_assert_uint_eq(l->npoints, 3);
	fp_chunk_free(l);
	ck_assert_ptr_null(fp_queue_take(&q, 1000, 3));
	fp_queue_destroy(&q);
}
END_TEST

START_TEST(test_queue_bound)
{
	struct fp_queue q;
	struct fp_chunk *c;
	int i, accepted = 0;

	fp_queue_init(&q, 100);
	for (i = 0; i < 50; i++) {
		c = mk(7);
		if (fp_queue_push(&q, c) == 0)
			accepted++;
		else
			fp_chunk_free(c);
	}
	/* Accepted while below the bound: 15 chunks = 105 points. */
	ck_assert_int_eq(accepted, 15);
	ck_assert_uint_le(fp_queue_points(&q), 100 + 7);
	c = mk(1);
	ck_assert_int_eq(fp_queue_push(&q, c), -ENOSPC);
	fp_chunk_free(c);
	fp_queue_destroy(&q);
}
END_TEST

/* The load counts what the consumer holds: a producer that saw room keeps
 * it even if a failed write puts a chunk back meanwhile. */
START_TEST(test_queue_load_counts_held)
{
	struct fp_queue q;
	struct fp_chunk *a, *b, *c;

	fp_queue_init(&q, 100);
	ck_assert_int_eq(fp_queue_push(&q, mk(60)), 0);
	ck_assert_int_eq(fp_queue_push(&q, mk(30)), 0);
	a = fp_queue_pop(&q, 0); /* 60 held */
	ck_assert_uint_eq(fp_queue_points(&q), 30);
	ck_assert_uint_eq(fp_queue_load(&q), 90);
	b = fp_queue_take(&q, SIZE_MAX, SIZE_MAX); /* 30 more held */
	ck_assert_uint_eq(fp_queue_load(&q), 90);
	/* load 90 < 100: one push of 9 must succeed whatever happens next */
	fp_queue_unpop(&q, b); /* the write failed */
	ck_assert_uint_eq(fp_queue_load(&q), 90);
	c = mk(9);
	ck_assert_int_eq(fp_queue_push(&q, c), 0);
	fp_queue_unpop(&q, a);
	ck_assert_uint_eq(fp_queue_points(&q), 99);
	ck_assert_uint_eq(fp_queue_load(&q), 99);
	a = fp_queue_pop(&q, 0);
	fp_queue_done(&q, a->npoints); /* written */
	fp_chunk_free(a);
	ck_assert_uint_eq(fp_queue_load(&q), 39);
	fp_queue_destroy(&q);
}
END_TEST

START_TEST(test_queue_close_wakes_and_drains)
{
	struct fp_queue q;
	struct fp_chunk *c;

	fp_queue_init(&q, 10);
	ck_assert_int_eq(fp_queue_push(&q, mk(1)), 0);
	fp_queue_close(&q);
	c = mk(1);
	ck_assert_int_eq(fp_queue_push(&q, c), -EPIPE);
	fp_chunk_free(c);
	c = fp_queue_pop(&q, -1);
	ck_assert_ptr_nonnull(c);
	fp_chunk_free(c);
	ck_assert_ptr_null(fp_queue_pop(&q, -1)); /* closed and empty: no hang */
	fp_queue_destroy(&q);
}
END_TEST

static void *producer(void *arg)
{
	struct fp_queue *q = arg;
	int i;

	for (i = 0; i < 10000; i++) {
		struct fp_chunk *c = mk(1);
		while (fp_queue_push(q, c) == -ENOSPC)
			sched_yield();
	}
	return NULL;
}

START_TEST(test_queue_threads)
{
	struct fp_queue q;
	pthread_t t[2];
	int got = 0;

	fp_queue_init(&q, 64);
	pthread_create(&t[0], NULL, producer, &q);
	pthread_create(&t[1], NULL, producer, &q);
	while (got < 20000) {
		struct fp_chunk *c = fp_queue_pop(&q, 5000);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_le(fp_queue_points(&q), 64 + 1);
		fp_chunk_free(c);
		got++;
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	ck_assert_ptr_null(fp_queue_pop(&q, 0));
	fp_queue_destroy(&q);
}
END_TEST

START_TEST(test_queue_pop_timeout)
{
	struct fp_queue q;
	int64_t t0;

	fp_queue_init(&q, 10);
	t0 = fp_mono_ns();
	ck_assert_ptr_null(fp_queue_pop(&q, 50));
	ck_assert_int_ge(fp_mono_ns() - t0, 45 * 1000000LL);
	fp_queue_destroy(&q);
}
END_TEST

START_TEST(test_sched_aligned_deadline)
{
	const int64_t s = 1000000000LL;

	/* Real clock at 12.3 s, 10 s interval: next at 20 s, 7.7 s away. */
	ck_assert_int_eq(fp_sched_deadline(1000 * s, 12 * s + 300000000LL, 10 * s, true),
			 1000 * s + 7 * s + 700000000LL);
	ck_assert_int_eq(fp_sched_deadline(1000 * s, 20 * s, 10 * s, true), 1010 * s);
	ck_assert_int_eq(fp_sched_deadline(1000 * s, 12 * s, 10 * s, false), 1010 * s);
}
END_TEST

static void count(void *arg)
{
	(*(int *)arg)++;
}

START_TEST(test_sched_skips_missed_runs)
{
	struct fp_sched s;
	int n = 0;
	int64_t now;

	fp_sched_init(&s);
	fp_sched_add(&s, 1000000LL, false, count, &n);
	now = fp_sched_next(&s);
	/* Far behind: one run, and the next deadline is in the future. */
	ck_assert_int_eq(fp_sched_run_due(&s, now + 50000000LL), 1);
	ck_assert_int_eq(n, 1);
	ck_assert_int_gt(fp_sched_next(&s), now + 50000000LL);
	ck_assert_int_eq(fp_sched_run_due(&s, now + 50000000LL), 0);
	fp_sched_reset(&s);
}
END_TEST

static Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *core = tcase_create("core"), *lim = tcase_create("limits"),
	      *sch = tcase_create("sched");

	tcase_add_test(core, test_queue_fifo);
	tcase_add_test(core, test_queue_close_wakes_and_drains);
	tcase_add_test(core, test_queue_threads);
	tcase_add_test(core, test_queue_take);
	tcase_add_test(core, test_queue_take_points_join);
	tcase_add_test(lim, test_queue_bound);
	tcase_add_test(lim, test_queue_load_counts_held);
	tcase_add_test(lim, test_queue_pop_timeout);
	tcase_add_test(sch, test_sched_aligned_deadline);
	tcase_add_test(sch, test_sched_skips_missed_runs);
	tcase_set_timeout(core, 60);
	suite_add_tcase(s, core);
	suite_add_tcase(s, lim);
	suite_add_tcase(s, sch);
	return s;
}

FP_CHECK_MAIN(queue_suite)
