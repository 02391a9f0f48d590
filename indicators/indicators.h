/* indicators.h - the indicator engine: meters -> ledger -> KPIs.
 *
 * The agent hands it every batch it dispatches.  Points of measurement
 * "meter" whose device is a configured meter, or whose role tag is one of
 * the roles below, are meter readings: the engine keeps them (bounded) and
 * its thread turns them, once a second and in one SQLite transaction, into
 * per-hour amounts in the ledger (energy.h's meter steps).  Every
 * indicators.interval it computes the hour, day, month and year windows
 * that are open (running values) or just closed, and pushes `energy`,
 * `efficiency` and `telecom` points (timestamped at the window's start, so
 * the final value of a window overwrites its running ones).
 *
 * Readings that land in closed windows (late or back-filled: MQTT messages
 * with their own timestamps, a past year at once) mark those windows to be
 * written again; each write takes at most FP_IND_BACKFILL_WINDOWS of them,
 * oldest first, so a back-fill of any length reaches every output, paced.
 * The set is kept in the ledger with the amounts (a stop or a crash does
 * not lose it) and in bounded memory (see indicators.c).
 *
 * Roles (a device's or subscription's `role`): facility, it, cooling,
 * lighting, other, renewable_onsite, reuse, cooling_heat, water,
 * fuel_diesel, fuel_gas, fuel_hydrogen, fuel_bioethanol, telecom_equipment,
 * telecom_site, data_volume.  indicators.boundaries replaces the role-based
 * membership of a quantity with an explicit list (sums and differences).
 */
#ifndef FP_INDICATORS_H
#define FP_INDICATORS_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "energy.h"
#include "ewaste.h"
#include "point.h"

struct fp_config;
struct fp_cfg_errors;

struct fp_ind_meter_cfg {
	char *name;   /* ledger name (default: device) */
	char *device; /* the device tag of its points */
	char *role;   /* overrides the points' role tag */
	char *field;  /* the reading (default by role and by what the point has) */
	int kind;     /* enum fp_meter_kind, -1 = by field */
	char *unit;   /* kwh, wh, mwh, w, kw, l, m3, kg, bit, byte (default by role/field) */
	double modulus, max_rate;
	int64_t max_gap_ms; /* -1 = indicators.max_gap */
	int interpolate;    /* -1 = indicators.interpolate */
};

struct fp_ind_member {
	char *meter;
	double sign; /* +1 or -1 */
};

struct fp_ind_zone_cfg {
	char *name;
	struct fp_ind_member *it, *infra;
	size_t nit, ninfra;
};

struct fp_ind_factor_cfg {
	char *region, *method, *source;
	int year;
	double kg_per_kwh;
};

struct fp_ind_cert_cfg {
	char *type; /* go, ppa */
	time_t from, to;
	double kwh;
};

struct fp_indicators_cfg {
	bool enabled;
	int pue_category; /* 1, 2, 3 */
	char *region;
	int64_t interval_ms; /* how often windows are computed and written */
	int64_t settle_ms;   /* after a window's end: its final write */
	int64_t max_gap_ms;
	bool interpolate;
	bool ledger_sync_full;
	size_t max_meters;
	struct fp_ind_meter_cfg *meters;
	size_t nmeters;
	struct fp_ind_member *boundary[FP_NQTY];
	size_t nboundary[FP_NQTY];
	bool boundary_set[FP_NQTY];
	struct fp_ind_zone_cfg *zones;
	size_t nzones;
	struct fp_ind_factor_cfg *factors;
	size_t nfactors;
	struct fp_ind_cert_cfg *certs;
	size_t ncerts;
};

struct fp_inventory_cfg {
	bool enabled;
	char *categories_file;	   /* default $(datadir)/footprint/ewaste-categories.csv */
	char profile[8];	   /* Weibull profile: NLFB (default) or IT */
	struct fp_categories cats; /* loaded at config time, with the overrides */
};

/* Parses the inventory group (g may be NULL: defaults) and loads the
 * category table; problems go to e. */
struct fp_inventory_cfg *fp_inventory_parse(const config_setting_t *g, struct fp_cfg_errors *e);
void fp_inventory_cfg_free(struct fp_inventory_cfg *c);

/* Parses the indicators group (g may be NULL: defaults). */
struct fp_indicators_cfg *fp_indicators_parse(const config_setting_t *g, struct fp_cfg_errors *e);
void fp_indicators_cfg_free(struct fp_indicators_cfg *c);
/* What --check-config -v prints: settings, meters, boundaries, factors. */
void fp_indicators_describe(const struct fp_indicators_cfg *c, FILE *f);
/* Converts role names to the quantity memberships they imply: fills
 * coef[FP_NQTY] (0 = not a member) for a meter of that role and unit.
 * Returns -1 if the role is not an indicator role. */
int fp_role_members(const char *role, const char *unit, double coef[FP_NQTY]);

struct fp_ind;
typedef void (*fp_ind_push_fn)(void *arg, struct fp_batch *b);

/* Opens state_dir/ledger.db and records the configuration snapshot.
 * NULL on error (logged). */
struct fp_ind *fp_ind_new(const struct fp_config *cfg, fp_ind_push_fn push, void *arg);
int fp_ind_start(struct fp_ind *x);
/* Commits what is pending, stops the thread, closes the ledger. */
void fp_ind_free(struct fp_ind *x);
/* Takes the meter readings of b (thread-safe, cheap). */
void fp_ind_observe(struct fp_ind *x, const struct fp_batch *b);
/* The most windows of a back-fill written per write (every
 * indicators.interval, and at shutdown); pushed in batches of at most
 * FP_IND_BACKFILL_BATCH windows, the engine's lock released between them. */
#define FP_IND_BACKFILL_WINDOWS 500
#define FP_IND_BACKFILL_BATCH 50
/* Processes the pending readings now and writes the windows (for --once
 * and the tests; the thread does it on its own otherwise). */
void fp_ind_flush(struct fp_ind *x, bool windows);
/* The flush of a stop: as fp_ind_flush(x, true), the back-filled windows
 * due without waiting for indicators.settle (up to one budget; the rest is
 * kept in the ledger for the next start). */
void fp_ind_flush_final(struct fp_ind *x);
/* Self-metrics: component=indicators. */
void fp_ind_metrics(struct fp_ind *x, struct fp_batch *b, const char *site, const char *host,
		    int64_t now_ns);

#endif
