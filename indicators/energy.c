/* energy.c - meter steps, calendar windows and indicators (see energy.h). */
#include "config.h"

#include "energy.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

const char *fp_step_name(enum fp_step_kind k)
{
	static const char *const n[] = { "first", "measured", "wrapped",  "estimated",
					 "gap",	  "reset",    "backwards" };
	return (unsigned)k < FP_ARRAY_SIZE(n) ? n[k] : "?";
}

struct fp_step fp_meter_step(const struct fp_meter_params *p, int64_t t0_ms, double v0,
			     int64_t t1_ms, double v1)
{
	struct fp_step s = { FP_STEP_MEASURED, 0, 0 };
	double dt_h = (double)(t1_ms - t0_ms) / 3.6e6, d;
	bool gap = p->max_gap_ms > 0 && t1_ms - t0_ms > p->max_gap_ms;

	if (t1_ms <= t0_ms) {
		s.kind = FP_STEP_BACKWARDS;
		return s;
	}
	if (p->kind == FP_METER_RATE) {
		/* Trapezoid; a negative rate (export) counts as nothing. */
		d = (fmax(v0, 0) + fmax(v1, 0)) / 2 * (double)(t1_ms - t0_ms) / 1000 *
			p->rate_scale;
		if (!gap) {
			s.amount = d;
		} else if (p->interpolate) {
			s.kind = FP_STEP_ESTIMATED;
			s.amount = d;
		} else {
			s.kind = FP_STEP_GAP;
		}
		return s;
	}
	/* A cumulative register: a decrease is a wrap only
	 * when the register has a modulus and the wrapped delta is plausible;
	 * otherwise the meter was reset or replaced and cur is a new baseline. */
	d = v1 - v0;
	if (d < 0) {
		if (p->modulus > 0 && v0 < p->modulus) {
			d = fmod(d + p->modulus, p->modulus);
			s.kind = FP_STEP_WRAPPED;
		} else {
			s.kind = FP_STEP_RESET;
			return s;
		}
	}
	if (p->max_rate > 0 && d > p->max_rate * dt_h) {
		s.kind = FP_STEP_RESET;
		return s;
	}
	if (gap) {
		if (p->interpolate) {
			s.kind = FP_STEP_ESTIMATED;
			s.amount = d;
		} else {
			s.kind = FP_STEP_GAP;
			s.unattributed = d;
		}
		return s;
	}
	s.amount = d;
	return s;
}

/* ---- windows ---- */

const char *const fp_window_names[FP_NWINDOWS] = { "1h", "1d", "1mo", "1y" };

/* The local calendar time y-m-d h:00 as epoch seconds; mktime normalises
 * out-of-range fields (month 13 is next January).  With tm_isdst = -1 the
 * C library picks the offset in force; an hour that does not exist (the
 * spring-forward gap) moves forward, as it should for a boundary. */
static time_t local_time(int y, int mo, int d, int h)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

void fp_window_of(enum fp_window w, time_t t, time_t *start, time_t *end)
{
	struct tm tm;

	localtime_r(&t, &tm);
	switch (w) {
	case FP_WIN_HOUR:
		/* The local hour: works for offsets of 30 and 45 minutes too. */
		*start = t - tm.tm_min * 60 - tm.tm_sec;
		*end = *start + 3600;
		return;
	case FP_WIN_DAY:
		*start = local_time(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0);
		*end = local_time(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday + 1, 0);
		break;
	case FP_WIN_MONTH:
		*start = local_time(tm.tm_year + 1900, tm.tm_mon + 1, 1, 0);
		*end = local_time(tm.tm_year + 1900, tm.tm_mon + 2, 1, 0);
		break;
	default:
		*start = local_time(tm.tm_year + 1900, 1, 1, 0);
		*end = local_time(tm.tm_year + 1901, 1, 1, 0);
		break;
	}
	/* A zone whose midnight does not exist on some date: the day starts
	 * at the first instant that does, never after t. */
	if (*start > t)
		*start = t - tm.tm_min * 60 - tm.tm_sec;
}

time_t fp_local_date(int y, int m, int d)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	return local_time(y, m, d, 0);
}

time_t fp_parse_date(const char *s)
{
	int y, m, d, n = 0, i;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++) /* digits only: sscanf alone took "2026- 1-01" */
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return -1;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return -1;
	return fp_local_date(y, m, d);
}

/* ---- indicators ---- */

const char *const fp_qty_names[FP_NQTY] = {
	"facility",	    "it",	   "cooling",	   "lighting", "other", "grid",
	"renewable_onsite", "reuse",	   "cooling_heat", "fuel",     "water", "telecom_equipment",
	"telecom_site",	    "data_volume",
};

const char *const fp_qty_units[FP_NQTY] = {
	"kWh", "kWh", "kWh", "kWh", "kWh", "kWh", "kWh",
	"kWh", "kWh", "kWh", "m3",  "kWh", "kWh", "bit",
};

int fp_qty_index(const char *name)
{
	int q;

	for (q = 0; name && q < FP_NQTY; q++)
		if (!strcmp(name, fp_qty_names[q]))
			return q;
	return -1;
}

struct fp_ratio fp_ratio(double num, double den, double coverage)
{
	struct fp_ratio r = { false, 0, num, den, coverage };

	if (den > 0 && isfinite(num) && isfinite(den)) {
		r.defined = true;
		r.value = num / den;
	}
	return r;
}

struct fp_ratio fp_ppue(double e_it, double e_infra, double coverage)
{
	return fp_ratio(e_it + e_infra, e_it, coverage);
}

static double cov2(const struct fp_qsum *a, const struct fp_qsum *b)
{
	return fmin(a->coverage, b->coverage);
}

void fp_kpis_compute(const struct fp_window_sums *s, struct fp_kpis *k)
{
	const struct fp_qsum *dc = &s->q[FP_Q_FACILITY], *it = &s->q[FP_Q_IT];
	const struct fp_qsum *grid = &s->q[FP_Q_GRID];
	struct fp_ratio none = { false, 0, 0, 0, 0 };
	double cov = cov2(dc, it);

	memset(k, 0, sizeof(*k));
	k->coverage = cov;
	k->pue = k->dcie = k->ref = k->erf = k->ere = k->cer = none;
	k->cue_location = k->cue_market = k->wue_l_per_kwh = k->see = k->ee_bit_per_j = none;
	if (dc->present && it->present) {
		k->pue = fp_ratio(dc->value, it->value, cov);
		k->dcie = fp_ratio(it->value, dc->value, cov);
	}
	if (dc->present) {
		/* E_REN: on-site generation consumed plus certified supply,
		 * never more than E_DC (over-procurement is not consumption). */
		k->e_ren_kwh = s->go_kwh + s->ppa_kwh;
		if (s->q[FP_Q_RENEWABLE_ONSITE].present)
			k->e_ren_kwh += s->q[FP_Q_RENEWABLE_ONSITE].value;
		if (k->e_ren_kwh > dc->value && dc->value > 0) {
			k->ref_capped = true;
			k->ref = fp_ratio(dc->value, dc->value, dc->coverage);
		} else {
			k->ref = fp_ratio(k->e_ren_kwh, dc->value, dc->coverage);
		}
		if (s->q[FP_Q_RENEWABLE_ONSITE].present)
			k->ref.coverage = fmin(k->ref.coverage,
					       s->q[FP_Q_RENEWABLE_ONSITE].coverage);
	}
	if (dc->present && s->q[FP_Q_REUSE].present) {
		k->erf = fp_ratio(s->q[FP_Q_REUSE].value, dc->value, cov2(dc, &s->q[FP_Q_REUSE]));
		if (it->present)
			k->ere = fp_ratio(dc->value - s->q[FP_Q_REUSE].value, it->value,
					  fmin(cov, s->q[FP_Q_REUSE].coverage));
	}
	if (s->q[FP_Q_COOLING_HEAT].present && s->q[FP_Q_COOLING].present)
		k->cer = fp_ratio(s->q[FP_Q_COOLING_HEAT].value, s->q[FP_Q_COOLING].value,
				  cov2(&s->q[FP_Q_COOLING_HEAT], &s->q[FP_Q_COOLING]));
	if (s->q[FP_Q_WATER].present && it->present)
		k->wue_l_per_kwh = fp_ratio(s->q[FP_Q_WATER].value * 1000.0, it->value,
					    cov2(&s->q[FP_Q_WATER], it));
	if (grid->present && !isnan(s->co2e_location_kg)) {
		k->co2e_location_defined = true;
		k->co2e_location_kg = s->co2e_location_kg;
		if (it->present)
			k->cue_location = fp_ratio(k->co2e_location_kg, it->value, cov2(grid, it));
	}
	if (grid->present && !isnan(s->co2e_market_kg)) {
		k->co2e_market_defined = true;
		k->co2e_market_kg = s->co2e_market_kg;
		if (it->present)
			k->cue_market = fp_ratio(k->co2e_market_kg, it->value, cov2(grid, it));
	}
	if (s->q[FP_Q_TELECOM_EQUIPMENT].present && s->q[FP_Q_TELECOM_SITE].present)
		k->see = fp_ratio(s->q[FP_Q_TELECOM_EQUIPMENT].value, s->q[FP_Q_TELECOM_SITE].value,
				  cov2(&s->q[FP_Q_TELECOM_EQUIPMENT], &s->q[FP_Q_TELECOM_SITE]));
	if (s->q[FP_Q_DATA_VOLUME].present && s->q[FP_Q_TELECOM_SITE].present)
		k->ee_bit_per_j = fp_ratio(s->q[FP_Q_DATA_VOLUME].value,
					   s->q[FP_Q_TELECOM_SITE].value * FP_J_PER_KWH,
					   cov2(&s->q[FP_Q_DATA_VOLUME], &s->q[FP_Q_TELECOM_SITE]));
}

void fp_scope2(double grid_kwh, double certified_kwh, double ef_location, double ef_market,
	       double *location_kg, double *market_kg)
{
	*location_kg = ef_location >= 0 ? grid_kwh * ef_location : NAN;
	if (ef_market >= 0)
		*market_kg = fmax(grid_kwh - certified_kwh, 0) * ef_market;
	else if (ef_location >= 0)
		*market_kg = fmax(grid_kwh - certified_kwh, 0) * ef_location;
	else
		*market_kg = NAN;
}

#define QB(q) (1u << (q))

/* Each ratio of struct fp_kpis with the quantities it relates. */
static const struct {
	unsigned mask;
	size_t off[2]; /* of the ratios in struct fp_kpis; 0 past the last */
} ratio_terms[] = {
	{ QB(FP_Q_FACILITY) | QB(FP_Q_IT),
	  { offsetof(struct fp_kpis, pue), offsetof(struct fp_kpis, dcie) } },
	{ QB(FP_Q_FACILITY) | QB(FP_Q_RENEWABLE_ONSITE), { offsetof(struct fp_kpis, ref), 0 } },
	{ QB(FP_Q_FACILITY) | QB(FP_Q_REUSE), { offsetof(struct fp_kpis, erf), 0 } },
	{ QB(FP_Q_FACILITY) | QB(FP_Q_REUSE) | QB(FP_Q_IT), { offsetof(struct fp_kpis, ere), 0 } },
	{ QB(FP_Q_COOLING_HEAT) | QB(FP_Q_COOLING), { offsetof(struct fp_kpis, cer), 0 } },
	{ QB(FP_Q_WATER) | QB(FP_Q_IT), { offsetof(struct fp_kpis, wue_l_per_kwh), 0 } },
	{ QB(FP_Q_GRID) | QB(FP_Q_IT),
	  { offsetof(struct fp_kpis, cue_location), offsetof(struct fp_kpis, cue_market) } },
	{ QB(FP_Q_TELECOM_EQUIPMENT) | QB(FP_Q_TELECOM_SITE),
	  { offsetof(struct fp_kpis, see), 0 } },
	{ QB(FP_Q_DATA_VOLUME) | QB(FP_Q_TELECOM_SITE),
	  { offsetof(struct fp_kpis, ee_bit_per_j), 0 } },
};

static int first_qty(unsigned mask)
{
	int q = 0;

	while (q < FP_NQTY - 1 && !(mask & QB(q)))
		q++;
	return q;
}

static struct fp_ratio *ratio_at(struct fp_kpis *k, size_t off)
{
	return (struct fp_ratio *)(void *)((char *)k + off);
}

/* Whether every present quantity of mask covers the whole elapsed window
 * (then the totals are already matched). */
static bool all_covered(const struct fp_window_sums *s, unsigned mask)
{
	int q;

	for (q = 0; q < FP_NQTY; q++)
		if ((mask & QB(q)) && s->q[q].present && s->q[q].coverage < 1 - 1e-12)
			return false;
	return true;
}

/* total with the quantities of mask replaced by their matched sums m:
 * the certified supply follows E_DC's matched share, Scope 2 the grid's. */
static void matched_sums(const struct fp_window_sums *total, unsigned mask,
			 const struct fp_qsum m[FP_NQTY], struct fp_window_sums *out)
{
	const struct fp_qsum *dc = &total->q[FP_Q_FACILITY], *grid = &total->q[FP_Q_GRID];
	int q;

	*out = *total;
	for (q = 0; q < FP_NQTY; q++)
		if ((mask & QB(q)) && m[q].present)
			out->q[q] = m[q];
	if ((mask & QB(FP_Q_FACILITY)) && dc->coverage > 0) {
		double f = fmin(m[FP_Q_FACILITY].coverage / dc->coverage, 1.0);
		out->go_kwh *= f;
		out->ppa_kwh *= f;
	}
	if ((mask & QB(FP_Q_GRID)) && grid->value > 0) {
		double f = m[FP_Q_GRID].value / grid->value;
		out->co2e_location_kg *= f; /* NAN stays NAN */
		out->co2e_market_kg *= f;
	}
}

int fp_kpis_match(const struct fp_window_sums *total, struct fp_kpis *k,
		  int (*sums)(void *arg, unsigned mask, struct fp_qsum m[FP_NQTY]), void *arg)
{
	size_t i, j;

	for (i = 0; i < FP_ARRAY_SIZE(ratio_terms); i++) {
		unsigned mask = ratio_terms[i].mask;
		struct fp_qsum m[FP_NQTY];
		struct fp_window_sums ms;
		struct fp_kpis km;
		int q, n = 0;

		bool any = ratio_at(k, ratio_terms[i].off[0])->defined ||
			(ratio_terms[i].off[1] && ratio_at(k, ratio_terms[i].off[1])->defined);
		for (q = 0; q < FP_NQTY; q++)
			n += (mask & QB(q)) && total->q[q].present;
		/* every ratio of the group: DCiE is defined over an hour
		 * without E_IT where the PUE is not, and must be matched too */
		if (n < 2 || !any || all_covered(total, mask))
			continue;
		if (sums(arg, mask, m) < 0)
			return -1;
		matched_sums(total, mask, m, &ms);
		fp_kpis_compute(&ms, &km);
		for (j = 0; j < 2 && (j == 0 || ratio_terms[i].off[j]); j++) {
			struct fp_ratio *r = ratio_at(&km, ratio_terms[i].off[j]);
			r->coverage = fmin(r->coverage, m[first_qty(mask)].coverage);
			*ratio_at(k, ratio_terms[i].off[j]) = *r;
		}
		if (ratio_terms[i].off[0] == offsetof(struct fp_kpis, pue))
			k->coverage = k->pue.coverage;
		if (ratio_terms[i].off[0] == offsetof(struct fp_kpis, ref))
			k->ref_capped = km.ref_capped;
	}
	return 0;
}
