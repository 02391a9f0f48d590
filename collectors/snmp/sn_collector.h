/* sn_collector.h - the SNMP collector at run time (net-snmp).
 *
 * Each device has its own thread and its own net-snmp session (the
 * single-session API), so a device that does not answer only waits out
 * its own timeout and retries while the others keep their schedules; a
 * dead device backs off (doubling, capped at four intervals).  A poll is
 * the GETs of the device's scalars (sysUpTime.0 first when it has
 * counters), then one GETBULK walk of all its table columns together.  A
 * value the device does not have (noSuchObject, noSuchInstance,
 * endOfMibView) or of the wrong type costs that value only, logged
 * rate-limited.  Points go to the push callback from the device threads.
 */
#ifndef FP_SN_COLLECTOR_H
#define FP_SN_COLLECTOR_H

#include "collector.h"
#include "sn_config.h"

/* The SNMP collector: config fp_sn_config_parse (a struct fp_sn_config),
 * instance a struct fp_sn_collector (its config is borrowed and must
 * outlive it). */
extern const struct fp_collector_ops fp_snmp_collector;

#endif
