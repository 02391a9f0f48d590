/* mb_collector.c - the Modbus collector at run time (libmodbus). */
#include "config.h"

#include "mb_collector.h"

#include <errno.h>
#include <modbus.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "mb_sunspec.h"
#include "sched.h"
#include "util.h"

#define BUSY_RETRIES 3
/* A dropped field is retried after 1, 2, 4 ... polls, at most this long
 * apart (and at least every poll). */
#define DROP_RETRY_CAP_MS (10 * 60 * 1000LL)

struct mb_dev {
	const struct fp_mb_device_cfg *cfg;
	struct fp_mb_field *fields; /* own copy: disabled flags change */
	size_t nfields;
	bool discovered; /* SunSpec: the fields come from the device */
	struct fp_mb_block *blocks;
	size_t nblocks;
	int64_t next_ns;
	int64_t backoff_ms;
	bool replan; /* fields were cut or dropped: plan again after the poll */
	struct fp_complain lim, unit_lim;
	atomic_ullong polls, poll_errors, requests, errors_timeout, errors_exception,
		errors_connect, errors_other, errors_unit_id, fields_disabled, last_poll_ms,
		polls_skipped;
};

struct mb_conn {
	struct fp_mb_collector *owner;
	char *key;
	const struct fp_mb_device_cfg *first; /* connection parameters */
	modbus_t *ctx;
	bool connected;
	int64_t last_request_ns;
	int unit;	    /* the unit addressed now */
	uint16_t tid;	    /* TCP: the last transaction id sent */
	uint8_t reply_unit; /* TCP: the unit id of a rejected reply */
	struct mb_dev **devs;
	size_t ndevs;
	pthread_t thread;
	bool started;
	struct fp_complain lim;
};

struct fp_mb_collector {
	const struct fp_mb_config *mc;
	const struct fp_config *cfg;
	fp_push_fn push;
	void *arg;
	struct mb_dev *devs;
	size_t ndevs;
	struct mb_conn *conns;
	size_t nconns;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
};

static void replan(struct mb_dev *d)
{
	fp_mb_plan_free(d->blocks, d->nblocks);
	d->nblocks = fp_mb_plan(d->fields, d->nfields, &d->cfg->limits, &d->blocks);
}

static void *collector_new(const void *cc, const struct fp_config *cfg, fp_push_fn push, void *arg)
{
	const struct fp_mb_config *mc = cc;
	struct fp_mb_collector *c = fp_xcalloc(1, sizeof(*c));
	size_t i, k;

	c->mc = mc;
	c->cfg = cfg;
	c->push = push;
	c->arg = arg;
	pthread_mutex_init(&c->lock, NULL);
	fp_cond_init_mono(&c->cond);
	c->devs = fp_xcalloc(mc->ndevs ? mc->ndevs : 1, sizeof(*c->devs));
	c->conns = fp_xcalloc(mc->ndevs ? mc->ndevs : 1, sizeof(*c->conns));
	for (i = 0; i < mc->ndevs; i++) {
		struct mb_dev *d = &c->devs[c->ndevs++];
		char *key = fp_mb_conn_key(&mc->devs[i]);
		struct mb_conn *cn = NULL;

		d->cfg = &mc->devs[i];
		d->fields = fp_xcalloc(d->cfg->nfields ? d->cfg->nfields : 1, sizeof(*d->fields));
		if (d->cfg->nfields) /* none for SunSpec until discovery */
			memcpy(d->fields, d->cfg->fields, d->cfg->nfields * sizeof(*d->fields));
		d->nfields = d->cfg->nfields;
		replan(d);
		for (k = 0; k < c->nconns; k++)
			if (!strcmp(c->conns[k].key, key))
				cn = &c->conns[k];
		if (!cn) {
			cn = &c->conns[c->nconns++];
			cn->owner = c;
			cn->key = key;
			cn->first = d->cfg;
		} else {
			free(key);
		}
		cn->devs = fp_xrealloc(cn->devs, (cn->ndevs + 1) * sizeof(*cn->devs));
		cn->devs[cn->ndevs++] = d;
	}
	return c;
}

static void conn_close(struct mb_conn *cn)
{
	if (cn->ctx) {
		modbus_close(cn->ctx);
		modbus_free(cn->ctx);
		cn->ctx = NULL;
	}
	cn->connected = false;
}

/* libmodbus reports a name it cannot resolve as "Connection refused":
 * the name is looked up here first, and a failure said as such. */
static int resolve(struct mb_conn *cn)
{
	const struct fp_mb_device_cfg *d = cn->first;
	struct addrinfo hints, *ai = NULL;
	char port[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", d->port);
	rc = getaddrinfo(d->host, port, &hints, &ai);
	if (rc == 0) {
		freeaddrinfo(ai);
		return 0;
	}
	fp_complain(&cn->lim, LOG_WARNING, "modbus[%s]: %s: cannot resolve %s: %s", d->name,
		    cn->key, d->host, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	return -1;
}

static int conn_open(struct mb_conn *cn)
{
	const struct fp_mb_device_cfg *d = cn->first;
	char port[16];

	if (cn->connected)
		return 0;
	if (!cn->ctx) {
		if (d->kind == FP_MB_TCP) {
			snprintf(port, sizeof(port), "%d", d->port);
			cn->ctx = modbus_new_tcp_pi(d->host, port);
		} else {
			cn->ctx = modbus_new_rtu(d->tty, d->baud, d->parity, d->data_bits,
						 d->stop_bits);
		}
		if (!cn->ctx)
			return -errno;
	}
	if (d->kind == FP_MB_TCP && resolve(cn) < 0) {
		conn_close(cn);
		return -EHOSTUNREACH;
	}
	if (modbus_connect(cn->ctx) != 0) {
		int e = errno;
		fp_complain(&cn->lim, LOG_WARNING, "modbus[%s]: %s: cannot connect: %s", d->name,
			    cn->key, modbus_strerror(e));
		conn_close(cn);
		return -e;
	}
	if (d->kind == FP_MB_RTU && d->rs485 &&
	    modbus_rtu_set_serial_mode(cn->ctx, MODBUS_RTU_RS485) != 0)
		fp_log(LOG_WARNING, "modbus[%s]: RS485 mode not supported by the port: %s", cn->key,
		       modbus_strerror(errno));
	cn->connected = true;
	fp_release(&cn->lim, LOG_NOTICE, "modbus[%s]: connected", cn->key);
	return 0;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* After a timeout: never let a late reply answer the next request. */
static void after_timeout(struct mb_conn *cn)
{
	if (cn->first->kind == FP_MB_TCP) {
		conn_close(cn);
	} else if (cn->ctx) {
		modbus_flush(cn->ctx);
		sleep_ms(50);
		modbus_flush(cn->ctx);
	}
}

static bool is_timeout(int e)
{
	return e == ETIMEDOUT || e == EAGAIN;
}

static bool is_link_error(int e)
{
	return e == ECONNRESET || e == EPIPE || e == EBADF || e == ECONNREFUSED || e == ENOTCONN ||
		e == EIO;
}

/* Receives one Modbus TCP reply (MBAP header and PDU) into r, within the
 * response timeout: poll, then recv of what is there, until the length
 * the header announces is in.  A usual reply takes one poll and one recv
 * where libmodbus's modbus_receive_confirmation makes three selects and
 * three recvs (header, byte count, data): most of the CPU of a poll is
 * these system calls.  Only one request is ever outstanding (a timeout
 * closes the connection), so bytes beyond the frame are a broken peer.
 * Returns the frame's length or -1 with errno: ETIMEDOUT, ECONNRESET
 * (closed), EMBBADDATA (a length out of range, bytes beyond it). */
static int tcp_recv(struct mb_conn *cn, int fd, uint8_t *r, size_t cap)
{
	uint32_t sec = 0, usec = 0;
	int64_t deadline;
	size_t got = 0, want = 7; /* the MBAP header first */

	modbus_get_response_timeout(cn->ctx, &sec, &usec);
	deadline = fp_mono_ns() + (int64_t)sec * 1000000000LL + (int64_t)usec * 1000;
	while (got < want) {
		struct pollfd pf = { fd, POLLIN, 0 };
		int64_t left = deadline - fp_mono_ns();
		ssize_t k;
		int rc;

		rc = poll(&pf, 1, left > 0 ? (int)((left + 999999) / 1000000) : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		k = recv(fd, r + got, cap - got, MSG_DONTWAIT);
		if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = ECONNRESET;
			return -1;
		}
		got += (size_t)k;
		if (got >= 7) {
			want = 6 + (size_t)(r[4] << 8 | r[5]); /* unit id + PDU */
			if (want < 8 || want > cap || got > want) {
				errno = EMBBADDATA;
				return -1;
			}
		}
	}
	return (int)got;
}

/* Modbus TCP: reads count values of function fc (1-4) from unit, the
 * reply checked here.  libmodbus 3.1 checks a TCP reply's transaction and
 * protocol ids but not its unit id (only RTU's): a gateway answering for
 * another unit would have that unit's values taken as this one's.  So the
 * request is sent on the connection's socket, the reply framed by
 * tcp_recv and every field of it checked here.  Returns count or -1 with
 * errno (EMBBADSLAVE: the wrong unit, its id in cn->reply_unit). */
static int tcp_read(struct mb_conn *cn, int unit, int fc, uint16_t start, uint16_t count,
		    uint16_t *regs, uint8_t *bits)
{
	uint8_t q[12], r[MODBUS_TCP_MAX_ADU_LENGTH];
	uint16_t tid = ++cn->tid;
	int fd = modbus_get_socket(cn->ctx), n, want, i;
	size_t sent = 0;

	q[0] = (uint8_t)(tid >> 8);
	q[1] = (uint8_t)tid;
	q[2] = q[3] = q[4] = 0; /* protocol 0, length 6 */
	q[5] = 6;
	q[6] = (uint8_t)unit;
	q[7] = (uint8_t)fc;
	q[8] = (uint8_t)(start >> 8);
	q[9] = (uint8_t)start;
	q[10] = (uint8_t)(count >> 8);
	q[11] = (uint8_t)count;
	while (sent < sizeof(q)) {
		ssize_t w = send(fd, q + sent, sizeof(q) - sent, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		sent += (size_t)w;
	}
	n = tcp_recv(cn, fd, r, sizeof(r));
	if (n < 0)
		return -1;
	errno = EMBBADDATA;
	if (n < 9 || r[0] != q[0] || r[1] != q[1] || r[2] || r[3])
		return -1; /* not the answer to this request */
	if (r[6] != q[6]) {
		cn->reply_unit = r[6];
		errno = EMBBADSLAVE;
		return -1;
	}
	if (r[7] == (fc | 0x80)) {
		errno = n == 9 && r[8] < MODBUS_EXCEPTION_MAX ? MODBUS_ENOBASE + r[8] : EMBBADEXC;
		return -1;
	}
	want = fc <= 2 ? (count + 7) / 8 : 2 * count;
	if (r[7] != fc || r[8] != want || n != 9 + want)
		return -1;
	for (i = 0; i < count; i++) {
		if (fc <= 2)
			bits[i] = (uint8_t)((r[9 + i / 8] >> (i % 8)) & 1);
		else
			regs[i] = (uint16_t)(r[9 + 2 * i] << 8 | r[10 + 2 * i]);
	}
	return count;
}

/* One read request of a table (libmodbus's return convention).  RTU:
 * libmodbus checks the unit id of the reply itself. */
static int mb_read(struct mb_conn *cn, int unit, enum fp_mb_table t, uint16_t start, uint16_t count,
		   uint16_t *regs, uint8_t *bits)
{
	if (cn->first->kind == FP_MB_TCP)
		return tcp_read(cn, unit, (int)t + 1, start, count, regs, bits);
	switch (t) {
	case FP_MB_COIL:
		return modbus_read_bits(cn->ctx, start, count, bits);
	case FP_MB_DISCRETE:
		return modbus_read_input_bits(cn->ctx, start, count, bits);
	case FP_MB_HOLDING:
		return modbus_read_registers(cn->ctx, start, count, regs);
	default:
		return modbus_read_input_registers(cn->ctx, start, count, regs);
	}
}

/* Reads one block; 0 or -errno.  Retries "busy" (exception 6) briefly. */
static int read_block(struct mb_conn *cn, struct mb_dev *d, const struct fp_mb_block *b,
		      uint16_t *regs, uint8_t *bits)
{
	int attempt, rc = -1, e = 0;

	for (attempt = 0; attempt <= BUSY_RETRIES; attempt++) {
		if (d->cfg->pause_ms && cn->last_request_ns) {
			int64_t since = (fp_mono_ns() - cn->last_request_ns) / 1000000;
			if (since < d->cfg->pause_ms)
				sleep_ms(d->cfg->pause_ms - since);
		}
		atomic_fetch_add(&d->requests, 1);
		errno = 0;
		rc = mb_read(cn, d->cfg->unit_id, b->table, b->start, b->count, regs, bits);
		e = errno ? errno : EIO;
		cn->last_request_ns = fp_mono_ns();
		if (rc == b->count)
			return 0;
		if (rc >= 0)
			e = EMBBADDATA;
		if (e != EMBXSBUSY)
			break;
		atomic_fetch_add(&d->errors_exception, 1);
		sleep_ms(50 * (attempt + 1));
	}
	return -e;
}

/* Polls between two retries of a dropped field after b: 1, 2, 4 ... at
 * most DROP_RETRY_CAP_MS apart, at least 1. */
static uint32_t next_backoff(const struct mb_dev *d, uint32_t b)
{
	int64_t cap = DROP_RETRY_CAP_MS / (d->cfg->interval_ms > 0 ? d->cfg->interval_ms : 1);

	if (cap < 1)
		cap = 1;
	if (cap > UINT32_MAX / 2)
		cap = UINT32_MAX / 2;
	b = b ? 2 * b : 1;
	return (int64_t)b > cap ? (uint32_t)cap : b;
}

/* A single field answered an illegal address or value: dropped, retried
 * after a growing number of polls.  Logged once when it is dropped (a
 * failed retry only at debug level). */
static void drop_field(struct mb_dev *d, size_t i, int e)
{
	struct fp_mb_field *f = &d->fields[i];

	f->backoff = next_backoff(d, f->dropped ? f->backoff : 0);
	f->retry_at = atomic_load(&d->polls) + f->backoff;
	f->disabled = true;
	d->replan = true;
	if (f->dropped) {
		fp_log(LOG_DEBUG, "modbus[%s]: %s %u: %s; field '%s' retried after %u polls",
		       d->cfg->name, fp_mb_table_name(f->table), f->address, modbus_strerror(e),
		       f->field, f->backoff);
		return;
	}
	f->dropped = true;
	atomic_fetch_add(&d->fields_disabled, 1);
	fp_log(LOG_WARNING,
	       "modbus[%s]: %s %u: %s; field '%s' dropped (retried after 1, 2, 4 ... polls)",
	       d->cfg->name, fp_mb_table_name(f->table), f->address, modbus_strerror(e), f->field);
}

/* Before a poll: dropped fields whose retry is due are planned again. */
static void retry_due(struct mb_dev *d)
{
	uint64_t now = atomic_load(&d->polls);
	size_t i;

	for (i = 0; i < d->nfields; i++) {
		struct fp_mb_field *f = &d->fields[i];
		if (f->dropped && f->disabled && now >= f->retry_at) {
			f->disabled = false;
			d->replan = true;
		}
	}
	if (d->replan)
		replan(d);
	d->replan = false;
}

/* After a poll: dropped fields read in it are back. */
static void recovered(struct mb_dev *d, const bool *have)
{
	size_t i;

	for (i = 0; i < d->nfields; i++) {
		struct fp_mb_field *f = &d->fields[i];
		if (!f->dropped || !have[i])
			continue;
		f->dropped = false;
		f->backoff = 0;
		atomic_fetch_sub(&d->fields_disabled, 1);
		fp_log(LOG_NOTICE, "modbus[%s]: %s %u: field '%s' is served again", d->cfg->name,
		       fp_mb_table_name(f->table), f->address, f->field);
	}
}

static int sunspec_read(void *ctx, uint16_t addr, uint16_t n, uint16_t *regs)
{
	struct mb_conn *cn = ctx;

	int rc;

	errno = 0;
	rc = mb_read(cn, cn->unit, FP_MB_HOLDING, addr, n, regs, NULL);
	cn->last_request_ns = fp_mono_ns();
	if (rc == n)
		return 0;
	return -(errno && rc < 0 ? errno : EIO);
}

/* SunSpec: finds the device's models and makes its fields. */
static int discover(struct mb_conn *cn, struct mb_dev *d)
{
	struct fp_sunspec_model m[FP_SUNSPEC_MAX_MODELS];
	char why[200], skipped[512];
	size_t n = 0, i;
	uint16_t base = 0;

	if (fp_sunspec_discover(sunspec_read, cn, m, FP_SUNSPEC_MAX_MODELS, &n, &base, why,
				sizeof(why)) < 0) {
		fp_complain(&d->lim, LOG_WARNING, "modbus[%s]: unit %d: SunSpec discovery: %s",
			    d->cfg->name, d->cfg->unit_id, why);
		return -1;
	}
	/* before: the (empty) copy of the config's fields, or an earlier
	 * discovery's own */
	fp_sunspec_fields_free(d->fields, d->discovered ? d->nfields : 0);
	d->nfields = fp_sunspec_fields(m, n, &d->fields, skipped, sizeof(skipped));
	d->discovered = true;
	replan(d);
	fp_log(LOG_INFO,
	       "modbus[%s]: unit %d: SunSpec at %u: %zu models, %zu fields in %zu requests",
	       d->cfg->name, d->cfg->unit_id, base, n, d->nfields, d->nblocks);
	for (i = 0; i < n; i++)
		fp_log(LOG_DEBUG, "modbus[%s]: model %u at %u, L %u", d->cfg->name, m[i].id,
		       m[i].addr, m[i].len);
	if (skipped[0])
		fp_log(LOG_NOTICE, "modbus[%s]: SunSpec models skipped (not decoded): %s",
		       d->cfg->name, skipped);
	return 0;
}

/* Connects and addresses the unit; a SunSpec device's models are found at
 * its first poll.  Returns false when no block can be read. */
static bool prepare(struct mb_conn *cn, struct mb_dev *d)
{
	const struct fp_mb_device_cfg *dc = d->cfg;

	if (conn_open(cn) < 0) {
		atomic_fetch_add(&d->errors_connect, 1);
		return false;
	}
	modbus_set_slave(cn->ctx, dc->unit_id);
	cn->unit = dc->unit_id;
	modbus_set_response_timeout(cn->ctx, (uint32_t)(dc->timeout_ms / 1000),
				    (uint32_t)(dc->timeout_ms % 1000) * 1000);
	return !dc->sunspec || d->discovered || discover(cn, d) == 0;
}

/* Decodes the fields of a block just read into vals (have marks them). */
static void decode_block(const struct mb_dev *d, const struct fp_mb_block *b, const uint16_t *regs,
			 const uint8_t *bits, struct fp_mb_value *vals, bool *have)
{
	size_t k;

	for (k = 0; k < b->nfields; k++) {
		const struct fp_mb_field *f = &d->fields[b->fields[k]];
		uint32_t off = f->address - b->start;
		fp_mb_decode(f, regs + (off < 125 ? off : 0), bits + off, &vals[b->fields[k]]);
		have[b->fields[k]] = true;
	}
}

/* Counts and logs a block that could not be read (e: an errno or a
 * Modbus exception other than illegal address or value) and puts the link
 * right.  Returns true when the poll stops there (the unit does not
 * answer, answers as another unit, the link failed), false to go on with
 * the next block. */
static bool block_failed(struct mb_conn *cn, struct mb_dev *d, const struct fp_mb_block *b, int e)
{
	const struct fp_mb_device_cfg *dc = d->cfg;

	if (is_timeout(e)) {
		atomic_fetch_add(&d->errors_timeout, 1);
		fp_complain(&d->lim, LOG_WARNING,
			    "modbus[%s]: unit %d: %s %u-%u: timeout after %lldms", dc->name,
			    dc->unit_id, fp_mb_table_name(b->table), b->start,
			    b->start + b->count - 1, (long long)dc->timeout_ms);
		after_timeout(cn);
		return true; /* a unit that does not answer: stop here, back off */
	}
	if (e == EMBBADSLAVE) {
		/* a gateway that routes to the wrong unit, or a stray frame on
		 * a bus: never this unit's values.  TCP: the reply was framed
		 * whole and its transaction id matched, the link is in step. */
		atomic_fetch_add(&d->errors_unit_id, 1);
		if (dc->kind == FP_MB_TCP)
			fp_complain(&d->unit_lim, LOG_WARNING,
				    "modbus[%s]: unit %d: %s %u-%u: the reply came from unit %u; "
				    "rejected",
				    dc->name, dc->unit_id, fp_mb_table_name(b->table), b->start,
				    b->start + b->count - 1, cn->reply_unit);
		else
			fp_complain(&d->unit_lim, LOG_WARNING,
				    "modbus[%s]: unit %d: %s %u-%u: the reply came from another "
				    "unit; rejected",
				    dc->name, dc->unit_id, fp_mb_table_name(b->table), b->start,
				    b->start + b->count - 1);
		if (dc->kind != FP_MB_TCP)
			after_timeout(cn);
		return true;
	}
	if (e > MODBUS_ENOBASE && e < EMBXGTAR + 1) {
		atomic_fetch_add(&d->errors_exception, 1);
		fp_complain(&d->lim, LOG_WARNING, "modbus[%s]: unit %d: %s %u-%u: %s", dc->name,
			    dc->unit_id, fp_mb_table_name(b->table), b->start,
			    b->start + b->count - 1, modbus_strerror(e));
		return false;
	}
	if (is_link_error(e)) {
		atomic_fetch_add(&d->errors_connect, 1);
		conn_close(cn);
	} else {
		atomic_fetch_add(&d->errors_other, 1);
		after_timeout(cn); /* bad CRC, bad data: resynchronise */
	}
	fp_complain(&d->lim, LOG_WARNING, "modbus[%s]: unit %d: %s %u-%u: %s", dc->name,
		    dc->unit_id, fp_mb_table_name(b->table), b->start, b->start + b->count - 1,
		    modbus_strerror(e));
	return true;
}

/* What one poll reads into: the decoded values, the read buffers, and
 * counts of blocks read and failed. */
struct mb_poll {
	struct fp_mb_value *vals;
	bool *have;
	uint16_t regs[125];
	uint8_t bits[2000];
	size_t ok, failed;
};

/* The block covering fields idx[0..n) (in plan order: one table, sorted
 * by address). */
static struct fp_mb_block span(const struct mb_dev *d, size_t *idx, size_t n)
{
	struct fp_mb_block b = { d->fields[idx[0]].table, d->fields[idx[0]].address, 0, idx, n };
	uint32_t end = 0;
	size_t k;

	for (k = 0; k < n; k++) {
		const struct fp_mb_field *f = &d->fields[idx[k]];
		if ((uint32_t)f->address + f->count > end)
			end = (uint32_t)f->address + f->count;
	}
	b.count = (uint16_t)(end - b.start);
	return b;
}

/* Where a failed block of n fields is split: at each hole between its
 * contiguous runs if it has several, else in halves.  Returns the number
 * of parts; part p starts at field cut[p] (cut[0] = 0). */
static size_t split_points(const struct mb_dev *d, const size_t *idx, size_t n, size_t *cut)
{
	uint32_t end = (uint32_t)d->fields[idx[0]].address + d->fields[idx[0]].count;
	size_t k, np = 1;

	cut[0] = 0;
	for (k = 1; k < n; k++) {
		const struct fp_mb_field *f = &d->fields[idx[k]];
		if (f->address > end)
			cut[np++] = k;
		if ((uint32_t)f->address + f->count > end)
			end = (uint32_t)f->address + f->count;
	}
	if (np == 1)
		cut[np++] = n / 2;
	return np;
}

/* Reads the fields idx[0..n) in one request.  An illegal address or value
 * splits them (at holes, else in halves) and reads the parts at once,
 * down to single fields, which are dropped: the rest of the poll goes on.
 * The parts stay apart in later plans (their first fields get cut).
 * Returns true when the poll stops there (see block_failed). */
static bool read_part(struct mb_conn *cn, struct mb_dev *d, size_t *idx, size_t n,
		      struct mb_poll *p)
{
	struct fp_mb_block b = span(d, idx, n);
	size_t *cut, np, k;
	bool stop = false;
	int rc;

	if (!cn->connected && conn_open(cn) < 0) {
		atomic_fetch_add(&d->errors_connect, 1);
		p->failed++;
		return true;
	}
	rc = read_block(cn, d, &b, p->regs, p->bits);
	if (rc == 0) {
		p->ok++;
		decode_block(d, &b, p->regs, p->bits, p->vals, p->have);
		return false;
	}
	if (rc != -EMBXILADD && rc != -EMBXILVAL) {
		p->failed++;
		return block_failed(cn, d, &b, -rc);
	}
	atomic_fetch_add(&d->errors_exception, 1);
	if (n == 1) {
		drop_field(d, idx[0], -rc);
		return false;
	}
	cut = fp_xcalloc(n + 1, sizeof(*cut));
	np = split_points(d, idx, n, cut);
	fp_log(LOG_NOTICE, "modbus[%s]: %s %u-%u: %s; reading its %zu fields in %zu parts",
	       d->cfg->name, fp_mb_table_name(b.table), b.start, b.start + b.count - 1,
	       modbus_strerror(-rc), n, np);
	cut[np] = n;
	for (k = 1; k < np; k++)
		d->fields[idx[cut[k]]].cut = true;
	d->replan = true;
	for (k = 0; k < np && !stop; k++)
		stop = read_part(cn, d, idx + cut[k], cut[k + 1] - cut[k], p);
	free(cut);
	return stop;
}

/* Reads the device's planned blocks into p. */
static void read_blocks(struct mb_conn *cn, struct mb_dev *d, struct mb_poll *p)
{
	size_t i;

	for (i = 0; i < d->nblocks; i++)
		if (read_part(cn, d, d->blocks[i].fields, d->blocks[i].nfields, p))
			break;
	if (d->replan)
		replan(d); /* the next poll reads the parts and skips the dropped */
	d->replan = false;
}

static bool same_phase(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Whether field i was read, has a value and is sent. */
static bool sends(const struct mb_dev *d, const struct fp_mb_value *vals, const bool *have,
		  size_t i)
{
	return have[i] && vals[i].kind != FP_MB_V_NONE && !d->fields[i].hidden;
}

/* Adds the values of the fields of one phase (NULL: none) to pt. */
static void add_phase_fields(struct fp_point *pt, const struct mb_dev *d,
			     const struct fp_mb_value *vals, const bool *have, const char *phase)
{
	size_t i;

	for (i = 0; i < d->nfields; i++) {
		const struct fp_mb_field *f = &d->fields[i];
		const struct fp_mb_value *v = &vals[i];
		if (!sends(d, vals, have, i) || !same_phase(f->phase, phase))
			continue;
		switch (v->kind) {
		case FP_MB_V_FLOAT:
			fp_point_float(pt, f->field, v->f);
			break;
		case FP_MB_V_INT:
			fp_point_int(pt, f->field, v->i);
			break;
		case FP_MB_V_BOOL:
			fp_point_bool(pt, f->field, v->b);
			break;
		case FP_MB_V_STRING:
			fp_point_string(pt, f->field, v->s);
			break;
		default:
			break;
		}
	}
}

/* Appends one point per phase (and one without) to out. */
static void add_points(const struct mb_conn *cn, const struct mb_dev *d,
		       const struct fp_mb_value *vals, const bool *have, int64_t ts,
		       struct fp_batch *out)
{
	const struct fp_mb_device_cfg *dc = d->cfg;
	const char *phases[64];
	size_t np = 0, p, i, t;

	for (i = 0; i < d->nfields; i++) {
		const char *ph = d->fields[i].phase;
		bool seen = false;
		if (!sends(d, vals, have, i))
			continue;
		for (p = 0; p < np; p++)
			if (same_phase(ph, phases[p]))
				seen = true;
		if (!seen && np < 64)
			phases[np++] = ph;
	}
	for (p = 0; p < np; p++) {
		struct fp_point *pt = fp_batch_add(out, "meter", ts);
		fp_point_tag(pt, "site", cn->owner->cfg->site);
		fp_point_tag(pt, "device", dc->name);
		fp_point_tag(pt, "role", dc->role);
		fp_point_tag(pt, "source", "modbus");
		if (phases[p])
			fp_point_tag(pt, "phase", phases[p]);
		for (t = 0; t < dc->ntags; t++)
			fp_point_tag(pt, dc->tags[t].key, dc->tags[t].val);
		add_phase_fields(pt, d, vals, have, phases[p]);
	}
}

/* Polls one device; appends its points to out.  Returns true if anything
 * was read. */
static bool poll_dev(struct mb_conn *cn, struct mb_dev *d, struct fp_batch *out)
{
	const struct fp_mb_device_cfg *dc = d->cfg;
	int64_t t0 = fp_mono_ns(), ts = fp_real_ns();
	struct mb_poll p;

	memset(&p, 0, sizeof(p));
	atomic_fetch_add(&d->polls, 1);
	if (prepare(cn, d)) {
		/* after prepare: a SunSpec discovery makes the fields */
		p.vals = fp_xcalloc(d->nfields ? d->nfields : 1, sizeof(*p.vals));
		p.have = fp_xcalloc(d->nfields ? d->nfields : 1, sizeof(*p.have));
		retry_due(d);
		read_blocks(cn, d, &p);
		recovered(d, p.have);
		if (dc->sunspec)
			fp_sunspec_apply_sf(d->fields, d->nfields, p.vals, p.have);
		add_points(cn, d, p.vals, p.have, ts, out);
	}
	if (p.ok && !p.failed) {
		fp_release(&d->lim, LOG_NOTICE, "modbus[%s]: unit %d answers again", dc->name,
			   dc->unit_id);
		fp_release(&d->unit_lim, LOG_NOTICE, "modbus[%s]: unit %d answers as itself again",
			   dc->name, dc->unit_id);
	}
	if (!p.ok)
		atomic_fetch_add(&d->poll_errors, 1);
	atomic_store(&d->last_poll_ms, (unsigned long long)((fp_mono_ns() - t0) / 1000000));
	free(p.vals);
	free(p.have);
	return p.ok > 0;
}

static void schedule(struct fp_mb_collector *c, struct mb_dev *d, bool ok)
{
	int64_t iv = d->cfg->interval_ms, now = fp_mono_ns();

	if (ok) {
		int64_t next = fp_sched_deadline(now, fp_real_ns(), iv * 1000000LL,
						 c->cfg->round_interval);
		/* the slots between the one this poll had and the next are
		 * skipped: it (or the devices before it on this connection)
		 * took longer than the interval */
		int64_t k = (next - d->next_ns + iv * 500000LL) / (iv * 1000000LL);
		if (d->backoff_ms == 0 && k > 1) {
			atomic_fetch_add(&d->polls_skipped, (unsigned long long)(k - 1));
			FP_LOG_LIMITED(
				"modbus: polls skipped", LOG_WARNING,
				"modbus[%s]: %lld poll(s) skipped: the last one ended %lld ms "
				"after its slot (interval %lld ms; polls_skipped)",
				d->cfg->name, (long long)(k - 1),
				(long long)((now - d->next_ns) / 1000000), (long long)iv);
		}
		d->backoff_ms = 0;
		d->next_ns = next;
		return;
	}
	d->backoff_ms = d->backoff_ms ? d->backoff_ms * 2 : iv;
	if (d->backoff_ms > 4 * iv)
		d->backoff_ms = 4 * iv;
	d->next_ns = now + d->backoff_ms * 1000000LL;
}

static void *conn_thread(void *arg)
{
	struct mb_conn *cn = arg;
	struct fp_mb_collector *c = cn->owner;
	size_t i;

	for (i = 0; i < cn->ndevs; i++)
		cn->devs[i]->next_ns = fp_sched_deadline(fp_mono_ns(), fp_real_ns(),
							 cn->devs[i]->cfg->interval_ms * 1000000LL,
							 c->cfg->round_interval);
	for (;;) {
		struct mb_dev *d = cn->devs[0];
		struct timespec dl;
		struct fp_batch b;
		bool stop, ok;

		for (i = 1; i < cn->ndevs; i++)
			if (cn->devs[i]->next_ns < d->next_ns)
				d = cn->devs[i];
		dl.tv_sec = (time_t)(d->next_ns / 1000000000LL);
		dl.tv_nsec = (long)(d->next_ns % 1000000000LL);
		pthread_mutex_lock(&c->lock);
		while (!c->stopping && fp_mono_ns() < d->next_ns)
			if (pthread_cond_timedwait(&c->cond, &c->lock, &dl) == ETIMEDOUT)
				break;
		stop = c->stopping;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		fp_batch_init(&b);
		ok = poll_dev(cn, d, &b);
		if (b.n)
			c->push(c->arg, &b);
		fp_batch_reset(&b);
		schedule(c, d, ok);
	}
	conn_close(cn);
	return NULL;
}

static int collector_start(void *inst)
{
	struct fp_mb_collector *c = inst;
	size_t i;

	for (i = 0; i < c->nconns; i++) {
		int rc = -pthread_create(&c->conns[i].thread, NULL, conn_thread, &c->conns[i]);
		if (rc < 0) {
			fp_log(LOG_ERR, "modbus[%s]: cannot start a thread: %s", c->conns[i].key,
			       strerror(-rc));
			return rc;
		}
		c->conns[i].started = true;
	}
	return 0;
}

static void collector_gather(void *inst, struct fp_batch *out)
{
	struct fp_mb_collector *c = inst;
	size_t i, k;

	for (i = 0; i < c->nconns; i++) {
		for (k = 0; k < c->conns[i].ndevs; k++)
			poll_dev(&c->conns[i], c->conns[i].devs[k], out);
		conn_close(&c->conns[i]);
	}
}

static void collector_stop(void *inst)
{
	struct fp_mb_collector *c = inst;
	size_t i;

	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < c->nconns; i++) {
		if (c->conns[i].started)
			pthread_join(c->conns[i].thread, NULL);
		c->conns[i].started = false;
	}
}

static void collector_metrics(void *inst, struct fp_batch *b, const char *site, const char *host,
			      int64_t ts_ns)
{
	struct fp_mb_collector *c = inst;
	size_t i;

	for (i = 0; i < c->ndevs; i++) {
		struct mb_dev *d = &c->devs[i];
		struct fp_point *p = fp_batch_self(b, ts_ns, site, host, "modbus/%s", d->cfg->name);
		fp_point_int(p, "polls", (int64_t)atomic_load(&d->polls));
		fp_point_int(p, "poll_errors", (int64_t)atomic_load(&d->poll_errors));
		fp_point_int(p, "requests", (int64_t)atomic_load(&d->requests));
		fp_point_int(p, "errors_timeout", (int64_t)atomic_load(&d->errors_timeout));
		fp_point_int(p, "errors_exception", (int64_t)atomic_load(&d->errors_exception));
		fp_point_int(p, "errors_connect", (int64_t)atomic_load(&d->errors_connect));
		fp_point_int(p, "errors_other", (int64_t)atomic_load(&d->errors_other));
		fp_point_int(p, "errors_unit_id", (int64_t)atomic_load(&d->errors_unit_id));
		fp_point_int(p, "fields_disabled", (int64_t)atomic_load(&d->fields_disabled));
		fp_point_int(p, "last_poll_ms", (int64_t)atomic_load(&d->last_poll_ms));
		fp_point_int(p, "polls_skipped", (int64_t)atomic_load(&d->polls_skipped));
	}
}

static void collector_free(void *inst)
{
	struct fp_mb_collector *c = inst;
	size_t i;

	if (!c)
		return;
	collector_stop(c);
	for (i = 0; i < c->nconns; i++) {
		conn_close(&c->conns[i]);
		free(c->conns[i].key);
		free(c->conns[i].devs);
	}
	for (i = 0; i < c->ndevs; i++) {
		fp_mb_plan_free(c->devs[i].blocks, c->devs[i].nblocks);
		if (c->devs[i].discovered)
			fp_sunspec_fields_free(c->devs[i].fields, c->devs[i].nfields);
		else
			free(c->devs[i].fields);
	}
	free(c->conns);
	free(c->devs);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

const struct fp_collector_ops fp_modbus_collector = {
	.group = "modbus",
	.parse = fp_mb_config_parse,
	.free_config = fp_mb_config_free,
	.describe = fp_mb_config_describe,
	.create = collector_new,
	.start = collector_start,
	.gather = collector_gather,
	.stop = collector_stop,
	.metrics = collector_metrics,
	.destroy = collector_free,
	.status_field = "polls",
	.status_what = "device polls",
	.status_failed = "poll_errors",
};
