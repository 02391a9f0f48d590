/* check_mqtt.c - MQTT payload parsing: templates, value and json formats,
 * the presets on the fixture payloads, lifecycle events, bad input. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_check.h"
#include "lineproto.h"
#include "mq_parse.h"

/* The reception time of every message: 2025-03-15T00:53:20Z (the
 * timestamps of the fixtures are before it, within the default window). */
#define NOW 1742000000000000000LL
#define NOW_S "1742000000000000000"

static struct fp_mq_sub preset(enum fp_mq_format f)
{
	struct fp_mq_sub s;

	memset(&s, 0, sizeof(s));
	s.format = f;
	s.max_payload = 65536;
	fp_mq_sub_set_preset(&s);
	return s;
}

/* Parses, encodes the points, returns the text (static). */
static const char *run(const struct fp_mq_sub *s, const char *topic, const char *payload, int *n,
		       const char **why)
{
	static char text[4096];
	struct fp_batch b;
	struct fp_buf out;

	fp_batch_init(&b);
	*n = fp_mq_parse(s, "dc1", topic, payload, strlen(payload), NOW, &b, why);
	fp_buf_init(&out, 1 << 20);
	fp_lp_encode_batch(&out, &b, FP_PREC_NS, NULL);
	snprintf(text, sizeof(text), "%s", out.data ? out.data : "");
	fp_buf_reset(&out);
	fp_batch_reset(&b);
	return text;
}

START_TEST(test_mqtt_tasmota_single_and_array)
{
	struct fp_mq_sub s = preset(FP_MQ_TASMOTA);
	const char *why, *t;
	int n;

	t = run(&s, "tele/rack12-pdu-a/SENSOR",
		"{\"Time\":\"2025-03-14T10:25:00\",\"ENERGY\":{\"TotalStartTime\":\"2023-11-02T09:14:51\","
		"\"Total\":1873.402,\"Yesterday\":5.118,\"Today\":2.377,\"Period\":18,\"Power\":214,"
		"\"ApparentPower\":226,\"ReactivePower\":72,\"Factor\":0.95,\"Voltage\":231,\"Current\":0.978}}",
		&n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(
		t,
		"meter,device=rack12-pdu-a,role=other,site=dc1,source=mqtt "
		"energy_import_kwh=1873.402,power_w=214,apparent_power_va=226,"
		"reactive_power_var=72,power_factor=0.95,voltage_v=231,current_a=0.978 " NOW_S
		"\n");
	t = run(&s, "tele/rack12-pdu-b/SENSOR",
		"{\"ENERGY\":{\"Total\":[412.813,96.254],\"Power\":[108,26],\"Voltage\":229}}", &n,
		&why);
	ck_assert_int_eq(n, 3); /* channels 1 and 2, and the shared voltage */
	ck_assert_ptr_nonnull(
		strstr(t,
		       "meter,channel=2,device=rack12-pdu-b,role=other,site=dc1,source=mqtt "
		       "energy_import_kwh=96.254,power_w=26 " NOW_S "\n"));
	ck_assert_ptr_nonnull(strstr(t, "source=mqtt voltage_v=229 " NOW_S "\n"));
	/* LWT: not a telemetry topic of the preset: ignored, not malformed */
	t = run(&s, "tele/rack12-pdu-a/LWT", "Online", &n, &why);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_mqtt_shelly_gen1_watt_minutes)
{
	struct fp_mq_sub s = preset(FP_MQ_SHELLY1);
	const char *why, *t;
	int n;

	t = run(&s, "shellies/shellyplug-s-C18B12/relay/0/energy", "3462871", &n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(
		t,
		"meter,channel=0,device=shellyplug-s-C18B12,role=other,site=dc1,source=mqtt "
		"energy_import_kwh=57.71451666666667 " NOW_S "\n");
	t = run(&s, "shellies/shellyem-B7E9A3/emeter/0/total", "9521483.6", &n, &why);
	ck_assert_ptr_nonnull(strstr(t, "energy_import_kwh=9521.4836"));
	t = run(&s, "shellies/shellyplug-s-C18B12/online", "true", &n, &why);
	ck_assert_int_eq(n, 0);
	t = run(&s, "shellies/shellyplug-s-C18B12/relay/0/power", "eighty", &n, &why);
	ck_assert_int_eq(n, -1);
	ck_assert_str_eq(why, "the payload is not a number");
}
END_TEST

START_TEST(test_mqtt_shelly_gen2_status_rpc_em)
{
	struct fp_mq_sub s = preset(FP_MQ_SHELLY2);
	const char *why, *t;
	int n;

	t = run(&s, "shellyplus1pm-a8032ab12345/status/switch:0",
		"{\"id\":0,\"apower\":412.6,\"voltage\":231.4,\"freq\":50.0,\"current\":1.852,"
		"\"aenergy\":{\"total\":48213.472,\"by_minute\":[1,2,3],\"minute_ts\":1741947900}}",
		&n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(
		t,
		"meter,channel=0,device=shellyplus1pm-a8032ab12345,role=other,site=dc1,"
		"source=mqtt power_w=412.6,voltage_v=231.4,current_a=1.852,frequency_hz=50,"
		"energy_import_kwh=48.213472 " NOW_S "\n");
	t = run(&s, "shellyplus1pm-a8032ab12345/events/rpc",
		"{\"method\":\"NotifyStatus\",\"params\":{\"ts\":1741947960.21,\"switch:0\":{\"id\":0,\"apower\":398.1}}}",
		&n, &why);
	ck_assert_str_eq(t,
			 "meter,device=shellyplus1pm-a8032ab12345,role=other,site=dc1,source=mqtt "
			 "power_w=398.1 1741947960210000000\n");
	t = run(&s, "shellypro3em-3ce90e6f1a2b/status/em:0",
		"{\"id\":0,\"a_act_power\":2790.5,\"b_act_power\":2652.1,\"c_act_power\":2946.7,"
		"\"total_act_power\":8389.3}",
		&n, &why);
	ck_assert_int_eq(n, 4);
	ck_assert_ptr_nonnull(strstr(t, "phase=B,role=other,site=dc1,source=mqtt power_w=2652.1"));
}
END_TEST

START_TEST(test_mqtt_json_selectors_and_time)
{
	struct fp_mq_selector sels[] = {
		{ .path = "m.p[1]", .field = "power_w", .scale = 1 },
		{ .path = "m.e", .field = "energy_import_kwh", .scale = 0.001 },
	};
	struct fp_mq_sub s;
	const char *why, *t;
	int n;

	memset(&s, 0, sizeof(s));
	s.format = FP_MQ_JSON;
	s.max_payload = 1024;
	s.role = "it";
	s.own.tmpl = "site/{zone}/{device}";
	s.own.json = true;
	s.own.sels = sels;
	s.own.nsels = 2;
	s.own.time_path = "t";
	s.own.time_format = FP_MQ_TIME_RFC3339;
	fp_mq_sub_set_preset(&s);
	t = run(&s, "site/hall-1/pdu 7",
		"{\"m\":{\"p\":[1,250.5],\"e\":1500},\"t\":\"2025-03-14T10:25:00.5+01:00\"}", &n,
		&why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(
		t,
		"meter,device=pdu\\ 7,role=it,site=dc1,source=mqtt,zone=hall-1 power_w=250.5,"
		"energy_import_kwh=1.5 1741944300500000000\n");
	/* a field missing in a message is simply absent */
	t = run(&s, "site/hall-1/pdu7", "{\"m\":{\"e\":2000}}", &n, &why);
	ck_assert_str_eq(
		t,
		"meter,device=pdu7,role=it,site=dc1,source=mqtt,zone=hall-1 energy_import_kwh=2 " NOW_S
		"\n");
	/* the topic does not fit the template */
	run(&s, "site/hall-1", "{\"m\":{\"e\":1}}", &n, &why);
	ck_assert_int_eq(n, -1);
	ck_assert_str_eq(why, "the topic does not fit the template");
	run(&s, "site/a/b", "{\"m\":{\"e\":1},\"t\":\"yesterday\"}", &n, &why);
	ck_assert_int_eq(n, -1);
}
END_TEST

START_TEST(test_mqtt_bad_input)
{
	struct fp_mq_sub s = preset(FP_MQ_TASMOTA);
	static char deep[400], big[70000];
	const char *why;
	int n, i;

	run(&s, "tele/x/SENSOR", "{\"ENERGY\":{\"Power\":", &n, &why);
	ck_assert_int_eq(n, -1);
	run(&s, "tele/x/SENSOR", "{\"ENERGY\":{\"Power\":1}} trailing", &n, &why);
	ck_assert_int_eq(n, -1);
	run(&s, "tele/x/SENSOR", "{\"ENERGY\":{\"Power\":\"\xff\xfe\"}}", &n, &why);
	ck_assert_int_eq(n, -1); /* not UTF-8 */
	for (i = 0; i < 100; i++)
		deep[i] = '[';
	run(&s, "tele/x/SENSOR", deep, &n, &why);
	ck_assert_int_eq(n, -1);
	ck_assert_str_eq(why, "JSON nested too deeply");
	memset(big, ' ', sizeof(big) - 1);
	run(&s, "tele/x/SENSOR", big, &n, &why);
	ck_assert_int_eq(n, -1);
	ck_assert_str_eq(why, "payload larger than max_payload");
	run(&s, "tele/x/SENSOR", "{\"ENERGY\":{\"Power\":[\"a\",{}]}}", &n, &why);
	ck_assert_int_eq(n, 0); /* wrong types: no field, nothing written */
}
END_TEST

START_TEST(test_mqtt_lifecycle)
{
	struct fp_mq_sub s = preset(FP_MQ_LIFECYCLE);
	const char *why, *t;
	int n;

	t = run(&s, "assets/events",
		"{\"event_id\":\"ev-1\",\"asset_id\":\"srv-0042\",\"event\":\"decommissioned\","
		"\"time\":\"2025-03-14T10:25:00Z\",\"category\":\"0302\",\"mass_kg\":18.5,"
		"\"destination\":\"recycler A\"}",
		&n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(
		t,
		"asset_event,category=0302,event=decommissioned,site=dc1 asset_id=\"srv-0042\","
		"event_id=\"ev-1\",mass_kg=18.5,destination=\"recycler A\" 1741947900000000000\n");
	run(&s, "assets/events",
	    "{\"event_id\":\"e\",\"asset_id\":\"a\",\"event\":\"stolen\",\"time\":\"2025-03-14T10:25:00Z\"}",
	    &n, &why);
	ck_assert_int_eq(n, -1);
	run(&s, "assets/events",
	    "{\"asset_id\":\"a\",\"event\":\"spare\",\"time\":\"2025-03-14T10:25:00Z\"}", &n, &why);
	ck_assert_int_eq(n, -1);
	run(&s, "assets/events",
	    "{\"event_id\":\"e\",\"asset_id\":\"a\",\"event\":\"spare\",\"time\":\"2025-03-14 10:25\"}",
	    &n, &why);
	ck_assert_int_eq(n, -1);
	run(&s, "assets/events",
	    "{\"event_id\":\"e\",\"asset_id\":\"a\",\"event\":\"spare\",\"time\":\"2025-03-14T10:25:00Z\",\"mass_kg\":-1}",
	    &n, &why);
	ck_assert_int_eq(n, -1);
}
END_TEST

/* Foreign events through a map: Zigbee2MQTT's bridge/event and an asset
 * tool's own JSON with a numeric id and epoch times. */
START_TEST(test_mqtt_lifecycle_map)
{
	struct fp_mq_sub s = preset(FP_MQ_LIFECYCLE);
	const char *names[] = { "device_joined", "device_leave" };
	const char *to[] = { "in_service", "spare" };
	struct fp_mq_lcmap m = { .names = names, .to = to, .nnames = 2 };
	const char *why, *t;
	char first[1024];
	int n;

	m.path[1] = "data.ieee_address";
	m.path[2] = "type";
	m.dflt[3] = "0301";
	m.dflt[8] = "6";
	s.lcmap = &m;
	t = run(&s, "zigbee2mqtt/bridge/event",
		"{\"type\":\"device_joined\",\"data\":{\"friendly_name\":\"plug-7\","
		"\"ieee_address\":\"0x90fd9ffffe6494fc\"}}",
		&n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(t,
			 "asset_event,category=0301,event=in_service,site=dc1 "
			 "asset_id=\"0x90fd9ffffe6494fc\",event_id=\"zigbee2mqtt/bridge/"
			 "event:device_joined:0x90fd9ffffe6494fc:" NOW_S "\","
			 "expected_life_y=6 " NOW_S "\n");
	snprintf(first, sizeof(first), "%s", t);
	/* the same message again: the same event id (idempotent) */
	t = run(&s, "zigbee2mqtt/bridge/event",
		"{\"type\":\"device_joined\",\"data\":{\"friendly_name\":\"plug-7\","
		"\"ieee_address\":\"0x90fd9ffffe6494fc\"}}",
		&n, &why);
	ck_assert_str_eq(t, first);
	t = run(&s, "zigbee2mqtt/bridge/event",
		"{\"type\":\"device_leave\",\"data\":{\"ieee_address\":\"0x90fd9ffffe6494fc\"}}",
		&n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(t, "event=spare"));
	/* events the table does not list are ignored, not errors */
	run(&s, "zigbee2mqtt/bridge/event",
	    "{\"type\":\"device_interview\",\"data\":{\"ieee_address\":\"0x1\"}}", &n, &why);
	ck_assert_int_eq(n, 0);
	/* no asset id where the map says */
	run(&s, "zigbee2mqtt/bridge/event", "{\"type\":\"device_joined\",\"data\":{}}", &n, &why);
	ck_assert_int_eq(n, -1);
	ck_assert_str_eq(why, "the map's asset_id path gives no asset id (a string or an integer)");

	/* an asset tool: its own names, a numeric id, its event id and epoch_s time */
	memset(&m, 0, sizeof(m));
	m.path[0] = "uuid";
	m.path[1] = "asset.number";
	m.path[2] = "action";
	m.path[3] = "asset.unu";
	m.path[6] = "asset.weight";
	m.path[5] = "to";
	s.own.time_path = "at";
	s.own.time_format = FP_MQ_TIME_EPOCH_S;
	t = run(&s, "itam/out",
		"{\"uuid\":\"u-9\",\"action\":\"recycled\",\"at\":1741947900,\"to\":\"ATF 42\","
		"\"asset\":{\"number\":4711,\"unu\":\"0302\",\"weight\":\"9.5\"}}",
		&n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(t,
			 "asset_event,category=0302,event=recycled,site=dc1 asset_id=\"4711\","
			 "event_id=\"u-9\",mass_kg=9.5,destination=\"ATF 42\" "
			 "1741947900000000000\n");
	/* without a table the names must be lifecycle events */
	run(&s, "itam/out", "{\"uuid\":\"u-10\",\"action\":\"scrapped\",\"asset\":{\"number\":1}}",
	    &n, &why);
	ck_assert_int_eq(n, -1);
	/* a time in milliseconds where seconds are configured */
	run(&s, "itam/out",
	    "{\"uuid\":\"u-11\",\"action\":\"spare\",\"at\":1741947900000,\"asset\":{\"number\":1}}",
	    &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
}
END_TEST

START_TEST(test_mqtt_template_levels)
{
	struct fp_batch b;
	struct fp_point *p;

	fp_batch_init(&b);
	p = fp_batch_add(&b, "m", 0);
	ck_assert(fp_mq_template("{device}/status/switch:{channel}", "plug1/status/switch:2", p));
	ck_assert_str_eq(fp_point_tag_value(p, "device"), "plug1");
	ck_assert_str_eq(fp_point_tag_value(p, "channel"), "2");
	ck_assert(!fp_mq_template("{device}/status/switch:{channel}", "plug1/status/em:2", p));
	ck_assert(!fp_mq_template("tele/{device}/SENSOR", "tele//SENSOR", p));
	ck_assert(!fp_mq_template("tele/{device}/SENSOR", "tele/a/SENSOR/x", p));
	ck_assert(fp_mq_template("tele/+/{device}/#", "tele/x/dev/a/b", p));
	ck_assert_int_eq(fp_mq_rfc3339("2025-03-14T10:25:00Z"), 1741947900000000000LL);
	ck_assert_int_eq(fp_mq_rfc3339("2025-03-14T10:25:00"), -1);
	fp_batch_reset(&b);
}
END_TEST

/* A json subscription with a timestamp selector t of format tf. */
static struct fp_mq_sub timed(enum fp_mq_time tf, struct fp_mq_selector *sel)
{
	struct fp_mq_sub s;

	memset(&s, 0, sizeof(s));
	s.format = FP_MQ_JSON;
	s.max_payload = 1024;
	s.own.json = true;
	s.own.sels = sel;
	s.own.nsels = 1;
	s.own.time_path = "t";
	s.own.time_format = tf;
	fp_mq_sub_set_preset(&s);
	return s;
}

/* Issue #20: a timestamp outside the window is rejected (never wrapped:
 * ms given as epoch_s was stored in 2186, year 2600 in 2015, with signed
 * overflow), and a unit mistake is named. */
START_TEST(test_mqtt_time_window)
{
	struct fp_mq_selector sel = { .path = "p", .field = "power_w", .scale = 1 };
	struct fp_mq_sub s = timed(FP_MQ_TIME_EPOCH_S, &sel);
	struct fp_mq_sub ms = timed(FP_MQ_TIME_EPOCH_MS, &sel);
	struct fp_mq_sub rfc = timed(FP_MQ_TIME_RFC3339, &sel);
	struct fp_mq_sub sh2 = preset(FP_MQ_SHELLY2), lc = preset(FP_MQ_LIFECYCLE);
	const char *why, *t;
	int n;

	t = run(&s, "x", "{\"p\":1,\"t\":1741947960.5}", &n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(t, " 1741947960500000000\n"));
	t = run(&ms, "x", "{\"p\":1,\"t\":1741947960123}", &n, &why);
	ck_assert_ptr_nonnull(strstr(t, " 1741947960123000000\n"));
	/* milliseconds given as seconds: was year 2186 */
	t = run(&s, "x", "{\"p\":1,\"t\":1741947960123}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	ck_assert_str_eq(t, "");
	ck_assert_str_eq(why, "the timestamp looks like milliseconds, not seconds");
	run(&s, "x", "{\"p\":1,\"t\":\"1741947960123456\"}", &n, &why);
	ck_assert_str_eq(why, "the timestamp looks like microseconds, not seconds");
	run(&s, "x", "{\"p\":1,\"t\":1741947960123456789}", &n, &why);
	ck_assert_str_eq(why, "the timestamp looks like nanoseconds, not seconds");
	run(&ms, "x", "{\"p\":1,\"t\":1741947960}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	ck_assert_str_eq(why, "the timestamp looks like seconds, not milliseconds");
	/* the largest numbers: rejected, no overflow (UBSan) */
	run(&s, "x", "{\"p\":1,\"t\":9.2e15}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	run(&ms, "x", "{\"p\":1,\"t\":9.2e15}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	run(&s, "x", "{\"p\":1,\"t\":1e308}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	ck_assert_str_eq(why, "the timestamp is after now + timestamp_ahead");
	run(&s, "x", "{\"p\":1,\"t\":12}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	ck_assert_str_eq(why, "the timestamp is before timestamp_min");
	/* not a time at all: malformed, as before */
	run(&s, "x", "{\"p\":1,\"t\":-5}", &n, &why);
	ck_assert_int_eq(n, -1);
	run(&s, "x", "{\"p\":1,\"t\":true}", &n, &why);
	ck_assert_int_eq(n, -1);
	/* a day ahead is accepted (clock skew), two are not */
	run(&s, "x", "{\"p\":1,\"t\":1742080000}", &n, &why);
	ck_assert_int_eq(n, 1);
	run(&s, "x", "{\"p\":1,\"t\":1742180000}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	/* RFC 3339: year 2600 was stored in 2015 */
	run(&rfc, "x", "{\"p\":1,\"t\":\"2600-01-01T00:00:00Z\"}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	ck_assert_str_eq(why, "the timestamp is after now + timestamp_ahead");
	run(&rfc, "x", "{\"p\":1,\"t\":\"9999-12-31T23:59:60-23:59\"}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	run(&rfc, "x", "{\"p\":1,\"t\":\"1999-12-31T23:59:59Z\"}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	run(&rfc, "x", "{\"p\":1,\"t\":\"0000-01-01T00:00:00+23:59\"}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	run(&rfc, "x", "{\"p\":1,\"t\":1741947960}", &n, &why);
	ck_assert_int_eq(n, -1);
	/* the window is the agent's (copied into the subscription) */
	rfc.tw.min_s = 1741910400; /* 2025-03-14 */
	rfc.tw.ahead_s = 60;
	run(&rfc, "x", "{\"p\":1,\"t\":\"2025-03-13T23:59:59Z\"}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	run(&rfc, "x", "{\"p\":1,\"t\":\"2025-03-14T00:00:00Z\"}", &n, &why);
	ck_assert_int_eq(n, 1);
	run(&rfc, "x", "{\"p\":1,\"t\":\"2025-03-15T00:55:00Z\"}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	/* a preset's time: Shelly's ts in milliseconds */
	run(&sh2, "plug/events/rpc",
	    "{\"params\":{\"ts\":1741947960210,\"switch:0\":{\"apower\":1}}}", &n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	ck_assert_str_eq(why, "the timestamp looks like milliseconds, not seconds");
	/* a lifecycle event in 2600 */
	t = run(&lc, "assets/events",
		"{\"event_id\":\"e\",\"asset_id\":\"a\",\"event\":\"spare\","
		"\"time\":\"2600-01-01T00:00:00Z\"}",
		&n, &why);
	ck_assert_int_eq(n, FP_MQ_BAD_TIME);
	ck_assert_str_eq(t, "");
}
END_TEST

/* The RFC 3339 reader: exact to the ns, strict, no overflow and no read
 * past the end of a cut string (ASan). */
START_TEST(test_mqtt_rfc3339_reader)
{
	static const char *const bad[] = {
		"2025-03-14T10:25:00",	     "2025-3-14T10:25:00Z",    "2025-03-14 10:25:00Z",
		"2025-02-29T00:00:00Z",	     "2025-04-31T00:00:00Z",   "2025-03-14T24:00:00Z",
		"2025-03-14T10:25:00+",	     "2025-03-14T10:25:00+01", "2025-03-14T10:25:00+01:",
		"2025-03-14T10:25:00+01:0",  "2025-03-14T10:25:00.Z",  "2025-03-14T10:25:00Zx",
		"12025-03-14T10:25:00Z",     "+025-03-14T10:25:00Z",   "",
		"2025-03-14T10:25:00+24:00",
	};
	int64_t sec;
	int32_t ns;
	size_t i;

	ck_assert_int_eq(fp_mq_rfc3339("2025-03-14T10:25:00Z"), 1741947900000000000LL);
	ck_assert_int_eq(fp_mq_rfc3339("2025-03-14t10:25:00.123456789123z"), 1741947900123456789LL);
	ck_assert_int_eq(fp_mq_rfc3339("2025-03-14T11:25:00+01:00"), 1741947900000000000LL);
	ck_assert_int_eq(fp_mq_rfc3339("2024-02-29T00:00:00Z"), 1709164800000000000LL);
	ck_assert_int_eq(fp_mq_rfc3339("2600-01-01T00:00:00Z"), -1); /* past 2262 */
	ck_assert_int_eq(fp_mq_rfc3339("1969-12-31T23:59:59Z"), -1);
	ck_assert_int_eq(fp_time_parse_rfc3339("2600-01-01T00:00:00Z", &sec, &ns), 0);
	ck_assert_int_eq(sec, 19880899200LL);
	ck_assert_int_eq(fp_time_parse_rfc3339("1900-03-01T00:00:00Z", &sec, &ns), 0);
	ck_assert_int_eq(sec, -2203891200LL);
	for (i = 0; i < FP_ARRAY_SIZE(bad); i++) {
		char *cut = fp_xstrdup(bad[i]); /* exact size: ASan sees a read past it */
		ck_assert_msg(fp_time_parse_rfc3339(cut, &sec, &ns) < 0, "%s", bad[i]);
		free(cut);
	}
}
END_TEST

/* Issue #19: text states through a value map, with format value (an LWT,
 * true/false) and with JSON selectors; a string field; unmapped text is
 * malformed (value) or absent (json). */
START_TEST(test_mqtt_text_states)
{
	static const struct fp_mq_value onoff[] = {
		{ "ON", false, 1 },	{ "OFF", false, 0 },	   { "online", true, 1 },
		{ "offline", true, 0 }, { "Off line", false, -1 },
	};
	struct fp_mq_selector vsel = {
		.field = "state", .scale = 1, .values = onoff, .nvalues = 5
	};
	struct fp_mq_selector jsels[] = {
		{ .path = "state", .field = "relay", .scale = 1, .values = onoff, .nvalues = 5 },
		{ .path = "power", .field = "power_w", .scale = 1 },
		{ .path = "fw", .field = "firmware", .scale = 1, .type = FP_MQ_STRING },
	};
	struct fp_mq_sub s;
	const char *why, *t;
	int n;

	memset(&s, 0, sizeof(s));
	s.format = FP_MQ_VALUE;
	s.max_payload = 1024;
	s.own.tmpl = "lwt/{device}";
	s.own.sels = &vsel;
	s.own.nsels = 1;
	fp_mq_sub_set_preset(&s);
	t = run(&s, "lwt/plug1", "online", &n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(
		t, "meter,device=plug1,role=other,site=dc1,source=mqtt state=true " NOW_S "\n");
	t = run(&s, "lwt/plug1", " Offline\n", &n, &why); /* case and white space */
	ck_assert_str_eq(
		t, "meter,device=plug1,role=other,site=dc1,source=mqtt state=false " NOW_S "\n");
	t = run(&s, "lwt/plug1", "ON", &n, &why);
	ck_assert_ptr_nonnull(strstr(t, " state=1 "));
	t = run(&s, "lwt/plug1", "off line", &n, &why);
	ck_assert_ptr_nonnull(strstr(t, " state=-1 "));
	t = run(&s, "lwt/plug1", "12.5", &n, &why); /* numbers still read */
	ck_assert_ptr_nonnull(strstr(t, " state=12.5 "));
	t = run(&s, "lwt/plug1", "true", &n, &why); /* as a JSON boolean: 1 */
	ck_assert_ptr_nonnull(strstr(t, " state=1 "));
	t = run(&s, "lwt/plug1", "unknown", &n, &why);
	ck_assert_int_eq(n, -1);
	ck_assert_str_eq(t, "");
	ck_assert_str_eq(why, "the payload is not a number nor a state of values");
	vsel.nvalues = 0;
	run(&s, "lwt/plug1", "online", &n, &why);
	ck_assert_int_eq(n, -1);
	ck_assert_str_eq(why, "the payload is not a number");

	memset(&s, 0, sizeof(s));
	s.format = FP_MQ_JSON;
	s.max_payload = 1024;
	s.own.json = true;
	s.own.tmpl = "z2m/{device}";
	s.own.sels = jsels;
	s.own.nsels = 3;
	fp_mq_sub_set_preset(&s);
	t = run(&s, "z2m/plug2", "{\"state\":\"ON\",\"power\":12,\"fw\":\"1.2 \\\"b\\\"\"}", &n,
		&why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(t,
			 "meter,device=plug2,role=other,site=dc1,source=mqtt relay=1,power_w=12,"
			 "firmware=\"1.2 \\\"b\\\"\" " NOW_S "\n");
	t = run(&s, "z2m/plug2", "{\"state\":\"online\",\"fw\":7}", &n, &why);
	ck_assert_str_eq(t,
			 "meter,device=plug2,role=other,site=dc1,source=mqtt relay=true,"
			 "firmware=\"7\" " NOW_S "\n");
	/* an unmapped state is absent; alone, the message is ignored */
	t = run(&s, "z2m/plug2", "{\"state\":\"TOGGLE\",\"power\":3}", &n, &why);
	ck_assert_str_eq(
		t, "meter,device=plug2,role=other,site=dc1,source=mqtt power_w=3 " NOW_S "\n");
	run(&s, "z2m/plug2", "{\"state\":\"TOGGLE\"}", &n, &why);
	ck_assert_int_eq(n, 0);
	/* a string field takes no control character */
	run(&s, "z2m/plug2", "{\"fw\":\"a\\u0001b\"}", &n, &why);
	ck_assert_int_eq(n, 0);
}
END_TEST

/* Issue #19: a {field} level names the field (one subscription for all
 * of OpenDTU's quantities), renamed by level; a name topic. */
START_TEST(test_mqtt_field_from_topic)
{
	struct fp_mq_selector ren[] = {
		{ .path = "yieldtotal", .field = "energy_export_kwh", .scale = 1 },
		{ .path = "yieldday", .field = "energy_today_kwh", .scale = 0.001 },
	};
	struct fp_mq_sub s;
	const char *why, *t;
	char *dev, *name;
	int n;

	memset(&s, 0, sizeof(s));
	s.format = FP_MQ_VALUE;
	s.max_payload = 1024;
	s.role = "renewable_onsite";
	s.own.tmpl = "solar/{device}/{channel}/{field}";
	s.own.sels = ren;
	s.own.nsels = 2;
	s.field_from_topic = true;
	s.dflt.scale = 1;
	fp_mq_sub_set_preset(&s);
	t = run(&s, "solar/114190001/0/power", "231.4", &n, &why);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(t,
			 "meter,channel=0,device=114190001,role=renewable_onsite,site=dc1,"
			 "source=mqtt power=231.4 " NOW_S "\n");
	t = run(&s, "solar/114190001/0/yieldtotal", "1234.5", &n, &why);
	ck_assert_ptr_nonnull(strstr(t, " energy_export_kwh=1234.5 "));
	t = run(&s, "solar/114190001/0/yieldday", "1500", &n, &why);
	ck_assert_ptr_nonnull(strstr(t, " energy_today_kwh=1.5 "));
	run(&s, "solar/114190001/0/bad field!", "1", &n, &why);
	ck_assert_int_eq(n, -1);
	ck_assert_str_eq(why, "the topic's field level is not a valid field name");
	run(&s, "solar/114190001/name", "Roof", &n, &why);
	ck_assert_int_eq(n, -1); /* does not fit */

	ck_assert(!fp_mq_name_of(&s, "solar/114190001/name", "Roof", 4, &dev, &name));
	s.name_topic = "solar/{device}/name";
	ck_assert(fp_mq_name_of(&s, "solar/114190001/name", " Roof east\n", 11, &dev, &name));
	ck_assert_str_eq(dev, "114190001");
	ck_assert_str_eq(name, "Roof east");
	free(dev);
	free(name);
	ck_assert(fp_mq_name_of(&s, "solar/114190001/name", "", 0, &dev, &name));
	ck_assert_ptr_null(name); /* the name removed */
	free(dev);
	ck_assert(fp_mq_name_of(&s, "solar/1/name", "a\001b", 3, &dev, &name));
	ck_assert_ptr_null(name);
	free(dev);
	ck_assert(!fp_mq_name_of(&s, "solar/1/0/power", "1", 1, &dev, &name));
	name = fp_mq_template_filter("solar/{device}/x{ch}/name");
	ck_assert_str_eq(name, "solar/+/+/name");
	free(name);
}
END_TEST

static Suite *mqtt_suite(void)
{
	Suite *s = suite_create("mqtt");
	TCase *fmt = tcase_create("formats"), *bad = tcase_create("errors");

	tcase_add_test(fmt, test_mqtt_tasmota_single_and_array);
	tcase_add_test(fmt, test_mqtt_shelly_gen1_watt_minutes);
	tcase_add_test(fmt, test_mqtt_shelly_gen2_status_rpc_em);
	tcase_add_test(fmt, test_mqtt_json_selectors_and_time);
	tcase_add_test(fmt, test_mqtt_lifecycle);
	tcase_add_test(fmt, test_mqtt_lifecycle_map);
	tcase_add_test(fmt, test_mqtt_template_levels);
	tcase_add_test(fmt, test_mqtt_text_states);
	tcase_add_test(fmt, test_mqtt_field_from_topic);
	tcase_add_test(bad, test_mqtt_bad_input);
	tcase_add_test(bad, test_mqtt_time_window);
	tcase_add_test(bad, test_mqtt_rfc3339_reader);
	suite_add_tcase(s, fmt);
	suite_add_tcase(s, bad);
	return s;
}

FP_CHECK_MAIN(mqtt_suite)
