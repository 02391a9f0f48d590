/* mq_loop.c - one turn of an MQTT client's network loop (see mq_loop.h). */
#include "config.h"

#include "mq_loop.h"

#include <errno.h>
#include <poll.h>

int fp_mq_loop_once(struct mosquitto *m, bool connected, int timeout_ms, int max_reads)
{
	struct pollfd p;
	int rc = MOSQ_ERR_SUCCESS, k;

	if (!connected)
		return mosquitto_loop(m, timeout_ms, 1);
	p.fd = mosquitto_socket(m);
	if (p.fd < 0)
		return MOSQ_ERR_NO_CONN;
	p.events = POLLIN | (mosquitto_want_write(m) ? POLLOUT : 0);
	p.revents = 0;
	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
		return MOSQ_ERR_ERRNO;
	/* A read that finds no data leaves errno at EAGAIN and returns
	 * MOSQ_ERR_SUCCESS; a packet read in part waits in the client for
	 * the rest. */
	if (p.revents & (POLLIN | POLLHUP | POLLERR))
		for (k = 0; rc == MOSQ_ERR_SUCCESS && k < max_reads; k++) {
			errno = 0;
			rc = mosquitto_loop_read(m, 1);
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
		}
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_want_write(m))
		rc = mosquitto_loop_write(m, 1);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_loop_misc(m);
	return rc;
}
