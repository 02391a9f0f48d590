/* util.h - memory, growable buffers, unit parsing, clocks, names,
 * host:port, directories and secrets.
 *
 * Out of memory is fatal (logged, then abort): fp_xmalloc and friends never
 * return NULL. Callers need no NULL checks after them.
 */
#ifndef FP_UTIL_H
#define FP_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *fp_xmalloc(size_t n);
void *fp_xcalloc(size_t n, size_t size);
void *fp_xrealloc(void *p, size_t n);
/* Grows *p (an array of *cap elements of size sz) to hold at least want. */
void fp_xgrow(void **p, size_t *cap, size_t want, size_t sz);
char *fp_xstrdup(const char *s);
char *fp_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer with a hard maximum (curl's dynbuf).  The buffer
 * is always NUL-terminated when len > 0.  Appends fail with -ENOBUFS past
 * max; the buffer is then unchanged. */
struct fp_buf {
	char *data;
	size_t len, cap, max;
};

void fp_buf_init(struct fp_buf *b, size_t max);
void fp_buf_reset(struct fp_buf *b); /* frees the memory */
void fp_buf_clear(struct fp_buf *b); /* keeps the memory, len = 0 */
int fp_buf_add(struct fp_buf *b, const void *p, size_t n);
int fp_buf_addc(struct fp_buf *b, char c);
int fp_buf_adds(struct fp_buf *b, const char *s);
int fp_buf_printf(struct fp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the data out of b (caller frees); b is left empty. */
char *fp_buf_steal(struct fp_buf *b, size_t *len);

/* "250ms", "10s", "5m", "2h", "1d", also combined ("1m30s").  Result in
 * milliseconds.  Returns 0 or -EINVAL. */
int fp_parse_duration_ms(const char *s, int64_t *ms);
/* "512", "64kB"/"64KB", "512MB", "1GB" (powers of 1000), "64KiB", "512MiB",
 * "1GiB" (powers of 1024), "B" for bytes.  Returns 0, -EINVAL or -ERANGE. */
int fp_parse_size(const char *s, uint64_t *bytes);
/* Strict decimal integer: the whole string, no blanks, in [min, max]. */
int fp_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

int64_t fp_mono_ns(void); /* CLOCK_MONOTONIC */
int64_t fp_real_ns(void); /* CLOCK_REALTIME, nanoseconds since the epoch */
struct timespec;
/* *ts = CLOCK_MONOTONIC now + ms, for condition variables on that clock. */
void fp_mono_deadline(struct timespec *ts, int64_t ms);
/* A condition variable whose timed waits take fp_mono_deadline's times. */
void fp_cond_init_mono(pthread_cond_t *c);

/* The rule for every configured name (outputs, devices, brokers, register
 * fields): 1 to 64 characters of A-Z a-z 0-9 _ - . (ASCII, whatever the
 * locale). */
#define FP_NAME_MAX 64
bool fp_name_valid(const char *s);

/* HOST[:PORT] or [IPV6][:PORT] (the text after a URL's scheme).  *host
 * (the caller frees it; without the brackets) and *port (default_port
 * when s names none) are set only on success.  Returns 0, -EINVAL for an
 * empty host, a host with '/', a '[' without ']', text after ']' that is
 * not ":PORT" or an IPv6 address without brackets, -ERANGE for a port
 * that is not a number 1-65535. */
int fp_parse_host_port(const char *s, int default_port, char **host, int *port);

/* mkdir -p: creates path and its missing parents with mode.  Returns 0 when
 * path is (or now is) a directory, -ENOTDIR when it or a parent is a file
 * or other non-directory, or the -errno of the mkdir that failed. */
int fp_mkdirs(const char *path, mode_t mode);

/* Wipes a secret (a password, a token, a header holding one) and frees it.
 * s may be NULL. */
void fp_free_secret(char *s);

/* Levenshtein distance, capped at 'cap' (returns cap when larger). */
size_t fp_edit_distance(const char *a, const char *b, size_t cap);

/* Resident set size of this process in kB, or -1. */
long fp_rss_kb(void);

/* ---- timestamps from the network or a file ----
 *
 * Every timestamp a message, a payload or a file carries goes through
 * these: parsed without any overflow, then checked against a window of
 * plausible times (agent.timestamp_min, agent.timestamp_ahead).  One
 * outside it is rejected, never wrapped or clamped; *why (static text)
 * names a likely unit mistake (milliseconds given as seconds, ...). */
#define FP_TIME_MIN_DEFAULT 946684800LL /* 2000-01-01T00:00:00Z */
#define FP_TIME_AHEAD_DEFAULT 86400LL	/* one day after now */
#define FP_TIME_MAX 9223372035LL	/* the last second whose ns fit an int64 (2262) */

/* A zero member takes its default; a NULL window is the default one. */
struct fp_time_window {
	int64_t min_s;	 /* the earliest accepted time, seconds since the epoch */
	int64_t ahead_s; /* the latest accepted is now + ahead_s */
};

enum fp_time_unit { FP_TIME_S, FP_TIME_MS, FP_TIME_US, FP_TIME_NS };

/* The window's bounds at now_ns, in seconds since the epoch. */
void fp_time_bounds(const struct fp_time_window *w, int64_t now_ns, int64_t *lo, int64_t *hi);
/* 0 when t_s (seconds since the epoch) is inside w at now_ns, else -ERANGE
 * with *why. */
int fp_time_check(const struct fp_time_window *w, int64_t t_s, int64_t now_ns, const char **why);
/* v units since the epoch (any double) -> *ns, to the microsecond.
 * Returns 0, -EINVAL for a number that is no time (negative, NaN,
 * infinite), or -ERANGE outside w; *why says which, and when v read in
 * another unit would fall inside w, names that unit. */
int fp_time_from_number(const struct fp_time_window *w, double v, enum fp_time_unit unit,
			int64_t now_ns, int64_t *ns, const char **why);
/* RFC 3339 "2025-03-14T10:25:00Z", "...T10:25:00.5+01:00" (a fraction
 * to the ns, 'T' or 't', 'Z' or 'z' or an offset; years 0000-9999; a
 * leap second :60 counts as the next second) -> *sec since the epoch and
 * *nsec.  Returns 0 or -EINVAL. */
int fp_time_parse_rfc3339(const char *s, int64_t *sec, int32_t *nsec);
/* sec as "2026-03-01T12:00:00Z" in buf (21 bytes or more); returns buf. */
char *fp_time_fmt_rfc3339(char *buf, size_t n, int64_t sec);
/* fp_time_parse_rfc3339 then fp_time_check: *ns, or -EINVAL (malformed)
 * or -ERANGE (outside w) with *why. */
int fp_time_from_rfc3339(const struct fp_time_window *w, const char *s, int64_t now_ns, int64_t *ns,
			 const char **why);

#endif
