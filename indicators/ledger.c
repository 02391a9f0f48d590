/* ledger.c - the energy ledger in SQLite (see ledger.h). */
#include "config.h"

#include "ledger.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define LEDGER_SCHEMA 1

struct fp_ledger {
	sqlite3 *db;
	sqlite3_stmt *add, *cadd, *mput, *mget, *msum, *ev, *ann;
	char err[256];
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS meter(name TEXT PRIMARY KEY, role TEXT, unit TEXT,"
	" t_ms INTEGER, value REAL);"
	"CREATE TABLE IF NOT EXISTS hourly(meter TEXT NOT NULL, hour INTEGER NOT NULL,"
	" amount REAL NOT NULL DEFAULT 0, measured_s REAL NOT NULL DEFAULT 0,"
	" estimated REAL NOT NULL DEFAULT 0, estimated_s REAL NOT NULL DEFAULT 0,"
	" PRIMARY KEY(meter, hour)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS event(t_ms INTEGER NOT NULL, meter TEXT NOT NULL,"
	" kind TEXT NOT NULL, amount REAL, t0_ms INTEGER);"
	"CREATE INDEX IF NOT EXISTS event_t ON event(t_ms);"
	"CREATE TABLE IF NOT EXISTS boundary(qty TEXT NOT NULL, meter TEXT NOT NULL, coef REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS zone(zone TEXT NOT NULL, part TEXT NOT NULL, meter TEXT NOT NULL,"
	" coef REAL NOT NULL);"
	"CREATE TABLE IF NOT EXISTS factor(region TEXT NOT NULL, year INTEGER NOT NULL,"
	" method TEXT NOT NULL, kg_per_kwh REAL NOT NULL, source TEXT,"
	" origin TEXT NOT NULL DEFAULT 'config', t_set INTEGER,"
	" PRIMARY KEY(region, year, method, origin));"
	"CREATE TABLE IF NOT EXISTS final_window(kind INTEGER NOT NULL, start INTEGER NOT NULL,"
	" PRIMARY KEY(kind, start)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS asset_journal(seq INTEGER PRIMARY KEY, event_id TEXT,"
	" asset_id TEXT, event TEXT, category TEXT, model TEXT, destination TEXT, t INTEGER,"
	" mass_kg REAL, embodied_co2e_kg REAL, expected_life_y REAL);"
	"CREATE TABLE IF NOT EXISTS qty_total(qty TEXT PRIMARY KEY, total REAL NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS certificate(type TEXT NOT NULL, t_from INTEGER NOT NULL,"
	" t_to INTEGER NOT NULL, kwh REAL NOT NULL);";

static int fail(struct fp_ledger *l, const char *what)
{
	snprintf(l->err, sizeof(l->err), "%s: %s", what, sqlite3_errmsg(l->db));
	return -1;
}

const char *fp_ledger_error(struct fp_ledger *l)
{
	return l->err;
}

static int exec(struct fp_ledger *l, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(l->err, sizeof(l->err), "%s", msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int prep(struct fp_ledger *l, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(l->db, sql, -1, st, NULL) != SQLITE_OK)
		return fail(l, "prepare");
	return 0;
}

/* The running totals (counter table): created with the sums of the hours
 * the ledger already holds, so that a ledger of an earlier version keeps
 * total == the sum of its hours. */
static int counters_init(struct fp_ledger *l)
{
	sqlite3_stmt *st;
	bool exists;

	if (prep(l, &st, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'counter'") <
	    0)
		return -1;
	exists = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (exists)
		return 0;
	return exec(l,
		    "BEGIN IMMEDIATE;"
		    "CREATE TABLE counter(meter TEXT PRIMARY KEY, total REAL NOT NULL,"
		    " measured_s REAL NOT NULL) WITHOUT ROWID;"
		    "INSERT INTO counter SELECT meter, total(amount + estimated), total(measured_s)"
		    " FROM hourly GROUP BY meter;"
		    "COMMIT");
}

/* The running-total series already written (announced): created holding
 * every meter and quantity of a ledger that has any, which an earlier
 * version wrote already (the inventory's categories too, marked quiet in
 * meta announce_ewaste), so that only a series new to the engine gets
 * its 0 (fp_ledger_announce). */
static int announced_init(struct fp_ledger *l)
{
	sqlite3_stmt *st;
	bool exists, used;

	if (prep(l, &st,
		 "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'announced'") < 0)
		return -1;
	exists = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (exists)
		return 0;
	if (prep(l, &st, "SELECT 1 FROM counter LIMIT 1") < 0)
		return -1;
	used = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return exec(l,
		    used ? "BEGIN IMMEDIATE;"
			   "CREATE TABLE announced(series TEXT PRIMARY KEY) WITHOUT ROWID;"
			   "INSERT INTO announced SELECT 'meter:' || meter FROM counter;"
			   "INSERT OR IGNORE INTO announced SELECT 'qty:' || qty FROM qty_total;"
			   "INSERT OR REPLACE INTO meta VALUES('announce_ewaste', 'quiet');"
			   "COMMIT"
			 : "CREATE TABLE announced(series TEXT PRIMARY KEY) WITHOUT ROWID");
}

int fp_ledger_announce(struct fp_ledger *l, const char *series)
{
	int rc;

	sqlite3_reset(l->ann);
	sqlite3_bind_text(l->ann, 1, series, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(l->ann);
	sqlite3_reset(l->ann);
	if (rc != SQLITE_DONE)
		return fail(l, "announced");
	return sqlite3_changes(l->db) == 1;
}

struct fp_ledger *fp_ledger_open(const char *path, bool read_only, bool sync_full, char *err,
				 size_t errlen)
{
	struct fp_ledger *l = fp_xcalloc(1, sizeof(*l));
	int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	char ver[32];
	int64_t schema_ver;

	if (sqlite3_open_v2(path, &l->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 l->db ? sqlite3_errmsg(l->db) : "cannot open");
		fp_ledger_close(l);
		return NULL;
	}
	sqlite3_busy_timeout(l->db, 5000);
	if (!read_only) {
		if (exec(l, "PRAGMA journal_mode=WAL") < 0 ||
		    exec(l, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") <
			    0 ||
		    exec(l, schema) < 0 || counters_init(l) < 0 || announced_init(l) < 0)
			goto fail;
		if (fp_ledger_get_meta(l, "schema", ver, sizeof(ver)) < 0) {
			snprintf(ver, sizeof(ver), "%d", LEDGER_SCHEMA);
			if (fp_ledger_set_meta(l, "schema", ver) < 0)
				goto fail;
		}
	}
	if (fp_ledger_get_meta(l, "schema", ver, sizeof(ver)) < 0) {
		snprintf(l->err, sizeof(l->err), "not a footprint ledger");
		goto fail;
	}
	if (fp_parse_int64(ver, LEDGER_SCHEMA, LEDGER_SCHEMA, &schema_ver) < 0) {
		snprintf(l->err, sizeof(l->err), "ledger schema %s, this version reads %d", ver,
			 LEDGER_SCHEMA);
		goto fail;
	}
	if (prep(l, &l->msum,
		 "SELECT total(amount), total(estimated), total(measured_s)"
		 " FROM hourly WHERE meter = ?1 AND hour >= ?2 AND hour < ?3") < 0 ||
	    prep(l, &l->mget, "SELECT t_ms, value FROM meter WHERE name = ?1") < 0)
		goto fail;
	if (!read_only &&
	    (prep(l, &l->add,
		  "INSERT INTO hourly VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
		  " ON CONFLICT(meter, hour) DO UPDATE SET amount = amount + ?3,"
		  " measured_s = measured_s + ?4, estimated = estimated + ?5,"
		  " estimated_s = estimated_s + ?6") < 0 ||
	     prep(l, &l->cadd,
		  "INSERT INTO counter VALUES(?1, ?2, ?3) ON CONFLICT(meter) DO UPDATE SET"
		  " total = total + ?2, measured_s = measured_s + ?3") < 0 ||
	     prep(l, &l->mput, "INSERT OR REPLACE INTO meter VALUES(?1, ?2, ?3, ?4, ?5)") < 0 ||
	     prep(l, &l->ev, "INSERT INTO event VALUES(?1, ?2, ?3, ?4, ?5)") < 0 ||
	     prep(l, &l->ann, "INSERT OR IGNORE INTO announced VALUES(?1)") < 0))
		goto fail;
	return l;
fail:
	snprintf(err, errlen, "%s: %s", path, l->err[0] ? l->err : sqlite3_errmsg(l->db));
	fp_ledger_close(l);
	return NULL;
}

void fp_ledger_close(struct fp_ledger *l)
{
	if (!l)
		return;
	sqlite3_finalize(l->add);
	sqlite3_finalize(l->cadd);
	sqlite3_finalize(l->mput);
	sqlite3_finalize(l->mget);
	sqlite3_finalize(l->msum);
	sqlite3_finalize(l->ev);
	sqlite3_finalize(l->ann);
	sqlite3_close(l->db);
	free(l);
}

int fp_ledger_begin(struct fp_ledger *l)
{
	return exec(l, "BEGIN IMMEDIATE");
}

int fp_ledger_commit(struct fp_ledger *l)
{
	return exec(l, "COMMIT");
}

void fp_ledger_rollback(struct fp_ledger *l)
{
	/* SQLite has rolled back already after some errors (a full disk):
	 * a second ROLLBACK would only replace the error's message */
	if (!sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
}

static int step_done(struct fp_ledger *l, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : fail(l, what);
}

/* A one-off statement with text/double arguments described by types
 * ("t" text, "d" double, "i" int64). */
static int run(struct fp_ledger *l, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int i, rc;

	if (prep(l, &st, sql) < 0)
		return -1;
	va_start(ap, types);
	for (i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
					  SQLITE_TRANSIENT);
		else if (types[i] == 'd')
			sqlite3_bind_double(st, i + 1, va_arg(ap, double));
		else
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, sql);
}

int fp_ledger_set_meta(struct fp_ledger *l, const char *key, const char *val)
{
	return run(l, "INSERT OR REPLACE INTO meta VALUES(?1, ?2)", "tt", key, val);
}

int fp_ledger_get_meta(struct fp_ledger *l, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st;
	int rc = -1;

	if (sqlite3_prepare_v2(l->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int fp_ledger_clear_config(struct fp_ledger *l)
{
	/* Run-time overrides (origin 'mqtt') outlive a restart. */
	return exec(l,
		    "DELETE FROM boundary; DELETE FROM zone;"
		    " DELETE FROM factor WHERE origin = 'config'; DELETE FROM certificate;");
}

int fp_ledger_add_boundary(struct fp_ledger *l, const char *qty, const char *meter, double coef)
{
	return run(l, "INSERT INTO boundary VALUES(?1, ?2, ?3)", "ttd", qty, meter, coef);
}

int fp_ledger_add_zone(struct fp_ledger *l, const char *zone, const char *part, const char *meter,
		       double coef)
{
	return run(l, "INSERT INTO zone VALUES(?1, ?2, ?3, ?4)", "tttd", zone, part, meter, coef);
}

int fp_ledger_add_factor(struct fp_ledger *l, const char *region, int year, const char *method,
			 double kg_per_kwh, const char *source)
{
	return run(l, "INSERT OR REPLACE INTO factor VALUES(?1, ?2, ?3, ?4, ?5, 'config', NULL)",
		   "titdt", region, (int64_t)year, method, kg_per_kwh, source ? source : "");
}

int fp_ledger_override_factor(struct fp_ledger *l, const char *region, int year, const char *method,
			      double kg_per_kwh, const char *source, int64_t t_set)
{
	return run(l, "INSERT OR REPLACE INTO factor VALUES(?1, ?2, ?3, ?4, ?5, 'mqtt', ?6)",
		   "titdti", region, (int64_t)year, method, kg_per_kwh, source ? source : "",
		   t_set);
}

int fp_ledger_add_certificate(struct fp_ledger *l, const char *type, time_t from, time_t to,
			      double kwh)
{
	return run(l, "INSERT INTO certificate VALUES(?1, ?2, ?3, ?4)", "tiid", type, (int64_t)from,
		   (int64_t)to, kwh);
}

int fp_ledger_meter_get(struct fp_ledger *l, const char *meter, int64_t *t_ms, double *v)
{
	int rc;

	sqlite3_bind_text(l->mget, 1, meter, -1, SQLITE_STATIC);
	rc = sqlite3_step(l->mget);
	if (rc == SQLITE_ROW && sqlite3_column_type(l->mget, 0) != SQLITE_NULL) {
		*t_ms = sqlite3_column_int64(l->mget, 0);
		*v = sqlite3_column_double(l->mget, 1);
		rc = 1;
	} else {
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(l, "meter");
	}
	sqlite3_reset(l->mget);
	sqlite3_clear_bindings(l->mget);
	return rc;
}

int fp_ledger_meter_put(struct fp_ledger *l, const char *meter, const char *role, const char *unit,
			int64_t t_ms, double v)
{
	sqlite3_bind_text(l->mput, 1, meter, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->mput, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->mput, 3, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->mput, 4, t_ms);
	sqlite3_bind_double(l->mput, 5, v);
	return step_done(l, l->mput, "meter");
}

int fp_ledger_add(struct fp_ledger *l, const char *meter, time_t hour, double amount,
		  double measured_s, double estimated, double estimated_s)
{
	sqlite3_bind_text(l->add, 1, meter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->add, 2, (int64_t)hour);
	sqlite3_bind_double(l->add, 3, amount);
	sqlite3_bind_double(l->add, 4, measured_s);
	sqlite3_bind_double(l->add, 5, estimated);
	sqlite3_bind_double(l->add, 6, estimated_s);
	if (step_done(l, l->add, "hourly") < 0)
		return -1;
	/* the meter's running total moves with its hours, in the same
	 * transaction: it is the sum of every hour the ledger holds */
	sqlite3_bind_text(l->cadd, 1, meter, -1, SQLITE_STATIC);
	sqlite3_bind_double(l->cadd, 2, amount + estimated);
	sqlite3_bind_double(l->cadd, 3, measured_s);
	return step_done(l, l->cadd, "counter");
}

int fp_ledger_counters(struct fp_ledger *l,
		       void (*fn)(void *arg, const char *meter, const char *role, const char *unit,
				  double total, double measured_s),
		       void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(l, &st,
		 "SELECT c.meter, m.role, m.unit, c.total, c.measured_s FROM counter c"
		 " LEFT JOIN meter m ON m.name = c.meter ORDER BY c.meter") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1),
		   (const char *)sqlite3_column_text(st, 2), sqlite3_column_double(st, 3),
		   sqlite3_column_double(st, 4));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "counter");
}

int fp_ledger_quantity_totals(struct fp_ledger *l, struct fp_qsum q[FP_NQTY])
{
	sqlite3_stmt *st;
	int rc;

	memset(q, 0, FP_NQTY * sizeof(*q));
	if (prep(l, &st,
		 "SELECT b.qty, b.coef, coalesce(c.total, 0), coalesce(c.measured_s, 0)"
		 " FROM boundary b LEFT JOIN counter c ON c.meter = b.meter"
		 " ORDER BY b.qty, b.meter") < 0) /* one order: the sums only grow */
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int i = fp_qty_index((const char *)sqlite3_column_text(st, 0));
		if (i < 0)
			continue;
		q[i].present = true;
		q[i].value += sqlite3_column_double(st, 1) * sqlite3_column_double(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "counter");
}

int fp_ledger_quantity_hold(struct fp_ledger *l, struct fp_qsum q[FP_NQTY])
{
	bool stored[FP_NQTY] = { false };
	sqlite3_stmt *st;
	int rc, i;

	if (prep(l, &st, "SELECT qty, total FROM qty_total") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double held = sqlite3_column_double(st, 1);
		i = fp_qty_index((const char *)sqlite3_column_text(st, 0));
		if (i < 0 || !q[i].present)
			continue;
		stored[i] = held >= q[i].value;
		if (held > q[i].value)
			q[i].value = held;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(l, "qty_total");
	if (prep(l, &st,
		 "INSERT INTO qty_total VALUES(?1, ?2) ON CONFLICT(qty) DO UPDATE SET total = ?2") <
	    0)
		return -1;
	for (i = 0, rc = SQLITE_DONE; i < FP_NQTY && rc == SQLITE_DONE; i++) {
		if (!q[i].present || stored[i])
			continue;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, fp_qty_names[i], -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 2, q[i].value);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "qty_total");
}

int fp_ledger_spread(struct fp_ledger *l, const char *meter, int64_t t0_ms, int64_t t1_ms,
		     double amount, bool estimated)
{
	int64_t cur = t0_ms, span = t1_ms - t0_ms;
	int guard = 0;

	while (cur < t1_ms && guard++ < 24 * 400) {
		time_t hs, he;
		int64_t seg_end;
		double frac, secs;

		fp_window_of(FP_WIN_HOUR, (time_t)(cur / 1000), &hs, &he);
		seg_end = (int64_t)he * 1000 < t1_ms ? (int64_t)he * 1000 : t1_ms;
		if (seg_end <= cur) /* cannot happen; keeps the loop finite */
			seg_end = t1_ms;
		frac = (double)(seg_end - cur) / (double)span;
		secs = (double)(seg_end - cur) / 1000.0;
		if (fp_ledger_add(l, meter, hs, estimated ? 0 : amount * frac, estimated ? 0 : secs,
				  estimated ? amount * frac : 0, estimated ? secs : 0) < 0)
			return -1;
		cur = seg_end;
	}
	return 0;
}

int fp_ledger_event(struct fp_ledger *l, int64_t t_ms, const char *meter, const char *kind,
		    double amount, int64_t t0_ms)
{
	sqlite3_bind_int64(l->ev, 1, t_ms);
	sqlite3_bind_text(l->ev, 2, meter, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->ev, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_double(l->ev, 4, amount);
	sqlite3_bind_int64(l->ev, 5, t0_ms);
	return step_done(l, l->ev, "event");
}

/* One meter over [from, to): amount (measured + estimated), estimated,
 * measured seconds. */
static int meter_sum(struct fp_ledger *l, const char *meter, time_t from, time_t to, double *amount,
		     double *est, double *secs)
{
	int rc;

	sqlite3_bind_text(l->msum, 1, meter, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(l->msum, 2, (int64_t)from);
	sqlite3_bind_int64(l->msum, 3, (int64_t)to);
	rc = sqlite3_step(l->msum);
	if (rc == SQLITE_ROW) {
		*amount = sqlite3_column_double(l->msum, 0) + sqlite3_column_double(l->msum, 1);
		*est = sqlite3_column_double(l->msum, 1);
		*secs = sqlite3_column_double(l->msum, 2);
	}
	sqlite3_reset(l->msum);
	return rc == SQLITE_ROW ? 0 : fail(l, "sum");
}

/* Sums the members listed by sql (meter, coef; bound to ?1 = key) into q. */
static int members_sum(struct fp_ledger *l, const char *sql, const char *key, const char *key2,
		       time_t from, time_t to, time_t cov_to, struct fp_qsum *q)
{
	sqlite3_stmt *st;
	double span = (double)(cov_to - from);
	int rc;

	memset(q, 0, sizeof(*q));
	q->coverage = 1;
	if (prep(l, &st, sql) < 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (key2)
		sqlite3_bind_text(st, 2, key2, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(st, 0);
		double coef = sqlite3_column_double(st, 1), a = 0, e = 0, s = 0, c;

		if (meter_sum(l, m, from, to, &a, &e, &s) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		q->present = true;
		q->value += coef * a;
		q->estimated += coef * e;
		c = span > 0 ? s / span : 0;
		q->coverage = fmin(q->coverage, fmin(c, 1.0));
	}
	sqlite3_finalize(st);
	if (!q->present)
		q->coverage = 0;
	return rc == SQLITE_DONE ? 0 : fail(l, "boundary");
}

/* Certified kWh of type over [from, to), pro rata of each certificate's
 * validity. */
static double certified(struct fp_ledger *l, const char *type, time_t from, time_t to)
{
	sqlite3_stmt *st;
	double kwh = 0;

	if (prep(l, &st, "SELECT t_from, t_to, kwh FROM certificate WHERE type = ?1") < 0)
		return 0;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		double a = (double)sqlite3_column_int64(st, 0),
		       b = (double)sqlite3_column_int64(st, 1);
		double lo = fmax(a, (double)from), hi = fmin(b, (double)to);
		if (b > a && hi > lo)
			kwh += sqlite3_column_double(st, 2) * (hi - lo) / (b - a);
	}
	sqlite3_finalize(st);
	return kwh;
}

/* The factor for region, method and year: that year's, else the latest
 * earlier one; -1 if none. */
static double factor(struct fp_ledger *l, const char *region, const char *method, int year)
{
	sqlite3_stmt *st;
	double f = -1;

	if (prep(l, &st,
		 "SELECT kg_per_kwh FROM factor WHERE region = ?1 AND method = ?2"
		 " AND year <= ?3 ORDER BY year DESC, origin = 'mqtt' DESC LIMIT 1") < 0)
		return -1;
	sqlite3_bind_text(st, 1, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, year);
	if (sqlite3_step(st) == SQLITE_ROW)
		f = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return f;
}

int fp_ledger_sums(struct fp_ledger *l, time_t from, time_t to, time_t cov_to,
		   struct fp_window_sums *s)
{
	char region[64] = "";
	bool any = false;
	time_t a;
	int i;

	memset(s, 0, sizeof(*s));
	if (cov_to > to)
		cov_to = to;
	for (i = 0; i < FP_NQTY; i++)
		if (members_sum(l, "SELECT meter, coef FROM boundary WHERE qty = ?1",
				fp_qty_names[i], NULL, from, to, cov_to, &s->q[i]) < 0)
			return -1;
	/* Certified supply is matched to the metered energy: in proportion
	 * to the window's elapsed time and to E_DC's coverage (no claim for
	 * energy that was not measured). */
	s->go_kwh = certified(l, "go", from, cov_to) * s->q[FP_Q_FACILITY].coverage;
	s->ppa_kwh = certified(l, "ppa", from, cov_to) * s->q[FP_Q_FACILITY].coverage;
	/* Scope 2 year by year, each with its own factors. */
	s->co2e_location_kg = s->co2e_market_kg = NAN;
	fp_ledger_get_meta(l, "region", region, sizeof(region));
	if (!s->q[FP_Q_GRID].present)
		return 0;
	/* Undefined until a year contributes: a window without grid energy
	 * yet has no Scope 2 figure, not 0 kg. */
	for (a = from; a < to;) {
		time_t ys, ye, b;
		struct fp_qsum g;
		struct tm tm;
		double loc, mkt;

		fp_window_of(FP_WIN_YEAR, a, &ys, &ye);
		b = ye < to ? ye : to;
		localtime_r(&a, &tm);
		if (members_sum(l, "SELECT meter, coef FROM boundary WHERE qty = ?1", "grid", NULL,
				a, b, b < cov_to ? b : cov_to, &g) < 0)
			return -1;
		/* A year without a grid reading adds nothing (and needs no factor). */
		if (!g.present || (g.coverage <= 0 && g.value == 0)) {
			a = b;
			continue;
		}
		fp_scope2(g.value,
			  (certified(l, "go", a, b < cov_to ? b : cov_to) +
			   certified(l, "ppa", a, b < cov_to ? b : cov_to)) *
				  g.coverage,
			  factor(l, region, "location", tm.tm_year + 1900),
			  factor(l, region, "market", tm.tm_year + 1900), &loc, &mkt);
		s->co2e_location_kg = any ? s->co2e_location_kg + loc : loc; /* NAN stays NAN */
		s->co2e_market_kg = any ? s->co2e_market_kg + mkt : mkt;
		any = true;
		a = b;
	}
	return 0;
}

/* One hour's row of a member of a matched quantity. */
struct match_row {
	int q;
	double coef, amount, est, covered;
};

struct match_state {
	unsigned mask;
	int nmem[FP_NQTY], cnt[FP_NQTY];
	double mincov[FP_NQTY];
	struct match_row *rows;
	size_t n, cap;
	double common_s;
	struct fp_qsum *out;
};

/* Ends an hour: the common part is the least covered of the quantities
 * (a quantity with a member without a row that hour is not covered). */
static void match_hour(struct match_state *m)
{
	double common = INFINITY;
	size_t i;
	int q;

	for (q = 0; q < FP_NQTY; q++)
		if (m->mask & (1u << q))
			common = fmin(common, m->cnt[q] >= m->nmem[q] ? m->mincov[q] : 0);
	if (!isfinite(common))
		common = 0;
	for (i = 0; i < m->n; i++) {
		const struct match_row *r = &m->rows[i];
		double f = r->covered > 0 ? fmin(common / r->covered, 1.0) : 0;
		m->out[r->q].value += r->coef * (r->amount + r->est) * f;
		m->out[r->q].estimated += r->coef * r->est * f;
	}
	m->common_s += common;
	m->n = 0;
	for (q = 0; q < FP_NQTY; q++) {
		m->cnt[q] = 0;
		m->mincov[q] = INFINITY;
	}
}

static int match_members(struct fp_ledger *l, struct match_state *m)
{
	sqlite3_stmt *st;
	int q;

	if (prep(l, &st, "SELECT count(*) FROM boundary WHERE qty = ?1") < 0)
		return -1;
	for (q = 0; q < FP_NQTY; q++) {
		if (!(m->mask & (1u << q)))
			continue;
		sqlite3_bind_text(st, 1, fp_qty_names[q], -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			m->nmem[q] = sqlite3_column_int(st, 0);
		sqlite3_reset(st);
		if (m->nmem[q] == 0)
			m->mask &= ~(1u << q); /* not configured: not a term */
		m->out[q].present = m->nmem[q] > 0;
		m->mincov[q] = INFINITY;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Runs st (bound; columns: hour, group name, coef, amount, estimated,
 * covered seconds; ordered by hour) through m; index_of maps a group name
 * to its index (-1: not a group).  Sets the groups' coverage. */
static int match_rows(struct fp_ledger *l, sqlite3_stmt *st, int (*index_of)(const char *),
		      struct match_state *m, time_t from, time_t cov_to)
{
	int64_t hour = INT64_MIN;
	int q, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(st, 0);
		struct match_row *r;

		if (h != hour && m->n)
			match_hour(m);
		hour = h;
		q = index_of((const char *)sqlite3_column_text(st, 1));
		if (q < 0)
			continue;
		fp_xgrow((void **)&m->rows, &m->cap, m->n + 1, sizeof(*m->rows));
		r = &m->rows[m->n++];
		*r = (struct match_row){ q, sqlite3_column_double(st, 2),
					 sqlite3_column_double(st, 3), sqlite3_column_double(st, 4),
					 sqlite3_column_double(st, 5) };
		m->cnt[q]++;
		m->mincov[q] = fmin(m->mincov[q], r->covered);
	}
	if (m->n)
		match_hour(m);
	sqlite3_finalize(st);
	free(m->rows);
	m->rows = NULL;
	if (rc != SQLITE_DONE)
		return fail(l, "matched");
	for (q = 0; q < FP_NQTY; q++)
		if (m->mask & (1u << q))
			m->out[q].coverage = cov_to > from
				? fmin(m->common_s / (double)(cov_to - from), 1.0)
				: 0;
	return 0;
}

int fp_ledger_matched(struct fp_ledger *l, time_t from, time_t to, time_t cov_to, unsigned mask,
		      struct fp_qsum out[FP_NQTY])
{
	struct match_state m = { .mask = mask, .out = out };
	sqlite3_stmt *st;
	struct fp_buf sql;
	int q, rc;

	memset(out, 0, FP_NQTY * sizeof(*out));
	if (match_members(l, &m) < 0)
		return -1;
	if (!m.mask)
		return 0;
	fp_buf_init(&sql, 4096);
	fp_buf_adds(&sql,
		    "SELECT h.hour, b.qty, b.coef, h.amount, h.estimated,"
		    " h.measured_s + h.estimated_s FROM hourly h JOIN boundary b"
		    " ON b.meter = h.meter WHERE h.hour >= ?1 AND h.hour < ?2 AND b.qty IN (");
	for (q = 0; q < FP_NQTY; q++)
		if (m.mask & (1u << q))
			fp_buf_printf(&sql, "%s'%s'", sql.data[sql.len - 1] == '(' ? "" : ",",
				      fp_qty_names[q]);
	fp_buf_adds(&sql, ") ORDER BY h.hour");
	rc = prep(l, &st, sql.data);
	fp_buf_reset(&sql);
	if (rc < 0)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)from);
	sqlite3_bind_int64(st, 2, (int64_t)to);
	return match_rows(l, st, fp_qty_index, &m, from, cov_to);
}

/* A zone's parts as groups: 0 it, 1 infra. */
static int zone_part(const char *part)
{
	return !part ? -1 : !strcmp(part, "it") ? 0 : !strcmp(part, "infra") ? 1 : -1;
}

/* pPUE of zone z over the part of the window where its IT and its
 * infrastructure meters are all measured (as fp_ledger_matched). */
static int zone_matched(struct fp_ledger *l, const char *z, time_t from, time_t to, time_t cov_to,
			struct fp_qsum out[FP_NQTY])
{
	struct match_state m = { .mask = 3, .out = out };
	sqlite3_stmt *st;
	int q;

	memset(out, 0, FP_NQTY * sizeof(*out));
	if (prep(l, &st, "SELECT count(*) FROM zone WHERE zone = ?1 AND part = ?2") < 0)
		return -1;
	for (q = 0; q < 2; q++) {
		sqlite3_bind_text(st, 1, z, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, q ? "infra" : "it", -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			m.nmem[q] = sqlite3_column_int(st, 0);
		sqlite3_reset(st);
		out[q].present = m.nmem[q] > 0;
		m.mincov[q] = INFINITY;
	}
	sqlite3_finalize(st);
	if (prep(l, &st,
		 "SELECT h.hour, z.part, z.coef, h.amount, h.estimated, h.measured_s + h.estimated_s"
		 " FROM hourly h JOIN zone z ON z.meter = h.meter WHERE z.zone = ?3"
		 " AND h.hour >= ?1 AND h.hour < ?2 ORDER BY h.hour") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)from);
	sqlite3_bind_int64(st, 2, (int64_t)to);
	sqlite3_bind_text(st, 3, z, -1, SQLITE_STATIC);
	return match_rows(l, st, zone_part, &m, from, cov_to);
}

struct match_ctx {
	struct fp_ledger *l;
	time_t from, to, cov_to;
};

static int match_sums(void *arg, unsigned mask, struct fp_qsum m[FP_NQTY])
{
	struct match_ctx *c = arg;

	return fp_ledger_matched(c->l, c->from, c->to, c->cov_to, mask, m);
}

int fp_ledger_kpis(struct fp_ledger *l, time_t from, time_t to, time_t cov_to,
		   struct fp_window_sums *s, struct fp_kpis *k)
{
	struct match_ctx c = { l, from, to, cov_to < to ? cov_to : to };

	if (fp_ledger_sums(l, from, to, cov_to, s) < 0)
		return -1;
	fp_kpis_compute(s, k);
	return fp_kpis_match(s, k, match_sums, &c);
}

int fp_ledger_zones(struct fp_ledger *l, time_t from, time_t to, time_t cov_to,
		    void (*fn)(void *arg, const char *zone, struct fp_ratio r), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (cov_to > to)
		cov_to = to;
	if (prep(l, &st, "SELECT DISTINCT zone FROM zone ORDER BY zone") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *z = fp_xstrdup((const char *)sqlite3_column_text(st, 0));
		struct fp_qsum it, infra;
		const char *q = "SELECT meter, coef FROM zone WHERE zone = ?1 AND part = ?2";

		struct fp_qsum m[FP_NQTY];

		if (members_sum(l, q, z, "it", from, to, cov_to, &it) < 0 ||
		    members_sum(l, q, z, "infra", from, to, cov_to, &infra) < 0 ||
		    zone_matched(l, z, from, to, cov_to, m) < 0) {
			free(z);
			sqlite3_finalize(st);
			return -1;
		}
		/* over the common part of the zone's meters, as every ratio */
		fn(arg, z,
		   fp_ppue(m[0].value, m[1].value,
			   fmin(m[0].coverage, fmin(it.coverage, infra.coverage))));
		free(z);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "zone");
}

int fp_ledger_event_counts(struct fp_ledger *l, time_t from, time_t to, struct fp_ledger_events *ev)
{
	sqlite3_stmt *st;

	memset(ev, 0, sizeof(*ev));
	if (prep(l, &st,
		 "SELECT kind, count(*) FROM event WHERE t_ms >= ?1 AND t_ms < ?2"
		 " GROUP BY kind") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)from * 1000);
	sqlite3_bind_int64(st, 2, (int64_t)to * 1000);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		long n = (long)sqlite3_column_int64(st, 1);
		if (!strcmp(k, "reset"))
			ev->resets = n;
		else if (!strcmp(k, "wrapped"))
			ev->wraps = n;
		else if (!strcmp(k, "gap"))
			ev->gaps = n;
	}
	sqlite3_finalize(st);
	return 0;
}

int fp_ledger_known_meters(struct fp_ledger *l,
			   void (*fn)(void *arg, const char *name, const char *role,
				      const char *unit),
			   void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(l, &st, "SELECT name, role, unit FROM meter ORDER BY name") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1),
		   (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "meters");
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

int fp_ledger_factor_used(struct fp_ledger *l, const char *region, const char *method, int year,
			  struct fp_ledger_factor *f)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(l, &st,
		 "SELECT region, year, method, kg_per_kwh, source, origin FROM factor"
		 " WHERE region = ?1 AND method = ?2 AND year <= ?3"
		 " ORDER BY year DESC, origin = 'mqtt' DESC LIMIT 1") < 0)
		return -1;
	sqlite3_bind_text(st, 1, region, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, method, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, year);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(f, 0, sizeof(*f));
		copy_col(f->region, sizeof(f->region), st, 0);
		f->year = sqlite3_column_int(st, 1);
		copy_col(f->method, sizeof(f->method), st, 2);
		f->kg_per_kwh = sqlite3_column_double(st, 3);
		copy_col(f->source, sizeof(f->source), st, 4);
		copy_col(f->origin, sizeof(f->origin), st, 5);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(l, "factors");
}

int fp_ledger_certificates(struct fp_ledger *l,
			   void (*fn)(void *arg, const char *type, time_t from, time_t to,
				      double kwh),
			   void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(l, &st, "SELECT type, t_from, t_to, kwh FROM certificate ORDER BY t_from, type") <
	    0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0),
		   (time_t)sqlite3_column_int64(st, 1), (time_t)sqlite3_column_int64(st, 2),
		   sqlite3_column_double(st, 3));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "certificates");
}

int fp_ledger_boundaries(struct fp_ledger *l,
			 void (*fn)(void *arg, const char *qty, const char *meter, double coef),
			 void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(l, &st, "SELECT qty, meter, coef FROM boundary ORDER BY rowid") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0),
		   (const char *)sqlite3_column_text(st, 1), sqlite3_column_double(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "boundaries");
}

/* ---- windows to write again (the engine's back-fill obligation) ---- */

static int rewrite_table(struct fp_ledger *l)
{
	return exec(l,
		    "CREATE TABLE IF NOT EXISTS rewrite(kind TEXT NOT NULL,"
		    " t_from INTEGER NOT NULL, t_to INTEGER NOT NULL)");
}

int fp_ledger_rewrite_clear(struct fp_ledger *l)
{
	if (rewrite_table(l) < 0)
		return -1;
	return exec(l, "DELETE FROM rewrite");
}

int fp_ledger_rewrite_add(struct fp_ledger *l, enum fp_window w, time_t from, time_t to)
{
	return run(l, "INSERT INTO rewrite VALUES(?1, ?2, ?3)", "tii", fp_window_names[w],
		   (int64_t)from, (int64_t)to);
}

int fp_ledger_rewrite_load(struct fp_ledger *l,
			   void (*fn)(void *arg, enum fp_window w, time_t from, time_t to),
			   void *arg)
{
	sqlite3_stmt *st;
	int rc, w;

	if (rewrite_table(l) < 0 ||
	    prep(l, &st, "SELECT kind, t_from, t_to FROM rewrite ORDER BY t_from") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		for (w = 0; name && w < FP_NWINDOWS; w++)
			if (!strcmp(name, fp_window_names[w]))
				fn(arg, (enum fp_window)w, (time_t)sqlite3_column_int64(st, 1),
				   (time_t)sqlite3_column_int64(st, 2));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "rewrite");
}

int fp_ledger_final_mark(struct fp_ledger *l, int kind, time_t start)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(l, &st, "INSERT OR IGNORE INTO final_window VALUES(?1, ?2)") < 0)
		return -1;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_int64(st, 2, (int64_t)start);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(l, "final_window");
	return sqlite3_changes(l->db) > 0;
}

/* One integer of a one-row query with one int parameter: 1 with *v, 0
 * when it is NULL, -1 on error. */
static int query_int64(struct fp_ledger *l, const char *sql, int arg, int64_t *v)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if (prep(l, &st, sql) < 0)
		return -1;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*v = sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(l, sql);
	return found;
}

int fp_ledger_final_last(struct fp_ledger *l, int kind, time_t *start)
{
	int64_t v;
	int rc = query_int64(l, "SELECT max(start) FROM final_window WHERE kind = ?1", kind, &v);

	if (rc > 0)
		*start = (time_t)v;
	return rc;
}

int fp_ledger_hours_span(struct fp_ledger *l, time_t *first, time_t *last)
{
	int64_t a, b;
	int rc = query_int64(l, "SELECT min(hour) FROM hourly", 0, &a);

	if (rc > 0)
		rc = query_int64(l, "SELECT max(hour) FROM hourly", 0, &b);
	if (rc > 0) {
		*first = (time_t)a;
		*last = (time_t)b;
	}
	return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int fp_ledger_journal_add(struct fp_ledger *l, struct fp_ledger_asset_ev *e)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(l, &st,
		 "INSERT INTO asset_journal(event_id, asset_id, event, category, model,"
		 " destination, t, mass_kg, embodied_co2e_kg, expected_life_y)"
		 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)") < 0)
		return -1;
	bind_text_or_null(st, 1, e->event_id);
	bind_text_or_null(st, 2, e->asset_id);
	bind_text_or_null(st, 3, e->event);
	bind_text_or_null(st, 4, e->category);
	bind_text_or_null(st, 5, e->model);
	bind_text_or_null(st, 6, e->destination);
	sqlite3_bind_int64(st, 7, e->t);
	sqlite3_bind_double(st, 8, e->mass_kg);
	sqlite3_bind_double(st, 9, e->embodied_co2e_kg);
	sqlite3_bind_double(st, 10, e->expected_life_y);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(l, "asset_journal");
	e->seq = sqlite3_last_insert_rowid(l->db);
	return 0;
}

int fp_ledger_journal_del(struct fp_ledger *l, int64_t seq)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(l, &st, "DELETE FROM asset_journal WHERE seq = ?1") < 0)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "asset_journal");
}

static char *column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v ? fp_xstrdup((const char *)v) : NULL;
}

int fp_ledger_journal_load(struct fp_ledger *l, void (*fn)(void *arg, struct fp_ledger_asset_ev *e),
			   void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(l, &st,
		 "SELECT seq, event_id, asset_id, event, category, model, destination, t,"
		 " mass_kg, embodied_co2e_kg, expected_life_y FROM asset_journal ORDER BY seq") < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fp_ledger_asset_ev e = {
			.seq = sqlite3_column_int64(st, 0),
			.event_id = column_dup(st, 1),
			.asset_id = column_dup(st, 2),
			.event = column_dup(st, 3),
			.category = column_dup(st, 4),
			.model = column_dup(st, 5),
			.destination = column_dup(st, 6),
			.t = sqlite3_column_int64(st, 7),
			.mass_kg = sqlite3_column_double(st, 8),
			.embodied_co2e_kg = sqlite3_column_double(st, 9),
			.expected_life_y = sqlite3_column_double(st, 10),
		};
		if (!e.event)
			e.event = fp_xstrdup("");
		fn(arg, &e);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(l, "asset_journal");
}
