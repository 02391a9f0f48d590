/* influxdb.c - the InfluxDB output: line protocol over HTTP(S) with
 * libcurl, InfluxDB v1 (/write) and v2 (/api/v2/write) APIs.
 *
 * Delivery: every submitted chunk is first appended to the output's disk
 * spool (state_dir/spool/<name>, see spool.h), which is the write-ahead log
 * the sender thread reads from, oldest first.  A batch is sent when
 * batch_size points are pending or the oldest pending point has waited
 * flush_interval; the spool cursor moves only once InfluxDB has answered,
 * so a database outage, a slow database, a restart or a SIGKILL of the
 * agent lose nothing (see spool.h for what each fsync policy adds against
 * a power cut).  If the spool itself cannot be written (disk full), chunks
 * wait in a bounded memory queue instead and what overflows it is counted
 * as dropped and logged.
 *
 * Result classes:
 *   2xx                accepted;
 *   400, 422           from InfluxDB (X-Influxdb-* headers, or its JSON
 *                      error body): the server wrote the lines it could
 *                      parse; the rejected ones are logged (rate-limited)
 *                      and counted, the batch is not resent; from anything
 *                      else (a proxy): kept, retried as below;
 *   401, 403, 404      kept; logged as errors; retried every retry_max;
 *   413                the batch is split in halves (by lines) and resent;
 *   429, 5xx, network  kept; retried with exponential backoff and jitter;
 *                      Retry-After lengthens a pause, never shortens it;
 *                      both capped at retry_max.
 *
 * The url may carry a user and a password (http://user:pw@host): every
 * log line shows it with them redacted (fp_influx_redact_url).
 *
 * Pipelining: requests go one at a time, in spool order, but the sender
 * does not sit idle while the database works on one: the next batch is
 * read from the spool and gzipped then, and the cursor move of the batch
 * before is written (overlap()).  Reading, compressing and the cursor file
 * otherwise took a fifth of the time between two requests with gzip.  A
 * failed request drops the batch read ahead; retries read from the cursor.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "influxdb.h"

#include "conf.h"
#include "log.h"
#include "output.h"
#include "queue.h"
#include "spool.h"
#include "util.h"

#define MAX_BODY (16u << 20) /* uncompressed bytes per request */
#define BACKOFF_MIN_MS 500

enum result { RES_OK, RES_REJECTED, RES_AUTH, RES_RETRY, RES_TOO_LARGE };

/* A batch read from the spool and, with gzip, its compressed body. */
struct batch {
	struct fp_buf data, gz;
	bool gzipped;
	size_t npoints;
	struct fp_spool_pos end; /* spool position after the batch */
};

struct influx_priv {
	struct fp_influx_output_cfg cfg; /* deep copy */
	char *spool_dir;
	char *write_url;
	struct fp_spool *spool;
	struct fp_queue memq; /* when the spool cannot be written */
	CURL *curl;
	CURLM *multi; /* runs the requests of curl, see perform() */
	struct curl_slist *headers, *headers_gz;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	int64_t deadline_ns;
	struct fp_complain lim_write, lim_reject, lim_spool, lim_drop;
	char *url_shown; /* the url with its user and password redacted, for the log */
	/* response of the last request */
	struct fp_buf resp;
	int64_t retry_after_ms;
	bool influx_headers; /* the answer carried X-Influxdb-* headers */
	unsigned rand_state;
	/* Sender thread only: the batch being sent (cur; cur_in_spool unless
	 * a memory chunk is sent) and the next one, read ahead (next_ready);
	 * commit_due: a cursor move left for the next request's overlap(). */
	struct batch batches[2], *cur, *next;
	bool next_ready, cur_in_spool, commit_due;
	struct fp_spool_pos commit_pos;
	z_stream zs; /* reused: deflateReset, not 256 kB of new tables per batch */
	bool zs_ready;
	struct fp_buf scratch; /* gzip of memory chunks and of split batches */
	/* self-metrics */
	atomic_ullong points_written, points_rejected, points_dropped, requests;
	atomic_ullong err_client, err_auth, err_server, err_network;
	/* microseconds in requests, and of them waiting for the server with
	 * the sender's own work (overlap()) done */
	atomic_ullong write_time_us, write_wait_us;
	int64_t overlap_ns; /* overlap()'s time in the last request */
	atomic_ullong batch_bytes, batch_bytes_gzip;
	struct fp_spool_stats last; /* the spool's figures when it closed */
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
	struct influx_priv *p = ud;

	fp_buf_add(&p->resp, ptr, size * n); /* bounded: the rest is ignored */
	return size * n;
}

/* The value of a Retry-After header (seconds or an HTTP date) in ms,
 * clamped to [0, cap]; -1 when it cannot be read. */
int64_t fp_influx_retry_after_ms(const char *v, int64_t cap)
{
	const char *s = v + strspn(v, " \t");
	int64_t secs = 0;

	if (*s >= '0' && *s <= '9') {
		for (; *s >= '0' && *s <= '9'; s++)
			if (secs <= cap / 1000)
				secs = secs * 10 + (*s - '0');
		s += strspn(s, " \t\r\n");
		if (*s)
			return -1;
		return secs > cap / 1000 ? cap : secs * 1000;
	} else {
		time_t t = curl_getdate(s, NULL);
		int64_t d;
		if (t <= 0)
			return -1;
		d = (int64_t)t - (int64_t)time(NULL);
		if (d <= 0)
			return 0;
		return d > cap / 1000 ? cap : d * 1000;
	}
}

static size_t on_header(char *ptr, size_t size, size_t n, void *ud)
{
	struct influx_priv *p = ud;
	size_t len = size * n;

	if (len > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0) {
		char v[64];
		size_t l = len - 12 < sizeof(v) - 1 ? len - 12 : sizeof(v) - 1;
		int64_t ms;
		memcpy(v, ptr + 12, l);
		v[l] = '\0';
		v[strcspn(v, "\r\n")] = '\0';
		ms = fp_influx_retry_after_ms(v, p->cfg.retry_max_ms);
		if (ms >= 0)
			p->retry_after_ms = ms;
	} else if (len > 11 && strncasecmp(ptr, "X-Influxdb-", 11) == 0) {
		p->influx_headers = true;
	}
	return len;
}

static char *build_url(const struct fp_influx_output_cfg *c)
{
	CURL *h = curl_easy_init();
	struct fp_buf b;
	size_t ul = strlen(c->url);
	char *e1, *e2;

	fp_buf_init(&b, 8192);
	fp_buf_add(&b, c->url, ul && c->url[ul - 1] == '/' ? ul - 1 : ul);
	if (c->api == FP_INFLUX_V1) {
		e1 = curl_easy_escape(h, c->database, 0);
		fp_buf_printf(&b, "/write?db=%s", e1);
		curl_free(e1);
		if (c->retention_policy) {
			e1 = curl_easy_escape(h, c->retention_policy, 0);
			fp_buf_printf(&b, "&rp=%s", e1);
			curl_free(e1);
		}
	} else {
		e1 = curl_easy_escape(h, c->org, 0);
		e2 = curl_easy_escape(h, c->bucket, 0);
		fp_buf_printf(&b, "/api/v2/write?org=%s&bucket=%s", e1, e2);
		curl_free(e1);
		curl_free(e2);
	}
	fp_buf_adds(&b, "&precision=ns");
	curl_easy_cleanup(h);
	return fp_buf_steal(&b, NULL);
}

static int setup_curl(struct fp_output *o, struct influx_priv *p)
{
	const struct fp_influx_output_cfg *c = &p->cfg;
	CURL *h = curl_easy_init();

	if (!h) {
		fp_log(LOG_ERR, "output[%s]: cannot create a curl handle", o->name);
		return -ENOMEM;
	}
	p->curl = h;
	p->multi = curl_multi_init();
	if (!p->multi) {
		fp_log(LOG_ERR, "output[%s]: cannot create a curl multi handle", o->name);
		return -ENOMEM;
	}
	p->headers = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	if (c->api == FP_INFLUX_V2 && c->token) {
		char *auth = fp_xasprintf("Authorization: Token %s", c->token);
		p->headers = curl_slist_append(p->headers, auth);
		fp_free_secret(auth);
	}
	/* The same list plus the encoding header, for gzip bodies. */
	{
		struct curl_slist *i;
		for (i = p->headers; i; i = i->next)
			p->headers_gz = curl_slist_append(p->headers_gz, i->data);
		p->headers_gz = curl_slist_append(p->headers_gz, "Content-Encoding: gzip");
	}
	curl_easy_setopt(h, CURLOPT_URL, p->write_url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, p);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "footprintd/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->api == FP_INFLUX_V1 && c->username) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
	}
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
	}
	if (c->insecure_skip_verify) {
		fp_log(LOG_WARNING,
		       "output[%s]: insecure_skip_verify: the server's TLS certificate "
		       "and host name are NOT checked",
		       o->name);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return 0;
}

/* gzip (RFC 1952) of data into out with the sender's deflate state, reset
 * rather than set up again for each batch.  out grows with the output
 * (about a seventh of the input for line protocol), not to the worst-case
 * bound, as two batches and their bodies stay allocated.  0 or -errno. */
static int gzip_body(struct influx_priv *p, const char *data, size_t len, struct fp_buf *out)
{
	z_stream *zs = &p->zs;
	int rc;

	if (!p->zs_ready) {
		memset(zs, 0, sizeof(*zs));
		if (deflateInit2(zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
		    Z_OK)
			return -ENOMEM;
		p->zs_ready = true;
	} else if (deflateReset(zs) != Z_OK) {
		return -EIO;
	}
	if (deflateBound(zs, (uLong)len) + 32 > out->max)
		return -ENOBUFS;
	fp_buf_clear(out);
	zs->next_in = (Bytef *)data;
	zs->avail_in = (uInt)len;
	do {
		size_t room;
		if (out->cap - out->len < 1024)
			fp_xgrow((void **)&out->data, &out->cap, out->len + len / 4 + 4096, 1);
		room = out->cap - out->len - 1;
		zs->next_out = (Bytef *)out->data + out->len;
		zs->avail_out = (uInt)room;
		rc = deflate(zs, Z_FINISH);
		out->len += room - zs->avail_out;
	} while (rc == Z_OK);
	out->data[out->len] = '\0';
	return rc == Z_STREAM_END ? 0 : -EIO;
}

/* Reads the next batch from the spool into b, from the position from
 * (NULL: the cursor), and compresses it.  Returns fp_spool_peek's count. */
static int read_batch(struct influx_priv *p, struct batch *b, const struct fp_spool_pos *from)
{
	int rc;

	fp_buf_clear(&b->data);
	rc = fp_spool_peek_from(p->spool, from, (size_t)p->cfg.batch_size, MAX_BODY, &b->data,
				&b->npoints, &b->end);
	if (rc > 0)
		b->gzipped = p->cfg.gzip && gzip_body(p, b->data.data, b->data.len, &b->gz) == 0;
	return rc;
}

static bool stopping(struct influx_priv *p, bool *past_deadline)
{
	bool s;

	pthread_mutex_lock(&p->lock);
	s = p->stopping;
	*past_deadline = s && fp_mono_ns() >= p->deadline_ns;
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* Work done while a request is in flight: the deferred cursor move of the
 * batch delivered before it and, when a whole batch is waiting behind the
 * one being sent (any at shutdown), reading and compressing it.  The two
 * cores of a small box are then both busy, one with the database.  The
 * next batch is read only with the request still running: when it has
 * failed already there is nothing to overlap, and a failed batch is read
 * again from the cursor anyway. */
static void overlap(struct influx_priv *p, bool in_flight)
{
	struct fp_spool_stats st;
	uint64_t unacked;
	bool past;

	if (p->commit_due) {
		fp_spool_commit(p->spool, &p->commit_pos);
		p->commit_due = false;
	}
	if (!in_flight || p->next_ready)
		return;
	fp_spool_stats(p->spool, &st);
	unacked = p->cur_in_spool ? p->cur->npoints : 0;
	if (st.pending_points <= unacked)
		return;
	if (st.pending_points - unacked < (uint64_t)p->cfg.batch_size && !stopping(p, &past))
		return;
	p->next_ready = read_batch(p, p->next, p->cur_in_spool ? &p->cur->end : NULL) > 0;
}

/* Runs the transfer on the multi handle until it is done or, with
 * upload_only, until its body of len bytes has been handed to the kernel. */
static CURLMcode drive(struct influx_priv *p, curl_off_t len, bool upload_only, int *running)
{
	CURLMcode mc;

	for (;;) {
		mc = curl_multi_perform(p->multi, running);
		if (mc != CURLM_OK || !*running)
			return mc;
		if (upload_only) {
			curl_off_t up = 0;
			curl_easy_getinfo(p->curl, CURLINFO_SIZE_UPLOAD_T, &up);
			if (up >= len)
				return CURLM_OK;
		}
		mc = curl_multi_poll(p->multi, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK)
			return mc;
	}
}

/* curl_easy_perform, but with overlap() run once the request body is
 * out and the server is busy with it. */
static CURLcode perform(struct influx_priv *p, curl_off_t len)
{
	CURLcode cc = CURLE_SEND_ERROR;
	CURLMcode mc;
	CURLMsg *msg;
	int running = 0, left;

	mc = curl_multi_add_handle(p->multi, p->curl);
	if (mc == CURLM_OK)
		mc = drive(p, len, true, &running);
	{
		int64_t t0 = fp_mono_ns();
		overlap(p, mc == CURLM_OK && running);
		p->overlap_ns = fp_mono_ns() - t0;
	}
	if (mc == CURLM_OK && running)
		mc = drive(p, len, false, &running);
	while ((msg = curl_multi_info_read(p->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == p->curl)
			cc = msg->data.result;
	if (mc != CURLM_OK)
		snprintf(p->errbuf, sizeof(p->errbuf), "%s", curl_multi_strerror(mc));
	curl_multi_remove_handle(p->multi, p->curl);
	return cc;
}

/* Whether the last answer is InfluxDB's own (or an engine's speaking its
 * API): X-Influxdb-* headers, or a JSON body with an "error" member (1.x)
 * or a "code" and a "message" (2.x). */
static bool from_influxdb(struct influx_priv *p)
{
	const char *b = p->resp.data;

	if (p->influx_headers)
		return true;
	if (!b)
		return false;
	b += strspn(b, " \t\r\n");
	return *b == '{' &&
		(strstr(b, "\"error\"") || (strstr(b, "\"code\"") && strstr(b, "\"message\"")));
}

/* Counts the lines InfluxDB rejected in a 400/422 body: each "unable to
 * parse" plus the "dropped=N" it reports for type conflicts and the like. */
static size_t count_rejected(const char *body, size_t max)
{
	size_t n = 0;
	const char *s = body, *d;

	if (!body)
		return 0;
	while ((s = strstr(s, "unable to parse")) != NULL) {
		n++;
		s += 15;
	}
	d = strstr(body, "dropped=");
	if (d)
		n += (size_t)strtoull(d + 8, NULL, 10);
	if (n == 0 || n > max)
		n = max; /* an answer we cannot read: the whole batch was refused */
	return n;
}

/* POSTs data (len bytes of lines), as the gzip body gz when given, else
 * compressed here when gzip is on (memory chunks, halves of a split). */
static enum result post(struct fp_output *o, struct influx_priv *p, const char *data, size_t len,
			const struct fp_buf *gz, size_t npoints, size_t *rejected)
{
	CURLcode cc;
	long code = 0;
	int64_t t0 = fp_mono_ns(), t1;
	enum result r;

	*rejected = 0;
	fp_buf_clear(&p->resp);
	p->retry_after_ms = -1;
	p->influx_headers = false;
	if (!gz && p->cfg.gzip && gzip_body(p, data, len, &p->scratch) == 0)
		gz = &p->scratch;
	if (gz) {
		curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->headers_gz);
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, gz->data);
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)gz->len);
		atomic_store(&p->batch_bytes_gzip, gz->len);
	} else {
		curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->headers);
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	atomic_store(&p->batch_bytes, len);
	atomic_fetch_add(&p->requests, 1);
	p->errbuf[0] = '\0';
	p->overlap_ns = 0;
	t1 = fp_mono_ns();
	cc = perform(p, gz ? (curl_off_t)gz->len : (curl_off_t)len);
	{
		int64_t now = fp_mono_ns(), wait = now - t1 - p->overlap_ns;
		atomic_fetch_add(&p->write_time_us, (unsigned long long)((now - t0) / 1000));
		if (wait > 0)
			atomic_fetch_add(&p->write_wait_us, (unsigned long long)(wait / 1000));
	}
	if (cc != CURLE_OK) {
		atomic_fetch_add(&p->err_network, 1);
		fp_complain(&p->lim_write, LOG_WARNING,
			    "output[%s]: %s: %s; %zu points kept for retry", o->name, p->url_shown,
			    p->errbuf[0] ? p->errbuf : curl_easy_strerror(cc), npoints);
		return RES_RETRY;
	}
	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return RES_OK;
	if ((code == 400 || code == 422) && !from_influxdb(p)) {
		/* A proxy or a gateway, not InfluxDB: nothing says which points
		 * were refused, so none were; the batch is kept and retried. */
		atomic_fetch_add(&p->err_client, 1);
		fp_complain(&p->lim_write, LOG_WARNING,
			    "output[%s]: HTTP %ld from %s without InfluxDB's answer (a proxy?): "
			    "%zu points kept for retry: %.300s",
			    o->name, code, p->url_shown, npoints, p->resp.data ? p->resp.data : "");
		return RES_RETRY;
	}
	if (code == 400 || code == 422) {
		*rejected = count_rejected(p->resp.data, npoints);
		atomic_fetch_add(&p->err_client, 1);
		fp_complain(&p->lim_reject, LOG_WARNING,
			    "output[%s]: HTTP %ld: %zu of %zu points rejected: %.600s", o->name,
			    code, *rejected, npoints, p->resp.data ? p->resp.data : "");
		return RES_REJECTED;
	}
	if (code == 413)
		return RES_TOO_LARGE;
	if (code == 401 || code == 403 || code == 404 ||
	    (code >= 400 && code < 500 && code != 429)) {
		atomic_fetch_add(&p->err_auth, 1);
		fp_complain(
			&p->lim_write, LOG_ERR,
			"output[%s]: HTTP %ld from %s (%s): %zu points kept; check the credentials, "
			"database or bucket; retrying every %llds: %.300s",
			o->name, code, p->url_shown, code == 404 ? "not found" : "refused", npoints,
			(long long)(p->cfg.retry_max_ms / 1000), p->resp.data ? p->resp.data : "");
		return RES_AUTH;
	}
	r = RES_RETRY;
	atomic_fetch_add(&p->err_server, 1);
	fp_complain(&p->lim_write, LOG_WARNING, "output[%s]: HTTP %ld: %zu points kept for retry%s",
		    o->name, code, npoints, p->retry_after_ms >= 0 ? " (Retry-After)" : "");
	return r;
}

/* Sends data (whole lines), splitting on 413.  RES_OK covers partly
 * rejected batches (counted in *rejected). */
static enum result send_lines(struct fp_output *o, struct influx_priv *p, const char *data,
			      size_t len, const struct fp_buf *gz, size_t npoints, size_t *rejected,
			      int depth)
{
	size_t rej = 0, half, cut, n1 = 0, i;
	enum result r = post(o, p, data, len, gz, npoints, &rej);

	*rejected = rej;
	if (r == RES_REJECTED)
		return RES_OK;
	if (r != RES_TOO_LARGE)
		return r;
	if (npoints <= 1 || depth > 24) {
		/* One line the server will never take: count it as rejected. */
		fp_log(LOG_ERR, "output[%s]: HTTP 413 for a single line of %zu bytes; rejected",
		       o->name, len);
		atomic_fetch_add(&p->err_client, 1);
		*rejected = npoints;
		return RES_OK;
	}
	/* Cut at the line end nearest the middle. */
	half = len / 2;
	cut = half;
	while (cut < len && data[cut - 1] != '\n')
		cut++;
	if (cut >= len) {
		cut = half;
		while (cut > 1 && data[cut - 1] != '\n')
			cut--;
	}
	for (i = 0; i < cut; i++)
		n1 += data[i] == '\n';
	fp_log(LOG_NOTICE, "output[%s]: HTTP 413: splitting a batch of %zu points", o->name,
	       npoints);
	{
		size_t r1 = 0, r2 = 0;
		/* The halves are compressed again (gz NULL). */
		enum result a = send_lines(o, p, data, cut, NULL, n1, &r1, depth + 1);
		if (a != RES_OK)
			return a;
		a = send_lines(o, p, data + cut, len - cut, NULL, npoints - n1, &r2, depth + 1);
		*rejected = r1 + r2;
		return a;
	}
}

/* Sleeps ms; a shutdown cuts the sleep at its deadline, never earlier,
 * so a backoff or Retry-After is honoured while there is time. */
static void pause_ms(struct influx_priv *p, int64_t ms)
{
	int64_t end = fp_mono_ns() + ms * 1000000LL;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		int64_t limit = end, now = fp_mono_ns();
		struct timespec dl;
		if (p->stopping && p->deadline_ns < limit)
			limit = p->deadline_ns;
		if (now >= limit)
			break;
		dl.tv_sec = (time_t)(limit / 1000000000LL);
		dl.tv_nsec = (long)(limit % 1000000000LL);
		pthread_cond_timedwait(&p->cond, &p->lock, &dl);
	}
	pthread_mutex_unlock(&p->lock);
}

static int64_t next_backoff(struct influx_priv *p, int64_t cur)
{
	int64_t n = cur * 2, jitter;

	if (n > p->cfg.retry_max_ms)
		n = p->cfg.retry_max_ms;
	p->rand_state = p->rand_state * 1103515245u + 12345u;
	jitter = n / 4 ? (int64_t)((p->rand_state >> 8) % (unsigned)(n / 4)) : 0;
	return n - n / 8 + jitter; /* +-12.5% */
}

/* The sender thread's own state between two turns of its loop. */
struct sender_state {
	int64_t backoff;       /* the next failure's pause */
	int64_t first_pending; /* when the oldest pending spooled point was seen */
	int64_t last_sync, last_memq;
	bool failing;	/* the last request failed (logged once) */
	bool memq_turn; /* the last batch came from memory: the spool's turn */
};

static void sender_buffers_init(struct influx_priv *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		fp_buf_init(&p->batches[i].data, MAX_BODY + FP_SPOOL_MAX_RECORD);
		fp_buf_init(&p->batches[i].gz, MAX_BODY + (1u << 20));
	}
	fp_buf_init(&p->scratch, MAX_BODY + (1u << 20));
	p->cur = &p->batches[0];
	p->next = &p->batches[1];
}

/* At the end of the thread: the cursor move left for a next request, and
 * the buffers and the deflate state. */
static void sender_finish(struct influx_priv *p)
{
	int i;

	if (p->commit_due)
		fp_spool_commit(p->spool, &p->commit_pos);
	p->commit_due = p->next_ready = false;
	for (i = 0; i < 2; i++) {
		fp_buf_reset(&p->batches[i].data);
		fp_buf_reset(&p->batches[i].gz);
	}
	fp_buf_reset(&p->scratch);
	if (p->zs_ready)
		deflateEnd(&p->zs);
	p->zs_ready = false;
}

/* Chunks the spool could not take (a full disk), a batch at a time
 * (batch_size or flush_interval, as the spool's), and in turn with the
 * spool's oldest: its replay frees the disk for what comes next.  NULL
 * when it is not memory's turn. */
static struct fp_chunk *take_memory(struct influx_priv *p, struct sender_state *st, bool stop,
				    int64_t now)
{
	struct fp_chunk *mc = NULL;
	size_t mq = fp_queue_points(&p->memq);

	if (mq &&
	    (stop || mq >= (size_t)p->cfg.batch_size ||
	     now - st->last_memq >= p->cfg.flush_interval_ms * 1000000LL) &&
	    (!st->memq_turn || !(p->next_ready || fp_spool_wait(p->spool, 0) > 0))) {
		mc = fp_chunk_join(
			fp_queue_take(&p->memq, MAX_BODY / 2, (size_t)p->cfg.batch_size));
		st->last_memq = now;
	}
	st->memq_turn = mc != NULL;
	return mc;
}

/* The spool's next batch into *out: the one read ahead during the last
 * request, else read now once batch_size points are pending or the oldest
 * has waited flush_interval.  1: *out is set; 0: nothing to send yet (the
 * wait is done: loop again); -1: stopping and nothing is left. */
static int spool_batch(struct influx_priv *p, struct sender_state *st, bool stop,
		       struct batch **out)
{
	uint64_t pending;
	int64_t now;

	if (p->next_ready) {
		/* Read (and compressed) during the last request. */
		struct batch *b = p->next;
		p->next = p->cur;
		p->cur = b;
		p->next_ready = false;
		*out = b;
		return 1;
	}
	pending = fp_spool_wait(p->spool, stop ? 0 : 200);
	if (pending == 0) {
		st->first_pending = 0;
		return stop ? -1 : 0;
	}
	now = fp_mono_ns();
	if (!st->first_pending)
		st->first_pending = now;
	if (!stop && pending < (uint64_t)p->cfg.batch_size &&
	    now - st->first_pending < p->cfg.flush_interval_ms * 1000000LL) {
		int64_t left = (p->cfg.flush_interval_ms * 1000000LL - (now - st->first_pending)) /
			1000000;
		pause_ms(p, left > 200 ? 200 : (left > 0 ? left : 1));
		return 0;
	}
	if (read_batch(p, p->cur, NULL) <= 0) {
		pause_ms(p, 100);
		return 0;
	}
	*out = p->cur;
	return 1;
}

/* After a request that delivered mc or b (np points, rejected of them
 * refused by the server). */
static void delivered(struct fp_output *o, struct influx_priv *p, struct sender_state *st,
		      struct fp_chunk *mc, struct batch *b, size_t np, size_t rejected)
{
	/* With the next batch ready, its request moves the cursor past this
	 * one while in flight: one cursor file write less between two
	 * requests.  A crash before then makes this batch be sent again,
	 * which at-least-once allows. */
	if (mc) {
		fp_queue_done(&p->memq, mc->npoints);
		fp_chunk_free(mc);
	} else if (p->next_ready) {
		p->commit_pos = b->end;
		p->commit_due = true;
	} else {
		fp_spool_commit(p->spool, &b->end);
	}
	atomic_fetch_add(&p->points_written, np - rejected);
	atomic_fetch_add(&p->points_rejected, rejected);
	if (st->failing)
		fp_release(&p->lim_write, LOG_NOTICE, "output[%s]: writing again to %s", o->name,
			   p->url_shown);
	st->failing = false;
	st->backoff = BACKOFF_MIN_MS;
	st->first_pending = fp_mono_ns();
}

/* After a request that failed with r: mc goes back to memory, and the
 * thread pauses (retry_max after a refusal, else the backoff or the
 * server's Retry-After). */
static void failed(struct influx_priv *p, struct sender_state *st, enum result r,
		   struct fp_chunk *mc)
{
	int64_t wait;

	if (mc)
		fp_queue_unpop(&p->memq, mc);
	/* The batch read ahead is dropped: after the pause everything is
	 * read again from the cursor, with what was evicted meanwhile
	 * skipped, as without read-ahead. */
	p->next_ready = false;
	st->failing = true;
	if (r == RES_AUTH) {
		wait = p->cfg.retry_max_ms;
	} else {
		/* Retry-After is a floor: "0" or a date in the past does not
		 * cut the output's own backoff (a server that says so under
		 * load got hundreds of requests a second). */
		wait = st->backoff;
		if (p->retry_after_ms > wait)
			wait = p->retry_after_ms > p->cfg.retry_max_ms ? p->cfg.retry_max_ms
								       : p->retry_after_ms;
		st->backoff = next_backoff(p, st->backoff);
	}
	pause_ms(p, wait);
}

static void *sender(void *arg)
{
	struct fp_output *o = arg;
	struct influx_priv *p = o->priv;
	struct sender_state st = { .backoff = BACKOFF_MIN_MS, .last_sync = fp_mono_ns() };

	sender_buffers_init(p);
	for (;;) {
		struct fp_chunk *mc;
		struct batch *b = NULL;
		size_t np, len, rejected = 0;
		enum result r;
		bool past, stop = stopping(p, &past);
		int64_t now = fp_mono_ns();
		const char *data;

		if (p->cfg.fsync == FP_FSYNC_INTERVAL &&
		    now - st.last_sync >= p->cfg.fsync_interval_ms * 1000000LL) {
			fp_spool_sync(p->spool);
			st.last_sync = now;
		}
		if (stop && past)
			break;
		mc = take_memory(p, &st, stop, now);
		if (mc) {
			data = mc->data;
			len = mc->len;
			np = mc->npoints;
		} else {
			int rc = spool_batch(p, &st, stop, &b);
			if (rc < 0)
				break;
			if (rc == 0)
				continue;
			data = b->data.data;
			len = b->data.len;
			np = b->npoints;
		}
		p->cur_in_spool = b != NULL;
		r = send_lines(o, p, data, len, b && b->gzipped ? &b->gz : NULL, np, &rejected, 0);
		if (r == RES_OK)
			delivered(o, p, &st, mc, b, np, rejected);
		else
			failed(p, &st, r, mc);
	}
	sender_finish(p);
	return NULL;
}

static int influx_start(struct fp_output *o)
{
	struct influx_priv *p = o->priv;
	int err = 0, rc;

	p->spool = fp_spool_open(p->spool_dir, p->cfg.spool_max, (enum fp_fsync)p->cfg.fsync, &err);
	if (!p->spool) {
		fp_log(LOG_ERR, "output[%s]: cannot open the spool %s: %s", o->name, p->spool_dir,
		       strerror(-err));
		return err;
	}
	rc = setup_curl(o, p);
	if (rc < 0)
		return rc;
	rc = -pthread_create(&p->thread, NULL, sender, o);
	if (rc < 0) {
		fp_log(LOG_ERR, "output[%s]: cannot start its thread: %s", o->name, strerror(-rc));
		return rc;
	}
	return 0;
}

static void influx_submit(struct fp_output *o, const char *data, size_t len, size_t npoints)
{
	struct influx_priv *p = o->priv;
	int rc = fp_spool_append(p->spool, data, len, (uint32_t)npoints);
	struct fp_chunk *c;
	char *d;

	if (rc == 0) {
		fp_release(&p->lim_spool, LOG_NOTICE, "output[%s]: spooling to %s again", o->name,
			   p->spool_dir);
		return;
	}
	fp_complain(&p->lim_spool, LOG_ERR,
		    "output[%s]: cannot write the spool %s: %s; holding points in memory "
		    "(at most %zu)",
		    o->name, p->spool_dir, strerror(-rc), p->memq.max_points);
	d = fp_xmalloc(len + 1);
	memcpy(d, data, len);
	d[len] = '\0';
	c = fp_chunk_new(d, len, npoints);
	if (fp_queue_push(&p->memq, c) < 0) {
		unsigned long long all = atomic_fetch_add(&p->points_dropped, npoints) + npoints;
		fp_complain(&p->lim_drop, LOG_ERR,
			    "output[%s]: spool unwritable and memory queue "
			    "full: %zu points dropped (%llu in all, counted in points_dropped)",
			    o->name, npoints, all);
		fp_chunk_free(c);
	}
}

static void influx_stop(struct fp_output *o, int64_t timeout_ms)
{
	struct influx_priv *p = o->priv;
	struct fp_chunk *c;

	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	p->deadline_ns = fp_mono_ns() + timeout_ms * 1000000LL;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	fp_spool_wake(p->spool);
	pthread_join(p->thread, NULL);
	/* What only memory held goes to the spool if it can now. */
	while ((c = fp_queue_pop(&p->memq, 0)) != NULL) {
		if (fp_spool_append(p->spool, c->data, c->len, (uint32_t)c->npoints) < 0) {
			atomic_fetch_add(&p->points_dropped, c->npoints);
			fp_log(LOG_ERR, "output[%s]: shutting down: %zu points could not be kept",
			       o->name, c->npoints);
		}
		fp_chunk_free(c);
	}
	{
		struct fp_spool_stats st;
		fp_spool_stats(p->spool, &st);
		if (st.pending_points)
			fp_log(LOG_NOTICE,
			       "output[%s]: %" PRIu64 " points stay in the spool for the "
			       "next start",
			       o->name, st.pending_points);
		p->last = st;
	}
	fp_spool_close(p->spool);
	p->spool = NULL;
}

static void influx_metrics(struct fp_output *o, struct fp_point *pt)
{
	struct influx_priv *p = o->priv;
	struct fp_spool_stats st = p->last;

	if (p->spool)
		fp_spool_stats(p->spool, &st);
	fp_point_int(pt, "points_written", (int64_t)atomic_load(&p->points_written));
	fp_point_int(pt, "points_rejected", (int64_t)atomic_load(&p->points_rejected));
	fp_point_int(pt, "points_spooled", (int64_t)st.pending_points);
	fp_point_int(pt, "points_evicted", (int64_t)st.evicted_points);
	fp_point_int(pt, "points_dropped", (int64_t)atomic_load(&p->points_dropped));
	fp_point_int(pt, "points_queued", (int64_t)fp_queue_points(&p->memq));
	fp_point_int(pt, "spool_bytes", (int64_t)st.bytes);
	fp_point_int(pt, "spool_corrupt_bytes", (int64_t)st.corrupt_bytes);
	fp_point_int(pt, "spool_cursor_resets", (int64_t)st.cursor_resets);
	fp_point_int(pt, "spool_segments_set_aside", (int64_t)st.segments_set_aside);
	fp_point_int(pt, "requests", (int64_t)atomic_load(&p->requests));
	fp_point_int(pt, "write_errors",
		     (int64_t)(atomic_load(&p->err_client) + atomic_load(&p->err_auth) +
			       atomic_load(&p->err_server) + atomic_load(&p->err_network)));
	fp_point_int(pt, "write_errors_client", (int64_t)atomic_load(&p->err_client));
	fp_point_int(pt, "write_errors_auth", (int64_t)atomic_load(&p->err_auth));
	fp_point_int(pt, "write_errors_server", (int64_t)atomic_load(&p->err_server));
	fp_point_int(pt, "write_errors_network", (int64_t)atomic_load(&p->err_network));
	fp_point_int(pt, "write_time_ms", (int64_t)(atomic_load(&p->write_time_us) / 1000));
	fp_point_int(pt, "write_wait_ms", (int64_t)(atomic_load(&p->write_wait_us) / 1000));
	fp_point_int(pt, "batch_bytes", (int64_t)atomic_load(&p->batch_bytes));
	fp_point_int(pt, "batch_bytes_gzip", (int64_t)atomic_load(&p->batch_bytes_gzip));
}

static void influx_destroy(struct fp_output *o)
{
	struct influx_priv *p = o->priv;

	if (!p)
		return;
	if (p->spool)
		fp_spool_close(p->spool);
	if (p->multi)
		curl_multi_cleanup(p->multi);
	if (p->curl)
		curl_easy_cleanup(p->curl);
	curl_slist_free_all(p->headers);
	curl_slist_free_all(p->headers_gz);
	fp_queue_destroy(&p->memq);
	fp_buf_reset(&p->resp);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	fp_influx_cfg_clear(&p->cfg);
	free(p->spool_dir);
	free(p->write_url);
	free(p->url_shown);
	free(p);
	o->priv = NULL;
}

/* The memory queue holds only what the spool could not take. */
static bool influx_saturated(struct fp_output *o)
{
	struct influx_priv *p = o->priv;

	/* with what the sender holds: a failed request puts it back */
	return fp_queue_load(&p->memq) >= p->memq.max_points;
}

static struct fp_output *influx_create(const void *oc, const char *name, const struct fp_config *c)
{
	const struct fp_influx_output_cfg *cfg = oc;
	struct influx_priv *p = fp_xcalloc(1, sizeof(*p));
	struct fp_output *o;

	fp_influx_cfg_copy(&p->cfg, cfg);
	p->spool_dir = fp_xasprintf("%s/spool/%s", c->state_dir, name);
	p->write_url = build_url(cfg);
	p->url_shown = fp_influx_redact_url(cfg->url);
	fp_queue_init(&p->memq, (size_t)(cfg->batch_size > 10000 ? cfg->batch_size * 4 : 40000));
	fp_buf_init(&p->resp, 64 * 1024);
	pthread_mutex_init(&p->lock, NULL);
	fp_cond_init_mono(&p->cond);
	p->rand_state = (unsigned)fp_mono_ns();
	o = fp_output_new(&fp_influxdb_output, name, FP_PREC_NS, p);
	o->append_only = cfg->append_only;
	o->retention_ms = cfg->retention_ms;
	return o;
}

static const char *const influx_keys[] = {
	"name",
	"url",
	"api",
	"database",
	"retention_policy",
	"engine",
	"retention",
	"username",
	"password_file",
	"org",
	"bucket",
	"token_file",
	"batch_size",
	"flush_interval",
	"gzip",
	"timeout",
	"connect_timeout",
	"ca_file",
	"cert_file",
	"key_file",
	"insecure_skip_verify",
	"spool_max",
	"fsync",
	"fsync_interval",
	"retry_max",
	NULL,
};

const struct fp_output_ops fp_influxdb_output = {
	.type = "influxdb",
	.keys = influx_keys,
	.parse = fp_influx_cfg_parse,
	.default_config = NULL,
	.free_config = fp_influx_cfg_free,
	.describe = fp_influx_cfg_describe,
	.create = influx_create,
	.start = influx_start,
	.submit = influx_submit,
	.stop = influx_stop,
	.saturated = influx_saturated,
	.metrics = influx_metrics,
	.destroy = influx_destroy,
};
