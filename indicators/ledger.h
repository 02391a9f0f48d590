/* ledger.h - the energy ledger: per meter and local hour, in SQLite.
 *
 * The file (state_dir/ledger.db) is the durable record the reports are
 * built from: what every meter counted per hour (measured and estimated
 * apart, with the seconds measured), each meter's last reading (so a
 * restart continues where it stopped), every reset, wrap and gap, and a
 * snapshot of the configuration that gives the numbers their meaning
 * (boundaries, emission factors, certificates, site, time zone).  The agent
 * writes in transactions (WAL, synchronous=FULL by default): what is
 * committed survives kill -9 and a power cut.  `footprint report` opens it
 * read-only while the agent runs.
 *
 * A ledger is used from one thread at a time.
 */
#ifndef FP_LEDGER_H
#define FP_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "energy.h"

struct fp_ledger;

/* Opens (creating unless read_only) the ledger at path.  On error returns
 * NULL with a message in err. */
struct fp_ledger *fp_ledger_open(const char *path, bool read_only, bool sync_full, char *err,
				 size_t errlen);
void fp_ledger_close(struct fp_ledger *l);
const char *fp_ledger_error(struct fp_ledger *l);

int fp_ledger_begin(struct fp_ledger *l);
int fp_ledger_commit(struct fp_ledger *l);
void fp_ledger_rollback(struct fp_ledger *l);

/* meta: site, timezone, pue_category, region, ... */
int fp_ledger_set_meta(struct fp_ledger *l, const char *key, const char *val);
/* Copies the value into buf; 0 if found, -1 if not. */
int fp_ledger_get_meta(struct fp_ledger *l, const char *key, char *buf, size_t len);

/* The configuration snapshot, replaced as a whole (inside a transaction). */
int fp_ledger_clear_config(struct fp_ledger *l);
int fp_ledger_add_boundary(struct fp_ledger *l, const char *qty, const char *meter, double coef);
int fp_ledger_add_factor(struct fp_ledger *l, const char *region, int year, const char *method,
			 double kg_per_kwh, const char *source);
/* A run-time override (MQTT): wins over the configured factor of the same
 * region, year and method, and outlives restarts. */
int fp_ledger_override_factor(struct fp_ledger *l, const char *region, int year, const char *method,
			      double kg_per_kwh, const char *source, int64_t t_set);
int fp_ledger_add_certificate(struct fp_ledger *l, const char *type, time_t from, time_t to,
			      double kwh);
int fp_ledger_add_zone(struct fp_ledger *l, const char *zone, const char *part, const char *meter,
		       double coef);

/* A meter's last reading: 1 found, 0 none, -1 error. */
int fp_ledger_meter_get(struct fp_ledger *l, const char *meter, int64_t *t_ms, double *v);
int fp_ledger_meter_put(struct fp_ledger *l, const char *meter, const char *role, const char *unit,
			int64_t t_ms, double v);
/* Calls fn for every meter the ledger knows. */
int fp_ledger_known_meters(struct fp_ledger *l,
			   void (*fn)(void *arg, const char *name, const char *role,
				      const char *unit),
			   void *arg);

/* ---- the configuration snapshot, read back (for the report's basis) ---- */
struct fp_ledger_factor {
	char region[64], method[16], source[256], origin[16]; /* origin: config, mqtt */
	int year;
	double kg_per_kwh;
};
/* The factor the sums use for region, method and calendar year: that
 * year's, else the latest earlier one, a run-time override first.  1 with
 * *f, 0 when there is none, -1 on error. */
int fp_ledger_factor_used(struct fp_ledger *l, const char *region, const char *method, int year,
			  struct fp_ledger_factor *f);
/* Calls fn for every certificate (type go or ppa, validity [from, to)). */
int fp_ledger_certificates(struct fp_ledger *l,
			   void (*fn)(void *arg, const char *type, time_t from, time_t to,
				      double kwh),
			   void *arg);
/* Calls fn for every boundary member (quantity, meter, coefficient). */
int fp_ledger_boundaries(struct fp_ledger *l,
			 void (*fn)(void *arg, const char *qty, const char *meter, double coef),
			 void *arg);

/* Adds to (meter, hour): amount measured over measured_s seconds, and an
 * estimated amount over estimated_s seconds. */
int fp_ledger_add(struct fp_ledger *l, const char *meter, time_t hour, double amount,
		  double measured_s, double estimated, double estimated_s);
/* Each meter's running total since the ledger began (measured plus
 * estimated amounts, in the meter's own unit) and its measured seconds:
 * the sum of all its hours, so wraps, resets and replacements are
 * already corrected and a restart continues it.  Calls fn for each. */
int fp_ledger_counters(struct fp_ledger *l,
		       void (*fn)(void *arg, const char *meter, const char *role, const char *unit,
				  double total, double measured_s),
		       void *arg);
/* Each quantity's running total: its boundary members' totals times their
 * coefficients (kWh, m3 or bit); q[i].present for a configured one. */
int fp_ledger_quantity_totals(struct fp_ledger *l, struct fp_qsum q[FP_NQTY]);
/* Holds each quantity's running total at the highest value it was given
 * (the qty_total table): a quantity with a subtracted member dips when that
 * member's reading is counted before the others', and an engine reads any
 * decrease of a counter as a reset.  Raises q[i].value to the held value,
 * or records the new highest.  Writable ledgers, in a transaction; 0 or
 * -1. */
int fp_ledger_quantity_hold(struct fp_ledger *l, struct fp_qsum q[FP_NQTY]);
/* Records that the running total of series ("meter:NAME", "qty:NAME",
 * "ewaste:CATEGORY") is written: 1 when it was not before (the caller
 * writes it at 0 just before its first value, so that an engine's
 * increase() counts that first amount), 0 when it was, -1 on error.  In
 * a transaction of a writable ledger. */
int fp_ledger_announce(struct fp_ledger *l, const char *series);
/* Spreads amount over [t0_ms, t1_ms] across the local hours it covers
 * (in proportion to time) as measured or estimated. */
int fp_ledger_spread(struct fp_ledger *l, const char *meter, int64_t t0_ms, int64_t t1_ms,
		     double amount, bool estimated);
/* A traceable event: reset, wrap, gap (with the unattributed amount). */
int fp_ledger_event(struct fp_ledger *l, int64_t t_ms, const char *meter, const char *kind,
		    double amount, int64_t t0_ms);

/* The sums of window [from, to): each quantity from its boundary members
 * (coverage measured over [from, cov_to), the elapsed part of an open
 * window), certified supply pro rata, Scope 2 with each calendar year's
 * factors for region.  Returns 0 or -1. */
int fp_ledger_sums(struct fp_ledger *l, time_t from, time_t to, time_t cov_to,
		   struct fp_window_sums *s);
/* The quantities of mask (bit i: enum fp_qty i) over the part of [from,
 * to) where all of them are measured: hour by hour, a quantity is covered
 * as long as its least-covered member meter (measured or estimated
 * seconds; a member without a row that hour covers nothing), the common
 * part is the least of the quantities, and each member's amount of the
 * hour counts pro rata of the common part.  Fills out[i] for each i of
 * mask that has members: present, value, estimated, coverage (the common
 * part over [from, cov_to)); the others are left absent.  0 or -1. */
int fp_ledger_matched(struct fp_ledger *l, time_t from, time_t to, time_t cov_to, unsigned mask,
		      struct fp_qsum out[FP_NQTY]);
/* The window's sums (fp_ledger_sums) and its indicators: each ratio over
 * the common coverage of its terms (fp_kpis_match).  0 or -1. */
int fp_ledger_kpis(struct fp_ledger *l, time_t from, time_t to, time_t cov_to,
		   struct fp_window_sums *s, struct fp_kpis *k);
/* Records that the window of kind (enum fp_window) starting at start had
 * its final write: 1 the first time, 0 when it already had one, -1 on
 * error. */
int fp_ledger_final_mark(struct fp_ledger *l, int kind, time_t start);
/* The start of the latest window of kind (enum fp_window) made final:
 * 1 with *start, 0 when none was, -1 on error. */
int fp_ledger_final_last(struct fp_ledger *l, int kind, time_t *start);
/* The first and the last hour the ledger holds amounts for: 1 with both,
 * 0 when it holds none, -1 on error. */
int fp_ledger_hours_span(struct fp_ledger *l, time_t *first, time_t *last);
/* pPUE of each zone over the window: calls fn for each. */
int fp_ledger_zones(struct fp_ledger *l, time_t from, time_t to, time_t cov_to,
		    void (*fn)(void *arg, const char *zone, struct fp_ratio r), void *arg);

/* Counts of events by kind in [from, to) (for reports): fills n[kind]
 * for "reset", "wrap", "gap" and the unattributed amount of gaps. */
struct fp_ledger_events {
	long resets, wraps, gaps;
};
int fp_ledger_event_counts(struct fp_ledger *l, time_t from, time_t to,
			   struct fp_ledger_events *ev);

/* ---- lifecycle events not yet applied ----
 * The journal of the lifecycle events received but not yet applied to the
 * inventory (busy, locked by another process, failing): an event is
 * written here before the broker gets its acknowledgement, deleted once
 * the inventory applied or rejected it, and loaded again at start. */
struct fp_ledger_asset_ev {
	char *event_id, *asset_id, *event, *category, *model, *destination;
	int64_t t;
	double mass_kg, embodied_co2e_kg, expected_life_y;
	int64_t seq; /* its journal row, 0 when not journalled */
};
/* Journals e (sets e->seq): 0 or -1. */
int fp_ledger_journal_add(struct fp_ledger *l, struct fp_ledger_asset_ev *e);
int fp_ledger_journal_del(struct fp_ledger *l, int64_t seq);
/* Calls fn for each journalled event, oldest first (fn owns its strings). */
int fp_ledger_journal_load(struct fp_ledger *l, void (*fn)(void *arg, struct fp_ledger_asset_ev *e),
			   void *arg);

/* ---- windows to write again ----
 * The engine's obligation to write windows again (late or back-filled
 * readings), kept with the amounts so that a crash or a stop does not lose
 * it: per window kind, runs [from, to) of local time (window bounds) whose
 * windows are all still to be written.  Clear then add, in the
 * transaction that counts the amounts; load calls fn for each run.  The
 * table is created on first use (writable ledgers only). */
int fp_ledger_rewrite_clear(struct fp_ledger *l);
int fp_ledger_rewrite_add(struct fp_ledger *l, enum fp_window w, time_t from, time_t to);
int fp_ledger_rewrite_load(struct fp_ledger *l,
			   void (*fn)(void *arg, enum fp_window w, time_t from, time_t to),
			   void *arg);

#endif
