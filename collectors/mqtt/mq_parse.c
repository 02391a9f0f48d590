/* mq_parse.c - MQTT payloads to points. */
#include "config.h"

#include "mq_parse.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

#define MAX_DEPTH 32
#define MAX_CHANNELS 16

/* ---- presets, through the same selectors as the json format ---- */

#define S(p, f, sc)                                \
	{                                          \
		.path = p, .field = f, .scale = sc \
	}
#define SP(p, f, sc, ph)                                        \
	{                                                       \
		.path = p, .field = f, .scale = sc, .phase = ph \
	}

static const struct fp_mq_selector tasmota_sensor[] = {
	S("ENERGY.Total", "energy_import_kwh", 1),
	S("ENERGY.Power", "power_w", 1),
	S("ENERGY.ApparentPower", "apparent_power_va", 1),
	S("ENERGY.ReactivePower", "reactive_power_var", 1),
	S("ENERGY.Factor", "power_factor", 1),
	S("ENERGY.Voltage", "voltage_v", 1),
	S("ENERGY.Current", "current_a", 1),
};
static const struct fp_mq_selector tasmota_status[] = {
	S("StatusSNS.ENERGY.Total", "energy_import_kwh", 1),
	S("StatusSNS.ENERGY.Power", "power_w", 1),
	S("StatusSNS.ENERGY.ApparentPower", "apparent_power_va", 1),
	S("StatusSNS.ENERGY.ReactivePower", "reactive_power_var", 1),
	S("StatusSNS.ENERGY.Factor", "power_factor", 1),
	S("StatusSNS.ENERGY.Voltage", "voltage_v", 1),
	S("StatusSNS.ENERGY.Current", "current_a", 1),
};
static const struct fp_mq_rule tasmota_rules[] = {
	{ "tele/+/SENSOR", "tele/{device}/SENSOR", true, tasmota_sensor,
	  FP_ARRAY_SIZE(tasmota_sensor), NULL, FP_MQ_TIME_NONE },
	{ "stat/+/STATUS10", "stat/{device}/STATUS10", true, tasmota_status,
	  FP_ARRAY_SIZE(tasmota_status), NULL, FP_MQ_TIME_NONE },
};

static const struct fp_mq_selector sh1_power[] = { S(NULL, "power_w", 1) };
static const struct fp_mq_selector sh1_energy_wmin[] = { S(NULL, "energy_import_kwh",
							   1.0 / 60000.0) };
static const struct fp_mq_selector sh1_voltage[] = { S(NULL, "voltage_v", 1) };
static const struct fp_mq_selector sh1_reactive[] = { S(NULL, "reactive_power_var", 1) };
static const struct fp_mq_selector sh1_total_wh[] = { S(NULL, "energy_import_kwh", 0.001) };
static const struct fp_mq_selector sh1_returned_wh[] = { S(NULL, "energy_export_kwh", 0.001) };
static const struct fp_mq_rule shelly1_rules[] = {
	{ "shellies/+/relay/+/power", "shellies/{device}/relay/{channel}/power", false, sh1_power,
	  1, NULL, FP_MQ_TIME_NONE },
	{ "shellies/+/relay/+/energy", "shellies/{device}/relay/{channel}/energy", false,
	  sh1_energy_wmin, 1, NULL, FP_MQ_TIME_NONE },
	{ "shellies/+/emeter/+/power", "shellies/{device}/emeter/{channel}/power", false, sh1_power,
	  1, NULL, FP_MQ_TIME_NONE },
	{ "shellies/+/emeter/+/voltage", "shellies/{device}/emeter/{channel}/voltage", false,
	  sh1_voltage, 1, NULL, FP_MQ_TIME_NONE },
	{ "shellies/+/emeter/+/reactive_power", "shellies/{device}/emeter/{channel}/reactive_power",
	  false, sh1_reactive, 1, NULL, FP_MQ_TIME_NONE },
	{ "shellies/+/emeter/+/total", "shellies/{device}/emeter/{channel}/total", false,
	  sh1_total_wh, 1, NULL, FP_MQ_TIME_NONE },
	{ "shellies/+/emeter/+/total_returned", "shellies/{device}/emeter/{channel}/total_returned",
	  false, sh1_returned_wh, 1, NULL, FP_MQ_TIME_NONE },
};

static const struct fp_mq_selector sh2_switch[] = {
	S("apower", "power_w", 1),
	S("voltage", "voltage_v", 1),
	S("current", "current_a", 1),
	S("freq", "frequency_hz", 1),
	S("pf", "power_factor", 1),
	S("aenergy.total", "energy_import_kwh", 0.001),
	S("ret_aenergy.total", "energy_export_kwh", 0.001),
};
static const struct fp_mq_selector sh2_rpc[] = {
	S("params.switch:0.apower", "power_w", 1),
	S("params.switch:0.voltage", "voltage_v", 1),
	S("params.switch:0.current", "current_a", 1),
	S("params.switch:0.freq", "frequency_hz", 1),
	S("params.switch:0.pf", "power_factor", 1),
	S("params.switch:0.aenergy.total", "energy_import_kwh", 0.001),
	S("params.switch:0.ret_aenergy.total", "energy_export_kwh", 0.001),
};
static const struct fp_mq_selector sh2_em[] = {
	S("total_act_power", "power_w", 1),
	S("total_aprt_power", "apparent_power_va", 1),
	S("total_current", "current_a", 1),
	SP("a_act_power", "power_w", 1, "A"),
	SP("b_act_power", "power_w", 1, "B"),
	SP("c_act_power", "power_w", 1, "C"),
	SP("a_aprt_power", "apparent_power_va", 1, "A"),
	SP("b_aprt_power", "apparent_power_va", 1, "B"),
	SP("c_aprt_power", "apparent_power_va", 1, "C"),
	SP("a_voltage", "voltage_v", 1, "A"),
	SP("b_voltage", "voltage_v", 1, "B"),
	SP("c_voltage", "voltage_v", 1, "C"),
	SP("a_current", "current_a", 1, "A"),
	SP("b_current", "current_a", 1, "B"),
	SP("c_current", "current_a", 1, "C"),
	SP("a_pf", "power_factor", 1, "A"),
	SP("b_pf", "power_factor", 1, "B"),
	SP("c_pf", "power_factor", 1, "C"),
};
static const struct fp_mq_selector sh2_emdata[] = {
	S("total_act", "energy_import_kwh", 0.001),
	S("total_act_ret", "energy_export_kwh", 0.001),
	SP("a_total_act_energy", "energy_import_kwh", 0.001, "A"),
	SP("b_total_act_energy", "energy_import_kwh", 0.001, "B"),
	SP("c_total_act_energy", "energy_import_kwh", 0.001, "C"),
	SP("a_total_act_ret_energy", "energy_export_kwh", 0.001, "A"),
	SP("b_total_act_ret_energy", "energy_export_kwh", 0.001, "B"),
	SP("c_total_act_ret_energy", "energy_export_kwh", 0.001, "C"),
};
static const struct fp_mq_rule shelly2_rules[] = {
	{ "+/status/+", "{device}/status/switch:{channel}", true, sh2_switch,
	  FP_ARRAY_SIZE(sh2_switch), NULL, FP_MQ_TIME_NONE },
	{ "+/events/rpc", "{device}/events/rpc", true, sh2_rpc, FP_ARRAY_SIZE(sh2_rpc), "params.ts",
	  FP_MQ_TIME_EPOCH_S },
	{ "+/status/+", "{device}/status/em:{channel}", true, sh2_em, FP_ARRAY_SIZE(sh2_em), NULL,
	  FP_MQ_TIME_NONE },
	{ "+/status/+", "{device}/status/emdata:{channel}", true, sh2_emdata,
	  FP_ARRAY_SIZE(sh2_emdata), NULL, FP_MQ_TIME_NONE },
};

void fp_mq_sub_set_preset(struct fp_mq_sub *s)
{
	switch (s->format) {
	case FP_MQ_TASMOTA:
		s->rules = tasmota_rules;
		s->nrules = FP_ARRAY_SIZE(tasmota_rules);
		break;
	case FP_MQ_SHELLY1:
		s->rules = shelly1_rules;
		s->nrules = FP_ARRAY_SIZE(shelly1_rules);
		break;
	case FP_MQ_SHELLY2:
		s->rules = shelly2_rules;
		s->nrules = FP_ARRAY_SIZE(shelly2_rules);
		break;
	default:
		/* its own rule: NULL, not &s->own, which moves when the array
		 * of subscriptions grows */
		s->rules = NULL;
		s->nrules = 1;
		break;
	}
}

/* MQTT filter matching ('+' one level, '#' the rest). */
static bool topic_matches(const char *filter, const char *topic)
{
	while (*filter) {
		if (*filter == '#')
			return true;
		if (*filter == '+') {
			while (*topic && *topic != '/')
				topic++;
			filter++;
		} else {
			while (*filter && *filter != '/' && *filter == *topic) {
				filter++;
				topic++;
			}
			if (*filter && *filter != '/')
				return false;
			if (*topic && *topic != '/')
				return false;
		}
		if (!*filter)
			return !*topic;
		if (*topic != '/')
			return !strcmp(filter, "/#");
		filter++;
		topic++;
	}
	return !*topic;
}

/* As fp_mq_template; with fbuf, the {field} level goes there instead of
 * into a tag (fbuf[0] stays '\0' when the template has none). */
static bool template_match(const char *tmpl, const char *topic, struct fp_point *p, char *fbuf,
			   size_t fsize)
{
	while (*tmpl) {
		const char *te = strchr(tmpl, '/'), *oe = strchr(topic, '/');
		size_t tl = te ? (size_t)(te - tmpl) : strlen(tmpl);
		size_t ol = oe ? (size_t)(oe - topic) : strlen(topic);
		const char *brace = memchr(tmpl, '{', tl);

		if (!*topic && !(tl == 0))
			return false;
		if (brace) {
			size_t pre = (size_t)(brace - tmpl);
			const char *close = memchr(brace, '}', tl - pre);
			char name[64], val[256];
			size_t nl, vl;
			if (!close || close != tmpl + tl - 1 || ol < pre ||
			    memcmp(tmpl, topic, pre))
				return false;
			nl = (size_t)(close - brace - 1);
			vl = ol - pre;
			if (nl == 0 || nl >= sizeof(name) || vl == 0 || vl >= sizeof(val))
				return false;
			memcpy(name, brace + 1, nl);
			name[nl] = '\0';
			memcpy(val, topic + pre, vl);
			val[vl] = '\0';
			if (fbuf && !strcmp(name, "field")) {
				if (vl < fsize)
					memcpy(fbuf, val, vl + 1);
				/* else stays "": not a valid field name */
			} else if (strcmp(name, "_")) {
				fp_point_tag(p, name, val);
			}
		} else if (!(tl == 1 && tmpl[0] == '+') && (tl != ol || memcmp(tmpl, topic, tl))) {
			if (tl == 1 && tmpl[0] == '#')
				return true;
			return false;
		}
		tmpl += tl;
		topic += ol;
		if (*tmpl == '/' && *topic == '/') {
			tmpl++;
			topic++;
		} else if (*tmpl || *topic) {
			return false;
		}
	}
	return !*topic;
}

bool fp_mq_template(const char *tmpl, const char *topic, struct fp_point *p)
{
	return template_match(tmpl, topic, p, NULL, 0);
}

char *fp_mq_template_filter(const char *tmpl)
{
	char *f = fp_xstrdup(tmpl), *o = f;
	const char *l = tmpl;

	while (*l) {
		size_t n = strcspn(l, "/");
		if (memchr(l, '{', n)) {
			*o++ = '+';
		} else {
			memcpy(o, l, n);
			o += n;
		}
		l += n;
		if (*l == '/')
			*o++ = *l++;
	}
	*o = '\0';
	return f;
}

/* Printable UTF-8 (no control character): what a string field or a name
 * may hold. */
static bool printable_utf8(const unsigned char *t, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = t[i];
		size_t k,
			n = c < 0x80	     ? 0
			: (c & 0xE0) == 0xC0 ? 1
			: (c & 0xF0) == 0xE0 ? 2
			: (c & 0xF8) == 0xF0 ? 3
					     : 9;
		if (n == 9 || (n == 1 && c < 0xC2) || (n == 3 && c > 0xF4) || (n && i + n >= len))
			return false;
		if (n == 0 && (c < 0x20 || c == 0x7F))
			return false;
		for (k = 1; k <= n; k++)
			if ((t[i + k] & 0xC0) != 0x80)
				return false;
		i += n + 1;
	}
	return true;
}

static void trim(const char **t, size_t *len)
{
	while (*len && isspace((unsigned char)**t)) {
		(*t)++;
		(*len)--;
	}
	while (*len && isspace((unsigned char)(*t)[*len - 1]))
		(*len)--;
}

bool fp_mq_name_of(const struct fp_mq_sub *s, const char *topic, const char *payload, size_t len,
		   char **device, char **name)
{
	struct fp_batch t;
	struct fp_point *p;
	const char *d;

	*device = *name = NULL;
	if (!s->name_topic)
		return false;
	fp_batch_init(&t);
	p = fp_batch_add(&t, "m", 0);
	if (!fp_mq_template(s->name_topic, topic, p)) {
		fp_batch_reset(&t);
		return false;
	}
	d = fp_point_tag_value(p, "device");
	*device = fp_xstrdup(d ? d : topic);
	fp_batch_reset(&t);
	trim(&payload, &len);
	if (len > 0 && len <= 128 && printable_utf8((const unsigned char *)payload, len))
		*name = fp_xasprintf("%.*s", (int)len, payload);
	return true;
}

/* Walks "a.b[2].c" (keys may hold ':'). */
static json_object *walk(json_object *o, const char *path)
{
	char key[128];

	while (o && *path) {
		size_t n = strcspn(path, ".[");
		if (n) {
			if (n >= sizeof(key) || !json_object_is_type(o, json_type_object))
				return NULL;
			memcpy(key, path, n);
			key[n] = '\0';
			if (!json_object_object_get_ex(o, key, &o))
				return NULL;
			path += n;
		}
		while (*path == '[') {
			char *end;
			long i = strtol(path + 1, &end, 10);
			if (*end != ']' || i < 0 || !json_object_is_type(o, json_type_array) ||
			    (size_t)i >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, (size_t)i);
			path = end + 1;
		}
		if (*path == '.')
			path++;
	}
	return o;
}

/* A JSON number (or a numeric string): true and *v. */
static bool number_of(json_object *o, double *v)
{
	if (!o)
		return false;
	if (json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int)) {
		*v = json_object_get_double(o);
		return isfinite(*v);
	}
	if (json_object_is_type(o, json_type_boolean)) {
		*v = json_object_get_boolean(o) ? 1 : 0;
		return true;
	}
	if (json_object_is_type(o, json_type_string)) {
		const char *s = json_object_get_string(o);
		char *end;
		*v = strtod(s, &end);
		return end != s && *end == '\0' && isfinite(*v);
	}
	return false;
}

static bool parse_number_text(const char *p, size_t len, double *v)
{
	char buf[64], *end;
	size_t a = 0, b = len;

	while (a < b && isspace((unsigned char)p[a]))
		a++;
	while (b > a && isspace((unsigned char)p[b - 1]))
		b--;
	if (b - a == 0 || b - a >= sizeof(buf))
		return false;
	memcpy(buf, p + a, b - a);
	buf[b - a] = '\0';
	errno = 0;
	*v = strtod(buf, &end);
	return !errno && *end == '\0' && end != buf && isfinite(*v);
}

/* A value read for a field: none, a float, a boolean or a string. */
struct val {
	enum { V_NONE, V_FLOAT, V_BOOL, V_STRING } k;
	double v;
	char *s;
};

/* Reads the text t (a plain payload or a JSON string) by the selector: a
 * state of its value map, the text itself (type string), a number
 * (scaled), or true/false (1/0).  False when none fits. */
static bool text_value(const struct fp_mq_selector *sel, const char *t, size_t len, struct val *out)
{
	size_t i;

	out->k = V_NONE;
	trim(&t, &len);
	for (i = 0; i < sel->nvalues; i++) {
		const struct fp_mq_value *m = &sel->values[i];
		if (strlen(m->text) == len && !strncasecmp(m->text, t, len)) {
			out->k = m->is_bool ? V_BOOL : V_FLOAT;
			out->v = m->v;
			return true;
		}
	}
	if (sel->type == FP_MQ_STRING) {
		if (len == 0 || len > 1024 || !printable_utf8((const unsigned char *)t, len))
			return false;
		out->k = V_STRING;
		out->s = fp_xasprintf("%.*s", (int)len, t);
		return true;
	}
	if (parse_number_text(t, len, &out->v)) {
		out->k = V_FLOAT;
		out->v *= sel->scale;
		return true;
	}
	if ((len == 4 && !memcmp(t, "true", 4)) || (len == 5 && !memcmp(t, "false", 5))) {
		out->k = V_FLOAT;
		out->v = len == 4 ? 1 : 0;
		return true;
	}
	return false;
}

/* A JSON value by the selector (text_value for strings, for booleans
 * with a value map, and for every value of a string field). */
static bool json_value(const struct fp_mq_selector *sel, json_object *o, struct val *out)
{
	out->k = V_NONE;
	if (!o || json_object_is_type(o, json_type_object) ||
	    json_object_is_type(o, json_type_array) || json_object_is_type(o, json_type_null))
		return false;
	if (json_object_is_type(o, json_type_string) || sel->type == FP_MQ_STRING ||
	    (sel->nvalues && json_object_is_type(o, json_type_boolean))) {
		const char *t = json_object_get_string(o);
		return text_value(sel, t, strlen(t), out);
	}
	if (!number_of(o, &out->v))
		return false;
	out->k = V_FLOAT;
	out->v *= sel->scale;
	return true;
}

/* Writes v as field of p and frees it. */
static void put_val(struct fp_point *p, const char *field, struct val *v)
{
	if (v->k == V_FLOAT)
		fp_point_float(p, field, v->v);
	else if (v->k == V_BOOL)
		fp_point_bool(p, field, v->v != 0);
	else if (v->k == V_STRING)
		fp_point_string(p, field, v->s);
	free(v->s);
	v->s = NULL;
}

int64_t fp_mq_rfc3339(const char *s)
{
	int64_t sec;
	int32_t ns;

	if (fp_time_parse_rfc3339(s, &sec, &ns) < 0 || sec < 0 || sec > FP_TIME_MAX)
		return -1;
	return sec * 1000000000LL + ns;
}

/* The message's time into *ns: the reception time when the rule has none
 * or the message leaves it out.  0, or -EINVAL (unreadable) or -ERANGE
 * (outside the window) with *why. */
static int time_of(const struct fp_mq_sub *s, json_object *doc, const struct fp_mq_rule *r,
		   int64_t now_ns, int64_t *ns, const char **why)
{
	json_object *o;
	double v;

	*ns = now_ns;
	if (!r->time_path || r->time_format == FP_MQ_TIME_NONE)
		return 0;
	o = walk(doc, r->time_path);
	if (!o)
		return 0; /* absent: the time of reception */
	if (r->time_format == FP_MQ_TIME_RFC3339) {
		if (!json_object_is_type(o, json_type_string)) {
			*why = "the timestamp is not an RFC 3339 string";
			return -EINVAL;
		}
		return fp_time_from_rfc3339(&s->tw, json_object_get_string(o), now_ns, ns, why);
	}
	if (json_object_is_type(o, json_type_boolean) || !number_of(o, &v)) {
		*why = "the timestamp is not a number";
		return -EINVAL;
	}
	return fp_time_from_number(&s->tw, v,
				   r->time_format == FP_MQ_TIME_EPOCH_S ? FP_TIME_S : FP_TIME_MS,
				   now_ns, ns, why);
}

/* The point of (phase, channel) in out, made on first use. */
static struct fp_point *point_for(struct fp_batch *out, size_t first, const struct fp_point *base,
				  const char *phase, int channel)
{
	char ch[8];
	size_t i, t;
	struct fp_point *p;

	const char *bc = fp_point_tag_value(base, "channel");

	snprintf(ch, sizeof(ch), "%d", channel);
	for (i = first; i < out->n; i++) {
		const char *ph = fp_point_tag_value(&out->pts[i], "phase");
		const char *c = fp_point_tag_value(&out->pts[i], "channel");
		const char *want = channel ? ch : bc;
		if (((!ph && !phase) || (ph && phase && !strcmp(ph, phase))) &&
		    ((!c && !want) || (c && want && !strcmp(c, want))))
			return &out->pts[i];
	}
	p = fp_batch_add(out, base->measurement, base->ts_ns);
	p->may_carry = base->may_carry;
	for (t = 0; t < base->ntags; t++)
		fp_point_tag(p, base->tags[t].key, base->tags[t].val);
	if (phase)
		fp_point_tag(p, "phase", phase);
	if (channel)
		fp_point_tag(p, "channel", ch);
	return p;
}

/* {"region": "FR", "year": 2026, "method": "location" | "market",
 *  "kg_per_kwh": 0.052, "source": "..."}: an emission factor that
 * overrides the configured one (the indicator engine takes the point). */
static int parse_emission(const char *site, json_object *doc, int64_t now_ns, struct fp_batch *out,
			  const char **why)
{
	json_object *reg, *yr, *me, *kg, *src = NULL;
	const char *method;
	struct fp_point *p;
	double y, v;

	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "region", &reg) ||
	    !json_object_is_type(reg, json_type_string) || !json_object_get_string(reg)[0] ||
	    strlen(json_object_get_string(reg)) > 64 ||
	    !json_object_object_get_ex(doc, "year", &yr) ||
	    !json_object_is_type(yr, json_type_int) ||
	    !json_object_object_get_ex(doc, "method", &me) ||
	    !json_object_is_type(me, json_type_string) ||
	    !json_object_object_get_ex(doc, "kg_per_kwh", &kg) ||
	    json_object_is_type(kg, json_type_string) || !number_of(kg, &v)) {
		*why = "an emission factor is {\"region\", \"year\", \"method\", \"kg_per_kwh\"[, \"source\"]}";
		return -1;
	}
	method = json_object_get_string(me);
	y = (double)json_object_get_int64(yr);
	if (strcmp(method, "location") && strcmp(method, "market")) {
		*why = "method must be location or market";
		return -1;
	}
	if (y < 1990 || y > 2200 || v < 0 || v > 10) {
		*why = "year must be 1990-2200 and kg_per_kwh 0-10";
		return -1;
	}
	if (json_object_object_get_ex(doc, "source", &src) &&
	    !json_object_is_type(src, json_type_string)) {
		*why = "source must be a string";
		return -1;
	}
	p = fp_batch_add(out, "emission_factor", now_ns);
	fp_point_tag(p, "site", site);
	fp_point_tag(p, "region", json_object_get_string(reg));
	fp_point_tag(p, "method", method);
	fp_point_int(p, "year", (int64_t)y);
	fp_point_float(p, "kg_per_kwh", v);
	fp_point_string(p, "source", src ? json_object_get_string(src) : "mqtt");
	return 1;
}

static const char *const events[] = {
	"ordered", "received",	  "in_service", "spare",    "decommissioned",
	"reused",  "refurbished", "recycled",	"disposed", NULL,
};

const char *const fp_mq_lc_keys[FP_MQ_LC_NKEYS] = {
	"event_id", "asset_id",		"event",	   "category", "model", "destination",
	"mass_kg",  "embodied_co2e_kg", "expected_life_y",
};
enum { LC_ID, LC_ASSET, LC_EVENT, LC_CATEGORY, LC_MODEL, LC_DEST, LC_NUM0 };

/* The JSON value of key k: the native contract's member, or the map's
 * path (NULL when the map does not read it). */
static json_object *lc_value(const struct fp_mq_sub *s, json_object *doc, int k)
{
	json_object *o = NULL;

	if (!s->lcmap)
		return json_object_object_get_ex(doc, fp_mq_lc_keys[k], &o) ? o : NULL;
	return s->lcmap->path[k] ? walk(doc, s->lcmap->path[k]) : NULL;
}

/* The text of key k: a non-empty JSON string (with a map, an integer
 * too, as asset tools number their assets), else the map's default;
 * NULL when absent.  -1 when present with another type. */
static int lc_text(const struct fp_mq_sub *s, json_object *doc, int k, const char **out)
{
	json_object *o = lc_value(s, doc, k);

	*out = NULL;
	if (o &&
	    (json_object_is_type(o, json_type_string) ||
	     (s->lcmap && json_object_is_type(o, json_type_int)))) {
		*out = json_object_get_string(o);
		if (!**out)
			*out = NULL;
	} else if (o && !json_object_is_type(o, json_type_null)) {
		return -1;
	}
	if (!*out && s->lcmap)
		*out = s->lcmap->dflt[k];
	return 0;
}

/* The lifecycle event a message names: 0 with *ev, 1 when a map's table
 * does not list it (ignored), -1 when it is unknown. */
static int lc_event(const struct fp_mq_sub *s, const char *name, const char **ev)
{
	size_t i;

	if (s->lcmap && s->lcmap->nnames) {
		for (i = 0; i < s->lcmap->nnames && strcmp(s->lcmap->names[i], name); i++)
			;
		if (i == s->lcmap->nnames)
			return 1;
		name = s->lcmap->to[i];
	}
	for (i = 0; events[i] && strcmp(events[i], name); i++)
		;
	*ev = events[i];
	return events[i] ? 0 : -1;
}

/* The event's time: the native "time" (RFC 3339, required), or with a map
 * the subscription's time_path and time_format (absent: reception). */
static int lc_time(const struct fp_mq_sub *s, json_object *doc, int64_t now_ns, int64_t *t,
		   const char **why)
{
	json_object *o;
	int rc;

	if (s->lcmap)
		return time_of(s, doc, &s->own, now_ns, t, why);
	if (!json_object_object_get_ex(doc, "time", &o) ||
	    !json_object_is_type(o, json_type_string) || !json_object_get_string(o)[0]) {
		*why = "a lifecycle event needs event_id, asset_id, event and time (strings)";
		return -EINVAL;
	}
	rc = fp_time_from_rfc3339(&s->tw, json_object_get_string(o), now_ns, t, why);
	if (rc < 0 && rc != -ERANGE)
		*why = "time is not RFC 3339 (e.g. 2025-03-14T10:25:00Z)";
	return rc;
}

/* The optional numbers and strings of an event onto p; false with *why. */
static bool lc_extras(const struct fp_mq_sub *s, json_object *doc, struct fp_point *p,
		      const char **why)
{
	const char *t;
	double v = 0;
	int k;

	for (k = LC_NUM0; k < FP_MQ_LC_NKEYS; k++) {
		json_object *o = lc_value(s, doc, k);
		bool ok = true;
		if (o && !json_object_is_type(o, json_type_null))
			ok = number_of(o, &v) && !json_object_is_type(o, json_type_boolean) &&
				(s->lcmap || !json_object_is_type(o, json_type_string));
		else if (s->lcmap && s->lcmap->dflt[k])
			v = strtod(s->lcmap->dflt[k], NULL);
		else
			continue;
		if (!ok || v < 0) {
			*why = "mass_kg, embodied_co2e_kg and expected_life_y must be numbers >= 0";
			return false;
		}
		fp_point_float(p, fp_mq_lc_keys[k], v);
	}
	for (k = LC_MODEL; k <= LC_DEST; k++) {
		if (lc_text(s, doc, k, &t) < 0) {
			*why = "model and destination must be strings";
			return false;
		}
		if (t)
			fp_point_string(p, fp_mq_lc_keys[k], t);
	}
	return true;
}

static int parse_lifecycle(const struct fp_mq_sub *s, const char *site, json_object *doc,
			   int64_t now_ns, const char *topic, struct fp_batch *out,
			   const char **why)
{
	const char *id, *asset, *name, *ev, *cat;
	char *derived = NULL;
	struct fp_point *p;
	int64_t t;
	int rc;

	if (!json_object_is_type(doc, json_type_object)) {
		*why = "a lifecycle event must be a JSON object";
		return -1;
	}
	if (lc_text(s, doc, LC_EVENT, &name) < 0 || !name) {
		*why = s->lcmap
			? "the map's event path gives no event name (a string)"
			: "a lifecycle event needs event_id, asset_id, event and time (strings)";
		return -1;
	}
	rc = lc_event(s, name, &ev);
	if (rc > 0)
		return 0; /* a foreign event the map does not list */
	if (rc < 0) {
		*why = s->lcmap ? "the map's events table names an unknown lifecycle event"
				: "unknown lifecycle event (ordered, received, in_service, spare, "
				  "decommissioned, reused, refurbished, recycled, disposed)";
		return -1;
	}
	if (lc_text(s, doc, LC_ASSET, &asset) < 0 || !asset || lc_text(s, doc, LC_ID, &id) < 0 ||
	    (!id && !s->lcmap)) {
		*why = s->lcmap
			? "the map's asset_id path gives no asset id (a string or an integer)"
			: "a lifecycle event needs event_id, asset_id, event and time (strings)";
		return -1;
	}
	switch (lc_time(s, doc, now_ns, &t, why)) {
	case 0:
		break;
	case -ERANGE:
		return FP_MQ_BAD_TIME;
	default:
		if (!*why)
			*why = "the event's time is not what time_format says";
		return -1;
	}
	if (lc_text(s, doc, LC_CATEGORY, &cat) < 0 || (cat && strlen(cat) > 16)) {
		*why = "category must be a UNU-KEY string";
		return -1;
	}
	p = fp_batch_add(out, "asset_event", t);
	fp_point_tag(p, "site", site);
	fp_point_tag(p, "category", cat ? cat : "unknown");
	fp_point_tag(p, "event", ev);
	fp_point_string(p, "asset_id", asset);
	if (!id) /* the same message always gets the same id */
		id = derived = fp_xasprintf("%s:%s:%s:%lld", topic, name, asset, (long long)t);
	fp_point_string(p, "event_id", id);
	free(derived);
	if (!lc_extras(s, doc, p, why)) {
		fp_batch_drop_last(out);
		return -1;
	}
	return 1;
}

/* The first rule whose filter matches and whose template fits, or NULL. */
static const struct fp_mq_rule *find_rule(const struct fp_mq_sub *s, const char *topic)
{
	size_t i;

	for (i = 0; i < s->nrules; i++) {
		const struct fp_mq_rule *c = s->rules ? &s->rules[i] : &s->own;
		if (c->filter && !topic_matches(c->filter, topic))
			continue;
		if (c->tmpl && s->rules) {
			struct fp_batch t;
			bool fits;
			fp_batch_init(&t);
			fits = fp_mq_template(c->tmpl, topic, fp_batch_add(&t, "m", 0));
			fp_batch_reset(&t);
			if (!fits)
				continue;
		}
		return c;
	}
	return NULL;
}

/* Parses the whole payload as one JSON document (strict, UTF-8, bounded
 * depth, nothing but white space after it).  NULL with *why on error. */
/* One tokener per thread, reset for each message: a new one costs an
 * allocation of its whole depth stack, a good part of a small message's
 * parse.  Freed when its thread ends. */
static pthread_key_t tok_key;
static pthread_once_t tok_once = PTHREAD_ONCE_INIT;

static void tok_free(void *tok)
{
	json_tokener_free(tok);
}

static void tok_key_init(void)
{
	if (pthread_key_create(&tok_key, tok_free) != 0)
		abort();
}

static json_tokener *thread_tokener(void)
{
	json_tokener *tok;

	pthread_once(&tok_once, tok_key_init);
	tok = pthread_getspecific(tok_key);
	if (!tok) {
		tok = json_tokener_new_ex(MAX_DEPTH);
		if (!tok || pthread_setspecific(tok_key, tok) != 0)
			abort();
	} else {
		json_tokener_reset(tok);
	}
	return tok;
}

static json_object *parse_json(const char *payload, size_t len, const char **why)
{
	json_tokener *tok = thread_tokener();
	enum json_tokener_error err;
	json_object *doc;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	doc = json_tokener_parse_ex(tok, payload, (int)len);
	err = json_tokener_get_error(tok);
	if (doc && tok->char_offset < (int)len) {
		/* trailing bytes after the document */
		size_t k;
		for (k = (size_t)tok->char_offset; k < len && isspace((unsigned char)payload[k]);
		     k++)
			;
		if (k < len)
			err = json_tokener_error_parse_unexpected;
	}
	if (!doc || err != json_tokener_success) {
		json_object_put(doc);
		*why = err == json_tokener_error_depth ? "JSON nested too deeply"
			: err == json_tokener_continue ? "JSON cut short"
						       : "not valid JSON (or not UTF-8)";
		return NULL;
	}
	return doc;
}

int fp_mq_parse(const struct fp_mq_sub *s, const char *site, const char *topic, const char *payload,
		size_t len, int64_t now_ns, struct fp_batch *out, const char **why)
{
	const struct fp_mq_rule *r = NULL;
	json_object *doc = NULL;
	struct fp_batch tmp;
	struct fp_point *base;
	size_t i, first, nfields = 0;
	int64_t ts = now_ns;
	int trc = 0;
	char fbuf[128];
	struct val v = { V_NONE, 0, NULL };

	*why = NULL;
	if (len > s->max_payload) {
		*why = "payload larger than max_payload";
		return -1;
	}
	r = find_rule(s, topic);
	if (!r)
		return 0;
	if (s->format == FP_MQ_LIFECYCLE || s->format == FP_MQ_EMISSION || r->json) {
		doc = parse_json(payload, len, why);
		if (!doc)
			return -1;
	}
	if (s->format == FP_MQ_LIFECYCLE || s->format == FP_MQ_EMISSION) {
		int n = s->format == FP_MQ_LIFECYCLE
			? parse_lifecycle(s, site, doc, now_ns, topic, out, why)
			: parse_emission(site, doc, now_ns, out, why);
		json_object_put(doc);
		return n;
	}
	fp_batch_init(&tmp);
	base = fp_batch_add(&tmp, "meter", now_ns);
	base->may_carry = s->may_carry;
	fp_point_tag(base, "site", site);
	fp_point_tag(base, "role", s->role ? s->role : "other");
	fp_point_tag(base, "source", "mqtt");
	fbuf[0] = '\0';
	if (r->tmpl) {
		if (!template_match(r->tmpl, topic, base, s->field_from_topic ? fbuf : NULL,
				    sizeof(fbuf))) {
			json_object_put(doc);
			fp_batch_reset(&tmp);
			*why = "the topic does not fit the template";
			return -1;
		}
	}
	if (!fp_point_tag_value(base, "device"))
		fp_point_tag(base, "device", topic);
	if (doc)
		trc = time_of(s, doc, r, now_ns, &ts, why);
	if (trc < 0) {
		json_object_put(doc);
		fp_batch_reset(&tmp);
		return trc == -ERANGE ? FP_MQ_BAD_TIME : -1;
	}
	base->ts_ns = ts;
	first = out->n;
	if (!r->json) {
		const struct fp_mq_selector *sel = r->nsels ? &r->sels[0] : NULL;
		const char *field = sel ? sel->field : NULL;
		if (s->field_from_topic) {
			sel = &s->dflt;
			field = fbuf;
			for (i = 0; i < r->nsels; i++)
				if (r->sels[i].path && !strcmp(r->sels[i].path, fbuf)) {
					sel = &r->sels[i];
					field = sel->field;
				}
		}
		if (!sel || !field || !field[0] || !fp_name_valid(field)) {
			*why = "the topic's field level is not a valid field name";
		} else if (!text_value(sel, payload, len, &v)) {
			*why = sel->nvalues ? "the payload is not a number nor a state of values"
					    : "the payload is not a number";
		} else {
			put_val(point_for(out, first, base, sel->phase, 0), field, &v);
			nfields++;
		}
		if (!nfields) {
			fp_batch_reset(&tmp);
			for (i = out->n; i > first; i--)
				fp_batch_drop_last(out);
			return -1;
		}
	}
	for (i = 0; r->json && i < r->nsels; i++) {
		const struct fp_mq_selector *sel = &r->sels[i];
		json_object *o = walk(doc, sel->path);

		if (o && json_object_is_type(o, json_type_array)) {
			size_t k, n = json_object_array_length(o);
			for (k = 0; k < n && k < MAX_CHANNELS; k++) {
				if (!json_value(sel, json_object_array_get_idx(o, k), &v))
					continue;
				put_val(point_for(out, first, base, sel->phase, (int)k + 1),
					sel->field, &v);
				nfields++;
			}
		} else if (json_value(sel, o, &v)) {
			put_val(point_for(out, first, base, sel->phase, 0), sel->field, &v);
			nfields++;
		}
		/* a field missing in a message is simply absent */
	}
	json_object_put(doc);
	fp_batch_reset(&tmp);
	if (nfields == 0) {
		for (i = out->n; i > first; i--)
			fp_batch_drop_last(out);
		return 0;
	}
	return (int)(out->n - first);
}
