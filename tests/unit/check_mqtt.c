/* check_mqtt.c - MQTT payload parsing: templates, value and json formats,
 * the presets on the fixture payloads, lifecycle events, bad input. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fp_check.h"
#include "lineproto.h"
#include "mq_parse.h"

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
	*n = fp_mq_parse(s, "dc1", topic, payload, strlen(payload), 1000, &b, why);
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
		"reactive_power_var=72,power_factor=0.95,voltage_v=231,current_a=0.978 1000\n");
	t = run(&s, "tele/rack12-pdu-b/SENSOR",
		"{\"ENERGY\":{\"Total\":[412.813,96.254],\"Power\":[108,26],\"Voltage\":229}}", &n,
		&why);
	ck_assert_int_eq(n, 3); /* channels 1 and 2, and the shared voltage */
	ck_assert_ptr_nonnull(
		strstr(t,
		       "meter,channel=2,device=rack12-pdu-b,role=other,site=dc1,source=mqtt "
		       "energy_import_kwh=96.254,power_w=26 1000\n"));
	ck_assert_ptr_nonnull(strstr(t, "source=mqtt voltage_v=229 1000\n"));
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
		"energy_import_kwh=57.71451666666667 1000\n");
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
		"energy_import_kwh=48.213472 1000\n");
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
		{ "m.p[1]", "power_w", 1, NULL },
		{ "m.e", "energy_import_kwh", 0.001, NULL },
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
		"meter,device=pdu7,role=it,site=dc1,source=mqtt,zone=hall-1 energy_import_kwh=2 1000\n");
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

static Suite *mqtt_suite(void)
{
	Suite *s = suite_create("mqtt");
	TCase *fmt = tcase_create("formats"), *bad = tcase_create("errors");

	tcase_add_test(fmt, test_mqtt_tasmota_single_and_array);
	tcase_add_test(fmt, test_mqtt_shelly_gen1_watt_minutes);
	tcase_add_test(fmt, test_mqtt_shelly_gen2_status_rpc_em);
	tcase_add_test(fmt, test_mqtt_json_selectors_and_time);
	tcase_add_test(fmt, test_mqtt_lifecycle);
	tcase_add_test(fmt, test_mqtt_template_levels);
	tcase_add_test(bad, test_mqtt_bad_input);
	suite_add_tcase(s, fmt);
	suite_add_tcase(s, bad);
	return s;
}

FP_CHECK_MAIN(mqtt_suite)
