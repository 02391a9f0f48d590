/* mqflood.c - a paced MQTT publisher for bench/capacity (libmosquitto). */
#include "config.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * mqflood -p PORT -r RATE -s SECONDS -f json|plain|collectd [-d DEVICES] [-q QOS]
 *
 * Publishes RATE messages a second for SECONDS to 127.0.0.1:PORT, paced in
 * 1 ms slices, round robin over DEVICES topics: tele/plugN/SENSOR with a
 * tasmota SENSOR payload (~290 bytes) for json, bench/plugN/meter/power
 * with a plain number for plain ("N:" before it for collectd).  mosquitto_pub -l tops out far below the
 * rates a capacity run needs.  Prints "published N seconds S" on stdout.
 */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* json: 1 tasmota, 0 a plain number, 2 collectd's "N:VALUE" */
static int payload(char *buf, size_t len, int json, unsigned long i)
{
	if (json == 2)
		return snprintf(buf, len, "N:%lu.5", i % 5000);
	if (!json)
		return snprintf(buf, len, "%lu.5", i % 5000);
	return snprintf(buf, len,
			"{\"Time\":\"2026-12-02T12:00:00\",\"ENERGY\":{\"TotalStartTime\":"
			"\"2025-01-01T00:00:00\",\"Total\":%lu.%03lu,\"Yesterday\":1.234,"
			"\"Today\":0.567,\"Period\":%lu,\"Power\":%lu,\"ApparentPower\":%lu,"
			"\"ReactivePower\":20,\"Factor\":0.90,\"Voltage\":230,\"Current\":0.217},"
			"\"ESP32\":{\"Temperature\":45.6},\"TempUnit\":\"C\"}",
			1000 + i / 1000, i % 1000, i % 7, i % 500, i % 500 + 5);
}

int main(int argc, char **argv)
{
	int port = 1883, qos = 0, json = 1, c, rc;
	unsigned long rate = 1000, devices = 100, sent = 0, i;
	double secs = 10;
	struct mosquitto *m;
	char topic[128], buf[512];
	int64_t t0, slice = 1000000, next;

	while ((c = getopt(argc, argv, "p:r:s:f:d:q:")) != -1) {
		switch (c) {
		case 'p':
			port = (int)strtol(optarg, NULL, 10);
			break;
		case 'r':
			rate = strtoul(optarg, NULL, 10);
			break;
		case 's':
			secs = strtod(optarg, NULL);
			break;
		case 'f':
			json = !strcmp(optarg, "json") ? 1 : !strcmp(optarg, "collectd") ? 2 : 0;
			break;
		case 'd':
			devices = strtoul(optarg, NULL, 10);
			break;
		case 'q':
			qos = (int)strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
				"usage: mqflood -p PORT -r RATE -s SECONDS -f json|plain|collectd "
				"[-d DEVICES] [-q QOS]\n");
			return 2;
		}
	}
	if (!devices || !rate)
		return 2;
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, NULL);
	if (!m || mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqflood: cannot connect to port %d\n", port);
		return 1;
	}
	/* the per-slice quota keeps the rate exact over the run */
	t0 = now_ns();
	next = t0;
	while (next - t0 < (int64_t)(secs * 1e9)) {
		unsigned long due = (unsigned long)((double)(next - t0 + slice) / 1e9 * rate);
		struct timespec ts;
		for (; sent < due; sent++) {
			i = sent;
			if (json == 1)
				snprintf(topic, sizeof(topic), "tele/plug%lu/SENSOR", i % devices);
			else
				snprintf(topic, sizeof(topic), "bench/plug%lu/meter/power",
					 i % devices);
			rc = mosquitto_publish(m, NULL, topic, payload(buf, sizeof(buf), json, i),
					       buf, qos, false);
			/* a full socket: let the loop write, then try again */
			while (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(m))
				if (mosquitto_loop_write(m, 1) != MOSQ_ERR_SUCCESS)
					break;
			if (rc != MOSQ_ERR_SUCCESS) {
				fprintf(stderr, "mqflood: publish: %s\n", mosquitto_strerror(rc));
				return 1;
			}
		}
		mosquitto_loop_misc(m);
		next += slice;
		ts.tv_sec = next / 1000000000LL;
		ts.tv_nsec = next % 1000000000LL;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	while (mosquitto_want_write(m))
		if (mosquitto_loop_write(m, 1) != MOSQ_ERR_SUCCESS)
			break;
	mosquitto_disconnect(m);
	mosquitto_loop(m, 100, 1);
	printf("published %lu seconds %.3f\n", sent, (double)(now_ns() - t0) / 1e9);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return 0;
}
