/* mq_loop.h - one turn of an MQTT client's network loop, run by a thread
 * of the caller's (mosquitto_threaded_set(m, true), not
 * mosquitto_loop_start).
 *
 * Why not libmosquitto's own thread: once connected, its loop costs two
 * select() calls and a read of its wake-up pipe per message in a flood
 * (one packet per select, and every acknowledgement queued from a
 * callback writes a byte to the pipe); and it ends for good on some
 * errors (a protocol or TLS error, EPROTO), where a collector must try
 * again.  Connected, a turn here polls the socket alone and reads every
 * packet already there (up to max_reads) before it writes, so
 * acknowledgements still leave only after the message callbacks have
 * returned: with threaded_set, a PUBACK queued during a callback waits
 * for the write. */
#ifndef FP_MQ_LOOP_H
#define FP_MQ_LOOP_H

#include <mosquitto.h>
#include <stdbool.h>

/* connected: the CONNACK has come (the connect callback said so); until
 * then the turn is mosquitto_loop(), which knows the connection's first
 * steps (a connect in progress, the TLS handshake).  Then: poll of up to
 * timeout_ms, the reads, the writes, mosquitto_loop_misc() (keep-alive).
 * Returns a MOSQ_ERR_ code: anything but MOSQ_ERR_SUCCESS means the
 * connection is gone (or was never made). */
int fp_mq_loop_once(struct mosquitto *m, bool connected, int timeout_ms, int max_reads);

#endif
