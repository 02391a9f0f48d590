/* mq_collector.h - the MQTT collector (libmosquitto).
 *
 *   mqtt: { brokers = ( { name = "site"; url = "mqtt://127.0.0.1:1883";
 *                         client_id = "footprintd-dc1"; clean_session = false;
 *                         subscriptions = ( { topic = "tele/#"; format = "tasmota"; role = "it"; } ); } ); };
 *
 * Each broker has one libmosquitto client running its own network thread
 * (mosquitto_loop_start).  Subscriptions are made again on every connect;
 * libmosquitto reconnects with a capped exponential backoff.  The message
 * callback parses the payload and hands the points to the core before it
 * returns; with the threaded loop libmosquitto writes the PUBACK of a QoS 1
 * message only after the callback has returned (checked by
 * tests/integration/mqtt.sh), so a QoS 1 message is acknowledged only once
 * its points are in the outputs (an InfluxDB output's disk spool).
 */
#ifndef FP_MQ_COLLECTOR_H
#define FP_MQ_COLLECTOR_H

#include <libconfig.h>
#include <stdio.h>

#include "collector.h"
#include "conf.h"
#include "mq_parse.h"

struct fp_mq_config;

struct fp_mq_config *fp_mq_config_parse(const config_setting_t *g, const struct fp_config *cfg,
					struct fp_cfg_errors *errs);
void fp_mq_config_free(struct fp_mq_config *c);
void fp_mq_config_describe(const struct fp_mq_config *c, FILE *f);

struct fp_mq_collector;
struct fp_mq_collector *fp_mq_collector_new(const struct fp_mq_config *mc,
					    const struct fp_config *cfg, fp_push_fn push, void *arg);
int fp_mq_collector_start(struct fp_mq_collector *c);
void fp_mq_collector_stop(struct fp_mq_collector *c);
void fp_mq_collector_metrics(struct fp_mq_collector *c, struct fp_batch *b, const char *site,
			     const char *host, int64_t ts_ns);
void fp_mq_collector_free(struct fp_mq_collector *c);

#endif
