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

/* msg into out (outlen >= 5) with its control characters escaped: C0
 * and DEL as \n \r \t \xNN, the C1 controls U+0080-U+009F (UTF-8 C2 80 -
 * C2 9F) as \u00NN.  Cut short (with "...") when out is full. */
static void escape(const char *msg, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)msg;
	size_t o = 0;

	for (; *p; p++) {
		char e[8];
		size_t n = 0;
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			e[n++] = '\\';
			e[n++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
		} else if (*p < 0x20 || *p == 0x7f) {
			e[n++] = '\\';
			e[n++] = 'x';
			e[n++] = hex[*p >> 4];
			e[n++] = hex[*p & 15];
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			p++;
			memcpy(e, "\\u00", 4);
			n = 4;
			e[n++] = hex[*p >> 4];
			e[n++] = hex[*p & 15];
		} else {
			e[n++] = (char)*p;
		}
		if (o + n + 4 > outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, e, n);
		o += n;
	}
	out[o] = '\0';
}

static void vlog(int prio, const char *fmt, va_list ap)
{
	char msg[1024], line[4096];

	if (prio > max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	escape(msg, line, sizeof(line));
	if (use_prefix < 0)
		use_prefix = getenv("JOURNAL_STREAM") != NULL || !isatty(STDERR_FILENO);
	pthread_mutex_lock(&log_lock);
	if (use_prefix)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "%s: %s\n", names[prio & 7], line);
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

/* ---- per-cause rate limits ---- */

static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fp_ratelimit *rl_list; /* every limiter used, under rl_lock */
static unsigned rl_burst = 5;
static int64_t rl_interval_ns = 60LL * 1000000000LL;

void fp_log_set_ratelimit(unsigned burst, int64_t interval_ns)
{
	pthread_mutex_lock(&rl_lock);
	rl_burst = burst ? burst : 5;
	rl_interval_ns = interval_ns > 0 ? interval_ns : 60LL * 1000000000LL;
	pthread_mutex_unlock(&rl_lock);
}

static int64_t mono_now(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC (util's fp_mono_ns), read here: log uses nothing
	 * of util */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Ends rl's interval when it is over at now: the count of what it
 * suppressed goes into sum (empty when nothing was); force ends it
 * now.  Under rl_lock. */
static void rl_roll(struct fp_ratelimit *rl, int64_t now, bool force, char *sum, size_t n,
		    int *prio)
{
	int64_t iv = rl->interval_ns ? rl->interval_ns : rl_interval_ns;

	sum[0] = '\0';
	if (!force && rl->begin_ns && now - rl->begin_ns < iv)
		return;
	if (rl->missed) {
		snprintf(sum, n, "%s: %llu similar messages suppressed in the last %lld s",
			 rl->name ? rl->name : "log", (unsigned long long)rl->missed,
			 (long long)((now - rl->begin_ns + 500000000LL) / 1000000000LL));
		*prio = rl->prio;
	}
	rl->begin_ns = 0;
	rl->printed = 0;
	rl->missed = 0;
}

bool fp_log_limited(struct fp_ratelimit *rl, int prio, const char *fmt, ...)
{
	char sum[256];
	int sprio = prio;
	bool pass;
	int64_t now = mono_now();
	va_list ap;

	if (prio > max_level)
		return false;
	pthread_mutex_lock(&rl_lock);
	if (!rl->listed) {
		rl->listed = true;
		rl->next = rl_list;
		rl_list = rl;
	}
	rl_roll(rl, now, false, sum, sizeof(sum), &sprio);
	if (!rl->begin_ns)
		rl->begin_ns = now;
	pass = rl->printed < (rl->burst ? rl->burst : rl_burst);
	if (pass)
		rl->printed++;
	else if (rl->missed++ == 0 || prio < rl->prio)
		rl->prio = prio; /* the summary gets the most severe level */
	pthread_mutex_unlock(&rl_lock);
	if (sum[0])
		fp_log(sprio, "%s", sum);
	if (pass) {
		va_start(ap, fmt);
		vlog(prio, fmt, ap);
		va_end(ap);
	}
	return pass;
}

void fp_log_flush_suppressed(bool force)
{
	struct fp_ratelimit *rl;
	int64_t now = mono_now();

	for (;;) {
		char sum[256];
		int prio = LOG_INFO;

		sum[0] = '\0';
		pthread_mutex_lock(&rl_lock);
		for (rl = rl_list; rl && !sum[0]; rl = rl->next)
			if (rl->missed)
				rl_roll(rl, now, force, sum, sizeof(sum), &prio);
		pthread_mutex_unlock(&rl_lock);
		if (!sum[0])
			break;
		fp_log(prio, "%s", sum);
	}
}
