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
		char *m = fp_xasprintf("%s:0: cannot read the file: %s", path, strerror(errno));
		fp_xgrow((void **)&e->msgs, &e->cap, e->n + 1, sizeof(*e->msgs));
		e->msgs[e->n++] = m;
		return -EINVAL;
	}
	if (config_read_file(&c->lc, path) != CONFIG_TRUE) {
		const char *f = config_error_file(&c->lc);
		char *m = fp_xasprintf("%s:%d: %s", f ? f : path, config_error_line(&c->lc),
				       config_error_text(&c->lc));
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
	fp_report_cfg_free(c->report_cfg);
	c->report_cfg = fp_report_cfg_parse(config_setting_get_member(root, "report"), e);
	fp_cfg_errors_sort(e);
	return e->n > before ? -EINVAL : 0;
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
				fp_cfg_errors_add(
					e, NULL, NULL,
					"%s: agent.state_dir: '%s' does not exist and cannot be created",
					file, c->state_dir);
		}
		free(parent);
	}
	return e->n > before ? -EINVAL : 0;
}
