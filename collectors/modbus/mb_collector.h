/* mb_collector.h - the Modbus collector at run time.
 *
 * Devices that share a connection (the same tcp://host:port or the same
 * serial port) share one owner thread, which serialises their requests
 * (with an optional pause between requests); different connections poll
 * in parallel and never block each other.  Each device keeps its own
 * schedule; a dead device backs off (doubling, capped at four intervals)
 * while the others keep theirs.  After a timeout a TCP connection is
 * closed and reopened, and a serial line flushed and drained, so a late
 * reply is never taken as the answer to the next request.  Points go to
 * the push callback from the connection threads.
 */
#ifndef FP_MB_COLLECTOR_H
#define FP_MB_COLLECTOR_H

#include "conf.h"
#include "mb_config.h"
#include "point.h"

struct fp_mb_collector;

#include "collector.h"

/* cfg is borrowed and must outlive the collector. */
struct fp_mb_collector *fp_mb_collector_new(const struct fp_mb_config *mc,
					    const struct fp_config *cfg, fp_push_fn push,
					    void *arg);
int fp_mb_collector_start(struct fp_mb_collector *c);
/* Polls every device once, in the calling thread (--test, --once). */
void fp_mb_collector_gather(struct fp_mb_collector *c, struct fp_batch *out);
void fp_mb_collector_stop(struct fp_mb_collector *c);
void fp_mb_collector_metrics(struct fp_mb_collector *c, struct fp_batch *b, const char *site,
			     const char *host, int64_t ts_ns);
void fp_mb_collector_free(struct fp_mb_collector *c);

#endif
