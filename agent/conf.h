/* conf.h - the configuration: libconfig file -> struct fp_config.
 *
 * Three passes (chrony's parse-then-apply): fp_config_load parses the file
 * into owned fields with defaults from fp_config_defaults, validating as it
 * goes and collecting every problem as "FILE:LINE: key: reason" (unknown
 * keys are errors); the caller then applies a config that had no problem.
 * SIGHUP builds a fresh struct and swaps it in only if it validates.
 *
 * The plugins (fp_collectors[] and fp_outputs[], agent/plugins.c) parse
 * their own groups through the fp_cfg_get_* helpers, which use the same
 * error sink; the loader keeps what is common to them (the outputs group,
 * the output names).  The libconfig tree stays alive inside the
 * struct fp_config until fp_config_free.
 */
#ifndef FP_CONF_H
#define FP_CONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "util.h"

struct fp_collector_ops;
struct fp_output_ops;

/* A configured collector: its type and its parsed group (owned, freed
 * with ops->free_config). */
struct fp_collector_cfg {
	const struct fp_collector_ops *ops;
	void *cc;
};

/* A configured output: its type, its name (owned) and its parsed element
 * of outputs.<type> (owned, freed with ops->free_config). */
struct fp_output_cfg {
	const struct fp_output_ops *ops;
	char *name;
	void *oc;
};

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
	/* timestamps from the network or a file outside it are rejected */
	struct fp_time_window time_window;
	unsigned log_burst;	 /* lines per cause and interval */
	int64_t log_interval_ms; /* the rate limits' interval */
	/* outputs, in the order of fp_outputs[] then of each type's list */
	struct fp_output_cfg *outputs;
	size_t noutputs, outputs_cap;

	struct fp_indicators_cfg *indicators; /* never NULL after load/defaults */
	struct fp_inventory_cfg *inventory;   /* NULL until loaded (lazily in defaults) */
	struct fp_report_cfg *report_cfg;     /* the report group (NULL until loaded) */

	/* --test: collectors must not disturb the daemon's state (set
	 * between fp_config_defaults and fp_config_load) */
	bool test_mode;
	/* collectors, in the order of fp_collectors[]: those configured
	 * without a problem */
	struct fp_collector_cfg *collectors;
	size_t ncollectors, collectors_cap;
	/* The meter roles a collector may give a device: the i-th name,
	 * NULL past the last.  The roles belong to the indicators; the
	 * loader installs their table here (fp_config_defaults) so that a
	 * collector checks a role through fp_cfg_get_role alone. */
	const char *(*role_name)(size_t i);

	config_t lc;
	bool lc_valid;
};

/* Fills c with the embedded defaults (one output of the first type of
 * fp_outputs[], named after its type, with that type's default config:
 * the file output, footprint.lp in state_dir). */
void fp_config_defaults(struct fp_config *c);
/* Loads path into c (which must come from fp_config_defaults).  Returns 0
 * when there was no problem, else -EINVAL with every problem in errs. */
int fp_config_load(struct fp_config *c, const char *path, struct fp_cfg_errors *errs);
/* Checks what touches the system (state_dir); problems go to errs. */
int fp_config_check_system(const struct fp_config *c, struct fp_cfg_errors *errs);
void fp_config_free(struct fp_config *c);

#endif
