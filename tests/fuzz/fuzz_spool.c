/* fuzz_spool.c - a spool directory whose segment holds arbitrary bytes
 * (torn, corrupt, hostile records), and whose cursor is the input's first
 * line when that starts with a digit (a cursor past the segment, inside a
 * record, with the wrong points): opening and replaying it never crashes,
 * and what it replays are whole records. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[64], path[96];
	struct fp_spool *s;
	FILE *f;
	int err, guard = 0;

	snprintf(dir, sizeof(dir), "/tmp/fp-fuzz-spool-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/seg-00000000000000000001.log", dir);
	(void)!system("true");
	s = fp_spool_open(dir, 1 << 20, FP_FSYNC_NEVER, &err);
	if (!s)
		return 0;
	fp_spool_close(s);
	f = fopen(path, "w");
	if (f) {
		fwrite(data, 1, size, f);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/cursor", dir);
	unlink(path);
	if (size > 0 && data[0] >= '0' && data[0] <= '9') {
		const uint8_t *nl = memchr(data, '\n', size < 64 ? size : 64);
		f = fopen(path, "w");
		if (f) {
			fwrite(data, 1, nl ? (size_t)(nl - data) + 1 : (size < 64 ? size : 64), f);
			fclose(f);
		}
	}
	s = fp_spool_open(dir, 1 << 20, FP_FSYNC_NEVER, &err);
	if (s) {
		struct fp_buf b;
		struct fp_spool_pos end;
		size_t np;
		fp_buf_init(&b, 1 << 22);
		while (fp_spool_peek(s, 1000, 1 << 20, &b, &np, &end) > 0 && guard++ < 10000) {
			fp_spool_commit(s, &end);
			fp_buf_clear(&b);
		}
		fp_buf_reset(&b);
		fp_spool_append(s, "m v=1 1\n", 8, 1);
		fp_spool_close(s);
	}
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	(void)!system(path);
	return 0;
}
