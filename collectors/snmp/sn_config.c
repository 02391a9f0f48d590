/* sn_config.c - the snmp group of footprintd.conf and SNMP profiles. */
#include "config.h"

#include "sn_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "util.h"

#define OBJECTS_MAX 1000

static const char *const auth_names[] = { "none", "MD5", "SHA", "SHA-256", NULL };
static const char *const priv_names[] = { "none", "DES", "AES", NULL };
static const char *const version_names[] = { "2c", "3", NULL };

void fp_sn_objects_free(struct fp_sn_object *objs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(objs[i].field);
		free(objs[i].index);
		free(objs[i].sum);
	}
	free(objs);
}

static void secret_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static void dev_free(struct fp_sn_device_cfg *d)
{
	size_t i;

	free(d->name);
	free(d->url);
	free(d->host);
	secret_free(d->community);
	free(d->user);
	secret_free(d->auth_pass);
	secret_free(d->priv_pass);
	free(d->context);
	free(d->role);
	free(d->channel_role);
	free(d->profile);
	fp_sn_objects_free(d->objs, d->nobjs);
	for (i = 0; i < d->ntags; i++) {
		free(d->tags[i].key);
		free(d->tags[i].val);
	}
	free(d->tags);
}

void fp_sn_config_free(void *sc)
{
	struct fp_sn_config *c = sc;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->ndevs; i++)
		dev_free(&c->devs[i]);
	free(c->devs);
	free(c->profiles_dir);
	free(c);
}

/* udp://HOST[:PORT] or tcp://HOST[:PORT]; HOST may be [v6]. */
static int parse_url(struct fp_sn_device_cfg *d, char *msg, size_t len)
{
	const char *u = d->url, *h, *end, *colon;
	char *endp;
	long port = 161;

	if (!strncmp(u, "udp://", 6)) {
		d->tcp = false;
	} else if (!strncmp(u, "tcp://", 6)) {
		d->tcp = true;
	} else {
		snprintf(msg, len, "'%s': expected udp://HOST[:PORT] or tcp://HOST[:PORT]", u);
		return -EINVAL;
	}
	h = u + 6;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end) {
			snprintf(msg, len, "'%s': no ']' after an IPv6 address", u);
			return -EINVAL;
		}
		d->host = fp_xasprintf("%.*s", (int)(end - h - 1), h + 1);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon) {
			snprintf(msg, len, "'%s': unexpected text after ']'", u);
			return -EINVAL;
		}
	} else {
		colon = strchr(h, ':');
		d->host = colon ? fp_xasprintf("%.*s", (int)(colon - h), h) : fp_xstrdup(h);
	}
	if (!d->host[0] || strchr(d->host, '/')) {
		snprintf(msg, len, "'%s': no host", u);
		return -EINVAL;
	}
	if (colon) {
		errno = 0;
		port = strtol(colon + 1, &endp, 10);
		if (errno || endp == colon + 1 || *endp || port < 1 || port > 65535) {
			snprintf(msg, len, "'%s': the port must be 1-65535", u);
			return -EINVAL;
		}
	}
	d->port = (int)port;
	return 0;
}

static bool tag_reserved(const char *k)
{
	static const char *const r[] = { "site", "device", "role", "source", "channel", NULL };
	size_t i;

	for (i = 0; r[i]; i++)
		if (!strcmp(r[i], k))
			return true;
	return false;
}

/* index_suffix, digits and si_prefix: rows of a shared column, and
 * scales read from another object of the same row. */
static void parse_row_scale(struct fp_cfg_errors *e, const config_setting_t *g,
			    struct fp_sn_object *o)
{
	static const char *const k[] = { "digits", "si_prefix" };
	struct fp_sn_oid *dst[] = { &o->digits_oid, &o->prefix_oid };
	char *v = NULL;
	size_t i;

	if (fp_cfg_get_string(e, g, "index_suffix", &v) > 0) {
		char *t = fp_xasprintf("0.%s", v);
		if (fp_sn_oid_parse(t, &o->suffix) < 0 || o->suffix.n > 9) {
			fp_cfg_report(e, g, "index_suffix",
				      "'%s' is not the last arcs of a row index (1-8 numbers)", v);
			o->suffix.n = 0;
		} else {
			if (!o->index)
				fp_cfg_report(e, g, "index_suffix",
					      "only a table column (with index) has one");
			o->suffix.n--;
			memmove(o->suffix.a, o->suffix.a + 1, o->suffix.n * sizeof(*o->suffix.a));
		}
		free(t);
	}
	free(v);
	for (i = 0; i < 2; i++) {
		v = NULL;
		if (fp_cfg_get_string(e, g, k[i], &v) > 0) {
			if (fp_sn_oid_parse(v, dst[i]) < 0) {
				fp_cfg_report(e, g, k[i], "'%s' is not a numeric OID", v);
				dst[i]->n = 0;
			} else if (o->type == FP_SN_STRING || o->type == FP_SN_COUNTER)
				fp_cfg_report(e, g, k[i], "a %s has no per-row scale",
					      fp_sn_type_names[o->type]);
		}
		free(v);
	}
}

static void parse_object(struct fp_cfg_errors *e, const config_setting_t *g, struct fp_sn_object *o)
{
	static const char *const keys[] = { "oid", "type",	   "field",  "scale",	  "index",
					    "sum", "index_suffix", "digits", "si_prefix", NULL };
	char *oid = NULL;
	int t = FP_SN_NUMBER;

	memset(o, 0, sizeof(*o));
	o->scale = 1;
	o->line = config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { oid = ...; field = ...; }");
		return;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_string(e, g, "oid", &oid) == 0)
		fp_cfg_report(e, g, "oid", "is required (a numeric OID such as 1.3.6.1.2.1.1.3.0)");
	else if (oid && fp_sn_oid_parse(oid, &o->oid) < 0)
		fp_cfg_report(e, g, "oid", "'%s' is not a numeric OID (2-%d arcs of 0-4294967295)",
			      oid, FP_SN_OID_MAX);
	free(oid);
	if (fp_cfg_get_enum(e, g, "type", fp_sn_type_names, &t) >= 0)
		o->type = (enum fp_sn_type)t;
	if (fp_cfg_get_string(e, g, "field", &o->field) == 0)
		fp_cfg_report(e, g, "field", "is required (the point's field name)");
	else if (o->field && !fp_name_valid(o->field))
		fp_cfg_report(e, g, "field", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .",
			      o->field);
	fp_cfg_get_float(e, g, "scale", -1e12, 1e12, &o->scale);
	if (o->scale == 0)
		fp_cfg_report(e, g, "scale", "must not be 0");
	if (fp_cfg_get_string(e, g, "index", &o->index) > 0 &&
	    (!fp_name_valid(o->index) || tag_reserved(o->index)))
		fp_cfg_report(e, g, "index",
			      "'%s' must be a tag name (not site, device, role, source, channel)",
			      o->index);
	if (fp_cfg_get_string(e, g, "sum", &o->sum) > 0) {
		if (!o->index)
			fp_cfg_report(e, g, "sum", "only a table column (with index) has a sum");
		else if (!fp_name_valid(o->sum))
			fp_cfg_report(e, g, "sum", "'%s' is not a field name", o->sum);
		else if (o->type == FP_SN_STRING)
			fp_cfg_report(e, g, "sum", "a string column has no sum");
	}
	if (o->type == FP_SN_STRING && o->scale != 1)
		fp_cfg_report(e, g, "scale", "a string has no scale");
	parse_row_scale(e, g, o);
}

static int parse_objects(struct fp_cfg_errors *e, const config_setting_t *l,
			 struct fp_sn_object **objs, size_t *n, size_t *cap)
{
	int i, len;

	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		fp_cfg_errors_add(e, l, NULL, "expected a list ( { oid = ...; ... }, ... )");
		return -1;
	}
	len = config_setting_length(l);
	if (*n + (size_t)len > OBJECTS_MAX) {
		fp_cfg_errors_add(e, l, NULL, "more than %d objects", OBJECTS_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		fp_xgrow((void **)objs, cap, *n + 1, sizeof(**objs));
		parse_object(e, config_setting_get_elem(l, (unsigned)i), &(*objs)[(*n)++]);
	}
	return 0;
}

int fp_sn_profile_load(const char *path, struct fp_cfg_errors *e, struct fp_sn_object **objs,
		       size_t *n, size_t *cap)
{
	static const char *const keys[] = { "description", "objects", NULL };
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
	l = config_setting_get_member(root, "objects");
	if (!l)
		fp_cfg_errors_add(e, root, "objects", "a profile needs an objects list");
	else
		parse_objects(e, l, objs, n, cap);
	config_destroy(&pc);
	return e->n > before ? -1 : 0;
}

static char *find_profile(const char *name, const char *dir, const char *conf_file)
{
	char *p;

	if (strchr(name, '/') || strstr(name, ".conf")) {
		if (name[0] != '/' && conf_file && strchr(conf_file, '/')) {
			const char *slash = strrchr(conf_file, '/');
			return fp_xasprintf("%.*s/%s", (int)(slash - conf_file), conf_file, name);
		}
		return fp_xstrdup(name);
	}
	p = fp_xasprintf("%s/%s.conf", dir, name);
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

static void parse_tags(struct fp_cfg_errors *e, const config_setting_t *g,
		       struct fp_sn_device_cfg *d)
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
		if (tag_reserved(key) || !strcmp(key, "phase")) {
			fp_cfg_errors_add(e, t, NULL, "'%s' is set by the agent", key);
			continue;
		}
		d->tags[d->ntags].key = fp_xstrdup(key);
		d->tags[d->ntags].val = fp_xstrdup(config_setting_get_string(t));
		d->ntags++;
	}
}

/* The hidden object reading oid for o's rows (added if new): 1 + its
 * index. */
static size_t helper_of(struct fp_sn_device_cfg *d, size_t *cap, size_t k,
			const struct fp_sn_oid *oid_in, const char *what)
{
	const struct fp_sn_oid oidc = *oid_in, *oid = &oidc; /* d->objs may move */
	struct fp_sn_object *h;
	size_t j;

	for (j = 0; j < d->nobjs; j++) {
		const struct fp_sn_object *o = &d->objs[k], *x = &d->objs[j];
		if (x->hidden && !fp_sn_oid_cmp(x->oid.a, x->oid.n, oid->a, oid->n) &&
		    !x->index == !o->index &&
		    !fp_sn_oid_cmp(x->suffix.a, x->suffix.n, o->suffix.a, o->suffix.n))
			return j + 1;
	}
	fp_xgrow((void **)&d->objs, cap, d->nobjs + 1, sizeof(*d->objs));
	h = &d->objs[d->nobjs];
	memset(h, 0, sizeof(*h));
	h->oid = *oid;
	h->type = FP_SN_NUMBER;
	h->scale = 1;
	h->field = fp_xstrdup(what);
	h->index = d->objs[k].index ? fp_xstrdup(d->objs[k].index) : NULL;
	h->suffix = d->objs[k].suffix;
	h->line = d->objs[k].line;
	h->hidden = true;
	return ++d->nobjs;
}

static void add_helpers(struct fp_sn_device_cfg *d, size_t *cap)
{
	size_t k, n = d->nobjs;

	for (k = 0; k < n; k++) {
		size_t h; /* helper_of may move d->objs */
		if (d->objs[k].digits_oid.n) {
			h = helper_of(d, cap, k, &d->objs[k].digits_oid, "(digits)");
			d->objs[k].digits_from = h;
		}
		if (d->objs[k].prefix_oid.n) {
			h = helper_of(d, cap, k, &d->objs[k].prefix_oid, "(si_prefix)");
			d->objs[k].prefix_from = h;
		}
	}
}

/* Something to read; no field twice on the same point; no OID twice. */
static void check_objects(struct fp_cfg_errors *e, const config_setting_t *g,
			  struct fp_sn_device_cfg *d)
{
	const char *key = d->profile ? "profile" : "objects";
	size_t i, j;

	if (d->nobjs == 0)
		fp_cfg_report(e, g, key, "no object to read");
	for (i = 0; i < d->nobjs; i++) {
		const struct fp_sn_object *a = &d->objs[i];
		d->counters |= a->type == FP_SN_COUNTER;
		for (j = i + 1; j < d->nobjs; j++) {
			const struct fp_sn_object *b = &d->objs[j];
			bool same_point = !a->index == !b->index &&
				(!a->index || !strcmp(a->index, b->index));
			if (!fp_sn_oid_cmp(a->oid.a, a->oid.n, b->oid.a, b->oid.n) &&
			    !fp_sn_oid_cmp(a->suffix.a, a->suffix.n, b->suffix.a, b->suffix.n))
				fp_cfg_report(e, g, key,
					      "the OID of line %d is read twice (line %d)", a->line,
					      b->line);
			else if (a->hidden || b->hidden)
				continue;
			else if (same_point && !strcmp(a->field, b->field))
				fp_cfg_report(e, g, key,
					      "field '%s' is read twice (lines %d and %d)",
					      a->field, a->line, b->line);
			else if ((a->index && fp_sn_oid_under(&a->oid, b->oid.a, b->oid.n)) ||
				 (b->index && fp_sn_oid_under(&b->oid, a->oid.a, a->oid.n)))
				fp_cfg_report(e, g, key,
					      "the OID of line %d is inside the column of line %d",
					      a->index ? b->line : a->line,
					      a->index ? a->line : b->line);
		}
	}
}

static void parse_security(struct fp_cfg_errors *e, const config_setting_t *g,
			   struct fp_sn_device_cfg *d)
{
	char *path = NULL;
	int v = 0;

	if (fp_cfg_get_enum(e, g, "version", version_names, &v) >= 0)
		d->version = v == 1 ? 3 : 2;
	if (d->version == 2) {
		if (fp_cfg_get_string(e, g, "community_file", &path) > 0) {
			d->community = fp_cfg_read_secret(e, g, "community_file", path);
			if (config_setting_get_member(g, "community"))
				fp_cfg_report(e, g, "community",
					      "give either community or community_file, not both");
		} else if (fp_cfg_get_string(e, g, "community", &d->community) == 0) {
			fp_cfg_report(e, g, "community_file",
				      "SNMP v2c needs a community_file (or community)");
		}
		free(path);
		return;
	}
	if (fp_cfg_get_string(e, g, "user", &d->user) == 0)
		fp_cfg_report(e, g, "user", "SNMP v3 needs a user (its securityName)");
	fp_cfg_get_string(e, g, "context", &d->context);
	v = FP_SN_AUTH_NONE;
	if (fp_cfg_get_enum(e, g, "auth_protocol", auth_names, &v) >= 0)
		d->auth = (enum fp_sn_auth)v;
	v = FP_SN_PRIV_NONE;
	if (fp_cfg_get_enum(e, g, "priv_protocol", priv_names, &v) >= 0)
		d->priv = (enum fp_sn_priv)v;
	if (d->priv && !d->auth)
		fp_cfg_report(e, g, "priv_protocol", "privacy needs an auth_protocol too");
	if (fp_cfg_get_string(e, g, "auth_password_file", &path) > 0)
		d->auth_pass = fp_cfg_read_secret(e, g, "auth_password_file", path);
	else if (d->auth)
		fp_cfg_report(e, g, "auth_password_file", "is required with an auth_protocol");
	free(path);
	path = NULL;
	if (fp_cfg_get_string(e, g, "priv_password_file", &path) > 0)
		d->priv_pass = fp_cfg_read_secret(e, g, "priv_password_file", path);
	else if (d->priv)
		fp_cfg_report(e, g, "priv_password_file", "is required with a priv_protocol");
	free(path);
	if ((d->auth_pass && strlen(d->auth_pass) < 8) ||
	    (d->priv_pass && strlen(d->priv_pass) < 8))
		fp_cfg_report(e, g,
			      d->auth_pass && strlen(d->auth_pass) < 8 ? "auth_password_file"
								       : "priv_password_file",
			      "an SNMP v3 passphrase has at least 8 characters");
}

static void load_objects(struct fp_sn_config *sc, const config_setting_t *g,
			 const struct fp_config *cfg, struct fp_cfg_errors *e,
			 struct fp_sn_device_cfg *d)
{
	const config_setting_t *objs = config_setting_get_member(g, "objects");
	size_t cap = 0;

	fp_cfg_get_string(e, g, "profile", &d->profile);
	if (d->profile && objs) {
		fp_cfg_report(e, g, "objects", "give either profile or objects, not both");
	} else if (!d->profile && !objs) {
		fp_cfg_report(e, g, "objects", "a device needs a profile or an objects list");
	} else if (d->profile) {
		char *path = find_profile(d->profile, sc->profiles_dir, cfg->file);
		if (!path)
			fp_cfg_report(e, g, "profile", "'%s' not found (as %s/%s.conf)", d->profile,
				      sc->profiles_dir, d->profile);
		else
			fp_sn_profile_load(path, e, &d->objs, &d->nobjs, &cap);
		free(path);
	} else {
		parse_objects(e, objs, &d->objs, &d->nobjs, &cap);
	}
	add_helpers(d, &cap);
}

static void parse_device(struct fp_sn_config *sc, const config_setting_t *g,
			 const struct fp_config *cfg, struct fp_cfg_errors *e)
{
	static const char *const keys[] = {
		"name",
		"url",
		"version",
		"community",
		"community_file",
		"user",
		"auth_protocol",
		"auth_password_file",
		"priv_protocol",
		"priv_password_file",
		"context",
		"profile",
		"objects",
		"role",
		"channel_role",
		"interval",
		"timeout",
		"retries",
		"max_repetitions",
		"max_varbinds",
		"max_rows",
		"tags",
		NULL,
	};
	struct fp_sn_device_cfg *d;
	size_t before = e->n, i;
	int64_t v;
	char msg[256];

	fp_xgrow((void **)&sc->devs, &sc->cap, sc->ndevs + 1, sizeof(*sc->devs));
	d = &sc->devs[sc->ndevs++];
	memset(d, 0, sizeof(*d));
	d->line = config_setting_source_line(g);
	d->interval_ms = cfg->interval_ms;
	d->timeout_ms = 1000;
	d->retries = 1;
	d->version = 2;
	d->max_reps = 25;
	d->max_varbinds = 32;
	d->max_rows = 1024;
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
	for (i = 0; d->name && i + 1 < sc->ndevs; i++)
		if (sc->devs[i].name && !strcmp(sc->devs[i].name, d->name))
			fp_cfg_report(e, g, "name",
				      "'%s' is already the name of the device at line %d", d->name,
				      sc->devs[i].line);
	if (fp_cfg_get_string(e, g, "url", &d->url) == 0)
		fp_cfg_report(e, g, "url", "is required (udp://HOST[:PORT] or tcp://HOST[:PORT])");
	else if (d->url && parse_url(d, msg, sizeof(msg)) < 0)
		fp_cfg_report(e, g, "url", "%s", msg);
	parse_security(e, g, d);
	fp_cfg_get_role(e, g, "role", cfg->role_name, &d->role);
	if (!d->role)
		d->role = fp_xstrdup("other");
	fp_cfg_get_role(e, g, "channel_role", cfg->role_name, &d->channel_role);
	fp_cfg_get_duration(e, g, "interval", 100, 86400000, &d->interval_ms);
	fp_cfg_get_duration(e, g, "timeout", 10, 60000, &d->timeout_ms);
	if (fp_cfg_get_int(e, g, "retries", 0, 10, &v) > 0)
		d->retries = (int)v;
	if (fp_cfg_get_int(e, g, "max_repetitions", 1, 1000, &v) > 0)
		d->max_reps = (int)v;
	if (fp_cfg_get_int(e, g, "max_varbinds", 1, 1000, &v) > 0)
		d->max_varbinds = (int)v;
	if (fp_cfg_get_int(e, g, "max_rows", 1, 100000, &v) > 0)
		d->max_rows = (int)v;
	parse_tags(e, g, d);
	load_objects(sc, g, cfg, e, d);
	if (e->n > before)
		return;
	check_objects(e, g, d);
}

void *fp_sn_config_parse(const config_setting_t *g, const struct fp_config *cfg,
			 struct fp_cfg_errors *e)
{
	static const char *const keys[] = { "devices", "profiles_dir", NULL };
	struct fp_sn_config *sc = fp_xcalloc(1, sizeof(*sc));
	const config_setting_t *l;
	size_t before = e->n;
	int i, n;

	sc->profiles_dir = fp_xstrdup(DATADIR "/footprint/profiles/snmp");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { devices = ( ... ); }");
		fp_sn_config_free(sc);
		return NULL;
	}
	fp_cfg_check_keys(e, g, keys);
	fp_cfg_get_path(e, g, "profiles_dir", cfg->file, &sc->profiles_dir);
	if (fp_cfg_get_list(e, g, "devices", true, &l) > 0) {
		n = config_setting_length(l);
		for (i = 0; i < n; i++)
			parse_device(sc, config_setting_get_elem(l, (unsigned)i), cfg, e);
	}
	if (e->n > before) {
		fp_sn_config_free(sc);
		return NULL;
	}
	return sc;
}

void fp_sn_plan_make(const struct fp_sn_device_cfg *d, struct fp_sn_plan *p)
{
	size_t i, mv = (size_t)d->max_varbinds;

	memset(p, 0, sizeof(*p));
	p->nscalars = d->counters ? 1 : 0; /* sysUpTime.0 */
	for (i = 0; i < d->nobjs; i++) {
		if (d->objs[i].index)
			p->ncolumns++;
		else
			p->nscalars++;
	}
	p->ngets = (p->nscalars + mv - 1) / mv;
	p->nwalks = (p->ncolumns + mv - 1) / mv;
}

void fp_sn_config_describe(const void *sc, FILE *f)
{
	const struct fp_sn_config *c = sc;
	size_t i, k;

	for (i = 0; i < c->ndevs; i++) {
		const struct fp_sn_device_cfg *d = &c->devs[i];
		struct fp_sn_plan p;
		char oid[256];

		fp_sn_plan_make(d, &p);
		fprintf(f,
			"snmp device %s (%s://%s:%d, v%s, %zu objects): %zu GET PDU(s) for %zu OIDs, "
			"%zu GETBULK walk(s) of %zu columns (max-repetitions %d, each walk one PDU "
			"per %d rows)\n",
			d->name, d->tcp ? "tcp" : "udp", d->host, d->port,
			d->version == 3 ? "3" : "2c", d->nobjs, p.ngets, p.nscalars, p.nwalks,
			p.ncolumns, d->max_reps, d->max_reps);
		if (d->counters)
			fprintf(f, "  GET 1.3.6.1.2.1.1.3.0 sysUpTime (counter discontinuities)\n");
		for (k = 0; k < d->nobjs; k++) {
			const struct fp_sn_object *o = &d->objs[k];
			fp_sn_oid_format(o->oid.a, o->oid.n, oid, sizeof(oid));
			fprintf(f, "  %s %s -> %s (%s, scale %g)", o->index ? "GETBULK" : "GET",
				oid, o->field, fp_sn_type_names[o->type], o->scale);
			if (o->index)
				fprintf(f, " per %s", o->index);
			if (o->suffix.n) {
				fp_sn_oid_format(o->suffix.a, o->suffix.n, oid, sizeof(oid));
				fprintf(f, " (rows ending .%s)", oid);
			}
			if (o->digits_from) {
				const struct fp_sn_oid *h = &d->objs[o->digits_from - 1].oid;
				fp_sn_oid_format(h->a, h->n, oid, sizeof(oid));
				fprintf(f, ", / 10^%s", oid);
			}
			if (o->prefix_from) {
				const struct fp_sn_oid *h = &d->objs[o->prefix_from - 1].oid;
				fp_sn_oid_format(h->a, h->n, oid, sizeof(oid));
				fprintf(f, ", x SI prefix %s", oid);
			}
			if (o->sum)
				fprintf(f, ", sum -> %s", o->sum);
			fputc('\n', f);
		}
	}
}
