/* influx_roundtrip.c - posts the encoder's output to a real influxd and
 * reads it back: every measurement, tag key, tag value, field key, string
 * and number must come back byte-identical (or as the documented
 * replacement), and a newline anywhere must never add a point.
 * Usage: influx_roundtrip URL   (TAP on stdout) */
#include "config.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "point.h"
#include "util.h"

static const char *base;
static int tn, failed;

static void tap(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tn);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		failed++;
}

/* Strings with every character line protocol treats specially, and text. */
static const char *const nasty[] = {
	"plain",
	"with space",
	"com,ma",
	"eq=ual",
	"dq\"uote",
	"sq'uote",
	"back\\slash",
	"bs\\,comma",
	"bs\\ space",
	"bs\\=eq",
	"two\\\\bs",
	"bs\\\"dq",
	" lead",
	"trail ",
	",",
	"=",
	"\"",
	"a,b=c d\"e\\f",
	"é ü ß",
	"日本語 データセンター",
	"emoji 🌍⚡",
	"tab-less ok",
	"PUE 1.4 / DCiE 71%",
	"{json:[1]}",
	"#hash",
	"x#y",
};
#define NN (sizeof(nasty) / sizeof(nasty[0]))

/* Strings that need the documented replacement, with what must come back. */
static const struct {
	const char *in, *name_out, *str_out;
} replaced[] = {
	{ "new\nline", "new line", "new line" },
	{ "cr\rlf\r\n", "cr lf  ", "cr lf  " },
	{ "inject\nevil,site=x n=1i 1\n", "inject evil,site=x n=1i 1 ",
	  "inject evil,site=x n=1i 1 " },
	{ "trail\\", "trail_", "trail\\" },
	{ "bad\xff utf8", "bad\xef\xbf\xbd utf8", "bad\xef\xbf\xbd utf8" },
};
#define NR (sizeof(replaced) / sizeof(replaced[0]))

struct resp {
	char *data;
	size_t len;
};

static size_t on_data(char *p, size_t sz, size_t n, void *u)
{
	struct resp *r = u;

	r->data = fp_xrealloc(r->data, r->len + sz * n + 1);
	memcpy(r->data + r->len, p, sz * n);
	r->len += sz * n;
	r->data[r->len] = '\0';
	return sz * n;
}

/* POST body to path; returns the HTTP status (0 on transport error). */
static long post(const char *path, const char *body, size_t len, struct resp *r)
{
	CURL *c = curl_easy_init();
	char url[512];
	long code = 0;

	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code;
}

/* Runs an InfluxQL query; returns results[0].series (owned by *root). */
static json_object *query(const char *q, json_object **root)
{
	CURL *c = curl_easy_init();
	struct resp r = { 0 };
	char *esc = curl_easy_escape(c, q, 0), *body;
	json_object *res, *series = NULL;

	body = fp_xasprintf("db=rt&q=%s", esc);
	curl_free(esc);
	curl_easy_cleanup(c);
	post("/query", body, strlen(body), &r);
	free(body);
	*root = r.data ? json_tokener_parse(r.data) : NULL;
	free(r.data);
	if (*root && json_object_object_get_ex(*root, "results", &res) &&
	    json_object_array_length(res) > 0)
		json_object_object_get_ex(json_object_array_get_idx(res, 0), "series", &series);
	return series;
}

static json_object *values_of(json_object *series, size_t i)
{
	json_object *v = NULL;

	if (series && json_object_array_length(series) > i)
		json_object_object_get_ex(json_object_array_get_idx(series, i), "values", &v);
	return v;
}

/* Index of column name in series[0].columns, -1 if absent. */
static int column(json_object *series, const char *name)
{
	json_object *cols;
	size_t i;

	if (!series ||
	    !json_object_object_get_ex(json_object_array_get_idx(series, 0), "columns", &cols))
		return -1;
	for (i = 0; i < json_object_array_length(cols); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(cols, i)), name))
			return (int)i;
	return -1;
}

/* Checks that the first column of values is exactly the set want[0..n). */
static void expect_set(const char *what, json_object *vals, const char *const *want, size_t n)
{
	size_t i, j, len = vals ? json_object_array_length(vals) : 0;
	int ok = len == n;

	for (i = 0; ok && i < n; i++) {
		int found = 0;
		for (j = 0; j < len && !found; j++) {
			json_object *row = json_object_array_get_idx(vals, j);
			const char *s = json_object_get_string(json_object_array_get_idx(row, 0));
			found = s && !strcmp(s, want[i]);
		}
		if (!found) {
			printf("# %s: missing '%s'\n", what, want[i]);
			ok = 0;
		}
	}
	if (len != n)
		printf("# %s: %zu values came back, %zu expected\n", what, len, n);
	tap(ok, "%s come back byte-identical (%zu)", what, n);
}

static const char *name_of(size_t i)
{
	return i < NN ? nasty[i] : replaced[i - NN].in;
}

/* What comes back for a name (measurement, tag key or value, field key):
 * also the documented rule for a backslash before ',', '=', ' ' or '"'
 * (it becomes '_'). */
static const char *name_back(size_t i)
{
	static char buf[NN + NR][128];
	size_t k;

	snprintf(buf[i], sizeof(buf[i]), "%s", i < NN ? nasty[i] : replaced[i - NN].name_out);
	for (k = 0; buf[i][k]; k++)
		if (buf[i][k] == '\\' && (!buf[i][k + 1] || strchr(",= \"", buf[i][k + 1])))
			buf[i][k] = '_';
	return buf[i];
}

static const char *str_back(size_t i)
{
	return i < NN ? nasty[i] : replaced[i - NN].str_out;
}

int main(int argc, char **argv)
{
	static const double floats[] = {
		0.1,
		1.0 / 3.0,
		1e-300,
		5e-324,
		1.7976931348623157e308,
		-2.5,
		123456789.123456789,
		0.30000000000000004,
		1e21,
		1.4,
		2.2250738585072014e-308,
		-1e-7,
	};
	const size_t N = NN + NR, NF = sizeof(floats) / sizeof(floats[0]);
	const char **want;
	struct fp_batch b;
	struct fp_buf buf;
	struct resp r = { 0 };
	json_object *root, *series, *vals;
	size_t i;
	long code;
	char idbuf[16];

	if (argc != 2) {
		fprintf(stderr, "usage: influx_roundtrip URL\n");
		return 2;
	}
	base = argv[1];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	query("CREATE DATABASE rt", &root);
	json_object_put(root);

	fp_batch_init(&b);
	for (i = 0; i < N; i++) {
		struct fp_point *p;
		snprintf(idbuf, sizeof(idbuf), "%zu", i);
		/* measurement names */
		p = fp_batch_add(&b, name_of(i), 1000 + (int64_t)i);
		fp_point_int(p, "n", (int64_t)i);
		/* tag values: site and device as a site engineer might name them */
		p = fp_batch_add(&b, "tagvals", 1000 + (int64_t)i);
		fp_point_tag(p, "site", name_of(i));
		fp_point_tag(p, "device", name_of(N - 1 - i));
		fp_point_tag(p, "id", idbuf);
		fp_point_int(p, "n", (int64_t)i);
		/* tag keys */
		p = fp_batch_add(&b, "tagkeys", 1000 + (int64_t)i);
		fp_point_tag(p, name_of(i), "v");
		fp_point_int(p, "n", (int64_t)i);
		/* field keys */
		p = fp_batch_add(&b, "fieldkeys", 1000 + (int64_t)i);
		fp_point_int(p, name_of(i), (int64_t)i);
		/* string field values */
		p = fp_batch_add(&b, "strvals", 1000 + (int64_t)i);
		fp_point_tag(p, "id", idbuf);
		fp_point_string(p, "s", name_of(i));
		fp_point_int(p, "n", (int64_t)i);
	}
	for (i = 0; i < NF; i++) {
		struct fp_point *p = fp_batch_add(&b, "numbers", 1000 + (int64_t)i);
		fp_point_float(p, "f", floats[i]);
		fp_point_int(p, "i", i % 2 ? INT64_MAX : INT64_MIN + 1);
		fp_point_bool(p, "b", i % 2);
		fp_point_int(p, "n", (int64_t)i);
	}
	fp_buf_init(&buf, 1 << 24);
	tap(fp_lp_encode_batch(&buf, &b, FP_PREC_NS, NULL) == (int)b.n, "encoder writes %zu points",
	    b.n);
	code = post("/write?db=rt&precision=ns", buf.data, buf.len, &r);
	tap(code == 204, "influxd accepts the batch (HTTP %ld%s%s)", code, r.data ? ": " : "",
	    r.data ? r.data : "");
	free(r.data);

	/* measurement names: exactly ours plus the five fixed ones */
	want = fp_xcalloc(N + 5, sizeof(*want));
	for (i = 0; i < N; i++) {
		static char hashless[64];
		want[i] = name_back(i);
		if (want[i][0] == '#') { /* the documented rule: it would start a comment */
			snprintf(hashless, sizeof(hashless), "_%s", want[i] + 1);
			want[i] = hashless;
		}
	}
	want[N] = "tagvals";
	want[N + 1] = "tagkeys";
	want[N + 2] = "fieldkeys";
	want[N + 3] = "strvals";
	want[N + 4] = "numbers";
	series = query("SHOW MEASUREMENTS", &root);
	expect_set("measurement names", values_of(series, 0), want, N + 5);
	json_object_put(root);

	/* tag keys */
	for (i = 0; i < N; i++)
		want[i] = name_back(i);
	series = query("SHOW TAG KEYS FROM \"tagkeys\"", &root);
	expect_set("tag keys", values_of(series, 0), want, N);
	json_object_put(root);

	/* field keys */
	for (i = 0; i < N; i++)
		want[i] = name_back(i);
	series = query("SHOW FIELD KEYS FROM \"fieldkeys\"", &root);
	expect_set("field keys", values_of(series, 0), want, N);
	json_object_put(root);

	/* tag values, row by row */
	series = query("SELECT * FROM \"tagvals\"", &root);
	vals = values_of(series, 0);
	{
		int cs = column(series, "site"), cd = column(series, "device"),
		    cn = column(series, "n");
		size_t len = vals ? json_object_array_length(vals) : 0, bad = 0;
		for (i = 0; i < len; i++) {
			json_object *row = json_object_array_get_idx(vals, i);
			int64_t n = json_object_get_int64(json_object_array_get_idx(row, cn));
			const char *s = json_object_get_string(json_object_array_get_idx(row, cs));
			const char *d = json_object_get_string(json_object_array_get_idx(row, cd));
			if (n < 0 || (size_t)n >= N || !s || !d ||
			    strcmp(s, name_back((size_t)n)) ||
			    strcmp(d, name_back(N - 1 - (size_t)n))) {
				printf("# row %zu: site '%s' device '%s'\n", i, s ? s : "",
				       d ? d : "");
				bad++;
			}
		}
		tap(len == N && bad == 0 && cs > 0 && cd > 0,
		    "site and device tag values come back byte-identical (%zu rows)", len);
	}
	json_object_put(root);

	/* string field values */
	series = query("SELECT * FROM \"strvals\"", &root);
	vals = values_of(series, 0);
	{
		int cs = column(series, "s"), cn = column(series, "n");
		size_t len = vals ? json_object_array_length(vals) : 0, bad = 0;
		for (i = 0; i < len; i++) {
			json_object *row = json_object_array_get_idx(vals, i);
			int64_t n = json_object_get_int64(json_object_array_get_idx(row, cn));
			const char *s = json_object_get_string(json_object_array_get_idx(row, cs));
			if (n < 0 || (size_t)n >= N || !s || strcmp(s, str_back((size_t)n))) {
				printf("# row %zu: '%s'\n", i, s ? s : "");
				bad++;
			}
		}
		tap(len == N && bad == 0, "string field values come back byte-identical (%zu)",
		    len);
	}
	json_object_put(root);

	/* numbers: doubles bit-exact, int64 extremes, booleans */
	series = query("SELECT * FROM \"numbers\"", &root);
	vals = values_of(series, 0);
	{
		int cf = column(series, "f"), ci = column(series, "i"), cb = column(series, "b"),
		    cn = column(series, "n");
		size_t len = vals ? json_object_array_length(vals) : 0, bad = 0;
		for (i = 0; i < len; i++) {
			json_object *row = json_object_array_get_idx(vals, i);
			int64_t n = json_object_get_int64(json_object_array_get_idx(row, cn));
			double f = json_object_get_double(json_object_array_get_idx(row, cf));
			int64_t iv = json_object_get_int64(json_object_array_get_idx(row, ci));
			int bv = json_object_get_boolean(json_object_array_get_idx(row, cb));
			if (n < 0 || (size_t)n >= NF || memcmp(&f, &floats[n], sizeof(f)) ||
			    iv != (n % 2 ? INT64_MAX : INT64_MIN + 1) || bv != (int)(n % 2)) {
				printf("# row %zu: f=%.17g i=%" PRId64 " b=%d\n", i, f, iv, bv);
				bad++;
			}
		}
		tap(len == NF && bad == 0,
		    "floats round-trip bit-exact, int64 and booleans exact (%zu)", len);
	}
	json_object_put(root);

	/* no newline ever added a point */
	series = query("SELECT count(\"n\") FROM \"tagvals\",\"strvals\",\"fieldkeys\"", &root);
	{
		size_t k, total = 0;
		for (k = 0; series && k < json_object_array_length(series); k++) {
			json_object *v = values_of(series, k);
			json_object *row = v ? json_object_array_get_idx(v, 0) : NULL;
			total += row
				? (size_t)json_object_get_int64(json_object_array_get_idx(row, 1))
				: 0;
		}
		tap(total == 2 * N, "no newline split a line or injected a point (%zu of %zu)",
		    total, 2 * N);
	}
	json_object_put(root);

	free(want);
	fp_buf_reset(&buf);
	fp_batch_reset(&b);
	curl_global_cleanup();
	printf("1..%d\n", tn);
	return failed ? 1 : 0;
}
