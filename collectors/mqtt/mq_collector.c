/* mq_collector.c - the MQTT collector (libmosquitto). */
#include "config.h"

#include "mq_collector.h"

#include <errno.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mq_loop.h"
#include "mq_parse.h"
#include "util.h"

struct mq_broker_cfg {
	char *name, *url, *host;
	int port;
	bool tls;
	char *client_id, *username, *password;
	char *ca_file, *cert_file, *key_file;
	bool insecure;
	int64_t keepalive_ms, reconnect_min_ms, reconnect_max_ms;
	bool clean_session;
	int protocol; /* 4 = 3.1.1, 5 */
	struct fp_mq_sub *subs;
	size_t nsubs, cap;
	int line;
};

struct fp_mq_config {
	struct mq_broker_cfg *brokers;
	size_t n, cap;
};

static void sel_free(struct fp_mq_selector *sel)
{
	size_t i;

	free((char *)sel->path);
	free((char *)sel->field);
	free((char *)sel->phase);
	for (i = 0; i < sel->nvalues; i++)
		free((char *)sel->values[i].text);
	free((void *)sel->values);
}

static void sub_free(struct fp_mq_sub *s)
{
	size_t i;

	free(s->topic);
	free(s->role);
	free(s->name_topic);
	for (i = 0; s->own_sels && i < s->own.nsels; i++)
		sel_free(&s->own_sels[i]);
	free(s->own_sels);
	sel_free(&s->dflt);
	for (i = 0; s->may_carry && s->may_carry[i]; i++)
		free((char *)s->may_carry[i]);
	free((void *)s->may_carry);
	free((char *)s->own.tmpl);
	free((char *)s->own.time_path);
	if (s->lcmap) {
		for (i = 0; i < FP_MQ_LC_NKEYS; i++) {
			free((char *)s->lcmap->path[i]);
			free((char *)s->lcmap->dflt[i]);
		}
		for (i = 0; i < s->lcmap->nnames; i++) {
			free((char *)s->lcmap->names[i]);
			free((char *)s->lcmap->to[i]);
		}
		free(s->lcmap->names);
		free(s->lcmap->to);
		free(s->lcmap);
	}
}

static void config_free(void *mc)
{
	struct fp_mq_config *c = mc;
	size_t i, k;

	if (!c)
		return;
	for (i = 0; i < c->n; i++) {
		struct mq_broker_cfg *b = &c->brokers[i];
		free(b->name);
		free(b->url);
		free(b->host);
		free(b->client_id);
		free(b->username);
		fp_free_secret(b->password);
		free(b->ca_file);
		free(b->cert_file);
		free(b->key_file);
		for (k = 0; k < b->nsubs; k++)
			sub_free(&b->subs[k]);
		free(b->subs);
	}
	free(c->brokers);
	free(c);
}

/* mqtt://HOST[:PORT] (1883) or mqtts://HOST[:PORT] (8883, TLS); an IPv6
 * address in brackets. */
static int parse_url(struct mq_broker_cfg *b)
{
	const char *h;

	if (!strncmp(b->url, "mqtt://", 7)) {
		h = b->url + 7;
		b->port = 1883;
	} else if (!strncmp(b->url, "mqtts://", 8)) {
		h = b->url + 8;
		b->tls = true;
		b->port = 8883;
	} else {
		return -EINVAL;
	}
	return fp_parse_host_port(h, b->port, &b->host, &b->port);
}

/* A persistent session's client id when none is set: stable across
 * restarts, one per site and broker, "footprintd-SITE-BROKER" with
 * characters other than A-Z a-z 0-9 - _ . as "_", at most 230. */
static char *default_client_id(const char *site, const char *broker)
{
	char *id = fp_xasprintf("footprintd-%.100s-%.64s", site ? site : "", broker);

	for (char *q = id + 11; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '-' || *q == '_' || *q == '.'))
			*q = '_';
	return id;
}

/* One state of a value map: "ON" = 1, "online" = true. */
static void add_value(struct fp_cfg_errors *e, const config_setting_t *at, const char *text,
		      const config_setting_t *v, struct fp_mq_value *out, size_t *n)
{
	int t = v ? config_setting_type(v) : CONFIG_TYPE_NONE;

	if (!text || !*text || strlen(text) > 128) {
		fp_cfg_errors_add(e, at, NULL, "a state of values must be 1-128 characters");
		return;
	}
	if (t == CONFIG_TYPE_BOOL) {
		out[*n].is_bool = true;
		out[*n].v = config_setting_get_bool(v) ? 1 : 0;
	} else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT) {
		out[*n].v = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(v)
						   : (double)config_setting_get_int64(v);
	} else {
		fp_cfg_errors_add(e, at, NULL, "the state '%s' must map to a number or a boolean",
				  text);
		return;
	}
	out[*n].text = fp_xstrdup(text);
	(*n)++;
}

/* values = { ON = 1; OFF = 0; } or ( ("Off line", 0), ("on", true) ), and
 * type = "number" | "string", into sel. */
static void parse_sel_opts(struct fp_cfg_errors *e, const config_setting_t *g,
			   struct fp_mq_selector *sel)
{
	static const char *const types[] = { "number", "string", NULL };
	const config_setting_t *vs = config_setting_get_member(g, "values");
	struct fp_mq_value *out;
	int i, n, ty;

	if (fp_cfg_get_enum(e, g, "type", types, &ty) > 0)
		sel->type = (enum fp_mq_ftype)ty;
	if (!vs)
		return;
	if (config_setting_type(vs) != CONFIG_TYPE_GROUP &&
	    config_setting_type(vs) != CONFIG_TYPE_LIST) {
		fp_cfg_report(e, g, "values",
			      "expected { ON = 1; OFF = 0; } or ( (\"ON\", 1), (\"OFF\", 0) )");
		return;
	}
	n = config_setting_length(vs);
	out = fp_xcalloc(n ? (size_t)n : 1, sizeof(*out));
	sel->values = out;
	for (i = 0; i < n; i++) {
		config_setting_t *m = config_setting_get_elem(vs, (unsigned)i);
		if (config_setting_type(vs) == CONFIG_TYPE_GROUP) {
			add_value(e, m, config_setting_name(m), m, out, &sel->nvalues);
		} else if (config_setting_type(m) != CONFIG_TYPE_LIST ||
			   config_setting_length(m) != 2 ||
			   config_setting_type(config_setting_get_elem(m, 0)) !=
				   CONFIG_TYPE_STRING) {
			fp_cfg_errors_add(e, m, NULL, "expected (\"STATE\", NUMBER or BOOLEAN)");
		} else {
			add_value(e, m, config_setting_get_string_elem(m, 0),
				  config_setting_get_elem(m, 1), out, &sel->nvalues);
		}
	}
	if (sel->type == FP_MQ_STRING && sel->nvalues)
		fp_cfg_report(e, g, "values", "a string field keeps its text: no values");
}

/* The fields list of format = "json" (path) or of format = "value" with a
 * {field} level (level: the topic level a selector renames). */
static void parse_fields(struct fp_mq_sub *s, const config_setting_t *g, struct fp_cfg_errors *e,
			 bool json)
{
	static const char *const jkeys[] = { "path",   "field", "scale", "phase",
					     "values", "type",	NULL };
	static const char *const vkeys[] = { "level", "field", "scale", "values", "type", NULL };
	const config_setting_t *fl = config_setting_get_member(g, "fields");
	const char *pk = json ? "path" : "level";
	int i, n;

	if (!fl || config_setting_type(fl) != CONFIG_TYPE_LIST || config_setting_length(fl) == 0) {
		if (json || fl)
			fp_cfg_report(
				e, g, "fields",
				json ? "format = \"json\" needs a list of selectors "
				       "( { path = \"ENERGY.Power\"; field = \"power_w\"; }, ... )"
				     : "expected ( { level = \"yieldtotal\"; "
				       "field = \"energy_export_kwh\"; }, ... )");
		return;
	}
	n = config_setting_length(fl);
	s->own_sels = fp_xcalloc((size_t)n, sizeof(*s->own_sels));
	for (i = 0; i < n; i++) {
		const config_setting_t *sg = config_setting_get_elem(fl, (unsigned)i);
		struct fp_mq_selector *sel = &s->own_sels[s->own.nsels];
		char *path = NULL, *f = NULL, *ph = NULL;
		double scale = 1;
		if (config_setting_type(sg) != CONFIG_TYPE_GROUP) {
			fp_cfg_errors_add(e, sg, NULL, "expected { %s = ...; field = ...; }", pk);
			continue;
		}
		fp_cfg_check_keys(e, sg, json ? jkeys : vkeys);
		if (fp_cfg_get_string(e, sg, pk, &path) == 0)
			fp_cfg_report(e, sg, pk, "is required (e.g. \"%s\")",
				      json ? "ENERGY.Power" : "yieldtotal");
		if (fp_cfg_get_string(e, sg, "field", &f) == 0)
			fp_cfg_report(e, sg, "field", "is required (e.g. \"power_w\")");
		fp_cfg_get_float(e, sg, "scale", -1e300, 1e300, &scale);
		fp_cfg_get_string(e, sg, "phase", &ph);
		sel->path = path;
		sel->field = f;
		sel->phase = ph;
		sel->scale = scale;
		parse_sel_opts(e, sg, sel);
		s->own.nsels++;
	}
	s->own.sels = s->own_sels;
}

/* events = { device_joined = "in_service"; } or ( ("device joined",
 * "in_service") ): foreign event names to lifecycle events. */
static void parse_lc_events(struct fp_cfg_errors *e, const config_setting_t *m,
			    struct fp_mq_lcmap *lm)
{
	static const char *const evs[] = { "ordered",	     "received", "in_service",	"spare",
					   "decommissioned", "reused",	 "refurbished", "recycled",
					   "disposed",	     NULL };
	const config_setting_t *t = config_setting_get_member(m, "events");
	int i, k, n;

	if (!t)
		return;
	if ((config_setting_type(t) != CONFIG_TYPE_GROUP &&
	     config_setting_type(t) != CONFIG_TYPE_LIST) ||
	    config_setting_length(t) == 0) {
		fp_cfg_report(e, m, "events",
			      "expected { device_joined = \"in_service\"; } or "
			      "( (\"device joined\", \"in_service\") )");
		return;
	}
	n = config_setting_length(t);
	lm->names = fp_xcalloc((size_t)n, sizeof(*lm->names));
	lm->to = fp_xcalloc((size_t)n, sizeof(*lm->to));
	for (i = 0; i < n; i++) {
		const config_setting_t *x = config_setting_get_elem(t, (unsigned)i);
		const char *from = NULL, *to = NULL;
		if (config_setting_type(t) == CONFIG_TYPE_GROUP) {
			from = config_setting_name(x);
			to = config_setting_get_string(x);
		} else if (config_setting_type(x) == CONFIG_TYPE_LIST &&
			   config_setting_length(x) == 2) {
			from = config_setting_get_string_elem(x, 0);
			to = config_setting_get_string_elem(x, 1);
		}
		if (!from || !*from || !to) {
			fp_cfg_errors_add(e, x, NULL,
					  "expected NAME = \"EVENT\" or (\"NAME\", \"EVENT\")");
			continue;
		}
		for (k = 0; evs[k] && strcmp(evs[k], to); k++)
			;
		if (!evs[k]) {
			fp_cfg_errors_add(e, x, NULL,
					  "'%s' is not a lifecycle event (ordered, received, "
					  "in_service, spare, decommissioned, reused, refurbished, "
					  "recycled, disposed)",
					  to);
			continue;
		}
		lm->names[lm->nnames] = fp_xstrdup(from);
		lm->to[lm->nnames++] = fp_xstrdup(to);
	}
}

/* map = { event = "type"; asset_id = "data.ieee_address"; events = {...};
 * defaults = { category = "0402"; }; } of a lifecycle subscription. */
static void parse_lcmap(struct fp_mq_sub *s, const config_setting_t *g, struct fp_cfg_errors *e)
{
	const config_setting_t *m = config_setting_get_member(g, "map"), *d;
	const char *keys[FP_MQ_LC_NKEYS + 3];
	struct fp_mq_lcmap *lm;
	int k;

	if (!m)
		return;
	if (s->format != FP_MQ_LIFECYCLE) {
		fp_cfg_report(e, g, "map", "belongs to format = \"lifecycle\"");
		return;
	}
	if (config_setting_type(m) != CONFIG_TYPE_GROUP) {
		fp_cfg_report(e, g, "map",
			      "expected { event = \"type\"; asset_id = \"data.ieee_address\"; "
			      "events = { ... }; }");
		return;
	}
	for (k = 0; k < FP_MQ_LC_NKEYS; k++)
		keys[k] = fp_mq_lc_keys[k];
	keys[k++] = "events";
	keys[k++] = "defaults";
	keys[k] = NULL;
	fp_cfg_check_keys(e, m, keys);
	lm = s->lcmap = fp_xcalloc(1, sizeof(*lm));
	for (k = 0; k < FP_MQ_LC_NKEYS; k++)
		fp_cfg_get_string(e, m, fp_mq_lc_keys[k], (char **)&lm->path[k]);
	if (!lm->path[1])
		fp_cfg_report(e, m, "asset_id", "is required (the JSON path of the asset's id)");
	if (!lm->path[2])
		fp_cfg_report(e, m, "event", "is required (the JSON path of the event's name)");
	parse_lc_events(e, m, lm);
	d = config_setting_get_member(m, "defaults");
	if (d && config_setting_type(d) != CONFIG_TYPE_GROUP) {
		fp_cfg_report(e, m, "defaults", "expected { category = \"0402\"; mass_kg = 0.2; }");
	} else if (d) {
		static const char *const dkeys[] = { "category",	"model",
						     "mass_kg",		"embodied_co2e_kg",
						     "expected_life_y", NULL };
		fp_cfg_check_keys(e, d, dkeys);
		for (k = 0; dkeys[k]; k++) {
			int at; /* the key's index in fp_mq_lc_keys */
			double v;
			for (at = 0; strcmp(fp_mq_lc_keys[at], dkeys[k]); at++)
				;
			if (k < 2)
				fp_cfg_get_string(e, d, dkeys[k], (char **)&lm->dflt[at]);
			else if (fp_cfg_get_float(e, d, dkeys[k], 0, 1e9, &v) > 0)
				lm->dflt[at] = fp_xasprintf("%.17g", v);
		}
		if (lm->dflt[3] && strlen(lm->dflt[3]) > 16)
			fp_cfg_report(e, d, "category", "must be a UNU-KEY (e.g. \"0402\")");
	}
}

static void parse_sub(struct mq_broker_cfg *b, const config_setting_t *g,
		      const struct fp_config *cfg, struct fp_cfg_errors *e, int64_t max_payload)
{
	static const char *const keys[] = {
		"topic", "qos",	       "format",    "template",	   "role",	  "field",
		"scale", "fields",     "time_path", "time_format", "max_payload", "values",
		"type",	 "name_topic", "map",	    NULL,
	};
	static const char *const formats[] = {
		"value",       "json",	    "tasmota",	       "shelly-gen1",
		"shelly-gen2", "lifecycle", "emission-factor", NULL,
	};
	static const char *const tfs[] = { "none", "rfc3339", "epoch_s", "epoch_ms", NULL };
	struct fp_mq_sub *s;
	int64_t qos = 1;
	int fmt = -1, tf;
	char *tmpl = NULL, *tp = NULL, *field = NULL;
	uint64_t mp = (uint64_t)max_payload;
	const config_setting_t *fl;

	fp_xgrow((void **)&b->subs, &b->cap, b->nsubs + 1, sizeof(*b->subs));
	s = &b->subs[b->nsubs++];
	memset(s, 0, sizeof(*s));
	s->line = config_setting_source_line(g);
	s->tw = cfg->time_window;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { topic = ...; format = ...; }");
		return;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_string(e, g, "topic", &s->topic) == 0)
		fp_cfg_report(e, g, "topic", "is required (an MQTT topic filter)");
	else if (s->topic && mosquitto_sub_topic_check(s->topic) != MOSQ_ERR_SUCCESS)
		fp_cfg_report(e, g, "topic", "'%s' is not a valid topic filter", s->topic);
	if (fp_cfg_get_int(e, g, "qos", 0, 2, &qos) >= 0)
		s->qos = (int)qos;
	if (fp_cfg_get_enum(e, g, "format", formats, &fmt) == 0)
		fp_cfg_report(e, g, "format",
			      "is required (value, json, tasmota, shelly-gen1, "
			      "shelly-gen2, lifecycle, emission-factor)");
	s->format = fmt >= 0 ? (enum fp_mq_format)fmt : FP_MQ_VALUE;
	fp_cfg_get_role(e, g, "role", cfg->role_name, &s->role);
	fp_cfg_get_size(e, g, "max_payload", 16, 16u << 20, &mp);
	s->max_payload = (size_t)mp;
	fp_cfg_get_string(e, g, "template", &tmpl);
	s->own.tmpl = tmpl;
	s->own.json = s->format == FP_MQ_JSON;
	if (fp_cfg_get_string(e, g, "time_path", &tp) > 0)
		s->own.time_path = tp;
	s->own.time_format = tp ? FP_MQ_TIME_RFC3339 : FP_MQ_TIME_NONE;
	if (fp_cfg_get_enum(e, g, "time_format", tfs, &tf) > 0)
		s->own.time_format = (enum fp_mq_time)tf;
	s->field_from_topic = s->format == FP_MQ_VALUE && tmpl && strstr(tmpl, "{field}");
	if (s->field_from_topic) {
		/* the topic names the field: fields renames levels, the
		 * subscription's scale, values and type are for the others */
		s->dflt.scale = 1;
		fp_cfg_get_float(e, g, "scale", -1e300, 1e300, &s->dflt.scale);
		parse_sel_opts(e, g, &s->dflt);
		if (config_setting_get_member(g, "field"))
			fp_cfg_report(e, g, "field",
				      "the template's {field} level names the field");
		if (config_setting_get_member(g, "fields"))
			parse_fields(s, g, e, false);
	} else if (s->format == FP_MQ_VALUE && fmt >= 0) {
		double scale = 1;
		if (fp_cfg_get_string(e, g, "field", &field) == 0)
			fp_cfg_report(e, g, "field",
				      "is required with format = \"value\" "
				      "(or a {field} level in the template)");
		fp_cfg_get_float(e, g, "scale", -1e300, 1e300, &scale);
		s->own_sels = fp_xcalloc(1, sizeof(*s->own_sels));
		s->own_sels[0].field = field;
		s->own_sels[0].scale = scale;
		parse_sel_opts(e, g, &s->own_sels[0]);
		s->own.sels = s->own_sels;
		s->own.nsels = 1;
	} else if (config_setting_get_member(g, "values") || config_setting_get_member(g, "type")) {
		fp_cfg_report(e, g, config_setting_get_member(g, "values") ? "values" : "type",
			      "belongs to format = \"value\" (or to a selector of fields)");
	}
	fl = config_setting_get_member(g, "fields");
	if (s->format == FP_MQ_JSON)
		parse_fields(s, g, e, true);
	else if (fl && !s->field_from_topic)
		fp_cfg_report(e, g, "fields",
			      "selectors belong to format = \"json\" (or to a {field} template)");
	if (fp_cfg_get_string(e, g, "name_topic", &s->name_topic) > 0) {
		char *nf = fp_mq_template_filter(s->name_topic);
		if (s->format != FP_MQ_VALUE && s->format != FP_MQ_JSON)
			fp_cfg_report(e, g, "name_topic",
				      "belongs to format = \"value\" or \"json\"");
		else if (!strstr(s->name_topic, "{device}") ||
			 mosquitto_sub_topic_check(nf) != MOSQ_ERR_SUCCESS)
			fp_cfg_report(e, g, "name_topic",
				      "'%s' must be a topic template with a {device} level "
				      "(e.g. \"solar/{device}/name\")",
				      s->name_topic);
		free(nf);
	}
	if (s->format != FP_MQ_VALUE && config_setting_get_member(g, "field"))
		fp_cfg_report(e, g, "field", "belongs to format = \"value\"");
	if ((s->format == FP_MQ_TASMOTA || s->format == FP_MQ_SHELLY1 ||
	     s->format == FP_MQ_SHELLY2 || s->format == FP_MQ_LIFECYCLE ||
	     s->format == FP_MQ_EMISSION) &&
	    tmpl)
		fp_cfg_report(e, g, "template", "the %s format has its own topics",
			      formats[s->format]);
	parse_lcmap(s, g, e);
	fp_mq_sub_set_preset(s);
}

/* Which meters a subscription feeds: its role, and its template up to
 * the last level naming the device or the channel (the same for the
 * thirteen subscriptions of an OpenDTU's quantities), or a preset's
 * name, or its topic filter without a template.  Allocated. */
static char *meter_scope(const struct fp_mq_sub *s)
{
	static const char *const presets[] = { "", "", "tasmota", "shelly-gen1", "shelly-gen2" };
	const char *role = s->role ? s->role : "other";
	const char *t = s->own.tmpl, *end = NULL, *l;

	if (s->rules)
		return fp_xasprintf("%s|%s", role, presets[s->format]);
	if (!t)
		return fp_xasprintf("%s|%s", role, s->topic ? s->topic : "");
	for (l = t; *l; l += strcspn(l, "/") + (l[strcspn(l, "/")] == '/')) {
		const char *le = l + strcspn(l, "/");
		const char *d = strstr(l, "{device}"), *c = strstr(l, "{channel}");
		if ((d && d < le) || (c && c < le))
			end = le;
	}
	return fp_xasprintf("%s|%.*s", role, end ? (int)(end - t) : (int)strlen(t), t);
}

static void carry_add(const char ***v, size_t *n, size_t *cap, const char *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i], f))
			return;
	fp_xgrow((void **)v, cap, *n + 2, sizeof(**v));
	(*v)[(*n)++] = fp_xstrdup(f);
	(*v)[*n] = NULL;
}

/* Each meter subscription's may_carry: every field that the broker's
 * subscriptions of the same scope (meter_scope) can write. */
static void set_may_carry(struct mq_broker_cfg *b)
{
	size_t i, j, r, k;

	for (i = 0; i < b->nsubs; i++) {
		struct fp_mq_sub *s = &b->subs[i];
		const char **v = NULL;
		size_t n = 0, cap = 0;
		char *scope;

		if (s->format == FP_MQ_LIFECYCLE || s->format == FP_MQ_EMISSION)
			continue;
		scope = meter_scope(s);
		for (j = 0; j < b->nsubs; j++) {
			const struct fp_mq_sub *o = &b->subs[j];
			char *os;
			if (o->format == FP_MQ_LIFECYCLE || o->format == FP_MQ_EMISSION)
				continue;
			os = meter_scope(o);
			for (r = 0; !strcmp(os, scope) && r < o->nrules; r++) {
				const struct fp_mq_rule *ru = o->rules ? &o->rules[r] : &o->own;
				for (k = 0; k < ru->nsels; k++)
					carry_add(&v, &n, &cap, ru->sels[k].field);
			}
			free(os);
		}
		free(scope);
		s->may_carry = v;
	}
}

static void parse_broker(struct fp_mq_config *mc, const config_setting_t *g,
			 const struct fp_config *cfg, struct fp_cfg_errors *e)
{
	static const char *const keys[] = {
		"name",		 "url",	      "client_id",     "username",	"password_file",
		"ca_file",	 "cert_file", "key_file",      "tls_insecure",	"keepalive",
		"clean_session", "protocol",  "reconnect_min", "reconnect_max", "max_payload",
		"subscriptions", NULL,
	};
	static const char *const protos[] = { "3.1.1", "5", NULL };
	struct mq_broker_cfg *b;
	char *pw = NULL;
	const config_setting_t *subs;
	uint64_t mp = 256 * 1024;
	int pr;
	size_t i;

	fp_xgrow((void **)&mc->brokers, &mc->cap, mc->n + 1, sizeof(*mc->brokers));
	b = &mc->brokers[mc->n++];
	memset(b, 0, sizeof(*b));
	b->line = config_setting_source_line(g);
	b->keepalive_ms = 30000;
	b->reconnect_min_ms = 1000;
	b->reconnect_max_ms = 60000;
	b->clean_session = false;
	b->protocol = 4;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { name = ...; url = ...; }");
		return;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_string(e, g, "name", &b->name) > 0 && !fp_name_valid(b->name))
		fp_cfg_report(e, g, "name", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .",
			      b->name);
	if (!b->name) /* absent, or not a string (reported) */
		b->name = fp_xasprintf("broker%zu", mc->n - 1);
	for (i = 0; i + 1 < mc->n; i++)
		if (!strcmp(mc->brokers[i].name, b->name))
			fp_cfg_report(e, g, "name", "'%s' is already used", b->name);
	if (fp_cfg_get_string(e, g, "url", &b->url) == 0)
		fp_cfg_report(e, g, "url", "is required (mqtt://HOST:PORT or mqtts://HOST:PORT)");
	else if (b->url && parse_url(b) < 0)
		fp_cfg_report(e, g, "url", "'%s' must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]",
			      b->url);
	fp_cfg_get_string(e, g, "client_id", &b->client_id);
	if (b->client_id && (strlen(b->client_id) == 0 || strlen(b->client_id) > 23 * 10))
		fp_cfg_report(e, g, "client_id", "must be 1-230 characters");
	fp_cfg_get_string(e, g, "username", &b->username);
	if (fp_cfg_get_string(e, g, "password_file", &pw) > 0) {
		b->password = fp_cfg_read_secret(e, g, "password_file", pw);
		if (!b->username)
			fp_cfg_report(e, g, "username", "is required with password_file");
	}
	free(pw);
	fp_cfg_get_string(e, g, "ca_file", &b->ca_file);
	fp_cfg_get_string(e, g, "cert_file", &b->cert_file);
	fp_cfg_get_string(e, g, "key_file", &b->key_file);
	fp_cfg_get_bool(e, g, "tls_insecure", &b->insecure);
	fp_cfg_check_readable(e, g, "ca_file", b->ca_file);
	fp_cfg_check_readable(e, g, "cert_file", b->cert_file);
	fp_cfg_check_readable(e, g, "key_file", b->key_file);
	if (!b->cert_file != !b->key_file)
		fp_cfg_report(e, g, "cert_file", "cert_file and key_file go together");
	if ((b->ca_file || b->cert_file) && !b->tls)
		fp_cfg_report(e, g, "url", "TLS files need an mqtts:// URL");
	fp_cfg_get_duration(e, g, "keepalive", 5000, 3600000, &b->keepalive_ms);
	fp_cfg_get_duration(e, g, "reconnect_min", 100, 600000, &b->reconnect_min_ms);
	fp_cfg_get_duration(e, g, "reconnect_max", 100, 3600000, &b->reconnect_max_ms);
	if (b->reconnect_max_ms < b->reconnect_min_ms)
		fp_cfg_report(e, g, "reconnect_max", "must not be below reconnect_min");
	fp_cfg_get_bool(e, g, "clean_session", &b->clean_session);
	if (!b->clean_session && !b->client_id)
		b->client_id = default_client_id(cfg->site, b->name);
	if (fp_cfg_get_enum(e, g, "protocol", protos, &pr) > 0)
		b->protocol = pr == 0 ? 4 : 5;
	fp_cfg_get_size(e, g, "max_payload", 16, 16u << 20, &mp);
	subs = config_setting_get_member(g, "subscriptions");
	if (!subs || config_setting_type(subs) != CONFIG_TYPE_LIST ||
	    config_setting_length(subs) == 0) {
		fp_cfg_report(e, g, "subscriptions", "a broker needs a list of subscriptions");
	} else {
		int k, n = config_setting_length(subs);
		for (k = 0; k < n; k++)
			parse_sub(b, config_setting_get_elem(subs, (unsigned)k), cfg, e,
				  (int64_t)mp);
		set_may_carry(b);
	}
}

static void *config_parse(const config_setting_t *g, const struct fp_config *cfg,
			  struct fp_cfg_errors *e)
{
	static const char *const keys[] = { "brokers", NULL };
	struct fp_mq_config *mc = fp_xcalloc(1, sizeof(*mc));
	const config_setting_t *l;
	size_t before = e->n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { brokers = ( ... ); }");
		config_free(mc);
		return NULL;
	}
	fp_cfg_check_keys(e, g, keys);
	l = config_setting_get_member(g, "brokers");
	if (!l || config_setting_type(l) != CONFIG_TYPE_LIST)
		fp_cfg_report(e, g, "brokers", "is required (a list of brokers)");
	else
		for (int i = 0; i < config_setting_length(l); i++)
			parse_broker(mc, config_setting_get_elem(l, (unsigned)i), cfg, e);
	if (e->n > before) {
		config_free(mc);
		return NULL;
	}
	return mc;
}

static void config_describe(const void *mc, FILE *f)
{
	const struct fp_mq_config *c = mc;
	static const char *const formats[] = {
		"value",       "json",	    "tasmota",	       "shelly-gen1",
		"shelly-gen2", "lifecycle", "emission-factor",
	};
	for (size_t i = 0; i < c->n; i++) {
		const struct mq_broker_cfg *b = &c->brokers[i];
		fprintf(f, "mqtt broker %s (%s, %s session, client id %s): %zu subscriptions\n",
			b->name, b->url, b->clean_session ? "clean" : "persistent",
			b->client_id ? b->client_id : "(random)", b->nsubs);
		for (size_t k = 0; k < b->nsubs; k++)
			fprintf(f, "  %s qos %d format %s\n", b->subs[k].topic, b->subs[k].qos,
				formats[b->subs[k].format]);
	}
}

/* ---- run time ---- */

/* The names of the devices from a subscription's name_topic (the loop
 * thread's): bounded, the oldest forgotten first. */
#define NAMES_MAX 4096
struct mq_name {
	char *device, *name;
};

struct mq_sub_rt {
	atomic_ullong messages, bytes, malformed, ignored, bad_time;
	int mid;      /* of its SUBSCRIBE since the last connection (loop thread) */
	int name_mid; /* and of its name_topic's */
	char *name_filter;
	struct mq_name *names;
	size_t nnames, ncap;
};

struct mq_broker_rt {
	struct fp_mq_collector *owner;
	const struct mq_broker_cfg *cfg;
	struct mosquitto *mosq;
	struct mq_sub_rt *subs;
	atomic_bool connected, stop;
	atomic_ullong connects, disconnects;
	atomic_ullong keepalive_timeouts; /* disconnects for a missing PINGRESP */
	atomic_ullong sessions_lost;	  /* reconnections without the session */
	struct fp_complain lim;
	int64_t delay_ms;	/* the next reconnection's wait (its thread's) */
	size_t subacked;	/* SUBACKs since the last connection (loop thread) */
	size_t ntopics;		/* SUBSCRIBEs per connection: subscriptions and name topics */
	uint64_t rx, rx_nudged; /* messages received, at the last keep_alive (loop thread) */
	int64_t nudge_ns;	/* monotonic time of the last keep_alive turn */
	pthread_t thread;
	bool started;
};

struct fp_mq_collector {
	const struct fp_mq_config *mc;
	const struct fp_config *cfg;
	fp_push_fn push;
	void *arg;
	struct mq_broker_rt *b;
	size_t n;
};

static int lib_users;
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

/* A reconnection that did not find the session: what was published
 * while the agent was away (or in flight) is lost, said and counted. */
static void check_session(struct mq_broker_rt *b, bool present)
{
	bool clean = b->cfg->clean_session || b->owner->cfg->test_mode;

	if (atomic_load(&b->connects) == 0 || present)
		return;
	atomic_fetch_add(&b->sessions_lost, 1);
	if (clean)
		FP_LOG_LIMITED("mqtt: sessions lost", LOG_WARNING,
			       "mqtt[%s]: reconnected with a clean session (clean_session = true): "
			       "messages published while disconnected are lost",
			       b->cfg->name);
	else
		FP_LOG_LIMITED("mqtt: sessions lost", LOG_WARNING,
			       "mqtt[%s]: the broker kept no session for client id %s: messages "
			       "published while disconnected are lost",
			       b->cfg->name, b->cfg->client_id);
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags)
{
	struct mq_broker_rt *b = obj;
	size_t i;

	if (rc != 0) {
		fp_complain(&b->lim, LOG_WARNING, "mqtt[%s]: connection refused: %s", b->cfg->name,
			    b->cfg->protocol == 5 ? mosquitto_reason_string(rc)
						  : mosquitto_connack_string(rc));
		return;
	}
	check_session(b, flags & 1);
	atomic_store(&b->connected, true);
	atomic_fetch_add(&b->connects, 1);
	b->delay_ms = b->cfg->reconnect_min_ms;
	fp_release(&b->lim, LOG_NOTICE, "mqtt[%s]: connected to %s", b->cfg->name, b->cfg->url);
	fp_log(LOG_INFO, "mqtt[%s]: connected; subscribing to %zu topics", b->cfg->name,
	       b->ntopics);
	b->subacked = 0;
	for (i = 0; i < b->cfg->nsubs; i++) {
		int r = mosquitto_subscribe(m, &b->subs[i].mid, b->cfg->subs[i].topic,
					    b->cfg->subs[i].qos);
		if (r != MOSQ_ERR_SUCCESS)
			fp_log(LOG_WARNING, "mqtt[%s]: subscribe %s: %s", b->cfg->name,
			       b->cfg->subs[i].topic, mosquitto_strerror(r));
		if (!b->subs[i].name_filter)
			continue;
		r = mosquitto_subscribe(m, &b->subs[i].name_mid, b->subs[i].name_filter,
					b->cfg->subs[i].qos);
		if (r != MOSQ_ERR_SUCCESS)
			fp_log(LOG_WARNING, "mqtt[%s]: subscribe %s: %s", b->cfg->name,
			       b->subs[i].name_filter, mosquitto_strerror(r));
	}
}

/* A SUBACK: a refused subscription is said; once every one is answered,
 * the broker delivers what they match ("subscribed"). */
static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted)
{
	struct mq_broker_rt *b = obj;
	size_t i;

	(void)m;
	for (i = 0; i < b->cfg->nsubs; i++) {
		bool nm = b->subs[i].name_filter && b->subs[i].name_mid == mid;
		if (b->subs[i].mid != mid && !nm)
			continue;
		if (n < 1 || granted[0] >= 128)
			fp_log(LOG_WARNING, "mqtt[%s]: the broker refused the subscription to %s",
			       b->cfg->name, nm ? b->subs[i].name_filter : b->cfg->subs[i].topic);
		if (++b->subacked == b->ntopics)
			fp_log(LOG_INFO, "mqtt[%s]: subscribed to %zu topics", b->cfg->name,
			       b->ntopics);
		return;
	}
}

/* Why a connection ended: a v5 broker's DISCONNECT gives its reason code
 * (128 and up), anything else a MOSQ_ERR_ code (libmosquitto 2.0.11 has
 * no text for MOSQ_ERR_KEEPALIVE). */
static const char *lost_reason(int rc)
{
	if (rc >= 128)
		return mosquitto_reason_string(rc);
	if (rc == MOSQ_ERR_KEEPALIVE)
		return "no PINGRESP within the keepalive";
	return mosquitto_strerror(rc);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct mq_broker_rt *b = obj;

	(void)m;
	if (atomic_exchange(&b->connected, false))
		atomic_fetch_add(&b->disconnects, 1);
	if (rc == MOSQ_ERR_KEEPALIVE)
		atomic_fetch_add(&b->keepalive_timeouts, 1);
	if (rc != 0)
		fp_complain(&b->lim, LOG_WARNING, "mqtt[%s]: connection lost (%s); reconnecting",
			    b->cfg->name, lost_reason(rc));
}

/* Runs in the broker's network thread.  The points are handed to the
 * core (and so appended to the outputs' spools) before this returns, and
 * the loop (mq_loop.c) writes the PUBACK only after that. */
/* A name topic's message: remembers (or forgets) the device's name. */
static void set_name(struct mq_sub_rt *rt, char *device, char *name)
{
	size_t i;

	for (i = 0; i < rt->nnames; i++)
		if (!strcmp(rt->names[i].device, device))
			break;
	if (i == rt->nnames) {
		if (!name) {
			free(device);
			return;
		}
		if (rt->nnames == NAMES_MAX) {
			free(rt->names[0].device);
			free(rt->names[0].name);
			memmove(rt->names, rt->names + 1, (--rt->nnames) * sizeof(*rt->names));
			i--;
		}
		fp_xgrow((void **)&rt->names, &rt->ncap, rt->nnames + 1, sizeof(*rt->names));
		rt->names[rt->nnames++] = (struct mq_name){ device, NULL };
	} else {
		free(device);
	}
	free(rt->names[i].name);
	rt->names[i].name = name;
	if (!name) {
		free(rt->names[i].device);
		rt->names[i] = rt->names[--rt->nnames];
	}
}

/* Tags the meter points of devices that have a name. */
static void tag_names(const struct mq_sub_rt *rt, struct fp_batch *batch)
{
	size_t i, k;

	for (i = 0; rt->nnames && i < batch->n; i++) {
		const char *d = fp_point_tag_value(&batch->pts[i], "device");
		for (k = 0; d && k < rt->nnames; k++)
			if (!strcmp(rt->names[k].device, d)) {
				fp_point_tag(&batch->pts[i], "name", rt->names[k].name);
				break;
			}
	}
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	struct mq_broker_rt *b = obj;
	const struct mq_broker_cfg *bc = b->cfg;
	size_t i;

	(void)m;
	b->rx++;
	for (i = 0; i < bc->nsubs; i++) {
		const struct fp_mq_sub *s = &bc->subs[i];
		struct mq_sub_rt *rt = &b->subs[i];
		bool match = false;
		struct fp_batch batch;
		const char *why = NULL;
		char *dev, *name;
		int n;

		if (fp_mq_name_of(s, msg->topic, msg->payload, (size_t)msg->payloadlen, &dev,
				  &name)) {
			set_name(rt, dev, name);
			continue;
		}
		if (mosquitto_topic_matches_sub(s->topic, msg->topic, &match) != MOSQ_ERR_SUCCESS ||
		    !match)
			continue;
		atomic_fetch_add(&rt->messages, 1);
		atomic_fetch_add(&rt->bytes, (unsigned long long)msg->payloadlen);
		fp_batch_init(&batch);
		n = fp_mq_parse(s, b->owner->cfg->site, msg->topic, msg->payload,
				(size_t)msg->payloadlen, fp_real_ns(), &batch, &why);
		if (n == FP_MQ_BAD_TIME) {
			atomic_fetch_add(&rt->bad_time, 1);
			FP_LOG_LIMITED("mqtt: timestamps rejected", LOG_WARNING,
				       "mqtt[%s]: %s: %s; message rejected", bc->name, msg->topic,
				       why ? why : "timestamp outside the accepted window");
		} else if (n < 0) {
			atomic_fetch_add(&rt->malformed, 1);
			FP_LOG_LIMITED("mqtt: malformed messages", LOG_WARNING,
				       "mqtt[%s]: %s: %s; message skipped", bc->name, msg->topic,
				       why ? why : "malformed");
		} else if (n == 0) {
			atomic_fetch_add(&rt->ignored, 1);
		} else {
			tag_names(rt, &batch);
			b->owner->push(b->owner->arg, &batch);
		}
		fp_batch_reset(&batch);
	}
}

static void *collector_new(const void *cc, const struct fp_config *cfg, fp_push_fn push, void *arg)
{
	const struct fp_mq_config *mc = cc;
	struct fp_mq_collector *c = fp_xcalloc(1, sizeof(*c));
	size_t i;

	pthread_mutex_lock(&lib_lock);
	if (lib_users++ == 0)
		mosquitto_lib_init();
	pthread_mutex_unlock(&lib_lock);
	c->mc = mc;
	c->cfg = cfg;
	c->push = push;
	c->arg = arg;
	c->n = mc->n;
	c->b = fp_xcalloc(mc->n ? mc->n : 1, sizeof(*c->b));
	for (i = 0; i < mc->n; i++) {
		struct mq_broker_rt *b = &c->b[i];
		b->owner = c;
		b->cfg = &mc->brokers[i];
		b->subs = fp_xcalloc(b->cfg->nsubs ? b->cfg->nsubs : 1, sizeof(*b->subs));
		b->ntopics = b->cfg->nsubs;
		for (size_t k = 0; k < b->cfg->nsubs; k++)
			if (b->cfg->subs[k].name_topic) {
				b->subs[k].name_filter = fp_mq_template_filter(
					b->cfg->subs[k].name_topic);
				b->ntopics++;
			}
	}
	return c;
}

/* Room in a PUBLISH packet beyond its payload: the topic (at most 65535
 * bytes and its length), the fixed header, the packet id and properties. */
#define PACKET_ROOM (64 * 1024 + 1024)

/* The largest packet a broker may send: the largest max_payload of its
 * subscriptions plus PACKET_ROOM. */
static uint32_t max_packet(const struct mq_broker_cfg *bc)
{
	size_t mp = 16;

	for (size_t k = 0; k < bc->nsubs; k++)
		if (bc->subs[k].max_payload > mp)
			mp = bc->subs[k].max_payload;
	return (uint32_t)(mp + PACKET_ROOM);
}

/* MQTT v5: the CONNECT properties every connection of the client sends.
 * Maximum Packet Size: the broker drops (for this client only) a message
 * that does not fit, so a huge payload never reaches this process (with
 * 3.1.1, libmosquitto reads a whole packet, whatever its size, before
 * the message callback can refuse it).  With clean_session = false, a
 * Session Expiry Interval that never ends: v5's default, 0, ends the
 * session with the connection.  libmosquitto 2.0 has no asynchronous
 * connect taking properties; mosquitto_connect_bind_v5() keeps them for
 * every later (re)connection before it checks its host, so a call
 * without a host stores them and connects nowhere. */
static int set_v5_props(struct mq_broker_rt *b)
{
	const struct mq_broker_cfg *bc = b->cfg;
	mosquitto_property *props = NULL;
	int rc;

	rc = mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE, max_packet(bc));
	if (rc == MOSQ_ERR_SUCCESS && !bc->clean_session)
		rc = mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
						  UINT32_MAX);
	if (rc == MOSQ_ERR_SUCCESS) {
		rc = mosquitto_connect_bind_v5(b->mosq, NULL, bc->port,
					       (int)(bc->keepalive_ms / 1000), NULL, props);
		if (rc == MOSQ_ERR_INVAL) /* no host: stored, not connected */
			rc = MOSQ_ERR_SUCCESS;
	}
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS)
		fp_log(LOG_ERR, "mqtt[%s]: MQTT v5 connect properties: %s", bc->name,
		       mosquitto_strerror(rc));
	return rc == MOSQ_ERR_SUCCESS ? 0 : -EINVAL;
}

/* The filter of keep_alive's UNSUBSCRIBE: never subscribed. */
#define NUDGE_FILTER "footprintd/keepalive/none"

/* Keeps the connection alive while messages flow.  libmosquitto sends a
 * PINGREQ once the client has sent nothing for a keepalive, and closes
 * the connection (MOSQ_ERR_KEEPALIVE) if the PINGRESP has not been read
 * a keepalive later.  With QoS 0 messages the client sends nothing else,
 * and while it reads a backlog the PINGRESP waits behind it: an agent
 * more than a keepalive behind lost its connection, and a clean
 * session's backlog with it.  Every half keepalive in which messages
 * arrived, an UNSUBSCRIBE of a filter never subscribed (the broker only
 * answers UNSUBACK) is sent: the client has sent something, so no PINGREQ
 * is due and a late PINGRESP closes nothing, and the broker hears from the
 * client.  An idle connection is left to libmosquitto's PINGREQ, which
 * still detects a dead broker. */
static void keep_alive(struct mq_broker_rt *b)
{
	int64_t now = fp_mono_ns();

	if (now - b->nudge_ns < b->cfg->keepalive_ms * 500000)
		return;
	if (b->rx != b->rx_nudged && atomic_load(&b->connected))
		mosquitto_unsubscribe(b->mosq, NULL, NUDGE_FILTER);
	b->nudge_ns = now;
	b->rx_nudged = b->rx;
}

/* Sleeps ms, in slices, until stop is set. */
static void nap(struct mq_broker_rt *b, int64_t ms)
{
	while (ms > 0 && !atomic_load(&b->stop)) {
		int64_t t = ms > 50 ? 50 : ms;
		struct timespec ts = { 0, (long)t * 1000000L };
		nanosleep(&ts, NULL);
		ms -= t;
	}
}

/* The broker's network thread: connects, runs the loop, and after any
 * error (a lost connection, a refused one, a protocol or TLS error)
 * connects again after reconnect_min doubling to reconnect_max, until
 * the collector stops. */
static void *broker_thread(void *arg)
{
	struct mq_broker_rt *b = arg;
	const struct mq_broker_cfg *bc = b->cfg;
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "mqtt/%.10s", bc->name);
	pthread_setname_np(pthread_self(), name);
	rc = mosquitto_connect_async(b->mosq, bc->host, bc->port, (int)(bc->keepalive_ms / 1000));
	for (;;) {
		if (atomic_load(&b->stop)) {
			/* the DISCONNECT, written from here like everything */
			if (mosquitto_disconnect(b->mosq) == MOSQ_ERR_SUCCESS)
				for (int i = 0; i < 20 && mosquitto_want_write(b->mosq) &&
				     fp_mq_loop_once(b->mosq, atomic_load(&b->connected), 50, 1) ==
					     MOSQ_ERR_SUCCESS;
				     i++)
					;
			break;
		}
		if (rc == MOSQ_ERR_SUCCESS) {
			/* a short poll: a stop is seen within it */
			rc = fp_mq_loop_once(b->mosq, atomic_load(&b->connected), 250, 100);
			if (rc == MOSQ_ERR_SUCCESS)
				keep_alive(b);
			continue;
		}
		/* a lost connection was logged by on_disconnect */
		if (rc != MOSQ_ERR_CONN_LOST && rc != MOSQ_ERR_NO_CONN)
			fp_complain(&b->lim, LOG_WARNING,
				    "mqtt[%s]: %s: %s; connecting again in %" PRId64 " ms",
				    bc->name, bc->url,
				    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc),
				    b->delay_ms);
		nap(b, b->delay_ms);
		b->delay_ms = b->delay_ms * 2 > bc->reconnect_max_ms ? bc->reconnect_max_ms
								     : b->delay_ms * 2;
		if (!atomic_load(&b->stop))
			rc = mosquitto_reconnect_async(b->mosq);
	}
	return NULL;
}

static int start_broker(struct mq_broker_rt *b)
{
	const struct mq_broker_cfg *bc = b->cfg;
	int rc;

	if (b->owner->cfg->test_mode) {
		/* --test never takes over the daemon's persistent session. */
		char *id = fp_xasprintf("%.200s-test-%d",
					bc->client_id ? bc->client_id : "footprintd",
					(int)getpid());
		b->mosq = mosquitto_new(id, true, b);
		free(id);
	} else {
		b->mosq = mosquitto_new(bc->client_id, bc->clean_session, b);
	}
	if (!b->mosq) {
		fp_log(LOG_ERR, "mqtt[%s]: cannot create a client: %s", bc->name, strerror(errno));
		return -ENOMEM;
	}
	mosquitto_threaded_set(b->mosq, true); /* our thread runs the loop */
	mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     bc->protocol == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	if (bc->protocol == 5 && set_v5_props(b) < 0)
		return -EINVAL;
	mosquitto_connect_with_flags_callback_set(b->mosq, on_connect);
	mosquitto_disconnect_callback_set(b->mosq, on_disconnect);
	mosquitto_message_callback_set(b->mosq, on_message);
	mosquitto_subscribe_callback_set(b->mosq, on_subscribe);
	if (bc->username)
		mosquitto_username_pw_set(b->mosq, bc->username, bc->password);
	if (bc->tls) {
		rc = mosquitto_tls_set(b->mosq, bc->ca_file, bc->ca_file ? NULL : "/etc/ssl/certs",
				       bc->cert_file, bc->key_file, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			fp_log(LOG_ERR, "mqtt[%s]: TLS setup: %s", bc->name,
			       mosquitto_strerror(rc));
			return -EINVAL;
		}
		if (bc->insecure) {
			fp_log(LOG_WARNING,
			       "mqtt[%s]: tls_insecure: the broker's host name is NOT "
			       "checked",
			       bc->name);
			mosquitto_tls_insecure_set(b->mosq, true);
		}
	}
	b->delay_ms = bc->reconnect_min_ms;
	atomic_store(&b->stop, false);
	rc = pthread_create(&b->thread, NULL, broker_thread, b);
	if (rc != 0) {
		fp_log(LOG_ERR, "mqtt[%s]: cannot start its thread: %s", bc->name, strerror(rc));
		return -EINVAL;
	}
	b->started = true;
	return 0;
}

static int collector_start(void *inst)
{
	struct fp_mq_collector *c = inst;

	for (size_t i = 0; i < c->n; i++)
		if (start_broker(&c->b[i]) < 0)
			return -1;
	return 0;
}

static void collector_stop(void *inst)
{
	struct fp_mq_collector *c = inst;

	for (size_t i = 0; i < c->n; i++) {
		struct mq_broker_rt *b = &c->b[i];
		if (!b->mosq)
			continue;
		if (b->started) {
			atomic_store(&b->stop, true); /* seen within 250 ms */
			pthread_join(b->thread, NULL);
			b->started = false;
		}
		mosquitto_destroy(b->mosq);
		b->mosq = NULL;
	}
}

static void collector_metrics(void *inst, struct fp_batch *bt, const char *site, const char *host,
			      int64_t ts_ns)
{
	struct fp_mq_collector *c = inst;

	for (size_t i = 0; i < c->n; i++) {
		struct mq_broker_rt *b = &c->b[i];
		struct fp_point *p = fp_batch_self(bt, ts_ns, site, host, "mqtt/%s", b->cfg->name);
		unsigned long long msgs = 0, bytes = 0, bad = 0, ign = 0, btime = 0;

		for (size_t k = 0; k < b->cfg->nsubs; k++) {
			msgs += atomic_load(&b->subs[k].messages);
			bytes += atomic_load(&b->subs[k].bytes);
			bad += atomic_load(&b->subs[k].malformed);
			ign += atomic_load(&b->subs[k].ignored);
			btime += atomic_load(&b->subs[k].bad_time);
		}
		fp_point_int(p, "mqtt_messages", (int64_t)msgs);
		fp_point_int(p, "mqtt_bytes", (int64_t)bytes);
		fp_point_int(p, "mqtt_malformed", (int64_t)bad);
		fp_point_int(p, "mqtt_ignored", (int64_t)ign);
		fp_point_int(p, "mqtt_time_rejected", (int64_t)btime);
		fp_point_int(p, "connects", (int64_t)atomic_load(&b->connects));
		fp_point_int(p, "disconnects", (int64_t)atomic_load(&b->disconnects));
		fp_point_int(p, "keepalive_timeouts", (int64_t)atomic_load(&b->keepalive_timeouts));
		fp_point_int(p, "sessions_lost", (int64_t)atomic_load(&b->sessions_lost));
		fp_point_bool(p, "connected", atomic_load(&b->connected));
		/* and one point per subscription: mqtt/<broker>/<topic filter> */
		for (size_t k = 0; k < b->cfg->nsubs; k++) {
			struct fp_point *q = fp_batch_self(bt, ts_ns, site, host, "mqtt/%s/%s",
							   b->cfg->name, b->cfg->subs[k].topic);
			fp_point_int(q, "mqtt_messages",
				     (int64_t)atomic_load(&b->subs[k].messages));
			fp_point_int(q, "mqtt_bytes", (int64_t)atomic_load(&b->subs[k].bytes));
			fp_point_int(q, "mqtt_malformed",
				     (int64_t)atomic_load(&b->subs[k].malformed));
			fp_point_int(q, "mqtt_ignored", (int64_t)atomic_load(&b->subs[k].ignored));
			fp_point_int(q, "mqtt_time_rejected",
				     (int64_t)atomic_load(&b->subs[k].bad_time));
		}
	}
}

/* --test --test-wait: each subscription that gave no point while --test
 * listened, named like its self-metrics (mqtt/<broker>/<topic filter>)
 * with the reason and the broker.  An event subscription (lifecycle,
 * emission factors) is named but does not fail --test: events are rare. */
static size_t collector_test_silent(void *inst, FILE *f, int64_t waited_s)
{
	struct fp_mq_collector *c = inst;
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++) {
		struct mq_broker_rt *b = &c->b[i];
		bool never = atomic_load(&b->connects) == 0;

		for (size_t k = 0; k < b->cfg->nsubs; k++) {
			const struct fp_mq_sub *s = &b->cfg->subs[k];
			struct mq_sub_rt *rt = &b->subs[k];
			unsigned long long msgs = atomic_load(&rt->messages);
			unsigned long long bad = atomic_load(&rt->malformed);
			unsigned long long ign = atomic_load(&rt->ignored);
			unsigned long long btime = atomic_load(&rt->bad_time);
			bool event = s->format == FP_MQ_LIFECYCLE || s->format == FP_MQ_EMISSION;
			char why[160];

			if (msgs > bad + ign + btime)
				continue;
			if (never)
				snprintf(why, sizeof(why), "never connected to the broker");
			else if (msgs == 0)
				snprintf(why, sizeof(why), "no message");
			else
				snprintf(
					why, sizeof(why),
					"%llu message(s), none valid: %llu malformed, %llu ignored, "
					"%llu with a rejected time",
					msgs, bad, ign, btime);
			fprintf(f,
				"footprintd: --test: mqtt/%s/%s produced nothing in %lld s (%s; "
				"broker %s)%s\n",
				b->cfg->name, s->topic, (long long)waited_s, why, b->cfg->url,
				event ? "; an event subscription: not a failure" : "");
			if (!event)
				n++;
		}
	}
	return n;
}

static void collector_free(void *inst)
{
	struct fp_mq_collector *c = inst;

	if (!c)
		return;
	collector_stop(c);
	for (size_t i = 0; i < c->n; i++) {
		for (size_t k = 0; k < c->b[i].cfg->nsubs; k++) {
			struct mq_sub_rt *rt = &c->b[i].subs[k];
			for (size_t j = 0; j < rt->nnames; j++) {
				free(rt->names[j].device);
				free(rt->names[j].name);
			}
			free(rt->names);
			free(rt->name_filter);
		}
		free(c->b[i].subs);
	}
	free(c->b);
	free(c);
	pthread_mutex_lock(&lib_lock);
	if (--lib_users == 0)
		mosquitto_lib_cleanup();
	pthread_mutex_unlock(&lib_lock);
}

const struct fp_collector_ops fp_mqtt_collector = {
	.group = "mqtt",
	.parse = config_parse,
	.free_config = config_free,
	.describe = config_describe,
	.create = collector_new,
	.start = collector_start,
	.gather = NULL, /* push: listens (--test-wait) */
	.stop = collector_stop,
	.metrics = collector_metrics,
	.destroy = collector_free,
	.status_field = "mqtt_messages",
	.status_what = "MQTT messages",
	.test_silent = collector_test_silent,
};
