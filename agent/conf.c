/* conf.c - the configuration loader: libconfig file -> struct fp_config. */
#include "config.h"

#include "conf.h"
#include "indicators.h"
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "log.h"
#include "output.h"
#include "roles.h"

#define report fp_cfg_report
#define type_name fp_cfg_type_name
#define where fp_cfg_where

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
	c->state_dir = fp_xstrdup(sd && *sd && !strchr(sd, ':') ? sd
								: LOCALSTATEDIR "/lib/footprint");
	c->timezone = fp_xstrdup("UTC");
	c->log_level = LOG_INFO;
	c->queue_max = 100000;
	c->self_metrics = true;
	c->shutdown_timeout_ms = 10000;
	c->time_window.min_s = FP_TIME_MIN_DEFAULT;
	c->time_window.ahead_s = FP_TIME_AHEAD_DEFAULT;
	c->log_burst = 5;
	c->log_interval_ms = 60000;
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
	fp_report_cfg_free(c->report_cfg);
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

/* agent.timestamp_min ("YYYY-MM-DD" or RFC 3339, UTC) and
 * agent.timestamp_ahead (a duration): the window of accepted timestamps. */
static void load_time_window(struct fp_config *c, const config_setting_t *g,
			     struct fp_cfg_errors *e)
{
	char *s = NULL;
	int64_t ms = c->time_window.ahead_s * 1000;

	if (fp_cfg_get_string(e, g, "timestamp_min", &s) > 0) {
		char *full = strlen(s) == 10 ? fp_xasprintf("%sT00:00:00Z", s) : fp_xstrdup(s);
		int64_t sec = 0;
		int32_t ns;
		if (fp_time_parse_rfc3339(full, &sec, &ns) < 0 || sec <= 0 || sec >= FP_TIME_MAX)
			report(e, g, "timestamp_min",
			       "'%s' must be a date YYYY-MM-DD (UTC) or an RFC 3339 time "
			       "after 1970-01-01",
			       s);
		else
			c->time_window.min_s = sec;
		free(full);
	}
	free(s);
	if (fp_cfg_get_duration(e, g, "timestamp_ahead", 60000, 36500LL * 86400000LL, &ms) > 0)
		c->time_window.ahead_s = ms / 1000;
}

static void load_agent(struct fp_config *c, const config_setting_t *g, struct fp_cfg_errors *e)
{
	static const char *const keys[] = {
		"site",
		"hostname",
		"interval",
		"round_interval",
		"state_dir",
		"timezone",
		"log_level",
		"queue_max",
		"self_metrics",
		"shutdown_timeout",
		"timestamp_min",
		"timestamp_ahead",
		"log_ratelimit_burst",
		"log_ratelimit_interval",
		NULL,
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
			report(e, g, "timezone",
			       "'%s' is not a known time zone (see /usr/share/zoneinfo)",
			       c->timezone);
		free(zf);
	}
	if (fp_cfg_get_enum(e, g, "log_level", levels, &lvl) > 0)
		c->log_level = lvl;
	if (fp_cfg_get_int(e, g, "queue_max", 100, 100000000, &qm) > 0)
		c->queue_max = (uint64_t)qm;
	fp_cfg_get_bool(e, g, "self_metrics", &c->self_metrics);
	fp_cfg_get_duration(e, g, "shutdown_timeout", 0, 600000, &c->shutdown_timeout_ms);
	load_time_window(c, g, e);
	if (fp_cfg_get_int(e, g, "log_ratelimit_burst", 1, 100000, &qm) > 0)
		c->log_burst = (unsigned)qm;
	fp_cfg_get_duration(e, g, "log_ratelimit_interval", 1000, 86400000, &c->log_interval_ms);
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
		else if (!fp_name_valid(name))
			report(e, g, "name", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .",
			       name);
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

/* ---- syntax errors ---- */

/* Line n (from 1) of file, without its line end, trimmed and cut to 60
 * characters; NULL when there is none.  Caller frees. */
static char *line_of(const char *file, int n)
{
	FILE *f = fopen(file, "r");
	char buf[4096], *r = NULL;
	int i = 0;

	if (!f)
		return NULL;
	while (fgets(buf, sizeof(buf), f))
		if (++i == n) {
			char *b = buf, *end;
			b += strspn(b, " \t");
			end = b + strcspn(b, "\r\n");
			while (end > b && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			if (end - b > 60)
				memcpy(b + 57, "...", 4), end = b + 60;
			*end = '\0';
			r = fp_xstrdup(b);
			break;
		}
	fclose(f);
	return r;
}

static bool is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

/* The hint for what follows an '=' or ':' (v, blanks skipped), or NULL. */
static const char *value_hint(const char *v)
{
	size_t d = strspn(v, "0123456789.");

	if (*v == ';' || *v == ',' || *v == '}' || *v == ')')
		return "a value is missing after '=' or ':'";
	if (is_alpha(*v) && strncmp(v, "true", 4) && strncmp(v, "false", 5) &&
	    strncasecmp(v, "0x", 2))
		return "a string needs double quotes: name = \"value\";";
	if (d && is_alpha(v[d]))
		return "a duration or size is a string: interval = \"10s\";";
	return NULL;
}

/* A hint for the usual mistakes on line l, the line libconfig stopped at
 * (NULL when it is past the end: something left open); prev is the line
 * above (or NULL). */
static const char *syntax_hint(const char *l, const char *prev)
{
	const char *p, *h, *last = NULL; /* the last non-blank before p */
	bool in_str = false;

	if (!l)
		return "the file ends inside a group, a list or a string: a '}', ')' or "
		       "'\"' is missing above";
	for (p = l; *p; p++) {
		if (*p == '\\' && in_str && p[1]) {
			p++;
			continue;
		}
		if (*p == '"') {
			const char *q = in_str ? NULL : strchr(p + 1, '"');
			if (!in_str && !q)
				return "a string is not closed: a '\"' is missing";
			if (!in_str && (!last || strchr("{;,(", *last)) &&
			    (q[1 + strspn(q + 1, " \t")] == ':' ||
			     q[1 + strspn(q + 1, " \t")] == '='))
				return "setting names are not quoted: site = \"x\"; (not \"site\": "
				       "\"x\")";
			in_str = !in_str;
		} else if (!in_str && (*p == '=' || *p == ':')) {
			if (p[1] == '=')
				return "a setting is name = value; or name: value; (one '=')";
			if ((h = value_hint(p + 1 + strspn(p + 1, " \t"))) != NULL)
				return h;
		} else if (!in_str && *p == '{' && last && *last == '}') {
			return "the elements of a list are separated by commas: ( { ... }, { ... } )";
		} else if (!in_str && *p == '{' && last && (is_alpha(*last) || *last == '"')) {
			return "a group is name: { ... }; (a ':' or '=' is missing before '{')";
		} else if (!in_str && (*p == ')' || *p == ']') && last && *last == ',') {
			return "no comma after the last element of a list or an array";
		}
		if (*p != ' ' && *p != '\t')
			last = p;
	}
	if (l[0] == '{' && prev && *prev && prev[strlen(prev) - 1] == '}')
		return "the elements of a list are separated by commas: ( { ... }, { ... } )";
	if ((l[0] == ')' || l[0] == ']') && prev && *prev && prev[strlen(prev) - 1] == ',')
		return "no comma after the last element of a list or an array";
	return "each setting is name = value; (strings in double quotes, groups { }, "
	       "lists ( ), arrays [ ]); a '{' or '(' may be missing, or one too many "
	       "closed";
}

/* libconfig's parse error as FILE:LINE: its text near the line, and a hint. */
static void read_error(const config_t *lc, const char *path, struct fp_cfg_errors *e)
{
	const char *f = config_error_file(lc), *text = config_error_text(lc);
	int line = config_error_line(lc);
	char *l, *prev, *incpath = NULL;

	if (f && f[0] != '/' && strcmp(f, path) && config_get_include_dir(lc))
		f = incpath = fp_xasprintf("%s/%s", config_get_include_dir(lc), f);
	if (!f)
		f = path;
	if (config_error_type(lc) != CONFIG_ERR_PARSE) {
		fp_cfg_errors_add(e, NULL, NULL, "%s:%d: %s", f, line, text);
		free(incpath);
		return;
	}
	l = line_of(f, line);
	prev = line > 1 ? line_of(f, line - 1) : NULL;
	if (l && *l)
		fp_cfg_errors_add(e, NULL, NULL, "%s:%d: %s near '%s': %s", f, line, text, l,
				  syntax_hint(l, prev));
	else
		fp_cfg_errors_add(e, NULL, NULL, "%s:%d: %s: %s", f, line, text,
				  syntax_hint(l && !*l ? "" : NULL, prev));
	free(l);
	free(prev);
	free(incpath);
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
	top[nt++] = "report";
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
		fp_cfg_errors_add(e, NULL, NULL, "%s: cannot read: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (config_read_file(&c->lc, path) != CONFIG_TRUE) {
		read_error(&c->lc, path, e);
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
	fp_report_cfg_free(c->report_cfg);
	c->report_cfg = fp_report_cfg_parse(config_setting_get_member(root, "report"), e);
	fp_cfg_errors_sort(e);
	return e->n > before ? -EINVAL : 0;
}

/* Why dir (missing) cannot be made with mkdir -p: its nearest existing
 * parent is not a writable directory, said with the fix; NULL when it can.
 * Caller frees. */
static char *missing_parent(const char *dir)
{
	char *p = fp_xstrdup(dir), *slash, *r = NULL;
	struct stat st;

	for (;;) {
		slash = strrchr(p, '/');
		if (!slash) {
			free(p);
			p = fp_xstrdup(".");
		} else if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(p, &st) == 0 || !slash || !strcmp(p, "/"))
			break;
	}
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
		r = fp_xasprintf("'%s' is not a directory; set agent.state_dir to a writable "
				 "directory",
				 p);
	else if (access(p, W_OK | X_OK) != 0)
		r = fp_xasprintf("the folders below '%s' are missing and it is not writable "
				 "(%s); create it (mkdir -p '%s', owned by the agent's user) or "
				 "set agent.state_dir to a writable directory",
				 p, strerror(errno), dir);
	free(p);
	return r;
}

int fp_config_check_system(const struct fp_config *c, struct fp_cfg_errors *e)
{
	struct stat st;
	size_t before = e->n;
	const config_setting_t *agent = c->lc_valid
		? config_setting_get_member(config_root_setting(&c->lc), "agent")
		: NULL;
	const config_setting_t *at = agent ? where(agent, "state_dir") : NULL;
	const char *file = c->file ? c->file : "(defaults)";
	char *why;

	if (stat(c->state_dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode) || access(c->state_dir, W_OK | X_OK) != 0) {
			if (at)
				fp_cfg_errors_add(e, at, "agent.state_dir",
						  "'%s' is not a writable directory", c->state_dir);
			else
				fp_cfg_errors_add(
					e, NULL, NULL,
					"%s: agent.state_dir: '%s' is not a writable directory",
					file, c->state_dir);
		}
	} else if ((why = missing_parent(c->state_dir)) != NULL) {
		if (at)
			fp_cfg_errors_add(e, at, "agent.state_dir", "'%s' cannot be created: %s",
					  c->state_dir, why);
		else
			fp_cfg_errors_add(e, NULL, NULL,
					  "%s: agent.state_dir: '%s' (the default) cannot be "
					  "created: %s (in a file given with -c FILE)",
					  file, c->state_dir, why);
		free(why);
	}
	return e->n > before ? -EINVAL : 0;
}
