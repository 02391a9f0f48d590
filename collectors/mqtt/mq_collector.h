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

#include "collector.h"

/* The MQTT collector: its config and instance are its own. */
extern const struct fp_collector_ops fp_mqtt_collector;

#endif
