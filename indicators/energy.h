/* energy.h - the arithmetic of the energy indicators, free of I/O.
 *
 * Three pieces, each a pure function of its inputs so that every worked
 * example is a unit test (tests/unit/check_energy.c):
 *
 *  - meter steps: from two readings of one meter (a cumulative register
 *    or a power value) to the amount in between, with counter wrap,
 *    resets/replacements (a wrap only when the increase is plausible) and gaps;
 *  - calendar windows (hour, day, month, year) in the process's time zone
 *    (TZ), DST-correct: a window is [start, end) in epoch seconds;
 *  - indicators from the sums of one window: always sums first, then
 *    ratios; a ratio with a zero or missing denominator is undefined.
 */
#ifndef FP_ENERGY_H
#define FP_ENERGY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* EN 50600-4 conversion factors, kWh per unit. */
#define FP_KWH_PER_L_DIESEL 9.9
#define FP_KWH_PER_M3_GAS 10.5
#define FP_KWH_PER_KG_HYDROGEN 38.9
#define FP_KWH_PER_L_BIOETHANOL 6.0
#define FP_J_PER_KWH 3.6e6

/* ---- meter steps ---- */

enum fp_meter_kind {
	FP_METER_COUNTER, /* a cumulative register: amount = cur - prev */
	FP_METER_RATE,	  /* a rate (power): amount = trapezoid over time */
};

struct fp_meter_params {
	enum fp_meter_kind kind;
	double modulus;	    /* counters: the value at which the register wraps to 0
			   * (2^bits x scale), 0 = never wraps */
	double max_rate;    /* plausibility: largest increase per hour, in the
			   * meter's unit (kW for a kWh register); 0 = no bound */
	double rate_scale;  /* rate meters: amount per (rate unit x second),
			    * e.g. 1/3.6e6 for W -> kWh */
	int64_t max_gap_ms; /* longer intervals are gaps */
	bool interpolate;   /* a gap's amount is kept, flagged estimated */
};

enum fp_step_kind {
	FP_STEP_FIRST,	   /* no previous reading: a new baseline */
	FP_STEP_MEASURED,  /* amount over [prev, cur] is measured */
	FP_STEP_WRAPPED,   /* measured, across a register wrap */
	FP_STEP_ESTIMATED, /* a gap, amount interpolated (interpolate = true) */
	FP_STEP_GAP,	   /* a gap: the amount is missing (not attributed) */
	FP_STEP_RESET,	   /* reset or replacement: new baseline, amount missing */
	FP_STEP_BACKWARDS, /* the reading is not newer than the previous one */
};

struct fp_step {
	enum fp_step_kind kind;
	double amount;	     /* attributed to [t0, t1] (measured or estimated) */
	double unattributed; /* a gap's amount that is not attributed */
};

/* One step of a meter from (t0_ms, v0) to (t1_ms, v1). */
struct fp_step fp_meter_step(const struct fp_meter_params *p, int64_t t0_ms, double v0,
			     int64_t t1_ms, double v1);
const char *fp_step_name(enum fp_step_kind k);

/* ---- windows ---- */

enum fp_window { FP_WIN_HOUR, FP_WIN_DAY, FP_WIN_MONTH, FP_WIN_YEAR, FP_NWINDOWS };

extern const char *const fp_window_names[FP_NWINDOWS]; /* "1h", "1d", "1mo", "1y" */

/* The window of kind w that contains t, in the time zone of TZ. */
void fp_window_of(enum fp_window w, time_t t, time_t *start, time_t *end);
/* Local midnight starting the calendar date y-m-d; -1 if invalid. */
time_t fp_local_date(int y, int m, int d);
/* Parses "YYYY-MM-DD" into its local midnight; -1 if invalid. */
time_t fp_parse_date(const char *s);

/* ---- indicators ---- */

/* The quantities a site's boundaries define (the roles: README, "Meters and roles"). */
enum fp_qty {
	FP_Q_FACILITY, /* E_DC, kWh (electricity + fuels converted) */
	FP_Q_IT,       /* E_IT, kWh */
	FP_Q_COOLING,
	FP_Q_LIGHTING,
	FP_Q_OTHER,
	FP_Q_GRID,		/* grid electricity bought (Scope 2), kWh */
	FP_Q_RENEWABLE_ONSITE,	/* on-site renewable generation consumed, kWh */
	FP_Q_REUSE,		/* E_REUSE, heat exported and reused, kWh */
	FP_Q_COOLING_HEAT,	/* Q_removed by the cooling system, kWh thermal */
	FP_Q_FUEL,		/* fuels, converted to kWh */
	FP_Q_WATER,		/* W_IN, m3 */
	FP_Q_TELECOM_EQUIPMENT, /* kWh */
	FP_Q_TELECOM_SITE,	/* kWh */
	FP_Q_DATA_VOLUME,	/* bit */
	FP_NQTY
};

extern const char *const fp_qty_names[FP_NQTY];
/* The quantity named name ("facility", ...); -1 if none. */
int fp_qty_index(const char *name);
extern const char *const fp_qty_units[FP_NQTY];

struct fp_qsum {
	bool present;	  /* at least one meter is configured for it */
	double value;	  /* measured + estimated */
	double estimated; /* the estimated part */
	double coverage;  /* 0..1: the least-covered member meter's */
};

struct fp_window_sums {
	struct fp_qsum q[FP_NQTY];
	/* certified renewable supply matched to the window (kWh) */
	double go_kwh, ppa_kwh;
	/* Scope 2 emissions over the window (fp_scope2, per calendar year's
	 * factors), kgCO2e; NAN = undefined (no grid meter or no factor) */
	double co2e_location_kg, co2e_market_kg;
};

/* Scope 2 of grid_kwh (GHG Protocol 2015): location-based at the grid
 * average ef_location; market-based with the certified kWh at zero and the
 * rest at ef_market (residual mix or supplier rate), else at ef_location.
 * A factor < 0 is absent; an undefined result is NAN. */
void fp_scope2(double grid_kwh, double certified_kwh, double ef_location, double ef_market,
	       double *location_kg, double *market_kg);

/* A ratio: defined only with a positive denominator. */
struct fp_ratio {
	bool defined;
	double value, num, den, coverage;
};

struct fp_kpis {
	struct fp_ratio pue, dcie, ref, erf, ere, cer, cue_location, cue_market, wue_l_per_kwh;
	struct fp_ratio see, ee_bit_per_j;
	bool ref_capped;  /* renewable over E_DC, capped at 1 */
	double e_ren_kwh; /* on-site + GO + PPA */
	bool co2e_location_defined, co2e_market_defined;
	double co2e_location_kg, co2e_market_kg;
	double coverage; /* of E_DC and E_IT together */
};

struct fp_ratio fp_ratio(double num, double den, double coverage);
void fp_kpis_compute(const struct fp_window_sums *s, struct fp_kpis *k);
/* Recomputes each defined ratio of k over the part of the window where
 * all its terms are measured (the common coverage), so that a ratio never
 * relates amounts of different spans: sums(arg, mask, m) fills m with the
 * quantities of mask over their common part (fp_ledger_matched).  A ratio
 * whose terms all cover the whole elapsed window keeps the totals'
 * value.  The ratio's coverage becomes the common part's; k->coverage
 * follows the PUE's.  0, or -1 when sums failed. */
int fp_kpis_match(const struct fp_window_sums *total, struct fp_kpis *k,
		  int (*sums)(void *arg, unsigned mask, struct fp_qsum m[FP_NQTY]), void *arg);
/* pPUE = (E_IT + E_infra) / E_IT for a zone. */
struct fp_ratio fp_ppue(double e_it, double e_infra, double coverage);

#endif
