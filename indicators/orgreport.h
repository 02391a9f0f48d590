/* orgreport.h - the organisation's report: several sites' reports summed.
 *
 * Each site's report is built as for one site (fp_report_build over its
 * own ledger, in its own time zone and with its own region's emission
 * factors), or read back from its JSON (footprint.report/1) for a site
 * whose ledger is elsewhere.  The organisation's figures are sums first:
 * every quantity is the sum over the sites, and each ratio is the sum of
 * the sites' numerators over the sum of their denominators (each site's
 * over the common part of its terms), never an average of ratios.  Its
 * coverage is stated per site: the organisation's coverages are NAN.  The
 * renderers print the organisation's report with a per-site table; JSON
 * is schema "footprint.org-report/1" (README).
 */
#ifndef FP_ORGREPORT_H
#define FP_ORGREPORT_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

struct fp_org_site {
	struct fp_report r;
	struct json_object *json; /* the site's footprint.report/1 object (owned) */
	char *source;		  /* the state directory or the JSON file (owned) */
};

struct fp_org {
	struct fp_org_site *sites; /* owned, n of them */
	size_t n, cap;
	struct fp_report total; /* the sums (after fp_org_sum) */
	bool summed;
};

/* The report of one state directory (ledger.db, and inventory.db when
 * there is one), as footprint report prints it: 0, or -1 with err. */
int fp_report_load_state(const char *state, const char *from, const char *to, struct fp_report *r,
			 char *err, size_t errlen);
/* A footprint.report/1 object read back into r (the inverse of
 * fp_report_json for what the organisation's report needs): 0, or -1. */
int fp_report_from_json(struct json_object *o, struct fp_report *r, char *err, size_t errlen);

/* Adds a site from its state directory or from a JSON report file: 0, or
 * -1 with err (naming the directory or the file). */
int fp_org_add_state(struct fp_org *g, const char *state, const char *from, const char *to,
		     char *err, size_t errlen);
int fp_org_add_json(struct fp_org *g, const char *path, char *err, size_t errlen);
/* Checks the sites (at least one, one period, no site twice) and sums
 * them into g->total: 0, or -1 with err. */
int fp_org_sum(struct fp_org *g, char *err, size_t errlen);
int fp_org_print(const struct fp_org *g, enum fp_report_format f, FILE *out);
void fp_org_free(struct fp_org *g);

/* The pure sums.  Quantities, certified supply and events add up; each
 * ratio is sum(numerator) / sum(denominator) over the sites where it is
 * defined; Scope 2 (and CUE) is undefined when it is undefined at any
 * site; coverages are NAN (per site).  Label and bounds from the first. */
void fp_org_sum_period(const struct fp_report_period *const *p, size_t n,
		       struct fp_report_period *out);
/* The e-waste figures summed; the rates recomputed from the sums
 * (documented = recycled with a facility / decommissioned, reuse =
 * (reused + refurbished) / decommissioned, -1 when nothing was
 * decommissioned); the mean age is NAN (per site: the sums cannot give
 * it). */
void fp_org_sum_ewaste(const struct fp_ewaste *const *e, size_t n, struct fp_ewaste *out);

#endif
