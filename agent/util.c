/* util.c - memory, buffers, parsing, clocks, names, directories, secrets. */
#include "config.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
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
