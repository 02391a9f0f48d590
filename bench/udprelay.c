/* udprelay.c - a counting UDP relay for the SNMP benchmark: listens on
 * 127.0.0.1 (an ephemeral port, written to the port file), forwards each
 * client's datagrams to 127.0.0.1:PORT from a socket of that client's own
 * (so the answers find their way back) and counts the requests and the
 * answers.  On SIGUSR1 and at exit (SIGTERM, SIGINT) it writes
 *   requests N
 *   responses N
 * to the count file (whole: to FILE.tmp, then renamed).
 *   udprelay PORT_FILE TARGET_PORT COUNT_FILE
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 1024

struct client {
	struct sockaddr_in addr;
	int fd; /* connected to the target */
};

static volatile sig_atomic_t want_dump, want_stop;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_dump = 1;
	else
		want_stop = 1;
}

static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static void dump(const char *path, unsigned long long req, unsigned long long resp)
{
	char text[128];

	snprintf(text, sizeof(text), "requests %llu\nresponses %llu\n", req, resp);
	if (write_file(path, text) < 0)
		perror("udprelay: count file");
}

/* The client of from, made on its first datagram (NULL when full). */
static struct client *client_of(struct client *c, size_t *n, const struct sockaddr_in *from,
				int port)
{
	struct sockaddr_in to;
	size_t i;

	for (i = 0; i < *n; i++)
		if (c[i].addr.sin_port == from->sin_port &&
		    c[i].addr.sin_addr.s_addr == from->sin_addr.s_addr)
			return &c[i];
	if (*n == MAX_CLIENTS)
		return NULL;
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((unsigned short)port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c[*n].addr = *from;
	c[*n].fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c[*n].fd < 0 || connect(c[*n].fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("udprelay: upstream socket");
		if (c[*n].fd >= 0)
			close(c[*n].fd);
		return NULL;
	}
	return &c[(*n)++];
}

int main(int argc, char **argv)
{
	static struct client clients[MAX_CLIENTS];
	static struct pollfd pfd[MAX_CLIENTS + 1];
	unsigned long long req = 0, resp = 0;
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	struct sigaction sa;
	char buf[65536], text[32], *end = NULL;
	size_t n = 0, i;
	int lfd, port = 0;

	if (argc == 4)
		port = (int)strtol(argv[2], &end, 10);
	if (argc != 4 || *end || port <= 0 || port > 65535) {
		fprintf(stderr, "usage: udprelay PORT_FILE TARGET_PORT COUNT_FILE\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
		perror("udprelay: listen");
		return 1;
	}
	snprintf(text, sizeof(text), "%d\n", ntohs(a.sin_port));
	if (write_file(argv[1], text) < 0) {
		perror("udprelay: port file");
		return 1;
	}
	while (!want_stop) {
		if (want_dump) {
			want_dump = 0;
			dump(argv[3], req, resp);
		}
		pfd[0] = (struct pollfd){ lfd, POLLIN, 0 };
		for (i = 0; i < n; i++)
			pfd[i + 1] = (struct pollfd){ clients[i].fd, POLLIN, 0 };
		if (poll(pfd, n + 1, 1000) < 0) {
			if (errno == EINTR)
				continue;
			perror("udprelay: poll");
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t k = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
					     &fl);
			struct client *c = k >= 0 ? client_of(clients, &n, &from, port) : NULL;
			if (c) {
				req++;
				if (send(c->fd, buf, (size_t)k, 0) < 0 && errno != ECONNREFUSED)
					perror("udprelay: send");
			}
		}
		for (i = 0; i < n; i++) {
			ssize_t k;
			if (!(pfd[i + 1].revents & POLLIN))
				continue;
			k = recv(clients[i].fd, buf, sizeof(buf), 0);
			if (k < 0)
				continue; /* the target refused: the client times out */
			resp++;
			sendto(lfd, buf, (size_t)k, 0, (struct sockaddr *)&clients[i].addr,
			       sizeof(clients[i].addr));
		}
	}
	dump(argv[3], req, resp);
	return 0;
}
