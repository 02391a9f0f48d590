/* log.h - logging to stderr with syslog priorities.
 *
 * When stderr goes to the journal (JOURNAL_STREAM set) or is not a
 * terminal, each line starts with the sd-daemon priority prefix "<N>" so
 * the journal records the level; on a terminal it starts with the level
 * name.  No timestamps: the journal adds them.  Thread-safe.
 */
#ifndef FP_LOG_H
#define FP_LOG_H

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

#endif
