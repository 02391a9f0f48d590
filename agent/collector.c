/* collector.c - the table of compiled-in collectors. */
#include "config.h"

#include "collector.h"

#include "mb_collector.h"
#include "mb_config.h"

static void *mb_parse(const config_setting_t *g, const struct fp_config *c, struct fp_cfg_errors *e)
{
	return fp_mb_config_parse(g, c, e);
}

static void mb_free_config(void *cc)
{
	fp_mb_config_free(cc);
}

static void mb_describe(const void *cc, FILE *f)
{
	fp_mb_config_describe(cc, f);
}

static void *mb_create(const void *cc, const struct fp_config *c, fp_push_fn push, void *arg)
{
	return fp_mb_collector_new(cc, c, push, arg);
}

static int mb_start(void *inst)
{
	return fp_mb_collector_start(inst);
}

static void mb_gather(void *inst, struct fp_batch *out)
{
	fp_mb_collector_gather(inst, out);
}

static void mb_stop(void *inst)
{
	fp_mb_collector_stop(inst);
}

static void mb_metrics(void *inst, struct fp_batch *b, const char *site, const char *host,
		       int64_t ts)
{
	fp_mb_collector_metrics(inst, b, site, host, ts);
}

static void mb_destroy(void *inst)
{
	fp_mb_collector_free(inst);
}

static const struct fp_collector_ops modbus_ops = {
	.group = "modbus",
	.parse = mb_parse,
	.free_config = mb_free_config,
	.describe = mb_describe,
	.create = mb_create,
	.start = mb_start,
	.gather = mb_gather,
	.stop = mb_stop,
	.metrics = mb_metrics,
	.destroy = mb_destroy,
};

const struct fp_collector_ops *const fp_collectors[] = { &modbus_ops, NULL };
