/* report.h - the environmental report, from the ledger alone.
 *
 * fp_report_build reads the ledger of a state directory over a period of
 * whole local days (the time zone the agent recorded) and computes the
 * totals, the indicators and a monthly breakdown; the renderers print it
 * as Markdown, JSON (schema "footprint.report/1", README), CSV or a
 * self-contained HTML page with inline SVG charts.
 */
#ifndef FP_REPORT_H
#define FP_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "cfg.h"
#include "energy.h"
#include "ewaste.h"
#include "inventory.h"
#include "ledger.h"

struct json_object;

struct fp_report_period {
	char label[32]; /* "2026-01" for a month, "total" */
	time_t from, to;
	struct fp_window_sums s;
	struct fp_kpis k;
};

/* The e-waste section: per category (and "all"). */
struct fp_report_ew {
	char category[8];
	char desc[96];
	struct fp_ewaste e;
	int ewg_year;	     /* the calendar year of the cohort model */
	double ewg_model_kg; /* e-waste generated that year, Weibull mid-year pdf */
};

struct fp_report_ew_month {
	char label[32];
	struct fp_ewaste e; /* all categories, that month */
};

/* The basis of the figures: what the ledger's configuration snapshot held. */
struct fp_report_factor {
	int for_year; /* the calendar year of the period it applies to */
	struct fp_ledger_factor f;
};
struct fp_report_cert {
	char type[8]; /* go, ppa */
	time_t from, to;
	double kwh;
};
struct fp_report_bound {
	char qty[32], meter[128];
	double coef;
};
struct fp_report_meter {
	char name[128], role[32], unit[16];
};
struct fp_report_basis {
	struct fp_report_factor *factors; /* per year of the period and method */
	size_t nfactors;
	struct fp_report_cert *certs; /* those overlapping the period */
	size_t ncerts;
	struct fp_report_bound *bounds;
	size_t nbounds;
	struct fp_report_meter *meters;
	size_t nmeters;
	bool loaded; /* false for a report read back from JSON */
};

struct fp_report_cfg;

struct fp_report {
	char site[128], timezone[64], region[64], from[11], to[11];
	int pue_category;
	bool calendar_year; /* the period is exactly one calendar year */
	double hours;
	struct fp_report_period total;
	struct fp_report_period *months;
	size_t nmonths;
	struct fp_ledger_events events;
	/* e-waste (when the state has an inventory) */
	bool has_inventory;
	struct fp_report_ew *ew; /* one row per category, then "all" */
	size_t nrows;
	struct fp_report_ew_month *ewm;
	size_t newm;
	struct fp_report_basis basis;
	bool no_ledger; /* built from a state dir with only an inventory */
	/* the items of the EU block the agent cannot measure (borrowed, may
	 * be NULL: they are then all to complete) */
	const struct fp_report_cfg *cfg;
};

/* The report group of footprintd.conf: report.eu holds the items of the EU
 * Delegated Regulation 2024/1364 the agent cannot measure (footprintd.conf(5)).
 * g may be NULL (nothing configured); problems go to e as FILE:LINE.  The
 * result is never NULL; the caller frees it. */
struct fp_report_cfg *fp_report_cfg_parse(const config_setting_t *g, struct fp_cfg_errors *e);
void fp_report_cfg_free(struct fp_report_cfg *c);

enum fp_report_format { FP_REPORT_MD, FP_REPORT_JSON, FP_REPORT_CSV, FP_REPORT_HTML };

/* from and to are inclusive dates (YYYY-MM-DD).  Sets TZ to the ledger's
 * time zone.  Returns 0, or -1 with a message in err. */
int fp_report_build(struct fp_ledger *l, const char *from, const char *to, struct fp_report *r,
		    char *err, size_t errlen);
/* A report without a ledger (a state directory with only an inventory):
 * the period and its months, nothing measured; then fp_report_ewaste. */
int fp_report_build_empty(const char *site, const char *from, const char *to, struct fp_report *r,
			  char *err, size_t errlen);
/* Adds the e-waste section from an inventory (after fp_report_build). */
int fp_report_ewaste(struct fp_report *r, struct fp_inventory *v, char *err, size_t errlen);
void fp_report_free(struct fp_report *r);
int fp_report_print(const struct fp_report *r, enum fp_report_format f, FILE *out);

/* The pieces of the renderers, for the organisation's report (orgreport.h),
 * each as fp_report_print prints it.  A coverage that is NAN is printed as
 * "per site" (null in JSON, an empty cell in CSV). */
void fp_report_md_head(const struct fp_report *r, FILE *o); /* title, period */
void fp_report_md_body(const struct fp_report *r, FILE *o); /* the rest */
void fp_report_html_head(const struct fp_report *r, FILE *o);
void fp_report_html_body(const struct fp_report *r, FILE *o); /* ends the page */
void fp_report_html_esc(FILE *o, const char *s);	      /* text, escaped */
/* The footprint.report/1 object (the caller owns it). */
struct json_object *fp_report_json(const struct fp_report *r);
/* Prints o (pretty) and releases it. */
void fp_report_json_put(struct json_object *o, FILE *out);
/* The CSV header and rows, with a first column "site" when site is set;
 * inv: the e-waste columns (empty cells for a report without them). */
void fp_report_csv_header(FILE *o, bool site, bool inv);
void fp_report_csv_rows(const struct fp_report *r, FILE *o, const char *site, bool inv);

#endif
