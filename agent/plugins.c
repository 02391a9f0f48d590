/* collector.c - the table of compiled-in collectors. */
#include "config.h"

#include "collector.h"

#include "mb_collector.h"
#include "mb_config.h"
#include "mq_collector.h"

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

static void *mq_parse(const config_setting_t *g, const struct fp_config *c, struct fp_cfg_errors *e)
{
	return fp_mq_config_parse(g, c, e);
}

static void mq_free_config(void *cc)
{
	fp_mq_config_free(cc);
}

static void mq_describe(const void *cc, FILE *f)
{
	fp_mq_config_describe(cc, f);
}

static void *mq_create(const void *cc, const struct fp_config *c, fp_push_fn push, void *arg)
{
	return fp_mq_collector_new(cc, c, push, arg);
}

static int mq_start(void *inst)
{
	return fp_mq_collector_start(inst);
}

static void mq_stop(void *inst)
{
	fp_mq_collector_stop(inst);
}

static void mq_metrics(void *inst, struct fp_batch *b, const char *site, const char *host,
		       int64_t ts)
{
	fp_mq_collector_metrics(inst, b, site, host, ts);
}

static void mq_destroy(void *inst)
{
	fp_mq_collector_free(inst);
}

static const struct fp_collector_ops mqtt_ops = {
	.group = "mqtt",
	.parse = mq_parse,
	.free_config = mq_free_config,
	.describe = mq_describe,
	.create = mq_create,
	.start = mq_start,
	.gather = NULL, /* push: listens (--test-wait) */
	.stop = mq_stop,
	.metrics = mq_metrics,
	.destroy = mq_destroy,
};

const struct fp_collector_ops *const fp_collectors[] = { &modbus_ops, &mqtt_ops, NULL };
