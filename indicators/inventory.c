/* inventory.c - assets, lifecycle events and e-waste indicators (see
 * inventory.h). */
#include "config.h"

#include "inventory.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "energy.h"
#include "util.h"

#define INV_SCHEMA "1"
#define YEAR_S (8760.0 * 3600) /* a year of life or age: 365 days */

struct fp_inventory {
	sqlite3 *db;
	struct fp_time_window tw; /* zero: the default */
	char err[256];
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS asset(id TEXT PRIMARY KEY, site TEXT, category TEXT NOT NULL,"
	" model TEXT, mass_kg REAL NOT NULL, mass_estimated INTEGER NOT NULL DEFAULT 0,"
	" expected_life_y REAL NOT NULL, life_estimated INTEGER NOT NULL DEFAULT 0,"
	" embodied_co2e_kg REAL, state TEXT, state_t INTEGER, commissioned INTEGER,"
	" decommissioned INTEGER, final_event TEXT, final_t INTEGER, destination TEXT);"
	"CREATE TABLE IF NOT EXISTS event(event_id TEXT PRIMARY KEY, asset_id TEXT NOT NULL,"
	" event TEXT NOT NULL, t INTEGER NOT NULL, destination TEXT, source TEXT,"
	" received INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS event_asset ON event(asset_id, t);"
	"CREATE TABLE IF NOT EXISTS rejected(received INTEGER NOT NULL, event_id TEXT, asset_id TEXT,"
	" event TEXT, t INTEGER, reason TEXT);"
	"CREATE TABLE IF NOT EXISTS category(key TEXT PRIMARY KEY, description TEXT, eu6 TEXT,"
	" weight_kg REAL, shape REAL, scale REAL);";

static const char *const states[] = {
	"ordered", "received",	  "in_service", "spare",    "decommissioned",
	"reused",  "refurbished", "recycled",	"disposed", NULL,
};

static int state_index(const char *s)
{
	int i;

	for (i = 0; s && states[i]; i++)
		if (!strcmp(states[i], s))
			return i;
	return -1;
}

/* The state machine; from < 0 is an asset with no event yet. */
static bool legal(int from, int to)
{
	enum { ORD, REC, INS, SPA, DEC, REU, REF, RCY, DIS };

	switch (from) {
	case -1:
		return to == ORD || to == REC || to == INS;
	case ORD:
		return to == REC;
	case REC:
		return to == INS || to == SPA;
	case INS:
		return to == SPA || to == DEC;
	case SPA:
		return to == INS || to == DEC;
	case DEC:
		return to >= REU && to <= DIS;
	default:
		return false; /* final */
	}
}

static int fail(struct fp_inventory *v, const char *what)
{
	snprintf(v->err, sizeof(v->err), "%s: %s", what, sqlite3_errmsg(v->db));
	return -1;
}

const char *fp_inv_error(struct fp_inventory *v)
{
	return v->err;
}

static int exec(struct fp_inventory *v, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(v->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(v->err, sizeof(v->err), "%s", msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* SQLite has rolled back already after some errors (a full disk): a
 * second ROLLBACK would only replace the error's message. */
static void rollback(struct fp_inventory *v)
{
	if (!sqlite3_get_autocommit(v->db))
		sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
}

void fp_inv_busy_timeout(struct fp_inventory *v, int ms)
{
	sqlite3_busy_timeout(v->db, ms);
}

struct fp_inventory *fp_inv_open(const char *path, bool read_only, char *err, size_t errlen)
{
	struct fp_inventory *v = fp_xcalloc(1, sizeof(*v));
	int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	sqlite3_stmt *st;
	bool ok = false;

	if (sqlite3_open_v2(path, &v->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 v->db ? sqlite3_errmsg(v->db) : "cannot open");
		fp_inv_close(v);
		return NULL;
	}
	sqlite3_busy_timeout(v->db, 5000);
	if (!read_only &&
	    (exec(v, "PRAGMA journal_mode=WAL") < 0 || exec(v, "PRAGMA synchronous=FULL") < 0 ||
	     exec(v, schema) < 0 ||
	     exec(v, "INSERT OR IGNORE INTO meta VALUES('schema', '" INV_SCHEMA "')") < 0))
		goto fail;
	if (sqlite3_prepare_v2(v->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st,
			       NULL) == SQLITE_OK) {
		ok = sqlite3_step(st) == SQLITE_ROW &&
			!strcmp((const char *)sqlite3_column_text(st, 0), INV_SCHEMA);
		sqlite3_finalize(st);
	}
	if (!ok) {
		snprintf(v->err, sizeof(v->err),
			 "not a footprint inventory (schema " INV_SCHEMA ")");
		goto fail;
	}
	return v;
fail:
	snprintf(err, errlen, "%s: %s", path, v->err[0] ? v->err : sqlite3_errmsg(v->db));
	fp_inv_close(v);
	return NULL;
}

void fp_inv_close(struct fp_inventory *v)
{
	if (!v)
		return;
	sqlite3_close(v->db);
	free(v);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* ---- applying events ---- */

struct ev {
	int state;
	int64_t t;
	char *dest;
	bool isnew; /* the event being applied */
};

/* Replays the asset's events plus (optionally) a new one placed by its
 * time; fills the derived columns.  Returns 0, or -1 with why set when the
 * history is illegal. */
struct derived {
	int state;
	int64_t state_t, commissioned, decommissioned, final_t;
	int final_event;
	char *destination;
	bool repeat; /* the new event repeats the state it finds: no change */
};

static int replay(struct ev *e, size_t n, struct derived *d, char *why, size_t whylen)
{
	size_t i;
	int cur = -1;

	memset(d, 0, sizeof(*d));
	d->final_event = -1;
	for (i = 0; i < n; i++) {
		if (cur >= 0 && e[i].state == cur) {
			/* a report of the state the asset is in (a foreign
			 * source's rejoin): the first one stands */
			d->repeat = d->repeat || e[i].isnew;
			continue;
		}
		if (!legal(cur, e[i].state)) {
			char at[32];
			snprintf(why, whylen, "illegal transition %s -> %s at %s",
				 cur < 0 ? "(new asset)" : states[cur], states[e[i].state],
				 fp_time_fmt_rfc3339(at, sizeof(at), e[i].t));
			return -1;
		}
		cur = e[i].state;
		d->state_t = e[i].t;
		if (cur == 2 && !d->commissioned)
			d->commissioned = e[i].t;
		if (cur == 4 && !d->decommissioned)
			d->decommissioned = e[i].t;
		if (cur >= 5) {
			d->final_event = cur;
			d->final_t = e[i].t;
			d->destination = e[i].dest;
		}
	}
	d->state = cur;
	return 0;
}

static void free_evs(struct ev *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(e[i].dest);
	free(e);
}

static void reject(struct fp_inventory *v, const struct fp_inv_event *e, const char *why)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(v->db, "INSERT INTO rejected VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1,
			       &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
	bind_text_or_null(st, 2, e->event_id);
	bind_text_or_null(st, 3, e->asset_id);
	bind_text_or_null(st, 4, e->event);
	sqlite3_bind_int64(st, 5, e->t);
	sqlite3_bind_text(st, 6, why, -1, SQLITE_TRANSIENT);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* Inserts the asset when new (category required, mass and life from the
 * category when absent, flagged). */
static int ensure_asset(struct fp_inventory *v, const struct fp_categories *cats,
			const struct fp_inv_event *e, bool *created, char *why, size_t whylen)
{
	const struct fp_category *c;
	sqlite3_stmt *st;
	double mass = e->mass_kg, life = e->expected_life_y;
	int rc;

	*created = false;
	if (sqlite3_prepare_v2(v->db, "SELECT 1 FROM asset WHERE id = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail(v, "asset");
	sqlite3_bind_text(st, 1, e->asset_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (!e->category) {
		snprintf(why, whylen, "unknown asset %s and the event has no category",
			 e->asset_id);
		return 1;
	}
	if (!(c = fp_category_find(cats, e->category))) {
		snprintf(why, whylen, "category '%s' is not in the category table", e->category);
		return 1;
	}
	if (mass <= 0 && c->weight_kg <= 0) {
		snprintf(why, whylen,
			 "unknown asset %s: no mass_kg and category %s has no average weight",
			 e->asset_id, c->key);
		return 1;
	}
	if (life <= 0)
		life = fp_weibull_mean(c->shape, c->scale);
	if (sqlite3_prepare_v2(v->db,
			       "INSERT INTO asset(id, site, category, model, mass_kg,"
			       " mass_estimated, expected_life_y, life_estimated, embodied_co2e_kg)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(v, "asset");
	sqlite3_bind_text(st, 1, e->asset_id, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, e->site);
	sqlite3_bind_text(st, 3, c->key, -1, SQLITE_STATIC);
	bind_text_or_null(st, 4, e->model);
	sqlite3_bind_double(st, 5, mass > 0 ? mass : c->weight_kg);
	sqlite3_bind_int(st, 6, mass <= 0);
	sqlite3_bind_double(st, 7, life);
	sqlite3_bind_int(st, 8, e->expected_life_y <= 0);
	if (e->embodied_co2e_kg >= 0)
		sqlite3_bind_double(st, 9, e->embodied_co2e_kg);
	else
		sqlite3_bind_null(st, 9);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(v, "asset");
	*created = true;
	return 0;
}

/* Loads the asset's events in order and places the new one by its time
 * (after those of the same second). */
static int load_history(struct fp_inventory *v, const struct fp_inv_event *e, int new_state,
			struct ev **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	bool placed = false;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(v->db,
			       "SELECT event, t, destination FROM event WHERE asset_id = ?1"
			       " ORDER BY t, received, rowid",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(v, "event");
	sqlite3_bind_text(st, 1, e->asset_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 1);
		const char *d = (const char *)sqlite3_column_text(st, 2);
		if (!placed && new_state >= 0 && t > e->t) {
			fp_xgrow((void **)out, &cap, *n + 1, sizeof(**out));
			(*out)[(*n)++] = (struct ev){ new_state, e->t,
						      e->destination ? fp_xstrdup(e->destination)
								     : NULL,
						      true };
			placed = true;
		}
		fp_xgrow((void **)out, &cap, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (struct ev){ state_index((const char *)sqlite3_column_text(st, 0)),
					      t, d ? fp_xstrdup(d) : NULL, false };
	}
	sqlite3_finalize(st);
	if (!placed && new_state >= 0) {
		fp_xgrow((void **)out, &cap, *n + 1, sizeof(**out));
		(*out)[(*n)++] = (struct ev){ new_state, e->t,
					      e->destination ? fp_xstrdup(e->destination) : NULL,
					      true };
	}
	return 0;
}

static int store_derived(struct fp_inventory *v, const char *asset, const struct derived *d)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(
		    v->db,
		    "UPDATE asset SET state = ?2, state_t = ?3, commissioned = ?4,"
		    " decommissioned = ?5, final_event = ?6, final_t = ?7, destination = ?8"
		    " WHERE id = ?1",
		    -1, &st, NULL) != SQLITE_OK)
		return fail(v, "asset");
	sqlite3_bind_text(st, 1, asset, -1, SQLITE_STATIC);
	bind_text_or_null(st, 2, d->state >= 0 ? states[d->state] : NULL);
	sqlite3_bind_int64(st, 3, d->state_t);
	if (d->commissioned)
		sqlite3_bind_int64(st, 4, d->commissioned);
	if (d->decommissioned)
		sqlite3_bind_int64(st, 5, d->decommissioned);
	bind_text_or_null(st, 6, d->final_event >= 0 ? states[d->final_event] : NULL);
	if (d->final_event >= 0)
		sqlite3_bind_int64(st, 7, d->final_t);
	bind_text_or_null(st, 8, d->destination);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(v, "asset");
}

/* The body of fp_inv_apply, inside a transaction: 0 applied, 1 rejected
 * (why), 2 duplicate, -1 error. */
static int apply_locked(struct fp_inventory *v, const struct fp_categories *cats,
			const struct fp_inv_event *e, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	struct ev *evs;
	struct derived d;
	size_t n;
	bool created;
	int to = state_index(e->event), rc;
	const char *tw;

	if (!e->event_id || !e->event_id[0] || !e->asset_id || !e->asset_id[0] || to < 0) {
		snprintf(why, whylen, "an event needs event_id, asset_id and a known event");
		return 1;
	}
	if (strlen(e->event_id) > 256 || strlen(e->asset_id) > 256) {
		snprintf(why, whylen, "event_id and asset_id are at most 256 bytes");
		return 1;
	}
	if (fp_time_check(&v->tw, e->t, fp_real_ns(), &tw) < 0) {
		snprintf(why, whylen, "time %lld: %s", (long long)e->t, tw);
		return 1;
	}
	if (sqlite3_prepare_v2(v->db, "SELECT 1 FROM event WHERE event_id = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail(v, "event");
	sqlite3_bind_text(st, 1, e->event_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 2;
	rc = ensure_asset(v, cats, e, &created, why, whylen);
	if (rc)
		return rc;
	if (load_history(v, e, to, &evs, &n) < 0)
		return -1;
	if (replay(evs, n, &d, why, whylen) < 0) {
		free_evs(evs, n);
		return 1;
	}
	if (d.repeat) {
		free_evs(evs, n);
		return 2; /* changes nothing: counted with the duplicates */
	}
	if (sqlite3_prepare_v2(v->db, "INSERT INTO event VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
			       &st, NULL) != SQLITE_OK) {
		free_evs(evs, n);
		return fail(v, "event");
	}
	sqlite3_bind_text(st, 1, e->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->asset_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, states[to], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, e->t);
	bind_text_or_null(st, 5, e->destination);
	bind_text_or_null(st, 6, e->source);
	sqlite3_bind_int64(st, 7, (int64_t)time(NULL));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free_evs(evs, n);
		return fail(v, "event");
	}
	rc = store_derived(v, e->asset_id, &d);
	free_evs(evs, n);
	return rc;
}

void fp_inv_set_time_window(struct fp_inventory *v, const struct fp_time_window *w)
{
	v->tw = *w;
}

enum fp_inv_result fp_inv_apply(struct fp_inventory *v, const struct fp_categories *cats,
				const struct fp_inv_event *e, char *why, size_t whylen)
{
	int rc;

	why[0] = '\0';
	if (exec(v, "BEGIN IMMEDIATE") < 0) {
		snprintf(why, whylen, "%s", v->err);
		return FP_INV_ERROR;
	}
	rc = apply_locked(v, cats, e, why, whylen);
	if (rc == 0 && exec(v, "COMMIT") == 0)
		return FP_INV_APPLIED;
	rollback(v);
	if (rc == 2)
		return FP_INV_DUPLICATE;
	if (rc == 1) {
		reject(v, e, why);
		return FP_INV_REJECTED;
	}
	snprintf(why, whylen, "%s", v->err);
	return FP_INV_ERROR;
}

/* ---- import ---- */

struct row {
	int line;
	char *id, *category, *model, *site, *state;
	double mass, life, te;
	time_t commissioned;
};

static int parse_num(const char *s, double *v)
{
	char *end;

	if (!s || !*s) {
		*v = -1;
		return 0;
	}
	errno = 0;
	*v = strtod(s, &end);
	return *end || errno || !isfinite(*v) || *v < 0 ? -1 : 0;
}

static const char *const columns[] = {
	"asset_id",	   "category",	       "model", "mass_kg", "commissioned", "state",
	"expected_life_y", "embodied_co2e_kg", "site",	NULL,
};

/* Validates one row given as column values (NULL = absent); problems go to
 * errs as "name:line: reason". */
static int check_row(struct fp_inventory *v, const struct fp_categories *cats, const char *name,
		     const char *const val[], struct row *r, FILE *errs)
{
	const struct fp_category *c;
	const char *tw;
	sqlite3_stmt *st;
	int bad = 0;

#define BAD(...)                                         \
	do {                                             \
		fprintf(errs, "%s:%d: ", name, r->line); \
		fprintf(errs, __VA_ARGS__);              \
		fputc('\n', errs);                       \
		bad = 1;                                 \
	} while (0)
	if (!val[0] || !val[0][0] || strlen(val[0]) > 256)
		BAD("asset_id is required (1-256 bytes)");
	if (!val[1] || !(c = fp_category_find(cats, val[1])))
		BAD("category '%s' is not a known UNU-KEY (data/ewaste-categories.csv or inventory.categories)",
		    val[1] ? val[1] : "");
	else
		r->category = fp_xstrdup(c->key);
	if (parse_num(val[3], &r->mass) < 0 || r->mass == 0)
		BAD("mass_kg must be a number > 0 (or empty for the category's average)");
	else if (r->mass < 0 && r->category && fp_category_find(cats, r->category)->weight_kg <= 0)
		BAD("mass_kg is required: category %s has no average weight", r->category);
	r->commissioned = -1;
	if (val[4] && val[4][0] && (r->commissioned = fp_parse_date(val[4])) < 0) {
		BAD("commissioned '%s' is not a date YYYY-MM-DD", val[4]);
		r->commissioned = 0; /* given, if wrong: no second complaint */
	} else if (r->commissioned >= 0 &&
		   fp_time_check(&v->tw, r->commissioned, fp_real_ns(), &tw) < 0) {
		BAD("commissioned '%s': %s", val[4], tw);
		r->commissioned = 0;
	}
	r->state = fp_xstrdup(val[5] && val[5][0]	     ? val[5]
				      : r->commissioned >= 0 ? "in_service"
							     : "received");
	if (state_index(r->state) < 0 || state_index(r->state) > 3)
		BAD("state '%s' must be ordered, received, in_service or spare", r->state);
	else if ((!strcmp(r->state, "in_service") || !strcmp(r->state, "spare")) &&
		 r->commissioned < 0)
		BAD("a %s asset needs its commissioned date", r->state);
	if (parse_num(val[6], &r->life) < 0 || r->life == 0)
		BAD("expected_life_y must be a number > 0 (or empty for the category's mean life)");
	if (parse_num(val[7], &r->te) < 0)
		BAD("embodied_co2e_kg must be a number >= 0");
	r->id = fp_xstrdup(val[0] ? val[0] : "");
	r->model = val[2] && val[2][0] ? fp_xstrdup(val[2]) : NULL;
	r->site = val[8] && val[8][0] ? fp_xstrdup(val[8]) : NULL;
	if (r->id[0] &&
	    sqlite3_prepare_v2(v->db, "SELECT 1 FROM asset WHERE id = ?1", -1, &st, NULL) ==
		    SQLITE_OK) {
		sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			BAD("asset %s is already in the inventory", r->id);
		sqlite3_finalize(st);
	}
#undef BAD
	return bad ? -1 : 0;
}

static void free_row(struct row *r)
{
	free(r->id);
	free(r->category);
	free(r->model);
	free(r->site);
	free(r->state);
}

static int import_rows(struct fp_inventory *v, const struct fp_categories *cats, struct row *rows,
		       size_t n, const char *site, FILE *errs, const char *name)
{
	size_t i;
	char why[256];

	if (exec(v, "BEGIN IMMEDIATE") < 0) {
		fprintf(errs, "%s: %s\n", name, v->err);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct row *r = &rows[i];
		char eid[300];
		int st = state_index(r->state), rc;
		struct fp_inv_event e = { NULL,
					  r->id,
					  NULL,
					  r->category,
					  r->model,
					  NULL,
					  r->site ? r->site : site,
					  "import",
					  r->commissioned >= 0 ? (int64_t)r->commissioned
							       : (int64_t)time(NULL),
					  r->mass,
					  r->te,
					  r->life };
		/* in_service at the commissioning date; a spare was in
		 * service first, a second later. */
		e.event = st == 3 ? "in_service" : states[st];
		snprintf(eid, sizeof(eid), "import:%s:%s", r->id, e.event);
		e.event_id = eid;
		rc = apply_locked(v, cats, &e, why, sizeof(why));
		if (rc == 0 && st == 3) {
			snprintf(eid, sizeof(eid), "import:%s:spare", r->id);
			e.event = "spare";
			e.t += 1;
			rc = apply_locked(v, cats, &e, why, sizeof(why));
		}
		if (rc != 0) {
			fprintf(errs, "%s:%d: %s\n", name, r->line, rc < 0 ? v->err : why);
			rollback(v);
			return -1;
		}
	}
	if (exec(v, "COMMIT") < 0) {
		fprintf(errs, "%s: %s\n", name, v->err);
		rollback(v);
		return -1;
	}
	return (int)n;
}

static bool dup_id(struct row *rows, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i].id && !strcmp(rows[i].id, id))
			return true;
	return false;
}

/* Checks a row (column values val) and keeps it in rows, or reports it
 * and frees it; returns 1 for a bad row. */
static int keep_row(struct fp_inventory *v, const struct fp_categories *cats, const char *name,
		    const char *const val[], struct row *r, struct row **rows, size_t *n,
		    size_t *cap, FILE *errs)
{
	int bad = check_row(v, cats, name, val, r, errs) < 0;

	if (r->id[0] && dup_id(*rows, *n, r->id)) {
		fprintf(errs, "%s:%d: asset %s appears twice\n", name, r->line, r->id);
		bad = 1;
	}
	if (bad) {
		free_row(r);
		return 1;
	}
	fp_xgrow((void **)rows, cap, *n + 1, sizeof(**rows));
	(*rows)[(*n)++] = *r;
	return 0;
}

/* The columns of one JSON asset into val: strings as they are, numbers
 * printed into nums, anything else a value keep_row refuses. */
static void json_values(json_object *o, const char **val, char (*nums)[64])
{
	json_object *x;
	int k;

	for (k = 0; columns[k]; k++) {
		val[k] = NULL;
		if (!json_object_object_get_ex(o, columns[k], &x) ||
		    json_object_is_type(x, json_type_null))
			continue;
		if (json_object_is_type(x, json_type_double) ||
		    json_object_is_type(x, json_type_int)) {
			snprintf(nums[k], sizeof(nums[k]), "%.17g", json_object_get_double(x));
			val[k] = nums[k];
		} else if (json_object_is_type(x, json_type_string)) {
			val[k] = json_object_get_string(x);
		} else {
			val[k] = "(not a string or number)";
		}
	}
}

int fp_inv_import_buf(struct fp_inventory *v, const struct fp_categories *cats, const char *name,
		      const char *text, size_t len, const char *site, FILE *errs)
{
	struct row *rows = NULL;
	size_t n = 0, cap = 0, i;
	int bad = 0, rc = -1, k;

	/* A UTF-8 byte order mark (spreadsheets write one) is not data. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	/* JSON: an array of objects with the CSV's column names. */
	for (i = 0;
	     i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r');
	     i++)
		;
	if (i < len && text[i] == '{') {
		fprintf(errs,
			"%s:1: a JSON object: the assets go in an array, [ { \"asset_id\": ... }, ... ]\n",
			name);
		return -1;
	}
	if (i < len && text[i] == '[') {
		json_tokener *tok = json_tokener_new_ex(8);
		json_object *doc = json_tokener_parse_ex(
			tok, text, (int)(len > 0x7fffffff ? 0x7fffffff : len));
		if (!doc || !json_object_is_type(doc, json_type_array)) {
			enum json_tokener_error je = json_tokener_get_error(tok);
			fprintf(errs, "%s:1: not a JSON array of assets: %s\n", name,
				je == json_tokener_continue ? "the file ends inside the array"
							    : json_tokener_error_desc(je));
			json_object_put(doc);
			json_tokener_free(tok);
			return -1;
		}
		for (i = 0; i < json_object_array_length(doc); i++) {
			json_object *o = json_object_array_get_idx(doc, i);
			const char *val[FP_ARRAY_SIZE(columns)];
			char nums[FP_ARRAY_SIZE(columns)][64];
			struct row r;
			memset(&r, 0, sizeof(r));
			r.line = (int)i + 1; /* the element number */
			if (!json_object_is_type(o, json_type_object)) {
				fprintf(errs, "%s:%d: element %zu is not an object\n", name, r.line,
					i);
				bad = 1;
				continue;
			}
			json_values(o, val, nums);
			bad |= keep_row(v, cats, name, val, &r, &rows, &n, &cap, errs);
		}
		json_object_put(doc);
		json_tokener_free(tok);
	} else {
		struct fp_csv_rec hdr = { 0 }, rec = { 0 };
		size_t pos = 0;
		int line = 1, map[FP_ARRAY_SIZE(columns)], got;
		const char *why = NULL;

		if (fp_csv_next(text, len, &pos, &line, &hdr, &why) != 1) {
			fprintf(errs, "%s:%d: %s\n", name, line,
				why ? why : "empty: a header line is required");
			fp_csv_rec_free(&hdr);
			return -1;
		}
		for (k = 0; columns[k]; k++)
			map[k] = fp_csv_col(&hdr, columns[k]);
		for (k = 0; k < hdr.n; k++) {
			int j;
			for (j = 0; columns[j] && strcasecmp(columns[j], hdr.f[k]); j++)
				;
			if (!columns[j]) {
				fprintf(errs,
					"%s:%d: unknown column '%s' (columns: asset_id, category, model, "
					"mass_kg, commissioned, state, expected_life_y, embodied_co2e_kg, site)\n",
					name, hdr.line, hdr.f[k]);
				bad = 1;
			}
		}
		if (map[0] < 0 || map[1] < 0) {
			fprintf(errs, "%s:%d: the header needs the columns asset_id and category\n",
				name, hdr.line);
			fp_csv_rec_free(&hdr);
			return -1;
		}
		while ((got = fp_csv_next(text, len, &pos, &line, &rec, &why)) != 0) {
			const char *val[FP_ARRAY_SIZE(columns)];
			struct row r;
			memset(&r, 0, sizeof(r));
			if (got < 0) {
				fprintf(errs, "%s:%d: %s\n", name, line - 1, why);
				bad = 1;
				continue;
			}
			r.line = rec.line;
			if (rec.n != hdr.n) {
				fprintf(errs, "%s:%d: %d columns, the header has %d\n", name,
					rec.line, rec.n, hdr.n);
				bad = 1;
				continue;
			}
			for (k = 0; columns[k]; k++)
				val[k] = map[k] >= 0 ? rec.f[map[k]] : NULL;
			bad |= keep_row(v, cats, name, val, &r, &rows, &n, &cap, errs);
		}
		fp_csv_rec_free(&hdr);
		fp_csv_rec_free(&rec);
	}
	if (!bad)
		rc = import_rows(v, cats, rows, n, site, errs, name);
	else
		fprintf(errs, "%s: nothing imported\n", name);
	for (i = 0; i < n; i++)
		free_row(&rows[i]);
	free(rows);
	return rc;
}

int fp_inv_import(struct fp_inventory *v, const struct fp_categories *cats, const char *path,
		  const char *site, FILE *errs)
{
	FILE *f = fopen(path, "r");
	struct fp_buf b;
	char chunk[8192], *text;
	size_t n, len;
	int rc;

	if (!f) {
		fprintf(errs, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	fp_buf_init(&b, (size_t)64 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (fp_buf_add(&b, chunk, n) < 0) {
			fprintf(errs, "%s: larger than 64 MB\n", path);
			fclose(f);
			fp_buf_reset(&b);
			return -1;
		}
	fclose(f);
	text = fp_buf_steal(&b, &len);
	rc = fp_inv_import_buf(v, cats, path, text ? text : "", len, site, errs);
	free(text);
	return rc;
}

/* ---- listing ---- */

static void fmt_time(char *buf, size_t n, int64_t t)
{
	if (!t)
		snprintf(buf, n, "-");
	else
		fp_time_fmt_rfc3339(buf, n, t);
}

/* One CSV cell (RFC 4180: quoted when it holds a comma, a quote or a line
 * break, quotes doubled), then sep. */
static void csv_put(FILE *out, const char *s, char sep)
{
	if (s && strpbrk(s, ",\"\r\n")) {
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	} else if (s) {
		fputs(s, out);
	}
	fputc(sep, out);
}

/* The text of column k of a row, NULL when it is NULL. */
static const char *col_text(sqlite3_stmt *st, int k)
{
	return (const char *)sqlite3_column_text(st, k);
}

/* One asset as a CSV row (the columns of the header in fp_inv_list). */
static void list_csv_row(FILE *out, sqlite3_stmt *st)
{
	static const int cols[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13 };
	size_t k;

	for (k = 0; k < FP_ARRAY_SIZE(cols); k++) {
		int c = cols[k];
		char cell[40];
		const char *s = col_text(st, c);
		if (s && (c == 4 || c == 6))
			s = sqlite3_column_int(st, c) ? "true" : "false";
		else if (s && (c == 10 || c == 11)) {
			fmt_time(cell, sizeof(cell), sqlite3_column_int64(st, c));
			s = cell;
		}
		csv_put(out, s, k + 1 < FP_ARRAY_SIZE(cols) ? ',' : '\n');
	}
}

/* Prints arr as pretty JSON and frees it. */
static void put_json(FILE *out, json_object *arr)
{
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(
			arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
}

int fp_inv_list(struct fp_inventory *v, FILE *out, enum fp_inv_format fmt)
{
	sqlite3_stmt *st;
	bool json = fmt == FP_INV_JSON;
	json_object *arr = json ? json_object_new_array() : NULL;

	if (sqlite3_prepare_v2(
		    v->db,
		    "SELECT id, category, model, mass_kg, mass_estimated,"
		    " expected_life_y, life_estimated, embodied_co2e_kg, state, state_t,"
		    " commissioned, decommissioned, destination, site FROM asset ORDER BY id",
		    -1, &st, NULL) != SQLITE_OK) {
		json_object_put(arr);
		return fail(v, "asset");
	}
	if (fmt == FP_INV_TEXT)
		fprintf(out, "%-20s %-5s %-14s %9s %6s %-24s %s\n", "asset", "cat", "state",
			"mass_kg", "life_y", "commissioned", "model");
	else if (fmt == FP_INV_CSV)
		fputs("asset_id,category,model,mass_kg,mass_estimated,expected_life_y,"
		      "life_estimated,embodied_co2e_kg,state,commissioned,decommissioned,"
		      "destination,site\n",
		      out);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *cat = (const char *)sqlite3_column_text(st, 1);
		const char *model = (const char *)sqlite3_column_text(st, 2);
		const char *state = (const char *)sqlite3_column_text(st, 8);
		char c[40];
		if (fmt == FP_INV_CSV) {
			list_csv_row(out, st);
			continue;
		}
		fmt_time(c, sizeof(c), sqlite3_column_int64(st, 10));
		if (!json) {
			fprintf(out, "%-20s %-5s %-14s %8.2f%s %6.2f %-24s %s\n", id, cat,
				state ? state : "-", sqlite3_column_double(st, 3),
				sqlite3_column_int(st, 4) ? "*" : " ", sqlite3_column_double(st, 5),
				c, model ? model : "");
			continue;
		}
		{
			json_object *o = json_object_new_object();
			json_object_object_add(o, "asset_id", json_object_new_string(id));
			json_object_object_add(o, "category", json_object_new_string(cat));
			json_object_object_add(o, "model",
					       model ? json_object_new_string(model) : NULL);
			json_object_object_add(
				o, "mass_kg", json_object_new_double(sqlite3_column_double(st, 3)));
			json_object_object_add(o, "mass_estimated",
					       json_object_new_boolean(sqlite3_column_int(st, 4)));
			json_object_object_add(
				o, "expected_life_y",
				json_object_new_double(sqlite3_column_double(st, 5)));
			json_object_object_add(o, "life_estimated",
					       json_object_new_boolean(sqlite3_column_int(st, 6)));
			json_object_object_add(
				o, "embodied_co2e_kg",
				sqlite3_column_type(st, 7) == SQLITE_NULL
					? NULL
					: json_object_new_double(sqlite3_column_double(st, 7)));
			json_object_object_add(o, "state",
					       state ? json_object_new_string(state) : NULL);
			json_object_object_add(o, "commissioned",
					       sqlite3_column_type(st, 10) == SQLITE_NULL
						       ? NULL
						       : json_object_new_string(c));
			fmt_time(c, sizeof(c), sqlite3_column_int64(st, 11));
			json_object_object_add(o, "decommissioned",
					       sqlite3_column_type(st, 11) == SQLITE_NULL
						       ? NULL
						       : json_object_new_string(c));
			json_object_object_add(
				o, "destination",
				sqlite3_column_type(st, 12) == SQLITE_NULL
					? NULL
					: json_object_new_string(
						  (const char *)sqlite3_column_text(st, 12)));
			json_object_object_add(
				o, "site",
				sqlite3_column_type(st, 13) == SQLITE_NULL
					? NULL
					: json_object_new_string(
						  (const char *)sqlite3_column_text(st, 13)));
			json_object_array_add(arr, o);
		}
	}
	sqlite3_finalize(st);
	if (json)
		put_json(out, arr);
	else if (fmt == FP_INV_TEXT)
		fprintf(out, "(* mass is the category's average weight)\n");
	return 0;
}

int fp_inv_events(struct fp_inventory *v, const char *asset_id, FILE *out, enum fp_inv_format fmt)
{
	sqlite3_stmt *st;
	bool json = fmt == FP_INV_JSON;
	json_object *arr = json ? json_object_new_array() : NULL;

	if (sqlite3_prepare_v2(v->db,
			       "SELECT t, asset_id, event, event_id, destination, source,"
			       " 'applied' FROM event WHERE ?1 IS NULL OR asset_id = ?1"
			       " UNION ALL SELECT t, asset_id, event, event_id, reason, 'rejected',"
			       " 'rejected' FROM rejected WHERE ?1 IS NULL OR asset_id = ?1"
			       " ORDER BY 1, 2",
			       -1, &st, NULL) != SQLITE_OK) {
		json_object_put(arr);
		return fail(v, "event");
	}
	bind_text_or_null(st, 1, asset_id);
	if (fmt == FP_INV_TEXT)
		fprintf(out, "%-24s %-20s %-14s %-9s %-24s %s\n", "time", "asset", "event",
			"status", "event_id", "destination / reason");
	else if (fmt == FP_INV_CSV)
		fputs("time,asset_id,event,status,event_id,destination,reason,source\n", out);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char t[40];
		const char *s[6];
		int k;
		fmt_time(t, sizeof(t), sqlite3_column_int64(st, 0));
		for (k = 0; k < 6; k++) {
			s[k] = (const char *)sqlite3_column_text(st, k + 1);
			if (!s[k])
				s[k] = "";
		}
		if (fmt == FP_INV_TEXT) {
			fprintf(out, "%-24s %-20s %-14s %-9s %-24s %s\n", t, s[0], s[1], s[5], s[2],
				s[3]);
			continue;
		}
		if (fmt == FP_INV_CSV) {
			bool rej = !strcmp(s[5], "rejected");
			csv_put(out, t, ',');
			csv_put(out, s[0], ',');
			csv_put(out, s[1], ',');
			csv_put(out, s[5], ',');
			csv_put(out, s[2], ',');
			csv_put(out, rej ? "" : s[3], ',');
			csv_put(out, rej ? s[3] : "", ',');
			csv_put(out, rej ? "" : s[4], '\n');
			continue;
		}
		{
			json_object *o = json_object_new_object();
			json_object_object_add(o, "time", json_object_new_string(t));
			json_object_object_add(o, "asset_id", json_object_new_string(s[0]));
			json_object_object_add(o, "event", json_object_new_string(s[1]));
			json_object_object_add(o, "event_id", json_object_new_string(s[2]));
			json_object_object_add(o, "status", json_object_new_string(s[5]));
			json_object_object_add(o,
					       !strcmp(s[5], "rejected") ? "reason" : "destination",
					       s[3][0] ? json_object_new_string(s[3]) : NULL);
			if (strcmp(s[5], "rejected"))
				json_object_object_add(
					o, "source", s[4][0] ? json_object_new_string(s[4]) : NULL);
			json_object_array_add(arr, o);
		}
	}
	sqlite3_finalize(st);
	if (json)
		put_json(out, arr);
	return 0;
}

/* ---- indicators ---- */

int fp_inv_ewaste(struct fp_inventory *v, const struct fp_categories *cats, const char *category,
		  time_t from, time_t to, time_t at, struct fp_ewaste *o)
{
	sqlite3_stmt *st, *es;
	double ages = 0;
	long nages = 0;

	memset(o, 0, sizeof(*o));
	if (sqlite3_prepare_v2(v->db,
			       "SELECT id, category, mass_kg, expected_life_y, embodied_co2e_kg,"
			       " commissioned, decommissioned, final_event, final_t, destination"
			       " FROM asset WHERE ?1 IS NULL OR category = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(v, "asset");
	if (sqlite3_prepare_v2(v->db,
			       "SELECT event FROM event WHERE asset_id = ?1 AND t <= ?2"
			       " ORDER BY t DESC, received DESC, rowid DESC LIMIT 1",
			       -1, &es, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return fail(v, "event");
	}
	bind_text_or_null(st, 1, category);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const struct fp_category *c = fp_category_find(
			cats, (const char *)sqlite3_column_text(st, 1));
		double mass = sqlite3_column_double(st, 2), life = sqlite3_column_double(st, 3);
		bool has_te = sqlite3_column_type(st, 4) != SQLITE_NULL;
		double te = sqlite3_column_double(st, 4);
		bool has_c = sqlite3_column_type(st, 5) != SQLITE_NULL;
		bool has_d = sqlite3_column_type(st, 6) != SQLITE_NULL;
		int64_t com = sqlite3_column_int64(st, 5), dec = sqlite3_column_int64(st, 6);
		const char *fin = (const char *)sqlite3_column_text(st, 7);
		int64_t fin_t = sqlite3_column_int64(st, 8);
		const char *dest = (const char *)sqlite3_column_text(st, 9);
		const char *state_at = NULL;

		o->assets++;
		if (has_c && com >= from && com < to)
			o->commissioned_kg += mass;
		if (has_d && dec >= from && dec < to)
			o->decommissioned_kg += mass;
		if (fin && fin_t >= from && fin_t < to) {
			if (!strcmp(fin, "reused"))
				o->reused_kg += mass;
			else if (!strcmp(fin, "refurbished"))
				o->refurbished_kg += mass;
			else if (!strcmp(fin, "recycled")) {
				o->recycled_kg += mass;
				if (dest && dest[0])
					o->recycled_documented_kg += mass;
			} else if (!strcmp(fin, "disposed"))
				o->disposed_kg += mass;
		}
		if (has_c && has_te && life > 0)
			o->embodied_co2e_kg += fp_amortise(te, life * 8760, (double)com,
							   has_d ? (double)dec : 0, (double)from,
							   (double)to);
		sqlite3_bind_text(es, 1, (const char *)sqlite3_column_text(st, 0), -1,
				  SQLITE_TRANSIENT);
		sqlite3_bind_int64(es, 2, (int64_t)at);
		if (sqlite3_step(es) == SQLITE_ROW)
			state_at = (const char *)sqlite3_column_text(es, 0);
		if (state_at && (!strcmp(state_at, "in_service") || !strcmp(state_at, "spare"))) {
			o->installed_units++;
			o->installed_kg += mass;
			if (has_c && com <= at) {
				double age = (double)(at - com) / YEAR_S;
				ages += age;
				nages++;
				if (age > life)
					o->beyond_lifespan_units++;
				if (c && c->shape > 0 && life > 0) {
					/* The category's shape, scaled to the asset's own
					 * expected life (the Weibull mean). */
					double scale = life / tgamma(1 + 1 / c->shape);
					o->projected_kg_12m += mass *
						fp_retire_within(age, 1, c->shape, scale);
				}
			}
		}
		sqlite3_reset(es);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(es);
	o->mean_age_y = nages ? ages / (double)nages : 0;
	o->documented_rate = o->decommissioned_kg > 0
		? o->recycled_documented_kg / o->decommissioned_kg
		: -1;
	o->reuse_rate = o->decommissioned_kg > 0
		? (o->reused_kg + o->refurbished_kg) / o->decommissioned_kg
		: -1;
	return 0;
}

/* The running totals by category: the state at ?1 from each asset's last
 * event until then (as fp_inv_ewaste), the masses from the derived columns
 * whatever their dates.  total() is 0.0 on no row.  Masses are summed in
 * whole milligrams, exact whatever the order of the rows (to 2^53 mg), so
 * that a running total never goes down by a rounding step: an engine's
 * increase() would read that as a counter reset. */
static const char totals_sql[] =
	"SELECT category, total(st), total(CASE WHEN st THEN round(mass_kg * 1e6) END),"
	" total(CASE WHEN st AND commissioned <= ?1"
	"  AND (?1 - commissioned) / ?2 > expected_life_y THEN 1 END),"
	" total(CASE WHEN commissioned IS NOT NULL THEN round(mass_kg * 1e6) END),"
	" total(CASE WHEN decommissioned IS NOT NULL THEN round(mass_kg * 1e6) END),"
	" total(CASE final_event WHEN 'reused' THEN round(mass_kg * 1e6) END),"
	" total(CASE final_event WHEN 'refurbished' THEN round(mass_kg * 1e6) END),"
	" total(CASE final_event WHEN 'recycled' THEN round(mass_kg * 1e6) END),"
	" total(CASE WHEN final_event = 'recycled' AND destination <> '' THEN round(mass_kg * 1e6) END),"
	" total(CASE final_event WHEN 'disposed' THEN round(mass_kg * 1e6) END), count(*)"
	" FROM (SELECT category, mass_kg, expected_life_y, commissioned, decommissioned,"
	"  final_event, destination,"
	"  (SELECT event IN ('in_service', 'spare') FROM event WHERE asset_id = asset.id"
	"   AND t <= ?1 ORDER BY t DESC, received DESC, rowid DESC LIMIT 1) AS st"
	"  FROM asset ORDER BY rowid)"
	" GROUP BY category ORDER BY category";

struct cat_total {
	char *category;
	struct fp_ewaste e;
};

/* e's masses from milligrams to kg. */
static void mg_to_kg(struct fp_ewaste *e)
{
	e->installed_kg /= 1e6;
	e->commissioned_kg /= 1e6;
	e->decommissioned_kg /= 1e6;
	e->reused_kg /= 1e6;
	e->refurbished_kg /= 1e6;
	e->recycled_kg /= 1e6;
	e->recycled_documented_kg /= 1e6;
	e->disposed_kg /= 1e6;
}

static void add_totals(struct fp_ewaste *a, const struct fp_ewaste *e)
{
	a->installed_units += e->installed_units;
	a->installed_kg += e->installed_kg;
	a->beyond_lifespan_units += e->beyond_lifespan_units;
	a->commissioned_kg += e->commissioned_kg;
	a->decommissioned_kg += e->decommissioned_kg;
	a->reused_kg += e->reused_kg;
	a->refurbished_kg += e->refurbished_kg;
	a->recycled_kg += e->recycled_kg;
	a->recycled_documented_kg += e->recycled_documented_kg;
	a->disposed_kg += e->disposed_kg;
	a->assets += e->assets;
}

int fp_inv_ewaste_totals(struct fp_inventory *v, time_t at,
			 void (*fn)(void *arg, const char *category, const struct fp_ewaste *e),
			 void *arg)
{
	struct cat_total *t = NULL;
	struct fp_ewaste all;
	size_t n = 0, cap = 0, i;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(v->db, totals_sql, -1, &st, NULL) != SQLITE_OK)
		return fail(v, "asset");
	sqlite3_bind_int64(st, 1, (int64_t)at);
	sqlite3_bind_double(st, 2, YEAR_S);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct fp_ewaste *e;
		fp_xgrow((void **)&t, &cap, n + 1, sizeof(*t));
		t[n].category = fp_xstrdup((const char *)sqlite3_column_text(st, 0));
		e = &t[n++].e;
		memset(e, 0, sizeof(*e));
		e->installed_units = sqlite3_column_double(st, 1);
		e->installed_kg = sqlite3_column_double(st, 2);
		e->beyond_lifespan_units = sqlite3_column_double(st, 3);
		e->commissioned_kg = sqlite3_column_double(st, 4);
		e->decommissioned_kg = sqlite3_column_double(st, 5);
		e->reused_kg = sqlite3_column_double(st, 6);
		e->refurbished_kg = sqlite3_column_double(st, 7);
		e->recycled_kg = sqlite3_column_double(st, 8);
		e->recycled_documented_kg = sqlite3_column_double(st, 9);
		e->disposed_kg = sqlite3_column_double(st, 10);
		e->assets = (long)sqlite3_column_int64(st, 11);
		e->documented_rate = e->reuse_rate = -1;
	}
	if (rc != SQLITE_DONE)
		fail(v, "asset");
	sqlite3_finalize(st);
	memset(&all, 0, sizeof(all));
	all.documented_rate = all.reuse_rate = -1;
	for (i = 0; i < n; i++) {
		if (rc == SQLITE_DONE) {
			add_totals(&all, &t[i].e);
			mg_to_kg(&t[i].e);
			fn(arg, t[i].category, &t[i].e);
		}
		free(t[i].category);
	}
	free(t);
	if (rc != SQLITE_DONE)
		return -1;
	mg_to_kg(&all);
	fn(arg, NULL, &all);
	return 0;
}

int fp_inv_categories(struct fp_inventory *v, void (*fn)(void *arg, const char *cat), void *arg)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(v->db, "SELECT DISTINCT category FROM asset ORDER BY 1", -1, &st,
			       NULL) != SQLITE_OK)
		return fail(v, "asset");
	while (sqlite3_step(st) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

int fp_inv_pom(struct fp_inventory *v, const char *category, int y0, int n, double *pom)
{
	sqlite3_stmt *st;
	int i;

	for (i = 0; i < n; i++)
		pom[i] = 0;
	if (sqlite3_prepare_v2(v->db,
			       "SELECT commissioned, mass_kg FROM asset WHERE commissioned"
			       " IS NOT NULL AND (?1 IS NULL OR category = ?1)",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(v, "asset");
	bind_text_or_null(st, 1, category);
	while (sqlite3_step(st) == SQLITE_ROW) {
		time_t t = (time_t)sqlite3_column_int64(st, 0);
		struct tm tm;
		localtime_r(&t, &tm);
		i = tm.tm_year + 1900 - y0;
		if (i >= 0 && i < n)
			pom[i] += sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

int fp_inv_set_categories(struct fp_inventory *v, const struct fp_categories *cats)
{
	sqlite3_stmt *st;
	size_t i;

	if (exec(v, "BEGIN IMMEDIATE") < 0)
		return -1;
	if (exec(v, "DELETE FROM category") < 0)
		goto fail;
	if (sqlite3_prepare_v2(v->db, "INSERT INTO category VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1,
			       &st, NULL) != SQLITE_OK) {
		fail(v, "category");
		goto fail;
	}
	for (i = 0; i < cats->n; i++) {
		const struct fp_category *c = &cats->c[i];
		sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->desc, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->eu6, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 4, c->weight_kg);
		sqlite3_bind_double(st, 5, c->shape);
		sqlite3_bind_double(st, 6, c->scale);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			fail(v, "category");
			goto fail;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (exec(v, "COMMIT") == 0)
		return 0;
fail:
	rollback(v);
	return -1;
}

int fp_inv_get_categories(struct fp_inventory *v, struct fp_categories *cats)
{
	sqlite3_stmt *st;

	memset(cats, 0, sizeof(*cats));
	if (sqlite3_prepare_v2(v->db,
			       "SELECT key, description, eu6, weight_kg, shape, scale"
			       " FROM category",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(v, "category");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct fp_category c;
		memset(&c, 0, sizeof(c));
		snprintf(c.key, sizeof(c.key), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(c.desc, sizeof(c.desc), "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(c.eu6, sizeof(c.eu6), "%s", (const char *)sqlite3_column_text(st, 2));
		c.weight_kg = sqlite3_column_double(st, 3);
		c.shape = sqlite3_column_double(st, 4);
		c.scale = sqlite3_column_double(st, 5);
		fp_categories_set(cats, &c);
	}
	sqlite3_finalize(st);
	return 0;
}
