/* mb_collector.h - the Modbus collector at run time.
 *
 * Devices that share a connection (the same tcp://host:port or the same
 * serial port) share one owner thread, which serialises their requests
 * (with an optional pause between requests); different connections poll
 * in parallel and never block each other.  Each device keeps its own
 * schedule; a dead device backs off (doubling, capped at four intervals)
 * while the others keep theirs.  After a timeout a TCP connection is
 * closed and reopened, and a serial line flushed and drained, so a late
 * reply is never taken as the answer to the next request, nor a reply
 * from another unit as this one's.  A register the device does not serve
 * costs only its field, in the same poll; the field is retried after 1,
 * 2, 4 ... polls.  Points go to the push callback from the connection
 * threads.
 */
#ifndef FP_MB_COLLECTOR_H
#define FP_MB_COLLECTOR_H

#include "collector.h"
#include "mb_config.h"

/* The Modbus collector: config fp_mb_config_parse (a struct fp_mb_config),
 * instance a struct fp_mb_collector (its config is borrowed and must
 * outlive it). */
extern const struct fp_collector_ops fp_modbus_collector;

#endif
