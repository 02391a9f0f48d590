/* util.c - memory, buffers, parsing, clocks, names, directories, secrets. */
#include "config.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static void oom(size_t n)
{
	fp_log(LOG_CRIT, "out of memory allocating %zu bytes", n);
	abort();
}

void *fp_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *fp_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *fp_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void fp_xgrow(void **p, size_t *cap, size_t want, size_t sz)
{
	size_t ncap;

	if (want <= *cap)
		return;
	ncap = *cap ? *cap : 4;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2 / sz)
			oom(SIZE_MAX);
		ncap *= 2;
	}
	*p = fp_xrealloc(*p, ncap * sz);
	*cap = ncap;
}

char *fp_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = fp_xmalloc(n);
	memcpy(d, s, n);
	return d;
}

char *fp_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return s;
}

void fp_buf_init(struct fp_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void fp_buf_reset(struct fp_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void fp_buf_clear(struct fp_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int fp_buf_add(struct fp_buf *b, const void *p, size_t n)
{
	size_t want;

	if (n > b->max || b->len > b->max - n)
		return -ENOBUFS;
	want = b->len + n + 1;
	if (want > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		while (ncap < want)
			ncap *= 2;
		b->data = fp_xrealloc(b->data, ncap);
		b->cap = ncap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int fp_buf_addc(struct fp_buf *b, char c)
{
	return fp_buf_add(b, &c, 1);
}

int fp_buf_adds(struct fp_buf *b, const char *s)
{
	return fp_buf_add(b, s, strlen(s));
}

int fp_buf_printf(struct fp_buf *b, const char *fmt, ...)
{
	char tmp[256], *s = tmp;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(tmp)) {
		s = fp_xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	rc = fp_buf_add(b, s, (size_t)n);
	if (s != tmp)
		free(s);
	return rc;
}

char *fp_buf_steal(struct fp_buf *b, size_t *len)
{
	char *d = b->data ? b->data : fp_xstrdup("");

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

int fp_parse_duration_ms(const char *s, int64_t *ms)
{
	static const struct {
		const char *u;
		int64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	int64_t total = 0;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		char *end;
		double v;
		size_t i, ul = 0, best = FP_ARRAY_SIZE(units);

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		v = strtod(p, &end);
		if (errno || end == p || v < 0)
			return -EINVAL;
		p = end;
		/* Longest unit that matches ("ms" before "m"). */
		for (i = 0; i < FP_ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].u);
			if (strncmp(p, units[i].u, l) == 0 && l > ul &&
			    !isalpha((unsigned char)p[l])) {
				best = i;
				ul = l;
			}
		}
		if (best == FP_ARRAY_SIZE(units))
			return -EINVAL;
		v *= (double)units[best].ms;
		if (v > 9.0e15)
			return -EINVAL;
		total += (int64_t)(v + 0.5);
		p += ul;
	}
	*ms = total;
	return 0;
}

int fp_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *u;
		uint64_t mul;
	} units[] = {
		{ "", 1 },
		{ "B", 1 },
		{ "kB", 1000ULL },
		{ "KB", 1000ULL },
		{ "MB", 1000000ULL },
		{ "GB", 1000000000ULL },
		{ "TB", 1000000000000ULL },
		{ "KiB", 1ULL << 10 },
		{ "MiB", 1ULL << 20 },
		{ "GiB", 1ULL << 30 },
		{ "TiB", 1ULL << 40 },
	};
	char *end;
	unsigned long long v;
	size_t i;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	for (i = 0; i < FP_ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].u) == 0) {
			if (v > UINT64_MAX / units[i].mul)
				return -ERANGE;
			*bytes = v * units[i].mul;
			return 0;
		}
	}
	return -EINVAL;
}

int fp_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

bool fp_name_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (n == FP_NAME_MAX ||
		    !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-' || s[n] == '.'))
			return false;
	return n > 0;
}

int fp_parse_host_port(const char *s, int default_port, char **host, int *port)
{
	const char *h = s, *colon;
	size_t hl;
	int64_t v = default_port;

	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb[1] ? rb + 1 : NULL;
	} else {
		colon = strchr(s, ':');
		hl = colon ? (size_t)(colon - s) : strlen(s);
		if (colon && strchr(colon + 1, ':'))
			return -EINVAL; /* an IPv6 address without brackets */
	}
	if (!hl || memchr(h, '/', hl))
		return -EINVAL;
	if (colon &&
	    (!isdigit((unsigned char)colon[1]) || fp_parse_int64(colon + 1, 1, 65535, &v) < 0))
		return -ERANGE;
	*host = fp_xasprintf("%.*s", (int)hl, h);
	*port = (int)v;
	return 0;
}

int fp_mkdirs(const char *path, mode_t mode)
{
	char *p = fp_xstrdup(path), *s;
	struct stat st;
	int rc = 0;

	for (s = p + (*p == '/');; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) != 0) {
			rc = -errno;
			if (rc == -EEXIST)
				rc = stat(p, &st) != 0	      ? -errno
					: S_ISDIR(st.st_mode) ? 0
							      : -ENOTDIR;
			if (rc < 0)
				break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

void fp_free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void fp_cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

void fp_mono_deadline(struct timespec *ts, int64_t ms)
{
	int64_t t = fp_mono_ns() + ms * 1000000LL;

	ts->tv_sec = (time_t)(t / 1000000000LL);
	ts->tv_nsec = (long)(t % 1000000000LL);
}

int64_t fp_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t fp_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

size_t fp_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[65];

	if (la > 64 || lb > 64)
		return cap;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0], best;
		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			if (sub < v)
				v = sub;
			row[j] = v;
			prev = cur;
			if (v < best)
				best = v;
		}
		if (best >= cap)
			return cap;
	}
	return row[lb] < cap ? row[lb] : cap;
}

long fp_rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = -1, rss = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	if (rss < 0)
		return -1;
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- timestamps ---- */

void fp_time_bounds(const struct fp_time_window *w, int64_t now_ns, int64_t *lo, int64_t *hi)
{
	int64_t min = w && w->min_s ? w->min_s : FP_TIME_MIN_DEFAULT;
	int64_t ahead = w && w->ahead_s ? w->ahead_s : FP_TIME_AHEAD_DEFAULT;
	int64_t now = now_ns / 1000000000LL;

	/* each term is bounded: now < 2^63 / 10^9, ahead a configured duration */
	*lo = min;
	*hi = ahead > FP_TIME_MAX - now ? FP_TIME_MAX : now + ahead;
}

int fp_time_check(const struct fp_time_window *w, int64_t t_s, int64_t now_ns, const char **why)
{
	int64_t lo, hi;

	fp_time_bounds(w, now_ns, &lo, &hi);
	if (t_s < lo) {
		*why = "the timestamp is before timestamp_min";
		return -ERANGE;
	}
	if (t_s > hi) {
		*why = "the timestamp is after now + timestamp_ahead";
		return -ERANGE;
	}
	return 0;
}

static const double unit_per_s[] = { 1, 1e3, 1e6, 1e9 };

/* [given][looks like]: the unit mistakes, named. */
static const char *const unit_hint[4][4] = {
	{ NULL, "the timestamp looks like milliseconds, not seconds",
	  "the timestamp looks like microseconds, not seconds",
	  "the timestamp looks like nanoseconds, not seconds" },
	{ "the timestamp looks like seconds, not milliseconds", NULL,
	  "the timestamp looks like microseconds, not milliseconds",
	  "the timestamp looks like nanoseconds, not milliseconds" },
	{ "the timestamp looks like seconds, not microseconds",
	  "the timestamp looks like milliseconds, not microseconds", NULL,
	  "the timestamp looks like nanoseconds, not microseconds" },
	{ "the timestamp looks like seconds, not nanoseconds",
	  "the timestamp looks like milliseconds, not nanoseconds",
	  "the timestamp looks like microseconds, not nanoseconds", NULL },
};

int fp_time_from_number(const struct fp_time_window *w, double v, enum fp_time_unit unit,
			int64_t now_ns, int64_t *ns, const char **why)
{
	int64_t lo, hi;
	double s;
	size_t u;

	if (!isfinite(v) || v < 0 || (unsigned)unit >= FP_ARRAY_SIZE(unit_per_s)) {
		*why = "the timestamp is not a number of the epoch";
		return -EINVAL;
	}
	fp_time_bounds(w, now_ns, &lo, &hi);
	/* compared as doubles: no conversion of an unchecked value */
	s = v / unit_per_s[unit];
	if (s >= (double)lo && s <= (double)hi) {
		/* |s| < 2^34, so s * 10^6 and then * 1000 fit an int64 */
		*ns = (int64_t)llround(v * (1e6 / unit_per_s[unit])) * 1000;
		return 0;
	}
	for (u = 0; u < FP_ARRAY_SIZE(unit_per_s); u++) {
		double t = v / unit_per_s[u];
		if (u != (size_t)unit && t >= (double)lo && t <= (double)hi) {
			*why = unit_hint[unit][u];
			return -ERANGE;
		}
	}
	/* outside, and no other unit fits: before or after */
	return fp_time_check(w, s < (double)lo ? lo - 1 : hi + 1, now_ns, why);
}

static int digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

char *fp_time_fmt_rfc3339(char *buf, size_t n, int64_t sec)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "%lld", (long long)sec);
	return buf;
}

int fp_time_parse_rfc3339(const char *s, int64_t *sec, int32_t *nsec)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, se, off = 0, i;
	int32_t frac = 0, scale = 100000000;
	const char *p;

	if (!s || strnlen(s, 20) < 19 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return -EINVAL;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || se < 0 || se > 60)
		return -EINVAL;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (i = 0; *p >= '0' && *p <= '9'; p++, i++)
			if (i < 9) {
				frac += (int32_t)(*p - '0') * scale;
				scale /= 10;
			}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh = digits(p + 1, 2), mm = hh < 0 || p[3] != ':' ? -1 : digits(p + 4, 2);
		if (mm < 0 || hh > 23 || mm > 59)
			return -EINVAL;
		off = (hh * 60 + mm) * 60 * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -EINVAL; /* RFC 3339 needs a zone */
	}
	if (*p)
		return -EINVAL;
	/* |days| < 2^22: no overflow below */
	*sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
	*nsec = frac;
	return 0;
}

int fp_time_from_rfc3339(const struct fp_time_window *w, const char *s, int64_t now_ns, int64_t *ns,
			 const char **why)
{
	int64_t sec;
	int32_t nsec;
	int rc;

	if (fp_time_parse_rfc3339(s, &sec, &nsec) < 0) {
		*why = "the timestamp is not RFC 3339 (e.g. 2025-03-14T10:25:00Z)";
		return -EINVAL;
	}
	rc = fp_time_check(w, sec, now_ns, why);
	if (rc < 0)
		return rc;
	/* sec <= FP_TIME_MAX: sec * 10^9 + 999999999 < 2^63 */
	*ns = sec * 1000000000LL + nsec;
	return 0;
}
