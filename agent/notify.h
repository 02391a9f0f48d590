/* notify.h - systemd notifications (READY, STATUS, WATCHDOG, RELOADING,
 * STOPPING).  No-ops without libsystemd or outside systemd. */
#ifndef FP_NOTIFY_H
#define FP_NOTIFY_H

#include <stdint.h>

void fp_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog ping period in ns (half of WatchdogSec), 0 when off. */
int64_t fp_notify_watchdog_ns(void);

#endif
