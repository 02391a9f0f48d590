/* orgreport.c - the organisation's report (see orgreport.h). */
#include "config.h"

#include "orgreport.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Each ratio of struct fp_kpis with its name in the JSON report. */
static const struct {
	const char *name;
	size_t off;
} ratios[] = {
	{ "pue", offsetof(struct fp_kpis, pue) },
	{ "dcie", offsetof(struct fp_kpis, dcie) },
	{ "ref", offsetof(struct fp_kpis, ref) },
	{ "erf", offsetof(struct fp_kpis, erf) },
	{ "ere", offsetof(struct fp_kpis, ere) },
	{ "cer", offsetof(struct fp_kpis, cer) },
	{ "wue_l_per_kwh", offsetof(struct fp_kpis, wue_l_per_kwh) },
	{ "cue_location", offsetof(struct fp_kpis, cue_location) },
	{ "cue_market", offsetof(struct fp_kpis, cue_market) },
	{ "see", offsetof(struct fp_kpis, see) },
	{ "ee_bit_per_j", offsetof(struct fp_kpis, ee_bit_per_j) },
};

static struct fp_ratio *ratio_at(struct fp_kpis *k, size_t off)
{
	return (struct fp_ratio *)(void *)((char *)k + off);
}

static const struct fp_ratio *cratio_at(const struct fp_kpis *k, size_t off)
{
	return (const struct fp_ratio *)(const void *)((const char *)k + off);
}

/* ---- the sums ---- */

void fp_org_sum_period(const struct fp_report_period *const *p, size_t n,
		       struct fp_report_period *out)
{
	struct fp_window_sums *s = &out->s;
	struct fp_kpis *k = &out->k;
	bool loc = n > 0, mkt = n > 0;
	size_t i, j;
	int q;

	memset(out, 0, sizeof(*out));
	if (n) {
		snprintf(out->label, sizeof(out->label), "%s", p[0]->label);
		out->from = p[0]->from;
		out->to = p[0]->to;
	}
	for (i = 0; i < n; i++) {
		const struct fp_window_sums *t = &p[i]->s;
		for (q = 0; q < FP_NQTY; q++) {
			if (!t->q[q].present)
				continue;
			s->q[q].present = true;
			s->q[q].value += t->q[q].value;
			s->q[q].estimated += t->q[q].estimated;
			s->q[q].coverage = NAN;
		}
		s->go_kwh += t->go_kwh;
		s->ppa_kwh += t->ppa_kwh;
		k->e_ren_kwh += p[i]->k.e_ren_kwh;
		k->ref_capped = k->ref_capped || p[i]->k.ref_capped;
		loc = loc && p[i]->k.co2e_location_defined;
		mkt = mkt && p[i]->k.co2e_market_defined;
		k->co2e_location_kg += p[i]->k.co2e_location_kg;
		k->co2e_market_kg += p[i]->k.co2e_market_kg;
		out->from = p[i]->from < out->from ? p[i]->from : out->from;
		out->to = p[i]->to > out->to ? p[i]->to : out->to;
	}
	k->co2e_location_defined = loc;
	k->co2e_market_defined = mkt;
	if (!loc)
		k->co2e_location_kg = 0;
	if (!mkt)
		k->co2e_market_kg = 0;
	s->co2e_location_kg = loc ? k->co2e_location_kg : NAN;
	s->co2e_market_kg = mkt ? k->co2e_market_kg : NAN;
	k->coverage = NAN;
	for (j = 0; j < FP_ARRAY_SIZE(ratios); j++) {
		double num = 0, den = 0;
		bool any = false;
		for (i = 0; i < n; i++) {
			const struct fp_ratio *r = cratio_at(&p[i]->k, ratios[j].off);
			if (!r->defined)
				continue;
			any = true;
			num += r->num;
			den += r->den;
		}
		*ratio_at(k, ratios[j].off) = fp_ratio(num, den, NAN);
		ratio_at(k, ratios[j].off)->defined = any && ratio_at(k, ratios[j].off)->defined;
	}
	/* CUE relates Scope 2: undefined with it. */
	if (!loc)
		k->cue_location.defined = false;
	if (!mkt)
		k->cue_market.defined = false;
}

void fp_org_sum_ewaste(const struct fp_ewaste *const *e, size_t n, struct fp_ewaste *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		out->installed_units += e[i]->installed_units;
		out->installed_kg += e[i]->installed_kg;
		out->commissioned_kg += e[i]->commissioned_kg;
		out->decommissioned_kg += e[i]->decommissioned_kg;
		out->reused_kg += e[i]->reused_kg;
		out->refurbished_kg += e[i]->refurbished_kg;
		out->recycled_kg += e[i]->recycled_kg;
		out->recycled_documented_kg += e[i]->recycled_documented_kg;
		out->disposed_kg += e[i]->disposed_kg;
		out->beyond_lifespan_units += e[i]->beyond_lifespan_units;
		out->projected_kg_12m += e[i]->projected_kg_12m;
		out->embodied_co2e_kg += e[i]->embodied_co2e_kg;
		out->assets += e[i]->assets;
	}
	out->mean_age_y = NAN;
	out->documented_rate = out->decommissioned_kg > 0
		? out->recycled_documented_kg / out->decommissioned_kg
		: -1;
	out->reuse_rate = out->decommissioned_kg > 0
		? (out->reused_kg + out->refurbished_kg) / out->decommissioned_kg
		: -1;
}

/* ---- one site ---- */

/* The report of a state directory with an inventory and no ledger. */
static int report_inventory_only(const char *state, const char *site, const char *from,
				 const char *to, struct fp_report *r, char *err, size_t errlen)
{
	char e[512], *path = fp_xasprintf("%s/inventory.db", state);
	struct fp_inventory *v;
	int rc = -1;

	if (fp_report_build_empty(site, from, to, r, err, errlen) < 0) {
		free(path);
		return -1;
	}
	v = fp_inv_open(path, true, e, sizeof(e));
	if (!v || fp_report_ewaste(r, v, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "the inventory: %s", e);
		fp_report_free(r);
	} else {
		rc = 0;
	}
	fp_inv_close(v);
	free(path);
	return rc;
}

int fp_report_load_state(const char *state, const char *from, const char *to, struct fp_report *r,
			 char *err, size_t errlen)
{
	char e[512], *path = fp_xasprintf("%s/ledger.db", state);
	struct fp_ledger *l = NULL;
	int rc = -1;

	if (access(path, F_OK) != 0 && errno == ENOENT) {
		/* No ledger: the e-waste part alone when there is an inventory. */
		const char *base = strrchr(state, '/');
		free(path);
		path = fp_xasprintf("%s/inventory.db", state);
		if (access(path, F_OK) == 0) {
			free(path);
			return report_inventory_only(state, base && base[1] ? base + 1 : state,
						     from, to, r, err, errlen);
		}
		free(path);
		path = fp_xasprintf("%s/ledger.db", state);
	}
	l = fp_ledger_open(path, true, false, e, sizeof(e));
	free(path);
	if (!l) {
		snprintf(err, errlen, "cannot read the ledger: %s", e);
		return -1;
	}
	if (fp_report_build(l, from, to, r, err, errlen) < 0)
		goto out;
	path = fp_xasprintf("%s/inventory.db", state);
	if (access(path, F_OK) == 0) {
		struct fp_inventory *v = fp_inv_open(path, true, e, sizeof(e));
		if (!v || fp_report_ewaste(r, v, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "the inventory: %s", e);
			fp_inv_close(v);
			free(path);
			fp_report_free(r);
			goto out;
		}
		fp_inv_close(v);
	}
	free(path);
	rc = 0;
out:
	fp_ledger_close(l);
	return rc;
}

static struct fp_org_site *org_new_site(struct fp_org *g, const char *source)
{
	struct fp_org_site *x;

	fp_xgrow((void **)&g->sites, &g->cap, g->n + 1, sizeof(*g->sites));
	x = &g->sites[g->n];
	memset(x, 0, sizeof(*x));
	x->source = fp_xstrdup(source);
	return x;
}

int fp_org_add_state(struct fp_org *g, const char *state, const char *from, const char *to,
		     char *err, size_t errlen)
{
	struct fp_org_site *x = org_new_site(g, state);
	char e[512];

	if (fp_report_load_state(state, from, to, &x->r, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: %s", state, e);
		free(x->source);
		return -1;
	}
	x->json = fp_report_json(&x->r);
	g->n++;
	return 0;
}

/* ---- a site's JSON read back ---- */

static bool jget(json_object *o, const char *key, json_object **v)
{
	return o && json_object_object_get_ex(o, key, v) && *v;
}

static double jdbl(json_object *o, const char *key, double dflt)
{
	json_object *v;

	return jget(o, key, &v) ? json_object_get_double(v) : dflt;
}

static void jstr(json_object *o, const char *key, char *buf, size_t len)
{
	json_object *v;

	buf[0] = 0;
	if (jget(o, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(v));
}

static void period_from_json(json_object *o, struct fp_report_period *p)
{
	json_object *e, *ind, *x;
	struct fp_kpis *k = &p->k;
	size_t j;

	if (jget(o, "energy", &e)) {
		json_object_object_foreach(e, key, val)
		{
			int q = fp_qty_index(key);
			if (q < 0 || !val)
				continue; /* a quantity of a later version */
			p->s.q[q].present = true;
			p->s.q[q].value = jdbl(val, "value", 0);
			p->s.q[q].estimated = jdbl(val, "estimated", 0);
			p->s.q[q].coverage = jdbl(val, "coverage", NAN);
		}
	}
	for (j = 0; j < FP_ARRAY_SIZE(ratios); j++) {
		struct fp_ratio *r = ratio_at(k, ratios[j].off);
		if (!jget(o, "indicators", &ind) || !jget(ind, ratios[j].name, &x))
			continue;
		r->defined = true;
		r->value = jdbl(x, "value", 0);
		r->coverage = jdbl(x, "coverage", NAN);
		r->num = jdbl(x, "numerator", 0);
		r->den = jdbl(x, "denominator", 0);
	}
	if (jget(o, "renewable", &x)) {
		json_object *c;
		k->e_ren_kwh = jdbl(x, "total_kwh", 0);
		p->s.go_kwh = jdbl(x, "go_kwh", 0);
		p->s.ppa_kwh = jdbl(x, "ppa_kwh", 0);
		k->ref_capped = jget(x, "capped", &c) && json_object_get_boolean(c);
	}
	p->s.co2e_location_kg = p->s.co2e_market_kg = NAN;
	if (jget(o, "scope2", &x)) {
		json_object *v;
		if ((k->co2e_location_defined = jget(x, "location_kg", &v)))
			p->s.co2e_location_kg = k->co2e_location_kg = json_object_get_double(v);
		if ((k->co2e_market_defined = jget(x, "market_kg", &v)))
			p->s.co2e_market_kg = k->co2e_market_kg = json_object_get_double(v);
	}
	k->coverage = jdbl(o, "coverage", NAN);
}

static void ew_from_json(json_object *o, struct fp_ewaste *e)
{
	e->installed_units = jdbl(o, "installed_units", 0);
	e->installed_kg = jdbl(o, "installed_kg", 0);
	e->commissioned_kg = jdbl(o, "commissioned_kg", 0);
	e->decommissioned_kg = jdbl(o, "decommissioned_kg", 0);
	e->reused_kg = jdbl(o, "reused_kg", 0);
	e->refurbished_kg = jdbl(o, "refurbished_kg", 0);
	e->recycled_kg = jdbl(o, "recycled_kg", 0);
	e->recycled_documented_kg = jdbl(o, "recycled_documented_kg", 0);
	e->disposed_kg = jdbl(o, "disposed_kg", 0);
	e->documented_rate = jdbl(o, "documented_rate", -1);
	e->reuse_rate = jdbl(o, "reuse_rate", -1);
	e->beyond_lifespan_units = jdbl(o, "beyond_lifespan_units", 0);
	e->mean_age_y = jdbl(o, "mean_age_y", NAN);
	e->projected_kg_12m = jdbl(o, "projected_kg_12m", 0);
	e->embodied_co2e_kg = jdbl(o, "embodied_co2e_kg", 0);
}

static void ewaste_from_json(json_object *o, struct fp_report *r)
{
	json_object *cats, *months;
	size_t i, n;

	r->has_inventory = true;
	n = jget(o, "categories", &cats) && json_object_is_type(cats, json_type_array)
		? json_object_array_length(cats)
		: 0;
	r->ew = fp_xcalloc(n + 1, sizeof(*r->ew));
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(cats, i);
		struct fp_report_ew *x = &r->ew[r->nrows++];
		jstr(c, "category", x->category, sizeof(x->category));
		jstr(c, "description", x->desc, sizeof(x->desc));
		x->ewg_year = (int)jdbl(c, "ewg_model_year", 0);
		x->ewg_model_kg = jdbl(c, "ewg_model_kg", 0);
		ew_from_json(c, &x->e);
	}
	n = jget(o, "months", &months) && json_object_is_type(months, json_type_array)
		? json_object_array_length(months)
		: 0;
	r->ewm = fp_xcalloc(n + 1, sizeof(*r->ewm));
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(months, i);
		jstr(m, "month", r->ewm[i].label, sizeof(r->ewm[i].label));
		ew_from_json(m, &r->ewm[i].e);
		r->newm++;
	}
}

int fp_report_from_json(json_object *o, struct fp_report *r, char *err, size_t errlen)
{
	json_object *v, *months, *dq;
	char schema[64];
	size_t i, n;

	memset(r, 0, sizeof(*r));
	jstr(o, "schema", schema, sizeof(schema));
	if (strcmp(schema, "footprint.report/1")) {
		snprintf(err, errlen,
			 "not a footprint.report/1 report (footprint report --format json)");
		return -1;
	}
	jstr(o, "site", r->site, sizeof(r->site));
	jstr(o, "from", r->from, sizeof(r->from));
	jstr(o, "to", r->to, sizeof(r->to));
	if (!r->site[0] || !r->from[0] || !r->to[0] || !jget(o, "total", &v)) {
		snprintf(err, errlen, "the report has no site, from, to or total");
		return -1;
	}
	jstr(o, "timezone", r->timezone, sizeof(r->timezone));
	jstr(o, "region", r->region, sizeof(r->region));
	r->hours = jdbl(o, "hours", 0);
	r->pue_category = (int)jdbl(o, "pue_category", 1);
	r->calendar_year = jget(o, "calendar_year", &v) && json_object_get_boolean(v);
	snprintf(r->total.label, sizeof(r->total.label), "total");
	jget(o, "total", &v);
	period_from_json(v, &r->total);
	n = jget(o, "months", &months) && json_object_is_type(months, json_type_array)
		? json_object_array_length(months)
		: 0;
	r->months = fp_xcalloc(n + 1, sizeof(*r->months));
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(months, i);
		period_from_json(m, &r->months[i]);
		jstr(m, "month", r->months[i].label, sizeof(r->months[i].label));
		r->nmonths++;
	}
	if (jget(o, "data_quality", &dq)) {
		r->events.resets = (long)jdbl(dq, "resets", 0);
		r->events.wraps = (long)jdbl(dq, "wraps", 0);
		r->events.gaps = (long)jdbl(dq, "gaps", 0);
	}
	if (jget(o, "ewaste", &v))
		ewaste_from_json(v, r);
	return 0;
}

int fp_org_add_json(struct fp_org *g, const char *path, char *err, size_t errlen)
{
	json_object *o = json_object_from_file(path);
	struct fp_org_site *x;
	char e[512];

	if (!o) {
		snprintf(err, errlen, "%s: cannot read a JSON report: %s", path,
			 json_util_get_last_err() ? json_util_get_last_err() : "not JSON");
		return -1;
	}
	x = org_new_site(g, path);
	if (fp_report_from_json(o, &x->r, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: %s", path, e);
		fp_report_free(&x->r);
		free(x->source);
		json_object_put(o);
		return -1;
	}
	x->json = o;
	g->n++;
	return 0;
}

void fp_org_free(struct fp_org *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		fp_report_free(&g->sites[i].r);
		json_object_put(g->sites[i].json);
		free(g->sites[i].source);
	}
	free(g->sites);
	if (g->summed)
		fp_report_free(&g->total);
	memset(g, 0, sizeof(*g));
}

/* ---- the organisation ---- */

/* Same period, same months, no site twice: 0, or -1 with err. */
static int org_check(const struct fp_org *g, char *err, size_t errlen)
{
	const struct fp_report *a = g->n ? &g->sites[0].r : NULL;
	size_t i, j;

	if (!a) {
		snprintf(err, errlen, "no site");
		return -1;
	}
	for (i = 0; i < g->n; i++) {
		const struct fp_report *b = &g->sites[i].r;
		for (j = 0; j < i; j++)
			if (!strcmp(g->sites[j].r.site, b->site)) {
				snprintf(err, errlen, "site '%s' appears twice (%s and %s)",
					 b->site, g->sites[j].source, g->sites[i].source);
				return -1;
			}
		if (strcmp(a->from, b->from) || strcmp(a->to, b->to)) {
			snprintf(err, errlen,
				 "the sites' reports cover different periods: '%s' (%s) %s to %s, "
				 "'%s' (%s) %s to %s; make them over one period",
				 a->site, g->sites[0].source, a->from, a->to, b->site,
				 g->sites[i].source, b->from, b->to);
			return -1;
		}
		for (j = 0; j < b->nmonths && b->nmonths == a->nmonths; j++)
			if (strcmp(a->months[j].label, b->months[j].label))
				break;
		if (b->nmonths != a->nmonths || j < b->nmonths) {
			snprintf(err, errlen, "'%s' (%s): its months differ from those of '%s'",
				 b->site, g->sites[i].source, a->site);
			return -1;
		}
	}
	return 0;
}

/* The e-waste section: each category any site has, then "all". */
static void org_ewaste(struct fp_org *g)
{
	struct fp_report *t = &g->total;
	const struct fp_ewaste **e = fp_xcalloc(g->n, sizeof(*e));
	size_t i, j, k, m, cap = 0;

	for (i = 0; i < g->n; i++)
		for (j = 0; g->sites[i].r.has_inventory && j + 1 < g->sites[i].r.nrows; j++) {
			const struct fp_report_ew *x = &g->sites[i].r.ew[j];
			for (k = 0; k < t->nrows && strcmp(t->ew[k].category, x->category); k++)
				;
			if (k == t->nrows) {
				fp_xgrow((void **)&t->ew, &cap, t->nrows + 1, sizeof(*t->ew));
				memset(&t->ew[k], 0, sizeof(t->ew[k]));
				snprintf(t->ew[k].category, sizeof(t->ew[k].category), "%s",
					 x->category);
				snprintf(t->ew[k].desc, sizeof(t->ew[k].desc), "%s", x->desc);
				t->ew[k].ewg_year = x->ewg_year;
				t->nrows++;
			}
			t->ew[k].ewg_model_kg += x->ewg_model_kg;
		}
	fp_xgrow((void **)&t->ew, &cap, t->nrows + 1, sizeof(*t->ew));
	memset(&t->ew[t->nrows], 0, sizeof(t->ew[t->nrows]));
	snprintf(t->ew[t->nrows].category, sizeof(t->ew[0].category), "all");
	snprintf(t->ew[t->nrows].desc, sizeof(t->ew[0].desc), "all categories");
	t->nrows++;
	for (k = 0; k < t->nrows; k++) {
		bool all = k + 1 == t->nrows;
		for (i = m = 0; i < g->n; i++) {
			const struct fp_report *r = &g->sites[i].r;
			for (j = 0; r->has_inventory && j < r->nrows; j++)
				if (all ? j + 1 == r->nrows
					: j + 1 < r->nrows &&
						    !strcmp(r->ew[j].category, t->ew[k].category))
					break;
			if (r->has_inventory && j < r->nrows) {
				e[m++] = &r->ew[j].e;
				if (all) {
					t->ew[k].ewg_year = r->ew[j].ewg_year;
					t->ew[k].ewg_model_kg += r->ew[j].ewg_model_kg;
				}
			}
		}
		fp_org_sum_ewaste(e, m, &t->ew[k].e);
	}
	t->ewm = fp_xcalloc(t->nmonths + 1, sizeof(*t->ewm));
	for (k = 0; k < t->nmonths; k++) {
		for (i = m = 0; i < g->n; i++)
			if (g->sites[i].r.has_inventory && k < g->sites[i].r.newm)
				e[m++] = &g->sites[i].r.ewm[k].e;
		snprintf(t->ewm[k].label, sizeof(t->ewm[k].label), "%s", t->months[k].label);
		fp_org_sum_ewaste(e, m, &t->ewm[k].e);
		t->newm++;
	}
	free(e);
}

/* The header fields: one value when every site has it, else "per site". */
static void org_header(struct fp_org *g)
{
	struct fp_report *t = &g->total;
	size_t i;

	snprintf(t->site, sizeof(t->site), "organisation (%zu site%s)", g->n, g->n == 1 ? "" : "s");
	snprintf(t->from, sizeof(t->from), "%s", g->sites[0].r.from);
	snprintf(t->to, sizeof(t->to), "%s", g->sites[0].r.to);
	snprintf(t->timezone, sizeof(t->timezone), "%s", g->sites[0].r.timezone);
	snprintf(t->region, sizeof(t->region), "%s", g->sites[0].r.region);
	t->pue_category = g->sites[0].r.pue_category;
	t->calendar_year = true;
	for (i = 0; i < g->n; i++) {
		const struct fp_report *r = &g->sites[i].r;
		if (strcmp(r->timezone, t->timezone))
			snprintf(t->timezone, sizeof(t->timezone), "each site's own");
		if (strcmp(r->region, t->region))
			snprintf(t->region, sizeof(t->region), "per site");
		/* the weakest measurement point of the sites' PUEs */
		if (r->pue_category < t->pue_category)
			t->pue_category = r->pue_category;
		t->calendar_year = t->calendar_year && r->calendar_year;
		t->hours = fmax(t->hours, r->hours);
		t->events.resets += r->events.resets;
		t->events.wraps += r->events.wraps;
		t->events.gaps += r->events.gaps;
		t->has_inventory = t->has_inventory || r->has_inventory;
	}
}

int fp_org_sum(struct fp_org *g, char *err, size_t errlen)
{
	struct fp_report *t = &g->total;
	const struct fp_report_period **p;
	size_t i, m;

	if (org_check(g, err, errlen) < 0)
		return -1;
	memset(t, 0, sizeof(*t));
	g->summed = true;
	org_header(g);
	p = fp_xcalloc(g->n, sizeof(*p));
	for (i = 0; i < g->n; i++)
		p[i] = &g->sites[i].r.total;
	fp_org_sum_period(p, g->n, &t->total);
	t->nmonths = g->sites[0].r.nmonths;
	t->months = fp_xcalloc(t->nmonths + 1, sizeof(*t->months));
	for (m = 0; m < t->nmonths; m++) {
		for (i = 0; i < g->n; i++)
			p[i] = &g->sites[i].r.months[m];
		fp_org_sum_period(p, g->n, &t->months[m]);
	}
	free(p);
	if (t->has_inventory)
		org_ewaste(g);
	return 0;
}

/* ---- the renderers ---- */

/* One row of the per-site table, as text (n/a when undefined). */
struct site_row {
	const char *site, *source, *region, *tz;
	char hours[32], cov[32], edc[32], eit[32], pue[32], num[32], den[32], pcov[32];
	char loc[32], mkt[32], grid[32], efl[32], efm[32];
};

/* v with prec decimals (a percentage with pct), or n/a. */
static void cell(char *b, size_t n, bool defined, int prec, double v, bool pct)
{
	if (!defined || isnan(v))
		snprintf(b, n, "n/a");
	else
		snprintf(b, n, "%.*f%s", prec, pct ? v * 100 : v, pct ? " %" : "");
}

static void site_row(const struct fp_report *r, const char *source, struct site_row *x)
{
	const struct fp_kpis *k = &r->total.k;
	const struct fp_window_sums *s = &r->total.s;
	const struct fp_qsum *grid = &s->q[FP_Q_GRID];
	bool g = grid->present && grid->value > 0;

	x->site = r->site;
	x->source = source;
	x->region = r->region[0] ? r->region : "(none configured)";
	x->tz = r->timezone;
	snprintf(x->hours, sizeof(x->hours), "%.0f", r->hours);
	cell(x->cov, sizeof(x->cov), true, 1, k->coverage, true);
	cell(x->edc, sizeof(x->edc), s->q[FP_Q_FACILITY].present, 3, s->q[FP_Q_FACILITY].value,
	     false);
	cell(x->eit, sizeof(x->eit), s->q[FP_Q_IT].present, 3, s->q[FP_Q_IT].value, false);
	cell(x->pue, sizeof(x->pue), k->pue.defined, 4, k->pue.value, false);
	cell(x->num, sizeof(x->num), k->pue.defined, 3, k->pue.num, false);
	cell(x->den, sizeof(x->den), k->pue.defined, 3, k->pue.den, false);
	cell(x->pcov, sizeof(x->pcov), k->pue.defined, 1, k->pue.coverage, true);
	if (k->pue.defined && isnan(k->pue.coverage))
		snprintf(x->pcov, sizeof(x->pcov), "per site");
	if (isnan(k->coverage))
		snprintf(x->cov, sizeof(x->cov), "per site");
	cell(x->loc, sizeof(x->loc), k->co2e_location_defined, 1, k->co2e_location_kg, false);
	cell(x->mkt, sizeof(x->mkt), k->co2e_market_defined, 1, k->co2e_market_kg, false);
	cell(x->grid, sizeof(x->grid), grid->present, 3, grid->value, false);
	cell(x->efl, sizeof(x->efl), g && k->co2e_location_defined, 4,
	     k->co2e_location_kg / grid->value, false);
	cell(x->efm, sizeof(x->efm), g && k->co2e_market_defined, 4,
	     k->co2e_market_kg / grid->value, false);
}

/* The sites whose Scope 2 (method loc or market) is undefined, joined. */
static void s2_undefined(const struct fp_org *g, bool loc, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = 0;
	for (i = 0; i < g->n; i++) {
		const struct fp_kpis *k = &g->sites[i].r.total.k;
		if (loc ? k->co2e_location_defined : k->co2e_market_defined)
			continue;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "",
				      g->sites[i].r.site);
	}
}

static const char org_note[] =
	"The organisation's figures are sums first: every quantity is the sum over the sites, "
	"each ratio the sum of the sites' numerators over the sum of their denominators (each "
	"site's over the part of the period where all its terms are measured), never an average "
	"of the sites' ratios; a site where a ratio is undefined adds nothing to it. Coverage is "
	"stated per site. Each site's months and Scope 2 are its own (its time zone, its "
	"region's emission factors); the factor columns are Scope 2 / E_grid.";

static void md_cell(FILE *o, const char *s)
{
	fputs(" ", o);
	for (; *s; s++) {
		if (*s == '|' || *s == '\\')
			fputc('\\', o);
		fputc(*s == '\n' ? ' ' : *s, o);
	}
	fputs(" |", o);
}

static void md_row(FILE *o, const struct site_row *x)
{
	const char *const c[] = { x->site, x->region, x->tz,  x->hours, x->cov,	  x->edc,
				  x->eit,  x->pue,    x->num, x->den,	x->pcov,  x->loc,
				  x->mkt,  x->grid,   x->efl, x->efm,	x->source };
	size_t i;

	fputs("|", o);
	for (i = 0; i < FP_ARRAY_SIZE(c); i++)
		md_cell(o, c[i]);
	fputc('\n', o);
}

static void md_sites(const struct fp_org *g, FILE *o)
{
	struct site_row x;
	char b[1024];
	size_t i;

	fprintf(o,
		"## Sites\n\n| Site | Region | Time zone | Hours | Coverage | E_DC kWh | "
		"E_IT kWh | PUE | PUE numerator kWh | PUE denominator kWh | PUE coverage | "
		"Scope 2 loc. kgCO2e | Scope 2 mkt. kgCO2e | E_grid kWh | kgCO2e/kWh loc. | "
		"kgCO2e/kWh mkt. | Source |\n"
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < g->n; i++) {
		site_row(&g->sites[i].r, g->sites[i].source, &x);
		md_row(o, &x);
	}
	site_row(&g->total, "sum of the sites", &x);
	x.site = "organisation";
	md_row(o, &x);
	fprintf(o, "\n%s\n", org_note);
	s2_undefined(g, true, b, sizeof(b));
	if (b[0])
		fprintf(o,
			"\nScope 2 location-based is undefined at %s: the organisation's is "
			"undefined.\n",
			b);
	s2_undefined(g, false, b, sizeof(b));
	if (b[0])
		fprintf(o,
			"\nScope 2 market-based is undefined at %s: the organisation's is "
			"undefined.\n",
			b);
	fputc('\n', o);
}

static void html_row(FILE *o, const struct site_row *x)
{
	const char *const c[] = { x->site, x->region, x->tz,  x->hours, x->cov,	  x->edc,
				  x->eit,  x->pue,    x->num, x->den,	x->pcov,  x->loc,
				  x->mkt,  x->grid,   x->efl, x->efm,	x->source };
	size_t i;

	fputs("<tr>", o);
	for (i = 0; i < FP_ARRAY_SIZE(c); i++) {
		fputs(i < 3 || i == 16 ? "<td>" : "<td class=\"n\">", o);
		fp_report_html_esc(o, c[i]);
		fputs("</td>", o);
	}
	fputs("</tr>\n", o);
}

static void html_sites(const struct fp_org *g, FILE *o)
{
	struct site_row x;
	char b[1024];
	size_t i;

	fputs("<h2>Sites</h2>\n<table><tr><th>Site</th><th>Region</th><th>Time zone</th>"
	      "<th>Hours</th><th>Coverage</th><th>E_DC kWh</th><th>E_IT kWh</th><th>PUE</th>"
	      "<th>PUE numerator kWh</th><th>PUE denominator kWh</th><th>PUE coverage</th>"
	      "<th>Scope 2 loc. kgCO2e</th><th>Scope 2 mkt. kgCO2e</th><th>E_grid kWh</th>"
	      "<th>kgCO2e/kWh loc.</th><th>kgCO2e/kWh mkt.</th><th>Source</th></tr>\n",
	      o);
	for (i = 0; i < g->n; i++) {
		site_row(&g->sites[i].r, g->sites[i].source, &x);
		html_row(o, &x);
	}
	site_row(&g->total, "sum of the sites", &x);
	x.site = "organisation";
	html_row(o, &x);
	fprintf(o, "</table>\n<p>%s</p>\n", org_note);
	for (i = 0; i < 2; i++) {
		s2_undefined(g, i == 0, b, sizeof(b));
		if (!b[0])
			continue;
		fprintf(o, "<p class=\"warn\">Scope 2 %s-based is undefined at ",
			i == 0 ? "location" : "market");
		fp_report_html_esc(o, b);
		fputs(": the organisation's is undefined.</p>\n", o);
	}
}

/* Adds to each defined ratio of a period of the organisation the number of
 * sites in it, and to its Scope 2 the sites where it is undefined. */
static void json_period(const struct fp_org *g, json_object *per, ptrdiff_t month)
{
	json_object *ind, *s2, *x;
	size_t i, j;

	for (j = 0; j < FP_ARRAY_SIZE(ratios); j++) {
		int n = 0;
		if (!jget(per, "indicators", &ind) || !jget(ind, ratios[j].name, &x))
			continue;
		for (i = 0; i < g->n; i++) {
			const struct fp_report *r = &g->sites[i].r;
			const struct fp_report_period *p = month < 0 ? &r->total
								     : &r->months[month];
			n += cratio_at(&p->k, ratios[j].off)->defined;
		}
		json_object_object_add(x, "sites", json_object_new_int(n));
	}
	if (!jget(per, "scope2", &s2))
		return;
	for (j = 0; j < 2; j++) {
		json_object *a = json_object_new_array();
		for (i = 0; i < g->n; i++) {
			const struct fp_report *r = &g->sites[i].r;
			const struct fp_kpis *k = month < 0 ? &r->total.k : &r->months[month].k;
			if (!(j == 0 ? k->co2e_location_defined : k->co2e_market_defined))
				json_object_array_add(a, json_object_new_string(r->site));
		}
		json_object_object_add(
			s2, j == 0 ? "location_undefined_sites" : "market_undefined_sites", a);
	}
}

static void org_json(const struct fp_org *g, FILE *out)
{
	json_object *o = fp_report_json(&g->total), *sites = json_object_new_array(), *x, *m;
	const struct fp_report *t = &g->total;
	size_t i;

	json_object_object_add(o, "schema", json_object_new_string("footprint.org-report/1"));
	json_object_object_del(o, "site");
	if (!strcmp(t->timezone, "each site's own"))
		json_object_object_add(o, "timezone", NULL);
	if (!strcmp(t->region, "per site"))
		json_object_object_add(o, "region", NULL);
	for (i = 0; i < g->n; i++)
		json_object_array_add(sites, json_object_get(g->sites[i].json));
	json_object_object_add(o, "sites", sites);
	if (jget(o, "total", &x)) {
		json_object_object_add(x, "sites", json_object_new_int((int)g->n));
		json_period(g, x, -1);
	}
	for (i = 0; jget(o, "months", &m) && i < json_object_array_length(m); i++)
		json_period(g, json_object_array_get_idx(m, i), (ptrdiff_t)i);
	fp_report_json_put(o, out);
}

int fp_org_print(const struct fp_org *g, enum fp_report_format f, FILE *out)
{
	const struct fp_report *t = &g->total;
	size_t i;

	switch (f) {
	case FP_REPORT_MD:
		fp_report_md_head(t, out);
		md_sites(g, out);
		fp_report_md_body(t, out);
		break;
	case FP_REPORT_JSON:
		org_json(g, out);
		break;
	case FP_REPORT_CSV:
		fp_report_csv_header(out, true, t->has_inventory);
		for (i = 0; i < g->n; i++)
			fp_report_csv_rows(&g->sites[i].r, out, g->sites[i].r.site,
					   t->has_inventory);
		fp_report_csv_rows(t, out, "(organisation)", t->has_inventory);
		break;
	case FP_REPORT_HTML:
		fp_report_html_head(t, out);
		html_sites(g, out);
		fp_report_html_body(t, out);
		break;
	default:
		return -1;
	}
	return ferror(out) ? -1 : 0;
}
