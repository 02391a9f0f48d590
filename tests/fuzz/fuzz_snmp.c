/* fuzz_snmp.c - the SNMP collector's response decoding: arbitrary
 * varbinds (OIDs, type tags, values, strings) against a profile of
 * scalars and table columns of every type (with per-row digits and SI
 * prefix, and an index_suffix), over three polls sharing the
 * device's counter state (wraps, resets, reboots); and OID parsing of
 * arbitrary text. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sn_decode.h"

/* A profile with a scalar and a column of each type, and a column sum. */
static const struct {
	const char *oid;
	enum fp_sn_type type;
	double scale;
	const char *field, *index, *sum;
} profile[] = {
	{ "1.3.6.1.2.1.1.3.0", FP_SN_TIMETICKS, 1, "uptime_s", NULL, NULL },
	{ "1.3.6.1.2.1.33.1.4.4.1.4", FP_SN_GAUGE, 1, "power_w", "phase", "power_w" },
	{ "1.3.6.1.2.1.31.1.1.1.6", FP_SN_COUNTER, 8, "data_bytes", "interface", "data_bytes" },
	{ "1.3.6.1.2.1.33.1.2.3.0", FP_SN_INTEGER, 0.1, "battery_min", NULL, NULL },
	{ "1.3.6.1.2.1.1.5.0", FP_SN_STRING, 1, "sys_name", NULL, NULL },
	{ "1.3.6.1.4.1.318.1.1.26.9.4.3.1.7", FP_SN_NUMBER, 0.1, "current_a", "outlet", NULL },
	/* a value with per-row digits and SI prefix (6, helpers 7 and 8) */
	{ "1.3.6.1.2.1.99.1.1.1.4", FP_SN_NUMBER, 1, "value", "sensor", "total" },
	{ "1.3.6.1.2.1.99.1.1.1.3", FP_SN_NUMBER, 1, "(digits)", "sensor", NULL },
	{ "1.3.6.1.2.1.99.1.1.1.2", FP_SN_NUMBER, 1, "(si_prefix)", "sensor", NULL },
	/* rows ending .5 of a column indexed by sensor type (9) */
	{ "1.3.6.1.4.1.13742.6.5.4.3.1.4", FP_SN_NUMBER, 0.001, "energy_kwh", "outlet", NULL },
};
#define NOBJ (sizeof(profile) / sizeof(profile[0]))

struct reader {
	const uint8_t *d;
	size_t n, at;
};

static int byte(struct reader *r)
{
	return r->at < r->n ? r->d[r->at++] : -1;
}

static uint64_t u64(struct reader *r)
{
	uint64_t v = 0;
	int i, b;

	for (i = 0; i < 8 && (b = byte(r)) >= 0; i++)
		v = v << 8 | (uint64_t)b;
	return v;
}

/* One poll from the input: varbinds until the input or the budget ends.
 * A record: OID length (arcs), an object to sit under (or a raw OID),
 * the arcs, a type tag, a value, a string. */
static void poll_once(struct reader *r, const struct fp_sn_object *objs, struct fp_sn_state *st,
		      int64_t t)
{
	struct fp_sn_poll *p = fp_sn_poll_new(objs, NOBJ);
	static const int tags[] = {
		FP_SN_ASN_INTEGER,   FP_SN_ASN_OCTET_STR, FP_SN_ASN_NULL,     FP_SN_ASN_OBJECT_ID,
		FP_SN_ASN_IPADDRESS, FP_SN_ASN_COUNTER32, FP_SN_ASN_GAUGE32,  FP_SN_ASN_TIMETICKS,
		FP_SN_ASN_OPAQUE,    FP_SN_ASN_COUNTER64, FP_SN_NOSUCHOBJECT, FP_SN_NOSUCHINSTANCE,
		FP_SN_ENDOFMIBVIEW,
	};
	struct fp_sn_devinfo di = { "site", "dev", "it", "it", NULL, 0 };
	struct fp_batch b;
	int budget = 64, c;

	while (budget-- > 0 && (c = byte(r)) >= 0) {
		uint32_t arcs[FP_SN_OID_MAX + 4];
		size_t n = 0, extra = (size_t)(c & 7), k;
		char s[FP_SN_STRING_MAX + 8];
		const struct fp_sn_object *o = &objs[(size_t)(c >> 3) % NOBJ];
		struct fp_sn_vb vb;
		const char *why = NULL;
		int m, t8;

		if (c & 0x80) { /* an OID of its own */
			n = (size_t)(byte(r) & 0x7f) % (FP_SN_OID_MAX + 3);
			for (k = 0; k < n; k++)
				arcs[k] = (uint32_t)u64(r);
		} else { /* under (or at) an object of the profile */
			memcpy(arcs, o->oid.a, o->oid.n * sizeof(arcs[0]));
			n = o->oid.n;
			for (k = 0; k < extra && n < FP_SN_OID_MAX + 4; k++)
				arcs[n++] = (uint32_t)(byte(r) & 0xff);
		}
		t8 = byte(r);
		vb.oid = arcs;
		vb.n = n;
		vb.type = t8 < 0 ? FP_SN_ASN_NULL
				 : tags[(size_t)t8 % (sizeof(tags) / sizeof(tags[0]))];
		vb.u = u64(r);
		vb.i = (int64_t)vb.u;
		vb.slen = (size_t)(byte(r) & 0xff);
		for (k = 0; k < vb.slen; k++)
			s[k] = (char)byte(r);
		vb.s = s;
		m = fp_sn_match(objs, NOBJ, arcs, n);
		if (m >= 0 && fp_sn_poll_add(p, (size_t)m, &vb, &why) < 0 && !why)
			abort(); /* a dropped value always says why */
		if (m >= 0 && (c & 0x40))
			fp_sn_poll_incomplete(p, (size_t)m);
		if (c == 0x3f)
			fp_sn_poll_uptime(p, (uint32_t)vb.u);
	}
	fp_batch_init(&b);
	fp_sn_poll_points(p, st, &di, t, t, &b);
	fp_batch_reset(&b);
	fp_sn_poll_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_sn_object objs[NOBJ];
	struct fp_sn_state st;
	struct fp_sn_oid o;
	struct reader r = { data, size, 0 };
	char text[128];
	size_t i;

	/* OID text */
	i = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, i);
	text[i] = 0;
	if (fp_sn_oid_parse(text, &o) == 0) {
		char back[1024];
		fp_sn_oid_format(o.a, o.n, back, sizeof(back));
	}
	memset(objs, 0, sizeof(objs));
	for (i = 0; i < NOBJ; i++) {
		if (fp_sn_oid_parse(profile[i].oid, &objs[i].oid) < 0)
			abort();
		objs[i].type = profile[i].type;
		objs[i].scale = profile[i].scale;
		objs[i].field = (char *)profile[i].field;
		objs[i].index = (char *)profile[i].index;
		objs[i].sum = (char *)profile[i].sum;
	}
	objs[6].digits_from = 8;
	objs[6].prefix_from = 9;
	objs[7].hidden = objs[8].hidden = true;
	objs[9].suffix.a[0] = 5;
	objs[9].suffix.n = 1;
	memset(&st, 0, sizeof(st));
	poll_once(&r, objs, &st, 1000000000LL);
	poll_once(&r, objs, &st, 61000000000LL);
	poll_once(&r, objs, &st, 121000000000LL);
	fp_sn_state_free(&st);
	return 0;
}
