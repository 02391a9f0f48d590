/* ewaste.h - the arithmetic of the e-waste indicators (README, "Inventory
 * and e-waste indicators").
 *
 * The category table (UNU-KEY, average weight, Weibull lifespan) comes
 * from a versioned data file, data/ewaste-categories.csv, installed as
 * $(datadir)/footprint/ewaste-categories.csv, and the config may override
 * or add rows.  Everything else here is a pure function.
 */
#ifndef FP_EWASTE_H
#define FP_EWASTE_H

#include <stdbool.h>
#include <stddef.h>

struct fp_category {
	char key[8]; /* UNU-KEY, e.g. "0307" */
	char desc[96];
	char eu6[4];
	double weight_kg;    /* average per unit; 0 = unknown */
	double shape, scale; /* Weibull, years */
};

struct fp_categories {
	struct fp_category *c;
	size_t n, cap;
	char version[32];
	char profile[8]; /* "NLFB" or "IT" */
};

/* Loads the CSV table with the Weibull parameters of profile ("NLFB" or
 * "IT").  Problems are "FILE:LINE: reason" lines in err (first one);
 * returns 0 or -1. */
int fp_categories_load(struct fp_categories *t, const char *path, const char *profile, char *err,
		       size_t errlen);
/* Adds or replaces a row (config overrides). */
void fp_categories_set(struct fp_categories *t, const struct fp_category *c);
const struct fp_category *fp_category_find(const struct fp_categories *t, const char *key);
void fp_categories_free(struct fp_categories *t);

/* Weibull pdf, CDF and mean (shape a, scale b). */
double fp_weibull_pdf(double x, double a, double b);
double fp_weibull_cdf(double x, double a, double b);
double fp_weibull_mean(double a, double b);
/* P(retire within the next `years` | survived to age): the projection of
 * an in-service asset. */
double fp_retire_within(double age, double years, double a, double b);

/* E-waste generated in year n from placed-on-market masses pom[i] of years
 * year0 + i (i < n_years): the mid-year pdf method (the EU/UNU tool's,
 * the one footprint reports) or the CDF-difference method. */
double fp_ewg_midyear(const double *pom, int year0, int n_years, int n, double a, double b);
double fp_ewg_cdf(const double *pom, int year0, int n_years, int n, double a, double b);

/* Straight-line amortisation: the share of te over the
 * hours of [from, to) that fall inside [start, start + life) and before
 * end (early retirement: nothing after it).  Times in seconds. */
double fp_amortise(double te, double life_h, double start, double end, double from, double to);

/* Collection rate = documented / e-waste generated;
 * the EU WEEE Art. 7 form divides by the mean of the n preceding years'
 * placed-on-market.  -1 when undefined. */
double fp_ew_rate(double documented, double generated);
double fp_ew_rate_art7(double collected, const double *pom, int n);

#endif
