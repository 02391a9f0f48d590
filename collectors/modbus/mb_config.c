/* mb_config.c - the modbus group of footprintd.conf and register profiles. */
#include "config.h"

#include "mb_config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* Device-level defaults a profile may set and a device may override. */
struct defaults {
	int table, order;
	int address_base;
	struct fp_mb_plan_limits limits;
};

static const char *const out_names[] = { "auto", "float", "int", "bool", "string", NULL };

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

static void field_free(struct fp_mb_field *f)
{
	free(f->field);
	free(f->phase);
}

static void dev_free(struct fp_mb_device_cfg *d)
{
	size_t i;

	free(d->name);
	free(d->url);
	free(d->host);
	free(d->tty);
	free(d->role);
	free(d->profile);
	for (i = 0; i < d->nfields; i++)
		field_free(&d->fields[i]);
	free(d->fields);
	for (i = 0; i < d->ntags; i++) {
		free(d->tags[i].key);
		free(d->tags[i].val);
	}
	free(d->tags);
}

void fp_mb_config_free(void *mc)
{
	struct fp_mb_config *c = mc;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->ndevs; i++)
		dev_free(&c->devs[i]);
	free(c->devs);
	free(c->profiles_dir);
	free(c);
}

/* tcp://host:port (port default 502; [v6]:port) or
 * rtu:/dev/ttyX?baud=9600&parity=N&data=8&stop=1&rs485=1 */
static int parse_url(struct fp_mb_device_cfg *d, char *msg, size_t msglen)
{
	const char *u = d->url;

	if (strncmp(u, "tcp://", 6) == 0) {
		const char *h = u + 6, *colon;
		char *end;
		long port = 502;
		size_t hl;

		d->kind = FP_MB_TCP;
		if (*h == '[') {
			const char *rb = strchr(h, ']');
			if (!rb) {
				snprintf(msg, msglen, "'%s': missing ']' after an IPv6 address", u);
				return -1;
			}
			hl = (size_t)(rb - h - 1);
			d->host = fp_xasprintf("%.*s", (int)hl, h + 1);
			colon = rb[1] == ':' ? rb + 1 : NULL;
			if (rb[1] && rb[1] != ':') {
				snprintf(msg, msglen, "'%s': unexpected text after ']'", u);
				return -1;
			}
		} else {
			colon = strrchr(h, ':');
			hl = colon ? (size_t)(colon - h) : strlen(h);
			d->host = fp_xasprintf("%.*s", (int)hl, h);
		}
		if (!d->host[0] || strchr(d->host, '/')) {
			snprintf(msg, msglen, "'%s': expected tcp://HOST[:PORT]", u);
			return -1;
		}
		if (colon) {
			errno = 0;
			port = strtol(colon + 1, &end, 10);
			if (errno || *end || end == colon + 1 || port < 1 || port > 65535) {
				snprintf(msg, msglen, "'%s': the port must be 1-65535", u);
				return -1;
			}
		}
		d->port = (int)port;
		return 0;
	}
	if (strncmp(u, "rtu:", 4) == 0) {
		const char *p = u + 4, *q = strchr(p, '?');
		char *params, *tok, *save = NULL;

		d->kind = FP_MB_RTU;
		d->baud = 9600;
		d->parity = 'N';
		d->data_bits = 8;
		d->stop_bits = 1;
		d->tty = q ? fp_xasprintf("%.*s", (int)(q - p), p) : fp_xstrdup(p);
		if (d->tty[0] != '/') {
			snprintf(msg, msglen, "'%s': expected rtu:/dev/ttyX?baud=...", u);
			return -1;
		}
		if (!q)
			return 0;
		params = fp_xstrdup(q + 1);
		for (tok = strtok_r(params, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(tok, '=');
			int64_t v;
			if (!eq) {
				snprintf(msg, msglen, "'%s': '%s' is not key=value", u, tok);
				free(params);
				return -1;
			}
			*eq = '\0';
			if (!strcmp(tok, "parity")) {
				if (strlen(eq + 1) != 1 || !strchr("NEO", eq[1])) {
					snprintf(msg, msglen, "'%s': parity must be N, E or O", u);
					free(params);
					return -1;
				}
				d->parity = eq[1];
				continue;
			}
			if (fp_parse_int64(eq + 1, 0, 4000000, &v) < 0) {
				snprintf(msg, msglen, "'%s': %s='%s' is not a number", u, tok, eq + 1);
				free(params);
				return -1;
			}
			if (!strcmp(tok, "baud") && v >= 50)
				d->baud = (int)v;
			else if (!strcmp(tok, "data") && v >= 5 && v <= 8)
				d->data_bits = (int)v;
			else if (!strcmp(tok, "stop") && (v == 1 || v == 2))
				d->stop_bits = (int)v;
			else if (!strcmp(tok, "rs485") && v <= 1)
				d->rs485 = v == 1;
			else {
				snprintf(msg, msglen, "'%s': %s=%s is not valid (baud>=50, data 5-8, stop 1-2, "
					 "parity N/E/O, rs485 0/1)", u, tok, eq + 1);
				free(params);
				return -1;
			}
		}
		free(params);
		return 0;
	}
	snprintf(msg, msglen, "'%s' must start with tcp:// or rtu:", u);
	return -1;
}

char *fp_mb_conn_key(const struct fp_mb_device_cfg *d)
{
	if (d->kind == FP_MB_TCP)
		return fp_xasprintf("tcp://%s:%d", d->host, d->port);
	return fp_xasprintf("rtu:%s", d->tty);
}

static void field_defaults(struct fp_mb_field *f, const struct defaults *df)
{
	memset(f, 0, sizeof(*f));
	f->table = (enum fp_mb_table)df->table;
	f->type = FP_MB_UINT16;
	f->order = (enum fp_mb_order)df->order;
	f->bit = -1;
	f->scale = 1.0;
	f->count = 1;
}

/* Sentinels are raw register values of the field's width: written as
 * unsigned (0xFFFF, 0x7FC00000) or as two's complement (-32768, or -1 for
 * 0xFFFFFFFF: libconfig reads 0xFFFFFFFF as the 32-bit int -1), they are
 * kept as the width's unsigned pattern the decoder compares with.  A value
 * that fits neither reading is an error.  Returns a message or NULL. */
static const char *sentinels_finish(struct fp_mb_field *f, char *msg, size_t len)
{
	unsigned words = fp_mb_type_words(f->type), bits = 16 * words;
	uint64_t mask;
	size_t i;

	if (!f->nsentinels)
		return NULL;
	if (f->type == FP_MB_BOOL || f->type == FP_MB_STRING)
		return "sentinel applies to numeric types";
	if (bits >= 64)
		return NULL;
	mask = (UINT64_C(1) << bits) - 1;
	for (i = 0; i < f->nsentinels; i++) {
		int64_t v = (int64_t)f->sentinel[i];
		if (v < -(int64_t)(mask / 2) - 1 || v > (int64_t)mask) {
			snprintf(msg, len, "sentinel %lld does not fit the %u bits of a %s (%lld to %llu)",
				 (long long)v, bits, fp_mb_type_name(f->type),
				 (long long)(-(int64_t)(mask / 2) - 1), (unsigned long long)mask);
			return msg;
		}
		f->sentinel[i] = (uint64_t)v & mask;
	}
	return NULL;
}

/* Finishes a field: count from type, checks.  Returns a message or NULL. */
static const char *field_finish(struct fp_mb_field *f, int64_t addr, int base, int64_t count,
				char *msg, size_t len)
{
	int64_t a = addr - base;
	bool bits = f->table == FP_MB_COIL || f->table == FP_MB_DISCRETE;

	if (bits && f->type != FP_MB_BOOL)
		return "coils and discrete inputs hold bits: use type = \"bool\"";
	if (f->type == FP_MB_STRING) {
		if (count < 1 || count > 125)
			return "a string needs count = 1-125 (registers)";
		f->count = (uint16_t)count;
	} else {
		f->count = bits ? 1 : (uint16_t)fp_mb_type_words(f->type);
	}
	if (f->bit >= 0 && (f->type != FP_MB_BOOL || bits))
		return "bit applies to type = \"bool\" read from holding or input registers";
	if (a < 0 || a + f->count - 1 > 65535) {
		snprintf(msg, len, "address %lld (base %d) is outside 0-65535", (long long)addr, base);
		return msg;
	}
	f->address = (uint16_t)a;
	if (f->out == FP_MB_OUT_STRING && f->type != FP_MB_STRING)
		return "output = \"string\" needs type = \"string\"";
	return sentinels_finish(f, msg, len);
}

static void parse_sentinels(struct fp_cfg_errors *e, const config_setting_t *g, struct fp_mb_field *f)
{
	const config_setting_t *s = config_setting_get_member(g, "sentinel");
	int i, n;

	if (!s)
		return;
	if (config_setting_is_scalar(s)) {
		if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
			fp_cfg_report(e, g, "sentinel", "expected an integer (the raw value), got %s",
				      fp_cfg_type_name(config_setting_type(s)));
			return;
		}
		f->sentinel[f->nsentinels++] = (uint64_t)config_setting_get_int64(s);
		return;
	}
	n = config_setting_length(s);
	if (n > FP_MB_MAX_SENTINELS) {
		fp_cfg_report(e, g, "sentinel", "at most %d values", FP_MB_MAX_SENTINELS);
		return;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *v = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(v) != CONFIG_TYPE_INT && config_setting_type(v) != CONFIG_TYPE_INT64) {
			fp_cfg_report(e, g, "sentinel", "expected integers (raw values)");
			return;
		}
		f->sentinel[f->nsentinels++] = (uint64_t)config_setting_get_int64(v);
	}
}

/* One register of a "registers" list (config or .conf profile). */
static int parse_register(struct fp_cfg_errors *e, const config_setting_t *g,
			  const struct defaults *df, struct fp_mb_field *f)
{
	static const char *const keys[] = {
		"field", "phase", "table", "address", "type", "order", "count", "bit", "scale",
		"offset", "output", "sentinel", NULL,
	};
	static const char *const tables[] = { "coil", "discrete", "holding", "input", NULL };
	/* The types in enum fp_mb_type's order, then "bit", bool's alias. */
	static const char *const types[] = {
		"bool", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64",
		"string", "bit", NULL,
	};
	static const char *const orders[] = { "ABCD", "CDAB", "BADC", "DCBA", NULL };
	size_t before = e->n;
	int64_t addr = -1, count = 0, bit = -1;
	int t, o;
	char msg[160];
	const char *bad;

	field_defaults(f, df);
	f->line = config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { field = ...; address = ...; }");
		return -1;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_string(e, g, "field", &f->field) == 0)
		fp_cfg_report(e, g, "field", "is required (the output field name, e.g. \"power_w\")");
	else if (f->field && !name_ok(f->field, 64))
		fp_cfg_report(e, g, "field", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .", f->field);
	if (fp_cfg_get_string(e, g, "phase", &f->phase) > 0 && !name_ok(f->phase, 16))
		fp_cfg_report(e, g, "phase", "'%s' must be 1-16 characters of A-Z a-z 0-9 _ - .", f->phase);
	if (fp_cfg_get_enum(e, g, "table", tables, &t) > 0)
		f->table = (enum fp_mb_table)t;
	if (fp_cfg_get_enum(e, g, "type", types, &t) > 0)
		f->type = (enum fp_mb_type)fp_mb_type_from_name(types[t]);
	if (fp_cfg_get_enum(e, g, "order", orders, &o) > 0)
		f->order = (enum fp_mb_order)o;
	if (fp_cfg_get_int(e, g, "address", 0, 65536, &addr) == 0)
		fp_cfg_report(e, g, "address", "is required");
	fp_cfg_get_int(e, g, "count", 1, 125, &count);
	if (fp_cfg_get_int(e, g, "bit", 0, 15, &bit) > 0)
		f->bit = (int8_t)bit;
	fp_cfg_get_float(e, g, "scale", -1e300, 1e300, &f->scale);
	fp_cfg_get_float(e, g, "offset", -1e300, 1e300, &f->offset);
	if (fp_cfg_get_enum(e, g, "output", out_names, &t) > 0)
		f->out = (enum fp_mb_out)t;
	parse_sentinels(e, g, f);
	if (e->n > before)
		return -1;
	bad = field_finish(f, addr, df->address_base, count, msg, sizeof(msg));
	if (bad) {
		fp_cfg_errors_add(e, g, NULL, "%s", bad);
		return -1;
	}
	return 0;
}

static void add_field(struct fp_mb_device_cfg *d, size_t *cap, const struct fp_mb_field *f)
{
	fp_xgrow((void **)&d->fields, cap, d->nfields + 1, sizeof(*d->fields));
	d->fields[d->nfields++] = *f;
}

/* Device-level keys shared by devices and .conf profiles. */
static void parse_defaults(struct fp_cfg_errors *e, const config_setting_t *g, struct defaults *df)
{
	static const char *const tables[] = { "coil", "discrete", "holding", "input", NULL };
	static const char *const orders[] = { "ABCD", "CDAB", "BADC", "DCBA", NULL };
	int64_t v;
	int t;

	if (fp_cfg_get_enum(e, g, "table", tables, &t) > 0)
		df->table = t;
	if (fp_cfg_get_enum(e, g, "order", orders, &t) > 0)
		df->order = t;
	if (fp_cfg_get_int(e, g, "address_base", 0, 1, &v) > 0)
		df->address_base = (int)v;
	if (fp_cfg_get_int(e, g, "max_registers", 1, 125, &v) > 0)
		df->limits.max_registers = (unsigned)v;
	if (fp_cfg_get_int(e, g, "max_bits", 1, 2000, &v) > 0)
		df->limits.max_bits = (unsigned)v;
	if (fp_cfg_get_int(e, g, "max_gap", 0, 124, &v) > 0)
		df->limits.max_gap = (unsigned)v;
	fp_cfg_get_bool(e, g, "single_request", &df->limits.single);
}

static int parse_register_list(struct fp_cfg_errors *e, const config_setting_t *l,
			       const struct defaults *df, struct fp_mb_device_cfg *d, size_t *cap)
{
	int i, n, bad = 0;

	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		fp_cfg_errors_add(e, l, NULL, "expected a list ( { ... }, ... ), got %s",
				  fp_cfg_type_name(config_setting_type(l)));
		return -1;
	}
	n = config_setting_length(l);
	for (i = 0; i < n; i++) {
		struct fp_mb_field f;
		if (parse_register(e, config_setting_get_elem(l, (unsigned)i), df, &f) == 0)
			add_field(d, cap, &f);
		else {
			field_free(&f);
			bad++;
		}
	}
	return bad ? -1 : 0;
}

/* ---- profiles ---- */

static int load_conf_profile(const char *path, struct fp_cfg_errors *e, struct defaults *df,
			     struct fp_mb_device_cfg *d, size_t *cap)
{
	static const char *const keys[] = {
		"description", "table", "order", "address_base", "max_registers", "max_bits",
		"max_gap", "single_request", "registers", NULL,
	};
	config_t pc;
	const config_setting_t *root, *l;
	size_t before = e->n;

	config_init(&pc);
	if (config_read_file(&pc, path) != CONFIG_TRUE) {
		char *m = fp_xasprintf("%s:%d: %s", config_error_file(&pc) ? config_error_file(&pc) : path,
				       config_error_line(&pc), config_error_text(&pc));
		fp_xgrow((void **)&e->msgs, &e->cap, e->n + 1, sizeof(*e->msgs));
		e->msgs[e->n++] = m;
		config_destroy(&pc);
		return -1;
	}
	root = config_root_setting(&pc);
	fp_cfg_check_keys(e, root, keys);
	parse_defaults(e, root, df);
	l = config_setting_get_member(root, "registers");
	if (!l)
		fp_cfg_errors_add(e, root, "registers", "a profile needs a registers list");
	else
		parse_register_list(e, l, df, d, cap);
	config_destroy(&pc);
	return e->n > before ? -1 : 0;
}

static void csv_error(struct fp_cfg_errors *e, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void csv_error(struct fp_cfg_errors *e, const char *path, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fp_xgrow((void **)&e->msgs, &e->cap, e->n + 1, sizeof(*e->msgs));
	e->msgs[e->n++] = fp_xasprintf("%s:%d: %s", path, line, msg);
}

/* Splits a CSV line in place (no quoting: register maps do not need it). */
static int split_csv(char *line, char **cols, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *c = strchr(p, ',');
		if (n == max)
			return -1;
		cols[n++] = p;
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	for (int i = 0; i < n; i++) {
		char *s = cols[i], *end;
		while (*s == ' ' || *s == '\t')
			s++;
		end = s + strlen(s);
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
			*--end = '\0';
		cols[i] = s;
	}
	return n;
}

static int col_index(char **hdr, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcasecmp(hdr[i], name))
			return i;
	return -1;
}

static int load_csv_profile(const char *path, struct fp_cfg_errors *e, const struct defaults *df,
			    struct fp_mb_device_cfg *d, size_t *cap)
{
	FILE *f = fopen(path, "r");
	char line[4096], hdrbuf[4096], *hdr[64], *cols[64];
	int nh = -1, lineno = 0, bad = 0;
	int c_addr = -1, c_type = -1, c_name = -1, c_field = -1, c_fc = -1, c_table = -1,
	    c_order = -1, c_scale = -1, c_offset = -1, c_phase = -1, c_words = -1;

	if (!f) {
		csv_error(e, path, 0, "cannot read the profile: %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct fp_mb_field fl;
		int n, t;
		int64_t addr, v;
		const char *msg;
		char mbuf[160];

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			csv_error(e, path, lineno, "line longer than %zu bytes", sizeof(line) - 1);
			bad++;
			break;
		}
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (nh < 0) {
			snprintf(hdrbuf, sizeof(hdrbuf), "%s", line);
			nh = split_csv(hdrbuf, hdr, 64);
			c_addr = col_index(hdr, nh, "address");
			c_type = col_index(hdr, nh, "type");
			c_name = col_index(hdr, nh, "name");
			c_field = col_index(hdr, nh, "field");
			c_fc = col_index(hdr, nh, "fc");
			c_table = col_index(hdr, nh, "table");
			c_order = col_index(hdr, nh, "word_order");
			if (c_order < 0)
				c_order = col_index(hdr, nh, "order");
			c_scale = col_index(hdr, nh, "scale");
			c_offset = col_index(hdr, nh, "offset");
			c_phase = col_index(hdr, nh, "phase");
			c_words = col_index(hdr, nh, "words");
			if (c_words < 0)
				c_words = col_index(hdr, nh, "count");
			if (c_addr < 0 || c_type < 0 || (c_name < 0 && c_field < 0)) {
				csv_error(e, path, lineno, "the header needs the columns address, type and "
					  "name (or field)");
				bad++;
				break;
			}
			continue;
		}
		n = split_csv(line, cols, 64);
		if (n < nh) { /* more is fine: free text with commas in the last column */
			csv_error(e, path, lineno, "%d columns, the header has %d", n, nh);
			bad++;
			continue;
		}
		field_defaults(&fl, df);
		fl.line = lineno;
		if (fp_parse_int64(cols[c_addr], 0, 65536, &addr) < 0) {
			csv_error(e, path, lineno, "address: '%s' is not a number 0-65535", cols[c_addr]);
			bad++;
			continue;
		}
		t = fp_mb_type_from_name(cols[c_type]);
		if (t < 0) {
			csv_error(e, path, lineno, "type: '%s' is not a known type", cols[c_type]);
			bad++;
			continue;
		}
		fl.type = (enum fp_mb_type)t;
		if (c_fc >= 0 && cols[c_fc][0]) {
			if (fp_parse_int64(cols[c_fc], 1, 4, &v) < 0) {
				csv_error(e, path, lineno, "fc: '%s' is not 1, 2, 3 or 4", cols[c_fc]);
				bad++;
				continue;
			}
			fl.table = v == 1 ? FP_MB_COIL : v == 2 ? FP_MB_DISCRETE : v == 3 ? FP_MB_HOLDING
											   : FP_MB_INPUT;
		}
		if (c_table >= 0 && cols[c_table][0]) {
			t = fp_mb_table_from_name(cols[c_table]);
			if (t < 0) {
				csv_error(e, path, lineno, "table: '%s' is not coil, discrete, holding or input",
					  cols[c_table]);
				bad++;
				continue;
			}
			fl.table = (enum fp_mb_table)t;
		}
		if (c_order >= 0 && cols[c_order][0]) {
			t = fp_mb_order_from_name(cols[c_order]);
			if (t < 0) {
				csv_error(e, path, lineno, "order: '%s' is not ABCD, CDAB, BADC or DCBA",
					  cols[c_order]);
				bad++;
				continue;
			}
			fl.order = (enum fp_mb_order)t;
		}
		if (c_scale >= 0 && cols[c_scale][0]) {
			char *end;
			fl.scale = strtod(cols[c_scale], &end);
			if (*end || end == cols[c_scale]) {
				csv_error(e, path, lineno, "scale: '%s' is not a number", cols[c_scale]);
				bad++;
				continue;
			}
		}
		if (c_offset >= 0 && cols[c_offset][0]) {
			char *end;
			fl.offset = strtod(cols[c_offset], &end);
			if (*end || end == cols[c_offset]) {
				csv_error(e, path, lineno, "offset: '%s' is not a number", cols[c_offset]);
				bad++;
				continue;
			}
		}
		v = 0;
		if (c_words >= 0 && cols[c_words][0] && fp_parse_int64(cols[c_words], 1, 125, &v) < 0) {
			csv_error(e, path, lineno, "words: '%s' is not 1-125", cols[c_words]);
			bad++;
			continue;
		}
		{
			const char *nm = c_field >= 0 && cols[c_field][0] ? cols[c_field] : cols[c_name];
			if (!name_ok(nm, 64)) {
				csv_error(e, path, lineno, "name: '%s' must be 1-64 characters of A-Z a-z "
					  "0-9 _ - .", nm);
				bad++;
				continue;
			}
			fl.field = fp_xstrdup(nm);
		}
		if (c_phase >= 0 && cols[c_phase][0]) {
			if (!name_ok(cols[c_phase], 16)) {
				csv_error(e, path, lineno, "phase: '%s' must be 1-16 characters of A-Z "
					  "a-z 0-9 _ - .", cols[c_phase]);
				field_free(&fl);
				bad++;
				continue;
			}
			fl.phase = fp_xstrdup(cols[c_phase]);
		}
		msg = field_finish(&fl, addr, df->address_base, fl.type == FP_MB_STRING ? v : 0, mbuf,
				   sizeof(mbuf));
		if (!msg && v && fl.type != FP_MB_STRING && v != fl.count) {
			snprintf(mbuf, sizeof(mbuf), "words: %lld, but %s spans %u registers",
				 (long long)v, fp_mb_type_name(fl.type), fl.count);
			msg = mbuf;
		}
		if (msg) {
			csv_error(e, path, lineno, "%s", msg);
			field_free(&fl);
			bad++;
			continue;
		}
		add_field(d, cap, &fl);
	}
	fclose(f);
	if (nh < 0 && !bad) {
		csv_error(e, path, lineno, "no header line (address,type,name,...)");
		bad++;
	}
	return bad ? -1 : 0;
}

/* Resolves a profile name to a file: a path as given (relative to the
 * config file's folder), else NAME.conf or NAME.csv in profiles_dir. */
static char *find_profile(const char *name, const char *dir, const char *conf_file)
{
	char *p;

	if (strchr(name, '/') || strstr(name, ".conf") || strstr(name, ".csv")) {
		if (name[0] != '/' && conf_file && strchr(conf_file, '/')) {
			const char *slash = strrchr(conf_file, '/');
			p = fp_xasprintf("%.*s/%s", (int)(slash - conf_file), conf_file, name);
		} else {
			p = fp_xstrdup(name);
		}
		return p;
	}
	p = fp_xasprintf("%s/%s.conf", dir, name);
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	p = fp_xasprintf("%s/%s.csv", dir, name);
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

static bool ranges_overlap(const struct fp_mb_field *a, const struct fp_mb_field *b)
{
	if (a->table != b->table)
		return false;
	if (a->type == FP_MB_BOOL && b->type == FP_MB_BOOL && a->bit >= 0 && b->bit >= 0 &&
	    a->address == b->address)
		return a->bit == b->bit;
	return a->address < b->address + b->count && b->address < a->address + a->count;
}

static void parse_device(struct fp_mb_config *mc, const config_setting_t *g,
			 const struct fp_config *cfg, struct fp_cfg_errors *e)
{
	static const char *const keys[] = {
		"name", "url", "unit_id", "profile", "registers", "role", "interval", "timeout",
		"pause", "tags", "table", "order", "address_base", "max_registers", "max_bits",
		"max_gap", "single_request", NULL,
	};
	struct fp_mb_device_cfg *d;
	struct defaults df = { FP_MB_HOLDING, FP_MB_ABCD, 0, { 125, 2000, 0, false } };
	size_t before = e->n, cap = 0, i, j;
	int64_t unit = 1;
	char msg[256];
	const config_setting_t *regs, *tags;

	fp_xgrow((void **)&mc->devs, &mc->cap, mc->ndevs + 1, sizeof(*mc->devs));
	d = &mc->devs[mc->ndevs++];
	memset(d, 0, sizeof(*d));
	d->line = config_setting_source_line(g);
	d->interval_ms = cfg->interval_ms;
	d->timeout_ms = 1000;
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { name = ...; url = ...; }");
		return;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_string(e, g, "name", &d->name) == 0)
		fp_cfg_report(e, g, "name", "is required");
	else if (d->name && !name_ok(d->name, 64))
		fp_cfg_report(e, g, "name", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .", d->name);
	for (i = 0; d->name && i + 1 < mc->ndevs; i++)
		if (mc->devs[i].name && !strcmp(mc->devs[i].name, d->name))
			fp_cfg_report(e, g, "name", "'%s' is already the name of the device at line %d",
				      d->name, mc->devs[i].line);
	if (fp_cfg_get_string(e, g, "url", &d->url) == 0)
		fp_cfg_report(e, g, "url", "is required (tcp://HOST:PORT or rtu:/dev/ttyX?baud=...)");
	else if (d->url && parse_url(d, msg, sizeof(msg)) < 0)
		fp_cfg_report(e, g, "url", "%s", msg);
	if (fp_cfg_get_int(e, g, "unit_id", 0, 255, &unit) >= 0)
		d->unit_id = (int)unit;
	fp_cfg_get_role(e, g, "role", cfg, &d->role);
	if (!d->role)
		d->role = fp_xstrdup("other");
	fp_cfg_get_duration(e, g, "interval", 100, 86400000, &d->interval_ms);
	fp_cfg_get_duration(e, g, "timeout", 10, 60000, &d->timeout_ms);
	fp_cfg_get_duration(e, g, "pause", 0, 10000, &d->pause_ms);
	tags = config_setting_get_member(g, "tags");
	if (tags) {
		if (config_setting_type(tags) != CONFIG_TYPE_GROUP) {
			fp_cfg_report(e, g, "tags", "expected a group { key = \"value\"; ... }");
		} else {
			int n = config_setting_length(tags);
			d->tags = fp_xcalloc((size_t)n + 1, sizeof(*d->tags));
			for (int k = 0; k < n; k++) {
				const config_setting_t *t = config_setting_get_elem(tags, (unsigned)k);
				const char *key = config_setting_name(t);
				if (config_setting_type(t) != CONFIG_TYPE_STRING) {
					fp_cfg_errors_add(e, t, NULL, "a tag value must be a string");
					continue;
				}
				if (!strcmp(key, "site") || !strcmp(key, "device") || !strcmp(key, "role") ||
				    !strcmp(key, "source") || !strcmp(key, "phase")) {
					fp_cfg_errors_add(e, t, NULL, "'%s' is set by the agent", key);
					continue;
				}
				d->tags[d->ntags].key = fp_xstrdup(key);
				d->tags[d->ntags].val = fp_xstrdup(config_setting_get_string(t));
				d->ntags++;
			}
		}
	}
	/* Device keys first apply to its inline registers; a profile brings
	 * its own defaults, which the device's keys then override. */
	fp_cfg_get_string(e, g, "profile", &d->profile);
	regs = config_setting_get_member(g, "registers");
	if (d->profile && regs)
		fp_cfg_report(e, g, "registers", "give either profile or registers, not both");
	else if (!d->profile && !regs)
		fp_cfg_report(e, g, "registers", "a device needs a profile or a registers list");
	if (d->profile && !regs && !strcmp(d->profile, "sunspec")) {
		/* Discovered on the device at the first poll; requests of up
		 * to 125 registers hold a whole model with its scale factors. */
		parse_defaults(e, g, &df);
		d->limits = df.limits;
		d->limits.max_registers = 125;
		d->limits.max_gap = 125;
		d->sunspec = true;
	} else if (d->profile && !regs) {
		char *path = find_profile(d->profile, mc->profiles_dir, cfg->file);
		if (!path) {
			fp_cfg_report(e, g, "profile", "'%s' not found (as %s/%s.conf or .csv)", d->profile,
				      mc->profiles_dir, d->profile);
		} else {
			struct defaults pd = df;
			if (strstr(path, ".csv")) {
				parse_defaults(e, g, &pd);
				load_csv_profile(path, e, &pd, d, &cap);
			} else {
				load_conf_profile(path, e, &pd, d, &cap);
				parse_defaults(e, g, &pd);
			}
			d->limits = pd.limits;
			free(path);
		}
	} else if (regs) {
		parse_defaults(e, g, &df);
		d->limits = df.limits;
		parse_register_list(e, regs, &df, d, &cap);
	}
	if (e->n > before)
		return;
	if (d->nfields == 0 && !d->sunspec)
		fp_cfg_report(e, g, d->profile ? "profile" : "registers", "no register to read");
	for (i = 0; i < d->nfields; i++) {
		const struct fp_mb_field *a = &d->fields[i];
		bool bits = a->table == FP_MB_COIL || a->table == FP_MB_DISCRETE;
		if (a->count > (bits ? d->limits.max_bits : d->limits.max_registers))
			fp_cfg_report(e, g, "max_registers", "field '%s' spans %u registers, more than %u",
				      a->field, a->count, d->limits.max_registers);
		for (j = i + 1; j < d->nfields; j++) {
			const struct fp_mb_field *b = &d->fields[j];
			if (ranges_overlap(a, b))
				fp_cfg_report(e, g, d->profile ? "profile" : "registers",
					      "'%s' (line %d) and '%s' (line %d) overlap in the %s table at %u",
					      a->field, a->line, b->field, b->line, fp_mb_table_name(a->table),
					      b->address);
			else if (!strcmp(a->field, b->field) &&
				 !((a->phase && b->phase && strcmp(a->phase, b->phase)) ||
				   (!a->phase != !b->phase)))
				fp_cfg_report(e, g, d->profile ? "profile" : "registers",
					      "field '%s' is read twice (lines %d and %d)", a->field,
					      a->line, b->line);
		}
	}
}

void *fp_mb_config_parse(const config_setting_t *g, const struct fp_config *cfg,
			 struct fp_cfg_errors *e)
{
	static const char *const keys[] = { "devices", "profiles_dir", NULL };
	struct fp_mb_config *mc = fp_xcalloc(1, sizeof(*mc));
	const config_setting_t *l;
	size_t before = e->n;
	int i, n;

	mc->profiles_dir = fp_xstrdup(DATADIR "/footprint/profiles");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { devices = ( ... ); }");
		fp_mb_config_free(mc);
		return NULL;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_string(e, g, "profiles_dir", &mc->profiles_dir) > 0 &&
	    mc->profiles_dir[0] != '/' && cfg->file && strchr(cfg->file, '/')) {
		const char *slash = strrchr(cfg->file, '/');
		char *abs = fp_xasprintf("%.*s/%s", (int)(slash - cfg->file), cfg->file, mc->profiles_dir);
		free(mc->profiles_dir);
		mc->profiles_dir = abs;
	}
	l = config_setting_get_member(g, "devices");
	if (!l) {
		fp_cfg_report(e, g, "devices", "is required (a list of devices)");
	} else if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		fp_cfg_errors_add(e, l, NULL, "expected a list ( { ... }, ... )");
	} else {
		n = config_setting_length(l);
		for (i = 0; i < n; i++)
			parse_device(mc, config_setting_get_elem(l, (unsigned)i), cfg, e);
	}
	if (e->n > before) {
		fp_mb_config_free(mc);
		return NULL;
	}
	return mc;
}

void fp_mb_config_describe(const void *mc, FILE *f)
{
	const struct fp_mb_config *c = mc;
	size_t i, k;

	for (i = 0; i < c->ndevs; i++) {
		const struct fp_mb_device_cfg *d = &c->devs[i];
		struct fp_mb_block *b;
		size_t nb = fp_mb_plan(d->fields, d->nfields, &d->limits, &b);
		unsigned regs = 0;
		char *key = fp_mb_conn_key(d);

		for (k = 0; k < nb; k++)
			regs += b[k].count;
		if (d->sunspec) {
			fprintf(f, "modbus device %s (%s unit %d): SunSpec, models found at the first poll "
				"(probing holding registers 40000, 0, 50000)\n", d->name, key, d->unit_id);
			fp_mb_plan_free(b, nb);
			free(key);
			continue;
		}
		fprintf(f, "modbus device %s (%s unit %d, %zu fields): %zu requests touching %u "
			"registers/bits\n", d->name, key, d->unit_id, d->nfields, nb, regs);
		for (k = 0; k < nb; k++)
			fprintf(f, "  %s %u-%u (%u) for %zu fields\n", fp_mb_table_name(b[k].table),
				b[k].start, b[k].start + b[k].count - 1, b[k].count, b[k].nfields);
		fp_mb_plan_free(b, nb);
		free(key);
	}
}
