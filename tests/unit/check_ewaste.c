/* check_ewaste.c - e-waste arithmetic (the TV vectors), the
 * CSV reader, the inventory's state machine, import and indicators. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "energy.h"
#include "ewaste.h"
#include "fp_check.h"
#include "inventory.h"
#include "util.h"

#define ck_near(a, b, tol)                                                                     \
	ck_assert_msg(fabs((double)(a) - (double)(b)) <= (tol), "%.12g != %.12g", (double)(a), \
		      (double)(b))

START_TEST(test_tv_wb)
{
	static const double pom[] = { 10, 12, 15, 15, 18 };

	/* TV-WB-2 and the table of TV-WB-1 */
	ck_near(fp_weibull_pdf(2.5, 1.46, 7.78), 0.0920006780, 1e-10);
	ck_near(fp_weibull_pdf(4.5, 1.46, 7.78), 0.0930521526, 1e-10);
	ck_near(fp_weibull_pdf(0.5, 1.46, 7.78), 0.0521377231, 1e-10);
	/* TV-WB-1: W(2024), mid-year pdf and CDF-difference methods */
	ck_near(fp_ewg_midyear(pom, 2020, 5, 2024, 1.46, 7.78), 5.5970376, 1e-7);
	ck_near(fp_ewg_cdf(pom, 2020, 5, 2024, 1.46, 7.78), 5.5183345, 1e-7);
	/* Means (checked values) */
	ck_near(fp_weibull_mean(1.46, 7.78), 7.0477, 1e-4);
	ck_near(fp_weibull_mean(1.60, 6.57), 5.8905, 1e-4);
}
END_TEST

START_TEST(test_tv_rates_and_embodied)
{
	static const double pom[] = { 12, 15, 15 };
	double y = 8760 * 3600.0, t0 = 1e9;

	/* TV-EW-RATE-1, TV-EW-RATE-2 */
	ck_near(fp_ew_rate(3.2, 5.5970376), 0.571731, 1e-6);
	ck_near(fp_ew_rate_art7(9.1, pom, 3), 0.65, 1e-12);
	ck_assert(fp_ew_rate(1, 0) < 0);
	/* TV-EMB-1: 1 600 kg over 35 040 h: a 730-h month, a year */
	ck_near(fp_amortise(1600, 35040, t0, 0, t0, t0 + 730 * 3600.0), 33.3333333, 1e-6);
	ck_near(fp_amortise(1600, 35040, t0, 0, t0 + y, t0 + 2 * y), 400, 1e-9);
	/* TV-EMB-2: the SCI share of 8 of 64 vCPUs for 720 h */
	ck_near(fp_amortise(1600, 35040, t0, 0, t0, t0 + 720 * 3600.0) * 8 / 64, 4.1095890, 1e-7);
	/* Nothing after the expected life, nothing after an early retirement */
	ck_near(fp_amortise(1600, 35040, t0, 0, t0 + 4 * y, t0 + 5 * y), 0, 0);
	ck_near(fp_amortise(1600, 35040, t0, t0 + y / 2, t0, t0 + y), 200, 1e-9);
}
END_TEST

START_TEST(test_conditional_retirement)
{
	/* P(retire within a year | age 3), computed here from the CDF */
	double a = 1.46, b = 7.78;
	double F3 = 1 - exp(-pow(3 / b, a)), F4 = 1 - exp(-pow(4 / b, a));

	ck_near(fp_retire_within(3, 1, a, b), (F4 - F3) / (1 - F3), 1e-12);
	ck_near(fp_retire_within(0, 1, a, b), 1 - exp(-pow(1 / b, a)), 1e-12); /* = F(1) */
	ck_assert(fp_retire_within(100, 1, a, b) > 0.9);
}
END_TEST

START_TEST(test_csv)
{
	const char *s = "# comment\n\na, \"b, c\" ,\"d \"\"q\"\"\"\r\n\"multi\nline\",x\n"
			"bad\"quote,1\nlast,\"unclosed\n";
	struct fp_csv_rec r = { 0 };
	size_t pos = 0, len = strlen(s);
	int line = 1;
	const char *why;

	ck_assert_int_eq(fp_csv_next(s, len, &pos, &line, &r, &why), 1);
	ck_assert_int_eq(r.line, 3);
	ck_assert_int_eq(r.n, 3);
	ck_assert_str_eq(r.f[0], "a");
	ck_assert_str_eq(r.f[1], "b, c");
	ck_assert_str_eq(r.f[2], "d \"q\"");
	ck_assert_int_eq(fp_csv_next(s, len, &pos, &line, &r, &why), 1);
	ck_assert_int_eq(r.line, 4);
	ck_assert_str_eq(r.f[0], "multi\nline");
	ck_assert_int_eq(fp_csv_next(s, len, &pos, &line, &r, &why), -1);
	ck_assert_int_eq(line, 7);
	ck_assert_int_eq(fp_csv_next(s, len, &pos, &line, &r, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "not closed"));
	ck_assert_int_eq(fp_csv_next(s, len, &pos, &line, &r, &why), 0);
	fp_csv_rec_free(&r);
}
END_TEST

static char *dir;

static struct fp_categories cats;

static void setup(void)
{
	char tmpl[] = "/tmp/fp-ewaste-XXXXXX", err[256];

	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	dir = fp_xstrdup(tmpl);
	ck_assert_msg(fp_categories_load(&cats, TOP_SRCDIR "/data/ewaste-categories.csv", "NLFB",
					 err, sizeof(err)) == 0,
		      "%s", err);
}

static void teardown(void)
{
	char *cmd = fp_xasprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
	fp_categories_free(&cats);
}

static struct fp_inventory *inv(void)
{
	char err[256], *p = fp_xasprintf("%s/inventory.db", dir);
	struct fp_inventory *v = fp_inv_open(p, false, err, sizeof(err));

	ck_assert_msg(v != NULL, "%s", err);
	free(p);
	return v;
}

static enum fp_inv_result ev(struct fp_inventory *v, const char *id, const char *asset,
			     const char *event, const char *date, const char *cat, double mass,
			     const char *dest)
{
	char why[256];
	struct fp_inv_event e = {
		id, asset, event, cat, NULL, dest, "s", "test", fp_parse_date(date), mass, -1, -1
	};
	return fp_inv_apply(v, &cats, &e, why, sizeof(why));
}

START_TEST(test_categories_table)
{
	const struct fp_category *c = fp_category_find(&cats, "0307");

	ck_assert_ptr_nonnull(c);
	ck_near(c->weight_kg, 40, 0);
	ck_near(c->shape, 1.46, 0);
	ck_near(c->scale, 7.78, 0);
	ck_assert_str_eq(c->desc, "Professional IT (servers, routers, data storage)");
	ck_assert_ptr_nonnull(fp_category_find(&cats, "0002"));
	ck_near(fp_category_find(&cats, "0002")->weight_kg, 0, 0);
}
END_TEST

START_TEST(test_state_machine)
{
	struct fp_inventory *v = inv();

	/* an unknown asset needs a category */
	ck_assert_int_eq(ev(v, "e0", "a1", "in_service", "2024-01-01", NULL, -1, NULL),
			 FP_INV_REJECTED);
	ck_assert_int_eq(ev(v, "e1", "a1", "ordered", "2024-01-01", "0307", 30, NULL),
			 FP_INV_APPLIED);
	/* ordered -> in_service skips received: illegal */
	ck_assert_int_eq(ev(v, "e2", "a1", "in_service", "2024-02-01", NULL, -1, NULL),
			 FP_INV_REJECTED);
	ck_assert_int_eq(ev(v, "e3", "a1", "received", "2024-01-15", NULL, -1, NULL),
			 FP_INV_APPLIED);
	/* a QoS 1 duplicate never counts twice */
	ck_assert_int_eq(ev(v, "e3", "a1", "received", "2024-01-15", NULL, -1, NULL),
			 FP_INV_DUPLICATE);
	ck_assert_int_eq(ev(v, "e4", "a1", "in_service", "2024-02-01", NULL, -1, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "e5", "a1", "decommissioned", "2025-06-01", NULL, -1, NULL),
			 FP_INV_APPLIED);
	/* late: a spare period placed by its own time, between them */
	ck_assert_int_eq(ev(v, "e6", "a1", "spare", "2024-09-01", NULL, -1, NULL), FP_INV_APPLIED);
	/* late and illegal where it falls: received after in_service */
	ck_assert_int_eq(ev(v, "e7", "a1", "received", "2024-03-01", NULL, -1, NULL),
			 FP_INV_REJECTED);
	ck_assert_int_eq(ev(v, "e8", "a1", "recycled", "2025-07-01", NULL, -1, "ATF 42"),
			 FP_INV_APPLIED);
	/* final */
	ck_assert_int_eq(ev(v, "e9", "a1", "in_service", "2025-08-01", NULL, -1, NULL),
			 FP_INV_REJECTED);
	ck_assert_int_eq(ev(v, "e10", "a1", "exploded", "2025-08-01", NULL, -1, NULL),
			 FP_INV_REJECTED);
	/* a repeated state (a foreign source's rejoin) changes nothing */
	ck_assert_int_eq(ev(v, "r1", "z1", "in_service", "2024-01-01", "0301", 0.1, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "r2", "z1", "in_service", "2024-03-01", NULL, -1, NULL),
			 FP_INV_DUPLICATE);
	ck_assert_int_eq(ev(v, "r3", "z1", "spare", "2024-04-01", NULL, -1, NULL), FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "r4", "z1", "in_service", "2024-05-01", NULL, -1, NULL),
			 FP_INV_APPLIED);
	/* an earlier report of the same state moves its start */
	ck_assert_int_eq(ev(v, "r5", "z1", "spare", "2024-03-15", NULL, -1, NULL), FP_INV_APPLIED);
	/* no mass and a category without an average weight */
	ck_assert_int_eq(ev(v, "e11", "pv1", "in_service", "2024-01-01", "0002", -1, NULL),
			 FP_INV_REJECTED);
	ck_assert_int_eq(ev(v, "e12", "pv1", "in_service", "2024-01-01", "0002", 20, NULL),
			 FP_INV_APPLIED);
	fp_inv_close(v);
}
END_TEST

START_TEST(test_indicators)
{
	struct fp_inventory *v = inv();
	struct fp_ewaste e;
	time_t y24 = fp_parse_date("2024-01-01"), y25 = fp_parse_date("2025-01-01");
	time_t y26 = fp_parse_date("2026-01-01");
	double a, age, sc;

	/* s1 40 kg (category weight), in service 2016 (past its 7.05 y mean
	 * life at the end of 2024); s2 30 kg in service 2022, decommissioned
	 * and recycled with a documented facility in 2024; s3 20 kg in 2024,
	 * decommissioned and reused in 2024; s4 10 kg decommissioned 2024,
	 * recycled without documentation. */
	ck_assert_int_eq(ev(v, "1", "s1", "in_service", "2016-07-01", "0307", -1, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "2", "s2", "in_service", "2022-01-01", "0307", 30, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "3", "s2", "decommissioned", "2024-03-01", NULL, -1, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "4", "s2", "recycled", "2024-04-01", NULL, -1, "ATF 7"),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "5", "s3", "in_service", "2024-02-01", "0307", 20, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "6", "s3", "decommissioned", "2024-10-01", NULL, -1, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "7", "s3", "reused", "2024-11-01", NULL, -1, NULL), FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "8", "s4", "in_service", "2020-01-01", "0307", 10, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "9", "s4", "decommissioned", "2024-05-01", NULL, -1, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(ev(v, "10", "s4", "recycled", "2024-06-01", NULL, -1, NULL),
			 FP_INV_APPLIED);
	ck_assert_int_eq(fp_inv_ewaste(v, &cats, "0307", y24, y25, y25, &e), 0);
	ck_near(e.installed_units, 1, 0);
	ck_near(e.installed_kg, 40, 1e-12);
	ck_near(e.commissioned_kg, 20, 1e-12);
	ck_near(e.decommissioned_kg, 60, 1e-12);
	ck_near(e.recycled_kg, 40, 1e-12);
	ck_near(e.recycled_documented_kg, 30, 1e-12);
	ck_near(e.reused_kg, 20, 1e-12);
	ck_near(e.documented_rate, 0.5, 1e-12);
	ck_near(e.reuse_rate, 20.0 / 60, 1e-12);
	ck_near(e.beyond_lifespan_units, 1, 0);
	age = (double)(y25 - fp_parse_date("2016-07-01")) / (8760 * 3600.0);
	ck_near(e.mean_age_y, age, 1e-9);
	/* s1's projection: the category's shape with the scale of its
	 * expected life (the category mean here: the category scale). */
	a = 1.46;
	sc = 7.78;
	ck_near(e.projected_kg_12m,
		40 * ((1 - exp(-pow((age + 1) / sc, a))) - (1 - exp(-pow(age / sc, a)))) /
			exp(-pow(age / sc, a)),
		1e-9);
	/* In 2025 nothing was decommissioned: the rates are undefined */
	ck_assert_int_eq(fp_inv_ewaste(v, &cats, NULL, y25, y26, y26, &e), 0);
	ck_assert(e.documented_rate < 0 && e.reuse_rate < 0);
	ck_near(e.decommissioned_kg, 0, 0);
	fp_inv_close(v);
}
END_TEST

/* What fp_inv_ewaste_totals gave: the categories in their order, "all"
 * last. */
struct totals {
	char cat[4][8];
	struct fp_ewaste e[4];
	int n;
};

static void totals_cb(void *arg, const char *category, const struct fp_ewaste *e)
{
	struct totals *t = arg;

	ck_assert_int_lt(t->n, 4);
	snprintf(t->cat[t->n], sizeof(t->cat[0]), "%s", category ? category : "all");
	t->e[t->n++] = *e;
}

/* ewaste_total: the state at `at` and every event's mass whatever its
 * date (issue #17). */
START_TEST(test_totals)
{
	struct fp_inventory *v = inv();
	struct totals t = { .n = 0 };
	time_t at = fp_parse_date("2025-12-01");
	static const char *const ids[3] = { "0303", "0307", NULL };
	/* per 0303, 0307, all: installed units, kg, beyond lifespan,
	 * commissioned, decommissioned, reused, refurbished, recycled,
	 * documented, disposed (kg), assets */
	static const double want[3][11] = {
		{ 1, 4, 1, 11, 6.5, 2, 1.5, 0, 0, 3, 6 },
		{ 2, 60, 1, 100, 40, 0, 0, 40, 30, 0, 4 },
		{ 3, 64, 2, 111, 46.5, 2, 1.5, 40, 30, 3, 10 },
	};
	static const struct {
		const char *id, *asset, *event, *date, *cat;
		double mass;
		const char *dest;
	} evs[] = {
		/* 0307: s1 past its 7.05 y mean life, s2 recycled with a
		 * named facility, s3 a spare, s4 recycled undocumented */
		{ "1", "s1", "in_service", "2016-07-01", "0307", -1, NULL },
		{ "2", "s2", "in_service", "2022-01-01", "0307", 30, NULL },
		{ "3", "s2", "decommissioned", "2024-03-01", NULL, -1, NULL },
		{ "4", "s2", "recycled", "2024-04-01", NULL, -1, "ATF 7" },
		{ "5", "s3", "in_service", "2024-02-01", "0307", 20, NULL },
		{ "6", "s3", "spare", "2024-06-01", NULL, -1, NULL },
		{ "7", "s4", "in_service", "2020-01-01", "0307", 10, NULL },
		{ "8", "s4", "decommissioned", "2024-05-01", NULL, -1, NULL },
		{ "9", "s4", "recycled", "2024-06-01", NULL, -1, NULL },
		/* 0303: l1 reused, l2 refurbished, l3 received only, l4
		 * past its 5.89 y mean life, l5 disposed, l6 commissioned
		 * after `at` (counted, not installed at `at`) */
		{ "10", "l1", "in_service", "2023-01-01", "0303", 2, NULL },
		{ "11", "l1", "decommissioned", "2025-03-01", NULL, -1, NULL },
		{ "12", "l1", "reused", "2025-04-01", NULL, -1, NULL },
		{ "13", "l2", "in_service", "2024-01-01", "0303", 1.5, NULL },
		{ "14", "l2", "decommissioned", "2025-06-01", NULL, -1, NULL },
		{ "15", "l2", "refurbished", "2025-07-01", NULL, -1, NULL },
		{ "16", "l3", "received", "2025-01-01", "0303", 2.5, NULL },
		{ "17", "l4", "in_service", "2019-01-01", "0303", 4, NULL },
		{ "18", "l5", "in_service", "2022-01-01", "0303", 3, NULL },
		{ "19", "l5", "decommissioned", "2025-02-01", NULL, -1, NULL },
		{ "20", "l5", "disposed", "2025-03-01", NULL, -1, NULL },
		{ "21", "l6", "in_service", "2025-12-15", "0303", 0.5, NULL },
	};
	size_t i;
	int k;

	/* an empty inventory: "all", at 0 (a counter's first sample) */
	ck_assert_int_eq(fp_inv_ewaste_totals(v, at, totals_cb, &t), 0);
	ck_assert_int_eq(t.n, 1);
	ck_assert_str_eq(t.cat[0], "all");
	ck_near(t.e[0].installed_units + t.e[0].commissioned_kg + t.e[0].disposed_kg, 0, 0);
	ck_assert_int_eq(t.e[0].assets, 0);
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		ck_assert_int_eq(ev(v, evs[i].id, evs[i].asset, evs[i].event, evs[i].date,
				    evs[i].cat, evs[i].mass, evs[i].dest),
				 FP_INV_APPLIED);
	t.n = 0;
	ck_assert_int_eq(fp_inv_ewaste_totals(v, at, totals_cb, &t), 0);
	ck_assert_int_eq(t.n, 3);
	for (k = 0; k < 3; k++) {
		const struct fp_ewaste *e = &t.e[k];
		struct fp_ewaste w;
		ck_assert_str_eq(t.cat[k], ids[k] ? ids[k] : "all");
		ck_near(e->installed_units, want[k][0], 0);
		ck_near(e->installed_kg, want[k][1], 0);
		ck_near(e->beyond_lifespan_units, want[k][2], 0);
		ck_near(e->commissioned_kg, want[k][3], 0);
		ck_near(e->decommissioned_kg, want[k][4], 0);
		ck_near(e->reused_kg, want[k][5], 0);
		ck_near(e->refurbished_kg, want[k][6], 0);
		ck_near(e->recycled_kg, want[k][7], 0);
		ck_near(e->recycled_documented_kg, want[k][8], 0);
		ck_near(e->disposed_kg, want[k][9], 0);
		ck_assert_int_eq(e->assets, (long)want[k][10]);
		ck_assert(e->documented_rate < 0 && e->reuse_rate < 0);
		/* the same definitions as the window rows': a window holding
		 * every date, its state figures taken at `at` */
		ck_assert_int_eq(fp_inv_ewaste(v, &cats, ids[k], 0, 4000000000, at, &w), 0);
		ck_near(e->installed_units, w.installed_units, 0);
		ck_near(e->installed_kg, w.installed_kg, 0);
		ck_near(e->beyond_lifespan_units, w.beyond_lifespan_units, 0);
		ck_near(e->commissioned_kg, w.commissioned_kg, 0);
		ck_near(e->decommissioned_kg, w.decommissioned_kg, 0);
		ck_near(e->reused_kg + e->refurbished_kg, w.reused_kg + w.refurbished_kg, 0);
		ck_near(e->recycled_kg + e->disposed_kg, w.recycled_kg + w.disposed_kg, 0);
		ck_near(e->recycled_documented_kg, w.recycled_documented_kg, 0);
	}
	/* a late event, dated long before: counted when it is applied (the
	 * counters only grow), and the state at `at` follows it */
	ck_assert_int_eq(ev(v, "22", "s3", "decommissioned", "2024-07-01", NULL, -1, NULL),
			 FP_INV_APPLIED);
	t.n = 0;
	ck_assert_int_eq(fp_inv_ewaste_totals(v, at, totals_cb, &t), 0);
	ck_assert_int_eq(t.n, 3);
	ck_near(t.e[1].decommissioned_kg, 60, 0);
	ck_near(t.e[2].decommissioned_kg, 66.5, 0);
	ck_near(t.e[1].installed_units, 1, 0);
	ck_near(t.e[2].installed_kg, 44, 0);
	ck_near(t.e[2].commissioned_kg, 111, 0);
	/* later, l6 is in service too */
	t.n = 0;
	ck_assert_int_eq(fp_inv_ewaste_totals(v, fp_parse_date("2025-12-16"), totals_cb, &t), 0);
	ck_near(t.e[0].installed_units, 2, 0);
	ck_near(t.e[0].installed_kg, 4.5, 0);
	fp_inv_close(v);
}
END_TEST

/* ewaste_total's masses are exact sums (whole mg), so a running total
 * never goes down by a rounding step as assets are added: ten assets of
 * 0.1 kg sum to 1 kg, where 0.1 added ten times in binary gives
 * 0.9999999999999999. */
START_TEST(test_totals_exact)
{
	struct fp_inventory *v = inv();
	time_t at = fp_parse_date("2025-12-01");
	double prev = 0;
	int k;

	for (k = 1; k <= 10; k++) {
		struct totals t = { .n = 0 };
		char id[16], asset[16];
		snprintf(id, sizeof(id), "x%d", k);
		snprintf(asset, sizeof(asset), "a%d", k);
		ck_assert_int_eq(ev(v, id, asset, "in_service", "2025-01-01", "0303", 0.1, NULL),
				 FP_INV_APPLIED);
		ck_assert_int_eq(fp_inv_ewaste_totals(v, at, totals_cb, &t), 0);
		ck_assert_int_eq(t.n, 2);
		ck_assert(t.e[1].commissioned_kg == k / 10.0);
		ck_assert(t.e[1].installed_kg == k / 10.0);
		ck_assert(t.e[1].commissioned_kg >= prev);
		prev = t.e[1].commissioned_kg;
	}
	ck_assert(prev == 1.0);
	fp_inv_close(v);
}
END_TEST

START_TEST(test_import)
{
	struct fp_inventory *v = inv();
	char *bad = fp_xasprintf("%s/bad.csv", dir), *good = fp_xasprintf("%s/good.json", dir);
	char *errs = NULL;
	size_t elen = 0;
	FILE *f = fopen(bad, "w"), *e;

	fputs("asset_id,category,model,mass_kg,commissioned,state\n"
	      "r1,0307,\"R740, 2U\",28.5,2021-03-15,in_service\n"
	      "r2,9999,x,1,2021-01-01,\n"
	      "r3,0307,x,-4,2021-02-30,in_service\n"
	      "r1,0307,x,1,,received\n"
	      "r5,0002,panel,,2021-01-01,spare\n",
	      f);
	fclose(f);
	e = open_memstream(&errs, &elen);
	ck_assert_int_eq(fp_inv_import(v, &cats, bad, "s", e), -1);
	fclose(e);
	ck_assert_ptr_nonnull(strstr(errs, "bad.csv:3: category '9999'"));
	ck_assert_ptr_nonnull(strstr(errs, "bad.csv:4: mass_kg"));
	ck_assert_ptr_nonnull(strstr(errs, "bad.csv:4: commissioned '2021-02-30'"));
	ck_assert_ptr_nonnull(strstr(errs, "bad.csv:5: asset r1 appears twice"));
	ck_assert_ptr_nonnull(strstr(errs, "bad.csv:6: mass_kg is required"));
	ck_assert_ptr_nonnull(strstr(errs, "nothing imported"));
	free(errs);
	/* nothing half-imported: r1 (a good row) is not there */
	{
		struct fp_ewaste x;
		ck_assert_int_eq(fp_inv_ewaste(v, &cats, NULL, 0, 2000000000, 2000000000, &x), 0);
		ck_assert_int_eq(x.assets, 0);
	}
	f = fopen(good, "w");
	fputs("[{\"asset_id\":\"j1\",\"category\":\"0307\",\"mass_kg\":25,\"commissioned\":\"2023-05-01\"},"
	      " {\"asset_id\":\"j2\",\"category\":\"0309\",\"state\":\"ordered\"}]",
	      f);
	fclose(f);
	e = open_memstream(&errs, &elen);
	ck_assert_int_eq(fp_inv_import(v, &cats, good, "s", e), 2);
	fclose(e);
	free(errs);
	{
		struct fp_ewaste x;
		ck_assert_int_eq(fp_inv_ewaste(v, &cats, NULL, 0, 2000000000, 2000000000, &x), 0);
		ck_assert_int_eq(x.assets, 2);
		ck_near(x.installed_kg, 25, 1e-12);
	}
	free(bad);
	free(good);
	fp_inv_close(v);
}
END_TEST

/* Issue #20: an event dated 2600 was stored (in 2015 through MQTT); every
 * event time and commissioning date is checked against the window: the
 * default one, or the agent's (agent.timestamp_min), or the CLI's
 * --timestamp-min. */
START_TEST(test_time_window)
{
	struct fp_inventory *v = inv();
	struct fp_time_window w = { 0, 0 };
	char why[256], *errs = NULL, *csv = fp_xasprintf("%s/old.csv", dir);
	size_t elen = 0;
	struct fp_inv_event e = { "t1",	  "old1", "in_service", "0307", NULL, NULL, "s",
				  "test", 0,	  20,		-1,	-1 };
	FILE *f, *err;

	e.t = 19880899200LL; /* 2600-01-01 */
	ck_assert_int_eq(fp_inv_apply(v, &cats, &e, why, sizeof(why)), FP_INV_REJECTED);
	ck_assert_ptr_nonnull(strstr(why, "time 19880899200: the timestamp is after now"));
	e.t = INT64_MAX;
	ck_assert_int_eq(fp_inv_apply(v, &cats, &e, why, sizeof(why)), FP_INV_REJECTED);
	e.t = fp_parse_date("1995-06-01");
	ck_assert_int_eq(fp_inv_apply(v, &cats, &e, why, sizeof(why)), FP_INV_REJECTED);
	ck_assert_ptr_nonnull(strstr(why, "before timestamp_min"));
	f = fopen(csv, "w");
	fputs("asset_id,category,mass_kg,commissioned\nold2,0307,10,1995-06-01\n", f);
	fclose(f);
	err = open_memstream(&errs, &elen);
	ck_assert_int_eq(fp_inv_import(v, &cats, csv, "s", err), -1);
	fclose(err);
	ck_assert_ptr_nonnull(strstr(errs,
				     "old.csv:2: commissioned '1995-06-01': the timestamp "
				     "is before timestamp_min"));
	free(errs);
	/* an older window accepts them */
	w.min_s = fp_parse_date("1990-01-01");
	fp_inv_set_time_window(v, &w);
	ck_assert_int_eq(fp_inv_apply(v, &cats, &e, why, sizeof(why)), FP_INV_APPLIED);
	err = open_memstream(&errs, &elen);
	ck_assert_int_eq(fp_inv_import(v, &cats, csv, "s", err), 1);
	fclose(err);
	free(errs);
	free(csv);
	fp_inv_close(v);
}
END_TEST

static Suite *ewaste_suite(void)
{
	Suite *s = suite_create("ewaste");
	TCase *m = tcase_create("math"), *i = tcase_create("inventory");

	tcase_add_test(m, test_tv_wb);
	tcase_add_test(m, test_tv_rates_and_embodied);
	tcase_add_test(m, test_conditional_retirement);
	tcase_add_test(m, test_csv);
	tcase_add_checked_fixture(i, setup, teardown);
	tcase_add_test(i, test_categories_table);
	tcase_add_test(i, test_state_machine);
	tcase_add_test(i, test_indicators);
	tcase_add_test(i, test_totals);
	tcase_add_test(i, test_totals_exact);
	tcase_add_test(i, test_import);
	tcase_add_test(i, test_time_window);
	tcase_set_timeout(i, 60);
	suite_add_tcase(s, m);
	suite_add_tcase(s, i);
	return s;
}

FP_CHECK_MAIN(ewaste_suite)
