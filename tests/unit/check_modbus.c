/* check_modbus.c - register decoding (every type x order with known
 * vectors), sentinels, strings, bits, request planning, and the collector
 * against a libmodbus server in a thread: unserved registers, splitting,
 * retries of dropped fields, replies from the wrong unit. */
#include "config.h"

#include <arpa/inet.h>
#include <math.h>
#include <modbus.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fp_check.h"
#include "mb_collector.h"
#include "mb_config.h"
#include "mb_decode.h"
#include "mb_sunspec.h"

static struct fp_mb_field fld(enum fp_mb_type t, enum fp_mb_order o)
{
	struct fp_mb_field f;

	memset(&f, 0, sizeof(f));
	f.table = FP_MB_HOLDING;
	f.type = t;
	f.order = o;
	f.count = (uint16_t)fp_mb_type_words(t);
	f.bit = -1;
	f.scale = 1.0;
	return f;
}

/* Registers as a device sends them for the big-endian bytes be[] in the
 * given order (independent of the decoder: built from the order's name). */
static void wire(const uint8_t *be, unsigned words, const char *order, uint16_t *regs)
{
	/* order names the significance of each wire byte within a 32-bit
	 * group: ABCD = A first.  For 16 and 64 bits the same swaps apply. */
	bool word_swap = !strcmp(order, "CDAB") || !strcmp(order, "DCBA");
	bool byte_swap = !strcmp(order, "BADC") || !strcmp(order, "DCBA");
	unsigned i;

	for (i = 0; i < words; i++) {
		unsigned w = word_swap ? words - 1 - i : i;
		uint8_t hi = be[2 * w], lo = be[2 * w + 1];
		regs[i] = byte_swap ? (uint16_t)(lo << 8 | hi) : (uint16_t)(hi << 8 | lo);
	}
}

START_TEST(test_modbus_float32_all_orders)
{
	/* 229.1f = 0x4365199A */
	static const uint8_t be[4] = { 0x43, 0x65, 0x19, 0x9a };
	static const char *const names[] = { "ABCD", "CDAB", "BADC", "DCBA" };
	static const uint16_t expect_regs[4][2] = {
		{ 0x4365, 0x199a },
		{ 0x199a, 0x4365 },
		{ 0x6543, 0x9a19 },
		{ 0x9a19, 0x6543 },
	};
	int o;

	for (o = 0; o < 4; o++) {
		struct fp_mb_field f = fld(FP_MB_FLOAT32, (enum fp_mb_order)o);
		struct fp_mb_value v;
		uint16_t regs[2];
		wire(be, 2, names[o], regs);
		ck_assert_uint_eq(regs[0], expect_regs[o][0]);
		ck_assert_uint_eq(regs[1], expect_regs[o][1]);
		fp_mb_decode(&f, regs, NULL, &v);
		ck_assert_int_eq(v.kind, FP_MB_V_FLOAT);
		ck_assert_msg(v.f == 229.1, "%s: %.17g", names[o], v.f);
	}
}
END_TEST

START_TEST(test_modbus_integer_types_all_orders)
{
	static const char *const names[] = { "ABCD", "CDAB", "BADC", "DCBA" };
	static const struct {
		enum fp_mb_type t;
		uint8_t be[8];
		double want;
	} cases[] = {
		{ FP_MB_INT16, { 0xff, 0x85 }, -123 },
		{ FP_MB_UINT16, { 0xff, 0x85 }, 65413 },
		{ FP_MB_INT32, { 0xff, 0xfe, 0x1d, 0xc0 }, -123456 },
		{ FP_MB_UINT32, { 0x12, 0x34, 0x56, 0x78 }, 305419896 },
		{ FP_MB_INT64, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x85 }, -123 },
		{ FP_MB_UINT64,
		  { 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06 },
		  1108152157446.0 },
		{ FP_MB_FLOAT64,
		  { 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18 },
		  3.141592653589793 },
	};
	size_t c;
	int o;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (o = 0; o < 4; o++) {
			struct fp_mb_field f = fld(cases[c].t, (enum fp_mb_order)o);
			struct fp_mb_value v;
			uint16_t regs[4];
			wire(cases[c].be, f.count, names[o], regs);
			fp_mb_decode(&f, regs, NULL, &v);
			ck_assert_int_eq(v.kind, FP_MB_V_FLOAT);
			ck_assert_msg(v.f == cases[c].want, "%s %s: %.17g",
				      fp_mb_type_name(cases[c].t), names[o], v.f);
		}
	}
}
END_TEST

START_TEST(test_modbus_int_output_exact)
{
	static const uint8_t be[8] = { 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	struct fp_mb_field f = fld(FP_MB_INT64, FP_MB_ABCD);
	struct fp_mb_value v;
	uint16_t regs[4];

	f.out = FP_MB_OUT_INT;
	wire(be, 4, "ABCD", regs);
	fp_mb_decode(&f, regs, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_INT);
	ck_assert_int_eq(v.i, INT64_MAX - 1); /* beyond 2^53, exact */
}
END_TEST

START_TEST(test_modbus_scale_offset)
{
	struct fp_mb_field f = fld(FP_MB_UINT32, FP_MB_CDAB);
	struct fp_mb_value v;
	uint16_t regs[2] = { 0x86a0, 0x0001 }; /* 100000, low word first */

	f.scale = 0.01;
	f.offset = -5;
	fp_mb_decode(&f, regs, NULL, &v);
	ck_assert(fabs(v.f - 995.0) < 1e-9);
}
END_TEST

START_TEST(test_modbus_sentinels)
{
	struct fp_mb_field f = fld(FP_MB_INT16, FP_MB_ABCD);
	struct fp_mb_value v;
	uint16_t na = 0x8000, ok = 0x0005;
	uint16_t nanf[2] = { 0x7fc0, 0x0000 };

	f.sentinel[f.nsentinels++] = 0x8000;
	fp_mb_decode(&f, &na, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_NONE);
	fp_mb_decode(&f, &ok, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_FLOAT);
	ck_assert(v.f == 5);
	f = fld(FP_MB_FLOAT32, FP_MB_ABCD);
	fp_mb_decode(&f, nanf, NULL, &v); /* NaN: no field, never a bogus number */
	ck_assert_int_eq(v.kind, FP_MB_V_NONE);
}
END_TEST

/* Sentinels as written in a config: unsigned, two's complement, and
 * 0xFFFFFFFF (which libconfig reads as the 32-bit int -1); "bit" is
 * bool's alias; a sentinel wider than its field is an error. */
static struct fp_mb_config *parse_modbus(const char *text, struct fp_cfg_errors *errs)
{
	config_t lc;
	struct fp_config cfg;
	struct fp_mb_config *mc;

	fp_config_defaults(&cfg);
	config_init(&lc);
	ck_assert_msg(config_read_string(&lc, text) == CONFIG_TRUE, "%s", config_error_text(&lc));
	memset(errs, 0, sizeof(*errs));
	mc = fp_mb_config_parse(config_lookup(&lc, "modbus"), &cfg, errs);
	config_destroy(&lc);
	fp_config_free(&cfg);
	return mc;
}

START_TEST(test_modbus_config_sentinels_and_bit)
{
	struct fp_cfg_errors errs;
	struct fp_mb_config *mc = parse_modbus(
		"modbus: { devices = ( { name = \"d\"; url = \"tcp://127.0.0.1:502\"; registers = (\n"
		"  { field = \"e\"; address = 0; type = \"uint32\"; sentinel = 0xFFFFFFFF; },\n"
		"  { field = \"t\"; address = 2; type = \"int16\"; sentinel = [ -32768, 0x7FFF ]; },\n"
		"  { field = \"u\"; address = 3; type = \"uint16\"; sentinel = 0xFFFF; },\n"
		"  { field = \"q\"; address = 4; type = \"uint64\"; sentinel = 0xFFFFFFFFFFFFFFFFL; },\n"
		"  { field = \"b\"; address = 8; type = \"bit\"; bit = 3; } ); } ); };",
		&errs);
	const struct fp_mb_field *f;
	struct fp_mb_value v;
	uint16_t all[4] = { 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF }, i16 = 0x8000, one[2] = { 0, 1 };

	ck_assert_msg(mc != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	ck_assert_int_eq(mc->ndevs, 1);
	ck_assert_int_eq(mc->devs[0].nfields, 5);
	f = &mc->devs[0].fields[0];
	ck_assert_uint_eq(f->sentinel[0], 0xFFFFFFFFu);
	fp_mb_decode(f, all, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_NONE);
	fp_mb_decode(f, one, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_FLOAT);
	ck_assert(v.f == 1);
	f = &mc->devs[0].fields[1];
	ck_assert_uint_eq(f->sentinel[0], 0x8000u);
	ck_assert_uint_eq(f->sentinel[1], 0x7FFFu);
	fp_mb_decode(f, &i16, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_NONE);
	f = &mc->devs[0].fields[2];
	fp_mb_decode(f, all, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_NONE);
	f = &mc->devs[0].fields[3];
	fp_mb_decode(f, all, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_NONE);
	f = &mc->devs[0].fields[4];
	ck_assert_int_eq(f->type, FP_MB_BOOL);
	ck_assert_int_eq(f->bit, 3);
	fp_mb_config_free(mc);
	fp_cfg_errors_reset(&errs);

	mc = parse_modbus(
		"modbus: { devices = ( { name = \"d\"; url = \"tcp://127.0.0.1:502\"; registers = (\n"
		"  { field = \"u\"; address = 0; type = \"uint16\"; sentinel = 70000; },\n"
		"  { field = \"s\"; address = 1; type = \"int16\"; sentinel = -32769; } ); } ); };",
		&errs);
	ck_assert_ptr_null(mc);
	ck_assert_int_ge(errs.n, 1);
	ck_assert_msg(strstr(errs.msgs[0], "sentinel 70000 does not fit the 16 bits of a uint16"),
		      "%s", errs.msgs[0]);
	fp_cfg_errors_reset(&errs);

	/* A .csv profile's phase follows the same rule as a register's. */
	{
		char csv[64], text[512];
		FILE *fp;
		snprintf(csv, sizeof(csv), "/tmp/fp-check-modbus-%d.csv", (int)getpid());
		fp = fopen(csv, "w");
		ck_assert_ptr_nonnull(fp);
		fputs("address,type,name,phase\n0,float32,voltage_v,L1\n2,float32,current_a,L 2\n",
		      fp);
		fclose(fp);
		snprintf(text, sizeof(text),
			 "modbus: { devices = ( { name = \"d\"; url = \"tcp://127.0.0.1:502\"; "
			 "profile = \"%s\"; } ); };",
			 csv);
		mc = parse_modbus(text, &errs);
		unlink(csv);
		ck_assert_ptr_null(mc);
		ck_assert_int_ge(errs.n, 1);
		ck_assert_msg(strstr(errs.msgs[0], ":3: phase: 'L 2' must be 1-16 characters"),
			      "%s", errs.msgs[0]);
		fp_cfg_errors_reset(&errs);
	}
}
END_TEST

/* Writes text to a temporary .csv profile and parses a device using it. */
static struct fp_mb_config *parse_csv_profile(const char *text, struct fp_cfg_errors *errs,
					      char *csv, size_t csvlen)
{
	char conf[512];
	struct fp_mb_config *mc;
	FILE *fp;

	snprintf(csv, csvlen, "/tmp/fp-check-modbus-%d.csv", (int)getpid());
	fp = fopen(csv, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	snprintf(conf, sizeof(conf),
		 "modbus: { devices = ( { name = \"d\"; url = \"tcp://127.0.0.1:502\"; "
		 "profile = \"%s\"; } ); };",
		 csv);
	mc = parse_modbus(conf, errs);
	unlink(csv);
	return mc;
}

/* A .csv profile that must be refused with exactly the messages want[]
 * (each after the file's name). */
static void csv_profile_fails(const char *text, const char *const *want)
{
	struct fp_cfg_errors errs;
	char csv[64], where[160];
	size_t i;

	ck_assert_ptr_null(parse_csv_profile(text, &errs, csv, sizeof(csv)));
	for (i = 0; want[i]; i++) {
		ck_assert_uint_gt(errs.n, i);
		snprintf(where, sizeof(where), "%s%s", csv, want[i]);
		ck_assert_str_eq(errs.msgs[i], where);
	}
	ck_assert_uint_eq(errs.n, i);
	fp_cfg_errors_reset(&errs);
}

/* A .csv profile is RFC 4180: quoted fields hold commas, doubled quotes
 * and line breaks without shifting the columns after them; errors name
 * the file and the line. */
START_TEST(test_modbus_csv_profile_quoting)
{
	struct fp_cfg_errors errs;
	struct fp_mb_config *mc;
	const struct fp_mb_device_cfg *d;
	char csv[64];

	mc = parse_csv_profile("# comment, with \"quotes\"\n"
			       "address,description,type,name,phase\n"
			       "0,\"Voltage, L1-N\",float32,voltage_v,L1\n"
			       "6,\"Current \"\"L1\"\", in A\",float32,\"current_a\",\"L1\"\n"
			       "\"12\",\"Active power,\nall phases\",float32,power_w,\n"
			       "  # a comment between records\n"
			       "14 , \"\" , uint16 , \"status\" , \n",
			       &errs, csv, sizeof(csv));
	ck_assert_msg(mc != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	d = &mc->devs[0];
	ck_assert_int_eq(d->nfields, 4);
	ck_assert_str_eq(d->fields[0].field, "voltage_v");
	ck_assert_str_eq(d->fields[0].phase, "L1");
	ck_assert_int_eq(d->fields[0].type, FP_MB_FLOAT32);
	ck_assert_uint_eq(d->fields[0].address, 0);
	ck_assert_int_eq(d->fields[0].line, 3);
	ck_assert_str_eq(d->fields[1].field, "current_a");
	ck_assert_str_eq(d->fields[1].phase, "L1");
	ck_assert_uint_eq(d->fields[1].address, 6);
	ck_assert_int_eq(d->fields[1].line, 4);
	ck_assert_str_eq(d->fields[2].field, "power_w");
	ck_assert_ptr_null(d->fields[2].phase);
	ck_assert_uint_eq(d->fields[2].address, 12);
	ck_assert_int_eq(d->fields[2].line, 5);
	ck_assert_str_eq(d->fields[3].field, "status");
	ck_assert_int_eq(d->fields[3].type, FP_MB_UINT16);
	ck_assert_uint_eq(d->fields[3].address, 14);
	ck_assert_int_eq(d->fields[3].line, 8);
	fp_mb_config_free(mc);
	fp_cfg_errors_reset(&errs);

	/* Errors: after a record of two lines, at the right line; a quote
	 * not closed (where it opens); too few columns; a bad value in a
	 * quoted field; no header; a header without the needed columns. */
	csv_profile_fails("address,type,name,description\n"
			  "0,float32,a,\"two\nlines\"\n"
			  "2,float32,b\n"
			  "\"x4\",float32,c,\"d\"\n"
			  "6,float32,d,\"open\n",
			  (const char *const[]){ ":4: 3 columns, the header has 4",
						 ":5: address: 'x4' is not a number 0-65535",
						 ":6: a quoted field is not closed", NULL });
	csv_profile_fails(
		"# only a comment\n\n",
		(const char *const[]){ ":2: no header line (address,type,name,...)", NULL });
	csv_profile_fails("address,kind,name\n0,float32,a\n",
			  (const char *const[]){ ":1: the header needs the columns address, type "
						 "and name (or field)",
						 NULL });
}
END_TEST

/* #19: a .csv profile has sentinel (raw values, '|' between), output (a
 * model code stays an integer) and bit columns, checked like the .conf
 * keys. */
START_TEST(test_modbus_csv_profile_sentinel_output)
{
	struct fp_cfg_errors errs;
	struct fp_mb_config *mc;
	const struct fp_mb_device_cfg *d;
	struct fp_mb_value v;
	uint16_t all[2] = { 0xFFFF, 0xFFFF }, i16 = 0x8000, code = 1234, bits = 0x0008;
	char csv[64];

	mc = parse_csv_profile("address,type,name,output,sentinel,bit,description\n"
			       "0,uint32,energy,,0xFFFFFFFF,,\"kWh, total\"\n"
			       "2,int16,temp,,-32768 | 0x7FFF,,\n"
			       "3,uint16,model,int,,,\n"
			       "4,bool,alarm,,,3,\n",
			       &errs, csv, sizeof(csv));
	ck_assert_msg(mc != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	d = &mc->devs[0];
	ck_assert_int_eq(d->nfields, 4);
	ck_assert_uint_eq(d->fields[0].nsentinels, 1);
	fp_mb_decode(&d->fields[0], all, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_NONE);
	ck_assert_uint_eq(d->fields[1].nsentinels, 2);
	ck_assert_uint_eq(d->fields[1].sentinel[1], 0x7FFF);
	fp_mb_decode(&d->fields[1], &i16, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_NONE);
	fp_mb_decode(&d->fields[2], &code, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_INT);
	ck_assert_int_eq(v.i, 1234);
	ck_assert_int_eq(d->fields[3].bit, 3);
	fp_mb_decode(&d->fields[3], &bits, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_BOOL);
	ck_assert(v.b);
	fp_mb_config_free(mc);
	fp_cfg_errors_reset(&errs);

	csv_profile_fails(
		"address,type,name,output,sentinel,bit\n"
		"0,uint16,a,integer,,\n"
		"1,uint16,b,,70000,\n"
		"2,uint16,c,,1|2|3|4|5,\n"
		"3,uint16,d,,0xZZ,\n"
		"4,uint16,e,,,3\n"
		"5,bool,f,,,16\n",
		(const char *const[]){
			":2: output: 'integer' is not auto, float, int, bool or string",
			":3: sentinel 70000 does not fit the 16 bits of a uint16 (-32768 to "
			"65535)",
			":4: sentinel: at most 4 values",
			":5: sentinel: '0xZZ' is not a list of integers (raw values, '|' "
			"between)",
			":6: bit applies to type = \"bool\" read from holding or input "
			"registers",
			":7: bit: '16' is not 0-15", NULL });
}
END_TEST

/* Device names: 1-64 of A-Z a-z 0-9 _ - .; a TCP URL takes [v6]:port. */
START_TEST(test_modbus_device_name_and_url)
{
	static const struct {
		const char *name, *url, *err;
	} cases[] = {
		{ "pdu-a_1.b", "tcp://[::1]:1502", NULL },
		{ "bad name!", "tcp://127.0.0.1", "name: 'bad name!' must be 1-64 characters" },
		{ "x", "tcp://[::1]x", "expected tcp://HOST[:PORT] or tcp://[IPV6][:PORT]" },
		{ "x", "tcp://fd00::5:502", "expected tcp://HOST[:PORT] or tcp://[IPV6][:PORT]" },
		{ "x", "tcp://h:70000", "the port must be 1-65535" },
	};
	struct fp_cfg_errors errs;
	struct fp_mb_config *mc;
	char text[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "modbus: { devices = ( { name = \"%s\"; url = \"%s\"; registers = (\n"
			 "  { field = \"p\"; address = 0; } ); } ); };",
			 cases[i].name, cases[i].url);
		mc = parse_modbus(text, &errs);
		if (!cases[i].err) {
			ck_assert_msg(mc != NULL, "%s", errs.n ? errs.msgs[0] : "?");
			ck_assert_str_eq(mc->devs[0].host, "::1");
			ck_assert_int_eq(mc->devs[0].port, 1502);
			fp_mb_config_free(mc);
		} else {
			ck_assert_ptr_null(mc);
			ck_assert_int_eq(errs.n, 1);
			ck_assert_msg(strstr(errs.msgs[0], cases[i].err), "%s", errs.msgs[0]);
		}
		fp_cfg_errors_reset(&errs);
	}
}
END_TEST

START_TEST(test_modbus_string_and_bits)
{
	struct fp_mb_field f = fld(FP_MB_STRING, FP_MB_ABCD);
	struct fp_mb_value v;
	uint16_t regs[4] = { 0x5344, 0x4d36, 0x3330, 0x0000 }; /* "SDM630" */
	uint16_t sw[4] = { 0x4453, 0x364d, 0x3033, 0x0000 };
	uint16_t word = 0x0024;
	uint8_t bit = 1;

	f.count = 4;
	fp_mb_decode(&f, regs, NULL, &v);
	ck_assert_int_eq(v.kind, FP_MB_V_STRING);
	ck_assert_str_eq(v.s, "SDM630");
	f.order = FP_MB_BADC;
	fp_mb_decode(&f, sw, NULL, &v);
	ck_assert_str_eq(v.s, "SDM630");
	f = fld(FP_MB_BOOL, FP_MB_ABCD);
	f.bit = 5;
	fp_mb_decode(&f, &word, NULL, &v);
	ck_assert(v.kind == FP_MB_V_BOOL && v.b);
	f.bit = 4;
	fp_mb_decode(&f, &word, NULL, &v);
	ck_assert(v.kind == FP_MB_V_BOOL && !v.b);
	f = fld(FP_MB_BOOL, FP_MB_ABCD);
	f.table = FP_MB_COIL;
	fp_mb_decode(&f, NULL, &bit, &v);
	ck_assert(v.kind == FP_MB_V_BOOL && v.b);
}
END_TEST

static struct fp_mb_field at(enum fp_mb_table t, uint16_t a, enum fp_mb_type ty)
{
	struct fp_mb_field f = fld(ty, FP_MB_ABCD);

	f.table = t;
	f.address = a;
	if (t == FP_MB_COIL || t == FP_MB_DISCRETE)
		f.count = 1;
	return f;
}

START_TEST(test_modbus_plan_coalesces)
{
	struct fp_mb_field fs[] = {
		at(FP_MB_INPUT, 4, FP_MB_FLOAT32),  at(FP_MB_INPUT, 0, FP_MB_FLOAT32),
		at(FP_MB_INPUT, 2, FP_MB_FLOAT32),  at(FP_MB_INPUT, 10, FP_MB_FLOAT32),
		at(FP_MB_HOLDING, 0, FP_MB_UINT16), at(FP_MB_COIL, 3, FP_MB_BOOL),
		at(FP_MB_COIL, 1, FP_MB_BOOL),
	};
	struct fp_mb_plan_limits lim = { 125, 2000, 0, false };
	struct fp_mb_block *b;
	size_t n;

	n = fp_mb_plan(fs, 7, &lim, &b);
	/* coils 1 and 3 (gap 1 > 0): 2; holding: 1; input 0-5 and 10-11: 2 */
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(b[0].table, FP_MB_COIL);
	ck_assert_uint_eq(b[3].start, 0);
	ck_assert_uint_eq(b[3].count, 6);
	ck_assert_uint_eq(b[3].nfields, 3);
	fp_mb_plan_free(b, n);

	lim.max_gap = 4;
	n = fp_mb_plan(fs, 7, &lim, &b);
	ck_assert_uint_eq(n, 3); /* coils 1-3, holding 0, input 0-11 */
	ck_assert_uint_eq(b[2].count, 12);
	fp_mb_plan_free(b, n);

	lim.max_registers = 4;
	n = fp_mb_plan(fs, 7, &lim, &b);
	ck_assert_uint_eq(n, 5); /* input: 0-3, 4-5 ... 10-11 within the gap */
	fp_mb_plan_free(b, n);

	lim.single = true;
	n = fp_mb_plan(fs, 7, &lim, &b);
	ck_assert_uint_eq(n, 7);
	fp_mb_plan_free(b, n);
}
END_TEST

START_TEST(test_modbus_plan_limits_125_and_2000)
{
	static struct fp_mb_field fs[300];
	struct fp_mb_plan_limits lim = { 125, 2000, 0, false };
	struct fp_mb_block *b;
	size_t n, i;

	for (i = 0; i < 300; i++)
		fs[i] = at(FP_MB_HOLDING, (uint16_t)i, FP_MB_UINT16);
	n = fp_mb_plan(fs, 300, &lim, &b);
	ck_assert_uint_eq(n, 3); /* 125 + 125 + 50 */
	ck_assert_uint_eq(b[0].count, 125);
	ck_assert_uint_eq(b[2].count, 50);
	fp_mb_plan_free(b, n);
	fs[7].disabled = true;
	n = fp_mb_plan(fs, 300, &lim, &b);
	ck_assert_uint_eq(n, 4); /* a disabled field leaves a hole */
	fp_mb_plan_free(b, n);
}
END_TEST

START_TEST(test_modbus_names)
{
	ck_assert_int_eq(fp_mb_order_from_name("CDAB"), FP_MB_CDAB);
	ck_assert_int_eq(fp_mb_order_from_name("cdab"), -1);
	ck_assert_int_eq(fp_mb_type_from_name("bit"), FP_MB_BOOL);
	ck_assert_int_eq(fp_mb_type_from_name("float16"), -1);
	ck_assert_int_eq(fp_mb_table_from_name("input"), FP_MB_INPUT);
}
END_TEST

/* ---- SunSpec: a register space the discovery reads ---- */

static uint16_t space[65536];
static bool readable[65536];
static int reads;

static int space_read(void *ctx, uint16_t addr, uint16_t n, uint16_t *regs)
{
	(void)ctx;
	reads++;
	for (unsigned i = 0; i < n; i++) {
		if ((uint32_t)addr + i > 65535 || !readable[addr + i])
			return -112345; /* an exception: illegal address */
		regs[i] = space[addr + i];
	}
	return 0;
}

/* Writes a chain at base: "SunS", then models (id, len) and the end. */
static void chain(unsigned base, const uint16_t (*models)[2], size_t n)
{
	unsigned a = base;

	memset(space, 0, sizeof(space));
	memset(readable, 0, sizeof(readable));
	space[a] = 0x5375;
	space[a + 1] = 0x6E53;
	a += 2;
	for (size_t i = 0; i < n; i++) {
		space[a] = models[i][0];
		space[a + 1] = models[i][1];
		a += 2u + models[i][1];
	}
	space[a] = 0xFFFF;
	space[a + 1] = 0;
	for (unsigned i = base; i <= a + 1; i++)
		readable[i] = true;
}

START_TEST(test_sunspec_discovery_bases_and_lengths)
{
	static const uint16_t m1[][2] = { { 1, 66 }, { 203, 105 } };
	static const uint16_t m2[][2] = { { 1, 65 }, { 103, 50 }, { 1, 65 }, { 203, 105 } };
	static const uint16_t m3[][2] = { { 1, 66 }, { 113, 60 }, { 120, 26 }, { 64001, 7 } };
	static const unsigned bases[] = { 40000, 0, 50000 };
	struct fp_sunspec_model m[FP_SUNSPEC_MAX_MODELS];
	size_t n;
	uint16_t base;
	char why[200];

	for (size_t b = 0; b < 3; b++) {
		chain(bases[b], m1, 2);
		ck_assert_int_eq(
			fp_sunspec_discover(space_read, NULL, m, 64, &n, &base, why, sizeof(why)),
			0);
		ck_assert_uint_eq(base, bases[b]);
		ck_assert_uint_eq(n, 2);
		ck_assert_uint_eq(m[0].id, 1);
		ck_assert_uint_eq(m[0].addr, bases[b] + 2);
		ck_assert_uint_eq(m[1].id, 203);
		ck_assert_uint_eq(m[1].addr,
				  bases[b] + 2 + 2 + 66); /* advanced by the L it reports */
	}
	/* the SolarEdge layout: common L 65, inverter 103, a meter behind it */
	chain(40000, m2, 4);
	ck_assert_int_eq(fp_sunspec_discover(space_read, NULL, m, 64, &n, &base, why, sizeof(why)),
			 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(m[1].addr, 40069);
	ck_assert_uint_eq(m[2].addr, 40121);
	ck_assert_uint_eq(m[3].addr, 40188);
	/* unknown models are listed, not decoded */
	chain(40000, m3, 4);
	ck_assert_int_eq(fp_sunspec_discover(space_read, NULL, m, 64, &n, &base, why, sizeof(why)),
			 0);
	ck_assert_uint_eq(n, 4);
	{
		struct fp_mb_field *f;
		char skipped[200];
		size_t nf = fp_sunspec_fields(m, n, &f, skipped, sizeof(skipped));
		ck_assert_uint_gt(nf, 10);
		ck_assert_ptr_nonnull(strstr(skipped, "120 (L 26"));
		ck_assert_ptr_nonnull(strstr(skipped, "64001 (L 7"));
		fp_sunspec_fields_free(f, nf);
	}
}
END_TEST

START_TEST(test_sunspec_discovery_failures)
{
	static const uint16_t loop[][2] = { { 1, 66 } };
	struct fp_sunspec_model m[FP_SUNSPEC_MAX_MODELS];
	size_t n;
	uint16_t base;
	char why[200];

	/* no marker anywhere */
	memset(readable, 1, sizeof(readable));
	memset(space, 0, sizeof(space));
	ck_assert_int_eq(fp_sunspec_discover(space_read, NULL, m, 64, &n, &base, why, sizeof(why)),
			 -1);
	ck_assert_ptr_nonnull(strstr(why, "no SunSpec marker"));
	/* a chain that never ends: 1000 models of length 0 - the guard */
	chain(0, loop, 1);
	for (unsigned a = 2; a < 4000; a += 2) {
		space[a] = 7;
		space[a + 1] = 0;
		readable[a] = readable[a + 1] = true;
	}
	reads = 0;
	ck_assert_int_eq(fp_sunspec_discover(space_read, NULL, m, 64, &n, &base, why, sizeof(why)),
			 0);
	ck_assert_uint_eq(n, FP_SUNSPEC_MAX_MODELS);
	ck_assert_int_le(reads, 4 + FP_SUNSPEC_MAX_MODELS);
	/* a header that cannot be read mid-chain */
	chain(40000, loop, 1);
	readable[40070] = false;
	ck_assert_int_eq(fp_sunspec_discover(space_read, NULL, m, 64, &n, &base, why, sizeof(why)),
			 -1);
	/* a chain running off the end of the register space */
	memset(space, 0, sizeof(space));
	memset(readable, 1, sizeof(readable));
	space[50000] = 0x5375;
	space[50001] = 0x6E53;
	space[50002] = 1;
	space[50003] = 65000;
	space[40000] = 0;
	ck_assert_int_eq(fp_sunspec_discover(space_read, NULL, m, 64, &n, &base, why, sizeof(why)),
			 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_sunspec_scale_factors_and_sentinels)
{
	static const uint16_t m1[][2] = { { 1, 66 }, { 203, 105 } };
	struct fp_sunspec_model m[FP_SUNSPEC_MAX_MODELS];
	struct fp_mb_field *f;
	struct fp_mb_value *v;
	bool *have;
	size_t n, nf, i;
	uint16_t base, *r;
	char why[200], skipped[10];
	double pw = -1, pf = -1, kwh = -1, va = -1, hz = -1;
	bool var_seen = false;

	chain(40000, m1, 2);
	r = space + 40070;    /* model 203 */
	r[18] = 1234;	      /* W */
	r[22] = 1;	      /* W_SF: x 10 */
	r[33] = 970;	      /* PF, percent x 10 */
	r[37] = (uint16_t)-1; /* PF_SF */
	r[46] = 0x0001;	      /* TotWhImp 0x0001E240 = 123456 Wh */
	r[47] = 0xE240;
	r[54] = 0;
	r[23] = 500; /* VA with VA_SF = 0x8000: unusable */
	r[27] = 0x8000;
	r[16] = 0x8000; /* Hz "not implemented" */
	r[17] = (uint16_t)-2;
	r[28] = 100; /* VAR with an absurd SF */
	r[32] = 40;
	ck_assert_int_eq(fp_sunspec_discover(space_read, NULL, m, 64, &n, &base, why, sizeof(why)),
			 0);
	nf = fp_sunspec_fields(m, n, &f, skipped, sizeof(skipped));
	v = calloc(nf, sizeof(*v));
	have = calloc(nf, sizeof(*have));
	for (i = 0; i < nf; i++) {
		fp_mb_decode(&f[i], space + f[i].address, NULL, &v[i]);
		have[i] = true;
	}
	fp_sunspec_apply_sf(f, nf, v, have);
	for (i = 0; i < nf; i++) {
		if (f[i].hidden || f[i].phase || v[i].kind != FP_MB_V_FLOAT)
			continue;
		if (!strcmp(f[i].field, "power_w"))
			pw = v[i].f;
		if (!strcmp(f[i].field, "power_factor"))
			pf = v[i].f;
		if (!strcmp(f[i].field, "energy_import_kwh"))
			kwh = v[i].f;
		if (!strcmp(f[i].field, "apparent_power_va"))
			va = v[i].f;
		if (!strcmp(f[i].field, "frequency_hz"))
			hz = v[i].f;
		if (!strcmp(f[i].field, "reactive_power_var"))
			var_seen = true;
	}
	ck_assert(pw == 12340);
	ck_assert(pf == 0.97); /* one step: 970 / 10^3 */
	ck_assert(kwh == 123.456);
	ck_assert(va == -1);  /* its SF is "not implemented" */
	ck_assert(hz == -1);  /* the value is */
	ck_assert(!var_seen); /* an SF outside -10..10 */
	/* every scale factor is in the same request as its values */
	{
		struct fp_mb_block *b;
		struct fp_mb_plan_limits lim = { 125, 2000, 125, false };
		size_t nb = fp_mb_plan(f, nf, &lim, &b), k, j;
		for (k = 0; k < nb; k++)
			for (j = 0; j < b[k].nfields; j++) {
				const struct fp_mb_field *x = &f[b[k].fields[j]];
				if (x->sf) {
					const struct fp_mb_field *s = &f[x->sf - 1];
					ck_assert(s->address >= b[k].start &&
						  s->address < b[k].start + b[k].count);
				}
			}
		ck_assert_uint_eq(nb, 2); /* model 1, model 203: one request each */
		fp_mb_plan_free(b, nb);
	}
	free(v);
	free(have);
	fp_sunspec_fields_free(f, nf);
}
END_TEST

/* A Modbus TCP server in a thread for the collector tests: holding
 * registers 0-199 hold their own address, registers marked in hole[]
 * answer exception 2 (to any request touching them), every reply can claim
 * another unit id, and the requests are counted. */
struct srv {
	modbus_t *ctx;
	modbus_mapping_t *map;
	int ls, port;
	pthread_t th;
	atomic_bool stop;
	atomic_bool hole[200];
	atomic_int unit_as; /* -1: the unit asked */
	atomic_int requests;
	/* the reply in two writes 20 ms apart, the first of split bytes;
	 * with trail, one byte more than the frame */
	atomic_int split;
	atomic_bool trail;
};

static void srv_answer(struct srv *s, uint8_t *q, int len)
{
	int h = modbus_get_header_length(s->ctx);
	int fc = q[h], addr = q[h + 1] << 8 | q[h + 2], cnt = q[h + 3] << 8 | q[h + 4], i;

	atomic_fetch_add(&s->requests, 1);
	for (i = addr; fc == 3 && i < addr + cnt && i < 200; i++)
		if (atomic_load(&s->hole[i])) {
			modbus_reply_exception(s->ctx, q, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
			return;
		}
	if (atomic_load(&s->unit_as) >= 0)
		q[h - 1] = (uint8_t)atomic_load(&s->unit_as);
	modbus_reply(s->ctx, q, len, s->map);
}

/* The reply written into a socket pair, then to c in pieces. */
static void srv_answer_split(struct srv *s, int c, uint8_t *q, int len)
{
	uint8_t r[MODBUS_TCP_MAX_ADU_LENGTH + 1];
	struct timespec gap = { 0, 20000000 };
	int sp[2], n, k = atomic_load(&s->split);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	modbus_set_socket(s->ctx, sp[0]);
	srv_answer(s, q, len);
	n = (int)recv(sp[1], r, sizeof(r) - 1, 0);
	ck_assert_int_gt(n, 0);
	if (atomic_load(&s->trail))
		r[n++] = 0;
	if (k <= 0 || k >= n)
		k = n;
	ck_assert_int_eq(send(c, r, (size_t)k, MSG_NOSIGNAL), k);
	nanosleep(&gap, NULL);
	if (n > k)
		ck_assert_int_eq(send(c, r + k, (size_t)(n - k), MSG_NOSIGNAL), n - k);
	close(sp[0]);
	close(sp[1]);
	modbus_set_socket(s->ctx, c);
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	int c = -1;

	while (!atomic_load(&s->stop)) {
		fd_set rd;
		struct timeval tv = { 0, 50000 };
		uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
		int rc;

		FD_ZERO(&rd);
		FD_SET(s->ls, &rd);
		if (c >= 0)
			FD_SET(c, &rd);
		if (select((c > s->ls ? c : s->ls) + 1, &rd, NULL, NULL, &tv) <= 0)
			continue;
		if (FD_ISSET(s->ls, &rd)) {
			if (c >= 0)
				close(c);
			c = accept(s->ls, NULL, NULL);
			continue;
		}
		modbus_set_socket(s->ctx, c);
		rc = modbus_receive(s->ctx, q);
		if (rc > 0 && (atomic_load(&s->split) || atomic_load(&s->trail))) {
			srv_answer_split(s, c, q, rc);
		} else if (rc > 0) {
			srv_answer(s, q, rc);
		} else if (rc < 0) {
			close(c);
			c = -1;
		}
	}
	if (c >= 0)
		close(c);
	return NULL;
}

static void srv_start(struct srv *s)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int i;

	memset(s, 0, sizeof(*s));
	atomic_store(&s->unit_as, -1);
	s->map = modbus_mapping_new(0, 0, 200, 0);
	ck_assert_ptr_nonnull(s->map);
	for (i = 0; i < 200; i++)
		s->map->tab_registers[i] = (uint16_t)i;
	s->ctx = modbus_new_tcp("127.0.0.1", 0);
	s->ls = modbus_tcp_listen(s->ctx, 4);
	ck_assert_int_ge(s->ls, 0);
	ck_assert_int_eq(getsockname(s->ls, (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->th, NULL);
	close(s->ls);
	modbus_free(s->ctx);
	modbus_mapping_free(s->map);
}

/* The collector over a device of the server with the given registers. */
struct coll {
	struct fp_config cfg;
	struct fp_mb_config *mc;
	void *inst;
};

static void coll_push(void *arg, struct fp_batch *b)
{
	(void)arg;
	(void)b;
}

static void coll_new(struct coll *c, const struct srv *s, const char *dev_keys,
		     const char *registers)
{
	struct fp_cfg_errors errs;
	char *text = fp_xasprintf(
		"modbus: { devices = ( { name = \"d\"; url = "
		"\"tcp://127.0.0.1:%d\"; timeout = \"2s\"; %s registers = ( %s ); } ); };",
		s->port, dev_keys, registers);

	c->mc = parse_modbus(text, &errs);
	ck_assert_msg(c->mc != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	free(text);
	fp_config_defaults(&c->cfg);
	c->inst = fp_modbus_collector.create(c->mc, &c->cfg, coll_push, NULL);
}

static void coll_free(struct coll *c)
{
	fp_modbus_collector.destroy(c->inst);
	fp_mb_config_free(c->mc);
	fp_config_free(&c->cfg);
}

/* One --once style poll: returns the requests it cost; the point's
 * fields go to b. */
static int coll_poll(struct coll *c, struct srv *s, struct fp_batch *b)
{
	int before = atomic_load(&s->requests);

	fp_batch_reset(b);
	fp_modbus_collector.gather(c->inst, b);
	return atomic_load(&s->requests) - before;
}

/* The integer field key of the (one) meter point in b; -1 if absent. */
static int64_t meter_field(const struct fp_batch *b, const char *key)
{
	size_t i, k;

	for (i = 0; i < b->n; i++) {
		if (strcmp(b->pts[i].measurement, "meter"))
			continue;
		for (k = 0; k < b->pts[i].nfields; k++)
			if (!strcmp(b->pts[i].fields[k].key, key))
				return b->pts[i].fields[k].v.i;
	}
	return -1;
}

/* Fields r<address> of one uint16 register each, output as integers. */
static char *uint16_regs(const unsigned *addr, size_t n)
{
	char *s = fp_xstrdup(""), *t;
	size_t i;

	for (i = 0; i < n; i++) {
		t = fp_xasprintf("%s%s{ field = \"r%u\"; address = %u; type = \"uint16\"; "
				 "output = \"int\"; }",
				 s, i ? ", " : "", addr[i], addr[i]);
		free(s);
		s = t;
	}
	return s;
}

/* #19: an unserved register (a vendor map used as is) costs only its
 * field, in the same poll: the others are read and written at once. */
START_TEST(test_modbus_unserved_register_same_poll)
{
	static const unsigned a[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	struct srv s;
	struct coll c;
	struct fp_batch b;
	char *regs = uint16_regs(a, 8);
	int n;

	srv_start(&s);
	atomic_store(&s.hole[5], true);
	coll_new(&c, &s, "", regs);
	fp_batch_init(&b);
	n = coll_poll(&c, &s, &b);
	for (unsigned i = 0; i < 8; i++) {
		char k[8];
		snprintf(k, sizeof(k), "r%u", i);
		ck_assert_int_eq(meter_field(&b, k), i == 5 ? -1 : (int64_t)i);
	}
	/* bisected: 0-7 fails, 0-3 ok, 4-7 fails, 4-5 fails, 4 ok, 5
	 * dropped, 6-7 ok */
	ck_assert_int_eq(n, 7);
	/* the next polls read the parts: 0-3, 4, 6-7, and 5 alone when
	 * its retry is due (poll 2, then 4) */
	ck_assert_int_eq(coll_poll(&c, &s, &b), 4);
	ck_assert_int_eq(coll_poll(&c, &s, &b), 3);
	ck_assert_int_eq(meter_field(&b, "r7"), 7);
	fp_batch_reset(&b);
	coll_free(&c);
	srv_stop(&s);
	free(regs);
}
END_TEST

/* #19: a failed merged read across holes is split into its contiguous
 * runs (5 requests), not read field by field (11). */
START_TEST(test_modbus_split_into_runs)
{
	static const unsigned a[] = { 0, 1, 2, 10, 11, 20, 21, 30, 31, 40, 41 };
	struct srv s;
	struct coll c;
	struct fp_batch b;
	char *regs = uint16_regs(a, 11);
	int i;

	srv_start(&s);
	for (i = 0; i < 200; i++) /* a strict meter: only mapped registers */
		atomic_store(&s.hole[i], true);
	for (i = 0; i < 11; i++)
		atomic_store(&s.hole[a[i]], false);
	coll_new(&c, &s, "max_gap = 20;", regs);
	fp_batch_init(&b);
	ck_assert_int_eq(coll_poll(&c, &s, &b), 1 + 5);
	for (i = 0; i < 11; i++) {
		char k[8];
		snprintf(k, sizeof(k), "r%u", a[i]);
		ck_assert_int_eq(meter_field(&b, k), a[i]);
	}
	ck_assert_int_eq(coll_poll(&c, &s, &b), 5);
	ck_assert_int_eq(meter_field(&b, "r41"), 41);
	fp_batch_reset(&b);
	coll_free(&c);
	srv_stop(&s);
	free(regs);
}
END_TEST

/* #20 item 6: a dropped field is retried after 1, 2, 4 ... polls; one that
 * comes back is read and written again. */
START_TEST(test_modbus_dropped_field_retried)
{
	static const unsigned a[] = { 0, 1, 2, 3 };
	struct srv s;
	struct coll c;
	struct fp_batch b;
	char *regs = uint16_regs(a, 4);
	int p, n;

	srv_start(&s);
	atomic_store(&s.hole[2], true);
	/* interval 1 s: the backoff cap (10 min) is far away */
	coll_new(&c, &s, "interval = \"1s\";", regs);
	fp_batch_init(&b);
	coll_poll(&c, &s, &b); /* poll 1: r2 dropped */
	ck_assert_int_eq(meter_field(&b, "r2"), -1);
	ck_assert_int_eq(meter_field(&b, "r3"), 3);
	/* polls 2-11: retried at polls 2, 4, 8 (each failing), so r2 is
	 * read alone at these polls only: 3 requests (0-1, 2, 3), else 2 */
	for (p = 2; p <= 11; p++) {
		n = coll_poll(&c, &s, &b);
		ck_assert_int_eq(meter_field(&b, "r2"), -1);
		ck_assert_int_eq(meter_field(&b, "r3"), 3);
		ck_assert_msg(n == (p == 2 || p == 4 || p == 8 ? 3 : 2), "poll %d: %d requests", p,
			      n);
	}
	/* served again: the next retry (poll 16) reads it, and later
	 * polls keep it */
	atomic_store(&s.hole[2], false);
	for (p = 12; p <= 17; p++) {
		coll_poll(&c, &s, &b);
		ck_assert_int_eq(meter_field(&b, "r2"), p >= 16 ? 2 : -1);
	}
	/* gone again and back at once (a transient exception 2): the
	 * first retry is the next poll */
	atomic_store(&s.hole[2], true);
	coll_poll(&c, &s, &b);
	ck_assert_int_eq(meter_field(&b, "r2"), -1);
	atomic_store(&s.hole[2], false);
	for (p = 0; p < 10; p++) {
		coll_poll(&c, &s, &b);
		ck_assert_int_eq(meter_field(&b, "r2"), 2);
	}
	fp_batch_reset(&b);
	coll_free(&c);
	srv_stop(&s);
	free(regs);
}
END_TEST

/* #20 item 9: a Modbus TCP reply from another unit (a gateway routing to
 * the wrong device) is rejected and counted, never taken as a value. */
START_TEST(test_modbus_wrong_unit_rejected)
{
	static const unsigned a[] = { 0, 1 };
	struct srv s;
	struct coll c;
	struct fp_batch b, m;
	char *regs = uint16_regs(a, 2);
	size_t i, k;
	int64_t errs = -1;

	srv_start(&s);
	atomic_store(&s.unit_as, 9);
	coll_new(&c, &s, "unit_id = 3;", regs);
	fp_batch_init(&b);
	fp_batch_init(&m);
	coll_poll(&c, &s, &b);
	ck_assert_int_eq(meter_field(&b, "r1"), -1);
	fp_modbus_collector.metrics(c.inst, &m, "lab", "h", 1);
	for (i = 0; i < m.n; i++)
		for (k = 0; k < m.pts[i].nfields; k++)
			if (!strcmp(m.pts[i].fields[k].key, "errors_unit_id"))
				errs = m.pts[i].fields[k].v.i;
	ck_assert_int_eq(errs, 1);
	/* the right unit again: read */
	atomic_store(&s.unit_as, 3);
	coll_poll(&c, &s, &b);
	ck_assert_int_eq(meter_field(&b, "r1"), 1);
	fp_batch_reset(&b);
	fp_batch_reset(&m);
	coll_free(&c);
	srv_stop(&s);
	free(regs);
}
END_TEST

/* The reply is framed by the collector (tcp_recv): one that arrives in
 * pieces, even the MBAP header cut, is read whole; one byte beyond the
 * frame makes the read fail (and the next poll reads again). */
START_TEST(test_modbus_tcp_reply_in_pieces)
{
	static const unsigned a[] = { 0, 1 };
	static const int cuts[] = { 1, 3, 7, 8, 9, 10 };
	struct srv s;
	struct coll c;
	struct fp_batch b;
	char *regs = uint16_regs(a, 2);
	size_t i;

	srv_start(&s);
	coll_new(&c, &s, "unit_id = 1;", regs);
	fp_batch_init(&b);
	for (i = 0; i < FP_ARRAY_SIZE(cuts); i++) {
		atomic_store(&s.split, cuts[i]);
		coll_poll(&c, &s, &b);
		ck_assert_int_eq(meter_field(&b, "r1"), 1);
	}
	atomic_store(&s.split, 0);
	atomic_store(&s.trail, true);
	coll_poll(&c, &s, &b);
	ck_assert_int_eq(meter_field(&b, "r1"), -1);
	atomic_store(&s.trail, false);
	coll_poll(&c, &s, &b);
	ck_assert_int_eq(meter_field(&b, "r1"), 1);
	fp_batch_reset(&b);
	coll_free(&c);
	srv_stop(&s);
	free(regs);
}
END_TEST

static Suite *modbus_suite(void)
{
	Suite *s = suite_create("modbus");
	TCase *dec = tcase_create("decode"), *plan = tcase_create("plan");
	TCase *coll = tcase_create("collector");

	tcase_add_test(dec, test_modbus_float32_all_orders);
	tcase_add_test(dec, test_modbus_integer_types_all_orders);
	tcase_add_test(dec, test_modbus_int_output_exact);
	tcase_add_test(dec, test_modbus_scale_offset);
	tcase_add_test(dec, test_modbus_sentinels);
	tcase_add_test(dec, test_modbus_config_sentinels_and_bit);
	tcase_add_test(dec, test_modbus_csv_profile_quoting);
	tcase_add_test(dec, test_modbus_csv_profile_sentinel_output);
	tcase_add_test(dec, test_modbus_device_name_and_url);
	tcase_add_test(dec, test_modbus_string_and_bits);
	tcase_add_test(dec, test_modbus_names);
	tcase_add_test(plan, test_modbus_plan_coalesces);
	tcase_add_test(plan, test_modbus_plan_limits_125_and_2000);
	tcase_add_test(plan, test_sunspec_discovery_bases_and_lengths);
	tcase_add_test(plan, test_sunspec_discovery_failures);
	tcase_add_test(plan, test_sunspec_scale_factors_and_sentinels);
	tcase_add_test(coll, test_modbus_unserved_register_same_poll);
	tcase_add_test(coll, test_modbus_split_into_runs);
	tcase_add_test(coll, test_modbus_dropped_field_retried);
	tcase_add_test(coll, test_modbus_wrong_unit_rejected);
	tcase_add_test(coll, test_modbus_tcp_reply_in_pieces);
	suite_add_tcase(s, dec);
	suite_add_tcase(s, plan);
	suite_add_tcase(s, coll);
	return s;
}

FP_CHECK_MAIN(modbus_suite)
