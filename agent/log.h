/* log.h - logging to stderr with syslog priorities.
 *
 * When stderr goes to the journal (JOURNAL_STREAM set) or is not a
 * terminal, each line starts with the sd-daemon priority prefix "<N>" so
 * the journal records the level; on a terminal it starts with the level
 * name.  No timestamps: the journal adds them.  Thread-safe.
 *
 * Every message is one line: its control characters (newlines, carriage
 * returns, escapes, DEL, C1 controls in UTF-8) are written as \n, \r,
 * \t or \xNN, so text from the network (a topic, an event id) cannot
 * start a line of its own, or forge a priority prefix.
 */
#ifndef FP_LOG_H
#define FP_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

void fp_log_init(int max_level);
void fp_log_set_level(int max_level);

void fp_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define FP_ERR(...) fp_log(LOG_ERR, __VA_ARGS__)
#define FP_WARN(...) fp_log(LOG_WARNING, __VA_ARGS__)
#define FP_NOTICE(...) fp_log(LOG_NOTICE, __VA_ARGS__)
#define FP_INFO(...) fp_log(LOG_INFO, __VA_ARGS__)
#define FP_DEBUG(...) fp_log(LOG_DEBUG, __VA_ARGS__)

/* Rate-limited complaints (collectd's c_complain): the first failure is
 * logged, repeats at most once per interval with a count of the suppressed
 * ones, and fp_release logs one recovery line if anything was complained.
 * A limiter is used from one thread at a time. */
struct fp_complain {
	int64_t last_ns;     /* monotonic time of the last line, 0 = never */
	int64_t interval_ns; /* 0 means 60 s */
	uint64_t suppressed;
	int active;
};

void fp_complain(struct fp_complain *c, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void fp_release(struct fp_complain *c, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Per-cause rate limits (the kernel's printk_ratelimit, journald's
 * RateLimitBurst): at most burst lines per interval, the others counted;
 * when the interval is over, one line
 *
 *   NAME: K similar messages suppressed in the last N s
 *
 * reports them, written by the next line of that cause or by
 * fp_log_flush_suppressed (the agent's tick), whichever comes first.
 * Thread-safe.  A limiter links itself into a list on first use: it must
 * have static storage duration (FP_LOG_LIMITED declares one per call
 * site).  burst and interval_ns 0 take the process-wide defaults
 * (fp_log_set_ratelimit: agent.log_ratelimit_burst and
 * agent.log_ratelimit_interval). */
struct fp_ratelimit {
	const char *name; /* the cause, in the suppression line */
	unsigned burst;
	int64_t interval_ns;
	/* private: under log.c's lock */
	int64_t begin_ns;
	unsigned printed;
	uint64_t missed;
	int prio;
	bool listed;
	struct fp_ratelimit *next;
};

void fp_log_set_ratelimit(unsigned burst, int64_t interval_ns);
/* Logs like fp_log when rl lets it through; returns true then. */
bool fp_log_limited(struct fp_ratelimit *rl, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reports the suppressed lines of every limiter whose interval is over
 * (of every limiter, with force: at a stop). */
void fp_log_flush_suppressed(bool force);

#define FP_LOG_LIMITED(cause, prio, ...)                                 \
	do {                                                             \
		static struct fp_ratelimit fp_rl_ = { .name = (cause) }; \
		fp_log_limited(&fp_rl_, (prio), __VA_ARGS__);            \
	} while (0)

#endif
