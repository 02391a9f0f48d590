/* cfg.c - the config helpers: typed getters, errors as FILE:LINE. */
#include "config.h"

#include "cfg.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

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
	    strcmp(file,
		   s->config->root && config_setting_source_file(s->config->root)
			   ? config_setting_source_file(s->config->root)
			   : "") != 0)
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
			/* a list element with a valid name is named by it:
			 * modbus.devices[pdu-a].url, not modbus.devices[0].url */
			const config_setting_t *nm = config_setting_is_group(c)
				? config_setting_get_member(c, "name")
				: NULL;
			const char *v = nm && config_setting_type(nm) == CONFIG_TYPE_STRING
				? config_setting_get_string(nm)
				: NULL;
			if (v && fp_name_valid(v))
				fp_buf_printf(&b, "[%s]", v);
			else
				fp_buf_printf(&b, "[%d]", config_setting_index(c));
		}
	}
	return fp_buf_steal(&b, NULL);
}

const config_setting_t *fp_cfg_where(const config_setting_t *g, const char *key)
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
	fp_cfg_errors_add(e, fp_cfg_where(g, key), kp, "%s", msg);
	free(kp);
}

#define type_name fp_cfg_type_name
const char *fp_cfg_type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
		return "an integer";
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "something else";
}

/* s in lower case into buf (n bytes, truncated). */
static const char *lower(const char *s, char *buf, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
	buf[i] = '\0';
	return buf;
}

const char *fp_cfg_nearest(const char *word, const char *const *known)
{
	const char *best = NULL;
	char w[128], k2[128];
	size_t k, bestd = 3, wl = strlen(word);

	for (k = 0; known[k]; k++) {
		size_t d;
		if (strcmp(word, known[k]) == 0)
			return NULL;
		/* case does not count; a prefix ("warn") is one edit away */
		lower(word, w, sizeof(w));
		lower(known[k], k2, sizeof(k2));
		d = fp_edit_distance(w, k2, 3);
		if (d > 1 && wl >= 3 && !strncmp(w, k2, wl))
			d = 1;
		if (d < bestd) {
			bestd = d;
			best = known[k];
		}
	}
	return best;
}

int fp_cfg_check_keys(struct fp_cfg_errors *e, const config_setting_t *group,
		      const char *const *known)
{
	int i, n = config_setting_length(group), bad = 0;

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		const char *best;
		size_t k;

		if (!name)
			continue;
		for (k = 0; known[k] && strcmp(name, known[k]) != 0; k++)
			;
		if (known[k])
			continue;
		best = fp_cfg_nearest(name, known);
		bad++;
		if (best)
			fp_cfg_errors_add(e, s, NULL, "unknown key (did you mean '%s'?)", best);
		else
			fp_cfg_errors_add(e, s, NULL, "unknown key");
	}
	return bad;
}

/* The string value of key in g: NULL with *rc 0 when absent, NULL with
 * *rc -1 when present but not a string (reported as "expected WHAT"). */
static const char *string_of(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
			     const char *what, int *rc)
{
	const config_setting_t *s = config_setting_get_member(g, key);

	*rc = s ? 1 : 0;
	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		report(e, g, key, "expected %s, got %s", what, type_name(config_setting_type(s)));
		*rc = -1;
		return NULL;
	}
	return config_setting_get_string(s);
}

int fp_cfg_get_string(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		      char **out)
{
	int rc;
	const char *v = string_of(e, g, key, "a string", &rc);

	if (!v)
		return rc;
	free(*out);
	*out = fp_xstrdup(v);
	return 1;
}

int fp_cfg_get_path(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    const char *file, char **out)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	int rc = fp_cfg_get_string(e, g, key, out);
	char *abs;

	if (rc <= 0 || (*out)[0] == '/' || !slash)
		return rc;
	abs = fp_xasprintf("%.*s/%s", (int)(slash - file), file, *out);
	free(*out);
	*out = abs;
	return rc;
}

int fp_cfg_get_list(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    bool required, const config_setting_t **l)
{
	*l = config_setting_get_member(g, key);
	if (!*l) {
		if (required)
			fp_cfg_report(e, g, key, "is required (a list ( { ... }, ... ))");
		return 0;
	}
	if (config_setting_type(*l) != CONFIG_TYPE_LIST) {
		fp_cfg_errors_add(e, *l, NULL, "expected a list ( { ... }, ... ), got %s",
				  fp_cfg_type_name(config_setting_type(*l)));
		return -1;
	}
	return 1;
}

int fp_cfg_get_int(struct fp_cfg_errors *e, const config_setting_t *g, const char *key, int64_t min,
		   int64_t max, int64_t *out)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
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
		report(e, g, key, "expected true or false, got %s",
		       type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s) != 0;
	return 1;
}

/* ms as the largest unit that divides it: "1h", "36600d", "250ms". */
static void fmt_ms(char *b, size_t n, int64_t ms)
{
	static const struct {
		const char *u;
		int64_t ms;
	} units[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 } };
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ms && ms % units[i].ms == 0) {
			snprintf(b, n, "%lld%s", (long long)(ms / units[i].ms), units[i].u);
			return;
		}
	snprintf(b, n, "%lldms", (long long)ms);
}

int fp_cfg_get_duration(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
			int64_t min_ms, int64_t max_ms, int64_t *out_ms)
{
	int rc;
	const char *str = string_of(e, g, key, "a duration string such as \"10s\" or \"500ms\"",
				    &rc);
	int64_t v;

	if (!str)
		return rc;
	if (fp_parse_duration_ms(str, &v) < 0) {
		report(e, g, key, "'%s' is not a duration (use ms, s, m, h or d, e.g. \"10s\")",
		       str);
		return -1;
	}
	if (v < min_ms || v > max_ms) {
		char lo[32], hi[32];
		fmt_ms(lo, sizeof(lo), min_ms);
		fmt_ms(hi, sizeof(hi), max_ms);
		report(e, g, key, "'%s' is out of range (%s to %s)", str, lo, hi);
		return -1;
	}
	*out_ms = v;
	return 1;
}

int fp_cfg_get_size(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	int rc;
	const char *str = string_of(e, g, key, "a size string such as \"512MB\" or \"64KiB\"", &rc);
	uint64_t v;

	if (!str)
		return rc;
	if (fp_parse_size(str, &v) < 0) {
		report(e, g, key,
		       "'%s' is not a size (use B, kB, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", str);
		return -1;
	}
	if (v < min || v > max) {
		report(e, g, key, "'%s' is out of range [%llu, %llu] bytes", str,
		       (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 1;
}

int fp_cfg_get_enum(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    const char *const *names, int *out)
{
	int i, rc;
	const char *v = string_of(e, g, key, "a string", &rc), *best;
	struct fp_buf list;

	if (!v)
		return rc;
	for (i = 0; names[i]; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 1;
		}
	}
	fp_buf_init(&list, 4096);
	for (i = 0; names[i]; i++)
		fp_buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	if ((best = fp_cfg_nearest(v, names)) != NULL)
		report(e, g, key, "'%s' is not one of: %s (did you mean '%s'?)", v, list.data,
		       best);
	else
		report(e, g, key, "'%s' is not one of: %s", v, list.data);
	fp_buf_reset(&list);
	return -1;
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

int fp_cfg_get_role(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    const char *(*role_name)(size_t i), char **out)
{
	struct fp_buf list;
	const char *r, *names[64];
	size_t i;
	int rc = fp_cfg_get_string(e, g, key, out);

	if (rc <= 0 || !role_name)
		return rc;
	for (i = 0; (r = role_name(i)) != NULL; i++)
		if (strcmp(r, *out) == 0)
			return rc;
	fp_buf_init(&list, 4096);
	for (i = 0; (r = role_name(i)) != NULL && i < FP_ARRAY_SIZE(names) - 1; i++) {
		fp_buf_printf(&list, "%s%s", i ? ", " : "", r);
		names[i] = r;
	}
	names[i] = NULL;
	if ((r = fp_cfg_nearest(*out, names)) != NULL)
		report(e, g, key, "'%s' is not an indicator role (one of: %s) (did you mean '%s'?)",
		       *out, list.data, r);
	else
		report(e, g, key, "'%s' is not an indicator role (one of: %s)", *out, list.data);
	fp_buf_reset(&list);
	return -1;
}
