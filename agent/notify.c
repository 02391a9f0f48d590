/* notify.c - systemd notifications through libsystemd when configured. */
#include "config.h"

#include "notify.h"

#include <stdarg.h>
#include <stdio.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

void fp_notify(const char *fmt, ...)
{
#ifdef HAVE_SYSTEMD
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_notify(0, msg);
#else
	(void)fmt;
#endif
}

int64_t fp_notify_watchdog_ns(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		return (int64_t)usec * 1000 / 2;
#endif
	return 0;
}
