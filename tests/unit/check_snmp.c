/* check_snmp.c - unit tests of the SNMP collector's decoding: OIDs,
 * counter steps (wraps, resets, reboots), sysUpTime, and a poll's
 * varbinds into points (types, dropped values, rows, sums). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_check.h"
#include "sn_decode.h"

START_TEST(test_oid_parse)
{
	struct fp_sn_oid o;
	char buf[256], many[400];
	size_t len;
	int i;

	ck_assert_int_eq(fp_sn_oid_parse("1.3.6.1.2.1.1.3.0", &o), 0);
	ck_assert_uint_eq(o.n, 9);
	ck_assert_uint_eq(o.a[8], 0);
	fp_sn_oid_format(o.a, o.n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1.3.6.1.2.1.1.3.0");
	ck_assert_int_eq(fp_sn_oid_parse(".1.3.6.1.4.1.318", &o), 0);
	ck_assert_uint_eq(o.n, 7);
	ck_assert_uint_eq(o.a[6], 318);
	ck_assert_int_eq(fp_sn_oid_parse("1.3.6.4294967295", &o), 0);
	ck_assert_uint_eq(o.a[3], 4294967295u);
	ck_assert_int_eq(fp_sn_oid_parse("1", &o), -EINVAL);
	ck_assert_int_eq(fp_sn_oid_parse("1.3.x", &o), -EINVAL);
	ck_assert_int_eq(fp_sn_oid_parse("1..3", &o), -EINVAL);
	ck_assert_int_eq(fp_sn_oid_parse("1.3.4294967296", &o), -EINVAL);
	ck_assert_int_eq(fp_sn_oid_parse("", &o), -EINVAL);
	/* FP_SN_OID_MAX arcs, then one more */
	for (i = 0, len = 0; i < FP_SN_OID_MAX; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, i ? ".1" : "1");
	ck_assert_int_eq(fp_sn_oid_parse(many, &o), 0);
	snprintf(many + len, sizeof(many) - len, ".1");
	ck_assert_int_eq(fp_sn_oid_parse(many, &o), -EINVAL);
}
END_TEST

START_TEST(test_counter_steps)
{
	struct fp_sn_ctr c;
	enum fp_sn_step w;
	double v;

	memset(&c, 0, sizeof(c));
	/* Counter32: first, up, wrap (+2^32), then a reset (a big drop) */
	ck_assert(fp_sn_counter_step(&c, true, 4294967000u, 32, false, &w) == 4294967000.0);
	ck_assert_int_eq(w, FP_SN_FIRST);
	ck_assert(fp_sn_counter_step(&c, false, 4294967290u, 32, false, &w) == 4294967290.0);
	ck_assert_int_eq(w, FP_SN_UP);
	v = fp_sn_counter_step(&c, false, 10, 32, false, &w);
	ck_assert_int_eq(w, FP_SN_WRAP);
	ck_assert(v == 4294967306.0); /* 10 + 2^32: continuous */
	v = fp_sn_counter_step(&c, false, 500, 32, false, &w);
	ck_assert_int_eq(w, FP_SN_UP);
	ck_assert(v == 4294967796.0);
	/* from 500 down to 5 is no plausible wrap: a reset */
	v = fp_sn_counter_step(&c, false, 3000000000u, 32, false, &w);
	ck_assert_int_eq(w, FP_SN_UP);
	v = fp_sn_counter_step(&c, false, 5, 32, false, &w);
	ck_assert_int_eq(w, FP_SN_WRAP); /* 3e9 -> 5: +1.29e9, less than half */
	memset(&c, 0, sizeof(c));
	fp_sn_counter_step(&c, true, 1000, 32, false, &w);
	v = fp_sn_counter_step(&c, false, 5, 32, false, &w);
	ck_assert_int_eq(w, FP_SN_RESET);
	ck_assert(v == 5.0);
	/* Counter64 near its wrap */
	memset(&c, 0, sizeof(c));
	fp_sn_counter_step(&c, true, UINT64_MAX - 99, 64, false, &w);
	v = fp_sn_counter_step(&c, false, 50, 64, false, &w);
	ck_assert_int_eq(w, FP_SN_WRAP);
	ck_assert(v == 50.0 + 18446744073709551616.0);
	/* a reboot: the device's value again, whatever it is */
	v = fp_sn_counter_step(&c, false, 7, 64, true, &w);
	ck_assert_int_eq(w, FP_SN_REBOOT);
	ck_assert(v == 7.0);
}
END_TEST

START_TEST(test_rebooted)
{
	const int64_t s = 1000000000LL;

	/* sysUpTime went from 1000 s to 0.5 s in 10 s: a restart */
	ck_assert(fp_sn_rebooted(100000, 0, 50, 10 * s));
	/* going on: no restart */
	ck_assert(!fp_sn_rebooted(100000, 0, 101000, 10 * s));
	ck_assert(!fp_sn_rebooted(100000, 0, 100000, 0));
	/* the 497-day TimeTicks wrap: 1 s before it, then 1 s after */
	ck_assert(!fp_sn_rebooted(4294967295u - 100, 0, 100, 2 * s));
	/* a value far below what the time since allows is a restart, even
	 * late in the TimeTicks range */
	ck_assert(fp_sn_rebooted(4000000000u, 0, 5, 2 * s));
}
END_TEST

/* A profile: a scalar gauge, a counter column with a sum, a string. */
static void profile(struct fp_sn_object o[3])
{
	memset(o, 0, 3 * sizeof(*o));
	ck_assert_int_eq(fp_sn_oid_parse("1.3.6.1.2.1.33.1.4.4.1.4.1", &o[0].oid), 0);
	o[0].type = FP_SN_GAUGE;
	o[0].scale = 0.1;
	o[0].field = (char *)"power_w";
	ck_assert_int_eq(fp_sn_oid_parse("1.3.6.1.2.1.31.1.1.1.6", &o[1].oid), 0);
	o[1].type = FP_SN_COUNTER;
	o[1].scale = 1;
	o[1].field = (char *)"data_bytes";
	o[1].index = (char *)"interface";
	o[1].sum = (char *)"data_bytes";
	ck_assert_int_eq(fp_sn_oid_parse("1.3.6.1.2.1.1.5.0", &o[2].oid), 0);
	o[2].type = FP_SN_STRING;
	o[2].scale = 1;
	o[2].field = (char *)"sys_name";
}

static struct fp_sn_vb vb(const struct fp_sn_object *o, uint32_t row, int type, uint64_t u)
{
	static uint32_t arcs[8][FP_SN_OID_MAX + 1];
	static int slot;
	struct fp_sn_vb v;
	uint32_t *a = arcs[slot++ % 8];

	memcpy(a, o->oid.a, o->oid.n * sizeof(*a));
	memset(&v, 0, sizeof(v));
	v.oid = a;
	v.n = o->oid.n;
	if (o->index)
		a[v.n++] = row;
	v.type = type;
	v.u = u;
	v.i = (int64_t)u;
	return v;
}

static const struct fp_point *point_with(const struct fp_batch *b, const char *tag, const char *val)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		const char *t = fp_point_tag_value(&b->pts[i], tag);
		if (val ? t && !strcmp(t, val) : !t)
			return &b->pts[i];
	}
	return NULL;
}

START_TEST(test_poll_points)
{
	struct fp_sn_object o[3];
	struct fp_sn_poll *p;
	struct fp_sn_state st;
	struct fp_sn_devinfo di = { "s1", "router", "data_volume", NULL, NULL, 0 };
	struct fp_batch b;
	struct fp_sn_vb v;
	const struct fp_point *dev, *row;
	const char *why;
	size_t n;

	profile(o);
	memset(&st, 0, sizeof(st));
	p = fp_sn_poll_new(o, 3);
	v = vb(&o[0], 0, FP_SN_ASN_GAUGE32, 4321);
	ck_assert_int_eq(fp_sn_match(o, 3, v.oid, v.n), 0);
	ck_assert_int_eq(fp_sn_poll_add(p, 0, &v, &why), 0);
	v = vb(&o[1], 1, FP_SN_ASN_COUNTER64, 1000);
	ck_assert_int_eq(fp_sn_match(o, 3, v.oid, v.n), 1);
	ck_assert_int_eq(fp_sn_poll_add(p, 1, &v, &why), 0);
	v = vb(&o[1], 2, FP_SN_ASN_COUNTER64, 2500);
	ck_assert_int_eq(fp_sn_poll_add(p, 1, &v, &why), 0);
	/* the same row twice: dropped, said */
	why = NULL;
	ck_assert_int_eq(fp_sn_poll_add(p, 1, &v, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	fp_batch_init(&b);
	n = fp_sn_poll_points(p, &st, &di, 1000, 1000, &b);
	fp_sn_poll_free(p);
	ck_assert_uint_ge(n, 3);
	dev = point_with(&b, "interface", NULL);
	ck_assert_ptr_nonnull(dev);
	ck_assert_str_eq(fp_point_tag_value(dev, "device"), "router");
	ck_assert(fabs(fp_point_field(dev, "power_w")->v.f - 432.1) < 1e-9);
	/* a row was dropped: the column's sum is left out */
	ck_assert_ptr_null(fp_point_field(dev, "data_bytes"));
	row = point_with(&b, "interface", "2");
	ck_assert_ptr_nonnull(row);
	ck_assert(fp_point_field(row, "data_bytes")->v.f == 2500);
	fp_batch_reset(&b);

	/* a clean poll: the sum is there; wrong types and noSuchInstance
	 * cost their value only */
	p = fp_sn_poll_new(o, 3);
	v = vb(&o[0], 0, FP_SN_NOSUCHINSTANCE, 0);
	why = NULL;
	ck_assert_int_eq(fp_sn_poll_add(p, 0, &v, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	v = vb(&o[2], 0, FP_SN_ASN_INTEGER, 5);
	why = NULL;
	ck_assert_int_eq(fp_sn_poll_add(p, 2, &v, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	v = vb(&o[1], 1, FP_SN_ASN_COUNTER64, 1500);
	ck_assert_int_eq(fp_sn_poll_add(p, 1, &v, &why), 0);
	v = vb(&o[1], 2, FP_SN_ASN_COUNTER64, 3000);
	ck_assert_int_eq(fp_sn_poll_add(p, 1, &v, &why), 0);
	fp_batch_init(&b);
	fp_sn_poll_points(p, &st, &di, 2000, 2000, &b);
	fp_sn_poll_free(p);
	dev = point_with(&b, "interface", NULL);
	ck_assert_ptr_nonnull(dev);
	ck_assert_ptr_null(fp_point_field(dev, "power_w"));
	ck_assert(fp_point_field(dev, "data_bytes")->v.f == 4500);
	fp_batch_reset(&b);
	/* an OID that is neither a scalar of the profile nor under a column */
	{
		uint32_t other[] = { 1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1 };
		ck_assert_int_eq(fp_sn_match(o, 3, other, 11), -1);
	}
	fp_sn_state_free(&st);
}
END_TEST

/* index_suffix and per-row digits/si_prefix (ENTITY-SENSOR-MIB, PDU2-MIB):
 * a value column, its digits and SI-prefix helper columns of the same
 * rows; a row whose helper is missing or out of range is not written and
 * the column's sum is left out. */
START_TEST(test_row_scale)
{
	struct fp_sn_object o[3];
	struct fp_sn_poll *p;
	struct fp_sn_state st;
	struct fp_sn_devinfo di = { "s1", "pdu", "it", NULL, NULL, 0 };
	struct fp_batch b;
	struct fp_sn_vb v;
	const struct fp_point *r;
	const char *why;
	uint32_t a[16];

	memset(o, 0, sizeof(o));
	memset(&st, 0, sizeof(st));
	for (int k = 0; k < 3; k++) {
		char oid[32];
		snprintf(oid, sizeof(oid), "1.3.6.1.2.1.99.1.1.1.%d", k == 0 ? 4 : k == 1 ? 3 : 2);
		ck_assert_int_eq(fp_sn_oid_parse(oid, &o[k].oid), 0);
		o[k].type = FP_SN_NUMBER;
		o[k].scale = 1;
		o[k].index = (char *)"sensor";
		o[k].field = (char *)(k ? "(helper)" : "value");
		o[k].hidden = k > 0;
	}
	o[0].sum = (char *)"total";
	o[0].digits_from = 2;
	o[0].prefix_from = 3;
	p = fp_sn_poll_new(o, 3);
	/* rows 1 (milli, precision 0), 2 (kilo, precision 2), 3 (no precision) */
	v = vb(&o[0], 1, FP_SN_ASN_INTEGER, 6520);
	ck_assert_int_eq(fp_sn_poll_add(p, 0, &v, &why), 0);
	v = vb(&o[0], 2, FP_SN_ASN_INTEGER, 1234);
	ck_assert_int_eq(fp_sn_poll_add(p, 0, &v, &why), 0);
	v = vb(&o[0], 3, FP_SN_ASN_INTEGER, 77);
	ck_assert_int_eq(fp_sn_poll_add(p, 0, &v, &why), 0);
	v = vb(&o[1], 1, FP_SN_ASN_INTEGER, 0);
	ck_assert_int_eq(fp_sn_poll_add(p, 1, &v, &why), 0);
	v = vb(&o[1], 2, FP_SN_ASN_INTEGER, 2);
	ck_assert_int_eq(fp_sn_poll_add(p, 1, &v, &why), 0);
	v = vb(&o[2], 1, FP_SN_ASN_INTEGER, 8);
	ck_assert_int_eq(fp_sn_poll_add(p, 2, &v, &why), 0);
	v = vb(&o[2], 2, FP_SN_ASN_INTEGER, 10);
	ck_assert_int_eq(fp_sn_poll_add(p, 2, &v, &why), 0);
	v = vb(&o[2], 3, FP_SN_ASN_INTEGER, 9);
	ck_assert_int_eq(fp_sn_poll_add(p, 2, &v, &why), 0);
	fp_batch_init(&b);
	fp_sn_poll_points(p, &st, &di, 1000, 1000, &b);
	fp_sn_poll_free(p);
	r = point_with(&b, "sensor", "1");
	ck_assert_ptr_nonnull(r);
	ck_assert(fp_point_field(r, "value")->v.f == 6.52);
	ck_assert_ptr_null(fp_point_field(r, "(helper)"));
	r = point_with(&b, "sensor", "2");
	ck_assert(fp_point_field(r, "value")->v.f == 12340);
	ck_assert_ptr_null(point_with(&b, "sensor", "3"));
	ck_assert_ptr_null(point_with(&b, "sensor", NULL)); /* no sum: row 3 unscaled */
	fp_batch_reset(&b);

	/* index_suffix: only rows ending .5, cut from the row */
	o[0].suffix.n = 1;
	o[0].suffix.a[0] = 5;
	o[0].digits_from = o[0].prefix_from = 0;
	p = fp_sn_poll_new(o, 1);
	memcpy(a, o[0].oid.a, o[0].oid.n * sizeof(*a));
	a[o[0].oid.n] = 7;
	a[o[0].oid.n + 1] = 4;
	v.oid = a;
	v.n = o[0].oid.n + 2;
	v.i = 77;
	ck_assert_int_eq(fp_sn_poll_add(p, 0, &v, &why), 1);
	a[o[0].oid.n + 1] = 5;
	ck_assert_int_eq(fp_sn_poll_add(p, 0, &v, &why), 0);
	v.n = o[0].oid.n + 1; /* the suffix alone is no row */
	a[o[0].oid.n] = 5;
	ck_assert_int_eq(fp_sn_poll_add(p, 0, &v, &why), 1);
	fp_batch_init(&b);
	fp_sn_poll_points(p, &st, &di, 2000, 2000, &b);
	fp_sn_poll_free(p);
	ck_assert_ptr_nonnull(point_with(&b, "sensor", "7"));
	ck_assert(fp_point_field(point_with(&b, "sensor", NULL), "total")->v.f == 77);
	fp_batch_reset(&b);
	fp_sn_state_free(&st);
}
END_TEST

static Suite *snmp_suite(void)
{
	Suite *s = suite_create("snmp");
	TCase *t = tcase_create("decode");

	tcase_add_test(t, test_oid_parse);
	tcase_add_test(t, test_counter_steps);
	tcase_add_test(t, test_rebooted);
	tcase_add_test(t, test_poll_points);
	tcase_add_test(t, test_row_scale);
	suite_add_tcase(s, t);
	return s;
}

FP_CHECK_MAIN(snmp_suite)
