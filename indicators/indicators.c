/* indicators.c - the indicator engine (see indicators.h). */
#include "config.h"

#include "indicators.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "inventory.h"
#include "ledger.h"
#include "log.h"
#include "roles.h"
#include "util.h"

/* ---- the engine ---- */

struct meter {
	char *name, *device, *role;
	const struct fp_ind_meter_cfg *cfg; /* NULL for a meter found by role */
	struct fp_meter_params p;
	char *field; /* NULL until the first reading decides it */
	char *unit;  /* what the ledger stores: kwh for rate meters */
	bool has_last, dirty;
	int64_t last_t;
	double last_v;
};

struct sample {
	size_t meter;
	int64_t t_ms;
	double v;
};

struct factor_override {
	char *region, *method, *source;
	int year;
	double kg;
	int64_t t_ms;
};

/* A run of windows of one kind still to write again: their starts are in
 * [from, to), both window bounds of that kind. */
struct run {
	time_t from, to;
	time_t touched; /* when a reading last marked it (0: loaded) */
};

/* The most runs per window kind: the memory of the back-fill is fixed
 * (FP_NWINDOWS x RUNS_MAX x 16 bytes), whatever the number of readings
 * or the time they span.  A contiguous back-fill is one run per kind. */
#define RUNS_MAX 128

/* A window to write. */
struct win {
	enum fp_window w;
	time_t start, end;
};

struct fp_ind {
	const struct fp_config *cfg;
	const struct fp_indicators_cfg *ic;
	struct fp_ledger *ledger;
	fp_ind_push_fn push;
	void *push_arg;

	pthread_mutex_t lock; /* meters[] (the list, not the state), pending */
	struct meter *meters;
	size_t nmeters, mcap;
	/* the meters by name and by device: open addressing, 1 + the index
	 * of the first meter with that key, 0 for a free slot; hcap a power
	 * of 2, at most half full */
	size_t *by_name, *by_device, hcap;
	struct sample *pending;
	size_t npending, pcap;
	struct factor_override *fo;
	size_t nfo, focap;
	uint64_t factor_overrides;

	/* the inventory (NULL when off) and its pending lifecycle events */
	struct fp_inventory *inv;
	const struct fp_categories *cats;
	struct fp_inventory_cfg *own_inv_cfg; /* defaults, for the embedded config */
	struct fp_ledger_asset_ev *aev;
	size_t naev, aevcap;
	uint64_t ev_applied, ev_duplicate, ev_rejected, ev_dropped, ev_retried;
	struct fp_complain ev_complain, journal_complain, totals_complain;
	bool meters_changed;
	bool meta_pending;    /* the config snapshot is still to be written */
	int64_t next_open_ms; /* without a ledger: when to try again */
	uint64_t dropped, ignored_full;

	pthread_t thread;
	pthread_cond_t cond;
	bool running, stop;
	int64_t next_windows_ms;
	int64_t next_counters_ms;	/* the running totals, every agent.interval */
	time_t last_final[FP_NWINDOWS]; /* the last window of each kind made final */
	bool stopping;			/* fp_ind_flush_final: no settle for the back-fill */
	struct fp_complain complain, pue_warn;

	/* the closed windows that got amounts since they were last written
	 * (late or back-filled readings), per kind: sorted, disjoint runs;
	 * rw_saved: the ledger's copy is the same; backfill: announced, with
	 * bf_base the count written when it started (under lock) */
	struct run rw[FP_NWINDOWS][RUNS_MAX];
	size_t nrw[FP_NWINDOWS];
	bool rw_saved, backfill;
	uint64_t bf_base;

	/* self-metrics (engine thread, read under lock) */
	uint64_t samples, steps[FP_STEP_BACKWARDS + 1], commits, ledger_errors, windows_written;
	uint64_t bf_written;
};

#define PENDING_MAX 200000

static void meter_init(struct fp_ind *x, struct meter *m, const char *name, const char *device,
		       const char *role, const struct fp_ind_meter_cfg *mc)
{
	const struct fp_indicators_cfg *ic = x->ic;

	memset(m, 0, sizeof(*m));
	m->name = fp_xstrdup(name);
	m->device = fp_xstrdup(device);
	m->role = role ? fp_xstrdup(role) : NULL;
	m->cfg = mc;
	m->p.kind = FP_METER_COUNTER;
	m->p.max_gap_ms = ic->max_gap_ms;
	m->p.interpolate = ic->interpolate;
	if (mc) {
		m->p.modulus = mc->modulus;
		m->p.max_rate = mc->max_rate;
		if (mc->max_gap_ms >= 0)
			m->p.max_gap_ms = mc->max_gap_ms;
		if (mc->interpolate >= 0)
			m->p.interpolate = mc->interpolate;
	}
}

/* Whether the point, or its source's configuration (may_carry: the
 * fields the other messages of its subscription or profile can bring),
 * has field f. */
static bool carries(const struct fp_point *p, const char *f)
{
	size_t i;

	if (fp_point_field(p, f))
		return true;
	for (i = 0; p->may_carry && p->may_carry[i]; i++)
		if (!strcmp(p->may_carry[i], f))
			return true;
	return false;
}

/* Decides the meter's reading when it is first seen: the configured
 * field, else the role's counter field, else power_w integrated.  A
 * counter the source's configuration can carry wins over the power of a
 * message that comes first: the same data give the same energy in any
 * order (one value per topic, as OpenDTU and Shelly gen 1 publish). */
static bool meter_decide(struct meter *m, const struct fp_point *p)
{
	const struct fp_ind_meter_cfg *mc = m->cfg;
	const struct fp_role *r = fp_role_find(m->role);
	const char *field = mc && mc->field ? mc->field : NULL;
	const char *unit = mc && mc->unit ? mc->unit : NULL;
	int kind = mc ? mc->kind : -1;

	if (!field) {
		if (kind != FP_METER_RATE && r && carries(p, r->field)) {
			field = r->field;
			kind = FP_METER_COUNTER;
		} else if (kind != FP_METER_RATE && r && r->field2 && carries(p, r->field2)) {
			field = r->field2;
			kind = FP_METER_COUNTER;
		} else if (kind != FP_METER_COUNTER && carries(p, "power_w")) {
			field = "power_w";
			kind = FP_METER_RATE;
			if (!unit)
				unit = "w";
		} else {
			return false;
		}
	}
	if (kind < 0)
		kind = unit && (!strcmp(unit, "w") || !strcmp(unit, "kw")) ? FP_METER_RATE
									   : FP_METER_COUNTER;
	if (!unit)
		unit = kind == FP_METER_RATE ? "w" : r ? r->unit : "kwh";
	m->field = fp_xstrdup(field);
	free(m->unit);
	m->p.kind = (enum fp_meter_kind)kind;
	if (kind == FP_METER_RATE) {
		m->p.rate_scale = !strcmp(unit, "kw") ? 1.0 / 3600 : 1.0 / 3.6e6;
		m->unit = fp_xstrdup("kwh");
	} else {
		m->unit = fp_xstrdup(unit);
	}
	return true;
}

static void hput(struct fp_ind *x, size_t i);

static struct meter *add_meter(struct fp_ind *x, const char *name, const char *device,
			       const char *role, const struct fp_ind_meter_cfg *mc)
{
	struct meter *m;

	fp_xgrow((void **)&x->meters, &x->mcap, x->nmeters + 1, sizeof(*x->meters));
	m = &x->meters[x->nmeters];
	meter_init(x, m, name, device, role, mc);
	hput(x, x->nmeters);
	x->nmeters++;
	x->meters_changed = true;
	return m;
}

static size_t hash_str(const char *s)
{
	size_t h = 14695981039346656037ULL; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The slot of key in table t (by name or by device): its meter's, or the
 * free one where it would go. */
static size_t *hslot(const struct fp_ind *x, size_t *t, bool by_name, const char *key)
{
	size_t i = hash_str(key) & (x->hcap - 1);

	for (;; i = (i + 1) & (x->hcap - 1)) {
		const struct meter *m;
		if (!t[i])
			return &t[i];
		m = &x->meters[t[i] - 1];
		if (!strcmp(by_name ? m->name : m->device, key))
			return &t[i];
	}
}

/* Indexes meter i; the first meter of a name or a device keeps it. */
static void hset(struct fp_ind *x, size_t i)
{
	size_t *s = hslot(x, x->by_name, true, x->meters[i].name);

	if (!*s)
		*s = i + 1;
	s = hslot(x, x->by_device, false, x->meters[i].device);
	if (!*s)
		*s = i + 1;
}

/* Indexes the new meter i (== nmeters), growing the tables first. */
static void hput(struct fp_ind *x, size_t i)
{
	size_t j;

	if (2 * (i + 1) > x->hcap) {
		free(x->by_name);
		free(x->by_device);
		x->hcap = x->hcap ? 2 * x->hcap : 64;
		x->by_name = fp_xcalloc(x->hcap, sizeof(*x->by_name));
		x->by_device = fp_xcalloc(x->hcap, sizeof(*x->by_device));
		for (j = 0; j < i; j++) /* in order: the first stays first */
			hset(x, j);
	}
	hset(x, i);
}

static struct meter *find_meter(struct fp_ind *x, const char *name)
{
	size_t s = x->hcap ? *hslot(x, x->by_name, true, name) : 0;

	return s ? &x->meters[s - 1] : NULL;
}

static struct meter *find_device(struct fp_ind *x, const char *device)
{
	size_t s = x->hcap ? *hslot(x, x->by_device, false, device) : 0;

	return s ? &x->meters[s - 1] : NULL;
}

static double field_value(const struct fp_field *f, bool *ok)
{
	*ok = true;
	switch (f->type) {
	case FP_FLOAT:
		*ok = isfinite(f->v.f);
		return f->v.f;
	case FP_INT:
		return (double)f->v.i;
	case FP_UINT:
		return (double)f->v.u;
	default:
		*ok = false;
		return 0;
	}
}

/* An emission factor from MQTT (format emission-factor): applied by the
 * engine's next transaction.  Called under x->lock. */
static void observe_factor(struct fp_ind *x, const struct fp_point *p)
{
	const struct fp_field *y = fp_point_field(p, "year"), *k = fp_point_field(p, "kg_per_kwh"),
			      *src = fp_point_field(p, "source");
	const char *region = fp_point_tag_value(p, "region"),
		   *method = fp_point_tag_value(p, "method");
	struct factor_override *o;

	if (!y || y->type != FP_INT || !k || k->type != FP_FLOAT || !region || !method ||
	    x->nfo >= 1000)
		return;
	fp_xgrow((void **)&x->fo, &x->focap, x->nfo + 1, sizeof(*x->fo));
	o = &x->fo[x->nfo++];
	o->region = fp_xstrdup(region);
	o->method = fp_xstrdup(method);
	o->source = fp_xstrdup(src && src->type == FP_STRING ? src->v.s : "mqtt");
	o->year = (int)y->v.i;
	o->kg = k->v.f;
	o->t_ms = p->ts_ns / 1000000;
}

static char *str_field(const struct fp_point *p, const char *k)
{
	const struct fp_field *f = fp_point_field(p, k);
	return f && f->type == FP_STRING ? fp_xstrdup(f->v.s) : NULL;
}

static double num_field(const struct fp_point *p, const char *k)
{
	const struct fp_field *f = fp_point_field(p, k);
	return f && f->type == FP_FLOAT ? f->v.f : -1;
}

/* A lifecycle event (the MQTT collector's asset_event point): applied to
 * the inventory by the engine's next pass.  Under x->lock. */
static void observe_asset_event(struct fp_ind *x, const struct fp_point *p)
{
	const char *cat = fp_point_tag_value(p, "category");
	struct fp_ledger_asset_ev *e;

	if (!x->inv)
		return;
	if (x->naev >= 100000) {
		x->ev_dropped++;
		return;
	}
	fp_xgrow((void **)&x->aev, &x->aevcap, x->naev + 1, sizeof(*x->aev));
	e = &x->aev[x->naev++];
	e->event_id = str_field(p, "event_id");
	e->asset_id = str_field(p, "asset_id");
	e->event = fp_xstrdup(fp_point_tag_value(p, "event") ? fp_point_tag_value(p, "event") : "");
	e->category = cat && strcmp(cat, "unknown") ? fp_xstrdup(cat) : NULL;
	e->model = str_field(p, "model");
	e->destination = str_field(p, "destination");
	e->t = p->ts_ns / 1000000000LL;
	e->mass_kg = num_field(p, "mass_kg");
	e->embodied_co2e_kg = num_field(p, "embodied_co2e_kg");
	e->expected_life_y = num_field(p, "expected_life_y");
	e->seq = 0;
	/* durable before the broker gets its acknowledgement (this runs
	 * within the collector's delivery of the message) */
	if (!x->ledger)
		return;
	if (fp_ledger_journal_add(x->ledger, e) < 0)
		fp_complain(&x->journal_complain, LOG_ERR,
			    "inventory: cannot journal lifecycle event %s: %s; it is applied from "
			    "memory only",
			    e->event_id ? e->event_id : "?", fp_ledger_error(x->ledger));
	else
		fp_release(&x->journal_complain, LOG_NOTICE,
			   "inventory: lifecycle events are journalled again");
}

/* A journalled event of an earlier run: applied again (idempotent by
 * event_id).  Under x->lock. */
static void load_journalled(void *arg, struct fp_ledger_asset_ev *e)
{
	struct fp_ind *x = arg;

	fp_xgrow((void **)&x->aev, &x->aevcap, x->naev + 1, sizeof(*x->aev));
	x->aev[x->naev++] = *e;
}

static void free_asset_event(struct fp_ledger_asset_ev *a)
{
	free(a->event_id);
	free(a->asset_id);
	free(a->event);
	free(a->category);
	free(a->model);
	free(a->destination);
}

static void free_asset_events(struct fp_ledger_asset_ev *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free_asset_event(&v[i]);
	free(v);
}

static void free_overrides(struct fp_ind *x)
{
	size_t i;

	for (i = 0; i < x->nfo; i++) {
		free(x->fo[i].region);
		free(x->fo[i].method);
		free(x->fo[i].source);
	}
	x->nfo = 0;
}

void fp_ind_observe(struct fp_ind *x, const struct fp_batch *b)
{
	size_t i;

	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < b->n; i++) {
		const struct fp_point *p = &b->pts[i];
		const char *dev, *role, *chan;
		char key[256];
		struct meter *m = NULL;
		const struct fp_field *f;
		bool ok;
		double v;

		if (!strcmp(p->measurement, "emission_factor")) {
			observe_factor(x, p);
			continue;
		}
		if (!strcmp(p->measurement, "asset_event")) {
			observe_asset_event(x, p);
			continue;
		}
		if (strcmp(p->measurement, "meter") != 0 ||
		    !(dev = fp_point_tag_value(p, "device")))
			continue;
		/* A phase's reading is part of the meter's total, which comes as
		 * its own point; a channel (a switch of a multi-channel plug) is
		 * a meter of its own, "device/channel". */
		if (fp_point_tag_value(p, "phase"))
			continue;
		if ((chan = fp_point_tag_value(p, "channel"))) {
			snprintf(key, sizeof(key), "%s/%s", dev, chan);
			dev = key;
		}
		role = fp_point_tag_value(p, "role");
		m = find_device(x, dev);
		if (!m) {
			if (!fp_role_find(role))
				continue;
			if (x->nmeters >= x->ic->max_meters) {
				x->ignored_full++;
				continue;
			}
			m = add_meter(x, dev, dev, role, NULL);
		}
		if (!m->role && role && fp_role_find(role)) {
			m->role = fp_xstrdup(role);
			x->meters_changed = true;
		}
		if (!m->field) {
			if (!meter_decide(m, p))
				continue;
			x->meters_changed = true; /* its unit is known: boundaries */
		}
		if (!m->role || !(f = fp_point_field(p, m->field)))
			continue;
		v = field_value(f, &ok);
		if (!ok)
			continue;
		if (x->npending >= PENDING_MAX) {
			x->dropped++;
			continue;
		}
		fp_xgrow((void **)&x->pending, &x->pcap, x->npending + 1, sizeof(*x->pending));
		x->pending[x->npending++] = (struct sample){ (size_t)(m - x->meters),
							     p->ts_ns / 1000000, v };
	}
	pthread_mutex_unlock(&x->lock);
}

/* The boundary snapshot: explicit lists where configured, else each
 * meter's role.  Coefficients convert the meter's unit into the
 * quantity's (fuel litres into kWh, bytes into bits). */
static int write_boundaries(struct fp_ind *x)
{
	const struct fp_indicators_cfg *ic = x->ic;
	size_t i, j;
	int q;

	if (fp_ledger_clear_config(x->ledger) < 0)
		return -1;
	for (q = 0; q < FP_NQTY; q++) {
		if (ic->boundary_set[q]) {
			for (j = 0; j < ic->nboundary[q]; j++) {
				const struct fp_ind_member *mb = &ic->boundary[q][j];
				struct meter *m = find_meter(x, mb->meter);
				double f = 1;
				if (m && m->unit)
					f = fp_role_unit_factor((enum fp_qty)q,
								fp_role_find(m->role), m->unit);
				if (fp_ledger_add_boundary(x->ledger, fp_qty_names[q], mb->meter,
							   mb->sign * f) < 0)
					return -1;
			}
			continue;
		}
		for (i = 0; i < x->nmeters; i++) {
			struct meter *m = &x->meters[i];
			double coef[FP_NQTY];
			if (!m->unit || fp_role_members(m->role, m->unit, coef) < 0 || coef[q] == 0)
				continue;
			if (fp_ledger_add_boundary(x->ledger, fp_qty_names[q], m->name, coef[q]) <
			    0)
				return -1;
		}
	}
	for (i = 0; i < ic->nzones; i++) {
		const struct fp_ind_zone_cfg *z = &ic->zones[i];
		for (j = 0; j < z->nit + z->ninfra; j++) {
			const struct fp_ind_member *mb = j < z->nit ? &z->it[j]
								    : &z->infra[j - z->nit];
			struct meter *m = find_meter(x, mb->meter);
			double f = m && m->unit
				? fp_role_unit_factor(FP_Q_IT, fp_role_find(m->role), m->unit)
				: 1;
			if (fp_ledger_add_zone(x->ledger, z->name, j < z->nit ? "it" : "infra",
					       mb->meter, mb->sign * f) < 0)
				return -1;
		}
	}
	for (i = 0; i < ic->nfactors; i++) {
		const struct fp_ind_factor_cfg *f = &ic->factors[i];
		if (fp_ledger_add_factor(x->ledger, f->region, f->year, f->method, f->kg_per_kwh,
					 f->source) < 0)
			return -1;
	}
	for (i = 0; i < ic->ncerts; i++) {
		const struct fp_ind_cert_cfg *c = &ic->certs[i];
		int f = (int)c->from, t = (int)c->to;
		time_t a = fp_local_date(f / 10000, f / 100 % 100, f % 100);
		time_t b = fp_local_date(t / 10000, t / 100 % 100, t % 100 + 0);
		time_t bs, be;
		/* inclusive: up to the end of the 'to' day */
		fp_window_of(FP_WIN_DAY, b, &bs, &be);
		if (fp_ledger_add_certificate(x->ledger, c->type, a, be, c->kwh) < 0)
			return -1;
	}
	return 0;
}

static void record_meter_state(struct fp_ind *x)
{
	size_t i;

	for (i = 0; i < x->nmeters; i++) {
		struct meter *m = &x->meters[i];
		double v;
		int64_t t;
		m->has_last = fp_ledger_meter_get(x->ledger, m->name, &t, &v) == 1;
		if (m->has_last) {
			m->last_t = t;
			m->last_v = v;
		}
		m->dirty = false;
	}
}

/* ---- windows to write again ---- */

/* Removes run i of rs. */
static void runs_del(struct run *rs, size_t *n, size_t i)
{
	memmove(&rs[i], &rs[i + 1], (*n - i - 1) * sizeof(*rs));
	(*n)--;
}

/* Adds the windows [s, e) to the runs rs: true when that adds any.  With
 * RUNS_MAX runs already, the closest two merge (the windows of the gap
 * between them are then written again too: the values they have). */
static time_t tmax(time_t a, time_t b)
{
	return a > b ? a : b;
}

/* Adds [s, e) to the runs; a run's touched is the latest of what it
 * holds.  Returns whether the windows to write changed. */
static bool runs_add(struct run *rs, size_t *n, time_t s, time_t e, time_t touched)
{
	size_t i = 0, j, k, best = 0;
	time_t gap = 0;

	while (i < *n && rs[i].to < s)
		i++;
	if (i < *n && rs[i].from <= e) { /* overlaps or touches run i */
		rs[i].touched = tmax(rs[i].touched, touched);
		if (rs[i].from <= s && rs[i].to >= e)
			return false;
		rs[i].from = s < rs[i].from ? s : rs[i].from;
		rs[i].to = e > rs[i].to ? e : rs[i].to;
		for (j = i + 1; j < *n && rs[j].from <= rs[i].to;) {
			rs[i].to = rs[j].to > rs[i].to ? rs[j].to : rs[i].to;
			rs[i].touched = tmax(rs[i].touched, rs[j].touched);
			runs_del(rs, n, j);
		}
		return true;
	}
	if (*n == RUNS_MAX) {
		for (k = 0; k + 1 < *n; k++)
			if (k == 0 || rs[k + 1].from - rs[k].to < gap) {
				gap = rs[k + 1].from - rs[k].to;
				best = k;
			}
		if (i > 0 && s - rs[i - 1].to <= gap) {
			rs[i - 1].to = e;
			rs[i - 1].touched = tmax(rs[i - 1].touched, touched);
			return true;
		}
		if (i < *n && rs[i].from - e <= gap) {
			rs[i].from = s;
			rs[i].touched = tmax(rs[i].touched, touched);
			return true;
		}
		rs[best].to = rs[best + 1].to;
		rs[best].touched = tmax(rs[best].touched, rs[best + 1].touched);
		runs_del(rs, n, best + 1);
		if (best < i)
			i--;
	}
	memmove(&rs[i + 1], &rs[i], (*n - i) * sizeof(*rs));
	rs[i] = (struct run){ s, e, touched };
	(*n)++;
	return true;
}

/* Marks the closed windows of every kind that [t0, t1] (seconds) touches;
 * the open ones are written every interval anyway, later ones when they
 * open. */
static void mark_time(struct fp_ind *x, time_t t0, time_t t1)
{
	time_t now = time(NULL), hs, he;
	int w;

	fp_window_of(FP_WIN_HOUR, now, &hs, &he);
	if (t0 >= hs)
		return; /* the open hour: in the open window of every kind */
	for (w = 0; w < FP_NWINDOWS; w++) {
		time_t s, e, ls, le, os, oe;
		fp_window_of((enum fp_window)w, t0, &s, &e);
		fp_window_of((enum fp_window)w, t1 > t0 ? t1 : t0, &ls, &le);
		fp_window_of((enum fp_window)w, now, &os, &oe);
		if (le > os)
			le = os;
		if (s < le && runs_add(x->rw[w], &x->nrw[w], s, le, now))
			x->rw_saved = false;
	}
}

/* Marks the windows [t0_ms, t1_ms] (an amount spread over it) touches. */
static void mark_span(struct fp_ind *x, int64_t t0_ms, int64_t t1_ms)
{
	/* an amount up to a window's end is not in the next one */
	if (t1_ms > t0_ms)
		t1_ms--;
	mark_time(x, (time_t)(t0_ms / 1000), (time_t)(t1_ms / 1000));
}

static bool none_pending(const struct fp_ind *x)
{
	int w;

	for (w = 0; w < FP_NWINDOWS; w++)
		if (x->nrw[w])
			return false;
	return true;
}

/* Takes the oldest window still to write again (ties: the longest kind
 * first); false when there is none. */
static bool take_window(struct fp_ind *x, struct win *v, time_t now)
{
	/* at a stop nothing more arrives in this run: everything is due */
	time_t settled = x->stopping ? now : now - (time_t)(x->ic->settle_ms / 1000);
	int w, best = -1;
	size_t i, bi = 0;
	struct run *r;

	/* a run that got readings within indicators.settle waits: the rest
	 * of a burst of late readings is probably on its way, and its
	 * windows' first write would be final without it */
	for (w = FP_NWINDOWS - 1; w >= 0; w--)
		for (i = 0; i < x->nrw[w]; i++)
			if (x->rw[w][i].touched <= settled &&
			    (best < 0 || x->rw[w][i].from < x->rw[best][bi].from)) {
				best = w;
				bi = i;
				break;
			}
	if (best < 0)
		return false;
	r = &x->rw[best][bi];
	v->w = (enum fp_window)best;
	fp_window_of(v->w, r->from, &v->start, &v->end);
	r->from = v->end;
	if (r->from >= r->to)
		runs_del(x->rw[best], &x->nrw[best], bi);
	x->rw_saved = false;
	return true;
}

/* How many windows are still to write again (hours and days by their
 * nominal length: a DST day counts as one). */
static uint64_t count_pending(const struct fp_ind *x)
{
	uint64_t n = 0;
	size_t i;
	int w;

	for (w = 0; w < FP_NWINDOWS; w++)
		for (i = 0; i < x->nrw[w]; i++) {
			const struct run *r = &x->rw[w][i];
			time_t t = r->from, s, e;
			if (w == FP_WIN_HOUR || w == FP_WIN_DAY) {
				time_t len = w == FP_WIN_HOUR ? 3600 : 86400;
				n += (uint64_t)((r->to - r->from + len / 2) / len);
				continue;
			}
			for (; t < r->to; t = e, n++)
				fp_window_of((enum fp_window)w, t, &s, &e);
		}
	return n;
}

/* Replaces the ledger's copy of the windows to write again (in the open
 * transaction). */
static int save_pending(struct fp_ind *x)
{
	size_t i;
	int w;

	if (fp_ledger_rewrite_clear(x->ledger) < 0)
		return -1;
	for (w = 0; w < FP_NWINDOWS; w++)
		for (i = 0; i < x->nrw[w]; i++)
			if (fp_ledger_rewrite_add(x->ledger, (enum fp_window)w, x->rw[w][i].from,
						  x->rw[w][i].to) < 0)
				return -1;
	return 0;
}

static void load_run(void *arg, enum fp_window w, time_t from, time_t to)
{
	struct fp_ind *x = arg;

	if (from < to)
		runs_add(x->rw[w], &x->nrw[w], from, to, 0);
}

/* The windows that closed while the agent was not running (or before the
 * ledger kept final marks) with amounts, after the last one made final:
 * written again, paced like a back-fill, so that every closed window has
 * its final write.  The previous window of each kind is written anyway. */
static void add_unfinal(struct fp_ind *x, time_t now)
{
	time_t first, last, mark, s, e, ps, pe, ls, le;
	int w, rc;

	rc = fp_ledger_hours_span(x->ledger, &first, &last);
	for (w = 0; w < FP_NWINDOWS && rc > 0; w++) {
		int m = fp_ledger_final_last(x->ledger, w, &mark);
		if (m < 0) {
			rc = -1;
			break;
		}
		fp_window_of((enum fp_window)w, m ? mark : first, &s, &e);
		if (m) /* the window after the last final one */
			s = e;
		fp_window_of((enum fp_window)w, now, &ps, &pe);
		fp_window_of((enum fp_window)w, ps - 1, &ps, &pe);
		fp_window_of((enum fp_window)w, last, &ls, &le);
		if (le < ps)
			ps = le;
		if (s < ps && runs_add(x->rw[w], &x->nrw[w], s, ps, 0))
			x->rw_saved = false;
	}
	if (rc < 0)
		fp_log(LOG_ERR,
		       "indicators: ledger: %s; the windows closed while the agent was "
		       "stopped may not get their final write",
		       fp_ledger_error(x->ledger));
}

/* Applies the pending lifecycle events to the inventory, each in its own
 * transaction (idempotent by event_id), in order; each one applied or
 * rejected leaves the journal.  An inventory that fails (busy, locked by
 * another process) keeps that event and the later ones for the next pass:
 * nothing is lost.  Under x->lock. */
static void apply_asset_events(struct fp_ind *x)
{
	size_t i, done;
	char why[300];

	if (!x->naev)
		return;
	for (i = 0; i < x->naev; i++) {
		struct fp_ledger_asset_ev *a = &x->aev[i];
		struct fp_inv_event e = {
			a->event_id,	     a->asset_id,	a->event, a->category, a->model,
			a->destination,	     x->cfg->site,	"mqtt",	  a->t,	       a->mass_kg,
			a->embodied_co2e_kg, a->expected_life_y
		};
		enum fp_inv_result r = fp_inv_apply(x->inv, x->cats, &e, why, sizeof(why));
		if (r == FP_INV_ERROR) {
			x->ev_retried++;
			fp_complain(&x->ev_complain, LOG_ERR,
				    "inventory: %s; %zu lifecycle events kept, applied when it "
				    "answers",
				    why, x->naev - i);
			break;
		}
		fp_release(&x->ev_complain, LOG_NOTICE,
			   "inventory: lifecycle events applied again");
		if (r == FP_INV_APPLIED) {
			x->ev_applied++;
			mark_time(x, (time_t)a->t, (time_t)a->t);
		} else if (r == FP_INV_DUPLICATE) {
			x->ev_duplicate++;
			FP_LOG_LIMITED("inventory: duplicate events", LOG_DEBUG,
				       "inventory: event %s is a duplicate: ignored", a->event_id);
		} else {
			x->ev_rejected++;
			FP_LOG_LIMITED("inventory: rejected events", LOG_WARNING,
				       "inventory: event %s (%s of asset %s) rejected: %s",
				       a->event_id ? a->event_id : "?", a->event,
				       a->asset_id ? a->asset_id : "?", why);
		}
		if (a->seq && x->ledger && fp_ledger_journal_del(x->ledger, a->seq) < 0)
			fp_complain(&x->journal_complain, LOG_ERR, "inventory: journal: %s",
				    fp_ledger_error(x->ledger));
	}
	done = i;
	for (i = 0; i < done; i++)
		free_asset_event(&x->aev[i]);
	memmove(x->aev, x->aev + done, (x->naev - done) * sizeof(*x->aev));
	x->naev -= done;
	if (!x->naev) {
		free(x->aev);
		x->aev = NULL;
		x->aevcap = 0;
	}
}

/* The config snapshot in the ledger (what the report says it was built
 * with). */
static int write_meta(struct fp_ind *x)
{
	char cat[8];
	int rc;

	snprintf(cat, sizeof(cat), "%d", x->ic->pue_category);
	rc = fp_ledger_set_meta(x->ledger, "site", x->cfg->site);
	rc |= fp_ledger_set_meta(x->ledger, "timezone", x->cfg->timezone);
	rc |= fp_ledger_set_meta(x->ledger, "pue_category", cat);
	rc |= fp_ledger_set_meta(x->ledger, "region", x->ic->region ? x->ic->region : "");
	return rc ? -1 : 0;
}

/* Counts one reading into the ledger (in the open transaction): 0, or
 * -1 when the ledger failed (the meter moves on all the same; the caller
 * rolls back and restores the meters). */
static int count_sample(struct fp_ind *x, const struct sample *s)
{
	struct meter *m = &x->meters[s->meter];
	struct fp_step st;
	const char *kind;
	int rc = 0;

	x->samples++;
	if (!m->has_last) {
		m->has_last = m->dirty = true;
		m->last_t = s->t_ms;
		m->last_v = s->v;
		x->steps[FP_STEP_FIRST]++;
		return 0;
	}
	st = fp_meter_step(&m->p, m->last_t, m->last_v, s->t_ms, s->v);
	x->steps[st.kind]++;
	kind = fp_step_name(st.kind);
	switch (st.kind) {
	case FP_STEP_BACKWARDS:
		return 0; /* older than what is counted: ignored */
	case FP_STEP_MEASURED:
		rc = fp_ledger_spread(x->ledger, m->name, m->last_t, s->t_ms, st.amount, false);
		break;
	case FP_STEP_WRAPPED:
		rc = fp_ledger_spread(x->ledger, m->name, m->last_t, s->t_ms, st.amount, false);
		if (rc == 0)
			rc = fp_ledger_event(x->ledger, s->t_ms, m->name, kind, st.amount,
					     m->last_t);
		break;
	case FP_STEP_ESTIMATED:
		rc = fp_ledger_spread(x->ledger, m->name, m->last_t, s->t_ms, st.amount, true);
		if (rc == 0)
			rc = fp_ledger_event(x->ledger, s->t_ms, m->name, kind, st.amount,
					     m->last_t);
		break;
	case FP_STEP_GAP:
		rc = fp_ledger_event(x->ledger, s->t_ms, m->name, kind, st.unattributed, m->last_t);
		FP_LOG_LIMITED("indicators: meter gaps", LOG_INFO,
			       "indicators: meter %s: no reading for %.0f s (max_gap %.0f s): "
			       "that time counts as missing",
			       m->name, (double)(s->t_ms - m->last_t) / 1000,
			       (double)m->p.max_gap_ms / 1000);
		break;
	case FP_STEP_RESET:
		rc = fp_ledger_event(x->ledger, s->t_ms, m->name, kind, s->v - m->last_v,
				     m->last_t);
		FP_LOG_LIMITED("indicators: meter resets", LOG_WARNING,
			       "indicators: meter %s went from %.10g to %.10g: a reset or a "
			       "new meter; counting restarts from the new value",
			       m->name, m->last_v, s->v);
		break;
	default:
		break;
	}
	if (st.kind == FP_STEP_MEASURED || st.kind == FP_STEP_WRAPPED ||
	    st.kind == FP_STEP_ESTIMATED)
		mark_span(x, m->last_t, s->t_ms);
	m->last_t = s->t_ms;
	m->last_v = s->v;
	m->dirty = true;
	return rc;
}

/* Turns the pending readings into ledger rows, in one transaction. */
static void process(struct fp_ind *x)
{
	struct sample *batch;
	size_t n, i;
	bool changed;
	int rc = 0;

	/* Under the lock throughout: the observers wait at most for one
	 * commit, and the meters never change under the engine's feet. */
	pthread_mutex_lock(&x->lock);
	batch = x->pending;
	n = x->npending;
	x->pending = NULL;
	x->npending = x->pcap = 0;
	changed = x->meters_changed;
	x->meters_changed = false;
	apply_asset_events(x);
	if (!n && !changed && !x->nfo && !x->meta_pending) {
		pthread_mutex_unlock(&x->lock);
		free(batch);
		return;
	}
	if (fp_ledger_begin(x->ledger) < 0) {
		rc = -1;
		goto out;
	}
	if (x->meta_pending)
		rc = write_meta(x);
	for (i = 0; i < n && rc == 0; i++)
		rc = count_sample(x, &batch[i]);
	for (i = 0; i < x->nfo && rc == 0; i++) {
		const struct factor_override *o = &x->fo[i];
		rc = fp_ledger_override_factor(x->ledger, o->region, o->year, o->method, o->kg,
					       o->source, o->t_ms);
		if (rc == 0) {
			x->factor_overrides++;
			FP_LOG_LIMITED("indicators: emission factor overrides", LOG_NOTICE,
				       "indicators: emission factor %s %d %s set to %.6g "
				       "kgCO2e/kWh over MQTT (%s)",
				       o->region, o->year, o->method, o->kg, o->source);
		}
	}
	for (i = 0; i < x->nmeters && rc == 0; i++) {
		struct meter *m = &x->meters[i];
		if (m->dirty && m->unit)
			rc = fp_ledger_meter_put(x->ledger, m->name, m->role ? m->role : "",
						 m->unit, m->last_t, m->last_v);
	}
	if (rc == 0 && changed)
		rc = write_boundaries(x);
	if (rc == 0 && !x->rw_saved)
		rc = save_pending(x);
	if (rc == 0)
		rc = fp_ledger_commit(x->ledger);
out:
	if (rc < 0) {
		/* The ledger is the truth: back to its last committed readings
		 * (cumulative registers then lose nothing at all). */
		x->ledger_errors++;
		fp_complain(&x->complain, LOG_ERR,
			    "indicators: ledger: %s; %zu readings not counted",
			    fp_ledger_error(x->ledger), n);
		fp_ledger_rollback(x->ledger);
		record_meter_state(x);
		x->meters_changed |= changed;
	} else {
		free_overrides(x);
		x->meta_pending = false;
		x->rw_saved = true;
		x->commits++;
		for (i = 0; i < x->nmeters; i++)
			x->meters[i].dirty = false;
		fp_release(&x->complain, LOG_NOTICE, "indicators: ledger writes work again");
	}
	pthread_mutex_unlock(&x->lock);
	free(batch);
}

/* A meter of an earlier run (ledger): kept, so that its history stays in
 * the role sums; a configured meter learns the unit it had. */
static void known_meter(void *arg, const char *name, const char *role, const char *unit)
{
	struct fp_ind *x = arg;
	struct meter *m = find_meter(x, name);

	if (!m) {
		if (!fp_role_find(role) || x->nmeters >= x->ic->max_meters)
			return;
		m = add_meter(x, name, name, role, NULL);
	}
	if (!m->role && fp_role_find(role))
		m->role = fp_xstrdup(role);
	if (!m->unit && unit && *unit)
		m->unit = fp_xstrdup(unit);
}

/* ---- windows -> points ---- */

static void add_ratio(struct fp_point *p, const char *key, const struct fp_ratio *r)
{
	if (r->defined)
		fp_point_float(p, key, r->value);
}

struct zone_ctx {
	struct fp_batch *b;
	const char *site, *window;
	int64_t ts;
};

static void zone_point(void *arg, const char *zone, struct fp_ratio r)
{
	struct zone_ctx *z = arg;
	struct fp_point *p;

	if (!r.defined)
		return;
	p = fp_batch_add(z->b, "efficiency", z->ts);
	fp_point_tag(p, "site", z->site);
	fp_point_tag(p, "window", z->window);
	fp_point_tag(p, "zone", zone);
	fp_point_float(p, "ppue", r.value);
	fp_point_float(p, "coverage", r.coverage);
}

/* The field of a quantity's amount: its unit. */
static const char *qty_field(int q)
{
	return q == FP_Q_WATER ? "m3" : q == FP_Q_DATA_VOLUME ? "bit" : "kwh";
}

/* Whether a quantity has anything measured or estimated yet: before, its
 * amount is undefined, not 0, and is not written (InfluxDB would keep a 0
 * written early next to the later fields of the same row). */
static bool measured(const struct fp_qsum *q)
{
	return q->present && (q->coverage > 0 || q->value != 0 || q->estimated != 0);
}

static int window_points(struct fp_ind *x, struct fp_batch *b, enum fp_window w, time_t ws,
			 time_t we, time_t now)
{
	const char *site = x->cfg->site, *wn = fp_window_names[w];
	struct fp_window_sums s;
	struct fp_kpis k;
	struct fp_point *p;
	char cat[8];
	int64_t ts = (int64_t)ws * 1000000000LL;
	struct zone_ctx zc = { b, site, wn, ts };
	int q;

	if (fp_ledger_kpis(x->ledger, ws, we, now, &s, &k) < 0)
		return -1;
	for (q = 0; q < FP_NQTY; q++) {
		if (!measured(&s.q[q]))
			continue;
		p = fp_batch_add(b, "energy", ts);
		fp_point_tag(p, "site", site);
		fp_point_tag(p, "role", fp_qty_names[q]);
		fp_point_tag(p, "window", wn);
		fp_point_float(p, qty_field(q), s.q[q].value);
		fp_point_float(p, "coverage", s.q[q].coverage);
		fp_point_bool(p, "estimated", s.q[q].estimated != 0);
	}
	snprintf(cat, sizeof(cat), "%d", x->ic->pue_category);
	p = fp_batch_add(b, "efficiency", ts);
	fp_point_tag(p, "site", site);
	fp_point_tag(p, "window", wn);
	fp_point_tag(p, "category", cat);
	add_ratio(p, "pue", &k.pue);
	add_ratio(p, "dcie", &k.dcie);
	add_ratio(p, "ref", &k.ref);
	add_ratio(p, "erf", &k.erf);
	add_ratio(p, "ere", &k.ere);
	add_ratio(p, "cer", &k.cer);
	add_ratio(p, "cue", &k.cue_location);
	add_ratio(p, "cue_market", &k.cue_market);
	add_ratio(p, "wue", &k.wue_l_per_kwh);
	if (k.co2e_location_defined)
		fp_point_float(p, "co2e_location_kg", k.co2e_location_kg);
	if (k.co2e_market_defined)
		fp_point_float(p, "co2e_market_kg", k.co2e_market_kg);
	if (measured(&s.q[FP_Q_FACILITY]))
		fp_point_float(p, "e_dc_kwh", s.q[FP_Q_FACILITY].value);
	if (measured(&s.q[FP_Q_IT]))
		fp_point_float(p, "e_it_kwh", s.q[FP_Q_IT].value);
	if (k.pue.defined) {
		/* what the PUE leaves out: energy outside the common part */
		fp_point_float(p, "e_dc_unmatched_kwh", s.q[FP_Q_FACILITY].value - k.pue.num);
		fp_point_float(p, "e_it_unmatched_kwh", s.q[FP_Q_IT].value - k.pue.den);
	}
	if (p->nfields)
		fp_point_float(p, "coverage", k.coverage);
	else
		fp_batch_drop_last(b);
	if (k.pue.defined && k.pue.value < 1) {
		char at[32];
		fp_complain(&x->pue_warn, LOG_WARNING,
			    "indicators: PUE %.4f < 1 for the %s window starting %s: E_DC %.3f kWh "
			    "< E_IT %.3f kWh, a metering or boundary error (not clamped)",
			    k.pue.value, wn, fp_time_fmt_rfc3339(at, sizeof(at), ws), k.pue.num,
			    k.pue.den);
	}
	if (k.see.defined || k.ee_bit_per_j.defined) {
		p = fp_batch_add(b, "telecom", ts);
		fp_point_tag(p, "site", site);
		fp_point_tag(p, "window", wn);
		add_ratio(p, "see", &k.see);
		add_ratio(p, "ee_bit_per_j", &k.ee_bit_per_j);
		fp_point_float(p, "e_site_kwh", s.q[FP_Q_TELECOM_SITE].value);
		if (measured(&s.q[FP_Q_TELECOM_EQUIPMENT]))
			fp_point_float(p, "e_equipment_kwh", s.q[FP_Q_TELECOM_EQUIPMENT].value);
		fp_point_float(
			p, "coverage",
			fmin(s.q[FP_Q_TELECOM_SITE].coverage, k.see.defined ? k.see.coverage : 1));
	}
	return fp_ledger_zones(x->ledger, ws, we, now, zone_point, &zc);
}

struct ew_ctx {
	struct fp_ind *x;
	struct fp_batch *b;
	const char *window;
	time_t from, to, at;
	int64_t ts;
	int rc;
};

static void ewaste_point(struct ew_ctx *c, const char *category)
{
	struct fp_ewaste e;
	struct fp_point *p;

	if (fp_inv_ewaste(c->x->inv, c->x->cats, category, c->from, c->to, c->at, &e) < 0) {
		c->rc = -1;
		return;
	}
	p = fp_batch_add(c->b, "ewaste", c->ts);
	fp_point_tag(p, "site", c->x->cfg->site);
	fp_point_tag(p, "category", category ? category : "all");
	fp_point_tag(p, "window", c->window);
	fp_point_float(p, "installed_units", e.installed_units);
	fp_point_float(p, "installed_kg", e.installed_kg);
	fp_point_float(p, "commissioned_kg", e.commissioned_kg);
	fp_point_float(p, "decommissioned_kg", e.decommissioned_kg);
	fp_point_float(p, "reused_kg", e.reused_kg);
	fp_point_float(p, "refurbished_kg", e.refurbished_kg);
	fp_point_float(p, "recycled_kg", e.recycled_kg);
	fp_point_float(p, "recycled_documented_kg", e.recycled_documented_kg);
	fp_point_float(p, "disposed_kg", e.disposed_kg);
	if (e.documented_rate >= 0)
		fp_point_float(p, "documented_rate", e.documented_rate);
	if (e.reuse_rate >= 0)
		fp_point_float(p, "reuse_rate", e.reuse_rate);
	fp_point_float(p, "beyond_lifespan_units", e.beyond_lifespan_units);
	fp_point_float(p, "mean_age_y", e.mean_age_y);
	fp_point_float(p, "projected_kg_12m", e.projected_kg_12m);
	fp_point_float(p, "embodied_co2e_kg", e.embodied_co2e_kg);
	/* A year: the cohort model of that year's e-waste generated
	 * (the UNU/EU mid-year pdf method), from the commissioning history. */
	if (!strcmp(c->window, "1y")) {
		double pom[300], m = 0;
		struct tm tm;
		time_t t = c->from;
		int y, n;
		size_t i;
		localtime_r(&t, &tm);
		y = tm.tm_year + 1900;
		n = y - 1990 + 1;
		for (i = 0; n > 0 && n <= 300 && i < c->x->cats->n; i++) {
			const struct fp_category *k = &c->x->cats->c[i];
			if ((category && strcmp(category, k->key)) ||
			    fp_inv_pom(c->x->inv, k->key, 1990, n, pom) < 0)
				continue;
			m += fp_ewg_midyear(pom, 1990, n, y, k->shape, k->scale);
		}
		fp_point_float(p, "ewg_model_kg", m);
	}
}

static void ewaste_cat(void *arg, const char *cat)
{
	ewaste_point(arg, cat);
}

/* The ewaste points of a month or year window: each category and "all". */
static int ewaste_points(struct fp_ind *x, struct fp_batch *b, enum fp_window w, time_t ws,
			 time_t we, time_t now)
{
	struct ew_ctx c = {
		x, b, fp_window_names[w], ws, we, we < now ? we : now, (int64_t)ws * 1000000000LL, 0
	};

	if (!x->inv || (w != FP_WIN_MONTH && w != FP_WIN_YEAR))
		return 0;
	if (fp_inv_categories(x->inv, ewaste_cat, &c) < 0)
		return -1;
	ewaste_point(&c, NULL);
	return c.rc;
}

/* What a write of window v is (point.h): running while it is open or
 * settling, then final once (recorded in the ledger), a correction after
 * that.  -1 when the ledger failed. */
static int window_kind(struct fp_ind *x, const struct win *v, time_t now)
{
	int rc;

	if (now < v->end + (time_t)(x->ic->settle_ms / 1000))
		return FP_PT_RUNNING;
	rc = fp_ledger_final_mark(x->ledger, v->w, v->start);
	if (rc < 0)
		return -1;
	return rc ? FP_PT_FINAL : FP_PT_CORRECTION;
}

static int write_window(struct fp_ind *x, struct fp_batch *b, const struct win *v, time_t now)
{
	size_t first = b->n, i;
	int kind;

	if (window_points(x, b, v->w, v->start, v->end, v->end < now ? v->end : now) < 0 ||
	    ewaste_points(x, b, v->w, v->start, v->end, now) < 0)
		return -1;
	if (b->n == first) {
		/* nothing to write: not final yet (a back-fill may come) */
		if (now >= v->end + (time_t)(x->ic->settle_ms / 1000) &&
		    v->start > x->last_final[v->w])
			x->last_final[v->w] = v->start;
		return 0;
	}
	kind = window_kind(x, v, now);
	if (kind < 0)
		return -1;
	for (i = first; i < b->n; i++) {
		b->pts[i].kind = (enum fp_point_kind)kind;
		if (kind != FP_PT_RUNNING)
			fp_point_bool(&b->pts[i], "final", true);
	}
	if (kind != FP_PT_RUNNING && v->start > x->last_final[v->w])
		x->last_final[v->w] = v->start;
	return 0;
}

static bool win_in(const struct win *v, size_t n, const struct win *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].w == w->w && v[i].start == w->start)
			return true;
	return false;
}

/* Says once that a back-fill longer than one write starts, and when it
 * is done.  Under x->lock. */
static void backfill_log(struct fp_ind *x)
{
	uint64_t n;

	if (!x->backfill && (n = count_pending(x)) > FP_IND_BACKFILL_WINDOWS) {
		x->backfill = true;
		x->bf_base = x->bf_written;
		fp_log(LOG_NOTICE,
		       "indicators: back-fill: %llu windows to write again for late readings, "
		       "%d every %lld s, oldest first",
		       (unsigned long long)n, FP_IND_BACKFILL_WINDOWS,
		       (long long)(x->ic->interval_ms / 1000));
	} else if (x->backfill && none_pending(x)) {
		x->backfill = false;
		fp_log(LOG_NOTICE, "indicators: back-fill done: %llu windows written again",
		       (unsigned long long)(x->bf_written - x->bf_base));
	}
}

/* Up to FP_IND_BACKFILL_WINDOWS of the windows to write again, oldest
 * first, FP_IND_BACKFILL_BATCH to a batch and the lock taken per batch
 * (those of done[] were just written); then the ledger's copy of what is
 * left, in a transaction of its own. */
static void write_backfill(struct fp_ind *x, const struct win *done, size_t ndone, time_t now)
{
	int budget = FP_IND_BACKFILL_WINDOWS, k;
	bool more = true, failed = false;
	struct fp_batch b;
	struct win v;

	fp_batch_init(&b);
	pthread_mutex_lock(&x->lock);
	backfill_log(x);
	while (budget > 0 && more && !failed) {
		/* one transaction a batch for the final marks */
		bool txn = fp_ledger_begin(x->ledger) == 0;
		for (k = 0; k < FP_IND_BACKFILL_BATCH && budget > 0; k++, budget--) {
			if (!(more = take_window(x, &v, now)))
				break;
			if (!win_in(done, ndone, &v) && write_window(x, &b, &v, now) < 0) {
				/* the ledger failed (logged): again next time */
				runs_add(x->rw[v.w], &x->nrw[v.w], v.start, v.end, 0);
				failed = true;
				break;
			}
			x->bf_written++;
		}
		if (txn && failed)
			fp_ledger_rollback(x->ledger);
		else if (txn && fp_ledger_commit(x->ledger) < 0)
			fp_ledger_rollback(x->ledger);
		pthread_mutex_unlock(&x->lock);
		if (b.n)
			x->push(x->push_arg, &b);
		fp_batch_reset(&b);
		pthread_mutex_lock(&x->lock);
	}
	if (!x->rw_saved && x->ledger) {
		if (fp_ledger_begin(x->ledger) == 0 && save_pending(x) == 0 &&
		    fp_ledger_commit(x->ledger) == 0) {
			x->rw_saved = true;
		} else {
			x->ledger_errors++;
			fp_complain(&x->complain, LOG_ERR, "indicators: ledger: %s",
				    fp_ledger_error(x->ledger));
			fp_ledger_rollback(x->ledger);
		}
	}
	backfill_log(x);
	pthread_mutex_unlock(&x->lock);
}

/* Whether the window of kind w starting at ws had its final write (kept
 * in memory for the previous window of each kind; the ledger knows). */
static bool final_done(struct fp_ind *x, enum fp_window w, time_t ws)
{
	return x->last_final[w] == ws;
}

/* The open windows (running values) and the previous ones while they
 * settle and for their final write, every time; then, paced,
 * the windows that got late or back-filled readings (such as MQTT messages
 * with their own timestamps). */
static void write_windows(struct fp_ind *x)
{
	struct fp_batch b;
	time_t now = time(NULL), settle = (time_t)(x->ic->settle_ms / 1000);
	struct win v[2 * FP_NWINDOWS];
	size_t n = 0, i;
	int w;

	fp_batch_init(&b);
	pthread_mutex_lock(&x->lock);
	for (w = 0; w < FP_NWINDOWS; w++) {
		time_t ws, we;
		fp_window_of((enum fp_window)w, now, &ws, &we);
		v[n++] = (struct win){ (enum fp_window)w, ws, we };
		/* the previous window: settling (late readings of its last
		 * minutes), then its final write, once */
		fp_window_of((enum fp_window)w, ws - 1, &ws, &we);
		if (now - we < settle || !final_done(x, (enum fp_window)w, ws))
			v[n++] = (struct win){ (enum fp_window)w, ws, we };
	}
	for (i = 0; i < n; i++)
		if (write_window(x, &b, &v[i], now) < 0)
			break;
	x->windows_written++;
	pthread_mutex_unlock(&x->lock);
	if (b.n)
		x->push(x->push_arg, &b);
	fp_batch_reset(&b);
	write_backfill(x, v, n, now);
}

static void write_counters(struct fp_ind *x);

void fp_ind_flush_final(struct fp_ind *x)
{
	if (!x)
		return;
	x->stopping = true;
	fp_ind_flush(x, true);
}

void fp_ind_flush(struct fp_ind *x, bool windows)
{
	if (!x)
		return;
	process(x);
	if (windows && x->ledger) { /* without a ledger there is nothing to write */
		write_windows(x);
		write_counters(x);
	}
}

/* ---- running totals -> points ---- */

struct counter_ctx {
	struct fp_batch *b;
	const char *site;
	int64_t ts;
	struct fp_ledger *ledger;
	bool quiet; /* an upgrade: the categories were written before */
	int failed; /* fp_ledger_announce said -1 */
};

/* How many samples the running total of series kind:name gets now: 2 when
 * it is new to the engine (a 0 one ms before its value, so that increase()
 * counts its first amount; unless quiet), else 1.  Recorded in the ledger. */
static int samples(struct counter_ctx *c, const char *kind, const char *name, bool quiet)
{
	char series[320];
	int rc;

	snprintf(series, sizeof(series), "%s:%s", kind, name);
	rc = fp_ledger_announce(c->ledger, series);
	if (rc < 0)
		c->failed = 1;
	return rc == 1 && !quiet ? 2 : 1;
}

static void counter_point(void *arg, const char *meter, const char *role, const char *unit,
			  double total, double measured_s)
{
	struct counter_ctx *c = arg;
	int k;

	for (k = samples(c, "meter", meter, false) - 1; k >= 0; k--) {
		struct fp_point *p = fp_batch_add(c->b, "meter_total", c->ts - k * 1000000);
		fp_point_tag(p, "site", c->site);
		fp_point_tag(p, "meter", meter);
		if (role && *role)
			fp_point_tag(p, "role", role);
		if (unit && *unit)
			fp_point_tag(p, "unit", unit);
		fp_point_float(p, "value", k ? 0 : total);
		fp_point_float(p, "measured_s", k ? 0 : measured_s);
	}
}

static void ewaste_total_point(void *arg, const char *category, const struct fp_ewaste *e)
{
	static const struct fp_ewaste zero; /* a new series' first sample */
	struct counter_ctx *c = arg;
	const char *cat = category ? category : "all";
	int k;

	for (k = samples(c, "ewaste", cat, c->quiet) - 1; k >= 0; k--) {
		const struct fp_ewaste *v = k ? &zero : e;
		struct fp_point *p = fp_batch_add(c->b, "ewaste_total", c->ts - k * 1000000);
		fp_point_tag(p, "site", c->site);
		fp_point_tag(p, "category", cat);
		fp_point_float(p, "installed_units", v->installed_units);
		fp_point_float(p, "installed_kg", v->installed_kg);
		fp_point_float(p, "beyond_lifespan_units", v->beyond_lifespan_units);
		fp_point_float(p, "commissioned_kg", v->commissioned_kg);
		fp_point_float(p, "decommissioned_kg", v->decommissioned_kg);
		fp_point_float(p, "reused_kg", v->reused_kg);
		fp_point_float(p, "refurbished_kg", v->refurbished_kg);
		fp_point_float(p, "recycled_kg", v->recycled_kg);
		fp_point_float(p, "recycled_documented_kg", v->recycled_documented_kg);
		fp_point_float(p, "disposed_kg", v->disposed_kg);
	}
}

/* The inventory's running totals (ewaste_total), with the inventory on:
 * its state now and the masses of the events applied so far, whatever
 * their dates, so that an append-only engine has e-waste as increase()
 * too.  Under x->lock. */
static void ewaste_totals(struct fp_ind *x, struct counter_ctx *c)
{
	char quiet[16];

	if (!x->inv)
		return;
	c->quiet = fp_ledger_get_meta(x->ledger, "announce_ewaste", quiet, sizeof(quiet)) == 0 &&
		!strcmp(quiet, "quiet");
	if (fp_inv_ewaste_totals(x->inv, (time_t)(c->ts / 1000000000), ewaste_total_point, c) < 0) {
		fp_complain(&x->totals_complain, LOG_ERR, "inventory: running totals: %s",
			    fp_inv_error(x->inv));
		return;
	}
	fp_release(&x->totals_complain, LOG_NOTICE, "inventory: running totals written again");
	if (c->quiet && fp_ledger_set_meta(x->ledger, "announce_ewaste", "done") < 0)
		c->failed = 1;
}

/* The quantities' running totals (energy_total), a new one's with a 0
 * one ms before. */
static void quantity_points(struct counter_ctx *c, const struct fp_qsum q[FP_NQTY])
{
	int i, k;

	for (i = 0; i < FP_NQTY; i++) {
		if (!q[i].present)
			continue;
		for (k = samples(c, "qty", fp_qty_names[i], false) - 1; k >= 0; k--) {
			struct fp_point *p = fp_batch_add(c->b, "energy_total",
							  c->ts - k * 1000000);
			fp_point_tag(p, "site", c->site);
			fp_point_tag(p, "role", fp_qty_names[i]);
			fp_point_float(p, qty_field(i), k ? 0 : q[i].value);
		}
	}
}

/* The running totals of every meter and quantity, at the current time:
 * an append-only engine computes a window's amount as their increase and
 * a ratio as increase over increase.  With them, the inventory's. */
static void write_counters(struct fp_ind *x)
{
	struct fp_batch b;
	struct fp_qsum q[FP_NQTY];
	struct counter_ctx c = { &b, x->cfg->site, fp_real_ns(), x->ledger, false, 0 };
	bool ok;

	fp_batch_init(&b);
	pthread_mutex_lock(&x->lock);
	ok = fp_ledger_begin(x->ledger) == 0 &&
		fp_ledger_counters(x->ledger, counter_point, &c) == 0 &&
		fp_ledger_quantity_totals(x->ledger, q) == 0 &&
		fp_ledger_quantity_hold(x->ledger, q) == 0;
	if (ok) {
		quantity_points(&c, q);
		ewaste_totals(x, &c);
		ok = !c.failed && fp_ledger_commit(x->ledger) == 0;
	}
	if (!ok) {
		fp_complain(&x->complain, LOG_ERR, "indicators: ledger: %s",
			    fp_ledger_error(x->ledger));
		fp_ledger_rollback(x->ledger);
		x->ledger_errors++;
		pthread_mutex_unlock(&x->lock);
		fp_batch_reset(&b);
		return;
	}
	pthread_mutex_unlock(&x->lock);
	if (b.n)
		x->push(x->push_arg, &b);
	fp_batch_reset(&b);
}

static bool open_ledger(struct fp_ind *x);

static void *engine_main(void *arg)
{
	struct fp_ind *x = arg;
	struct timespec ts;
	int64_t now;

	pthread_mutex_lock(&x->lock);
	while (!x->stop) {
		fp_mono_deadline(&ts, 1000);
		pthread_cond_timedwait(&x->cond, &x->lock, &ts);
		if (x->stop)
			break;
		now = fp_mono_ns() / 1000000;
		if (!x->ledger) {
			if (now >= x->next_open_ms && !open_ledger(x))
				x->next_open_ms = now + 10000;
			if (!x->ledger) {
				/* not counted; see open_ledger */
				x->dropped += x->npending;
				free(x->pending);
				x->pending = NULL;
				x->npending = x->pcap = 0;
				continue;
			}
		}
		pthread_mutex_unlock(&x->lock);
		process(x);
		now = fp_mono_ns() / 1000000;
		if (now >= x->next_windows_ms) {
			x->next_windows_ms = now + x->ic->interval_ms;
			write_windows(x);
		}
		if (now >= x->next_counters_ms) {
			x->next_counters_ms = now + x->cfg->interval_ms;
			write_counters(x);
		}
		pthread_mutex_lock(&x->lock);
	}
	pthread_mutex_unlock(&x->lock);
	return NULL;
}

/* The inventory (state_dir/inventory.db) with the category table in
 * force; without a table the e-waste side is off (logged). */
static void open_inventory(struct fp_ind *x)
{
	const struct fp_inventory_cfg *vc = x->cfg->inventory;
	char *path, err[512];

	if (!vc) {
		struct fp_cfg_errors e = { 0 };
		vc = x->own_inv_cfg = fp_inventory_parse(NULL, &e);
		fp_cfg_errors_reset(&e);
	}
	if (!vc->enabled)
		return;
	if (!vc->cats.n) {
		fp_log(LOG_NOTICE,
		       "inventory: no e-waste category table (%s): the inventory and the "
		       "e-waste indicators are off; set inventory.categories_file",
		       vc->categories_file);
		return;
	}
	path = fp_xasprintf("%s/inventory.db", x->cfg->state_dir);
	x->inv = fp_inv_open(path, false, err, sizeof(err));
	free(path);
	if (!x->inv) {
		fp_log(LOG_ERR, "inventory: cannot open %s; the e-waste indicators are off", err);
		return;
	}
	x->cats = &vc->cats;
	/* another process holding the inventory (footprint assets import)
	 * delays the engine at most this long a pass; the events wait */
	fp_inv_busy_timeout(x->inv, 200);
	fp_inv_set_time_window(x->inv, &x->cfg->time_window);
	if (fp_inv_set_categories(x->inv, x->cats) < 0)
		fp_log(LOG_ERR, "inventory: %s", fp_inv_error(x->inv));
}

/* Opens the ledger and writes the config snapshot; false when it cannot
 * be opened (a full disk, a folder not there yet): the engine tries again
 * every 10 s, meanwhile the readings are not counted, and the first one
 * after counts from the last the ledger holds (cumulative registers lose
 * nothing; a wait longer than max_gap counts as missing time).  A snapshot
 * it cannot write is written with the next commit. */
static bool open_ledger(struct fp_ind *x)
{
	char *path, err[512];
	int rc;

	path = fp_xasprintf("%s/ledger.db", x->cfg->state_dir);
	x->ledger = fp_ledger_open(path, false, x->ic->ledger_sync_full, err, sizeof(err));
	free(path);
	if (!x->ledger) {
		fp_complain(&x->complain, LOG_ERR,
			    "indicators: cannot open the ledger %s; trying "
			    "again every 10 s",
			    err);
		return false;
	}
	rc = fp_ledger_begin(x->ledger);
	if (rc == 0)
		rc = write_meta(x);
	/* then the meters the ledger knows from earlier runs (found by their
	 * role): their history stays in the sums */
	fp_ledger_known_meters(x->ledger, known_meter, x);
	if (rc == 0)
		rc = write_boundaries(x);
	if (rc == 0)
		rc = fp_ledger_commit(x->ledger);
	if (rc < 0) {
		fp_complain(&x->complain, LOG_ERR,
			    "indicators: ledger: %s; writing it again every "
			    "second",
			    fp_ledger_error(x->ledger));
		fp_ledger_rollback(x->ledger);
		x->meta_pending = true;
	} else {
		fp_release(&x->complain, LOG_NOTICE, "indicators: the ledger is open");
	}
	record_meter_state(x);
	x->meters_changed = rc < 0;
	/* the windows an earlier run still had to write again */
	if (fp_ledger_rewrite_load(x->ledger, load_run, x) < 0)
		fp_log(LOG_ERR,
		       "indicators: ledger: %s; the windows of late readings of an earlier run "
		       "are not written again",
		       fp_ledger_error(x->ledger));
	x->rw_saved = true;
	add_unfinal(x, time(NULL));
	open_inventory(x);
	/* the lifecycle events an earlier run received but did not apply */
	if (x->inv && fp_ledger_journal_load(x->ledger, load_journalled, x) < 0)
		fp_log(LOG_ERR, "inventory: journal: %s", fp_ledger_error(x->ledger));
	return true;
}

struct fp_ind *fp_ind_new(const struct fp_config *cfg, fp_ind_push_fn push, void *arg)
{
	const struct fp_indicators_cfg *ic = cfg->indicators;
	struct fp_ind *x;
	size_t i;

	if (!ic || !ic->enabled)
		return NULL;
	x = fp_xcalloc(1, sizeof(*x));
	x->cfg = cfg;
	x->ic = ic;
	x->push = push;
	x->push_arg = arg;
	pthread_mutex_init(&x->lock, NULL);
	fp_cond_init_mono(&x->cond);
	x->complain.interval_ns = 60000000000LL;
	x->pue_warn.interval_ns = 3600000000000LL;
	/* the configured meters first */
	for (i = 0; i < ic->nmeters; i++) {
		const struct fp_ind_meter_cfg *mc = &ic->meters[i];
		if (!find_meter(x, mc->name))
			add_meter(x, mc->name, mc->device, mc->role, mc);
	}
	if (!open_ledger(x))
		x->next_open_ms = fp_mono_ns() / 1000000 + 10000;
	return x;
}

int fp_ind_start(struct fp_ind *x)
{
	if (!x || x->running)
		return 0;
	x->next_windows_ms = fp_mono_ns() / 1000000 + x->ic->interval_ms;
	x->next_counters_ms = fp_mono_ns() / 1000000 + x->cfg->interval_ms;
	if (pthread_create(&x->thread, NULL, engine_main, x) != 0) {
		fp_log(LOG_ERR, "indicators: cannot start a thread");
		return -1;
	}
	x->running = true;
	return 0;
}

void fp_ind_free(struct fp_ind *x)
{
	size_t i;

	if (!x)
		return;
	if (x->running) {
		pthread_mutex_lock(&x->lock);
		x->stop = true;
		pthread_cond_signal(&x->cond);
		pthread_mutex_unlock(&x->lock);
		pthread_join(x->thread, NULL);
		x->running = false;
	}
	if (x->ledger) {
		process(x); /* what arrived last is counted too */
		fp_ledger_close(x->ledger);
	}
	fp_inv_close(x->inv);
	fp_inventory_cfg_free(x->own_inv_cfg);
	free_asset_events(x->aev, x->naev);
	for (i = 0; i < x->nmeters; i++) {
		free(x->meters[i].name);
		free(x->meters[i].device);
		free(x->meters[i].role);
		free(x->meters[i].field);
		free(x->meters[i].unit);
	}
	free(x->meters);
	free(x->by_name);
	free(x->by_device);
	free(x->pending);
	free_overrides(x);
	free(x->fo);
	pthread_cond_destroy(&x->cond);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

void fp_ind_metrics(struct fp_ind *x, struct fp_batch *b, const char *site, const char *host,
		    int64_t now_ns)
{
	struct fp_point *p;

	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	p = fp_batch_self(b, now_ns, site, host, "indicators");
	fp_point_int(p, "meters", (int64_t)x->nmeters);
	fp_point_int(p, "readings", (int64_t)x->samples);
	fp_point_int(p, "readings_dropped", (int64_t)(x->dropped + x->ignored_full));
	fp_point_int(p, "resets", (int64_t)x->steps[FP_STEP_RESET]);
	fp_point_int(p, "wraps", (int64_t)x->steps[FP_STEP_WRAPPED]);
	fp_point_int(p, "gaps", (int64_t)x->steps[FP_STEP_GAP]);
	fp_point_int(p, "estimated", (int64_t)x->steps[FP_STEP_ESTIMATED]);
	fp_point_int(p, "ledger_commits", (int64_t)x->commits);
	fp_point_int(p, "factor_overrides", (int64_t)x->factor_overrides);
	fp_point_int(p, "backfill_windows_pending", (int64_t)count_pending(x));
	fp_point_int(p, "backfill_windows_written", (int64_t)x->bf_written);
	if (x->inv) {
		fp_point_int(p, "lifecycle_applied", (int64_t)x->ev_applied);
		fp_point_int(p, "lifecycle_duplicates", (int64_t)x->ev_duplicate);
		fp_point_int(p, "lifecycle_rejected", (int64_t)(x->ev_rejected + x->ev_dropped));
		fp_point_int(p, "lifecycle_pending", (int64_t)x->naev);
		fp_point_int(p, "lifecycle_retries", (int64_t)x->ev_retried);
	}
	fp_point_int(p, "ledger_errors", (int64_t)x->ledger_errors);
	fp_point_bool(p, "ledger_open", x->ledger != NULL);
	pthread_mutex_unlock(&x->lock);
}
