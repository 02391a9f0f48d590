/* check_spool.c - the disk spool: order, recovery after a crash, damage,
 * the size bound and its eviction count. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fp_check.h"
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

static Suite *spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *core = tcase_create("core"), *crash = tcase_create("crash"),
	      *lim = tcase_create("limits");

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
	suite_add_tcase(s, core);
	suite_add_tcase(s, crash);
	suite_add_tcase(s, lim);
	return s;
}

FP_CHECK_MAIN(spool_suite)
