/* check_lineproto.c - the line-protocol encoder and parser. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_check.h"
#include "lineproto.h"

static char *enc(const struct fp_point *p)
{
	static char out[4096];
	struct fp_buf b;
	int rc;

	fp_buf_init(&b, 1 << 20);
	rc = fp_lp_encode_point(&b, p, FP_PREC_NS);
	snprintf(out, sizeof(out), "%s", rc > 0 ? b.data : "");
	fp_buf_reset(&b);
	return out;
}

/* One point: measurement m, tag t=tv (if tv), field f=1i. */
static char *enc1(const char *m, const char *tk, const char *tv, const char *fk)
{
	struct fp_batch b;
	struct fp_point *p;
	char *s;

	fp_batch_init(&b);
	p = fp_batch_add(&b, m, 1);
	if (tk)
		fp_point_tag(p, tk, tv);
	fp_point_int(p, fk, 1);
	s = enc(p);
	fp_batch_reset(&b);
	return s;
}

START_TEST(test_lineproto_plain)
{
	ck_assert_str_eq(enc1("meter", "site", "dc1", "power_w"), "meter,site=dc1 power_w=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_escape_measurement)
{
	ck_assert_str_eq(enc1("a b,c=d\"e", NULL, NULL, "f"), "a\\ b\\,c=d\"e f=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_escape_tag)
{
	ck_assert_str_eq(enc1("m", "k ,=\"", "v ,=\"", "f"),
			 "m,k\\ \\,\\=\"=v\\ \\,\\=\" f=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_escape_field_key)
{
	ck_assert_str_eq(enc1("m", NULL, NULL, "a b,c=d\"e"), "m a\\ b\\,c\\=d\\\"e=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_backslash_literal)
{
	/* A backslash is kept; one before a special character becomes '_'. */
	ck_assert_str_eq(enc1("m\\x", "k\\y", "a\\b", "f\\g"), "m\\x,k\\y=a\\b f\\g=1i 1\n");
	ck_assert_str_eq(enc1("m", "k", "a\\,b", "f"), "m,k=a_\\,b f=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_trailing_backslash)
{
	ck_assert_str_eq(enc1("m\\", "k\\", "v\\", "f\\"), "m_,k_=v_ f_=1i 1\n");
	/* Before a special character, in every name position. */
	ck_assert_str_eq(enc1("m\\,x", "k\\=", "v\\ w", "f\\\""),
			 "m_\\,x,k_\\==v_\\ w f_\\\"=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_control_chars)
{
	ck_assert_str_eq(enc1("m\nx", "k", "a\nb\rc\td", "f\n"),
			 "m\\ x,k=a\\ b\\ c\\ d f\\ =1i 1\n");
	/* a backslash before a newline: the newline becomes an escaped space,
	 * so the backslash must not stay before it (found by fuzzing) */
	ck_assert_str_eq(enc1("m", "k", "a\\\nb", "f"), "m,k=a_\\ b f=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_comment_measurement)
{
	ck_assert_str_eq(enc1("#m", NULL, NULL, "f"), "_m f=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_utf8)
{
	ck_assert_str_eq(enc1("é€", "k", "日本 ✓", "𝄞"), "é€,k=日本\\ ✓ 𝄞=1i 1\n");
	/* Invalid bytes become U+FFFD; an overlong form too. */
	ck_assert_str_eq(enc1("m", "k",
			      "a\xff"
			      "b\xc0\xaf",
			      "f"),
			 "m,k=a\xef\xbf\xbd"
			 "b\xef\xbf\xbd\xef\xbf\xbd f=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_empty_tags_left_out)
{
	ck_assert_str_eq(enc1("m", "k", "", "f"), "m f=1i 1\n");
	ck_assert_str_eq(enc1("m", "", "v", "f"), "m f=1i 1\n");
}
END_TEST

START_TEST(test_lineproto_tags_sorted)
{
	struct fp_batch b;
	struct fp_point *p;

	fp_batch_init(&b);
	p = fp_batch_add(&b, "m", 5);
	fp_point_tag(p, "zone", "z");
	fp_point_tag(p, "device", "d");
	fp_point_tag(p, "site", "s");
	fp_point_tag(p, "device", "d2");
	fp_point_float(p, "v", 0.5);
	ck_assert_str_eq(enc(p), "m,device=d2,site=s,zone=z v=0.5 5\n");
	fp_batch_reset(&b);
}
END_TEST

START_TEST(test_lineproto_types)
{
	struct fp_batch b;
	struct fp_point *p;

	fp_batch_init(&b);
	p = fp_batch_add(&b, "m", 1700000000123456789LL);
	fp_point_int(p, "i", INT64_MIN);
	fp_point_uint(p, "u", UINT64_MAX);
	fp_point_bool(p, "t", true);
	fp_point_bool(p, "f", false);
	fp_point_string(p, "s", "say \"hi\" \\ bye");
	ck_assert_str_eq(enc(p),
			 "m i=-9223372036854775808i,u=18446744073709551615u,t=true,"
			 "f=false,s=\"say \\\"hi\\\" \\\\ bye\" 1700000000123456789\n");
	fp_batch_reset(&b);
}
END_TEST

START_TEST(test_lineproto_string_newline_replaced)
{
	struct fp_batch b;
	struct fp_point *p;

	fp_batch_init(&b);
	p = fp_batch_add(&b, "m", 1);
	fp_point_string(p, "s", "a\nb\r\n");
	ck_assert_str_eq(enc(p), "m s=\"a b  \" 1\n");
	fp_batch_reset(&b);
}
END_TEST

START_TEST(test_lineproto_nonfinite_dropped)
{
	struct fp_batch b;
	struct fp_point *p;

	fp_batch_init(&b);
	p = fp_batch_add(&b, "m", 1);
	fp_point_float(p, "nan", NAN);
	fp_point_float(p, "inf", INFINITY);
	fp_point_float(p, "ok", 2.0);
	ck_assert_str_eq(enc(p), "m ok=2 1\n");
	p = fp_batch_add(&b, "m", 1);
	fp_point_float(p, "nan", NAN);
	ck_assert_str_eq(enc(p), "");
	fp_batch_reset(&b);
}
END_TEST

START_TEST(test_lineproto_float_roundtrip)
{
	static const double v[] = {
		0.1,
		1.0 / 3.0,
		2.0 / 3.0,
		1e-300,
		5e-324,
		1.7976931348623157e308,
		-0.0,
		123456789.123456789,
		0.30000000000000004,
		1e21,
		4.35,
		100.0,
		2.2250738585072014e-308,
	};
	char buf[40];
	size_t i;
	unsigned seed = 12345;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fp_lp_format_float(buf, v[i]);
		ck_assert_msg(strtod(buf, NULL) == v[i], "%s", buf);
	}
	ck_assert(fp_lp_format_float(buf, 0.1) == 3 && !strcmp(buf, "0.1"));
	for (i = 0; i < 100000; i++) {
		uint64_t bits = 0;
		double d;
		int k;
		for (k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			bits = (bits << 16) | ((seed >> 8) & 0xffff);
		}
		memcpy(&d, &bits, sizeof(d));
		if (!isfinite(d))
			continue;
		fp_lp_format_float(buf, d);
		ck_assert_msg(memcmp(&(double){ strtod(buf, NULL) }, &d, sizeof(d)) == 0, "%s",
			      buf);
	}
}
END_TEST

/* The shortcut for short decimals writes exactly what the printf loop
 * writes: meter readings (k / 10^d), their neighbours, negatives, the
 * edges of the shortcut's range. */
static void format_ref(char *buf, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
}

START_TEST(test_lineproto_float_decimal)
{
	static const double p10[] = { 1,   1e1, 1e2, 1e3,  1e4,	 1e5, 1e6,
				      1e7, 1e8, 1e9, 1e10, 1e11, 1e12 };
	static const double edge[] = { 1e-4,
				       9.9999999999999991e-05,
				       1e15,
				       999999999999999.0,
				       999999999999999.9,
				       0.5,
				       1,
				       0.1,
				       0.2,
				       0.3,
				       4.35,
				       230.1,
				       49.98,
				       1e14,
				       123456789012345.6 };
	char got[40], want[40];
	unsigned seed = 777;
	size_t i, n;

	for (i = 0; i < FP_ARRAY_SIZE(edge); i++) {
		for (int sg = 0; sg < 2; sg++) {
			double v = sg ? -edge[i] : edge[i];
			n = fp_lp_format_float(got, v);
			format_ref(want, v);
			ck_assert_str_eq(got, want);
			ck_assert_uint_eq(n, strlen(want));
		}
	}
	for (i = 0; i < 300000; i++) {
		uint64_t k;
		double v;
		seed = seed * 1103515245u + 12345u;
		k = ((uint64_t)seed << 20) ^ (seed >> 3);
		seed = seed * 1103515245u + 12345u;
		k %= (uint64_t)1 << (seed % 50 + 1);
		v = (double)k / p10[(seed >> 8) % FP_ARRAY_SIZE(p10)];
		if (i % 3 == 1)
			v = nextafter(v, INFINITY);
		if (i % 2)
			v = -v;
		n = fp_lp_format_float(got, v);
		format_ref(want, v);
		ck_assert_msg(!strcmp(got, want), "%.17g: %s, not %s", v, got, want);
		ck_assert_uint_eq(n, strlen(want));
	}
}
END_TEST

START_TEST(test_lineproto_int_extremes)
{
	struct fp_batch b;
	struct fp_buf out;
	struct fp_point *p;

	fp_batch_init(&b);
	fp_buf_init(&out, 1024);
	p = fp_batch_add(&b, "m", -5);
	fp_point_int(p, "a", INT64_MIN);
	fp_point_int(p, "b", INT64_MAX);
	fp_point_int(p, "c", 0);
	fp_point_uint(p, "d", UINT64_MAX);
	ck_assert_int_eq(fp_lp_encode_point(&out, p, FP_PREC_NS), 1);
	ck_assert_str_eq(out.data,
			 "m a=-9223372036854775808i,b=9223372036854775807i,c=0i,"
			 "d=18446744073709551615u -5\n");
	fp_buf_reset(&out);
	fp_batch_reset(&b);
}
END_TEST

START_TEST(test_lineproto_precision)
{
	struct fp_batch b;
	struct fp_buf out;
	struct fp_point *p;

	fp_batch_init(&b);
	fp_buf_init(&out, 1024);
	p = fp_batch_add(&b, "m", 1700000000987654321LL);
	fp_point_int(p, "v", 1);
	ck_assert_int_eq(fp_lp_encode_point(&out, p, FP_PREC_S), 1);
	ck_assert_int_eq(fp_lp_encode_point(&out, p, FP_PREC_MS), 1);
	ck_assert_str_eq(out.data, "m v=1i 1700000000\nm v=1i 1700000000987\n");
	ck_assert_int_eq(fp_lp_precision_from_name("us"), FP_PREC_US);
	ck_assert_int_eq(fp_lp_precision_from_name("h"), -1);
	fp_buf_reset(&out);
	fp_batch_reset(&b);
}
END_TEST

START_TEST(test_lineproto_buffer_limit)
{
	struct fp_batch b;
	struct fp_buf out;
	struct fp_point *p;

	fp_batch_init(&b);
	fp_buf_init(&out, 20);
	p = fp_batch_add(&b, "measurement", 1);
	fp_point_string(p, "s", "a long string value");
	ck_assert_int_eq(fp_lp_encode_point(&out, p, FP_PREC_NS), -ENOBUFS);
	ck_assert_uint_eq(out.len, 0);
	fp_buf_reset(&out);
	fp_batch_reset(&b);
}
END_TEST

/* Everything nasty, encoded then parsed back: identical except for the
 * documented replacements. */
START_TEST(test_lineproto_parse_roundtrip)
{
	static const char *const nasty[] = {
		"plain",    "sp ace", "com,ma", "eq=ual", "quo\"te",  "back\\slash",
		"b\\,c",    "b\\ c",  "b\\=c",	"\\\\,",  "é ü 日本", "a\\\"b",
		"x\\\\\\y", "=",      ",",	" ",	  "\"",
	};
	size_t i, n = sizeof(nasty) / sizeof(nasty[0]);
	struct fp_batch in, out;
	struct fp_buf buf;
	int rc;

	fp_batch_init(&in);
	fp_batch_init(&out);
	fp_buf_init(&buf, 1 << 20);
	for (i = 0; i < n; i++) {
		struct fp_point *p = fp_batch_add(&in, nasty[i], (int64_t)i);
		fp_point_tag(p, nasty[i], nasty[(i + 1) % n]);
		fp_point_string(p, nasty[i], nasty[(i + 2) % n]);
		fp_point_float(p, "f", (double)i / 7.0);
	}
	rc = fp_lp_encode_batch(&buf, &in, FP_PREC_NS, NULL);
	ck_assert_int_eq(rc, (int)n);
	rc = fp_lp_parse(buf.data, buf.len, FP_PREC_NS, &out, NULL);
	ck_assert_int_eq(rc, (int)n);
	for (i = 0; i < n; i++) {
		const struct fp_point *p = &out.pts[i];
		const struct fp_field *f;
		char name[64];
		size_t k;
		/* The documented rule for names. */
		snprintf(name, sizeof(name), "%s", nasty[i]);
		for (k = 0; name[k]; k++)
			if (name[k] == '\\' && (!name[k + 1] || strchr(",= \"", name[k + 1])))
				name[k] = '_';
		ck_assert_str_eq(p->measurement, name);
		ck_assert_uint_eq(p->ntags, 1);
		ck_assert_str_eq(p->tags[0].key, name);
		{
			char val[64];
			snprintf(val, sizeof(val), "%s", nasty[(i + 1) % n]);
			for (k = 0; val[k]; k++)
				if (val[k] == '\\' && (!val[k + 1] || strchr(",= \"", val[k + 1])))
					val[k] = '_';
			ck_assert_str_eq(p->tags[0].val, val);
		}
		f = fp_point_field(p, name);
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(f->type, FP_STRING);
		ck_assert_str_eq(f->v.s, nasty[(i + 2) % n]);
		f = fp_point_field(p, "f");
		ck_assert(f && f->v.f == (double)i / 7.0);
		ck_assert_int_eq(p->ts_ns, (int64_t)i);
	}
	fp_buf_reset(&buf);
	fp_batch_reset(&in);
	fp_batch_reset(&out);
}
END_TEST

START_TEST(test_lineproto_newline_never_splits)
{
	struct fp_batch in, out;
	struct fp_buf buf;
	struct fp_point *p;

	fp_batch_init(&in);
	fp_batch_init(&out);
	fp_buf_init(&buf, 1 << 16);
	p = fp_batch_add(&in, "m\nevil,site=x v=1 1\n", 1);
	fp_point_tag(p, "k\n", "v\nevil v=1 1\n");
	fp_point_string(p, "s\n", "a\"\nevil v=1 1\n");
	ck_assert_int_eq(fp_lp_encode_batch(&buf, &in, FP_PREC_NS, NULL), 1);
	ck_assert_ptr_eq(strchr(buf.data, '\n'), buf.data + buf.len - 1);
	ck_assert_int_eq(fp_lp_parse(buf.data, buf.len, FP_PREC_NS, &out, NULL), 1);
	ck_assert_str_eq(out.pts[0].measurement, "m evil,site=x v=1 1 ");
	fp_buf_reset(&buf);
	fp_batch_reset(&in);
	fp_batch_reset(&out);
}
END_TEST

START_TEST(test_lineproto_parse_types_and_errors)
{
	static const char text[] =
		"# comment\n\nm,a=b i=-5i,u=7u,f=1.5,t=t,F=FALSE,s=\"x\\\"y\" 42\n"
		"m2 v=1\r\n";
	struct fp_batch out;
	size_t bad = 0;

	fp_batch_init(&out);
	ck_assert_int_eq(fp_lp_parse(text, strlen(text), FP_PREC_S, &out, NULL), 2);
	ck_assert_int_eq(out.pts[0].ts_ns, 42000000000LL);
	ck_assert_int_eq(fp_point_field(&out.pts[0], "i")->v.i, -5);
	ck_assert_uint_eq(fp_point_field(&out.pts[0], "u")->v.u, 7);
	ck_assert(fp_point_field(&out.pts[0], "t")->v.b);
	ck_assert(!fp_point_field(&out.pts[0], "F")->v.b);
	ck_assert_str_eq(fp_point_field(&out.pts[0], "s")->v.s, "x\"y");
	ck_assert_int_eq(out.pts[1].ts_ns, 0);
	fp_batch_reset(&out);

	ck_assert_int_eq(fp_lp_parse("m v=1\nm\n", 8, FP_PREC_NS, &out, &bad), -EINVAL);
	ck_assert_uint_eq(bad, 2);
	ck_assert_uint_eq(out.n, 1);
	fp_batch_reset(&out);
	ck_assert_int_eq(fp_lp_parse("m,t v=1", 7, FP_PREC_NS, &out, &bad), -EINVAL);
	ck_assert_int_eq(fp_lp_parse("m v=abc", 7, FP_PREC_NS, &out, &bad), -EINVAL);
	ck_assert_int_eq(fp_lp_parse("m v=\"open", 9, FP_PREC_NS, &out, &bad), -EINVAL);
	ck_assert_int_eq(fp_lp_parse("m v=1 12x", 9, FP_PREC_NS, &out, &bad), -EINVAL);
	ck_assert_uint_eq(out.n, 0);
	fp_batch_reset(&out);
}
END_TEST

/* What an engine that keeps every write gets: no running value or
 * correction of a row, strings as tags; and nothing older than a
 * retention. */
START_TEST(test_lineproto_filtered)
{
	struct fp_batch b;
	struct fp_buf out;
	struct fp_lp_filter f = { true, 0 };
	size_t skipped = 0, old = 0;
	struct fp_point *p;
	int n;

	fp_batch_init(&b);
	p = fp_batch_add(&b, "efficiency", 3000000000LL);
	p->kind = FP_PT_RUNNING;
	fp_point_float(p, "pue", 1.5);
	p = fp_batch_add(&b, "efficiency", 3000000000LL);
	p->kind = FP_PT_FINAL;
	fp_point_float(p, "pue", 1.4);
	p = fp_batch_add(&b, "efficiency", 3000000000LL);
	p->kind = FP_PT_CORRECTION;
	fp_point_float(p, "pue", 1.41);
	p = fp_batch_add(&b, "asset_event", 4000000000LL);
	fp_point_tag(p, "site", "s");
	fp_point_string(p, "asset_id", "srv 1");
	fp_point_float(p, "mass_kg", 12);
	/* only strings: an info series, not a point without a field */
	p = fp_batch_add(&b, "asset_event", 4000000000LL);
	fp_point_tag(p, "site", "s");
	fp_point_string(p, "asset_id", "nas1");
	fp_point_string(p, "event_id", "x1");
	fp_buf_init(&out, 1 << 20);
	n = fp_lp_encode_filtered(&out, &b, FP_PREC_S, &f, &skipped, &old);
	ck_assert_int_eq(n, 3);
	ck_assert_uint_eq(skipped, 2);
	ck_assert_uint_eq(old, 0);
	ck_assert_str_eq(out.data,
			 "efficiency pue=1.4 3\n"
			 "asset_event,asset_id=srv\\ 1,site=s mass_kg=12 4\n"
			 "asset_event,asset_id=nas1,event_id=x1,site=s info=1 4\n");
	/* every write to an engine that overwrites */
	fp_buf_reset(&out);
	fp_buf_init(&out, 1 << 20);
	ck_assert_int_eq(fp_lp_encode_filtered(&out, &b, FP_PREC_S, NULL, NULL, NULL), 5);
	/* a retention: older points are counted, not sent */
	fp_buf_reset(&out);
	fp_buf_init(&out, 1 << 20);
	f.append_only = false;
	f.min_ts_ns = 3500000000LL;
	skipped = 0;
	ck_assert_int_eq(fp_lp_encode_filtered(&out, &b, FP_PREC_S, &f, &skipped, &old), 2);
	ck_assert_uint_eq(old, 3);
	ck_assert_str_eq(out.data,
			 "asset_event,site=s asset_id=\"srv 1\",mass_kg=12 4\n"
			 "asset_event,site=s asset_id=\"nas1\",event_id=\"x1\" 4\n");
	fp_buf_reset(&out);
	fp_batch_reset(&b);
}
END_TEST

static Suite *lineproto_suite(void)
{
	Suite *s = suite_create("lineproto");
	TCase *core = tcase_create("core"), *esc = tcase_create("escaping"),
	      *lim = tcase_create("limits"), *parse = tcase_create("parser");

	tcase_add_test(core, test_lineproto_plain);
	tcase_add_test(core, test_lineproto_tags_sorted);
	tcase_add_test(core, test_lineproto_types);
	tcase_add_test(core, test_lineproto_float_roundtrip);
	tcase_add_test(core, test_lineproto_float_decimal);
	tcase_add_test(core, test_lineproto_int_extremes);
	tcase_add_test(core, test_lineproto_precision);
	tcase_add_test(esc, test_lineproto_escape_measurement);
	tcase_add_test(esc, test_lineproto_escape_tag);
	tcase_add_test(esc, test_lineproto_escape_field_key);
	tcase_add_test(esc, test_lineproto_backslash_literal);
	tcase_add_test(esc, test_lineproto_trailing_backslash);
	tcase_add_test(esc, test_lineproto_control_chars);
	tcase_add_test(esc, test_lineproto_comment_measurement);
	tcase_add_test(esc, test_lineproto_utf8);
	tcase_add_test(esc, test_lineproto_empty_tags_left_out);
	tcase_add_test(esc, test_lineproto_string_newline_replaced);
	tcase_add_test(esc, test_lineproto_newline_never_splits);
	tcase_add_test(lim, test_lineproto_nonfinite_dropped);
	tcase_add_test(lim, test_lineproto_buffer_limit);
	tcase_add_test(core, test_lineproto_filtered);
	tcase_add_test(parse, test_lineproto_parse_roundtrip);
	tcase_add_test(parse, test_lineproto_parse_types_and_errors);
	suite_add_tcase(s, core);
	suite_add_tcase(s, esc);
	suite_add_tcase(s, lim);
	suite_add_tcase(s, parse);
	return s;
}

FP_CHECK_MAIN(lineproto_suite)
