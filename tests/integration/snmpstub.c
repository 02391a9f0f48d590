/* snmpstub.c - a hostile SNMP v2c agent on loopback for snmp_hostile.sh.
 *
 * snmpstub PORT: answers every request on 127.0.0.1:PORT (UDP) as its
 * community says:
 *   values    a response whose varbinds are, by the next-to-last arc N of
 *             each OID asked: 1 Gauge32 42, 2 noSuchObject, 3 noSuchInstance,
 *             4 endOfMibView, 5 an OCTET STRING, 6 an IpAddress, else NULL
 *   garbage   64 bytes of noise
 *   truncated the right response cut in half
 *   badlen    the right request-id in a message whose lengths overrun it
 *   wrongid   a well-formed response to another request-id
 *   hugeoid   a response whose one varbind has a 100-arc OID
 * Runs until killed; writes "ready" on stdout once bound.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct buf {
	unsigned char b[4096];
	size_t n;
};

/* Reads a tag and a length at *p (< end): the content's start and length. */
static int tlv(const unsigned char **p, const unsigned char *end, int *tag, size_t *len)
{
	const unsigned char *q = *p;
	size_t l = 0;
	int k;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	if (*q & 0x80) {
		k = *q++ & 0x7f;
		if (k > 2 || end - q < k)
			return -1;
		while (k--)
			l = l << 8 | *q++;
	} else {
		l = *q++;
	}
	if ((size_t)(end - q) < l)
		return -1;
	*len = l;
	*p = q;
	return 0;
}

static void put(struct buf *o, const void *d, size_t n)
{
	if (o->n + n <= sizeof(o->b)) {
		memcpy(o->b + o->n, d, n);
		o->n += n;
	}
}

/* Wraps o's bytes from start in a tag and a (2-byte long form) length. */
static void wrap(struct buf *o, size_t start, int tag)
{
	size_t l = o->n - start;
	unsigned char h[4] = { (unsigned char)tag, 0x82, (unsigned char)(l >> 8),
			       (unsigned char)l };

	if (o->n + 4 > sizeof(o->b))
		return;
	memmove(o->b + start + 4, o->b + start, l);
	memcpy(o->b + start, h, 4);
	o->n += 4;
}

static void value(struct buf *o, const unsigned char *oid, size_t olen)
{
	int n = olen >= 2 ? oid[olen - 2] : 0;

	switch (n) {
	case 1:
		put(o, "\x42\x01\x2a", 3);
		break;
	case 2:
		put(o, "\x80\x00", 2);
		break;
	case 3:
		put(o, "\x81\x00", 2);
		break;
	case 4:
		put(o, "\x82\x00", 2);
		break;
	case 5:
		put(o, "\x04\x04oops", 6);
		break;
	case 6:
		put(o, "\x40\x04\x7f\x00\x00\x01", 6);
		break;
	default:
		put(o, "\x05\x00", 2);
	}
}

/* Builds the answer to req in o; 0, or -1 if req is not a v2c request. */
static int answer(const unsigned char *req, size_t n, struct buf *o)
{
	const unsigned char *p = req, *end = req + n, *com, *rid, *vbl, *pe;
	size_t l, cl, rl, vl;
	int tag;
	char mode[32];
	size_t start, s2, s3;

	if (tlv(&p, end, &tag, &l) || tag != 0x30)
		return -1;
	if (tlv(&p, end, &tag, &l) || tag != 0x02)
		return -1;
	p += l;
	if (tlv(&p, end, &tag, &cl) || tag != 0x04 || cl >= sizeof(mode))
		return -1;
	com = p;
	memcpy(mode, com, cl);
	mode[cl] = '\0';
	p += cl;
	if (tlv(&p, end, &tag, &l) || (tag & 0xe0) != 0xa0)
		return -1;
	pe = p + l;
	if (tlv(&p, pe, &tag, &rl) || tag != 0x02)
		return -1;
	rid = p;
	p += rl;
	for (int i = 0; i < 2; i++) {
		if (tlv(&p, pe, &tag, &l))
			return -1;
		p += l;
	}
	if (tlv(&p, pe, &tag, &vl) || tag != 0x30)
		return -1;
	vbl = p;
	o->n = 0;
	if (!strcmp(mode, "garbage")) {
		for (int i = 0; i < 64; i++)
			o->b[o->n++] = (unsigned char)(i * 37 + 11);
		return 0;
	}
	start = o->n;
	put(o, "\x02\x01\x01", 3); /* version 2c */
	put(o, "\x04", 1);
	o->b[o->n++] = (unsigned char)cl;
	put(o, com, cl);
	s2 = o->n;
	put(o, "\x02", 1);
	o->b[o->n++] = (unsigned char)rl;
	put(o, rid, rl);
	if (!strcmp(mode, "wrongid"))
		o->b[o->n - 1] ^= 0x55;
	put(o, "\x02\x01\x00\x02\x01\x00", 6);
	s3 = o->n;
	if (!strcmp(mode, "hugeoid")) {
		size_t s4 = o->n;
		put(o, "\x06\x64\x2b", 3);
		for (int i = 1; i < 100; i++)
			put(o, "\x01", 1);
		put(o, "\x42\x01\x07", 3);
		wrap(o, s4, 0x30);
	} else {
		const unsigned char *q = vbl, *ve = vbl + vl;
		while (q < ve) {
			const unsigned char *vb, *oid;
			size_t bl, ol;
			size_t s4 = o->n;
			if (tlv(&q, ve, &tag, &bl))
				break;
			vb = q;
			q += bl;
			if (tlv(&vb, q, &tag, &ol) || tag != 0x06)
				break;
			oid = vb;
			put(o, "\x06", 1);
			o->b[o->n++] = (unsigned char)ol;
			put(o, oid, ol);
			value(o, oid, ol);
			wrap(o, s4, 0x30);
		}
	}
	wrap(o, s3, 0x30);
	wrap(o, s2, 0xa2);
	wrap(o, start, 0x30);
	if (!strcmp(mode, "truncated"))
		o->n /= 2;
	else if (!strcmp(mode, "badlen"))
		o->b[2] = 0x7f; /* the message claims 32 KiB more than it has */
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	int fd;

	if (argc != 2)
		return 64;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)strtoul(argv[1], NULL, 10));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("snmpstub: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		unsigned char req[4096];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct buf o;
		ssize_t n = recvfrom(fd, req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		if (answer(req, (size_t)n, &o) == 0)
			sendto(fd, o.b, o.n, 0, (struct sockaddr *)&from, fl);
	}
}
