/* check_conf.c - configuration loading, validation and error reports. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fp_check.h"
#include "log.h"
#include "output.h"
#include "util.h"

static char path[64];

static void write_conf(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/fp-check-conf-%d.conf", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Loads text; returns the number of problems and keeps them in errs. */
static int load_text(const char *text, struct fp_config *c, struct fp_cfg_errors *errs)
{
	write_conf(text);
	fp_config_defaults(c);
	memset(errs, 0, sizeof(*errs));
	fp_config_load(c, path, errs);
	unlink(path);
	return (int)errs->n;
}

/* True if some message starts with "PATH:line: " and contains needle. */
static int has_error(const struct fp_cfg_errors *e, int line, const char *needle)
{
	char prefix[96];
	size_t i;

	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	for (i = 0; i < e->n; i++)
		if (strncmp(e->msgs[i], prefix, strlen(prefix)) == 0 && strstr(e->msgs[i], needle))
			return 1;
	return 0;
}

/* What --check-config -v prints after "outputs.<type>[i]: name=..."
 * for the i-th output; caller frees. */
static char *describe_output(const struct fp_config *c, size_t i)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	c->outputs[i].ops->describe(c->outputs[i].oc, f);
	fclose(f);
	return text;
}

static void dump(const struct fp_cfg_errors *e)
{
	size_t i;
	for (i = 0; i < e->n; i++)
		fprintf(stderr, "# %s\n", e->msgs[i]);
}

START_TEST(test_conf_defaults)
{
	struct fp_config c;

	char *d;

	fp_config_defaults(&c);
	ck_assert_int_eq(c.interval_ms, 10000);
	ck_assert_uint_eq(c.noutputs, 1);
	ck_assert_str_eq(c.outputs[0].ops->type, "file");
	ck_assert_str_eq(c.outputs[0].name, "file");
	d = describe_output(&c, 0);
	ck_assert_str_eq(d, " path=\"footprint.lp\" precision=ns fsync=false\n");
	free(d);
	ck_assert(c.round_interval);
	ck_assert_str_eq(c.timezone, "UTC");
	fp_config_free(&c);
}
END_TEST

START_TEST(test_conf_valid)
{
	struct fp_config c;
	struct fp_cfg_errors e;
	char *d;

	ck_assert_int_eq(
		load_text(
			"agent: {\n  site = \"dc 1\";\n  interval = \"1m30s\";\n"
			"  queue_max = 5000;\n  log_level = \"debug\";\n}\n"
			"outputs: { file = ( { name = \"out\"; path = \"-\"; precision = \"s\"; } ); };\n",
			&c, &e),
		0);
	ck_assert_str_eq(c.site, "dc 1");
	ck_assert_int_eq(c.interval_ms, 90000);
	ck_assert_uint_eq(c.queue_max, 5000);
	ck_assert_uint_eq(c.noutputs, 1);
	ck_assert_str_eq(c.outputs[0].name, "out");
	d = describe_output(&c, 0);
	ck_assert_str_eq(d, " path=\"-\" precision=s fsync=false\n");
	free(d);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

/* The case: a typo, a wrong type and an unknown key -> three
 * FILE:LINE errors, each on its own line. */
START_TEST(test_conf_three_errors_with_lines)
{
	struct fp_config c;
	struct fp_cfg_errors e;
	int n = load_text("agent: {\n"
			  "  intervall = \"10s\";\n"
			  "  site = 42;\n"
			  "  colour = \"blue\";\n"
			  "};\n",
			  &c, &e);

	dump(&e);
	ck_assert_int_eq(n, 3);
	ck_assert(has_error(&e, 2, "agent.intervall: unknown key (did you mean 'interval'?)"));
	ck_assert(has_error(&e, 3, "agent.site: expected a string, got an integer"));
	ck_assert(has_error(&e, 4, "agent.colour: unknown key"));
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

START_TEST(test_conf_syntax_error)
{
	struct fp_config c;
	struct fp_cfg_errors e;

	ck_assert_int_eq(load_text("agent: {\n  site = \"x\"\n  interval = ;\n};\n", &c, &e), 1);
	dump(&e);
	ck_assert(has_error(
		&e, 3, "syntax error near 'interval = ;': a value is missing after '=' or ':'"));
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

/* A syntax error says where (the line's text) and the usual mistake. */
static void syntax_case(const char *text, int line, const char *needle)
{
	struct fp_config c;
	struct fp_cfg_errors e;

	ck_assert_int_eq(load_text(text, &c, &e), 1);
	dump(&e);
	ck_assert_msg(has_error(&e, line, needle), "%s", needle);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}

START_TEST(test_conf_syntax_hints)
{
	syntax_case("agent: { site = lab; };\n", 1,
		    "syntax error near 'agent: { site = lab; };': a string needs double quotes");
	syntax_case("agent: {\n  \"site\": \"x\";\n};\n", 2, "setting names are not quoted");
	syntax_case("agent: { interval = 10s; };\n", 1, "a duration or size is a string");
	syntax_case("agent { site = \"x\"; };\n", 1, "a ':' or '=' is missing before '{'");
	syntax_case("agent: { site == \"x\"; };\n", 1, "(one '=')");
	syntax_case("modbus: { devices = (\n { name = \"a\"; }\n { name = \"b\"; }\n); };\n", 3,
		    "near '{ name = \"b\"; }': the elements of a list are separated by commas");
	syntax_case("modbus: { devices = ( { name = \"a\"; }, ); };\n", 1,
		    "no comma after the last element");
	syntax_case("agent: { site = \"x\";\n", 2, "the file ends inside a group");
}
END_TEST

/* A state_dir whose parents are missing says which and what to do. */
START_TEST(test_conf_state_dir_missing_parent)
{
	struct fp_config c;
	struct fp_cfg_errors e = { 0 };

	fp_config_defaults(&c);
	free(c.state_dir);
	c.state_dir = fp_xstrdup("/etc/hostname/footprint/state");
	ck_assert_int_lt(fp_config_check_system(&c, &e), 0);
	dump(&e);
	ck_assert_uint_eq(e.n, 1);
	ck_assert(strstr(e.msgs[0],
			 "(defaults): agent.state_dir: '/etc/hostname/footprint/state' "
			 "(the default) cannot be created: '/etc/hostname' is not a "
			 "directory; set agent.state_dir to a writable directory (in a "
			 "file given with -c FILE)"));
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

START_TEST(test_conf_bad_values)
{
	struct fp_config c;
	struct fp_cfg_errors e;
	int n = load_text(
		"agent: {\n"
		"  interval = 10;\n"
		"  shutdown_timeout = \"ten\";\n"
		"  queue_max = 5;\n"
		"  log_level = \"loud\";\n"
		"  timezone = \"Mars/Olympus\";\n"
		"  round_interval = \"yes\";\n"
		"};\n"
		"outputs: { file = ( { path = 3; precision = \"h\"; }, { name = \"a b\"; path = \"x\"; } ); };\n"
		"inventory: { weibull_profile = \"XX\"; };\n",
		&c, &e);

	dump(&e);
	ck_assert(has_error(&e, 2, "expected a duration string"));
	ck_assert(has_error(&e, 3, "'ten' is not a duration"));
	ck_assert(has_error(&e, 4, "out of range"));
	ck_assert(has_error(&e, 5, "'loud' is not one of"));
	ck_assert(has_error(&e, 6, "not a known time zone"));
	ck_assert(has_error(&e, 7, "expected true or false"));
	ck_assert(has_error(&e, 9, "outputs.file.[0].path: expected a string") ||
		  has_error(&e, 9, "outputs.file[0].path: expected a string"));
	ck_assert(has_error(&e, 9, "'h' is not one of: ns, us, ms, s"));
	ck_assert(has_error(&e, 9, "'a b' must be"));
	ck_assert(has_error(&e, 10, "inventory.weibull_profile: 'XX' is not one of"));
	ck_assert_int_eq(n, 10);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

/* Roles must be indicator roles wherever they are given; TLS files of a
 * broker must be readable; a value out of range is one error, not two. */
START_TEST(test_conf_roles_tls_files_ranges)
{
	struct fp_config c;
	struct fp_cfg_errors e;
	size_t i;
	int n = load_text(
		"modbus: { devices = (\n"
		"  { name = \"u\"; url = \"tcp://127.0.0.1:502\"; role = \"ups\";\n"
		"    registers = ( { field = \"p\"; address = 0; } ); } ); };\n"
		"mqtt: { brokers = ( { url = \"mqtts://127.0.0.1:8883\";\n"
		"  cert_file = \"/nonexistent/c.pem\"; key_file = \"/nonexistent/k.pem\";\n"
		"  subscriptions = ( { topic = \"a/#\"; format = \"value\"; field = \"power_w\"; role = \"itt\"; } ); } ); };\n"
		"indicators: { region = \"FR\"; emission_factors = (\n"
		"  { region = \"FR\"; year = 1980; method = \"location\"; kg_per_kwh = 11.0; } ); };\n",
		&c, &e);

	dump(&e);
	ck_assert(has_error(&e, 2, "role: 'ups' is not an indicator role (one of: facility, it,"));
	ck_assert(has_error(&e, 5, "cert_file: cannot read '/nonexistent/c.pem'"));
	ck_assert(has_error(&e, 5, "key_file: cannot read '/nonexistent/k.pem'"));
	ck_assert(has_error(&e, 6, "role: 'itt' is not an indicator role"));
	ck_assert(has_error(&e, 8, "year"));
	ck_assert(has_error(&e, 8, "kg_per_kwh"));
	for (i = 0; i < e.n; i++)
		ck_assert_msg(!strstr(e.msgs[i], "is required"), "%s", e.msgs[i]);
	ck_assert_int_eq(n, 6);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

START_TEST(test_conf_include_reports_included_file)
{
	struct fp_config c;
	struct fp_cfg_errors e;
	char inc[80], text[200];
	FILE *f;

	snprintf(inc, sizeof(inc), "/tmp/fp-check-inc-%d.conf", (int)getpid());
	f = fopen(inc, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# included\nbogus = 1;\n", f);
	fclose(f);
	/* Relative to the including file's folder (both are in /tmp). */
	snprintf(text, sizeof(text), "agent: {\n  @include \"%s\"\n};\n", inc + 5);
	ck_assert_int_eq(load_text(text, &c, &e), 1);
	dump(&e);
	ck_assert(strncmp(e.msgs[0], inc, strlen(inc)) == 0);
	ck_assert(strstr(e.msgs[0], ":2: agent.bogus: unknown key") != NULL);
	unlink(inc);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

/* Outputs of both types: names unique across them, "<type><index>" by
 * default; -v describes each without its secret. */
START_TEST(test_conf_outputs_names_and_describe)
{
	struct fp_config c;
	struct fp_cfg_errors e;
	char secret[64], text[600], *d;
	FILE *f;
	int n;

	snprintf(secret, sizeof(secret), "/tmp/fp-check-secret-%d", (int)getpid());
	f = fopen(secret, "w");
	ck_assert_ptr_nonnull(f);
	fputs("s3cr3t-value\n", f);
	fclose(f);
	snprintf(text, sizeof(text),
		 "outputs: {\n"
		 "  file = ( { name = \"a\"; path = \"x.lp\"; } );\n"
		 "  influxdb = ( { url = \"http://127.0.0.1:8086\"; database = \"db1\";\n"
		 "                 username = \"u\"; password_file = \"%s\"; },\n"
		 "               { name = \"a\"; url = \"http://h\"; database = \"d\"; } );\n"
		 "};\n",
		 secret);
	n = load_text(text, &c, &e);
	dump(&e);
	ck_assert_int_eq(n, 1);
	ck_assert(has_error(&e, 5, "outputs.influxdb[a].name: 'a' is used by another output") ||
		  has_error(&e, 5, "outputs.influxdb[1].name: 'a' is used by another output"));
	ck_assert_uint_eq(c.noutputs, 3);
	ck_assert_str_eq(c.outputs[1].ops->type, "influxdb");
	ck_assert_str_eq(c.outputs[1].name, "influxdb0");
	d = describe_output(&c, 1);
	ck_assert_msg(strstr(d, " url=\"http://127.0.0.1:8086\" api=v1 database=\"db1\"") == d,
		      "%s", d);
	ck_assert_msg(strstr(d, "password_file=set") != NULL, "%s", d);
	ck_assert_msg(strstr(d, "s3cr3t") == NULL, "%s", d);
	free(d);
	unlink(secret);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

START_TEST(test_conf_missing_file)
{
	struct fp_config c;
	struct fp_cfg_errors e = { 0 };

	fp_config_defaults(&c);
	ck_assert_int_lt(fp_config_load(&c, "/nonexistent/footprintd.conf", &e), 0);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msgs[0],
			 "/nonexistent/footprintd.conf: cannot read: No such file or "
			 "directory");
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

START_TEST(test_conf_duration_and_size_units)
{
	int64_t ms;
	uint64_t sz;

	ck_assert_int_eq(fp_parse_duration_ms("250ms", &ms), 0);
	ck_assert_int_eq(ms, 250);
	ck_assert_int_eq(fp_parse_duration_ms("2h", &ms), 0);
	ck_assert_int_eq(ms, 7200000);
	ck_assert_int_eq(fp_parse_duration_ms("1m30s", &ms), 0);
	ck_assert_int_eq(ms, 90000);
	ck_assert_int_eq(fp_parse_duration_ms("1.5s", &ms), 0);
	ck_assert_int_eq(ms, 1500);
	ck_assert_int_lt(fp_parse_duration_ms("10", &ms), 0);
	ck_assert_int_lt(fp_parse_duration_ms("10 s", &ms), 0);
	ck_assert_int_lt(fp_parse_duration_ms("-1s", &ms), 0);
	ck_assert_int_lt(fp_parse_duration_ms("5sec", &ms), 0);
	ck_assert_int_lt(fp_parse_duration_ms("", &ms), 0);
	ck_assert_int_eq(fp_parse_size("512MB", &sz), 0);
	ck_assert_uint_eq(sz, 512000000ULL);
	ck_assert_int_eq(fp_parse_size("64KiB", &sz), 0);
	ck_assert_uint_eq(sz, 65536);
	ck_assert_int_eq(fp_parse_size("100", &sz), 0);
	ck_assert_uint_eq(sz, 100);
	ck_assert_int_lt(fp_parse_size("1XB", &sz), 0);
	ck_assert_int_lt(fp_parse_size("99999999999999999999GB", &sz), 0);
	ck_assert_int_lt(fp_parse_size("-5MB", &sz), 0);
}
END_TEST

/* A duration out of range names the range in the units a user writes. */
START_TEST(test_conf_duration_range_message)
{
	struct fp_config c;
	struct fp_cfg_errors e;
	int n = load_text("agent: {\n"
			  "  log_ratelimit_interval = \"2d\";\n"
			  "};\n",
			  &c, &e);

	dump(&e);
	ck_assert_int_eq(n, 1);
	ck_assert(has_error(&e, 2, "'2d' is out of range (1s to 1d)"));
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

struct want {
	int line;
	const char *text;
};

/* Loads text, which must give exactly the errors want[] (ended by a line
 * 0): each at its line. */
static void expect_errors(const char *text, const struct want *want)
{
	struct fp_config c;
	struct fp_cfg_errors e;
	int n = load_text(text, &c, &e), i;

	dump(&e);
	for (i = 0; want[i].line; i++)
		ck_assert_msg(has_error(&e, want[i].line, want[i].text), "%d: %s", want[i].line,
			      want[i].text);
	ck_assert_int_eq(n, i);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}

/* Names follow one rule everywhere: a broker name that a device could
 * not have is refused too, at its line; device names keep the rule. */
START_TEST(test_conf_names_one_rule)
{
	expect_errors(
		"mqtt: { brokers = (\n"
		"  { name = \"ok-1.b_2\"; url = \"mqtt://127.0.0.1\";\n"
		"    subscriptions = ( { topic = \"a/#\"; format = \"tasmota\"; } ); },\n"
		"  { name = \"bad name!\"; url = \"mqtt://[::1]:1883\";\n"
		"    subscriptions = ( { topic = \"b/#\"; format = \"tasmota\"; } ); } ); };\n"
		"modbus: { devices = (\n"
		"  { name = \"bad name!\"; url = \"tcp://127.0.0.1\";\n"
		"    registers = ( { field = \"p\"; address = 0; } ); } ); };\n",
		(const struct want[]){
			{ 4,
			  "mqtt.brokers[1].name: 'bad name!' must be 1-64 characters of "
			  "A-Z a-z 0-9 _ - ." },
			{ 7,
			  "modbus.devices[0].name: 'bad name!' must be 1-64 characters of "
			  "A-Z a-z 0-9 _ - ." },
			{ 0, NULL } });
	/* A name that is not a string: reported, and the default name keeps
	 * the duplicate check working. */
	expect_errors("mqtt: { brokers = ( { name = 7; url = \"mqtt://h:1\";\n"
		      "  subscriptions = ( { topic = \"a/#\"; format = \"tasmota\"; } ); },\n"
		      "  { name = 8; url = \"mqtt://[::1]x\";\n"
		      "  subscriptions = ( { topic = \"a/#\"; format = \"tasmota\"; } ); } ); };\n",
		      (const struct want[]){ { 1, "name: expected a string" },
					     { 3, "name: expected a string" },
					     { 3, "'mqtt://[::1]x' must be mqtt://HOST[:PORT]" },
					     { 0, NULL } });
}
END_TEST

/* A bad enum value or role gets a did-you-mean like an unknown key; a
 * device is named by its name, not its index. */
START_TEST(test_conf_enum_did_you_mean)
{
	expect_errors(
		"agent: { log_level = \"warn\"; };\n"
		"outputs: { file = ( { path = \"x\"; precision = \"MS\"; } ); };\n"
		"modbus: { devices = ( { name = \"pdu-a\"; url = \"tcp://127.0.0.1\";\n"
		"  role = \"facilty\";\n"
		"  registers = ( { field = \"p\"; address = 0; type = \"flaot32\"; } ); } ); };\n"
		"mqtt: { brokers = ( { name = \"b\"; url = \"mqtt://127.0.0.1\";\n"
		"  subscriptions = ( { topic = \"a/#\"; format = \"tasmta\"; } ); } ); };\n",
		(const struct want[]){
			{ 1,
			  "agent.log_level: 'warn' is not one of: emerg, alert, crit, error, "
			  "warning, notice, info, debug (did you mean 'warning'?)" },
			{ 2,
			  "outputs.file[0].precision: 'MS' is not one of: ns, us, ms, s (did you "
			  "mean 'ms'?)" },
			{ 4, "(did you mean 'facility'?)" },
			{ 5,
			  "modbus.devices[pdu-a].registers[0].type: 'flaot32' is not one of: "
			  "bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, "
			  "string, bit (did you mean 'float32'?)" },
			{ 7, "(did you mean 'tasmota'?)" },
			{ 0, NULL } });
}
END_TEST

/* The MQTT text states, {field} templates, name topics and string
 * fields: each mistake named on its line. */
START_TEST(test_conf_mqtt_states_errors)
{
	expect_errors(
		"agent: { site = \"s\"; };\n"
		"mqtt: { brokers = ( { name = \"b\"; url = \"mqtt://127.0.0.1:1883\";\n"
		"  subscriptions = (\n"
		"    { topic = \"a/+\"; format = \"value\"; template = \"a/{device}\"; field = \"x\"; "
		"values = { ON = \"yes\"; }; },\n"
		"    { topic = \"b/+/+\"; format = \"value\"; template = \"b/{device}/{field}\"; "
		"field = \"y\"; },\n"
		"    { topic = \"c/+\"; format = \"value\"; template = \"c/{device}\"; field = \"z\"; "
		"name_topic = \"c/name\"; },\n"
		"    { topic = \"d/+\"; format = \"json\"; template = \"d/{device}\"; "
		"fields = ( { path = \"s\"; field = \"s\"; type = \"text\"; } ); }\n"
		"  ); } ); };\n",
		(const struct want[]){
			{ 4, "values.ON: the state 'ON' must map to a number or a boolean" },
			{ 5,
			  "subscriptions[1].field: the template's {field} level names the field" },
			{ 6,
			  "name_topic: 'c/name' must be a topic template with a {device} level" },
			{ 7, "fields[0].type: 'text' is not one of: number, string" },
			{ 0, NULL } });
}
END_TEST

START_TEST(test_util_name_valid)
{
	char s[FP_NAME_MAX + 2];

	ck_assert(fp_name_valid("pdu-a_1.B"));
	ck_assert(!fp_name_valid(""));
	ck_assert(!fp_name_valid("a b"));
	ck_assert(!fp_name_valid("bad name!"));
	ck_assert(!fp_name_valid("caf\xc3\xa9"));
	ck_assert(!fp_name_valid("a/b"));
	memset(s, 'x', sizeof(s) - 2);
	s[FP_NAME_MAX] = '\0';
	ck_assert(fp_name_valid(s)); /* 64 */
	s[FP_NAME_MAX] = 'x';
	s[FP_NAME_MAX + 1] = '\0';
	ck_assert(!fp_name_valid(s)); /* 65 */
}
END_TEST

START_TEST(test_util_host_port)
{
	static const struct {
		const char *s;
		int rc;
		const char *host;
		int port;
	} cases[] = {
		{ "h.example", 0, "h.example", 99 }, /* no port: the default */
		{ "10.0.0.5:502", 0, "10.0.0.5", 502 },
		{ "[::1]:1883", 0, "::1", 1883 },
		{ "[fd00::5]", 0, "fd00::5", 99 },
		{ "h:1", 0, "h", 1 },
		{ "h:65535", 0, "h", 65535 },
		{ "h:0", -ERANGE, NULL, 0 }, /* bad ports */
		{ "h:65536", -ERANGE, NULL, 0 },
		{ "h:", -ERANGE, NULL, 0 },
		{ "h:x1", -ERANGE, NULL, 0 },
		{ "h:+80", -ERANGE, NULL, 0 },
		{ "h: 80", -ERANGE, NULL, 0 },
		{ "h:80/", -ERANGE, NULL, 0 },
		{ "[::1]:0", -ERANGE, NULL, 0 },
		{ "", -EINVAL, NULL, 0 }, /* empty hosts */
		{ ":80", -EINVAL, NULL, 0 },
		{ "[]:80", -EINVAL, NULL, 0 },
		{ "[::1", -EINVAL, NULL, 0 }, /* brackets */
		{ "[::1]x", -EINVAL, NULL, 0 },
		{ "[::1]80", -EINVAL, NULL, 0 },
		{ "fd00::5", -EINVAL, NULL, 0 }, /* IPv6 needs them */
		{ "fd00::5:502", -EINVAL, NULL, 0 },
		{ "h/x:80", -EINVAL, NULL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *host = NULL;
		int port = -1, rc = fp_parse_host_port(cases[i].s, 99, &host, &port);
		ck_assert_msg(rc == cases[i].rc, "'%s': %d", cases[i].s, rc);
		if (rc == 0) {
			ck_assert_str_eq(host, cases[i].host);
			ck_assert_int_eq(port, cases[i].port);
		} else {
			ck_assert_ptr_null(host);
			ck_assert_int_eq(port, -1);
		}
		free(host);
	}
}
END_TEST

START_TEST(test_util_mkdirs_and_secret)
{
	char top[64], p[160];
	struct stat st;
	FILE *f;
	char *secret;

	snprintf(top, sizeof(top), "/tmp/fp-check-mkdirs-%d", (int)getpid());
	snprintf(p, sizeof(p), "%s/a/b//c/", top);
	ck_assert_int_eq(fp_mkdirs(p, 0700), 0); /* nested */
	snprintf(p, sizeof(p), "%s/a/b/c", top);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(fp_mkdirs(p, 0700), 0); /* existing */
	snprintf(p, sizeof(p), "%s/a/file", top);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(fp_mkdirs(p, 0700), -ENOTDIR); /* a file is the path */
	snprintf(p, sizeof(p), "%s/a/file/d", top);
	ck_assert_int_eq(fp_mkdirs(p, 0700), -ENOTDIR); /* a file in the way */
	ck_assert_int_eq(fp_mkdirs("", 0700), -ENOENT);
	ck_assert_int_eq(fp_mkdirs("/", 0700), 0);
	snprintf(p, sizeof(p), "%s/a/file", top);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a/b/c", top);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a/b", top);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a", top);
	rmdir(p);
	ck_assert_int_eq(rmdir(top), 0);

	secret = fp_xstrdup("hunter2");
	fp_free_secret(secret);
	fp_free_secret(NULL);
}
END_TEST

/* agent.timestamp_min / timestamp_ahead: the window of accepted
 * timestamps, copied into each MQTT subscription. */
START_TEST(test_conf_time_window)
{
	struct fp_config c;
	struct fp_cfg_errors e;

	fp_config_defaults(&c);
	ck_assert_int_eq(c.time_window.min_s, 946684800);
	ck_assert_int_eq(c.time_window.ahead_s, 86400);
	ck_assert_uint_eq(c.log_burst, 5);
	ck_assert_int_eq(c.log_interval_ms, 60000);
	fp_config_free(&c);
	ck_assert_int_eq(load_text("agent: { timestamp_min = \"2020-01-01\"; timestamp_ahead = "
				   "\"1h\"; log_ratelimit_burst = 3; log_ratelimit_interval = "
				   "\"2s\"; };\n",
				   &c, &e),
			 0);
	ck_assert_int_eq(c.time_window.min_s, 1577836800);
	ck_assert_int_eq(c.time_window.ahead_s, 3600);
	ck_assert_uint_eq(c.log_burst, 3);
	ck_assert_int_eq(c.log_interval_ms, 2000);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
	ck_assert_int_eq(load_text("agent: {\n  timestamp_min = \"2020-13-01\";\n"
				   "  timestamp_ahead = \"1s\";\n  log_ratelimit_burst = 0;\n};\n",
				   &c, &e),
			 3);
	ck_assert(has_error(&e, 2, "agent.timestamp_min: '2020-13-01' must be a date"));
	ck_assert(has_error(&e, 3, "agent.timestamp_ahead"));
	ck_assert(has_error(&e, 4, "agent.log_ratelimit_burst"));
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
}
END_TEST

/* The window itself: bounds, unit hints, no overflow at the extremes. */
START_TEST(test_util_time_window)
{
	const int64_t now = 1742000000LL * 1000000000LL;
	struct fp_time_window w = { 0, 0 };
	const char *why = NULL;
	int64_t ns = 0, lo, hi;

	fp_time_bounds(NULL, now, &lo, &hi);
	ck_assert_int_eq(lo, FP_TIME_MIN_DEFAULT);
	ck_assert_int_eq(hi, 1742000000LL + 86400);
	w.ahead_s = 36500LL * 86400;
	fp_time_bounds(&w, INT64_MAX, &lo, &hi); /* clamped to 2262, no overflow */
	ck_assert_int_eq(hi, FP_TIME_MAX);
	ck_assert_int_eq(fp_time_from_number(NULL, 1742000000.25, FP_TIME_S, now, &ns, &why), 0);
	ck_assert_int_eq(ns, 1742000000250000000LL);
	ck_assert_int_eq(fp_time_from_number(NULL, 1742000000123456.0, FP_TIME_US, now, &ns, &why),
			 0);
	ck_assert_int_eq(ns, 1742000000123456000LL);
	ck_assert_int_eq(fp_time_from_number(NULL, 1742000000.0, FP_TIME_NS, now, &ns, &why),
			 -ERANGE);
	ck_assert_str_eq(why, "the timestamp looks like seconds, not nanoseconds");
	ck_assert_int_eq(fp_time_from_number(NULL, 1.742e15, FP_TIME_MS, now, &ns, &why), -ERANGE);
	ck_assert_str_eq(why, "the timestamp looks like microseconds, not milliseconds");
	ck_assert_int_eq(fp_time_from_number(&w, 1e300, FP_TIME_S, INT64_MAX, &ns, &why), -ERANGE);
	ck_assert_int_eq(fp_time_from_number(NULL, -1, FP_TIME_S, now, &ns, &why), -EINVAL);
	ck_assert_int_eq(fp_time_from_number(NULL, 0.0 / 0.0, FP_TIME_S, now, &ns, &why), -EINVAL);
	ck_assert_int_eq(
		fp_time_from_rfc3339(&w, "2262-04-11T23:47:15.999999999Z", INT64_MAX, &ns, &why),
		0);
	ck_assert_int_eq(ns, 9223372035999999999LL);
	ck_assert_int_eq(fp_time_from_rfc3339(&w, "2262-04-11T23:47:16Z", INT64_MAX, &ns, &why),
			 -ERANGE);
	ck_assert_int_eq(fp_time_from_rfc3339(NULL, "2600-01-01T00:00:00Z", now, &ns, &why),
			 -ERANGE);
	ck_assert_str_eq(why, "the timestamp is after now + timestamp_ahead");
	ck_assert_int_eq(fp_time_check(NULL, 946684799, now, &why), -ERANGE);
	ck_assert_str_eq(why, "the timestamp is before timestamp_min");
	ck_assert_int_eq(fp_time_check(NULL, 946684800, now, &why), 0);
}
END_TEST

/* What fn writes to stderr (the log), into a string the caller frees. */
static char *capture_log(void (*fn)(void))
{
	char tmpl[] = "/tmp/fp-check-log-XXXXXX", *text;
	int fd = mkstemp(tmpl), saved = dup(STDERR_FILENO);
	long n;
	FILE *f;

	ck_assert(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = fp_xcalloc(1, (size_t)n + 1);
	ck_assert_int_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(tmpl);
	return text;
}

static size_t count_lines(const char *s, const char *needle)
{
	size_t n = 0;

	for (; *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : s + strlen(s)) {
		const char *e = strchr(s, '\n');
		char line[8192];
		size_t l = e ? (size_t)(e - s) : strlen(s);
		snprintf(line, sizeof(line), "%.*s", (int)l, s);
		n += !needle || strstr(line, needle) != NULL;
	}
	return n;
}

static void log_forged(void)
{
	fp_log_init(LOG_INFO);
	fp_log(LOG_WARNING, "inventory: event %s rejected",
	       "e1\n<0>FORGED emergency\r\x1b[2J\x7f\xc2\x85\xc3\xa9");
}

/* Issue #20: an event_id with "\n<0>FORGED" made a line of its own, an
 * emergency-priority journal entry.  Every message is one line, its
 * control characters escaped (UTF-8 text kept). */
START_TEST(test_log_escapes_control_characters)
{
	char *out;

	setenv("JOURNAL_STREAM", "1:1", 1);
	out = capture_log(log_forged);
	ck_assert_str_eq(
		out,
		"<4>inventory: event e1\\n<0>FORGED emergency\\r\\x1b[2J\\x7f\\u0085\xc3\xa9 "
		"rejected\n");
	free(out);
}
END_TEST

static void log_flood(void)
{
	static struct fp_ratelimit other = { .name = "other cause", .burst = 2 };
	int i;

	fp_log_init(LOG_INFO);
	fp_log_set_ratelimit(5, 3600LL * 1000000000LL);
	for (i = 0; i < 1000; i++)
		FP_LOG_LIMITED("test: bad messages", LOG_WARNING, "bad message %d", i);
	for (i = 0; i < 3; i++)
		fp_log_limited(&other, LOG_ERR, "other %d", i);
	fp_log_flush_suppressed(false); /* the hour is not over: nothing */
	fp_log(LOG_INFO, "-- stop --");
	fp_log_flush_suppressed(true);
	fp_log_flush_suppressed(true); /* reported once */
}

/* 1000 bad messages: 5 lines (the burst), then one line with the count
 * of the others; each cause has its own limit. */
START_TEST(test_log_ratelimit)
{
	char *out, *stop;

	setenv("JOURNAL_STREAM", "1:1", 1);
	out = capture_log(log_flood);
	ck_assert_uint_eq(count_lines(out, ">bad message "), 5);
	ck_assert_ptr_nonnull(strstr(out, "<4>bad message 4\n<3>other 0\n<3>other 1\n"));
	stop = strstr(out, "-- stop --\n");
	ck_assert_ptr_nonnull(stop);
	ck_assert_uint_eq(count_lines(out, "suppressed"), 2);
	ck_assert_ptr_nonnull(
		strstr(stop, "<4>test: bad messages: 995 similar messages suppressed in the last"));
	ck_assert_ptr_nonnull(
		strstr(stop, "<3>other cause: 1 similar messages suppressed in the last"));
	ck_assert_uint_eq(count_lines(out, NULL), 5 + 2 + 1 + 2);
	free(out);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *core = tcase_create("core"), *errs = tcase_create("errors");

	tcase_add_test(core, test_conf_defaults);
	tcase_add_test(core, test_conf_valid);
	tcase_add_test(core, test_conf_duration_and_size_units);
	tcase_add_test(core, test_conf_duration_range_message);
	tcase_add_test(errs, test_conf_three_errors_with_lines);
	tcase_add_test(errs, test_conf_syntax_error);
	tcase_add_test(errs, test_conf_syntax_hints);
	tcase_add_test(errs, test_conf_enum_did_you_mean);
	tcase_add_test(errs, test_conf_mqtt_states_errors);
	tcase_add_test(errs, test_conf_state_dir_missing_parent);
	tcase_add_test(errs, test_conf_bad_values);
	tcase_add_test(errs, test_conf_roles_tls_files_ranges);
	tcase_add_test(errs, test_conf_include_reports_included_file);
	tcase_add_test(errs, test_conf_missing_file);
	tcase_add_test(errs, test_conf_names_one_rule);
	tcase_add_test(errs, test_conf_outputs_names_and_describe);
	tcase_add_test(core, test_util_name_valid);
	tcase_add_test(core, test_util_host_port);
	tcase_add_test(core, test_util_mkdirs_and_secret);
	tcase_add_test(core, test_conf_time_window);
	tcase_add_test(core, test_util_time_window);
	tcase_add_test(core, test_log_escapes_control_characters);
	tcase_add_test(core, test_log_ratelimit);
	suite_add_tcase(s, core);
	suite_add_tcase(s, errs);
	return s;
}

FP_CHECK_MAIN(conf_suite)
