/* check_spool.c - the disk spool: order, recovery after a crash, damage,
 * the size bound and its eviction count, hostile spool files; and the
 * InfluxDB output's Retry-After and URL redaction helpers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fp_check.h"
#include "influxdb.h"
#include "spool.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fp-check-spool-%d", (int)getpid());
	if (system("true") == 0) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static struct fp_spool *open_spool(uint64_t max)
{
	int err = 1;
	struct fp_spool *s = fp_spool_open(dir, max, FP_FSYNC_NEVER, &err);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(err, 0);
	return s;
}

static void append_n(struct fp_spool *s, int from, int to)
{
	char line[64];
	int i;

	for (i = from; i < to; i++) {
		int n = snprintf(line, sizeof(line), "m seq=%di %d\n", i, i);
		ck_assert_int_eq(fp_spool_append(s, line, (size_t)n, 1), 0);
	}
}

/* Reads everything pending in order, checking seq runs from 'from'. */
static int drain(struct fp_spool *s, int from, bool commit)
{
	int next = from;

	for (;;) {
		struct fp_buf b;
		struct fp_spool_pos end;
		size_t np = 0;
		const char *p;
		int rc;

		fp_buf_init(&b, 1 << 24);
		rc = fp_spool_peek(s, 7, 1 << 20, &b, &np, &end);
		ck_assert_int_ge(rc, 0);
		if (rc == 0) {
			fp_buf_reset(&b);
			break;
		}
		ck_assert_uint_le(np, 7);
		for (p = b.data; p && (p = strstr(p, "seq=")) != NULL; p += 4) {
			ck_assert_int_eq(strtol(p + 4, NULL, 10), next);
			next++;
		}
		fp_buf_reset(&b);
		if (commit)
			ck_assert_int_eq(fp_spool_commit(s, &end), 0);
		else
			break;
	}
	return next;
}

START_TEST(test_spool_fifo_and_commit)
{
	struct fp_spool *s = open_spool(10 << 20);
	struct fp_spool_stats st;

	append_n(s, 0, 100);
	fp_spool_stats(s, &st);
	ck_assert_uint_eq(st.pending_points, 100);
	ck_assert_int_eq(drain(s, 0, true), 100);
	fp_spool_stats(s, &st);
	ck_assert_uint_eq(st.pending_points, 0);
	append_n(s, 100, 110);
	ck_assert_int_eq(drain(s, 100, true), 110);
	fp_spool_close(s);
}
END_TEST

START_TEST(test_spool_survives_reopen)
{
	struct fp_spool *s = open_spool(10 << 20);
	struct fp_spool_stats st;

	append_n(s, 0, 50);
	ck_assert_int_eq(drain(s, 0, false), 7); /* peeked, not committed */
	{
		/* commit the first 7 only */
		struct fp_buf b;
		struct fp_spool_pos end;
		size_t np;
		fp_buf_init(&b, 1 << 20);
		ck_assert_int_eq(fp_spool_peek(s, 7, 1 << 20, &b, &np, &end), 7);
		ck_assert_int_eq(fp_spool_commit(s, &end), 0);
		fp_buf_reset(&b);
	}
	fp_spool_close(s);
	s = open_spool(10 << 20);
	fp_spool_stats(s, &st);
	ck_assert_uint_eq(st.pending_points, 43);
	append_n(s, 50, 60);
	ck_assert_int_eq(drain(s, 7, true), 60);
	fp_spool_close(s);
}
END_TEST

/* The first seq in b, or -1. */
static int first_seq(const struct fp_buf *b)
{
	const char *p = b->data ? strstr(b->data, "seq=") : NULL;

	return p ? (int)strtol(p + 4, NULL, 10) : -1;
}

START_TEST(test_spool_peek_from)
{
	/* Reading ahead: the batch after one not yet committed. */
	struct fp_spool *s = open_spool(10 << 20);
	struct fp_spool_pos a, b2, c;
	struct fp_buf b;
	size_t np;

	append_n(s, 0, 20);
	fp_buf_init(&b, 1 << 20);
	ck_assert_int_eq(fp_spool_peek(s, 7, 1 << 20, &b, &np, &a), 7);
	fp_buf_clear(&b);
	ck_assert_int_eq(fp_spool_peek_from(s, &a, 7, 1 << 20, &b, &np, &b2), 7);
	ck_assert_int_eq(first_seq(&b), 7);
	ck_assert_int_eq(fp_spool_commit(s, &a), 0);
	fp_buf_clear(&b);
	ck_assert_int_eq(fp_spool_peek_from(s, &b2, 7, 1 << 20, &b, &np, &c), 6);
	ck_assert_int_eq(first_seq(&b), 14);
	fp_buf_clear(&b);
	ck_assert_int_eq(fp_spool_peek_from(s, &c, 7, 1 << 20, &b, &np, &c), 0);
	/* NULL: from the cursor, which is still at 7. */
	ck_assert_int_eq(fp_spool_peek_from(s, NULL, 7, 1 << 20, &b, &np, &c), 7);
	ck_assert_int_eq(first_seq(&b), 7);
	fp_buf_reset(&b);
	fp_spool_close(s);
}
END_TEST

START_TEST(test_spool_peek_from_evicted)
{
	/* A position read ahead in a segment evicted since: the next read
	 * goes on from the oldest segment left, as the cursor would. */
	struct fp_spool *s = open_spool(1000000);
	struct fp_spool_pos a, e;
	struct fp_spool_stats st;
	struct fp_buf b;
	static char rec[4000];
	size_t np;
	int i;

	memset(rec, 'x', sizeof(rec));
	memcpy(rec, "seq=0 ", 6);
	ck_assert_int_eq(fp_spool_append(s, rec, sizeof(rec), 1), 0);
	fp_buf_init(&b, 1 << 20);
	ck_assert_int_eq(fp_spool_peek(s, 1, 1 << 20, &b, &np, &a), 1);
	for (i = 1; i < 750; i++) {
		int n = snprintf(rec, sizeof(rec), "seq=%d ", i);
		rec[n] = 'x';
		ck_assert_int_eq(fp_spool_append(s, rec, sizeof(rec), 1), 0);
	}
	fp_spool_stats(s, &st);
	ck_assert_uint_gt(st.evicted_points, 1);
	fp_buf_clear(&b);
	ck_assert_int_eq(fp_spool_peek_from(s, &a, 1, 1 << 20, &b, &np, &e), 1);
	ck_assert_int_eq(first_seq(&b), (int)st.evicted_points);
	fp_buf_reset(&b);
	fp_spool_close(s);
}
END_TEST

static char *newest_segment(void)
{
	char cmd[160], *path = calloc(1, 256);
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s/seg-*.log | tail -1", dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(path, 255, p));
	pclose(p);
	path[strcspn(path, "\n")] = '\0';
	return path;
}

START_TEST(test_spool_torn_tail)
{
	struct fp_spool *s = open_spool(10 << 20);
	struct fp_spool_stats st;
	char *seg;
	struct stat sb;
	int fd;

	append_n(s, 0, 20);
	fp_spool_close(s);
	/* A record cut in the middle, as kill -9 or a power cut leaves it. */
	seg = newest_segment();
	ck_assert_int_eq(stat(seg, &sb), 0);
	fd = open(seg, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "FPS1\x30\0\0\0\x01\0\0\0garbage", 19), 19);
	close(fd);
	s = open_spool(10 << 20);
	fp_spool_stats(s, &st);
	ck_assert_uint_eq(st.pending_points, 20);
	ck_assert_uint_eq(st.corrupt_bytes, 19);
	/* The tail was cut: appends continue cleanly after it. */
	ck_assert_int_eq(stat(seg, &sb), 0);
	append_n(s, 20, 30);
	ck_assert_int_eq(drain(s, 0, true), 30);
	fp_spool_close(s);
	free(seg);
}
END_TEST

START_TEST(test_spool_damage_in_the_middle)
{
	struct fp_spool *s = open_spool(10 << 20);
	struct fp_spool_stats st;
	char *seg;
	int fd;
	char c;

	append_n(s, 0, 10);
	fp_spool_close(s);
	/* Flip a byte of the payload of record 3 (each is 16 + 11 bytes). */
	seg = newest_segment();
	fd = open(seg, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, 3 * 27 + 20), 1);
	c ^= 0x20;
	ck_assert_int_eq(pwrite(fd, &c, 1, 3 * 27 + 20), 1);
	close(fd);
	s = open_spool(10 << 20);
	fp_spool_stats(s, &st);
	ck_assert_uint_eq(st.pending_points, 9); /* one record lost, the rest kept */
	ck_assert_uint_gt(st.corrupt_bytes, 0);
	{
		struct fp_buf b;
		struct fp_spool_pos end;
		size_t np;
		int n = 0;
		const char *p;
		fp_buf_init(&b, 1 << 20);
		ck_assert_int_gt(fp_spool_peek(s, 100, 1 << 20, &b, &np, &end), 0);
		for (p = b.data; (p = strstr(p, "seq=")) != NULL; p += 4)
			n++;
		ck_assert_int_eq(n, 9);
		ck_assert_ptr_null(strstr(b.data, "seq=3i"));
		ck_assert_ptr_nonnull(strstr(b.data, "seq=4i"));
		fp_buf_reset(&b);
	}
	fp_spool_close(s);
	free(seg);
}
END_TEST

START_TEST(test_spool_bound_evicts_oldest_and_counts)
{
	/* 1 MB spool, 64 KiB segments: appending 3 MB must evict. */
	struct fp_spool *s = open_spool(1000000);
	struct fp_spool_stats st;
	static char rec[4000];
	int i, appended = 0;
	char cmd[160];
	FILE *p;
	long du = 0;

	memset(rec, 'x', sizeof(rec));
	for (i = 0; i < 750; i++) {
		ck_assert_int_eq(fp_spool_append(s, rec, sizeof(rec), 10), 0);
		appended += 10;
	}
	fp_spool_stats(s, &st);
	ck_assert_uint_le(st.bytes, 1000000);
	ck_assert_uint_gt(st.evicted_points, 0);
	ck_assert_uint_eq(st.pending_points + st.evicted_points, (uint64_t)appended);
	snprintf(cmd, sizeof(cmd), "du -sb %s | cut -f1", dir);
	p = popen(cmd, "r");
	ck_assert_int_eq(fscanf(p, "%ld", &du), 1);
	pclose(p);
	ck_assert_int_le(du, 1000000 + 8192);
	ck_assert_int_eq(fp_spool_append(s, rec, 0, 0), 0);
	fp_spool_close(s);
}
END_TEST

START_TEST(test_spool_record_too_large)
{
	struct fp_spool *s = open_spool(1000000);
	char *big = calloc(1, 1100000);

	ck_assert_int_eq(fp_spool_append(s, big, 1100000, 1), -EFBIG);
	free(big);
	fp_spool_close(s);
}
END_TEST

START_TEST(test_spool_record_check)
{
	unsigned char rec[FP_SPOOL_HDR + 5];
	uint32_t np = 0;

	fp_spool_encode_header(rec, "hello", 5, 3);
	memcpy(rec + FP_SPOOL_HDR, "hello", 5);
	ck_assert_uint_eq(fp_spool_check_record(rec, sizeof(rec), &np), sizeof(rec));
	ck_assert_uint_eq(np, 3);
	ck_assert_uint_eq(fp_spool_check_record(rec, sizeof(rec) - 1, &np), 0);
	rec[FP_SPOOL_HDR] = 'j';
	ck_assert_uint_eq(fp_spool_check_record(rec, sizeof(rec), &np), 0);
}
END_TEST

/* Writes content (len bytes) to dir/name, replacing it. */
static void put_file(const char *name, const void *content, size_t len)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
}

/* 3000 one-point records over several segments (64 KiB each), then the
 * cursor file replaced by cursor (NULL: removed); reopens and returns the
 * spool, with its cursor_resets in *resets. */
static struct fp_spool *spool_with_cursor(const char *cursor, uint64_t *resets)
{
	struct fp_spool *s = open_spool(500000);
	struct fp_spool_stats st;

	append_n(s, 0, 3000);
	fp_spool_close(s);
	if (cursor)
		put_file("cursor", cursor, strlen(cursor));
	s = open_spool(500000);
	fp_spool_stats(s, &st);
	*resets = st.cursor_resets;
	return s;
}

START_TEST(test_spool_cursor_past_newest)
{
	/* "9 0 0" with segments 1-2: once it dropped every segment (3000 of
	 * 3000 points lost); now ignored, replayed from the oldest, counted. */
	uint64_t resets = 0;
	struct fp_spool *s = spool_with_cursor("9 0 0\n", &resets);
	struct fp_spool_stats st;

	fp_spool_stats(s, &st);
	ck_assert_uint_eq(resets, 1);
	ck_assert_uint_eq(st.pending_points, 3000);
	ck_assert_int_eq(drain(s, 0, true), 3000);
	fp_spool_close(s);
}
END_TEST

START_TEST(test_spool_cursor_untrusted)
{
	/* Each cursor below cannot be trusted: everything is replayed. */
	static const char *const bad[] = {
		"1 999999 0\n", /* past the segment's end */
		"1 5 0\n",	/* inside a record */
		"1 27 5\n",	/* a boundary, but not the points before it */
		"garbage\n",	"-1 0 0\n",
		"1 27\n",	"",
		"1 27 1 4\n",	"99999999999999999999999 0 0\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t resets = 0;
		struct fp_spool *s;
		struct fp_spool_stats st;
		setup();
		s = spool_with_cursor(bad[i], &resets);
		fp_spool_stats(s, &st);
		ck_assert_msg(resets == 1 && st.pending_points == 3000,
			      "cursor '%s': %llu resets, %llu pending", bad[i],
			      (unsigned long long)resets, (unsigned long long)st.pending_points);
		ck_assert_int_eq(drain(s, 0, true), 3000);
		fp_spool_close(s);
	}
}
END_TEST

START_TEST(test_spool_cursor_trusted)
{
	/* A cursor on a record boundary with its points is kept as it is. */
	uint64_t resets = 1;
	struct fp_spool *s = spool_with_cursor("1 27 1\n", &resets);
	struct fp_spool_stats st;

	fp_spool_stats(s, &st);
	ck_assert_uint_eq(resets, 0);
	ck_assert_uint_eq(st.pending_points, 2999);
	ck_assert_int_eq(drain(s, 1, true), 3000);
	fp_spool_close(s);
}
END_TEST

START_TEST(test_spool_cursor_symlink)
{
	/* A cursor that is a link is not read, and the first cursor move
	 * replaces the link, never writing through it (nor through a link
	 * planted as cursor.tmp). */
	char target[160], link[160], tmp[160], buf[32] = "";
	struct fp_spool *s = open_spool(1000000);
	struct fp_spool_stats st;
	int fd;

	append_n(s, 0, 10);
	fp_spool_close(s);
	snprintf(target, sizeof(target), "%s.target", dir);
	snprintf(link, sizeof(link), "%s/cursor", dir);
	snprintf(tmp, sizeof(tmp), "%s/cursor.tmp", dir);
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, "1 27 1\n", 7), 7);
	close(fd);
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_int_eq(symlink(target, tmp), 0);
	s = open_spool(1000000);
	fp_spool_stats(s, &st);
	ck_assert_uint_eq(st.cursor_resets, 1);
	ck_assert_uint_eq(st.pending_points, 10);
	ck_assert_int_eq(drain(s, 0, true), 10);
	fp_spool_close(s);
	fd = open(target, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 7);
	close(fd);
	ck_assert_str_eq(buf, "1 27 1\n");
	unlink(target);
}
END_TEST

/* The number of files in dir whose name ends with suffix. */
static int count_files(const char *suffix)
{
	char cmd[200];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -a %s | grep -c -- '%s$'", dir, suffix);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

START_TEST(test_spool_unusable_segments_set_aside)
{
	/* Segment 1 holds 100 points; 2 is a folder, 3 a FIFO, 4 (the newest)
	 * a link to a file outside: each is set aside, counted and logged,
	 * the link's target is never touched, and the points of 1 replay. */
	struct fp_spool *s = open_spool(1000000);
	struct fp_spool_stats st;
	char path[200], target[160];
	struct stat sb;
	int fd;

	append_n(s, 0, 100);
	fp_spool_close(s);
	snprintf(path, sizeof(path), "%s/seg-%020d.log", dir, 2);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/seg-%020d.log", dir, 3);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	snprintf(target, sizeof(target), "%s.victim", dir);
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, "precious data\n", 14), 14);
	close(fd);
	snprintf(path, sizeof(path), "%s/seg-%020d.log", dir, 4);
	ck_assert_int_eq(symlink(target, path), 0);
	s = open_spool(1000000);
	fp_spool_stats(s, &st);
	ck_assert_uint_eq(st.segments_set_aside, 3);
	ck_assert_uint_eq(st.pending_points, 100);
	ck_assert_int_eq(count_files(".log.bad"), 3);
	/* New appends go to a new segment, after the ones set aside. */
	append_n(s, 100, 120);
	ck_assert_int_eq(drain(s, 0, true), 120);
	fp_spool_close(s);
	ck_assert_int_eq(stat(target, &sb), 0);
	ck_assert_int_eq(sb.st_size, 14);
	unlink(target);
}
END_TEST

START_TEST(test_spool_unreadable_segment)
{
	/* A segment with mode 000 (as an unprivileged user: root reads it
	 * anyway): set aside, the agent's spool opens, the rest replays. */
	struct fp_spool *s = open_spool(500000);
	char path[200];
	pid_t pid;
	int status = -1;

	append_n(s, 0, 3000); /* segments 1 and 2 */
	fp_spool_close(s);
	snprintf(path, sizeof(path), "%s/seg-%020d.log", dir, 1);
	ck_assert_int_eq(chmod(path, 0), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct fp_spool_stats st;
		int err = 0;
		char cmd[160];
		snprintf(cmd, sizeof(cmd), "chown -R 65534:65534 %s", dir);
		if (geteuid() == 0 &&
		    (system(cmd) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
			_exit(10);
		s = fp_spool_open(dir, 500000, FP_FSYNC_NEVER, &err);
		if (!s)
			_exit(11);
		fp_spool_stats(s, &st);
		if (st.segments_set_aside != 1 || st.pending_points == 0 ||
		    st.pending_points >= 3000)
			_exit(12);
		fp_spool_close(s);
		_exit(count_files(".log.bad") == 1 ? 0 : 13);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}
END_TEST

/* A segment of n bytes whose every 16th byte starts a record header that
 * claims the rest of the file, with a wrong CRC: each candidate costs a
 * CRC over the rest, quadratic in n without a bound. */
static void put_crafted(const char *name, size_t n)
{
	unsigned char *b = calloc(1, n);
	size_t i;

	for (i = 0; i + FP_SPOOL_HDR <= n; i += 16) {
		uint32_t len = (uint32_t)(n - i - FP_SPOOL_HDR);
		memcpy(b + i, "FPS1", 4);
		memcpy(b + i + 4, &len, 4); /* little-endian hosts */
		memset(b + i + 8, 1, 8);
	}
	put_file(name, b, n);
	free(b);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_spool_crafted_segment_linear)
{
	/* 2 MB of false headers: once 14 s (quadratic), now linear.  The
	 * time is compared with the recovery of 2 MB of valid records,
	 * generously (a ratio, not a fixed time). */
	struct fp_spool *s = open_spool(100000000);
	struct fp_spool_stats st;
	double t0, t_valid, t_crafted;
	static char rec[2000];

	memset(rec, 'x', sizeof(rec));
	while (1) {
		fp_spool_stats(s, &st);
		if (st.bytes >= (2u << 20))
			break;
		ck_assert_int_eq(fp_spool_append(s, rec, sizeof(rec), 1), 0);
	}
	fp_spool_close(s);
	t0 = now_s();
	s = open_spool(100000000);
	t_valid = now_s() - t0;
	fp_spool_close(s);
	setup();
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	put_crafted("seg-00000000000000000001.log", 2u << 20);
	put_file("seg-00000000000000000002.log", "", 0);
	t0 = now_s();
	s = open_spool(100000000);
	t_crafted = now_s() - t0;
	fp_spool_stats(s, &st);
	ck_assert_uint_eq(st.pending_points, 0);
	ck_assert_uint_eq(st.corrupt_bytes, 2u << 20);
	fp_spool_close(s);
	fprintf(stderr, "recovery: crafted %.3f s, valid %.3f s\n", t_crafted, t_valid);
	ck_assert_msg(t_crafted < 20 * t_valid + 0.5, "crafted %.3f s, valid %.3f s", t_crafted,
		      t_valid);
}
END_TEST

START_TEST(test_spool_big_garbage_bounded_memory)
{
	/* A 128 MiB segment of garbage (sparse: zeros) before one of 10
	 * records: recovery and the replay read it in bounded pieces, so the
	 * peak RSS of the process grows far less than the file's size (it
	 * grew by the file's size).  The growth is measured, not the peak,
	 * which valgrind and the sanitizers raise. */
	pid_t pid;
	int status = -1;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct fp_spool *s = open_spool(1000000000);
		struct fp_spool_stats st;
		struct rusage ru0, ru;
		char p1[200], p2[200];
		append_n(s, 0, 10);
		fp_spool_close(s);
		snprintf(p1, sizeof(p1), "%s/seg-%020d.log", dir, 1);
		snprintf(p2, sizeof(p2), "%s/seg-%020d.log", dir, 2);
		if (rename(p1, p2) != 0)
			_exit(10);
		put_file("seg-00000000000000000001.log", "", 0);
		if (truncate(p1, 128 << 20) != 0)
			_exit(11);
		getrusage(RUSAGE_SELF, &ru0);
		s = open_spool(1000000000);
		fp_spool_stats(s, &st);
		if (st.pending_points != 10 || st.corrupt_bytes != (128u << 20))
			_exit(12);
		if (drain(s, 0, true) != 10)
			_exit(13);
		fp_spool_close(s);
		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "peak RSS %ld kB, %ld kB before the spool opened\n", ru.ru_maxrss,
			ru0.ru_maxrss);
		_exit(ru.ru_maxrss - ru0.ru_maxrss < 32 * 1024 ? 0 : 14);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}
END_TEST

START_TEST(test_influx_retry_after)
{
	/* Seconds, dates, and values that once overflowed (UBSan). */
	ck_assert_int_eq(fp_influx_retry_after_ms("0", 60000), 0);
	ck_assert_int_eq(fp_influx_retry_after_ms(" 5", 60000), 5000);
	ck_assert_int_eq(fp_influx_retry_after_ms("120", 60000), 60000);
	ck_assert_int_eq(fp_influx_retry_after_ms("99999999999999999999999", 60000), 60000);
	ck_assert_int_eq(fp_influx_retry_after_ms("9223372036854775807", 3600000), 3600000);
	ck_assert_int_eq(fp_influx_retry_after_ms("Thu, 01 Jan 1970 00:00:01 GMT", 60000), 0);
	ck_assert_int_eq(fp_influx_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", 60000), 60000);
	ck_assert_int_eq(fp_influx_retry_after_ms("-1", 60000), -1);
	ck_assert_int_eq(fp_influx_retry_after_ms("5x", 60000), -1);
	ck_assert_int_eq(fp_influx_retry_after_ms("soon", 60000), -1);
}
END_TEST

START_TEST(test_influx_redact_url)
{
	static const char *const cases[][2] = {
		{ "http://user:pw@host:8086", "http://***@host:8086" },
		{ "https://u:p@ss@host/prefix?x=a@b", "https://***@host/prefix?x=a@b" },
		{ "http://host:8086/a@b", "http://host:8086/a@b" },
		{ "http://127.0.0.1:8086", "http://127.0.0.1:8086" },
		{ "user:pw@host", "***@host" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = fp_influx_redact_url(cases[i][0]);
		ck_assert_str_eq(r, cases[i][1]);
		free(r);
	}
}
END_TEST

static Suite *spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *core = tcase_create("core"), *crash = tcase_create("crash"),
	      *lim = tcase_create("limits"), *hostile = tcase_create("hostile"),
	      *influx = tcase_create("influx");

	tcase_add_checked_fixture(core, setup, teardown);
	tcase_add_checked_fixture(crash, setup, teardown);
	tcase_add_checked_fixture(lim, setup, teardown);
	tcase_add_test(core, test_spool_fifo_and_commit);
	tcase_add_test(core, test_spool_survives_reopen);
	tcase_add_test(core, test_spool_peek_from);
	tcase_add_test(core, test_spool_record_check);
	tcase_add_test(crash, test_spool_torn_tail);
	tcase_add_test(crash, test_spool_damage_in_the_middle);
	tcase_add_test(lim, test_spool_bound_evicts_oldest_and_counts);
	tcase_add_test(lim, test_spool_record_too_large);
	tcase_add_test(lim, test_spool_peek_from_evicted);
	tcase_set_timeout(lim, 60);
	tcase_add_checked_fixture(hostile, setup, teardown);
	tcase_add_test(hostile, test_spool_cursor_past_newest);
	tcase_add_test(hostile, test_spool_cursor_untrusted);
	tcase_add_test(hostile, test_spool_cursor_trusted);
	tcase_add_test(hostile, test_spool_cursor_symlink);
	tcase_add_test(hostile, test_spool_unusable_segments_set_aside);
	tcase_add_test(hostile, test_spool_unreadable_segment);
	tcase_add_test(hostile, test_spool_crafted_segment_linear);
	tcase_add_test(hostile, test_spool_big_garbage_bounded_memory);
	tcase_set_timeout(hostile, 120);
	suite_add_tcase(s, hostile);
	tcase_add_test(influx, test_influx_retry_after);
	tcase_add_test(influx, test_influx_redact_url);
	suite_add_tcase(s, influx);
	suite_add_tcase(s, core);
	suite_add_tcase(s, crash);
	suite_add_tcase(s, lim);
	return s;
}

FP_CHECK_MAIN(spool_suite)
