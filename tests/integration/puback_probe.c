/* puback_probe.c - checks when libmosquitto acknowledges a QoS 1 message
 * relative to the message callback, with the network loop the MQTT
 * collector uses (fp_mq_loop_once on a thread of its own, threaded_set).  The no-loss guarantee of the collector rests on
 * the answer: the PUBACK must leave only after the callback returned.
 *
 *   puback_probe PORT crash [QOS]   subscribes to probe/# (QoS 1 unless
 *                             QOS says 2) in a
 *                             persistent session (client id
 *                             "fp-puback-probe"); with crash=1 it dies
 *                             inside the callback of the first message;
 *                             else it prints each message for 3 s.
 * If the message that killed the callback is delivered again to the next
 * run, the PUBACK had not been sent: what the collector relies on. */
#include "config.h"

#include <mosquitto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "mq_loop.h"

static int crash, qos = 1;
static bool connected;

static void on_connect(struct mosquitto *m, void *o, int rc)
{
	(void)o;
	if (rc == 0) {
		connected = true;
		mosquitto_subscribe(m, NULL, "probe/#", qos);
	}
}

static void on_message(struct mosquitto *m, void *o, const struct mosquitto_message *msg)
{
	(void)m;
	(void)o;
	printf("message %.*s\n", msg->payloadlen, (const char *)msg->payload);
	fflush(stdout);
	if (crash) {
		sleep(1); /* long enough for a PUBACK already queued to leave */
		_exit(3);
	}
}

int main(int argc, char **argv)
{
	struct mosquitto *m;

	if (argc < 3)
		return 2;
	crash = argv[2][0] == '1';
	if (argc > 3)
		qos = argv[3][0] == '2' ? 2 : 1;
	mosquitto_lib_init();
	m = mosquitto_new("fp-puback-probe", false, NULL);
	mosquitto_threaded_set(m, true);
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_message_callback_set(m, on_message);
	if (mosquitto_connect(m, "127.0.0.1", (int)strtol(argv[1], NULL, 10), 30) !=
	    MOSQ_ERR_SUCCESS)
		return 1;
	{
		time_t end = time(NULL) + 3;
		while (time(NULL) < end)
			if (fp_mq_loop_once(m, connected, 100, 100) != MOSQ_ERR_SUCCESS)
				return 1;
	}
	mosquitto_disconnect(m);
	fp_mq_loop_once(m, connected, 100, 1);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return 0;
}
