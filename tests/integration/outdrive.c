/* outdrive.c - drives the outputs of a footprintd config with a known
 * sequence of points, through the same code as the daemon (config loader,
 * agent dispatch, outputs, spool), so tests can check exactly what lands.
 *
 *   outdrive -c CONF [--points N] [--start S] [--per-tick K] [--tick-ms T]
 *   outdrive -c CONF --stdin        (raw lines from stdin, one chunk)
 *   --progress FILE  after each dispatch, FILE holds the next seq to send
 *
 * Points: measurement "drive", tag site, fields seq=<i>i and v=<i/2>, at
 * timestamp 1700000000000000000 + i ns, so a re-sent point overwrites
 * itself.  At the end the outputs are stopped as on SIGTERM and their
 * self-metrics are printed as line protocol. */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "conf.h"
#include "lineproto.h"
#include "log.h"
#include "util.h"

#define TS0 1700000000000000000LL

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "points", required_argument, NULL, 'n' },
		{ "start", required_argument, NULL, 's' },
		{ "per-tick", required_argument, NULL, 'k' },
		{ "tick-ms", required_argument, NULL, 't' },
		{ "stdin", no_argument, NULL, 'i' },
		{ "progress", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = NULL;
	int64_t n = 0, start = 0, per = 500, tick = 10;
	int opt, use_stdin = 0, pfd = -1;
	struct fp_config cfg;
	struct fp_cfg_errors errs = { 0 };
	struct fp_agent *a;
	struct fp_batch b, m;
	struct fp_buf out;
	size_t i;

	fp_log_init(LOG_INFO);
	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'n':
			n = strtoll(optarg, NULL, 10);
			break;
		case 's':
			start = strtoll(optarg, NULL, 10);
			break;
		case 'k':
			per = strtoll(optarg, NULL, 10);
			break;
		case 't':
			tick = strtoll(optarg, NULL, 10);
			break;
		case 'i':
			use_stdin = 1;
			break;
		case 'p':
			pfd = open(optarg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (pfd < 0)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (!conf || per < 1) {
		fprintf(stderr,
			"usage: outdrive -c CONF [--points N] [--start S] [--per-tick K] "
			"[--tick-ms T] [--stdin]\n");
		return 2;
	}
	fp_config_defaults(&cfg);
	if (fp_config_load(&cfg, conf, &errs) < 0) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		return 1;
	}
	fp_log_set_level(cfg.log_level);
	a = fp_agent_new(&cfg, false);
	if (!a)
		return 1;
	if (use_stdin) {
		struct fp_buf in;
		char tmp[65536];
		size_t r, lines = 0;
		fp_buf_init(&in, (size_t)1 << 30);
		while ((r = fread(tmp, 1, sizeof(tmp), stdin)) > 0)
			fp_buf_add(&in, tmp, r);
		for (i = 0; i < in.len; i++)
			lines += in.data[i] == '\n';
		for (i = 0; i < a->noutputs; i++)
			fp_output_submit(a->outputs[i], in.data, in.len, lines);
		fp_buf_reset(&in);
	}
	fp_batch_init(&b);
	for (int64_t s = start; s < start + n; s += per) {
		int64_t j;
		for (j = s; j < start + n && j < s + per; j++) {
			struct fp_point *p = fp_batch_add(&b, "drive", TS0 + j);
			fp_point_tag(p, "site", cfg.site);
			fp_point_int(p, "seq", j);
			fp_point_float(p, "v", (double)j / 2.0);
		}
		fp_agent_dispatch(a, &b);
		fp_batch_reset(&b);
		if (pfd >= 0) {
			char num[32];
			int l = snprintf(num, sizeof(num), "%020lld\n", (long long)j);
			if (pwrite(pfd, num, (size_t)l, 0) != l)
				return 1;
		}
		if (tick > 0) {
			struct timespec ts = { (time_t)(tick / 1000),
					       (long)(tick % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	for (i = 0; i < a->noutputs; i++)
		fp_output_stop(a->outputs[i], cfg.shutdown_timeout_ms);
	fp_batch_init(&m);
	for (i = 0; i < a->noutputs; i++)
		fp_output_metrics(a->outputs[i], &m, cfg.site, cfg.hostname, fp_real_ns());
	fp_buf_init(&out, (size_t)1 << 20);
	fp_lp_encode_batch(&out, &m, FP_PREC_NS, NULL);
	fputs(out.data ? out.data : "", stdout);
	fp_buf_reset(&out);
	fp_batch_reset(&m);
	fp_agent_free(a);
	fp_config_free(&cfg);
	fp_cfg_errors_reset(&errs);
	return 0;
}
