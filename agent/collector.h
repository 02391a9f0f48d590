/* collector.h - the collector interface (chrony's driver table).
 *
 * Each collector type has one const ops table, at the end of its own file
 * and listed in fp_collectors[] (agent/plugins.c; compiled in, no dlopen).
 * It owns one top-level config group: parse turns the group into the
 * type's own config (reporting problems through the shared error sink);
 * create makes a run-time instance that pushes its points to the core
 * from its own threads (fp_push_fn, thread-safe);
 * gather polls once in the calling thread (--test, --once).  A collector
 * never sleeps in the caller's thread outside gather, never exits and never
 * calls an output.  The ops take the type's config and instance as void
 * pointers; the loader keeps the configs (struct fp_config's collectors),
 * the agent the instances (struct fp_collector).
 */
#ifndef FP_COLLECTOR_H
#define FP_COLLECTOR_H

#include <libconfig.h>
#include <stdio.h>

#include "conf.h"
#include "point.h"

typedef void (*fp_push_fn)(void *arg, struct fp_batch *b);

struct fp_collector_ops {
	const char *group; /* its top-level config group */
	void *(*parse)(const config_setting_t *g, const struct fp_config *c,
		       struct fp_cfg_errors *errs); /* NULL on errors */
	void (*free_config)(void *cc);
	void (*describe)(const void *cc, FILE *f); /* --check-config -v */
	void *(*create)(const void *cc, const struct fp_config *c, fp_push_fn push, void *arg);
	int (*start)(void *inst);
	void (*gather)(void *inst, struct fp_batch *out); /* NULL: a push collector */
	void (*stop)(void *inst);
	void (*metrics)(void *inst, struct fp_batch *b, const char *site, const char *host,
			int64_t ts_ns);
	void (*destroy)(void *inst);
	/* Its part of the one-line status (systemd STATUS=), from the
	 * self-metrics of all its instances: "<sum of status_field>
	 * <status_what>[ (<sum of status_failed> failed)]".  Optional. */
	const char *status_field, *status_what, *status_failed;
	/* --test --test-wait, once the listening collector has stopped: names
	 * on f, one line each, every source of its own (a subscription) that
	 * gave no point in the waited_s seconds it listened; returns how many
	 * of them make --test fail.  Optional, for collectors that push. */
	size_t (*test_silent)(void *inst, FILE *f, int64_t waited_s);
};

/* A collector instance: what ops->create made (owned by the agent, freed
 * with ops->destroy). */
struct fp_collector {
	const struct fp_collector_ops *ops;
	void *inst;
};

/* NULL-terminated, in config order of precedence. */
extern const struct fp_collector_ops *const fp_collectors[];

#endif
