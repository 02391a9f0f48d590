/* queue.h - a bounded FIFO of encoded line-protocol chunks between the
 * gatherers (main thread) and one output's writer thread.
 *
 * The bound is in points (max_points).  A chunk is accepted while the
 * queue holds fewer than max_points points, so the queue never holds more
 * than max_points plus one chunk.  Thread-safe; any number of producers and
 * consumers.
 */
#ifndef FP_QUEUE_H
#define FP_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct fp_chunk {
	char *data; /* line protocol, '\n'-terminated lines */
	size_t len;
	size_t npoints;
	struct fp_chunk *next;
};

/* Makes a chunk that owns data (which must come from malloc). */
struct fp_chunk *fp_chunk_new(char *data, size_t len, size_t npoints);
void fp_chunk_free(struct fp_chunk *c);

struct fp_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct fp_chunk *head, *tail;
	size_t points, bytes, chunks;
	size_t held; /* points popped or taken, not yet done or unpopped */
	size_t max_points;
	int closed;
};

void fp_queue_init(struct fp_queue *q, size_t max_points);
/* The consumer is done with npoints it popped or took (written, or given
 * up): they no longer count in fp_queue_load. */
void fp_queue_done(struct fp_queue *q, size_t npoints);
/* Points queued plus those the consumer holds: what an unpop can bring
 * back.  A producer that sees load < max_points (and pushes alone) can push
 * one chunk without -ENOSPC whatever the consumer does meanwhile. */
size_t fp_queue_load(struct fp_queue *q);
/* Frees the chunks still queued. */
void fp_queue_destroy(struct fp_queue *q);
/* Takes c on success (0).  -ENOSPC when full, -EPIPE when closed: c is
 * then still the caller's. */
int fp_queue_push(struct fp_queue *q, struct fp_chunk *c);
/* Waits up to timeout_ms (-1: forever) for a chunk.  NULL on timeout or
 * when the queue is closed and empty.  The caller owns the chunk. */
struct fp_chunk *fp_queue_pop(struct fp_queue *q, int64_t timeout_ms);
/* Takes the chunks at the head, as many as fit in max_bytes and
 * max_points (at least one), in one step and without waiting: a list
 * linked by next, NULL when the queue is empty. */
struct fp_chunk *fp_queue_take(struct fp_queue *q, size_t max_bytes, size_t max_points);
/* One chunk with the data of the list l (which it frees); l itself when
 * it has one chunk. */
struct fp_chunk *fp_chunk_join(struct fp_chunk *l);
/* Puts c back at the head (a writer that could not deliver it); never
 * fails and ignores the bound, so nothing is lost. */
void fp_queue_unpop(struct fp_queue *q, struct fp_chunk *c);
/* Wakes every waiter; later pushes fail, pops drain what is left. */
void fp_queue_close(struct fp_queue *q);
size_t fp_queue_points(struct fp_queue *q);

#endif
