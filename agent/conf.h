/* conf.h - the configuration: libconfig file -> struct fp_config.
 *
 * Three passes (chrony's parse-then-apply): fp_config_load parses the file
 * into owned fields with defaults from fp_config_defaults, validating as it
 * goes and collecting every problem as "FILE:LINE: key: reason" (unknown
 * keys are errors); the caller then applies a config that had no problem.
 * SIGHUP builds a fresh struct and swaps it in only if it validates.
 *
 * Collectors read their own groups later through the fp_cfg_get_* helpers,
 * which use the same error sink.  The libconfig tree stays alive inside the
 * struct fp_config until fp_config_free.
 */
#ifndef FP_CONF_H
#define FP_CONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "lineproto.h"
#include "util.h"

struct fp_file_output_cfg {
	char *name;
	char *path; /* "-" is stdout; relative paths are under state_dir */
	enum fp_precision precision;
	bool fsync;
};

enum fp_influx_api { FP_INFLUX_V1, FP_INFLUX_V2 };

struct fp_influx_output_cfg {
	char *name;
	char *url;   /* http(s)://host:port[/prefix] */
	enum fp_influx_api api;
	/* v1 */
	char *database, *retention_policy, *username, *password; /* password from a file */
	/* v2 */
	char *org, *bucket, *token;                                /* token from a file */
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
};

/* Deep copy (secrets included) and free (secrets wiped). */
void fp_influx_cfg_copy(struct fp_influx_output_cfg *d, const struct fp_influx_output_cfg *s);
void fp_influx_cfg_free(struct fp_influx_output_cfg *c);

struct fp_config {
	char *file; /* NULL for the embedded defaults */
	/* agent */
	char *site;
	char *hostname;
	int64_t interval_ms;
	bool round_interval;
	char *state_dir;
	char *timezone;
	int log_level;
	uint64_t queue_max; /* points per output queue */
	bool self_metrics;
	int64_t shutdown_timeout_ms;
	/* outputs */
	struct fp_file_output_cfg *files;
	size_t nfiles, files_cap;
	struct fp_influx_output_cfg *influx;
	size_t ninflux, influx_cap;

	struct fp_indicators_cfg *indicators; /* never NULL after load/defaults */
	struct fp_inventory_cfg *inventory;   /* NULL until loaded (lazily in defaults) */

	bool test_mode; /* --test: collectors must not disturb the daemon's state */
	/* collectors: parsed config per entry of fp_collectors[], or NULL */
	void *collector_cfg[4];

	config_t lc;
	bool lc_valid;
};

/* Fills c with the embedded defaults (one file output, footprint.lp in
 * state_dir). */
void fp_config_defaults(struct fp_config *c);
/* Loads path into c (which must come from fp_config_defaults).  Returns 0
 * when there was no problem, else -EINVAL with every problem in errs. */
int fp_config_load(struct fp_config *c, const char *path, struct fp_cfg_errors *errs);
/* Checks what touches the system (state_dir); problems go to errs. */
int fp_config_check_system(const struct fp_config *c, struct fp_cfg_errors *errs);
void fp_config_free(struct fp_config *c);

#endif
