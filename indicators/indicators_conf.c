/* indicators_conf.c - the indicators' and the inventory's config
 * sections, and the meter roles (see indicators.h). */
#include "config.h"

#include "indicators.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "roles.h"
#include "util.h"

/* ---- configuration ---- */

static const char *const units[] = { "kwh", "wh", "mwh", "w",	 "kw", "l",
				     "m3",  "kg", "bit", "byte", NULL };

static int parse_members(const config_setting_t *g, const char *key, struct fp_cfg_errors *e,
			 struct fp_ind_member **out, size_t *n)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int i, cnt;

	if (!s)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		fp_cfg_report(e, g, key, "expected a list of meter names [\"a\", \"-b\"]");
		return -1;
	}
	cnt = config_setting_length(s);
	*out = fp_xcalloc((size_t)cnt + 1, sizeof(**out));
	for (i = 0; i < cnt; i++) {
		const char *v = config_setting_get_string_elem(s, i);
		if (!v || !v[0] || (v[0] == '-' && !v[1])) {
			fp_cfg_report(e, g, key,
				      "element %d: expected a meter name (\"-name\" subtracts)", i);
			continue;
		}
		(*out)[*n].sign = v[0] == '-' ? -1 : 1;
		(*out)[*n].meter = fp_xstrdup(v[0] == '-' ? v + 1 : v);
		(*n)++;
	}
	return 0;
}

static void parse_meter(const config_setting_t *g, struct fp_cfg_errors *e,
			struct fp_ind_meter_cfg *m)
{
	static const char *const keys[] = {
		"name",	    "device",  "role",	      "field", "kind", "unit", "counter_modulus",
		"max_rate", "max_gap", "interpolate", NULL
	};
	static const char *const kinds[] = { "counter", "rate", NULL };
	bool b;
	int k;

	m->kind = -1;
	m->max_gap_ms = -1;
	m->interpolate = -1;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { device = ...; }");
		return;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_string(e, g, "device", &m->device) <= 0)
		fp_cfg_report(e, g, "device", "is required (the device tag of the meter's points)");
	fp_cfg_get_string(e, g, "name", &m->name);
	fp_cfg_get_role(e, g, "role", fp_role_name, &m->role);
	fp_cfg_get_string(e, g, "field", &m->field);
	if (fp_cfg_get_enum(e, g, "kind", kinds, &k) > 0)
		m->kind = k;
	if (fp_cfg_get_enum(e, g, "unit", units, &k) > 0) {
		free(m->unit);
		m->unit = fp_xstrdup(units[k]);
	}
	fp_cfg_get_float(e, g, "counter_modulus", 0, 1e30, &m->modulus);
	fp_cfg_get_float(e, g, "max_rate", 0, 1e30, &m->max_rate);
	fp_cfg_get_duration(e, g, "max_gap", 1000, 366LL * 86400000, &m->max_gap_ms);
	if (fp_cfg_get_bool(e, g, "interpolate", &b) > 0)
		m->interpolate = b;
	if (m->unit && m->kind == FP_METER_RATE && strcmp(m->unit, "w") && strcmp(m->unit, "kw"))
		fp_cfg_report(e, g, "unit", "a rate meter reads w or kw");
	if (m->unit && m->kind == FP_METER_COUNTER &&
	    (!strcmp(m->unit, "w") || !strcmp(m->unit, "kw")))
		fp_cfg_report(e, g, "unit", "a counter cannot be in %s (use kind = \"rate\")",
			      m->unit);
	if (!m->name && m->device)
		m->name = fp_xstrdup(m->device);
}

static void parse_factor(const config_setting_t *g, struct fp_cfg_errors *e,
			 struct fp_ind_factor_cfg *f)
{
	static const char *const keys[] = {
		"region", "year", "method", "kg_per_kwh", "source", NULL
	};
	static const char *const methods[] = { "location", "market", NULL };
	int64_t y = 0;
	int k;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { region = ...; }");
		return;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_string(e, g, "region", &f->region) <= 0)
		fp_cfg_report(e, g, "region", "is required");
	/* 0: absent (a value out of range is reported once, by the getter) */
	if (fp_cfg_get_int(e, g, "year", 1990, 2200, &y) == 0)
		fp_cfg_report(e, g, "year", "is required");
	f->year = (int)y;
	if (fp_cfg_get_enum(e, g, "method", methods, &k) > 0)
		f->method = fp_xstrdup(methods[k]);
	else
		fp_cfg_report(e, g, "method", "is required: location or market");
	f->kg_per_kwh = -1;
	if (fp_cfg_get_float(e, g, "kg_per_kwh", 0, 10, &f->kg_per_kwh) == 0)
		fp_cfg_report(e, g, "kg_per_kwh", "is required (kgCO2e per kWh)");
	fp_cfg_get_string(e, g, "source", &f->source);
}

static void parse_cert(const config_setting_t *g, struct fp_cfg_errors *e,
		       struct fp_ind_cert_cfg *c)
{
	static const char *const keys[] = { "type", "from", "to", "kwh", NULL };
	static const char *const types[] = { "go", "ppa", NULL };
	char *from = NULL, *to = NULL;
	int k;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { type = \"go\"; ... }");
		return;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_enum(e, g, "type", types, &k) > 0)
		c->type = fp_xstrdup(types[k]);
	else
		fp_cfg_report(e, g, "type", "is required: go or ppa");
	c->kwh = -1;
	if (fp_cfg_get_float(e, g, "kwh", 0, 1e15, &c->kwh) == 0)
		fp_cfg_report(e, g, "kwh", "is required");
	/* Dates are kept as local dates: the time zone applies when the
	 * engine starts. Stored as y*10000+m*100+d until then. */
	if (fp_cfg_get_string(e, g, "from", &from) > 0 && fp_parse_date(from) < 0)
		fp_cfg_report(e, g, "from", "'%s' is not a date YYYY-MM-DD", from);
	else if (!from)
		fp_cfg_report(e, g, "from", "is required (YYYY-MM-DD)");
	if (fp_cfg_get_string(e, g, "to", &to) > 0 && fp_parse_date(to) < 0)
		fp_cfg_report(e, g, "to", "'%s' is not a date YYYY-MM-DD", to);
	else if (!to)
		fp_cfg_report(e, g, "to", "is required (YYYY-MM-DD, inclusive)");
	if (from && to) {
		int y1, m1, d1, y2, m2, d2;
		if (sscanf(from, "%d-%d-%d", &y1, &m1, &d1) == 3 &&
		    sscanf(to, "%d-%d-%d", &y2, &m2, &d2) == 3) {
			c->from = (time_t)(y1 * 10000 + m1 * 100 + d1);
			c->to = (time_t)(y2 * 10000 + m2 * 100 + d2);
			if (c->to < c->from)
				fp_cfg_report(e, g, "to", "is before from");
		}
	}
	free(from);
	free(to);
}

struct fp_indicators_cfg *fp_indicators_parse(const config_setting_t *g, struct fp_cfg_errors *e)
{
	static const char *const keys[] = {
		"enabled",     "pue_category",	   "region",	   "interval", "max_gap",
		"interpolate", "ledger_sync",	   "max_meters",   "meters",   "boundaries",
		"zones",       "emission_factors", "certificates", "settle",   NULL,
	};
	static const char *const syncs[] = { "full", "normal", NULL };
	struct fp_indicators_cfg *c = fp_xcalloc(1, sizeof(*c));
	const config_setting_t *s;
	int64_t v;
	int i, n, k;

	c->enabled = true;
	c->pue_category = 1;
	c->interval_ms = 60000;
	c->settle_ms = 2 * c->interval_ms + 10000;
	c->max_gap_ms = 900000;
	c->ledger_sync_full = true;
	c->max_meters = 1000;
	if (!g)
		return c;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { ... }");
		return c;
	}
	fp_cfg_check_keys(e, g, keys);
	fp_cfg_get_bool(e, g, "enabled", &c->enabled);
	if (fp_cfg_get_int(e, g, "pue_category", 1, 3, &v) > 0)
		c->pue_category = (int)v;
	fp_cfg_get_string(e, g, "region", &c->region);
	fp_cfg_get_duration(e, g, "interval", 1000, 3600000, &c->interval_ms);
	c->settle_ms = 2 * c->interval_ms + 10000;
	fp_cfg_get_duration(e, g, "settle", 0, 7LL * 86400000, &c->settle_ms);
	fp_cfg_get_duration(e, g, "max_gap", 1000, 366LL * 86400000, &c->max_gap_ms);
	fp_cfg_get_bool(e, g, "interpolate", &c->interpolate);
	if (fp_cfg_get_enum(e, g, "ledger_sync", syncs, &k) > 0)
		c->ledger_sync_full = k == 0;
	if (fp_cfg_get_int(e, g, "max_meters", 1, 100000, &v) > 0)
		c->max_meters = (size_t)v;

	if ((s = config_setting_get_member(g, "meters"))) {
		if (!config_setting_is_list(s)) {
			fp_cfg_report(e, g, "meters", "expected a list ( { device = ...; }, ... )");
		} else {
			n = config_setting_length(s);
			c->meters = fp_xcalloc((size_t)n + 1, sizeof(*c->meters));
			for (i = 0; i < n; i++)
				parse_meter(config_setting_get_elem(s, i), e,
					    &c->meters[c->nmeters++]);
		}
	}
	if ((s = config_setting_get_member(g, "boundaries"))) {
		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			fp_cfg_report(e, g, "boundaries",
				      "expected a group { facility = [...]; ... }");
		} else {
			const char *qk[FP_NQTY + 1];
			for (i = 0; i < FP_NQTY; i++)
				qk[i] = fp_qty_names[i];
			qk[FP_NQTY] = NULL;
			fp_cfg_check_keys(e, s, qk);
			for (i = 0; i < FP_NQTY; i++)
				if (config_setting_get_member(s, fp_qty_names[i]) &&
				    parse_members(s, fp_qty_names[i], e, &c->boundary[i],
						  &c->nboundary[i]) == 0)
					c->boundary_set[i] = true;
		}
	}
	if ((s = config_setting_get_member(g, "zones"))) {
		n = config_setting_is_list(s) ? config_setting_length(s) : 0;
		if (!config_setting_is_list(s))
			fp_cfg_report(
				e, g, "zones",
				"expected a list ( { name = ...; it = [...]; infra = [...]; } )");
		c->zones = fp_xcalloc((size_t)n + 1, sizeof(*c->zones));
		for (i = 0; i < n; i++) {
			static const char *const zk[] = { "name", "it", "infra", NULL };
			const config_setting_t *z = config_setting_get_elem(s, i);
			struct fp_ind_zone_cfg *zc = &c->zones[c->nzones++];
			if (config_setting_type(z) != CONFIG_TYPE_GROUP) {
				fp_cfg_errors_add(e, z, NULL, "expected a group { name = ...; }");
				continue;
			}
			fp_cfg_check_keys(e, z, zk);
			if (fp_cfg_get_string(e, z, "name", &zc->name) <= 0)
				fp_cfg_report(e, z, "name", "is required");
			parse_members(z, "it", e, &zc->it, &zc->nit);
			parse_members(z, "infra", e, &zc->infra, &zc->ninfra);
			if (!zc->nit)
				fp_cfg_report(e, z, "it", "is required: the zone's IT meters");
		}
	}
	if ((s = config_setting_get_member(g, "emission_factors"))) {
		n = config_setting_is_list(s) ? config_setting_length(s) : 0;
		if (!config_setting_is_list(s))
			fp_cfg_report(e, g, "emission_factors",
				      "expected a list ( { region = ...; }, ... )");
		c->factors = fp_xcalloc((size_t)n + 1, sizeof(*c->factors));
		for (i = 0; i < n; i++)
			parse_factor(config_setting_get_elem(s, i), e, &c->factors[c->nfactors++]);
	}
	if ((s = config_setting_get_member(g, "certificates"))) {
		n = config_setting_is_list(s) ? config_setting_length(s) : 0;
		if (!config_setting_is_list(s))
			fp_cfg_report(e, g, "certificates",
				      "expected a list ( { type = \"go\"; ... } )");
		c->certs = fp_xcalloc((size_t)n + 1, sizeof(*c->certs));
		for (i = 0; i < n; i++)
			parse_cert(config_setting_get_elem(s, i), e, &c->certs[c->ncerts++]);
	}
	if (c->nfactors && !c->region)
		fp_cfg_report(e, g, "region",
			      "is required with emission_factors (the grid region "
			      "whose factors apply)");
	return c;
}

static void describe_members(FILE *f, const struct fp_ind_member *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s%s%s", i ? " " : "", m[i].sign < 0 ? "-" : "+", m[i].meter);
}

void fp_indicators_describe(const struct fp_indicators_cfg *c, FILE *f)
{
	size_t i, r;
	int q;

	if (!c || !c->enabled) {
		fprintf(f, "indicators: disabled\n");
		return;
	}
	fprintf(f,
		"indicators: PUE category %d, region %s, windows every %lldms (final after %lldms), "
		"max_gap %lldms%s, ledger_sync %s\n",
		c->pue_category, c->region ? c->region : "(none)", (long long)c->interval_ms,
		(long long)c->settle_ms, (long long)c->max_gap_ms,
		c->interpolate ? " (gaps interpolated)" : "",
		c->ledger_sync_full ? "full" : "normal");
	for (i = 0; i < c->nmeters; i++) {
		const struct fp_ind_meter_cfg *m = &c->meters[i];
		fprintf(f, "indicators: meter %s (device %s): role %s, field %s, kind %s, unit %s",
			m->name, m->device, m->role ? m->role : "(from its points)",
			m->field ? m->field : "(by role)",
			m->kind < 0			   ? "(by field)"
				: m->kind == FP_METER_RATE ? "rate"
							   : "counter",
			m->unit ? m->unit : "(by role)");
		if (m->modulus > 0)
			fprintf(f, ", wraps at %.10g", m->modulus);
		if (m->max_rate > 0)
			fprintf(f, ", max_rate %.10g/h", m->max_rate);
		fputc('\n', f);
	}
	for (q = 0; q < FP_NQTY; q++) {
		fprintf(f, "indicators: %s = ", fp_qty_names[q]);
		if (c->boundary_set[q]) {
			describe_members(f, c->boundary[q], c->nboundary[q]);
		} else {
			bool any = false;
			fputs("meters of role", f);
			const struct fp_role *ro;
			for (r = 0; (ro = fp_role_at(r)) != NULL; r++)
				if (ro->q1 == (enum fp_qty)q || ro->q2 == (enum fp_qty)q) {
					fprintf(f, "%s %s", any ? "," : "", ro->name);
					any = true;
				}
		}
		fputc('\n', f);
	}
	for (i = 0; i < c->nzones; i++) {
		fprintf(f, "indicators: zone %s: it = ", c->zones[i].name);
		describe_members(f, c->zones[i].it, c->zones[i].nit);
		fputs(", infra = ", f);
		describe_members(f, c->zones[i].infra, c->zones[i].ninfra);
		fputc('\n', f);
	}
	for (i = 0; i < c->nfactors; i++)
		fprintf(f, "indicators: emission factor %s %d %s: %.6g kgCO2e/kWh (%s)\n",
			c->factors[i].region, c->factors[i].year, c->factors[i].method,
			c->factors[i].kg_per_kwh,
			c->factors[i].source ? c->factors[i].source : "no source");
	for (i = 0; i < c->ncerts; i++)
		fprintf(f,
			"indicators: certificate %s: %.10g kWh from %04ld-%02ld-%02ld to %04ld-%02ld-%02ld\n",
			c->certs[i].type, c->certs[i].kwh, (long)c->certs[i].from / 10000,
			(long)c->certs[i].from / 100 % 100, (long)c->certs[i].from % 100,
			(long)c->certs[i].to / 10000, (long)c->certs[i].to / 100 % 100,
			(long)c->certs[i].to % 100);
}

struct fp_inventory_cfg *fp_inventory_parse(const config_setting_t *g, struct fp_cfg_errors *e)
{
	static const char *const keys[] = { "enabled", "categories_file", "weibull_profile",
					    "categories", NULL };
	static const char *const profiles[] = { "NLFB", "IT", NULL };
	struct fp_inventory_cfg *c = fp_xcalloc(1, sizeof(*c));
	const config_setting_t *s;
	char err[512];
	bool explicit_file = false;
	int k, i, n;

	c->enabled = true;
	snprintf(c->profile, sizeof(c->profile), "NLFB");
	c->categories_file = fp_xstrdup(DATADIR "/footprint/ewaste-categories.csv");
	if (g) {
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			fp_cfg_errors_add(e, g, NULL, "expected a group { ... }");
			return c;
		}
		fp_cfg_check_keys(e, g, keys);
		fp_cfg_get_bool(e, g, "enabled", &c->enabled);
		explicit_file = fp_cfg_get_string(e, g, "categories_file", &c->categories_file) > 0;
		if (fp_cfg_get_enum(e, g, "weibull_profile", profiles, &k) > 0)
			snprintf(c->profile, sizeof(c->profile), "%s", profiles[k]);
	}
	if (!c->enabled)
		return c;
	if (fp_categories_load(&c->cats, c->categories_file, c->profile, err, sizeof(err)) < 0) {
		/* The installed table is optional (the agent runs from a build
		 * tree too: then the e-waste indicators are off); a file named
		 * in the config must load. */
		if (explicit_file)
			fp_cfg_report(e, g, "categories_file", "%s", err);
		c->cats.n = 0;
	}
	if (g && (s = config_setting_get_member(g, "categories"))) {
		static const char *const ck[] = { "unu_key", "description", "weight_kg",
						  "shape",   "scale",	    NULL };
		n = config_setting_is_list(s) ? config_setting_length(s) : 0;
		if (!config_setting_is_list(s))
			fp_cfg_report(e, g, "categories",
				      "expected a list ( { unu_key = ...; }, ... )");
		for (i = 0; i < n; i++) {
			const config_setting_t *x = config_setting_get_elem(s, i);
			const struct fp_category *old;
			struct fp_category cat;
			char *key = NULL, *desc = NULL;
			if (config_setting_type(x) != CONFIG_TYPE_GROUP) {
				fp_cfg_errors_add(e, x, NULL,
						  "expected a group { unu_key = ...; }");
				continue;
			}
			fp_cfg_check_keys(e, x, ck);
			if (fp_cfg_get_string(e, x, "unu_key", &key) <= 0 || !key[0] ||
			    strlen(key) > 7) {
				fp_cfg_report(e, x, "unu_key", "is required (1-7 characters)");
				free(key);
				continue;
			}
			memset(&cat, 0, sizeof(cat));
			if ((old = fp_category_find(&c->cats, key)))
				cat = *old;
			snprintf(cat.key, sizeof(cat.key), "%s", key);
			if (fp_cfg_get_string(e, x, "description", &desc) > 0)
				snprintf(cat.desc, sizeof(cat.desc), "%s", desc);
			fp_cfg_get_float(e, x, "weight_kg", 0, 1e6, &cat.weight_kg);
			fp_cfg_get_float(e, x, "shape", 0.01, 100, &cat.shape);
			fp_cfg_get_float(e, x, "scale", 0.01, 1000, &cat.scale);
			if (cat.shape <= 0 || cat.scale <= 0)
				fp_cfg_report(e, x, "shape",
					      "a new category needs shape and scale "
					      "(Weibull, years)");
			else
				fp_categories_set(&c->cats, &cat);
			free(key);
			free(desc);
		}
	}
	return c;
}

void fp_inventory_cfg_free(struct fp_inventory_cfg *c)
{
	if (!c)
		return;
	free(c->categories_file);
	fp_categories_free(&c->cats);
	free(c);
}

static void free_members(struct fp_ind_member *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(m[i].meter);
	free(m);
}

void fp_indicators_cfg_free(struct fp_indicators_cfg *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nmeters; i++) {
		free(c->meters[i].name);
		free(c->meters[i].device);
		free(c->meters[i].role);
		free(c->meters[i].field);
		free(c->meters[i].unit);
	}
	free(c->meters);
	for (i = 0; i < FP_NQTY; i++)
		free_members(c->boundary[i], c->nboundary[i]);
	for (i = 0; i < c->nzones; i++) {
		free(c->zones[i].name);
		free_members(c->zones[i].it, c->zones[i].nit);
		free_members(c->zones[i].infra, c->zones[i].ninfra);
	}
	free(c->zones);
	for (i = 0; i < c->nfactors; i++) {
		free(c->factors[i].region);
		free(c->factors[i].method);
		free(c->factors[i].source);
	}
	free(c->factors);
	for (i = 0; i < c->ncerts; i++)
		free(c->certs[i].type);
	free(c->certs);
	free(c->region);
	free(c);
}
