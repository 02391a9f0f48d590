/* check_conf.c - configuration loading, validation and error reports. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fp_check.h"
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
	ck_assert(has_error(&e, 3, "syntax error"));
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
	ck_assert(has_error(&e, 5, "outputs.influxdb.[1].name: 'a' is used by another output") ||
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
	ck_assert(strstr(e.msgs[0], "/nonexistent/footprintd.conf:0: cannot read") == e.msgs[0]);
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

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *core = tcase_create("core"), *errs = tcase_create("errors");

	tcase_add_test(core, test_conf_defaults);
	tcase_add_test(core, test_conf_valid);
	tcase_add_test(core, test_conf_duration_and_size_units);
	tcase_add_test(errs, test_conf_three_errors_with_lines);
	tcase_add_test(errs, test_conf_syntax_error);
	tcase_add_test(errs, test_conf_bad_values);
	tcase_add_test(errs, test_conf_roles_tls_files_ranges);
	tcase_add_test(errs, test_conf_include_reports_included_file);
	tcase_add_test(errs, test_conf_missing_file);
	tcase_add_test(errs, test_conf_names_one_rule);
	tcase_add_test(errs, test_conf_outputs_names_and_describe);
	tcase_add_test(core, test_util_name_valid);
	tcase_add_test(core, test_util_host_port);
	tcase_add_test(core, test_util_mkdirs_and_secret);
	suite_add_tcase(s, core);
	suite_add_tcase(s, errs);
	return s;
}

FP_CHECK_MAIN(conf_suite)
