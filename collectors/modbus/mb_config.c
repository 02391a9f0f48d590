/* mb_config.c - the modbus group of footprintd.conf and register profiles. */
#include "config.h"

#include "mb_config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "util.h"

/* Device-level defaults a profile may set and a device may override. */
struct defaults {
	int table, order;
	int address_base;
	struct fp_mb_plan_limits limits;
};

static const char *const out_names[] = { "auto", "float", "int", "bool", "string", NULL };

/* A phase (a tag value): a name of at most 16 characters. */
static bool phase_ok(const char *s)
{
	return fp_name_valid(s) && strlen(s) <= 16;
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
		int rc = fp_parse_host_port(u + 6, 502, &d->host, &d->port);

		d->kind = FP_MB_TCP;
		if (rc == -ERANGE)
			snprintf(msg, msglen, "'%s': the port must be 1-65535", u);
		else if (rc < 0)
			snprintf(msg, msglen,
				 "'%s': expected tcp://HOST[:PORT] or tcp://[IPV6][:PORT]", u);
		return rc < 0 ? -1 : 0;
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
				snprintf(msg, msglen, "'%s': %s='%s' is not a number", u, tok,
					 eq + 1);
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
				snprintf(msg, msglen,
					 "'%s': %s=%s is not valid (baud>=50, data 5-8, stop 1-2, "
					 "parity N/E/O, rs485 0/1)",
					 u, tok, eq + 1);
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
			snprintf(msg, len,
				 "sentinel %lld does not fit the %u bits of a %s (%lld to %llu)",
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
		snprintf(msg, len, "address %lld (base %d) is outside 0-65535", (long long)addr,
			 base);
		return msg;
	}
	f->address = (uint16_t)a;
	if (f->out == FP_MB_OUT_STRING && f->type != FP_MB_STRING)
		return "output = \"string\" needs type = \"string\"";
	return sentinels_finish(f, msg, len);
}

static void parse_sentinels(struct fp_cfg_errors *e, const config_setting_t *g,
			    struct fp_mb_field *f)
{
	const config_setting_t *s = config_setting_get_member(g, "sentinel");
	int i, n;

	if (!s)
		return;
	if (config_setting_is_scalar(s)) {
		if (config_setting_type(s) != CONFIG_TYPE_INT &&
		    config_setting_type(s) != CONFIG_TYPE_INT64) {
			fp_cfg_report(e, g, "sentinel",
				      "expected an integer (the raw value), got %s",
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
		if (config_setting_type(v) != CONFIG_TYPE_INT &&
		    config_setting_type(v) != CONFIG_TYPE_INT64) {
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
		"field", "phase", "table",  "address", "type",	   "order", "count",
		"bit",	 "scale", "offset", "output",  "sentinel", NULL,
	};
	static const char *const tables[] = { "coil", "discrete", "holding", "input", NULL };
	/* The types in enum fp_mb_type's order, then "bit", bool's alias. */
	static const char *const types[] = {
		"bool",	  "int16",   "uint16",	"int32",  "uint32", "int64",
		"uint64", "float32", "float64", "string", "bit",    NULL,
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
		fp_cfg_report(e, g, "field",
			      "is required (the output field name, e.g. \"power_w\")");
	else if (f->field && !fp_name_valid(f->field))
		fp_cfg_report(e, g, "field", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .",
			      f->field);
	if (fp_cfg_get_string(e, g, "phase", &f->phase) > 0 && !phase_ok(f->phase))
		fp_cfg_report(e, g, "phase", "'%s' must be 1-16 characters of A-Z a-z 0-9 _ - .",
			      f->phase);
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
		"description", "table",	  "order",	    "address_base", "max_registers",
		"max_bits",    "max_gap", "single_request", "registers",    NULL,
	};
	config_t pc;
	const config_setting_t *root, *l;
	size_t before = e->n;

	config_init(&pc);
	if (config_read_file(&pc, path) != CONFIG_TRUE) {
		char *m = fp_xasprintf("%s:%d: %s",
				       config_error_file(&pc) ? config_error_file(&pc) : path,
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

/* A .csv profile holds at most this many bytes. */
#define CSV_PROFILE_MAX (16 << 20)

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

/* The columns of a .csv profile; a second name is an alias. */
enum {
	C_ADDR,
	C_TYPE,
	C_NAME,
	C_FIELD,
	C_FC,
	C_TABLE,
	C_ORDER,
	C_SCALE,
	C_OFFSET,
	C_PHASE,
	C_WORDS,
	C_BIT,
	C_OUTPUT,
	C_SENTINEL,
	NCOLS
};
static const char *const csv_cols[NCOLS][2] = {
	[C_ADDR] = { "address" },
	[C_TYPE] = { "type" },
	[C_NAME] = { "name" },
	[C_FIELD] = { "field" },
	[C_FC] = { "fc" },
	[C_TABLE] = { "table" },
	[C_ORDER] = { "word_order", "order" },
	[C_SCALE] = { "scale" },
	[C_OFFSET] = { "offset" },
	[C_PHASE] = { "phase" },
	[C_WORDS] = { "words", "count" },
	[C_BIT] = { "bit" },
	[C_OUTPUT] = { "output" },
	[C_SENTINEL] = { "sentinel" },
};

/* A .csv profile being read (fp_csv_load's argument). */
struct csv_profile {
	const char *path;
	struct fp_cfg_errors *e;
	const struct defaults *df;
	struct fp_mb_device_cfg *d;
	size_t *cap;
	int nh;		/* the header's columns; -1 before the header */
	int col[NCOLS]; /* index of each column, -1 when absent */
	int bad;
};

/* The record's value in column c, or NULL when the column is absent or the
 * value empty. */
static const char *csv_val(const struct csv_profile *p, const struct fp_csv_rec *r, int c)
{
	return p->col[c] >= 0 && r->f[p->col[c]][0] ? r->f[p->col[c]] : NULL;
}

static int csv_header(struct csv_profile *p, const struct fp_csv_rec *r)
{
	int c;

	p->nh = r->n;
	for (c = 0; c < NCOLS; c++) {
		p->col[c] = fp_csv_col(r, csv_cols[c][0]);
		if (p->col[c] < 0 && csv_cols[c][1])
			p->col[c] = fp_csv_col(r, csv_cols[c][1]);
	}
	if (p->col[C_ADDR] < 0 || p->col[C_TYPE] < 0 ||
	    (p->col[C_NAME] < 0 && p->col[C_FIELD] < 0)) {
		csv_error(p->e, p->path, r->line,
			  "the header needs the columns address, type and "
			  "name (or field)");
		return -1;
	}
	return 0;
}

/* fc, table and order; 0 or -1 (reported). */
static int csv_where(const struct csv_profile *p, const struct fp_csv_rec *r,
		     struct fp_mb_field *fl)
{
	const char *s;
	int64_t v;
	int t;

	if ((s = csv_val(p, r, C_FC))) {
		if (fp_parse_int64(s, 1, 4, &v) < 0) {
			csv_error(p->e, p->path, r->line, "fc: '%s' is not 1, 2, 3 or 4", s);
			return -1;
		}
		fl->table = v == 1 ? FP_MB_COIL
			: v == 2   ? FP_MB_DISCRETE
			: v == 3   ? FP_MB_HOLDING
				   : FP_MB_INPUT;
	}
	if ((s = csv_val(p, r, C_TABLE))) {
		t = fp_mb_table_from_name(s);
		if (t < 0) {
			csv_error(p->e, p->path, r->line,
				  "table: '%s' is not coil, discrete, holding or input", s);
			return -1;
		}
		fl->table = (enum fp_mb_table)t;
	}
	if ((s = csv_val(p, r, C_ORDER))) {
		t = fp_mb_order_from_name(s);
		if (t < 0) {
			csv_error(p->e, p->path, r->line,
				  "order: '%s' is not ABCD, CDAB, BADC or DCBA", s);
			return -1;
		}
		fl->order = (enum fp_mb_order)t;
	}
	return 0;
}

/* The number in column c (scale, offset) into *out when given; 0 or -1. */
static int csv_number(const struct csv_profile *p, const struct fp_csv_rec *r, int c, double *out)
{
	const char *s = csv_val(p, r, c);
	char *end;

	if (!s)
		return 0;
	*out = strtod(s, &end);
	if (*end || end == s) {
		csv_error(p->e, p->path, r->line, "%s: '%s' is not a number", csv_cols[c][0], s);
		return -1;
	}
	return 0;
}

/* The field name (field, else name) and the phase; 0 or -1. */
static int csv_names(const struct csv_profile *p, const struct fp_csv_rec *r,
		     struct fp_mb_field *fl)
{
	const char *nm = csv_val(p, r, C_FIELD), *ph = csv_val(p, r, C_PHASE);

	if (!nm)
		nm = p->col[C_NAME] >= 0 ? r->f[p->col[C_NAME]] : "";
	if (!fp_name_valid(nm)) {
		csv_error(p->e, p->path, r->line,
			  "name: '%s' must be 1-64 characters of A-Z a-z "
			  "0-9 _ - .",
			  nm);
		return -1;
	}
	fl->field = fp_xstrdup(nm);
	if (ph && !phase_ok(ph)) {
		csv_error(p->e, p->path, r->line,
			  "phase: '%s' must be 1-16 characters of A-Z "
			  "a-z 0-9 _ - .",
			  ph);
		return -1;
	}
	if (ph)
		fl->phase = fp_xstrdup(ph);
	return 0;
}

/* bit (0-15), output (auto, float, int, bool, string) and sentinel (up
 * to 4 raw values separated by '|' or spaces: 0xFFFF, -32768; checked
 * against the type's width by field_finish); 0 or -1 (reported). */
static int csv_extras(const struct csv_profile *p, const struct fp_csv_rec *r,
		      struct fp_mb_field *fl)
{
	const char *s;
	int64_t v;
	int k;

	if ((s = csv_val(p, r, C_BIT))) {
		if (fp_parse_int64(s, 0, 15, &v) < 0) {
			csv_error(p->e, p->path, r->line, "bit: '%s' is not 0-15", s);
			return -1;
		}
		fl->bit = (int8_t)v;
	}
	if ((s = csv_val(p, r, C_OUTPUT))) {
		for (k = 0; out_names[k] && strcmp(out_names[k], s); k++)
			;
		if (!out_names[k]) {
			csv_error(p->e, p->path, r->line,
				  "output: '%s' is not auto, float, int, bool or string", s);
			return -1;
		}
		fl->out = (enum fp_mb_out)k;
	}
	s = csv_val(p, r, C_SENTINEL);
	while (s && *s) {
		char *end;
		uint64_t u;
		s += strspn(s, " \t|");
		if (!*s)
			break;
		errno = 0;
		u = *s == '-' ? (uint64_t)strtoll(s, &end, 0) : strtoull(s, &end, 0);
		if (errno || end == s || (*end && !strchr(" \t|", *end))) {
			csv_error(
				p->e, p->path, r->line,
				"sentinel: '%s' is not a list of integers (raw values, '|' between)",
				csv_val(p, r, C_SENTINEL));
			return -1;
		}
		if (fl->nsentinels == FP_MB_MAX_SENTINELS) {
			csv_error(p->e, p->path, r->line, "sentinel: at most %d values",
				  FP_MB_MAX_SENTINELS);
			return -1;
		}
		fl->sentinel[fl->nsentinels++] = u;
		s = end;
	}
	return 0;
}

/* One register row into fl; 0 or -1 (reported; fl's names are then for
 * field_free). */
static int csv_register(const struct csv_profile *p, const struct fp_csv_rec *r,
			struct fp_mb_field *fl)
{
	const char *s;
	char mbuf[160];
	const char *msg;
	int64_t addr, words = 0;
	int t;

	field_defaults(fl, p->df);
	fl->line = r->line;
	if (r->n < p->nh) { /* more is fine: free text with commas in the last column */
		csv_error(p->e, p->path, r->line, "%d columns, the header has %d", r->n, p->nh);
		return -1;
	}
	s = r->f[p->col[C_ADDR]];
	if (fp_parse_int64(s, 0, 65536, &addr) < 0) {
		csv_error(p->e, p->path, r->line, "address: '%s' is not a number 0-65535", s);
		return -1;
	}
	s = r->f[p->col[C_TYPE]];
	t = fp_mb_type_from_name(s);
	if (t < 0) {
		csv_error(p->e, p->path, r->line, "type: '%s' is not a known type", s);
		return -1;
	}
	fl->type = (enum fp_mb_type)t;
	if (csv_where(p, r, fl) < 0 || csv_number(p, r, C_SCALE, &fl->scale) < 0 ||
	    csv_number(p, r, C_OFFSET, &fl->offset) < 0)
		return -1;
	if ((s = csv_val(p, r, C_WORDS)) && fp_parse_int64(s, 1, 125, &words) < 0) {
		csv_error(p->e, p->path, r->line, "words: '%s' is not 1-125", s);
		return -1;
	}
	if (csv_names(p, r, fl) < 0 || csv_extras(p, r, fl) < 0)
		return -1;
	msg = field_finish(fl, addr, p->df->address_base, fl->type == FP_MB_STRING ? words : 0,
			   mbuf, sizeof(mbuf));
	if (!msg && words && fl->type != FP_MB_STRING && words != fl->count) {
		snprintf(mbuf, sizeof(mbuf), "words: %lld, but %s spans %u registers",
			 (long long)words, fp_mb_type_name(fl->type), fl->count);
		msg = mbuf;
	}
	if (msg) {
		csv_error(p->e, p->path, r->line, "%s", msg);
		return -1;
	}
	return 0;
}

/* fp_csv_load's callback: the header, then one register per record. */
static int csv_row(void *arg, const struct fp_csv_rec *r, const char *why)
{
	struct csv_profile *p = arg;
	struct fp_mb_field fl;

	if (why) {
		csv_error(p->e, p->path, r->line, "%s", why);
		p->bad++;
		return 0;
	}
	if (p->nh < 0) {
		if (csv_header(p, r) == 0)
			return 0;
		p->bad++;
		return -ECANCELED; /* no register without the header */
	}
	if (csv_register(p, r, &fl) < 0) {
		field_free(&fl);
		p->bad++;
		return 0;
	}
	add_field(p->d, p->cap, &fl);
	return 0;
}

static int load_csv_profile(const char *path, struct fp_cfg_errors *e, const struct defaults *df,
			    struct fp_mb_device_cfg *d, size_t *cap)
{
	struct csv_profile p = { path, e, df, d, cap, -1, { 0 }, 0 };
	int lines = fp_csv_load(path, CSV_PROFILE_MAX, csv_row, &p);

	if (lines == -EFBIG) {
		csv_error(e, path, 0, "cannot read the profile: larger than %d bytes",
			  CSV_PROFILE_MAX);
		return -1;
	}
	if (lines < 0 && lines != -ECANCELED) {
		csv_error(e, path, 0, "cannot read the profile: %s", strerror(-lines));
		return -1;
	}
	if (p.nh < 0 && !p.bad) {
		csv_error(e, path, lines, "no header line (address,type,name,...)");
		p.bad++;
	}
	return p.bad ? -1 : 0;
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

/* The device's own tags: strings, none of the tags the agent sets. */
static void parse_tags(struct fp_cfg_errors *e, const config_setting_t *g,
		       struct fp_mb_device_cfg *d)
{
	const config_setting_t *tags = config_setting_get_member(g, "tags");
	int n;

	if (!tags)
		return;
	if (config_setting_type(tags) != CONFIG_TYPE_GROUP) {
		fp_cfg_report(e, g, "tags", "expected a group { key = \"value\"; ... }");
		return;
	}
	n = config_setting_length(tags);
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

/* The fields of a parsed device: something to read, each within the
 * request limits, no two overlapping, none read twice. */
static void check_fields(struct fp_cfg_errors *e, const config_setting_t *g,
			 const struct fp_mb_device_cfg *d)
{
	size_t i, j;

	if (d->nfields == 0 && !d->sunspec)
		fp_cfg_report(e, g, d->profile ? "profile" : "registers", "no register to read");
	for (i = 0; i < d->nfields; i++) {
		const struct fp_mb_field *a = &d->fields[i];
		bool bits = a->table == FP_MB_COIL || a->table == FP_MB_DISCRETE;
		if (a->count > (bits ? d->limits.max_bits : d->limits.max_registers))
			fp_cfg_report(e, g, "max_registers",
				      "field '%s' spans %u registers, more than %u", a->field,
				      a->count, d->limits.max_registers);
		for (j = i + 1; j < d->nfields; j++) {
			const struct fp_mb_field *b = &d->fields[j];
			if (ranges_overlap(a, b))
				fp_cfg_report(
					e, g, d->profile ? "profile" : "registers",
					"'%s' (line %d) and '%s' (line %d) overlap in the %s table at %u",
					a->field, a->line, b->field, b->line,
					fp_mb_table_name(a->table), b->address);
			else if (!strcmp(a->field, b->field) &&
				 !((a->phase && b->phase && strcmp(a->phase, b->phase)) ||
				   (!a->phase != !b->phase)))
				fp_cfg_report(e, g, d->profile ? "profile" : "registers",
					      "field '%s' is read twice (lines %d and %d)",
					      a->field, a->line, b->line);
		}
	}
}

static void parse_device(struct fp_mb_config *mc, const config_setting_t *g,
			 const struct fp_config *cfg, struct fp_cfg_errors *e)
{
	static const char *const keys[] = {
		"name",		"url",		 "unit_id",  "profile", "registers",	  "role",
		"interval",	"timeout",	 "pause",    "tags",	"table",	  "order",
		"address_base", "max_registers", "max_bits", "max_gap", "single_request", NULL,
	};
	struct fp_mb_device_cfg *d;
	struct defaults df = { FP_MB_HOLDING, FP_MB_ABCD, 0, { 125, 2000, 0, false } };
	size_t before = e->n, cap = 0, i;
	int64_t unit = 1;
	char msg[256];
	const config_setting_t *regs;

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
	else if (d->name && !fp_name_valid(d->name))
		fp_cfg_report(e, g, "name", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .",
			      d->name);
	for (i = 0; d->name && i + 1 < mc->ndevs; i++)
		if (mc->devs[i].name && !strcmp(mc->devs[i].name, d->name))
			fp_cfg_report(e, g, "name",
				      "'%s' is already the name of the device at line %d", d->name,
				      mc->devs[i].line);
	if (fp_cfg_get_string(e, g, "url", &d->url) == 0)
		fp_cfg_report(e, g, "url",
			      "is required (tcp://HOST:PORT or rtu:/dev/ttyX?baud=...)");
	else if (d->url && parse_url(d, msg, sizeof(msg)) < 0)
		fp_cfg_report(e, g, "url", "%s", msg);
	if (fp_cfg_get_int(e, g, "unit_id", 0, 255, &unit) >= 0)
		d->unit_id = (int)unit;
	fp_cfg_get_role(e, g, "role", cfg->role_name, &d->role);
	if (!d->role)
		d->role = fp_xstrdup("other");
	fp_cfg_get_duration(e, g, "interval", 100, 86400000, &d->interval_ms);
	fp_cfg_get_duration(e, g, "timeout", 10, 60000, &d->timeout_ms);
	fp_cfg_get_duration(e, g, "pause", 0, 10000, &d->pause_ms);
	parse_tags(e, g, d);
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
			fp_cfg_report(e, g, "profile", "'%s' not found (as %s/%s.conf or .csv)",
				      d->profile, mc->profiles_dir, d->profile);
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
	check_fields(e, g, d);
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
	fp_cfg_get_path(e, g, "profiles_dir", cfg->file, &mc->profiles_dir);
	if (fp_cfg_get_list(e, g, "devices", true, &l) > 0) {
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
			fprintf(f,
				"modbus device %s (%s unit %d): SunSpec, models found at the first poll "
				"(probing holding registers 40000, 0, 50000)\n",
				d->name, key, d->unit_id);
			fp_mb_plan_free(b, nb);
			free(key);
			continue;
		}
		fprintf(f,
			"modbus device %s (%s unit %d, %zu fields): %zu requests touching %u "
			"registers/bits\n",
			d->name, key, d->unit_id, d->nfields, nb, regs);
		for (k = 0; k < nb; k++)
			fprintf(f, "  %s %u-%u (%u) for %zu fields\n", fp_mb_table_name(b[k].table),
				b[k].start, b[k].start + b[k].count - 1, b[k].count, b[k].nfields);
		fp_mb_plan_free(b, nb);
		free(key);
	}
}
