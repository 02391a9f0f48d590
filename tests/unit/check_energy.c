/* check_energy.c - the energy indicators: the worked examples (the TV
 * vectors), meter steps, calendar windows, the ledger and the engine. */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "energy.h"
#include "fp_check.h"
#include "indicators.h"
#include "ledger.h"
#include "orgreport.h"
#include "roles.h"
#include "util.h"

/* Relative tolerance 1e-9 where the expected value is given in full. */
#define ck_rel(a, b)                                                                       \
	ck_assert_msg(fabs((double)(a) - (double)(b)) <= 1e-9 * fabs((double)(b)) + 1e-12, \
		      "%.12g != %.12g", (double)(a), (double)(b))

static void tz(const char *zone)
{
	setenv("TZ", zone, 1);
	tzset();
}

/* Window sums with the given quantities present. */
static struct fp_window_sums sums(void)
{
	struct fp_window_sums s;

	memset(&s, 0, sizeof(s));
	s.co2e_location_kg = s.co2e_market_kg = NAN;
	return s;
}

static void put(struct fp_window_sums *s, enum fp_qty q, double v)
{
	s->q[q].present = true;
	s->q[q].value = v;
	s->q[q].coverage = 1;
}

START_TEST(test_tv_pue_1)
{
	struct fp_window_sums s = sums();
	struct fp_kpis k;

	put(&s, FP_Q_FACILITY, 1300000);
	put(&s, FP_Q_IT, 1000000);
	fp_kpis_compute(&s, &k);
	ck_assert(k.pue.defined);
	ck_rel(k.pue.value, 1.3);
	ck_rel(k.dcie.value, 0.76923076923076923);
}
END_TEST

START_TEST(test_tv_pue_3_ppue)
{
	struct fp_ratio r = fp_ppue(800000, 40000 + 60000, 1);

	ck_assert(r.defined);
	ck_rel(r.value, 1.125);
}
END_TEST

START_TEST(test_tv_ref_erf_cer_wue)
{
	struct fp_window_sums s = sums();
	struct fp_kpis k;

	/* TV-REF-1: GO-backed 500 000 + on-site PV 150 000 over 1 300 000. */
	put(&s, FP_Q_FACILITY, 1300000);
	put(&s, FP_Q_IT, 1000000);
	put(&s, FP_Q_RENEWABLE_ONSITE, 150000);
	s.go_kwh = 500000;
	/* TV-ERF-1 */
	put(&s, FP_Q_REUSE, 260000);
	/* TV-CER-1 */
	put(&s, FP_Q_COOLING_HEAT, 1050000);
	put(&s, FP_Q_COOLING, 210000);
	/* TV-WUE-1: 2 500 m3 */
	put(&s, FP_Q_WATER, 2500);
	fp_kpis_compute(&s, &k);
	ck_rel(k.ref.value, 0.5);
	ck_assert(!k.ref_capped);
	ck_rel(k.erf.value, 0.2);
	ck_rel(k.ere.value, 1.04);
	ck_rel(k.cer.value, 5.0);
	ck_rel(k.wue_l_per_kwh.value, 2.5);

	/* TV-REF-2 (r = 99 kWh of x = 147 kWh) and TV-ERF-2 (60 of 100 MWh). */
	s = sums();
	put(&s, FP_Q_FACILITY, 147);
	put(&s, FP_Q_RENEWABLE_ONSITE, 99);
	fp_kpis_compute(&s, &k);
	ck_rel(k.ref.value, 99.0 / 147.0);
	ck_assert(fabs(k.ref.value - 0.673469) < 1e-6);
	s = sums();
	put(&s, FP_Q_FACILITY, 100000);
	put(&s, FP_Q_REUSE, 60000);
	fp_kpis_compute(&s, &k);
	ck_rel(k.erf.value, 0.6);
	ck_assert(!k.pue.defined); /* no IT quantity: undefined, not 0 */
}
END_TEST

START_TEST(test_tv_eu_1)
{
	struct fp_window_sums s = sums();
	struct fp_kpis k;

	put(&s, FP_Q_FACILITY, 13140000);
	put(&s, FP_Q_IT, 10950000);
	put(&s, FP_Q_WATER, 21900);
	put(&s, FP_Q_REUSE, 1314000);
	s.go_kwh = 6570000;
	fp_kpis_compute(&s, &k);
	ck_rel(k.pue.value, 1.2);
	ck_rel(k.wue_l_per_kwh.value, 2.0);
	ck_rel(k.erf.value, 0.1);
	ck_rel(k.ref.value, 0.5);
}
END_TEST

START_TEST(test_tv_scope2_cue)
{
	struct fp_window_sums s = sums();
	struct fp_kpis k;
	double loc, mkt;

	/* TV-S2-1, TV-S2-2, TV-CUE-1 */
	fp_scope2(1300000, 650000, 0.233, 0.45, &loc, &mkt);
	ck_rel(loc, 302900);
	ck_rel(mkt, 292500);
	put(&s, FP_Q_FACILITY, 1300000);
	put(&s, FP_Q_GRID, 1300000);
	put(&s, FP_Q_IT, 1000000);
	fp_scope2(1300000, 0, 0.233, -1, &s.co2e_location_kg, &s.co2e_market_kg);
	fp_kpis_compute(&s, &k);
	ck_assert(k.co2e_location_defined);
	ck_rel(k.co2e_location_kg, 302900);
	ck_rel(k.cue_location.value, 0.3029);
	/* No residual mix: the market-based method falls back to the grid
	 * average for what certificates do not cover. */
	ck_rel(k.co2e_market_kg, 302900);
	/* No factor at all: undefined, never 0. */
	fp_scope2(1300000, 0, -1, -1, &loc, &mkt);
	ck_assert(isnan(loc) && isnan(mkt));
}
END_TEST

START_TEST(test_tv_telecom)
{
	struct fp_window_sums s = sums();
	struct fp_kpis k;

	/* TV-SEE-1 */
	put(&s, FP_Q_TELECOM_EQUIPMENT, 8760);
	put(&s, FP_Q_TELECOM_SITE, 10950);
	fp_kpis_compute(&s, &k);
	ck_rel(k.see.value, 0.8);
	/* TV-MN-1: 120 TB = 9.6e14 bit over 50 000 kWh */
	s = sums();
	put(&s, FP_Q_DATA_VOLUME, 9.6e14);
	put(&s, FP_Q_TELECOM_SITE, 50000);
	fp_kpis_compute(&s, &k);
	ck_rel(k.ee_bit_per_j.value, 16000.0 / 3.0);
}
END_TEST

START_TEST(test_undefined_and_below_one)
{
	struct fp_window_sums s = sums();
	struct fp_kpis k;

	put(&s, FP_Q_FACILITY, 100);
	put(&s, FP_Q_IT, 0);
	fp_kpis_compute(&s, &k);
	ck_assert(!k.pue.defined);
	ck_assert(k.dcie.defined && k.dcie.value == 0);
	put(&s, FP_Q_FACILITY, 90);
	put(&s, FP_Q_IT, 100);
	fp_kpis_compute(&s, &k);
	ck_rel(k.pue.value, 0.9); /* flagged by the engine, never clamped */
	/* Over-procurement: REF capped at 1 and flagged. */
	s = sums();
	put(&s, FP_Q_FACILITY, 1000);
	s.go_kwh = 1500;
	fp_kpis_compute(&s, &k);
	ck_assert(k.ref_capped);
	ck_rel(k.ref.value, 1.0);
	/* Coverage of a ratio: the least covered of its terms. */
	s = sums();
	put(&s, FP_Q_FACILITY, 130);
	put(&s, FP_Q_IT, 100);
	s.q[FP_Q_IT].coverage = 0.75;
	fp_kpis_compute(&s, &k);
	ck_rel(k.pue.coverage, 0.75);
}
END_TEST

START_TEST(test_fuel_conversion)
{
	double coef[FP_NQTY];

	/* TV-S1-1 and TV-PUE-4: litres of diesel into E_DC at 9.9 kWh/l. */
	ck_assert_int_eq(fp_role_members("fuel_diesel", "l", coef), 0);
	ck_rel(1000 * coef[FP_Q_FACILITY], 9900);
	ck_rel(1299010 + 100 * coef[FP_Q_FACILITY], 1300000);
	ck_assert_int_eq(fp_role_members("fuel_gas", "m3", coef), 0);
	ck_rel(coef[FP_Q_FACILITY], 10.5);
	ck_assert_int_eq(fp_role_members("fuel_hydrogen", "kg", coef), 0);
	ck_rel(coef[FP_Q_FACILITY], 38.9);
	ck_assert_int_eq(fp_role_members("fuel_bioethanol", "l", coef), 0);
	ck_rel(coef[FP_Q_FACILITY], 6.0);
	/* A grid meter is in E_DC and in the Scope 2 grid quantity; Wh
	 * registers count in kWh. */
	ck_assert_int_eq(fp_role_members("facility", "wh", coef), 0);
	ck_rel(coef[FP_Q_FACILITY], 1e-3);
	ck_rel(coef[FP_Q_GRID], 1e-3);
	ck_assert_int_eq(fp_role_members("data_volume", "byte", coef), 0);
	ck_rel(coef[FP_Q_DATA_VOLUME], 8);
	ck_assert_int_eq(fp_role_members("renewable_onsite", "kwh", coef), 0);
	ck_rel(coef[FP_Q_FACILITY], 1);
	ck_rel(coef[FP_Q_GRID], 0);
	ck_assert_int_eq(fp_role_members("nonsense", "kwh", coef), -1);
}
END_TEST

/* The organisation's sums: quantities add up, each ratio is the sum of the
 * sites' numerators over the sum of their denominators (here a site whose
 * PUE relates only part of its energy), Scope 2 is undefined when one site's
 * is, coverage is per site (NAN). */
START_TEST(test_org_sums_first)
{
	struct fp_report_period a, b, c, o;
	const struct fp_report_period *p[3] = { &a, &b, &c };

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.s = sums();
	b.s = sums();
	put(&a.s, FP_Q_FACILITY, 4000);
	put(&a.s, FP_Q_IT, 3200);
	put(&a.s, FP_Q_GRID, 4000);
	a.s.co2e_location_kg = 800;
	a.s.co2e_market_kg = 600;
	a.s.go_kwh = 100;
	fp_kpis_compute(&a.s, &a.k);
	put(&b.s, FP_Q_FACILITY, 2160);
	put(&b.s, FP_Q_IT, 2000);
	put(&b.s, FP_Q_GRID, 2160);
	put(&b.s, FP_Q_WATER, 3);
	b.s.co2e_location_kg = b.s.co2e_market_kg = 1080; /* no market factor: location */
	fp_kpis_compute(&b.s, &b.k);
	/* b's facility meter started later: its PUE over the common part */
	b.k.pue = fp_ratio(2160, 1200, 0.25);
	b.k.dcie = fp_ratio(1200, 2160, 0.25);
	fp_org_sum_period(p, 2, &o);
	ck_rel(o.s.q[FP_Q_FACILITY].value, 6160);
	ck_rel(o.s.q[FP_Q_IT].value, 5200);
	ck_assert(isnan(o.s.q[FP_Q_IT].coverage));
	ck_rel(o.k.pue.value, 6160.0 / 4400);
	ck_rel(o.k.pue.num, 6160);
	ck_rel(o.k.pue.den, 4400);
	ck_assert(isnan(o.k.pue.coverage) && isnan(o.k.coverage));
	ck_rel(o.k.dcie.value, 4400.0 / 6160);
	/* WUE: only b meters water; a adds nothing to it */
	ck_rel(o.k.wue_l_per_kwh.value, 3000.0 / 2000);
	ck_assert(o.k.co2e_location_defined);
	ck_rel(o.k.co2e_location_kg, 1880);
	ck_rel(o.k.cue_location.value, 1880.0 / 5200);
	ck_rel(o.k.co2e_market_kg, 600 + 1080);
	ck_rel(o.k.e_ren_kwh, 100);
	ck_rel(o.k.ref.value, 100.0 / 6160);
	/* A third site without a Scope 2 factor: undefined, and CUE with it. */
	memset(&c, 0, sizeof(c));
	c.s = sums();
	put(&c.s, FP_Q_FACILITY, 10);
	put(&c.s, FP_Q_IT, 10);
	put(&c.s, FP_Q_GRID, 10);
	fp_kpis_compute(&c.s, &c.k);
	fp_org_sum_period(p, 3, &o);
	ck_assert(!o.k.co2e_location_defined && !o.k.cue_location.defined);
	ck_assert(isnan(o.s.co2e_location_kg));
	ck_rel(o.k.pue.value, 6170.0 / 4410);
	/* No site: nothing defined. */
	fp_org_sum_period(p, 0, &o);
	ck_assert(!o.k.pue.defined && !o.k.co2e_location_defined);
}
END_TEST

/* E-waste: masses and units add up, the rates are recomputed from the
 * sums, the mean age is left per site. */
START_TEST(test_org_ewaste_sums)
{
	struct fp_ewaste a, b, o;
	const struct fp_ewaste *e[2] = { &a, &b };

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.installed_units = 2;
	a.installed_kg = 22;
	a.decommissioned_kg = 55;
	a.recycled_kg = 30;
	a.recycled_documented_kg = 30;
	a.reused_kg = 25;
	a.documented_rate = 30.0 / 55;
	a.mean_age_y = 3;
	b.installed_units = 1;
	b.installed_kg = 10;
	b.decommissioned_kg = 45;
	b.recycled_kg = 40;
	b.recycled_documented_kg = 10;
	b.refurbished_kg = 5;
	b.mean_age_y = 7;
	fp_org_sum_ewaste(e, 2, &o);
	ck_rel(o.installed_units, 3);
	ck_rel(o.installed_kg, 32);
	ck_rel(o.decommissioned_kg, 100);
	ck_rel(o.documented_rate, 40.0 / 100);
	ck_rel(o.reuse_rate, 30.0 / 100);
	ck_assert(isnan(o.mean_age_y));
	fp_org_sum_ewaste(e, 0, &o);
	ck_assert(o.documented_rate < 0 && o.reuse_rate < 0);
}
END_TEST

START_TEST(test_counter_wrap_and_reset)
{
	struct fp_meter_params p = { FP_METER_COUNTER, 4294967296.0, 500000, 0, 300000, false };
	struct fp_step s;

	/* A 32-bit Wh register, 4 294 960 000 -> 5 000 =
	 * 12 296 Wh, plausible over 2 minutes at up to 500 kW. */
	s = fp_meter_step(&p, 0, 4294960000.0, 120000, 5000);
	ck_assert_int_eq(s.kind, FP_STEP_WRAPPED);
	ck_rel(s.amount, 12296);
	/* The same drop within 10 s would take 4.4 MW: a reset/replacement. */
	s = fp_meter_step(&p, 0, 4294960000.0, 10000, 5000);
	ck_assert_int_eq(s.kind, FP_STEP_RESET);
	ck_assert(s.amount == 0);
	/* Without a modulus any decrease is a reset. */
	p.modulus = 0;
	s = fp_meter_step(&p, 0, 1000, 60000, 10);
	ck_assert_int_eq(s.kind, FP_STEP_RESET);
	/* An implausible jump up (a replaced meter with a higher reading). */
	s = fp_meter_step(&p, 0, 1000, 60000, 1000 + 500000);
	ck_assert_int_eq(s.kind, FP_STEP_RESET);
	s = fp_meter_step(&p, 0, 1000, 60000, 1100);
	ck_assert_int_eq(s.kind, FP_STEP_MEASURED);
	ck_rel(s.amount, 100);
	/* Older readings are ignored. */
	s = fp_meter_step(&p, 60000, 1000, 60000, 1100);
	ck_assert_int_eq(s.kind, FP_STEP_BACKWARDS);
}
END_TEST

START_TEST(test_gaps_and_rates)
{
	struct fp_meter_params p = { FP_METER_COUNTER, 0, 0, 0, 300000, false };
	struct fp_step s;

	s = fp_meter_step(&p, 0, 100, 3600000, 150);
	ck_assert_int_eq(s.kind, FP_STEP_GAP);
	ck_assert(s.amount == 0);
	ck_rel(s.unattributed, 50);
	p.interpolate = true;
	s = fp_meter_step(&p, 0, 100, 3600000, 150);
	ck_assert_int_eq(s.kind, FP_STEP_ESTIMATED);
	ck_rel(s.amount, 50);
	/* Trapezoid: 1 kW to 3 kW over 5 minutes = 1/6 kWh. */
	p = (struct fp_meter_params){ FP_METER_RATE, 0, 0, 1 / 3.6e6, 300000, false };
	s = fp_meter_step(&p, 0, 1000, 300000, 3000);
	ck_assert_int_eq(s.kind, FP_STEP_MEASURED);
	ck_rel(s.amount, 2000.0 * 300 / 3.6e6);
	s = fp_meter_step(&p, 0, 1000, 300001, 3000);
	ck_assert_int_eq(s.kind, FP_STEP_GAP);
}
END_TEST

START_TEST(test_windows_dst)
{
	time_t s, e, t;

	tz("Europe/Paris");
	/* 2026-03-29: clocks go from 02:00 to 03:00 - a 23-hour day. */
	t = fp_parse_date("2026-03-29") + 12 * 3600;
	fp_window_of(FP_WIN_DAY, t, &s, &e);
	ck_assert_int_eq(e - s, 23 * 3600);
	ck_assert_int_eq(s, fp_parse_date("2026-03-29"));
	/* 2026-10-25: a 25-hour day. */
	t = fp_parse_date("2026-10-25") + 12 * 3600;
	fp_window_of(FP_WIN_DAY, t, &s, &e);
	ck_assert_int_eq(e - s, 25 * 3600);
	/* March: 31 days less one hour; the year: 365 days. */
	fp_window_of(FP_WIN_MONTH, fp_parse_date("2026-03-15"), &s, &e);
	ck_assert_int_eq(e - s, 31 * 86400 - 3600);
	ck_assert_int_eq(s, 1772319600); /* 2026-03-01T00:00+01:00 */
	fp_window_of(FP_WIN_YEAR, fp_parse_date("2026-07-01"), &s, &e);
	ck_assert_int_eq(e - s, 365 * 86400);
	ck_assert_int_eq(s, 1767222000); /* 2026-01-01T00:00+01:00 */
	/* Hours of a zone 5:30 from UTC start at :30 UTC. */
	tz("Asia/Kolkata");
	fp_window_of(FP_WIN_HOUR, 1767225600 + 100, &s, &e); /* 2026-01-01T00:01:40Z */
	ck_assert_int_eq(s, 1767225600 - 1800);
	ck_assert_int_eq(e - s, 3600);
	tz("UTC");
	ck_assert_int_eq(fp_parse_date("2026-02-29"), -1);
	ck_assert_int_eq(fp_parse_date("2026- 1-01"), -1); /* digits only */
	ck_assert_int_eq(fp_parse_date("2026-01-+1"), -1);
	ck_assert_int_eq(fp_parse_date("+026-01-01"), -1);
	ck_assert_int_eq(fp_parse_date("2024-02-29"), 1709164800);
	ck_assert_int_eq(fp_parse_date("2026-13-01"), -1);
	ck_assert_int_eq(fp_parse_date("2026-1-01"), -1);
	ck_assert_int_eq(fp_parse_date("2026-01-01x"), -1);
}
END_TEST

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/fp-energy-XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_ptr_nonnull(d);
	return fp_xstrdup(d);
}

static void rmdir_all(const char *d)
{
	char *cmd = fp_xasprintf("rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static struct fp_ledger *ledger(const char *dir)
{
	char err[256], *p = fp_xasprintf("%s/ledger.db", dir);
	struct fp_ledger *l = fp_ledger_open(p, false, false, err, sizeof(err));

	ck_assert_msg(l != NULL, "%s", err);
	free(p);
	return l;
}

START_TEST(test_tv_pue_2_ledger_sum_then_divide)
{
	static const double dc[12] = { 110000, 105000, 108000, 107000, 110000, 115000,
				       120000, 121000, 112000, 108000, 105000, 109000 };
	static const double it[12] = { 85000, 82000, 84000, 83000, 84000, 86000,
				       88000, 88500, 85000, 84000, 82000, 84500 };
	char *d = tmpdir();
	struct fp_ledger *l;
	struct fp_window_sums s;
	struct fp_kpis k;
	double mean = 0;
	int m;

	tz("UTC");
	l = ledger(d);
	ck_assert_int_eq(fp_ledger_begin(l), 0);
	fp_ledger_add_boundary(l, "facility", "utility", 1);
	fp_ledger_add_boundary(l, "it", "ups", 1);
	for (m = 0; m < 12; m++) {
		time_t h = fp_local_date(2025, m + 1, 10);
		ck_assert_int_eq(fp_ledger_add(l, "utility", h, dc[m], 3600, 0, 0), 0);
		ck_assert_int_eq(fp_ledger_add(l, "ups", h, it[m], 3600, 0, 0), 0);
		mean += dc[m] / it[m] / 12;
	}
	ck_assert_int_eq(fp_ledger_commit(l), 0);
	ck_assert_int_eq(fp_ledger_sums(l, fp_parse_date("2025-01-01"), fp_parse_date("2026-01-01"),
					fp_parse_date("2026-01-01"), &s),
			 0);
	fp_kpis_compute(&s, &k);
	ck_rel(s.q[FP_Q_FACILITY].value, 1330000);
	ck_rel(s.q[FP_Q_IT].value, 1016000);
	ck_assert(fabs(k.pue.value - 1.3090551181) < 1e-10);
	ck_assert(fabs(mean - 1.3084056213) < 1e-10);
	ck_assert(fabs(k.pue.value - mean) > 1e-4); /* not the mean of ratios */
	/* 12 measured hours out of a year's 8 760 */
	ck_rel(k.coverage, 12.0 / 8760);
	fp_ledger_close(l);
	rmdir_all(d);
	free(d);
}
END_TEST

START_TEST(test_ledger_spread_factors_certificates)
{
	char *d = tmpdir();
	struct fp_ledger *l;
	struct fp_window_sums s;
	time_t y25 = 0, y26 = 0;
	int64_t t0;

	tz("UTC");
	l = ledger(d);
	y25 = fp_parse_date("2025-12-31") + 23 * 3600; /* the last hour of 2025 */
	y26 = y25 + 3600;
	ck_assert_int_eq(fp_ledger_begin(l), 0);
	fp_ledger_set_meta(l, "region", "XX");
	fp_ledger_add_boundary(l, "facility", "grid1", 1);
	fp_ledger_add_boundary(l, "grid", "grid1", 1);
	fp_ledger_add_factor(l, "XX", 2025, "location", 0.2, "test");
	fp_ledger_add_factor(l, "XX", 2026, "location", 0.1, "test");
	fp_ledger_add_factor(l, "XX", 2026, "market", 0.5, "test");
	/* 100 kWh across the year boundary: 30 min in each year. */
	t0 = (int64_t)y26 * 1000 - 1800000;
	ck_assert_int_eq(fp_ledger_spread(l, "grid1", t0, t0 + 3600000, 100, false), 0);
	/* A GO covering all of 2026 (8 760 h) for 87 600 kWh: 10 kWh/h. */
	fp_ledger_add_certificate(l, "go", y26, y26 + 8760 * 3600, 87600);
	ck_assert_int_eq(fp_ledger_commit(l), 0);

	ck_assert_int_eq(fp_ledger_sums(l, y25, y26 + 3600, y26 + 3600, &s), 0);
	ck_rel(s.q[FP_Q_FACILITY].value, 100);
	ck_rel(s.q[FP_Q_FACILITY].coverage, 0.5); /* 1 h measured of 2 */
	/* The GO's 10 kWh of that hour, matched to E_DC's coverage (1 h
	 * measured of 2): 5 kWh. */
	ck_rel(s.go_kwh, 5);
	/* 50 kWh at 2025's 0.2 + 50 kWh at 2026's 0.1 */
	ck_rel(s.co2e_location_kg, 15);
	/* market: 2025 has no residual factor -> grid average for 50 kWh;
	 * 2026 (half an hour measured of one): (50 - 10 x 0.5) kWh at 0.5 */
	ck_rel(s.co2e_market_kg, 10 + 22.5);
	/* A longer period reaching back into 2024, which has neither grid
	 * readings nor a factor: the same emissions, not undefined. */
	ck_assert_int_eq(fp_ledger_sums(l, fp_parse_date("2024-01-01"), y26 + 3600, y26 + 3600, &s),
			 0);
	ck_rel(s.co2e_location_kg, 15);
	ck_rel(s.co2e_market_kg, 10 + 22.5);
	/* An open window counts coverage over its elapsed part only. */
	ck_assert_int_eq(fp_ledger_sums(l, y26, y26 + 3600, y26 + 1800, &s), 0);
	ck_rel(s.q[FP_Q_FACILITY].coverage, 1.0);
	fp_ledger_close(l);

	/* Read-only, as footprint report opens it. */
	{
		char err[256], *p = fp_xasprintf("%s/ledger.db", d);
		struct fp_ledger *r = fp_ledger_open(p, true, false, err, sizeof(err));
		ck_assert_msg(r != NULL, "%s", err);
		ck_assert_int_eq(fp_ledger_sums(r, y25, y26 + 3600, y26 + 3600, &s), 0);
		ck_rel(s.q[FP_Q_GRID].value, 100);
		fp_ledger_close(r);
		free(p);
	}
	rmdir_all(d);
	free(d);
}
END_TEST

/* IT metered from the hour's start, the facility meter from 3 s later (or
 * missing for part of a month): the PUE relates the two over the part where
 * both are measured, never E_DC of 7 s to E_IT of 10 s. */
START_TEST(test_ledger_ratio_over_common_part)
{
	char *d = tmpdir();
	struct fp_ledger *l;
	struct fp_window_sums s;
	struct fp_kpis k;
	time_t h;
	int64_t t0;

	tz("UTC");
	l = ledger(d);
	h = fp_parse_date("2026-03-02") + 10 * 3600;
	t0 = (int64_t)h * 1000;
	ck_assert_int_eq(fp_ledger_begin(l), 0);
	fp_ledger_add_boundary(l, "facility", "utility", 1);
	fp_ledger_add_boundary(l, "it", "ups", 1);
	/* 1000 W of IT over [0 s, 10 s], 1400 W of facility over [3 s, 10 s] */
	ck_assert_int_eq(fp_ledger_spread(l, "ups", t0, t0 + 10000, 1000.0 * 10 / 3.6e6, false), 0);
	ck_assert_int_eq(
		fp_ledger_spread(l, "utility", t0 + 3000, t0 + 10000, 1400.0 * 7 / 3.6e6, false),
		0);
	ck_assert_int_eq(fp_ledger_commit(l), 0);
	/* The totals alone would give 0.98. */
	ck_assert_int_eq(fp_ledger_sums(l, h, h + 3600, h + 10, &s), 0);
	fp_kpis_compute(&s, &k);
	ck_assert(fabs(k.pue.value - 0.98) < 1e-9);
	ck_assert_int_eq(fp_ledger_kpis(l, h, h + 3600, h + 10, &s, &k), 0);
	ck_assert(k.pue.defined);
	ck_assert_msg(fabs(k.pue.value - 1.4) < 1e-9, "pue %.12f", k.pue.value);
	ck_assert(fabs(k.dcie.value - 1 / 1.4) < 1e-9);
	/* matched: 7 s of each; the rest of E_IT is left out, and said */
	ck_rel(k.pue.num, 1400.0 * 7 / 3.6e6);
	ck_rel(k.pue.den, 1000.0 * 7 / 3.6e6);
	ck_rel(k.coverage, 0.7);
	ck_rel(k.pue.coverage, 0.7);
	/* the totals stay the totals */
	ck_rel(s.q[FP_Q_IT].value, 1000.0 * 10 / 3.6e6);
	/* A day with the facility meter missing for a whole hour: that
	 * hour's IT energy is left out of the day's PUE. */
	ck_assert_int_eq(fp_ledger_begin(l), 0);
	ck_assert_int_eq(fp_ledger_add(l, "ups", h + 3600, 100, 3600, 0, 0), 0);
	ck_assert_int_eq(fp_ledger_add(l, "ups", h + 7200, 100, 3600, 0, 0), 0);
	ck_assert_int_eq(fp_ledger_add(l, "utility", h + 7200, 150, 3600, 0, 0), 0);
	ck_assert_int_eq(fp_ledger_commit(l), 0);
	ck_assert_int_eq(fp_ledger_kpis(l, h - 10 * 3600, h + 14 * 3600, h + 3 * 3600, &s, &k), 0);
	ck_rel(k.pue.num, 150 + 1400.0 * 7 / 3.6e6);
	ck_rel(k.pue.den, 100 + 1000.0 * 7 / 3.6e6);
	/* An hour with E_DC and no E_IT: neither the PUE nor the DCiE (was
	 * DCiE = 0 from the totals, the PUE being undefined). */
	ck_assert_int_eq(fp_ledger_begin(l), 0);
	ck_assert_int_eq(fp_ledger_add(l, "utility", h + 3 * 3600, 150, 3600, 0, 0), 0);
	ck_assert_int_eq(fp_ledger_commit(l), 0);
	ck_assert_int_eq(fp_ledger_kpis(l, h + 3 * 3600, h + 4 * 3600, h + 4 * 3600, &s, &k), 0);
	ck_assert(!k.pue.defined);
	ck_assert_msg(!k.dcie.defined, "dcie %g", k.dcie.value);
	fp_ledger_close(l);
	rmdir_all(d);
	free(d);
}
END_TEST

/* A grid meter without any reading yet: Scope 2 is undefined, not 0 kg
 * (a 0 written early would stay in InfluxDB next to later fields). */
START_TEST(test_ledger_scope2_undefined_before_energy)
{
	char *d = tmpdir();
	struct fp_ledger *l;
	struct fp_window_sums s;
	struct fp_kpis k;
	time_t h;

	tz("UTC");
	l = ledger(d);
	h = fp_parse_date("2026-03-02");
	ck_assert_int_eq(fp_ledger_begin(l), 0);
	fp_ledger_set_meta(l, "region", "XX");
	fp_ledger_add_boundary(l, "facility", "utility", 1);
	fp_ledger_add_boundary(l, "grid", "utility", 1);
	fp_ledger_add_boundary(l, "it", "ups", 1);
	fp_ledger_add_factor(l, "XX", 2026, "location", 0.2, "test");
	ck_assert_int_eq(fp_ledger_commit(l), 0);
	ck_assert_int_eq(fp_ledger_kpis(l, h, h + 3600, h + 60, &s, &k), 0);
	ck_assert(!k.co2e_location_defined);
	ck_assert(!k.co2e_market_defined);
	ck_assert(!k.cue_location.defined);
	/* with energy, and without a factor for the market method: the
	 * location figure is defined, the market one falls back to it */
	ck_assert_int_eq(fp_ledger_begin(l), 0);
	ck_assert_int_eq(fp_ledger_add(l, "utility", h, 10, 60, 0, 0), 0);
	ck_assert_int_eq(fp_ledger_add(l, "ups", h, 8, 60, 0, 0), 0);
	ck_assert_int_eq(fp_ledger_commit(l), 0);
	ck_assert_int_eq(fp_ledger_kpis(l, h, h + 3600, h + 60, &s, &k), 0);
	ck_assert(k.co2e_location_defined);
	ck_rel(k.co2e_location_kg, 2);
	ck_rel(k.cue_location.value, 2.0 / 8);
	fp_ledger_close(l);
	rmdir_all(d);
	free(d);
}
END_TEST

static void zone_cb(void *arg, const char *zone, struct fp_ratio r)
{
	double *out = arg;

	ck_assert_str_eq(zone, "hall1");
	ck_assert(r.defined);
	out[0] = r.value;
	out[1] = r.coverage;
}

START_TEST(test_ledger_zone_ppue)
{
	char *d = tmpdir();
	struct fp_ledger *l;
	double got[2] = { 0, 0 };
	time_t h = 1767225600;

	tz("UTC");
	l = ledger(d);
	/* TV-PUE-3 through the ledger: a hall's IT, CRAH and UPS/PDU losses */
	ck_assert_int_eq(fp_ledger_begin(l), 0);
	fp_ledger_add_zone(l, "hall1", "it", "hall1-it", 1);
	fp_ledger_add_zone(l, "hall1", "infra", "hall1-crah", 1);
	fp_ledger_add_zone(l, "hall1", "infra", "hall1-losses", 1);
	fp_ledger_add(l, "hall1-it", h, 800000, 3600, 0, 0);
	fp_ledger_add(l, "hall1-crah", h, 40000, 3600, 0, 0);
	fp_ledger_add(l, "hall1-losses", h, 60000, 3600, 0, 0);
	ck_assert_int_eq(fp_ledger_commit(l), 0);
	ck_assert_int_eq(fp_ledger_zones(l, h, h + 3600, h + 3600, zone_cb, got), 0);
	ck_rel(got[0], 1.125);
	ck_rel(got[1], 1.0);
	/* The next hour the loss meter reads for its second half only: the
	 * zone's pPUE relates the half where all its meters are measured,
	 * (400 000 + 20 000 + 60 000) / 400 000, not 60 000 kWh of losses to
	 * a whole hour of IT. */
	ck_assert_int_eq(fp_ledger_begin(l), 0);
	fp_ledger_add(l, "hall1-it", h + 3600, 800000, 3600, 0, 0);
	fp_ledger_add(l, "hall1-crah", h + 3600, 40000, 3600, 0, 0);
	fp_ledger_add(l, "hall1-losses", h + 3600, 60000, 1800, 0, 0);
	ck_assert_int_eq(fp_ledger_commit(l), 0);
	ck_assert_int_eq(fp_ledger_zones(l, h + 3600, h + 7200, h + 7200, zone_cb, got), 0);
	ck_rel(got[0], 1.2);
	ck_rel(got[1], 0.5);
	fp_ledger_close(l);
	rmdir_all(d);
	free(d);
}
END_TEST

START_TEST(test_ledger_rejects_other_files)
{
	char *d = tmpdir(), err[256];
	char *p = fp_xasprintf("%s/x.db", d);
	FILE *f = fopen(p, "w");

	fputs("this is not a database, it is text\n", f);
	fclose(f);
	ck_assert_ptr_null(fp_ledger_open(p, false, false, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, p));
	free(p);
	p = fp_xasprintf("%s/missing.db", d);
	ck_assert_ptr_null(fp_ledger_open(p, true, false, err, sizeof(err)));
	free(p);
	rmdir_all(d);
	free(d);
}
END_TEST

/* ---- the engine, fed batches directly ---- */

static void no_push(void *arg, struct fp_batch *b)
{
	size_t *n = arg;
	*n += b->n;
}

static void reading(struct fp_batch *b, const char *dev, const char *role, int64_t t_s,
		    const char *field, double v)
{
	struct fp_point *p = fp_batch_add(b, "meter", t_s * 1000000000LL);

	fp_point_tag(p, "site", "s1");
	fp_point_tag(p, "device", dev);
	fp_point_tag(p, "role", role);
	fp_point_float(p, field, v);
}

static struct fp_config *engine_cfg(const char *dir, const char *extra)
{
	struct fp_config *c = fp_xcalloc(1, sizeof(*c));
	struct fp_cfg_errors e = { 0 };
	char *path = fp_xasprintf("%s/f.conf", dir);
	FILE *f = fopen(path, "w");

	fprintf(f,
		"agent: { site = \"s1\"; state_dir = \"%s\"; };\n"
		"indicators: { max_gap = \"5m\"; %s };\n",
		dir, extra);
	fclose(f);
	fp_config_defaults(c);
	ck_assert_int_eq(fp_config_load(c, path, &e), 0);
	fp_cfg_errors_reset(&e);
	free(path);
	return c;
}

/* Many meters (the index of meters by device and by name grows several
 * times), across a restart (the meters come back from the ledger by
 * name): every reading lands on its own meter. */
START_TEST(test_engine_many_meters)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct fp_ledger *l;
	struct fp_window_sums s;
	size_t pushed = 0;
	time_t h0 = 1767225600; /* 2026-01-01T00:00Z */
	char dev[32];
	int i, r;

	tz("UTC");
	c = engine_cfg(d, "max_meters = 1000;");
	fp_batch_init(&b);
	for (r = 0; r < 2; r++) {
		x = fp_ind_new(c, no_push, &pushed);
		ck_assert_ptr_nonnull(x);
		/* meter i: 0.01 * i kWh a minute; the restart after 2 minutes */
		for (i = 0; i < 300; i++) {
			snprintf(dev, sizeof(dev), "plug%d", i);
			reading(&b, dev, "it", h0 + r * 120, "energy_import_kwh",
				100 + r * 0.02 * i);
			reading(&b, dev, "it", h0 + r * 120 + 60, "energy_import_kwh",
				100 + (r * 2 + 1) * 0.01 * i);
		}
		fp_ind_observe(x, &b);
		fp_batch_reset(&b);
		fp_ind_flush(x, false);
		fp_ind_free(x);
	}
	l = ledger(d);
	ck_assert_int_eq(fp_ledger_sums(l, h0, h0 + 3600, h0 + 3600, &s), 0);
	/* 3 minutes of each: 0.03 * (0 + 1 + ... + 299) kWh */
	ck_rel(s.q[FP_Q_IT].value, 0.03 * 299 * 300 / 2);
	fp_ledger_close(l);
	fp_config_free(c);
	free(c);
	rmdir_all(d);
	free(d);
}
END_TEST

START_TEST(test_engine_restart_loses_nothing)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct fp_ledger *l;
	struct fp_window_sums s;
	struct fp_kpis k;
	size_t pushed = 0;
	time_t h0 = 1767225600; /* 2026-01-01T00:00Z */
	int i;

	tz("UTC");
	c = engine_cfg(d, "meters = ( { device = \"gen\"; role = \"fuel_diesel\"; } );");
	x = fp_ind_new(c, no_push, &pushed);
	ck_assert_ptr_nonnull(x);
	fp_batch_init(&b);
	/* Utility (kWh counter) and UPS output (power only) every 60 s for
	 * the first half hour; a diesel generator burns 10 l. */
	for (i = 0; i <= 30; i++) {
		reading(&b, "utility", "facility", h0 + i * 60, "energy_import_kwh",
			1000 + i * 2.0);
		reading(&b, "ups", "it", h0 + i * 60, "power_w", 90000);
	}
	/* Per-phase readings are parts of the total: ignored. */
	reading(&b, "utility", "facility", h0 + 30, "energy_import_kwh", 1.0);
	fp_point_tag(&b.pts[b.n - 1], "phase", "L1");
	/* A channel of a multi-channel plug is a meter of its own. */
	reading(&b, "plug", "it", h0, "energy_import_kwh", 5.0);
	fp_point_tag(&b.pts[b.n - 1], "channel", "switch:1");
	reading(&b, "plug", "it", h0 + 60, "energy_import_kwh", 5.5);
	fp_point_tag(&b.pts[b.n - 1], "channel", "switch:1");
	reading(&b, "gen", "x", h0, "fuel_l", 500);
	reading(&b, "gen", "x", h0 + 60, "fuel_l", 510);
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, false);
	/* A restart: the engine goes, a new one reads the ledger. */
	fp_ind_free(x);
	x = fp_ind_new(c, no_push, &pushed);
	ck_assert_ptr_nonnull(x);
	/* Back after 2 minutes (within max_gap): the counter's delta across
	 * the restart is counted; then readings to the end of the hour. */
	for (i = 32; i <= 60; i++) {
		reading(&b, "utility", "facility", h0 + i * 60, "energy_import_kwh",
			1000 + i * 2.0);
		reading(&b, "ups", "it", h0 + i * 60, "power_w", 90000);
	}
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, true);
	ck_assert_uint_gt(pushed, 0);
	fp_ind_free(x);

	l = ledger(d);
	ck_assert_int_eq(fp_ledger_sums(l, h0, h0 + 3600, h0 + 3600, &s), 0);
	/* facility: 120 kWh from the counter + 10 l x 9.9 */
	ck_rel(s.q[FP_Q_FACILITY].value, 120 + 99);
	ck_rel(s.q[FP_Q_GRID].value, 120);
	ck_rel(s.q[FP_Q_FUEL].value, 99);
	/* it: 90 kW for the whole hour (the readings either side of the
	 * restart are 2 minutes apart: within max_gap, so measured) */
	ck_rel(s.q[FP_Q_IT].value, 90.0 * 60 / 60 + 0.5);
	/* coverage of a sum: its least covered meter (the plug: 60 s) */
	ck_rel(s.q[FP_Q_IT].coverage, 60.0 / 3600);
	ck_rel(s.q[FP_Q_FACILITY].coverage, 60.0 / 3600); /* the generator */
	ck_rel(s.q[FP_Q_GRID].coverage, 1.0);
	fp_kpis_compute(&s, &k);
	ck_rel(k.pue.value, 219.0 / 90.5);
	fp_ledger_close(l);
	fp_config_free(c);
	free(c);
	rmdir_all(d);
	free(d);
}
END_TEST

/* Issue #19: one value per message (OpenDTU): the meter's kind comes
 * from its source's configuration (may_carry), not from the first
 * message, so both orders give the counter's energy; role "none" is
 * written, never counted. */
static double order_energy(bool power_first, bool declared)
{
	static const char *const carry[] = { "power_w", "energy_export_kwh", NULL };
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct fp_ledger *l;
	struct fp_window_sums s;
	size_t pushed = 0;
	time_t h0 = 1767225600; /* 2026-01-01T00:00Z */
	double v;
	int i, k;

	tz("UTC");
	c = engine_cfg(d, "");
	x = fp_ind_new(c, no_push, &pushed);
	ck_assert_ptr_nonnull(x);
	fp_batch_init(&b);
	for (i = 0; i <= 60; i++) {
		for (k = 0; k < 2; k++) {
			bool pw = (k == 0) == power_first;
			/* the counter: 2 kWh a minute; the power says 1 kW */
			reading(&b, "dtu", "renewable_onsite", h0 + i * 60,
				pw ? "power_w" : "energy_export_kwh", pw ? 1000 : 100 + i * 2.0);
			fp_point_tag(&b.pts[b.n - 1], "channel", "0");
			if (declared)
				b.pts[b.n - 1].may_carry = carry;
		}
		reading(&b, "lwt", FP_ROLE_NONE, h0 + i * 60, "energy_import_kwh", i * 5.0);
		reading(&b, "lwt", FP_ROLE_NONE, h0 + i * 60, "power_w", 1000);
	}
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, true);
	fp_ind_free(x);
	l = ledger(d);
	ck_assert_int_eq(fp_ledger_sums(l, h0, h0 + 3600, h0 + 3600, &s), 0);
	v = s.q[FP_Q_RENEWABLE_ONSITE].value;
	/* the none device counts nowhere */
	ck_rel(s.q[FP_Q_OTHER].value + s.q[FP_Q_IT].value, 0);
	fp_ledger_close(l);
	fp_config_free(c);
	free(c);
	rmdir_all(d);
	free(d);
	return v;
}

START_TEST(test_engine_kind_from_config)
{
	ck_rel(order_energy(false, true), 120);
	ck_rel(order_energy(true, true), 120);
	/* without the configuration, the first message decided: the bug */
	ck_rel(order_energy(false, false), 120);
	ck_rel(order_energy(true, false), 1);
}
END_TEST

START_TEST(test_engine_gap_is_missing_and_reset_counted)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct fp_ledger *l;
	struct fp_window_sums s;
	struct fp_ledger_events ev;
	size_t pushed = 0;
	time_t h0 = 1767225600;

	tz("UTC");
	c = engine_cfg(
		d,
		"meters = ( { device = \"m\"; role = \"facility\"; counter_modulus = 65536.0;"
		" max_rate = 10000.0; max_gap = \"15m\"; } );");
	x = fp_ind_new(c, no_push, &pushed);
	ck_assert_ptr_nonnull(x);
	fp_batch_init(&b);
	reading(&b, "m", "facility", h0, "energy_import_kwh", 65000);
	reading(&b, "m", "facility", h0 + 600, "energy_import_kwh", 65500);
	/* wraps: 65500 -> 100 is 136 kWh in 10 min, plausible under 10 MW */
	reading(&b, "m", "facility", h0 + 1200, "energy_import_kwh", 100);
	/* reset: 100 -> 5 would be a 65 431 kWh wrap in 10 min: a new meter */
	reading(&b, "m", "facility", h0 + 1800, "energy_import_kwh", 5);
	/* down for 20 minutes: not counted (max_gap 15m), missing coverage */
	reading(&b, "m", "facility", h0 + 3000, "energy_import_kwh", 105);
	reading(&b, "m", "facility", h0 + 3300, "energy_import_kwh", 115);
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_free(x);
	l = ledger(d);
	ck_assert_int_eq(fp_ledger_sums(l, h0, h0 + 3600, h0 + 3600, &s), 0);
	ck_rel(s.q[FP_Q_FACILITY].value, 500 + 136 + 10);
	/* measured: 0-600, 600-1200, 3000-3300 = 1500 s of 3600 */
	ck_rel(s.q[FP_Q_FACILITY].coverage, 1500.0 / 3600);
	ck_assert_int_eq(fp_ledger_event_counts(l, h0, h0 + 3600, &ev), 0);
	ck_assert_int_eq(ev.wraps, 1);
	ck_assert_int_eq(ev.resets, 1);
	ck_assert_int_eq(ev.gaps, 1);
	fp_ledger_close(l);
	fp_config_free(c);
	free(c);
	rmdir_all(d);
	free(d);
}
END_TEST

/* What the engine pushes as running totals: meter_total and energy_total
 * points, kept across a restart and a counter wrap. */
struct totals {
	double utility, ups, facility, it, utility_s;
	size_t points;
	size_t zeros;	       /* points of a total at 0 (a series' first) */
	double first_facility; /* the first energy_total of facility */
	bool seen_facility;
};

static double field_of(const struct fp_point *p, const char *k)
{
	size_t i;

	for (i = 0; i < p->nfields; i++)
		if (!strcmp(p->fields[i].key, k))
			return p->fields[i].v.f;
	return NAN;
}

static void totals_push(void *arg, struct fp_batch *b)
{
	struct totals *t = arg;
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct fp_point *p = &b->pts[i];
		const char *m = fp_point_tag_value(p, "meter"), *r = fp_point_tag_value(p, "role");
		if ((!strcmp(p->measurement, "meter_total") && field_of(p, "value") == 0) ||
		    (!strcmp(p->measurement, "energy_total") && field_of(p, "kwh") == 0))
			t->zeros++;
		if (!strcmp(p->measurement, "energy_total") && r && !strcmp(r, "facility") &&
		    !t->seen_facility) {
			t->first_facility = field_of(p, "kwh");
			t->seen_facility = true;
		}
		if (!strcmp(p->measurement, "meter_total") && m && !strcmp(m, "utility")) {
			t->utility = field_of(p, "value");
			t->utility_s = field_of(p, "measured_s");
			t->points++;
		} else if (!strcmp(p->measurement, "meter_total") && m && !strcmp(m, "ups")) {
			t->ups = field_of(p, "value");
		} else if (!strcmp(p->measurement, "energy_total") && r && !strcmp(r, "facility")) {
			t->facility = field_of(p, "kwh");
		} else if (!strcmp(p->measurement, "energy_total") && r && !strcmp(r, "it")) {
			t->it = field_of(p, "kwh");
		}
	}
}

START_TEST(test_engine_running_totals)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct totals t = { 0 };
	time_t h0 = 1767225600; /* 2026-01-01T00:00Z */
	size_t zeros;
	int i;

	tz("UTC");
	c = engine_cfg(d, "meters = ( { device = \"utility\"; counter_modulus = 10000.0; } );");
	x = fp_ind_new(c, totals_push, &t);
	ck_assert_ptr_nonnull(x);
	fp_batch_init(&b);
	/* a kWh register wrapping at 10000 (9990 -> 2 is +12), UPS power */
	for (i = 0; i <= 10; i++) {
		reading(&b, "utility", "facility", h0 + i * 60, "energy_import_kwh",
			fmod(9980 + i * 2.0, 10000));
		reading(&b, "ups", "it", h0 + i * 60, "power_w", 60000);
	}
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, true);
	ck_assert_uint_gt(t.points, 0);
	ck_rel(t.utility, 20);
	ck_rel(t.utility_s, 600);
	ck_rel(t.ups, 10); /* 60 kW for 10 minutes */
	ck_rel(t.facility, 20);
	ck_rel(t.it, 10);
	/* each series' first write is preceded by a 0 (an engine's
	 * increase() counts the first amount): 2 meters, 2 quantities */
	ck_assert(t.seen_facility && t.first_facility == 0);
	ck_assert_uint_ge(t.zeros, 4);
	zeros = t.zeros;
	/* a restart: the totals go on from where they were */
	fp_ind_free(x);
	x = fp_ind_new(c, totals_push, &t);
	ck_assert_ptr_nonnull(x);
	for (i = 11; i <= 20; i++)
		reading(&b, "utility", "facility", h0 + i * 60, "energy_import_kwh",
			fmod(9980 + i * 2.0, 10000));
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, true);
	ck_rel(t.utility, 40);
	ck_rel(t.facility, 40);
	ck_assert_uint_eq(t.zeros, zeros); /* no second 0: the series exist */
	ck_rel(t.utility_s, 1200);
	fp_ind_free(x);
	fp_config_free(c);
	free(c);

	/* A ledger of an earlier version (no counter table) gets its totals
	 * from the hours it holds. */
	{
		struct fp_ledger *l = ledger(d);
		struct fp_qsum q[FP_NQTY];
		char *cmd;
		fp_ledger_close(l);
		cmd = fp_xasprintf("sqlite3 '%s/ledger.db' 'DROP TABLE counter'", d);
		ck_assert_int_eq(system(cmd), 0);
		free(cmd);
		l = ledger(d);
		ck_assert_int_eq(fp_ledger_quantity_totals(l, q), 0);
		ck_assert(q[FP_Q_FACILITY].present);
		ck_rel(q[FP_Q_FACILITY].value, 40);
		ck_rel(q[FP_Q_IT].value, 10);
		fp_ledger_close(l);
		/* nor the table of announced series: its meters and
		 * quantities were written already, get no 0 */
		cmd = fp_xasprintf("sqlite3 '%s/ledger.db' 'DROP TABLE announced'", d);
		ck_assert_int_eq(system(cmd), 0);
		free(cmd);
		l = ledger(d);
		ck_assert_int_eq(fp_ledger_begin(l), 0);
		ck_assert_int_eq(fp_ledger_announce(l, "meter:utility"), 0);
		ck_assert_int_eq(fp_ledger_announce(l, "qty:facility"), 0);
		ck_assert_int_eq(fp_ledger_announce(l, "meter:new"), 1);
		ck_assert_int_eq(fp_ledger_announce(l, "meter:new"), 0);
		ck_assert_int_eq(fp_ledger_commit(l), 0);
		{
			char v[16];
			ck_assert_int_eq(fp_ledger_get_meta(l, "announce_ewaste", v, sizeof(v)), 0);
			ck_assert_str_eq(v, "quiet");
		}
		fp_ledger_close(l);
	}
	rmdir_all(d);
	free(d);
}
END_TEST

/* A quantity with a subtracted member dips when that member's reading is
 * counted before the others': its running total is held at its highest
 * value (across a restart too), so an engine never reads a reset. */
START_TEST(test_engine_quantity_total_held)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct totals t = { 0 };
	time_t h0 = 1767225600; /* 2026-01-01T00:00Z */
	int i;

	tz("UTC");
	c = engine_cfg(d, "boundaries = { facility = [\"utility\", \"-tenant\"]; };");
	x = fp_ind_new(c, totals_push, &t);
	ck_assert_ptr_nonnull(x);
	fp_batch_init(&b);
	for (i = 0; i <= 10; i++) {
		reading(&b, "utility", "facility", h0 + i * 60, "energy_import_kwh", 100 + i);
		reading(&b, "tenant", "other", h0 + i * 60, "energy_import_kwh", 50 + i * 0.5);
	}
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, true);
	ck_rel(t.facility, 5);
	/* the tenant's next readings first: 10 - 7 would be a dip */
	reading(&b, "tenant", "other", h0 + 11 * 60, "energy_import_kwh", 57);
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, true);
	ck_rel(t.facility, 5);
	fp_ind_free(x);
	x = fp_ind_new(c, totals_push, &t);
	ck_assert_ptr_nonnull(x);
	t.facility = 0;
	fp_ind_flush(x, true);
	ck_rel(t.facility, 5);
	/* the utility's catch up: the difference again once it passes */
	reading(&b, "utility", "facility", h0 + 11 * 60, "energy_import_kwh", 114);
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, true);
	ck_rel(t.facility, 7);
	fp_ind_free(x);
	fp_config_free(c);
	free(c);
	rmdir_all(d);
	free(d);
}
END_TEST

/* ---- a back-fill: a past year at once ---- */

#define BF_Y0 1704067200 /* 2024-01-01T00:00Z, a leap year: 8784 hours */
#define BF_HOURS 8784

/* What the pushes carried: the last E_DC and E_IT of each window of 2024,
 * and the most windows of 2024 one flush and one batch carried. */
struct bf_seen {
	double dc[FP_NWINDOWS][BF_HOURS], it[FP_NWINDOWS][BF_HOURS];
	bool got[FP_NWINDOWS][BF_HOURS];
	size_t flush_windows, max_flush, max_batch;
};

static int bf_index(enum fp_window w, int64_t ts)
{
	time_t t = (time_t)ts;
	struct tm tm;

	if (t < BF_Y0 || t >= BF_Y0 + BF_HOURS * 3600)
		return -1;
	gmtime_r(&t, &tm);
	switch (w) {
	case FP_WIN_HOUR:
		return (int)((t - BF_Y0) / 3600);
	case FP_WIN_DAY:
		return (int)((t - BF_Y0) / 86400);
	case FP_WIN_MONTH:
		return tm.tm_mon;
	default:
		return 0;
	}
}

static void bf_push(void *arg, struct fp_batch *b)
{
	struct bf_seen *s = arg;
	size_t i, n = 0;
	int w, k;

	for (i = 0; i < b->n; i++) {
		const struct fp_point *p = &b->pts[i];
		const char *wn = fp_point_tag_value(p, "window");
		const struct fp_field *dc = fp_point_field(p, "e_dc_kwh");
		const struct fp_field *it = fp_point_field(p, "e_it_kwh");
		if (strcmp(p->measurement, "efficiency") || !wn || fp_point_tag_value(p, "zone"))
			continue;
		for (w = 0; w < FP_NWINDOWS && strcmp(wn, fp_window_names[w]); w++)
			;
		ck_assert_int_lt(w, FP_NWINDOWS);
		/* the open windows (today's) are written every time */
		k = bf_index((enum fp_window)w, p->ts_ns / 1000000000LL);
		if (k < 0)
			continue;
		n++;
		ck_assert_ptr_nonnull(dc);
		s->got[w][k] = true;
		s->dc[w][k] = dc->v.f;
		s->it[w][k] = it ? it->v.f : NAN;
	}
	s->flush_windows += n;
	if (n > s->max_batch)
		s->max_batch = n;
}

/* The self-metric key of the engine x. */
static int64_t bf_metric(struct fp_ind *x, const char *key)
{
	struct fp_batch b;
	const struct fp_field *f;
	int64_t v;

	fp_batch_init(&b);
	fp_ind_metrics(x, &b, "s1", "h", 0);
	f = fp_point_field(&b.pts[0], key);
	ck_assert_ptr_nonnull(f);
	v = f->v.i;
	fp_batch_reset(&b);
	return v;
}

/* Flushes until nothing is left to write again (at most max flushes):
 * returns the number of flushes. */
static int bf_drain(struct fp_ind *x, struct bf_seen *s, int max)
{
	int n = 0;

	while (bf_metric(x, "backfill_windows_pending") > 0 && n < max) {
		s->flush_windows = 0;
		fp_ind_flush(x, true);
		if (s->flush_windows > s->max_flush)
			s->max_flush = s->flush_windows;
		n++;
	}
	return n;
}

START_TEST(test_engine_backfill_year)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct fp_ledger *l;
	struct bf_seen *s = fp_xcalloc(1, sizeof(*s));
	double dc = 0, it = 0, dc_total = 0;
	int h, w, k, n, flushes;
	int nwin[FP_NWINDOWS] = { BF_HOURS, BF_HOURS / 24, 12, 1 };

	tz("UTC");
	/* settle 0: the back-fill is written as soon as it is counted */
	c = engine_cfg(d,
		       "settle = \"0s\"; meters = ( { device = \"utility\"; role = \"facility\"; "
		       "max_gap = \"2h\"; }, { device = \"ups\"; role = \"it\"; "
		       "max_gap = \"2h\"; } );");
	x = fp_ind_new(c, bf_push, s);
	ck_assert_ptr_nonnull(x);
	/* A whole past year arrives at once: hourly counter readings. */
	fp_batch_init(&b);
	for (h = 0; h <= BF_HOURS; h++) {
		reading(&b, "utility", "facility", BF_Y0 + h * 3600LL, "energy_import_kwh", dc);
		reading(&b, "ups", "it", BF_Y0 + h * 3600LL, "energy_import_kwh", it);
		dc_total = dc;
		dc += 4 + h % 7;
		it += 1 + h % 3;
	}
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, false);
	/* every hour, day, month and the year: far beyond one write */
	n = BF_HOURS + BF_HOURS / 24 + 12 + 1;
	ck_assert_int_eq(bf_metric(x, "backfill_windows_pending"), n);
	ck_assert_int_eq(bf_metric(x, "backfill_windows_written"), 0);
	/* a few writes, then a stop: what is left is in the ledger */
	flushes = bf_drain(x, s, 3);
	ck_assert_int_eq(flushes, 3);
	ck_assert_int_eq(bf_metric(x, "backfill_windows_written"), 3 * FP_IND_BACKFILL_WINDOWS);
	ck_assert_int_eq(bf_metric(x, "backfill_windows_pending"), n - 3 * FP_IND_BACKFILL_WINDOWS);
	fp_ind_free(x);
	x = fp_ind_new(c, bf_push, s);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(bf_metric(x, "backfill_windows_pending"), n - 3 * FP_IND_BACKFILL_WINDOWS);
	flushes += bf_drain(x, s, 100);
	ck_assert_int_eq(bf_metric(x, "backfill_windows_pending"), 0);
	ck_assert_int_eq(bf_metric(x, "backfill_windows_written"), n - 3 * FP_IND_BACKFILL_WINDOWS);
	/* paced: no flush carried more than the budget, no batch more than
	 * its bound */
	ck_assert_int_eq(flushes, (n + FP_IND_BACKFILL_WINDOWS - 1) / FP_IND_BACKFILL_WINDOWS);
	ck_assert_uint_le(s->max_flush, FP_IND_BACKFILL_WINDOWS);
	ck_assert_uint_le(s->max_batch, FP_IND_BACKFILL_BATCH);
	fp_ind_free(x);

	/* every window was pushed, last with the ledger's value */
	l = ledger(d);
	for (w = 0; w < FP_NWINDOWS; w++)
		for (k = 0; k < nwin[w]; k++) {
			struct fp_window_sums ws;
			time_t t0, t1;
			struct tm tm = { .tm_year = 124,
					 .tm_mon = w == FP_WIN_MONTH ? k : 0,
					 .tm_mday = 1 };
			time_t t = w == FP_WIN_HOUR ? BF_Y0 + k * 3600
				: w == FP_WIN_DAY   ? BF_Y0 + k * 86400
						    : timegm(&tm);
			fp_window_of((enum fp_window)w, t, &t0, &t1);
			ck_assert_msg(s->got[w][k], "window %s %d never pushed", fp_window_names[w],
				      k);
			ck_assert_int_eq(fp_ledger_sums(l, t0, t1, t1, &ws), 0);
			ck_assert(s->dc[w][k] == ws.q[FP_Q_FACILITY].value);
			ck_assert(s->it[w][k] == ws.q[FP_Q_IT].value);
		}
	/* and the ledger has the year: the counter's whole rise */
	ck_rel(s->dc[FP_WIN_YEAR][0], dc_total);
	fp_ledger_close(l);
	fp_config_free(c);
	free(c);
	free(s);
	rmdir_all(d);
	free(d);
}
END_TEST

/* Late readings scattered over 300 separate hours: more runs than the
 * engine keeps apart; the closest merge, and every hour that got amounts
 * is still written with the ledger's value. */
START_TEST(test_engine_backfill_scattered)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct fp_ledger *l;
	struct bf_seen *s = fp_xcalloc(1, sizeof(*s));
	struct fp_window_sums ws;
	int64_t written;
	int k;

	tz("UTC");
	c = engine_cfg(d,
		       "settle = \"0s\"; meters = ( { device = \"utility\"; role = \"facility\"; "
		       "max_gap = \"1h\"; } );");
	x = fp_ind_new(c, bf_push, s);
	ck_assert_ptr_nonnull(x);
	fp_batch_init(&b);
	/* 12:00 to 12:10 of each of 300 days: the nights between are gaps */
	for (k = 0; k < 300; k++) {
		int64_t t = BF_Y0 + k * 86400LL + 12 * 3600;
		reading(&b, "utility", "facility", t, "energy_import_kwh", 10.0 * k);
		reading(&b, "utility", "facility", t + 600, "energy_import_kwh",
			10.0 * k + 1 + k % 5);
	}
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, false);
	ck_assert_int_ge(bf_metric(x, "backfill_windows_pending"), 300 + 300 + 10 + 1);
	bf_drain(x, s, 100);
	ck_assert_int_eq(bf_metric(x, "backfill_windows_pending"), 0);
	written = bf_metric(x, "backfill_windows_written");
	/* 300 hour runs kept in 128: 172 gaps of 23 hours merged and
	 * written too (empty), then the days, months and the year */
	ck_assert_int_eq(written, 300 + 172 * 23 + 300 + 10 + 1);
	fp_ind_free(x);
	l = ledger(d);
	for (k = 0; k < 300; k++) {
		int h = k * 24 + 12;
		time_t t0 = BF_Y0 + h * 3600LL;
		ck_assert_msg(s->got[FP_WIN_HOUR][h], "hour %d never pushed", h);
		ck_assert_int_eq(fp_ledger_sums(l, t0, t0 + 3600, t0 + 3600, &ws), 0);
		ck_assert(s->dc[FP_WIN_HOUR][h] == ws.q[FP_Q_FACILITY].value);
		ck_rel(s->dc[FP_WIN_HOUR][h], 1 + k % 5);
		ck_assert(s->got[FP_WIN_DAY][k]);
		ck_rel(s->dc[FP_WIN_DAY][k], 1 + k % 5);
	}
	fp_ledger_close(l);
	fp_config_free(c);
	free(c);
	free(s);
	rmdir_all(d);
	free(d);
}
END_TEST

/* Each write of a window says what it is to an engine that keeps every
 * write: the open year running, a closed past hour final at its first
 * write (a back-fill), then a correction when late readings change it. */
struct kinds {
	int hour, year;	       /* the last kind seen, -1 none */
	int hour_pue_kind;     /* the kind of the first 1h efficiency row with a pue */
	bool hour_final_field; /* the hour's row carried final=true */
	double hour_kwh;
};

static void kinds_push(void *arg, struct fp_batch *b)
{
	struct kinds *k = arg;
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct fp_point *p = &b->pts[i];
		const char *w = fp_point_tag_value(p, "window"), *r = fp_point_tag_value(p, "role");
		const struct fp_field *f = fp_point_field(p, "final");
		if (!strcmp(p->measurement, "efficiency") && w && !strcmp(w, "1h") &&
		    fp_point_field(p, "pue") && k->hour_pue_kind < 0)
			k->hour_pue_kind = p->kind;
		if (strcmp(p->measurement, "energy") || !r || strcmp(r, "facility") || !w)
			continue;
		if (!strcmp(w, "1h")) {
			k->hour = p->kind;
			k->hour_final_field = f && f->type == FP_BOOL && f->v.b;
			k->hour_kwh = fp_point_field(p, "kwh")->v.f;
		} else if (!strcmp(w, "1y")) {
			k->year = p->kind;
		}
	}
}

START_TEST(test_engine_window_kinds)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct kinds k = { -1, -1, -1, false, 0 };
	time_t now = time(NULL), h;
	int i;

	tz("UTC");
	c = engine_cfg(d, "settle = \"0s\";");
	x = fp_ind_new(c, kinds_push, &k);
	ck_assert_ptr_nonnull(x);
	/* three hours ago, a quarter of an hour of readings */
	h = now / 3600 * 3600 - 3 * 3600;
	fp_batch_init(&b);
	for (i = 0; i <= 15; i++)
		reading(&b, "utility", "facility", h + i * 60, "energy_import_kwh", 100 + i);
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, true);
	ck_assert_int_eq(k.hour, FP_PT_FINAL);
	ck_assert(k.hour_final_field);
	ck_rel(k.hour_kwh, 15);
	{
		/* the year of those readings is open (unless they are last year's) */
		struct tm a, bt;
		gmtime_r(&h, &a);
		gmtime_r(&now, &bt);
		if (a.tm_year == bt.tm_year)
			ck_assert_int_eq(k.year, FP_PT_RUNNING);
	}
	/* late readings of that hour: a correction */
	for (i = 16; i <= 20; i++)
		reading(&b, "utility", "facility", h + i * 60, "energy_import_kwh", 100 + i);
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	k.hour = -1;
	fp_ind_flush(x, true);
	ck_assert_int_eq(k.hour, FP_PT_CORRECTION);
	ck_assert(k.hour_final_field);
	ck_rel(k.hour_kwh, 20);
	fp_ind_free(x);
	fp_config_free(c);
	free(c);
	rmdir_all(d);
	free(d);
}
END_TEST

/* A burst of late readings whose meters arrive in turn (the facility
 * meter's, then the IT meter's): the window waits until no reading has
 * touched it for indicators.settle, so its first write, the final one,
 * has both. */
START_TEST(test_engine_backfill_settles)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct kinds k = { -1, -1, -1, false, 0 };
	time_t now = time(NULL), h;
	int64_t deadline;
	int i;

	tz("UTC");
	c = engine_cfg(d, "settle = \"1s\";");
	x = fp_ind_new(c, kinds_push, &k);
	ck_assert_ptr_nonnull(x);
	h = now / 3600 * 3600 - 3 * 3600;
	fp_batch_init(&b);
	for (i = 0; i <= 10; i++)
		reading(&b, "utility", "facility", h + i * 60, "energy_import_kwh", 100 + 1.4 * i);
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	fp_ind_flush(x, true);
	for (i = 0; i <= 10; i++)
		reading(&b, "ups", "it", h + i * 60, "energy_import_kwh", 50 + i);
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	/* polls until the hour is written (1 s after the last reading) */
	deadline = fp_mono_ns() + 30 * 1000000000LL;
	do {
		fp_ind_flush(x, true);
		if (k.hour_pue_kind < 0)
			usleep(100000);
	} while (k.hour_pue_kind < 0 && fp_mono_ns() < deadline);
	ck_assert_int_eq(k.hour_pue_kind, FP_PT_FINAL);
	ck_assert_int_eq(k.hour, FP_PT_FINAL);
	ck_rel(k.hour_kwh, 14);
	fp_ind_free(x);
	fp_config_free(c);
	free(c);
	rmdir_all(d);
	free(d);
}
END_TEST

/* Forgets that the hour window starting at start had its final write,
 * as if the agent had not been running when it closed. */
static void unmark_final(const char *dir, time_t start)
{
	char *path = fp_xasprintf("%s/ledger.db", dir), *sql;
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sql = fp_xasprintf("DELETE FROM final_window WHERE kind = %d AND start = %lld; "
			   "DELETE FROM rewrite;",
			   (int)FP_WIN_HOUR, (long long)start);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_changes(db) >= 0, 1);
	sqlite3_close(db);
	free(sql);
	free(path);
}

/* The windows that closed while the agent was stopped (after the last one
 * made final, before the previous one) get their final write at the next
 * start; so do those of a ledger that kept no final marks. */
START_TEST(test_engine_final_after_downtime)
{
	char *d = tmpdir();
	struct fp_config *c;
	struct fp_ind *x;
	struct fp_batch b;
	struct kinds k = { -1, -1, -1, false, 0 };
	time_t now = time(NULL), h;
	int i, pass;

	tz("UTC");
	c = engine_cfg(d, "settle = \"0s\";");
	h = now / 3600 * 3600 - 4 * 3600;
	for (pass = 0; pass < 2; pass++) {
		x = fp_ind_new(c, kinds_push, &k);
		ck_assert_ptr_nonnull(x);
		fp_batch_init(&b);
		if (pass == 0) {
			/* two hours apart: both written final */
			for (i = 0; i <= 10; i++)
				reading(&b, "utility", "facility", h - 2 * 3600 + i * 60,
					"energy_import_kwh", 10 + i);
			for (i = 0; i <= 15; i++)
				reading(&b, "utility", "facility", h + i * 60, "energy_import_kwh",
					100 + i);
			fp_ind_observe(x, &b);
			fp_batch_reset(&b);
		}
		fp_ind_flush(x, true);
		fp_ind_flush(x, true);
		fp_ind_free(x);
		ck_assert_int_eq(k.hour, FP_PT_FINAL);
		ck_assert(k.hour_final_field);
		ck_rel(k.hour_kwh, 15);
		/* the later hour never made final (the first time after
		 * the last marked one, then with no mark at all) */
		unmark_final(d, h);
		if (pass == 1)
			unmark_final(d, h - 2 * 3600);
		k = (struct kinds){ -1, -1, -1, false, 0 };
	}
	x = fp_ind_new(c, kinds_push, &k);
	ck_assert_ptr_nonnull(x);
	fp_ind_flush(x, true);
	fp_ind_flush(x, true);
	fp_ind_free(x);
	ck_assert_int_eq(k.hour, FP_PT_FINAL);
	ck_assert(k.hour_final_field);
	ck_rel(k.hour_kwh, 15);
	fp_config_free(c);
	free(c);
	rmdir_all(d);
	free(d);
}
END_TEST

/* A lifecycle event that arrives while another process holds the
 * inventory is journalled in the ledger before it is acknowledged, kept
 * while the inventory is busy, survives a restart, and is applied once
 * the inventory answers. */
static int64_t journal_rows(const char *dir)
{
	char *path = fp_xasprintf("%s/ledger.db", dir);
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM asset_journal", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	free(path);
	return n;
}

START_TEST(test_engine_event_journal)
{
	char *d = tmpdir(), *path = fp_xasprintf("%s/f.conf", d), *inv;
	struct fp_config *c = fp_xcalloc(1, sizeof(*c));
	struct fp_cfg_errors e = { 0 };
	struct fp_ind *x;
	struct fp_batch b;
	struct fp_point *p;
	sqlite3 *lock;
	size_t pushed = 0;
	FILE *f = fopen(path, "w");

	tz("UTC");
	fprintf(f,
		"agent: { site = \"s1\"; state_dir = \"%s\"; };\n"
		"indicators: { interval = \"1s\"; };\n"
		"inventory: { categories_file = \"%s/data/ewaste-categories.csv\"; };\n",
		d, TOP_SRCDIR);
	fclose(f);
	fp_config_defaults(c);
	ck_assert_int_eq(fp_config_load(c, path, &e), 0);
	fp_cfg_errors_reset(&e);
	x = fp_ind_new(c, no_push, &pushed);
	ck_assert_ptr_nonnull(x);
	/* another process takes the inventory's write lock */
	inv = fp_xasprintf("%s/inventory.db", d);
	ck_assert_int_eq(sqlite3_open(inv, &lock), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	fp_batch_init(&b);
	p = fp_batch_add(&b, "asset_event", (int64_t)1767225600 * 1000000000LL);
	fp_point_tag(p, "category", "0307");
	fp_point_tag(p, "event", "in_service");
	fp_point_string(p, "asset_id", "srv-j");
	fp_point_string(p, "event_id", "j-1");
	fp_point_float(p, "mass_kg", 20);
	fp_ind_observe(x, &b);
	fp_batch_reset(&b);
	/* journalled at once, before any pass */
	ck_assert_int_eq(journal_rows(d), 1);
	fp_ind_flush(x, false);
	ck_assert_int_eq(bf_metric(x, "lifecycle_pending"), 1);
	ck_assert_int_ge(bf_metric(x, "lifecycle_retries"), 1);
	ck_assert_int_eq(bf_metric(x, "lifecycle_applied"), 0);
	ck_assert_int_eq(bf_metric(x, "lifecycle_rejected"), 0);
	fp_ind_free(x);
	ck_assert_int_eq(journal_rows(d), 1);
	/* the lock is gone: the next run applies it and empties the journal */
	ck_assert_int_eq(sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	x = fp_ind_new(c, no_push, &pushed);
	ck_assert_ptr_nonnull(x);
	ck_assert_int_eq(bf_metric(x, "lifecycle_pending"), 1);
	fp_ind_flush(x, false);
	ck_assert_int_eq(bf_metric(x, "lifecycle_pending"), 0);
	ck_assert_int_eq(bf_metric(x, "lifecycle_applied"), 1);
	ck_assert_int_eq(journal_rows(d), 0);
	fp_ind_free(x);
	fp_config_free(c);
	free(c);
	free(inv);
	free(path);
	rmdir_all(d);
	free(d);
}
END_TEST

START_TEST(test_config_errors)
{
	char *d = tmpdir();
	struct fp_config c;
	struct fp_cfg_errors e = { 0 };
	char *path = fp_xasprintf("%s/bad.conf", d);
	FILE *f = fopen(path, "w");
	size_t i;
	bool saw_role = false, saw_boundary = false, saw_region = false;

	fputs("indicators: {\n"
	      "  pue_category = 4;\n"
	      "  meters = ( { device = \"x\"; role = \"itt\"; } );\n"
	      "  boundaries = { facilty = [\"a\"]; };\n"
	      "  emission_factors = ( { region = \"FR\"; year = 2026; method = \"location\"; kg_per_kwh = 0.05; } );\n"
	      "  certificates = ( { type = \"go\"; from = \"2026-02-30\"; to = \"2026-12-31\"; kwh = 1.0; } );\n"
	      "};\n",
	      f);
	fclose(f);
	fp_config_defaults(&c);
	ck_assert_int_ne(fp_config_load(&c, path, &e), 0);
	for (i = 0; i < e.n; i++) {
		ck_assert_msg(strncmp(e.msgs[i], path, strlen(path)) == 0, "%s", e.msgs[i]);
		saw_role |= strstr(e.msgs[i], ":3:") && strstr(e.msgs[i], "itt");
		saw_boundary |= strstr(e.msgs[i], ":4:") && strstr(e.msgs[i], "facility");
		saw_region |= strstr(e.msgs[i], "region") != NULL;
	}
	ck_assert(saw_role);
	ck_assert(saw_boundary);
	ck_assert(saw_region);
	ck_assert_uint_ge(e.n, 5);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);
	free(path);
	rmdir_all(d);
	free(d);
}
END_TEST

/* ---- the report: its sections in every format ---- */

/* A ledger for the report tests: site dc1 (UTC, region XX, PUE category
 * 2), facility = grid1 - export1, it = ups1, 2026 factors and a GO. */
static void report_ledger(const char *d)
{
	struct fp_ledger *l = ledger(d);
	time_t jan = fp_parse_date("2026-01-01");
	int64_t t0 = (int64_t)jan * 1000 + 3600000;

	ck_assert_int_eq(fp_ledger_begin(l), 0);
	fp_ledger_set_meta(l, "site", "dc1");
	fp_ledger_set_meta(l, "timezone", "UTC");
	fp_ledger_set_meta(l, "region", "XX");
	fp_ledger_set_meta(l, "pue_category", "2");
	fp_ledger_add_boundary(l, "facility", "grid1", 1);
	fp_ledger_add_boundary(l, "facility", "export1", -1);
	fp_ledger_add_boundary(l, "it", "ups1", 1);
	fp_ledger_add_boundary(l, "grid", "grid1", 1);
	fp_ledger_add_factor(l, "XX", 2025, "location", 0.2, "old");
	fp_ledger_add_factor(l, "XX", 2026, "location", 0.1, "ENTSO-E 2026");
	fp_ledger_add_factor(l, "XX", 2026, "market", 0.4, "AIB residual mix 2026");
	fp_ledger_add_factor(l, "YY", 2026, "location", 0.9, "another region");
	fp_ledger_add_certificate(l, "go", jan, jan + 365 * 86400, 8760);
	fp_ledger_add_certificate(l, "ppa", jan - 365 * 86400, jan, 999); /* 2025 only */
	fp_ledger_meter_put(l, "grid1", "facility", "kWh", t0, 1000);
	fp_ledger_meter_put(l, "export1", "facility", "kWh", t0, 0);
	fp_ledger_meter_put(l, "ups1", "it", "kWh", t0, 500);
	ck_assert_int_eq(fp_ledger_spread(l, "grid1", t0, t0 + 3600000, 100, false), 0);
	ck_assert_int_eq(fp_ledger_spread(l, "export1", t0, t0 + 3600000, 0, false), 0);
	ck_assert_int_eq(fp_ledger_spread(l, "ups1", t0, t0 + 3600000, 80, false), 0);
	ck_assert_int_eq(fp_ledger_commit(l), 0);
	fp_ledger_close(l);
}

/* The report of d printed in format f (the caller frees). */
static char *report_text(const struct fp_report *r, enum fp_report_format f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(fp_report_print(r, f, o), 0);
	fclose(o);
	return buf;
}

#define ck_has(text, s) ck_assert_msg(strstr((text), (s)) != NULL, "missing: %s", (s))

START_TEST(test_report_basis_every_format)
{
	char *d = tmpdir(), err[512], *t;
	struct fp_report r;
	json_object *j, *b, *x;

	tz("UTC");
	report_ledger(d);
	ck_assert_msg(fp_report_load_state(d, "2026-01-01", "2026-12-31", &r, err, sizeof(err)) ==
			      0,
		      "%s", err);
	t = report_text(&r, FP_REPORT_MD);
	ck_has(t, "\n## Basis\n");
	ck_has(t, "| 2026 | XX | location | 0.1 | 2026 | ENTSO-E 2026 | configuration |");
	ck_has(t, "| 2026 | XX | market | 0.4 | 2026 | AIB residual mix 2026 | configuration |");
	ck_assert_ptr_null(strstr(t, "another region"));
	ck_has(t, "| Guarantee of Origin | 2026-01-01 | 2027-01-01 | 8760.000 |");
	ck_assert_ptr_null(strstr(t, "| PPA |")); /* 2025's, not in the period */
	ck_has(t, "| facility | +grid1 -export1 |");
	ck_has(t, "| it | +ups1 |");
	ck_has(t, "| ups1 | it | kWh |");
	ck_has(t, "PUE category 2: IT energy measured at the PDU output");
	ck_has(t, "Data coverage (E_DC and E_IT measured): ");
	free(t);
	t = report_text(&r, FP_REPORT_HTML);
	ck_has(t, "<h2>Basis</h2>");
	ck_has(t, "<td>ENTSO-E 2026</td>");
	ck_has(t, "<td>+grid1 -export1</td>");
	ck_has(t, "<td>ups1</td><td>it</td><td>kWh</td>");
	ck_has(t, "PUE category 2");
	free(t);
	t = report_text(&r, FP_REPORT_JSON);
	j = json_tokener_parse(t);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "basis", &b));
	x = json_object_array_get_idx(json_object_object_get(b, "factors"), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(x, "source")),
			 "ENTSO-E 2026");
	ck_rel(json_object_get_double(json_object_object_get(x, "kg_co2e_per_kwh")), 0.1);
	ck_assert_int_eq(json_object_array_length(json_object_object_get(b, "factors")), 2);
	x = json_object_array_get_idx(json_object_object_get(b, "certificates"), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(x, "from")),
			 "2026-01-01T00:00:00Z");
	ck_rel(json_object_get_double(json_object_object_get(x, "kwh")), 8760);
	x = json_object_array_get_idx(
		json_object_object_get(json_object_object_get(b, "boundaries"), "facility"), 1);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(x, "meter")), "export1");
	ck_rel(json_object_get_double(json_object_object_get(x, "coef")), -1);
	ck_assert_int_eq(json_object_array_length(json_object_object_get(b, "meters")), 3);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(b, "pue_category")), 2);
	json_object_put(j);
	free(t);
	t = report_text(&r, FP_REPORT_CSV);
	ck_has(t, ",coverage,factor_location_kg_per_kwh,factor_market_kg_per_kwh,go_kwh,ppa_kwh\n");
	ck_has(t, "\ntotal,");
	ck_has(t, ",0.1,0.4,");
	free(t);
	fp_report_free(&r);
	rmdir_all(d);
	free(d);
}
END_TEST

/* The EU block: Annex I and II items with the regulation's symbols and
 * units, the unmeasured ones from report.eu (errors at FILE:LINE), the
 * rest listed to complete; Annex III from the Annex II values. */
START_TEST(test_report_eu_block)
{
	char *d = tmpdir(), err[512], *t, *path = fp_xasprintf("%s/eu.conf", d);
	struct fp_config c;
	struct fp_cfg_errors e = { 0 };
	struct fp_report r;
	json_object *j, *items, *x;
	FILE *f = fopen(path, "w");
	size_t i;
	bool saw_red = false, saw_key = false, saw_ym = false, found = false;

	tz("UTC");
	/* bad values first: each reported at its line */
	fputs("report: {\n"
	      "  eu: {\n"
	      "    redundancy_electrical_hv = \"3X\";\n"
	      "    floor_area = 10.0;\n"
	      "    in_operation_since = \"2019-13\";\n"
	      "  };\n"
	      "};\n",
	      f);
	fclose(f);
	fp_config_defaults(&c);
	ck_assert_int_ne(fp_config_load(&c, path, &e), 0);
	for (i = 0; i < e.n; i++) {
		saw_red |= strstr(e.msgs[i], "eu.conf:3:") && strstr(e.msgs[i], "3X");
		saw_key |= strstr(e.msgs[i], "eu.conf:4:") && strstr(e.msgs[i], "unknown key");
		saw_ym |= strstr(e.msgs[i], "eu.conf:5:") && strstr(e.msgs[i], "YYYY-MM");
	}
	ck_assert(saw_red);
	ck_assert(saw_key);
	ck_assert(saw_ym);
	fp_cfg_errors_reset(&e);
	fp_config_free(&c);

	f = fopen(path, "w");
	fputs("report: { eu: {\n"
	      "  name = \"DC One\"; lau_code = \"FR 75056\"; type = \"colocation\";\n"
	      "  structure = \"structure\"; redundancy_electrical_hv = \"2N\";\n"
	      "  redundancy_cooling_room = \"N+1\"; floor_area_m2 = 1200.0;\n"
	      "  refrigerants = [ \"R-134a\", \"R-1234ze\" ]; in_operation_since = \"2019-06\";\n"
	      "  water_input_m3 = 40.0;\n"
	      "}; };\n",
	      f);
	fclose(f);
	fp_config_defaults(&c);
	ck_assert_int_eq(fp_config_load(&c, path, &e), 0);
	report_ledger(d);
	ck_assert_msg(fp_report_load_state(d, "2026-01-01", "2026-12-31", &r, err, sizeof(err)) ==
			      0,
		      "%s", err);
	r.cfg = c.report_cfg;
	t = report_text(&r, FP_REPORT_MD);
	ck_has(t, "## EU Delegated Regulation 2024/1364 (Annexes I to III)");
	ck_has(t, "| I 1(a) | Data centre name |  | DC One | text | configuration |");
	ck_has(t,
	       "| I 2(a) | Electrical infrastructure redundancy at high voltage level |  | 2N |");
	ck_has(t, "| II 1(b) | Total floor area | SDC | 1200 | m² | configuration |");
	ck_has(t, "| II 1(d) | Total energy consumption | EDC | 100.0 | kWh | metered |");
	ck_has(t, "| II 1(e) | IT equipment energy consumption | EIT | 80.0 | kWh | metered |");
	ck_has(t, "| II 1(h) | Total water input | WIN | 40 | m³ | configuration |");
	ck_has(t, "| II 1(m) | Types of refrigerants |  | R-134a, R-1234ze |");
	ck_has(t, "| II 1(p) | Renewable energy from Guarantees of Origin | ERES-GOO |");
	ck_has(t, "| II 3(c) | Incoming data traffic | TIN | to complete | EB |  |");
	ck_has(t, "| PUE | EDC / EIT | 1.250 | - |");
	ck_has(t, "| WUE | WIN / EIT (EIT in MWh) | 500.000 | m³/MWh |");
	ck_has(t, "### To complete");
	ck_has(t, "- Annex I 1(b) Owner: name and contact details (text): set report.eu.owner");
	ck_has(t,
	       "- Annex II 1(a) Installed information technology power demand, PDIT (kW): "
	       "set report.eu.it_power_kw");
	ck_assert_ptr_null(strstr(t, "[R]"));
	ck_assert_ptr_null(strstr(t, "recalled"));
	ck_assert_ptr_null(strstr(t, "- Annex I 1(a)"));
	free(t);
	t = report_text(&r, FP_REPORT_HTML);
	ck_has(t,
	       "<td>II 1(b)</td><td>Total floor area</td><td>SDC</td><td class=\"n\">1200</td>"
	       "<td>m²</td>");
	ck_has(t, "<h3>To complete</h3>");
	ck_assert_ptr_null(strstr(t, "[R]"));
	free(t);
	t = report_text(&r, FP_REPORT_JSON);
	j = json_tokener_parse(t);
	ck_assert_ptr_nonnull(j);
	items = json_object_object_get(json_object_object_get(j, "eu_2024_1364"), "items");
	for (i = 0; i < json_object_array_length(items); i++) {
		x = json_object_array_get_idx(items, i);
		if (json_object_object_get(x, "symbol") &&
		    !strcmp(json_object_get_string(json_object_object_get(x, "symbol")), "SCR")) {
			found = true;
			ck_assert_str_eq(json_object_get_string(json_object_object_get(x, "ref")),
					 "1(c)");
			ck_assert_ptr_null(json_object_object_get(x, "value"));
		}
	}
	ck_assert(found);
	ck_rel(json_object_get_double(json_object_object_get(
		       json_object_object_get(json_object_object_get(j, "eu_2024_1364"),
					      "annex_iii"),
		       "PUE")),
	       1.25);
	ck_assert_int_gt(json_object_array_length(json_object_object_get(
				 json_object_object_get(j, "eu_2024_1364"), "to_complete")),
			 10);
	json_object_put(j);
	free(t);
	fp_report_free(&r);
	fp_config_free(&c);
	free(path);
	rmdir_all(d);
	free(d);
}
END_TEST

static Suite *energy_suite(void)
{
	Suite *s = suite_create("energy");
	TCase *tv = tcase_create("vectors"), *m = tcase_create("meters"),
	      *l = tcase_create("ledger"), *e = tcase_create("engine"),
	      *bf = tcase_create("backfill");

	tcase_add_test(tv, test_tv_pue_1);
	tcase_add_test(tv, test_tv_pue_3_ppue);
	tcase_add_test(tv, test_tv_ref_erf_cer_wue);
	tcase_add_test(tv, test_tv_eu_1);
	tcase_add_test(tv, test_tv_scope2_cue);
	tcase_add_test(tv, test_tv_telecom);
	tcase_add_test(tv, test_undefined_and_below_one);
	tcase_add_test(tv, test_fuel_conversion);
	tcase_add_test(tv, test_org_sums_first);
	tcase_add_test(tv, test_org_ewaste_sums);
	tcase_add_test(m, test_counter_wrap_and_reset);
	tcase_add_test(m, test_gaps_and_rates);
	tcase_add_test(m, test_windows_dst);
	tcase_add_test(l, test_tv_pue_2_ledger_sum_then_divide);
	tcase_add_test(l, test_ledger_spread_factors_certificates);
	tcase_add_test(l, test_ledger_rejects_other_files);
	tcase_add_test(l, test_report_basis_every_format);
	tcase_add_test(l, test_report_eu_block);
	tcase_add_test(l, test_ledger_zone_ppue);
	tcase_add_test(l, test_ledger_ratio_over_common_part);
	tcase_add_test(l, test_ledger_scope2_undefined_before_energy);
	tcase_add_test(e, test_engine_restart_loses_nothing);
	tcase_add_test(e, test_engine_many_meters);
	tcase_add_test(e, test_engine_kind_from_config);
	tcase_add_test(e, test_engine_gap_is_missing_and_reset_counted);
	tcase_add_test(e, test_engine_running_totals);
	tcase_add_test(e, test_engine_window_kinds);
	tcase_add_test(e, test_engine_backfill_settles);
	tcase_add_test(e, test_engine_final_after_downtime);
	tcase_add_test(e, test_engine_quantity_total_held);
	tcase_add_test(e, test_engine_event_journal);
	tcase_add_test(e, test_config_errors);
	tcase_add_test(bf, test_engine_backfill_year);
	tcase_add_test(bf, test_engine_backfill_scattered);
	tcase_set_timeout(l, 60);
	tcase_set_timeout(e, 60);
	tcase_set_timeout(bf, 600);
	suite_add_tcase(s, tv);
	suite_add_tcase(s, m);
	suite_add_tcase(s, l);
	suite_add_tcase(s, e);
	suite_add_tcase(s, bf);
	return s;
}

FP_CHECK_MAIN(energy_suite)
