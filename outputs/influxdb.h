/* influxdb.h - the InfluxDB output: its ops table (influxdb.c) and its
 * config, one element of outputs.influxdb (influxdb_conf.c).
 *
 * A config owns its strings; the password and the token (read from
 * password_file and token_file) are wiped when it is freed and never
 * printed.  The output's name is the loader's (struct fp_output_cfg).
 */
#ifndef FP_INFLUXDB_H
#define FP_INFLUXDB_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "output.h"

enum fp_influx_api { FP_INFLUX_V1, FP_INFLUX_V2 };

struct fp_influx_output_cfg {
	char *url; /* http(s)://host:port[/prefix] */
	enum fp_influx_api api;
	/* v1 */
	char *database, *retention_policy, *username, *password; /* password from a file */
	/* v2 */
	char *org, *bucket, *token; /* token from a file */
	int64_t batch_size;
	int64_t flush_interval_ms;
	bool gzip;
	int64_t timeout_ms, connect_timeout_ms;
	char *ca_file, *cert_file, *key_file;
	bool insecure_skip_verify;
	uint64_t spool_max;
	int fsync; /* enum fp_fsync */
	int64_t fsync_interval_ms;
	int64_t retry_max_ms;
	bool append_only;     /* engine = "victoriametrics": keeps every write */
	int64_t retention_ms; /* what the engine keeps; 0: everything */
};

/* The ops of fp_influxdb_output on the config (void *: a struct
 * fp_influx_output_cfg *).  parse never returns NULL. */
void *fp_influx_cfg_parse(const config_setting_t *g, const struct fp_config *c,
			  struct fp_cfg_errors *errs);
void fp_influx_cfg_free(void *oc);
void fp_influx_cfg_describe(const void *oc, FILE *f);
/* Deep copy (secrets included) into d, and the release of what a copy
 * holds (secrets wiped; d itself is the caller's). */
void fp_influx_cfg_copy(struct fp_influx_output_cfg *d, const struct fp_influx_output_cfg *s);
void fp_influx_cfg_clear(struct fp_influx_output_cfg *d);

/* A newly allocated copy of url with any user:password@ replaced by
 * "***@", for logs and descriptions. */
char *fp_influx_redact_url(const char *url);
/* The value of a Retry-After header (delay-seconds or an HTTP date) in
 * ms, clamped to [0, cap_ms] (a date in the past: 0); -1 if unreadable. */
int64_t fp_influx_retry_after_ms(const char *value, int64_t cap_ms);

extern const struct fp_output_ops fp_influxdb_output;

#endif
