/* spool.h - a crash-safe, bounded, on-disk FIFO of line-protocol records:
 * the write-ahead log of an InfluxDB output (state_dir/spool/<output>).
 *
 * Layout: segment files seg-<20-digit id>.log appended in order, each a
 * sequence of records
 *     u32 magic "FPS1" | u32 length | u32 points | u32 crc32 | payload
 * (little-endian; the CRC covers length, points and payload), plus a file
 * "cursor" naming the first record not yet delivered, replaced atomically
 * (write, rename).
 *
 * Crash safety: a torn or corrupt record (power cut, kill -9 mid-write) is
 * detected by its CRC; at open the tail of the newest segment is cut back
 * to the last whole record, and a damaged record elsewhere is skipped by
 * scanning forward to the next valid one.  Everything before it survives;
 * skipped bytes are counted and logged.  Segments are read in bounded
 * pieces (memory does not grow with a file's size) and the scan is linear
 * in the file's size even for hostile content (a bounded budget for false
 * record headers; past it the rest of that segment counts as damage).
 *
 * Hostile or damaged state: a segment file that cannot be opened or read,
 * or that is not a regular file (a symbolic link is never followed), is
 * renamed seg-<id>.log.bad (.bad.N if taken), counted in
 * segments_set_aside and logged, and the rest of the spool is used.  A
 * cursor that cannot be trusted (unreadable, unparsable, naming a segment
 * past the newest, or an offset that is not a record boundary of its
 * segment with the points before it) is ignored: delivery starts again at
 * the oldest record, counted in cursor_resets and logged.
 *
 * Bound: the total size is kept under max_bytes by deleting the oldest
 * segments; the points they held that were not yet delivered are counted
 * in evicted_points and logged, never silently.
 *
 * Durability (fsync policy):
 *   always    each append and each cursor move is fsynced before the call
 *             returns: an appended record survives a power cut;
 *   interval  fp_spool_sync (called every fsync_interval by the owner)
 *             fsyncs: a power cut loses at most that interval; a crash of
 *             the process alone loses nothing (data is in the page cache);
 *   never     the kernel decides; a process crash still loses nothing.
 * A cursor that lags behind after a crash makes records be delivered
 * again: delivery is at-least-once, and InfluxDB stores a re-sent point
 * (same series, same timestamp) once.
 *
 * Threads: fp_spool_append may be called from any thread; the reading
 * side (peek, commit) from one consumer thread.  All calls are serialised
 * by an internal mutex; file I/O happens under it.
 */
#ifndef FP_SPOOL_H
#define FP_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum fp_fsync { FP_FSYNC_ALWAYS, FP_FSYNC_INTERVAL, FP_FSYNC_NEVER };

struct fp_spool;

struct fp_spool_pos {
	uint64_t seg;
	uint64_t off;
	uint64_t points; /* points consumed in seg up to off */
};

struct fp_spool_stats {
	uint64_t bytes;		 /* on disk, all segments */
	uint64_t pending_points; /* appended, not yet committed */
	uint64_t appended_points;
	uint64_t evicted_points;
	uint64_t corrupt_bytes;	     /* skipped as damaged */
	uint64_t append_errors;	     /* appends that failed (disk full ...) */
	uint64_t cursor_resets;	     /* cursors not trusted at open: replayed from the oldest */
	uint64_t segments_set_aside; /* unusable segment files renamed *.bad at open */
};

/* Opens (creating) the spool in dir, recovering what is there.  NULL with
 * -errno in *err. */
struct fp_spool *fp_spool_open(const char *dir, uint64_t max_bytes, enum fp_fsync policy, int *err);
void fp_spool_close(struct fp_spool *s);

/* Appends one record.  0, or -errno (-ENOSPC, -EIO, -EFBIG when a record
 * alone is larger than the spool).  On failure nothing is appended. */
int fp_spool_append(struct fp_spool *s, const char *data, size_t len, uint32_t npoints);

/* Reads whole records from the cursor into out (appended) until adding the
 * next one would pass max_points or max_bytes (at least one record is
 * read when there is one).  *end receives the position after them, *npoints
 * their points.  Returns the number of records (0: empty), or -errno. */
int fp_spool_peek(struct fp_spool *s, size_t max_points, size_t max_bytes, struct fp_buf *out,
		  size_t *npoints, struct fp_spool_pos *end);
/* The same from the position from (an end returned by an earlier peek and
 * not yet committed; NULL: the cursor), to read the next batch while the
 * one before is still being delivered.  A position in a segment evicted
 * since reads on from the oldest segment, as the cursor would. */
int fp_spool_peek_from(struct fp_spool *s, const struct fp_spool_pos *from, size_t max_points,
		       size_t max_bytes, struct fp_buf *out, size_t *npoints,
		       struct fp_spool_pos *end);
/* Marks everything before end as delivered; deletes consumed segments. */
int fp_spool_commit(struct fp_spool *s, const struct fp_spool_pos *end);
/* Waits up to timeout_ms for something pending; returns pending points. */
uint64_t fp_spool_wait(struct fp_spool *s, int64_t timeout_ms);
/* Wakes fp_spool_wait callers (shutdown). */
void fp_spool_wake(struct fp_spool *s);
/* fsyncs the active segment and the cursor if anything changed. */
void fp_spool_sync(struct fp_spool *s);
void fp_spool_stats(struct fp_spool *s, struct fp_spool_stats *st);

/* Record helpers, exposed for tests and the fuzz target. */
#define FP_SPOOL_HDR 16
#define FP_SPOOL_MAX_RECORD (64u << 20)
void fp_spool_encode_header(unsigned char hdr[FP_SPOOL_HDR], const char *data, uint32_t len,
			    uint32_t npoints);
/* Validates the record at buf (n bytes available): its total size, or 0
 * when there is no valid record there. */
size_t fp_spool_check_record(const unsigned char *buf, size_t n, uint32_t *npoints);

#endif
