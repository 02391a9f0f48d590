/* bench_core.c - figures for the core: line-protocol encoding (points/s on
 * one core, bytes per point) and the disk spool (append and replay rates).
 * Prints figures and ratios; it asserts nothing (machines are noisy).
 *   bench_core [POINTS] [SPOOL_DIR] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lineproto.h"
#include "point.h"
#include "spool.h"
#include "util.h"

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp/fp-bench-spool";
	struct fp_batch b;
	struct fp_buf out;
	double t0, t1, enc_rate;
	long i, batch = 5000, done = 0;
	size_t bytes = 0;
	char cmd[512];

	/* A meter point as the Modbus collector will write it. */
	fp_batch_init(&b);
	for (i = 0; i < batch; i++) {
		struct fp_point *p = fp_batch_add(&b, "meter", 1795899705374726753LL + i);
		fp_point_tag(p, "site", "dc-paris-1");
		fp_point_tag(p, "device", "pdu-a3");
		fp_point_tag(p, "role", "it");
		fp_point_tag(p, "source", "modbus");
		fp_point_float(p, "power_w", 1234.5 + (double)i / 7.0);
		fp_point_float(p, "voltage_v", 229.87);
		fp_point_float(p, "current_a", 5.37);
		fp_point_float(p, "energy_import_kwh", 123456.789 + (double)i);
		fp_point_float(p, "power_factor", 0.97);
	}
	fp_buf_init(&out, (size_t)1 << 30);
	t0 = cpu_s();
	while (done < n) {
		fp_buf_clear(&out);
		fp_lp_encode_batch(&out, &b, FP_PREC_NS, NULL);
		done += batch;
		bytes += out.len;
	}
	t1 = cpu_s();
	enc_rate = (double)done / (t1 - t0);
	printf("encode: %ld points in %.3f s CPU: %.0f points/s on one core, %.1f bytes/point\n",
	       done, t1 - t0, enc_rate, (double)bytes / (double)done);

	/* Spool: append then replay the same encoded batches. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	{
		int err;
		struct fp_spool *s = fp_spool_open(dir, (uint64_t)8 << 30, FP_FSYNC_INTERVAL, &err);
		struct fp_spool_pos end;
		struct fp_buf rb;
		size_t np, total = 0;
		int64_t w0, w1;
		long k;

		if (!s) {
			fprintf(stderr, "spool: %s\n", strerror(-err));
			return 1;
		}
		w0 = fp_mono_ns();
		for (k = 0; k < done / batch; k++)
			fp_spool_append(s, out.data, out.len, (uint32_t)batch);
		fp_spool_sync(s);
		w1 = fp_mono_ns();
		printf("spool append: %.0f points/s, %.1f MB/s (fsync interval, one fsync at the end)\n",
		       (double)done / ((double)(w1 - w0) / 1e9),
		       (double)bytes / 1e6 / ((double)(w1 - w0) / 1e9));
		fp_buf_init(&rb, (size_t)64 << 20);
		w0 = fp_mono_ns();
		for (;;) {
			fp_buf_clear(&rb);
			if (fp_spool_peek(s, 5000, 16u << 20, &rb, &np, &end) <= 0)
				break;
			fp_spool_commit(s, &end);
			total += np;
		}
		w1 = fp_mono_ns();
		printf("spool replay: %.0f points/s (%zu points, commit after every batch)\n",
		       (double)total / ((double)(w1 - w0) / 1e9), total);
		fp_buf_reset(&rb);
		fp_spool_close(s);
	}
	system(cmd);
	fp_buf_reset(&out);
	fp_batch_reset(&b);
	return 0;
}
