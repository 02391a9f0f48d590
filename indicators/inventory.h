/* inventory.h - the asset inventory and its lifecycle state machine, in
 * SQLite (state_dir/inventory.db), and the e-waste indicators from it.
 *
 * An asset's state is never stored as the truth: it is its events replayed
 * in time order through the state machine
 *
 *   (new) -> ordered | received | in_service
 *   ordered -> received;  received -> in_service | spare
 *   in_service <-> spare;  in_service | spare -> decommissioned
 *   decommissioned -> reused | refurbished | recycled | disposed (final)
 *
 * so an event that arrives late is placed by its own timestamp, and one
 * that would make the history illegal is rejected (and recorded as such).
 * Events are idempotent by event_id.  A ledger is used from one thread at
 * a time.
 */
#ifndef FP_INVENTORY_H
#define FP_INVENTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "ewaste.h"
#include "util.h"

struct fp_inventory;

struct fp_inventory *fp_inv_open(const char *path, bool read_only, char *err, size_t errlen);
/* How long a statement waits for another process's lock before it fails
 * (default 5000 ms). */
void fp_inv_busy_timeout(struct fp_inventory *v, int ms);
void fp_inv_close(struct fp_inventory *v);
const char *fp_inv_error(struct fp_inventory *v);

/* One lifecycle event (README, "Lifecycle events"); absent numbers are < 0, absent strings
 * NULL.  t is seconds since the epoch. */
struct fp_inv_event {
	const char *event_id, *asset_id, *event, *category, *model, *destination, *site, *source;
	int64_t t;
	double mass_kg, embodied_co2e_kg, expected_life_y;
};

enum fp_inv_result { FP_INV_APPLIED, FP_INV_DUPLICATE, FP_INV_REJECTED, FP_INV_ERROR };

/* The window of accepted times (events, commissioning dates): outside it
 * an event is rejected and an import refused.  The default one until
 * set. */
void fp_inv_set_time_window(struct fp_inventory *v, const struct fp_time_window *w);

/* Applies one event in its own transaction.  why says why it was
 * rejected. */
enum fp_inv_result fp_inv_apply(struct fp_inventory *v, const struct fp_categories *cats,
				const struct fp_inv_event *e, char *why, size_t whylen);

/* Imports a CSV (header required) or JSON (an array of objects) file of
 * assets: every bad row is reported as "FILE:LINE: reason" on errs and
 * nothing is imported then.  Returns the number imported, or -1. */
int fp_inv_import(struct fp_inventory *v, const struct fp_categories *cats, const char *path,
		  const char *site, FILE *errs);
/* The same, from a buffer (fuzzing; name is used in messages). */
int fp_inv_import_buf(struct fp_inventory *v, const struct fp_categories *cats, const char *name,
		      const char *text, size_t len, const char *site, FILE *errs);

/* How fp_inv_list and fp_inv_events print: an aligned table, a JSON
 * array, or CSV (RFC 4180 quoting, a header row).  Times are RFC 3339 in
 * UTC ("2026-03-14T10:25:00Z"). */
enum fp_inv_format { FP_INV_TEXT, FP_INV_JSON, FP_INV_CSV };

/* Prints the assets or the events. */
int fp_inv_list(struct fp_inventory *v, FILE *out, enum fp_inv_format fmt);
int fp_inv_events(struct fp_inventory *v, const char *asset_id, FILE *out, enum fp_inv_format fmt);

/* The e-waste indicators of one category (or all, category NULL) over
 * [from, to); state-at-time figures are taken at `at` (the window's end,
 * or now for an open window). */
struct fp_ewaste {
	double installed_units, installed_kg;
	double commissioned_kg, decommissioned_kg;
	double reused_kg, refurbished_kg, recycled_kg, recycled_documented_kg, disposed_kg;
	double beyond_lifespan_units, mean_age_y, projected_kg_12m, embodied_co2e_kg;
	double documented_rate, reuse_rate; /* < 0: undefined (nothing decommissioned) */
	long assets;
};
int fp_inv_ewaste(struct fp_inventory *v, const struct fp_categories *cats, const char *category,
		  time_t from, time_t to, time_t at, struct fp_ewaste *out);
/* The inventory's running totals (measurement ewaste_total): fn is called
 * for each category that has assets (in key order), then for all of them
 * (category NULL), with installed_units, installed_kg and
 * beyond_lifespan_units at `at` (as fp_inv_ewaste's) and commissioned_kg,
 * decommissioned_kg, reused_kg, refurbished_kg, recycled_kg,
 * recycled_documented_kg and disposed_kg of every event applied so far,
 * whatever its date; the other figures are 0 (the rates -1).  One query;
 * fn is not called when it fails.  The masses never decrease. */
int fp_inv_ewaste_totals(struct fp_inventory *v, time_t at,
			 void (*fn)(void *arg, const char *category, const struct fp_ewaste *e),
			 void *arg);
/* The categories that have assets (calls fn for each). */
int fp_inv_categories(struct fp_inventory *v, void (*fn)(void *arg, const char *cat), void *arg);
/* Mass commissioned per calendar year (local time) for a category, years
 * [y0, y0 + n): the placed-on-market series of the cohort model. */
int fp_inv_pom(struct fp_inventory *v, const char *category, int y0, int n, double *pom);

/* The category table in force, kept with the inventory so that the CLI
 * uses the agent's (with its config overrides). */
int fp_inv_set_categories(struct fp_inventory *v, const struct fp_categories *cats);
int fp_inv_get_categories(struct fp_inventory *v, struct fp_categories *cats);

#endif
