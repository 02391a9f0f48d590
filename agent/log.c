/* log.c - logging to stderr with syslog priorities. */
#include "config.h"

#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int max_level = LOG_INFO;
static int use_prefix = -1;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const names[] = {
	"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

void fp_log_init(int level)
{
	max_level = level;
	use_prefix = getenv("JOURNAL_STREAM") != NULL || !isatty(STDERR_FILENO);
}

void fp_log_set_level(int level)
{
	max_level = level;
}

static void vlog(int prio, const char *fmt, va_list ap)
{
	char msg[1024];

	if (prio > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (use_prefix < 0)
		use_prefix = getenv("JOURNAL_STREAM") != NULL || !isatty(STDERR_FILENO);
	pthread_mutex_lock(&log_lock);
	if (use_prefix)
		fprintf(stderr, "<%d>%s\n", prio, msg);
	else
		fprintf(stderr, "%s: %s\n", names[prio & 7], msg);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void fp_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
}

void fp_complain(struct fp_complain *c, int prio, const char *fmt, ...)
{
	int64_t now, iv = c->interval_ns ? c->interval_ns : 60LL * 1000000000LL;
	struct timespec ts;
	char msg[900];
	va_list ap;

	/* CLOCK_MONOTONIC (util's fp_mono_ns), read here: util logs when out
	 * of memory, so log must not depend on util. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	c->active = 1;
	if (c->last_ns && now - c->last_ns < iv) {
		c->suppressed++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->suppressed)
		fp_log(prio, "%s (%llu similar messages suppressed)", msg,
		       (unsigned long long)c->suppressed);
	else
		fp_log(prio, "%s", msg);
	c->suppressed = 0;
	c->last_ns = now;
}

void fp_release(struct fp_complain *c, int prio, const char *fmt, ...)
{
	va_list ap;

	if (!c->active)
		return;
	va_start(ap, fmt);
	vlog(prio, fmt, ap);
	va_end(ap);
	c->active = 0;
	c->last_ns = 0;
	c->suppressed = 0;
}
