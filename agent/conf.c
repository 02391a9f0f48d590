/* conf.c - the configuration: libconfig file -> struct fp_config. */
#include "config.h"

#include "conf.h"
#include "indicators.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "log.h"
#include "output.h"
#include "roles.h"

void fp_cfg_errors_add(struct fp_cfg_errors *e, const config_setting_t *s, const char *key,
		       const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	unsigned line = s ? config_setting_source_line(s) : 0;
	char *path = NULL, *msg, *full, *incpath = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	if (s && !key)
		key = path = fp_cfg_path(s);
	/* libconfig names an included file as written in @include, relative
	 * to the include folder: report the path a user can open. */
	if (file && file[0] != '/' && s->config && config_get_include_dir(s->config) &&
	    strcmp(file, s->config->root && config_setting_source_file(s->config->root)
			     ? config_setting_source_file(s->config->root) : "") != 0)
		file = incpath = fp_xasprintf("%s/%s", config_get_include_dir(s->config), file);
	if (!s && !key)
		full = fp_xstrdup(msg);
	else
		full = fp_xasprintf("%s:%u: %s%s%s", file ? file : "(config)", line, key ? key : "",
			    key && *key ? ": " : "", msg);
	free(msg);
	free(path);
	free(incpath);
	fp_xgrow((void **)&e->msgs, &e->cap, e->n + 1, sizeof(*e->msgs));
	e->msgs[e->n++] = full;
}

/* "FILE:LINE: ..." -> line, for sorting. */
static long msg_line(const char *m, size_t *flen)
{
	const char *c = strchr(m, ':');

	*flen = c ? (size_t)(c - m) : strlen(m);
	return c ? strtol(c + 1, NULL, 10) : 0;
}

static int msg_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t fx, fy;
	long lx = msg_line(x, &fx), ly = msg_line(y, &fy);
	int c = strncmp(x, y, fx < fy ? fx : fy);

	if (fx != fy || c)
		return c ? c : (fx < fy ? -1 : 1);
	return lx < ly ? -1 : lx > ly;
}

void fp_cfg_errors_sort(struct fp_cfg_errors *e)
{
	/* Insertion sort: stable, and lists are short. */
	size_t i, j;

	for (i = 1; i < e->n; i++) {
		char *m = e->msgs[i];
		for (j = i; j > 0 && msg_cmp(&e->msgs[j - 1], &m) > 0; j--)
			e->msgs[j] = e->msgs[j - 1];
		e->msgs[j] = m;
	}
}

void fp_cfg_errors_reset(struct fp_cfg_errors *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n; i++)
		free(e->msgs[i]);
	free(e->msgs);
	memset(e, 0, sizeof(*e));
}

char *fp_cfg_path(const config_setting_t *s)
{
	const config_setting_t *chain[32];
	struct fp_buf b;
	size_t n = 0;

	while (s && n < FP_ARRAY_SIZE(chain)) {
		if (config_setting_parent(s) == NULL)
			break; /* the root */
		chain[n++] = s;
		s = config_setting_parent(s);
	}
	fp_buf_init(&b, 4096);
	while (n--) {
		const config_setting_t *c = chain[n];
		const char *name = config_setting_name(c);
		if (name) {
			if (b.len)
				fp_buf_addc(&b, '.');
			fp_buf_adds(&b, name);
		} else {
			fp_buf_printf(&b, "[%d]", config_setting_index(c));
		}
	}
	return fp_buf_steal(&b, NULL);
}

/* Line of a key that may be absent: the key's own line, else its group's. */
static const config_setting_t *where(const config_setting_t *g, const char *key)
{
	const config_setting_t *s = g ? config_setting_get_member(g, key) : NULL;
	return s ? s : g;
}

static char *key_path(const config_setting_t *g, const char *key)
{
	char *p = fp_cfg_path(g), *r;

	r = *p ? fp_xasprintf("%s.%s", p, key) : fp_xstrdup(key);
	free(p);
	return r;
}

#define report fp_cfg_report
void fp_cfg_report(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		   const char *fmt, ...)
{
	char *kp = key_path(g, key), msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fp_cfg_errors_add(e, where(g, key), kp, "%s", msg);
	free(kp);
}

#define type_name fp_cfg_type_name
const char *fp_cfg_type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: return "an integer";
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	}
	return "something else";
}

int fp_cfg_check_keys(struct fp_cfg_errors *e, const config_setting_t *group,
		      const char *const *known)
{
	int i, n = config_setting_length(group), bad = 0;

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		const char *best = NULL;
		size_t k, bestd = 3;

		if (!name)
			continue;
		for (k = 0; known[k]; k++) {
			size_t d;
			if (strcmp(name, known[k]) == 0)
				break;
			d = fp_edit_distance(name, known[k], 3);
			if (d < bestd) {
				bestd = d;
				best = known[k];
			}
		}
		if (known[k])
			continue;
		bad++;
		if (best)
			fp_cfg_errors_add(e, s, NULL, "unknown key (did you mean '%s'?)", best);
		else
			fp_cfg_errors_add(e, s, NULL, "unknown key");
	}
	return bad;
}

int fp_cfg_get_string(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		      char **out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report(e, g, key, "expected a string, got %s", type_name(config_setting_type(s)));
		return -1;
	}
	free(*out);
	*out = fp_xstrdup(config_setting_get_string(s));
	return 1;
}

int fp_cfg_get_int(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		   int64_t min, int64_t max, int64_t *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
		report(e, g, key, "expected an integer, got %s", type_name(config_setting_type(s)));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		report(e, g, key, "%lld is out of range [%lld, %lld]", v, (long long)min,
		       (long long)max);
		return -1;
	}
	*out = v;
	return 1;
}

int fp_cfg_get_float(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		     double min, double max, double *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	double v;

	if (!s)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	default:
		report(e, g, key, "expected a number, got %s", type_name(config_setting_type(s)));
		return -1;
	}
	if (!(v >= min && v <= max)) {
		report(e, g, key, "%g is out of range [%g, %g]", v, min, max);
		return -1;
	}
	*out = v;
	return 1;
}

int fp_cfg_get_bool(struct fp_cfg_errors *e, const config_setting_t *g, const char *key, bool *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		report(e, g, key, "expected true or false, got %s", type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

int fp_cfg_get_duration(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
			int64_t min_ms, int64_t max_ms, int64_t *out_ms)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	int64_t v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report(e, g, key, "expected a duration string such as \"10s\" or \"500ms\", got %s",
		       type_name(config_setting_type(s)));
		return -1;
	}
	if (fp_parse_duration_ms(config_setting_get_string(s), &v) < 0) {
		report(e, g, key, "'%s' is not a duration (use ms, s, m, h or d, e.g. \"10s\")",
		       config_setting_get_string(s));
		return -1;
	}
	if (v < min_ms || v > max_ms) {
		report(e, g, key, "'%s' is out of range [%lldms, %lldms]",
		       config_setting_get_string(s), (long long)min_ms, (long long)max_ms);
		return -1;
	}
	*out_ms = v;
	return 1;
}

int fp_cfg_get_size(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	uint64_t v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report(e, g, key, "expected a size string such as \"512MB\" or \"64KiB\", got %s",
		       type_name(config_setting_type(s)));
		return -1;
	}
	if (fp_parse_size(config_setting_get_string(s), &v) < 0) {
		report(e, g, key, "'%s' is not a size (use B, kB, KB, MB, GB, TB, KiB, MiB, GiB or TiB)",
		       config_setting_get_string(s));
		return -1;
	}
	if (v < min || v > max) {
		report(e, g, key, "'%s' is out of range [%llu, %llu] bytes",
		       config_setting_get_string(s), (unsigned long long)min,
		       (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 1;
}

int fp_cfg_get_enum(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    const char *const *names, int *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;
	struct fp_buf list;
	int i;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report(e, g, key, "expected a string, got %s", type_name(config_setting_type(s)));
		return -1;
	}
	v = config_setting_get_string(s);
	for (i = 0; names[i]; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 1;
		}
	}
	fp_buf_init(&list, 4096);
	for (i = 0; names[i]; i++)
		fp_buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	report(e, g, key, "'%s' is not one of: %s", v, list.data);
	fp_buf_reset(&list);
	return -1;
}

int fp_cfg_get_role(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    const struct fp_config *c, char **out)
{
	struct fp_buf list;
	const char *r;
	size_t i;
	int rc = fp_cfg_get_string(e, g, key, out);

	if (rc <= 0 || !c->role_name)
		return rc;
	for (i = 0; (r = c->role_name(i)) != NULL; i++)
		if (strcmp(r, *out) == 0)
			return rc;
	fp_buf_init(&list, 4096);
	for (i = 0; (r = c->role_name(i)) != NULL; i++)
		fp_buf_printf(&list, "%s%s", i ? ", " : "", r);
	report(e, g, key, "'%s' is not an indicator role (one of: %s)", *out, list.data);
	fp_buf_reset(&list);
	return -1;
}

/* ---- the agent's own groups ---- */

static char *default_hostname(void)
{
	char h[256];

	if (gethostname(h, sizeof(h)) != 0 || !h[0])
		return fp_xstrdup("localhost");
	h[sizeof(h) - 1] = '\0';
	return fp_xstrdup(h);
}

/* Takes oc. */
static void add_output(struct fp_config *c, const struct fp_output_ops *ops, const char *name,
		       void *oc)
{
	struct fp_output_cfg *o;

	fp_xgrow((void **)&c->outputs, &c->outputs_cap, c->noutputs + 1, sizeof(*c->outputs));
	o = &c->outputs[c->noutputs++];
	o->ops = ops;
	o->name = fp_xstrdup(name);
	o->oc = oc;
}

static void free_outputs(struct fp_config *c)
{
	size_t i;

	for (i = 0; i < c->noutputs; i++) {
		c->outputs[i].ops->free_config(c->outputs[i].oc);
		free(c->outputs[i].name);
	}
	free(c->outputs);
	c->outputs = NULL;
	c->noutputs = c->outputs_cap = 0;
}

void fp_config_defaults(struct fp_config *c)
{
	const char *sd = getenv("STATE_DIRECTORY"); /* set by systemd's StateDirectory= */

	memset(c, 0, sizeof(*c));
	c->hostname = default_hostname();
	c->site = fp_xstrdup(c->hostname);
	c->interval_ms = 10000;
	c->round_interval = true;
	c->state_dir = fp_xstrdup(sd && *sd && !strchr(sd, ':') ? sd : LOCALSTATEDIR "/lib/footprint");
	c->timezone = fp_xstrdup("UTC");
	c->log_level = LOG_INFO;
	c->queue_max = 100000;
	c->self_metrics = true;
	c->shutdown_timeout_ms = 10000;
	add_output(c, fp_outputs[0], fp_outputs[0]->type, fp_outputs[0]->default_config());
	c->indicators = fp_indicators_parse(NULL, NULL);
	c->role_name = fp_role_name;
}

void fp_config_free(struct fp_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->ncollectors; i++)
		c->collectors[i].ops->free_config(c->collectors[i].cc);
	free(c->collectors);
	fp_indicators_cfg_free(c->indicators);
	fp_inventory_cfg_free(c->inventory);
	free(c->file);
	free(c->site);
	free(c->hostname);
	free(c->state_dir);
	free(c->timezone);
	free_outputs(c);
	if (c->lc_valid)
		config_destroy(&c->lc);
	memset(c, 0, sizeof(*c));
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static void load_agent(struct fp_config *c, const config_setting_t *g, struct fp_cfg_errors *e)
{
	static const char *const keys[] = {
		"site", "hostname", "interval", "round_interval", "state_dir", "timezone",
		"log_level", "queue_max", "self_metrics", "shutdown_timeout", NULL,
	};
	static const char *const levels[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug", NULL,
	};
	int64_t qm;
	int lvl;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { ... }, got %s",
				  type_name(config_setting_type(g)));
		return;
	}
	fp_cfg_check_keys(e, g, keys);
	if (fp_cfg_get_string(e, g, "site", &c->site) > 0 && !c->site[0])
		report(e, g, "site", "must not be empty");
	if (fp_cfg_get_string(e, g, "hostname", &c->hostname) > 0 && !c->hostname[0])
		report(e, g, "hostname", "must not be empty");
	fp_cfg_get_duration(e, g, "interval", 100, 86400000, &c->interval_ms);
	fp_cfg_get_bool(e, g, "round_interval", &c->round_interval);
	if (fp_cfg_get_string(e, g, "state_dir", &c->state_dir) > 0 && !c->state_dir[0])
		report(e, g, "state_dir", "must not be empty");
	if (fp_cfg_get_string(e, g, "timezone", &c->timezone) > 0) {
		char *zf = fp_xasprintf("/usr/share/zoneinfo/%s", c->timezone);
		if (strcmp(c->timezone, "UTC") != 0 &&
		    (strstr(c->timezone, "..") || c->timezone[0] == '/' || access(zf, R_OK) != 0))
			report(e, g, "timezone", "'%s' is not a known time zone (see /usr/share/zoneinfo)",
			       c->timezone);
		free(zf);
	}
	if (fp_cfg_get_enum(e, g, "log_level", levels, &lvl) > 0)
		c->log_level = lvl;
	if (fp_cfg_get_int(e, g, "queue_max", 100, 100000000, &qm) > 0)
		c->queue_max = (uint64_t)qm;
	fp_cfg_get_bool(e, g, "self_metrics", &c->self_metrics);
	fp_cfg_get_duration(e, g, "shutdown_timeout", 0, 600000, &c->shutdown_timeout_ms);
}

/* Reads a secret from a file (a systemd credential, say): the first line,
 * without its line end.  Never logged. */
char *fp_cfg_read_secret(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
			 const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f) {
		report(e, g, key, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		report(e, g, key, "'%s' is empty", path);
		return NULL;
	}
	{
		char *r = fp_xstrdup(buf);
		explicit_bzero(buf, sizeof(buf));
		return r;
	}
}

void fp_cfg_check_readable(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
			   const char *path)
{
	if (path && access(path, R_OK) != 0)
		report(e, g, key, "cannot read '%s': %s", path, strerror(errno));
}

/* One list outputs.<type>: for each element, what every output has (a
 * group, known keys, a valid name unique among all outputs), then the
 * type's own settings. */
static void load_output_list(struct fp_config *c, const struct fp_output_ops *ops,
			     const config_setting_t *l, struct fp_cfg_errors *e)
{
	int i, n;

	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		fp_cfg_errors_add(e, l, NULL, "expected a list ( { ... }, ... ), got %s",
				  type_name(config_setting_type(l)));
		return;
	}
	n = config_setting_length(l);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
		char *name = NULL;
		size_t k;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			fp_cfg_errors_add(e, g, NULL, "expected a group { ... }, got %s",
					  type_name(config_setting_type(g)));
			continue;
		}
		fp_cfg_check_keys(e, g, ops->keys);
		fp_cfg_get_string(e, g, "name", &name);
		if (!name)
			name = fp_xasprintf("%s%d", ops->type, i);
		else if (!valid_name(name))
			report(e, g, "name", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .", name);
		for (k = 0; k < c->noutputs; k++)
			if (strcmp(c->outputs[k].name, name) == 0)
				report(e, g, "name", "'%s' is used by another output", name);
		add_output(c, ops, name, ops->parse(g, c, e));
		free(name);
	}
}

static void load_outputs(struct fp_config *c, const config_setting_t *g, struct fp_cfg_errors *e)
{
	const char *keys[16];
	const config_setting_t *s;
	size_t i;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { ... }, got %s",
				  type_name(config_setting_type(g)));
		return;
	}
	for (i = 0; fp_outputs[i] && i + 1 < FP_ARRAY_SIZE(keys); i++)
		keys[i] = fp_outputs[i]->type;
	keys[i] = NULL;
	fp_cfg_check_keys(e, g, keys);
	free_outputs(c);
	for (i = 0; fp_outputs[i]; i++) {
		s = config_setting_get_member(g, fp_outputs[i]->type);
		if (s)
			load_output_list(c, fp_outputs[i], s, e);
	}
}

static void load_collectors(struct fp_config *c, const config_setting_t *root,
			    struct fp_cfg_errors *e)
{
	const config_setting_t *s;
	size_t i;
	void *cc;

	for (i = 0; fp_collectors[i]; i++) {
		s = config_setting_get_member(root, fp_collectors[i]->group);
		if (!s || !(cc = fp_collectors[i]->parse(s, c, e)))
			continue;
		fp_xgrow((void **)&c->collectors, &c->collectors_cap, c->ncollectors + 1,
			 sizeof(*c->collectors));
		c->collectors[c->ncollectors].ops = fp_collectors[i];
		c->collectors[c->ncollectors++].cc = cc;
	}
}

int fp_config_load(struct fp_config *c, const char *path, struct fp_cfg_errors *e)
{
	const char *top[16];
	const config_setting_t *root, *s;
	size_t before = e->n, nt = 0, i;

	top[nt++] = "agent";
	top[nt++] = "outputs";
	top[nt++] = "indicators";
	top[nt++] = "inventory";
	for (i = 0; fp_collectors[i] && nt + 1 < FP_ARRAY_SIZE(top); i++)
		top[nt++] = fp_collectors[i]->group;
	top[nt] = NULL;
	free(c->file);
	c->file = fp_xstrdup(path);
	config_init(&c->lc);
	c->lc_valid = true;
	config_set_options(&c->lc, CONFIG_OPTION_AUTOCONVERT);
	{
		/* @include paths are relative to the including file's folder. */
		char *dir = fp_xstrdup(path), *slash = strrchr(dir, '/');
		if (slash) {
			slash[slash == dir ? 1 : 0] = '\0';
			config_set_include_dir(&c->lc, dir);
		}
		free(dir);
	}
	if (access(path, R_OK) != 0) {
		char *m = fp_xasprintf("%s:0: cannot read the file: %s", path, strerror(errno));
		fp_xgrow((void **)&e->msgs, &e->cap, e->n + 1, sizeof(*e->msgs));
		e->msgs[e->n++] = m;
		return -EINVAL;
	}
	if (config_read_file(&c->lc, path) != CONFIG_TRUE) {
		const char *f = config_error_file(&c->lc);
		char *m = fp_xasprintf("%s:%d: %s", f ? f : path,
				       config_error_line(&c->lc), config_error_text(&c->lc));
		fp_xgrow((void **)&e->msgs, &e->cap, e->n + 1, sizeof(*e->msgs));
		e->msgs[e->n++] = m;
		return -EINVAL;
	}
	root = config_root_setting(&c->lc);
	fp_cfg_check_keys(e, root, top);
	s = config_setting_get_member(root, "agent");
	if (s)
		load_agent(c, s, e);
	s = config_setting_get_member(root, "outputs");
	if (s)
		load_outputs(c, s, e);
	load_collectors(c, root, e);
	s = config_setting_get_member(root, "indicators");
	if (s) {
		fp_indicators_cfg_free(c->indicators);
		c->indicators = fp_indicators_parse(s, e);
	}
	fp_inventory_cfg_free(c->inventory);
	c->inventory = fp_inventory_parse(config_setting_get_member(root, "inventory"), e);
	fp_cfg_errors_sort(e);
	return e->n > before ? -EINVAL : 0;
}

int fp_config_check_system(const struct fp_config *c, struct fp_cfg_errors *e)
{
	struct stat st;
	size_t before = e->n;
	const config_setting_t *agent = c->lc_valid
		? config_setting_get_member(config_root_setting(&c->lc), "agent") : NULL;
	const config_setting_t *at = agent ? where(agent, "state_dir") : NULL;
	const char *file = c->file ? c->file : "(defaults)";

	if (stat(c->state_dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode) || access(c->state_dir, W_OK | X_OK) != 0) {
			if (at)
				fp_cfg_errors_add(e, at, "agent.state_dir",
						  "'%s' is not a writable directory", c->state_dir);
			else
				fp_cfg_errors_add(e, NULL, NULL, "%s: agent.state_dir: '%s' is not a writable directory",
						  file, c->state_dir);
		}
	} else {
		char *parent = fp_xstrdup(c->state_dir), *slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		else if (slash)
			slash[1] = '\0';
		else {
			free(parent);
			parent = fp_xstrdup(".");
		}
		if (access(parent, W_OK | X_OK) != 0) {
			if (at)
				fp_cfg_errors_add(e, at, "agent.state_dir",
						  "'%s' does not exist and cannot be created",
						  c->state_dir);
			else
				fp_cfg_errors_add(e, NULL, NULL,
						  "%s: agent.state_dir: '%s' does not exist and cannot be created",
						  file, c->state_dir);
		}
		free(parent);
	}
	return e->n > before ? -EINVAL : 0;
}
