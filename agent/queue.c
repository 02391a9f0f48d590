/* queue.c - a bounded FIFO of encoded line-protocol chunks. */
#include "config.h"

#include "queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

struct fp_chunk *fp_chunk_new(char *data, size_t len, size_t npoints)
{
	struct fp_chunk *c = fp_xcalloc(1, sizeof(*c));

	c->data = data;
	c->len = len;
	c->npoints = npoints;
	return c;
}

void fp_chunk_free(struct fp_chunk *c)
{
	if (!c)
		return;
	free(c->data);
	free(c);
}

void fp_queue_init(struct fp_queue *q, size_t max_points)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	fp_cond_init_mono(&q->cond);
	q->max_points = max_points;
}

void fp_queue_destroy(struct fp_queue *q)
{
	struct fp_chunk *c, *n;

	if (!q)
		return;
	for (c = q->head; c; c = n) {
		n = c->next;
		fp_chunk_free(c);
	}
	q->head = q->tail = NULL;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
}

int fp_queue_push(struct fp_queue *q, struct fp_chunk *c)
{
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	if (q->closed)
		rc = -EPIPE;
	else if (q->points >= q->max_points)
		rc = -ENOSPC;
	else {
		bool was_empty = !q->head;
		c->next = NULL;
		if (q->tail)
			q->tail->next = c;
		else
			q->head = c;
		q->tail = c;
		q->points += c->npoints;
		q->bytes += c->len;
		q->chunks++;
		/* The consumer waits only for an empty queue to fill: no
		 * wake-up (a system call) per chunk in a flood. */
		if (was_empty)
			pthread_cond_signal(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void fp_queue_unpop(struct fp_queue *q, struct fp_chunk *c)
{
	pthread_mutex_lock(&q->lock);
	c->next = q->head;
	q->head = c;
	if (!q->tail)
		q->tail = c;
	q->points += c->npoints;
	q->bytes += c->len;
	q->chunks++;
	q->held -= c->npoints < q->held ? c->npoints : q->held;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void fp_queue_done(struct fp_queue *q, size_t npoints)
{
	pthread_mutex_lock(&q->lock);
	q->held -= npoints < q->held ? npoints : q->held;
	pthread_mutex_unlock(&q->lock);
}

size_t fp_queue_load(struct fp_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->points + q->held;
	pthread_mutex_unlock(&q->lock);
	return n;
}

struct fp_chunk *fp_queue_pop(struct fp_queue *q, int64_t timeout_ms)
{
	struct fp_chunk *c = NULL;
	struct timespec dl;

	if (timeout_ms > 0)
		fp_mono_deadline(&dl, timeout_ms);
	pthread_mutex_lock(&q->lock);
	/* timeout 0 never waits: a waiter, even for no time, makes the
	 * producers' signals system calls */
	while (!q->head && !q->closed && timeout_ms != 0) {
		if (timeout_ms < 0)
			pthread_cond_wait(&q->cond, &q->lock);
		else if (pthread_cond_timedwait(&q->cond, &q->lock, &dl) == ETIMEDOUT)
			break;
	}
	if (q->head) {
		c = q->head;
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		c->next = NULL;
		q->points -= c->npoints;
		q->bytes -= c->len;
		q->chunks--;
		q->held += c->npoints;
	}
	pthread_mutex_unlock(&q->lock);
	return c;
}

struct fp_chunk *fp_chunk_join(struct fp_chunk *l)
{
	struct fp_chunk *c, *n;
	size_t len = 0, np = 0;
	char *d;

	if (!l || !l->next)
		return l;
	for (c = l; c; c = c->next) {
		len += c->len;
		np += c->npoints;
	}
	d = fp_xmalloc(len + 1);
	len = 0;
	for (c = l; c; c = n) {
		n = c->next;
		memcpy(d + len, c->data, c->len);
		len += c->len;
		fp_chunk_free(c);
	}
	d[len] = '\0';
	return fp_chunk_new(d, len, np);
}

struct fp_chunk *fp_queue_take(struct fp_queue *q, size_t max_bytes, size_t max_points)
{
	struct fp_chunk *first, *last, *c;
	size_t bytes, points = 0, n = 0;

	pthread_mutex_lock(&q->lock);
	first = q->head;
	if (!first) {
		pthread_mutex_unlock(&q->lock);
		return NULL;
	}
	last = first;
	bytes = first->len;
	points = first->npoints;
	n = 1;
	for (c = first->next; c && bytes + c->len <= max_bytes && points + c->npoints <= max_points;
	     c = c->next) {
		last = c;
		bytes += c->len;
		points += c->npoints;
		n++;
	}
	q->head = last->next;
	if (!q->head)
		q->tail = NULL;
	last->next = NULL;
	q->points -= points;
	q->bytes -= bytes;
	q->chunks -= n;
	q->held += points;
	pthread_mutex_unlock(&q->lock);
	return first;
}

void fp_queue_close(struct fp_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

size_t fp_queue_points(struct fp_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->points;
	pthread_mutex_unlock(&q->lock);
	return n;
}
