/* output.h - outputs: where encoded points go.
 *
 * The core encodes each gathered batch once per timestamp precision and
 * submits it to every output from the main thread.  Each output type
 * brings its own delivery thread(s), so a slow or dead output never delays
 * the gatherers or the other outputs:
 * (a bounded memory queue and a writer thread, or a disk spool and a
 * sender thread, say).
 *
 * Each output type supplies one const ops table, listed in fp_outputs[]
 * (agent/plugins.c, compiled in).  It owns its config: the loader
 * (agent/conf.c) reads the outputs group, checks each element of the list
 * outputs.<type> for what every output has (known keys, its name) and
 * hands the element to parse; describe prints the settings for
 * --check-config -v; create makes the run-time instance.  submit runs in
 * the main thread and must not block on the network.
 */
#ifndef FP_OUTPUT_H
#define FP_OUTPUT_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lineproto.h"
#include "log.h"
#include "point.h"

#include "conf.h"

struct fp_output;

struct fp_output_ops {
	const char *type;	 /* its list in the outputs group: outputs.<type> = ( ... ) */
	const char *const *keys; /* the keys of one element, "name" included */
	/* Parses the type's settings of one element g (a group whose keys and
	 * name the loader has checked); problems go to errs.  Returns the
	 * type's config, also with problems (freed with free_config). */
	void *(*parse)(const config_setting_t *g, const struct fp_config *c,
		       struct fp_cfg_errors *errs);
	/* The config of the embedded default output (used of the first type
	 * of fp_outputs[] only). */
	void *(*default_config)(void);
	void (*free_config)(void *oc); /* accepts NULL */
	/* --check-config -v: the settings, printed after
	 * "outputs.<type>[i]: name="..."" up to the line end (further lines
	 * indented).  A secret is printed as "set", never its value. */
	void (*describe)(const void *oc, FILE *f);
	/* Makes the instance named name from a validated config (borrowed
	 * for the call); the agent starts it. */
	struct fp_output *(*create)(const void *oc, const char *name, const struct fp_config *c);
	/* Opens the destination and starts the delivery thread. 0 or -errno
	 * (the op logs the reason). */
	int (*start)(struct fp_output *o);
	/* Takes a copy of npoints lines of line protocol. */
	void (*submit)(struct fp_output *o, const char *data, size_t len, size_t npoints);
	/* Stops accepting, delivers what it holds for at most timeout_ms
	 * (an output with a spool keeps the rest there), joins its threads. */
	void (*stop)(struct fp_output *o, int64_t timeout_ms);
	/* True when it cannot take more points now (its queue is full and,
	 * for an output with a spool, the spool cannot be written): the
	 * agent then holds the collectors back.  Optional. */
	bool (*saturated)(struct fp_output *o);
	/* Adds the output's self-metric fields to p. */
	void (*metrics)(struct fp_output *o, struct fp_point *p);
	void (*destroy)(struct fp_output *o); /* frees o->priv */
};

struct fp_output {
	const struct fp_output_ops *ops;
	char *name;
	enum fp_precision precision;
	void *priv;
	bool started;
	/* Set by create for a destination that keeps every write
	 * (append_only: running values and corrections of rows are not
	 * sent, string fields travel as tags) or keeps retention_ms only
	 * (older points are not sent: counted in too_old and logged).  The
	 * agent then encodes for this output alone. */
	bool append_only;
	int64_t retention_ms;		/* 0: none */
	uint64_t too_old;		/* main thread (dispatch); read by the metrics */
	struct fp_complain too_old_log; /* one rate limit per output */
};

/* Takes priv (freed by ops->destroy). */
struct fp_output *fp_output_new(const struct fp_output_ops *ops, const char *name,
				enum fp_precision precision, void *priv);
int fp_output_start(struct fp_output *o);
void fp_output_submit(struct fp_output *o, const char *data, size_t len, size_t npoints);
void fp_output_stop(struct fp_output *o, int64_t timeout_ms);
bool fp_output_saturated(struct fp_output *o);
/* Stops (without waiting) if needed, then frees.  Accepts NULL. */
void fp_output_free(struct fp_output *o);
/* Appends this output's self-metrics point (measurement footprintd,
 * component output/<name>). */
void fp_output_metrics(struct fp_output *o, struct fp_batch *b, const char *site, const char *host,
		       int64_t ts_ns);

/* NULL-terminated; the first type provides the embedded default output. */
extern const struct fp_output_ops *const fp_outputs[];

#endif
