/* conf.c - the configuration loader: libconfig file -> struct fp_config. */
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

static void add_file_output(struct fp_config *c, const char *name, const char *path)
{
	struct fp_file_output_cfg *f;

	fp_xgrow((void **)&c->files, &c->files_cap, c->nfiles + 1, sizeof(*c->files));
	f = &c->files[c->nfiles++];
	memset(f, 0, sizeof(*f));
	f->name = fp_xstrdup(name);
	f->path = fp_xstrdup(path);
	f->precision = FP_PREC_NS;
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
	add_file_output(c, "file", "footprint.lp");
	c->indicators = fp_indicators_parse(NULL, NULL);
}

static void free_file_outputs(struct fp_config *c)
{
	size_t i;

	for (i = 0; i < c->nfiles; i++) {
		free(c->files[i].name);
		free(c->files[i].path);
	}
	free(c->files);
	c->files = NULL;
	c->nfiles = c->files_cap = 0;
}

static char *dup_or_null(const char *s)
{
	return s ? fp_xstrdup(s) : NULL;
}

void fp_influx_cfg_copy(struct fp_influx_output_cfg *d, const struct fp_influx_output_cfg *s)
{
	*d = *s;
	d->name = dup_or_null(s->name);
	d->url = dup_or_null(s->url);
	d->database = dup_or_null(s->database);
	d->retention_policy = dup_or_null(s->retention_policy);
	d->username = dup_or_null(s->username);
	d->password = dup_or_null(s->password);
	d->org = dup_or_null(s->org);
	d->bucket = dup_or_null(s->bucket);
	d->token = dup_or_null(s->token);
	d->ca_file = dup_or_null(s->ca_file);
	d->cert_file = dup_or_null(s->cert_file);
	d->key_file = dup_or_null(s->key_file);
}

void fp_influx_cfg_free(struct fp_influx_output_cfg *x)
{
	free(x->name);
	free(x->url);
	free(x->database);
	free(x->retention_policy);
	free(x->username);
	fp_free_secret(x->password);
	free(x->org);
	free(x->bucket);
	fp_free_secret(x->token);
	free(x->ca_file);
	free(x->cert_file);
	free(x->key_file);
}

static void free_influx_outputs(struct fp_config *c)
{
	size_t i;

	for (i = 0; i < c->ninflux; i++)
		fp_influx_cfg_free(&c->influx[i]);
	free(c->influx);
	c->influx = NULL;
	c->ninflux = c->influx_cap = 0;
}

void fp_config_free(struct fp_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; fp_collectors[i]; i++)
		if (c->collector_cfg[i])
			fp_collectors[i]->free_config(c->collector_cfg[i]);
	free_influx_outputs(c);
	fp_indicators_cfg_free(c->indicators);
	fp_inventory_cfg_free(c->inventory);
	free(c->file);
	free(c->site);
	free(c->hostname);
	free(c->state_dir);
	free(c->timezone);
	free_file_outputs(c);
	if (c->lc_valid)
		config_destroy(&c->lc);
	memset(c, 0, sizeof(*c));
}

static int valid_name(const char *s)
{
	return fp_name_valid(s);
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

static void load_file_outputs(struct fp_config *c, const config_setting_t *l,
			      struct fp_cfg_errors *e)
{
	static const char *const keys[] = { "name", "path", "precision", "fsync", NULL };
	static const char *const precs[] = { "ns", "us", "ms", "s", NULL };
	int i, n;

	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		fp_cfg_errors_add(e, l, NULL, "expected a list ( { ... }, ... ), got %s",
				  type_name(config_setting_type(l)));
		return;
	}
	n = config_setting_length(l);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
		struct fp_file_output_cfg *f;
		char *name = NULL, *path = NULL;
		int prec;
		size_t k;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			fp_cfg_errors_add(e, g, NULL, "expected a group { ... }, got %s",
					  type_name(config_setting_type(g)));
			continue;
		}
		fp_cfg_check_keys(e, g, keys);
		fp_cfg_get_string(e, g, "name", &name);
		if (fp_cfg_get_string(e, g, "path", &path) == 0)
			report(e, g, "path", "is required (a file, or \"-\" for standard output)");
		if (!name)
			name = fp_xasprintf("file%d", i);
		else if (!valid_name(name))
			report(e, g, "name", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .", name);
		for (k = 0; k < c->nfiles; k++)
			if (strcmp(c->files[k].name, name) == 0)
				report(e, g, "name", "'%s' is used by another output", name);
		add_file_output(c, name, path ? path : "-");
		f = &c->files[c->nfiles - 1];
		if (path && !path[0])
			report(e, g, "path", "must not be empty");
		if (fp_cfg_get_enum(e, g, "precision", precs, &prec) > 0)
			f->precision = (enum fp_precision)prec;
		fp_cfg_get_bool(e, g, "fsync", &f->fsync);
		free(name);
		free(path);
	}
}

static void load_influx_outputs(struct fp_config *c, const config_setting_t *l,
				struct fp_cfg_errors *e)
{
	static const char *const keys[] = {
		"name", "url", "api", "database", "retention_policy", "username", "password_file",
		"org", "bucket", "token_file", "batch_size", "flush_interval", "gzip", "timeout",
		"connect_timeout", "ca_file", "cert_file", "key_file", "insecure_skip_verify",
		"spool_max", "fsync", "fsync_interval", "retry_max", NULL,
	};
	static const char *const apis[] = { "v1", "v2", NULL };
	static const char *const syncs[] = { "always", "interval", "never", NULL };
	int i, n;

	if (config_setting_type(l) != CONFIG_TYPE_LIST) {
		fp_cfg_errors_add(e, l, NULL, "expected a list ( { ... }, ... ), got %s",
				  type_name(config_setting_type(l)));
		return;
	}
	n = config_setting_length(l);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
		struct fp_influx_output_cfg *x;
		char *file = NULL;
		int api, fs;
		size_t k;

		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			fp_cfg_errors_add(e, g, NULL, "expected a group { ... }, got %s",
					  type_name(config_setting_type(g)));
			continue;
		}
		fp_xgrow((void **)&c->influx, &c->influx_cap, c->ninflux + 1, sizeof(*c->influx));
		x = &c->influx[c->ninflux++];
		memset(x, 0, sizeof(*x));
		x->api = FP_INFLUX_V1;
		x->batch_size = 5000;
		x->flush_interval_ms = 1000;
		x->gzip = true;
		x->timeout_ms = 10000;
		x->connect_timeout_ms = 5000;
		x->spool_max = 1000000000ULL;
		x->fsync = 1; /* interval */
		x->fsync_interval_ms = 1000;
		x->retry_max_ms = 60000;

		fp_cfg_check_keys(e, g, keys);
		fp_cfg_get_string(e, g, "name", &x->name);
		if (!x->name)
			x->name = fp_xasprintf("influxdb%d", i);
		else if (!valid_name(x->name))
			report(e, g, "name", "'%s' must be 1-64 characters of A-Z a-z 0-9 _ - .", x->name);
		for (k = 0; k < c->nfiles; k++)
			if (strcmp(c->files[k].name, x->name) == 0)
				report(e, g, "name", "'%s' is used by another output", x->name);
		for (k = 0; k + 1 < c->ninflux; k++)
			if (strcmp(c->influx[k].name, x->name) == 0)
				report(e, g, "name", "'%s' is used by another output", x->name);
		if (fp_cfg_get_string(e, g, "url", &x->url) == 0)
			report(e, g, "url", "is required (for example \"http://127.0.0.1:8086\")");
		else if (x->url && strncmp(x->url, "http://", 7) != 0 &&
			 strncmp(x->url, "https://", 8) != 0)
			report(e, g, "url", "'%s' must start with http:// or https://", x->url);
		if (fp_cfg_get_enum(e, g, "api", apis, &api) > 0)
			x->api = (enum fp_influx_api)api;
		fp_cfg_get_string(e, g, "database", &x->database);
		fp_cfg_get_string(e, g, "retention_policy", &x->retention_policy);
		fp_cfg_get_string(e, g, "username", &x->username);
		fp_cfg_get_string(e, g, "org", &x->org);
		fp_cfg_get_string(e, g, "bucket", &x->bucket);
		if (fp_cfg_get_string(e, g, "password_file", &file) > 0)
			x->password = fp_cfg_read_secret(e, g, "password_file", file);
		free(file);
		file = NULL;
		if (fp_cfg_get_string(e, g, "token_file", &file) > 0)
			x->token = fp_cfg_read_secret(e, g, "token_file", file);
		free(file);
		if (x->api == FP_INFLUX_V1) {
			if (!x->database)
				report(e, g, "database", "is required with api = \"v1\"");
			if (x->org || x->bucket || config_setting_get_member(g, "token_file"))
				report(e, g, "api", "org, bucket and token_file belong to api = \"v2\"");
			if (config_setting_get_member(g, "password_file") && !x->username)
				report(e, g, "username", "is required with password_file");
		} else {
			if (!x->org)
				report(e, g, "org", "is required with api = \"v2\"");
			if (!x->bucket)
				report(e, g, "bucket", "is required with api = \"v2\"");
			if (x->database || x->retention_policy || x->username ||
			    config_setting_get_member(g, "password_file"))
				report(e, g, "api",
				       "database, retention_policy, username and password_file belong to api = \"v1\"");
		}
		fp_cfg_get_int(e, g, "batch_size", 1, 1000000, &x->batch_size);
		fp_cfg_get_duration(e, g, "flush_interval", 10, 3600000, &x->flush_interval_ms);
		fp_cfg_get_bool(e, g, "gzip", &x->gzip);
		fp_cfg_get_duration(e, g, "timeout", 100, 600000, &x->timeout_ms);
		fp_cfg_get_duration(e, g, "connect_timeout", 100, 600000, &x->connect_timeout_ms);
		if (fp_cfg_get_string(e, g, "ca_file", &x->ca_file) > 0)
			fp_cfg_check_readable(e, g, "ca_file", x->ca_file);
		if (fp_cfg_get_string(e, g, "cert_file", &x->cert_file) > 0)
			fp_cfg_check_readable(e, g, "cert_file", x->cert_file);
		if (fp_cfg_get_string(e, g, "key_file", &x->key_file) > 0)
			fp_cfg_check_readable(e, g, "key_file", x->key_file);
		if (!x->cert_file != !x->key_file)
			report(e, g, x->cert_file ? "key_file" : "cert_file",
			       "cert_file and key_file go together");
		fp_cfg_get_bool(e, g, "insecure_skip_verify", &x->insecure_skip_verify);
		fp_cfg_get_size(e, g, "spool_max", 1000000, UINT64_MAX / 2, &x->spool_max);
		if (fp_cfg_get_enum(e, g, "fsync", syncs, &fs) > 0)
			x->fsync = fs;
		fp_cfg_get_duration(e, g, "fsync_interval", 10, 3600000, &x->fsync_interval_ms);
		fp_cfg_get_duration(e, g, "retry_max", 1000, 3600000, &x->retry_max_ms);
	}
}

static void load_outputs(struct fp_config *c, const config_setting_t *g, struct fp_cfg_errors *e)
{
	static const char *const keys[] = { "file", "influxdb", NULL };
	const config_setting_t *s;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		fp_cfg_errors_add(e, g, NULL, "expected a group { ... }, got %s",
				  type_name(config_setting_type(g)));
		return;
	}
	fp_cfg_check_keys(e, g, keys);
	free_file_outputs(c);
	s = config_setting_get_member(g, "file");
	if (s)
		load_file_outputs(c, s, e);
	s = config_setting_get_member(g, "influxdb");
	if (s)
		load_influx_outputs(c, s, e);
}

int fp_config_load(struct fp_config *c, const char *path, struct fp_cfg_errors *e)
{
	const char *top[16];
	const config_setting_t *root, *s;
	size_t before = e->n, nt = 0;
	int i;

	top[nt++] = "agent";
	top[nt++] = "outputs";
	top[nt++] = "indicators";
	top[nt++] = "inventory";
	for (i = 0; fp_collectors[i]; i++)
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
	for (i = 0; fp_collectors[i]; i++) {
		s = config_setting_get_member(root, fp_collectors[i]->group);
		if (s)
			c->collector_cfg[i] = fp_collectors[i]->parse(s, c, e);
	}
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
