/* mq_collector.h - the MQTT collector (libmosquitto).
 *
 *   mqtt: { brokers = ( { name = "site"; url = "mqtt://127.0.0.1:1883";
 *                         client_id = "footprintd-dc1"; clean_session = false;
 *                         subscriptions = ( { topic = "tele/#"; format = "tasmota"; role = "it"; } ); } ); };
 *
 * Each broker has one libmosquitto client and one thread of the agent's
 * running its network loop (mq_loop.c, not mosquitto_loop_start); the
 * client is marked threaded (mosquitto_threaded_set).  Subscriptions are
 * made again on every connect; after any error the thread reconnects with
 * reconnect_min..reconnect_max doubling.  The message callback parses the
 * payload and hands the points to the core before it returns; libmosquitto
 * only queues the PUBACK of a QoS 1 message, and the loop writes it after
 * the callback has returned (checked by tests/integration/mqtt.sh and
 * puback_probe), so a QoS 1 message is acknowledged only once its points
 * are in the outputs (an InfluxDB output's disk spool).
 */
#ifndef FP_MQ_COLLECTOR_H
#define FP_MQ_COLLECTOR_H

#include "collector.h"

/* The MQTT collector: its config and instance are its own. */
extern const struct fp_collector_ops fp_mqtt_collector;

#endif
