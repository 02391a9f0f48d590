/* httpstub.c - a small HTTP/1.1 endpoint on loopback for the output tests.
 *
 *   httpstub --port-file F --dir D [--status LIST] [--retry-after VALUE]
 *            [--forward URL]
 *
 * Each request is recorded as D/req-<n>.txt: the request line, the headers
 * and, after a blank line, the body (gunzipped when Content-Encoding is
 * gzip).  The answer to request n is the n-th entry of LIST (comma
 * separated status codes; the last one repeats; default 204); 429 and 503
 * carry "Retry-After: VALUE" when given (sent as it is: seconds, an HTTP
 * date, a huge number).  An error answer carries InfluxDB's JSON body
 * ({"error": ...}); an entry with a "p" after the code (as "400p") answers
 * as a proxy would instead: an HTML body and no InfluxDB sign.  An entry
 * "f" forwards the request (original body and headers) to URL (a real
 * influxd) and relays its answer.
 * It listens on an ephemeral port written to F, serves one connection at a
 * time (keep-alive), and exits on SIGTERM. */
#include "config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "util.h"

static const char *dir, *forward;
static char *statuses[64];
static const char *retry_after;
static int nstatus, reqno;

struct req {
	char line[1024];
	char headers[8192];
	char *body;
	size_t blen;
	int gzip;
	char auth[1024], encoding[128], ctype[256];
};

static int read_line(int fd, char *buf, size_t n)
{
	size_t i = 0;
	char c;

	while (i + 1 < n) {
		ssize_t r = read(fd, &c, 1);
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r')
			buf[i++] = c;
	}
	buf[i] = '\0';
	return (int)i;
}

static int read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static char *gunzip(const char *in, size_t n, size_t *outlen)
{
	z_stream zs;
	struct fp_buf b;
	char tmp[65536];
	int rc;

	memset(&zs, 0, sizeof(zs));
	fp_buf_init(&b, (size_t)1 << 30);
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return NULL;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)n;
	do {
		zs.next_out = (Bytef *)tmp;
		zs.avail_out = sizeof(tmp);
		rc = inflate(&zs, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END) {
			inflateEnd(&zs);
			fp_buf_reset(&b);
			return NULL;
		}
		fp_buf_add(&b, tmp, sizeof(tmp) - zs.avail_out);
	} while (rc != Z_STREAM_END);
	inflateEnd(&zs);
	return fp_buf_steal(&b, outlen);
}

struct fwd_resp {
	struct fp_buf body;
};

static size_t on_fwd(char *p, size_t s, size_t n, void *u)
{
	fp_buf_add(&((struct fwd_resp *)u)->body, p, s * n);
	return s * n;
}

static long do_forward(const struct req *r, struct fp_buf *resp)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct fwd_resp fr;
	char url[2048], *sp, target[1024];
	long code = 502;
	char hdr[1200];

	fp_buf_init(&fr.body, 1 << 20);
	snprintf(target, sizeof(target), "%s", r->line);
	sp = strchr(target, ' ');
	if (sp) {
		char *sp2 = strchr(sp + 1, ' ');
		if (sp2)
			*sp2 = '\0';
		snprintf(url, sizeof(url), "%s%s", forward, sp + 1);
	} else {
		snprintf(url, sizeof(url), "%s", forward);
	}
	if (r->encoding[0]) {
		snprintf(hdr, sizeof(hdr), "Content-Encoding: %s", r->encoding);
		h = curl_slist_append(h, hdr);
	}
	if (r->auth[0]) {
		snprintf(hdr, sizeof(hdr), "Authorization: %s", r->auth);
		h = curl_slist_append(h, hdr);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)r->blen);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_fwd);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &fr);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (fr.body.len)
		fp_buf_add(resp, fr.body.data, fr.body.len);
	fp_buf_reset(&fr.body);
	return code;
}

static void record(const struct req *r)
{
	char path[1024];
	FILE *f;
	char *plain = NULL;
	size_t plen = 0;

	snprintf(path, sizeof(path), "%s/req-%04d.txt", dir, reqno);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%s\n%s\n", r->line, r->headers);
	if (r->gzip) {
		plain = gunzip(r->body, r->blen, &plen);
		if (plain)
			fwrite(plain, 1, plen, f);
		else
			fputs("(bad gzip body)\n", f);
		free(plain);
	} else if (r->body) {
		fwrite(r->body, 1, r->blen, f);
	}
	fclose(f);
}

static void serve(int fd)
{
	for (;;) {
		struct req r;
		char h[2048];
		long clen = 0, code;
		const char *st, *ctype = "application/json";
		char *rest = NULL;
		struct fp_buf resp;
		char head[512];
		int n;

		memset(&r, 0, sizeof(r));
		if (read_line(fd, r.line, sizeof(r.line)) <= 0)
			return;
		while ((n = read_line(fd, h, sizeof(h))) > 0) {
			size_t hl = strlen(r.headers);
			snprintf(r.headers + hl, sizeof(r.headers) - hl, "%s\n", h);
			if (!strncasecmp(h, "Content-Length:", 15))
				clen = strtol(h + 15, NULL, 10);
			else if (!strncasecmp(h, "Content-Encoding:", 17)) {
				snprintf(r.encoding, sizeof(r.encoding), "%s",
					 h + 17 + strspn(h + 17, " "));
				r.gzip = strstr(h, "gzip") != NULL;
			} else if (!strncasecmp(h, "Authorization:", 14))
				snprintf(r.auth, sizeof(r.auth), "%s",
					 h + 14 + strspn(h + 14, " "));
		}
		if (n < 0)
			return;
		if (clen < 0 || clen > (1L << 28))
			return;
		r.body = fp_xmalloc((size_t)clen + 1);
		r.blen = (size_t)clen;
		if (read_full(fd, r.body, r.blen) < 0) {
			free(r.body);
			return;
		}
		reqno++;
		record(&r);
		st = nstatus ? statuses[reqno - 1 < nstatus ? reqno - 1 : nstatus - 1] : "204";
		fp_buf_init(&resp, 1 << 20);
		if (!strcmp(st, "f"))
			code = do_forward(&r, &resp);
		else
			code = strtol(st, &rest, 10);
		free(r.body);
		if (code >= 400 && !resp.len && rest && *rest == 'p') {
			ctype = "text/html";
			fp_buf_printf(&resp,
				      "<html><head><title>%ld Bad Request</title></head>"
				      "<body>proxy</body></html>",
				      code);
		} else if (code >= 400 && !resp.len) {
			fp_buf_printf(&resp, "{\"error\":\"stub says %ld\"}", code);
		}
		n = snprintf(
			head, sizeof(head),
			"HTTP/1.1 %ld X\r\nContent-Length: %zu\r\nContent-Type: %s\r\n%s\r\n", code,
			resp.len, ctype,
			(code == 429 || code == 503) && retry_after
				? (snprintf(h, sizeof(h), "Retry-After: %s\r\n", retry_after), h)
				: "");
		if (write(fd, head, (size_t)n) != n ||
		    (resp.len && write(fd, resp.data, resp.len) != (ssize_t)resp.len)) {
			fp_buf_reset(&resp);
			return;
		}
		fp_buf_reset(&resp);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port-file", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'd' },
		{ "status", required_argument, NULL, 's' },
		{ "retry-after", required_argument, NULL, 'r' },
		{ "forward", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *port_file = NULL;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int opt, ls, one = 1;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			port_file = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'r':
			retry_after = optarg;
			break;
		case 'f':
			forward = optarg;
			break;
		case 's': {
			char *s = fp_xstrdup(optarg), *tok, *save = NULL;
			for (tok = strtok_r(s, ",", &save); tok && nstatus < 64;
			     tok = strtok_r(NULL, ",", &save))
				statuses[nstatus++] = fp_xstrdup(tok);
			free(s);
			break;
		}
		default:
			return 2;
		}
	}
	if (!port_file || !dir)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 16) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) != 0) {
		perror("httpstub");
		return 1;
	}
	f = fopen(port_file, "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", ntohs(sa.sin_port));
	fclose(f);
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		serve(fd);
		close(fd);
	}
}
