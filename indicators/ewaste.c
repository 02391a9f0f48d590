/* ewaste.c - e-waste arithmetic and the category table (see ewaste.h). */
#include "config.h"

#include "ewaste.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "util.h"

double fp_weibull_pdf(double x, double a, double b)
{
	if (x < 0 || a <= 0 || b <= 0)
		return 0;
	return (a / b) * pow(x / b, a - 1) * exp(-pow(x / b, a));
}

double fp_weibull_cdf(double x, double a, double b)
{
	if (x <= 0 || a <= 0 || b <= 0)
		return 0;
	return 1 - exp(-pow(x / b, a));
}

double fp_weibull_mean(double a, double b)
{
	return a > 0 && b > 0 ? b * tgamma(1 + 1 / a) : 0;
}

double fp_retire_within(double age, double years, double a, double b)
{
	double s = 1 - fp_weibull_cdf(age, a, b);

	if (s <= 0)
		return 1;
	return (fp_weibull_cdf(age + years, a, b) - fp_weibull_cdf(age, a, b)) / s;
}

double fp_ewg_midyear(const double *pom, int year0, int n_years, int n, double a, double b)
{
	double w = 0;
	int i;

	for (i = 0; i < n_years; i++)
		if (year0 + i <= n)
			w += pom[i] * fp_weibull_pdf(n - (year0 + i) + 0.5, a, b);
	return w;
}

double fp_ewg_cdf(const double *pom, int year0, int n_years, int n, double a, double b)
{
	double w = 0;
	int i, age;

	for (i = 0; i < n_years; i++) {
		age = n - (year0 + i);
		if (age >= 0)
			w += pom[i] * (fp_weibull_cdf(age + 1, a, b) - fp_weibull_cdf(age, a, b));
	}
	return w;
}

double fp_amortise(double te, double life_h, double start, double end, double from, double to)
{
	double lo, hi, stop = start + life_h * 3600;

	if (life_h <= 0 || te <= 0)
		return 0;
	if (end > 0 && end < stop)
		stop = end;
	lo = fmax(from, start);
	hi = fmin(to, stop);
	return hi > lo ? te * (hi - lo) / 3600 / life_h : 0;
}

void fp_categories_set(struct fp_categories *t, const struct fp_category *c)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->c[i].key, c->key)) {
			t->c[i] = *c;
			return;
		}
	fp_xgrow((void **)&t->c, &t->cap, t->n + 1, sizeof(*t->c));
	t->c[t->n++] = *c;
}

const struct fp_category *fp_category_find(const struct fp_categories *t, const char *key)
{
	size_t i;

	for (i = 0; key && i < t->n; i++)
		if (!strcmp(t->c[i].key, key))
			return &t->c[i];
	return NULL;
}

void fp_categories_free(struct fp_categories *t)
{
	free(t->c);
	memset(t, 0, sizeof(*t));
}

static int num(const char *s, double *v)
{
	char *end;

	if (!*s) {
		*v = 0;
		return 0;
	}
	errno = 0;
	*v = strtod(s, &end);
	return *end || errno || !isfinite(*v) || *v < 0 ? -1 : 0;
}

int fp_categories_load(struct fp_categories *t, const char *path, const char *profile, char *err,
		       size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct fp_csv_rec hdr = { 0 }, r = { 0 };
	char *text = NULL;
	size_t len = 0, pos = 0;
	int line = 1, rc, ck, cd, ce, cw, cs, cc;
	const char *why = NULL;
	char sname[16], cname[16];

	memset(t, 0, sizeof(*t));
	snprintf(t->profile, sizeof(t->profile), "%s", profile);
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	{
		struct fp_buf b;
		char chunk[4096];
		size_t n;
		fp_buf_init(&b, 1 << 20);
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (fp_buf_add(&b, chunk, n) < 0) {
				snprintf(err, errlen, "%s: larger than 1 MB", path);
				fp_buf_reset(&b);
				fclose(f);
				return -1;
			}
		fclose(f);
		text = fp_buf_steal(&b, &len);
	}
	if (fp_csv_next(text, len, &pos, &line, &hdr, &why) != 1) {
		snprintf(err, errlen, "%s:%d: %s", path, line, why ? why : "no header line");
		goto fail;
	}
	snprintf(sname, sizeof(sname), "shape_%s", profile);
	snprintf(cname, sizeof(cname), "scale_%s", profile);
	ck = fp_csv_col(&hdr, "unu_key");
	cd = fp_csv_col(&hdr, "description");
	ce = fp_csv_col(&hdr, "eu6");
	cw = fp_csv_col(&hdr, "weight_kg");
	cs = fp_csv_col(&hdr, sname);
	cc = fp_csv_col(&hdr, cname);
	if (ck < 0 || cw < 0 || cs < 0 || cc < 0) {
		snprintf(err, errlen, "%s:%d: the header needs unu_key, weight_kg, %s and %s", path,
			 hdr.line, sname, cname);
		goto fail;
	}
	while ((rc = fp_csv_next(text, len, &pos, &line, &r, &why)) != 0) {
		struct fp_category c;
		if (rc < 0 || r.n != hdr.n) {
			snprintf(err, errlen, "%s:%d: %s", path, rc < 0 ? line - 1 : r.line,
				 rc < 0 ? why : "not as many columns as the header");
			goto fail;
		}
		memset(&c, 0, sizeof(c));
		if (!r.f[ck][0] || strlen(r.f[ck]) >= sizeof(c.key)) {
			snprintf(err, errlen, "%s:%d: unu_key must be 1-7 characters", path,
				 r.line);
			goto fail;
		}
		snprintf(c.key, sizeof(c.key), "%s", r.f[ck]);
		if (cd >= 0)
			snprintf(c.desc, sizeof(c.desc), "%s", r.f[cd]);
		if (ce >= 0)
			snprintf(c.eu6, sizeof(c.eu6), "%s", r.f[ce]);
		if (num(r.f[cw], &c.weight_kg) < 0 || num(r.f[cs], &c.shape) < 0 ||
		    num(r.f[cc], &c.scale) < 0 || c.shape <= 0 || c.scale <= 0) {
			snprintf(err, errlen,
				 "%s:%d: weight_kg must be a number >= 0 (or empty), "
				 "%s and %s numbers > 0",
				 path, r.line, sname, cname);
			goto fail;
		}
		fp_categories_set(t, &c);
	}
	fp_csv_rec_free(&hdr);
	fp_csv_rec_free(&r);
	free(text);
	snprintf(t->version, sizeof(t->version), "%zu categories", t->n);
	return 0;
fail:
	fp_csv_rec_free(&hdr);
	fp_csv_rec_free(&r);
	free(text);
	fp_categories_free(t);
	return -1;
}

double fp_ew_rate(double documented, double generated)
{
	return generated > 0 ? documented / generated : -1;
}

double fp_ew_rate_art7(double collected, const double *pom, int n)
{
	double sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += pom[i];
	return n > 0 && sum > 0 ? collected / (sum / n) : -1;
}
